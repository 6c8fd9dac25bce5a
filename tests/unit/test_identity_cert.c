/*
 * Keys and certificates: key files, CSR checks, the CA -> CSR -> issue ->
 * verify round trip with all bindings, each refusal at issue time, each
 * failure at verify time, and that wolfSSL itself accepts what we issue
 * (its own parser and certificate manager).
 */
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/asn.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/random.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "identity/cert.h"
#include "identity/der.h"
#include "identity/key.h"
#include "tests/unit/harness.h"

static char tmpdir[64];
static char err[256];

static struct id_key *ca_key, *other_ca_key, *node_key;
static uint8_t *ca_der, *other_ca_der;
static size_t ca_len, other_ca_len;

static void setup(void)
{
	strcpy(tmpdir, "/tmp/q2q-test-cert-XXXXXX");
	if (!mkdtemp(tmpdir))
		abort();
	if (cert_ca_create("example.com", 365, &ca_key, &ca_der, &ca_len) ||
	    cert_ca_create("other.org", 365, &other_ca_key, &other_ca_der,
			   &other_ca_len) ||
	    key_generate(&node_key))
		abort();
}

static void teardown(void)
{
	char cmd[128];

	key_free(ca_key);
	key_free(other_ca_key);
	key_free(node_key);
	free(ca_der);
	free(other_ca_der);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
}

static void bind_init(struct cert_info *b, const char *identity)
{
	int64_t now = (int64_t)time(NULL);

	memset(b, 0, sizeof(*b));
	snprintf(b->identity, sizeof(b->identity), "%s", identity);
	b->has_v4 = 1;
	inet_pton(AF_INET, "100.64.0.7", b->v4);
	b->has_v6 = 1;
	addr_overlay_v6(identity, b->v6);
	b->not_before = now - 60;
	b->not_after = now + 86400;
}

static int issue(const struct cert_info *b, const char *csr_id,
		 uint8_t **der, size_t *len)
{
	uint8_t *csr;
	size_t csr_len;
	int rc;

	if (cert_csr_make(node_key, csr_id, &csr, &csr_len))
		return -999;
	err[0] = '\0';
	rc = cert_issue(ca_key, ca_der, ca_len, csr, csr_len, b, der, len,
			err, sizeof(err));
	free(csr);
	return rc;
}

static void test_key_files(void)
{
	char path[128], path2[128];
	struct id_key *k = NULL;
	uint8_t *d1 = NULL, *d2 = NULL;
	size_t l1 = 0, l2 = 0;
	struct stat st;
	mode_t old = umask(0);  /* the file must be 0600 whatever the umask */

	snprintf(path, sizeof(path), "%s/node.key", tmpdir);
	CHECK_INT(key_save(node_key, path), 0);
	umask(old);
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_mode & 07777, 0600);
	CHECK_INT(key_load(path, &k), 0);
	CHECK(k != NULL);
	if (!k)
		return;
	CHECK_INT(key_der(node_key, &d1, &l1), 0);
	CHECK_INT(key_der(k, &d2, &l2), 0);
	CHECK_INT(l1, l2);
	if (d1 && d2 && l1 == l2)
		CHECK_MEM(d1, d2, l1);
	key_free(k);
	k = NULL;

	/* Raw DER loads too. */
	snprintf(path2, sizeof(path2), "%s/node.der", tmpdir);
	CHECK_INT(file_write_atomic(path2, d1, l1, 0600), 0);
	CHECK_INT(key_load(path2, &k), 0);
	key_free(k);
	k = NULL;
	/* No temporary files are left behind. */
	{
		char cmd[200];

		snprintf(cmd, sizeof(cmd), "ls '%s' | grep -q tmp", tmpdir);
		CHECK(system(cmd) != 0);
	}
	free(d1);
	free(d2);

	/* Garbage, truncation, missing file. */
	CHECK_INT(file_write_atomic(path2, "not a key", 9, 0600), 0);
	CHECK_INT(key_load(path2, &k), -EINVAL);
	CHECK(k == NULL);
	CHECK_INT(file_write_atomic(path2, "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n", 66, 0600), 0);
	CHECK_INT(key_load(path2, &k), -EINVAL);
	snprintf(path2, sizeof(path2), "%s/missing.key", tmpdir);
	CHECK_INT(key_load(path2, &k), -ENOENT);
	CHECK_INT(key_load(tmpdir, &k), -EINVAL);       /* a directory */
}

