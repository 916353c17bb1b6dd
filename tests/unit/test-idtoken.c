/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ID token validation (OIDC Core 3.1.3.7) against keys generated at test time: valid RS256, PS256, ES256,
 * ES384, EdDSA tokens are accepted; every hand-made attack token is refused with a reason. */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base64url.h"
#include "idtoken.h"
#include "json-util.h"
#include "jwks.h"
#include "jws.h"
#include "jws-sign-text.h"
#include "test.h"

#define ISSUER "https://idp.example.com/realms/corp"
#define CLIENT "ssh-login"

static EVP_PKEY *k_rsa, *k_ec256, *k_ec384, *k_ed, *k_attacker, *k_small, *k_bound;
static Jwks *keys;
static int64_t now_sec;

/* ---- helpers ------------------------------------------------------------------------------------------ */

static char *b64(const void *p, size_t n) {
        char *s = NULL;

        if (base64url_encode(p, n, &s) < 0)
                abort();
        return s;
}

static char *bn_b64(EVP_PKEY *k, const char *name) {
        BIGNUM *bn = NULL;
        uint8_t buf[1024];
        int n;
        char *s;

        if (EVP_PKEY_get_bn_param(k, name, &bn) != 1)
                abort();
        n = BN_bn2bin(bn, buf);
        BN_free(bn);
        s = b64(buf, (size_t) n);
        return s;
}

/* The public JWK of K, with KID and EXTRA members (",\"alg\":\"RS256\"" or ""). */
static char *jwk_of(EVP_PKEY *k, const char *kid, const char *extra) {
        char *out = NULL;

        switch (jwa_kind_of_pkey(k)) {
        case JWK_RSA: {
                char *n = bn_b64(k, OSSL_PKEY_PARAM_RSA_N), *e = bn_b64(k, OSSL_PKEY_PARAM_RSA_E);

                if (asprintf(&out, "{\"kty\":\"RSA\",\"use\":\"sig\",\"kid\":\"%s\",\"n\":\"%s\",\"e\":\"%s\"%s}", kid, n, e,
                             extra) < 0)
                        abort();
                free(n);
                free(e);
                break;
        }
        case JWK_EC_P256:
        case JWK_EC_P384:
        case JWK_EC_P521: {
                uint8_t pt[200];
                size_t len = 0, c;
                char *x, *y;
                const char *crv = jwa_kind_of_pkey(k) == JWK_EC_P256 ? "P-256" :
                                  jwa_kind_of_pkey(k) == JWK_EC_P384 ? "P-384" : "P-521";

                EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pt, sizeof(pt), &len);
                c = (len - 1) / 2;
                x = b64(pt + 1, c);
                y = b64(pt + 1 + c, c);
                if (asprintf(&out, "{\"kty\":\"EC\",\"kid\":\"%s\",\"crv\":\"%s\",\"x\":\"%s\",\"y\":\"%s\"%s}", kid, crv, x, y,
                             extra) < 0)
                        abort();
                free(x);
                free(y);
                break;
        }
        case JWK_ED25519: {
                uint8_t raw[32];
                size_t len = sizeof(raw);
                char *x;

                EVP_PKEY_get_raw_public_key(k, raw, &len);
                x = b64(raw, len);
                if (asprintf(&out, "{\"kty\":\"OKP\",\"kid\":\"%s\",\"crv\":\"Ed25519\",\"x\":\"%s\"%s}", kid, x, extra) < 0)
                        abort();
                free(x);
                break;
        }
        default:
                abort();
        }
        return out;
}

/* Replace every "$T(<offset>)" in TMPL by now_sec + offset. */
static char *expand(const char *tmpl) {
        char *out = malloc(strlen(tmpl) * 2 + 64), *o = out;

        for (const char *p = tmpl; *p;) {
                if (strncmp(p, "$T(", 3) == 0) {
                        char *end;
                        long long off = strtoll(p + 3, &end, 10);

                        o += sprintf(o, "%lld", (long long) now_sec + off);
                        p = end + 1;
                } else
                        *o++ = *p++;
        }
        *o = 0;
        return out;
}

#define GOOD_CLAIMS "{\"iss\":\"" ISSUER "\",\"aud\":\"" CLIENT "\",\"sub\":\"alice-sub\",\"iat\":$T(-5),\"exp\":$T(300)}"

static char *sign(EVP_PKEY *k, const char *alg, const char *header, const char *claims_tmpl) {
        char *claims = expand(claims_tmpl), *token = NULL;

        if (jws_sign_text(k, alg, header, strlen(header), claims, strlen(claims), &token) < 0)
                abort();
        free(claims);
        return token;
}

static int validate(const char *token, char *const *algs, char **reason) {
        IdTokenCheck c = {
                .issuer = ISSUER,
                .client_id = CLIENT,
                .allowed_algs = algs,
                .now_usec = (uint64_t) now_sec * 1000000 + 250000,
                .clock_skew_usec = 60 * 1000000ULL,
                .max_iat_age_usec = 600 * 1000000ULL,
        };
        json_object *claims = NULL;
        int r;

        *reason = NULL;
        r = idtoken_validate(token, keys, &c, &claims, reason);
        if (r >= 0) {
                /* On success the claims come back, and no reason. */
                if (!claims || !json_get_string(claims, "sub") || *reason)
                        r = -999;
        } else if (claims)
                r = -998;
        json_object_put(claims);
        return r;
}

/* Refused, with a reason containing WANT (when not NULL); prints the reason as the daemon's log would. */
static bool refused(const char *name, const char *token, int want_r, const char *want) {
        char *reason = NULL;
        int r = validate(token, NULL, &reason);
        bool ok = r < 0 && r > -900 && reason && (!want || strstr(reason, want)) && (want_r == 0 || r == want_r);

        printf("  %s: r=%d reason='%s'\n", name, r, reason ? reason : "(null)");
        test_report("test-idtoken.c:refused", name, ok);
        free(reason);
        return ok;
}

