/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <stdint.h>

#include "jwks.h"

/* OpenID Connect Core 1.0 §3.1.3.7: an ID token is accepted only with a valid signature from the issuer's
 * JWKS, iss equal to the configured issuer byte for byte, aud containing client_id (azp required with
 * several audiences and equal to client_id when present), exp in the future, iat neither in the future nor
 * older than max_iat_age, nbf (if present) passed — each with clock_skew — and a non-empty sub. */

typedef struct IdTokenCheck {
        const char *issuer;
        const char *client_id;
        char *const *allowed_algs;
        uint64_t now_usec;              /* CLOCK_REALTIME */
        uint64_t clock_skew_usec;
        uint64_t max_iat_age_usec;
} IdTokenCheck;

/* 0 and the claims on success; -ENOKEY when no key matches (refetch the JWKS once), other -errno with a
 * short reason otherwise. */
int idtoken_validate(const char *token, const Jwks *keys, const IdTokenCheck *c, json_object **ret_claims,
                     char **ret_reason);
