/*
 * The seccomp allow-lists of q2qd's three parts. A bug in the engine's
 * parsers of untrusted bytes should buy an attacker only what the engine
 * does anyway: no new processes, no ptrace, no mounts, no credential or
 * capability changes, no new executable memory, no socket families other
 * than the four the unit allows. The lists were collected from the daemon's
 * own system calls (strace -f over tests/e2e/overlay.sh, enroll.sh and
 * nat-paths.sh), then widened by what glibc, wolfSSL, SQLite, json-c and
 * libsystemd call on paths the tests do not reach (sleeps, remaps, fsync
 * variants). Anything else is a bug or an attack, so the default action
 * traps: a SIGSYS handler names the call on stderr and the process dies by
 * SIGSYS; systemd restarts the unit and the journal says why.
 *
 * Arguments are checked where the kernel lets a filter see them (numbers,
 * not pointers): socket families, ioctl requests, mmap/mprotect without
 * PROT_EXEC, open flags for the CA and the parent, tgkill only to this
 * process. Paths cannot be checked here; the unit's ProtectSystem=strict
 * and the state directory do that.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <seccomp.h>

#include "tund/priv/sandbox.h"

#ifndef __X32_SYSCALL_BIT
#define __X32_SYSCALL_BIT 0x40000000
#endif

/* Above the highest x86_64 system call number (about 460 in 2026). */
#define SB_NAMES 512

/* Read by the SIGSYS handler, so filled before the filter is loaded and
 * never changed after. The strings are libseccomp's and are never freed. */
static const char *sb_names[SB_NAMES];
static char sb_prefix[64];

/* ---- the SIGSYS handler: write(2) and raw system calls only ---- */

static size_t sb_cat(char *buf, size_t n, size_t cap, const char *s)
{
	while (*s && n < cap)
		buf[n++] = *s++;
	return n;
}

static size_t sb_num(char *buf, size_t n, size_t cap, long v)
{
	char digits[24];
	size_t k = 0;
	unsigned long u = v < 0 ? -(unsigned long)v : (unsigned long)v;

	do {
		digits[k++] = (char)('0' + u % 10);
		u /= 10;
	} while (u && k < sizeof(digits));
	if (v < 0 && n < cap)
		buf[n++] = '-';
	while (k && n < cap)
		buf[n++] = digits[--k];
	return n;
}

static void sb_sigsys(int sig, siginfo_t *si, void *uc)
{
	char buf[192];
	size_t n = 0;
	int nr = si->si_syscall;

	(void)uc;
	n = sb_cat(buf, n, sizeof(buf), sb_prefix);
	n = sb_cat(buf, n, sizeof(buf), "system call ");
	n = sb_num(buf, n, sizeof(buf), nr);
	if (si->si_arch != AUDIT_ARCH_X86_64 || (nr & __X32_SYSCALL_BIT))
		n = sb_cat(buf, n, sizeof(buf), " of another architecture");
	else if (nr >= 0 && nr < SB_NAMES && sb_names[nr]) {
		n = sb_cat(buf, n, sizeof(buf), " (");
		n = sb_cat(buf, n, sizeof(buf), sb_names[nr]);
		n = sb_cat(buf, n, sizeof(buf), ")");
	}
	n = sb_cat(buf, n, sizeof(buf), " is not allowed; exiting\n");
	if (write(STDERR_FILENO, buf, n) < 0) {
		/* nothing more to say */
	}
	/* SA_RESETHAND|SA_NODEFER: this SIGSYS is the default one and not
	 * blocked, so it ends the process here, and the exit status says
	 * SIGSYS. exit_group only if that somehow returned. */
	syscall(SYS_tgkill, syscall(SYS_getpid), syscall(SYS_gettid), sig);
	syscall(SYS_exit_group, 128 + sig);
}

/* ---- building a filter ---- */

static int allow_list(scmp_filter_ctx ctx, const int *nrs, size_t n)
{
	int rc;

	for (size_t i = 0; i < n; i++)
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nrs[i], 0)) < 0)
			return rc;
	return 0;
}

/* Every part: memory, time, signals' return path, plain I/O on descriptors
 * it already holds, waiting on them, and exiting. */
