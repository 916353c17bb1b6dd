/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The orchestrator (flow.c) with canned IdP replies behind FlowContext.io: no curl, no IdP, no dbus-daemon.
 * A private dbus-daemon (session policy) carries the calls: flow.c watches its callers on the bus,
 * which needs a real bus. The server side of this process hands each call to flow.c as flows.c does;
 * the client side reads the answers the module would get. ID tokens are real
 * ES256 tokens, validated by idtoken.c against a JWKS of the test's own key. */
#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>
#include <time.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fcntl.h>
#include <signal.h>

#include "base64url.h"
#include "config.h"
#include "devflow-bus.h"
#include "json-util.h"
#include "jwks.h"
#include "jws.h"
#include "flow.h"
#include "macro.h"
#include "test.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_PKEY *, EVP_PKEY_free);

#define ISSUER "https://idp.test"
#define CLIENT "ssh-login"
#define DEVICE_URL ISSUER "/device"
#define TOKEN_URL ISSUER "/token"
#define USERINFO_URL ISSUER "/userinfo"
/* Two accounts every Debian system has, neither of them root. */
#define PAM_USER "daemon"
#define OTHER_USER "bin"

/* ---- the canned IdP ---------------------------------------------------------------------------------- */

typedef struct Canned {
        long status;                    /* 0: a transport error */
        const char *body;               /* "$ID_TOKEN" is replaced by a token for Fake.id_user */
} Canned;

struct Http {
        int unused;
};

struct Idp {
        int unused;
};

struct HttpRequest {
        sd_event_source *defer;
        HttpCallback callback;
        void *userdata;
        char *body;
        long status;
        int error;
};

typedef struct Fake {
        sd_event *event;
        Jwks *jwks;
        EVP_PKEY *key;
        const char *id_user;            /* preferred_username of the ID token */
        const char *userinfo_endpoint;
        Canned device;
        Canned token[8];                /* one per poll, in order; the last repeats */
        size_t n_token;
        Canned userinfo;
        unsigned n_device, n_polls, n_userinfo, n_noted_ok, n_noted_failed;
        char *last_token_body;          /* the form of the last token request */
} Fake;

static Fake fake;

static char *b64(const void *p, size_t n) {
        char *s = NULL;

        if (base64url_encode(p, n, &s) < 0)
                abort();
        return s;
}

static char *id_token_for(const char *user) {
        _cleanup_json_ json_object *claims = json_object_new_object();
        int64_t now = (int64_t) time(NULL);
        char *t = NULL;

        json_object_object_add(claims, "iss", json_object_new_string(ISSUER));
        json_object_object_add(claims, "aud", json_object_new_string(CLIENT));
        json_object_object_add(claims, "sub", json_object_new_string("sub-of-the-approver"));
        json_object_object_add(claims, "iat", json_object_new_int64(now - 1));
        json_object_object_add(claims, "exp", json_object_new_int64(now + 300));
        if (user)
                json_object_object_add(claims, "preferred_username", json_object_new_string(user));
        if (jws_sign(fake.key, NULL, "k1", claims, &t) < 0)
                abort();
        return t;
}

static char *expand(const char *body) {
        const char *p = body ? strstr(body, "$ID_TOKEN") : NULL;
        _cleanup_free_ char *t = NULL;
        char *out = NULL;

        if (!body)
                return strdup("");
        if (!p)
                return strdup(body);
        t = id_token_for(fake.id_user);
        if (asprintf(&out, "%.*s%s%s", (int) (p - body), body, t, p + strlen("$ID_TOKEN")) < 0)
                abort();
        return out;
}

static int on_deliver(sd_event_source *s, void *userdata) {
        HttpRequest *r = userdata;
        HttpReply reply = {
                .error = r->error,
                .status = r->status,
                .body = r->body,
                .size = strlen(r->body),
                .error_text = r->error < 0 ? "canned transport error" : NULL,
        };

        /* As http.c does: the callback owns the request from here on. */
        r->callback(r, &reply, r->userdata);
        return 0;
}

