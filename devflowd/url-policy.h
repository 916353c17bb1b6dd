/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* Which URLs the daemon talks to (DESIGN §4): https with a host and no credentials, printable ASCII,
 * at most 2048 bytes; http only to a loopback host (localhost, 127/8 as one address, [::1]) and only when
 * ALLOW_HTTP_LOOPBACK. Parsed by libcurl's URL API, so what is judged is what curl will connect to. Used for
 * the configured endpoints, the discovered ones, the verification URIs an IdP sends and devflowctl's probe. */
bool url_policy_ok(const char *url, bool allow_http_loopback);
