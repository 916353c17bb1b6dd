/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "macro.h"

/* The RFC 8628 §3.4–3.5 polling state machine of one flow. Pure: the inputs are replies and the clock
 * (CLOCK_MONOTONIC µs), the output is what to do next. No I/O, no allocation.
 * The clock must be read fresh at each call (clock_gettime(), not sd-event's cached loop time): an IdP
 * counts the interval between the arrivals of two polls, and a busy loop's cached time lags behind the
 * moment a reply was really read, which would put the next poll early. The machine also never counts
 * from a time before the poll it sent. */

/* What a token endpoint answer means to the state machine (oauth_parse_token_reply() makes it from the
 * reply; RFC 8628 §3.5). */
typedef enum TokenReplyKind {
        TOKEN_REPLY_TOKENS,
        TOKEN_REPLY_PENDING,            /* authorization_pending */
        TOKEN_REPLY_SLOW_DOWN,
        TOKEN_REPLY_DENIED,             /* access_denied */
        TOKEN_REPLY_EXPIRED,            /* expired_token */
        TOKEN_REPLY_ERROR,              /* any other error: final */
        TOKEN_REPLY_SERVER_ERROR,       /* 5xx, server_error, temporarily_unavailable: retry with backoff */
        TOKEN_REPLY_MALFORMED,
        _TOKEN_REPLY_KIND_MAX,
        _TOKEN_REPLY_KIND_INVALID = -EINVAL,
} TokenReplyKind;

const char *token_reply_kind_to_string(TokenReplyKind k);

typedef enum FlowState {
        FLOW_STATE_AUTHORIZING,         /* device authorization request in flight */
        FLOW_STATE_WAITING,             /* code shown; a timer runs until the next poll or expiry */
        FLOW_STATE_POLLING,             /* token request in flight */
        FLOW_STATE_VALIDATING,          /* tokens received; the caller validates them */
        FLOW_STATE_APPROVED,
        FLOW_STATE_DENIED,
        FLOW_STATE_EXPIRED,             /* code expired, or the login's deadline passed */
        FLOW_STATE_FAILED,
        FLOW_STATE_CANCELLED,
        _FLOW_STATE_MAX,
        _FLOW_STATE_INVALID = -EINVAL,
} FlowState;

typedef enum FlowAction {
        FLOW_ACTION_NONE,               /* wait for the request in flight */
        FLOW_ACTION_POLL,               /* send the token request now (state is POLLING) */
        FLOW_ACTION_ARM_TIMER,          /* call flow_machine_timer() at *ret_when */
        FLOW_ACTION_FINISHED,           /* the state is final */
} FlowAction;

#define FLOW_DEFAULT_INTERVAL_USEC (5 * USEC_PER_SEC)      /* RFC 8628 §3.2 */
#define FLOW_MIN_INTERVAL_USEC (1 * USEC_PER_SEC)
#define FLOW_MAX_INTERVAL_USEC (60 * USEC_PER_SEC)         /* an IdP's own interval is capped here */
#define FLOW_SLOW_DOWN_USEC (5 * USEC_PER_SEC)             /* RFC 8628 §3.5 */
#define FLOW_MAX_BACKOFF_USEC (60 * USEC_PER_SEC)
#define FLOW_MIN_EXPIRES_USEC (1 * USEC_PER_SEC)
#define FLOW_MAX_EXPIRES_USEC (1800 * USEC_PER_SEC)
#define FLOW_MAX_FAILURES 10

typedef struct FlowMachine {
        FlowState state;
        bool on_demand;                 /* poll only when asked (prompt=enter), never in the background */
        uint64_t started;
        uint64_t deadline;              /* the login's own time limit */
        uint64_t expires_at;            /* of the device code */
        uint64_t interval;              /* grows by 5 s with each slow_down */
        uint64_t last_poll_at;          /* when the last token request was sent */
        uint64_t last_reply_at;         /* polls are spaced from the previous reply (never before its poll) */
        uint64_t next_poll_at;          /* UINT64_MAX: none scheduled */
        uint64_t backoff;               /* after transport errors and 5xx; 0 when none */
        unsigned n_polls, n_slow_down, n_failures;
        bool poll_requested;            /* "poll now" arrived while a request was in flight */
} FlowMachine;

const char *flow_state_to_string(FlowState s);
bool flow_state_is_final(FlowState s);

void flow_machine_init(FlowMachine *m, uint64_t now, uint64_t deadline, bool on_demand);

/* The device authorization reply arrived: expires_in and interval (0 = absent: 5 s) are clamped to sane
 * bounds. -EINVAL when expires_in is 0 or the state is not AUTHORIZING. */
int flow_machine_device_auth(FlowMachine *m, uint64_t now, uint64_t expires_in, uint64_t interval);

FlowAction flow_machine_token_reply(FlowMachine *m, uint64_t now, TokenReplyKind kind, uint64_t *ret_when);
FlowAction flow_machine_transport_error(FlowMachine *m, uint64_t now, uint64_t *ret_when);
FlowAction flow_machine_timer(FlowMachine *m, uint64_t now, uint64_t *ret_when);

/* The user says they approved: poll as soon as the interval allows, never sooner. */
FlowAction flow_machine_poll_now(FlowMachine *m, uint64_t now, uint64_t *ret_when);

/* Validation done, or cancelled: move to a final state. */
void flow_machine_finish(FlowMachine *m, FlowState final);
