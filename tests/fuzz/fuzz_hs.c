/*
 * Fuzz target for the handshake state machine (netstack/handshake.c: TLS
 * 1.3 in wolfSSL, carried over netstack/stream.c) driven by a fake peer.
 * Keys, certificates and the two contexts are made once at start-up
 * (alice@example.com initiates, bob@example.com responds, one CA). The
 * first input byte picks the game:
 *   0  the fuzzer is the initiator talking to a real responder;
 *   1  the fuzzer is the responder answering a real initiator;
 *   2  a real pair, with the fuzzer on the wire between them: it delivers,
 *      drops, duplicates, corrupts, truncates and injects segments, and
 *      moves the clock.
 * The rest is a script of operations (see the op_* functions). Invariants:
 * hs_input answers 0 or -EINVAL; nobody without a key of the CA's is ever
 * proven or DONE (games 0 and 1: the fuzzer cannot sign); on the wire,
 * an initiator is DONE only if its responder is, both then hold crosswise
 * equal keys and each other's identity; a failed handshake stays failed;
 * no segment exceeds STREAM_SEG_MAX; every handshake ends within the 20 s
 * timeout plus the stream's give-up time; nothing leaks. wolfSSL draws
 * fresh randomness each run, so games 0 and 1 reach what a replayed or
 * forged flight reaches, not a real peer's later flights.
 */
#include <errno.h>
#include <time.h>

#include "tests/fuzz/fuzz.h"
#include "identity/addr.h"
#include "identity/cert.h"
#include "identity/key.h"
#include "netstack/handshake.h"

#define ALICE	"alice@example.com"
#define BOB	"bob@example.com"
/* The handshake's own timeout (20 s) plus slack for the last flight. */
#define GAME_MS	40000
#define QMAX	64

struct seg {
	int to;			/* 0 = initiator, 1 = responder */
	uint32_t seq, ack;
	size_t len;
	uint8_t data[STREAM_SEG_MAX + 64];
};

static struct hs_ctx *ctx_alice, *ctx_bob;
static struct seg q[QMAX];
static int nq;
static uint64_t now;
/* What the fake peer knows of the real side's stream (games 0 and 1). */
static uint32_t real_max, fake_nxt;

static void make_node(struct id_key *ca_key, const uint8_t *ca_der, size_t ca_len,
		      const char *id, int host, struct hs_ctx **out)
{
	struct id_key *k;
	struct cert_info b;
	uint8_t *csr, *kder, *cert;
	size_t csr_len, key_len, cert_len;
	char err[200] = "";
	int64_t t = (int64_t)time(NULL);

	FZ_CHECK(key_generate(&k) == 0);
	FZ_CHECK(key_der(k, &kder, &key_len) == 0);
	FZ_CHECK(cert_csr_make(k, id, &csr, &csr_len) == 0);
	memset(&b, 0, sizeof(b));
	snprintf(b.identity, sizeof(b.identity), "%s", id);
	b.has_v4 = 1;
	b.v4[0] = 100; b.v4[1] = 64; b.v4[3] = (uint8_t)host;
	b.has_v6 = 1;
	addr_overlay_v6(id, b.v6);
	/* valid far beyond any campaign, so runs a year apart behave alike */
	b.not_before = t - 86400;
	b.not_after = t + 400 * 86400;
	if (cert_issue(ca_key, ca_der, ca_len, csr, csr_len, &b, &cert, &cert_len,
		       err, sizeof(err)) != 0) {
		fprintf(stderr, "cert_issue %s: %s\n", id, err);
		abort();
	}
	if (hs_ctx_new(kder, key_len, cert, cert_len, out, err, sizeof(err)) != 0 ||
	    hs_ctx_add_ca(*out, ca_der, ca_len, err, sizeof(err)) != 0) {
		fprintf(stderr, "hs_ctx %s: %s\n", id, err);
		abort();
	}
	free(csr);
	free(cert);
	free(kder);
	key_free(k);
}

/* Everything both real sides want to send now goes into the queue. */
static void poll_side(struct hs *h, int side)
{
	struct stream_seg s;

	for (int i = 0; i < 64 && h && hs_poll(h, now, &s); i++) {
		FZ_CHECK(s.len <= STREAM_SEG_MAX);
		if (s.seq + (uint32_t)s.len > real_max)
			real_max = s.seq + (uint32_t)s.len;
		if (nq == QMAX)
			continue;	/* the wire's queue is full: lost */
		q[nq].to = !side;
		q[nq].seq = s.seq;
		q[nq].ack = s.ack;
		q[nq].len = s.len;
		if (s.len)
			memcpy(q[nq].data, s.data, s.len);
		nq++;
	}
}

