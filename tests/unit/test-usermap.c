/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "test.h"
#include "usermap.h"

static int parse(const char *text, UserMap **ret, char **ret_error) {
        return usermap_parse(text, strlen(text), "/etc/devflow/users.map", ret, ret_error);
}

TEST(parses_mappings_comments_blanks) {
        _cleanup_(usermap_freep) UserMap *m = NULL;
        _cleanup_free_ char *err = NULL;
        const char *text =
                "# comment\n"
                "\n"
                "   \t\n"
                "  # indented comment\n"
                "alice@example.com   alice\n"
                "\ts-123\t\tbob   # trailing comment\n"
                "j\xc3\xbcrgen@example.com juergen\r\n"        /* UTF-8 claim value, CRLF */
                "Carol carol@example.com";                      /* no final newline */

        CHECK_INTEQ(parse(text, &m, &err), 0);
        CHECK(err == NULL);
        CHECK_INTEQ(usermap_size(m), 4);
        CHECK_STREQ(usermap_lookup(m, "alice@example.com"), "alice");
        CHECK_STREQ(usermap_lookup(m, "s-123"), "bob");
        CHECK_STREQ(usermap_lookup(m, "j\xc3\xbcrgen@example.com"), "juergen");
        CHECK_STREQ(usermap_lookup(m, "Carol"), "carol@example.com");
}

TEST(lookup_is_exact) {
        _cleanup_(usermap_freep) UserMap *m = NULL;

        CHECK_INTEQ(parse("alice@example.com alice\nbob bob\n", &m, NULL), 0);
        CHECK(usermap_lookup(m, "ALICE@example.com") == NULL);
        CHECK(usermap_lookup(m, "alice@example.co") == NULL);
        CHECK(usermap_lookup(m, "alice@example.com ") == NULL);
        CHECK(usermap_lookup(m, "bo") == NULL);
        CHECK(usermap_lookup(m, "bobby") == NULL);
        CHECK(usermap_lookup(m, "") == NULL);
        CHECK(usermap_lookup(m, NULL) == NULL);
        CHECK(usermap_lookup(NULL, "bob") == NULL);
        CHECK_STREQ(usermap_lookup(m, "bob"), "bob");
}

TEST(empty_map_is_valid) {
        _cleanup_(usermap_freep) UserMap *m = NULL, *m2 = NULL;

        CHECK_INTEQ(usermap_parse("", 0, "x.map", &m, NULL), 0);
        CHECK_INTEQ(usermap_size(m), 0);
        CHECK(usermap_lookup(m, "alice") == NULL);
        CHECK_INTEQ(parse("# only comments\n\n", &m2, NULL), 0);
        CHECK_INTEQ(usermap_size(m2), 0);
}

typedef struct ErrCase {
        const char *name;
        const char *text;
        size_t len;             /* 0: strlen */
        const char *error;      /* expected message, exactly */
} ErrCase;

#define F "/etc/devflow/users.map"
#define SAFE_HINT "local user is not a safe user name (1-32 bytes of ASCII letters, digits, '.', '_', '-', '@', " \
                  "not starting with '-')"

static const ErrCase err_cases[] = {
        { "one_field", "alice\n", 0, F ":1: expected \"claim-value local-user\", found one field" },
        { "one_field_comment", "ok ok\nalice # bob\n", 0, F ":2: expected \"claim-value local-user\", found one field" },
        { "three_fields", "a b\n\n\nalice bob carol\n", 0, F ":4: unexpected third field (comments start with '#')" },
        { "duplicate", "# x\nalice alice\nbob bob\nalice alice\n", 0, F ":4: duplicate claim value (first mapped on line 2)" },
        { "duplicate_other_user", "alice alice\nalice bob\n", 0, F ":2: duplicate claim value (first mapped on line 1)" },
        { "user_with_slash", "x ../alice\n", 0, F ":1: " SAFE_HINT },
        { "user_with_colon", "x alice:0\n", 0, F ":1: " SAFE_HINT },
        { "user_leading_dash", "x -alice\n", 0, F ":1: " SAFE_HINT },
        { "user_fullwidth", "x \xef\xbd\x81lice\n", 0, F ":1: " SAFE_HINT },
        { "user_too_long", "x abcdefghijklmnopqrstuvwxyz0123456\n", 0, F ":1: " SAFE_HINT },
        { "user_dotdot", "x ..\n", 0, F ":1: " SAFE_HINT },
        { "control_char", "ok ok\nal\x1bice alice\n", 0, F ":2: control character (0x1b) in line" },
        { "nul_byte", "ok ok\nal\0ice alice\n", 18, F ":2: control character (0x00) in line" },
        { "bare_cr", "alice\ralice bob\n", 0, F ":1: control character (0x0d) in line" },
        { "del_char", "a\x7f b\n", 0, F ":1: control character (0x7f) in line" },
};

TEST(errors_name_file_and_line) {
        for (size_t i = 0; i < ELEMENTSOF(err_cases); i++) {
                const ErrCase *t = &err_cases[i];
                _cleanup_(usermap_freep) UserMap *m = NULL;
                _cleanup_free_ char *err = NULL;
                int r;
                bool ok;

                r = usermap_parse(t->text, t->len ?: strlen(t->text), F, &m, &err);
                ok = r == -EINVAL && m == NULL && streq_ptr(err, t->error);
                if (!ok)
                        fprintf(stderr, "  %s: r=%d err='%s'\n     expected '%s'\n", t->name, r, strna(err), t->error);
                CHECK(ok);
                test_report("test-usermap.c:error", t->name, ok);
        }
}

