/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Placeholder until the JWS implementation lands: refuses everything (fail closed). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "idtoken.h"
#include "jws.h"

int jwks_parse(const char *json, size_t len, Jwks **ret) { return -EOPNOTSUPP; }
Jwks *jwks_free(Jwks *j) { return NULL; }
size_t jwks_size(const Jwks *j) { return 0; }
bool jwks_has_kid(const Jwks *j, const char *kid) { return false; }
int jws_verify(const char *compact, size_t len, const Jwks *keys, char *const *allowed_algs,
               json_object **ret_payload, char **ret_reason) { return -EOPNOTSUPP; }
int jws_sign(EVP_PKEY *key, const char *alg, const char *kid, json_object *payload, char **ret_compact) {
        return -EOPNOTSUPP;
}
int jws_load_private_key_pem(const char *pem, size_t len, EVP_PKEY **ret) { return -EOPNOTSUPP; }
int jws_client_assertion(EVP_PKEY *key, const char *client_id, const char *audience, uint64_t now_usec,
                         char **ret) { return -EOPNOTSUPP; }
int idtoken_validate(const char *token, const Jwks *keys, const IdTokenCheck *c, json_object **ret_claims,
                     char **ret_reason) {
        if (ret_reason)
                *ret_reason = strdup("ID token validation is not built yet");
        return -EOPNOTSUPP;
}
