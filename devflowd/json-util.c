/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "json-util.h"

static int parse_bounded(const char *text, size_t len, int max_depth, json_object **ret) {
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

/* ---- strict: unique member names, no escaped NUL ------------------------------------------------------------------ */

typedef struct JsonName {
        char *s;
        size_t n;
} JsonName;

static void skip_ws(const char **p, const char *end) {
        while (*p < end && strchr(" \t\r\n", **p) && **p)
                (*p)++;
}

static int hex4(const char *p, const char *end, unsigned *ret) {
        unsigned v = 0;

        if (end - p < 4)
                return -EBADMSG;
        for (int i = 0; i < 4; i++) {
                char c = p[i];

                v <<= 4;
                if (c >= '0' && c <= '9')
                        v |= (unsigned) (c - '0');
                else if (c >= 'a' && c <= 'f')
                        v |= (unsigned) (c - 'a' + 10);
                else if (c >= 'A' && c <= 'F')
                        v |= (unsigned) (c - 'A' + 10);
                else
                        return -EBADMSG;
        }
        *ret = v;
        return 0;
}

static size_t put_utf8(char *out, unsigned cp) {
        if (cp < 0x80) {
                out[0] = (char) cp;
                return 1;
        }
        if (cp < 0x800) {
                out[0] = (char) (0xc0 | (cp >> 6));
                out[1] = (char) (0x80 | (cp & 0x3f));
                return 2;
        }
        if (cp < 0x10000) {
                out[0] = (char) (0xe0 | (cp >> 12));
                out[1] = (char) (0x80 | ((cp >> 6) & 0x3f));
                out[2] = (char) (0x80 | (cp & 0x3f));
                return 3;
        }
        out[0] = (char) (0xf0 | (cp >> 18));
        out[1] = (char) (0x80 | ((cp >> 12) & 0x3f));
        out[2] = (char) (0x80 | ((cp >> 6) & 0x3f));
        out[3] = (char) (0x80 | (cp & 0x3f));
        return 4;
}

/* Read the JSON string at *p (which points at its opening quote); with RET, decoded, so that "sub" and
 * "\u0073ub" compare equal as they do for json-c. */
static int scan_string(const char **p, const char *end, JsonName *ret) {
        const char *q = *p + 1;
        char *out = NULL;
        size_t n = 0;

        if (ret) {
                /* A decoded string is never longer than its encoding. */
                out = malloc((size_t) (end - *p) + 1);
                if (!out)
                        return -ENOMEM;
        }
        for (;;) {
                char c;

                if (q >= end)
                        goto bad;
                c = *q++;
                if (c == '"')
                        break;
                if (c != '\\') {
                        if (out)
                                out[n++] = c;
                        continue;
                }
                if (q >= end)
                        goto bad;
                c = *q++;
                switch (c) {
                case '"': case '\\': case '/':
                        break;
                case 'b': c = '\b'; break;
                case 'f': c = '\f'; break;
                case 'n': c = '\n'; break;
                case 'r': c = '\r'; break;
                case 't': c = '\t'; break;
                case 'u': {
                        unsigned cp, lo;

                        if (hex4(q, end, &cp) < 0)
                                goto bad;
                        q += 4;
                        /* An escaped NUL would let "alice\u0000x" compare equal to "alice" as a C string:
                         * refuse it anywhere in the document. */
                        if (cp == 0) {
                                free(out);
                                return -EILSEQ;
                        }
                        if (cp >= 0xd800 && cp < 0xdc00 && end - q >= 6 && q[0] == '\\' && q[1] == 'u' &&
                            hex4(q + 2, end, &lo) >= 0 && lo >= 0xdc00 && lo < 0xe000) {
                                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                                q += 6;
                        }
                        if (out)
                                n += put_utf8(out + n, cp);
                        continue;
                }
                default:
                        goto bad;
                }
                if (out)
                        out[n++] = c;
        }
        *p = q;
        if (ret)
                *ret = (JsonName) { .s = out, .n = n };
        return 0;
bad:
        free(out);
        return -EBADMSG;
}

static int name_cmp(const void *a, const void *b) {
        const JsonName *x = a, *y = b;

        if (x->n != y->n)
                return x->n < y->n ? -1 : 1;
        return memcmp(x->s, y->s, x->n);
}

static int scan_value(const char **p, const char *end, unsigned depth);

static int scan_object(const char **p, const char *end, unsigned depth) {
        JsonName *names = NULL;
        size_t n = 0, allocated = 0;
        int r = 0;

        (*p)++; /* '{' */
        skip_ws(p, end);
        if (*p < end && **p == '}') {
                (*p)++;
                return 0;
        }
        for (;;) {
                skip_ws(p, end);
                if (*p >= end || **p != '"') {
                        r = -EBADMSG;
                        break;
                }
                if (n >= allocated) {
                        size_t k = allocated ? allocated * 2 : 16;
                        JsonName *t = realloc(names, k * sizeof(JsonName));

                        if (!t) {
                                r = -ENOMEM;
                                break;
                        }
                        names = t;
                        allocated = k;
                }
                r = scan_string(p, end, &names[n]);
                if (r < 0)
                        break;
                n++;
                skip_ws(p, end);
                if (*p >= end || **p != ':') {
                        r = -EBADMSG;
                        break;
                }
                (*p)++;
                r = scan_value(p, end, depth + 1);
                if (r < 0)
                        break;
                skip_ws(p, end);
                if (*p < end && **p == ',') {
                        (*p)++;
                        continue;
                }
                if (*p < end && **p == '}') {
                        (*p)++;
                        break;
                }
                r = -EBADMSG;
                break;
        }
        if (r >= 0 && n > 1) {
                qsort(names, n, sizeof(JsonName), name_cmp);
                for (size_t i = 1; i < n; i++)
                        if (name_cmp(&names[i - 1], &names[i]) == 0) {
                                r = -ENOTUNIQ;
                                break;
                        }
        }
        for (size_t i = 0; i < n; i++)
                free(names[i].s);
        free(names);
        return r;
}

static int scan_value(const char **p, const char *end, unsigned depth) {
        int r;

        if (depth > JSON_MAX_DEPTH + 1)
                return -E2BIG;
        skip_ws(p, end);
        if (*p >= end)
                return -EBADMSG;
        switch (**p) {
        case '{':
                return scan_object(p, end, depth);
        case '[':
                (*p)++;
                skip_ws(p, end);
                if (*p < end && **p == ']') {
                        (*p)++;
                        return 0;
                }
                for (;;) {
                        r = scan_value(p, end, depth + 1);
                        if (r < 0)
                                return r;
                        skip_ws(p, end);
                        if (*p < end && **p == ',') {
                                (*p)++;
                                continue;
                        }
                        if (*p < end && **p == ']') {
                                (*p)++;
                                return 0;
                        }
                        return -EBADMSG;
                }
        case '"':
                return scan_string(p, end, NULL);
        default:
                /* A number or a literal: json-c has validated it already. */
                while (*p < end && !strchr(",]} \t\r\n", **p))
                        (*p)++;
                return 0;
        }
}

int json_parse_strict(const char *text, size_t len, json_object **ret) {
        _cleanup_json_ json_object *o = NULL;
        const char *p = text;
        int r;

        r = parse_bounded(text, len, JSON_MAX_DEPTH, &o);
        if (r < 0)
                return r;
        r = scan_value(&p, text + len, 0);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(o);
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
