/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* devflowctl: the administrator's command line over devflowd's bus API (common/devflow-bus.h).
 * status, flows, cancel ID, test-login USER, doctor. Exit codes: 0 ok, 1 failure/refused/errors found,
 * 2 usage, 3 daemon not reachable, 4 not permitted (run as root). --json: one JSON document on stdout (test-login: one per line). */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "ctl-util.h"
#include "devflow-bus.h"
#include "devflow-client.h"
#include "doctor.h"
#include "macro.h"
#include "pam_devflow/qr.h"
#include "time-util.h"

static bool arg_json = false;
static const char *arg_rhost = NULL;
static QrStyle arg_qr = _QR_STYLE_INVALID;      /* invalid = pick from the locale */
static const char *arg_pam_dir = NULL;
static const char *arg_sshd_config = NULL;
static const char *arg_sshd = NULL;
static const char *arg_config = NULL;
static const char *arg_devflowd = NULL;

static void help(void) {
        printf("Usage: devflowctl [OPTIONS] COMMAND [ARGS]\n\n"
               "Inspect and test devflowd, the OAuth 2.0 device flow login service.\n\n"
               "Commands:\n"
               "  status                 Daemon version, issuer, IdP reachability, cache ages, counters\n"
               "  flows                  List pending flows (root)\n"
               "  cancel ID              Cancel a pending flow (root)\n"
               "  test-login USER        Run a whole device flow for USER without PAM and print the verdict\n"
               "  doctor                 Check sshd, the PAM stacks, the configuration and the daemon\n\n"
               "Options:\n"
               "  -h --help              Show this help\n"
               "     --version           Show the version\n"
               "     --json              Machine-readable output (test-login: one JSON object per line)\n"
               "     --rhost=ADDR        test-login: the remote host to report to the daemon\n"
               "     --qr=STYLE          test-login: QR code style: utf8, ascii or none\n"
               "     --pam-dir=DIR       doctor: PAM stacks to read (default /etc/pam.d)\n"
               "     --sshd-config=FILE  doctor: read 'sshd -T -f FILE' instead of 'sshd -T'\n"
               "     --sshd=PATH         doctor: the sshd binary (default /usr/sbin/sshd)\n"
               "     --config=FILE       doctor: devflowd's configuration (default %s)\n"
               "     --devflowd=PATH     doctor: the daemon binary for --check-config (default %s)\n\n"
               "Exit status: 0 ok, 1 failure or refusal (doctor: errors found), 2 usage, 3 daemon not reachable,\n"
               "4 not permitted (run as root).\n",
               DOCTOR_DEFAULT_CONFIG, DOCTOR_DEFAULT_DEVFLOWD);
}

/* ---- status ----------------------------------------------------------------------------------- */

static void json_print_usec(FILE *f, uint64_t usec) {
        if (usec == USEC_INFINITY)
                fputs("null", f);
        else
                fprintf(f, "%" PRIu64, usec);
}

