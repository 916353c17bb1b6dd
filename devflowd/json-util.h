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

/* Parse exactly LEN bytes as one JSON value (strict mode, valid UTF-8, nesting at most max_depth, no
 * trailing garbage, no NUL inside). -EBADMSG on malformed input, -E2BIG when too deep. */
int json_parse_bounded(const char *text, size_t len, int max_depth, json_object **ret);

/* Member KEY of object O as a string; NULL when absent, not a string, or holding a NUL. */
const char *json_get_string(json_object *o, const char *key);

/* Member KEY as a non-negative integer, accepting a JSON number or a decimal string ("900"), as some
 * IdPs send. -ENOENT when absent, -EINVAL when of another type or out of range. */
int json_get_uint64(json_object *o, const char *key, uint64_t *ret);
