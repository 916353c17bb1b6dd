/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "flow-index.h"
#include "hashmap.h"

/* One key's count; the table's key is the entry's own copy. */
typedef struct Count {
        unsigned n;
        char key[];
} Count;

/* One user's pending flows, and how many of them each source has. */
typedef struct UserCount {
        unsigned n;
        Hashmap *by_source;             /* source → Count */
        char key[];
} UserCount;

struct FlowIndex {
        Hashmap *by_user;               /* user → UserCount */
        Hashmap *by_source;             /* source → Count */
};

static void *entry_new(size_t header, const char *key) {
        size_t n = strlen(key);
        char *e;

        e = calloc(1, header + n + 1);
        if (!e)
                return NULL;
        memcpy(e + header, key, n + 1);
        return e;
}

static void user_count_free(void *p) {
        UserCount *u = p;

        hashmap_free_values(u->by_source, free);
        free(u);
}

int flow_index_new(FlowIndex **ret) {
        FlowIndex *x;
        int r;

        x = calloc(1, sizeof *x);
        if (!x)
                return -ENOMEM;
        r = hashmap_new(&x->by_user);
        if (r >= 0)
                r = hashmap_new(&x->by_source);
        if (r < 0) {
                flow_index_free(x);
                return r;
        }
        *ret = x;
        return 0;
}

FlowIndex *flow_index_free(FlowIndex *x) {
        if (!x)
                return NULL;
        hashmap_free_values(x->by_user, user_count_free);
        hashmap_free_values(x->by_source, free);
        free(x);
        return NULL;
}

static int count_up(Hashmap *h, const char *key) {
        Count *c = hashmap_get(h, key);
        int r;

        if (!c) {
                c = entry_new(offsetof(Count, key), key);
                if (!c)
                        return -ENOMEM;
                r = hashmap_put(h, c->key, c);
                if (r < 0) {
                        free(c);
                        return r;
                }
        }
        c->n++;
        return 0;
}

static void count_down(Hashmap *h, const char *key) {
        Count *c = hashmap_get(h, key);

        assert(c && c->n > 0);
        if (--c->n == 0)
                free(hashmap_remove(h, key));
}

static unsigned count_of(const Hashmap *h, const char *key) {
        const Count *c = hashmap_get(h, key);
        return c ? c->n : 0;
}

static void user_down(FlowIndex *x, UserCount *u) {
        if (--u->n == 0)
                user_count_free(hashmap_remove(x->by_user, u->key));
}

int flow_index_add(FlowIndex *x, const char *user, const char *source) {
        UserCount *u = hashmap_get(x->by_user, user);
        int r;

        if (!u) {
                u = entry_new(offsetof(UserCount, key), user);
                if (!u)
                        return -ENOMEM;
                r = hashmap_new(&u->by_source);
                if (r >= 0)
                        r = hashmap_put(x->by_user, u->key, u);
                if (r < 0) {
                        user_count_free(u);
                        return r;
                }
        }
        u->n++;
        r = count_up(u->by_source, source);
        if (r < 0) {
                user_down(x, u);
                return r;
        }
        r = count_up(x->by_source, source);
        if (r < 0) {
                count_down(u->by_source, source);
                user_down(x, u);
                return r;
        }
        return 0;
}

void flow_index_remove(FlowIndex *x, const char *user, const char *source) {
        UserCount *u = hashmap_get(x->by_user, user);

        assert(u);
        count_down(u->by_source, source);
        user_down(x, u);
        count_down(x->by_source, source);
}

FlowCounts flow_index_counts(const FlowIndex *x, const char *user, const char *source) {
        const UserCount *u;

        if (!x)
                return (FlowCounts) {};
        u = hashmap_get(x->by_user, user);
        return (FlowCounts) {
                .user = u ? u->n : 0,
                .source = count_of(x->by_source, source),
                .user_source = u ? count_of(u->by_source, source) : 0,
        };
}
