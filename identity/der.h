/*
 * A minimal DER writer and reader for the few ASN.1 structures identity/
 * builds and parses (X.509 certificates, PKCS#10 requests, subjectAltName).
 * The writer appends into a caller-supplied buffer and latches the first
 * error, so a builder can emit a whole structure and check once at the end.
 * The reader is a cursor over (pointer, remaining length) that checks every
 * length against what is left before touching a byte, and accepts only DER:
 * single-byte tags, definite minimal lengths.
 * Internal to identity/; nothing here allocates.
 */
#ifndef Q2Q_IDENTITY_DER_H
#define Q2Q_IDENTITY_DER_H

#include <stddef.h>
#include <stdint.h>

enum {
	DER_BOOLEAN = 0x01,
	DER_INTEGER = 0x02,
	DER_BIT_STRING = 0x03,
	DER_OCTET_STRING = 0x04,
	DER_NULL = 0x05,
	DER_OID = 0x06,
	DER_UTF8 = 0x0c,
	DER_PRINTABLE = 0x13,
	DER_IA5 = 0x16,
	DER_UTCTIME = 0x17,
	DER_GENTIME = 0x18,
	DER_SEQUENCE = 0x30,
	DER_SET = 0x31,
	DER_CTX = 0x80,         /* context-specific class bit */
	DER_CONSTRUCTED = 0x20,
};

struct der_w {
	uint8_t *buf;
	size_t cap;
	size_t len;
	int err;                /* first error (-ENOSPC, -EOVERFLOW), sticky */
};

void der_w_init(struct der_w *w, uint8_t *buf, size_t cap);
/* Appends tag, length and n bytes of data. */
void der_put(struct der_w *w, uint8_t tag, const void *data, size_t n);
/* Appends raw, already encoded bytes. */
void der_raw(struct der_w *w, const void *data, size_t n);
/* Opens a constructed element; returns a mark for der_end. */
size_t der_begin(struct der_w *w, uint8_t tag);
/* Closes the element opened at mark, fixing its length. */
void der_end(struct der_w *w, size_t mark);

struct der_r {
	const uint8_t *p;
	size_t left;
};

static inline void der_r_init(struct der_r *r, const uint8_t *p, size_t n)
{
	r->p = p;
	r->left = n;
}

/* Tag of the next element, or -1 at the end. */
int der_peek(const struct der_r *r);
/*
 * Reads the next element, which must carry tag; *val becomes a cursor over
 * its contents. If tlv is not NULL, it gets the whole encoded element.
 * Returns 0, or -EBADMSG on a wrong tag, bad length or truncation.
 */
int der_get(struct der_r *r, uint8_t tag, struct der_r *val,
	    const uint8_t **tlv, size_t *tlv_len);
/* Like der_get for whatever tag comes next; the tag goes to *tag. */
int der_get_any(struct der_r *r, uint8_t *tag, struct der_r *val,
		const uint8_t **tlv, size_t *tlv_len);

#endif
