/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <inttypes.h>
#include <security/pam_appl.h>
#include <security/pam_ext.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "conv.h"
#include "devflow-bus.h"
#include "macro.h"
#include "text-safety.h"

int conv_format_expiry(uint64_t expires_usec, uint64_t now_usec, char **ret) {
        time_t t = (time_t) (expires_usec / USEC_PER_SEC);
        uint64_t left = expires_usec > now_usec ? (expires_usec - now_usec) / USEC_PER_SEC : 0;
        char when[32], in[48];
        struct tm tm;
        char *s;

        assert(ret);

        if (!localtime_r(&t, &tm) || strftime(when, sizeof(when), "%H:%M:%S", &tm) == 0)
                return -EINVAL;

        if (left < 60)
                snprintf(in, sizeof(in), "in less than a minute");
        else if (left < 90)
                snprintf(in, sizeof(in), "in 1 minute");
        else
                snprintf(in, sizeof(in), "in %" PRIu64 " minutes", (left + 30) / 60);

        if (asprintf(&s, "%s (%s)", when, in) < 0)
                return -ENOMEM;
        *ret = s;
        return 0;
}

static bool has_utf8(const char *s) {
        return s && (strcasestr(s, "utf-8") || strcasestr(s, "utf8"));
}

bool conv_locale_is_utf8(const char *codeset, const char *lc_all, const char *lc_ctype, const char *lang) {
        if (codeset && (strcasecmp(codeset, "UTF-8") == 0 || strcasecmp(codeset, "utf8") == 0))
                return true;
        /* POSIX precedence: the first one set wins */
        if (lc_all && *lc_all)
                return has_utf8(lc_all);
        if (lc_ctype && *lc_ctype)
                return has_utf8(lc_ctype);
        return has_utf8(lang);
}

QrStyle conv_qr_style(QrMode mode, bool remote, bool utf8_locale) {
        switch (mode) {
        case QR_MODE_OFF:
                return QR_STYLE_NONE;
        case QR_MODE_ASCII:
                return QR_STYLE_ASCII;
        case QR_MODE_UTF8:
                return QR_STYLE_UTF8;
        case QR_MODE_AUTO:
                return !remote && utf8_locale ? QR_STYLE_UTF8 : QR_STYLE_ASCII;
        default:
                return QR_STYLE_ASCII;
        }
}

int conv_build_info(const ConvInfo *info, char **ret) {
        _cleanup_free_ char *host = NULL, *user = NULL, *rhost = NULL, *code = NULL, *uri = NULL,
                *uri_complete = NULL, *qr = NULL, *expiry = NULL, *from = NULL;
        const char *qr_text;
        char *s;
        int r;

        assert(info);
        assert(ret);

        if (text_strip(info->host, CONV_FIELD_MAX, &host) < 0 ||
            text_strip(info->user, CONV_FIELD_MAX, &user) < 0 ||
            text_strip(info->rhost, CONV_FIELD_MAX, &rhost) < 0 ||
            text_strip(info->user_code, CONV_FIELD_MAX, &code) < 0 ||
            text_strip(info->uri, CONV_URI_MAX, &uri) < 0 ||
            text_strip(info->uri_complete, CONV_URI_MAX, &uri_complete) < 0)
                return -ENOMEM;

        r = conv_format_expiry(info->valid_until_usec, info->now_usec, &expiry);
        if (r < 0)
                return r;

        /* The QR code encodes exactly what is shown: the sanitised URI. */
        qr_text = qr_pick_text(uri_complete, uri, info->qr);
        if (qr_text && info->qr != QR_STYLE_NONE) {
                r = qr_render(qr_text, info->qr, &qr);
                if (r == -ENOMEM)
                        return r;
                /* r < 0 otherwise: cannot be drawn (too long); the link and the code still work */
        }

        if (*rhost && asprintf(&from, " from %s", rhost) < 0)
                return -ENOMEM;

        /* The QR code first: it is tall, and the lines that matter (who asks, the link, the code) then
         * stay on screen next to the prompt even on a 24-line terminal. */
        if (asprintf(&s,
                     "%s"
                     "Login to %s for %s%s\n"
                     "Open:  %s\n"
                     "Code:  %s\n"
                     "Valid until %s.",
                     strempty(qr),
                     *host ? host : "this host", user, strempty(from),
                     *uri ? uri : uri_complete,
                     code,
                     expiry) < 0)
                return -ENOMEM;

        *ret = s;
        return 0;
}

