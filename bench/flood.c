/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* flood: many StartLogin calls over ONE bus connection, pipelined (asynchronous calls, up to
 * --concurrency outstanding). The connection keeps the flows alive: devflowd cancels a caller's flows
 * when it disconnects.
 *
 *   flood --user U [--count N] [--concurrency C] [--cancel-after SEC] [--stop-at-limit] [--hold]
 *         [--max-seconds S] [--rhost A] [--poll background|on-demand]
 *
 *   --cancel-after SEC   Cancel() each flow SEC seconds after its StartLogin answered (0: at once);
 *                        without it the flows stay pending.
 *   --stop-at-limit      stop starting flows at the first TooManyFlows/RateLimited answer
 *   --hold               once done, print "ready" and keep the connection (and the flows) until SIGTERM
 *   --max-seconds S      stop starting new flows after S seconds
 *
 * Prints "key value" lines: started, failed, error NAME COUNT, cancelled, elapsed_s, rate_per_s (flows
 * started per second, up to the first limit answer when there was one), limit_after (flows started
 * before the first limit answer, or -1). */

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>
#include <time.h>

#include "devflow-bus.h"
#include "devflow-client.h"
#include "macro.h"
#include "time-util.h"

#define MAX_ERROR_NAMES 16

static const char *arg_user, *arg_rhost = "198.51.100.1", *arg_poll = "background";
static unsigned long arg_count = 1000, arg_concurrency = 64;
static double arg_cancel_after = -1, arg_max_seconds = 0;
static bool arg_stop_at_limit, arg_hold;

typedef struct Pending {        /* a flow to cancel later */
        char *path;
        uint64_t due;
} Pending;

static sd_bus *bus;
static sd_event *event;
static unsigned long issued, answered, started, failed, cancelled, cancels_outstanding, limit_after;
static bool limit_seen, stopped;
static uint64_t t_start, t_limit, t_last_start;
static struct { char *name; unsigned long n; } errors[MAX_ERROR_NAMES];
static Pending *queue;
static size_t q_head, q_tail, q_cap;
static sd_event_source *cancel_timer;

static void count_error(const char *name) {
        for (size_t i = 0; i < MAX_ERROR_NAMES; i++) {
                if (!errors[i].name) {
                        errors[i].name = strdup(name);
                        errors[i].n = 1;
                        return;
                }
                if (strcmp(errors[i].name, name) == 0) {
                        errors[i].n++;
                        return;
                }
        }
}

static void issue_more(void);
static void maybe_done(void);

static int on_cancel_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        cancels_outstanding--;
        r = devflow_reply_read_empty(m, &e);
        if (r < 0)
                count_error(e.name ?: "parse");
        else
                cancelled++;
        issue_more();
        maybe_done();
        return 0;
}

static int cancel_flow(const char *path) {
        int r;

        r = devflow_cancel_async(bus, NULL, path, /* timeout_usec= */ 0, on_cancel_reply, NULL);
        if (r < 0) {
                fprintf(stderr, "flood: Cancel(): %s\n", strerror(-r));
                return r;
        }
        cancels_outstanding++;
        return 0;
}

static int queue_push(const char *path, uint64_t due) {
        if (q_tail == q_cap) {
                size_t cap = q_cap ? q_cap * 2 : 1024;
                Pending *n = realloc(queue, cap * sizeof *n);
                if (!n)
                        return -ENOMEM;
                queue = n;
                q_cap = cap;
        }
        queue[q_tail].path = strdup(path);
        if (!queue[q_tail].path)
                return -ENOMEM;
        queue[q_tail++].due = due;
        return 0;
}

static int on_cancel_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        uint64_t n = now_usec(CLOCK_MONOTONIC);

        while (q_head < q_tail && queue[q_head].due <= n) {
                (void) cancel_flow(queue[q_head].path);
                free(queue[q_head].path);
                q_head++;
        }
        maybe_done();
        if (q_head < q_tail) {
                (void) sd_event_source_set_time_relative(s, 10000);
                (void) sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        }
        return 0;
}

static int on_start_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(devflow_login_done) DevflowLogin login = {};
        int r;

        answered++;
        r = devflow_start_login_reply_read(m, &e, &login);
        if (r < 0) {
                failed++;
                count_error(e.name ?: "parse");
                if (!limit_seen && sd_bus_error_has_names(&e, DEVFLOW_ERROR_TOO_MANY_FLOWS,
                                                          DEVFLOW_ERROR_RATE_LIMITED)) {
                        limit_seen = true;
                        t_limit = now_usec(CLOCK_MONOTONIC);
                        limit_after = started;
                        if (arg_stop_at_limit)
                                stopped = true;
                }
        } else {
                started++;
                t_last_start = now_usec(CLOCK_MONOTONIC);
                if (arg_cancel_after == 0)
                        (void) cancel_flow(login.flow_path);
                else if (arg_cancel_after > 0) {
                        if (queue_push(login.flow_path, now_usec(CLOCK_MONOTONIC) + (uint64_t) (arg_cancel_after * 1e6)) >= 0 &&
                            sd_event_source_get_enabled(cancel_timer, NULL) == 0) {
                                (void) sd_event_source_set_time_relative(cancel_timer, 10000);
                                (void) sd_event_source_set_enabled(cancel_timer, SD_EVENT_ONESHOT);
                        }
                }
        }
        issue_more();
        maybe_done();
        return 0;
}

