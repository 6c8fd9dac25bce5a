/*
 * The TLS 1.3 handshake carrier, in process: two hs objects joined by a
 * simulated link (optionally lossy, reordering, duplicating). Both must
 * reach DONE with crosswise-equal keys; a certificate from another CA, a
 * certificate of the wrong domain's CA and an unexpected identity must fail.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <arpa/inet.h>

#include "tests/unit/harness.h"
#include "netstack/aead.h"
#include "identity/addr.h"
#include "identity/cert.h"
#include "identity/key.h"
#include "netstack/handshake.h"

struct node {
	char id[64];
	uint8_t *key, *cert;
	size_t key_len, cert_len;
};

struct ca {
	struct id_key *key;
	uint8_t *der;
	size_t len;
};

static struct ca ca_example, ca_other, ca_rogue;
static struct node alice, bob, carol, mallory, dave;

static void make_ca(struct ca *c, const char *domain)
{
	CHECK_INT(cert_ca_create(domain, 30, &c->key, &c->der, &c->len), 0);
}

/* A node whose certificate is valid from now + from to now + until. */
static void make_node_valid(struct node *n, const struct ca *c, const char *id,
			    int host, int64_t from, int64_t until);

static void make_node(struct node *n, const struct ca *c, const char *id,
		      int host)
{
	make_node_valid(n, c, id, host, -60, 86400);
}

static void make_node_valid(struct node *n, const struct ca *c, const char *id,
			    int host, int64_t from, int64_t until)
{
	struct id_key *k;
	struct cert_info b;
	uint8_t *csr;
	size_t csr_len;
	char err[200] = "";
	int64_t now = (int64_t)time(NULL);

	snprintf(n->id, sizeof(n->id), "%s", id);
	CHECK_INT(key_generate(&k), 0);
	CHECK_INT(key_der(k, &n->key, &n->key_len), 0);
	CHECK_INT(cert_csr_make(k, id, &csr, &csr_len), 0);
	memset(&b, 0, sizeof(b));
	snprintf(b.identity, sizeof(b.identity), "%s", id);
	b.has_v4 = 1;
	b.v4[0] = 100; b.v4[1] = 64; b.v4[2] = 0; b.v4[3] = (uint8_t)host;
	b.has_v6 = 1;
	addr_overlay_v6(id, b.v6);
	b.not_before = now + from;
	b.not_after = now + until;
	if (cert_issue(c->key, c->der, c->len, csr, csr_len, &b, &n->cert,
		       &n->cert_len, err, sizeof(err)) != 0)
		H_FAIL("cert_issue %s: %s", id, err);
	free(csr);
	key_free(k);
}

static struct hs_ctx *make_ctx(const struct node *n, const struct ca **cas,
			       int n_cas)
{
	struct hs_ctx *c = NULL;
	char err[200] = "";

	if (hs_ctx_new(n->key, n->key_len, n->cert, n->cert_len, &c, err,
		       sizeof(err)) != 0)
		H_FAIL("hs_ctx_new %s: %s", n->id, err);
	for (int i = 0; c && i < n_cas; i++)
		if (hs_ctx_add_ca(c, cas[i]->der, cas[i]->len, err,
				  sizeof(err)) != 0)
			H_FAIL("hs_ctx_add_ca: %s", err);
	return c;
}

/* The simulated link, as in the stream test. */
static uint64_t rs;

static uint32_t rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return (uint32_t)(rs >> 11);
}

struct pkt {
	uint64_t at;
	int to;
	uint32_t seq, ack;
	size_t len;
	uint8_t data[STREAM_SEG_MAX];
};

#define LINK_MAX 2048

struct result {
	enum hs_state st[2];
	const char *why[2];
	uint64_t end;
	long packets;
};

/* side 0 initiates; runs until both settle or 60 s of simulated time. */
static void run(struct hs *h[2], int loss, int dup, uint64_t seed,
		struct result *r)
{
	struct pkt *q = calloc(LINK_MAX, sizeof(*q));
	int n = 0;
	uint64_t now = 0;

