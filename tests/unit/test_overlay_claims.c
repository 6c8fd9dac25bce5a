/* What a peer's certificate may claim (tund/overlay/claims.c): addresses
 * nobody else holds, routes over no one else's address or an overlay
 * range, no other peer's prefix, and from a foreign CA only routes its
 * trust entry lists. Then a differential test against a naive twin that
 * compares address ranges as integers and bit strings. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/harness.h"
#include "tund/conf/config.h"
#include "tund/overlay/claims.h"

static uint8_t self_v4[4], self_v6[16];
static struct addr_prefix foreign_blk;	/* alice's local IPv4s for other domains' peers */
static const struct claims_self self = { .identity = "alice@example.com", .v4 = self_v4, .v6 = self_v6,
    .foreign = &foreign_blk };
static char why[512];

static struct addr_prefix pfx(const char *s)
{
	struct addr_prefix p;

	memset(&p, 0, sizeof(p));
	if (addr_prefix_parse(s, &p) < 0)
		fprintf(stderr, "  bad prefix in test: %s\n", s);
	return p;
}

static struct cert_info cert(const char *identity, const char *v4)
{
	struct cert_info ci;

	memset(&ci, 0, sizeof(ci));
	snprintf(ci.identity, sizeof(ci.identity), "%s", identity);
	inet_pton(AF_INET, v4, ci.v4);
	addr_overlay_v6(identity, ci.v6);
	ci.has_v4 = ci.has_v6 = 1;
	return ci;
}

static void route(struct cert_info *ci, const char *s)
{
	ci->routes[ci->n_routes++] = pfx(s);
}

static void setup_self(void)
{
	inet_pton(AF_INET, "100.64.0.1", self_v4);
	addr_overlay_v6(self.identity, self_v6);
	foreign_blk = pfx("100.64.0.12/30");
}

static enum claims_verdict check(const struct addr_prefix *allowed, int n_allowed,
    const struct cert_info *const *others, int n, const struct cert_info *ci)
{
	why[0] = 0;
	return claims_check(&self, allowed, n_allowed, others, n, ci, why, sizeof(why));
}

static void test_addresses(void)
{
	struct cert_info bob = cert("bob@example.com", "100.64.0.2"), ci;
	const struct cert_info *others[] = { &bob };

	setup_self();
	ci = cert("dave@example.com", "100.64.0.3");
	CHECK_INT(check(NULL, 0, others, 1, &ci), CLAIMS_OK);
	ci = cert("dave@example.com", "100.64.0.1");
	CHECK_INT(check(NULL, 0, others, 1, &ci), CLAIMS_OWN_ADDRESS);
	CHECK_STR(why, "dave@example.com's address 100.64.0.1 is this node's own");
	ci = cert("dave@example.com", "100.64.0.2");
	CHECK_INT(check(NULL, 0, others, 1, &ci), CLAIMS_ADDRESS_TAKEN);
	CHECK_STR(why, "dave@example.com's address 100.64.0.2 clashes with bob@example.com");
	/* Another domain's peer gets a local IPv4 here: the first user of
	 * example.org has the same certified IPv4 as we do, or as bob. */
	ci = cert("carol@example.org", "100.64.0.1");
	CHECK_INT(check(NULL, 0, others, 1, &ci), CLAIMS_OK);
	ci = cert("carol@example.org", "100.64.0.2");
	CHECK_INT(check(NULL, 0, others, 1, &ci), CLAIMS_OK);
	/* A bob with a new certificate is bob, not a rival. */
	ci = cert("bob@example.com", "100.64.0.2");
	CHECK_INT(check(NULL, 0, others, 1, &ci), CLAIMS_OK);
	/* Unverified IPv6 (cert_verify derives it): still checked, foreign too. */
	ci = cert("carol@example.org", "100.64.0.3");
	memcpy(ci.v6, bob.v6, 16);
	CHECK_INT(check(NULL, 0, others, 1, &ci), CLAIMS_ADDRESS_TAKEN);
	memcpy(ci.v6, self_v6, 16);
	CHECK_INT(check(NULL, 0, others, 1, &ci), CLAIMS_OWN_ADDRESS);
	/* The others as this node shows them: a foreign peer under its local
	 * IPv4, which a peer of our own domain may then not claim. */
	bob = cert("carol@example.org", "100.64.0.13");
	ci = cert("dave@example.com", "100.64.0.13");
	CHECK_INT(check(NULL, 0, others, 1, &ci), CLAIMS_ADDRESS_TAKEN);
	CHECK_STR(why, "dave@example.com's address 100.64.0.13 clashes with carol@example.org");
}

