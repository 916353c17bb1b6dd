/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "jwks.h"

/* JSON Web Signature (RFC 7515), compact serialisation only, asymmetric algorithms only, verified with
 * OpenSSL 3 EVP. Pure functions: no I/O. */

#define JWS_MAX_SIZE (16U * 1024U)

/* Verify COMPACT against KEYS with an algorithm from ALLOWED_ALGS (NULL-terminated; none and HS* are refused
 * whatever it says). On success the payload object. -ENOKEY when no key of the set matches the token's kid
 * (the caller may refetch the JWKS once); other -errno otherwise, with a short reason for the debug log
 * (never the token itself) in *ret_reason. */
int jws_verify(const char *compact, size_t len, const Jwks *keys, char *const *allowed_algs,
               json_object **ret_payload, char **ret_reason);

/* Sign PAYLOAD as a compact JWS with KEY (alg RS256 for RSA, ES256/384/512 by curve, EdDSA for Ed25519 when
 * alg is NULL). */
int jws_sign(EVP_PKEY *key, const char *alg, const char *kid, json_object *payload, char **ret_compact);

int jws_load_private_key_pem(const char *pem, size_t len, EVP_PKEY **ret);

/* RFC 7523 client assertion for private_key_jwt: iss = sub = client_id, aud = audience, a random jti,
 * iat = now, exp = now + 60 s. */
int jws_client_assertion(EVP_PKEY *key, const char *client_id, const char *audience, uint64_t now_usec,
                         char **ret);
