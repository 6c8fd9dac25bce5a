/*
 * Encoding and decoding of the engine <-> CA process messages (layout in
 * camsg.h). The decoder reads through a cursor that checks the remaining
 * length before every read, checks each field against its cap as it goes,
 * and insists the message ends exactly where its last field does. The
 * encoder writes the same layout and then decodes its own output, so the
 * two cannot drift apart: what is sent is what the other side accepts.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "tund/authority/camsg.h"

struct cm_r {
	const uint8_t *p;
	size_t left;
};

struct cm_w {
	uint8_t *p;
	size_t cap, len;
	int err;
};

static int cm_u8(struct cm_r *r, uint8_t *v)
{
	if (r->left < 1)
		return -EBADMSG;
	*v = r->p[0];
	r->p++;
	r->left--;
	return 0;
}

static int cm_u16(struct cm_r *r, uint16_t *v)
{
	if (r->left < 2)
		return -EBADMSG;
	*v = (uint16_t)(r->p[0] << 8 | r->p[1]);
	r->p += 2;
	r->left -= 2;
	return 0;
}

static int cm_u32(struct cm_r *r, uint32_t *v)
{
	if (r->left < 4)
		return -EBADMSG;
	*v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 |
	     (uint32_t)r->p[2] << 8 | r->p[3];
	r->p += 4;
	r->left -= 4;
	return 0;
}

static int cm_raw(struct cm_r *r, size_t n, const uint8_t **p)
{
	if (r->left < n)
		return -EBADMSG;
	*p = r->p;
	r->p += n;
	r->left -= n;
	return 0;
}

/* A length-prefixed blob of 1..max bytes. */
static int cm_blob(struct cm_r *r, size_t max, const uint8_t **p, size_t *len)
{
	uint16_t n;

	if (cm_u16(r, &n) || n == 0 || n > max || cm_raw(r, n, p))
		return -EBADMSG;
	*len = n;
	return 0;
}

static int cm_printable(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			return 0;
	return 1;
}

/* Length-prefixed printable text of 1..max bytes into s (max + 1 bytes). */
static int cm_text(struct cm_r *r, size_t max, char *s)
{
	const uint8_t *p;
	size_t n;

	if (cm_blob(r, max, &p, &n) || !cm_printable(p, n))
		return -EBADMSG;
	memcpy(s, p, n);
	s[n] = '\0';
	return 0;
}

/* family byte, plen, 16 address bytes; a v4 prefix leaves bytes 4..15 zero
 * so that one prefix has exactly one encoding. */
static int cm_prefix(struct cm_r *r, struct addr_prefix *pf)
{
	static const uint8_t zero[12];
	const uint8_t *a;
	uint8_t fam, plen;

	if (cm_u8(r, &fam) || cm_u8(r, &plen) || cm_raw(r, 16, &a))
		return -EBADMSG;
	if (fam == 4) {
		if (memcmp(a + 4, zero, sizeof(zero)) != 0)
			return -EBADMSG;
		pf->family = AF_INET;
	} else if (fam == 6) {
		pf->family = AF_INET6;
	} else {
		return -EBADMSG;
	}
	memcpy(pf->addr, a, 16);
	pf->plen = plen;
	return addr_prefix_valid(pf) ? 0 : -EBADMSG;
}

static int cm_sign(struct cm_r *r, struct camsg *m)
{
	const uint8_t *v4;
	uint16_t days;
	uint8_t count;

	if (cm_u32(r, &m->id) || cm_text(r, ID_NAME_MAX, m->identity) ||
	    cm_blob(r, CERT_DER_MAX, &m->csr, &m->csr_len) || cm_raw(r, 4, &v4) ||
	    cm_u16(r, &days) || cm_u8(r, &count))
		return -EBADMSG;
	if (days < 1 || days > CAMSG_DAYS_MAX || count > CERT_MAX_ROUTES)
		return -EBADMSG;
	memcpy(m->v4, v4, 4);
	m->days = days;
	for (int i = 0; i < count; i++)
		if (cm_prefix(r, &m->subnets[i]))
			return -EBADMSG;
	m->n_subnets = count;
	return 0;
}

