/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* devflowctl doctor: reads sshd's effective configuration, the PAM stacks, devflowd's configuration file
 * and the running daemon, and reports each problem with its fix. */

#include <stdbool.h>

#define DOCTOR_DEFAULT_CONFIG   "/etc/devflow/devflowd.conf"
#define DOCTOR_DEFAULT_DEVFLOWD "/usr/libexec/devflowd"
#define DOCTOR_DEFAULT_SSHD     "/usr/sbin/sshd"
#define DOCTOR_DEFAULT_PAM_DIR  "/etc/pam.d"

typedef struct DoctorOptions {
        const char *pam_dir;            /* NULL: DOCTOR_DEFAULT_PAM_DIR */
        const char *sshd_config;        /* NULL: sshd's own (sshd -T) */
        const char *sshd;               /* NULL: DOCTOR_DEFAULT_SSHD */
        const char *config;             /* NULL: DOCTOR_DEFAULT_CONFIG */
        const char *devflowd;           /* NULL: DOCTOR_DEFAULT_DEVFLOWD */
        bool json;
} DoctorOptions;

/* Runs every check, prints the findings, and returns the exit code: 0 when no finding is an error, else 1. */
int doctor_run(const DoctorOptions *o);
