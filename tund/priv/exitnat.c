/*
 * The exit node's forwarding and masquerade (see exitnat.h): two sysctls
 * through /proc/sys and one nftables table through the guard's runner.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tund/priv/exitnat.h"
#include "tund/priv/guard.h"

static const char *const fwd_path[2] = {
	"/proc/sys/net/ipv4/ip_forward",
	"/proc/sys/net/ipv6/conf/all/forwarding",
};

/* What forwarding was before exitnat_on: -1 unknown (not on). */
static int fwd_saved[2] = { -1, -1 };

static const char *const remove_script =
	"add table inet " EXITNAT_TABLE "\n"
	"delete table inet " EXITNAT_TABLE "\n";

int exitnat_script(const char *ifname, int v4_off, int v6_off, char *buf, size_t cap)
{
	int n;

	if (!guard_ifname_ok(ifname))
		return -EINVAL;
	n = snprintf(buf, cap, "%s"
	    "table inet " EXITNAT_TABLE " {\n"
	    "  chain exit_forward {\n"
	    "    type filter hook forward priority 0; policy accept;\n"
	    "    iifname \"%s\" accept\n"
	    "    oifname \"%s\" ct state established,related accept\n"
	    "    oifname \"%s\" drop\n"
	    "%s%s"
	    "  }\n"
	    "  chain exit_postrouting {\n"
	    "    type nat hook postrouting priority 100; policy accept;\n"
	    "    iifname \"%s\" oifname != \"%s\" masquerade\n"
	    "  }\n"
	    "}\n", remove_script, ifname, ifname, ifname,
	    v4_off ? "    meta nfproto ipv4 drop\n" : "", v6_off ? "    meta nfproto ipv6 drop\n" : "",
	    ifname, ifname);
	if (n < 0 || (size_t)n >= cap)
		return -ENOSPC;
	return n;
}

static int sysctl_get(const char *path)
{
	char b[8] = "";
	int fd = open(path, O_RDWR | O_CLOEXEC), rc;

	if (fd < 0)
		return -errno;
	rc = read(fd, b, sizeof(b) - 1) > 0 ? (b[0] == '1') : -EIO;
	close(fd);
	return rc;
}

static int sysctl_set(const char *path, int v)
{
	int fd = open(path, O_RDWR | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, v ? "1\n" : "0\n", 2) != 2)
		rc = -errno;
	close(fd);
	return rc;
}

int exitnat_on(const char *ifname, char *err, size_t errlen)
{
	char script[1024];
	int rc, was[2];

	for (int f = 0; f < 2; f++) {
		if ((was[f] = fwd_saved[f] >= 0 ? fwd_saved[f] : sysctl_get(fwd_path[f])) < 0) {
			snprintf(err, errlen, "cannot read %s: %s", fwd_path[f], strerror(-was[f]));
			return was[f];
		}
	}
	if ((rc = exitnat_script(ifname, !was[0], !was[1], script, sizeof(script))) < 0) {
		snprintf(err, errlen, "bad interface name");
		return rc;
	}
	/* The fence first, then forwarding: never a moment of open forwarding. */
	if ((rc = guard_run(script, err, errlen)) < 0)
		return rc;
	for (int f = 0; f < 2; f++) {
		fwd_saved[f] = was[f];
		if (!was[f] && (rc = sysctl_set(fwd_path[f], 1)) < 0) {
			snprintf(err, errlen, "cannot write %s: %s", fwd_path[f], strerror(-rc));
			exitnat_off(err + strlen(err), errlen - strlen(err));
			return rc;
		}
	}
	return 0;
}

int exitnat_off(char *err, size_t errlen)
{
	int rc = 0, r;

	/* Forwarding back first, then the fence goes. */
	for (int f = 0; f < 2; f++) {
		if (fwd_saved[f] < 0)
			continue;
		if ((r = sysctl_set(fwd_path[f], fwd_saved[f])) < 0 && rc == 0) {
			snprintf(err, errlen, "cannot restore %s: %s", fwd_path[f], strerror(-r));
			rc = r;
		}
		fwd_saved[f] = -1;
	}
	if ((r = guard_run(remove_script, rc ? NULL : err, rc ? 0 : errlen)) < 0 && rc == 0)
		rc = r;
	return rc;
}