static const int sb_base[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(close), SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(statx),
	SCMP_SYS(lseek), SCMP_SYS(fcntl),
	/* malloc and realloc of large blocks; glibc trims with madvise */
	SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise),
	SCMP_SYS(futex),
	SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(getuid), SCMP_SYS(geteuid),
	SCMP_SYS(getgid), SCMP_SYS(getegid),
	/* the vDSO serves these unless the clock source cannot */
	SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres), SCMP_SYS(gettimeofday),
	SCMP_SYS(time), SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep),
	SCMP_SYS(sched_yield),
	/* wolfCrypt seeds from getrandom or /dev/urandom; glibc's malloc too */
	SCMP_SYS(getrandom),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask), SCMP_SYS(restart_syscall),
	SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait),
	SCMP_SYS(epoll_pwait2), SCMP_SYS(epoll_ctl),
	SCMP_SYS(exit), SCMP_SYS(exit_group),
};

/* The engine: files in its state directory (atomic rename, fsync), the
 * SQLite registry on an authority, sockets of the four families, the
 * control socket, sd_notify. */
static const int sb_engine[] = {
	SCMP_SYS(openat), SCMP_SYS(unlink), SCMP_SYS(unlinkat), SCMP_SYS(rename),
	SCMP_SYS(renameat), SCMP_SYS(renameat2), SCMP_SYS(mkdir), SCMP_SYS(mkdirat),
	SCMP_SYS(fchmod), SCMP_SYS(fsync), SCMP_SYS(fdatasync), SCMP_SYS(ftruncate),
	SCMP_SYS(fallocate), SCMP_SYS(pread64), SCMP_SYS(pwrite64),
	SCMP_SYS(getdents64), SCMP_SYS(access), SCMP_SYS(faccessat),
	SCMP_SYS(faccessat2), SCMP_SYS(umask), SCMP_SYS(statfs), SCMP_SYS(fstatfs),
	/* SQLite: fchown keeps a journal's owner when run as root; readlink
	 * resolves a database path; getcwd makes a relative one absolute */
	SCMP_SYS(fchown), SCMP_SYS(readlink), SCMP_SYS(readlinkat), SCMP_SYS(getcwd),
	SCMP_SYS(uname), SCMP_SYS(sysinfo),
	SCMP_SYS(epoll_create1), SCMP_SYS(eventfd2), SCMP_SYS(timerfd_create),
	SCMP_SYS(timerfd_settime), SCMP_SYS(timerfd_gettime),
	SCMP_SYS(pipe2), SCMP_SYS(dup), SCMP_SYS(dup3),
	SCMP_SYS(bind), SCMP_SYS(connect), SCMP_SYS(listen), SCMP_SYS(accept),
	SCMP_SYS(accept4), SCMP_SYS(setsockopt), SCMP_SYS(getsockopt),
	SCMP_SYS(getsockname), SCMP_SYS(getpeername), SCMP_SYS(shutdown),
	SCMP_SYS(sendto), SCMP_SYS(recvfrom), SCMP_SYS(sendmsg), SCMP_SYS(recvmsg),
	SCMP_SYS(sendmmsg), SCMP_SYS(recvmmsg),
};

/* The CA process: its socketpair (read/write or send/recv) and the
 * issued-address ledger it opened at start, appended and fsynced before
 * each certificate leaves. */
static const int sb_ca[] = {
	SCMP_SYS(sendto), SCMP_SYS(recvfrom), SCMP_SYS(sendmsg), SCMP_SYS(recvmsg),
	SCMP_SYS(fsync), SCMP_SYS(fdatasync),
};

/* The privileged parent: netlink requests (libmnl binds and reads its
 * port id back), if_nametoindex's ioctl socket, the engine's socketpair
 * (SCM_RIGHTS), its children. */
static const int sb_priv[] = {
	SCMP_SYS(bind), SCMP_SYS(connect), SCMP_SYS(getsockname),
	SCMP_SYS(setsockopt), SCMP_SYS(getsockopt),
	SCMP_SYS(sendto), SCMP_SYS(recvfrom), SCMP_SYS(sendmsg), SCMP_SYS(recvmsg),
	/* priv_serve makes its signalfd once it is running */
	SCMP_SYS(signalfd4), SCMP_SYS(wait4), SCMP_SYS(waitid),
	/* libnftables waits for the kernel's acks with select */
	SCMP_SYS(pselect6), SCMP_SYS(select),
};

