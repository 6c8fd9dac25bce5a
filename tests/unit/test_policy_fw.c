/* The identity firewall's decisions (tund/policy/fw.c, flow.c,
 * conntrack.c) on real packet bytes: no policy passes everything; a rule
 * admits by identity, protocol and port; replies to our own flows pass
 * and nothing else does; ICMP errors pass only when they quote a known
 * flow; the local layer narrows the authority's; a rule change closes
 * flows it let in but not ours; the flow table stays bounded and forgets
 * on time. Then the flow table against a naive twin. --bench times a
 * packet of a known flow with and without 100 rules. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/unit/harness.h"
#include "tund/policy/flow.h"
#include "tund/policy/fw.h"

#define ME	"bob@example.com"
#define ALICE	"alice@example.com"
#define DAVE	"dave@example.com"

static const char *A4 = "100.64.0.2", *B4 = "100.64.0.3";

/* An IPv4 packet: proto with an 8..20 byte transport header. */
static size_t ip4(uint8_t *p, const char *src, const char *dst, uint8_t proto, const uint8_t *l4, size_t l4len)
{
	memset(p, 0, 20);
	p[0] = 0x45;
	p[2] = (uint8_t)((20 + l4len) >> 8);
	p[3] = (uint8_t)(20 + l4len);
	p[8] = 64;
	p[9] = proto;
	inet_pton(AF_INET, src, p + 12);
	inet_pton(AF_INET, dst, p + 16);
	memcpy(p + 20, l4, l4len);
	return 20 + l4len;
}

static size_t tcp4(uint8_t *p, const char *src, const char *dst, uint16_t sport, uint16_t dport, uint8_t flags)
{
	uint8_t t[20] = { (uint8_t)(sport >> 8), (uint8_t)sport, (uint8_t)(dport >> 8), (uint8_t)dport };

	t[12] = 0x50;
	t[13] = flags;
	return ip4(p, src, dst, 6, t, sizeof(t));
}

static size_t udp4(uint8_t *p, const char *src, const char *dst, uint16_t sport, uint16_t dport)
{
	uint8_t u[8] = { (uint8_t)(sport >> 8), (uint8_t)sport, (uint8_t)(dport >> 8), (uint8_t)dport, 0, 8 };

	return ip4(p, src, dst, 17, u, sizeof(u));
}

static size_t echo4(uint8_t *p, const char *src, const char *dst, uint8_t type, uint16_t id)
{
	uint8_t e[8] = { type, 0, 0, 0, (uint8_t)(id >> 8), (uint8_t)id, 0, 1 };

	return ip4(p, src, dst, 1, e, sizeof(e));
}

/* An ICMP error (type 3 code 3) from src to dst quoting the first 28
 * bytes of quoted. */
static size_t err4(uint8_t *p, const char *src, const char *dst, const uint8_t *quoted)
{
	uint8_t e[8 + 28] = { 3, 3 };

	memcpy(e + 8, quoted, 28);
	return ip4(p, src, dst, 1, e, sizeof(e));
}

static void add_rule(struct pol_set *s, const char *from, const char *to, const char *allow)
{
	struct pol_rule *r = &s->rules[s->n_rules];
	const char *why = "";

	memset(r, 0, sizeof(*r));
	r->origin = (uint16_t)s->n_rules;
	r->n_from = r->n_to = r->n_allow = 1;
	r->from[0] = (uint16_t)pol_set_intern(s, from);
	r->to[0] = (uint16_t)pol_set_intern(s, to);
	CHECK_INT(pol_port_parse(allow, &r->allow[0], &why), 0);
	s->n_rules++;
	s->present = 1;
}

static struct pol_set auth, local;
static uint8_t pkt[256], pkt2[256];

static struct fw *fw_admins_ssh(void)
{
	struct fw *fw = fw_new(ME, 1);

	pol_set_init(&auth);
	add_rule(&auth, ALICE, ME, "tcp/22");
	add_rule(&auth, ALICE, ME, "icmp");
	add_rule(&auth, "*@example.org", ME, "tcp/443");
	add_rule(&auth, ALICE, "web@example.com", "tcp/80");	/* not ours */
	CHECK_INT(fw_set(fw, FW_AUTH, &auth, 1, 0), 0);
	return fw;
}

