/*
 * Control requests, one handler each, found through a table. Handlers
 * check their arguments (the control socket is an input like any other)
 * and answer with a JSON result that q2qctl prints as text or as-is.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tund/authority/authority.h"
#include "tund/ctl/authority_json.h"
#include "tund/ctl/control.h"
#include "tund/ctl/metrics.h"
#include "tund/ctl/metrics_text.h"
#include "tund/ctl/request.h"
#include "tund/ctl/node_json.h"
#include "tund/ctl/overlay_json.h"
#include "tund/ctl/policy_json.h"
#include "tund/ctl/trust_json.h"
#include "identity/cert.h"
#include "identity/name.h"
#include "identity/trust.h"
#include "tund/conf/config.h"
#include "tund/daemon.h"
#include "tund/base/log.h"
#include "tund/base/loop.h"
#include "tund/node/node.h"
#include "tund/overlay/overlay.h"

/* A string argument, or NULL if absent; error reply if present but bad. */
static int arg_str(struct ctl_req *req, json_object *args, const char *key, int required,
    const char **out)
{
	char why[128];

	if (ctl_request_arg_str(args, key, required, out, why, sizeof(why)) == 0)
		return 0;
	ctl_reply_err(req, CTL_EXIT_USAGE, "%s", why);
	return -1;
}

/* The overlay's answer codes as the control protocol's exit codes. */
static int overlay_exit_code(int code)
{
	return code == OVERLAY_EUSAGE ? CTL_EXIT_USAGE : CTL_EXIT_FAIL;
}

static void overlay_status_json(struct overlay *ov, json_object *o)
{
	struct overlay_status_info st;

	overlay_status_info(ov, &st);
	overlay_json_status(&st, o);
}

static void node_status_json(struct node *n, json_object *o)
{
	struct node_status_info st;

	node_status_info(n, &st);
	node_json_status(&st, o);
}

/* The node's enrollment or renewal, for a request kept waiting (arg). */
static void reply_node(void *arg, int code, const char *msg, const struct node_status_info *st)
{
	if (code)
		ctl_reply_err(arg, code == NODE_EUSAGE ? CTL_EXIT_USAGE : CTL_EXIT_FAIL, "%s", msg);
	else
		ctl_reply_ok(arg, node_json_done(st, msg));
}

/* Answers from the overlay, for a request kept waiting (arg). */
static void reply_peer(void *arg, int code, const char *msg, const struct overlay_peer_info *p)
{
	if (code)
		ctl_reply_err(arg, overlay_exit_code(code), "%s", msg);
	else
		ctl_reply_ok(arg, overlay_json_peer(p));
}

static void reply_ping(void *arg, int code, const char *msg, const struct overlay_ping_info *pi)
{
	if (code)
		ctl_reply_err(arg, overlay_exit_code(code), "%s", msg);
	else
		ctl_reply_ok(arg, overlay_json_ping(pi));
}

static void cmd_status(struct daemon *d, struct ctl_req *req, json_object *args)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "pid", json_object_new_int(getpid()));
	json_object_object_add(o, "uptime", json_object_new_int64((int64_t)time(NULL) - d->started));
	json_object_object_add(o, "config", json_object_new_string(d->cfg.path));
	json_object_object_add(o, "interface", json_object_new_string(d->cfg.interface));
	node_status_json(d->node, o);
	if (d->overlay)
		overlay_status_json(d->overlay, o);
	else
		json_object_object_add(o, "up", json_object_new_boolean(0));
	if (d->authority) {
		struct authority_status_info st;
		authority_status_info(d->authority, &st);
		json_object_object_add(o, "authority_service", authority_json_status(&st));
	}
	ctl_reply_ok(req, o);
}

static int need_authority(struct daemon *d, struct ctl_req *req)
{
	if (d->authority)
		return 0;
	ctl_reply_err(req, CTL_EXIT_FAIL, "this q2qd is not an authority (no authority section in %s)",
	    d->cfg.path);
	return -1;
}

static void cmd_invite(struct daemon *d, struct ctl_req *req, json_object *args)
{
	const char *id;
	char token[128], err[256];
	int64_t expires;
	json_object *o;

	if (need_authority(d, req) < 0 || arg_str(req, args, "identity", 1, &id) < 0)
		return;
	if (authority_invite(d->authority, id, token, sizeof(token), &expires, err, sizeof(err)) < 0) {
		ctl_reply_err(req, CTL_EXIT_FAIL, "invite: %s", err);
		return;
	}
	o = authority_json_invite(id, token, expires);
	explicit_bzero(token, sizeof(token));
	ctl_reply_ok(req, o);
}

