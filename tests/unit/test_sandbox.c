/*
 * The seccomp allow-lists (tund/priv/sandbox.c), each in a forked child
 * with no_new_privs (no root needed). A child that installs a list and then
 * does its part's real work must exit 0 with nothing on stderr: the engine
 * (SQLite registry, atomic file writes, UDP batches, getifaddrs, an NSS
 * lookup, sd_notify, signing), the CA (signing, its socketpair, its
 * ledger), the parent (netlink, if_nametoindex, SCM_RIGHTS, signalling and
 * reaping a child). A child that then makes a forbidden call must die by
 * SIGSYS, having written the one line naming the call.
 */
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>
#include <linux/netlink.h>

#include "identity/key.h"
#include "tund/authority/registry.h"
#include "tund/priv/sandbox.h"
#include "tests/unit/harness.h"

static char tmpdir[64];

struct outcome {
	int status;
	char err[2048];
};

/* Child side: a failed step says which and exits with a code the parent
 * reports. */
#define MUST(c) do { if (!(c)) { \
	fprintf(stderr, "child: %s failed (line %d): %s\n", #c, __LINE__, strerror(errno)); \
	exit(3); } } while (0)

static void install(int (*sb)(char *, size_t))
{
	char err[256];

	if (sb(err, sizeof(err)) < 0) {
		fprintf(stderr, "child: %s\n", err);
		exit(4);
	}
}

/* Runs fn in a child with no_new_privs and stderr on a pipe. */
static void run_child(void (*fn)(void), struct outcome *o)
{
	int p[2];
	size_t n = 0;
	ssize_t r;
	pid_t pid;

	memset(o, 0, sizeof(*o));
	if (pipe(p) < 0) {
		perror("pipe");
		exit(2);
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(2);
	}
	if (pid == 0) {
		close(p[0]);
		dup2(p[1], STDERR_FILENO);
		close(p[1]);
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			_exit(5);
		/* A child that hangs (LeakSanitizer's tracer killed by the
		 * filter leaves its process spinning) ends by SIGALRM, which
		 * needs no system call once armed. */
		alarm(20);
		fn();
		exit(0);
	}
	close(p[1]);
	while (n < sizeof(o->err) - 1 && (r = read(p[0], o->err + n, sizeof(o->err) - 1 - n)) > 0)
		n += (size_t)r;
	close(p[0]);
	waitpid(pid, &o->status, 0);
}

static void expect_clean_exit(void (*fn)(void))
{
	struct outcome o;

	run_child(fn, &o);
	CHECK(WIFEXITED(o.status));
	CHECK_INT(WIFEXITED(o.status) ? WEXITSTATUS(o.status) : -WTERMSIG(o.status), 0);
	CHECK_STR(o.err, "");
}

/* The child dies by SIGSYS and its stderr is exactly the line for tag and
 * the call nr (name, or NULL for "of another architecture"). */
static void expect_trap(void (*fn)(void), const char *tag, long nr, const char *name)
{
	struct outcome o;
	char want[160];

	run_child(fn, &o);
	if (name)
		snprintf(want, sizeof(want), "%s[%s]: seccomp: system call %ld (%s) is not allowed; exiting\n",
		    program_invocation_short_name, tag, nr, name);
	else
		snprintf(want, sizeof(want), "%s[%s]: seccomp: system call %ld of another architecture "
		    "is not allowed; exiting\n", program_invocation_short_name, tag, nr);
	CHECK(WIFSIGNALED(o.status));
	CHECK_INT(WIFSIGNALED(o.status) ? WTERMSIG(o.status) : -1, SIGSYS);
	CHECK_STR(o.err, want);
}

/* ---- the engine ---- */

static int notify_fd = -1;

