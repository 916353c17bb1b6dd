/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "audit.h"
#include "claims.h"
#include "devflow-bus.h"
#include "idtoken.h"
#include "jws.h"
#include "json-util.h"
#include "log.h"
#include "flow.h"
#include "macro.h"
#include "oauth.h"
#include "time-util.h"

/* How long a finished flow keeps its verdict for a Wait() that comes late. */
#define LINGER_USEC (30 * USEC_PER_SEC)
/* Deferred Wait() and Poll() calls each flow keeps at most (of each): the module needs one of each. */
#define MAX_WAITERS_PER_FLOW 8

/* Keeps msg to be answered later: 0, -EBUSY when MAX_WAITERS_PER_FLOW are kept already, or -ENOMEM. */
static int waiters_add(FlowWaiters *w, sd_bus_message *msg) {
        sd_bus_message **m;

        if (w->n >= MAX_WAITERS_PER_FLOW)
                return -EBUSY;
        m = reallocarray(w->msgs, w->n + 1, sizeof *m);
        if (!m)
                return -ENOMEM;
        w->msgs = m;
        w->msgs[w->n++] = sd_bus_message_ref(msg);
        return 0;
}

static void waiters_clear(FlowWaiters *w) {
        for (size_t i = 0; i < w->n; i++)
                sd_bus_message_unref(w->msgs[i]);
        w->msgs = mfree(w->msgs);
        w->n = 0;
}

/* A caller that asks for more than it needs (the module needs one Wait() and one Poll()). */
static int reply_too_many_waiters(sd_bus_message *msg) {
        return sd_bus_reply_method_errorf(msg, DEVFLOW_ERROR_TOO_MANY_FLOWS, "Too many waiters on this flow.");
}

const FlowIo flow_io_default = {
        .http_request = http_request,
        .http_request_free = http_request_free,
        .want_endpoints = idp_want_endpoints,
        .want_jwks = idp_want_jwks,
        .wait_free = idp_wait_free,
        .issuer = idp_issuer,
        .device_authorization_endpoint = idp_device_authorization_endpoint,
        .token_endpoint = idp_token_endpoint,
        .userinfo_endpoint = idp_userinfo_endpoint,
        .jwks = idp_jwks,
        .note_reply = idp_note_reply,
};

static const FlowIo *io(const Flow *f) {
        return f->ctx->io ?: &flow_io_default;
}

/* The request that just ended (or that finish() drops), freed at the end of the scope. */
typedef struct HeldRequest {
        const FlowIo *io;
        HttpRequest *req;
} HeldRequest;

static void held_request_done(HeldRequest *h) {
        if (h->req)
                h->io->http_request_free(h->req);
}

#define HOLD_REQUEST(f) \
        _cleanup_(held_request_done) _unused_ HeldRequest _held_ = { io(f), TAKE_PTR((f)->req) }

/* Clocks: now_usec() (time-util.h) is a fresh clock, not sd_event_now(): the loop's cached time lags behind
 * when a busy iteration reads a reply, and polls spaced from it reach the IdP early (flow-machine.h). */

/* A CLOCK_MONOTONIC time as CLOCK_REALTIME, for what the module shows. */
static uint64_t mono_to_realtime(uint64_t mono) {
        uint64_t now = now_usec(CLOCK_MONOTONIC), rt = now_usec(CLOCK_REALTIME);
        return mono >= now ? rt + (mono - now) : rt - MIN(rt, now - mono);
}

bool flow_is_final(const Flow *f) {
        return f->done;
}

static void wipe_secrets(Flow *f) {
        f->device_code = erase_and_free(f->device_code);
        oauth_request_done(&f->token_request);
        f->access_token = erase_and_free(f->access_token);
        f->id_token = erase_and_free(f->id_token);
}

static void audit(Flow *f, AuditEvent e, const char *reason) {
        audit_log(e, &(AuditFields) {
                .user = f->user, .rhost = f->rhost, .service = f->service, .flow_id = f->id,
                .caller = &(AuditCaller) { .uid = f->owner_uid, .pid = f->owner_pid },
                .sub = f->sub, .local_user = f->local_user, .reason = reason,
        });
}

/* Answer the Poll() calls that waited for a poll's outcome: the next time a poll may go out, 0 when done. */
static void reply_polls(Flow *f) {
        uint64_t next = 0;

        if (!f->done && f->machine.state == FLOW_STATE_WAITING)
                next = mono_to_realtime(f->machine.last_reply_at + MAX(f->machine.interval, f->machine.backoff));
        for (size_t i = 0; i < f->polls.n; i++) {
                int r = sd_bus_reply_method_return(f->polls.msgs[i], "t", next);
                if (r < 0)
                        log_debug_errno(r, "Failed to answer Poll(), ignoring: %m");
        }
        waiters_clear(&f->polls);
}

