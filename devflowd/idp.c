/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "idp.h"
#include "jwks.h"
#include "log.h"
#include "macro.h"
#include "oauth.h"
#include "time-util.h"

#define DISCOVERY_MAX_AGE_USEC  (3600 * USEC_PER_SEC)
#define JWKS_MAX_AGE_USEC       (3600 * USEC_PER_SEC)
#define JWKS_REFETCH_MIN_USEC   (60 * USEC_PER_SEC)
#define RETRY_MIN_USEC          (1 * USEC_PER_SEC)
#define RETRY_MAX_USEC          (300 * USEC_PER_SEC)

typedef enum IdpWaitKind { WAIT_ENDPOINTS, WAIT_JWKS } IdpWaitKind;

struct IdpWait {
        Idp *idp;
        IdpWaitKind kind;
        IdpCallback cb;
        void *userdata;
        IdpWait *prev, *next;
};

/* Times below are CLOCK_MONOTONIC read fresh (now_usec()), never sd-event's cached loop time: a reply
 * handled late in a busy iteration would stamp a time from before its own request, and GetStatus compares
 * these times with a fresh clock. */

/* One document we fetch and cache: discovery or the key set. */
typedef struct Fetch {
        HttpRequest *req;
        uint64_t fetched_at;            /* CLOCK_MONOTONIC of the last success, 0 never */
        uint64_t retry_usec;            /* current backoff */
        sd_event_source *retry;
} Fetch;

struct Idp {
        sd_event *event;
        Http *http;
        const Config *config;

        Discovery discovery;
        Fetch discovery_fetch;
        bool need_discovery;

        Jwks *jwks;
        Fetch jwks_fetch;
        uint64_t kid_refetch_at;        /* last refetch an unknown kid caused, 0 never */

        bool reachable;                 /* the last request to the IdP got an HTTP answer */
        uint64_t last_request_at;       /* CLOCK_MONOTONIC of that answer or failure, 0 never */
        IdpWait *waits;
};

static const char *pick(const char *configured, const char *discovered) {
        return configured ?: discovered;
}

const char *idp_issuer(const Idp *idp) {
        return idp->config->issuer;
}

const char *idp_device_authorization_endpoint(const Idp *idp) {
        return pick(idp->config->device_authorization_endpoint, idp->discovery.device_authorization_endpoint);
}

const char *idp_token_endpoint(const Idp *idp) {
        return pick(idp->config->token_endpoint, idp->discovery.token_endpoint);
}

const char *idp_userinfo_endpoint(const Idp *idp) {
        return pick(idp->config->userinfo_endpoint, idp->discovery.userinfo_endpoint);
}

static const char *jwks_uri(const Idp *idp) {
        return pick(idp->config->jwks_uri, idp->discovery.jwks_uri);
}

const Jwks *idp_jwks(const Idp *idp) {
        return idp->jwks;
}

bool idp_reachable(const Idp *idp) {
        return idp->reachable;
}

void idp_note_reply(Idp *idp, bool answered) {
        idp->reachable = answered;
        idp->last_request_at = now_usec(CLOCK_MONOTONIC);
}

uint64_t idp_last_request_age_usec(const Idp *idp, uint64_t now) {
        return idp->last_request_at ? now - idp->last_request_at : USEC_INFINITY;
}

uint64_t idp_discovery_age_usec(const Idp *idp, uint64_t now) {
        if (!idp->need_discovery)
                return 0;
        return idp->discovery_fetch.fetched_at ? now - idp->discovery_fetch.fetched_at : USEC_INFINITY;
}

uint64_t idp_jwks_age_usec(const Idp *idp, uint64_t now) {
        return idp->jwks_fetch.fetched_at ? now - idp->jwks_fetch.fetched_at : USEC_INFINITY;
}

static bool endpoints_known(const Idp *idp) {
        return idp_device_authorization_endpoint(idp) && idp_token_endpoint(idp) && jwks_uri(idp);
}

IdpWait *idp_wait_free(IdpWait *w) {
        if (!w)
                return NULL;
        if (w->prev)
                w->prev->next = w->next;
        else if (w->idp->waits == w)
                w->idp->waits = w->next;
        if (w->next)
                w->next->prev = w->prev;
        free(w);
        return NULL;
}

/* Call back (and free) every wait of that kind. A callback may free other waits or start new ones, so
 * take them off the list first. */
static void notify(Idp *idp, IdpWaitKind kind, int error, const char *message) {
        IdpWait *list = NULL;

        for (IdpWait *w = idp->waits, *n; w; w = n) {
                n = w->next;
                if (w->kind != kind)
                        continue;
                if (w->prev)
                        w->prev->next = w->next;
                else
                        idp->waits = w->next;
                if (w->next)
                        w->next->prev = w->prev;
                w->prev = NULL;
                w->next = list;
                list = w;
        }
        while (list) {
                IdpWait *w = list;
                list = w->next;
                w->cb(error, message, w->userdata);
                free(w);
        }
}

