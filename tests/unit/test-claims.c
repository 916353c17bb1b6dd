/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>

#include "claims.h"
#include "json-util.h"
#include "macro.h"
#include "test.h"

/* Fixtures go through json-c as it is, not the strict parser every IdP reply meets: so the claims code's own
 * defence against a "\u0000" inside a value stays tested. */
static int parse_fixture(const char *text, size_t len, json_object **ret) {
        json_object *o = json_tokener_parse(text);

        if (!o || strlen(text) != len)
                return json_object_put(o), -EBADMSG;
        *ret = o;
        return 0;
}
#include "usermap.h"

#define NOW_SEC 1700000000ULL
#define NOW (NOW_SEC * USEC_PER_SEC)
#define NAME32 "abcdefghijklmnopqrstuvwxyz012345"

/* The fake NSS: a few users, so the tests never depend on /etc/passwd. */
static const struct {
        const char *name;
        uid_t uid;
} fake_users[] = {
        { "alice", 1000 }, { "alice2", 1001 }, { "bob", 1002 }, { "root", 0 }, { "toor", 0 },
        { "alice@example.com", 1003 }, { "ALICE", 1004 }, { NAME32, 1005 }, { "a.b_c-d", 1006 },
};

static int fake_lookup(const char *name, uid_t *ret_uid, void *userdata) {
        unsigned *calls = userdata;

        if (calls)
                (*calls)++;
        if (streq(name, "nssdown"))
                return -EIO;
        for (size_t i = 0; i < ELEMENTSOF(fake_users); i++)
                if (streq(fake_users[i].name, name)) {
                        *ret_uid = fake_users[i].uid;
                        return 0;
                }
        return -ENOENT;
}

typedef struct Case {
        const char *name;
        const char *claims;             /* JSON */
        const char *pam_user;
        /* config */
        char **username_claim;
        char **strip_domains;
        bool lowercase, allow_root;
        char **require_groups;
        const char *groups_claim;
        char **require_acr, **require_amr;
        uint64_t max_age_sec;           /* 0: unset */
        const char *map;                /* map file text, or NULL */
        /* expected */
        bool allowed;
        const char *local_user;
        int error;
} Case;

static char *UC_EMAIL[] = { "email", NULL };
static char *UC_PU_EMAIL[] = { "preferred_username", "email", NULL };
static char *UC_EMAIL_PU[] = { "email", "preferred_username", NULL };
static char *UC_NS_EMAIL[] = { "https://example.com/email", NULL };
static char *UC_SUB[] = { "sub", NULL };
static char *UC_UPN[] = { "upn", NULL };
static char *SD_EXAMPLE[] = { "example.com", "corp.example.com", NULL };
static char *G_ADMINS[] = { "admins", NULL };
static char *G_OPS_ADMINS[] = { "ops", "admins", NULL };
static char *ACR_MFA[] = { "urn:mfa", "urn:hwk", NULL };
static char *AMR_MFA[] = { "mfa", NULL };
static char *AMR_PWD_OTP[] = { "pwd", "otp", NULL };

static const char MAP[] =
        "# sub -> local user\n"
        "s-123            alice\n"
        "bob@partner.org  bob     # a partner account, domain not stripped\n"
        "s-root           root\n"
        "s-ghost          ghost\n";

#define U(v) "{\"sub\":\"s-1\",\"preferred_username\":" v "}"
#define E(v, verified) "{\"sub\":\"s-1\",\"email\":" v ",\"email_verified\":" verified "}"
#define G(v) "{\"sub\":\"s-1\",\"preferred_username\":\"alice\",\"groups\":" v "}"
#define A(k, v) "{\"sub\":\"s-1\",\"preferred_username\":\"alice\",\"" k "\":" v "}"

