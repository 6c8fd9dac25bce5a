/*
 * DNS discovery of foreign authorities through libunbound. One context per
 * daemon; each lookup walks SRV -> TLSA -> AAAA -> A, one query at a time,
 * so a lookup is a small state machine driven by libunbound's callbacks
 * (which ub_process runs on the loop's thread, from discover_io).
 *
 * DNSSEC is judged per answer: a bogus one ends the lookup whatever the
 * policy (someone forged or broke the zone); an insecure one (unsigned
 * zone) is passed on marked !secure, and node.c decides, with the trust
 * policy, whether it may be used at all. Records are parsed by dnsrr.c.
 *
 * The worker is a thread, started in discover_init: the engine's seccomp
 * filter (tund/priv/sandbox.c) forbids clone, and is synced to every
 * thread when it is installed, so the worker runs filtered too.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include <unbound.h>

#include "tund/base/log.h"
#include "tund/base/loop.h"
#include "tund/conf/config.h"
#include "tund/node/discover.h"

#define RR_A		1
#define RR_AAAA		28
#define RR_SRV		33
#define RR_TLSA		52
#define CLASS_IN	1
#define DISCOVER_MAX_SRV 8

enum dstep { STEP_SRV, STEP_TLSA, STEP_AAAA, STEP_A };

struct dquery {
	struct dquery *next;
	struct discover *d;
	discover_fn *fn;
	void *arg;
	enum dstep step;
	int async_id;
	int busy;			/* a query is out at libunbound */
	struct discover_answer a;
	char domain[DNSRR_NAME_MAX + 1];
	char qname[DNSRR_NAME_MAX + 2];
};

struct discover {
	struct loop *loop;
	struct ub_ctx *ctx;
	struct loop_io io;
	struct dquery *queries;
};

static void dq_unlink(struct dquery *q)
{
	for (struct dquery **pp = &q->d->queries; *pp; pp = &(*pp)->next)
		if (*pp == q) {
			*pp = q->next;
			return;
		}
}

static void dq_finish(struct dquery *q, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void dq_finish(struct dquery *q, int err, const char *fmt, ...)
{
	char why[512] = "";
	va_list ap;

	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(why, sizeof(why), fmt, ap);
		va_end(ap);
	}
	dq_unlink(q);
	q->a.domain = q->domain;
	if (q->a.ttl > DISCOVER_TTL_MAX)
		q->a.ttl = DISCOVER_TTL_MAX;
	if (q->a.ttl < DISCOVER_TTL_MIN)
		q->a.ttl = DISCOVER_TTL_MIN;
	if (q->fn)
		q->fn(q->arg, err, err ? why : NULL, &q->a);
	free(q);
}

static void dq_callback(void *mydata, int err, struct ub_result *r);

static void dq_ask(struct dquery *q, const char *name, int type)
{
	int rc;

	snprintf(q->qname, sizeof(q->qname), "%s.", name);
	rc = ub_resolve_async(q->d->ctx, q->qname, type, CLASS_IN, q, dq_callback, &q->async_id);
	if (rc != 0) {
		dq_finish(q, -EIO, "%s: cannot ask for %s: %s", q->domain, q->qname, ub_strerror(rc));
		return;
	}
	q->busy = 1;
}

/* An answer's DNSSEC state: -EBADMSG for bogus (refused whatever the
 * policy), else whether it was validated. */
static int dq_judge(struct dquery *q, const struct ub_result *r, const char *what)
{
	if (r->bogus) {
		dq_finish(q, -EBADMSG, "%s: bogus DNSSEC signature on %s %s: %s", q->domain, what,
		    q->qname, r->why_bogus ? r->why_bogus : "validation failed");
		return -EBADMSG;
	}
	if (!r->secure && !q->a.insecure_why[0])
		snprintf(q->a.insecure_why, sizeof(q->a.insecure_why),
		    "%s %s is not DNSSEC-signed (insecure zone)", what, q->qname);
	return r->secure;
}

