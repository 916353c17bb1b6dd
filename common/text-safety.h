/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

/* What may be quoted in a log line or shown on a terminal, for text that a caller, a user or an IdP
 * controls. The one rule (text_char_is_unsafe) and its two modes, for the daemon's logs and audit events,
 * devflowctl's output, the module's messages and logs:
 *  - replace: each unsafe code point or invalid byte becomes '?' (text_sanitize, strdup_sanitized,
 *    text_fputs, text_quote): the reader sees that something was there;
 *  - strip: unsafe characters and whole escape sequences are dropped (text_strip): what a user reads at
 *    the login prompt, where a '?' per byte of an escape sequence would be noise. */

/* True for a code point that must not reach a log or a terminal as it is: C0 controls, DEL, C1
 * controls (U+0080–U+009F, CSI and OSC to many terminals), and the invisible format characters that
 * reorder or hide text (bidi embeddings, overrides and isolates, zero-width characters, BOM, tags…:
 * "Trojan Source", CVE-2021-42574). */
bool text_char_is_unsafe(uint32_t cp);

/* True when S is valid UTF-8 with no unsafe code point: what text_sanitize() would leave as it is. The bus
 * boundary refuses what fails it, as hostnamed does with what a caller sends. */
bool text_is_safe(const char *s);

/* Rewrites S in place: each unsafe code point, and each byte that is not part of valid UTF-8, becomes
 * '?'. The result is never longer than S. S may be NULL. */
void text_sanitize(char *s);

/* A sanitized copy of S ("" for NULL), or NULL on ENOMEM. */
char *strdup_sanitized(const char *s);

/* Writes S to F as text_sanitize() would rewrite it, without a copy. NULL writes nothing. */
void text_fputs(FILE *f, const char *s);

/* A sanitized copy of S for a message ("" for NULL), non-ASCII bytes replaced by '?' too when ascii_only
 * (text a person reads to decide: look-alikes mislead), cut at a character boundary to at most max bytes
 * ending in "..." (max < 4: not cut). NULL on ENOMEM. */
char *text_quote(const char *s, size_t max, bool ascii_only);

/* Copies S without control characters: C0 (newlines and tabs included), DEL, C1 (as UTF-8 or as raw
 * bytes), whole escape sequences (ESC [ … final, ESC ] … BEL/ST, ESC P/X/^/_ … ST, ESC + one char, and
 * their 8-bit forms), invalid UTF-8 and the invisible format characters (text_char_is_unsafe). At most
 * max bytes are kept, cut at a character boundary. NULL gives "". Returns 0 or -ENOMEM. */
int text_strip(const char *s, size_t max, char **ret);
