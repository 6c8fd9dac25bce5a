/*
 * Encoding and decoding of the names protocol (nss/wire.h). Messages are
 * read with a cursor and a remaining length, every length checked before
 * the bytes it covers; anything unexpected is refused with the reason, as
 * no reply reaches a program without passing here.
 *
 *   request: version(1) op(1) len(2, big-endian) payload(len)
 *            RESOLVE payload: the identity, no NUL
 *            WHOIS payload: 4 (IPv4) or 16 (IPv6) address bytes
 *   reply:   version(1) op(1) status(1) n_addr(1) name_len(2) name
 *            then n_addr times: family(1: 4 or 6) address(4 or 16)
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "nss/wire.h"

struct cursor {
	const uint8_t *p;
	size_t left;
};

__attribute__((format(printf, 3, 4)))
static int wire_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EBADMSG;
}

static int cur_take(struct cursor *c, void *dst, size_t n)
{
	if (c->left < n)
		return -1;
	memcpy(dst, c->p, n);
	c->p += n;
	c->left -= n;
	return 0;
}

static int cur_u8(struct cursor *c, unsigned *v)
{
	uint8_t b;

	if (cur_take(c, &b, 1) < 0)
		return -1;
	*v = b;
	return 0;
}

static int cur_u16(struct cursor *c, unsigned *v)
{
	uint8_t b[2];

	if (cur_take(c, b, 2) < 0)
		return -1;
	*v = (unsigned)b[0] << 8 | b[1];
	return 0;
}

int names_addr_is_overlay(int family, const uint8_t *a)
{
	if (family == AF_INET)
		return a[0] == 100 && (a[1] & 0xc0) == 64;
	if (family == AF_INET6)
		return a[0] == 0xfd;
	return 0;
}

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

size_t names_req_encode(const struct names_req *r, uint8_t *buf, size_t len)
{
	size_t n;

	if (len < NAMES_MSG_MAX)
		return 0;
	buf[0] = NAMES_VERSION;
	buf[1] = (uint8_t)r->op;
	if (r->op == NAMES_OP_RESOLVE) {
		n = strnlen(r->name, sizeof(r->name));
		if (n == 0 || n > ID_NAME_MAX)
			return 0;
		memcpy(buf + 4, r->name, n);
	} else if (r->op == NAMES_OP_WHOIS) {
		n = addr_len(r->addr.family);
		if (!n)
			return 0;
		memcpy(buf + 4, r->addr.a, n);
	} else {
		return 0;
	}
	buf[2] = (uint8_t)(n >> 8);
	buf[3] = (uint8_t)n;
	return 4 + n;
}

int names_req_decode(const uint8_t *buf, size_t len, struct names_req *out,
    char *err, size_t errlen)
{
	struct cursor c = { buf, len };
	unsigned ver, op, n;
	char why[160];

	memset(out, 0, sizeof(*out));
	if (cur_u8(&c, &ver) < 0 || cur_u8(&c, &op) < 0 || cur_u16(&c, &n) < 0)
		return wire_err(err, errlen, "request of %zu bytes is shorter than its 4-byte header", len);
	if (ver != NAMES_VERSION)
		return wire_err(err, errlen, "request has version %u, expected %d", ver, NAMES_VERSION);
	if (n != c.left)
		return wire_err(err, errlen, "request says %u payload bytes but carries %zu", n, c.left);
	out->op = (int)op;
	switch (op) {
	case NAMES_OP_RESOLVE:
		if (n == 0 || n > ID_NAME_MAX)
			return wire_err(err, errlen, "resolve request has a %u-byte name (1..%d allowed)",
			    n, ID_NAME_MAX);
		memcpy(out->name, c.p, n);
		out->name[n] = '\0';
		if (strlen(out->name) != n)
			return wire_err(err, errlen, "resolve request has a NUL inside its name");
		if (id_parse_user(out->name, NULL, why, sizeof(why)) < 0)
			return wire_err(err, errlen, "resolve request: %s", why);
		return 0;
	case NAMES_OP_WHOIS:
		if (n != 4 && n != 16)
			return wire_err(err, errlen, "whois request has a %u-byte address (4 or 16 expected)", n);
		out->addr.family = n == 4 ? AF_INET : AF_INET6;
		memcpy(out->addr.a, c.p, n);
		if (!names_addr_is_overlay(out->addr.family, out->addr.a))
			return wire_err(err, errlen, "whois request for an address outside "
			    "100.64.0.0/10 and fd00::/8");
		return 0;
	default:
		return wire_err(err, errlen, "request has unknown operation %u (1 resolve, 2 whois)", op);
	}
}

size_t names_reply_encode(const struct names_reply *r, uint8_t *buf, size_t len)
{
	size_t n, off, al;
	int i;

	if (len < NAMES_MSG_MAX || r->n_addr < 0 || r->n_addr > NAMES_ADDR_MAX)
		return 0;
	if (r->status < NAMES_OK || r->status > NAMES_UNAVAIL)
		return 0;
	n = r->status == NAMES_OK ? strnlen(r->name, sizeof(r->name)) : 0;
	if (n > ID_NAME_MAX || (r->status != NAMES_OK && r->n_addr))
		return 0;
	buf[0] = NAMES_VERSION;
	buf[1] = (uint8_t)r->op;
	buf[2] = (uint8_t)r->status;
	buf[3] = (uint8_t)r->n_addr;
	buf[4] = (uint8_t)(n >> 8);
	buf[5] = (uint8_t)n;
	memcpy(buf + 6, r->name, n);
	off = 6 + n;
	for (i = 0; i < r->n_addr; i++) {
		al = addr_len(r->addr[i].family);
		if (!al)
			return 0;
		buf[off++] = al == 4 ? 4 : 6;
		memcpy(buf + off, r->addr[i].a, al);
		off += al;
	}
	return off;
}

/* The reply's addresses: known families, overlay ranges, one per family. */
static int reply_addrs(struct cursor *c, struct names_reply *out, char *err, size_t errlen)
{
	int i, j;

	for (i = 0; i < out->n_addr; i++) {
		struct names_addr *a = &out->addr[i];
		unsigned fam;

		if (cur_u8(c, &fam) < 0)
			return wire_err(err, errlen, "reply ends before address %d of %d", i + 1, out->n_addr);
		if (fam != 4 && fam != 6)
			return wire_err(err, errlen, "reply address %d has family %u (4 or 6 expected)", i + 1, fam);
		a->family = fam == 4 ? AF_INET : AF_INET6;
		if (cur_take(c, a->a, addr_len(a->family)) < 0)
			return wire_err(err, errlen, "reply ends inside address %d", i + 1);
		if (!names_addr_is_overlay(a->family, a->a))
			return wire_err(err, errlen, "reply address %d is outside 100.64.0.0/10 and fd00::/8", i + 1);
		for (j = 0; j < i; j++)
			if (out->addr[j].family == a->family)
				return wire_err(err, errlen, "reply has two addresses of one family");
	}
	return 0;
}

