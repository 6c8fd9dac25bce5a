/*
 * Load generator for an authority (bench/README.md, scale figures): NODES
 * nodes in this one process, each with its own key and a certificate this
 * program signs with the domain's CA key (read from the authority's CA
 * directory, so the bench needs root), each on its own TLS 1.3 connection
 * made with the daemon's own tund/link/tlsconn.c and speaking the
 * authority protocol with netstack/msg.c. Every node registers; then, for
 * SECONDS, every node keeps DEPTH lookups of random other nodes
 * outstanding, and answers the BROKER requests the authority sends it
 * with BROKER_OK, as a daemon whose policy admits everyone does. A lookup
 * is done when its PEER arrives: the time from LOOKUP to PEER is broker
 * latency (the authority asks the callee and waits for its answer).
 * Prints registrations, lookups answered per second and the latency's
 * median, 90th and 99th percentile. Figures, not a test.
 *
 *   scale_authority ADDR:PORT CA_DIR NODES SECONDS [FIRST [DEPTH]]
 *
 * FIRST numbers the identities (bench<FIRST+i>@domain) so several
 * generators can run at once, each from its own source address (the
 * authority admits 256 connections per address). With SCALE_GO set to a
 * path, a generator whose nodes have registered waits for that file to
 * exist before it starts looking up, so many generators measure the same
 * seconds (bench/authority-scale.sh makes it once all have registered);
 * with SCALE_LAT set, it writes every latency sample (ms, one a line)
 * to that file, for percentiles over all generators. SCALE_ACTIVE=N lets
 * only its first N nodes look up (the others still answer BROKER): with
 * every node keeping DEPTH lookups outstanding the latency is mostly
 * queueing (DEPTH x NODES in flight over the rate), so a light load shows
 * what one lookup costs among many registered nodes.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "identity/addr.h"
#include "identity/cert.h"
#include "identity/key.h"
#include "netstack/msg.h"
#include "netstack/udp.h"
#include "tund/base/loop.h"
#include "tund/link/proto.h"
#include "tund/link/tlsconn.h"

#define LAT_MAX (1 << 20)

struct gen_node {
	char id[ID_NAME_MAX + 1];
	WOLFSSL_CTX *ctx;
	struct tlsconn *conn;
	int registered;
	int retries;
	uint32_t next_lookup;
	uint64_t sent_ms[64];	/* by lookup id % 64 */
};

static struct gen_node *nodes;
static int n_nodes, depth = 4, n_registered, n_closed, n_lost, running;
static uint64_t n_peer, n_error, n_broker;
static uint32_t *lat;	/* broker latency samples, ms */
static size_t n_lat;
static struct loop *lp;
static struct sockaddr_in6 auth_addr;
/* The authority lets 16 connections of one address, and 256 in all, wait
 * unauthenticated, and evicts the oldest beyond that: connect a few at a
 * time (SCALE_CONNECTING, default 8; many generators share the 256), the
 * next as one registers, and try a node whose handshake was cut again. */
#define CONNECTING_MAX 8
#define RETRIES_MAX 5
static int n_connected, connecting_max = CONNECTING_MAX;

static void connect_next(void);
static const struct tlsconn_ops gen_ops;

static void die(const char *what, const char *why)
{
	fprintf(stderr, "scale_authority: %s%s%s\n", what, why && why[0] ? ": " : "", why ? why : "");
	exit(1);
}

static void send_frame(struct gen_node *g, struct msg_writer *w)
{
	int len = msg_finish(w);

	if (len < 0 || tlsconn_send(g->conn, w->buf, (size_t)len) < 0)
		die("send", g->id);
}

