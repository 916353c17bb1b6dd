/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "jwa.h"
#include "macro.h"
#include "netaddr.h"
#include "reason.h"
#include "secure-file.h"
#include "text-safety.h"
#include "url-policy.h"
#include "utf8.h"

#define CONFIG_MAX_FILE (1024U * 1024U)
#define SECRET_MAX 4096U
#define QUOTE_MAX 64U            /* bytes of a key or value quoted in a message */

typedef enum KeyType {
        T_STRING,
        T_URL,
        T_PATH,
        T_SECRET,
        T_KEYFILE,
        T_SECONDS,
        T_BOOL,
        T_AUTH,
        T_UINT,
        T_LIST,
        T_ALGS,
        T_RHOSTS,
        T_PARAMS,
        T_SCOPE,
} KeyType;

typedef struct KeyDef {
        const char *section;
        const char *key;
        KeyType type;
        size_t offset;
        uint64_t min, max;      /* seconds or count bounds */
} KeyDef;

#define K(s, k, t, f, ...) { .section = s, .key = k, .type = t, .offset = offsetof(Config, f), __VA_ARGS__ }

static const KeyDef keys[] = {
        K("idp", "issuer",                        T_URL,     issuer),
        K("idp", "device_authorization_endpoint", T_URL,     device_authorization_endpoint),
        K("idp", "token_endpoint",                T_URL,     token_endpoint),
        K("idp", "jwks_uri",                      T_URL,     jwks_uri),
        K("idp", "userinfo_endpoint",             T_URL,     userinfo_endpoint),
        K("idp", "client_id",                     T_STRING,  client_id),
        K("idp", "client_secret",                 T_SECRET,  client_secret),
        K("idp", "client_secret_file",            T_PATH,    client_secret_file),
        K("idp", "client_auth",                   T_AUTH,    client_auth),
        K("idp", "client_key_file",               T_KEYFILE, client_key_file),
        K("idp", "client_cert_file",              T_PATH,    client_cert_file),
        K("idp", "scope",                         T_SCOPE,   scope),
        K("idp", "extra_params",                  T_PARAMS,  extra_params),
        K("idp", "ca_file",                       T_PATH,    ca_file),
        K("idp", "http_timeout",                  T_SECONDS, http_timeout_usec, .min = 1, .max = 300),
        K("idp", "allow_http_loopback",           T_BOOL,    allow_http_loopback),
        K("idp", "id_token_algs",                 T_ALGS,    id_token_algs),
        K("idp", "clock_skew",                    T_SECONDS, clock_skew_usec, .min = 0, .max = 600),
        K("idp", "id_token_max_age",              T_SECONDS, id_token_max_age_usec, .min = 10, .max = 86400),

        K("login", "username_claim",              T_LIST,    username_claim),
        K("login", "strip_domains",               T_LIST,    strip_domains),
        K("login", "map_file",                    T_KEYFILE, map_file),
        K("login", "lowercase",                   T_BOOL,    lowercase),
        K("login", "allow_root",                  T_BOOL,    allow_root),
        K("login", "require_groups",              T_LIST,    require_groups),
        K("login", "groups_claim",                T_STRING,  groups_claim),
        K("login", "acr_values",                  T_STRING,  acr_values),
        K("login", "max_age",                     T_SECONDS, max_age_usec, .min = 0, .max = 366 * 86400),
        K("login", "require_acr",                 T_LIST,    require_acr),
        K("login", "require_amr",                 T_LIST,    require_amr),
        K("login", "allowed_rhosts",              T_RHOSTS,  allowed_rhosts),

        K("limits", "max_flows",                  T_UINT,    max_flows, .min = 1, .max = 1000000),
        K("limits", "max_flows_per_user",         T_UINT,    max_flows_per_user, .min = 1, .max = 1000000),
        K("limits", "max_flows_per_rhost",        T_UINT,    max_flows_per_rhost, .min = 1, .max = 1000000),
        K("limits", "max_flows_per_user_per_rhost", T_UINT,  max_flows_per_user_per_rhost, .min = 1, .max = 1000000),
        K("limits", "max_new_flows_per_rhost_per_minute", T_UINT, max_new_flows_per_rhost_per_minute, .min = 1, .max = 10000000),
        K("limits", "max_login_time",             T_SECONDS, max_login_time_usec, .min = 10, .max = 3600),
};

