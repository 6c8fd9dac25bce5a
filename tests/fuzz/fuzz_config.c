/*
 * Fuzz target for the configuration file (tund/conf/config.c): prescan,
 * libconfig's parser and the walk that validates every setting into
 * struct config. The input is the file's text, written to a memfd that
 * config_load opens by its /proc path, so the real entry point runs,
 * file reading included, with no disk I/O per run. Whatever loads must
 * hold values the rest of the daemon relies on without checking again
 * (ranges, names that parse, NUL-terminated strings, a CA directory
 * apart from state_dir); a refusal must say why, naming the file, and
 * leave the defaults, never a half-filled struct; loading the same bytes
 * twice must give the same struct (no state kept between loads); nothing
 * may leak (LeakSanitizer).
 */
#include <errno.h>
#include <sys/mman.h>

#include "tests/fuzz/fuzz.h"
#include "identity/addr.h"
#include "identity/name.h"
#include "tund/conf/config.h"

/*
 * A finding outside our code: libconfig 1.5 (Debian's libconfig9 1.5-0.4)
 * leaks a string token its grammar did not expect ('a "x" b;'): bison
 * discards the token without freeing the lexer's buffer. Only refused
 * files reach it, each leak is at most the file's size (capped at 1 MiB),
 * and only a reload with such a file repeats it, so it is suppressed here,
 * by the two libconfig frames that allocate it (strbuf_append, and
 * libconfig_yylex for ""), rather than hiding every leak.
 */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:strbuf_append\n" "leak:libconfig_yylex\n";
}

/*
 * That leak also made this target slow (77 exec/s): libFuzzer runs a full
 * LeakSanitizer pass, which scans the whole heap and its own corpus, after
 * every input whose mallocs outnumber its frees, and every file libconfig
 * refuses that way does; after 1000 such passes it stops looking for leaks
 * at all until exit. run.sh therefore starts this target with
 * -detect_leaks=0, and the target looks itself, every LEAK_EVERY runs for
 * the whole campaign: a leak of ours (the suppressions name only
 * libconfig's two frames) fails the run within that many inputs, with
 * LeakSanitizer's report of where it was allocated.
 */
#define LEAK_EVERY 16384
int __lsan_do_recoverable_leak_check(void);
static unsigned long runs;

static int memfd = -1;
static char path[64];
static struct config defaults, a, b;

#define TERMINATED(s) (memchr((s), '\0', sizeof(s)) != NULL)

static void check_endpoint(const struct sockaddr_in6 *e)
{
	FZ_CHECK(e->sin6_family == AF_INET6);
}

static void check_loaded(const struct config *c)
{
	struct id_name id;

	FZ_CHECK(TERMINATED(c->path) && strcmp(c->path, path) == 0);
	FZ_CHECK(TERMINATED(c->state_dir) && c->state_dir[0] == '/');
	FZ_CHECK(TERMINATED(c->control_socket) && c->control_socket[0] == '/');
	FZ_CHECK(TERMINATED(c->control_group) && TERMINATED(c->interface));
	FZ_CHECK(c->interface[0] != '\0');
	FZ_CHECK(c->mtu >= 1280 && c->mtu <= 9000);
	FZ_CHECK(c->port >= 0 && c->port <= 65535);
	FZ_CHECK(c->log_level >= CONFIG_LOG_ERROR && c->log_level <= CONFIG_LOG_DEBUG);
	FZ_CHECK(c->renew_before >= 0);
	FZ_CHECK(c->keepalive >= 0 && c->keepalive <= 3600);
	FZ_CHECK(c->rekey_after >= 10 && c->rekey_after <= 120);
	FZ_CHECK(c->nat_birthday == 0 || c->nat_birthday == 1);
	FZ_CHECK(c->offload == 0 || c->offload == 1);
	FZ_CHECK(c->n_refuse >= 0 && c->n_refuse <= CONFIG_MAX_PEERS);
	for (int i = 0; i < c->n_refuse; i++)
		FZ_CHECK(TERMINATED(c->refuse[i]) && strchr(c->refuse[i], '@'));
	FZ_CHECK(c->n_peers >= 0 && c->n_peers <= CONFIG_MAX_PEERS);
	for (int i = 0; i < c->n_peers; i++) {
		const struct config_peer *p = &c->peers[i];

		FZ_CHECK(TERMINATED(p->identity));
		FZ_CHECK(id_parse(p->identity, &id, NULL, 0) == 0);
		FZ_CHECK(p->n_endpoints >= 0 && p->n_endpoints <= CONFIG_MAX_ENDPOINTS);
		for (int k = 0; k < p->n_endpoints; k++)
			check_endpoint(&p->endpoints[k]);
	}
	FZ_CHECK(c->n_trust >= 0 && c->n_trust <= CONFIG_MAX_TRUST);
	for (int i = 0; i < c->n_trust; i++) {
		const struct config_trust *t = &c->trust[i];

		FZ_CHECK(TERMINATED(t->domain));
		FZ_CHECK(id_parse_domain(t->domain, NULL, 0) == 0);
		if (t->has_authority)
			check_endpoint(&t->authority);
		FZ_CHECK(t->n_routes >= 0 && t->n_routes <= CONFIG_MAX_SUBNETS);
		for (int k = 0; k < t->n_routes; k++)
			FZ_CHECK(addr_prefix_valid(&t->routes[k]));
	}
	FZ_CHECK(TERMINATED(c->authority.ca_dir) && c->authority.ca_dir[0] == '/');
	if (!c->authority.enabled)
		return;
	FZ_CHECK(id_parse_domain(c->authority.domain, NULL, 0) == 0);
	check_endpoint(&c->authority.listen);
	FZ_CHECK(addr_prefix_valid(&c->authority.pool));
	FZ_CHECK(c->authority.cert_days >= 1 && c->authority.cert_days <= 3650);
	FZ_CHECK(c->authority.token_ttl >= 60 && c->authority.token_ttl <= 2592000);
	FZ_CHECK(strcmp(c->authority.ca_dir, c->state_dir) != 0);
	FZ_CHECK(c->authority.n_grants >= 0 && c->authority.n_grants <= CONFIG_MAX_GRANTS);
	for (int i = 0; i < c->authority.n_grants; i++) {
		const struct config_grant *g = &c->authority.grants[i];

		FZ_CHECK(id_parse(g->identity, &id, NULL, 0) == 0);
		FZ_CHECK(g->n_subnets >= 0 && g->n_subnets <= CONFIG_MAX_SUBNETS);
		for (int k = 0; k < g->n_subnets; k++)
			FZ_CHECK(addr_prefix_valid(&g->subnets[k]));
	}
}

