/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base64url.h"
#include "json-util.h"
#include "jwa.h"
#include "jws.h"
#include "macro.h"
#include "reason.h"
#include "text-safety.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_PKEY *, EVP_PKEY_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_MD_CTX *, EVP_MD_CTX_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(BIGNUM *, BN_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(ECDSA_SIG *, ECDSA_SIG_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(EC_GROUP *, EC_GROUP_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(BIO *, BIO_free);

static const char *default_alg(EVP_PKEY *key) {
        const JwaAlg *a = jwa_default_alg(jwa_kind_of_pkey(key));

        return a ? a->name : NULL;
}

/* ---- signatures ------------------------------------------------------------------------------------- */

static int ecdsa_to_der(const JwaAlg *a, const uint8_t *sig, size_t sig_size, uint8_t **ret, size_t *ret_size) {
        _cleanup_(BN_freep) BIGNUM *r = NULL, *s = NULL;
        _cleanup_(ECDSA_SIG_freep) ECDSA_SIG *es = NULL;
        _cleanup_(EC_GROUP_freep) EC_GROUP *group = NULL;
        const JwaCurve *curve = jwa_curve_of_kind(a->kind);
        const BIGNUM *order;
        unsigned char *der = NULL;
        int n;

        /* RFC 7518 §3.4: exactly r‖s, each as long as the order. */
        if (sig_size != 2 * a->ec_size)
                return -EBADMSG;
        r = BN_bin2bn(sig, (int) a->ec_size, NULL);
        s = BN_bin2bn(sig + a->ec_size, (int) a->ec_size, NULL);
        if (!curve)
                return -EINVAL;
        group = EC_GROUP_new_by_curve_name(curve->nid);
        if (!r || !s || !group)
                return -ENOMEM;
        order = EC_GROUP_get0_order(group);
        /* CVE-2022-21449 ("psychic signatures"): r = s = 0 must never verify; OpenSSL checks too. */
        if (BN_is_zero(r) || BN_is_zero(s) || BN_cmp(r, order) >= 0 || BN_cmp(s, order) >= 0)
                return -EBADMSG;
        es = ECDSA_SIG_new();
        if (!es)
                return -ENOMEM;
        if (ECDSA_SIG_set0(es, r, s) != 1)
                return -ENOMEM;
        r = s = NULL; /* owned by es now */
        n = i2d_ECDSA_SIG(es, &der);
        if (n <= 0)
                return -ENOMEM;
        *ret = der;
        *ret_size = (size_t) n;
        return 0;
}

static int key_fits(const JwaAlg *a, EVP_PKEY *key) {
        if (!jwa_alg_fits_kind(a, jwa_kind_of_pkey(key)))
                return -EPERM;
        if (a->kind == JWK_RSA && EVP_PKEY_get_bits(key) < JWK_RSA_MIN_BITS)
                return -EPERM;
        return 0;
}

static int setup_ctx(const JwaAlg *a, EVP_PKEY_CTX *pctx) {
        if (a->padding == JWA_PAD_PKCS1)
                return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1 ? 0 : -EIO;
        if (a->padding == JWA_PAD_PSS) {
                /* RFC 7518 §3.5: MGF1 with the same hash, salt as long as the hash. */
                if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
                    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
                    EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, a->md, NULL) != 1)
                        return -EIO;
        }
        return 0;
}