#define N_KEYS ELEMENTSOF(keys)

static const char *const reserved_params[] = {
        "client_id", "client_secret", "client_assertion", "client_assertion_type", "grant_type",
        "device_code", "scope", "acr_values", "max_age",
};

/* Where each key was last set, for messages from checks made after all files are read. */
struct ConfigOrigin {
        char *file;
        unsigned line;
};

static const char *const client_auth_table[_CLIENT_AUTH_MAX] = {
        [CLIENT_AUTH_NONE]                = "none",
        [CLIENT_AUTH_CLIENT_SECRET_BASIC] = "client_secret_basic",
        [CLIENT_AUTH_CLIENT_SECRET_POST]  = "client_secret_post",
        [CLIENT_AUTH_PRIVATE_KEY_JWT]     = "private_key_jwt",
        [CLIENT_AUTH_TLS_CLIENT_AUTH]     = "tls_client_auth",
};

const char *client_auth_to_string(ClientAuth a) {
        return a >= 0 && a < _CLIENT_AUTH_MAX ? client_auth_table[a] : NULL;
}

ClientAuth client_auth_from_string(const char *s) {
        for (int i = 0; i < _CLIENT_AUTH_MAX; i++)
                if (s && streq(s, client_auth_table[i]))
                        return (ClientAuth) i;
        return _CLIENT_AUTH_INVALID;
}

static char **strv_new_split(const char *s) {
        char **l = NULL;
        size_t n = 0;

        for (const char *p = s;;) {
                size_t len;
                char **nl;

                p += strspn(p, " \t,");
                if (!*p)
                        break;
                len = strcspn(p, " \t,");
                nl = reallocarray(l, n + 2, sizeof *l);
                if (!nl)
                        return strv_free(l);
                l = nl;
                l[n] = strndup(p, len);
                if (!l[n])
                        return strv_free(l);
                l[++n] = NULL;
                p += len;
        }
        if (!l)
                l = calloc(1, sizeof *l);
        return l;
}

static bool strv_contains(char *const *l, const char *s) {
        for (; l && *l; l++)
                if (streq(*l, s))
                        return true;
        return false;
}

Config *config_new(void) {
        Config *c = calloc(1, sizeof *c);
        if (!c)
                return NULL;
        c->client_auth = CLIENT_AUTH_NONE;
        c->http_timeout_usec = 10 * USEC_PER_SEC;
        c->clock_skew_usec = 60 * USEC_PER_SEC;
        c->id_token_max_age_usec = 600 * USEC_PER_SEC;
        c->max_age_usec = USEC_INFINITY;
        c->max_flows = 256;
        c->max_flows_per_user = 16;
        c->max_flows_per_user_per_rhost = 2;
        c->max_flows_per_rhost = 5;
        c->max_new_flows_per_rhost_per_minute = 10;
        c->max_login_time_usec = 600 * USEC_PER_SEC;
        c->scope = strdup("openid profile email");
        c->groups_claim = strdup("groups");
        c->username_claim = strv_new_split("preferred_username");
        c->id_token_algs = jwa_alg_names_strv();
        c->origins = calloc(N_KEYS, sizeof(struct ConfigOrigin));
        if (!c->scope || !c->groups_claim || !c->username_claim || !c->id_token_algs || !c->origins)
                return config_free(c);
        return c;
}

static void *field(Config *c, const KeyDef *k) {
        return (uint8_t *) c + k->offset;
}

static void field_clear(Config *c, const KeyDef *k) {
        void *f = field(c, k);

        switch (k->type) {
        case T_SECRET:
                *(char **) f = erase_and_free(*(char **) f);
                break;
        case T_STRING: case T_URL: case T_PATH: case T_KEYFILE: case T_PARAMS: case T_SCOPE:
                *(char **) f = mfree(*(char **) f);
                break;
        case T_LIST: case T_ALGS: case T_RHOSTS:
                *(char ***) f = strv_free(*(char ***) f);
                break;
        default:
                break;
        }
}