static const Case cases[] = {
        /* basic mapping and whole-string comparison */
        { "plain_allowed", U("\"alice\""), "alice", .allowed = true, .local_user = "alice" },
        { "alice_vs_pam_alice2", U("\"alice\""), "alice2", .error = -EXDEV },
        { "alice2_vs_pam_alice", U("\"alice2\""), "alice", .error = -EXDEV },
        { "bob_token_for_alice", U("\"bob\""), "alice", .error = -EXDEV },
        { "pam_user_empty", U("\"alice\""), "", .error = -EXDEV },
        { "pam_user_with_escape", U("\"alice\""), "alice\x1b[2J", .error = -EXDEV },
        { "safe_punctuation", U("\"a.b_c-d\""), "a.b_c-d", .allowed = true, .local_user = "a.b_c-d" },
        { "missing_account", U("\"carol\""), "carol", .error = -ENOENT },
        { "nss_failure", U("\"nssdown\""), "nssdown", .error = -EIO },
        /* hostile names */
        { "trailing_space", U("\"alice \""), "alice", .error = -EPERM },
        { "trailing_space_pam_same", U("\"alice \""), "alice ", .error = -EPERM },
        { "leading_space", U("\" alice\""), "alice", .error = -EPERM },
        { "upper_no_fold", U("\"ALICE\""), "alice", .error = -EXDEV },
        { "upper_no_fold_pam_upper", U("\"ALICE\""), "ALICE", .allowed = true, .local_user = "ALICE" },
        { "upper_fold", U("\"ALICE\""), "alice", .lowercase = true, .allowed = true, .local_user = "alice" },
        { "upper_fold_pam_upper", U("\"ALICE\""), "ALICE", .lowercase = true, .error = -EXDEV },
        { "embedded_nul", U("\"alice\\u0000bob\""), "alice", .error = -EPERM },
        { "embedded_nul_at_end", U("\"alice\\u0000\""), "alice", .error = -EPERM },
        { "dotdot_slash", U("\"../alice\""), "../alice", .error = -EPERM },
        { "slash", U("\"alice/x\""), "alice/x", .error = -EPERM },
        { "colon", U("\"alice:0:0\""), "alice:0:0", .error = -EPERM },
        { "leading_dash", U("\"-alice\""), "-alice", .error = -EPERM },
        { "dot_only", U("\".\""), ".", .error = -EPERM },
        { "dotdot_only", U("\"..\""), "..", .error = -EPERM },
        { "empty_string", U("\"\""), "", .error = -EPERM },
        { "newline", U("\"alice\\nroot\""), "alice", .error = -EPERM },
        { "escape_sequence", U("\"alice\\u001b[31m\""), "alice", .error = -EPERM },
        { "tab", U("\"alice\\t\""), "alice", .error = -EPERM },
        { "fullwidth", U("\"\xef\xbd\x81\xef\xbd\x8c\xef\xbd\x89\xef\xbd\x83\xef\xbd\x85\""), "alice", .error = -EPERM },
        { "fullwidth_fold", U("\"\xef\xbc\xa1\xef\xbc\xac\xef\xbc\xa9\xef\xbc\xa3\xef\xbc\xa5\""), "alice",
          .lowercase = true, .error = -EPERM },
        { "cyrillic_a", U("\"\xd0\xb0lice\""), "alice", .error = -EPERM },
        { "turkish_dotted_I_fold", U("\"AL\xc4\xb0" "CE\""), "alice", .lowercase = true, .error = -EPERM },
        { "bidi_override", U("\"alice\\u202e\""), "alice", .error = -EPERM },
        { "name_32_bytes", U("\"" NAME32 "\""), NAME32, .allowed = true, .local_user = NAME32 },
        { "name_33_bytes", U("\"" NAME32 "x\""), NAME32 "x", .error = -EPERM },
        /* not a string where a string belongs */
        { "array_name", U("[\"alice\"]"), "alice", .error = -EPERM },
        { "object_name", U("{\"name\":\"alice\"}"), "alice", .error = -EPERM },
        { "number_name", U("1000"), "alice", .error = -EPERM },
        { "null_name", U("null"), "alice", .error = -EPERM },
        { "bool_name", U("true"), "alice", .error = -EPERM },
        { "no_username_claim", "{\"sub\":\"s-1\",\"name\":\"alice\"}", "alice", .error = -EPERM },
        { "claims_not_object", "[\"alice\"]", "alice", .error = -EPERM },
        { "custom_claim", "{\"sub\":\"s-1\",\"upn\":\"alice\",\"preferred_username\":\"bob\"}", "alice",
          .username_claim = UC_UPN, .allowed = true, .local_user = "alice" },
        /* ordered username_claim list */
        { "list_first_present", "{\"preferred_username\":\"bob\",\"email\":\"alice\",\"email_verified\":true}",
          "alice", .username_claim = UC_PU_EMAIL, .error = -EXDEV },
        { "list_falls_to_second", "{\"email\":\"alice\",\"email_verified\":true}", "alice",
          .username_claim = UC_PU_EMAIL, .allowed = true, .local_user = "alice" },
        { "list_first_not_string_refused", "{\"preferred_username\":7,\"email\":\"alice\",\"email_verified\":true}",
          "alice", .username_claim = UC_PU_EMAIL, .error = -EPERM },
        { "list_first_null_refused", "{\"preferred_username\":null,\"email\":\"alice\",\"email_verified\":true}",
          "alice", .username_claim = UC_PU_EMAIL, .error = -EPERM },
        /* email only when verified */
        { "email_verified", E("\"alice@example.com\"", "true"), "alice@example.com", .username_claim = UC_EMAIL,
          .allowed = true, .local_user = "alice@example.com" },
        { "email_unverified", E("\"alice@example.com\"", "false"), "alice@example.com", .username_claim = UC_EMAIL,
          .error = -EPERM },
        { "email_verified_string_true", E("\"alice@example.com\"", "\"true\""), "alice@example.com",
          .username_claim = UC_EMAIL, .error = -EPERM },
        { "email_verified_number_1", E("\"alice@example.com\"", "1"), "alice@example.com",
          .username_claim = UC_EMAIL, .error = -EPERM },
        { "email_verified_absent", "{\"email\":\"alice@example.com\"}", "alice@example.com",
          .username_claim = UC_EMAIL, .error = -EPERM },
        { "email_unverified_falls_back", "{\"email\":\"bob@example.com\",\"email_verified\":false,"
          "\"preferred_username\":\"alice\"}", "alice", .username_claim = UC_EMAIL_PU,
          .allowed = true, .local_user = "alice" },
        { "email_verified_first_wins", "{\"email\":\"bob@example.com\",\"email_verified\":true,"
          "\"preferred_username\":\"alice\"}", "alice", .username_claim = UC_EMAIL_PU, .strip_domains = SD_EXAMPLE,
          .error = -EXDEV },
        { "ns_email_unverified", "{\"https://example.com/email\":\"alice@example.com\"}", "alice",
          .username_claim = UC_NS_EMAIL, .strip_domains = SD_EXAMPLE, .error = -EPERM },
        /* The top-level email_verified vouches for "email" only, never for a namespaced email claim. */
        { "ns_email_top_level_verified_refused", "{\"https://example.com/email\":\"alice@example.com\","
          "\"email_verified\":true}", "alice", .username_claim = UC_NS_EMAIL, .strip_domains = SD_EXAMPLE,
          .error = -EPERM },
        { "ns_email_own_verified", "{\"https://example.com/email\":\"alice@example.com\","
          "\"https://example.com/email_verified\":true}", "alice", .username_claim = UC_NS_EMAIL,
          .strip_domains = SD_EXAMPLE, .allowed = true, .local_user = "alice" },
        { "ns_email_own_verified_string_refused", "{\"https://example.com/email\":\"alice@example.com\","
          "\"https://example.com/email_verified\":\"true\",\"email_verified\":true}", "alice",
          .username_claim = UC_NS_EMAIL, .strip_domains = SD_EXAMPLE, .error = -EPERM },
        { "email_not_verified_by_ns_flag", "{\"email\":\"alice@example.com\","
          "\"https://example.com/email_verified\":true}", "alice", .username_claim = UC_EMAIL,
          .strip_domains = SD_EXAMPLE, .error = -EPERM },
        /* strip_domains */
        { "strip_listed", E("\"alice@example.com\"", "true"), "alice", .username_claim = UC_EMAIL,
          .strip_domains = SD_EXAMPLE, .allowed = true, .local_user = "alice" },
        { "strip_listed_second", E("\"alice@corp.example.com\"", "true"), "alice", .username_claim = UC_EMAIL,
          .strip_domains = SD_EXAMPLE, .allowed = true, .local_user = "alice" },
        { "strip_domain_case", E("\"alice@EXAMPLE.Com\"", "true"), "alice", .username_claim = UC_EMAIL,
          .strip_domains = SD_EXAMPLE, .allowed = true, .local_user = "alice" },
        { "strip_unlisted", E("\"alice@evil.com\"", "true"), "alice", .username_claim = UC_EMAIL,
          .strip_domains = SD_EXAMPLE, .error = -EPERM },
        { "strip_unlisted_pam_full", E("\"alice@evil.com\"", "true"), "alice@evil.com", .username_claim = UC_EMAIL,
          .strip_domains = SD_EXAMPLE, .error = -EPERM },
        { "strip_subdomain_unlisted", E("\"alice@sub.example.com\"", "true"), "alice", .username_claim = UC_EMAIL,
          .strip_domains = SD_EXAMPLE, .error = -EPERM },
        { "strip_suffix_trick", E("\"alice@evilexample.com\"", "true"), "alice", .username_claim = UC_EMAIL,
          .strip_domains = SD_EXAMPLE, .error = -EPERM },
        { "strip_double_at", E("\"alice@evil.com@example.com\"", "true"), "alice", .username_claim = UC_EMAIL,
          .strip_domains = SD_EXAMPLE, .error = -EXDEV },
        { "strip_empty_local", E("\"@example.com\"", "true"), "", .username_claim = UC_EMAIL,
          .strip_domains = SD_EXAMPLE, .error = -EPERM },
        { "strip_keeps_case_of_local", E("\"Alice@example.com\"", "true"), "alice", .username_claim = UC_EMAIL,
          .strip_domains = SD_EXAMPLE, .error = -EXDEV },
        { "strip_and_fold", E("\"ALICE@Example.com\"", "true"), "alice", .username_claim = UC_EMAIL,
          .strip_domains = SD_EXAMPLE, .lowercase = true, .allowed = true, .local_user = "alice" },
        { "no_strip_email_account", U("\"alice@example.com\""), "alice@example.com",
          .allowed = true, .local_user = "alice@example.com" },
        { "no_strip_email_vs_local", U("\"alice@example.com\""), "alice", .error = -EXDEV },
        /* map_file */
        { "map_sub", "{\"sub\":\"s-123\"}", "alice", .username_claim = UC_SUB, .map = MAP,
          .allowed = true, .local_user = "alice" },
        { "map_unmapped", "{\"sub\":\"s-999\"}", "alice", .username_claim = UC_SUB, .map = MAP, .error = -EPERM },
        { "map_unmapped_even_if_local_exists", U("\"alice\""), "alice", .map = MAP, .error = -EPERM },
        { "map_case_exact", "{\"sub\":\"S-123\"}", "alice", .username_claim = UC_SUB, .map = MAP, .error = -EPERM },
        { "map_prefix_not_match", "{\"sub\":\"s-1234\"}", "alice", .username_claim = UC_SUB, .map = MAP,
          .error = -EPERM },
        { "map_wins_over_strip", E("\"bob@partner.org\"", "true"), "bob", .username_claim = UC_EMAIL,
          .strip_domains = SD_EXAMPLE, .map = MAP, .allowed = true, .local_user = "bob" },
        { "map_other_pam_user", "{\"sub\":\"s-123\"}", "bob", .username_claim = UC_SUB, .map = MAP,
          .error = -EXDEV },
        { "map_no_fold_of_result", "{\"sub\":\"s-123\"}", "alice", .username_claim = UC_SUB, .map = MAP,
          .lowercase = true, .allowed = true, .local_user = "alice" },
        { "map_root_refused", "{\"sub\":\"s-root\"}", "root", .username_claim = UC_SUB, .map = MAP,
          .error = -EACCES },
        { "map_ghost_account", "{\"sub\":\"s-ghost\"}", "ghost", .username_claim = UC_SUB, .map = MAP,
          .error = -ENOENT },
        /* root */
        { "root_refused", U("\"root\""), "root", .error = -EACCES },
        { "root_allowed", U("\"root\""), "root", .allow_root = true, .allowed = true, .local_user = "root" },
        { "uid0_other_name_refused", U("\"toor\""), "toor", .error = -EACCES },
        /* require_groups */
        { "group_in_array", G("[\"users\",\"admins\"]"), "alice", .require_groups = G_ADMINS,
          .allowed = true, .local_user = "alice" },
        { "group_readonly_not_admins", G("[\"admins-readonly\"]"), "alice", .require_groups = G_ADMINS,
          .error = -EPERM },
        { "group_prefix_not_admins", G("[\"admin\"]"), "alice", .require_groups = G_ADMINS, .error = -EPERM },
        { "group_case_differs", G("[\"Admins\"]"), "alice", .require_groups = G_ADMINS, .error = -EPERM },
        { "group_single_string", G("\"admins\""), "alice", .require_groups = G_ADMINS,
          .allowed = true, .local_user = "alice" },
        { "group_single_string_readonly", G("\"admins-readonly\""), "alice", .require_groups = G_ADMINS,
          .error = -EPERM },
        { "group_embedded_nul", G("[\"admins\\u0000x\"]"), "alice", .require_groups = G_ADMINS, .error = -EPERM },
        { "group_absent", U("\"alice\""), "alice", .require_groups = G_ADMINS, .error = -EPERM },
        { "group_empty_array", G("[]"), "alice", .require_groups = G_ADMINS, .error = -EPERM },
        { "group_object", G("{\"admins\":true}"), "alice", .require_groups = G_ADMINS, .error = -EPERM },
        { "group_nested_values", G("[1,{\"n\":\"admins\"},[\"admins\"],null]"), "alice",
          .require_groups = G_ADMINS, .error = -EPERM },
        { "group_second_of_list", G("[\"ops\"]"), "alice", .require_groups = G_OPS_ADMINS,
          .allowed = true, .local_user = "alice" },
        { "group_rule_then_mismatch", G("[\"admins\"]"), "bob", .require_groups = G_ADMINS, .error = -EXDEV },
        { "keycloak_roles", A("realm_access", "{\"roles\":[\"offline_access\",\"admins\"]}"), "alice",
          .require_groups = G_ADMINS, .groups_claim = "realm_access.roles", .allowed = true, .local_user = "alice" },
        { "keycloak_roles_absent", A("realm_access", "{\"other\":[\"admins\"]}"), "alice",
          .require_groups = G_ADMINS, .groups_claim = "realm_access.roles", .error = -EPERM },
        { "keycloak_top_level_not_nested", A("roles", "[\"admins\"]"), "alice",
          .require_groups = G_ADMINS, .groups_claim = "realm_access.roles", .error = -EPERM },
        { "keycloak_parent_string", A("realm_access", "\"admins\""), "alice",
          .require_groups = G_ADMINS, .groups_claim = "realm_access.roles", .error = -EPERM },
        { "namespaced_dotted_key", A("https://example.com/groups", "[\"admins\"]"), "alice",
          .require_groups = G_ADMINS, .groups_claim = "https://example.com/groups", .allowed = true,
          .local_user = "alice" },
        /* require_acr */
        { "acr_listed", A("acr", "\"urn:hwk\""), "alice", .require_acr = ACR_MFA, .allowed = true,
          .local_user = "alice" },
        { "acr_other", A("acr", "\"urn:pwd\""), "alice", .require_acr = ACR_MFA, .error = -EPERM },
        { "acr_prefix", A("acr", "\"urn:mfa:weak\""), "alice", .require_acr = ACR_MFA, .error = -EPERM },
        { "acr_absent", U("\"alice\""), "alice", .require_acr = ACR_MFA, .error = -EPERM },
        { "acr_array", A("acr", "[\"urn:mfa\"]"), "alice", .require_acr = ACR_MFA, .error = -EPERM },
        /* require_amr: all listed methods */
        { "amr_contains", A("amr", "[\"pwd\",\"mfa\"]"), "alice", .require_amr = AMR_MFA, .allowed = true,
          .local_user = "alice" },
        { "amr_lacks", A("amr", "[\"pwd\"]"), "alice", .require_amr = AMR_MFA, .error = -EPERM },
        { "amr_absent", U("\"alice\""), "alice", .require_amr = AMR_MFA, .error = -EPERM },
        { "amr_string", A("amr", "\"mfa\""), "alice", .require_amr = AMR_MFA, .error = -EPERM },
        { "amr_all_of_missing_one", A("amr", "[\"pwd\"]"), "alice", .require_amr = AMR_PWD_OTP, .error = -EPERM },
        { "amr_all_of_present", A("amr", "[\"otp\",\"pwd\"]"), "alice", .require_amr = AMR_PWD_OTP,
          .allowed = true, .local_user = "alice" },
        /* max_age and auth_time */
        { "auth_time_recent", A("auth_time", "1699999900"), "alice", .max_age_sec = 300, .allowed = true,
          .local_user = "alice" },
        { "auth_time_within_skew", A("auth_time", "1699999650"), "alice", .max_age_sec = 300, .allowed = true,
          .local_user = "alice" },
        { "auth_time_too_old", A("auth_time", "1699999600"), "alice", .max_age_sec = 300, .error = -EPERM },
        { "auth_time_absent", U("\"alice\""), "alice", .max_age_sec = 300, .error = -EPERM },
        { "auth_time_garbage", A("auth_time", "\"yesterday\""), "alice", .max_age_sec = 300, .error = -EPERM },
        { "auth_time_negative", A("auth_time", "-5"), "alice", .max_age_sec = 300, .error = -EPERM },
        { "auth_time_future", A("auth_time", "1700003600"), "alice", .max_age_sec = 300, .error = -EPERM },
        { "auth_time_huge", A("auth_time", "18446744073709551"), "alice", .max_age_sec = 300, .error = -EPERM },
        { "auth_time_ignored_without_max_age", A("auth_time", "1"), "alice", .allowed = true, .local_user = "alice" },
};

