/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* devflowd/oauth.c: request builders and reply parsers, fed the replies real IdPs send (RFC 8628 examples,
 * Auth0, PingOne, PingFederate, Google, Okta, Entra ID, Keycloak) and hostile ones. */

#include <assert.h>
#include <errno.h>
#include <stdlib.h>

#include "config.h"
#include "json-util.h"
#include "macro.h"
#include "oauth.h"
#include "safe-text.h"
#include "test.h"

/* The tables below leave the fields a case does not use at zero. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

static bool str_eq_null(const char *a, const char *b) {
        return a == b || (a && b && strcmp(a, b) == 0);
}

/* ---- form encoding ----------------------------------------------------------------------------- */

TEST(form_urlencode_table) {
        static const struct {
                const char *in, *out;
        } t[] = {
                { "",                   ""                              },
                { "abcXYZ019",          "abcXYZ019"                     },
                { "-._*",               "-._*"                          },
                { "a b",                "a+b"                           },
                { "+",                  "%2B"                           },
                { "&",                  "%26"                           },
                { "=",                  "%3D"                           },
                { "%",                  "%25"                           },
                { "%20",                "%2520"                         },
                { "~",                  "%7E"                           },
                { "/?#[]@!$'(),;:",     "%2F%3F%23%5B%5D%40%21%24%27%28%29%2C%3B%3A" },
                { "é",                  "%C3%A9"                        },
                { "日本",               "%E6%97%A5%E6%9C%AC"            },
                { "\x01\x7f\xff",       "%01%7F%FF"                     },
                { "a\r\nb",             "a%0D%0Ab"                      },
                { "openid profile email", "openid+profile+email"        },
        };

        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                _cleanup_free_ char *s = NULL;
                bool ok = form_urlencode(t[i].in, &s) == 0 && str_eq_null(s, t[i].out);

                if (!ok)
                        fprintf(stderr, "  form_urlencode('%s') = '%s', expected '%s'\n", t[i].in, strna(s), t[i].out);
                test_report("form_urlencode", t[i].out, ok);
                CHECK(ok);
        }
}

TEST(form_append_joins_with_ampersand) {
        _cleanup_free_ char *b = NULL;

        CHECK_INTEQ(form_append(&b, "a", "1"), 0);
        CHECK_STREQ(b, "a=1");
        CHECK_INTEQ(form_append(&b, "b", "x y&z=w"), 0);
        CHECK_STREQ(b, "a=1&b=x+y%26z%3Dw");
        CHECK_INTEQ(form_append(&b, "empty", ""), 0);
        CHECK_STREQ(b, "a=1&b=x+y%26z%3Dw&empty=");
}

/* ---- Basic authentication (RFC 6749 §2.3.1) --------------------------------------------------- */

TEST(basic_auth_header_table) {
        /* Expected values: base64(form_urlencode(id) ":" form_urlencode(secret)), computed independently. */
        static const struct {
                const char *id, *secret, *header;
        } t[] = {
                { "ssh-login",   "s3cret",        "Basic c3NoLWxvZ2luOnMzY3JldA=="                             },
                /* "my+client%3A1:p%40ss+w%2Brd%2F%25%3D%26": the ':' in the id must not split id and secret */
                { "my client:1", "p@ss w+rd/%=&", "Basic bXkrY2xpZW50JTNBMTpwJTQwc3MrdyUyQnJkJTJGJTI1JTNEJTI2" },
                /* "%C3%A9%7E*:" (empty secret) */
                { "é~*",         "",              "Basic JUMzJUE5JTdFKjo="                                     },
        };

        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                _cleanup_free_ char *h = NULL;
                bool ok = oauth_basic_auth_header(t[i].id, t[i].secret, &h) == 0 && str_eq_null(h, t[i].header);

                if (!ok)
                        fprintf(stderr, "  basic('%s','%s') = '%s'\n", t[i].id, t[i].secret, strna(h));
                test_report("basic_auth", t[i].id, ok);
                CHECK(ok);
        }
}

/* ---- request builders ------------------------------------------------------------------------- */

static void set_str(char **field, const char *v) {
        free(*field);
        *field = v ? strdup(v) : NULL;
        assert(!v || *field);
}

static Config *make_config(ClientAuth auth, const char *id, const char *secret) {
        Config *c = config_new();

        assert(c);
        c->client_auth = auth;
        set_str(&c->client_id, id);
        if (c->client_secret)
                c->client_secret = erase_and_free(c->client_secret);
        if (secret)
                set_str(&c->client_secret, secret);
        return c;
}

#define GRANT_ENC "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code"
#define ASSERTION_TYPE_ENC "urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"

TEST(build_requests_table) {
        static const struct {
                const char *name;
                ClientAuth auth;
                const char *id, *secret, *scope, *extra, *acr;
                uint64_t max_age;
                const char *assertion, *device_code;
                const char *dev_body, *dev_auth;        /* device authorization request */
                const char *tok_body, *tok_auth;        /* token request */
        } t[] = {
                { "none-default-scope", CLIENT_AUTH_NONE, "ssh-login", NULL, "openid profile email", NULL, NULL,
                  USEC_INFINITY, NULL, "GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS",
                  "client_id=ssh-login&scope=openid+profile+email", NULL,
                  "grant_type=" GRANT_ENC "&device_code=GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS&client_id=ssh-login",
                  NULL },
                { "none-no-scope", CLIENT_AUTH_NONE, "a b", NULL, NULL, NULL, NULL, USEC_INFINITY, NULL, "dc",
                  "client_id=a+b", NULL,
                  "grant_type=" GRANT_ENC "&device_code=dc&client_id=a+b", NULL },
                { "auth0-audience", CLIENT_AUTH_NONE, "0oaAuth0", NULL, "openid profile offline_access",
                  "audience=https%3A%2F%2Fapi.example.com", NULL, USEC_INFINITY, NULL, "Ag_EE",
                  "client_id=0oaAuth0&scope=openid+profile+offline_access&audience=https%3A%2F%2Fapi.example.com",
                  NULL,
                  /* extra_params go with the device authorization request only */
                  "grant_type=" GRANT_ENC "&device_code=Ag_EE&client_id=0oaAuth0", NULL },
                { "two-extra-params", CLIENT_AUTH_NONE, "c", NULL, "openid", "audience=x&resource=y%2Bz", NULL,
                  USEC_INFINITY, NULL, "d",
                  "client_id=c&scope=openid&audience=x&resource=y%2Bz", NULL,
                  "grant_type=" GRANT_ENC "&device_code=d&client_id=c", NULL },
                { "acr-and-max-age", CLIENT_AUTH_NONE, "c", NULL, "openid",  NULL, "urn:mace:incommon:iap:silver phr",
                  300 * USEC_PER_SEC, NULL, "d",
                  "client_id=c&scope=openid&acr_values=urn%3Amace%3Aincommon%3Aiap%3Asilver+phr&max_age=300", NULL,
                  "grant_type=" GRANT_ENC "&device_code=d&client_id=c", NULL },
                { "max-age-zero", CLIENT_AUTH_NONE, "c", NULL, "openid", NULL, NULL, 0, NULL, "d",
                  "client_id=c&scope=openid&max_age=0", NULL,
                  "grant_type=" GRANT_ENC "&device_code=d&client_id=c", NULL },
                { "basic-pingfederate", CLIENT_AUTH_CLIENT_SECRET_BASIC, "my client:1", "p@ss w+rd/%=&", "openid",
                  NULL, NULL, USEC_INFINITY, NULL, "d+/=",
                  /* the id travels in the header only: RFC 6749 §2.3.1, one method per request */
                  "scope=openid", "Basic bXkrY2xpZW50JTNBMTpwJTQwc3MrdyUyQnJkJTJGJTI1JTNEJTI2",
                  "grant_type=" GRANT_ENC "&device_code=d%2B%2F%3D",
                  "Basic bXkrY2xpZW50JTNBMTpwJTQwc3MrdyUyQnJkJTJGJTI1JTNEJTI2" },
                { "post-google", CLIENT_AUTH_CLIENT_SECRET_POST, "123-abc.apps.googleusercontent.com",
                  "GOCSPX-a&b=c d%", "openid email", NULL, NULL, USEC_INFINITY, NULL, "AH-1Ng",
                  "client_id=123-abc.apps.googleusercontent.com&client_secret=GOCSPX-a%26b%3Dc+d%25&scope=openid+email",
                  NULL,
                  "grant_type=" GRANT_ENC "&device_code=AH-1Ng&client_id=123-abc.apps.googleusercontent.com"
                  "&client_secret=GOCSPX-a%26b%3Dc+d%25", NULL },
                { "private-key-jwt", CLIENT_AUTH_PRIVATE_KEY_JWT, "c", NULL, "openid", NULL, NULL, USEC_INFINITY,
                  "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJjIn0.sig-_", "d",
                  "client_id=c&client_assertion_type=" ASSERTION_TYPE_ENC
                  "&client_assertion=eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJjIn0.sig-_&scope=openid", NULL,
                  "grant_type=" GRANT_ENC "&device_code=d&client_id=c&client_assertion_type=" ASSERTION_TYPE_ENC
                  "&client_assertion=eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJjIn0.sig-_", NULL },
                { "tls-client-auth", CLIENT_AUTH_TLS_CLIENT_AUTH, "pf-mtls", NULL, "openid", NULL, NULL,
                  USEC_INFINITY, NULL, "d",
                  /* RFC 8705 §2: client_id in the body, the proof in the TLS handshake */
                  "client_id=pf-mtls&scope=openid", NULL,
                  "grant_type=" GRANT_ENC "&device_code=d&client_id=pf-mtls", NULL },
        };

        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                _cleanup_(oauth_request_done) OAuthRequest dev = {}, tok = {};
                Config *c = make_config(t[i].auth, t[i].id, t[i].secret);
                bool ok;

                set_str(&c->scope, t[i].scope);
                set_str(&c->extra_params, t[i].extra);
                set_str(&c->acr_values, t[i].acr);
                c->max_age_usec = t[i].max_age;

                ok = oauth_build_device_auth_request(c, t[i].assertion, &dev) == 0 &&
                     str_eq_null(dev.body, t[i].dev_body) && str_eq_null(dev.authorization, t[i].dev_auth) &&
                     oauth_build_token_request(c, t[i].device_code, t[i].assertion, &tok) == 0 &&
                     str_eq_null(tok.body, t[i].tok_body) && str_eq_null(tok.authorization, t[i].tok_auth);
                /* A secret never appears unencoded in a body, and never in the body at all with Basic. */
                if (t[i].secret && *t[i].secret && dev.body && tok.body)
                        ok = ok && !strstr(dev.body, t[i].secret) && !strstr(tok.body, t[i].secret);
                if (!ok)
                        fprintf(stderr, "  %s:\n    dev  '%s' [%s]\n    tok  '%s' [%s]\n", t[i].name, strna(dev.body),
                                strna(dev.authorization), strna(tok.body), strna(tok.authorization));
                test_report("build_requests", t[i].name, ok);
                CHECK(ok);
                config_free(c);
        }
}

