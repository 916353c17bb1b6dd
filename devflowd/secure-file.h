/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/* Files that hold secrets (client secret, private keys) or decide who may log in (map_file): a regular
 * file, not a symlink, owned by root (or by the daemon's own euid, for tests run unprivileged), with no
 * permission for group or others. *ret_why says what is wrong in words an admin can act on. */

int check_secure_file(const char *path, char **ret_why);

/* Same checks on the opened file, then its content (at most max_size bytes, no NUL). The caller
 * wipes the content with erase_and_free(). */
int read_secure_file(const char *path, size_t max_size, char **ret_content, char **ret_why);
