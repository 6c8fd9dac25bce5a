/*
 * The data-plane AEAD: ChaCha20-Poly1305 (RFC 8439) with a 64-bit packet
 * counter as nonce (4 zero bytes || counter little-endian). Kept to these
 * few functions so another backend (e.g. a faster libcrypto) can be
 * measured and swapped in behind them. A key must never seal two messages
 * with the same counter; the caller's counter guarantees that.
 */
#ifndef Q2Q_AEAD_H
#define Q2Q_AEAD_H

#include <stddef.h>
#include <stdint.h>

#define AEAD_KEY_LEN	32
#define AEAD_TAG_LEN	16
#define AEAD_NONCE_LEN	12

/*
 * Encrypts len bytes of pt into out as ciphertext || tag (len + 16 bytes).
 * out may equal pt (in place). Returns 0 or -EINVAL.
 */
int aead_seal(const uint8_t key[AEAD_KEY_LEN], uint64_t ctr,
	      const uint8_t *ad, size_t adlen,
	      const uint8_t *pt, size_t len, uint8_t *out);

/*
 * Checks and decrypts ct (ctlen bytes including the tag) into out
 * (ctlen - 16 bytes; out may equal ct). Returns the plaintext length, or
 * -EBADMSG if it does not authenticate (out is then zeroed), -EINVAL for
 * bad arguments.
 */
int aead_open(const uint8_t key[AEAD_KEY_LEN], uint64_t ctr,
	      const uint8_t *ad, size_t adlen,
	      const uint8_t *ct, size_t ctlen, uint8_t *out);

/* The same with a raw 96-bit nonce, for test vectors. */
int aead_seal_nonce(const uint8_t key[AEAD_KEY_LEN],
		    const uint8_t nonce[AEAD_NONCE_LEN],
		    const uint8_t *ad, size_t adlen,
		    const uint8_t *pt, size_t len, uint8_t *out);
int aead_open_nonce(const uint8_t key[AEAD_KEY_LEN],
		    const uint8_t nonce[AEAD_NONCE_LEN],
		    const uint8_t *ad, size_t adlen,
		    const uint8_t *ct, size_t ctlen, uint8_t *out);

#endif