/* PKCS#8 keys load, keys on other curves do not. */
static void test_key_formats(void)
{
	static const uint8_t alg[] = {
		0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
		0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
	uint8_t *sec1 = NULL, p8[512], p384[512];
	size_t sec1_len = 0, m;
	char path[128];
	struct id_key *k = NULL;
	struct der_w w;
	ecc_key *ek;
	WC_RNG rng;
	int n;

	snprintf(path, sizeof(path), "%s/p8.der", tmpdir);
	CHECK_INT(key_der(node_key, &sec1, &sec1_len), 0);
	der_w_init(&w, p8, sizeof(p8));
	m = der_begin(&w, DER_SEQUENCE);
	der_put(&w, DER_INTEGER, "\0", 1);
	der_raw(&w, alg, sizeof(alg));
	der_put(&w, DER_OCTET_STRING, sec1, sec1_len);
	der_end(&w, m);
	CHECK_INT(w.err, 0);
	CHECK_INT(file_write_atomic(path, p8, w.len, 0600), 0);
	CHECK_INT(key_load(path, &k), 0);
	if (k) {
		uint8_t *d = NULL;
		size_t l = 0;

		CHECK_INT(key_der(k, &d, &l), 0);
		CHECK_INT(l, sec1_len);
		if (d && l == sec1_len)
			CHECK_MEM(d, sec1, l);
		free(d);
		key_free(k);
		k = NULL;
	}
	free(sec1);

	ek = wc_ecc_key_new(NULL);
	CHECK_INT(wc_InitRng(&rng), 0);
	CHECK_INT(wc_ecc_make_key_ex(&rng, 48, ek, ECC_SECP384R1), 0);
	n = wc_EccKeyToDer(ek, p384, sizeof(p384));
	CHECK(n > 0);
	wc_FreeRng(&rng);
	wc_ecc_key_free(ek);
	snprintf(path, sizeof(path), "%s/p384.der", tmpdir);
	CHECK_INT(file_write_atomic(path, p384, (size_t)n, 0600), 0);
	CHECK_INT(key_load(path, &k), -EINVAL);
	CHECK(k == NULL);
}

static void test_file_helpers(void)
{
	char path[128];
	uint8_t *buf = NULL;
	size_t len = 0;
	struct stat st;

	snprintf(path, sizeof(path), "%s/f", tmpdir);
	CHECK_INT(file_write_atomic(path, "hello", 5, 0644), 0);
	CHECK_INT(file_write_atomic(path, "bye", 3, 0640), 0);  /* replaces */
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_mode & 07777, 0640);
	CHECK_INT(file_read_all(path, 100, &buf, &len), 0);
	CHECK_INT(len, 3);
	if (buf)
		CHECK_MEM(buf, "bye\0", 4);
	free(buf);
	CHECK_INT(file_read_all(path, 2, &buf, &len), -EFBIG);
	CHECK(buf == NULL);
}

static void test_csr(void)
{
	char id[ID_NAME_MAX + 1];
	uint8_t *csr = NULL;
	size_t len = 0;

	CHECK_INT(cert_csr_make(node_key, "alice@example.com", &csr, &len), 0);
	CHECK_INT(cert_csr_parse(csr, len, id, err, sizeof(err)), 0);
	CHECK_STR(id, "alice@example.com");
	/* Any flipped byte breaks structure or signature. */
	for (size_t i = 0; i < len; i += 7) {
		csr[i] ^= 0x01;
		CHECK(cert_csr_parse(csr, len, id, err, sizeof(err)) != 0);
		csr[i] ^= 0x01;
	}
	CHECK_INT(cert_csr_parse(csr, len - 1, id, err, sizeof(err)), -EBADMSG);
	free(csr);
	/* Only user@domain may be requested. */
	CHECK_INT(cert_csr_make(node_key, "example.com", &csr, &len), -EINVAL);
	CHECK_INT(cert_csr_make(node_key, "Alice@example.com", &csr, &len), -EINVAL);
}

