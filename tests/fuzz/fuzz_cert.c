/*
 * Fuzz target for the certificate and CSR parsers (identity/cert.c,
 * identity/csr.c, identity/x509.c, identity/der.c): the DER a peer or an
 * enrolling client sends. Input: u16 (little-endian) n, then n bytes of a
 * leaf (a node certificate or a CSR), then a CA certificate: the CA bytes
 * are untrusted too (a CA learned on first use comes off the network).
 * Checked beyond not crashing: a parse that succeeds yields well-formed
 * bindings (a valid identity, valid route prefixes, a lower-case hex
 * serial, the right fingerprint); a failing one leaves the output zeroed
 * and a terminated message within the caller's buffer; a certificate that
 * verifies also parses to the same bindings and obeys the binding rules.
 */
#include <errno.h>
#include <sys/socket.h>
#include <time.h>

#include "tests/fuzz/fuzz.h"
#include "identity/cert.h"
#include "identity/key.h"

static int all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

/* err must hold a NUL-terminated message that fits errlen. */
static void check_err(const char *err, size_t errlen)
{
	if (errlen)
		FZ_CHECK(memchr(err, 0, errlen) != NULL);
}

static void check_info(const struct cert_info *ci, const uint8_t *der,
		       size_t len)
{
	uint8_t fp[32];
	size_t n;

	FZ_CHECK(memchr(ci->identity, 0, sizeof(ci->identity)) != NULL);
	if (ci->is_ca)
		FZ_CHECK(id_parse_domain(ci->identity, NULL, 0) == 0);
	else
		FZ_CHECK(id_parse_user(ci->identity, NULL, NULL, 0) == 0);
	FZ_CHECK(ci->n_routes >= 0 && ci->n_routes <= CERT_MAX_ROUTES);
	for (int i = 0; i < ci->n_routes; i++)
		FZ_CHECK(addr_prefix_valid(&ci->routes[i]));
	n = strnlen(ci->serial, sizeof(ci->serial));
	FZ_CHECK(n < sizeof(ci->serial) && n % 2 == 0);
	for (size_t i = 0; i < n; i++)
		FZ_CHECK((ci->serial[i] >= '0' && ci->serial[i] <= '9') ||
			 (ci->serial[i] >= 'a' && ci->serial[i] <= 'f'));
	FZ_CHECK(cert_fingerprint(der, len, fp) == 0);
	FZ_CHECK(memcmp(fp, ci->fingerprint, 32) == 0);
}

static void check_parse(const uint8_t *der, size_t len, char *err,
			size_t errlen, struct cert_info *ci)
{
	int rc = cert_parse(der, len, ci, err, errlen);

	if (rc == 0) {
		check_info(ci, der, len);
		return;
	}
	FZ_CHECK(rc < 0);
	FZ_CHECK(all_zero(ci, sizeof(*ci)));
	check_err(err, errlen);
}

static void check_csr(const uint8_t *der, size_t len, char *err,
		      size_t errlen)
{
	char id[ID_NAME_MAX + 1];
	int rc = cert_csr_parse(der, len, id, err, errlen);

	if (rc == 0) {
		FZ_CHECK(memchr(id, 0, sizeof(id)) != NULL);
		FZ_CHECK(id_parse_user(id, NULL, NULL, 0) == 0);
		return;
	}
	FZ_CHECK(rc == -EBADMSG || rc == -EKEYREJECTED || rc == -EINVAL);
	check_err(err, errlen);
}