static void test_inside_routes(void)
{
	struct cert_info gw = cert("gw@example.com", "100.64.0.9"), ci;
	const struct cert_info *others[] = { &gw };
	char v6[64];

	setup_self();
	route(&gw, "203.0.113.0/24");
	route(&gw, "fd77::/16");
	/* Our CA hands a node an address inside our gateway's subnet. */
	ci = cert("dave@example.com", "203.0.113.7");
	CHECK_INT(check(NULL, 0, others, 1, &ci), CLAIMS_ADDRESS_ROUTED);
	CHECK_STR(why, "dave@example.com's address 203.0.113.7 lies inside gw@example.com's route 203.0.113.0/24");
	/* A foreign CA's IPv4 is never routed here: harmless. */
	ci = cert("carol@example.org", "203.0.113.7");
	CHECK_INT(check(NULL, 0, others, 1, &ci), CLAIMS_OK);
	ci = cert("carol@example.org", "100.64.0.3");
	CHECK_INT(check(NULL, 0, others, 1, &ci), CLAIMS_OK);
	/* A route over exactly one IPv6 address: that address. */
	gw.n_routes = 0;
	inet_ntop(AF_INET6, ci.v6, v6, sizeof(v6));
	strcat(v6, "/128");
	route(&gw, v6);
	CHECK_INT(check(NULL, 0, others, 1, &ci), CLAIMS_ADDRESS_ROUTED);
}

static void test_overlay_ranges(void)
{
	static const char *const wide[] = {
		"100.64.0.0/10", "100.0.0.0/8", "64.0.0.0/2", "0.0.0.0/1",
		"fd00::/8", "fc00::/7", "8000::/1",
	};
	struct cert_info ci;

	setup_self();
	for (size_t i = 0; i < sizeof(wide) / sizeof(wide[0]); i++) {
		/* Our own domain's CA may not grant them either. */
		ci = cert("bob@example.com", "100.64.0.2");
		route(&ci, wide[i]);
		CHECK_INT(check(NULL, 0, NULL, 0, &ci), CLAIMS_OVERLAY_RANGE);
		CHECK(strstr(why, "covers the overlay range") != NULL);
		CHECK(strncmp(why + 6, wide[i], strlen(wide[i])) == 0);
	}
	CHECK_STR(why, "route 8000::/1 covers the overlay range fd00::/8");
	/* A default route is an exit-node grant (issue 13): our own domain's
	 * CA may grant it, another domain's only if its trust entry lists it. */
	ci = cert("bob@example.com", "100.64.0.2");
	route(&ci, "0.0.0.0/0");
	route(&ci, "::/0");
	CHECK_INT(check(NULL, 0, NULL, 0, &ci), CLAIMS_OK);
	ci = cert("carol@example.org", "100.64.0.3");
	route(&ci, "0.0.0.0/0");
	CHECK_INT(check(NULL, 0, NULL, 0, &ci), CLAIMS_NOT_GRANTABLE);
	/* Inside a range is no range: only known addresses count there. */
	ci = cert("bob@example.com", "100.64.0.2");
	route(&ci, "100.96.0.0/11");
	route(&ci, "fd00:1::/64");
	CHECK_INT(check(NULL, 0, NULL, 0, &ci), CLAIMS_OK);
}