Config *config_free(Config *c) {
        if (!c)
                return NULL;
        for (size_t i = 0; i < N_KEYS; i++)
                field_clear(c, &keys[i]);
        if (c->origins)
                for (size_t i = 0; i < N_KEYS; i++)
                        free(c->origins[i].file);
        free(c->origins);
        free(c);
        return NULL;
}

/* ---- errors ------------------------------------------------------------------------------------ */

/* A key or value from a file, for a message: control characters removed, cut at QUOTE_MAX bytes. */
static char *quote(const char *v) {
        return text_quote(v, QUOTE_MAX, /* ascii_only= */ false);
}

static int add_errorv(ConfigErrors *errors, const char *file, unsigned line, const char *section,
                      const char *key, const char *fmt, va_list ap) _printf_(6, 0);
static int add_errorv(ConfigErrors *errors, const char *file, unsigned line, const char *section,
                      const char *key, const char *fmt, va_list ap) {
        ConfigError *e;

        if (!errors)
                return -EINVAL;
        if (errors->n >= 1000)          /* enough to fix a file; bounded against hostile input */
                return -EINVAL;
        e = reallocarray(errors->errors, errors->n + 1, sizeof *e);
        if (!e)
                return -ENOMEM;
        errors->errors = e;
        e = &errors->errors[errors->n];
        *e = (ConfigError) {
                .line = line,
                .message = reason_formatv(fmt, ap),
        };
        e->file = strdup(strempty(file));
        e->section = section ? strdup(section) : NULL;
        e->key = key ? quote(key) : NULL;
        errors->n++;
        return -EINVAL;
}

static int add_error(ConfigErrors *errors, const char *file, unsigned line, const char *section,
                     const char *key, const char *fmt, ...) _printf_(6, 7);
static int add_error(ConfigErrors *errors, const char *file, unsigned line, const char *section,
                     const char *key, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = add_errorv(errors, file, line, section, key, fmt, ap);
        va_end(ap);
        return r;
}

void config_errors_print(const ConfigErrors *errors, FILE *f) {
        for (size_t i = 0; i < errors->n; i++) {
                const ConfigError *e = &errors->errors[i];

                fputs(strempty(e->file), f);
                if (e->line > 0)
                        fprintf(f, ":%u", e->line);
                fputs(":", f);
                if (e->section)
                        fprintf(f, " [%s]", e->section);
                if (e->key)
                        fprintf(f, " %s:", e->key);
                fprintf(f, " %s\n", strna(e->message));
        }
}

void config_errors_done(ConfigErrors *errors) {
        for (size_t i = 0; i < errors->n; i++) {
                free(errors->errors[i].file);
                free(errors->errors[i].section);
                free(errors->errors[i].key);
                free(errors->errors[i].message);
        }
        free(errors->errors);
        *errors = (ConfigErrors) {};
}

/* ---- value checks ------------------------------------------------------------------------------ */

/* At parse time: an https URL, or any http:// one, whose loopback rule is checked once the whole
 * configuration is read (allow_http_loopback may come later). */
static bool url_syntax_ok(const char *url) {
        return url_policy_ok(url, false) || strncmp(url, "http://", 7) == 0;
}

static bool is_hex(char ch) {
        return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

/* Unreserved characters, '+' (a form-encoded space) and %XX escapes only. */
static bool param_chars_ok(const char *s, size_t n) {
        for (size_t i = 0; i < n; i++) {
                char ch = s[i];

                if (ch == '%') {
                        if (i + 2 >= n || !is_hex(s[i + 1]) || !is_hex(s[i + 2]))
                                return false;
                        i += 2;
                } else if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                             (ch && strchr("-._~+", ch))))
                        return false;
        }
        return true;
}

/* extra_params: already URL-encoded pairs a=b&c=d that may not override what the daemon sends. */
static const char *params_problem(const char *v) {
        for (const char *p = v; *p;) {
                size_t len = strcspn(p, "&"), klen;
                const char *eq = memchr(p, '=', len);

                if (len == 0 || !eq || eq == p)
                        return "expected URL-encoded name=value pairs joined by '&'";
                klen = (size_t) (eq - p);
                if (!param_chars_ok(p, klen) || !param_chars_ok(eq + 1, len - klen - 1))
                        return "expected URL-encoded name=value pairs joined by '&'";
                for (size_t i = 0; i < ELEMENTSOF(reserved_params); i++)
                        if (strlen(reserved_params[i]) == klen && strncmp(p, reserved_params[i], klen) == 0)
                                return "may not set a parameter the daemon sends itself";
                p += len;
                if (*p == '&')
                        p++;
        }
        return NULL;
}