static int on_linger(sd_event_source *s, uint64_t usec, void *userdata) {
        flow_free(userdata);
        return 0;
}

/* The IdP's error_description only for root's devflowctl: a flow it started (service 'devflowctl') and a
 * recipient whose uid, from the bus, is 0. Anything else, or any error finding out, gets none. */
static bool detail_for(const Flow *f, sd_bus_message *to) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        uid_t uid;

        if (!f->detail || !streq(f->service, "devflowctl"))
                return false;
        if (sd_bus_query_sender_creds(to, SD_BUS_CREDS_EUID | SD_BUS_CREDS_AUGMENT, &creds) < 0 ||
            sd_bus_creds_get_euid(creds, &uid) < 0)
                return false;
        return uid == 0;
}

static int reply_error(const Flow *f, sd_bus_message *to, const char *error_name) {
        if (detail_for(f, to))
                return sd_bus_reply_method_errorf(to, error_name, "%s The identity provider said: '%s'",
                                                  strempty(f->message), f->detail);
        return sd_bus_reply_method_errorf(to, error_name, "%s", strempty(f->message));
}

static int reply_wait(Flow *f, sd_bus_message *msg) {
        if (!f->error_name)
                return sd_bus_reply_method_return(msg, "bss", 1, f->local_user, strempty(f->message));
        return reply_error(f, msg, f->error_name);
}

/* The one place a flow stops being pending, and stops counting for the limits: finish(), or flow_free() of
 * a flow that never finished. */
static void stop_pending(Flow *f) {
        FlowContext *c = f->ctx;

        if (f->done)
                return;
        f->done = true;
        if (!f->indexed)
                return;         /* a half-made flow, never counted */
        assert(c->n_active > 0);
        c->n_active--;
        flow_index_remove(c->pending, f->user, f->source);
}

/* The one place a flow ends. error_name NULL means allowed as f->local_user. */
static void finish(Flow *f, FlowState state, const char *error_name, const char *message) {
        bool answered;
        AuditEvent e;
        int r;

        if (f->done)
                return;
        stop_pending(f);

        HOLD_REQUEST(f);
        timer_queue_remove(f->ctx->timers, &f->timer);
        if (f->idp_wait)
                f->idp_wait = io(f)->wait_free(f->idp_wait);
        wipe_secrets(f);
        if (!flow_state_is_final(f->machine.state))
                flow_machine_finish(&f->machine, state);
        f->error_name = error_name;
        f->message = strdup(strempty(message));

        e = !error_name ? AUDIT_APPROVED :
            streq(error_name, DEVFLOW_ERROR_EXPIRED) ? AUDIT_EXPIRED :
            streq(error_name, DEVFLOW_ERROR_CANCELLED) ? AUDIT_CANCELLED :
            streq(error_name, DEVFLOW_ERROR_IDP_UNAVAILABLE) || streq(error_name, DEVFLOW_ERROR_IDP_ERROR) ?
                        AUDIT_FAILED : AUDIT_REFUSED;
        audit(f, e, message);
        if (!error_name)
                f->ctx->n_approved++;
        else
                f->ctx->n_refused++;

        /* Who was told the outcome needs no verdict kept for a late Wait(). */
        answered = f->start_msg || f->waits.n > 0 || state == FLOW_STATE_CANCELLED;

        if (f->start_msg) {
                /* Failed before a code was issued. */
                r = reply_error(f, f->start_msg, error_name ?: DEVFLOW_ERROR_IDP_ERROR);
                if (r < 0)
                        log_debug_errno(r, "Failed to answer StartLogin, ignoring: %m");
                f->start_msg = sd_bus_message_unref(f->start_msg);
        }
        for (size_t i = 0; i < f->waits.n; i++) {
                r = reply_wait(f, f->waits.msgs[i]);
                if (r < 0)
                        log_debug_errno(r, "Failed to answer Wait(), ignoring: %m");
        }
        waiters_clear(&f->waits);
        reply_polls(f);

        /* Freed from the event loop, never here: callers may still hold f. */
        r = sd_event_add_time_relative(f->ctx->event, &f->linger, CLOCK_MONOTONIC,
                                       answered ? 0 : LINGER_USEC, 0, on_linger, f);
        if (r < 0)
                log_warning_errno(r, "Flow %s: cannot schedule its release, it stays until its caller leaves: %m",
                                  f->id);
}

