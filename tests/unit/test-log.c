/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "log.h"
#include "test.h"

TEST(strdup_sanitized_removes_controls_and_stray_bytes) {
        static const struct { const char *in, *out; } cases[] = {
                { "plain text", "plain text" },
                { "\x1b]0;pwned\x07", "?]0;pwned?" },
                { "tab\there\nnl\x7f", "tab?here?nl?" },
                { "csi \xc2\x9b" "31m", "csi ?31m" },           /* C1 in UTF-8 */
                { "raw \x9b" "31m", "raw ?31m" },               /* a lone C1 byte */
                { "bad \xc0\xaf \xed\xa0\x80", "bad ?? ???" },  /* overlong, surrogate */
                { "cut \xe2\x82", "cut ??" },
                { "ok \xc3\xa4\xe2\x82\xac\xf0\x9f\x94\x92", "ok \xc3\xa4\xe2\x82\xac\xf0\x9f\x94\x92" },
                { "", "" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *s = strdup_sanitized(cases[i].in);
                CHECK_STREQ(s, cases[i].out);
        }
        {
                _cleanup_free_ char *s = strdup_sanitized(NULL);
                CHECK_STREQ(s, "");
        }
}

int main(void) {
        return run_tests();
}
