/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdarg.h>

#include "macro.h"

/* Why a check failed, as text for a log line, a message or an admin: the one place that formats it.
 *
 *   if (!sub)
 *           return reason_set(ret_reason, -EPERM, "no sub string");
 *
 * Unlike other ret_* parameters, a reason is written on failure: that is what it is for. ret_reason may be
 * NULL (the caller wants no text); when memory runs out *ret_reason is NULL and the error is returned all
 * the same (callers print it with strna()). %m reads errno as it was at the call. Text that an IdP, a user
 * or a file controls is quoted first (text_quote()). */

/* Formats the reason into *ret_reason (when ret_reason is not NULL) and returns error, a negative errno. */
int reason_set(char **ret_reason, int error, const char *format, ...) _printf_(3, 4);

/* The formatted text, or NULL on ENOMEM: for a reason kept in a struct (a Verdict's messages, a
 * ConfigError) or given a prefix first (file:line). */
char *reason_format(const char *format, ...) _printf_(1, 2);
char *reason_formatv(const char *format, va_list ap) _printf_(1, 0);
