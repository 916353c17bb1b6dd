/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* devflowctl doctor. Each check adds findings (ok / warning / error, a message, a fix); nothing here
 * changes the system. Commands run without a shell, with a fixed argv. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <systemd/sd-bus.h>

#include "ctl-util.h"
#include "devflow-bus.h"
#include "doctor.h"
#include "macro.h"

#define PAM_INCLUDE_DEPTH_MAX 8U
#define COMMAND_OUTPUT_MAX (256U * 1024U)

typedef enum Severity {
        SEVERITY_OK,
        SEVERITY_WARNING,
        SEVERITY_ERROR,
        _SEVERITY_MAX,
        _SEVERITY_INVALID = -EINVAL,
} Severity;

static const char *const severity_table[_SEVERITY_MAX] = {
        [SEVERITY_OK] = "ok",
        [SEVERITY_WARNING] = "warning",
        [SEVERITY_ERROR] = "error",
};

typedef struct Finding {
        Severity severity;
        char *check;
        char *message;
        char *fix;              /* NULL for ok */
} Finding;

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

typedef struct Doctor {
        const DoctorOptions *o;
        Finding *findings;
        size_t n_findings;
        bool oom;

        /* what the PAM check learnt, for the sshd check */
        bool sshd_uses_devflow;
        char **reported;                /* "file:line" of pam_devflow lines already judged */
        size_t n_reported;
        unsigned sshd_timeout_sec;      /* the longest timeout= of pam_devflow in sshd's stack */
} Doctor;

static const char *pam_dir(const Doctor *d) {
        return d->o->pam_dir ?: DOCTOR_DEFAULT_PAM_DIR;
}

static void finding_done(Finding *f) {
        free(f->check);
        free(f->message);
        free(f->fix);
}

static void add_finding(Doctor *d, Severity s, const char *check, const char *fix, const char *fmt, ...)
        _printf_(5, 6);

static void add_finding(Doctor *d, Severity s, const char *check, const char *fix, const char *fmt, ...) {
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
        p = reallocarray(d->findings, d->n_findings + 1, sizeof *p);
        if (!f.check || (fix && !f.fix) || !p) {
                if (p)
                        d->findings = p;
                finding_done(&f);
                d->oom = true;
                return;
        }
        d->findings = p;
        d->findings[d->n_findings++] = f;
}

/* ---- running a command ---------------------------------------------------------------------------- */

/* Runs argv (no shell) with stdin from /dev/null, stdout and stderr captured together.
 * Returns the exit status (>= 0; 128+N for a signal), or -errno when it could not run. */
static int run_command(char *const argv[], char **ret_output) {
        _cleanup_free_ char *buf = NULL;
        size_t n = 0, allocated = 0;
        int pipefd[2], status;
        pid_t pid;

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0) {
                int e = errno;

                close(pipefd[0]);
                close(pipefd[1]);
                return -e;
        }
        if (pid == 0) {
                int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

                if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(pipefd[1], STDOUT_FILENO) < 0 ||
                    dup2(pipefd[1], STDERR_FILENO) < 0)
                        _exit(127);
                execv(argv[0], argv);
                _exit(127);
        }
        close(pipefd[1]);
        for (;;) {
                ssize_t k;

                if (allocated - n < 4096) {
                        char *p;

                        if (allocated >= COMMAND_OUTPUT_MAX)
                                break;  /* enough: the rest is drained below */
                        p = realloc(buf, allocated + 8192);
                        if (!p)
                                break;
                        buf = p;
                        allocated += 8192;
                }
                k = read(pipefd[0], buf + n, allocated - n - 1);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                n += (size_t) k;
        }
        /* Drain whatever did not fit, so the child never blocks on a full pipe. */
        for (;;) {
                char sink[4096];
                ssize_t k = read(pipefd[0], sink, sizeof sink);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
        }
        close(pipefd[0]);
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (!buf) {
                buf = strdup("");
                if (!buf)
                        return -ENOMEM;
        } else
                buf[n] = 0;
        *ret_output = TAKE_PTR(buf);
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/* The first non-empty line of a command's output, control characters replaced, at most 200 bytes. */
static void first_line(const char *text, char *buf, size_t size) {
        const char *p = text;
        size_t n = 0;

        while (*p == '\n' || *p == ' ')
                p++;
        for (; *p && *p != '\n' && *p != '\r' && n + 1 < size && n < 200; p++)
                buf[n++] = ((unsigned char) *p < 0x20 || *p == 0x7f) ? '?' : *p;
        buf[n] = 0;
}