TEST(build_requests_refuse_missing_inputs) {
        OAuthRequest req = {};
        Config *c = make_config(CLIENT_AUTH_NONE, NULL, NULL);

        /* no client_id */
        CHECK_INTEQ(oauth_build_device_auth_request(c, NULL, &req), -EINVAL);
        CHECK_INTEQ(oauth_build_token_request(c, "dc", NULL, &req), -EINVAL);
        set_str(&c->client_id, "c");
        /* no device_code */
        CHECK_INTEQ(oauth_build_token_request(c, NULL, NULL, &req), -EINVAL);
        /* private_key_jwt without an assertion */
        c->client_auth = CLIENT_AUTH_PRIVATE_KEY_JWT;
        CHECK_INTEQ(oauth_build_device_auth_request(c, NULL, &req), -EINVAL);
        CHECK_INTEQ(oauth_build_token_request(c, "dc", NULL, &req), -EINVAL);
        /* ret untouched on failure */
        CHECK(req.body == NULL && req.authorization == NULL);
        config_free(c);
}

TEST(basic_with_no_secret_sends_empty_password) {
        _cleanup_(oauth_request_done) OAuthRequest req = {};
        Config *c = make_config(CLIENT_AUTH_CLIENT_SECRET_BASIC, "id", NULL);

        set_str(&c->scope, NULL);
        CHECK_INTEQ(oauth_build_device_auth_request(c, NULL, &req), 0);
        CHECK(req.body == NULL || streq(req.body, ""));
        CHECK_STREQ(req.authorization, "Basic aWQ6");   /* "id:" */
        config_free(c);
}

/* ---- device authorization replies (RFC 8628 §3.2) -------------------------------------------- */

typedef struct DevCase {
        const char *name;
        long status;
        const char *body;
        bool loopback;
        int r;
        /* on success */
        const char *device_code, *user_code, *uri, *uri_complete;
        uint64_t expires, interval;             /* seconds */
        /* on failure */
        const char *error, *description;       /* description NULL: not checked */
} DevCase;

#define RFC_DEV \
        "{\"device_code\":\"GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS\",\"user_code\":\"WDJB-MJHT\"," \
        "\"verification_uri\":\"https://example.com/device\"," \
        "\"verification_uri_complete\":\"https://example.com/device?user_code=WDJB-MJHT\"," \
        "\"expires_in\":1800,\"interval\":5}"

