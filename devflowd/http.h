/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "macro.h"

/* libcurl's multi interface driven by the daemon's sd-event loop: one thread, no blocking call,
 * many transfers at once, connections and TLS sessions reused across flows. */

#define HTTP_MAX_BODY (256U * 1024U)

typedef struct Http Http;
typedef struct HttpRequest HttpRequest;

typedef struct HttpOptions {
        const char *ca_file;            /* NULL: the system store */
        const char *client_cert_file;   /* tls_client_auth */
        const char *client_key_file;
        uint64_t timeout_usec;          /* whole transfer */
        bool allow_http_loopback;
} HttpOptions;

typedef struct HttpReply {
        int error;                      /* 0, or -errno: -ETIMEDOUT, -EFBIG (body over the cap), -ECONNREFUSED,
                                         * -EPROTO (TLS or protocol), -EHOSTUNREACH … */
        long status;                    /* HTTP status when error == 0 */
        const char *body;               /* NUL-terminated; may hold secrets: the request wipes it on free */
        size_t size;
        const char *error_text;         /* curl's words when error < 0, for the log */
} HttpReply;

/* Called once when the transfer ends. The reply lives in the request: free the request only after the last
 * use of the reply (take it with _cleanup_(http_request_freep) at the top of the callback). */
typedef void (*HttpCallback)(HttpRequest *req, const HttpReply *reply, void *userdata);

int http_new(sd_event *event, const HttpOptions *options, Http **ret);
Http *http_free(Http *h);

/* Starts a GET (post_body NULL) or a form POST. authorization is a whole header value ("Basic …",
 * "Bearer …") or NULL. Every buffer that may hold a secret is copied and wiped on free. The returned
 * request belongs to the caller: http_request_free() cancels it (the callback is then never called). */
int http_request(Http *h, const char *url, const char *post_body, const char *authorization,
                 HttpCallback callback, void *userdata, HttpRequest **ret);
HttpRequest *http_request_free(HttpRequest *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(HttpRequest *, http_request_free);

