/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* JWKS parsing: which keys are kept, which are skipped and why, and what makes a whole set unusable. */

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64url.h"
#include "jwks.h"
#include "jws.h"
#include "jws-sign-text.h"
#include "macro.h"
#include "test.h"

static EVP_PKEY *rsa, *rsa1024, *ec256, *ec384, *ec521, *ed;

static char *b64(const void *p, size_t n) {
        char *s = NULL;

        if (base64url_encode(p, n, &s) < 0)
                abort();
        return s;
}

static char *bn_param(EVP_PKEY *k, const char *name) {
        BIGNUM *bn = NULL;
        uint8_t buf[1024];
        int n;

        if (EVP_PKEY_get_bn_param(k, name, &bn) != 1)
                abort();
        n = BN_bn2bin(bn, buf);
        BN_free(bn);
        return b64(buf, (size_t) n);
}

static void ec_xy(EVP_PKEY *k, char **x, char **y) {
        uint8_t pt[200];
        size_t len = 0, c;

        EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pt, sizeof(pt), &len);
        c = (len - 1) / 2;
        *x = b64(pt + 1, c);
        *y = b64(pt + 1 + c, c);
}

__attribute__((constructor(200))) static void setup(void) {
        rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);
        rsa1024 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 1024);
        ec256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        ec384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
        ec521 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
        ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        if (!rsa || !rsa1024 || !ec256 || !ec384 || !ec521 || !ed)
                abort();
}

__attribute__((destructor)) static void teardown(void) {
        EVP_PKEY_free(rsa);
        EVP_PKEY_free(rsa1024);
        EVP_PKEY_free(ec256);
        EVP_PKEY_free(ec384);
        EVP_PKEY_free(ec521);
        EVP_PKEY_free(ed);
}

/* Parse {"keys":[JWK]} and return how many keys were kept (or the negative error). */
static int parse_one(const char *jwk) {
        char *set = NULL;
        Jwks *j = NULL;
        int r;

        if (asprintf(&set, "{\"keys\":[%s]}", jwk) < 0)
                abort();
        r = jwks_parse(set, strlen(set), &j);
        if (r >= 0)
                r = (int) jwks_size(j);
        jwks_free(j);
        free(set);
        return r;
}

static char *rsa_jwk(EVP_PKEY *k, const char *extra) {
        char *n = bn_param(k, OSSL_PKEY_PARAM_RSA_N), *e = bn_param(k, OSSL_PKEY_PARAM_RSA_E), *out = NULL;

        if (asprintf(&out, "{\"kty\":\"RSA\",\"kid\":\"r\",\"n\":\"%s\",\"e\":\"%s\"%s}", n, e, extra) < 0)
                abort();
        free(n);
        free(e);
        return out;
}

static char *ec_jwk(EVP_PKEY *k, const char *crv, const char *extra) {
        char *x, *y, *out = NULL;

        ec_xy(k, &x, &y);
        if (asprintf(&out, "{\"kty\":\"EC\",\"crv\":\"%s\",\"x\":\"%s\",\"y\":\"%s\"%s}", crv, x, y, extra) < 0)
                abort();
        free(x);
        free(y);
        return out;
}

static char *ed_jwk(const char *extra) {
        uint8_t raw[32];
        size_t len = sizeof(raw);
        char *x, *out = NULL;

        EVP_PKEY_get_raw_public_key(ed, raw, &len);
        x = b64(raw, len);
        if (asprintf(&out, "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\"%s}", x, extra) < 0)
                abort();
        free(x);
        return out;
}

#define EXPECT_KEPT(jwk_expr, want, name)                                       \
        do {                                                                    \
                char *_j = (jwk_expr);                                          \
                int _r = parse_one(_j);                                         \
                if (_r != (want))                                               \
                        fprintf(stderr, "  %s: got %d, want %d\n", name, _r, want); \
                test_report("test-jwks.c:key", name, _r == (want));             \
                CHECK_INTEQ(_r, (want));                                        \
                free(_j);                                                       \
        } while (0)

