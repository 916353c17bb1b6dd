/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <stdlib.h>
#include <string.h>

#include "base64url.h"
#include "json-util.h"
#include "jwa.h"
#include "jwks.h"
#include "log.h"
#include "macro.h"

struct Jwks {
        JwkKey *keys;
        size_t n_keys;
};

DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_PKEY *, EVP_PKEY_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_PKEY_CTX *, EVP_PKEY_CTX_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(OSSL_PARAM_BLD *, OSSL_PARAM_BLD_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(OSSL_PARAM *, OSSL_PARAM_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(BIGNUM *, BN_free);

bool jwk_rsa_is_roca(const unsigned char *n, size_t n_size) {
        /* The small primes the ROCA construction uses for every key size (Nemec et al., CCS 2017): a
         * vulnerable modulus is 65537^a mod M plus a multiple of M = their product, so its residue mod each
         * of them is a power of 65537. A random modulus passes all 38 tests with negligible probability. */
        static const unsigned primes[] = {
                3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97,
                101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167,
        };
        _cleanup_(BN_freep) BIGNUM *bn = NULL;

        bn = BN_bin2bn(n, (int) n_size, NULL);
        if (!bn)
                return false;
        for (size_t i = 0; i < ELEMENTSOF(primes); i++) {
                unsigned p = primes[i], g = 65537 % p, x = 1;
                BN_ULONG r = BN_mod_word(bn, p);
                bool in_subgroup = false;

                if (r == (BN_ULONG) -1)
                        return false;
                /* Walk the cyclic subgroup <g> of (Z/p)*. */
                do {
                        if (x == r) {
                                in_subgroup = true;
                                break;
                        }
                        x = x * g % p;
                } while (x != 1);
                if (!in_subgroup)
                        return false;
        }
        return true;
}

/* Member KEY as strict base64url bytes. -ENOENT when absent, -EBADMSG when not a canonical string. */
static int get_b64(json_object *o, const char *key, uint8_t **ret, size_t *ret_size) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v))
                return -ENOENT;
        if (!json_object_is_type(v, json_type_string))
                return -EBADMSG;
        return base64url_decode(json_object_get_string(v), (size_t) json_object_get_string_len(v), ret, ret_size);
}

static int build_pkey(const char *type, OSSL_PARAM_BLD *bld, EVP_PKEY **ret) {
        _cleanup_(OSSL_PARAM_freep) OSSL_PARAM *params = NULL;
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = NULL, *check = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *pkey = NULL;

        params = OSSL_PARAM_BLD_to_param(bld);
        if (!params)
                return -ENOMEM;
        ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
        if (!ctx)
                return -ENOMEM;
        if (EVP_PKEY_fromdata_init(ctx) != 1 ||
            EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
                return -EBADMSG;
        /* For EC this checks that the point lies on the curve and is not the point at infinity. */
        check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
        if (!check)
                return -ENOMEM;
        if (EVP_PKEY_public_check(check) != 1)
                return -EBADMSG;
        *ret = TAKE_PTR(pkey);
        return 0;
}

static int parse_rsa(json_object *jwk, EVP_PKEY **ret, const char **ret_why) {
        _cleanup_free_ uint8_t *n = NULL, *e = NULL;
        _cleanup_(BN_freep) BIGNUM *bn_n = NULL, *bn_e = NULL;
        _cleanup_(OSSL_PARAM_BLD_freep) OSSL_PARAM_BLD *bld = NULL;
        size_t n_size, e_size;
        int bits, r;

        if (get_b64(jwk, "n", &n, &n_size) < 0 || get_b64(jwk, "e", &e, &e_size) < 0) {
                *ret_why = "RSA key without valid n and e";
                return -EBADMSG;
        }
        bn_n = BN_bin2bn(n, (int) MIN(n_size, (size_t) JWK_RSA_MAX_BITS / 8 + 8), NULL);
        bn_e = BN_bin2bn(e, (int) MIN(e_size, (size_t) 16), NULL);
        if (!bn_n || !bn_e)
                return -ENOMEM;
        bits = BN_num_bits(bn_n);
        if (bits < JWK_RSA_MIN_BITS) {
                *ret_why = "RSA key under 2048 bits";
                return -EPERM;
        }
        if (bits > JWK_RSA_MAX_BITS || n_size > (size_t) JWK_RSA_MAX_BITS / 8 + 8) {
                *ret_why = "RSA key too large";
                return -EPERM;
        }
        /* e = 1 makes every "signature" verify; even moduli or exponents are not RSA keys. */
        if (e_size > 8 || BN_num_bits(bn_e) > 64 || !BN_is_odd(bn_e) || BN_is_one(bn_e) || !BN_is_odd(bn_n)) {
                *ret_why = "RSA key with a bad modulus or exponent";
                return -EPERM;
        }
        if (jwk_rsa_is_roca(n, n_size)) {
                *ret_why = "RSA modulus with the ROCA fingerprint (CVE-2017-15361)";
                return -EPERM;
        }

        bld = OSSL_PARAM_BLD_new();
        if (!bld)
                return -ENOMEM;
        if (OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) != 1 ||
            OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) != 1)
                return -ENOMEM;
        r = build_pkey("RSA", bld, ret);
        if (r < 0)
                *ret_why = "RSA key refused by OpenSSL";
        return r;
}