static void responses_free(struct pam_response *resp, int n) {
        if (!resp)
                return;
        for (int i = 0; i < n; i++)
                erase_and_free(resp[i].resp);   /* "Press Enter" answers may be passwords typed by habit */
        free(resp);
}

int conv_send(pam_handle_t *pamh, int info_style, const char *info, const char *prompt) {
        const struct pam_conv *conv = NULL;
        struct pam_message msgs[2];
        const struct pam_message *pmsgs[2];
        struct pam_response *resp = NULL;
        bool answered, typed;
        int n = 0, r;

        assert(pamh);

        r = pam_get_item(pamh, PAM_CONV, (const void **) &conv);
        if (r != PAM_SUCCESS || !conv || !conv->conv)
                return PAM_CONV_ERR;

        if (info && *info)
                msgs[n++] = (struct pam_message) { .msg_style = info_style, .msg = info };
        if (prompt)
                msgs[n++] = (struct pam_message) { .msg_style = PAM_PROMPT_ECHO_OFF, .msg = prompt };
        if (n == 0)
                return PAM_SUCCESS;
        for (int i = 0; i < n; i++)
                pmsgs[i] = &msgs[i];

        r = conv->conv(n, pmsgs, &resp, conv->appdata_ptr);
        /* A prompt without an answer (no array, or no string in it: Ctrl-D at a console) is the user or the
         * application leaving, not an Enter. */
        answered = !prompt || (resp && resp[n - 1].resp);
        /* Text is not an Enter either: sshd's password method (and other applications that answer every
         * prompt with the password) would otherwise run device flows nobody sees. Never looked at further,
         * and wiped. */
        typed = prompt && answered && resp[n - 1].resp[0] != 0;
        responses_free(resp, n);
        if (r == PAM_BUF_ERR)
                return PAM_BUF_ERR;
        if (r != PAM_SUCCESS)
                return PAM_CONV_ERR;
        if (!answered)
                return PAM_CONV_ERR;
        if (typed)
                return PAM_AUTH_ERR;
        return PAM_SUCCESS;
}

int conv_outcome_message(const Outcome *o, const char *pam_user, char **ret) {
        const char *daemon_text = NULL, *fixed;
        char *s;

        assert(o);
        assert(ret);

        if (o->kind == OUTCOME_CONV_FAILED || bus_outcome_to_pam(o, pam_user) == PAM_SUCCESS) {
                *ret = NULL;
                return 0;
        }

        switch (o->kind) {
        case OUTCOME_TYPED_ANSWER:
                fixed = "Login cancelled: this prompt takes Enter only, not a password.";
                break;
        case OUTCOME_TIMED_OUT:
                fixed = "Login timed out.";
                break;
        case OUTCOME_BUS_ERROR: {
                bool ours = o->bus_error.name &&
                        strncmp(o->bus_error.name, DEVFLOW_ERROR_PREFIX, strlen(DEVFLOW_ERROR_PREFIX)) == 0;

                /* The daemon's own errors carry a message fit to show; D-Bus's own do not. */
                if (ours)
                        daemon_text = o->bus_error.message;
                fixed = ours ? "Login refused." :
                        /* the daemon refused our request as such (e.g. a PAM_RHOST it cannot take) */
                        sd_bus_error_has_name(&o->bus_error, SD_BUS_ERROR_INVALID_ARGS) ?
                                "The login request was refused (invalid host, service or user name)." :
                                "The login service is not available.";
                break;
        }
        case OUTCOME_FAILED:
                fixed = o->error == -ENOMEM ? "Out of memory." :
                        o->error == -EBADMSG ? "The login service sent an invalid answer." :
                        "The login service is not available.";
                break;
        case OUTCOME_VERDICT:
                if (o->allowed)
                        /* allowed, but for another account: never show the daemon's "welcome" here */
                        fixed = "The approving account does not match this login.";
                else {
                        daemon_text = o->message;
                        fixed = "Login refused.";
                }
                break;
        default:
                fixed = "Login refused.";
        }

        if (daemon_text) {
                int r = text_strip(daemon_text, CONV_FIELD_MAX, &s);
                if (r < 0)
                        return r;
                if (*s) {
                        *ret = s;
                        return 0;
                }
                free(s);
        }

        s = strdup(fixed);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}