TEST(usable_keys_kept) {
        EXPECT_KEPT(rsa_jwk(rsa, ""), 1, "rsa");
        EXPECT_KEPT(rsa_jwk(rsa, ",\"use\":\"sig\",\"alg\":\"PS256\""), 1, "rsa_use_sig_alg_ps256");
        EXPECT_KEPT(rsa_jwk(rsa, ",\"key_ops\":[\"verify\"]"), 1, "rsa_key_ops_verify");
        EXPECT_KEPT(ec_jwk(ec256, "P-256", ",\"alg\":\"ES256\""), 1, "ec_p256");
        EXPECT_KEPT(ec_jwk(ec384, "P-384", ""), 1, "ec_p384");
        EXPECT_KEPT(ec_jwk(ec521, "P-521", ",\"alg\":\"ES512\""), 1, "ec_p521");
        EXPECT_KEPT(ed_jwk(",\"alg\":\"EdDSA\""), 1, "ed25519");
        /* Private members are ignored (and the key stays public: it cannot sign). */
        EXPECT_KEPT(rsa_jwk(rsa, ",\"d\":\"AAAA\",\"p\":\"AAAA\",\"q\":\"AAAA\""), 1, "rsa_with_private_members");
        /* Unknown members are fine. */
        EXPECT_KEPT(rsa_jwk(rsa, ",\"x5t\":\"abc\",\"x5c\":[\"AAAA\"],\"ext\":true"), 1, "rsa_extra_members");
}

TEST(unusable_keys_skipped) {
        EXPECT_KEPT(rsa_jwk(rsa, ",\"use\":\"enc\""), -ENOKEY, "use_enc");
        EXPECT_KEPT(rsa_jwk(rsa, ",\"use\":5"), -ENOKEY, "use_number");
        EXPECT_KEPT(rsa_jwk(rsa, ",\"key_ops\":[\"encrypt\"]"), -ENOKEY, "key_ops_encrypt");
        EXPECT_KEPT(rsa_jwk(rsa, ",\"key_ops\":\"verify\""), -ENOKEY, "key_ops_not_array");
        EXPECT_KEPT(rsa_jwk(rsa, ",\"alg\":\"RSA-OAEP\""), -ENOKEY, "alg_rsa_oaep");
        EXPECT_KEPT(rsa_jwk(rsa, ",\"alg\":\"HS256\""), -ENOKEY, "alg_hs256_on_rsa");
        EXPECT_KEPT(rsa_jwk(rsa, ",\"alg\":\"none\""), -ENOKEY, "alg_none");
        EXPECT_KEPT(rsa_jwk(rsa, ",\"alg\":\"ES256\""), -ENOKEY, "alg_es256_on_rsa");
        EXPECT_KEPT(ec_jwk(ec256, "P-256", ",\"alg\":\"ES384\""), -ENOKEY, "alg_es384_on_p256");
        EXPECT_KEPT(ec_jwk(ec521, "P-521", ",\"alg\":\"ES521\""), -ENOKEY, "alg_es521_typo");
        EXPECT_KEPT(ed_jwk(",\"alg\":\"ES256\""), -ENOKEY, "alg_es256_on_okp");
        EXPECT_KEPT(rsa_jwk(rsa1024, ""), -ENOKEY, "rsa_1024");
        EXPECT_KEPT(strdup("{\"kty\":\"oct\",\"k\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\",\"alg\":\"HS256\"}"), -ENOKEY, "oct");
        EXPECT_KEPT(strdup("{\"kty\":\"RSA\"}"), -ENOKEY, "rsa_without_n_e");
        EXPECT_KEPT(strdup("{\"n\":\"AQAB\",\"e\":\"AQAB\"}"), -ENOKEY, "no_kty");
        EXPECT_KEPT(strdup("{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}"), -ENOKEY, "x25519");
        EXPECT_KEPT(strdup("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"AAAA\"}"), -ENOKEY, "ed25519_short_x");
        EXPECT_KEPT(ec_jwk(ec256, "secp256k1", ""), -ENOKEY, "ec_secp256k1");
        EXPECT_KEPT(ec_jwk(ec256, "P-384", ""), -ENOKEY, "ec_p256_coords_labelled_p384");
        EXPECT_KEPT(strdup("[1]"), -ENOKEY, "key_not_object");
        {
                /* kid of 300 characters, kid as a number. */
                char kid[301], *j = rsa_jwk(rsa, ""), *k = NULL;

                memset(kid, 'k', 300);
                kid[300] = 0;
                if (asprintf(&k, "{\"kty\":\"RSA\",\"kid\":\"%s\",%s", kid, strstr(j, "\"n\"")) < 0)
                        abort();
                EXPECT_KEPT(k, -ENOKEY, "kid_too_long");
                if (asprintf(&k, "{\"kty\":\"RSA\",\"kid\":7,%s", strstr(j, "\"n\"")) < 0)
                        abort();
                EXPECT_KEPT(k, -ENOKEY, "kid_number");
                free(j);
        }
}

