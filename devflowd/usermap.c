/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "reason.h"
#include "secure-file.h"
#include "user-util.h"
#include "usermap.h"

typedef struct UserMapEntry {
        char *value;
        char *user;
        unsigned line;
} UserMapEntry;

struct UserMap {
        UserMapEntry *entries;  /* sorted by value after parsing */
        size_t n;
};

UserMap *usermap_free(UserMap *m) {
        if (!m)
                return NULL;
        for (size_t i = 0; i < m->n; i++) {
                free(m->entries[i].value);
                free(m->entries[i].user);
        }
        free(m->entries);
        free(m);
        return NULL;
}

size_t usermap_size(const UserMap *m) {
        return m ? m->n : 0;
}

/* A reason with "FILE:LINE: " (or "FILE: " for the whole file) in front. */
_printf_(4, 5)
static int set_error(char **ret_error, const char *filename, unsigned line, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;

        if (!ret_error)
                return -EINVAL;
        va_start(ap, fmt);
        msg = reason_formatv(fmt, ap);
        va_end(ap);
        if (!msg)
                return -ENOMEM;
        if (line > 0)
                (void) reason_set(ret_error, -EINVAL, "%s:%u: %s", strempty(filename), line, msg);
        else
                (void) reason_set(ret_error, -EINVAL, "%s: %s", strempty(filename), msg);
        return *ret_error ? -EINVAL : -ENOMEM;
}

static bool is_blank(char c) {
        return c == ' ' || c == '\t';
}

static int entry_cmp(const void *a, const void *b) {
        const UserMapEntry *x = a, *y = b;
        int c = strcmp(x->value, y->value);

        if (c != 0)
                return c;
        return x->line < y->line ? -1 : x->line > y->line;
}

static int add_entry(UserMap *m, size_t *allocated, const char *value, size_t value_len,
                     const char *user, size_t user_len, unsigned line) {
        UserMapEntry *e;

        if (m->n == *allocated) {
                size_t k = *allocated ? *allocated * 2 : 16;

                e = reallocarray(m->entries, k, sizeof *e);
                if (!e)
                        return -ENOMEM;
                m->entries = e;
                *allocated = k;
        }
        e = &m->entries[m->n];
        *e = (UserMapEntry) { .line = line };
        e->value = strndup(value, value_len);
        e->user = strndup(user, user_len);
        if (!e->value || !e->user) {
                free(e->value);
                free(e->user);
                return -ENOMEM;
        }
        m->n++;
        return 0;
}

int usermap_parse(const char *text, size_t len, const char *filename, UserMap **ret, char **ret_error) {
        _cleanup_(usermap_freep) UserMap *m = NULL;
        size_t allocated = 0;
        unsigned line = 0;
        const char *p = text, *end = text + len;
        int r;

        if ((!text && len > 0) || !ret)
                return -EINVAL;
        if (len > USERMAP_MAX_SIZE)
                return set_error(ret_error, filename, 0, "file too large (more than %u bytes)",
                                 USERMAP_MAX_SIZE);

        m = calloc(1, sizeof *m);
        if (!m)
                return -ENOMEM;

        while (p < end) {
                const char *eol = memchr(p, '\n', (size_t) (end - p));
                const char *le = eol ?: end, *q, *value, *user;
                size_t value_len, user_len;

                line++;
                if (le > p && le[-1] == '\r')   /* tolerate CRLF files */
                        le--;
                if ((size_t) (le - p) > USERMAP_MAX_LINE)
                        return set_error(ret_error, filename, line, "line too long (more than %u bytes)",
                                         USERMAP_MAX_LINE);
                for (q = p; q < le; q++)
                        if (((unsigned char) *q < 0x20 && *q != '\t') || *q == 0x7f)
                                return set_error(ret_error, filename, line,
                                                 "control character (0x%02x) in line", (unsigned char) *q);

                q = p;
                while (q < le && is_blank(*q))
                        q++;
                if (q == le || *q == '#')
                        goto next;

                value = q;
                while (q < le && !is_blank(*q))
                        q++;
                value_len = (size_t) (q - value);
                while (q < le && is_blank(*q))
                        q++;
                if (q == le || *q == '#')
                        return set_error(ret_error, filename, line,
                                         "expected \"claim-value local-user\", found one field");
                user = q;
                while (q < le && !is_blank(*q))
                        q++;
                user_len = (size_t) (q - user);
                while (q < le && is_blank(*q))
                        q++;
                if (q < le && *q != '#')
                        return set_error(ret_error, filename, line,
                                         "unexpected third field (comments start with '#')");

                if (value_len > USERMAP_MAX_VALUE)
                        return set_error(ret_error, filename, line, "claim value too long (more than %u bytes)",
                                         USERMAP_MAX_VALUE);
                if (!user_name_is_safe(user, user_len))
                        return set_error(ret_error, filename, line,
                                         "local user is not a safe user name (1-32 bytes of ASCII letters, "
                                         "digits, '.', '_', '-', '@', not starting with '-')");

                r = add_entry(m, &allocated, value, value_len, user, user_len, line);
                if (r < 0)
                        return r;
        next:
                if (!eol)
                        break;
                p = eol + 1;
        }

        if (m->n > 1)
                qsort(m->entries, m->n, sizeof *m->entries, entry_cmp);
        for (size_t i = 1; i < m->n; i++)
                if (streq(m->entries[i - 1].value, m->entries[i].value))
                        /* Claim values come from the admin's own file; still, quote nothing of it. */
                        return set_error(ret_error, filename, m->entries[i].line,
                                         "duplicate claim value (first mapped on line %u)",
                                         m->entries[i - 1].line);

        *ret = TAKE_PTR(m);
        return 0;
}

static int lookup_cmp(const void *key, const void *elem) {
        const UserMapEntry *e = elem;

        return strcmp(key, e->value);
}

const char *usermap_lookup(const UserMap *m, const char *claim_value) {
        const UserMapEntry *e;

        if (!m || !claim_value || m->n == 0)
                return NULL;
        e = bsearch(claim_value, m->entries, m->n, sizeof *m->entries, lookup_cmp);
        return e ? e->user : NULL;
}

int usermap_load(const char *path, UserMap **ret, char **ret_error) {
        _cleanup_free_ char *content = NULL, *why = NULL;
        int r;

        if (!path || !ret)
                return -EINVAL;

        /* The map decides who may log in: same ownership and mode rules as secrets. */
        r = read_secure_file(path, USERMAP_MAX_SIZE, &content, &why);
        if (r < 0)
                return reason_set(ret_error, r, "%s: %s", path, why ?: "cannot be read");
        return usermap_parse(content, strlen(content), path, ret, ret_error);
}
