/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* For tests only: the compact JWS of HEADER and PAYLOAD as they are, signed with KEY and ALG (the default
 * algorithm of KEY's kind when NULL), so tests can build hostile tokens that jws_sign would never write. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64url.h"
#include "jwa.h"
#include "jws.h"
#include "macro.h"

static inline int jws_sign_text(EVP_PKEY *key, const char *alg, const char *header, size_t header_size,
                                const char *payload, size_t payload_size, char **ret_compact) {
        _cleanup_free_ char *h = NULL, *p = NULL, *s = NULL, *input = NULL;
        _cleanup_free_ uint8_t *sig = NULL;
        const JwaAlg *a = alg ? jwa_alg_from_string(alg) : jwa_default_alg(jwa_kind_of_pkey(key));
        size_t sig_size;
        char *out;
        int r;

        if (!key || !header || !payload)
                return -EINVAL;
        if (!a)
                return -EOPNOTSUPP;
        if (base64url_encode(header, header_size, &h) < 0 || base64url_encode(payload, payload_size, &p) < 0 ||
            asprintf(&input, "%s.%s", h, p) < 0)
                return -ENOMEM;
        r = jws_sign_raw(a->name, key, input, strlen(input), &sig, &sig_size);
        if (r < 0)
                return r;
        if (base64url_encode(sig, sig_size, &s) < 0 || asprintf(&out, "%s.%s", input, s) < 0)
                return -ENOMEM;
        *ret_compact = out;
        return 0;
}
