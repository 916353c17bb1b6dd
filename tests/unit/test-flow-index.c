/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>

#include "flow-index.h"
#include "macro.h"
#include "test.h"

#define CHECK_COUNTS(x, u, s, n_user, n_source, n_pair)                         \
        do {                                                                    \
                FlowCounts _c = flow_index_counts((x), (u), (s));               \
                CHECK_INTEQ(_c.user, (n_user));                                 \
                CHECK_INTEQ(_c.source, (n_source));                             \
                CHECK_INTEQ(_c.user_source, (n_pair));                          \
        } while (0)

TEST(empty) {
        FlowIndex *x = NULL;

        CHECK_COUNTS(NULL, "alice", "198.51.100.1", 0, 0, 0);
        CHECK_INTEQ(flow_index_new(&x), 0);
        CHECK_COUNTS(x, "alice", "198.51.100.1", 0, 0, 0);
        x = flow_index_free(x);
        CHECK(x == NULL);
        CHECK(flow_index_free(NULL) == NULL);
}

/* What the limits ask (manager.c): per user, per source, per user from that source. */
TEST(counts_per_user_source_and_pair) {
        FlowIndex *x = NULL;

        CHECK_INTEQ(flow_index_new(&x), 0);
        CHECK_INTEQ(flow_index_add(x, "alice", "198.51.100.1"), 0);
        CHECK_INTEQ(flow_index_add(x, "alice", "198.51.100.1"), 0);
        CHECK_INTEQ(flow_index_add(x, "alice", "2001:db8:1:2::/64"), 0);
        CHECK_INTEQ(flow_index_add(x, "bob", "198.51.100.1"), 0);
        CHECK_INTEQ(flow_index_add(x, "bob", "local:uid=1001"), 0);

        CHECK_COUNTS(x, "alice", "198.51.100.1", 3, 3, 2);
        CHECK_COUNTS(x, "alice", "2001:db8:1:2::/64", 3, 1, 1);
        CHECK_COUNTS(x, "alice", "local:uid=1001", 3, 1, 0);
        CHECK_COUNTS(x, "bob", "198.51.100.1", 2, 3, 1);
        CHECK_COUNTS(x, "carol", "198.51.100.1", 0, 3, 0);
        CHECK_COUNTS(x, "carol", "tty:/dev/tty1", 0, 0, 0);

        flow_index_remove(x, "alice", "198.51.100.1");
        CHECK_COUNTS(x, "alice", "198.51.100.1", 2, 2, 1);
        flow_index_remove(x, "alice", "198.51.100.1");
        CHECK_COUNTS(x, "alice", "198.51.100.1", 1, 1, 0);
        CHECK_COUNTS(x, "bob", "198.51.100.1", 2, 1, 1);
        flow_index_remove(x, "alice", "2001:db8:1:2::/64");
        CHECK_COUNTS(x, "alice", "2001:db8:1:2::/64", 0, 0, 0);
        /* Counted up again after it went to nothing. */
        CHECK_INTEQ(flow_index_add(x, "alice", "2001:db8:1:2::/64"), 0);
        CHECK_COUNTS(x, "alice", "2001:db8:1:2::/64", 1, 1, 1);
        /* Freed with entries left: no leak (the unit suite runs under LeakSanitizer). */
        x = flow_index_free(x);
}

/* A user and a source whose concatenations agree are still different pairs. */
TEST(pairs_do_not_run_together) {
        FlowIndex *x = NULL;

        CHECK_INTEQ(flow_index_new(&x), 0);
        CHECK_INTEQ(flow_index_add(x, "ab", "c"), 0);
        CHECK_COUNTS(x, "a", "bc", 0, 0, 0);
        CHECK_COUNTS(x, "ab", "c", 1, 1, 1);
        CHECK_INTEQ(flow_index_add(x, "a", "bc"), 0);
        CHECK_COUNTS(x, "a", "bc", 1, 1, 1);
        CHECK_COUNTS(x, "ab", "c", 1, 1, 1);
        flow_index_remove(x, "ab", "c");
        flow_index_remove(x, "a", "bc");
        CHECK_COUNTS(x, "ab", "c", 0, 0, 0);
        x = flow_index_free(x);
}

/* Many users and sources up and down: every count goes back to zero. */
TEST(many_up_and_down) {
        FlowIndex *x = NULL;
        char user[16], source[32];

        CHECK_INTEQ(flow_index_new(&x), 0);
        for (unsigned i = 0; i < 3000; i++) {
                snprintf(user, sizeof user, "u%u", i % 100);
                snprintf(source, sizeof source, "192.0.2.%u", i % 37);
                CHECK_INTEQ(flow_index_add(x, user, source), 0);
        }
        CHECK_COUNTS(x, "u7", "192.0.2.7", 30, 81, 1);
        for (unsigned i = 0; i < 3000; i++) {
                snprintf(user, sizeof user, "u%u", i % 100);
                snprintf(source, sizeof source, "192.0.2.%u", i % 37);
                flow_index_remove(x, user, source);
        }
        CHECK_COUNTS(x, "u7", "192.0.2.7", 0, 0, 0);
        x = flow_index_free(x);
}

int main(void) {
        return run_tests();
}
