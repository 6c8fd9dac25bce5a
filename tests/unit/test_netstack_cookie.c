/*
 * mac1 and cookies: the key derivation against a direct SHA-256/HMAC
 * computation, the pre-hashed key against wolfSSL's own HMAC at every
 * length around the block edges, stamping and checking built datagrams,
 * cookie binding to address, port and index, the 120 s secret rotation,
 * and each cookie opening one handshake.
 */
#include <errno.h>
#include <arpa/inet.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/hmac.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include "tests/unit/harness.h"
#include "netstack/cookie.h"
#include "netstack/udp.h"
#include "netstack/wire.h"

static void test_mac1_key(void)
{
	uint8_t key[32], want[32], mac[16], full[32];
	const char *in = "q2q-mac1-v1bob@example.com";
	Hmac h;

	CHECK_INT(cookie_mac1_key("bob@example.com", key), 0);
	wc_Sha256Hash((const uint8_t *)in, (word32)strlen(in), want);
	CHECK_MEM(key, want, 32);
	CHECK_INT(cookie_mac1_key("", key), -EINVAL);
	CHECK_INT(cookie_mac1_key(NULL, key), -EINVAL);

	/* mac1 is the first 16 bytes of HMAC-SHA256. */
	CHECK_INT(cookie_mac1(want, (const uint8_t *)"abc", 3, mac), 0);
	wc_HmacInit(&h, NULL, INVALID_DEVID);
	wc_HmacSetKey(&h, WC_SHA256, want, 32);
	wc_HmacUpdate(&h, (const uint8_t *)"abc", 3);
	wc_HmacFinal(&h, full);
	wc_HmacFree(&h);
	CHECK_MEM(mac, full, 16);
}

static void test_mac1_stamp(void)
{
	uint8_t key[32], other[32], buf[128];
	struct wire_hello h = { .sender_index = 42 };
	struct wire_hs s = { .sender_index = 5, .seq = 0, .ack = 0 };
	uint8_t tls[10] = "0123456789";
	int len;

	cookie_mac1_key("bob@example.com", key);
	cookie_mac1_key("eve@example.com", other);
	len = wire_build_hello(&h, buf, sizeof(buf));
	CHECK_INT(cookie_mac1_stamp(key, buf, WIRE_HELLO_MAC1_OFF), 0);
	CHECK_INT(cookie_mac1_check(key, buf, (size_t)len, WIRE_HELLO_MAC1_OFF), 0);
	CHECK_INT(cookie_mac1_check(other, buf, (size_t)len, WIRE_HELLO_MAC1_OFF),
		  -EBADMSG);
	/* Any covered bit flipped, or the mac itself, fails. */
	for (int i = 0; i < WIRE_HELLO_MAC1_OFF + WIRE_MAC_LEN; i++) {
		buf[i] ^= 4;
		CHECK_INT(cookie_mac1_check(key, buf, (size_t)len,
					    WIRE_HELLO_MAC1_OFF), -EBADMSG);
		buf[i] ^= 4;
	}
	CHECK_INT(cookie_mac1_check(key, buf, WIRE_HELLO_MAC1_OFF + 15,
				    WIRE_HELLO_MAC1_OFF), -EBADMSG);
	CHECK_INT(wire_parse_hello(buf, (size_t)len, &h), 0);

	s.data = tls;
	s.data_len = sizeof(tls);
	memset(s.cookie, 7, sizeof(s.cookie));
	len = wire_build_hs(&s, buf, sizeof(buf));
	CHECK_INT(cookie_mac1_stamp(key, buf, WIRE_HS_MAC1_OFF), 0);
	CHECK_INT(cookie_mac1_check(key, buf, (size_t)len, WIRE_HS_MAC1_OFF), 0);
	buf[25] ^= 1;	/* inside the cookie field: covered */
	CHECK_INT(cookie_mac1_check(key, buf, (size_t)len, WIRE_HS_MAC1_OFF),
		  -EBADMSG);
}

/* The slow twin: wolfSSL's HMAC with its key set for every message. */
static void test_mac1_prehashed(void)
{
	uint8_t key[32], buf[200], full[32];
	struct cookie_hmac *k;
	Hmac h;

	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)(i * 7 + 1);
	for (int i = 0; i < (int)sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 13 + 5);
	CHECK_INT(cookie_hmac_new(key, &k), 0);
	for (size_t off = 0; off + 16 <= sizeof(buf); off++) {
		wc_HmacInit(&h, NULL, INVALID_DEVID);
		wc_HmacSetKey(&h, WC_SHA256, key, 32);
		if (off)
			wc_HmacUpdate(&h, buf, (word32)off);
		wc_HmacFinal(&h, full);
		wc_HmacFree(&h);
		memcpy(buf + off, full, 16);
		CHECK_INT(cookie_mac1_verify(k, buf, off + 16, off), 0);
		CHECK_INT(cookie_mac1_check(key, buf, off + 16, off), 0);
		buf[off] ^= 1;
		CHECK_INT(cookie_mac1_verify(k, buf, off + 16, off), -EBADMSG);
		buf[off] ^= 1;
		/* Used again: the key's state is copied, never consumed. */
		CHECK_INT(cookie_mac1_verify(k, buf, off + 16, off), 0);
	}
	CHECK_INT(cookie_mac1_verify(NULL, buf, 40, 24), -EBADMSG);
	CHECK_INT(cookie_mac1_verify(k, buf, 39, 24), -EBADMSG);
	cookie_hmac_free(k);
}

