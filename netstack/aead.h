/*
 * The data-plane AEAD: ChaCha20-Poly1305 (RFC 8439) or AES-256-GCM
 * (NIST SP 800-38D) from OpenSSL's libcrypto, with a 64-bit packet counter
 * as nonce (4 zero bytes || counter little-endian). A struct aead holds one
 * key, made once per session key and reused for every packet: sealing or
 * opening allocates nothing. A key must never seal two messages with the
 * same counter; the caller's counter guarantees that.
 */
#ifndef Q2Q_AEAD_H
#define Q2Q_AEAD_H

#include <stddef.h>
#include <stdint.h>

#define AEAD_KEY_LEN	32
#define AEAD_TAG_LEN	16
#define AEAD_NONCE_LEN	12

enum aead_cipher {
	AEAD_CHACHA20_POLY1305,
	AEAD_AES256_GCM,
};
#define AEAD_NCIPHERS	2

struct aead;

/*
 * Loads both ciphers from libcrypto, without reading any OpenSSL
 * configuration file. Called once per process before the sandbox closes
 * (aead_new calls it too). 0, or -ENOTSUP if libcrypto lacks one.
 */
int aead_init(void);

/*
 * 1 if this CPU runs AES-GCM in hardware (x86 AES-NI and PCLMULQDQ, Arm
 * AES and PMULL), where AES-256-GCM is the faster data cipher; 0 otherwise,
 * or when the environment sets Q2Q_NO_HW_AES to anything but "" or "0"
 * (tests, and hosts whose AES instructions are emulated).
 */
int aead_hw_aes(void);

/* "chacha20-poly1305", "aes-256-gcm"; "?" for anything else. */
const char *aead_cipher_name(enum aead_cipher c);

/*
 * A context for key (copied; the caller wipes its own copy). 0 and *out
 * (the caller's; free with aead_free), -EINVAL, -ENOTSUP or -ENOMEM.
 */
int aead_new(enum aead_cipher c, const uint8_t key[AEAD_KEY_LEN],
	     struct aead **out);
/* Wipes the key schedule and frees a; NULL is fine. */
void aead_free(struct aead *a);
enum aead_cipher aead_cipher_of(const struct aead *a);

/*
 * Encrypts len bytes of pt into out as ciphertext || tag (len + 16 bytes).
 * out may equal pt (in place). Returns 0, -EINVAL or -EIO.
 */
int aead_seal(struct aead *a, uint64_t ctr,
	      const uint8_t *ad, size_t adlen,
	      const uint8_t *pt, size_t len, uint8_t *out);

/*
 * Checks and decrypts ct (ctlen bytes including the tag) into out
 * (ctlen - 16 bytes; out may equal ct). Returns the plaintext length, or
 * -EBADMSG if it does not authenticate (out is then zeroed), -EINVAL for
 * bad arguments.
 */
int aead_open(struct aead *a, uint64_t ctr,
	      const uint8_t *ad, size_t adlen,
	      const uint8_t *ct, size_t ctlen, uint8_t *out);

/*
 * A lane: one thread's own contexts, sealing and opening under the keys
 * of many aeads in turn. An aead's context must never be used by two
 * threads at once, so the data path's worker threads each own a lane;
 * a lane sets an aead's key (kept in the aead, wiped with it) only when
 * the aead it last served under that cipher was another. The aead must
 * outlive every call that names it; it is only read. 0 and *out (free
 * with aead_lane_free), -ENOTSUP or -ENOMEM.
 */
struct aead_lane;
int aead_lane_new(struct aead_lane **out);
void aead_lane_free(struct aead_lane *l);
/* aead_seal and aead_open through lane l under a's key (-EIO also if
 * the key cannot be set). */
int aead_lane_seal(struct aead_lane *l, const struct aead *a, uint64_t ctr,
		   const uint8_t *ad, size_t adlen,
		   const uint8_t *pt, size_t len, uint8_t *out);
int aead_lane_open(struct aead_lane *l, const struct aead *a, uint64_t ctr,
		   const uint8_t *ad, size_t adlen,
		   const uint8_t *ct, size_t ctlen, uint8_t *out);

/* The same with a raw 96-bit nonce, for test vectors. */
int aead_seal_nonce(struct aead *a, const uint8_t nonce[AEAD_NONCE_LEN],
		    const uint8_t *ad, size_t adlen,
		    const uint8_t *pt, size_t len, uint8_t *out);
int aead_open_nonce(struct aead *a, const uint8_t nonce[AEAD_NONCE_LEN],
		    const uint8_t *ad, size_t adlen,
		    const uint8_t *ct, size_t ctlen, uint8_t *out);

#endif
