/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "config.h"

/* The daemon: serves the bus API (DESIGN §5) for CONFIG until SIGTERM or the bus goes; owns everything it
 * sets up. Returns 0, or a negative errno (logged). */
int manager_run(Config *config);
