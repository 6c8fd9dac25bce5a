/*
 * Handshakes per second (bench/README.md): the q2q handshake (TLS 1.3 in
 * wolfSSL over netstack/stream.c, certificates checked by q2q's rules,
 * data keys exported) run N times (default 300) between an initiator and a
 * responder in this one thread, segments handed across in memory, so no
 * network or scheduler time counts. Each side's CPU time is measured
 * around its own calls, so the figures say how many handshakes one node
 * completes per second on one core as responder and as initiator. Every
 * handshake must end DONE with keys crosswise equal, or the bench fails.
 * With "cold", wolfSSL's fixed-point ECC cache (FP_ECC: tables for the
 * points it multiplies often, the P-256 base point first) is freed before
 * every handshake, outside the measured time: what a handshake costs when
 * an idle daemon has given those tables back (bench/README.md, idle RSS).
 * Also prints the heap in use at the end (mallinfo2), tables included.
 *
 *   bench/scale_hs [N [cold]]
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "identity/addr.h"
#include "identity/cert.h"
#include "identity/key.h"
#include "netstack/handshake.h"
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/ecc.h>

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *why)
{
	fprintf(stderr, "scale_hs: %s%s%s\n", what, why[0] ? ": " : "", why);
	exit(1);
}

/* A handshake context for id, its certificate signed by the CA. */
static struct hs_ctx *ctx_for(struct id_key *ca, const uint8_t *ca_der, size_t ca_len,
    const char *id, uint8_t host)
{
	struct cert_info want = { .has_v4 = 1, .v4 = { 100, 64, 0, host }, .has_v6 = 1 };
	uint8_t *csr = NULL, *key = NULL, *cert = NULL;
	size_t csr_len, key_len, cert_len;
	struct id_key *k = NULL;
	struct hs_ctx *c = NULL;
	char err[256] = "";

	snprintf(want.identity, sizeof(want.identity), "%s", id);
	addr_overlay_v6(id, want.v6);
	want.not_before = (int64_t)time(NULL) - 60;
	want.not_after = want.not_before + 86400;
	if (key_generate(&k) || key_der(k, &key, &key_len) || cert_csr_make(k, id, &csr, &csr_len))
		die("key or CSR", id);
	if (cert_issue(ca, ca_der, ca_len, csr, csr_len, &want, &cert, &cert_len, err, sizeof(err)))
		die("certificate", err);
	if (hs_ctx_new(key, key_len, cert, cert_len, &c, err, sizeof(err)) ||
	    hs_ctx_add_ca(c, ca_der, ca_len, err, sizeof(err)))
		die("context", err);
	free(csr);
	free(cert);
	free(key);
	key_free(k);
	return c;
}

/* Everything h wants to send now, into to; the CPU time of both sides
 * goes to their own accounts. */
static int pass(struct hs *from, struct hs *to, uint64_t now, double *t_from, double *t_to)
{
	struct stream_seg s;
	int n = 0;
	double a, b, c;

	for (;;) {
		a = cpu_s();
		int more = hs_poll(from, now, &s);
		b = cpu_s();
		*t_from += b - a;
		if (!more)
			break;
		if (hs_input(to, s.seq, s.ack, s.len ? s.data : NULL, s.len, now) < 0)
			die("hs_input", "refused an honest segment");
		c = cpu_s();
		*t_to += c - b;
		n++;
	}
	return n;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 300;
	int cold = argc > 2 && strcmp(argv[2], "cold") == 0;
	struct hs_ctx *ca_alice, *ca_bob;
	struct id_key *ca;
	uint8_t *ca_der, k0[HS_KEY_LEN], r0[HS_KEY_LEN], k1[HS_KEY_LEN], r1[HS_KEY_LEN];
	size_t ca_len;
	double t_init = 0, t_resp = 0, a;
	char peer[ID_NAME_MAX + 1];

	if (n <= 0) {
		fprintf(stderr, "usage: scale_hs [N]\n");
		return 2;
	}
	if (cert_ca_create("example.com", 30, &ca, &ca_der, &ca_len))
		die("CA", "");
	ca_alice = ctx_for(ca, ca_der, ca_len, "alice@example.com", 1);
	ca_bob = ctx_for(ca, ca_der, ca_len, "bob@example.com", 2);
	for (int i = 0; i < n; i++) {
		struct hs *h0, *h1;
		uint64_t now = 1000;
		size_t l0 = 0, l1 = 0;

		if (cold)
			wc_ecc_fp_free();
		a = cpu_s();
		if (hs_new(ca_alice, 1, "alice@example.com", "bob@example.com", now, &h0))
			die("hs_new", "initiator");
		t_init += cpu_s() - a;
		a = cpu_s();
		if (hs_new(ca_bob, 0, "bob@example.com", NULL, now, &h1))
			die("hs_new", "responder");
		t_resp += cpu_s() - a;
		for (int round = 0; round < 50; round++) {
			int moved = pass(h0, h1, now, &t_init, &t_resp) + pass(h1, h0, now, &t_resp, &t_init);

			if (hs_state(h0, NULL) == HS_DONE && hs_state(h1, NULL) == HS_DONE && !moved)
				break;
			now += 1;
		}
		if (hs_state(h0, NULL) != HS_DONE || hs_state(h1, NULL) != HS_DONE)
			die("handshake", "did not complete");
		if (hs_result(h0, peer, NULL, &l0, k0, r0) || strcmp(peer, "bob@example.com") ||
		    hs_result(h1, peer, NULL, &l1, k1, r1) || strcmp(peer, "alice@example.com") ||
		    memcmp(k0, r1, HS_KEY_LEN) || memcmp(k1, r0, HS_KEY_LEN))
			die("handshake", "keys or identities do not match");
		a = cpu_s();
		hs_free(h0);
		t_init += cpu_s() - a;
		a = cpu_s();
		hs_free(h1);
		t_resp += cpu_s() - a;
	}
	printf("handshakes: %d, TLS 1.3, ECDSA P-256 certificates, X25519\n", n);
	printf("responder CPU per handshake: %.2f ms -> %.0f handshakes/s on one core\n",
	    t_resp * 1e3 / n, n / t_resp);
	printf("initiator CPU per handshake: %.2f ms -> %.0f handshakes/s on one core\n",
	    t_init * 1e3 / n, n / t_init);
	printf("both sides in one thread: %.0f handshakes/s%s\n", n / (t_init + t_resp),
	    cold ? " (ECC fixed-point tables freed before each)" : "");
	printf("heap in use at the end: %zu KiB\n", mallinfo2().uordblks / 1024);
	hs_ctx_free(ca_alice);
	hs_ctx_free(ca_bob);
	key_free(ca);
	free(ca_der);
	return 0;
}