int jws_verify_raw(const char *alg, EVP_PKEY *key, const void *data, size_t size, const void *sig,
                   size_t sig_size) {
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = NULL;
        _cleanup_free_ uint8_t *der = NULL;
        const JwaAlg *a = jwa_alg_from_string(alg);
        EVP_PKEY_CTX *pctx = NULL;
        const void *s = sig;
        size_t s_size = sig_size;
        int r;

        if (!a || !key || (!data && size > 0) || !sig)
                return -EINVAL;
        r = key_fits(a, key);
        if (r < 0)
                return r;
        if (a->kind == JWK_RSA && sig_size != (size_t) EVP_PKEY_get_size(key))
                return -EBADMSG; /* RFC 8017 §8.2.2: the signature is exactly k octets */
        if (a->kind == JWK_ED25519 && sig_size != 64)
                return -EBADMSG;
        if (a->ec_size > 0) {
                r = ecdsa_to_der(a, sig, sig_size, &der, &s_size);
                if (r < 0)
                        return r;
                s = der;
        }

        ctx = EVP_MD_CTX_new();
        if (!ctx)
                return -ENOMEM;
        if (EVP_DigestVerifyInit_ex(ctx, &pctx, a->md, NULL, NULL, key, NULL) != 1) {
                ERR_clear_error();
                return -EIO;
        }
        r = setup_ctx(a, pctx);
        if (r < 0) {
                ERR_clear_error();
                return r;
        }
        r = EVP_DigestVerify(ctx, s, s_size, data, size);
        if (r != 1) {
                ERR_clear_error();
                return -EBADMSG;
        }
        return 0;
}

int jws_sign_raw(const char *alg, EVP_PKEY *key, const void *data, size_t size, uint8_t **ret_sig,
                 size_t *ret_sig_size) {
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = NULL;
        _cleanup_free_ uint8_t *sig = NULL;
        const JwaAlg *a = jwa_alg_from_string(alg);
        EVP_PKEY_CTX *pctx = NULL;
        size_t sig_size = 0;
        int r;

        if (!a || !key || (!data && size > 0))
                return -EINVAL;
        r = key_fits(a, key);
        if (r < 0)
                return r;
        ctx = EVP_MD_CTX_new();
        if (!ctx)
                return -ENOMEM;
        if (EVP_DigestSignInit_ex(ctx, &pctx, a->md, NULL, NULL, key, NULL) != 1 || setup_ctx(a, pctx) < 0 ||
            EVP_DigestSign(ctx, NULL, &sig_size, data, size) != 1)
                goto fail;
        sig = malloc(MAX(sig_size, 2 * a->ec_size));
        if (!sig)
                return -ENOMEM;
        if (EVP_DigestSign(ctx, sig, &sig_size, data, size) != 1)
                goto fail;

        if (a->ec_size > 0) {
                /* DER back to the fixed-size r‖s of RFC 7518 §3.4. */
                _cleanup_(ECDSA_SIG_freep) ECDSA_SIG *es = NULL;
                const unsigned char *q = sig;
                uint8_t *rs;

                es = d2i_ECDSA_SIG(NULL, &q, (long) sig_size);
                if (!es)
                        goto fail;
                rs = malloc(2 * a->ec_size);
                if (!rs)
                        return -ENOMEM;
                if (BN_bn2binpad(ECDSA_SIG_get0_r(es), rs, (int) a->ec_size) < 0 ||
                    BN_bn2binpad(ECDSA_SIG_get0_s(es), rs + a->ec_size, (int) a->ec_size) < 0) {
                        free(rs);
                        goto fail;
                }
                free(sig);
                sig = rs;
                sig_size = 2 * a->ec_size;
        }
        *ret_sig = TAKE_PTR(sig);
        *ret_sig_size = sig_size;
        return 0;
fail:
        ERR_clear_error();
        return -EIO;
}

/* ---- verification of compact tokens ----------------------------------------------------------------- */

#define QUOTE_MAX 40U           /* bytes of a header value (alg, kid) quoted in a reason */

/* NULL allows every algorithm of the table (RFC 7518 via jwa.h). */
static bool alg_allowed(const char *alg, char *const *allowed) {
        if (!allowed)
                return true;
        for (char *const *a = allowed; *a; a++)
                if (streq(*a, alg))
                        return true;
        return false;
}

