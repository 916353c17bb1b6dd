/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The module's arguments: pam_devflow.so [qr=auto|ascii|utf8|off] [prompt=enter|none]
 * [timeout=SECONDS] [debug]. Pure parsing, no pam handle: the caller logs what is ignored. */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

typedef enum QrMode {
        QR_MODE_AUTO,   /* ASCII over SSH (PAM_RHOST set), half blocks on a UTF-8 local console */
        QR_MODE_ASCII,
        QR_MODE_UTF8,
        QR_MODE_OFF,
        _QR_MODE_MAX,
        _QR_MODE_INVALID = -EINVAL,
} QrMode;

typedef enum PromptMode {
        PROMPT_ENTER,   /* info block + "Press Enter once you have approved" (works over SSH) */
        PROMPT_NONE,    /* info block only, then block until the verdict (consoles) */
        _PROMPT_MAX,
        _PROMPT_INVALID = -EINVAL,
} PromptMode;

#define ARGS_TIMEOUT_DEFAULT_SEC 110U   /* inside sshd's default LoginGraceTime of 120 s */
#define ARGS_TIMEOUT_MIN_SEC 10U
#define ARGS_TIMEOUT_MAX_SEC 3600U

typedef struct Args {
        QrMode qr;
        PromptMode prompt;
        unsigned timeout_sec;
        bool debug;
} Args;

/* Called once per ignored argument; reason is a short constant text ("unknown argument", …). */
typedef void (*args_warn_t)(void *userdata, const char *arg, const char *reason);

void args_init(Args *ret);
QrMode qr_mode_from_string(const char *s);
const char *qr_mode_to_string(QrMode m);
PromptMode prompt_mode_from_string(const char *s);
const char *prompt_mode_to_string(PromptMode m);

/* Parses argv over the defaults. Unknown or invalid arguments are reported through warn (may be NULL)
 * and ignored, as Linux-PAM modules do; later arguments override earlier ones. Returns the number of
 * ignored arguments (>= 0). */
int args_parse(int argc, const char *const *argv, args_warn_t warn, void *userdata, Args *ret);