static int fake_http_request(Http *h, const char *url, const char *post_body, const char *authorization,
                             HttpCallback callback, void *userdata, HttpRequest **ret) {
        HttpRequest *r = calloc(1, sizeof *r);
        const Canned *c;

        if (!r)
                return -ENOMEM;
        if (streq(url, DEVICE_URL)) {
                fake.n_device++;
                c = &fake.device;
        } else if (streq(url, TOKEN_URL)) {
                c = &fake.token[MIN(fake.n_polls, fake.n_token - 1)];
                fake.n_polls++;
                free(fake.last_token_body);
                fake.last_token_body = strdup(strempty(post_body));
        } else if (streq(url, USERINFO_URL)) {
                fake.n_userinfo++;
                c = &fake.userinfo;
        } else
                abort();
        r->callback = callback;
        r->userdata = userdata;
        r->status = c->status;
        r->error = c->status == 0 ? -ECONNREFUSED : 0;
        r->body = expand(c->body);
        if (!r->body || sd_event_add_defer(fake.event, &r->defer, on_deliver, r) < 0)
                abort();
        *ret = r;
        return 0;
}

static HttpRequest *fake_http_request_free(HttpRequest *r) {
        if (!r)
                return NULL;
        sd_event_source_disable_unref(r->defer);
        free(r->body);
        free(r);
        return NULL;
}

static int fake_want_now(Idp *idp, IdpCallback cb, void *userdata, IdpWait **ret_wait) {
        return 1;
}

static int fake_want_jwks(Idp *idp, bool refresh, IdpCallback cb, void *userdata, IdpWait **ret_wait) {
        return 1;
}

static IdpWait *fake_wait_free(IdpWait *w) {
        return NULL;
}

static const char *fake_issuer(const Idp *idp) {
        return ISSUER;
}

static const char *fake_device_endpoint(const Idp *idp) {
        return DEVICE_URL;
}

static const char *fake_token_endpoint(const Idp *idp) {
        return TOKEN_URL;
}

static const char *fake_userinfo_endpoint(const Idp *idp) {
        return fake.userinfo_endpoint;
}

static const Jwks *fake_jwks(const Idp *idp) {
        return fake.jwks;
}

static void fake_note_reply(Idp *idp, bool answered) {
        if (answered)
                fake.n_noted_ok++;
        else
                fake.n_noted_failed++;
}

static const FlowIo fake_io = {
        .http_request = fake_http_request,
        .http_request_free = fake_http_request_free,
        .want_endpoints = fake_want_now,
        .want_jwks = fake_want_jwks,
        .wait_free = fake_wait_free,
        .issuer = fake_issuer,
        .device_authorization_endpoint = fake_device_endpoint,
        .token_endpoint = fake_token_endpoint,
        .userinfo_endpoint = fake_userinfo_endpoint,
        .jwks = fake_jwks,
        .note_reply = fake_note_reply,
};

/* ---- a bus in this process, and what the module would be told ---------------------------------------- */

typedef struct Outcome {
        bool started;                   /* StartLogin answered with a code */
        char *user_code;
        bool done;                      /* Wait (or a failed StartLogin) answered */
        bool allowed;
        char *local_user;
        char *error_name;
        char *message;
} Outcome;

static void outcome_done(Outcome *o) {
        free(o->user_code);
        free(o->local_user);
        free(o->error_name);
        free(o->message);
        *o = (Outcome) {};
}

static FlowContext flows;
static Config *config;                  /* flows.config, writable for the cases */
static sd_bus *client;
static char *destination;               /* the server's unique name */
static pid_t bus_pid;                   /* the private dbus-daemon */
static char bus_address[512];
static Outcome outcome;

static int method_start(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        const char *user;
        Flow *f;
        int r;

        r = sd_bus_message_read(msg, "s", &user);
        if (r < 0)
                return r;
        r = flow_new(&flows, user, "198.51.100.7", "sshd", "", "198.51.100.7", /* on_demand= */ false, msg, &f);
        if (r < 0)
                return r;
        r = flow_start(f);
        if (r < 0) {
                flow_free(f);
                return r;
        }
        return 1;
}

