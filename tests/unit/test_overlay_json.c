/* The overlay's answers on the control socket (tund/ctl/overlay_json.c):
 * the exact JSON `q2qctl peers/resolve/whois/ping/netcheck/status --json`
 * print for given snapshots, keys in order and value types, so scripts
 * reading them keep working. json-c escapes "/" as "\/", as the daemon
 * sends it. */
#include <string.h>
#include <sys/socket.h>

#include "tests/unit/harness.h"
#include "tund/ctl/overlay_json.h"
#include "tund/overlay/overlay.h"

static void check_json(json_object *j, const char *want)
{
	CHECK_STR(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN), want);
	json_object_put(j);
}

/* One field of the first peer in overlay_json_peers, as JSON text. */
static void check_first_peer(const struct overlay_peer_info *ps, const struct overlay_nat_info *nat,
    const char *key, const char *want)
{
	json_object *j = overlay_json_peers(ps, 1, nat), *peers, *v = NULL;

	CHECK(json_object_object_get_ex(j, "peers", &peers));
	CHECK(json_object_object_get_ex(json_object_array_get_idx(peers, 0), key, &v));
	if (v)
		CHECK_STR(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN), want);
	json_object_put(j);
}

static void bob(struct overlay_peer_info *p)
{
	static const uint8_t v6[16] = { 0xfd, 0x12, [15] = 0x34 };

	memset(p, 0, sizeof(*p));
	strcpy(p->identity, "bob@example.com");
	p->have_cert = 1;
	p->ci.v4[0] = 100;
	p->ci.v4[1] = 64;
	p->ci.v4[3] = 7;
	memcpy(p->ci.v6, v6, 16);
	p->ci.n_routes = 1;
	p->ci.routes[0].family = AF_INET;
	p->ci.routes[0].addr[0] = 10;
	p->ci.routes[0].addr[1] = 1;
	p->ci.routes[0].plen = 16;
	p->ci.not_after = 1800000000;
	strcpy(p->ci.serial, "0a1b");
}

static void test_peer(void)
{
	struct overlay_peer_info p;

	bob(&p);
	check_json(overlay_json_peer(&p), "{\"identity\":\"bob@example.com\",\"ipv4\":\"100.64.0.7\","
	    "\"ipv6\":\"fd12::34\",\"routes\":[\"10.1.0.0\\/16\"],\"cert_not_after\":1800000000,"
	    "\"cert_serial\":\"0a1b\"}");
	/* Another domain's peer: ipv4 is what applications here see, and
	 * cert_ipv4 what its CA certified; without a local one, no ipv4. */
	p.translated = 1;
	p.ci.v4[1] = 127;
	p.cert_v4[0] = 100;
	p.cert_v4[1] = 64;
	p.cert_v4[3] = 1;
	check_json(overlay_json_peer(&p), "{\"identity\":\"bob@example.com\",\"ipv4\":\"100.127.0.7\","
	    "\"cert_ipv4\":\"100.64.0.1\",\"ipv6\":\"fd12::34\",\"routes\":[\"10.1.0.0\\/16\"],"
	    "\"cert_not_after\":1800000000,\"cert_serial\":\"0a1b\"}");
	p.translated = 0;
	p.no_v4 = 1;
	check_json(overlay_json_peer(&p), "{\"identity\":\"bob@example.com\",\"ipv4\":null,"
	    "\"ipv6\":\"fd12::34\",\"routes\":[\"10.1.0.0\\/16\"],\"cert_not_after\":1800000000,"
	    "\"cert_serial\":\"0a1b\"}");
	p.have_cert = 0;
	check_json(overlay_json_peer(&p), "{\"identity\":\"bob@example.com\"}");
	/* whois of an address this node gave an identity that is no peer now. */
	p.remembered = 1;
	check_json(overlay_json_peer(&p), "{\"identity\":\"bob@example.com\",\"ipv4\":\"100.127.0.7\","
	    "\"ipv6\":\"fd12::34\",\"remembered\":true}");
	check_json(overlay_json_self("alice@example.com"), "{\"identity\":\"alice@example.com\",\"self\":true}");
}

