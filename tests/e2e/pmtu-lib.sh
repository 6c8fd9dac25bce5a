# The lab pmtu.sh and pmtu6.sh share; source it after lib.sh and e2e_init.
# pmtu_lab: an authority and alice on the wan bridge, bob behind router r
# (lan-bob, whose MTU link_mtu changes on both ends), routes for IPv4.
# pmtu_up [AUTHORITY [LISTEN]]: the three daemons, both nodes enrolled (at
# AUTHORITY, default 192.0.2.10:8788) and up; sets A4 and B4 (or ends
# the test); the authority listens on LISTEN (default 0.0.0.0:8788).
pmtu_lab() {
	wan_up
	host_add auth 192.0.2.10/24
	host_add alice 192.0.2.11/24
	host_add r 192.0.2.1/24
	lan_add bob r 198.51.100.2/24 198.51.100.1/24
	for n in auth alice; do nsx $n ip route add 198.51.100.0/24 via 192.0.2.1; done
}
link_mtu() { nsx r ip link set lan-bob mtu "$1" && nsx bob ip link set eth0 mtu "$1"; }
path_mtu_is() { [ "$(ovl_peer "$1" "$2" path_mtu)" = "$3" ]; }

pmtu_up() {
	local at=${1:-192.0.2.10:8788}
	q2qd_conf auth "authority = { domain = \"example.com\"; listen = \"${2:-0.0.0.0:8788}\"; };"
	q2qd_conf alice 'port = 8789;'
	q2qd_conf bob 'port = 8789;'
	for n in auth alice bob; do q2qd_start $n || exit 1; done
	check "alice enrolls" ovl_enroll alice alice@example.com auth "$at"
	check "bob enrolls" ovl_enroll bob bob@example.com auth "$at"
	for n in alice bob; do check "$n: q2qctl up" ctl $n up; done
	A4=$(ctl bob resolve alice@example.com 2>/dev/null)
	B4=$(ctl alice resolve bob@example.com 2>/dev/null)
	[ -n "$A4" ] && [ -n "$B4" ] || { echo "cannot continue: resolve gave no addresses"; e2e_finish; exit 1; }
}
