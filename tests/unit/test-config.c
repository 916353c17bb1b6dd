/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "macro.h"
#include "test.h"

static char tmpdir[] = "/tmp/test-config.XXXXXX";

static const char *base =
        "[idp]\n"
        "issuer = https://idp.example.com/realms/corp\n"
        "client_id = ssh-login\n";

/* Parse BASE + EXTRA, verify, and return the printed errors (empty when none). */
static char *parse(const char *extra, Config **ret) {
        _cleanup_(config_errors_done) ConfigErrors errors = {};
        _cleanup_free_ char *text = NULL;
        char *out = NULL;
        size_t outlen = 0;
        FILE *f;
        Config *c = config_new();

        if (asprintf(&text, "%s%s", base, extra) < 0 || !c)
                abort();
        (void) config_parse_text(c, "devflowd.conf", text, strlen(text), &errors);
        (void) config_verify(c, "devflowd.conf", &errors);
        f = open_memstream(&out, &outlen);
        config_errors_print(&errors, f);
        fclose(f);
        if (ret)
                *ret = c;
        else
                config_free(c);
        return out;
}

static bool has(const char *haystack, const char *needle) {
        if (!strstr(haystack, needle)) {
                fprintf(stderr, "  expected '%s' in:\n%s\n", needle, haystack);
                return false;
        }
        return true;
}

TEST(minimal_config_and_defaults) {
        Config *c = NULL;
        _cleanup_free_ char *e = parse("", &c);

        CHECK_STREQ(e, "");
        CHECK_STREQ(c->issuer, "https://idp.example.com/realms/corp");
        CHECK_STREQ(c->client_id, "ssh-login");
        CHECK_INTEQ(c->client_auth, CLIENT_AUTH_NONE);
        CHECK_STREQ(c->scope, "openid profile email");
        CHECK_INTEQ(c->http_timeout_usec, 10 * USEC_PER_SEC);
        CHECK_INTEQ(c->clock_skew_usec, 60 * USEC_PER_SEC);
        CHECK(c->max_age_usec == USEC_INFINITY);
        CHECK_STREQ(c->username_claim[0], "preferred_username");
        CHECK(c->username_claim[1] == NULL);
        CHECK_STREQ(c->groups_claim, "groups");
        CHECK(!c->allow_root);
        CHECK(!c->allow_http_loopback);
        CHECK_INTEQ(c->max_flows_per_user, 16);
        CHECK_INTEQ(c->max_flows_per_user_per_rhost, 2);
        CHECK_STREQ(c->id_token_algs[0], "RS256");
        config_free(c);
}

TEST(every_type_accepts) {
        Config *c = NULL;
        _cleanup_free_ char *e = parse(
                "device_authorization_endpoint = https://idp.example.com/as/device_authz.oauth2\n"
                "token_endpoint = https://idp.example.com/as/token.oauth2  ; inline comment\n"
                "jwks_uri = https://idp.example.com/pf/JWKS\n"
                "userinfo_endpoint =\n"
                "client_auth = client_secret_post\n"
                "client_secret = s3cr#t\n"
                "scope = openid email\n"
                "extra_params = audience=https%3A%2F%2Fapi.example.com&prompt=login\n"
                "ca_file = /etc/passwd\n"     /* must exist, root's and not writable by others */
                "http_timeout = 20s\n"
                "allow_http_loopback = yes\n"
                "id_token_algs = RS256, ES256 EdDSA\n"
                "clock_skew = 30\n"
                "[login]\n"
                "username_claim = preferred_username email\n"
                "strip_domains = example.com corp.example.com\n"
                "lowercase = true\n"
                "allow_root = off\n"
                "require_groups = admins\n"
                "groups_claim = realm_access.roles\n"
                "acr_values = urn:mace:incommon:iap:silver\n"
                "max_age = 300\n"
                "require_amr = mfa\n"
                "allowed_rhosts = 192.0.2.0/24 2001:db8::/32 127.0.0.1\n"
                "[limits]\n"
                "max_flows = 10000\n"
                "max_flows_per_user = 5\n"
                "max_flows_per_rhost = 7\n"
                "max_new_flows_per_rhost_per_minute = 100\n"
                "max_login_time = 300\n", &c);

        CHECK_STREQ(e, "");
        CHECK_STREQ(c->token_endpoint, "https://idp.example.com/as/token.oauth2");
        CHECK(c->userinfo_endpoint == NULL);
        CHECK_INTEQ(c->client_auth, CLIENT_AUTH_CLIENT_SECRET_POST);
        CHECK_STREQ(c->client_secret, "s3cr#t");        /* '#' not after whitespace is not a comment */
        CHECK_STREQ(c->extra_params, "audience=https%3A%2F%2Fapi.example.com&prompt=login");
        CHECK_INTEQ(c->http_timeout_usec, 20 * USEC_PER_SEC);
        CHECK(c->allow_http_loopback);
        CHECK_STREQ(c->id_token_algs[1], "ES256");
        CHECK_STREQ(c->id_token_algs[2], "EdDSA");
        CHECK(c->id_token_algs[3] == NULL);
        CHECK_STREQ(c->username_claim[1], "email");
        CHECK(c->lowercase);
        CHECK_STREQ(c->groups_claim, "realm_access.roles");
        CHECK_INTEQ(c->max_age_usec, 300 * USEC_PER_SEC);
        CHECK_STREQ(c->allowed_rhosts[1], "2001:db8::/32");
        CHECK_INTEQ(c->max_flows, 10000);
        CHECK_INTEQ(c->max_new_flows_per_rhost_per_minute, 100);
        CHECK_INTEQ(c->max_login_time_usec, 300 * USEC_PER_SEC);
        config_free(c);
}

