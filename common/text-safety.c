/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "text-safety.h"
#include "utf8.h"

/* Unicode general category Cf (format), the line and paragraph separators, variation selectors and
 * the fillers that render as nothing. Sorted; ranges inclusive. */
static const struct { uint32_t first, last; } invisible[] = {
        { 0x00ad, 0x00ad },     /* soft hyphen */
        { 0x034f, 0x034f },     /* combining grapheme joiner */
        { 0x0600, 0x0605 },     /* Arabic number signs */
        { 0x061c, 0x061c },     /* Arabic letter mark (bidi) */
        { 0x06dd, 0x06dd },
        { 0x070f, 0x070f },
        { 0x0890, 0x0891 },
        { 0x08e2, 0x08e2 },
        { 0x115f, 0x1160 },     /* Hangul fillers */
        { 0x17b4, 0x17b5 },
        { 0x180b, 0x180f },     /* Mongolian variation selectors, vowel separator */
        { 0x200b, 0x200f },     /* zero width space, ZWNJ, ZWJ, LRM, RLM */
        { 0x2028, 0x202e },     /* line/paragraph separator, LRE RLE PDF LRO RLO */
        { 0x2060, 0x206f },     /* word joiner, invisible operators, LRI RLI FSI PDI, deprecated */
        { 0x3164, 0x3164 },     /* Hangul filler */
        { 0xfe00, 0xfe0f },     /* variation selectors */
        { 0xfeff, 0xfeff },     /* BOM, zero width no-break space */
        { 0xffa0, 0xffa0 },
        { 0xfff9, 0xfffb },     /* interlinear annotation */
        { 0x110bd, 0x110bd },
        { 0x110cd, 0x110cd },
        { 0x13430, 0x1343f },   /* Egyptian hieroglyph format controls */
        { 0x1bca0, 0x1bca3 },
        { 0x1d173, 0x1d17a },   /* musical symbol format controls */
        { 0xe0000, 0xe0fff },   /* tags, variation selectors supplement */
};

bool text_char_is_unsafe(uint32_t cp) {
        if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
                return true;
        for (size_t i = 0; i < ELEMENTSOF(invisible) && cp >= invisible[i].first; i++)
                if (cp <= invisible[i].last)
                        return true;
        return false;
}

bool text_is_safe(const char *s) {
        for (const unsigned char *p = (const unsigned char *) s; *p;) {
                uint32_t cp;
                size_t n = utf8_decode(p, &cp);

                if (n == 0 || text_char_is_unsafe(cp))
                        return false;
                p += n;
        }
        return true;
}

void text_sanitize(char *s) {
        unsigned char *w = (unsigned char *) s;

        if (!s)
                return;
        for (const unsigned char *p = (const unsigned char *) s; *p;) {
                uint32_t cp;
                size_t n = utf8_decode(p, &cp);

                /* A byte outside valid UTF-8 counts as one character: a lone 0x9b is CSI on a terminal
                 * that is not in UTF-8 mode. */
                if (n == 0 || text_char_is_unsafe(cp)) {
                        *w++ = '?';
                        p += n ?: 1;
                        continue;
                }
                memmove(w, p, n);
                w += n;
                p += n;
        }
        *w = 0;
}

char *strdup_sanitized(const char *s) {
        char *r = strdup(s ?: "");

        text_sanitize(r);
        return r;
}

void text_fputs(FILE *f, const char *s) {
        for (const unsigned char *p = (const unsigned char *) strempty(s); *p;) {
                uint32_t cp;
                size_t n = utf8_decode(p, &cp);

                if (n == 0 || text_char_is_unsafe(cp)) {
                        fputc('?', f);
                        p += n ?: 1;
                        continue;
                }
                fwrite(p, 1, n, f);
                p += n;
        }
}