static void dq_on_srv(struct dquery *q, struct ub_result *r)
{
	struct dnsrr_srv v[DISCOVER_MAX_SRV];
	const struct dnsrr_srv *best;
	char why[128];
	int n = 0, sec;

	if ((sec = dq_judge(q, r, "SRV")) < 0)
		return;
	if (!r->havedata) {
		dq_finish(q, -ENOENT, "%s: no SRV record %s (%s)", q->domain, q->qname,
		    r->nxdomain ? "no such name" : "no data");
		return;
	}
	for (int i = 0; r->data[i] && n < DISCOVER_MAX_SRV; i++) {
		if (dnsrr_srv_parse((const uint8_t *)r->data[i], (size_t)r->len[i], &v[n], why,
		    sizeof(why)) < 0) {
			log_warnx("discover: %s: skipping a malformed SRV record: %s", q->domain, why);
			continue;
		}
		n++;
	}
	best = dnsrr_srv_pick(v, n);
	if (!best) {
		dq_finish(q, -ENOENT, "%s: no usable SRV record at %s", q->domain, q->qname);
		return;
	}
	q->a.secure = sec;
	snprintf(q->a.target, sizeof(q->a.target), "%s", best->target);
	q->a.authority.sin6_family = AF_INET6;
	q->a.authority.sin6_port = htons(best->port);
	if (dnsrr_tlsa_name(best, q->a.tlsa_name, sizeof(q->a.tlsa_name)) < 0) {
		dq_finish(q, -ENAMETOOLONG, "%s: SRV target %s is too long", q->domain, best->target);
		return;
	}
	q->step = STEP_TLSA;
	dq_ask(q, q->a.tlsa_name, RR_TLSA);
}

static void dq_on_tlsa(struct dquery *q, struct ub_result *r)
{
	char why[128];
	int sec;

	if ((sec = dq_judge(q, r, "TLSA")) < 0)
		return;
	/* TLSA counts only when validated: an unsigned one proves nothing. */
	if (!sec)
		q->a.secure = 0;
	for (int i = 0; q->a.secure && r->havedata && r->data[i] && q->a.ntlsa < DISCOVER_MAX_TLSA; i++) {
		if (dnsrr_tlsa_parse((const uint8_t *)r->data[i], (size_t)r->len[i],
		    &q->a.tlsa[q->a.ntlsa], why, sizeof(why)) < 0) {
			log_warnx("discover: %s: skipping a malformed TLSA record: %s", q->domain, why);
			continue;
		}
		q->a.ntlsa++;
	}
	q->step = STEP_AAAA;
	dq_ask(q, q->a.target, RR_AAAA);
}

static void dq_on_addr(struct dquery *q, struct ub_result *r)
{
	struct in6_addr *a6 = &q->a.authority.sin6_addr;

	if (dq_judge(q, r, q->step == STEP_AAAA ? "AAAA" : "A") < 0)
		return;
	/* The address needs no signature of its own: the CA is checked
	 * against the TLSA (or the policy) once connected. */
	for (int i = 0; r->havedata && r->data[i]; i++) {
		if (q->step == STEP_AAAA && r->len[i] == 16) {
			memcpy(a6, r->data[i], 16);
			dq_finish(q, 0, NULL);
			return;
		}
		if (q->step == STEP_A && r->len[i] == 4) {
			memset(a6, 0, sizeof(*a6));
			a6->s6_addr[10] = a6->s6_addr[11] = 0xff;
			memcpy(&a6->s6_addr[12], r->data[i], 4);
			dq_finish(q, 0, NULL);
			return;
		}
	}
	if (q->step == STEP_AAAA) {
		q->step = STEP_A;
		dq_ask(q, q->a.target, RR_A);
		return;
	}
	dq_finish(q, -ENOENT, "%s: the SRV target %s has no address", q->domain, q->a.target);
}

static void dq_callback(void *mydata, int err, struct ub_result *r)
{
	struct dquery *q = mydata;

	q->busy = 0;
	if (!q->fn) {
		dq_finish(q, -ECANCELED, "cancelled");	/* nobody waits: ask no more */
	} else if (err != 0 || !r) {
		dq_finish(q, -EIO, "%s: DNS lookup of %s failed: %s", q->domain, q->qname, ub_strerror(err));
	} else if (r->rcode != 0 && r->rcode != 3) {
		dq_finish(q, -EIO, "%s: DNS lookup of %s failed: rcode %d", q->domain, q->qname, r->rcode);
	} else {
		if (r->havedata && r->ttl >= 0 && (uint32_t)r->ttl < q->a.ttl)
			q->a.ttl = (uint32_t)r->ttl;
		switch (q->step) {
		case STEP_SRV: dq_on_srv(q, r); break;
		case STEP_TLSA: dq_on_tlsa(q, r); break;
		default: dq_on_addr(q, r); break;
		}
	}
	if (r)
		ub_resolve_free(r);
}

