/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: arbitrary bytes as a JWKS document (and as JSON for the duplicate-member scanner).
 * Must never crash, leak or hang. */

#include <stdlib.h>

#include "json-util.h"
#include "jwks.h"
#include "jws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        json_object *o = NULL;
        Jwks *j = NULL;

        if (jwks_parse((const char *) data, size, &j) >= 0) {
                if (jwks_size(j) == 0 || jwks_size(j) > JWKS_MAX_KEYS)
                        abort();
                for (size_t i = 0; i < jwks_size(j); i++) {
                        const JwkKey *k = jwks_get(j, i);

                        if (!k->pkey || jwa_kind_of_pkey(k->pkey) != k->kind)
                                abort();
                        if (k->kid && !jwks_has_kid(j, k->kid))
                                abort();
                }
                jwks_free(j);
        }
        if (json_parse_strict((const char *) data, size, &o) >= 0)
                json_object_put(o);
        return 0;
}