static int method_wait(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        if (!flows.flows)
                return sd_bus_error_setf(error, DEVFLOW_ERROR_NO_SUCH_FLOW, "No flow.");
        return flow_add_wait(flows.flows, msg);
}

static const sd_bus_vtable test_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("Start", "s", "ossstt", method_start, 0),
        SD_BUS_METHOD("Wait", "", "bss", method_wait, 0),
        SD_BUS_VTABLE_END,
};

static void take_error(sd_bus_message *reply) {
        const sd_bus_error *e = sd_bus_message_get_error(reply);

        outcome.done = true;
        outcome.error_name = strdup(e->name);
        outcome.message = strdup(strempty(e->message));
}

static int on_wait_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        const char *user, *message;
        int allowed;

        if (sd_bus_message_is_method_error(reply, NULL)) {
                take_error(reply);
                return 0;
        }
        if (sd_bus_message_read(reply, "bss", &allowed, &user, &message) < 0)
                abort();
        outcome.done = true;
        outcome.allowed = allowed;
        outcome.local_user = strdup(user);
        outcome.message = strdup(message);
        return 0;
}

static int on_start_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        const char *path, *code, *uri, *complete;
        uint64_t expires, interval;

        if (sd_bus_message_is_method_error(reply, NULL)) {
                take_error(reply);
                return 0;
        }
        if (sd_bus_message_read(reply, "ossstt", &path, &code, &uri, &complete, &expires, &interval) < 0)
                abort();
        outcome.started = true;
        outcome.user_code = strdup(code);
        if (sd_bus_call_method_async(client, NULL, destination, "/test", "test.Flow", "Wait", on_wait_reply, NULL, "") < 0)
                abort();
        return 0;
}

/* Start a login for PAM_USER and run the loop until the module would have its answer (or 8 s passed). */
static void run_login(const char *pam_user) {
        struct timespec start;

        outcome_done(&outcome);
        fake.n_device = fake.n_polls = fake.n_userinfo = fake.n_noted_ok = fake.n_noted_failed = 0;
        if (sd_bus_call_method_async(client, NULL, destination, "/test", "test.Flow", "Start", on_start_reply, NULL,
                                     "s", pam_user) < 0)
                abort();
        clock_gettime(CLOCK_MONOTONIC, &start);
        while (!outcome.done) {
                struct timespec now;

                clock_gettime(CLOCK_MONOTONIC, &now);
                if (now.tv_sec - start.tv_sec > 8) {
                        fprintf(stderr, "  no answer within 8 s\n");
                        break;
                }
                if (sd_event_run(fake.event, 100 * USEC_PER_MSEC) < 0)
                        abort();
        }
        /* Let the finished flow be released (its linger timer is 0 once answered). */
        for (int i = 0; i < 5; i++)
                (void) sd_event_run(fake.event, 10 * USEC_PER_MSEC);
}

static void reset(const char *id_user) {
        fake.id_user = id_user;
        fake.userinfo_endpoint = NULL;
        fake.device = (Canned) { 200, "{\"device_code\":\"secret-device-code\",\"user_code\":\"WDJB-MJHT\","
                                      "\"verification_uri\":\"https://idp.test/activate\",\"expires_in\":300,"
                                      "\"interval\":1}" };
        fake.token[0] = (Canned) { 200, "{\"access_token\":\"at\",\"token_type\":\"Bearer\",\"id_token\":\"$ID_TOKEN\"}" };
        fake.n_token = 1;
        fake.userinfo = (Canned) {};
        config->allow_root = false;
}

/* ---- the tests --------------------------------------------------------------------------------------- */