/* ---- PAM stacks ----------------------------------------------------------------------------------- */

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

/* timeout= from a pam_devflow line, or the default. */
static unsigned devflow_timeout(const PamLine *l) {
        _cleanup_free_ char *copy = strdup(l->args);
        char *p = copy, *t;

        if (!copy)
                return DOCTOR_DEFAULT_TIMEOUT_SEC;
        while ((t = next_field(&p))) {
                char *end;
                unsigned long v;

                if (strncmp(t, "timeout=", 8) != 0)
                        continue;
                errno = 0;
                v = strtoul(t + 8, &end, 10);
                if (errno == 0 && end != t + 8 && *end == 0 && v > 0 && v <= 3600)
                        return (unsigned) v;
        }
        return DOCTOR_DEFAULT_TIMEOUT_SEC;
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

static bool already_reported(Doctor *d, const char *where) {
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
                d->oom = true;
                return true;
        }
        d->reported = p;
        d->reported[d->n_reported++] = copy;
        return false;
}

static int check_service_stack(Doctor *d, const char *service, const PamStack *s) {
        for (size_t i = 0; i < s->n; i++) {
                const PamLine *l = s->lines + i;
                bool required_before = false, deciding_after = false, permit_after = false;
                char where[512];

                if (!is_devflow_module(l->module))
                        continue;
                snprintf(where, sizeof where, "%s/%s:%u", pam_dir(d), l->file, l->line);

                if (streq(service, "sshd")) {
                        d->sshd_uses_devflow = true;
                        d->sshd_timeout_sec = MAX(d->sshd_timeout_sec, devflow_timeout(l));
                }
                if (!control_ignores_failure(l->control))
                        continue;
                /* A line in common-auth is judged once, with the first service that includes it. */
                if (already_reported(d, where))
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
                        add_finding(d, SEVERITY_OK, "pam.control", NULL,
                                    "%s: pam_devflow is '%s' for %s; the modules after it decide when the device "
                                    "flow fails.", where, l->control, service);
                else if (permit_after || required_before)
                        add_finding(d, SEVERITY_ERROR, "pam.permissive",
                                    "Make the line 'auth required pam_devflow.so …', or follow it with "
                                    "'auth requisite pam_deny.so', and remove pam_permit from the auth stack.",
                                    "%s: pam_devflow is '%s' and nothing after it can refuse (%s): a failed or "
                                    "refused device flow still logs into %s.", where, l->control,
                                    permit_after ? "pam_permit follows" : "a module before it already decided",
                                    service);
                else
                        add_finding(d, SEVERITY_WARNING, "pam.permissive",
                                    "Make the line 'auth required pam_devflow.so …', or add "
                                    "'auth requisite pam_deny.so' after it.",
                                    "%s: pam_devflow is '%s' and nothing follows it in the %s auth stack: only "
                                    "Linux-PAM's default refusal stops a failed device flow, and any module "
                                    "added before it would let users in without it.", where, l->control, service);
        }
        return 0;
}