static void init_config(Config *c, const Case *t) {
        static char *default_uc[] = { "preferred_username", NULL };

        *c = (Config) {
                .username_claim = t->username_claim ?: default_uc,
                .strip_domains = t->strip_domains,
                .lowercase = t->lowercase,
                .allow_root = t->allow_root,
                .require_groups = t->require_groups,
                .groups_claim = (char *) t->groups_claim,
                .require_acr = t->require_acr,
                .require_amr = t->require_amr,
                .max_age_usec = t->max_age_sec ? t->max_age_sec * USEC_PER_SEC : USEC_INFINITY,
                .clock_skew_usec = 60 * USEC_PER_SEC,
        };
}

static bool message_clean(const char *s) {
        if (!s)
                return false;
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                if (*p < 0x20 || *p >= 0x7f)
                        return false;
        return true;
}

/* Runs one case; returns whether every expectation held (and reports why not). */
static bool run_case(const Case *t, json_object *claims) {
        _cleanup_(usermap_freep) UserMap *map = NULL;
        _cleanup_free_ char *err = NULL;
        _cleanup_json_ json_object *parsed = NULL;
        Verdict v = { .error = 12345 };
        Config c;
        unsigned calls = 0;
        bool ok = true;
        int r;

        init_config(&c, t);
        if (t->map && usermap_parse(t->map, strlen(t->map), "test.map", &map, &err) < 0) {
                fprintf(stderr, "  %s: map: %s\n", t->name, strna(err));
                return false;
        }
        if (!claims) {
                r = parse_fixture(t->claims, strlen(t->claims), &parsed);
                if (r < 0) {
                        fprintf(stderr, "  %s: bad test JSON\n", t->name);
                        return false;
                }
                claims = parsed;
        }

        r = claims_decide(&c, map, claims, t->pam_user, NOW, fake_lookup, &calls, &v);
        if (r != 0) {
                fprintf(stderr, "  %s: claims_decide() = %d\n", t->name, r);
                return false;
        }
        if (v.allowed != t->allowed || v.error != (t->allowed ? 0 : t->error)) {
                fprintf(stderr, "  %s: allowed=%d error=%d, expected allowed=%d error=%d (%s)\n", t->name,
                        v.allowed, v.error, t->allowed, t->error, strna(v.log_message));
                ok = false;
        }
        if (t->allowed) {
                if (!streq_ptr(v.local_user, t->local_user) || v.user_message) {
                        fprintf(stderr, "  %s: local_user '%s', expected '%s'\n", t->name,
                                strna(v.local_user), t->local_user);
                        ok = false;
                }
                /* Allowed only after the account lookup. */
                if (calls != 1)
                        ok = false;
        } else {
                if (v.local_user || !message_clean(v.user_message) || strlen(v.user_message) > 160) {
                        fprintf(stderr, "  %s: refusal with local_user or unclean/long user message '%s'\n",
                                t->name, strna(v.user_message));
                        ok = false;
                }
                /* The account is looked up only once the name passed every other rule. */
                if ((t->error == -ENOENT || t->error == -EACCES || t->error == -EIO) != (calls == 1))
                        ok = false;
        }
        if (!message_clean(v.log_message) || strlen(v.log_message) > 600) {
                fprintf(stderr, "  %s: unclean log message '%s'\n", t->name, strna(v.log_message));
                ok = false;
        }
        verdict_done(&v);
        CHECK(v.local_user == NULL && v.user_message == NULL && v.log_message == NULL);
        return ok;
}

