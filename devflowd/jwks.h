/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* A JSON Web Key Set (RFC 7517) as the issuer publishes it at jwks_uri: only public signature keys are
 * kept (RSA >= 2048 bits, EC P-256/384/521 on the curve, OKP Ed25519); private members are ignored and
 * never logged. Keys only ever come from the configured issuer's JWKS. */

typedef struct Jwks Jwks;

#define JWKS_MAX_SIZE (64U * 1024U)

/* -EBADMSG when not a key set, -ENOKEY when it holds no usable key. */
int jwks_parse(const char *json, size_t len, Jwks **ret);
Jwks *jwks_free(Jwks *j);
size_t jwks_size(const Jwks *j);
bool jwks_has_kid(const Jwks *j, const char *kid);
