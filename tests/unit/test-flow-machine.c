/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* devflowd/flow-machine.c: the RFC 8628 §3.4–3.5 polling state machine, driven with a fake clock. */

#include <assert.h>
#include <errno.h>

#include "flow-machine.h"
#include "macro.h"
#include "test.h"

/* The tables below leave the fields a case does not use at zero. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define S(x) ((uint64_t) (x) * USEC_PER_SEC)
#define MS(x) ((uint64_t) (x) * 1000)
#define NEVER UINT64_MAX

/* A clock far from zero, so absolute and relative times cannot be confused. */
static const uint64_t T0 = S(100000);

/* Init at T0 with a deadline 3600 s away and the device authorization reply at T0. */
static void start(FlowMachine *m, uint64_t expires_in, uint64_t interval, bool on_demand) {
        flow_machine_init(m, T0, T0 + S(3600), on_demand);
        CHECK_INTEQ(flow_machine_device_auth(m, T0, expires_in, interval), 0);
}

/* Fires the timer at its time until the machine polls; returns the poll's time, NEVER if it finished. */
static uint64_t run_to_poll(FlowMachine *m, uint64_t now) {
        for (unsigned i = 0; i < 100; i++) {
                uint64_t when = 0;
                FlowAction a = flow_machine_timer(m, now, &when);

                if (a == FLOW_ACTION_POLL)
                        return now;
                if (a != FLOW_ACTION_ARM_TIMER)
                        return NEVER;
                assert(when >= now);
                now = when;
        }
        return NEVER;
}

TEST(state_names) {
        for (FlowState s = 0; s < _FLOW_STATE_MAX; s++)
                CHECK(flow_state_to_string(s) != NULL);
        CHECK(flow_state_to_string(_FLOW_STATE_MAX) == NULL);
        CHECK(flow_state_to_string(_FLOW_STATE_INVALID) == NULL);
        CHECK(!flow_state_is_final(FLOW_STATE_AUTHORIZING));
        CHECK(!flow_state_is_final(FLOW_STATE_WAITING));
        CHECK(!flow_state_is_final(FLOW_STATE_POLLING));
        CHECK(!flow_state_is_final(FLOW_STATE_VALIDATING));
        CHECK(flow_state_is_final(FLOW_STATE_APPROVED));
        CHECK(flow_state_is_final(FLOW_STATE_DENIED));
        CHECK(flow_state_is_final(FLOW_STATE_EXPIRED));
        CHECK(flow_state_is_final(FLOW_STATE_FAILED));
        CHECK(flow_state_is_final(FLOW_STATE_CANCELLED));
        CHECK(!flow_state_is_final(_FLOW_STATE_MAX));
        CHECK(!flow_state_is_final(_FLOW_STATE_INVALID));
}

TEST(authorizing_ignores_everything_but_the_deadline) {
        FlowMachine m;
        uint64_t when = 0;

        flow_machine_init(&m, T0, T0 + S(60), false);
        CHECK_INTEQ(m.state, FLOW_STATE_AUTHORIZING);
        CHECK_INTEQ(flow_machine_timer(&m, T0 + S(1), &when), FLOW_ACTION_NONE);
        CHECK_INTEQ(flow_machine_token_reply(&m, T0 + S(1), TOKEN_REPLY_TOKENS, &when), FLOW_ACTION_NONE);
        CHECK_INTEQ(flow_machine_transport_error(&m, T0 + S(1), &when), FLOW_ACTION_NONE);
        CHECK_INTEQ(flow_machine_poll_now(&m, T0 + S(1), &when), FLOW_ACTION_NONE);
        CHECK_INTEQ(m.state, FLOW_STATE_AUTHORIZING);
        CHECK_INTEQ(m.n_polls, 0);
        /* the device authorization request still ends at the login's deadline */
        CHECK_INTEQ(flow_machine_timer(&m, T0 + S(60), &when), FLOW_ACTION_FINISHED);
        CHECK_INTEQ(m.state, FLOW_STATE_EXPIRED);
}

TEST(default_interval_is_5s_and_no_early_poll) {
        FlowMachine m;
        uint64_t when = 0;

        start(&m, S(900), /* interval= */ 0, false);
        CHECK_INTEQ(m.state, FLOW_STATE_WAITING);
        CHECK_INTEQ(m.interval, S(5));
        CHECK_INTEQ(m.expires_at, T0 + S(900));
        CHECK_INTEQ(flow_machine_timer(&m, T0, &when), FLOW_ACTION_ARM_TIMER);
        CHECK_INTEQ(when, T0 + S(5));
        /* a timer that fires early re-arms, it does not poll */
        CHECK_INTEQ(flow_machine_timer(&m, T0 + S(5) - 1, &when), FLOW_ACTION_ARM_TIMER);
        CHECK_INTEQ(when, T0 + S(5));
        CHECK_INTEQ(m.n_polls, 0);
        CHECK_INTEQ(flow_machine_timer(&m, T0 + S(5), &when), FLOW_ACTION_POLL);
        CHECK_INTEQ(m.state, FLOW_STATE_POLLING);
        CHECK_INTEQ(m.n_polls, 1);
        /* a second timer while the request is in flight does not poll twice */
        CHECK_INTEQ(flow_machine_timer(&m, T0 + S(6), &when), FLOW_ACTION_NONE);
        CHECK_INTEQ(m.n_polls, 1);
}

