/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pam-bench: times real logins through libpam, the real module and the real daemon (bench/README.md).
 *
 *   pam-bench first-prompt  --confdir DIR --service S --user U [--count N]
 *       pam_authenticate() → the conversation receiving the PAM_TEXT_INFO that carries the user code.
 *       The conversation then fails on purpose, so the module cancels the flow and returns.
 *   pam-bench approve-enter --confdir DIR --service S --user U --idp URL --ca FILE [--interval SEC] [--count N]
 *       prompt=enter: the conversation waits out the interval since the code was shown (a person takes
 *       longer anyway), approves at the fake IdP (POST /_test/approve), then answers the prompt at once.
 *       Measures the end of that approve request → pam_authenticate() returning.
 *   pam-bench approve-none  (same options)
 *       prompt=none: another thread approves at a random moment within one interval after the code was
 *       shown. Measures the end of the approve request → pam_authenticate() returning.
 *
 * One line per sample on stdout:  MODE MILLISECONDS PAM_RC ROUNDS
 * (ROUNDS: conversation calls; more than 1 with prompt=enter means the Enter came before the verdict). */

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <regex.h>
#include <security/pam_appl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "time-util.h"

typedef enum Mode {
        MODE_FIRST_PROMPT,
        MODE_APPROVE_ENTER,
        MODE_APPROVE_NONE,
} Mode;

static Mode arg_mode;
static const char *arg_confdir, *arg_service = "devflow-bench", *arg_user, *arg_idp, *arg_ca;
static const char *arg_rhost = "192.0.2.10";
static unsigned arg_count = 1;
static double arg_interval = 1.0;

typedef struct Sample {
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool shown;
        char code[64];
        uint64_t shown_at, approved_at;
        int approve_failed;
        unsigned rounds;
} Sample;

static regex_t code_re;
static CURL *curl;

static void sleep_until(uint64_t t) {
        uint64_t n = now_usec(CLOCK_MONOTONIC);

        if (t > n)
                (void) usleep((useconds_t) (t - n));
}

static size_t discard(char *p, size_t size, size_t n, void *userdata) {
        return size * n;
}

/* POST /_test/approve for that code, with the PAM user as preferred_username. One kept-alive connection. */
static int approve(const char *code) {
        char body[256], url[1024];
        long status = 0;
        CURLcode c;

        (void) snprintf(url, sizeof url, "%s/_test/approve", arg_idp);
        (void) snprintf(body, sizeof body, "{\"user_code\":\"%s\",\"claims\":{\"preferred_username\":\"%s\"}}",
                        code, arg_user);
        curl_easy_setopt(curl, CURLOPT_URL, url);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        c = curl_easy_perform(curl);
        if (c != CURLE_OK) {
                fprintf(stderr, "pam-bench: approve: %s\n", curl_easy_strerror(c));
                return -EIO;
        }
        (void) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        if (status != 200) {
                fprintf(stderr, "pam-bench: approve: HTTP %ld\n", status);
                return -EIO;
        }
        return 0;
}

static int conv(int n, const struct pam_message **msg, struct pam_response **ret, void *userdata) {
        Sample *s = userdata;
        uint64_t t = now_usec(CLOCK_MONOTONIC);
        struct pam_response *resp;
        bool has_prompt = false;
        const char *code = NULL;
        regmatch_t m[1];

        s->rounds++;
        for (int i = 0; i < n; i++) {
                if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF || msg[i]->msg_style == PAM_PROMPT_ECHO_ON)
                        has_prompt = true;
                if (!code && msg[i]->msg_style == PAM_TEXT_INFO && msg[i]->msg &&
                    regexec(&code_re, msg[i]->msg, 1, m, 0) == 0)
                        code = msg[i]->msg + m[0].rm_so;
        }

        if (code && !s->shown) {
                pthread_mutex_lock(&s->lock);
                s->shown = true;
                s->shown_at = t;
                memcpy(s->code, code, 9);
                s->code[9] = 0;
                pthread_cond_broadcast(&s->cond);
                pthread_mutex_unlock(&s->lock);

                if (arg_mode == MODE_FIRST_PROMPT)
                        return PAM_CONV_ERR;    /* the module cancels the flow and returns */
                if (arg_mode == MODE_APPROVE_ENTER) {
                        sleep_until(t + (uint64_t) (arg_interval * 1e6));
                        if (approve(s->code) < 0)
                                s->approve_failed = 1;
                        s->approved_at = now_usec(CLOCK_MONOTONIC);
                }
        }

        if (!has_prompt) {
                *ret = NULL;
                return PAM_SUCCESS;
        }
        resp = calloc((size_t) n, sizeof *resp);
        if (!resp)
                return PAM_BUF_ERR;
        for (int i = 0; i < n; i++)
                if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF || msg[i]->msg_style == PAM_PROMPT_ECHO_ON)
                        resp[i].resp = strdup("");
        *ret = resp;
        return PAM_SUCCESS;
}

/* prompt=none: approve at a random moment within one interval after the code was shown. */
static void *approver(void *userdata) {
        Sample *s = userdata;
        uint64_t delay;

        pthread_mutex_lock(&s->lock);
        while (!s->shown)
                pthread_cond_wait(&s->cond, &s->lock);
        pthread_mutex_unlock(&s->lock);

        delay = (uint64_t) ((double) random() / ((double) RAND_MAX + 1.0) * arg_interval * 1e6);
        sleep_until(s->shown_at + delay);
        if (approve(s->code) < 0)
                s->approve_failed = 1;
        s->approved_at = now_usec(CLOCK_MONOTONIC);
        return NULL;
}