static int parse_ec(json_object *jwk, EVP_PKEY **ret, JwkKind *ret_kind, const char **ret_why) {
        _cleanup_free_ uint8_t *x = NULL, *y = NULL, *point = NULL;
        _cleanup_(OSSL_PARAM_BLD_freep) OSSL_PARAM_BLD *bld = NULL;
        const JwaCurve *curve = jwa_curve_from_string("EC", json_get_string(jwk, "crv"));
        size_t x_size, y_size;
        int r;

        if (!curve) {
                *ret_why = "EC key on an unsupported curve";
                return -EOPNOTSUPP;
        }
        /* RFC 7518 §6.2.1.2: x and y are exactly the coordinate size, leading zeros included. */
        if (get_b64(jwk, "x", &x, &x_size) < 0 || get_b64(jwk, "y", &y, &y_size) < 0 ||
            x_size != curve->coord_size || y_size != curve->coord_size) {
                *ret_why = "EC key without valid x and y of the curve's size";
                return -EBADMSG;
        }
        point = malloc(1 + 2 * x_size);
        if (!point)
                return -ENOMEM;
        point[0] = 0x04; /* uncompressed SEC1 point */
        memcpy(point + 1, x, x_size);
        memcpy(point + 1 + x_size, y, y_size);

        bld = OSSL_PARAM_BLD_new();
        if (!bld)
                return -ENOMEM;
        if (OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, curve->group, 0) != 1 ||
            OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, 1 + 2 * x_size) != 1)
                return -ENOMEM;
        r = build_pkey("EC", bld, ret);
        if (r < 0) {
                *ret_why = "EC point not on the curve";
                return r;
        }
        *ret_kind = curve->kind;
        return 0;
}

static int parse_okp(json_object *jwk, EVP_PKEY **ret, const char **ret_why) {
        _cleanup_free_ uint8_t *x = NULL;
        const JwaCurve *curve = jwa_curve_from_string("OKP", json_get_string(jwk, "crv"));
        size_t x_size;
        EVP_PKEY *pkey;

        if (!curve) {
                *ret_why = "OKP key on an unsupported curve";
                return -EOPNOTSUPP;
        }
        if (get_b64(jwk, "x", &x, &x_size) < 0 || x_size != curve->coord_size) {
                *ret_why = "Ed25519 key without a valid x";
                return -EBADMSG;
        }
        pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, x_size);
        if (!pkey) {
                *ret_why = "Ed25519 key refused by OpenSSL";
                return -EBADMSG;
        }
        *ret = pkey;
        return 0;
}

