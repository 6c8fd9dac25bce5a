/*
 * Tests for tund/conf/config.c: defaults, a full file read back field by field,
 * and for every kind of bad input an error that names the file:line and the
 * setting, so a typo in q2qd.conf is never silently ignored. Files live in a
 * mkdtemp directory removed at the end.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/harness.h"
#include "tund/conf/config.h"

static char tmpdir[64];
static char conf_path[128];
static struct config cfg;	/* ~80 KB: keep it off the stack */
static char err[512];
static char text[65536];

#define FP_HEX "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static int load(const char *body)
{
	size_t len = strlen(body);
	int fd;

	fd = open(conf_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, body, len) != (ssize_t)len) {
		perror(conf_path);
		exit(2);
	}
	close(fd);
	err[0] = '\0';
	return config_load(conf_path, &cfg, err, sizeof(err));
}

/* Loads body, expects -EINVAL and an error containing every needle. */
#define CHECK_BAD(body, ...) do { \
	const char *h_needles[] = { __VA_ARGS__ }; \
	int h_rc = load(body); \
	if (h_rc != -EINVAL) \
		H_FAIL("load(%s) = %d, expected -EINVAL", #body, h_rc); \
	for (size_t h_i = 0; h_i < sizeof(h_needles) / sizeof(h_needles[0]); h_i++) \
		if (!strstr(err, h_needles[h_i])) \
			H_FAIL("error \"%s\" lacks \"%s\"", err, h_needles[h_i]); \
} while (0)

#define CHECK_OK(body) do { \
	int h_rc = load(body); \
	if (h_rc != 0) \
		H_FAIL("load(%s) = %d: %s", #body, h_rc, err); \
} while (0)

static void check_sa(const struct sockaddr_in6 *sa, const char *addr, int port)
{
	struct in6_addr want;

	if (inet_pton(AF_INET6, addr, &want) != 1) {
		H_FAIL("bad test address %s", addr);
		return;
	}
	CHECK_INT(sa->sin6_family, AF_INET6);
	CHECK_MEM(&sa->sin6_addr, &want, 16);
	CHECK_INT(ntohs(sa->sin6_port), port);
}

static void check_defaults(const struct config *c)
{
	CHECK_STR(c->state_dir, "/var/lib/q2q");
	CHECK_STR(c->control_socket, "/run/q2q/q2qd.sock");
	CHECK_STR(c->control_group, "");
	CHECK_STR(c->interface, "q2q0");
	CHECK_INT(c->mtu, 1440);
	CHECK_INT(c->port, 8789);
	CHECK_INT(c->log_level, CONFIG_LOG_INFO);
	CHECK_INT(c->renew_before, 0);
	CHECK_INT(c->n_peers, 0);
	CHECK_INT(c->n_trust, 0);
	CHECK_INT(c->authority.enabled, 0);
	check_sa(&c->authority.listen, "::", 8788);
	CHECK_INT(c->authority.pool.family, AF_INET);
	CHECK_MEM(c->authority.pool.addr, "\x64\x40\x00\x00", 4);
	CHECK_INT(c->authority.pool.plen, 10);
	CHECK_MEM(c->foreign_pool.addr, "\x64\x7f\x00\x00", 4);
	CHECK_INT(c->foreign_pool.plen, 16);
	CHECK_INT(c->authority.cert_days, 30);
	CHECK_INT(c->authority.token_ttl, 86400);
	CHECK_INT(c->authority.max_clients, 0);	/* not set: the authority's default */
	CHECK_STR(c->authority.ca_dir, "/var/lib/q2q-ca");
	CHECK_INT(c->authority.n_grants, 0);
}

static void test_defaults(void)
{
	config_defaults(&cfg);
	check_defaults(&cfg);
	CHECK_STR(cfg.path, "");

	CHECK_OK("");
	check_defaults(&cfg);
	CHECK_STR(cfg.path, conf_path);

	CHECK_OK("# only a comment\n// and another\n/* and a block */\n");
	check_defaults(&cfg);
	/* a last line that is a comment without a newline is fine too */
	CHECK_OK("mtu = 1400; # no newline");
	CHECK_INT(cfg.mtu, 1400);
	CHECK_OK("mtu = 1401; // no newline");
	CHECK_INT(cfg.mtu, 1401);
	CHECK_INT(cfg.route_table, 5288);
	CHECK_OK("route_table = 51820;");
	CHECK_INT(cfg.route_table, 51820);
}

static const char full_conf[] =
	"state_dir = \"/srv/q2q/state\";\n"
	"control_socket = \"/run/q2q-test/ctl.sock\";\n"
	"control_group = \"q2q\";\n"
	"interface = \"ovl.test-1\";\n"
	"mtu = 1420;\n"
	"port = 0;\n"
	"log_level = \"debug\";\n"
	"renew_before = 86400;\n"
	"peers = (\n"
	"  { identity = \"bob@example.com\";\n"
	"    endpoints = [ \"192.0.2.3:8789\", \"[2001:db8::3]:1\" ]; },\n"
	"  { endpoints = ( \"198.51.100.7:65535\" ); identity = \"carol@example.org\"; }\n"
	");\n"
	"trust = (\n"
	"  { domain = \"example.org\"; fingerprint = \"" FP_HEX "\";\n"
	"    routes = [ \"203.0.113.0/24\", \"2001:db8:7::/48\" ]; },\n"
	"  { domain = \"other.example\";\n"
	"    fingerprint = \"AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:"
	"AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99\"; }\n"
	");\n"
	"authority = {\n"
	"  listen = \"203.0.113.1:9000\";\n"	/* before domain on purpose */
	"  domain = \"example.com\";\n"
	"  pool = \"198.18.0.0/15\";\n"
	"  cert_days = 3650;\n"
	"  token_ttl = 60;\n"
	"  max_clients = 20000;\n"
	"  grants = (\n"
	"    { identity = \"bob@example.com\"; subnets = [ \"203.0.113.0/24\", \"fd00:1::/64\" ]; },\n"
	"    { identity = \"gw@example.com\"; subnets = [ \"0.0.0.0/0\" ]; }\n"
	"  );\n"
	"};\n";