static int verb_status(sd_bus *bus) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(devflow_status_done) DevflowStatus s = {};
        char a[64], b[64], c[64], l[64];
        const char *never;
        int r;

        r = devflow_get_status(bus, /* timeout_usec= */ 0, &error, &s);
        if (r == -EBADMSG && !sd_bus_error_is_set(&error)) {
                fputs("devflowctl: unexpected GetStatus reply\n", stderr);
                return EXIT_FAILURE_;
        }
        if (r < 0)
                return report_bus_error("GetStatus", &error, r, arg_json);

        if (arg_json) {
                fputs("{\"version\":", stdout);
                json_print_string(stdout, s.version);
                fputs(",\"issuer\":", stdout);
                json_print_string(stdout, s.issuer);
                printf(",\"idp_reachable\":%s", s.idp_reachable < 0 ? "null" : s.idp_reachable ? "true" : "false");
                fputs(",\"idp_last_request_age_usec\":", stdout);
                json_print_usec(stdout, s.idp_last_request_age_usec);
                fputs(",\"discovery_age_usec\":", stdout);
                json_print_usec(stdout, s.discovery_age_usec);
                fputs(",\"jwks_age_usec\":", stdout);
                json_print_usec(stdout, s.jwks_age_usec);
                printf(",\"active_flows\":%" PRIu32 ",\"flows_started\":%" PRIu64 ",\"flows_approved\":%" PRIu64
                       ",\"uptime_usec\":%" PRIu64 "}\n",
                       s.active_flows, s.flows_started, s.flows_approved, s.uptime_usec);
                return EXIT_OK;
        }

        fputs("       Version: ", stdout);
        text_fputs(stdout, strna(s.version));
        fputs("\n        Issuer: ", stdout);
        text_fputs(stdout, strna(s.issuer));
        if (s.idp_reachable < 0)
                puts("\n IdP reachable: unknown (no request sent yet)");
        else
                printf("\n IdP reachable: %s (last request %s ago %s)\n", s.idp_reachable ? "yes" : "NO",
                       format_timespan(l, sizeof l, s.idp_last_request_age_usec),
                       s.idp_reachable ? "got an answer" : "got none");
        /* A daemon that has not tried yet has not failed to fetch anything. */
        never = s.idp_last_request_age_usec == USEC_INFINITY ? "not fetched yet" : "never fetched";
        printf(" Discovery age: %s\n", s.discovery_age_usec == USEC_INFINITY ? never :
                                       format_timespan(a, sizeof a, s.discovery_age_usec));
        printf("      JWKS age: %s\n", s.jwks_age_usec == USEC_INFINITY ? never :
                                       format_timespan(b, sizeof b, s.jwks_age_usec));
        printf("  Active flows: %" PRIu32 "\n", s.active_flows);
        printf(" Flows started: %" PRIu64 "\n", s.flows_started);
        printf("Flows approved: %" PRIu64 "\n", s.flows_approved);
        printf("        Uptime: %s\n", format_timespan(c, sizeof c, s.uptime_usec));
        return EXIT_OK;
}

/* ---- flows / cancel ----------------------------------------------------------------------------- */

typedef struct FlowRow {
        const char *id, *user, *rhost, *service, *state;
        uint64_t age, expires;
        uint32_t polls;
} FlowRow;

static void print_cell(const char *s, int width) {
        int n = 0;

        text_fputs(stdout, s);
        n = (int) strlen(strempty(s));
        printf("%*s", n < width ? width - n + 2 : 2, "");
}

static int verb_flows(sd_bus *bus) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ FlowRow *rows = NULL;
        size_t n = 0, allocated = 0;
        uint64_t now = now_usec(CLOCK_REALTIME);
        int r;

        r = devflow_list_flows(bus, /* timeout_usec= */ 0, &error, &reply);
        if (r == -EBADMSG && !sd_bus_error_is_set(&error))
                goto bad_reply;
        if (r < 0)
                return report_bus_error("ListFlows", &error, r, arg_json);

        r = sd_bus_message_enter_container(reply, 'a', DEVFLOW_FLOW_ROW);
        if (r < 0)
                goto bad_reply;
        for (;;) {
                FlowRow f;

                r = sd_bus_message_read(reply, DEVFLOW_FLOW_ROW, &f.id, &f.user, &f.rhost, &f.service, &f.state,
                                        &f.age, &f.expires, &f.polls);
                if (r < 0)
                        goto bad_reply;
                if (r == 0)
                        break;
                if (n == allocated) {
                        size_t k = allocated ? allocated * 2 : 16;
                        FlowRow *p = reallocarray(rows, k, sizeof *rows);

                        if (!p) {
                                fputs("devflowctl: out of memory\n", stderr);
                                return EXIT_FAILURE_;
                        }
                        rows = p;
                        allocated = k;
                }
                rows[n++] = f;
        }

        if (arg_json) {
                fputc('[', stdout);
                for (size_t i = 0; i < n; i++) {
                        fputs(i > 0 ? ",{\"id\":" : "{\"id\":", stdout);
                        json_print_string(stdout, rows[i].id);
                        fputs(",\"user\":", stdout);
                        json_print_string(stdout, rows[i].user);
                        fputs(",\"rhost\":", stdout);
                        json_print_string(stdout, rows[i].rhost);
                        fputs(",\"service\":", stdout);
                        json_print_string(stdout, rows[i].service);
                        fputs(",\"state\":", stdout);
                        json_print_string(stdout, rows[i].state);
                        printf(",\"age_usec\":%" PRIu64 ",\"expires_usec\":%" PRIu64 ",\"polls\":%" PRIu32 "}",
                               rows[i].age, rows[i].expires, rows[i].polls);
                }
                fputs("]\n", stdout);
                return EXIT_OK;
        }

        if (n == 0) {
                puts("No pending flows.");
                return EXIT_OK;
        }

        int w_id = 2, w_user = 4, w_rhost = 5, w_service = 7, w_state = 5;
        for (size_t i = 0; i < n; i++) {
                w_id = MAX(w_id, (int) strlen(rows[i].id));
                w_user = MAX(w_user, (int) strlen(rows[i].user));
                w_rhost = MAX(w_rhost, (int) strlen(rows[i].rhost));
                w_service = MAX(w_service, (int) strlen(rows[i].service));
                w_state = MAX(w_state, (int) strlen(rows[i].state));
        }
        print_cell("ID", w_id);
        print_cell("USER", w_user);
        print_cell("RHOST", w_rhost);
        print_cell("SERVICE", w_service);
        print_cell("STATE", w_state);
        print_cell("AGE", 12);
        puts("EXPIRES");
        for (size_t i = 0; i < n; i++) {
                char age[64], left[64];

                print_cell(rows[i].id, w_id);
                print_cell(rows[i].user, w_user);
                print_cell(*rows[i].rhost ? rows[i].rhost : "-", w_rhost);
                print_cell(*rows[i].service ? rows[i].service : "-", w_service);
                print_cell(rows[i].state, w_state);
                print_cell(format_timespan(age, sizeof age, rows[i].age), 12);
                if (rows[i].expires == 0)
                        puts("-");
                else if (rows[i].expires <= now)
                        puts("expired");
                else
                        printf("in %s\n", format_timespan(left, sizeof left, rows[i].expires - now));
        }
        printf("\n%zu flow%s.\n", n, n == 1 ? "" : "s");
        return EXIT_OK;

