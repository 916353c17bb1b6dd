/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>

#include "macro.h"
#include "text-safety.h"
#include "test.h"

TEST(sanitize_replaces_controls_format_characters_and_stray_bytes) {
        static const struct { const char *in, *out; } cases[] = {
                { "plain text", "plain text" },
                { "\x1b]0;pwned\x07", "?]0;pwned?" },
                { "tab\there\nnl\x7f", "tab?here?nl?" },
                { "csi \xc2\x9b" "31m", "csi ?31m" },                   /* U+009B, C1 CSI in UTF-8 */
                { "nel \xc2\x85 pad \xc2\x80", "nel ? pad ?" },         /* first and last C1 */
                { "nbsp \xc2\xa0 ok", "nbsp \xc2\xa0 ok" },             /* U+00A0 is printable */
                { "raw \x9b" "31m", "raw ?31m" },                       /* a lone C1 byte */
                { "bad \xc0\xaf \xed\xa0\x80", "bad ?? ???" },          /* overlong, surrogate */
                { "cut \xe2\x82", "cut ??" },
                { "big \xf4\x90\x80\x80", "big ????" },                 /* beyond U+10FFFF */
                { "rlo \xe2\x80\xae" "gnp.exe", "rlo ?gnp.exe" },       /* U+202E */
                { "lre\xe2\x80\xaa pdf\xe2\x80\xac", "lre? pdf?" },     /* U+202A, U+202C */
                { "lri\xe2\x81\xa6 pdi\xe2\x81\xa9", "lri? pdi?" },     /* U+2066..U+2069 */
                { "zw\xe2\x80\x8b" "sp\xe2\x80\x8d" "j\xe2\x80\x8f", "zw?sp?j?" }, /* U+200B, U+200D, U+200F */
                { "alm\xd8\x9c", "alm?" },                              /* U+061C */
                { "\xef\xbb\xbf" "bom", "?bom" },                       /* U+FEFF */
                { "ls\xe2\x80\xa8" "ps\xe2\x80\xa9", "ls?ps?" },        /* U+2028, U+2029 */
                { "wj\xe2\x81\xa0 shy\xc2\xad", "wj? shy?" },           /* U+2060, U+00AD */
                { "tag\xf3\xa0\x80\x81", "tag?" },                      /* U+E0001 */
                { "ok \xc3\xa4\xe2\x82\xac\xf0\x9f\x94\x92 \xe2\x80\x90", "ok \xc3\xa4\xe2\x82\xac\xf0\x9f\x94\x92 \xe2\x80\x90" },
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
        text_sanitize(NULL);       /* accepted */
}

TEST(char_classes) {
        static const uint32_t unsafe[] = { 0x00, 0x1f, 0x7f, 0x80, 0x9b, 0x9f, 0x061c, 0x200b, 0x200e, 0x202a, 0x202e,
                                           0x2066, 0x2069, 0xfeff, 0xe0041 };
        static const uint32_t safe[] = { 0x20, 'a', 0x7e, 0xa0, 0xe4, 0x2010, 0x20ac, 0x1f512, 0x4e2d };

        for (size_t i = 0; i < ELEMENTSOF(unsafe); i++)
                CHECK(text_char_is_unsafe(unsafe[i]));
        for (size_t i = 0; i < ELEMENTSOF(safe); i++)
                CHECK(!text_char_is_unsafe(safe[i]));
}

int main(void) {
        return run_tests();
}