TEST(approve_allows_the_mapped_user) {
        reset(PAM_USER);
        run_login(PAM_USER);
        CHECK(outcome.started);
        CHECK_STREQ(outcome.user_code, "WDJB-MJHT");
        CHECK(outcome.done);
        CHECK(outcome.allowed);
        CHECK_STREQ(outcome.local_user, PAM_USER);
        CHECK(outcome.error_name == NULL);
        CHECK_INTEQ(fake.n_device, 1);
        CHECK_INTEQ(fake.n_polls, 1);
        CHECK_INTEQ(fake.n_noted_ok, 2);
        /* RFC 8628 §3.4: the poll carries the device_code the IdP gave, and the grant type. */
        CHECK(fake.last_token_body && strstr(fake.last_token_body, "device_code=secret-device-code"));
        CHECK(fake.last_token_body && strstr(fake.last_token_body, "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code"));
        /* Nothing the caller sees carries the device_code. */
        CHECK(!outcome.message || !strstr(outcome.message, "secret-device-code"));
        CHECK(flows.flows == NULL);
        CHECK_INTEQ(flows.n_active, 0);
        CHECK_INTEQ(hashmap_size(flows.by_id), 0);
        CHECK_INTEQ(flow_index_counts(flows.pending, PAM_USER, "198.51.100.7").user, 0);
}

TEST(pending_then_approve) {
        reset(PAM_USER);
        fake.token[0] = (Canned) { 400, "{\"error\":\"authorization_pending\"}" };
        fake.token[1] = (Canned) { 200, "{\"access_token\":\"at\",\"token_type\":\"Bearer\",\"id_token\":\"$ID_TOKEN\"}" };
        fake.n_token = 2;
        run_login(PAM_USER);
        CHECK(outcome.allowed);
        CHECK_STREQ(outcome.local_user, PAM_USER);
        CHECK_INTEQ(fake.n_polls, 2);
}

TEST(identity_of_another_user_refused) {
        /* DESIGN §4: a valid token for bin never opens daemon's account. */
        reset(OTHER_USER);
        run_login(PAM_USER);
        CHECK(outcome.started);
        CHECK(outcome.done);
        CHECK(!outcome.allowed);
        CHECK_STREQ(outcome.error_name, DEVFLOW_ERROR_WRONG_USER);
        CHECK(outcome.local_user == NULL);
}

TEST(identity_without_username_claim_refused) {
        reset(NULL);
        run_login(PAM_USER);
        CHECK(outcome.done);
        CHECK(!outcome.allowed);
        CHECK(outcome.error_name != NULL);
}

TEST(root_refused_unless_allowed) {
        reset("root");
        run_login("root");
        CHECK(outcome.done);
        CHECK(!outcome.allowed);
        CHECK_STREQ(outcome.error_name, DEVFLOW_ERROR_DENIED);

        reset("root");
        config->allow_root = true;
        run_login("root");
        CHECK(outcome.allowed);
        CHECK_STREQ(outcome.local_user, "root");
        config->allow_root = false;
}

TEST(token_signed_by_another_key_refused) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *mine = TAKE_PTR(fake.key);   /* generate() would reuse it */
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);

        if (!ctx || EVP_PKEY_keygen_init(ctx) != 1 || EVP_PKEY_CTX_set_group_name(ctx, "P-256") != 1 ||
            EVP_PKEY_generate(ctx, &fake.key) != 1)
                abort();
        EVP_PKEY_CTX_free(ctx);
        reset(PAM_USER);
        run_login(PAM_USER);
        CHECK(!outcome.allowed);
        CHECK_STREQ(outcome.error_name, DEVFLOW_ERROR_TOKEN_INVALID);
        EVP_PKEY_free(fake.key);
        fake.key = TAKE_PTR(mine);
}

TEST(expired) {
        reset(PAM_USER);
        fake.device.body = "{\"device_code\":\"d\",\"user_code\":\"U\",\"verification_uri\":\"https://idp.test/a\","
                           "\"expires_in\":1,\"interval\":5}";
        run_login(PAM_USER);
        CHECK(outcome.started);
        CHECK(!outcome.allowed);
        CHECK_STREQ(outcome.error_name, DEVFLOW_ERROR_EXPIRED);
        CHECK_INTEQ(fake.n_polls, 0);
}

