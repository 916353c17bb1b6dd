/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "flow-machine.h"

/* RFC 8628 and OpenID Connect Discovery: building requests and parsing replies. No I/O, so every
 * function here is unit-tested and fuzzed. Every string taken from a reply is checked (length,
 * characters, URL scheme) or sanitized before anyone shows or logs it. */

#define OAUTH_GRANT_DEVICE_CODE "urn:ietf:params:oauth:grant-type:device_code"
#define OAUTH_ASSERTION_TYPE_JWT "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#define OAUTH_MAX_DEVICE_CODE 2048
#define OAUTH_MAX_USER_CODE 64
#define OAUTH_MAX_URI 2048
#define OAUTH_MAX_ERROR_TEXT 200

/* application/x-www-form-urlencoded "key=value", joined with '&'. Wipes what it replaces. */
int form_append(char **buf, const char *key, const char *value);
int form_urlencode(const char *s, char **ret);

/* "Basic base64(urlencode(id):urlencode(secret))" (RFC 6749 §2.3.1). */
int oauth_basic_auth_header(const char *client_id, const char *secret, char **ret);

/* "Bearer TOKEN" (RFC 6750 §2.1) for userinfo; -EINVAL when the token holds characters a header cannot. */
int oauth_bearer_header(const char *access_token, char **ret);

typedef struct OAuthRequest {
        char *body;                     /* form body; may hold secrets: wiped */
        char *authorization;            /* Authorization header value or NULL; wiped */
} OAuthRequest;
void oauth_request_done(OAuthRequest *r);

/* client_assertion is the signed JWT for private_key_jwt, else NULL. */
int oauth_build_device_auth_request(const Config *c, const char *client_assertion, OAuthRequest *ret);
int oauth_build_token_request(const Config *c, const char *device_code, const char *client_assertion,
                              OAuthRequest *ret);

typedef struct OAuthError {
        char *error;                    /* sanitized, capped; NULL when absent */
        char *error_description;
} OAuthError;
void oauth_error_done(OAuthError *e);

typedef struct DeviceAuth {
        char *device_code;              /* secret: wiped */
        char *user_code;
        char *verification_uri;         /* Google's verification_url is accepted too */
        char *verification_uri_complete;/* NULL when absent */
        uint64_t expires_in_usec;
        uint64_t interval_usec;         /* 0 when absent */
} DeviceAuth;
void device_auth_done(DeviceAuth *d);

/* 0 on success; -EPROTO when the IdP answered with an error (ret_error filled); -EBADMSG when the reply
 * is malformed or a field is invalid (ret_error->error = "invalid_reply", description says which). */
int oauth_parse_device_auth(long http_status, const char *body, size_t len, bool allow_http_loopback,
                            DeviceAuth *ret, OAuthError *ret_error);

typedef struct TokenReply {
        TokenReplyKind kind;
        char *access_token;             /* secrets: wiped */
        char *id_token;
        char *refresh_token;
        char *token_type;
        OAuthError error;
} TokenReply;
void token_reply_done(TokenReply *t);

/* Decides by the "error" member, never by the HTTP status alone (Auth0: 403 pending, 429 slow_down).
 * Always fills ret->kind; returns 0, or -EBADMSG for MALFORMED. */
int oauth_parse_token_reply(long http_status, const char *body, size_t len, TokenReply *ret);

typedef struct Discovery {
        char *issuer;
        char *device_authorization_endpoint;
        char *token_endpoint;
        char *jwks_uri;
        char *userinfo_endpoint;
} Discovery;
void discovery_done(Discovery *d);

/* The document's issuer must equal expected_issuer byte for byte (OIDC Discovery §4.3). */
int oauth_parse_discovery(const char *body, size_t len, const char *expected_issuer, bool allow_http_loopback,
                          Discovery *ret, char **ret_reason);
