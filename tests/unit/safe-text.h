/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True when s is valid UTF-8 without any C0 or C1 control character or DEL: safe to show on any terminal.
 * A decoder of its own, independent of the code under test; shared by the oauth unit test and fuzzer. */
static inline bool text_is_safe(const char *s) {
        if (!s)
                return true;
        for (const unsigned char *p = (const unsigned char *) s; *p; ) {
                uint32_t cp;
                size_t n;

                if (*p < 0x80)
                        cp = *p, n = 1;
                else if ((*p & 0xe0) == 0xc0)
                        cp = *p & 0x1f, n = 2;
                else if ((*p & 0xf0) == 0xe0)
                        cp = *p & 0x0f, n = 3;
                else if ((*p & 0xf8) == 0xf0)
                        cp = *p & 0x07, n = 4;
                else
                        return false;
                for (size_t i = 1; i < n; i++) {
                        if ((p[i] & 0xc0) != 0x80)
                                return false;
                        cp = cp << 6 | (p[i] & 0x3f);
                }
                if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000))
                        return false;   /* overlong: 0xc0 0x9b would decode to ESC */
                if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
                        return false;
                p += n;
        }
        return true;
}