static void cmd_revoke(struct daemon *d, struct ctl_req *req, json_object *args)
{
	const char *id;
	char err[256];

	if (need_authority(d, req) < 0 || arg_str(req, args, "identity", 1, &id) < 0)
		return;
	if (authority_revoke(d->authority, id, err, sizeof(err)) < 0) {
		ctl_reply_err(req, CTL_EXIT_FAIL, "revoke: %s", err);
		return;
	}
	ctl_reply_ok(req, authority_json_revoked(id));
}

static void cmd_accounts(struct daemon *d, struct ctl_req *req, json_object *args)
{
	struct authority_status_info st;
	struct authority_account_info *as;
	int n, rc;

	if (need_authority(d, req) < 0)
		return;
	rc = authority_accounts_info(d->authority, &as, &n);
	if (rc < 0) {
		ctl_reply_err(req, CTL_EXIT_FAIL, "accounts: cannot read the registry: %s", strerror(-rc));
		return;
	}
	authority_status_info(d->authority, &st);
	ctl_reply_ok(req, authority_json_accounts(&st, as, n));
	free(as);
}

static void cmd_enroll(struct daemon *d, struct ctl_req *req, json_object *args)
{
	const char *id, *auth, *token, *fp;

	if (arg_str(req, args, "identity", 1, &id) < 0 ||
	    arg_str(req, args, "authority", 1, &auth) < 0 ||
	    arg_str(req, args, "token", 1, &token) < 0 ||
	    arg_str(req, args, "ca_fingerprint", 0, &fp) < 0)
		return;
	node_enroll(d->node, id, auth, token, fp, reply_node, req);
}

static void cmd_renew(struct daemon *d, struct ctl_req *req, json_object *args)
{
	node_renew(d->node, reply_node, req);
}

static void cmd_reload(struct daemon *d, struct ctl_req *req, json_object *args)
{
	char err[512];

	if (daemon_reload(d, err, sizeof(err)) < 0) {
		ctl_reply_err(req, CTL_EXIT_FAIL, "reload: %s (the running configuration is unchanged)", err);
		return;
	}
	ctl_reply_ok(req, NULL);
}

/* An up request waiting for the registration. */
struct up_wait {
	struct daemon *d;
	struct ctl_req *req;
};

static void reply_up(struct up_wait *u, enum overlay_reg r, const char *why)
{
	json_object *o;

	if (r == OVERLAY_REG_GONE) {
		ctl_reply_err(u->req, CTL_EXIT_FAIL, "up: %s before it registered", why);
		return;
	}
	o = json_object_new_object();
	node_status_json(u->d->node, o);
	overlay_status_json(u->d->overlay, o);
	json_object_object_add(o, "registered", json_object_new_boolean(r == OVERLAY_REG_DONE));
	if (r != OVERLAY_REG_DONE)
		json_object_object_add(o, "registration_error", json_object_new_string(why ? why : ""));
	ctl_reply_ok(u->req, o);
}

static void reply_up_wait(void *arg, enum overlay_reg r, const char *why)
{
	reply_up(arg, r, why);
	free(arg);
}

static void cmd_up(struct daemon *d, struct ctl_req *req, json_object *args)
{
	const char *exit_node = NULL;
	char err[512];
	struct up_wait *u;
	int was_up = d->overlay != NULL;

	if (arg_str(req, args, "exit_node", 0, &exit_node) < 0)
		return;
	if (exit_node && was_up) {
		ctl_reply_err(req, CTL_EXIT_USAGE, "up: already up; run q2qctl down first to pick an exit node");
		return;
	}
	if (!d->overlay && daemon_up(d, exit_node, err, sizeof(err)) < 0) {
		ctl_reply_err(req, CTL_EXIT_FAIL, "up: %s", err);
		return;
	}
	if (!was_up)
		node_set_want_up(d->node, 1, exit_node);
	/* Answered once registered: until then a peer looking this node up
	 * hears it is not there, and keeps that answer for a while. */
	u = malloc(sizeof(*u));
	if (!u) {
		reply_up(&(struct up_wait){ d, req }, OVERLAY_REG_NOT_YET, "out of memory");
		return;
	}
	u->d = d;
	u->req = req;
	overlay_await_registration(d->overlay, reply_up_wait, u);
}

