/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "secure-file.h"

static int why(char **ret_why, int r, const char *fmt, ...) _printf_(3, 4);
static int why(char **ret_why, int r, const char *fmt, ...) {
        va_list ap;

        if (ret_why) {
                va_start(ap, fmt);
                if (vasprintf(ret_why, fmt, ap) < 0)
                        *ret_why = NULL;
                va_end(ap);
        }
        return r;
}

static int check_stat(const struct stat *st, size_t max_size, char **ret_why) {
        if (!S_ISREG(st->st_mode))
                return why(ret_why, -EBADFD, "is not a regular file");
        if (st->st_uid != 0 && st->st_uid != geteuid())
                return why(ret_why, -EPERM, "is owned by uid %u, not by root; chown root it", (unsigned) st->st_uid);
        if (st->st_mode & 0066)
                return why(ret_why, -EPERM, "is readable or writable by group or others (mode %04o); chmod 0600 it",
                           (unsigned) (st->st_mode & 07777));
        if (max_size > 0 && (uint64_t) st->st_size > max_size)
                return why(ret_why, -EFBIG, "is larger than %zu bytes", max_size);
        return 0;
}

static int open_secure(const char *path, char **ret_why) {
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                int r = -errno;
                if (r == -ELOOP)
                        return why(ret_why, r, "is a symbolic link; point the key at the file itself");
                return why(ret_why, r, "cannot be opened: %s", strerror(-r));
        }
        return fd;
}

int check_secure_file(const char *path, char **ret_why) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        fd = open_secure(path, ret_why);
        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0)
                return why(ret_why, -errno, "cannot be examined: %m");
        return check_stat(&st, 0, ret_why);
}

int read_secure_file(const char *path, size_t max_size, char **ret_content, char **ret_why) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        char *buf;
        size_t n = 0;
        int r;

        fd = open_secure(path, ret_why);
        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0)
                return why(ret_why, -errno, "cannot be examined: %m");
        r = check_stat(&st, max_size, ret_why);
        if (r < 0)
                return r;

        buf = malloc(max_size + 1);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t k = read(fd, buf + n, max_size + 1 - n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        r = why(ret_why, -errno, "cannot be read: %m");
                        break;
                }
                if (k == 0)
                        break;
                n += (size_t) k;
                if (n > max_size) {
                        r = why(ret_why, -EFBIG, "is larger than %zu bytes", max_size);
                        break;
                }
        }
        if (r >= 0 && memchr(buf, 0, n))
                r = why(ret_why, -EBADMSG, "contains a NUL byte");
        if (r < 0) {
                explicit_bzero(buf, max_size + 1);
                free(buf);
                return r;
        }
        buf[n] = 0;
        *ret_content = buf;
        return 0;
}