static void test_peers(void)
{
	struct overlay_peer_info ps[2];
	struct overlay_nat_info nat;

	bob(&ps[0]);
	ps[0].have_endpoint = 1;
	strcpy(ps[0].endpoint, "192.0.2.12:8789");
	ps[0].n_candidates = 2;
	strcpy(ps[0].candidates[0], "192.0.2.12:8789");
	strcpy(ps[0].candidates[1], "[2001:db8::12]:8789");
	ps[0].path = OVERLAY_PATH_DIRECT;
	ps[0].nat_known = 1;
	ps[0].nat_varies = 1;
	ps[0].birthday = 1;
	ps[0].bday_prober = 1;
	ps[0].bday_probes_sent = 120;
	ps[0].bday_sockets = 0;
	ps[0].bday_hit = 1;
	ps[0].session = 1;
	ps[0].cipher = "aes-256-gcm";
	ps[0].path_mtu = 1500;
	ps[0].mtu = 1440;
	ps[0].have_handshake = 1;
	ps[0].handshake_age_s = 42;
	ps[0].rx_bytes = 1000;
	ps[0].tx_bytes = 2000;
	ps[0].rx_packets = 3;
	ps[0].tx_packets = 4;
	/* A peer known by name only: nulls where nothing is known. */
	memset(&ps[1], 0, sizeof(ps[1]));
	strcpy(ps[1].identity, "carol@example.com");
	memset(&nat, 0, sizeof(nat));
	nat.local_port = 8789;
	check_json(overlay_json_peers(ps, 2, &nat), "{\"peers\":["
	    "{\"identity\":\"bob@example.com\",\"ipv4\":\"100.64.0.7\",\"ipv6\":\"fd12::34\","
	    "\"routes\":[\"10.1.0.0\\/16\"],\"cert_not_after\":1800000000,\"cert_serial\":\"0a1b\","
	    "\"endpoint\":\"192.0.2.12:8789\",\"candidates\":[\"192.0.2.12:8789\",\"[2001:db8::12]:8789\"],"
	    "\"path\":\"direct\",\"relay_authority\":null,\"hairpin\":false,\"peer_nat\":{\"mapping_varies_by_destination\":true,\"port_preserved\":false},"
	    "\"birthday\":{\"role\":\"prober\",\"probes_sent\":120,\"sockets\":0,\"hit\":true},"
	    "\"session\":true,\"cipher\":\"aes-256-gcm\",\"path_mtu\":1500,\"mtu\":1440,\"handshake_age\":42,\"rx_bytes\":1000,\"tx_bytes\":2000,"
	    "\"rx_packets\":3,\"tx_packets\":4,\"policy_denied\":0},"
	    "{\"identity\":\"carol@example.com\",\"endpoint\":null,\"candidates\":[],\"path\":\"none\","
	    "\"relay_authority\":null,\"hairpin\":false,\"peer_nat\":null,\"session\":false,\"cipher\":null,\"path_mtu\":null,\"mtu\":null,\"handshake_age\":null,\"rx_bytes\":0,\"tx_bytes\":0,"
	    "\"rx_packets\":0,\"tx_packets\":0,\"policy_denied\":0}],"
	    "\"nat\":{\"local_port\":8789,\"reflexive\":[],\"authority_udp\":false,"
	    "\"portmap\":{\"enabled\":false,\"gateway\":null,\"protocols\":[],\"mapping\":null}}}");
	/* A hairpin is a direct path: both fields say so. */
	ps[0].hairpin = 1;
	check_first_peer(ps, &nat, "path", "\"direct\"");
	check_first_peer(ps, &nat, "hairpin", "true");
	ps[0].hairpin = 0;
	ps[0].path = OVERLAY_PATH_RELAY;
	ps[0].bday_prober = 0;
	check_first_peer(ps, &nat, "path", "\"relay\"");
	check_first_peer(ps, &nat, "relay_authority", "null");
	/* Another domain's authority relays (PROTOCOL.md, "Relays across domains"). */
	strcpy(ps[0].relay_authority, "example.org");
	check_first_peer(ps, &nat, "relay_authority", "\"example.org\"");
	check_first_peer(ps, &nat, "birthday", "{\"role\":\"mapper\",\"probes_sent\":120,\"sockets\":0,\"hit\":true}");
}

