#!/bin/bash
# The data path on several threads (workers = 2) and on the loop thread
# alone (workers = 1): files copied both ways arrive intact while the
# sessions are rekeyed every 10 s under them, every thread sealed and
# opened packets (`q2qctl status --json`'s worker_packets), no datagram
# failed to authenticate, and ping answers. Then the same pair restarted
# with one thread.
#
#              wan bridge (192.0.2.0/24)
#      +-------------+-------------+
#      |             |             |
#   auth .10      alice .11     bob .12
#                 q2q0 ======== q2q0    TCP copies both ways, rekey_after = 10
. "$(dirname "$0")/lib.sh"
e2e_init workers
MB=${MB:-24}

wan_up
host_add auth 192.0.2.10/24
host_add alice 192.0.2.11/24
host_add bob 192.0.2.12/24
head -c $((MB << 20)) /dev/urandom > "$T/file.a"
head -c $((MB << 20)) /dev/urandom > "$T/file.b"

# status_field NODE FIELD: a field of NODE's `q2qctl status --json`.
status_field() { ctl "$1" status --json | jq_get "$2"; }
sessions() { grep -c "session with bob@example.com" "$T/alice/log"; }

# copies W: files both ways until alice has made two new sessions with
# bob (two rekeys under the copies), at most 90 s; every copy intact.
copies() {
	local w=$1 s0 end i=0 bad=0
	s0=$(sessions)
	end=$((SECONDS + 90))
	while [ $((SECONDS)) -lt $end ] && [ $(($(sessions) - s0)) -lt 2 ]; do
		i=$((i + 1))
		tcp_copy alice bob "$B4" 5201 "$T/file.a" "$T/got.b" >"$T/copy.out" 2>&1 || { bad=$((bad + 1)); cat "$T/copy.out"; }
		tcp_copy bob alice "$A4" 5202 "$T/file.b" "$T/got.a" >"$T/copy.out" 2>&1 || { bad=$((bad + 1)); cat "$T/copy.out"; }
	done
	check_eq "workers=$w: $i rounds of two ${MB} MB copies, every sha256 equal" "$bad" 0
	check "workers=$w: two rekeys happened during the copies ($s0 -> $(sessions) sessions)" test $(($(sessions) - s0)) -ge 2
}

# threads W: both nodes run W data-path threads, and each did its share.
threads() {
	local w=$1 n k pk
	for n in alice bob; do
		check_eq "workers=$w: $n's status says $w threads" "$(status_field $n workers)" "$w"
		for ((k = 0; k < w; k++)); do
			pk=$(status_field $n worker_packets.$k)
			if [ "$w" -gt 1 ]; then
				check "workers=$w: $n's thread $k sealed or opened packets ($pk)" test "${pk:-0}" -gt 0
			fi
		done
		check_eq "workers=$w: $n dropped no datagram as forged" "$(status_field $n drops_auth)" 0
	done
}

ovl_pair "" "workers = 2; rekey_after = 10;" "workers = 2; rekey_after = 10;" || exit 1
ovl_pair_up || { e2e_finish; exit 1; }
check "workers=2: alice pings bob" wait_for 15 ovl_ping alice "$B4"
copies 2
threads 2
check "workers=2: bob pings alice after the copies" wait_for 10 ovl_ping bob "$A4"

# The same pair, each restarted with the loop thread alone; both were up,
# so both come back up.
for n in alice bob; do
	q2qd_stop $n
	q2qd_conf $n 'port = 8789;' "workers = 1; rekey_after = 10;"
	q2qd_start $n || exit 1
done
check "workers=1: alice resolves bob again" wait_for 20 ctl alice resolve bob@example.com
check "workers=1: alice pings bob" wait_for 20 ovl_ping alice "$B4"
copies 1
threads 1
check_eq "workers=1: no packet went through a batch" "$(status_field alice worker_packets.0)" 0
check "workers=1: bob pings alice after the copies" wait_for 10 ovl_ping bob "$A4"

e2e_finish
