/*
 * Node side of the control protocol (tund/link/proto.h). Lookups carry an id
 * and their answers name it: a brokered answer waits for the callee, so
 * answers may arrive out of order. A ping every 15 s
 * notices a dead link that TCP alone would take minutes to report.
 */
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "identity/cert.h"
#include "identity/name.h"
#include "netstack/msg.h"
#include "tund/node/answer.h"
#include "tund/node/authlink.h"
#include "tund/base/log.h"
#include "tund/base/loop.h"
#include "tund/node/node.h"
#include "tund/node/revnews.h"
#include "tund/link/proto.h"
#include "tund/link/tlsconn.h"

#define AL_PING_MS 15000
#define AL_DEAD_MS 45000
#define AL_BACKOFF_MIN_MS 500
#define AL_BACKOFF_MAX_MS 15000
#define AL_MAX_EPS 16
/* A lookup made while the link is (re)connecting waits this long for it
 * to register, instead of failing at once: a link that drops and comes
 * back (a lossy path, an authority that cut a slow handshake) must not
 * bounce the first packets to a peer as "host unreachable", which many
 * programs take as final. The same 5 s `up` waits for the registration
 * (OVERLAY_REG_WAIT_MS). */
#define AL_LOOKUP_WAIT_MS 5000

/* AL_REGISTERING: TLS is up and our REGISTER went out; the authority has
 * not answered yet. */
enum { AL_IDLE, AL_CONNECTING, AL_REGISTERING, AL_UP };

struct al_lookup {
	struct al_lookup *next;
	authlink_lookup_fn *fn;
	void *arg;
	uint32_t id;
	int sent;
	uint64_t deadline;	/* unsent: fails then (AL_LOOKUP_WAIT_MS) */
	char identity[ID_NAME_MAX + 1];
	int family;
	uint8_t addr[16];
};

struct authlink {
	struct loop *loop;
	struct node *node;
	int foreign;
	char domain[ID_DOMAIN_MAX + 1];
	struct sockaddr_in6 addr;
	int port;
	const struct authlink_ops *ops;
	void *arg;
	WOLFSSL_CTX *ctx;
	struct tlsconn *conn;
	int state;
	uint64_t backoff;
	uint64_t last_rx;
	struct loop_timer timer;
	struct loop_timer lk_timer;	/* the first unsent lookup's deadline */
	struct al_lookup *pending, **tail;
	uint32_t next_id;
	char last_error[512];
	char refused[512];	/* why we refused its CA, until it registers us */
	/* Revocation news (PROTOCOL.md, "Revocation"): where we are in the
	 * authority's numbers (revnews.h), and when we were last sure to be
	 * up to date. */
	struct revnews rev;
	int64_t rev_news;
	int have_mapped;	/* our gateway's port mapping (tund/portmap/) */
	uint8_t mapped[PROTO_ENDPOINT_LEN];
	int have_node_id;
	uint32_t node_id;	/* the last REGISTERED's */
};

int authlink_is_up(const struct authlink *al) { return al && al->state == AL_UP; }

const struct sockaddr_in6 *authlink_addr(const struct authlink *al) { return &al->addr; }

const char *authlink_state(const struct authlink *al)
{
	if (!al)
		return "down";
	if (al->state == AL_UP)
		return "registered";
	return al->state == AL_CONNECTING || al->state == AL_REGISTERING ? "connecting" : "waiting to reconnect";
}

static void al_connect(struct authlink *al);

static void al_settle(struct al_lookup *lk, int err, const char *msg, const struct authlink_peer *peer)
{
	if (lk->fn)
		lk->fn(lk->arg, err, msg, peer);
	free(lk);
}

static void al_fail_pending(struct authlink *al, const char *why)
{
	loop_timer_cancel(al->loop, &al->lk_timer);
	while (al->pending) {
		struct al_lookup *lk = al->pending;
		al->pending = lk->next;
		al_settle(lk, -ENOTCONN, why, NULL);
	}
	al->tail = &al->pending;
}

