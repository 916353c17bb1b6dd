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
#include "devflow-client.h"
#include "doctor.h"
#include "macro.h"
#include "pam_devflow/args.h"
#include "probe.h"
#include "sshd-config.h"

#define PAM_INCLUDE_DEPTH_MAX 8U
/* What the fix texts install: the packaged drop-in (Debian: libpam-devflow's examples). */
#define SSHD_DROPIN_EXAMPLE "/usr/share/doc/libpam-devflow/examples/50-devflow.conf"
#define SSHD_DROPIN "/etc/ssh/sshd_config.d/50-devflow.conf"
#define FIX_SSHD_DROPIN "install -m 0644 " SSHD_DROPIN_EXAMPLE " " SSHD_DROPIN " && sshd -t && systemctl reload ssh"
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
        unsigned sshd_timeout_sec;      /* the longest timeout of pam_devflow in sshd's stack, as the module
                                         * reads its arguments (an ignored timeout= leaves the default) */
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

/* The arguments of a pam_devflow line as the module itself reads them (pam_devflow/args.c). Every
 * argument it ignores is an error: the line does not do what it says. */
typedef struct ArgsCheck {
        Doctor *d;
        const char *where;
} ArgsCheck;

static void on_ignored_arg(void *userdata, const char *arg, const char *reason) {
        ArgsCheck *c = userdata;

        add_finding(c->d, SEVERITY_ERROR, "pam.args",
                    "Correct or remove the argument on that line; pam_devflow(8) lists them: qr=auto|ascii|utf8|off "
                    "prompt=enter|none timeout=10..3600 debug.",
                    "%s: pam_devflow ignores '%s' (%s), so the line does not do what it says.", c->where, arg, reason);
}

static int devflow_args(Doctor *d, const PamLine *l, const char *where, bool report, Args *ret) {
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

                bool first_time, common_after = false;
                Args args;
                int r;

                if (!is_devflow_module(l->module))
                        continue;
                snprintf(where, sizeof where, "%s/%s:%u", pam_dir(d), l->file, l->line);
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
                                             pam_dir(d)) < 0)
                                        return -ENOMEM;
                                add_finding(d, SEVERITY_WARNING, "pam.common_after", fix,
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
                bool checks = false, permissive = false;

                /* pam_devflow only authenticates: a locked or expired account is refused by the account
                 * stack (pam_unix), so one made only of pam_permit lets such accounts in. */
                r = pam_stack_read(pam_dir(d), "sshd", "account", 0, &acct);
                if (r == -ENOMEM)
                        return r;
                for (size_t j = 0; j < acct.n && !checks; j++) {
                        const PamLine *a = acct.lines + j;

                        if (is_module(a, "pam_permit") && control_ends_on_success(a->control)) {
                                /* "account sufficient pam_permit.so": the stack ends in success here, and
                                 * nothing after it is asked. */
                                add_finding(d, SEVERITY_ERROR, "pam.account",
                                            "Delete that line (Debian: keep '@include common-account' in "
                                            "/etc/pam.d/sshd).",
                                            "%s/%s:%u: 'account %s pam_permit.so' ends sshd's account stack in "
                                            "success before any check: locked and expired accounts log in after an "
                                            "approved device flow.", pam_dir(d), a->file, a->line, a->control);
                                permissive = true;
                                break;
                        }
                        if (!line_is_permissive(a))
                                checks = true;
                }
                if (!checks && !permissive)
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
                            "For SSH logins, replace '@include common-auth' in /etc/pam.d/sshd with 'auth required "
                            "pam_devflow.so' (example: /usr/share/doc/libpam-devflow/examples/sshd-devflow).",
                            "pam_devflow is in no PAM stack under %s.", pam_dir(d));
        else if (!d->sshd_uses_devflow)
                add_finding(d, SEVERITY_WARNING, "pam.sshd",
                            "For SSH logins, replace '@include common-auth' in /etc/pam.d/sshd with 'auth required "
                            "pam_devflow.so' (example: /usr/share/doc/libpam-devflow/examples/sshd-devflow).",
                            "pam_devflow is not in sshd's auth stack (%s/sshd).", pam_dir(d));
        else
                add_finding(d, SEVERITY_OK, "pam.sshd", NULL,
                            "pam_devflow is in sshd's auth stack (timeout=%u s).", d->sshd_timeout_sec);
        return 0;
}