/* What the caller of a flow may read when the IdP said no (-EPROTO) or the daemon rejected the IdP's
 * reply (-EBADMSG). The caller may be anyone who reached the PAM stage (ssh user@host), so a refusal
 * carries a short reason and the IdP's error code only, never its error_description (it can name the
 * client's secret, keys or policy): that goes to the log here and, as f->detail, to root's devflowctl. A
 * reply the daemon itself found unusable is said to be the daemon's rejection, in its own fixed words. */
static int idp_error(Flow *f, int r, const char *what, long status, const OAuthError *e, char **ret_message) {
        char *msg;

        if (r == -EBADMSG) {
                log_warning("Flow %s: the %s reply (HTTP %ld) is unusable: %s", f->id, what, status,
                            strna(e->error_description));
                if (asprintf(&msg, "The login service rejected the identity provider's reply (%s).",
                             strna(e->error_description)) < 0)
                        return -ENOMEM;
        } else {
                log_warning("Flow %s: %s refused (HTTP %ld): %s%s%s", f->id, what, status,
                            strna(e->error), e->error_description ? ": " : "", strempty(e->error_description));
                if (asprintf(&msg, "The identity provider refused the login (%s).", strna(e->error)) < 0)
                        return -ENOMEM;
                free(f->detail);
                f->detail = e->error_description ? strdup(e->error_description) : NULL;
        }
        *ret_message = msg;
        return 0;
}

static void fail_transport(Flow *f, const HttpReply *reply, const char *what) {
        log_warning("Flow %s: %s failed: %s", f->id, what, reply->error_text);
}

static void send_token_request(Flow *f);
static void validate(Flow *f);

static void arm_timer(Flow *f, uint64_t when) {
        int r;

        r = timer_queue_add(f->ctx->timers, &f->timer, when);
        if (r < 0) {
                log_error_errno(r, "Flow %s: failed to arm its timer: %m", f->id);
                finish(f, FLOW_STATE_FAILED, DEVFLOW_ERROR_IDP_UNAVAILABLE, "Internal error in the login service.");
        }
}

static void apply(Flow *f, FlowAction action, uint64_t when) {
        switch (action) {
        case FLOW_ACTION_NONE:
                return;
        case FLOW_ACTION_POLL:
                send_token_request(f);
                /* A poll in flight must not outlive the code: the timer ends the flow at expiry even if the
                 * IdP never answers (flow_machine_timer() finishes a request in flight at expires_at). */
                if (!f->done && f->req)
                        arm_timer(f, f->machine.expires_at);
                return;
        case FLOW_ACTION_ARM_TIMER:
                arm_timer(f, when);
                return;
        case FLOW_ACTION_FINISHED:
                switch (f->machine.state) {
                case FLOW_STATE_DENIED:
                        finish(f, f->machine.state, DEVFLOW_ERROR_DENIED, "The login was denied at the identity provider.");
                        break;
                case FLOW_STATE_EXPIRED:
                        finish(f, f->machine.state, DEVFLOW_ERROR_EXPIRED, "The code expired before it was approved.");
                        break;
                case FLOW_STATE_CANCELLED:
                        finish(f, f->machine.state, DEVFLOW_ERROR_CANCELLED, "The login was cancelled.");
                        break;
                default:
                        finish(f, FLOW_STATE_FAILED, DEVFLOW_ERROR_IDP_UNAVAILABLE,
                               "The identity provider could not be reached.");
                }
                return;
        }
}

static void on_timer(TimerQueueEntry *e, void *userdata) {
        Flow *f = userdata;
        uint64_t when = 0;
        FlowAction a;

        a = flow_machine_timer(&f->machine, now_usec(CLOCK_MONOTONIC), &when);
        apply(f, a, when);
}

/* RFC 7523 client assertion for private_key_jwt, or NULL for the other methods. */
static int client_assertion(Flow *f, const char *audience, char **ret) {
        FlowContext *c = f->ctx;

        *ret = NULL;
        if (c->config->client_auth != CLIENT_AUTH_PRIVATE_KEY_JWT)
                return 0;
        return jws_client_assertion(c->client_key, c->config->client_id, audience, now_usec(CLOCK_REALTIME), ret);
}