static void input(struct hs *h, uint32_t seq, uint32_t ack, const uint8_t *d, size_t len)
{
	uint8_t *c = fz_dup(d, len);
	int rc = hs_input(h, seq, ack, len ? c : NULL, len, now);

	FZ_CHECK(rc == 0 || rc == -EINVAL);
	free(c);
}

static void check_state(struct hs *h, enum hs_state *last)
{
	enum hs_state st = hs_state(h, NULL);

	FZ_CHECK(*last != HS_FAILED || st == HS_FAILED);
	FZ_CHECK(*last != HS_DONE || st == HS_DONE);
	*last = st;
}

/* The fuzzer as the other side: its segments, acks and the clock. */
static void game_fake(struct fz *f, int initiator)
{
	struct hs *h = NULL;
	enum hs_state last = HS_RUNNING;
	uint8_t key[HS_KEY_LEN], key2[HS_KEY_LEN];
	char peer[ID_NAME_MAX + 1];
	size_t got, len;
	const uint8_t *d;
	uint32_t seq, ack;

	FZ_CHECK(hs_new(initiator ? ctx_alice : ctx_bob, initiator,
			initiator ? ALICE : BOB, initiator ? BOB : NULL, now, &h) == 0);
	while (f->left && now < GAME_MS) {
		uint8_t op = fz_u8(f);

		switch (op & 3) {
		case 0:	/* a segment: in order by default, anywhere on request */
		case 1:
			seq = op & 4 ? fz_u32(f) : fake_nxt;
			ack = op & 8 ? fz_u32(f) : real_max;
			len = fz_u16(f) % (STREAM_SEG_MAX + 64);
			d = fz_bytes(f, len, &got);
			input(h, seq, ack, d, got);
			if (seq == fake_nxt)
				fake_nxt += (uint32_t)got;
			break;
		case 2:
			nq = 0;
			poll_side(h, initiator ? 0 : 1);
			break;
		default:
			now += fz_u16(f);
			break;
		}
		check_state(h, &last);
		/* Without the CA's signature on a key it holds, the fuzzer
		 * cannot be proven, and so never completes a handshake. */
		FZ_CHECK(!hs_peer_proven(h));
		FZ_CHECK(last != HS_DONE);
	}
	got = 0;
	FZ_CHECK(hs_result(h, peer, NULL, &got, key, key2) == -EAGAIN);
	/* A handshake left alone ends: failed once its time is up. */
	now += GAME_MS;
	nq = 0;
	poll_side(h, initiator ? 0 : 1);
	FZ_CHECK(hs_state(h, NULL) == HS_FAILED);
	hs_free(h);
}

/* One queued segment, as the script says: delivered, altered or dropped. */
static void op_deliver(struct hs *h[2], struct fz *f)
{
	int i = nq ? fz_u8(f) % nq : 0, how = fz_u8(f) % 8;
	struct seg s;
	size_t pos;

	if (!nq)
		return;
	s = q[i];
	switch (how) {
	case 0:	/* dropped */
		q[i] = q[--nq];
		return;
	case 1:	/* duplicated: stays queued */
		break;
	case 2:	/* a byte flipped */
		if (s.len) {
			pos = fz_u16(f) % s.len;
			s.data[pos] ^= (uint8_t)(fz_u8(f) | 1);
		}
		q[i] = q[--nq];
		break;
	case 3:	/* truncated */
		s.len = s.len ? fz_u16(f) % s.len : 0;
		q[i] = q[--nq];
		break;
	case 4:	/* seq or ack moved */
		s.seq += (uint32_t)(int8_t)fz_u8(f);
		s.ack += (uint32_t)(int8_t)fz_u8(f);
		q[i] = q[--nq];
		break;
	case 5:	/* sent back to its sender */
		s.to = !s.to;
		q[i] = q[--nq];
		break;
	default:
		q[i] = q[--nq];
		break;
	}
	input(h[s.to], s.seq, s.ack, s.data, s.len);
}

static void check_pair(struct hs *h[2])
{
	uint8_t s0[HS_KEY_LEN], r0[HS_KEY_LEN], s1[HS_KEY_LEN], r1[HS_KEY_LEN];
	char p0[ID_NAME_MAX + 1], p1[ID_NAME_MAX + 1];
	size_t l0 = 0, l1 = 0;

	if (hs_state(h[0], NULL) != HS_DONE)
		return;
	/* The initiator finishes on the responder's confirmation only. */
	FZ_CHECK(hs_state(h[1], NULL) == HS_DONE);
	FZ_CHECK(hs_result(h[0], p0, NULL, &l0, s0, r0) == 0);
	FZ_CHECK(hs_result(h[1], p1, NULL, &l1, s1, r1) == 0);
	FZ_CHECK(strcmp(p0, BOB) == 0 && strcmp(p1, ALICE) == 0);
	FZ_CHECK(memcmp(s0, r1, HS_KEY_LEN) == 0 && memcmp(s1, r0, HS_KEY_LEN) == 0);
	FZ_CHECK(memcmp(s0, s1, HS_KEY_LEN) != 0);
}