static void test_covers(void)
{
	struct cert_info bob = cert("bob@example.com", "100.64.0.2"), ci;
	const struct cert_info *others[] = { &bob };
	struct addr_prefix allowed[] = { pfx("203.0.113.0/24"), pfx("100.64.0.0/16") };
	char v6[64];

	setup_self();
	/* The review's case: example.org grants carol bob's /32. */
	ci = cert("carol@example.org", "100.64.0.3");
	route(&ci, "100.64.0.2/32");
	CHECK_INT(check(allowed, 1, others, 1, &ci), CLAIMS_COVERS_PEER);
	CHECK_STR(why, "route 100.64.0.2/32 covers bob@example.com's address");
	/* Even with a trust entry that lists the pool, and from our own CA. */
	CHECK_INT(check(allowed, 2, others, 1, &ci), CLAIMS_COVERS_PEER);
	ci = cert("dave@example.com", "100.64.0.3");
	route(&ci, "100.64.0.0/30");
	CHECK_INT(check(NULL, 0, others, 1, &ci), CLAIMS_COVERS_OWN);
	CHECK_STR(why, "route 100.64.0.0/30 covers this node's address 100.64.0.1");
	ci.routes[0] = pfx("100.64.0.2/31");
	CHECK_INT(check(NULL, 0, others, 1, &ci), CLAIMS_COVERS_PEER);
	/* IPv6: bob's derived address, ours. */
	inet_ntop(AF_INET6, bob.v6, v6, sizeof(v6));
	strcat(v6, "/128");
	ci.routes[0] = pfx(v6);
	CHECK_INT(check(NULL, 0, others, 1, &ci), CLAIMS_COVERS_PEER);
	ci.routes[0] = self_v6[1] & 0x80 ? pfx("fd80::/9") : pfx("fd00::/9");
	CHECK_INT(check(NULL, 0, NULL, 0, &ci), CLAIMS_COVERS_OWN);
	/* Its own addresses it may cover. */
	ci.routes[0] = pfx("100.64.0.3/32");
	CHECK_INT(check(NULL, 0, others, 1, &ci), CLAIMS_OK);
}

/* No route may overlap the block of local addresses for foreign peers,
 * whoever grants it. */
static void test_foreign_pool(void)
{
	static const char *const bad[] = { "100.64.0.12/30", "100.64.0.14/31", "100.64.0.8/29" };
	struct addr_prefix allowed[] = { pfx("100.64.0.0/24") };
	struct cert_info ci;

	setup_self();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ci = cert("bob@example.com", "100.64.0.2");
		route(&ci, bad[i]);
		CHECK_INT(check(NULL, 0, NULL, 0, &ci), CLAIMS_FOREIGN_POOL);
		ci = cert("carol@example.org", "100.64.0.2");
		route(&ci, bad[i]);
		CHECK_INT(check(allowed, 1, NULL, 0, &ci), CLAIMS_FOREIGN_POOL);
	}
	CHECK_STR(why, "route 100.64.0.8/29 overlaps 100.64.0.12/30, this node's local addresses for "
	    "other domains' peers (foreign_pool)");
	ci = cert("bob@example.com", "100.64.0.2");
	route(&ci, "100.64.0.16/30");
	CHECK_INT(check(NULL, 0, NULL, 0, &ci), CLAIMS_OK);
}

static void test_foreign_grants(void)
{
	struct addr_prefix allowed[] = { pfx("203.0.113.0/24"), pfx("2001:db8:7::/48") };
	struct cert_info ci;

	setup_self();
	ci = cert("carol@example.org", "100.64.0.3");
	route(&ci, "203.0.113.0/24");
	CHECK_INT(check(NULL, 0, NULL, 0, &ci), CLAIMS_NOT_GRANTABLE);
	CHECK_STR(why, "route 203.0.113.0/24 is not one example.org may grant (its trust entry's routes)");
	CHECK_INT(check(allowed, 2, NULL, 0, &ci), CLAIMS_OK);
	route(&ci, "203.0.113.128/25");
	route(&ci, "2001:db8:7:1::/64");
	CHECK_INT(check(allowed, 2, NULL, 0, &ci), CLAIMS_OK);
	route(&ci, "203.0.112.0/23");		/* wider than allowed */
	CHECK_INT(check(allowed, 2, NULL, 0, &ci), CLAIMS_NOT_GRANTABLE);
	CHECK_STR(why, "route 203.0.112.0/23 is not one example.org may grant (its trust entry's routes)");
	ci.routes[3] = pfx("198.51.100.0/24");	/* elsewhere */
	CHECK_INT(check(allowed, 2, NULL, 0, &ci), CLAIMS_NOT_GRANTABLE);
	ci.routes[3] = pfx("2001:db8:8::/48");
	CHECK_INT(check(allowed, 2, NULL, 0, &ci), CLAIMS_NOT_GRANTABLE);
	/* Our own domain needs no list. */
	snprintf(ci.identity, sizeof(ci.identity), "carol@example.com");
	addr_overlay_v6(ci.identity, ci.v6);
	CHECK_INT(check(NULL, 0, NULL, 0, &ci), CLAIMS_OK);
	/* A subdomain is another domain. */
	snprintf(ci.identity, sizeof(ci.identity), "carol@sub.example.com");
	CHECK_INT(check(NULL, 0, NULL, 0, &ci), CLAIMS_NOT_GRANTABLE);
}