static void engine_work(void)
{
	char path[160], tmp[160], token[REGISTRY_TOKEN_LEN + 1];
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	socklen_t alen = sizeof(a);
	struct mmsghdr mm[2];
	struct iovec iov[2];
	uint8_t buf[2][64], sig[KEY_SIG_MAX], rnd[16];
	struct registry *reg;
	struct id_key *k;
	struct ifaddrs *ifa;
	size_t sl;
	void *big;
	int fd, s, nl, ep;
	char err[256];

	/* The TLS key exists before the filter, as the node's does. */
	MUST(key_generate(&k) == 0);
	install(sandbox_engine);

	/* The authority's registry, created and written under the filter. */
	snprintf(path, sizeof(path), "%s/registry.db", tmpdir);
	MUST(registry_open(path, "100.64.0.0/10", &reg, err, sizeof(err)) == 0);
	MUST(registry_token_create(reg, "alice@example.com", 1000, 60, token) == 0);
	registry_close(reg);

	/* An atomic state-file write. */
	snprintf(tmp, sizeof(tmp), "%s/node.json.tmp", tmpdir);
	snprintf(path, sizeof(path), "%s/node.json", tmpdir);
	MUST((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) >= 0);
	MUST(write(fd, "{}\n", 3) == 3);
	MUST(fsync(fd) == 0);
	MUST(fchmod(fd, 0600) == 0);
	close(fd);
	MUST(rename(tmp, path) == 0);
	snprintf(tmp, sizeof(tmp), "%s/sub", tmpdir);
	MUST(mkdir(tmp, 0700) == 0);
	MUST(unlink(path) == 0);

	/* A UDP batch to itself, as the data path sends and receives. */
	MUST((s = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) >= 0);
	MUST(bind(s, (struct sockaddr *)&a, sizeof(a)) == 0);
	MUST(getsockname(s, (struct sockaddr *)&a, &alen) == 0);
	memset(mm, 0, sizeof(mm));
	for (int i = 0; i < 2; i++) {
		memset(buf[i], i, sizeof(buf[i]));
		iov[i].iov_base = buf[i];
		iov[i].iov_len = sizeof(buf[i]);
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
		mm[i].msg_hdr.msg_name = &a;
		mm[i].msg_hdr.msg_namelen = sizeof(a);
	}
	MUST(sendmmsg(s, mm, 2, 0) == 2);
	for (int i = 0; i < 2; i++)
		mm[i].msg_hdr.msg_name = NULL;
	MUST(recvmmsg(s, mm, 2, MSG_WAITFORONE, NULL) >= 1);
	close(s);
	MUST((s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0);
	close(s);
	MUST((ep = epoll_create1(EPOLL_CLOEXEC)) >= 0);
	close(ep);

	/* Endpoint discovery (netlink dump), a control client's NSS lookup,
	 * the route socket getifaddrs uses. */
	MUST(getifaddrs(&ifa) == 0);
	freeifaddrs(ifa);
	(void)getpwuid(4242);
	MUST((nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE)) >= 0);
	close(nl);

	/* sd_notify to the socket the test bound before forking. */
	MUST(sd_notify(0, "READY=1") > 0);

	/* A handshake's signature and randomness; malloc's large blocks. */
	MUST(key_sign(k, (const uint8_t *)"hello", 5, sig, &sl) == 0);
	MUST(getrandom(rnd, sizeof(rnd), 0) == (ssize_t)sizeof(rnd));
	key_free(k);
	MUST((big = malloc(4 << 20)) != NULL);
	memset(big, 1, 4 << 20);
	MUST((big = realloc(big, 8 << 20)) != NULL);
	free(big);
	MUST((big = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) != MAP_FAILED);
	MUST(mprotect(big, 4096, PROT_READ) == 0);
	munmap(big, 4096);
}

static void test_engine_allows_its_work(void)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	char got[64];
	ssize_t n;

	snprintf(un.sun_path, sizeof(un.sun_path), "%s/notify.sock", tmpdir);
	notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	CHECK(notify_fd >= 0);
	CHECK_INT(bind(notify_fd, (struct sockaddr *)&un, sizeof(un)), 0);
	setenv("NOTIFY_SOCKET", un.sun_path, 1);
	expect_clean_exit(engine_work);
	unsetenv("NOTIFY_SOCKET");
	n = recv(notify_fd, got, sizeof(got) - 1, 0);
	got[n > 0 ? n : 0] = 0;
	CHECK_STR(got, "READY=1");
	close(notify_fd);
	unlink(un.sun_path);
}

static void engine_packet_socket(void)
{
	install(sandbox_engine);
	(void)socket(AF_PACKET, SOCK_RAW, 0);
}

