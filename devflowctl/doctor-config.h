/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* doctor's configuration checks: devflowd.conf and its drop-ins exist and are root's, as are the files they
 * name (secrets, keys, the map file), and devflowd --check-config accepts them. */

#include "doctor-report.h"

/* Returns 0, or -ENOMEM. */
int doctor_check_config(Findings *f, const char *config, const char *devflowd);
