/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <openssl/obj_mac.h>
#include <stdlib.h>
#include <string.h>

#include "jwa.h"
#include "macro.h"

/* RFC 7518 §3.1 and RFC 8037 §3.1: the asymmetric algorithms, nothing else. The order is the order of the
 * default allow-list. */
static const JwaAlg jwa_algs[] = {
        { "RS256", JWK_RSA,     "SHA256", JWA_PAD_PKCS1, 0  },
        { "RS384", JWK_RSA,     "SHA384", JWA_PAD_PKCS1, 0  },
        { "RS512", JWK_RSA,     "SHA512", JWA_PAD_PKCS1, 0  },
        { "PS256", JWK_RSA,     "SHA256", JWA_PAD_PSS,   0  },
        { "PS384", JWK_RSA,     "SHA384", JWA_PAD_PSS,   0  },
        { "PS512", JWK_RSA,     "SHA512", JWA_PAD_PSS,   0  },
        { "ES256", JWK_EC_P256, "SHA256", JWA_PAD_NONE,  32 },
        { "ES384", JWK_EC_P384, "SHA384", JWA_PAD_NONE,  48 },
        { "ES512", JWK_EC_P521, "SHA512", JWA_PAD_NONE,  66 },
        { "EdDSA", JWK_ED25519, NULL,     JWA_PAD_NONE,  0  },
};

static const JwaCurve jwa_curves[] = {
        { "EC",  "P-256",   "prime256v1", NID_X9_62_prime256v1, 32, JWK_EC_P256 },
        { "EC",  "P-384",   "secp384r1",  NID_secp384r1,        48, JWK_EC_P384 },
        { "EC",  "P-521",   "secp521r1",  NID_secp521r1,        66, JWK_EC_P521 },
        { "OKP", "Ed25519", NULL,         0,                    32, JWK_ED25519 },
};

/* What jws_sign uses when no algorithm is given, one per kind. */
static const char *const default_alg_of_kind[_JWK_KIND_MAX] = {
        [JWK_RSA]     = "RS256",
        [JWK_EC_P256] = "ES256",
        [JWK_EC_P384] = "ES384",
        [JWK_EC_P521] = "ES512",
        [JWK_ED25519] = "EdDSA",
};

const JwaAlg *jwa_alg_from_string(const char *name) {
        if (!name)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(jwa_algs); i++)
                if (streq(jwa_algs[i].name, name))
                        return &jwa_algs[i];
        return NULL;
}

const JwaAlg *jwa_alg_get(size_t i) {
        return i < ELEMENTSOF(jwa_algs) ? &jwa_algs[i] : NULL;
}

bool jwa_alg_fits_kind(const JwaAlg *a, JwkKind kind) {
        return a && kind >= 0 && kind < _JWK_KIND_MAX && a->kind == kind;
}

const JwaAlg *jwa_default_alg(JwkKind kind) {
        if (kind < 0 || kind >= _JWK_KIND_MAX)
                return NULL;
        return jwa_alg_from_string(default_alg_of_kind[kind]);
}

const JwaCurve *jwa_curve_from_string(const char *kty, const char *crv) {
        if (!kty || !crv)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(jwa_curves); i++)
                if (streq(jwa_curves[i].kty, kty) && streq(jwa_curves[i].crv, crv))
                        return &jwa_curves[i];
        return NULL;
}

const JwaCurve *jwa_curve_of_kind(JwkKind kind) {
        for (size_t i = 0; i < ELEMENTSOF(jwa_curves); i++)
                if (jwa_curves[i].kind == kind)
                        return &jwa_curves[i];
        return NULL;
}

JwkKind jwa_kind_of_pkey(EVP_PKEY *pkey) {
        char group[64];

        if (!pkey)
                return _JWK_KIND_INVALID;
        switch (EVP_PKEY_get_base_id(pkey)) {
        case EVP_PKEY_RSA:
                return JWK_RSA;
        case EVP_PKEY_ED25519:
                return JWK_ED25519;
        case EVP_PKEY_EC:
                if (EVP_PKEY_get_group_name(pkey, group, sizeof(group), NULL) != 1)
                        return _JWK_KIND_INVALID;
                for (size_t i = 0; i < ELEMENTSOF(jwa_curves); i++)
                        if (jwa_curves[i].group && streq(group, jwa_curves[i].group))
                                return jwa_curves[i].kind;
                return _JWK_KIND_INVALID;
        default:
                return _JWK_KIND_INVALID;
        }
}

char **jwa_alg_names_strv(void) {
        char **l = calloc(ELEMENTSOF(jwa_algs) + 1, sizeof(char *));

        if (!l)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(jwa_algs); i++) {
                l[i] = strdup(jwa_algs[i].name);
                if (!l[i])
                        return strv_free(l);
        }
        return l;
}

char *jwa_alg_names_string(void) {
        size_t n = 0;
        char *s;

        for (size_t i = 0; i < ELEMENTSOF(jwa_algs); i++)
                n += strlen(jwa_algs[i].name) + 1;
        s = malloc(n);
        if (!s)
                return NULL;
        s[0] = '\0';
        for (size_t i = 0; i < ELEMENTSOF(jwa_algs); i++) {
                if (i > 0)
                        strcat(s, " ");
                strcat(s, jwa_algs[i].name);
        }
        return s;
}
