/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What doctor found: a list of findings (ok / warning / error, the check's name, a message, a fix), and
 * how they are printed (text for a person, or one JSON document). No checks here. */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "macro.h"

typedef enum Severity {
        SEVERITY_OK,
        SEVERITY_WARNING,
        SEVERITY_ERROR,
        _SEVERITY_MAX,
        _SEVERITY_INVALID = -EINVAL,
} Severity;

const char *severity_to_string(Severity s);

typedef struct Finding {
        Severity severity;
        char *check;            /* "pam.permissive", "sshd.use_pam" … */
        char *message;
        char *fix;              /* NULL for ok */
} Finding;

typedef struct Findings {
        Finding *items;
        size_t n;
        bool oom;               /* a finding was lost: the report is incomplete */
} Findings;

void findings_done(Findings *f);

/* Adds a finding; on ENOMEM sets f->oom instead (the caller reports it once, at the end). */
void findings_add(Findings *f, Severity s, const char *check, const char *fix, const char *fmt, ...) _printf_(5, 6);

unsigned findings_count(const Findings *f, Severity s);

/* The first finding of check (and severity, unless _SEVERITY_INVALID), or NULL: for tests. */
const Finding *findings_find(const Findings *f, const char *check, Severity s);

/* Text (sanitised, with each fix under its problem, and a closing count) or one JSON document. */
void findings_print(const Findings *f, bool json, FILE *out);