static int parse_seconds(const char *v, uint64_t *ret) {
        uint64_t x = 0;
        size_t n = strlen(v);

        if (n > 1 && v[n - 1] == 's')
                n--;
        if (n == 0 || n > 9)
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                if (v[i] < '0' || v[i] > '9')
                        return -EINVAL;
                x = x * 10 + (uint64_t) (v[i] - '0');
        }
        *ret = x;
        return 0;
}

static int parse_bool(const char *v, bool *ret) {
        if (streq(v, "yes") || streq(v, "true") || streq(v, "1") || streq(v, "on"))
                *ret = true;
        else if (streq(v, "no") || streq(v, "false") || streq(v, "0") || streq(v, "off"))
                *ret = false;
        else
                return -EINVAL;
        return 0;
}

/* Parse VALUE into the field of key K; on failure add an error and return -EINVAL. */
static int set_value(Config *c, const KeyDef *k, const char *file, unsigned line, const char *value,
                     ConfigErrors *errors) {
        _cleanup_free_ char *q = quote(value);
        void *f = field(c, k);
        const char *problem;
        uint64_t x;
        bool b;

#define BAD(...) add_error(errors, file, line, k->section, k->key, __VA_ARGS__)

        if (!q)
                return -ENOMEM;

        /* An empty value resets the key to its default or unset. */
        if (!*value) {
                Config *d = config_new();
                if (!d)
                        return -ENOMEM;
                field_clear(c, k);
                switch (k->type) {
                case T_SECONDS:
                        *(uint64_t *) f = *(uint64_t *) field(d, k);
                        break;
                case T_BOOL:
                        *(bool *) f = *(bool *) field(d, k);
                        break;
                case T_AUTH:
                        *(ClientAuth *) f = CLIENT_AUTH_NONE;
                        break;
                case T_UINT:
                        *(unsigned *) f = *(unsigned *) field(d, k);
                        break;
                case T_LIST: case T_ALGS: case T_RHOSTS:
                        *(char ***) f = *(char ***) field(d, k);
                        *(char ***) field(d, k) = NULL;
                        break;
                default:
                        *(char **) f = *(char **) field(d, k);
                        *(char **) field(d, k) = NULL;
                }
                config_free(d);
                return 0;
        }

        switch (k->type) {
        case T_STRING:
        case T_SECRET:
                if (strlen(value) > SECRET_MAX)
                        return BAD("value too long");
                break;
        case T_URL:
                if (!url_syntax_ok(value))
                        return BAD("expected an https URL, got '%s'", q);
                break;
        case T_PATH:
        case T_KEYFILE:
                if (value[0] != '/')
                        return BAD("expected an absolute path, got '%s'", q);
                break;
        case T_SECONDS:
                if (parse_seconds(value, &x) < 0)
                        return BAD("expected seconds, got '%s'", q);
                if (x < k->min || x > k->max)
                        return BAD("expected seconds between %" PRIu64 " and %" PRIu64 ", got '%s'", k->min, k->max, q);
                *(uint64_t *) f = x * USEC_PER_SEC;
                return 0;
        case T_UINT:
                if (parse_seconds(value, &x) < 0 || value[strlen(value) - 1] == 's')
                        return BAD("expected a number, got '%s'", q);
                if (x < k->min || x > k->max)
                        return BAD("expected a number between %" PRIu64 " and %" PRIu64 ", got '%s'", k->min, k->max, q);
                *(unsigned *) f = (unsigned) x;
                return 0;
        case T_BOOL:
                if (parse_bool(value, &b) < 0)
                        return BAD("expected yes or no, got '%s'", q);
                *(bool *) f = b;
                return 0;
        case T_AUTH: {
                ClientAuth a = client_auth_from_string(value);
                if (a < 0)
                        return BAD("expected none, client_secret_basic, client_secret_post, private_key_jwt or "
                                   "tls_client_auth, got '%s'", q);
                *(ClientAuth *) f = a;
                return 0;
        }
        case T_PARAMS:
                problem = params_problem(value);
                if (problem)
                        return BAD("%s, got '%s'", problem, q);
                break;
        case T_SCOPE:
                for (const char *p = value; *p; p++)
                        if (!(*p == ' ' || (*p > 0x20 && *p < 0x7f && *p != '"' && *p != '\\')))
                                return BAD("expected space-separated scope tokens, got '%s'", q);
                break;
        case T_LIST:
        case T_ALGS:
        case T_RHOSTS: {
                _cleanup_strv_free_ char **l = strv_new_split(value);
                if (!l)
                        return -ENOMEM;
                for (char **i = l; *i; i++) {
                        _cleanup_free_ char *qi = quote(*i);
                        NetRule rule;

                        if (k->type == T_ALGS && !jwa_alg_from_string(*i)) {
                                _cleanup_free_ char *names = jwa_alg_names_string();

                                return BAD("'%s' is not allowed: only %s (never none or HS*)", strna(qi), strna(names));
                        }
                        if (k->type == T_RHOSTS && netaddr_parse_rule(*i, &rule) < 0)
                                return BAD("expected addresses or CIDR ranges, got '%s'", strna(qi));
                }
                if (!l[0] && k->type == T_ALGS)
                        return BAD("needs at least one algorithm");
                field_clear(c, k);
                *(char ***) f = TAKE_PTR(l);
                return 0;
        }
        }

        field_clear(c, k);
        *(char **) f = strdup(value);
        return *(char **) f ? 0 : -ENOMEM;
#undef BAD
}