int jws_verify_bytes(const char *compact, size_t len, const Jwks *keys, char *const *allowed_algs,
                     uint8_t **ret_payload, size_t *ret_payload_size, char **ret_reason) {
        _cleanup_free_ uint8_t *header_text = NULL, *payload = NULL, *sig = NULL;
        _cleanup_free_ char *q = NULL;
        _cleanup_json_ json_object *header = NULL;
        const char *dot1, *dot2, *alg_name, *kid = NULL;
        size_t header_size, payload_size, sig_size, n_candidates = 0;
        const JwkKey *candidates[JWKS_MAX_KEYS];
        bool kid_known = false;
        const JwaAlg *a;
        json_object *v;
        int r;

        if (!compact)
                return reason_set(ret_reason, -EINVAL, "no token");
        if (len > JWS_MAX_SIZE)
                return reason_set(ret_reason, -E2BIG, "token larger than %u bytes", JWS_MAX_SIZE);
        if (len == 0)
                return reason_set(ret_reason, -EBADMSG, "empty token");

        /* RFC 7515 §7.1: BASE64URL(header) '.' BASE64URL(payload) '.' BASE64URL(signature), nothing else
         * (the JSON serialisation starts with '{' and has no dots: refused here). */
        dot1 = memchr(compact, '.', len);
        dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t) (dot1 + 1 - compact)) : NULL;
        if (!dot2 || memchr(dot2 + 1, '.', len - (size_t) (dot2 + 1 - compact)))
                return reason_set(ret_reason, -EBADMSG, "not a compact JWS of three parts");
        if (dot1 == compact)
                return reason_set(ret_reason, -EBADMSG, "empty header");
        if (dot2 + 1 == compact + len)
                return reason_set(ret_reason, -EBADMSG, "empty signature");

        if (base64url_decode(compact, (size_t) (dot1 - compact), &header_text, &header_size) < 0)
                return reason_set(ret_reason, -EBADMSG, "header is not strict base64url");
        if (base64url_decode(dot1 + 1, (size_t) (dot2 - dot1 - 1), &payload, &payload_size) < 0)
                return reason_set(ret_reason, -EBADMSG, "payload is not strict base64url");
        if (base64url_decode(dot2 + 1, len - (size_t) (dot2 + 1 - compact), &sig, &sig_size) < 0)
                return reason_set(ret_reason, -EBADMSG, "signature is not strict base64url");

        r = json_parse_strict((const char *) header_text, header_size, &header);
        if (r == -ENOTUNIQ)
                return reason_set(ret_reason, -EBADMSG, "header has a member name twice");
        if (r == -EILSEQ)
                return reason_set(ret_reason, -EBADMSG, "header contains a NUL character");
        if (r == -E2BIG)
                return reason_set(ret_reason, -E2BIG, "header JSON nested too deep");
        if (r < 0 || !json_object_is_type(header, json_type_object))
                return reason_set(ret_reason, -EBADMSG, "header is not a JSON object");

        /* RFC 7515 §4.1.11: we understand no extension, so a critical one means refusal. */
        if (json_object_object_get_ex(header, "crit", NULL))
                return reason_set(ret_reason, -EPERM, "crit header present");
        /* jku, x5u, jwk, x5c are deliberately never looked at: keys only come from the issuer's JWKS. */

        /* RFC 9068 §2.1: a JWT access token says typ at+jwt. Signed by the same key, with our client_id as
         * audience, it must never pass for an ID token. */
        if (json_object_object_get_ex(header, "typ", &v)) {
                const char *typ = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;

                if (!typ || strcasecmp(typ, "at+jwt") == 0 || strcasecmp(typ, "application/at+jwt") == 0)
                        return reason_set(ret_reason, -EPERM, "typ is not an ID token's");
        }

        if (!json_object_object_get_ex(header, "alg", &v) || !json_object_is_type(v, json_type_string))
                return reason_set(ret_reason, -EBADMSG, "header without an alg string");
        alg_name = json_object_get_string(v);
        q = text_quote(alg_name, QUOTE_MAX, /* ascii_only= */ false);
        if (strcasecmp(alg_name, "none") == 0)
                return reason_set(ret_reason, -EPERM, "alg '%s' (unsigned) refused", strna(q));
        if (strncasecmp(alg_name, "HS", 2) == 0)
                return reason_set(ret_reason, -EPERM, "alg '%s' (HMAC) refused", strna(q));
        a = jwa_alg_from_string(alg_name);
        if (!a)
                return reason_set(ret_reason, -EPERM, "alg '%s' not supported", strna(q));
        if (!alg_allowed(a->name, allowed_algs))
                return reason_set(ret_reason, -EPERM, "alg '%s' not in the allowed list", a->name);

        if (json_object_object_get_ex(header, "kid", &v)) {
                if (!json_object_is_type(v, json_type_string))
                        return reason_set(ret_reason, -EBADMSG, "kid is not a string");
                kid = json_object_get_string(v);
        }

        /* Pick the keys: by kid when the token names one, else every key of the right type. */
        for (size_t i = 0; i < jwks_size(keys); i++) {
                const JwkKey *k = jwks_get(keys, i);

                if (kid && !streq_ptr(k->kid, kid))
                        continue;
                kid_known = true;
                if (k->kind != a->kind)
                        continue;
                /* RFC 7517 §4.4: a key bound to an algorithm is used with that one only. */
                if (k->alg && !streq(k->alg, a->name))
                        continue;
                if (n_candidates < ELEMENTSOF(candidates))
                        candidates[n_candidates++] = k;
        }
        if (kid) {
                free(q);
                q = text_quote(kid, QUOTE_MAX, /* ascii_only= */ false);
                if (!kid_known)
                        return reason_set(ret_reason, -ENOKEY, "no key with kid '%s'", strna(q));
                if (n_candidates == 0)
                        return reason_set(ret_reason, -EPERM, "key '%s' does not fit alg %s",
                                          strna(q), a->name);
                if (n_candidates > 1)
                        return reason_set(ret_reason, -EPERM, "kid '%s' names several keys", strna(q));
        } else if (n_candidates == 0)
                return reason_set(ret_reason, -ENOKEY, "no key fits alg %s", a->name);

        for (size_t i = 0; i < n_candidates; i++) {
                r = jws_verify_raw(a->name, candidates[i]->pkey, compact, (size_t) (dot2 - compact), sig, sig_size);
                if (r == -ENOMEM)
                        return reason_set(ret_reason, r, "out of memory");
                if (r >= 0) {
                        if (ret_payload_size)
                                *ret_payload_size = payload_size;
                        if (ret_payload)
                                *ret_payload = TAKE_PTR(payload);
                        return 0;
                }
        }
        return reason_set(ret_reason, -EBADMSG, "%s signature does not verify", a->name);
}

