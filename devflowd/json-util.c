/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <string.h>

#include "json-util.h"

int json_parse_bounded(const char *text, size_t len, int max_depth, json_object **ret) {
        struct json_tokener *tok;
        json_object *o;
        enum json_tokener_error jerr;
        size_t off;

        if (!text || len == 0 || len > INT32_MAX)
                return -EBADMSG;
        if (memchr(text, 0, len))
                return -EBADMSG;

        tok = json_tokener_new_ex(max_depth);
        if (!tok)
                return -ENOMEM;
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
        o = json_tokener_parse_ex(tok, text, (int) len);
        jerr = json_tokener_get_error(tok);
        off = json_tokener_get_parse_end(tok);
        json_tokener_free(tok);

        if (jerr == json_tokener_error_depth) {
                json_object_put(o);
                return -E2BIG;
        }
        if (!o || jerr != json_tokener_success) {
                json_object_put(o);
                return -EBADMSG;
        }
        /* Only whitespace may follow the value. */
        for (; off < len; off++)
                if (!strchr(" \t\r\n", text[off])) {
                        json_object_put(o);
                        return -EBADMSG;
                }
        *ret = o;
        return 0;
}

const char *json_get_string(json_object *o, const char *key) {
        json_object *v;

        if (!o || !json_object_is_type(o, json_type_object))
                return NULL;
        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        /* json-c keeps "\u0000" inside strings: such a value would be silently cut short as a C string. */
        if ((size_t) json_object_get_string_len(v) != strlen(json_object_get_string(v)))
                return NULL;
        return json_object_get_string(v);
}

int json_get_uint64(json_object *o, const char *key, uint64_t *ret) {
        json_object *v;

        if (!o || !json_object_is_type(o, json_type_object))
                return -EINVAL;
        if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
                return -ENOENT;

        if (json_object_is_type(v, json_type_int)) {
                int64_t i;

                errno = 0;
                i = json_object_get_int64(v);
                if (i < 0 || errno == ERANGE)
                        return -EINVAL;
                *ret = (uint64_t) i;
                return 0;
        }
        if (json_object_is_type(v, json_type_string)) {
                const char *s = json_object_get_string(v);
                uint64_t x = 0;

                if (!*s || strlen(s) > 12)
                        return -EINVAL;
                for (const char *p = s; *p; p++) {
                        if (*p < '0' || *p > '9')
                                return -EINVAL;
                        x = x * 10 + (uint64_t) (*p - '0');
                }
                *ret = x;
                return 0;
        }
        return -EINVAL;
}