bad_reply:
        fprintf(stderr, "devflowctl: unexpected ListFlows reply: %s\n", strerror(-r));
        return EXIT_FAILURE_;
}

static int verb_cancel(sd_bus *bus, const char *id) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = devflow_cancel_flow(bus, id, /* timeout_usec= */ 0, &error);
        if (r < 0)
                return report_bus_error("CancelFlow", &error, r, arg_json);
        if (arg_json) {
                fputs("{\"cancelled\":", stdout);
                json_print_string(stdout, id);
                fputs("}\n", stdout);
        } else {
                fputs("Flow ", stdout);
                text_fputs(stdout, id);
                puts(" cancelled.");
        }
        return EXIT_OK;
}

/* ---- test-login --------------------------------------------------------------------------------- */

typedef struct TestLogin {
        sd_bus *bus;
        sd_event *event;
        const char *flow_path;
        bool done;
        bool cancelling;
        int exit_code;
} TestLogin;

static int on_wait_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        TestLogin *t = userdata;
        DevflowVerdict v;
        int r;

        t->done = true;
        (void) sd_event_exit(t->event, 0);

        r = devflow_wait_reply_read(reply, &e, &v);
        if (r < 0 && sd_bus_error_is_set(&e)) {
                if (arg_json) {
                        fputs("{\"event\":\"result\",\"allowed\":false,\"error\":", stdout);
                        json_print_string(stdout, devflow_error_short_name(e.name));
                        fputs(",\"message\":", stdout);
                        json_print_string(stdout, e.message);
                        fputs("}\n", stdout);
                } else {
                        fputs("Refused: ", stdout);
                        text_fputs(stdout, e.message ?: "(no message)");
                        fputs(" [", stdout);
                        text_fputs(stdout, devflow_error_short_name(e.name));
                        fputs("]\n", stdout);
                }
                t->exit_code = devflow_error_is_unreachable(&e, r) ? EXIT_NO_DAEMON : EXIT_FAILURE_;
                return 0;
        }
        if (r < 0) {
                fprintf(stderr, "devflowctl: unexpected Wait reply: %s\n", strerror(-r));
                t->exit_code = EXIT_FAILURE_;
                return 0;
        }
        const char *local_user = v.local_user, *message = v.message;
        bool allowed = v.allowed;

        if (arg_json) {
                printf("{\"event\":\"result\",\"allowed\":%s,\"local_user\":", allowed ? "true" : "false");
                json_print_string(stdout, local_user);
                fputs(",\"message\":", stdout);
                json_print_string(stdout, message);
                fputs("}\n", stdout);
        } else if (allowed) {
                fputs("Allowed as ", stdout);
                text_fputs(stdout, local_user);
                fputc('\n', stdout);
                /* For root the daemon names the claims that decided (context "explain"). */
                if (!empty_or_null(message)) {
                        fputs("Decided by: ", stdout);
                        text_fputs(stdout, message);
                        fputc('\n', stdout);
                }
        } else {
                fputs("Refused: ", stdout);
                text_fputs(stdout, empty_or_null(message) ? "(no reason given)" : message);
                fputc('\n', stdout);
        }
        t->exit_code = allowed ? EXIT_OK : EXIT_FAILURE_;
        return 0;
}