static void lookup_next(struct gen_node *g)
{
	uint8_t buf[256];
	struct msg_writer w;
	int t = rand() % n_nodes;

	if (&nodes[t] == g)
		t = (t + 1) % n_nodes;
	g->next_lookup++;
	g->sent_ms[g->next_lookup % 64] = loop_now_ms();
	msg_begin(&w, buf, sizeof(buf), MSG_LOOKUP);
	msg_put_u32(&w, T_LOOKUP_ID, g->next_lookup);
	msg_put_str(&w, T_IDENTITY, nodes[t].id);
	send_frame(g, &w);
}

static void gen_open(struct tlsconn *c, void *arg)
{
	struct gen_node *g = arg;
	uint8_t buf[64];
	struct msg_writer w;

	msg_begin(&w, buf, sizeof(buf), MSG_REGISTER);
	msg_put_u32(&w, T_PORT, 8789);
	send_frame(g, &w);
}

static void gen_msg(struct tlsconn *c, void *arg, const uint8_t *frame, size_t len)
{
	struct gen_node *g = arg;
	struct msg_reader r;
	struct msg_writer w;
	uint8_t type, buf[64];
	uint32_t id = 0;

	if (msg_open(&r, frame, len, &type) < 0)
		die("a frame that does not parse from the authority to", g->id);
	switch (type) {
	case MSG_REGISTERED:
		if (!g->registered++) {
			n_registered++;
			connect_next();
		}
		break;
	case MSG_BROKER:
		/* Someone wants us: yes. */
		n_broker++;
		if (msg_get_u32(&r, T_LOOKUP_ID, &id) < 0)
			die("BROKER without a lookup id to", g->id);
		msg_begin(&w, buf, sizeof(buf), MSG_BROKER_OK);
		msg_put_u32(&w, T_LOOKUP_ID, id);
		send_frame(g, &w);
		break;
	case MSG_PEER:
	case MSG_ERROR:
		if (msg_get_u32(&r, T_LOOKUP_ID, &id) < 0 || !running)
			break;
		if (type == MSG_PEER) {
			n_peer++;
			if (n_lat < LAT_MAX)
				lat[n_lat++] = (uint32_t)(loop_now_ms() - g->sent_ms[id % 64]);
		} else {
			n_error++;
		}
		lookup_next(g);
		break;
	default:
		break;
	}
}

static void gen_close(struct tlsconn *c, void *arg, const char *why)
{
	struct gen_node *g = arg;

	if (n_closed++ < 5)
		fprintf(stderr, "scale_authority: %s: connection closed: %s\n", g->id, why);
	g->conn = NULL;
	if (g->registered)
		return;
	if (g->retries++ < RETRIES_MAX && tlsconn_connect(lp, g->ctx, &auth_addr, &gen_ops, g, &g->conn) == 0)
		return;
	n_lost++;
	connect_next();
}

static const struct tlsconn_ops gen_ops = { .on_open = gen_open, .on_msg = gen_msg, .on_close = gen_close };

static void node_make(struct gen_node *g, struct id_key *ca, const uint8_t *ca_der, size_t ca_len,
    const char *domain, int num)
{
	struct cert_info want = { .has_v4 = 1, .has_v6 = 1 };
	uint8_t *csr, *key, *cert;
	size_t csr_len, key_len, cert_len;
	uint32_t v4 = 0x64400000u + 0x100000u + (uint32_t)num;	/* 100.80.0.0 on */
	struct id_key *k;
	char err[256] = "";

	snprintf(g->id, sizeof(g->id), "bench%d@%.200s", num, domain);
	memcpy(want.identity, g->id, sizeof(want.identity));
	want.v4[0] = (uint8_t)(v4 >> 24);
	want.v4[1] = (uint8_t)(v4 >> 16);
	want.v4[2] = (uint8_t)(v4 >> 8);
	want.v4[3] = (uint8_t)v4;
	addr_overlay_v6(g->id, want.v6);
	want.not_before = (int64_t)time(NULL) - 60;
	want.not_after = want.not_before + 86400;
	if (key_generate(&k) || key_der(k, &key, &key_len) || cert_csr_make(k, g->id, &csr, &csr_len))
		die("key or CSR", g->id);
	if (cert_issue(ca, ca_der, ca_len, csr, csr_len, &want, &cert, &cert_len, err, sizeof(err)))
		die("certificate", err);
	g->ctx = wolfSSL_CTX_new(wolfTLSv1_3_client_method());
	if (!g->ctx)
		die("TLS context", g->id);
	/* The figures are the authority's; whom we talk to is the script's. */
	wolfSSL_CTX_set_verify(g->ctx, WOLFSSL_VERIFY_NONE, NULL);
	if (wolfSSL_CTX_use_certificate_buffer(g->ctx, cert, (long)cert_len, WOLFSSL_FILETYPE_ASN1) !=
	    WOLFSSL_SUCCESS ||
	    wolfSSL_CTX_use_PrivateKey_buffer(g->ctx, key, (long)key_len, WOLFSSL_FILETYPE_ASN1) !=
	    WOLFSSL_SUCCESS)
		die("TLS context certificate", g->id);
	free(csr);
	free(cert);
	free(key);
	key_free(k);
}

