/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* doctor's own look at the identity provider: one GET of the discovery document (or, when the endpoints are
 * configured, of the key set) read from devflowd's configuration, with its ca_file and http_timeout, https
 * only: an answer now, not devflowd's memory of an earlier one. */

#include <stdbool.h>
#include <stdint.h>

typedef struct ProbeResult {
        char url[512];
        bool answered;          /* an HTTP answer came (any status) */
        long status;            /* the HTTP status when answered */
        uint64_t elapsed_usec;
        char error[256];        /* curl's reason when not answered */
} ProbeResult;

/* Loads the configuration at config_path (and its drop-ins) as devflowd does and probes the IdP it names.
 * Returns 0 with *ret filled (answered or not), -EINVAL when the configuration does not load (doctor's
 * config check reports why), -ENOMEM. */
int probe_idp(const char *config_path, ProbeResult *ret);
