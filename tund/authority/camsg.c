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

#include "netstack/bytebuf.h"
#include "tund/authority/camsg.h"

static int cm_printable(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			return 0;
	return 1;
}

/* Length-prefixed printable text of 1..max bytes into s (max + 1 bytes). */
static int cm_text(struct bytebuf_r *r, size_t max, char *s)
{
	const uint8_t *p;
	size_t n;

	if (bytebuf_get_blob16(r, max, &p, &n) || !cm_printable(p, n))
		return -EBADMSG;
	memcpy(s, p, n);
	s[n] = '\0';
	return 0;
}

/* family byte, plen, 16 address bytes; a v4 prefix leaves bytes 4..15 zero
 * so that one prefix has exactly one encoding. */
static int cm_prefix(struct bytebuf_r *r, struct addr_prefix *pf)
{
	static const uint8_t zero[12];
	const uint8_t *a;
	uint8_t fam, plen;

	if (bytebuf_get_u8(r, &fam) || bytebuf_get_u8(r, &plen) || bytebuf_take(r, 16, &a))
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

static int cm_sign(struct bytebuf_r *r, struct camsg *m)
{
	const uint8_t *v4;
	uint16_t days;
	uint8_t count;

	if (bytebuf_get_u32(r, &m->id) || cm_text(r, ID_NAME_MAX, m->identity) ||
	    bytebuf_get_blob16(r, CERT_DER_MAX, &m->csr, &m->csr_len) || bytebuf_take(r, 4, &v4) ||
	    bytebuf_get_u16(r, &days) || bytebuf_get_u8(r, &count))
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
	struct bytebuf_r r = { buf, len };
	uint8_t type;
	int rc = -EBADMSG;

	memset(out, 0, sizeof(*out));
	if (len > CAMSG_MAX || bytebuf_get_u8(&r, &type))
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
		rc = bytebuf_get_blob16(&r, CERT_DER_MAX, &out->ca, &out->ca_len);
		if (!rc)
			rc = bytebuf_get_blob16(&r, CAMSG_KEY_MAX, &out->key, &out->key_len);
		if (!rc)
			rc = bytebuf_get_blob16(&r, CERT_DER_MAX, &out->cert, &out->cert_len);
		break;
	case CAMSG_SIGN:
		rc = cm_sign(&r, out);
		break;
	case CAMSG_CERT:
		rc = bytebuf_get_u32(&r, &out->id);
		if (!rc)
			rc = bytebuf_get_blob16(&r, CERT_DER_MAX, &out->cert, &out->cert_len);
		break;
	case CAMSG_ERROR:
		rc = bytebuf_get_u32(&r, &out->id);
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

static void put_prefix(struct bytebuf_w *w, const struct addr_prefix *pf)
{
	uint8_t a[16] = { 0 };

	memcpy(a, pf->addr, pf->family == AF_INET ? 4 : 16);
	bytebuf_u8(w, pf->family == AF_INET ? 4 : pf->family == AF_INET6 ? 6 : 0);
	bytebuf_u8(w, pf->plen);
	bytebuf_put(w, a, sizeof(a));
}

int camsg_encode(const struct camsg *m, uint8_t *buf, size_t cap)
{
	struct bytebuf_w w = { buf, cap, 0, 0 };
	struct camsg check;

	bytebuf_u8(&w, (unsigned)m->type);
	switch (m->type) {
	case CAMSG_START_OK:
	case CAMSG_GET_SERVING:
		break;
	case CAMSG_START_FAIL:
		bytebuf_blob16(&w, m->text, strnlen(m->text, sizeof(m->text)));
		break;
	case CAMSG_SERVING:
		bytebuf_blob16(&w, m->ca, m->ca_len);
		bytebuf_blob16(&w, m->key, m->key_len);
		bytebuf_blob16(&w, m->cert, m->cert_len);
		break;
	case CAMSG_SIGN:
		if (m->n_subnets < 0 || m->n_subnets > CERT_MAX_ROUTES ||
		    m->days < 0 || m->days > 0xffff)
			return -EINVAL;
		bytebuf_u32(&w, m->id);
		bytebuf_blob16(&w, m->identity, strnlen(m->identity, sizeof(m->identity)));
		bytebuf_blob16(&w, m->csr, m->csr_len);
		bytebuf_put(&w, m->v4, 4);
		bytebuf_u16(&w, (unsigned)m->days);
		bytebuf_u8(&w, (unsigned)m->n_subnets);
		for (int i = 0; i < m->n_subnets; i++)
			put_prefix(&w, &m->subnets[i]);
		break;
	case CAMSG_CERT:
		bytebuf_u32(&w, m->id);
		bytebuf_blob16(&w, m->cert, m->cert_len);
		break;
	case CAMSG_ERROR:
		bytebuf_u32(&w, m->id);
		bytebuf_blob16(&w, m->text, strnlen(m->text, sizeof(m->text)));
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