/* Takes *pp out of the pending FIFO. */
static struct al_lookup *al_unlink(struct authlink *al, struct al_lookup **pp)
{
	struct al_lookup *lk = *pp;

	*pp = lk->next;
	if (al->tail == &lk->next)
		al->tail = pp;
	return lk;
}

/* Arms lk_timer for the first deadline of a lookup still unsent. */
static void al_arm_lookups(struct authlink *al)
{
	uint64_t first = UINT64_MAX;

	for (struct al_lookup *lk = al->pending; lk; lk = lk->next)
		if (!lk->sent && lk->deadline < first)
			first = lk->deadline;
	if (first == UINT64_MAX)
		loop_timer_cancel(al->loop, &al->lk_timer);
	else
		loop_timer_arm(al->loop, &al->lk_timer, first);
}

/* Lookups that waited AL_LOOKUP_WAIT_MS for a link that did not come. */
static void al_lookups_timer(struct loop_timer *t)
{
	struct authlink *al = (struct authlink *)((char *)t - offsetof(struct authlink, lk_timer));
	uint64_t now = loop_now_ms();
	struct al_lookup **pp = &al->pending;

	while (*pp) {
		if ((*pp)->sent || (*pp)->deadline > now) {
			pp = &(*pp)->next;
			continue;
		}
		al_settle(al_unlink(al, pp), -ENOTCONN,
		    al->refused[0] ? al->refused : "the authority is not reachable", NULL);
	}
	al_arm_lookups(al);
}

/* The connection closed: lookups it carried are asked again on the next
 * (answers never cross connections), each waiting AL_LOOKUP_WAIT_MS
 * from now; if the authority refused us, they fail with its reason. */
static void al_requeue_pending(struct authlink *al)
{
	uint64_t deadline = loop_now_ms() + AL_LOOKUP_WAIT_MS;
	struct al_lookup **pp = &al->pending;

	if (al->refused[0]) {
		al_fail_pending(al, al->refused);
		return;
	}
	while (*pp) {
		if (!(*pp)->fn) {	/* forgotten (authlink_forget) */
			free(al_unlink(al, pp));
			continue;
		}
		if ((*pp)->sent) {
			(*pp)->sent = 0;
			(*pp)->deadline = deadline;
		}
		pp = &(*pp)->next;
	}
	al_arm_lookups(al);
}

static void al_send_lookup(struct authlink *al, struct al_lookup *lk)
{
	uint8_t buf[512];
	struct msg_writer w;
	int n;

	msg_begin(&w, buf, sizeof(buf), MSG_LOOKUP);
	msg_put_u32(&w, T_LOOKUP_ID, lk->id);
	if (lk->identity[0])
		msg_put_str(&w, T_IDENTITY, lk->identity);
	else
		msg_put_bytes(&w, T_ADDR, lk->addr, lk->family == AF_INET ? 4 : 16);
	n = msg_finish(&w);
	if (n > 0 && tlsconn_send(al->conn, buf, (size_t)n) == 0)
		lk->sent = 1;
}

/* Our endpoints: the gateway's port mapping if we have one (it is the
 * one that reaches us from anywhere), then every address of an up,
 * non-loopback interface except the overlay itself, with the UDP port. */
