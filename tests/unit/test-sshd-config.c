/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* doctor's reading of sshd's configuration: the first value wins (Debian's sshd_config includes
 * sshd_config.d/ before its own "KbdInteractiveAuthentication no"), sshd -t's "Disabled method", and what
 * AuthenticationMethods lets through. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "sshd-config.h"
#include "test.h"

static char dir[] = "/tmp/devflow-test-sshd-config.XXXXXX";

static void write_file(const char *name, const char *text) {
        char path[512];
        FILE *f;

        snprintf(path, sizeof path, "%s/%s", dir, name);
        f = fopen(path, "we");
        CHECK(f != NULL);
        if (!f)
                return;
        fputs(text, f);
        fclose(f);
}

TEST(first_setting_follows_include_before_later_lines) {
        char main_path[512], buf[1024], text[1024];

        CHECK(mkdtemp(dir) != NULL);
        snprintf(text, sizeof text, "# Debian-like\nInclude %s/conf.d/*.conf\nKbdInteractiveAuthentication no\n"
                 "UsePAM yes\nkbdinteractiveauthentication yes\n", dir);
        write_file("sshd_config", text);
        snprintf(main_path, sizeof main_path, "%s/sshd_config", dir);
        snprintf(buf, sizeof buf, "%s/conf.d", dir);
        CHECK_INTEQ(mkdir(buf, 0755), 0);

        /* Without a drop-in, Debian's own line is the first: lines appended after it lose. */
        CHECK(sshd_config_first_setting(main_path, "KbdInteractiveAuthentication", buf, sizeof buf));
        snprintf(text, sizeof text, "%s:3: 'KbdInteractiveAuthentication no'", main_path);
        CHECK_STREQ(buf, text);
        test_report("test-sshd-config.c", "the earlier line wins over an appended one", streq(buf, text));

        /* A drop-in in the included directory comes first, whatever case the keyword has. */
        write_file("conf.d/50-devflow.conf", "  kbdInteractiveAuthentication=yes\n");
        CHECK(sshd_config_first_setting(main_path, "KbdInteractiveAuthentication", buf, sizeof buf));
        CHECK(strstr(buf, "conf.d/50-devflow.conf:1: 'kbdInteractiveAuthentication yes'") != NULL);
        test_report("test-sshd-config.c", "the drop-in is read first", strstr(buf, "50-devflow.conf:1") != NULL);

        /* Match blocks are conditional: not the first value. */
        write_file("match_config", "Match User bob\nPasswordAuthentication yes\n");
        snprintf(text, sizeof text, "%s/match_config", dir);
        CHECK(!sshd_config_first_setting(text, "PasswordAuthentication", buf, sizeof buf));
        CHECK(!sshd_config_first_setting(main_path, "PasswordAuthentication", buf, sizeof buf));
        /* An include loop ends. */
        snprintf(text, sizeof text, "Include %s/loop_config\n", dir);
        write_file("loop_config", text);
        snprintf(text, sizeof text, "%s/loop_config", dir);
        CHECK(!sshd_config_first_setting(text, "UsePAM", buf, sizeof buf));

        snprintf(text, sizeof text, "rm -rf '%s'", dir);
        CHECK_INTEQ(system(text), 0);
}

TEST(disabled_method_names_its_keyword) {
        CHECK_STREQ(sshd_keyword_for_disabled_method(
                            "Disabled method \"keyboard-interactive\" in AuthenticationMethods list "
                            "\"publickey,keyboard-interactive\"\n"), "KbdInteractiveAuthentication");
        CHECK_STREQ(sshd_keyword_for_disabled_method("Disabled method \"password\" in AuthenticationMethods list"),
                    "PasswordAuthentication");
        CHECK(sshd_keyword_for_disabled_method("/etc/ssh/sshd_config line 3: Bad configuration option: Foo") == NULL);
}

TEST(authentication_methods) {
        bool some;

        CHECK(sshd_methods_allow_password("any"));
        CHECK(sshd_methods_allow_password("publickey,password keyboard-interactive"));
        CHECK(!sshd_methods_allow_password("publickey,keyboard-interactive"));
        CHECK(!sshd_methods_allow_password("publickey,keyboard-interactive:pam keyboard-interactive"));
        CHECK(sshd_methods_all_kbdint("publickey,keyboard-interactive keyboard-interactive:pam", &some) && some);
        CHECK(!sshd_methods_all_kbdint("publickey,keyboard-interactive publickey", &some) && some);
        CHECK(!sshd_methods_all_kbdint("publickey", &some) && !some);
}

TEST(value_from_sshd_T) {
        static const char out[] = "port 22\nusepam yes\npasswordauthentication no\nauthenticationmethods any\n";
        char v[64];

        CHECK_STREQ(sshd_config_value(out, "passwordauthentication", v, sizeof v), "no");
        CHECK_STREQ(sshd_config_value(out, "usepam", v, sizeof v), "yes");
        CHECK(sshd_config_value(out, "pam", v, sizeof v) == NULL);
}

int main(void) {
        return run_tests();
}
