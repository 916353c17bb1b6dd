/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put);
#define _cleanup_json_ _cleanup_(json_object_putp)

#define JSON_MAX_DEPTH 16

/* What every reply of the IdP, every key set and every token goes through: exactly LEN bytes as one JSON
 * value (json-c's strict mode, valid UTF-8, nesting at most JSON_MAX_DEPTH, no trailing garbage, no NUL
 * byte inside): -EBADMSG on malformed input, -E2BIG when too deep. Then refusing an object with a member name twice (json-c would silently keep the last one): -ENOTUNIQ; and a
 * string holding an escaped NUL (\u0000) anywhere, which would make C string comparisons lie: -EILSEQ. */
int json_parse_strict(const char *text, size_t len, json_object **ret);

/* Member KEY of object O as a string; NULL when absent, not a string, or holding a NUL. */
const char *json_get_string(json_object *o, const char *key);

/* Member KEY as a non-negative integer, accepting a JSON number or a decimal string ("900"), as some
 * IdPs send. -ENOENT when absent, -EINVAL when of another type or out of range. */
int json_get_uint64(json_object *o, const char *key, uint64_t *ret);
