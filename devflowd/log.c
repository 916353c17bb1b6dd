/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <syslog.h>
#include <systemd/sd-journal.h>

#include "log.h"
#include "text-safety.h"

static int log_max_level = LOG_INFO;
static int log_to_journal = -1;         /* -1: not decided yet; else 1 for the journal, 0 otherwise */
static LogTarget log_target = LOG_TARGET_STDERR;

void log_set_max_level(int level) {
        log_max_level = level;
}

int log_get_max_level(void) {
        return log_max_level;
}

LogTarget log_target_for(int fd, const char *journal_stream) {
        unsigned long long dev, ino;
        struct stat st;

        /* Closed: nothing would ever read it. */
        if (fstat(fd, &st) < 0)
                return LOG_TARGET_SYSLOG;
        /* systemd sets JOURNAL_STREAM=dev:ino when stderr goes to the journal; only then log natively. */
        if (journal_stream && sscanf(journal_stream, "%llu:%llu", &dev, &ino) == 2 &&
            (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino)
                return LOG_TARGET_JOURNAL;
        /* /dev/null (char device 1:3): what dbus-daemon gives a service it activates itself, without
         * systemd. The audit events must land somewhere an admin looks: syslog. */
        if (S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == 3)
                return LOG_TARGET_SYSLOG;
        return LOG_TARGET_STDERR;
}

void log_open(void) {
        log_target = log_target_for(STDERR_FILENO, getenv("JOURNAL_STREAM"));
        log_to_journal = log_target == LOG_TARGET_JOURNAL;
        if (log_target == LOG_TARGET_SYSLOG)
                openlog("devflowd", LOG_PID | LOG_NDELAY, LOG_AUTHPRIV);
}

bool log_is_journal(void) {
        if (log_to_journal < 0)
                log_open();
        return log_to_journal > 0;
}

int log_internal(int level, int error, const char *file, int line, const char *func,
                 const char *format, ...) {
        char buf[2048];
        va_list ap;
        int saved = errno;

        if (error < 0)
                error = -error;
        if (level > log_max_level)
                return -error;

        errno = error;
        va_start(ap, format);
        (void) vsnprintf(buf, sizeof buf, format, ap);
        va_end(ap);
        /* Whatever a caller, a user or an IdP put into the arguments: no control, bidi or invisible
         * characters reach the log, and a sequence cut by the buffer's end becomes '?'. */
        text_sanitize(buf);

        if (log_to_journal < 0)
                log_open();
        if (log_to_journal > 0)
                (void) sd_journal_send("MESSAGE=%s", buf, "PRIORITY=%i", level,
                                       "CODE_FILE=%s", file, "CODE_LINE=%i", line, "CODE_FUNC=%s", func,
                                       error > 0 ? "ERRNO=%i" : NULL, error, NULL);
        else if (log_target == LOG_TARGET_SYSLOG)
                syslog(level, "%s", buf);
        else
                (void) fprintf(stderr, "<%i>%s\n", level, buf);

        errno = saved;
        return -error;
}
