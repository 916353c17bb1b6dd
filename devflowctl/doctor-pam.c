/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ctl-util.h"
#include "doctor-pam.h"
#include "macro.h"
#include "pam_devflow/args.h"

typedef struct PamCheck {
        Findings *f;
        const char *dir;
        bool sshd_uses_devflow;
        char **reported;                /* "file:line" of pam_devflow lines already judged */
        size_t n_reported;
        unsigned sshd_timeout_sec;      /* the longest timeout of pam_devflow in sshd's stack, as the module
                                         * reads its arguments (an ignored timeout= leaves the default) */
} PamCheck;

/* One line of a PAM stack, after @include / include / substack were followed. */
typedef struct PamLine {
        char *file;             /* the file it came from (name under the PAM dir) */
        unsigned line;
        char *control;          /* "required", "[success=1 default=ignore]" … */
        char *module;           /* as written: "pam_devflow.so" or a path */
        char *args;             /* the rest of the line, may be "" */
} PamLine;

typedef struct PamStack {
        PamLine *lines;
        size_t n;
} PamStack;

static void pam_stack_done(PamStack *s) {
        for (size_t i = 0; i < s->n; i++) {
                free(s->lines[i].file);
                free(s->lines[i].control);
                free(s->lines[i].module);
                free(s->lines[i].args);
        }
        free(s->lines);
        *s = (PamStack) {};
}

static int pam_stack_add(PamStack *s, const char *file, unsigned line, const char *control, const char *module,
                         const char *args) {
        PamLine *p, l = {
                .file = strdup(file),
                .line = line,
                .control = strdup(control),
                .module = strdup(module),
                .args = strdup(args),
        };

        p = reallocarray(s->lines, s->n + 1, sizeof *p);
        if (!p || !l.file || !l.control || !l.module || !l.args) {
                if (p)
                        s->lines = p;
                free(l.file);
                free(l.control);
                free(l.module);
                free(l.args);
                return -ENOMEM;
        }
        s->lines = p;
        s->lines[s->n++] = l;
        return 0;
}

/* Splits off one field: whitespace separated, except that a field starting with '[' runs to the
 * matching ']' (Linux-PAM's bracketed control syntax may contain spaces). */
static char *next_field(char **p) {
        char *s = *p, *start;

        s += strspn(s, " \t");
        if (!*s)
                return NULL;
        start = s;
        if (*s == '[') {
                char *e = strchr(s, ']');

                s = e ? e + 1 : s + strlen(s);
        } else
                s += strcspn(s, " \t");
        if (*s)
                *s++ = 0;
        *p = s;
        return start;
}

static bool pam_name_ok(const char *name) {
        /* An included file name must stay inside the PAM dir. */
        return !empty_or_null(name) && !strchr(name, '/') && !streq(name, ".") && !streq(name, "..");
}

/* Appends the lines of type `type` ("auth"…) of service file `name`, following "@include FILE" and the
 * "include"/"substack" controls. Returns 0, -ENOENT when the file is missing, -ELOOP when too deep. */
