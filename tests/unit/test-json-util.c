/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>

#include "json-util.h"
#include "test.h"

static int parse(const char *s, json_object **ret) {
        return json_parse_strict(s, strlen(s), ret);
}

TEST(parses_object) {
        _cleanup_json_ json_object *o = NULL;
        uint64_t x = 0;

        CHECK_INTEQ(parse("{\"a\":\"b\",\"n\":5,\"s\":\"900\"} \n", &o), 0);
        CHECK_STREQ(json_get_string(o, "a"), "b");
        CHECK(json_get_string(o, "n") == NULL);
        CHECK_INTEQ(json_get_uint64(o, "n", &x), 0);
        CHECK_INTEQ(x, 5);
        CHECK_INTEQ(json_get_uint64(o, "s", &x), 0);
        CHECK_INTEQ(x, 900);
        CHECK_INTEQ(json_get_uint64(o, "a", &x), -EINVAL);
        CHECK_INTEQ(json_get_uint64(o, "missing", &x), -ENOENT);
}

TEST(refuses_malformed) {
        json_object *o = NULL;

        CHECK_INTEQ(parse("{\"a\":", &o), -EBADMSG);
        CHECK_INTEQ(parse("{\"a\":1} x", &o), -EBADMSG);
        CHECK_INTEQ(parse("{\"a\":'b'}", &o), -EBADMSG);
        CHECK_INTEQ(parse("{\"a\":01}", &o), -EBADMSG);
        CHECK_INTEQ(parse("", &o), -EBADMSG);
        CHECK_INTEQ(json_parse_strict("{\"a\":1}\0", 8, &o), -EBADMSG);
        CHECK(o == NULL);
}

TEST(refuses_invalid_utf8_and_embedded_nul) {
        _cleanup_json_ json_object *o = NULL;
        json_object *bad = NULL;

        CHECK_INTEQ(parse("{\"a\":\"\xff\xfe\"}", &bad), -EBADMSG);
        CHECK_INTEQ(parse("{\"a\":\"\xc2\x9b[31m\"}", &bad), 0);     /* valid UTF-8 (C1): parsed, sanitized later */
        json_object_put(bad);
        bad = NULL;
        /* An escaped NUL anywhere refuses the whole reply (it would cut a C string short). */
        CHECK_INTEQ(parse("{\"code\":\"WDJB\\u0000MJHT\",\"ok\":\"x\"}", &bad), -EILSEQ);
        CHECK(bad == NULL);
        CHECK_INTEQ(parse("{\"ok\":\"x\"}", &o), 0);
        CHECK_STREQ(json_get_string(o, "ok"), "x");
}

TEST(duplicates_and_escaped_nul_refused) {
        static const struct {
                const char *text;
                int expect;
        } cases[] = {
                { "{\"a\":1,\"b\":2}",                                0 },
                { "{\"a\":1,\"a\":2}",                                -ENOTUNIQ },
                { "{\"sub\":\"alice\",\"x\":{},\"sub\":\"bob\"}",     -ENOTUNIQ },
                { "{\"sub\":\"alice\",\"\\u0073ub\":\"bob\"}",        -ENOTUNIQ },    /* escaped spelling */
                { "{\"x\":{\"k\":1,\"k\":2}}",                        -ENOTUNIQ },    /* nested */
                { "[{\"k\":1},{\"k\":2}]",                            0 },            /* different objects */
                { "{\"a\":[{\"b\":1,\"c\":{\"b\":2}}],\"b\":3}",      0 },
                { "{\"a\":[1,{\"z\":1,\"z\":1}]}",                    -ENOTUNIQ },
                { "{\"\\ud83d\\ude00\":1,\"\xf0\x9f\x98\x80\":2}",    -ENOTUNIQ },    /* surrogate pair = UTF-8 */
                { "{\"a\\\"b\":1,\"a\\\"c\":2}",                      0 },
                { "{\"a\":1,\"A\":2}",                                0 },
                { "{\"a\" : 1 , \"a\" : 1 }",                          -ENOTUNIQ },
                { "{\"a\":1,}",                                       -EBADMSG },
                { "{\"sub\":\"alice\\u0000x\"}",                       -EILSEQ },      /* escaped NUL */
                { "{\"a\\u0000\":1}",                                  -EILSEQ },
                { "[\"\\u0000\"]",                                      -EILSEQ },
                { "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",   -E2BIG },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                json_object *o = NULL;
                int r = json_parse_strict(cases[i].text, strlen(cases[i].text), &o);

                if (r != cases[i].expect)
                        fprintf(stderr, "  case %zu: got %d, want %d\n", i, r, cases[i].expect);
                CHECK_INTEQ(r, cases[i].expect);
                CHECK((r >= 0) == (o != NULL));
                json_object_put(o);
        }
}

/* Discovery and userinfo go through the same parser: a second "issuer" or "sub" is no silent override. */
TEST(duplicate_reply_members_refused) {
        json_object *o = NULL;

        CHECK_INTEQ(parse("{\"issuer\":\"https://idp\",\"token_endpoint\":\"https://idp/t\",\"issuer\":\"https://evil\"}", &o), -ENOTUNIQ);
        CHECK_INTEQ(parse("{\"sub\":\"alice\",\"email\":\"a@x\",\"sub\":\"bob\"}", &o), -ENOTUNIQ);
        CHECK(o == NULL);
}

TEST(refuses_deep_nesting) {
        char deep[200];
        json_object *o = NULL;

        memset(deep, '[', 100);
        memset(deep + 100, ']', 100);
        CHECK(json_parse_strict(deep, sizeof deep, &o) < 0);
        CHECK(o == NULL);
}

TEST(refuses_negative_and_huge_numbers) {
        _cleanup_json_ json_object *o = NULL;
        uint64_t x = 0;

        CHECK_INTEQ(parse("{\"a\":-1,\"b\":\"-1\",\"c\":\"99999999999999\",\"d\":1.5,\"e\":\"\"}", &o), 0);
        CHECK_INTEQ(json_get_uint64(o, "a", &x), -EINVAL);
        CHECK_INTEQ(json_get_uint64(o, "b", &x), -EINVAL);
        CHECK_INTEQ(json_get_uint64(o, "c", &x), -EINVAL);
        CHECK_INTEQ(json_get_uint64(o, "d", &x), -EINVAL);
        CHECK_INTEQ(json_get_uint64(o, "e", &x), -EINVAL);
}

int main(void) {
        return run_tests();
}
