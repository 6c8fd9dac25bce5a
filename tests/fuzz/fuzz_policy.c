/*
 * Fuzz target for the identity firewall's inputs from the network:
 * MSG_POLICY from the authority (tund/policy/polmsg.c) and decrypted
 * packets from peers (tund/policy/flow.c, fw.c). Input: one byte choosing
 * which, then the bytes. A policy message is framed as the authority
 * would send it; once accepted, it must stay within polset.h's limits,
 * name only groups it defines, and build again into a message that
 * parses to the same set and the same bytes. A packet is judged by a
 * firewall holding a small policy, as sent and as received: a verdict is
 * 0 or 1, and a flow's kind is one of flow.h's.
 */
#include <errno.h>

#include "tests/fuzz/fuzz.h"
#include "netstack/msg.h"
#include "tund/link/proto.h"
#include "tund/policy/flow.h"
#include "tund/policy/fw.h"
#include "tund/policy/polmsg.h"

static uint8_t frame[MSG_FRAME_MAX], again[MSG_FRAME_MAX];
static struct pol_set s, s2;
static struct fw *fw;

static void fuzz_msg(const uint8_t *p, size_t n)
{
	struct msg_reader r;
	const char *why = "";
	uint32_t gen, gen2;
	uint8_t type;
	int a, b, f, len, len2;

	if (n > MSG_MAX_LEN - 1)
		return;
	frame[0] = (uint8_t)((n + 1) >> 24);
	frame[1] = (uint8_t)((n + 1) >> 16);
	frame[2] = (uint8_t)((n + 1) >> 8);
	frame[3] = (uint8_t)(n + 1);
	frame[4] = MSG_POLICY;
	memcpy(frame + MSG_HDR_LEN, p, n);
	if (msg_open(&r, frame, n + MSG_HDR_LEN, &type) < 0)
		return;
	if (pol_msg_parse(&r, &s, &gen, &why) < 0) {
		FZ_CHECK(why && why[0]);
		FZ_CHECK(s.n_rules == 0 && s.n_groups == 0 && !s.present);
		return;
	}
	FZ_CHECK(s.n_rules <= POL_MAX_RULES && s.n_groups <= POL_MAX_GROUPS);
	FZ_CHECK(s.n_members <= POL_MAX_MEMBERS && s.pool_len <= POL_POOL);
	FZ_CHECK(pol_set_check_groups(&s, &a, &b, &f) == 0);
	for (int i = 0; i < s.n_rules; i++) {
		const struct pol_rule *ru = &s.rules[i];

		FZ_CHECK(ru->n_from >= 1 && ru->n_from <= POL_MAX_SEL && ru->n_to >= 1 && ru->n_to <= POL_MAX_SEL);
		FZ_CHECK(ru->n_allow >= 1 && ru->n_allow <= POL_MAX_ALLOW);
		for (int j = 0; j < ru->n_allow; j++)
			FZ_CHECK(ru->allow[j].proto == POL_ICMP || ru->allow[j].lo >= 1);
	}
	len = pol_msg_build(&s, gen, again, sizeof(again));
	FZ_CHECK(len > 0);
	FZ_CHECK(msg_open(&r, again, (size_t)len, &type) == 0);
	FZ_CHECK(pol_msg_parse(&r, &s2, &gen2, &why) == 0);
	FZ_CHECK(gen2 == gen && s2.n_rules == s.n_rules && s2.n_groups == s.n_groups);
	len2 = pol_msg_build(&s2, gen2, frame, sizeof(frame));
	FZ_CHECK(len2 == len && memcmp(frame, again, (size_t)len) == 0);
	/* whatever the authority says, the firewall takes it */
	FZ_CHECK(fw_set(fw, FW_AUTH, &s, gen, 0) == 0);
	FZ_CHECK(fw->layer[FW_AUTH].n_mine <= s.n_rules);
}

static void fuzz_packet(const uint8_t *p, size_t n, int mode)
{
	struct flow fl;
	int v;

	if (flow_parse(p, n, mode & 1, 7, &fl) == 0)
		FZ_CHECK(fl.kind >= FLOW_PORTS && fl.kind <= FLOW_OTHER);
	if (mode & 2)
		fw_outbound(fw, "alice@example.com", p, n, 1000);
	v = fw_inbound(fw, (mode & 4) ? "alice@example.com" : "carol@example.org", p, n, 2000);
	FZ_CHECK(v == 0 || v == 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	if (size < 1)
		return 0;
	copy = fz_dup(data + 1, size - 1);
	if (data[0] & 0x80)
		fuzz_msg(copy, size - 1);
	else
		fuzz_packet(copy, size - 1, data[0]);
	free(copy);
	return 0;
}

/* A firewall for bob with alice let in on tcp/22 and icmp. */
static void setup(void)
{
	const char *why = "";
	struct pol_rule *r = &s.rules[0];

	fw = fw_new("bob@example.com", 1);
	if (!fw)
		abort();
	pol_set_init(&s);
	s.present = 1;
	s.n_rules = 1;
	r->n_from = r->n_to = 1;
	r->from[0] = (uint16_t)pol_set_intern(&s, "alice@example.com");
	r->to[0] = (uint16_t)pol_set_intern(&s, "*");
	r->n_allow = 2;
	pol_port_parse("tcp/22", &r->allow[0], &why);
	pol_port_parse("icmp", &r->allow[1], &why);
	if (fw_set(fw, FW_LOCAL, &s, 0, 0) < 0)
		abort();
}

static void seeds(const char *dir)
{
	static const uint8_t syn[] = { 0x04,
		0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6, 0, 0, 100, 64, 0, 2, 100, 64, 0, 3,
		0x9c, 0x40, 0, 22, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0x02, 0, 0, 0, 0, 0, 0 };
	static const uint8_t echo[] = { 0x04,
		0x45, 0, 0, 28, 0, 0, 0, 0, 64, 1, 0, 0, 100, 64, 0, 2, 100, 64, 0, 3,
		8, 0, 0, 0, 0, 7, 0, 1 };
	uint8_t buf[2048];
	int n;

	fz_write_seed(dir, "syn", syn, sizeof(syn));
	fz_write_seed(dir, "echo", echo, sizeof(echo));
	s.rules[0].to[0] = (uint16_t)pol_set_intern(&s, "group:servers");
	s.n_groups = 1;
	s.groups[0].name = (uint16_t)pol_set_intern(&s, "servers");
	s.groups[0].first = 0;
	s.groups[0].n = 2;
	s.members[0] = (uint16_t)pol_set_intern(&s, "bob@example.com");
	s.members[1] = (uint16_t)pol_set_intern(&s, "*@srv.example.com");
	s.n_members = 2;
	n = pol_msg_build(&s, 3, buf + 1 - MSG_HDR_LEN + MSG_HDR_LEN, sizeof(buf) - 1);
	if (n > MSG_HDR_LEN) {
		/* the seed is the body: the type byte's place takes the selector */
		memmove(buf + 1, buf + 1 + MSG_HDR_LEN, (size_t)n - MSG_HDR_LEN);
		buf[0] = 0x80;
		fz_write_seed(dir, "policy", buf, (size_t)n - MSG_HDR_LEN + 1);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	setup();
	fz_seed_mode(seeds);
	return 0;
}