int jws_verify(const char *compact, size_t len, const Jwks *keys, char *const *allowed_algs,
               json_object **ret_payload, char **ret_reason) {
        _cleanup_free_ uint8_t *payload = NULL;
        _cleanup_json_ json_object *o = NULL;
        size_t size;
        int r;

        r = jws_verify_bytes(compact, len, keys, allowed_algs, &payload, &size, ret_reason);
        if (r < 0)
                return r;
        r = json_parse_strict((const char *) payload, size, &o);
        if (r == -ENOTUNIQ)
                return reason_set(ret_reason, -EBADMSG, "payload has a member name twice");
        if (r == -EILSEQ)
                return reason_set(ret_reason, -EBADMSG, "payload contains a NUL character");
        if (r == -E2BIG)
                return reason_set(ret_reason, -E2BIG, "payload JSON nested too deep");
        if (r < 0 || !json_object_is_type(o, json_type_object))
                return reason_set(ret_reason, -EBADMSG, "payload is not a JSON object");
        if (ret_payload)
                *ret_payload = TAKE_PTR(o);
        return 0;
}

/* ---- signing ---------------------------------------------------------------------------------------- */

/* The compact JWS of the header and payload texts as they are. */
static int sign_text(EVP_PKEY *key, const char *alg, const char *header, size_t header_size, const char *payload,
                     size_t payload_size, char **ret_compact) {
        _cleanup_free_ char *h = NULL, *p = NULL, *s = NULL, *input = NULL;
        _cleanup_free_ uint8_t *sig = NULL;
        size_t sig_size;
        char *out;
        int r;

        if (!key || !header || !payload)
                return -EINVAL;
        alg = alg ?: default_alg(key);
        if (!alg)
                return -EOPNOTSUPP;
        r = base64url_encode(header, header_size, &h);
        if (r < 0)
                return r;
        r = base64url_encode(payload, payload_size, &p);
        if (r < 0)
                return r;
        if (asprintf(&input, "%s.%s", h, p) < 0)
                return -ENOMEM;
        r = jws_sign_raw(alg, key, input, strlen(input), &sig, &sig_size);
        if (r < 0)
                return r;
        r = base64url_encode(sig, sig_size, &s);
        if (r < 0)
                return r;
        if (asprintf(&out, "%s.%s", input, s) < 0)
                return -ENOMEM;
        *ret_compact = out;
        return 0;
}

