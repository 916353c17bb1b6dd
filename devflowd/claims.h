/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "user-util.h"
#include "usermap.h"

/* From validated ID-token claims (plus config, the PAM user and the time) to a verdict: allowed as
 * local user X, or refused with a short reason for the user and a longer one for the log
 * (issue 6, DESIGN §4). Pure logic: the only outside lookup goes through a UserLookupFn.
 *
 * The order of the checks, and what each one means:
 *
 *  1. username_claim is an ordered list of top-level claim names; the first one PRESENT in the
 *     claims is used, later ones are not consulted. A present claim that is not a JSON string
 *     (null, number, bool, array, object) is a refusal, never a conversion. A string with an
 *     embedded NUL is a refusal. A claim named "email" (or whose last component after '/', ':'
 *     or '.' is "email", e.g. "https://example.com/email") counts only when the top-level
 *     "email_verified" is the JSON boolean true (the string "true" does not count); an
 *     unverified email is treated as absent, so the next listed claim is tried.
 *  2. With a map file (map != NULL) ONLY mapped identities may log in: the claim value is looked
 *     up byte for byte and the mapped local user is used as is (no stripping, no folding).
 *     Without a map file:
 *       - strip_domains: a value "local@domain" whose domain (the part after the LAST '@') is
 *         listed loses "@domain"; the domain comparison is ASCII case-insensitive
 *         ("Example.COM" matches "example.com"), the local part is kept as is. When
 *         strip_domains is set, a value with '@' whose domain is not listed is refused, never
 *         stripped. When strip_domains is empty, '@' is kept (email-style local accounts).
 *       - lowercase = yes folds ASCII A-Z only (no locale, no Unicode folding). That is the one
 *         normalisation; by default the value is used byte for byte.
 *  3. The result must be a safe local name (claims_name_is_safe()).
 *  4. It must equal pam_user as whole strings (length and bytes; no prefix match).
 *  5. Access rules:
 *       - require_acr: the token's "acr" must be a string equal to one of the listed values.
 *       - require_amr: the token's "amr" must be an array of strings that contains ALL of the
 *         listed values (every listed method must have been used; to allow alternatives list
 *         only the common one, e.g. "mfa"). Non-string array members never match.
 *       - max_age (max_age_usec != USEC_INFINITY): "auth_time" (seconds since the epoch) must be
 *         present and now - auth_time <= max_age + clock_skew_usec; an auth_time further than
 *         clock_skew_usec in the future is refused too.
 *       - require_groups: the claim at groups_claim (default "groups") must be a string or an
 *         array of strings that contains at least one listed value, compared exactly (byte
 *         for byte, whole strings: "admins" never matches "admins-readonly" or "Admins").
 *         groups_claim may be a dotted path into nested objects ("realm_access.roles"); a
 *         top-level key that itself contains dots ("https://example.com/groups") is found too:
 *         at each level the longest remaining path is tried as a key first.
 *  6. The account must exist (lookup callback: -ENOENT -> refused with error -ENOENT).
 *  7. uid 0 is refused (error -EACCES) unless allow_root = yes.
 */

typedef struct Verdict {
        bool allowed;
        char *local_user;       /* set only when allowed */
        char *user_message;     /* short, fit to show the user (sanitized); set on refusal, NULL when allowed */
        char *log_message;      /* which rule and which claim (sanitized); always set */
        char *explanation;      /* allowed: the claims that decided it, for an administrator's test-login:
                                 * the username claim and its value, the groups, acr and amr that matched
                                 * (sanitized); NULL when refused (log_message says why) */
        int error;              /* 0 allowed; -EPERM refused by a rule; -EXDEV the identity maps to another
                                 * account than the PAM user; -ENOENT the mapped account does
                                 * not exist (-> PAM_USER_UNKNOWN); -EACCES root refused; any other
                                 * -errno: the account lookup itself failed (NSS down: a refusal, but
                                 * better mapped like "unavailable" than like a denial) */
} Verdict;

void verdict_done(Verdict *v);

/* Returns 0 when a verdict was reached (allowed or refused, see ret->allowed/ret->error), a negative
 * errno (-ENOMEM, -EINVAL for NULL arguments) only for an internal failure, then *ret is untouched.
 * map is NULL when no map_file is configured. now_usec is CLOCK_REALTIME. */
int claims_decide(const Config *c, const UserMap *map, json_object *claims, const char *pam_user,
                  uint64_t now_usec, UserLookupFn lookup, void *userdata, Verdict *ret);

/* True when the daemon should fetch userinfo: no username claim that counts is present in the ID
 * token (an unverified or unconfirmed email does not count), or require_groups is set and the
 * groups claim is absent. */
bool claims_need_userinfo(const Config *c, json_object *id_token_claims);

/* Add the userinfo claims to id_claims (in place). Both must be objects; userinfo "sub" must be a
 * string equal to the ID token's "sub" (OIDC Core 5.3.2), else -EPERM. Claims already in the ID
 * token win (signed beats unsigned). On failure *ret_reason (when not NULL) gets a short reason. */
int claims_merge_userinfo(json_object *id_claims, json_object *userinfo, char **ret_reason);

/* Resolve a dotted claim path (see above). NULL when absent. */
json_object *claims_get_path(json_object *claims, const char *path);
