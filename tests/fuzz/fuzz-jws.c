/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: arbitrary bytes as a compact JWS / ID token, verified against a fixed JWKS (the RFC 7515
 * A.2 RSA and A.3 P-256 keys, the RFC 8037 Ed25519 key). Must never crash, leak, hang or accept. */

#include <stdlib.h>
#include <string.h>

#include "base64url.h"
#include "idtoken.h"
#include "jwks.h"
#include "jws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char keys_json[] =
        "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"rsa\",\"e\":\"AQAB\",\"n\":\"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQ"
        "oTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9w"
        "Gzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6"
        "_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ\"},"
        "{\"kty\":\"EC\",\"kid\":\"ec\",\"crv\":\"P-256\",\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
        "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"},"
        "{\"kty\":\"OKP\",\"kid\":\"ed\",\"crv\":\"Ed25519\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}]}";

static Jwks *keys;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        IdTokenCheck check = {
                .issuer = "joe",
                .client_id = "client",
                .now_usec = UINT64_C(1300819000) * 1000000,
                .clock_skew_usec = 60 * UINT64_C(1000000),
                .max_iat_age_usec = 600 * UINT64_C(1000000),
        };
        json_object *payload = NULL;
        char *reason = NULL, *token;
        uint8_t *bytes = NULL;
        size_t n = 0;

        if (!keys && jwks_parse(keys_json, strlen(keys_json), &keys) < 0)
                abort();

        (void) jws_verify((const char *) data, size, keys, NULL, &payload, &reason);
        json_object_put(payload);
        free(reason);
        reason = NULL;

        if (base64url_decode((const char *) data, size, &bytes, &n) >= 0)
                free(bytes);

        /* As a NUL-terminated ID token. */
        token = strndup((const char *) data, size);
        if (!token)
                return 0;
        payload = NULL;
        if (idtoken_validate(token, keys, &check, &payload, &reason) >= 0)
                abort(); /* nothing here was signed by these keys with these claims */
        json_object_put(payload);
        free(reason);
        free(token);
        return 0;
}