TEST(idp_interval_kept) {
        static const uint64_t intervals[] = { 1, 2, 7, 30, 60 };

        for (size_t i = 0; i < ELEMENTSOF(intervals); i++) {
                FlowMachine m;
                uint64_t when = 0, p;
                bool ok;

                start(&m, S(900), S(intervals[i]), false);
                p = run_to_poll(&m, T0);
                ok = p == T0 + S(intervals[i]);
                /* the next poll comes one interval after the reply, not after the poll */
                ok = ok && flow_machine_token_reply(&m, p + MS(700), TOKEN_REPLY_PENDING, &when) == FLOW_ACTION_ARM_TIMER &&
                     when == p + MS(700) + S(intervals[i]) && run_to_poll(&m, p + MS(700)) == when;
                test_report("idp_interval", intervals[i] == 1 ? "1" : intervals[i] == 2 ? "2" : intervals[i] == 7 ? "7" :
                            intervals[i] == 30 ? "30" : "60", ok);
                CHECK(ok);
        }
}

/* A reply handed over with a time before its poll went out (a stale clock, as sd-event's cached loop time
 * is when a busy iteration reads the reply) never lets the next poll come sooner than one interval after
 * the poll itself: the IdP counts from the previous poll's arrival. */
TEST(stale_reply_time_never_brings_the_next_poll_forward) {
        static const TokenReplyKind kinds[] = { TOKEN_REPLY_PENDING, TOKEN_REPLY_SERVER_ERROR, TOKEN_REPLY_MALFORMED };

        for (size_t i = 0; i < ELEMENTSOF(kinds); i++) {
                FlowMachine m;
                uint64_t when = 0, p;

                start(&m, S(900), S(5), false);
                p = run_to_poll(&m, T0);
                CHECK_INTEQ(p, T0 + S(5));
                CHECK_INTEQ(m.last_poll_at, p);
                /* the reply is reported 13.6 ms "before" the poll */
                CHECK_INTEQ(flow_machine_token_reply(&m, p - MS(13) - 600, kinds[i], &when), FLOW_ACTION_ARM_TIMER);
                CHECK(when >= p + S(5));
                CHECK_INTEQ(m.last_reply_at, p);
                /* and the timer, fired at that time, does not poll before it either */
                CHECK_INTEQ(flow_machine_timer(&m, p + S(5) - 1, &when), FLOW_ACTION_ARM_TIMER);
                CHECK_INTEQ(run_to_poll(&m, when), when);
                CHECK(m.last_poll_at >= p + S(5));
        }

        /* the same for a transport error, and for slow_down (which adds 5 s to the interval) */
        FlowMachine m;
        uint64_t when = 0, p;

        start(&m, S(900), S(2), false);
        p = run_to_poll(&m, T0);
        CHECK_INTEQ(flow_machine_transport_error(&m, p - MS(5), &when), FLOW_ACTION_ARM_TIMER);
        CHECK(when >= p + S(2));
        p = run_to_poll(&m, when);
        CHECK_INTEQ(flow_machine_token_reply(&m, p - MS(5), TOKEN_REPLY_SLOW_DOWN, &when), FLOW_ACTION_ARM_TIMER);
        CHECK_INTEQ(when, p + S(7));

        /* a reply at or after the poll is spaced from the reply, as before */
        start(&m, S(900), S(2), false);
        p = run_to_poll(&m, T0);
        CHECK_INTEQ(flow_machine_token_reply(&m, p + MS(300), TOKEN_REPLY_PENDING, &when), FLOW_ACTION_ARM_TIMER);
        CHECK_INTEQ(when, p + MS(300) + S(2));
}

TEST(pending_keeps_interval) {
        FlowMachine m;
        uint64_t when = 0, now = T0;

        start(&m, S(900), S(5), false);
        for (unsigned i = 0; i < 20; i++) {
                uint64_t p = run_to_poll(&m, now);

                CHECK_INTEQ(p, now + S(5));
                now = p + MS(250);
                CHECK_INTEQ(flow_machine_token_reply(&m, now, TOKEN_REPLY_PENDING, &when), FLOW_ACTION_ARM_TIMER);
                CHECK_INTEQ(when, now + S(5));
                CHECK_INTEQ(m.interval, S(5));
                CHECK_INTEQ(m.state, FLOW_STATE_WAITING);
        }
        CHECK_INTEQ(m.n_polls, 20);
}

TEST(slow_down_adds_5s_cumulatively) {
        FlowMachine m;
        uint64_t when = 0, now, p;

        start(&m, S(1800), S(5), false);
        p = run_to_poll(&m, T0);
        now = p + MS(100);
        CHECK_INTEQ(flow_machine_token_reply(&m, now, TOKEN_REPLY_SLOW_DOWN, &when), FLOW_ACTION_ARM_TIMER);
        CHECK_INTEQ(m.interval, S(10));
        CHECK_INTEQ(when, now + S(10));
        CHECK_INTEQ(run_to_poll(&m, now), now + S(10));
        now += S(10) + MS(100);
        CHECK_INTEQ(flow_machine_token_reply(&m, now, TOKEN_REPLY_SLOW_DOWN, &when), FLOW_ACTION_ARM_TIMER);
        CHECK_INTEQ(m.interval, S(15));
        CHECK_INTEQ(when, now + S(15));
        CHECK_INTEQ(run_to_poll(&m, now), now + S(15));
        /* the larger interval holds for the rest of the flow */
        now += S(15) + MS(100);
        CHECK_INTEQ(flow_machine_token_reply(&m, now, TOKEN_REPLY_PENDING, &when), FLOW_ACTION_ARM_TIMER);
        CHECK_INTEQ(m.interval, S(15));
        CHECK_INTEQ(when, now + S(15));
        CHECK_INTEQ(m.n_slow_down, 2);
}