static void on_token_reply(HttpRequest *req, const HttpReply *reply, void *userdata) {
        Flow *f = userdata;
        _cleanup_(token_reply_done) TokenReply t = {};
        uint64_t when = 0;
        FlowAction a;
        int r;

        HOLD_REQUEST(f);
        io(f)->note_reply(f->ctx->idp, reply->error >= 0);

        if (reply->error < 0) {
                fail_transport(f, reply, "token request");
                apply(f, flow_machine_transport_error(&f->machine, now_usec(CLOCK_MONOTONIC), &when), when);
                if (!f->done && f->machine.state != FLOW_STATE_POLLING)
                        reply_polls(f);
                return;
        }

        r = oauth_parse_token_reply(reply->status, reply->body, reply->size, &t);
        if (r < 0 && t.kind != TOKEN_REPLY_MALFORMED)
                t.kind = TOKEN_REPLY_MALFORMED;
        log_debug("Flow %s: token endpoint answered %ld: %s%s%s", f->id, reply->status,
                  token_reply_kind_to_string(t.kind), t.error.error ? " " : "", strempty(t.error.error));

        a = flow_machine_token_reply(&f->machine, now_usec(CLOCK_MONOTONIC), t.kind, &when);
        if (t.kind == TOKEN_REPLY_ERROR && f->machine.state == FLOW_STATE_FAILED) {
                /* A final error from the IdP (past expiry the machine says EXPIRED instead). */
                _cleanup_free_ char *msg = NULL;
                (void) idp_error(f, -EPROTO, "token request", reply->status, &t.error, &msg);
                finish(f, FLOW_STATE_FAILED, DEVFLOW_ERROR_IDP_ERROR, msg ?: "The identity provider refused the login.");
                return;
        }
        if (t.kind == TOKEN_REPLY_TOKENS && f->machine.state == FLOW_STATE_VALIDATING) {
                if (!t.id_token) {
                        /* OIDC: without an ID token there is no identity to verify (scope needs openid). */
                        finish(f, FLOW_STATE_FAILED, DEVFLOW_ERROR_TOKEN_INVALID,
                               "The identity provider sent no ID token.");
                        return;
                }
                f->id_token = TAKE_PTR(t.id_token);
                f->access_token = TAKE_PTR(t.access_token);
                validate(f);
                return;
        }
        apply(f, a, when);
        if (!f->done && f->machine.state != FLOW_STATE_POLLING)
                reply_polls(f);
}

/* POST the device authorization request (device_code NULL) or a token request, with the client's
 * authentication, to URL. */
static int post_to_idp(Flow *f, const char *url, const char *device_code, HttpCallback callback) {
        FlowContext *c = f->ctx;
        _cleanup_(oauth_request_done) OAuthRequest req = {};
        _cleanup_erase_ char *assertion = NULL;
        const OAuthRequest *use = &req;
        int r;

        r = client_assertion(f, url, &assertion);
        if (r < 0)
                return r;
        if (device_code && !assertion && f->token_request.body)
                use = &f->token_request;
        else {
                r = device_code ? oauth_build_token_request(c->config, device_code, assertion, &req) :
                                  oauth_build_device_auth_request(c->config, assertion, &req);
                if (r < 0)
                        return r;
                if (device_code && !assertion) {
                        /* The same for every poll of this flow: kept, and wiped with its device_code. */
                        f->token_request = req;
                        req = (OAuthRequest) {};
                        use = &f->token_request;
                }
        }
        return io(f)->http_request(c->http, url, use->body, use->authorization, callback, f, &f->req);
}

static void send_token_request(Flow *f) {
        int r;

        r = post_to_idp(f, io(f)->token_endpoint(f->ctx->idp), f->device_code, on_token_reply);
        if (r < 0) {
                uint64_t when = 0;
                log_warning_errno(r, "Flow %s: failed to send the token request: %m", f->id);
                apply(f, flow_machine_transport_error(&f->machine, now_usec(CLOCK_MONOTONIC), &when), when);
        }
}

