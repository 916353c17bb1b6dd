/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "idtoken.h"
#include "json-util.h"
#include "jws.h"
#include "macro.h"
#include "reason.h"

/* OIDC Core §2: sub is at most 255 ASCII characters. */
#define IDTOKEN_SUB_MAX 255U

/* A NumericDate (RFC 7519 §2) in µs: a JSON number, never a string. -ENOENT when absent, -EINVAL when of
 * another type, negative or absurdly large. */
static int get_numeric_date(json_object *claims, const char *name, uint64_t *ret) {
        json_object *v;
        uint64_t sec;

        if (!json_object_object_get_ex(claims, name, &v))
                return -ENOENT;
        if (json_object_is_type(v, json_type_int)) {
                int64_t i;

                errno = 0;
                i = json_object_get_int64(v);
                if (errno != 0 || i < 0)
                        return -EINVAL;
                sec = (uint64_t) i;
        } else if (json_object_is_type(v, json_type_double)) {
                double d = json_object_get_double(v);

                if (!isfinite(d) || d < 0 || d > 1e15)
                        return -EINVAL;
                sec = (uint64_t) d;
        } else
                return -EINVAL;
        /* Beyond the year 9999 a date is garbage, and µs would overflow soon after. */
        if (sec > 253402300799ULL)
                return -EINVAL;
        *ret = sec * USEC_PER_SEC;
        return 0;
}

int idtoken_validate(const char *token, const Jwks *keys, const IdTokenCheck *c, json_object **ret_claims,
                     char **ret_reason) {
        _cleanup_json_ json_object *claims = NULL;
        json_object *aud, *v;
        const char *s;
        uint64_t exp, iat, nbf;
        size_t n_aud = 0;
        bool aud_ok = false;
        int r;

        if (!token)
                return reason_set(ret_reason, -EBADMSG, "no ID token");
        if (!c || !c->issuer || !*c->issuer || !c->client_id || !*c->client_id)
                return reason_set(ret_reason, -EINVAL, "no issuer or client_id to check against");
        if (!keys)
                return reason_set(ret_reason, -ENOKEY, "no JWKS");

        r = jws_verify(token, strnlen(token, JWS_MAX_SIZE + 1), keys, c->allowed_algs, &claims, ret_reason);
        if (r < 0)
                return r;

        /* §3.1.3.7 (2): iss is exactly the issuer, byte for byte (no trailing-slash or case folding). */
        s = json_get_string(claims, "iss");
        if (!s)
                return reason_set(ret_reason, -EPERM, "no iss string");
        if (!streq(s, c->issuer))
                return reason_set(ret_reason, -EPERM, "iss is not the configured issuer");

        /* (3): aud is client_id or an array of strings containing it. */
        if (!json_object_object_get_ex(claims, "aud", &aud))
                return reason_set(ret_reason, -EPERM, "no aud");
        if (json_object_is_type(aud, json_type_string)) {
                n_aud = 1;
                aud_ok = streq(json_object_get_string(aud), c->client_id);
        } else if (json_object_is_type(aud, json_type_array)) {
                n_aud = json_object_array_length(aud);
                for (size_t i = 0; i < n_aud; i++) {
                        json_object *e = json_object_array_get_idx(aud, i);

                        if (!json_object_is_type(e, json_type_string))
                                return reason_set(ret_reason, -EPERM, "aud array holds a non-string");
                        if (streq(json_object_get_string(e), c->client_id))
                                aud_ok = true;
                }
        } else
                return reason_set(ret_reason, -EPERM, "aud is neither a string nor an array");
        if (!aud_ok)
                return reason_set(ret_reason, -EPERM, "aud does not contain our client_id");

        /* (4), (5): azp required with several audiences, and when present it must be us. */
        if (json_object_object_get_ex(claims, "azp", &v)) {
                if (!json_object_is_type(v, json_type_string) || !streq(json_object_get_string(v), c->client_id))
                        return reason_set(ret_reason, -EPERM, "azp is not our client_id");
        } else if (n_aud > 1)
                return reason_set(ret_reason, -EPERM, "several audiences and no azp");

        /* (9): exp in the future, with the skew. */
        r = get_numeric_date(claims, "exp", &exp);
        if (r == -ENOENT)
                return reason_set(ret_reason, -EPERM, "no exp");
        if (r < 0)
                return reason_set(ret_reason, -EPERM, "exp is not a valid NumericDate number");
        if (exp > UINT64_MAX - c->clock_skew_usec || exp + c->clock_skew_usec <= c->now_usec)
                return reason_set(ret_reason, -EPERM, "expired");

        /* (10): iat neither in the future nor older than the bound. */
        r = get_numeric_date(claims, "iat", &iat);
        if (r == -ENOENT)
                return reason_set(ret_reason, -EPERM, "no iat");
        if (r < 0)
                return reason_set(ret_reason, -EPERM, "iat is not a valid NumericDate number");
        if (iat > c->now_usec + c->clock_skew_usec)
                return reason_set(ret_reason, -EPERM, "iat in the future");
        if (c->max_iat_age_usec > 0 && iat + c->max_iat_age_usec + c->clock_skew_usec < c->now_usec)
                return reason_set(ret_reason, -EPERM, "iat too old");

        /* RFC 7519 §4.1.5: not before nbf. */
        r = get_numeric_date(claims, "nbf", &nbf);
        if (r == -EINVAL)
                return reason_set(ret_reason, -EPERM, "nbf is not a valid NumericDate number");
        if (r >= 0 && nbf > c->now_usec + c->clock_skew_usec)
                return reason_set(ret_reason, -EPERM, "nbf in the future");

        /* §2: sub is a non-empty string of at most 255 characters. */
        if (!json_object_object_get_ex(claims, "sub", &v) || !json_object_is_type(v, json_type_string))
                return reason_set(ret_reason, -EPERM, "no sub string");
        if (json_object_get_string_len(v) == 0)
                return reason_set(ret_reason, -EPERM, "empty sub");
        if ((size_t) json_object_get_string_len(v) > IDTOKEN_SUB_MAX)
                return reason_set(ret_reason, -EPERM, "sub longer than 255 characters");
        if (memchr(json_object_get_string(v), 0, (size_t) json_object_get_string_len(v)))
                return reason_set(ret_reason, -EPERM, "sub contains a NUL byte");

        if (ret_claims)
                *ret_claims = TAKE_PTR(claims);
        return 0;
}
