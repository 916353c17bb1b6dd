/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pam_devflow.so: log in by approving an OAuth 2.0 device authorization (RFC 8628) on another device.
 * The module asks devflowd over the system bus to start a flow, shows the code, link and QR code, and
 * waits for the daemon's verdict. See DESIGN.md §1, §2, §4.
 *
 * PAM_SILENT: no PAM_TEXT_INFO or PAM_ERROR_MSG at all. With prompt=enter the prompt is still issued,
 * and then it carries the code and the link itself ("Code X at URI - press Enter …"), so the login
 * still works; with prompt=none nothing is shown and only a user who learns the code elsewhere
 * (devflowctl) can approve. */

#include <langinfo.h>
#include <limits.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "args.h"
#include "bus.h"
#include "conv.h"
#include "macro.h"
#include "text-safety.h"
#include "time-util.h"

#define USER_NAME_MAX 256U
#define PROMPT_TEXT "Press Enter once you have approved: "
#define POLL_GRACE_USEC (500 * USEC_PER_MSEC)   /* Poll() answers after its poll: the verdict is queued by then */
#define RESTART_MIN_LEFT_USEC (5 * USEC_PER_SEC)
#define RESTARTS_MAX 10U

typedef struct Login {
        pam_handle_t *pamh;
        Args args;
        bool silent;
        const char *user, *rhost, *service, *tty;
        char *log_user, *log_rhost, *log_service;       /* the same, control characters stripped, for logs */
        char host[HOST_NAME_MAX + 1];
        QrStyle qr;

        uint64_t deadline;              /* CLOCK_MONOTONIC µs */
        uint64_t deadline_realtime;

        sd_bus *bus;
        DevflowLogin info;
        sd_bus_slot *wait_slot;
        Outcome outcome;
} Login;

static void login_done(Login *l) {
        l->wait_slot = sd_bus_slot_unref(l->wait_slot);        /* before the outcome it writes to */
        bus_outcome_done(&l->outcome);
        devflow_login_done(&l->info);
        l->bus = sd_bus_flush_close_unref(l->bus);
        free(l->log_user);
        free(l->log_rhost);
        free(l->log_service);
}

static void on_bad_arg(void *userdata, const char *arg, const char *reason) {
        pam_syslog(userdata, LOG_WARNING, "Ignoring argument '%s': %s", arg, reason);
}

#define debug(l, ...) do { if ((l)->args.debug) pam_syslog((l)->pamh, LOG_DEBUG, __VA_ARGS__); } while (0)

static uint64_t time_left(const Login *l) {
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        return l->deadline > now ? l->deadline - now : 0;
}

static void cancel_flow(Login *l) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        if (!l->bus || !l->info.flow_path)
                return;
        r = devflow_cancel(l->bus, l->info.flow_path, DEVFLOW_SHORT_CALL_TIMEOUT_USEC, &error);
        if (r < 0)
                debug(l, "Cancel() failed, ignoring: %s", error.name ?: strerror(-r));
}

static int start_flow(Login *l) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        l->wait_slot = sd_bus_slot_unref(l->wait_slot);
        bus_outcome_done(&l->outcome);
        devflow_login_done(&l->info);

        /* With a prompt the daemon polls when the user presses Enter, so that press gets its answer one
         * round trip later instead of up to an interval later; without one it polls in the background. */
        r = devflow_start_login(l->bus, l->user,
                                &(DevflowLoginContext) {
                                        .rhost = l->rhost,
                                        .service = l->service,
                                        .tty = l->tty,
                                        .poll = l->args.prompt == PROMPT_ENTER ? "on-demand" : "background",
                                },
                                MIN(DEVFLOW_CALL_TIMEOUT_USEC, MAX(time_left(l), USEC_PER_SEC)), &error, &l->info);
        if (r < 0) {
                pam_syslog(l->pamh, LOG_ERR, "StartLogin() failed: %s", error.name ?: strerror(-r));
                bus_outcome_fail(&l->outcome, r, &error);
                return r;
        }
        debug(l, "Flow %s started", l->info.flow_path);

        /* Wait() stays outstanding for the whole flow; a little longer than our own deadline so that
         * our timeout, not sd-bus's, decides. */
        r = bus_wait_begin(l->bus, l->info.flow_path, time_left(l) + 5 * USEC_PER_SEC, &l->outcome, &l->wait_slot);
        if (r < 0) {
                pam_syslog(l->pamh, LOG_ERR, "Wait() failed: %s", strerror(-r));
                bus_outcome_fail(&l->outcome, r, NULL);
                return r;
        }
        return 0;
}

static int build_info(Login *l, const char *headline, char **ret) {
        _cleanup_free_ char *block = NULL;
        char *s;
        int r;

        r = conv_build_info(&(ConvInfo) {
                        .host = l->host,
                        .user = l->user,
                        .rhost = l->rhost,
                        .user_code = l->info.user_code,
                        .uri = l->info.uri,
                        .uri_complete = l->info.uri_complete,
                        .valid_until_usec = MIN(l->info.expires_usec, l->deadline_realtime),
                        .now_usec = now_usec(CLOCK_REALTIME),
                        .qr = l->qr,
                }, &block);
        if (r < 0)
                return r;
        if (!headline) {
                *ret = TAKE_PTR(block);
                return 0;
        }
        if (asprintf(&s, "%s\n%s", headline, block) < 0)
                return -ENOMEM;
        *ret = s;
        return 0;
}

