/*
 * Datagrams between a node and its authority's UDP service (types 5..10 of
 * wire.h's space). Every one is authenticated with a per-node key the
 * authority hands out over the node's TLS link, so the service answers and
 * relays only for registered nodes; nothing here replies to anyone else.
 *
 *  5 PROBE       node -> authority, 64 bytes: 0 type | 1..3 zero |
 *                4 node_id u32 | 8 txid u64 | 16 mac[16] over 0..16 |
 *                32..63 zero padding (bigger than the reply: no amplification)
 *  6 PROBE_REPLY authority -> node, 56 bytes: 0 type | 1..3 zero |
 *                4 node_id | 8 txid | 16 observed address[16] (v4-mapped) |
 *                32 observed port (BE) | 34..39 zero | 40 mac[16] over 0..40
 *  7 RELAY       node -> authority: 0 type | 1..3 zero | 4 sender_id u32 |
 *                8 target_id u32 | 12 counter u64 | 20 mac[16] over the
 *                header before it and the payload | 36 payload (a q2q
 *                datagram for the target)
 *  8 RELAYED     authority -> node: same layout; sender_id is the source
 *                node, target_id the receiver, counter the authority's own
 *                per-receiver counter, mac keyed with the receiver's key.
 *  9 PUNCH       node -> node, 24 bytes: 0 type | 1..3 zero | 4 counter
 *                u32 | 8 mac[16] over 0..8, keyed with aw_punch_key
 *                (opens NAT mappings)
 * 10 PUNCH_ACK   node -> node, same layout: "your punch reached me here".
 *
 * The broker's token never goes on the wire: each side derives a key per
 * direction from it and both identities, so a PUNCH proves it comes from
 * the node the authority introduced, for this introduction only (the next
 * one brings a new token), towards this receiver only (not reflected back
 * to its sender), and its counter makes each one good once (the receiver
 * keeps a replay window per introduction).
 *
 * Integers little-endian except ports. mac = first 16 bytes of
 * HMAC-SHA256(key, covered bytes).
 */
#ifndef Q2Q_AUTHWIRE_H
#define Q2Q_AUTHWIRE_H

#include <stddef.h>
#include <stdint.h>

enum {
	AW_PROBE = 5,
	AW_PROBE_REPLY = 6,
	AW_RELAY = 7,
	AW_RELAYED = 8,
	AW_PUNCH = 9,
	AW_PUNCH_ACK = 10,
};

#define AW_KEY_LEN 32
#define AW_MAC_LEN 16
#define AW_PROBE_LEN 64
#define AW_PROBE_REPLY_LEN 56
#define AW_RELAY_HDR 36
#define AW_PUNCH_LEN 24
#define AW_TOKEN_LEN 16

struct aw_probe {
	uint32_t node_id;
	uint64_t txid;
	uint8_t addr[16];	/* reply only */
	uint16_t port;		/* reply only, host order */
};

struct aw_relay {
	uint32_t sender_id;
	uint32_t target_id;
	uint64_t counter;
	const uint8_t *payload;	/* points into the parsed buffer */
	size_t payload_len;
};

/* Builders return the length, or -ENOSPC. The key signs. */
int aw_build_probe(const struct aw_probe *p, const uint8_t key[AW_KEY_LEN], uint8_t *buf, size_t cap);
int aw_build_probe_reply(const struct aw_probe *p, const uint8_t key[AW_KEY_LEN], uint8_t *buf, size_t cap);
/* Writes the 36-byte header for payload already at buf + AW_RELAY_HDR. */
int aw_seal_relay(int type, const struct aw_relay *r, size_t payload_len,
    const uint8_t key[AW_KEY_LEN], uint8_t *buf, size_t cap);
int aw_build_punch(int type, uint32_t counter, const uint8_t key[AW_KEY_LEN], uint8_t *buf, size_t cap);
/* The PUNCH key from the node `from` to the node `to` for the introduction
 * whose token the broker gave both: HMAC-SHA256(token, "q2q punch" 0 from
 * 0 to). 0 or -EIO. */
int aw_punch_key(const uint8_t token[AW_TOKEN_LEN], const char *from, const char *to,
    uint8_t key[AW_KEY_LEN]);

/* Parsers check the layout only (0 or -EINVAL); the id names the key. */
int aw_parse_probe(int type, const uint8_t *buf, size_t len, struct aw_probe *out);
int aw_parse_relay(const uint8_t *buf, size_t len, struct aw_relay *out);
int aw_parse_punch(const uint8_t *buf, size_t len, uint32_t *counter);

/* Constant-time mac check of a parsed PROBE, PROBE_REPLY, RELAY, RELAYED,
 * PUNCH or PUNCH_ACK. */
int aw_verify(const uint8_t *buf, size_t len, const uint8_t key[AW_KEY_LEN]);

#endif
