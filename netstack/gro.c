/*
 * TCP receive coalescing for the TUN write path. The batch is walked twice
 * by the same deterministic state machine: the first walk decides which
 * packets go together and how long each write will be (stored in out[].len),
 * the offsets follow from those lengths, and the second walk copies every
 * packet straight to its final place. That keeps the function free of
 * allocation and of per-packet bookkeeping whatever the batch size: the only
 * state is a small table of flows still open for appending. The one
 * decision the second walk cannot cheaply repeat, a segment's TCP checksum,
 * is carried over as a short list of failures; past GRO_BAD_MAX failures
 * the rest of the batch is simply not merged. A wrong merge corrupts a TCP
 * stream, while a missed one costs only a syscall, so every rule errs
 * towards not merging.
 */
#include <errno.h>
#include <string.h>
#include <linux/virtio_net.h>

#include "netstack/bytes.h"
#include "netstack/csum.h"
#include "netstack/gro.h"

#define IP4_HDR_LEN	20
#define IP6_HDR_LEN	40
#define TCP_HDR_LEN	20
#define IP_MAX_LEN	65535	/* IPv4 total length, IPv6 payload length */
#define IPPROTO_TCP_NUM	6

#define TCP_PSH		0x08
#define TCP_ACK		0x10

/* Checksum failures remembered between the two walks (see top comment). */
#define GRO_BAD_MAX	16

/* What one input packet is to the coalescer. */
enum seg_kind {
	SEG_OTHER,	/* certainly not TCP: merges nothing, closes nothing */
	SEG_UNKNOWN,	/* might carry TCP we cannot see: closes every flow */
	SEG_TCP,	/* TCP we will not merge: closes its own flow */
	SEG_CAND,	/* TCP that may start or extend a merge */
};

struct seg {
	enum seg_kind kind;
	int v6;
	const uint8_t *ip;
	const uint8_t *tcp;
	size_t iphl;		/* IP header length */
	size_t hlen;		/* IP + TCP header length */
	size_t plen;		/* TCP payload length */
	uint32_t seq;
	uint8_t flags;
};

/* A flow whose latest write can still grow. */
struct flow {
	int used;
	int v6;
	const uint8_t *first;	/* IP packet of the write's first segment */
	size_t iphl, hlen;
	size_t gso;		/* payload size of the first segment */
	size_t total;		/* payload bytes in the write so far */
	uint32_t next_seq;
	int nseg;
	int out;		/* index of the write in out[] */
	uint8_t last_flags;
	unsigned long stamp;	/* last use, to evict the stalest flow */
};

struct run {
	const struct gro_pkt *in;
	uint8_t *buf;
	struct gro_out *out;
	int max_out;
	int writing;		/* 0: sizing walk, 1: copying walk */
	int nout;
	unsigned long clock;
	struct flow flows[GRO_MAX_FLOWS];
	int bad[GRO_BAD_MAX];	/* packets whose TCP checksum failed */
	int nbad, bad_cur;
	int giveup;		/* from this packet on, merge nothing */
};

/* Pseudo-header sum for a TCP segment of tcplen bytes in packet ip. */
static uint64_t csum_pseudo(const uint8_t *ip, int v6, size_t tcplen)
{
	uint64_t sum = v6 ? csum_add(0, ip + 8, 32) : csum_add(0, ip + 12, 8);

	return sum + csum_be16(IPPROTO_TCP_NUM) + csum_be32((uint32_t)tcplen);
}

static int tcp_csum_ok(const struct seg *s)
{
	size_t tcplen = s->hlen - s->iphl + s->plen;
	uint64_t sum = csum_pseudo(s->ip, s->v6, tcplen);

	return csum_fold(csum_add(sum, s->tcp, tcplen)) == 0xffff;
}

/* IPv6 next headers behind which TCP of any flow might hide. */
static int ip6_is_ext(uint8_t nh)
{
	switch (nh) {
	case 0: case 43: case 44: case 50: case 51: case 60:
	case 135: case 139: case 140: case 253: case 254:
		return 1;
	}
	return 0;
}

/*
 * Classify the IPv4 packet p (len >= 1). Anything malformed is SEG_UNKNOWN:
 * the kernel drops it, and closing every flow is the cautious answer.
 */
