/* The identity firewall's rules (tund/policy/polset.c) and their message
 * (polmsg.c): what an allow entry and a selector may be, whom a selector
 * picks (identities, *@domain, *, groups, foreign domains), the part of a
 * policy one node gets, and MSG_POLICY both ways: a round trip keeps
 * everything, and every cut or damaged byte is refused whole. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/harness.h"
#include "netstack/msg.h"
#include "tund/link/proto.h"
#include "tund/policy/polmsg.h"
#include "tund/policy/polset.h"

static const char *port_why(const char *s)
{
	struct pol_port p;
	const char *why = NULL;

	return pol_port_parse(s, &p, &why) < 0 ? why : NULL;
}

static void test_ports(void)
{
	struct pol_port p;
	const char *why = "";
	char buf[32];

	CHECK_INT(pol_port_parse("tcp/22", &p, &why), 0);
	CHECK_INT(p.proto, POL_TCP);
	CHECK_INT(p.lo, 22);
	CHECK_INT(p.hi, 22);
	CHECK_INT(pol_port_parse("udp/8000-8100", &p, &why), 0);
	CHECK_INT(p.proto, POL_UDP);
	CHECK_INT(p.lo, 8000);
	CHECK_INT(p.hi, 8100);
	CHECK_INT(pol_port_parse("tcp", &p, &why), 0);
	CHECK_INT(p.lo, 1);
	CHECK_INT(p.hi, 65535);
	CHECK_INT(pol_port_parse("icmp", &p, &why), 0);
	CHECK_INT(p.proto, POL_ICMP);
	CHECK_STR(port_why("tcp/70000"), "port out of range 1..65535");
	CHECK_STR(port_why("tcp/0"), "port out of range 1..65535");
	CHECK_STR(port_why("tcp/100-20"), "the range's low port is above its high port");
	CHECK(port_why("tcp/") != NULL);
	CHECK(port_why("tcp/2x") != NULL);
	CHECK(port_why("tcp/-5") != NULL);
	CHECK(port_why("tcp/5-") != NULL);
	CHECK(port_why("tcp/000022") != NULL);
	CHECK(port_why("sctp/1") != NULL);
	CHECK(port_why("icmp/8") != NULL);
	CHECK(port_why("TCP/22") != NULL);
	CHECK(port_why("") != NULL);
	pol_port_parse("udp/8000-8100", &p, &why);
	pol_port_format(&p, buf, sizeof(buf));
	CHECK_STR(buf, "udp/8000-8100");
	pol_port_parse("tcp/443", &p, &why);
	pol_port_format(&p, buf, sizeof(buf));
	CHECK_STR(buf, "tcp/443");
}

static void test_selectors(void)
{
	const char *why = "";

	CHECK_INT(pol_sel_check("*", &why), 0);
	CHECK_INT(pol_sel_check("*@example.org", &why), 0);
	CHECK_INT(pol_sel_check("alice@example.com", &why), 0);
	CHECK_INT(pol_sel_check("group:admins", &why), 0);
	CHECK(pol_sel_check("group:", &why) < 0);
	CHECK(pol_sel_check("group:Admins", &why) < 0);
	CHECK(pol_sel_check("alice", &why) < 0);
	CHECK(pol_sel_check("*@", &why) < 0);
	CHECK(pol_sel_check("*@Example.com", &why) < 0);
	CHECK(pol_sel_check("**", &why) < 0);
	CHECK(pol_member_check("*", &why) < 0);	/* a group lists identities or domains */
	CHECK_INT(pol_member_check("*@example.org", &why), 0);
}

/* Rule origin of s: from one selector to one, allowing up to two entries
 * (allow2 may be NULL). */
static void rule(struct pol_set *s, const char *from, const char *to, const char *allow1, const char *allow2)
{
	struct pol_rule *r = &s->rules[s->n_rules];
	const char *why = "";

	memset(r, 0, sizeof(*r));
	r->origin = (uint16_t)s->n_rules++;
	r->n_from = r->n_to = 1;
	r->from[0] = (uint16_t)pol_set_intern(s, from);
	r->to[0] = (uint16_t)pol_set_intern(s, to);
	r->n_allow = allow2 ? 2 : 1;
	pol_port_parse(allow1, &r->allow[0], &why);
	if (allow2)
		pol_port_parse(allow2, &r->allow[1], &why);
}

