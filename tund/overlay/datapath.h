/*
 * The data path (datapath.c): the part of receiving DATA that needs no
 * socket, for the receive loop and for unit tests. Opening a datagram
 * checks, in this order, the receiver index, the replay window, the age
 * of the keys and the AEAD tag, and only then records the counter, tells
 * the peer's timers and lets the packet move the peer's endpoint.
 */
#ifndef Q2Q_DATAPATH_H
#define Q2Q_DATAPATH_H

#include <stddef.h>
#include <stdint.h>

struct ep;
struct peer_table;
struct session;
struct timers_cfg;

/* One DATA datagram b (len bytes) from `from`, decrypted in place: the
 * plaintext is at b + WIRE_DATA_HDR_LEN. Returns its length (0: a
 * keepalive) with *out the session it came in, or -EINVAL (malformed),
 * -ENOENT (unknown index), -EALREADY (replayed, or an index that is no
 * session), -EKEYEXPIRED (keys too old) or -EBADMSG (forged or damaged);
 * on an error, no peer or session changes. */
int datapath_receive(struct peer_table *t, const struct timers_cfg *tc, uint8_t *b, size_t len,
    const struct ep *from, uint64_t now, struct session **out);

#endif