static void parse4(const uint8_t *p, size_t len, struct seg *s)
{
	size_t ihl, tot;
	uint16_t frag;

	if (len < IP4_HDR_LEN)
		return;
	ihl = (size_t)(p[0] & 0x0f) * 4;
	tot = be16_get(p + 2);
	if (ihl < IP4_HDR_LEN || tot < ihl || tot > len)
		return;
	if (p[9] == 50 || p[9] == 51)		/* ESP, AH */
		return;
	if (p[9] != IPPROTO_TCP_NUM) {
		s->kind = SEG_OTHER;
		return;
	}
	frag = be16_get(p + 6);
	if (frag & 0x3fff)			/* MF or an offset */
		return;
	if (tot - ihl < TCP_HDR_LEN)
		return;
	s->kind = SEG_TCP;
	s->iphl = ihl;
	s->tcp = p + ihl;
	/* Only DF may be set; the header must be option-free and unpadded. */
	if (ihl != IP4_HDR_LEN || (frag & ~0x4000) || tot != len)
		return;
	if (csum_fold(csum_add(0, p, IP4_HDR_LEN)) != 0xffff)
		return;
	s->plen = tot - ihl;			/* TCP length, trimmed below */
	s->kind = SEG_CAND;
}

static void parse6(const uint8_t *p, size_t len, struct seg *s)
{
	size_t pl;

	if (len < IP6_HDR_LEN)
		return;
	pl = be16_get(p + 4);
	/* 0 would be a jumbogram (or garbage): not ours to interpret. */
	if (pl == 0 || IP6_HDR_LEN + pl > len || ip6_is_ext(p[6]))
		return;
	if (p[6] != IPPROTO_TCP_NUM) {
		s->kind = SEG_OTHER;
		return;
	}
	if (pl < TCP_HDR_LEN)
		return;
	s->kind = SEG_TCP;
	s->v6 = 1;
	s->iphl = IP6_HDR_LEN;
	s->tcp = p + IP6_HDR_LEN;
	if (IP6_HDR_LEN + pl != len)
		return;
	s->plen = pl;
	s->kind = SEG_CAND;
}

/* Fill s for packet p; the checksum is left to the caller (it costs). */
static void seg_parse(const uint8_t *p, size_t len, struct seg *s)
{
	size_t thl;

	memset(s, 0, sizeof(*s));
	s->kind = SEG_UNKNOWN;
	s->ip = p;
	if (len < 1)
		return;
	if (p[0] >> 4 == 4)
		parse4(p, len, s);
	else if (p[0] >> 4 == 6)
		parse6(p, len, s);
	if (s->kind != SEG_CAND)
		return;
	/* s->plen holds the whole TCP length here. */
	thl = (size_t)(s->tcp[12] >> 4) * 4;
	s->flags = s->tcp[13];
	s->seq = be32_get(s->tcp + 4);
	s->kind = SEG_TCP;
	/* Reserved bits and AE must be clear; they are not ours to merge. */
	if (thl < TCP_HDR_LEN || thl >= s->plen || (s->tcp[12] & 0x0f))
		return;
	if (s->flags != TCP_ACK && s->flags != (TCP_ACK | TCP_PSH))
		return;
	s->hlen = s->iphl + thl;
	s->plen -= thl;
	s->kind = SEG_CAND;
}

/* Same addresses and ports: the same TCP connection. */
static int same_flow(const struct flow *f, const struct seg *s)
{
	if (f->v6 != s->v6 || memcmp(f->first + f->iphl, s->tcp, 4) != 0)
		return 0;
	if (s->v6)
		return memcmp(f->first + 8, s->ip + 8, 32) == 0;
	return memcmp(f->first + 12, s->ip + 12, 8) == 0;
}

/*
 * Whether candidate s may be appended to f, which it belongs to: every
 * header byte must match the first segment's except those the merge
 * rewrites (lengths, checksums, IPv4 id, sequence number, flags).
 */
