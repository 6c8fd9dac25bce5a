/*
 * The handshake byte stream over a simulated link that loses 30% of
 * segments, delays them randomly (so they reorder) and duplicates some.
 * Both directions carry random-sized writes; delivery must be byte-exact
 * and both ends must finish with everything acknowledged. Also: giving up
 * on a dead link, overlap trimming and impossible acks.
 */
#include <errno.h>
#include <stdlib.h>

#include "tests/unit/harness.h"
#include "netstack/stream.h"

static uint64_t rs;

static uint32_t rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return (uint32_t)(rs >> 11);
}

struct pkt {
	uint64_t at;
	int to;
	uint32_t seq, ack;
	size_t len;
	uint8_t data[STREAM_SEG_MAX];
};

#define LINK_MAX 4096

struct link {
	struct pkt *q;
	int n;
	int loss_pct, dup_pct;
	long sent, delivered;
};

static void link_send(struct link *l, int to, const struct stream_seg *seg,
		      uint64_t now)
{
	int copies = 1 + ((int)(rnd() % 100) < l->dup_pct);

	l->sent++;
	for (int c = 0; c < copies; c++) {
		struct pkt *p;

		if ((int)(rnd() % 100) < l->loss_pct || l->n == LINK_MAX)
			continue;
		p = &l->q[l->n++];
		p->at = now + 5 + rnd() % 120;	/* jitter reorders */
		p->to = to;
		p->seq = seg->seq;
		p->ack = seg->ack;
		p->len = seg->len;
		if (seg->len)
			memcpy(p->data, seg->data, seg->len);
	}
}

struct end {
	struct stream s;
	uint8_t *out;		/* what this end sends */
	size_t out_len, written;
	uint8_t *in;		/* what it received */
	size_t in_len;
};

static void end_pump(struct end *e, struct link *l, int peer, uint64_t now)
{
	struct stream_seg seg;

	/* Random write sizes, as TLS records come in all sizes. */
	while (e->written < e->out_len) {
		size_t want = 1 + rnd() % 3000;
		int n;

		if (want > e->out_len - e->written)
			want = e->out_len - e->written;
		n = stream_write(&e->s, e->out + e->written, want);
		if (n <= 0)
			break;
		e->written += (size_t)n;
	}
	while (stream_poll(&e->s, now, &seg))
		link_send(l, peer, &seg, now);
}

static int run_link(uint64_t seed, int loss, int dup, size_t len_a,
		    size_t len_b, uint64_t *end_time)
{
	struct end *e = calloc(2, sizeof(*e));
	struct link l = { calloc(LINK_MAX, sizeof(struct pkt)), 0, loss, dup,
			  0, 0 };
	uint64_t now = 0;
	int ok = 0;

	rs = seed;
	for (int i = 0; i < 2; i++) {
		stream_init(&e[i].s);
		e[i].out_len = i ? len_b : len_a;
		e[i].out = malloc(e[i].out_len + 1);
		e[i].in = malloc((i ? len_a : len_b) + 1);
		for (size_t k = 0; k < e[i].out_len; k++)
			e[i].out[k] = (uint8_t)rnd();
	}
	for (int steps = 0; steps < 1000000; steps++) {
		uint64_t next = STREAM_NEVER;
		int idx = -1;

		for (int i = 0; i < 2; i++) {
			size_t got;

			end_pump(&e[i], &l, !i, now);
			got = stream_read(&e[i].s, e[i].in + e[i].in_len,
					  e[!i].out_len - e[i].in_len + 1);
			e[i].in_len += got;
		}
		if (e[0].in_len == len_b && e[1].in_len == len_a &&
		    stream_all_acked(&e[0].s) && stream_all_acked(&e[1].s) &&
		    e[0].written == len_a && e[1].written == len_b) {
			ok = 1;
			break;
		}
		if (stream_failed(&e[0].s) || stream_failed(&e[1].s))
			break;
		/* Jump to the next event: a delivery or a timer. */
		for (int i = 0; i < l.n; i++)
			if (l.q[i].at < next) {
				next = l.q[i].at;
				idx = i;
			}
		for (int i = 0; i < 2; i++) {
			uint64_t d = stream_next_deadline(&e[i].s);

			if (d < next) {
				next = d;
				idx = -1;
			}
		}
		if (next == STREAM_NEVER)
			break;
		if (next > now)
			now = next;
		if (idx >= 0) {
			struct pkt p = l.q[idx];

			l.q[idx] = l.q[--l.n];
			l.delivered++;
			if (stream_input(&e[p.to].s, p.seq, p.ack, p.data, p.len,
					 now) < 0)
				H_FAIL("valid segment refused");
		}
	}
	if (ok) {
		CHECK_MEM(e[0].in, e[1].out, len_b);
		CHECK_MEM(e[1].in, e[0].out, len_a);
	}
	*end_time = now;
	for (int i = 0; i < 2; i++) {
		stream_free(&e[i].s);
		free(e[i].out);
		free(e[i].in);
	}
	free(e);
	free(l.q);
	return ok;
}

