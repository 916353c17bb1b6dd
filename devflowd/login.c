/* SPDX-License-Identifier: LGPL-2.1-or-later */

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
#include "login.h"
#include "macro.h"
#include "oauth.h"
#include "time-util.h"

/* How long a finished flow keeps its verdict for a Wait() that comes late. */
#define LINGER_USEC (30 * USEC_PER_SEC)
/* Deferred Wait() and Poll() calls each flow keeps at most (of each): the module needs one of each. */
#define MAX_WAITERS_PER_FLOW 8

const LoginIo login_io_default = {
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

static const LoginIo *io(const Login *l) {
        return l->manager->io ?: &login_io_default;
}

/* The request that just ended (or that finish() drops), freed at the end of the scope. */
typedef struct HeldRequest {
        const LoginIo *io;
        HttpRequest *req;
} HeldRequest;

static void held_request_done(HeldRequest *h) {
        if (h->req)
                h->io->http_request_free(h->req);
}

#define HOLD_REQUEST(l) \
        _cleanup_(held_request_done) _unused_ HeldRequest _held_ = { io(l), TAKE_PTR((l)->req) }

/* A fresh clock, not sd_event_now(): the loop's cached time lags behind when a busy iteration reads a
 * reply, and polls spaced from it reach the IdP early (flow.h). */
static uint64_t mono_now(Login *l) {
        return now_usec(CLOCK_MONOTONIC);
}

static uint64_t realtime_now(void) {
        return now_usec(CLOCK_REALTIME);
}

/* A CLOCK_MONOTONIC time as CLOCK_REALTIME, for what the module shows. */
static uint64_t mono_to_realtime(Login *l, uint64_t mono) {
        uint64_t now = mono_now(l), rt = realtime_now();
        return mono >= now ? rt + (mono - now) : rt - MIN(rt, now - mono);
}

bool login_is_final(const Login *l) {
        return l->done;
}

static void wipe_secrets(Login *l) {
        l->device_code = erase_and_free(l->device_code);
        l->access_token = erase_and_free(l->access_token);
        l->id_token = erase_and_free(l->id_token);
}

static void audit(Login *l, AuditEvent e, const char *reason) {
        audit_log(e, &(AuditFields) {
                .user = l->user, .rhost = l->rhost, .service = l->service, .flow_id = l->id,
                .caller = &(AuditCaller) { .uid = l->owner_uid, .pid = l->owner_pid },
                .sub = l->sub, .local_user = l->local_user, .reason = reason,
        });
}

/* Answer the Poll() calls that waited for a poll's outcome: the next time a poll may go out, 0 when done. */
static void reply_polls(Login *l) {
        uint64_t next = 0;

        if (!l->done && l->machine.state == FLOW_STATE_WAITING)
                next = mono_to_realtime(l, l->machine.last_reply_at + MAX(l->machine.interval, l->machine.backoff));
        for (size_t i = 0; i < l->n_polls; i++) {
                int r = sd_bus_reply_method_return(l->polls[i], "t", next);
                if (r < 0)
                        log_debug_errno(r, "Failed to answer Poll(), ignoring: %m");
                sd_bus_message_unref(l->polls[i]);
        }
        l->polls = mfree(l->polls);
        l->n_polls = 0;
}

static int on_linger(sd_event_source *s, uint64_t usec, void *userdata) {
        login_free(userdata);
        return 0;
}

/* The IdP's error_description only for root's devflowctl: a flow it started (service 'devflowctl') and a
 * recipient whose uid, from the bus, is 0. Anything else, or any error finding out, gets none. */
static bool detail_for(const Login *l, sd_bus_message *to) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        uid_t uid;

        if (!l->detail || !streq(l->service, "devflowctl"))
                return false;
        if (sd_bus_query_sender_creds(to, SD_BUS_CREDS_EUID | SD_BUS_CREDS_AUGMENT, &creds) < 0 ||
            sd_bus_creds_get_euid(creds, &uid) < 0)
                return false;
        return uid == 0;
}

static int reply_error(const Login *l, sd_bus_message *to, const char *error_name) {
        if (detail_for(l, to))
                return sd_bus_reply_method_errorf(to, error_name, "%s The identity provider said: '%s'",
                                                  strempty(l->message), l->detail);
        return sd_bus_reply_method_errorf(to, error_name, "%s", strempty(l->message));
}