static void test_roundtrip(void)
{
	struct cert_info b, ci;
	uint8_t *der = NULL, fp[32];
	size_t len = 0;
	int64_t now = (int64_t)time(NULL);
	char s[64];

	bind_init(&b, "alice@example.com");
	CHECK_INT(addr_prefix_parse("203.0.113.0/24", &b.routes[0]), 0);
	CHECK_INT(addr_prefix_parse("fd00:1234::/32", &b.routes[1]), 0);
	b.n_routes = 2;
	CHECK_INT(issue(&b, "alice@example.com", &der, &len), 0);
	CHECK_STR(err, "");
	if (!der)
		return;

	CHECK_INT(cert_verify(der, len, ca_der, ca_len, now, &ci, err,
			      sizeof(err)), 0);
	CHECK_STR(err, "");
	CHECK_STR(ci.identity, "alice@example.com");
	CHECK_INT(ci.is_ca, 0);
	CHECK_INT(ci.has_v4, 1);
	CHECK_MEM(ci.v4, b.v4, 4);
	CHECK_INT(ci.has_v6, 1);
	addr_format(AF_INET6, ci.v6, s, sizeof(s));
	CHECK_STR(s, "fdff:8d98:19fc:e12:bf0d:2489:2e45:987e");
	CHECK_INT(ci.n_routes, 2);
	addr_prefix_format(&ci.routes[0], s, sizeof(s));
	CHECK_STR(s, "203.0.113.0/24");
	addr_prefix_format(&ci.routes[1], s, sizeof(s));
	CHECK_STR(s, "fd00:1234::/32");
	CHECK_INT(ci.not_before, b.not_before);
	CHECK_INT(ci.not_after, b.not_after);
	CHECK_INT(strlen(ci.serial), 32);
	CHECK_INT(cert_fingerprint(der, len, fp), 0);
	CHECK_MEM(ci.fingerprint, fp, 32);

	/* cert_parse gives the same bindings without verifying. */
	{
		struct cert_info pi;

		CHECK_INT(cert_parse(der, len, &pi, err, sizeof(err)), 0);
		CHECK(memcmp(&pi, &ci, sizeof(pi)) == 0);
	}
	/* And the CA parses as a CA. */
	{
		struct cert_info pi;

		CHECK_INT(cert_parse(ca_der, ca_len, &pi, err, sizeof(err)), 0);
		CHECK_STR(pi.identity, "example.com");
		CHECK_INT(pi.is_ca, 1);
		CHECK_INT(pi.has_v4, 0);
	}

	/* Bindings enforced per packet. */
	{
		uint8_t a[16];

		CHECK_INT(cert_binds_source(&ci, AF_INET, ci.v4), 1);
		CHECK_INT(cert_binds_source(&ci, AF_INET6, ci.v6), 1);
		inet_pton(AF_INET, "203.0.113.77", a);
		CHECK_INT(cert_binds_source(&ci, AF_INET, a), 1);
		inet_pton(AF_INET, "203.0.114.1", a);
		CHECK_INT(cert_binds_source(&ci, AF_INET, a), 0);
		inet_pton(AF_INET, "100.64.0.8", a);
		CHECK_INT(cert_binds_source(&ci, AF_INET, a), 0);
		inet_pton(AF_INET6, "fd00:1234:5::1", a);
		CHECK_INT(cert_binds_source(&ci, AF_INET6, a), 1);
		addr_overlay_v6("bob@example.com", a);
		CHECK_INT(cert_binds_source(&ci, AF_INET6, a), 0);
		/* The v4 bytes are not a v6 source. */
		memset(a, 0, 16);
		memcpy(a, ci.v4, 4);
		CHECK_INT(cert_binds_source(&ci, AF_INET6, a), 0);
		CHECK_INT(cert_binds_source(&ci, AF_UNIX, ci.v4), 0);
	}
	free(der);
}

