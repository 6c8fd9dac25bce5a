#!/bin/sh
# Install the Debian packages q2q builds and tests with, if any is missing.
set -e
PKGS="build-essential pkg-config libwolfssl-dev libssl-dev libmnl-dev libconfig-dev libnftables-dev \
libsqlite3-dev sqlite3 libjson-c-dev libsystemd-dev libseccomp-dev iproute2 nftables iperf3 tcpdump \
python3 jq openssl procps psmisc iputils-ping util-linux systemd curl prometheus \
libunbound-dev libevent-dev dns-root-data knot knot-dnsutils \
clang libclang-rt-14-dev \
mandoc groff-base man-db bash-completion dpkg-dev debhelper fakeroot lintian"
# port mapping: the client libraries; tests/e2e/portmap.sh: a real gateway
# (miniupnpd) that learns its public address from a STUN server (stund)
PKGS="$PKGS libnatpmp-dev libminiupnpc-dev miniupnpd-nftables stun-server"
# tests/e2e/nss.sh: real programs over the NSS module
PKGS="$PKGS openssh-server openssh-client valgrind strace"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$missing (run as root, e.g. sudo make deps)" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# Some test tools are servers (openssh-server, prometheus): the tests start
# their own copies inside namespaces, so installing them must not start
# services on this machine. policy-rc.d (Debian's invoke-rc.d and
# deb-systemd-invoke honour it) refuses every start during the install,
# and only if the machine has none of its own.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\n# q2q tests/deps.sh: no service starts while test tools install\nexit 101\n' >"$policy"
	chmod 0755 "$policy"
	trap 'rm -f "$policy"' EXIT
fi
apt-get update -qq || true
apt-get install -y -qq --no-install-recommends $missing
