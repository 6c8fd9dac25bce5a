/*
 * Fuzz target for the handshake byte stream (netstack/stream.c). The input
 * is a script of operations on one stream: segments arriving from a peer
 * (any seq, length and ack, including impossible ones), reads, writes,
 * polls and the passage of time. A model runs alongside: it knows which
 * received bytes the stream holds (a bitmap), so it predicts exactly what
 * stream_input returns, what stream_read hands out (in order, each byte
 * the one sent at that offset, never a byte no segment carried), what
 * stream_write accepts, and checks every segment stream_poll emits against
 * what was written and acknowledged.
 */
#include <errno.h>
#include <stddef.h>

#include "tests/fuzz/fuzz.h"
#include "netstack/stream.h"

/* Offsets the model tracks; the script is stopped before it gets there. */
#define RANGE	(1u << 22)

struct model {
	uint8_t held[RANGE / 8];	/* received bytes the stream must hold */
	uint64_t held_end;		/* held[] is all zero from here on */
	uint32_t nxt;			/* contiguous prefix of held */
	uint32_t read;			/* bytes handed out by stream_read */
	uint32_t written;		/* bytes taken by stream_write */
	uint32_t una;			/* highest ack the stream accepted */
	uint32_t max;			/* one past the highest byte polled */
	uint64_t progress;		/* when una last advanced */
	int failed;
};

static struct model m;

/*
 * The bytes each direction carries: offset o holds pat[o % period], with
 * periods prime and so no divisor of the ring sizes, so data taken from
 * the wrong ring slot shows. The tables are long enough for any segment
 * to be produced or compared with one memcpy/memcmp.
 */
#define RX_PERIOD	251
#define TX_PERIOD	241
#define PAT_LEN		(65536 + 256)

static uint8_t rx_pat[PAT_LEN], tx_pat[PAT_LEN];

static const uint8_t *rx_at(uint64_t o)
{
	return rx_pat + o % RX_PERIOD;
}

static const uint8_t *tx_at(uint64_t o)
{
	return tx_pat + o % TX_PERIOD;
}

static int held(uint32_t o)
{
	return m.held[o / 8] >> (o % 8) & 1;
}

/*
 * Marks [from, to) held. The model answers the same as a loop over the
 * bits, but whole bytes go with one memset: scripts deliver up to 5000
 * bytes per segment, and a turn per bit here and in held_run_end was
 * most of the third of the run the target itself took.
 */
static void held_mark(uint64_t from, uint64_t to)
{
	size_t whole;

	for (; from < to && from % 8; from++)
		m.held[from / 8] |= (uint8_t)(1u << (from % 8));
	if (from >= to)
		return;
	whole = (size_t)((to - from) / 8);
	memset(m.held + from / 8, 0xff, whole);
	for (from += (uint64_t)whole * 8; from < to; from++)
		m.held[from / 8] |= (uint8_t)(1u << (from % 8));
}

/* The first offset from o on, below limit, that is not held (or limit). */
static uint32_t held_run_end(uint32_t o, uint64_t limit)
{
	while (o < limit && o % 8 && held(o))
		o++;
	while (o + 8 <= limit && m.held[o / 8] == 0xff)
		o += 8;
	while (o < limit && held(o))
		o++;
	return o;
}

static void op_input(struct stream *s, struct fz *f, uint64_t now)
{
	uint8_t mode = fz_u8(f);
	uint32_t seq, ack, before = m.nxt;
	size_t len;
	uint8_t *data;
	uint64_t end, limit;
	int rc, want_einval, delta;

	switch (mode & 3) {
	case 0:	/* near the next expected byte, either side */
		delta = (int16_t)fz_u16(f);
		seq = (int64_t)m.nxt + delta < 0 ? 0 :
		      (uint32_t)((int64_t)m.nxt + delta);
		break;
	case 1:	/* somewhere in or past the window */
		seq = m.read + fz_u16(f);
		break;
	case 2:	/* anywhere, the 4 GiB edge included */
		seq = fz_u32(f);
		break;
	default:
		seq = m.nxt;
		break;
	}
	len = fz_u16(f);
	len = mode & 4 ? len % 5000 : len % 1400;
	switch (mode >> 3 & 3) {
	case 0:
		ack = m.max;
		break;
	case 1:
		ack = m.max - (m.max ? fz_u8(f) % (m.max + 1) : 0);
		break;
	case 2:
		ack = m.max + 1 + fz_u8(f);	/* acks what was never sent */
		break;
	default:
		ack = fz_u32(f);
		break;
	}
	data = fz_dup(rx_at(seq), len);
	want_einval = ack > m.max || (uint64_t)seq + len > UINT32_MAX;
	rc = stream_input(s, seq, ack, len ? data : NULL, len, now);
	free(data);
	if (want_einval) {
		FZ_CHECK(rc == -EINVAL);
		return;
	}
	FZ_CHECK(rc >= 0);
	if (ack > m.una) {
		m.una = ack;
		m.progress = now;
	}
	end = (uint64_t)seq + len;
	limit = (uint64_t)m.read + STREAM_RECV_CAP;
	if (end > limit)
		end = limit;
	held_mark(seq > m.nxt ? seq : m.nxt, end);
	if (end > m.held_end)
		m.held_end = end;
	m.nxt = held_run_end(m.nxt, limit);
	FZ_CHECK(rc == (int)(m.nxt - before));
	FZ_CHECK(stream_readable(s) == m.nxt - m.read);
	/* Every segment carrying data is acknowledged at once. */
	if (len && !m.failed)
		FZ_CHECK(stream_next_deadline(s) == 0);
}