static void al_send_register(struct authlink *al)
{
	struct ifaddrs *ifa, *i;
	uint8_t buf[1024], ep[PROTO_ENDPOINT_LEN];
	struct msg_writer w;
	int n, count = 0;

	msg_begin(&w, buf, sizeof(buf), MSG_REGISTER);
	msg_put_u32(&w, T_PORT, (uint32_t)al->port);
	if (al->have_mapped) {
		msg_put_bytes(&w, T_ENDPOINT, al->mapped, sizeof(al->mapped));
		count++;
	}
	if (getifaddrs(&ifa) == 0) {
		for (i = ifa; i && count < AL_MAX_EPS; i = i->ifa_next) {
			if (!i->ifa_addr || !(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK) ||
			    (i->ifa_flags & IFF_POINTOPOINT))
				continue;
			memset(ep, 0, sizeof(ep));
			if (i->ifa_addr->sa_family == AF_INET) {
				ep[10] = ep[11] = 0xff;
				memcpy(ep + 12, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, 4);
			} else if (i->ifa_addr->sa_family == AF_INET6) {
				const struct in6_addr *a = &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
				if (IN6_IS_ADDR_LINKLOCAL(a) || a->s6_addr[0] == 0xfd)
					continue;
				memcpy(ep, a, 16);
			} else {
				continue;
			}
			ep[16] = (uint8_t)(al->port >> 8);
			ep[17] = (uint8_t)al->port;
			msg_put_bytes(&w, T_ENDPOINT, ep, sizeof(ep));
			count++;
		}
		freeifaddrs(ifa);
	}
	n = msg_finish(&w);
	if (n > 0)
		tlsconn_send(al->conn, buf, (size_t)n);
	log_debug("authority link%s%s: REGISTER with %d endpoint(s), %s", al->foreign ? " to " : "", al->domain,
	    count, al->have_mapped ? "the port mapping first" : "no port mapping");
}

static void al_on_open(struct tlsconn *c, void *arg)
{
	struct authlink *al = arg;
	char err[512];

	/* Its chain: a serving certificate under the domain's CA, which must
	 * be the one we pinned (or, for another domain, learn now). */
	if (node_check_authority(al->node, al->foreign ? al->domain : NULL, c, err, sizeof(err)) < 0) {
		log_warnx("authority link: %s", err);
		/* Lookups waiting for this link learn why, not just "unreachable". */
		snprintf(al->refused, sizeof(al->refused), "%s", err);
		tlsconn_close_after_send(c);
		return;
	}
	/* First: a failed write closes the link at once (al_on_close). */
	al->state = AL_REGISTERING;
	al_send_register(al);
}

/* Reads a node description (PEER or BROKER). 0 or -EPROTO. */
static int al_read_peer(struct msg_reader *r, struct authlink_peer *pe, char *ident, size_t identcap,
    struct sockaddr_in6 *eps)
{
	const uint8_t *p;
	size_t n, iter = 0;

	memset(pe, 0, sizeof(*pe));
	if (msg_get_str(r, T_IDENTITY, ident, identcap) < 0 || msg_get(r, T_CERT, &pe->cert, &pe->certlen) < 0 ||
	    msg_get_u32(r, T_NODE_ID, &pe->node_id) < 0 || msg_get(r, T_PUNCH_TOKEN, &p, &n) < 0 ||
	    n != sizeof(pe->token))
		return -EPROTO;
	memcpy(pe->token, p, n);
	msg_get_u32(r, T_NAT, &pe->nat);
	msg_get(r, T_CA, &pe->ca, &pe->calen);
	pe->identity = ident;
	pe->eps = eps;
	while (pe->neps < AL_MAX_EPS && msg_next(r, T_ENDPOINT, &iter, &p, &n) == 0) {
		struct sockaddr_in6 *e = &eps[pe->neps];

		if (n != PROTO_ENDPOINT_LEN)
			continue;
		memset(e, 0, sizeof(*e));
		e->sin6_family = AF_INET6;
		memcpy(&e->sin6_addr, p, 16);
		e->sin6_port = htons((uint16_t)(p[16] << 8 | p[17]));
		if (e->sin6_port)
			pe->neps++;
	}
	return 0;
}

static struct al_lookup *al_take(struct authlink *al, uint32_t id)
{
	for (struct al_lookup **pp = &al->pending; *pp; pp = &(*pp)->next)
		if ((*pp)->id == id && (*pp)->sent)
			return al_unlink(al, pp);
	return NULL;
}

