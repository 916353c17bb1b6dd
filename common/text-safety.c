/* SPDX-License-Identifier: LGPL-2.1-or-later */
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