static int can_append(const struct flow *f, const struct seg *s)
{
	const uint8_t *a = f->first, *b = s->ip;
	const uint8_t *ta = a + f->iphl, *tb = s->tcp;
	size_t tcpbytes;

	if (s->hlen != f->hlen || s->seq != f->next_seq || s->plen > f->gso)
		return 0;
	tcpbytes = f->hlen - f->iphl + f->total + s->plen;
	if (tcpbytes + (f->v6 ? 0 : f->iphl) > IP_MAX_LEN)
		return 0;
	if (f->v6) {
		/* version, traffic class, flow label; next header, hop limit */
		if (memcmp(a, b, 4) != 0 || memcmp(a + 6, b + 6, 2) != 0)
			return 0;
	} else {
		/* version/ihl, TOS; DF and offset, TTL, protocol */
		if (memcmp(a, b, 2) != 0 || memcmp(a + 6, b + 6, 4) != 0)
			return 0;
	}
	/* ack, data offset; window; urgent pointer; options */
	return memcmp(ta + 8, tb + 8, 5) == 0 &&
	       memcmp(ta + 14, tb + 14, 2) == 0 &&
	       memcmp(ta + 18, tb + 18, f->hlen - f->iphl - 18) == 0;
}

/* Reserve the next write; in the sizing walk, set its initial length. */
static int out_new(struct run *r, size_t len)
{
	if (r->nout >= r->max_out || len > (size_t)-1 - GRO_VNET_HDR_LEN)
		return -ENOSPC;
	if (!r->writing)
		r->out[r->nout].len = GRO_VNET_HDR_LEN + len;
	return r->nout++;
}

/* Emit packet p unchanged after an all-zero vnet header. */
static int emit_single(struct run *r, const struct gro_pkt *p)
{
	int o = out_new(r, p->len);
	uint8_t *w;

	if (o < 0)
		return o;
	if (r->writing) {
		w = r->buf + r->out[o].off;
		memset(w, 0, GRO_VNET_HDR_LEN);
		if (p->len)
			memcpy(w + GRO_VNET_HDR_LEN, p->data, p->len);
	}
	return 0;
}

