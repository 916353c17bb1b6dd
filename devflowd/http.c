/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "devflow-bus.h"
#include "http.h"
#include "log.h"
#include "macro.h"
#include "time-util.h"
#include "url-policy.h"

/* Easy handles kept for the next requests: curl_easy_init() and curl_easy_cleanup() allocate, set up and
 * tear down a whole handle (several KiB of state, its lists and its TLS session cache) for every request,
 * and thousands of flows each poll every 5 s. */
#define MAX_IDLE_HANDLES 16U

struct Http {
        sd_event *event;
        CURLM *multi;
        sd_event_source *timer;         /* curl's timeout when it is > 0 ms */
        sd_event_source *now;           /* a oneshot defer source: curl's "0 ms", run in the next iteration */
        HttpOptions options;
        char *ca_file, *client_cert_file, *client_key_file;
        CURL *idle[MAX_IDLE_HANDLES];
        size_t n_idle;
};

struct HttpRequest {
        Http *http;
        CURL *easy;
        struct curl_slist *headers;
        char *post_body;
        char *body;
        size_t size;
        bool too_big;
        bool running;
        HttpCallback callback;
        void *userdata;
        char error_buffer[CURL_ERROR_SIZE];
};

static void slist_erase_and_free(struct curl_slist *l) {
        for (struct curl_slist *i = l; i; i = i->next)
                explicit_bzero(i->data, strlen(i->data));
        curl_slist_free_all(l);
}

static CURL *easy_get(Http *h) {
        if (h->n_idle > 0)
                return h->idle[--h->n_idle];
        return curl_easy_init();
}

/* curl_easy_reset() drops every option the request set (its URL, headers, body and callbacks point into
 * the request being freed); what curl received was freed with the transfer. */
static void easy_put(Http *h, CURL *e) {
        if (h->n_idle >= ELEMENTSOF(h->idle)) {
                curl_easy_cleanup(e);
                return;
        }
        curl_easy_reset(e);
        h->idle[h->n_idle++] = e;
}

HttpRequest *http_request_free(HttpRequest *r) {
        if (!r)
                return NULL;
        if (r->easy) {
                if (r->running)
                        (void) curl_multi_remove_handle(r->http->multi, r->easy);
                easy_put(r->http, r->easy);
        }
        slist_erase_and_free(r->headers);
        erase_and_free(r->post_body);
        if (r->body) {
                explicit_bzero(r->body, r->size);
                free(r->body);
        }
        free(r);
        return NULL;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *userdata) {
        HttpRequest *r = userdata;
        size_t n = size * nmemb;
        char *b;

        if (n > HTTP_MAX_BODY || r->size + n > HTTP_MAX_BODY) {
                r->too_big = true;
                return 0; /* makes curl fail the transfer with CURLE_WRITE_ERROR */
        }
        /* Grow by copying, so that no unwiped copy of a token is left behind by realloc. */
        b = malloc(r->size + n + 1);
        if (!b)
                return 0;
        if (r->body) {
                memcpy(b, r->body, r->size);
                explicit_bzero(r->body, r->size);
                free(r->body);
        }
        memcpy(b + r->size, data, n);
        r->size += n;
        b[r->size] = 0;
        r->body = b;
        return n;
}

static int curl_result_to_errno(CURLcode c) {
        switch (c) {
        case CURLE_OK:
                return 0;
        case CURLE_OPERATION_TIMEDOUT:
                return -ETIMEDOUT;
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
                return -EHOSTUNREACH;
        case CURLE_COULDNT_CONNECT:
                return -ECONNREFUSED;
        case CURLE_OUT_OF_MEMORY:
                return -ENOMEM;
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_URL_MALFORMAT:
                return -EPROTONOSUPPORT;
        case CURLE_GOT_NOTHING:
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR:
        case CURLE_PARTIAL_FILE:
                return -ECONNRESET;
        default:
                return -EPROTO; /* TLS verification, bad replies, and the rest */
        }
}

static void check_finished(Http *h) {
        CURLMsg *m;
        int left;

        while ((m = curl_multi_info_read(h->multi, &left))) {
                HttpRequest *r = NULL;
                HttpReply reply = {};

                if (m->msg != CURLMSG_DONE)
                        continue;
                if (curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **) &r) != CURLE_OK || !r)
                        continue;

                (void) curl_multi_remove_handle(h->multi, r->easy);
                r->running = false;

                reply.error = curl_result_to_errno(m->data.result);
                if (r->too_big)
                        reply.error = -EFBIG;
                if (reply.error == 0)
                        (void) curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &reply.status);
                reply.body = r->body ?: "";
                reply.size = r->size;
                reply.error_text = reply.error == -EFBIG ? "reply body too large" :
                                   r->error_buffer[0] ? r->error_buffer : curl_easy_strerror(m->data.result);
                /* The callback may free r; m is not used after this. */
                r->callback(r, &reply, r->userdata);
        }
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Http *h = userdata;
        int action = 0, running;

        if (revents & (EPOLLIN | EPOLLHUP))
                action |= CURL_CSELECT_IN;
        if (revents & EPOLLOUT)
                action |= CURL_CSELECT_OUT;
        if (revents & EPOLLERR)
                action |= CURL_CSELECT_ERR;

        if (curl_multi_socket_action(h->multi, fd, action, &running) != CURLM_OK)
                return log_error_errno(EIO, "curl_multi_socket_action() failed.");
        check_finished(h);
        return 0;
}