static void test_no_policy(void)
{
	struct fw *fw = fw_new(ME, 1);
	size_t n = tcp4(pkt, A4, B4, 40000, 8080, 0x02);

	CHECK(!fw_active(fw));
	CHECK_INT(fw_inbound(fw, DAVE, pkt, n, 0), 1);
	CHECK_INT(fw_inbound(fw, DAVE, (const uint8_t *)"junk", 4, 0), 1);
	pol_set_init(&auth);	/* present = 0: no policy */
	CHECK_INT(fw_set(fw, FW_AUTH, &auth, 1, 0), 0);
	CHECK(!fw_active(fw));
	fw_free(fw);
}

static void test_rules(void)
{
	struct fw *fw = fw_admins_ssh();
	size_t n;

	CHECK_INT(fw->layer[FW_AUTH].n_mine, 3);
	n = tcp4(pkt, A4, B4, 40000, 22, 0x02);
	CHECK_INT(fw_inbound(fw, ALICE, pkt, n, 10), 1);
	CHECK_INT(fw->layer[FW_AUTH].hits[0], 1);
	/* the same address under another identity is someone else */
	CHECK_INT(fw_inbound(fw, DAVE, pkt, n, 10), 0);
	n = tcp4(pkt, A4, B4, 40001, 8080, 0x02);
	CHECK_INT(fw_inbound(fw, ALICE, pkt, n, 10), 0);
	n = udp4(pkt, A4, B4, 40000, 22);
	CHECK_INT(fw_inbound(fw, ALICE, pkt, n, 10), 0);
	n = echo4(pkt, A4, B4, 8, 77);
	CHECK_INT(fw_inbound(fw, ALICE, pkt, n, 10), 1);
	CHECK_INT(fw_inbound(fw, DAVE, pkt, n, 10), 0);
	n = tcp4(pkt, "100.64.0.9", B4, 5555, 443, 0x02);
	CHECK_INT(fw_inbound(fw, "carol@example.org", pkt, n, 10), 1);	/* a foreign identity, named */
	CHECK_INT(fw_inbound(fw, "carol@example.net", pkt, n, 10), 0);
	CHECK_INT(fw->layer[FW_AUTH].denied, 5);
	CHECK_INT(fw->denied, 5);
	/* what no rule can judge is dropped */
	CHECK_INT(fw_inbound(fw, ALICE, pkt, 10, 10), 0);
	n = ip4(pkt, A4, B4, 47, (const uint8_t *)"grefake!", 8);
	CHECK_INT(fw_inbound(fw, ALICE, pkt, n, 10), 0);
	CHECK_INT(fw->malformed, 2);
	fw_free(fw);
}

