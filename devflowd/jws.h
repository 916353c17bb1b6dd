/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "jwa.h"
#include "jwks.h"

/* JSON Web Signature (RFC 7515), compact serialisation only, asymmetric algorithms only, verified with
 * OpenSSL 3 EVP. Pure functions: no I/O. */

#define JWS_MAX_SIZE (16U * 1024U)

/* Verify COMPACT against KEYS with an algorithm from ALLOWED_ALGS (NULL-terminated; NULL means every
 * algorithm of jwa.h; none and HS* are refused whatever it says). On success the payload object. -ENOKEY when
 * no key of the set matches the token's kid (the caller may refetch the JWKS once); other -errno otherwise
 * (-EBADMSG malformed or bad signature, -E2BIG too large or too deep, -EPERM refused by policy), with a short
 * reason for the debug log (never the token itself) in *ret_reason. */
int jws_verify(const char *compact, size_t len, const Jwks *keys, char *const *allowed_algs,
               json_object **ret_payload, char **ret_reason);

/* The same, but the payload is returned as bytes (NUL-terminated, not counted in *ret_payload_size) and
 * need not be JSON. */
int jws_verify_bytes(const char *compact, size_t len, const Jwks *keys, char *const *allowed_algs,
                     uint8_t **ret_payload, size_t *ret_payload_size, char **ret_reason);

/* The signature primitive under jws_verify: 0 when SIG is a valid ALG signature of DATA by KEY, -EBADMSG
 * when not, -EPERM when KEY does not fit ALG (type, curve, RSA under 2048 bits), -EINVAL for an unknown or
 * refused ALG. ECDSA signatures are JOSE r‖s of exactly twice the order's size with r, s in [1, n−1]. */
int jws_verify_raw(const char *alg, EVP_PKEY *key, const void *data, size_t size, const void *sig,
                   size_t sig_size);

/* Sign PAYLOAD as a compact JWS with KEY (alg RS256 for RSA, ES256/384/512 by curve, EdDSA for Ed25519 when
 * alg is NULL). */
int jws_sign(EVP_PKEY *key, const char *alg, const char *kid, json_object *payload, char **ret_compact);

/* Sign DATA with KEY and ALG, giving the JWS signature bytes (r‖s for ECDSA). */
int jws_sign_raw(const char *alg, EVP_PKEY *key, const void *data, size_t size, uint8_t **ret_sig,
                 size_t *ret_sig_size);

/* A PEM private key (PKCS#8 or traditional, unencrypted): RSA >= 2048 bits, EC P-256/384/521 or Ed25519. */
int jws_load_private_key_pem(const char *pem, size_t len, EVP_PKEY **ret);

/* RFC 7523 client assertion for private_key_jwt: iss = sub = client_id, aud = audience, a random jti,
 * iat = now, exp = now + 60 s. */
int jws_client_assertion(EVP_PKEY *key, const char *client_id, const char *audience, uint64_t now_usec,
                         char **ret);
