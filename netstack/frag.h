/*
 * Splitting an inner packet across several sealed DATA messages, and
 * putting it back together, for paths narrower than the packets q2q0 must
 * carry (IPv6 needs 1280 bytes, whatever the path). Routers never
 * fragment our datagrams (the socket sets DF); this does instead, inside
 * the AEAD, so every fragment is authenticated on its own and a forger
 * cannot add, change or move one. Pure: no I/O, no clock (callers pass
 * `now` in ms), no allocation.
 *
 * A fragment is a q2q message, the plaintext of one DATA message:
 *   0 type FRAG_MSG (0x05) | 1 reserved (0) | 2 id u16 | 4 offset u16 |
 *   6 total u16 | 8 data (1 .. total - offset bytes)
 * little-endian, as the rest of the data plane. id names the packet
 * among the sender's recent ones to this peer; offset and total are the
 * data's place in it, in bytes. Fragments of one packet may come in any
 * order and must not overlap.
 */
#ifndef Q2Q_FRAG_H
#define Q2Q_FRAG_H

#include <stddef.h>
#include <stdint.h>

#define FRAG_MSG	0x05
#define FRAG_HDR_LEN	8
#define FRAG_PKT_MAX	2048	/* largest packet put back together */
#define FRAG_MAX	8	/* fragments of one packet, at most */
#define FRAG_SLOTS	8	/* packets being put back together at once */
#define FRAG_TIMEOUT_MS	1000	/* a packet not whole by then is dropped */

struct frag_hdr {
	uint16_t id, offset, total;
	const uint8_t *data;	/* points into the parsed message */
	size_t len;
};

/* Parses a fragment message: 0, or -EINVAL (short, wrong type, reserved
 * byte set, total 0 or over FRAG_PKT_MAX, empty or past total). */
int frag_parse(const uint8_t *m, size_t len, struct frag_hdr *out);

/* How many fragments a packet of len bytes needs when each message may
 * have `room` bytes (header included); -EMSGSIZE if more than FRAG_MAX
 * or len is 0 or over FRAG_PKT_MAX. */
int frag_count(size_t len, size_t room);

/* Writes fragment k (0-based) of pkt (len bytes), cut for messages of
 * `room` bytes, into out: its length, or -EINVAL / -ENOSPC. All but the
 * last fragment carry the same amount of data. */
int frag_build(const uint8_t *pkt, size_t len, size_t room, int k, uint16_t id, uint8_t *out,
    size_t cap);

/* Packets being put back together, keyed by (key, id): key tells senders
 * apart (the session's receiver index), id their packets. */
struct frag_slot {
	int used;
	uint32_t key;
	uint16_t id, total;
	size_t got;			/* bytes received */
	uint64_t born_ms;
	uint8_t have[FRAG_PKT_MAX / 8];	/* which bytes came */
	uint8_t buf[FRAG_PKT_MAX];
};

struct frag_table {
	struct frag_slot slot[FRAG_SLOTS];
	uint64_t done, dropped;		/* packets completed; slots given up */
};

void frag_table_init(struct frag_table *t);

/*
 * Adds one fragment message m (len bytes) from sender `key`. Returns 1
 * with *pkt / *pkt_len the whole packet (the table's, writable, valid
 * until the next call on t),
 * 0 if more fragments are awaited, or -EINVAL (malformed, overlaps what
 * came, or disagrees with the packet's total: the slot is given up).
 * A full table gives up the oldest slot; slots older than FRAG_TIMEOUT_MS
 * are given up first.
 */
int frag_add(struct frag_table *t, uint32_t key, const uint8_t *m, size_t len, uint64_t now,
    uint8_t **pkt, size_t *pkt_len);

#endif
