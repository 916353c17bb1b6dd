/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "http.h"

/* What the daemon knows about its identity provider: the endpoints (explicit keys win over discovery)
 * and the JWKS. Discovery is fetched at start and again when older than an hour; a failed fetch is
 * retried in the background with exponential backoff, and a login never waits longer than one
 * http_timeout for it. An unknown kid causes at most one JWKS refetch per 60 s. */

typedef struct Idp Idp;
typedef struct IdpWait IdpWait;
typedef struct Jwks Jwks;

/* error 0: ready. Otherwise -errno and a sanitized message fit for the log. */
typedef void (*IdpCallback)(int error, const char *message, void *userdata);

int idp_new(sd_event *event, Http *http, const Config *config, Idp **ret);
Idp *idp_free(Idp *idp);

/* Prefetch discovery and JWKS in the background. */
void idp_start(Idp *idp);

/* Returns 1 when the endpoints are known now (no wait), 0 when *ret_wait will call back, -errno. */
int idp_want_endpoints(Idp *idp, IdpCallback cb, void *userdata, IdpWait **ret_wait);

/* Returns 1 when a JWKS is at hand now, 0 when *ret_wait will call back. With refresh (an unknown kid), a new
 * copy is fetched unless an unknown kid already caused a refetch less than 60 s ago (then 1 at once: use
 * what there is). */
int idp_want_jwks(Idp *idp, bool refresh, IdpCallback cb, void *userdata, IdpWait **ret_wait);

IdpWait *idp_wait_free(IdpWait *w);

const char *idp_issuer(const Idp *idp);
const char *idp_device_authorization_endpoint(const Idp *idp);
const char *idp_token_endpoint(const Idp *idp);
const char *idp_userinfo_endpoint(const Idp *idp);
const Jwks *idp_jwks(const Idp *idp);
uint64_t idp_discovery_age_usec(const Idp *idp, uint64_t now);   /* USEC_INFINITY when never */
uint64_t idp_jwks_age_usec(const Idp *idp, uint64_t now);
bool idp_reachable(const Idp *idp);                              /* last request got an answer */
/* Every request to the IdP (discovery, JWKS, and the flows' own) reports whether an HTTP answer came. */
void idp_note_reply(Idp *idp, bool answered);
uint64_t idp_last_request_age_usec(const Idp *idp, uint64_t now);  /* USEC_INFINITY when none yet */
