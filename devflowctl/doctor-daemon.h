/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* doctor's daemon and IdP checks: devflowd answers GetStatus on the system bus (and what its last request to
 * the IdP got), and doctor's own request to the IdP the configuration names. */

#include "doctor-report.h"

/* Each returns 0, or -ENOMEM. */
int doctor_check_daemon(Findings *f);
int doctor_check_idp(Findings *f, const char *config);