static void test_replies(void)
{
	struct fw *fw = fw_admins_ssh();
	size_t n;

	/* bob opens to dave's 8080: dave's answers pass, dave's own new
	 * connections do not */
	n = tcp4(pkt, B4, "100.64.0.4", 33000, 8080, 0x02);
	fw_outbound(fw, DAVE, pkt, n, 100);
	n = tcp4(pkt, "100.64.0.4", B4, 8080, 33000, 0x12);
	CHECK_INT(fw_inbound(fw, DAVE, pkt, n, 200), 1);
	CHECK_INT(fw_inbound(fw, ALICE, pkt, n, 200), 0);	/* same bytes, another peer */
	n = tcp4(pkt, "100.64.0.4", B4, 8080, 33001, 0x12);
	CHECK_INT(fw_inbound(fw, DAVE, pkt, n, 200), 0);
	/* ping out, reply in; a reply with another id is no reply */
	n = echo4(pkt, B4, "100.64.0.4", 8, 9);
	fw_outbound(fw, DAVE, pkt, n, 300);
	n = echo4(pkt, "100.64.0.4", B4, 0, 9);
	CHECK_INT(fw_inbound(fw, DAVE, pkt, n, 300), 1);
	n = echo4(pkt, "100.64.0.4", B4, 0, 10);
	CHECK_INT(fw_inbound(fw, DAVE, pkt, n, 300), 0);
	/* an ICMP error quoting bob's UDP to dave passes; one quoting a
	 * flow nobody opened does not */
	n = udp4(pkt2, B4, "100.64.0.4", 5000, 53);
	fw_outbound(fw, DAVE, pkt2, n, 400);
	n = err4(pkt, "100.64.0.4", B4, pkt2);
	CHECK_INT(fw_inbound(fw, DAVE, pkt, n, 400), 1);
	udp4(pkt2, B4, "100.64.0.4", 5001, 53);
	n = err4(pkt, "100.64.0.4", B4, pkt2);
	CHECK_INT(fw_inbound(fw, DAVE, pkt, n, 400), 0);
	/* flows time out: UDP after FW_TTL_UDP of silence */
	n = udp4(pkt, "100.64.0.4", B4, 53, 5000);
	CHECK_INT(fw_inbound(fw, DAVE, pkt, n, 400 + FW_TTL_UDP - 1), 1);
	CHECK_INT(fw_inbound(fw, DAVE, pkt, n, 400 + 2 * FW_TTL_UDP), 0);
	/* a flow let in by a rule: the server's answers keep it open, and
	 * an error about them passes */
	n = tcp4(pkt, A4, B4, 41000, 22, 0x02);
	CHECK_INT(fw_inbound(fw, ALICE, pkt, n, 500), 1);
	n = tcp4(pkt2, B4, A4, 22, 41000, 0x12);
	fw_outbound(fw, ALICE, pkt2, n, 500);
	n = err4(pkt, A4, B4, pkt2);
	CHECK_INT(fw_inbound(fw, ALICE, pkt, n, 600), 1);
	/* a RST shortens a TCP flow's life */
	n = tcp4(pkt, A4, B4, 41000, 22, 0x04);
	CHECK_INT(fw_inbound(fw, ALICE, pkt, n, 700), 1);
	fw_free(fw);
}

static void test_layers_and_changes(void)
{
	struct fw *fw = fw_admins_ssh();
	size_t n;

	/* the local layer narrows: only tcp/22 from alice; icmp now fails */
	pol_set_init(&local);
	add_rule(&local, "*", ME, "tcp/22");
	add_rule(&local, DAVE, ME, "tcp/8080");	/* cannot widen */
	CHECK_INT(fw_set(fw, FW_LOCAL, &local, 0, 0), 0);
	n = tcp4(pkt, A4, B4, 40000, 22, 0x02);
	CHECK_INT(fw_inbound(fw, ALICE, pkt, n, 10), 1);
	CHECK_INT(fw->layer[FW_LOCAL].hits[0], 1);
	n = echo4(pkt, A4, B4, 8, 1);
	CHECK_INT(fw_inbound(fw, ALICE, pkt, n, 10), 0);
	CHECK_INT(fw->layer[FW_LOCAL].denied, 1);
	n = tcp4(pkt, "100.64.0.4", B4, 40000, 8080, 0x02);
	CHECK_INT(fw_inbound(fw, DAVE, pkt, n, 10), 0);
	CHECK_INT(fw->layer[FW_AUTH].denied, 1);
	/* the authority drops tcp/22: alice's open ssh flow closes at its
	 * next packet; bob's own flow to alice stays */
	n = tcp4(pkt2, B4, A4, 34000, 7000, 0x02);
	fw_outbound(fw, ALICE, pkt2, n, 20);
	pol_set_init(&auth);
	add_rule(&auth, ALICE, ME, "icmp");
	CHECK_INT(fw_set(fw, FW_AUTH, &auth, 2, 30), 0);
	n = tcp4(pkt, A4, B4, 40000, 22, 0x10);
	CHECK_INT(fw_inbound(fw, ALICE, pkt, n, 40), 0);
	n = tcp4(pkt, A4, B4, 7000, 34000, 0x12);
	CHECK_INT(fw_inbound(fw, ALICE, pkt, n, 40), 1);
	/* and it comes back when a rule allows it again */
	add_rule(&auth, ALICE, ME, "tcp/20-30");
	CHECK_INT(fw_set(fw, FW_AUTH, &auth, 3, 50), 0);
	n = tcp4(pkt, A4, B4, 40000, 22, 0x10);
	CHECK_INT(fw_inbound(fw, ALICE, pkt, n, 60), 1);
	/* a policy with no rule for us: nothing gets in */
	pol_set_init(&auth);
	add_rule(&auth, ALICE, "web@example.com", "tcp");
	CHECK_INT(fw_set(fw, FW_AUTH, &auth, 4, 70), 0);
	CHECK_INT(fw->layer[FW_AUTH].n_mine, 0);
	n = tcp4(pkt, A4, B4, 40002, 22, 0x02);
	CHECK_INT(fw_inbound(fw, ALICE, pkt, n, 80), 0);
	fw_free(fw);
}