#if defined(__SANITIZE_ADDRESS__)
/*
 * Sanitizer builds only (make asan; the tests run daemons built so).
 * ASan/UBSan write reports, read /proc/self/maps and the binary to
 * symbolize, and run deadly-signal handlers on an alternate stack;
 * LeakSanitizer at exit clones a tracer (CLONE_VM, not a thread) that
 * lists /proc/PID/task, ptrace-attaches to every thread, waits for them
 * and reads their registers (StopTheWorld). On x86_64 the runtime makes
 * the old calls (open, stat, getdents), not glibc's openat, so openat
 * stays as restricted as in a release build. The tracer blocks every
 * signal: a call missing here kills it without a message and the exiting
 * process spins waiting for it, so a hang at exit points at this list.
 */
static const int sb_asan[] = {
	SCMP_SYS(open), SCMP_SYS(stat), SCMP_SYS(lstat), SCMP_SYS(readlink),
	SCMP_SYS(readlinkat), SCMP_SYS(getdents), SCMP_SYS(getdents64),
	SCMP_SYS(sigaltstack), SCMP_SYS(rt_sigaction), SCMP_SYS(prctl),
	SCMP_SYS(clone), SCMP_SYS(ptrace), SCMP_SYS(wait4), SCMP_SYS(waitid),
	SCMP_SYS(getppid), SCMP_SYS(tgkill), SCMP_SYS(tkill),
	SCMP_SYS(sched_getaffinity), SCMP_SYS(prlimit64), SCMP_SYS(getrlimit),
	SCMP_SYS(pipe2), SCMP_SYS(dup2), SCMP_SYS(set_robust_list),
};
#endif

/* Memory may be mapped and re-protected, but never made executable: all
 * code is mapped at start (q2qd dlopens nothing after it, see
 * sb_nss_warm), so PROT_EXEC afterwards would be shellcode. */
static int allow_memory(scmp_filter_ctx ctx)
{
	int rc;

	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0))) < 0)
		return rc;
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
}

/* raise() and abort() signal this process (tgkill with its own tgid); any
 * other process or thread group is off limits. */
static int allow_self_signal(scmp_filter_ctx ctx)
{
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
	    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()));
}

static int allow_socket(scmp_filter_ctx ctx, int family)
{
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
	    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)family));
}

/* NETLINK_ROUTE only: the audit, xfrm and netfilter families stay shut. */
static int allow_netlink_route(scmp_filter_ctx ctx)
{
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2,
	    SCMP_A0(SCMP_CMP_EQ, AF_NETLINK), SCMP_A2(SCMP_CMP_EQ, NETLINK_ROUTE));
}

/* The privileged part's nftables guard (guard.c, libnftables). */
static int allow_netlink_netfilter(scmp_filter_ctx ctx)
{
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2,
	    SCMP_A0(SCMP_CMP_EQ, AF_NETLINK), SCMP_A2(SCMP_CMP_EQ, NETLINK_NETFILTER));
}

static int allow_ioctl(scmp_filter_ctx ctx, const unsigned long *reqs, size_t n)
{
	int rc;

	for (size_t i = 0; i < n; i++)
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
		    SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)reqs[i]))) < 0)
			return rc;
	return 0;
}

/* openat whose flags, in the bits that create, truncate or choose the
 * access mode, are exactly want. */
static int allow_open_mode(scmp_filter_ctx ctx, int want)
{
	const scmp_datum_t mask = O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND | O_TMPFILE;

	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, mask, (scmp_datum_t)want));
}

/* ---- the three parts ---- */

static int rules_engine(scmp_filter_ctx ctx)
{
	/* isatty (TCGETS) from stdio; FIONREAD is the one byte-count query
	 * libraries use on sockets. The TUN device arrives configured. */
	static const unsigned long ioctls[] = { TCGETS, FIONREAD };
	int rc;

	if ((rc = allow_list(ctx, sb_engine, sizeof(sb_engine) / sizeof(sb_engine[0]))) < 0 ||
	    (rc = allow_ioctl(ctx, ioctls, sizeof(ioctls) / sizeof(ioctls[0]))) < 0 ||
	    (rc = allow_socket(ctx, AF_UNIX)) < 0 ||
	    (rc = allow_socket(ctx, AF_INET)) < 0 ||
	    (rc = allow_socket(ctx, AF_INET6)) < 0 ||
	    /* getifaddrs (endpoints to advertise) dumps links and addresses
	     * over NETLINK_ROUTE; without CAP_NET_ADMIN it can change none */
	    (rc = allow_netlink_route(ctx)) < 0)
		return rc;
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socketpair), 1,
	    SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
}