static int build_silent_prompt(Login *l, char **ret) {
        _cleanup_free_ char *code = NULL, *uri = NULL;
        char *s;

        if (text_strip(l->info.user_code, CONV_FIELD_MAX, &code) < 0 ||
            text_strip(l->info.uri, CONV_URI_MAX, &uri) < 0 ||
            asprintf(&s, "Code %s at %s - %s", code, uri, PROMPT_TEXT) < 0)
                return -ENOMEM;
        *ret = s;
        return 0;
}

static bool converse(Login *l, int style, const char *info, const char *prompt) {
        int r = conv_send(l->pamh, style, l->silent ? NULL : info, prompt);
        if (r == PAM_SUCCESS)
                return true;
        if (r == PAM_AUTH_ERR) {
                /* What was typed may be a password: its length is not logged either. */
                pam_syslog(l->pamh, LOG_NOTICE, "The Enter prompt for '%s' was answered with text, not Enter "
                           "(a password sent to every prompt?); ending the login", l->log_user);
                bus_outcome_set(&l->outcome, OUTCOME_TYPED_ANSWER);
                return false;
        }
        pam_syslog(l->pamh, LOG_ERR, "Conversation failed: %s", pam_strerror(l->pamh, r));
        if (r == PAM_BUF_ERR)
                bus_outcome_fail(&l->outcome, -ENOMEM, NULL);
        else
                bus_outcome_set(&l->outcome, OUTCOME_CONV_FAILED);
        return false;
}

/* Returns 1 when the flow ended (l->outcome says how), 0 when our timeout passed. */
static int wait_verdict(Login *l, const char *info) {
        _cleanup_free_ char *silent_prompt = NULL;
        const char *prompt = PROMPT_TEXT, *text = info;
        int r;

        if (l->args.prompt == PROMPT_NONE) {
                if (!converse(l, PAM_TEXT_INFO, info, NULL))
                        return 1;
                r = bus_wait_until(l->bus, &l->outcome, l->deadline);
                if (r < 0)
                        bus_outcome_fail(&l->outcome, r, NULL);
                return r != 0;
        }

        if (l->silent) {
                if (build_silent_prompt(l, &silent_prompt) < 0) {
                        bus_outcome_fail(&l->outcome, -ENOMEM, NULL);
                        return 1;
                }
                prompt = silent_prompt;
        }

        for (;;) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                uint64_t next = 0, until;

                if (!converse(l, PAM_TEXT_INFO, text, prompt))
                        return 1;

                /* The verdict may have arrived while the user was reading. */
                r = bus_wait_until(l->bus, &l->outcome, /* deadline= */ 0);
                if (r != 0) {
                        if (r < 0)
                                bus_outcome_fail(&l->outcome, r, NULL);
                        return 1;
                }
                if (time_left(l) == 0)
                        return 0;

                /* Answered once the poll it asks for is answered (after the interval, if one is running). */
                r = devflow_poll(l->bus, l->info.flow_path,
                                 MIN(DEVFLOW_CALL_TIMEOUT_USEC, MAX(time_left(l), USEC_PER_SEC)), &error, &next);
                if (r < 0)
                        /* the flow may just have ended; its Wait() reply says how */
                        debug(l, "Poll() failed, ignoring: %s", error.name ?: strerror(-r));

                until = MIN(now_usec(CLOCK_MONOTONIC) + POLL_GRACE_USEC, l->deadline);
                r = bus_wait_until(l->bus, &l->outcome, until);
                if (r != 0) {
                        if (r < 0)
                                bus_outcome_fail(&l->outcome, r, NULL);
                        return 1;
                }
                if (time_left(l) == 0)
                        return 0;

                text = "Not approved yet.";
        }
}