static void test_other_routes(void)
{
	/* gw@example.com holds 10.1.0.0/16. The same prefix is never silently
	 * another's; nested within one domain is a gateway and a subnet
	 * behind it; across domains, neither inside nor around. */
	static const struct {
		const char *identity, *route;
		enum claims_verdict v;
		const char *why;
	} cases[] = {
		{ "bob@example.com", "10.1.0.0/16", CLAIMS_ROUTE_TAKEN,
		  "route 10.1.0.0/16 is already gw@example.com's" },
		{ "bob@example.com", "10.1.2.0/24", CLAIMS_OK, NULL },
		{ "bob@example.com", "10.0.0.0/8", CLAIMS_OK, NULL },
		{ "carol@example.org", "10.1.2.0/24", CLAIMS_ROUTE_OVERLAP,
		  "route 10.1.2.0/24 overlaps gw@example.com's route 10.1.0.0/16" },
		{ "carol@example.org", "10.0.0.0/8", CLAIMS_ROUTE_OVERLAP, NULL },
		{ "carol@example.org", "10.1.0.0/16", CLAIMS_ROUTE_TAKEN, NULL },
		{ "carol@example.org", "10.2.0.0/16", CLAIMS_OK, NULL },
	};
	struct cert_info gw = cert("gw@example.com", "100.64.0.9"), ci;
	const struct cert_info *others[] = { &gw };
	struct addr_prefix allowed[] = { pfx("10.0.0.0/8") };

	setup_self();
	route(&gw, "10.1.0.0/16");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ci = cert(cases[i].identity, "100.64.0.3");
		route(&ci, cases[i].route);
		CHECK_INT(check(allowed, 1, others, 1, &ci), cases[i].v);
		if (cases[i].why)
			CHECK_STR(why, cases[i].why);
	}
	/* gw renewing with the same routes is gw. */
	CHECK_INT(check(NULL, 0, others, 1, &gw), CLAIMS_OK);
}

static void test_allowed_from_config(void)
{
	static struct config cfg;
	const struct addr_prefix *a;
	int n;

	cfg.n_trust = 2;
	snprintf(cfg.trust[0].domain, sizeof(cfg.trust[0].domain), "example.net");
	snprintf(cfg.trust[1].domain, sizeof(cfg.trust[1].domain), "example.org");
	cfg.trust[1].n_routes = 1;
	cfg.trust[1].routes[0] = pfx("203.0.113.0/24");
	claims_allowed(&cfg, "example.org", &a, &n);
	CHECK_INT(n, 1);
	CHECK(a == cfg.trust[1].routes);
	claims_allowed(&cfg, "example.net", &a, &n);
	CHECK_INT(n, 0);
	claims_allowed(&cfg, "example.com", &a, &n);
	CHECK_INT(n, 0);
	CHECK(a == NULL);
}

/* ------------------------------------------------------ the naive twin */

static int bit(const uint8_t *a, int i) { return (a[i / 8] >> (7 - i % 8)) & 1; }

/* IPv4 as integer ranges, IPv6 as bit strings: not addr.c's byte masks. */
static int naive_inside(const struct addr_prefix *in, const struct addr_prefix *out)
{
	if (in->family != out->family || out->plen > in->plen)
		return 0;
	if (in->family == AF_INET) {
		uint32_t ia = (uint32_t)in->addr[0] << 24 | (uint32_t)in->addr[1] << 16 |
		    (uint32_t)in->addr[2] << 8 | in->addr[3];
		uint32_t oa = (uint32_t)out->addr[0] << 24 | (uint32_t)out->addr[1] << 16 |
		    (uint32_t)out->addr[2] << 8 | out->addr[3];
		uint64_t osize = 1ull << (32 - out->plen), isize = 1ull << (32 - in->plen);
		uint64_t olo = oa & ~(uint32_t)(osize - 1), ilo = ia & ~(uint32_t)(isize - 1);

		return olo <= ilo && ilo + isize <= olo + osize;
	}
	for (int i = 0; i < out->plen; i++)
		if (bit(in->addr, i) != bit(out->addr, i))
			return 0;
	return 1;
}