static int rules_ca(scmp_filter_ctx ctx)
{
	int rc;

	if ((rc = allow_list(ctx, sb_ca, sizeof(sb_ca) / sizeof(sb_ca[0]))) < 0)
		return rc;
	/* wolfCrypt's RNG reads /dev/urandom on each initialisation. */
	return allow_open_mode(ctx, O_RDONLY);
}

static int rules_priv(scmp_filter_ctx ctx)
{
	static const unsigned long ioctls[] = {
		TUNSETIFF, TUNSETOFFLOAD, TUNGETIFF, SIOCGIFINDEX,
	};
	int rc;

	if ((rc = allow_list(ctx, sb_priv, sizeof(sb_priv) / sizeof(sb_priv[0]))) < 0 ||
	    (rc = allow_ioctl(ctx, ioctls, sizeof(ioctls) / sizeof(ioctls[0]))) < 0 ||
	    /* /dev/net/tun, O_RDWR; nothing is created or truncated. The
	     * parent is uid 0, owner of root's files even without
	     * capabilities: only ProtectSystem=strict keeps it from
	     * rewriting one in place. */
	    (rc = allow_open_mode(ctx, O_RDWR)) < 0 ||
	    (rc = allow_netlink_route(ctx)) < 0 ||
	    (rc = allow_netlink_netfilter(ctx)) < 0 ||
	    /* if_nametoindex's ioctl socket; sd_notify */
	    (rc = allow_socket(ctx, AF_UNIX)) < 0)
		return rc;
	/* Its children, by pid (0, its own group, too): never -1, which
	 * reaches every process uid 0 may signal, nor another group. A
	 * negative pid arrives sign-extended, so its high bits are set. */
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(kill), 1,
	    SCMP_A0(SCMP_CMP_MASKED_EQ, ~(scmp_datum_t)0x7fffffff, 0));
}

/* ---- installing ---- */

static void sb_names_fill(void)
{
	static int done;

	if (done)
		return;
	for (int i = 0; i < SB_NAMES; i++)
		sb_names[i] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, i);
	done = 1;
}

/*
 * A memory checker such as valgrind runs q2qd on a synthetic CPU: it maps
 * executable memory for translated code and makes system calls of its own
 * that no allow-list grants (valgrind 3.19 does not even implement
 * seccomp(2)), and the parts are forked, not executed, so valgrind runs
 * all three or none. tests/soak/soak.sh's valgrind mode sets this and so
 * runs q2qd without filters: for such test runs only. It is honoured only
 * when set to exactly "1", and each part says so on stderr; any other
 * value is refused, so a typo never starts a part half-guarded.
 * 1 = no filter, 0 = install it, -EINVAL.
 */
static int sb_off(const char *tag, char *err, size_t errlen)
{
	const char *v = getenv(SANDBOX_OFF_ENV);

	if (!v || !*v)
		return 0;
	if (!SANDBOX_OFF_ALLOWED) {
		snprintf(err, errlen, "seccomp (%s): %s is set, but this build never runs "
			 "unfiltered (only one built with -DQ2Q_SANDBOX_OFF_ALLOWED, as "
			 "tests/soak/soak.sh does for valgrind); unset it", tag, SANDBOX_OFF_ENV);
		return -EPERM;
	}
	if (strcmp(v, "1") != 0) {
		snprintf(err, errlen, "seccomp (%s): %s='%.16s': only 1 (a valgrind test "
			 "run) turns the filters off; unset it otherwise", tag,
			 SANDBOX_OFF_ENV, v);
		return -EINVAL;
	}
	fprintf(stderr, "%s[%s]: seccomp: OFF (%s=1, for memory-checker test runs "
		"only; never in production)\n", program_invocation_short_name, tag,
		SANDBOX_OFF_ENV);
	return 1;
}

