/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* doctor's PAM-stack checks (devflowctl/doctor-pam.c) against fixture PAM directories: each case writes a
 * small /etc/pam.d of its own and asserts the findings, their severity and the line they name. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "doctor-pam.h"
#include "doctor-report.h"
#include "findings-test.h"
#include "macro.h"
#include "pam_devflow/args.h"
#include "test.h"

typedef struct FixtureFile {
        const char *name, *text;
} FixtureFile;

static char root[] = "/tmp/devflow-test-doctor-pam.XXXXXX";
static unsigned n_fixtures;

/* A fresh PAM directory holding files (terminated by { NULL }); its path in buf. */
static const char *fixture(const FixtureFile *files, char *buf, size_t size) {
        snprintf(buf, size, "%s/%u", root, n_fixtures++);
        CHECK_INTEQ(mkdir(buf, 0755), 0);
        for (const FixtureFile *f = files; f->name; f++) {
                char path[512];
                FILE *fp;

                snprintf(path, sizeof path, "%s/%s", buf, f->name);
                fp = fopen(path, "we");
                CHECK(fp != NULL);
                if (!fp)
                        continue;
                fputs(f->text, fp);
                fclose(fp);
        }
        return buf;
}

/* Runs the check on files; the findings in *ret (findings_done() them). */
static DoctorPamResult check(const FixtureFile *files, Findings *ret) {
        DoctorPamResult res = {};
        char dir[256];

        *ret = (Findings) {};
        CHECK_INTEQ(doctor_check_pam(ret, fixture(files, dir, sizeof dir), &res), 0);
        CHECK(!ret->oom);
        return res;
}

TEST(good_setup) {
        _cleanup_(findings_done) Findings f;
        DoctorPamResult r = check((const FixtureFile[]) {
                { "common-auth", "auth required pam_unix.so\n" },
                { "sudo", "@include common-auth\n" },
                { "sshd", "auth required pam_devflow.so timeout=120\naccount include common-account\n" },
                { "common-account", "account required pam_unix.so\n" },
                {} }, &f);

        CHECK(r.sshd_uses_devflow);
        CHECK_INTEQ(r.sshd_timeout_sec, 120);
        CHECK(has(&f, "pam.sshd", SEVERITY_OK, "timeout=120"));
        CHECK_INTEQ(findings_count(&f, SEVERITY_ERROR), 0);
        CHECK_INTEQ(findings_count(&f, SEVERITY_WARNING), 0);
}

TEST(common_auth_reaches_every_service) {
        _cleanup_(findings_done) Findings f;
        DoctorPamResult r = check((const FixtureFile[]) {
                { "common-auth", "auth sufficient pam_devflow.so timeout=90\n" },
                { "sudo", "@include common-auth\naccount required pam_unix.so\n" },
                { "cron", "@include common-auth\n" },
                {} }, &f);

        CHECK(!r.sshd_uses_devflow);
        CHECK(has(&f, "pam.common_auth", SEVERITY_ERROR, "common-auth"));
        CHECK(has(&f, "pam.common_auth", SEVERITY_ERROR, "sudo"));
        CHECK(has(&f, "pam.common_auth", SEVERITY_ERROR, "cron"));
        CHECK(has(&f, "pam.sshd", SEVERITY_WARNING, NULL));
        /* judged once, not once per service that includes it */
        unsigned n = 0;
        for (size_t i = 0; i < f.n; i++)
                n += streq(f.items[i].check, "pam.permissive");
        CHECK_INTEQ(n, 1);
}