int names_reply_decode(const uint8_t *buf, size_t len, const struct names_req *req,
    struct names_reply *out, char *err, size_t errlen)
{
	struct cursor c = { buf, len };
	unsigned ver, op, st, na, n;
	char why[160];
	int i, rc;

	memset(out, 0, sizeof(*out));
	if (cur_u8(&c, &ver) < 0 || cur_u8(&c, &op) < 0 || cur_u8(&c, &st) < 0 ||
	    cur_u8(&c, &na) < 0 || cur_u16(&c, &n) < 0)
		return wire_err(err, errlen, "reply of %zu bytes is shorter than its 6-byte header", len);
	if (ver != NAMES_VERSION)
		return wire_err(err, errlen, "reply has version %u, expected %d", ver, NAMES_VERSION);
	if ((int)op != req->op)
		return wire_err(err, errlen, "reply is for operation %u, asked %d", op, req->op);
	if (st > NAMES_UNAVAIL)
		return wire_err(err, errlen, "reply has unknown status %u", st);
	if (na > NAMES_ADDR_MAX)
		return wire_err(err, errlen, "reply has %u addresses (at most %d)", na, NAMES_ADDR_MAX);
	if (st != NAMES_OK && (na || n))
		return wire_err(err, errlen, "reply of status %u carries a name or addresses", st);
	if (n > ID_NAME_MAX || n > c.left)
		return wire_err(err, errlen, "reply says its name has %u bytes, %zu are left", n, c.left);
	out->op = (int)op;
	out->status = (int)st;
	out->n_addr = (int)na;
	memcpy(out->name, c.p, n);
	out->name[n] = '\0';
	c.p += n;
	c.left -= n;
	if ((rc = reply_addrs(&c, out, err, errlen)) < 0)
		return rc;
	if (c.left)
		return wire_err(err, errlen, "reply has %zu bytes after its last address", c.left);
	if (st != NAMES_OK)
		return 0;
	if (strlen(out->name) != n || id_parse_user(out->name, NULL, why, sizeof(why)) < 0)
		return wire_err(err, errlen, "reply names an invalid identity");
	if (na == 0)
		return wire_err(err, errlen, "reply for %s has no address", out->name);
	if (req->op == NAMES_OP_RESOLVE && strcmp(out->name, req->name) != 0)
		return wire_err(err, errlen, "reply is for %s, asked %s", out->name, req->name);
	if (req->op == NAMES_OP_WHOIS) {
		for (i = 0; i < out->n_addr; i++)
			if (out->addr[i].family == req->addr.family &&
			    memcmp(out->addr[i].a, req->addr.a, addr_len(req->addr.family)) == 0)
				return 0;
		return wire_err(err, errlen, "whois reply for %s does not hold the address asked", out->name);
	}
	return 0;
}
