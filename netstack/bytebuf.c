/*
 * Bounded writer and reader: see bytebuf.h.
 */
#include <errno.h>
#include <string.h>

#include "netstack/bytebuf.h"
#include "netstack/bytes.h"

void bytebuf_init(struct bytebuf_w *w, uint8_t *buf, size_t cap)
{
	w->p = buf;
	w->cap = cap;
	w->len = 0;
	w->err = 0;
}

void bytebuf_put(struct bytebuf_w *w, const void *p, size_t n)
{
	if (w->err)
		return;
	if (w->cap - w->len < n) {
		w->err = -EMSGSIZE;
		return;
	}
	if (n)
		memcpy(w->p + w->len, p, n);
	w->len += n;
}

void bytebuf_u8(struct bytebuf_w *w, unsigned v)
{
	uint8_t b = (uint8_t)v;

	bytebuf_put(w, &b, 1);
}

void bytebuf_u16(struct bytebuf_w *w, unsigned v)
{
	uint8_t b[2];

	be16_put(b, (uint16_t)v);
	bytebuf_put(w, b, 2);
}

void bytebuf_u32(struct bytebuf_w *w, uint32_t v)
{
	uint8_t b[4];

	be32_put(b, v);
	bytebuf_put(w, b, 4);
}

void bytebuf_blob16(struct bytebuf_w *w, const void *p, size_t n)
{
	if (n > 0xffff) {
		if (!w->err)
			w->err = -EINVAL;
		return;
	}
	bytebuf_u16(w, (unsigned)n);
	bytebuf_put(w, p, n);
}

int bytebuf_take(struct bytebuf_r *r, size_t n, const uint8_t **out)
{
	if (r->left < n)
		return -EBADMSG;
	*out = r->p;
	r->p += n;
	r->left -= n;
	return 0;
}

int bytebuf_get_u8(struct bytebuf_r *r, uint8_t *v)
{
	const uint8_t *b;

	if (bytebuf_take(r, 1, &b))
		return -EBADMSG;
	*v = b[0];
	return 0;
}

int bytebuf_get_u16(struct bytebuf_r *r, uint16_t *v)
{
	const uint8_t *b;

	if (bytebuf_take(r, 2, &b))
		return -EBADMSG;
	*v = be16_get(b);
	return 0;
}

int bytebuf_get_u32(struct bytebuf_r *r, uint32_t *v)
{
	const uint8_t *b;

	if (bytebuf_take(r, 4, &b))
		return -EBADMSG;
	*v = be32_get(b);
	return 0;
}

int bytebuf_get_blob16(struct bytebuf_r *r, size_t max, const uint8_t **out, size_t *len)
{
	struct bytebuf_r save = *r;
	uint16_t n;

	if (bytebuf_get_u16(r, &n) || n == 0 || n > max || bytebuf_take(r, n, out)) {
		*r = save;
		return -EBADMSG;
	}
	*len = n;
	return 0;
}
