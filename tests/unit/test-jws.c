/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* JWS: base64url strictness, duplicate member names, the RFC 7515 appendix A.2/A.3 and RFC 8037 A.4
 * vectors, signing round trips for every algorithm, PEM loading and the RFC 7523 client assertion. */

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

#include "base64url.h"
#include "json-util.h"
#include "jwks.h"
#include "jws.h"
#include "test.h"

/* RFC 7515 A.2 (RS256) and A.3 (ES256) public keys, RFC 8037 A.2 (Ed25519). */
#define RFC7515_RSA_N                                                                                   \
        "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-" \
        "SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-" \
        "UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethF" \
        "kMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ"
#define RFC7515_JWKS                                                                                    \
        "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"rsa\",\"n\":\"" RFC7515_RSA_N "\",\"e\":\"AQAB\"},"              \
        "{\"kty\":\"EC\",\"kid\":\"ec\",\"crv\":\"P-256\",\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","  \
        "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"},"                                          \
        "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}]}"

#define RFC7515_PAYLOAD "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
static const char rfc7515_a2[] =
        "eyJhbGciOiJSUzI1NiJ9." RFC7515_PAYLOAD "."
        "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9C"
        "UAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn"
        "6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrB"
        "p0igcN_IoypGlUPQGe77Rw";
static const char rfc7515_a3[] =
        "eyJhbGciOiJFUzI1NiJ9." RFC7515_PAYLOAD "."
        "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
static const char rfc8037_a4[] =
        "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc."
        "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

static Jwks *rfc_keys(void) {
        Jwks *j = NULL;

        if (jwks_parse(RFC7515_JWKS, strlen(RFC7515_JWKS), &j) < 0)
                return NULL;
        return j;
}

static int decode_str(const char *s, char **ret) {
        uint8_t *b = NULL;
        size_t n;
        int r = base64url_decode(s, strlen(s), &b, &n);

        if (r >= 0)
                *ret = (char *) b;
        return r;
}

