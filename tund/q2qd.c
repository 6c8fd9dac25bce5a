/*
 * q2qd: the q2q daemon. Parses the config, prepares its directories, and
 * splits into its parts (tund/priv/privsep.h): this process stays behind as
 * the privileged part, the engine goes on here. The engine starts the
 * authority service if configured, loads the node's identity, opens the
 * control socket, tells systemd it is ready, and runs the event loop until
 * SIGTERM/SIGINT (forwarded by the privileged part, or noticed as its
 * death). SIGHUP reloads the config.
 */
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "netstack/aead.h"
#include "netstack/cookie.h"
#include "tund/authority/authority.h"
#include "tund/authority/ca.h"
#include "tund/conf/config.h"
#include "tund/ctl/control.h"
#include "tund/ctl/metrics.h"
#include "tund/ctl/metrics_http.h"
#include "tund/ctl/names.h"
#include "tund/daemon.h"
#include "tund/base/log.h"
#include "tund/base/loop.h"
#include "tund/base/memtrim.h"
#include "tund/node/node.h"
#include "tund/overlay/overlay.h"
#include "tund/overlay/routes.h"
#include "tund/overlay/workers.h"
#include "tund/priv/privclient.h"
#include "tund/priv/privmsg.h"
#include "tund/priv/privdrop.h"
#include "tund/priv/privsep.h"
#include "tund/priv/sandbox.h"
#include "tund/portmap/upnp.h"
#include "identity/file.h"
#include "identity/trust.h"

#define DEFAULT_CONFIG "/etc/q2q/q2qd.conf"

/* The version comes from the VERSION file, through the Makefile. */
#ifndef Q2Q_VERSION
#define Q2Q_VERSION "unknown"
#endif

static const char usage[] =
"usage: q2qd [-n] [-d] [-c FILE] [-u USER]\n"
"       q2qd -h | -V\n"
"\n"
"The q2q overlay daemon. It keeps this machine's q2q identity (enrolled\n"
"with `q2qctl enroll`), carries the overlay interface, and, when its\n"
"configuration has an authority section, runs the domain's authority.\n"
"It stays in the foreground and logs to standard error.\n"
"\n"
"  -c, --config FILE  configuration file (default " DEFAULT_CONFIG ")\n"
"  -u, --user USER    run the network-facing engine as USER (the systemd\n"
"                     unit: q2q); started as root, q2qd keeps root with\n"
"                     CAP_NET_ADMIN only in a small privileged part that\n"
"                     opens and configures the interface, and on an\n"
"                     authority the CA key in a process of its own; the\n"
"                     state directory must belong to USER\n"
"  -n, --check        check the configuration, print \"configuration OK\"\n"
"                     or why not, and exit\n"
"  -d, --debug        log debug messages\n"
"  -h, --help         show this help and exit\n"
"  -V, --version      show the version and exit\n"
"\n"
"Signals: SIGTERM and SIGINT stop q2qd (removing the interface); SIGHUP\n"
"reloads the configuration.\n"
"Exit status: 0 success, 1 a bad configuration or a failure, 2 bad usage.\n"
"Control it with q2qctl(8). See q2qd(8) and q2qd.conf(5).\n";

struct sigio {
	struct loop_io io;
	struct daemon *d;
};

/* The privileged part's socket, watched between requests: it passes on
 * stop and reload signals, and EOF means the privileged part died, and the
 * engine must not run on without it. */
struct privwatch {
	struct loop_io io;
	struct daemon *d;
};

/* READY=1 waits for the authority link when the overlay comes up at start
 * (at most READY_WAIT_MS), so "started" means "reachable". */
#define READY_WAIT_MS 10000

struct ready {
	struct loop_timer t;
	struct daemon *d;
	uint64_t give_up;
};

static void ready_check(struct loop_timer *t)
{
	struct ready *r = (struct ready *)t;

	if (r->d->overlay && !overlay_registered(r->d->overlay) && loop_now_ms() < r->give_up) {
		loop_timer_arm(r->d->loop, &r->t, loop_now_ms() + 100);
		return;
	}
	privclient_notify(PRIV_NOTIFY_READY);
	log_info("ready");
}

struct watchdog {
	struct loop_timer t;
	struct loop *loop;
	uint64_t interval_ms;
};

static int metrics_body(void *arg, struct metrics_text *t)
{
	return metrics_collect(arg, t);
}

/* A changed metrics_listen: the new listener opens before the old one
 * closes, so that a failure leaves the old one serving, except on the
 * same port (the old one holds it), where the old closes first. */
