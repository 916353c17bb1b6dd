/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

/* Many deadlines (CLOCK_MONOTONIC µs) behind one sd-event timer: a binary min-heap of entries that their
 * owners embed. Ten thousand flows then cost the loop one time source, not ten thousand, and the kernel
 * one timerfd re-arm per wake-up, not one per deadline. An entry fires once, never before its time (the
 * time is checked against a fresh clock), then is out of the queue until it is added again. */

typedef struct TimerQueue TimerQueue;
typedef struct TimerQueueEntry TimerQueueEntry;

typedef void (*TimerQueueCallback)(TimerQueueEntry *e, void *userdata);

/* Embedded in its owner, zero-initialised; set callback and userdata before the first add. */
struct TimerQueueEntry {
        uint64_t when;
        size_t idx;                     /* 1 + its place in the heap; 0: not queued */
        TimerQueueCallback callback;
        void *userdata;
};

/* accuracy: how late sd-event may wake up, so that deadlines close together fire in one wake-up. */
int timer_queue_new(sd_event *event, uint64_t accuracy, TimerQueue **ret);
/* The entries must be removed already (their owners are gone). */
TimerQueue *timer_queue_free(TimerQueue *q);

/* Queues e for when, or moves it there if it is queued. -ENOMEM, or sd-event's error when the timer could not
 * be armed (e is then not queued). */
int timer_queue_add(TimerQueue *q, TimerQueueEntry *e, uint64_t when);
/* Takes e out of the queue; nothing when it is not queued. */
void timer_queue_remove(TimerQueue *q, TimerQueueEntry *e);

static inline bool timer_queue_entry_queued(const TimerQueueEntry *e) {
        return e->idx > 0;
}

/* The earliest deadline, UINT64_MAX when none. */
uint64_t timer_queue_next(const TimerQueue *q);
size_t timer_queue_size(const TimerQueue *q);

/* Fires, earliest first, up to max entries due at now: what the sd-event timer does with a fresh clock
 * (exported for the tests' fake clock). Each is taken out before its callback, which may add it or any other
 * entry again, or remove any. Returns how many fired. */
size_t timer_queue_run(TimerQueue *q, uint64_t now, size_t max);