static int run_timeout(Http *h) {
        int running;

        if (curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running) != CURLM_OK)
                return log_error_errno(EIO, "curl_multi_socket_action() failed.");
        check_finished(h);
        return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        return run_timeout(userdata);
}

static int on_now(sd_event_source *s, void *userdata) {
        return run_timeout(userdata);
}

static int curl_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp) {
        Http *h = userp;
        sd_event_source *io = socketp;
        uint32_t events = 0;
        int r;

        if (what == CURL_POLL_REMOVE) {
                if (io) {
                        (void) sd_event_source_disable_unref(io);
                        (void) curl_multi_assign(h->multi, fd, NULL);
                }
                return 0;
        }

        if (what & CURL_POLL_IN)
                events |= EPOLLIN;
        if (what & CURL_POLL_OUT)
                events |= EPOLLOUT;

        if (io) {
                r = sd_event_source_set_io_events(io, events);
                if (r < 0)
                        return -1;
                r = sd_event_source_set_enabled(io, SD_EVENT_ON);
                if (r < 0)
                        return -1;
        } else {
                r = sd_event_add_io(h->event, &io, fd, events, on_io, h);
                if (r < 0) {
                        log_error_errno(r, "Failed to watch an HTTP socket: %m");
                        return -1;
                }
                (void) sd_event_source_set_description(io, "curl-io");
                if (curl_multi_assign(h->multi, fd, io) != CURLM_OK) {
                        (void) sd_event_source_disable_unref(io);
                        return -1;
                }
        }
        return 0;
}

static int enable(sd_event_source *s, int enabled) {
        return !s || sd_event_source_set_enabled(s, enabled) >= 0 ? 0 : -1;
}

/* Never calls curl: each call replaces the previous timeout. -1 disables both sources; 0 ("now": a new
 * transfer starts) enables the defer source, which runs in the next loop iteration without touching the
 * kernel (a 0 ms timer re-armed sd-event's timerfd twice per request); anything else (re)arms one
 * one-shot timer. */
static int curl_timer_cb(CURLM *multi, long timeout_ms, void *userp) {
        Http *h = userp;
        uint64_t when;
        int r;

        if (timeout_ms < 0)
                return enable(h->timer, SD_EVENT_OFF) < 0 ? -1 : enable(h->now, SD_EVENT_OFF);

        if (timeout_ms == 0) {
                if (enable(h->timer, SD_EVENT_OFF) < 0)
                        return -1;
                if (h->now)
                        return enable(h->now, SD_EVENT_ONESHOT);
                r = sd_event_add_defer(h->event, &h->now, on_now, h);
                if (r < 0)
                        return -1;
                (void) sd_event_source_set_description(h->now, "curl-now");
                return enable(h->now, SD_EVENT_ONESHOT);
        }

        if (enable(h->now, SD_EVENT_OFF) < 0)
                return -1;
        /* curl means timeout_ms from this moment: count from a fresh clock, not the loop's cached time, which
         * lags in a busy iteration and would wake curl early for nothing. */
        when = now_usec(CLOCK_MONOTONIC);
        if (when == 0)
                return -1;
        when += (uint64_t) timeout_ms * USEC_PER_MSEC;

        if (h->timer) {
                if (sd_event_source_set_time(h->timer, when) < 0)
                        return -1;
                return enable(h->timer, SD_EVENT_ONESHOT);
        }
        /* Accuracy 1 µs: curl's timeouts are exact. The default (0 = 250 ms of coalescing) held transfers
         * back by up to 250 ms when nothing else woke us. */
        r = sd_event_add_time(h->event, &h->timer, CLOCK_MONOTONIC, when, /* accuracy= */ 1, on_timer, h);
        if (r < 0)
                return -1;
        (void) sd_event_source_set_description(h->timer, "curl-timer");
        return 0;
}

int http_new(sd_event *event, const HttpOptions *options, Http **ret) {
        Http *h;

        h = calloc(1, sizeof *h);
        if (!h)
                return -ENOMEM;
        h->event = sd_event_ref(event);
        h->options = *options;
        if ((options->ca_file && !(h->ca_file = strdup(options->ca_file))) ||
            (options->client_cert_file && !(h->client_cert_file = strdup(options->client_cert_file))) ||
            (options->client_key_file && !(h->client_key_file = strdup(options->client_key_file)))) {
                http_free(h);
                return -ENOMEM;
        }
        h->options.ca_file = h->ca_file;
        h->options.client_cert_file = h->client_cert_file;
        h->options.client_key_file = h->client_key_file;

        h->multi = curl_multi_init();
        if (!h->multi) {
                http_free(h);
                return -ENOMEM;
        }
        if (curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, curl_socket_cb) != CURLM_OK ||
            curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h) != CURLM_OK ||
            curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, curl_timer_cb) != CURLM_OK ||
            curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h) != CURLM_OK ||
            /* Keep the connection to the IdP alive across the flows of many users. */
            curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 64L) != CURLM_OK ||
            curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, 64L) != CURLM_OK) {
                http_free(h);
                return -EIO;
        }
        *ret = h;
        return 0;
}

