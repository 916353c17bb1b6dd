/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "devflowd/config.h"
#include "devflowd/url-policy.h"
#include "macro.h"
#include "probe.h"
#include "time-util.h"

#define PROBE_BODY_MAX (1024U * 1024U)

DEFINE_TRIVIAL_CLEANUP_FUNC(CURL *, curl_easy_cleanup);

static size_t on_write(char *data, size_t size, size_t n, void *userdata) {
        size_t *total = userdata;

        /* The body is not needed: count it and stop a huge one. */
        *total += size * n;
        return *total > PROBE_BODY_MAX ? 0 : size * n;
}

int probe_idp(const char *config_path, ProbeResult *ret) {
        _cleanup_(config_errors_done) ConfigErrors errors = {};
        _cleanup_(curl_easy_cleanupp) CURL *e = NULL;
        char error_buffer[CURL_ERROR_SIZE] = "";
        ProbeResult p = {};
        Config *c = NULL;
        size_t total = 0;
        uint64_t t0;
        long timeout_ms;
        CURLcode cc;
        int r;

        r = config_load(config_path, &c, &errors);
        if (r < 0) {
                config_free(c);
                return r == -ENOMEM ? r : -EINVAL;
        }
        if (c->issuer && !c->jwks_uri) {
                size_t k = strlen(c->issuer);

                /* OpenID Connect Discovery 1.0 §4: the issuer with any trailing '/' removed */
                snprintf(p.url, sizeof p.url, "%.*s/.well-known/openid-configuration",
                         (int) (k - (k > 0 && c->issuer[k - 1] == '/')), c->issuer);
        } else
                snprintf(p.url, sizeof p.url, "%s", strempty(c->jwks_uri ?: c->device_authorization_endpoint));
        timeout_ms = (long) MAX(c->http_timeout_usec / USEC_PER_MSEC, 100U);

        e = curl_easy_init();
        if (!e) {
                config_free(c);
                return -ENOMEM;
        }
        if (curl_easy_setopt(e, CURLOPT_URL, p.url) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR,
                             c->allow_http_loopback && strncmp(p.url, "http://", 7) == 0 &&
                             url_policy_ok(p.url, true) ? "http" : "https") != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK ||
            (c->ca_file && curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file) != CURLE_OK) ||
            curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_WRITEDATA, &total) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_ERRORBUFFER, error_buffer) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_USERAGENT, "devflowctl/" DEVFLOW_VERSION_STRING " (doctor)") != CURLE_OK) {
                config_free(c);
                return -EIO;
        }
        config_free(c);

        t0 = now_usec(CLOCK_MONOTONIC);
        cc = curl_easy_perform(e);
        p.elapsed_usec = now_usec(CLOCK_MONOTONIC) - t0;
        if (cc == CURLE_OK || cc == CURLE_WRITE_ERROR) {
                p.answered = true;
                (void) curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &p.status);
        } else
                snprintf(p.error, sizeof p.error, "%s", *error_buffer ? error_buffer : curl_easy_strerror(cc));
        *ret = p;
        return 0;
}
