/*
 * Turns the daemon's libconfig file into a validated struct config. The file
 * is read into memory once, scanned for integer literals that libconfig 1.5
 * would silently wrap (it reads "mtu = 4294968576;" as 1280) and for
 * @include (everything must come from the one file we name in messages),
 * then parsed by libconfig and walked with one table of known settings per
 * group: an unknown name is an error, so a typo never leaves a default
 * silently in force. Every error names file:line, the setting path (e.g.
 * "authority.grants[1].subnets[0]"), the bad value and what was expected.
 * This is the only file that includes <libconfig.h>.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <libconfig.h>

#include "identity/cert.h"
#include "netstack/msg.h"
#include "routing/clash.h"
#include "tund/conf/config.h"
#include "tund/overlay/workers.h"
#include "tund/policy/polmsg.h"

#define CFG_FILE_MAX (1024 * 1024)	/* a config is a few KB; refuse junk */
#define CFG_PATHBUF 160			/* "authority.grants[63].subnets[15]" */
#define CFG_QUOTE_MAX 96		/* longest value echoed back in errors */
#define CFG_RENEW_MAX (3650 * 86400)	/* no certificate lives longer */

struct cfg_ctx {
	const char *file;
	char *err;
	size_t errlen;
};

/* One known setting of a group: its name and the function that validates
 * and stores it into obj (the struct the group describes). */
struct cfg_field {
	const char *name;
	int (*parse)(struct cfg_ctx *c, const config_setting_t *s,
		     const char *path, void *obj);
};

static int cfg_error(struct cfg_ctx *c, const config_setting_t *s, const char *path,
		     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int cfg_error(struct cfg_ctx *c, const config_setting_t *s, const char *path,
		     const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (!c->err || !c->errlen)
		return -EINVAL;
	if (s && config_setting_source_line(s))
		n = snprintf(c->err, c->errlen, "%s:%u: %s: ", c->file,
			     config_setting_source_line(s), path);
	else
		n = snprintf(c->err, c->errlen, "%s: %s: ", c->file, path);
	if (n < 0 || (size_t)n >= c->errlen)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(c->err + n, c->errlen - n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Echoes a value from the file as 'value', escaping bytes that would garble
 * a terminal or the journal and cutting long ones short. */
static const char *cfg_quote(const char *s, char *buf, size_t len)
{
	size_t o = 0, i;
	const size_t limit = len - 8;	/* room for an escape, "...'" and NUL */

	buf[o++] = '\'';
	for (i = 0; s[i] && o < limit; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch >= 0x20 && ch < 0x7f && ch != '\\' && ch != '\'')
			buf[o++] = (char)ch;
		else
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", ch);
	}
	if (s[i]) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o++] = '\'';
	buf[o] = '\0';
	return buf;
}

static const char *cfg_type_name(int type)
{
	switch (type) {
	case CONFIG_TYPE_GROUP: return "a group { ... }";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64: return "an integer";
	case CONFIG_TYPE_FLOAT: return "a float";
	case CONFIG_TYPE_STRING: return "a string";
	case CONFIG_TYPE_BOOL: return "a boolean";
	case CONFIG_TYPE_ARRAY: return "an array [ ... ]";
	case CONFIG_TYPE_LIST: return "a list ( ... )";
	}
	return "nothing";
}

static int cfg_wrong_type(struct cfg_ctx *c, const config_setting_t *s,
			  const char *path, const char *expected)
{
	char q[CFG_QUOTE_MAX];

	if (config_setting_type(s) == CONFIG_TYPE_STRING)
		return cfg_error(c, s, path, "expected %s, got the string %s",
				 expected, cfg_quote(config_setting_get_string(s), q, sizeof(q)));
	return cfg_error(c, s, path, "expected %s, got %s", expected,
			 cfg_type_name(config_setting_type(s)));
}

static int cfg_string(struct cfg_ctx *c, const config_setting_t *s,
		      const char *path, const char **out)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return cfg_wrong_type(c, s, path, "a string");
	*out = config_setting_get_string(s);
	return 0;
}

static int cfg_int(struct cfg_ctx *c, const config_setting_t *s, const char *path,
		   long long min, long long max, int *out)
{
	long long v;

	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64)
		return cfg_wrong_type(c, s, path, "an integer");
	v = config_setting_get_int64(s);
	if (v < min || v > max)
		return cfg_error(c, s, path, "%lld is out of range (expected %lld..%lld)",
				 v, min, max);
	*out = (int)v;
	return 0;
}

/* An array [ "a", "b" ] or list ( "a", "b" ) of at most max elements. */
static int cfg_seq(struct cfg_ctx *c, const config_setting_t *s, const char *path,
		   int max, const char *expected, int *n)
{
	int type = config_setting_type(s);

	if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST)
		return cfg_wrong_type(c, s, path, expected);
	*n = config_setting_length(s);
	if (*n > max)
		return cfg_error(c, s, path, "%d entries, at most %d allowed", *n, max);
	return 0;
}

static int cfg_has_ctl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

static int cfg_abs_path(struct cfg_ctx *c, const config_setting_t *s, const char *path,
			char *dst, size_t maxlen)
{
	char q[CFG_QUOTE_MAX];
	const char *v = "";
	size_t len;
	int r;

	if ((r = cfg_string(c, s, path, &v)) < 0)
		return r;
	len = strlen(v);
	if (v[0] != '/')
		return cfg_error(c, s, path, "%s is not an absolute path",
				 cfg_quote(v, q, sizeof(q)));
	if (len > maxlen)
		return cfg_error(c, s, path, "%s is %zu bytes long, at most %zu allowed",
				 cfg_quote(v, q, sizeof(q)), len, maxlen);
	if (cfg_has_ctl(v))
		return cfg_error(c, s, path, "%s contains control characters",
				 cfg_quote(v, q, sizeof(q)));
	memcpy(dst, v, len + 1);
	return 0;
}

/* Edit distance, to suggest the setting a typo meant. Names are short. */
static int cfg_distance(const char *a, const char *b)
{
	int prev[33], cur[33];
	size_t la = strlen(a), lb = strlen(b), i, j;

	if (la > 32 || lb > 32)
		return 99;
	for (j = 0; j <= lb; j++)
		prev[j] = (int)j;
	for (i = 1; i <= la; i++) {
		cur[0] = (int)i;
		for (j = 1; j <= lb; j++) {
			int del = prev[j] + 1, ins = cur[j - 1] + 1;
			int sub = prev[j - 1] + (a[i - 1] != b[j - 1]);

			cur[j] = del < ins ? del : ins;
			if (sub < cur[j])
				cur[j] = sub;
		}
		memcpy(prev, cur, sizeof(prev));
	}
	return prev[lb];
}

static int cfg_unknown(struct cfg_ctx *c, const config_setting_t *s, const char *path,
		       const struct cfg_field *fields, size_t nfields)
{
	const char *name = config_setting_name(s);
	char known[256];
	size_t i, o = 0;
	int best = 3, d;
	const char *guess = NULL;

	for (i = 0; i < nfields; i++) {
		d = cfg_distance(name, fields[i].name);
		if (d < best) {
			best = d;
			guess = fields[i].name;
		}
	}
	if (guess)
		return cfg_error(c, s, path, "unknown setting (did you mean '%s'?)", guess);
	known[0] = '\0';
	for (i = 0; i < nfields && o < sizeof(known); i++) {
		int n = snprintf(known + o, sizeof(known) - o, "%s%s", i ? ", " : "",
				 fields[i].name);
		if (n < 0)
			break;
		o += (size_t)n;
	}
	return cfg_error(c, s, path, "unknown setting (expected one of: %s)", known);
}

/* Paths only label messages; one cut short by an absurd name still helps. */
static void cfg_child(char *buf, const char *parent, const char *name)
{
	int n;

	if (parent[0])
		n = snprintf(buf, CFG_PATHBUF, "%s.%s", parent, name);
	else
		n = snprintf(buf, CFG_PATHBUF, "%s", name);
	if (n < 0 || n >= CFG_PATHBUF)
		memcpy(buf + CFG_PATHBUF - 4, "...", 4);
}

static void cfg_index(char *buf, const char *parent, int i)
{
	int n = snprintf(buf, CFG_PATHBUF, "%s[%d]", parent, i);

	if (n < 0 || n >= CFG_PATHBUF)
		memcpy(buf + CFG_PATHBUF - 4, "...", 4);
}

/* Validates every member of group s against fields, storing into obj. */
static int cfg_walk(struct cfg_ctx *c, const config_setting_t *s, const char *path,
		    const struct cfg_field *fields, size_t nfields, void *obj)
{
	char child[CFG_PATHBUF];
	int i, n = config_setting_length(s), r;
	size_t f;

	for (i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(s, (unsigned)i);
		const char *name = config_setting_name(m);

		cfg_child(child, path, name ? name : "?");
		for (f = 0; f < nfields; f++)
			if (name && strcmp(name, fields[f].name) == 0)
				break;
		if (f == nfields)
			return cfg_unknown(c, m, child, fields, nfields);
		if ((r = fields[f].parse(c, m, child, obj)) < 0)
			return r;
	}
	return 0;
}

