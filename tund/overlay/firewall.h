/*
 * The identity firewall in the overlay (firewall.c): the glue between the
 * pure firewall (tund/policy/fw.h) and the data path. datapath.c calls
 * firewall_rx on every decrypted packet once its source address is known
 * to be the peer's, and firewall_tx on every packet it sends to a peer;
 * overlay.c gives it the authority's MSG_POLICY and the config's rules.
 */
#ifndef Q2Q_OVERLAY_FIREWALL_H
#define Q2Q_OVERLAY_FIREWALL_H

#include <stddef.h>
#include <stdint.h>

struct fw;
struct msg_reader;
struct overlay;
struct peer;

/* At overlay_up: the firewall with the config's rules. 0 or -ENOMEM. */
int firewall_up(struct overlay *o);
void firewall_down(struct overlay *o);
/* The config was reloaded: its rules replace the local layer. */
void firewall_reload(struct overlay *o);
/* MSG_POLICY from our own authority: checked whole, then in force. */
void firewall_authority(struct overlay *o, const struct msg_reader *r);

/* 1 if p's packet may go on to q2q0; 0 if it was dropped (counted, and
 * with policy_reject answered with ICMP "administratively prohibited"). */
int firewall_rx(struct overlay *o, struct peer *p, const uint8_t *pkt, size_t len);
/* A packet we send to p opens (or keeps open) its flow. */
void firewall_tx(struct overlay *o, struct peer *p, const uint8_t *pkt, size_t len);

/* For q2qctl policy (read only; NULL while the overlay is down). */
const struct fw *firewall_state(const struct overlay *o);

#endif