Http *http_free(Http *h) {
        if (!h)
                return NULL;
        /* Requests are owned by their callers and must be gone already; curl calls back while
         * cleaning up, so clean up the multi handle before dropping the timer and the defer source. */
        if (h->multi)
                curl_multi_cleanup(h->multi);
        sd_event_source_disable_unref(h->timer);
        sd_event_source_disable_unref(h->now);
        for (size_t i = 0; i < h->n_idle; i++)
                curl_easy_cleanup(h->idle[i]);
        sd_event_unref(h->event);
        free(h->ca_file);
        free(h->client_cert_file);
        free(h->client_key_file);
        free(h);
        return NULL;
}

#define SETOPT(e, opt, val)                                             \
        do {                                                            \
                if (curl_easy_setopt((e), (opt), (val)) != CURLE_OK)    \
                        return -EIO;                                    \
        } while (0)

static int request_setup(HttpRequest *r, const char *url, bool plain_http) {
        const HttpOptions *o = &r->http->options;
        long timeout_ms = (long) MAX(o->timeout_usec / USEC_PER_MSEC, 100U);
        CURL *e = r->easy;

        SETOPT(e, CURLOPT_URL, url);
        SETOPT(e, CURLOPT_PRIVATE, r);
        SETOPT(e, CURLOPT_NOSIGNAL, 1L);
        SETOPT(e, CURLOPT_PROTOCOLS_STR, plain_http ? "http" : "https");
        SETOPT(e, CURLOPT_FOLLOWLOCATION, 0L);         /* OAuth endpoints do not redirect: never follow */
        SETOPT(e, CURLOPT_SSL_VERIFYPEER, 1L);
        SETOPT(e, CURLOPT_SSL_VERIFYHOST, 2L);
        if (o->ca_file)
                SETOPT(e, CURLOPT_CAINFO, o->ca_file);
        if (o->client_cert_file) {
                SETOPT(e, CURLOPT_SSLCERT, o->client_cert_file);
                SETOPT(e, CURLOPT_SSLKEY, o->client_key_file);
        }
        SETOPT(e, CURLOPT_TIMEOUT_MS, timeout_ms);
        SETOPT(e, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
        SETOPT(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) HTTP_MAX_BODY);
        SETOPT(e, CURLOPT_WRITEFUNCTION, on_write);
        SETOPT(e, CURLOPT_WRITEDATA, r);
        SETOPT(e, CURLOPT_ERRORBUFFER, r->error_buffer);
        SETOPT(e, CURLOPT_USERAGENT, "devflowd/" DEVFLOW_VERSION " (pam_devflow)");
        SETOPT(e, CURLOPT_ACCEPT_ENCODING, "");         /* identity or whatever curl decodes */
        SETOPT(e, CURLOPT_HTTPHEADER, r->headers);
        if (r->post_body) {
                SETOPT(e, CURLOPT_POST, 1L);
                SETOPT(e, CURLOPT_POSTFIELDS, r->post_body);
                SETOPT(e, CURLOPT_POSTFIELDSIZE, (long) strlen(r->post_body));
        }
        return 0;
}

static int headers_append(struct curl_slist **l, const char *h) {
        struct curl_slist *n = curl_slist_append(*l, h);
        if (!n)
                return -ENOMEM;
        *l = n;
        return 0;
}

int http_request(Http *h, const char *url, const char *post_body, const char *authorization,
                 HttpCallback callback, void *userdata, HttpRequest **ret) {
        HttpRequest *r;
        bool plain_http;
        int k;

        if (!url || !url_policy_ok(url, h->options.allow_http_loopback))
                return -EPROTONOSUPPORT;
        plain_http = strncmp(url, "http://", 7) == 0;

        r = calloc(1, sizeof *r);
        if (!r)
                return -ENOMEM;
        r->http = h;
        r->callback = callback;
        r->userdata = userdata;

        r->easy = easy_get(h);
        if (!r->easy) {
                http_request_free(r);
                return -ENOMEM;
        }
        k = headers_append(&r->headers, "Accept: application/json");
        if (k >= 0 && post_body)
                k = headers_append(&r->headers, "Content-Type: application/x-www-form-urlencoded");
        if (k >= 0 && authorization) {
                _cleanup_erase_ char *line = NULL;
                if (asprintf(&line, "Authorization: %s", authorization) < 0)
                        k = -ENOMEM;
                else
                        k = headers_append(&r->headers, line);
        }
        if (k >= 0 && post_body && !(r->post_body = strdup(post_body)))
                k = -ENOMEM;
        if (k >= 0)
                k = request_setup(r, url, plain_http);
        if (k >= 0 && curl_multi_add_handle(h->multi, r->easy) != CURLM_OK)
                k = -EIO;
        if (k < 0) {
                http_request_free(r);
                return k;
        }
        r->running = true;
        *ret = r;
        return 0;
}
