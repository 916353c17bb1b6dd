/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdlib.h>

#include "base64url.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int decode_char(char c) {
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '-')
                return 62;
        if (c == '_')
                return 63;
        return -1;
}

int base64url_decode(const char *s, size_t len, uint8_t **ret, size_t *ret_size) {
        uint8_t *buf, *p;
        uint32_t acc = 0;
        unsigned bits = 0;

        if (!s && len > 0)
                return -EINVAL;
        /* 4k+1 characters cannot come from any byte string. */
        if (len % 4 == 1)
                return -EBADMSG;

        buf = malloc(len / 4 * 3 + 3);
        if (!buf)
                return -ENOMEM;
        p = buf;
        for (size_t i = 0; i < len; i++) {
                int v = decode_char(s[i]);

                if (v < 0) {
                        free(buf);
                        return -EBADMSG;
                }
                acc = (acc << 6) | (uint32_t) v;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        *p++ = (uint8_t) (acc >> bits);
                        acc &= (1U << bits) - 1;
                }
        }
        /* RFC 4648 §3.5: the pad bits must be zero, else several strings decode to the same bytes. */
        if (acc != 0) {
                free(buf);
                return -EBADMSG;
        }
        *p = 0;
        *ret_size = (size_t) (p - buf);
        *ret = buf;
        return 0;
}

int base64url_encode(const void *data, size_t size, char **ret) {
        const uint8_t *in = data;
        char *buf, *p;
        uint32_t acc = 0;
        unsigned bits = 0;

        if (!in && size > 0)
                return -EINVAL;
        if (size > (SIZE_MAX - 4) / 4 * 3)
                return -E2BIG;
        buf = malloc(size / 3 * 4 + 4);
        if (!buf)
                return -ENOMEM;
        p = buf;
        for (size_t i = 0; i < size; i++) {
                acc = (acc << 8) | in[i];
                bits += 8;
                while (bits >= 6) {
                        bits -= 6;
                        *p++ = alphabet[(acc >> bits) & 0x3f];
                }
                acc &= (1U << bits) - 1;
        }
        if (bits > 0)
                *p++ = alphabet[(acc << (6 - bits)) & 0x3f];
        *p = 0;
        *ret = buf;
        return 0;
}
