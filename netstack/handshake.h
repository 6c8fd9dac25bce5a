/*
 * The q2q handshake: TLS 1.3 with mutual certificate authentication
 * (wolfSSL), its records carried over a struct stream instead of a socket,
 * so TLS sees an ordered byte stream while the wire sees HS datagrams.
 * Nothing here touches sockets: the caller wraps what hs_poll returns in
 * HS datagrams (wire.h) and feeds received ones to hs_input.
 *
 * A hs_ctx holds our key and certificate and the CA certificates we trust
 * (one or more per domain). A peer is accepted only if its certificate
 * chains to a trusted CA *of its own domain* and passes identity/cert.h's
 * cert_verify (bindings, validity): a CA for example.com cannot vouch for
 * bob@other.org. These checks run inside the TLS verification, so an
 * initiator refuses a wrong responder before sending its own certificate.
 *
 * Keys: wolfSSL_export_keying_material(64 bytes, label
 * "EXPORTER-q2q-data-v1", context = initiator identity || 0x00 ||
 * responder identity); bytes 0..31 carry initiator -> responder, 32..63
 * responder -> initiator. After DONE the TLS session is idle.
 *
 * Confirmation: TLS 1.3 lets the client finish before the server has
 * judged the client's certificate. So the responder, once it accepted the
 * initiator, sends one application record ("q2q-ok"), and the initiator is
 * DONE only after reading it. DONE on either side thus means both sides
 * accepted each other. Flights: initiator, responder, initiator, responder
 * (2 round trips).
 *
 * Lifetimes: the responder sends the last flight. Keep calling hs_poll on
 * the responder after DONE until hs_flushed() (its stream retransmits the
 * confirmation until acked), and keep the initiator's hs answering
 * hs_input for a few seconds after DONE (its acks are what stop the
 * responder) — or simply keep both until the session is replaced. Free
 * every hs before its hs_ctx.
 * Time "now" is monotonic milliseconds; certificate validity uses the wall
 * clock. Not thread-safe per object; the ctx may be shared by one thread.
 */
#ifndef Q2Q_HANDSHAKE_H
#define Q2Q_HANDSHAKE_H

#include <stddef.h>
#include <stdint.h>

#include "identity/cert.h"
#include "identity/name.h"
#include "netstack/stream.h"

struct hs_ctx;
struct hs;

#define HS_KEY_LEN		32
#define HS_EXPORT_LABEL		"EXPORTER-q2q-data-v1"
#define HS_MAX_CAS		64

enum hs_state {
	HS_RUNNING,
	HS_DONE,
	HS_FAILED,
};

/*
 * New context for our key (SEC1 or PKCS#8 DER) and certificate (DER).
 * Calls wolfSSL_Init once per process. 0 and *out (free with hs_ctx_free),
 * or -EINVAL / -ENOMEM with a message in err.
 */
int hs_ctx_new(const uint8_t *key_der, size_t key_len,
	       const uint8_t *cert_der, size_t cert_len, struct hs_ctx **out,
	       char *err, size_t errlen);
/* Trusts a CA certificate (DER, must be a q2q CA: CN = its domain). 0
 * also when it is trusted already; -ENOSPC past HS_MAX_CAS, -EINVAL, or
 * -ENOMEM, with a message in err. */
int hs_ctx_add_ca(struct hs_ctx *c, const uint8_t *ca_der, size_t len,
		  char *err, size_t errlen);
/* Trusts no CA of domain any more (q2qctl trust forget): a peer of that
 * domain is refused from the next handshake on. How many went. */
int hs_ctx_forget_domain(struct hs_ctx *c, const char *domain);
void hs_ctx_free(struct hs_ctx *c);

/*
 * Starts a handshake. initiator = 1: TLS client, its first flight is queued
 * at once; 0: TLS server. my_identity is ours; expected_peer (initiator:
 * required; responder: NULL for anyone the CAs vouch for) must be the
 * peer's certificate identity. 0 and *out (free with hs_free) or -errno.
 */
int hs_new(struct hs_ctx *ctx, int initiator, const char *my_identity,
	   const char *expected_peer, uint64_t now, struct hs **out);
/* Wipes keys and buffers; NULL is fine. */
void hs_free(struct hs *h);
/*
 * The caller's own verdict on the peer, asked inside TLS verification once
 * the certificate passed the checks above (ci is its verified bindings):
 * nonzero refuses, with a reason in why. So a refused initiator never gets
 * the responder's confirmation, and a refused responder never gets our
 * certificate: neither side is left holding a session the other refused.
 */
void hs_set_judge(struct hs *h,
		  int (*judge)(void *arg, int initiator, const struct cert_info *ci,
			       char *why, size_t whylen),
		  void *arg);

/*
 * Feeds one received HS segment (seq, ack and the TLS bytes). Returns 0, or
 * -EINVAL for an impossible segment (ignored; the handshake goes on).
 */
int hs_input(struct hs *h, uint32_t seq, uint32_t ack, const uint8_t *data,
	     size_t len, uint64_t now);
/*
 * 1 and *seg if a segment must be sent now (call again until 0). seg->data
 * is valid until the next call on h. Also after FAILED, so that a TLS alert
 * still reaches the peer.
 */
int hs_poll(struct hs *h, uint64_t now, struct stream_seg *seg);
/* When hs_poll must next be called (0 = now, STREAM_NEVER = nothing due). */
uint64_t hs_next_deadline(const struct hs *h);
/* 1 when all our handshake bytes were acknowledged. */
int hs_flushed(const struct hs *h);

/* 1 once the peer has proven itself: as initiator, the responder's
 * certificate, signature and Finished verified (TLS done on our side);
 * as responder, DONE. Until then, whoever sent the bytes may be anyone. */
int hs_peer_proven(const struct hs *h);
/* 1 if the handshake failed because the judge refused a certificate
 * that passed every other check (for the initiator: the expected peer's).
 * Whoever sent it, the peer itself would be refused the same. */
int hs_peer_refused(const struct hs *h);
/* State; *reason (if reason is not NULL) explains HS_FAILED, else "". */
enum hs_state hs_state(const struct hs *h, const char **reason);
int hs_is_initiator(const struct hs *h);

/*
 * After HS_DONE: the peer's identity, its certificate DER (copied into
 * peer_cert_der if not NULL; *cert_len is its capacity on entry and the
 * length on return) and the data keys for our direction of sending and
 * receiving. 0, -EAGAIN before DONE, -ENOSPC if the certificate does not
 * fit.
 */
int hs_result(const struct hs *h, char peer_identity[ID_NAME_MAX + 1],
	      uint8_t *peer_cert_der, size_t *cert_len,
	      uint8_t send_key[HS_KEY_LEN], uint8_t recv_key[HS_KEY_LEN]);
/*
 * After HS_DONE: the data cipher (enum aead_cipher), the one the TLS 1.3
 * suite both sides negotiated names, so both sides agree; -EAGAIN before.
 */
int hs_data_cipher(const struct hs *h);
/*
 * Which TLS 1.3 suites c offers and accepts: AES-256-GCM first when this
 * host has AES hardware (hw_aes), else ChaCha20-Poly1305 alone. hs_ctx_new
 * sets it from aead_hw_aes(); tests set either. 0 or -EINVAL.
 */
int hs_ctx_set_hw_aes(struct hs_ctx *c, int hw_aes);
/* The data cipher a TLS 1.3 suite number names (0x1302, 0x1303), or -ENOTSUP. */
int hs_suite_cipher(int suite);
/* After HS_DONE: the peer certificate's verified bindings (addresses, routes). */
int hs_peer_info(const struct hs *h, struct cert_info *out);

#endif