static void test_ipv6_and_fragments(void)
{
	struct flow f;
	uint8_t p[128];

	memset(p, 0, sizeof(p));
	/* IPv6, a destination-options header, then TCP to 22 */
	p[0] = 0x60;
	p[4] = 0;
	p[5] = 8 + 20;
	p[6] = 60;
	p[40] = 6;		/* next: TCP */
	p[41] = 0;		/* 8 bytes */
	p[48 + 2] = 0;
	p[48 + 3] = 22;
	p[48 + 12] = 0x50;
	CHECK_INT(flow_parse(p, 40 + 28, 1, 1, &f), 0);
	CHECK_INT(f.kind, FLOW_PORTS);
	CHECK_INT(f.dport, 22);
	CHECK_INT(f.k.proto, 6);
	/* cut short */
	CHECK_INT(flow_parse(p, 40 + 20, 1, 1, &f), -EINVAL);
	/* a non-first IPv6 fragment has no ports */
	p[6] = 44;
	p[40] = 6;
	p[42] = 0;
	p[43] = 0x10;
	CHECK_INT(flow_parse(p, 40 + 28, 1, 1, &f), 0);
	CHECK_INT(f.kind, FLOW_FRAG);
	CHECK(f.fragmented && f.train.train);
	/* one at offset 8 that could rewrite a TCP header's flags is
	 * refused (RFC 1858) */
	p[43] = 0x08;
	CHECK_INT(flow_parse(p, 40 + 28, 1, 1, &f), -EINVAL);
	/* nor does a non-first IPv4 fragment */
	tcp4(pkt, A4, B4, 1, 22, 0x02);
	pkt[7] = 2;
	CHECK_INT(flow_parse(pkt, 40, 1, 1, &f), 0);
	CHECK_INT(f.kind, FLOW_FRAG);
	pkt[7] = 1;
	CHECK_INT(flow_parse(pkt, 40, 1, 1, &f), -EINVAL);
	/* an IPv4 total length beyond the bytes we have */
	tcp4(pkt, A4, B4, 1, 22, 0x02);
	pkt[3] = 200;
	CHECK_INT(flow_parse(pkt, 40, 1, 1, &f), -EINVAL);
}

/* The table against a naive twin: a list that forgets nothing live. It
 * may forget more than the twin (a full window evicts) but must never
 * claim a flow the twin does not hold, and with room it forgets nothing. */