/* ---- the INI reader ---------------------------------------------------------------------------- */

/* Valid UTF-8 in the N bytes at S (which hold no NUL, checked before). */
static bool utf8_valid(const char *s, size_t n) {
        _cleanup_free_ char *copy = strndup(s, n);

        if (!copy)
                return false;
        for (const unsigned char *p = (const unsigned char *) copy; *p;) {
                size_t k = utf8_sequence_len(p);
                if (k == 0)
                        return false;
                p += k;
        }
        return true;
}

static char *trim(char *s) {
        char *e;

        s += strspn(s, " \t\r");
        e = s + strlen(s);
        while (e > s && strchr(" \t\r", e[-1]))
                e--;
        *e = 0;
        return s;
}

static const KeyDef *find_key(const char *section, const char *key) {
        for (size_t i = 0; i < N_KEYS; i++)
                if (streq(keys[i].section, section) && streq(keys[i].key, key))
                        return &keys[i];
        return NULL;
}

static bool section_known(const char *s) {
        return streq(s, "idp") || streq(s, "login") || streq(s, "limits");
}

int config_parse_text(Config *c, const char *filename, const char *text, size_t len, ConfigErrors *errors) {
        _cleanup_free_ bool *seen = calloc(N_KEYS, sizeof(bool));
        char section[64] = "";
        bool in_section = false, section_ok = false;
        unsigned line = 0;
        size_t n_before = errors->n;

        if (!seen)
                return -ENOMEM;
        if (len > CONFIG_MAX_FILE)
                return add_error(errors, filename, 0, NULL, NULL, "file larger than 1 MiB");

        for (size_t off = 0; off < len;) {
                const char *start = text + off, *nl = memchr(start, '\n', len - off);
                size_t n = nl ? (size_t) (nl - start) : len - off;
                _cleanup_free_ char *buf = NULL;
                char *s, *eq, *key, *value;
                const KeyDef *k;

                off += n + (nl ? 1 : 0);
                line++;

                if (n > CONFIG_MAX_LINE) {
                        add_error(errors, filename, line, NULL, NULL, "line longer than %u bytes", CONFIG_MAX_LINE);
                        continue;
                }
                if (memchr(start, 0, n)) {
                        add_error(errors, filename, line, NULL, NULL, "NUL byte in line");
                        continue;
                }
                if (!utf8_valid(start, n)) {
                        add_error(errors, filename, line, NULL, NULL, "invalid UTF-8");
                        continue;
                }
                buf = strndup(start, n);
                if (!buf)
                        return -ENOMEM;
                s = trim(buf);
                if (!*s || *s == '#' || *s == ';')
                        continue;

                if (*s == '[') {
                        char *e = strchr(s, ']');
                        _cleanup_free_ char *q = NULL;

                        if (!e || *trim(e + 1)) {
                                add_error(errors, filename, line, NULL, NULL, "malformed section header");
                                in_section = section_ok = false;
                                continue;
                        }
                        *e = 0;
                        s = trim(s + 1);
                        in_section = true;
                        section_ok = section_known(s);
                        if (!section_ok) {
                                q = quote(s);
                                add_error(errors, filename, line, NULL, NULL, "unknown section [%s]", strna(q));
                                continue;
                        }
                        snprintf(section, sizeof section, "%s", s);
                        continue;
                }

                eq = strchr(s, '=');
                if (!eq) {
                        _cleanup_free_ char *q = quote(s);
                        add_error(errors, filename, line, in_section && section_ok ? section : NULL, NULL,
                                  "expected 'key = value', got '%s'", strna(q));
                        continue;
                }
                *eq = 0;
                key = trim(s);
                value = eq + 1;
                /* Inline comment: whitespace followed by '#' or ';'. */
                for (char *p = value; *p; p++)
                        if ((*p == '#' || *p == ';') && (p == value || p[-1] == ' ' || p[-1] == '\t')) {
                                *p = 0;
                                break;
                        }
                value = trim(value);

                if (!in_section) {
                        add_error(errors, filename, line, NULL, key, "key outside of any section");
                        continue;
                }
                if (!section_ok)
                        continue;       /* already reported the section */
                k = find_key(section, key);
                if (!k) {
                        add_error(errors, filename, line, section, key, "unknown key");
                        continue;
                }
                for (const char *p = value; *p; p++)
                        if ((unsigned char) *p < 0x20 || *p == 0x7f) {
                                add_error(errors, filename, line, section, key, "control character in value");
                                goto next;
                        }
                if (seen[k - keys]) {
                        add_error(errors, filename, line, section, key, "set twice in this file");
                        continue;
                }
                seen[k - keys] = true;
                if (set_value(c, k, filename, line, value, errors) == -ENOMEM)
                        return -ENOMEM;
                free(c->origins[k - keys].file);
                c->origins[k - keys] = (struct ConfigOrigin) { .file = strdup(filename), .line = line };
        next:;
        }
        return errors->n > n_before ? -EINVAL : 0;
}