TEST(base64url_strict) {
        char *s = NULL, *e = NULL;
        uint8_t *b = NULL;
        size_t n = 0;

        CHECK_INTEQ(decode_str("Zm9v", &s), 0);
        CHECK_STREQ(s, "foo");
        free(s);
        s = NULL;
        CHECK_INTEQ(decode_str("Zm8", &s), 0);
        CHECK_STREQ(s, "fo");
        free(s);
        s = NULL;
        CHECK_INTEQ(decode_str("", &s), 0);
        CHECK_STREQ(s, "");
        free(s);
        s = NULL;
        CHECK_INTEQ(decode_str("Zm8=", &s), -EBADMSG);          /* padding */
        CHECK_INTEQ(decode_str("Zm9v+A", &s), -EBADMSG);        /* '+' is standard base64 */
        CHECK_INTEQ(decode_str("Zm9v/A", &s), -EBADMSG);
        CHECK_INTEQ(decode_str("Zm 9v", &s), -EBADMSG);         /* whitespace */
        CHECK_INTEQ(decode_str("Zm9vY", &s), -EBADMSG);         /* 4k+1 characters */
        CHECK_INTEQ(decode_str("Zm9", &s), -EBADMSG);           /* non-canonical: low bits set ("Zm8" is "fo") */
        CHECK_INTEQ(decode_str("Zh", &s), -EBADMSG);            /* "Zg" is "f" */
        CHECK(s == NULL);
        CHECK_INTEQ(base64url_decode("Zm9v\0Zm9v", 9, &b, &n), -EBADMSG); /* NUL inside */

        /* Round trip over every length and byte value. */
        for (size_t len = 0; len < 70; len++) {
                uint8_t in[70];

                for (size_t i = 0; i < len; i++)
                        in[i] = (uint8_t) (i * 37 + len * 11);
                CHECK_INTEQ(base64url_encode(in, len, &e), 0);
                CHECK(strspn(e, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == strlen(e));
                CHECK_INTEQ(base64url_decode(e, strlen(e), &b, &n), 0);
                CHECK_INTEQ(n, len);
                CHECK(memcmp(b, in, len) == 0);
                free(e);
                free(b);
        }
}

static void check_rfc_token(const char *token, const char *expect_iss) {
        Jwks *keys = rfc_keys();
        json_object *payload = NULL;
        char *reason = NULL;

        CHECK(keys != NULL);
        CHECK_INTEQ(jws_verify(token, strlen(token), keys, NULL, &payload, &reason), 0);
        CHECK_STREQ(json_get_string(payload, "iss"), expect_iss);
        CHECK(reason == NULL);
        json_object_put(payload);
        jwks_free(keys);
}

TEST(rfc7515_a2_rs256) {
        check_rfc_token(rfc7515_a2, "joe");
}

TEST(rfc7515_a3_es256) {
        check_rfc_token(rfc7515_a3, "joe");
}

TEST(rfc8037_a4_ed25519) {
        Jwks *keys = rfc_keys();
        uint8_t *payload = NULL;
        size_t size = 0;

        CHECK_INTEQ(jws_verify_bytes(rfc8037_a4, strlen(rfc8037_a4), keys, NULL, &payload, &size, NULL), 0);
        CHECK_INTEQ(size, strlen("Example of Ed25519 signing"));
        CHECK_STREQ((char *) payload, "Example of Ed25519 signing");
        free(payload);
        /* The payload is not JSON: jws_verify refuses it. */
        CHECK_INTEQ(jws_verify(rfc8037_a4, strlen(rfc8037_a4), keys, NULL, NULL, NULL), -EBADMSG);
        jwks_free(keys);
}

TEST(rfc_vectors_tampered) {
        Jwks *keys = rfc_keys();
        const char *tokens[] = { rfc7515_a2, rfc7515_a3, rfc8037_a4 };

        for (size_t t = 0; t < ELEMENTSOF(tokens); t++) {
                size_t len = strlen(tokens[t]);
                char *copy = strdup(tokens[t]);
                const char *sig = strrchr(tokens[t], '.') + 1;
                size_t pos;

                /* Flip a character in the middle of the payload and of the signature. */
                pos = (size_t) (strchr(tokens[t], '.') - tokens[t]) + 3;
                copy[pos] = copy[pos] == 'A' ? 'B' : 'A';
                CHECK(jws_verify_bytes(copy, len, keys, NULL, NULL, NULL, NULL) < 0);
                strcpy(copy, tokens[t]);
                pos = (size_t) (sig - tokens[t]) + 5;
                copy[pos] = copy[pos] == 'A' ? 'B' : 'A';
                CHECK(jws_verify_bytes(copy, len, keys, NULL, NULL, NULL, NULL) < 0);
                /* Allowed list without the algorithm. */
                {
                        char *only[] = { (char *) "PS512", NULL };
                        char *reason = NULL;

                        CHECK_INTEQ(jws_verify_bytes(tokens[t], len, keys, only, NULL, NULL, &reason), -EPERM);
                        CHECK(reason && strstr(reason, "not in the allowed list"));
                        free(reason);
                }
                free(copy);
        }
        jwks_free(keys);
}

static EVP_PKEY *gen(const char *type, const char *param) {
        if (streq(type, "RSA"))
                return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) atoi(param));
        if (streq(type, "EC"))
                return EVP_PKEY_Q_keygen(NULL, NULL, "EC", param);
        return EVP_PKEY_Q_keygen(NULL, NULL, type);
}