static int reply_wait(Login *l, sd_bus_message *msg) {
        if (!l->error_name)
                return sd_bus_reply_method_return(msg, "bss", 1, l->local_user, strempty(l->message));
        return reply_error(l, msg, l->error_name);
}

/* The one place a flow ends. error_name NULL means allowed as l->local_user. */
static void finish(Login *l, FlowState state, const char *error_name, const char *message) {
        bool answered;
        AuditEvent e;
        int r;

        if (l->done)
                return;
        l->done = true;

        HOLD_REQUEST(l);
        l->timer = sd_event_source_disable_unref(l->timer);
        if (l->idp_wait)
                l->idp_wait = io(l)->wait_free(l->idp_wait);
        wipe_secrets(l);
        if (!flow_state_is_final(l->machine.state))
                flow_machine_finish(&l->machine, state);
        l->error_name = error_name;
        l->message = strdup(strempty(message));
        if (l->manager->n_active > 0)
                l->manager->n_active--;

        e = !error_name ? AUDIT_APPROVED :
            streq(error_name, DEVFLOW_ERROR_EXPIRED) ? AUDIT_EXPIRED :
            streq(error_name, DEVFLOW_ERROR_CANCELLED) ? AUDIT_CANCELLED :
            streq(error_name, DEVFLOW_ERROR_IDP_UNAVAILABLE) || streq(error_name, DEVFLOW_ERROR_IDP_ERROR) ?
                        AUDIT_FAILED : AUDIT_REFUSED;
        audit(l, e, message);
        if (!error_name)
                l->manager->n_approved++;
        else
                l->manager->n_refused++;

        /* Who was told the outcome needs no verdict kept for a late Wait(). */
        answered = l->start_msg || l->n_waits > 0 || state == FLOW_STATE_CANCELLED;

        if (l->start_msg) {
                /* Failed before a code was issued. */
                r = reply_error(l, l->start_msg, error_name ?: DEVFLOW_ERROR_IDP_ERROR);
                if (r < 0)
                        log_debug_errno(r, "Failed to answer StartLogin, ignoring: %m");
                l->start_msg = sd_bus_message_unref(l->start_msg);
        }
        for (size_t i = 0; i < l->n_waits; i++) {
                r = reply_wait(l, l->waits[i]);
                if (r < 0)
                        log_debug_errno(r, "Failed to answer Wait(), ignoring: %m");
                sd_bus_message_unref(l->waits[i]);
        }
        l->waits = mfree(l->waits);
        l->n_waits = 0;
        reply_polls(l);

        /* Freed from the event loop, never here: callers may still hold l. */
        r = sd_event_add_time_relative(l->manager->event, &l->linger, CLOCK_MONOTONIC,
                                       answered ? 0 : LINGER_USEC, 0, on_linger, l);
        if (r < 0)
                log_warning_errno(r, "Flow %s: cannot schedule its release, it stays until its caller leaves: %m",
                                  l->id);
}

/* What the caller of a flow may read when the IdP said no (-EPROTO) or the daemon rejected the IdP's
 * reply (-EBADMSG). The caller may be anyone who reached the PAM stage (ssh user@host), so a refusal
 * carries a short reason and the IdP's error code only, never its error_description (it can name the
 * client's secret, keys or policy): that goes to the log here and, as l->detail, to root's devflowctl. A
 * reply the daemon itself found unusable is said to be the daemon's rejection, in its own fixed words. */
static int idp_error(Login *l, int r, const char *what, long status, const OAuthError *e, char **ret_message) {
        char *msg;

        if (r == -EBADMSG) {
                log_warning("Flow %s: the %s reply (HTTP %ld) is unusable: %s", l->id, what, status,
                            strna(e->error_description));
                if (asprintf(&msg, "The login service rejected the identity provider's reply (%s).",
                             strna(e->error_description)) < 0)
                        return -ENOMEM;
        } else {
                log_warning("Flow %s: %s refused (HTTP %ld): %s%s%s", l->id, what, status,
                            strna(e->error), e->error_description ? ": " : "", strempty(e->error_description));
                if (asprintf(&msg, "The identity provider refused the login (%s).", strna(e->error)) < 0)
                        return -ENOMEM;
                free(l->detail);
                l->detail = e->error_description ? strdup(e->error_description) : NULL;
        }
        *ret_message = msg;
        return 0;
}

static void fail_transport(Login *l, const HttpReply *reply, const char *what) {
        log_warning("Flow %s: %s failed: %s", l->id, what, reply->error_text);
}

