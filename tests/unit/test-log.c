/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "test.h"

/* D-Bus activation without systemd leaves stderr on /dev/null: the log (and the audit events) go to syslog
 * then, not into nothing. */
TEST(log_target_follows_stderr) {
        _cleanup_free_ char *stream = NULL;
        char path[] = "/tmp/devflow-test-log.XXXXXX";
        struct stat st;
        int null, fd, p[2];

        null = open("/dev/null", O_WRONLY | O_CLOEXEC);
        CHECK(null >= 0);
        CHECK_INTEQ(log_target_for(null, NULL), LOG_TARGET_SYSLOG);
        CHECK_INTEQ(log_target_for(null, "1:2"), LOG_TARGET_SYSLOG);
        close(null);
        /* a closed descriptor */
        CHECK_INTEQ(log_target_for(null, NULL), LOG_TARGET_SYSLOG);

        CHECK_INTEQ(pipe2(p, O_CLOEXEC), 0);
        CHECK_INTEQ(log_target_for(p[1], NULL), LOG_TARGET_STDERR);
        close(p[0]);
        close(p[1]);

        fd = mkstemp(path);
        CHECK(fd >= 0);
        CHECK_INTEQ(fstat(fd, &st), 0);
        CHECK_INTEQ(log_target_for(fd, NULL), LOG_TARGET_STDERR);
        CHECK(asprintf(&stream, "%llu:%llu", (unsigned long long) st.st_dev, (unsigned long long) st.st_ino) > 0);
        CHECK_INTEQ(log_target_for(fd, stream), LOG_TARGET_JOURNAL);
        CHECK_INTEQ(log_target_for(fd, "0:0"), LOG_TARGET_STDERR);
        close(fd);
        unlink(path);
}

/* The whole line is sanitised, whatever the call site quoted: a caller's rhost with U+009B and U+202E. */
TEST(log_lines_are_sanitized) {
        char buf[512] = "";
        FILE *f = tmpfile();
        int saved = dup(STDERR_FILENO);
        size_t n;

        CHECK(f && saved >= 0);
        if (!f || saved < 0)
                return;
        (void) unsetenv("JOURNAL_STREAM");
        fflush(stderr);
        CHECK(dup2(fileno(f), STDERR_FILENO) >= 0);
        log_open();             /* stderr is a file now: plain lines, not syslog */
        log_info("Flow 1: from '%s' (service '%s') started.", "198.51.100.9\xc2\x9b" "31m\xe2\x80\xae" "evil",
                 "ssh\xe2\x81\xa6" "d\x1b[2J");
        fflush(stderr);
        CHECK(dup2(saved, STDERR_FILENO) >= 0);
        close(saved);
        rewind(f);
        n = fread(buf, 1, sizeof buf - 1, f);
        buf[n] = 0;
        fclose(f);
        CHECK_STREQ(buf, "<6>Flow 1: from '198.51.100.9?31m?evil' (service 'ssh?d?[2J') started.\n");
}

int main(void) {
        return run_tests();
}