static int check_pam(Doctor *d) {
        _cleanup_(closedirp) DIR *dir = NULL;
        _cleanup_free_ char *includers = NULL;
        bool any = false, in_common = false;
        size_t includers_len = 0;
        const char *common_file = NULL;
        struct dirent *de;
        int r;

        dir = opendir(pam_dir(d));
        if (!dir) {
                add_finding(d, SEVERITY_ERROR, "pam.read", "Pass the PAM directory with --pam-dir=DIR.",
                            "Cannot read the PAM directory %s: %s.", pam_dir(d), strerror(errno));
                return 0;
        }

        /* pam_devflow directly in a file that many services include */
        static const char *const shared[] = { "common-auth", "system-auth", "password-auth" };
        for (size_t i = 0; i < ELEMENTSOF(shared) && !in_common; i++) {
                _cleanup_(pam_stack_done) PamStack s = {};

                r = pam_stack_read(pam_dir(d), shared[i], "auth", 0, &s);
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
                r = pam_stack_read(pam_dir(d), de->d_name, "auth", 0, &s);
                if (r == -ENOMEM)
                        return r;
                if (r == -ELOOP) {
                        add_finding(d, SEVERITY_WARNING, "pam.read", "Remove the include loop.",
                                    "%s/%s: includes nest deeper than %u files (a loop?).", pam_dir(d), de->d_name,
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
                bool checks = false;

                /* pam_devflow only authenticates: a locked or expired account is refused by the account
                 * stack (pam_unix), so one made only of pam_permit lets such accounts in. */
                r = pam_stack_read(pam_dir(d), "sshd", "account", 0, &acct);
                if (r == -ENOMEM)
                        return r;
                for (size_t j = 0; j < acct.n; j++)
                        if (!line_is_permissive(acct.lines + j))
                                checks = true;
                if (!checks)
                        add_finding(d, SEVERITY_WARNING, "pam.account",
                                    "Add 'account required pam_unix.so' (Debian: '@include common-account') to "
                                    "the sshd stack.",
                                    "sshd's account stack in %s/sshd checks nothing (%s): locked and expired "
                                    "accounts still log in after an approved device flow.", pam_dir(d),
                                    acct.n == 0 ? "no account lines" : "only pam_permit or optional lines");
        }
        if (in_common)
                add_finding(d, SEVERITY_ERROR, "pam.common_auth",
                            "Remove pam_devflow from the shared file (on Debian: pam-auth-update, untick the "
                            "device flow profile) and add 'auth required pam_devflow.so' to the services that "
                            "need it, such as /etc/pam.d/sshd.",
                            "pam_devflow is in %s/%s, which other services include: each would start a device flow "
                            "(sudo, su and cron block waiting for a browser)%s%s%s.", pam_dir(d), common_file,
                            includers ? "; here: " : "", strempty(includers), includers ? "" : "");
        if (!any)
                add_finding(d, SEVERITY_WARNING, "pam.missing",
                            "Add 'auth required pam_devflow.so' to /etc/pam.d/sshd (see pam_devflow(8)).",
                            "pam_devflow is in no PAM stack under %s.", pam_dir(d));
        else if (!d->sshd_uses_devflow)
                add_finding(d, SEVERITY_WARNING, "pam.sshd",
                            "For SSH logins, add 'auth required pam_devflow.so' to %s/sshd.",
                            "pam_devflow is not in sshd's auth stack (%s/sshd).", pam_dir(d));
        else
                add_finding(d, SEVERITY_OK, "pam.sshd", NULL,
                            "pam_devflow is in sshd's auth stack (timeout=%u s).", d->sshd_timeout_sec);
        return 0;
}

/* ---- sshd ------------------------------------------------------------------------------------------ */

/* The value of one lower-case key in `sshd -T` output, copied into buf; NULL when absent. */
static const char *sshd_value(const char *text, const char *key, char *buf, size_t size) {
        size_t k = strlen(key);

        for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
                if (strncasecmp(p, key, k) == 0 && (p[k] == ' ' || p[k] == '\t')) {
                        const char *v = p + k + strspn(p + k, " \t");
                        size_t n = strcspn(v, "\n");

                        if (n >= size)
                                n = size - 1;
                        memcpy(buf, v, n);
                        buf[n] = 0;
                        return buf;
                }
        }
        return NULL;
}

/* Does every method list of AuthenticationMethods include keyboard-interactive? Sets *some when at
 * least one does. */
static bool authmethods_all_kbdint(const char *value, bool *some) {
        _cleanup_free_ char *copy = strdup(value);
        char *p = copy, *list;
        bool all = true;

        *some = false;
        if (!copy)
                return false;
        while ((list = next_field(&p))) {
                bool has = false;
                char *save = NULL;

                for (char *m = strtok_r(list, ",", &save); m; m = strtok_r(NULL, ",", &save))
                        if (strncmp(m, "keyboard-interactive", 20) == 0 && (m[20] == 0 || m[20] == ':'))
                                has = true;
                if (has)
                        *some = true;
                else
                        all = false;
        }
        return all;
}

static int check_sshd(Doctor *d) {
        const char *sshd = d->o->sshd ?: DOCTOR_DEFAULT_SSHD;
        _cleanup_free_ char *out = NULL;
        char v[256], line[256];
        Severity bad = d->sshd_uses_devflow ? SEVERITY_ERROR : SEVERITY_WARNING;
        unsigned timeout = d->sshd_uses_devflow ? d->sshd_timeout_sec : DOCTOR_DEFAULT_TIMEOUT_SEC;
        int r;

        if (access(sshd, X_OK) < 0) {
                if (d->o->sshd_config || d->o->sshd)
                        add_finding(d, SEVERITY_ERROR, "sshd.read", "Install openssh-server or pass --sshd=PATH.",
                                    "%s is not there: cannot read sshd's configuration.", sshd);
                else
                        add_finding(d, SEVERITY_OK, "sshd.read", NULL, "sshd is not installed: nothing to check.");
                return 0;
        }
        {
                char *argv[] = { (char *) sshd, (char *) "-T", NULL, NULL, NULL };

                if (d->o->sshd_config) {
                        argv[2] = (char *) "-f";
                        argv[3] = (char *) d->o->sshd_config;
                }
                r = run_command(argv, &out);
        }
        if (r == -ENOMEM)
                return r;
        if (r != 0) {
                first_line(r < 0 ? strerror(-r) : out, line, sizeof line);
                add_finding(d, SEVERITY_WARNING, "sshd.read",
                            "Run devflowctl doctor as root; 'sshd -t' shows what is wrong with the configuration.",
                            "Cannot read sshd's effective configuration (sshd -T): %s", line);
                return 0;
        }

        if (sshd_value(out, "usepam", v, sizeof v) && strcasecmp(v, "yes") != 0)
                add_finding(d, bad, "sshd.use_pam",
                            "Set 'UsePAM yes' in /etc/ssh/sshd_config and reload sshd.",
                            "sshd: UsePAM is '%s': sshd never runs the PAM stack, so pam_devflow is never asked.", v);
        else
                add_finding(d, SEVERITY_OK, "sshd.use_pam", NULL, "sshd: UsePAM is on.");

        if (sshd_value(out, "kbdinteractiveauthentication", v, sizeof v) ||
            sshd_value(out, "challengeresponseauthentication", v, sizeof v)) {
                if (strcasecmp(v, "yes") != 0)
                        add_finding(d, bad, "sshd.kbd_interactive",
                                    "Set 'KbdInteractiveAuthentication yes' in /etc/ssh/sshd_config and reload sshd.",
                                    "sshd: KbdInteractiveAuthentication is '%s': the device flow's prompt "
                                    "(keyboard-interactive) is never offered.", v);
                else
                        add_finding(d, SEVERITY_OK, "sshd.kbd_interactive", NULL,
                                    "sshd: KbdInteractiveAuthentication is on.");
        }

        if (sshd_value(out, "authenticationmethods", v, sizeof v)) {
                bool some;

                if (strcasecmp(v, "any") == 0)
                        add_finding(d, SEVERITY_WARNING, "sshd.authentication_methods",
                                    "To require the device flow, set 'AuthenticationMethods keyboard-interactive' "
                                    "(or 'publickey,keyboard-interactive' for both) and reload sshd.",
                                    "sshd: AuthenticationMethods is 'any': a public key or a password alone logs in "
                                    "without the device flow.");
                else if (authmethods_all_kbdint(v, &some))
                        add_finding(d, SEVERITY_OK, "sshd.authentication_methods", NULL,
                                    "sshd: every AuthenticationMethods list requires keyboard-interactive.");
                else if (some)
                        add_finding(d, SEVERITY_WARNING, "sshd.authentication_methods",
                                    "Add keyboard-interactive to every list if the device flow must be required.",
                                    "sshd: AuthenticationMethods '%s' has a list without keyboard-interactive: it "
                                    "logs in without the device flow.", v);
                else
                        add_finding(d, bad, "sshd.authentication_methods",
                                    "Add keyboard-interactive to AuthenticationMethods "
                                    "(e.g. 'publickey,keyboard-interactive') and reload sshd.",
                                    "sshd: AuthenticationMethods '%s' never uses keyboard-interactive, so the "
                                    "device flow is never reached.", v);
        }

        if (sshd_value(out, "logingracetime", v, sizeof v)) {
                char *end;
                unsigned long grace;

                errno = 0;
                grace = strtoul(v, &end, 10);
                if (errno != 0 || end == v || *end != 0)
                        add_finding(d, SEVERITY_WARNING, "sshd.login_grace_time", NULL,
                                    "sshd: cannot read LoginGraceTime '%s'.", v);
                else if (grace != 0 && grace <= timeout)
                        add_finding(d, bad, "sshd.login_grace_time",
                                    "Set 'LoginGraceTime' above the module's timeout (e.g. 'LoginGraceTime 180') or "
                                    "lower timeout= on the pam_devflow line below LoginGraceTime.",
                                    "sshd: LoginGraceTime is %lu s but pam_devflow waits up to %u s: sshd cuts the "
                                    "connection while the user is still approving.", grace, timeout);
                else
                        add_finding(d, SEVERITY_OK, "sshd.login_grace_time", NULL,
                                    "sshd: LoginGraceTime (%s) leaves room for the module's timeout (%u s).",
                                    grace == 0 ? "no limit" : v, timeout);
        }
        return 0;
}

/* ---- configuration --------------------------------------------------------------------------------- */

/* Checks that a file holding a secret (or deciding who logs in) is root's and not open to others. */
static void check_file_mode(Doctor *d, const char *check, const char *what, const char *path, bool must_exist) {
        struct stat st;

        if (stat(path, &st) < 0) {
                if (errno != ENOENT || must_exist)
                        add_finding(d, SEVERITY_ERROR, check, "Create it (see devflowd.conf(5)) or fix the path.",
                                    "%s %s: %s.", what, path, strerror(errno));
                return;
        }
        if (!S_ISREG(st.st_mode)) {
                add_finding(d, SEVERITY_ERROR, check, "Point it at a regular file.", "%s %s is not a regular file.",
                            what, path);
                return;
        }
        if (st.st_uid != 0)
                add_finding(d, SEVERITY_ERROR, check, "chown root: the file.",
                            "%s %s is owned by uid %u, not root: that user can change who logs in.", what, path,
                            (unsigned) st.st_uid);
        if (st.st_mode & (S_IROTH | S_IWOTH))
                add_finding(d, SEVERITY_ERROR, check, "chmod 0600 the file (0640 with group root).",
                            "%s %s is %s (mode %04o).", what, path,
                            st.st_mode & S_IWOTH ? "world-writable" : "world-readable",
                            (unsigned) (st.st_mode & 07777));
        else if (st.st_mode & S_IWGRP)
                add_finding(d, SEVERITY_ERROR, check, "chmod 0600 the file.",
                            "%s %s is group-writable (mode %04o).", what, path, (unsigned) (st.st_mode & 07777));
        else if ((st.st_mode & S_IRGRP) && st.st_gid != 0)
                add_finding(d, SEVERITY_WARNING, check, "chmod 0600 the file, or chgrp root.",
                            "%s %s is readable by group %u (mode %04o).", what, path, (unsigned) st.st_gid,
                            (unsigned) (st.st_mode & 07777));
        else if (st.st_uid == 0)
                add_finding(d, SEVERITY_OK, check, NULL, "%s %s: owner root, mode %04o.", what, path,
                            (unsigned) (st.st_mode & 07777));
}

/* The files a configuration points at: "key = /path" for the keys that name secret or policy files. */
static int check_referenced_files(Doctor *d, const char *config) {
        static const char *const keys[] = { "client_secret_file", "client_key_file", "map_file" };
        _cleanup_(fclosep) FILE *f = fopen(config, "re");
        _cleanup_free_ char *line = NULL;
        size_t size = 0;

        if (!f)
                return 0;
        while (getline(&line, &size, f) >= 0) {
                char *p = line + strspn(line, " \t"), *eq, *v;

                if (*p == '#' || *p == ';')
                        continue;
                eq = strchr(p, '=');
                if (!eq)
                        continue;
                for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                        size_t k = strlen(keys[i]);

                        if (strncmp(p, keys[i], k) != 0 || (p[k] != ' ' && p[k] != '\t' && p[k] != '='))
                                continue;
                        v = eq + 1 + strspn(eq + 1, " \t");
                        v[strcspn(v, "\r\n")] = 0;
                        while (*v && (v[strlen(v) - 1] == ' ' || v[strlen(v) - 1] == '\t'))
                                v[strlen(v) - 1] = 0;
                        if (*v == '/')
                                check_file_mode(d, "config.permissions", keys[i], v, /* must_exist= */ true);
                }
        }
        return 0;
}