static const DevCase dev_cases[] = {
        /* RFC 8628 §3.2's example */
        { "rfc", 200, RFC_DEV, false, 0, "GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS", "WDJB-MJHT",
          "https://example.com/device", "https://example.com/device?user_code=WDJB-MJHT", 1800, 5 },
        { "rfc-trailing-newline", 200, RFC_DEV "\r\n", false, 0, "GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS",
          "WDJB-MJHT", "https://example.com/device", "https://example.com/device?user_code=WDJB-MJHT", 1800, 5 },
        { "auth0", 200,
          "{\"device_code\":\"Ag_EE_yCm4CqTqBRDw6pDFc0yAmTpJQLY0KXQp0h\",\"user_code\":\"QTZL-MCBW\","
          "\"verification_uri\":\"https://accounts.acmetest.org/activate\","
          "\"verification_uri_complete\":\"https://accounts.acmetest.org/activate?user_code=QTZL-MCBW\","
          "\"expires_in\":900,\"interval\":5}", false, 0,
          "Ag_EE_yCm4CqTqBRDw6pDFc0yAmTpJQLY0KXQp0h", "QTZL-MCBW", "https://accounts.acmetest.org/activate",
          "https://accounts.acmetest.org/activate?user_code=QTZL-MCBW", 900, 5 },
        { "pingone", 200,
          "{\"device_code\":\"03a6c2f9-1b2c-4d5e-8f90-a1b2c3d4e5f6\",\"user_code\":\"KVHZ-XWTR\","
          "\"verification_uri\":\"https://auth.pingone.eu/abcd-env/device\","
          "\"verification_uri_complete\":\"https://auth.pingone.eu/abcd-env/device?user_code=KVHZ-XWTR\","
          "\"expires_in\":600,\"interval\":5}", false, 0,
          "03a6c2f9-1b2c-4d5e-8f90-a1b2c3d4e5f6", "KVHZ-XWTR", "https://auth.pingone.eu/abcd-env/device",
          "https://auth.pingone.eu/abcd-env/device?user_code=KVHZ-XWTR", 600, 5 },
        { "pingfederate", 200,
          "{\"device_code\":\"0a1b2c3d4e5f\",\"user_code\":\"JLRT-QZXD\","
          "\"verification_uri\":\"https://pf.example.com:9031/as/user_authz.oauth2\","
          "\"verification_uri_complete\":\"https://pf.example.com:9031/as/user_authz.oauth2?user_code=JLRT-QZXD\","
          "\"expires_in\":600,\"interval\":5}", false, 0,
          "0a1b2c3d4e5f", "JLRT-QZXD", "https://pf.example.com:9031/as/user_authz.oauth2",
          "https://pf.example.com:9031/as/user_authz.oauth2?user_code=JLRT-QZXD", 600, 5 },
        /* Google: verification_url, no verification_uri_complete */
        { "google", 200,
          "{\"device_code\":\"AH-1Ng0IWTYb1Sg1Eq2kxnGDPMN0-sZQSXdNPeEzxQ\",\"user_code\":\"GQVQ-JKEC\","
          "\"verification_url\":\"https://www.google.com/device\",\"expires_in\":1800,\"interval\":5}", false, 0,
          "AH-1Ng0IWTYb1Sg1Eq2kxnGDPMN0-sZQSXdNPeEzxQ", "GQVQ-JKEC", "https://www.google.com/device", NULL, 1800, 5 },
        /* verification_uri wins over verification_url when both are there */
        { "both-uri-and-url", 200,
          "{\"device_code\":\"d\",\"user_code\":\"U\",\"verification_url\":\"https://b.example/\","
          "\"verification_uri\":\"https://a.example/\",\"expires_in\":60}", false, 0,
          "d", "U", "https://a.example/", NULL, 60, 0 },
        { "numbers-as-strings", 200,
          "{\"device_code\":\"d\",\"user_code\":\"ABCD-EFGH\",\"verification_uri\":\"https://idp.example/d\","
          "\"expires_in\":\"900\",\"interval\":\"5\"}", false, 0,
          "d", "ABCD-EFGH", "https://idp.example/d", NULL, 900, 5 },
        { "okta", 200,
          "{\"device_code\":\"4cfc2b71-7c6e-4d2a-b7b1-2f1f9e4d1b1a\",\"user_code\":\"FXZPJFSH\","
          "\"verification_uri\":\"https://dev-123456.okta.com/activate\","
          "\"verification_uri_complete\":\"https://dev-123456.okta.com/activate?user_code=FXZPJFSH\","
          "\"expires_in\":600,\"interval\":5}", false, 0,
          "4cfc2b71-7c6e-4d2a-b7b1-2f1f9e4d1b1a", "FXZPJFSH", "https://dev-123456.okta.com/activate",
          "https://dev-123456.okta.com/activate?user_code=FXZPJFSH", 600, 5 },
        /* Entra ID: an extra "message", no verification_uri_complete */
        { "entra", 200,
          "{\"user_code\":\"DF7XQJ6W8\",\"device_code\":\"DAQABAAEAAAD--DLA3VO7QrddgJg7WevrAgNA\","
          "\"verification_uri\":\"https://microsoft.com/devicelogin\",\"expires_in\":900,\"interval\":5,"
          "\"message\":\"To sign in, use a web browser to open the page https://microsoft.com/devicelogin "
          "and enter the code DF7XQJ6W8 to authenticate.\"}", false, 0,
          "DAQABAAEAAAD--DLA3VO7QrddgJg7WevrAgNA", "DF7XQJ6W8", "https://microsoft.com/devicelogin", NULL, 900, 5 },
        /* Entra ID v1 endpoint: verification_url and numbers as strings */
        { "entra-v1", 200,
          "{\"user_code\":\"DF7XQJ6W8\",\"device_code\":\"DAQAB\",\"verification_url\":\"https://microsoft.com/devicelogin\","
          "\"expires_in\":\"900\",\"interval\":\"5\",\"message\":\"...\"}", false, 0,
          "DAQAB", "DF7XQJ6W8", "https://microsoft.com/devicelogin", NULL, 900, 5 },
        { "keycloak-null-complete", 200,
          "{\"device_code\":\"kc\",\"user_code\":\"ABCD-EFGH\",\"verification_uri\":\"https://kc.example/realms/r/device\","
          "\"verification_uri_complete\":null,\"expires_in\":600,\"interval\":5}", false, 0,
          "kc", "ABCD-EFGH", "https://kc.example/realms/r/device", NULL, 600, 5 },
        { "no-interval", 200,
          "{\"device_code\":\"d\",\"user_code\":\"U\",\"verification_uri\":\"https://idp.example/d\",\"expires_in\":300}",
          false, 0, "d", "U", "https://idp.example/d", NULL, 300, 0 },
        { "interval-null", 200,
          "{\"device_code\":\"d\",\"user_code\":\"U\",\"verification_uri\":\"https://idp.example/d\",\"expires_in\":300,"
          "\"interval\":null}", false, 0, "d", "U", "https://idp.example/d", NULL, 300, 0 },
        { "user-code-with-space", 200,
          "{\"device_code\":\"d\",\"user_code\":\"ABC DEF\",\"verification_uri\":\"https://idp.example/d\",\"expires_in\":300}",
          false, 0, "d", "ABC DEF", "https://idp.example/d", NULL, 300, 0 },
        { "http-loopback-allowed", 200,
          "{\"device_code\":\"d\",\"user_code\":\"U\",\"verification_uri\":\"http://127.0.0.1:8080/device\","
          "\"verification_uri_complete\":\"http://[::1]:8080/device?u=U\",\"expires_in\":300}", true, 0,
          "d", "U", "http://127.0.0.1:8080/device", "http://[::1]:8080/device?u=U", 300, 0 },
        { "201-accepted", 201,
          "{\"device_code\":\"d\",\"user_code\":\"U\",\"verification_uri\":\"https://idp.example/d\",\"expires_in\":300}",
          false, 0, "d", "U", "https://idp.example/d", NULL, 300, 0 },

        /* IdP errors: the IdP's words, -EPROTO */
        { "pingfederate-invalid-client", 401,
          "{\"error\":\"invalid_client\",\"error_description\":\"Invalid client or client credentials.\"}", false,
          -EPROTO, .error = "invalid_client", .description = "Invalid client or client credentials." },
        { "pingfederate-invalid-scope", 400,
          "{\"error\":\"invalid_scope\",\"error_description\":\"The requested scope(s) must be blank or a subset of "
          "the provided scopes.\"}", false, -EPROTO, .error = "invalid_scope",
          .description = "The requested scope(s) must be blank or a subset of the provided scopes." },
        { "auth0-unauthorized-client", 403,
          "{\"error\":\"unauthorized_client\",\"error_description\":\"Unauthorized or unknown client\"}", false,
          -EPROTO, .error = "unauthorized_client", .description = "Unauthorized or unknown client" },
        { "google-invalid-client", 401, "{\"error\":\"invalid_client\",\"error_description\":\"The OAuth client was not found.\"}",
          false, -EPROTO, .error = "invalid_client", .description = "The OAuth client was not found." },
        { "error-without-description", 400, "{\"error\":\"invalid_request\"}", false, -EPROTO,
          .error = "invalid_request" },
        { "200-with-error", 200, "{\"error\":\"server_error\",\"device_code\":\"d\",\"user_code\":\"U\","
          "\"verification_uri\":\"https://idp.example/d\",\"expires_in\":300}", false, -EPROTO, .error = "server_error" },
        { "empty-error-name", 400, "{\"error\":\"\"}", false, -EPROTO, .error = "unknown_error" },
        { "entra-crlf-description", 400,
          "{\"error\":\"invalid_scope\",\"error_description\":\"AADSTS70011: bad scope.\\r\\nTrace ID: 1\\r\\n"
          "Correlation ID: 2\",\"error_codes\":[70011]}", false, -EPROTO, .error = "invalid_scope" },
        { "escapes-in-description", 400,
          "{\"error\":\"x\\u001b[31m\",\"error_description\":\"\\u001b]0;owned\\u0007\\u009b2J text\\u007f\"}", false,
          -EPROTO, .error = "x?[31m" },

        /* hostile or broken: -EBADMSG, error "invalid_reply" */
        /* "\u0000" inside a string: a C string would end there and hide the rest */
        { "user-code-nul-escape", 200,
          "{\"device_code\":\"d\",\"user_code\":\"WDJB\\u0000\\u001b[2J\",\"verification_uri\":\"https://idp.example/d\","
          "\"expires_in\":300}", false, -EBADMSG, .error = "invalid_reply",
          .description = "HTTP status 200 without a valid JSON object (an escaped NUL)" },
        { "device-code-nul-escape", 200,
          "{\"device_code\":\"abc\\u0000def\",\"user_code\":\"U\",\"verification_uri\":\"https://idp.example/d\","
          "\"expires_in\":300}", false, -EBADMSG, .error = "invalid_reply",
          .description = "HTTP status 200 without a valid JSON object (an escaped NUL)" },
        { "verification-uri-nul-escape", 200,
          "{\"device_code\":\"d\",\"user_code\":\"U\",\"verification_uri\":\"https://good.example\\u0000.evil.example/\","
          "\"expires_in\":300}", false, -EBADMSG, .error = "invalid_reply",
          .description = "HTTP status 200 without a valid JSON object (an escaped NUL)" },
        /* A member twice: json-c would keep the last one silently. */
        { "user-code-twice", 200,
          "{\"device_code\":\"d\",\"user_code\":\"GOOD\",\"verification_uri\":\"https://idp.example/d\","
          "\"expires_in\":300,\"user_code\":\"EVIL\"}", false, -EBADMSG, .error = "invalid_reply",
          .description = "HTTP status 200 without a valid JSON object (a member twice)" },
        { "raw-c1-in-description", 400, "{\"error\":\"invalid_request\",\"error_description\":\"a\x9b" "2Jb\xc0\x9b\"}",
          false, -EBADMSG, .error = "invalid_reply", .description = "HTTP status 400 without a valid JSON object" },
        /* Invalid UTF-8 makes the whole reply malformed (JSON is UTF-8): nothing of it is shown. */
        { "invalid-utf8-in-error", 400, "{\"error\":\"x\xff\xfe\xed\xa0\x80y\"}", false, -EBADMSG,
          .error = "invalid_reply", .description = "HTTP status 400 without a valid JSON object" },
        { "valid-utf8-description-kept", 400, "{\"error\":\"access_denied\",\"error_description\":\"Zugriff verweigert: "
          "\xc3\xa4\xe2\x82\xac\xf0\x9f\x94\x92\"}", false, -EPROTO, .error = "access_denied",
          .description = "Zugriff verweigert: \xc3\xa4\xe2\x82\xac\xf0\x9f\x94\x92" },
        { "html-502", 502, "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>", false,
          -EBADMSG, .error = "invalid_reply" },
        { "5xx-json-without-error", 503, "{\"message\":\"maintenance\"}", false, -EBADMSG, .error = "invalid_reply" },
        { "400-without-error", 400, "{\"device_code\":\"d\"}", false, -EBADMSG, .error = "invalid_reply" },
        { "truncated", 200, "{\"device_code\":\"d\",\"user_code\":\"U\",\"verification_uri\":\"https://idp.exa", false,
          -EBADMSG, .error = "invalid_reply" },
        { "garbage", 200, "\x89PNG\r\n\x1a\n\x00\x00", false, -EBADMSG, .error = "invalid_reply" },
        { "empty-body", 200, "", false, -EBADMSG, .error = "invalid_reply" },
        { "json-array", 200, "[\"device_code\"]", false, -EBADMSG, .error = "invalid_reply" },
        { "json-string", 200, "\"hello\"", false, -EBADMSG, .error = "invalid_reply" },
        { "json-null", 200, "null", false, -EBADMSG, .error = "invalid_reply" },
        { "trailing-garbage", 200, RFC_DEV "x", false, -EBADMSG, .error = "invalid_reply" },
        { "two-objects", 200, RFC_DEV RFC_DEV, false, -EBADMSG, .error = "invalid_reply" },
        { "single-quotes", 200, "{'device_code':'d'}", false, -EBADMSG, .error = "invalid_reply" },
        { "missing-device-code", 200,
          "{\"user_code\":\"U\",\"verification_uri\":\"https://idp.example/d\",\"expires_in\":300}", false, -EBADMSG,
          .error = "invalid_reply", .description = "missing or invalid device_code" },
        { "empty-device-code", 200,
          "{\"device_code\":\"\",\"user_code\":\"U\",\"verification_uri\":\"https://idp.example/d\",\"expires_in\":300}",
          false, -EBADMSG, .error = "invalid_reply", .description = "missing or invalid device_code" },
        { "device-code-number", 200,
          "{\"device_code\":12345,\"user_code\":\"U\",\"verification_uri\":\"https://idp.example/d\",\"expires_in\":300}",
          false, -EBADMSG, .error = "invalid_reply", .description = "missing or invalid device_code" },
        { "device-code-with-newline", 200,
          "{\"device_code\":\"a\\nb\",\"user_code\":\"U\",\"verification_uri\":\"https://idp.example/d\",\"expires_in\":300}",
          false, -EBADMSG, .error = "invalid_reply", .description = "missing or invalid device_code" },
        { "missing-user-code", 200,
          "{\"device_code\":\"d\",\"verification_uri\":\"https://idp.example/d\",\"expires_in\":300}", false, -EBADMSG,
          .error = "invalid_reply", .description = "missing or invalid user_code" },
        { "user-code-array", 200,
          "{\"device_code\":\"d\",\"user_code\":[\"U\"],\"verification_uri\":\"https://idp.example/d\",\"expires_in\":300}",
          false, -EBADMSG, .error = "invalid_reply", .description = "missing or invalid user_code" },
        { "user-code-object", 200,
          "{\"device_code\":\"d\",\"user_code\":{\"a\":1},\"verification_uri\":\"https://idp.example/d\",\"expires_in\":300}",
          false, -EBADMSG, .error = "invalid_reply", .description = "missing or invalid user_code" },
        { "user-code-escape", 200,
          "{\"device_code\":\"d\",\"user_code\":\"\\u001b[2J\",\"verification_uri\":\"https://idp.example/d\",\"expires_in\":300}",
          false, -EBADMSG, .error = "invalid_reply", .description = "missing or invalid user_code" },
        { "user-code-non-ascii", 200,
          "{\"device_code\":\"d\",\"user_code\":\"\\u202eABCD\",\"verification_uri\":\"https://idp.example/d\",\"expires_in\":300}",
          false, -EBADMSG, .error = "invalid_reply", .description = "missing or invalid user_code" },
        { "user-code-leading-space", 200,
          "{\"device_code\":\"d\",\"user_code\":\" ABCD\",\"verification_uri\":\"https://idp.example/d\",\"expires_in\":300}",
          false, -EBADMSG, .error = "invalid_reply", .description = "missing or invalid user_code" },
        { "missing-verification-uri", 200, "{\"device_code\":\"d\",\"user_code\":\"U\",\"expires_in\":300}", false,
          -EBADMSG, .error = "invalid_reply", .description = "missing or invalid verification_uri" },
        { "verification-uri-esc", 200,
          "{\"device_code\":\"d\",\"user_code\":\"U\",\"verification_uri\":\"https://idp.example/\\u001b[2J\\u001b]8;;x\","
          "\"expires_in\":300}", false, -EBADMSG, .error = "invalid_reply",
          .description = "missing or invalid verification_uri" },
        { "verification-uri-newline", 200,
          "{\"device_code\":\"d\",\"user_code\":\"U\",\"verification_uri\":\"https://idp.example/\\nFake prompt:\","
          "\"expires_in\":300}", false, -EBADMSG, .error = "invalid_reply",
          .description = "missing or invalid verification_uri" },
        { "verification-uri-javascript", 200,
          "{\"device_code\":\"d\",\"user_code\":\"U\",\"verification_uri\":\"javascript:alert(1)\",\"expires_in\":300}",
          false, -EBADMSG, .error = "invalid_reply", .description = "missing or invalid verification_uri" },
        { "verification-uri-data", 200,
          "{\"device_code\":\"d\",\"user_code\":\"U\",\"verification_uri\":\"data:text/html,hi\",\"expires_in\":300}",
          false, -EBADMSG, .error = "invalid_reply", .description = "missing or invalid verification_uri" },
        { "verification-uri-http", 200,
          "{\"device_code\":\"d\",\"user_code\":\"U\",\"verification_uri\":\"http://idp.example/d\",\"expires_in\":300}",
          false, -EBADMSG, .error = "invalid_reply", .description = "missing or invalid verification_uri" },
        { "verification-uri-http-remote-loopback-allowed", 200,
          "{\"device_code\":\"d\",\"user_code\":\"U\",\"verification_uri\":\"http://idp.example/d\",\"expires_in\":300}",
          true, -EBADMSG, .error = "invalid_reply", .description = "missing or invalid verification_uri" },
        { "verification-uri-http-loopback-not-allowed", 200,
          "{\"device_code\":\"d\",\"user_code\":\"U\",\"verification_uri\":\"http://127.0.0.1/d\",\"expires_in\":300}",
          false, -EBADMSG, .error = "invalid_reply", .description = "missing or invalid verification_uri" },
        { "verification-uri-with-credentials", 200,
          "{\"device_code\":\"d\",\"user_code\":\"U\",\"verification_uri\":\"https://user:pw@idp.example/d\",\"expires_in\":300}",
          false, -EBADMSG, .error = "invalid_reply", .description = "missing or invalid verification_uri" },
        { "verification-uri-no-host", 200,
          "{\"device_code\":\"d\",\"user_code\":\"U\",\"verification_uri\":\"https:///d\",\"expires_in\":300}",
          false, -EBADMSG, .error = "invalid_reply", .description = "missing or invalid verification_uri" },
        { "verification-uri-number", 200,
          "{\"device_code\":\"d\",\"user_code\":\"U\",\"verification_uri\":42,\"expires_in\":300}",
          false, -EBADMSG, .error = "invalid_reply", .description = "missing or invalid verification_uri" },
        { "verification-uri-complete-javascript", 200,
          "{\"device_code\":\"d\",\"user_code\":\"U\",\"verification_uri\":\"https://idp.example/d\","
          "\"verification_uri_complete\":\"javascript:alert(1)\",\"expires_in\":300}", false, -EBADMSG,
          .error = "invalid_reply", .description = "invalid verification_uri_complete" },
        { "verification-uri-complete-array", 200,
          "{\"device_code\":\"d\",\"user_code\":\"U\",\"verification_uri\":\"https://idp.example/d\","
          "\"verification_uri_complete\":[\"https://idp.example/d\"],\"expires_in\":300}", false, -EBADMSG,
          .error = "invalid_reply", .description = "invalid verification_uri_complete" },
        { "missing-expires-in", 200,
          "{\"device_code\":\"d\",\"user_code\":\"U\",\"verification_uri\":\"https://idp.example/d\"}", false, -EBADMSG,
          .error = "invalid_reply", .description = "missing or invalid expires_in" },
        { "expires-in-zero", 200,
          "{\"device_code\":\"d\",\"user_code\":\"U\",\"verification_uri\":\"https://idp.example/d\",\"expires_in\":0}",
          false, -EBADMSG, .error = "invalid_reply", .description = "missing or invalid expires_in" },
        { "expires-in-negative", 200,
          "{\"device_code\":\"d\",\"user_code\":\"U\",\"verification_uri\":\"https://idp.example/d\",\"expires_in\":-1}",
          false, -EBADMSG, .error = "invalid_reply", .description = "missing or invalid expires_in" },
        { "expires-in-huge", 200,
          "{\"device_code\":\"d\",\"user_code\":\"U\",\"verification_uri\":\"https://idp.example/d\","
          "\"expires_in\":18446744073709551615}", false, -EBADMSG, .error = "invalid_reply",
          .description = "missing or invalid expires_in" },
        { "expires-in-float", 200,
          "{\"device_code\":\"d\",\"user_code\":\"U\",\"verification_uri\":\"https://idp.example/d\",\"expires_in\":1e30}",
          false, -EBADMSG, .error = "invalid_reply", .description = "missing or invalid expires_in" },
        { "expires-in-bad-string", 200,
          "{\"device_code\":\"d\",\"user_code\":\"U\",\"verification_uri\":\"https://idp.example/d\",\"expires_in\":\"15m\"}",
          false, -EBADMSG, .error = "invalid_reply", .description = "missing or invalid expires_in" },
        { "expires-in-bool", 200,
          "{\"device_code\":\"d\",\"user_code\":\"U\",\"verification_uri\":\"https://idp.example/d\",\"expires_in\":true}",
          false, -EBADMSG, .error = "invalid_reply", .description = "missing or invalid expires_in" },
        { "expires-in-more-than-a-day", 200,
          "{\"device_code\":\"d\",\"user_code\":\"U\",\"verification_uri\":\"https://idp.example/d\",\"expires_in\":86401}",
          false, -EBADMSG, .error = "invalid_reply", .description = "missing or invalid expires_in" },
        { "interval-negative", 200,
          "{\"device_code\":\"d\",\"user_code\":\"U\",\"verification_uri\":\"https://idp.example/d\",\"expires_in\":300,"
          "\"interval\":-5}", false, -EBADMSG, .error = "invalid_reply", .description = "invalid interval" },
        { "interval-huge", 200,
          "{\"device_code\":\"d\",\"user_code\":\"U\",\"verification_uri\":\"https://idp.example/d\",\"expires_in\":300,"
          "\"interval\":99999999999}", false, -EBADMSG, .error = "invalid_reply", .description = "invalid interval" },
        { "interval-object", 200,
          "{\"device_code\":\"d\",\"user_code\":\"U\",\"verification_uri\":\"https://idp.example/d\",\"expires_in\":300,"
          "\"interval\":{}}", false, -EBADMSG, .error = "invalid_reply", .description = "invalid interval" },
};

