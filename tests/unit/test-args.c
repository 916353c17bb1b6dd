/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The module's arguments: defaults, every argument, invalid values and unknown arguments (reported
 * and ignored, the rest still applied). */

#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "macro.h"
#include "test.h"

typedef struct Warnings {
        unsigned n;
        char last_arg[128];
} Warnings;

static void on_warn(void *userdata, const char *arg, const char *reason) {
        Warnings *w = userdata;
        w->n++;
        snprintf(w->last_arg, sizeof(w->last_arg), "%s", arg);
        CHECK(reason && *reason);
}

static int parse(Args *a, Warnings *w, const char *const *argv) {
        int argc = 0;
        while (argv && argv[argc])
                argc++;
        *w = (Warnings) {};
        return args_parse(argc, argv, on_warn, w, a);
}

TEST(defaults) {
        Args a;
        Warnings w;

        CHECK_INTEQ(parse(&a, &w, (const char *const[]) { NULL }), 0);
        CHECK_INTEQ(a.qr, QR_MODE_AUTO);
        CHECK_INTEQ(a.prompt, PROMPT_ENTER);
        CHECK_INTEQ(a.timeout_sec, 110);
        CHECK(!a.debug);
        CHECK_INTEQ(w.n, 0);

        CHECK_INTEQ(args_parse(0, NULL, NULL, NULL, &a), 0);
        CHECK_INTEQ(a.timeout_sec, ARGS_TIMEOUT_DEFAULT_SEC);
}

TEST(every_argument) {
        Args a;
        Warnings w;

        CHECK_INTEQ(parse(&a, &w, (const char *const[]) { "qr=ascii", "prompt=none", "timeout=60", "debug", NULL }), 0);
        CHECK_INTEQ(a.qr, QR_MODE_ASCII);
        CHECK_INTEQ(a.prompt, PROMPT_NONE);
        CHECK_INTEQ(a.timeout_sec, 60);
        CHECK(a.debug);
        CHECK_INTEQ(w.n, 0);
}

static const struct {
        const char *arg;
        QrMode qr;
} qr_cases[] = {
        { "qr=auto", QR_MODE_AUTO },
        { "qr=ascii", QR_MODE_ASCII },
        { "qr=utf8", QR_MODE_UTF8 },
        { "qr=off", QR_MODE_OFF },
};

TEST(qr_values) {
        for (size_t i = 0; i < ELEMENTSOF(qr_cases); i++) {
                Args a;
                Warnings w;
                bool ok;

                /* start from a non-default so "auto" really is parsed */
                ok = parse(&a, &w, (const char *const[]) { "qr=off", qr_cases[i].arg, NULL }) == 0 &&
                     a.qr == qr_cases[i].qr && w.n == 0;
                CHECK(ok);
                test_report("qr_values", qr_cases[i].arg, ok);
                CHECK_STREQ(qr_mode_to_string(qr_cases[i].qr), qr_cases[i].arg + 3);
        }
}

TEST(prompt_values) {
        Args a;
        Warnings w;

        CHECK_INTEQ(parse(&a, &w, (const char *const[]) { "prompt=none", NULL }), 0);
        CHECK_INTEQ(a.prompt, PROMPT_NONE);
        CHECK_INTEQ(parse(&a, &w, (const char *const[]) { "prompt=none", "prompt=enter", NULL }), 0);
        CHECK_INTEQ(a.prompt, PROMPT_ENTER);
        CHECK_STREQ(prompt_mode_to_string(PROMPT_NONE), "none");
        CHECK(prompt_mode_to_string(_PROMPT_MAX) == NULL);
}

TEST(timeout_bounds) {
        Args a;
        Warnings w;

        CHECK_INTEQ(parse(&a, &w, (const char *const[]) { "timeout=10", NULL }), 0);
        CHECK_INTEQ(a.timeout_sec, 10);
        CHECK_INTEQ(parse(&a, &w, (const char *const[]) { "timeout=3600", NULL }), 0);
        CHECK_INTEQ(a.timeout_sec, 3600);
}

/* Each of these is reported once and leaves the default in place. */
static const char *const invalid[] = {
        "qr=", "qr=ASCII", "qr=utf-8", "qr", "qr=auto ", "prompt=", "prompt=yes", "prompt=Enter",
        "timeout=", "timeout=9", "timeout=0", "timeout=3601", "timeout=-5", "timeout=+30", "timeout=30s",
        "timeout= 30", "timeout=0x20", "timeout=99999999999999999999999", "timeout=1e2",
        "debug=1", "Debug", "unknown", "", "use_first_pass", "qr =ascii",
};

TEST(invalid_ignored) {
        for (size_t i = 0; i < ELEMENTSOF(invalid); i++) {
                Args a, d;
                Warnings w;
                int r;
                bool ok;

                args_init(&d);
                r = parse(&a, &w, (const char *const[]) { invalid[i], NULL });
                ok = r == 1 && w.n == 1 && streq(w.last_arg, invalid[i]) && a.qr == d.qr && a.prompt == d.prompt &&
                     a.timeout_sec == d.timeout_sec && a.debug == d.debug;
                CHECK(ok);
                test_report("invalid_ignored", invalid[i], ok);
        }
}

TEST(invalid_does_not_stop_parsing) {
        Args a;
        Warnings w;

        CHECK_INTEQ(parse(&a, &w, (const char *const[]) { "bogus", "qr=utf8", "timeout=5", "debug", "prompt=x",
                                                         "timeout=300", NULL }), 3);
        CHECK_INTEQ(w.n, 3);
        CHECK_STREQ(w.last_arg, "prompt=x");
        CHECK_INTEQ(a.qr, QR_MODE_UTF8);
        CHECK_INTEQ(a.timeout_sec, 300);
        CHECK(a.debug);
        CHECK_INTEQ(a.prompt, PROMPT_ENTER);
}

TEST(null_warn_callback) {
        Args a;
        CHECK_INTEQ(args_parse(2, (const char *const[]) { "nope", "qr=off" }, NULL, NULL, &a), 1);
        CHECK_INTEQ(a.qr, QR_MODE_OFF);
}

int main(void) {
        return run_tests();
}
