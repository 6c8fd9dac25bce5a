/*
 * Tests for tund/authority/camsg.c, the engine <-> CA process messages:
 * every type round-trips field for field; every truncation, a trailing
 * byte, an unknown type, each field one past its cap, non-printable text
 * and malformed prefixes are refused; the encoder refuses what the
 * decoder would and never writes past its buffer.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "tests/unit/harness.h"
#include "tund/authority/camsg.h"

static uint8_t buf[CAMSG_MAX + 16], blob[CAMSG_MAX];
static struct camsg m, d;

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

static void sign_msg(struct camsg *s)
{
	memset(s, 0, sizeof(*s));
	s->type = CAMSG_SIGN;
	s->id = 0xdeadbeef;
	strcpy(s->identity, "alice@example.com");
	s->csr = blob;
	s->csr_len = 300;
	memcpy(s->v4, "\x64\x40\x00\x07", 4);
	s->days = 30;
	s->n_subnets = 2;
	addr_prefix_parse("203.0.113.0/24", &s->subnets[0]);
	addr_prefix_parse("fd00:1::/64", &s->subnets[1]);
}

/* Every prefix of a valid encoding is refused, and so is one byte more. */
static void check_truncations(const uint8_t *p, size_t n)
{
	struct camsg t;
	uint8_t *c = malloc(n + 1);	/* exact size: ASan sees overreads */

	if (!c)
		abort();
	for (size_t k = 0; k < n; k++) {
		memcpy(c, p, k);
		if (camsg_decode(c, k, &t) != -EBADMSG)
			H_FAIL("a %zu-byte prefix of a %zu-byte message decoded", k, n);
	}
	memcpy(c, p, n);
	c[n] = 0;
	CHECK_INT(camsg_decode(c, n + 1, &t), -EBADMSG);
	free(c);
}

static int roundtrip(const struct camsg *in)
{
	int n = camsg_encode(in, buf, sizeof(buf));

	if (n <= 0) {
		H_FAIL("encode type %d: %d", in->type, n);
		return -1;
	}
	CHECK_INT(camsg_decode(buf, (size_t)n, &d), 0);
	CHECK_INT(d.type, in->type);
	check_truncations(buf, (size_t)n);
	return n;
}

static void test_roundtrip(void)
{
	int n;

	fill(blob, sizeof(blob), 3);
	memset(&m, 0, sizeof(m));
	m.type = CAMSG_START_OK;
	CHECK_INT(roundtrip(&m), 1);
	m.type = CAMSG_GET_SERVING;
	CHECK_INT(roundtrip(&m), 1);

	memset(&m, 0, sizeof(m));
	m.type = CAMSG_START_FAIL;
	strcpy(m.text, "ca: cannot load CA key /var/lib/q2q-ca/ca.key: Permission denied");
	roundtrip(&m);
	CHECK_STR(d.text, m.text);

	memset(&m, 0, sizeof(m));
	m.type = CAMSG_SERVING;
	m.ca = blob;
	m.ca_len = 400;
	m.key = blob + 400;
	m.key_len = 121;
	m.cert = blob + 600;
	m.cert_len = CERT_DER_MAX;
	n = roundtrip(&m);
	CHECK_INT(n, 1 + 2 + 400 + 2 + 121 + 2 + CERT_DER_MAX);
	CHECK_INT(d.ca_len, 400);
	CHECK_INT(d.key_len, 121);
	CHECK_INT(d.cert_len, CERT_DER_MAX);
	CHECK(d.ca == buf + 3 && d.key == buf + 405 && d.cert == buf + 528);
	CHECK_MEM(d.cert, blob + 600, CERT_DER_MAX);

	sign_msg(&m);
	n = roundtrip(&m);
	CHECK_INT(n, 1 + 4 + 2 + 17 + 2 + 300 + 4 + 2 + 1 + 2 * 18);
	CHECK_INT(d.id, 0xdeadbeef);
	CHECK_STR(d.identity, "alice@example.com");
	CHECK_INT(d.csr_len, 300);
	CHECK_MEM(d.csr, blob, 300);
	CHECK_MEM(d.v4, "\x64\x40\x00\x07", 4);
	CHECK_INT(d.days, 30);
	CHECK_INT(d.n_subnets, 2);
	CHECK_MEM(&d.subnets[0], &m.subnets[0], sizeof(m.subnets[0]));
	CHECK_MEM(&d.subnets[1], &m.subnets[1], sizeof(m.subnets[1]));
	/* no subnets, and the most */
	m.n_subnets = 0;
	roundtrip(&m);
	CHECK_INT(d.n_subnets, 0);
	m.n_subnets = CERT_MAX_ROUTES;
	for (int i = 0; i < CERT_MAX_ROUTES; i++) {
		memset(&m.subnets[i], 0, sizeof(m.subnets[i]));
		m.subnets[i].family = AF_INET;
		m.subnets[i].addr[0] = 10;
		m.subnets[i].addr[1] = (uint8_t)i;
		m.subnets[i].plen = 16;
	}
	roundtrip(&m);
	CHECK_INT(d.n_subnets, CERT_MAX_ROUTES);
	CHECK_INT(d.subnets[15].addr[1], 15);

	memset(&m, 0, sizeof(m));
	m.type = CAMSG_CERT;
	m.id = 7;
	m.cert = blob;
	m.cert_len = 1;
	roundtrip(&m);
	CHECK_INT(d.id, 7);
	CHECK_INT(d.cert_len, 1);

	memset(&m, 0, sizeof(m));
	m.type = CAMSG_ERROR;
	m.id = 8;
	memset(m.text, 'x', CAMSG_TEXT_MAX);
	roundtrip(&m);
	CHECK_INT(d.id, 8);
	CHECK_INT(strlen(d.text), CAMSG_TEXT_MAX);
}