static bool check_dev_case(const DevCase *t, const char *body, size_t len) {
        _cleanup_(device_auth_done) DeviceAuth d = {};
        _cleanup_(oauth_error_done) OAuthError e = {};
        int r = oauth_parse_device_auth(t->status, body, len, t->loopback, &d, &e);
        bool ok = r == t->r;

        if (t->r == 0)
                ok = ok && str_eq_null(d.device_code, t->device_code) && str_eq_null(d.user_code, t->user_code) &&
                     str_eq_null(d.verification_uri, t->uri) &&
                     str_eq_null(d.verification_uri_complete, t->uri_complete) &&
                     d.expires_in_usec == t->expires * USEC_PER_SEC && d.interval_usec == t->interval * USEC_PER_SEC &&
                     e.error == NULL;
        else
                ok = ok && d.device_code == NULL && d.user_code == NULL && d.verification_uri == NULL &&
                     str_eq_null(e.error, t->error) && (!t->description || str_eq_null(e.error_description, t->description)) &&
                     text_is_safe(e.error) && text_is_safe(e.error_description);
        if (!ok)
                fprintf(stderr, "  %s: r=%d error='%s' description='%s' user_code='%s'\n", t->name, r, strna(e.error),
                        strna(e.error_description), strna(d.user_code));
        return ok;
}

