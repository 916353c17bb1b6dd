/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "macro.h"
#include "netaddr.h"

#define NETADDR_MAX_TEXT 64     /* longer than any address text, with prefix or zone */

static const uint8_t v4mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* Parse a bare address (no prefix, no zone). IPv4-mapped IPv6 becomes IPv4; *ret_mapped says so. */
static int parse_address(const char *s, int *ret_family, uint8_t ret_addr[static 16], bool *ret_mapped) {
        uint8_t buf[16] = {};

        if (inet_pton(AF_INET, s, buf) == 1) {
                memcpy(ret_addr, buf, 16);
                *ret_family = AF_INET;
                *ret_mapped = false;
                return 0;
        }
        if (inet_pton(AF_INET6, s, buf) == 1) {
                if (memcmp(buf, v4mapped_prefix, sizeof v4mapped_prefix) == 0) {
                        memset(ret_addr, 0, 16);
                        memcpy(ret_addr, buf + 12, 4);
                        *ret_family = AF_INET;
                        *ret_mapped = true;
                } else {
                        memcpy(ret_addr, buf, 16);
                        *ret_family = AF_INET6;
                        *ret_mapped = false;
                }
                return 0;
        }
        return -EINVAL;
}

static void mask_host_bits(uint8_t addr[static 16], unsigned prefixlen) {
        for (unsigned i = 0; i < 16; i++) {
                unsigned bit = i * 8;

                if (bit >= prefixlen)
                        addr[i] = 0;
                else if (prefixlen - bit < 8)
                        addr[i] &= (uint8_t) (0xff << (8 - (prefixlen - bit)));
        }
}

int netaddr_parse_rule(const char *s, NetRule *ret) {
        char buf[NETADDR_MAX_TEXT];
        const char *slash;
        unsigned prefixlen, maxlen;
        size_t n;
        bool mapped;
        NetRule r = {};

        if (!s || !ret)
                return -EINVAL;
        n = strlen(s);
        if (n == 0 || n >= sizeof buf)
                return -EINVAL;
        memcpy(buf, s, n + 1);

        slash = strchr(buf, '/');
        if (slash)
                buf[slash - buf] = 0;
        if (parse_address(buf, &r.family, r.addr, &mapped) < 0)
                return -EINVAL;

        maxlen = r.family == AF_INET ? 32 : 128;
        if (mapped)
                maxlen = 128;   /* written as IPv6: the prefix counts IPv6 bits */

        if (slash) {
                const char *p = s + (slash - buf) + 1;

                /* Decimal only, no sign, no leading zeros, no white space. */
                if (*p == 0 || strlen(p) > 3 || (p[0] == '0' && p[1] != 0))
                        return -EINVAL;
                prefixlen = 0;
                for (; *p; p++) {
                        if (*p < '0' || *p > '9')
                                return -EINVAL;
                        prefixlen = prefixlen * 10 + (unsigned) (*p - '0');
                }
                if (prefixlen > maxlen)
                        return -EINVAL;
        } else
                prefixlen = maxlen;

        if (mapped) {
                /* ::ffff:a.b.c.d/N with N >= 96 is the IPv4 range a.b.c.d/(N-96). A shorter prefix
                 * would reach outside the mapped block: refuse it rather than guess. */
                if (prefixlen < 96)
                        return -EINVAL;
                prefixlen -= 96;
        }

        r.prefixlen = prefixlen;
        mask_host_bits(r.addr, prefixlen);
        *ret = r;
        return 0;
}

static int parse_rhost(const char *rhost, int *ret_family, uint8_t ret_addr[static 16]) {
        char buf[NETADDR_MAX_TEXT];
        char *pct;
        size_t n;
        bool mapped;
        int r;

        if (!rhost)
                return -EINVAL;
        n = strlen(rhost);
        if (n == 0 || n >= sizeof buf)
                return -EINVAL;
        memcpy(buf, rhost, n + 1);

        /* An IPv6 link-local rhost may carry a zone ("fe80::1%eth0"); the address alone decides. */
        pct = strchr(buf, '%');
        if (pct) {
                if (!strchr(buf, ':') || pct[1] == 0)
                        return -EINVAL;
                *pct = 0;
        }
        r = parse_address(buf, ret_family, ret_addr, &mapped);
        if (r < 0)
                return r;
        if (pct && *ret_family != AF_INET6)
                return -EINVAL;
        return 0;
}

static bool rule_matches_addr(const NetRule *rule, int family, const uint8_t addr[static 16]) {
        uint8_t a[16];

        if (rule->family != family)
                return false;
        memcpy(a, addr, 16);
        mask_host_bits(a, rule->prefixlen);
        return memcmp(a, rule->addr, 16) == 0;
}

bool netaddr_rule_matches(const NetRule *rule, const char *rhost) {
        uint8_t addr[16];
        int family;

        if (!rule || parse_rhost(rhost, &family, addr) < 0)
                return false;
        return rule_matches_addr(rule, family, addr);
}

int rhost_allowed(char *const *allowed, const char *rhost, bool *ret_allowed) {
        uint8_t addr[16];
        int family;
        bool have_addr, found = false;

        if (!ret_allowed)
                return -EINVAL;
        if (!allowed || !allowed[0]) {
                *ret_allowed = true;
                return 0;
        }

        have_addr = parse_rhost(rhost, &family, addr) >= 0;

        /* Validate every rule, so a typo never hides behind an earlier match. */
        for (char *const *i = allowed; *i; i++) {
                NetRule rule;

                if (netaddr_parse_rule(*i, &rule) < 0)
                        return -EINVAL;
                if (have_addr && rule_matches_addr(&rule, family, addr))
                        found = true;
        }

        *ret_allowed = found;
        return 0;
}

int netaddr_source_key(const char *rhost, char **ret) {
        char text[INET6_ADDRSTRLEN + 4];
        uint8_t addr[16];
        int family;
        char *s;

        if (!rhost || !ret)
                return -EINVAL;
        if (parse_rhost(rhost, &family, addr) >= 0) {
                /* One IPv6 host usually holds a whole /64 (RFC 4291 §2.5.4, SLAAC), so a /64 is one source. */
                if (family == AF_INET6)
                        mask_host_bits(addr, 64);
                if (!inet_ntop(family, addr, text, INET6_ADDRSTRLEN))
                        return -EINVAL;
                if (family == AF_INET6)
                        strcat(text, "/64");
                s = strdup(text);
        } else
                s = strdup(rhost);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}