TEST(rsa_weak_parameters_skipped) {
        char *n = bn_param(rsa, OSSL_PKEY_PARAM_RSA_N), *j = NULL;

        /* e = 1 makes every signature "verify"; e = 2 and n even are not RSA. */
        if (asprintf(&j, "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQ\"}", n) < 0)
                abort();
        EXPECT_KEPT(j, -ENOKEY, "rsa_e_1");
        if (asprintf(&j, "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"Ag\"}", n) < 0)
                abort();
        EXPECT_KEPT(j, -ENOKEY, "rsa_e_2");
        if (asprintf(&j, "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\"}", n) < 0)
                abort();
        EXPECT_KEPT(j, 1, "rsa_e_65537_control");
        /* Padding and standard-alphabet characters in n. */
        if (asprintf(&j, "{\"kty\":\"RSA\",\"n\":\"%s=\",\"e\":\"AQAB\"}", n) < 0)
                abort();
        EXPECT_KEPT(j, -ENOKEY, "rsa_n_padded");
        {
                char *m = strdup(n);

                m[10] = '+';
                if (asprintf(&j, "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\"}", m) < 0)
                        abort();
                EXPECT_KEPT(j, -ENOKEY, "rsa_n_plus");
                free(m);
        }
        /* An even modulus of 2048 bits. */
        {
                size_t len;
                uint8_t *raw = NULL;
                char *e = NULL;

                base64url_decode(n, strlen(n), &raw, &len);
                raw[len - 1] &= 0xfe;
                e = b64(raw, len);
                if (asprintf(&j, "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\"}", e) < 0)
                        abort();
                EXPECT_KEPT(j, -ENOKEY, "rsa_n_even");
                free(e);
                free(raw);
        }
        free(n);
}

