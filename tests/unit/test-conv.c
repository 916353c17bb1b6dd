/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the user sees: sanitising of daemon/IdP strings, the info block, expiry time, QR choice, the
 * conversation call itself, and the one mapping from a login's outcome to a PAM code and message. */

#include <security/pam_appl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "bus.h"
#include "conv.h"
#include "devflow-bus.h"
#include "macro.h"
#include "qr.h"
#include "test.h"

#define T0 UINT64_C(1700000000)         /* 2023-11-14 22:13:20 UTC */

TEST(expiry) {
        static const struct {
                int64_t left;
                const char *want;
        } cases[] = {
                { 600, "22:13:20 (in 10 minutes)" },
                { 599, "22:13:20 (in 10 minutes)" },
                { 150, "22:13:20 (in 3 minutes)" },
                { 100, "22:13:20 (in 2 minutes)" },
                { 75, "22:13:20 (in 1 minute)" },
                { 30, "22:13:20 (in less than a minute)" },
                { -5, "22:13:20 (in less than a minute)" },
        };

        setenv("TZ", "UTC", 1);
        tzset();
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *s = NULL;
                uint64_t now = (uint64_t) ((int64_t) T0 - cases[i].left) * USEC_PER_SEC;

                CHECK_INTEQ(conv_format_expiry(T0 * USEC_PER_SEC, now, &s), 0);
                CHECK_STREQ(s, cases[i].want);
        }

        /* local time, not UTC */
        _cleanup_free_ char *t = NULL;
        setenv("TZ", "EST5", 1);
        tzset();
        CHECK_INTEQ(conv_format_expiry(T0 * USEC_PER_SEC, (T0 - 600) * USEC_PER_SEC, &t), 0);
        CHECK_STREQ(t, "17:13:20 (in 10 minutes)");
        setenv("TZ", "UTC", 1);
        tzset();
}

TEST(locale) {
        CHECK(conv_locale_is_utf8("UTF-8", NULL, NULL, NULL));
        CHECK(conv_locale_is_utf8("ANSI_X3.4-1968", NULL, NULL, "en_US.UTF-8"));
        CHECK(conv_locale_is_utf8(NULL, "", "C.utf8", NULL));
        CHECK(!conv_locale_is_utf8("ANSI_X3.4-1968", "C", NULL, "en_US.UTF-8"));   /* LC_ALL wins */
        CHECK(!conv_locale_is_utf8("ANSI_X3.4-1968", NULL, NULL, NULL));
        CHECK(!conv_locale_is_utf8(NULL, NULL, NULL, "de_DE.ISO-8859-1"));
}

TEST(qr_style) {
        CHECK_INTEQ(conv_qr_style(QR_MODE_AUTO, /* remote= */ true, /* utf8= */ true), QR_STYLE_ASCII);
        CHECK_INTEQ(conv_qr_style(QR_MODE_AUTO, false, true), QR_STYLE_UTF8);
        CHECK_INTEQ(conv_qr_style(QR_MODE_AUTO, false, false), QR_STYLE_ASCII);
        CHECK_INTEQ(conv_qr_style(QR_MODE_UTF8, true, false), QR_STYLE_UTF8);
        CHECK_INTEQ(conv_qr_style(QR_MODE_ASCII, false, true), QR_STYLE_ASCII);
        CHECK_INTEQ(conv_qr_style(QR_MODE_OFF, false, true), QR_STYLE_NONE);
}

static ConvInfo base_info(void) {
        return (ConvInfo) {
                .host = "build7",
                .user = "alice",
                .rhost = "203.0.113.7",
                .user_code = "WDJB-MJHT",
                .uri = "https://idp.example.com/device",
                .uri_complete = "https://idp.example.com/device?user_code=WDJB-MJHT",
                .valid_until_usec = T0 * USEC_PER_SEC,
                .now_usec = (T0 - 600) * USEC_PER_SEC,
                .qr = QR_STYLE_ASCII,
        };
}