TEST(expired_token_error) {
        reset(PAM_USER);
        fake.token[0] = (Canned) { 400, "{\"error\":\"expired_token\"}" };
        run_login(PAM_USER);
        CHECK(!outcome.allowed);
        CHECK_STREQ(outcome.error_name, DEVFLOW_ERROR_EXPIRED);
}

TEST(denied) {
        reset(PAM_USER);
        /* Auth0 answers 403 for access_denied: the status alone decides nothing. */
        fake.token[0] = (Canned) { 403, "{\"error\":\"access_denied\",\"error_description\":\"User said no\"}" };
        run_login(PAM_USER);
        CHECK(!outcome.allowed);
        CHECK_STREQ(outcome.error_name, DEVFLOW_ERROR_DENIED);
        CHECK_INTEQ(fake.n_polls, 1);
}

TEST(slow_down_adds_five_seconds) {
        Flow *f;

        reset(PAM_USER);
        fake.token[0] = (Canned) { 429, "{\"error\":\"slow_down\"}" };
        fake.n_token = 1;
        outcome_done(&outcome);
        fake.n_polls = 0;
        if (sd_bus_call_method_async(client, NULL, destination, "/test", "test.Flow", "Start", on_start_reply, NULL,
                                     "s", PAM_USER) < 0)
                abort();
        for (int i = 0; i < 40 && fake.n_polls == 0; i++)
                (void) sd_event_run(fake.event, 100 * USEC_PER_MSEC);
        for (int i = 0; i < 5; i++)
                (void) sd_event_run(fake.event, 10 * USEC_PER_MSEC);
        f = flows.flows;
        CHECK(f != NULL);
        CHECK_INTEQ(fake.n_polls, 1);
        if (f) {
                /* RFC 8628 §3.5: interval 1 s + 5 s, for this and every later poll; the flow goes on. */
                CHECK_INTEQ(f->machine.interval, 6 * USEC_PER_SEC);
                CHECK(!flow_is_final(f));
                /* Pending: found by id and counted for the limits, until it ends (the flow is not freed yet
                 * when the cancel returns, but no longer counts). */
                CHECK(hashmap_get(flows.by_id, f->id) == f);
                CHECK_INTEQ(flows.n_active, 1);
                CHECK_INTEQ(flow_index_counts(flows.pending, PAM_USER, "198.51.100.7").user_source, 1);
                flow_cancel(f, NULL);
                CHECK_INTEQ(flows.n_active, 0);
                CHECK_INTEQ(flow_index_counts(flows.pending, PAM_USER, "198.51.100.7").user_source, 0);
                CHECK(hashmap_get(flows.by_id, f->id) == f);
        }
        for (int i = 0; i < 5 && !outcome.done; i++)
                (void) sd_event_run(fake.event, 10 * USEC_PER_MSEC);
        CHECK_STREQ(outcome.error_name, DEVFLOW_ERROR_CANCELLED);
        for (int i = 0; i < 5; i++)
                (void) sd_event_run(fake.event, 10 * USEC_PER_MSEC);
        CHECK(flows.flows == NULL);
        CHECK_INTEQ(hashmap_size(flows.by_id), 0);
}

static int start_bus(sd_bus **ret);

/* Each caller's flows end when it leaves the bus, and only its own: one match for all callers (not a match
 * rule per flow), the flows found by the caller's unique name. */
