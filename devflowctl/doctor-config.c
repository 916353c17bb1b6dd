/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "command.h"
#include "ctl-util.h"
#include "doctor-config.h"
#include "macro.h"

/* Checks that a file holding a secret (or deciding who logs in) is root's and not open to others. */
static void check_file_mode(Findings *d, const char *check, const char *what, const char *path, bool must_exist) {
        struct stat st;

        if (stat(path, &st) < 0) {
                if (errno != ENOENT || must_exist)
                        findings_add(d, SEVERITY_ERROR, check,
                                     "Create the file (see devflowd.conf(5)) or correct the key that names it.",
                                     "%s %s: %s.", what, path, strerror(errno));
                return;
        }
        if (!S_ISREG(st.st_mode)) {
                findings_add(d, SEVERITY_ERROR, check, "Point it at a regular file.", "%s %s is not a regular file.",
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
                findings_add(d, SEVERITY_ERROR, check, fix_chown,
                             "%s %s is owned by uid %u, not root: that user can change who logs in.", what, path,
                             (unsigned) st.st_uid);
        if (st.st_mode & (S_IROTH | S_IWOTH))
                findings_add(d, SEVERITY_ERROR, check, fix_chmod,
                             "%s %s is %s (mode %04o).", what, path,
                             st.st_mode & S_IWOTH ? "world-writable" : "world-readable",
                             (unsigned) (st.st_mode & 07777));
        else if (st.st_mode & S_IWGRP)
                findings_add(d, SEVERITY_ERROR, check, fix_chmod,
                             "%s %s is group-writable (mode %04o).", what, path, (unsigned) (st.st_mode & 07777));
        else if ((st.st_mode & S_IRGRP) && st.st_gid != 0)
                findings_add(d, SEVERITY_WARNING, check, fix_chgrp,
                             "%s %s is readable by group %u (mode %04o).", what, path, (unsigned) st.st_gid,
                             (unsigned) (st.st_mode & 07777));
        else if (st.st_uid == 0)
                findings_add(d, SEVERITY_OK, check, NULL, "%s %s: owner root, mode %04o.", what, path,
                             (unsigned) (st.st_mode & 07777));
}

/* The files a configuration points at: "key = /path" for the keys that name secret or policy files. */
static int check_referenced_files(Findings *d, const char *config) {
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

int doctor_check_config(Findings *d, const char *config, const char *devflowd) {
        _cleanup_free_ char *dropins = NULL, *out = NULL;
        _cleanup_(closedirp) DIR *dir = NULL;
        char line[256];
        int r;

        if (access(config, F_OK) < 0) {
                findings_add(d, SEVERITY_ERROR, "config.file",
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
                findings_add(d, SEVERITY_WARNING, "config.check",
                             "Install devflowd (apt-get install devflowd), or name the daemon: devflowctl doctor "
                             "--devflowd=PATH",
                             "Cannot run %s --check-config: %s.", devflowd, strerror(errno));
                return 0;
        }
        {
                char *argv[] = { (char *) devflowd, (char *) "--check-config", (char *) "--config", (char *) config,
                                 NULL };

                r = command_run(argv, &out);
        }
        if (r == -ENOMEM)
                return r;
        if (r == 0) {
                findings_add(d, SEVERITY_OK, "config.check", NULL, "devflowd --check-config accepts %s.", config);
                return 0;
        }
        /* Report every line devflowd printed: each names file:line and the key. */
        command_first_line(r < 0 ? strerror(-r) : out, line, sizeof line);
        {
                _cleanup_free_ char *fix = NULL;

                if (asprintf(&fix, "Correct what devflowd names (file, line, key), then check with: %s "
                             "--check-config --config %s", devflowd, config) < 0)
                        return -ENOMEM;
                findings_add(d, SEVERITY_ERROR, "config.check", fix, "devflowd --check-config rejects %s: %s",
                             config, line);
        }
        if (r > 0)
                for (const char *p = strchr(out, '\n'); p && p[1]; p = strchr(p + 1, '\n')) {
                        command_first_line(p + 1, line, sizeof line);
                        if (*line && !streq(line, "OK"))
                                findings_add(d, SEVERITY_ERROR, "config.check", "See devflowd.conf(5).", "  %s", line);
                }
        return 0;
}
