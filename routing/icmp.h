/*
 * Inner IP header checks and the ICMP errors the daemon writes back into
 * the TUN device when it cannot deliver a packet. Pure functions over caller
 * buffers: nothing is allocated, nothing is logged.
 */
#ifndef Q2Q_ROUTING_ICMP_H
#define Q2Q_ROUTING_ICMP_H

#include <stddef.h>
#include <stdint.h>

/* An output buffer of this size always holds any error built here. */
#define ICMP_ERROR_MAX 1280

/*
 * Validate the IP header of an inner packet: version 4 or 6, IPv4 header
 * length, total (IPv4) or payload (IPv6) length within len. Bytes after the
 * IP length are tolerated and ignored. The IPv4 header checksum is not
 * checked: packets from the TUN come from the local stack, and the receiving
 * kernel checks it anyway. On success returns 0, sets *family to
 * AF_INET or AF_INET6 and points *src and *dst into pkt (4 or 16 bytes).
 * -EINVAL for anything malformed. Any of the out pointers may be NULL.
 */
int ip_packet_addrs(const uint8_t *pkt, size_t len, int *family,
		    const uint8_t **src, const uint8_t **dst);

/*
 * Build "destination unreachable" for pkt into out: IPv4 type 3 code 1
 * (host unreachable), IPv6 type 1 code 3 (address unreachable). The error
 * comes from pkt's destination and goes to pkt's source, quoting as much of
 * pkt as RFC 1812 (576 bytes total) or RFC 4443 (1280 total) allow.
 * Returns the length written; 0 when no error may be sent (pkt is itself an
 * ICMP error, a non-first fragment, from an unspecified/multicast/broadcast
 * source, or to a multicast/broadcast destination); -EINVAL for a malformed
 * pkt; -ENOSPC if cap is too small (ICMP_ERROR_MAX always suffices).
 */
int icmp_unreachable(const uint8_t *pkt, size_t len, uint8_t *out, size_t cap);

/* The same, as "communication administratively prohibited" (IPv4 type 3
 * code 13, IPv6 type 1 code 1): a firewall refused pkt. */
int icmp_prohibited(const uint8_t *pkt, size_t len, uint8_t *out, size_t cap);

/*
 * Build "fragmentation needed" (IPv4 type 3 code 4, next-hop MTU, only when
 * pkt has DF set; 0 otherwise) or "packet too big" (IPv6 type 2) announcing
 * mtu. Same return values and suppression rules as icmp_unreachable;
 * -EINVAL also for an IPv4 mtu above 65535 or an mtu of 0.
 */
int icmp_too_big(const uint8_t *pkt, size_t len, uint32_t mtu, uint8_t *out, size_t cap);

#endif
