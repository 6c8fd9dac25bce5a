/*
 * Encoding, parsing and authentication of the authority service datagrams
 * (see authwire.h). The mac position depends on the type; aw_verify finds
 * it from the type byte, so callers verify after choosing the key by id.
 */
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/hmac.h>

#include <errno.h>
#include <string.h>

#include "netstack/authwire.h"
#include "netstack/bytes.h"

/* HMAC-SHA256(key, a || b) (b may be empty), its first outlen bytes. */
static int aw_hmac(const uint8_t *key, size_t keylen, const uint8_t *a, size_t alen,
    const uint8_t *b, size_t blen, uint8_t *out, size_t outlen)
{
	Hmac h;
	uint8_t full[WC_SHA256_DIGEST_SIZE];
	int rc = -EIO;

	if (wc_HmacInit(&h, NULL, INVALID_DEVID) != 0)
		return -EIO;
	if (wc_HmacSetKey(&h, WC_SHA256, key, (word32)keylen) == 0 &&
	    wc_HmacUpdate(&h, a, (word32)alen) == 0 &&
	    (blen == 0 || wc_HmacUpdate(&h, b, (word32)blen) == 0) &&
	    wc_HmacFinal(&h, full) == 0) {
		memcpy(out, full, outlen);
		rc = 0;
	}
	wc_HmacFree(&h);
	explicit_bzero(full, sizeof(full));
	return rc;
}

static int aw_mac(const uint8_t key[AW_KEY_LEN], const uint8_t *a, size_t alen,
    const uint8_t *b, size_t blen, uint8_t out[AW_MAC_LEN])
{
	return aw_hmac(key, AW_KEY_LEN, a, alen, b, blen, out, AW_MAC_LEN);
}

int aw_punch_key(const uint8_t token[AW_TOKEN_LEN], const char *from, const char *to,
    uint8_t key[AW_KEY_LEN])
{
	static const char label[] = "q2q punch";	/* with its 0 */
	uint8_t info[sizeof(label) + 2 * 256];
	size_t fl = strlen(from), tl = strlen(to), n = 0;

	if (fl >= 256 || tl >= 256)
		return -EINVAL;
	memcpy(info, label, sizeof(label));
	n = sizeof(label);
	memcpy(info + n, from, fl + 1);
	n += fl + 1;
	memcpy(info + n, to, tl + 1);
	n += tl + 1;
	return aw_hmac(token, AW_TOKEN_LEN, info, n, NULL, 0, key, AW_KEY_LEN);
}

int aw_build_probe(const struct aw_probe *p, const uint8_t key[AW_KEY_LEN], uint8_t *buf, size_t cap)
{
	if (cap < AW_PROBE_LEN)
		return -ENOSPC;
	memset(buf, 0, AW_PROBE_LEN);
	buf[0] = AW_PROBE;
	le32_put(buf + 4, p->node_id);
	le64_put(buf + 8, p->txid);
	if (aw_mac(key, buf, 16, NULL, 0, buf + 16) < 0)
		return -EIO;
	return AW_PROBE_LEN;
}

int aw_build_probe_reply(const struct aw_probe *p, const uint8_t key[AW_KEY_LEN], uint8_t *buf, size_t cap)
{
	if (cap < AW_PROBE_REPLY_LEN)
		return -ENOSPC;
	memset(buf, 0, AW_PROBE_REPLY_LEN);
	buf[0] = AW_PROBE_REPLY;
	le32_put(buf + 4, p->node_id);
	le64_put(buf + 8, p->txid);
	memcpy(buf + 16, p->addr, 16);
	buf[32] = (uint8_t)(p->port >> 8);
	buf[33] = (uint8_t)p->port;
	if (aw_mac(key, buf, 40, NULL, 0, buf + 40) < 0)
		return -EIO;
	return AW_PROBE_REPLY_LEN;
}