TEST(device_auth_table) {
        for (size_t i = 0; i < ELEMENTSOF(dev_cases); i++) {
                /* "garbage" holds NUL bytes: use its full literal length there */
                size_t len = streq(dev_cases[i].name, "garbage") ? 10 : strlen(dev_cases[i].body);
                bool ok = check_dev_case(&dev_cases[i], dev_cases[i].body, len);

                test_report("device_auth", dev_cases[i].name, ok);
                CHECK(ok);
        }
}

TEST(device_auth_control_characters_stripped) {
        _cleanup_(device_auth_done) DeviceAuth d = {};
        _cleanup_(oauth_error_done) OAuthError e = {};
        static const char body[] =
                "{\"error\":\"access_denied\",\"error_description\":\"line1\\r\\nline2\\u001b[31mred\\u0007\\u009bX\\u007f\"}";

        CHECK_INTEQ(oauth_parse_device_auth(400, body, strlen(body), false, &d, &e), -EPROTO);
        CHECK_STREQ(e.error, "access_denied");
        CHECK(e.error_description != NULL);
        CHECK(text_is_safe(e.error_description));
        /* the words survive, only the controls go */
        CHECK(e.error_description && strstr(e.error_description, "line1") && strstr(e.error_description, "line2") &&
              strstr(e.error_description, "[31mred"));
}

TEST(device_auth_long_description_capped) {
        _cleanup_(oauth_error_done) OAuthError e = {};
        DeviceAuth d = {};
        _cleanup_free_ char *body = NULL;
        char desc[3001];

        /* 1000 × "é" (2 bytes): the cap may not cut a character in half */
        for (size_t i = 0; i < 3000; i += 2)
                memcpy(desc + i, "\xc3\xa9", 2);
        desc[3000] = 0;
        CHECK(asprintf(&body, "{\"error\":\"invalid_request\",\"error_description\":\"%s\"}", desc) > 0);
        CHECK_INTEQ(oauth_parse_device_auth(400, body, strlen(body), false, &d, &e), -EPROTO);
        CHECK(e.error_description && strlen(e.error_description) <= OAUTH_MAX_ERROR_TEXT);
        CHECK(e.error_description && strlen(e.error_description) >= OAUTH_MAX_ERROR_TEXT - 1);
        CHECK(e.error_description && strlen(e.error_description) % 2 == 0);
}

static char *dev_reply_with(const char *device_code, const char *user_code, const char *uri) {
        char *s = NULL;

        if (asprintf(&s, "{\"device_code\":\"%s\",\"user_code\":\"%s\",\"verification_uri\":\"%s\",\"expires_in\":600}",
                     device_code, user_code, uri) < 0)
                return NULL;
        return s;
}

TEST(device_auth_length_limits) {
        static const struct {
                const char *name;
                size_t device_code, user_code, uri;     /* lengths */
                int r;
        } t[] = {
                { "all-at-limit",            OAUTH_MAX_DEVICE_CODE,     OAUTH_MAX_USER_CODE,     OAUTH_MAX_URI,     0 },
                { "device-code-over",        OAUTH_MAX_DEVICE_CODE + 1, 8,                       30,            -EBADMSG },
                { "user-code-over",          40,                        OAUTH_MAX_USER_CODE + 1, 30,            -EBADMSG },
                { "user-code-10k",           40,                        10240,                   30,            -EBADMSG },
                { "uri-over",                40,                        8,                       OAUTH_MAX_URI + 1, -EBADMSG },
        };

        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                _cleanup_free_ char *dc = malloc(t[i].device_code + 1), *uc = malloc(t[i].user_code + 1),
                                    *uri = malloc(t[i].uri + 1), *body = NULL;
                _cleanup_(device_auth_done) DeviceAuth d = {};
                _cleanup_(oauth_error_done) OAuthError e = {};
                bool ok;
                int r;

                assert(dc && uc && uri);
                memset(dc, 'D', t[i].device_code);
                dc[t[i].device_code] = 0;
                memset(uc, 'U', t[i].user_code);
                uc[t[i].user_code] = 0;
                memcpy(uri, "https://idp.example/", 20);
                memset(uri + 20, 'p', t[i].uri - 20);
                uri[t[i].uri] = 0;
                body = dev_reply_with(dc, uc, uri);
                assert(body);
                r = oauth_parse_device_auth(200, body, strlen(body), false, &d, &e);
                ok = r == t[i].r && (r < 0 ? streq_ptr(e.error, "invalid_reply") && !d.user_code :
                                             streq_ptr(d.user_code, uc) && streq_ptr(d.device_code, dc));
                test_report("device_auth_limits", t[i].name, ok);
                CHECK(ok);
        }
}