static void send_token_request(Login *l);
static void validate(Login *l);

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata);

static void arm_timer(Login *l, uint64_t when) {
        int r;

        if (l->timer) {
                r = sd_event_source_set_time(l->timer, when);
                if (r >= 0)
                        r = sd_event_source_set_enabled(l->timer, SD_EVENT_ONESHOT);
        } else {
                /* 1 ms, not sd-event's default 250 ms of coalescing: polls go out on time (the
                 * Enter of prompt=enter waits for this timer's poll). */
                r = sd_event_add_time(l->manager->event, &l->timer, CLOCK_MONOTONIC, when,
                                      /* accuracy= */ USEC_PER_MSEC, on_timer, l);
                if (r >= 0)
                        (void) sd_event_source_set_description(l->timer, "flow-timer");
        }
        if (r < 0) {
                log_error_errno(r, "Flow %s: failed to arm its timer: %m", l->id);
                finish(l, FLOW_STATE_FAILED, DEVFLOW_ERROR_IDP_UNAVAILABLE, "Internal error in the login service.");
        }
}

static void apply(Login *l, FlowAction action, uint64_t when) {
        switch (action) {
        case FLOW_ACTION_NONE:
                return;
        case FLOW_ACTION_POLL:
                send_token_request(l);
                /* A poll in flight must not outlive the code: the timer ends the flow at expiry even if the
                 * IdP never answers (flow_machine_timer() finishes a request in flight at expires_at). */
                if (!l->done && l->req)
                        arm_timer(l, l->machine.expires_at);
                return;
        case FLOW_ACTION_ARM_TIMER:
                arm_timer(l, when);
                return;
        case FLOW_ACTION_FINISHED:
                switch (l->machine.state) {
                case FLOW_STATE_DENIED:
                        finish(l, l->machine.state, DEVFLOW_ERROR_DENIED, "The login was denied at the identity provider.");
                        break;
                case FLOW_STATE_EXPIRED:
                        finish(l, l->machine.state, DEVFLOW_ERROR_EXPIRED, "The code expired before it was approved.");
                        break;
                case FLOW_STATE_CANCELLED:
                        finish(l, l->machine.state, DEVFLOW_ERROR_CANCELLED, "The login was cancelled.");
                        break;
                default:
                        finish(l, FLOW_STATE_FAILED, DEVFLOW_ERROR_IDP_UNAVAILABLE,
                               "The identity provider could not be reached.");
                }
                return;
        }
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Login *l = userdata;
        uint64_t when = 0;
        FlowAction a;

        a = flow_machine_timer(&l->machine, mono_now(l), &when);
        apply(l, a, when);
        return 0;
}

/* RFC 7523 client assertion for private_key_jwt, or NULL for the other methods. */
static int client_assertion(Login *l, const char *audience, char **ret) {
        Manager *m = l->manager;

        *ret = NULL;
        if (m->config->client_auth != CLIENT_AUTH_PRIVATE_KEY_JWT)
                return 0;
        return jws_client_assertion(m->client_key, m->config->client_id, audience, realtime_now(), ret);
}

static void on_token_reply(HttpRequest *req, const HttpReply *reply, void *userdata) {
        Login *l = userdata;
        _cleanup_(token_reply_done) TokenReply t = {};
        uint64_t when = 0;
        FlowAction a;
        int r;

        HOLD_REQUEST(l);
        io(l)->note_reply(l->manager->idp, reply->error >= 0);

        if (reply->error < 0) {
                fail_transport(l, reply, "token request");
                apply(l, flow_machine_transport_error(&l->machine, mono_now(l), &when), when);
                if (!l->done && l->machine.state != FLOW_STATE_POLLING)
                        reply_polls(l);
                return;
        }

        r = oauth_parse_token_reply(reply->status, reply->body, reply->size, &t);
        if (r < 0 && t.kind != TOKEN_REPLY_MALFORMED)
                t.kind = TOKEN_REPLY_MALFORMED;
        log_debug("Flow %s: token endpoint answered %ld: %s%s%s", l->id, reply->status,
                  token_reply_kind_to_string(t.kind), t.error.error ? " " : "", strempty(t.error.error));

        a = flow_machine_token_reply(&l->machine, mono_now(l), t.kind, &when);
        if (t.kind == TOKEN_REPLY_ERROR && l->machine.state == FLOW_STATE_FAILED) {
                /* A final error from the IdP (past expiry the machine says EXPIRED instead). */
                _cleanup_free_ char *msg = NULL;
                (void) idp_error(l, -EPROTO, "token request", reply->status, &t.error, &msg);
                finish(l, FLOW_STATE_FAILED, DEVFLOW_ERROR_IDP_ERROR, msg ?: "The identity provider refused the login.");
                return;
        }
        if (t.kind == TOKEN_REPLY_TOKENS && l->machine.state == FLOW_STATE_VALIDATING) {
                if (!t.id_token) {
                        /* OIDC: without an ID token there is no identity to verify (scope needs openid). */
                        finish(l, FLOW_STATE_FAILED, DEVFLOW_ERROR_TOKEN_INVALID,
                               "The identity provider sent no ID token.");
                        return;
                }
                l->id_token = TAKE_PTR(t.id_token);
                l->access_token = TAKE_PTR(t.access_token);
                validate(l);
                return;
        }
        apply(l, a, when);
        if (!l->done && l->machine.state != FLOW_STATE_POLLING)
                reply_polls(l);
}