/* A real pair with the fuzzer as the wire; honest delivery to finish. */
static void game_wire(struct fz *f)
{
	struct hs *h[2] = { NULL, NULL };
	enum hs_state last[2] = { HS_RUNNING, HS_RUNNING };
	size_t got, len;
	const uint8_t *d;

	FZ_CHECK(hs_new(ctx_alice, 1, ALICE, BOB, now, &h[0]) == 0);
	FZ_CHECK(hs_new(ctx_bob, 0, BOB, NULL, now, &h[1]) == 0);
	for (int steps = 0; steps < 4000 && now < GAME_MS; steps++) {
		uint8_t op;

		if (!f->left) {
			/* the script is over: deliver everything, oldest first */
			if (!nq) {
				uint64_t d0 = hs_next_deadline(h[0]);
				uint64_t d1 = hs_next_deadline(h[1]);
				uint64_t next = d0 < d1 ? d0 : d1;

				if (next == STREAM_NEVER)
					break;
				if (next > now)
					now = next;
			}
			poll_side(h[0], 0);
			poll_side(h[1], 1);
			if (nq) {
				struct seg s = q[0];

				memmove(q, q + 1, (size_t)(nq - 1) * sizeof(q[0]));
				nq--;
				input(h[s.to], s.seq, s.ack, s.data, s.len);
			}
		} else {
			op = fz_u8(f);
			switch (op % 5) {
			case 0:
				poll_side(h[0], 0);
				poll_side(h[1], 1);
				break;
			case 1:
			case 2:
				op_deliver(h, f);
				break;
			case 3:	/* injected */
				len = fz_u16(f) % (STREAM_SEG_MAX + 64);
				{
					int to = op >> 7;
					uint32_t seq = fz_u32(f), ack = fz_u32(f);

					d = fz_bytes(f, len, &got);
					input(h[to], seq, ack, d, got);
				}
				break;
			default:
				now += fz_u16(f) % 5000;
				break;
			}
		}
		check_state(h[0], &last[0]);
		check_state(h[1], &last[1]);
		check_pair(h);
		if (last[0] != HS_RUNNING && last[1] != HS_RUNNING && !f->left &&
		    (last[0] == HS_FAILED || last[1] == HS_FAILED ||
		     (hs_flushed(h[0]) && hs_flushed(h[1]))))
			break;
	}
	hs_free(h[0]);
	hs_free(h[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f;

	fz_init(&f, data, size);
	nq = 0;
	now = 1000;
	real_max = 0;
	fake_nxt = 0;
	switch (fz_u8(&f) % 3) {
	case 0:
		game_fake(&f, 0);
		break;
	case 1:
		game_fake(&f, 1);
		break;
	default:
		game_wire(&f);
		break;
	}
	return 0;
}

/* Seeds: a real ClientHello for game 0, a plain wire for game 2. */
static void seeds(const char *dir)
{
	static const uint8_t wire[] = { 2 };
	static const uint8_t lossy[] = { 2, 0, 1, 0, 0, 4, 0xe8, 0x03, 0, 1, 0, 2, 0 };
	uint8_t buf[1 + 8 * (8 + STREAM_SEG_MAX)], *p = buf;
	struct hs *h;
	struct stream_seg s;

	*p++ = 0;
	FZ_CHECK(hs_new(ctx_alice, 1, ALICE, BOB, 1000, &h) == 0);
	for (int i = 0; i < 8 && hs_poll(h, 1000, &s); i++) {
		if (!s.len)
			continue;
		*p++ = 0;	/* op 0: in order, acking what we sent */
		*p++ = (uint8_t)s.len;
		*p++ = (uint8_t)(s.len >> 8);
		memcpy(p, s.data, s.len);
		p += s.len;
		*p++ = 2;	/* poll */
	}
	hs_free(h);
	fz_write_seed(dir, "clienthello", buf, (size_t)(p - buf));
	fz_write_seed(dir, "wire", wire, sizeof(wire));
	fz_write_seed(dir, "wire-lossy", lossy, sizeof(lossy));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct id_key *ca_key;
	uint8_t *ca_der;
	size_t ca_len;

	FZ_CHECK(cert_ca_create("example.com", 400, &ca_key, &ca_der, &ca_len) == 0);
	make_node(ca_key, ca_der, ca_len, ALICE, 1, &ctx_alice);
	make_node(ca_key, ca_der, ca_len, BOB, 2, &ctx_bob);
	key_free(ca_key);
	free(ca_der);
	fz_seed_mode(seeds);
	return 0;
}
