/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <errno.h>

#include "macro.h"
#include "netaddr.h"
#include "test.h"

typedef struct RhostCase {
        const char *name;
        const char *rules[4];   /* NULL-terminated; rules[0] == NULL means no restriction */
        const char *rhost;
        int r;                  /* expected return */
        bool allowed;           /* expected *ret_allowed when r == 0 */
} RhostCase;

static const RhostCase rhost_cases[] = {
        { "none_any",              { NULL },                          "203.0.113.9",   0, true },
        { "none_hostname",         { NULL },                          "evil.example",  0, true },
        { "none_null_rhost",       { NULL },                          NULL,            0, true },
        { "v4_exact",              { "192.0.2.10" },                  "192.0.2.10",    0, true },
        { "v4_exact_other",        { "192.0.2.10" },                  "192.0.2.11",    0, false },
        { "v4_exact_prefix_text",  { "192.0.2.1" },                   "192.0.2.10",    0, false },
        { "v4_32",                 { "192.0.2.10/32" },               "192.0.2.10",    0, true },
        { "v4_32_other",           { "192.0.2.10/32" },               "192.0.2.9",     0, false },
        { "v4_24_in",              { "10.1.2.0/24" },                 "10.1.2.254",    0, true },
        { "v4_24_out",             { "10.1.2.0/24" },                 "10.1.3.1",      0, false },
        { "v4_22_in",              { "10.1.4.0/22" },                 "10.1.7.200",    0, true },
        { "v4_22_out",             { "10.1.4.0/22" },                 "10.1.8.0",      0, false },
        { "v4_host_bits_masked",   { "192.168.1.7/24" },              "192.168.1.99",  0, true },
        { "v4_0_any_v4",           { "0.0.0.0/0" },                   "198.51.100.1",  0, true },
        { "v4_0_not_v6",           { "0.0.0.0/0" },                   "2001:db8::1",   0, false },
        { "v4_0_mapped",           { "0.0.0.0/0" },                   "::ffff:1.2.3.4", 0, true },
        { "v4_rule_mapped_in",     { "10.0.0.0/8" },                  "::ffff:10.9.8.7", 0, true },
        { "v4_rule_mapped_out",    { "10.0.0.0/8" },                  "::ffff:11.9.8.7", 0, false },
        { "v4_rule_mapped_hex",    { "10.0.0.0/8" },                  "::ffff:a09:807", 0, true },
        { "mapped_rule_v4_rhost",  { "::ffff:10.0.0.0/104" },         "10.3.3.3",      0, true },
        { "mapped_rule_v4_out",    { "::ffff:10.0.0.0/104" },         "11.3.3.3",      0, false },
        { "mapped_rule_exact",     { "::ffff:192.0.2.1" },            "192.0.2.1",     0, true },
        { "v4compat_not_v4",       { "10.0.0.0/8" },                  "::10.1.1.1",    0, false },
        { "v6_exact",              { "2001:db8::1" },                 "2001:db8::1",   0, true },
        { "v6_exact_long_form",    { "2001:db8::1" },                 "2001:0db8:0:0:0:0:0:1", 0, true },
        { "v6_exact_other",        { "2001:db8::1" },                 "2001:db8::2",   0, false },
        { "v6_128",                { "2001:db8::1/128" },             "2001:db8::1",   0, true },
        { "v6_128_other",          { "2001:db8::1/128" },             "2001:db8::1:1", 0, false },
        { "v6_64_in",              { "2001:db8:1:2::/64" },           "2001:db8:1:2:ffff::5", 0, true },
        { "v6_64_out",             { "2001:db8:1:2::/64" },           "2001:db8:1:3::5", 0, false },
        { "v6_61_in",              { "2001:db8:0:8::/61" },           "2001:db8:0:f::1", 0, true },
        { "v6_61_out",             { "2001:db8:0:8::/61" },           "2001:db8:0:10::1", 0, false },
        { "v6_0_any_v6",           { "::/0" },                        "fe80::1",       0, true },
        { "v6_0_not_v4",           { "::/0" },                        "192.0.2.1",     0, false },
        { "v6_0_not_mapped",       { "::/0" },                        "::ffff:192.0.2.1", 0, false },
        { "v6_uppercase",          { "2001:DB8::/32" },               "2001:db8:ab::1", 0, true },
        { "v6_zone_rhost",         { "fe80::/10" },                   "fe80::1%eth0",  0, true },
        { "v6_loopback",           { "::1" },                         "::1",           0, true },
        { "v4_loopback_not_v6",    { "127.0.0.1" },                   "::1",           0, false },
        { "second_rule_matches",   { "10.0.0.0/8", "2001:db8::/32" }, "2001:db8::7",   0, true },
        { "no_rule_matches",       { "10.0.0.0/8", "2001:db8::/32" }, "172.16.0.1",    0, false },
        { "hostname_refused",      { "10.0.0.0/8" },                  "host.example",  0, false },
        { "hostname_numeric_like", { "10.0.0.0/8" },                  "10.0.0.1.example", 0, false },
        { "empty_rhost",           { "10.0.0.0/8" },                  "",              0, false },
        { "null_rhost",            { "10.0.0.0/8" },                  NULL,            0, false },
        { "rhost_with_port",       { "10.0.0.0/8" },                  "10.0.0.1:22",   0, false },
        { "rhost_bracketed_v6",    { "2001:db8::/32" },               "[2001:db8::1]", 0, false },
        { "rhost_with_prefix",     { "10.0.0.0/8" },                  "10.0.0.1/32",   0, false },
        { "rhost_trailing_space",  { "10.0.0.0/8" },                  "10.0.0.1 ",     0, false },
        { "rhost_short_v4",        { "10.0.0.0/8" },                  "10.1",          0, false },
        { "rhost_octal",           { "10.0.0.0/8" },                  "010.0.0.1",     0, false },
        { "rhost_v4_zone",         { "10.0.0.0/8" },                  "10.0.0.1%eth0", 0, false },
        { "bad_rule_hostname",     { "trusted.example" },             "10.0.0.1",      -EINVAL, false },
        { "bad_rule_v4_33",        { "10.0.0.0/33" },                 "10.0.0.1",      -EINVAL, false },
        { "bad_rule_v6_129",       { "::/129" },                      "::1",           -EINVAL, false },
        { "bad_rule_empty_prefix", { "10.0.0.0/" },                   "10.0.0.1",      -EINVAL, false },
        { "bad_rule_neg_prefix",   { "10.0.0.0/-1" },                 "10.0.0.1",      -EINVAL, false },
        { "bad_rule_plus_prefix",  { "10.0.0.0/+8" },                 "10.0.0.1",      -EINVAL, false },
        { "bad_rule_lead_zero",    { "10.0.0.0/08" },                 "10.0.0.1",      -EINVAL, false },
        { "bad_rule_two_slashes",  { "10.0.0.0/8/8" },                "10.0.0.1",      -EINVAL, false },
        { "bad_rule_octet_256",    { "10.0.0.256" },                  "10.0.0.1",      -EINVAL, false },
        { "bad_rule_short_v4",     { "10.0.0" },                      "10.0.0.1",      -EINVAL, false },
        { "bad_rule_empty",        { "" },                            "10.0.0.1",      -EINVAL, false },
        { "bad_rule_space",        { " 10.0.0.1" },                   "10.0.0.1",      -EINVAL, false },
        { "bad_rule_zone",         { "fe80::1%eth0" },                "fe80::1",       -EINVAL, false },
        { "bad_rule_mapped_short", { "::ffff:10.0.0.0/8" },           "10.0.0.1",      -EINVAL, false },
        { "bad_rule_after_match",  { "10.0.0.0/8", "bogus" },         "10.0.0.1",      -EINVAL, false },
        { "bad_rule_wildcard",     { "*" },                           "10.0.0.1",      -EINVAL, false },
};