TEST(info_contents) {
        _cleanup_free_ char *s = NULL, *qr = NULL;
        ConvInfo i = base_info();

        setenv("TZ", "UTC", 1);
        tzset();
        CHECK_INTEQ(conv_build_info(&i, &s), 0);
        if (!s)
                return;
        CHECK(strstr(s, "\nLogin to build7 for alice from 203.0.113.7\n"));
        CHECK(strstr(s, "\nOpen:  https://idp.example.com/device\n"));
        CHECK(strstr(s, "\nCode:  WDJB-MJHT\n"));
        CHECK(strstr(s, "\nValid until 22:13:20 (in 10 minutes)."));
        CHECK(s[strlen(s) - 1] != '\n');        /* sshd adds its own */
        /* the QR code of the complete URI, as qr.c draws it */
        CHECK(qr_render(i.uri_complete, QR_STYLE_ASCII, &qr) > 0);
        CHECK(qr && strstr(s, qr));
}

TEST(info_no_rhost) {
        _cleanup_free_ char *a = NULL, *b = NULL;
        ConvInfo i = base_info();

        i.rhost = NULL;
        CHECK_INTEQ(conv_build_info(&i, &a), 0);
        CHECK(a && strstr(a, "\nLogin to build7 for alice\nOpen:  "));
        CHECK(a && !strstr(a, " from "));
        i.rhost = "";
        CHECK_INTEQ(conv_build_info(&i, &b), 0);
        CHECK(b && !strstr(b, " from "));
}

TEST(info_hostile) {
        _cleanup_free_ char *s = NULL;
        ConvInfo i = base_info();

        i.user_code = "WDJB\n-MJHT\x9b" "2J\x7f";
        i.uri = "https://idp.example.com/device\x1b]0;pwned\x07";
        i.uri_complete = "https://idp.example.com/d\xc2\x9b" "31m?user_code=WDJB\x1b[2J";
        i.rhost = "evil\x1b[2J.example";
        i.host = "h\x07";
        CHECK_INTEQ(conv_build_info(&i, &s), 0);
        if (!s)
                return;
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                CHECK(*p == '\n' || (*p >= 0x20 && *p != 0x7f && *p < 0x80));
        CHECK(!strstr(s, "pwned"));
        CHECK(strstr(s, "\nCode:  WDJB-MJHT\n"));
        CHECK(strstr(s, "\nOpen:  https://idp.example.com/device\n"));
        CHECK(strstr(s, "\nLogin to h for alice from evil.example\n"));
}

TEST(info_qr_choice) {
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *qr_short = NULL, *utf = NULL;
        char longc[900];
        ConvInfo i = base_info();

        /* a complete URI too long for 80 columns: the QR code is the short URI's */
        snprintf(longc, sizeof(longc), "%s?user_code=WDJB-MJHT&state=%0500d", i.uri, 0);
        i.uri_complete = longc;
        CHECK_INTEQ(conv_build_info(&i, &a), 0);
        CHECK(qr_render(i.uri, QR_STYLE_ASCII, &qr_short) > 0);
        CHECK(a && qr_short && strstr(a, qr_short));

        /* qr=off: no QR code, the rest still there */
        i.qr = QR_STYLE_NONE;
        CHECK_INTEQ(conv_build_info(&i, &b), 0);
        CHECK(b && !strchr(b, '#') && strncmp(b, "Login to build7", 15) == 0 && strstr(b, "Code:  WDJB-MJHT\nValid until"));

        /* UTF-8 half blocks */
        i = base_info();
        i.qr = QR_STYLE_UTF8;
        CHECK_INTEQ(conv_build_info(&i, &c), 0);
        CHECK(qr_render(i.uri_complete, QR_STYLE_UTF8, &utf) > 0);
        CHECK(c && utf && strstr(c, utf) && strstr(c, "\u2588") && !strchr(c, '#'));
}

/* --- the conversation, through a real pam handle ------------------------------------------------ */

typedef struct ConvLog {
        unsigned calls;
        int n_msgs;
        int styles[4];
        char texts[4][4096];
        int ret;
        bool no_resp;
        bool eof;               /* an array without the prompt's string: Ctrl-D at a console */
        const char *answer;     /* what the "user" types at a prompt; NULL: just Enter */
} ConvLog;