static void test_lossy_link(void)
{
	int fails = 0;
	uint64_t worst = 0, t;

	/* Handshake-sized exchanges, many seeds. */
	int runs = getenv("STREAM_RUNS") ? atoi(getenv("STREAM_RUNS")) : 300;
	int loss = getenv("STREAM_LOSS") ? atoi(getenv("STREAM_LOSS")) : 30;

	for (uint64_t seed = 1; seed <= (uint64_t)runs; seed++) {
		size_t a = 200 + seed * 37 % 6000, b = 300 + seed * 53 % 9000;

		if (!run_link(seed * 2654435761u, loss, 10, a, b, &t)) {
			if (fails++ < 5)
				H_FAIL("seed %llu (%zu/%zu bytes) did not finish",
				       (unsigned long long)seed, a, b);
		}
		if (t > worst)
			worst = t;
	}
	CHECK_INT(fails, 0);
	printf("# %d handshake-sized runs at %d%% loss, slowest %llu ms\n",
	       runs, loss, (unsigned long long)worst);
}

static void test_bulk(void)
{
	uint64_t t;

	/* More than the send cap both ways: the ring wraps many times. */
	CHECK(run_link(77, 30, 10, 300000, 200000, &t));
	CHECK(run_link(78, 0, 0, 1000000, 1, &t));
	CHECK(run_link(79, 0, 50, 0, 70000, &t));
}

static void test_gives_up(void)
{
	struct stream *s = malloc(sizeof(*s));
	struct stream_seg seg;
	uint8_t data[100] = { 1 };
	uint64_t now = 1000;
	static const uint64_t when[] = { 0, 250, 250, 750, 750, 1750, 1750,
					 3750, 3750, 7750, 7750 };
	int sends = 0;

	stream_init(s);
	CHECK_INT(stream_write(s, data, sizeof(data)), 100);
	CHECK_INT(stream_next_deadline(s), 0);
	/* Nothing ever comes back: retransmits back off, then it fails. */
	while (!stream_failed(s) && now < 60000) {
		while (stream_poll(s, now, &seg)) {
			CHECK_INT(seg.seq, 0);
			CHECK_INT(seg.len, 100);
			if (sends < 11 && now - 1000 != when[sends])
				H_FAIL("send %d at %llu ms", sends,
				       (unsigned long long)(now - 1000));
			sends++;
		}
		if (stream_failed(s))
			break;
		now = stream_next_deadline(s);
	}
	CHECK(stream_failed(s));
	CHECK(now >= 1000 + STREAM_GIVEUP_MS && now <= 1000 + STREAM_GIVEUP_MS + 100);
	/* At 0 ms once, then twice at 250, 750, 1750, 3750, 7750 ms. */
	CHECK_INT(sends, 11);
	CHECK_INT(stream_write(s, data, 1), -EPIPE);
	CHECK_INT(stream_poll(s, now + 100000, &seg), 0);
	CHECK(stream_next_deadline(s) == STREAM_NEVER);
	stream_free(s);
	free(s);
}