static struct addr_prefix host4(const uint8_t *a)
{
	struct addr_prefix h = { .family = AF_INET, .plen = 32 };

	memcpy(h.addr, a, 4);
	return h;
}

static struct addr_prefix host6(const uint8_t *a)
{
	struct addr_prefix h = { .family = AF_INET6, .plen = 128 };

	memcpy(h.addr, a, 16);
	return h;
}

/* v4 NULL: only v6 counts. */
static int naive_covers(const struct addr_prefix *r, const uint8_t *v4, const uint8_t *v6)
{
	struct addr_prefix h6 = host6(v6);

	if (v4) {
		struct addr_prefix h4 = host4(v4);

		if (naive_inside(&h4, r))
			return 1;
	}
	return naive_inside(&h6, r);
}

static const char *naive_domain(const char *id) { return strchr(id, '@') + 1; }

/* Every rule ci breaks, as a bit per verdict. */
static unsigned naive(const struct addr_prefix *allowed, int n_allowed,
    const struct cert_info *const *others, int n, const struct cert_info *ci)
{
	static const char *const ranges[] = { "100.64.0.0/10", "fd00::/8" };
	int foreign = strcmp(naive_domain(ci->identity), naive_domain(self.identity)) != 0;
	/* A foreign peer's IPv4 is replaced here: as if it had none. */
	const uint8_t *v4 = foreign ? NULL : ci->v4;
	unsigned m = 0;

	if ((v4 && !memcmp(v4, self.v4, 4)) || !memcmp(ci->v6, self.v6, 16))
		m |= 1u << CLAIMS_OWN_ADDRESS;
	for (int i = 0; i < n; i++) {
		if (!strcmp(others[i]->identity, ci->identity))
			continue;
		if ((v4 && !memcmp(v4, others[i]->v4, 4)) || !memcmp(ci->v6, others[i]->v6, 16))
			m |= 1u << CLAIMS_ADDRESS_TAKEN;
		for (int j = 0; j < others[i]->n_routes; j++)
			if (others[i]->routes[j].plen && naive_covers(&others[i]->routes[j], v4, ci->v6))
				m |= 1u << CLAIMS_ADDRESS_ROUTED;
	}
	for (int k = 0; k < ci->n_routes; k++) {
		const struct addr_prefix *r = &ci->routes[k];
		int ok = !foreign;

		/* A default route (an exit node's) is judged by its grantor only. */
		for (int i = 0; r->plen && i < 2; i++) {
			struct addr_prefix g = pfx(ranges[i]);
			if (naive_inside(&g, r))
				m |= 1u << CLAIMS_OVERLAY_RANGE;
		}
		if (r->plen && (naive_inside(r, &foreign_blk) || naive_inside(&foreign_blk, r)))
			m |= 1u << CLAIMS_FOREIGN_POOL;
		if (r->plen && naive_covers(r, self.v4, self.v6))
			m |= 1u << CLAIMS_COVERS_OWN;
		for (int i = 0; r->plen && i < n; i++) {
			const struct cert_info *q = others[i];

			if (!strcmp(q->identity, ci->identity))
				continue;
			if (naive_covers(r, q->v4, q->v6))
				m |= 1u << CLAIMS_COVERS_PEER;
			for (int j = 0; j < q->n_routes; j++) {
				const struct addr_prefix *qr = &q->routes[j];
				if (!qr->plen)
					continue;
				if (naive_inside(r, qr) && naive_inside(qr, r))
					m |= 1u << CLAIMS_ROUTE_TAKEN;
				else if (strcmp(naive_domain(q->identity), naive_domain(ci->identity)) &&
				    (naive_inside(r, qr) || naive_inside(qr, r)))
					m |= 1u << CLAIMS_ROUTE_OVERLAP;
			}
		}
		for (int i = 0; i < n_allowed; i++)
			ok |= naive_inside(r, &allowed[i]);
		if (!ok)
			m |= 1u << CLAIMS_NOT_GRANTABLE;
	}
	return m;
}

static uint32_t rnd_state = 12345;

static uint32_t rnd(uint32_t n)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return (rnd_state >> 8) % n;
}

/* Addresses from a few small neighbourhoods, so that they meet. */
static void rnd_v4(uint8_t a[4])
{
	static const uint8_t bases[][4] = { { 100, 64, 0, 0 }, { 10, 1, 0, 0 }, { 203, 0, 113, 0 } };
	const uint8_t *b = bases[rnd(3)];

	memcpy(a, b, 4);
	a[3] = (uint8_t)rnd(16);
	if (rnd(4) == 0)
		a[2] = (uint8_t)rnd(4);
}

