/*
 * The ChaCha20 stream cipher of RFC 8439 (32-bit block counter, 96-bit
 * nonce), for the data-plane AEAD. Keystream is made several blocks at a
 * time with SSE2 (4 blocks) or AVX2 (8 blocks) when the CPU has them,
 * chosen at run time; a portable scalar version covers the rest and the
 * short tails. No function keeps state or allocates; callers own all
 * buffers.
 */
#ifndef Q2Q_CHACHA_H
#define Q2Q_CHACHA_H

#include <stddef.h>
#include <stdint.h>

#define CHACHA20_KEY_LEN	32
#define CHACHA20_NONCE_LEN	12
#define CHACHA20_BLOCK_LEN	64

/* Implementations, for tests and benchmarks; AUTO picks the fastest. */
enum chacha20_impl {
	CHACHA20_IMPL_AUTO,
	CHACHA20_IMPL_SCALAR,
	CHACHA20_IMPL_SSE2,
	CHACHA20_IMPL_AVX2,
};

/* One keystream block (RFC 8439 section 2.3) for the given block counter. */
void chacha20_block(const uint8_t key[CHACHA20_KEY_LEN], uint32_t counter,
		    const uint8_t nonce[CHACHA20_NONCE_LEN],
		    uint8_t out[CHACHA20_BLOCK_LEN]);

/*
 * XORs len bytes of keystream, starting at block counter, into in and
 * writes the result to out (section 2.4: encryption and decryption are
 * the same). out may equal in; other overlaps are not allowed. The
 * counter wraps modulo 2^32 like the RFC's, so callers keep messages
 * below 256 GB.
 */
void chacha20_xor(const uint8_t key[CHACHA20_KEY_LEN], uint32_t counter,
		  const uint8_t nonce[CHACHA20_NONCE_LEN],
		  const uint8_t *in, uint8_t *out, size_t len);

struct poly1305;

/*
 * chacha20_xor, and poly1305_update(p, mac, maclen) at the same time, for
 * the AEAD: with AVX2 the Poly1305 multiplies are interleaved with the
 * ChaCha20 rounds; otherwise the two simply run one after the other. The
 * result is the same either way. mac must not overlap out (it may be the
 * ciphertext of an earlier call, or the input of this one when out is
 * another buffer).
 */
void chacha20_xor_poly1305(const uint8_t key[CHACHA20_KEY_LEN],
			   uint32_t counter,
			   const uint8_t nonce[CHACHA20_NONCE_LEN],
			   const uint8_t *in, uint8_t *out, size_t len,
			   struct poly1305 *p, const uint8_t *mac, size_t maclen);

/*
 * Makes chacha20_xor use one implementation (tests and benchmarks only:
 * the daemon leaves it on AUTO). Returns 0, or -ENOTSUP if this CPU
 * lacks it. Not thread-safe.
 */
int chacha20_set_impl(enum chacha20_impl impl);

/* Name of the implementation chacha20_xor currently uses ("avx2", ...). */
const char *chacha20_impl_name(void);

#endif