/* The issue's example, with groups defined after the rules name them. */
static void build(struct pol_set *s)
{
	pol_set_init(s);
	s->present = 1;
	rule(s, "group:admins", "group:servers", "tcp/22", "icmp");
	rule(s, "*@example.com", "web@example.com", "tcp/80", "tcp/443");
	rule(s, "*@example.org", "web@example.com", "tcp/443", NULL);
	s->rules[2].line = 70000;	/* more than 16 bits survive the message */
	s->n_groups = 2;
	s->groups[0].name = (uint16_t)pol_set_intern(s, "admins");
	s->groups[0].first = 0;
	s->groups[0].n = 1;
	s->members[s->n_members++] = (uint16_t)pol_set_intern(s, "alice@example.com");
	s->groups[1].name = (uint16_t)pol_set_intern(s, "servers");
	s->groups[1].first = 1;
	s->groups[1].n = 2;
	s->members[s->n_members++] = (uint16_t)pol_set_intern(s, "bob@example.com");
	s->members[s->n_members++] = (uint16_t)pol_set_intern(s, "*@srv.example.com");
}

static struct pol_set s, part, back;

static void test_matching(void)
{
	int a, b, f;

	build(&s);
	CHECK_INT(pol_set_check_groups(&s, &a, &b, &f), 0);
	CHECK(pol_sel_match(&s, "group:admins", "alice@example.com"));
	CHECK(!pol_sel_match(&s, "group:admins", "dave@example.com"));
	CHECK(pol_sel_match(&s, "group:servers", "x@srv.example.com"));
	CHECK(!pol_sel_match(&s, "group:servers", "x@example.com"));
	CHECK(!pol_sel_match(&s, "group:nobody", "alice@example.com"));
	CHECK(pol_sel_match(&s, "*", "carol@example.org"));
	CHECK(pol_sel_match(&s, "*@example.org", "carol@example.org"));
	CHECK(!pol_sel_match(&s, "*@example.org", "carol@sub.example.org"));
	CHECK(!pol_sel_match(&s, "*@example.org", "carol@example.org.evil"));
	CHECK(!pol_sel_match(&s, "alice@example.com", "alice@example.co"));
	CHECK(pol_rule_allows(&s.rules[0], 6, 22));
	CHECK(!pol_rule_allows(&s.rules[0], 6, 23));
	CHECK(!pol_rule_allows(&s.rules[0], 17, 22));
	CHECK(pol_rule_allows(&s.rules[0], 1, 0));
	CHECK(pol_rule_allows(&s.rules[0], 58, 0));	/* icmp covers ICMPv6 */
	CHECK(!pol_rule_allows(&s.rules[1], 1, 0));
	s.rules[1].from[0] = (uint16_t)pol_set_intern(&s, "group:ghosts");
	CHECK_INT(pol_set_check_groups(&s, &a, &b, &f), -ENOENT);
	CHECK_INT(a, 1);
	CHECK_INT(b, 0);
	CHECK_INT(f, 1);
}

static void test_part_for_node(void)
{
	build(&s);
	CHECK_INT(pol_set_for(&s, "web@example.com", &part), 0);
	CHECK_INT(part.present, 1);
	CHECK_INT(part.n_rules, 2);
	CHECK_INT(part.rules[0].origin, 1);
	CHECK_INT(part.rules[1].origin, 2);
	CHECK_INT(part.n_groups, 0);	/* neither rule names a group */
	CHECK_INT(pol_set_for(&s, "bob@example.com", &part), 0);
	CHECK_INT(part.n_rules, 1);
	CHECK_INT(part.n_groups, 2);
	CHECK(pol_rule_from(&part, &part.rules[0], "alice@example.com"));
	CHECK(pol_rule_to(&part, &part.rules[0], "bob@example.com"));
	CHECK_INT(pol_set_for(&s, "dave@example.com", &part), 0);
	CHECK_INT(part.present, 1);	/* still a policy: nothing may reach dave */
	CHECK_INT(part.n_rules, 0);
	pol_set_init(&s);
	CHECK_INT(pol_set_for(&s, "dave@example.com", &part), 0);
	CHECK_INT(part.present, 0);
}

static uint8_t frame[MSG_FRAME_MAX];

