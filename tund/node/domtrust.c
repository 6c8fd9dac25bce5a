/*
 * The decision of domtrust.h, and the evidence it rests on: a small table
 * of what the last DNS lookup of each domain said (validated or not, the
 * TLSA records, why not). Entries are replaced by newer lookups of the
 * same domain and, when the table is full, the oldest goes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "identity/cert.h"
#include "identity/name.h"
#include "identity/trust.h"
#include "tund/base/log.h"
#include "tund/base/loop.h"
#include "tund/conf/config.h"
#include "tund/node/domtrust.h"

#define DT_EVIDENCE 32

struct dt_evidence {
	char domain[DNSRR_NAME_MAX + 1];
	uint64_t when;			/* 0: slot free */
	uint64_t expires;		/* loop ms: the answer's TTL, then it is asked again */
	int failed;			/* the lookup itself failed: why */
	struct discover_answer a;	/* a.domain unused here */
	char why[512];
};

struct dt_req {
	struct dt_req *next;
	struct domtrust *dt;
	discover_fn *fn;
	void *arg;
};

struct domtrust {
	const struct config *cfg;
	struct trust_store *ts;
	struct discover *disc;
	struct dt_evidence ev[DT_EVIDENCE];
	struct dt_req *reqs;
};

int domtrust_init(struct loop *l, const struct config *cfg, struct trust_store *ts,
    struct domtrust **out, char *err, size_t errlen)
{
	struct domtrust *dt = calloc(1, sizeof(*dt));
	int rc;

	if (!dt)
		return -ENOMEM;
	dt->cfg = cfg;
	dt->ts = ts;
	/* Without a usable resolver or anchor the node still runs: pins
	 * work, and every lookup of another domain says why it cannot. */
	rc = discover_init(l, cfg, &dt->disc, err, errlen);
	if (rc < 0)
		log_warnx("%s; other domains are reachable only through pinned trust entries", err);
	*out = dt;
	return 0;
}

void domtrust_free(struct domtrust *dt)
{
	if (!dt)
		return;
	discover_free(dt->disc);
	while (dt->reqs) {
		struct dt_req *r = dt->reqs;

		dt->reqs = r->next;
		free(r);
	}
	free(dt);
}

static struct dt_evidence *dt_find(struct domtrust *dt, const char *domain)
{
	for (int i = 0; i < DT_EVIDENCE; i++)
		if (dt->ev[i].when && strcmp(dt->ev[i].domain, domain) == 0)
			return dt->ev[i].expires > loop_now_ms() ? &dt->ev[i] : NULL;
	return NULL;
}

static struct dt_evidence *dt_slot(struct domtrust *dt, const char *domain)
{
	struct dt_evidence *old = &dt->ev[0];

	for (int i = 0; i < DT_EVIDENCE; i++)
		if (dt->ev[i].when && strcmp(dt->ev[i].domain, domain) == 0)
			return &dt->ev[i];	/* expired or not: replaced */
	for (int i = 0; i < DT_EVIDENCE; i++) {
		if (!dt->ev[i].when)
			return &dt->ev[i];
		if (dt->ev[i].when < old->when)
			old = &dt->ev[i];
	}
	return old;
}

static void dt_learned(const char *domain, const uint8_t *der, size_t len, const char *how)
{
	uint8_t fp[32];
	char hex[65];

	cert_fingerprint(der, len, fp);
	cert_fingerprint_hex(fp, hex);
	log_info("trust: learned and pinned the CA of %s (%s): %s", domain, how, hex);
}