static void test_full(void)
{
	static const uint8_t fp2[32] = {
		0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00, 0x11, 0x22, 0x33, 0x44,
		0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
		0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99,
	};
	uint8_t fp1[32];

	for (int i = 0; i < 32; i++)
		fp1[i] = (uint8_t)(((i % 16) << 4) | (i % 16));

	CHECK_OK(full_conf);
	CHECK_STR(cfg.path, conf_path);
	CHECK_STR(cfg.state_dir, "/srv/q2q/state");
	CHECK_STR(cfg.control_socket, "/run/q2q-test/ctl.sock");
	CHECK_STR(cfg.control_group, "q2q");
	CHECK_STR(cfg.interface, "ovl.test-1");
	CHECK_INT(cfg.mtu, 1420);
	CHECK_INT(cfg.port, 0);
	CHECK_INT(cfg.log_level, CONFIG_LOG_DEBUG);
	CHECK_INT(cfg.renew_before, 86400);

	CHECK_INT(cfg.n_peers, 2);
	CHECK_STR(cfg.peers[0].identity, "bob@example.com");
	CHECK_INT(cfg.peers[0].n_endpoints, 2);
	check_sa(&cfg.peers[0].endpoints[0], "::ffff:192.0.2.3", 8789);
	check_sa(&cfg.peers[0].endpoints[1], "2001:db8::3", 1);
	CHECK_STR(cfg.peers[1].identity, "carol@example.org");
	CHECK_INT(cfg.peers[1].n_endpoints, 1);
	check_sa(&cfg.peers[1].endpoints[0], "::ffff:198.51.100.7", 65535);

	CHECK_INT(cfg.n_trust, 2);
	CHECK_STR(cfg.trust[0].domain, "example.org");
	CHECK_MEM(cfg.trust[0].fingerprint, fp1, 32);
	CHECK_STR(cfg.trust[1].domain, "other.example");
	CHECK_MEM(cfg.trust[1].fingerprint, fp2, 32);
	CHECK_INT(cfg.trust[0].n_routes, 2);
	CHECK_INT(cfg.trust[0].routes[0].family, AF_INET);
	CHECK_MEM(cfg.trust[0].routes[0].addr, "\xcb\x00\x71\x00", 4);
	CHECK_INT(cfg.trust[0].routes[0].plen, 24);
	CHECK_INT(cfg.trust[0].routes[1].family, AF_INET6);
	CHECK_MEM(cfg.trust[0].routes[1].addr, "\x20\x01\x0d\xb8\x00\x07\0\0\0\0\0\0\0\0\0\0", 16);
	CHECK_INT(cfg.trust[0].routes[1].plen, 48);
	CHECK_INT(cfg.trust[1].n_routes, 0);	/* none listed: none granted */

	CHECK_INT(cfg.authority.enabled, 1);
	CHECK_STR(cfg.authority.domain, "example.com");
	check_sa(&cfg.authority.listen, "::ffff:203.0.113.1", 9000);
	CHECK_INT(cfg.authority.pool.family, AF_INET);
	CHECK_MEM(cfg.authority.pool.addr, "\xc6\x12\x00\x00", 4);
	CHECK_INT(cfg.authority.pool.plen, 15);
	CHECK_INT(cfg.authority.cert_days, 3650);
	CHECK_INT(cfg.authority.token_ttl, 60);
	CHECK_INT(cfg.authority.max_clients, 20000);
	CHECK_STR(cfg.authority.ca_dir, "/srv/q2q/state-ca");	/* derived from state_dir */
	CHECK_INT(cfg.authority.n_grants, 2);
	CHECK_STR(cfg.authority.grants[0].identity, "bob@example.com");
	CHECK_INT(cfg.authority.grants[0].n_subnets, 2);
	CHECK_INT(cfg.authority.grants[0].subnets[0].family, AF_INET);
	CHECK_MEM(cfg.authority.grants[0].subnets[0].addr, "\xcb\x00\x71\x00", 4);
	CHECK_INT(cfg.authority.grants[0].subnets[0].plen, 24);
	CHECK_INT(cfg.authority.grants[0].subnets[1].family, AF_INET6);
	CHECK_MEM(cfg.authority.grants[0].subnets[1].addr,
		  "\xfd\x00\x00\x01\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	CHECK_INT(cfg.authority.grants[0].subnets[1].plen, 64);
	CHECK_STR(cfg.authority.grants[1].identity, "gw@example.com");
	CHECK_INT(cfg.authority.grants[1].subnets[0].plen, 0);
}

static void test_listen_forms(void)
{
	CHECK_OK("authority = { domain = \"example.com\"; listen = 8788; };");
	CHECK_INT(cfg.authority.enabled, 1);
	check_sa(&cfg.authority.listen, "::", 8788);
	CHECK_OK("authority = { domain = \"example.com\"; listen = \"[::]:1234\"; };");
	check_sa(&cfg.authority.listen, "::", 1234);
	CHECK_OK("authority = { domain = \"example.com\"; listen = \"0.0.0.0:8788\"; };");
	check_sa(&cfg.authority.listen, "::ffff:0.0.0.0", 8788);
	CHECK_OK("authority = { domain = \"example.com\"; listen = \"[fd00::1]:8788\"; };");
	check_sa(&cfg.authority.listen, "fd00::1", 8788);
	/* a hex literal is still an integer */
	CHECK_OK("mtu = 0x500;");
	CHECK_INT(cfg.mtu, 1280);
	CHECK_OK("mtu = 9000L;");
	CHECK_INT(cfg.mtu, 9000);
	CHECK_OK("log_level = \"error\"; interface = \"a\";");
	CHECK_INT(cfg.log_level, CONFIG_LOG_ERROR);
	CHECK_STR(cfg.interface, "a");
	CHECK_OK("log_level = \"warn\"; control_group = \"\"; interface = \"abcdefghijklmno\";");
	CHECK_INT(cfg.log_level, CONFIG_LOG_WARN);
	CHECK_STR(cfg.interface, "abcdefghijklmno");
	/* colon assignment and @ inside strings and comments are fine */
	CHECK_OK("# a@b\nport: 65535; /* x@y */ peers = ( { identity = \"a@example.com\"; "
		 "endpoints = [\"192.0.2.1:1\"]; } );");
	CHECK_INT(cfg.port, 65535);
}

static void test_metrics_listen(void)
{
	CHECK_OK("");
	CHECK_INT(cfg.has_metrics_listen, 0);
	CHECK_OK("metrics_listen = \"127.0.0.1:9789\";");
	CHECK_INT(cfg.has_metrics_listen, 1);
	check_sa(&cfg.metrics_listen, "::ffff:127.0.0.1", 9789);
	CHECK_OK("metrics_listen = \"[::1]:9100\";");
	check_sa(&cfg.metrics_listen, "::1", 9100);
	CHECK_BAD("metrics_listen = \"127.0.0.1\";", "metrics_listen:", "'127.0.0.1'", "ip:port");
	CHECK_BAD("metrics_listen = \"127.0.0.1:0\";", "metrics_listen:", "1..65535");
	CHECK_BAD("metrics_listen = \"localhost:9789\";", "metrics_listen:", "'localhost:9789'", "IPv4");
	CHECK_BAD("metrics_listen = \"::1:9789\";", "metrics_listen:", "brackets");
	CHECK_BAD("metrics_listen = 9789;", "metrics_listen:", "127.0.0.1:9789");
	CHECK_BAD("metrics_listn = \"127.0.0.1:9789\";", "metrics_listn", "metrics_listen");
}

/* portmap: on by default with every protocol; false; or a list. */
static void test_portmap(void)
{
	CHECK_OK("");
	CHECK_INT(cfg.portmap, CONFIG_PORTMAP_PCP | CONFIG_PORTMAP_NATPMP | CONFIG_PORTMAP_UPNP);
	CHECK_OK("portmap = false;");
	CHECK_INT(cfg.portmap, 0);
	CHECK_OK("portmap = true;");
	CHECK_INT(cfg.portmap, CONFIG_PORTMAP_ALL);
	CHECK_OK("portmap = [ \"natpmp\" ];");
	CHECK_INT(cfg.portmap, CONFIG_PORTMAP_NATPMP);
	CHECK_OK("portmap = [ \"pcp\", \"natpmp\", \"upnp\" ];");
	CHECK_INT(cfg.portmap, CONFIG_PORTMAP_ALL);
	CHECK_OK("portmap = [ \"upnp\" ];");
	CHECK_INT(cfg.portmap, CONFIG_PORTMAP_UPNP);
	CHECK_OK("portmap = [ ];");
	CHECK_INT(cfg.portmap, 0);
	CHECK_BAD("portmap = [ \"igd\" ];", "portmap[0]:", "'igd'", "\"natpmp\" or \"upnp\"");
	CHECK_BAD("portmap = ( \"pcp\", 1 );", "portmap[1]:", "a string");
	CHECK_BAD("portmap = \"pcp\";", "portmap:", "true, false or a list");
	CHECK_BAD("portmap = 1;", "portmap:", "true, false or a list");
}

static void test_ca_dir(void)
{
	CHECK_OK("authority = { domain = \"example.com\"; };");
	CHECK_STR(cfg.authority.ca_dir, "/var/lib/q2q-ca");
	/* derived from state_dir wherever it appears in the file */
	CHECK_OK("authority = { domain = \"example.com\"; }; state_dir = \"/srv/q2q/\";");
	CHECK_STR(cfg.authority.ca_dir, "/srv/q2q-ca");
	CHECK_OK("authority = { domain = \"example.com\"; ca_dir = \"/etc/q2q/ca//\"; };");
	CHECK_STR(cfg.authority.ca_dir, "/etc/q2q/ca");
	CHECK_OK("state_dir = \"/var/lib/q2q\"; "
		 "authority = { domain = \"example.com\"; ca_dir = \"/var/lib/q2qca\"; };");
	CHECK_STR(cfg.authority.ca_dir, "/var/lib/q2qca");

	CHECK_BAD("authority = { domain = \"example.com\"; ca_dir = \"q2q-ca\"; };",
		  "q2qd.conf:1: authority.ca_dir:", "'q2q-ca'", "absolute");
	CHECK_BAD("authority = { domain = \"example.com\"; ca_dir = 7; };",
		  "authority.ca_dir:", "string");
	CHECK_BAD("authority = { domain = \"example.com\"; ca_dir = \"/\"; };",
		  "authority.ca_dir:", "not /");
	CHECK_BAD("authority = { domain = \"example.com\"; ca_dir = \"/var/lib/../lib/q2q\"; };",
		  "authority.ca_dir:", "'..'");
	CHECK_BAD("authority = { domain = \"example.com\"; ca_dir = \"/var/lib/./q2q-ca\"; };",
		  "authority.ca_dir:");
	CHECK_BAD("authority = { domain = \"example.com\"; ca_dir = \"/var//q2q-ca\"; };",
		  "authority.ca_dir:");
	CHECK_BAD("authority = {\n domain = \"example.com\";\n ca_dir = \"/var/lib/q2q\"; };",
		  "q2qd.conf:3: authority.ca_dir:", "'/var/lib/q2q'", "nest");
	CHECK_BAD("state_dir = \"/srv/q2q\";\nauthority = { domain = \"example.com\";\n"
		  " ca_dir = \"/srv/q2q/authority\"; };", "q2qd.conf:3: authority.ca_dir:",
		  "'/srv/q2q/authority'", "state_dir '/srv/q2q'", "outside");
	CHECK_BAD("state_dir = \"/srv/q2q/state\";\n"
		  "authority = { domain = \"example.com\"; ca_dir = \"/srv/q2q\"; };",
		  "authority.ca_dir:", "nest");
	CHECK_BAD("state_dir = \"/srv/q2q/\";\n"
		  "authority = { domain = \"example.com\"; ca_dir = \"/srv/q2q/ca/\"; };",
		  "authority.ca_dir:", "nest");
}

static void test_bad_values(void)
{
	CHECK_BAD("state_dir = \"var/lib/q2q\";", "q2qd.conf:1: state_dir:",
		  "'var/lib/q2q'", "absolute");
	CHECK_BAD("\n\nstate_dir = \"/a\\x01b\";", "q2qd.conf:3: state_dir:", "\\x01",
		  "control");
	CHECK_BAD("control_socket = \"run/x.sock\";", "control_socket:", "absolute");
	CHECK_BAD("control_group = \"-q2q\";", "control_group:", "'-q2q'");
	CHECK_BAD("control_group = \"q 2q\";", "control_group:", "'q 2q'");
	CHECK_BAD("interface = \"\";", "interface:", "interface name");
	CHECK_BAD("interface = \"abcdefghijklmnop\";", "interface:", "'abcdefghijklmnop'", "1..15");
	CHECK_BAD("interface = \"q2q/0\";", "interface:", "'q2q/0'");
	CHECK_BAD("interface = \"q2q 0\";", "interface:");
	CHECK_BAD("interface = \"..\";", "interface:");
	CHECK_BAD("mtu = 1279;", "q2qd.conf:1: mtu:", "1279", "1280..9000");
	/* why not below 1280, not only that */
	CHECK_BAD("mtu = 1220;", "mtu:", "1220", "1280..9000", "IPv6", "split");
	CHECK_BAD("mtu = 9001;", "mtu:", "9001");
	CHECK_BAD("port = -1;", "port:", "-1", "0..65535");
	CHECK_BAD("port = 65536;", "port:", "65536");
	CHECK_BAD("renew_before = -5;", "renew_before:", "-5");
	CHECK_BAD("log_level = \"verbose\";", "log_level:", "'verbose'", "debug");
	CHECK_BAD("log_level = \"INFO\";", "log_level:", "'INFO'");
	CHECK_BAD("peers = ( { identity = \"Bob@example.com\"; endpoints = [\"192.0.2.1:1\"]; } );",
		  "peers[0].identity:", "Bob@example.com", "upper-case");
	CHECK_BAD("peers = ( { identity = \"example.com\"; endpoints = [\"192.0.2.1:1\"]; } );",
		  "peers[0].identity:", "example.com");
	CHECK_BAD("peers = ( { identity = \"bob@example.com\"; endpoints = [\"192.0.2.1\"]; } );",
		  "peers[0].endpoints[0]:", "'192.0.2.1'", "ip:port");
	CHECK_BAD("peers = ( { identity = \"bob@example.com\"; endpoints = [\"192.0.2.1:0\"]; } );",
		  "peers[0].endpoints[0]:", "1..65535");
	CHECK_BAD("peers = ( { identity = \"bob@example.com\"; endpoints = [\"192.0.2.1:65536\"]; } );",
		  "peers[0].endpoints[0]:", "1..65535");
	CHECK_BAD("peers = ( { identity = \"bob@example.com\"; endpoints = [\"192.0.2.1:80x\"]; } );",
		  "peers[0].endpoints[0]:");
	CHECK_BAD("peers = ( { identity = \"bob@example.com\"; endpoints = [\"2001:db8::3:8789\"]; } );",
		  "peers[0].endpoints[0]:", "brackets");
	CHECK_BAD("peers = ( { identity = \"bob@example.com\"; endpoints = [\"[2001:db8::3]8789\"]; } );",
		  "peers[0].endpoints[0]:");
	CHECK_BAD("peers = ( { identity = \"bob@example.com\"; endpoints = [\"[192.0.2.1]:1\"]; } );",
		  "peers[0].endpoints[0]:", "IPv6");
	CHECK_BAD("peers = ( { identity = \"bob@example.com\"; endpoints = [\"192.0.2.256:1\"]; } );",
		  "peers[0].endpoints[0]:", "IPv4");
	CHECK_BAD("peers = ( { identity = \"bob@example.com\"; endpoints = [\"0.0.0.0:1\"]; } );",
		  "peers[0].endpoints[0]:", "unspecified");
	CHECK_BAD("peers = ( { identity = \"bob@example.com\"; endpoints = [\"[::]:1\"]; } );",
		  "peers[0].endpoints[0]:", "unspecified");
	CHECK_BAD("peers = ( { identity = \"bob@example.com\"; endpoints = [\"224.0.0.1:1\"]; } );",
		  "peers[0].endpoints[0]:", "multicast");
	CHECK_BAD("peers = ( { identity = \"bob@example.com\"; endpoints = [\"[ff02::1]:1\"]; } );",
		  "peers[0].endpoints[0]:", "multicast");
	CHECK_BAD("peers = ( { identity = \"bob@example.com\";\n endpoints = [\"192.0.2.1:1\",\n"
		  " \"192.0.2.1:01\"]; } );", "q2qd.conf:3: peers[0].endpoints[1]:", "repeats");
	CHECK_BAD("peers = ( { identity = \"bob@example.com\"; endpoints = []; } );",
		  "peers[0].endpoints:", "empty");
	CHECK_BAD("peers = ( { identity = \"bob@example.com\"; } );", "peers[0]:", "endpoints");
	CHECK_BAD("peers = ( { endpoints = [\"192.0.2.1:1\"]; } );", "peers[0]:", "identity");
	CHECK_BAD("trust = ( { domain = \"Example.org\"; fingerprint = \"" FP_HEX "\"; } );",
		  "trust[0].domain:", "Example.org");
	CHECK_BAD("trust = ( { domain = \"bob@example.org\"; fingerprint = \"" FP_HEX "\"; } );",
		  "trust[0].domain:", "bob@example.org");
	CHECK_BAD("trust = ( { domain = \"example.org\"; fingerprint = \"abcd\"; } );",
		  "trust[0].fingerprint:", "'abcd'", "64 hex");
	CHECK_BAD("trust = ( { domain = \"example.org\"; fingerprint = \"" FP_HEX "00\"; } );",
		  "trust[0].fingerprint:");
	CHECK_BAD("trust = ( { domain = \"example.org\"; fingerprint = \"" FP_HEX "\".\"x\"; } );",
		  "q2qd.conf:1");
	/* Without a fingerprint: DNSSEC or first use decides, unless only
	 * pins are allowed. */
	CHECK_OK("trust = ( { domain = \"example.org\"; } );");
	CHECK_OK("trust_policy = \"first-use\"; trust = ( { domain = \"example.org\"; } );");
	CHECK_BAD("trust = ( { domain = \"example.org\"; } ); trust_policy = \"pinned\";",
		  "trust[0]:", "missing 'fingerprint'", "pinned");
	CHECK_BAD("trust_policy = \"tofu\";", "trust_policy:", "'tofu'", "first-use");
	CHECK_BAD("trust_policy = 1;", "trust_policy:");
	CHECK_BAD("dns_anchor = \"root.key\";", "dns_anchor:", "absolute");
	CHECK_OK("dns_anchor = \"/etc/q2q/test.anchor\"; dns_resolver = \"192.0.2.53\";");
	CHECK_OK("dns_resolver = \"2001:db8::53@5353\";");
	CHECK_OK("foreign_pool = \"100.100.0.0/24\";");
	CHECK_BAD("dns_resolver = \"ns.example.org\";", "dns_resolver:", "'ns.example.org'", "ip@port");
	CHECK_BAD("dns_resolver = \"192.0.2.53@0\";", "dns_resolver:", "'192.0.2.53@0'");
	CHECK_BAD("dns_resolver = \"192.0.2.53@99999\";", "dns_resolver:");
	CHECK_BAD("trust = ( { domain = \"example.org\"; fingerprint = \"" FP_HEX "\";"
		  " routes = [ \"203.0.113.1/24\" ]; } );",
		  "trust[0].routes[0]:", "'203.0.113.1/24'", "host bits");
	CHECK_BAD("trust = ( { domain = \"example.org\"; fingerprint = \"" FP_HEX "\";"
		  " routes = [ \"carol\" ]; } );", "trust[0].routes[0]:", "'carol'");
	CHECK_BAD("trust = ( { domain = \"example.org\"; fingerprint = \"" FP_HEX "\";"
		  " routes = [ ]; } );", "trust[0].routes:", "empty");
	CHECK_BAD("trust = ( { domain = \"example.org\"; fingerprint = \"" FP_HEX "\";"
		  " routes = [ \"203.0.113.0/24\", \"203.0.113.0/24\" ]; } );",
		  "trust[0].routes[1]:", "repeats trust[0].routes[0]");
	CHECK_BAD("trust = ( { domain = \"example.org\"; fingerprint = \"" FP_HEX "\";"
		  " routes = \"203.0.113.0/24\"; } );", "trust[0].routes:", "an array");
	CHECK_BAD("trust = ( { fingerprint = \"" FP_HEX "\"; } );", "trust[0]:", "domain");
	CHECK_BAD("authority = { listen = 8788; };", "authority:", "domain");
	CHECK_BAD("authority = { domain = \"example\"; };", "authority.domain:", "'example'");
	CHECK_BAD("authority = { domain = \"example.com\";\n pool = \"100.64.0.1/10\"; };",
		  "q2qd.conf:2: authority.pool:", "'100.64.0.1/10'", "host bits",
		  "100.64.0.0/10");
	CHECK_BAD("foreign_pool = \"198.18.0.0/16\";", "foreign_pool:", "not inside 100.64.0.0/10");
	CHECK_BAD("foreign_pool = \"100.64.0.0/10\";", "foreign_pool:", "12..30");
	CHECK_BAD("foreign_pool = \"100.127.0.1/16\";", "foreign_pool:", "host bits");
	CHECK_BAD("authority = { domain = \"example.com\"; pool = \"10.0.0.0/31\"; };",
		  "authority.pool:", "8..30");
	CHECK_BAD("authority = { domain = \"example.com\"; pool = \"10.0.0.0/7\"; };",
		  "authority.pool:", "8..30");
	CHECK_BAD("authority = { domain = \"example.com\"; pool = \"10.0.0.0/33\"; };",
		  "authority.pool:", "'10.0.0.0/33'");
	/* Nodes would route it on q2q0: only never-routed space. */
	CHECK_BAD("authority = { domain = \"example.com\"; pool = \"203.0.113.0/24\"; };",
		  "authority.pool:", "'203.0.113.0/24'", "private-use", "198.18.0.0/15");
	CHECK_BAD("authority = { domain = \"example.com\"; pool = \"100.0.0.0/8\"; };",
		  "authority.pool:", "private-use");
	CHECK_BAD("route_table = 254;", "route_table:", "254 main", "5288");
	CHECK_BAD("route_table = 0;", "route_table:");
	CHECK_BAD("authority = { domain = \"example.com\"; pool = \"fd00::/8\"; };",
		  "authority.pool:", "IPv4");
	CHECK_BAD("authority = { domain = \"example.com\"; pool = \"nonsense\"; };",
		  "authority.pool:", "'nonsense'");
	CHECK_BAD("authority = { domain = \"example.com\"; cert_days = 0; };",
		  "authority.cert_days:", "1..3650");
	CHECK_BAD("authority = { domain = \"example.com\"; cert_days = 3651; };",
		  "authority.cert_days:", "3651");
	CHECK_BAD("authority = { domain = \"example.com\"; max_clients = 63; };",
		  "authority.max_clients:", "64..1048576");
	CHECK_BAD("authority = { domain = \"example.com\"; max_clients = 1048577; };",
		  "authority.max_clients:", "1048577");
	CHECK_BAD("authority = { domain = \"example.com\"; token_ttl = 59; };",
		  "authority.token_ttl:", "60..2592000");
	CHECK_BAD("authority = { domain = \"example.com\"; token_ttl = 2592001; };",
		  "authority.token_ttl:", "2592001");
	CHECK_BAD("authority = { domain = \"example.com\"; listen = 0; };",
		  "authority.listen:", "1..65535");
	CHECK_BAD("authority = { domain = \"example.com\"; listen = \"8788\"; };",
		  "authority.listen:", "'8788'");
	CHECK_BAD("authority = { domain = \"example.com\"; listen = \"[::]\"; };",
		  "authority.listen:");
	CHECK_BAD("authority = { domain = \"example.com\";\n"
		  " grants = ( { identity = \"bob@example.org\"; subnets = [\"203.0.113.0/24\"]; } ); };",
		  "q2qd.conf:2: authority.grants[0].identity:", "bob@example.org", "example.com");
	CHECK_BAD("authority = { domain = \"example.com\";"
		  " grants = ( { identity = \"example.com\"; subnets = [\"203.0.113.0/24\"]; } ); };",
		  "authority.grants[0].identity:");
	CHECK_BAD("authority = { domain = \"example.com\";"
		  " grants = ( { identity = \"bob@example.com\"; subnets = [\"203.0.113.1/24\"]; } ); };",
		  "authority.grants[0].subnets[0]:", "host bits", "203.0.113.0/24");
	CHECK_BAD("authority = { domain = \"example.com\";"
		  " grants = ( { identity = \"bob@example.com\"; subnets = [\"fd00::1/8\"]; } ); };",
		  "authority.grants[0].subnets[0]:", "host bits", "fd00::/8");
	CHECK_BAD("authority = { domain = \"example.com\";"
		  " grants = ( { identity = \"bob@example.com\"; subnets = [] ; } ); };",
		  "authority.grants[0].subnets:", "empty");
	CHECK_BAD("authority = { domain = \"example.com\";"
		  " grants = ( { identity = \"bob@example.com\"; } ); };",
		  "authority.grants[0]:", "subnets");
	/* a failed load leaves nothing half-validated behind */
	CHECK_BAD("mtu = 1400; port = 70000;", "port:");
	CHECK_INT(cfg.mtu, 1440);
	CHECK_STR(cfg.path, "");
}

static void test_unknown(void)
{
	CHECK_BAD("\nintreface = \"q2q0\";", "q2qd.conf:2: intreface:", "unknown setting",
		  "did you mean 'interface'");
	CHECK_BAD("frobnicate = 1;", "frobnicate:", "unknown setting", "state_dir");
	CHECK_BAD("authority = { domain = \"example.com\"; pol = \"10.0.0.0/8\"; };",
		  "authority.pol:", "unknown", "'pool'");
	CHECK_BAD("peers = ( { identity = \"bob@example.com\"; endpoints = [\"192.0.2.1:1\"];"
		  " endpoint = [\"192.0.2.2:1\"]; } );", "peers[0].endpoint:", "unknown");
	CHECK_BAD("trust = ( { domain = \"example.org\"; fingerprint = \"" FP_HEX "\"; pin = 1; } );",
		  "trust[0].pin:", "unknown");
	CHECK_BAD("authority = { domain = \"example.com\";"
		  " grants = ( { identity = \"bob@example.com\"; subnets = [\"203.0.113.0/24\"];"
		  " subnet = 1; } ); };", "authority.grants[0].subnet:", "unknown");
}

static void test_wrong_type(void)
{
	CHECK_BAD("mtu = \"1280\";", "mtu:", "expected an integer", "string '1280'");
	CHECK_BAD("mtu = 1280.0;", "mtu:", "expected an integer", "float");
	CHECK_BAD("mtu = true;", "mtu:", "expected an integer", "boolean");
	CHECK_BAD("port = [ 1 ];", "port:", "expected an integer");
	CHECK_BAD("interface = 0;", "interface:", "expected a string");
	CHECK_BAD("state_dir = [ \"/a\" ];", "state_dir:", "expected a string");
	CHECK_BAD("log_level = 3;", "log_level:", "expected a string");
	CHECK_BAD("peers = { identity = \"bob@example.com\"; };", "peers:", "expected a list");
	CHECK_BAD("peers = ( \"bob@example.com\" );", "peers[0]:", "expected a group");
	CHECK_BAD("peers = ( { identity = \"bob@example.com\"; endpoints = \"192.0.2.1:1\"; } );",
		  "peers[0].endpoints:", "expected an array");
	CHECK_BAD("peers = ( { identity = \"bob@example.com\"; endpoints = [ 1 ]; } );",
		  "peers[0].endpoints[0]:", "expected a string");
	CHECK_BAD("trust = ( { domain = 1; fingerprint = \"" FP_HEX "\"; } );",
		  "trust[0].domain:", "expected a string");
	CHECK_BAD("authority = \"example.com\";", "authority:", "expected a group");
	CHECK_BAD("authority = { domain = \"example.com\"; cert_days = \"30\"; };",
		  "authority.cert_days:", "expected an integer");
	CHECK_BAD("authority = { domain = \"example.com\"; listen = 1.5; };",
		  "authority.listen:", "port number");
	CHECK_BAD("authority = { domain = \"example.com\"; grants = { }; };",
		  "authority.grants:", "expected a list");
}

static void test_duplicates(void)
{
	CHECK_BAD("peers = (\n"
		  " { identity = \"bob@example.com\"; endpoints = [\"192.0.2.1:1\"]; },\n"
		  " { identity = \"bob@example.com\"; endpoints = [\"192.0.2.2:1\"]; } );",
		  "q2qd.conf:3: peers[1]:", "duplicate peer 'bob@example.com'", "peers[0]");
	CHECK_BAD("trust = (\n"
		  " { domain = \"example.org\"; fingerprint = \"" FP_HEX "\"; },\n"
		  " { domain = \"example.org\"; fingerprint = \"" FP_HEX "\"; } );",
		  "q2qd.conf:3: trust[1]:", "duplicate trust domain 'example.org'");
	CHECK_BAD("authority = { domain = \"example.com\"; grants = (\n"
		  " { identity = \"bob@example.com\"; subnets = [\"203.0.113.0/24\"]; },\n"
		  " { identity = \"bob@example.com\"; subnets = [\"198.51.100.0/24\"]; } ); };",
		  "q2qd.conf:3: authority.grants[1]:", "duplicate grant for 'bob@example.com'");
	CHECK_BAD("authority = { domain = \"example.com\"; grants = (\n"
		  " { identity = \"bob@example.com\"; subnets = [\"203.0.113.0/24\",\n"
		  " \"203.0.113.0/24\"]; } ); };",
		  "authority.grants[0].subnets[1]:", "repeats");
	/* libconfig itself refuses a setting given twice */
	CHECK_BAD("mtu = 1280;\nmtu = 1400;\n", "q2qd.conf:2:", "duplicate");
}

/* Fills text with a list of n entries, to probe the array limits. */
static void build_peers(int n, int endpoints)
{
	size_t o = 0;

	o += (size_t)snprintf(text + o, sizeof(text) - o, "peers = (\n");
	for (int i = 0; i < n; i++) {
		o += (size_t)snprintf(text + o, sizeof(text) - o,
				      "%s{ identity = \"u%d@example.com\"; endpoints = [",
				      i ? "," : "", i);
		for (int j = 0; j < endpoints; j++)
			o += (size_t)snprintf(text + o, sizeof(text) - o, "%s\"192.0.2.%d:%d\"",
					      j ? "," : "", j + 1, i + 1);
		o += (size_t)snprintf(text + o, sizeof(text) - o, "]; }\n");
	}
	snprintf(text + o, sizeof(text) - o, ");\n");
}

static void build_trust(int n)
{
	size_t o = 0;

	o += (size_t)snprintf(text + o, sizeof(text) - o, "trust = (\n");
	for (int i = 0; i < n; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o,
				      "%s{ domain = \"d%d.example\"; fingerprint = \"" FP_HEX "\"; }\n",
				      i ? "," : "", i);
	snprintf(text + o, sizeof(text) - o, ");\n");
}

static void build_grants(int n, int subnets)
{
	size_t o = 0;

	o += (size_t)snprintf(text + o, sizeof(text) - o,
			      "authority = { domain = \"example.com\"; grants = (\n");
	for (int i = 0; i < n; i++) {
		o += (size_t)snprintf(text + o, sizeof(text) - o,
				      "%s{ identity = \"u%d@example.com\"; subnets = [",
				      i ? "," : "", i);
		for (int j = 0; j < subnets; j++)
			o += (size_t)snprintf(text + o, sizeof(text) - o, "%s\"10.%d.%d.0/24\"",
					      j ? "," : "", i, j);
		o += (size_t)snprintf(text + o, sizeof(text) - o, "]; }\n");
	}
	snprintf(text + o, sizeof(text) - o, "); };\n");
}

static void test_limits(void)
{
	build_peers(CONFIG_MAX_PEERS, CONFIG_MAX_ENDPOINTS);
	CHECK_OK(text);
	CHECK_INT(cfg.n_peers, CONFIG_MAX_PEERS);
	CHECK_INT(cfg.peers[CONFIG_MAX_PEERS - 1].n_endpoints, CONFIG_MAX_ENDPOINTS);
	CHECK_STR(cfg.peers[CONFIG_MAX_PEERS - 1].identity, "u63@example.com");
	check_sa(&cfg.peers[CONFIG_MAX_PEERS - 1].endpoints[CONFIG_MAX_ENDPOINTS - 1],
		 "::ffff:192.0.2.8", CONFIG_MAX_PEERS);
	build_peers(CONFIG_MAX_PEERS + 1, 1);
	CHECK_BAD(text, "q2qd.conf:1: peers:", "65 entries", "at most 64");
	CHECK_INT(cfg.n_peers, 0);
	build_peers(1, CONFIG_MAX_ENDPOINTS + 1);
	CHECK_BAD(text, "peers[0].endpoints:", "9 entries", "at most 8");

	build_trust(CONFIG_MAX_TRUST);
	CHECK_OK(text);
	CHECK_INT(cfg.n_trust, CONFIG_MAX_TRUST);
	build_trust(CONFIG_MAX_TRUST + 1);
	CHECK_BAD(text, "trust:", "33 entries", "at most 32");

	build_grants(CONFIG_MAX_GRANTS, CONFIG_MAX_SUBNETS);
	CHECK_OK(text);
	CHECK_INT(cfg.authority.n_grants, CONFIG_MAX_GRANTS);
	CHECK_INT(cfg.authority.grants[CONFIG_MAX_GRANTS - 1].n_subnets, CONFIG_MAX_SUBNETS);
	build_grants(CONFIG_MAX_GRANTS + 1, 1);
	CHECK_BAD(text, "authority.grants:", "65 entries", "at most 64");
	build_grants(1, CONFIG_MAX_SUBNETS + 1);
	CHECK_BAD(text, "authority.grants[0].subnets:", "17 entries", "at most 16");

	/* paths: CONFIG_PATH_MAX - 1 bytes fit, one more does not */
	memset(text, 0, sizeof(text));
	strcpy(text, "state_dir = \"/");
	memset(text + strlen(text), 'a', CONFIG_PATH_MAX - 2);
	strcat(text, "\";");
	CHECK_OK(text);
	CHECK_INT(strlen(cfg.state_dir), CONFIG_PATH_MAX - 1);
	memset(text, 0, sizeof(text));
	strcpy(text, "state_dir = \"/");
	memset(text + strlen(text), 'a', CONFIG_PATH_MAX - 1);
	strcat(text, "\";");
	CHECK_BAD(text, "state_dir:", "at most 255");
	/* the control socket must fit in sun_path */
	memset(text, 0, sizeof(text));
	strcpy(text, "control_socket = \"/");
	memset(text + strlen(text), 'a', 107);
	strcat(text, "\";");
	CHECK_BAD(text, "control_socket:", "at most 107");
}

static void test_file_errors(void)
{
	char missing[160];
	int rc;

	snprintf(missing, sizeof(missing), "%s/nonexistent.conf", tmpdir);
	rc = config_load(missing, &cfg, err, sizeof(err));
	CHECK_INT(rc, -ENOENT);
	CHECK(strstr(err, missing) != NULL);
	check_defaults(&cfg);

	rc = config_load(tmpdir, &cfg, err, sizeof(err));
	CHECK_INT(rc, -EINVAL);
	CHECK(strstr(err, "regular file") != NULL);

	/* no buffer for the message is allowed */
	rc = config_load(missing, &cfg, NULL, 0);
	CHECK_INT(rc, -ENOENT);

	CHECK_BAD("mtu = 1280;\nport = 8789;\nlog_level = = 1;\n", "q2qd.conf:3: syntax error");
	CHECK_BAD("peers = ( { identity = \"a@example.com\";", "q2qd.conf:", "syntax error");
	/* libconfig 1.5 would read these as 1280 and 8789: refuse by line */
	CHECK_BAD("\nmtu = 4294968576;\n", "q2qd.conf:2:", "'4294968576'", "too large");
	CHECK_BAD("port = 0x100002255;\n", "q2qd.conf:1:", "too large");
	CHECK_BAD("port = 99999999999999999999999L;\n", "q2qd.conf:1:", "too large");
	CHECK_BAD("port = 2147483648;", "too large");
	CHECK_BAD("port = 2147483647;", "port:", "2147483647", "0..65535");
	CHECK_BAD("port = 4294967296L;", "port:", "4294967296");
	CHECK_BAD("mtu = 1280;\n@include \"/etc/passwd\"\n", "q2qd.conf:2:", "@include");
}

static void test_nul_byte(void)
{
	static const char body[] = "mtu = 1400;\0port = 1;\n";
	int fd, rc;

	fd = open(conf_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	CHECK_INT(write(fd, body, sizeof(body) - 1), sizeof(body) - 1);
	close(fd);
	rc = config_load(conf_path, &cfg, err, sizeof(err));
	CHECK_INT(rc, -EINVAL);
	CHECK(strstr(err, "NUL") != NULL);
	CHECK_INT(cfg.mtu, 1440);
}

static void test_long_error_values(void)
{
	char small[40];
	int rc;

	/* a huge bad value is cut short, and a tiny err buffer is not overrun */
	memset(text, 0, sizeof(text));
	strcpy(text, "log_level = \"");
	memset(text + strlen(text), 'x', 5000);
	strcat(text, "\";");
	CHECK_BAD(text, "log_level:", "...'");
	CHECK(strlen(err) < 300);
	load("mtu = 1;");
	rc = config_load(conf_path, &cfg, small, sizeof(small));
	CHECK_INT(rc, -EINVAL);
	CHECK_INT(strlen(small), sizeof(small) - 1);
}

/*
 * The shipped example must load as is (giving the defaults), and again with
 * its commented-out peers, trust and authority sections switched on. From
 * "# peers = (" on, a line "# X" is switched on when X starts a setting,
 * an indented line or a closing bracket; prose there starts otherwise.
 */
static void test_example(void)
{
	static const char placeholder[] = "<64 hex digits of the example.org CA certificate>";
	FILE *f = fopen("systemd/q2qd.conf.example", "r");
	char line[512], *p;
	size_t o = 0;
	int on = 0;

	if (!f) {
		printf("# skipped test_example: run from the repository root\n");
		return;
	}
	CHECK_INT(config_load("systemd/q2qd.conf.example", &cfg, err, sizeof(err)), 0);
	check_defaults(&cfg);
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "# peers = (", 11) == 0)
			on = 1;
		if ((p = strstr(line, placeholder)) != NULL) {
			memmove(p + 64, p + strlen(placeholder), strlen(p + strlen(placeholder)) + 1);
			memcpy(p, FP_HEX, 64);
		}
		p = line;
		if (on && strncmp(line, "# ", 2) == 0 && strchr(" ptag)}", line[2]))
			p = line + 2;
		o += (size_t)snprintf(text + o, sizeof(text) - o, "%s", p);
	}
	fclose(f);
	CHECK_OK(text);
	CHECK_INT(cfg.n_peers, 1);
	CHECK_INT(cfg.peers[0].n_endpoints, 2);
	CHECK_INT(cfg.n_trust, 1);
	CHECK_INT(cfg.trust[0].n_routes, 1);
	CHECK_INT(cfg.authority.enabled, 1);
	CHECK_STR(cfg.authority.domain, "example.com");
	CHECK_INT(cfg.authority.n_grants, 1);
	check_sa(&cfg.authority.listen, "::", 8788);
	CHECK_INT(cfg.authority.pool.plen, 10);
	CHECK_STR(cfg.authority.ca_dir, "/var/lib/q2q-ca");
	CHECK_INT(cfg.policy.present, 1);
	CHECK_INT(cfg.policy.n_rules, 3);
	CHECK_INT(cfg.policy.n_groups, 2);
	CHECK_INT(cfg.policy_reject, 0);
}

