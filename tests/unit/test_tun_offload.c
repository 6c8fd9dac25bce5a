/*
 * netstack/tso.c against the real kernel (root; skips otherwise). In a fresh
 * network namespace a TUN is opened with IFF_VNET_HDR and TSO enabled, a TCP
 * socket connects across it, and this test plays the peer by hand: it answers
 * the SYN with a crafted SYN-ACK, ACKs whatever arrives, and checks that the
 * kernel hands over TCP super-packets larger than the MTU, that tso_split cuts
 * them into segments whose checksums (verified with testnet.h's independent
 * routine) and sequence numbers are right, and that the reassembled byte
 * stream is exactly what the socket wrote. Done for IPv4 and IPv6.
 *
 *   [ TCP socket 100.64.0.1 / fd00:7150::1 ]
 *        | write 200 KB                 ^ SYN-ACK, ACKs (zero vnet header)
 *        v                              |
 *   kernel TCP, TSO --> q2qtso0 (MTU 1280, IFF_VNET_HDR)
 *        | read: vnet header + super-packet
 *        v
 *   [ this test: tso_split, verify, reassemble, ACK as 100.64.0.2 / fd00:7150::2 ]
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "netstack/tso.h"
#include "routing/netlink.h"
#include "harness.h"
#include "testnet.h"

#define TUN_NAME	"q2qtso0"
#define MTU		1280
#define PORT		5201
#define STREAM_LEN	(200 * 1024)
#define READ_CAP	(TSO_VNET_HDR_LEN + 65535 + 40)
#define STRIDE		2048
#define MAXSEGS		64
#define PEER_ISN	0x70000000u
#define PEER_WSCALE	7

static uint8_t stream_byte(size_t i)
{
	return (uint8_t)(i * 13 + (i >> 10));
}

/* ---- the hand-played peer ---- */

struct peer {
	int ver;
	int tun;
	int sock;
	size_t iplen;			/* 20 or 40: we expect no options */
	uint8_t local[16];		/* the socket's side (kernel) */
	uint8_t remote[16];		/* ours */
	uint16_t lport;
	uint32_t rcv_base;		/* sequence number of stream byte 0 */
	uint32_t rcv_next;
	uint32_t snd_next;
	uint32_t ts_recent;		/* their last TSval, echoed back */
	int established;
	int fin_seen, fin_in_gso;
	uint8_t *stream;
	size_t got;
	/* what the kernel produced, for assertions and the report */
	int reads, gso_reads, csum_reads, plain_reads, segs, bad;
	size_t max_read, gso_size_seen;
	unsigned int hdr_len_first, hdrs_first, cs_start_first, cs_off_first,
		     flags_first, gso_type_first;
};

/* Write one TCP segment from the peer to the kernel (zero vnet header). */
static int peer_send(struct peer *p, uint8_t flags, const uint8_t *opt,
		     size_t optlen)
{
	uint8_t buf[TSO_VNET_HDR_LEN + 40 + 60];
	size_t len;

	tso_hdr_none(buf);
	len = tn_tcp_build(buf + TSO_VNET_HDR_LEN, &(struct tn_tcp){
		.v6 = p->ver == 6, .src = p->remote, .dst = p->local,
		.sport = PORT, .dport = p->lport,
		.seq = p->snd_next, .ack = p->rcv_next, .flags = flags,
		.win = 0xffff,		/* scaled by PEER_WSCALE after the SYN */
		.ttl = 64, .opt = opt, .optlen = optlen });
	if (write(p->tun, buf, TSO_VNET_HDR_LEN + len) !=
	    (ssize_t)(TSO_VNET_HDR_LEN + len))
		return -errno;
	return 0;
}

static void ts_option(const struct peer *p, uint8_t *o)
{
	o[0] = 1;
	o[1] = 1;
	o[2] = 8;
	o[3] = 10;
	tn_wr32(o + 4, (uint32_t)(tn_now() * 1000));
	tn_wr32(o + 8, p->ts_recent);
}

static int peer_synack(struct peer *p)
{
	uint8_t o[20];

	o[0] = 2; o[1] = 4;			/* MSS */
	tn_wr16(o + 2, (uint16_t)(MTU - p->iplen - 20));
	o[4] = 1; o[5] = 3; o[6] = 3; o[7] = PEER_WSCALE;
	ts_option(p, o + 8);
	return peer_send(p, 0x12, o, sizeof(o));	/* SYN|ACK */
}