static void test_bad_type(void)
{
	static const uint8_t types[] = { 0, 8, 9, 0x80, 0xff };

	for (size_t i = 0; i < sizeof(types); i++) {
		buf[0] = types[i];
		CHECK_INT(camsg_decode(buf, 1, &d), -EBADMSG);
		CHECK_INT(d.type, 0);	/* zeroed on failure */
	}
	CHECK_INT(camsg_decode(buf, 0, &d), -EBADMSG);
	/* START_OK carries nothing */
	buf[0] = CAMSG_START_OK;
	buf[1] = 0;
	CHECK_INT(camsg_decode(buf, 2, &d), -EBADMSG);
	memset(&m, 0, sizeof(m));
	m.type = 99;
	CHECK_INT(camsg_encode(&m, buf, sizeof(buf)), -EINVAL);
}

/* Builds "type n:text" by hand and tries it. */
static int text_msg(const uint8_t *text, size_t n)
{
	buf[0] = CAMSG_START_FAIL;
	buf[1] = (uint8_t)(n >> 8);
	buf[2] = (uint8_t)n;
	memcpy(buf + 3, text, n);
	return camsg_decode(buf, 3 + n, &d);
}

static void test_oversize(void)
{
	uint8_t t[CAMSG_TEXT_MAX + 1];
	int n;

	memset(t, 'a', sizeof(t));
	CHECK_INT(text_msg(t, CAMSG_TEXT_MAX), 0);
	CHECK_INT(text_msg(t, CAMSG_TEXT_MAX + 1), -EBADMSG);
	CHECK_INT(text_msg(t, 0), -EBADMSG);
	t[5] = '\n';
	CHECK_INT(text_msg(t, 10), -EBADMSG);
	t[5] = 0;
	CHECK_INT(text_msg(t, 10), -EBADMSG);
	t[5] = 0x7f;
	CHECK_INT(text_msg(t, 10), -EBADMSG);
	t[5] = 0xc3;
	CHECK_INT(text_msg(t, 10), -EBADMSG);

	/* each SIGN field one past its cap: the encoder refuses it too */
	sign_msg(&m);
	memset(m.identity, 'a', ID_NAME_MAX);
	m.identity[ID_NAME_MAX] = '\0';
	CHECK(camsg_encode(&m, buf, sizeof(buf)) > 0);
	sign_msg(&m);
	m.identity[0] = '\0';
	CHECK_INT(camsg_encode(&m, buf, sizeof(buf)), -EINVAL);
	sign_msg(&m);
	m.csr_len = CERT_DER_MAX + 1;
	CHECK_INT(camsg_encode(&m, buf, sizeof(buf)), -EINVAL);
	m.csr_len = 0;
	CHECK_INT(camsg_encode(&m, buf, sizeof(buf)), -EINVAL);
	sign_msg(&m);
	m.days = 0;
	CHECK_INT(camsg_encode(&m, buf, sizeof(buf)), -EINVAL);
	m.days = CAMSG_DAYS_MAX + 1;
	CHECK_INT(camsg_encode(&m, buf, sizeof(buf)), -EINVAL);
	m.days = CAMSG_DAYS_MAX;
	CHECK(camsg_encode(&m, buf, sizeof(buf)) > 0);
	sign_msg(&m);
	m.n_subnets = CERT_MAX_ROUTES + 1;
	CHECK_INT(camsg_encode(&m, buf, sizeof(buf)), -EINVAL);
	/* ...and a hand-made count of 17 is refused on decode */
	sign_msg(&m);
	m.n_subnets = 0;
	n = camsg_encode(&m, buf, sizeof(buf));
	CHECK(n > 0);
	buf[n - 1] = CERT_MAX_ROUTES + 1;
	memset(buf + n, 0, 18 * (CERT_MAX_ROUTES + 1));
	for (int i = 0; i < CERT_MAX_ROUTES + 1; i++)
		buf[n + 18 * i] = 4;
	CHECK_INT(camsg_decode(buf, (size_t)n + 18 * (CERT_MAX_ROUTES + 1), &d), -EBADMSG);
	buf[n - 1] = CERT_MAX_ROUTES;
	CHECK_INT(camsg_decode(buf, (size_t)n + 18 * CERT_MAX_ROUTES, &d), 0);

	memset(&m, 0, sizeof(m));
	m.type = CAMSG_SERVING;
	m.ca = m.key = m.cert = blob;
	m.ca_len = m.cert_len = 100;
	m.key_len = CAMSG_KEY_MAX + 1;
	CHECK_INT(camsg_encode(&m, buf, sizeof(buf)), -EINVAL);
	m.key_len = CAMSG_KEY_MAX;
	CHECK(camsg_encode(&m, buf, sizeof(buf)) > 0);
	m.ca_len = CERT_DER_MAX + 1;
	CHECK_INT(camsg_encode(&m, buf, sizeof(buf)), -EINVAL);
	m.ca_len = 100;
	m.cert_len = 0x10000;	/* beyond 16 bits */
	CHECK_INT(camsg_encode(&m, buf, sizeof(buf)), -EINVAL);

	/* the total cap, whatever the fields say */
	memset(buf, 0, sizeof(buf));
	buf[0] = CAMSG_START_OK;
	CHECK_INT(camsg_decode(buf, CAMSG_MAX + 1, &d), -EBADMSG);
}