TEST(rhost_table) {
        for (size_t i = 0; i < ELEMENTSOF(rhost_cases); i++) {
                const RhostCase *t = &rhost_cases[i];
                bool allowed = !t->allowed;     /* poison: must be overwritten on success */
                bool ok;
                int r;

                r = rhost_allowed(t->rules[0] ? (char *const *) t->rules : NULL, t->rhost, &allowed);
                ok = r == t->r && (r < 0 ? allowed == !t->allowed : allowed == t->allowed);
                if (!ok)
                        fprintf(stderr, "  %s: r=%d allowed=%d, expected r=%d allowed=%d\n",
                                t->name, r, allowed, t->r, t->allowed);
                CHECK(ok);
                test_report("test-netaddr.c:rhost", t->name, ok);
        }
}

TEST(empty_strv_means_any) {
        char *empty[] = { NULL };
        bool allowed = false;

        CHECK_INTEQ(rhost_allowed(empty, "host.example", &allowed), 0);
        CHECK(allowed);
        CHECK_INTEQ(rhost_allowed(empty, NULL, &allowed), 0);
        CHECK(allowed);
}

TEST(parse_rule_fields) {
        NetRule r;
        uint8_t v4[4], v6[16];

        CHECK_INTEQ(netaddr_parse_rule("192.168.1.7/24", &r), 0);
        CHECK_INTEQ(r.family, AF_INET);
        CHECK_INTEQ(r.prefixlen, 24);
        CHECK(inet_pton(AF_INET, "192.168.1.0", v4) == 1);
        CHECK(memcmp(r.addr, v4, 4) == 0);

        CHECK_INTEQ(netaddr_parse_rule("2001:db8::1", &r), 0);
        CHECK_INTEQ(r.family, AF_INET6);
        CHECK_INTEQ(r.prefixlen, 128);
        CHECK(inet_pton(AF_INET6, "2001:db8::1", v6) == 1);
        CHECK(memcmp(r.addr, v6, 16) == 0);

        CHECK_INTEQ(netaddr_parse_rule("::ffff:10.1.0.0/112", &r), 0);
        CHECK_INTEQ(r.family, AF_INET);
        CHECK_INTEQ(r.prefixlen, 16);

        CHECK_INTEQ(netaddr_parse_rule("0.0.0.0/0", &r), 0);
        CHECK_INTEQ(r.prefixlen, 0);

        /* A 200-byte rule is refused, not truncated. */
        char longrule[200];
        memset(longrule, '1', sizeof longrule - 1);
        longrule[sizeof longrule - 1] = 0;
        CHECK_INTEQ(netaddr_parse_rule(longrule, &r), -EINVAL);
        CHECK_INTEQ(netaddr_parse_rule(NULL, &r), -EINVAL);
}

