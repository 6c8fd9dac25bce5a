/*
 * Encoding and decoding of the engine <-> privileged part messages. The
 * privileged part holds CAP_NET_ADMIN, so its decoder treats the engine as
 * an attacker: lengths are exact per type, every field is range-checked,
 * and a message that is not exactly right is refused whole.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>

#include "netstack/bytes.h"
#include "tund/priv/privmsg.h"

#define HDR 4
#define BODY_TUN (PRIVMSG_IFNAMSIZ + 1)
#define BODY_LINK 5
#define BODY_PFX 18
#define BODY_NOTIFY 1
#define BODY_RULES 3
#define BODY_REPLY (4 + PRIVMSG_IFNAMSIZ + 4 + 1)

static const struct {
	uint16_t type;
	const char *name;
	size_t body;
} types[] = {
	{ PRIV_TUN_OPEN, "TUN_OPEN", BODY_TUN },
	{ PRIV_LINK_SET, "LINK_SET", BODY_LINK },
	{ PRIV_ADDR_ADD, "ADDR_ADD", BODY_PFX },
	{ PRIV_ADDR_DEL, "ADDR_DEL", BODY_PFX },
	{ PRIV_ROUTE_ADD, "ROUTE_ADD", BODY_PFX },
	{ PRIV_ROUTE_DEL, "ROUTE_DEL", BODY_PFX },
	{ PRIV_NOTIFY, "NOTIFY", BODY_NOTIFY },
	{ PRIV_SIGNAL, "SIGNAL", BODY_NOTIFY },
	{ PRIV_RULES, "RULES", BODY_RULES },
	{ PRIV_EXIT, "EXIT", BODY_NOTIFY },
	{ PRIV_ROUTE_THROW, "ROUTE_THROW", BODY_PFX },
	{ PRIV_REPLY, "REPLY", BODY_REPLY },
};

static int type_index(uint16_t type)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (types[i].type == type)
			return (int)i;
	return -1;
}

const char *privmsg_name(uint16_t type)
{
	int i = type_index(type);

	return i < 0 ? "unknown" : types[i].name;
}

/* A name field: 1..15 bytes, NUL-terminated, zero-padded. */
static int name_ok(const char *n)
{
	size_t len = strnlen(n, PRIVMSG_IFNAMSIZ);

	if (len == 0 || len == PRIVMSG_IFNAMSIZ)
		return 0;
	for (size_t i = len; i < PRIVMSG_IFNAMSIZ; i++)
		if (n[i])
			return 0;
	return 1;
}

/* A failed TUN_OPEN names no device: all zero. */
static int name_empty(const char *n)
{
	for (size_t i = 0; i < PRIVMSG_IFNAMSIZ; i++)
		if (n[i])
			return 0;
	return 1;
}

static int pfx_ok(uint8_t family, const uint8_t *addr, uint8_t plen)
{
	if (family == AF_INET) {
		for (int i = 4; i < 16; i++)
			if (addr[i])
				return 0;
		return plen <= 32;
	}
	return family == AF_INET6 && plen <= 128;
}

static int fields_ok(const struct privmsg *m)
{
	switch (m->type) {
	case PRIV_TUN_OPEN:
		return name_ok(m->ifname) && m->flag <= 1;
	case PRIV_LINK_SET:
	case PRIV_EXIT:
		return m->flag <= 1;
	case PRIV_RULES:
		return m->flag <= 1 && (m->flag ? m->port != 0 : m->port == 0);
	case PRIV_NOTIFY:
		return m->flag >= PRIV_NOTIFY_READY && m->flag <= PRIV_NOTIFY_STOPPING;
	case PRIV_SIGNAL:
		return m->flag == SIGTERM || m->flag == SIGINT || m->flag == SIGHUP;
	case PRIV_REPLY:
		return m->flag <= 1 && m->rc <= 0 && m->ifindex >= 0 &&
		    (name_ok(m->ifname) || name_empty(m->ifname));
	default:
		return pfx_ok(m->family, m->addr, m->plen);
	}
}

int privmsg_encode(const struct privmsg *m, uint8_t *buf, size_t cap)
{
	int i = type_index(m->type);
	uint8_t *b = buf + HDR;
	size_t body;

	if (i < 0 || !fields_ok(m))
		return -EINVAL;
	body = types[i].body;
	if (cap < HDR + body)
		return -ENOSPC;
	memset(buf, 0, HDR + body);
	be16_put(buf, m->type);
	be16_put(buf + 2, (uint16_t)body);
	switch (m->type) {
	case PRIV_TUN_OPEN:
		memcpy(b, m->ifname, PRIVMSG_IFNAMSIZ);
		b[PRIVMSG_IFNAMSIZ] = m->flag;
		break;
	case PRIV_LINK_SET:
		b[0] = m->flag;
		be32_put(b + 1, m->mtu);
		break;
	case PRIV_NOTIFY:
	case PRIV_SIGNAL:
	case PRIV_EXIT:
		b[0] = m->flag;
		break;
	case PRIV_RULES:
		b[0] = m->flag;
		be16_put(b + 1, m->port);
		break;
	case PRIV_REPLY:
		be32_put(b, (uint32_t)m->rc);
		memcpy(b + 4, m->ifname, PRIVMSG_IFNAMSIZ);
		be32_put(b + 4 + PRIVMSG_IFNAMSIZ, (uint32_t)m->ifindex);
		b[8 + PRIVMSG_IFNAMSIZ] = m->flag;
		break;
	default:
		b[0] = m->family;
		memcpy(b + 1, m->addr, 16);
		b[17] = m->plen;
	}
	return (int)(HDR + body);
}

int privmsg_decode(const uint8_t *buf, size_t len, struct privmsg *m)
{
	const uint8_t *b = buf + HDR;
	int i;

	memset(m, 0, sizeof(*m));
	if (len < HDR)
		return -EBADMSG;
	m->type = be16_get(buf);
	if ((i = type_index(m->type)) < 0 || be16_get(buf + 2) != types[i].body ||
	    len != HDR + types[i].body)
		return -EBADMSG;
	switch (m->type) {
	case PRIV_TUN_OPEN:
		memcpy(m->ifname, b, PRIVMSG_IFNAMSIZ);
		m->flag = b[PRIVMSG_IFNAMSIZ];
		break;
	case PRIV_LINK_SET:
		m->flag = b[0];
		m->mtu = be32_get(b + 1);
		break;
	case PRIV_NOTIFY:
	case PRIV_SIGNAL:
	case PRIV_EXIT:
		m->flag = b[0];
		break;
	case PRIV_RULES:
		m->flag = b[0];
		m->port = be16_get(b + 1);
		break;
	case PRIV_REPLY:
		m->rc = (int32_t)be32_get(b);
		memcpy(m->ifname, b + 4, PRIVMSG_IFNAMSIZ);
		m->ifindex = (int32_t)be32_get(b + 4 + PRIVMSG_IFNAMSIZ);
		m->flag = b[8 + PRIVMSG_IFNAMSIZ];
		break;
	default:
		m->family = b[0];
		memcpy(m->addr, b + 1, 16);
		m->plen = b[17];
	}
	return fields_ok(m) ? 0 : -EBADMSG;
}
