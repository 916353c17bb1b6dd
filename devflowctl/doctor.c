/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* devflowctl doctor: runs each check in turn and prints what they found. The checks, one concern per file:
 * doctor-pam.c (PAM stacks), doctor-sshd.c (sshd's configuration, judged on sshd -T's output, which is
 * run here), doctor-config.c (devflowd's configuration and the files it names), doctor-daemon.c (the
 * daemon on the bus, the IdP); doctor-report.c keeps and prints the findings. Nothing here changes the
 * system. Commands run without a shell, with a fixed argv (command.c). */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "command.h"
#include "ctl-util.h"
#include "doctor-config.h"
#include "doctor-daemon.h"
#include "doctor-pam.h"
#include "doctor-report.h"
#include "doctor-sshd.h"
#include "doctor.h"
#include "macro.h"

/* Runs sshd with the given flag (-t or -T) on the configuration doctor checks. */
static int run_sshd(const DoctorOptions *o, const char *flag, char **ret_output) {
        const char *sshd = o->sshd ?: DOCTOR_DEFAULT_SSHD;
        char *argv[] = { (char *) sshd, (char *) flag, NULL, NULL, NULL };

        if (o->sshd_config) {
                argv[2] = (char *) "-f";
                argv[3] = (char *) o->sshd_config;
        }
        return command_run(argv, ret_output);
}

static int check_sshd(const DoctorOptions *o, Findings *d, const DoctorPamResult *pam) {
        const char *sshd = o->sshd ?: DOCTOR_DEFAULT_SSHD;
        _cleanup_free_ char *out = NULL, *test_out = NULL;
        char line[256];
        int r;

        if (access(sshd, X_OK) < 0) {
                if (o->sshd_config || o->sshd)
                        findings_add(d, SEVERITY_ERROR, "sshd.read", "Install openssh-server: apt-get install openssh-server",
                                     "%s is not there: cannot read sshd's configuration.", sshd);
                else
                        findings_add(d, SEVERITY_OK, "sshd.read", NULL, "sshd is not installed: nothing to check.");
                return 0;
        }
        r = run_sshd(o, "-t", &test_out);
        if (r == -ENOMEM)
                return r;
        if (r != 0) {
                doctor_sshd_test_failed(d, o->sshd_config ?: "/etc/ssh/sshd_config", strempty(test_out), r);
                return 0;
        }
        findings_add(d, SEVERITY_OK, "sshd.test", NULL, "sshd -t accepts the configuration.");
        r = run_sshd(o, "-T", &out);
        if (r == -ENOMEM)
                return r;
        if (r != 0) {
                command_first_line(r < 0 ? strerror(-r) : out, line, sizeof line);
                findings_add(d, SEVERITY_ERROR, "sshd.read", "Correct what sshd names, then check with: sshd -T",
                             "sshd -T cannot print the effective configuration: '%s'.", line);
                return 0;
        }

        doctor_judge_sshd(d, out, pam->sshd_uses_devflow, pam->sshd_timeout_sec);
        return 0;
}

int doctor_run(const DoctorOptions *o) {
        _cleanup_(findings_done) Findings d = {};
        DoctorPamResult pam = {};
        int r;

        /* sshd -T needs the host keys, the configuration is 0600, and the daemon answers only root: as
         * another user every check would report a problem that is not there. */
        if (geteuid() != 0) {
                if (o->json)
                        puts("{\"error\":\"NotPermitted\",\"message\":\"run devflowctl doctor as root\"}");
                else
                        fputs("devflowctl: doctor reads sshd's host keys, devflowd's configuration and the daemon's "
                              "status: run it as root (sudo devflowctl doctor).\n", stderr);
                return EXIT_NOT_PERMITTED;
        }

        /* PAM first: the sshd check needs to know whether sshd's stack uses pam_devflow and its timeout. */
        r = doctor_check_pam(&d, o->pam_dir ?: DOCTOR_DEFAULT_PAM_DIR, &pam);
        if (r >= 0)
                r = check_sshd(o, &d, &pam);
        if (r >= 0)
                r = doctor_check_config(&d, o->config ?: DOCTOR_DEFAULT_CONFIG, o->devflowd ?: DOCTOR_DEFAULT_DEVFLOWD);
        if (r >= 0)
                r = doctor_check_daemon(&d);
        if (r >= 0)
                r = doctor_check_idp(&d, o->config ?: DOCTOR_DEFAULT_CONFIG);
        if (r < 0 || d.oom) {
                fprintf(stderr, "devflowctl: doctor: %s\n", strerror(r < 0 ? -r : ENOMEM));
                return EXIT_FAILURE_;
        }

        findings_print(&d, o->json, stdout);
        return findings_count(&d, SEVERITY_ERROR) > 0 ? EXIT_FAILURE_ : EXIT_OK;
}
