/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json-util.h"
#include "log.h"
#include "macro.h"
#include "oauth.h"
#include "reason.h"
#include "url-policy.h"

/* ---- form encoding ----------------------------------------------------------------------------- */

int form_urlencode(const char *s, char **ret) {
        static const char hex[] = "0123456789ABCDEF";
        size_t n = strlen(s);
        char *r, *p;

        r = malloc(3 * n + 1);
        if (!r)
                return -ENOMEM;
        p = r;
        for (const unsigned char *i = (const unsigned char *) s; *i; i++) {
                if ((*i >= 'a' && *i <= 'z') || (*i >= 'A' && *i <= 'Z') || (*i >= '0' && *i <= '9') ||
                    *i == '-' || *i == '.' || *i == '_' || *i == '*')
                        *p++ = (char) *i;
                else if (*i == ' ')
                        *p++ = '+';
                else {
                        *p++ = '%';
                        *p++ = hex[*i >> 4];
                        *p++ = hex[*i & 15];
                }
        }
        *p = 0;
        *ret = r;
        return 0;
}

/* Appends "key=value" (value encoded unless raw). The old buffer is wiped: it may hold a secret. */
static int form_append_full(char **buf, const char *key, const char *value, bool raw) {
        _cleanup_erase_ char *enc = NULL;
        size_t old, n;
        char *b;
        int r;

        if (raw) {
                enc = strdup(value);
                if (!enc)
                        return -ENOMEM;
        } else {
                r = form_urlencode(value, &enc);
                if (r < 0)
                        return r;
        }
        old = *buf ? strlen(*buf) : 0;
        n = old + (old ? 1 : 0) + (key ? strlen(key) + 1 : 0) + strlen(enc) + 1;
        b = malloc(n);
        if (!b)
                return -ENOMEM;
        snprintf(b, n, "%s%s%s%s%s", old ? *buf : "", old ? "&" : "", key ?: "", key ? "=" : "", enc);
        erase_and_free(*buf);
        *buf = b;
        return 0;
}

int form_append(char **buf, const char *key, const char *value) {
        return form_append_full(buf, key, value, false);
}

int oauth_basic_auth_header(const char *client_id, const char *secret, char **ret) {
        _cleanup_erase_ char *id = NULL, *sec = NULL, *joined = NULL, *b64 = NULL;
        size_t n;
        int r;

        r = form_urlencode(client_id, &id);
        if (r < 0)
                return r;
        r = form_urlencode(secret, &sec);
        if (r < 0)
                return r;
        if (asprintf(&joined, "%s:%s", id, sec) < 0)
                return -ENOMEM;
        n = strlen(joined);
        b64 = malloc(4 * ((n + 2) / 3) + 1);
        if (!b64)
                return -ENOMEM;
        (void) EVP_EncodeBlock((unsigned char *) b64, (const unsigned char *) joined, (int) n);
        if (asprintf(ret, "Basic %s", b64) < 0)
                return -ENOMEM;
        return 0;
}

int oauth_bearer_header(const char *access_token, char **ret) {
        size_t n;
        char *h;

        /* RFC 6750 §2.1 b64token: nothing that could end or split a header line. */
        if (!access_token || !*access_token)
                return -EINVAL;
        for (const char *p = access_token; *p; p++)
                if (*p <= 0x20 || *p >= 0x7f)
                        return -EINVAL;
        n = strlen("Bearer ") + strlen(access_token) + 1;
        h = malloc(n);
        if (!h)
                return -ENOMEM;
        memcpy(h, "Bearer ", 7);
        memcpy(h + 7, access_token, n - 7);
        *ret = h;
        return 0;
}

void oauth_request_done(OAuthRequest *r) {
        r->body = erase_and_free(r->body);
        r->authorization = erase_and_free(r->authorization);
}