/* A group element of a list, e.g. peers[2], must be { ... }. */
static int cfg_group(struct cfg_ctx *c, const config_setting_t *s, const char *path,
		     const char *expected)
{
	if (config_setting_type(s) != CONFIG_TYPE_GROUP)
		return cfg_wrong_type(c, s, path, expected);
	return 0;
}

static int cfg_missing(struct cfg_ctx *c, const config_setting_t *s, const char *path,
		       const char *name, const char *expected)
{
	return cfg_error(c, s, path, "missing '%s' (expected %s)", name, expected);
}

/* ---- pure value parsers ---- */

static int cfg_port_parse(const char *s, int min, int *out)
{
	long v = 0;
	size_t i;

	if (!s[0])
		return -EINVAL;
	for (i = 0; s[i]; i++) {
		if (i >= 5 || s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	if (v < min || v > 65535)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

/*
 * "192.0.2.3:8789" or "[2001:db8::3]:8789" into a sockaddr_in6 (IPv4 as
 * v4-mapped). A peer endpoint must be a unicast address someone can send
 * to; a listen address may be the unspecified one.
 */
static int cfg_endpoint_parse(const char *s, int listen, struct sockaddr_in6 *out,
			      const char **why)
{
	char host[INET6_ADDRSTRLEN];
	const char *colon, *end;
	struct in_addr a4;
	size_t hlen;
	int port;

	memset(out, 0, sizeof(*out));
	out->sin6_family = AF_INET6;
	if (s[0] == '[') {
		end = strchr(s, ']');
		if (!end || end[1] != ':') {
			*why = "expected [ipv6]:port";
			return -EINVAL;
		}
		hlen = (size_t)(end - s - 1);
		if (hlen >= sizeof(host)) {
			*why = "not an IPv6 address";
			return -EINVAL;
		}
		memcpy(host, s + 1, hlen);
		host[hlen] = '\0';
		if (inet_pton(AF_INET6, host, &out->sin6_addr) != 1) {
			*why = strchr(host, '%') ? "scoped (%iface) addresses are not supported"
						 : "not an IPv6 address";
			return -EINVAL;
		}
		colon = end + 1;
	} else {
		colon = strchr(s, ':');
		if (!colon) {
			*why = "expected ip:port or [ipv6]:port";
			return -EINVAL;
		}
		if (strchr(colon + 1, ':')) {
			*why = "IPv6 addresses need brackets, as in [2001:db8::3]:8789";
			return -EINVAL;
		}
		hlen = (size_t)(colon - s);
		if (hlen >= sizeof(host)) {
			*why = "not an IPv4 address";
			return -EINVAL;
		}
		memcpy(host, s, hlen);
		host[hlen] = '\0';
		if (inet_pton(AF_INET, host, &a4) != 1) {
			*why = "not an IPv4 address";
			return -EINVAL;
		}
		out->sin6_addr.s6_addr[10] = 0xff;
		out->sin6_addr.s6_addr[11] = 0xff;
		memcpy(&out->sin6_addr.s6_addr[12], &a4, 4);
	}
	if (cfg_port_parse(colon + 1, 1, &port) < 0) {
		*why = "port must be 1..65535";
		return -EINVAL;
	}
	out->sin6_port = htons((uint16_t)port);
	if (!listen) {
		const uint8_t *b = out->sin6_addr.s6_addr;
		int v4 = IN6_IS_ADDR_V4MAPPED(&out->sin6_addr);

		if (IN6_IS_ADDR_UNSPECIFIED(&out->sin6_addr) ||
		    (v4 && !b[12] && !b[13] && !b[14] && !b[15])) {
			*why = "the unspecified address is not a reachable endpoint";
			return -EINVAL;
		}
		if ((!v4 && b[0] == 0xff) || (v4 && (b[12] & 0xf0) == 0xe0) ||
		    (v4 && b[12] == 255 && b[13] == 255 && b[14] == 255 && b[15] == 255)) {
			*why = "a multicast or broadcast address is not a peer endpoint";
			return -EINVAL;
		}
	}
	return 0;
}

/* Says why addr_prefix_parse refused s, naming the network meant when only
 * host bits are wrong. */
static void cfg_prefix_why(const char *s, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN], net[INET6_ADDRSTRLEN];
	uint8_t a[16];
	const char *slash = strchr(s, '/');
	size_t hlen = slash ? (size_t)(slash - s) : strlen(s);
	int family, plen = -1, max, i;

	if (hlen >= sizeof(host)) {
		snprintf(buf, len, "expected address/length");
		return;
	}
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (inet_pton(AF_INET, host, a) == 1)
		family = AF_INET, max = 32;
	else if (inet_pton(AF_INET6, host, a) == 1)
		family = AF_INET6, max = 128;
	else {
		snprintf(buf, len, "expected address/length with an IPv4 or IPv6 address");
		return;
	}
	if (slash) {
		const char *p = slash + 1;

		plen = 0;
		for (i = 0; p[i]; i++) {
			if (i >= 3 || p[i] < '0' || p[i] > '9') {
				plen = -1;
				break;
			}
			plen = plen * 10 + (p[i] - '0');
		}
		if (!p[0] || plen < 0 || plen > max) {
			snprintf(buf, len, "prefix length must be 0..%d", max);
			return;
		}
	} else {
		plen = max;
	}
	for (i = 0; i < max / 8; i++) {
		int keep = plen - i * 8;

		if (keep <= 0)
			a[i] = 0;
		else if (keep < 8)
			a[i] &= (uint8_t)(0xff << (8 - keep));
	}
	if (inet_ntop(family, a, net, sizeof(net)))
		snprintf(buf, len, "has host bits set (the network is %s/%d)", net, plen);
	else
		snprintf(buf, len, "expected address/length");
}

/* ---- top-level settings ---- */

static int cfg_state_dir(struct cfg_ctx *c, const config_setting_t *s,
			 const char *path, void *obj)
{
	struct config *cfg = obj;

	return cfg_abs_path(c, s, path, cfg->state_dir, sizeof(cfg->state_dir) - 1);
}

static int cfg_control_socket(struct cfg_ctx *c, const config_setting_t *s,
			      const char *path, void *obj)
{
	struct config *cfg = obj;
	size_t max = sizeof(((struct sockaddr_un *)0)->sun_path) - 1;

	/* bind() takes it in sun_path, which is shorter than CONFIG_PATH_MAX */
	if (max > sizeof(cfg->control_socket) - 1)
		max = sizeof(cfg->control_socket) - 1;
	return cfg_abs_path(c, s, path, cfg->control_socket, max);
}

/* The names socket (tund/ctl/names.h): a socket path like control_socket,
 * or "" for none. */
static int cfg_names_socket(struct cfg_ctx *c, const config_setting_t *s,
			    const char *path, void *obj)
{
	struct config *cfg = obj;
	size_t max = sizeof(((struct sockaddr_un *)0)->sun_path) - 1;
	const char *v = "";
	int r;

	if ((r = cfg_string(c, s, path, &v)) < 0)
		return r;
	if (!*v) {
		cfg->names_socket[0] = '\0';
		return 0;
	}
	if (max > sizeof(cfg->names_socket) - 1)
		max = sizeof(cfg->names_socket) - 1;
	return cfg_abs_path(c, s, path, cfg->names_socket, max);
}

static int cfg_control_group(struct cfg_ctx *c, const config_setting_t *s,
			     const char *path, void *obj)
{
	struct config *cfg = obj;
	char q[CFG_QUOTE_MAX];
	const char *v = "";
	size_t i, len;
	int r;

	if ((r = cfg_string(c, s, path, &v)) < 0)
		return r;
	len = strlen(v);
	if (len >= sizeof(cfg->control_group) || v[0] == '-')
		goto bad;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)v[i]) && !strchr("_.-", v[i]))
			goto bad;
	memcpy(cfg->control_group, v, len + 1);
	return 0;
bad:
	return cfg_error(c, s, path, "%s is not a group name (expected \"\" for root only, "
			 "or up to %zu of [A-Za-z0-9_.-] not starting with '-')",
			 cfg_quote(v, q, sizeof(q)), sizeof(cfg->control_group) - 1);
}

static int cfg_interface(struct cfg_ctx *c, const config_setting_t *s,
			 const char *path, void *obj)
{
	struct config *cfg = obj;
	char q[CFG_QUOTE_MAX];
	const char *v = "";
	size_t i, len;
	int r;

	if ((r = cfg_string(c, s, path, &v)) < 0)
		return r;
	len = strlen(v);
	/* the kernel refuses "." and ".." as interface names */
	if (len == 0 || len >= sizeof(cfg->interface) ||
	    strcmp(v, ".") == 0 || strcmp(v, "..") == 0)
		goto bad;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)v[i]) && !strchr("_.-", v[i]))
			goto bad;
	memcpy(cfg->interface, v, len + 1);
	return 0;
bad:
	return cfg_error(c, s, path, "%s is not an interface name (expected 1..%zu of "
			 "[A-Za-z0-9_.-])", cfg_quote(v, q, sizeof(q)),
			 sizeof(cfg->interface) - 1);
}

/* Below 1280 would break IPv6 on q2q0, and buys nothing: a narrower
 * path is found by probing and 1280-byte packets are split to cross it. */