static void al_on_peer(struct authlink *al, struct msg_reader *r, int is_error)
{
	struct sockaddr_in6 eps[AL_MAX_EPS];
	struct answer_question q;
	struct authlink_peer pe;
	struct al_lookup *lk;
	struct cert_info ci;
	char ident[ID_NAME_MAX + 1], text[512];	/* the authority's longest error */
	uint32_t id;

	if (msg_get_u32(r, T_LOOKUP_ID, &id) < 0 || !(lk = al_take(al, id))) {
		if (is_error && msg_get_text(r, T_TEXT, text, sizeof(text)) == 0) {
			log_warnx("authority: %s", text);
			snprintf(al->last_error, sizeof(al->last_error), "%s", text);
			/* About the link (it refused us): lookups waiting learn why. */
			if (al->state != AL_UP)
				snprintf(al->refused, sizeof(al->refused), "the authority refused us: %.480s",
				    text);
		}
		return;
	}
	if (is_error) {
		if (msg_get_text(r, T_TEXT, text, sizeof(text)) < 0)
			snprintf(text, sizeof(text), "lookup failed");
		al_settle(lk, -ENOENT, text, NULL);
		return;
	}
	if (al_read_peer(r, &pe, ident, sizeof(ident), eps) < 0) {
		al_settle(lk, -EPROTO, "malformed lookup reply", NULL);
		return;
	}
	q.asked_id = lk->identity;
	q.family = lk->family;
	q.addr = lk->addr;
	if (cert_parse(pe.cert, pe.certlen, &ci, text, sizeof(text)) < 0 ||
	    answer_fits(&q, ident, &ci, text, sizeof(text)) < 0) {
		log_warnx("authority link (%s): lookup answer refused: %s", al->domain, text);
		al_settle(lk, -EPROTO, text, NULL);
		return;
	}
	al_settle(lk, 0, NULL, &pe);
}

static void al_ask_revoked(struct authlink *al)
{
	uint8_t buf[32];
	struct msg_writer w;
	int n;

	msg_begin(&w, buf, sizeof(buf), MSG_REVOKED_SINCE);
	msg_put_u64(&w, T_REV_CURSOR, al->rev.have);
	n = msg_finish(&w);
	al->rev.asking = n > 0 && tlsconn_send(al->conn, buf, (size_t)n) == 0;
}

/*
 * A page of revocations, asked for or sent the moment they happened. Its
 * entries count whatever the numbers say (news from this authority about
 * its own certificates can only be right); where that leaves us,
 * revnews_page decides.
 */
static void al_on_revoked(struct authlink *al, struct msg_reader *r)
{
	uint64_t since = 0, cursor = 0;
	uint32_t more = 0;
	const uint8_t *p;
	size_t n, iter = 0;
	int bad = 0;

	if (msg_get_u64(r, T_REV_SINCE, &since) < 0 || msg_get_u64(r, T_REV_CURSOR, &cursor) < 0) {
		log_warnx("authority link (%s): revocation news without its numbers; ignored",
		    al->domain[0] ? al->domain : "own");
		return;
	}
	msg_get_u32(r, T_REV_MORE, &more);
	while (msg_next(r, T_REV_ENTRY, &iter, &p, &n) == 0) {
		char serial[41];
		int64_t na;

		if (revnews_entry(p, n, serial, &na) < 0)
			bad++;
		else if (al->ops->on_revoked)
			al->ops->on_revoked(al->arg, serial, na);
	}
	if (bad)
		log_warnx("authority link (%s): %d malformed revocation entries ignored",
		    al->domain[0] ? al->domain : "own", bad);
	switch (revnews_page(&al->rev, since, cursor, more != 0)) {
	case REVNEWS_ASK:
		al_ask_revoked(al);
		break;
	case REVNEWS_CURRENT:
		al->rev_news = (int64_t)time(NULL);
		break;
	case REVNEWS_WAIT:
		break;
	}
}