/* ---- whole-configuration checks ------------------------------------------------------------------ */

static const struct ConfigOrigin *origin(const Config *c, const char *section, const char *key) {
        const KeyDef *k = find_key(section, key);
        return k ? &c->origins[k - keys] : NULL;
}

static int verify_error(const Config *c, const char *fallback_file, ConfigErrors *errors, const char *section,
                        const char *key, const char *fmt, ...) _printf_(6, 7);
static int verify_error(const Config *c, const char *fallback_file, ConfigErrors *errors, const char *section,
                        const char *key, const char *fmt, ...) {
        const struct ConfigOrigin *o = origin(c, section, key);
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = add_errorv(errors, o && o->file ? o->file : fallback_file, o && o->file ? o->line : 0,
                       section, key, fmt, ap);
        va_end(ap);
        return r;
}

static bool scope_has_openid(const char *scope) {
        _cleanup_strv_free_ char **l = strv_new_split(strempty(scope));
        return l && strv_contains(l, "openid");
}

int config_verify(Config *c, const char *filename, ConfigErrors *errors) {
        size_t n_before = errors->n;
        static const char *const url_keys[] = {
                "issuer", "device_authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint",
        };

#define VERR(key, ...) verify_error(c, filename, errors, "idp", key, __VA_ARGS__)

        if (!c->client_id)
                VERR("client_id", "required");
        if (!c->issuer)
                VERR("issuer", "required: ID tokens are checked against it (set the endpoints as well to skip "
                     "discovery)");

        for (size_t i = 0; i < ELEMENTSOF(url_keys); i++) {
                const char *url = *(char **) field(c, find_key("idp", url_keys[i]));
                _cleanup_free_ char *q = NULL;

                if (!url || url_policy_ok(url, c->allow_http_loopback))
                        continue;
                q = quote(url);
                VERR(url_keys[i], "must be an https URL (http only to a loopback address with "
                     "allow_http_loopback = yes), got '%s'", strna(q));
        }

        if (c->client_secret && c->client_secret_file)
                VERR("client_secret_file", "set either client_secret or client_secret_file, not both");
        else if (c->client_secret_file) {
                _cleanup_free_ char *why = NULL;
                char *secret = NULL;
                int r = read_secure_file(c->client_secret_file, SECRET_MAX, &secret, &why);

                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        VERR("client_secret_file", "%s %s", c->client_secret_file, strna(why));
                else {
                        /* One trailing newline is how files end, not part of the secret. */
                        size_t n = strlen(secret);
                        while (n > 0 && (secret[n - 1] == '\n' || secret[n - 1] == '\r'))
                                secret[--n] = 0;
                        if (n == 0 || strpbrk(secret, "\n\r")) {
                                VERR("client_secret_file", "%s must hold the secret on one line", c->client_secret_file);
                                erase_and_free(secret);
                        } else
                                c->client_secret = secret;
                }
        }

        switch (c->client_auth) {
        case CLIENT_AUTH_CLIENT_SECRET_BASIC:
        case CLIENT_AUTH_CLIENT_SECRET_POST:
                if (!c->client_secret && !c->client_secret_file)
                        VERR("client_auth", "%s needs client_secret_file (or client_secret)",
                             client_auth_to_string(c->client_auth));
                break;
        case CLIENT_AUTH_PRIVATE_KEY_JWT:
                if (!c->client_key_file)
                        VERR("client_auth", "private_key_jwt needs client_key_file");
                break;
        case CLIENT_AUTH_TLS_CLIENT_AUTH:
                if (!c->client_key_file || !c->client_cert_file)
                        VERR("client_auth", "tls_client_auth needs client_cert_file and client_key_file");
                break;
        default:
                break;
        }

        /* Trust anchors and the client certificate: not secret, but whoever may change them may
         * impersonate the IdP or the client. */
        for (size_t i = 0; i < 2; i++) {
                const char *key = i == 0 ? "ca_file" : "client_cert_file";
                const char *path = i == 0 ? c->ca_file : c->client_cert_file;
                _cleanup_free_ char *why = NULL;
                int r;

                if (!path)
                        continue;
                r = check_file_kind(path, SECURE_FILE_TRUSTED, &why);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        VERR(key, "%s %s", path, strna(why));
        }
        if (c->client_key_file) {
                _cleanup_free_ char *why = NULL;
                if (check_secure_file(c->client_key_file, &why) < 0)
                        VERR("client_key_file", "%s %s", c->client_key_file, strna(why));
        }
        if (c->map_file) {
                _cleanup_free_ char *why = NULL;
                if (check_secure_file(c->map_file, &why) < 0)
                        verify_error(c, filename, errors, "login", "map_file", "%s %s", c->map_file, strna(why));
        }
        if (!scope_has_openid(c->scope))
                VERR("scope", "must contain 'openid': logins are decided by the ID token");
        if (!c->username_claim || !c->username_claim[0])
                verify_error(c, filename, errors, "login", "username_claim", "needs at least one claim name");
#undef VERR
        return errors->n > n_before ? -EINVAL : 0;
}

