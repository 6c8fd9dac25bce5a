/*
 * The messages between the authority's engine and its CA process
 * (tund/authority/ca.c), one per SOCK_SEQPACKET datagram. The CA holds the
 * domain's key and trusts nothing the engine says, so every message has a
 * fixed shape: a type byte, then fields in a fixed order, each variable
 * field with a 16-bit big-endian length and its own cap, and nothing left
 * over. Decoding is pure (bytes in, struct out) and refuses anything that
 * is not exactly one well-formed message; encoding refuses what decoding
 * would, so a message that was sent always decodes.
 *
 *   START_OK     CA -> engine, first message: the CA is ready
 *   START_FAIL   CA -> engine, first message: text; then the CA exits
 *   GET_SERVING  engine -> CA: (nothing)
 *   SERVING      CA -> engine: CA cert, serving key, serving cert (DER)
 *   SIGN         engine -> CA: id, identity, CSR, v4, days, subnets
 *   CERT         CA -> engine: id, certificate (DER)
 *   ERROR        CA -> engine: id, text (why the CA refused)
 *
 * Layout (u16/u32 big-endian, "n:" a u16 length before the bytes):
 *   START_OK, GET_SERVING   type
 *   START_FAIL              type n:text
 *   SERVING                 type n:ca n:key n:cert
 *   SIGN                    type u32 id n:identity n:csr v4[4] u16 days
 *                           u8 count, count * (u8 family 4|6, u8 plen,
 *                           16 address bytes, unused ones zero)
 *   CERT                    type u32 id n:cert
 *   ERROR                   type u32 id n:text
 */
#ifndef Q2Q_CAMSG_H
#define Q2Q_CAMSG_H

#include <stddef.h>
#include <stdint.h>

#include "identity/addr.h"
#include "identity/cert.h"
#include "identity/name.h"

#define CAMSG_MAX 65536		/* bytes in one message, all fields */
#define CAMSG_TEXT_MAX 512	/* printable ASCII, 1..512 bytes */
#define CAMSG_KEY_MAX 256	/* a P-256 private key in DER is ~121 */
#define CAMSG_DAYS_MAX 3650

enum camsg_type {
	CAMSG_START_OK = 1,
	CAMSG_START_FAIL,
	CAMSG_GET_SERVING,
	CAMSG_SERVING,
	CAMSG_SIGN,
	CAMSG_CERT,
	CAMSG_ERROR,
};

struct camsg {
	int type;			/* enum camsg_type */
	uint32_t id;			/* SIGN, and the CERT or ERROR answering it */
	char text[CAMSG_TEXT_MAX + 1];	/* START_FAIL, ERROR */
	char identity[ID_NAME_MAX + 1];	/* SIGN (not validated as a name here) */
	/* DER blobs: on decode they point into the decoded buffer. */
	const uint8_t *ca, *key, *cert, *csr;
	size_t ca_len, key_len, cert_len, csr_len;
	uint8_t v4[4];			/* SIGN */
	int days;			/* SIGN, 1..CAMSG_DAYS_MAX */
	int n_subnets;			/* SIGN, 0..CERT_MAX_ROUTES */
	struct addr_prefix subnets[CERT_MAX_ROUTES];
};

/*
 * Decodes exactly one message of len bytes into *out (zeroed first).
 * 0, or -EBADMSG for anything malformed: an unknown type, a wrong length,
 * a field beyond its cap, text that is not printable ASCII, a bad prefix.
 */
int camsg_decode(const uint8_t *buf, size_t len, struct camsg *out);
/*
 * Encodes *m into buf (cap bytes; CAMSG_MAX always suffices). Returns the
 * length, -EMSGSIZE if it does not fit, or -EINVAL for a message that
 * camsg_decode would refuse.
 */
int camsg_encode(const struct camsg *m, uint8_t *buf, size_t cap);

/* Replaces every byte that is not printable ASCII by '?' and cuts s to
 * CAMSG_TEXT_MAX bytes, so that any text can go into a message. */
void camsg_text_clean(char *s);

#endif