TEST(decide_table) {
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                bool ok = run_case(&cases[i], NULL);

                CHECK(ok);
                test_report("test-claims.c:decide", cases[i].name, ok);
        }
}

/* Built at run time: names too big to write in the table. */
TEST(decide_huge_names) {
        _cleanup_free_ char *big = malloc(10 * 1024 + 1), *bigmail = NULL;
        const Case huge = { "name_10KiB", NULL, "alice", .error = -EPERM };
        const Case huge_pam = { "name_10KiB_pam_same", NULL, NULL, .error = -EPERM };
        const Case huge_mail = { "email_10KiB_local_stripped", NULL, "alice", .username_claim = UC_EMAIL,
                                 .strip_domains = SD_EXAMPLE, .error = -EPERM };
        bool ok;

        CHECK(big != NULL);
        if (!big)
                return;
        memset(big, 'a', 10 * 1024);
        big[10 * 1024] = 0;

        {
                _cleanup_json_ json_object *o = json_object_new_object();
                json_object_object_add(o, "preferred_username", json_object_new_string(big));
                ok = run_case(&huge, o);
                CHECK(ok);
                test_report("test-claims.c:decide", huge.name, ok);
        }
        {
                _cleanup_json_ json_object *o = json_object_new_object();
                Case t = huge_pam;

                t.pam_user = big;       /* equal strings, but never a safe name */
                json_object_object_add(o, "preferred_username", json_object_new_string(big));
                ok = run_case(&t, o);
                CHECK(ok);
                test_report("test-claims.c:decide", t.name, ok);
        }
        {
                _cleanup_json_ json_object *o = json_object_new_object();

                CHECK(asprintf(&bigmail, "%s@example.com", big) > 0);
                json_object_object_add(o, "email", json_object_new_string(bigmail));
                json_object_object_add(o, "email_verified", json_object_new_boolean(true));
                ok = run_case(&huge_mail, o);
                CHECK(ok);
                test_report("test-claims.c:decide", huge_mail.name, ok);
        }
}