static void test_prefixes(void)
{
	int n;

	sign_msg(&m);
	m.n_subnets = 1;
	n = camsg_encode(&m, buf, sizeof(buf));
	CHECK(n > 0);
	if (n <= 0)
		return;
	/* the prefix is the last 18 bytes: family, plen, address */
	buf[n - 18] = 5;
	CHECK_INT(camsg_decode(buf, (size_t)n, &d), -EBADMSG);
	buf[n - 18] = 4;
	buf[n - 17] = 33;
	CHECK_INT(camsg_decode(buf, (size_t)n, &d), -EBADMSG);
	buf[n - 17] = 24;
	buf[n - 16 + 3] = 1;	/* host bits */
	CHECK_INT(camsg_decode(buf, (size_t)n, &d), -EBADMSG);
	buf[n - 16 + 3] = 0;
	buf[n - 1] = 1;		/* a v4 prefix with bytes past the fourth */
	CHECK_INT(camsg_decode(buf, (size_t)n, &d), -EBADMSG);
	buf[n - 1] = 0;
	CHECK_INT(camsg_decode(buf, (size_t)n, &d), 0);
	/* a v6 /0 and /128 */
	memset(&m.subnets[0], 0, sizeof(m.subnets[0]));
	m.subnets[0].family = AF_INET6;
	CHECK(camsg_encode(&m, buf, sizeof(buf)) > 0);
	m.subnets[0].plen = 128;
	memset(m.subnets[0].addr, 0xab, 16);
	CHECK(camsg_encode(&m, buf, sizeof(buf)) > 0);
	m.subnets[0].plen = 129;
	CHECK_INT(camsg_encode(&m, buf, sizeof(buf)), -EINVAL);
	m.subnets[0].family = AF_UNIX;
	m.subnets[0].plen = 8;
	CHECK_INT(camsg_encode(&m, buf, sizeof(buf)), -EINVAL);
}

static void test_small_buffer(void)
{
	uint8_t *small;
	int n;

	sign_msg(&m);
	n = camsg_encode(&m, buf, sizeof(buf));
	CHECK(n > 0);
	for (int cap = 0; cap < n; cap++) {
		small = malloc(cap ? (size_t)cap : 1);
		if (!small)
			abort();
		CHECK_INT(camsg_encode(&m, small, (size_t)cap), -EMSGSIZE);
		free(small);
	}
	small = malloc((size_t)n);
	if (!small)
		abort();
	CHECK_INT(camsg_encode(&m, small, (size_t)n), n);
	CHECK_MEM(small, buf, (size_t)n);
	free(small);
}

static void test_text_clean(void)
{
	char s[CAMSG_TEXT_MAX + 64];

	strcpy(s, "bad\nname\x01\xff ok");
	camsg_text_clean(s);
	CHECK_STR(s, "bad?name?? ok");
	s[0] = '\0';
	camsg_text_clean(s);
	CHECK_STR(s, "?");
	memset(s, 'y', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0';
	camsg_text_clean(s);
	CHECK_INT(strlen(s), CAMSG_TEXT_MAX);
	memset(&m, 0, sizeof(m));
	m.type = CAMSG_ERROR;
	memcpy(m.text, s, CAMSG_TEXT_MAX + 1);
	CHECK(camsg_encode(&m, buf, sizeof(buf)) > 0);
}

int main(void)
{
	RUN(test_roundtrip);
	RUN(test_bad_type);
	RUN(test_oversize);
	RUN(test_prefixes);
	RUN(test_small_buffer);
	RUN(test_text_clean);
	return HARNESS_END();
}