static void discover_io(struct loop_io *io, uint32_t events)
{
	struct discover *d = (struct discover *)((char *)io - offsetof(struct discover, io));
	int rc = ub_process(d->ctx);

	if (rc != 0)
		log_warnx("discover: %s", ub_strerror(rc));
}

static void discover_primed(void *mydata, int err, struct ub_result *r)
{
	if (r)
		ub_resolve_free(r);
}

int discover_init(struct loop *l, const struct config *cfg, struct discover **out,
    char *err, size_t errlen)
{
	struct discover *d;
	int rc, id;

	*out = NULL;
	if (cfg->trust_policy == CONFIG_TRUST_PINNED)
		return 0;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->loop = l;
	d->io.fn = discover_io;
	d->io.fd = -1;
	d->ctx = ub_ctx_create();
	if (!d->ctx) {
		snprintf(err, errlen, "dns: cannot create a resolver context");
		rc = -ENOMEM;
		goto fail;
	}
	if ((rc = ub_ctx_async(d->ctx, 1)) != 0 ||
	    (cfg->dns_resolver[0] && (rc = ub_ctx_set_fwd(d->ctx, cfg->dns_resolver)) != 0)) {
		snprintf(err, errlen, "dns: resolver %s: %s", cfg->dns_resolver, ub_strerror(rc));
		rc = -EINVAL;
		goto fail;
	}
	if ((rc = ub_ctx_add_ta_file(d->ctx, cfg->dns_anchor)) != 0) {
		snprintf(err, errlen, "dns_anchor %s: %s", cfg->dns_anchor, ub_strerror(rc));
		rc = -EINVAL;
		goto fail;
	}
	/* "localhost." is answered inside libunbound (a default local zone),
	 * so this asks nobody; it reads the anchor and starts the worker
	 * thread while that is still allowed. */
	rc = ub_resolve_async(d->ctx, "localhost.", RR_A, CLASS_IN, NULL, discover_primed, &id);
	if (rc == 0)
		rc = ub_wait(d->ctx);
	if (rc != 0) {
		snprintf(err, errlen, "dns: cannot start the resolver (trust anchor %s): %s",
		    cfg->dns_anchor, ub_strerror(rc));
		rc = -EINVAL;
		goto fail;
	}
	d->io.fd = ub_fd(d->ctx);
	if (d->io.fd < 0 || (rc = loop_add(l, &d->io, EPOLLIN)) < 0) {
		snprintf(err, errlen, "dns: cannot watch the resolver");
		rc = -EIO;
		goto fail;
	}
	*out = d;
	return 0;
fail:
	if (d->ctx)
		ub_ctx_delete(d->ctx);
	free(d);
	return rc;
}

void discover_free(struct discover *d)
{
	if (!d)
		return;
	loop_del(d->loop, &d->io);
	while (d->queries) {
		struct dquery *q = d->queries;

		d->queries = q->next;
		if (q->busy)
			ub_cancel(d->ctx, q->async_id);
		free(q);
	}
	ub_ctx_delete(d->ctx);
	free(d);
}

void discover_domain(struct discover *d, const char *domain, discover_fn *fn, void *arg)
{
	struct dquery *q = calloc(1, sizeof(*q));
	char name[DNSRR_NAME_MAX + 1];

	if (!q) {
		fn(arg, -ENOMEM, "out of memory", NULL);
		return;
	}
	q->d = d;
	q->fn = fn;
	q->arg = arg;
	q->a.ttl = UINT32_MAX;		/* lowered by each answer's records */
	snprintf(q->domain, sizeof(q->domain), "%s", domain);
	q->next = d->queries;
	d->queries = q;
	snprintf(name, sizeof(name), "_q2q._tcp.%s", domain);
	q->step = STEP_SRV;
	dq_ask(q, name, RR_SRV);
}

void discover_cancel(struct discover *d, void *arg)
{
	if (!d)
		return;
	for (struct dquery *q = d->queries; q; q = q->next)
		if (q->arg == arg)
			q->fn = NULL;
}