static void test_cookie_binding(void)
{
	struct cookie_jar j, j2;
	struct sockaddr_in6 a, b;
	uint8_t c[16], c2[16];

	CHECK_INT(udp_addr_parse("192.0.2.1:4000", &a), 0);
	CHECK_INT(cookie_jar_init(&j, 1000), 0);
	CHECK_INT(cookie_jar_init(&j2, 1000), 0);
	CHECK_INT(cookie_make(&j, &a, 77, 1000, c), 0);
	CHECK_INT(cookie_verify(&j, &a, 77, c, 1001), 0);
	/* Other index, port, address, or another responder's jar. */
	CHECK_INT(cookie_verify(&j, &a, 78, c, 1001), -EBADMSG);
	b = a;
	b.sin6_port = htons(4001);
	CHECK_INT(cookie_verify(&j, &b, 77, c, 1001), -EBADMSG);
	CHECK_INT(udp_addr_parse("192.0.2.2:4000", &b), 0);
	CHECK_INT(cookie_verify(&j, &b, 77, c, 1001), -EBADMSG);
	CHECK_INT(udp_addr_parse("[fd00::1]:4000", &b), 0);
	CHECK_INT(cookie_verify(&j, &b, 77, c, 1001), -EBADMSG);
	CHECK_INT(cookie_verify(&j2, &a, 77, c, 1001), -EBADMSG);
	/* Deterministic for the same secret. */
	CHECK_INT(cookie_make(&j, &a, 77, 2000, c2), 0);
	CHECK_MEM(c, c2, 16);
	for (int i = 0; i < 16; i++) {
		c[i] ^= 0x10;
		CHECK_INT(cookie_verify(&j, &a, 77, c, 1001), -EBADMSG);
		c[i] ^= 0x10;
	}
	cookie_jar_free(&j);
	cookie_jar_free(&j2);
}

static void test_rotation(void)
{
	struct cookie_jar j;
	struct sockaddr_in6 a;
	uint8_t c[16], later[16];
	uint64_t t0 = 5000;

	udp_addr_parse("[2001:db8::5]:51820", &a);
	CHECK_INT(cookie_jar_init(&j, t0), 0);
	CHECK_INT(cookie_make(&j, &a, 1, t0, c), 0);
	CHECK_INT(cookie_verify(&j, &a, 1, c, t0 + COOKIE_ROTATE_MS - 1), 0);
	/* Rotated once: the previous secret still counts. */
	CHECK_INT(cookie_verify(&j, &a, 1, c, t0 + COOKIE_ROTATE_MS), 0);
	CHECK_INT(cookie_make(&j, &a, 1, t0 + COOKIE_ROTATE_MS + 1, later), 0);
	CHECK(memcmp(c, later, 16) != 0);
	CHECK_INT(cookie_verify(&j, &a, 1, later, t0 + COOKIE_ROTATE_MS + 2), 0);
	CHECK_INT(cookie_verify(&j, &a, 1, c, t0 + 2 * COOKIE_ROTATE_MS - 1), 0);
	/* Rotated twice: the first cookie is gone, the second still valid. */
	CHECK_INT(cookie_verify(&j, &a, 1, c, t0 + 2 * COOKIE_ROTATE_MS), -EBADMSG);
	CHECK_INT(cookie_verify(&j, &a, 1, later, t0 + 2 * COOKIE_ROTATE_MS + 1), 0);
	/* A long silence expires both secrets at once. */
	CHECK_INT(cookie_verify(&j, &a, 1, later, t0 + 10 * COOKIE_ROTATE_MS),
		  -EBADMSG);
	cookie_jar_free(&j);
}

/* The first HS segment's cookie opens one handshake; the same cookie
 * again (a replay from its sender's own address) opens none, until
 * COOKIE_SPENT_MAX later ones have pushed it out (by then it expired). */
static void test_spend(void)
{
	struct cookie_jar j;
	struct sockaddr_in6 a;
	uint8_t c[16], d[16];

	CHECK_INT(udp_addr_parse("192.0.2.13:8789", &a), 0);
	CHECK_INT(cookie_jar_init(&j, 1000), 0);
	CHECK_INT(cookie_make(&j, &a, 9, 1000, c), 0);
	CHECK_INT(cookie_spend(&j, c), 0);
	CHECK_INT(cookie_spend(&j, c), -EALREADY);
	/* Still a valid cookie: spending is the caller's second gate. */
	CHECK_INT(cookie_verify(&j, &a, 9, c, 1001), 0);
	CHECK_INT(cookie_make(&j, &a, 10, 1000, d), 0);
	CHECK_INT(cookie_spend(&j, d), 0);
	for (uint32_t i = 0; i < COOKIE_SPENT_MAX - 2; i++) {
		CHECK_INT(cookie_make(&j, &a, 100 + i, 1000, d), 0);
		if (cookie_spend(&j, d) != 0)
			CHECK_INT(i, -1);
	}
	CHECK_INT(cookie_spend(&j, c), -EALREADY);
	CHECK_INT(cookie_make(&j, &a, 99999, 1000, d), 0);
	CHECK_INT(cookie_spend(&j, d), 0);
	CHECK_INT(cookie_spend(&j, c), 0);	/* the oldest went */
	cookie_jar_free(&j);
}

int main(void)
{
	RUN(test_mac1_key);
	RUN(test_mac1_stamp);
	RUN(test_mac1_prehashed);
	RUN(test_cookie_binding);
	RUN(test_rotation);
	RUN(test_spend);
	return HARNESS_END();
}
