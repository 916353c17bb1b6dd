/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* devflowd/timer-queue.c: the heap driven with a fake clock (timer_queue_run), then its one sd-event timer. */

#include <stdint.h>

#include "macro.h"
#include "test.h"
#include "time-util.h"
#include "timer-queue.h"

#define MS(x) ((uint64_t) (x) * USEC_PER_MSEC)

typedef struct Owner {
        TimerQueueEntry timer;
        TimerQueue *q;
        unsigned fired;
        uint64_t fired_at;              /* the fake clock when it fired */
        uint64_t again;                 /* > 0: add itself again this much later */
        struct Owner *remove;           /* removes this one when it fires */
} Owner;

static uint64_t fake_now;
static uint64_t order[1024];
static size_t n_order;

static void on_fire(TimerQueueEntry *e, void *userdata) {
        Owner *o = userdata;

        CHECK(e == &o->timer);
        CHECK(!timer_queue_entry_queued(e));
        CHECK(e->when <= fake_now);
        o->fired++;
        o->fired_at = fake_now;
        if (n_order < ELEMENTSOF(order))
                order[n_order++] = e->when;
        if (o->remove)
                timer_queue_remove(o->q, &o->remove->timer);
        if (o->again > 0)
                CHECK_INTEQ(timer_queue_add(o->q, e, fake_now + o->again), 0);
}

static void owner_init(Owner *o, TimerQueue *q) {
        *o = (Owner) { .q = q };
        o->timer = (TimerQueueEntry) { .callback = on_fire, .userdata = o };
}

/* A loop that is never run: timer_queue_run() is called by hand with the fake clock. */
static TimerQueue *new_queue(sd_event **ret_event) {
        TimerQueue *q = NULL;

        CHECK(sd_event_new(ret_event) >= 0);
        CHECK_INTEQ(timer_queue_new(*ret_event, /* accuracy= */ 1, &q), 0);
        n_order = 0;
        return q;
}

TEST(fires_in_order_never_early) {
        /* Deadlines in a scrambled order, some equal; each fires once, earliest first, only once due. */
        static const unsigned at[] = { 50, 10, 40, 10, 30, 20, 90, 60, 70, 80, 5, 45, 45, 1, 100 };
        Owner o[ELEMENTSOF(at)];
        sd_event *e = NULL;
        TimerQueue *q = new_queue(&e);

        for (size_t i = 0; i < ELEMENTSOF(at); i++) {
                owner_init(&o[i], q);
                CHECK_INTEQ(timer_queue_add(q, &o[i].timer, MS(at[i])), 0);
                CHECK(timer_queue_entry_queued(&o[i].timer));
        }
        CHECK_INTEQ(timer_queue_size(q), ELEMENTSOF(at));
        CHECK_INTEQ(timer_queue_next(q), MS(1));

        fake_now = MS(0);
        CHECK_INTEQ(timer_queue_run(q, fake_now, SIZE_MAX), 0);
        for (fake_now = MS(1); fake_now <= MS(100); fake_now += MS(1))
                (void) timer_queue_run(q, fake_now, SIZE_MAX);

        CHECK_INTEQ(n_order, ELEMENTSOF(at));
        for (size_t i = 1; i < n_order; i++)
                CHECK(order[i - 1] <= order[i]);
        for (size_t i = 0; i < ELEMENTSOF(at); i++) {
                CHECK_INTEQ(o[i].fired, 1);
                CHECK_INTEQ(o[i].fired_at, MS(at[i]));  /* run each ms: fired in the ms it was due */
        }
        CHECK_INTEQ(timer_queue_size(q), 0);
        CHECK_INTEQ(timer_queue_next(q), USEC_INFINITY);

        timer_queue_free(q);
        sd_event_unref(e);
}

TEST(move_and_remove) {
        Owner a, b, c;
        sd_event *e = NULL;
        TimerQueue *q = new_queue(&e);

        owner_init(&a, q);
        owner_init(&b, q);
        owner_init(&c, q);
        CHECK_INTEQ(timer_queue_add(q, &a.timer, MS(10)), 0);
        CHECK_INTEQ(timer_queue_add(q, &b.timer, MS(20)), 0);
        CHECK_INTEQ(timer_queue_add(q, &c.timer, MS(30)), 0);

        /* Moved later, moved earlier, added twice: still one entry each. */
        CHECK_INTEQ(timer_queue_add(q, &a.timer, MS(40)), 0);
        CHECK_INTEQ(timer_queue_next(q), MS(20));
        CHECK_INTEQ(timer_queue_add(q, &c.timer, MS(5)), 0);
        CHECK_INTEQ(timer_queue_next(q), MS(5));
        CHECK_INTEQ(timer_queue_add(q, &c.timer, MS(5)), 0);
        CHECK_INTEQ(timer_queue_size(q), 3);

        /* Removed: never fires; removed twice or never queued: nothing. */
        timer_queue_remove(q, &b.timer);
        timer_queue_remove(q, &b.timer);
        CHECK(!timer_queue_entry_queued(&b.timer));
        CHECK_INTEQ(timer_queue_size(q), 2);
        timer_queue_remove(NULL, &b.timer);

        fake_now = MS(100);
        CHECK_INTEQ(timer_queue_run(q, fake_now, SIZE_MAX), 2);
        CHECK_INTEQ(a.fired, 1);
        CHECK_INTEQ(b.fired, 0);
        CHECK_INTEQ(c.fired, 1);
        CHECK_INTEQ(n_order, 2);
        CHECK_INTEQ(order[0], MS(5));
        CHECK_INTEQ(order[1], MS(40));

        timer_queue_free(q);
        sd_event_unref(e);
}