static int check_config(Doctor *d) {
        const char *config = d->o->config ?: DOCTOR_DEFAULT_CONFIG;
        const char *devflowd = d->o->devflowd ?: DOCTOR_DEFAULT_DEVFLOWD;
        _cleanup_free_ char *dropins = NULL, *out = NULL;
        _cleanup_(closedirp) DIR *dir = NULL;
        char line[256];
        int r;

        if (access(config, F_OK) < 0) {
                add_finding(d, SEVERITY_ERROR, "config.file",
                            "Write the configuration (see devflowd.conf(5) and the examples in it).",
                            "The configuration %s is missing: %s.", config, strerror(errno));
                return 0;
        }
        check_file_mode(d, "config.permissions", "Configuration", config, /* must_exist= */ true);
        r = check_referenced_files(d, config);
        if (r < 0)
                return r;

        if (asprintf(&dropins, "%s.d", config) < 0)
                return -ENOMEM;
        dir = opendir(dropins);
        if (dir) {
                struct dirent *de;

                while ((de = readdir(dir))) {
                        _cleanup_free_ char *p = NULL;
                        size_t k = strlen(de->d_name);

                        if (de->d_name[0] == '.' || k < 6 || !streq(de->d_name + k - 5, ".conf"))
                                continue;
                        if (asprintf(&p, "%s/%s", dropins, de->d_name) < 0)
                                return -ENOMEM;
                        check_file_mode(d, "config.permissions", "Drop-in", p, /* must_exist= */ true);
                        r = check_referenced_files(d, p);
                        if (r < 0)
                                return r;
                }
        }

        if (access(devflowd, X_OK) < 0) {
                add_finding(d, SEVERITY_WARNING, "config.check", "Pass the daemon's path with --devflowd=PATH.",
                            "Cannot run %s --check-config: %s.", devflowd, strerror(errno));
                return 0;
        }
        {
                char *argv[] = { (char *) devflowd, (char *) "--check-config", (char *) "--config", (char *) config,
                                 NULL };

                r = run_command(argv, &out);
        }
        if (r == -ENOMEM)
                return r;
        if (r == 0) {
                add_finding(d, SEVERITY_OK, "config.check", NULL, "devflowd --check-config accepts %s.", config);
                return 0;
        }
        /* Report every line devflowd printed: each names file:line and the key. */
        first_line(r < 0 ? strerror(-r) : out, line, sizeof line);
        add_finding(d, SEVERITY_ERROR, "config.check", "Fix the configuration as devflowd says, then run "
                    "'devflowd --check-config' again.",
                    "devflowd --check-config rejects %s: %s", config, line);
        if (r > 0)
                for (const char *p = strchr(out, '\n'); p && p[1]; p = strchr(p + 1, '\n')) {
                        first_line(p + 1, line, sizeof line);
                        if (*line && !streq(line, "OK"))
                                add_finding(d, SEVERITY_ERROR, "config.check", "See devflowd.conf(5).", "  %s", line);
                }
        return 0;
}