/* POST the device authorization request (device_code NULL) or a token request, with the client's
 * authentication, to URL. */
static int post_to_idp(Login *l, const char *url, const char *device_code, HttpCallback callback) {
        Manager *m = l->manager;
        _cleanup_(oauth_request_done) OAuthRequest req = {};
        _cleanup_erase_ char *assertion = NULL;
        int r;

        r = client_assertion(l, url, &assertion);
        if (r < 0)
                return r;
        r = device_code ? oauth_build_token_request(m->config, device_code, assertion, &req) :
                          oauth_build_device_auth_request(m->config, assertion, &req);
        if (r < 0)
                return r;
        return io(l)->http_request(m->http, url, req.body, req.authorization, callback, l, &l->req);
}

static void send_token_request(Login *l) {
        int r;

        r = post_to_idp(l, io(l)->token_endpoint(l->manager->idp), l->device_code, on_token_reply);
        if (r < 0) {
                uint64_t when = 0;
                log_warning_errno(r, "Flow %s: failed to send the token request: %m", l->id);
                apply(l, flow_machine_transport_error(&l->machine, mono_now(l), &when), when);
        }
}

static void decide(Login *l) {
        Manager *m = l->manager;
        _cleanup_(verdict_done) Verdict v = {};
        int r;

        r = claims_decide(m->config, m->usermap, l->claims, l->user, realtime_now(), user_lookup_nss,
                          NULL, &v);
        if (r < 0) {
                log_error_errno(r, "Flow %s: mapping failed: %m", l->id);
                finish(l, FLOW_STATE_FAILED, DEVFLOW_ERROR_DENIED, "The login could not be checked.");
                return;
        }
        log_info("Flow %s: %s", l->id, strempty(v.log_message));
        /* An administrator's test-login (root, context "explain") is told which claims decided. */
        if (v.allowed) {
                l->local_user = TAKE_PTR(v.local_user);
                finish(l, FLOW_STATE_APPROVED, NULL, l->explain && v.explanation ? v.explanation : "Approved.");
                return;
        }
        finish(l, FLOW_STATE_DENIED,
               v.error == -ENOENT ? DEVFLOW_ERROR_UNKNOWN_USER :
               v.error == -EXDEV ? DEVFLOW_ERROR_WRONG_USER : DEVFLOW_ERROR_DENIED,
               l->explain && v.log_message ? v.log_message : v.user_message ?: "The login was refused.");
}

static void on_userinfo(HttpRequest *req, const HttpReply *reply, void *userdata) {
        Login *l = userdata;
        _cleanup_json_ json_object *info = NULL;
        _cleanup_free_ char *reason = NULL;
        int r;

        HOLD_REQUEST(l);
        io(l)->note_reply(l->manager->idp, reply->error >= 0);
        l->access_token = erase_and_free(l->access_token);

        if (reply->error < 0) {
                fail_transport(l, reply, "userinfo request");
                finish(l, FLOW_STATE_FAILED, DEVFLOW_ERROR_IDP_UNAVAILABLE, "The identity provider could not be reached.");
                return;
        }
        if (reply->status != 200 ||
            json_parse_strict(reply->body, reply->size, &info) < 0 ||
            !json_object_is_type(info, json_type_object)) {
                log_warning("Flow %s: userinfo answered %ld with no usable claims.", l->id, reply->status);
                finish(l, FLOW_STATE_FAILED, DEVFLOW_ERROR_IDP_ERROR, "The identity provider's user information was unusable.");
                return;
        }
        r = claims_merge_userinfo(l->claims, info, &reason);
        if (r < 0) {
                log_warning("Flow %s: userinfo refused: %s", l->id, strna(reason));
                finish(l, FLOW_STATE_DENIED, DEVFLOW_ERROR_TOKEN_INVALID, "The identity provider's answers disagree.");
                return;
        }
        decide(l);
}

