/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "flow-machine.h"

static const char *const flow_state_table[_FLOW_STATE_MAX] = {
        [FLOW_STATE_AUTHORIZING] = "authorizing",
        [FLOW_STATE_WAITING]     = "waiting",
        [FLOW_STATE_POLLING]     = "polling",
        [FLOW_STATE_VALIDATING]  = "validating",
        [FLOW_STATE_APPROVED]    = "approved",
        [FLOW_STATE_DENIED]      = "denied",
        [FLOW_STATE_EXPIRED]     = "expired",
        [FLOW_STATE_FAILED]      = "failed",
        [FLOW_STATE_CANCELLED]   = "cancelled",
};

const char *flow_state_to_string(FlowState s) {
        return s >= 0 && s < _FLOW_STATE_MAX ? flow_state_table[s] : NULL;
}

static const char *const token_reply_kind_table[_TOKEN_REPLY_KIND_MAX] = {
        [TOKEN_REPLY_TOKENS]       = "tokens",
        [TOKEN_REPLY_PENDING]      = "authorization_pending",
        [TOKEN_REPLY_SLOW_DOWN]    = "slow_down",
        [TOKEN_REPLY_DENIED]       = "access_denied",
        [TOKEN_REPLY_EXPIRED]      = "expired_token",
        [TOKEN_REPLY_ERROR]        = "error",
        [TOKEN_REPLY_SERVER_ERROR] = "server_error",
        [TOKEN_REPLY_MALFORMED]    = "malformed",
};

const char *token_reply_kind_to_string(TokenReplyKind k) {
        return k >= 0 && k < _TOKEN_REPLY_KIND_MAX ? token_reply_kind_table[k] : NULL;
}

bool flow_state_is_final(FlowState s) {
        return s >= FLOW_STATE_APPROVED && s < _FLOW_STATE_MAX;
}

static uint64_t min_u64(uint64_t a, uint64_t b) {
        return a < b ? a : b;
}

static uint64_t clamp_u64(uint64_t x, uint64_t lo, uint64_t hi) {
        return x < lo ? lo : x > hi ? hi : x;
}

void flow_machine_init(FlowMachine *m, uint64_t now, uint64_t deadline, bool on_demand) {
        *m = (FlowMachine) {
                .state = FLOW_STATE_AUTHORIZING,
                .on_demand = on_demand,
                .started = now,
                .deadline = deadline,
                .expires_at = deadline,
                .interval = FLOW_DEFAULT_INTERVAL_USEC,
                .next_poll_at = UINT64_MAX,
        };
}

int flow_machine_device_auth(FlowMachine *m, uint64_t now, uint64_t expires_in, uint64_t interval) {
        if (m->state != FLOW_STATE_AUTHORIZING || expires_in == 0)
                return -EINVAL;

        m->interval = interval == 0 ? FLOW_DEFAULT_INTERVAL_USEC :
                      clamp_u64(interval, FLOW_MIN_INTERVAL_USEC, FLOW_MAX_INTERVAL_USEC);
        /* A flow never outlives expires_in nor the login's deadline. */
        m->expires_at = min_u64(now + clamp_u64(expires_in, FLOW_MIN_EXPIRES_USEC, FLOW_MAX_EXPIRES_USEC),
                                m->deadline);
        m->last_reply_at = now;
        m->next_poll_at = m->on_demand ? UINT64_MAX : now + m->interval;
        m->state = FLOW_STATE_WAITING;
        return 0;
}

static FlowAction finish(FlowMachine *m, FlowState s) {
        m->state = s;
        m->next_poll_at = UINT64_MAX;
        return FLOW_ACTION_FINISHED;
}

/* Earliest time the next poll may go out: the interval (or the backoff, if longer) after the last reply. */
static uint64_t earliest_poll(const FlowMachine *m) {
        uint64_t wait = m->backoff > m->interval ? m->backoff : m->interval;
        return m->last_reply_at + wait;
}

/* In WAITING: poll now, or arm the timer for the next poll or for expiry, whichever comes first. */
static FlowAction schedule(FlowMachine *m, uint64_t now, uint64_t *ret_when) {
        if (m->state != FLOW_STATE_WAITING)
                return flow_state_is_final(m->state) ? FLOW_ACTION_FINISHED : FLOW_ACTION_NONE;
        if (now >= m->expires_at)
                return finish(m, FLOW_STATE_EXPIRED);
        if (m->next_poll_at <= now) {
                m->state = FLOW_STATE_POLLING;
                m->last_poll_at = now;
                m->next_poll_at = UINT64_MAX;
                m->poll_requested = false;
                m->n_polls++;
                return FLOW_ACTION_POLL;
        }
        *ret_when = min_u64(m->next_poll_at, m->expires_at);
        return FLOW_ACTION_ARM_TIMER;
}

