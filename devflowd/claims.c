/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "claims.h"
#include "json-util.h"
#include "macro.h"
#include "reason.h"
#include "text-safety.h"
#include "user-util.h"

#define QUOTE_MAX 48U           /* bytes of a claim value shown in a message */
#define CLAIM_PATH_MAX 256U

void verdict_done(Verdict *v) {
        if (!v)
                return;
        free(v->local_user);
        free(v->user_message);
        free(v->log_message);
        free(v->explanation);
        *v = (Verdict) {};
}

/* A claim value for a message: control characters removed, and, because this text is shown to a person
 * deciding whether something is right, non-ASCII bytes too (bidi overrides and look-alikes would mislead),
 * cut at QUOTE_MAX bytes. */
static char *quote(const char *s) {
        return text_quote(s, QUOTE_MAX, /* ascii_only= */ true);
}

/* Takes ownership of both messages; -ENOMEM when either is missing. */
static int refuse(Verdict *ret, int error, char *user_message, char *log_message) {
        if (!user_message || !log_message) {
                free(user_message);
                free(log_message);
                return -ENOMEM;
        }
        *ret = (Verdict) {
                .allowed = false,
                .error = error,
                .user_message = user_message,
                .log_message = log_message,
        };
        return 0;
}

static bool strv_isempty(char *const *l) {
        return !l || !l[0];
}

static bool strv_contains(char *const *l, const char *s) {
        for (char *const *i = l; i && *i; i++)
                if (streq(*i, s))
                        return true;
        return false;
}

static const char *json_type_name(json_object *v) {
        return v ? json_type_to_name(json_object_get_type(v)) : "null";
}

/* "email", or a namespaced claim whose last component is "email" ("https://example.com/email"). */
static bool is_email_claim(const char *name) {
        const char *last = name;

        for (const char *p = name; *p; p++)
                if (*p == '/' || *p == ':' || *p == '.')
                        last = p + 1;
        return strcasecmp(last, "email") == 0;
}

/* The verification that belongs to the email claim NAME: the claim NAME + "_verified" ("email_verified"
 * for "email", "https://example.com/email_verified" for "https://example.com/email"). OIDC Core 5.1:
 * email_verified speaks about the standard email claim only, so it vouches for no other. */
