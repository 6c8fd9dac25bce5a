#!/bin/bash
# Helpers for benchmarks that run q2q daemons in netns-lib.sh's two
# namespaces (bench/q2q.sh, bench/policy.sh, bench/firstping.sh). Source
# after netns-lib.sh, then q2q_bin and q2q_scratch; q2q_start records
# every daemon's pid in QPIDS for the EXIT trap q2q_scratch sets.

# q2q_bin DIR: BIN, the build directory (relative to the tree, or
# absolute), with q2qd and q2qctl in it; exits if they are not.
q2q_bin() {
	O=$1
	case $O in
	/*) BIN=$O ;;
	*) BIN=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/$O ;;
	esac
	[ -x "$BIN/q2qd" ] && [ -x "$BIN/q2qctl" ] || { echo "bench: $BIN/q2qd not built (make O=$O)" >&2; exit 1; }
}

# q2q_scratch NAME [CLEANUP]: QT, a scratch directory for the daemons, and
# an EXIT trap that stops them, runs CLEANUP (a command, e.g. another
# system's teardown), removes the namespaces and (unless KEEP is set) QT.
q2q_scratch() {
	QT=$(mktemp -d "${TMPDIR:-/tmp}/q2q-bench-$1.XXXXXX")
	chmod 755 "$QT"
	QPIDS=()
	Q2Q_CLEANUP=${2:-true}
	trap q2q_cleanup EXIT
	trap 'exit 130' INT TERM
}
q2q_cleanup() {
	local pid
	for pid in "${QPIDS[@]}"; do kill "$pid" 2>/dev/null; done
	$Q2Q_CLEANUP
	bench_ns_down
	[ -z "${KEEP:-}" ] && rm -rf "$QT"
}

# qns NAME: the namespace a q2q node runs in
qns() { case $1 in bob) echo "$B" ;; *) echo "$A" ;; esac; }
# The process doing q2qd's work: its engine (older builds ran as one).
q2q_engine() { local p e; p=$(cat "$QT/$1/pid"); e=$(pgrep -P "$p" -x q2qd-engine); echo "${e:-$p}"; }
qctl() { local n=$1; shift; timeout 30 ip netns exec "$(qns "$n")" "$BIN/q2qctl" -s "$QT/$n/q2qd.sock" "$@"; }
jfield() { python3 -c 'import json,sys
try:
    d = json.load(sys.stdin)
    for k in sys.argv[1].split("."):
        d = d.get(k) if isinstance(d, dict) else None
    print("" if d is None else d)
except Exception:
    print("")' "$1"; }

q2q_start() {	# q2q_start NAME [config lines]
	local n=$1; shift
	mkdir -p "$QT/$n"
	{
		echo "state_dir = \"$QT/$n/state\";"
		echo "control_socket = \"$QT/$n/q2qd.sock\";"
		echo 'log_level = "info";'
		printf '%s\n' "$@"
	} > "$QT/$n/q2qd.conf"
	ip netns exec "$(qns "$n")" "$BIN/q2qd" -c "$QT/$n/q2qd.conf" >>"$QT/$n/log" 2>&1 &
	QPIDS+=($!); BENCH_PIDS+=($!)
	echo $! > "$QT/$n/pid"
	bench_wait 10 qctl "$n" status || { echo "bench: q2qd $n did not start:"; tail -5 "$QT/$n/log"; return 1; }
}

# q2q_restart [CONFIG...]: alice's and bob's daemons again, enrolled, with
# these config lines ("mtu = 1280;", "workers = 1;"; with $BIN, which may
# have changed since they started); their CPU times start from zero.
q2q_restart() {
	local n pid
	for n in alice bob; do
		pid=$(cat "$QT/$n/pid")
		kill "$pid" 2>/dev/null
		bench_wait 10 bash -c "! kill -0 $pid 2>/dev/null"
		q2q_start "$n" "$@" || return 1
	done
}

# q2q_pair: an authority (in a's namespace, 192.0.2.1:8700) with alice in a and bob in b enrolled; sets
# Q2Q_B4 to bob's overlay IPv4. Both nodes still down.
q2q_pair() {
	local fp tok
	# The authority shares a's namespace with alice's node. It binds UDP on
	# its listen port and the next one (NAT detection), so it must not sit
	# on 8788, which would take 8789, the node's data port.
	q2q_start auth 'port = 8790;' 'authority = { domain = "example.com"; listen = "192.0.2.1:8700"; };' || return 1
	q2q_start alice || return 1
	q2q_start bob || return 1
	fp=$(qctl auth status --json | jfield authority_service.ca_fingerprint)
	for n in alice bob; do
		tok=$(qctl auth invite "$n@example.com" 2>/dev/null)
		qctl "$n" enroll "$n@example.com" --authority 192.0.2.1:8700 --token "$tok" \
			--ca-fingerprint "$fp" >/dev/null || { echo "bench: enrolling $n failed"; return 1; }
	done
	Q2Q_B4=$(qctl bob status --json | jfield ipv4)
	[ -n "$Q2Q_B4" ] || { echo "bench: bob has no overlay IPv4"; return 1; }
}