static int peer_ack(struct peer *p)
{
	uint8_t o[12];

	ts_option(p, o);
	return peer_send(p, 0x10, o, sizeof(o));
}

/* Remember the kernel's TSval, to echo it (timestamps were negotiated). */
static void peer_note_ts(struct peer *p, const uint8_t *opt, size_t n)
{
	size_t i = 0;

	while (i < n && opt[i] != 0) {
		if (opt[i] == 1) {
			i++;
			continue;
		}
		if (n - i < 2 || opt[i + 1] < 2 || opt[i + 1] > n - i)
			return;
		if (opt[i] == 8 && opt[i + 1] == 10)
			p->ts_recent = tn_rd32(opt + i + 2);
		i += opt[i + 1];
	}
}

/*
 * Check one packet produced by tso_split with the independent routines and
 * feed its payload to the reassembled stream. Returns 1 if it belonged to our
 * connection.
 */
static int peer_segment(struct peer *p, const uint8_t *ip, size_t len)
{
	const uint8_t *t;
	size_t doff, plen;
	uint32_t seq;
	uint8_t fl;

	if (len < p->iplen + 20 || ip[0] >> 4 != p->ver)
		return 0;
	if (p->ver == 4) {
		if ((ip[0] & 15) != 5 || ip[9] != 6 ||
		    memcmp(ip + 12, p->local, 4) || memcmp(ip + 16, p->remote, 4))
			return 0;
		CHECK(tn_ip4_ok(ip));
		CHECK_INT(tn_rd16(ip + 2), len);
	} else {
		if (ip[6] != 6 || memcmp(ip + 8, p->local, 16) ||
		    memcmp(ip + 24, p->remote, 16))
			return 0;
		CHECK_INT(tn_rd16(ip + 4) + 40, len);
	}
	t = ip + p->iplen;
	if (tn_rd16(t + 2) != PORT)
		return 0;
	p->segs++;
	CHECK(len <= MTU);
	if (!tn_tcp_ok(ip, p->iplen, len)) {
		H_FAIL("bad TCP checksum on a %zu-byte segment", len);
		p->bad++;
	}
	doff = (size_t)(t[12] >> 4) * 4;
	CHECK(doff >= 20 && p->iplen + doff <= len);
	if (doff < 20 || p->iplen + doff > len)
		return 1;
	fl = t[13];
	seq = tn_rd32(t + 4);
	peer_note_ts(p, t + 20, doff - 20);
	if (fl & 0x02) {			/* the SYN */
		p->lport = tn_rd16(t);
		p->rcv_base = seq + 1;
		p->rcv_next = seq + 1;
		return 1;
	}
	plen = len - p->iplen - doff;
	if ((fl & 0x01) && seq == p->rcv_next && p->got + plen == STREAM_LEN) {
		memcpy(p->stream + p->got, t + doff, plen);
		p->got += plen;
		p->rcv_next += (uint32_t)plen + 1;	/* FIN takes one */
		p->fin_seen = 1;
		return 1;
	}
	if (!plen)
		return 1;
	if (seq != p->rcv_next) {
		/* A retransmission we already have is fine, a gap is not. */
		if ((int32_t)(seq - p->rcv_next) > 0) {
			H_FAIL("gap: seq %u, expected %u", seq, p->rcv_next);
			p->bad++;
		}
		return 1;
	}
	if (p->got + plen > STREAM_LEN) {
		H_FAIL("more data than was written");
		p->bad++;
		return 1;
	}
	memcpy(p->stream + p->got, t + doff, plen);
	p->got += plen;
	p->rcv_next += (uint32_t)plen;
	return 1;
}