TEST(device_auth_deep_nesting_refused) {
        static const size_t depths[] = { 17, 100, 1000 };

        for (size_t i = 0; i < ELEMENTSOF(depths); i++) {
                _cleanup_(device_auth_done) DeviceAuth d = {};
                _cleanup_(oauth_error_done) OAuthError e = {};
                _cleanup_(token_reply_done) TokenReply tr = {};
                Discovery disc = {};
                _cleanup_free_ char *reason = NULL;
                size_t n = depths[i], len;
                _cleanup_free_ char *body = malloc(6 * n + 64);
                char *p;
                bool ok;

                assert(body);
                /* {"a":{"a":{"a": … 1 … }}} */
                p = body;
                for (size_t k = 0; k < n; k++)
                        p = stpcpy(p, "{\"a\":");
                *p++ = '1';
                memset(p, '}', n);
                p += n;
                *p = 0;
                len = strlen(body);
                ok = oauth_parse_device_auth(200, body, len, false, &d, &e) == -EBADMSG &&
                     streq_ptr(e.error, "invalid_reply") &&
                     oauth_parse_token_reply(200, body, len, &tr) == -EBADMSG && tr.kind == TOKEN_REPLY_MALFORMED &&
                     oauth_parse_discovery(body, len, "https://idp.example", false, &disc, &reason) == -EBADMSG;
                test_report("deep_nesting", n == 17 ? "17" : n == 100 ? "100" : "1000", ok);
                CHECK(ok);
        }
}

TEST(device_auth_nul_bytes_refused) {
        _cleanup_(device_auth_done) DeviceAuth d = {};
        _cleanup_(oauth_error_done) OAuthError e = {};
        static const char body[] = RFC_DEV;
        char copy[sizeof body];

        /* A raw NUL inside the body: json would stop early; the reply must be refused as a whole. */
        memcpy(copy, body, sizeof body);
        copy[20] = 0;
        CHECK_INTEQ(oauth_parse_device_auth(200, copy, sizeof body - 1, false, &d, &e), -EBADMSG);
        CHECK(d.device_code == NULL);
}

/* ---- token replies (RFC 8628 §3.5, RFC 6749 §5.1–5.2) ---------------------------------------- */

typedef struct TokCase {
        const char *name;
        long status;
        const char *body;
        int r;
        TokenReplyKind kind;
        const char *error;              /* expected error member, NULL: none */
        const char *access_token, *id_token, *token_type;
} TokCase;

static const TokCase tok_cases[] = {
        /* RFC style: 400 for pending and slow_down */
        { "rfc-pending", 400, "{\"error\":\"authorization_pending\"}", 0, TOKEN_REPLY_PENDING, "authorization_pending" },
        { "rfc-slow-down", 400, "{\"error\":\"slow_down\"}", 0, TOKEN_REPLY_SLOW_DOWN, "slow_down" },
        { "rfc-denied", 400, "{\"error\":\"access_denied\"}", 0, TOKEN_REPLY_DENIED, "access_denied" },
        { "rfc-expired", 400, "{\"error\":\"expired_token\"}", 0, TOKEN_REPLY_EXPIRED, "expired_token" },
        { "rfc-tokens", 200,
          "{\"access_token\":\"2YotnFZFEjr1zCsicMWpAA\",\"token_type\":\"Bearer\",\"expires_in\":3600,"
          "\"refresh_token\":\"tGzv3JOkF0XG5Qx2TlKWIA\",\"id_token\":\"eyJhbGciOiJSUzI1NiJ9.e30.c2ln\"}",
          0, TOKEN_REPLY_TOKENS, NULL, "2YotnFZFEjr1zCsicMWpAA", "eyJhbGciOiJSUzI1NiJ9.e30.c2ln", "Bearer" },
        { "tokens-without-id-token", 200, "{\"access_token\":\"at\",\"token_type\":\"bearer\"}", 0,
          TOKEN_REPLY_TOKENS, NULL, "at", NULL, "bearer" },
        /* Auth0: 403 for pending, expired and denied, 429 for slow_down; invalid_grant after expired_token */
        { "auth0-pending-403", 403,
          "{\"error\":\"authorization_pending\",\"error_description\":\"User has yet to authorize device code.\"}",
          0, TOKEN_REPLY_PENDING, "authorization_pending" },
        { "auth0-slow-down-429", 429,
          "{\"error\":\"slow_down\",\"error_description\":\"You are polling faster than allowed. Try again in 10 seconds.\"}",
          0, TOKEN_REPLY_SLOW_DOWN, "slow_down" },
        { "auth0-expired-403", 403,
          "{\"error\":\"expired_token\",\"error_description\":\"User did not authorize the request\"}",
          0, TOKEN_REPLY_EXPIRED, "expired_token" },
        { "auth0-denied-403", 403,
          "{\"error\":\"access_denied\",\"error_description\":\"User cancelled the confirmation prompt or consent page.\"}",
          0, TOKEN_REPLY_DENIED, "access_denied" },
        { "auth0-invalid-grant-403", 403,
          "{\"error\":\"invalid_grant\",\"error_description\":\"Invalid or expired device code.\"}",
          0, TOKEN_REPLY_ERROR, "invalid_grant" },
        { "auth0-tokens", 200,
          "{\"access_token\":\"eyJz93a...k4laUWw\",\"id_token\":\"eyJ0XAi...4faeEoQ\",\"refresh_token\":\"GEbRxBNedjnXbL\","
          "\"scope\":\"openid offline_access\",\"expires_in\":86400,\"token_type\":\"Bearer\"}",
          0, TOKEN_REPLY_TOKENS, NULL, "eyJz93a...k4laUWw", "eyJ0XAi...4faeEoQ", "Bearer" },
        /* PingOne / PingFederate */
        { "pingone-pending", 400,
          "{\"error\":\"authorization_pending\",\"error_description\":\"The authorization request is still pending.\"}",
          0, TOKEN_REPLY_PENDING, "authorization_pending" },
        { "pingfederate-invalid-client-401", 401,
          "{\"error\":\"invalid_client\",\"error_description\":\"Invalid client or client credentials.\"}",
          0, TOKEN_REPLY_ERROR, "invalid_client" },
        { "pingfederate-invalid-scope-400", 400,
          "{\"error\":\"invalid_scope\",\"error_description\":\"The requested scope(s) must be blank or a subset.\"}",
          0, TOKEN_REPLY_ERROR, "invalid_scope" },
        /* Google: 428 for pending, 403 for slow_down */
        { "google-pending-428", 428,
          "{\"error\":\"authorization_pending\",\"error_description\":\"Precondition Required\"}",
          0, TOKEN_REPLY_PENDING, "authorization_pending" },
        { "google-slow-down-403", 403, "{\"error\":\"slow_down\",\"error_description\":\"Forbidden\"}", 0,
          TOKEN_REPLY_SLOW_DOWN, "slow_down" },
        { "google-denied-403", 403, "{\"error\":\"access_denied\",\"error_description\":\"Forbidden\"}", 0,
          TOKEN_REPLY_DENIED, "access_denied" },
        /* Okta */
        { "okta-pending", 400,
          "{\"error\":\"authorization_pending\",\"error_description\":\"The device authorization is pending. Please try again later.\"}",
          0, TOKEN_REPLY_PENDING, "authorization_pending" },
        /* Entra ID: CR LF inside error_description, extra members; authorization_declined is its denial */
        { "entra-pending", 400,
          "{\"error\":\"authorization_pending\",\"error_description\":\"AADSTS70016: OAuth 2.0 device flow error. "
          "Authorization is pending. Continue polling.\\r\\nTrace ID: 0000\\r\\nCorrelation ID: 1111\\r\\nTimestamp: "
          "2024-01-01 00:00:00Z\",\"error_codes\":[70016],\"timestamp\":\"2024-01-01 00:00:00Z\","
          "\"trace_id\":\"0000\",\"correlation_id\":\"1111\",\"error_uri\":\"https://login.microsoftonline.com/error?code=70016\"}",
          0, TOKEN_REPLY_PENDING, "authorization_pending" },
        { "entra-declined", 400,
          "{\"error\":\"authorization_declined\",\"error_description\":\"AADSTS70000: The user denied the request.\"}",
          0, TOKEN_REPLY_DENIED, "authorization_declined" },
        { "entra-expired", 400,
          "{\"error\":\"expired_token\",\"error_description\":\"AADSTS70020: The provided value for the input parameter "
          "'device_code' is not valid. This device code has expired.\"}", 0, TOKEN_REPLY_EXPIRED, "expired_token" },
        { "entra-bad-verification-code", 400, "{\"error\":\"bad_verification_code\"}", 0, TOKEN_REPLY_ERROR,
          "bad_verification_code" },
        /* a 200 reply with an error member is an error, whatever the status says */
        { "200-with-pending", 200, "{\"error\":\"authorization_pending\"}", 0, TOKEN_REPLY_PENDING,
          "authorization_pending" },
        { "200-with-error-and-token", 200, "{\"error\":\"access_denied\",\"access_token\":\"at\"}", 0,
          TOKEN_REPLY_DENIED, "access_denied" },
        { "empty-error-name", 400, "{\"error\":\"\"}", 0, TOKEN_REPLY_ERROR, "unknown_error" },
        { "error-case-differs", 400, "{\"error\":\"Authorization_Pending\"}", 0, TOKEN_REPLY_ERROR,
          "Authorization_Pending" },
        /* server side trouble: retry */
        { "server-error", 400, "{\"error\":\"server_error\"}", 0, TOKEN_REPLY_SERVER_ERROR, "server_error" },
        { "temporarily-unavailable", 503, "{\"error\":\"temporarily_unavailable\"}", 0, TOKEN_REPLY_SERVER_ERROR,
          "temporarily_unavailable" },
        { "500-json-other-error", 500, "{\"error\":\"internal\"}", 0, TOKEN_REPLY_SERVER_ERROR, "internal" },
        { "502-html", 502, "<html><body><h1>502 Bad Gateway</h1></body></html>", 0, TOKEN_REPLY_SERVER_ERROR },
        { "503-empty", 503, "", 0, TOKEN_REPLY_SERVER_ERROR },
        { "504-json-no-error", 504, "{\"message\":\"timeout\"}", 0, TOKEN_REPLY_SERVER_ERROR },
        /* pending with a 5xx status is still pending: the error member decides */
        { "500-pending", 500, "{\"error\":\"authorization_pending\"}", 0, TOKEN_REPLY_PENDING, "authorization_pending" },
        /* malformed */
        { "200-without-access-token", 200, "{\"token_type\":\"Bearer\",\"id_token\":\"x.y.z\"}", -EBADMSG,
          TOKEN_REPLY_MALFORMED },
        { "200-empty-access-token", 200, "{\"access_token\":\"\"}", -EBADMSG, TOKEN_REPLY_MALFORMED },
        { "200-access-token-number", 200, "{\"access_token\":5}", -EBADMSG, TOKEN_REPLY_MALFORMED },
        { "200-id-token-array", 200, "{\"access_token\":\"at\",\"id_token\":[\"x\"]}", -EBADMSG, TOKEN_REPLY_MALFORMED },
        { "200-html", 200, "<html>login</html>", -EBADMSG, TOKEN_REPLY_MALFORMED },
        { "200-truncated", 200, "{\"access_token\":\"at", -EBADMSG, TOKEN_REPLY_MALFORMED },
        { "200-array", 200, "[]", -EBADMSG, TOKEN_REPLY_MALFORMED },
        { "200-empty", 200, "", -EBADMSG, TOKEN_REPLY_MALFORMED },
        { "400-without-error", 400, "{\"access_token\":\"at\"}", -EBADMSG, TOKEN_REPLY_MALFORMED },
        { "403-html", 403, "<html>Forbidden</html>", -EBADMSG, TOKEN_REPLY_MALFORMED },
        { "429-plain-text", 429, "Too Many Requests", -EBADMSG, TOKEN_REPLY_MALFORMED },
        { "error-not-a-string", 400, "{\"error\":[\"authorization_pending\"]}", -EBADMSG, TOKEN_REPLY_MALFORMED },
        { "error-object", 400, "{\"error\":{\"code\":\"authorization_pending\"}}", -EBADMSG, TOKEN_REPLY_MALFORMED },
        { "201-tokens", 201, "{\"access_token\":\"at\"}", -EBADMSG, TOKEN_REPLY_MALFORMED },
        { "id-token-twice", 200, "{\"access_token\":\"at\",\"id_token\":\"a.b.c\",\"id_token\":\"d.e.f\"}",
          -EBADMSG, TOKEN_REPLY_MALFORMED },
        { "access-token-nul-escape", 200, "{\"access_token\":\"at\\u0000x\"}", -EBADMSG, TOKEN_REPLY_MALFORMED },
        { "id-token-nul-escape", 200, "{\"access_token\":\"at\",\"id_token\":\"a.b.c\\u0000\"}", -EBADMSG,
          TOKEN_REPLY_MALFORMED },
};

