/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>

/* JSON Web Algorithms (RFC 7518 §3, §6; RFC 8037): the kinds of key, the signature algorithms and the curves
 * this project accepts, in one table. Asymmetric signatures only: none and HS* are no algorithm here, and no
 * name is matched by its first letters. jws.c signs and verifies with it, jwks.c checks keys against it and
 * config.c validates id_token_algs with it. Pure: no I/O. */

#define JWK_RSA_MIN_BITS 2048
#define JWK_RSA_MAX_BITS 16384

typedef enum JwkKind {
        JWK_RSA,
        JWK_EC_P256,
        JWK_EC_P384,
        JWK_EC_P521,
        JWK_ED25519,
        _JWK_KIND_MAX,
        _JWK_KIND_INVALID = -EINVAL,
} JwkKind;

typedef enum JwaPadding {
        JWA_PAD_NONE,
        JWA_PAD_PKCS1,
        JWA_PAD_PSS,
} JwaPadding;

/* One signature algorithm (RFC 7518 §3.1, RFC 8037 §3.1). */
typedef struct JwaAlg {
        const char *name;
        JwkKind kind;           /* the one kind of key it works with */
        const char *md;         /* NULL for EdDSA (PureEdDSA hashes internally) */
        JwaPadding padding;
        size_t ec_size;         /* ECDSA: size of r and of s, 0 otherwise */
} JwaAlg;

/* One curve of a JWK (RFC 7518 §6.2.1.1, RFC 8037 §2). */
typedef struct JwaCurve {
        const char *kty;        /* "EC" or "OKP" */
        const char *crv;        /* its JWK name */
        const char *group;      /* OpenSSL's group name, NULL for OKP */
        int nid;                /* OpenSSL's NID for EC, 0 for OKP */
        size_t coord_size;      /* bytes of each coordinate (EC) or of the key (OKP) */
        JwkKind kind;
} JwaCurve;

/* The algorithm called exactly NAME (case-sensitive), NULL for anything else: none, HS*, unknown, NULL. */
const JwaAlg *jwa_alg_from_string(const char *name);

/* Algorithm number I of the table (0 <= I), NULL past the end. */
const JwaAlg *jwa_alg_get(size_t i);

/* Whether A can be used with a key of KIND (RSA algorithms with RSA, each ECDSA one with its curve). */
bool jwa_alg_fits_kind(const JwaAlg *a, JwkKind kind);

/* The algorithm to sign with when none is asked for: RS256 for RSA, ES256/384/512 by curve, EdDSA for
 * Ed25519; NULL for an invalid KIND. */
const JwaAlg *jwa_default_alg(JwkKind kind);

/* The curve of key type KTY called CRV, or the curve of KIND; NULL when none fits. */
const JwaCurve *jwa_curve_from_string(const char *kty, const char *crv);
const JwaCurve *jwa_curve_of_kind(JwkKind kind);

/* The kind of a public or private key as built by OpenSSL, or _JWK_KIND_INVALID for anything else
 * (RSA-PSS-restricted keys, other curves, X25519 …). */
JwkKind jwa_kind_of_pkey(EVP_PKEY *pkey);

/* Every algorithm's name (the default allow-list) as a new NULL-terminated strv, and as one new string
 * separated by spaces (for messages). NULL when out of memory. */
char **jwa_alg_names_strv(void);
char *jwa_alg_names_string(void);
