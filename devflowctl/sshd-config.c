/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ctl-util.h"
#include "macro.h"
#include "sshd-config.h"

#define SSHD_INCLUDE_DEPTH_MAX 8U

/* The value of one lower-case key in `sshd -T` output, copied into buf; NULL when absent. */
const char *sshd_config_value(const char *text, const char *key, char *buf, size_t size) {
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
bool sshd_methods_all_kbdint(const char *value, bool *some) {
        _cleanup_free_ char *copy = strdup(value);
        char *list, *save_lists = NULL;
        bool all = true;

        *some = false;
        if (!copy)
                return false;
        for (list = strtok_r(copy, " \t", &save_lists); list; list = strtok_r(NULL, " \t", &save_lists)) {
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

/* The first setting of KEYWORD that sshd reads from PATH and its Include files (sshd keeps the first value
 * it reads; lines in Match blocks are conditional and not looked at). Writes "FILE:LINE: text" into buf. */
static bool first_setting(const char *path, const char *keyword, unsigned depth, char *buf, size_t size) {
        _cleanup_(fclosep) FILE *f = NULL;
        _cleanup_free_ char *line = NULL;
        size_t allocated = 0;
        unsigned lineno = 0;

        if (depth > SSHD_INCLUDE_DEPTH_MAX)
                return false;
        f = fopen(path, "re");
        if (!f)
                return false;
        while (getline(&line, &allocated, f) >= 0) {
                char *p = line, *key;

                lineno++;
                p[strcspn(p, "\r\n")] = 0;
                p += strspn(p, " \t");
                if (*p == '#' || !*p)
                        continue;
                key = p;
                p += strcspn(p, " \t=");
                if (*p)
                        *p++ = 0;
                p += strspn(p, " \t=");
                if (strcasecmp(key, "Match") == 0)
                        return false;
                if (strcasecmp(key, "Include") == 0) {
                        char *pattern, *save = NULL;

                        for (pattern = strtok_r(p, " \t", &save); pattern; pattern = strtok_r(NULL, " \t", &save)) {
                                _cleanup_free_ char *full = NULL;
                                glob_t g = {};
                                bool found = false;

                                /* sshd_config(5): relative Include paths are under /etc/ssh */
                                if (asprintf(&full, "%s%s", *pattern == '/' ? "" : "/etc/ssh/", pattern) < 0)
                                        return false;
                                if (glob(full, 0, NULL, &g) == 0)
                                        for (size_t i = 0; i < g.gl_pathc && !found; i++)
                                                found = first_setting(g.gl_pathv[i], keyword, depth + 1, buf, size);
                                globfree(&g);
                                if (found)
                                        return true;
                        }
                        continue;
                }
                if (strcasecmp(key, keyword) == 0) {
                        snprintf(buf, size, "%s:%u: '%s %s'", path, lineno, key, p);
                        return true;
                }
        }
        return false;
}

bool sshd_config_first_setting(const char *path, const char *keyword, char *buf, size_t size) {
        return first_setting(path, keyword, 0, buf, size);
}

/* sshd -t's complaint 'Disabled method "keyboard-interactive" in AuthenticationMethods list' means an earlier
 * line turned that method off: name the keyword that does. */
const char *sshd_keyword_for_disabled_method(const char *text) {
        static const struct {
                const char *method, *keyword;
        } table[] = {
                { "\"keyboard-interactive\"", "KbdInteractiveAuthentication" },
                { "\"password\"",             "PasswordAuthentication" },
                { "\"publickey\"",            "PubkeyAuthentication" },
        };

        if (!strstr(text, "Disabled method"))
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (strstr(text, table[i].method))
                        return table[i].keyword;
        return NULL;
}

/* Does any AuthenticationMethods list allow a password login ("any" does when PasswordAuthentication is on)? */
bool sshd_methods_allow_password(const char *value) {
        _cleanup_free_ char *copy = strdup(value);
        char *list, *save_lists = NULL;

        if (!copy || strcasecmp(value, "any") == 0)
                return true;
        for (list = strtok_r(copy, " \t", &save_lists); list; list = strtok_r(NULL, " \t", &save_lists)) {
                char *save = NULL;

                for (char *m = strtok_r(list, ",", &save); m; m = strtok_r(NULL, ",", &save))
                        if (streq(m, "password"))
                                return true;
        }
        return false;
}
