/*
 * The privileged part's loop (see priv.h). It is deliberately plain: one
 * poll over the engine's socket and a signalfd, one request at a time,
 * each decoded (privmsg.c), checked (privpol.c), carried out with the
 * same TUN and netlink code a one-process daemon would use, and answered.
 * It parses nothing else from anywhere. The TUN descriptor is handed over
 * and closed here at once: the engine then holds the only copy, so the
 * interface dies with the engine whatever happens to this process.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "routing/netlink.h"
#include "tund/base/log.h"
#include "tund/priv/exitnat.h"
#include "tund/priv/guard.h"
#include "tund/priv/priv.h"
#include "tund/priv/privmsg.h"
#include "tund/priv/privpol.h"
#include "tund/priv/tun.h"

#define STOP_GRACE_S 10		/* then SIGKILL */

struct priv {
	int sock, sigfd;
	pid_t engine, ca;
	int failed, engine_gone, ca_gone;
	int stopping;		/* a stop signal arrived (or a part died) */
	time_t kill_at;
	struct privpol pol;
	char actual[PRIVMSG_IFNAMSIZ];	/* the kernel's name for the device */
	struct priv_setup setup;
	int rules;			/* our policy rules and the guard are in place */
	int exit;			/* serving as an exit node (exitnat.h) */
	int n_throw;			/* throw routes added (they outlive q2q0) */
	struct privmsg throw[GUARD_EXEMPT_MAX];
	int have_pool;			/* the IPv4 route last added: the pool */
	uint8_t pool[4], pool_plen;
};

static const int rule_families[] = { AF_INET, AF_INET6 };

/* Removes q2q's policy rules: at the engine's request, at its death and
 * at exit. Also run before adding them, to clear what a killed privileged
 * part of an earlier run left. Returns the first error other than -ENOENT. */
static int rules_off(struct priv *p)
{
	char err[256];
	int rc = 0;

	for (size_t i = 0; i < sizeof(rule_families) / sizeof(rule_families[0]); i++) {
		int r;

		while ((r = nl_rule_del(rule_families[i], p->setup.table, PRIV_RULE_PREF)) == 0)
			;
		if (r != -ENOENT && rc == 0)
			rc = r;
	}
	if (rc < 0)
		log_warnx("priv: cannot remove the policy rules for table %u: %s", p->setup.table,
		    strerror(-rc));
	for (int i = 0; i < p->n_throw; i++)
		nl_route_throw_del(p->throw[i].family, p->throw[i].addr, p->throw[i].plen, p->setup.table);
	p->n_throw = 0;
	if (guard_run(guard_remove_script(), err, sizeof(err)) < 0) {
		log_warnx("priv: cannot remove the nftables guard: %s", err);
		rc = rc ? rc : -EIO;
	}
	p->rules = 0;
	return rc;
}

/* The guard for what this process itself added (guard.h). */
static int guard_on(struct priv *p, uint16_t data_port)
{
	struct guard_spec g = { .have_v4 = p->pol.have_v4, .have_v6 = p->pol.have_v6 };
	char script[2048], err[256];
	int rc;

	memcpy(g.ifname, p->actual, sizeof(g.ifname));
	for (int i = 0; i < p->n_throw; i++) {
		g.exempt[g.n_exempt].family = p->throw[i].family;
		memcpy(g.exempt[g.n_exempt].addr, p->throw[i].addr, 16);
		g.exempt[g.n_exempt++].plen = p->throw[i].plen;
	}
	memcpy(g.v4, p->pol.v4, 4);
	memcpy(g.v6, p->pol.v6, 16);
	if ((g.have_pool = p->have_pool)) {
		memcpy(g.pool, p->pool, 4);
		g.pool_plen = p->pool_plen;
	}
	g.udp[g.n_udp++] = data_port;
	if (p->setup.auth_port > 0) {
		g.udp[g.n_udp++] = (uint16_t)p->setup.auth_port;
		if (p->setup.auth_port + 2 <= 65535)
			g.udp[g.n_udp++] = (uint16_t)(p->setup.auth_port + 2);
		g.tcp[g.n_tcp++] = (uint16_t)p->setup.auth_port;
	}
	if ((rc = guard_script(&g, script, sizeof(script))) < 0)
		return rc;
	if ((rc = guard_run(script, err, sizeof(err))) < 0)
		log_warnx("priv: cannot install the nftables guard: %s", err);
	return rc;
}

static int exit_off(struct priv *p)
{
	char err[256] = "";
	int rc = exitnat_off(err, sizeof(err));

	if (rc < 0)
		log_warnx("priv: exit node: %s", err);
	p->exit = 0;
	return rc;
}

static int exit_on(struct priv *p)
{
	char err[256] = "";
	int rc = exitnat_on(p->actual, err, sizeof(err));

	if (rc < 0)
		log_warnx("priv: exit node: %s", err);
	else
		log_info("priv: serving as exit node: forwarding %s to the uplink, masqueraded", p->actual);
	p->exit = rc == 0;
	return rc;
}