static int fake_conv(int n, const struct pam_message **msgs, struct pam_response **resp, void *userdata) {
        ConvLog *log = userdata;

        log->calls++;
        log->n_msgs = n;
        for (int i = 0; i < n && i < 4; i++) {
                log->styles[i] = msgs[i]->msg_style;
                snprintf(log->texts[i], sizeof(log->texts[i]), "%s", msgs[i]->msg);
        }
        if (log->ret != PAM_SUCCESS)
                return log->ret;
        if (log->no_resp) {
                *resp = NULL;
                return PAM_SUCCESS;
        }
        *resp = calloc((size_t) n, sizeof(struct pam_response));
        for (int i = 0; i < n; i++)
                if (msgs[i]->msg_style == PAM_PROMPT_ECHO_OFF && !log->eof)
                        (*resp)[i].resp = strdup(log->answer ?: "");
        return PAM_SUCCESS;
}

static pam_handle_t *start_pam(ConvLog *log, char *dir) {
        struct pam_conv conv = { fake_conv, log };
        pam_handle_t *pamh = NULL;
        char path[256];
        FILE *f;

        CHECK(mkdtemp(dir) != NULL);
        snprintf(path, sizeof(path), "%s/devflow-test", dir);
        f = fopen(path, "we");
        CHECK(f != NULL);
        if (!f)
                return NULL;
        fputs("auth required pam_deny.so\n", f);
        fclose(f);
        CHECK_INTEQ(pam_start_confdir("devflow-test", "alice", &conv, dir, &pamh), PAM_SUCCESS);
        unlink(path);
        rmdir(dir);
        return pamh;
}

TEST(conv_one_call) {
        ConvLog log = { .ret = PAM_SUCCESS };
        char dir[] = "/tmp/test-conv.XXXXXX";
        pam_handle_t *pamh = start_pam(&log, dir);

        if (!pamh)
                return;
        CHECK_INTEQ(conv_send(pamh, PAM_TEXT_INFO, "Login to h for alice", "Press Enter: "), PAM_SUCCESS);
        CHECK_INTEQ(log.calls, 1);
        CHECK_INTEQ(log.n_msgs, 2);
        CHECK_INTEQ(log.styles[0], PAM_TEXT_INFO);
        CHECK_STREQ(log.texts[0], "Login to h for alice");
        CHECK_INTEQ(log.styles[1], PAM_PROMPT_ECHO_OFF);
        CHECK_STREQ(log.texts[1], "Press Enter: ");

        /* info only (prompt=none), and prompt only (PAM_SILENT) */
        CHECK_INTEQ(conv_send(pamh, PAM_ERROR_MSG, "Login timed out.", NULL), PAM_SUCCESS);
        CHECK_INTEQ(log.n_msgs, 1);
        CHECK_INTEQ(log.styles[0], PAM_ERROR_MSG);
        CHECK_INTEQ(conv_send(pamh, PAM_TEXT_INFO, NULL, "Press Enter: "), PAM_SUCCESS);
        CHECK_INTEQ(log.n_msgs, 1);
        CHECK_INTEQ(log.styles[0], PAM_PROMPT_ECHO_OFF);

        /* failures of the application */
        log.ret = PAM_CONV_ERR;
        CHECK_INTEQ(conv_send(pamh, PAM_TEXT_INFO, "x", "y"), PAM_CONV_ERR);
        log.ret = PAM_ABORT;
        CHECK_INTEQ(conv_send(pamh, PAM_TEXT_INFO, "x", "y"), PAM_CONV_ERR);
        log.ret = PAM_BUF_ERR;
        CHECK_INTEQ(conv_send(pamh, PAM_TEXT_INFO, "x", "y"), PAM_BUF_ERR);
        log.ret = PAM_SUCCESS;
        log.no_resp = true;
        CHECK_INTEQ(conv_send(pamh, PAM_TEXT_INFO, "x", "y"), PAM_CONV_ERR);
        log.no_resp = false;
        log.eof = true;
        CHECK_INTEQ(conv_send(pamh, PAM_TEXT_INFO, "x", "y"), PAM_CONV_ERR);
        CHECK_INTEQ(conv_send(pamh, PAM_TEXT_INFO, "info only", NULL), PAM_SUCCESS);

        /* Text at the Enter prompt is not an Enter (sshd's password method answers every prompt with the
         * password): the caller ends the login. */
        log.eof = false;
        log.answer = "hunter2";
        CHECK_INTEQ(conv_send(pamh, PAM_TEXT_INFO, "x", "Press Enter: "), PAM_AUTH_ERR);
        CHECK_INTEQ(conv_send(pamh, PAM_TEXT_INFO, NULL, "Press Enter: "), PAM_AUTH_ERR);
        log.answer = " ";
        CHECK_INTEQ(conv_send(pamh, PAM_TEXT_INFO, "x", "Press Enter: "), PAM_AUTH_ERR);
        CHECK_INTEQ(conv_send(pamh, PAM_TEXT_INFO, "info only, nothing asked", NULL), PAM_SUCCESS);
        log.answer = "";
        CHECK_INTEQ(conv_send(pamh, PAM_TEXT_INFO, "x", "Press Enter: "), PAM_SUCCESS);

        pam_end(pamh, PAM_SUCCESS);
}