static bool accepted(const char *name, const char *token) {
        char *reason = NULL;
        int r = validate(token, NULL, &reason);

        if (r < 0)
                printf("  %s: r=%d reason='%s'\n", name, r, reason ? reason : "(null)");
        test_report("test-idtoken.c:accepted", name, r == 0);
        free(reason);
        return r == 0;
}

__attribute__((constructor(200))) static void setup(void) {
        char *j_rsa, *j_ec256, *j_ec384, *j_ed, *j_small, *j_bound, *set = NULL;

        now_sec = (int64_t) time(NULL);
        k_rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);
        k_attacker = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);
        k_small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 1024);
        k_bound = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);
        k_ec256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        k_ec384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
        k_ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        if (!k_rsa || !k_attacker || !k_small || !k_bound || !k_ec256 || !k_ec384 || !k_ed)
                abort();

        j_rsa = jwk_of(k_rsa, "rsa1", "");
        j_ec256 = jwk_of(k_ec256, "ec256", ",\"alg\":\"ES256\"");
        j_ec384 = jwk_of(k_ec384, "ec384", "");
        j_ed = jwk_of(k_ed, "ed", "");
        j_small = jwk_of(k_small, "small", "");
        j_bound = jwk_of(k_bound, "bound", ",\"alg\":\"RS256\"");
        if (asprintf(&set, "{\"keys\":[%s,%s,%s,%s,%s,%s]}", j_rsa, j_ec256, j_ec384, j_ed, j_small, j_bound) < 0)
                abort();
        if (jwks_parse(set, strlen(set), &keys) < 0)
                abort();
        free(set);
        free(j_rsa);
        free(j_ec256);
        free(j_ec384);
        free(j_ed);
        free(j_small);
        free(j_bound);
}

__attribute__((destructor)) static void teardown(void) {
        jwks_free(keys);
        EVP_PKEY_free(k_rsa);
        EVP_PKEY_free(k_attacker);
        EVP_PKEY_free(k_small);
        EVP_PKEY_free(k_bound);
        EVP_PKEY_free(k_ec256);
        EVP_PKEY_free(k_ec384);
        EVP_PKEY_free(k_ed);
}

/* ---- accepted ----------------------------------------------------------------------------------------- */

TEST(jwks_setup) {
        /* The 1024-bit key was skipped; the other five are usable. */
        CHECK_INTEQ(jwks_size(keys), 5);
        CHECK(!jwks_has_kid(keys, "small"));
        CHECK(jwks_has_kid(keys, "rsa1"));
}

TEST(valid_tokens_accepted) {
        static const struct {
                const char *name, *alg, *header, *claims;
                int key;
        } cases[] = {
                { "RS256", "RS256", "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"typ\":\"JWT\"}", GOOD_CLAIMS, 0 },
                { "RS384", "RS384", "{\"alg\":\"RS384\",\"kid\":\"rsa1\"}", GOOD_CLAIMS, 0 },
                { "RS512", "RS512", "{\"alg\":\"RS512\",\"kid\":\"rsa1\"}", GOOD_CLAIMS, 0 },
                { "PS256", "PS256", "{\"alg\":\"PS256\",\"kid\":\"rsa1\"}", GOOD_CLAIMS, 0 },
                { "PS512", "PS512", "{\"alg\":\"PS512\",\"kid\":\"rsa1\"}", GOOD_CLAIMS, 0 },
                { "ES256", "ES256", "{\"alg\":\"ES256\",\"kid\":\"ec256\"}", GOOD_CLAIMS, 1 },
                { "ES384", "ES384", "{\"alg\":\"ES384\",\"kid\":\"ec384\"}", GOOD_CLAIMS, 2 },
                { "EdDSA", "EdDSA", "{\"alg\":\"EdDSA\",\"kid\":\"ed\"}", GOOD_CLAIMS, 3 },
                { "RS256_bound_key", "RS256", "{\"alg\":\"RS256\",\"kid\":\"bound\"}", GOOD_CLAIMS, 4 },
                { "no_kid_tries_matching_keys", "RS256", "{\"alg\":\"RS256\"}", GOOD_CLAIMS, 0 },
                { "no_kid_es256", "ES256", "{\"alg\":\"ES256\"}", GOOD_CLAIMS, 1 },
                { "aud_array_with_azp", "RS256", "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}",
                  "{\"iss\":\"" ISSUER "\",\"aud\":[\"other\",\"" CLIENT "\"],\"azp\":\"" CLIENT "\",\"sub\":\"a\","
                  "\"iat\":$T(0),\"exp\":$T(60)}", 0 },
                { "aud_array_of_one", "RS256", "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}",
                  "{\"iss\":\"" ISSUER "\",\"aud\":[\"" CLIENT "\"],\"sub\":\"a\",\"iat\":$T(0),\"exp\":$T(60)}", 0 },
                { "exp_within_skew", "RS256", "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}",
                  "{\"iss\":\"" ISSUER "\",\"aud\":\"" CLIENT "\",\"sub\":\"a\",\"iat\":$T(-100),\"exp\":$T(-30)}", 0 },
                { "iat_ahead_within_skew", "RS256", "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}",
                  "{\"iss\":\"" ISSUER "\",\"aud\":\"" CLIENT "\",\"sub\":\"a\",\"iat\":$T(30),\"exp\":$T(300)}", 0 },
                { "nbf_past_and_extra_claims", "RS256", "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}",
                  "{\"iss\":\"" ISSUER "\",\"aud\":\"" CLIENT "\",\"sub\":\"a\",\"iat\":$T(0),\"exp\":$T(60),"
                  "\"nbf\":$T(-10),\"groups\":[\"x\",{\"y\":[1,2]}],\"email_verified\":true,\"auth_time\":1.5}", 0 },
        };
        EVP_PKEY *ks[] = { k_rsa, k_ec256, k_ec384, k_ed, k_bound };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char *t = sign(ks[cases[i].key], cases[i].alg, cases[i].header, cases[i].claims);

                CHECK(accepted(cases[i].name, t));
                free(t);
        }
}