TEST(permissive_controls) {
        _cleanup_(findings_done) Findings f;
        (void) check((const FixtureFile[]) {
                /* a module before it already decided: a refused flow still logs in */
                { "sshd", "# sshd\nauth required pam_unix.so\nauth sufficient pam_devflow.so timeout=90\n" },
                /* bracketed control over a continuation line, a comment, then pam_permit */
                { "login", "auth [success=done \\\n  default=ignore] pam_devflow.so timeout=30 # comment\n"
                           "-auth required pam_permit.so\n" },
                /* nothing after it */
                { "screen", "auth optional pam_devflow.so\n" },
                /* a fallback decides: the admin's choice */
                { "su", "auth sufficient pam_devflow.so\nauth required pam_unix.so\n" },
                {} }, &f);

        CHECK(has(&f, "pam.permissive", SEVERITY_ERROR, "sshd:3"));
        CHECK(has(&f, "pam.permissive", SEVERITY_ERROR, "login:1"));
        CHECK(has(&f, "pam.permissive", SEVERITY_ERROR, "pam_permit follows"));
        CHECK(has(&f, "pam.permissive", SEVERITY_WARNING, "screen:1"));
        CHECK(has(&f, "pam.control", SEVERITY_OK, "su:1"));
}

TEST(arguments_as_the_module_reads_them) {
        _cleanup_(findings_done) Findings f;
        DoctorPamResult r = check((const FixtureFile[]) {
                { "common-auth", "auth required pam_unix.so\n" },
                { "common-account", "account required pam_unix.so\n" },
                { "sshd", "auth required pam_devflow.so timeout=5 qr=blocks promt=none\n@include common-auth\n"
                          "account sufficient pam_permit.so\n@include common-account\n" },
                {} }, &f);

        CHECK(has(&f, "pam.args", SEVERITY_ERROR, "'timeout=5'"));
        CHECK(has(&f, "pam.args", SEVERITY_ERROR, "'qr=blocks'"));
        CHECK(has(&f, "pam.args", SEVERITY_ERROR, "'promt=none'"));
        /* an ignored timeout= leaves the module's default: that is what sshd's LoginGraceTime must exceed */
        CHECK(r.sshd_uses_devflow);
        CHECK_INTEQ(r.sshd_timeout_sec, ARGS_TIMEOUT_DEFAULT_SEC);
        CHECK(has(&f, "pam.common_after", SEVERITY_WARNING, "common-auth"));
        CHECK(has(&f, "pam.account", SEVERITY_ERROR, "sufficient pam_permit"));
}

TEST(account_stack_that_checks_nothing) {
        _cleanup_(findings_done) Findings f, g;

        (void) check((const FixtureFile[]) { { "sshd", "auth required pam_devflow.so\n" }, {} }, &f);
        CHECK(has(&f, "pam.account", SEVERITY_WARNING, "no account lines"));

        (void) check((const FixtureFile[]) {
                { "sshd", "auth required pam_devflow.so\naccount optional pam_unix.so\naccount required pam_permit.so\n" },
                {} }, &g);
        CHECK(has(&g, "pam.account", SEVERITY_WARNING, "only pam_permit or optional lines"));
}

TEST(includes_loop_and_escape) {
        _cleanup_(findings_done) Findings f;
        DoctorPamResult r = check((const FixtureFile[]) {
                { "loop-a", "@include loop-b\n" },
                { "loop-b", "@include loop-a\n" },
                /* an include must stay inside the PAM directory */
                { "sshd", "@include ../sshd-outside\nauth substack /etc/passwd\nauth required pam_unix.so\n" },
                {} }, &f);

        CHECK(has(&f, "pam.read", SEVERITY_WARNING, "loop-"));
        CHECK(!r.sshd_uses_devflow);
        CHECK(has(&f, "pam.missing", SEVERITY_WARNING, NULL));
}

TEST(nothing_to_read) {
        _cleanup_(findings_done) Findings f = {};
        DoctorPamResult r = { .sshd_uses_devflow = true };      /* overwritten: nothing was found */
        char dir[512];

        snprintf(dir, sizeof dir, "%s/does-not-exist", root);
        CHECK_INTEQ(doctor_check_pam(&f, dir, &r), 0);
        CHECK(has(&f, "pam.read", SEVERITY_ERROR, "does-not-exist"));
        CHECK(!r.sshd_uses_devflow);
}

int main(void) {
        int r;

        if (!mkdtemp(root)) {
                printf("FAIL: test-doctor-pam: mkdtemp: %s\n", strerror(errno));
                return 1;
        }
        r = run_tests();
        {
                char cmd[600];
                snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
                (void) !system(cmd);
        }
        return r;
}