/* Client identification and authentication, shared by both requests. */
static int append_client_auth(const Config *c, const char *client_assertion, OAuthRequest *req) {
        int r;

        switch (c->client_auth) {
        case CLIENT_AUTH_CLIENT_SECRET_BASIC:
                /* The id travels in the header; RFC 6749 §2.3.1 forbids two authentication methods. */
                return oauth_basic_auth_header(c->client_id, strempty(c->client_secret), &req->authorization);
        case CLIENT_AUTH_CLIENT_SECRET_POST:
                r = form_append(&req->body, "client_id", c->client_id);
                if (r >= 0)
                        r = form_append(&req->body, "client_secret", strempty(c->client_secret));
                return r;
        case CLIENT_AUTH_PRIVATE_KEY_JWT:
                if (!client_assertion)
                        return -EINVAL;
                r = form_append(&req->body, "client_id", c->client_id);
                if (r >= 0)
                        r = form_append(&req->body, "client_assertion_type", OAUTH_ASSERTION_TYPE_JWT);
                if (r >= 0)
                        r = form_append(&req->body, "client_assertion", client_assertion);
                return r;
        case CLIENT_AUTH_NONE:
        case CLIENT_AUTH_TLS_CLIENT_AUTH:       /* RFC 8705 §2: client_id in the body, the key in TLS */
        default:
                return form_append(&req->body, "client_id", c->client_id);
        }
}

int oauth_build_device_auth_request(const Config *c, const char *client_assertion, OAuthRequest *ret) {
        _cleanup_(oauth_request_done) OAuthRequest req = {};
        int r;

        if (!c->client_id)
                return -EINVAL;
        r = append_client_auth(c, client_assertion, &req);
        if (r >= 0 && c->scope)
                r = form_append(&req.body, "scope", c->scope);
        if (r >= 0 && c->acr_values)
                r = form_append(&req.body, "acr_values", c->acr_values);
        if (r >= 0 && c->max_age_usec != USEC_INFINITY) {
                char s[32];
                snprintf(s, sizeof s, "%" PRIu64, c->max_age_usec / USEC_PER_SEC);
                r = form_append(&req.body, "max_age", s);
        }
        /* extra_params was checked by the config parser: already encoded pairs, none of ours. */
        if (r >= 0 && c->extra_params)
                r = form_append_full(&req.body, NULL, c->extra_params, true);
        if (r < 0)
                return r;
        *ret = req;
        req = (OAuthRequest) {};
        return 0;
}

int oauth_build_token_request(const Config *c, const char *device_code, const char *client_assertion,
                              OAuthRequest *ret) {
        _cleanup_(oauth_request_done) OAuthRequest req = {};
        int r;

        if (!c->client_id || !device_code)
                return -EINVAL;
        r = form_append(&req.body, "grant_type", OAUTH_GRANT_DEVICE_CODE);
        if (r >= 0)
                r = form_append(&req.body, "device_code", device_code);
        if (r >= 0)
                r = append_client_auth(c, client_assertion, &req);
        if (r < 0)
                return r;
        *ret = req;
        req = (OAuthRequest) {};
        return 0;
}

/* ---- replies ----------------------------------------------------------------------------------- */

void oauth_error_done(OAuthError *e) {
        e->error = mfree(e->error);
        e->error_description = mfree(e->error_description);
}

void device_auth_done(DeviceAuth *d) {
        d->device_code = erase_and_free(d->device_code);
        d->user_code = mfree(d->user_code);
        d->verification_uri = mfree(d->verification_uri);
        d->verification_uri_complete = mfree(d->verification_uri_complete);
}

void token_reply_done(TokenReply *t) {
        t->access_token = erase_and_free(t->access_token);
        t->id_token = erase_and_free(t->id_token);
        t->refresh_token = erase_and_free(t->refresh_token);
        t->token_type = mfree(t->token_type);
        oauth_error_done(&t->error);
}

