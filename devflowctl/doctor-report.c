/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl-util.h"
#include "doctor-report.h"
#include "text-safety.h"

static const char *const severity_table[_SEVERITY_MAX] = {
        [SEVERITY_OK] = "ok",
        [SEVERITY_WARNING] = "warning",
        [SEVERITY_ERROR] = "error",
};

const char *severity_to_string(Severity s) {
        return s >= 0 && s < _SEVERITY_MAX ? severity_table[s] : NULL;
}

static void finding_done(Finding *f) {
        free(f->check);
        free(f->message);
        free(f->fix);
}

void findings_add(Findings *d, Severity s, const char *check, const char *fix, const char *fmt, ...) {
        Finding f = { .severity = s };
        Finding *p;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&f.message, fmt, ap);
        va_end(ap);
        if (r < 0) {
                d->oom = true;
                return;
        }
        f.check = strdup(check);
        f.fix = fix ? strdup(fix) : NULL;
        p = reallocarray(d->items, d->n + 1, sizeof *p);
        if (!f.check || (fix && !f.fix) || !p) {
                if (p)
                        d->items = p;
                finding_done(&f);
                d->oom = true;
                return;
        }
        d->items = p;
        d->items[d->n++] = f;
}

void findings_done(Findings *f) {
        for (size_t i = 0; i < f->n; i++)
                finding_done(f->items + i);
        free(f->items);
        *f = (Findings) {};
}

unsigned findings_count(const Findings *f, Severity s) {
        unsigned n = 0;

        for (size_t i = 0; i < f->n; i++)
                n += f->items[i].severity == s;
        return n;
}

const Finding *findings_find(const Findings *f, const char *check, Severity s) {
        for (size_t i = 0; i < f->n; i++)
                if (streq(f->items[i].check, check) && (s == _SEVERITY_INVALID || f->items[i].severity == s))
                        return f->items + i;
        return NULL;
}

void findings_print(const Findings *d, bool json, FILE *out) {
        unsigned n[_SEVERITY_MAX] = {};

        for (size_t i = 0; i < d->n; i++)
                if (d->items[i].severity >= 0 && d->items[i].severity < _SEVERITY_MAX)
                        n[d->items[i].severity]++;

        if (json) {
                fputs("{\"findings\":[", out);
                for (size_t i = 0; i < d->n; i++) {
                        const Finding *f = d->items + i;

                        fputs(i > 0 ? ",{\"check\":" : "{\"check\":", out);
                        json_print_string(out, f->check);
                        fputs(",\"severity\":", out);
                        json_print_string(out, severity_to_string(f->severity));
                        fputs(",\"message\":", out);
                        json_print_string(out, f->message);
                        fputs(",\"fix\":", out);
                        json_print_string(out, f->fix);
                        fputc('}', out);
                }
                fprintf(out, "],\"errors\":%u,\"warnings\":%u,\"ok\":%u}\n", n[SEVERITY_ERROR], n[SEVERITY_WARNING],
                       n[SEVERITY_OK]);
                return;
        }
        for (size_t i = 0; i < d->n; i++) {
                const Finding *f = d->items + i;

                fprintf(out, "%-8s", f->severity == SEVERITY_ERROR ? "ERROR" : f->severity == SEVERITY_WARNING ? "WARNING" : "ok");
                text_fputs(out, f->message);
                fputc('\n', out);
                if (f->fix && f->severity != SEVERITY_OK) {
                        fputs("        fix: ", out);
                        text_fputs(out, f->fix);
                        fputc('\n', out);
                }
        }
        fprintf(out, "\n%u error%s, %u warning%s.\n", n[SEVERITY_ERROR], n[SEVERITY_ERROR] == 1 ? "" : "s",
               n[SEVERITY_WARNING], n[SEVERITY_WARNING] == 1 ? "" : "s");
}