TEST(endless_slow_down_ends_at_expiry) {
        FlowMachine m;
        uint64_t when = 0, now = T0;
        unsigned polls = 0;

        start(&m, S(120), S(5), false);
        for (;;) {
                uint64_t p = run_to_poll(&m, now);

                if (p == NEVER)
                        break;
                polls++;
                now = p;
                (void) flow_machine_token_reply(&m, now, TOKEN_REPLY_SLOW_DOWN, &when);
        }
        /* polls at 5, 15 (+10), 30 (+15), 50 (+20), 75 (+25), 105 (+30); the next would be at 140 */
        CHECK_INTEQ(polls, 6);
        CHECK_INTEQ(m.state, FLOW_STATE_EXPIRED);
        CHECK_INTEQ(m.interval, S(35));
}

TEST(poll_now_waits_for_the_interval) {
        FlowMachine m;
        uint64_t when = 0;

        start(&m, S(900), S(5), false);
        CHECK_INTEQ(flow_machine_poll_now(&m, T0 + S(1), &when), FLOW_ACTION_ARM_TIMER);
        CHECK_INTEQ(when, T0 + S(5));
        CHECK_INTEQ(m.state, FLOW_STATE_WAITING);
        CHECK_INTEQ(flow_machine_poll_now(&m, T0 + S(4), &when), FLOW_ACTION_ARM_TIMER);
        CHECK_INTEQ(when, T0 + S(5));
        CHECK_INTEQ(m.n_polls, 0);
        CHECK_INTEQ(flow_machine_poll_now(&m, T0 + S(5), &when), FLOW_ACTION_POLL);
        CHECK_INTEQ(m.n_polls, 1);
        /* after slow_down, "poll now" waits for the longer interval too */
        CHECK_INTEQ(flow_machine_token_reply(&m, T0 + S(6), TOKEN_REPLY_SLOW_DOWN, &when), FLOW_ACTION_ARM_TIMER);
        CHECK_INTEQ(flow_machine_poll_now(&m, T0 + S(7), &when), FLOW_ACTION_ARM_TIMER);
        CHECK_INTEQ(when, T0 + S(16));
        CHECK_INTEQ(flow_machine_poll_now(&m, T0 + S(16) - 1, &when), FLOW_ACTION_ARM_TIMER);
        CHECK_INTEQ(flow_machine_poll_now(&m, T0 + S(16), &when), FLOW_ACTION_POLL);
}

TEST(poll_now_while_in_flight) {
        FlowMachine m;
        uint64_t when = 0, p;

        start(&m, S(900), S(5), false);
        p = run_to_poll(&m, T0);
        CHECK_INTEQ(flow_machine_poll_now(&m, p + MS(10), &when), FLOW_ACTION_NONE);
        CHECK_INTEQ(m.state, FLOW_STATE_POLLING);
        CHECK_INTEQ(m.n_polls, 1);
        /* the reply that comes next does not trigger an immediate second poll */
        CHECK_INTEQ(flow_machine_token_reply(&m, p + MS(300), TOKEN_REPLY_PENDING, &when), FLOW_ACTION_ARM_TIMER);
        CHECK_INTEQ(when, p + MS(300) + S(5));
        CHECK_INTEQ(m.n_polls, 1);
}

TEST(on_demand_polls_only_when_asked) {
        FlowMachine m;
        uint64_t when = 0, now;

        start(&m, S(600), S(5), /* on_demand= */ true);
        /* nothing scheduled but the expiry */
        CHECK_INTEQ(flow_machine_timer(&m, T0, &when), FLOW_ACTION_ARM_TIMER);
        CHECK_INTEQ(when, T0 + S(600));
        CHECK_INTEQ(flow_machine_timer(&m, T0 + S(100), &when), FLOW_ACTION_ARM_TIMER);
        CHECK_INTEQ(when, T0 + S(600));
        CHECK_INTEQ(m.n_polls, 0);
        /* Enter before the interval: at the interval, not sooner */
        CHECK_INTEQ(flow_machine_poll_now(&m, T0 + S(2), &when), FLOW_ACTION_ARM_TIMER);
        CHECK_INTEQ(when, T0 + S(5));
        CHECK_INTEQ(flow_machine_timer(&m, T0 + S(5), &when), FLOW_ACTION_POLL);
        now = T0 + S(5) + MS(200);
        /* pending: no background poll, only expiry */
        CHECK_INTEQ(flow_machine_token_reply(&m, now, TOKEN_REPLY_PENDING, &when), FLOW_ACTION_ARM_TIMER);
        CHECK_INTEQ(when, T0 + S(600));
        CHECK_INTEQ(flow_machine_timer(&m, now + S(60), &when), FLOW_ACTION_ARM_TIMER);
        CHECK_INTEQ(m.n_polls, 1);
        /* Enter long after the interval: poll at once */
        CHECK_INTEQ(flow_machine_poll_now(&m, now + S(60), &when), FLOW_ACTION_POLL);
        now += S(60) + MS(200);
        /* Enter while in flight: poll again one interval after the reply */
        CHECK_INTEQ(flow_machine_poll_now(&m, now - MS(100), &when), FLOW_ACTION_NONE);
        CHECK_INTEQ(flow_machine_token_reply(&m, now, TOKEN_REPLY_PENDING, &when), FLOW_ACTION_ARM_TIMER);
        CHECK_INTEQ(when, now + S(5));
        CHECK_INTEQ(flow_machine_timer(&m, now + S(5), &when), FLOW_ACTION_POLL);
        CHECK_INTEQ(m.n_polls, 3);
}

