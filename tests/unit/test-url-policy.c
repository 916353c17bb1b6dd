/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "test.h"
#include "url-policy.h"

TEST(url_rules) {
        CHECK(url_policy_ok("https://idp.example.com/x", false));
        CHECK(!url_policy_ok("http://idp.example.com/x", true));
        CHECK(!url_policy_ok("http://127.0.0.1:8080/x", false));
        CHECK(url_policy_ok("http://127.0.0.1:8080/x", true));
        CHECK(url_policy_ok("http://[::1]:8080/x", true));
        CHECK(url_policy_ok("http://localhost/x", true));
        CHECK(!url_policy_ok("http://127.0.0.1.evil.com/x", true));
        CHECK(!url_policy_ok("https://user:pw@idp.example.com/", false));
        CHECK(!url_policy_ok("https://idp.example.com/a b", false));
        CHECK(!url_policy_ok("javascript:alert(1)", true));
        CHECK(!url_policy_ok("https:///nohost", false));
        CHECK(!url_policy_ok("HTTPS://idp.example.com/", false));
        CHECK(url_policy_ok("http://127.1.2.3/x", true));            /* all of 127/8 is loopback */
        CHECK(!url_policy_ok("http://localhost.evil.com/x", true));
        CHECK(!url_policy_ok("https://idp.example.com/\x7f", false));
        CHECK(!url_policy_ok(NULL, true));
}

int main(void) {
        return run_tests();
}