	rs = seed;
	r->packets = 0;
	for (int steps = 0; steps < 100000 && now < 60000; steps++) {
		uint64_t next = STREAM_NEVER;
		int idx = -1;

		for (int s = 0; s < 2; s++) {
			struct stream_seg seg;

			while (hs_poll(h[s], now, &seg)) {
				int copies = 1 + ((int)(rnd() % 100) < dup);

				r->packets++;
				for (int c = 0; c < copies; c++) {
					if ((int)(rnd() % 100) < loss ||
					    n == LINK_MAX)
						continue;
					q[n].at = now + 5 + rnd() % 60;
					q[n].to = !s;
					q[n].seq = seg.seq;
					q[n].ack = seg.ack;
					q[n].len = seg.len;
					if (seg.len)
						memcpy(q[n].data, seg.data,
						       seg.len);
					n++;
				}
			}
		}
		r->st[0] = hs_state(h[0], &r->why[0]);
		r->st[1] = hs_state(h[1], &r->why[1]);
		/* Settled: both decided, and a success fully acknowledged. */
		if (r->st[0] != HS_RUNNING && r->st[1] != HS_RUNNING &&
		    (r->st[0] == HS_FAILED || r->st[1] == HS_FAILED ||
		     (hs_flushed(h[0]) && hs_flushed(h[1]))))
			break;
		for (int i = 0; i < n; i++)
			if (q[i].at < next) {
				next = q[i].at;
				idx = i;
			}
		for (int s = 0; s < 2; s++) {
			uint64_t d = hs_next_deadline(h[s]);

			if (d < next) {
				next = d;
				idx = -1;
			}
		}
		if (next == STREAM_NEVER)
			break;
		if (next > now)
			now = next;
		if (idx >= 0) {
			struct pkt p = q[idx];

			q[idx] = q[--n];
			hs_input(h[p.to], p.seq, p.ack, p.data, p.len, now);
		}
	}
	r->st[0] = hs_state(h[0], &r->why[0]);
	r->st[1] = hs_state(h[1], &r->why[1]);
	r->end = now;
	free(q);
}

static void expect_success(struct hs *h[2], const char *ini, const char *res)
{
	char peer[ID_NAME_MAX + 1];
	uint8_t s0[32], r0[32], s1[32], r1[32], der[CERT_DER_MAX];
	size_t len = sizeof(der);
	struct cert_info ci;

	CHECK_INT(hs_result(h[0], peer, der, &len, s0, r0), 0);
	CHECK_STR(peer, res);
	CHECK_INT(hs_result(h[1], peer, NULL, NULL, s1, r1), 0);
	CHECK_STR(peer, ini);
	CHECK_MEM(s0, r1, 32);
	CHECK_MEM(s1, r0, 32);
	CHECK(memcmp(s0, r0, 32) != 0);
	CHECK_INT(hs_peer_info(h[1], &ci), 0);
	CHECK_STR(ci.identity, ini);
	CHECK(ci.has_v4);
	len = 10;
	CHECK_INT(hs_result(h[0], NULL, der, &len, NULL, NULL), -ENOSPC);
}

static void test_success_clean(void)
{
	const struct ca *cas[] = { &ca_example };
	struct hs_ctx *ca = make_ctx(&alice, cas, 1), *cb = make_ctx(&bob, cas, 1);
	struct hs *h[2];
	struct result r;
	uint8_t k1[32], k2[32];

	CHECK_INT(hs_new(ca, 1, alice.id, bob.id, 0, &h[0]), 0);
	CHECK_INT(hs_new(cb, 0, bob.id, NULL, 0, &h[1]), 0);
	CHECK_INT(hs_result(h[0], NULL, NULL, NULL, NULL, NULL), -EAGAIN);
	CHECK(hs_is_initiator(h[0]) && !hs_is_initiator(h[1]));
	run(h, 0, 0, 1, &r);
	CHECK_INT(r.st[0], HS_DONE);
	CHECK_INT(r.st[1], HS_DONE);
	if (r.st[0] != HS_DONE || r.st[1] != HS_DONE)
		fprintf(stderr, "  reasons: '%s' / '%s'\n", r.why[0], r.why[1]);
	else
		expect_success(h, alice.id, bob.id);
	CHECK(hs_flushed(h[0]) && hs_flushed(h[1]));
	printf("# clean handshake: %ld segments, %llu ms simulated\n",
	       r.packets, (unsigned long long)r.end);
	hs_result(h[0], NULL, NULL, NULL, k1, NULL);
	hs_free(h[0]);
	hs_free(h[1]);

	/* A second session gets fresh keys. */
	CHECK_INT(hs_new(ca, 1, alice.id, bob.id, 0, &h[0]), 0);
	CHECK_INT(hs_new(cb, 0, bob.id, NULL, 0, &h[1]), 0);
	run(h, 0, 0, 2, &r);
	CHECK_INT(r.st[0], HS_DONE);
	hs_result(h[0], NULL, NULL, NULL, k2, NULL);
	CHECK(memcmp(k1, k2, 32) != 0);
	hs_free(h[0]);
	hs_free(h[1]);
	hs_ctx_free(ca);
	hs_ctx_free(cb);
}

