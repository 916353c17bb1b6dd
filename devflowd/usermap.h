/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

#include "macro.h"

/* The map file ([login] map_file): from a claim value to a local user. When a map file is set,
 * only mapped identities may log in (claims.h).
 *
 * Format, one mapping a line:
 *     # comment
 *     claim-value   local-user     # trailing comment after white space
 * Fields are separated by spaces or tabs; blank lines and lines starting with '#' (after optional
 * white space) are ignored; a claim value therefore cannot contain white space or start with '#'.
 * The claim value is matched byte for byte (no case folding); it may be any bytes but control
 * characters and white space, at most USERMAP_MAX_VALUE bytes. The local user must be a safe name
 * (user_name_is_safe()). A claim value listed twice is an error, even with the same user.
 * Errors name file and line: "FILE:LINE: message". */

#define USERMAP_MAX_SIZE (4U * 1024U * 1024U)
#define USERMAP_MAX_LINE 4096U
#define USERMAP_MAX_VALUE 1024U

typedef struct UserMap UserMap;

/* Read PATH with the same ownership and mode rules as secrets (read_secure_file) and parse it.
 * -EINVAL on a syntax error, other -errno on I/O or permission failure; on any failure
 * *ret_error (when not NULL) gets a message naming the file (and line). */
int usermap_load(const char *path, UserMap **ret, char **ret_error);

/* Parse LEN bytes of TEXT; FILENAME only names the file in error messages. -EINVAL with
 * *ret_error set on a syntax error, -ENOMEM. No I/O. An empty map is valid (nobody may log in). */
int usermap_parse(const char *text, size_t len, const char *filename, UserMap **ret, char **ret_error);

/* The local user for CLAIM_VALUE, or NULL when unmapped. */
const char *usermap_lookup(const UserMap *m, const char *claim_value);

size_t usermap_size(const UserMap *m);

UserMap *usermap_free(UserMap *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(UserMap *, usermap_free);