int camsg_decode(const uint8_t *buf, size_t len, struct camsg *out)
{
	struct cm_r r = { buf, len };
	uint8_t type;
	int rc = -EBADMSG;

	memset(out, 0, sizeof(*out));
	if (len > CAMSG_MAX || cm_u8(&r, &type))
		goto out;
	out->type = type;
	switch (type) {
	case CAMSG_START_OK:
	case CAMSG_GET_SERVING:
		rc = 0;
		break;
	case CAMSG_START_FAIL:
		rc = cm_text(&r, CAMSG_TEXT_MAX, out->text);
		break;
	case CAMSG_SERVING:
		rc = cm_blob(&r, CERT_DER_MAX, &out->ca, &out->ca_len);
		if (!rc)
			rc = cm_blob(&r, CAMSG_KEY_MAX, &out->key, &out->key_len);
		if (!rc)
			rc = cm_blob(&r, CERT_DER_MAX, &out->cert, &out->cert_len);
		break;
	case CAMSG_SIGN:
		rc = cm_sign(&r, out);
		break;
	case CAMSG_CERT:
		rc = cm_u32(&r, &out->id);
		if (!rc)
			rc = cm_blob(&r, CERT_DER_MAX, &out->cert, &out->cert_len);
		break;
	case CAMSG_ERROR:
		rc = cm_u32(&r, &out->id);
		if (!rc)
			rc = cm_text(&r, CAMSG_TEXT_MAX, out->text);
		break;
	}
	if (!rc && r.left)
		rc = -EBADMSG;		/* exactly one message, nothing after it */
out:
	if (rc)
		memset(out, 0, sizeof(*out));
	return rc ? -EBADMSG : 0;
}

static void put(struct cm_w *w, const void *p, size_t n)
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

static void put_u8(struct cm_w *w, unsigned v)
{
	uint8_t b = (uint8_t)v;

	put(w, &b, 1);
}

static void put_u16(struct cm_w *w, unsigned v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	put(w, b, 2);
}

static void put_u32(struct cm_w *w, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

	put(w, b, 4);
}

/* Lengths beyond 16 bits cannot be written; decode refuses them anyway. */
static void put_blob(struct cm_w *w, const void *p, size_t n)
{
	if (n > 0xffff) {
		if (!w->err)
			w->err = -EINVAL;
		return;
	}
	put_u16(w, (unsigned)n);
	put(w, p, n);
}

static void put_prefix(struct cm_w *w, const struct addr_prefix *pf)
{
	uint8_t a[16] = { 0 };

	memcpy(a, pf->addr, pf->family == AF_INET ? 4 : 16);
	put_u8(w, pf->family == AF_INET ? 4 : pf->family == AF_INET6 ? 6 : 0);
	put_u8(w, pf->plen);
	put(w, a, sizeof(a));
}

int camsg_encode(const struct camsg *m, uint8_t *buf, size_t cap)
{
	struct cm_w w = { buf, cap, 0, 0 };
	struct camsg check;

	put_u8(&w, (unsigned)m->type);
	switch (m->type) {
	case CAMSG_START_OK:
	case CAMSG_GET_SERVING:
		break;
	case CAMSG_START_FAIL:
		put_blob(&w, m->text, strnlen(m->text, sizeof(m->text)));
		break;
	case CAMSG_SERVING:
		put_blob(&w, m->ca, m->ca_len);
		put_blob(&w, m->key, m->key_len);
		put_blob(&w, m->cert, m->cert_len);
		break;
	case CAMSG_SIGN:
		if (m->n_subnets < 0 || m->n_subnets > CERT_MAX_ROUTES ||
		    m->days < 0 || m->days > 0xffff)
			return -EINVAL;
		put_u32(&w, m->id);
		put_blob(&w, m->identity, strnlen(m->identity, sizeof(m->identity)));
		put_blob(&w, m->csr, m->csr_len);
		put(&w, m->v4, 4);
		put_u16(&w, (unsigned)m->days);
		put_u8(&w, (unsigned)m->n_subnets);
		for (int i = 0; i < m->n_subnets; i++)
			put_prefix(&w, &m->subnets[i]);
		break;
	case CAMSG_CERT:
		put_u32(&w, m->id);
		put_blob(&w, m->cert, m->cert_len);
		break;
	case CAMSG_ERROR:
		put_u32(&w, m->id);
		put_blob(&w, m->text, strnlen(m->text, sizeof(m->text)));
		break;
	default:
		return -EINVAL;
	}
	if (w.err)
		return w.err;
	if (camsg_decode(buf, w.len, &check) < 0)
		return -EINVAL;
	return (int)w.len;
}

void camsg_text_clean(char *s)
{
	size_t i;

	for (i = 0; s[i] && i < CAMSG_TEXT_MAX; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			s[i] = '?';
	s[i] = '\0';
	if (i == 0)
		strcpy(s, "?");
}