static void engine_exec_memory(void)
{
	install(sandbox_engine);
	(void)mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

static void engine_execve(void)
{
	char *argv[] = { "/bin/true", NULL };

	install(sandbox_engine);
	(void)execve("/bin/true", argv, environ);
}

static void engine_fork(void)
{
	install(sandbox_engine);
	(void)syscall(SYS_fork);
}

static void engine_audit_netlink(void)
{
	install(sandbox_engine);
	(void)socket(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT);
}

static void engine_setuid(void)
{
	install(sandbox_engine);
	(void)syscall(SYS_setuid, 0);
}

static void engine_x32(void)
{
	install(sandbox_engine);
	(void)syscall(__X32_SYSCALL_BIT | SYS_getpid);
}

#if !defined(__SANITIZE_ADDRESS__)
/* Sanitizer builds allow ptrace (LeakSanitizer's StopTheWorld). */
static void engine_ptrace(void)
{
	install(sandbox_engine);
	(void)syscall(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0);
}
#endif

static void test_engine_refuses(void)
{
	expect_trap(engine_packet_socket, "engine", SYS_socket, "socket");
	expect_trap(engine_audit_netlink, "engine", SYS_socket, "socket");
	expect_trap(engine_exec_memory, "engine", SYS_mmap, "mmap");
	expect_trap(engine_execve, "engine", SYS_execve, "execve");
	expect_trap(engine_fork, "engine", SYS_fork, "fork");
	expect_trap(engine_setuid, "engine", SYS_setuid, "setuid");
	expect_trap(engine_x32, "engine", __X32_SYSCALL_BIT | SYS_getpid, NULL);
#if !defined(__SANITIZE_ADDRESS__)
	expect_trap(engine_ptrace, "engine", SYS_ptrace, "ptrace");
#endif
}

/* The valgrind switch: in a build that allows it, exactly "1" leaves a
 * part unfiltered and any other value is refused; in any other build
 * every value is refused. Neither installs a filter. */
static void test_off_switch(void)
{
	static const char *const vals[] = { "1", "yes", "0", "11" };

	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		pid_t pid;
		int status = 0, want = !SANDBOX_OFF_ALLOWED ? -EPERM :
			     strcmp(vals[i], "1") == 0 ? 0 : -EINVAL;

		fflush(stdout);
		fflush(stderr);
		pid = fork();
		if (pid == 0) {
			char err[256] = "";
			int rc;

			setenv(SANDBOX_OFF_ENV, vals[i], 1);
			prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
			rc = sandbox_engine(err, sizeof(err));
			_exit(rc == want && prctl(PR_GET_SECCOMP, 0, 0, 0, 0) == 0 &&
			      (want == 0 || strstr(err, SANDBOX_OFF_ENV)) ? 0 : 1);
		}
		waitpid(pid, &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			H_FAIL("%s=%s: status %d", SANDBOX_OFF_ENV, vals[i], status);
	}
}

static void test_requires_no_new_privs(void)
{
	pid_t pid;
	int status = 0;

	/* run_child sets no_new_privs, so this child is forked by hand. */
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		char err[256];
		int rc = sandbox_engine(err, sizeof(err));

		/* Root with CAP_SYS_ADMIN could load without it; we refuse. */
		_exit(rc == -EPERM && strstr(err, "no_new_privs") ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status));
	CHECK_INT(WEXITSTATUS(status), 0);
}

/* ---- the CA process ---- */

static int ca_sock[2];
static struct id_key *ca_key;

static void ca_work(void)
{
	uint8_t req[64], sig[KEY_SIG_MAX];
	char path[160];
	size_t sl;
	ssize_t n;
	int ledger;

	/* The issued-address ledger is opened at start, before the filter. */
	snprintf(path, sizeof(path), "%s/issued", tmpdir);
	MUST((ledger = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600)) >= 0);
	install(sandbox_ca);
	/* One request, one signature back, as over the engine's socketpair;
	 * the ledger line is on disk before the certificate leaves. */
	MUST((n = recv(ca_sock[1], req, sizeof(req), MSG_TRUNC)) > 0);
	MUST(key_sign(ca_key, req, (size_t)n, sig, &sl) == 0);
	MUST(write(ledger, "alice@example.com 100.64.0.2\n", 29) == 29);
	MUST(fsync(ledger) == 0);
	MUST(write(ca_sock[1], sig, sl) == (ssize_t)sl);
	MUST(send(ca_sock[1], "x", 1, MSG_NOSIGNAL) == 1);
	close(ledger);
}