/* After a reply that means "not yet": wait for the next poll (or only for expiry when on demand, unless the
 * user asked meanwhile). */
static FlowAction wait_again(FlowMachine *m, uint64_t now, uint64_t *ret_when) {
        m->state = FLOW_STATE_WAITING;
        m->next_poll_at = m->on_demand && !m->poll_requested ? UINT64_MAX : earliest_poll(m);
        return schedule(m, now, ret_when);
}

/* The reply (or failure) to the poll in flight came at NOW: the next one is spaced from there. A clock that
 * says the answer came before the question lags (a stale loop time): count from the poll then. */
static void replied(FlowMachine *m, uint64_t now) {
        m->last_reply_at = now > m->last_poll_at ? now : m->last_poll_at;
}

static FlowAction failure(FlowMachine *m, uint64_t now, uint64_t *ret_when) {
        replied(m, now);
        if (++m->n_failures >= FLOW_MAX_FAILURES)
                return finish(m, FLOW_STATE_FAILED);
        /* RFC 8628 §3.5: back off exponentially on connection problems. */
        m->backoff = m->backoff == 0 ? m->interval : min_u64(m->backoff * 2, FLOW_MAX_BACKOFF_USEC);
        /* Keep retrying in the background even on demand: the user's Enter must find an answer. */
        m->state = FLOW_STATE_WAITING;
        m->next_poll_at = earliest_poll(m);
        return schedule(m, now, ret_when);
}

FlowAction flow_machine_token_reply(FlowMachine *m, uint64_t now, TokenReplyKind kind, uint64_t *ret_when) {
        if (flow_state_is_final(m->state))
                return FLOW_ACTION_FINISHED;
        if (m->state != FLOW_STATE_POLLING)
                return FLOW_ACTION_NONE;        /* a reply nobody asked for changes nothing */

        switch (kind) {
        case TOKEN_REPLY_TOKENS:
                replied(m, now);
                m->state = FLOW_STATE_VALIDATING;
                return FLOW_ACTION_NONE;
        case TOKEN_REPLY_PENDING:
                replied(m, now);
                m->n_failures = 0;
                m->backoff = 0;
                return wait_again(m, now, ret_when);
        case TOKEN_REPLY_SLOW_DOWN:
                /* RFC 8628 §3.5: add 5 s to the interval for this and all later polls. */
                replied(m, now);
                m->n_failures = 0;
                m->backoff = 0;
                m->n_slow_down++;
                m->interval += FLOW_SLOW_DOWN_USEC;
                return wait_again(m, now, ret_when);
        case TOKEN_REPLY_DENIED:
                return finish(m, FLOW_STATE_DENIED);
        case TOKEN_REPLY_EXPIRED:
                return finish(m, FLOW_STATE_EXPIRED);
        case TOKEN_REPLY_ERROR:
                /* Auth0 answers expired_token once, then invalid_grant: past expiry, any error is expiry. */
                return finish(m, now >= m->expires_at ? FLOW_STATE_EXPIRED : FLOW_STATE_FAILED);
        case TOKEN_REPLY_SERVER_ERROR:
        case TOKEN_REPLY_MALFORMED:
        default:
                return failure(m, now, ret_when);
        }
}

FlowAction flow_machine_transport_error(FlowMachine *m, uint64_t now, uint64_t *ret_when) {
        if (flow_state_is_final(m->state))
                return FLOW_ACTION_FINISHED;
        if (m->state != FLOW_STATE_POLLING)
                return FLOW_ACTION_NONE;
        return failure(m, now, ret_when);
}

FlowAction flow_machine_timer(FlowMachine *m, uint64_t now, uint64_t *ret_when) {
        if (flow_state_is_final(m->state))
                return FLOW_ACTION_FINISHED;
        if (m->state != FLOW_STATE_WAITING) {
                /* A request in flight still ends at the deadline. */
                if (now >= m->expires_at && m->state != FLOW_STATE_VALIDATING)
                        return finish(m, FLOW_STATE_EXPIRED);
                return FLOW_ACTION_NONE;
        }
        return schedule(m, now, ret_when);
}

FlowAction flow_machine_poll_now(FlowMachine *m, uint64_t now, uint64_t *ret_when) {
        if (flow_state_is_final(m->state))
                return FLOW_ACTION_FINISHED;
        if (m->state != FLOW_STATE_WAITING) {
                /* In flight: poll again right after this reply's interval. */
                m->poll_requested = true;
                return FLOW_ACTION_NONE;
        }
        m->poll_requested = true;
        if (m->next_poll_at > earliest_poll(m))
                m->next_poll_at = earliest_poll(m);
        return schedule(m, now, ret_when);
}

void flow_machine_finish(FlowMachine *m, FlowState final) {
        if (flow_state_is_final(m->state) || !flow_state_is_final(final))
                return;
        (void) finish(m, final);
}