static int start_one(void) {
        int r;

        r = devflow_start_login_async(bus, NULL, arg_user,
                                      &(DevflowLoginContext) {
                                              .rhost = arg_rhost,
                                              .service = "flood",
                                              .poll = arg_poll,
                                      }, 120 * USEC_PER_SEC, on_start_reply, NULL);
        if (r < 0)
                return r;
        issued++;
        return 0;
}

static void issue_more(void) {
        while (!stopped && issued < arg_count && issued - answered + cancels_outstanding < arg_concurrency) {
                if (arg_max_seconds > 0 && now_usec(CLOCK_MONOTONIC) - t_start > (uint64_t) (arg_max_seconds * 1e6)) {
                        stopped = true;
                        break;
                }
                if (start_one() < 0) {
                        fprintf(stderr, "flood: cannot send StartLogin\n");
                        stopped = true;
                        break;
                }
        }
}

static bool done_reported;

static void report(void) {
        uint64_t end = limit_seen ? t_limit : t_last_start;
        double elapsed = (double) (now_usec(CLOCK_MONOTONIC) - t_start) / 1e6;
        double span = end > t_start ? (double) (end - t_start) / 1e6 : 0;
        unsigned long n = limit_seen ? limit_after : started;

        printf("started %lu\nfailed %lu\ncancelled %lu\nelapsed_s %.3f\nrate_per_s %.1f\nlimit_after %ld\n",
               started, failed, cancelled, elapsed, span > 0 ? (double) n / span : 0.0,
               limit_seen ? (long) limit_after : -1L);
        for (size_t i = 0; i < MAX_ERROR_NAMES && errors[i].name; i++)
                printf("error %s %lu\n", errors[i].name, errors[i].n);
        fflush(stdout);
}

static void maybe_done(void) {
        if (done_reported)
                return;
        if ((issued < arg_count && !stopped) || answered < issued || cancels_outstanding > 0 || q_head < q_tail)
                return;
        done_reported = true;
        report();
        if (arg_hold) {
                printf("ready\n");
                fflush(stdout);
                return;
        }
        (void) sd_event_exit(event, 0);
}

static int usage(void) {
        fprintf(stderr, "usage: flood --user U [--count N] [--concurrency C] [--cancel-after SEC] [--stop-at-limit]\n"
                        "             [--hold] [--max-seconds S] [--rhost A] [--poll background|on-demand]\n");
        return 2;
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "user",          required_argument, NULL, 'u' },
                { "count",         required_argument, NULL, 'n' },
                { "concurrency",   required_argument, NULL, 'c' },
                { "cancel-after",  required_argument, NULL, 'x' },
                { "stop-at-limit", no_argument,       NULL, 'l' },
                { "hold",          no_argument,       NULL, 'H' },
                { "max-seconds",   required_argument, NULL, 'm' },
                { "rhost",         required_argument, NULL, 'r' },
                { "poll",          required_argument, NULL, 'p' },
                {}
        };
        sigset_t ss;
        int c, r;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 'u': arg_user = optarg; break;
                case 'n': arg_count = strtoul(optarg, NULL, 10); break;
                case 'c': arg_concurrency = strtoul(optarg, NULL, 10); break;
                case 'x': arg_cancel_after = strtod(optarg, NULL); break;
                case 'l': arg_stop_at_limit = true; break;
                case 'H': arg_hold = true; break;
                case 'm': arg_max_seconds = strtod(optarg, NULL); break;
                case 'r': arg_rhost = optarg; break;
                case 'p': arg_poll = optarg; break;
                default: return usage();
                }
        if (!arg_user || arg_concurrency == 0)
                return usage();

        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGINT);
        sigprocmask(SIG_BLOCK, &ss, NULL);

        r = sd_event_default(&event);
        if (r >= 0)
                r = sd_bus_open_system(&bus);
        if (r >= 0)
                r = sd_bus_attach_event(bus, event, 0);
        if (r >= 0)
                r = sd_event_add_signal(event, NULL, SIGTERM, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_signal(event, NULL, SIGINT, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_time_relative(event, &cancel_timer, CLOCK_MONOTONIC, 10000, 1000, on_cancel_timer, NULL);
        if (r >= 0)
                r = sd_event_source_set_enabled(cancel_timer, SD_EVENT_OFF);
        if (r < 0) {
                fprintf(stderr, "flood: setup: %s\n", strerror(-r));
                return 1;
        }

        t_start = now_usec(CLOCK_MONOTONIC);
        issue_more();
        maybe_done();
        r = sd_event_loop(event);
        if (!done_reported)
                report();

        sd_event_source_unref(cancel_timer);
        sd_bus_flush_close_unref(bus);
        sd_event_unref(event);
        for (size_t i = 0; i < MAX_ERROR_NAMES && errors[i].name; i++)
                free(errors[i].name);
        while (q_head < q_tail)
                free(queue[q_head++].path);
        free(queue);
        return r < 0 ? 1 : 0;
}
