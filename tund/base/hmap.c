/*
 * The hash map of hmap.h: an array of bucket chains, a power of two long.
 * An entry keeps its full hash, so resizing never hashes a key again and a
 * lookup compares keys only where the hashes agree. Entries of one key stay
 * in the order they were added (newest first) through every resize, which
 * is what makes hmap_get's "added last" hold.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "tund/base/hmap.h"

/* Small enough that an empty map (a node with no peers) costs nothing
 * worth counting; never shrunk below it. */
#define HM_MIN_BUCKETS 16

struct hm_entry {
	struct hm_entry *next;
	uint64_t hash;
	void *value;
	size_t len;
	uint8_t key[];
};

struct hmap {
	struct hm_entry **b;
	size_t nb, n;
	uint8_t key[16];
};

static uint64_t hm_rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

static uint64_t hm_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

#define HM_SIPROUND(v0, v1, v2, v3) do { \
	v0 += v1; v1 = hm_rotl(v1, 13); v1 ^= v0; v0 = hm_rotl(v0, 32); \
	v2 += v3; v3 = hm_rotl(v3, 16); v3 ^= v2; \
	v0 += v3; v3 = hm_rotl(v3, 21); v3 ^= v0; \
	v2 += v1; v1 = hm_rotl(v1, 17); v1 ^= v2; v2 = hm_rotl(v2, 32); \
} while (0)

uint64_t hmap_siphash(const uint8_t key[16], const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t k0 = hm_le64(key), k1 = hm_le64(key + 8);
	uint64_t v0 = 0x736f6d6570736575ull ^ k0, v1 = 0x646f72616e646f6dull ^ k1;
	uint64_t v2 = 0x6c7967656e657261ull ^ k0, v3 = 0x7465646279746573ull ^ k1;
	uint64_t m, last = (uint64_t)len << 56;
	size_t i, tail = len & 7;

	for (i = 0; i + 8 <= len; i += 8) {
		m = hm_le64(p + i);
		v3 ^= m;
		HM_SIPROUND(v0, v1, v2, v3);
		HM_SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	for (size_t k = 0; k < tail; k++)
		last |= (uint64_t)p[i + k] << (8 * k);
	v3 ^= last;
	HM_SIPROUND(v0, v1, v2, v3);
	HM_SIPROUND(v0, v1, v2, v3);
	v0 ^= last;
	v2 ^= 0xff;
	for (int r = 0; r < 4; r++)
		HM_SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

int hmap_new_keyed(const uint8_t key[16], struct hmap **out)
{
	struct hmap *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	m->nb = HM_MIN_BUCKETS;
	m->b = calloc(m->nb, sizeof(*m->b));
	if (!m->b) {
		free(m);
		return -ENOMEM;
	}
	memcpy(m->key, key, sizeof(m->key));
	*out = m;
	return 0;
}

int hmap_new(struct hmap **out)
{
	uint8_t key[16];
	int rc;

	if (getrandom(key, sizeof(key), 0) != sizeof(key))
		return -EIO;
	rc = hmap_new_keyed(key, out);
	explicit_bzero(key, sizeof(key));
	return rc;
}

void hmap_free(struct hmap *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nb; i++) {
		while (m->b[i]) {
			struct hm_entry *e = m->b[i];

			m->b[i] = e->next;
			free(e);
		}
	}
	free(m->b);
	explicit_bzero(m->key, sizeof(m->key));
	free(m);
}

/* Moves every entry into nb buckets, each chain's order kept (an entry
 * goes to the end of its new chain). Out of memory, the map stays as it
 * is: longer chains, still correct. */
static void hm_resize(struct hmap *m, size_t nb)
{
	struct hm_entry **b = calloc(nb, sizeof(*b));

	if (!b)
		return;
	for (size_t i = 0; i < m->nb; i++) {
		while (m->b[i]) {
			struct hm_entry *e = m->b[i], **tail;

			m->b[i] = e->next;
			e->next = NULL;
			for (tail = &b[e->hash & (nb - 1)]; *tail; tail = &(*tail)->next)
				;
			*tail = e;
		}
	}
	free(m->b);
	m->b = b;
	m->nb = nb;
}

int hmap_add(struct hmap *m, const void *key, size_t len, void *value)
{
	struct hm_entry *e, **head;

	if (len > HMAP_KEY_MAX)
		return -EINVAL;
	e = malloc(sizeof(*e) + len);
	if (!e)
		return -ENOMEM;
	e->hash = hmap_siphash(m->key, key, len);
	e->value = value;
	e->len = len;
	memcpy(e->key, key, len);
	if (m->n + 1 > m->nb)
		hm_resize(m, m->nb * 2);
	head = &m->b[e->hash & (m->nb - 1)];
	e->next = *head;
	*head = e;
	m->n++;
	return 0;
}

void *hmap_get(const struct hmap *m, const void *key, size_t len)
{
	uint64_t h = hmap_siphash(m->key, key, len);

	for (const struct hm_entry *e = m->b[h & (m->nb - 1)]; e; e = e->next)
		if (e->hash == h && e->len == len && memcmp(e->key, key, len) == 0)
			return e->value;
	return NULL;
}

int hmap_del(struct hmap *m, const void *key, size_t len, const void *value)
{
	uint64_t h = hmap_siphash(m->key, key, len);

	for (struct hm_entry **pp = &m->b[h & (m->nb - 1)]; *pp; pp = &(*pp)->next) {
		struct hm_entry *e = *pp;

		if (e->value != value || e->hash != h || e->len != len || memcmp(e->key, key, len) != 0)
			continue;
		*pp = e->next;
		free(e);
		m->n--;
		/* A domain that emptied out gives its buckets back. */
		if (m->nb > HM_MIN_BUCKETS && m->n * 8 < m->nb)
			hm_resize(m, m->nb / 2);
		return 0;
	}
	return -ENOENT;
}

size_t hmap_count(const struct hmap *m) { return m->n; }
size_t hmap_buckets(const struct hmap *m) { return m->nb; }
