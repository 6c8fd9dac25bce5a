/*
 * JSON for the overlay's answers (overlay_json.h), from its snapshots.
 * The overlay itself knows no JSON: it exports plain structs, and this
 * file is the one place that says how they look on the control socket.
 */
#include <arpa/inet.h>

#include "identity/addr.h"
#include "tund/ctl/overlay_json.h"
#include "tund/overlay/overlay.h"

static const char *overlay_json_path(enum overlay_path path)
{
	switch (path) {
	case OVERLAY_PATH_DIRECT: return "direct";
	case OVERLAY_PATH_RELAY: return "relay";
	default: return "none";
	}
}

json_object *overlay_json_peer(const struct overlay_peer_info *p)
{
	json_object *o = json_object_new_object();
	char buf[INET6_ADDRSTRLEN + 8];

	json_object_object_add(o, "identity", json_object_new_string(p->identity));
	if (p->have_cert) {
		json_object *r = json_object_new_array();

		inet_ntop(AF_INET, p->ci.v4, buf, sizeof(buf));
		json_object_object_add(o, "ipv4", p->no_v4 ? NULL : json_object_new_string(buf));
		/* Another domain's peer: the address its CA certified, which
		 * this node translates to and from ipv4. */
		if (p->translated) {
			inet_ntop(AF_INET, p->cert_v4, buf, sizeof(buf));
			json_object_object_add(o, "cert_ipv4", json_object_new_string(buf));
		}
		inet_ntop(AF_INET6, p->ci.v6, buf, sizeof(buf));
		json_object_object_add(o, "ipv6", json_object_new_string(buf));
		for (int i = 0; i < p->ci.n_routes; i++) {
			addr_prefix_format(&p->ci.routes[i], buf, sizeof(buf));
			json_object_array_add(r, json_object_new_string(buf));
		}
		json_object_object_add(o, "routes", r);
		json_object_object_add(o, "cert_not_after", json_object_new_int64(p->ci.not_after));
		json_object_object_add(o, "cert_serial", json_object_new_string(p->ci.serial));
	} else if (p->remembered) {
		/* No peer now: the addresses this node gave it, nothing more. */
		inet_ntop(AF_INET, p->ci.v4, buf, sizeof(buf));
		json_object_object_add(o, "ipv4", json_object_new_string(buf));
		inet_ntop(AF_INET6, p->ci.v6, buf, sizeof(buf));
		json_object_object_add(o, "ipv6", json_object_new_string(buf));
		json_object_object_add(o, "remembered", json_object_new_boolean(1));
	}
	return o;
}

/* What the authority saw of a peer's NAT; null when it does not know. */
static json_object *overlay_json_peer_nat(const struct overlay_peer_info *p)
{
	json_object *j;

	if (!p->nat_known)
		return NULL;
	j = json_object_new_object();
	json_object_object_add(j, "mapping_varies_by_destination", json_object_new_boolean(p->nat_varies));
	json_object_object_add(j, "port_preserved", json_object_new_boolean(p->nat_preserves));
	return j;
}