char *text_quote(const char *s, size_t max, bool ascii_only) {
        char *q = strdup_sanitized(s);
        size_t n;

        if (!q)
                return NULL;
        if (ascii_only)
                for (char *p = q; *p; p++)
                        if ((unsigned char) *p >= 0x80)
                                *p = '?';
        n = strlen(q);
        if (max >= 4 && n > max) {
                /* cut at a character boundary, then mark the cut */
                size_t k = max - 3;
                while (k > 0 && ((unsigned char) q[k] & 0xc0) == 0x80)
                        k--;
                memcpy(q + k, "...", 4);
        }
        return q;
}

/* Skips a control string (OSC, DCS, SOS, PM, APC) after its introducer: up to and including BEL, ST
 * (ESC \ or 0x9C, raw or as UTF-8), or the end. */
static const unsigned char *skip_string(const unsigned char *p) {
        for (; *p; p++) {
                if (*p == 0x07 || *p == 0x9C)
                        return p + 1;
                if (*p == 0x1B && p[1] == '\\')
                        return p + 2;
                if (*p == 0xC2 && p[1] == 0x9C)
                        return p + 2;
        }
        return p;
}

/* Skips a CSI sequence after its introducer: parameter and intermediate bytes, then the final byte.
 * Anything else ends it without being consumed. */
static const unsigned char *skip_csi(const unsigned char *p) {
        while (*p >= 0x20 && *p <= 0x3F)
                p++;
        while (*p >= 0x20 && *p <= 0x2F)
                p++;
        if (*p >= 0x40 && *p <= 0x7E)
                p++;
        return p;
}

/* Handles an 8-bit introducer (C1 code point c); returns where the sequence ends. */
static const unsigned char *skip_c1(uint32_t c, const unsigned char *after) {
        switch (c) {
        case 0x9B:                                      /* CSI */
                return skip_csi(after);
        case 0x90: case 0x98: case 0x9D: case 0x9E: case 0x9F:  /* DCS SOS OSC PM APC */
                return skip_string(after);
        default:
                return after;
        }
}

static const unsigned char *skip_esc(const unsigned char *p) {
        /* p points after ESC */
        switch (*p) {
        case '[':
                return skip_csi(p + 1);
        case ']': case 'P': case 'X': case '^': case '_':
                return skip_string(p + 1);
        default:
                break;
        }
        if (*p >= 0x20 && *p <= 0x2F) {                 /* nF: intermediates, then a final byte */
                while (*p >= 0x20 && *p <= 0x2F)
                        p++;
                if (*p >= 0x30 && *p <= 0x7E)
                        p++;
                return p;
        }
        if (*p >= 0x30 && *p <= 0x7E)                   /* Fp, Fe, Fs: ESC + one character */
                return p + 1;
        return p;
}

int text_strip(const char *s, size_t max, char **ret) {
        const unsigned char *p = (const unsigned char *) strempty(s);
        _cleanup_free_ char *buf = NULL;
        size_t n = 0;

        assert(ret);

        buf = malloc(MIN(strlen((const char *) p), max) + 1);
        if (!buf)
                return -ENOMEM;

        while (*p) {
                uint32_t c;
                size_t l = utf8_decode(p, &c);

                if (l == 0) {
                        /* Not UTF-8: a raw byte. 0x80..0x9F are 8-bit C1 controls to some terminals. */
                        c = *p;
                        p = c >= 0x80 && c <= 0x9F ? skip_c1(c, p + 1) : p + 1;
                        continue;
                }
                if (c == 0x1B) {
                        p = skip_esc(p + 1);
                        continue;
                }
                if (c >= 0x80 && c <= 0x9F) {
                        p = skip_c1(c, p + l);
                        continue;
                }
                if (text_char_is_unsafe(c)) {
                        p += l;
                        continue;
                }
                if (n + l > max)
                        break;
                memcpy(buf + n, p, l);
                n += l;
                p += l;
        }
        buf[n] = 0;
        *ret = TAKE_PTR(buf);
        return 0;
}
