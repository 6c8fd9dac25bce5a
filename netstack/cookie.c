/*
 * mac1 and stateless cookies (see cookie.h for the formulas). All MAC
 * comparisons are constant-time so a forger learns nothing from timing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <netinet/in.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include "netstack/cookie.h"

#define MAC1_LABEL	"q2q-mac1-v1"
#define IDENTITY_MAX	255
#define SHA256_BLOCK	64

/* SHA-256 after the key's inner and outer pad blocks (RFC 2104): what
 * HMAC hashes first for every message, hashed once. */
struct cookie_hmac {
	wc_Sha256 inner, outer;
};

static void hmac_wipe(struct cookie_hmac *k)
{
	wc_Sha256Free(&k->inner);
	wc_Sha256Free(&k->outer);
	explicit_bzero(k, sizeof(*k));
}

static int hmac_prep(struct cookie_hmac *k, const uint8_t key[COOKIE_KEY_LEN])
{
	uint8_t ipad[SHA256_BLOCK], opad[SHA256_BLOCK];
	int ret = -EINVAL;

	memset(k, 0, sizeof(*k));
	for (int i = 0; i < SHA256_BLOCK; i++) {
		uint8_t b = i < COOKIE_KEY_LEN ? key[i] : 0;

		ipad[i] = b ^ 0x36;
		opad[i] = b ^ 0x5c;
	}
	if (wc_InitSha256(&k->inner) != 0 || wc_InitSha256(&k->outer) != 0 ||
	    wc_Sha256Update(&k->inner, ipad, sizeof(ipad)) != 0 ||
	    wc_Sha256Update(&k->outer, opad, sizeof(opad)) != 0)
		goto out;
	ret = 0;
out:
	explicit_bzero(ipad, sizeof(ipad));
	explicit_bzero(opad, sizeof(opad));
	if (ret < 0)
		hmac_wipe(k);
	return ret;
}

/* First 16 bytes of HMAC-SHA256(k, msg). The pads' states are copied,
 * never changed: k may be shared. */
static int hmac_run(const struct cookie_hmac *k, const uint8_t *msg, size_t len,
		    uint8_t out[COOKIE_MAC_LEN])
{
	wc_Sha256 si, so;
	uint8_t d[WC_SHA256_DIGEST_SIZE];
	int ret = -EINVAL, have_i, have_o;

	if (len > UINT32_MAX)
		return -EINVAL;
	/* wolfSSL's copy takes a non-const source, and only reads it. */
	have_i = wc_Sha256Copy((wc_Sha256 *)&k->inner, &si) == 0;
	have_o = have_i && wc_Sha256Copy((wc_Sha256 *)&k->outer, &so) == 0;
	if (!have_o || (len && wc_Sha256Update(&si, msg, (word32)len) != 0) ||
	    wc_Sha256Final(&si, d) != 0 || wc_Sha256Update(&so, d, sizeof(d)) != 0 ||
	    wc_Sha256Final(&so, d) != 0)
		goto out;
	memcpy(out, d, COOKIE_MAC_LEN);
	ret = 0;
out:
	if (have_i)
		wc_Sha256Free(&si);
	if (have_o)
		wc_Sha256Free(&so);
	explicit_bzero(&si, sizeof(si));
	explicit_bzero(&so, sizeof(so));
	explicit_bzero(d, sizeof(d));
	return ret;
}

int cookie_hmac_new(const uint8_t key[COOKIE_KEY_LEN], struct cookie_hmac **out)
{
	struct cookie_hmac *k;

	*out = NULL;
	if (!key)
		return -EINVAL;
	k = malloc(sizeof(*k));
	if (!k)
		return -ENOMEM;
	if (hmac_prep(k, key) < 0) {
		free(k);
		return -EINVAL;
	}
	*out = k;
	return 0;
}

void cookie_hmac_free(struct cookie_hmac *k)
{
	if (!k)
		return;
	hmac_wipe(k);
	free(k);
}

/* With a key used once: its pads on the stack, wiped after. */
static int hmac16(const uint8_t key[COOKIE_KEY_LEN], const uint8_t *msg,
		  size_t len, uint8_t out[COOKIE_MAC_LEN])
{
	struct cookie_hmac k;
	int ret;

	if (hmac_prep(&k, key) < 0)
		return -EINVAL;
	ret = hmac_run(&k, msg, len, out);
	hmac_wipe(&k);
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
	return hmac16(key, msg, len, mac);
}

int cookie_mac1_stamp(const uint8_t key[COOKIE_KEY_LEN], uint8_t *buf,
		      size_t mac_off)
{
	return cookie_mac1(key, buf, mac_off, buf + mac_off);
}