static json_object *overlay_json_peer_full(const struct overlay_peer_info *p)
{
	json_object *j = overlay_json_peer(p), *eps = json_object_new_array();

	json_object_object_add(j, "endpoint", p->have_endpoint ? json_object_new_string(p->endpoint) : NULL);
	for (int i = 0; i < p->n_candidates; i++)
		json_object_array_add(eps, json_object_new_string(p->candidates[i]));
	json_object_object_add(j, "candidates", eps);
	json_object_object_add(j, "path", json_object_new_string(overlay_json_path(p->path)));
	json_object_object_add(j, "relay_authority", p->relay_authority[0] ?
	    json_object_new_string(p->relay_authority) : NULL);
	json_object_object_add(j, "hairpin", json_object_new_boolean(p->hairpin));
	json_object_object_add(j, "peer_nat", overlay_json_peer_nat(p));
	if (p->birthday) {
		json_object *b = json_object_new_object();
		json_object_object_add(b, "role", json_object_new_string(p->bday_prober ? "prober" : "mapper"));
		json_object_object_add(b, "probes_sent", json_object_new_int(p->bday_probes_sent));
		json_object_object_add(b, "sockets", json_object_new_int(p->bday_sockets));
		json_object_object_add(b, "hit", json_object_new_boolean(p->bday_hit));
		json_object_object_add(j, "birthday", b);
	}
	json_object_object_add(j, "session", json_object_new_boolean(p->session));
	json_object_object_add(j, "cipher", p->cipher ? json_object_new_string(p->cipher) : NULL);
	json_object_object_add(j, "path_mtu", p->path_mtu ? json_object_new_int(p->path_mtu) : NULL);
	json_object_object_add(j, "mtu", p->mtu ? json_object_new_int(p->mtu) : NULL);
	json_object_object_add(j, "handshake_age", p->have_handshake ?
	    json_object_new_int64(p->handshake_age_s) : NULL);
	json_object_object_add(j, "rx_bytes", json_object_new_int64((int64_t)p->rx_bytes));
	json_object_object_add(j, "tx_bytes", json_object_new_int64((int64_t)p->tx_bytes));
	json_object_object_add(j, "rx_packets", json_object_new_int64((int64_t)p->rx_packets));
	json_object_object_add(j, "tx_packets", json_object_new_int64((int64_t)p->tx_packets));
	json_object_object_add(j, "policy_denied", json_object_new_int64((int64_t)p->policy_denied));
	return j;
}

/* Which port-mapping protocols answered, and what the gateway granted. */
static json_object *overlay_json_portmap(const struct portmap_info *pm)
{
	json_object *j = json_object_new_object(), *protos = json_object_new_array(), *m = NULL;

	json_object_object_add(j, "enabled", json_object_new_boolean(pm->enabled));
	json_object_object_add(j, "gateway", pm->gateway[0] ? json_object_new_string(pm->gateway) : NULL);
	for (int i = 0; i < PORTMAP_PROTOS && pm->enabled; i++) {
		json_object *p = json_object_new_object();

		json_object_object_add(p, "name", json_object_new_string(pm->proto[i].name));
		json_object_object_add(p, "state", json_object_new_string(pm->proto[i].state));
		if (pm->proto[i].detail[0])
			json_object_object_add(p, "detail", json_object_new_string(pm->proto[i].detail));
		json_object_array_add(protos, p);
	}
	json_object_object_add(j, "protocols", protos);
	if (pm->mapped) {
		m = json_object_new_object();
		json_object_object_add(m, "protocol", json_object_new_string(pm->protocol));
		json_object_object_add(m, "external", json_object_new_string(pm->external));
		json_object_object_add(m, "lifetime", json_object_new_int64(pm->lifetime));
		json_object_object_add(m, "expires_in", json_object_new_int64(pm->expires_in));
	}
	json_object_object_add(j, "mapping", m);
	return j;
}

json_object *overlay_json_nat(const struct overlay_nat_info *nat)
{
	json_object *j = json_object_new_object(), *refl = json_object_new_array();

	json_object_object_add(j, "local_port", json_object_new_int(nat->local_port));
	for (int k = 0; k < 2; k++)
		if (nat->have_reflexive[k])
			json_object_array_add(refl, json_object_new_string(nat->reflexive[k]));
	json_object_object_add(j, "reflexive", refl);
	json_object_object_add(j, "authority_udp", json_object_new_boolean(nat->have_reflexive[0]));
	if (nat->have_reflexive[0] && nat->have_reflexive[1]) {
		json_object_object_add(j, "mapping_varies_by_destination",
		    json_object_new_boolean(nat->mapping_varies));
		json_object_object_add(j, "port_preserved", json_object_new_boolean(nat->port_preserved));
		json_object_object_add(j, "behind_nat", json_object_new_boolean(nat->behind_nat));
	}
	json_object_object_add(j, "portmap", overlay_json_portmap(&nat->portmap));
	return j;
}