TEST(on_demand_retries_failures_in_background) {
        FlowMachine m;
        uint64_t when = 0;

        start(&m, S(600), S(5), true);
        CHECK_INTEQ(flow_machine_poll_now(&m, T0 + S(10), &when), FLOW_ACTION_POLL);
        CHECK_INTEQ(flow_machine_transport_error(&m, T0 + S(11), &when), FLOW_ACTION_ARM_TIMER);
        CHECK_INTEQ(when, T0 + S(16));
        CHECK_INTEQ(flow_machine_timer(&m, T0 + S(16), &when), FLOW_ACTION_POLL);
}

TEST(expiry_during_wait) {
        FlowMachine m;
        uint64_t when = 0;

        start(&m, S(12), S(5), false);
        CHECK_INTEQ(run_to_poll(&m, T0), T0 + S(5));
        CHECK_INTEQ(flow_machine_token_reply(&m, T0 + S(5), TOKEN_REPLY_PENDING, &when), FLOW_ACTION_ARM_TIMER);
        CHECK_INTEQ(run_to_poll(&m, T0 + S(5)), T0 + S(10));
        /* the next poll would be at 15.5 s, past the code's expiry at 12 s: the timer is for the expiry */
        CHECK_INTEQ(flow_machine_token_reply(&m, T0 + MS(10500), TOKEN_REPLY_PENDING, &when), FLOW_ACTION_ARM_TIMER);
        CHECK_INTEQ(when, T0 + S(12));
        CHECK_INTEQ(flow_machine_timer(&m, T0 + S(12), &when), FLOW_ACTION_FINISHED);
        CHECK_INTEQ(m.state, FLOW_STATE_EXPIRED);
        CHECK_INTEQ(m.next_poll_at, NEVER);
        CHECK_INTEQ(m.n_polls, 2);
}

TEST(poll_now_after_expiry_finishes) {
        FlowMachine m;
        uint64_t when = 0;

        start(&m, S(30), S(5), true);
        CHECK_INTEQ(flow_machine_poll_now(&m, T0 + S(30), &when), FLOW_ACTION_FINISHED);
        CHECK_INTEQ(m.state, FLOW_STATE_EXPIRED);
        CHECK_INTEQ(m.n_polls, 0);
}

TEST(deadline_earlier_than_expiry) {
        FlowMachine m;
        uint64_t when = 0, now = T0;

        flow_machine_init(&m, T0, T0 + S(30), false);
        CHECK_INTEQ(flow_machine_device_auth(&m, T0, S(900), S(5)), 0);
        CHECK_INTEQ(m.expires_at, T0 + S(30));
        for (;;) {
                uint64_t p = run_to_poll(&m, now);

                if (p == NEVER)
                        break;
                CHECK(p < T0 + S(30));
                now = p;
                CHECK(flow_machine_token_reply(&m, now, TOKEN_REPLY_PENDING, &when) == FLOW_ACTION_ARM_TIMER);
        }
        /* polls at 5, 10, 15, 20, 25; at 30 the deadline wins over the due poll */
        CHECK_INTEQ(m.n_polls, 5);
        CHECK_INTEQ(m.state, FLOW_STATE_EXPIRED);
}

TEST(deadline_already_passed_at_device_auth) {
        FlowMachine m;
        uint64_t when = 0;

        flow_machine_init(&m, T0, T0 + S(10), false);
        CHECK_INTEQ(flow_machine_device_auth(&m, T0 + S(11), S(900), 0), 0);
        CHECK_INTEQ(flow_machine_timer(&m, T0 + S(11), &when), FLOW_ACTION_FINISHED);
        CHECK_INTEQ(m.state, FLOW_STATE_EXPIRED);
}

TEST(expiry_while_in_flight) {
        FlowMachine m;
        uint64_t when = 0;

        start(&m, S(10), S(5), false);
        CHECK_INTEQ(run_to_poll(&m, T0), T0 + S(5));
        CHECK_INTEQ(flow_machine_timer(&m, T0 + S(9), &when), FLOW_ACTION_NONE);
        CHECK_INTEQ(m.state, FLOW_STATE_POLLING);
        CHECK_INTEQ(flow_machine_timer(&m, T0 + S(10), &when), FLOW_ACTION_FINISHED);
        CHECK_INTEQ(m.state, FLOW_STATE_EXPIRED);
        /* the late reply changes nothing */
        CHECK_INTEQ(flow_machine_token_reply(&m, T0 + S(11), TOKEN_REPLY_TOKENS, &when), FLOW_ACTION_FINISHED);
        CHECK_INTEQ(m.state, FLOW_STATE_EXPIRED);
}

TEST(validating_is_not_cut_by_expiry) {
        FlowMachine m;
        uint64_t when = 0;

        start(&m, S(10), S(5), false);
        CHECK_INTEQ(run_to_poll(&m, T0), T0 + S(5));
        CHECK_INTEQ(flow_machine_token_reply(&m, T0 + S(6), TOKEN_REPLY_TOKENS, &when), FLOW_ACTION_NONE);
        CHECK_INTEQ(m.state, FLOW_STATE_VALIDATING);
        /* tokens arrived in time: their validation may finish after the code's expiry */
        CHECK_INTEQ(flow_machine_timer(&m, T0 + S(10), &when), FLOW_ACTION_NONE);
        CHECK_INTEQ(m.state, FLOW_STATE_VALIDATING);
        CHECK_INTEQ(flow_machine_poll_now(&m, T0 + S(10), &when), FLOW_ACTION_NONE);
        CHECK_INTEQ(m.n_polls, 1);
        flow_machine_finish(&m, FLOW_STATE_APPROVED);
        CHECK_INTEQ(m.state, FLOW_STATE_APPROVED);
}

/* Consecutive failures of one kind: waits interval, 2×, 4× … capped at FLOW_MAX_BACKOFF_USEC, and the
 * FLOW_MAX_FAILURES-th failure ends the flow. */
