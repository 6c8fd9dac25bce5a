/*
 * The CA process (see ca.h): forked from q2qd's main before anything faces
 * the network, it keeps the domain's CA key in memory and nowhere else, and
 * answers the engine's requests one at a time on a SOCK_SEQPACKET socket.
 * Before serving it sheds what it does not need: every other descriptor,
 * every capability (it stays uid 0 only so that it can read its root-owned
 * 0700 directory, which the engine, user q2q, cannot), and the right to be
 * ptraced or dumped; it dies with its parent.
 *
 * It trusts nothing the engine says. A signing request must name an
 * identity of this domain whose CSR is self-signed by the key to be
 * certified, an address in the pool, a lifetime within cert_days, and only
 * subnets the configuration grants to that identity. The ledger
 * (ca_dir/issued, append-only, one "identity address" line per pair,
 * fsync'd before the certificate leaves) makes sure an address once
 * certified for one identity is never certified for another, whatever the
 * engine's registry says.
 */
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/wc_port.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "identity/addr.h"
#include "identity/cert.h"
#include "identity/file.h"
#include "identity/key.h"
#include "identity/name.h"
#include "tund/authority/ca.h"
#include "tund/authority/camsg.h"
#include "tund/base/log.h"
#include "tund/conf/config.h"
#include "tund/priv/privdrop.h"
#include "tund/priv/sandbox.h"

#define CA_START_MS 20000	/* a first start generates a key and fsyncs */
#define CA_SERVING_DAYS 7	/* the engine fetches a fresh one every day */
#define CA_LEDGER_MAX (64u << 20)
#define CA_FD 3			/* the socket's descriptor in the child */

struct ca_entry {
	char *identity;
	uint8_t v4[4];
};

struct ca {
	struct config_authority cfg;
	char dir[CONFIG_PATH_MAX + 8];
	struct id_key *ca_key;
	uint8_t *ca_der;
	size_t ca_len;
	/* The serving key made at start, handed out by the first GET_SERVING;
	 * later ones get a fresh key each. */
	struct id_key *serving_key;
	uint8_t *serving_der;
	size_t serving_len;
	int ledger_fd;
	struct ca_entry *ledger;
	size_t n_ledger, cap_ledger;
};

/* ---- start: isolation ---- */

/* Only the socket (as CA_FD) and stderr stay open; stdin and stdout point
 * at /dev/null so that no later open() can land on 0 or 1 and receive
 * stray output. */
static int ca_close_fds(int sock)
{
	int null;

	if (sock != CA_FD) {
		if (dup2(sock, CA_FD) < 0)
			return -errno;
		close(sock);
	}
	if (syscall(SYS_close_range, CA_FD + 1, ~0U, 0) < 0) {
		/* Kernels before 5.9: walk the descriptor table. */
		long max = sysconf(_SC_OPEN_MAX);

		for (long fd = CA_FD + 1; fd < (max > 0 ? max : 65536); fd++)
			close((int)fd);
	}
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0)
		return -errno;
	if (dup2(null, 0) < 0 || dup2(null, 1) < 0) {
		close(null);
		return -errno;
	}
	if (null > 2)
		close(null);
	return 0;
}

/* ---- start: the CA directory, the CA, the ledger ---- */

/* The directory holds the key: it must be ours and closed to everyone
 * else. An existing one that is not is refused rather than chmod'ed, so
 * that a mistyped ca_dir (say /etc) is never locked down. */