static int parse(const uint8_t *f, size_t n, struct pol_set *out, uint32_t *gen, const char **why)
{
	struct msg_reader r;
	uint8_t type;

	if (msg_open(&r, f, n, &type) < 0 || type != MSG_POLICY) {
		pol_set_init(out);	/* the framing refused it, before the policy parser */
		return -EINVAL;
	}
	return pol_msg_parse(&r, out, gen, why);
}

static void test_message(void)
{
	const char *why = "";
	uint32_t gen = 0;
	int n, refused = 0, tries = 0;

	build(&s);
	n = pol_msg_build(&s, 7, frame, sizeof(frame));
	CHECK(n > 0);
	CHECK_INT(parse(frame, (size_t)n, &back, &gen, &why), 0);
	CHECK_INT(gen, 7);
	CHECK_INT(back.present, 1);
	CHECK_INT(back.n_rules, 3);
	CHECK_INT(back.n_groups, 2);
	CHECK_INT(back.rules[2].line, 70000);
	CHECK_INT(back.rules[2].allow[0].lo, 443);
	CHECK(pol_sel_match(&back, "group:servers", "x@srv.example.com"));
	CHECK_STR(pol_str(&back, back.rules[1].from[0]), "*@example.com");
	/* No policy: state 0 and nothing else. */
	pol_set_init(&part);
	n = pol_msg_build(&part, 8, frame, sizeof(frame));
	CHECK_INT(parse(frame, (size_t)n, &back, &gen, &why), 0);
	CHECK_INT(back.present, 0);
	/* Every single-byte change inside the TLV values either parses to a
	 * valid set or is refused whole; truncated values are refused. */
	n = pol_msg_build(&s, 7, frame, sizeof(frame));
	for (int i = MSG_HDR_LEN; i < n; i++) {
		uint8_t keep = frame[i];

		for (int v = 0; v < 256; v += 37) {
			frame[i] = (uint8_t)v;
			if (parse(frame, (size_t)n, &back, &gen, &why) < 0) {
				refused++;
				CHECK_INT(back.n_rules, 0);	/* nothing half-filled */
			} else
				CHECK(back.n_rules <= 3);
			tries++;
		}
		frame[i] = keep;
	}
	CHECK(refused > tries / 4);
	{
		struct msg_writer w;
		static const uint8_t cut[] = { 0, 1, 0, 0, 0, 0, 1 };	/* origin, line, n_from=1, no selector */
		static const uint8_t badport[] = { 0, 0, 0, 0, 0, 0, 1, 0, 1, '*', 1, 0, 1, '*', 1, 6, 0, 0, 0, 5 };

		msg_begin(&w, frame, sizeof(frame), MSG_POLICY);
		msg_put_u32(&w, T_POL_STATE, 1);
		msg_put_u32(&w, T_POL_GEN, 1);
		msg_put_bytes(&w, T_POL_RULE, cut, sizeof(cut));
		n = msg_finish(&w);
		CHECK_INT(parse(frame, (size_t)n, &back, &gen, &why), -EINVAL);
		msg_begin(&w, frame, sizeof(frame), MSG_POLICY);
		msg_put_u32(&w, T_POL_STATE, 1);
		msg_put_u32(&w, T_POL_GEN, 1);
		msg_put_bytes(&w, T_POL_RULE, badport, sizeof(badport));
		n = msg_finish(&w);
		CHECK_INT(parse(frame, (size_t)n, &back, &gen, &why), -EINVAL);
		CHECK_STR(why, "a rule allows an unknown protocol or a bad port range");
		msg_begin(&w, frame, sizeof(frame), MSG_POLICY);
		msg_put_u32(&w, T_POL_STATE, 2);
		msg_put_u32(&w, T_POL_GEN, 1);
		n = msg_finish(&w);
		CHECK_INT(parse(frame, (size_t)n, &back, &gen, &why), -EINVAL);
	}
	/* A rule naming a group the message does not carry. */
	build(&s);
	s.n_groups = 1;
	n = pol_msg_build(&s, 1, frame, sizeof(frame));
	CHECK_INT(parse(frame, (size_t)n, &back, &gen, &why), -EINVAL);
	CHECK_STR(why, "a rule names a group the message does not define");
}

int main(void)
{
	RUN(test_ports);
	RUN(test_selectors);
	RUN(test_matching);
	RUN(test_part_for_node);
	RUN(test_message);
	return HARNESS_END();
}