static int cfg_mtu(struct cfg_ctx *c, const config_setting_t *s, const char *path, void *obj)
{
	int *mtu = &((struct config *)obj)->mtu, r = cfg_int(c, s, path, 0, 9000, mtu);

	if (r == 0 && *mtu < 1280)
		return cfg_error(c, s, path, "%d is below 1280 (expected 1280..9000): q2q0 carries "
		    "IPv6, which needs 1280; paths narrower than that are found by probing and "
		    "1280-byte packets are split to cross them, so a smaller q2q0 is never needed",
		    *mtu);
	return r;
}

/* Not main (254), default (253), local (255) or unspecified (0): q2q's
 * routes must sit in a table of their own (tund/priv/priv.h). */
static int cfg_route_table(struct cfg_ctx *c, const config_setting_t *s, const char *path, void *obj)
{
	int *t = &((struct config *)obj)->route_table;
	int r = cfg_int(c, s, path, 1, 0x7fffffff, t);

	if (r == 0 && *t >= 253 && *t <= 255)
		return cfg_error(c, s, path, "%d is a table of the kernel's own (253 default, "
				 "254 main, 255 local); pick another, e.g. 5288", *t);
	return r;
}

static int cfg_port(struct cfg_ctx *c, const config_setting_t *s, const char *path, void *obj)
{
	return cfg_int(c, s, path, 0, 65535, &((struct config *)obj)->port);
}

static int cfg_renew_before(struct cfg_ctx *c, const config_setting_t *s,
			    const char *path, void *obj)
{
	return cfg_int(c, s, path, 0, CFG_RENEW_MAX, &((struct config *)obj)->renew_before);
}

static int cfg_keepalive(struct cfg_ctx *c, const config_setting_t *s, const char *path, void *obj)
{
	return cfg_int(c, s, path, 0, 3600, &((struct config *)obj)->keepalive);
}

static int cfg_rekey_after(struct cfg_ctx *c, const config_setting_t *s, const char *path, void *obj)
{
	return cfg_int(c, s, path, 10, 120, &((struct config *)obj)->rekey_after);
}

static int cfg_workers(struct cfg_ctx *c, const config_setting_t *s, const char *path, void *obj)
{
	return cfg_int(c, s, path, 0, WORKERS_MAX, &((struct config *)obj)->workers);
}

static int cfg_bool(struct cfg_ctx *c, const config_setting_t *s, const char *path, int *out)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return cfg_wrong_type(c, s, path, "true or false");
	*out = config_setting_get_bool(s);
	return 0;
}

static int cfg_nat_birthday(struct cfg_ctx *c, const config_setting_t *s, const char *path, void *obj)
{
	return cfg_bool(c, s, path, &((struct config *)obj)->nat_birthday);
}

static int cfg_allow_exit_node(struct cfg_ctx *c, const config_setting_t *s, const char *path, void *obj)
{
	return cfg_bool(c, s, path, &((struct config *)obj)->allow_exit_node);
}

/* true, false, or the protocols to use: [ "pcp", "natpmp", "upnp" ]. */
static int cfg_portmap(struct cfg_ctx *c, const config_setting_t *s, const char *path, void *obj)
{
	static const struct { const char *name; unsigned bit; } protos[] = {
		{ "pcp", CONFIG_PORTMAP_PCP }, { "natpmp", CONFIG_PORTMAP_NATPMP }, { "upnp", CONFIG_PORTMAP_UPNP },
	};
	const size_t nprotos = sizeof(protos) / sizeof(protos[0]);
	struct config *cfg = obj;
	char child[CFG_PATHBUF], q[CFG_QUOTE_MAX];
	int on, n, r;

	if (config_setting_type(s) == CONFIG_TYPE_BOOL) {
		if ((r = cfg_bool(c, s, path, &on)) < 0)
			return r;
		cfg->portmap = on ? CONFIG_PORTMAP_ALL : 0;
		return 0;
	}
	if ((r = cfg_seq(c, s, path, 8, "true, false or a list of \"pcp\", \"natpmp\", \"upnp\"", &n)) < 0)
		return r;
	cfg->portmap = 0;
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *v = "";
		size_t k;

		cfg_index(child, path, i);
		if ((r = cfg_string(c, e, child, &v)) < 0)
			return r;
		for (k = 0; k < nprotos && strcmp(v, protos[k].name) != 0; k++)
			;
		if (k == nprotos)
			return cfg_error(c, e, child, "%s is not a port-mapping protocol (expected \"pcp\", \"natpmp\" or \"upnp\")",
					 cfg_quote(v, q, sizeof(q)));
		cfg->portmap |= protos[k].bit;
	}
	return 0;
}

static int cfg_offload(struct cfg_ctx *c, const config_setting_t *s, const char *path, void *obj)
{
	return cfg_bool(c, s, path, &((struct config *)obj)->offload);
}

/* "user@domain" or "*@domain": who may not connect to this node. */
/* Plain HTTP with peer names and traffic counts: an explicit address,
 * so that exposing it beyond this host is a choice (q2qd warns at start
 * when it is not a loopback address). */
static int cfg_metrics_listen(struct cfg_ctx *c, const config_setting_t *s, const char *path, void *obj)
{
	struct config *cfg = obj;
	char q[CFG_QUOTE_MAX];
	const char *why;

	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return cfg_wrong_type(c, s, path, "\"ip:port\" or \"[ipv6]:port\", as in \"127.0.0.1:9789\"");
	if (cfg_endpoint_parse(config_setting_get_string(s), 1, &cfg->metrics_listen, &why) < 0)
		return cfg_error(c, s, path, "%s: %s", cfg_quote(config_setting_get_string(s), q, sizeof(q)),
		    why);
	cfg->has_metrics_listen = 1;
	return 0;
}

static int cfg_refuse(struct cfg_ctx *c, const config_setting_t *s, const char *path, void *obj)
{
	struct config *cfg = obj;
	char child[CFG_PATHBUF], q[CFG_QUOTE_MAX], err[256];
	const char *v = "";
	int i, n = 0, r;

	if ((r = cfg_seq(c, s, path, CONFIG_MAX_PEERS,
			 "an array of \"user@domain\" or \"*@domain\" strings", &n)) < 0)
		return r;
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);

		cfg_index(child, path, i);
		if ((r = cfg_string(c, e, child, &v)) < 0)
			return r;
		if (strncmp(v, "*@", 2) == 0 ? id_parse_domain(v + 2, err, sizeof(err)) < 0 :
		    id_parse_user(v, NULL, err, sizeof(err)) < 0)
			return cfg_error(c, e, child, "%s is not user@domain or *@domain",
					 cfg_quote(v, q, sizeof(q)));
		snprintf(cfg->refuse[i], sizeof(cfg->refuse[i]), "%s", v);
		cfg->n_refuse = i + 1;
	}
	return 0;
}

/* ---- the identity firewall: groups and policy ---- */

/* A string, or an array of them, each checked by check into pool offsets
 * (a rule's from and to). */
static int cfg_pol_sels(struct cfg_ctx *c, const config_setting_t *s, const char *path,
			struct pol_set *ps, uint16_t *out, uint8_t *count)
{
	char child[CFG_PATHBUF], q[CFG_QUOTE_MAX];
	int one = config_setting_type(s) == CONFIG_TYPE_STRING, n = 1, i, r, off;
	const char *v = "", *why = "";

	if (!one && (r = cfg_seq(c, s, path, POL_MAX_SEL,
				 "\"user@domain\", \"*@domain\", \"*\", \"group:NAME\" or an array of them", &n)) < 0)
		return r;
	if (n == 0)
		return cfg_error(c, s, path, "empty (expected at least one selector)");
	for (i = 0; i < n; i++) {
		const config_setting_t *e = one ? s : config_setting_get_elem(s, (unsigned)i);

		if (one)
			snprintf(child, sizeof(child), "%s", path);
		else
			cfg_index(child, path, i);
		if ((r = cfg_string(c, e, child, &v)) < 0)
			return r;
		if (pol_sel_check(v, &why) < 0)
			return cfg_error(c, e, child, "%s: %s", cfg_quote(v, q, sizeof(q)), why);
		if ((off = pol_set_intern(ps, v)) < 0)
			return cfg_error(c, e, child, "the policy's names exceed %d bytes", POL_POOL);
		out[i] = (uint16_t)off;
	}
	*count = (uint8_t)n;
	return 0;
}

static int cfg_pol_allow(struct cfg_ctx *c, const config_setting_t *s, const char *path,
			 struct pol_rule *r)
{
	char child[CFG_PATHBUF], q[CFG_QUOTE_MAX];
	const char *v = "", *why = "";
	int i, n = 0, rc;

	if ((rc = cfg_seq(c, s, path, POL_MAX_ALLOW,
			  "an array of \"tcp/PORT\", \"udp/LOW-HIGH\", \"icmp\", ... strings", &n)) < 0)
		return rc;
	if (n == 0)
		return cfg_error(c, s, path, "empty (expected at least one of \"tcp/22\", \"icmp\", ...)");
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);

		cfg_index(child, path, i);
		if ((rc = cfg_string(c, e, child, &v)) < 0)
			return rc;
		if (pol_port_parse(v, &r->allow[i], &why) < 0)
			return cfg_error(c, e, child, "%s: %s", cfg_quote(v, q, sizeof(q)), why);
	}
	r->n_allow = (uint8_t)n;
	return 0;
}