static int daemon_reload_metrics(struct daemon *d, const struct config *fresh, char *err, size_t errlen)
{
	const struct sockaddr_in6 *a = &fresh->metrics_listen, *b = &d->cfg.metrics_listen;
	struct metrics_http *m = NULL;
	int rc = 0, closed = 0;

	if (fresh->has_metrics_listen == d->cfg.has_metrics_listen && (!fresh->has_metrics_listen ||
	    (a->sin6_port == b->sin6_port && IN6_ARE_ADDR_EQUAL(&a->sin6_addr, &b->sin6_addr))))
		return 0;
	if (d->metrics && fresh->has_metrics_listen && a->sin6_port == b->sin6_port) {
		metrics_http_close(d->metrics);
		d->metrics = NULL;
		d->cfg.has_metrics_listen = 0;
		closed = 1;
	}
	if (fresh->has_metrics_listen &&
	    (rc = metrics_http_open(d->loop, a, metrics_body, d, &m, err, errlen)) < 0) {
		size_t n = strlen(err);

		if (closed && n < errlen)
			snprintf(err + n, errlen - n, "; the old listener on that port is closed");
		return rc;
	}
	metrics_http_close(d->metrics);
	d->metrics = m;
	d->cfg.has_metrics_listen = fresh->has_metrics_listen;
	d->cfg.metrics_listen = fresh->metrics_listen;
	if (!m)
		log_info("metrics: no longer served over HTTP");
	return 0;
}

static const char *daemon_policy_name(int p)
{
	return p == CONFIG_TRUST_PINNED ? "pinned" : p == CONFIG_TRUST_FIRST_USE ? "first-use" : "dnssec";
}

/*
 * The resolver (tund/node/discover.c) was made before the sandbox, with
 * the anchor and the forwarder it read then: a libunbound context takes
 * neither once it has resolved, and a new one needs a new worker thread,
 * which the sandbox forbids. So a reload that changes dns_anchor or
 * dns_resolver is refused whole, naming the key, before anything is
 * applied: half a reload, with answers from the old resolver trusted as
 * if they came from the new one, would be worse than none.
 */
static int daemon_reload_dns_check(const struct daemon *d, const struct config *fresh, char *err,
    size_t errlen)
{
	const char *key = NULL, *was = NULL, *now = NULL;

	if (strcmp(fresh->dns_anchor, d->cfg.dns_anchor) != 0) {
		key = "dns_anchor";
		was = d->cfg.dns_anchor;
		now = fresh->dns_anchor;
	} else if (strcmp(fresh->dns_resolver, d->cfg.dns_resolver) != 0) {
		key = "dns_resolver";
		was = d->cfg.dns_resolver;
		now = fresh->dns_resolver;
	}
	if (!key)
		return 0;
	snprintf(err, errlen, "%s changed from \"%.120s\" to \"%.120s\": the resolver is made at "
	    "start (before the sandbox), so %s takes effect only when q2qd restarts", key, was, now, key);
	return -EBUSY;
}

/*
 * trust_policy changes at once between "dnssec" and "first-use", and to
 * "pinned" (DNS is then not asked any more). Leaving "pinned" (q2qd
 * started without a resolver) waits for the next start, and says so.
 */
static void daemon_reload_dns(struct daemon *d, const struct config *fresh)
{
	if (fresh->trust_policy == d->cfg.trust_policy)
		return;
	if (d->cfg.trust_policy == CONFIG_TRUST_PINNED) {
		log_warnx("reload: trust_policy \"%s\" takes effect at the next start of q2qd (it started "
		    "with \"pinned\", without a resolver)", daemon_policy_name(fresh->trust_policy));
		return;
	}
	log_info("reload: trust_policy is now \"%s\" (was \"%s\")", daemon_policy_name(fresh->trust_policy),
	    daemon_policy_name(d->cfg.trust_policy));
	d->cfg.trust_policy = fresh->trust_policy;
}