static void test_table_twin(void)
{
	struct ct_table t;
	enum { N = 3000 };
	static struct ct_key keys[N];
	static uint64_t exp[N];
	uint64_t now = 1000;
	unsigned seed = 7;
	int missing = 0;

	CHECK_INT(ct_init(&t, 8192, 42), 0);
	for (int i = 0; i < N; i++) {
		memset(&keys[i], 0, sizeof(keys[i]));
		keys[i].peer = (uint32_t)i % 5;
		keys[i].family = 2;
		keys[i].proto = 6;
		keys[i].lport = (uint16_t)(i * 7);
		keys[i].rport = (uint16_t)(i * 13 + 1);
		keys[i].raddr[3] = (uint8_t)i;
	}
	for (int round = 0; round < 20000; round++) {
		int i = (int)(rand_r(&seed) % N);

		now += rand_r(&seed) % 3;
		ct_put(&t, &keys[i], now, 5000);
		exp[i] = now + 5000;
		i = (int)(rand_r(&seed) % N);
		if (ct_find(&t, &keys[i], now) && exp[i] <= now)
			H_FAIL("the table holds a flow that expired (key %d)", i);
	}
	for (int i = 0; i < N; i++)
		if (exp[i] > now && !ct_find(&t, &keys[i], now))
			missing++;
	/* well under the table's size, a probe window of 8 loses (nearly) none */
	CHECK(missing <= N / 100);
	CHECK(ct_count(&t, now) <= 8192);
	ct_free(&t);
	/* bounded: far more flows than room, nothing grows, evictions counted */
	CHECK_INT(ct_init(&t, 64, 1), 0);
	for (int i = 0; i < N; i++)
		ct_put(&t, &keys[i], 10, 100000);
	CHECK(ct_count(&t, 11) <= 64);
	CHECK(t.evicted >= N - 64);
	CHECK(ct_find(&t, &keys[N - 1], 11) != NULL);	/* the newest is there */
	ct_free(&t);
	CHECK_INT(ct_init(&t, 100, 1), -EINVAL);	/* not a power of two */
}

/* --bench: nanoseconds per packet of one TCP flow through fw_inbound and
 * fw_outbound, with no policy and with 100 rules (the matching one last),
 * for bench/README.md. Not a test: nothing is asserted. */
static double bench_ns(int rules, int out)
{
	struct fw *fw = fw_new(ME, 3);
	char who[64], port[32];
	struct timespec t0, t1;
	enum { N = 2000000 };
	size_t n;
	volatile int sink = 0;

	pol_set_init(&auth);
	for (int i = 1; i < rules; i++) {
		snprintf(who, sizeof(who), "user%d@example.com", i);
		snprintf(port, sizeof(port), "tcp/%d", 10000 + i);
		add_rule(&auth, who, ME, port);
	}
	if (rules)
		add_rule(&auth, ALICE, ME, "tcp/5201");
	fw_set(fw, FW_AUTH, &auth, 1, 0);
	n = tcp4(pkt, A4, B4, 40000, 5201, 0x02);
	fw_inbound(fw, ALICE, pkt, n, 1);
	n = out ? tcp4(pkt, B4, A4, 5201, 40000, 0x10) : tcp4(pkt, A4, B4, 40000, 5201, 0x10);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	for (int i = 0; i < N; i++) {
		if (out)
			fw_outbound(fw, ALICE, pkt, n, 2);
		else
			sink += fw_inbound(fw, ALICE, pkt, n, 2);
	}
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
	fw_free(fw);
	return ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / N;
}

/* Sets an IPv4 packet's fragment fields: identification, offset (8-byte
 * units), more fragments. */
static void frag4(uint8_t *p, uint16_t id, uint16_t off, int more)
{
	uint16_t v = (uint16_t)(off | (more ? 0x2000 : 0));

	p[4] = (uint8_t)(id >> 8);
	p[5] = (uint8_t)id;
	p[6] = (uint8_t)(v >> 8);
	p[7] = (uint8_t)v;
}