static void test_overlap_and_acks(void)
{
	struct stream *s = malloc(sizeof(*s));
	struct stream_seg seg;
	uint8_t msg[] = "hello, handshake", buf[64];
	size_t n;

	stream_init(s);
	/* Out of order, overlapping, duplicated pieces of "hello, handshake". */
	CHECK_INT(stream_input(s, 7, 0, msg + 7, 4, 0), 0);
	CHECK_INT(stream_readable(s), 0);
	CHECK_INT(stream_input(s, 3, 0, msg + 3, 6, 0), 0);
	CHECK_INT(stream_input(s, 0, 0, msg, 5, 0), 11);
	CHECK_INT(stream_input(s, 0, 0, msg, 11, 0), 0);	/* duplicate */
	n = stream_read(s, buf, 4);
	CHECK_INT(n, 4);
	CHECK_MEM(buf, "hell", 4);
	CHECK_INT(stream_input(s, 9, 0, msg + 9, 7, 0), 5);
	n = stream_read(s, buf, sizeof(buf));
	CHECK_INT(n, 12);
	CHECK_MEM(buf, "o, handshake", 12);
	CHECK_INT(stream_read(s, buf, sizeof(buf)), 0);
	/* Received data must be acked; after a duplicate, twice. */
	for (int i = 0; i < 2; i++) {
		CHECK_INT(stream_poll(s, 0, &seg), 1);
		CHECK_INT(seg.len, 0);
		CHECK_INT(seg.ack, 16);
	}
	CHECK_INT(stream_poll(s, 0, &seg), 0);
	CHECK_INT(stream_input(s, 16, 0, msg, 2, 0), 2);
	CHECK_INT(stream_poll(s, 0, &seg), 1);
	CHECK_INT(seg.ack, 18);
	CHECK_INT(stream_poll(s, 0, &seg), 0);
	CHECK_INT(stream_input(s, 2, 0, msg + 2, 3, 0), 0);
	CHECK_INT(stream_poll(s, 0, &seg), 1);
	CHECK_INT(seg.ack, 18);
	CHECK_INT(stream_poll(s, 0, &seg), 1);
	CHECK_INT(stream_poll(s, 0, &seg), 0);
	stream_read(s, buf, sizeof(buf));
	/* Acking bytes never sent is refused and changes nothing. */
	CHECK_INT(stream_input(s, 18, 1, NULL, 0, 0), -EINVAL);
	CHECK_INT(stream_input(s, UINT32_MAX - 2, 0, msg, 5, 0), -EINVAL);
	CHECK_INT(stream_write(s, msg, 5), 5);
	CHECK_INT(stream_poll(s, 0, &seg), 1);
	CHECK_INT(seg.len, 5);
	CHECK(!stream_all_acked(s));
	CHECK_INT(stream_input(s, 18, 6, NULL, 0, 0), -EINVAL);
	CHECK_INT(stream_input(s, 18, 3, NULL, 0, 0), 0);
	CHECK(!stream_all_acked(s));
	CHECK_INT(stream_input(s, 18, 5, NULL, 0, 0), 0);
	CHECK(stream_all_acked(s));
	CHECK(stream_next_deadline(s) == STREAM_NEVER);
	/* Data beyond the receive window is dropped, not stored. */
	CHECK_INT(stream_input(s, 18 + STREAM_RECV_CAP, 5, msg, 5, 0), 0);
	CHECK_INT(stream_readable(s), 0);
	stream_free(s);
	free(s);
}

static void test_send_cap(void)
{
	struct stream *s = malloc(sizeof(*s));
	static uint8_t big[STREAM_SEND_CAP + 100];
	struct stream_seg seg;

	stream_init(s);
	CHECK_INT(stream_write(s, big, sizeof(big)), STREAM_SEND_CAP);
	CHECK_INT(stream_write(s, big, 1), 0);
	CHECK_INT(stream_poll(s, 0, &seg), 1);
	CHECK_INT(seg.len, STREAM_SEG_MAX);
	CHECK_INT(stream_input(s, 0, STREAM_SEG_MAX, NULL, 0, 1), 0);
	CHECK_INT(stream_write(s, big, sizeof(big)), STREAM_SEG_MAX);
	stream_free(s);
	free(s);
}

int main(void)
{
	RUN(test_overlap_and_acks);
	RUN(test_send_cap);
	RUN(test_gives_up);
	RUN(test_lossy_link);
	RUN(test_bulk);
	return HARNESS_END();
}
