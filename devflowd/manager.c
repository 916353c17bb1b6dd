/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include "config.h"
int manager_run(Config *config);
int manager_run(Config *config) { return -EOPNOTSUPP; }
