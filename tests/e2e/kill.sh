#!/bin/bash
# SIGKILL at random points of a daemon's life: enrolling, coming up and
# handshaking, renewing, under traffic, and the authority while it enrolls
# or renews a node. After each kill: no process or q2q0 left, the key and
# certificate are an old or a new matching pair, the trust store and the
# registry parse, q2qd -n accepts the config, the daemon starts again,
# answers status, and (enrolling again if the kill came before the
# certificate was saved) comes up and pings its peer.
#
#                   wan bridge (192.0.2.0/24)
#      +-------------------+-------------------+
#   auth .10            alice .11            bob .12
#   example.com         killed node          steady peer
#
# KILL_SEED replays a run (the seed is printed); KILL_ROUNDS sets how many.
. "$(dirname "$0")/lib.sh"
e2e_init kill

SEED=${KILL_SEED:-$(( $(date +%s%N) % 32768 ))}
ROUNDS=${KILL_ROUNDS:-15}
RANDOM=$SEED
echo "# kill.sh: KILL_SEED=$SEED KILL_ROUNDS=$ROUNDS"

wan_up
host_add auth 192.0.2.10/24
host_add alice 192.0.2.11/24
host_add bob 192.0.2.12/24
ovl_pair || exit 1
FP=$(ctl auth status --json | jq_get authority_service.ca_fingerprint)
ovl_pair_up || { e2e_finish; exit 1; }
check "alice pings bob" wait_for 10 ovl_ping alice "$B4"
# iperf3_server: a fresh iperf3 server on bob (one that served a client
# killed mid-test may still wait on that connection).
iperf3_server() {
	local pid
	pid=$(cat "$T/iperf3.pid" 2>/dev/null) && { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
	ip netns exec "$PFX-bob" iperf3 -s >/dev/null 2>&1 &
	echo $! > "$T/iperf3.pid"
	wait_for 5 ovl_listening bob 5201
}

# kill_all NAME: SIGKILL to every part of NAME's q2qd at once (the
# privileged part, the engine and, on the authority, the CA process).
kill_all() {
	local pid kids
	pid=$(cat "$T/$1/pid")
	kids=$(pgrep -P "$pid")
	kill -9 "$pid" $kids 2>/dev/null
	wait "$pid" 2>/dev/null
	rm -f "$T/$1/pid"
}
# rand_sleep MAX: sleeps a random time below MAX ms.
rand_sleep() { local ms=$((RANDOM % $1)); echo "$ms" > "$T/delay"; sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"; }

# node_files_ok NAME: the key and certificate are absent, a lone key, or a
# pair whose public keys match; the trust store's files parse.
node_files_ok() {
	local d=$T/$1/state f
	if [ -e "$d/node/key.der" ]; then
		openssl pkey -in "$d/node/key.der" -noout || { echo "key does not parse"; return 1; }
	fi
	if [ -e "$d/node/cert.der" ]; then
		[ -e "$d/node/key.der" ] || { echo "certificate without key"; return 1; }
		openssl x509 -inform DER -in "$d/node/cert.der" -noout || { echo "cert does not parse"; return 1; }
		[ "$(openssl x509 -inform DER -in "$d/node/cert.der" -noout -pubkey)" = \
		  "$(openssl pkey -in "$d/node/key.der" -pubout)" ] || { echo "cert does not match key"; return 1; }
		python3 -c 'import json,sys; json.load(open(sys.argv[1]))["authority"]' "$d/node/node.json" ||
			{ echo "node.json does not parse"; return 1; }
	fi
	for f in "$d"/trust/*.der; do
		[ -e "$f" ] || continue
		openssl x509 -inform DER -in "$f" -noout || { echo "$f does not parse"; return 1; }
	done
	for f in "$d"/trust/*.pin; do
		[ -e "$f" ] || continue
		grep -Eqx '[0-9a-f]{64}' "$f" || { echo "$f is not a fingerprint"; return 1; }
	done
}
# registry_ok: a copy of the authority's registry (with its WAL) passes
# SQLite's integrity check; the copy keeps sqlite3 off the live files.
registry_ok() {
	local d=$T/auth/state/authority c=$T/regcopy
	rm -rf "$c"; mkdir -p "$c"
	cp "$d/registry.db" "$c/" || return 1
	[ -e "$d/registry.db-wal" ] && cp "$d/registry.db-wal" "$c/"
	[ "$(sqlite3 "$c/registry.db" 'PRAGMA integrity_check')" = ok ]
}
# check_registry WHAT: registry_ok, or a skip without the sqlite3 CLI.
check_registry() {
	if command -v sqlite3 >/dev/null; then check "$1" registry_ok; else skip "$1 (no sqlite3 CLI)"; fi
}
# no_leftovers NAME: no process in NAME's namespace, no q2q0.
no_leftovers() {
	[ -z "$(ip netns pids "$PFX-$1")" ] || { echo "left: $(ip netns pids "$PFX-$1" | xargs ps -o pid,comm -p)"; return 1; }
	ovl_no_link "$1" q2q0
}
# alice_works: alice is enrolled (enrolling again with a new token if the
# kill left her without a certificate), comes up and pings bob.
alice_works() {
	if [ "$(ctl alice status --json | jq_get enrolled)" != True ]; then
		echo "alice is not enrolled after the kill: enrolling again"
		ovl_enroll alice alice@example.com auth 192.0.2.10:8788 || return 1
	fi
	ctl alice up && wait_for 15 ovl_ping alice "$B4"
}

# Each phase repeats its operation until the kill ends it, so that a kill
# at a random time lands inside one (an enrollment takes milliseconds);
# phase.out counts the operations that completed.
enroll_loop() {
	local tok
	while tok=$(ctl auth invite alice@example.com) &&
		ctl alice enroll alice@example.com --authority 192.0.2.10:8788 --token "$tok" \
			--ca-fingerprint "$FP"; do :; done
}
renew_loop() { while ctl alice renew; do :; done; }
up_loop() {
	while ctl alice down && ctl alice up && wait_for 5 ovl_ping alice "$B4"; do echo "pinged"; done
}
PHASES=(enroll up renew traffic auth-enroll auth-renew)
for ((r = 1; r <= ROUNDS; r++)); do
	phase=${PHASES[$(((r - 1) % ${#PHASES[@]}))]}
	victim=alice
	win=1000
	case $phase in
	enroll) enroll_loop >"$T/phase.out" 2>&1 & ;;
	up) up_loop >"$T/phase.out" 2>&1 & win=2000 ;;
	renew) renew_loop >"$T/phase.out" 2>&1 & ;;
	traffic)
		iperf3_server
		(nsx alice timeout 8 iperf3 -c "$B4" -t 3 -i 0.5) >"$T/phase.out" 2>&1 &
		win=3000 ;;
	auth-enroll) victim=auth; enroll_loop >"$T/phase.out" 2>&1 & ;;
	auth-renew) victim=auth; renew_loop >"$T/phase.out" 2>&1 & ;;
	esac
	job=$!
	rand_sleep $win
	kill_all $victim
	wait $job
	echo "# round $r: $phase, $victim killed after $(cat "$T/delay") ms; $(grep -cE '^(enrolled|renewed|pinged)|sec +[0-9.]+ [KMG]Bytes' "$T/phase.out") operations (or iperf3 intervals with data) done; the last: $(tail -1 "$T/phase.out")"
	if [ $victim = alice ]; then
		check "round $r ($phase): nothing of alice's q2qd is left" wait_for 5 no_leftovers alice
		check "round $r ($phase): alice's key, certificate and trust store are whole" node_files_ok alice
	else
		check "round $r ($phase): nothing of the authority's q2qd is left" \
			wait_for 5 bash -c "[ -z \"\$(ip netns pids $PFX-auth)\" ]"
		check_registry "round $r ($phase): the registry passes the integrity check"
		check "round $r ($phase): alice's key, certificate and trust store are whole" node_files_ok alice
	fi
	check "round $r ($phase): q2qd -n accepts $victim's config" \
		bash -c "'$BIN/q2qd' -n -c '$T/$victim/q2qd.conf' | grep -q 'configuration OK'"
	check "round $r ($phase): $victim's q2qd starts again" q2qd_start $victim
	check "round $r ($phase): $victim answers status --json" bash -c "ctl $victim status --json | jq_get enrolled"
	if [ $victim = auth ]; then
		check_eq "round $r ($phase): the authority keeps its CA" \
			"$(ctl auth status --json | jq_get authority_service.ca_fingerprint)" "$FP"
		check "round $r ($phase): the authority renews alice again" ctl alice renew
	fi
	check "round $r ($phase): alice comes up and pings bob" alice_works
done

# A kill between the new key's rename and the certificate's during an
# enrollment leaves a key without certificate (the old certificate is
# removed first): the node starts unenrolled, says to enroll, and does.
q2qd_stop alice
# A key that is not the certificate's (what writing the new key before
# removing the old certificate used to leave) is refused, naming why.
cp -p "$T/alice/state/node/key.der" "$T/alice-key.keep"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -outform PEM \
	-out "$T/alice/state/node/key.der" 2>/dev/null
out=$(ip netns exec "$PFX-alice" timeout 20 setpriv --bounding-set=-all,+net_admin,+setuid,+setgid,+setpcap \
	--inh-caps=-all --no-new-privs "$BIN/q2qd" -u q2q -c "$T/alice/q2qd.conf" 2>&1); rc=$?
check "a certificate beside another key is refused at start (exit 1, says why)" \
	bash -c "[ $rc = 1 ] && grep -q 'certificate does not match the node' <<<\"\$0\"" "$out"
cp -p "$T/alice-key.keep" "$T/alice/state/node/key.der"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -outform PEM \
	-out "$T/alice/state/node/key.der" 2>/dev/null
rm -f "$T/alice/state/node/cert.der"
check "a key without certificate: alice starts" q2qd_start alice
check_eq "a key without certificate: alice is not enrolled" "$(ctl alice status --json | jq_get enrolled)" False
out=$(ctl alice up 2>&1); rc=$?
check "a key without certificate: up fails and says to enroll" \
	bash -c "[ $rc != 0 ] && grep -qi enroll <<<\"\$0\"" "$out"
check "a key without certificate: alice enrolls again, comes up and pings bob" alice_works

kill "$(cat "$T/iperf3.pid")" 2>/dev/null
check_registry "the registry passes the integrity check at the end"
check "bob never lost his state" node_files_ok bob
e2e_finish
