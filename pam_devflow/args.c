/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <string.h>

#include "args.h"
#include "macro.h"

static const char *const qr_mode_table[_QR_MODE_MAX] = {
        [QR_MODE_AUTO] = "auto",
        [QR_MODE_ASCII] = "ascii",
        [QR_MODE_UTF8] = "utf8",
        [QR_MODE_OFF] = "off",
};

static const char *const prompt_mode_table[_PROMPT_MAX] = {
        [PROMPT_ENTER] = "enter",
        [PROMPT_NONE] = "none",
};

static int lookup(const char *const *table, size_t n, const char *s) {
        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (table[i] && streq(table[i], s))
                        return (int) i;
        return -EINVAL;
}

QrMode qr_mode_from_string(const char *s) {
        return (QrMode) lookup(qr_mode_table, ELEMENTSOF(qr_mode_table), s);
}

const char *qr_mode_to_string(QrMode m) {
        return m >= 0 && m < _QR_MODE_MAX ? qr_mode_table[m] : NULL;
}

PromptMode prompt_mode_from_string(const char *s) {
        return (PromptMode) lookup(prompt_mode_table, ELEMENTSOF(prompt_mode_table), s);
}

const char *prompt_mode_to_string(PromptMode m) {
        return m >= 0 && m < _PROMPT_MAX ? prompt_mode_table[m] : NULL;
}

void args_init(Args *ret) {
        assert(ret);
        *ret = (Args) {
                .qr = QR_MODE_AUTO,
                .prompt = PROMPT_ENTER,
                .timeout_sec = ARGS_TIMEOUT_DEFAULT_SEC,
                .debug = false,
        };
}

/* Plain decimal seconds only: no sign, no suffix, no leading blanks, within the bounds. */
static int parse_timeout(const char *s, unsigned *ret) {
        unsigned long v = 0;

        if (!s || !*s)
                return -EINVAL;
        for (const char *p = s; *p; p++) {
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                v = v * 10 + (unsigned long) (*p - '0');
                if (v > ARGS_TIMEOUT_MAX_SEC)
                        return -ERANGE;
        }
        if (v < ARGS_TIMEOUT_MIN_SEC)
                return -ERANGE;
        *ret = (unsigned) v;
        return 0;
}

static const char *startswith(const char *s, const char *prefix) {
        size_t l = strlen(prefix);
        return strncmp(s, prefix, l) == 0 ? s + l : NULL;
}

int args_parse(int argc, const char *const *argv, args_warn_t warn, void *userdata, Args *ret) {
        Args a;
        int ignored = 0;

        assert(argc >= 0);
        assert(argc == 0 || argv);
        assert(ret);

        args_init(&a);

        for (int i = 0; i < argc; i++) {
                const char *arg = argv[i], *v, *reason = NULL;

                if (!arg)
                        continue;

                if ((v = startswith(arg, "qr="))) {
                        QrMode m = qr_mode_from_string(v);
                        if (m < 0)
                                reason = "invalid qr= value (expected auto, ascii, utf8 or off)";
                        else
                                a.qr = m;
                } else if ((v = startswith(arg, "prompt="))) {
                        PromptMode m = prompt_mode_from_string(v);
                        if (m < 0)
                                reason = "invalid prompt= value (expected enter or none)";
                        else
                                a.prompt = m;
                } else if ((v = startswith(arg, "timeout="))) {
                        unsigned t;
                        int r = parse_timeout(v, &t);
                        if (r == -ERANGE)
                                reason = "timeout= out of range (10..3600 seconds)";
                        else if (r < 0)
                                reason = "invalid timeout= value (expected seconds)";
                        else
                                a.timeout_sec = t;
                } else if (streq(arg, "debug"))
                        a.debug = true;
                else
                        reason = "unknown argument";

                if (reason) {
                        ignored++;
                        if (warn)
                                warn(userdata, arg, reason);
                }
        }

        *ret = a;
        return ignored;
}