int64_t authlink_revocation_news(const struct authlink *al, uint64_t *cursor)
{
	*cursor = al->rev.have;
	return al->rev_news;
}

static void al_on_broker(struct authlink *al, struct msg_reader *r)
{
	struct sockaddr_in6 eps[AL_MAX_EPS];
	struct authlink_peer pe;
	char ident[ID_NAME_MAX + 1];
	uint32_t id;

	if (msg_get_u32(r, T_LOOKUP_ID, &id) < 0)
		return;
	if (al_read_peer(r, &pe, ident, sizeof(ident), eps) < 0 || !al->ops->on_broker) {
		authlink_broker_answer(al, id, 0);
		return;
	}
	al->ops->on_broker(al->arg, id, &pe);
}

void authlink_broker_answer(struct authlink *al, uint32_t id, int accept)
{
	uint8_t buf[64];
	struct msg_writer w;
	int n;

	if (!al->conn)
		return;
	msg_begin(&w, buf, sizeof(buf), accept ? MSG_BROKER_OK : MSG_BROKER_REFUSE);
	msg_put_u32(&w, T_LOOKUP_ID, id);
	n = msg_finish(&w);
	if (n > 0)
		tlsconn_send(al->conn, buf, (size_t)n);
}

/* T_POOL: network(4) || plen(1); an authority that names a malformed pool
 * is logged and ignored (the node keeps the pool it assumed). */
static void al_on_pool(struct authlink *al, const uint8_t *p, size_t n)
{
	uint32_t net, host;

	if (n != PROTO_POOL_LEN || p[4] < 8 || p[4] > 30) {
		log_warnx("authority link%s%s: pool field of %zu bytes%s; ignored", al->foreign ? " to " : "",
		    al->domain, n, n == PROTO_POOL_LEN ? " with a prefix length outside 8..30" : "");
		return;
	}
	net = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	host = 0xffffffffu >> p[4];
	if (net & host) {
		log_warnx("authority link%s%s: pool %u.%u.%u.%u/%u has host bits set; ignored",
		    al->foreign ? " to " : "", al->domain, p[0], p[1], p[2], p[3], p[4]);
		return;
	}
	al->ops->on_pool(al->arg, p, p[4]);
}

static void al_on_msg(struct tlsconn *c, void *arg, const uint8_t *frame, size_t len)
{
	struct authlink *al = arg;
	struct msg_reader r;
	uint8_t type;
	size_t n;

	if (msg_open(&r, frame, len, &type) < 0)
		return;
	al->last_rx = loop_now_ms();
	switch (type) {
	case MSG_REGISTERED: {
		uint32_t node_id = 0;
		const uint8_t *key, *p;
		int again, first;

		if (msg_get_u32(&r, T_NODE_ID, &node_id) < 0 || msg_get(&r, T_UDP_KEY, &key, &n) < 0 || n != 32)
			break;
		/* A REGISTER again on the same link (our mapping changed)
		 * keeps the authority's session: nothing to redo here. */
		again = al->state == AL_UP && al->have_node_id && al->node_id == node_id;
		first = al->state != AL_UP;
		if (first)
			log_info("authority link%s%s: registered", al->foreign ? " to " : "", al->domain);
		al->state = AL_UP;
		al->node_id = node_id;
		al->have_node_id = 1;
		al->refused[0] = '\0';
		al->backoff = AL_BACKOFF_MIN_MS;
		/* The overlay first (it probes the UDP service with the new
		 * key, so the authority knows our NAT before the lookups below
		 * make it introduce us), then the lookups made while
		 * connecting: the authority answers only registered nodes. */
		if (al->ops->on_up && !again)
			al->ops->on_up(al->arg, node_id, key);
		for (struct al_lookup *lk = al->pending; lk; lk = lk->next)
			if (!lk->sent)
				al_send_lookup(al, lk);
		al_arm_lookups(al);
		if (msg_get(&r, T_POOL, &p, &n) == 0 && al->ops->on_pool)
			al_on_pool(al, p, n);
		al_ask_revoked(al);
		/* Last: whoever waited for this (q2qctl up) finds the pool
		 * routed and lookups going out. */
		if (first && al->ops->on_attempt)
			al->ops->on_attempt(al->arg, 1, NULL);
		break;
	}
	case MSG_BROKER:
		al_on_broker(al, &r);
		break;
	case MSG_REVOKED:
		al_on_revoked(al, &r);
		break;
	case MSG_POLICY:
		/* Another domain's authority has no say over who reaches us. */
		if (!al->foreign && al->ops->on_policy)
			al->ops->on_policy(al->arg, &r);
		break;
	case MSG_PEER:
		al_on_peer(al, &r, 0);
		break;
	case MSG_ERROR:
		/* With a lookup id it answers that lookup; otherwise it is about
		 * the link itself (e.g. we were revoked). */
		al_on_peer(al, &r, 1);
		break;
	case MSG_PONG:
		if (al->state == AL_UP && !al->rev.asking && al->rev_news)
			al->rev_news = (int64_t)time(NULL);
		break;
	default:
		log_debug("authority link: ignoring message type %u", type);
	}
}

