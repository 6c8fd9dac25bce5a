/*
 * The guard's nftables script (see guard.h) and its one call into
 * libnftables. The script is built only from values the privileged part
 * holds itself (addresses it added, its own config's ports, the kernel's
 * name for q2q0), all printed from binary form, never from engine text.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <nftables/libnftables.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tund/priv/guard.h"

struct out {
	char *buf;
	size_t cap, len;
	int full;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->len)
		o->full = 1;
	else
		o->len += (size_t)n;
}

int guard_ifname_ok(const char *n)
{
	size_t len = strnlen(n, 16);

	if (len == 0 || len >= 16)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= 'A' && n[i] <= 'Z') ||
		      (n[i] >= '0' && n[i] <= '9') || n[i] == '_' || n[i] == '.' || n[i] == '-'))
			return 0;
	return 1;
}

/* " { 8789, 8788 }" */
static void put_ports(struct out *o, const uint16_t *p, int n)
{
	put(o, " {");
	for (int i = 0; i < n; i++)
		put(o, "%s %u", i ? "," : "", p[i]);
	put(o, " }");
}

static const char *const remove_script =
	"add table inet " GUARD_TABLE "\n"
	"delete table inet " GUARD_TABLE "\n"
	"add table arp " GUARD_TABLE "\n"
	"delete table arp " GUARD_TABLE "\n";

const char *guard_remove_script(void)
{
	return remove_script;
}

/* The overlay-source rules of one family: the engine's ports, then
 * connections of ours, pass; anything else from that source is dropped. */
static void put_source(struct out *o, const struct guard_spec *s, const char *fam, const char *src)
{
	if (s->n_udp) {
		put(o, "    %s saddr %s udp dport", fam, src);
		put_ports(o, s->udp, s->n_udp);
		put(o, " accept\n");
	}
	if (s->n_tcp) {
		put(o, "    %s saddr %s tcp dport", fam, src);
		put_ports(o, s->tcp, s->n_tcp);
		put(o, " accept\n");
	}
	put(o, "    %s saddr %s ct state != { established, related } drop\n", fam, src);
}

int guard_script(const struct guard_spec *s, char *buf, size_t cap)
{
	struct out o = { buf, cap, 0, 0 };
	char a[INET6_ADDRSTRLEN];

	if (!guard_ifname_ok(s->ifname) || s->n_exempt < 0 || s->n_exempt > GUARD_EXEMPT_MAX || s->n_udp < 0 || s->n_udp > GUARD_PORTS_MAX ||
	    s->n_tcp < 0 || s->n_tcp > GUARD_PORTS_MAX || (s->have_pool && s->pool_plen > 32))
		return -EINVAL;
	if (cap)
		buf[0] = 0;
	put(&o, "%s", remove_script);
	/* After conntrack (-200), so ct state is known; before anything
	 * else of the host's sees the packet. */
	put(&o, "table inet " GUARD_TABLE " {\n  chain pre {\n"
	    "    type filter hook prerouting priority -190; policy accept;\n"
	    "    iifname \"%s\" accept\n", s->ifname);
	if (s->have_v4) {
		inet_ntop(AF_INET, s->v4, a, sizeof(a));
		put(&o, "    ip daddr %s drop\n", a);
	}
	if (s->have_v6) {
		inet_ntop(AF_INET6, s->v6, a, sizeof(a));
		put(&o, "    ip6 daddr %s drop\n", a);
	}
	for (int i = 0; i < s->n_exempt; i++) {
		char x[INET6_ADDRSTRLEN];
		int v4 = s->exempt[i].family == AF_INET;

		inet_ntop(v4 ? AF_INET : AF_INET6, s->exempt[i].addr, x, sizeof(x));
		put(&o, "    %s saddr %s/%u accept\n", v4 ? "ip" : "ip6", x, s->exempt[i].plen);
	}
	if (s->have_pool) {
		char pfx[INET6_ADDRSTRLEN + 4];

		inet_ntop(AF_INET, s->pool, a, sizeof(a));
		snprintf(pfx, sizeof(pfx), "%s/%u", a, s->pool_plen);
		put_source(&o, s, "ip", pfx);
	}
	put_source(&o, s, "ip6", "fd00::/8");
	put(&o, "  }\n}\n");
	if (s->have_v4) {
		inet_ntop(AF_INET, s->v4, a, sizeof(a));
		put(&o, "table arp " GUARD_TABLE " {\n  chain in {\n"
		    "    type filter hook input priority 0; policy accept;\n"
		    "    iifname != \"%s\" arp operation request arp daddr ip %s drop\n  }\n}\n",
		    s->ifname, a);
	}
	return o.full ? -ENOSPC : (int)o.len;
}

/* Made before the seccomp list is installed: a new context reads
 * /etc/iproute2's name tables, and the sandbox opens nothing read-only. */
static struct nft_ctx *guard_nft;

int guard_init(void)
{
	if (guard_nft)
		return 0;
	if (!(guard_nft = nft_ctx_new(NFT_CTX_DEFAULT)))
		return -ENOMEM;
	/* Numbers only: no /etc/services or DNS lookups from in here. */
	nft_ctx_output_set_flags(guard_nft, NFT_CTX_OUTPUT_NUMERIC_ALL);
	nft_ctx_buffer_error(guard_nft);
	return 0;
}

int guard_run(const char *script, char *err, size_t errlen)
{
	const char *msg;
	int rc;

	if (!guard_nft) {
		snprintf(err, errlen, "no nftables context");
		return -ENOMEM;
	}
	rc = nft_run_cmd_from_buffer(guard_nft, script) == 0 ? 0 : -EIO;
	msg = nft_ctx_get_error_buffer(guard_nft);
	snprintf(err, errlen, "%s", rc == 0 || !msg || !*msg ? "" : msg);
	return rc;
}