TEST(callers_that_leave_end_their_flows) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *a = NULL, *b = NULL;
        const char *name_b = NULL;

        reset(PAM_USER);
        fake.token[0] = (Canned) { 400, "{\"error\":\"authorization_pending\"}" };
        fake.n_token = 1;
        fake.n_device = 0;
        if (start_bus(&a) < 0 || start_bus(&b) < 0 || sd_bus_get_unique_name(b, &name_b) < 0)
                abort();
        for (int i = 0; i < 2; i++)
                if (sd_bus_call_method_async(i == 0 ? a : b, NULL, destination, "/test", "test.Flow", "Start", NULL,
                                             NULL, "s", PAM_USER) < 0)
                        abort();
        for (int i = 0; i < 40 && fake.n_device < 2; i++)
                (void) sd_event_run(fake.event, 100 * USEC_PER_MSEC);
        CHECK_INTEQ(fake.n_device, 2);
        CHECK_INTEQ(flows.n_active, 2);
        CHECK_INTEQ(hashmap_size(flows.by_caller), 2);

        a = sd_bus_flush_close_unref(a);
        for (int i = 0; i < 20 && flows.n_active > 1; i++)
                (void) sd_event_run(fake.event, 50 * USEC_PER_MSEC);
        CHECK_INTEQ(flows.n_active, 1);
        CHECK(flows.flows && !flows.flows->next && streq(flows.flows->owner, name_b));
        CHECK_INTEQ(hashmap_size(flows.by_caller), 1);

        b = sd_bus_flush_close_unref(b);
        for (int i = 0; i < 20 && flows.flows; i++)
                (void) sd_event_run(fake.event, 50 * USEC_PER_MSEC);
        CHECK(flows.flows == NULL);
        CHECK_INTEQ(flows.n_active, 0);
        CHECK_INTEQ(hashmap_size(flows.by_caller), 0);
}

TEST(idp_error_text_not_shown_to_the_caller) {
        reset(PAM_USER);
        /* An unknown final error: the caller learns the code, never the description (it may name secrets). */
        fake.token[0] = (Canned) { 400, "{\"error\":\"invalid_client\",\"error_description\":\"client secret s3cr3t is wrong\"}" };
        run_login(PAM_USER);
        CHECK(!outcome.allowed);
        CHECK_STREQ(outcome.error_name, DEVFLOW_ERROR_IDP_ERROR);
        CHECK(outcome.message && strstr(outcome.message, "invalid_client"));
        CHECK(outcome.message && !strstr(outcome.message, "s3cr3t"));
}

TEST(device_authorization_refused) {
        reset(PAM_USER);
        fake.device = (Canned) { 401, "{\"error\":\"unauthorized_client\",\"error_description\":\"\\u001b[2Jgo away\"}" };
        run_login(PAM_USER);
        CHECK(!outcome.started);
        CHECK(outcome.done);
        CHECK_STREQ(outcome.error_name, DEVFLOW_ERROR_IDP_ERROR);
        CHECK(outcome.message && strstr(outcome.message, "unauthorized_client"));
        CHECK(outcome.message && !strstr(outcome.message, "go away") && !strchr(outcome.message, '\033'));
        CHECK_INTEQ(fake.n_polls, 0);
}

TEST(device_authorization_5xx_is_unavailable) {
        reset(PAM_USER);
        fake.device = (Canned) { 503, "<html>down</html>" };
        run_login(PAM_USER);
        CHECK(!outcome.started);
        CHECK_STREQ(outcome.error_name, DEVFLOW_ERROR_IDP_UNAVAILABLE);
}

TEST(device_authorization_unreachable) {
        reset(PAM_USER);
        fake.device = (Canned) { 0, NULL };
        run_login(PAM_USER);
        CHECK(!outcome.started);
        CHECK_STREQ(outcome.error_name, DEVFLOW_ERROR_IDP_UNAVAILABLE);
        CHECK_INTEQ(fake.n_noted_failed, 1);
}

TEST(device_authorization_member_twice_refused) {
        reset(PAM_USER);
        fake.device.body = "{\"device_code\":\"d\",\"user_code\":\"GOOD\",\"verification_uri\":\"https://idp.test/a\","
                           "\"expires_in\":300,\"interval\":1,\"user_code\":\"EVIL\"}";
        run_login(PAM_USER);
        CHECK(!outcome.started);
        CHECK_STREQ(outcome.error_name, DEVFLOW_ERROR_IDP_ERROR);
}

