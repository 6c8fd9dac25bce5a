/*
 * Proof that the kernel accepts what netstack/gro.c writes. Needs root: the
 * process moves itself into a fresh network namespace, opens a TUN with
 * IFF_VNET_HDR and TSO offloads, and plays a remote TCP peer by hand: it
 * writes a SYN, reads the SYN-ACK, completes the handshake, then sends
 * ~100 KB as 1228-byte (IPv6: 1208-byte) segments, coalesced by
 * gro_coalesce and written with one write() per result, honouring the
 * window the kernel advertises. A real TCP socket on the other side must
 * read exactly those bytes in order. If the kernel refuses a write or the
 * data does not arrive, the test says what the kernel did (errno, the Tcp
 * and interface counters) instead of passing.
 *
 *   [ this test: "peer" 100.64.0.2 / fd00:67::2 ]
 *        | write(vnet hdr + super-packet)   ^ read(vnet hdr + ACK)
 *        v                                 |
 *   q2qgro0 (100.64.0.1/24, fd00:67::1/64, mtu 1280) -- kernel TCP
 *        --> listening socket --> accept() --> recv()
 *
 * A second part checks the CHECKSUM_PARTIAL contract, which local delivery
 * never exercises (the kernel trusts a partial checksum): super-packets for
 * 198.51.100.2 / fd00:68::2 are forwarded by the kernel to a second TUN
 * without offloads, so the kernel must cut them up and finish every TCP
 * checksum from the pseudo-header sum we left; the test reads the segments
 * back and verifies each checksum, sequence number and payload.
 *
 *   peer --write--> q2qgro0 --forward--> q2qgro1 (198.51.100.1/24,
 *                   (vnet, TSO)          fd00:68::1/64, no offloads) --read--> check
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "tests/unit/harness.h"
#include "netstack/gro.h"
#include "routing/netlink.h"
#include "tests/unit/testnet.h"

#define TUN_NAME	"q2qgro0"
#define DATA_LEN	(100 * 1024)
#define PEER_PORT	40000
#define BATCH		64

static int tunfd = -1;

static const uint8_t local4[4] = { 100, 64, 0, 1 }, peer4[4] = { 100, 64, 0, 2 };
static const uint8_t local6[16] = { 0xfd, 0, 0, 0x67, [15] = 1 };
static const uint8_t peer6[16] = { 0xfd, 0, 0, 0x67, [15] = 2 };
/* Behind the second TUN, for the forwarding test. */
static const uint8_t far4[4] = { 198, 51, 100, 2 }, near4[4] = { 198, 51, 100, 1 };
static const uint8_t far6[16] = { 0xfd, 0, 0, 0x68, [15] = 2 };
static const uint8_t near6[16] = { 0xfd, 0, 0, 0x68, [15] = 1 };
static int fwdfd = -1;

/* The remote end of the connection, as this test plays it. */
struct peer {
	int v6;
	uint16_t lport;		/* the listening socket's port */
	uint32_t iss;		/* our initial sequence number */
	uint32_t irs;		/* the kernel's */
	uint32_t una;		/* highest ack from the kernel */
	uint32_t wnd;		/* its advertised window */
	uint16_t id;
	const uint8_t *dst;	/* NULL: the local address */
};

/* A complete IP/TCP packet from the peer into p; returns its length. */
static size_t mkpkt(struct peer *pr, uint8_t *p, uint32_t seq, uint32_t ack,
		    uint8_t flags, const uint8_t *opt, size_t optlen,
		    const uint8_t *data, size_t len)
{
	const uint8_t *local = pr->v6 ? local6 : local4;

	return tn_tcp_build(p, &(struct tn_tcp){
		.v6 = pr->v6, .src = pr->v6 ? peer6 : peer4,
		.dst = pr->dst ? pr->dst : local,
		.sport = PEER_PORT, .dport = pr->lport, .seq = seq, .ack = ack,
		.flags = flags, .win = 65535, .ttl = 64,
		.id = pr->v6 ? 0 : pr->id++, .frag = 0x4000,
		.opt = opt, .optlen = optlen, .data = data, .len = len });
}

/* Write one packet with an all-zero vnet header. */
static int write_plain(const uint8_t *pkt, size_t len)
{
	uint8_t b[GRO_VNET_HDR_LEN + 1500] = { 0 };

	memcpy(b + GRO_VNET_HDR_LEN, pkt, len);
	return write(tunfd, b, GRO_VNET_HDR_LEN + len) == (ssize_t)(GRO_VNET_HDR_LEN + len)
	       ? 0 : -errno;
}

