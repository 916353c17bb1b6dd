/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <assert.h>
#include <errno.h>
#include <stdlib.h>

#include "macro.h"
#include "time-util.h"
#include "timer-queue.h"

/* Entries fired in one wake-up at most; the rest fire in the next loop iteration, after the events that are
 * pending already. A backlog (a loaded machine) then drains in small bursts between the replies instead of one
 * burst of hundreds of requests, more than curl has connections for: its queue of transfers waiting for a
 * connection costs it time linear in its length at every transfer's end, and the backlog would grow. */
#define MAX_PER_WAKEUP 16U

/* Each deadline is kept in the array next to its entry: a sift compares without reaching into the owners,
 * which lie all over memory (a cache miss each, 13 levels deep with 10,000 flows). */
typedef struct Slot {
        uint64_t when;
        TimerQueueEntry *entry;
} Slot;

struct TimerQueue {
        sd_event_source *timer;
        uint64_t armed_for;             /* what the timer is set to; USEC_INFINITY: off */
        bool running;                   /* in timer_queue_run(): the timer is set once, at its end */
        Slot *heap;
        size_t n, n_allocated;
};

static void place(TimerQueue *q, size_t i, Slot s) {
        q->heap[i] = s;
        s.entry->idx = i + 1;
}

static void sift_up(TimerQueue *q, size_t i) {
        Slot s = q->heap[i];

        while (i > 0) {
                size_t parent = (i - 1) / 2;
                if (s.when >= q->heap[parent].when)
                        break;
                place(q, i, q->heap[parent]);
                i = parent;
        }
        place(q, i, s);
}

static void sift_down(TimerQueue *q, size_t i) {
        Slot s = q->heap[i];

        for (;;) {
                size_t c = 2 * i + 1;
                if (c >= q->n)
                        break;
                if (c + 1 < q->n && q->heap[c + 1].when < q->heap[c].when)
                        c++;
                if (q->heap[c].when >= s.when)
                        break;
                place(q, i, q->heap[c]);
                i = c;
        }
        place(q, i, s);
}

/* The one sd-event timer follows the earliest deadline. */
static int sync_timer(TimerQueue *q) {
        uint64_t when = q->n > 0 ? q->heap[0].when : USEC_INFINITY;
        int r;

        if (q->running || when == q->armed_for)
                return 0;
        if (when == USEC_INFINITY) {
                r = sd_event_source_set_enabled(q->timer, SD_EVENT_OFF);
                if (r < 0)
                        return r;
        } else {
                r = sd_event_source_set_time(q->timer, when);
                if (r < 0)
                        return r;
                r = sd_event_source_set_enabled(q->timer, SD_EVENT_ONESHOT);
                if (r < 0)
                        return r;
        }
        q->armed_for = when;
        return 0;
}

static void heap_remove(TimerQueue *q, TimerQueueEntry *e) {
        size_t i = e->idx - 1;
        Slot last;

        assert(i < q->n && q->heap[i].entry == e);
        e->idx = 0;
        last = q->heap[--q->n];
        if (i == q->n)
                return;
        place(q, i, last);
        if (i > 0 && last.when < q->heap[(i - 1) / 2].when)
                sift_up(q, i);
        else
                sift_down(q, i);
}

int timer_queue_add(TimerQueue *q, TimerQueueEntry *e, uint64_t when) {
        int r;

        assert(e->callback);
        if (timer_queue_entry_queued(e)) {
                size_t i = e->idx - 1;
                uint64_t old = e->when;

                e->when = q->heap[i].when = when;
                if (when < old)
                        sift_up(q, i);
                else
                        sift_down(q, i);
        } else {
                if (q->n >= q->n_allocated) {
                        size_t n = MAX(q->n_allocated * 2, 64U);
                        Slot *h = reallocarray(q->heap, n, sizeof *h);
                        if (!h)
                                return -ENOMEM;
                        q->heap = h;
                        q->n_allocated = n;
                }
                e->when = when;
                place(q, q->n++, (Slot) { when, e });
                sift_up(q, q->n - 1);
        }

        r = sync_timer(q);
        if (r < 0) {
                heap_remove(q, e);
                (void) sync_timer(q);
                return r;
        }
        return 0;
}

void timer_queue_remove(TimerQueue *q, TimerQueueEntry *e) {
        if (!q || !timer_queue_entry_queued(e))
                return;
        heap_remove(q, e);
        /* Should the timer stay set, it only wakes up the loop once for nothing. */
        (void) sync_timer(q);
}

uint64_t timer_queue_next(const TimerQueue *q) {
        return q->n > 0 ? q->heap[0].when : USEC_INFINITY;
}

size_t timer_queue_size(const TimerQueue *q) {
        return q->n;
}

size_t timer_queue_run(TimerQueue *q, uint64_t now, size_t max) {
        size_t fired = 0;

        q->running = true;
        while (fired < max && q->n > 0 && q->heap[0].when <= now) {
                TimerQueueEntry *e = q->heap[0].entry;

                heap_remove(q, e);
                fired++;
                e->callback(e, e->userdata);
        }
        q->running = false;
        /* Due entries left over (max reached) set the timer in the past: the next iteration fires them. */
        (void) sync_timer(q);
        return fired;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        TimerQueue *q = userdata;

        q->armed_for = USEC_INFINITY;   /* a oneshot timer that fired is off */
        /* A fresh clock, not usec (the loop's time): an entry never fires before its deadline. */
        (void) timer_queue_run(q, now_usec(CLOCK_MONOTONIC), MAX_PER_WAKEUP);
        return 0;
}

int timer_queue_new(sd_event *event, uint64_t accuracy, TimerQueue **ret) {
        TimerQueue *q;
        int r;

        q = calloc(1, sizeof *q);
        if (!q)
                return -ENOMEM;
        q->armed_for = USEC_INFINITY;
        r = sd_event_add_time(event, &q->timer, CLOCK_MONOTONIC, USEC_INFINITY, accuracy, on_timer, q);
        if (r >= 0)
                r = sd_event_source_set_enabled(q->timer, SD_EVENT_OFF);
        if (r < 0) {
                timer_queue_free(q);
                return r;
        }
        (void) sd_event_source_set_description(q->timer, "timer-queue");
        *ret = q;
        return 0;
}

TimerQueue *timer_queue_free(TimerQueue *q) {
        if (!q)
                return NULL;
        assert(q->n == 0);
        sd_event_source_disable_unref(q->timer);
        free(q->heap);
        free(q);
        return NULL;
}