static int on_cancel_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        const sd_bus_error *e = sd_bus_message_get_error(reply);

        /* Wait() answers with Cancelled once the daemon cancelled; a failure here is only reported. */
        if (e && !arg_json) {
                fputs("devflowctl: Cancel failed: ", stderr);
                text_fputs(stderr, e->message ?: e->name);
                fputc('\n', stderr);
        }
        return 0;
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        TestLogin *t = userdata;
        int r;

        if (t->cancelling) {
                /* A second Ctrl-C: stop waiting for the daemon's answer. */
                t->exit_code = EXIT_FAILURE_;
                return sd_event_exit(t->event, 0);
        }
        t->cancelling = true;
        if (!arg_json)
                fputs("\nCancelling the flow…\n", stderr);
        r = devflow_cancel_async(t->bus, NULL, t->flow_path, DEVFLOW_SHORT_CALL_TIMEOUT_USEC, on_cancel_reply, t);
        if (r < 0) {
                fprintf(stderr, "devflowctl: could not cancel the flow: %s\n", strerror(-r));
                t->exit_code = EXIT_FAILURE_;
                return sd_event_exit(t->event, 0);
        }
        return 0;
}

static QrStyle default_qr_style(void) {
        const char *cs = nl_langinfo(CODESET);

        return cs && streq(cs, "UTF-8") ? QR_STYLE_UTF8 : QR_STYLE_ASCII;
}

static void show_code(const char *user, const char *code, const char *uri, const char *uri_complete,
                      uint64_t expires, uint64_t interval) {
        uint64_t now = now_usec(CLOCK_REALTIME);
        QrStyle style = arg_qr >= 0 ? arg_qr : default_qr_style();
        char left[64];

        if (arg_json) {
                fputs("{\"event\":\"code\",\"user\":", stdout);
                json_print_string(stdout, user);
                fputs(",\"user_code\":", stdout);
                json_print_string(stdout, code);
                fputs(",\"verification_uri\":", stdout);
                json_print_string(stdout, uri);
                fputs(",\"verification_uri_complete\":", stdout);
                json_print_string(stdout, empty_or_null(uri_complete) ? NULL : uri_complete);
                printf(",\"expires_usec\":%" PRIu64 ",\"interval_usec\":%" PRIu64 "}\n", expires, interval);
                fflush(stdout);
                return;
        }

        if (style != QR_STYLE_NONE) {
                const char *text = qr_pick_text(uri_complete, uri, style);
                _cleanup_free_ char *qr = NULL;

                if (text && qr_render(text, style, &qr) >= 0)
                        fputs(qr, stdout);
        }
        fputs("Open ", stdout);
        text_fputs(stdout, uri);
        fputs("\nand enter the code ", stdout);
        text_fputs(stdout, code);
        fputc('\n', stdout);
        if (!empty_or_null(uri_complete)) {
                fputs("(or open ", stdout);
                text_fputs(stdout, uri_complete);
                fputs(")\n", stdout);
        }
        printf("Waiting for approval; the code expires in %s. Ctrl-C cancels.\n",
               expires > now ? format_timespan(left, sizeof left, expires - now) : "a moment");
        fflush(stdout);
}

