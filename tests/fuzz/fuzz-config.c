/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: arbitrary bytes as a devflowd.conf. Must never crash, leak or hang. */

#include <stddef.h>
#include <stdint.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        ConfigErrors errors = {};
        Config *c = config_new();

        if (!c)
                return 0;
        (void) config_parse_text(c, "fuzz.conf", (const char *) data, size, &errors);
        (void) config_verify(c, "fuzz.conf", &errors);
        config_errors_done(&errors);
        config_free(c);
        return 0;
}
