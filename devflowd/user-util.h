/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Names of local accounts: what a name may look like, and NSS lookups (the daemon reads NSS only to check
 * that an account exists and who a local caller is, DESIGN §4). */

#define USER_NAME_SAFE_MAX 32U          /* a name a mapping may produce */
#define USER_NAME_REQUEST_MAX 256U      /* a name a caller may ask a login for */

/* A name an IdP's claims (or the map file) may map to: 1..32 bytes of ASCII letters, digits, '.', '_', '-',
 * '@', not starting with '-', and not "." or "..". LEN is the real length (an embedded NUL makes it
 * unsafe). */
bool user_name_is_safe(const char *s, size_t len);

/* A name a bus caller may start a login for (the PAM user, whatever NSS calls it): 1..256 bytes of
 * printable ASCII without space, '/' or ':', not starting with '-'. Looser than user_name_is_safe on
 * purpose: a PAM user no mapping can produce is refused by the mapping, with a reason, not at the door. */
bool user_name_is_requestable(const char *s);

/* Look NAME up: 0 and *ret_uid when it exists, -ENOENT when it does not, other -errno on failure
 * (a failure is a refusal too, with that error). */
typedef int (*UserLookupFn)(const char *name, uid_t *ret_uid, void *userdata);

/* The real lookup: getpwnam_r (NSS), a UserLookupFn. userdata is ignored. */
int user_lookup_nss(const char *name, uid_t *ret_uid, void *userdata);

/* The name of account UID (getpwuid_r): 0 and a new string, -ENOENT when there is none, other -errno on
 * failure. */
int user_name_of_uid(uid_t uid, char **ret_name);