TEST(jws_sign_output_accepted) {
        json_object *claims = NULL;
        char *text = expand(GOOD_CLAIMS), *t = NULL;

        CHECK_INTEQ(json_parse_strict(text, strlen(text), &claims), 0);
        CHECK_INTEQ(jws_sign(k_ec384, NULL, "ec384", claims, &t), 0);
        CHECK(accepted("jws_sign_ES384", t));
        free(t);
        CHECK_INTEQ(jws_sign(k_rsa, "PS384", "rsa1", claims, &t), 0);
        CHECK(accepted("jws_sign_PS384", t));
        free(t);
        CHECK_INTEQ(jws_sign(k_ed, NULL, "ed", claims, &t), 0);
        CHECK(accepted("jws_sign_EdDSA", t));
        free(t);
        CHECK_INTEQ(jws_sign(k_rsa, "ES256", "rsa1", claims, &t), -EPERM);
        json_object_put(claims);
        free(text);
}

/* ---- attacks: header and signature -------------------------------------------------------------------- */

static char *unsigned_token(const char *header, const char *sig) {
        char *claims = expand(GOOD_CLAIMS), *h = b64(header, strlen(header)), *p = b64(claims, strlen(claims)), *t = NULL;

        if (asprintf(&t, "%s.%s.%s", h, p, sig) < 0)
                abort();
        free(claims);
        free(h);
        free(p);
        return t;
}

TEST(alg_none_refused) {
        const char *variants[] = { "none", "None", "NONE", "nOnE" };

        for (size_t i = 0; i < ELEMENTSOF(variants); i++) {
                char header[64], name[64], *t;

                snprintf(header, sizeof(header), "{\"alg\":\"%s\",\"kid\":\"rsa1\"}", variants[i]);
                /* With an empty signature, as RFC 7519 §6.1 writes it ... */
                t = unsigned_token(header, "");
                snprintf(name, sizeof(name), "alg_%s_empty_sig", variants[i]);
                CHECK(refused(name, t, -EBADMSG, "empty signature"));
                free(t);
                /* ... and with some bytes, so that the alg check itself is what refuses. */
                t = unsigned_token(header, "AAAA");
                snprintf(name, sizeof(name), "alg_%s", variants[i]);
                CHECK(refused(name, t, -EPERM, "unsigned"));
                free(t);
        }
}

TEST(hs256_with_rsa_public_key_refused) {
        /* The classic confusion: HMAC keyed with the verifier's RSA public key, as PEM and as DER. */
        BIO *bio = BIO_new(BIO_s_mem());
        char *pem, *claims = expand(GOOD_CLAIMS), *signing = NULL, *t = NULL;
        const char *header = "{\"alg\":\"HS256\",\"kid\":\"rsa1\"}";
        char *h = b64(header, strlen(header)), *p = b64(claims, strlen(claims)), *s;
        unsigned char mac[32];
        unsigned mac_len = 0;
        long pem_len;

        PEM_write_bio_PUBKEY(bio, k_rsa);
        pem_len = BIO_get_mem_data(bio, &pem);
        if (asprintf(&signing, "%s.%s", h, p) < 0)
                abort();
        CHECK(HMAC(EVP_sha256(), pem, (int) pem_len, (unsigned char *) signing, strlen(signing), mac, &mac_len) != NULL);
        s = b64(mac, mac_len);
        if (asprintf(&t, "%s.%s", signing, s) < 0)
                abort();
        CHECK(refused("hs256_keyed_with_rsa_pem", t, -EPERM, "HMAC"));
        free(t);
        free(s);
        /* hs512 and lower-case variants too */
        {
                char *t2 = unsigned_token("{\"alg\":\"hs512\",\"kid\":\"rsa1\"}", "AAAA");

                CHECK(refused("hs512_lowercase", t2, -EPERM, "HMAC"));
                free(t2);
        }
        BIO_free(bio);
        free(signing);
        free(claims);
        free(h);
        free(p);
}

TEST(embedded_jwk_ignored) {
        char *attacker_jwk = jwk_of(k_attacker, "rsa1", ""), *header = NULL, *t;

        /* Signed by the attacker, who puts their own key in the header under our kid. */
        if (asprintf(&header, "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"jwk\":%s}", attacker_jwk) < 0)
                abort();
        t = sign(k_attacker, "RS256", header, GOOD_CLAIMS);
        CHECK(refused("embedded_jwk_attacker_key", t, -EBADMSG, "does not verify"));
        free(t);
        free(header);
        /* Without a kid: still only our keys are tried. */
        if (asprintf(&header, "{\"alg\":\"RS256\",\"jwk\":%s}", attacker_jwk) < 0)
                abort();
        t = sign(k_attacker, "RS256", header, GOOD_CLAIMS);
        CHECK(refused("embedded_jwk_no_kid", t, -EBADMSG, "does not verify"));
        free(t);
        free(header);
        /* x5c with garbage is ignored as well: the result depends on our JWKS only. */
        t = sign(k_rsa, "RS256", "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"x5c\":[\"AAAA\"],\"x5u\":\"https://127.0.0.1/x\"}",
                 GOOD_CLAIMS);
        CHECK(accepted("x5c_x5u_ignored_with_our_key", t));
        free(t);
        free(attacker_jwk);
}