TEST(roca_fingerprint) {
        /* A modulus of the ROCA form 65537^a mod M + k·M (M = 2·3·5·…·167) carries the fingerprint;
         * moduli of keys OpenSSL generates do not. */
        static const unsigned primes[] = { 2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71,
                                           73, 79, 83, 89, 97, 101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151,
                                           157, 163, 167 };
        BN_CTX *ctx = BN_CTX_new();
        BIGNUM *m = BN_new(), *g = BN_new(), *a = BN_new(), *k = BN_new(), *n = BN_new();
        uint8_t buf[512];
        int len;

        BN_one(m);
        for (size_t i = 0; i < ELEMENTSOF(primes); i++)
                BN_mul_word(m, primes[i]);
        BN_set_word(g, 65537);
        BN_set_word(a, 123456789);
        BN_mod_exp(n, g, a, m, ctx);
        BN_rand(k, 2048 - BN_num_bits(m), BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY);
        BN_mul(k, k, m, ctx);
        BN_add(n, n, k);
        len = BN_bn2bin(n, buf);
        CHECK(jwk_rsa_is_roca(buf, (size_t) len));
        {
                char *nb = b64(buf, (size_t) len), *j = NULL;

                if (asprintf(&j, "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\"}", nb) < 0)
                        abort();
                EXPECT_KEPT(j, -ENOKEY, "rsa_roca");
                free(nb);
        }
        /* Twenty fresh keys: none flagged. */
        for (int i = 0; i < 20; i++) {
                EVP_PKEY *key = i == 0 ? rsa : EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);
                BIGNUM *kn = NULL;

                EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &kn);
                len = BN_bn2bin(kn, buf);
                CHECK(!jwk_rsa_is_roca(buf, (size_t) len));
                BN_free(kn);
                if (key != rsa)
                        EVP_PKEY_free(key);
        }
        BN_free(m);
        BN_free(g);
        BN_free(a);
        BN_free(k);
        BN_free(n);
        BN_CTX_free(ctx);
}