static int read_text_file(const char *path, char **ret, size_t *ret_len, struct stat *ret_st) {
        _cleanup_free_ char *buf = NULL;
        FILE *f;
        size_t n;

        f = fopen(path, "re");
        if (!f)
                return -errno;
        /* The rules are checked on the file that is read, not on whatever the path names later. */
        if (fstat(fileno(f), ret_st) < 0) {
                int r = -errno;
                fclose(f);
                return r;
        }
        buf = malloc(CONFIG_MAX_FILE + 2);
        if (!buf) {
                fclose(f);
                return -ENOMEM;
        }
        n = fread(buf, 1, CONFIG_MAX_FILE + 1, f);
        if (ferror(f)) {
                fclose(f);
                return -EIO;
        }
        fclose(f);
        buf[n] = 0;
        *ret_len = n;
        *ret = TAKE_PTR(buf);
        return 0;
}

/* Adds the error for PATH breaking a file rule (secure-file.h), at LINE/KEY when a key is the reason. */
static int file_rule_error(ConfigErrors *errors, const char *path, unsigned line, const char *section,
                           const char *key, int r, const char *why, const char *hint) {
        if (r == -ENOMEM)
                return r;
        return add_error(errors, path, line, section, key, "%s %s%s", path, strna(why), strempty(hint));
}