/* The real NSS for root: every system has it with uid 0. */
TEST(decide_nss_root) {
        _cleanup_json_ json_object *o = NULL;
        char *uc[] = { "preferred_username", NULL };
        Config c = { .username_claim = uc, .max_age_usec = USEC_INFINITY };
        Verdict v = {};

        CHECK_INTEQ(parse_fixture(U("\"root\""), strlen(U("\"root\"")), &o), 0);
        CHECK_INTEQ(claims_decide(&c, NULL, o, "root", NOW, user_lookup_nss, NULL, &v), 0);
        CHECK(!v.allowed);
        CHECK_INTEQ(v.error, -EACCES);
        CHECK(v.local_user == NULL);
        test_report("test-claims.c:decide", "nss_root_refused", !v.allowed && v.error == -EACCES);
        verdict_done(&v);

        c.allow_root = true;
        CHECK_INTEQ(claims_decide(&c, NULL, o, "root", NOW, user_lookup_nss, NULL, &v), 0);
        CHECK(v.allowed);
        CHECK_STREQ(v.local_user, "root");
        test_report("test-claims.c:decide", "nss_root_allowed", v.allowed && streq_ptr(v.local_user, "root"));
        verdict_done(&v);
}

TEST(decide_bad_arguments) {
        _cleanup_json_ json_object *o = json_object_new_object();
        Config c = { .max_age_usec = USEC_INFINITY };
        Verdict v = { .error = 7 };

        CHECK_INTEQ(claims_decide(NULL, NULL, o, "alice", NOW, fake_lookup, NULL, &v), -EINVAL);
        CHECK_INTEQ(claims_decide(&c, NULL, NULL, "alice", NOW, fake_lookup, NULL, &v), -EINVAL);
        CHECK_INTEQ(claims_decide(&c, NULL, o, NULL, NOW, fake_lookup, NULL, &v), -EINVAL);
        CHECK_INTEQ(claims_decide(&c, NULL, o, "alice", NOW, NULL, NULL, &v), -EINVAL);
        CHECK_INTEQ(v.error, 7);        /* untouched */
}