/*
 * Read what the kernel sends the peer for up to ms milliseconds; remember
 * the SYN-ACK's sequence number and the latest ack and window. Returns the
 * number of packets for our connection, or -errno.
 */
static int read_kernel(struct peer *pr, int ms, int *synack)
{
	static uint8_t b[GRO_VNET_HDR_LEN + 65536];
	struct pollfd pfd = { .fd = tunfd, .events = POLLIN };
	int got = 0;

	while (poll(&pfd, 1, got ? 0 : ms) > 0) {
		ssize_t r = read(tunfd, b, sizeof(b));
		const uint8_t *ip = b + GRO_VNET_HDR_LEN, *t;
		size_t len, iphl;

		if (r < 0)
			return errno == EAGAIN ? got : -errno;
		if (r < GRO_VNET_HDR_LEN + 40)
			continue;
		len = (size_t)r - GRO_VNET_HDR_LEN;
		if (!pr->v6 && ip[0] == 0x45 && ip[9] == IPPROTO_TCP &&
		    !memcmp(ip + 16, peer4, 4))
			iphl = 20;
		else if (pr->v6 && ip[0] >> 4 == 6 && ip[6] == IPPROTO_TCP &&
			 len >= 60 && !memcmp(ip + 24, peer6, 16))
			iphl = 40;
		else
			continue;	/* MLD, router solicitations, ... */
		t = ip + iphl;
		if (tn_rd16(t) != pr->lport || tn_rd16(t + 2) != PEER_PORT)
			continue;
		got++;
		if ((t[13] & 0x12) == 0x12) {
			pr->irs = tn_rd32(t + 4);
			if (synack)
				*synack = 1;
		}
		if (t[13] & 0x04) {
			fprintf(stderr, "  kernel sent RST\n");
			return -ECONNRESET;
		}
		if ((t[13] & 0x10) && (int32_t)(tn_rd32(t + 8) - pr->una) >= 0)
			pr->una = tn_rd32(t + 8);
		pr->wnd = tn_rd16(t + 14);	/* we offered no window scaling */
	}
	return got;
}

static void dump_counters(void)
{
	char line[1024];
	FILE *f = fopen("/proc/net/snmp", "r");

	if (f) {
		while (fgets(line, sizeof(line), f))
			if (!strncmp(line, "Tcp:", 4) || !strncmp(line, "Ip:", 3))
				fprintf(stderr, "  %s", line);
		fclose(f);
	}
	f = fopen("/proc/net/dev", "r");
	if (f) {
		while (fgets(line, sizeof(line), f))
			if (strstr(line, "face") || strstr(line, TUN_NAME))
				fprintf(stderr, "  %s", line);
		fclose(f);
	}
}

