/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "reason.h"
#include "secure-file.h"

static bool owner_ok(const struct stat *st) {
        return st->st_uid == 0 || st->st_uid == geteuid();
}

int check_secure_stat(const struct stat *st, const char *path, SecureFileKind kind, char **ret_why) {
        mode_t mode = st->st_mode & 07777, deny = kind == SECURE_FILE_SECRET ? 0077 : 0022;

        if (kind == SECURE_FILE_DIRECTORY ? !S_ISDIR(st->st_mode) : !S_ISREG(st->st_mode))
                return reason_set(ret_why, -EBADFD,
                                  kind == SECURE_FILE_DIRECTORY ? "is not a directory" :
                                                                  "is not a regular file");
        if (!owner_ok(st))
                return reason_set(ret_why, -EPERM,
                                  "is owned by uid %u, not by root; run: chown root:root %s",
                                  (unsigned) st->st_uid, path);
        if (mode & deny)
                return reason_set(ret_why, -EPERM,
                                  "is %s by group or others (mode %04o); run: chmod %04o %s",
                                  kind == SECURE_FILE_SECRET ? "readable or writable" : "writable",
                                  (unsigned) mode, (unsigned) (mode & ~deny), path);
        return 0;
}

/* Upwards from DIR, the directory a secret file is in, to /. Whoever may write to a directory may rename
 * or replace what it holds; a sticky bit keeps them from touching entries owned by root, so a sticky
 * directory is acceptable above the file's own (like /tmp above a root-owned 0700 directory), never as
 * the file's own (they could create the file before root does, or after it is gone). LEXICAL: DIR is
 * the path as configured, not resolved: a symbolic link on it must be root's, or its owner could point
 * it elsewhere (where it leads is checked on the resolved path). */
static int check_dir_chain(char *dir, bool lexical, char **ret_why) {
        for (bool own = true;; own = false) {
                struct stat st;
                mode_t mode;
                char *slash;

                if ((lexical ? lstat(dir, &st) : stat(dir, &st)) < 0)
                        return reason_set(ret_why, -errno, "is in %s, which cannot be examined: %m", dir);
                mode = st.st_mode & 07777;
                if (S_ISLNK(st.st_mode)) {
                        if (!owner_ok(&st))
                                return reason_set(ret_why, -EPERM,
                                                  "is reached through %s, a symbolic link owned by uid %u, "
                                                  "not by root; run: chown -h root:root %s",
                                                  dir, (unsigned) st.st_uid, dir);
                } else if (!owner_ok(&st))
                        return reason_set(ret_why, -EPERM,
                                          "is in %s, which is owned by uid %u, not by root; run: "
                                          "chown root:root %s", dir, (unsigned) st.st_uid, dir);
                else if ((mode & 0022) && own && (mode & S_ISVTX))
                        return reason_set(ret_why, -EPERM,
                                          "is in %s, which others may write to (mode %04o); move it into "
                                          "a directory only root can write to, such as /etc/devflow",
                                          dir, (unsigned) mode);
                else if ((mode & 0022) && !(mode & S_ISVTX))
                        return reason_set(ret_why, -EPERM,
                                          "is in %s, which group or others may write to (mode %04o); run: "
                                          "chmod %04o %s",
                                          dir, (unsigned) mode, (unsigned) (mode & ~0022), dir);
                slash = strrchr(dir, '/');
                if (!slash || streq(dir, "/"))
                        return 0;
                slash[slash == dir ? 1 : 0] = 0;
        }
}

int check_secure_parents(const char *path, char **ret_why) {
        _cleanup_free_ char *copy = strdup(path), *dir = NULL;
        char *slash;
        int r;

        if (!copy)
                return -ENOMEM;
        slash = strrchr(copy, '/');
        if (copy[0] != '/' || !slash)
                return reason_set(ret_why, -EINVAL, "is not an absolute path");
        slash[slash == copy ? 1 : 0] = 0;
        dir = realpath(copy, NULL);
        if (!dir)
                return reason_set(ret_why, -errno, "is in a directory that cannot be resolved: %m");

        r = check_dir_chain(copy, /* lexical= */ true, ret_why);
        if (r < 0)
                return r;
        return check_dir_chain(dir, /* lexical= */ false, ret_why);
}

static int open_secure(const char *path, char **ret_why) {
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                int r = -errno;
                if (r == -ELOOP)
                        return reason_set(ret_why, r,
                                          "is a symbolic link; point the key at the file itself");
                return reason_set(ret_why, r, "cannot be opened: %s", strerror(-r));
        }
        return fd;
}

int check_file_kind(const char *path, SecureFileKind kind, char **ret_why) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        int r;

        if (kind == SECURE_FILE_SECRET)
                fd = open_secure(path, ret_why);
        else {
                fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
                if (fd < 0)
                        return reason_set(ret_why, -errno, "cannot be opened: %m");
        }
        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0)
                return reason_set(ret_why, -errno, "cannot be examined: %m");
        r = check_secure_stat(&st, path, kind, ret_why);
        if (r < 0 || kind != SECURE_FILE_SECRET)
                return r;
        return check_secure_parents(path, ret_why);
}

int check_secure_file(const char *path, char **ret_why) {
        return check_file_kind(path, SECURE_FILE_SECRET, ret_why);
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
                return reason_set(ret_why, -errno, "cannot be examined: %m");
        r = check_secure_stat(&st, path, SECURE_FILE_SECRET, ret_why);
        if (r < 0)
                return r;
        if ((uint64_t) st.st_size > max_size)
                return reason_set(ret_why, -EFBIG, "is larger than %zu bytes", max_size);
        r = check_secure_parents(path, ret_why);
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
                        r = reason_set(ret_why, -errno, "cannot be read: %m");
                        break;
                }
                if (k == 0)
                        break;
                n += (size_t) k;
                if (n > max_size) {
                        r = reason_set(ret_why, -EFBIG, "is larger than %zu bytes", max_size);
                        break;
                }
        }
        if (r >= 0 && memchr(buf, 0, n))
                r = reason_set(ret_why, -EBADMSG, "contains a NUL byte");
        if (r < 0) {
                explicit_bzero(buf, max_size + 1);
                free(buf);
                return r;
        }
        buf[n] = 0;
        *ret_content = buf;
        return 0;
}