static void al_schedule(struct authlink *al, uint64_t delay)
{
	loop_timer_arm(al->loop, &al->timer, loop_now_ms() + delay);
}

/* The attempt under way failed before it registered us. */
static void al_attempt_failed(struct authlink *al, const char *why)
{
	if (al->ops->on_attempt)
		al->ops->on_attempt(al->arg, 0, al->refused[0] ? al->refused : why);
}

static void al_on_close(struct tlsconn *c, void *arg, const char *why)
{
	struct authlink *al = arg;
	int was_up = al->state == AL_UP;

	if (was_up)
		log_warnx("authority link lost: %s", why);
	else
		log_debug("authority link: %s", why);
	tlsconn_free_later(c);
	al->conn = NULL;
	al->state = AL_IDLE;
	al->rev.asking = 0;	/* its answer went with the connection */
	al_requeue_pending(al);
	al_schedule(al, al->backoff);
	al->backoff = al->backoff * 2 > AL_BACKOFF_MAX_MS ? AL_BACKOFF_MAX_MS : al->backoff * 2;
	if (!was_up)
		al_attempt_failed(al, why);
}

static const struct tlsconn_ops al_ops = {
	.on_open = al_on_open,
	.on_msg = al_on_msg,
	.on_close = al_on_close,
};

static void al_connect(struct authlink *al)
{
	int rc;

	al->state = AL_CONNECTING;
	al->last_rx = loop_now_ms();
	rc = tlsconn_connect(al->loop, al->ctx, &al->addr, &al_ops, al, &al->conn);
	if (rc < 0) {
		al->conn = NULL;
		al->state = AL_IDLE;
		al_schedule(al, al->backoff);
		al_attempt_failed(al, strerror(-rc));
		return;
	}
	al_schedule(al, AL_PING_MS);
}

static void al_timer(struct loop_timer *t)
{
	struct authlink *al = (struct authlink *)((char *)t - offsetof(struct authlink, timer));
	uint8_t buf[16];
	struct msg_writer w;
	int n;

	if (al->state == AL_IDLE) {
		al_connect(al);
		return;
	}
	if (al->conn && loop_now_ms() - al->last_rx > AL_DEAD_MS) {
		struct tlsconn *c = al->conn;
		al_on_close(c, al, "no answer from the authority");
		return;
	}
	if (al->state == AL_UP) {
		msg_begin(&w, buf, sizeof(buf), MSG_PING);
		n = msg_finish(&w);
		if (n > 0)
			tlsconn_send(al->conn, buf, (size_t)n);
	}
	al_schedule(al, AL_PING_MS);
}

