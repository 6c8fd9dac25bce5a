/*
 * TCP receive coalescing ("GRO") for packets written to a TUN opened with
 * IFF_VNET_HDR and TUNSETOFFLOAD(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6): the
 * in-order TCP segments of one flow in a batch of decrypted packets become
 * one super-packet of up to 64 KiB, so the kernel is entered once per run of
 * segments instead of once per segment. The mirror of netstack/tso.h. Every
 * write starts with a 10-byte virtio_net_hdr in little-endian byte order (the
 * TUN default on the little-endian machines we run on; a big-endian host
 * would need TUNSETVNETLE). Pure: no allocation, no I/O, no state kept
 * between calls.
 */
#ifndef Q2Q_NETSTACK_GRO_H
#define Q2Q_NETSTACK_GRO_H

#include <stddef.h>
#include <stdint.h>

#define GRO_VNET_HDR_LEN	10
/* At most this many segments go into one super-packet. */
#define GRO_MAX_SEGS		64
/* Flows that can be open (still growing) at the same time within a batch. */
#define GRO_MAX_FLOWS		16

/* One decrypted IP packet; the memory stays the caller's. */
struct gro_pkt {
	const uint8_t *data;
	size_t len;
};

/* One write() to the TUN: buf[off .. off + len), vnet header included. */
struct gro_out {
	size_t off;
	size_t len;
};

/*
 * Coalesce the n packets of in[] into buf (cap bytes, caller-owned, must not
 * overlap the input) and describe the resulting writes in out[] (room for
 * max_out). Returns the number of writes, -ENOSPC if buf or out is too
 * small (then nothing in buf or out is meaningful), or -EINVAL for a
 * negative n or NULL pointers where data is needed. Merging only saves
 * space, so max_out = n and cap = n * GRO_VNET_HDR_LEN + the sum of the
 * input lengths always suffice. Cost: the TCP checksum of every merge
 * candidate is verified (one read of the data) before the one copy.
 *
 * A merged write carries VIRTIO_NET_HDR_F_NEEDS_CSUM, GSO_TCPV4/GSO_TCPV6,
 * gso_size = the payload size of its first segment, hdr_len = IP + TCP
 * header length, csum_start = IP header length, csum_offset = 16; its IP and
 * TCP headers are those of the first segment with the lengths (and IPv4
 * header checksum) rewritten, PSH taken from the last segment, and the TCP
 * checksum field holding the folded, uncomplemented pseudo-header sum. Any
 * other write is one input packet, byte for byte, after an all-zero vnet
 * header.
 *
 * Only segments the kernel would have accepted one by one are merged, and
 * only when merging cannot change what the receiving socket sees: IPv4
 * without options or fragmentation, or IPv6 without extension headers; a
 * valid TCP checksum; ACK (PSH allowed on the last segment only) and no
 * other flag; equal addresses, ports, ack, window, options and IP
 * TOS/TTL/DF or traffic class/flow label/hop limit; contiguous sequence
 * numbers; equal payload sizes except a shorter last one. Within a flow the
 * writes keep the order of the input; between flows they are ordered by the
 * position of each write's first packet.
 */
int gro_coalesce(const struct gro_pkt *in, int n, uint8_t *buf, size_t cap,
		 struct gro_out *out, int max_out);

#endif