static int parse_file(Config *c, const char *path, ConfigErrors *errors) {
        _cleanup_free_ char *text = NULL, *why = NULL;
        const struct ConfigOrigin *o;
        struct stat st;
        size_t len = 0;
        int r;

        r = read_text_file(path, &text, &len, &st);
        if (r < 0)
                return add_error(errors, path, 0, NULL, NULL, "cannot read: %s", strerror(-r));
        /* It decides who logs in (allow_root, the IdP, the mapping): root's alone. */
        r = check_secure_stat(&st, path, SECURE_FILE_TRUSTED, &why);
        if (r < 0 && file_rule_error(errors, path, 0, NULL, NULL, r, why, NULL) == -ENOMEM)
                return -ENOMEM;
        why = mfree(why);

        r = config_parse_text(c, path, text, len, errors);
        if (r == -ENOMEM)
                return r;

        /* An inline client_secret makes this file a secret file. */
        o = origin(c, "idp", "client_secret");
        if (c->client_secret && o && o->file && streq(o->file, path)) {
                int q = check_secure_stat(&st, path, SECURE_FILE_SECRET, &why);
                if (q >= 0)
                        q = check_secure_parents(path, &why);
                if (q < 0 && file_rule_error(errors, path, o->line, "idp", "client_secret", q, why,
                                             " (it holds the client secret; or move the secret to "
                                             "client_secret_file)") == -ENOMEM)
                        return -ENOMEM;
        }
        return r;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int config_load(const char *path, Config **ret, ConfigErrors *ret_errors) {
        _cleanup_free_ char *dir = NULL;
        _cleanup_strv_free_ char **files = NULL;
        size_t n_files = 0;
        Config *c;
        DIR *d;
        int r;

        c = config_new();
        if (!c)
                return -ENOMEM;

        r = parse_file(c, path, ret_errors);
        if (r == -ENOMEM)
                goto fail;

        /* Drop-ins: PATH.d/ *.conf in lexical order, later files override keys set earlier. */
        if (asprintf(&dir, "%s.d", path) < 0) {
                r = -ENOMEM;
                goto fail;
        }
        d = opendir(dir);
        if (d) {
                _cleanup_free_ char *why = NULL;
                struct dirent *de;
                struct stat st;

                /* Whoever may write to it may add a drop-in that says allow_root = yes. */
                r = fstat(dirfd(d), &st) < 0 ? -errno : check_secure_stat(&st, dir, SECURE_FILE_DIRECTORY, &why);
                if (r < 0 && file_rule_error(ret_errors, dir, 0, NULL, NULL, r, why ?: strerror(-r), NULL) == -ENOMEM) {
                        closedir(d);
                        goto fail;
                }
                while ((de = readdir(d))) {
                        size_t n = strlen(de->d_name);
                        char **nf;

                        if (de->d_name[0] == '.' || n < 6 || !streq(de->d_name + n - 5, ".conf"))
                                continue;
                        if (n_files >= 1000)
                                break;
                        nf = reallocarray(files, n_files + 2, sizeof *nf);
                        if (!nf || asprintf(&nf[n_files], "%s/%s", dir, de->d_name) < 0) {
                                files = nf ?: files;
                                closedir(d);
                                r = -ENOMEM;
                                goto fail;
                        }
                        files = nf;
                        files[++n_files] = NULL;
                }
                closedir(d);
                if (files)
                        qsort(files, n_files, sizeof *files, cmp_str);
                for (size_t i = 0; i < n_files; i++)
                        if (parse_file(c, files[i], ret_errors) == -ENOMEM) {
                                r = -ENOMEM;
                                goto fail;
                        }
        }

        r = config_verify(c, path, ret_errors);
        if (r == -ENOMEM)
                goto fail;
        if (ret_errors->n > 0) {
                r = -EINVAL;
                goto fail;
        }
        *ret = c;
        return 0;
fail:
        config_free(c);
        return r;
}