json_object *overlay_json_peers(const struct overlay_peer_info *ps, int n, const struct overlay_nat_info *nat)
{
	json_object *r = json_object_new_object(), *arr = json_object_new_array();

	for (int i = 0; i < n; i++)
		json_object_array_add(arr, overlay_json_peer_full(&ps[i]));
	json_object_object_add(r, "peers", arr);
	json_object_object_add(r, "nat", overlay_json_nat(nat));
	return r;
}

json_object *overlay_json_self(const char *identity)
{
	json_object *r = json_object_new_object();

	json_object_object_add(r, "identity", json_object_new_string(identity));
	json_object_object_add(r, "self", json_object_new_boolean(1));
	return r;
}

json_object *overlay_json_ping(const struct overlay_ping_info *pi)
{
	json_object *r = json_object_new_object();

	json_object_object_add(r, "identity", json_object_new_string(pi->identity));
	json_object_object_add(r, "rtt_ms", json_object_new_double(pi->rtt_ms));
	json_object_object_add(r, "path", json_object_new_string(
	    pi->path == OVERLAY_PATH_RELAY ? "relay" : "direct"));
	json_object_object_add(r, "endpoint", json_object_new_string(pi->endpoint));
	return r;
}

/* "authorities": each link, with when it last had fresh revocation news
 * (Unix time, null never). */
static void overlay_json_links(const struct overlay_status_info *st, json_object *obj)
{
	json_object *arr = json_object_new_array();

	for (int i = 0; i < st->n_links; i++) {
		const struct overlay_link_info *li = &st->links[i];
		json_object *j = json_object_new_object();

		json_object_object_add(j, "domain", json_object_new_string(li->domain));
		json_object_object_add(j, "link", json_object_new_string(li->state));
		json_object_object_add(j, "revocation_news", li->revocation_news ?
		    json_object_new_int64(li->revocation_news) : NULL);
		json_object_object_add(j, "revocation_cursor", json_object_new_int64((int64_t)li->revocation_cursor));
		json_object_array_add(arr, j);
	}
	json_object_object_add(obj, "authorities", arr);
}

static void overlay_json_exit(const struct routes_exit_info *x, json_object *obj)
{
	json_object *j = NULL;

	if (x->chosen[0]) {
		j = json_object_new_object();
		json_object_object_add(j, "identity", json_object_new_string(x->chosen));
		json_object_object_add(j, "session", json_object_new_boolean(x->session));
		json_object_object_add(j, "grants_default_route", json_object_new_boolean(x->grants));
	}
	json_object_object_add(obj, "exit_node", j);
	json_object_object_add(obj, "serving_as_exit_node", json_object_new_boolean(x->serving));
}

/* "workers": the data path's threads; "worker_packets": what each
 * sealed or opened in batches (the loop thread first). */
static void overlay_json_workers(const struct overlay_status_info *st, json_object *obj)
{
	json_object *arr = json_object_new_array();

	for (int i = 0; i < st->workers && i < WORKERS_MAX; i++)
		json_object_array_add(arr, json_object_new_int64((int64_t)st->worker_packets[i]));
	json_object_object_add(obj, "workers", json_object_new_int(st->workers));
	json_object_object_add(obj, "worker_packets", arr);
}

void overlay_json_status(const struct overlay_status_info *st, json_object *obj)
{
	json_object_object_add(obj, "up", json_object_new_boolean(1));
	json_object_object_add(obj, "port", json_object_new_int(st->port));
	json_object_object_add(obj, "interface", json_object_new_string(st->ifname));
	json_object_object_add(obj, "authority_link", json_object_new_string(st->authority_link));
	json_object_object_add(obj, "drops_auth", json_object_new_int64((int64_t)st->drops_auth));
	json_object_object_add(obj, "drops_replay", json_object_new_int64((int64_t)st->drops_replay));
	json_object_object_add(obj, "drops_source", json_object_new_int64((int64_t)st->drops_source));
	json_object_object_add(obj, "gso_split", json_object_new_int64((int64_t)st->gso_split));
	json_object_object_add(obj, "udp_rests", json_object_new_int64((int64_t)st->udp_rests));
	overlay_json_exit(&st->exit, obj);
	overlay_json_workers(st, obj);
	overlay_json_links(st, obj);
}
