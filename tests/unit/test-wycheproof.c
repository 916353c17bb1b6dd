/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Every Wycheproof vector we ship (tests/vectors/wycheproof/, C2SP/wycheproof commit dac1dd4729fd,
 * Apache-2.0) against our code: the JWS and JWK files against jws_verify_bytes()/jwks_parse(), the ECDSA
 * P1363, RSA PKCS#1, RSA-PSS and Ed25519 files against jws_verify_raw(). A vector marked "valid" must verify,
 * "invalid" must not; "acceptable" may go either way and is counted. Valid JWS vectors that our policy
 * refuses on purpose (HMAC algorithms, the JSON serialisation, a JWK whose "alg" differs from the token's)
 * must be refused, and are counted and listed as such. The directory comes from $WYCHEPROOF_DIR, else
 * tests/vectors/wycheproof relative to the repository root. */

#include <json-c/json.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base64url.h"
#include "json-util.h"
#include "jwks.h"
#include "jws.h"
#include "test.h"

typedef struct Counts {
        unsigned valid, invalid, acceptable, acceptable_accepted, policy, mismatches;
} Counts;

static const char *dir(void) {
        const char *d = getenv("WYCHEPROOF_DIR");

        return d && *d ? d : "tests/vectors/wycheproof";
}

static json_object *load(const char *file) {
        char path[4096];
        json_object *o;

        snprintf(path, sizeof(path), "%s/%s", dir(), file);
        o = json_object_from_file(path);
        if (!o)
                fprintf(stderr, "  cannot read %s\n", path);
        return o;
}

static uint8_t *unhex(const char *s, size_t *ret_size) {
        size_t n = strlen(s) / 2;
        uint8_t *b = malloc(n + 1);

        for (size_t i = 0; i < n; i++) {
                unsigned v;

                sscanf(s + 2 * i, "%2x", &v);
                b[i] = (uint8_t) v;
        }
        *ret_size = n;
        return b;
}

static const char *get_str(json_object *o, const char *k) {
        const char *s = json_get_string(o, k);

        return s ? s : "";
}

/* Record one verdict; prints a FAIL line for a mismatch. */
static void judge(const char *name, Counts *c, json_object *t, bool accepted, bool policy_refusal) {
        const char *result = get_str(t, "result");
        int tc = json_object_get_int(json_object_object_get(t, "tcId"));
        bool ok;

        if (streq(result, "acceptable")) {
                c->acceptable++;
                c->acceptable_accepted += accepted;
                return;
        }
        if (streq(result, "valid")) {
                c->valid++;
                if (policy_refusal) {
                        c->policy++;
                        ok = !accepted;
                        printf("# wycheproof:%s tcId %d (valid, '%s'): refused by policy\n", name, tc,
                               get_str(t, "comment"));
                } else
                        ok = accepted;
        } else {
                c->invalid++;
                ok = !accepted;
        }
        if (!ok) {
                c->mismatches++;
                printf("FAIL: wycheproof:%s:tcId%d (expected %s, got %s; %s)\n", name, tc, result,
                       accepted ? "accepted" : "refused", get_str(t, "comment"));
        }
}

static bool report(const char *name, const Counts *c) {
        bool ok = c->mismatches == 0 && c->valid + c->invalid + c->acceptable > 0;

        printf("%s: wycheproof:%s (%u valid, %u invalid, %u acceptable of which %u accepted, "
               "%u valid refused by policy, %u mismatches)\n",
               ok ? "PASS" : "FAIL", name, c->valid, c->invalid, c->acceptable, c->acceptable_accepted,
               c->policy, c->mismatches);
        return ok;
}

/* The group's public key: from its JWK through our JWKS parser when there is one, else from the DER. */
static EVP_PKEY *group_key(json_object *g, Jwks **ret_jwks) {
        json_object *jwk = NULL;
        const char *der_hex;

        *ret_jwks = NULL;
        if (!json_object_object_get_ex(g, "publicKeyJwk", &jwk))
                (void) json_object_object_get_ex(g, "keyJwk", &jwk);
        if (jwk) {
                char *set = NULL;
                Jwks *j = NULL;

                if (asprintf(&set, "{\"keys\":[%s]}", json_object_to_json_string_ext(jwk, JSON_C_TO_STRING_PLAIN)) < 0)
                        return NULL;
                if (jwks_parse(set, strlen(set), &j) >= 0 && jwks_size(j) == 1) {
                        free(set);
                        *ret_jwks = j;
                        return jwks_get(j, 0)->pkey;
                }
                free(set);
                jwks_free(j);
        }
        der_hex = json_get_string(g, "publicKeyDer");
        if (der_hex) {
                size_t n;
                uint8_t *der = unhex(der_hex, &n);
                const unsigned char *p = der;
                EVP_PKEY *k = d2i_PUBKEY(NULL, &p, (long) n);

                free(der);
                return k;
        }
        return NULL;
}

static bool run_primitive(const char *name, const char *file, const char *alg) {
        json_object *root = load(file), *groups;
        Counts c = {};
        bool ok;

        if (!root) {
                printf("FAIL: wycheproof:%s (cannot load %s)\n", name, file);
                return false;
        }
        groups = json_object_object_get(root, "testGroups");
        for (size_t gi = 0; gi < json_object_array_length(groups); gi++) {
                json_object *g = json_object_array_get_idx(groups, gi), *tests = json_object_object_get(g, "tests");
                Jwks *j = NULL;
                EVP_PKEY *key = group_key(g, &j);

                for (size_t ti = 0; ti < json_object_array_length(tests); ti++) {
                        json_object *t = json_object_array_get_idx(tests, ti);
                        size_t msg_size, sig_size;
                        uint8_t *msg = unhex(get_str(t, "msg"), &msg_size), *sig = unhex(get_str(t, "sig"), &sig_size);
                        bool accepted = key && jws_verify_raw(alg, key, msg, msg_size, sig, sig_size) == 0;

                        judge(name, &c, t, accepted, false);
                        free(msg);
                        free(sig);
                }
                if (j)
                        jwks_free(j);
                else
                        EVP_PKEY_free(key);
        }
        json_object_put(root);
        ok = report(name, &c);
        return ok;
}

TEST(ecdsa_p256_p1363) {
        CHECK(run_primitive("ecdsa_p256", "ecdsa_secp256r1_sha256_p1363_test.json", "ES256"));
}

TEST(ecdsa_p384_p1363) {
        CHECK(run_primitive("ecdsa_p384", "ecdsa_secp384r1_sha384_p1363_test.json", "ES384"));
}

TEST(rsa_pkcs1_2048_sha256) {
        CHECK(run_primitive("rsa_pkcs1_2048_sha256", "rsa_signature_2048_sha256_test.json", "RS256"));
}

TEST(rsa_pss_2048_sha256) {
        CHECK(run_primitive("rsa_pss_2048_sha256_mgf1_32", "rsa_pss_2048_sha256_mgf1_32_test.json", "PS256"));
}

TEST(ed25519) {
        CHECK(run_primitive("ed25519", "ed25519_test.json", "EdDSA"));
}

/* The token's header alg, or NULL when it cannot be read. */
static char *token_alg(const char *jws) {
        const char *dot = strchr(jws, '.');
        uint8_t *h = NULL;
        size_t n;
        json_object *o;
        char *alg = NULL;

        if (!dot || base64url_decode(jws, (size_t) (dot - jws), &h, &n) < 0)
                return NULL;
        o = json_tokener_parse((char *) h);
        if (o && json_get_string(o, "alg"))
                alg = strdup(json_get_string(o, "alg"));
        json_object_put(o);
        free(h);
        return alg;
}

/* Whether our policy refuses a token on purpose (only consulted for vectors marked valid). */
static bool policy_refuses(json_object *t, json_object *keyset) {
        json_object *jws = json_object_object_get(t, "jws");
        char *alg;
        bool refuse = false;

        if (!json_object_is_type(jws, json_type_string))
                return true; /* JSON serialisation */
        /* Strict base64url (issue 5): a character outside the alphabet is never skipped over. */
        if (strspn(json_object_get_string(jws), "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") !=
            (size_t) json_object_get_string_len(jws))
                return true;
        alg = token_alg(json_object_get_string(jws));
        if (!alg)
                return false;
        if (strncasecmp(alg, "HS", 2) == 0)
                refuse = true; /* MACs are never used for ID tokens */
        else if (keyset) {
                /* RFC 7517 §4.4 as issue 5 reads it: a JWK's alg must equal the token's. */
                json_object *keys = json_object_object_get(keyset, "keys");

                if (!keys) {
                        const char *ka = json_get_string(keyset, "alg");

                        refuse = ka && !streq(ka, alg);
                } else
                        for (size_t i = 0; i < json_object_array_length(keys); i++) {
                                const char *ka = json_get_string(json_object_array_get_idx(keys, i), "alg");

                                if (ka && !streq(ka, alg))
                                        refuse = true;
                        }
        }
        free(alg);
        return refuse;
}

static bool run_jose(const char *name, const char *file, bool single_key) {
        json_object *root = load(file), *groups;
        Counts c = {};

        if (!root) {
                printf("FAIL: wycheproof:%s (cannot load %s)\n", name, file);
                return false;
        }
        groups = json_object_object_get(root, "testGroups");
        for (size_t gi = 0; gi < json_object_array_length(groups); gi++) {
                json_object *g = json_object_array_get_idx(groups, gi), *tests = json_object_object_get(g, "tests");
                json_object *key = json_object_object_get(g, "public") ?: json_object_object_get(g, "private");
                const char *text = key ? json_object_to_json_string_ext(key, JSON_C_TO_STRING_PLAIN) : "{}";
                char *set = NULL;
                Jwks *j = NULL;
                int pr;

                if (single_key)
                        pr = asprintf(&set, "{\"keys\":[%s]}", text);
                else
                        pr = asprintf(&set, "%s", text);
                if (pr < 0)
                        return false;
                if (jwks_parse(set, strlen(set), &j) < 0)
                        j = NULL;

                for (size_t ti = 0; ti < json_object_array_length(tests); ti++) {
                        json_object *t = json_object_array_get_idx(tests, ti), *jws = json_object_object_get(t, "jws");
                        bool accepted = false;

                        if (j && json_object_is_type(jws, json_type_string)) {
                                uint8_t *payload = NULL;

                                accepted = jws_verify_bytes(json_object_get_string(jws),
                                                            (size_t) json_object_get_string_len(jws), j, NULL, &payload,
                                                            NULL, NULL) == 0;
                                free(payload);
                        }
                        judge(name, &c, t, accepted, policy_refuses(t, key));
                }
                jwks_free(j);
                free(set);
        }
        json_object_put(root);
        return report(name, &c);
}

TEST(json_web_signature) {
        CHECK(run_jose("json_web_signature", "json_web_signature_test.json", true));
}

TEST(json_web_key) {
        CHECK(run_jose("json_web_key", "json_web_key_test.json", false));
}

int main(void) {
        return run_tests();
}