static void decide(Flow *f) {
        FlowContext *c = f->ctx;
        _cleanup_(verdict_done) Verdict v = {};
        int r;

        r = claims_decide(c->config, c->usermap, f->claims, f->user, now_usec(CLOCK_REALTIME), user_lookup_nss,
                          NULL, &v);
        if (r < 0) {
                log_error_errno(r, "Flow %s: mapping failed: %m", f->id);
                finish(f, FLOW_STATE_FAILED, DEVFLOW_ERROR_DENIED, "The login could not be checked.");
                return;
        }
        log_info("Flow %s: %s", f->id, strempty(v.log_message));
        /* An administrator's test-login (root, context "explain") is told which claims decided. */
        if (v.allowed) {
                f->local_user = TAKE_PTR(v.local_user);
                finish(f, FLOW_STATE_APPROVED, NULL, f->explain && v.explanation ? v.explanation : "Approved.");
                return;
        }
        finish(f, FLOW_STATE_DENIED,
               v.error == -ENOENT ? DEVFLOW_ERROR_UNKNOWN_USER :
               v.error == -EXDEV ? DEVFLOW_ERROR_WRONG_USER : DEVFLOW_ERROR_DENIED,
               f->explain && v.log_message ? v.log_message : v.user_message ?: "The login was refused.");
}

static void on_userinfo(HttpRequest *req, const HttpReply *reply, void *userdata) {
        Flow *f = userdata;
        _cleanup_json_ json_object *info = NULL;
        _cleanup_free_ char *reason = NULL;
        int r;

        HOLD_REQUEST(f);
        io(f)->note_reply(f->ctx->idp, reply->error >= 0);
        f->access_token = erase_and_free(f->access_token);

        if (reply->error < 0) {
                fail_transport(f, reply, "userinfo request");
                finish(f, FLOW_STATE_FAILED, DEVFLOW_ERROR_IDP_UNAVAILABLE, "The identity provider could not be reached.");
                return;
        }
        if (reply->status != 200 ||
            json_parse_strict(reply->body, reply->size, &info) < 0 ||
            !json_object_is_type(info, json_type_object)) {
                log_warning("Flow %s: userinfo answered %ld with no usable claims.", f->id, reply->status);
                finish(f, FLOW_STATE_FAILED, DEVFLOW_ERROR_IDP_ERROR, "The identity provider's user information was unusable.");
                return;
        }
        r = claims_merge_userinfo(f->claims, info, &reason);
        if (r < 0) {
                log_warning("Flow %s: userinfo refused: %s", f->id, strna(reason));
                finish(f, FLOW_STATE_DENIED, DEVFLOW_ERROR_TOKEN_INVALID, "The identity provider's answers disagree.");
                return;
        }
        decide(f);
}

static void on_jwks_ready(int error, const char *message, void *userdata);

static void validate(Flow *f) {
        FlowContext *c = f->ctx;
        _cleanup_free_ char *reason = NULL;
        json_object *claims = NULL;
        const char *userinfo;
        int r;

        if (!io(f)->jwks(c->idp)) {
                r = io(f)->want_jwks(c->idp, false, on_jwks_ready, f, &f->idp_wait);
                if (r == 0)
                        return;
                if (r < 0 || !io(f)->jwks(c->idp)) {
                        finish(f, FLOW_STATE_FAILED, DEVFLOW_ERROR_IDP_UNAVAILABLE,
                               "The identity provider's keys are not available.");
                        return;
                }
        }

        IdTokenCheck check = {
                .issuer = io(f)->issuer(c->idp),
                .client_id = c->config->client_id,
                .allowed_algs = c->config->id_token_algs,
                .now_usec = now_usec(CLOCK_REALTIME),
                .clock_skew_usec = c->config->clock_skew_usec,
                .max_iat_age_usec = c->config->id_token_max_age_usec,
        };
        r = idtoken_validate(f->id_token, io(f)->jwks(c->idp), &check, &claims, &reason);
        if (r == -ENOKEY && !f->jwks_refreshed) {
                /* Perhaps the IdP rotated its keys: refetch once (rate-limited in idp.c). */
                f->jwks_refreshed = true;
                log_debug("Flow %s: no key for the ID token's kid, refreshing the JWKS.", f->id);
                r = io(f)->want_jwks(c->idp, true, on_jwks_ready, f, &f->idp_wait);
                if (r == 0)
                        return;
                if (r > 0) {
                        validate(f);
                        return;
                }
        }
        if (r < 0) {
                log_warning("Flow %s: ID token refused: %s", f->id, strna(reason));
                finish(f, FLOW_STATE_FAILED, DEVFLOW_ERROR_TOKEN_INVALID,
                       "The identity provider's answer could not be verified.");
                return;
        }
        f->id_token = erase_and_free(f->id_token);
        f->claims = claims;
        f->sub = strdup_sanitized(json_get_string(claims, "sub"));

        userinfo = io(f)->userinfo_endpoint(c->idp);
        if (userinfo && f->access_token && claims_need_userinfo(c->config, claims)) {
                _cleanup_erase_ char *bearer = NULL;

                if (oauth_bearer_header(f->access_token, &bearer) < 0 ||
                    io(f)->http_request(c->http, userinfo, NULL, bearer, on_userinfo, f, &f->req) < 0) {
                        finish(f, FLOW_STATE_FAILED, DEVFLOW_ERROR_IDP_UNAVAILABLE,
                               "The identity provider could not be reached.");
                }
                return;
        }
        f->access_token = erase_and_free(f->access_token);
        decide(f);
}

