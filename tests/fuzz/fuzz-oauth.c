/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: arbitrary bytes as an IdP's reply to the three parsers of devflowd/oauth.c (device
 * authorization, token, discovery). Must never crash, leak or hang, and what they accept must hold. */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "oauth.h"
#include "tests/unit/safe-text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Everything that may be shown or logged must be safe text. */
static void check_text(const char *s) {
        if (!text_is_safe(s))
                abort();
}

static void fuzz_one(const char *body, size_t size, long status, bool loopback) {
        DeviceAuth d = {};
        OAuthError e = {};
        TokenReply t = {};
        Discovery disc = {};
        char *reason = NULL;
        int r;

        r = oauth_parse_device_auth(status, body, size, loopback, &d, &e);
        if (r == 0) {
                if (!d.device_code || !d.user_code || !d.verification_uri || d.expires_in_usec == 0 || e.error)
                        abort();
                check_text(d.device_code);
                check_text(d.user_code);
                check_text(d.verification_uri);
                check_text(d.verification_uri_complete);
                if (strlen(d.user_code) > OAUTH_MAX_USER_CODE || strlen(d.device_code) > OAUTH_MAX_DEVICE_CODE)
                        abort();
                if (strncmp(d.verification_uri, "https://", 8) != 0 &&
                    !(loopback && strncmp(d.verification_uri, "http://", 7) == 0))
                        abort();
        } else if (r != -ENOMEM && !e.error)
                abort();
        check_text(e.error);
        check_text(e.error_description);
        device_auth_done(&d);
        oauth_error_done(&e);

        r = oauth_parse_token_reply(status, body, size, &t);
        if (t.kind < 0 || t.kind >= _TOKEN_REPLY_KIND_MAX)
                abort();
        if (r != -ENOMEM && (r < 0) != (t.kind == TOKEN_REPLY_MALFORMED))
                abort();
        if ((t.kind == TOKEN_REPLY_TOKENS) != (t.access_token != NULL))
                abort();
        check_text(t.error.error);
        check_text(t.error.error_description);
        token_reply_done(&t);

        r = oauth_parse_discovery(body, size, "https://idp.example/realms/corp", loopback, &disc, &reason);
        if (r == 0 && (!disc.issuer || strcmp(disc.issuer, "https://idp.example/realms/corp") != 0 || !disc.jwks_uri))
                abort();
        if (r < 0 && r != -ENOMEM && !reason)
                abort();
        discovery_done(&disc);
        free(reason);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const long statuses[] = { 400, 401, 403, 428, 429, 500, 502 };

        /* Each reply as a success (200, https only) and as an error status picked by the length (loopback http
         * allowed), so the seeds reach both the success and the error paths. */
        fuzz_one((const char *) data, size, 200, false);
        fuzz_one((const char *) data, size, statuses[size % ELEMENTSOF(statuses)], true);
        return 0;
}
