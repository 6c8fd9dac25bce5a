/*
 * A non-blocking TLS 1.3 connection over TCP carrying framed control
 * messages (netstack/msg.h) between a node and an authority. Both sides
 * use it: the authority for accepted connections, a node for its link.
 * Callbacks run from the event loop; a connection that failed or closed is
 * reported once through on_close and is then freed by the caller with
 * tlsconn_free (never from inside a callback of the same connection: mark
 * it and free it later via tlsconn_free_later).
 */
#ifndef Q2Q_TLSCONN_H
#define Q2Q_TLSCONN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>

struct loop;
struct tlsconn;
struct WOLFSSL_CTX;
struct WOLFSSL;

struct tlsconn_ops {
	void (*on_open)(struct tlsconn *c, void *arg);			/* handshake done */
	void (*on_msg)(struct tlsconn *c, void *arg, const uint8_t *frame, size_t len);
	void (*on_close)(struct tlsconn *c, void *arg, const char *why);
};

int tlsconn_connect(struct loop *l, struct WOLFSSL_CTX *ctx, const struct sockaddr_in6 *to,
    const struct tlsconn_ops *ops, void *arg, struct tlsconn **out);
int tlsconn_accept(struct loop *l, struct WOLFSSL_CTX *ctx, int fd, const struct sockaddr_in6 *from,
    const struct tlsconn_ops *ops, void *arg, struct tlsconn **out);

/* Queues one whole frame (copied). -ENOBUFS if the peer is not reading. */
int tlsconn_send(struct tlsconn *c, const uint8_t *frame, size_t len);

/* The largest frame the peer may send (default and cap: MSG_FRAME_MAX);
 * a larger one closes the connection. The receive buffer grows only as
 * far as the frames need. */
void tlsconn_set_rx_max(struct tlsconn *c, size_t max);

/* Sends what is queued, then closes (no more callbacks but on_close). */
void tlsconn_close_after_send(struct tlsconn *c);

struct WOLFSSL *tlsconn_ssl(struct tlsconn *c);
const struct sockaddr_in6 *tlsconn_peer(const struct tlsconn *c);
void tlsconn_set_arg(struct tlsconn *c, void *arg);

/* Peer certificate DER (valid while c lives); -ENOENT when none sent. */
int tlsconn_peer_cert(struct tlsconn *c, const uint8_t **der, size_t *len);
/* The idx-th certificate of the chain the peer sent (0 = its own). */
int tlsconn_peer_chain(struct tlsconn *c, int idx, const uint8_t **der, size_t *len);

void tlsconn_free(struct tlsconn *c);

/* Closes now without callbacks and frees at the end of this loop turn. */
void tlsconn_free_later(struct tlsconn *c);

#endif