int aw_seal_relay(int type, const struct aw_relay *r, size_t payload_len,
    const uint8_t key[AW_KEY_LEN], uint8_t *buf, size_t cap)
{
	if ((type != AW_RELAY && type != AW_RELAYED) || cap < AW_RELAY_HDR + payload_len)
		return -ENOSPC;
	memset(buf, 0, AW_RELAY_HDR);
	buf[0] = (uint8_t)type;
	le32_put(buf + 4, r->sender_id);
	le32_put(buf + 8, r->target_id);
	le64_put(buf + 12, r->counter);
	if (aw_mac(key, buf, 20, buf + AW_RELAY_HDR, payload_len, buf + 20) < 0)
		return -EIO;
	return (int)(AW_RELAY_HDR + payload_len);
}

int aw_build_punch(int type, uint32_t counter, const uint8_t key[AW_KEY_LEN], uint8_t *buf, size_t cap)
{
	if ((type != AW_PUNCH && type != AW_PUNCH_ACK) || cap < AW_PUNCH_LEN)
		return -ENOSPC;
	memset(buf, 0, AW_PUNCH_LEN);
	buf[0] = (uint8_t)type;
	le32_put(buf + 4, counter);
	if (aw_mac(key, buf, 8, NULL, 0, buf + 8) < 0)
		return -EIO;
	return AW_PUNCH_LEN;
}

static int zeros(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

int aw_parse_probe(int type, const uint8_t *buf, size_t len, struct aw_probe *out)
{
	size_t want = type == AW_PROBE ? AW_PROBE_LEN : AW_PROBE_REPLY_LEN;

	if ((type != AW_PROBE && type != AW_PROBE_REPLY) || len != want || buf[0] != type ||
	    !zeros(buf + 1, 3))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->node_id = le32_get(buf + 4);
	out->txid = le64_get(buf + 8);
	if (type == AW_PROBE)
		return zeros(buf + 32, 32) ? 0 : -EINVAL;
	if (!zeros(buf + 34, 6))
		return -EINVAL;
	memcpy(out->addr, buf + 16, 16);
	out->port = (uint16_t)(buf[32] << 8 | buf[33]);
	return 0;
}

int aw_parse_relay(const uint8_t *buf, size_t len, struct aw_relay *out)
{
	if (len <= AW_RELAY_HDR || (buf[0] != AW_RELAY && buf[0] != AW_RELAYED) || !zeros(buf + 1, 3))
		return -EINVAL;
	out->sender_id = le32_get(buf + 4);
	out->target_id = le32_get(buf + 8);
	out->counter = le64_get(buf + 12);
	out->payload = buf + AW_RELAY_HDR;
	out->payload_len = len - AW_RELAY_HDR;
	return 0;
}

int aw_parse_punch(const uint8_t *buf, size_t len, uint32_t *counter)
{
	if (len != AW_PUNCH_LEN || (buf[0] != AW_PUNCH && buf[0] != AW_PUNCH_ACK) || !zeros(buf + 1, 3))
		return -EINVAL;
	*counter = le32_get(buf + 4);
	return 0;
}

int aw_verify(const uint8_t *buf, size_t len, const uint8_t key[AW_KEY_LEN])
{
	uint8_t mac[AW_MAC_LEN], diff = 0;
	size_t off, covered;
	const uint8_t *extra = NULL;
	size_t extra_len = 0;

	switch (len ? buf[0] : 0) {
	case AW_PROBE:
		if (len != AW_PROBE_LEN)
			return -EINVAL;
		off = 16;
		covered = 16;
		break;
	case AW_PROBE_REPLY:
		if (len != AW_PROBE_REPLY_LEN)
			return -EINVAL;
		off = 40;
		covered = 40;
		break;
	case AW_RELAY:
	case AW_RELAYED:
		if (len <= AW_RELAY_HDR)
			return -EINVAL;
		off = 20;
		covered = 20;
		extra = buf + AW_RELAY_HDR;
		extra_len = len - AW_RELAY_HDR;
		break;
	case AW_PUNCH:
	case AW_PUNCH_ACK:
		if (len != AW_PUNCH_LEN)
			return -EINVAL;
		off = 8;
		covered = 8;
		break;
	default:
		return -EINVAL;
	}
	if (aw_mac(key, buf, covered, extra, extra_len, mac) < 0)
		return -EIO;
	for (int i = 0; i < AW_MAC_LEN; i++)
		diff |= (uint8_t)(mac[i] ^ buf[off + (size_t)i]);
	return diff ? -EBADMSG : 0;
}