/*
 * The data cipher follows the negotiated TLS suite: AES-256-GCM exactly
 * when both hosts have AES hardware, whichever side initiates; both sides
 * always agree, and their keys open each other's packets.
 */
static void test_data_cipher(void)
{
	const struct ca *cas[] = { &ca_example };
	struct hs_ctx *ca = make_ctx(&alice, cas, 1), *cb = make_ctx(&bob, cas, 1);

	CHECK_INT(hs_suite_cipher(0x1302), AEAD_AES256_GCM);
	CHECK_INT(hs_suite_cipher(0x1303), AEAD_CHACHA20_POLY1305);
	CHECK_INT(hs_suite_cipher(0x1301), -ENOTSUP);	/* AES-128-GCM: never offered */
	for (int combo = 0; combo < 4 && ca && cb; combo++) {
		int aes_a = combo & 1, aes_b = combo >> 1 & 1;
		int want = aes_a && aes_b ? AEAD_AES256_GCM : AEAD_CHACHA20_POLY1305;
		uint8_t tx[32], rx[32], pkt[100 + 16], out[100] = { 0 };
		struct aead *seal = NULL, *open = NULL;
		struct hs *h[2];
		struct result r;

		CHECK_INT(hs_ctx_set_hw_aes(ca, aes_a), 0);
		CHECK_INT(hs_ctx_set_hw_aes(cb, aes_b), 0);
		CHECK_INT(hs_new(ca, 1, alice.id, bob.id, 0, &h[0]), 0);
		CHECK_INT(hs_new(cb, 0, bob.id, NULL, 0, &h[1]), 0);
		CHECK_INT(hs_data_cipher(h[0]), -EAGAIN);
		run(h, 0, 0, 10 + combo, &r);
		CHECK_INT(r.st[0], HS_DONE);
		CHECK_INT(r.st[1], HS_DONE);
		CHECK_INT(hs_data_cipher(h[0]), want);
		CHECK_INT(hs_data_cipher(h[1]), want);
		/* alice's sending key is bob's receiving key, in that cipher. */
		if (hs_result(h[0], NULL, NULL, NULL, tx, NULL) == 0 &&
		    hs_result(h[1], NULL, NULL, NULL, NULL, rx) == 0 &&
		    aead_new((enum aead_cipher)hs_data_cipher(h[0]), tx, &seal) == 0 &&
		    aead_new((enum aead_cipher)hs_data_cipher(h[1]), rx, &open) == 0) {
			CHECK_INT(aead_seal(seal, 1, NULL, 0, out, 100, pkt), 0);
			CHECK_INT(aead_open(open, 1, NULL, 0, pkt, sizeof(pkt), out), 100);
		} else {
			H_FAIL("no keys for combination %d", combo);
		}
		if (h_cur_failed)
			fprintf(stderr, "  alice aes %d, bob aes %d\n", aes_a, aes_b);
		aead_free(seal);
		aead_free(open);
		hs_free(h[0]);
		hs_free(h[1]);
	}
	hs_ctx_free(ca);
	hs_ctx_free(cb);
}