TEST(backoff_exponential_capped_then_failed) {
        static const struct {
                const char *name;
                int kind;       /* -1: transport error */
        } t[] = {
                { "transport-error", -1                       },
                { "server-error",    TOKEN_REPLY_SERVER_ERROR },
                { "malformed",       TOKEN_REPLY_MALFORMED    },
        };
        static const uint64_t waits[] = { 5, 10, 20, 40, 60, 60, 60, 60, 60 };

        assert(ELEMENTSOF(waits) == FLOW_MAX_FAILURES - 1);
        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                FlowMachine m;
                uint64_t when = 0, now = T0;
                bool ok = true;

                start(&m, S(1800), S(5), false);
                for (size_t k = 0; k <= ELEMENTSOF(waits); k++) {
                        FlowAction a;
                        uint64_t p = run_to_poll(&m, now);

                        ok = ok && p != NEVER;
                        now = p + MS(50);
                        a = t[i].kind < 0 ? flow_machine_transport_error(&m, now, &when) :
                                            flow_machine_token_reply(&m, now, t[i].kind, &when);
                        if (k < ELEMENTSOF(waits))
                                ok = ok && a == FLOW_ACTION_ARM_TIMER && when == now + S(waits[k]) &&
                                     m.state == FLOW_STATE_WAITING && m.n_failures == k + 1;
                        else
                                ok = ok && a == FLOW_ACTION_FINISHED && m.state == FLOW_STATE_FAILED;
                        if (!ok) {
                                fprintf(stderr, "  %s: failure %zu: action %d, wait %" PRIu64 " µs\n", t[i].name,
                                        k + 1, a, when - now);
                                break;
                        }
                }
                ok = ok && m.n_polls == FLOW_MAX_FAILURES;
                test_report("backoff", t[i].name, ok);
                CHECK(ok);
        }
}

TEST(backoff_starts_from_the_current_interval) {
        FlowMachine m;
        uint64_t when = 0, p;

        start(&m, S(1800), S(5), false);
        p = run_to_poll(&m, T0);
        CHECK_INTEQ(flow_machine_token_reply(&m, p, TOKEN_REPLY_SLOW_DOWN, &when), FLOW_ACTION_ARM_TIMER);
        p = run_to_poll(&m, p);
        CHECK_INTEQ(flow_machine_transport_error(&m, p, &when), FLOW_ACTION_ARM_TIMER);
        CHECK_INTEQ(when, p + S(10));
        p = run_to_poll(&m, p);
        CHECK_INTEQ(flow_machine_transport_error(&m, p, &when), FLOW_ACTION_ARM_TIMER);
        CHECK_INTEQ(when, p + S(20));
}

TEST(good_reply_resets_backoff_and_failures) {
        static const TokenReplyKind good[] = { TOKEN_REPLY_PENDING, TOKEN_REPLY_SLOW_DOWN };

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                FlowMachine m;
                uint64_t when = 0, p = T0, iv;
                bool ok = true;

                start(&m, S(1800), S(5), false);
                for (unsigned k = 0; k < FLOW_MAX_FAILURES - 1; k++) {
                        p = run_to_poll(&m, p);
                        ok = ok && flow_machine_transport_error(&m, p, &when) == FLOW_ACTION_ARM_TIMER;
                }
                p = run_to_poll(&m, p);
                ok = ok && flow_machine_token_reply(&m, p, good[i], &when) == FLOW_ACTION_ARM_TIMER;
                iv = m.interval;
                /* back to the plain interval, and the failure count starts over */
                ok = ok && when == p + iv && m.n_failures == 0 && m.backoff == 0;
                p = run_to_poll(&m, p);
                ok = ok && flow_machine_transport_error(&m, p, &when) == FLOW_ACTION_ARM_TIMER && when == p + iv &&
                     m.state == FLOW_STATE_WAITING;
                test_report("backoff_reset", token_reply_kind_to_string(good[i]), ok);
                CHECK(ok);
        }
}

TEST(backoff_never_past_expiry) {
        FlowMachine m;
        uint64_t when = 0, p;

        start(&m, S(30), S(5), false);
        p = run_to_poll(&m, T0);                                        /* 5 */
        CHECK_INTEQ(flow_machine_transport_error(&m, p, &when), FLOW_ACTION_ARM_TIMER);
        CHECK_INTEQ(when, T0 + S(10));
        p = run_to_poll(&m, p);                                         /* 10 */
        CHECK_INTEQ(flow_machine_transport_error(&m, p, &when), FLOW_ACTION_ARM_TIMER);
        CHECK_INTEQ(when, T0 + S(20));
        p = run_to_poll(&m, p);                                         /* 20 */
        /* the backoff (20 s) would reach past the expiry at 30 s */
        CHECK_INTEQ(flow_machine_transport_error(&m, p, &when), FLOW_ACTION_ARM_TIMER);
        CHECK_INTEQ(when, T0 + S(30));
        CHECK_INTEQ(flow_machine_timer(&m, when, &when), FLOW_ACTION_FINISHED);
        CHECK_INTEQ(m.state, FLOW_STATE_EXPIRED);
        CHECK_INTEQ(m.n_polls, 3);
}