static void on_jwks_ready(int error, const char *message, void *userdata);

static void validate(Login *l) {
        Manager *m = l->manager;
        _cleanup_free_ char *reason = NULL;
        json_object *claims = NULL;
        const char *userinfo;
        int r;

        if (!io(l)->jwks(m->idp)) {
                r = io(l)->want_jwks(m->idp, false, on_jwks_ready, l, &l->idp_wait);
                if (r == 0)
                        return;
                if (r < 0 || !io(l)->jwks(m->idp)) {
                        finish(l, FLOW_STATE_FAILED, DEVFLOW_ERROR_IDP_UNAVAILABLE,
                               "The identity provider's keys are not available.");
                        return;
                }
        }

        IdTokenCheck check = {
                .issuer = io(l)->issuer(m->idp),
                .client_id = m->config->client_id,
                .allowed_algs = m->config->id_token_algs,
                .now_usec = realtime_now(),
                .clock_skew_usec = m->config->clock_skew_usec,
                .max_iat_age_usec = m->config->id_token_max_age_usec,
        };
        r = idtoken_validate(l->id_token, io(l)->jwks(m->idp), &check, &claims, &reason);
        if (r == -ENOKEY && !l->jwks_refreshed) {
                /* Perhaps the IdP rotated its keys: refetch once (rate-limited in idp.c). */
                l->jwks_refreshed = true;
                log_debug("Flow %s: no key for the ID token's kid, refreshing the JWKS.", l->id);
                r = io(l)->want_jwks(m->idp, true, on_jwks_ready, l, &l->idp_wait);
                if (r == 0)
                        return;
                if (r > 0) {
                        validate(l);
                        return;
                }
        }
        if (r < 0) {
                log_warning("Flow %s: ID token refused: %s", l->id, strna(reason));
                finish(l, FLOW_STATE_FAILED, DEVFLOW_ERROR_TOKEN_INVALID,
                       "The identity provider's answer could not be verified.");
                return;
        }
        l->id_token = erase_and_free(l->id_token);
        l->claims = claims;
        l->sub = strdup_sanitized(json_get_string(claims, "sub"));

        userinfo = io(l)->userinfo_endpoint(m->idp);
        if (userinfo && l->access_token && claims_need_userinfo(m->config, claims)) {
                _cleanup_erase_ char *bearer = NULL;

                if (oauth_bearer_header(l->access_token, &bearer) < 0 ||
                    io(l)->http_request(m->http, userinfo, NULL, bearer, on_userinfo, l, &l->req) < 0) {
                        finish(l, FLOW_STATE_FAILED, DEVFLOW_ERROR_IDP_UNAVAILABLE,
                               "The identity provider could not be reached.");
                }
                return;
        }
        l->access_token = erase_and_free(l->access_token);
        decide(l);
}

static void on_jwks_ready(int error, const char *message, void *userdata) {
        Login *l = userdata;

        l->idp_wait = NULL; /* freed by idp.c after this call */
        if (error < 0 && !io(l)->jwks(l->manager->idp)) {
                /* idp.c logged the failure once; every flow that waited for it only notes it. */
                log_debug("Flow %s: %s", l->id, strna(message));
                finish(l, FLOW_STATE_FAILED, DEVFLOW_ERROR_IDP_UNAVAILABLE,
                       "The identity provider's keys are not available.");
                return;
        }
        validate(l);
}