static int add_wait(Idp *idp, IdpWaitKind kind, IdpCallback cb, void *userdata, IdpWait **ret) {
        IdpWait *w = calloc(1, sizeof *w);
        if (!w)
                return -ENOMEM;
        *w = (IdpWait) { .idp = idp, .kind = kind, .cb = cb, .userdata = userdata, .next = idp->waits };
        if (idp->waits)
                idp->waits->prev = w;
        idp->waits = w;
        *ret = w;
        return 0;
}

static void fetch_discovery(Idp *idp);
static void fetch_jwks(Idp *idp);

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        Idp *idp = userdata;

        if (s == idp->discovery_fetch.retry)
                fetch_discovery(idp);
        else
                fetch_jwks(idp);
        return 0;
}

static void schedule_retry(Idp *idp, Fetch *f) {
        int r;

        f->retry_usec = f->retry_usec ? MIN(f->retry_usec * 2, RETRY_MAX_USEC) : RETRY_MIN_USEC;
        f->retry = sd_event_source_disable_unref(f->retry);
        r = sd_event_add_time_relative(idp->event, &f->retry, CLOCK_MONOTONIC, f->retry_usec, 0, on_retry, idp);
        if (r < 0)
                log_warning_errno(r, "Failed to schedule an IdP retry, ignoring: %m");
}

static void on_discovery(HttpRequest *req, const HttpReply *reply, void *userdata) {
        Idp *idp = userdata;
        _cleanup_free_ char *reason = NULL, *msg = NULL;
        Discovery d = {};
        int r;

        _cleanup_(http_request_freep) HttpRequest *done = TAKE_PTR(idp->discovery_fetch.req);

        if (reply->error < 0) {
                idp_note_reply(idp, false);
                r = reply->error;
                if (asprintf(&msg, "discovery: %s", reply->error_text) < 0)
                        msg = NULL;
        } else if (reply->status != 200) {
                idp_note_reply(idp, true);
                r = -EPROTO;
                if (asprintf(&msg, "discovery: HTTP status %ld", reply->status) < 0)
                        msg = NULL;
        } else {
                idp_note_reply(idp, true);
                r = oauth_parse_discovery(reply->body, reply->size, idp->config->issuer,
                                          idp->config->allow_http_loopback, &d, &reason);
                if (r < 0 && asprintf(&msg, "discovery: %s", strempty(reason)) < 0)
                        msg = NULL;
        }

        if (r < 0) {
                log_warning_errno(r, "IdP %s unusable: %s", idp->config->issuer, strna(msg));
                schedule_retry(idp, &idp->discovery_fetch);
                notify(idp, WAIT_ENDPOINTS, r, msg ?: "discovery failed");
                notify(idp, WAIT_JWKS, r, msg ?: "discovery failed");
                return;
        }

        discovery_done(&idp->discovery);
        idp->discovery = d;
        idp->discovery_fetch.fetched_at = now_usec(CLOCK_MONOTONIC);
        idp->discovery_fetch.retry_usec = 0;
        log_debug("Discovery of %s done.", idp->config->issuer);

        if (!endpoints_known(idp)) {
                r = log_warning_errno(EPROTO, "IdP %s advertises no device authorization, token or JWKS endpoint.",
                                      idp->config->issuer);
                notify(idp, WAIT_ENDPOINTS, r, "the IdP has no device authorization endpoint");
                notify(idp, WAIT_JWKS, r, "the IdP has no JWKS");
                return;
        }
        notify(idp, WAIT_ENDPOINTS, 0, NULL);
        /* Whoever waited for keys needed the jwks_uri first. */
        if (!idp->jwks_fetch.req)
                fetch_jwks(idp);
}

static void fetch_discovery(Idp *idp) {
        _cleanup_free_ char *url = NULL;
        int r;

        if (idp->discovery_fetch.req)
                return;
        idp->discovery_fetch.retry = sd_event_source_disable_unref(idp->discovery_fetch.retry);

        /* OpenID Connect Discovery 1.0 §4: the issuer with any trailing '/' removed. */
        if (asprintf(&url, "%.*s/.well-known/openid-configuration",
                     (int) (strlen(idp->config->issuer) - (idp->config->issuer[strlen(idp->config->issuer) - 1] == '/')),
                     idp->config->issuer) < 0) {
                notify(idp, WAIT_ENDPOINTS, -ENOMEM, "out of memory");
                return;
        }
        r = http_request(idp->http, url, NULL, NULL, on_discovery, idp, &idp->discovery_fetch.req);
        if (r < 0) {
                log_error_errno(r, "Failed to start discovery at %s: %m", url);
                schedule_retry(idp, &idp->discovery_fetch);
                notify(idp, WAIT_ENDPOINTS, r, "discovery could not start");
        }
}