TEST(final_replies) {
        static const struct {
                const char *name;
                TokenReplyKind kind;
                uint64_t reply_at;      /* seconds after T0; the code expires at 60 */
                FlowState state;
        } t[] = {
                { "denied",                 TOKEN_REPLY_DENIED,  6,  FLOW_STATE_DENIED  },
                { "expired",                TOKEN_REPLY_EXPIRED, 6,  FLOW_STATE_EXPIRED },
                { "unknown-error",          TOKEN_REPLY_ERROR,   6,  FLOW_STATE_FAILED  },
                /* Auth0: expired_token once, then invalid_grant: past the expiry an error means expired */
                { "error-after-expiry",     TOKEN_REPLY_ERROR,   61, FLOW_STATE_EXPIRED },
                { "denied-after-expiry",    TOKEN_REPLY_DENIED,  61, FLOW_STATE_DENIED  },
        };

        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                FlowMachine m;
                uint64_t when = 0;
                bool ok;

                start(&m, S(60), S(5), false);
                ok = run_to_poll(&m, T0) == T0 + S(5) &&
                     flow_machine_token_reply(&m, T0 + S(t[i].reply_at), t[i].kind, &when) == FLOW_ACTION_FINISHED &&
                     m.state == t[i].state && m.next_poll_at == NEVER;
                test_report("final_reply", t[i].name, ok);
                CHECK(ok);
        }
}

TEST(tokens_then_validation) {
        FlowMachine m;
        uint64_t when = 0;

        start(&m, S(600), S(5), false);
        CHECK_INTEQ(run_to_poll(&m, T0), T0 + S(5));
        CHECK_INTEQ(flow_machine_token_reply(&m, T0 + S(6), TOKEN_REPLY_TOKENS, &when), FLOW_ACTION_NONE);
        CHECK_INTEQ(m.state, FLOW_STATE_VALIDATING);
        /* no further polls while validating */
        CHECK_INTEQ(flow_machine_timer(&m, T0 + S(20), &when), FLOW_ACTION_NONE);
        CHECK_INTEQ(flow_machine_poll_now(&m, T0 + S(20), &when), FLOW_ACTION_NONE);
        CHECK_INTEQ(flow_machine_token_reply(&m, T0 + S(20), TOKEN_REPLY_PENDING, &when), FLOW_ACTION_NONE);
        CHECK_INTEQ(flow_machine_transport_error(&m, T0 + S(20), &when), FLOW_ACTION_NONE);
        CHECK_INTEQ(m.state, FLOW_STATE_VALIDATING);
        CHECK_INTEQ(m.n_polls, 1);
        /* a non-final state is no way to finish */
        flow_machine_finish(&m, FLOW_STATE_WAITING);
        CHECK_INTEQ(m.state, FLOW_STATE_VALIDATING);
        flow_machine_finish(&m, FLOW_STATE_FAILED);     /* the ID token did not validate */
        CHECK_INTEQ(m.state, FLOW_STATE_FAILED);
}

TEST(unsolicited_reply_changes_nothing) {
        FlowMachine m;
        uint64_t when = 0;

        start(&m, S(600), S(5), false);
        CHECK_INTEQ(flow_machine_token_reply(&m, T0 + S(1), TOKEN_REPLY_SLOW_DOWN, &when), FLOW_ACTION_NONE);
        CHECK_INTEQ(flow_machine_token_reply(&m, T0 + S(1), TOKEN_REPLY_TOKENS, &when), FLOW_ACTION_NONE);
        CHECK_INTEQ(flow_machine_token_reply(&m, T0 + S(1), TOKEN_REPLY_DENIED, &when), FLOW_ACTION_NONE);
        CHECK_INTEQ(flow_machine_transport_error(&m, T0 + S(1), &when), FLOW_ACTION_NONE);
        CHECK_INTEQ(m.state, FLOW_STATE_WAITING);
        CHECK_INTEQ(m.interval, S(5));
        CHECK_INTEQ(m.n_failures, 0);
        CHECK_INTEQ(run_to_poll(&m, T0 + S(1)), T0 + S(5));
}

/* Reach each final state, then throw every input at it. */
TEST(finished_machine_ignores_input) {
        static const char *const names[] = { "approved", "denied", "expired", "failed", "cancelled" };

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                FlowMachine m, copy;
                uint64_t when = 0, p;
                FlowState want;
                bool ok = true;

                start(&m, S(60), S(5), false);
                p = run_to_poll(&m, T0);
                switch (i) {
                case 0:
                        (void) flow_machine_token_reply(&m, p, TOKEN_REPLY_TOKENS, &when);
                        flow_machine_finish(&m, FLOW_STATE_APPROVED);
                        want = FLOW_STATE_APPROVED;
                        break;
                case 1:
                        (void) flow_machine_token_reply(&m, p, TOKEN_REPLY_DENIED, &when);
                        want = FLOW_STATE_DENIED;
                        break;
                case 2:
                        (void) flow_machine_token_reply(&m, p, TOKEN_REPLY_EXPIRED, &when);
                        want = FLOW_STATE_EXPIRED;
                        break;
                case 3:
                        (void) flow_machine_token_reply(&m, p, TOKEN_REPLY_ERROR, &when);
                        want = FLOW_STATE_FAILED;
                        break;
                default:
                        flow_machine_finish(&m, FLOW_STATE_CANCELLED);
                        want = FLOW_STATE_CANCELLED;
                }
                ok = m.state == want;
                copy = m;
                for (TokenReplyKind k = 0; k < _TOKEN_REPLY_KIND_MAX; k++)
                        ok = ok && flow_machine_token_reply(&m, p + S(1), k, &when) == FLOW_ACTION_FINISHED;
                ok = ok && flow_machine_transport_error(&m, p + S(1), &when) == FLOW_ACTION_FINISHED &&
                     flow_machine_timer(&m, p + S(100), &when) == FLOW_ACTION_FINISHED &&
                     flow_machine_poll_now(&m, p + S(100), &when) == FLOW_ACTION_FINISHED &&
                     flow_machine_device_auth(&m, p + S(1), S(600), S(5)) == -EINVAL;
                for (FlowState s = FLOW_STATE_APPROVED; s < _FLOW_STATE_MAX; s++)
                        flow_machine_finish(&m, s);
                ok = ok && memcmp(&m, &copy, sizeof m) == 0;
                test_report("finished_ignores_input", names[i], ok);
                CHECK(ok);
        }
}

