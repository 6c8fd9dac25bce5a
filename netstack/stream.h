/*
 * A reliable, ordered byte stream over lossy, reordering, duplicating
 * datagrams, just enough to carry TLS handshake records (one stream per
 * handshake; each side has a send and a receive direction).
 *
 * Pure: no sockets, time is an argument (milliseconds, monotonic). The
 * caller feeds received segments to stream_input and sends what stream_poll
 * hands out, calling stream_poll again until it returns 0, and again when
 * stream_next_deadline passes.
 *
 * Sequence numbers are byte offsets from 0 (no wrap: a stream carries less
 * than 4 GiB). The sender keeps up to STREAM_SEND_CAP unacknowledged bytes,
 * sends segments of at most STREAM_SEG_MAX bytes and, when the oldest
 * unacknowledged byte is not acked within the retransmission timeout (250 ms,
 * doubling to at most 4 s, reset by progress), sends everything again from
 * the cumulative ack (go-back-N: handshake flights are a few segments),
 * the first of them twice, since a timeout means loss. With no progress for
 * STREAM_GIVEUP_MS it fails for good.
 * The receiver keeps out-of-order bytes that fit in its STREAM_RECV_CAP
 * window (so one lost segment costs one retransmission round, not a whole
 * flight), trims what it already has, and acks every segment carrying data,
 * even a duplicate; a duplicate means its earlier ack was lost, so that ack
 * goes out twice. This redundancy only costs when packets are being lost,
 * and lets a small flight survive six rounds of 30% loss each way.
 *
 * The struct is public only so it can be embedded (it is ~70 KiB: allocate
 * its owner on the heap); treat the fields as private.
 */
#ifndef Q2Q_STREAM_H
#define Q2Q_STREAM_H

#include <stddef.h>
#include <stdint.h>

#define STREAM_SEG_MAX		1100
#define STREAM_SEND_CAP		32768
#define STREAM_RECV_CAP		32768
#define STREAM_RTO_INIT_MS	250
#define STREAM_RTO_MAX_MS	4000
#define STREAM_GIVEUP_MS	10000
#define STREAM_NEVER		UINT64_MAX

/* One segment to send; data points into the stream, valid until its next call. */
struct stream_seg {
	uint32_t seq;
	uint32_t ack;
	const uint8_t *data;
	size_t len;		/* 0: a pure ack */
};

struct stream {
	uint32_t snd_una;	/* oldest unacknowledged byte */
	uint32_t snd_nxt;	/* next byte to (re)send */
	uint32_t snd_max;	/* one past the highest byte ever sent */
	uint32_t snd_end;	/* one past the last byte written */
	uint32_t rto_ms;
	uint64_t rto_at;	/* STREAM_NEVER when nothing is in flight */
	uint64_t progress_at;	/* last ack advance, or start of this flight */
	uint32_t rcv_read;	/* next byte stream_read hands out */
	uint32_t rcv_nxt;	/* one past the last in-order byte received */
	int ack_pending;	/* acks still to send (2 after a duplicate) */
	int resend_twice;	/* after a timeout, send snd_una's segment twice */
	int failed;
	uint8_t sbuf[STREAM_SEND_CAP];	/* ring, indexed by offset % cap */
	uint8_t rbuf[STREAM_RECV_CAP];
	uint8_t rhave[STREAM_RECV_CAP / 8];	/* out-of-order bytes held */
};

void stream_init(struct stream *s);
void stream_free(struct stream *s);	/* wipes the buffers */

/*
 * Queues up to len bytes; returns how many were taken (0 when the send
 * buffer is full: try again after acks), or -EPIPE once the stream failed,
 * -EFBIG past 4 GiB.
 */
int stream_write(struct stream *s, const uint8_t *data, size_t len);

/*
 * Feeds a received segment. Returns the number of bytes that became
 * readable, or -EINVAL for an impossible segment (acks bytes never sent,
 * seq + len past 4 GiB), which then changes nothing.
 */
int stream_input(struct stream *s, uint32_t seq, uint32_t ack,
		 const uint8_t *data, size_t len, uint64_t now);

/* Copies up to cap in-order bytes out; returns the count, 0 = none yet. */
size_t stream_read(struct stream *s, uint8_t *buf, size_t cap);

/* 1 and fills *seg if a segment must be sent now, else 0. */
int stream_poll(struct stream *s, uint64_t now, struct stream_seg *seg);

/* When stream_poll must next be called (0 = now, STREAM_NEVER = idle). */
uint64_t stream_next_deadline(const struct stream *s);

/* 1 when every written byte was acknowledged. */
int stream_all_acked(const struct stream *s);
/* 1 once the sender gave up (no progress for STREAM_GIVEUP_MS). */
int stream_failed(const struct stream *s);
/* In-order bytes waiting for stream_read. */
size_t stream_readable(const struct stream *s);

#endif
