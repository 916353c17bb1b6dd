/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <syslog.h>

#include "macro.h"
#include "text-safety.h"     /* strdup_sanitized(), for quoting what a caller or an IdP controls */

/* Daemon logging: to the journal when stderr is connected to it (JOURNAL_STREAM), to syslog (facility
 * authpriv) when stderr leads nowhere (closed or /dev/null: D-Bus activation without systemd), else plain
 * stderr lines with "<N>" SD_* prefixes. Never pass a token, device_code or secret. Every message goes
 * through text_sanitize() (common/text-safety.h) before it is written. */

typedef enum LogTarget {
        LOG_TARGET_STDERR,
        LOG_TARGET_JOURNAL,
        LOG_TARGET_SYSLOG,
} LogTarget;

/* Where the log goes when fd is stderr and journal_stream is $JOURNAL_STREAM (may be NULL). */
LogTarget log_target_for(int fd, const char *journal_stream);

void log_set_max_level(int level);
int log_get_max_level(void);
void log_open(void);
bool log_is_journal(void);

int log_internal(int level, int error, const char *file, int line, const char *func,
                 const char *format, ...) _printf_(6, 7);

#define log_full_errno(level, error, ...) \
        log_internal((level), (error), __FILE__, __LINE__, __func__, __VA_ARGS__)

#define log_debug(...)   log_full_errno(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...)    log_full_errno(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...)  log_full_errno(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...)   log_full_errno(LOG_ERR, 0, __VA_ARGS__)

/* These return -abs(error), so "return log_error_errno(r, …);" logs once and propagates. */
#define log_debug_errno(e, ...)   log_full_errno(LOG_DEBUG, (e), __VA_ARGS__)
#define log_info_errno(e, ...)    log_full_errno(LOG_INFO, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, (e), __VA_ARGS__)
#define log_error_errno(e, ...)   log_full_errno(LOG_ERR, (e), __VA_ARGS__)
#define log_oom() log_error_errno(ENOMEM, "Out of memory.")