static int load(struct config *c, char *err, size_t errlen)
{
	return config_load(path, c, err, errlen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512], err2[512];
	int rc, rc2;

	FZ_CHECK(ftruncate(memfd, 0) == 0);
	FZ_CHECK(pwrite(memfd, data, size, 0) == (ssize_t)size);
	err[0] = '\0';
	rc = load(&a, err, sizeof(err));
	FZ_CHECK(rc <= 0);
	if (rc == 0) {
		check_loaded(&a);
	} else {
		FZ_CHECK(err[0] != '\0');
		FZ_CHECK(strncmp(err, path, strlen(path)) == 0);
		FZ_CHECK(memcmp(&a, &defaults, sizeof(a)) == 0);
	}
	rc2 = load(&b, err2, sizeof(err2));
	FZ_CHECK(rc2 == rc);
	FZ_CHECK(memcmp(&a, &b, sizeof(a)) == 0);
	FZ_CHECK(rc == 0 || strcmp(err, err2) == 0);
	/* No room for a message is not a reason to write past it. */
	FZ_CHECK(load(&b, NULL, 0) == rc);
	if (++runs % LEAK_EVERY == 0)
		FZ_CHECK(__lsan_do_recoverable_leak_check() == 0);
	return 0;
}

static void seeds(const char *dir)
{
	static const char *const s[][2] = {
		{ "empty", "" },
		{ "node",
		  "state_dir = \"/var/lib/q2q\";\ncontrol_group = \"q2q\";\n"
		  "interface = \"q2q0\"; mtu = 1400; port = 0; log_level = \"debug\";\n"
		  "renew_before = 3600; keepalive = 0; rekey_after = 10;\n"
		  "nat_birthday = false; offload = true;\n"
		  "refuse = [ \"mallory@example.com\", \"*@example.net\" ];\n" },
		{ "peers",
		  "peers = ( { identity = \"bob@example.com\";\n"
		  "  endpoints = [ \"192.0.2.3:8789\", \"[2001:db8::3]:8789\" ]; } );\n"
		  "trust = ( { domain = \"example.org\";\n"
		  "  fingerprint = \"00112233445566778899aabbccddeeff"
		  "00112233445566778899aabbccddeeff\";\n"
		  "  authority = \"198.51.100.20:8788\";\n"
		  "  routes = [ \"198.51.100.128/25\" ]; } );\n" },
		{ "authority",
		  "# an authority\nauthority = {\n  domain = \"example.com\";\n"
		  "  listen = \"0.0.0.0:8788\"; pool = \"100.64.0.0/16\";\n"
		  "  cert_days = 30; token_ttl = 86400; ca_dir = \"/var/lib/q2q-ca\";\n"
		  "  grants = ( { identity = \"bob@example.com\";"
		  " subnets = [ \"203.0.113.0/24\", \"2001:db8::/48\" ]; } );\n};\n" },
		{ "libconfig-leak", "a \"x\" b;\n" },
		{ "bad", "mtu = 4294968576; /* wraps */\nlisten = 0x7fffffffL;\n" },
	};

	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		fz_write_seed(dir, s[i][0], s[i][1], strlen(s[i][1]));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fz_seed_mode(seeds);
	memfd = memfd_create("q2q-fuzz-config", MFD_CLOEXEC);
	FZ_CHECK(memfd >= 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	config_defaults(&defaults);
	return 0;
}
