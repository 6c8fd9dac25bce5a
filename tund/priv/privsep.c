/*
 * Forking the engine off the privileged part (see privsep.h). The order
 * matters: the socketpair exists before the fork, each side closes the
 * other's end at once (so EOF means death), the engine sheds its
 * credentials before it touches anything, and the parent sheds all but
 * CAP_NET_ADMIN before it serves a single request.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tund/base/log.h"
#include "tund/conf/config.h"
#include "tund/priv/guard.h"
#include "tund/priv/priv.h"
#include "tund/priv/privdrop.h"
#include "tund/priv/privsep.h"
#include "tund/priv/sandbox.h"

int privsep_split(const struct config *cfg, uid_t uid, gid_t gid, pid_t ca_pid, int ca_engine_fd,
    int *priv_fd, char *err, size_t errlen)
{
	char why[256];
	pid_t parent = getpid(), pid;
	int sv[2], rc;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		rc = -errno;
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		return rc;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return rc;
	}
	if (pid == 0) {
		close(sv[0]);
		prctl(PR_SET_NAME, "q2qd-engine", 0, 0, 0);
		if (privdrop_all(uid, gid, why, sizeof(why)) < 0)
			fatalx("engine: %s", why);
		if (getppid() != parent)	/* the parent died before PDEATHSIG was set */
			_exit(1);
		*priv_fd = sv[1];
		return 0;
	}
	close(sv[1]);
	if (ca_engine_fd >= 0)
		close(ca_engine_fd);
	log_init("q2qd-priv", log_getlevel());
	/* Fail closed: a privileged part that cannot shed its privileges or
	 * fence its system calls stops the daemon. */
	if (guard_init() < 0)
		log_warnx("priv: no nftables context; up will fail");
	if (privdrop_keep_netadmin(why, sizeof(why)) < 0 || sandbox_priv(why, sizeof(why)) < 0) {
		log_warnx("priv: %s", why);
		kill(pid, SIGTERM);
		if (ca_pid > 0)
			kill(ca_pid, SIGTERM);
	}
	{
		/* A root engine cannot be told from root's other programs. */
		uid_t eu = uid != (uid_t)-1 ? uid : getuid();
		struct priv_setup ps = {
			.ifname = cfg->interface,
			.table = (uint32_t)cfg->route_table,
			.engine_uid = eu == 0 ? -1 : (long)eu,
			.auth_port = cfg->authority.enabled ? ntohs(cfg->authority.listen.sin6_port) : 0,
			.allow_default = cfg->allow_exit_node,
			.foreign_plen = (uint8_t)cfg->foreign_pool.plen,
		};

		memcpy(ps.foreign, cfg->foreign_pool.addr, 4);

		exit(priv_serve(sv[0], &ps, pid, ca_pid));
	}
}
