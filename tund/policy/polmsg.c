/*
 * Writing and reading MSG_POLICY. The node trusts its authority's word on
 * who may reach it, but not the bytes: a malformed policy is refused
 * whole and the node keeps the one it had, so a damaged frame can neither
 * open everything nor lock everything out.
 */
#include <errno.h>
#include <string.h>

#include "identity/name.h"
#include "netstack/bytebuf.h"
#include "netstack/msg.h"
#include "tund/link/proto.h"
#include "tund/policy/polmsg.h"
#include "tund/policy/polset.h"

/* ---- writing ---- */

static void pm_str16(struct bytebuf_w *o, const char *s)
{
	bytebuf_blob16(o, s, strlen(s));
}

static void pm_put_sels(struct bytebuf_w *o, const struct pol_set *s, const uint16_t *sel, int n)
{
	bytebuf_u8(o, (unsigned)n);
	for (int i = 0; i < n; i++)
		pm_str16(o, pol_str(s, sel[i]));
}

int pol_msg_build(const struct pol_set *s, uint32_t gen, uint8_t *buf, size_t cap)
{
	static uint8_t body[65535];	/* not on the engine's stack */
	struct bytebuf_w o;
	struct msg_writer w;

	msg_begin(&w, buf, cap, MSG_POLICY);
	msg_put_u32(&w, T_POL_STATE, s->present ? 1 : 0);
	msg_put_u32(&w, T_POL_GEN, gen);
	for (int i = 0; s->present && i < s->n_groups; i++) {
		const struct pol_group *g = &s->groups[i];
		const char *name = pol_str(s, g->name);

		bytebuf_init(&o, body, sizeof(body));
		bytebuf_u8(&o, (unsigned)strlen(name));
		bytebuf_put(&o, name, strlen(name));
		bytebuf_u16(&o, g->n);
		for (int j = 0; j < g->n; j++)
			pm_str16(&o, pol_str(s, s->members[g->first + j]));
		if (o.err)
			return o.err;
		msg_put_bytes(&w, T_POL_GROUP, o.p, o.len);
	}
	for (int i = 0; s->present && i < s->n_rules; i++) {
		const struct pol_rule *r = &s->rules[i];

		bytebuf_init(&o, body, sizeof(body));
		bytebuf_u16(&o, r->origin);
		bytebuf_u16(&o, r->line >> 16);
		bytebuf_u16(&o, r->line & 0xffff);
		pm_put_sels(&o, s, r->from, r->n_from);
		pm_put_sels(&o, s, r->to, r->n_to);
		bytebuf_u8(&o, r->n_allow);
		for (int j = 0; j < r->n_allow; j++) {
			bytebuf_u8(&o, r->allow[j].proto);
			bytebuf_u16(&o, r->allow[j].lo);
			bytebuf_u16(&o, r->allow[j].hi);
		}
		if (o.err)
			return o.err;
		msg_put_bytes(&w, T_POL_RULE, o.p, o.len);
	}
	return msg_finish(&w);
}

/* ---- reading ---- */

/* A string of 1..max bytes with no NUL, its length in lenbytes (1 or 2)
 * bytes, copied NUL-terminated into buf. */
static int pm_get_str(struct bytebuf_r *c, size_t lenbytes, size_t max, char *buf)
{
	const uint8_t *b;
	uint8_t n8;
	size_t n;

	if (lenbytes == 1) {
		if (bytebuf_get_u8(c, &n8) || n8 == 0 || n8 > max || bytebuf_take(c, n8, &b))
			return -EINVAL;
		n = n8;
	} else if (bytebuf_get_blob16(c, max, &b, &n)) {
		return -EINVAL;
	}
	if (memchr(b, 0, n))
		return -EINVAL;
	memcpy(buf, b, n);
	buf[n] = '\0';
	return 0;
}

static int pm_fail(const char **why, const char *what)
{
	*why = what;
	return -EINVAL;
}

static int pm_group(struct bytebuf_r c, struct pol_set *out, const char **why)
{
	char name[POL_GROUP_MAX + 1], m[ID_NAME_MAX + 1];
	struct pol_group *g;
	uint16_t n;
	int off;

	if (out->n_groups == POL_MAX_GROUPS)
		return pm_fail(why, "too many groups");
	if (pm_get_str(&c, 1, POL_GROUP_MAX, name) < 0 || pol_group_name_check(name, why) < 0)
		return pm_fail(why, "a group's name is malformed");
	if (pol_group_find(out, name) >= 0)
		return pm_fail(why, "a group is defined twice");
	if (bytebuf_get_u16(&c, &n) < 0 || (int)n > POL_MAX_MEMBERS - out->n_members)
		return pm_fail(why, "too many group members");
	g = &out->groups[out->n_groups];
	if ((off = pol_set_intern(out, name)) < 0)
		return pm_fail(why, "the policy's strings are too long");
	g->name = (uint16_t)off;
	g->first = (uint16_t)out->n_members;
	g->n = (uint16_t)n;
	for (unsigned i = 0; i < n; i++) {
		if (pm_get_str(&c, 2, ID_NAME_MAX, m) < 0 || pol_member_check(m, why) < 0)
			return pm_fail(why, "a group member is not user@domain or *@domain");
		if ((off = pol_set_intern(out, m)) < 0)
			return pm_fail(why, "the policy's strings are too long");
		out->members[out->n_members++] = (uint16_t)off;
	}
	if (c.left)
		return pm_fail(why, "trailing bytes after a group");
	out->n_groups++;
	return 0;
}