static int cfg_pol_rule(struct cfg_ctx *c, const config_setting_t *e, const char *path,
			struct pol_set *ps, int idx)
{
	static const char *const names[] = { "from", "to", "allow" };
	struct pol_rule *r = &ps->rules[idx];
	char child[CFG_PATHBUF];
	int i, n, rc;

	if ((rc = cfg_group(c, e, path, "a rule { from = ...; to = ...; allow = [ ... ]; }")) < 0)
		return rc;
	memset(r, 0, sizeof(*r));
	r->origin = (uint16_t)idx;
	r->line = config_setting_source_line(e);
	n = config_setting_length(e);
	for (i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(e, (unsigned)i);
		const char *name = config_setting_name(m);

		cfg_child(child, path, name ? name : "?");
		if (name && strcmp(name, "from") == 0)
			rc = cfg_pol_sels(c, m, child, ps, r->from, &r->n_from);
		else if (name && strcmp(name, "to") == 0)
			rc = cfg_pol_sels(c, m, child, ps, r->to, &r->n_to);
		else if (name && strcmp(name, "allow") == 0)
			rc = cfg_pol_allow(c, m, child, r);
		else
			rc = cfg_error(c, m, child, "unknown setting (expected from, to or allow)");
		if (rc < 0)
			return rc;
	}
	for (i = 0; i < 3; i++)
		if (!config_setting_get_member(e, names[i]))
			return cfg_missing(c, e, path, names[i], i == 2 ? "[ \"tcp/22\", ... ]" :
					   "\"user@domain\", \"*@domain\", \"*\" or \"group:NAME\"");
	return 0;
}

static int cfg_policy(struct cfg_ctx *c, const config_setting_t *s, const char *path, void *obj)
{
	struct pol_set *ps = &((struct config *)obj)->policy;
	char child[CFG_PATHBUF];
	int i, n, r;

	if (config_setting_type(s) != CONFIG_TYPE_LIST)
		return cfg_wrong_type(c, s, path, "a list ( { from = ...; to = ...; allow = [ ... ]; }, ... )");
	n = config_setting_length(s);
	if (n > POL_MAX_RULES)
		return cfg_error(c, s, path, "%d rules, at most %d allowed", n, POL_MAX_RULES);
	for (i = 0; i < n; i++) {
		cfg_index(child, path, i);
		if ((r = cfg_pol_rule(c, config_setting_get_elem(s, (unsigned)i), child, ps, i)) < 0)
			return r;
		ps->n_rules = i + 1;
	}
	ps->present = 1;
	return 0;
}

static int cfg_pol_groups(struct cfg_ctx *c, const config_setting_t *s, const char *path, void *obj)
{
	struct pol_set *ps = &((struct config *)obj)->policy;
	char child[CFG_PATHBUF], member[CFG_PATHBUF], q[CFG_QUOTE_MAX];
	const char *v = "", *why = "";
	int i, j, n, m, r, off;

	if (config_setting_type(s) != CONFIG_TYPE_GROUP)
		return cfg_wrong_type(c, s, path, "a group { NAME = [ \"user@domain\", ... ]; ... }");
	n = config_setting_length(s);
	if (n > POL_MAX_GROUPS)
		return cfg_error(c, s, path, "%d groups, at most %d allowed", n, POL_MAX_GROUPS);
	for (i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(s, (unsigned)i);
		const char *name = config_setting_name(g);
		struct pol_group *pg = &ps->groups[i];

		cfg_child(child, path, name ? name : "?");
		if (!name || pol_group_name_check(name, &why) < 0)
			return cfg_error(c, g, child, "%s", why);
		if ((r = cfg_seq(c, g, child, POL_MAX_MEMBERS - ps->n_members,
				 "an array of \"user@domain\" or \"*@domain\" strings", &m)) < 0)
			return r;
		if ((off = pol_set_intern(ps, name)) < 0)
			return cfg_error(c, g, child, "the policy's names exceed %d bytes", POL_POOL);
		pg->name = (uint16_t)off;
		pg->first = (uint16_t)ps->n_members;
		for (j = 0; j < m; j++) {
			const config_setting_t *e = config_setting_get_elem(g, (unsigned)j);

			cfg_index(member, child, j);
			if ((r = cfg_string(c, e, member, &v)) < 0)
				return r;
			if (pol_member_check(v, &why) < 0)
				return cfg_error(c, e, member, "%s: %s", cfg_quote(v, q, sizeof(q)), why);
			if ((off = pol_set_intern(ps, v)) < 0)
				return cfg_error(c, e, member, "the policy's names exceed %d bytes", POL_POOL);
			ps->members[ps->n_members++] = (uint16_t)off;
		}
		pg->n = (uint16_t)m;
		ps->n_groups = i + 1;
	}
	return 0;
}

/* After the walk (groups may follow the rules that name them): every
 * group named exists, and the whole policy fits one MSG_POLICY. */
static int cfg_pol_check(struct cfg_ctx *c, config_t *cf, struct config *cfg)
{
	char path[CFG_PATHBUF], q[CFG_QUOTE_MAX];
	const struct pol_rule *r;
	const config_setting_t *s;
	uint8_t *buf;
	int rule, idx, from, n;

	if (pol_set_check_groups(&cfg->policy, &rule, &idx, &from) < 0) {
		r = &cfg->policy.rules[rule];
		s = config_setting_get_elem(config_lookup(cf, "policy"), (unsigned)rule);
		s = s ? config_setting_get_member(s, from ? "from" : "to") : NULL;
		if (s && config_setting_type(s) != CONFIG_TYPE_STRING) {
			s = config_setting_get_elem(s, (unsigned)idx);
			snprintf(path, sizeof(path), "policy[%d].%s[%d]", rule, from ? "from" : "to", idx);
		} else
			snprintf(path, sizeof(path), "policy[%d].%s", rule, from ? "from" : "to");
		return cfg_error(c, s, path, "%s: no such group (define it in groups = { ... })",
				 cfg_quote(pol_str(&cfg->policy, from ? r->from[idx] : r->to[idx]), q, sizeof(q)));
	}
	if (!cfg->policy.present)
		return 0;
	buf = malloc(MSG_FRAME_MAX);
	if (!buf)
		return cfg_error(c, NULL, "policy", "out of memory");
	n = pol_msg_build(&cfg->policy, 0, buf, MSG_FRAME_MAX);
	free(buf);
	if (n < 0)
		return cfg_error(c, config_lookup(cf, "policy"), "policy",
				 "too large to send to nodes in one message (fewer or shorter rules)");
	return 0;
}

static int cfg_policy_reject(struct cfg_ctx *c, const config_setting_t *s, const char *path, void *obj)
{
	return cfg_bool(c, s, path, &((struct config *)obj)->policy_reject);
}

static int cfg_log_level(struct cfg_ctx *c, const config_setting_t *s,
			 const char *path, void *obj)
{
	static const char *const names[] = {
		[CONFIG_LOG_ERROR] = "error", [CONFIG_LOG_WARN] = "warn",
		[CONFIG_LOG_INFO] = "info", [CONFIG_LOG_DEBUG] = "debug",
	};
	struct config *cfg = obj;
	char q[CFG_QUOTE_MAX];
	const char *v = "";
	size_t i;
	int r;

	if ((r = cfg_string(c, s, path, &v)) < 0)
		return r;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(v, names[i]) == 0) {
			cfg->log_level = (int)i;
			return 0;
		}
	}
	return cfg_error(c, s, path, "%s is not a log level (expected error, warn, info "
			 "or debug)", cfg_quote(v, q, sizeof(q)));
}

/* A user@domain identity; copies the canonical form into dst. */
static int cfg_identity(struct cfg_ctx *c, const config_setting_t *s, const char *path,
			char dst[ID_NAME_MAX + 1])
{
	struct id_name name;
	char q[CFG_QUOTE_MAX], why[256];
	const char *v = "";
	int r;

	if ((r = cfg_string(c, s, path, &v)) < 0)
		return r;
	why[0] = '\0';
	/* id_parse_user's message already quotes the value and says what is wrong */
	if (strlen(v) > ID_NAME_MAX || id_parse_user(v, &name, why, sizeof(why)) < 0) {
		if (why[0])
			return cfg_error(c, s, path, "%s (expected user@domain)", why);
		return cfg_error(c, s, path, "%s is not a user@domain identity",
				 cfg_quote(v, q, sizeof(q)));
	}
	snprintf(dst, ID_NAME_MAX + 1, "%s", name.full);
	return 0;
}

static int cfg_domain(struct cfg_ctx *c, const config_setting_t *s, const char *path,
		      char dst[ID_DOMAIN_MAX + 1])
{
	char q[CFG_QUOTE_MAX], why[256];
	const char *v = "";
	size_t len;
	int r;

	if ((r = cfg_string(c, s, path, &v)) < 0)
		return r;
	why[0] = '\0';
	len = strlen(v);
	if (len > ID_DOMAIN_MAX || id_parse_domain(v, why, sizeof(why)) < 0) {
		if (why[0])
			return cfg_error(c, s, path, "%s (expected a domain name)", why);
		return cfg_error(c, s, path, "%s is not a domain name",
				 cfg_quote(v, q, sizeof(q)));
	}
	memcpy(dst, v, len + 1);
	return 0;
}

