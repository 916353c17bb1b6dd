/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <curl/curl.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

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

/* The URLs remembered as checked: the IdP's few endpoints (discovery, device authorization, token, JWKS,
 * userinfo); any further one is checked and parsed for each request. */
#define MAX_CHECKED_URLS 8U

/* A URL that passed url_policy_ok(), and curl's parse of it. A request hands curl the parse (CURLOPT_CURLU),
 * which curl copies, instead of having it parse the URL again (and print it back) for every token poll. It
 * lives as long as the Http, so no handle's reference to it can outlive it. */
typedef struct CheckedUrl {
        char *url;
        CURLU *parsed;
} CheckedUrl;

/* A socket curl opened (on_open_socket) and will close through on_close_socket(), with its io source. Once
 * the socket is connected, the source lives as long as the socket: when curl stops watching a kept-alive
 * connection between two requests (CURL_POLL_REMOVE), the source stays and waits for input, which on an idle
 * connection means the peer closed it; the next request's CURL_POLL_IN then costs no epoll_ctl() at all (two
 * per token poll before). Not before: curl closes a connect attempt that failed or timed out with close()
 * (not through on_close_socket()) and tells of it with CURL_POLL_REMOVE afterwards, so such a socket's
 * source goes with that REMOVE, as every source did before. */
typedef struct Watch {
        Http *http;
        int fd;
        sd_event_source *source;        /* NULL until curl first asks to watch fd */
        bool connected;                 /* curl asked for input once: past the TCP connect */
        bool idle;                      /* curl does not watch fd now (CURL_POLL_REMOVE) */
} Watch;

struct Http {
        sd_event *event;
        CURLM *multi;
        sd_event_source *timer;         /* curl's timeout when it is > 0 ms */
        sd_event_source *now;           /* a oneshot defer source: curl's "0 ms", run in the next iteration */
        HttpOptions options;
        char *ca_file, *client_cert_file, *client_key_file;
        CheckedUrl checked[MAX_CHECKED_URLS];
        size_t n_checked;
        struct curl_slist *headers;     /* the headers of every request */
        bool tune_tls;                  /* curl's TLS backend is the OpenSSL we link: on_ssl_ctx() may run */
        bool proxy_from_environment;    /* a proxy variable curl honours is set (fixed for our lifetime) */
        CURL *idle[MAX_IDLE_HANDLES];
        size_t n_idle;
        Watch **watches;                /* the sockets curl opened and has not closed yet: a few connections */
        size_t n_watches;
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

static int easy_setup(Http *h, CURL *e);

static CURL *easy_get(Http *h) {
        CURL *e;

        if (h->n_idle > 0)
                return h->idle[--h->n_idle];
        e = curl_easy_init();
        if (e && easy_setup(h, e) < 0) {
                curl_easy_cleanup(e);
                return NULL;
        }
        return e;
}

/* A handle keeps the options every request has (easy_setup()); the ones that point into the request
 * being freed are cleared, and the next request sets its own (request_setup()). */
static void easy_put(Http *h, CURL *e) {
        if (h->n_idle >= ELEMENTSOF(h->idle) ||
            curl_easy_setopt(e, CURLOPT_PRIVATE, NULL) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_WRITEDATA, NULL) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_ERRORBUFFER, NULL) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_POSTFIELDS, NULL) != CURLE_OK) {
                curl_easy_cleanup(e);
                return;
        }
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

/* Lets curl act on fd (or on its timeouts: CURL_SOCKET_TIMEOUT), then hands over the finished transfers.
 * A failure is logged and not returned: sd-event would disable the source that called, and the one timer
 * or defer source that starts every transfer must never stop. */
static void drive(Http *h, curl_socket_t fd, int action) {
        CURLMcode mc;
        int running;

        mc = curl_multi_socket_action(h->multi, fd, action, &running);
        if (mc != CURLM_OK)
                log_error("curl_multi_socket_action() failed: %s", curl_multi_strerror(mc));
        check_finished(h);
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Watch *w = userdata;
        Http *h = w->http;
        int action = 0;

        if (w->idle)
                /* Input on a connection curl keeps idle: the peer closed it (or broke the protocol). Stop
                 * listening rather than wake up for it again; curl finds the connection dead when it next
                 * picks it, closes it, and the watch goes with it. */
                return sd_event_source_set_enabled(s, SD_EVENT_OFF);

        if (revents & (EPOLLIN | EPOLLHUP))
                action |= CURL_CSELECT_IN;
        if (revents & EPOLLOUT)
                action |= CURL_CSELECT_OUT;
        if (revents & EPOLLERR)
                action |= CURL_CSELECT_ERR;

        drive(h, fd, action);
        return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        drive(userdata, CURL_SOCKET_TIMEOUT, 0);
        return 0;
}

