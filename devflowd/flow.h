/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

#include <openssl/evp.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "flow-index.h"
#include "flow-machine.h"
#include "hashmap.h"
#include "http.h"
#include "idp.h"
#include "oauth.h"
#include "timer-queue.h"
#include "usermap.h"

typedef struct Flow Flow;
typedef struct FlowCaller FlowCaller;
typedef struct FlowIo FlowIo;

/* Everything flow.c asks of the outside world but the bus: HTTP (http.c) and what is known about the IdP
 * (idp.c). FlowContext.io NULL means the real ones (flow_io_default); tests/unit/test-flow.c puts canned
 * replies behind it, so the orchestrator, where every safety rule meets, is tested without curl or an IdP.
 * The functions have the meaning and contract of the http_* and idp_* functions they are named after. */
struct FlowIo {
        int (*http_request)(Http *h, const char *url, const char *post_body, const char *authorization,
                            HttpCallback callback, void *userdata, HttpRequest **ret);
        HttpRequest *(*http_request_free)(HttpRequest *r);
        int (*want_endpoints)(Idp *idp, IdpCallback cb, void *userdata, IdpWait **ret_wait);
        int (*want_jwks)(Idp *idp, bool refresh, IdpCallback cb, void *userdata, IdpWait **ret_wait);
        IdpWait *(*wait_free)(IdpWait *w);
        const char *(*issuer)(const Idp *idp);
        const char *(*device_authorization_endpoint)(const Idp *idp);
        const char *(*token_endpoint)(const Idp *idp);
        const char *(*userinfo_endpoint)(const Idp *idp);
        const Jwks *(*jwks)(const Idp *idp);
        void (*note_reply)(Idp *idp, bool answered);
};

extern const FlowIo flow_io_default;

/* How late a flow's timer may fire; the polls due within it go out in one wake-up (never early). 1 ms, not
 * sd-event's default 250 ms of coalescing: the Enter of prompt=enter may wait for this timer's poll. */
#define FLOW_TIMER_ACCURACY_USEC USEC_PER_MSEC

/* What every flow shares, and the set of flows: the daemon's (manager.c embeds it), or a test's. A flow
 * links itself in when it is made and out when it is freed, and keeps the counts: n_active and the
 * pending index go down at the one moment a flow stops being pending (it finishes, or is freed first).
 * by_id and pending are made with the first flow; their owner frees them. */
typedef struct FlowContext {
        const Config *config;
        sd_event *event;
        sd_bus *bus;
        Http *http;
        TimerQueue *timers;             /* every flow's timer (timer-queue.h), made with FLOW_TIMER_ACCURACY_USEC */
        Idp *idp;
        UserMap *usermap;
        EVP_PKEY *client_key;           /* private_key_jwt */
        const FlowIo *io;               /* NULL: http.c and idp.c */

        Flow *flows;                    /* every flow, active and finished-but-not-yet-freed */
        Hashmap *by_id;                 /* the same flows by id */
        Hashmap *by_caller;             /* FlowCaller by unique bus name: whose flows end when it leaves */
        sd_bus_slot *caller_match;      /* the one match that tells (flow_context_watch_callers()) */
        FlowIndex *pending;             /* the active ones counted by user and source, for the limits */
        unsigned n_active;
        uint64_t n_started, n_approved, n_refused;
} FlowContext;

/* Deferred bus calls of one kind, answered together (at most MAX_WAITERS_PER_FLOW, flow.c). */
typedef struct FlowWaiters {
        sd_bus_message **msgs;
        size_t n;
} FlowWaiters;

/* One flow (the bus's Flow object): a device flow (flow-machine.c's state machine) driven by HTTP and
 * timers, answering the bus. The device_code and tokens live only here and are wiped when it is freed. */

struct Flow {
        FlowContext *ctx;
        Flow *prev, *next;

        char id[33];                    /* 128 random bits, hex: flow object paths are not guessable */
        char *path;
        char *user, *rhost, *service, *tty;
        char *owner;                    /* unique bus name of the caller that started it */
        uid_t owner_uid;                /* its uid and pid, from the bus (audit events carry them) */
        pid_t owner_pid;
        char *source;                   /* what the limits count it as (manager.c's flow_origin()) */
        bool indexed;                   /* in by_id, and in pending until done (flow_new() got that far) */
        bool explain;                   /* root asked (context "explain"): the verdict names the claims */
        FlowCaller *caller;             /* owner's entry in by_caller; its flows are a list */
        Flow *caller_prev, *caller_next;

        sd_bus_message *start_msg;      /* StartLogin, answered once the IdP gave a code */
        FlowWaiters waits;              /* Wait() calls, answered when the flow ends */
        FlowWaiters polls;              /* Poll() calls, answered when the poll they asked for is answered */

        FlowMachine machine;
        char *device_code;              /* secret */
        OAuthRequest token_request;     /* secret: every poll's request, built with the first one (not kept
                                         * when each carries a fresh client assertion) */
        char *user_code, *verification_uri, *verification_uri_complete;
        uint64_t expires_realtime;      /* µs, CLOCK_REALTIME */

        HttpRequest *req;
        TimerQueueEntry timer;          /* in ctx->timers */
        IdpWait *idp_wait;
        char *access_token, *id_token;  /* secrets, kept only while validating */
        json_object *claims;
        bool jwks_refreshed;

        /* The outcome once done: error_name NULL when allowed. */
        bool done;
        const char *error_name;
        char *message;                  /* fit for whoever called */
        char *detail;                   /* the IdP's error_description (sanitized): root's devflowctl only */
        char *local_user;
        char *sub;
        sd_event_source *linger;
};

/* Watches the bus for callers that leave (one match for all, made before the bus name is taken) and
 * cancels their flows. Unique names are never reused, so a flow started by a caller that is already gone is
 * cancelled by the signal that follows its StartLogin on the connection. */
int flow_context_watch_callers(FlowContext *c);
/* Frees what the flows made in the context (call after freeing every flow). */
void flow_context_done(FlowContext *c);

int flow_new(FlowContext *c, const char *user, const char *rhost, const char *service, const char *tty,
             const char *source, bool on_demand, sd_bus_message *start_msg, Flow **ret);
Flow *flow_free(Flow *f);
int flow_start(Flow *f);
bool flow_is_final(const Flow *f);
int flow_add_wait(Flow *f, sd_bus_message *msg);
int flow_poll_now(Flow *f, sd_bus_message *msg);
void flow_cancel(Flow *f, const char *why);
