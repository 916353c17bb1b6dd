/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* doctor's sshd checks (devflowctl/doctor-sshd.c) on fixed `sshd -T` and `sshd -t` outputs: what is an
 * error with pam_devflow in sshd's stack, what only a warning without it, and the fix that goes with each. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "doctor-report.h"
#include "findings-test.h"
#include "doctor-sshd.h"
#include "macro.h"
#include "pam_devflow/args.h"
#include "test.h"

TEST(bad_setup_with_devflow) {
        _cleanup_(findings_done) Findings f = {};

        doctor_judge_sshd(&f, "port 22\nusepam no\nkbdinteractiveauthentication no\nauthenticationmethods any\n"
                          "passwordauthentication yes\nlogingracetime 60\n", /* uses_devflow= */ true, 90);
        CHECK(has(&f, "sshd.use_pam", SEVERITY_ERROR, "'no'"));
        CHECK(has(&f, "sshd.kbd_interactive", SEVERITY_ERROR, "'no'"));
        CHECK(has(&f, "sshd.authentication_methods", SEVERITY_WARNING, "'any'"));
        CHECK(has(&f, "sshd.login_grace_time", SEVERITY_ERROR, "60 s"));
        CHECK(has(&f, "sshd.login_grace_time", SEVERITY_ERROR, "90 s"));
        /* UsePAM off: sshd never checks a password through pam_devflow */
        CHECK(findings_find(&f, "sshd.password", SEVERITY_ERROR) == NULL);
        CHECK(!f.oom);
}

TEST(same_without_devflow_is_only_warnings) {
        _cleanup_(findings_done) Findings f = {};

        doctor_judge_sshd(&f, "usepam no\nkbdinteractiveauthentication no\nlogingracetime 60\n",
                          /* uses_devflow= */ false, 90);
        CHECK(has(&f, "sshd.use_pam", SEVERITY_WARNING, NULL));
        CHECK(has(&f, "sshd.kbd_interactive", SEVERITY_WARNING, NULL));
        /* without pam_devflow in sshd's stack, the module's default timeout is what would apply */
        CHECK(has(&f, "sshd.login_grace_time", SEVERITY_WARNING, "110 s"));
        CHECK_INTEQ(findings_count(&f, SEVERITY_ERROR), 0);
}

TEST(good_setup) {
        _cleanup_(findings_done) Findings f = {};

        doctor_judge_sshd(&f, "usepam yes\nkbdinteractiveauthentication yes\n"
                          "authenticationmethods publickey,keyboard-interactive keyboard-interactive\n"
                          "passwordauthentication no\nlogingracetime 180\n", true, 120);
        CHECK_INTEQ(findings_count(&f, SEVERITY_ERROR), 0);
        CHECK_INTEQ(findings_count(&f, SEVERITY_WARNING), 0);
        CHECK(has(&f, "sshd.authentication_methods", SEVERITY_OK, NULL));
        CHECK(has(&f, "sshd.password", SEVERITY_OK, "off"));
        CHECK(has(&f, "sshd.login_grace_time", SEVERITY_OK, "120 s"));
}

TEST(passwords_through_the_devflow_stack) {
        _cleanup_(findings_done) Findings f = {}, g = {}, h = {};

        doctor_judge_sshd(&f, "usepam yes\nkbdinteractiveauthentication yes\npasswordauthentication yes\n", true, 110);
        CHECK(has(&f, "sshd.password", SEVERITY_ERROR, "110 s"));
        CHECK(strstr(findings_find(&f, "sshd.password", SEVERITY_ERROR)->fix, "PasswordAuthentication no"));

        /* only AuthenticationMethods keeps passwords out: a warning */
        doctor_judge_sshd(&g, "usepam yes\npasswordauthentication yes\n"
                          "authenticationmethods publickey,keyboard-interactive\n", true, 110);
        CHECK(has(&g, "sshd.password", SEVERITY_WARNING, "publickey,keyboard-interactive"));

        /* a list without keyboard-interactive logs in without the device flow */
        doctor_judge_sshd(&h, "authenticationmethods publickey password\n", true, 110);
        CHECK(has(&h, "sshd.authentication_methods", SEVERITY_ERROR, "never uses keyboard-interactive"));
}