/* One read from the TUN: split, verify, account. */
static void peer_read(struct peer *p, uint8_t *buf, uint8_t *segs,
		      size_t *seglen)
{
	ssize_t n = read(p->tun, buf, READ_CAP);
	const uint8_t *h = buf;
	size_t len, hdrs;
	int r;

	if (n < 0) {
		CHECK(errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
		return;
	}
	if (n < TSO_VNET_HDR_LEN) {
		H_FAIL("short read %zd", n);
		return;
	}
	len = (size_t)n - TSO_VNET_HDR_LEN;
	r = tso_split(h, buf + TSO_VNET_HDR_LEN, len, segs, STRIDE, MAXSEGS,
		      seglen);
	if (r < 0) {
		/* Not ours (e.g. MLD) may be refused; ours must not be. */
		if (len >= 1 && buf[TSO_VNET_HDR_LEN] >> 4 == p->ver &&
		    h[1] != 0) {
			H_FAIL("tso_split refused a GSO read: %d (flags %u type %u len %zu)",
			       r, h[0], h[1], len);
			p->bad++;
		}
		return;
	}
	p->reads++;
	if (len > p->max_read)
		p->max_read = len;
	if (h[1] != 0) {
		const uint8_t *ip = buf + TSO_VNET_HDR_LEN;

		p->gso_reads++;
		p->gso_size_seen = (size_t)(h[4] | h[5] << 8);
		CHECK_INT(h[1] & 0x7f, p->ver == 4 ? 1 : 4);
		hdrs = (ip[0] >> 4 == 4 ? (size_t)(ip[0] & 15) * 4 : 40);
		hdrs += (size_t)(ip[hdrs + 12] >> 4) * 4;
		if (p->gso_reads == 1) {
			p->hdr_len_first = (unsigned)(h[2] | h[3] << 8);
			p->hdrs_first = (unsigned)hdrs;
			p->cs_start_first = (unsigned)(h[6] | h[7] << 8);
			p->cs_off_first = (unsigned)(h[8] | h[9] << 8);
			p->flags_first = h[0];
			p->gso_type_first = h[1];
		}
	} else if (h[0] & 1) {
		p->csum_reads++;
	} else {
		p->plain_reads++;
	}
	for (int i = 0; i < r; i++) {
		const uint8_t *o = segs + (size_t)i * STRIDE;

		if (!peer_segment(p, o, seglen[i]))
			continue;
		if (h[1] == 0 || seglen[i] < p->iplen + 20)
			continue;
		/* The kernel's super-packet, cut by us: flags and sequence. */
		if (i < r - 1)
			CHECK(!(o[p->iplen + 13] & 0x09));	/* FIN, PSH */
		if (i > 0)
			CHECK(!(o[p->iplen + 13] & 0x80));	/* CWR */
		if (o[p->iplen + 13] & 0x01)
			p->fin_in_gso = 1;
		CHECK(seglen[i] - p->iplen - (size_t)(o[p->iplen + 12] >> 4) * 4 <=
		      p->gso_size_seen);
	}
}

static void run_peer(int ver)
{
	static const uint8_t l4[4] = { 100, 64, 0, 1 }, r4[4] = { 100, 64, 0, 2 };
	static const uint8_t l6[16] = { 0xfd, 0, 0x71, 0x50, [15] = 1 };
	static const uint8_t r6[16] = { 0xfd, 0, 0x71, 0x50, [15] = 2 };
	struct peer p = { .ver = ver, .tun = -1, .sock = -1 };
	struct sockaddr_storage ss = { 0 };
	uint8_t *buf = malloc(READ_CAP), *segs = malloc(STRIDE * MAXSEGS);
	uint8_t *src = malloc(STREAM_LEN);
	size_t seglen[MAXSEGS], sent = 0;
	socklen_t sl;
	double deadline;
	int ifindex, r, synack_sent = 0;

	p.stream = malloc(STREAM_LEN);
	if (!buf || !segs || !src || !p.stream) {
		H_FAIL("out of memory");
		goto out;
	}
	for (size_t i = 0; i < STREAM_LEN; i++)
		src[i] = stream_byte(i);
	p.iplen = ver == 4 ? 20 : 40;
	memcpy(p.local, ver == 4 ? l4 : l6, ver == 4 ? 4 : 16);
	memcpy(p.remote, ver == 4 ? r4 : r6, ver == 4 ? 4 : 16);
	p.snd_next = PEER_ISN;

	r = tn_tun_open(TUN_NAME, TSO_VNET_HDR_LEN,
			TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6, &p.tun);
	CHECK_INT(r, 0);
	if (r)
		goto out;
	ifindex = nl_link_index(TUN_NAME);
	CHECK(ifindex > 0);
	CHECK_INT(nl_link_set(ifindex, 1, MTU), 0);
	r = nl_addr_add(ifindex, ver == 4 ? AF_INET : AF_INET6, p.local,
			ver == 4 ? 24 : 64);
	CHECK_INT(r, 0);
	if (r)
		goto out;

	p.sock = socket(ver == 4 ? AF_INET : AF_INET6,
			SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	CHECK(p.sock >= 0);
	if (p.sock < 0)
		goto out;
	sl = tn_sockaddr(&ss, ver == 6, p.remote, PORT);
	r = connect(p.sock, (struct sockaddr *)&ss, sl);
	CHECK(r == 0 || errno == EINPROGRESS);

	deadline = tn_now() + 10;
	while (tn_now() < deadline && !p.fin_seen && !p.bad) {
		struct pollfd pf[2] = {
			{ .fd = p.tun, .events = POLLIN },
			{ .fd = p.sock, .events = POLLOUT },
		};
		uint32_t before = p.rcv_next;

		/* Only ask for POLLOUT while there is something to write. */
		if (poll(pf, p.established && sent < STREAM_LEN ? 2 : 1, 200) < 0)
			break;
		if (pf[0].revents & POLLIN) {
			for (int k = 0; k < 64; k++) {
				int before_reads = p.reads;

				peer_read(&p, buf, segs, seglen);
				if (p.reads == before_reads)
					break;
			}
		}
		if (p.lport && !synack_sent) {
			CHECK_INT(peer_synack(&p), 0);
			p.snd_next++;		/* our SYN's sequence number */
			synack_sent = 1;
			continue;
		}
		if (!p.established && synack_sent) {
			int err = 0;
			socklen_t el = sizeof(err);
			struct pollfd w = { .fd = p.sock, .events = POLLOUT };

			if (poll(&w, 1, 0) == 1 &&
			    getsockopt(p.sock, SOL_SOCKET, SO_ERROR, &err, &el) == 0 &&
			    err == 0)
				p.established = 1;
			else if (err) {
				H_FAIL("connect: %s", strerror(err));
				break;
			}
		}
		if (p.established && sent < STREAM_LEN) {
			ssize_t w = write(p.sock, src + sent, STREAM_LEN - sent);

			if (w > 0)
				sent += (size_t)w;
			else
				CHECK(errno == EAGAIN || errno == EWOULDBLOCK);
			/* The FIN may then ride on the last super-packet. */
			if (sent == STREAM_LEN)
				CHECK_INT(shutdown(p.sock, SHUT_WR), 0);
		}
		if (p.rcv_next != before)
			CHECK_INT(peer_ack(&p), 0);
	}

	printf("  IPv%d: %d reads (%d GSO, %d NEEDS_CSUM, %d plain), %d segments, "
	       "largest read %zu bytes, %zu of %d stream bytes, FIN %s\n",
	       ver, p.reads, p.gso_reads, p.csum_reads, p.plain_reads, p.segs,
	       p.max_read, p.got, STREAM_LEN,
	       !p.fin_seen ? "not seen" : p.fin_in_gso ? "on a GSO read" :
	       "on its own");
	if (p.gso_reads)
		printf("  IPv%d first GSO read: flags %u gso_type %u gso_size %zu "
		       "hdr_len %u (real IP+TCP headers %u) csum_start %u "
		       "csum_offset %u\n",
		       ver, p.flags_first, p.gso_type_first, p.gso_size_seen,
		       p.hdr_len_first, p.hdrs_first, p.cs_start_first,
		       p.cs_off_first);
	CHECK(p.established);
	CHECK(p.gso_reads > 0);
	CHECK(p.max_read > MTU);
	CHECK_INT(p.bad, 0);
	CHECK_INT(p.got, STREAM_LEN);
	CHECK(p.fin_seen);
	if (p.got == STREAM_LEN)
		CHECK_MEM(p.stream, src, STREAM_LEN);
out:
	if (p.sock >= 0)
		close(p.sock);
	if (p.tun >= 0)
		close(p.tun);		/* removes the device */
	free(p.stream);
	free(src);
	free(segs);
	free(buf);
}

static void test_tso_v4(void)
{
	run_peer(4);
}

static void test_tso_v6(void)
{
	run_peer(6);
}

int main(void)
{
	int r = tn_netns_enter("TUN with TSO in a network namespace");

	if (r)
		return r == TN_SKIP ? HARNESS_END() : 1;
	RUN(test_tso_v4);
	RUN(test_tso_v6);
	return HARNESS_END();
}