static void test_verify_failures(void)
{
	struct cert_info b, ci;
	uint8_t *der = NULL;
	size_t len = 0;
	int64_t now = (int64_t)time(NULL);

	bind_init(&b, "alice@example.com");
	CHECK_INT(issue(&b, "alice@example.com", &der, &len), 0);
	if (!der)
		return;

	/* Wrong CA. */
	CHECK_INT(cert_verify(der, len, other_ca_der, other_ca_len, now, &ci,
			      err, sizeof(err)), -EKEYREJECTED);
	CHECK(strstr(err, "not signed by the other.org CA"));
	CHECK_STR(ci.identity, "");     /* zeroed on failure */

	/* A CA with the same name but another key. */
	{
		struct id_key *k2;
		uint8_t *ca2;
		size_t ca2_len;

		CHECK_INT(cert_ca_create("example.com", 30, &k2, &ca2, &ca2_len), 0);
		CHECK_INT(cert_verify(der, len, ca2, ca2_len, now, &ci, err,
				      sizeof(err)), -EKEYREJECTED);
		CHECK(strstr(err, "not signed by the example.com CA"));
		key_free(k2);
		free(ca2);
	}
	/* Validity window. */
	CHECK_INT(cert_verify(der, len, ca_der, ca_len, b.not_after + 1, &ci,
			      err, sizeof(err)), -ETIME);
	CHECK(strstr(err, "expired"));
	CHECK_INT(cert_verify(der, len, ca_der, ca_len, b.not_after, &ci,
			      err, sizeof(err)), 0);
	CHECK_INT(cert_verify(der, len, ca_der, ca_len, b.not_before - 1, &ci,
			      err, sizeof(err)), -ETIME);
	CHECK(strstr(err, "not yet valid"));
	/* The CA's own window counts too. */
	CHECK_INT(cert_verify(der, len, ca_der, ca_len, now + 400LL * 86400,
			      &ci, err, sizeof(err)), -ETIME);
	CHECK(strstr(err, "CA certificate expired"));

	/* Every single-byte tamper is caught. */
	{
		int missed = 0;

		for (size_t i = 0; i < len; i++) {
			der[i] ^= 0x04;
			if (cert_verify(der, len, ca_der, ca_len, now, &ci, err,
					sizeof(err)) == 0)
				missed++;
			der[i] ^= 0x04;
		}
		CHECK_INT(missed, 0);
	}
	/* Truncated and with trailing bytes. */
	CHECK(cert_verify(der, len - 1, ca_der, ca_len, now, &ci, err,
			  sizeof(err)) != 0);
	{
		uint8_t *longer = malloc(len + 1);

		memcpy(longer, der, len);
		longer[len] = 0;
		CHECK_INT(cert_verify(longer, len + 1, ca_der, ca_len, now, &ci,
				      err, sizeof(err)), -EBADMSG);
		free(longer);
	}
	/* A CA certificate is not a node certificate. */
	CHECK_INT(cert_verify(ca_der, ca_len, ca_der, ca_len, now, &ci, err,
			      sizeof(err)), -EPERM);
	CHECK(strstr(err, "is a CA certificate"));
	/* A node certificate is not a CA. */
	CHECK(cert_verify(der, len, der, len, now, &ci, err, sizeof(err)) != 0);
	free(der);
}

