/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-journal.h>

#include "log.h"
#include "text-safety.h"

static int log_max_level = LOG_INFO;
static int log_to_journal = -1;

void log_set_max_level(int level) {
        log_max_level = level;
}

int log_get_max_level(void) {
        return log_max_level;
}

/* systemd sets JOURNAL_STREAM=dev:ino when stderr goes to the journal; only then log natively. */
void log_open(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        log_to_journal = 0;
        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return;
        if (fstat(STDERR_FILENO, &st) < 0)
                return;
        log_to_journal = (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
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
        else
                (void) fprintf(stderr, "<%i>%s\n", level, buf);

        errno = saved;
        return -error;
}