/* ---- peers ---- */

/* ---- lists of groups (peers, trust, grants) ---- */

/* What one kind of list looks like; `key` is a string member that must be
 * unique across the list, `done` checks an element once its fields are in. */
struct cfg_groups {
	const char *shape;		/* "{ identity = ...; endpoints = [ ... ]; }" */
	const struct cfg_field *fields;
	int nfields;
	int max;
	size_t size;			/* of one element */
	size_t key_off;			/* offset of the unique string member */
	const char *key_name;		/* its setting name */
	const char *what;		/* "peer", "trust domain", "grant for" */
	int (*done)(struct cfg_ctx *c, const config_setting_t *e, const char *path, void *elem,
		    void *owner);
};

static int cfg_groups(struct cfg_ctx *c, const config_setting_t *s, const char *path,
		      const struct cfg_groups *g, void *elems, int *count, void *owner)
{
	char child[CFG_PATHBUF];
	int i, j, n, r;

	if (config_setting_type(s) != CONFIG_TYPE_LIST)
		return cfg_wrong_type(c, s, path, g->shape);
	n = config_setting_length(s);
	if (n > g->max)
		return cfg_error(c, s, path, "%d entries, at most %d allowed", n, g->max);
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		char *elem = (char *)elems + (size_t)i * g->size;
		const char *key = elem + g->key_off;

		cfg_index(child, path, i);
		if ((r = cfg_group(c, e, child, "a group")) < 0)
			return r;
		memset(elem, 0, g->size);
		if ((r = cfg_walk(c, e, child, g->fields, (size_t)g->nfields, elem)) < 0 ||
		    (r = g->done(c, e, child, elem, owner)) < 0)
			return r;
		for (j = 0; j < i; j++)
			if (strcmp((char *)elems + (size_t)j * g->size + g->key_off, key) == 0)
				return cfg_error(c, config_setting_get_member(e, g->key_name), child,
						 "duplicate %s '%s' (also %s[%d])", g->what, key, path, j);
		*count = i + 1;
	}
	return 0;
}

static int cfg_peer_identity(struct cfg_ctx *c, const config_setting_t *s,
			     const char *path, void *obj)
{
	return cfg_identity(c, s, path, ((struct config_peer *)obj)->identity);
}

static int cfg_peer_endpoints(struct cfg_ctx *c, const config_setting_t *s,
			      const char *path, void *obj)
{
	struct config_peer *p = obj;
	char child[CFG_PATHBUF], q[CFG_QUOTE_MAX];
	const char *v = "", *why = "";
	int i, j, n = 0, r;

	if ((r = cfg_seq(c, s, path, CONFIG_MAX_ENDPOINTS,
			 "an array of \"ip:port\" strings", &n)) < 0)
		return r;
	if (n == 0)
		return cfg_error(c, s, path, "empty (expected at least one \"ip:port\")");
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);

		cfg_index(child, path, i);
		if ((r = cfg_string(c, e, child, &v)) < 0)
			return r;
		if (cfg_endpoint_parse(v, 0, &p->endpoints[i], &why) < 0)
			return cfg_error(c, e, child, "%s: %s", cfg_quote(v, q, sizeof(q)), why);
		for (j = 0; j < i; j++)
			if (memcmp(&p->endpoints[j], &p->endpoints[i],
				   sizeof(p->endpoints[i])) == 0)
				return cfg_error(c, e, child, "%s repeats %s[%d]",
						 cfg_quote(v, q, sizeof(q)), path, j);
		p->n_endpoints = i + 1;
	}
	return 0;
}

static const struct cfg_field cfg_peer_fields[] = {
	{ "identity", cfg_peer_identity },
	{ "endpoints", cfg_peer_endpoints },
};

static int cfg_peer_done(struct cfg_ctx *c, const config_setting_t *e, const char *path,
			 void *elem, void *owner)
{
	struct config_peer *p = elem;

	if (!p->identity[0])
		return cfg_missing(c, e, path, "identity", "\"user@domain\"");
	if (!p->n_endpoints)
		return cfg_missing(c, e, path, "endpoints", "[ \"ip:port\", ... ]");
	return 0;
}

static int cfg_peers(struct cfg_ctx *c, const config_setting_t *s, const char *path,
		     void *obj)
{
	static const struct cfg_groups g = {
		.shape = "a list ( { identity = ...; endpoints = [ ... ]; }, ... )",
		.fields = cfg_peer_fields, .nfields = 2, .max = CONFIG_MAX_PEERS,
		.size = sizeof(struct config_peer),
		.key_off = offsetof(struct config_peer, identity), .key_name = "identity",
		.what = "peer", .done = cfg_peer_done,
	};
	struct config *cfg = obj;

	return cfg_groups(c, s, path, &g, cfg->peers, &cfg->n_peers, cfg);
}

/* ---- trust ---- */

/* A non-empty array of distinct "address/length" strings (grants'
 * subnets, trust entries' routes). */
static int cfg_prefixes(struct cfg_ctx *c, const config_setting_t *s, const char *path,
			int max, struct addr_prefix *out, int *count)
{
	char child[CFG_PATHBUF], q[CFG_QUOTE_MAX], why[128];
	const char *v = "";
	int i, j, n = 0, r;

	if ((r = cfg_seq(c, s, path, max, "an array of \"address/length\" strings", &n)) < 0)
		return r;
	if (n == 0)
		return cfg_error(c, s, path, "empty (expected at least one \"address/length\")");
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		struct addr_prefix *p = &out[i];

		cfg_index(child, path, i);
		if ((r = cfg_string(c, e, child, &v)) < 0)
			return r;
		if (addr_prefix_parse(v, p) < 0) {
			memset(p, 0, sizeof(*p));
			cfg_prefix_why(v, why, sizeof(why));
			return cfg_error(c, e, child, "%s %s", cfg_quote(v, q, sizeof(q)), why);
		}
		for (j = 0; j < i; j++)
			if (out[j].family == p->family && out[j].plen == p->plen &&
			    memcmp(out[j].addr, p->addr, sizeof(p->addr)) == 0)
				return cfg_error(c, e, child, "%s repeats %s[%d]",
						 cfg_quote(v, q, sizeof(q)), path, j);
		*count = i + 1;
	}
	return 0;
}

static int cfg_trust_domain(struct cfg_ctx *c, const config_setting_t *s,
			    const char *path, void *obj)
{
	return cfg_domain(c, s, path, ((struct config_trust *)obj)->domain);
}

/* An all-zero fingerprint could never match a real certificate: refused
 * as a typo rather than kept as a pin nothing can meet. */
static int cfg_trust_fingerprint(struct cfg_ctx *c, const config_setting_t *s,
				 const char *path, void *obj)
{
	static const uint8_t zero[32];
	struct config_trust *t = obj;
	char q[CFG_QUOTE_MAX];
	const char *v = "";
	int r;

	if ((r = cfg_string(c, s, path, &v)) < 0)
		return r;
	if (cert_fingerprint_parse(v, t->fingerprint) < 0 ||
	    memcmp(t->fingerprint, zero, sizeof(zero)) == 0) {
		memset(t->fingerprint, 0, sizeof(t->fingerprint));
		return cfg_error(c, s, path, "%s is not a SHA-256 fingerprint (expected 64 "
				 "hex digits, colons allowed)", cfg_quote(v, q, sizeof(q)));
	}
	t->has_fingerprint = 1;
	return 0;
}

static int cfg_trust_authority(struct cfg_ctx *c, const config_setting_t *s,
			       const char *path, void *obj)
{
	struct config_trust *t = obj;
	char q[CFG_QUOTE_MAX];
	const char *v = "", *why = "";
	int r;

	if ((r = cfg_string(c, s, path, &v)) < 0)
		return r;
	if (cfg_endpoint_parse(v, 0, &t->authority, &why) < 0)
		return cfg_error(c, s, path, "%s: %s", cfg_quote(v, q, sizeof(q)), why);
	t->has_authority = 1;
	return 0;
}

/* Routes the domain's CA may grant its nodes: without them, a foreign
 * certificate's route grants are refused (tund/overlay/claims.c). */
static int cfg_trust_routes(struct cfg_ctx *c, const config_setting_t *s,
			    const char *path, void *obj)
{
	struct config_trust *t = obj;

	return cfg_prefixes(c, s, path, CONFIG_MAX_SUBNETS, t->routes, &t->n_routes);
}

static const struct cfg_field cfg_trust_fields[] = {
	{ "domain", cfg_trust_domain },
	{ "fingerprint", cfg_trust_fingerprint },
	{ "authority", cfg_trust_authority },
	{ "routes", cfg_trust_routes },
};

static int cfg_trust_done(struct cfg_ctx *c, const config_setting_t *e, const char *path,
			  void *elem, void *owner)
{
	struct config_trust *t = elem;

	/* Without a fingerprint the CA comes from DNSSEC or first use, as
	 * trust_policy allows; that is checked once the whole file is read. */
	if (!t->domain[0])
		return cfg_missing(c, e, path, "domain", "\"example.org\"");
	return 0;
}

