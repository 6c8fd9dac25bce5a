/*
 * mac1 and stateless cookies (see cookie.h for the formulas). All MAC
 * comparisons are constant-time so a forger learns nothing from timing.
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <netinet/in.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/hmac.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include "netstack/cookie.h"

#define MAC1_LABEL	"q2q-mac1-v1"
#define IDENTITY_MAX	255

static int hmac16(const uint8_t key[COOKIE_KEY_LEN], const uint8_t *a,
		  size_t alen, const uint8_t *b, size_t blen,
		  uint8_t out[COOKIE_MAC_LEN])
{
	Hmac h;
	uint8_t full[WC_SHA256_DIGEST_SIZE];
	int ret = -EINVAL;

	if (alen > UINT32_MAX || blen > UINT32_MAX)
		return -EINVAL;
	if (wc_HmacInit(&h, NULL, INVALID_DEVID) != 0)
		return -EINVAL;
	if (wc_HmacSetKey(&h, WC_SHA256, key, COOKIE_KEY_LEN) != 0)
		goto out;
	if (alen && wc_HmacUpdate(&h, a, (word32)alen) != 0)
		goto out;
	if (blen && wc_HmacUpdate(&h, b, (word32)blen) != 0)
		goto out;
	if (wc_HmacFinal(&h, full) != 0)
		goto out;
	memcpy(out, full, COOKIE_MAC_LEN);
	ret = 0;
out:
	wc_HmacFree(&h);
	explicit_bzero(full, sizeof(full));
	return ret;
}

static int ct_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
	volatile uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= a[i] ^ b[i];
	return acc == 0;
}

int cookie_mac1_key(const char *responder_identity,
		    uint8_t key[COOKIE_KEY_LEN])
{
	wc_Sha256 sha;
	size_t n;
	int ret = -EINVAL;

	if (!responder_identity)
		return -EINVAL;
	n = strnlen(responder_identity, IDENTITY_MAX + 1);
	if (n == 0 || n > IDENTITY_MAX)
		return -EINVAL;
	if (wc_InitSha256(&sha) != 0)
		return -EINVAL;
	if (wc_Sha256Update(&sha, (const uint8_t *)MAC1_LABEL,
			    sizeof(MAC1_LABEL) - 1) != 0 ||
	    wc_Sha256Update(&sha, (const uint8_t *)responder_identity,
			    (word32)n) != 0 ||
	    wc_Sha256Final(&sha, key) != 0)
		goto out;
	ret = 0;
out:
	wc_Sha256Free(&sha);
	return ret;
}

int cookie_mac1(const uint8_t key[COOKIE_KEY_LEN], const uint8_t *msg,
		size_t len, uint8_t mac[COOKIE_MAC_LEN])
{
	if (!key || (!msg && len) || !mac)
		return -EINVAL;
	return hmac16(key, msg, len, NULL, 0, mac);
}

int cookie_mac1_stamp(const uint8_t key[COOKIE_KEY_LEN], uint8_t *buf,
		      size_t mac_off)
{
	return cookie_mac1(key, buf, mac_off, buf + mac_off);
}

int cookie_mac1_check(const uint8_t key[COOKIE_KEY_LEN], const uint8_t *buf,
		      size_t len, size_t mac_off)
{
	uint8_t mac[COOKIE_MAC_LEN];

	if (!buf || mac_off > len || len - mac_off < COOKIE_MAC_LEN)
		return -EBADMSG;
	if (cookie_mac1(key, buf, mac_off, mac) != 0)
		return -EBADMSG;
	return ct_equal(mac, buf + mac_off, COOKIE_MAC_LEN) ? 0 : -EBADMSG;
}

static int fill_random(uint8_t *p, size_t n)
{
	while (n) {
		ssize_t r = getrandom(p, n, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

int cookie_jar_init(struct cookie_jar *j, uint64_t now_ms)
{
	memset(j, 0, sizeof(*j));
	j->born_ms = now_ms;
	return fill_random(j->cur, sizeof(j->cur));
}

void cookie_jar_free(struct cookie_jar *j)
{
	/* explicit_bzero: the compiler may not drop it as a dead store. */
	explicit_bzero(j, sizeof(*j));
}

static int jar_rotate(struct cookie_jar *j, uint64_t now_ms)
{
	uint64_t age;

	/* A clock that went backwards must not make secrets immortal. */
	if (now_ms < j->born_ms)
		j->born_ms = now_ms;
	age = now_ms - j->born_ms;
	if (age < COOKIE_ROTATE_MS)
		return 0;
	if (age >= 2 * (uint64_t)COOKIE_ROTATE_MS) {
		/* Both secrets are stale: cookies made under cur expired too. */
		j->have_prev = 0;
		explicit_bzero(j->prev, sizeof(j->prev));
	} else {
		memcpy(j->prev, j->cur, sizeof(j->prev));
		j->have_prev = 1;
	}
	j->born_ms = now_ms;
	return fill_random(j->cur, sizeof(j->cur));
}

static int cookie_calc(const uint8_t secret[COOKIE_KEY_LEN],
		       const struct sockaddr_in6 *src, uint32_t sender_index,
		       uint8_t out[COOKIE_MAC_LEN])
{
	uint8_t in[16 + 2 + 4];

	memcpy(in, &src->sin6_addr, 16);
	memcpy(in + 16, &src->sin6_port, 2);	/* already network order */
	in[18] = (uint8_t)sender_index;
	in[19] = (uint8_t)(sender_index >> 8);
	in[20] = (uint8_t)(sender_index >> 16);
	in[21] = (uint8_t)(sender_index >> 24);
	return hmac16(secret, in, sizeof(in), NULL, 0, out);
}

int cookie_make(struct cookie_jar *j, const struct sockaddr_in6 *src,
		uint32_t sender_index, uint64_t now_ms,
		uint8_t cookie[COOKIE_MAC_LEN])
{
	int ret;

	if (!j || !src || !cookie)
		return -EINVAL;
	ret = jar_rotate(j, now_ms);
	if (ret < 0)
		return ret;
	return cookie_calc(j->cur, src, sender_index, cookie);
}

int cookie_verify(struct cookie_jar *j, const struct sockaddr_in6 *src,
		  uint32_t sender_index, const uint8_t cookie[COOKIE_MAC_LEN],
		  uint64_t now_ms)
{
	uint8_t want[COOKIE_MAC_LEN];
	int ok = 0;

	if (!j || !src || !cookie)
		return -EBADMSG;
	if (jar_rotate(j, now_ms) < 0)
		return -EBADMSG;
	if (cookie_calc(j->cur, src, sender_index, want) == 0)
		ok |= ct_equal(want, cookie, COOKIE_MAC_LEN);
	if (j->have_prev &&
	    cookie_calc(j->prev, src, sender_index, want) == 0)
		ok |= ct_equal(want, cookie, COOKIE_MAC_LEN);
	return ok ? 0 : -EBADMSG;
}