TEST(cancel_from_every_live_state) {
        static const FlowState from[] = { FLOW_STATE_AUTHORIZING, FLOW_STATE_WAITING, FLOW_STATE_POLLING };

        for (size_t i = 0; i < ELEMENTSOF(from); i++) {
                FlowMachine m;
                uint64_t when = 0;
                bool ok;

                flow_machine_init(&m, T0, T0 + S(600), false);
                if (from[i] != FLOW_STATE_AUTHORIZING)
                        (void) flow_machine_device_auth(&m, T0, S(600), S(5));
                if (from[i] == FLOW_STATE_POLLING)
                        (void) run_to_poll(&m, T0);
                ok = m.state == from[i];
                flow_machine_finish(&m, FLOW_STATE_CANCELLED);
                ok = ok && m.state == FLOW_STATE_CANCELLED && m.next_poll_at == NEVER &&
                     flow_machine_timer(&m, T0 + S(10), &when) == FLOW_ACTION_FINISHED;
                test_report("cancel_from", flow_state_to_string(from[i]), ok);
                CHECK(ok);
        }
}

TEST(device_auth_bounds) {
        static const struct {
                const char *name;
                uint64_t expires_in, interval;          /* µs, as the parser hands them over */
                int r;
                uint64_t expires_after, used_interval;  /* µs */
        } t[] = {
                { "typical",            S(900),      S(5),    0, S(900),  S(5)  },
                { "no-interval",        S(900),      0,       0, S(900),  FLOW_DEFAULT_INTERVAL_USEC },
                { "expires-zero",       0,           S(5),    -EINVAL },
                { "expires-tiny",       MS(500),     S(5),    0, FLOW_MIN_EXPIRES_USEC, S(5) },
                { "expires-at-max",     S(1800),     S(5),    0, S(1800), S(5)  },
                { "expires-10h",        S(36000),    S(5),    0, FLOW_MAX_EXPIRES_USEC, S(5) },
                { "expires-uint64-max", UINT64_MAX,  S(5),    0, FLOW_MAX_EXPIRES_USEC, S(5) },
                { "interval-tiny",      S(900),      MS(100), 0, S(900),  FLOW_MIN_INTERVAL_USEC },
                { "interval-1s",        S(900),      S(1),    0, S(900),  S(1)  },
                { "interval-1h",        S(900),      S(3600), 0, S(900),  FLOW_MAX_INTERVAL_USEC },
                { "interval-uint64-max", S(900),     UINT64_MAX, 0, S(900), FLOW_MAX_INTERVAL_USEC },
        };

        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                FlowMachine m;
                int r;
                bool ok;

                flow_machine_init(&m, T0, T0 + S(3600), false);
                r = flow_machine_device_auth(&m, T0, t[i].expires_in, t[i].interval);
                ok = r == t[i].r;
                if (r == 0)
                        ok = ok && m.state == FLOW_STATE_WAITING && m.expires_at == T0 + t[i].expires_after &&
                             m.interval == t[i].used_interval &&
                             /* only one device authorization per flow */
                             flow_machine_device_auth(&m, T0, S(900), S(5)) == -EINVAL &&
                             /* the first poll one interval later, unless the code expires first */
                             (t[i].used_interval < t[i].expires_after ?
                              run_to_poll(&m, T0) == T0 + t[i].used_interval :
                              run_to_poll(&m, T0) == NEVER && m.state == FLOW_STATE_EXPIRED && m.n_polls == 0);
                else
                        ok = ok && m.state == FLOW_STATE_AUTHORIZING;
                test_report("device_auth_bounds", t[i].name, ok);
                CHECK(ok);
        }
}

/* ---- a simulated login: a scripted IdP, reply latency, a user pressing Enter at odd times -------- */

typedef struct Sim {
        const char *name;
        bool on_demand;
        uint64_t expires_in, interval;
        const int *script;              /* replies in order; -1: transport error; ends with TOKENS */
        size_t n_script;
        const uint64_t *presses;        /* "poll now", µs after T0 */
        size_t n_presses;
        FlowState final;
        unsigned polls_min, polls_max;
} Sim;

static uint64_t lcg(uint64_t *s) {
        *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
        return *s >> 33;
}