static int one(void) {
        Sample s = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };
        struct pam_conv pc = { .conv = conv, .appdata_ptr = &s };
        pam_handle_t *pamh = NULL;
        pthread_t thread;
        bool threaded = false;
        uint64_t t0, t1;
        double ms;
        int r, rc;

        r = pam_start_confdir(arg_service, arg_user, &pc, arg_confdir, &pamh);
        if (r != PAM_SUCCESS) {
                fprintf(stderr, "pam-bench: pam_start_confdir: %s\n", pam_strerror(NULL, r));
                return -EIO;
        }
        (void) pam_set_item(pamh, PAM_RHOST, arg_rhost);
        (void) pam_set_item(pamh, PAM_TTY, "ssh");

        if (arg_mode == MODE_APPROVE_NONE) {
                if (pthread_create(&thread, NULL, approver, &s) != 0) {
                        pam_end(pamh, PAM_SUCCESS);
                        return -EAGAIN;
                }
                threaded = true;
        }

        t0 = now_usec(CLOCK_MONOTONIC);
        rc = pam_authenticate(pamh, 0);
        t1 = now_usec(CLOCK_MONOTONIC);

        if (threaded) {
                if (!s.shown) {
                        /* never shown: release the thread with a code that approves nothing */
                        pthread_mutex_lock(&s.lock);
                        s.shown = true;
                        s.shown_at = now_usec(CLOCK_MONOTONIC);
                        strcpy(s.code, "XXXX-XXXX");
                        pthread_cond_broadcast(&s.cond);
                        pthread_mutex_unlock(&s.lock);
                }
                pthread_join(thread, NULL);
        }
        pam_end(pamh, rc);

        if (!s.shown) {
                fprintf(stderr, "pam-bench: no code was shown (pam_authenticate: %s)\n", pam_strerror(NULL, rc));
                return -EIO;
        }
        if (s.approve_failed)
                return -EIO;

        switch (arg_mode) {
        case MODE_FIRST_PROMPT:
                ms = (double) (s.shown_at - t0) / 1000.0;
                printf("first-prompt %.3f %d %u\n", ms, rc, s.rounds);
                break;
        case MODE_APPROVE_ENTER:
        case MODE_APPROVE_NONE:
                ms = t1 >= s.approved_at ? (double) (t1 - s.approved_at) / 1000.0 : 0.0;
                printf("%s %.3f %d %u\n", arg_mode == MODE_APPROVE_ENTER ? "approve-enter" : "approve-none",
                       ms, rc, s.rounds);
                break;
        }
        fflush(stdout);
        if (getenv("PAM_BENCH_TRACE")) {
                /* wall-clock stamps (ms), to line up with the fake IdP's requests.jsonl */
                uint64_t off = now_usec(CLOCK_REALTIME) - now_usec(CLOCK_MONOTONIC);
                fprintf(stderr, "trace start=%.3f shown=%.3f approved=%.3f end=%.3f\n",
                        (double) (t0 + off) / 1000.0, (double) (s.shown_at + off) / 1000.0,
                        (double) (s.approved_at + off) / 1000.0, (double) (t1 + off) / 1000.0);
        }
        return 0;
}

static int usage(void) {
        fprintf(stderr,
                "usage: pam-bench first-prompt|approve-enter|approve-none --confdir DIR --user USER\n"
                "                 [--service NAME] [--count N] [--idp URL --ca FILE] [--interval SEC] [--rhost A]\n");
        return 2;
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "confdir",  required_argument, NULL, 'd' },
                { "service",  required_argument, NULL, 's' },
                { "user",     required_argument, NULL, 'u' },
                { "count",    required_argument, NULL, 'n' },
                { "idp",      required_argument, NULL, 'i' },
                { "ca",       required_argument, NULL, 'a' },
                { "interval", required_argument, NULL, 't' },
                { "rhost",    required_argument, NULL, 'r' },
                {}
        };
        unsigned failures = 0;
        int c;

        if (argc < 2)
                return usage();
        if (strcmp(argv[1], "first-prompt") == 0)
                arg_mode = MODE_FIRST_PROMPT;
        else if (strcmp(argv[1], "approve-enter") == 0)
                arg_mode = MODE_APPROVE_ENTER;
        else if (strcmp(argv[1], "approve-none") == 0)
                arg_mode = MODE_APPROVE_NONE;
        else
                return usage();

        optind = 2;
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 'd': arg_confdir = optarg; break;
                case 's': arg_service = optarg; break;
                case 'u': arg_user = optarg; break;
                case 'n': arg_count = (unsigned) strtoul(optarg, NULL, 10); break;
                case 'i': arg_idp = optarg; break;
                case 'a': arg_ca = optarg; break;
                case 't': arg_interval = strtod(optarg, NULL); break;
                case 'r': arg_rhost = optarg; break;
                default: return usage();
                }
        if (!arg_confdir || !arg_user || arg_count == 0 || arg_interval < 0 ||
            (arg_mode != MODE_FIRST_PROMPT && (!arg_idp || !arg_ca)))
                return usage();

        if (regcomp(&code_re, "[A-Z]{4}-[A-Z]{4}", REG_EXTENDED) != 0)
                return 1;
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
                return 1;
        curl = curl_easy_init();
        if (!curl)
                return 1;
        curl_easy_setopt(curl, CURLOPT_CAINFO, arg_ca);
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
        static struct curl_slist *headers;
        headers = curl_slist_append(NULL, "Content-Type: application/json");
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
        srandom((unsigned) now_usec(CLOCK_MONOTONIC));

        for (unsigned i = 0; i < arg_count; i++)
                if (one() < 0)
                        failures++;

        curl_slist_free_all(headers);
        curl_easy_cleanup(curl);
        curl_global_cleanup();
        regfree(&code_re);
        return failures ? 1 : 0;
}