/* --- outcome → PAM code, the one mapping --------------------------------------------------------- */

static Outcome verdict(bool allowed, const char *local_user, const char *message) {
        Outcome o = OUTCOME_NULL;
        o.kind = OUTCOME_VERDICT;
        o.allowed = allowed;
        o.local_user = strdup(local_user);
        o.message = strdup(message);
        return o;
}

static Outcome bus_err(const char *name, const char *message) {
        Outcome o = OUTCOME_NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_error_set(&e, name, message);
        bus_outcome_fail(&o, -EIO, &e);
        return o;
}

static Outcome local_err(int e) {
        Outcome o = OUTCOME_NULL;
        bus_outcome_fail(&o, e, NULL);
        return o;
}

TEST(outcome_verdicts) {
        static const struct {
                bool allowed;
                const char *local_user;
                int want;
        } cases[] = {
                { true, "alice", PAM_SUCCESS },
                { false, "alice", PAM_AUTH_ERR },
                { true, "bob", PAM_AUTH_ERR },
                { true, "alice2", PAM_AUTH_ERR },       /* no prefix match */
                { true, "alic", PAM_AUTH_ERR },
                { true, "Alice", PAM_AUTH_ERR },        /* byte for byte */
                { true, "alice ", PAM_AUTH_ERR },
                { true, "", PAM_AUTH_ERR },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                Outcome o = verdict(cases[i].allowed, cases[i].local_user, "hello");
                CHECK_INTEQ(bus_outcome_to_pam(&o, "alice"), cases[i].want);
                bus_outcome_done(&o);
        }

        /* an allowed verdict never succeeds for an empty PAM user; a failure recorded after it replaces it */
        Outcome o = verdict(true, "", "");
        CHECK_INTEQ(bus_outcome_to_pam(&o, ""), PAM_AUTH_ERR);
        bus_outcome_done(&o);
        static const struct {
                OutcomeKind kind;
                int want;
        } after[] = {
                { OUTCOME_TIMED_OUT, PAM_AUTH_ERR },
                { OUTCOME_CONV_FAILED, PAM_CONV_ERR },
                { OUTCOME_TYPED_ANSWER, PAM_AUTH_ERR },
        };
        for (size_t i = 0; i < ELEMENTSOF(after); i++) {
                o = verdict(true, "alice", "");
                CHECK_INTEQ(bus_outcome_to_pam(&o, "alice"), PAM_SUCCESS);
                bus_outcome_set(&o, after[i].kind);
                CHECK_INTEQ(bus_outcome_to_pam(&o, "alice"), after[i].want);
                CHECK(o.local_user == NULL);
                bus_outcome_done(&o);
        }
        o = verdict(true, "alice", "");
        bus_outcome_fail(&o, -EBADMSG, NULL);
        CHECK_INTEQ(bus_outcome_to_pam(&o, "alice"), PAM_AUTH_ERR);
        bus_outcome_done(&o);
        o = verdict(true, "alice", "");
        bus_outcome_fail(&o, /* r= */ 0, NULL);      /* a failure without an errno is still a failure */
        CHECK_INTEQ(o.error, -EIO);
        CHECK_INTEQ(bus_outcome_to_pam(&o, "alice"), PAM_AUTH_ERR);
        bus_outcome_done(&o);
        /* a kind out of range is no success either */
        o = OUTCOME_NULL;
        o.kind = _OUTCOME_KIND_INVALID;
        CHECK_INTEQ(bus_outcome_to_pam(&o, "alice"), PAM_AUTH_ERR);
        o.kind = _OUTCOME_KIND_MAX;
        CHECK_INTEQ(bus_outcome_to_pam(&o, "alice"), PAM_AUTH_ERR);

        Outcome none = OUTCOME_NULL;
        CHECK_INTEQ(bus_outcome_to_pam(&none, "alice"), PAM_AUTH_ERR);
        CHECK_INTEQ(bus_outcome_to_pam(NULL, "alice"), PAM_AUTH_ERR);
}