/* ---- daemon ---------------------------------------------------------------------------------------- */

static int check_daemon(Doctor *d) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        static const char fix_start[] = "Start it: systemctl enable --now devflowd; see journalctl -u devflowd.";
        const char *issuer = "", *version = "";
        int reachable = -1, r;

        r = sd_bus_open_system(&bus);
        if (r < 0) {
                add_finding(d, SEVERITY_ERROR, "daemon.bus", "Start D-Bus (systemctl start dbus).",
                            "Cannot connect to the system bus: %s.", strerror(-r));
                return 0;
        }
        r = sd_bus_message_new_method_call(bus, &m, DEVFLOW_BUS_NAME, DEVFLOW_BUS_PATH, DEVFLOW_MANAGER_IFACE,
                                           "GetStatus");
        if (r < 0)
                return r;
        r = sd_bus_call(bus, m, 10 * USEC_PER_SEC, &error, &reply);
        if (r < 0) {
                if (bus_error_is_no_daemon(&error, r))
                        add_finding(d, SEVERITY_ERROR, "daemon.bus", fix_start,
                                    "devflowd is not running on the system bus (%s).",
                                    error.message ?: strerror(-r));
                else if (sd_bus_error_has_name(&error, DEVFLOW_ERROR_NOT_PERMITTED))
                        add_finding(d, SEVERITY_WARNING, "daemon.bus", "Run devflowctl doctor as root.",
                                    "devflowd is running, but only root may read its status.");
                else
                        add_finding(d, SEVERITY_ERROR, "daemon.bus", "See journalctl -u devflowd.",
                                    "devflowd did not answer GetStatus: %s.", error.message ?: strerror(-r));
                return 0;
        }

        /* Only the fields this check needs; `devflowctl status` shows all. */
        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        while (r >= 0) {
                const char *key, *contents;

                r = sd_bus_message_enter_container(reply, 'e', "sv");
                if (r <= 0)
                        break;
                r = sd_bus_message_read(reply, "s", &key);
                if (r < 0)
                        break;
                r = sd_bus_message_peek_type(reply, NULL, &contents);
                if (r < 0)
                        break;
                if (streq(key, "IdpReachable") && streq(contents, "b"))
                        r = sd_bus_message_read(reply, "v", "b", &reachable);
                else if (streq(key, "Issuer") && streq(contents, "s"))
                        r = sd_bus_message_read(reply, "v", "s", &issuer);
                else if (streq(key, "Version") && streq(contents, "s"))
                        r = sd_bus_message_read(reply, "v", "s", &version);
                else
                        r = sd_bus_message_skip(reply, "v");
                if (r < 0)
                        break;
                r = sd_bus_message_exit_container(reply);
        }
        if (r < 0) {
                add_finding(d, SEVERITY_WARNING, "daemon.bus", "Make devflowctl and devflowd the same version.",
                            "devflowd answered GetStatus with an unexpected reply.");
                return 0;
        }
        add_finding(d, SEVERITY_OK, "daemon.bus", NULL, "devflowd %s is running on the system bus.", version);
        if (reachable == 0)
                add_finding(d, SEVERITY_ERROR, "daemon.idp",
                            "Check the issuer URL, DNS, the firewall or proxy, and ca_file; journalctl -u devflowd "
                            "says what failed.",
                            "devflowd cannot reach the IdP (%s).", issuer);
        else if (reachable > 0)
                add_finding(d, SEVERITY_OK, "daemon.idp", NULL, "The IdP (%s) is reachable.", issuer);
        return 0;
}

