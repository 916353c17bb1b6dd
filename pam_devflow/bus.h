/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The module's calls to devflowd (common/devflow-bus.h), each with an explicit timeout, and the one
 * place where every outcome of a login becomes a PAM code (bus_outcome_to_pam). The calls themselves are
 * common/devflow-client.h's, which devflowctl and the tests use too. */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>
#include <time.h>

#include "devflow-client.h"
#include "macro.h"

/* How a login ended: one kind, and what goes with it. Only the Wait() reply handler writes
 * OUTCOME_VERDICT, and only over OUTCOME_PENDING; every other kind is a failure. */
typedef enum OutcomeKind {
        OUTCOME_PENDING,                /* no answer yet */
        OUTCOME_VERDICT,                /* Wait() answered (b allowed, s local_user, s message) */
        OUTCOME_BUS_ERROR,              /* a D-Bus error reply: bus_error, name and message */
        OUTCOME_FAILED,                 /* a local failure: error (negative errno; -EBADMSG: malformed reply) */
        OUTCOME_CONV_FAILED,            /* the conversation failed */
        OUTCOME_TYPED_ANSWER,           /* the Enter prompt was answered with text (a password?) */
        OUTCOME_TIMED_OUT,              /* the module's own timeout passed */
        _OUTCOME_KIND_MAX,
        _OUTCOME_KIND_INVALID = -EINVAL,
} OutcomeKind;

typedef struct Outcome {
        OutcomeKind kind;
        int error;                      /* OUTCOME_FAILED */
        sd_bus_error bus_error;         /* OUTCOME_BUS_ERROR */
        bool allowed;                   /* OUTCOME_VERDICT: */
        char *local_user;
        char *message;                  /* the daemon's message, unsanitised */
} Outcome;

#define OUTCOME_NULL ((Outcome) { .kind = OUTCOME_PENDING, .bus_error = SD_BUS_ERROR_NULL })

void bus_outcome_done(Outcome *o);

/* Records a failure of kind (not OUTCOME_VERDICT nor OUTCOME_PENDING), dropping what was there before. */
void bus_outcome_set(Outcome *o, OutcomeKind kind);

/* Records a failed call: the D-Bus error reply when *error is set (taken over, *error is left empty),
 * else the local failure r (-EIO when r is not negative). */
void bus_outcome_fail(Outcome *o, int r, sd_bus_error *error);

/* The only mapping from an outcome to a PAM code. PAM_SUCCESS only for a verdict with allowed true
 * and local_user equal to pam_user, byte for byte; never PAM_IGNORE. */
int bus_outcome_to_pam(const Outcome *o, const char *pam_user);

/* Whether the outcome is the daemon saying the code expired (a fresh flow may be started). */
bool bus_outcome_is_expired(const Outcome *o);

/* Connects to the system bus; the default call timeout is set to DEVFLOW_CALL_TIMEOUT_USEC. */
int bus_open(sd_bus **ret);

/* Sends Wait() on the flow asynchronously; the reply fills *o (which must outlive the slot). */
int bus_wait_begin(sd_bus *bus, const char *flow_path, uint64_t timeout_usec, Outcome *o, sd_bus_slot **ret_slot);

/* Processes the bus until o has a kind other than OUTCOME_PENDING, or until deadline (CLOCK_MONOTONIC µs; 0: only what is queued).
 * Returns 1 when done, 0 when the deadline passed, negative errno when the connection failed. */
int bus_wait_until(sd_bus *bus, const Outcome *o, uint64_t deadline_usec);