static int pam_stack_read(const char *dir, const char *name, const char *type, unsigned depth, PamStack *s) {
        _cleanup_free_ char *path = NULL, *line = NULL, *logical = NULL;
        _cleanup_(fclosep) FILE *f = NULL;
        size_t size = 0;
        unsigned lineno = 0, start_lineno = 0;
        int r;

        if (depth > PAM_INCLUDE_DEPTH_MAX)
                return -ELOOP;
        if (!pam_name_ok(name))
                return -EINVAL;
        if (asprintf(&path, "%s/%s", dir, name) < 0)
                return -ENOMEM;
        f = fopen(path, "re");
        if (!f)
                return -errno;

        for (;;) {
                ssize_t k = getline(&line, &size, f);
                char *p, *t, *control, *module;
                bool cont;

                if (k < 0)
                        break;
                lineno++;
                while (k > 0 && (line[k - 1] == '\n' || line[k - 1] == '\r'))
                        line[--k] = 0;
                /* a trailing backslash continues the line */
                cont = k > 0 && line[k - 1] == '\\';
                if (cont)
                        line[--k] = 0;
                if (!logical) {
                        logical = strdup(line);
                        start_lineno = lineno;
                } else {
                        char *j;

                        if (asprintf(&j, "%s %s", logical, line) < 0)
                                return -ENOMEM;
                        free(logical);
                        logical = j;
                }
                if (!logical)
                        return -ENOMEM;
                if (cont)
                        continue;

                p = logical;
                /* '#' starts a comment anywhere, as Linux-PAM reads it */
                p[strcspn(p, "#")] = 0;
                t = next_field(&p);
                if (!t)
                        goto next;
                if (streq(t, "@include")) {
                        char *inc = next_field(&p);

                        if (inc) {
                                r = pam_stack_read(dir, inc, type, depth + 1, s);
                                if (r == -ENOMEM || r == -ELOOP)
                                        return r;
                        }
                        goto next;
                }
                if (*t == '-')  /* "-auth": skipped silently when the module is missing */
                        t++;
                if (strcasecmp(t, type) != 0)
                        goto next;
                control = next_field(&p);
                module = next_field(&p);
                if (!control || !module)
                        goto next;
                if (streq(control, "include") || streq(control, "substack")) {
                        r = pam_stack_read(dir, module, type, depth + 1, s);
                        if (r == -ENOMEM || r == -ELOOP)
                                return r;
                        goto next;
                }
                p += strspn(p, " \t");
                r = pam_stack_add(s, name, start_lineno, control, module, p);
                if (r < 0)
                        return r;
        next:
                logical = mfree(logical);
        }
        return 0;
}

static bool is_devflow_module(const char *module) {
        const char *base = strrchr(module, '/');

        base = base ? base + 1 : module;
        return streq(base, "pam_devflow.so") || streq(base, "pam_devflow");
}

static bool is_module(const PamLine *l, const char *name) {
        const char *base = strrchr(l->module, '/');

        base = base ? base + 1 : l->module;
        return strncmp(base, name, strlen(name)) == 0 &&
               (base[strlen(name)] == 0 || streq(base + strlen(name), ".so"));
}

/* The arguments of a pam_devflow line as the module itself reads them (pam_devflow/args.c). Every
 * argument it ignores is an error: the line does not do what it says. */
typedef struct ArgsCheck {
        PamCheck *d;
        const char *where;
} ArgsCheck;

static void on_ignored_arg(void *userdata, const char *arg, const char *reason) {
        ArgsCheck *c = userdata;

        findings_add(c->d->f, SEVERITY_ERROR, "pam.args",
                     "Correct or remove the argument on that line; pam_devflow(8) lists them: qr=auto|ascii|utf8|off "
                     "prompt=enter|none timeout=10..3600 debug.",
                     "%s: pam_devflow ignores '%s' (%s), so the line does not do what it says.", c->where, arg, reason);
}

static int devflow_args(PamCheck *d, const PamLine *l, const char *where, bool report, Args *ret) {
        _cleanup_free_ char *copy = strdup(l->args);
        _cleanup_free_ const char **argv = NULL;
        ArgsCheck c = { .d = d, .where = where };
        char *p = copy, *t;
        int argc = 0;

        if (!copy)
                return -ENOMEM;
        argv = calloc(strlen(l->args) / 2 + 2, sizeof *argv);
        if (!argv)
                return -ENOMEM;
        /* Linux-PAM splits arguments on blanks; "[...]" keeps blanks inside one argument. */
        while ((t = next_field(&p))) {
                if (*t == '[' && t[strlen(t) - 1] == ']') {
                        t[strlen(t) - 1] = 0;
                        t++;
                }
                argv[argc++] = t;
        }
        (void) args_parse(argc, argv, report ? on_ignored_arg : NULL, &c, ret);
        return 0;
}

/* A control that lets the stack go on and succeed when pam_devflow fails. */
static bool control_ignores_failure(const char *control) {
        if (streq(control, "sufficient") || streq(control, "optional"))
                return true;
        if (*control == '[')
                /* [success=done default=ignore] and the like: a failure that is ignored or skips lines */
                return strstr(control, "default=ignore") || strstr(control, "auth_err=ignore");
        return false;
}

