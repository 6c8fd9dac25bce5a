/*
 * The fragment format and reassembly described in frag.h. Reassembly
 * keeps a byte map per packet rather than counting fragments, so an
 * overlapping or repeated fragment is seen as such instead of completing
 * a packet with holes or mixed bytes.
 */
#include <errno.h>
#include <string.h>

#include "netstack/bytes.h"
#include "netstack/frag.h"

int frag_parse(const uint8_t *m, size_t len, struct frag_hdr *out)
{
	if (len <= FRAG_HDR_LEN || m[0] != FRAG_MSG || m[1] != 0)
		return -EINVAL;
	out->id = le16_get(m + 2);
	out->offset = le16_get(m + 4);
	out->total = le16_get(m + 6);
	out->data = m + FRAG_HDR_LEN;
	out->len = len - FRAG_HDR_LEN;
	if (out->total == 0 || out->total > FRAG_PKT_MAX || out->offset >= out->total ||
	    out->len > (size_t)(out->total - out->offset))
		return -EINVAL;
	return 0;
}

int frag_count(size_t len, size_t room)
{
	size_t per, n;

	if (len == 0 || len > FRAG_PKT_MAX || room <= FRAG_HDR_LEN)
		return -EMSGSIZE;
	per = room - FRAG_HDR_LEN;
	n = (len + per - 1) / per;
	return n > FRAG_MAX ? -EMSGSIZE : (int)n;
}

int frag_build(const uint8_t *pkt, size_t len, size_t room, int k, uint16_t id, uint8_t *out,
    size_t cap)
{
	int n = frag_count(len, room);
	size_t per, off, chunk;

	if (n < 0 || k < 0 || k >= n)
		return -EINVAL;
	per = room - FRAG_HDR_LEN;
	off = (size_t)k * per;
	chunk = len - off < per ? len - off : per;
	if (cap < FRAG_HDR_LEN + chunk)
		return -ENOSPC;
	out[0] = FRAG_MSG;
	out[1] = 0;
	le16_put(out + 2, id);
	le16_put(out + 4, (uint16_t)off);
	le16_put(out + 6, (uint16_t)len);
	memcpy(out + FRAG_HDR_LEN, pkt + off, chunk);
	return (int)(FRAG_HDR_LEN + chunk);
}

void frag_table_init(struct frag_table *t)
{
	memset(t, 0, sizeof(*t));
}

static void frag_slot_drop(struct frag_table *t, struct frag_slot *s)
{
	s->used = 0;
	t->dropped++;
}

/* The slot for (key, id), or a fresh one: a free slot, else the oldest
 * (an expired one is the oldest anyway). */
static struct frag_slot *frag_slot_get(struct frag_table *t, uint32_t key, uint16_t id,
    uint16_t total, uint64_t now)
{
	struct frag_slot *s, *free_s = NULL, *old = NULL;

	for (int i = 0; i < FRAG_SLOTS; i++) {
		s = &t->slot[i];
		if (s->used && now - s->born_ms > FRAG_TIMEOUT_MS)
			frag_slot_drop(t, s);
		if (!s->used) {
			if (!free_s)
				free_s = s;
			continue;
		}
		if (s->key == key && s->id == id)
			return s;
		if (!old || s->born_ms < old->born_ms)
			old = s;
	}
	s = free_s;
	if (!s) {
		s = old;
		frag_slot_drop(t, s);
	}
	s->used = 1;
	s->key = key;
	s->id = id;
	s->total = total;
	s->got = 0;
	s->born_ms = now;
	memset(s->have, 0, sizeof(s->have));
	return s;
}

/* Marks [off, off + n) received; 0, or -EINVAL if any of it already was. */
static int frag_mark(struct frag_slot *s, size_t off, size_t n)
{
	for (size_t i = off; i < off + n; i++)
		if (s->have[i / 8] & (1u << (i % 8)))
			return -EINVAL;
	for (size_t i = off; i < off + n; i++)
		s->have[i / 8] |= (uint8_t)(1u << (i % 8));
	return 0;
}

int frag_add(struct frag_table *t, uint32_t key, const uint8_t *m, size_t len, uint64_t now,
    uint8_t **pkt, size_t *pkt_len)
{
	struct frag_hdr h;
	struct frag_slot *s;

	if (frag_parse(m, len, &h) < 0)
		return -EINVAL;
	s = frag_slot_get(t, key, h.id, h.total, now);
	if (s->total != h.total || frag_mark(s, h.offset, h.len) < 0) {
		frag_slot_drop(t, s);
		return -EINVAL;
	}
	memcpy(s->buf + h.offset, h.data, h.len);
	s->got += h.len;
	if (s->got < s->total)
		return 0;
	s->used = 0;
	t->done++;
	*pkt = s->buf;
	*pkt_len = s->total;
	return 1;
}
