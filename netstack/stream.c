/*
 * The handshake byte stream (see stream.h for the protocol). Both buffers
 * are rings indexed by byte offset modulo their size; the send ring holds
 * [snd_una, snd_end), the receive ring [rcv_read, rcv_read + cap), of which
 * [rcv_read, rcv_nxt) is readable and rhave marks out-of-order bytes beyond.
 */
#include <errno.h>
#include <string.h>

#include "netstack/stream.h"

#define SIDX(o)	((size_t)((o) % STREAM_SEND_CAP))
#define RIDX(o)	((size_t)((o) % STREAM_RECV_CAP))

static int have_get(const struct stream *s, uint32_t off)
{
	size_t i = RIDX(off);

	return (s->rhave[i / 8] >> (i % 8)) & 1;
}

static void have_set(struct stream *s, uint32_t off, int on)
{
	size_t i = RIDX(off);

	if (on)
		s->rhave[i / 8] |= (uint8_t)(1u << (i % 8));
	else
		s->rhave[i / 8] &= (uint8_t)~(1u << (i % 8));
}

void stream_init(struct stream *s)
{
	memset(s, 0, sizeof(*s));
	s->rto_ms = STREAM_RTO_INIT_MS;
	s->rto_at = STREAM_NEVER;
}

void stream_free(struct stream *s)
{
	/* The buffers held handshake records; leave nothing behind. */
	explicit_bzero(s, sizeof(*s));
}

int stream_write(struct stream *s, const uint8_t *data, size_t len)
{
	size_t room, n, first;

	if (s->failed)
		return -EPIPE;
	room = STREAM_SEND_CAP - (size_t)(s->snd_end - s->snd_una);
	n = len < room ? len : room;
	if (n > (size_t)(UINT32_MAX - s->snd_end))
		return -EFBIG;
	/* Copy in at most two pieces around the end of the ring. */
	first = STREAM_SEND_CAP - SIDX(s->snd_end);
	if (first > n)
		first = n;
	memcpy(s->sbuf + SIDX(s->snd_end), data, first);
	memcpy(s->sbuf, data + first, n - first);
	s->snd_end += (uint32_t)n;
	return (int)n;
}

static void take_ack(struct stream *s, uint32_t ack, uint64_t now)
{
	if (ack <= s->snd_una)
		return;
	s->snd_una = ack;
	if (s->snd_nxt < s->snd_una)
		s->snd_nxt = s->snd_una;
	s->progress_at = now;
	s->rto_ms = STREAM_RTO_INIT_MS;
	s->rto_at = s->snd_una < s->snd_max ? now + s->rto_ms : STREAM_NEVER;
}

int stream_input(struct stream *s, uint32_t seq, uint32_t ack,
		 const uint8_t *data, size_t len, uint64_t now)
{
	uint64_t start, end, limit;
	uint32_t before = s->rcv_nxt;
	int fresh = 0;

	if (ack > s->snd_max || (uint64_t)seq + len > UINT32_MAX ||
	    (len && !data))
		return -EINVAL;
	take_ack(s, ack, now);
	if (len == 0)
		return 0;
	/* Trim what we already have and what does not fit the window. */
	start = seq > s->rcv_nxt ? seq : s->rcv_nxt;
	end = (uint64_t)seq + len;
	limit = (uint64_t)s->rcv_read + STREAM_RECV_CAP;
	if (end > limit)
		end = limit;
	for (uint64_t o = start; o < end; o++) {
		if (have_get(s, (uint32_t)o))
			continue;
		s->rbuf[RIDX(o)] = data[o - seq];
		have_set(s, (uint32_t)o, 1);
		fresh = 1;
	}
	/* Marks only ever cover bytes past rcv_nxt, so clear as we advance. */
	while ((uint64_t)s->rcv_nxt < limit && have_get(s, s->rcv_nxt)) {
		have_set(s, s->rcv_nxt, 0);
		s->rcv_nxt++;
	}
	/*
	 * A segment with nothing new is a retransmission: our acks are being
	 * lost, so send the next one twice.
	 */
	if (!fresh)
		s->ack_pending = 2;
	else if (s->ack_pending < 1)
		s->ack_pending = 1;
	return (int)(s->rcv_nxt - before);
}

size_t stream_read(struct stream *s, uint8_t *buf, size_t cap)
{
	size_t n = s->rcv_nxt - s->rcv_read, first;

	if (n > cap)
		n = cap;
	first = STREAM_RECV_CAP - RIDX(s->rcv_read);
	if (first > n)
		first = n;
	memcpy(buf, s->rbuf + RIDX(s->rcv_read), first);
	memcpy(buf + first, s->rbuf, n - first);
	s->rcv_read += (uint32_t)n;
	return n;
}

int stream_poll(struct stream *s, uint64_t now, struct stream_seg *seg)
{
	size_t n, to_ring_end;

	if (s->failed)
		return 0;
	if (s->snd_una < s->snd_max) {
		if (now >= s->progress_at + STREAM_GIVEUP_MS) {
			s->failed = 1;
			return 0;
		}
		if (now >= s->rto_at) {
			s->snd_nxt = s->snd_una;
			/* Loss is likely: the segment that unblocks goes twice. */
			s->resend_twice = 1;
			s->rto_ms *= 2;
			if (s->rto_ms > STREAM_RTO_MAX_MS)
				s->rto_ms = STREAM_RTO_MAX_MS;
			s->rto_at = now + s->rto_ms;
		}
	}
	if (s->snd_nxt < s->snd_end) {
		n = s->snd_end - s->snd_nxt;
		if (n > STREAM_SEG_MAX)
			n = STREAM_SEG_MAX;
		/* Segments never wrap the ring, so data can point into it. */
		to_ring_end = STREAM_SEND_CAP - SIDX(s->snd_nxt);
		if (n > to_ring_end)
			n = to_ring_end;
		if (s->snd_una == s->snd_max) {
			/* A new flight after an idle period. */
			s->progress_at = now;
			s->rto_ms = STREAM_RTO_INIT_MS;
			s->rto_at = now + s->rto_ms;
		}
		seg->seq = s->snd_nxt;
		seg->ack = s->rcv_nxt;
		seg->data = s->sbuf + SIDX(s->snd_nxt);
		seg->len = n;
		if (s->resend_twice && s->snd_nxt == s->snd_una &&
		    s->snd_una < s->snd_max) {
			s->resend_twice = 0;	/* same segment on the next poll */
		} else {
			s->snd_nxt += (uint32_t)n;
			if (s->snd_nxt > s->snd_max)
				s->snd_max = s->snd_nxt;
		}
		if (s->ack_pending)
			s->ack_pending--;
		return 1;
	}
	if (s->ack_pending) {
		seg->seq = s->snd_nxt;
		seg->ack = s->rcv_nxt;
		seg->data = NULL;
		seg->len = 0;
		s->ack_pending--;
		return 1;
	}
	return 0;
}

uint64_t stream_next_deadline(const struct stream *s)
{
	uint64_t giveup;

	if (s->failed)
		return STREAM_NEVER;
	if (s->snd_nxt < s->snd_end || s->ack_pending)
		return 0;
	if (s->snd_una < s->snd_max) {
		giveup = s->progress_at + STREAM_GIVEUP_MS;
		return s->rto_at < giveup ? s->rto_at : giveup;
	}
	return STREAM_NEVER;
}

int stream_all_acked(const struct stream *s)
{
	return s->snd_una == s->snd_end;
}

int stream_failed(const struct stream *s)
{
	return s->failed;
}

size_t stream_readable(const struct stream *s)
{
	return s->rcv_nxt - s->rcv_read;
}
