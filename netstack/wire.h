/*
 * The node-to-node UDP datagram formats: encoding and strict parsing. Parsers
 * take (buf, len), check every length and reserved bit, and fill a struct
 * whose payload pointers point into buf (so buf must outlive the struct).
 * Builders write into a caller buffer and return the length or -ENOSPC.
 * Nothing here allocates.
 *
 * Protocol (version 1). The first byte of every datagram is its type; all
 * integers are little-endian. Session index 0 is never assigned: it means
 * "not known yet".
 *
 *  1 HELLO   initiator -> responder, starts a handshake. Exactly 64 bytes:
 *            0 type | 1..3 reserved (0) | 4 sender_index u32 |
 *            8 nonce[16] | 24 mac1[16] | 40..63 zero padding.
 *            The padding makes HELLO bigger than its COOKIE reply, so the
 *            responder never amplifies a spoofed sender's traffic.
 *  2 COOKIE  responder -> initiator, only after the HELLO's mac1 verified;
 *            the responder keeps no state. Exactly 40 bytes:
 *            0 type | 1..3 reserved | 4 receiver_index u32 (the HELLO's
 *            sender_index) | 8 cookie[16] | 24 nonce echo[16].
 *  3 HS      a handshake-stream segment, both directions, 52-byte header:
 *            0 type | 1 flags (none defined, must be 0) | 2..3 reserved |
 *            4 sender_index u32 | 8 receiver_index u32 | 12 seq u32 (byte
 *            offset of the data in this direction's stream) | 16 ack u32
 *            (bytes of the other direction received in order) |
 *            20 cookie[16] | 36 mac1[16] | 52 TLS bytes.
 *            While receiver_index == 0 (initiator, responder index unknown)
 *            cookie and mac1 must be set; otherwise both must be all zero.
 *            The responder creates state only for a HS with a valid mac1
 *            and a valid cookie.
 *  4 DATA    0 type | 1..3 reserved | 4 receiver_index u32 | 8 counter u64 |
 *            16 ciphertext || 16-byte Poly1305 tag. The 16-byte header is
 *            the AEAD associated data. Empty plaintext = keepalive.
 *  5..15     reserved for the authority's UDP service (reflexive address,
 *            relay); wire_type() reports them, this file does not parse them.
 *  other     wire_type() returns -EPROTO.
 *
 * mac1 = first 16 bytes of HMAC-SHA256(SHA-256("q2q-mac1-v1" || responder
 * identity), message bytes before the mac1 field) — see cookie.h. For HS the
 * TLS bytes after mac1 are not covered: TLS authenticates them itself, mac1
 * only proves the sender knows whom it is talking to.
 */
#ifndef Q2Q_WIRE_H
#define Q2Q_WIRE_H

#include <stddef.h>
#include <stdint.h>

enum wire_type {
	WIRE_HELLO = 1,
	WIRE_COOKIE = 2,
	WIRE_HS = 3,
	WIRE_DATA = 4,
	WIRE_AUTH_FIRST = 5,	/* authority UDP service types 5..15 */
	WIRE_AUTH_LAST = 15,
};

#define WIRE_MAC_LEN		16
#define WIRE_NONCE_LEN		16
#define WIRE_COOKIE_LEN		16
#define WIRE_TAG_LEN		16

#define WIRE_HELLO_LEN		64
#define WIRE_HELLO_MAC1_OFF	24	/* mac1 covers buf[0 .. 24) */
#define WIRE_COOKIE_MSG_LEN	40
#define WIRE_HS_HDR_LEN		52
#define WIRE_HS_MAC1_OFF	36	/* mac1 covers buf[0 .. 36) */
#define WIRE_DATA_HDR_LEN	16
#define WIRE_DATA_MIN_LEN	(WIRE_DATA_HDR_LEN + WIRE_TAG_LEN)

struct wire_hello {
	uint32_t sender_index;
	uint8_t nonce[WIRE_NONCE_LEN];
	uint8_t mac1[WIRE_MAC_LEN];
};

struct wire_cookie {
	uint32_t receiver_index;
	uint8_t cookie[WIRE_COOKIE_LEN];
	uint8_t nonce[WIRE_NONCE_LEN];
};

struct wire_hs {
	uint8_t flags;
	uint32_t sender_index;
	uint32_t receiver_index;
	uint32_t seq;
	uint32_t ack;
	uint8_t cookie[WIRE_COOKIE_LEN];
	uint8_t mac1[WIRE_MAC_LEN];
	const uint8_t *data;	/* points into the parsed buffer */
	size_t data_len;
};

struct wire_data {
	uint32_t receiver_index;
	uint64_t counter;
	const uint8_t *header;	/* the 16 header bytes: AEAD associated data */
	const uint8_t *ct;	/* ciphertext || tag, points into the buffer */
	size_t ct_len;		/* includes the 16-byte tag */
};

/* Type byte 1..15 of a datagram, -EINVAL if empty, -EPROTO if unknown. */
int wire_type(const uint8_t *buf, size_t len);

/* Each returns 0 or -EINVAL (wrong length, type, reserved bits or index). */
int wire_parse_hello(const uint8_t *buf, size_t len, struct wire_hello *out);
int wire_parse_cookie(const uint8_t *buf, size_t len, struct wire_cookie *out);
int wire_parse_hs(const uint8_t *buf, size_t len, struct wire_hs *out);
int wire_parse_data(const uint8_t *buf, size_t len, struct wire_data *out);

/*
 * Builders return the datagram length or -ENOSPC. mac1 is copied from the
 * struct as is: to stamp it, build, then compute mac1 over buf[0 .. *_MAC1_OFF)
 * and write it at that offset (cookie_mac1_stamp does both steps).
 * wire_build_hs copies in->data (in->data_len bytes) after the header.
 * wire_build_data_header writes only the 16-byte header; the caller seals
 * the payload right after it.
 */
int wire_build_hello(const struct wire_hello *in, uint8_t *buf, size_t cap);
int wire_build_cookie(const struct wire_cookie *in, uint8_t *buf, size_t cap);
int wire_build_hs(const struct wire_hs *in, uint8_t *buf, size_t cap);
int wire_build_data_header(uint32_t receiver_index, uint64_t counter,
			   uint8_t *buf, size_t cap);

#endif