TEST(sign_verify_all_algs) {
        static const struct {
                const char *type, *param, *alg;
        } cases[] = {
                { "RSA", "2048", "RS256" }, { "RSA", "2048", "RS384" }, { "RSA", "2048", "RS512" },
                { "RSA", "2048", "PS256" }, { "RSA", "2048", "PS384" }, { "RSA", "2048", "PS512" },
                { "EC", "P-256", "ES256" }, { "EC", "P-384", "ES384" }, { "EC", "P-521", "ES512" },
                { "ED25519", NULL, "EdDSA" },
        };
        EVP_PKEY *rsa = gen("RSA", "2048");

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                EVP_PKEY *key = streq(cases[i].type, "RSA") ? rsa : gen(cases[i].type, cases[i].param);
                uint8_t *sig = NULL;
                size_t sig_size = 0;
                const char *data = "header.payload";

                CHECK(key != NULL);
                CHECK_INTEQ(jws_sign_raw(cases[i].alg, key, data, strlen(data), &sig, &sig_size), 0);
                CHECK_INTEQ(jws_verify_raw(cases[i].alg, key, data, strlen(data), sig, sig_size), 0);
                CHECK_INTEQ(jws_verify_raw(cases[i].alg, key, "header.payloaD", strlen(data), sig, sig_size), -EBADMSG);
                sig[sig_size / 2] ^= 0x01;
                CHECK_INTEQ(jws_verify_raw(cases[i].alg, key, data, strlen(data), sig, sig_size), -EBADMSG);
                CHECK_INTEQ(jws_verify_raw(cases[i].alg, key, data, strlen(data), sig, sig_size - 1), -EBADMSG);
                /* The wrong family of algorithm for this key. */
                CHECK_INTEQ(jws_verify_raw(streq(cases[i].type, "RSA") ? "ES256" : "RS256", key, data, strlen(data),
                                           sig, sig_size), -EPERM);
                if (cases[i].param && streq(cases[i].type, "EC")) {
                        const char *other = streq(cases[i].alg, "ES256") ? "ES384" : "ES256";

                        CHECK_INTEQ(jws_verify_raw(other, key, data, strlen(data), sig, sig_size), -EPERM);
                }
                CHECK_INTEQ(jws_verify_raw("HS256", key, data, strlen(data), sig, sig_size), -EINVAL);
                CHECK_INTEQ(jws_verify_raw("none", key, data, strlen(data), sig, sig_size), -EINVAL);
                free(sig);
                if (key != rsa)
                        EVP_PKEY_free(key);
        }
        EVP_PKEY_free(rsa);
}

TEST(pss_and_pkcs1_not_interchangeable) {
        EVP_PKEY *key = gen("RSA", "2048");
        uint8_t *sig = NULL;
        size_t n = 0;

        CHECK_INTEQ(jws_sign_raw("PS256", key, "x", 1, &sig, &n), 0);
        CHECK_INTEQ(jws_verify_raw("RS256", key, "x", 1, sig, n), -EBADMSG);
        CHECK_INTEQ(jws_verify_raw("PS384", key, "x", 1, sig, n), -EBADMSG);
        free(sig);
        CHECK_INTEQ(jws_sign_raw("RS256", key, "x", 1, &sig, &n), 0);
        CHECK_INTEQ(jws_verify_raw("PS256", key, "x", 1, sig, n), -EBADMSG);
        free(sig);
        EVP_PKEY_free(key);
}

TEST(rsa_1024_refused_for_signing_and_verifying) {
        EVP_PKEY *key = gen("RSA", "1024");
        uint8_t sig[128] = { 1 };
        uint8_t *s = NULL;
        size_t n;

        CHECK(key != NULL);
        CHECK_INTEQ(jws_verify_raw("RS256", key, "x", 1, sig, sizeof(sig)), -EPERM);
        CHECK_INTEQ(jws_sign_raw("RS256", key, "x", 1, &s, &n), -EPERM);
        EVP_PKEY_free(key);
}

static char *to_pem(EVP_PKEY *key) {
        BIO *b = BIO_new(BIO_s_mem());
        char *data, *out;
        long n;

        PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL);
        n = BIO_get_mem_data(b, &data);
        out = strndup(data, (size_t) n);
        BIO_free(b);
        return out;
}