TEST(callbacks_add_and_remove) {
        Owner a, b, c;
        sd_event *e = NULL;
        TimerQueue *q = new_queue(&e);

        owner_init(&a, q);
        owner_init(&b, q);
        owner_init(&c, q);
        a.again = MS(10);               /* re-adds itself: fires again only when due again */
        a.remove = &b;                  /* and removes b, due at the same time */
        CHECK_INTEQ(timer_queue_add(q, &a.timer, MS(10)), 0);
        CHECK_INTEQ(timer_queue_add(q, &b.timer, MS(11)), 0);
        CHECK_INTEQ(timer_queue_add(q, &c.timer, MS(12)), 0);

        fake_now = MS(15);
        CHECK_INTEQ(timer_queue_run(q, fake_now, SIZE_MAX), 2);
        CHECK_INTEQ(a.fired, 1);
        CHECK_INTEQ(b.fired, 0);
        CHECK_INTEQ(c.fired, 1);
        CHECK_INTEQ(timer_queue_next(q), MS(25));

        /* max bounds one run; the rest stays due for the next. */
        a.again = 0;
        a.remove = NULL;
        owner_init(&b, q);
        CHECK_INTEQ(timer_queue_add(q, &b.timer, MS(26)), 0);
        fake_now = MS(30);
        CHECK_INTEQ(timer_queue_run(q, fake_now, 1), 1);
        CHECK_INTEQ(a.fired, 2);
        CHECK_INTEQ(timer_queue_next(q), MS(26));
        CHECK_INTEQ(timer_queue_run(q, fake_now, 1), 1);
        CHECK_INTEQ(b.fired, 1);
        CHECK_INTEQ(timer_queue_size(q), 0);

        timer_queue_free(q);
        sd_event_unref(e);
}

TEST(many) {
        /* A pseudo-random churn of adds, moves and removes over 1,000 entries keeps the heap's order. */
        enum { N = 1000 };
        static Owner o[N];
        sd_event *e = NULL;
        TimerQueue *q = new_queue(&e);
        uint32_t x = 12345;
        uint64_t last = 0;
        size_t fired = 0, queued = 0;

        for (size_t i = 0; i < N; i++)
                owner_init(&o[i], q);
        for (unsigned round = 0; round < 20000; round++) {
                Owner *p;

                x = x * 1103515245 + 12345;
                p = &o[(x >> 8) % N];
                if ((x >> 4) % 4 == 0)
                        timer_queue_remove(q, &p->timer);
                else
                        CHECK_INTEQ(timer_queue_add(q, &p->timer, MS(1000) + (x >> 12) % MS(5000)), 0);
        }
        for (size_t i = 0; i < N; i++)
                queued += timer_queue_entry_queued(&o[i].timer);
        CHECK_INTEQ(timer_queue_size(q), queued);

        fake_now = MS(10000);
        CHECK_INTEQ(timer_queue_run(q, fake_now, SIZE_MAX), queued);
        for (size_t i = 0; i < n_order; i++) {
                CHECK(order[i] >= last);
                last = order[i];
        }
        for (size_t i = 0; i < N; i++)
                fired += o[i].fired;
        CHECK_INTEQ(fired, queued);

        timer_queue_free(q);
        sd_event_unref(e);
}

/* The real loop: the one sd-event timer fires each entry at or after its deadline, read from a fresh clock. */
static void on_real(TimerQueueEntry *e, void *userdata) {
        Owner *o = userdata;

        o->fired++;
        o->fired_at = now_usec(CLOCK_MONOTONIC);
        CHECK(o->fired_at >= e->when);
}

TEST(event_loop) {
        sd_event *e = NULL;
        TimerQueue *q = NULL;
        Owner o[3];
        uint64_t start;

        CHECK(sd_event_new(&e) >= 0);
        CHECK_INTEQ(timer_queue_new(e, /* accuracy= */ USEC_PER_MSEC, &q), 0);
        start = now_usec(CLOCK_MONOTONIC);
        for (size_t i = 0; i < ELEMENTSOF(o); i++) {
                owner_init(&o[i], q);
                o[i].timer.callback = on_real;
                CHECK_INTEQ(timer_queue_add(q, &o[i].timer, start + MS(20) * (3 - i)), 0);
        }
        timer_queue_remove(q, &o[1].timer);

        while (timer_queue_size(q) > 0 && now_usec(CLOCK_MONOTONIC) < start + 5 * USEC_PER_SEC)
                CHECK(sd_event_run(e, 100 * USEC_PER_MSEC) >= 0);
        CHECK_INTEQ(o[0].fired, 1);
        CHECK_INTEQ(o[1].fired, 0);
        CHECK_INTEQ(o[2].fired, 1);
        CHECK(o[2].fired_at < o[0].fired_at);
        CHECK(o[0].fired_at >= start + MS(60));

        /* Nothing queued: the loop sleeps its whole timeout. */
        CHECK_INTEQ(sd_event_run(e, 10 * USEC_PER_MSEC), 0);

        timer_queue_free(q);
        sd_event_unref(e);
}

int main(void) {
        return run_tests();
}
