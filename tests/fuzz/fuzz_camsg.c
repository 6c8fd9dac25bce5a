/*
 * Fuzz target for the engine <-> CA process messages
 * (tund/authority/camsg.c): the input is one datagram as the CA process
 * would receive it from a compromised engine (or the engine from the CA).
 * camsg_decode must refuse it or return fields inside their caps, and the
 * encoding is canonical: re-encoding what was decoded gives back the input
 * byte for byte. The same bytes also drive the encoder (a message built
 * field by field from the input), which must never produce what the
 * decoder refuses nor write past its buffer.
 */
#include <errno.h>
#include <sys/socket.h>

#include "tests/fuzz/fuzz.h"
#include "tund/authority/camsg.h"

static void check_fields(const struct camsg *m, const uint8_t *buf, size_t len)
{
	FZ_CHECK(m->type >= CAMSG_START_OK && m->type <= CAMSG_ERROR);
	FZ_CHECK(strlen(m->text) <= CAMSG_TEXT_MAX);
	FZ_CHECK(strlen(m->identity) <= ID_NAME_MAX);
	FZ_CHECK(m->ca_len <= CERT_DER_MAX && m->cert_len <= CERT_DER_MAX &&
		 m->csr_len <= CERT_DER_MAX && m->key_len <= CAMSG_KEY_MAX);
	FZ_CHECK(!m->ca || (m->ca >= buf && m->ca + m->ca_len <= buf + len));
	FZ_CHECK(!m->key || (m->key >= buf && m->key + m->key_len <= buf + len));
	FZ_CHECK(!m->cert || (m->cert >= buf && m->cert + m->cert_len <= buf + len));
	FZ_CHECK(!m->csr || (m->csr >= buf && m->csr + m->csr_len <= buf + len));
	FZ_CHECK(m->n_subnets >= 0 && m->n_subnets <= CERT_MAX_ROUTES);
	for (int i = 0; i < m->n_subnets; i++)
		FZ_CHECK(addr_prefix_valid(&m->subnets[i]));
	if (m->type == CAMSG_SIGN)
		FZ_CHECK(m->days >= 1 && m->days <= CAMSG_DAYS_MAX);
}

/* A message built from the fuzzer's bytes, field by field. */
static void check_encoder(const uint8_t *data, size_t size)
{
	static uint8_t out[CAMSG_MAX];
	static struct camsg m, d;
	struct fz f;
	size_t got, cap;
	uint8_t *small;
	int n, k;

	fz_init(&f, data, size);
	memset(&m, 0, sizeof(m));
	m.type = fz_u8(&f) % 9;
	m.id = fz_u32(&f);
	m.days = fz_u16(&f) % (CAMSG_DAYS_MAX + 2);
	memcpy(m.v4, fz_bytes(&f, 4, &got), got);
	got = fz_u8(&f) % 40;
	memcpy(m.text, fz_bytes(&f, got, &got), got);
	got = fz_u8(&f) % 40;
	memcpy(m.identity, fz_bytes(&f, got, &got), got);
	m.n_subnets = fz_u8(&f) % (CERT_MAX_ROUTES + 2);
	for (k = 0; k < m.n_subnets && k < CERT_MAX_ROUTES; k++) {
		m.subnets[k].family = fz_u8(&f) & 1 ? AF_INET6 : AF_INET;
		m.subnets[k].plen = fz_u8(&f) % 130;
		memcpy(m.subnets[k].addr, fz_bytes(&f, 16, &got), got);
	}
	if (m.n_subnets > CERT_MAX_ROUTES)
		m.n_subnets = k + 1;	/* one past the cap on purpose */
	m.ca_len = fz_u16(&f) % 300;
	m.key_len = fz_u16(&f) % 300;
	m.cert_len = fz_u16(&f) % 300;
	m.csr_len = fz_u16(&f) % 300;
	m.ca = m.key = m.cert = m.csr = data;
	if (m.ca_len > size || m.key_len > size || m.cert_len > size || m.csr_len > size)
		return;
	cap = fz_u16(&f) % 1024;
	n = camsg_encode(&m, out, sizeof(out));
	if (n < 0) {
		FZ_CHECK(n == -EINVAL);
		return;
	}
	FZ_CHECK(camsg_decode(out, (size_t)n, &d) == 0);
	FZ_CHECK(d.type == m.type);
	check_fields(&d, out, (size_t)n);
	/* A shorter buffer: -EMSGSIZE, and ASan sees every byte written. */
	if (cap < (size_t)n) {
		small = fz_dup(out, cap);
		FZ_CHECK(camsg_encode(&m, small, cap) == -EMSGSIZE);
		free(small);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t again[CAMSG_MAX];
	static struct camsg m;
	uint8_t *buf = fz_dup(data, size);	/* exact size for ASan */
	int n;

	if (camsg_decode(buf, size, &m) == 0) {
		check_fields(&m, buf, size);
		n = camsg_encode(&m, again, sizeof(again));
		FZ_CHECK(n == (int)size);
		FZ_CHECK(memcmp(again, buf, size) == 0);
		/* one byte short is never a message */
		FZ_CHECK(camsg_decode(buf, size - 1, &m) == -EBADMSG);
	} else {
		FZ_CHECK(m.type == 0 && m.ca == NULL && m.text[0] == 0);
	}
	free(buf);
	check_encoder(data, size);
	return 0;
}

static void seeds(const char *dir)
{
	static uint8_t out[CAMSG_MAX], der[600];
	struct camsg m;
	int n;

	for (size_t i = 0; i < sizeof(der); i++)
		der[i] = (uint8_t)(0x30 + i);
	memset(&m, 0, sizeof(m));
	m.type = CAMSG_SIGN;
	m.id = 1;
	strcpy(m.identity, "bob@example.com");
	m.csr = der;
	m.csr_len = 200;
	memcpy(m.v4, "\x64\x40\x00\x02", 4);
	m.days = 30;
	m.n_subnets = 2;
	addr_prefix_parse("203.0.113.0/24", &m.subnets[0]);
	addr_prefix_parse("fd00:1::/64", &m.subnets[1]);
	n = camsg_encode(&m, out, sizeof(out));
	FZ_CHECK(n > 0);
	fz_write_seed(dir, "sign", out, (size_t)n);

	memset(&m, 0, sizeof(m));
	m.type = CAMSG_SERVING;
	m.ca = der;
	m.ca_len = 300;
	m.key = der + 300;
	m.key_len = 121;
	m.cert = der + 100;
	m.cert_len = 280;
	n = camsg_encode(&m, out, sizeof(out));
	FZ_CHECK(n > 0);
	fz_write_seed(dir, "serving", out, (size_t)n);

	memset(&m, 0, sizeof(m));
	m.type = CAMSG_ERROR;
	m.id = 9;
	strcpy(m.text, "ca: refused to sign carol@example.com: 100.64.0.2 belongs to bob@example.com");
	n = camsg_encode(&m, out, sizeof(out));
	FZ_CHECK(n > 0);
	fz_write_seed(dir, "error", out, (size_t)n);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fz_seed_mode(seeds);
	return 0;
}