TEST(outcome_errors) {
        static const struct {
                const char *name;
                int want;
        } cases[] = {
                { DEVFLOW_ERROR_DENIED, PAM_AUTH_ERR },
                { DEVFLOW_ERROR_EXPIRED, PAM_AUTH_ERR },
                { DEVFLOW_ERROR_CANCELLED, PAM_AUTH_ERR },
                { DEVFLOW_ERROR_TOKEN_INVALID, PAM_AUTH_ERR },
                { DEVFLOW_ERROR_NOT_PERMITTED, PAM_AUTH_ERR },
                { DEVFLOW_ERROR_RHOST_NOT_ALLOWED, PAM_AUTH_ERR },
                { DEVFLOW_ERROR_NO_SUCH_FLOW, PAM_AUTH_ERR },
                { DEVFLOW_ERROR_UNKNOWN_USER, PAM_USER_UNKNOWN },
                { DEVFLOW_ERROR_IDP_UNAVAILABLE, PAM_AUTHINFO_UNAVAIL },
                { DEVFLOW_ERROR_IDP_ERROR, PAM_AUTHINFO_UNAVAIL },
                { DEVFLOW_ERROR_SHUTTING_DOWN, PAM_AUTHINFO_UNAVAIL },
                { DEVFLOW_ERROR_TOO_MANY_FLOWS, PAM_MAXTRIES },
                { DEVFLOW_ERROR_RATE_LIMITED, PAM_MAXTRIES },
                { "org.freedesktop.DBus.Error.ServiceUnknown", PAM_AUTHINFO_UNAVAIL },
                { "org.freedesktop.DBus.Error.NameHasNoOwner", PAM_AUTHINFO_UNAVAIL },
                { "org.freedesktop.DBus.Error.NoReply", PAM_AUTHINFO_UNAVAIL },
                { "org.freedesktop.DBus.Error.Disconnected", PAM_AUTHINFO_UNAVAIL },
                { "org.freedesktop.DBus.Error.Timeout", PAM_AUTHINFO_UNAVAIL },
                { "org.freedesktop.DBus.Error.TimedOut", PAM_AUTHINFO_UNAVAIL },
                { "org.freedesktop.DBus.Error.Spawn.ChildExited", PAM_AUTHINFO_UNAVAIL },
                { "org.freedesktop.DBus.Error.Spawn.ServiceNotFound", PAM_AUTHINFO_UNAVAIL },
                { "org.freedesktop.DBus.Error.UnknownObject", PAM_AUTHINFO_UNAVAIL },   /* daemon restarted */
                { "org.freedesktop.DBus.Error.NoServer", PAM_AUTHINFO_UNAVAIL },
                { "org.freedesktop.systemd1.NoSuchUnit", PAM_AUTHINFO_UNAVAIL },
                { "org.freedesktop.systemd1.UnitMasked", PAM_AUTHINFO_UNAVAIL },
                { "org.freedesktop.DBus.Error.NoMemory", PAM_BUF_ERR },
                { "org.freedesktop.DBus.Error.AccessDenied", PAM_AUTH_ERR },
                { "org.freedesktop.DBus.Error.UnknownMethod", PAM_AUTH_ERR },
                { "org.freedesktop.DBus.Error.InvalidArgs", PAM_AUTH_ERR },
                { DEVFLOW_ERROR_PREFIX "SomethingNew", PAM_AUTH_ERR },
                { "com.example.Weird", PAM_AUTH_ERR },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                Outcome o = bus_err(cases[i].name, "msg");
                int r = bus_outcome_to_pam(&o, "alice");
                bool ok = r == cases[i].want && r != PAM_SUCCESS && r != PAM_IGNORE;
                CHECK(ok);
                test_report("outcome_errors", cases[i].name + (strrchr(cases[i].name, '.') - cases[i].name) + 1, ok);
                bus_outcome_done(&o);
        }

        static const struct {
                int e;
                int want;
        } errs[] = {
                { -ENOMEM, PAM_BUF_ERR },
                { -ENOENT, PAM_AUTHINFO_UNAVAIL },       /* no bus socket */
                { -ECONNREFUSED, PAM_AUTHINFO_UNAVAIL },
                { -ECONNRESET, PAM_AUTHINFO_UNAVAIL },
                { -ENOTCONN, PAM_AUTHINFO_UNAVAIL },
                { -ETIMEDOUT, PAM_AUTHINFO_UNAVAIL },
                { -ECONNABORTED, PAM_AUTHINFO_UNAVAIL },
                { -EPIPE, PAM_AUTHINFO_UNAVAIL },
                { -EBADMSG, PAM_AUTH_ERR },              /* malformed reply */
                { -EINVAL, PAM_AUTH_ERR },
                { -EIO, PAM_AUTH_ERR },
        };
        for (size_t i = 0; i < ELEMENTSOF(errs); i++) {
                Outcome o = local_err(errs[i].e);
                CHECK_INTEQ(bus_outcome_to_pam(&o, "alice"), errs[i].want);
        }

        Outcome exp = bus_err(DEVFLOW_ERROR_EXPIRED, "expired");
        CHECK(bus_outcome_is_expired(&exp));
        bus_outcome_done(&exp);
        Outcome den = bus_err(DEVFLOW_ERROR_DENIED, "no");
        CHECK(!bus_outcome_is_expired(&den));
        bus_outcome_done(&den);
}