static void test_success_lossy(void)
{
	const struct ca *cas[] = { &ca_example };
	struct hs_ctx *ca = make_ctx(&alice, cas, 1), *cb = make_ctx(&bob, cas, 1);
	uint64_t worst = 0;

	for (uint64_t seed = 1; seed <= 25; seed++) {
		struct hs *h[2];
		struct result r;

		CHECK_INT(hs_new(ca, 1, alice.id, bob.id, 0, &h[0]), 0);
		CHECK_INT(hs_new(cb, 0, bob.id, NULL, 0, &h[1]), 0);
		run(h, 30, 10, seed * 7919, &r);
		if (r.st[0] != HS_DONE || r.st[1] != HS_DONE ||
		    !hs_flushed(h[0]) || !hs_flushed(h[1]))
			H_FAIL("seed %llu: %d '%s' / %d '%s'",
			       (unsigned long long)seed, r.st[0], r.why[0],
			       r.st[1], r.why[1]);
		else
			expect_success(h, alice.id, bob.id);
		if (r.end > worst)
			worst = r.end;
		hs_free(h[0]);
		hs_free(h[1]);
	}
	printf("# 25 handshakes at 30%% loss: slowest %llu ms simulated\n",
	       (unsigned long long)worst);
	hs_ctx_free(ca);
	hs_ctx_free(cb);
}

static void expect_failure(struct hs_ctx *ci, const char *ini,
			   const char *expect, struct hs_ctx *cr,
			   const char *res, const char *why_ini)
{
	struct hs *h[2];
	struct result r;

	CHECK_INT(hs_new(ci, 1, ini, expect, 0, &h[0]), 0);
	CHECK_INT(hs_new(cr, 0, res, NULL, 0, &h[1]), 0);
	run(h, 0, 0, 3, &r);
	CHECK_INT(r.st[0], HS_FAILED);
	CHECK(r.st[1] != HS_DONE);
	CHECK(r.why[0] && r.why[0][0]);
	if (why_ini && !strstr(r.why[0], why_ini))
		H_FAIL("initiator reason '%s' lacks '%s'", r.why[0], why_ini);
	CHECK_INT(hs_result(h[0], NULL, NULL, NULL, NULL, NULL), -EAGAIN);
	/* Nothing proven, and nothing the peer itself would be refused for:
	 * an attempt tries its other endpoints (tund/overlay/attempt.c). */
	CHECK(!hs_peer_proven(h[0]));
	CHECK(!hs_peer_refused(h[0]));
	hs_free(h[0]);
	hs_free(h[1]);
}

/* Whoever saw a HELLO can answer the ClientHello: bytes that are not the
 * expected peer's TLS never prove it, and fail only this handshake. */
static void test_impostor_unproven(void)
{
	const struct ca *cas[] = { &ca_example };
	struct hs_ctx *ca = make_ctx(&alice, cas, 1);
	struct hs *h;
	uint8_t junk[200];

	memset(junk, 0x16, sizeof(junk));
	CHECK_INT(hs_new(ca, 1, alice.id, bob.id, 0, &h), 0);
	CHECK(!hs_peer_proven(h));
	CHECK_INT(hs_input(h, 0, 0, junk, sizeof(junk), 10), 0);
	CHECK_INT(hs_state(h, NULL), HS_FAILED);
	CHECK(!hs_peer_proven(h));
	CHECK(!hs_peer_refused(h));
	hs_free(h);
	hs_ctx_free(ca);
}

/* The caller's judge: says no to one identity, and notes whom it saw. */
struct judge_seen {
	const char *refuse;
	char saw[ID_NAME_MAX + 1];
	int initiator;
	int calls;
};

static int judge(void *arg, int initiator, const struct cert_info *ci, char *why, size_t whylen)
{
	struct judge_seen *j = arg;

	j->calls++;
	j->initiator = initiator;
	snprintf(j->saw, sizeof(j->saw), "%s", ci->identity);
	if (j->refuse && strcmp(ci->identity, j->refuse) == 0) {
		snprintf(why, whylen, "%s claims too much", ci->identity);
		return 1;
	}
	return 0;
}

