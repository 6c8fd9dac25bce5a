/*
 * The path MTU towards each peer, and what the data path does with it
 * (pmtu.c): probing direct paths (plpmtu.h decides, this file sends and
 * answers), the largest inner packet a peer's path carries whole, and
 * what happens to a bigger one: split into authenticated fragments
 * (netstack/frag.h) if it is one q2q0 must carry (1280 bytes or less, or
 * IPv4 without DF), else an ICMP "too big" back into q2q0. q2q0 keeps one
 * MTU, the configured one; a narrower peer's is enforced per packet and
 * by cutting TCP to fit (PROTOCOL.md, "Path MTU").
 */
#ifndef Q2Q_PMTU_H
#define Q2Q_PMTU_H

#include <stddef.h>
#include <stdint.h>

struct overlay;
struct peer;
struct session;

/* Packets of this size or less are never refused for their size. */
#define PMTU_CARRY_MIN	1280

/* The largest plaintext one DATA message to p carries over the path p
 * uses now (never above q2q0's MTU). */
size_t pmtu_inner_max(const struct overlay *o, const struct peer *p);
/* The path MTU p's direct path has shown (outer IP packet), 0 if p is
 * on the relay or not probed yet. */
int pmtu_path_mtu(const struct peer *p);

/* Whether an inner packet from q2q0 can go to p, whole or in fragments:
 * 0, or -EMSGSIZE after answering q2q0 with ICMP "too big". Asked before
 * the packet is translated for another domain's peer (foreign.c), so the
 * error quotes it as the application sent it. */
int pmtu_admit(struct overlay *o, struct peer *p, const uint8_t *pkt, size_t len);
/* An admitted packet to p: whole or in fragments (datapath_send does the
 * rest). */
void pmtu_send(struct overlay *o, struct peer *p, const uint8_t *pkt, size_t len);

/* A q2q message in s: a probe is answered, an acknowledgement taken, a
 * fragment added. 1 with *pt / *n the whole packet a fragment completed
 * (writable, valid until the next call), 0 if the message was ours and is done
 * with, -1 if it is none of ours. */
int pmtu_rx(struct overlay *o, struct session *s, uint8_t **pt, size_t *n);

/* Probing for p, on the loop timer, once a session can send on a
 * direct path; when it next wants to run. */
void pmtu_tick(struct overlay *o, struct peer *p, uint64_t now);
uint64_t pmtu_next(struct overlay *o, struct peer *p, uint64_t next, uint64_t now);

#endif