TEST(load_pem_and_client_assertion) {
        static const char *types[][2] = { { "RSA", "2048" }, { "EC", "P-256" }, { "EC", "P-384" }, { "EC", "P-521" } };
        static const char *algs[] = { "RS256", "ES256", "ES384", "ES512" };

        for (size_t i = 0; i < ELEMENTSOF(types); i++) {
                EVP_PKEY *key = gen(types[i][0], types[i][1]), *loaded = NULL;
                char *pem = to_pem(key), *assertion = NULL, *assertion2 = NULL, *h = NULL, *reason = NULL;
                json_object *claims = NULL, *header = NULL;
                uint64_t now = UINT64_C(1700000000) * 1000000 + 123456;
                uint64_t iat = 0, exp = 0;

                CHECK_INTEQ(jws_load_private_key_pem(pem, strlen(pem), &loaded), 0);
                CHECK_STREQ(jwa_default_alg(jwa_kind_of_pkey(loaded))->name, algs[i]);
                CHECK_INTEQ(jws_client_assertion(loaded, "ssh-login", "https://idp.example/token", now, &assertion), 0);
                CHECK_INTEQ(jws_client_assertion(loaded, "ssh-login", "https://idp.example/token", now, &assertion2), 0);

                /* Verifiable with the public half, through a JWKS built from it. */
                {
                        Jwks *j = NULL;
                        char jwks[4096];
                        BIGNUM *n = NULL, *e = NULL;

                        if (streq(types[i][0], "RSA")) {
                                uint8_t nb[512], eb[8];
                                char *n64 = NULL, *e64 = NULL;
                                int nl, el;

                                EVP_PKEY_get_bn_param(loaded, "n", &n);
                                EVP_PKEY_get_bn_param(loaded, "e", &e);
                                nl = BN_bn2bin(n, nb);
                                el = BN_bn2bin(e, eb);
                                base64url_encode(nb, (size_t) nl, &n64);
                                base64url_encode(eb, (size_t) el, &e64);
                                snprintf(jwks, sizeof(jwks), "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"}]}", n64, e64);
                                free(n64);
                                free(e64);
                        } else {
                                uint8_t pt[200];
                                size_t pl = 0, c;
                                char *x64 = NULL, *y64 = NULL;

                                EVP_PKEY_get_octet_string_param(loaded, "encoded-pub-key", pt, sizeof(pt), &pl);
                                c = (pl - 1) / 2;
                                base64url_encode(pt + 1, c, &x64);
                                base64url_encode(pt + 1 + c, c, &y64);
                                snprintf(jwks, sizeof(jwks), "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"%s\",\"x\":\"%s\",\"y\":\"%s\"}]}",
                                         types[i][1], x64, y64);
                                free(x64);
                                free(y64);
                        }
                        BN_free(n);
                        BN_free(e);
                        CHECK_INTEQ(jwks_parse(jwks, strlen(jwks), &j), 0);
                        CHECK_INTEQ(jws_verify(assertion, strlen(assertion), j, NULL, &claims, &reason), 0);
                        jwks_free(j);
                }
                CHECK_STREQ(json_get_string(claims, "iss"), "ssh-login");
                CHECK_STREQ(json_get_string(claims, "sub"), "ssh-login");
                CHECK_STREQ(json_get_string(claims, "aud"), "https://idp.example/token");
                CHECK(json_get_string(claims, "jti") && strlen(json_get_string(claims, "jti")) >= 32);
                CHECK_INTEQ(json_get_uint64(claims, "iat", &iat), 0);
                CHECK_INTEQ(json_get_uint64(claims, "exp", &exp), 0);
                CHECK_INTEQ(iat, 1700000000);
                CHECK(exp > iat && exp - iat <= 60);
                /* A fresh jti each time. */
                CHECK(strcmp(assertion, assertion2) != 0);
                /* The header names the algorithm. */
                *strchr(assertion, '.') = 0;
                CHECK_INTEQ(decode_str(assertion, &h), 0);
                CHECK_INTEQ(json_parse_strict(h, strlen(h), &header), 0);
                CHECK_STREQ(json_get_string(header, "alg"), algs[i]);

                json_object_put(header);
                json_object_put(claims);
                free(h);
                free(reason);
                free(assertion);
                free(assertion2);
                free(pem);
                EVP_PKEY_free(key);
                EVP_PKEY_free(loaded);
        }
}

TEST(load_pem_refusals) {
        EVP_PKEY *small = gen("RSA", "1024"), *x25519 = gen("X25519", NULL), *out = NULL;
        char *p1 = to_pem(small), *p2 = to_pem(x25519);
        const char *garbage = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";

        CHECK_INTEQ(jws_load_private_key_pem(p1, strlen(p1), &out), -EPERM);
        CHECK_INTEQ(jws_load_private_key_pem(p2, strlen(p2), &out), -EOPNOTSUPP);
        CHECK_INTEQ(jws_load_private_key_pem(garbage, strlen(garbage), &out), -EBADMSG);
        CHECK(out == NULL);
        free(p1);
        free(p2);
        EVP_PKEY_free(small);
        EVP_PKEY_free(x25519);
}

int main(void) {
        return run_tests();
}
