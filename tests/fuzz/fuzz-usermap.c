/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: arbitrary bytes as a map_file, and each line as an allowed_rhosts rule. */

#include <stdlib.h>
#include <string.h>

#include "netaddr.h"
#include "usermap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        UserMap *m = NULL;
        char *err = NULL, *text;
        NetRule rule;

        if (usermap_parse((const char *) data, size, "fuzz.map", &m, &err) >= 0)
                (void) usermap_lookup(m, "alice@example.com");
        usermap_free(m);
        free(err);

        text = strndup((const char *) data, size);
        if (!text)
                return 0;
        for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
                if (netaddr_parse_rule(line, &rule) >= 0)
                        (void) netaddr_rule_matches(&rule, "192.0.2.1");
        free(text);
        return 0;
}