TEST(messages_do_not_carry_escapes) {
        _cleanup_json_ json_object *o = NULL;
        const char *j = "{\"sub\":\"\\u001b]0;pwned\\u0007\",\"preferred_username\":\"bob\\u001b[2J\\u202e\"}";
        Config c = { .max_age_usec = USEC_INFINITY };
        Verdict v = {};

        CHECK_INTEQ(parse_fixture(j, strlen(j), &o), 0);
        CHECK_INTEQ(claims_decide(&c, NULL, o, "alice\x1b[1m", NOW, fake_lookup, NULL, &v), 0);
        CHECK(!v.allowed);
        CHECK(message_clean(v.user_message));
        CHECK(message_clean(v.log_message));
        CHECK(strchr(v.user_message, '\x1b') == NULL);
        verdict_done(&v);
}

TEST(need_userinfo) {
        char *uc[] = { "preferred_username", "email", NULL };
        char *groups[] = { "admins", NULL };
        Config c = { .username_claim = uc, .max_age_usec = USEC_INFINITY };
        static const struct {
                const char *json;
                bool with_groups, need;
        } t[] = {
                { "{\"sub\":\"1\",\"preferred_username\":\"alice\"}", false, false },
                { "{\"sub\":\"1\",\"preferred_username\":5}", false, false },   /* present: refusal, not a fetch */
                { "{\"sub\":\"1\"}", false, true },
                { "{\"sub\":\"1\",\"email\":\"a@b\"}", false, true },           /* unverified does not count */
                { "{\"sub\":\"1\",\"email\":\"a@b\",\"email_verified\":true}", false, false },
                { "{\"sub\":\"1\",\"preferred_username\":\"alice\"}", true, true },
                { "{\"sub\":\"1\",\"preferred_username\":\"alice\",\"groups\":[]}", true, false },
        };

        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                _cleanup_json_ json_object *o = NULL;

                CHECK_INTEQ(parse_fixture(t[i].json, strlen(t[i].json), &o), 0);
                c.require_groups = t[i].with_groups ? groups : NULL;
                CHECK(claims_need_userinfo(&c, o) == t[i].need);
        }
}