/* alice calls bob, each side judged by its judge_seen (NULL: no judge). */
static void judged_run(struct hs_ctx *ca, struct hs_ctx *cb, struct judge_seen *ja,
		       struct judge_seen *jb, uint64_t seed, struct hs *h[2], struct result *r)
{
	CHECK_INT(hs_new(ca, 1, alice.id, bob.id, 0, &h[0]), 0);
	CHECK_INT(hs_new(cb, 0, bob.id, NULL, 0, &h[1]), 0);
	if (ja)
		hs_set_judge(h[0], judge, ja);
	if (jb)
		hs_set_judge(h[1], judge, jb);
	run(h, 0, 0, seed, r);
}

static void test_judge(void)
{
	const struct ca *cas[] = { &ca_example };
	struct hs_ctx *ca = make_ctx(&alice, cas, 1), *cb = make_ctx(&bob, cas, 1);
	struct judge_seen ja = { 0 }, jb = { 0 };
	struct hs *h[2];
	struct result r;

	/* Both say yes: done, and each judged the other. */
	judged_run(ca, cb, &ja, &jb, 4, h, &r);
	CHECK_INT(r.st[0], HS_DONE);
	CHECK_INT(r.st[1], HS_DONE);
	CHECK(hs_peer_proven(h[0]) && hs_peer_proven(h[1]));
	CHECK(!hs_peer_refused(h[0]) && !hs_peer_refused(h[1]));
	CHECK_STR(ja.saw, bob.id);
	CHECK_INT(ja.initiator, 1);
	CHECK_STR(jb.saw, alice.id);
	CHECK_INT(jb.initiator, 0);
	hs_free(h[0]);
	hs_free(h[1]);

	/* The responder refuses: the initiator never gets the confirmation. */
	jb.refuse = alice.id;
	judged_run(ca, cb, NULL, &jb, 5, h, &r);
	CHECK_INT(r.st[0], HS_FAILED);
	CHECK_INT(r.st[1], HS_FAILED);
	CHECK(r.why[1] && strstr(r.why[1], "refused: alice@example.com claims too much"));
	CHECK_INT(hs_result(h[0], NULL, NULL, NULL, NULL, NULL), -EAGAIN);
	hs_free(h[0]);
	hs_free(h[1]);

	/* The initiator refuses the responder it reached. */
	ja.refuse = bob.id;
	ja.calls = jb.calls = 0;
	jb.refuse = NULL;
	judged_run(ca, cb, &ja, &jb, 6, h, &r);
	CHECK_INT(r.st[0], HS_FAILED);
	CHECK(r.st[1] != HS_DONE);
	CHECK(r.why[0] && strstr(r.why[0], "refused: bob@example.com claims too much"));
	CHECK_INT(ja.calls, 1);
	CHECK_INT(jb.calls, 0);		/* alice never sent her certificate */
	/* Bob's own certificate refused: no other endpoint could do better. */
	CHECK(hs_peer_refused(h[0]));
	CHECK(!hs_peer_proven(h[0]));
	hs_free(h[0]);
	hs_free(h[1]);
	hs_ctx_free(ca);
	hs_ctx_free(cb);
}

static void test_wrong_identity(void)
{
	const struct ca *cas[] = { &ca_example };
	struct hs_ctx *ca = make_ctx(&alice, cas, 1), *cb = make_ctx(&bob, cas, 1);

	expect_failure(ca, alice.id, "bobby@example.com", cb, bob.id,
		       "expected 'bobby@example.com'");
	hs_ctx_free(ca);
	hs_ctx_free(cb);
}

static void test_other_ca(void)
{
	const struct ca *good[] = { &ca_example }, *rogue[] = { &ca_rogue };
	struct hs_ctx *ca = make_ctx(&alice, good, 1);
	struct hs_ctx *cm = make_ctx(&mallory, rogue, 1);
	struct hs_ctx *cb = make_ctx(&bob, good, 1);
	struct hs *h[2];
	struct result r;

	/* A responder whose certificate comes from a CA we do not trust. */
	expect_failure(ca, alice.id, "mallory@example.com", cm, mallory.id,
		       "not trusted");
	/* An initiator with such a certificate: the responder refuses. */
	CHECK_INT(hs_new(cm, 1, mallory.id, bob.id, 0, &h[0]), 0);
	CHECK_INT(hs_new(cb, 0, bob.id, NULL, 0, &h[1]), 0);
	run(h, 0, 0, 4, &r);
	CHECK(r.st[0] != HS_DONE);	/* mallory does not trust bob's CA */
	CHECK_INT(r.st[1], HS_FAILED);
	hs_free(h[0]);
	hs_free(h[1]);
	hs_ctx_free(ca);
	hs_ctx_free(cm);
	hs_ctx_free(cb);
}

