# Shared helpers for q2q's end-to-end tests. Source it, then call e2e_init.
#
# Every test builds its own world of network namespaces named
# q2q-<pid>-<name>, joined through a bridge in a "wan" namespace, and takes
# it all down in an EXIT trap. Daemons get their own state dir, config and
# control socket under $T, so tests can run side by side.

: "${O:=build}"
BIN=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/$O
PASS=0; FAIL=0; SKIP=0
PFX="q2q-$$"
T=""
NSES=()

e2e_cleanup() {
	local ns pid
	for ns in "${NSES[@]}"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null; done
	done
	sleep 0.2
	for ns in "${NSES[@]}"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
		ip netns del "$ns" 2>/dev/null
	done
	if [ -n "$T" ] && [ -z "${KEEP:-}" ]; then rm -rf "$T"; fi
}

e2e_init() {
	NAME=$1
	T=$(mktemp -d "/tmp/q2q-e2e-$NAME.XXXXXX")
	chmod 755 "$T"
	trap e2e_cleanup EXIT
	trap 'exit 130' INT TERM
	[ -x "$BIN/q2qd" ] || { echo "e2e: $BIN/q2qd not built (run make)"; exit 1; }
}

# pass/fail bookkeeping: check "what" command...
check() {
	local what=$1; shift
	if "$@" >"$T/last.out" 2>&1; then
		PASS=$((PASS + 1)); echo "ok - $what"
	else
		FAIL=$((FAIL + 1)); echo "not ok - $what"; sed 's/^/    # /' "$T/last.out" | tail -15
	fi
}
# the command must fail
check_fails() {
	local what=$1; shift
	if "$@" >"$T/last.out" 2>&1; then
		FAIL=$((FAIL + 1)); echo "not ok - $what (unexpectedly succeeded)"; sed 's/^/    # /' "$T/last.out" | tail -15
	else
		PASS=$((PASS + 1)); echo "ok - $what"
	fi
}
# check_eq "what" ACTUAL EXPECTED: both non-empty and equal
check_eq() {
	if [ -n "$2" ] && [ "$2" = "$3" ]; then
		PASS=$((PASS + 1)); echo "ok - $1"
	else
		FAIL=$((FAIL + 1)); echo "not ok - $1"; echo "    # got '$2', expected '$3'"
	fi
}
# check_ne "what" A B: both non-empty and different
check_ne() {
	if [ -n "$2" ] && [ -n "$3" ] && [ "$2" != "$3" ]; then
		PASS=$((PASS + 1)); echo "ok - $1"
	else
		FAIL=$((FAIL + 1)); echo "not ok - $1"; echo "    # got '$2' and '$3'"
	fi
}
skip() { SKIP=$((SKIP + 1)); echo "skip - $1"; }

e2e_finish() {
	echo "$PASS passed, $FAIL failed, $SKIP skipped"
	[ "$FAIL" -eq 0 ]
}

# wait_for SECONDS command...: poll until the command succeeds.
wait_for() {
	local secs=$1 i; shift
	for ((i = 0; i < secs * 10; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# The "internet": a namespace with a bridge; hosts plug into it.
wan_up() {
	local ns="$PFX-wan"
	ip netns add "$ns"; NSES+=("$ns")
	ip -n "$ns" link set lo up
	ip -n "$ns" link add br0 type bridge
	ip -n "$ns" link set br0 up
}

# host_add NAME ADDR/PLEN: a namespace plugged into the wan bridge.
host_add() {
	local name=$1 addr=$2 ns="$PFX-$1" wan="$PFX-wan"
	ip netns add "$ns"; NSES+=("$ns")
	ip -n "$ns" link set lo up
	ip link add "q2qv-$$-$name" netns "$ns" type veth peer name "v-$name" netns "$wan" 2>/dev/null ||
		ip link add "qv$$$name" netns "$ns" type veth peer name "v-$name" netns "$wan"
	local inner; inner=$(ip -n "$ns" -o link show type veth | awk -F': ' '{print $2}' | cut -d@ -f1 | head -1)
	ip -n "$ns" link set "$inner" name eth0
	ip -n "$ns" addr add "$addr" dev eth0
	ip -n "$ns" link set eth0 up
	ip -n "$wan" link set "v-$name" master br0 up
}

nsx() { local n=$1; shift; ip netns exec "$PFX-$n" "$@"; }

# q2qd_conf NAME [extra config lines]: writes $T/NAME/q2qd.conf
q2qd_conf() {
	local name=$1; shift
	mkdir -p "$T/$name"
	{
		echo "state_dir = \"$T/$name/state\";"
		echo "control_socket = \"$T/$name/q2qd.sock\";"
		echo "log_level = \"debug\";"
		printf '%s\n' "$@"
	} > "$T/$name/q2qd.conf"
}

# q2qd_start NAME: runs q2qd in NAME's namespace, waits for its socket.
q2qd_start() {
	local name=$1
	# ip netns exec execs q2qd, so $! is the daemon's own pid.
	ip netns exec "$PFX-$name" "$BIN/q2qd" -c "$T/$name/q2qd.conf" >>"$T/$name/log" 2>&1 &
	echo $! > "$T/$name/pid"
	wait_for 10 ctl "$name" status || { echo "q2qd $name did not start:"; tail -20 "$T/$name/log"; return 1; }
}

q2qd_stop() {
	local name=$1 pid
	pid=$(cat "$T/$name/pid" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null
	for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rm -f "$T/$name/pid"
}

ctl() { local name=$1; shift; nsx "$name" "$BIN/q2qctl" -s "$T/$name/q2qd.sock" "$@"; }

# jget NAME CMD... -- KEY: a field from q2qctl --json output
jq_get() { python3 -c 'import json,sys
d=json.load(sys.stdin)
for k in sys.argv[1].split("."):
    d = d[int(k)] if isinstance(d, list) else d.get(k)
    if d is None: break
print("" if d is None else (json.dumps(d) if isinstance(d,(dict,list)) else d))' "$1"; }

export BIN T PFX
export -f nsx ctl jq_get