TEST(login_grace_time_values) {
        _cleanup_(findings_done) Findings f = {}, g = {}, h = {};

        doctor_judge_sshd(&f, "logingracetime 0\n", true, 110);
        CHECK(has(&f, "sshd.login_grace_time", SEVERITY_OK, "no limit"));
        doctor_judge_sshd(&g, "logingracetime 2m\n", true, 110);
        CHECK(findings_find(&g, "sshd.login_grace_time", SEVERITY_WARNING) &&
              strstr(findings_find(&g, "sshd.login_grace_time", SEVERITY_WARNING)->message, "'2m'"));
        doctor_judge_sshd(&h, "logingracetime 110\n", true, 110);        /* equal is too short */
        CHECK(has(&h, "sshd.login_grace_time", SEVERITY_ERROR, NULL));
}

TEST(sshd_test_failure_names_the_earlier_line) {
        char dir[] = "/tmp/devflow-test-doctor-sshd.XXXXXX", path[256];
        _cleanup_(findings_done) Findings f = {}, g = {}, h = {};
        FILE *fp;

        CHECK(mkdtemp(dir) != NULL);
        snprintf(path, sizeof path, "%s/sshd_config", dir);
        fp = fopen(path, "we");
        CHECK(fp != NULL);
        if (!fp)
                return;
        fputs("HostKey /k\nKbdInteractiveAuthentication no\nUsePAM yes\nKbdInteractiveAuthentication yes\n", fp);
        fclose(fp);

        doctor_sshd_test_failed(&f, path, "/etc/ssh/sshd_config line 3: Deprecated option\n"
                                "Disabled method \"keyboard-interactive\" in AuthenticationMethods list "
                                "\"publickey,keyboard-interactive\"\n", 255);
        CHECK(has(&f, "sshd.test", SEVERITY_ERROR, "Disabled method"));
        CHECK(has(&f, "sshd.test", SEVERITY_ERROR, ":2"));
        CHECK(strstr(findings_find(&f, "sshd.test", SEVERITY_ERROR)->fix, SSHD_DROPIN));

        /* anything else: quoted as sshd said it, control characters replaced */
        doctor_sshd_test_failed(&g, path, "\nBad configuration option: Fo\x1b[2Jo\n", 255);
        CHECK(has(&g, "sshd.test", SEVERITY_ERROR, "'Bad configuration option: Fo?[2Jo'"));

        /* sshd did not run at all */
        doctor_sshd_test_failed(&h, path, "", -ENOENT);
        CHECK(has(&h, "sshd.test", SEVERITY_ERROR, strerror(ENOENT)));

        (void) unlink(path);
        (void) rmdir(dir);
}

TEST(report_text_and_json) {
        _cleanup_(findings_done) Findings f = {};
        _cleanup_free_ char *text = NULL, *json = NULL;
        size_t n = 0;
        FILE *out;

        findings_add(&f, SEVERITY_ERROR, "x.y", "do \x1b]0;this", "bad \"%s\"", "th\ting");
        findings_add(&f, SEVERITY_OK, "x.z", NULL, "fine");
        out = open_memstream(&text, &n);
        CHECK(out != NULL);
        if (!out)
                return;
        findings_print(&f, /* json= */ false, out);
        fclose(out);
        CHECK(strstr(text, "ERROR   bad \"th?ing\"\n        fix: do ?]0;this\n"));
        CHECK(strstr(text, "ok      fine\n"));
        CHECK(strstr(text, "1 error, 0 warnings."));

        out = open_memstream(&json, &n);
        CHECK(out != NULL);
        if (!out)
                return;
        findings_print(&f, /* json= */ true, out);
        fclose(out);
        CHECK(strstr(json, "{\"check\":\"x.y\",\"severity\":\"error\",\"message\":\"bad \\\"th\\ting\\\"\""));
        CHECK(strstr(json, "\"fix\":null"));
        CHECK(strstr(json, "\"errors\":1,\"warnings\":0,\"ok\":1}"));
}

int main(void) {
        return run_tests();
}