TEST(merge_userinfo) {
        _cleanup_json_ json_object *id = NULL, *ui = NULL, *bad = NULL, *nosub = NULL;
        _cleanup_free_ char *reason = NULL, *reason2 = NULL;
        const char *j_id = "{\"sub\":\"s-1\",\"preferred_username\":\"alice\",\"email_verified\":false}";
        const char *j_ui = "{\"sub\":\"s-1\",\"preferred_username\":\"root\",\"email\":\"alice@example.com\","
                           "\"email_verified\":true,\"groups\":[\"admins\"]}";
        const char *j_bad = "{\"sub\":\"s-2\",\"groups\":[\"admins\"]}";
        const char *j_nosub = "{\"groups\":[\"admins\"]}";

        CHECK_INTEQ(parse_fixture(j_id, strlen(j_id), &id), 0);
        CHECK_INTEQ(parse_fixture(j_ui, strlen(j_ui), &ui), 0);
        CHECK_INTEQ(parse_fixture(j_bad, strlen(j_bad), &bad), 0);
        CHECK_INTEQ(parse_fixture(j_nosub, strlen(j_nosub), &nosub), 0);

        CHECK_INTEQ(claims_merge_userinfo(id, bad, &reason), -EPERM);
        CHECK(reason != NULL);
        CHECK(claims_get_path(id, "groups") == NULL);   /* nothing merged */
        CHECK_INTEQ(claims_merge_userinfo(id, nosub, &reason2), -EPERM);
        CHECK_INTEQ(claims_merge_userinfo(id, NULL, NULL), -EINVAL);

        CHECK_INTEQ(claims_merge_userinfo(id, ui, NULL), 0);
        CHECK_STREQ(json_get_string(id, "preferred_username"), "alice");        /* ID token wins */
        CHECK_STREQ(json_get_string(id, "email"), "alice@example.com");
        CHECK(!json_object_get_boolean(json_object_object_get(id, "email_verified")));
        CHECK(json_object_is_type(claims_get_path(id, "groups"), json_type_array));
}