static void on_jwks(HttpRequest *req, const HttpReply *reply, void *userdata) {
        Idp *idp = userdata;
        _cleanup_free_ char *msg = NULL;
        Jwks *j = NULL;
        int r;

        _cleanup_(http_request_freep) HttpRequest *done = TAKE_PTR(idp->jwks_fetch.req);

        if (reply->error < 0) {
                idp_note_reply(idp, false);
                r = reply->error;
                if (asprintf(&msg, "JWKS: %s", reply->error_text) < 0)
                        msg = NULL;
        } else if (reply->status != 200) {
                idp_note_reply(idp, true);
                r = -EPROTO;
                if (asprintf(&msg, "JWKS: HTTP status %ld", reply->status) < 0)
                        msg = NULL;
        } else {
                idp_note_reply(idp, true);
                r = jwks_parse(reply->body, reply->size, &j);
                if (r < 0 && asprintf(&msg, "JWKS: unusable key set (%s)", strerror(-r)) < 0)
                        msg = NULL;
        }
        if (r < 0) {
                log_warning_errno(r, "IdP key set unusable: %s", strna(msg));
                if (!idp->jwks)
                        schedule_retry(idp, &idp->jwks_fetch);
                /* An old key set is still better than none: let waiters use it. */
                notify(idp, WAIT_JWKS, idp->jwks ? 0 : r, msg ?: "JWKS failed");
                return;
        }
        jwks_free(idp->jwks);
        idp->jwks = j;
        idp->jwks_fetch.fetched_at = now_usec(CLOCK_MONOTONIC);
        idp->jwks_fetch.retry_usec = 0;
        log_debug("JWKS fetched: %zu usable keys.", jwks_size(j));
        notify(idp, WAIT_JWKS, 0, NULL);
}

static void fetch_jwks(Idp *idp) {
        int r;

        if (idp->jwks_fetch.req)
                return;
        idp->jwks_fetch.retry = sd_event_source_disable_unref(idp->jwks_fetch.retry);
        if (!jwks_uri(idp)) {
                fetch_discovery(idp);   /* fetch_jwks() runs again once discovery is done */
                return;
        }
        r = http_request(idp->http, jwks_uri(idp), NULL, NULL, on_jwks, idp, &idp->jwks_fetch.req);
        if (r < 0) {
                log_error_errno(r, "Failed to fetch the JWKS: %m");
                schedule_retry(idp, &idp->jwks_fetch);
                notify(idp, WAIT_JWKS, r, "JWKS could not be fetched");
        }
}

int idp_want_endpoints(Idp *idp, IdpCallback cb, void *userdata, IdpWait **ret_wait) {
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        int r;

        if (endpoints_known(idp)) {
                /* Stale discovery: use what we have now, refresh in the background. */
                if (idp->need_discovery && now - idp->discovery_fetch.fetched_at > DISCOVERY_MAX_AGE_USEC)
                        fetch_discovery(idp);
                return 1;
        }
        r = add_wait(idp, WAIT_ENDPOINTS, cb, userdata, ret_wait);
        if (r < 0)
                return r;
        /* A login does not sit out a backoff: try now if nothing is in flight. */
        fetch_discovery(idp);
        return 0;
}

int idp_want_jwks(Idp *idp, bool refresh, IdpCallback cb, void *userdata, IdpWait **ret_wait) {
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        int r;

        if (idp->jwks) {
                if (!refresh) {
                        /* Stale: use what we have now, refresh in the background. */
                        if (now - idp->jwks_fetch.fetched_at > JWKS_MAX_AGE_USEC)
                                fetch_jwks(idp);
                        return 1;
                }
                /* An unknown kid: at most one refetch per minute, so that tokens cannot make us hammer
                 * the IdP; within that minute the key set at hand decides. */
                if (idp->kid_refetch_at != 0 && now - idp->kid_refetch_at < JWKS_REFETCH_MIN_USEC)
                        return 1;
                idp->kid_refetch_at = now;
        }
        r = add_wait(idp, WAIT_JWKS, cb, userdata, ret_wait);
        if (r < 0)
                return r;
        fetch_jwks(idp);
        return 0;
}

int idp_new(sd_event *event, Http *http, const Config *config, Idp **ret) {
        Idp *idp = calloc(1, sizeof *idp);
        if (!idp)
                return -ENOMEM;
        idp->event = sd_event_ref(event);
        idp->http = http;
        idp->config = config;
        idp->need_discovery = config->issuer &&
                (!config->device_authorization_endpoint || !config->token_endpoint || !config->jwks_uri);
        *ret = idp;
        return 0;
}

void idp_start(Idp *idp) {
        if (idp->need_discovery)
                fetch_discovery(idp);
        else
                fetch_jwks(idp);
}

Idp *idp_free(Idp *idp) {
        if (!idp)
                return NULL;
        while (idp->waits)
                idp_wait_free(idp->waits);
        http_request_free(idp->discovery_fetch.req);
        http_request_free(idp->jwks_fetch.req);
        sd_event_source_disable_unref(idp->discovery_fetch.retry);
        sd_event_source_disable_unref(idp->jwks_fetch.retry);
        discovery_done(&idp->discovery);
        jwks_free(idp->jwks);
        sd_event_unref(idp->event);
        free(idp);
        return NULL;
}