/* One connection: handshake by hand, then DATA_LEN bytes through GRO. */
static void stream_through(int v6, uint16_t lport, size_t seg)
{
	static uint8_t data[DATA_LEN], rx[DATA_LEN + 1];
	static uint8_t pkts[BATCH][1500], obuf[BATCH * (GRO_VNET_HDR_LEN + 1500)];
	struct gro_pkt in[BATCH];
	struct gro_out out[BATCH];
	struct peer pr = { .v6 = v6, .lport = lport, .iss = 0x7ffff000u, .id = 1 };
	uint8_t syn[80], mss[4] = { 2, 4, 0, 0 };
	struct sockaddr_storage ss = { 0 };
	socklen_t sl;
	size_t sent = 0, got = 0, len;
	int ls = -1, cs = -1, synack = 0, writes = 0, merged = 0, werr = 0, one = 1;
	double deadline;

	for (size_t i = 0; i < DATA_LEN; i++)
		data[i] = (uint8_t)(i * 131 + (i >> 9));

	ls = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK(ls >= 0);
	if (ls < 0)
		goto out;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sl = tn_sockaddr(&ss, v6, v6 ? local6 : local4, lport);
	CHECK_INT(bind(ls, (struct sockaddr *)&ss, sl), 0);
	CHECK_INT(listen(ls, 4), 0);

	/* SYN with an MSS that admits our segment size; no timestamps. */
	tn_wr16(mss + 2, (uint16_t)(1280 - (v6 ? 60 : 40)));
	len = mkpkt(&pr, syn, pr.iss, 0, 0x02, mss, 4, NULL, 0);
	CHECK_INT(write_plain(syn, len), 0);
	CHECK(read_kernel(&pr, 2000, &synack) > 0);
	CHECK(synack);
	if (!synack)
		goto out;
	pr.una = pr.iss + 1;
	len = mkpkt(&pr, syn, pr.iss + 1, pr.irs + 1, 0x10, NULL, 0, NULL, 0);
	CHECK_INT(write_plain(syn, len), 0);

	deadline = tn_now() + 10;
	while ((got < DATA_LEN || pr.una != pr.iss + 1 + DATA_LEN) && tn_now() < deadline) {
		uint32_t inflight = pr.iss + 1 + (uint32_t)sent - pr.una;
		int n = 0, nw;
		ssize_t r;

		/* As many segments as the window allows, one gro_coalesce. */
		while (n < BATCH && sent < DATA_LEN && inflight + seg <= pr.wnd) {
			size_t pl = DATA_LEN - sent < seg ? DATA_LEN - sent : seg;
			int last = n == BATCH - 1 || sent + pl == DATA_LEN ||
				   inflight + pl + seg > pr.wnd;

			in[n].data = pkts[n];
			in[n].len = mkpkt(&pr, pkts[n], pr.iss + 1 + (uint32_t)sent,
					  pr.irs + 1, last ? 0x18 : 0x10, NULL, 0,
					  data + sent, pl);
			sent += pl;
			inflight += (uint32_t)pl;
			n++;
		}
		if (n) {
			nw = gro_coalesce(in, n, obuf, sizeof(obuf), out, BATCH);
			CHECK(nw > 0);
			for (int w = 0; w < nw; w++) {
				const uint8_t *v = obuf + out[w].off;

				if (write(tunfd, v, out[w].len) != (ssize_t)out[w].len) {
					werr = errno;
					fprintf(stderr, "  write of %zu bytes (gso_type %u, gso_size %u): %s\n",
						out[w].len, v[1], v[4] | v[5] << 8, strerror(werr));
				}
				writes++;
				merged += v[1] != VIRTIO_NET_HDR_GSO_NONE;
			}
		}
		if (cs < 0) {
			cs = accept(ls, NULL, NULL);
			if (cs >= 0)
				fcntl(cs, F_SETFL, O_NONBLOCK);
		}
		while (cs >= 0 && (r = recv(cs, rx + got, sizeof(rx) - got, 0)) > 0)
			got += (size_t)r;
		/* No retransmission: anything the kernel drops is a failure. */
		if (read_kernel(&pr, n ? 0 : 50, NULL) < 0)
			break;
	}
	printf("# v%d: %d writes, %d merged, %zu bytes received\n", v6 ? 6 : 4,
	       writes, merged, got);
	CHECK_INT(werr, 0);
	CHECK(cs >= 0);
	CHECK(merged > 0);
	/* Most segments went in super-packets: far fewer writes than segments. */
	CHECK((size_t)writes * 3 < (DATA_LEN + seg - 1) / seg);
	CHECK_INT(got, DATA_LEN);
	if (got == DATA_LEN)
		CHECK_MEM(rx, data, DATA_LEN);
	CHECK_INT(pr.una, pr.iss + 1 + DATA_LEN);
	if (h_cur_failed)
		dump_counters();
out:
	if (cs >= 0)
		close(cs);
	if (ls >= 0)
		close(ls);
}

/*
 * Send nseg segments of seg bytes, coalesced, towards the far address and
 * read the kernel's software segmentation of them from the second TUN.
 */