static void test_issue_refusals(void)
{
	struct cert_info b;
	uint8_t *der = NULL, *csr = NULL;
	size_t len = 0, csr_len = 0;

	/* v6 that is not the derived address. */
	bind_init(&b, "alice@example.com");
	addr_overlay_v6("bob@example.com", b.v6);
	CHECK_INT(issue(&b, "alice@example.com", &der, &len), -EPERM);
	CHECK(strstr(err, "not the overlay address of 'alice@example.com'"));
	CHECK(der == NULL);

	/* CSR and binding disagree. */
	bind_init(&b, "alice@example.com");
	CHECK_INT(issue(&b, "mallory@example.com", &der, &len), -EPERM);
	CHECK(strstr(err, "CSR is for 'mallory@example.com'"));

	/* Identity of another domain. */
	bind_init(&b, "bob@other.org");
	CHECK_INT(issue(&b, "bob@other.org", &der, &len), -EPERM);
	CHECK(strstr(err, "not in the example.com domain"));

	/* No IPv4, too many routes, host bits, times, serial. */
	bind_init(&b, "alice@example.com");
	b.has_v4 = 0;
	CHECK_INT(issue(&b, "alice@example.com", &der, &len), -EINVAL);
	bind_init(&b, "alice@example.com");
	b.n_routes = CERT_MAX_ROUTES + 1;
	CHECK_INT(issue(&b, "alice@example.com", &der, &len), -EINVAL);
	bind_init(&b, "alice@example.com");
	b.n_routes = 1;
	b.routes[0].family = AF_INET;
	b.routes[0].plen = 24;
	b.routes[0].addr[3] = 1;
	CHECK_INT(issue(&b, "alice@example.com", &der, &len), -EINVAL);
	bind_init(&b, "alice@example.com");
	b.not_after = b.not_before;
	CHECK_INT(issue(&b, "alice@example.com", &der, &len), -EINVAL);
	bind_init(&b, "alice@example.com");
	strcpy(b.serial, "xyz");
	CHECK_INT(issue(&b, "alice@example.com", &der, &len), -EINVAL);
	CHECK(der == NULL);

	/* The wrong CA key for the CA certificate. */
	bind_init(&b, "alice@example.com");
	CHECK_INT(cert_csr_make(node_key, "alice@example.com", &csr, &csr_len), 0);
	CHECK_INT(cert_issue(other_ca_key, ca_der, ca_len, csr, csr_len, &b,
			     &der, &len, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "CA key does not match"));
	/* A node certificate as CA. */
	CHECK(cert_issue(ca_key, csr, csr_len, csr, csr_len, &b, &der, &len,
			 err, sizeof(err)) != 0);
	free(csr);
	CHECK(der == NULL);
}

static void test_issue_options(void)
{
	struct cert_info b, ci;
	uint8_t *der = NULL;
	size_t len = 0;
	char id[ID_NAME_MAX + 1], u[70], d[300];

	/* has_v6 = 0: the derived address is filled in. */
	bind_init(&b, "bob@example.com");
	b.has_v6 = 0;
	memset(b.v6, 0, 16);
	strcpy(b.serial, "00ff01");
	CHECK_INT(issue(&b, "bob@example.com", &der, &len), 0);
	if (der) {
		uint8_t v6[16];

		CHECK_INT(cert_parse(der, len, &ci, err, sizeof(err)), 0);
		addr_overlay_v6("bob@example.com", v6);
		CHECK_MEM(ci.v6, v6, 16);
		CHECK_STR(ci.serial, "ff01");
		free(der);
		der = NULL;
	}

	/* Far-future expiry (GeneralizedTime) and a maximal identity. */
	memset(u, 'u', 64);
	u[64] = '\0';
	snprintf(id, sizeof(id), "%s@example.com", u);
	bind_init(&b, id);
	b.not_after = 4102444800LL + 86400 * 365LL;     /* 2101 */
	for (int i = 0; i < CERT_MAX_ROUTES; i++) {
		b.routes[i].family = AF_INET6;
		b.routes[i].plen = 64;
		b.routes[i].addr[0] = 0xfd;
		b.routes[i].addr[7] = (uint8_t)i;
	}
	b.n_routes = CERT_MAX_ROUTES;
	CHECK_INT(issue(&b, id, &der, &len), 0);
	if (der) {
		CHECK_INT(cert_verify(der, len, ca_der, ca_len,
				      (int64_t)time(NULL), &ci, err,
				      sizeof(err)), 0);
		CHECK_STR(ci.identity, id);
		CHECK_INT(ci.not_after, b.not_after);
		CHECK_INT(ci.n_routes, CERT_MAX_ROUTES);
		CHECK_INT(ci.routes[15].addr[7], 15);
		free(der);
	}

	/* A 253-byte domain CA (names longer than X.509's usual 64). */
	memset(d, 'a', 253);
	d[63] = d[127] = d[191] = '.';
	d[253] = '\0';
	{
		struct id_key *k;
		uint8_t *ca;
		size_t ca_len2;

		CHECK_INT(cert_ca_create(d, 10, &k, &ca, &ca_len2), 0);
		CHECK_INT(cert_parse(ca, ca_len2, &ci, err, sizeof(err)), 0);
		CHECK_STR(ci.identity, d);
		key_free(k);
		free(ca);
	}
	{
		struct id_key *k = (struct id_key *)&b;   /* must be reset */

		CHECK_INT(cert_ca_create("Example.com", 10, &k, &der, &len), -EINVAL);
		CHECK(der == NULL);
		CHECK(k == NULL);
	}
}