/* A peer whose certificate has expired never gets a session, whichever
 * side it is on (the CA signed it properly; only the dates are wrong). */
static void test_expired(void)
{
	const struct ca *cas[] = { &ca_example };
	struct hs_ctx *ca = make_ctx(&alice, cas, 1), *cd = make_ctx(&dave, cas, 1);
	struct hs_ctx *cb = make_ctx(&bob, cas, 1);
	struct hs *h[2];
	struct result r;

	/* dave as responder: alice refuses him. */
	expect_failure(ca, alice.id, dave.id, cd, dave.id, NULL);
	/* dave as initiator: bob refuses him. */
	CHECK_INT(hs_new(cd, 1, dave.id, bob.id, 0, &h[0]), 0);
	CHECK_INT(hs_new(cb, 0, bob.id, NULL, 0, &h[1]), 0);
	run(h, 0, 0, 5, &r);
	CHECK(r.st[0] != HS_DONE);
	CHECK_INT(r.st[1], HS_FAILED);
	hs_free(h[0]);
	hs_free(h[1]);
	hs_ctx_free(ca);
	hs_ctx_free(cd);
	hs_ctx_free(cb);
}

static void test_cross_domain(void)
{
	const struct ca *both[] = { &ca_example, &ca_other };
	const struct ca *other_only[] = { &ca_other };
	struct hs_ctx *ca = make_ctx(&alice, both, 2);
	struct hs_ctx *cc = make_ctx(&carol, both, 2);
	struct hs_ctx *cc2 = make_ctx(&carol, other_only, 1);
	struct hs *h[2];
	struct result r;

	/* Trusting both domains' CAs, alice and carol meet. */
	CHECK_INT(hs_new(ca, 1, alice.id, carol.id, 0, &h[0]), 0);
	CHECK_INT(hs_new(cc, 0, carol.id, NULL, 0, &h[1]), 0);
	run(h, 0, 0, 5, &r);
	CHECK_INT(r.st[0], HS_DONE);
	CHECK_INT(r.st[1], HS_DONE);
	if (r.st[0] == HS_DONE && r.st[1] == HS_DONE)
		expect_success(h, alice.id, carol.id);
	hs_free(h[0]);
	hs_free(h[1]);
	/*
	 * Carol without example.com's CA refuses alice, and alice learns it
	 * (TLS alone would have let her finish first).
	 */
	CHECK_INT(hs_new(ca, 1, alice.id, carol.id, 0, &h[0]), 0);
	CHECK_INT(hs_new(cc2, 0, carol.id, NULL, 0, &h[1]), 0);
	run(h, 0, 0, 6, &r);
	CHECK_INT(r.st[0], HS_FAILED);
	CHECK_INT(r.st[1], HS_FAILED);
	CHECK(strstr(r.why[1], "not trusted") != NULL);
	hs_free(h[0]);
	hs_free(h[1]);
	hs_ctx_free(ca);
	hs_ctx_free(cc);
	hs_ctx_free(cc2);
}

static void test_bad_args(void)
{
	const struct ca *cas[] = { &ca_example };
	struct hs_ctx *c = make_ctx(&alice, cas, 1), *x = NULL;
	struct hs *h = NULL;
	char err[200];

	CHECK_INT(hs_new(c, 1, alice.id, NULL, 0, &h), -EINVAL);
	CHECK_INT(hs_new(c, 1, "not an id", bob.id, 0, &h), -EINVAL);
	CHECK_INT(hs_new(c, 0, alice.id, "example.com", 0, &h), -EINVAL);
	/* Key and certificate that do not belong together. */
	CHECK_INT(hs_ctx_new(bob.key, bob.key_len, alice.cert, alice.cert_len,
			     &x, err, sizeof(err)), -EINVAL);
	CHECK(x == NULL);
	/* A node certificate is not a CA. */
	CHECK_INT(hs_ctx_add_ca(c, bob.cert, bob.cert_len, err, sizeof(err)),
		  -EINVAL);
	CHECK_INT(hs_ctx_add_ca(c, bob.cert, 5, err, sizeof(err)), -EINVAL);
	hs_ctx_free(c);
}