static struct addr_prefix rnd_prefix(const struct cert_info *near)
{
	struct addr_prefix p;
	int max;

	/* Sometimes exactly a prefix the other holds already. */
	if (near && near->n_routes && rnd(4) == 0)
		return near->routes[rnd((uint32_t)near->n_routes)];
	memset(&p, 0, sizeof(p));
	if (rnd(3)) {
		p.family = AF_INET;
		rnd_v4(p.addr);
		if (near && rnd(3) == 0)
			memcpy(p.addr, near->v4, 4);
		max = 32;
		p.plen = (uint8_t)(rnd(2) ? 20 + rnd(13) : rnd(33));
	} else {
		p.family = AF_INET6;
		p.addr[0] = 0xfd;
		p.addr[1] = (uint8_t)rnd(4);
		if (near && rnd(2))
			memcpy(p.addr, near->v6, 16);
		max = 128;
		p.plen = (uint8_t)(rnd(2) ? 100 + rnd(29) : rnd(129));
	}
	/* clear host bits */
	for (int i = p.plen; i < max; i++)
		p.addr[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
	return p;
}

static struct cert_info rnd_cert(int idx)
{
	static const char *const domains[] = { "example.com", "example.org", "example.net" };
	char id[64];
	struct cert_info ci;

	snprintf(id, sizeof(id), "n%d@%s", idx, domains[rnd(3)]);
	memset(&ci, 0, sizeof(ci));
	snprintf(ci.identity, sizeof(ci.identity), "%s", id);
	rnd_v4(ci.v4);
	addr_overlay_v6(id, ci.v6);
	if (rnd(8) == 0)
		ci.v6[1] = (uint8_t)rnd(4);	/* nearer the random IPv6 prefixes */
	return ci;
}

static void test_differential(void)
{
	static struct cert_info peers[8];
	const struct cert_info *others[8];
	struct addr_prefix allowed[4];
	int refused = 0, mismatches = 0, seen[CLAIMS_FOREIGN_POOL + 1] = { 0 };

	setup_self();
	for (int round = 0; round < 20000; round++) {
		int n = (int)rnd(6), na = (int)rnd(5);
		struct cert_info ci;
		unsigned m;
		enum claims_verdict v;

		for (int i = 0; i < n; i++) {
			peers[i] = rnd_cert(i);
			peers[i].n_routes = (int)rnd(3);
			for (int j = 0; j < peers[i].n_routes; j++)
				peers[i].routes[j] = rnd_prefix(NULL);
			others[i] = &peers[i];
		}
		for (int i = 0; i < na; i++)
			allowed[i] = rnd_prefix(NULL);
		ci = rnd_cert(rnd(2) && n ? (int)rnd((uint32_t)n) : 100);
		ci.n_routes = (int)rnd(4);
		for (int j = 0; j < ci.n_routes; j++)
			ci.routes[j] = rnd_prefix(n ? &peers[rnd((uint32_t)n)] : NULL);
		m = naive(allowed, na, others, n, &ci);
		v = check(allowed, na, others, n, &ci);
		if ((v == CLAIMS_OK) != (m == 0) || (v != CLAIMS_OK && !(m & (1u << v)))) {
			if (mismatches++ < 5)
				H_FAIL("round %d: verdict %d, naive mask 0x%x (%s)", round, v, m, why);
		}
		refused += v != CLAIMS_OK;
		seen[v]++;
		if (v != CLAIMS_OK)
			CHECK(why[0] != 0);
	}
	/* Every verdict was reached, acceptance often. */
	for (int v = CLAIMS_OK; v <= CLAIMS_FOREIGN_POOL; v++) {
		printf("# differential: verdict %d %d times\n", v, seen[v]);
		CHECK(seen[v] > 50);
	}
	CHECK(refused < 16000);
}

int main(void)
{
	RUN(test_addresses);
	RUN(test_inside_routes);
	RUN(test_overlay_ranges);
	RUN(test_covers);
	RUN(test_foreign_pool);
	RUN(test_foreign_grants);
	RUN(test_other_routes);
	RUN(test_allowed_from_config);
	RUN(test_differential);
	return HARNESS_END();
}
