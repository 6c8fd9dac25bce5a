/*
 * Policy sets: checking what a rule is written as, matching identities
 * against selectors, and cutting the part one node needs out of a
 * domain's whole policy. Matching is by the authenticated identity a
 * peer's certificate names, never by address: the caller passes that
 * identity, the data path's address checks come before.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "identity/name.h"
#include "tund/policy/polset.h"

#define GROUP_PREFIX "group:"
#define GROUP_PREFIX_LEN 6

void pol_set_init(struct pol_set *s)
{
	s->present = 0;
	s->n_rules = s->n_groups = s->n_members = 0;
	s->pool_len = 0;
	s->pool[0] = '\0';
}

int pol_set_intern(struct pol_set *s, const char *str)
{
	size_t n = strlen(str) + 1;
	uint32_t off = s->pool_len;

	if (n > POL_POOL - s->pool_len || off > UINT16_MAX)
		return -ENOSPC;
	memcpy(s->pool + off, str, n);
	s->pool_len += (uint32_t)n;
	return (int)off;
}

int pol_group_name_check(const char *name, const char **why)
{
	size_t n = strlen(name);

	if (n == 0 || n > POL_GROUP_MAX) {
		*why = "a group name has 1 to 32 characters";
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-')) {
			*why = "a group name is made of a-z, 0-9, '_' and '-'";
			return -EINVAL;
		}
	}
	return 0;
}

int pol_member_check(const char *m, const char **why)
{
	if (strncmp(m, "*@", 2) == 0 ? id_parse_domain(m + 2, NULL, 0) == 0 : id_parse_user(m, NULL, NULL, 0) == 0)
		return 0;
	*why = "not user@domain or *@domain";
	return -EINVAL;
}

int pol_sel_check(const char *sel, const char **why)
{
	if (strcmp(sel, "*") == 0)
		return 0;
	if (strncmp(sel, GROUP_PREFIX, GROUP_PREFIX_LEN) == 0)
		return pol_group_name_check(sel + GROUP_PREFIX_LEN, why);
	if (pol_member_check(sel, why) == 0)
		return 0;
	*why = "not user@domain, *@domain, * or group:NAME";
	return -EINVAL;
}

/* A decimal port 1..65535 spanning exactly [s, end). */
static int pol_port_num(const char *s, const char *end, uint16_t *out)
{
	unsigned long v = 0;

	if (s == end || end - s > 5)
		return -EINVAL;
	for (const char *p = s; p < end; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v < 1 || v > 65535)
		return -ERANGE;
	*out = (uint16_t)v;
	return 0;
}

int pol_port_parse(const char *str, struct pol_port *out, const char **why)
{
	const char *slash = strchr(str, '/'), *dash, *end;
	size_t plen = slash ? (size_t)(slash - str) : strlen(str);
	int r;

	memset(out, 0, sizeof(*out));
	if (plen == 4 && strncmp(str, "icmp", 4) == 0) {
		if (slash) {
			*why = "icmp takes no port (write \"icmp\")";
			return -EINVAL;
		}
		out->proto = POL_ICMP;
		return 0;
	}
	if (plen == 3 && strncmp(str, "tcp", 3) == 0)
		out->proto = POL_TCP;
	else if (plen == 3 && strncmp(str, "udp", 3) == 0)
		out->proto = POL_UDP;
	else {
		*why = "expected tcp/PORT, udp/PORT, tcp/LOW-HIGH, tcp, udp or icmp";
		return -EINVAL;
	}
	if (!slash) {
		out->lo = 1;
		out->hi = 65535;
		return 0;
	}
	end = slash + 1 + strlen(slash + 1);
	dash = strchr(slash + 1, '-');
	r = pol_port_num(slash + 1, dash ? dash : end, &out->lo);
	if (r == 0 && dash)
		r = pol_port_num(dash + 1, end, &out->hi);
	else if (r == 0)
		out->hi = out->lo;
	if (r == -ERANGE) {
		*why = "port out of range 1..65535";
		return -EINVAL;
	}
	if (r < 0) {
		*why = "a port is a decimal number, a range LOW-HIGH";
		return -EINVAL;
	}
	if (out->lo > out->hi) {
		*why = "the range's low port is above its high port";
		return -EINVAL;
	}
	return 0;
}

void pol_port_format(const struct pol_port *p, char *buf, size_t len)
{
	const char *name = p->proto == POL_TCP ? "tcp" : p->proto == POL_UDP ? "udp" : "icmp";

	if (p->proto == POL_ICMP || (p->lo == 1 && p->hi == 65535))
		snprintf(buf, len, "%s", name);
	else if (p->lo == p->hi)
		snprintf(buf, len, "%s/%u", name, p->lo);
	else
		snprintf(buf, len, "%s/%u-%u", name, p->lo, p->hi);
}

int pol_group_find(const struct pol_set *s, const char *name)
{
	for (int i = 0; i < s->n_groups; i++)
		if (strcmp(pol_str(s, s->groups[i].name), name) == 0)
			return i;
	return -1;
}

static int pol_sel_group_ok(const struct pol_set *s, const char *sel)
{
	return strncmp(sel, GROUP_PREFIX, GROUP_PREFIX_LEN) != 0 || pol_group_find(s, sel + GROUP_PREFIX_LEN) >= 0;
}