/* The overlay adds a CA again on every reconnect: copies must not use up
 * the table (they did, and the 65th CA was silently not trusted). Past
 * the limit a new CA is an error with a message. */
static void test_ca_dedup(void)
{
	const struct ca *both[] = { &ca_example, &ca_other };
	struct hs_ctx *ca = make_ctx(&alice, both, 1);
	struct hs_ctx *cc = make_ctx(&carol, both, 2);
	static struct ca extra[HS_MAX_CAS];
	struct hs *h[2];
	struct result r;
	char err[200] = "";
	int rc = 0;

	for (int i = 0; i < 2 * HS_MAX_CAS && rc == 0; i++)
		rc = hs_ctx_add_ca(ca, ca_example.der, ca_example.len, err, sizeof(err));
	CHECK_INT(rc, 0);
	CHECK_INT(hs_ctx_add_ca(ca, ca_other.der, ca_other.len, err, sizeof(err)), 0);
	CHECK_INT(hs_new(ca, 1, alice.id, carol.id, 0, &h[0]), 0);
	CHECK_INT(hs_new(cc, 0, carol.id, NULL, 0, &h[1]), 0);
	run(h, 0, 0, 9, &r);
	CHECK_INT(r.st[0], HS_DONE);
	CHECK_INT(r.st[1], HS_DONE);
	hs_free(h[0]);
	hs_free(h[1]);
	/* Two trusted now: 62 more distinct ones fit, the next does not. */
	for (int i = 0; i < HS_MAX_CAS - 1; i++) {
		char dom[32];

		snprintf(dom, sizeof(dom), "d%d.example.net", i);
		make_ca(&extra[i], dom);
		rc = hs_ctx_add_ca(ca, extra[i].der, extra[i].len, err, sizeof(err));
		CHECK_INT(rc, i < HS_MAX_CAS - 2 ? 0 : -ENOSPC);
	}
	CHECK(strstr(err, "d62.example.net") != NULL);
	for (int i = 0; i < HS_MAX_CAS - 1; i++) {
		key_free(extra[i].key);
		free(extra[i].der);
	}
	hs_ctx_free(ca);
	hs_ctx_free(cc);
}

static void test_dead_peer(void)
{
	const struct ca *cas[] = { &ca_example };
	struct hs_ctx *c = make_ctx(&alice, cas, 1);
	struct hs *h;
	struct stream_seg seg;
	uint64_t now = 0;
	const char *why;

	CHECK_INT(hs_new(c, 1, alice.id, bob.id, 0, &h), 0);
	for (;;) {
		while (hs_poll(h, now, &seg))
			;
		if (hs_state(h, NULL) != HS_RUNNING || now > 100000)
			break;
		now = hs_next_deadline(h);
	}
	CHECK_INT(hs_state(h, &why), HS_FAILED);
	CHECK(now >= STREAM_GIVEUP_MS && now <= 20000);
	CHECK(strlen(why) > 0);
	hs_free(h);
	hs_ctx_free(c);
}

int main(void)
{
	make_ca(&ca_example, "example.com");
	make_ca(&ca_other, "other.org");
	make_ca(&ca_rogue, "example.com");
	make_node(&alice, &ca_example, "alice@example.com", 1);
	make_node(&bob, &ca_example, "bob@example.com", 2);
	make_node(&carol, &ca_other, "carol@other.org", 3);
	make_node(&mallory, &ca_rogue, "mallory@example.com", 4);
	make_node_valid(&dave, &ca_example, "dave@example.com", 5, -2 * 86400, -3600);
	RUN(test_bad_args);
	RUN(test_success_clean);
	RUN(test_success_lossy);
	RUN(test_wrong_identity);
	RUN(test_judge);
	RUN(test_other_ca);
	RUN(test_expired);
	RUN(test_cross_domain);
	RUN(test_data_cipher);
	RUN(test_ca_dedup);
	RUN(test_dead_peer);
	RUN(test_impostor_unproven);
	return HARNESS_END();
}