#define TEN "abcdefghij"
#define E_TEN "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"      /* 10 é, 20 bytes */

TEST(error_messages_name_file_line_key) {
        static const struct { const char *extra, *expected; } cases[] = {
                { "http_timeout = ten\n", "devflowd.conf:4: [idp] http_timeout: expected seconds, got 'ten'" },
                { "http_timeout = 0\n", "devflowd.conf:4: [idp] http_timeout: expected seconds between 1 and 300, got '0'" },
                { "bogus = 1\n", "devflowd.conf:4: [idp] bogus: unknown key" },
                { "[nope]\nx = 1\n", "devflowd.conf:4: unknown section [nope]" },
                { "client_id = again\n", "devflowd.conf:4: [idp] client_id: set twice in this file" },
                { "just words\n", "devflowd.conf:4: [idp] expected 'key = value', got 'just words'" },
                { "allow_http_loopback = maybe\n", "devflowd.conf:4: [idp] allow_http_loopback: expected yes or no, got 'maybe'" },
                { "client_auth = magic\n", "devflowd.conf:4: [idp] client_auth: expected none, client_secret_basic" },
                { "id_token_algs = RS256 HS256\n", "devflowd.conf:4: [idp] id_token_algs: 'HS256' is not allowed" },
                { "id_token_algs = none\n", "devflowd.conf:4: [idp] id_token_algs: 'none' is not allowed" },
                { "token_endpoint = http://idp.example.com/token\n", "devflowd.conf:4: [idp] token_endpoint: must be an https URL" },
                { "token_endpoint = ftp://idp.example.com/token\n", "devflowd.conf:4: [idp] token_endpoint: expected an https URL, got 'ftp://idp.example.com/token'" },
                { "ca_file = relative.pem\n", "devflowd.conf:4: [idp] ca_file: expected an absolute path, got 'relative.pem'" },
                { "scope = profile email\n", "devflowd.conf:4: [idp] scope: must contain 'openid'" },
                { "extra_params = client_id=evil\n", "devflowd.conf:4: [idp] extra_params: may not set a parameter the daemon sends itself" },
                { "extra_params = a b\n", "devflowd.conf:4: [idp] extra_params: expected URL-encoded name=value pairs" },
                { "client_auth = client_secret_basic\n", "devflowd.conf:4: [idp] client_auth: client_secret_basic needs client_secret_file" },
                { "client_auth = private_key_jwt\n", "devflowd.conf:4: [idp] client_auth: private_key_jwt needs client_key_file" },
                { "client_auth = tls_client_auth\n", "devflowd.conf:4: [idp] client_auth: tls_client_auth needs client_cert_file and client_key_file" },
                { "[login]\nallowed_rhosts = 10.0.0.0/8 example.com\n", "devflowd.conf:5: [login] allowed_rhosts: expected addresses or CIDR ranges, got 'example.com'" },
                { "[limits]\nmax_flows = lots\n", "devflowd.conf:5: [limits] max_flows: expected a number, got 'lots'" },
                { "[limits]\nmax_flows = 0\n", "devflowd.conf:5: [limits] max_flows: expected a number between 1 and 1000000, got '0'" },
                { "[login]\nlowercase = 2\n", "devflowd.conf:5: [login] lowercase: expected yes or no, got '2'" },
                { "[idp\n", "devflowd.conf:4: malformed section header" },
                { "client_secret = a\nclient_secret_file = /nonexistent\n", "[idp] client_secret_file: set either client_secret or client_secret_file, not both" },
                /* A quoted value is at most 64 bytes, cut at a character boundary and marked "...". */
                { "http_timeout = " TEN TEN TEN TEN TEN TEN TEN "\n",
                  "devflowd.conf:4: [idp] http_timeout: expected seconds, got '" TEN TEN TEN TEN TEN TEN "a...'\n" },
                { "http_timeout = " E_TEN E_TEN E_TEN E_TEN "\n",
                  "devflowd.conf:4: [idp] http_timeout: expected seconds, got '" E_TEN E_TEN E_TEN "...'\n" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *e = parse(cases[i].extra, NULL);
                bool ok = has(e, cases[i].expected);
                char name[32];

                snprintf(name, sizeof name, "case%zu", i);
                test_report("config-errors", name, ok);
                CHECK(ok);
        }
}

TEST(key_outside_section_and_missing_required) {
        _cleanup_(config_errors_done) ConfigErrors errors = {};
        const char *text = "client_id = x\n";
        Config *c = config_new();
        char *out = NULL;
        size_t n = 0;
        FILE *f;

        CHECK(config_parse_text(c, "x.conf", text, strlen(text), &errors) == -EINVAL);
        CHECK(config_verify(c, "x.conf", &errors) == -EINVAL);
        f = open_memstream(&out, &n);
        config_errors_print(&errors, f);
        fclose(f);
        CHECK(has(out, "x.conf:1: client_id: key outside of any section"));
        CHECK(has(out, "x.conf: [idp] client_id: required"));
        CHECK(has(out, "x.conf: [idp] issuer: required"));
        free(out);
        config_free(c);
}

TEST(hostile_input) {
        _cleanup_free_ char *big = malloc(CONFIG_MAX_LINE + 100), *many = NULL;
        _cleanup_free_ char *e1 = NULL, *e2 = NULL, *e3 = NULL;
        _cleanup_(config_errors_done) ConfigErrors errors = {};
        Config *c = config_new();
        size_t n = 0;
        FILE *f;

        memset(big, 'a', CONFIG_MAX_LINE + 50);
        memcpy(big, "client_secret = ", 16);
        big[CONFIG_MAX_LINE + 50] = '\n';
        big[CONFIG_MAX_LINE + 51] = 0;
        e1 = parse(big, NULL);
        CHECK(has(e1, "devflowd.conf:4: line longer than 4096 bytes"));

        e2 = parse("scope = openid \xc3\x28\n", NULL);
        CHECK(has(e2, "devflowd.conf:4: invalid UTF-8"));
        e3 = parse("scope = openid \xe2\x80\n", NULL);
        CHECK(has(e3, "invalid UTF-8"));

        CHECK(config_parse_text(c, "nul.conf", "[idp]\nclient_id = a\0b\n", 20, &errors) == -EINVAL);
        CHECK(errors.n == 1 && errors.errors[0].line == 2 && strstr(errors.errors[0].message, "NUL"));
        config_errors_done(&errors);

        /* 10,000 sections: refused quickly, errors capped. */
        f = open_memstream(&many, &n);
        for (int i = 0; i < 10000; i++)
                fprintf(f, "[s%d]\nk = v\n", i);
        fclose(f);
        CHECK(config_parse_text(c, "many.conf", many, n, &errors) == -EINVAL);
        CHECK(errors.n == 1000);
        config_errors_done(&errors);

        /* 10,000 valid sections are fine. */
        many = mfree(many);
        f = open_memstream(&many, &n);
        for (int i = 0; i < 10000; i++)
                fprintf(f, "[login]\n");
        fclose(f);
        CHECK(config_parse_text(c, "ok.conf", many, n, &errors) == 0);
        config_free(c);
}

static void write_file(const char *path, const char *text, mode_t mode) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t) strlen(text))
                abort();
        (void) fchmod(fd, mode);
        close(fd);
}