static void cmd_down(struct daemon *d, struct ctl_req *req, json_object *args)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "was_up", json_object_new_boolean(d->overlay != NULL));
	daemon_down(d);
	node_set_want_up(d->node, 0, NULL);
	ctl_reply_ok(req, o);
}

static int need_up(struct daemon *d, struct ctl_req *req)
{
	if (d->overlay)
		return 0;
	ctl_reply_err(req, CTL_EXIT_FAIL, "the overlay is down (q2qctl up)");
	return -1;
}

/* The overlay's peers for a reply (the caller frees *ps), or -1 when an
 * error was answered already. */
static int peers_snapshot(struct daemon *d, struct ctl_req *req, struct overlay_peer_info **ps, int *n)
{
	if (need_up(d, req) < 0)
		return -1;
	if (overlay_peers_info(d->overlay, ps, n) < 0) {
		ctl_reply_err(req, CTL_EXIT_FAIL, "out of memory");
		return -1;
	}
	return 0;
}

static void cmd_peers(struct daemon *d, struct ctl_req *req, json_object *args)
{
	struct overlay_peer_info *ps;
	struct overlay_nat_info nat;
	int n;

	if (peers_snapshot(d, req, &ps, &n) < 0)
		return;
	overlay_nat_info(d->overlay, &nat);
	ctl_reply_ok(req, overlay_json_peers(ps, n, &nat));
	free(ps);
}

static void cmd_policy(struct daemon *d, struct ctl_req *req, json_object *args)
{
	struct overlay_peer_info *ps;
	int n;

	if (peers_snapshot(d, req, &ps, &n) < 0)
		return;
	ctl_reply_ok(req, policy_json(overlay_policy_state(d->overlay), d->cfg.policy_reject, ps, n, loop_now_ms()));
	free(ps);
}

static void cmd_resolve(struct daemon *d, struct ctl_req *req, json_object *args)
{
	const char *id;

	if (arg_str(req, args, "identity", 1, &id) == 0 && need_up(d, req) == 0)
		overlay_resolve(d->overlay, id, reply_peer, req);
}

static void cmd_whois(struct daemon *d, struct ctl_req *req, json_object *args)
{
	struct overlay_peer_info p;
	const char *addr;
	char err[512];
	int self, code;

	if (arg_str(req, args, "address", 1, &addr) < 0 || need_up(d, req) < 0)
		return;
	code = overlay_whois(d->overlay, addr, &p, &self, err, sizeof(err));
	if (code)
		ctl_reply_err(req, overlay_exit_code(code), "%s", err);
	else
		ctl_reply_ok(req, self ? overlay_json_self(p.identity) : overlay_json_peer(&p));
}

static void cmd_netcheck(struct daemon *d, struct ctl_req *req, json_object *args)
{
	struct overlay_nat_info nat;

	if (need_up(d, req) < 0)
		return;
	overlay_nat_info(d->overlay, &nat);
	ctl_reply_ok(req, overlay_json_nat(&nat));
}

static void cmd_ping(struct daemon *d, struct ctl_req *req, json_object *args)
{
	const char *id;

	if (arg_str(req, args, "identity", 1, &id) == 0 && need_up(d, req) == 0)
		overlay_ping(d->overlay, id, reply_ping, req);
}

/* The Prometheus text, as the HTTP listener serves it, in "text". */
static void cmd_metrics(struct daemon *d, struct ctl_req *req, json_object *args)
{
	struct metrics_text t;
	json_object *o;

	metrics_text_init(&t);
	if (metrics_collect(d, &t) < 0) {
		metrics_text_free(&t);
		ctl_reply_err(req, CTL_EXIT_FAIL, "metrics: out of memory");
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "text", json_object_new_string_len(t.buf ? t.buf : "", (int)t.len));
	metrics_text_free(&t);
	ctl_reply_ok(req, o);
}

/* ---- trust: which CA speaks for which domain ---- */

static void cmd_trust(struct daemon *d, struct ctl_req *req, json_object *args)
{
	ctl_reply_ok(req, trust_json_list(node_trust(d->node)));
}

static int arg_domain(struct ctl_req *req, json_object *args, const char **dom)
{
	char why[256];

	if (arg_str(req, args, "domain", 1, dom) < 0)
		return -1;
	if (id_parse_domain(*dom, why, sizeof(why)) < 0) {
		ctl_reply_err(req, CTL_EXIT_USAGE, "%s", why);
		return -1;
	}
	return 0;
}