int daemon_reload(struct daemon *d, char *err, size_t errlen)
{
	struct config *fresh = malloc(sizeof(*fresh));
	int rc;

	if (!fresh)
		return -ENOMEM;
	rc = config_load(d->cfg.path, fresh, err, errlen);
	if (rc < 0)
		goto out;
	rc = daemon_reload_dns_check(d, fresh, err, errlen);
	if (rc < 0)
		goto out;
	rc = daemon_reload_metrics(d, fresh, err, errlen);
	if (rc < 0)
		goto out;
	/* Paths, the interface, ports, pinned peers and the authority section
	 * keep running as they are (q2qctl down/up or a restart applies
	 * them); these take effect at once. The overlay reads them live. */
	log_setlevel(fresh->log_level);
	d->cfg.log_level = fresh->log_level;
	d->cfg.renew_before = fresh->renew_before;
	d->cfg.keepalive = fresh->keepalive;
	d->cfg.rekey_after = fresh->rekey_after;
	d->cfg.nat_birthday = fresh->nat_birthday;
	memcpy(d->cfg.refuse, fresh->refuse, sizeof(d->cfg.refuse));
	d->cfg.n_refuse = fresh->n_refuse;
	/* The identity firewall: a file that failed to load never gets
	 * here, so a bad rule leaves the policy in force as it was. The
	 * overlay and the authority's links stay up; only rules change. */
	memcpy(&d->cfg.policy, &fresh->policy, sizeof(d->cfg.policy));
	d->cfg.policy_reject = fresh->policy_reject;
	if (d->overlay)
		overlay_policy_reload(d->overlay);
	if (d->authority)
		authority_policy_changed(d->authority);
	daemon_reload_dns(d, fresh);
	for (int i = 0; i < fresh->n_trust; i++) {
		if (fresh->trust[i].has_fingerprint && trust_pin(node_trust(d->node), fresh->trust[i].domain, fresh->trust[i].fingerprint) < 0)
			log_warnx("reload: the pin for %s conflicts with the CA already trusted for it; "
			    "keeping the old one", fresh->trust[i].domain);
	}
	log_info("reloaded %s", d->cfg.path);
out:
	free(fresh);
	return rc;
}

int daemon_up(struct daemon *d, const char *exit_node, char *err, size_t errlen)
{
	int rc;

	if (d->overlay)
		return 0;
	if ((rc = overlay_up(d->loop, &d->cfg, d->node, &d->overlay, err, errlen)) < 0)
		return rc;
	overlay_use_workers(d->overlay, d->workers);
	/* Before the loop runs again, so nothing is sent before the routes. */
	if (exit_node && (rc = routes_exit_set(d->overlay, exit_node, err, errlen)) < 0)
		daemon_down(d);
	return rc;
}

void daemon_down(struct daemon *d)
{
	if (!d->overlay)
		return;
	overlay_down(d->overlay);
	d->overlay = NULL;
	log_info("%s is down", d->cfg.interface);
}

static void sig_io(struct loop_io *io, uint32_t events)
{
	struct sigio *s = (struct sigio *)io;
	struct signalfd_siginfo si;
	char err[512];

	while (read(io->fd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGHUP:
			if (daemon_reload(s->d, err, sizeof(err)) < 0)
				log_warnx("reload: %s (keeping the running configuration)", err);
			break;
		default:
			log_info("signal %d: shutting down", (int)si.ssi_signo);
			privclient_notify(PRIV_NOTIFY_STOPPING);
			loop_stop(s->d->loop);
		}
	}
}

static void priv_io(struct loop_io *io, uint32_t events)
{
	struct privwatch *w = (struct privwatch *)io;

	/* A stop or reload comes as a message, raised to ourselves. */
	if (privclient_handle() == 0)
		return;
	log_warnx("the privileged part is gone; shutting down");
	loop_del(w->d->loop, io);
	loop_stop(w->d->loop);
}

static void watchdog_fire(struct loop_timer *t)
{
	struct watchdog *w = (struct watchdog *)t;

	/* Pinged from the loop itself: a wedged loop stops the pings. */
	privclient_notify(PRIV_NOTIFY_WATCHDOG);
	loop_timer_arm(w->loop, &w->t, loop_now_ms() + w->interval_ms);
}

/* A fresh install starts with nothing to do: say what comes next, so the
 * journal of a first `systemctl start q2qd` answers "now what?". */
static void log_next_step(struct daemon *d)
{
	struct node_status_info st;

	node_status_info(d->node, &st);
	if (!st.enrolled && !d->authority)
		log_info("not enrolled yet: on the domain's authority run `q2qctl invite USER@DOMAIN`, "
		    "then here `q2qctl enroll USER@DOMAIN --authority HOST --token-file FILE` "
		    "and `q2qctl up` (see q2qctl(8))");
	else if (!st.enrolled)
		log_info("authority for %s: `q2qctl invite USER@%s` makes a token for each node",
		    d->cfg.authority.domain, d->cfg.authority.domain);
	else if (!d->overlay)
		log_info("enrolled as %s; `q2qctl up` joins the overlay", st.ci.identity);
}

/* mkdir -p for the parents the daemon writes into; a directory it had to
 * create goes to the engine's user (systemd's StateDirectory= and
 * RuntimeDirectory= do the same before q2qd starts). */
