/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A tiny harness shared by the unit tests. Each TEST() prints "PASS: file:name" or
 * "FAIL: file:name" (tests/run-tests.sh counts those lines); a failed CHECK prints where and why.
 *
 *   TEST(parses_interval) { CHECK(x == 5); CHECK_STREQ(s, "abc"); }
 *   int main(void) { return run_tests(); }
 */

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct TestCase {
        const char *name;
        void (*fn)(void);
} TestCase;

#define TEST_MAX 2048
static TestCase test_cases_[TEST_MAX];
static unsigned test_n_;
static bool test_failed_;
static unsigned test_checks_;

#define TEST(name)                                                                      \
        static void test_##name(void);                                                  \
        __attribute__((constructor)) static void test_register_##name(void) {           \
                if (test_n_ < TEST_MAX)                                                 \
                        test_cases_[test_n_++] = (TestCase) { #name, test_##name };     \
        }                                                                               \
        static void test_##name(void)

#define CHECK(cond)                                                                     \
        do {                                                                            \
                test_checks_++;                                                         \
                if (!(cond)) {                                                          \
                        fprintf(stderr, "  %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
                        test_failed_ = true;                                            \
                }                                                                       \
        } while (0)

#define CHECK_STREQ(a, b)                                                               \
        do {                                                                            \
                const char *_a = (a), *_b = (b);                                        \
                test_checks_++;                                                         \
                if (!_a || !_b || strcmp(_a, _b) != 0) {                                \
                        fprintf(stderr, "  %s:%d: '%s' != '%s' (%s vs %s)\n", __FILE__, __LINE__, \
                                _a ? _a : "(null)", _b ? _b : "(null)", #a, #b);        \
                        test_failed_ = true;                                            \
                }                                                                       \
        } while (0)

#define CHECK_INTEQ(a, b)                                                               \
        do {                                                                            \
                long long _a = (long long) (a), _b = (long long) (b);                   \
                test_checks_++;                                                         \
                if (_a != _b) {                                                         \
                        fprintf(stderr, "  %s:%d: %lld != %lld (%s vs %s)\n", __FILE__, __LINE__, \
                                _a, _b, #a, #b);                                        \
                        test_failed_ = true;                                            \
                }                                                                       \
        } while (0)

/* Report one sub-case of a table-driven test as its own line. */
static inline void test_report(const char *group, const char *name, bool ok) {
        printf("%s: %s:%s\n", ok ? "PASS" : "FAIL", group, name);
}

/* TEST_CASE=NAME in the environment runs only the cases whose name contains NAME (one alone, by its full
 * name): `TEST_CASE=outcome_errors build/asan/test-conv`, or through the runner,
 * `TESTS=unit/conv TEST_CASE=outcome_errors bash tests/run-tests.sh`. A NAME that matches nothing fails. */
static inline int run_tests_named(const char *file) {
        unsigned failed = 0, ran = 0;
        const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
        const char *only = getenv("TEST_CASE");

        if (only && !*only)
                only = NULL;
        for (unsigned i = 0; i < test_n_; i++) {
                if (only && !strstr(test_cases_[i].name, only))
                        continue;
                ran++;
                test_failed_ = false;
                test_checks_ = 0;
                test_cases_[i].fn();
                if (test_checks_ == 0) {
                        fprintf(stderr, "  %s: asserted nothing\n", test_cases_[i].name);
                        test_failed_ = true;
                }
                printf("%s: %s:%s\n", test_failed_ ? "FAIL" : "PASS", base, test_cases_[i].name);
                fflush(stdout);
                if (test_failed_)
                        failed++;
        }
        if (only && ran == 0) {
                printf("FAIL: %s: no test case matches TEST_CASE='%s'\n", base, only);
                return 1;
        }
        return failed ? 1 : 0;
}

#define run_tests() run_tests_named(__FILE__)
