/*
 * A hash map from byte-string keys to pointers, for the tables that grow
 * with a domain or a peer list (the authority's clients by identity and
 * node id, its pending introductions by id; a node's peers by identity).
 * Keys come from the network (identities in certificates), so they are
 * hashed with SipHash-2-4 under a random key: nobody can aim many keys at
 * one chain without knowing it. Chained buckets double when the map holds
 * more entries than buckets and halve when it holds under an eighth.
 *
 * Several values may share a key (a node with an old and a new connection):
 * hmap_get returns the one added last. The map copies the key; the values
 * are the caller's. Pure: no I/O but getrandom for the key.
 */
#ifndef Q2Q_HMAP_H
#define Q2Q_HMAP_H

#include <stddef.h>
#include <stdint.h>

/* The longest key taken: an identity (identity/name.h) fits. */
#define HMAP_KEY_MAX 512

struct hmap;

/* 0, or -ENOMEM / -EIO (no randomness). */
int hmap_new(struct hmap **out);
/* With a fixed hash key: for tests, which need the same chains each run. */
int hmap_new_keyed(const uint8_t key[16], struct hmap **out);
void hmap_free(struct hmap *m);

/* 0, -ENOMEM, or -EINVAL (len over HMAP_KEY_MAX). */
int hmap_add(struct hmap *m, const void *key, size_t len, void *value);
/* The value added last under key, or NULL. */
void *hmap_get(const struct hmap *m, const void *key, size_t len);
/* Removes the entry key -> value (the newest, if added twice): 0, or
 * -ENOENT. */
int hmap_del(struct hmap *m, const void *key, size_t len, const void *value);

size_t hmap_count(const struct hmap *m);
size_t hmap_buckets(const struct hmap *m);

/* SipHash-2-4 of data under key (exposed for its test vectors). */
uint64_t hmap_siphash(const uint8_t key[16], const void *data, size_t len);

#endif