static void test_fragment_trains(void)
{
	struct fw *fw = fw_new(ME, 1);
	uint8_t later[64];
	size_t n, ln;

	pol_set_init(&auth);
	add_rule(&auth, ALICE, ME, "udp/53");
	CHECK_INT(fw_set(fw, FW_AUTH, &auth, 1, 0), 0);
	/* a later fragment of a packet whose first was let in passes, for
	 * its train's life after the last fragment seen */
	n = udp4(pkt, A4, B4, 40000, 53);
	frag4(pkt, 0x1234, 0, 1);
	ln = ip4(later, A4, B4, 17, (const uint8_t *)"payload!payload!", 16);
	frag4(later, 0x1234, 185, 0);
	CHECK_INT(fw_inbound(fw, ALICE, later, ln, 5), 0);	/* before its first: dropped */
	CHECK_INT(fw->stray_frags, 1);
	CHECK_INT(fw_inbound(fw, ALICE, pkt, n, 10), 1);
	CHECK_INT(fw_inbound(fw, ALICE, later, ln, 20), 1);
	CHECK_INT(fw_inbound(fw, ALICE, later, ln, 20 + FW_TTL_FRAG - 1), 1);
	CHECK_INT(fw_inbound(fw, ALICE, later, ln, 30 + 2 * FW_TTL_FRAG), 0);
	/* the same bytes from another peer, or another packet's id */
	CHECK_INT(fw_inbound(fw, ALICE, pkt, n, 40000), 1);
	CHECK_INT(fw_inbound(fw, DAVE, later, ln, 40001), 0);
	frag4(later, 0x1235, 185, 0);
	CHECK_INT(fw_inbound(fw, ALICE, later, ln, 40001), 0);
	/* a first fragment the rules refuse opens no train */
	n = udp4(pkt, A4, B4, 40000, 54);
	frag4(pkt, 0x2000, 0, 1);
	CHECK_INT(fw_inbound(fw, ALICE, pkt, n, 50000), 0);
	frag4(later, 0x2000, 185, 0);
	CHECK_INT(fw_inbound(fw, ALICE, later, ln, 50001), 0);
	CHECK_INT(fw->stray_frags, 5);
	/* a reply to bob's own flow, fragmented: its later fragments pass */
	n = udp4(pkt2, B4, A4, 6000, 7000);
	fw_outbound(fw, ALICE, pkt2, n, 60000);
	n = udp4(pkt, A4, B4, 7000, 6000);
	frag4(pkt, 0x3000, 0, 1);
	CHECK_INT(fw_inbound(fw, ALICE, pkt, n, 60001), 1);
	frag4(later, 0x3000, 185, 0);
	CHECK_INT(fw_inbound(fw, ALICE, later, ln, 60002), 1);
	fw_free(fw);
}

static void test_fragment_trains_ipv6(void)
{
	struct fw *fw = fw_new(ME, 1);
	uint8_t p[128], q[128];
	struct flow f;

	pol_set_init(&auth);
	add_rule(&auth, ALICE, ME, "udp/53");
	CHECK_INT(fw_set(fw, FW_AUTH, &auth, 1, 0), 0);
	/* a first fragment (fragment header: M set, offset 0, id 7), then
	 * UDP from 99 to 53 */
	memset(p, 0, sizeof(p));
	p[0] = 0x60;
	p[5] = 8 + 8;
	p[6] = 44;
	p[8] = 0xfd;
	p[24] = 0xfd;
	p[39] = 1;
	p[40] = 17;
	p[43] = 1;
	p[47] = 7;
	p[48 + 1] = 99;
	p[48 + 3] = 53;
	p[48 + 5] = 8;
	CHECK_INT(flow_parse(p, 56, 1, 1, &f), 0);
	CHECK_INT(f.kind, FLOW_PORTS);
	CHECK_INT(f.dport, 53);
	CHECK(f.fragmented);
	/* the next one: offset 1448 bytes, same id */
	memcpy(q, p, 56);
	q[42] = 1448 >> 8;
	q[43] = 1448 & 0xf8;
	CHECK_INT(fw_inbound(fw, ALICE, q, 56, 1), 0);
	CHECK_INT(fw_inbound(fw, ALICE, p, 56, 2), 1);
	CHECK_INT(fw_inbound(fw, ALICE, q, 56, 3), 1);
	q[47] = 8;	/* another packet's */
	CHECK_INT(fw_inbound(fw, ALICE, q, 56, 4), 0);
	fw_free(fw);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--bench") == 0) {
		printf("fw_inbound, one TCP flow: no policy %.1f ns, 100 rules %.1f ns per packet\n",
		    bench_ns(0, 0), bench_ns(100, 0));
		printf("fw_outbound, one TCP flow: no policy %.1f ns, 100 rules %.1f ns per packet\n",
		    bench_ns(0, 1), bench_ns(100, 1));
		return 0;
	}
	RUN(test_no_policy);
	RUN(test_rules);
	RUN(test_replies);
	RUN(test_layers_and_changes);
	RUN(test_ipv6_and_fragments);
	RUN(test_fragment_trains);
	RUN(test_fragment_trains_ipv6);
	RUN(test_table_twin);
	return HARNESS_END();
}
