/*
 * Fuzz target for the messages the engine sends the privileged part
 * (tund/priv/privmsg.c) and the checks on them (tund/priv/privpol.c): the
 * privileged part holds CAP_NET_ADMIN, so these are the bytes an attacker
 * who took over the engine controls. Whatever decodes must re-encode to
 * the same bytes; the policy must decide on it, twice the same way (it is
 * a pure function), and allow a route only for the two overlay ranges.
 */
#include <errno.h>
#include <sys/socket.h>

#include "tests/fuzz/fuzz.h"
#include "tund/priv/privmsg.h"
#include "tund/priv/privpol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t again[PRIVMSG_MAX];
	struct privpol pol;
	struct privmsg m;
	char why[160];
	int rc;

	if (privmsg_decode(data, size, &m) != 0)
		return 0;
	FZ_CHECK(size <= PRIVMSG_MAX);
	FZ_CHECK(privmsg_encode(&m, again, sizeof(again)) == (int)size);
	FZ_CHECK(memcmp(again, data, size) == 0);
	privpol_init(&pol, "q2q0");
	pol.opened = 1;
	rc = privpol_check(&pol, &m, why, sizeof(why));
	FZ_CHECK(rc == 0 || rc == -EPERM);
	FZ_CHECK(privpol_check(&pol, &m, why, sizeof(why)) == rc);
	if (rc == 0 && (m.type == PRIV_ROUTE_ADD || m.type == PRIV_ROUTE_DEL))
		FZ_CHECK((m.family == AF_INET && m.plen == 10 && m.addr[0] == 100 &&
			  (m.addr[1] & 0xc0) == 64) ||
			 (m.family == AF_INET6 && m.plen == 8 && m.addr[0] == 0xfd));
	if (rc == 0 && m.type == PRIV_TUN_OPEN)
		FZ_CHECK(strcmp(m.ifname, "q2q0") == 0);
	return 0;
}

static void seed(const char *dir, const char *name, const struct privmsg *m)
{
	uint8_t buf[PRIVMSG_MAX];
	int n = privmsg_encode(m, buf, sizeof(buf));

	FZ_CHECK(n > 0);
	fz_write_seed(dir, name, buf, (size_t)n);
}

static void seeds(const char *dir)
{
	struct privmsg t = { .type = PRIV_TUN_OPEN, .flag = 1 };
	struct privmsg l = { .type = PRIV_LINK_SET, .flag = 1, .mtu = 1280 };
	struct privmsg a = { .type = PRIV_ADDR_ADD, .family = AF_INET, .plen = 32,
			     .addr = { 100, 64, 0, 7 } };
	struct privmsg r = { .type = PRIV_ROUTE_ADD, .family = AF_INET6, .plen = 8,
			     .addr = { 0xfd } };
	struct privmsg n = { .type = PRIV_NOTIFY, .flag = PRIV_NOTIFY_READY };

	memcpy(t.ifname, "q2q0", 4);
	seed(dir, "tun-open", &t);
	seed(dir, "link-set", &l);
	seed(dir, "addr-add", &a);
	seed(dir, "route-add", &r);
	seed(dir, "notify", &n);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fz_seed_mode(seeds);
	return 0;
}