void discovery_done(Discovery *d) {
        d->issuer = mfree(d->issuer);
        d->device_authorization_endpoint = mfree(d->device_authorization_endpoint);
        d->token_endpoint = mfree(d->token_endpoint);
        d->jwks_uri = mfree(d->jwks_uri);
        d->userinfo_endpoint = mfree(d->userinfo_endpoint);
}

/* Length of the valid UTF-8 sequence at s (1–4), or 0 when it is not one (overlong forms, surrogates and
 * code points past U+10FFFF included). */
/* Sanitized and capped copy, cut on a UTF-8 boundary. */
static char *text_from_idp(const char *s) {
        char *r = strdup_sanitized(s);   /* control characters and stray bytes become '?' */
        size_t n;

        if (!r || strlen(r) <= OAUTH_MAX_ERROR_TEXT)
                return r;
        n = OAUTH_MAX_ERROR_TEXT;
        while (n > 0 && ((unsigned char) r[n] & 0xc0) == 0x80)
                n--;
        r[n] = 0;
        return r;
}

static int set_error(OAuthError *e, const char *error, const char *description) {
        oauth_error_done(e);
        e->error = text_from_idp(error);
        e->error_description = description ? text_from_idp(description) : NULL;
        return e->error && (!description || e->error_description) ? 0 : -ENOMEM;
}

static int invalid_reply(OAuthError *e, const char *what) {
        int r = set_error(e, "invalid_reply", what);
        return r < 0 ? r : -EBADMSG;
}

/* A string member, or NULL when absent or not a string. json-c keeps "\u0000" inside strings, where a C
 * string would silently end ("WDJB\u0000…" read as "WDJB"): such a member counts as invalid too. */
static const char *reply_string(json_object *o, const char *key) {
        const char *s = json_get_string(o, key);
        json_object *v;

        if (!s || !json_object_object_get_ex(o, key, &v) || (size_t) json_object_get_string_len(v) != strlen(s))
                return NULL;
        return s;
}

/* Sets e from the reply's error member (error, as read) and, if asked, its error_description. */
static int set_reply_error(OAuthError *e, json_object *o, const char *error, bool with_description) {
        return set_error(e, *error ? error : "unknown_error",
                         with_description ? reply_string(o, "error_description") : NULL);
}

/* Reads {"error": …, "error_description": …} when present: 1 if there was an error member. */
static int read_error(json_object *o, OAuthError *e) {
        const char *error = reply_string(o, "error");
        int r;

        if (!error)
                return 0;
        r = set_reply_error(e, o, error, /* with_description= */ true);
        return r < 0 ? r : 1;
}

/* What a token reply's error member (RFC 8628 §3.5, RFC 6749 §5.2, and the IdPs' variants) means. */
static TokenReplyKind token_error_kind(const char *error, long http_status) {
        if (streq(error, "authorization_pending"))
                return TOKEN_REPLY_PENDING;
        if (streq(error, "slow_down"))
                return TOKEN_REPLY_SLOW_DOWN;
        if (streq(error, "access_denied") || streq(error, "authorization_declined"))
                /* Entra ID names the user's refusal authorization_declined. */
                return TOKEN_REPLY_DENIED;
        if (streq(error, "expired_token"))
                return TOKEN_REPLY_EXPIRED;
        if (streq(error, "server_error") || streq(error, "temporarily_unavailable") || http_status >= 500)
                return TOKEN_REPLY_SERVER_ERROR;
        return TOKEN_REPLY_ERROR;
}

static bool printable_ascii(const char *s, bool allow_space) {
        for (; *s; s++)
                if (*s < (allow_space ? 0x20 : 0x21) || *s > 0x7e)
                        return false;
        return true;
}

static bool uri_ok(const char *s, bool allow_http_loopback) {
        return strlen(s) <= OAUTH_MAX_URI && url_policy_ok(s, allow_http_loopback);
}