static void test_fingerprint_text(void)
{
	uint8_t fp[32], back[32];
	char hex[65], colons[100];

	for (int i = 0; i < 32; i++)
		fp[i] = (uint8_t)(i * 7 + 0xa0);
	CHECK_INT(cert_fingerprint_hex(fp, hex), 0);
	CHECK_INT(strlen(hex), 64);
	CHECK_INT(strncmp(hex, "a0a7ae", 6), 0);
	CHECK_INT(cert_fingerprint_parse(hex, back), 0);
	CHECK_MEM(back, fp, 32);
	/* Upper case, colon form. */
	for (int i = 0, o = 0; i < 32; i++)
		o += snprintf(colons + o, sizeof(colons) - o, i ? ":%02X" : "%02X", fp[i]);
	memset(back, 0, 32);
	CHECK_INT(cert_fingerprint_parse(colons, back), 0);
	CHECK_MEM(back, fp, 32);
	/* Malformed. */
	CHECK_INT(cert_fingerprint_parse("", back), -EINVAL);
	hex[63] = '\0';
	CHECK_INT(cert_fingerprint_parse(hex, back), -EINVAL);
	hex[63] = '0';
	{
		char longer[70];

		snprintf(longer, sizeof(longer), "%s00", hex);
		CHECK_INT(cert_fingerprint_parse(longer, back), -EINVAL);
		snprintf(longer, sizeof(longer), "%s:", hex);
		CHECK_INT(cert_fingerprint_parse(longer, back), -EINVAL);
	}
	hex[10] = 'g';
	CHECK_INT(cert_fingerprint_parse(hex, back), -EINVAL);
	colons[5] = '-';
	CHECK_INT(cert_fingerprint_parse(colons, back), -EINVAL);
	CHECK_INT(cert_fingerprint_parse(NULL, back), -EINVAL);
}

/*
 * Hostile bytes: random mutations and truncations of a valid certificate
 * and CSR must be refused or parsed, never crash (run under ASan), and a
 * successful parse must still yield a well-formed identity.
 */