static void cmd_trust_pin(struct daemon *d, struct ctl_req *req, json_object *args)
{
	const char *dom, *hex;
	uint8_t fp[32];
	int rc;

	if (arg_domain(req, args, &dom) < 0 || arg_str(req, args, "fingerprint", 1, &hex) < 0)
		return;
	if (cert_fingerprint_parse(hex, fp) < 0) {
		ctl_reply_err(req, CTL_EXIT_USAGE, "'%.100s' is not a SHA-256 fingerprint (64 hex digits)", hex);
		return;
	}
	rc = trust_pin_from(node_trust(d->node), dom, fp, TRUST_SRC_MANUAL, (int64_t)time(NULL));
	if (rc == -EEXIST) {
		ctl_reply_err(req, CTL_EXIT_FAIL, "%s already has another CA; `q2qctl trust forget %s` first",
		    dom, dom);
		return;
	}
	if (rc < 0) {
		ctl_reply_err(req, CTL_EXIT_FAIL, "cannot pin %s: %s", dom, strerror(-rc));
		return;
	}
	log_info("trust: %s pinned to %s (q2qctl trust pin)", dom, hex);
	ctl_reply_ok(req, trust_json_list(node_trust(d->node)));
}

static void cmd_trust_forget(struct daemon *d, struct ctl_req *req, json_object *args)
{
	const struct cert_info *ci = node_cert(d->node);
	const char *dom;
	int rc;

	if (arg_domain(req, args, &dom) < 0)
		return;
	for (int i = 0; i < d->cfg.n_trust; i++)
		if (d->cfg.trust[i].has_fingerprint && strcmp(d->cfg.trust[i].domain, dom) == 0) {
			ctl_reply_err(req, CTL_EXIT_FAIL, "%s is pinned in %s; remove its fingerprint there "
			    "and reload first", dom, d->cfg.path);
			return;
		}
	if ((ci && strcmp(strchr(ci->identity, '@') + 1, dom) == 0) ||
	    (d->cfg.authority.enabled && strcmp(d->cfg.authority.domain, dom) == 0)) {
		ctl_reply_err(req, CTL_EXIT_FAIL, "%s is this node's own domain; its CA stays", dom);
		return;
	}
	rc = trust_forget(node_trust(d->node), dom);
	if (rc == -ENOENT) {
		ctl_reply_err(req, CTL_EXIT_FAIL, "nothing is trusted for %s", dom);
		return;
	}
	if (rc < 0) {
		ctl_reply_err(req, CTL_EXIT_FAIL, "cannot forget %s: %s", dom, strerror(-rc));
		return;
	}
	log_info("trust: forgot the CA of %s (q2qctl trust forget)", dom);
	/* What relied on that CA goes with it. */
	if (d->overlay)
		log_info("trust: %d peer(s) of %s cut off", overlay_forget_domain(d->overlay, dom), dom);
	ctl_reply_ok(req, trust_json_list(node_trust(d->node)));
}

static const struct {
	const char *name;
	void (*fn)(struct daemon *d, struct ctl_req *req, json_object *args);
} commands[] = {
	{ "status", cmd_status },
	{ "invite", cmd_invite },
	{ "revoke", cmd_revoke },
	{ "accounts", cmd_accounts },
	{ "enroll", cmd_enroll },
	{ "renew", cmd_renew },
	{ "reload", cmd_reload },
	{ "up", cmd_up },
	{ "down", cmd_down },
	{ "peers", cmd_peers },
	{ "policy", cmd_policy },
	{ "resolve", cmd_resolve },
	{ "whois", cmd_whois },
	{ "ping", cmd_ping },
	{ "netcheck", cmd_netcheck },
	{ "metrics", cmd_metrics },
	{ "trust", cmd_trust },
	{ "trust_pin", cmd_trust_pin },
	{ "trust_forget", cmd_trust_forget },
};

void commands_dispatch(void *arg, struct ctl_req *req, const char *cmd, json_object *args)
{
	struct daemon *d = arg;
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i].name, cmd) == 0) {
			commands[i].fn(d, req, args);
			return;
		}
	}
	ctl_reply_err(req, CTL_EXIT_USAGE, "unknown command '%.64s'", cmd);
}