static void on_device_auth(HttpRequest *req, const HttpReply *reply, void *userdata) {
        Login *l = userdata;
        _cleanup_(device_auth_done) DeviceAuth d = {};
        _cleanup_(oauth_error_done) OAuthError err = {};
        uint64_t when = 0, now = mono_now(l);
        int r;

        HOLD_REQUEST(l);
        io(l)->note_reply(l->manager->idp, reply->error >= 0);

        if (reply->error < 0) {
                fail_transport(l, reply, "device authorization request");
                finish(l, FLOW_STATE_FAILED, DEVFLOW_ERROR_IDP_UNAVAILABLE, "The identity provider could not be reached.");
                return;
        }
        r = oauth_parse_device_auth(reply->status, reply->body, reply->size, l->manager->config->allow_http_loopback,
                                    &d, &err);
        if (r < 0) {
                _cleanup_free_ char *msg = NULL;

                if (r == -ENOMEM || idp_error(l, r, "device authorization", reply->status, &err, &msg) < 0) {
                        (void) log_oom();
                        finish(l, FLOW_STATE_FAILED, DEVFLOW_ERROR_IDP_ERROR, "Out of memory.");
                        return;
                }
                if (reply->status >= 500) {
                        /* The IdP is down or overloaded: a stack may fall back (PAM_AUTHINFO_UNAVAIL). */
                        finish(l, FLOW_STATE_FAILED, DEVFLOW_ERROR_IDP_UNAVAILABLE,
                               "The identity provider is unavailable; try again later.");
                        return;
                }
                finish(l, FLOW_STATE_FAILED, DEVFLOW_ERROR_IDP_ERROR, msg);
                return;
        }

        l->device_code = TAKE_PTR(d.device_code);
        l->user_code = TAKE_PTR(d.user_code);
        l->verification_uri = TAKE_PTR(d.verification_uri);
        l->verification_uri_complete = TAKE_PTR(d.verification_uri_complete);

        r = flow_machine_device_auth(&l->machine, now, d.expires_in_usec, d.interval_usec);
        if (r < 0) {
                finish(l, FLOW_STATE_FAILED, DEVFLOW_ERROR_IDP_ERROR,
                       "The login service rejected the identity provider's reply (expires_in or interval).");
                return;
        }
        l->expires_realtime = mono_to_realtime(l, l->machine.expires_at);

        r = sd_bus_reply_method_return(l->start_msg, "ossstt", l->path, l->user_code, l->verification_uri,
                                       strempty(l->verification_uri_complete), l->expires_realtime,
                                       l->machine.interval);
        l->start_msg = sd_bus_message_unref(l->start_msg);
        if (r < 0) {
                log_debug_errno(r, "Flow %s: failed to answer StartLogin: %m", l->id);
                finish(l, FLOW_STATE_CANCELLED, DEVFLOW_ERROR_CANCELLED, "The caller went away.");
                return;
        }
        audit(l, AUDIT_CODE_ISSUED, NULL);
        apply(l, flow_machine_timer(&l->machine, now, &when), when);
}

static void send_device_auth(Login *l) {
        int r;

        r = post_to_idp(l, io(l)->device_authorization_endpoint(l->manager->idp), /* device_code= */ NULL,
                        on_device_auth);
        if (r < 0) {
                log_error_errno(r, "Flow %s: failed to send the device authorization request: %m", l->id);
                finish(l, FLOW_STATE_FAILED, DEVFLOW_ERROR_IDP_UNAVAILABLE, "The identity provider could not be reached.");
        }
}

static void on_endpoints_ready(int error, const char *message, void *userdata) {
        Login *l = userdata;

        l->idp_wait = NULL;
        if (error < 0) {
                /* idp.c logged the failure once; every flow that waited for it only notes it. */
                log_debug("Flow %s: %s", l->id, strna(message));
                finish(l, FLOW_STATE_FAILED, DEVFLOW_ERROR_IDP_UNAVAILABLE, "The identity provider could not be reached.");
                return;
        }
        send_device_auth(l);
}

int login_start(Login *l) {
        int r;

        r = io(l)->want_endpoints(l->manager->idp, on_endpoints_ready, l, &l->idp_wait);
        if (r < 0)
                return r;
        if (r > 0)
                send_device_auth(l);
        return 0;
}

int login_add_wait(Login *l, sd_bus_message *msg) {
        sd_bus_message **w;

        if (l->done)
                return reply_wait(l, msg);
        if (l->n_waits >= MAX_WAITERS_PER_FLOW)
                return sd_bus_reply_method_errorf(msg, DEVFLOW_ERROR_TOO_MANY_FLOWS, "Too many waiters on this flow.");
        w = reallocarray(l->waits, l->n_waits + 1, sizeof *w);
        if (!w)
                return -ENOMEM;
        l->waits = w;
        l->waits[l->n_waits++] = sd_bus_message_ref(msg);
        return 1;
}