int pol_set_check_groups(const struct pol_set *s, int *rule, int *idx, int *from)
{
	for (int i = 0; i < s->n_rules; i++) {
		const struct pol_rule *r = &s->rules[i];

		for (int j = 0; j < r->n_from + r->n_to; j++) {
			int f = j < r->n_from;
			uint16_t off = f ? r->from[j] : r->to[j - r->n_from];

			if (!pol_sel_group_ok(s, pol_str(s, off))) {
				*rule = i;
				*idx = f ? j : j - r->n_from;
				*from = f;
				return -ENOENT;
			}
		}
	}
	return 0;
}

/* user@domain or *@domain against identity (a plain pattern, no group). */
static int pol_member_match(const char *m, const char *identity)
{
	const char *at;

	if (m[0] == '*') {
		if (m[1] == '\0')
			return 1;
		at = strchr(identity, '@');
		return at && strcmp(m + 1, at) == 0;
	}
	return strcmp(m, identity) == 0;
}

int pol_sel_match(const struct pol_set *s, const char *sel, const char *identity)
{
	const struct pol_group *g;
	int gi;

	if (strncmp(sel, GROUP_PREFIX, GROUP_PREFIX_LEN) != 0)
		return pol_member_match(sel, identity);
	gi = pol_group_find(s, sel + GROUP_PREFIX_LEN);
	if (gi < 0)
		return 0;	/* a group nobody defined selects nobody */
	g = &s->groups[gi];
	for (int i = 0; i < g->n; i++)
		if (pol_member_match(pol_str(s, s->members[g->first + i]), identity))
			return 1;
	return 0;
}

static int pol_sels_match(const struct pol_set *s, const uint16_t *sel, int n, const char *identity)
{
	for (int i = 0; i < n; i++)
		if (pol_sel_match(s, pol_str(s, sel[i]), identity))
			return 1;
	return 0;
}

int pol_rule_from(const struct pol_set *s, const struct pol_rule *r, const char *identity)
{
	return pol_sels_match(s, r->from, r->n_from, identity);
}

int pol_rule_to(const struct pol_set *s, const struct pol_rule *r, const char *identity)
{
	return pol_sels_match(s, r->to, r->n_to, identity);
}

int pol_rule_allows(const struct pol_rule *r, uint8_t proto, uint16_t port)
{
	if (proto == 58)
		proto = POL_ICMP;
	for (int i = 0; i < r->n_allow; i++) {
		const struct pol_port *p = &r->allow[i];

		if (p->proto == proto && (proto == POL_ICMP || (port >= p->lo && port <= p->hi)))
			return 1;
	}
	return 0;
}

/* Copies group gi of in into out unless it is there already. */
static int pol_copy_group(const struct pol_set *in, int gi, struct pol_set *out)
{
	const struct pol_group *g = &in->groups[gi];
	struct pol_group *ng;
	int off;

	if (pol_group_find(out, pol_str(in, g->name)) >= 0)
		return 0;
	if (out->n_groups == POL_MAX_GROUPS || out->n_members + g->n > POL_MAX_MEMBERS)
		return -ENOSPC;
	ng = &out->groups[out->n_groups];
	if ((off = pol_set_intern(out, pol_str(in, g->name))) < 0)
		return off;
	ng->name = (uint16_t)off;
	ng->first = (uint16_t)out->n_members;
	ng->n = g->n;
	for (int i = 0; i < g->n; i++) {
		if ((off = pol_set_intern(out, pol_str(in, in->members[g->first + i]))) < 0)
			return off;
		out->members[out->n_members++] = (uint16_t)off;
	}
	out->n_groups++;
	return 0;
}

/* Interns the selectors sel[0..n) of in into out, copying their groups. */
static int pol_copy_sels(const struct pol_set *in, const uint16_t *sel, int n, struct pol_set *out, uint16_t *to)
{
	for (int i = 0; i < n; i++) {
		const char *str = pol_str(in, sel[i]);
		int off, r;

		if (strncmp(str, GROUP_PREFIX, GROUP_PREFIX_LEN) == 0) {
			int gi = pol_group_find(in, str + GROUP_PREFIX_LEN);

			if (gi >= 0 && (r = pol_copy_group(in, gi, out)) < 0)
				return r;
		}
		if ((off = pol_set_intern(out, str)) < 0)
			return off;
		to[i] = (uint16_t)off;
	}
	return 0;
}

int pol_set_for(const struct pol_set *in, const char *node, struct pol_set *out)
{
	int r;

	pol_set_init(out);
	out->present = in->present;
	for (int i = 0; i < in->n_rules; i++) {
		const struct pol_rule *ir = &in->rules[i];
		struct pol_rule *or;

		if (!pol_rule_to(in, ir, node))
			continue;
		or = &out->rules[out->n_rules];
		*or = *ir;
		if ((r = pol_copy_sels(in, ir->from, ir->n_from, out, or->from)) < 0 ||
		    (r = pol_copy_sels(in, ir->to, ir->n_to, out, or->to)) < 0)
			return r;
		out->n_rules++;
	}
	return 0;
}