TEST(drop_ins_override_in_lexical_order) {
        _cleanup_(config_errors_done) ConfigErrors errors = {};
        _cleanup_free_ char *main_conf = NULL, *dir = NULL, *a = NULL, *b = NULL, *ignored = NULL;
        Config *c = NULL;

        CHECK(asprintf(&main_conf, "%s/devflowd.conf", tmpdir) > 0);
        CHECK(asprintf(&dir, "%s/devflowd.conf.d", tmpdir) > 0);
        CHECK(asprintf(&a, "%s/10-a.conf", dir) > 0);
        CHECK(asprintf(&b, "%s/20-b.conf", dir) > 0);
        CHECK(asprintf(&ignored, "%s/30-c.conf.disabled", dir) > 0);
        write_file(main_conf, "[idp]\nissuer = https://idp.example.com\nclient_id = main\nhttp_timeout = 5\n", 0600);
        CHECK(mkdir(dir, 0755) == 0);
        write_file(b, "[idp]\nclient_id = from-b\n", 0600);
        write_file(a, "[idp]\nclient_id = from-a\nhttp_timeout = 7\n", 0600);
        write_file(ignored, "[idp]\nclient_id = ignored\n", 0600);

        CHECK_INTEQ(config_load(main_conf, &c, &errors), 0);
        CHECK(c && streq(c->client_id, "from-b"));
        CHECK(c && c->http_timeout_usec == 7 * USEC_PER_SEC);
        config_free(c);

        /* An error in a drop-in names the drop-in. */
        write_file(b, "[idp]\nclient_id = x\nhttp_timeout = soon\n", 0600);
        CHECK_INTEQ(config_load(main_conf, &c, &errors), -EINVAL);
        CHECK(errors.n == 1 && strstr(errors.errors[0].file, "20-b.conf") && errors.errors[0].line == 3);
}