int login_poll_now(Login *l, sd_bus_message *msg) {
        uint64_t when = 0;
        sd_bus_message **p;
        FlowAction a;

        if (l->done)
                return sd_bus_reply_method_return(msg, "t", (uint64_t) 0);

        /* The reply waits for the outcome of the poll this asks for. */
        if (l->n_polls >= MAX_WAITERS_PER_FLOW)
                return sd_bus_reply_method_errorf(msg, DEVFLOW_ERROR_TOO_MANY_FLOWS, "Too many waiters on this flow.");
        p = reallocarray(l->polls, l->n_polls + 1, sizeof *p);
        if (!p)
                return -ENOMEM;
        l->polls = p;
        l->polls[l->n_polls++] = sd_bus_message_ref(msg);

        a = flow_machine_poll_now(&l->machine, mono_now(l), &when);
        apply(l, a, when);
        return 1;
}

void login_cancel(Login *l, const char *why) {
        finish(l, FLOW_STATE_CANCELLED, DEVFLOW_ERROR_CANCELLED, why ?: "The login was cancelled.");
}

static int on_track_gone(sd_bus_track *t, void *userdata) {
        Login *l = userdata;

        log_debug("Flow %s: its caller went away, cancelling.", l->id);
        login_cancel(l, "The caller went away.");
        login_free(l);
        return 0;
}

int login_new(Manager *m, const char *user, const char *rhost, const char *service, const char *tty,
              bool on_demand, sd_bus_message *start_msg, Login **ret) {
        uint8_t rnd[16];
        Login *l;
        int r;

        if (getrandom(rnd, sizeof rnd, 0) != sizeof rnd)
                return -EIO;

        l = calloc(1, sizeof *l);
        if (!l)
                return -ENOMEM;
        l->manager = m;
        for (size_t i = 0; i < sizeof rnd; i++)
                snprintf(l->id + 2 * i, 3, "%02x", rnd[i]);

        if (!(l->user = strdup(user)) || !(l->rhost = strdup(strempty(rhost))) ||
            !(l->service = strdup(strempty(service))) || !(l->tty = strdup(strempty(tty))) ||
            !(l->owner = strdup(sd_bus_message_get_sender(start_msg) ?: ""))) {
                login_free(l);
                return -ENOMEM;
        }
        r = sd_bus_path_encode(DEVFLOW_FLOW_PATH_PREFIX, l->id, &l->path);
        if (r >= 0)
                r = sd_bus_track_new(m->bus, &l->track, on_track_gone, l);
        if (r >= 0)
                r = sd_bus_track_add_sender(l->track, start_msg);
        if (r < 0) {
                login_free(l);
                return r;
        }
        l->start_msg = sd_bus_message_ref(start_msg);
        flow_machine_init(&l->machine, mono_now(l), mono_now(l) + m->config->max_login_time_usec, on_demand);

        l->next = m->logins;
        if (m->logins)
                m->logins->prev = l;
        m->logins = l;
        m->n_active++;
        m->n_started++;
        *ret = l;
        return 0;
}

Login *login_free(Login *l) {
        Manager *m;

        if (!l)
                return NULL;
        m = l->manager;
        if (!l->done && m->n_active > 0)
                m->n_active--;
        if (l->prev)
                l->prev->next = l->next;
        else if (m->logins == l)
                m->logins = l->next;
        if (l->next)
                l->next->prev = l->prev;

        if (l->req)
                io(l)->http_request_free(l->req);
        sd_event_source_disable_unref(l->timer);
        sd_event_source_disable_unref(l->linger);
        if (l->idp_wait)
                io(l)->wait_free(l->idp_wait);
        sd_bus_track_unref(l->track);
        sd_bus_message_unref(l->start_msg);
        for (size_t i = 0; i < l->n_waits; i++)
                sd_bus_message_unref(l->waits[i]);
        free(l->waits);
        for (size_t i = 0; i < l->n_polls; i++)
                sd_bus_message_unref(l->polls[i]);
        free(l->polls);
        wipe_secrets(l);
        json_object_put(l->claims);
        free(l->path);
        free(l->user);
        free(l->rhost);
        free(l->service);
        free(l->tty);
        free(l->owner);
        free(l->source);
        free(l->user_code);
        free(l->verification_uri);
        free(l->verification_uri_complete);
        free(l->message);
        free(l->detail);
        free(l->local_user);
        free(l->sub);
        free(l);
        return NULL;
}
