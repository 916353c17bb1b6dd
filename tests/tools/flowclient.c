/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* flowclient: a small devflowd bus client for the integration tests. It keeps ONE bus connection for a
 * whole flow (the daemon cancels a flow when its caller's connection goes away).
 *
 *   flowclient start USER [--rhost A] [--service S] [--tty T] [--poll on-demand|background] [--wait]
 *                         [--poll-after SEC]... [--poll-burst N] [--cancel-after SEC] [--wait-timeout SEC]
 *   flowclient wait PATH      Wait() on a flow from a new connection (someone else's: must be refused)
 *   flowclient hold USER [--rhost A]   start, print, then block until killed (caller-gone tests)
 *   --poll-burst N sends N Poll() calls at once right after StartLogin, pipelined on the one connection.
 *
 * Output, one line each, flushed at once:
 *   flow PATH / user_code X / uri U / uri_complete U / expires USEC / interval USEC
 *   poll NEXT_USEC (a Poll() answer) or poll-error NAME MESSAGE
 *   allowed LOCALUSER MESSAGE | error NAME MESSAGE
 * Exit: 0 allowed (or started, without --wait), 1 refused/error, 2 usage, 3 StartLogin failed. */

#include <errno.h>
#include <stdarg.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>
#include <time.h>
#include <unistd.h>

#include "devflow-bus.h"
#include "devflow-client.h"
#include "macro.h"
#include "time-util.h"

#define MAX_POLLS 32

static sd_bus *bus;
static sd_event *event;
static int exit_code = 1;
static const char *flow_path;

static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out(const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        putchar('\n');
        fflush(stdout);
}

static void out_error(const sd_bus_error *e, int r) {
        if (e && e->name)
                out("error %s %s", e->name, e->message ? e->message : "");
        else
                out("error errno %s", strerror(r < 0 ? -r : r));
}

static int usage(void) {
        fprintf(stderr,
                "usage: flowclient start USER [--rhost A] [--service S] [--tty T] [--poll on-demand|background]\n"
                "                             [--wait] [--poll-after SEC]... [--poll-burst N] [--cancel-after SEC]\n"
                "                             [--wait-timeout SEC]\n"
                "       flowclient wait PATH\n"
                "       flowclient hold USER [--rhost A] [--service S]\n");
        return 2;
}

static uint64_t sec_to_usec(const char *s, int *ok) {
        char *end = NULL;
        double d;

        errno = 0;
        d = strtod(s, &end);
        if (errno != 0 || !end || *end || d < 0 || d > 86400) {
                *ok = 0;
                return 0;
        }
        return (uint64_t) (d * 1e6);
}

/* Prints a verdict, or the error a call ended with; the exit code for it. */
static int print_verdict(int r, const sd_bus_error *e, const DevflowVerdict *v) {
        if (r < 0 && sd_bus_error_is_set(e)) {
                out_error(e, r);
                return 1;
        }
        if (r < 0) {
                out("error parse %s", strerror(-r));
                return 1;
        }
        out("%s %s %s", v->allowed ? "allowed" : "refused", v->local_user, v->message);
        return v->allowed ? 0 : 1;
}

static int on_wait_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        DevflowVerdict v;
        int r;

        r = devflow_wait_reply_read(m, &e, &v);
        exit_code = print_verdict(r, &e, &v);
        return sd_event_exit(event, exit_code);
}

static int on_poll_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        uint64_t next = 0;
        int r;

        r = devflow_poll_reply_read(m, &e, &next);
        if (r < 0 && sd_bus_error_is_set(&e)) {
                out("poll-error %s %s", e.name, e.message ? e.message : "");
                return 0;
        }
        if (r < 0) {
                out("poll-error parse");
                return 0;
        }
        out("poll %llu now %llu", (unsigned long long) next, (unsigned long long) now_usec(CLOCK_REALTIME));
        return 0;
}

static int on_poll_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        int r;

        out("poll-sent %llu", (unsigned long long) now_usec(CLOCK_REALTIME));
        r = devflow_poll_async(bus, NULL, flow_path, /* timeout_usec= */ 0, on_poll_reply, NULL);
        if (r < 0)
                out("poll-error send %s", strerror(-r));
        return 0;
}

static int on_cancel_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        out("cancel-sent %llu", (unsigned long long) now_usec(CLOCK_REALTIME));
        r = devflow_cancel(bus, flow_path, /* timeout_usec= */ 0, &e);
        if (r < 0)
                out("cancel-error %s", e.name ? e.name : strerror(-r));
        return 0;
}

static int on_wait_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        out("error timeout no verdict in time");
        return sd_event_exit(event, 1);
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        return sd_event_exit(event, 1);
}

