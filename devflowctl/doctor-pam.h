/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* doctor's PAM-stack checks: reads the service files under a PAM directory (following @include, include and
 * substack as Linux-PAM does), and judges every pam_devflow line: its arguments as the module reads them,
 * its control (a failure that the stack ignores, pam_permit after it), pam_devflow in files that many
 * services include, common-auth after it in sshd's stack, sshd's account stack. Reads files only. */

#include <stdbool.h>

#include "doctor-report.h"

#define PAM_INCLUDE_DEPTH_MAX 8U

typedef struct DoctorPamResult {
        bool sshd_uses_devflow;         /* pam_devflow is in sshd's auth stack */
        unsigned sshd_timeout_sec;      /* the longest timeout= of those lines, as the module reads it */
} DoctorPamResult;

/* Adds the findings for the stacks under pam_dir. Returns 0, or -ENOMEM. */
int doctor_check_pam(Findings *f, const char *pam_dir, DoctorPamResult *ret);