/* A control under which success ends the stack at once: what follows is never asked. */
static bool control_ends_on_success(const char *control) {
        if (streq(control, "sufficient"))
                return true;
        return *control == '[' && (strstr(control, "success=done") || strstr(control, "success=end"));
}

/* Lines that decide nothing (pam_permit always succeeds; optional modules do not count when
 * others decide). */
static bool line_is_permissive(const PamLine *l) {
        return is_module(l, "pam_permit") || streq(l->control, "optional");
}

/* Files other services include: not services of their own. */
static bool is_shared_file(const char *name) {
        return strncmp(name, "common-", 7) == 0 || streq(name, "system-auth") || streq(name, "password-auth") ||
               streq(name, "system-login") || streq(name, "system-local-login") || streq(name, "system-remote-login");
}

static bool already_reported(PamCheck *d, const char *where) {
        char **p, *copy;

        for (size_t i = 0; i < d->n_reported; i++)
                if (streq(d->reported[i], where))
                        return true;
        copy = strdup(where);
        p = reallocarray(d->reported, d->n_reported + 1, sizeof *p);
        if (!copy || !p) {
                free(copy);
                if (p)
                        d->reported = p;
                d->f->oom = true;
                return true;
        }
        d->reported = p;
        d->reported[d->n_reported++] = copy;
        return false;
}

static int check_service_stack(PamCheck *d, const char *service, const PamStack *s) {
        for (size_t i = 0; i < s->n; i++) {
                const PamLine *l = s->lines + i;
                bool required_before = false, deciding_after = false, permit_after = false;
                char where[512];

                bool first_time, common_after = false;
                Args args;
                int r;

                if (!is_devflow_module(l->module))
                        continue;
                snprintf(where, sizeof where, "%s/%s:%u", d->dir, l->file, l->line);
                /* A line in common-auth is judged once, with the first service that includes it. */
                first_time = !already_reported(d, where);

                r = devflow_args(d, l, where, first_time, &args);
                if (r < 0)
                        return r;
                if (streq(service, "sshd")) {
                        d->sshd_uses_devflow = true;
                        d->sshd_timeout_sec = MAX(d->sshd_timeout_sec, args.timeout_sec);

                        /* README and pam_devflow(8) say: replace "@include common-auth" by pam_devflow. Left
                         * after it, it asks for the password after the approval (or instead, on failure). */
                        for (size_t j = i + 1; j < s->n && !common_after; j++)
                                common_after = streq(s->lines[j].file, "common-auth") && !streq(l->file, "common-auth");
                        if (common_after) {
                                _cleanup_free_ char *fix = NULL;

                                if (asprintf(&fix, "Delete the '@include common-auth' line after pam_devflow in %s/sshd "
                                             "(see /usr/share/doc/libpam-devflow/examples/sshd-devflow).",
                                             d->dir) < 0)
                                        return -ENOMEM;
                                findings_add(d->f, SEVERITY_WARNING, "pam.common_after", fix,
                                             "%s: '@include common-auth' still follows pam_devflow in sshd's stack: the "
                                             "password is asked for after the approval, or instead of it when the "
                                             "device flow fails.", where);
                        }
                }
                if (!control_ignores_failure(l->control) || !first_time)
                        continue;

                for (size_t j = 0; j < i; j++)
                        if (!line_is_permissive(s->lines + j) &&
                            (streq(s->lines[j].control, "required") || streq(s->lines[j].control, "requisite")))
                                required_before = true;
                for (size_t j = i + 1; j < s->n; j++) {
                        if (is_module(s->lines + j, "pam_permit"))
                                permit_after = true;
                        else if (!line_is_permissive(s->lines + j))
                                deciding_after = true;
                }

                if (deciding_after)
                        /* The next modules decide when the device flow fails: a fallback (pam_unix) is the
                         * admin's choice, not a hole. */
                        findings_add(d->f, SEVERITY_OK, "pam.control", NULL,
                                     "%s: pam_devflow is '%s' for %s; the modules after it decide when the device "
                                     "flow fails.", where, l->control, service);
                else if (permit_after || required_before)
                        findings_add(d->f, SEVERITY_ERROR, "pam.permissive",
                                     "Make the line 'auth required pam_devflow.so …', or follow it with "
                                     "'auth requisite pam_deny.so', and remove pam_permit from the auth stack.",
                                     "%s: pam_devflow is '%s' and nothing after it can refuse (%s): a failed or "
                                     "refused device flow still logs into %s.", where, l->control,
                                     permit_after ? "pam_permit follows" : "a module before it already decided",
                                     service);
                else
                        findings_add(d->f, SEVERITY_WARNING, "pam.permissive",
                                     "Make the line 'auth required pam_devflow.so …', or add "
                                     "'auth requisite pam_deny.so' after it.",
                                     "%s: pam_devflow is '%s' and nothing follows it in the %s auth stack: only "
                                     "Linux-PAM's default refusal stops a failed device flow, and any module "
                                     "added before it would let users in without it.", where, l->control, service);
        }
        return 0;
}

