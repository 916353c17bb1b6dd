/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* doctor's sshd checks, on what sshd printed: no commands run here (doctor.c runs sshd -t and sshd -T). */

#include <stdbool.h>

#include "doctor-report.h"

/* What the fix texts install: the packaged drop-in (Debian: libpam-devflow's examples). */
#define SSHD_DROPIN_EXAMPLE "/usr/share/doc/libpam-devflow/examples/50-devflow.conf"
#define SSHD_DROPIN "/etc/ssh/sshd_config.d/50-devflow.conf"
#define FIX_SSHD_DROPIN "install -m 0644 " SSHD_DROPIN_EXAMPLE " " SSHD_DROPIN " && sshd -t && systemctl reload ssh"

/* sshd -t failed (exit status r > 0, or -errno when it did not run) with output out: an error that quotes
 * sshd and, where sshd names a disabled method, the earlier line of config (sshd_config) that disabled it. */
void doctor_sshd_test_failed(Findings *f, const char *config, const char *out, int r);

/* Judges sshd -T output: UsePAM, KbdInteractiveAuthentication, AuthenticationMethods, PasswordAuthentication
 * (with pam_devflow in sshd's stack), LoginGraceTime against the module's timeout. uses_devflow and
 * timeout_sec: what the PAM check found for sshd's stack; without it problems are warnings only. */
void doctor_judge_sshd(Findings *f, const char *out, bool uses_devflow, unsigned timeout_sec);