static bool run_sim(const Sim *sim) {
        FlowMachine m;
        uint64_t now = T0, timer_at = NEVER, reply_at = NEVER, last_reply = T0, when = 0, seed = 42;
        size_t next_reply = 0, next_press = 0;
        bool ok = true;
        FlowAction a;

        flow_machine_init(&m, T0, T0 + S(3600), sim->on_demand);
        if (flow_machine_device_auth(&m, T0, sim->expires_in, sim->interval) < 0)
                return false;
        a = flow_machine_timer(&m, T0, &when);

        for (unsigned steps = 0; steps < 10000; steps++) {
                uint64_t press_at = next_press < sim->n_presses ? T0 + sim->presses[next_press] : NEVER;

                if (a == FLOW_ACTION_FINISHED || m.state == FLOW_STATE_VALIDATING)
                        break;
                if (a == FLOW_ACTION_ARM_TIMER) {
                        if (when < now) {
                                fprintf(stderr, "  %s: timer armed in the past\n", sim->name);
                                return false;
                        }
                        timer_at = when;
                } else if (a == FLOW_ACTION_POLL) {
                        uint64_t wait = m.backoff > m.interval ? m.backoff : m.interval;

                        /* never sooner than the interval (or backoff) after the previous reply */
                        if (now < last_reply + wait) {
                                fprintf(stderr, "  %s: poll %u at +%" PRIu64 " µs, %" PRIu64 " µs after a reply, "
                                        "interval %" PRIu64 "\n", sim->name, m.n_polls,
                                        now - T0, now - last_reply, wait);
                                ok = false;
                        }
                        /* and in the background mode, exactly at it: no time lost (fake clock) */
                        if (!sim->on_demand && now != last_reply + wait) {
                                fprintf(stderr, "  %s: poll %u late by %" PRIu64 " µs\n", sim->name, m.n_polls,
                                        now - last_reply - wait);
                                ok = false;
                        }
                        reply_at = now + MS(50 + lcg(&seed) % 900);
                        timer_at = NEVER;
                }
                a = FLOW_ACTION_NONE;

                if (reply_at <= timer_at && reply_at <= press_at && reply_at != NEVER) {
                        int k = next_reply < sim->n_script ? sim->script[next_reply] : TOKEN_REPLY_PENDING;

                        now = reply_at;
                        reply_at = NEVER;
                        next_reply++;
                        last_reply = now;
                        a = k < 0 ? flow_machine_transport_error(&m, now, &when) :
                                    flow_machine_token_reply(&m, now, (TokenReplyKind) k, &when);
                } else if (press_at <= timer_at && press_at != NEVER) {
                        now = press_at > now ? press_at : now;
                        next_press++;
                        a = flow_machine_poll_now(&m, now, &when);
                } else if (timer_at != NEVER) {
                        now = timer_at;
                        timer_at = NEVER;
                        a = flow_machine_timer(&m, now, &when);
                } else {
                        fprintf(stderr, "  %s: nothing left to wait for in state %s\n", sim->name,
                                flow_state_to_string(m.state));
                        return false;
                }
        }
        if (m.state != sim->final || m.n_polls < sim->polls_min || m.n_polls > sim->polls_max) {
                fprintf(stderr, "  %s: ended %s after %u polls, expected %s after %u-%u\n", sim->name,
                        flow_state_to_string(m.state), m.n_polls, flow_state_to_string(sim->final), sim->polls_min,
                        sim->polls_max);
                ok = false;
        }
        return ok;
}

#define P TOKEN_REPLY_PENDING
#define SD TOKEN_REPLY_SLOW_DOWN
#define TOK TOKEN_REPLY_TOKENS
#define SE TOKEN_REPLY_SERVER_ERROR
#define TE (-1)

static const int script_approve[] = { P, P, P, P, TOK };
static const int script_slow[] = { P, SD, P, SD, SD, P, TOK };
static const int script_flaky[] = { P, TE, SE, TE, P, TOKEN_REPLY_MALFORMED, P, TOK };
static const int script_denied[] = { P, P, TOKEN_REPLY_DENIED };
static const int script_down[] = { TE, TE, TE, TE, TE, TE, TE, TE, TE, TE, TE, TE };
static const int script_forever[] = { P };
/* presses at 20, 45, 46 and 90 s: the one at 46 s comes within the interval after the 45 s poll's reply and
 * is served at reply + 5 s; the press at 90 s then finds the tokens */
static const int script_demand[] = { P, P, P, TOK };
static const uint64_t presses_early[] = { S(1), S(2), MS(7500), S(8), MS(8100), S(30), S(31) };
static const uint64_t presses_user[] = { S(20), S(45), S(46), S(90) };

TEST(simulated_logins) {
        static const Sim sims[] = {
                { "approve-background", false, S(600), S(5), script_approve, ELEMENTSOF(script_approve), NULL, 0,
                  FLOW_STATE_VALIDATING, 5, 5 },
                { "approve-with-early-presses", false, S(600), S(5), script_approve, ELEMENTSOF(script_approve),
                  presses_early, ELEMENTSOF(presses_early), FLOW_STATE_VALIDATING, 5, 5 },
                { "slow-down-background", false, S(600), S(5), script_slow, ELEMENTSOF(script_slow), NULL, 0,
                  FLOW_STATE_VALIDATING, 7, 7 },
                { "flaky-idp", false, S(600), S(5), script_flaky, ELEMENTSOF(script_flaky), presses_early,
                  ELEMENTSOF(presses_early), FLOW_STATE_VALIDATING, 8, 8 },
                { "denied", false, S(600), S(2), script_denied, ELEMENTSOF(script_denied), NULL, 0,
                  FLOW_STATE_DENIED, 3, 3 },
                { "idp-down", false, S(1800), S(5), script_down, ELEMENTSOF(script_down), NULL, 0,
                  FLOW_STATE_FAILED, FLOW_MAX_FAILURES, FLOW_MAX_FAILURES },
                /* pending until the code expires at 60 s: one poll per 5 s + latency (50–950 ms), 10 or 11 */
                { "never-approved", false, S(60), S(5), script_forever, ELEMENTSOF(script_forever), NULL, 0,
                  FLOW_STATE_EXPIRED, 10, 11 },
                { "on-demand-approve", true, S(600), S(5), script_demand, ELEMENTSOF(script_demand), presses_user,
                  ELEMENTSOF(presses_user), FLOW_STATE_VALIDATING, 4, 4 },
                { "on-demand-no-press", true, S(60), S(5), script_approve, ELEMENTSOF(script_approve), NULL, 0,
                  FLOW_STATE_EXPIRED, 0, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(sims); i++) {
                bool ok = run_sim(&sims[i]);

                test_report("simulated_login", sims[i].name, ok);
                CHECK(ok);
        }
}

int main(void) {
        return run_tests();
}