static int ca_check_dir(struct ca *ca, char *err, size_t errlen)
{
	struct stat st;
	int rc = file_mkdirs(ca->dir, 0700);

	if (rc < 0) {
		snprintf(err, errlen, "ca: cannot create %s: %s", ca->dir, strerror(-rc));
		return rc;
	}
	if (lstat(ca->dir, &st) < 0) {
		rc = -errno;
		snprintf(err, errlen, "ca: %s: %s", ca->dir, strerror(-rc));
		return rc;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "ca: %s is not a directory", ca->dir);
		return -ENOTDIR;
	}
	if (st.st_uid != geteuid()) {
		snprintf(err, errlen, "ca: %s belongs to uid %u, not to the CA process (uid %u)",
		    ca->dir, (unsigned)st.st_uid, (unsigned)geteuid());
		return -EPERM;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen, "ca: %s is mode %04o; it holds the CA key and must be 0700",
		    ca->dir, (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

/* Loads the CA, or makes one on first start. Key first, then cert: a crash
 * in between leaves a key without cert, which the next start replaces. */
static int ca_load(struct ca *ca, char *err, size_t errlen)
{
	char kpath[CONFIG_PATH_MAX + 32], cpath[CONFIG_PATH_MAX + 32], e[256];
	struct cert_info ci;
	int rc;

	snprintf(kpath, sizeof(kpath), "%s/ca.key", ca->dir);
	snprintf(cpath, sizeof(cpath), "%s/ca.der", ca->dir);
	if (access(cpath, F_OK) == 0) {
		rc = key_load(kpath, &ca->ca_key);
		if (rc < 0) {
			snprintf(err, errlen, "ca: cannot load CA key %s: %s", kpath, strerror(-rc));
			return rc;
		}
		rc = file_read_all(cpath, CERT_DER_MAX, &ca->ca_der, &ca->ca_len);
		if (rc < 0) {
			snprintf(err, errlen, "ca: cannot read CA certificate %s: %s", cpath, strerror(-rc));
			return rc;
		}
		rc = cert_parse(ca->ca_der, ca->ca_len, &ci, e, sizeof(e));
		if (rc < 0) {
			snprintf(err, errlen, "ca: %s: %.180s", cpath, e);
			return rc;
		}
		if (!ci.is_ca || strcmp(ci.identity, ca->cfg.domain) != 0) {
			snprintf(err, errlen, "ca: %s is the CA of '%.80s', but the config says domain '%.80s'",
			    cpath, ci.identity, ca->cfg.domain);
			return -EINVAL;
		}
		return 0;
	}
	rc = cert_ca_create(ca->cfg.domain, 3650, &ca->ca_key, &ca->ca_der, &ca->ca_len);
	if (rc < 0) {
		snprintf(err, errlen, "ca: cannot create a CA for %s: %s", ca->cfg.domain, strerror(-rc));
		return rc;
	}
	rc = key_save(ca->ca_key, kpath);
	if (rc == 0)
		rc = file_write_atomic(cpath, ca->ca_der, ca->ca_len, 0600);
	if (rc < 0) {
		snprintf(err, errlen, "ca: cannot write the CA to %s: %s", ca->dir, strerror(-rc));
		return rc;
	}
	log_info("ca: created the CA for %s in %s", ca->cfg.domain, ca->dir);
	return 0;
}

/*
 * An authority from before the CA process kept its CA in
 * state_dir/authority/. It is moved once, while the CA process may still
 * enter the engine's directory: upgrading keeps the domain's CA (every
 * node pins it) and leaves no copy of the key where the engine can read
 * it. The bytes are copied as they are, not parsed: the engine could have
 * written them, and they are parsed (by ca_load) only once the
 * capabilities are gone. Key first, then certificate, as ca_load writes.
 */
static int ca_migrate(struct ca *ca, const char *state_dir, char *err, size_t errlen)
{
	static const char *const names[] = { "ca.key", "ca.der" };
	char from[2][CONFIG_PATH_MAX + 32], to[CONFIG_PATH_MAX + 32];
	uint8_t *buf = NULL;
	size_t len = 0;
	struct stat st;
	int rc = 0;

	for (int i = 0; i < 2; i++)
		snprintf(from[i], sizeof(from[i]), "%s/authority/%s", state_dir, names[i]);
	snprintf(to, sizeof(to), "%s/ca.der", ca->dir);
	if (access(to, F_OK) == 0 || lstat(from[1], &st) < 0)
		return 0;
	for (int i = 0; i < 2 && rc == 0; i++) {
		snprintf(to, sizeof(to), "%s/%s", ca->dir, names[i]);
		if (lstat(from[i], &st) < 0 || !S_ISREG(st.st_mode))
			rc = -EINVAL;	/* a symlink is not followed as root */
		if (rc == 0)
			rc = file_read_all(from[i], 65536, &buf, &len);
		if (rc == 0)
			rc = file_write_atomic(to, buf, len, 0600);
		if (buf)
			explicit_bzero(buf, len);
		free(buf);
		buf = NULL;
	}
	if (rc < 0) {
		snprintf(err, errlen, "ca: cannot move the CA from %.200s/authority: %s", state_dir,
		    strerror(-rc));
		return rc;
	}
	if (unlink(from[0]) < 0 || unlink(from[1]) < 0)
		log_warn("ca: moved the CA to %s, but cannot remove the old copy in %s/authority",
		    ca->dir, state_dir);
	else
		log_info("ca: moved the CA from %s/authority to %s", state_dir, ca->dir);
	return 0;
}

static const struct ca_entry *ca_ledger_by_v4(const struct ca *ca, const uint8_t v4[4])
{
	for (size_t i = 0; i < ca->n_ledger; i++)
		if (memcmp(ca->ledger[i].v4, v4, 4) == 0)
			return &ca->ledger[i];
	return NULL;
}

static int ca_ledger_add(struct ca *ca, const char *identity, const uint8_t v4[4])
{
	struct ca_entry *e;

	if (ca->n_ledger == ca->cap_ledger) {
		size_t cap = ca->cap_ledger ? 2 * ca->cap_ledger : 64;

		e = realloc(ca->ledger, cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		ca->ledger = e;
		ca->cap_ledger = cap;
	}
	e = &ca->ledger[ca->n_ledger];
	e->identity = strdup(identity);
	if (!e->identity)
		return -ENOMEM;
	memcpy(e->v4, v4, 4);
	ca->n_ledger++;
	return 0;
}

/* One "identity a.b.c.d" line (without its newline). */
static int ca_ledger_line(struct ca *ca, char *line)
{
	char *sp = strchr(line, ' ');
	struct in_addr a;
	const struct ca_entry *e;

	if (!sp)
		return -EINVAL;
	*sp = '\0';
	if (id_parse_user(line, NULL, NULL, 0) < 0 || inet_pton(AF_INET, sp + 1, &a) != 1)
		return -EINVAL;
	e = ca_ledger_by_v4(ca, (const uint8_t *)&a);
	if (e)
		return strcmp(e->identity, line) == 0 ? 0 : -EEXIST;
	return ca_ledger_add(ca, line, (const uint8_t *)&a);
}

/*
 * Reads the ledger and opens it for appending. A last line without its
 * newline is a write cut short by a crash: that pair was never confirmed
 * (the certificate goes out only after the fsync), so it is cut off.
 * Anything else malformed stops the CA: the file is its memory.
 */
static int ca_ledger_open(struct ca *ca, char *err, size_t errlen)
{
	char path[CONFIG_PATH_MAX + 32];
	uint8_t *buf = NULL;
	size_t len = 0, start = 0, good = 0;
	int lineno = 0, rc;

	snprintf(path, sizeof(path), "%s/issued", ca->dir);
	ca->ledger_fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (ca->ledger_fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "ca: cannot open the ledger %s: %s", path, strerror(-rc));
		return rc;
	}
	rc = file_read_all(path, CA_LEDGER_MAX, &buf, &len);
	if (rc < 0) {
		snprintf(err, errlen, "ca: cannot read the ledger %s: %s", path, strerror(-rc));
		return rc;
	}
	for (size_t i = 0; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		lineno++;
		buf[i] = '\0';
		if (memchr(buf + start, '\0', i - start) ||
		    (rc = ca_ledger_line(ca, (char *)buf + start)) < 0) {
			snprintf(err, errlen, "ca: ledger %s line %d: %s", path, lineno,
			    rc == -EEXIST ? "address already recorded for another identity" :
			    rc == -ENOMEM ? "out of memory" : "expected \"user@domain a.b.c.d\"");
			rc = rc < 0 ? rc : -EINVAL;
			goto out;
		}
		start = good = i + 1;
	}
	rc = 0;
	if (good < len) {
		log_warnx("ca: ledger %s ends in a partial line (a crash while writing); cutting it off", path);
		if (ftruncate(ca->ledger_fd, (off_t)good) < 0 || fsync(ca->ledger_fd) < 0) {
			rc = -errno;
			snprintf(err, errlen, "ca: cannot repair the ledger %s: %s", path, strerror(-rc));
		}
	}
out:
	free(buf);
	return rc;
}

/* Appends and fsyncs one pair; only then may its certificate leave. */
static int ca_ledger_append(struct ca *ca, const char *identity, const uint8_t v4[4])
{
	char line[ID_NAME_MAX + INET_ADDRSTRLEN + 4], a[INET_ADDRSTRLEN];
	int n, rc;

	inet_ntop(AF_INET, v4, a, sizeof(a));
	n = snprintf(line, sizeof(line), "%s %s\n", identity, a);
	if (n < 0 || (size_t)n >= sizeof(line))
		return -EOVERFLOW;
	if (write(ca->ledger_fd, line, (size_t)n) != n || fsync(ca->ledger_fd) < 0)
		return errno ? -errno : -EIO;
	rc = ca_ledger_add(ca, identity, v4);
	return rc;
}

/* A fresh serving key and its certificate. */
static int ca_make_serving(struct ca *ca, char *err, size_t errlen)
{
	int rc;

	key_free(ca->serving_key);
	free(ca->serving_der);
	ca->serving_key = NULL;
	ca->serving_der = NULL;
	rc = key_generate(&ca->serving_key);
	if (rc < 0) {
		snprintf(err, errlen, "ca: cannot make a serving key: %s", strerror(-rc));
		return rc;
	}
	return cert_serving_issue(ca->ca_key, ca->ca_der, ca->ca_len, ca->serving_key, CA_SERVING_DAYS,
	    &ca->serving_der, &ca->serving_len, err, errlen);
}

/* ---- serving ---- */

static void ca_send(const struct camsg *m)
{
	static uint8_t out[CAMSG_MAX];
	int n = camsg_encode(m, out, sizeof(out));

	if (n < 0)
		log_warnx("ca: cannot encode a reply of type %d: %s", m->type, strerror(-n));
	else if (send(CA_FD, out, (size_t)n, MSG_NOSIGNAL) != n)
		log_warn("ca: cannot send a reply");
	/* SERVING carries the serving key: nothing of it stays behind. */
	explicit_bzero(out, sizeof(out));
}

static void ca_refuse(uint32_t id, const char *identity, const char *why)
{
	struct camsg r;

	memset(&r, 0, sizeof(r));
	r.type = CAMSG_ERROR;
	r.id = id;
	snprintf(r.text, sizeof(r.text), "%s", why);
	camsg_text_clean(r.text);
	log_warnx("ca: refused to sign %s: %s", identity, r.text);
	ca_send(&r);
}

static void ca_on_get_serving(struct ca *ca, const struct camsg *req)
{
	struct camsg r;
	uint8_t *kder = NULL;
	size_t klen = 0;
	char err[256];

	(void)req;
	if (!ca->serving_key && ca_make_serving(ca, err, sizeof(err)) < 0) {
		log_warnx("%s", err);
		return;		/* the engine times out and says so */
	}
	if (key_der(ca->serving_key, &kder, &klen) < 0) {
		log_warnx("ca: cannot encode the serving key");
		return;
	}
	memset(&r, 0, sizeof(r));
	r.type = CAMSG_SERVING;
	r.ca = ca->ca_der;
	r.ca_len = ca->ca_len;
	r.key = kder;
	r.key_len = klen;
	r.cert = ca->serving_der;
	r.cert_len = ca->serving_len;
	ca_send(&r);
	explicit_bzero(kder, klen);
	free(kder);
	/* Handed out: the next request gets a new one. */
	key_free(ca->serving_key);
	ca->serving_key = NULL;
	log_info("ca: handed out a serving certificate for %s, valid %d days", ca->cfg.domain,
	    CA_SERVING_DAYS);
}

/* 1 if p is exactly one of the subnets the config grants identity. */
static int ca_granted(const struct ca *ca, const char *identity, const struct addr_prefix *p)
{
	for (int i = 0; i < ca->cfg.n_grants; i++) {
		const struct config_grant *g = &ca->cfg.grants[i];

		if (strcmp(g->identity, identity) != 0)
			continue;
		for (int j = 0; j < g->n_subnets; j++)
			if (g->subnets[j].family == p->family && g->subnets[j].plen == p->plen &&
			    memcmp(g->subnets[j].addr, p->addr, sizeof(p->addr)) == 0)
				return 1;
	}
	return 0;
}

/* The pool minus its network and broadcast addresses (the registry never
 * hands those out). */
static int ca_in_pool(const struct ca *ca, const uint8_t v4[4])
{
	const struct addr_prefix *pool = &ca->cfg.pool;
	uint32_t a = (uint32_t)v4[0] << 24 | (uint32_t)v4[1] << 16 | (uint32_t)v4[2] << 8 | v4[3];
	uint32_t host = pool->plen >= 32 ? 0 : 0xffffffffu >> pool->plen;

	if (!addr_prefix_contains(pool, AF_INET, v4))
		return 0;
	return (a & host) != 0 && (a & host) != host;
}

/*
 * Every check the CA makes for itself, in the order a reader would ask.
 * On refusal why says what was wrong; nothing is recorded or signed.
 */
static int ca_check_sign(struct ca *ca, const struct camsg *q, char *why, size_t whylen)
{
	char csr_id[ID_NAME_MAX + 1], e[256], a[INET_ADDRSTRLEN];
	const struct ca_entry *owner;
	struct id_name name;

	if (id_parse_user(q->identity, &name, e, sizeof(e)) < 0) {
		snprintf(why, whylen, "%s", e);
		return -EINVAL;
	}
	if (strcmp(name.domain, ca->cfg.domain) != 0) {
		snprintf(why, whylen, "not an identity of %s", ca->cfg.domain);
		return -EPERM;
	}
	if (cert_csr_parse(q->csr, q->csr_len, csr_id, e, sizeof(e)) < 0) {
		snprintf(why, whylen, "bad CSR: %s", e);
		return -EINVAL;
	}
	if (strcmp(csr_id, q->identity) != 0) {
		snprintf(why, whylen, "the CSR is for '%s'", csr_id);
		return -EPERM;
	}
	inet_ntop(AF_INET, q->v4, a, sizeof(a));
	owner = ca_ledger_by_v4(ca, q->v4);
	if (owner && strcmp(owner->identity, q->identity) != 0) {
		snprintf(why, whylen, "%s was certified for %s", a, owner->identity);
		return -EPERM;
	}
	/* An address certified for this identity before stays its own even
	 * if the pool has since changed (the registry keeps it too). */
	if (!owner && !ca_in_pool(ca, q->v4)) {
		char pool[64];

		addr_prefix_format(&ca->cfg.pool, pool, sizeof(pool));
		snprintf(why, whylen, "%s is not a host address of the pool %s", a, pool);
		return -EPERM;
	}
	if (q->days < 1 || q->days > ca->cfg.cert_days) {
		snprintf(why, whylen, "%d days asked, at most %d allowed", q->days, ca->cfg.cert_days);
		return -EPERM;
	}
	for (int i = 0; i < q->n_subnets; i++) {
		char p[64];

		addr_prefix_format(&q->subnets[i], p, sizeof(p));
		if (!ca_granted(ca, q->identity, &q->subnets[i])) {
			snprintf(why, whylen, "subnet %s is not granted to it", p);
			return -EPERM;
		}
		for (int j = 0; j < i; j++) {
			if (memcmp(&q->subnets[j], &q->subnets[i], sizeof(q->subnets[i])) == 0) {
				snprintf(why, whylen, "subnet %s is asked for twice", p);
				return -EPERM;
			}
		}
	}
	return 0;
}

static void ca_on_sign(struct ca *ca, const struct camsg *q)
{
	struct cert_info bind;
	struct camsg r;
	uint8_t *der = NULL;
	size_t len = 0;
	char why[CAMSG_TEXT_MAX + 1], e[256], a[INET_ADDRSTRLEN];
	int64_t now = (int64_t)time(NULL);
	int rc;

	if (ca_check_sign(ca, q, why, sizeof(why)) < 0) {
		ca_refuse(q->id, q->identity, why);
		return;
	}
	if (!ca_ledger_by_v4(ca, q->v4)) {
		rc = ca_ledger_append(ca, q->identity, q->v4);
		if (rc < 0) {
			snprintf(why, sizeof(why), "cannot record the address in the ledger: %s", strerror(-rc));
			ca_refuse(q->id, q->identity, why);
			return;
		}
	}
	memset(&bind, 0, sizeof(bind));
	snprintf(bind.identity, sizeof(bind.identity), "%s", q->identity);
	memcpy(bind.v4, q->v4, 4);
	bind.has_v4 = 1;
	addr_overlay_v6(q->identity, bind.v6);
	bind.has_v6 = 1;
	memcpy(bind.routes, q->subnets, sizeof(q->subnets[0]) * (size_t)q->n_subnets);
	bind.n_routes = q->n_subnets;
	bind.not_before = now - 300;	/* tolerate small clock skew */
	bind.not_after = now + (int64_t)q->days * 86400;
	rc = cert_issue(ca->ca_key, ca->ca_der, ca->ca_len, q->csr, q->csr_len, &bind, &der, &len,
	    e, sizeof(e));
	if (rc < 0) {
		ca_refuse(q->id, q->identity, e);
		return;
	}
	memset(&r, 0, sizeof(r));
	r.type = CAMSG_CERT;
	r.id = q->id;
	r.cert = der;
	r.cert_len = len;
	ca_send(&r);
	inet_ntop(AF_INET, q->v4, a, sizeof(a));
	log_info("ca: signed %s (%s, %d subnets) for %d days", q->identity, a, q->n_subnets, q->days);
	free(der);
}

static const struct {
	int type;
	void (*fn)(struct ca *ca, const struct camsg *m);
} ca_handlers[] = {
	{ CAMSG_GET_SERVING, ca_on_get_serving },
	{ CAMSG_SIGN, ca_on_sign },
};

/* Until the engine closes its end (or the parent dies: SIGTERM). */
static void ca_serve(struct ca *ca)
{
	static uint8_t in[CAMSG_MAX + 1];
	static struct camsg m;

	for (;;) {
		ssize_t n = recv(CA_FD, in, sizeof(in), MSG_TRUNC);
		size_t i;

		if (n == 0)
			return;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_warn("ca: reading requests");
			return;
		}
		if ((size_t)n > CAMSG_MAX || camsg_decode(in, (size_t)n, &m) < 0) {
			log_warnx("ca: ignoring a malformed request of %zd bytes", n);
			continue;
		}
		for (i = 0; i < sizeof(ca_handlers) / sizeof(ca_handlers[0]); i++) {
			if (ca_handlers[i].type == m.type) {
				ca_handlers[i].fn(ca, &m);
				break;
			}
		}
		if (i == sizeof(ca_handlers) / sizeof(ca_handlers[0]))
			log_warnx("ca: ignoring a message of type %d, which is not a request", m.type);
	}
}

static void ca_free(struct ca *ca)
{
	key_free(ca->ca_key);
	key_free(ca->serving_key);
	free(ca->ca_der);
	free(ca->serving_der);
	for (size_t i = 0; i < ca->n_ledger; i++)
		free(ca->ledger[i].identity);
	free(ca->ledger);
	if (ca->ledger_fd >= 0)
		close(ca->ledger_fd);
}

static void ca_start_reply(int ok, char *err)
{
	struct camsg m;

	memset(&m, 0, sizeof(m));
	m.type = ok ? CAMSG_START_OK : CAMSG_START_FAIL;
	if (!ok) {
		snprintf(m.text, sizeof(m.text), "%s", err);
		camsg_text_clean(m.text);
	}
	ca_send(&m);
}

/* The child, from fork to exit. */
static void __attribute__((noreturn)) ca_main(const struct config *cfg, int sock, pid_t parent)
{
	static struct ca ca;
	char err[512] = "";
	sigset_t none;
	int rc;

	/* Die with the parent; if it is already gone, the SIGTERM never comes. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) < 0 || getppid() != parent)
		_exit(1);
	/* "q2qd-ca" in ps and pgrep, apart from the engine. */
	prctl(PR_SET_NAME, "q2qd-ca", 0, 0, 0);
	signal(SIGTERM, SIG_DFL);
	/* ^C and reloads are the parent's business; it closes the socket. */
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* The caller may fork us before it initialised wolfSSL (q2qd's main
	 * does so after its own split); the CA needs only wolfCrypt. */
	wolfCrypt_Init();
	ca.ledger_fd = -1;
	ca.cfg = cfg->authority;
	snprintf(ca.dir, sizeof(ca.dir), "%s", cfg->authority.ca_dir);

	rc = ca_close_fds(sock);
	if (rc < 0)
		_exit(1);	/* the parent sees the socket close */
	/* The directory, and an old CA to move in, while we may still enter
	 * the engine's state directory; then every capability goes, before
	 * any key or certificate is parsed. */
	rc = ca_check_dir(&ca, err, sizeof(err));
	if (rc == 0)
		rc = ca_migrate(&ca, cfg->state_dir, err, sizeof(err));
	if (rc == 0)
		rc = privdrop_all((uid_t)-1, (gid_t)-1, err, sizeof(err));	/* keeps root's uid */
	if (rc == 0)
		rc = ca_load(&ca, err, sizeof(err));
	if (rc == 0)
		rc = ca_ledger_open(&ca, err, sizeof(err));
	if (rc == 0)
		rc = ca_make_serving(&ca, err, sizeof(err));
	/* Its files are read and its ledger open: from here on only the
	 * system calls of the CA's allow-list remain (tund/priv/sandbox.h). */
	if (rc == 0)
		rc = sandbox_ca(err, sizeof(err));
	ca_start_reply(rc == 0, err);
	if (rc == 0) {
		log_info("ca: serving the CA of %s from %s (%zu addresses in the ledger)", ca.cfg.domain,
		    ca.dir, ca.n_ledger);
		ca_serve(&ca);
	}
	ca_free(&ca);
	_exit(rc == 0 ? 0 : 1);
}

/* The first message: START_OK, or START_FAIL with the CA's reason. */
static int ca_wait_start(int fd, pid_t pid, char *err, size_t errlen)
{
	static uint8_t in[CAMSG_MAX + 1];
	static struct camsg m;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;
	int rc, status;

	rc = poll(&p, 1, CA_START_MS);
	if (rc == 0) {
		snprintf(err, errlen, "ca: the CA process did not start within %d s", CA_START_MS / 1000);
		kill(pid, SIGKILL);
		rc = -ETIMEDOUT;
		goto fail;
	}
	n = rc < 0 ? -1 : recv(fd, in, sizeof(in), MSG_TRUNC | MSG_DONTWAIT);
	if (n <= 0 || (size_t)n > CAMSG_MAX || camsg_decode(in, (size_t)n, &m) < 0 ||
	    (m.type != CAMSG_START_OK && m.type != CAMSG_START_FAIL)) {
		snprintf(err, errlen, "ca: the CA process exited or failed before it started");
		kill(pid, SIGKILL);
		rc = -EIO;
		goto fail;
	}
	if (m.type == CAMSG_START_OK)
		return 0;
	snprintf(err, errlen, "%s", m.text);
	rc = -EIO;
fail:
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return rc;
}

int ca_spawn(const struct config *cfg, pid_t *pid, int *fd, char *err, size_t errlen)
{
	pid_t parent = getpid(), child;
	int sv[2], rc;

	if (!cfg->authority.enabled) {
		snprintf(err, errlen, "ca: no authority section in the configuration");
		return -EINVAL;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		rc = -errno;
		snprintf(err, errlen, "ca: socketpair: %s", strerror(-rc));
		return rc;
	}
	/* Buffered output would be written twice, by both processes. */
	fflush(NULL);
	child = fork();
	if (child < 0) {
		rc = -errno;
		snprintf(err, errlen, "ca: fork: %s", strerror(-rc));
		close(sv[0]);
		close(sv[1]);
		return rc;
	}
	if (child == 0) {
		close(sv[0]);
		ca_main(cfg, sv[1], parent);
	}
	close(sv[1]);
	rc = ca_wait_start(sv[0], child, err, errlen);
	if (rc < 0) {
		close(sv[0]);
		return rc;
	}
	*pid = child;
	*fd = sv[0];
	return 0;
}