/* ---- output ---------------------------------------------------------------------------------------- */

static void print_findings(const Doctor *d, unsigned n[_SEVERITY_MAX]) {
        if (d->o->json) {
                fputs("{\"findings\":[", stdout);
                for (size_t i = 0; i < d->n_findings; i++) {
                        const Finding *f = d->findings + i;

                        fputs(i > 0 ? ",{\"check\":" : "{\"check\":", stdout);
                        json_print_string(stdout, f->check);
                        fputs(",\"severity\":", stdout);
                        json_print_string(stdout, severity_table[f->severity]);
                        fputs(",\"message\":", stdout);
                        json_print_string(stdout, f->message);
                        fputs(",\"fix\":", stdout);
                        json_print_string(stdout, f->fix);
                        fputc('}', stdout);
                }
                printf("],\"errors\":%u,\"warnings\":%u,\"ok\":%u}\n", n[SEVERITY_ERROR], n[SEVERITY_WARNING],
                       n[SEVERITY_OK]);
                return;
        }
        for (size_t i = 0; i < d->n_findings; i++) {
                const Finding *f = d->findings + i;

                printf("%-8s", f->severity == SEVERITY_ERROR ? "ERROR" : f->severity == SEVERITY_WARNING ? "WARNING" : "ok");
                print_sanitized(stdout, f->message);
                fputc('\n', stdout);
                if (f->fix && f->severity != SEVERITY_OK) {
                        fputs("        fix: ", stdout);
                        print_sanitized(stdout, f->fix);
                        fputc('\n', stdout);
                }
        }
        printf("\n%u error%s, %u warning%s.\n", n[SEVERITY_ERROR], n[SEVERITY_ERROR] == 1 ? "" : "s",
               n[SEVERITY_WARNING], n[SEVERITY_WARNING] == 1 ? "" : "s");
}

int doctor_run(const DoctorOptions *o) {
        Doctor d = { .o = o };
        unsigned n[_SEVERITY_MAX] = {};
        int r;

        /* PAM first: the sshd check needs to know whether sshd's stack uses pam_devflow and its timeout. */
        r = check_pam(&d);
        if (r >= 0)
                r = check_sshd(&d);
        if (r >= 0)
                r = check_config(&d);
        if (r >= 0)
                r = check_daemon(&d);
        if (r < 0 || d.oom) {
                fprintf(stderr, "devflowctl: doctor: %s\n", strerror(r < 0 ? -r : ENOMEM));
                r = EXIT_FAILURE_;
                goto finish;
        }

        for (size_t i = 0; i < d.n_findings; i++)
                n[d.findings[i].severity]++;
        print_findings(&d, n);
        r = n[SEVERITY_ERROR] > 0 ? EXIT_FAILURE_ : EXIT_OK;

finish:
        for (size_t i = 0; i < d.n_findings; i++)
                finding_done(d.findings + i);
        free(d.findings);
        for (size_t i = 0; i < d.n_reported; i++)
                free(d.reported[i]);
        free(d.reported);
        return r;
}