static int verb_test_login(sd_bus *bus, const char *user) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(devflow_login_done) DevflowLogin login = {};
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        uint64_t now, timeout;
        TestLogin t = { .bus = bus, .exit_code = EXIT_FAILURE_ };
        sigset_t mask;
        int r;

        /* Block SIGINT/SIGTERM before the flow exists, so a Ctrl-C is never lost between StartLogin()
         * and the event loop: it is then handled there, by cancelling the flow. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0) {
                fprintf(stderr, "devflowctl: sigprocmask: %s\n", strerror(errno));
                return EXIT_FAILURE_;
        }

        /* Root is told which claims decided ("explain"); the daemon ignores the key for anyone else.
         * The daemon answers once the IdP gave a code: allow for a slow IdP. */
        r = devflow_start_login(bus, user,
                                &(DevflowLoginContext) {
                                        .service = "devflowctl",
                                        .rhost = arg_rhost,
                                        .explain = geteuid() == 0 ? "yes" : NULL,
                                },
                                60 * USEC_PER_SEC, &error, &login);
        if (r == -EBADMSG && !sd_bus_error_is_set(&error))
                goto fail;
        if (r < 0)
                return report_bus_error("StartLogin", &error, r, arg_json);
        t.flow_path = login.flow_path;

        show_code(user, login.user_code, login.uri, login.uri_complete, login.expires_usec, login.interval_usec);

        r = sd_event_default(&event);
        if (r < 0)
                goto fail;
        t.event = event;
        r = sd_bus_attach_event(bus, event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                goto fail;
        r = sd_event_add_signal(event, NULL, SIGINT, on_signal, &t);
        if (r < 0)
                goto fail;
        r = sd_event_add_signal(event, NULL, SIGTERM, on_signal, &t);
        if (r < 0)
                goto fail;

        /* Wait() is answered when the flow ends: at the latest when the code expires. */
        now = now_usec(CLOCK_REALTIME);
        timeout = (login.expires_usec > now ? login.expires_usec - now : 0) + 60 * USEC_PER_SEC;
        r = devflow_wait_async(bus, &slot, login.flow_path, timeout, on_wait_reply, &t);
        if (r < 0)
                goto fail;

        r = sd_event_loop(event);
        (void) sd_bus_detach_event(bus);
        if (r < 0)
                goto fail;
        return t.exit_code;

fail:
        fprintf(stderr, "devflowctl: test-login: %s\n", strerror(-r));
        return EXIT_FAILURE_;
}

/* ---- main --------------------------------------------------------------------------------------- */

static int parse_argv(int argc, char *argv[]) {
        enum {
                ARG_VERSION = 0x100,
                ARG_JSON,
                ARG_RHOST,
                ARG_QR,
                ARG_PAM_DIR,
                ARG_SSHD_CONFIG,
                ARG_SSHD,
                ARG_CONFIG,
                ARG_DEVFLOWD,
        };
        static const struct option options[] = {
                { "help",        no_argument,       NULL, 'h'             },
                { "version",     no_argument,       NULL, ARG_VERSION     },
                { "json",        no_argument,       NULL, ARG_JSON        },
                { "rhost",       required_argument, NULL, ARG_RHOST       },
                { "qr",          required_argument, NULL, ARG_QR          },
                { "pam-dir",     required_argument, NULL, ARG_PAM_DIR     },
                { "sshd-config", required_argument, NULL, ARG_SSHD_CONFIG },
                { "sshd",        required_argument, NULL, ARG_SSHD        },
                { "config",      required_argument, NULL, ARG_CONFIG      },
                { "devflowd",    required_argument, NULL, ARG_DEVFLOWD    },
                {}
        };
        int c;

        opterr = 0;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("devflowctl %s\n", DEVFLOW_VERSION);
                        return 0;
                case ARG_JSON:
                        arg_json = true;
                        break;
                case ARG_RHOST:
                        if (empty_or_null(optarg)) {
                                fputs("devflowctl: --rhost= needs an address\n", stderr);
                                return -EINVAL;
                        }
                        arg_rhost = optarg;
                        break;
                case ARG_QR:
                        if (streq(optarg, "utf8"))
                                arg_qr = QR_STYLE_UTF8;
                        else if (streq(optarg, "ascii"))
                                arg_qr = QR_STYLE_ASCII;
                        else if (streq(optarg, "none"))
                                arg_qr = QR_STYLE_NONE;
                        else {
                                fprintf(stderr, "devflowctl: --qr= must be utf8, ascii or none\n");
                                return -EINVAL;
                        }
                        break;
                case ARG_PAM_DIR:
                        arg_pam_dir = optarg;
                        break;
                case ARG_SSHD_CONFIG:
                        arg_sshd_config = optarg;
                        break;
                case ARG_SSHD:
                        arg_sshd = optarg;
                        break;
                case ARG_CONFIG:
                        arg_config = optarg;
                        break;
                case ARG_DEVFLOWD:
                        arg_devflowd = optarg;
                        break;
                case '?':
                        if (optopt != 0 && optopt < 0x100)
                                fprintf(stderr, "devflowctl: unknown option -%c (see --help)\n", optopt);
                        else
                                fprintf(stderr, "devflowctl: unknown option or missing argument: %s (see --help)\n",
                                        argv[optind - 1]);
                        return -EINVAL;
                default:
                        return -EINVAL;
                }
        return 1;
}