TEST(jku_to_loopback_ignored_and_never_fetched) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t sl = sizeof(sa);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        char header[256], *t;

        CHECK(fd >= 0);
        CHECK(bind(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0);
        CHECK(listen(fd, 8) == 0);
        CHECK(getsockname(fd, (struct sockaddr *) &sa, &sl) == 0);
        snprintf(header, sizeof(header), "{\"alg\":\"RS256\",\"kid\":\"attacker\",\"jku\":\"http://127.0.0.1:%u/jwks.json\"}",
                 ntohs(sa.sin_port));

        /* Signed by the attacker with a kid only the jku set would have: no key, nothing fetched. */
        t = sign(k_attacker, "RS256", header, GOOD_CLAIMS);
        CHECK(refused("jku_attacker_kid", t, -ENOKEY, "no key with kid"));
        free(t);
        /* The same header with our kid, signed by the attacker: our key decides. */
        snprintf(header, sizeof(header), "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"jku\":\"http://127.0.0.1:%u/jwks.json\"}",
                 ntohs(sa.sin_port));
        t = sign(k_attacker, "RS256", header, GOOD_CLAIMS);
        CHECK(refused("jku_our_kid_attacker_sig", t, -EBADMSG, "does not verify"));
        free(t);
        /* And signed by the real key the jku header changes nothing. */
        t = sign(k_rsa, "RS256", header, GOOD_CLAIMS);
        CHECK(accepted("jku_header_ignored", t));
        free(t);
        /* No connection ever reached the listener. */
        CHECK(accept(fd, NULL, NULL) < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
        close(fd);
}

TEST(kid_path_characters_refused) {
        const char *kids[] = { "../../../../dev/null", "rsa1/../rsa1", "/etc/passwd", "RSA1", "rsa1 ", "./rsa1" };

        for (size_t i = 0; i < ELEMENTSOF(kids); i++) {
                char header[128], name[64], *t;

                snprintf(header, sizeof(header), "{\"alg\":\"RS256\",\"kid\":\"%s\"}", kids[i]);
                t = sign(k_rsa, "RS256", header, GOOD_CLAIMS);
                snprintf(name, sizeof(name), "kid_%zu", i);
                CHECK(refused(name, t, -ENOKEY, "no key with kid"));
                free(t);
        }
        {
                /* "rsa1" followed by an escaped NUL must not compare equal to "rsa1". */
                char *t = sign(k_rsa, "RS256", "{\"alg\":\"RS256\",\"kid\":\"rsa1\\u0000\"}", GOOD_CLAIMS);

                CHECK(refused("kid_with_nul", t, -EBADMSG, "NUL"));
                free(t);
        }
        {
                char *t = sign(k_rsa, "RS256", "{\"alg\":\"RS256\",\"kid\":17}", GOOD_CLAIMS);

                CHECK(refused("kid_not_a_string", t, -EBADMSG, "kid"));
                free(t);
        }
}

TEST(signature_over_other_payload_refused) {
        char *a = sign(k_rsa, "RS256", "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", GOOD_CLAIMS);
        char *b = sign(k_rsa, "RS256", "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}",
                       "{\"iss\":\"" ISSUER "\",\"aud\":\"" CLIENT "\",\"sub\":\"root\",\"iat\":$T(0),\"exp\":$T(300)}");
        char *spliced = NULL;

        /* b's header and payload with a's signature. */
        if (asprintf(&spliced, "%.*s%s", (int) (strrchr(b, '.') - b), b, strrchr(a, '.')) < 0)
                abort();
        CHECK(accepted("splice_sources_valid_a", a));
        CHECK(accepted("splice_sources_valid_b", b));
        CHECK(refused("signature_over_other_payload", spliced, -EBADMSG, "does not verify"));
        free(a);
        free(b);
        free(spliced);
}

TEST(truncated_and_extended_signatures_refused) {
        EVP_PKEY *ks[] = { k_rsa, k_ec256, k_ed };
        const char *hs[] = { "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", "{\"alg\":\"ES256\",\"kid\":\"ec256\"}",
                             "{\"alg\":\"EdDSA\",\"kid\":\"ed\"}" };
        const char *algs[] = { "RS256", "ES256", "EdDSA" };

        for (size_t i = 0; i < ELEMENTSOF(ks); i++) {
                char *t = sign(ks[i], algs[i], hs[i], GOOD_CLAIMS), *x = NULL, *s, name[64];
                char *dot = strrchr(t, '.');
                uint8_t *sig = NULL;
                size_t n = 0;

                CHECK_INTEQ(base64url_decode(dot + 1, strlen(dot + 1), &sig, &n), 0);
                *dot = 0;
                /* One byte short, correctly encoded: only the length or the maths can refuse it. */
                s = b64(sig, n - 1);
                if (asprintf(&x, "%s.%s", t, s) < 0)
                        abort();
                snprintf(name, sizeof(name), "truncated_%s", algs[i]);
                CHECK(refused(name, x, -EBADMSG, "does not verify"));
                free(x);
                free(s);
                /* Half of it. */
                s = b64(sig, n / 2);
                if (asprintf(&x, "%s.%s", t, s) < 0)
                        abort();
                snprintf(name, sizeof(name), "half_%s", algs[i]);
                CHECK(refused(name, x, -EBADMSG, "does not verify"));
                free(x);
                free(s);
                /* Characters cut off at a place that leaves non-canonical bits. */
                s = b64(sig, n);
                s[strlen(s) - 4] = 0;
                if (asprintf(&x, "%s.%s", t, s) < 0)
                        abort();
                snprintf(name, sizeof(name), "cut_%s", algs[i]);
                CHECK(refused(name, x, -EBADMSG, NULL));
                free(x);
                free(s);
                /* Three zero bytes appended. */
                s = b64(sig, n);
                if (asprintf(&x, "%s.%sAAAA", t, s) < 0)
                        abort();
                snprintf(name, sizeof(name), "extended_%s", algs[i]);
                CHECK(refused(name, x, -EBADMSG, "does not verify"));
                free(x);
                free(s);
                free(sig);
                free(t);
        }
}

TEST(ecdsa_zero_signatures_refused) {
        /* CVE-2022-21449: r = 0 and/or s = 0 must never verify. */
        uint8_t rs[64] = {};
        const char *names[] = { "es256_r0_s0", "es256_r0_s1", "es256_r1_s0" };

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                char *s, *t;

                memset(rs, 0, sizeof(rs));
                if (i == 1)
                        rs[63] = 1;
                if (i == 2)
                        rs[31] = 1;
                s = b64(rs, sizeof(rs));
                t = unsigned_token("{\"alg\":\"ES256\",\"kid\":\"ec256\"}", s);
                CHECK(refused(names[i], t, -EBADMSG, "does not verify"));
                CHECK_INTEQ(jws_verify_raw("ES256", k_ec256, "x", 1, rs, sizeof(rs)), -EBADMSG);
                free(s);
                free(t);
        }
        /* r = s = n (the group order) is also out of range. */
        {
                static const uint8_t n[32] = {
                        0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                        0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
                };

                memcpy(rs, n, 32);
                memcpy(rs + 32, n, 32);
                CHECK_INTEQ(jws_verify_raw("ES256", k_ec256, "x", 1, rs, sizeof(rs)), -EBADMSG);
        }
}

