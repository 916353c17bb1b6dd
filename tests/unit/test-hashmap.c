/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>

#include "hashmap.h"
#include "macro.h"
#include "test.h"

/* The reference vectors of the SipHash paper (appendix A) and its vectors.h: key 00 01 … 0f, message
 * 00 01 … (len-1 bytes). */
TEST(siphash24_reference_vectors) {
        uint8_t key[16], msg[64];

        for (unsigned i = 0; i < sizeof key; i++)
                key[i] = i;
        for (unsigned i = 0; i < sizeof msg; i++)
                msg[i] = i;
        CHECK(siphash24(msg, 0, key) == UINT64_C(0x726fdb47dd0e0e31));
        CHECK(siphash24(msg, 1, key) == UINT64_C(0x74f839c593dc67fd));
        CHECK(siphash24(msg, 8, key) == UINT64_C(0x93f5f5799a932462));
        CHECK(siphash24(msg, 15, key) == UINT64_C(0xa129ca6149be45e5));
        CHECK(siphash24(msg, 63, key) == UINT64_C(0x958a324ceb064572));
}

TEST(put_get_remove) {
        Hashmap *h = NULL;
        int a = 1, b = 2;

        CHECK(hashmap_get(NULL, "x") == NULL);
        CHECK_INTEQ(hashmap_size(NULL), 0);
        CHECK_INTEQ(hashmap_new(&h), 0);
        CHECK(hashmap_get(h, "a") == NULL);
        CHECK(hashmap_remove(h, "a") == NULL);
        CHECK_INTEQ(hashmap_put(h, "a", &a), 0);
        CHECK_INTEQ(hashmap_put(h, "b", &b), 0);
        CHECK_INTEQ(hashmap_put(h, "a", &b), -EEXIST);
        CHECK(hashmap_get(h, "a") == &a);
        CHECK(hashmap_get(h, "b") == &b);
        CHECK(hashmap_get(h, "") == NULL);
        CHECK_INTEQ(hashmap_size(h), 2);
        CHECK(hashmap_remove(h, "a") == &a);
        CHECK(hashmap_get(h, "a") == NULL);
        CHECK(hashmap_get(h, "b") == &b);
        CHECK(hashmap_remove(h, "b") == &b);
        CHECK_INTEQ(hashmap_size(h), 0);
        /* Empty again: it holds no slots. */
        CHECK_INTEQ(hashmap_buckets(h), 0);
        CHECK_INTEQ(hashmap_put(h, "", &a), 0);
        CHECK(hashmap_get(h, "") == &a);
        h = hashmap_free(h);
        CHECK(h == NULL);
}

/* Many keys, removed in an order that exercises the backward shift of every run; every lookup stays right,
 * and the table shrinks back as the entries go. */
TEST(many_keys_grow_and_shrink) {
        enum { N = 20000 };
        static char keys[N][16];
        Hashmap *h = NULL;
        size_t peak;

        CHECK_INTEQ(hashmap_new(&h), 0);
        for (unsigned i = 0; i < N; i++) {
                snprintf(keys[i], sizeof keys[i], "k%u", i);
                CHECK_INTEQ(hashmap_put(h, keys[i], keys[i]), 0);
        }
        CHECK_INTEQ(hashmap_size(h), N);
        peak = hashmap_buckets(h);
        CHECK(peak >= N && 4 * N <= 3 * peak);
        for (unsigned i = 0; i < N; i++)
                CHECK(hashmap_get(h, keys[i]) == keys[i]);
        for (unsigned i = 0; i < N; i += 3)
                CHECK(hashmap_remove(h, keys[i]) == keys[i]);
        for (unsigned i = 0; i < N; i++)
                CHECK(hashmap_get(h, keys[i]) == (i % 3 == 0 ? NULL : keys[i]));
        for (unsigned i = 0; i < N; i++)
                if (i % 3 != 0 && i > 10)
                        CHECK(hashmap_remove(h, keys[i]) == keys[i]);
        CHECK_INTEQ(hashmap_size(h), 7);
        CHECK(hashmap_buckets(h) <= 32);
        for (unsigned i = 0; i <= 10; i++)
                CHECK(hashmap_get(h, keys[i]) == (i % 3 == 0 ? NULL : keys[i]));
        h = hashmap_free(h);
}

static unsigned n_freed;
static void count_free(void *p) {
        n_freed++;
        free(p);
}

TEST(free_values) {
        Hashmap *h = NULL;

        CHECK_INTEQ(hashmap_new(&h), 0);
        for (unsigned i = 0; i < 100; i++) {
                char *k;
                CHECK(asprintf(&k, "v%u", i) > 0);
                CHECK_INTEQ(hashmap_put(h, k, k), 0);
        }
        n_freed = 0;
        h = hashmap_free_values(h, count_free);
        CHECK_INTEQ(n_freed, 100);
        CHECK(hashmap_free_values(NULL, count_free) == NULL);
}

int main(void) {
        return run_tests();
}