static int on_now(sd_event_source *s, void *userdata) {
        drive(userdata, CURL_SOCKET_TIMEOUT, 0);
        return 0;
}

static Watch *watch_find(Http *h, int fd, size_t *ret_index) {
        for (size_t i = 0; i < h->n_watches; i++)
                if (h->watches[i]->fd == fd) {
                        if (ret_index)
                                *ret_index = i;
                        return h->watches[i];
                }
        return NULL;
}

static void watch_drop(Http *h, int fd) {
        size_t i;
        Watch *w = watch_find(h, fd, &i);

        if (!w)
                return;
        sd_event_source_disable_unref(w->source);
        free(w);
        h->watches[i] = h->watches[--h->n_watches];
}

/* curl opens every connection's socket here (close-on-exec, which curl's own socket() call lacks). */
static curl_socket_t on_open_socket(void *userp, curlsocktype purpose, struct curl_sockaddr *addr) {
        Http *h = userp;
        Watch **a, *w;
        int fd;

        a = reallocarray(h->watches, h->n_watches + 1, sizeof *a);
        if (!a)
                return CURL_SOCKET_BAD;
        h->watches = a;
        w = calloc(1, sizeof *w);
        if (!w)
                return CURL_SOCKET_BAD;
        fd = socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
        if (fd < 0) {
                free(w);
                return CURL_SOCKET_BAD;
        }
        /* The number is free again only once its socket was closed: a watch still holding it is stale. */
        watch_drop(h, fd);
        *w = (Watch) { .http = h, .fd = fd };
        h->watches[h->n_watches++] = w;
        return fd;
}

static int on_close_socket(void *userp, curl_socket_t fd) {
        watch_drop(userp, fd);
        return close(fd);
}

/* Watches w's socket for what curl asks (CURL_POLL_IN, _OUT or both). */
static int watch_set(Watch *w, int what) {
        uint32_t events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
        int r;

        w->idle = false;
        if (!w->source) {
                r = sd_event_add_io(w->http->event, &w->source, w->fd, events, on_io, w);
                if (r < 0) {
                        log_error_errno(r, "Failed to watch an HTTP socket: %m");
                        return -1;
                }
                (void) sd_event_source_set_description(w->source, "curl-io");
                return 0;
        }
        /* Both return at once when nothing changes, the common case: no system call. */
        if (sd_event_source_set_io_events(w->source, events) < 0 ||
            sd_event_source_set_enabled(w->source, SD_EVENT_ON) < 0)
                return -1;
        return 0;
}

