/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <inttypes.h>

/* devflowd.conf: the fixed keys of DESIGN §3 plus [login] and [limits]; every key is documented
 * in devflowd.conf(5). The parser does no network or bus I/O; it only reads the files it is given
 * (and the secret/key files they name, whose ownership and mode it checks). */

#define CONFIG_DEFAULT_PATH "/etc/devflow/devflowd.conf"
#define CONFIG_MAX_LINE 4096

typedef enum ClientAuth {
        CLIENT_AUTH_NONE,
        CLIENT_AUTH_CLIENT_SECRET_BASIC,
        CLIENT_AUTH_CLIENT_SECRET_POST,
        CLIENT_AUTH_PRIVATE_KEY_JWT,
        CLIENT_AUTH_TLS_CLIENT_AUTH,
        _CLIENT_AUTH_MAX,
        _CLIENT_AUTH_INVALID = -EINVAL,
} ClientAuth;

typedef struct Config {
        /* [idp] */
        char *issuer;                           /* URL or NULL */
        char *device_authorization_endpoint;    /* URL or NULL (then from discovery) */
        char *token_endpoint;
        char *jwks_uri;
        char *userinfo_endpoint;
        char *client_id;                        /* required */
        char *client_secret;                    /* from client_secret or client_secret_file; wiped on free */
        char *client_secret_file;
        ClientAuth client_auth;                 /* default none */
        char *client_key_file;                  /* private_key_jwt, tls_client_auth */
        char *client_cert_file;                 /* tls_client_auth */
        char *scope;                            /* default "openid profile email" */
        char *extra_params;                     /* URL-encoded form fields: a=b&c=d */
        char *ca_file;
        uint64_t http_timeout_usec;             /* default 10 s */
        bool allow_http_loopback;               /* default no */
        char **id_token_algs;                   /* default RS256 … EdDSA */
        uint64_t clock_skew_usec;               /* default 60 s */
        uint64_t id_token_max_age_usec;         /* iat no older than this; default 600 s */

        /* [login] */
        char **username_claim;                  /* default preferred_username; first present wins */
        char **strip_domains;
        char *map_file;
        bool lowercase;                         /* ASCII folding only; default no */
        bool allow_root;                        /* default no */
        char **require_groups;
        char *groups_claim;                     /* default "groups"; dotted path allowed */
        char *acr_values;                       /* sent with the device authorization request */
        uint64_t max_age_usec;                  /* USEC_INFINITY when unset */
        char **require_acr;
        char **require_amr;
        char **allowed_rhosts;                  /* addresses and CIDR ranges; empty = any */

        /* [limits] */
        unsigned max_flows;                     /* default 256 */
        unsigned max_flows_per_user;            /* default 16 */
        unsigned max_flows_per_user_per_rhost;  /* one source's share of a user's flows; default 2 */
        unsigned max_flows_per_rhost;           /* default 5 */
        unsigned max_new_flows_per_rhost_per_minute; /* default 10 */
        uint64_t max_login_time_usec;           /* a flow never lives longer; default 600 s */

        struct ConfigOrigin *origins;           /* private to config.c: where each key was set */
} Config;

/* One error: "FILE:LINE: [section] key: message". Collected so --check-config prints them all. */
typedef struct ConfigError {
        char *file;
        unsigned line;          /* 0 when the error is about the whole file */
        char *section;          /* may be NULL */
        char *key;              /* may be NULL */
        char *message;
} ConfigError;

typedef struct ConfigErrors {
        ConfigError *errors;
        size_t n;
} ConfigErrors;

Config *config_new(void);                       /* all defaults */
Config *config_free(Config *c);

/* Load PATH, then PATH.d/ *.conf in lexical order (for the default path that is
 * /etc/devflow/devflowd.conf.d/). Returns 0 when everything is valid, -EINVAL when there were
 * errors (all collected in ret_errors), other negative errno on I/O failure of the main file. */
int config_load(const char *path, Config **ret, ConfigErrors *ret_errors);

/* Parse one file's text into c (overriding keys already set). Exposed for tests and the fuzzer. */
int config_parse_text(Config *c, const char *filename, const char *text, size_t len, ConfigErrors *errors);

/* Cross-key checks after all files are read (client_id present, endpoints or issuer, auth keys). */
int config_verify(Config *c, const char *filename, ConfigErrors *errors);

void config_errors_print(const ConfigErrors *errors, FILE *f);
void config_errors_done(ConfigErrors *errors);

const char *client_auth_to_string(ClientAuth a);
ClientAuth client_auth_from_string(const char *s);