/* A secret's directory chain: nobody else may replace it (sticky directories only above its own). */
TEST(secret_file_directories) {
        _cleanup_free_ char *sticky = NULL, *open_dir = NULL, *sub = NULL, *s1 = NULL, *s2 = NULL, *extra = NULL,
                *e = NULL, *want = NULL;
        Config *c = NULL;

        CHECK(asprintf(&sticky, "%s/sticky", tmpdir) > 0 && asprintf(&s1, "%s/client_secret", sticky) > 0);
        CHECK(asprintf(&open_dir, "%s/open", tmpdir) > 0 && asprintf(&sub, "%s/sub", open_dir) > 0 &&
              asprintf(&s2, "%s/client_secret", sub) > 0);
        CHECK(mkdir(sticky, 0755) == 0 && chmod(sticky, 01777) == 0);
        CHECK(mkdir(open_dir, 0755) == 0 && chmod(open_dir, 0777) == 0 && mkdir(sub, 0755) == 0);
        write_file(s1, "t0p-secret\n", 0600);
        write_file(s2, "t0p-secret\n", 0600);

        CHECK(asprintf(&extra, "client_auth = client_secret_basic\nclient_secret_file = %s\n", s1) > 0);
        e = parse(extra, NULL);
        CHECK(asprintf(&want, "is in %s, which others may write to (mode 1777); move it into a directory only "
                       "root can write to", sticky) > 0);
        CHECK(has(e, want));
        e = mfree(e), extra = mfree(extra), want = mfree(want);

        CHECK(asprintf(&extra, "client_auth = client_secret_basic\nclient_secret_file = %s\n", s2) > 0);
        e = parse(extra, NULL);
        CHECK(asprintf(&want, "is in %s, which group or others may write to (mode 0777); run: chmod 0755 %s",
                       open_dir, open_dir) > 0);
        CHECK(has(e, want));
        e = mfree(e), want = mfree(want);

        /* Fixed as told: accepted; and /tmp (sticky) above a 0700 directory is fine. */
        CHECK(chmod(open_dir, 0755) == 0);
        e = parse(extra, &c);
        CHECK_STREQ(e, "");
        CHECK_STREQ(c->client_secret, "t0p-secret");
        config_free(c);

        (void) unlink(s1), (void) unlink(s2), (void) rmdir(sub), (void) rmdir(open_dir), (void) rmdir(sticky);
}

