/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Output helpers shared by devflowctl's commands: JSON text, time spans, terminal-safe strings, and the
 * mapping from bus errors to exit codes. No bus calls here. */

#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <systemd/sd-bus.h>

#include "macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(FILE *, fclose);
DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir);

/* Exit codes (devflowctl(1)). */
#define EXIT_OK         0
#define EXIT_FAILURE_   1       /* failure, refused, or doctor found errors */
#define EXIT_USAGE      2
#define EXIT_NO_DAEMON  3
#define EXIT_NOT_PERMITTED 4    /* the daemon said NotPermitted, or doctor not run as root */

/* Writes s as a JSON string literal (quotes included); NULL is written as null. */
void json_print_string(FILE *f, const char *s);

/* Writes s sanitized as the daemon's logs are (common/text-safety.h: controls, C1, bidi and invisible
 * characters, invalid UTF-8 become '?'): what a caller or an IdP controls never reaches the terminal as an
 * escape sequence or as text that reads otherwise than it is. */
void print_sanitized(FILE *f, const char *s);

/* "1h 2min 3s", "450ms", "0s"; "never" for UINT64_MAX. Returns buf. */
char *format_timespan(char *buf, size_t size, uint64_t usec);

/* True when the bus error means "the daemon is not there" (not running, not activatable, gone). */
bool bus_error_is_no_daemon(const sd_bus_error *e, int r);

/* Prints the failure of a bus call (text or JSON on stdout / stderr) and returns the exit code for it:
 * EXIT_NO_DAEMON when the daemon is not reachable, EXIT_NOT_PERMITTED when the caller may not do this,
 * else EXIT_FAILURE_. */
int report_bus_error(const char *what, const sd_bus_error *e, int r, bool json);

/* Opens the system bus (DBUS_SYSTEM_BUS_ADDRESS honoured). On failure prints why and returns -errno. */
int ctl_bus_open(sd_bus **ret, bool json);

static inline bool empty_or_null(const char *s) {
        return !s || !*s;
}
