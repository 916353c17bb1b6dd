/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
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

/* The bus boundary's test: what text_sanitize() would leave unchanged, and nothing else. */
TEST(is_safe) {
        CHECK(text_is_safe(""));
        CHECK(text_is_safe("sshd"));
        CHECK(text_is_safe("/dev/pts/3"));
        CHECK(text_is_safe("Jürgen 日本"));
        CHECK(!text_is_safe("a\nb"));
        CHECK(!text_is_safe("a\x1b[31m"));
        CHECK(!text_is_safe("a\x7f"));
        CHECK(!text_is_safe("\xc2\x9b"));             /* C1 CSI as UTF-8 */
        CHECK(!text_is_safe("\xe2\x80\xae"));         /* U+202E RIGHT-TO-LEFT OVERRIDE */
        CHECK(!text_is_safe("\xe2\x80\x8b"));         /* U+200B ZERO WIDTH SPACE */
        CHECK(!text_is_safe("\xff"));                  /* not UTF-8 */
        CHECK(!text_is_safe("\xc3"));                  /* cut short */
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

static const struct {
        const char *name, *in, *out;
} sanitize_cases[] = {
        { "plain", "WDJB-MJHT", "WDJB-MJHT" },
        { "osc_title_bel", "\x1b]0;pwned\x07WDJB", "WDJB" },
        { "osc_title_st", "A\x1b]0;pwned\x1b\\B", "AB" },
        { "osc_unterminated", "x\x1b]0;pwned", "x" },
        { "osc8_hyperlink", "https://x/\x1b]8;;http://evil/\x1b\\link\x1b]8;;\x1b\\", "https://x/link" },
        { "csi_colour", "\x1b[1;31mred\x1b[0m", "red" },
        { "csi_clear", "\x1b[2J\x1b[Hhome", "home" },
        { "esc_single", "a\x1b" "cb", "ab" },
        { "esc_charset", "a\x1b(Bb", "ab" },
        { "esc_at_end", "ab\x1b", "ab" },
        { "newline_in_code", "WDJB\n-MJHT\r\n", "WDJB-MJHT" },
        { "tab_bel_bs", "a\tb\x07" "c\x08" "d", "abcd" },
        { "del", "a\x7f" "b", "ab" },
        { "c1_csi_raw", "a\x9b" "31mb", "ab" },
        { "c1_csi_utf8", "a\xc2\x9b" "2Jb", "ab" },
        { "c1_osc_utf8", "a\xc2\x9d" "0;pwned\x07" "b", "ab" },
        { "c1_nel_raw", "a\x85" "b", "ab" },
        { "c1_st_utf8_alone", "a\xc2\x9c" "b", "ab" },
        { "utf8_kept", "caf\xc3\xa9 \xe2\x82\xac", "caf\xc3\xa9 \xe2\x82\xac" },
        { "bidi_override", "\xe2\x80\xae" "abc\xe2\x81\xa6" "d", "abcd" },
        { "zero_width", "a\xe2\x80\x8b" "b", "ab" },
        { "invalid_utf8", "a\xff\xfe" "b\xc0\xaf" "c", "abc" },
        { "overlong_csi", "a\xc0\x9b" "1mb", "ab" },
        { "surrogate", "a\xed\xa0\x80" "b", "ab" },
        { "truncated_utf8", "a\xe2\x82", "a" },
        { "empty", "", "" },
};

TEST(strip) {
        for (size_t i = 0; i < ELEMENTSOF(sanitize_cases); i++) {
                _cleanup_free_ char *s = NULL;
                bool ok = text_strip(sanitize_cases[i].in, 512, &s) == 0 && s &&
                          streq(s, sanitize_cases[i].out);
                if (!ok)
                        fprintf(stderr, "  strip %s: got '%s'\n", sanitize_cases[i].name, strna(s));
                CHECK(ok);
                test_report("strip", sanitize_cases[i].name, ok);
        }
}

TEST(strip_null_and_limit) {
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;

        CHECK_INTEQ(text_strip(NULL, 10, &a), 0);
        CHECK_STREQ(a, "");
        CHECK_INTEQ(text_strip("abcdefgh", 5, &b), 0);
        CHECK_STREQ(b, "abcde");
        /* never cuts a character in half */
        CHECK_INTEQ(text_strip("\xc3\xa9\xc3\xa9\xc3\xa9", 5, &c), 0);
        CHECK_STREQ(c, "\xc3\xa9\xc3\xa9");
}

/* No byte a terminal would act on survives, whatever the input. */
TEST(strip_all_bytes) {
        char in[3 * 256 + 1];
        size_t n = 0;
        _cleanup_free_ char *s = NULL;

        for (unsigned b = 1; b < 256; b++) {
                in[n++] = (char) b;
                in[n++] = 'x';
        }
        in[n] = 0;
        CHECK_INTEQ(text_strip(in, sizeof(in), &s), 0);
        for (const unsigned char *p = (const unsigned char *) s; p && *p; p++)
                CHECK(*p >= 0x20 && *p != 0x7f && *p < 0x80);
}

TEST(fputs_writes_what_sanitize_makes) {
        static const char *const cases[] = {
                "plain", "\x1b]0;pwned\x07", "csi \xc2\x9b" "31m", "raw \x9b" "31m", "bad \xc0\xaf",
                "rlo \xe2\x80\xae" "gnp.exe", "ok \xc3\xa4\xe2\x82\xac", "",
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *want = strdup_sanitized(cases[i]), *got = NULL;
                size_t n = 0;
                FILE *f = open_memstream(&got, &n);

                CHECK(f != NULL);
                if (!f)
                        continue;
                text_fputs(f, cases[i]);
                fclose(f);
                CHECK_STREQ(got, want);
        }
        {
                _cleanup_free_ char *got = NULL;
                size_t n = 0;
                FILE *f = open_memstream(&got, &n);
                CHECK(f != NULL);
                if (f) {
                        text_fputs(f, NULL);
                        fclose(f);
                        CHECK_STREQ(got, "");
                }
        }
}

TEST(quote) {
        _cleanup_free_ char *a = text_quote("alice\x1b[2J", 48, false), *b = text_quote("b\xc3\xb6" "b", 48, true),
                *c = text_quote("b\xc3\xb6" "b", 48, false), *d = text_quote("abcdefghij", 8, false),
                *e = text_quote("abcd\xc3\xa9\xc3\xa9x", 8, false), *f = text_quote(NULL, 8, false),
                *g = text_quote("abcdefghij", 0, false);

        CHECK_STREQ(a, "alice?[2J");
        CHECK_STREQ(b, "b??b");                         /* ascii_only: look-alikes go */
        CHECK_STREQ(c, "b\xc3\xb6" "b");
        CHECK_STREQ(d, "abcde...");
        CHECK(strlen(e) <= 8);
        CHECK_STREQ(e, "abcd...");                      /* never half a character */
        CHECK_STREQ(f, "");
        CHECK_STREQ(g, "abcdefghij");
}

int main(void) {
        return run_tests();
}
