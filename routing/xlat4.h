/*
 * 1:1 IPv4 address translation between a foreign peer's certified IPv4
 * and the node-local IPv4 this node shows its applications for it
 * (PROTOCOL.md, "IPv4 across domains"). Every domain's pool starts at the
 * same address, so carol@example.org's certified 100.64.0.1 may well be
 * this node's own; applications here see her as, say, 100.127.0.1, and
 * the wire carries only certified addresses. Pure functions over the
 * caller's packet, rewritten in place; nothing is allocated or logged.
 */
#ifndef Q2Q_ROUTING_XLAT4_H
#define Q2Q_ROUTING_XLAT4_H

#include <stddef.h>
#include <stdint.h>

/*
 * A packet from the peer (after its source was checked against the
 * certificate): a source equal to real becomes local, and in an ICMP error
 * the quoted packet's destination equal to real becomes local, so the
 * error matches the socket that sent the quoted packet.
 */
int xlat4_in(uint8_t *pkt, size_t len, const uint8_t real[4], const uint8_t local[4]);
/*
 * A packet to the peer: a destination equal to local becomes real, and in
 * an ICMP error the quoted packet's source equal to local becomes real.
 */
int xlat4_out(uint8_t *pkt, size_t len, const uint8_t real[4], const uint8_t local[4]);
/*
 * Both return 1 when something was rewritten, 0 when nothing matched (the
 * packet is left as it was) and -EINVAL for what is no well-formed IPv4
 * packet (not IPv4, a header or total length beyond len). The IPv4 header
 * checksum, the TCP and UDP checksums (their pseudo-header holds the
 * addresses; a UDP checksum of 0, "none", stays 0) and, in an ICMP error
 * (destination unreachable, source quench, redirect, time exceeded,
 * parameter problem), the quoted header's checksum, the quoted TCP or UDP
 * checksum where the quote holds it and the ICMP checksum are updated to
 * match. A non-first fragment carries no transport header: only its IP
 * header changes.
 */

#endif
