/*
 * The handshake's two cheap gates against spoofed floods, both pure (time
 * is an argument, in milliseconds of a monotonic clock):
 *  - mac1: proves the sender knows the responder's identity. Key =
 *    SHA-256("q2q-mac1-v1" || identity); mac1 = first 16 bytes of
 *    HMAC-SHA256(key, message bytes before the mac1 field).
 *  - cookie: proves the sender receives at its source address. cookie =
 *    first 16 bytes of HMAC-SHA256(secret, source ip (16 bytes, v4-mapped)
 *    || source port (2 bytes, network order) || sender_index (4 bytes LE)).
 *    The secret is random, replaced every COOKIE_ROTATE_MS; the previous
 *    one is still accepted, so a cookie lives between 120 and 240 s.
 * Both are HMACs with a key that rarely changes (our identity's mac1 key,
 * the two secrets), and a flood asks for one per datagram: a struct
 * cookie_hmac is libcrypto's HMAC keyed once, its pads hashed once, so a
 * MAC of a short message costs two SHA-256 blocks instead of four. Not
 * for more than one thread at a time.
 * A cookie opens one handshake: the jar remembers the last
 * COOKIE_SPENT_MAX it opened, so a captured HS segment replayed from its
 * sender's own address (whose cookie is valid for up to 240 s) cannot
 * start a TLS server again.
 * The jar holds secrets: cookie_jar_free wipes them.
 */
#ifndef Q2Q_COOKIE_H
#define Q2Q_COOKIE_H

#include <stddef.h>
#include <stdint.h>

struct sockaddr_in6;
struct cookie_hmac;	/* a key with its pads hashed (cookie.c) */

#define COOKIE_KEY_LEN		32
#define COOKIE_MAC_LEN		16
#define COOKIE_ROTATE_MS	120000u
#define COOKIE_SPENT_MAX	1024

struct cookie_jar {
	uint8_t cur[COOKIE_KEY_LEN];
	uint8_t prev[COOKIE_KEY_LEN];
	uint64_t born_ms;	/* when cur was made */
	int have_prev;
	struct cookie_hmac *hcur, *hprev;	/* cur's and prev's, owned */
	uint8_t spent[COOKIE_SPENT_MAX][COOKIE_MAC_LEN];	/* a ring */
	unsigned n_spent, next_spent;
};

/* Fetches libcrypto's HMAC once; called before the engine's sandbox
 * closes (cookie_hmac_new calls it too). 0 or -ENOTSUP. */
int cookie_init(void);
/* key, pads hashed, into a new *out (freed and wiped by
 * cookie_hmac_free). 0, -ENOMEM or -EINVAL. */
int cookie_hmac_new(const uint8_t key[COOKIE_KEY_LEN], struct cookie_hmac **out);
void cookie_hmac_free(struct cookie_hmac *k);

/* Derives the mac1 key for a responder identity. 0 or -EINVAL. */
int cookie_mac1_key(const char *responder_identity,
		    uint8_t key[COOKIE_KEY_LEN]);

/* mac1 over msg[0 .. len). 0 or -EINVAL. */
int cookie_mac1(const uint8_t key[COOKIE_KEY_LEN], const uint8_t *msg,
		size_t len, uint8_t mac[COOKIE_MAC_LEN]);

/*
 * For a built HELLO or HS datagram: computes mac1 over buf[0 .. mac_off) and
 * writes it at buf + mac_off (stamp), or checks the one there in constant
 * time (check: 0 or -EBADMSG; len is the datagram length).
 */
int cookie_mac1_stamp(const uint8_t key[COOKIE_KEY_LEN], uint8_t *buf,
		      size_t mac_off);
int cookie_mac1_check(const uint8_t key[COOKIE_KEY_LEN], const uint8_t *buf,
		      size_t len, size_t mac_off);
/* The same check with the key made once (the receiving side's). */
int cookie_mac1_verify(struct cookie_hmac *k, const uint8_t *buf,
		       size_t len, size_t mac_off);

/* Creates the first secret (getrandom). 0 or -errno (-ENOMEM). */
int cookie_jar_init(struct cookie_jar *j, uint64_t now_ms);
void cookie_jar_free(struct cookie_jar *j);

/* Rotates if due, then computes the cookie for src. 0 or -errno. */
int cookie_make(struct cookie_jar *j, const struct sockaddr_in6 *src,
		uint32_t sender_index, uint64_t now_ms,
		uint8_t cookie[COOKIE_MAC_LEN]);

/* Rotates if due, then 0 if cookie is valid for src, else -EBADMSG. */
int cookie_verify(struct cookie_jar *j, const struct sockaddr_in6 *src,
		  uint32_t sender_index, const uint8_t cookie[COOKIE_MAC_LEN],
		  uint64_t now_ms);

/* Records that a verified cookie opened a handshake: 0 the first time,
 * -EALREADY if it already did (among the last COOKIE_SPENT_MAX). */
int cookie_spend(struct cookie_jar *j, const uint8_t cookie[COOKIE_MAC_LEN]);

#endif