int authlink_start(struct loop *l, struct node *n, int udp_port, const char *domain,
    const struct sockaddr_in6 *addr, const struct authlink_ops *ops, void *arg, struct authlink **out)
{
	struct authlink *al = calloc(1, sizeof(*al));
	int rc;

	if (!al)
		return -ENOMEM;
	al->foreign = domain != NULL;
	if (domain)
		snprintf(al->domain, sizeof(al->domain), "%s", domain);
	al->addr = addr ? *addr : *node_authority_addr(n);
	al->loop = l;
	al->node = n;
	al->port = udp_port;
	al->ops = ops;
	al->arg = arg;
	al->tail = &al->pending;
	al->backoff = AL_BACKOFF_MIN_MS;
	al->timer.fn = al_timer;
	al->lk_timer.fn = al_lookups_timer;
	rc = node_client_ctx(n, &al->ctx);
	if (rc < 0) {
		free(al);
		return rc;
	}
	al_connect(al);
	*out = al;
	return 0;
}

void authlink_restart(struct authlink *al)
{
	if (al->conn) {
		struct tlsconn *c = al->conn;
		al_on_close(c, al, "local addresses changed");
	}
	al->backoff = AL_BACKOFF_MIN_MS;
	loop_timer_cancel(al->loop, &al->timer);
	al_connect(al);
}

void authlink_set_mapped(struct authlink *al, const struct sockaddr_in6 *ep)
{
	if (!al)
		return;
	al->have_mapped = ep != NULL;
	if (ep) {
		memcpy(al->mapped, &ep->sin6_addr, 16);
		al->mapped[16] = (uint8_t)(ntohs(ep->sin6_port) >> 8);
		al->mapped[17] = (uint8_t)ntohs(ep->sin6_port);
	}
	/* The authority answers REGISTERs in order and keeps the endpoints of
	 * the last: once one is out on this connection, answered or not, the
	 * change needs one more. Before that, the first REGISTER carries it. */
	if (al->state == AL_UP || al->state == AL_REGISTERING)
		al_send_register(al);
}

void authlink_stop(struct authlink *al)
{
	if (!al)
		return;
	loop_timer_cancel(al->loop, &al->timer);
	loop_timer_cancel(al->loop, &al->lk_timer);
	if (al->conn)
		tlsconn_free(al->conn);
	al->conn = NULL;
	al_fail_pending(al, "the overlay is going down");
	wolfSSL_CTX_free(al->ctx);
	free(al);
}

void authlink_lookup(struct authlink *al, const char *identity, int family, const uint8_t *addr,
    authlink_lookup_fn *fn, void *arg)
{
	struct al_lookup *lk;

	/* Refused: asking again changes nothing until it registers us. */
	if (!al->conn && al->refused[0]) {
		fn(arg, -ENOTCONN, al->refused, NULL);
		return;
	}
	lk = calloc(1, sizeof(*lk));
	if (!lk) {
		fn(arg, -ENOMEM, "out of memory", NULL);
		return;
	}
	lk->fn = fn;
	lk->arg = arg;
	lk->id = ++al->next_id;
	lk->deadline = loop_now_ms() + AL_LOOKUP_WAIT_MS;
	if (identity)
		snprintf(lk->identity, sizeof(lk->identity), "%s", identity);
	else {
		lk->family = family;
		memcpy(lk->addr, addr, family == AF_INET ? 4 : 16);
	}
	*al->tail = lk;
	al->tail = &lk->next;
	/* Until registered, MSG_REGISTERED's handler sends it. */
	if (al->state == AL_UP)
		al_send_lookup(al, lk);
	if (!lk->sent)
		al_arm_lookups(al);
}

void authlink_forget(struct authlink *al, void *arg)
{
	/* Keep the FIFO's shape (replies still come for sent ones): only
	 * neutralise the callbacks. */
	for (struct al_lookup *lk = al->pending; lk; lk = lk->next)
		if (lk->arg == arg)
			lk->fn = NULL;
}
