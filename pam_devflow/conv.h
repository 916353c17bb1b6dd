/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the user sees: the info block (host, user, source, link, code, QR, validity), sanitising of
 * every string that came from the daemon or the IdP, and the PAM conversation itself. Everything but
 * conv_send() is pure and needs no pam handle. */

#include <security/pam_modules.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "args.h"
#include "bus.h"
#include "qr.h"

#define CONV_FIELD_MAX 512U     /* a field sanitised by text_strip() is cut (at a character boundary) after this many bytes */
#define CONV_URI_MAX QR_TEXT_MAX

/* "HH:MM:SS (in N minutes)" in local time; expires_usec and now_usec are CLOCK_REALTIME µs. */
int conv_format_expiry(uint64_t expires_usec, uint64_t now_usec, char **ret);

/* Whether the locale is UTF-8: nl_langinfo(CODESET) when the application set a locale, else the first
 * non-empty of LC_ALL, LC_CTYPE, LANG. Any argument may be NULL. */
bool conv_locale_is_utf8(const char *codeset, const char *lc_all, const char *lc_ctype, const char *lang);

/* qr= and the situation → how to draw: over SSH (remote) plain ASCII, since OpenSSH escapes non-ASCII
 * when the client's locale is not UTF-8 and the server cannot know it; half blocks only on a local
 * UTF-8 console or when asked for. */
QrStyle conv_qr_style(QrMode mode, bool remote, bool utf8_locale);

typedef struct ConvInfo {
        const char *host;               /* gethostname() */
        const char *user;               /* PAM_USER */
        const char *rhost;              /* PAM_RHOST, NULL or "" when unset */
        const char *user_code;          /* from here on: from the daemon/IdP, sanitised before use */
        const char *uri;
        const char *uri_complete;       /* may be "" */
        uint64_t valid_until_usec;      /* CLOCK_REALTIME µs: min(code expiry, the module's deadline) */
        uint64_t now_usec;
        QrStyle qr;
} ConvInfo;

/* The info block, lines separated by '\n', no trailing newline (sshd adds one):
 *   <QR code of the complete URI, or of URI when the complete one is absent or too wide>
 *   Login to HOST for USER from RHOST
 *   Open:  URI
 *   Code:  CODE
 *   Valid until HH:MM:SS (in N minutes).
 * " from RHOST" is left out when PAM_RHOST is unset. */
int conv_build_info(const ConvInfo *info, char **ret);

/* One conversation call: an optional PAM_TEXT_INFO/PAM_ERROR_MSG text (info_style) followed by an
 * optional prompt (PAM_PROMPT_ECHO_OFF). sshd shows info text only together with the next prompt, so
 * both travel together. Answers are wiped and freed, never read. Returns PAM_SUCCESS (an empty answer:
 * Enter), PAM_AUTH_ERR (the prompt was answered with text, e.g. a password: not an Enter), PAM_CONV_ERR
 * (the conversation failed, or no answer at all) or PAM_BUF_ERR. */
int conv_send(pam_handle_t *pamh, int info_style, const char *info, const char *prompt);

/* The text shown with PAM_ERROR_MSG after a failed login (sanitised daemon message where there is one);
 * *ret is NULL when nothing is to be shown (success, or the conversation itself failed). */
int conv_outcome_message(const Outcome *o, const char *pam_user, char **ret);