TEST(token_reply_table) {
        for (size_t i = 0; i < ELEMENTSOF(tok_cases); i++) {
                const TokCase *t = &tok_cases[i];
                _cleanup_(token_reply_done) TokenReply tr = {};
                int r = oauth_parse_token_reply(t->status, t->body, strlen(t->body), &tr);
                bool ok = r == t->r && tr.kind == t->kind && str_eq_null(tr.error.error, t->error) &&
                          text_is_safe(tr.error.error) && text_is_safe(tr.error.error_description);

                if (t->kind == TOKEN_REPLY_TOKENS)
                        ok = ok && str_eq_null(tr.access_token, t->access_token) &&
                             str_eq_null(tr.id_token, t->id_token) && str_eq_null(tr.token_type, t->token_type);
                else
                        ok = ok && tr.access_token == NULL && tr.id_token == NULL && tr.refresh_token == NULL;
                if (!ok)
                        fprintf(stderr, "  %s: r=%d kind=%s error='%s'\n", t->name, r,
                                strna(token_reply_kind_to_string(tr.kind)), strna(tr.error.error));
                test_report("token_reply", t->name, ok);
                CHECK(ok);
        }
}

TEST(token_reply_entra_description_sanitized) {
        _cleanup_(token_reply_done) TokenReply tr = {};
        static const char body[] =
                "{\"error\":\"invalid_grant\",\"error_description\":\"AADSTS50126: bad.\\r\\nTrace ID: 1\\u001b[2J\"}";

        CHECK_INTEQ(oauth_parse_token_reply(400, body, strlen(body), &tr), 0);
        CHECK_INTEQ(tr.kind, TOKEN_REPLY_ERROR);
        CHECK(tr.error.error_description && strstr(tr.error.error_description, "AADSTS50126: bad."));
        CHECK(tr.error.error_description && strstr(tr.error.error_description, "Trace ID: 1"));
        CHECK(text_is_safe(tr.error.error_description));
}

/* A "keep polling" answer's error_description is dropped (it is never shown); a final error keeps its own. */
TEST(token_reply_description_only_when_final) {
        static const struct {
                const char *body;
                TokenReplyKind kind;
                bool kept;
        } cases[] = {
                { "{\"error\":\"authorization_pending\",\"error_description\":\"still pending\"}", TOKEN_REPLY_PENDING, false },
                { "{\"error\":\"slow_down\",\"error_description\":\"too fast\"}", TOKEN_REPLY_SLOW_DOWN, false },
                { "{\"error\":\"access_denied\",\"error_description\":\"the user said no\"}", TOKEN_REPLY_DENIED, true },
                { "{\"error\":\"expired_token\",\"error_description\":\"too late\"}", TOKEN_REPLY_EXPIRED, true },
                { "{\"error\":\"invalid_grant\",\"error_description\":\"bad code\"}", TOKEN_REPLY_ERROR, true },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(token_reply_done) TokenReply tr = {};

                CHECK_INTEQ(oauth_parse_token_reply(400, cases[i].body, strlen(cases[i].body), &tr), 0);
                CHECK_INTEQ(tr.kind, cases[i].kind);
                CHECK(tr.error.error != NULL);
                CHECK(cases[i].kept ? tr.error.error_description != NULL : tr.error.error_description == NULL);
        }
}

TEST(token_reply_kind_strings) {
        for (TokenReplyKind k = 0; k < _TOKEN_REPLY_KIND_MAX; k++)
                CHECK(token_reply_kind_to_string(k) != NULL);
        CHECK_STREQ(token_reply_kind_to_string(TOKEN_REPLY_PENDING), "authorization_pending");
        CHECK(token_reply_kind_to_string(_TOKEN_REPLY_KIND_MAX) == NULL);
        CHECK(token_reply_kind_to_string(_TOKEN_REPLY_KIND_INVALID) == NULL);
}

/* ---- discovery (OpenID Connect Discovery 1.0 §4) ---------------------------------------------- */

#define DISC_FULL(iss)                                                                                  \
        "{\"issuer\":\"" iss "\",\"authorization_endpoint\":\"https://idp.example/realms/corp/auth\","  \
        "\"device_authorization_endpoint\":\"https://idp.example/realms/corp/device\","                 \
        "\"token_endpoint\":\"https://idp.example/realms/corp/token\","                                 \
        "\"jwks_uri\":\"https://idp.example/realms/corp/certs\","                                       \
        "\"userinfo_endpoint\":\"https://idp.example/realms/corp/userinfo\","                           \
        "\"response_types_supported\":[\"code\"],\"id_token_signing_alg_values_supported\":[\"RS256\"]}"

