/*
 * DER encoding and decoding primitives for identity/. The writer reserves
 * three length bytes when a constructed element opens and slides the
 * contents down when it closes, so builders can nest without computing sizes
 * up front; elements are capped at 64 KiB, far above any certificate we make.
 * The reader refuses anything that is not canonical DER, because a second
 * encoding of the same value is a classic way to smuggle bytes past one
 * parser and into another.
 */
#include <errno.h>
#include <string.h>

#include "identity/der.h"

#define DER_RESERVE 3           /* 0x82 hi lo */

void der_w_init(struct der_w *w, uint8_t *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap;
	w->len = 0;
	w->err = 0;
}

static int der_room(struct der_w *w, size_t n)
{
	if (w->err)
		return 0;
	if (n > w->cap - w->len) {
		w->err = -ENOSPC;
		return 0;
	}
	return 1;
}

static size_t der_len_size(size_t n)
{
	if (n < 0x80)
		return 1;
	if (n <= 0xff)
		return 2;
	return 3;
}

static void der_put_len(uint8_t *p, size_t n)
{
	if (n < 0x80) {
		p[0] = (uint8_t)n;
	} else if (n <= 0xff) {
		p[0] = 0x81;
		p[1] = (uint8_t)n;
	} else {
		p[0] = 0x82;
		p[1] = (uint8_t)(n >> 8);
		p[2] = (uint8_t)n;
	}
}

void der_raw(struct der_w *w, const void *data, size_t n)
{
	if (!der_room(w, n))
		return;
	if (n)
		memcpy(w->buf + w->len, data, n);
	w->len += n;
}

void der_put(struct der_w *w, uint8_t tag, const void *data, size_t n)
{
	size_t ls;

	if (n > 0xffff) {
		if (!w->err)
			w->err = -EOVERFLOW;
		return;
	}
	ls = der_len_size(n);
	if (!der_room(w, 1 + ls + n))
		return;
	w->buf[w->len] = tag;
	der_put_len(w->buf + w->len + 1, n);
	w->len += 1 + ls;
	der_raw(w, data, n);
}

size_t der_begin(struct der_w *w, uint8_t tag)
{
	size_t mark = w->len;

	if (!der_room(w, 1 + DER_RESERVE))
		return mark;
	w->buf[w->len] = tag;
	w->len += 1 + DER_RESERVE;
	return mark;
}

void der_end(struct der_w *w, size_t mark)
{
	size_t start = mark + 1 + DER_RESERVE, n, ls;

	if (w->err)
		return;
	n = w->len - start;
	if (n > 0xffff) {
		w->err = -EOVERFLOW;
		return;
	}
	ls = der_len_size(n);
	der_put_len(w->buf + mark + 1, n);
	if (ls < DER_RESERVE) {
		memmove(w->buf + mark + 1 + ls, w->buf + start, n);
		w->len -= DER_RESERVE - ls;
	}
}

int der_peek(const struct der_r *r)
{
	return r->left ? r->p[0] : -1;
}

int der_get_any(struct der_r *r, uint8_t *tag, struct der_r *val,
		const uint8_t **tlv, size_t *tlv_len)
{
	size_t hdr, n = 0, nb, i;

	if (r->left < 2)
		return -EBADMSG;
	/* High tag numbers (0x1f) never occur in what we parse. */
	if ((r->p[0] & 0x1f) == 0x1f)
		return -EBADMSG;
	if (r->p[1] < 0x80) {
		n = r->p[1];
		hdr = 2;
	} else {
		nb = r->p[1] & 0x7f;
		/* 0x80 is BER's indefinite form; more than 3 bytes is absurd here. */
		if (nb == 0 || nb > 3 || r->left < 2 + nb)
			return -EBADMSG;
		if (r->p[2] == 0)
			return -EBADMSG;        /* non-minimal */
		for (i = 0; i < nb; i++)
			n = (n << 8) | r->p[2 + i];
		if (n < 0x80)
			return -EBADMSG;        /* should have been short form */
		hdr = 2 + nb;
	}
	if (n > r->left - hdr)
		return -EBADMSG;
	if (tag)
		*tag = r->p[0];
	if (val)
		der_r_init(val, r->p + hdr, n);
	if (tlv)
		*tlv = r->p;
	if (tlv_len)
		*tlv_len = hdr + n;
	r->p += hdr + n;
	r->left -= hdr + n;
	return 0;
}

int der_get(struct der_r *r, uint8_t tag, struct der_r *val,
	    const uint8_t **tlv, size_t *tlv_len)
{
	if (der_peek(r) != tag)
		return -EBADMSG;
	return der_get_any(r, NULL, val, tlv, tlv_len);
}