int oauth_parse_device_auth(long http_status, const char *body, size_t len, bool allow_http_loopback,
                            DeviceAuth *ret, OAuthError *ret_error) {
        _cleanup_json_ json_object *o = NULL;
        _cleanup_(device_auth_done) DeviceAuth d = {};
        const char *device_code, *user_code, *uri, *complete;
        uint64_t x;
        int r;

        r = json_parse_strict(body, len, &o);
        if (r < 0 || !json_object_is_type(o, json_type_object)) {
                char what[96];
                snprintf(what, sizeof what, "HTTP status %ld without a valid JSON object%s", http_status,
                         r == -ENOTUNIQ ? " (a member twice)" : r == -EILSEQ ? " (an escaped NUL)" : "");
                return invalid_reply(ret_error, what);
        }
        r = read_error(o, ret_error);
        if (r < 0)
                return r;
        if (r > 0)
                return -EPROTO;
        if (http_status < 200 || http_status > 299) {
                char what[64];
                snprintf(what, sizeof what, "HTTP status %ld", http_status);
                return invalid_reply(ret_error, what);
        }

        device_code = reply_string(o, "device_code");
        if (!device_code || !*device_code || strlen(device_code) > OAUTH_MAX_DEVICE_CODE ||
            !printable_ascii(device_code, false))
                return invalid_reply(ret_error, "missing or invalid device_code");
        user_code = reply_string(o, "user_code");
        if (!user_code || !*user_code || strlen(user_code) > OAUTH_MAX_USER_CODE ||
            !printable_ascii(user_code, true) || user_code[0] == ' ' || user_code[strlen(user_code) - 1] == ' ')
                return invalid_reply(ret_error, "missing or invalid user_code");
        /* Google sends verification_url. */
        uri = reply_string(o, "verification_uri") ?: reply_string(o, "verification_url");
        if (!uri || !uri_ok(uri, allow_http_loopback))
                return invalid_reply(ret_error, "missing or invalid verification_uri");
        complete = reply_string(o, "verification_uri_complete");
        if (complete && !uri_ok(complete, allow_http_loopback))
                return invalid_reply(ret_error, "invalid verification_uri_complete");
        if (json_object_object_get_ex(o, "verification_uri_complete", NULL) && !complete &&
            !json_object_is_type(json_object_object_get(o, "verification_uri_complete"), json_type_null))
                return invalid_reply(ret_error, "invalid verification_uri_complete");

        r = json_get_uint64(o, "expires_in", &x);
        if (r < 0 || x == 0 || x > 86400)
                return invalid_reply(ret_error, "missing or invalid expires_in");
        d.expires_in_usec = x * USEC_PER_SEC;
        r = json_get_uint64(o, "interval", &x);
        if (r == -ENOENT)
                d.interval_usec = 0;
        else if (r < 0 || x > 3600)
                return invalid_reply(ret_error, "invalid interval");
        else
                d.interval_usec = x * USEC_PER_SEC;

        d.device_code = strdup(device_code);
        d.user_code = strdup(user_code);
        d.verification_uri = strdup(uri);
        d.verification_uri_complete = complete ? strdup(complete) : NULL;
        if (!d.device_code || !d.user_code || !d.verification_uri || (complete && !d.verification_uri_complete))
                return -ENOMEM;
        *ret = d;
        d = (DeviceAuth) {};
        return 0;
}

