/*
 * Control-plane frames (format in msg.h). msg_open walks the TLVs once with
 * a cursor and a remaining length, so later lookups may trust the
 * boundaries; lookups walk again (messages are small and have few fields).
 */
#include <errno.h>
#include <string.h>

#include "netstack/bytes.h"
#include "netstack/msg.h"

#define TLV_HDR	4

void msg_begin(struct msg_writer *w, uint8_t *buf, size_t cap, uint8_t type)
{
	w->buf = buf;
	w->cap = cap;
	w->len = 0;
	w->err = 0;
	if (!buf || cap < MSG_HDR_LEN) {
		w->err = -ENOSPC;
		return;
	}
	memset(buf, 0, 4);
	buf[4] = type;
	w->len = MSG_HDR_LEN;
}

void msg_put_bytes(struct msg_writer *w, uint16_t tag, const void *p,
		   size_t n)
{
	if (w->err)
		return;
	if (n > UINT16_MAX || (!p && n) || w->cap - w->len < TLV_HDR + n ||
	    w->len + TLV_HDR + n > MSG_FRAME_MAX) {
		w->err = -ENOSPC;
		return;
	}
	be16_put(w->buf + w->len, tag);
	be16_put(w->buf + w->len + 2, (uint16_t)n);
	if (n)
		memcpy(w->buf + w->len + TLV_HDR, p, n);
	w->len += TLV_HDR + n;
}

void msg_put_str(struct msg_writer *w, uint16_t tag, const char *s)
{
	if (!s) {
		w->err = -ENOSPC;
		return;
	}
	msg_put_bytes(w, tag, s, strlen(s));
}

void msg_put_u32(struct msg_writer *w, uint16_t tag, uint32_t v)
{
	uint8_t b[4];

	be32_put(b, v);
	msg_put_bytes(w, tag, b, sizeof(b));
}

void msg_put_u64(struct msg_writer *w, uint16_t tag, uint64_t v)
{
	uint8_t b[8];

	be32_put(b, (uint32_t)(v >> 32));
	be32_put(b + 4, (uint32_t)v);
	msg_put_bytes(w, tag, b, sizeof(b));
}

int msg_finish(struct msg_writer *w)
{
	if (w->err)
		return w->err;
	be32_put(w->buf, (uint32_t)(w->len - 4));
	return (int)w->len;
}

int msg_frame_len(const uint8_t *buf, size_t avail)
{
	uint32_t n;

	if (avail < 4)
		return 0;
	n = be32_get(buf);
	if (n == 0 || n > MSG_MAX_LEN)
		return -EMSGSIZE;
	if (avail < 4 + (size_t)n)
		return 0;
	return (int)(4 + n);
}

int msg_open(struct msg_reader *r, const uint8_t *frame, size_t len,
	     uint8_t *type)
{
	const uint8_t *p;
	size_t left;

	r->body = NULL;
	r->len = 0;
	if (!frame || len < MSG_HDR_LEN || len > MSG_FRAME_MAX ||
	    be32_get(frame) != len - 4)
		return -EINVAL;
	p = frame + MSG_HDR_LEN;
	left = len - MSG_HDR_LEN;
	while (left) {
		size_t n;

		if (left < TLV_HDR)
			return -EINVAL;
		n = be16_get(p + 2);
		if (left - TLV_HDR < n)
			return -EINVAL;
		p += TLV_HDR + n;
		left -= TLV_HDR + n;
	}
	*type = frame[4];
	r->body = frame + MSG_HDR_LEN;
	r->len = len - MSG_HDR_LEN;
	return 0;
}

int msg_next(const struct msg_reader *r, uint16_t tag, size_t *iter,
	     const uint8_t **p, size_t *n)
{
	size_t off = *iter;

	/* msg_open checked the boundaries; re-check anyway, it is cheap. */
	while (off < r->len && r->len - off >= TLV_HDR) {
		uint16_t t = be16_get(r->body + off);
		size_t l = be16_get(r->body + off + 2);

		if (r->len - off - TLV_HDR < l)
			break;
		if (t == tag) {
			*p = r->body + off + TLV_HDR;
			*n = l;
			*iter = off + TLV_HDR + l;
			return 0;
		}
		off += TLV_HDR + l;
	}
	*iter = r->len;
	return -ENOENT;
}

int msg_get(const struct msg_reader *r, uint16_t tag, const uint8_t **p,
	    size_t *n)
{
	size_t iter = 0;

	return msg_next(r, tag, &iter, p, n);
}

int msg_get_str(const struct msg_reader *r, uint16_t tag, char *buf,
		size_t cap)
{
	const uint8_t *p;
	size_t n;
	int ret = msg_get(r, tag, &p, &n);

	if (ret < 0)
		return ret;
	if (memchr(p, 0, n))
		return -EINVAL;
	if (cap == 0 || n > cap - 1)
		return -ENAMETOOLONG;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return 0;
}

int msg_get_text(const struct msg_reader *r, uint16_t tag, char *buf,
		 size_t cap)
{
	int ret = msg_get_str(r, tag, buf, cap);

	for (char *c = buf; ret == 0 && *c; c++)
		if (*c < 0x20 || *c > 0x7e)
			*c = '?';
	return ret;
}

int msg_get_u32(const struct msg_reader *r, uint16_t tag, uint32_t *v)
{
	const uint8_t *p;
	size_t n;
	int ret = msg_get(r, tag, &p, &n);

	if (ret < 0)
		return ret;
	if (n != 4)
		return -EINVAL;
	*v = be32_get(p);
	return 0;
}

int msg_get_u64(const struct msg_reader *r, uint16_t tag, uint64_t *v)
{
	const uint8_t *p;
	size_t n;
	int ret = msg_get(r, tag, &p, &n);

	if (ret < 0)
		return ret;
	if (n != 8)
		return -EINVAL;
	*v = (uint64_t)be32_get(p) << 32 | be32_get(p + 4);
	return 0;
}
