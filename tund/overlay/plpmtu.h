/*
 * Packetization-layer path MTU discovery for one direct path (RFC 8899
 * in spirit), without I/O: which probe sizes to send when, what an
 * acknowledgement or a silence means, and the path MTU confirmed so far.
 * Sizes are of the whole outer IP packet (IP + UDP + DATA), the figure a
 * link's MTU limits. A probe is a padded, sealed DATA message the peer
 * acknowledges inside the same session (PROTOCOL.md), so neither a lost
 * ICMP message nor a forged one can move the figure; only the peer can.
 *
 * The search starts from PLPMTU_BASE (assumed to pass, as IPv6 requires
 * of every link) towards `max` (what q2q0's MTU would need): each round
 * sends up to PLPMTU_PROBES sizes at once, spread over the sizes still in
 * doubt, the largest first in the list of candidates so a path that
 * carries everything is found in one round trip. A size counts as too big
 * only when it went unanswered PLPMTU_TRIES times, so one lost probe does
 * not narrow the path. Once found, the figure is confirmed every
 * PLPMTU_CONFIRM_MS while traffic flows; PLPMTU_MISSES confirmations in a
 * row unanswered (a black hole: the path narrowed and dropped the ICMP)
 * drop it to PLPMTU_BASE and search again; every PLPMTU_RAISE_MS a search
 * upwards looks for a path that grew. All times are ms from the caller.
 */
#ifndef Q2Q_PLPMTU_H
#define Q2Q_PLPMTU_H

#include <stddef.h>
#include <stdint.h>

#define PLPMTU_BASE		1280
#define PLPMTU_PROBES		4
#define PLPMTU_TRIES		2
#define PLPMTU_WAIT_MS		1000	/* for a round's acknowledgements */
#define PLPMTU_STEP		4	/* search done when closer than this */
#define PLPMTU_CONFIRM_MS	1000
#define PLPMTU_MISSES		3
#define PLPMTU_RAISE_MS		30000

enum plpmtu_state { PLPMTU_SEARCH, PLPMTU_DONE };

struct plpmtu {
	int state;
	int mtu;			/* confirmed: packets of this size pass */
	int hi;				/* largest size not shown too big */
	int max;			/* largest size worth having */
	/* The round in flight (n == 0: none). */
	uint32_t round;			/* its id, echoed by acknowledgements */
	int n, size[PLPMTU_PROBES], tries, confirm;
	unsigned acked;			/* bit i: size[i] acknowledged */
	uint64_t wait_ms;		/* round given up at */
	uint64_t next_ms;		/* next search round or confirmation */
	uint64_t raise_ms;		/* search upwards again at */
	int misses;			/* confirmations unanswered in a row */
};

/* A new path: mtu PLPMTU_BASE (or max if smaller), searching from now.
 * Round ids go on from what s held (callers zero s once), so a late
 * acknowledgement from the previous path cannot count for this one. */
void plpmtu_start(struct plpmtu *s, int max, uint64_t now);
/* q2q0's MTU changed what is worth having: search again if max moved. */
void plpmtu_set_max(struct plpmtu *s, int max, uint64_t now);

/* Probes to send now: their count (0: none) with the sizes in sizes[]
 * and the round id in *round. active: data went to the peer lately
 * (confirmations are sent only then). */
int plpmtu_poll(struct plpmtu *s, uint64_t now, int active, int sizes[PLPMTU_PROBES],
    uint32_t *round);
/* The peer acknowledged a probe of `size` bytes of round `round`: 1 if
 * the confirmed MTU moved, else 0 (also for a stale or unknown one). */
int plpmtu_ack(struct plpmtu *s, uint32_t round, int size, uint64_t now);
/* When plpmtu_poll next has something to do (the earlier of next and it). */
uint64_t plpmtu_next(const struct plpmtu *s, uint64_t next);

/*
 * The probe and its acknowledgement, q2q messages inside a DATA plaintext:
 *   PROBE 0x03 | 0 0 0 | round u32 | size u16 | 0 0 | zero padding
 *   ACK   0x04 | 0 0 0 | round u32 | size u16 | 0 0      (exactly 12)
 * little-endian; size is the outer packet size the sender meant.
 */
#define PLPMTU_MSG_PROBE	0x03
#define PLPMTU_MSG_ACK		0x04
#define PLPMTU_MSG_LEN		12
/* Writes a message of type (PROBE or ACK) and len bytes (ACK: exactly
 * PLPMTU_MSG_LEN; PROBE: at least): len, or -EINVAL. */
int plpmtu_msg_build(uint8_t type, uint32_t round, int size, uint8_t *buf, size_t len);
/* Parses one: its type, or -EINVAL (short, long ACK, nonzero reserved or
 * padding bytes, size outside 1..65535). */
int plpmtu_msg_parse(const uint8_t *m, size_t len, uint32_t *round, int *size);

#endif
