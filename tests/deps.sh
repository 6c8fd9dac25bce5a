#!/bin/sh
# Install the Debian packages q2q builds and tests with, if any is missing.
set -e
PKGS="build-essential pkg-config libwolfssl-dev libmnl-dev libconfig-dev \
libsqlite3-dev libjson-c-dev libsystemd-dev libseccomp-dev iproute2 nftables iperf3 tcpdump \
python3 openssl procps psmisc iputils-ping util-linux systemd \
clang libclang-rt-14-dev valgrind"
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
apt-get update -qq || true
apt-get install -y -qq --no-install-recommends $missing