static void forward_through(int v6, size_t seg, int nseg)
{
	static uint8_t data[64 * 1500], pkts[BATCH][1500];
	static uint8_t obuf[BATCH * (GRO_VNET_HDR_LEN + 1500)], rb[70000];
	struct gro_pkt in[BATCH];
	struct gro_out out[BATCH];
	struct peer pr = { .v6 = v6, .lport = 9000, .iss = 0xfffff800u, .id = 77,
			   .dst = v6 ? far6 : far4 };
	struct pollfd pfd = { .fd = fwdfd, .events = POLLIN };
	size_t iphl = v6 ? 40 : 20, off = 0;
	int nw, merged = 0, got = 0;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + (i >> 8) + v6);
	for (int k = 0; k < nseg; k++)
		in[k] = (struct gro_pkt){ pkts[k], mkpkt(&pr, pkts[k],
			pr.iss + (uint32_t)(k * seg), 12345, k == nseg - 1 ? 0x18 : 0x10,
			NULL, 0, data + (size_t)k * seg, seg) };
	nw = gro_coalesce(in, nseg, obuf, sizeof(obuf), out, BATCH);
	CHECK(nw > 0);
	for (int w = 0; w < nw; w++) {
		merged += obuf[out[w].off + 1] != VIRTIO_NET_HDR_GSO_NONE;
		if (write(tunfd, obuf + out[w].off, out[w].len) != (ssize_t)out[w].len)
			H_FAIL("write: %s", strerror(errno));
	}
	CHECK(merged > 0);
	while (got < nseg && poll(&pfd, 1, 2000) > 0) {
		ssize_t r = read(fwdfd, rb, sizeof(rb));
		const uint8_t *t = rb + iphl;
		size_t len = r > 0 ? (size_t)r : 0;

		if (len < iphl + 20 || (v6 ? rb[6] : rb[9]) != IPPROTO_TCP)
			continue;	/* MLD and friends */
		got++;
		if (v6) {
			CHECK_INT(tn_rd16(rb + 4), len - 40);
			CHECK_INT(rb[7], 63);
		} else {
			CHECK_INT(tn_rd16(rb + 2), len);
			CHECK_INT(rb[0], 0x45);
			CHECK(tn_ip4_ok(rb));
			CHECK_INT(rb[8], 63);
		}
		if (!tn_tcp_ok(rb, iphl, len))
			H_FAIL("segment %d: TCP checksum wrong", got - 1);
		CHECK_INT(tn_rd32(t + 4), pr.iss + (uint32_t)off);
		CHECK_INT(len - iphl - 20, seg);
		CHECK_INT(t[13], got == nseg ? 0x18 : 0x10);
		if (off + seg <= sizeof(data))
			CHECK_MEM(t + 20, data + off, seg);
		off += seg;
	}
	printf("# v%d forward: %d writes (%d merged) came out as %d segments\n",
	       v6 ? 6 : 4, nw, merged, got);
	CHECK_INT(got, nseg);
	if (h_cur_failed)
		dump_counters();
}

static void test_forward_ipv4(void)
{
	forward_through(0, 1228, 40);
}

static void test_forward_ipv6(void)
{
	forward_through(1, 1208, 40);
}

/* The second TUN: no vnet header, no offloads, so the kernel segments. */
static void test_setup_forward(void)
{
	int idx, fd;

	CHECK_INT(tn_tun_open("q2qgro1", 0, 0, &fwdfd), 0);
	if (fwdfd < 0)
		return;
	idx = nl_link_index("q2qgro1");
	CHECK(idx > 0);
	CHECK_INT(nl_link_set(idx, 1, 1280), 0);
	CHECK_INT(nl_addr_add(idx, AF_INET, near4, 24), 0);
	CHECK_INT(nl_addr_add(idx, AF_INET6, near6, 64), 0);
	/* Per-namespace sysctls: this namespace only. */
	fd = open("/proc/sys/net/ipv4/ip_forward", O_WRONLY);
	CHECK(fd >= 0 && write(fd, "1", 1) == 1);
	if (fd >= 0)
		close(fd);
	fd = open("/proc/sys/net/ipv6/conf/all/forwarding", O_WRONLY);
	CHECK(fd >= 0 && write(fd, "1", 1) == 1);
	if (fd >= 0)
		close(fd);
	if (h_cur_failed && fwdfd >= 0) {
		close(fwdfd);
		fwdfd = -1;
	}
}

static void test_setup(void)
{
	int idx;

	CHECK_INT(tn_tun_open(TUN_NAME, GRO_VNET_HDR_LEN,
			      TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6, &tunfd), 0);
	if (tunfd < 0)
		return;
	idx = nl_link_index(TUN_NAME);
	CHECK(idx > 0);
	CHECK_INT(nl_link_set(idx, 1, 1280), 0);
	CHECK_INT(nl_addr_add(idx, AF_INET, local4, 24), 0);
	CHECK_INT(nl_addr_add(idx, AF_INET6, local6, 64), 0);
	if (h_cur_failed) {
		close(tunfd);
		tunfd = -1;
	}
}

static void test_ipv4(void)
{
	stream_through(0, 8000, 1228);
}

static void test_ipv6(void)
{
	stream_through(1, 8001, 1208);
}

int main(void)
{
	int r = tn_netns_enter("TUN in a network namespace");

	if (r)
		return r == TN_SKIP ? HARNESS_END() : 1;
	RUN(test_setup);
	if (tunfd < 0)
		return HARNESS_END();
	RUN(test_ipv4);
	RUN(test_ipv6);
	RUN(test_setup_forward);
	if (fwdfd >= 0) {
		RUN(test_forward_ipv4);
		RUN(test_forward_ipv6);
		close(fwdfd);
	}
	close(tunfd);
	return HARNESS_END();
}
