/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>

#include "json-util.h"
#include "test.h"

static int parse(const char *s, json_object **ret) {
        return json_parse_bounded(s, strlen(s), JSON_MAX_DEPTH, ret);
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
        CHECK_INTEQ(json_parse_bounded("{\"a\":1}\0", 8, JSON_MAX_DEPTH, &o), -EBADMSG);
        CHECK(o == NULL);
}

TEST(refuses_invalid_utf8_and_embedded_nul) {
        _cleanup_json_ json_object *o = NULL;
        json_object *bad = NULL;

        CHECK_INTEQ(parse("{\"a\":\"\xff\xfe\"}", &bad), -EBADMSG);
        CHECK_INTEQ(parse("{\"a\":\"\xc2\x9b[31m\"}", &bad), 0);     /* valid UTF-8 (C1): parsed, sanitized later */
        json_object_put(bad);
        CHECK_INTEQ(parse("{\"code\":\"WDJB\\u0000MJHT\",\"ok\":\"x\"}", &o), 0);
        CHECK(json_get_string(o, "code") == NULL);
        CHECK_STREQ(json_get_string(o, "ok"), "x");
}

TEST(refuses_deep_nesting) {
        char deep[200];
        json_object *o = NULL;

        memset(deep, '[', 100);
        memset(deep + 100, ']', 100);
        CHECK(json_parse_bounded(deep, sizeof deep, JSON_MAX_DEPTH, &o) < 0);
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