/* Again while on (the pool changed): the rules stay, the guard is
 * replaced in one nftables batch, so there is no moment without either. */
static int rules_on(struct priv *p, uint16_t data_port)
{
	int rc = 0;

	if (!p->rules) {
		rules_off(p);
		for (size_t i = 0; i < sizeof(rule_families) / sizeof(rule_families[0]) && rc == 0; i++)
			rc = nl_rule_add(rule_families[i], p->setup.table, PRIV_RULE_PREF,
			    p->setup.engine_uid);
	}
	if (rc == 0)
		rc = guard_on(p, data_port);
	if (rc < 0)
		rules_off(p);
	else
		p->rules = 1;
	return rc;
}

static int send_msg(int sock, const struct privmsg *r, int fd)
{
	uint8_t buf[PRIVMSG_MAX];
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov;
	struct msghdr mh;
	int n = privmsg_encode(r, buf, sizeof(buf));

	if (n < 0)
		return n;
	iov.iov_base = buf;
	iov.iov_len = (size_t)n;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (fd >= 0) {
		struct cmsghdr *c;

		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	return sendmsg(sock, &mh, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

/* Carries out a checked request; the reply's rc is 0 or the kernel's -errno. */
static void execute(struct priv *p, const struct privmsg *m, struct privmsg *r, int *fd)
{
	int ifindex = 0;

	r->type = PRIV_REPLY;
	*fd = -1;
	if (m->type == PRIV_TUN_OPEN) {
		char actual[PRIVMSG_IFNAMSIZ] = "";

		p->have_pool = 0;

		r->rc = m->flag ? tun_open_offload(m->ifname, actual, fd, 1) : tun_open(m->ifname, actual, fd);
		if (r->rc == 0 && (r->rc = ifindex = nl_link_index(actual)) > 0) {
			r->rc = 0;
			r->ifindex = ifindex;
			r->flag = m->flag;
			memcpy(r->ifname, actual, sizeof(r->ifname));
			memcpy(p->actual, actual, sizeof(p->actual));
		} else if (*fd >= 0) {
			close(*fd);
			*fd = -1;
		}
		return;
	}
	if (m->type == PRIV_EXIT) {
		r->rc = m->flag ? exit_on(p) : exit_off(p);
		return;
	}
	if (m->type == PRIV_RULES) {
		r->rc = m->flag ? rules_on(p, m->port) : rules_off(p);
		r->flag = m->flag && r->rc == 0 && p->setup.engine_uid >= 0;
		return;
	}
	if (m->type == PRIV_NOTIFY) {
		static const char *const what[] = { "", "READY=1", "WATCHDOG=1", "STOPPING=1" };

		r->rc = sd_notify(0, what[m->flag]);
		r->rc = r->rc < 0 ? r->rc : 0;
		return;
	}
	/* The index is looked up here, never taken from the engine. */
	if ((ifindex = nl_link_index(p->actual)) < 0) {
		r->rc = ifindex;
		return;
	}
	switch (m->type) {
	case PRIV_LINK_SET:
		r->rc = nl_link_set(ifindex, m->flag, (int)m->mtu);
		break;
	case PRIV_ADDR_ADD:
		r->rc = nl_addr_add(ifindex, m->family, m->addr, m->plen);
		break;
	case PRIV_ADDR_DEL:
		r->rc = nl_addr_del(ifindex, m->family, m->addr, m->plen);
		break;
	case PRIV_ROUTE_ADD:
		r->rc = nl_route_add(ifindex, m->family, m->addr, m->plen, p->setup.table);
		if (r->rc == 0 && m->family == AF_INET) {
			p->have_pool = 1;
			memcpy(p->pool, m->addr, 4);
			p->pool_plen = m->plen;
		}
		break;
	case PRIV_ROUTE_DEL:
		r->rc = nl_route_del(ifindex, m->family, m->addr, m->plen, p->setup.table);
		break;
	case PRIV_ROUTE_THROW:
		if (p->n_throw >= GUARD_EXEMPT_MAX) {
			r->rc = -ENOSPC;
			break;
		}
		r->rc = nl_route_throw_add(m->family, m->addr, m->plen, p->setup.table);
		if (r->rc == 0)
			p->throw[p->n_throw++] = *m;
		break;
	default:
		r->rc = -EINVAL;
	}
}

static void handle_request(struct priv *p)
{
	uint8_t buf[PRIVMSG_MAX + 1];
	struct privmsg m, r;
	char why[160];
	ssize_t n;
	int fd = -1;

	n = recv(p->sock, buf, sizeof(buf), MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			p->sock = -1;
		return;
	}
	if (n == 0) {		/* the engine closed its end: it is exiting */
		p->sock = -1;
		return;
	}
	memset(&r, 0, sizeof(r));
	r.type = PRIV_REPLY;
	if (privmsg_decode(buf, (size_t)n, &m) < 0) {
		log_warnx("priv: refused a malformed message from the engine (%zd bytes, type %u)",
		    n, n >= 2 ? (unsigned)(buf[0] << 8 | buf[1]) : 0u);
		r.rc = -EBADMSG;
	} else if (privpol_check(&p->pol, &m, why, sizeof(why)) < 0) {
		log_warnx("priv: refused %s from the engine: %s", privmsg_name(m.type), why);
		r.rc = -EPERM;
	} else {
		execute(p, &m, &r, &fd);
		if (r.rc == 0)
			privpol_done(&p->pol, &m);
		else
			log_debug("priv: %s: %s", privmsg_name(m.type), strerror(-r.rc));
	}
	if (send_msg(p->sock, &r, fd) < 0)
		log_warn("priv: cannot answer the engine");
	if (fd >= 0)
		close(fd);
}

/* Passes a stop or reload on to the engine as a message: kill(2) would
 * need CAP_KILL, since the engine runs as another user. */
static void tell_engine(struct priv *p, int signo)
{
	struct privmsg m = { .type = PRIV_SIGNAL, .flag = (uint8_t)signo };

	if (!p->engine_gone && p->sock >= 0 && send_msg(p->sock, &m, -1) < 0)
		log_warn("priv: cannot pass signal %d on to the engine", signo);
}

static void reap(struct priv *p)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		const char *who = pid == p->engine ? "engine" : pid == p->ca ? "CA process" : NULL;

		if (!who)
			continue;
		if (WIFSIGNALED(status) || WEXITSTATUS(status) != 0 || !p->stopping)
			p->failed = 1;
		if (WIFSIGNALED(status))
			log_warnx("priv: the %s was killed by signal %d%s", who, WTERMSIG(status),
			    WTERMSIG(status) == SIGSYS ? " (a system call outside its seccomp allow-list)" : "");
		else if (WEXITSTATUS(status) != 0 || !p->stopping)
			log_warnx("priv: the %s exited with status %d", who, WEXITSTATUS(status));
		if (pid == p->engine) {
			p->engine_gone = 1;
			/* q2q0 and its routes died with the engine's descriptor;
			 * the rules are ours to take away, even after SIGKILL. */
			if (p->rules)
				rules_off(p);
			if (p->exit)
				exit_off(p);
		}
		else
			p->ca_gone = 1;
		if (!p->stopping) {
			/* One part died: the daemon as a whole stops. */
			p->stopping = 1;
			p->kill_at = time(NULL) + STOP_GRACE_S;
			tell_engine(p, SIGTERM);
			if (p->ca && !p->ca_gone)
				kill(p->ca, SIGTERM);
		}
	}
}

static void handle_signal(struct priv *p)
{
	struct signalfd_siginfo si;

	while (read(p->sigfd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			reap(p);
			break;
		case SIGHUP:
			tell_engine(p, SIGHUP);
			break;
		default:
			if (!p->stopping) {
				p->stopping = 1;
				p->kill_at = time(NULL) + STOP_GRACE_S;
			}
			tell_engine(p, (int)si.ssi_signo);
		}
	}
}

int priv_serve(int sock, const struct priv_setup *setup, pid_t engine, pid_t ca)
{
	struct priv p = { .sock = sock, .engine = engine, .ca = ca, .setup = *setup };
	sigset_t mask;

	privpol_init(&p.pol, setup->ifname);
	p.pol.allow_default = setup->allow_default;
	memcpy(p.pol.foreign, setup->foreign, 4);
	p.pol.foreign_plen = setup->foreign_plen;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	p.sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (p.sigfd < 0) {
		log_warn("priv: signalfd");
		return 1;	/* the engine follows by its parent-death signal */
	}
	reap(&p);	/* a child that died before the mask was set */
	while (!p.engine_gone || (p.ca && !p.ca_gone)) {
		struct pollfd pf[2] = { { .fd = p.sigfd, .events = POLLIN }, { .fd = p.sock, .events = POLLIN } };

		if (p.engine_gone && p.ca && !p.ca_gone && !p.stopping) {
			p.stopping = 1;
			p.kill_at = time(NULL) + STOP_GRACE_S;
		}
		if (p.engine_gone && p.ca && !p.ca_gone)
			kill(p.ca, SIGTERM);
		if (p.stopping && time(NULL) >= p.kill_at) {
			/* The engine cannot be killed from here (another uid); this
			 * process's exit sends it its parent-death signal, and
			 * systemd's stop ends whatever is left in the unit. */
			log_warnx("priv: a part did not stop within %d s; exiting without it", STOP_GRACE_S);
			if (p.ca && !p.ca_gone)
				kill(p.ca, SIGKILL);
			p.failed = 1;
			break;
		}
		if (poll(pf, p.sock >= 0 ? 2 : 1, 1000) < 0 && errno != EINTR)
			break;
		if (pf[0].revents)
			handle_signal(&p);
		if (p.sock >= 0 && pf[1].revents & POLLIN)
			handle_request(&p);
		else if (p.sock >= 0 && pf[1].revents & (POLLHUP | POLLERR))
			p.sock = -1;
	}
	if (p.rules)
		rules_off(&p);
	if (p.exit)
		exit_off(&p);
	if (sock >= 0)
		close(sock);
	close(p.sigfd);
	return p.failed;
}