static int cfg_trust(struct cfg_ctx *c, const config_setting_t *s, const char *path,
		     void *obj)
{
	static const struct cfg_groups g = {
		.shape = "a list ( { domain = ...; fingerprint = ...; }, ... )",
		.fields = cfg_trust_fields, .nfields = 4, .max = CONFIG_MAX_TRUST,
		.size = sizeof(struct config_trust),
		.key_off = offsetof(struct config_trust, domain), .key_name = "domain",
		.what = "trust domain", .done = cfg_trust_done,
	};
	struct config *cfg = obj;

	return cfg_groups(c, s, path, &g, cfg->trust, &cfg->n_trust, cfg);
}

static const char *const cfg_policy_names[] = {
	[CONFIG_TRUST_DNSSEC] = "dnssec",
	[CONFIG_TRUST_FIRST_USE] = "first-use",
	[CONFIG_TRUST_PINNED] = "pinned",
};

static int cfg_trust_policy(struct cfg_ctx *c, const config_setting_t *s, const char *path,
			    void *obj)
{
	struct config *cfg = obj;
	char q[CFG_QUOTE_MAX];
	const char *v = "";
	int r;

	if ((r = cfg_string(c, s, path, &v)) < 0)
		return r;
	for (size_t i = 0; i < sizeof(cfg_policy_names) / sizeof(cfg_policy_names[0]); i++)
		if (strcmp(v, cfg_policy_names[i]) == 0) {
			cfg->trust_policy = (int)i;
			return 0;
		}
	return cfg_error(c, s, path, "%s is not a trust policy (expected \"dnssec\", "
			 "\"first-use\" or \"pinned\")", cfg_quote(v, q, sizeof(q)));
}

static int cfg_dns_anchor(struct cfg_ctx *c, const config_setting_t *s, const char *path,
			  void *obj)
{
	struct config *cfg = obj;

	return cfg_abs_path(c, s, path, cfg->dns_anchor, sizeof(cfg->dns_anchor) - 1);
}

/* "ip" or "ip@port" (libunbound's forwarder syntax): an address, never a
 * name, since resolving it would need the resolver it names. */
static int cfg_dns_resolver(struct cfg_ctx *c, const config_setting_t *s, const char *path,
			    void *obj)
{
	struct config *cfg = obj;
	char q[CFG_QUOTE_MAX], host[INET6_ADDRSTRLEN];
	const char *v = "", *at;
	uint8_t a[16];
	size_t hlen;
	int r, port;

	if ((r = cfg_string(c, s, path, &v)) < 0)
		return r;
	at = strchr(v, '@');
	hlen = at ? (size_t)(at - v) : strlen(v);
	if (hlen == 0 || hlen >= sizeof(host) || strlen(v) >= sizeof(cfg->dns_resolver))
		goto bad;
	memcpy(host, v, hlen);
	host[hlen] = '\0';
	if (inet_pton(AF_INET, host, a) != 1 && inet_pton(AF_INET6, host, a) != 1)
		goto bad;
	if (at && cfg_port_parse(at + 1, 1, &port) < 0)
		goto bad;
	snprintf(cfg->dns_resolver, sizeof(cfg->dns_resolver), "%s", v);
	return 0;
bad:
	return cfg_error(c, s, path, "%s is not a resolver address (expected \"ip\" or "
			 "\"ip@port\", e.g. \"192.0.2.53\" or \"2001:db8::53@5353\")",
			 cfg_quote(v, q, sizeof(q)));
}

/* A trust entry without a fingerprint leaves its CA to DNSSEC or first
 * use, which "pinned" forbids. */
static int cfg_trust_policy_check(struct cfg_ctx *c, const struct config *cfg)
{
	if (cfg->trust_policy != CONFIG_TRUST_PINNED)
		return 0;
	for (int i = 0; i < cfg->n_trust; i++)
		if (!cfg->trust[i].has_fingerprint) {
			snprintf(c->err, c->errlen, "%s: trust[%d]: missing 'fingerprint' "
				 "(trust_policy = \"pinned\" accepts pinned CAs only)", c->file, i);
			return -EINVAL;
		}
	return 0;
}

/* ---- authority ---- */

static int cfg_grant_identity(struct cfg_ctx *c, const config_setting_t *s,
			      const char *path, void *obj)
{
	return cfg_identity(c, s, path, ((struct config_grant *)obj)->identity);
}

static int cfg_grant_subnets(struct cfg_ctx *c, const config_setting_t *s,
			     const char *path, void *obj)
{
	struct config_grant *g = obj;

	return cfg_prefixes(c, s, path, CONFIG_MAX_SUBNETS, g->subnets, &g->n_subnets);
}

static const struct cfg_field cfg_grant_fields[] = {
	{ "identity", cfg_grant_identity },
	{ "subnets", cfg_grant_subnets },
};

static int cfg_grant_done(struct cfg_ctx *c, const config_setting_t *e, const char *path,
			  void *elem, void *owner)
{
	struct config_grant *g = elem;
	struct config_authority *a = owner;
	const char *at;

	if (!g->identity[0])
		return cfg_missing(c, e, path, "identity", "\"user@domain\"");
	if (!g->n_subnets)
		return cfg_missing(c, e, path, "subnets", "[ \"address/length\", ... ]");
	/* the authority only signs certificates for its own domain */
	at = strchr(g->identity, '@');
	if (!at || strcmp(at + 1, a->domain) != 0) {
		char ipath[CFG_PATHBUF];

		cfg_child(ipath, path, "identity");
		return cfg_error(c, config_setting_get_member(e, "identity"), ipath,
				 "'%s' is not in this authority's domain '%s'",
				 g->identity, a->domain);
	}
	return 0;
}

static int cfg_auth_grants(struct cfg_ctx *c, const config_setting_t *s,
			   const char *path, void *obj)
{
	static const struct cfg_groups g = {
		.shape = "a list ( { identity = ...; subnets = [ ... ]; }, ... )",
		.fields = cfg_grant_fields, .nfields = 2, .max = CONFIG_MAX_GRANTS,
		.size = sizeof(struct config_grant),
		.key_off = offsetof(struct config_grant, identity), .key_name = "identity",
		.what = "grant for", .done = cfg_grant_done,
	};
	struct config_authority *a = obj;

	return cfg_groups(c, s, path, &g, a->grants, &a->n_grants, a);
}

static int cfg_auth_domain(struct cfg_ctx *c, const config_setting_t *s,
			   const char *path, void *obj)
{
	return cfg_domain(c, s, path, ((struct config_authority *)obj)->domain);
}

/* Parsed before the rest of the group (grants depend on it); skipped here. */
static int cfg_auth_domain_done(struct cfg_ctx *c, const config_setting_t *s,
				const char *path, void *obj)
{
	(void)c, (void)s, (void)path, (void)obj;
	return 0;
}

static int cfg_auth_listen(struct cfg_ctx *c, const config_setting_t *s,
			   const char *path, void *obj)
{
	struct config_authority *a = obj;
	char q[CFG_QUOTE_MAX];
	const char *why;
	int port = 0, r;

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		/* a bare port listens on every address, IPv4 and IPv6 */
		if ((r = cfg_int(c, s, path, 1, 65535, &port)) < 0)
			return r;
		memset(&a->listen, 0, sizeof(a->listen));
		a->listen.sin6_family = AF_INET6;
		a->listen.sin6_addr = in6addr_any;
		a->listen.sin6_port = htons((uint16_t)port);
		return 0;
	case CONFIG_TYPE_STRING:
		if (cfg_endpoint_parse(config_setting_get_string(s), 1, &a->listen, &why) < 0)
			return cfg_error(c, s, path, "%s: %s",
					 cfg_quote(config_setting_get_string(s), q, sizeof(q)),
					 why);
		return 0;
	}
	return cfg_wrong_type(c, s, path, "\"ip:port\", \"[ipv6]:port\" or a port number");
}

/* An IPv4 prefix of length lo..hi (a pool of addresses to hand out). */
static int cfg_v4_pool(struct cfg_ctx *c, const config_setting_t *s, const char *path, int lo,
		       int hi, struct addr_prefix *out)
{
	struct addr_prefix p;
	char q[CFG_QUOTE_MAX], why[128];
	const char *v = "";
	int r;

	if ((r = cfg_string(c, s, path, &v)) < 0)
		return r;
	if (addr_prefix_parse(v, &p) < 0) {
		cfg_prefix_why(v, why, sizeof(why));
		return cfg_error(c, s, path, "%s %s", cfg_quote(v, q, sizeof(q)), why);
	}
	if (p.family != AF_INET)
		return cfg_error(c, s, path, "%s is not IPv4 (IPv6 overlay addresses are "
				 "derived from identities, only IPv4 is pooled)",
				 cfg_quote(v, q, sizeof(q)));
	if (p.plen < lo || p.plen > hi)
		return cfg_error(c, s, path, "%s: prefix length must be %d..%d",
				 cfg_quote(v, q, sizeof(q)), lo, hi);
	/* Nodes route the pool on q2q0; their privileged part takes only
	 * space that is never routed on the internet. */
	if (!clash_pool_space(p.addr, p.plen))
		return cfg_error(c, s, path, "%s is not inside private-use space (%s)",
				 cfg_quote(v, q, sizeof(q)), CLASH_POOL_SPACE_TEXT);
	*out = p;
	return 0;
}

static int cfg_auth_pool(struct cfg_ctx *c, const config_setting_t *s,
			 const char *path, void *obj)
{
	return cfg_v4_pool(c, s, path, 8, 30, &((struct config_authority *)obj)->pool);
}