/* Checks that a verb got what it takes: n_args operands and only options that mean something to it. */
static bool verb_args_ok(const char *verb, int n, int n_want, bool test_login_opts, bool doctor_opts) {
        if (n != n_want) {
                fprintf(stderr, "devflowctl: %s takes %s (see --help)\n", verb,
                        n_want == 0 ? "no arguments" : "exactly one argument");
                return false;
        }
        if (!test_login_opts && (arg_rhost || arg_qr >= 0)) {
                fprintf(stderr, "devflowctl: --rhost and --qr are only for test-login\n");
                return false;
        }
        if (!doctor_opts && (arg_pam_dir || arg_sshd_config || arg_sshd || arg_config || arg_devflowd)) {
                fprintf(stderr, "devflowctl: --pam-dir, --sshd-config, --sshd, --config and --devflowd are only "
                        "for doctor\n");
                return false;
        }
        return true;
}

int main(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        const char *verb;
        char **args;
        int n, r;

        (void) setlocale(LC_ALL, "");

        r = parse_argv(argc, argv);
        if (r < 0)
                return EXIT_USAGE;
        if (r == 0)
                return EXIT_OK;
        if (optind >= argc) {
                fputs("devflowctl: missing command (status, flows, cancel, test-login, doctor; see --help)\n",
                      stderr);
                return EXIT_USAGE;
        }
        verb = argv[optind];
        args = argv + optind + 1;
        n = argc - optind - 1;

        if (streq(verb, "status") || streq(verb, "flows")) {
                if (!verb_args_ok(verb, n, 0, false, false))
                        return EXIT_USAGE;
        } else if (streq(verb, "cancel")) {
                if (!verb_args_ok(verb, n, 1, false, false))
                        return EXIT_USAGE;
                if (empty_or_null(args[0])) {
                        fputs("devflowctl: cancel needs a flow ID\n", stderr);
                        return EXIT_USAGE;
                }
        } else if (streq(verb, "test-login")) {
                if (!verb_args_ok(verb, n, 1, true, false))
                        return EXIT_USAGE;
                if (empty_or_null(args[0])) {
                        fputs("devflowctl: test-login needs a user name\n", stderr);
                        return EXIT_USAGE;
                }
        } else if (streq(verb, "doctor")) {
                if (!verb_args_ok(verb, n, 0, false, true))
                        return EXIT_USAGE;
                DoctorOptions o = {
                        .pam_dir = arg_pam_dir,
                        .sshd_config = arg_sshd_config,
                        .sshd = arg_sshd,
                        .config = arg_config,
                        .devflowd = arg_devflowd,
                        .json = arg_json,
                };
                return doctor_run(&o);
        } else {
                fprintf(stderr, "devflowctl: unknown command '");
                text_fputs(stderr, verb);
                fputs("' (see --help)\n", stderr);
                return EXIT_USAGE;
        }

        if (ctl_bus_open(&bus, arg_json) < 0)
                return EXIT_NO_DAEMON;

        if (streq(verb, "status"))
                return verb_status(bus);
        if (streq(verb, "flows"))
                return verb_flows(bus);
        if (streq(verb, "cancel"))
                return verb_cancel(bus, args[0]);
        return verb_test_login(bus, args[0]);
}