static int check_pam(PamCheck *d) {
        _cleanup_(closedirp) DIR *dir = NULL;
        _cleanup_free_ char *includers = NULL;
        bool any = false, in_common = false;
        size_t includers_len = 0;
        const char *common_file = NULL;
        struct dirent *de;
        int r;

        dir = opendir(d->dir);
        if (!dir) {
                findings_add(d->f, SEVERITY_ERROR, "pam.read", "Pass the PAM directory with --pam-dir=DIR.",
                             "Cannot read the PAM directory %s: %s.", d->dir, strerror(errno));
                return 0;
        }

        /* pam_devflow directly in a file that many services include */
        static const char *const shared[] = { "common-auth", "system-auth", "password-auth" };
        for (size_t i = 0; i < ELEMENTSOF(shared) && !in_common; i++) {
                _cleanup_(pam_stack_done) PamStack s = {};

                r = pam_stack_read(d->dir, shared[i], "auth", 0, &s);
                if (r == -ENOMEM)
                        return r;
                for (size_t j = 0; j < s.n; j++)
                        if (is_devflow_module(s.lines[j].module)) {
                                in_common = true;
                                common_file = shared[i];
                        }
        }

        while ((de = readdir(dir))) {
                _cleanup_(pam_stack_done) PamStack s = {};
                bool has = false, via_common = false;

                if (de->d_name[0] == '.' || (de->d_type != DT_REG && de->d_type != DT_UNKNOWN && de->d_type != DT_LNK))
                        continue;
                if (strchr(de->d_name, '~') || strstr(de->d_name, ".dpkg-"))
                        continue;
                r = pam_stack_read(d->dir, de->d_name, "auth", 0, &s);
                if (r == -ENOMEM)
                        return r;
                if (r == -ELOOP) {
                        findings_add(d->f, SEVERITY_WARNING, "pam.read", "Remove the include loop.",
                                     "%s/%s: includes nest deeper than %u files (a loop?).", d->dir, de->d_name,
                                     PAM_INCLUDE_DEPTH_MAX);
                        continue;
                }
                for (size_t j = 0; j < s.n; j++)
                        if (is_devflow_module(s.lines[j].module)) {
                                has = true;
                                if (common_file && streq(s.lines[j].file, common_file))
                                        via_common = true;
                        }
                if (!has)
                        continue;
                any = true;
                if (is_shared_file(de->d_name))
                        continue;
                if (via_common && !streq(de->d_name, "sshd")) {
                        /* collect "sudo, su, cron" for the common-auth message */
                        size_t k = strlen(de->d_name);
                        char *p = realloc(includers, includers_len + k + 3);

                        if (!p)
                                return -ENOMEM;
                        includers = p;
                        if (includers_len > 0) {
                                memcpy(includers + includers_len, ", ", 2);
                                includers_len += 2;
                        }
                        memcpy(includers + includers_len, de->d_name, k + 1);
                        includers_len += k;
                }
                r = check_service_stack(d, de->d_name, &s);
                if (r < 0)
                        return r;
        }

        if (d->sshd_uses_devflow) {
                _cleanup_(pam_stack_done) PamStack acct = {};
                bool checks = false, permissive = false;

                /* pam_devflow only authenticates: a locked or expired account is refused by the account
                 * stack (pam_unix), so one made only of pam_permit lets such accounts in. */
                r = pam_stack_read(d->dir, "sshd", "account", 0, &acct);
                if (r == -ENOMEM)
                        return r;
                for (size_t j = 0; j < acct.n && !checks; j++) {
                        const PamLine *a = acct.lines + j;

                        if (is_module(a, "pam_permit") && control_ends_on_success(a->control)) {
                                /* "account sufficient pam_permit.so": the stack ends in success here, and
                                 * nothing after it is asked. */
                                findings_add(d->f, SEVERITY_ERROR, "pam.account",
                                             "Delete that line (Debian: keep '@include common-account' in "
                                             "/etc/pam.d/sshd).",
                                             "%s/%s:%u: 'account %s pam_permit.so' ends sshd's account stack in "
                                             "success before any check: locked and expired accounts log in after an "
                                             "approved device flow.", d->dir, a->file, a->line, a->control);
                                permissive = true;
                                break;
                        }
                        if (!line_is_permissive(a))
                                checks = true;
                }
                if (!checks && !permissive)
                        findings_add(d->f, SEVERITY_WARNING, "pam.account",
                                     "Add 'account required pam_unix.so' (Debian: '@include common-account') to "
                                     "the sshd stack.",
                                     "sshd's account stack in %s/sshd checks nothing (%s): locked and expired "
                                     "accounts still log in after an approved device flow.", d->dir,
                                     acct.n == 0 ? "no account lines" : "only pam_permit or optional lines");
        }
        if (in_common)
                findings_add(d->f, SEVERITY_ERROR, "pam.common_auth",
                             "Remove pam_devflow from the shared file (on Debian: pam-auth-update, untick the "
                             "device flow profile) and add 'auth required pam_devflow.so' to the services that "
                             "need it, such as /etc/pam.d/sshd.",
                             "pam_devflow is in %s/%s, which other services include: each would start a device flow "
                             "(sudo, su and cron block waiting for a browser)%s%s%s.", d->dir, common_file,
                             includers ? "; here: " : "", strempty(includers), includers ? "" : "");
        if (!any)
                findings_add(d->f, SEVERITY_WARNING, "pam.missing",
                             "For SSH logins, replace '@include common-auth' in /etc/pam.d/sshd with 'auth required "
                             "pam_devflow.so' (example: /usr/share/doc/libpam-devflow/examples/sshd-devflow).",
                             "pam_devflow is in no PAM stack under %s.", d->dir);
        else if (!d->sshd_uses_devflow)
                findings_add(d->f, SEVERITY_WARNING, "pam.sshd",
                             "For SSH logins, replace '@include common-auth' in /etc/pam.d/sshd with 'auth required "
                             "pam_devflow.so' (example: /usr/share/doc/libpam-devflow/examples/sshd-devflow).",
                             "pam_devflow is not in sshd's auth stack (%s/sshd).", d->dir);
        else
                findings_add(d->f, SEVERITY_OK, "pam.sshd", NULL,
                             "pam_devflow is in sshd's auth stack (timeout=%u s).", d->sshd_timeout_sec);
        return 0;
}

int doctor_check_pam(Findings *f, const char *pam_dir, DoctorPamResult *ret) {
        PamCheck c = { .f = f, .dir = pam_dir };
        int r;

        r = check_pam(&c);
        for (size_t i = 0; i < c.n_reported; i++)
                free(c.reported[i]);
        free(c.reported);
        if (r < 0)
                return r;
        if (ret)
                *ret = (DoctorPamResult) {
                        .sshd_uses_devflow = c.sshd_uses_devflow,
                        .sshd_timeout_sec = c.sshd_timeout_sec,
                };
        return 0;
}
