/*
 * An identity firewall's rules as written: groups of identities and rules
 * "from these identities to those, allow these protocols and ports". The
 * same plain struct is what the config parser fills (tund/conf/config.c),
 * what the authority sends each node (the rules naming it, polmsg.h) and
 * what a node enforces (fw.h). Pure: strings in, decisions out.
 *
 * Selectors: "user@domain", "*@domain", "*", "group:NAME". Allow entries:
 * "tcp/22", "udp/5000-5100", "tcp", "udp" (every port), "icmp" (ICMP and
 * ICMPv6, every type). Strings live in one pool, referred to by offset.
 */
#ifndef Q2Q_POLSET_H
#define Q2Q_POLSET_H

#include <stddef.h>
#include <stdint.h>

#define POL_MAX_RULES	256
#define POL_MAX_SEL	16	/* from or to entries of one rule */
#define POL_MAX_ALLOW	32	/* allow entries of one rule */
#define POL_MAX_GROUPS	64
#define POL_MAX_MEMBERS	512	/* all groups together */
#define POL_GROUP_MAX	32	/* bytes in a group's name */
#define POL_POOL	32768	/* bytes of strings, NULs included */

enum pol_proto { POL_ICMP = 1, POL_TCP = 6, POL_UDP = 17 };

struct pol_port {
	uint8_t proto;		/* enum pol_proto */
	uint16_t lo, hi;	/* tcp/udp ports, 0..0 for icmp */
};

struct pol_rule {
	uint16_t origin;	/* its position in the file that wrote it */
	uint32_t line;		/* that file's line, 0 if unknown */
	uint8_t n_from, n_to, n_allow;
	uint16_t from[POL_MAX_SEL], to[POL_MAX_SEL];	/* pool offsets */
	struct pol_port allow[POL_MAX_ALLOW];
};

struct pol_group {
	uint16_t name;		/* pool offset */
	uint16_t first, n;	/* into members[] */
};

struct pol_set {
	int present;		/* 0: no policy at all (everything allowed) */
	int n_rules, n_groups, n_members;
	struct pol_rule rules[POL_MAX_RULES];
	struct pol_group groups[POL_MAX_GROUPS];
	uint16_t members[POL_MAX_MEMBERS];	/* pool offsets */
	uint32_t pool_len;
	char pool[POL_POOL];
};

/* An empty set (present = 0). */
void pol_set_init(struct pol_set *s);
/* Copies s into the pool: its offset, or -ENOSPC. */
int pol_set_intern(struct pol_set *s, const char *str);
static inline const char *pol_str(const struct pol_set *s, uint16_t off) { return s->pool + off; }

/* Checks one string: 0, or -EINVAL with why (a phrase, no input echoed). */
int pol_sel_check(const char *sel, const char **why);
int pol_member_check(const char *m, const char **why);	/* user@domain or *@domain */
int pol_group_name_check(const char *name, const char **why);
int pol_port_parse(const char *str, struct pol_port *out, const char **why);
/* "tcp/22", "udp/1-9", "icmp": the text an allow entry is written as. */
void pol_port_format(const struct pol_port *p, char *buf, size_t len);

/* The group named name (without "group:"), or -1. */
int pol_group_find(const struct pol_set *s, const char *name);
/* Every group a rule names exists: 0, or -ENOENT with rule, idx and
 * from saying where (from: 1 in from, 0 in to). */
int pol_set_check_groups(const struct pol_set *s, int *rule, int *idx, int *from);

/* 1 if identity is selected by sel in s (groups resolved in s). */
int pol_sel_match(const struct pol_set *s, const char *sel, const char *identity);
/* 1 if any of the rule's from (to) selectors picks identity. */
int pol_rule_from(const struct pol_set *s, const struct pol_rule *r, const char *identity);
int pol_rule_to(const struct pol_set *s, const struct pol_rule *r, const char *identity);
/* 1 if the rule allows proto (an IP protocol number; 58 counts as ICMP)
 * to port. */
int pol_rule_allows(const struct pol_rule *r, uint8_t proto, uint16_t port);

/*
 * What node needs of in: its rules (those whose "to" picks node) with the
 * groups they name, origins kept, into *out. present carries over, so a
 * policy with no rule for node still denies it everything. 0 or -ENOSPC.
 */
int pol_set_for(const struct pol_set *in, const char *node, struct pol_set *out);

#endif
