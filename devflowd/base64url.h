/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* base64url without padding (RFC 7515 §2, RFC 4648 §5), strict: only the URL-safe alphabet, no '=', no
 * whitespace, no length of the form 4k+1, and the unused low bits of the last character must be zero (one
 * canonical encoding per byte string, so a token cannot be altered without changing its bytes). */

/* Decode LEN characters of S. The result has a NUL byte after the RET_SIZE bytes (not counted).
 * -EBADMSG when S is not canonical base64url. */
int base64url_decode(const char *s, size_t len, uint8_t **ret, size_t *ret_size);

/* Encode SIZE bytes into a NUL-terminated string without padding. */
int base64url_encode(const void *p, size_t size, char **ret);