static void check_verify(const uint8_t *der, size_t len, const uint8_t *ca,
			 size_t ca_len, const struct cert_info *parsed,
			 char *err, size_t errlen)
{
	struct cert_info ci, ca_info;
	int64_t now = parsed->not_before ? parsed->not_before + 1 : 1700000000;
	const char *at;
	uint8_t v6[16];
	int rc;

	rc = cert_verify(der, len, ca, ca_len, now, &ci, err, errlen);
	if (rc != 0) {
		FZ_CHECK(rc == -EKEYREJECTED || rc == -ETIME || rc == -EPERM ||
			 rc == -EBADMSG || rc == -EINVAL);
		FZ_CHECK(all_zero(&ci, sizeof(ci)));
		check_err(err, errlen);
		return;
	}
	/* What verifies must parse, to the same bindings. */
	FZ_CHECK(parsed->identity[0] != '\0');
	FZ_CHECK(memcmp(&ci, parsed, sizeof(ci)) == 0);
	FZ_CHECK(!ci.is_ca && ci.has_v4 && ci.has_v6);
	addr_overlay_v6(ci.identity, v6);
	FZ_CHECK(memcmp(v6, ci.v6, 16) == 0);
	FZ_CHECK(ci.not_before <= now && now <= ci.not_after);
	FZ_CHECK(cert_parse(ca, ca_len, &ca_info, NULL, 0) == 0 && ca_info.is_ca);
	at = strchr(ci.identity, '@');
	FZ_CHECK(at && strcmp(at + 1, ca_info.identity) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cert_info leaf_info, ca_info;
	size_t n, errlen, ca_len;
	uint8_t *leaf, *ca;
	char *err;
	struct fz f;

	fz_init(&f, data, size);
	n = fz_u16(&f);
	errlen = fz_u8(&f) % 200;
	if (n > f.left)
		n = f.left;
	/* Exact-size copies: ASan then sees any read past either length. */
	leaf = fz_dup(f.p, n);
	ca_len = f.left - n;
	ca = fz_dup(f.p + n, ca_len);
	err = malloc(errlen ? errlen : 1);
	FZ_CHECK(err);

	check_parse(leaf, n, err, errlen, &leaf_info);
	check_parse(ca, ca_len, err, errlen, &ca_info);
	check_csr(leaf, n, err, errlen);
	check_verify(leaf, n, ca, ca_len, &leaf_info, err, errlen);

	free(err);
	free(ca);
	free(leaf);
	return 0;
}

/* u16 length of a, errlen byte, a, b. */
static void write_pair(const char *dir, const char *name, const uint8_t *a,
		       size_t alen, const uint8_t *b, size_t blen)
{
	uint8_t *buf = malloc(3 + alen + blen);

	FZ_CHECK(buf);
	buf[0] = (uint8_t)alen;
	buf[1] = (uint8_t)(alen >> 8);
	buf[2] = 160;
	memcpy(buf + 3, a, alen);
	if (blen)
		memcpy(buf + 3 + alen, b, blen);
	fz_write_seed(dir, name, buf, 3 + alen + blen);
	free(buf);
}

static void seeds(const char *dir)
{
	struct id_key *ca_key = NULL, *node_key = NULL;
	uint8_t *ca = NULL, *csr = NULL, *leaf = NULL;
	size_t ca_len, csr_len, leaf_len;
	struct cert_info b;
	char err[160];
	int64_t now = (int64_t)time(NULL);

	FZ_CHECK(cert_ca_create("example.com", 36500, &ca_key, &ca, &ca_len) == 0);
	FZ_CHECK(key_generate(&node_key) == 0);
	FZ_CHECK(cert_csr_make(node_key, "alice@example.com", &csr, &csr_len) == 0);
	memset(&b, 0, sizeof(b));
	strcpy(b.identity, "alice@example.com");
	b.has_v4 = 1;
	memcpy(b.v4, "\x64\x40\x00\x07", 4);
	b.n_routes = 2;
	FZ_CHECK(addr_prefix_parse("203.0.113.0/24", &b.routes[0]) == 0);
	FZ_CHECK(addr_prefix_parse("fd00:1::/32", &b.routes[1]) == 0);
	b.not_before = now;
	b.not_after = now + 3650LL * 86400;
	FZ_CHECK(cert_issue(ca_key, ca, ca_len, csr, csr_len, &b, &leaf,
			    &leaf_len, err, sizeof(err)) == 0);
	/* The target's verify path must accept this pair at its first second. */
	FZ_CHECK(cert_verify(leaf, leaf_len, ca, ca_len, now + 1, &b, err,
			     sizeof(err)) == 0);
	write_pair(dir, "leaf-ca", leaf, leaf_len, ca, ca_len);
	write_pair(dir, "csr-ca", csr, csr_len, ca, ca_len);
	write_pair(dir, "ca-alone", ca, ca_len, NULL, 0);
	key_free(ca_key);
	key_free(node_key);
	free(ca);
	free(csr);
	free(leaf);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fz_seed_mode(seeds);
	return 0;
}
