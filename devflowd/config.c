/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Placeholder until the parser lands: keeps the tree building. */
#include <errno.h>
#include <stdlib.h>
#include "config.h"
#include "macro.h"
Config *config_new(void) { return calloc(1, sizeof(Config)); }
Config *config_free(Config *c) { free(c); return NULL; }
int config_load(const char *path, Config **ret, ConfigErrors *ret_errors) { return -EOPNOTSUPP; }
void config_errors_print(const ConfigErrors *errors, FILE *f) {}
void config_errors_done(ConfigErrors *errors) {}