TEST(get_path) {
        _cleanup_json_ json_object *o = NULL;
        const char *j = "{\"a\":{\"b\":{\"c\":1}},\"x.y\":2,\"p\":{\"q.r\":3},\"s\":\"str\"}";

        CHECK_INTEQ(parse_fixture(j, strlen(j), &o), 0);
        CHECK_INTEQ(json_object_get_int(claims_get_path(o, "a.b.c")), 1);
        CHECK_INTEQ(json_object_get_int(claims_get_path(o, "x.y")), 2);
        CHECK_INTEQ(json_object_get_int(claims_get_path(o, "p.q.r")), 3);
        CHECK(json_object_is_type(claims_get_path(o, "a.b"), json_type_object));
        CHECK(claims_get_path(o, "a.b.c.d") == NULL);
        CHECK(claims_get_path(o, "s.t") == NULL);
        CHECK(claims_get_path(o, "a..b") == NULL);
        CHECK(claims_get_path(o, ".a") == NULL);
        CHECK(claims_get_path(o, "") == NULL);
        CHECK(claims_get_path(o, "missing") == NULL);
}

/* What test-login shows root: the username claim and its value, and the groups, acr and amr that matched;
 * nothing for a refusal (log_message says which rule refused). */
TEST(decide_explanation) {
        static const char j[] = "{\"sub\":\"s-1\",\"preferred_username\":\"alice\",\"groups\":[\"x\",\"admins\"],"
                                "\"acr\":\"urn:hwk\",\"amr\":[\"pwd\",\"otp\"]}";
        const Case t = { "explain", NULL, "alice", .require_groups = G_OPS_ADMINS, .require_acr = ACR_MFA,
                         .require_amr = AMR_PWD_OTP };
        _cleanup_json_ json_object *o = NULL;
        Verdict v = {};
        Config c;
        unsigned calls = 0;

        init_config(&c, &t);
        CHECK_INTEQ(parse_fixture(j, strlen(j), &o), 0);
        CHECK_INTEQ(claims_decide(&c, NULL, o, "alice", NOW, fake_lookup, &calls, &v), 0);
        CHECK(v.allowed);
        CHECK(streq_ptr(v.explanation, "claim 'preferred_username' = 'alice'; groups 'admins' (require_groups); "
                                       "acr 'urn:hwk' (require_acr); amr 'pwd' (require_amr); amr 'otp' (require_amr)"));
        test_report("test-claims.c:explanation", "allowed", v.allowed && v.explanation && strstr(v.explanation, "admins"));
        verdict_done(&v);

        CHECK_INTEQ(claims_decide(&c, NULL, o, "bob", NOW, fake_lookup, &calls, &v), 0);
        CHECK(!v.allowed && v.error == -EXDEV && v.explanation == NULL);
        test_report("test-claims.c:explanation", "another account: WrongUser (-EXDEV), no explanation",
                    !v.allowed && v.error == -EXDEV && !v.explanation);
        verdict_done(&v);
}

int main(void) {
        return run_tests();
}
