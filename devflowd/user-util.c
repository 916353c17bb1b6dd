/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "macro.h"
#include "user-util.h"

#define PW_BUF_MAX (1024U * 1024U)

bool user_name_is_safe(const char *s, size_t len) {
        if (!s || len == 0 || len > USER_NAME_SAFE_MAX)
                return false;
        if (s[0] == '-')
                return false;
        if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
                return false;
        for (size_t i = 0; i < len; i++) {
                char ch = s[i];

                if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                    ch == '.' || ch == '_' || ch == '-' || ch == '@')
                        continue;
                return false;   /* NUL, space, '/', ':', control, any byte >= 0x80 */
        }
        return true;
}

bool user_name_is_requestable(const char *s) {
        size_t n;

        if (!s)
                return false;
        n = strlen(s);
        if (n == 0 || n > USER_NAME_REQUEST_MAX || s[0] == '-')
                return false;
        for (const char *p = s; *p; p++)
                if ((unsigned char) *p <= 0x20 || (unsigned char) *p >= 0x7f || strchr("/:", *p))
                        return false;
        return true;
}

/* getpwnam_r or getpwuid_r with a buffer of sysconf(_SC_GETPW_R_SIZE_MAX) bytes, doubled on ERANGE up to
 * PW_BUF_MAX (NSS modules such as sssd may need more than glibc's suggestion). */
static int passwd_get(const char *name, uid_t uid, struct passwd *pw, char **ret_buf) {
        _cleanup_free_ char *buf = NULL;
        struct passwd *result = NULL;
        long sz = sysconf(_SC_GETPW_R_SIZE_MAX);
        size_t bufsize = sz > 0 ? (size_t) sz : 4096;
        int r;

        for (;;) {
                buf = malloc(bufsize);
                if (!buf)
                        return -ENOMEM;
                r = name ? getpwnam_r(name, pw, buf, bufsize, &result) : getpwuid_r(uid, pw, buf, bufsize, &result);
                if (r != ERANGE)
                        break;
                if (bufsize > PW_BUF_MAX)
                        return -ERANGE;
                bufsize *= 2;
                buf = mfree(buf);
        }
        /* getpwnam_r(3): "not found" is result == NULL with 0 or one of these. */
        if (!result && (r == 0 || r == ENOENT || r == ESRCH || r == EBADF || r == EPERM))
                return -ENOENT;
        if (r != 0)
                return -r;
        if (!result)
                return -ENOENT;
        *ret_buf = TAKE_PTR(buf);
        return 0;
}

int user_lookup_nss(const char *name, uid_t *ret_uid, _unused_ void *userdata) {
        _cleanup_free_ char *buf = NULL;
        struct passwd pw;
        int r;

        if (!name || !ret_uid)
                return -EINVAL;
        r = passwd_get(name, 0, &pw, &buf);
        if (r < 0)
                return r;
        *ret_uid = pw.pw_uid;
        return 0;
}

int user_name_of_uid(uid_t uid, char **ret_name) {
        _cleanup_free_ char *buf = NULL;
        struct passwd pw;
        char *n;
        int r;

        if (!ret_name)
                return -EINVAL;
        r = passwd_get(NULL, uid, &pw, &buf);
        if (r < 0)
                return r;
        n = strdup(pw.pw_name);
        if (!n)
                return -ENOMEM;
        *ret_name = n;
        return 0;
}