static int make_dir(const char *path, mode_t mode, uid_t uid, gid_t gid)
{
	int rc = file_mkdirs(path, mode);

	if (rc == 1 && uid != (uid_t)-1 && chown(path, uid, gid) < 0)
		return -errno;
	return rc < 0 ? rc : 0;
}

int main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "user", required_argument, NULL, 'u' },
		{ "check", no_argument, NULL, 'n' },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static struct daemon d;
	static struct sigio sio;
	static struct watchdog wd;
	static struct memtrim trim;
	static struct ready rd;
	static struct privwatch pw;
	const char *path = DEFAULT_CONFIG, *user = NULL;
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	int priv_fd = -1;
	int check = 0, debug = 0, c, rc = 1;
	char err[512], sockdir[CONFIG_PATH_MAX];
	sigset_t mask;
	uint64_t wd_usec = 0;
	pid_t ca_pid = 0;
	struct names *names = NULL;
	int ca_fd = -1;

	opterr = 0;	/* our own messages name the bad option */
	while ((c = getopt_long(argc, argv, ":c:ndhu:V", long_opts, NULL)) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 'u': user = optarg; break;
		case 'n': check = 1; break;
		case 'd': debug = 1; break;
		case 'h': fputs(usage, stdout); return 0;
		case 'V': printf("q2qd %s\n", Q2Q_VERSION); return 0;
		case ':':
			fprintf(stderr, "q2qd: option '%s' needs an argument\n(see q2qd --help)\n",
			    argv[optind - 1]);
			return 2;
		default:
			/* optopt names a bad short option even inside "-nx" */
			if (optopt)
				fprintf(stderr, "q2qd: unknown option '-%c'\n(see q2qd --help)\n", optopt);
			else
				fprintf(stderr, "q2qd: unknown option '%s'\n(see q2qd --help)\n",
				    argv[optind - 1]);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "q2qd: unexpected argument '%s'\n(see q2qd --help)\n", argv[optind]);
		return 2;
	}
	if (config_load(path, &d.cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "q2qd: %s\n", err);
		return 1;
	}
	if (check) {
		printf("configuration OK\n");
		return 0;
	}
	log_init("q2qd", debug ? LOG_LVL_DEBUG : d.cfg.log_level);
	umask(077);
	signal(SIGPIPE, SIG_IGN);
	if (user && (rc = privdrop_lookup(user, &uid, &gid)) < 0) {
		fprintf(stderr, "q2qd: -u %s: %s\n", user,
		    rc == -ENOENT ? "no such user" : strerror(-rc));
		return 1;
	}
	rc = 1;
	if (!user && geteuid() == 0)
		log_warnx("running the engine as root (without capabilities); "
		    "-u USER keeps it from root's files");
	d.started = (int64_t)time(NULL);
	/* The CA key lives in a process of its own, forked before anything
	 * else is opened (tund/authority/ca.h). */
	if (d.cfg.authority.enabled && ca_spawn(&d.cfg, &ca_pid, &ca_fd, err, sizeof(err)) < 0) {
		fprintf(stderr, "q2qd: %s\n", err);
		return 1;
	}

	if ((c = make_dir(d.cfg.state_dir, 0700, uid, gid)) < 0) {
		log_warnx("cannot create state directory %s: %s", d.cfg.state_dir, strerror(-c));
		goto out;
	}
	snprintf(sockdir, sizeof(sockdir), "%s", d.cfg.control_socket);
	if ((c = make_dir(dirname(sockdir), 0755, uid, gid)) < 0) {
		log_warnx("cannot create the directory of %s: %s", d.cfg.control_socket, strerror(-c));
		goto out;
	}
	snprintf(sockdir, sizeof(sockdir), "%s", d.cfg.names_socket);
	if (d.cfg.names_socket[0] && (c = make_dir(dirname(sockdir), 0755, uid, gid)) < 0) {
		log_warnx("cannot create the directory of %s: %s", d.cfg.names_socket, strerror(-c));
		goto out;
	}
	/* Asked here: systemd names the main pid, which stays behind. */
	if (sd_watchdog_enabled(0, &wd_usec) <= 0)
		wd_usec = 0;
	if (privsep_split(&d.cfg, uid, gid, ca_pid, ca_fd, &priv_fd, err, sizeof(err)) < 0) {
		log_warnx("%s", err);
		goto out;
	}
	privclient_init(priv_fd);
	wolfSSL_Init();
	/* libcrypto's ciphers, fetched before the engine's sandbox closes. */
	if (aead_init() < 0)
		fatal("libcrypto has no ChaCha20-Poly1305 or AES-256-GCM");
	if (cookie_init() < 0)
		fatal("libcrypto has no HMAC-SHA256");
	if (loop_init(&d.loop) < 0)
		fatal("event loop");

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sio.io.fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	sio.io.fn = sig_io;
	sio.d = &d;
	if (sio.io.fd < 0 || loop_add(d.loop, &sio.io, EPOLLIN) < 0)
		fatal("signalfd");
	/* The data path's threads live as long as the engine: the sandbox
	 * forbids making threads, and `up` may come after it closes. */
	{
		int nw = workers_wanted(d.cfg.workers), wrc = workers_new(nw, &d.workers);

		if (wrc < 0) {
			log_warnx("cannot start %d data-path threads: %s; one thread", nw, strerror(-wrc));
			d.workers = NULL;
		} else if (nw > 1)
			log_info("data path: %d threads", nw);
	}
	pw.io.fd = priv_fd;
	pw.io.fn = priv_io;
	pw.d = &d;
	if (loop_add(d.loop, &pw.io, EPOLLIN | EPOLLRDHUP) < 0)
		fatal("privileged part socket");

	if (node_init(d.loop, &d.cfg, &d.node, err, sizeof(err)) < 0) {
		log_warnx("%s", err);
		goto out;
	}
	if (d.cfg.authority.enabled &&
	    authority_start(d.loop, &d.cfg, node_domtrust(d.node), ca_fd, &d.authority, err, sizeof(err)) < 0) {
		log_warnx("%s", err);
		goto out;
	}
	if (control_open(d.loop, d.cfg.control_socket, d.cfg.control_group,
	    commands_dispatch, &d, &d.control, err, sizeof(err)) < 0) {
		log_warnx("%s", err);
		goto out;
	}
	if (d.cfg.has_metrics_listen &&
	    metrics_http_open(d.loop, &d.cfg.metrics_listen, metrics_body, &d, &d.metrics, err, sizeof(err)) < 0) {
		log_warnx("%s", err);
		goto out;
	}
	if (d.cfg.names_socket[0] &&
	    names_open(d.loop, d.cfg.names_socket, &d, &names, err, sizeof(err)) < 0) {
		log_warnx("%s", err);
		goto out;
	}
	/* A node that was up before a restart comes back up, through the same
	 * exit node: never with its traffic on the LAN instead. */
	if (node_want_up(d.node)) {
		char exit_node[ID_NAME_MAX + 1];

		node_want_exit(d.node, exit_node, sizeof(exit_node));
		if (daemon_up(&d, exit_node[0] ? exit_node : NULL, err, sizeof(err)) < 0)
			log_warnx("cannot bring the overlay back up: %s", err);
	}
	log_next_step(&d);
	if (wd_usec) {
		wd.interval_ms = wd_usec / 2000;
		wd.t.fn = watchdog_fire;
		wd.loop = d.loop;
		loop_timer_arm(d.loop, &wd.t, loop_now_ms() + wd.interval_ms);
	}
	if (names)
		log_info("names socket %s (look-ups for every user)", d.cfg.names_socket);
	log_info("control socket %s%s%s", d.cfg.control_socket,
	    d.authority ? ", authority for " : "", d.authority ? d.cfg.authority.domain : "");
	rd.d = &d;
	rd.t.fn = ready_check;
	rd.give_up = loop_now_ms() + READY_WAIT_MS;
	/* From here on the engine reads the network: only the system calls of
	 * its allow-list remain (tund/priv/sandbox.h). */
	/* libminiupnpc's calls block: their thread must exist before the
	 * sandbox, which forbids making threads (tund/portmap/upnp.h). */
	if (d.cfg.portmap & CONFIG_PORTMAP_UPNP) {
		int urc = upnp_worker_start();

		if (urc < 0)
			log_warnx("portmap: cannot start the UPnP helper thread: %s; no UPnP", strerror(-urc));
	}
	if (sandbox_engine(err, sizeof(err)) < 0) {
		log_warnx("engine: %s", err);
		goto out;
	}
	ready_check(&rd.t);
	memtrim_start(d.loop, &trim);
	rc = loop_run(d.loop) < 0 ? 1 : 0;
out:
	/* The overlay and the node answer the requests they keep waiting
	 * (an enrollment, a ping) before control_close answers and frees the
	 * rest; the authority borrows the node's trust store, so it goes
	 * first. */
	daemon_down(&d);
	/* The UPnP delete daemon_down asked for, if any, before we go. */
	upnp_worker_drain(3000);
	names_close(names);
	workers_free(d.workers);
	authority_stop(d.authority);
	node_free(d.node);
	control_close(d.control);
	metrics_http_close(d.metrics);
	memtrim_stop(&trim);
	loop_free(d.loop);
	wolfSSL_Cleanup();
	return rc;
}