static void connect_next(void)
{
	struct gen_node *g;

	if (n_connected >= n_nodes)
		return;
	g = &nodes[n_connected++];
	if (tlsconn_connect(lp, g->ctx, &auth_addr, &gen_ops, g, &g->conn) < 0)
		die("connect", g->id);
}

/* The run's phases, driven by one timer (loop_stop ends loop_run for
 * good): registering, a second to fill the pipes, the measured SECONDS. */
enum { PH_REGISTER, PH_WARM, PH_MEASURE };
static int phase, secs, reported;
static const char *go_path;
static uint64_t phase_t0, reg_t0, peers0, measured_ms;
static struct loop_timer tick;

static void start_lookups(void)
{
	const char *act = getenv("SCALE_ACTIVE");
	int active = act ? atoi(act) : n_nodes;

	for (int i = 0; i < n_nodes && i < active; i++)
		if (nodes[i].registered && nodes[i].conn)
			for (int k = 0; k < depth; k++)
				lookup_next(&nodes[i]);
}

/* A node pings every 15 s, as a daemon's link does: the authority closes
 * a link silent for 60 s, and registering 10,000 takes a while. */
static void ping_all(uint64_t now)
{
	static uint64_t last;
	uint8_t buf[16];
	struct msg_writer w;

	if (now - last < 15000)
		return;
	last = now;
	for (int i = 0; i < n_nodes; i++) {
		if (!nodes[i].registered || !nodes[i].conn)
			continue;
		msg_begin(&w, buf, sizeof(buf), MSG_PING);
		send_frame(&nodes[i], &w);
	}
}

static void on_tick(struct loop_timer *t)
{
	uint64_t now = loop_now_ms();

	ping_all(now);

	switch (phase) {
	case PH_REGISTER:
		if (!reported && n_registered + n_lost < n_nodes && now - reg_t0 < 120000)
			break;
		if (!reported++) {
			printf("registered: %d of %d in %.1f s (%d connections closed, %d nodes given up)\n",
			    n_registered, n_nodes, (now - reg_t0) / 1e3, n_closed, n_lost);
			fflush(stdout);
		}
		if (n_registered < 2) {
			fprintf(stderr, "scale_authority: too few nodes registered to look each other up\n");
			loop_stop(lp);
			return;
		}
		if (go_path && access(go_path, F_OK) != 0)
			break;
		running = 1;
		start_lookups();
		phase = PH_WARM;
		phase_t0 = now;
		break;
	case PH_WARM:
		if (now - phase_t0 < 1000)
			break;
		peers0 = n_peer;
		n_lat = 0;
		phase = PH_MEASURE;
		phase_t0 = now;
		break;
	default:
		if (now - phase_t0 < (uint64_t)secs * 1000)
			break;
		measured_ms = now - phase_t0;
		running = 0;
		loop_stop(lp);
		return;
	}
	loop_timer_arm(lp, t, now + 20);
}