TEST(ec_point_off_curve_skipped) {
        char *x, *y, *j = NULL;
        uint8_t *raw = NULL;
        size_t len;

        ec_xy(ec256, &x, &y);
        base64url_decode(y, strlen(y), &raw, &len);
        raw[len - 1] ^= 0x01;
        free(y);
        y = b64(raw, len);
        if (asprintf(&j, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}", x, y) < 0)
                abort();
        EXPECT_KEPT(j, -ENOKEY, "ec_off_curve");
        /* Coordinates one byte short (leading zero dropped) are refused too. */
        if (asprintf(&j, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}", x, "AAAA") < 0)
                abort();
        EXPECT_KEPT(j, -ENOKEY, "ec_short_y");
        /* The point at infinity / all zero. */
        {
                uint8_t z[32] = {};
                char *zz = b64(z, 32);

                if (asprintf(&j, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}", zz, zz) < 0)
                        abort();
                EXPECT_KEPT(j, -ENOKEY, "ec_zero_point");
                free(zz);
        }
        free(raw);
        free(x);
        free(y);
}

static int parse_text(const char *text, Jwks **ret) {
        return jwks_parse(text, strlen(text), ret);
}

TEST(set_level_errors) {
        Jwks *j = NULL;
        char *big, *keys;
        size_t o = 0;

        CHECK_INTEQ(parse_text("", &j), -EBADMSG);
        CHECK_INTEQ(parse_text("[]", &j), -EBADMSG);
        CHECK_INTEQ(parse_text("{}", &j), -EBADMSG);
        CHECK_INTEQ(parse_text("{\"keys\":{}}", &j), -EBADMSG);
        CHECK_INTEQ(parse_text("{\"keys\":[]}", &j), -ENOKEY);
        CHECK_INTEQ(parse_text("{\"keys\":[],\"keys\":[]}", &j), -EBADMSG);      /* duplicate member */
        CHECK_INTEQ(parse_text("{\"keys\":[{\"kty\":\"RSA\",\"kty\":\"EC\"}]}", &j), -EBADMSG);
        CHECK_INTEQ(parse_text("{\"keys\":[]} x", &j), -EBADMSG);
        CHECK_INTEQ(parse_text("{\"keys\":[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]}", &j), -E2BIG);
        CHECK(j == NULL);
        big = malloc(JWKS_MAX_SIZE + 64);
        o = (size_t) sprintf(big, "{\"keys\":[],\"pad\":\"");
        memset(big + o, 'a', JWKS_MAX_SIZE);
        strcpy(big + o + JWKS_MAX_SIZE, "\"}");
        CHECK_INTEQ(parse_text(big, &j), -E2BIG);
        free(big);

        /* More than JWKS_MAX_KEYS usable keys: the first 64 are kept. */
        {
                char *one = ed_jwk("");
                size_t n = 70, l = strlen(one);

                keys = malloc(n * (l + 1) + 32);
                o = (size_t) sprintf(keys, "{\"keys\":[");
                for (size_t i = 0; i < n; i++)
                        o += (size_t) sprintf(keys + o, "%s%s", i ? "," : "", one);
                strcpy(keys + o, "]}");
                CHECK_INTEQ(parse_text(keys, &j), 0);
                CHECK_INTEQ(jwks_size(j), JWKS_MAX_KEYS);
                j = jwks_free(j);
                free(keys);
                free(one);
        }
        CHECK(jwks_free(NULL) == NULL);
        CHECK_INTEQ(jwks_size(NULL), 0);
        CHECK(!jwks_has_kid(NULL, "x"));
        CHECK(jwks_get(NULL, 0) == NULL);
}

TEST(mixed_set_and_lookup) {
        char *r = rsa_jwk(rsa, ",\"use\":\"sig\""), *e = ec_jwk(ec256, "P-256", ",\"kid\":\"e1\""), *enc = rsa_jwk(rsa, ",\"use\":\"enc\"");
        char *set = NULL;
        Jwks *j = NULL;

        /* The enc key has kid "r" as well: skipped, so "r" names one key only. */
        if (asprintf(&set, "{\"keys\":[%s,{\"kty\":\"oct\",\"k\":\"AAAA\",\"kid\":\"h\"},%s,%s]}", r, e, enc) < 0)
                abort();
        CHECK_INTEQ(parse_text(set, &j), 0);
        CHECK_INTEQ(jwks_size(j), 2);
        CHECK(jwks_has_kid(j, "r"));
        CHECK(jwks_has_kid(j, "e1"));
        CHECK(!jwks_has_kid(j, "h"));
        CHECK(!jwks_has_kid(j, "R"));
        CHECK(!jwks_has_kid(j, NULL));
        CHECK_INTEQ(jwks_get(j, 0)->kind, JWK_RSA);
        CHECK_STREQ(jwks_get(j, 0)->kid, "r");
        CHECK(jwks_get(j, 0)->alg == NULL);
        CHECK_INTEQ(jwks_get(j, 1)->kind, JWK_EC_P256);
        CHECK(jwks_get(j, 2) == NULL);
        /* A public key from a JWK cannot sign. */
        {
                uint8_t *sig = NULL;
                size_t n = 0;

                CHECK(jws_sign_raw("RS256", jwks_get(j, 0)->pkey, "x", 1, &sig, &n) < 0);
        }
        jwks_free(j);
        free(set);
        free(r);
        free(e);
        free(enc);
}

TEST(duplicate_kid_is_ambiguous) {
        /* Two usable keys under one kid: a token naming it is refused rather than guessed. */
        EVP_PKEY *other = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);
        char *a = rsa_jwk(rsa, ""), *b = rsa_jwk(other, ""), *set = NULL, *t = NULL, *reason = NULL;
        Jwks *j = NULL;

        if (asprintf(&set, "{\"keys\":[%s,%s]}", a, b) < 0)
                abort();
        CHECK_INTEQ(parse_text(set, &j), 0);
        CHECK_INTEQ(jwks_size(j), 2);
        CHECK_INTEQ(jws_sign_text(rsa, "RS256", "{\"alg\":\"RS256\",\"kid\":\"r\"}", 25, "{}", 2, &t), 0);
        CHECK_INTEQ(jws_verify(t, strlen(t), j, NULL, NULL, &reason), -EPERM);
        CHECK(reason && strstr(reason, "several keys"));
        jwks_free(j);
        EVP_PKEY_free(other);
        free(reason);
        free(set);
        free(a);
        free(b);
        free(t);
}

int main(void) {
        return run_tests();
}
