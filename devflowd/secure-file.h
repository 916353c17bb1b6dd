/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <sys/stat.h>

/* The files that decide who logs in, and the rules they must follow (devflowd.conf(5), FILES):
 *
 *   trusted (config, drop-ins, their directory, ca_file, client_cert_file): owned by root (or by the
 *           daemon's own euid, for tests run unprivileged), not writable by group or others;
 *   secret  (client_secret_file, client_key_file, map_file, and a config file with an inline
 *           client_secret): trusted, not a symlink, no permission at all for group or others, and in
 *           a directory chain that no one else can use to replace it: the file's own directory is
 *           trusted (a sticky 1777 directory is not), every directory above is trusted or sticky.
 *
 * *ret_why says what is wrong, with the chmod/chown to run or what to do, in words an admin can act on
 * (the caller puts the path in front). */

typedef enum SecureFileKind {
        SECURE_FILE_TRUSTED,
        SECURE_FILE_SECRET,
        SECURE_FILE_DIRECTORY,          /* a trusted directory (drop-ins) */
} SecureFileKind;

/* The ownership and mode rules for PATH's already-taken stat (no directory chain). */
int check_secure_stat(const struct stat *st, const char *path, SecureFileKind kind, char **ret_why);

/* The directory chain rule for a secret file at PATH. */
int check_secure_parents(const char *path, char **ret_why);

/* Opens PATH and checks it: the whole rule for KIND. */
int check_file_kind(const char *path, SecureFileKind kind, char **ret_why);

/* check_file_kind(path, SECURE_FILE_SECRET, ret_why). */
int check_secure_file(const char *path, char **ret_why);

/* The secret checks on the opened file, then its content (at most max_size bytes, no NUL). The caller
 * wipes the content with erase_and_free(). */
int read_secure_file(const char *path, size_t max_size, char **ret_content, char **ret_why);