static void test_nat(void)
{
	struct overlay_nat_info nat;

	memset(&nat, 0, sizeof(nat));
	nat.local_port = 8789;
	nat.have_reflexive[0] = 1;
	strcpy(nat.reflexive[0], "203.0.113.5:40001");
	check_json(overlay_json_nat(&nat), "{\"local_port\":8789,\"reflexive\":[\"203.0.113.5:40001\"],"
	    "\"authority_udp\":true,\"portmap\":{\"enabled\":false,\"gateway\":null,\"protocols\":[],\"mapping\":null}}");
	nat.have_reflexive[1] = 1;
	strcpy(nat.reflexive[1], "203.0.113.5:40002");
	nat.mapping_varies = 1;
	nat.behind_nat = 1;
	check_json(overlay_json_nat(&nat), "{\"local_port\":8789,\"reflexive\":[\"203.0.113.5:40001\","
	    "\"203.0.113.5:40002\"],\"authority_udp\":true,\"mapping_varies_by_destination\":true,"
	    "\"port_preserved\":false,\"behind_nat\":true,\"portmap\":{\"enabled\":false,\"gateway\":null,\"protocols\":[],\"mapping\":null}}");
	/* The gateway mapped our port with PCP; NAT-PMP was not needed. */
	nat.portmap.enabled = 1;
	strcpy(nat.portmap.gateway, "198.18.1.1");
	nat.portmap.proto[0] = (struct portmap_proto_info){ .name = "pcp", .state = "mapped" };
	nat.portmap.proto[1] = (struct portmap_proto_info){ .name = "natpmp", .state = "untried" };
	nat.portmap.proto[2] = (struct portmap_proto_info){ .name = "upnp", .state = "untried" };
	nat.portmap.mapped = 1;
	nat.portmap.protocol = "pcp";
	strcpy(nat.portmap.external, "192.0.2.21:8789");
	nat.portmap.lifetime = 7200;
	nat.portmap.expires_in = 7100;
	json_object *j = overlay_json_nat(&nat), *pm = json_object_object_get(j, "portmap");
	check_json(json_object_get(pm), "{\"enabled\":true,\"gateway\":\"198.18.1.1\",\"protocols\":["
	    "{\"name\":\"pcp\",\"state\":\"mapped\"},{\"name\":\"natpmp\",\"state\":\"untried\"},"
	    "{\"name\":\"upnp\",\"state\":\"untried\"}],"
	    "\"mapping\":{\"protocol\":\"pcp\",\"external\":\"192.0.2.21:8789\",\"lifetime\":7200,"
	    "\"expires_in\":7100}}");
	json_object_put(j);
}

static void test_ping_and_status(void)
{
	struct overlay_ping_info pi;
	struct overlay_status_info st;
	json_object *o = json_object_new_object(), *v;

	memset(&pi, 0, sizeof(pi));
	strcpy(pi.identity, "bob@example.com");
	pi.rtt_ms = 1.5;
	pi.path = OVERLAY_PATH_RELAY;
	strcpy(pi.endpoint, "relay");
	check_json(overlay_json_ping(&pi), "{\"identity\":\"bob@example.com\",\"rtt_ms\":1.5,"
	    "\"path\":\"relay\",\"endpoint\":\"relay\"}");
	pi.path = OVERLAY_PATH_DIRECT;
	pi.endpoint[0] = 0;
	check_json(overlay_json_ping(&pi), "{\"identity\":\"bob@example.com\",\"rtt_ms\":1.5,"
	    "\"path\":\"direct\",\"endpoint\":\"\"}");
	memset(&st, 0, sizeof(st));
	st.port = 8789;
	strcpy(st.ifname, "q2q0");
	st.authority_link = "registered";
	st.drops_replay = 5;
	st.gso_split = 3;
	st.udp_rests = 7;
	st.workers = 2;
	st.worker_packets[0] = 40;
	st.worker_packets[1] = 38;
	st.n_links = 2;
	strcpy(st.links[0].domain, "example.com");
	st.links[0].state = "registered";
	st.links[0].revocation_news = 1700000000;
	st.links[0].revocation_cursor = 3000;
	strcpy(st.links[1].domain, "example.org");
	st.links[1].state = "connecting";
	json_object_object_add(o, "pid", json_object_new_int(1));
	overlay_json_status(&st, o);
	CHECK(json_object_object_get_ex(o, "drops_replay", &v) && json_object_is_type(v, json_type_int));
	check_json(o, "{\"pid\":1,\"up\":true,\"port\":8789,\"interface\":\"q2q0\","
	    "\"authority_link\":\"registered\",\"drops_auth\":0,\"drops_replay\":5,\"drops_source\":0,\"gso_split\":3,\"udp_rests\":7,"
	    "\"exit_node\":null,\"serving_as_exit_node\":false,"
	    "\"workers\":2,\"worker_packets\":[40,38],"
	    "\"authorities\":[{\"domain\":\"example.com\",\"link\":\"registered\",\"revocation_news\":1700000000,"
	    "\"revocation_cursor\":3000},{\"domain\":\"example.org\",\"link\":\"connecting\","
	    "\"revocation_news\":null,\"revocation_cursor\":0}]}");
	/* an exit node chosen, its session up, its certificate without the
	 * default route */
	o = json_object_new_object();
	strcpy(st.exit.chosen, "bob@example.com");
	st.exit.session = 1;
	st.n_links = 0;
	overlay_json_status(&st, o);
	CHECK(json_object_object_get_ex(o, "exit_node", &v));
	check_json(json_object_get(v),
	    "{\"identity\":\"bob@example.com\",\"session\":true,\"grants_default_route\":false}");
	json_object_put(o);
}

int main(void)
{
	RUN(test_peer);
	RUN(test_peers);
	RUN(test_nat);
	RUN(test_ping_and_status);
	return HARNESS_END();
}