static bool email_verified(json_object *claims, const char *name) {
        _cleanup_free_ char *flag = NULL;
        json_object *v;

        if (asprintf(&flag, "%s_verified", name) < 0)
                return false;           /* fail closed: not verified */
        /* The JSON boolean true only: "true" as a string is not a verification. */
        return json_object_object_get_ex(claims, flag, &v) &&
                json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

static char *const default_username_claims[] = { (char *) "preferred_username", NULL };

static char *const *username_claims(const Config *c) {
        return strv_isempty(c->username_claim) ? default_username_claims : c->username_claim;
}

/* The first username claim that counts. *ret_skipped_email names an unverified email that did not. */
static const char *find_username_claim(const Config *c, json_object *claims, json_object **ret_value,
                                       const char **ret_skipped_email) {
        const char *skipped = NULL;

        for (char *const *n = username_claims(c); *n; n++) {
                json_object *v = NULL;

                if (!json_object_object_get_ex(claims, *n, &v))
                        continue;
                if (is_email_claim(*n) && !email_verified(claims, *n)) {
                        if (!skipped)
                                skipped = *n;
                        continue;
                }
                *ret_value = v;
                if (ret_skipped_email)
                        *ret_skipped_email = skipped;
                return *n;
        }
        if (ret_skipped_email)
                *ret_skipped_email = skipped;
        return NULL;
}

static json_object *get_path_impl(json_object *o, const char *path, size_t len) {
        _cleanup_free_ char *key = NULL;
        json_object *v;

        if (!json_object_is_type(o, json_type_object) || len == 0)
                return NULL;

        key = strndup(path, len);
        if (!key)
                return NULL;
        if (json_object_object_get_ex(o, key, &v))
                return v;

        /* Split at a dot, longest first key first. */
        for (size_t i = len; i > 0; i--) {
                json_object *child, *found;

                if (path[i - 1] != '.')
                        continue;
                key[i - 1] = 0;
                if (i - 1 > 0 && json_object_object_get_ex(o, key, &child)) {
                        found = get_path_impl(child, path + i, len - i);
                        if (found)
                                return found;
                }
        }
        return NULL;
}

json_object *claims_get_path(json_object *claims, const char *path) {
        if (!claims || !path)
                return NULL;
        size_t len = strlen(path);
        if (len == 0 || len > CLAIM_PATH_MAX)
                return NULL;
        return get_path_impl(claims, path, len);
}

static const char *groups_claim_name(const Config *c) {
        return c->groups_claim && c->groups_claim[0] ? c->groups_claim : "groups";
}

/* 1: a listed group is present; 0: none; -EINVAL: the claim has an unusable type. */
static int groups_match(json_object *v, char *const *required) {
        if (json_object_is_type(v, json_type_string)) {
                const char *s = json_object_get_string(v);

                if (strlen(s) != (size_t) json_object_get_string_len(v))
                        return 0;
                return strv_contains(required, s);
        }
        if (!json_object_is_type(v, json_type_array))
                return -EINVAL;

        for (size_t i = 0, n = json_object_array_length(v); i < n; i++) {
                json_object *e = json_object_array_get_idx(v, i);
                const char *s;

                if (!json_object_is_type(e, json_type_string))
                        continue;       /* a number or object never equals a listed name */
                s = json_object_get_string(e);
                if (strlen(s) != (size_t) json_object_get_string_len(e))
                        continue;
                if (strv_contains(required, s))
                        return 1;
        }
        return 0;
}

static bool amr_contains(json_object *amr, const char *method) {
        for (size_t i = 0, n = json_object_array_length(amr); i < n; i++) {
                json_object *e = json_object_array_get_idx(amr, i);

                if (json_object_is_type(e, json_type_string) && streq(json_object_get_string(e), method) &&
                    strlen(method) == (size_t) json_object_get_string_len(e))
                        return true;
        }
        return false;
}

static void ascii_lowercase(char *s) {
        for (; *s; s++)
                if (*s >= 'A' && *s <= 'Z')
                        *s = (char) (*s - 'A' + 'a');
}

static uint64_t add_sat(uint64_t a, uint64_t b) {
        return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* Appends "; LABEL 'VALUE' (RULE)" to *buf, VALUE quoted. */
static int append(char **buf, const char *label, const char *value, const char *rule) {
        _cleanup_free_ char *q = quote(value);
        char *n;

        if (!q || asprintf(&n, "%s; %s '%s' (%s)", strempty(*buf), label, q, rule) < 0)
                return -ENOMEM;
        free(*buf);
        *buf = n;
        return 0;
}

/* What decided an allowed login: the username claim and its value, and which required groups, acr and
 * amr values the claims had. Only called once every rule matched. */
static int explain(const Config *c, json_object *claims, const char *claim_name, const char *q_value, char **ret) {
        _cleanup_free_ char *buf = NULL;
        int r;

        if (asprintf(&buf, "claim '%s' = '%s'", claim_name, q_value) < 0)
                return -ENOMEM;
        if (!strv_isempty(c->require_groups)) {
                json_object *g = claims_get_path(claims, groups_claim_name(c));

                for (char *const *req = c->require_groups; *req; req++) {
                        char *const one[] = { *req, NULL };

                        if (g && groups_match(g, one) > 0) {
                                r = append(&buf, groups_claim_name(c), *req, "require_groups");
                                if (r < 0)
                                        return r;
                        }
                }
        }
        if (!strv_isempty(c->require_acr)) {
                r = append(&buf, "acr", strna(json_get_string(claims, "acr")), "require_acr");
                if (r < 0)
                        return r;
        }
        if (!strv_isempty(c->require_amr)) {
                for (char *const *m = c->require_amr; *m; m++) {
                        r = append(&buf, "amr", *m, "require_amr");
                        if (r < 0)
                                return r;
                }
        }
        *ret = TAKE_PTR(buf);
        return 0;
}

int claims_decide(const Config *c, const UserMap *map, json_object *claims, const char *pam_user,
                  uint64_t now_usec, UserLookupFn lookup, void *userdata, Verdict *ret) {
        _cleanup_free_ char *q_sub = NULL, *q_value = NULL, *q_pam = NULL, *local = NULL;
        const char *claim_name, *skipped_email = NULL, *value;
        json_object *v = NULL;
        size_t vlen;
        uid_t uid;
        int r;

        if (!c || !claims || !pam_user || !lookup || !ret)
                return -EINVAL;

        q_pam = quote(pam_user);
        if (!q_pam)
                return -ENOMEM;
        if (!json_object_is_type(claims, json_type_object))
                return refuse(ret, -EPERM, reason_format("The identity provider sent unusable claims."),
                              reason_format("refused user '%s': claims are not a JSON object", q_pam));
        q_sub = quote(strna(json_get_string(claims, "sub")));
        if (!q_sub)
                return -ENOMEM;

        /* 1. The username claim: first present one wins; never a conversion. */
        claim_name = find_username_claim(c, claims, &v, &skipped_email);
        if (!claim_name) {
                if (skipped_email)
                        return refuse(ret, -EPERM,
                                      reason_format("Your email address is not verified at the identity provider."),
                                      reason_format("refused user '%s' (sub '%s'): claim '%s' present but "
                                                    "'%s_verified' is not true, and no other username claim",
                                                    q_pam, q_sub, skipped_email, skipped_email));
                return refuse(ret, -EPERM,
                              reason_format("The identity provider did not send a user name."),
                              reason_format("refused user '%s' (sub '%s'): none of the username claims is present",
                                            q_pam, q_sub));
        }
        if (!json_object_is_type(v, json_type_string))
                return refuse(ret, -EPERM,
                              reason_format("The identity provider sent an unusable user name."),
                              reason_format("refused user '%s' (sub '%s'): claim '%s' is a JSON %s, not a string",
                                            q_pam, q_sub, claim_name, json_type_name(v)));
        value = json_object_get_string(v);
        vlen = (size_t) json_object_get_string_len(v);
        q_value = quote(value);
        if (!q_value)
                return -ENOMEM;
        if (strlen(value) != vlen)
                return refuse(ret, -EPERM,
                              reason_format("The identity provider sent an unusable user name."),
                              reason_format("refused user '%s' (sub '%s'): claim '%s' ('%s...') contains a NUL byte",
                                            q_pam, q_sub, claim_name, q_value));

        /* 2. Map file, or domain stripping and the one normalisation. */
        if (map) {
                const char *m = usermap_lookup(map, value);

                if (!m)
                        return refuse(ret, -EPERM,
                                      reason_format("Your identity is not mapped to a local account on this host."),
                                      reason_format("refused user '%s' (sub '%s'): claim '%s' value '%s' is not in the map file",
                                                    q_pam, q_sub, claim_name, q_value));
                local = strdup(m);
                if (!local)
                        return -ENOMEM;
        } else {
                char *at;

                local = strndup(value, vlen);
                if (!local)
                        return -ENOMEM;
                at = strrchr(local, '@');
                if (at && !strv_isempty(c->strip_domains)) {
                        bool listed = false;

                        /* Domains compare ASCII case-insensitively (DNS names do). */
                        for (char *const *d = c->strip_domains; *d; d++)
                                if (strcasecmp(*d, at + 1) == 0) {
                                        listed = true;
                                        break;
                                }
                        if (!listed)
                                return refuse(ret, -EPERM,
                                              reason_format("Your account's domain is not allowed on this host."),
                                              reason_format("refused user '%s' (sub '%s'): claim '%s' value '%s' has a "
                                                            "domain not in strip_domains", q_pam, q_sub, claim_name,
                                                            q_value));
                        *at = 0;
                }
                if (c->lowercase)
                        ascii_lowercase(local);
        }

        /* 3. A safe local name. */
        if (!user_name_is_safe(local, strlen(local)))
                return refuse(ret, -EPERM,
                              reason_format("Your user name is not a valid local account name."),
                              reason_format("refused user '%s' (sub '%s'): claim '%s' value '%s' does not give a safe "
                                            "local user name", q_pam, q_sub, claim_name, q_value));

        /* 4. Whole-string equality with the PAM user (no prefix match: SSSD CVE-2026-87853). */
        if (!streq(local, pam_user))
                return refuse(ret, -EXDEV,
                              reason_format("You signed in as '%s', which is not the account '%s'.", local, q_pam),
                              reason_format("refused user '%s' (sub '%s'): claim '%s' maps to local user '%s'",
                                            q_pam, q_sub, claim_name, local));

        /* 5. Access rules on the authentication itself, then group membership. */
        if (!strv_isempty(c->require_acr)) {
                const char *acr = json_get_string(claims, "acr");

                if (!acr || !strv_contains(c->require_acr, acr)) {
                        _cleanup_free_ char *q_acr = quote(strna(acr));

                        if (!q_acr)
                                return -ENOMEM;
                        return refuse(ret, -EPERM,
                                      reason_format("Your sign-in did not use the authentication level this host requires."),
                                      reason_format("refused user '%s' (sub '%s'): acr '%s' is not one of require_acr",
                                                    q_pam, q_sub, q_acr));
                }
        }

        if (!strv_isempty(c->require_amr)) {
                json_object *amr = NULL;

                if (!json_object_object_get_ex(claims, "amr", &amr) || !json_object_is_type(amr, json_type_array))
                        return refuse(ret, -EPERM,
                                      reason_format("Your sign-in did not use the authentication methods this host requires."),
                                      reason_format("refused user '%s' (sub '%s'): amr is %s, not an array",
                                                    q_pam, q_sub, amr ? json_type_name(amr) : "absent"));
                for (char *const *m = c->require_amr; *m; m++)
                        if (!amr_contains(amr, *m))
                                return refuse(ret, -EPERM,
                                              reason_format("Your sign-in did not use the authentication methods this host requires."),
                                              reason_format("refused user '%s' (sub '%s'): amr lacks '%s' (require_amr)",
                                                            q_pam, q_sub, *m));
        }

        if (c->max_age_usec != USEC_INFINITY) {
                uint64_t auth_time, auth_usec;

                r = json_get_uint64(claims, "auth_time", &auth_time);
                if (r < 0)
                        return refuse(ret, -EPERM,
                                      reason_format("The identity provider did not say when you signed in."),
                                      reason_format("refused user '%s' (sub '%s'): auth_time %s with max_age set",
                                                    q_pam, q_sub, r == -ENOENT ? "absent" : "invalid"));
                if (auth_time > UINT64_MAX / USEC_PER_SEC ||
                    (auth_usec = auth_time * USEC_PER_SEC) > add_sat(now_usec, c->clock_skew_usec))
                        return refuse(ret, -EPERM,
                                      reason_format("The identity provider reported a sign-in time in the future."),
                                      reason_format("refused user '%s' (sub '%s'): auth_time %" PRIu64 " is in the future",
                                                    q_pam, q_sub, auth_time));
                if (now_usec > auth_usec &&
                    now_usec - auth_usec > add_sat(c->max_age_usec, c->clock_skew_usec))
                        return refuse(ret, -EPERM,
                                      reason_format("Your sign-in at the identity provider is too old; sign in again."),
                                      reason_format("refused user '%s' (sub '%s'): auth_time %" PRIu64 " is %" PRIu64
                                                    " s old, more than max_age", q_pam, q_sub, auth_time,
                                                    (now_usec - auth_usec) / USEC_PER_SEC));
        }

        if (!strv_isempty(c->require_groups)) {
                const char *gname = groups_claim_name(c);
                json_object *g = claims_get_path(claims, gname);

                r = g ? groups_match(g, c->require_groups) : 0;
                if (r <= 0)
                        return refuse(ret, -EPERM,
                                      reason_format("You are not in a group allowed to log in on this host."),
                                      reason_format("refused user '%s' (sub '%s'): %s '%s' %s", q_pam, q_sub,
                                                    "groups claim", gname,
                                                    !g ? "is absent" :
                                                    r < 0 ? "is neither a string nor an array" :
                                                    "contains none of require_groups"));
        }

        /* 6. The account exists, 7. and is not root unless allowed. */
        r = lookup(local, &uid, userdata);
        if (r == -ENOENT)
                return refuse(ret, -ENOENT,
                              reason_format("There is no local account '%s' on this host.", local),
                              reason_format("refused user '%s' (sub '%s'): no local account '%s'", q_pam, q_sub, local));
        if (r < 0)
                return refuse(ret, r,
                              reason_format("The local account could not be looked up."),
                              reason_format("refused user '%s' (sub '%s'): looking up local account '%s' failed: %s",
                                            q_pam, q_sub, local, strerror(-r)));
        if (uid == 0 && !c->allow_root)
                return refuse(ret, -EACCES,
                              reason_format("Logging in as root with the identity provider is not allowed."),
                              reason_format("refused user '%s' (sub '%s'): local user '%s' has uid 0 and allow_root=no",
                                            q_pam, q_sub, local));

        {
                _cleanup_free_ char *explanation = NULL;
                char *log_message;

                r = explain(c, claims, claim_name, q_value, &explanation);
                if (r < 0)
                        return r;
                log_message = reason_format("allowed: sub '%s' claim '%s' -> local user '%s' (uid %u)",
                                            q_sub, claim_name, local, (unsigned) uid);
                if (!log_message)
                        return -ENOMEM;
                *ret = (Verdict) {
                        .allowed = true,
                        .error = 0,
                        .local_user = TAKE_PTR(local),
                        .log_message = log_message,
                        .explanation = TAKE_PTR(explanation),
                };
        }
        return 0;
}

bool claims_need_userinfo(const Config *c, json_object *id_token_claims) {
        json_object *v;

        if (!c || !json_object_is_type(id_token_claims, json_type_object))
                return false;
        if (!find_username_claim(c, id_token_claims, &v, NULL))
                return true;
        if (!strv_isempty(c->require_groups) && !claims_get_path(id_token_claims, groups_claim_name(c)))
                return true;
        return false;
}

int claims_merge_userinfo(json_object *id_claims, json_object *userinfo, char **ret_reason) {
        const char *id_sub, *ui_sub;

        if (!json_object_is_type(id_claims, json_type_object) || !json_object_is_type(userinfo, json_type_object))
                return reason_set(ret_reason, -EINVAL, "userinfo reply is not a JSON object");

        /* OIDC Core 5.3.2: the userinfo sub MUST equal the ID token's, else the reply is not used. */
        id_sub = json_get_string(id_claims, "sub");
        ui_sub = json_get_string(userinfo, "sub");
        if (!id_sub || !ui_sub || !streq(id_sub, ui_sub))
                return reason_set(ret_reason, -EPERM,
                                  !ui_sub ? "userinfo has no sub" :
                                            "userinfo sub differs from the ID token's sub");

        json_object_object_foreach(userinfo, key, val) {
                if (json_object_object_get_ex(id_claims, key, NULL))
                        continue;       /* the signed ID token wins */
                if (json_object_object_add(id_claims, key, json_object_get(val)) < 0) {
                        json_object_put(val);
                        return -ENOMEM;
                }
        }
        return 0;
}
