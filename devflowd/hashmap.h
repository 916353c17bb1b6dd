/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* A hash table from strings to pointers, for the daemon's lookups by what callers choose (flow ids, users,
 * sources). The hash is SipHash-2-4 with a random key per table (getrandom), so nobody who picks the keys can
 * force collisions. Open addressing with linear probing; the table grows and shrinks with its entries and
 * holds no memory while it is empty. A key is borrowed: it must stay valid and unchanged while its entry is
 * in the table (values usually hold their own key). */

typedef struct Hashmap Hashmap;

int hashmap_new(Hashmap **ret);
Hashmap *hashmap_free(Hashmap *h);                                      /* the table, not the values */
Hashmap *hashmap_free_values(Hashmap *h, void (*free_value)(void *));   /* the table and every value */

/* -EEXIST when the key is in the table already. */
int hashmap_put(Hashmap *h, const char *key, void *value);
/* NULL when absent; h may be NULL (an empty table). */
void *hashmap_get(const Hashmap *h, const char *key);
/* The value that was removed, NULL when absent. */
void *hashmap_remove(Hashmap *h, const char *key);
size_t hashmap_size(const Hashmap *h);
/* How many slots the table has (tests: the memory follows the entries). */
size_t hashmap_buckets(const Hashmap *h);

uint64_t siphash24(const void *data, size_t size, const uint8_t key[static 16]);
