/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "hashmap.h"

#define BUCKETS_MIN 8

typedef struct Entry {
        const char *key;                /* NULL: a free slot */
        void *value;
        uint64_t hash;
} Entry;

struct Hashmap {
        uint8_t hash_key[16];
        Entry *entries;
        size_t n_buckets;               /* 0 or a power of two */
        size_t n_entries;
};

static uint64_t rotl(uint64_t x, unsigned b) {
        return (x << b) | (x >> (64 - b));
}

static uint64_t le64(const uint8_t *p) {
        uint64_t v = 0;

        for (unsigned i = 0; i < 8; i++)
                v |= (uint64_t) p[i] << (8 * i);
        return v;
}

#define SIPROUND                                                                        \
        do {                                                                            \
                v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);               \
                v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;                                  \
                v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;                                  \
                v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);               \
        } while (0)

/* Aumasson and Bernstein, "SipHash: a fast short-input PRF" (2012), with 2 compression and 4 finalisation
 * rounds. */
uint64_t siphash24(const void *data, size_t size, const uint8_t key[static 16]) {
        const uint8_t *p = data, *end = p + (size - size % 8);
        uint64_t k0 = le64(key), k1 = le64(key + 8), m, b = (uint64_t) size << 56;
        uint64_t v0 = UINT64_C(0x736f6d6570736575) ^ k0, v1 = UINT64_C(0x646f72616e646f6d) ^ k1,
                 v2 = UINT64_C(0x6c7967656e657261) ^ k0, v3 = UINT64_C(0x7465646279746573) ^ k1;

        for (; p != end; p += 8) {
                m = le64(p);
                v3 ^= m;
                SIPROUND;
                SIPROUND;
                v0 ^= m;
        }
        for (size_t i = 0; i < size % 8; i++)
                b |= (uint64_t) p[i] << (8 * i);
        v3 ^= b;
        SIPROUND;
        SIPROUND;
        v0 ^= b;
        v2 ^= 0xff;
        SIPROUND;
        SIPROUND;
        SIPROUND;
        SIPROUND;
        return v0 ^ v1 ^ v2 ^ v3;
}

int hashmap_new(Hashmap **ret) {
        Hashmap *h;

        h = calloc(1, sizeof *h);
        if (!h)
                return -ENOMEM;
        if (getrandom(h->hash_key, sizeof h->hash_key, 0) != (ssize_t) sizeof h->hash_key) {
                free(h);
                return -EIO;
        }
        *ret = h;
        return 0;
}

Hashmap *hashmap_free(Hashmap *h) {
        if (!h)
                return NULL;
        free(h->entries);
        free(h);
        return NULL;
}

Hashmap *hashmap_free_values(Hashmap *h, void (*free_value)(void *)) {
        if (!h)
                return NULL;
        for (size_t i = 0; i < h->n_buckets; i++)
                if (h->entries[i].key)
                        free_value(h->entries[i].value);
        return hashmap_free(h);
}

size_t hashmap_size(const Hashmap *h) {
        return h ? h->n_entries : 0;
}

size_t hashmap_buckets(const Hashmap *h) {
        return h ? h->n_buckets : 0;
}

static uint64_t hash_of(const Hashmap *h, const char *key) {
        return siphash24(key, strlen(key), h->hash_key);
}

/* The slot that holds key, or the free slot where it would go. There is always a free slot: the load stays
 * at most 3/4. */
static size_t slot_of(const Hashmap *h, const char *key, uint64_t hash) {
        size_t mask = h->n_buckets - 1;

        for (size_t i = hash & mask;; i = (i + 1) & mask) {
                const Entry *e = &h->entries[i];

                if (!e->key || (e->hash == hash && strcmp(e->key, key) == 0))
                        return i;
        }
}

static int resize(Hashmap *h, size_t n_buckets) {
        Entry *old = h->entries;
        size_t n_old = h->n_buckets;

        if (n_buckets == 0) {
                assert(h->n_entries == 0);
                h->entries = NULL;
        } else {
                h->entries = calloc(n_buckets, sizeof *h->entries);
                if (!h->entries) {
                        h->entries = old;
                        return -ENOMEM;
                }
        }
        h->n_buckets = n_buckets;
        for (size_t i = 0; i < n_old; i++)
                if (old[i].key)
                        h->entries[slot_of(h, old[i].key, old[i].hash)] = old[i];
        free(old);
        return 0;
}

int hashmap_put(Hashmap *h, const char *key, void *value) {
        uint64_t hash = hash_of(h, key);
        size_t i;
        int r;

        if (4 * (h->n_entries + 1) > 3 * h->n_buckets) {
                r = resize(h, h->n_buckets ? 2 * h->n_buckets : BUCKETS_MIN);
                if (r < 0)
                        return r;
        }
        i = slot_of(h, key, hash);
        if (h->entries[i].key)
                return -EEXIST;
        h->entries[i] = (Entry) { .key = key, .value = value, .hash = hash };
        h->n_entries++;
        return 0;
}

void *hashmap_get(const Hashmap *h, const char *key) {
        const Entry *e;

        if (!h || h->n_entries == 0)
                return NULL;
        e = &h->entries[slot_of(h, key, hash_of(h, key))];
        return e->key ? e->value : NULL;
}

void *hashmap_remove(Hashmap *h, const char *key) {
        size_t mask, i;
        void *value;

        if (!h || h->n_entries == 0)
                return NULL;
        mask = h->n_buckets - 1;
        i = slot_of(h, key, hash_of(h, key));
        if (!h->entries[i].key)
                return NULL;
        value = h->entries[i].value;

        /* Backward-shift deletion (Knuth, TAOCP 6.4, algorithm R): move up every later entry of the run
         * whose home slot does not lie between the hole and itself, so that lookups need no tombstones. */
        for (size_t j = (i + 1) & mask; h->entries[j].key; j = (j + 1) & mask) {
                size_t home = h->entries[j].hash & mask;

                if (((i - home) & mask) < ((j - home) & mask)) {
                        h->entries[i] = h->entries[j];
                        i = j;
                }
        }
        h->entries[i] = (Entry) {};
        h->n_entries--;

        /* Shrink below a load of 1/8 (a failure only keeps the larger table); an empty table holds nothing. */
        if (h->n_entries == 0)
                (void) resize(h, 0);
        else if (h->n_buckets > BUCKETS_MIN && 8 * h->n_entries < h->n_buckets)
                (void) resize(h, h->n_buckets / 2);
        return value;
}