static void write_samples(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		die("cannot write the latency samples to", path);
	for (size_t i = 0; i < n_lat; i++)
		fprintf(f, "%u\n", lat[i]);
	fclose(f);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	struct cert_info cai;
	struct id_key *ca;
	uint8_t *ca_der = NULL;
	size_t ca_len = 0;
	char path[4096], err[256] = "";
	int first;
	FILE *f;

	if (argc < 5 || udp_addr_parse(argv[1], &auth_addr) < 0 || (n_nodes = atoi(argv[3])) <= 0 ||
	    (secs = atoi(argv[4])) <= 0) {
		fprintf(stderr, "usage: scale_authority ADDR:PORT CA_DIR NODES SECONDS [FIRST [DEPTH]]\n");
		return 2;
	}
	first = argc > 5 ? atoi(argv[5]) : 0;
	go_path = getenv("SCALE_GO");
	wolfSSL_Init();
	/* A connection the authority closed must not end the generator. */
	signal(SIGPIPE, SIG_IGN);
	depth = argc > 6 ? atoi(argv[6]) : 4;
	if (depth < 1 || depth > 16)
		die("DEPTH", "1..16 (the authority keeps at most 16 introductions per caller)");
	snprintf(path, sizeof(path), "%s/ca.key", argv[2]);
	if (key_load(path, &ca) < 0)
		die("cannot load the CA key", path);
	snprintf(path, sizeof(path), "%s/ca.der", argv[2]);
	f = fopen(path, "rb");
	ca_der = malloc(65536);
	if (!f || !ca_der || (ca_len = fread(ca_der, 1, 65536, f)) == 0)
		die("cannot read the CA certificate", path);
	fclose(f);
	if (cert_parse(ca_der, ca_len, &cai, err, sizeof(err)) < 0)
		die("CA certificate", err);
	nodes = calloc((size_t)n_nodes, sizeof(*nodes));
	lat = malloc(sizeof(*lat) * LAT_MAX);
	if (!nodes || !lat || loop_init(&lp) < 0)
		die("out of memory", NULL);
	srand((unsigned)first + 1);
	for (int i = 0; i < n_nodes; i++)
		node_make(&nodes[i], ca, ca_der, ca_len, cai.identity, first + i);
	reg_t0 = loop_now_ms();
	if (getenv("SCALE_CONNECTING"))
		connecting_max = atoi(getenv("SCALE_CONNECTING"));
	for (int i = 0; i < connecting_max; i++)
		connect_next();
	tick.fn = on_tick;
	loop_timer_arm(lp, &tick, reg_t0 + 20);
	loop_run(lp);
	if (!measured_ms)
		return 1;
	qsort(lat, n_lat, sizeof(*lat), cmp_u32);
	if (getenv("SCALE_LAT"))
		write_samples(getenv("SCALE_LAT"));
	printf("lookups answered with PEER: %.0f/s over %.1f s (%d nodes, %d outstanding each; "
	    "%llu errors, %llu BROKER answered)\n", (double)(n_peer - peers0) * 1e3 / (double)measured_ms,
	    measured_ms / 1e3, n_registered, depth, (unsigned long long)n_error,
	    (unsigned long long)n_broker);
	if (n_lat)
		printf("broker latency, LOOKUP to PEER: median %u ms, p90 %u ms, p99 %u ms, max %u ms\n",
		    lat[n_lat / 2], lat[n_lat * 9 / 10], lat[n_lat * 99 / 100], lat[n_lat - 1]);
	for (int i = 0; i < n_nodes; i++) {
		if (nodes[i].conn)
			tlsconn_free(nodes[i].conn);
		wolfSSL_CTX_free(nodes[i].ctx);
	}
	loop_free(lp);
	key_free(ca);
	free(ca_der);
	free(nodes);
	free(lat);
	return 0;
}
