/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Decodes the UTF-8 sequence at S. Returns its length (1..4) and the code point in *ret_cp, or 0 when S
 * does not start a valid sequence (stray continuation byte, overlong form, surrogate, beyond U+10FFFF,
 * cut short); *ret_cp is then untouched. S must be NUL-terminated. */
static inline size_t utf8_decode(const unsigned char *s, uint32_t *ret_cp) {
        size_t n;
        uint32_t cp;

        if (*s < 0x80) {
                *ret_cp = *s;
                return 1;
        }
        if (*s >= 0xc2 && *s <= 0xdf)
                n = 2, cp = *s & 0x1f;
        else if (*s >= 0xe0 && *s <= 0xef)
                n = 3, cp = *s & 0x0f;
        else if (*s >= 0xf0 && *s <= 0xf4)
                n = 4, cp = *s & 0x07;
        else
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80)      /* also stops at the NUL */
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3f);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        *ret_cp = cp;
        return n;
}

/* Length of the valid UTF-8 sequence at S (1..4), or 0 (see utf8_decode()). */
static inline size_t utf8_sequence_len(const unsigned char *s) {
        uint32_t cp;
        return utf8_decode(s, &cp);
}
