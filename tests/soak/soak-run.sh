#!/bin/bash
# One soak mode (see soak.sh, which runs this with O, SOAK_MODE and
# SOAK_MINUTES set). Uses tests/e2e/lib.sh for the namespaces, the
# bookkeeping and the cleanup; starts daemons itself so that valgrind can
# wrap them and start-up may take as long as valgrind needs.
. "$(dirname "$0")/../e2e/lib.sh"
# lib.sh takes O relative to the tree; an absolute O is a directory itself.
case $O in /*) BIN=$O ;; esac
e2e_init "soak-$SOAK_MODE"
MODE=$SOAK_MODE
ERRORS=0
VG=(valgrind --tool=memcheck --leak-check=full --errors-for-leak-kinds=definite
    --show-leak-kinds=definite --track-fds=no --num-callers=30)

soak_start() {	# soak_start NAME: like lib.sh's q2qd_start, wrapped per mode
	local name=$1 wrap=() envs=()
	e2e_user
	install -d -m 0700 -o q2q -g q2q "$T/$name/state"
	chown -R q2q:q2q "$T/$name/state"
	chown q2q:q2q "$T/$name"
	install -d -m 0700 -o root -g root "$T/$name/state-ca"
	if [ "$MODE" = valgrind ] && [ "$name" != auth ]; then
		# Root without CAP_DAC_OVERRIDE, then user q2q, opens these.
		install -d -m 1777 "$T/vg"
		wrap=("${VG[@]}" "--log-file=$T/vg/$name.%p.log")
		envs=(Q2Q_TEST_NO_SECCOMP=1)
	fi
	ip netns exec "$PFX-$name" env "${envs[@]}" setpriv \
		--bounding-set=-all,+net_admin,+setuid,+setgid,+setpcap \
		--inh-caps=-all --no-new-privs \
		"${wrap[@]}" "$BIN/q2qd" -u q2q -c "$T/$name/q2qd.conf" >>"$T/$name/log" 2>&1 &
	echo $! > "$T/$name/pid"
	wait_for 120 ctl "$name" status || { echo "q2qd $name did not start:"; tail -20 "$T/$name/log"; return 1; }
}

# soak_stop NAME: SIGTERM and wait; valgrind's leak check at exit takes
# a while, so longer than lib.sh's q2qd_stop.
soak_stop() {
	local pid i
	pid=$(cat "$T/$1/pid" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null
	for ((i = 0; i < 600; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rm -f "$T/$1/pid"
}

rss() {	# rss NAME: the engine's resident set in KiB
	local p
	# The engine is the child that serves the control socket; under
	# valgrind the children keep valgrind's name, so take the largest.
	for p in $(pgrep -P "$(cat "$T/$1/pid")"); do
		awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null
	done | sort -n | tail -1
}

fail() { ERRORS=$((ERRORS + 1)); FAIL=$((FAIL + 1)); echo "not ok - $*"; }

# recover WHAT: the tunnel works again within 60 s, and carries a file
# each way intact.
recover() {
	if ! wait_for 60 ovl_ping alice "$B"; then
		fail "$1: no ping alice -> bob within 60 s"
		tail -5 "$T/alice/log" | sed 's/^/    # /'
		return
	fi
	tcp_copy alice bob "$B" 5001 "$T/blob" "$T/blob.atbob" >"$T/copy.out" 2>&1 ||
		{ fail "$1: file alice -> bob"; sed 's/^/    # /' "$T/copy.out"; }
	tcp_copy bob alice "$A" 5002 "$T/blob" "$T/blob.atalice" >"$T/copy.out" 2>&1 ||
		{ fail "$1: file bob -> alice"; sed 's/^/    # /' "$T/copy.out"; }
}

wan_up
host_add auth 192.0.2.10/24
host_add alice 192.0.2.11/24
host_add bob 192.0.2.12/24
# Removing a primary address takes the secondaries of its subnet with it
# unless they are promoted: then roaming would leave alice with none.
nsx alice sysctl -qw net.ipv4.conf.eth0.promote_secondaries=1
q2qd_conf auth 'authority = { domain = "example.com"; listen = "0.0.0.0:8788"; };'
for n in alice bob; do q2qd_conf $n 'rekey_after = 10;'; done
for n in auth alice bob; do soak_start $n || exit 1; done
for n in alice bob; do
	ovl_enroll $n $n@example.com auth 192.0.2.10 >/dev/null || { echo "enroll $n failed"; exit 1; }
	ctl $n up >/dev/null || exit 1
done
registered() { [ "$(ctl "$1" status --json | jq_get authority_link)" = registered ]; }
for n in alice bob; do
	wait_for 120 registered $n || { echo "$n did not register"; exit 1; }
done
B=$(ctl alice resolve bob@example.com)
A=$(ctl bob resolve alice@example.com)
check "alice resolves bob ($B) and bob alice ($A)" test -n "$B" -a -n "$A"
head -c 524288 /dev/urandom > "$T/blob"
recover start
RSS_BOB0=$(rss bob); RSS_ALICE0=$(rss alice); RSS_AUTH0=$(rss auth)
echo "# rss at start: bob engine ${RSS_BOB0} KiB, auth ${RSS_AUTH0} KiB, alice ${RSS_ALICE0} KiB"
# One line per event: seconds, bob's and the authority's engine RSS (KiB).
: > "$T/rss.log"

# The soak's time counts from here: start-up under valgrind takes minutes.
DEADLINE=$(( $(date +%s) + SOAK_MINUTES * 60 ))
# Background traffic the whole time: 20 pings a second.
# ip netns exec, not nsx (a function), so that $! is ping itself.
ip netns exec "$PFX-alice" ping -i 0.05 -W 1 "$B" >"$T/ping.out" 2>&1 &
PING=$!

cycle=0; events=0; where=11
while [ "$(date +%s)" -lt "$DEADLINE" ]; do
	case $((cycle % 4)) in
	0)	# roaming: alice's underlay address moves, the old one goes away
		new=$((where == 11 ? 21 : 11))
		nsx alice ip addr add 192.0.2.$new/24 dev eth0
		nsx alice ip addr del 192.0.2.$where/24 dev eth0
		where=$new
		recover "roam to 192.0.2.$where" ;;
	1)	# bob down and up again
		ctl bob down >/dev/null || fail "bob down"
		ctl bob up >/dev/null || fail "bob up"
		recover "bob down/up" ;;
	2)	# alice restarted (it comes up by itself: it was up)
		soak_stop alice
		soak_start alice || { fail "alice restart"; break; }
		recover "alice restart" ;;
	*)	# traffic alone, across rekeys
		sleep 10
		recover "rekeys" ;;
	esac
	cycle=$((cycle + 1)); events=$((events + 1))
	echo "$(( $(date +%s) - DEADLINE + SOAK_MINUTES * 60 )) $(rss bob) $(rss auth)" >> "$T/rss.log"
done
kill -INT "$PING" 2>/dev/null; wait "$PING" 2>/dev/null	# INT: ping prints its counts
RSS_BOB1=$(rss bob); RSS_ALICE1=$(rss alice); RSS_AUTH1=$(rss auth)
# warm: the first sample after a fifth of the run; max over the whole run
rss_at() {	# rss_at COLUMN: "warm max" of that column of rss.log
	awk -v c="$1" -v w=$((SOAK_MINUTES * 12)) '
		!warm && $1 >= w { warm = $c }
		$c > max { max = $c }
		END { print (warm ? warm : "-"), max + 0 }' "$T/rss.log"
}
set -- $(rss_at 2); BOB_WARM=$1 BOB_MAX=$2
set -- $(rss_at 3); AUTH_WARM=$1 AUTH_MAX=$2
SESS=$(grep -c "session with alice@example.com" "$T/bob/log")
echo "# $cycle cycles ($((cycle / 4 + (cycle % 4 > 0))) roams, bob down/up, alice restarts each), $SESS sessions made by bob"
echo "# ping: $(grep 'packets transmitted' "$T/ping.out")"
echo "# rss, KiB: bob engine start ${RSS_BOB0}, warm ${BOB_WARM}, max ${BOB_MAX}, end ${RSS_BOB1}"
echo "# rss, KiB: auth engine start ${RSS_AUTH0}, warm ${AUTH_WARM}, max ${AUTH_MAX}, end ${RSS_AUTH1}"
echo "# rss, KiB: alice engine start ${RSS_ALICE0}, end ${RSS_ALICE1} (restarted every fourth event)"
[ -n "${SOAK_RSS_LOG:-}" ] && cp "$T/rss.log" "$SOAK_RSS_LOG"
check "bob made at least one session per rekey interval ($SESS in $SOAK_MINUTES min)" test "$SESS" -ge $((SOAK_MINUTES * 60 / 10 / 2))

# Stop the daemons, so leak checks run, then count every report.
for n in alice bob auth; do soak_stop $n; done
if [ "$MODE" = valgrind ]; then
	# valgrind writes its summary at exit; the engine's may lag its parent's
	sleep 2
	vg=$(cat "$T"/vg/*.log 2>/dev/null |
		awk '/ERROR SUMMARY:/ { n += $4; s++ } END { print n + 0, s + 0 }')
	set -- $vg
	echo "# valgrind: $1 errors in $2 process summaries"
	check "valgrind summaries were written ($2)" test "$2" -ge 3
	check_eq "valgrind errors" "$1" 0
	[ "$1" = 0 ] || grep -h -B2 -A25 -E '^==[0-9]+== (Invalid|Conditional|Use of|Syscall param|[0-9,]+ bytes in .* definitely)' \
		"$T"/vg/*.log | head -80 | sed 's/^/    # /'
fi
echo "# errors during the soak: $ERRORS"
check_eq "errors during the soak" "$ERRORS" 0
e2e_finish