static void on_jwks_ready(int error, const char *message, void *userdata) {
        Flow *f = userdata;

        f->idp_wait = NULL; /* freed by idp.c after this call */
        if (error < 0 && !io(f)->jwks(f->ctx->idp)) {
                /* idp.c logged the failure once; every flow that waited for it only notes it. */
                log_debug("Flow %s: %s", f->id, strna(message));
                finish(f, FLOW_STATE_FAILED, DEVFLOW_ERROR_IDP_UNAVAILABLE,
                       "The identity provider's keys are not available.");
                return;
        }
        validate(f);
}

static void on_device_auth(HttpRequest *req, const HttpReply *reply, void *userdata) {
        Flow *f = userdata;
        _cleanup_(device_auth_done) DeviceAuth d = {};
        _cleanup_(oauth_error_done) OAuthError err = {};
        uint64_t when = 0, now = now_usec(CLOCK_MONOTONIC);
        int r;

        HOLD_REQUEST(f);
        io(f)->note_reply(f->ctx->idp, reply->error >= 0);

        if (reply->error < 0) {
                fail_transport(f, reply, "device authorization request");
                finish(f, FLOW_STATE_FAILED, DEVFLOW_ERROR_IDP_UNAVAILABLE, "The identity provider could not be reached.");
                return;
        }
        r = oauth_parse_device_auth(reply->status, reply->body, reply->size, f->ctx->config->allow_http_loopback,
                                    &d, &err);
        if (r < 0) {
                _cleanup_free_ char *msg = NULL;

                if (r == -ENOMEM || idp_error(f, r, "device authorization", reply->status, &err, &msg) < 0) {
                        (void) log_oom();
                        finish(f, FLOW_STATE_FAILED, DEVFLOW_ERROR_IDP_ERROR, "Out of memory.");
                        return;
                }
                if (reply->status >= 500) {
                        /* The IdP is down or overloaded: a stack may fall back (PAM_AUTHINFO_UNAVAIL). */
                        finish(f, FLOW_STATE_FAILED, DEVFLOW_ERROR_IDP_UNAVAILABLE,
                               "The identity provider is unavailable; try again later.");
                        return;
                }
                finish(f, FLOW_STATE_FAILED, DEVFLOW_ERROR_IDP_ERROR, msg);
                return;
        }

        f->device_code = TAKE_PTR(d.device_code);
        f->user_code = TAKE_PTR(d.user_code);
        f->verification_uri = TAKE_PTR(d.verification_uri);
        f->verification_uri_complete = TAKE_PTR(d.verification_uri_complete);

        r = flow_machine_device_auth(&f->machine, now, d.expires_in_usec, d.interval_usec);
        if (r < 0) {
                finish(f, FLOW_STATE_FAILED, DEVFLOW_ERROR_IDP_ERROR,
                       "The login service rejected the identity provider's reply (expires_in or interval).");
                return;
        }
        f->expires_realtime = mono_to_realtime(f->machine.expires_at);

        r = sd_bus_reply_method_return(f->start_msg, "ossstt", f->path, f->user_code, f->verification_uri,
                                       strempty(f->verification_uri_complete), f->expires_realtime,
                                       f->machine.interval);
        f->start_msg = sd_bus_message_unref(f->start_msg);
        if (r < 0) {
                log_debug_errno(r, "Flow %s: failed to answer StartLogin: %m", f->id);
                finish(f, FLOW_STATE_CANCELLED, DEVFLOW_ERROR_CANCELLED, "The caller went away.");
                return;
        }
        audit(f, AUDIT_CODE_ISSUED, NULL);
        apply(f, flow_machine_timer(&f->machine, now, &when), when);
}

static void send_device_auth(Flow *f) {
        int r;

        r = post_to_idp(f, io(f)->device_authorization_endpoint(f->ctx->idp), /* device_code= */ NULL,
                        on_device_auth);
        if (r < 0) {
                log_error_errno(r, "Flow %s: failed to send the device authorization request: %m", f->id);
                finish(f, FLOW_STATE_FAILED, DEVFLOW_ERROR_IDP_UNAVAILABLE, "The identity provider could not be reached.");
        }
}