TEST(rule_matches_direct) {
        NetRule r;

        CHECK_INTEQ(netaddr_parse_rule("10.0.0.0/8", &r), 0);
        CHECK(netaddr_rule_matches(&r, "10.255.255.255"));
        CHECK(!netaddr_rule_matches(&r, "9.255.255.255"));
        CHECK(!netaddr_rule_matches(&r, NULL));
        CHECK(!netaddr_rule_matches(&r, "localhost"));
}

TEST(source_key) {
        static const struct { const char *rhost, *key; } cases[] = {
                { "198.51.100.23",              "198.51.100.23" },
                { "::ffff:198.51.100.23",       "198.51.100.23" },
                { "2001:db8:1:2::1",            "2001:db8:1:2::/64" },
                { "2001:db8:1:2:ffff:1:2:3",    "2001:db8:1:2::/64" },
                { "2001:db8:1:3::1",            "2001:db8:1:3::/64" },
                { "fe80::1%eth0",               "fe80::/64" },
                { "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff::/64" },
                { "host.example",               "host.example" },
                { "",                           "" },
        };
        char *k;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                k = NULL;
                CHECK_INTEQ(netaddr_source_key(cases[i].rhost, &k), 0);
                CHECK_STREQ(k, cases[i].key);
                free(k);
        }
        CHECK_INTEQ(netaddr_source_key(NULL, &k), -EINVAL);
}

int main(void) {
        return run_tests();
}
