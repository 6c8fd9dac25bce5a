/*
 * TUN offload support: turning what the kernel hands a TUN opened with
 * IFF_VNET_HDR and TUNSETOFFLOAD(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) back
 * into ordinary, fully checksummed IP packets the data path can encrypt one
 * by one. Every read then starts with a 10-byte virtio_net_hdr
 * (TUNSETVNETHDRSZ left at its default 10). Its fields are parsed as
 * little-endian, which is what the kernel uses on little-endian hosts (x86,
 * arm64); a big-endian host must ask for it with TUNSETVNETLE.
 * Pure functions: no allocation, no I/O, no state.
 */
#ifndef Q2Q_NETSTACK_TSO_H
#define Q2Q_NETSTACK_TSO_H

#include <stddef.h>
#include <stdint.h>

#define TSO_VNET_HDR_LEN 10

/*
 * Split one packet read from the TUN fd (vnet_hdr = its first
 * TSO_VNET_HDR_LEN bytes, pkt/len = the IP packet after it) into ready-to-send
 * IP packets. Packet i is written at out + i * seg_stride, its length in
 * seg_len[i]; returns the number of packets (>= 1), or
 *   -EINVAL      malformed or inconsistent input: unknown header flags, a
 *                TCP gso_type on a packet that is not TCP of that IP
 *                version, bad IP/TCP lengths, IP fragments, SYN or RST on a
 *                packet that would need cutting, checksum offsets outside
 *                the packet;
 *   -ENOSPC      seg_stride or max_segs too small for the result;
 *   -EOPNOTSUPP  a gso_type we never enable (UDP, USO, unknown), or an IPv6
 *                routing header in a TCP super-packet.
 * Nothing is promised about out on error.
 *
 * A GSO_TCPV4/GSO_TCPV6 super-packet is cut into segments of gso_size payload
 * bytes (the last may be shorter): IP and TCP headers (options included) are
 * copied to each, IPv4 total length, id (+1 per segment) and header checksum,
 * or the IPv6 payload length, are rewritten; the TCP sequence number advances
 * by the payload offset; FIN and PSH stay only on the last segment, CWR only
 * on the first; the TCP checksum is computed in full. Header lengths come from
 * the packet itself, never from hdr_len (the kernel fills it with the linear
 * part's length, which can include payload).
 *
 * A non-GSO packet is copied as is, except that with NEEDS_CSUM the checksum
 * at csum_start + csum_offset (holding the pseudo-header sum) is completed
 * over csum_start..len, as the kernel's skb_checksum_help does; a result of 0
 * is sent as 0xffff (required for UDP, equivalent for TCP).
 *
 * pkt and out must not overlap; seg_len has room for max_segs entries.
 */
int tso_split(const uint8_t *vnet_hdr, const uint8_t *pkt, size_t len,
	      uint8_t *out, size_t seg_stride, size_t max_segs, size_t *seg_len);

/*
 * Lowers the gso_size of a TCP super-packet (vnet_hdr, then pkt/len) so
 * each segment tso_split makes is at most max_pkt bytes of IP packet: the
 * data path cuts to fit a path MTU it learned that is below q2q0's MTU.
 * 1 if lowered, 0 if left alone (not TCP GSO, already small enough, or
 * max_pkt would leave less than TSO_MSS_MIN of payload). Never reads
 * outside pkt; tso_split still checks the packet.
 */
#define TSO_MSS_MIN	536
int tso_cap_mss(uint8_t vnet_hdr[TSO_VNET_HDR_LEN], const uint8_t *pkt, size_t len, size_t max_pkt);

/* Fill the header to prefix to a packet written to the TUN: no GSO, no
 * checksum work asked of the kernel (all zero). */
void tso_hdr_none(uint8_t hdr[TSO_VNET_HDR_LEN]);

#endif