static int cmd_wait(const char *path) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        DevflowVerdict v;
        int r;

        r = devflow_wait(bus, path, /* timeout_usec= */ 0, &e, &reply, &v);
        return print_verdict(r, &e, &v);
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "rhost",        required_argument, NULL, 'r' },
                { "service",      required_argument, NULL, 's' },
                { "tty",          required_argument, NULL, 't' },
                { "poll",         required_argument, NULL, 'p' },
                { "wait",         no_argument,       NULL, 'w' },
                { "poll-after",   required_argument, NULL, 'P' },
                { "cancel-after", required_argument, NULL, 'C' },
                { "wait-timeout", required_argument, NULL, 'T' },
                { "poll-burst",   required_argument, NULL, 'B' },
                {}
        };
        const char *rhost = NULL, *service = NULL, *tty = NULL, *poll_mode = NULL, *cmd, *user;
        uint64_t poll_after[MAX_POLLS], cancel_after = 0, wait_timeout = 0;
        size_t n_poll_after = 0;
        unsigned long poll_burst = 0;
        int do_wait = 0, have_cancel = 0, ok = 1, c, r;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(devflow_login_done) DevflowLogin login = {};
        const char *path;
        uint64_t now;
        sigset_t ss;

        if (argc < 3)
                return usage();
        cmd = argv[1];
        user = argv[2];
        optind = 3;
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0) {
                switch (c) {
                case 'r': rhost = optarg; break;
                case 's': service = optarg; break;
                case 't': tty = optarg; break;
                case 'p': poll_mode = optarg; break;
                case 'w': do_wait = 1; break;
                case 'P':
                        if (n_poll_after >= MAX_POLLS)
                                return usage();
                        poll_after[n_poll_after++] = sec_to_usec(optarg, &ok);
                        break;
                case 'C': cancel_after = sec_to_usec(optarg, &ok); have_cancel = 1; break;
                case 'T': wait_timeout = sec_to_usec(optarg, &ok); break;
                case 'B':
                        poll_burst = strtoul(optarg, NULL, 10);
                        if (poll_burst == 0 || poll_burst > 100000)
                                return usage();
                        break;
                default: return usage();
                }
        }
        if (!ok || optind != argc)
                return usage();
        if (strcmp(cmd, "start") != 0 && strcmp(cmd, "wait") != 0 && strcmp(cmd, "hold") != 0)
                return usage();

        r = sd_bus_open_system(&bus);
        if (r < 0) {
                out("error connect %s", strerror(-r));
                return 3;
        }
        /* Wait() lasts as long as the flow: no bus timeout of its own (--wait-timeout bounds it instead). */
        (void) sd_bus_set_method_call_timeout(bus, 3600 * 1000000ULL);

        if (strcmp(cmd, "wait") == 0) {
                r = cmd_wait(user);
                sd_bus_flush_close_unref(bus);
                return r;
        }

        r = devflow_start_login(bus, user,
                                &(DevflowLoginContext) {
                                        .rhost = rhost,
                                        .service = service,
                                        .tty = tty,
                                        .poll = poll_mode,
                                }, /* timeout_usec= */ 0, &e, &login);
        if (r < 0) {
                if (r == -EBADMSG && !sd_bus_error_is_set(&e))
                        out("error parse %s", strerror(-r));
                else
                        out_error(&e, r);
                sd_bus_error_free(&e);
                sd_bus_flush_close_unref(bus);
                return 3;
        }
        path = login.flow_path;
        flow_path = path;
        out("flow %s", path);
        out("user_code %s", login.user_code);
        out("uri %s", login.uri);
        out("uri_complete %s", login.uri_complete);
        out("expires %llu", (unsigned long long) login.expires_usec);
        out("interval %llu", (unsigned long long) login.interval_usec);

        if (strcmp(cmd, "hold") == 0) {
                /* Block until killed; keep the connection (and so the flow) alive. */
                for (;;) {
                        r = sd_bus_process(bus, NULL);
                        if (r < 0)
                                break;
                        if (r == 0 && sd_bus_wait(bus, UINT64_MAX) < 0)
                                break;
                }
                return 1;
        }
        if (!do_wait && n_poll_after == 0 && poll_burst == 0 && !have_cancel) {
                sd_bus_flush_close_unref(bus);
                return 0;
        }

        r = sd_event_default(&event);
        if (r >= 0)
                r = sd_bus_attach_event(bus, event, 0);
        if (r < 0) {
                out("error event %s", strerror(-r));
                return 1;
        }
        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGINT);
        sigprocmask(SIG_BLOCK, &ss, NULL);
        (void) sd_event_add_signal(event, NULL, SIGTERM, on_signal, NULL);
        (void) sd_event_add_signal(event, NULL, SIGINT, on_signal, NULL);

        (void) sd_event_now(event, CLOCK_MONOTONIC, &now);
        for (size_t i = 0; i < n_poll_after; i++) {
                r = sd_event_add_time(event, NULL, CLOCK_MONOTONIC, now + poll_after[i], 0, on_poll_timer, NULL);
                if (r < 0)
                        return 1;
        }
        for (unsigned long i = 0; i < poll_burst; i++) {
                r = devflow_poll_async(bus, NULL, path, /* timeout_usec= */ 0, on_poll_reply, NULL);
                if (r < 0) {
                        out("poll-error send %s", strerror(-r));
                        return 1;
                }
        }
        if (have_cancel && sd_event_add_time(event, NULL, CLOCK_MONOTONIC, now + cancel_after, 0,
                                             on_cancel_timer, NULL) < 0)
                return 1;
        if (wait_timeout > 0 && sd_event_add_time(event, NULL, CLOCK_MONOTONIC, now + wait_timeout, 0,
                                                  on_wait_timeout, NULL) < 0)
                return 1;

        r = devflow_wait_async(bus, NULL, path, /* timeout_usec= */ 0, on_wait_reply, NULL);
        if (r < 0) {
                out("error send %s", strerror(-r));
                return 1;
        }
        r = sd_event_loop(event);
        if (!do_wait && r >= 0)
                r = 0;
        sd_bus_flush_close_unref(bus);
        sd_event_unref(event);
        return r < 0 ? 1 : r;
}