/* 0 and the key, or -errno with a reason to skip it. */
static int parse_key(json_object *jwk, JwkKey *ret, const char **ret_why) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *pkey = NULL;
        _cleanup_free_ char *kid = NULL, *alg = NULL;
        json_object *v;
        const char *kty;
        const JwaAlg *a = NULL;
        JwkKind kind = _JWK_KIND_INVALID;
        int r;

        if (!json_object_is_type(jwk, json_type_object)) {
                *ret_why = "not an object";
                return -EBADMSG;
        }
        kty = json_get_string(jwk, "kty");
        if (!kty) {
                *ret_why = "no kty";
                return -EBADMSG;
        }
        /* RFC 7517 §4.2, §4.3: a key meant for encryption is never used to verify. */
        if (json_object_object_get_ex(jwk, "use", &v) &&
            (!json_object_is_type(v, json_type_string) || !streq(json_object_get_string(v), "sig"))) {
                *ret_why = "use is not sig";
                return -EPERM;
        }
        if (json_object_object_get_ex(jwk, "key_ops", &v)) {
                bool verify = false;

                if (!json_object_is_type(v, json_type_array)) {
                        *ret_why = "key_ops is not an array";
                        return -EBADMSG;
                }
                for (size_t i = 0; i < json_object_array_length(v); i++) {
                        json_object *op = json_object_array_get_idx(v, i);

                        if (json_object_is_type(op, json_type_string) && streq(json_object_get_string(op), "verify"))
                                verify = true;
                }
                if (!verify) {
                        *ret_why = "key_ops without verify";
                        return -EPERM;
                }
        }
        if (json_object_object_get_ex(jwk, "kid", &v)) {
                if (!json_object_is_type(v, json_type_string) || json_object_get_string_len(v) > (int) JWK_KID_MAX) {
                        *ret_why = "kid is not a short string";
                        return -EBADMSG;
                }
                kid = strndup(json_object_get_string(v), (size_t) json_object_get_string_len(v));
                if (!kid)
                        return -ENOMEM;
        }
        if (json_object_object_get_ex(jwk, "alg", &v)) {
                if (!json_object_is_type(v, json_type_string)) {
                        *ret_why = "alg is not a string";
                        return -EBADMSG;
                }
                a = jwa_alg_from_string(json_object_get_string(v));
                if (!a) {
                        *ret_why = "alg is not a supported signature algorithm";
                        return -EOPNOTSUPP;
                }
                alg = strdup(a->name);
                if (!alg)
                        return -ENOMEM;
        }

        if (streq(kty, "RSA")) {
                kind = JWK_RSA;
                r = parse_rsa(jwk, &pkey, ret_why);
        } else if (streq(kty, "EC"))
                r = parse_ec(jwk, &pkey, &kind, ret_why);
        else if (streq(kty, "OKP")) {
                kind = JWK_ED25519;
                r = parse_okp(jwk, &pkey, ret_why);
        } else {
                /* "oct" above all: a shared secret never verifies an ID token here. */
                *ret_why = "unsupported kty";
                return -EOPNOTSUPP;
        }
        if (r < 0)
                return r;
        if (a && !jwa_alg_fits_kind(a, kind)) {
                *ret_why = "alg does not fit the key type or curve";
                return -EPERM;
        }

        *ret = (JwkKey) {
                .kid = TAKE_PTR(kid),
                .alg = TAKE_PTR(alg),
                .kind = kind,
                .pkey = TAKE_PTR(pkey),
        };
        return 0;
}

Jwks *jwks_free(Jwks *j) {
        if (!j)
                return NULL;
        for (size_t i = 0; i < j->n_keys; i++) {
                free(j->keys[i].kid);
                free(j->keys[i].alg);
                EVP_PKEY_free(j->keys[i].pkey);
        }
        free(j->keys);
        return mfree(j);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(Jwks *, jwks_free);

int jwks_parse(const char *json, size_t len, Jwks **ret) {
        _cleanup_(jwks_freep) Jwks *j = NULL;
        _cleanup_json_ json_object *root = NULL;
        json_object *keys;
        size_t n;
        int r;

        if (!json || len == 0)
                return -EBADMSG;
        if (len > JWKS_MAX_SIZE)
                return -E2BIG;
        r = json_parse_strict(json, len, &root);
        if (r < 0)
                return r == -E2BIG ? r : -EBADMSG;
        if (!json_object_is_type(root, json_type_object) || !json_object_object_get_ex(root, "keys", &keys) ||
            !json_object_is_type(keys, json_type_array))
                return -EBADMSG;

        j = calloc(1, sizeof(Jwks));
        if (!j)
                return -ENOMEM;
        n = json_object_array_length(keys);
        j->keys = calloc(MIN(n, (size_t) JWKS_MAX_KEYS) + 1, sizeof(JwkKey));
        if (!j->keys)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const char *why = NULL;
                JwkKey k;

                if (j->n_keys >= JWKS_MAX_KEYS) {
                        log_debug("JWKS: more than %u usable keys, ignoring the rest.", JWKS_MAX_KEYS);
                        break;
                }
                r = parse_key(json_object_array_get_idx(keys, i), &k, &why);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        _cleanup_free_ char *kid = strdup_sanitized(json_get_string(json_object_array_get_idx(keys, i), "kid"));

                        log_debug("JWKS: skipping key #%zu (kid '%s'): %s.", i, strna(kid), strna(why));
                        continue;
                }
                j->keys[j->n_keys++] = k;
        }
        if (j->n_keys == 0)
                return -ENOKEY;
        *ret = TAKE_PTR(j);
        return 0;
}

size_t jwks_size(const Jwks *j) {
        return j ? j->n_keys : 0;
}

const JwkKey *jwks_get(const Jwks *j, size_t i) {
        if (!j || i >= j->n_keys)
                return NULL;
        return &j->keys[i];
}

bool jwks_has_kid(const Jwks *j, const char *kid) {
        if (!j || !kid)
                return false;
        for (size_t i = 0; i < j->n_keys; i++)
                if (j->keys[i].kid && streq(j->keys[i].kid, kid))
                        return true;
        return false;
}