/* ---- sshd ------------------------------------------------------------------------------------------ */

/* Runs sshd with the given flag (-t or -T) on the configuration doctor checks. */
static int run_sshd(Doctor *d, const char *flag, char **ret_output) {
        const char *sshd = d->o->sshd ?: DOCTOR_DEFAULT_SSHD;
        char *argv[] = { (char *) sshd, (char *) flag, NULL, NULL, NULL };

        if (d->o->sshd_config) {
                argv[2] = (char *) "-f";
                argv[3] = (char *) d->o->sshd_config;
        }
        return run_command(argv, ret_output);
}

/* sshd -t failed: an error that quotes sshd and, where sshd names a disabled method, the earlier line that
 * disabled it. Returns 0 or -ENOMEM. */
static void report_sshd_test(Doctor *d, const char *out, int r) {
        const char *config = d->o->sshd_config ?: "/etc/ssh/sshd_config";
        const char *keyword;
        char quote[256], earlier[512] = "";

        first_line(r < 0 ? strerror(-r) : out, quote, sizeof quote);
        /* skip sshd's "line N: Deprecated option" chatter: quote the line that says what failed */
        for (const char *p = out; r >= 0 && p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
                if (strstr(p, "Disabled method") == p || strncasecmp(p, "fatal", 5) == 0 || strstr(p, "Bad ") == p ||
                    strstr(p, "no argument") || strstr(p, "Unsupported option") || strstr(p, "bad configuration")) {
                        first_line(p, quote, sizeof quote);
                        break;
                }
        keyword = r >= 0 ? sshd_keyword_for_disabled_method(out) : NULL;
        if (keyword && sshd_config_first_setting(config, keyword, earlier, sizeof earlier))
                add_finding(d, SEVERITY_ERROR, "sshd.test",
                            "Put the settings in a drop-in, which Debian's sshd_config reads before its own lines, "
                            "delete the lines added at the end of sshd_config, then check: " FIX_SSHD_DROPIN,
                            "sshd -t rejects the configuration: '%s'. sshd keeps the first value it reads, and the "
                            "first %s is %s: a later line does not change it. sshd will not (re)start like this.",
                            quote, keyword, earlier);
        else
                add_finding(d, SEVERITY_ERROR, "sshd.test",
                            "Correct what sshd names, then check with: sshd -t",
                            "sshd -t rejects the configuration: '%s'. sshd will not (re)start like this.", quote);
}

static int check_sshd(Doctor *d) {
        const char *sshd = d->o->sshd ?: DOCTOR_DEFAULT_SSHD;
        _cleanup_free_ char *out = NULL, *test_out = NULL;
        char v[256], line[256];
        Severity bad = d->sshd_uses_devflow ? SEVERITY_ERROR : SEVERITY_WARNING;
        unsigned timeout = d->sshd_uses_devflow ? d->sshd_timeout_sec : ARGS_TIMEOUT_DEFAULT_SEC;
        bool use_pam = false;
        int r;

        if (access(sshd, X_OK) < 0) {
                if (d->o->sshd_config || d->o->sshd)
                        add_finding(d, SEVERITY_ERROR, "sshd.read", "Install openssh-server: apt-get install openssh-server",
                                    "%s is not there: cannot read sshd's configuration.", sshd);
                else
                        add_finding(d, SEVERITY_OK, "sshd.read", NULL, "sshd is not installed: nothing to check.");
                return 0;
        }
        r = run_sshd(d, "-t", &test_out);
        if (r == -ENOMEM)
                return r;
        if (r != 0) {
                report_sshd_test(d, strempty(test_out), r);
                return 0;
        }
        add_finding(d, SEVERITY_OK, "sshd.test", NULL, "sshd -t accepts the configuration.");
        r = run_sshd(d, "-T", &out);
        if (r == -ENOMEM)
                return r;
        if (r != 0) {
                first_line(r < 0 ? strerror(-r) : out, line, sizeof line);
                add_finding(d, SEVERITY_ERROR, "sshd.read", "Correct what sshd names, then check with: sshd -T",
                            "sshd -T cannot print the effective configuration: '%s'.", line);
                return 0;
        }

        if (sshd_config_value(out, "usepam", v, sizeof v) && strcasecmp(v, "yes") != 0)
                add_finding(d, bad, "sshd.use_pam", FIX_SSHD_DROPIN,
                            "sshd: UsePAM is '%s': sshd never runs the PAM stack, so pam_devflow is never asked.", v);
        else {
                use_pam = true;
                add_finding(d, SEVERITY_OK, "sshd.use_pam", NULL, "sshd: UsePAM is on.");
        }

        if (sshd_config_value(out, "kbdinteractiveauthentication", v, sizeof v) ||
            sshd_config_value(out, "challengeresponseauthentication", v, sizeof v)) {
                if (strcasecmp(v, "yes") != 0)
                        add_finding(d, bad, "sshd.kbd_interactive", FIX_SSHD_DROPIN,
                                    "sshd: KbdInteractiveAuthentication is '%s': the device flow's prompt "
                                    "(keyboard-interactive) is never offered.", v);
                else
                        add_finding(d, SEVERITY_OK, "sshd.kbd_interactive", NULL,
                                    "sshd: KbdInteractiveAuthentication is on.");
        }

        if (sshd_config_value(out, "authenticationmethods", v, sizeof v)) {
                bool some;

                if (strcasecmp(v, "any") == 0)
                        add_finding(d, SEVERITY_WARNING, "sshd.authentication_methods",
                                    "To require the device flow after a public key: " FIX_SSHD_DROPIN,
                                    "sshd: AuthenticationMethods is 'any': a public key alone logs in without the "
                                    "device flow.");
                else if (sshd_methods_all_kbdint(v, &some))
                        add_finding(d, SEVERITY_OK, "sshd.authentication_methods", NULL,
                                    "sshd: every AuthenticationMethods list requires keyboard-interactive.");
                else if (some)
                        add_finding(d, SEVERITY_WARNING, "sshd.authentication_methods",
                                    "If the device flow must be required, add keyboard-interactive to every list of "
                                    "AuthenticationMethods in " SSHD_DROPIN ", then: sshd -t && systemctl reload ssh",
                                    "sshd: AuthenticationMethods '%s' has a list without keyboard-interactive: it "
                                    "logs in without the device flow.", v);
                else
                        add_finding(d, bad, "sshd.authentication_methods", FIX_SSHD_DROPIN,
                                    "sshd: AuthenticationMethods '%s' never uses keyboard-interactive, so the "
                                    "device flow is never reached.", v);
        }

        /* With UsePAM, sshd checks passwords through the same PAM auth stack: there pam_devflow starts a
         * flow whose code no one sees, and the attempt waits until the module's timeout. */
        if (d->sshd_uses_devflow && use_pam && sshd_config_value(out, "passwordauthentication", v, sizeof v) &&
            strcasecmp(v, "yes") == 0) {
                char methods[256];

                if (!sshd_config_value(out, "authenticationmethods", methods, sizeof methods) ||
                    sshd_methods_allow_password(methods))
                        add_finding(d, SEVERITY_ERROR, "sshd.password",
                                    "Turn password logins off (the drop-in sets 'PasswordAuthentication no'): "
                                    FIX_SSHD_DROPIN,
                                    "sshd: PasswordAuthentication is on and sshd's PAM auth stack runs pam_devflow: "
                                    "sshd checks a password through that stack, so each password attempt starts a "
                                    "device flow whose code nobody sees and hangs up to %u s before it fails.",
                                    timeout);
                else
                        add_finding(d, SEVERITY_WARNING, "sshd.password",
                                    "Also set 'PasswordAuthentication no' (the drop-in does): " FIX_SSHD_DROPIN,
                                    "sshd: PasswordAuthentication is on; only AuthenticationMethods '%s' keeps "
                                    "password attempts out of pam_devflow.", methods);
        } else if (d->sshd_uses_devflow)
                add_finding(d, SEVERITY_OK, "sshd.password", NULL, "sshd: PasswordAuthentication is off.");

        if (sshd_config_value(out, "logingracetime", v, sizeof v)) {
                char *end;
                unsigned long grace;

                errno = 0;
                grace = strtoul(v, &end, 10);
                if (errno != 0 || end == v || *end != 0)
                        add_finding(d, SEVERITY_WARNING, "sshd.login_grace_time", NULL,
                                    "sshd: cannot read LoginGraceTime '%s'.", v);
                else if (grace != 0 && grace <= timeout)
                        add_finding(d, bad, "sshd.login_grace_time",
                                    "Set 'LoginGraceTime' above the module's timeout in " SSHD_DROPIN
                                    " (e.g. 'LoginGraceTime 180'), or lower timeout= on the pam_devflow line; "
                                    "then: sshd -t && systemctl reload ssh",
                                    "sshd: LoginGraceTime is %lu s but pam_devflow waits up to %u s: sshd cuts the "
                                    "connection while the user is still approving, and a fresh code's 'Valid "
                                    "until' promises time sshd does not give.", grace, timeout);
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
                        add_finding(d, SEVERITY_ERROR, check,
                                    "Create the file (see devflowd.conf(5)) or correct the key that names it.",
                                    "%s %s: %s.", what, path, strerror(errno));
                return;
        }
        if (!S_ISREG(st.st_mode)) {
                add_finding(d, SEVERITY_ERROR, check, "Point it at a regular file.", "%s %s is not a regular file.",
                            what, path);
                return;
        }
        _cleanup_free_ char *fix_chown = NULL, *fix_chmod = NULL, *fix_chgrp = NULL;

        if (asprintf(&fix_chown, "chown root:root %s", path) < 0 || asprintf(&fix_chmod, "chmod 0600 %s", path) < 0 ||
            asprintf(&fix_chgrp, "chmod 0600 %s (or: chgrp root %s)", path, path) < 0) {
                d->oom = true;
                return;
        }
        if (st.st_uid != 0)
                add_finding(d, SEVERITY_ERROR, check, fix_chown,
                            "%s %s is owned by uid %u, not root: that user can change who logs in.", what, path,
                            (unsigned) st.st_uid);
        if (st.st_mode & (S_IROTH | S_IWOTH))
                add_finding(d, SEVERITY_ERROR, check, fix_chmod,
                            "%s %s is %s (mode %04o).", what, path,
                            st.st_mode & S_IWOTH ? "world-writable" : "world-readable",
                            (unsigned) (st.st_mode & 07777));
        else if (st.st_mode & S_IWGRP)
                add_finding(d, SEVERITY_ERROR, check, fix_chmod,
                            "%s %s is group-writable (mode %04o).", what, path, (unsigned) (st.st_mode & 07777));
        else if ((st.st_mode & S_IRGRP) && st.st_gid != 0)
                add_finding(d, SEVERITY_WARNING, check, fix_chgrp,
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
                            "Write it from the packaged example (devflowd.conf(5) documents every key): "
                            "apt-get install --reinstall -o Dpkg::Options::=--force-confmiss devflowd",
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
                add_finding(d, SEVERITY_WARNING, "config.check",
                            "Install devflowd (apt-get install devflowd), or name the daemon: devflowctl doctor "
                            "--devflowd=PATH",
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
        {
                _cleanup_free_ char *fix = NULL;

                if (asprintf(&fix, "Correct what devflowd names (file, line, key), then check with: %s "
                             "--check-config --config %s", devflowd, config) < 0)
                        return -ENOMEM;
                add_finding(d, SEVERITY_ERROR, "config.check", fix, "devflowd --check-config rejects %s: %s",
                            config, line);
        }
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
        _cleanup_(devflow_status_done) DevflowStatus status = {};
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        static const char fix_start[] = "Start it (D-Bus activation also starts it on the first login): systemctl "
                                        "start devflowd; its log: journalctl -u devflowd";
        const char *issuer = "", *version = "";
        uint64_t last_age = USEC_INFINITY;
        int reachable = -1, r;

        r = sd_bus_open_system(&bus);
        if (r < 0) {
                add_finding(d, SEVERITY_ERROR, "daemon.bus", "Start D-Bus (systemctl start dbus).",
                            "Cannot connect to the system bus: %s.", strerror(-r));
                return 0;
        }
        r = devflow_get_status(bus, 10 * USEC_PER_SEC, &error, &status);
        if (r == -EBADMSG && !sd_bus_error_is_set(&error)) {
                add_finding(d, SEVERITY_WARNING, "daemon.bus", "Make devflowctl and devflowd the same version.",
                            "devflowd answered GetStatus with an unexpected reply.");
                return 0;
        }
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                if (devflow_error_is_unreachable(&error, r))
                        add_finding(d, SEVERITY_ERROR, "daemon.bus", fix_start,
                                    "devflowd is not running on the system bus (%s).",
                                    error.message ?: strerror(-r));
                else if (sd_bus_error_has_name(&error, DEVFLOW_ERROR_NOT_PERMITTED))
                        add_finding(d, SEVERITY_WARNING, "daemon.bus", "Run devflowctl doctor as root.",
                                    "devflowd is running, but only root may read its status.");
                else
                        add_finding(d, SEVERITY_ERROR, "daemon.bus", "Read the daemon's log: journalctl -u devflowd",
                                    "devflowd did not answer GetStatus: %s.", error.message ?: strerror(-r));
                return 0;
        }
        issuer = strempty(status.issuer);
        version = strempty(status.version);
        last_age = status.idp_last_request_age_usec;
        reachable = status.idp_reachable;

        add_finding(d, SEVERITY_OK, "daemon.bus", NULL, "devflowd %s is running on the system bus.", version);
        /* What the daemon saw last, with its age: a cached discovery document says nothing about now. */
        if (last_age == USEC_INFINITY)
                add_finding(d, SEVERITY_OK, "daemon.idp_last", NULL,
                            "devflowd has not sent the IdP (%s) a request yet.", issuer);
        else {
                char age[64];

                format_timespan(age, sizeof age, last_age);
                if (reachable == 0)
                        add_finding(d, SEVERITY_WARNING, "daemon.idp_last",
                                    "Read why in the daemon's log: journalctl -u devflowd",
                                    "devflowd's last request to the IdP (%s), %s ago, got no answer.", issuer, age);
                else
                        add_finding(d, SEVERITY_OK, "daemon.idp_last", NULL,
                                    "devflowd's last request to the IdP (%s), %s ago, got an answer.", issuer, age);
        }
        return 0;
}

/* doctor's own request to the IdP, now. */
static int check_idp(Doctor *d) {
        const char *config = d->o->config ?: DOCTOR_DEFAULT_CONFIG;
        ProbeResult p;
        char took[64];
        int r;

        r = probe_idp(config, &p);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                add_finding(d, SEVERITY_WARNING, "daemon.idp", "Correct the configuration first (see above).",
                            "The IdP was not probed: %s does not load.", config);
                return 0;
        }
        format_timespan(took, sizeof took, p.elapsed_usec);
        if (!p.answered)
                add_finding(d, SEVERITY_ERROR, "daemon.idp",
                            "Check the issuer URL and ca_file in the configuration, DNS, the firewall and the proxy; "
                            "try by hand: curl -sS -o /dev/null -w '%{http_code}\\n' URL (with --cacert for ca_file)",
                            "The IdP does not answer %s: %s (after %s).", p.url, p.error, took);
        else if (p.status != 200)
                add_finding(d, SEVERITY_ERROR, "daemon.idp",
                            "Check the issuer (or jwks_uri) in the configuration: it must be the IdP's own URL.",
                            "The IdP answers %s with HTTP %ld (in %s), not 200.", p.url, p.status, took);
        else
                add_finding(d, SEVERITY_OK, "daemon.idp", NULL, "The IdP answers %s (HTTP 200 in %s).", p.url, took);
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
                text_fputs(stdout, f->message);
                fputc('\n', stdout);
                if (f->fix && f->severity != SEVERITY_OK) {
                        fputs("        fix: ", stdout);
                        text_fputs(stdout, f->fix);
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

        /* sshd -T needs the host keys, the configuration is 0600, and the daemon answers only root: as
         * another user every check would report a problem that is not there. */
        if (geteuid() != 0) {
                if (o->json)
                        puts("{\"error\":\"NotPermitted\",\"message\":\"run devflowctl doctor as root\"}");
                else
                        fputs("devflowctl: doctor reads sshd's host keys, devflowd's configuration and the daemon's "
                              "status: run it as root (sudo devflowctl doctor).\n", stderr);
                return EXIT_NOT_PERMITTED;
        }

        /* PAM first: the sshd check needs to know whether sshd's stack uses pam_devflow and its timeout. */
        r = check_pam(&d);
        if (r >= 0)
                r = check_sshd(&d);
        if (r >= 0)
                r = check_config(&d);
        if (r >= 0)
                r = check_daemon(&d);
        if (r >= 0)
                r = check_idp(&d);
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
