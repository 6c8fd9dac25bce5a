/*
 * mac1 and stateless cookies (see cookie.h for the formulas). All MAC
 * comparisons are constant-time so a forger learns nothing from timing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <netinet/in.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include "netstack/cookie.h"

#define MAC1_LABEL	"q2q-mac1-v1"
#define IDENTITY_MAX	255
/* libcrypto's HMAC, fetched once (cookie_init) like the data path's
 * ciphers. A context keyed once and initialised again without a key
 * starts each message from its copy of the hashed pads (RFC 2104), so a
 * MAC of a short message costs two SHA-256 blocks, not four. */
static EVP_MAC *cookie_mac_alg;

struct cookie_hmac {
	EVP_MAC_CTX *ctx;
};

int cookie_init(void)
{
	if (cookie_mac_alg)
		return 0;
	if (!OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL))
		return -ENOTSUP;
	cookie_mac_alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
	return cookie_mac_alg ? 0 : -ENOTSUP;
}

int cookie_hmac_new(const uint8_t key[COOKIE_KEY_LEN], struct cookie_hmac **out)
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	struct cookie_hmac *k;

	*out = NULL;
	if (!key || cookie_init() < 0)
		return -EINVAL;
	if (!(k = calloc(1, sizeof(*k))))
		return -ENOMEM;
	if (!(k->ctx = EVP_MAC_CTX_new(cookie_mac_alg)) ||
	    !EVP_MAC_init(k->ctx, key, COOKIE_KEY_LEN, params)) {
		cookie_hmac_free(k);
		return -EINVAL;
	}
	*out = k;
	return 0;
}

void cookie_hmac_free(struct cookie_hmac *k)
{
	if (!k)
		return;
	EVP_MAC_CTX_free(k->ctx);	/* wipes the key's state */
	free(k);
}

/* First 16 bytes of HMAC-SHA256(k, msg). */
static int hmac_run(struct cookie_hmac *k, const uint8_t *msg, size_t len,
		    uint8_t out[COOKIE_MAC_LEN])
{
	uint8_t d[32];
	size_t dlen = 0;
	int ret = -EINVAL;

	if (!EVP_MAC_init(k->ctx, NULL, 0, NULL) ||
	    (len && !EVP_MAC_update(k->ctx, msg, len)) ||
	    !EVP_MAC_final(k->ctx, d, &dlen, sizeof(d)) || dlen != sizeof(d))
		goto out;
	memcpy(out, d, COOKIE_MAC_LEN);
	ret = 0;
out:
	explicit_bzero(d, sizeof(d));
	return ret;
}

/* With a key used once. */
static int hmac16(const uint8_t key[COOKIE_KEY_LEN], const uint8_t *msg,
		  size_t len, uint8_t out[COOKIE_MAC_LEN])
{
	struct cookie_hmac *k;
	int ret;

	if (cookie_hmac_new(key, &k) < 0)
		return -EINVAL;
	ret = hmac_run(k, msg, len, out);
	cookie_hmac_free(k);
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

static int mac1_compare(struct cookie_hmac *k, const uint8_t *buf,
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
	struct cookie_hmac *k;
	int ret;

	if (!key || cookie_hmac_new(key, &k) < 0)
		return -EBADMSG;
	ret = mac1_compare(k, buf, len, mac_off);
	cookie_hmac_free(k);
	return ret;
}

int cookie_mac1_verify(struct cookie_hmac *k, const uint8_t *buf,
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

static int cookie_calc(struct cookie_hmac *secret,
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