static int cfg_auth_cert_days(struct cfg_ctx *c, const config_setting_t *s,
			      const char *path, void *obj)
{
	return cfg_int(c, s, path, 1, 3650, &((struct config_authority *)obj)->cert_days);
}

static int cfg_auth_token_ttl(struct cfg_ctx *c, const config_setting_t *s,
			      const char *path, void *obj)
{
	return cfg_int(c, s, path, 60, 2592000, &((struct config_authority *)obj)->token_ttl);
}

/* Each slot is a descriptor and ~40 KB once a node is online; below 64 a
 * flood's strangers would hold half of them. */
static int cfg_auth_max_clients(struct cfg_ctx *c, const config_setting_t *s,
				const char *path, void *obj)
{
	return cfg_int(c, s, path, CONFIG_MAX_CLIENTS_MIN, CONFIG_MAX_CLIENTS_MAX,
		       &((struct config_authority *)obj)->max_clients);
}

/* 1 if the absolute path has an empty, "." or ".." component: such a path
 * could name state_dir without looking like it, so cfg_ca_dir_check could
 * not tell. */
static int cfg_path_unclean(const char *p)
{
	const char *c = p;

	while (*c == '/') {
		const char *e = strchr(c + 1, '/');
		size_t n = e ? (size_t)(e - c - 1) : strlen(c + 1);

		if ((n == 0 && e) || (n == 1 && c[1] == '.') ||
		    (n == 2 && c[1] == '.' && c[2] == '.'))
			return 1;
		if (!e)
			break;
		c = e;
	}
	return 0;
}

static int cfg_auth_ca_dir(struct cfg_ctx *c, const config_setting_t *s,
			   const char *path, void *obj)
{
	struct config_authority *a = obj;
	char q[CFG_QUOTE_MAX];
	size_t n;
	int r;

	if ((r = cfg_abs_path(c, s, path, a->ca_dir, CONFIG_PATH_MAX - 1)) < 0)
		return r;
	/* "/var/lib/q2q-ca/" and "/var/lib/q2q-ca" are one directory */
	n = strlen(a->ca_dir);
	while (n > 1 && a->ca_dir[n - 1] == '/')
		a->ca_dir[--n] = '\0';
	if (n == 1 || cfg_path_unclean(a->ca_dir)) {
		r = cfg_error(c, s, path, "%s: expected a directory path without "
			      "'.', '..' or '//' (and not /)",
			      cfg_quote(config_setting_get_string(s), q, sizeof(q)));
		a->ca_dir[0] = '\0';
		return r;
	}
	return 0;
}

/* 1 if path is dir or lies below it (both absolute, compared as written). */
static int cfg_path_within(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (strncmp(path, dir, n) != 0)
		return 0;
	return path[n] == '\0' || path[n] == '/' || (n == 1 && dir[0] == '/');
}

/*
 * After the walk, when state_dir is known: the default CA directory, and
 * the rule that the CA directory and the engine's state directory do not
 * nest. The engine (user q2q) owns state_dir; a CA key inside it could be
 * renamed or replaced by the engine, and a state_dir inside the root-only
 * CA directory could not be entered by the engine at all.
 */
static int cfg_ca_dir_check(struct cfg_ctx *c, config_t *cf, struct config *cfg)
{
	struct config_authority *a = &cfg->authority;
	const config_setting_t *s;
	char q[CFG_QUOTE_MAX];

	if (!a->ca_dir[0]) {
		size_t n = strlen(cfg->state_dir);

		while (n > 1 && cfg->state_dir[n - 1] == '/')
			n--;
		snprintf(a->ca_dir, sizeof(a->ca_dir), "%.*s-ca", (int)n, cfg->state_dir);
		return 0;
	}
	if (!a->enabled)
		return 0;
	if (cfg_path_within(a->ca_dir, cfg->state_dir) ||
	    cfg_path_within(cfg->state_dir, a->ca_dir)) {
		s = config_lookup(cf, "authority.ca_dir");
		return cfg_error(c, s, "authority.ca_dir", "%s and state_dir '%s' nest; "
				 "the CA directory must lie outside the engine's state "
				 "directory (default: state_dir with \"-ca\" appended)",
				 cfg_quote(a->ca_dir, q, sizeof(q)), cfg->state_dir);
	}
	return 0;
}

static const struct cfg_field cfg_auth_fields[] = {
	{ "domain", cfg_auth_domain_done },
	{ "listen", cfg_auth_listen },
	{ "pool", cfg_auth_pool },
	{ "cert_days", cfg_auth_cert_days },
	{ "token_ttl", cfg_auth_token_ttl },
	{ "max_clients", cfg_auth_max_clients },
	{ "ca_dir", cfg_auth_ca_dir },
	{ "grants", cfg_auth_grants },
};

static int cfg_authority(struct cfg_ctx *c, const config_setting_t *s, const char *path,
			 void *obj)
{
	struct config_authority *a = &((struct config *)obj)->authority;
	const config_setting_t *d;
	char child[CFG_PATHBUF];
	int r;

	if (config_setting_type(s) != CONFIG_TYPE_GROUP)
		return cfg_wrong_type(c, s, path, "a group { domain = ...; ... }");
	d = config_setting_get_member(s, "domain");
	if (!d)
		return cfg_missing(c, s, path, "domain", "the domain this authority serves");
	cfg_child(child, path, "domain");
	if ((r = cfg_auth_domain(c, d, child, a)) < 0)
		return r;
	if ((r = cfg_walk(c, s, path, cfg_auth_fields,
			  sizeof(cfg_auth_fields) / sizeof(cfg_auth_fields[0]), a)) < 0)
		return r;
	a->enabled = 1;
	return 0;
}

/* The node-local addresses of foreign identities: inside 100.64.0.0/10,
 * which q2q0 routes and the privileged part allows, and not all of it. */
static int cfg_foreign_pool(struct cfg_ctx *c, const config_setting_t *s, const char *path,
			    void *obj)
{
	static const struct addr_prefix cgnat = { .family = AF_INET, .addr = { 100, 64 }, .plen = 10 };
	struct config *cfg = obj;
	char q[CFG_QUOTE_MAX];
	int r = cfg_v4_pool(c, s, path, 12, 30, &cfg->foreign_pool);

	if (r == 0 && !addr_prefix_contains(&cgnat, AF_INET, cfg->foreign_pool.addr))
		return cfg_error(c, s, path, "%s is not inside 100.64.0.0/10 (the overlay's "
				 "IPv4 range, routed on the interface)",
				 cfg_quote(config_setting_get_string(s), q, sizeof(q)));
	return r;
}

static const struct cfg_field cfg_root_fields[] = {
	{ "state_dir", cfg_state_dir },
	{ "control_socket", cfg_control_socket },
	{ "control_group", cfg_control_group },
	{ "names_socket", cfg_names_socket },
	{ "interface", cfg_interface },
	{ "mtu", cfg_mtu },
	{ "route_table", cfg_route_table },
	{ "allow_exit_node", cfg_allow_exit_node },
	{ "port", cfg_port },
	{ "log_level", cfg_log_level },
	{ "renew_before", cfg_renew_before },
	{ "keepalive", cfg_keepalive },
	{ "rekey_after", cfg_rekey_after },
	{ "nat_birthday", cfg_nat_birthday },
	{ "offload", cfg_offload },
	{ "workers", cfg_workers },
	{ "portmap", cfg_portmap },
	{ "metrics_listen", cfg_metrics_listen },
	{ "refuse", cfg_refuse },
	{ "groups", cfg_pol_groups },
	{ "policy", cfg_policy },
	{ "policy_reject", cfg_policy_reject },
	{ "peers", cfg_peers },
	{ "trust", cfg_trust },
	{ "trust_policy", cfg_trust_policy },
	{ "dns_anchor", cfg_dns_anchor },
	{ "dns_resolver", cfg_dns_resolver },
	{ "foreign_pool", cfg_foreign_pool },
	{ "authority", cfg_authority },
};

/* ---- reading the file ---- */

/*
 * Scans the number starting at buf[i] the way libconfig's lexer splits it
 * (decimal or 0x hex, optional L suffix; a '.' or exponent makes it a float)
 * and returns the index after it. *wraps is set when libconfig would store
 * the integer wrapped: beyond 32 bits, or 64 bits with an L suffix.
 */
static size_t cfg_scan_number(const char *buf, size_t len, size_t i, int *wraps)
{
	uint64_t v = 0, limit = INT32_MAX;
	unsigned base = 10, d;
	int big = 0;

	if (buf[i] == '0' && i + 1 < len && (buf[i + 1] == 'x' || buf[i + 1] == 'X')) {
		base = 16;
		i += 2;
	}
	for (; i < len && (base == 16 ? isxdigit((unsigned char)buf[i])
			   : isdigit((unsigned char)buf[i])); i++) {
		if (isdigit((unsigned char)buf[i]))
			d = (unsigned)(buf[i] - '0');
		else
			d = (unsigned)(tolower((unsigned char)buf[i]) - 'a' + 10);
		if (v > (UINT64_MAX - d) / base)
			big = 1;
		else
			v = v * base + d;
	}
	if (base == 10 && i < len && (buf[i] == '.' || buf[i] == 'e' || buf[i] == 'E')) {
		/* a float: libconfig reads it as such, and no setting takes one */
		for (; i < len; i++) {
			int sign = (buf[i] == '-' || buf[i] == '+') &&
				   (buf[i - 1] == 'e' || buf[i - 1] == 'E');

			if (!isdigit((unsigned char)buf[i]) && buf[i] != '.' &&
			    buf[i] != 'e' && buf[i] != 'E' && !sign)
				break;
		}
		*wraps = 0;
		return i;
	}
	if (i < len && buf[i] == 'L') {
		limit = INT64_MAX;
		while (i < len && buf[i] == 'L')
			i++;
	}
	*wraps = big || v > limit;
	return i;
}