int oauth_parse_token_reply(long http_status, const char *body, size_t len, TokenReply *ret) {
        _cleanup_json_ json_object *o = NULL;
        const char *error, *access, *id, *refresh, *type;
        int r;

        *ret = (TokenReply) { .kind = TOKEN_REPLY_MALFORMED };

        r = json_parse_strict(body, len, &o);
        if (r < 0 || !json_object_is_type(o, json_type_object)) {
                ret->kind = http_status >= 500 ? TOKEN_REPLY_SERVER_ERROR : TOKEN_REPLY_MALFORMED;
                return ret->kind == TOKEN_REPLY_MALFORMED ? -EBADMSG : 0;
        }

        error = reply_string(o, "error");
        if (error) {
                TokenReplyKind kind = token_error_kind(error, http_status);

                /* "Keep polling" ends nothing, so its error_description is never shown: it is not copied
                 * (and sanitized) for every poll. */
                r = set_reply_error(&ret->error, o, error,
                                    kind != TOKEN_REPLY_PENDING && kind != TOKEN_REPLY_SLOW_DOWN);
                if (r < 0)
                        return r;
                ret->kind = kind;
                return 0;
        }
        if (http_status >= 500) {
                ret->kind = TOKEN_REPLY_SERVER_ERROR;
                return 0;
        }
        if (http_status != 200)
                return -EBADMSG;

        access = reply_string(o, "access_token");
        if (!access || !*access)
                return -EBADMSG;
        id = reply_string(o, "id_token");
        refresh = reply_string(o, "refresh_token");
        type = reply_string(o, "token_type");
        if (json_object_object_get_ex(o, "id_token", NULL) && !id)
                return -EBADMSG;

        ret->access_token = strdup(access);
        ret->id_token = id ? strdup(id) : NULL;
        ret->refresh_token = refresh ? strdup(refresh) : NULL;
        ret->token_type = type ? strdup(type) : NULL;
        if (!ret->access_token || (id && !ret->id_token) || (refresh && !ret->refresh_token) ||
            (type && !ret->token_type)) {
                token_reply_done(ret);
                ret->kind = TOKEN_REPLY_MALFORMED;
                return -ENOMEM;
        }
        ret->kind = TOKEN_REPLY_TOKENS;
        return 0;
}

int oauth_parse_discovery(const char *body, size_t len, const char *expected_issuer, bool allow_http_loopback,
                          Discovery *ret, char **ret_reason) {
        _cleanup_json_ json_object *o = NULL;
        _cleanup_(discovery_done) Discovery d = {};
        static const struct {
                const char *name;
                size_t offset;
                bool required;
        } fields[] = {
                { "device_authorization_endpoint", offsetof(Discovery, device_authorization_endpoint), false },
                { "token_endpoint",                offsetof(Discovery, token_endpoint),                false },
                { "jwks_uri",                      offsetof(Discovery, jwks_uri),                      true  },
                { "userinfo_endpoint",             offsetof(Discovery, userinfo_endpoint),             false },
        };
        const char *issuer;
        int r;

        r = json_parse_strict(body, len, &o);
        if (r < 0 || !json_object_is_type(o, json_type_object))
                return reason_set(ret_reason, -EBADMSG, "not a JSON object");
        issuer = reply_string(o, "issuer");
        if (!issuer)
                return reason_set(ret_reason, -EBADMSG, "no issuer");
        /* OpenID Connect Discovery §4.3: exactly the issuer we were configured with. */
        if (!streq_ptr(issuer, expected_issuer))
                return reason_set(ret_reason, -EBADMSG, "issuer differs from the configured one");

        for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                const char *v = reply_string(o, fields[i].name);
                char **target = (char **) ((uint8_t *) &d + fields[i].offset);

                if (!v) {
                        if (json_object_object_get_ex(o, fields[i].name, NULL) || fields[i].required)
                                return reason_set(ret_reason, -EBADMSG,
                                                  fields[i].required ? "missing jwks_uri" :
                                                                       "an endpoint is not a string");
                        continue;
                }
                if (!uri_ok(v, allow_http_loopback))
                        return reason_set(ret_reason, -EBADMSG, "an endpoint is not an https URL");
                *target = strdup(v);
                if (!*target)
                        return -ENOMEM;
        }
        d.issuer = strdup(issuer);
        if (!d.issuer)
                return -ENOMEM;
        *ret = d;
        d = (Discovery) {};
        return 0;
}
