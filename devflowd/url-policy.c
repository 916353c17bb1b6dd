/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <curl/curl.h>
#include <string.h>

#include "macro.h"
#include "netaddr.h"
#include "url-policy.h"

static bool is_loopback_host(const char *host) {
        NetRule rule;

        if (streq(host, "localhost"))
                return true;
        if (streq(host, "[::1]") || streq(host, "::1"))
                return true;
        if (netaddr_parse_rule(host, &rule) >= 0 && rule.family == 2 /* AF_INET */ && rule.prefixlen == 32)
                return rule.addr[0] == 127;
        return false;
}

bool url_policy_ok(const char *url, bool allow_http_loopback) {
        CURLU *u;
        char *scheme = NULL, *host = NULL, *user = NULL;
        bool ok = false;

        if (!url || strlen(url) > 2048)
                return false;
        for (const unsigned char *p = (const unsigned char *) url; *p; p++)
                if (*p <= 0x20 || *p >= 0x7f)
                        return false;
        /* An authority must follow the scheme ("https:///x" is not a URL of any host). */
        if (strstr(url, ":///"))
                return false;
        u = curl_url();
        if (!u)
                return false;
        if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
            curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
            curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
                goto out;
        if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK)
                goto out;       /* no credentials in URLs */
        if (strncmp(url, "https://", 8) == 0 && streq(scheme, "https"))
                ok = *host != 0;
        else if (strncmp(url, "http://", 7) == 0 && streq(scheme, "http"))
                ok = allow_http_loopback && is_loopback_host(host);
out:
        curl_free(scheme);
        curl_free(host);
        curl_free(user);
        curl_url_cleanup(u);
        return ok;
}