int domtrust_judge(struct domtrust *dt, const char *domain, const uint8_t *der, size_t len,
    const char *who, char *err, size_t errlen)
{
	struct dt_evidence *e;
	enum trust_verdict v;
	uint8_t fp[32];
	char hex[65], e_[512];

	cert_fingerprint(der, len, fp);
	cert_fingerprint_hex(fp, hex);
	/* Pins, and CAs trusted before, win over anything DNS says. */
	if (trust_known(dt->ts, domain)) {
		v = trust_check(dt->ts, domain, der, len, 0, e_, sizeof(e_));
		if (v == TRUST_MATCH)
			return 0;
		snprintf(err, errlen, "%s: CA changed: %s presented %s: %s", domain, who, hex, e_);
		return -EPERM;
	}
	if (dt->cfg->trust_policy == CONFIG_TRUST_PINNED) {
		snprintf(err, errlen, "%s: no pin for this domain (trust_policy = \"pinned\"); %s presented "
		    "CA %s; nothing pinned", domain, who, hex);
		return -EPERM;
	}
	e = dt_find(dt, domain);
	if (e && !e->failed && e->a.secure && e->a.ntlsa) {
		int usable = 0;

		for (int i = 0; i < e->a.ntlsa; i++) {
			int m = dnsrr_tlsa_match(&e->a.tlsa[i], der, len);

			usable += m >= 0;
			if (m == 1) {
				v = trust_learn(dt->ts, domain, der, len, TRUST_SRC_DNSSEC,
				    (int64_t)time(NULL), e_, sizeof(e_));
				if (v != TRUST_LEARNED && v != TRUST_MATCH) {
					snprintf(err, errlen, "%s: %s", domain, e_);
					return -EPERM;
				}
				dt_learned(domain, der, len, "DNSSEC-validated TLSA");
				return 0;
			}
		}
		snprintf(err, errlen, "%s: TLSA mismatch: %s presented CA %s, which %s TLSA record at %s "
		    "names; nothing pinned", domain, who, hex, usable ? "no" : "no usable (2 0 1 or 2 1 1)",
		    e->a.tlsa_name);
		return -EPERM;
	}
	if (dt->cfg->trust_policy == CONFIG_TRUST_FIRST_USE) {
		v = trust_check(dt->ts, domain, der, len, 1, e_, sizeof(e_));
		if (v != TRUST_LEARNED && v != TRUST_MATCH) {
			snprintf(err, errlen, "%s: %s", domain, e_);
			return -EPERM;
		}
		dt_learned(domain, der, len, "first use");
		return 0;
	}
	if (!e && !dt->disc) {
		snprintf(err, errlen, "%s: no pin, and DNS cannot be asked (no usable resolver or trust "
		    "anchor); %s presented CA %s; nothing pinned", domain, who, hex);
		return -EPERM;
	}
	if (!e) {
		snprintf(err, errlen, "%s: not yet looked up in DNS", domain);
		return -EAGAIN;
	}
	if (e->failed)
		snprintf(err, errlen, "%s; nothing pinned", e->why);
	else if (!e->a.secure)
		snprintf(err, errlen, "%s: %s; trust_policy = \"dnssec\" takes DNSSEC-validated CAs only; "
		    "nothing pinned", domain, e->a.insecure_why);
	else
		snprintf(err, errlen, "%s: no TLSA record at %s; nothing pinned", domain, e->a.tlsa_name);
	return -EPERM;
}

void domtrust_note(struct domtrust *dt, const char *domain, int err, const char *why,
    const struct discover_answer *a)
{
	struct dt_evidence *e = dt_slot(dt, domain);

	memset(e, 0, sizeof(*e));
	snprintf(e->domain, sizeof(e->domain), "%s", domain);
	e->when = loop_now_ms();
	/* A failure is kept as long as the shortest answer: a zone that was
	 * mended is found again soon. */
	e->expires = e->when + 1000ull * (err || !a || a->ttl < DISCOVER_TTL_MIN ? DISCOVER_TTL_MIN :
	    a->ttl > DISCOVER_TTL_MAX ? DISCOVER_TTL_MAX : a->ttl);
	if (err) {
		e->failed = 1;
		snprintf(e->why, sizeof(e->why), "%s", why ? why : "lookup failed");
		log_warnx("discover: %s", e->why);
		return;
	}
	e->a = *a;
	e->a.domain = NULL;
	log_info("discover: %s: authority %s port %u, %s, %d TLSA record(s)", domain,
	    a->target, (unsigned)ntohs(a->authority.sin6_port),
	    a->secure ? "DNSSEC-validated" : "not validated", a->ntlsa);
}

static void dt_done(void *arg, int err, const char *why, const struct discover_answer *a)
{
	struct dt_req *r = arg, **pp;
	struct domtrust *dt = r->dt;
	const char *domain = a ? a->domain : NULL;

	if (domain)
		domtrust_note(dt, domain, err, why, a);
	for (pp = &dt->reqs; *pp; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	if (r->fn)
		r->fn(r->arg, err, why, a);
	free(r);
}

void domtrust_discover(struct domtrust *dt, const char *domain, discover_fn *fn, void *arg)
{
	struct dt_req *r;
	char why[256], msg[320];

	/* Names from the network (a broker's caller) reach here too. */
	if (id_parse_domain(domain, why, sizeof(why)) < 0) {
		snprintf(msg, sizeof(msg), "not looked up in DNS: %s", why);
		if (fn)
			fn(arg, -EINVAL, msg, NULL);
		return;
	}
	/* "pinned" may come by reload, with the resolver still there. */
	if (!dt->disc || dt->cfg->trust_policy == CONFIG_TRUST_PINNED) {
		if (fn)
			fn(arg, -EPERM, dt->cfg->trust_policy == CONFIG_TRUST_PINNED ?
			    "not looked up in DNS (trust_policy = \"pinned\")" :
			    "not looked up in DNS: no usable resolver or trust anchor (see the log at start)",
			    NULL);
		return;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		if (fn)
			fn(arg, -ENOMEM, "out of memory", NULL);
		return;
	}
	r->dt = dt;
	r->fn = fn;
	r->arg = arg;
	r->next = dt->reqs;
	dt->reqs = r;
	discover_domain(dt->disc, domain, dt_done, r);
}

void domtrust_cancel(struct domtrust *dt, void *arg)
{
	if (!dt)
		return;
	for (struct dt_req *r = dt->reqs; r; r = r->next)
		if (r->arg == arg)
			r->fn = NULL;
}
