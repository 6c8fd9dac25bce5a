/*
 * Fuzz target for what cert_verify (identity/cert.c) does after the
 * signature checks out. Any domain's authority can sign anything, and a
 * foreign CA may be learned on first use, so a hostile domain can hand us
 * arbitrary certificates with valid signatures: the binding rules and the
 * subjectAltName walk behind the signature check are attack surface too,
 * and fuzz_cert.c cannot reach them without forging signatures. Here the
 * fuzzer's bytes are the to-be-signed part; the target signs them with a
 * CA of its own (example.com) and verifies. Input: one byte choosing the
 * verification time relative to the certificate's validity, then the TBS.
 *
 * Checked: verify succeeds only for what cert_parse accepts, with the same
 * bindings, and only when the rules in cert.h hold (node, not CA; domain
 * of the CA; derived IPv6; an IPv4; inside the validity window); with a
 * good signature it fails with -ETIME exactly when the time is outside
 * the window (or the issuer is not the CA), otherwise with -EPERM.
 */
#include <errno.h>
#include <time.h>

#include "tests/fuzz/fuzz.h"
#include "identity/cert.h"
#include "identity/key.h"
#include "identity/x509.h"

static struct id_key *ca_key;
static uint8_t *ca_der;
static size_t ca_len;
static struct cert_info ca_info;

static int all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cert_info parsed, ci;
	uint8_t *der = NULL, v6[16];
	size_t len = 0;
	char err[160];
	const char *at;
	int64_t now;
	int rc, prc, inside;

	if (size < 1 || size - 1 > CERT_DER_MAX)
		return 0;
	if (x509_sign(ca_key, data + 1, size - 1, &der, &len) != 0)
		return 0;
	prc = cert_parse(der, len, &parsed, NULL, 0);
	switch (data[0] & 3) {
	case 0:	/* inside both windows if they overlap (the CA is new) */
		now = (parsed.not_before > ca_info.not_before ?
		       parsed.not_before : ca_info.not_before) + 1;
		break;
	case 1:
		now = parsed.not_before - 1;
		break;
	case 2:
		now = parsed.not_after + 1;
		break;
	default:
		now = (int64_t)time(NULL);
		break;
	}
	rc = cert_verify(der, len, ca_der, ca_len, now, &ci, err, sizeof(err));
	FZ_CHECK(memchr(err, 0, sizeof(err)) != NULL || rc == 0);
	if (prc != 0) {
		FZ_CHECK(rc != 0);
		goto out;
	}
	/* The CA must be valid at now as well. */
	inside = parsed.not_before <= now && now <= parsed.not_after &&
		 ca_info.not_before <= now && now <= ca_info.not_after;
	if (rc == 0) {
		/* The binding rules, restated from cert.h. */
		at = strchr(parsed.identity, '@');
		FZ_CHECK(!parsed.is_ca && at && strcmp(at + 1, "example.com") == 0);
		addr_overlay_v6(parsed.identity, v6);
		FZ_CHECK(parsed.has_v4 && parsed.has_v6 &&
			 memcmp(parsed.v6, v6, 16) == 0);
		FZ_CHECK(memcmp(&ci, &parsed, sizeof(ci)) == 0);
		FZ_CHECK(inside);
		goto out;
	}
	FZ_CHECK(all_zero(&ci, sizeof(ci)));
	/* Our signature is good, so only the issuer name can fail before
	 * the validity window is looked at. */
	if (inside)
		FZ_CHECK(rc == -EPERM || rc == -EKEYREJECTED);
	else
		FZ_CHECK(rc == -ETIME || rc == -EKEYREJECTED);
out:
	free(der);
	return 0;
}

static void seeds(const char *dir)
{
	struct id_key *node_key = NULL;
	uint8_t *csr = NULL, *leaf = NULL, buf[CERT_DER_MAX + 1];
	const uint8_t *tbs, *sig;
	size_t csr_len, leaf_len, tbs_len, sig_len;
	struct cert_info b;
	char err[160];
	int64_t now = (int64_t)time(NULL);

	FZ_CHECK(key_generate(&node_key) == 0);
	FZ_CHECK(cert_csr_make(node_key, "alice@example.com", &csr, &csr_len) == 0);
	memset(&b, 0, sizeof(b));
	strcpy(b.identity, "alice@example.com");
	b.has_v4 = 1;
	memcpy(b.v4, "\x64\x40\x00\x07", 4);
	b.n_routes = 1;
	FZ_CHECK(addr_prefix_parse("198.51.100.0/24", &b.routes[0]) == 0);
	b.not_before = now;
	b.not_after = now + 3650LL * 86400;
	FZ_CHECK(cert_issue(ca_key, ca_der, ca_len, csr, csr_len, &b, &leaf,
			    &leaf_len, err, sizeof(err)) == 0);
	FZ_CHECK(x509_split_signed(leaf, leaf_len, &tbs, &tbs_len, &sig,
				   &sig_len) == 0);
	buf[0] = 0;
	memcpy(buf + 1, tbs, tbs_len);
	fz_write_seed(dir, "tbs-valid", buf, tbs_len + 1);
	buf[0] = 2;
	fz_write_seed(dir, "tbs-expired", buf, tbs_len + 1);
	key_free(node_key);
	free(csr);
	free(leaf);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	FZ_CHECK(cert_ca_create("example.com", 36500, &ca_key, &ca_der,
				&ca_len) == 0);
	FZ_CHECK(cert_parse(ca_der, ca_len, &ca_info, NULL, 0) == 0);
	fz_seed_mode(seeds);
	return 0;
}