TEST(wrong_key_type_or_curve_refused) {
        char *t;

        /* ES256 with the P-384 key's kid (signed by that key as ES384 would be over its curve). */
        t = sign(k_ec384, "ES384", "{\"alg\":\"ES256\",\"kid\":\"ec384\"}", GOOD_CLAIMS);
        CHECK(refused("es256_with_p384_key", t, -EPERM, "does not fit"));
        free(t);
        /* RS256 pointing at an EC key, ES256 pointing at an RSA key, EdDSA at RSA. */
        t = sign(k_rsa, "RS256", "{\"alg\":\"RS256\",\"kid\":\"ec256\"}", GOOD_CLAIMS);
        CHECK(refused("rs256_with_ec_kid", t, -EPERM, "does not fit"));
        free(t);
        t = sign(k_ec256, "ES256", "{\"alg\":\"ES256\",\"kid\":\"rsa1\"}", GOOD_CLAIMS);
        CHECK(refused("es256_with_rsa_kid", t, -EPERM, "does not fit"));
        free(t);
        t = sign(k_ed, "EdDSA", "{\"alg\":\"EdDSA\",\"kid\":\"rsa1\"}", GOOD_CLAIMS);
        CHECK(refused("eddsa_with_rsa_kid", t, -EPERM, "does not fit"));
        free(t);
        /* The key "bound" says alg RS256: a PS256 token for it is refused even though the signature is good. */
        t = sign(k_bound, "PS256", "{\"alg\":\"PS256\",\"kid\":\"bound\"}", GOOD_CLAIMS);
        CHECK(refused("jwk_alg_differs", t, -EPERM, "does not fit"));
        free(t);
        /* ES384 JWK declared alg ES256 for ec256: an ES384 token pointing at it does not fit. */
        t = sign(k_ec256, "ES256", "{\"alg\":\"ES384\",\"kid\":\"ec256\"}", GOOD_CLAIMS);
        CHECK(refused("es384_with_p256_key", t, -EPERM, "does not fit"));
        free(t);
}

/* Sign with OpenSSL directly (our own signer refuses keys under 2048 bits). */
static char *sign_openssl_rs256(EVP_PKEY *k, const char *header, const char *claims_tmpl) {
        char *claims = expand(claims_tmpl), *h = b64(header, strlen(header)), *p = b64(claims, strlen(claims));
        char *input = NULL, *t = NULL, *s;
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        uint8_t sig[1024];
        size_t n = sizeof(sig);

        if (asprintf(&input, "%s.%s", h, p) < 0 || EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k) != 1 ||
            EVP_DigestSign(ctx, sig, &n, (uint8_t *) input, strlen(input)) != 1)
                abort();
        s = b64(sig, n);
        if (asprintf(&t, "%s.%s", input, s) < 0)
                abort();
        EVP_MD_CTX_free(ctx);
        free(claims);
        free(h);
        free(p);
        free(input);
        free(s);
        return t;
}

TEST(rsa_1024_refused) {
        /* The JWKS's 1024-bit key was dropped at parse time, so its kid is unknown ... */
        char *t = sign_openssl_rs256(k_small, "{\"alg\":\"RS256\",\"kid\":\"small\"}", GOOD_CLAIMS);

        CHECK(refused("rsa1024_kid", t, -ENOKEY, "no key with kid"));
        free(t);
        /* ... the same token without kid finds no usable key ... */
        t = sign_openssl_rs256(k_small, "{\"alg\":\"RS256\"}", GOOD_CLAIMS);
        CHECK(refused("rsa1024_no_kid", t, -EBADMSG, "does not verify"));
        free(t);
        /* ... and the primitive refuses such a key outright, for verifying and for signing. */
        {
                uint8_t *sig = NULL;
                size_t n = 0;

                CHECK_INTEQ(jws_sign_raw("RS256", k_small, "x", 1, &sig, &n), -EPERM);
                CHECK_INTEQ(jws_verify_raw("RS256", k_small, "x", 1, (uint8_t[128]) {}, 128), -EPERM);
        }
}