static void test_ca_allows_signing(void)
{
	uint8_t sig[KEY_SIG_MAX];

	CHECK_INT(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ca_sock), 0);
	CHECK_INT(key_generate(&ca_key), 0);
	CHECK_INT(write(ca_sock[0], "tbs", 3), 3);
	expect_clean_exit(ca_work);
	CHECK(read(ca_sock[0], sig, sizeof(sig)) > 8);
	CHECK_INT(read(ca_sock[0], sig, sizeof(sig)), 1);
	key_free(ca_key);
	close(ca_sock[0]);
	close(ca_sock[1]);
}

static void ca_write_file(void)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/stolen", tmpdir);
	install(sandbox_ca);
	(void)open(path, O_WRONLY | O_CREAT, 0600);
}

static void ca_socket(void)
{
	install(sandbox_ca);
	(void)socket(AF_INET, SOCK_STREAM, 0);
}

static void ca_connect(void)
{
	install(sandbox_ca);
	(void)connect(0, NULL, 0);
}

static void test_ca_refuses(void)
{
	expect_trap(ca_write_file, "ca", SYS_openat, "openat");
	expect_trap(ca_socket, "ca", SYS_socket, "socket");
	expect_trap(ca_connect, "ca", SYS_connect, "connect");
}

/* ---- the privileged parent ---- */

static void priv_work(void)
{
	int sp[2], fd, nl, status;
	char cbuf[CMSG_SPACE(sizeof(int))], c = 'T';
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
	    .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	pid_t kid;

	MUST(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == 0);
	MUST((kid = fork()) >= 0);
	if (kid == 0) {
		pause();
		_exit(0);
	}
	install(sandbox_priv);

	/* The TUN open (whatever the kernel answers: only the call matters
	 * here) and its descriptor's hand-over. */
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0)
		close(fd);
	MUST((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0);
	memset(cbuf, 0, sizeof(cbuf));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	MUST(sendmsg(sp[0], &mh, 0) == 1);
	MUST(recvmsg(sp[1], &mh, 0) == 1);
	close(fd);

	/* if_nametoindex: an AF_UNIX socket and SIOCGIFINDEX. */
	MUST(if_nametoindex("lo") > 0);
	MUST((nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE)) >= 0);
	close(nl);

	/* Supervision: stop the child and reap it. */
	MUST(kill(kid, SIGTERM) == 0);
	MUST(waitpid(kid, &status, 0) == kid);
	MUST(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
}

static void test_priv_allows_its_work(void)
{
	expect_clean_exit(priv_work);
}

static void priv_create_file(void)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/new", tmpdir);
	install(sandbox_priv);
	(void)open(path, O_RDWR | O_CREAT, 0600);
}

static void priv_read_file(void)
{
	install(sandbox_priv);
	(void)open("/etc/passwd", O_RDONLY);
}

/* Signal 0: harmless even if the filter let it through. */
static void priv_kill_everyone(void)
{
	install(sandbox_priv);
	(void)kill(-1, 0);
}

static void priv_inet_socket(void)
{
	install(sandbox_priv);
	(void)socket(AF_INET6, SOCK_DGRAM, 0);
}

static void priv_mount(void)
{
	install(sandbox_priv);
	(void)mount("none", "/nonexistent", "tmpfs", 0, NULL);
}

static void test_priv_refuses(void)
{
	expect_trap(priv_create_file, "priv", SYS_openat, "openat");
	expect_trap(priv_read_file, "priv", SYS_openat, "openat");
	expect_trap(priv_kill_everyone, "priv", SYS_kill, "kill");
	expect_trap(priv_inet_socket, "priv", SYS_socket, "socket");
	expect_trap(priv_mount, "priv", SYS_mount, "mount");
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/q2q-sandbox-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 2;
	}
	RUN(test_requires_no_new_privs);
	RUN(test_engine_allows_its_work);
	RUN(test_engine_refuses);
	RUN(test_off_switch);
	RUN(test_ca_allows_signing);
	RUN(test_ca_refuses);
	RUN(test_priv_allows_its_work);
	RUN(test_priv_refuses);
	{
		char cmd[96];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", tmpdir);
	}
	return HARNESS_END();
}
