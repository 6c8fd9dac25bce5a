/*
 * Seccomp allow-lists, one per part of q2qd (libseccomp). Each is the last
 * step of a part's start-up: call it after privileges are dropped and
 * PR_SET_NO_NEW_PRIVS is set (tund/priv/privdrop.h), once every file and
 * socket the part opens only at start is open. From then on a system call
 * outside the part's list kills the process; before dying it writes one line
 * to stderr, so the journal says why:
 *
 *   q2qd[engine]: seccomp: system call 41 (socket) is not allowed; exiting
 *
 * and it dies by SIGSYS (systemd shows status=31/SYS). Only x86_64 calls are
 * allowed; x32 and i386 calls are refused the same way.
 *
 * The SIGSYS handler is installed and SIGSYS unblocked for that.
 * Each returns 0, or -errno with the reason in err: -EPERM if no_new_privs
 * is not set, else libseccomp's or the kernel's. On failure no filter is
 * installed.
 */
#ifndef Q2Q_SANDBOX_H
#define Q2Q_SANDBOX_H

/* Set to exactly "1" in q2qd's environment, no part installs its filter
 * (each says so on stderr): for running under memory checkers (valgrind)
 * in tests, which cannot run code under the filters. Any other non-empty
 * value makes the sandbox_* calls fail with -EINVAL, after the
 * no_new_privs check. Never set it in production. */
#define SANDBOX_OFF_ENV "Q2Q_TEST_NO_SECCOMP"
/* Only a build made for memory checkers honours it (tests/soak/soak.sh
 * builds one): in every other build the variable makes each part refuse
 * to start, so no production q2qd can be talked out of its filters. */
#ifdef Q2Q_SANDBOX_OFF_ALLOWED
#define SANDBOX_OFF_ALLOWED 1
#else
#define SANDBOX_OFF_ALLOWED 0
#endif

#include <stddef.h>

/* The network-facing engine: TLS, UDP data path, control socket, SQLite,
 * state-directory writes, sd_notify, getifaddrs; no TUN ioctls (the
 * privileged parent opens and configures the device), no new processes,
 * no executable memory. It first loads every NSS module nsswitch.conf
 * names, so later getpwuid/getgrouplist calls need no dlopen. */
int sandbox_engine(char *err, size_t errlen);

/* The CA process: reads and writes its socketpair, signs, and appends to
 * (and fsyncs) files it opened before; it may open files read-only
 * (wolfCrypt's RNG opens /dev/urandom) and create none. So call it once
 * the CA is loaded and its ledger open (in ca_main after ca_make_serving,
 * not before ca_load). */
int sandbox_ca(char *err, size_t errlen);

/* The privileged parent: opens /dev/net/tun (read-write, never creating a
 * file), TUNSETIFF/TUNSETOFFLOAD, netlink route sockets, passes the TUN
 * descriptor with SCM_RIGHTS, waits for and signals its children. */
int sandbox_priv(char *err, size_t errlen);

#endif
