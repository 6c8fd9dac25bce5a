/*
 * ChaCha20-Poly1305 through wolfCrypt's one-shot functions. The only place
 * in the data plane that knows which crypto library is underneath.
 */
#include <errno.h>
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/chacha20_poly1305.h>

#include "netstack/aead.h"

/* Lengths must fit wolfCrypt's word32 and our int return; datagrams are far smaller. */
#define AEAD_MAX_LEN	((size_t)INT32_MAX - AEAD_TAG_LEN)

static void counter_nonce(uint64_t ctr, uint8_t nonce[AEAD_NONCE_LEN])
{
	memset(nonce, 0, 4);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(ctr >> (8 * i));
}

int aead_seal_nonce(const uint8_t key[AEAD_KEY_LEN],
		    const uint8_t nonce[AEAD_NONCE_LEN],
		    const uint8_t *ad, size_t adlen,
		    const uint8_t *pt, size_t len, uint8_t *out)
{
	static const uint8_t empty[1];

	if (!key || !nonce || !out || len > AEAD_MAX_LEN ||
	    adlen > UINT32_MAX || (!pt && len) || (!ad && adlen))
		return -EINVAL;
	/* wolfCrypt refuses NULL even with length 0 (a keepalive). */
	if (!pt)
		pt = empty;
	if (!ad)
		ad = empty;
	if (wc_ChaCha20Poly1305_Encrypt(key, nonce, ad, (word32)adlen,
					pt, (word32)len, out, out + len) != 0)
		return -EINVAL;
	return 0;
}

int aead_open_nonce(const uint8_t key[AEAD_KEY_LEN],
		    const uint8_t nonce[AEAD_NONCE_LEN],
		    const uint8_t *ad, size_t adlen,
		    const uint8_t *ct, size_t ctlen, uint8_t *out)
{
	static const uint8_t empty[1];
	size_t len;

	if (!key || !nonce || !ct || !out || adlen > UINT32_MAX ||
	    (!ad && adlen))
		return -EINVAL;
	if (!ad)
		ad = empty;
	if (ctlen < AEAD_TAG_LEN || ctlen - AEAD_TAG_LEN > AEAD_MAX_LEN)
		return -EBADMSG;
	len = ctlen - AEAD_TAG_LEN;
	/* wolfCrypt MACs the ciphertext before decrypting it: in place is safe. */
	if (wc_ChaCha20Poly1305_Decrypt(key, nonce, ad, (word32)adlen,
					ct, (word32)len, ct + len, out) != 0) {
		/* Never hand back plaintext that did not authenticate. */
		memset(out, 0, len);
		return -EBADMSG;
	}
	return (int)len;
}

int aead_seal(const uint8_t key[AEAD_KEY_LEN], uint64_t ctr,
	      const uint8_t *ad, size_t adlen,
	      const uint8_t *pt, size_t len, uint8_t *out)
{
	uint8_t nonce[AEAD_NONCE_LEN];

	counter_nonce(ctr, nonce);
	return aead_seal_nonce(key, nonce, ad, adlen, pt, len, out);
}

int aead_open(const uint8_t key[AEAD_KEY_LEN], uint64_t ctr,
	      const uint8_t *ad, size_t adlen,
	      const uint8_t *ct, size_t ctlen, uint8_t *out)
{
	uint8_t nonce[AEAD_NONCE_LEN];

	counter_nonce(ctr, nonce);
	return aead_open_nonce(key, nonce, ad, adlen, ct, ctlen, out);
}