/* The identity firewall's groups and rules: every mistake named by its
 * position; groups may follow the rules that name them. */
static void test_policy(void)
{
	CHECK_OK("policy = ( { from = \"group:a\"; to = \"*\"; allow = [\"tcp/22\", \"udp/1-9\", \"icmp\"]; } );\n"
		 "groups = { a = [\"alice@example.com\", \"*@example.org\"]; };");
	CHECK_INT(cfg.policy.present, 1);
	CHECK_INT(cfg.policy.n_rules, 1);
	CHECK_INT(cfg.policy.rules[0].n_allow, 3);
	CHECK_INT(cfg.policy.rules[0].line, 1);
	CHECK(pol_sel_match(&cfg.policy, "group:a", "carol@example.org"));
	CHECK_OK("policy = ();");
	CHECK_INT(cfg.policy.present, 1);	/* an empty policy lets nothing in */
	CHECK_OK("groups = { a = [\"alice@example.com\"]; };");
	CHECK_INT(cfg.policy.present, 0);	/* groups alone are no policy */
	CHECK_BAD("policy = (\n { from = \"*\"; to = \"*\"; allow = [\"tcp/22\"]; },\n"
		  " { from = \"*\"; to = \"*\"; allow = [\"tcp/22\", \"tcp/70000\"]; } );",
		  "q2qd.conf:3: policy[1].allow[1]: 'tcp/70000': port out of range 1..65535");
	CHECK_BAD("policy = ( { from = \"alice\"; to = \"*\"; allow = [\"icmp\"]; } );",
		  "policy[0].from: 'alice': not user@domain");
	CHECK_BAD("policy = ( { from = [\"*\", \"group:x\"]; to = \"*\"; allow = [\"icmp\"]; } );",
		  "policy[0].from[1]: 'group:x': no such group");
	CHECK_BAD("policy = ( { from = \"*\"; allow = [\"icmp\"]; } );", "policy[0]: missing 'to'");
	CHECK_BAD("policy = ( { from = \"*\"; to = \"*\"; allow = []; } );", "policy[0].allow: empty");
	CHECK_BAD("policy = ( { from = \"*\"; to = \"*\"; allow = [\"icmp\"]; deny = 1; } );",
		  "policy[0].deny: unknown setting");
	CHECK_BAD("policy = ( { from = \"*\"; to = \"*\"; allow = [\"gre\"]; } );", "policy[0].allow[0]: 'gre'");
	CHECK_BAD("groups = { a = [\"alice\"]; };", "groups.a[0]: 'alice'");
	CHECK_BAD("groups = { a = \"alice@example.com\"; };", "groups.a:");
	CHECK_BAD("policy_reject = 1;", "policy_reject:");
}

