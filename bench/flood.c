/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* flood: many StartLogin calls over ONE bus connection, pipelined (asynchronous calls, up to
 * --concurrency outstanding). The connection keeps the flows alive: devflowd cancels a caller's flows
 * when it disconnects.
 *
 *   flood --user U [--count N] [--concurrency C] [--rate R] [--cancel-after SEC] [--stop-at-limit] [--hold]
 *         [--max-seconds S] [--rhost A] [--poll background|on-demand]
 *
 *   --cancel-after SEC   Cancel() each flow SEC seconds after its StartLogin answered (0: at once);
 *                        without it the flows stay pending.
 *   --stop-at-limit      stop starting flows at the first TooManyFlows/RateLimited answer
 *   --hold               once done, print "ready" and keep the connection (and the flows) until SIGTERM
 *   --max-seconds S      stop starting new flows after S seconds
 *   --rate R             send at most R StartLogin calls per second (steady arrivals instead of as many
 *                        as --concurrency allows)
 *
 * Every StartLogin call has the module's timeout (DEVFLOW_CALL_TIMEOUT_USEC): a call the daemon does not
 * answer in time counts as the error org.freedesktop.DBus.Error.NoReply (or .Timeout), as for the module.
 *
 * Prints "key value" lines: started, failed, error NAME COUNT (StartLogin's answers), cancel_error NAME
 * COUNT (Cancel()'s), cancelled, elapsed_s, rate_per_s (flows started per second, up to the first limit
 * answer when there was one), limit_after (flows started before the first limit answer, or -1), and the
 * time from sending a StartLogin call to its answer, whatever the answer (answer_p50_ms, answer_p99_ms,
 * answer_max_ms). */

#include <errno.h>
#include <getopt.h>
#include <limits.h>
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
static double arg_cancel_after = -1, arg_max_seconds = 0, arg_rate = 0;
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
typedef struct ErrorCount {
        char *name;
        unsigned long n;
} ErrorCount;
static ErrorCount errors[MAX_ERROR_NAMES], cancel_errors[MAX_ERROR_NAMES];     /* StartLogin's, Cancel()'s */
static Pending *queue;
static size_t q_head, q_tail, q_cap;
static sd_event_source *cancel_timer, *rate_timer;
static uint64_t *sent_at;               /* by call number: when each StartLogin was sent */
static double *answer_ms;               /* every answer's time, in the order they came */
static size_t sent_cap, n_answers;

static void count_error(ErrorCount *table, const char *name) {
        for (size_t i = 0; i < MAX_ERROR_NAMES; i++) {
                if (!table[i].name) {
                        table[i].name = strdup(name);
                        table[i].n = 1;
                        return;
                }
                if (strcmp(table[i].name, name) == 0) {
                        table[i].n++;
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
                count_error(cancel_errors, e.name ?: "parse");
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
        answer_ms[n_answers++] =
                (double) (now_usec(CLOCK_MONOTONIC) - sent_at[(uintptr_t) userdata]) / 1000.0;
        r = devflow_start_login_reply_read(m, &e, &login);
        if (r < 0) {
                failed++;
                count_error(errors, e.name ?: "parse");
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

        if (issued == sent_cap) {
                size_t cap = sent_cap ? sent_cap * 2 : 4096;
                uint64_t *s = realloc(sent_at, cap * sizeof *s);
                double *a;

                if (!s)
                        return -ENOMEM;
                sent_at = s;
                a = realloc(answer_ms, cap * sizeof *a);
                if (!a)
                        return -ENOMEM;
                answer_ms = a;
                sent_cap = cap;
        }
        sent_at[issued] = now_usec(CLOCK_MONOTONIC);
        /* The module's own timeout: an answer later than that is no answer for a login. */
        r = devflow_start_login_async(bus, NULL, arg_user,
                                      &(DevflowLoginContext) {
                                              .rhost = arg_rhost,
                                              .service = "flood",
                                              .poll = arg_poll,
                                      }, DEVFLOW_CALL_TIMEOUT_USEC, on_start_reply,
                                      (void *) (uintptr_t) issued);
        if (r < 0)
                return r;
        issued++;
        return 0;
}

/* With --rate: how many calls may have been sent by now. */
static unsigned long rate_allowance(uint64_t n) {
        if (arg_rate <= 0)
                return ULONG_MAX;
        return (unsigned long) ((double) (n - t_start) / 1e6 * arg_rate) + 1;
}

static void issue_more(void) {
        while (!stopped && issued < arg_count && issued - answered + cancels_outstanding < arg_concurrency) {
                uint64_t n = now_usec(CLOCK_MONOTONIC);

                if (arg_max_seconds > 0 && n - t_start > (uint64_t) (arg_max_seconds * 1e6)) {
                        stopped = true;
                        break;
                }
                if (issued >= rate_allowance(n))
                        break;          /* on_rate_timer sends the next one */
                if (start_one() < 0) {
                        fprintf(stderr, "flood: cannot send StartLogin\n");
                        stopped = true;
                        break;
                }
        }
}

static int on_rate_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        issue_more();
        maybe_done();
        if (!stopped && issued < arg_count) {
                (void) sd_event_source_set_time_relative(s, (uint64_t) (1e6 / arg_rate));
                (void) sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        }
        return 0;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;

        return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of the sorted answer times. */
static double answer_pct(double p) {
        size_t k;

        if (n_answers == 0)
                return 0;
        k = (size_t) (p / 100.0 * (double) n_answers + 0.999999);
        return answer_ms[k == 0 ? 0 : k - 1];
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
        if (n_answers > 0) {
                qsort(answer_ms, n_answers, sizeof *answer_ms, cmp_double);
                printf("answer_p50_ms %.3f\nanswer_p99_ms %.3f\nanswer_max_ms %.3f\n",
                       answer_pct(50), answer_pct(99), answer_ms[n_answers - 1]);
        }
        for (size_t i = 0; i < MAX_ERROR_NAMES && errors[i].name; i++)
                printf("error %s %lu\n", errors[i].name, errors[i].n);
        for (size_t i = 0; i < MAX_ERROR_NAMES && cancel_errors[i].name; i++)
                printf("cancel_error %s %lu\n", cancel_errors[i].name, cancel_errors[i].n);
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
        fprintf(stderr, "usage: flood --user U [--count N] [--concurrency C] [--rate R] [--cancel-after SEC]\n"
                        "             [--stop-at-limit] [--hold] [--max-seconds S] [--rhost A]\n"
                        "             [--poll background|on-demand]\n");
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
                { "rate",          required_argument, NULL, 'R' },
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
                case 'R': arg_rate = strtod(optarg, NULL); break;
                default: return usage();
                }
        if (!arg_user || arg_concurrency == 0 || arg_rate < 0)
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
        if (r >= 0 && arg_rate > 0)
                r = sd_event_add_time_relative(event, &rate_timer, CLOCK_MONOTONIC,
                                               (uint64_t) (1e6 / arg_rate), /* accuracy= */ 1000,
                                               on_rate_timer, NULL);
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

        sd_event_source_unref(rate_timer);
        sd_event_source_unref(cancel_timer);
        sd_bus_flush_close_unref(bus);
        sd_event_unref(event);
        for (size_t i = 0; i < MAX_ERROR_NAMES; i++) {
                free(errors[i].name);
                free(cancel_errors[i].name);
        }
        while (q_head < q_tail)
                free(queue[q_head++].path);
        free(queue);
        free(sent_at);
        free(answer_ms);
        return r < 0 ? 1 : 0;
}