static int curl_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp) {
        Http *h = userp;
        Watch *w = watch_find(h, fd, NULL);

        if (w) {
                if (what != CURL_POLL_REMOVE) {
                        if (what & CURL_POLL_IN)
                                w->connected = true;
                        return watch_set(w, what);
                }
                /* Kept for the next request, listening for the peer's close only; a connect attempt's
                 * socket may be closed already, so its source goes (sd-event ignores the failed removal). */
                if (w->connected && w->source && sd_event_source_set_io_events(w->source, EPOLLIN) >= 0) {
                        w->idle = true;
                        return 0;
                }
                w->source = sd_event_source_disable_unref(w->source);
                return 0;
        }

        /* Not a socket of on_open_socket() (the threaded resolver's, say): curl may close it without
         * telling us, so it is watched only while curl asks, its watch kept as curl's socketp. */
        w = socketp;
        if (what == CURL_POLL_REMOVE) {
                if (w) {
                        (void) curl_multi_assign(h->multi, fd, NULL);
                        sd_event_source_disable_unref(w->source);
                        free(w);
                }
                return 0;
        }
        if (!w) {
                w = calloc(1, sizeof *w);
                if (!w)
                        return -1;
                *w = (Watch) { .http = h, .fd = fd };
                if (curl_multi_assign(h->multi, fd, w) != CURLM_OK) {
                        free(w);
                        return -1;
                }
        }
        return watch_set(w, what);
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

static int headers_append(struct curl_slist **l, const char *h) {
        struct curl_slist *n = curl_slist_append(*l, h);
        if (!n)
                return -ENOMEM;
        *l = n;
        return 0;
}

/* Called by curl with each new connection's SSL_CTX. curl sets SSL_MODE_RELEASE_BUFFERS, which frees
 * the connection's 16 KiB TLS read and write buffers whenever they are empty and allocates them again for
 * the next record: two large allocations (each first merging the heap's freed small chunks) per request
 * on a kept-alive connection, every token poll. Keep them, at most MAXCONNECTS × ~34 KiB, and have
 * OpenSSL wipe each record's plaintext once it was handed to curl, so that a token is not left behind in
 * the buffer (with released buffers it was left in freed memory instead). */
static CURLcode on_ssl_ctx(CURL *easy, void *ssl_ctx, void *userdata) {
        SSL_CTX *ctx = ssl_ctx;

        SSL_CTX_clear_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
        SSL_CTX_set_options(ctx, SSL_OP_CLEANSE_PLAINTEXT);
        return CURLE_OK;
}

/* The SSL_CTX curl passes is ours to touch only when curl's active backend is OpenSSL of the major
 * version we were built with ("OpenSSL/3.0.19"; a MultiSSL build lists the inactive ones in brackets). */
static bool curl_uses_our_openssl(void) {
        const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
        char prefix[32];

        if (!v || !v->ssl_version)
                return false;
        snprintf(prefix, sizeof prefix, "OpenSSL/%u.", OPENSSL_version_major());
        return strncmp(v->ssl_version, prefix, strlen(prefix)) == 0;
}

/* The variables libcurl takes a proxy for http:// and https:// URLs from (it ignores HTTP_PROXY, and an
 * empty value). */
static bool proxy_in_environment(void) {
        static const char *const names[] = { "http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY" };

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                const char *v = getenv(names[i]);
                if (v && *v)
                        return true;
        }
        return false;
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

        h->tune_tls = curl_uses_our_openssl();
        h->proxy_from_environment = proxy_in_environment();
        if (headers_append(&h->headers, "Accept: application/json") < 0 ||
            headers_append(&h->headers, "User-Agent: devflowd/" DEVFLOW_VERSION " (pam_devflow)") < 0) {
                http_free(h);
                return -ENOMEM;
        }
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
        while (h->n_watches > 0)
                watch_drop(h, h->watches[0]->fd);
        free(h->watches);
        sd_event_source_disable_unref(h->timer);
        sd_event_source_disable_unref(h->now);
        for (size_t i = 0; i < h->n_idle; i++)
                curl_easy_cleanup(h->idle[i]);
        sd_event_unref(h->event);
        free(h->ca_file);
        free(h->client_cert_file);
        free(h->client_key_file);
        for (size_t i = 0; i < h->n_checked; i++) {
                free(h->checked[i].url);
                curl_url_cleanup(h->checked[i].parsed);
        }
        curl_slist_free_all(h->headers);
        free(h);
        return NULL;
}

#define SETOPT(e, opt, val)                                             \
        do {                                                            \
                if (curl_easy_setopt((e), (opt), (val)) != CURLE_OK)    \
                        return -EIO;                                    \
        } while (0)

/* The options every request has, set once per handle: curl_easy_reset() and setting them again copied
 * each string anew for every token poll. */
