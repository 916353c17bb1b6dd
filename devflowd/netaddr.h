/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* [login] allowed_rhosts: addresses and CIDR ranges that PAM_RHOST must fall in (RFC 10027: the
 * main defence against device-code phishing the daemon can apply, checked before a code is issued).
 *
 * A rule is "ADDRESS" or "ADDRESS/PREFIX": IPv4 dotted quad (prefix 0..32) or IPv6 (prefix 0..128;
 * no zone id). Host bits beyond the prefix are ignored ("192.168.1.7/24" = 192.168.1.0/24).
 * An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is the IPv4 address a.b.c.d, both as a rule (with
 * prefix >= 96, minus 96) and as an rhost, so IPv4 rules match it. IPv6 rules match native IPv6 only:
 * "::/0" is every IPv6 host, "0.0.0.0/0" every IPv4 host (mapped ones included).
 * An rhost is parsed strictly as an address (an IPv6 zone "%eth0" is ignored); a hostname, an empty
 * or missing rhost never matches a rule. */

typedef struct NetRule {
        int family;             /* AF_INET or AF_INET6 */
        uint8_t addr[16];       /* network byte order; IPv4 uses the first 4 bytes; host bits zeroed */
        unsigned prefixlen;
} NetRule;

/* Parse one rule. -EINVAL when it is not a valid address or CIDR range. */
int netaddr_parse_rule(const char *s, NetRule *ret);

/* Does RHOST (an address string) fall in RULE? False for anything that is not an address. */
bool netaddr_rule_matches(const NetRule *rule, const char *rhost);

/* ALLOWED is a NULL-terminated strv; NULL or empty means "any rhost" (even none). Otherwise
 * *ret_allowed is true only when rhost is an address inside one of the rules. Every rule is
 * validated first: -EINVAL when one is invalid (then *ret_allowed is untouched). */
int rhost_allowed(char *const *allowed, const char *rhost, bool *ret_allowed);

/* The source an rhost stands for, as the limits count it: an IPv4 address (IPv4-mapped IPv6 included) as
 * itself in dotted quad, an IPv6 address as its /64 ("2001:db8:1:2::/64"; a zone is ignored), anything
 * else (a hostname, "") as given. */
int netaddr_source_key(const char *rhost, char **ret);
