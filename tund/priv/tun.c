/*
 * Opening the TUN device. IFF_NO_PI because every packet is IP and the
 * version nibble already tells v4 from v6, so the 4-byte packet-information
 * prefix would only cost a copy. Non-blocking because the event loop reads
 * it in batches until EAGAIN. TUNSETPERSIST is never called: the kernel
 * destroys a non-persistent device when its last descriptor closes, which is
 * what guarantees no stale q2q0 (with routes still pointing at it) survives
 * a crashed daemon. A device an administrator made persistent beforehand
 * (`ip tuntap add`) is attached to and left as it was found.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/if_tun.h>

#include "tund/priv/tun.h"

/* The kernel's dev_valid_name rules, checked here for a clearer error. */
static int tun_name_ok(const char *name)
{
	size_t len;

	if (!name)
		return 0;
	len = strnlen(name, IFNAMSIZ);
	if (len == 0 || len >= IFNAMSIZ)
		return 0;
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '/' || c == ':' || isspace(c) || !isprint(c))
			return 0;
	}
	return 1;
}

int tun_open(const char *ifname, char actual[IFNAMSIZ], int *fd)
{
	return tun_open_offload(ifname, actual, fd, 0);
}

/* With offload, every read and write carries a 10-byte virtio_net_hdr and
 * the kernel may hand over TCP super-packets (up to 64 KB) with partial
 * checksums: one read instead of dozens. */
int tun_open_offload(const char *ifname, char actual[IFNAMSIZ], int *fd, int offload)
{
	struct ifreq ifr;
	int tfd, r;

	if (!tun_name_ok(ifname) || !fd)
		return -EINVAL;
	tfd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (tfd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (offload ? IFF_VNET_HDR : 0);
	memcpy(ifr.ifr_name, ifname, strlen(ifname));
	if (ioctl(tfd, TUNSETIFF, &ifr) < 0) {
		r = -errno;
		goto fail;
	}
	if (offload && ioctl(tfd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) < 0) {
		r = -errno;
		goto fail;
	}
	if (actual) {
		memcpy(actual, ifr.ifr_name, IFNAMSIZ);
		actual[IFNAMSIZ - 1] = '\0';
	}
	*fd = tfd;
	return 0;
fail:
	close(tfd);
	return r;
}