static void test_parse_garbage(void)
{
	struct cert_info b, ci;
	uint8_t *der = NULL, *csr = NULL, *buf;
	size_t len = 0, csr_len = 0;
	char id[ID_NAME_MAX + 1];
	int parsed = 0;

	bind_init(&b, "alice@example.com");
	CHECK_INT(addr_prefix_parse("203.0.113.0/24", &b.routes[0]), 0);
	b.n_routes = 1;
	CHECK_INT(issue(&b, "alice@example.com", &der, &len), 0);
	CHECK_INT(cert_csr_make(node_key, "alice@example.com", &csr, &csr_len), 0);
	if (!der || !csr)
		return;
	buf = malloc(len);
	srand(1);
	for (int i = 0; i < 20000; i++) {
		size_t n = len, flips = 1 + (size_t)(rand() % 4);

		memcpy(buf, der, len);
		for (size_t f = 0; f < flips; f++)
			buf[rand() % len] = (uint8_t)rand();
		if (i % 5 == 0)
			n = (size_t)rand() % (len + 1);
		if (cert_parse(buf, n, &ci, err, sizeof(err)) == 0) {
			parsed++;
			CHECK_INT(id_parse(ci.identity, NULL, NULL, 0), 0);
			CHECK(ci.n_routes >= 0 && ci.n_routes <= CERT_MAX_ROUTES);
		} else {
			CHECK(err[0] != '\0');
		}
		memcpy(buf, csr, csr_len);
		buf[rand() % csr_len] ^= (uint8_t)(1 + rand() % 255);
		n = i % 3 ? csr_len : (size_t)rand() % (csr_len + 1);
		CHECK(cert_csr_parse(buf, n, id, err, sizeof(err)) != 0);
	}
	CHECK(parsed > 0);      /* some mutations only hit the signature */
	free(buf);
	free(der);
	free(csr);
}

/* wolfSSL must accept what we issue, or the TLS handshake will not. */
static void test_wolfssl_accepts(void)
{
	struct cert_info b;
	uint8_t *der = NULL;
	size_t len = 0;
	WOLFSSL_CERT_MANAGER *cm;
	DecodedCert dc;

	bind_init(&b, "alice@example.com");
	CHECK_INT(addr_prefix_parse("203.0.113.0/24", &b.routes[0]), 0);
	b.n_routes = 1;
	CHECK_INT(issue(&b, "alice@example.com", &der, &len), 0);
	if (!der)
		return;
	wc_InitDecodedCert(&dc, der, (word32)len, NULL);
	CHECK_INT(wc_ParseCert(&dc, CERT_TYPE, NO_VERIFY, NULL), 0);
	wc_FreeDecodedCert(&dc);

	cm = wolfSSL_CertManagerNew();
	CHECK(cm != NULL);
	if (cm) {
		CHECK_INT(wolfSSL_CertManagerLoadCABuffer(cm, ca_der, (long)ca_len,
							  WOLFSSL_FILETYPE_ASN1),
			  WOLFSSL_SUCCESS);
		CHECK_INT(wolfSSL_CertManagerVerifyBuffer(cm, der, (long)len,
							  WOLFSSL_FILETYPE_ASN1),
			  WOLFSSL_SUCCESS);
		wolfSSL_CertManagerFree(cm);
	}
	/* And refuses it under another domain's CA. */
	cm = wolfSSL_CertManagerNew();
	if (cm) {
		wolfSSL_CertManagerLoadCABuffer(cm, other_ca_der,
						(long)other_ca_len,
						WOLFSSL_FILETYPE_ASN1);
		CHECK(wolfSSL_CertManagerVerifyBuffer(cm, der, (long)len,
						      WOLFSSL_FILETYPE_ASN1) !=
		      WOLFSSL_SUCCESS);
		wolfSSL_CertManagerFree(cm);
	}
	free(der);
}

/*
 * The authority's serving certificate: verifies under its own CA for its
 * own domain only, is neither a CA nor a node certificate, and neither a
 * node certificate nor the CA itself passes as one.
 */
