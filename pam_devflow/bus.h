/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The module's calls to devflowd (common/devflow-bus.h), each with an explicit timeout, and the one
 * place where every outcome of a login becomes a PAM code (bus_outcome_to_pam). */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>
#include <time.h>

#include "macro.h"

#define BUS_CALL_TIMEOUT_USEC (30 * USEC_PER_SEC)       /* StartLogin may wait for the IdP */
#define BUS_SHORT_CALL_TIMEOUT_USEC (5 * USEC_PER_SEC)  /* Poll, Cancel */

/* The StartLogin() reply. Strings as the daemon sent them: sanitise before showing. */
typedef struct LoginInfo {
        char *flow_path;
        char *user_code;
        char *uri;
        char *uri_complete;
        uint64_t expires_usec;          /* CLOCK_REALTIME µs */
        uint64_t interval_usec;
} LoginInfo;

void bus_login_info_done(LoginInfo *info);

/* How a login ended. Filled by the Wait() reply handler, or by the module for local failures. */
typedef struct Outcome {
        bool done;                      /* the Wait() reply (or error) arrived */
        int error;                      /* < 0: a local failure (errno); -EBADMSG: malformed reply */
        sd_bus_error bus_error;         /* a D-Bus error reply: name and message */
        bool conv_failed;               /* the conversation failed */
        bool typed_answer;              /* the Enter prompt was answered with text (a password?) */
        bool timed_out;                 /* the module's own timeout passed */
        bool have_verdict;              /* Wait() answered (b allowed, s local_user, s message) */
        bool allowed;
        char *local_user;
        char *message;                  /* the daemon's message, unsanitised */
} Outcome;

#define OUTCOME_NULL ((Outcome) { .bus_error = SD_BUS_ERROR_NULL })

void bus_outcome_done(Outcome *o);

/* The only mapping from an outcome to a PAM code. PAM_SUCCESS only for a verdict with allowed true
 * and local_user equal to pam_user, byte for byte; never PAM_IGNORE. */
int bus_outcome_to_pam(const Outcome *o, const char *pam_user);

/* Whether the outcome is the daemon saying the code expired (a fresh flow may be started). */
bool bus_outcome_is_expired(const Outcome *o);

/* Connects to the system bus; the default call timeout is set to BUS_CALL_TIMEOUT_USEC. */
int bus_open(sd_bus **ret);

/* StartLogin(user, {"rhost","service","tty"}) → LoginInfo. NULL or empty context values are left out.
 * A malformed reply gives -EBADMSG. On a D-Bus error reply, *error is set and a negative errno returned. */
int bus_start_login(sd_bus *bus, const char *user, const char *rhost, const char *service, const char *tty,
                    const char *poll,
                    uint64_t timeout_usec, sd_bus_error *error, LoginInfo *ret);

/* Sends Wait() on the flow asynchronously; the reply fills *o (which must outlive the slot). */
int bus_wait_begin(sd_bus *bus, const char *flow_path, uint64_t timeout_usec, Outcome *o, sd_bus_slot **ret_slot);

/* Processes the bus until o->done or until deadline (CLOCK_MONOTONIC µs; 0: only what is queued).
 * Returns 1 when done, 0 when the deadline passed, negative errno when the connection failed. */
int bus_wait_until(sd_bus *bus, const Outcome *o, uint64_t deadline_usec);

/* Poll() → next_poll_usec (CLOCK_REALTIME µs). */
int bus_poll(sd_bus *bus, const char *flow_path, uint64_t timeout_usec, sd_bus_error *error,
             uint64_t *ret_next_poll_usec);

/* Cancel(). */
int bus_cancel(sd_bus *bus, const char *flow_path, sd_bus_error *error);

uint64_t bus_now(clockid_t clock);