/* Rewrite the headers of a write holding more than one segment. */
static void flow_finish(struct run *r, const struct flow *f)
{
	uint8_t *v = r->buf + r->out[f->out].off;
	uint8_t *ip = v + GRO_VNET_HDR_LEN;
	uint8_t *tcp = ip + f->iphl;
	size_t tcplen = f->hlen - f->iphl + f->total;
	uint16_t c;

	if (f->v6) {
		be16_put(ip + 4, (uint16_t)tcplen);
	} else {
		be16_put(ip + 2, (uint16_t)(f->iphl + tcplen));
		be16_put(ip + 10, 0);
		csum_put(ip + 10, csum_add(0, ip, f->iphl));
	}
	tcp[13] = (uint8_t)(TCP_ACK | (f->last_flags & TCP_PSH));
	/* CHECKSUM_PARTIAL: the kernel sums from csum_start over this. */
	c = csum_fold(csum_pseudo(ip, f->v6, tcplen));
	memcpy(tcp + 16, &c, 2);

	v[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	v[1] = f->v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
	le16_put(v + 2, (uint16_t)f->hlen);
	le16_put(v + 4, (uint16_t)f->gso);
	le16_put(v + 6, (uint16_t)f->iphl);
	le16_put(v + 8, 16);
}

static void flow_close(struct run *r, struct flow *f)
{
	if (f->used && r->writing && f->nseg > 1)
		flow_finish(r, f);
	f->used = 0;
}

static void flows_close_all(struct run *r)
{
	for (int i = 0; i < GRO_MAX_FLOWS; i++)
		flow_close(r, &r->flows[i]);
}

static struct flow *flow_find(struct run *r, const struct seg *s)
{
	for (int i = 0; i < GRO_MAX_FLOWS; i++)
		if (r->flows[i].used && same_flow(&r->flows[i], s))
			return &r->flows[i];
	return NULL;
}

/* A free slot, or the stalest flow closed to make one. */
static struct flow *flow_slot(struct run *r)
{
	struct flow *old = &r->flows[0];

	for (int i = 0; i < GRO_MAX_FLOWS; i++) {
		if (!r->flows[i].used)
			return &r->flows[i];
		if (r->flows[i].stamp < old->stamp)
			old = &r->flows[i];
	}
	flow_close(r, old);
	return old;
}

/* Start a write with candidate s; it stays open for appending. */
static int flow_open(struct run *r, const struct gro_pkt *p,
		     const struct seg *s)
{
	struct flow *f;
	int o = out_new(r, p->len);

	if (o < 0)
		return o;
	f = flow_slot(r);
	memset(f, 0, sizeof(*f));
	f->used = 1;
	f->v6 = s->v6;
	f->first = s->ip;
	f->iphl = s->iphl;
	f->hlen = s->hlen;
	f->gso = s->plen;
	f->total = s->plen;
	f->next_seq = s->seq + (uint32_t)s->plen;
	f->nseg = 1;
	f->out = o;
	f->last_flags = s->flags;
	f->stamp = ++r->clock;
	if (r->writing) {
		uint8_t *w = r->buf + r->out[o].off;

		memset(w, 0, GRO_VNET_HDR_LEN);
		memcpy(w + GRO_VNET_HDR_LEN, p->data, p->len);
	}
	return 0;
}

static void flow_append(struct run *r, struct flow *f, const struct seg *s)
{
	if (r->writing)
		memcpy(r->buf + r->out[f->out].off + GRO_VNET_HDR_LEN +
		       f->hlen + f->total, s->ip + s->hlen, s->plen);
	else
		r->out[f->out].len += s->plen;
	f->total += s->plen;
	f->next_seq += (uint32_t)s->plen;
	f->nseg++;
	f->last_flags = s->flags;
	f->stamp = ++r->clock;
	/* A short or pushed segment ends the write: nothing may follow it. */
	if (s->plen < f->gso || (s->flags & TCP_PSH) || f->nseg >= GRO_MAX_SEGS)
		flow_close(r, f);
}

/*
 * The checksum verdict for candidate i: computed in the sizing walk and
 * recorded if bad, looked up in the copying walk, so both walks decide the
 * same. Returns the kind the packet ends up as.
 */
static enum seg_kind verdict(struct run *r, int i, const struct seg *s)
{
	if (i >= r->giveup)
		return SEG_UNKNOWN;
	if (r->writing) {
		if (r->bad_cur < r->nbad && r->bad[r->bad_cur] == i) {
			r->bad_cur++;
			return SEG_TCP;
		}
		return SEG_CAND;
	}
	if (tcp_csum_ok(s))
		return SEG_CAND;
	if (r->nbad < GRO_BAD_MAX) {
		r->bad[r->nbad++] = i;
		return SEG_TCP;
	}
	r->giveup = i;
	return SEG_UNKNOWN;
}

static int step(struct run *r, int i)
{
	const struct gro_pkt *p = &r->in[i];
	struct seg s;
	struct flow *f;

	seg_parse(p->data, p->len, &s);
	if (s.kind == SEG_CAND)
		s.kind = verdict(r, i, &s);

	switch (s.kind) {
	case SEG_OTHER:
		return emit_single(r, p);
	case SEG_UNKNOWN:
		flows_close_all(r);
		return emit_single(r, p);
	case SEG_TCP:
		if ((f = flow_find(r, &s)))
			flow_close(r, f);
		return emit_single(r, p);
	case SEG_CAND:
		break;
	}
	if ((f = flow_find(r, &s))) {
		if (can_append(f, &s)) {
			flow_append(r, f, &s);
			return 0;
		}
		flow_close(r, f);
	}
	if (s.flags & TCP_PSH)
		return emit_single(r, p);
	return flow_open(r, p, &s);
}

static int walk(struct run *r, int n)
{
	int err;

	r->nout = 0;
	r->clock = 0;
	r->bad_cur = 0;
	memset(r->flows, 0, sizeof(r->flows));
	for (int i = 0; i < n; i++)
		if ((err = step(r, i)) < 0)
			return err;
	flows_close_all(r);
	return r->nout;
}

int gro_coalesce(const struct gro_pkt *in, int n, uint8_t *buf, size_t cap,
		 struct gro_out *out, int max_out)
{
	struct run r;
	size_t off = 0;
	int nout;

	if (n < 0 || (n > 0 && (!in || !buf || !out)))
		return -EINVAL;
	for (int i = 0; i < n; i++)
		if (!in[i].data && in[i].len)
			return -EINVAL;
	memset(&r, 0, sizeof(r));
	r.in = in;
	r.buf = buf;
	r.out = out;
	r.max_out = max_out;
	r.giveup = n;

	nout = walk(&r, n);
	if (nout < 0)
		return nout;
	for (int i = 0; i < nout; i++) {
		if (out[i].len > cap - off)
			return -ENOSPC;
		out[i].off = off;
		off += out[i].len;
	}
	r.writing = 1;
	return walk(&r, n);
}