static void test_serving(void)
{
	struct id_key *sk = NULL;
	struct cert_info ci, b;
	uint8_t *der = NULL, *node = NULL;
	size_t len = 0, node_len = 0;
	int64_t now = (int64_t)time(NULL);
	WOLFSSL_CERT_MANAGER *cm;

	CHECK_INT(key_generate(&sk), 0);
	CHECK_INT(cert_serving_issue(ca_key, ca_der, ca_len, sk, 7, &der, &len,
				     err, sizeof(err)), 0);
	if (!der)
		goto out;
	CHECK_INT(cert_serving_verify(der, len, ca_der, ca_len, "example.com", now,
				      err, sizeof(err)), 0);
	CHECK_INT(cert_serving_verify(der, len, ca_der, ca_len, "example.com",
				      now + 8 * 86400, err, sizeof(err)), -ETIME);
	CHECK_INT(cert_serving_verify(der, len, ca_der, ca_len, "example.com",
				      now - 2 * 86400, err, sizeof(err)), -ETIME);
	/* another domain's CA, or the right CA asked for another domain */
	CHECK_INT(cert_serving_verify(der, len, other_ca_der, other_ca_len,
				      "other.org", now, err, sizeof(err)), -EPERM);
	CHECK_INT(cert_serving_verify(der, len, ca_der, ca_len, "other.org", now,
				      err, sizeof(err)), -EBADMSG);
	/* The CA itself as the leaf is refused: it is a CA. */
	CHECK_INT(cert_serving_verify(ca_der, ca_len, ca_der, ca_len, "example.com",
				      now, err, sizeof(err)), -EPERM);
	CHECK(strstr(err, "CA certificate") != NULL);
	/* A node certificate is not a serving certificate. */
	bind_init(&b, "alice@example.com");
	CHECK_INT(issue(&b, "alice@example.com", &node, &node_len), 0);
	CHECK_INT(cert_serving_verify(node, node_len, ca_der, ca_len, "example.com",
				      now, err, sizeof(err)), -EPERM);
	/* ...nor the other way round: no identity, no bindings. */
	CHECK(cert_verify(der, len, ca_der, ca_len, now, &ci, err, sizeof(err)) != 0);
	CHECK(cert_parse(der, len, &ci, err, sizeof(err)) != 0);
	/* Signed with a key that is not the CA's: refused at issue. */
	free(der);
	der = NULL;
	CHECK_INT(cert_serving_issue(other_ca_key, ca_der, ca_len, sk, 7, &der, &len,
				     err, sizeof(err)), -EINVAL);
	CHECK(der == NULL);
	CHECK_INT(cert_serving_issue(ca_key, ca_der, ca_len, sk, 0, &der, &len,
				     err, sizeof(err)), -EINVAL);
	/* One flipped byte anywhere: never verifies. */
	CHECK_INT(cert_serving_issue(ca_key, ca_der, ca_len, sk, 7, &der, &len,
				     err, sizeof(err)), 0);
	for (size_t i = 0; der && i < len; i++) {
		der[i] ^= 0x01;
		CHECK(cert_serving_verify(der, len, ca_der, ca_len, "example.com", now,
					  err, sizeof(err)) != 0);
		der[i] ^= 0x01;
	}
	/* wolfSSL verifies it under the CA, as a TLS client would. */
	cm = wolfSSL_CertManagerNew();
	if (cm && der) {
		CHECK_INT(wolfSSL_CertManagerLoadCABuffer(cm, ca_der, (long)ca_len,
							  WOLFSSL_FILETYPE_ASN1),
			  WOLFSSL_SUCCESS);
		CHECK_INT(wolfSSL_CertManagerVerifyBuffer(cm, der, (long)len,
							  WOLFSSL_FILETYPE_ASN1),
			  WOLFSSL_SUCCESS);
	}
	if (cm)
		wolfSSL_CertManagerFree(cm);
out:
	key_free(sk);
	free(der);
	free(node);
}

int main(void)
{
	wolfSSL_Init();
	setup();
	RUN(test_key_files);
	RUN(test_key_formats);
	RUN(test_file_helpers);
	RUN(test_csr);
	RUN(test_roundtrip);
	RUN(test_verify_failures);
	RUN(test_issue_refusals);
	RUN(test_issue_options);
	RUN(test_fingerprint_text);
	RUN(test_parse_garbage);
	RUN(test_wolfssl_accepts);
	RUN(test_serving);
	teardown();
	wolfSSL_Cleanup();
	return HARNESS_END();
}
