/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "jwa.h"
#include "macro.h"
#include "test.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_PKEY *, EVP_PKEY_free);

TEST(from_string_exact) {
        static const char *const good[] = {
                "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
        };
        /* Never by prefix, first letters or case: "RSA", "PS", "rs256" are no algorithms. */
        static const char *const bad[] = {
                "none", "None", "HS256", "HS384", "HS512", "rs256", "RS", "RSA", "PS", "ES", "ES256K", "RS1",
                "EdDSA ", " RS256", "ed25519", "Ed25519", "RSA-OAEP", "", "RS2560",
        };

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                CHECK(jwa_alg_from_string(good[i]) != NULL);
                CHECK_STREQ(jwa_alg_from_string(good[i])->name, good[i]);
                CHECK(jwa_alg_get(i) == jwa_alg_from_string(good[i]));
        }
        CHECK(jwa_alg_get(ELEMENTSOF(good)) == NULL);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                CHECK(jwa_alg_from_string(bad[i]) == NULL);
        CHECK(jwa_alg_from_string(NULL) == NULL);
}

TEST(fits_kind) {
        static const struct {
                const char *alg;
                JwkKind kind;
        } fits[] = {
                { "RS256", JWK_RSA }, { "RS384", JWK_RSA }, { "RS512", JWK_RSA },
                { "PS256", JWK_RSA }, { "PS384", JWK_RSA }, { "PS512", JWK_RSA },
                { "ES256", JWK_EC_P256 }, { "ES384", JWK_EC_P384 }, { "ES512", JWK_EC_P521 },
                { "EdDSA", JWK_ED25519 },
        };

        for (size_t i = 0; i < ELEMENTSOF(fits); i++)
                for (JwkKind k = 0; k < _JWK_KIND_MAX; k++)
                        CHECK(jwa_alg_fits_kind(jwa_alg_from_string(fits[i].alg), k) == (k == fits[i].kind));
        CHECK(!jwa_alg_fits_kind(jwa_alg_from_string("RS256"), _JWK_KIND_INVALID));
        CHECK(!jwa_alg_fits_kind(NULL, JWK_RSA));
}

TEST(defaults) {
        CHECK_STREQ(jwa_default_alg(JWK_RSA)->name, "RS256");
        CHECK_STREQ(jwa_default_alg(JWK_EC_P256)->name, "ES256");
        CHECK_STREQ(jwa_default_alg(JWK_EC_P384)->name, "ES384");
        CHECK_STREQ(jwa_default_alg(JWK_EC_P521)->name, "ES512");
        CHECK_STREQ(jwa_default_alg(JWK_ED25519)->name, "EdDSA");
        CHECK(jwa_default_alg(_JWK_KIND_INVALID) == NULL);
        CHECK(jwa_default_alg(_JWK_KIND_MAX) == NULL);
        for (JwkKind k = 0; k < _JWK_KIND_MAX; k++)
                CHECK(jwa_alg_fits_kind(jwa_default_alg(k), k));
}

TEST(curves) {
        CHECK_INTEQ(jwa_curve_from_string("EC", "P-256")->kind, JWK_EC_P256);
        CHECK_INTEQ(jwa_curve_from_string("EC", "P-384")->coord_size, 48);
        CHECK_INTEQ(jwa_curve_from_string("EC", "P-521")->coord_size, 66);
        CHECK_INTEQ(jwa_curve_from_string("OKP", "Ed25519")->kind, JWK_ED25519);
        CHECK(jwa_curve_from_string("EC", "Ed25519") == NULL);
        CHECK(jwa_curve_from_string("OKP", "P-256") == NULL);
        CHECK(jwa_curve_from_string("EC", "secp256k1") == NULL);
        CHECK(jwa_curve_from_string("OKP", "X25519") == NULL);
        CHECK(jwa_curve_from_string("EC", "p-256") == NULL);
        CHECK(jwa_curve_from_string(NULL, "P-256") == NULL);
        CHECK(jwa_curve_from_string("EC", NULL) == NULL);
        CHECK(jwa_curve_of_kind(JWK_RSA) == NULL);
        CHECK_STREQ(jwa_curve_of_kind(JWK_EC_P521)->crv, "P-521");
        /* Each ECDSA algorithm's r and s are as long as its curve's coordinates. */
        for (size_t i = 0; jwa_alg_get(i); i++)
                if (jwa_alg_get(i)->ec_size > 0)
                        CHECK_INTEQ(jwa_alg_get(i)->ec_size, jwa_curve_of_kind(jwa_alg_get(i)->kind)->coord_size);
}

static EVP_PKEY *gen(const char *type, const char *param) {
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
        EVP_PKEY *k = NULL;

        if (!ctx || EVP_PKEY_keygen_init(ctx) != 1)
                abort();
        if (param && streq(type, "EC") && EVP_PKEY_CTX_set_group_name(ctx, param) != 1)
                abort();
        if (EVP_PKEY_generate(ctx, &k) != 1)
                abort();
        EVP_PKEY_CTX_free(ctx);
        return k;
}

TEST(kind_of_pkey) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *rsa = gen("RSA", NULL), *p256 = gen("EC", "P-256"),
                *p384 = gen("EC", "P-384"), *p521 = gen("EC", "P-521"), *k1 = gen("EC", "secp256k1"),
                *ed = gen("ED25519", NULL), *x = gen("X25519", NULL), *pss = gen("RSA-PSS", NULL);

        CHECK_INTEQ(jwa_kind_of_pkey(rsa), JWK_RSA);
        CHECK_INTEQ(jwa_kind_of_pkey(p256), JWK_EC_P256);
        CHECK_INTEQ(jwa_kind_of_pkey(p384), JWK_EC_P384);
        CHECK_INTEQ(jwa_kind_of_pkey(p521), JWK_EC_P521);
        CHECK_INTEQ(jwa_kind_of_pkey(ed), JWK_ED25519);
        CHECK_INTEQ(jwa_kind_of_pkey(k1), _JWK_KIND_INVALID);
        CHECK_INTEQ(jwa_kind_of_pkey(x), _JWK_KIND_INVALID);
        CHECK_INTEQ(jwa_kind_of_pkey(pss), _JWK_KIND_INVALID);
        CHECK_INTEQ(jwa_kind_of_pkey(NULL), _JWK_KIND_INVALID);
}

TEST(names) {
        _cleanup_strv_free_ char **l = jwa_alg_names_strv();
        _cleanup_free_ char *s = jwa_alg_names_string();
        size_t n = 0;

        CHECK(l != NULL);
        for (; l && l[n]; n++)
                CHECK_STREQ(l[n], jwa_alg_get(n)->name);
        CHECK(jwa_alg_get(n) == NULL);
        CHECK_STREQ(s, "RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA");
}

int main(void) {
        return run_tests();
}
