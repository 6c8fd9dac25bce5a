#!/bin/bash
# Idle memory of a node with no peers (bench/README.md, scale figures): an
# authority and one node in namespaces; the node enrolls, comes up and
# registers, then sits idle for IDLE_S seconds (default 10). Prints, per
# process of the node (the privileged part and the engine), RSS, PSS
# (shared library pages divided among the processes that map them) and
# private memory (what this process alone holds), from
# /proc/PID/smaps_rollup. Figures, not a test.
#
#      wan bridge (192.0.2.0/24)
#      +-------------+
#   auth .10      node .11
#
#   bench/idle-rss.sh [BUILD_DIR]      (root; default build)
cd "$(dirname "$0")/.." || exit 1
O=${1:-${O:-build}}
. tests/e2e/lib.sh
e2e_init idle-rss
IDLE_S=${IDLE_S:-10}

wan_up
host_add auth 192.0.2.10/24
host_add node 192.0.2.11/24
q2qd_conf auth 'authority = { domain = "example.com"; listen = "0.0.0.0:8788"; };'
q2qd_conf node
q2qd_start auth || exit 1
q2qd_start node || exit 1
ovl_enroll node node@example.com auth 192.0.2.10 >/dev/null || { echo "idle-rss: enroll failed"; exit 1; }
ctl node up >/dev/null || exit 1
registered() { [ "$(ctl node status --json | jq_get authority_link)" = registered ]; }
wait_for 60 registered || { echo "idle-rss: the node did not register"; exit 1; }
sleep "$IDLE_S"

mem() {	# mem PID: "RSS PSS PRIVATE" in KiB
	awk '$1 == "Rss:" { r = $2 } $1 == "Pss:" { p = $2 }
	     $1 == "Private_Clean:" || $1 == "Private_Dirty:" { v += $2 }
	     END { print r, p, v }' "/proc/$1/smaps_rollup"
}
printf '%-28s %9s %9s %12s\n' "node, idle, no peers" "RSS KiB" "PSS KiB" "private KiB"
for part in priv engine; do
	case $part in
	priv) pid=$(cat "$T/node/pid") ;;
	engine) pid=$(q2qd_engine node) ;;
	esac
	set -- $(mem "$pid")
	printf '%-28s %9s %9s %12s\n' "q2qd ($part)" "$1" "$2" "$3"
done
# Where the engine's memory is, mapping by mapping (/proc/PID/smaps),
# summed by what is mapped: each library, the heap, anonymous mappings
# (thread stacks, malloc's per-thread arenas, large allocations), the
# stack. Shared library pages count fully in RSS but are divided in PSS.
echo
echo "q2qd (engine) by mapping, largest RSS first (KiB):"
awk '/^[0-9a-f]+-[0-9a-f]+ / { name = NF >= 6 ? $6 : "[anonymous]"; sub(".*/", "", name); next }
	$1 == "Rss:" { r[name] += $2 } $1 == "Pss:" { p[name] += $2 }
	$1 == "Private_Clean:" || $1 == "Private_Dirty:" { v[name] += $2 }
	END { for (n in r) if (r[n]) printf "%9d %9d %12d  %s\n", r[n], p[n], v[n], n }' \
	"/proc/$(q2qd_engine node)/smaps" | sort -rn | head -"${TOP:-16}" |
	awk 'BEGIN { printf "%9s %9s %12s  %s\n", "RSS", "PSS", "private", "mapping" } { print }'
echo "threads: $(ls /proc/"$(q2qd_engine node)"/task | wc -l)"
e2e_finish >/dev/null