static int mac1_compare(const struct cookie_hmac *k, const uint8_t *buf,
			size_t len, size_t mac_off)
{
	uint8_t mac[COOKIE_MAC_LEN];

	if (!buf || mac_off > len || len - mac_off < COOKIE_MAC_LEN)
		return -EBADMSG;
	if (hmac_run(k, buf, mac_off, mac) != 0)
		return -EBADMSG;
	return ct_equal(mac, buf + mac_off, COOKIE_MAC_LEN) ? 0 : -EBADMSG;
}

int cookie_mac1_check(const uint8_t key[COOKIE_KEY_LEN], const uint8_t *buf,
		      size_t len, size_t mac_off)
{
	struct cookie_hmac k;
	int ret;

	if (!key || hmac_prep(&k, key) < 0)
		return -EBADMSG;
	ret = mac1_compare(&k, buf, len, mac_off);
	hmac_wipe(&k);
	return ret;
}

int cookie_mac1_verify(const struct cookie_hmac *k, const uint8_t *buf,
		       size_t len, size_t mac_off)
{
	return k ? mac1_compare(k, buf, len, mac_off) : -EBADMSG;
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
	int ret;

	memset(j, 0, sizeof(*j));
	j->born_ms = now_ms;
	ret = fill_random(j->cur, sizeof(j->cur));
	if (ret == 0)
		ret = cookie_hmac_new(j->cur, &j->hcur);
	if (ret < 0)
		cookie_jar_free(j);
	return ret;
}

void cookie_jar_free(struct cookie_jar *j)
{
	cookie_hmac_free(j->hcur);
	cookie_hmac_free(j->hprev);
	/* explicit_bzero: the compiler may not drop it as a dead store. */
	explicit_bzero(j, sizeof(*j));
}

static int jar_rotate(struct cookie_jar *j, uint64_t now_ms)
{
	uint8_t next[COOKIE_KEY_LEN];
	struct cookie_hmac *hnext = NULL;
	uint64_t age;
	int ret;

	/* A clock that went backwards must not make secrets immortal. */
	if (now_ms < j->born_ms)
		j->born_ms = now_ms;
	age = now_ms - j->born_ms;
	if (age < COOKIE_ROTATE_MS)
		return 0;
	/* The new secret first: on failure the jar is as it was. */
	ret = fill_random(next, sizeof(next));
	if (ret == 0)
		ret = cookie_hmac_new(next, &hnext);
	if (ret < 0)
		goto out;
	cookie_hmac_free(j->hprev);
	if (age >= 2 * (uint64_t)COOKIE_ROTATE_MS) {
		/* Both secrets are stale: cookies made under cur expired too. */
		j->have_prev = 0;
		explicit_bzero(j->prev, sizeof(j->prev));
		cookie_hmac_free(j->hcur);
		j->hprev = NULL;
	} else {
		memcpy(j->prev, j->cur, sizeof(j->prev));
		j->hprev = j->hcur;
		j->have_prev = 1;
	}
	memcpy(j->cur, next, sizeof(j->cur));
	j->hcur = hnext;
	j->born_ms = now_ms;
out:
	explicit_bzero(next, sizeof(next));
	return ret;
}

static int cookie_calc(const struct cookie_hmac *secret,
		       const struct sockaddr_in6 *src, uint32_t sender_index,
		       uint8_t out[COOKIE_MAC_LEN])
{
	uint8_t in[16 + 2 + 4];

	if (!secret)
		return -EINVAL;
	memcpy(in, &src->sin6_addr, 16);
	memcpy(in + 16, &src->sin6_port, 2);	/* already network order */
	in[18] = (uint8_t)sender_index;
	in[19] = (uint8_t)(sender_index >> 8);
	in[20] = (uint8_t)(sender_index >> 16);
	in[21] = (uint8_t)(sender_index >> 24);
	return hmac_run(secret, in, sizeof(in), out);
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
	return cookie_calc(j->hcur, src, sender_index, cookie);
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
	if (cookie_calc(j->hcur, src, sender_index, want) == 0)
		ok |= ct_equal(want, cookie, COOKIE_MAC_LEN);
	if (j->have_prev && j->hprev &&
	    cookie_calc(j->hprev, src, sender_index, want) == 0)
		ok |= ct_equal(want, cookie, COOKIE_MAC_LEN);
	return ok ? 0 : -EBADMSG;
}

int cookie_spend(struct cookie_jar *j, const uint8_t cookie[COOKIE_MAC_LEN])
{
	/* Cookies are MACs under our secret, so equal ones name the same
	 * source, port and index; a plain search is enough for a set that
	 * only verified first segments of new handshakes enter. */
	for (unsigned i = 0; i < j->n_spent; i++)
		if (memcmp(j->spent[i], cookie, COOKIE_MAC_LEN) == 0)
			return -EALREADY;
	memcpy(j->spent[j->next_spent], cookie, COOKIE_MAC_LEN);
	j->next_spent = (j->next_spent + 1) % COOKIE_SPENT_MAX;
	if (j->n_spent < COOKIE_SPENT_MAX)
		j->n_spent++;
	return 0;
}