TEST(outcome_messages) {
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *d = NULL, *e = NULL, *f = NULL, *g = NULL;
        Outcome o;

        o = verdict(false, "alice", "Refused: not in group \x1b]0;pwned\x07ssh-users\n");
        CHECK_INTEQ(conv_outcome_message(&o, "alice", &a), 0);
        CHECK_STREQ(a, "Refused: not in group ssh-users");
        bus_outcome_done(&o);

        o = verdict(true, "bob", "Welcome bob");
        CHECK_INTEQ(conv_outcome_message(&o, "alice", &b), 0);
        CHECK_STREQ(b, "The approving account does not match this login.");
        bus_outcome_done(&o);

        o = verdict(true, "alice", "Welcome");
        CHECK_INTEQ(conv_outcome_message(&o, "alice", &c), 0);
        CHECK(c == NULL);
        bus_outcome_done(&o);

        o = bus_err(DEVFLOW_ERROR_DENIED, "Access denied at the IdP\x9b" "2J");
        CHECK_INTEQ(conv_outcome_message(&o, "alice", &d), 0);
        CHECK_STREQ(d, "Access denied at the IdP");
        bus_outcome_done(&o);

        o = bus_err("org.freedesktop.DBus.Error.ServiceUnknown", "The name is not activatable");
        CHECK_INTEQ(conv_outcome_message(&o, "alice", &e), 0);
        CHECK_STREQ(e, "The login service is not available.");
        bus_outcome_done(&o);

        {
                _cleanup_free_ char *h = NULL;
                o = bus_err("org.freedesktop.DBus.Error.InvalidArgs", "Context key 'rhost' has an invalid value.");
                CHECK_INTEQ(conv_outcome_message(&o, "alice", &h), 0);
                CHECK_STREQ(h, "The login request was refused (invalid host, service or user name).");
                bus_outcome_done(&o);
        }

        o = OUTCOME_NULL;
        bus_outcome_set(&o, OUTCOME_TIMED_OUT);
        CHECK_INTEQ(conv_outcome_message(&o, "alice", &f), 0);
        CHECK_STREQ(f, "Login timed out.");

        o = OUTCOME_NULL;
        bus_outcome_set(&o, OUTCOME_CONV_FAILED);
        CHECK_INTEQ(conv_outcome_message(&o, "alice", &g), 0);
        CHECK(g == NULL);

        {
                _cleanup_free_ char *t = NULL;
                o = OUTCOME_NULL;
                bus_outcome_set(&o, OUTCOME_TYPED_ANSWER);
                CHECK_INTEQ(conv_outcome_message(&o, "alice", &t), 0);
                CHECK_STREQ(t, "Login cancelled: this prompt takes Enter only, not a password.");
        }
}

int main(void) {
        return run_tests();
}