static void on_endpoints_ready(int error, const char *message, void *userdata) {
        Flow *f = userdata;

        f->idp_wait = NULL;
        if (error < 0) {
                /* idp.c logged the failure once; every flow that waited for it only notes it. */
                log_debug("Flow %s: %s", f->id, strna(message));
                finish(f, FLOW_STATE_FAILED, DEVFLOW_ERROR_IDP_UNAVAILABLE, "The identity provider could not be reached.");
                return;
        }
        send_device_auth(f);
}

int flow_start(Flow *f) {
        int r;

        r = io(f)->want_endpoints(f->ctx->idp, on_endpoints_ready, f, &f->idp_wait);
        if (r < 0)
                return r;
        if (r > 0)
                send_device_auth(f);
        return 0;
}

int flow_add_wait(Flow *f, sd_bus_message *msg) {
        int r;

        if (f->done)
                return reply_wait(f, msg);
        r = waiters_add(&f->waits, msg);
        if (r == -EBUSY)
                return reply_too_many_waiters(msg);
        return r < 0 ? r : 1;
}

int flow_poll_now(Flow *f, sd_bus_message *msg) {
        uint64_t when = 0;
        FlowAction a;
        int r;

        if (f->done)
                return sd_bus_reply_method_return(msg, "t", (uint64_t) 0);

        /* The reply waits for the outcome of the poll this asks for. */
        r = waiters_add(&f->polls, msg);
        if (r == -EBUSY)
                return reply_too_many_waiters(msg);
        if (r < 0)
                return r;

        a = flow_machine_poll_now(&f->machine, now_usec(CLOCK_MONOTONIC), &when);
        apply(f, a, when);
        return 1;
}

void flow_cancel(Flow *f, const char *why) {
        finish(f, FLOW_STATE_CANCELLED, DEVFLOW_ERROR_CANCELLED, why ?: "The login was cancelled.");
}

/* A caller's flows: the list of those it started, under its unique name in by_caller. */
struct FlowCaller {
        char *name;
        Flow *flows;
};

static int caller_link(Flow *f) {
        FlowContext *c = f->ctx;
        FlowCaller *k;
        int r;

        k = hashmap_get(c->by_caller, f->owner);
        if (!k) {
                k = calloc(1, sizeof *k);
                if (!k || !(k->name = strdup(f->owner))) {
                        free(k);
                        return -ENOMEM;
                }
                r = hashmap_put(c->by_caller, k->name, k);
                if (r < 0) {
                        free(k->name);
                        free(k);
                        return r;
                }
        }
        f->caller = k;
        f->caller_next = k->flows;
        if (k->flows)
                k->flows->caller_prev = f;
        k->flows = f;
        return 0;
}

static void caller_unlink(Flow *f) {
        FlowCaller *k = f->caller;

        if (!k)
                return;
        if (f->caller_prev)
                f->caller_prev->caller_next = f->caller_next;
        else
                k->flows = f->caller_next;
        if (f->caller_next)
                f->caller_next->caller_prev = f->caller_prev;
        f->caller = NULL;
        f->caller_prev = f->caller_next = NULL;
        if (!k->flows) {
                (void) hashmap_remove(f->ctx->by_caller, k->name);
                free(k->name);
                free(k);
        }
}

/* One match for every caller, not an sd_bus_track per flow: each of those is a match rule on the daemon's
 * connection, a system bus grants a connection 512 (dbus-daemon's max_match_rules_per_connection; 256 with
 * dbus-broker), and sd-bus drops the whole connection when an AddMatch fails or is answered late (a starved
 * CPU). The bus driver's signals are believed only from the bus driver (manager.c's filter). */
static int on_name_owner_changed(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        FlowContext *c = userdata;
        const char *name, *old_owner, *new_owner;
        FlowCaller *k;

        if (sd_bus_message_read(msg, "sss", &name, &old_owner, &new_owner) < 0 || !streq(new_owner, ""))
                return 0;
        k = hashmap_get(c->by_caller, name);
        while (k) {
                Flow *f = k->flows;
                bool last = !f->caller_next;    /* freeing the last flow frees k */

                /* A finished flow only kept its verdict for its caller: nobody else may ask for it. */
                if (!f->done) {
                        log_debug("Flow %s: its caller went away, cancelling.", f->id);
                        flow_cancel(f, "The caller went away.");
                }
                flow_free(f);
                if (last)
                        break;
        }
        return 0;
}