/* names_socket: beside the control socket unless set; "" turns it off;
 * never the control socket itself. */
static void test_names_socket(void)
{
	CHECK_OK("");
	CHECK_STR(cfg.names_socket, "/run/q2q/names.sock");
	CHECK_OK("control_socket = \"/run/q2q-test/ctl.sock\";");
	CHECK_STR(cfg.names_socket, "/run/q2q-test/names.sock");
	CHECK_OK("names_socket = \"/run/other/n.sock\";");
	CHECK_STR(cfg.names_socket, "/run/other/n.sock");
	CHECK_OK("names_socket = \"\";");
	CHECK_STR(cfg.names_socket, "");
	CHECK_BAD("names_socket = \"n.sock\";", "names_socket:", "absolute");
	CHECK_BAD("names_socket = 3;", "names_socket:");
	CHECK_BAD("control_socket = \"/run/x.sock\"; names_socket = \"/run/x.sock\";",
		  "names_socket", "also the control socket");
	memset(text, 0, sizeof(text));
	strcpy(text, "control_socket = \"/");
	memset(text + strlen(text), 'd', 100);
	strcat(text, "/c\";");
	CHECK_BAD(text, "names_socket", "too long");
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/q2q-test-config-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(conf_path, sizeof(conf_path), "%s/q2qd.conf", tmpdir);

	RUN(test_defaults);
	RUN(test_full);
	RUN(test_listen_forms);
	RUN(test_metrics_listen);
	RUN(test_bad_values);
	RUN(test_ca_dir);
	RUN(test_unknown);
	RUN(test_wrong_type);
	RUN(test_duplicates);
	RUN(test_limits);
	RUN(test_file_errors);
	RUN(test_nul_byte);
	RUN(test_long_error_values);
	RUN(test_example);
	RUN(test_policy);
	RUN(test_names_socket);
	RUN(test_portmap);

	unlink(conf_path);
	rmdir(tmpdir);
	return HARNESS_END();
}