TEST(tokens_without_id_token_refused) {
        reset(PAM_USER);
        fake.token[0] = (Canned) { 200, "{\"access_token\":\"at\",\"token_type\":\"Bearer\"}" };
        run_login(PAM_USER);
        CHECK(!outcome.allowed);
        CHECK_STREQ(outcome.error_name, DEVFLOW_ERROR_TOKEN_INVALID);
}

TEST(userinfo_of_another_subject_refused) {
        /* No username claim in the ID token: userinfo is asked, and its sub must be the ID token's. */
        reset(NULL);
        fake.userinfo_endpoint = USERINFO_URL;
        fake.userinfo = (Canned) { 200, "{\"sub\":\"someone-else\",\"preferred_username\":\"" PAM_USER "\"}" };
        run_login(PAM_USER);
        CHECK_INTEQ(fake.n_userinfo, 1);
        CHECK(!outcome.allowed);
        CHECK_STREQ(outcome.error_name, DEVFLOW_ERROR_TOKEN_INVALID);

        reset(NULL);
        fake.userinfo_endpoint = USERINFO_URL;
        fake.userinfo = (Canned) { 200, "{\"sub\":\"sub-of-the-approver\",\"preferred_username\":\"" PAM_USER "\"}" };
        run_login(PAM_USER);
        CHECK(outcome.allowed);
        CHECK_STREQ(outcome.local_user, PAM_USER);

        /* A member twice: refused whole, never "the last one wins". */
        reset(NULL);
        fake.userinfo_endpoint = USERINFO_URL;
        fake.userinfo = (Canned) { 200, "{\"sub\":\"sub-of-the-approver\",\"preferred_username\":\"" OTHER_USER "\","
                                        "\"preferred_username\":\"" PAM_USER "\"}" };
        run_login(PAM_USER);
        CHECK(!outcome.allowed);
        CHECK_STREQ(outcome.error_name, DEVFLOW_ERROR_IDP_ERROR);
}

TEST(token_endpoint_unreachable_keeps_polling) {
        reset(PAM_USER);
        fake.token[0] = (Canned) { 0, NULL };
        fake.token[1] = (Canned) { 200, "{\"access_token\":\"at\",\"token_type\":\"Bearer\",\"id_token\":\"$ID_TOKEN\"}" };
        fake.n_token = 2;
        run_login(PAM_USER);
        /* One lost poll is no verdict: the backoff (the interval, 1 s) and the next poll approve. */
        CHECK(outcome.allowed);
        CHECK_INTEQ(fake.n_polls, 2);
        CHECK_INTEQ(fake.n_noted_failed, 1);
}

/* ---- set-up ------------------------------------------------------------------------------------------ */

static char *jwks_text(EVP_PKEY *k) {
        uint8_t pt[65];
        size_t len = 0;
        _cleanup_free_ char *x = NULL, *y = NULL;
        char *out = NULL;

        if (EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pt, sizeof(pt), &len) != 1 ||
            len != 65)
                abort();
        x = b64(pt + 1, 32);
        y = b64(pt + 33, 32);
        if (asprintf(&out, "{\"keys\":[{\"kty\":\"EC\",\"kid\":\"k1\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}]}", x, y) < 0)
                abort();
        return out;
}

/* dbus-daemon --session on a private socket; false when there is none (the test then says SKIP). */
static bool start_dbus_daemon(void) {
        int p[2];
        ssize_t n;
        size_t got = 0;

        if (access("/usr/bin/dbus-daemon", X_OK) < 0 || pipe2(p, O_CLOEXEC) < 0)
                return false;
        bus_pid = fork();
        if (bus_pid < 0)
                return false;
        if (bus_pid == 0) {
                char fd[16];

                /* Gone with this test, however it ends. */
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                snprintf(fd, sizeof fd, "%d", p[1]);
                (void) fcntl(p[1], F_SETFD, 0);
                execl("/usr/bin/dbus-daemon", "dbus-daemon", "--session", "--nofork", "--nopidfile", "--nosyslog",
                      "--address=unix:tmpdir=/tmp", "--print-address", fd, (char *) NULL);
                _exit(127);
        }
        close(p[1]);
        while (got < sizeof bus_address - 1 && (n = read(p[0], bus_address + got, sizeof bus_address - 1 - got)) > 0) {
                got += (size_t) n;
                if (memchr(bus_address, '\n', got))
                        break;
        }
        close(p[0]);
        bus_address[got] = '\0';
        bus_address[strcspn(bus_address, "\n")] = '\0';
        return got > 0;
}