int flow_context_watch_callers(FlowContext *c) {
        return sd_bus_add_match(c->bus, &c->caller_match,
                                "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
                                "interface='org.freedesktop.DBus',member='NameOwnerChanged',arg2=''",
                                on_name_owner_changed, c);
}

void flow_context_done(FlowContext *c) {
        assert(!c->flows);
        c->caller_match = sd_bus_slot_unref(c->caller_match);
        c->by_id = hashmap_free(c->by_id);
        c->by_caller = hashmap_free(c->by_caller);
        c->pending = flow_index_free(c->pending);
}

/* Makes the context's tables with its first flow. */
static int context_tables(FlowContext *c) {
        int r;

        if (!c->by_id) {
                r = hashmap_new(&c->by_id);
                if (r < 0)
                        return r;
        }
        if (!c->by_caller) {
                r = hashmap_new(&c->by_caller);
                if (r < 0)
                        return r;
        }
        if (!c->pending)
                return flow_index_new(&c->pending);
        return 0;
}

int flow_new(FlowContext *c, const char *user, const char *rhost, const char *service, const char *tty,
             const char *source, bool on_demand, sd_bus_message *start_msg, Flow **ret) {
        uint64_t now;
        uint8_t rnd[16];
        Flow *f;
        int r;

        if (getrandom(rnd, sizeof rnd, 0) != sizeof rnd)
                return -EIO;

        f = calloc(1, sizeof *f);
        if (!f)
                return -ENOMEM;
        f->ctx = c;
        f->timer = (TimerQueueEntry) { .callback = on_timer, .userdata = f };
        for (size_t i = 0; i < sizeof rnd; i++)
                snprintf(f->id + 2 * i, 3, "%02x", rnd[i]);

        if (!(f->user = strdup(user)) || !(f->rhost = strdup(strempty(rhost))) ||
            !(f->service = strdup(strempty(service))) || !(f->tty = strdup(strempty(tty))) ||
            !(f->source = strdup(strempty(source))) ||
            !(f->owner = strdup(sd_bus_message_get_sender(start_msg) ?: ""))) {
                flow_free(f);
                return -ENOMEM;
        }
        r = sd_bus_path_encode(DEVFLOW_FLOW_PATH_PREFIX, f->id, &f->path);
        if (r >= 0)
                r = context_tables(c);
        if (r >= 0)
                r = caller_link(f);
        if (r >= 0)
                r = hashmap_put(c->by_id, f->id, f);
        if (r >= 0) {
                r = flow_index_add(c->pending, f->user, f->source);
                if (r < 0)
                        (void) hashmap_remove(c->by_id, f->id);
        }
        if (r < 0) {
                flow_free(f);
                return r;
        }
        f->indexed = true;
        f->start_msg = sd_bus_message_ref(start_msg);
        now = now_usec(CLOCK_MONOTONIC);
        flow_machine_init(&f->machine, now, now + c->config->max_login_time_usec, on_demand);

        f->next = c->flows;
        if (c->flows)
                c->flows->prev = f;
        c->flows = f;
        c->n_active++;
        c->n_started++;
        *ret = f;
        return 0;
}

Flow *flow_free(Flow *f) {
        FlowContext *c;

        if (!f)
                return NULL;
        c = f->ctx;
        stop_pending(f);
        if (f->indexed)
                (void) hashmap_remove(c->by_id, f->id);
        if (f->prev)
                f->prev->next = f->next;
        else if (c->flows == f)
                c->flows = f->next;
        if (f->next)
                f->next->prev = f->prev;

        if (f->req)
                io(f)->http_request_free(f->req);
        timer_queue_remove(c->timers, &f->timer);
        sd_event_source_disable_unref(f->linger);
        if (f->idp_wait)
                io(f)->wait_free(f->idp_wait);
        caller_unlink(f);
        sd_bus_message_unref(f->start_msg);
        waiters_clear(&f->waits);
        waiters_clear(&f->polls);
        wipe_secrets(f);
        json_object_put(f->claims);
        free(f->path);
        free(f->user);
        free(f->rhost);
        free(f->service);
        free(f->tty);
        free(f->owner);
        free(f->source);
        free(f->user_code);
        free(f->verification_uri);
        free(f->verification_uri_complete);
        free(f->message);
        free(f->detail);
        free(f->local_user);
        free(f->sub);
        free(f);
        return NULL;
}