static void op_read(struct stream *s, struct fz *f)
{
	size_t cap = fz_u16(f) % 6000, n, want;
	uint8_t *buf = malloc(cap ? cap : 1);

	FZ_CHECK(buf);
	want = m.nxt - m.read < cap ? m.nxt - m.read : cap;
	n = stream_read(s, buf, cap);
	FZ_CHECK(n == want);
	FZ_CHECK(n == 0 || memcmp(buf, rx_at(m.read), n) == 0);
	m.read += (uint32_t)n;
	free(buf);
}

static void op_write(struct stream *s, struct fz *f)
{
	size_t len = fz_u16(f) % 20000, room, want;
	uint8_t *buf = malloc(len ? len : 1);
	int rc;

	FZ_CHECK(buf);
	memcpy(buf, tx_at(m.written), len);
	rc = stream_write(s, buf, len);
	free(buf);
	if (m.failed) {
		FZ_CHECK(rc == -EPIPE);
		return;
	}
	room = STREAM_SEND_CAP - (size_t)(m.written - m.una);
	want = len < room ? len : room;
	FZ_CHECK(rc == (int)want);
	m.written += (uint32_t)want;
}

static void op_poll(struct stream *s, uint64_t now)
{
	struct stream_seg seg;

	for (int i = 0; i < 64; i++) {
		int was_failed = m.failed;
		int r = stream_poll(s, now, &seg);

		m.failed = stream_failed(s);
		if (m.failed && !was_failed) {
			/* Giving up needs unacked data and a long silence. */
			FZ_CHECK(m.una < m.max);
			FZ_CHECK(now >= m.progress + STREAM_GIVEUP_MS);
		}
		FZ_CHECK(!was_failed || m.failed);
		if (!r)
			break;
		FZ_CHECK(!m.failed);
		FZ_CHECK(seg.ack == m.nxt);
		FZ_CHECK(seg.len <= STREAM_SEG_MAX);
		if (seg.len == 0) {
			FZ_CHECK(seg.data == NULL);
			continue;
		}
		FZ_CHECK(seg.seq >= m.una);
		FZ_CHECK((uint64_t)seg.seq + seg.len <= m.written);
		FZ_CHECK(memcmp(seg.data, tx_at(seg.seq), seg.len) == 0);
		if (seg.seq + (uint32_t)seg.len > m.max)
			m.max = seg.seq + (uint32_t)seg.len;
		/* A segment goes out only when a timer is armed for it. */
		FZ_CHECK(stream_next_deadline(s) != STREAM_NEVER ||
			 stream_all_acked(s));
	}
	FZ_CHECK(stream_all_acked(s) == (m.una == m.written));
}

/*
 * One stream on the heap (exact size, so ASan still sees a write past its
 * end), made once: stream_init clears all of it for every input, and a
 * fresh 70 KiB allocation per input only cycled ASan's quarantine.
 */
static struct stream *strm;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t now = 1000;
	struct fz f;

	/* Clearing only the used part of the bitmap keeps runs fast. */
	memset(m.held, 0, (size_t)(m.held_end + 7) / 8);
	memset(&m.held_end, 0, sizeof(m) - offsetof(struct model, held_end));
	m.progress = now;
	stream_init(strm);
	fz_init(&f, data, size);
	while (f.left && (uint64_t)m.read + STREAM_RECV_CAP + 65536 < RANGE) {
		switch (fz_u8(&f) % 5) {
		case 0:
			op_input(strm, &f, now);
			break;
		case 1:
			op_read(strm, &f);
			break;
		case 2:
			op_write(strm, &f);
			break;
		case 3:
			op_poll(strm, now);
			break;
		default:
			now += fz_u16(&f) % 8000;
			break;
		}
	}
	stream_free(strm);
	return 0;
}

static void seeds(const char *dir)
{
	/* write 1000, poll, a peer segment acking it with 500 bytes, read */
	static const uint8_t conv[] = {
		2, 0xe8, 0x03,			/* write 1000 */
		3,				/* poll */
		0, 0x03, 0xf4, 0x01,		/* input at nxt, len 500, ack max */
		1, 0x00, 0x10,			/* read 4096 */
		3,
	};
	/* out of order, then the gap filled, then a duplicate */
	static const uint8_t reorder[] = {
		0, 0x01, 0x00, 0x02, 0x00, 0x02,	/* seq read+512, len 512 */
		0, 0x03, 0x00, 0x02,			/* seq nxt, len 512 */
		0, 0x03, 0x00, 0x02,			/* again */
		3, 1, 0xff, 0xff, 3,
	};
	/* a flight that is never acknowledged: retransmits, then gives up */
	static const uint8_t giveup[] = {
		2, 0x00, 0x30, 3,
		4, 0x00, 0x01, 3, 4, 0x00, 0x04, 3, 4, 0x40, 0x1f, 3,
		4, 0x40, 0x1f, 3, 4, 0x40, 0x1f, 3, 2, 0x10, 0x00,
	};

	fz_write_seed(dir, "conversation", conv, sizeof(conv));
	fz_write_seed(dir, "reorder", reorder, sizeof(reorder));
	fz_write_seed(dir, "giveup", giveup, sizeof(giveup));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fz_seed_mode(seeds);
	strm = malloc(sizeof(*strm));
	FZ_CHECK(strm);
	for (size_t i = 0; i < PAT_LEN; i++) {
		rx_pat[i] = (uint8_t)((i % RX_PERIOD) * 0x9d + 0x3b);
		tx_pat[i] = (uint8_t)((i % TX_PERIOD) * 0x35 + 0xc1);
	}
	return 0;
}