static void stop_dbus_daemon(void) {
        if (bus_pid > 0) {
                (void) kill(bus_pid, SIGTERM);
                (void) waitpid(bus_pid, NULL, 0);
                bus_pid = 0;
        }
}

static int start_bus(sd_bus **ret) {
        _cleanup_(sd_bus_unrefp) sd_bus *b = NULL;
        int r;

        r = sd_bus_new(&b);
        if (r >= 0)
                r = sd_bus_set_address(b, bus_address);
        if (r >= 0)
                r = sd_bus_set_bus_client(b, 1);
        if (r >= 0)
                r = sd_bus_start(b);
        if (r >= 0)
                r = sd_bus_attach_event(b, fake.event, 0);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(b);
        return 0;
}

static void setup(void) {
        static const char conf[] = "[idp]\nissuer = " ISSUER "\nclient_id = " CLIENT "\n";
        _cleanup_(config_errors_done) ConfigErrors errors = {};
        _cleanup_free_ char *jwks = NULL;
        _cleanup_(sd_bus_unrefp) sd_bus *server = NULL;
        const char *server_name;
        EVP_PKEY_CTX *ctx;

        ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
        if (!ctx || EVP_PKEY_keygen_init(ctx) != 1 || EVP_PKEY_CTX_set_group_name(ctx, "P-256") != 1 ||
            EVP_PKEY_generate(ctx, &fake.key) != 1)
                abort();
        EVP_PKEY_CTX_free(ctx);
        jwks = jwks_text(fake.key);
        if (jwks_parse(jwks, strlen(jwks), &fake.jwks) < 0)
                abort();

        flows.config = config = config_new();
        if (!config || config_parse_text(config, "test.conf", conf, strlen(conf), &errors) < 0)
                abort();
        if (sd_event_new(&fake.event) < 0)
                abort();
        flows.event = fake.event;
        flows.io = &fake_io;
        if (timer_queue_new(fake.event, FLOW_TIMER_ACCURACY_USEC, &flows.timers) < 0)
                abort();

        if (start_bus(&server) < 0 || start_bus(&client) < 0 ||
            sd_bus_add_object_vtable(server, NULL, "/test", "test.Flow", test_vtable, NULL) < 0 ||
            sd_bus_get_unique_name(server, &server_name) < 0 || !(destination = strdup(server_name)))
                abort();
        flows.bus = TAKE_PTR(server);
        if (flow_context_watch_callers(&flows) < 0)
                abort();
}

static void teardown(void) {
        while (flows.flows)
                flow_free(flows.flows);
        flow_context_done(&flows);
        flows.timers = timer_queue_free(flows.timers);
        outcome_done(&outcome);
        client = sd_bus_flush_close_unref(client);
        flows.bus = sd_bus_flush_close_unref(flows.bus);
        flows.config = config = config_free(config);
        fake.event = sd_event_unref(fake.event);
        destination = mfree(destination);
        stop_dbus_daemon();
        fake.jwks = jwks_free(fake.jwks);
        EVP_PKEY_free(fake.key);
        free(fake.last_token_body);
}

int main(void) {
        int r;

        if (!start_dbus_daemon()) {
                printf("SKIP: test-flow.c (no dbus-daemon to carry the calls)\n");
                return 0;
        }
        setup();
        r = run_tests();
        teardown();
        return r;
}
