/*
 * Encoding and strict parsing of the node-to-node datagrams described in
 * wire.h. Every read goes through a cursor that checks the remaining length
 * first, and every reserved byte is checked to be zero, so a future version
 * can give them meaning without old nodes misreading them.
 */
#include <errno.h>
#include <string.h>

#include "netstack/bytes.h"
#include "netstack/wire.h"

struct cur {
	const uint8_t *p;
	size_t left;
	int bad;	/* sticky: set by the first read past the end */
};

static const uint8_t *cur_take(struct cur *c, size_t n)
{
	const uint8_t *p;

	if (c->bad || c->left < n) {
		c->bad = 1;
		return NULL;
	}
	p = c->p;
	c->p += n;
	c->left -= n;
	return p;
}

static uint8_t cur_u8(struct cur *c)
{
	const uint8_t *p = cur_take(c, 1);

	return p ? p[0] : 0;
}

static uint32_t cur_u32(struct cur *c)
{
	const uint8_t *p = cur_take(c, 4);

	if (!p)
		return 0;
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t cur_u64(struct cur *c)
{
	uint64_t lo = cur_u32(c);
	uint64_t hi = cur_u32(c);

	return lo | hi << 32;
}

static void cur_copy(struct cur *c, uint8_t *dst, size_t n)
{
	const uint8_t *p = cur_take(c, n);

	if (p)
		memcpy(dst, p, n);
	else
		memset(dst, 0, n);
}

/* Consumes n bytes and reports whether they were all zero. */
static int cur_zeros(struct cur *c, size_t n)
{
	const uint8_t *p = cur_take(c, n);
	uint8_t acc = 0;

	if (!p)
		return 0;
	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

static int all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

int wire_type(const uint8_t *buf, size_t len)
{
	if (!buf || len == 0)
		return -EINVAL;
	if (buf[0] < WIRE_HELLO || buf[0] > WIRE_AUTH_LAST)
		return -EPROTO;
	return buf[0];
}

/* Type byte followed by three reserved zero bytes, the common prefix. */
static int cur_prefix(struct cur *c, uint8_t type)
{
	if (cur_u8(c) != type)
		return 0;
	return cur_zeros(c, 3);
}

int wire_parse_hello(const uint8_t *buf, size_t len, struct wire_hello *out)
{
	struct cur c = { buf, len, 0 };

	if (!buf || len != WIRE_HELLO_LEN)
		return -EINVAL;
	if (!cur_prefix(&c, WIRE_HELLO))
		return -EINVAL;
	out->sender_index = cur_u32(&c);
	cur_copy(&c, out->nonce, WIRE_NONCE_LEN);
	cur_copy(&c, out->mac1, WIRE_MAC_LEN);
	if (!cur_zeros(&c, WIRE_HELLO_LEN - WIRE_HELLO_MAC1_OFF - WIRE_MAC_LEN))
		return -EINVAL;
	if (c.bad || c.left != 0 || out->sender_index == 0)
		return -EINVAL;
	return 0;
}

int wire_parse_cookie(const uint8_t *buf, size_t len, struct wire_cookie *out)
{
	struct cur c = { buf, len, 0 };

	if (!buf || len != WIRE_COOKIE_MSG_LEN)
		return -EINVAL;
	if (!cur_prefix(&c, WIRE_COOKIE))
		return -EINVAL;
	out->receiver_index = cur_u32(&c);
	cur_copy(&c, out->cookie, WIRE_COOKIE_LEN);
	cur_copy(&c, out->nonce, WIRE_NONCE_LEN);
	if (c.bad || c.left != 0 || out->receiver_index == 0)
		return -EINVAL;
	return 0;
}

int wire_parse_hs(const uint8_t *buf, size_t len, struct wire_hs *out)
{
	struct cur c = { buf, len, 0 };
	int zero_auth;

	if (!buf || len < WIRE_HS_HDR_LEN)
		return -EINVAL;
	if (cur_u8(&c) != WIRE_HS)
		return -EINVAL;
	out->flags = cur_u8(&c);
	if (out->flags != 0 || !cur_zeros(&c, 2))
		return -EINVAL;
	out->sender_index = cur_u32(&c);
	out->receiver_index = cur_u32(&c);
	out->seq = cur_u32(&c);
	out->ack = cur_u32(&c);
	cur_copy(&c, out->cookie, WIRE_COOKIE_LEN);
	cur_copy(&c, out->mac1, WIRE_MAC_LEN);
	if (c.bad || out->sender_index == 0)
		return -EINVAL;
	/* Cookie and mac1 belong to the initiator's first segments only. */
	zero_auth = all_zero(out->cookie, WIRE_COOKIE_LEN) &&
		    all_zero(out->mac1, WIRE_MAC_LEN);
	if (out->receiver_index != 0 && !zero_auth)
		return -EINVAL;
	out->data = c.left ? c.p : NULL;
	out->data_len = c.left;
	if (out->seq + (uint64_t)out->data_len > UINT32_MAX)
		return -EINVAL;
	return 0;
}

int wire_parse_data(const uint8_t *buf, size_t len, struct wire_data *out)
{
	struct cur c = { buf, len, 0 };

	if (!buf || len < WIRE_DATA_MIN_LEN)
		return -EINVAL;
	if (!cur_prefix(&c, WIRE_DATA))
		return -EINVAL;
	out->receiver_index = cur_u32(&c);
	out->counter = cur_u64(&c);
	if (c.bad || out->receiver_index == 0)
		return -EINVAL;
	out->header = buf;
	out->ct = c.p;
	out->ct_len = c.left;
	return 0;
}

int wire_build_hello(const struct wire_hello *in, uint8_t *buf, size_t cap)
{
	if (cap < WIRE_HELLO_LEN)
		return -ENOSPC;
	memset(buf, 0, WIRE_HELLO_LEN);
	buf[0] = WIRE_HELLO;
	le32_put(buf + 4, in->sender_index);
	memcpy(buf + 8, in->nonce, WIRE_NONCE_LEN);
	memcpy(buf + WIRE_HELLO_MAC1_OFF, in->mac1, WIRE_MAC_LEN);
	return WIRE_HELLO_LEN;
}

int wire_build_cookie(const struct wire_cookie *in, uint8_t *buf, size_t cap)
{
	if (cap < WIRE_COOKIE_MSG_LEN)
		return -ENOSPC;
	memset(buf, 0, 4);
	buf[0] = WIRE_COOKIE;
	le32_put(buf + 4, in->receiver_index);
	memcpy(buf + 8, in->cookie, WIRE_COOKIE_LEN);
	memcpy(buf + 24, in->nonce, WIRE_NONCE_LEN);
	return WIRE_COOKIE_MSG_LEN;
}

int wire_build_hs(const struct wire_hs *in, uint8_t *buf, size_t cap)
{
	/* A UDP datagram never exceeds 64 KiB, so the int return is safe. */
	if (in->data_len > UINT16_MAX || in->data_len > cap ||
	    cap - in->data_len < WIRE_HS_HDR_LEN)
		return -ENOSPC;
	buf[0] = WIRE_HS;
	buf[1] = in->flags;
	buf[2] = 0;
	buf[3] = 0;
	le32_put(buf + 4, in->sender_index);
	le32_put(buf + 8, in->receiver_index);
	le32_put(buf + 12, in->seq);
	le32_put(buf + 16, in->ack);
	memcpy(buf + 20, in->cookie, WIRE_COOKIE_LEN);
	memcpy(buf + WIRE_HS_MAC1_OFF, in->mac1, WIRE_MAC_LEN);
	if (in->data_len)
		memmove(buf + WIRE_HS_HDR_LEN, in->data, in->data_len);
	return (int)(WIRE_HS_HDR_LEN + in->data_len);
}

int wire_build_data_header(uint32_t receiver_index, uint64_t counter,
			   uint8_t *buf, size_t cap)
{
	if (cap < WIRE_DATA_HDR_LEN)
		return -ENOSPC;
	memset(buf, 0, 4);
	buf[0] = WIRE_DATA;
	le32_put(buf + 4, receiver_index);
	le64_put(buf + 8, counter);
	return WIRE_DATA_HDR_LEN;
}