TEST(long_lines_and_values) {
        _cleanup_free_ char *line = NULL, *value = NULL;
        _cleanup_free_ char *err = NULL, *err2 = NULL;
        UserMap *m = NULL;

        /* A claim value just over the limit. */
        value = malloc(USERMAP_MAX_VALUE + 1 + 7);
        CHECK(value != NULL);
        memset(value, 'v', USERMAP_MAX_VALUE + 1);
        strcpy(value + USERMAP_MAX_VALUE + 1, " alice");
        CHECK_INTEQ(usermap_parse(value, strlen(value), "m", &m, &err), -EINVAL);
        CHECK_STREQ(err, "m:1: claim value too long (more than 1024 bytes)");

        /* A line over the limit. */
        line = malloc(USERMAP_MAX_LINE + 10);
        CHECK(line != NULL);
        memset(line, ' ', USERMAP_MAX_LINE + 9);
        line[USERMAP_MAX_LINE + 9] = 0;
        line[0] = 'a';
        line[USERMAP_MAX_LINE + 8] = 'b';
        CHECK_INTEQ(usermap_parse(line, strlen(line), "m", &m, &err2), -EINVAL);
        CHECK_STREQ(err2, "m:1: line too long (more than 4096 bytes)");
        CHECK(m == NULL);

        /* Too big as a whole: refused before parsing, error names the file only. */
        _cleanup_free_ char *err3 = NULL;
        CHECK_INTEQ(usermap_parse("", USERMAP_MAX_SIZE + 1, "m", &m, &err3), -EINVAL);
        CHECK(err3 && strstr(err3, "m: file too large"));
}

TEST(many_entries_sorted_lookup) {
        _cleanup_(usermap_freep) UserMap *m = NULL;
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);

        CHECK(f != NULL);
        for (unsigned i = 0; i < 5000; i++)
                fprintf(f, "sub-%u user%u\n", (i * 7919) % 5000, (i * 7919) % 5000);
        fclose(f);
        CHECK_INTEQ(usermap_parse(text, size, "big.map", &m, NULL), 0);
        CHECK_INTEQ(usermap_size(m), 5000);
        CHECK_STREQ(usermap_lookup(m, "sub-0"), "user0");
        CHECK_STREQ(usermap_lookup(m, "sub-4999"), "user4999");
        CHECK_STREQ(usermap_lookup(m, "sub-2500"), "user2500");
        CHECK(usermap_lookup(m, "sub-5000") == NULL);
}

static int write_file(const char *path, const char *text, mode_t mode) {
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        if (fd < 0)
                return -errno;
        if (write(fd, text, strlen(text)) != (ssize_t) strlen(text))
                return -EIO;
        if (fchmod(fd, mode) < 0)
                return -errno;
        return 0;
}

TEST(load_checks_file) {
        char dir[] = "/tmp/test-usermap.XXXXXX";
        _cleanup_free_ char *good = NULL, *open_mode = NULL, *link = NULL, *bad = NULL, *missing = NULL;
        _cleanup_free_ char *e1 = NULL, *e2 = NULL, *e3 = NULL, *e4 = NULL;
        UserMap *m = NULL;

        CHECK(mkdtemp(dir) != NULL);
        CHECK(asprintf(&good, "%s/good.map", dir) > 0);
        CHECK(asprintf(&open_mode, "%s/open.map", dir) > 0);
        CHECK(asprintf(&link, "%s/link.map", dir) > 0);
        CHECK(asprintf(&bad, "%s/bad.map", dir) > 0);
        CHECK(asprintf(&missing, "%s/missing.map", dir) > 0);

        CHECK_INTEQ(write_file(good, "s-1 alice\n", 0600), 0);
        CHECK_INTEQ(write_file(open_mode, "s-1 alice\n", 0644), 0);
        CHECK_INTEQ(write_file(bad, "s-1 alice\ns-2\n", 0600), 0);
        CHECK_INTEQ(symlink(good, link), 0);

        CHECK_INTEQ(usermap_load(good, &m, NULL), 0);
        CHECK_STREQ(usermap_lookup(m, "s-1"), "alice");
        m = usermap_free(m);

        CHECK_INTEQ(usermap_load(open_mode, &m, &e1), -EPERM);
        CHECK(e1 && strncmp(e1, open_mode, strlen(open_mode)) == 0);
        CHECK(usermap_load(link, &m, &e2) < 0);
        CHECK(e2 && strstr(e2, "symbolic link"));
        CHECK_INTEQ(usermap_load(bad, &m, &e3), -EINVAL);
        CHECK(e3 && strstr(e3, ":2: expected"));
        CHECK(e3 && strncmp(e3, bad, strlen(bad)) == 0);
        CHECK_INTEQ(usermap_load(missing, &m, &e4), -ENOENT);
        CHECK(m == NULL);

        (void) unlink(good);
        (void) unlink(open_mode);
        (void) unlink(link);
        (void) unlink(bad);
        (void) rmdir(dir);
}

int main(void) {
        return run_tests();
}