/* A symbolic link on the way to a secret: its owner could point it elsewhere. */
TEST(secret_file_through_a_symlink) {
        _cleanup_free_ char *real = NULL, *sticky = NULL, *link = NULL, *secret = NULL, *via = NULL, *extra = NULL,
                *e = NULL, *want = NULL;

        CHECK(asprintf(&real, "%s/real", tmpdir) > 0 && asprintf(&secret, "%s/client_secret", real) > 0);
        CHECK(asprintf(&sticky, "%s/tmp", tmpdir) > 0 && asprintf(&link, "%s/link", sticky) > 0 &&
              asprintf(&via, "%s/client_secret", link) > 0);
        CHECK(mkdir(real, 0755) == 0 && mkdir(sticky, 0755) == 0 && chmod(sticky, 01777) == 0);
        write_file(secret, "t0p-secret\n", 0600);
        CHECK(symlink(real, link) == 0);
        CHECK(asprintf(&extra, "client_auth = client_secret_basic\nclient_secret_file = %s\n", via) > 0);

        e = parse(extra, NULL);
        CHECK_STREQ(e, "");             /* our own link in a sticky directory: nobody else can change it */
        e = mfree(e);
        if (geteuid() == 0) {
                CHECK(lchown(link, 65534, 65534) == 0);
                e = parse(extra, NULL);
                CHECK(asprintf(&want, "is reached through %s, a symbolic link owned by uid 65534, not by root; run: "
                               "chown -h root:root %s", link, link) > 0);
                CHECK(has(e, want));
        } else
                printf("SKIP: %s: a link owned by another user (needs root)\n", __func__);
        (void) unlink(link), (void) unlink(secret), (void) rmdir(real), (void) rmdir(sticky);
}

TEST(ca_file_and_cert_writable) {
        _cleanup_free_ char *ca = NULL, *extra = NULL, *e = NULL, *want = NULL;

        CHECK(asprintf(&ca, "%s/ca.pem", tmpdir) > 0);
        CHECK(asprintf(&extra, "ca_file = %s\nclient_cert_file = %s\n", ca, ca) > 0);
        write_file(ca, "-----BEGIN CERTIFICATE-----\n", 0644);
        e = parse(extra, NULL);
        CHECK_STREQ(e, "");             /* readable by all is fine: it is no secret */
        e = mfree(e);
        write_file(ca, "-----BEGIN CERTIFICATE-----\n", 0664);
        e = parse(extra, NULL);
        CHECK(asprintf(&want, "%s is writable by group or others (mode 0664); run: chmod 0644 %s", ca, ca) > 0);
        CHECK(has(e, "[idp] ca_file: "));
        CHECK(has(e, "[idp] client_cert_file: "));
        CHECK(has(e, want));
        (void) unlink(ca);
}

TEST(secret_file_permissions) {
        _cleanup_free_ char *secret = NULL, *extra = NULL, *e = NULL;
        Config *c = NULL;

        CHECK(asprintf(&secret, "%s/client_secret", tmpdir) > 0);
        CHECK(asprintf(&extra, "client_auth = client_secret_basic\nclient_secret_file = %s\n", secret) > 0);

        write_file(secret, "t0p-secret\n", 0600);
        e = parse(extra, &c);
        CHECK_STREQ(e, "");
        CHECK_STREQ(c->client_secret, "t0p-secret");
        config_free(c);
        free(e);

        write_file(secret, "t0p-secret\n", 0644);
        e = parse(extra, NULL);
        CHECK(has(e, "[idp] client_secret_file: "));
        CHECK(has(e, "is readable or writable by group or others (mode 0644); run: chmod 0600 "));
        CHECK(has(e, secret));
        free(e);

        (void) unlink(secret);
        CHECK(symlink("/etc/hostname", secret) == 0);
        e = parse(extra, NULL);
        CHECK(has(e, "is a symbolic link"));
        free(e);
        (void) unlink(secret);

        CHECK(mkdir(secret, 0700) == 0);
        e = parse(extra, NULL);
        CHECK(has(e, "client_secret_file"));
        free(e);
        (void) rmdir(secret);

        e = parse(extra, NULL);
        CHECK(has(e, "cannot be opened: No such file or directory"));
}

int main(void) {
        int r;

        if (!mkdtemp(tmpdir))
                return 2;
        r = run_tests();
        {
                _cleanup_free_ char *cmd = NULL;
                if (asprintf(&cmd, "rm -rf '%s'", tmpdir) > 0)
                        if (system(cmd) != 0)
                                fprintf(stderr, "could not remove %s, ignoring\n", tmpdir);
        }
        return r;
}
