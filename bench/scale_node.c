/*
 * Scale figures for one node (bench/README.md): what each peer costs in
 * memory, and what a routing-table lookup costs, with PEERS (default
 * 10,000) peers in the daemon's own structures. Each peer is what an
 * established peer holds in q2qd: its entry in the peer table (with the
 * certificate's bindings), a current and a previous session (two AEAD
 * contexts each from libcrypto, replay windows, receiver indexes) and its
 * /32 and /128 in the routing table. Memory is read from the allocator
 * (mallinfo2: bytes in use, so nothing freed or cached counts) and from
 * the process's RSS; times are this thread's CPU time. Also: what adding
 * one more peer costs once PEERS are there, and finding a peer by
 * identity (peer_find, which a lookup answer or a handshake does), and
 * whether a HELLO's source is an address a peer has (peer_table_expects,
 * asked for every HELLO with a valid mac1). Figures, not a
 * test: it prints them and exits 0 (1 if a lookup found the wrong peer).
 *
 *   bench/scale_node [PEERS [LOOKUPS]]
 */
#include <arpa/inet.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "identity/addr.h"
#include "netstack/aead.h"
#include "routing/table.h"
#include "tund/overlay/peer.h"

static size_t heap_used(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

static long rss_kib(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* CPU time of this thread: on a shared machine, wall time would count
 * the other programs' turns. */
static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Peer i's overlay IPv4: 100.64.0.0/10 from 100.64.0.1 on. */
static void peer_v4(int i, uint8_t v4[4])
{
	uint32_t a = 0x64400000u + 1 + (uint32_t)i;

	v4[0] = (uint8_t)(a >> 24);
	v4[1] = (uint8_t)(a >> 16);
	v4[2] = (uint8_t)(a >> 8);
	v4[3] = (uint8_t)a;
}

static struct session *session_make(struct peer_table *t, struct peer *p)
{
	struct session *s = calloc(1, sizeof(*s));
	uint8_t key[AEAD_KEY_LEN];

	if (!s)
		return NULL;
	for (size_t k = 0; k < sizeof(key); k++)
		key[k] = (uint8_t)rand();
	s->peer = p;
	s->local_index = peer_new_index(t);
	s->remote_index = (uint32_t)rand() | 1;
	replay_init(&s->replay);
	if (aead_new(AEAD_CHACHA20_POLY1305, key, &s->send_aead) < 0 ||
	    aead_new(AEAD_CHACHA20_POLY1305, key, &s->recv_aead) < 0 ||
	    peer_index_add(t, s->local_index, IDX_SESSION, s) < 0) {
		fprintf(stderr, "scale_node: cannot make a session\n");
		exit(1);
	}
	return s;
}

static void peer_make(struct peer_table *t, struct route_table *rt, int i)
{
	char id[64];
	struct peer *p;

	snprintf(id, sizeof(id), "node%05d@example.com", i);
	p = peer_add(t, id);
	if (!p) {
		fprintf(stderr, "scale_node: peer_add %s failed\n", id);
		exit(1);
	}
	p->have_cert = 1;
	snprintf(p->ci.identity, sizeof(p->ci.identity), "%s", id);
	p->ci.has_v4 = p->ci.has_v6 = 1;
	peer_v4(i, p->ci.v4);
	addr_overlay_v6(id, p->ci.v6);
	p->n_eps = 2;
	p->eps[0].sin6_family = p->eps[1].sin6_family = AF_INET6;
	peer_session_install(t, p, session_make(t, p));
	peer_session_install(t, p, session_make(t, p));
	if (route_table_insert(rt, AF_INET, p->ci.v4, 32, p) < 0 ||
	    route_table_insert(rt, AF_INET6, p->ci.v6, 128, p) < 0) {
		fprintf(stderr, "scale_node: route_table_insert failed\n");
		exit(1);
	}
}

/* ns per turn of a timed loop, or the end of the bench if any of its
 * answers was wrong (a bench that measures wrong answers is no bench). */
static double ns_each(double t0, double t1, long count, long miss, const char *what)
{
	if (miss) {
		fprintf(stderr, "scale_node: %ld %s\n", miss, what);
		exit(1);
	}
	return (t1 - t0) * 1e9 / (double)count;
}

/* ns per lookup of random peers' addresses of one family, and a check
 * that each found its peer (a bench that measures wrong answers is no
 * bench). */
static double lookups(struct route_table *rt, struct peer_table *t, int n, long count, int family)
{
	uint8_t (*addr)[16] = calloc((size_t)n, 16);
	struct peer **want = calloc((size_t)n, sizeof(*want));
	volatile void *sink = NULL;
	double t0, t1;
	long miss = 0;

	if (!addr || !want)
		exit(1);
	for (int i = 0; i < n; i++) {
		char id[64];

		snprintf(id, sizeof(id), "node%05d@example.com", i);
		want[i] = peer_find(t, id);
		if (family == AF_INET)
			peer_v4(i, addr[i]);
		else
			addr_overlay_v6(id, addr[i]);
	}
	t0 = now_s();
	for (long k = 0; k < count; k++) {
		int i = (int)((k * 7919) % n);
		void *got = route_table_lookup(rt, family, addr[i]);

		miss += got != want[i];
		sink = got;
	}
	t1 = now_s();
	(void)sink;
	free(addr);
	free(want);
	return ns_each(t0, t1, count, miss, "lookups found the wrong peer");
}

/* ns per peer_find of a peer's identity among n, each checked. */
static double finds(struct peer_table *t, int n, long count)
{
	char (*ids)[32] = calloc((size_t)n, 32);
	struct peer **want = calloc((size_t)n, sizeof(*want));
	long miss = 0;
	double t0, t1;

	if (!ids || !want)
		exit(1);
	for (int i = 0; i < n; i++) {
		snprintf(ids[i], sizeof(ids[i]), "node%05d@example.com", i);
		want[i] = peer_find(t, ids[i]);
		miss += !want[i];
	}
	t0 = now_s();
	for (long k = 0; k < count; k++) {
		int i = (int)((k * 7919) % n);

		miss += peer_find(t, ids[i]) != want[i];
	}
	t1 = now_s();
	free(ids);
	free(want);
	return ns_each(t0, t1, count, miss, "finds missed their peer");
}

/*
 * ns per peer_table_expects of an address no peer has (a spoofed HELLO's,
 * the flood case), once every peer has an endpoint and a candidate; and
 * the first call after a change, which rebuilds the address set.
 */
static double expects(struct peer_table *t, long count, double *first_us)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6 };
	long hits = 0, k = 0;
	double t0, t1;

	for (struct peer *p = peer_first(t); p; p = p->next, k++) {
		struct sockaddr_in6 c = sa;

		p->ep.sa = sa;
		p->ep.sa.sin6_addr.s6_addr[0] = 0x20;
		memcpy(&p->ep.sa.sin6_addr.s6_addr[8], &k, sizeof(k));
		p->have_ep = 1;
		c.sin6_addr.s6_addr[0] = 0x21;
		memcpy(&c.sin6_addr.s6_addr[8], &k, sizeof(k));
		peer_merge_eps(p, &c, 1);
	}
	peer_eps_changed();
	sa.sin6_addr.s6_addr[0] = 0x30;
	t0 = now_s();
	hits += peer_table_expects(t, &sa);
	t1 = now_s();
	*first_us = (t1 - t0) * 1e6;
	t0 = now_s();
	for (long i = 0; i < count; i++) {
		memcpy(&sa.sin6_addr.s6_addr[8], &i, sizeof(i));
		hits += peer_table_expects(t, &sa);
	}
	t1 = now_s();
	return ns_each(t0, t1, count, hits, "strangers were expected");
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 10000;
	long count = argc > 2 ? atol(argv[2]) : 10000000;
	struct peer_table *t;
	struct route_table *rt;
	size_t h0, h1;
	long r0, r1;
	double t0, t1;

	if (n <= 0 || n > 1000000 || count <= 0) {
		fprintf(stderr, "usage: scale_node [PEERS (1..1000000) [LOOKUPS]]\n");
		return 2;
	}
	srand(1);
	if (aead_init() < 0 || peer_table_init(&t) < 0 || route_table_init(&rt) < 0) {
		fprintf(stderr, "scale_node: cannot initialise\n");
		return 1;
	}
	/* One peer first, so libcrypto's one-time tables are not counted
	 * as the first peer's. */
	peer_make(t, rt, n);
	h0 = heap_used();
	r0 = rss_kib();
	t0 = now_s();
	for (int i = 0; i < n; i++)
		peer_make(t, rt, i);
	t1 = now_s();
	h1 = heap_used();
	r1 = rss_kib();
	printf("peers: %d, each with 2 sessions (4 AEAD contexts), a /32 and a /128\n", n);
	printf("memory per peer (heap in use): %.0f bytes (%.2f KiB)\n", (double)(h1 - h0) / n,
	    (double)(h1 - h0) / n / 1024);
	printf("memory per peer (RSS): %.0f bytes (%.2f KiB)\n", (double)(r1 - r0) * 1024 / n,
	    (double)(r1 - r0) / n);
	printf("  of which struct peer %zu, struct session %zu x 2, routes %zu prefixes in all\n",
	    sizeof(struct peer), sizeof(struct session), route_table_count(rt));
	printf("time to add a peer: %.2f us (mean over all %d)\n", (t1 - t0) * 1e6 / n, n);
	t0 = now_s();
	for (int i = n + 1; i <= n + 100; i++)
		peer_make(t, rt, i);
	t1 = now_s();
	printf("time to add a peer at %d peers: %.2f us (mean of the next 100)\n", n,
	    (t1 - t0) * 1e6 / 100);
	printf("peer_find by identity among %d peers: %.1f ns\n", n + 101,
	    finds(t, n, count / 10 > 0 ? count / 10 : 1));
	printf("routing lookup, IPv4 /32 among %zu prefixes: %.1f ns\n", route_table_count(rt),
	    lookups(rt, t, n, count, AF_INET));
	printf("routing lookup, IPv6 /128 among %zu prefixes: %.1f ns\n", route_table_count(rt),
	    lookups(rt, t, n, count, AF_INET6));
	{
		double first, each = expects(t, count / 100 > 0 ? count / 100 : 1, &first);

		printf("expected-address check (a HELLO's source) among %d peers with an endpoint "
		    "and a candidate each: %.1f ns; the first after a change %.0f us\n",
		    n + 101, each, first);
	}
	route_table_free(rt);
	peer_table_free(t);
	return 0;
}
