/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The client side of devflowd's bus API (devflow-bus.h), for everything that calls the daemon: the PAM
 * module, devflowctl, the tests' flowclient and the benchmarks. Each call is built, sent and its reply
 * checked here and only here, so that the tools exercise the module's own code. sd-bus only: no PAM,
 * no sd-event (an asynchronous call takes the caller's handler, which reads its reply with the
 * matching *_reply_read()).
 *
 * Every function follows sd_bus_call(): a negative errno on failure; when the daemon (or the bus)
 * answered with a D-Bus error, *error (if not NULL) holds its name and message. A reply of another shape
 * than the API's is -EBADMSG, never a partial success. Strings in replies are as the daemon sent them:
 * sanitise before showing. */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#define DEVFLOW_CALL_TIMEOUT_USEC (30ULL * 1000000ULL)         /* StartLogin may wait for the IdP */
#define DEVFLOW_SHORT_CALL_TIMEOUT_USEC (5ULL * 1000000ULL)    /* Cancel(): answered at once */

/* StartLogin()'s context (all optional; NULL or "" is left out). */
typedef struct DevflowLoginContext {
        const char *rhost;
        const char *service;
        const char *tty;
        const char *poll;               /* "background" | "on-demand" */
        const char *explain;            /* "yes": root callers only (devflowctl test-login) */
} DevflowLoginContext;

/* The StartLogin() reply, copied. */
typedef struct DevflowLogin {
        char *flow_path;
        char *user_code;
        char *uri;
        char *uri_complete;             /* "" when the IdP gave none */
        uint64_t expires_usec;          /* CLOCK_REALTIME µs */
        uint64_t interval_usec;
} DevflowLogin;

void devflow_login_done(DevflowLogin *login);

/* The Wait() reply. The strings point into the reply message and live as long as it does. */
typedef struct DevflowVerdict {
        bool allowed;
        const char *local_user;
        const char *message;
} DevflowVerdict;

/* True when a failed call means "the daemon cannot be reached": no bus, the daemon is not running, cannot
 * be activated, vanished (its flow object with it), or did not answer in time. The one list: the module
 * maps these to PAM_AUTHINFO_UNAVAIL (a stack may fall back), devflowctl to exit code 3. r is the call's
 * negative errno, looked at only when e is not set. */
bool devflow_error_is_unreachable(const sd_bus_error *e, int r);

/* "NotPermitted" for DEVFLOW_ERROR_NOT_PERMITTED; other names unchanged. */
const char *devflow_error_short_name(const char *name);

/* Manager.StartLogin(user, context). */
int devflow_start_login(sd_bus *bus, const char *user, const DevflowLoginContext *ctx, uint64_t timeout_usec,
                        sd_bus_error *error, DevflowLogin *ret);
int devflow_start_login_async(sd_bus *bus, sd_bus_slot **ret_slot, const char *user, const DevflowLoginContext *ctx,
                              uint64_t timeout_usec, sd_bus_message_handler_t callback, void *userdata);
int devflow_start_login_reply_read(sd_bus_message *reply, sd_bus_error *error, DevflowLogin *ret);

/* Flow.Wait(): deferred until the flow ends, so timeout_usec is the caller's bound on the whole flow. */
int devflow_wait(sd_bus *bus, const char *flow_path, uint64_t timeout_usec, sd_bus_error *error,
                 sd_bus_message **ret_reply, DevflowVerdict *ret);
int devflow_wait_async(sd_bus *bus, sd_bus_slot **ret_slot, const char *flow_path, uint64_t timeout_usec,
                       sd_bus_message_handler_t callback, void *userdata);
int devflow_wait_reply_read(sd_bus_message *reply, sd_bus_error *error, DevflowVerdict *ret);

/* Flow.Poll() → next_poll_usec: 0 when the flow ended, else CLOCK_REALTIME µs of the earliest next poll. */
int devflow_poll(sd_bus *bus, const char *flow_path, uint64_t timeout_usec, sd_bus_error *error,
                 uint64_t *ret_next_poll_usec);
int devflow_poll_async(sd_bus *bus, sd_bus_slot **ret_slot, const char *flow_path, uint64_t timeout_usec,
                       sd_bus_message_handler_t callback, void *userdata);
int devflow_poll_reply_read(sd_bus_message *reply, sd_bus_error *error, uint64_t *ret_next_poll_usec);

/* Flow.Cancel(). */
int devflow_cancel(sd_bus *bus, const char *flow_path, uint64_t timeout_usec, sd_bus_error *error);
int devflow_cancel_async(sd_bus *bus, sd_bus_slot **ret_slot, const char *flow_path, uint64_t timeout_usec,
                         sd_bus_message_handler_t callback, void *userdata);
/* 0 for a Cancel() or CancelFlow() success reply, else as above. */
int devflow_reply_read_empty(sd_bus_message *reply, sd_bus_error *error);

/* Manager.CancelFlow(id), root only. */
int devflow_cancel_flow(sd_bus *bus, const char *id, uint64_t timeout_usec, sd_bus_error *error);

/* Manager.GetStatus(), root only. Keys a newer daemon adds, or a known key of another type, are skipped. */
typedef struct DevflowStatus {
        char *version;
        char *issuer;
        int idp_reachable;                      /* -1: unknown (no request sent yet) */
        uint64_t idp_last_request_age_usec;     /* USEC_INFINITY: no request yet */
        uint64_t discovery_age_usec;            /* USEC_INFINITY: not fetched */
        uint64_t jwks_age_usec;
        uint32_t active_flows;
        uint64_t flows_started;
        uint64_t flows_approved;
        uint64_t uptime_usec;
} DevflowStatus;

void devflow_status_done(DevflowStatus *status);
int devflow_get_status(sd_bus *bus, uint64_t timeout_usec, sd_bus_error *error, DevflowStatus *ret);

/* Manager.ListFlows() → a(DEVFLOW_FLOW_ROW), root only: the reply is returned for the caller to read,
 * its signature already checked. */
int devflow_list_flows(sd_bus *bus, uint64_t timeout_usec, sd_bus_error *error, sd_bus_message **ret_reply);