static int easy_setup(Http *h, CURL *e) {
        const HttpOptions *o = &h->options;
        long timeout_ms = (long) MAX(o->timeout_usec / USEC_PER_MSEC, 100U);

        SETOPT(e, CURLOPT_NOSIGNAL, 1L);
        SETOPT(e, CURLOPT_FOLLOWLOCATION, 0L);         /* OAuth endpoints do not redirect: never follow */
        SETOPT(e, CURLOPT_SSL_VERIFYPEER, 1L);
        SETOPT(e, CURLOPT_SSL_VERIFYHOST, 2L);
        if (o->ca_file)
                SETOPT(e, CURLOPT_CAINFO, o->ca_file);
        if (o->client_cert_file) {
                SETOPT(e, CURLOPT_SSLCERT, o->client_cert_file);
                SETOPT(e, CURLOPT_SSLKEY, o->client_key_file);
        }
        if (h->tune_tls)
                SETOPT(e, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
        SETOPT(e, CURLOPT_TIMEOUT_MS, timeout_ms);
        SETOPT(e, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
        SETOPT(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) HTTP_MAX_BODY);
        SETOPT(e, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
        SETOPT(e, CURLOPT_OPENSOCKETDATA, h);
        SETOPT(e, CURLOPT_CLOSESOCKETFUNCTION, on_close_socket);
        SETOPT(e, CURLOPT_CLOSESOCKETDATA, h);
        SETOPT(e, CURLOPT_WRITEFUNCTION, on_write);
        /* No Accept-Encoding: the replies are a few hundred bytes, and curl formatted that header (and
         * set up its decoders) for every token poll. The IdP sends them as they are. */
        if (!h->proxy_from_environment) {
                /* No proxy variable is set, so none will be: spare curl looking up six of them for every
                 * request. With one set, curl reads them as before. */
                SETOPT(e, CURLOPT_PROXY, "");
                SETOPT(e, CURLOPT_NOPROXY, "");
        }
        return 0;
}

/* What differs between requests; each one sets all of it, whatever the handle's previous request set.
 * The URL goes in as text too, which curl keeps for a retry on a fresh connection; parsed (NULL: curl
 * parses the text) must be that URL's. */
static int request_setup(HttpRequest *r, const char *url, CURLU *parsed, bool plain_http) {
        CURL *e = r->easy;

        SETOPT(e, CURLOPT_URL, url);
        SETOPT(e, CURLOPT_CURLU, parsed);
        SETOPT(e, CURLOPT_PRIVATE, r);
        SETOPT(e, CURLOPT_PROTOCOLS_STR, plain_http ? "http" : "https");
        SETOPT(e, CURLOPT_WRITEDATA, r);
        SETOPT(e, CURLOPT_ERRORBUFFER, r->error_buffer);
        SETOPT(e, CURLOPT_HTTPHEADER, r->headers ?: r->http->headers);
        if (r->post_body) {
                /* curl sends it as application/x-www-form-urlencoded, its default for POSTFIELDS. */
                SETOPT(e, CURLOPT_POSTFIELDS, r->post_body);
                SETOPT(e, CURLOPT_POSTFIELDSIZE, (long) strlen(r->post_body));
        } else {
                SETOPT(e, CURLOPT_POSTFIELDS, NULL);
                SETOPT(e, CURLOPT_POSTFIELDSIZE, -1L);
                SETOPT(e, CURLOPT_HTTPGET, 1L);
        }
        return 0;
}

/* Every request's URL is checked, and nearly all are the same token endpoint: the URLs that passed are
 * remembered (the verdict depends on the URL and on an option fixed for the life of h alone). Returns
 * whether url may be fetched, and in *ret_parsed its parse if it is remembered (else NULL). */
static bool url_allowed(Http *h, const char *url, CURLU **ret_parsed) {
        CheckedUrl *c;

        *ret_parsed = NULL;
        if (!url)
                return false;
        for (size_t i = 0; i < h->n_checked; i++)
                if (streq(h->checked[i].url, url)) {
                        *ret_parsed = h->checked[i].parsed;
                        return true;
                }
        if (!url_policy_ok(url, h->options.allow_http_loopback))
                return false;
        if (h->n_checked >= ELEMENTSOF(h->checked))
                return true;

        /* Remembered only when all of it works out; else this request (and the next) is checked in full. */
        c = &h->checked[h->n_checked];
        *c = (CheckedUrl) { .url = strdup(url), .parsed = curl_url() };
        if (!c->url || !c->parsed || curl_url_set(c->parsed, CURLUPART_URL, url, 0) != CURLUE_OK) {
                free(c->url);
                curl_url_cleanup(c->parsed);
                *c = (CheckedUrl) {};
                return true;
        }
        h->n_checked++;
        *ret_parsed = c->parsed;
        return true;
}

int http_request(Http *h, const char *url, const char *post_body, const char *authorization,
                 HttpCallback callback, void *userdata, HttpRequest **ret) {
        HttpRequest *r;
        CURLU *parsed;
        bool plain_http;
        int k;

        if (!url_allowed(h, url, &parsed))
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
        /* The common headers are h's one list; a request with credentials has its own, with them added. */
        k = 0;
        for (struct curl_slist *i = authorization ? h->headers : NULL; i && k >= 0; i = i->next)
                k = headers_append(&r->headers, i->data);
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
                k = request_setup(r, url, parsed, plain_http);
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