int jws_sign(EVP_PKEY *key, const char *alg, const char *kid, json_object *payload, char **ret_compact) {
        _cleanup_json_ json_object *header = NULL;
        const int flags = JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE;
        const char *h, *p;

        if (!key || !payload)
                return -EINVAL;
        alg = alg ?: default_alg(key);
        if (!alg || !jwa_alg_from_string(alg))
                return -EOPNOTSUPP;
        header = json_object_new_object();
        if (!header ||
            json_object_object_add(header, "alg", json_object_new_string(alg)) < 0 ||
            json_object_object_add(header, "typ", json_object_new_string("JWT")) < 0 ||
            (kid && json_object_object_add(header, "kid", json_object_new_string(kid)) < 0))
                return -ENOMEM;
        h = json_object_to_json_string_ext(header, flags);
        p = json_object_to_json_string_ext(payload, flags);
        if (!h || !p)
                return -ENOMEM;
        return sign_text(key, alg, h, strlen(h), p, strlen(p), ret_compact);
}

static int no_password(char *buf, int size, int rwflag, void *userdata) {
        /* Never prompt on a terminal for an encrypted key: the daemon has no one to ask. */
        return -1;
}

int jws_load_private_key_pem(const char *pem, size_t len, EVP_PKEY **ret) {
        _cleanup_(BIO_freep) BIO *bio = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        JwkKind kind;

        if (!pem || len == 0 || len > INT32_MAX)
                return -EINVAL;
        bio = BIO_new_mem_buf(pem, (int) len);
        if (!bio)
                return -ENOMEM;
        key = PEM_read_bio_PrivateKey(bio, NULL, no_password, NULL);
        ERR_clear_error();
        if (!key)
                return -EBADMSG;
        kind = jwa_kind_of_pkey(key);
        if (kind < 0)
                return -EOPNOTSUPP;
        if (kind == JWK_RSA && EVP_PKEY_get_bits(key) < JWK_RSA_MIN_BITS)
                return -EPERM;
        *ret = TAKE_PTR(key);
        return 0;
}

int jws_client_assertion(EVP_PKEY *key, const char *client_id, const char *audience, uint64_t now_usec,
                         char **ret) {
        _cleanup_json_ json_object *claims = NULL;
        uint8_t rnd[16];
        char jti[2 * sizeof(rnd) + 1];
        int64_t now = (int64_t) (now_usec / USEC_PER_SEC);

        if (!key || !client_id || !*client_id || !audience || !*audience)
                return -EINVAL;
        if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
                ERR_clear_error();
                return -EIO;
        }
        for (size_t i = 0; i < sizeof(rnd); i++)
                snprintf(jti + 2 * i, 3, "%02x", rnd[i]);

        /* RFC 7523 §3 and OIDC Core §9: iss = sub = client_id, aud = the endpoint, short-lived, unique. */
        claims = json_object_new_object();
        if (!claims ||
            json_object_object_add(claims, "iss", json_object_new_string(client_id)) < 0 ||
            json_object_object_add(claims, "sub", json_object_new_string(client_id)) < 0 ||
            json_object_object_add(claims, "aud", json_object_new_string(audience)) < 0 ||
            json_object_object_add(claims, "jti", json_object_new_string(jti)) < 0 ||
            json_object_object_add(claims, "iat", json_object_new_int64(now)) < 0 ||
            json_object_object_add(claims, "exp", json_object_new_int64(now + 60)) < 0)
                return -ENOMEM;
        return jws_sign(key, NULL, NULL, claims, ret);
}