static int pm_get_sels(struct bytebuf_r *c, struct pol_set *out, uint16_t *sel, uint8_t *count, const char **why)
{
	char s[ID_NAME_MAX + 1];
	uint8_t n;
	int off;

	if (bytebuf_get_u8(c, &n) < 0 || n == 0 || n > POL_MAX_SEL)
		return pm_fail(why, "a rule's from or to list is empty or too long");
	for (unsigned i = 0; i < n; i++) {
		if (pm_get_str(c, 2, ID_NAME_MAX, s) < 0 || pol_sel_check(s, why) < 0)
			return pm_fail(why, "a rule's selector is malformed");
		if ((off = pol_set_intern(out, s)) < 0)
			return pm_fail(why, "the policy's strings are too long");
		sel[i] = (uint16_t)off;
	}
	*count = (uint8_t)n;
	return 0;
}

static int pm_rule(struct bytebuf_r c, struct pol_set *out, const char **why)
{
	struct pol_rule *r;
	uint16_t origin, hi, lo;
	uint8_t n;

	if (out->n_rules == POL_MAX_RULES)
		return pm_fail(why, "too many rules");
	r = &out->rules[out->n_rules];
	memset(r, 0, sizeof(*r));
	if (bytebuf_get_u16(&c, &origin) < 0 || bytebuf_get_u16(&c, &hi) < 0 || bytebuf_get_u16(&c, &lo) < 0)
		return pm_fail(why, "a rule is cut short");
	r->origin = (uint16_t)origin;
	r->line = (uint32_t)hi << 16 | lo;
	if (pm_get_sels(&c, out, r->from, &r->n_from, why) < 0 || pm_get_sels(&c, out, r->to, &r->n_to, why) < 0)
		return -EINVAL;
	if (bytebuf_get_u8(&c, &n) < 0 || n == 0 || n > POL_MAX_ALLOW)
		return pm_fail(why, "a rule's allow list is empty or too long");
	for (unsigned i = 0; i < n; i++) {
		struct pol_port *p = &r->allow[i];
		uint16_t plo, phi;
		uint8_t proto;

		if (bytebuf_get_u8(&c, &proto) < 0 || bytebuf_get_u16(&c, &plo) < 0 || bytebuf_get_u16(&c, &phi) < 0)
			return pm_fail(why, "a rule's allow list is cut short");
		if (proto == POL_ICMP ? (plo || phi) :
		    (proto != POL_TCP && proto != POL_UDP) || plo == 0 || plo > phi)
			return pm_fail(why, "a rule allows an unknown protocol or a bad port range");
		p->proto = (uint8_t)proto;
		p->lo = (uint16_t)plo;
		p->hi = (uint16_t)phi;
	}
	r->n_allow = (uint8_t)n;
	if (c.left)
		return pm_fail(why, "trailing bytes after a rule");
	out->n_rules++;
	return 0;
}

int pol_msg_parse(const struct msg_reader *r, struct pol_set *out, uint32_t *gen, const char **why)
{
	struct bytebuf_r c;
	size_t iter = 0;
	uint32_t state;
	int a, b, f;

	pol_set_init(out);
	*gen = 0;
	if (msg_get_u32(r, T_POL_STATE, &state) < 0 || state > 1)
		return pm_fail(why, "no policy state");
	if (msg_get_u32(r, T_POL_GEN, gen) < 0)
		return pm_fail(why, "no policy generation");
	out->present = (int)state;
	while (msg_next(r, T_POL_GROUP, &iter, &c.p, &c.left) == 0)
		if (!state || pm_group(c, out, why) < 0)
			goto bad;
	iter = 0;
	while (msg_next(r, T_POL_RULE, &iter, &c.p, &c.left) == 0)
		if (!state || pm_rule(c, out, why) < 0)
			goto bad;
	if (pol_set_check_groups(out, &a, &b, &f) < 0) {
		*why = "a rule names a group the message does not define";
		goto bad;
	}
	return 0;
bad:
	if (!state)
		*why = "groups or rules with no policy in force";
	pol_set_init(out);
	return -EINVAL;
}
