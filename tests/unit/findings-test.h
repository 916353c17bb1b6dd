/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* For doctor's unit tests: is there a finding of check with severity s whose message contains text (any
 * message for NULL), with a fix unless it is ok? */

#include <stdbool.h>
#include <string.h>

#include "doctor-report.h"
#include "macro.h"

static inline bool has(const Findings *f, const char *check, Severity s, const char *text) {
        for (size_t i = 0; i < f->n; i++)
                if (streq(f->items[i].check, check) && f->items[i].severity == s &&
                    (!text || strstr(f->items[i].message, text)) && (s == SEVERITY_OK || f->items[i].fix))
                        return true;
        return false;
}
