/*
 * The overlay's TUN device: a layer-3 interface whose packets the daemon
 * reads and writes as plain IP (no packet-information header). The device
 * lives exactly as long as its file descriptor: it is never made
 * persistent, so a daemon that dies leaves no interface behind.
 */
#ifndef Q2Q_TUND_TUN_H
#define Q2Q_TUND_TUN_H

#include <net/if.h>

/*
 * Create (or attach to) the TUN device ifname and return its descriptor in
 * *fd, non-blocking and close-on-exec; the caller owns and closes it, which
 * removes the device. The kernel's final name goes to actual (it differs
 * when ifname is a template such as "q2q%d"). ifname must be 1..IFNAMSIZ-1
 * bytes with no '/', ':' or whitespace and not "." or "..": -EINVAL
 * otherwise. Other errors are the kernel's -errno (-EPERM without
 * CAP_NET_ADMIN, -EBUSY if another process holds the device).
 */
int tun_open(const char *ifname, char actual[IFNAMSIZ], int *fd);
/* offload: IFF_VNET_HDR with checksum and TCP segmentation offloads. */
int tun_open_offload(const char *ifname, char actual[IFNAMSIZ], int *fd, int offload);

#endif