TEST(header_refusals) {
        static const struct {
                const char *name, *header;
                int r;
                const char *reason;
        } cases[] = {
                { "crit", "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"crit\":[\"exp\"],\"exp\":1}", -EPERM, "crit" },
                { "crit_b64", "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"b64\":false,\"crit\":[\"b64\"]}", -EPERM, "crit" },
                { "no_alg", "{\"kid\":\"rsa1\"}", -EBADMSG, "alg" },
                { "alg_number", "{\"alg\":256,\"kid\":\"rsa1\"}", -EBADMSG, "alg" },
                { "alg_unknown", "{\"alg\":\"RS1\",\"kid\":\"rsa1\"}", -EPERM, "not supported" },
                { "alg_case", "{\"alg\":\"rs256\",\"kid\":\"rsa1\"}", -EPERM, "not supported" },
                { "alg_es256k", "{\"alg\":\"ES256K\",\"kid\":\"rsa1\"}", -EPERM, "not supported" },
                { "duplicate_alg", "{\"alg\":\"none\",\"kid\":\"rsa1\",\"alg\":\"RS256\"}", -EBADMSG, "twice" },
                { "header_array", "[\"RS256\"]", -EBADMSG, "not a JSON object" },
                { "header_not_json", "RS256", -EBADMSG, "not a JSON object" },
                { "typ_access_token", "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"typ\":\"at+jwt\"}", -EPERM, "typ" },
                { "typ_access_token_media", "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"typ\":\"application/AT+JWT\"}",
                  -EPERM, "typ" },
                { "typ_not_string", "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"typ\":1}", -EPERM, "typ" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                /* Signed correctly with the RSA key, so only the header can be the reason. */
                char *t = sign(k_rsa, "RS256", cases[i].header, GOOD_CLAIMS);

                CHECK(refused(cases[i].name, t, cases[i].r, cases[i].reason));
                free(t);
        }
}

TEST(alg_outside_configured_list_refused) {
        char *t = sign(k_rsa, "RS256", "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", GOOD_CLAIMS), *reason = NULL;
        char *only_es[] = { (char *) "ES256", NULL };
        char *with_hs[] = { (char *) "HS256", (char *) "none", NULL };

        CHECK_INTEQ(validate(t, only_es, &reason), -EPERM);
        CHECK(reason && strstr(reason, "allowed"));
        free(reason);
        free(t);
        /* Even a configuration naming HS256 or none cannot turn them on. */
        t = unsigned_token("{\"alg\":\"HS256\",\"kid\":\"rsa1\"}", "AAAA");
        CHECK_INTEQ(validate(t, with_hs, &reason), -EPERM);
        free(reason);
        free(t);
        t = unsigned_token("{\"alg\":\"none\"}", "AAAA");
        CHECK_INTEQ(validate(t, with_hs, &reason), -EPERM);
        free(reason);
        free(t);
}

/* ---- attacks: encoding and size ----------------------------------------------------------------------- */

/* A token whose signing input is exactly H.P as given (so the signature is valid over those bytes). */
static char *raw_token(EVP_PKEY *k, const char *alg, const char *h, const char *p) {
        char *input = NULL, *s, *t = NULL;
        uint8_t *sig = NULL;
        size_t n = 0;

        if (asprintf(&input, "%s.%s", h, p) < 0 || jws_sign_raw(alg, k, input, strlen(input), &sig, &n) < 0)
                abort();
        s = b64(sig, n);
        if (asprintf(&t, "%s.%s", input, s) < 0)
                abort();
        free(input);
        free(s);
        free(sig);
        return t;
}

TEST(base64url_padding_and_alphabet_refused) {
        const char *header = "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}";
        char *claims = expand(GOOD_CLAIMS), *h = b64(header, strlen(header)), *p = b64(claims, strlen(claims));
        char *hp = NULL, *pp = NULL, *t;
        size_t plen = strlen(p);

        /* Pad to a multiple of 4 with '=' and sign over the padded text: only strictness can refuse. */
        if (asprintf(&pp, "%s%s", p, plen % 4 == 2 ? "==" : plen % 4 == 3 ? "=" : "") < 0 ||
            asprintf(&hp, "%s%s", h, strlen(h) % 4 == 2 ? "==" : strlen(h) % 4 == 3 ? "=" : "") < 0)
                abort();
        if (strcmp(pp, p) != 0) {
                t = raw_token(k_rsa, "RS256", h, pp);
                CHECK(refused("padding_in_payload", t, -EBADMSG, "base64url"));
                free(t);
        }
        if (strcmp(hp, h) != 0) {
                t = raw_token(k_rsa, "RS256", hp, p);
                CHECK(refused("padding_in_header", t, -EBADMSG, "base64url"));
                free(t);
        }
        /* '+' and '/' of standard base64 in place of '-' and '_'. */
        {
                char *q = strdup(p);

                for (char *c = q; *c; c++)
                        if (*c == 'a')
                                *c = '+';
                t = raw_token(k_rsa, "RS256", h, q);
                CHECK(refused("standard_alphabet", t, -EBADMSG, "base64url"));
                free(t);
                free(q);
        }
        /* Padding on the signature. */
        {
                char *good = sign(k_rsa, "RS256", header, GOOD_CLAIMS), *x = NULL;

                if (asprintf(&x, "%s=", good) < 0)
                        abort();
                CHECK(refused("padding_in_signature", x, -EBADMSG, "base64url"));
                free(x);
                free(good);
        }
        free(claims);
        free(h);
        free(p);
        free(hp);
        free(pp);
}

TEST(structure_refused) {
        char *good = sign(k_rsa, "RS256", "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", GOOD_CLAIMS), *x = NULL;

        if (asprintf(&x, "%s.AAAA", good) < 0)
                abort();
        CHECK(refused("four_parts", x, -EBADMSG, "three parts"));
        free(x);
        if (asprintf(&x, "%s.AAAA.AAAA", good) < 0)
                abort();
        CHECK(refused("five_parts_jwe_like", x, -EBADMSG, "three parts"));
        free(x);
        CHECK(refused("two_parts", "eyJhbGciOiJSUzI1NiJ9.e30", -EBADMSG, "three parts"));
        CHECK(refused("empty", "", -EBADMSG, NULL));
        CHECK(refused("json_serialisation", "{\"payload\":\"e30\",\"signatures\":[]}", -EBADMSG, "three parts"));
        /* Leading/trailing whitespace is not part of a compact JWS. */
        if (asprintf(&x, " %s", good) < 0)
                abort();
        CHECK(refused("leading_space", x, -EBADMSG, "base64url"));
        free(x);
        free(good);
}

TEST(huge_token_refused) {
        size_t n = 1024 * 1024;
        char *t = malloc(n + 1);
        char *good = sign(k_rsa, "RS256", "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", GOOD_CLAIMS);

        /* A 1 MiB token made of a valid one padded inside the payload's claims would be too large anyway. */
        memset(t, 'A', n);
        memcpy(t, good, strlen(good));
        t[n] = 0;
        CHECK(refused("one_mebibyte", t, -E2BIG, "larger than"));
        /* Just over the 16 KiB cap, validly signed. */
        {
                char *big = malloc(20000), *tok;

                snprintf(big, 20000, "{\"iss\":\"" ISSUER "\",\"aud\":\"" CLIENT "\",\"sub\":\"a\",\"iat\":$T(0),"
                         "\"exp\":$T(60),\"pad\":\"%0*d\"}", 13000, 0);
                tok = sign(k_rsa, "RS256", "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", big);
                CHECK(strlen(tok) > JWS_MAX_SIZE);
                CHECK(refused("over_16k", tok, -E2BIG, "larger than"));
                free(tok);
                free(big);
        }
        free(t);
        free(good);
}

TEST(deep_json_refused) {
        char claims[2048], header[1024], *t;
        size_t o = 0;

        o += (size_t) snprintf(claims + o, sizeof(claims) - o, "{\"iss\":\"" ISSUER "\",\"aud\":\"" CLIENT
                               "\",\"sub\":\"a\",\"iat\":$T(0),\"exp\":$T(60),\"deep\":");
        for (int i = 0; i < 200; i++)
                claims[o++] = '[';
        for (int i = 0; i < 200; i++)
                claims[o++] = ']';
        snprintf(claims + o, sizeof(claims) - o, "}");
        t = sign(k_rsa, "RS256", "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", claims);
        CHECK(refused("deep_payload", t, -E2BIG, "too deep"));
        free(t);

        o = (size_t) snprintf(header, sizeof(header), "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"x\":");
        for (int i = 0; i < 100; i++)
                header[o++] = '{', header[o++] = '"', header[o++] = 'a', header[o++] = '"', header[o++] = ':';
        header[o++] = '1';
        for (int i = 0; i < 101; i++)
                header[o++] = '}';
        header[o] = 0;
        t = sign(k_rsa, "RS256", header, GOOD_CLAIMS);
        CHECK(refused("deep_header", t, -E2BIG, "too deep"));
        free(t);
}

TEST(duplicate_members_refused) {
        char *t = sign(k_rsa, "RS256", "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}",
                       "{\"iss\":\"" ISSUER "\",\"aud\":\"" CLIENT "\",\"sub\":\"alice\",\"iat\":$T(0),\"exp\":$T(60),"
                       "\"sub\":\"root\"}");

        CHECK(refused("duplicate_sub", t, -EBADMSG, "twice"));
        free(t);
        t = sign(k_rsa, "RS256", "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}",
                 "{\"iss\":\"" ISSUER "\",\"aud\":\"" CLIENT "\",\"sub\":\"alice\",\"iat\":$T(0),\"exp\":$T(60),"
                 "\"\\u0073ub\":\"root\"}");
        CHECK(refused("duplicate_sub_escaped", t, -EBADMSG, "twice"));
        free(t);
        t = sign(k_rsa, "RS256", "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}",
                 "{\"iss\":\"" ISSUER "\",\"aud\":\"" CLIENT "\",\"sub\":\"alice\",\"iat\":$T(0),\"exp\":$T(60),"
                 "\"aud\":\"" CLIENT "\"}");
        CHECK(refused("duplicate_aud_same_value", t, -EBADMSG, "twice"));
        free(t);
        t = sign(k_rsa, "RS256", "{\"kid\":\"other\",\"alg\":\"RS256\",\"kid\":\"rsa1\"}", GOOD_CLAIMS);
        CHECK(refused("duplicate_kid_in_header", t, -EBADMSG, "twice"));
        free(t);
}

/* ---- attacks: claims ---------------------------------------------------------------------------------- */

TEST(claim_refusals) {
        static const struct {
                const char *name, *claims, *reason;
        } cases[] = {
                { "iss_trailing_slash", "{\"iss\":\"" ISSUER "/\",\"aud\":\"" CLIENT "\",\"sub\":\"a\",\"iat\":$T(0),\"exp\":$T(60)}", "iss" },
                { "iss_case", "{\"iss\":\"https://IDP.example.com/realms/corp\",\"aud\":\"" CLIENT "\",\"sub\":\"a\",\"iat\":$T(0),\"exp\":$T(60)}", "iss" },
                { "iss_prefix", "{\"iss\":\"https://idp.example.com/realms/cor\",\"aud\":\"" CLIENT "\",\"sub\":\"a\",\"iat\":$T(0),\"exp\":$T(60)}", "iss" },
                { "iss_missing", "{\"aud\":\"" CLIENT "\",\"sub\":\"a\",\"iat\":$T(0),\"exp\":$T(60)}", "iss" },
                { "iss_array", "{\"iss\":[\"" ISSUER "\"],\"aud\":\"" CLIENT "\",\"sub\":\"a\",\"iat\":$T(0),\"exp\":$T(60)}", "iss" },
                { "aud_other", "{\"iss\":\"" ISSUER "\",\"aud\":\"other\",\"sub\":\"a\",\"iat\":$T(0),\"exp\":$T(60)}", "aud" },
                { "aud_prefix", "{\"iss\":\"" ISSUER "\",\"aud\":\"ssh-login-2\",\"sub\":\"a\",\"iat\":$T(0),\"exp\":$T(60)}", "aud" },
                { "aud_array_without_us", "{\"iss\":\"" ISSUER "\",\"aud\":[\"a\",\"b\"],\"azp\":\"" CLIENT "\",\"sub\":\"a\",\"iat\":$T(0),\"exp\":$T(60)}", "aud" },
                { "aud_empty_array", "{\"iss\":\"" ISSUER "\",\"aud\":[],\"sub\":\"a\",\"iat\":$T(0),\"exp\":$T(60)}", "aud" },
                { "aud_missing", "{\"iss\":\"" ISSUER "\",\"sub\":\"a\",\"iat\":$T(0),\"exp\":$T(60)}", "aud" },
                { "aud_number_in_array", "{\"iss\":\"" ISSUER "\",\"aud\":[\"" CLIENT "\",5],\"azp\":\"" CLIENT "\",\"sub\":\"a\",\"iat\":$T(0),\"exp\":$T(60)}", "aud" },
                { "several_aud_no_azp", "{\"iss\":\"" ISSUER "\",\"aud\":[\"" CLIENT "\",\"other\"],\"sub\":\"a\",\"iat\":$T(0),\"exp\":$T(60)}", "azp" },
                { "azp_mismatch", "{\"iss\":\"" ISSUER "\",\"aud\":\"" CLIENT "\",\"azp\":\"other\",\"sub\":\"a\",\"iat\":$T(0),\"exp\":$T(60)}", "azp" },
                { "azp_mismatch_several_aud", "{\"iss\":\"" ISSUER "\",\"aud\":[\"" CLIENT "\",\"other\"],\"azp\":\"other\",\"sub\":\"a\",\"iat\":$T(0),\"exp\":$T(60)}", "azp" },
                { "azp_not_string", "{\"iss\":\"" ISSUER "\",\"aud\":\"" CLIENT "\",\"azp\":null,\"sub\":\"a\",\"iat\":$T(0),\"exp\":$T(60)}", "azp" },
                { "expired", "{\"iss\":\"" ISSUER "\",\"aud\":\"" CLIENT "\",\"sub\":\"a\",\"iat\":$T(-4000),\"exp\":$T(-3600)}", "expired" },
                { "expired_beyond_skew", "{\"iss\":\"" ISSUER "\",\"aud\":\"" CLIENT "\",\"sub\":\"a\",\"iat\":$T(-100),\"exp\":$T(-61)}", "expired" },
                { "exp_missing", "{\"iss\":\"" ISSUER "\",\"aud\":\"" CLIENT "\",\"sub\":\"a\",\"iat\":$T(0)}", "exp" },
                { "exp_string", "{\"iss\":\"" ISSUER "\",\"aud\":\"" CLIENT "\",\"sub\":\"a\",\"iat\":$T(0),\"exp\":\"9999999999\"}", "exp" },
                { "exp_negative", "{\"iss\":\"" ISSUER "\",\"aud\":\"" CLIENT "\",\"sub\":\"a\",\"iat\":$T(0),\"exp\":-1}", "exp" },
                { "exp_huge", "{\"iss\":\"" ISSUER "\",\"aud\":\"" CLIENT "\",\"sub\":\"a\",\"iat\":$T(0),\"exp\":1e300}", "exp" },
                { "iat_hour_ahead", "{\"iss\":\"" ISSUER "\",\"aud\":\"" CLIENT "\",\"sub\":\"a\",\"iat\":$T(3600),\"exp\":$T(7200)}", "iat in the future" },
                { "iat_too_old", "{\"iss\":\"" ISSUER "\",\"aud\":\"" CLIENT "\",\"sub\":\"a\",\"iat\":$T(-7200),\"exp\":$T(300)}", "iat too old" },
                { "iat_missing", "{\"iss\":\"" ISSUER "\",\"aud\":\"" CLIENT "\",\"sub\":\"a\",\"exp\":$T(300)}", "iat" },
                { "iat_string", "{\"iss\":\"" ISSUER "\",\"aud\":\"" CLIENT "\",\"sub\":\"a\",\"iat\":\"0\",\"exp\":$T(300)}", "iat" },
                { "nbf_future", "{\"iss\":\"" ISSUER "\",\"aud\":\"" CLIENT "\",\"sub\":\"a\",\"iat\":$T(0),\"exp\":$T(300),\"nbf\":$T(3600)}", "nbf" },
                { "nbf_string", "{\"iss\":\"" ISSUER "\",\"aud\":\"" CLIENT "\",\"sub\":\"a\",\"iat\":$T(0),\"exp\":$T(300),\"nbf\":\"1\"}", "nbf" },
                { "sub_missing", "{\"iss\":\"" ISSUER "\",\"aud\":\"" CLIENT "\",\"iat\":$T(0),\"exp\":$T(60)}", "sub" },
                { "sub_empty", "{\"iss\":\"" ISSUER "\",\"aud\":\"" CLIENT "\",\"sub\":\"\",\"iat\":$T(0),\"exp\":$T(60)}", "sub" },
                { "sub_number", "{\"iss\":\"" ISSUER "\",\"aud\":\"" CLIENT "\",\"sub\":42,\"iat\":$T(0),\"exp\":$T(60)}", "sub" },
                { "sub_nul", "{\"iss\":\"" ISSUER "\",\"aud\":\"" CLIENT "\",\"sub\":\"alice\\u0000x\",\"iat\":$T(0),\"exp\":$T(60)}", "NUL" },
                { "iss_nul_suffix", "{\"iss\":\"" ISSUER "\\u0000evil\",\"aud\":\"" CLIENT "\",\"sub\":\"a\",\"iat\":$T(0),\"exp\":$T(60)}", "NUL" },
                { "aud_nul_suffix", "{\"iss\":\"" ISSUER "\",\"aud\":\"" CLIENT "\\u0000\",\"sub\":\"a\",\"iat\":$T(0),\"exp\":$T(60)}", "NUL" },
                { "payload_array", "[\"" ISSUER "\"]", "not a JSON object" },
                { "payload_not_json", "hello", "not a JSON object" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char *t = sign(k_rsa, "RS256", "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", cases[i].claims);

                CHECK(refused(cases[i].name, t, 0, cases[i].reason));
                free(t);
        }
}

TEST(api_edges) {
        char *reason = NULL, *t = sign(k_rsa, "RS256", "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", GOOD_CLAIMS);
        IdTokenCheck c = { .issuer = ISSUER, .client_id = CLIENT, .now_usec = (uint64_t) now_sec * 1000000,
                           .clock_skew_usec = 60000000, .max_iat_age_usec = 600000000 };
        json_object *claims = NULL;

        /* No JWKS yet: -ENOKEY, so the daemon fetches it. */
        CHECK_INTEQ(idtoken_validate(t, NULL, &c, &claims, &reason), -ENOKEY);
        free(reason);
        reason = NULL;
        CHECK_INTEQ(idtoken_validate(NULL, keys, &c, &claims, &reason), -EBADMSG);
        free(reason);
        reason = NULL;
        c.issuer = NULL;
        CHECK_INTEQ(idtoken_validate(t, keys, &c, &claims, &reason), -EINVAL);
        free(reason);
        reason = NULL;
        c.issuer = ISSUER;
        /* A NULL ret_reason is fine. */
        CHECK_INTEQ(idtoken_validate(t, keys, &c, NULL, NULL), 0);
        t[strlen(t) - 3] ^= 1;
        CHECK(idtoken_validate(t, keys, &c, NULL, NULL) < 0);
        CHECK(claims == NULL);
        free(t);
}

int main(void) {
        return run_tests();
}
