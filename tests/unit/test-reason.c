/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>

#include "macro.h"
#include "reason.h"
#include "test.h"

TEST(set_formats_and_returns_the_error) {
        _cleanup_free_ char *s = NULL;

        CHECK_INTEQ(reason_set(&s, -EPERM, "alg '%s' not in the allowed list", "RS256"), -EPERM);
        CHECK_STREQ(s, "alg 'RS256' not in the allowed list");
}

TEST(set_without_a_place_for_the_text) {
        CHECK_INTEQ(reason_set(NULL, -EBADMSG, "no %s", "issuer"), -EBADMSG);
        CHECK_INTEQ(reason_set(NULL, -ENOKEY, "no JWKS"), -ENOKEY);
}

TEST(set_keeps_errno_for_percent_m) {
        _cleanup_free_ char *s = NULL;

        errno = ENOENT;
        CHECK_INTEQ(reason_set(&s, -errno, "cannot be opened: %m"), -ENOENT);
        CHECK_STREQ(s, "cannot be opened: No such file or directory");
}

TEST(set_is_not_a_format_for_its_arguments) {
        _cleanup_free_ char *s = NULL;

        /* A value an IdP controls goes in as an argument: its '%' stays text. */
        CHECK_INTEQ(reason_set(&s, -EPERM, "kid '%s' names several keys", "%s%n%x"), -EPERM);
        CHECK_STREQ(s, "kid '%s%n%x' names several keys");
}

TEST(format) {
        _cleanup_free_ char *a = reason_format("refused user '%s': claims are not a JSON object", "alice"),
                *b = reason_format("line too long (more than %u bytes)", 4096U), *c = reason_format("%s", "");

        CHECK_STREQ(a, "refused user 'alice': claims are not a JSON object");
        CHECK_STREQ(b, "line too long (more than 4096 bytes)");
        CHECK_STREQ(c, "");
}

_printf_(1, 2)
static char *prefixed(const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;

        va_start(ap, fmt);
        msg = reason_formatv(fmt, ap);
        va_end(ap);
        return msg ? reason_format("map:%u: %s", 7U, msg) : NULL;
}

TEST(formatv) {
        _cleanup_free_ char *s = prefixed("claim value too long (more than %u bytes)", 255U);

        CHECK_STREQ(s, "map:7: claim value too long (more than 255 bytes)");
}

int main(void) {
        return run_tests();
}