/*
 * libconfig 1.5 stores an integer literal that does not fit in 32 bits
 * (64 with an L suffix) wrapped, so "mtu = 4294968576;" would read as 1280.
 * No setting takes values that large, so any such literal is refused here,
 * by line. The scan skips strings and comments the way libconfig's lexer
 * does. @include is refused too: it would pull in a file this scan never saw.
 */
static int cfg_prescan(struct cfg_ctx *c, const char *buf, size_t len)
{
	unsigned line = 1;
	size_t i = 0, start;
	int wraps;

	while (i < len) {
		char ch = buf[i];
		int next = i + 1 < len ? buf[i + 1] : 0;

		if (ch == '\n') {
			line++;
			i++;
		} else if (ch == '#' || (ch == '/' && next == '/')) {
			while (i < len && buf[i] != '\n')
				i++;
		} else if (ch == '/' && next == '*') {
			for (i += 2; i < len; i++) {
				if (buf[i] == '*' && i + 1 < len && buf[i + 1] == '/')
					break;
				if (buf[i] == '\n')
					line++;
			}
			i += 2;
		} else if (ch == '"') {
			for (i++; i < len && buf[i] != '"'; i++) {
				if (buf[i] == '\\' && i + 1 < len)
					i++;
				if (buf[i] == '\n')
					line++;
			}
			i++;
		} else if (ch == '@') {
			snprintf(c->err, c->errlen, "%s:%u: @include and other directives are "
				 "not supported (keep the configuration in one file)",
				 c->file, line);
			return -EINVAL;
		} else if (isalpha((unsigned char)ch) || ch == '*' || ch == '_') {
			/* a setting name (or true/false) may contain digits */
			while (i < len && (isalnum((unsigned char)buf[i]) || buf[i] == '-' ||
					   buf[i] == '_' || buf[i] == '*'))
				i++;
		} else if (isdigit((unsigned char)ch)) {
			start = i;
			i = cfg_scan_number(buf, len, i, &wraps);
			if (wraps) {
				int n = i - start > 40 ? 40 : (int)(i - start);

				snprintf(c->err, c->errlen, "%s:%u: integer '%.*s' is too large "
					 "(no setting takes a value that big)", c->file, line,
					 n, buf + start);
				return -EINVAL;
			}
		} else {
			i++;
		}
	}
	return 0;
}

static int cfg_read(struct cfg_ctx *c, const char *path, char **out, size_t *outlen)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	ssize_t n;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		r = -errno;
		snprintf(c->err, c->errlen, "%s: %s", path, strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		snprintf(c->err, c->errlen, "%s: %s", path, strerror(-r));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		snprintf(c->err, c->errlen, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_size > CFG_FILE_MAX) {
		r = -EFBIG;
		snprintf(c->err, c->errlen, "%s: larger than %d bytes", path, CFG_FILE_MAX);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 2);
	if (!buf) {
		r = -ENOMEM;
		snprintf(c->err, c->errlen, "%s: out of memory", path);
		goto out;
	}
	/* read what fstat promised, no more: the file may grow under us */
	while (len < (size_t)st.st_size) {
		n = read(fd, buf + len, (size_t)st.st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			snprintf(c->err, c->errlen, "%s: %s", path, strerror(-r));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (memchr(buf, '\0', len)) {
		r = -EINVAL;
		snprintf(c->err, c->errlen, "%s: contains a NUL byte (not a text file)", path);
		goto out;
	}
	/* libconfig 1.5 calls a comment on a last line without '\n' a syntax error */
	if (len && buf[len - 1] != '\n')
		buf[len++] = '\n';
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	buf = NULL;
	r = 0;
out:
	free(buf);
	close(fd);
	return r;
}

void config_defaults(struct config *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->state_dir, sizeof(out->state_dir), "/var/lib/q2q");
	snprintf(out->control_socket, sizeof(out->control_socket), "/run/q2q/q2qd.sock");
	snprintf(out->names_socket, sizeof(out->names_socket), "/run/q2q/names.sock");
	snprintf(out->interface, sizeof(out->interface), "q2q0");
	out->mtu = 1440;
	out->port = 8789;
	out->log_level = CONFIG_LOG_INFO;
	out->renew_before = 0;
	out->keepalive = 20;
	out->rekey_after = 120;
	out->nat_birthday = 1;
	out->portmap = CONFIG_PORTMAP_ALL;
	out->offload = 1;
	out->workers = 0;
	out->route_table = 5288;	/* PRIV_ROUTE_TABLE */
	out->trust_policy = CONFIG_TRUST_DNSSEC;
	snprintf(out->dns_anchor, sizeof(out->dns_anchor), "/usr/share/dns/root.key");
	out->foreign_pool.family = AF_INET;
	out->foreign_pool.addr[0] = 100;
	out->foreign_pool.addr[1] = 127;
	out->foreign_pool.plen = 16;
	out->authority.listen.sin6_family = AF_INET6;
	out->authority.listen.sin6_addr = in6addr_any;
	out->authority.listen.sin6_port = htons(8788);
	out->authority.pool.family = AF_INET;
	out->authority.pool.addr[0] = 100;
	out->authority.pool.addr[1] = 64;
	out->authority.pool.plen = 10;
	out->authority.cert_days = 30;
	out->authority.token_ttl = 86400;
	snprintf(out->authority.ca_dir, sizeof(out->authority.ca_dir), "%s-ca", out->state_dir);
}

int config_load(const char *path, struct config *out, char *err, size_t errlen)
{
	char scratch[1];
	struct cfg_ctx c = { .file = path, .err = err, .errlen = errlen };
	config_t cf;
	char *buf = NULL;
	size_t len = 0;
	int r;

	/* messages are always formatted somewhere, so helpers need not check */
	if (!err || !errlen) {
		c.err = scratch;
		c.errlen = sizeof(scratch);
	}
	c.err[0] = '\0';
	config_defaults(out);
	if (strlen(path) >= sizeof(out->path)) {
		snprintf(c.err, c.errlen, "%s: path longer than %zu bytes", path,
			 sizeof(out->path) - 1);
		return -ENAMETOOLONG;
	}
	if ((r = cfg_read(&c, path, &buf, &len)) < 0)
		return r;
	if ((r = cfg_prescan(&c, buf, len)) < 0) {
		free(buf);
		config_defaults(out);
		return r;
	}
	config_init(&cf);
	if (config_read_string(&cf, buf) != CONFIG_TRUE) {
		snprintf(c.err, c.errlen, "%s:%d: %s", path, config_error_line(&cf),
			 config_error_text(&cf) ? config_error_text(&cf) : "parse error");
		r = -EINVAL;
		goto out;
	}
	/* Derived from state_dir after the walk unless the file sets it. */
	out->authority.ca_dir[0] = '\0';
	r = cfg_walk(&c, config_root_setting(&cf), "", cfg_root_fields,
		     sizeof(cfg_root_fields) / sizeof(cfg_root_fields[0]), out);
	if (r < 0)
		goto out;
	r = cfg_ca_dir_check(&c, &cf, out);
	if (r < 0)
		goto out;
	/* Unless set, the names socket lies beside the control socket
	 * (/run/q2q/names.sock by default), so daemons given their own
	 * control socket do not share one. */
	if (!config_lookup(&cf, "names_socket")) {
		const char *slash = strrchr(out->control_socket, '/');
		int dl = (int)(slash - out->control_socket);

		if ((size_t)dl + sizeof("/names.sock") > sizeof(((struct sockaddr_un *)0)->sun_path)) {
			r = cfg_error(&c, NULL, "names_socket", "names.sock beside control_socket "
				      "'%s' would be too long for a socket path; set names_socket",
				      out->control_socket);
			goto out;
		}
		snprintf(out->names_socket, sizeof(out->names_socket), "%.*s/names.sock", dl,
			 out->control_socket);
	}
	/* The names socket is open to every user; it must never be the
	 * group-restricted control socket. */
	if (strcmp(out->names_socket, out->control_socket) == 0) {
		r = cfg_error(&c, config_lookup(&cf, "names_socket"), "names_socket",
			      "'%s' is also the control socket (give each its own path)",
			      out->names_socket);
		goto out;
	}
	r = cfg_trust_policy_check(&c, out);
	if (r < 0)
		goto out;
	r = cfg_pol_check(&c, &cf, out);
	if (r < 0)
		goto out;
	memcpy(out->path, path, strlen(path) + 1);
out:
	config_destroy(&cf);
	free(buf);
	/* a half-filled struct must never be mistaken for a checked one */
	if (r < 0)
		config_defaults(out);
	return r;
}