TEST(discovery_table) {
        static const struct {
                const char *name, *body, *expected_issuer;
                bool loopback;
                int r;
                const char *device, *token, *jwks, *userinfo;
        } t[] = {
                { "keycloak", DISC_FULL("https://idp.example/realms/corp"), "https://idp.example/realms/corp", false, 0,
                  "https://idp.example/realms/corp/device", "https://idp.example/realms/corp/token",
                  "https://idp.example/realms/corp/certs", "https://idp.example/realms/corp/userinfo" },
                { "auth0-trailing-slash", DISC_FULL("https://tenant.auth0.com/"), "https://tenant.auth0.com/", false, 0,
                  "https://idp.example/realms/corp/device", "https://idp.example/realms/corp/token",
                  "https://idp.example/realms/corp/certs", "https://idp.example/realms/corp/userinfo" },
                { "slash-added", DISC_FULL("https://tenant.auth0.com/"), "https://tenant.auth0.com", false, -EBADMSG },
                { "slash-missing", DISC_FULL("https://idp.example/realms/corp"), "https://idp.example/realms/corp/",
                  false, -EBADMSG },
                { "case-differs-host", DISC_FULL("https://IDP.example/realms/corp"), "https://idp.example/realms/corp",
                  false, -EBADMSG },
                { "case-differs-path", DISC_FULL("https://idp.example/realms/Corp"), "https://idp.example/realms/corp",
                  false, -EBADMSG },
                { "prefix-only", DISC_FULL("https://idp.example/realms/corp"), "https://idp.example/realms/co",
                  false, -EBADMSG },
                { "longer", DISC_FULL("https://idp.example/realms/corp2"), "https://idp.example/realms/corp",
                  false, -EBADMSG },
                { "default-port-spelled", DISC_FULL("https://idp.example:443/realms/corp"),
                  "https://idp.example/realms/corp", false, -EBADMSG },
                { "no-expected-issuer", DISC_FULL("https://idp.example/realms/corp"), NULL, false, -EBADMSG },
                { "minimal-google", "{\"issuer\":\"https://accounts.google.com\",\"jwks_uri\":"
                  "\"https://www.googleapis.com/oauth2/v3/certs\",\"token_endpoint\":\"https://oauth2.googleapis.com/token\","
                  "\"device_authorization_endpoint\":\"https://oauth2.googleapis.com/device/code\"}",
                  "https://accounts.google.com", false, 0, "https://oauth2.googleapis.com/device/code",
                  "https://oauth2.googleapis.com/token", "https://www.googleapis.com/oauth2/v3/certs", NULL },
                { "no-device-endpoint", "{\"issuer\":\"https://i.example\",\"jwks_uri\":\"https://i.example/k\"}",
                  "https://i.example", false, 0, NULL, NULL, "https://i.example/k", NULL },
                { "no-jwks", "{\"issuer\":\"https://i.example\",\"token_endpoint\":\"https://i.example/t\"}",
                  "https://i.example", false, -EBADMSG },
                { "no-issuer", "{\"jwks_uri\":\"https://i.example/k\"}", "https://i.example", false, -EBADMSG },
                { "issuer-array", "{\"issuer\":[\"https://i.example\"],\"jwks_uri\":\"https://i.example/k\"}",
                  "https://i.example", false, -EBADMSG },
                { "http-endpoint", "{\"issuer\":\"https://i.example\",\"jwks_uri\":\"https://i.example/k\","
                  "\"token_endpoint\":\"http://i.example/t\"}", "https://i.example", false, -EBADMSG },
                { "http-endpoint-remote-loopback-allowed", "{\"issuer\":\"https://i.example\",\"jwks_uri\":"
                  "\"https://i.example/k\",\"token_endpoint\":\"http://i.example/t\"}", "https://i.example", true,
                  -EBADMSG },
                { "http-loopback-allowed", "{\"issuer\":\"http://127.0.0.1:3000\",\"jwks_uri\":\"http://127.0.0.1:3000/jwks\","
                  "\"token_endpoint\":\"http://localhost:3000/token\",\"device_authorization_endpoint\":"
                  "\"http://[::1]:3000/device\"}", "http://127.0.0.1:3000", true, 0, "http://[::1]:3000/device",
                  "http://localhost:3000/token", "http://127.0.0.1:3000/jwks", NULL },
                { "http-loopback-not-allowed", "{\"issuer\":\"http://127.0.0.1:3000\",\"jwks_uri\":"
                  "\"http://127.0.0.1:3000/jwks\"}", "http://127.0.0.1:3000", false, -EBADMSG },
                { "javascript-endpoint", "{\"issuer\":\"https://i.example\",\"jwks_uri\":\"https://i.example/k\","
                  "\"userinfo_endpoint\":\"javascript:alert(1)\"}", "https://i.example", false, -EBADMSG },
                { "endpoint-number", "{\"issuer\":\"https://i.example\",\"jwks_uri\":\"https://i.example/k\","
                  "\"token_endpoint\":5}", "https://i.example", false, -EBADMSG },
                { "issuer-nul-escape", "{\"issuer\":\"https://i.example\\u0000x\",\"jwks_uri\":\"https://i.example/k\"}",
                  "https://i.example", false, -EBADMSG },
                { "jwks-nul-escape", "{\"issuer\":\"https://i.example\",\"jwks_uri\":\"https://i.example/k\\u0000\"}",
                  "https://i.example", false, -EBADMSG },
                { "jwks-with-esc", "{\"issuer\":\"https://i.example\",\"jwks_uri\":\"https://i.example/\\u001bk\"}",
                  "https://i.example", false, -EBADMSG },
                /* A second issuer or jwks_uri must not override the first one silently. */
                { "issuer-twice", "{\"issuer\":\"https://i.example\",\"jwks_uri\":\"https://i.example/k\","
                  "\"issuer\":\"https://evil.example\"}", "https://evil.example", false, -EBADMSG },
                { "jwks-twice", "{\"issuer\":\"https://i.example\",\"jwks_uri\":\"https://i.example/k\","
                  "\"jwks_uri\":\"https://evil.example/k\"}", "https://i.example", false, -EBADMSG },
                { "html", "<html>502</html>", "https://i.example", false, -EBADMSG },
                { "array", "[{\"issuer\":\"https://i.example\"}]", "https://i.example", false, -EBADMSG },
                { "truncated", "{\"issuer\":\"https://i.example\",\"jwks_uri\":\"https://i.exa", "https://i.example",
                  false, -EBADMSG },
        };

        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                _cleanup_(discovery_done) Discovery d = {};
                _cleanup_free_ char *reason = NULL;
                int r = oauth_parse_discovery(t[i].body, strlen(t[i].body), t[i].expected_issuer, t[i].loopback, &d,
                                              &reason);
                bool ok = r == t[i].r;

                if (t[i].r == 0)
                        ok = ok && str_eq_null(d.issuer, t[i].expected_issuer) &&
                             str_eq_null(d.device_authorization_endpoint, t[i].device) &&
                             str_eq_null(d.token_endpoint, t[i].token) && str_eq_null(d.jwks_uri, t[i].jwks) &&
                             str_eq_null(d.userinfo_endpoint, t[i].userinfo);
                else
                        ok = ok && d.issuer == NULL && d.jwks_uri == NULL && reason && *reason;
                if (!ok)
                        fprintf(stderr, "  %s: r=%d reason='%s'\n", t[i].name, r, strna(reason));
                test_report("discovery", t[i].name, ok);
                CHECK(ok);
        }
}

TEST(discovery_reason_optional) {
        Discovery d = {};

        /* ret_reason may be NULL */
        CHECK_INTEQ(oauth_parse_discovery("{}", 2, "https://i.example", false, &d, NULL), -EBADMSG);
        CHECK(d.issuer == NULL);
}

TEST(bearer_header) {
        _cleanup_erase_ char *h = NULL;
        char *bad = NULL;

        CHECK_INTEQ(oauth_bearer_header("abc.DEF-_~+/=", &h), 0);
        CHECK_STREQ(h, "Bearer abc.DEF-_~+/=");
        CHECK_INTEQ(oauth_bearer_header("a\r\nX-Evil: 1", &bad), -EINVAL);
        CHECK_INTEQ(oauth_bearer_header("a b", &bad), -EINVAL);
        CHECK_INTEQ(oauth_bearer_header("", &bad), -EINVAL);
        CHECK(bad == NULL);
}

int main(void) {
        return run_tests();
}