/* Runs the login to its end; returns what happened (l->outcome holds the details). */
static OutcomeKind run(Login *l) {
        const char *headline = NULL;
        unsigned restarts = 0;
        int r;

        r = bus_open(&l->bus);
        if (r < 0) {
                pam_syslog(l->pamh, LOG_ERR, "Cannot connect to the system bus: %s", strerror(-r));
                bus_outcome_fail(&l->outcome, r == -ENOMEM ? r : -ENOTCONN, NULL);
                return l->outcome.kind;
        }

        for (;;) {
                _cleanup_free_ char *info = NULL;

                if (start_flow(l) < 0)
                        return l->outcome.kind;

                r = build_info(l, headline, &info);
                if (r < 0) {
                        cancel_flow(l);
                        bus_outcome_fail(&l->outcome, r, NULL);
                        return l->outcome.kind;
                }

                r = wait_verdict(l, info);
                if (r == 0) {
                        pam_syslog(l->pamh, LOG_NOTICE, "Login of '%s' timed out", l->log_user);
                        cancel_flow(l);
                        bus_outcome_set(&l->outcome, OUTCOME_TIMED_OUT);
                        return l->outcome.kind;
                }
                /* Ended here, not by the daemon: its flow is still running. */
                if (l->outcome.kind == OUTCOME_CONV_FAILED || l->outcome.kind == OUTCOME_TYPED_ANSWER ||
                    (l->outcome.kind == OUTCOME_FAILED && l->outcome.error == -ENOMEM)) {
                        cancel_flow(l);
                        return l->outcome.kind;
                }

                /* RFC 8628 §3.5 expired_token: a fresh code while our own time allows. */
                if (bus_outcome_is_expired(&l->outcome) && time_left(l) >= RESTART_MIN_LEFT_USEC &&
                    restarts < RESTARTS_MAX) {
                        debug(l, "Code expired, starting a new flow");
                        restarts++;
                        headline = "The code expired; here is a new one.";
                        continue;
                }
                return l->outcome.kind;
        }
}

int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv) {
        _cleanup_(login_done) Login l = { .pamh = pamh, .outcome = OUTCOME_NULL };
        _cleanup_free_ char *message = NULL;
        OutcomeKind kind;
        const char *s;
        int r;

        (void) args_parse(argc, argv, on_bad_arg, pamh, &l.args);
        l.silent = flags & PAM_SILENT;

        r = pam_get_user(pamh, &l.user, NULL);
        if (r != PAM_SUCCESS) {
                pam_syslog(pamh, LOG_ERR, "Cannot get the user name: %s", pam_strerror(pamh, r));
                return r == PAM_CONV_AGAIN ? PAM_INCOMPLETE : r;
        }
        if (!l.user || !*l.user || strlen(l.user) > USER_NAME_MAX) {
                pam_syslog(pamh, LOG_ERR, "Refusing an empty or overlong user name");
                return PAM_USER_UNKNOWN;
        }

        if (pam_get_item(pamh, PAM_RHOST, (const void **) &s) == PAM_SUCCESS && s && *s)
                l.rhost = s;
        if (pam_get_item(pamh, PAM_SERVICE, (const void **) &s) == PAM_SUCCESS && s && *s)
                l.service = s;
        if (pam_get_item(pamh, PAM_TTY, (const void **) &s) == PAM_SUCCESS && s && *s)
                l.tty = s;
        if (gethostname(l.host, sizeof(l.host) - 1) < 0)
                l.host[0] = 0;
        /* PAM_RHOST may be a reverse-DNS name an attacker chose: quote nothing unsanitised. */
        if (text_strip(l.user, CONV_FIELD_MAX, &l.log_user) < 0 ||
            text_strip(l.rhost, CONV_FIELD_MAX, &l.log_rhost) < 0 ||
            text_strip(l.service, CONV_FIELD_MAX, &l.log_service) < 0)
                return PAM_BUF_ERR;

        l.qr = conv_qr_style(l.args.qr, /* remote= */ l.rhost,
                             conv_locale_is_utf8(nl_langinfo(CODESET), getenv("LC_ALL"), getenv("LC_CTYPE"),
                                                 getenv("LANG")));
        l.deadline = now_usec(CLOCK_MONOTONIC) + l.args.timeout_sec * USEC_PER_SEC;
        l.deadline_realtime = now_usec(CLOCK_REALTIME) + l.args.timeout_sec * USEC_PER_SEC;

        debug(&l, "Starting a device login for '%s' (rhost '%s', service '%s', qr=%s, prompt=%s, timeout=%us)",
              l.log_user, l.log_rhost, l.log_service, qr_mode_to_string(l.args.qr),
              prompt_mode_to_string(l.args.prompt), l.args.timeout_sec);

        kind = run(&l);

        r = bus_outcome_to_pam(&l.outcome, l.user);
        if (r == PAM_SUCCESS) {
                pam_syslog(pamh, LOG_INFO, "Device login approved for '%s'", l.log_user);
                return r;
        }

        if (kind == OUTCOME_VERDICT && l.outcome.allowed) {
                _cleanup_free_ char *mapped = NULL;
                if (text_strip(l.outcome.local_user, CONV_FIELD_MAX, &mapped) >= 0)
                        pam_syslog(pamh, LOG_WARNING, "Approved identity maps to '%s', not to '%s': refused",
                                   mapped, l.log_user);
        }
        else if (kind == OUTCOME_BUS_ERROR)
                pam_syslog(pamh, LOG_NOTICE, "Device login for '%s' failed: %s", l.log_user, l.outcome.bus_error.name);
        debug(&l, "Returning %s", pam_strerror(pamh, r));

        if (!l.silent && kind != OUTCOME_CONV_FAILED && conv_outcome_message(&l.outcome, l.user, &message) >= 0 && message)
                (void) conv_send(pamh, PAM_ERROR_MSG, message, NULL);
        return r;
}

int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv) {
        return PAM_SUCCESS;
}
