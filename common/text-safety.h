/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* What may be quoted in a log line or shown on a terminal, for text that a caller, a user or an IdP
 * controls. The one rule for the daemon's logs and audit events, the module's messages and logs. */

/* True for a code point that must not reach a log or a terminal as it is: C0 controls, DEL, C1
 * controls (U+0080–U+009F, CSI and OSC to many terminals), and the invisible format characters that
 * reorder or hide text (bidi embeddings, overrides and isolates, zero-width characters, BOM, tags…:
 * "Trojan Source", CVE-2021-42574). */
bool text_char_is_unsafe(uint32_t cp);

/* Rewrites S in place: each unsafe code point, and each byte that is not part of valid UTF-8, becomes
 * '?'. The result is never longer than S. S may be NULL. */
void text_sanitize(char *s);

/* A sanitized copy of S ("" for NULL), or NULL on ENOMEM. */
char *strdup_sanitized(const char *s);