static int sb_install(const char *tag, int (*rules)(scmp_filter_ctx), char *err, size_t errlen)
{
	struct sigaction sa, old;
	scmp_filter_ctx ctx = NULL;
	const char *step;
	int rc, have_old = 0;

	/* The filter's contract: privileges are gone first. Without
	 * no_new_privs the kernel would refuse the filter anyway (unless we
	 * hold CAP_SYS_ADMIN, which no part should). */
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) {
		snprintf(err, errlen, "seccomp (%s): no_new_privs is not set; drop privileges first", tag);
		return -EPERM;
	}
	if ((rc = sb_off(tag, err, errlen)) != 0)
		return rc < 0 ? rc : 0;
	sb_names_fill();
	snprintf(sb_prefix, sizeof(sb_prefix), "%s[%s]: seccomp: ", program_invocation_short_name, tag);

	step = "seccomp_init";
	rc = -ENOMEM;
	if (!(ctx = seccomp_init(SCMP_ACT_TRAP)))
		goto fail;
	step = "filter attributes";
	/* Calls of another ABI (x32, i386 via int 0x80) trap too, so they
	 * are named in the journal rather than killing silently. */
	/* no_new_privs is checked above, not set behind the caller's back;
	 * SYSRAWRC: the kernel's errno, not libseccomp's -ECANCELED. */
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_TRAP)) < 0 ||
	    (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0)) < 0 ||
	    (rc = seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1)) < 0 ||
	    /* TSYNC: every thread gets the filter, not just this one; the
	     * engine's DNS resolver (libunbound) runs a worker thread started
	     * before the sandbox (tund/node/discover.c). */
	    (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) < 0)
		goto fail;
	step = "rules";
	if ((rc = allow_list(ctx, sb_base, sizeof(sb_base) / sizeof(sb_base[0]))) < 0 ||
	    (rc = allow_memory(ctx)) < 0 ||
	    (rc = allow_self_signal(ctx)) < 0 ||
	    (rc = rules(ctx)) < 0)
		goto fail;
#if defined(__SANITIZE_ADDRESS__)
	if ((rc = allow_list(ctx, sb_asan, sizeof(sb_asan) / sizeof(sb_asan[0]))) < 0)
		goto fail;
#endif

	/* The handler must be in place before the first trap can happen. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sb_sigsys;
	sa.sa_flags = SA_SIGINFO | SA_RESETHAND | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	step = "SIGSYS handler";
	if (sigaction(SIGSYS, &sa, &old) < 0) {
		rc = -errno;
		goto fail;
	}
	have_old = 1;
	{
		sigset_t sys;

		/* A blocked SIGSYS would be forced to its default action,
		 * killing without the message. */
		sigemptyset(&sys);
		sigaddset(&sys, SIGSYS);
		sigprocmask(SIG_UNBLOCK, &sys, NULL);
	}
	step = "loading the filter";
	if ((rc = seccomp_load(ctx)) < 0)
		goto fail;
	seccomp_release(ctx);
	return 0;
fail:
	if (have_old)
		sigaction(SIGSYS, &old, NULL);
	seccomp_release(ctx);
	snprintf(err, errlen, "seccomp (%s): %s: %s", tag, step, strerror(-rc));
	return rc;
}

/*
 * The engine checks control clients with getpwuid and getgrouplist on each
 * connection (tund/ctl/control.c). NSS dlopens its modules (nss_systemd,
 * sss, ldap: whatever nsswitch.conf lists after "files") on first use,
 * which needs mmap(PROT_EXEC). Looking up names that no database has walks
 * every module, so all of them are loaded while that is still allowed;
 * glibc never unloads them.
 */
#define SB_NO_SUCH_ID ((uid_t)0x7ffffffeu)
#define SB_NO_SUCH_NAME "q2q-sandbox-no-such-name"

static void sb_nss_warm(void)
{
	gid_t groups[4];
	int ng = 4;

	(void)getpwuid(SB_NO_SUCH_ID);
	(void)getpwnam(SB_NO_SUCH_NAME);
	(void)getgrgid((gid_t)SB_NO_SUCH_ID);
	(void)getgrnam(SB_NO_SUCH_NAME);
	(void)getgrouplist(SB_NO_SUCH_NAME, (gid_t)SB_NO_SUCH_ID, groups, &ng);
}

int sandbox_engine(char *err, size_t errlen)
{
	sb_nss_warm();
	return sb_install("engine", rules_engine, err, errlen);
}

int sandbox_ca(char *err, size_t errlen)
{
	return sb_install("ca", rules_ca, err, errlen);
}

int sandbox_priv(char *err, size_t errlen)
{
	return sb_install("priv", rules_priv, err, errlen);
}
