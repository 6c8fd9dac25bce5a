#!/bin/bash
# An authority under NODES registered nodes (default 4000) that look each
# other up for SECS seconds (default 20): bench/scale_authority, one
# generator per GEN_NODES nodes (default 250; the authority admits 256
# connections per source address), each in its own namespace with its own
# address. All generators register first; then all look up during the
# same SECS (they wait for one file), while this script reads the
# authority's CPU time, so the figure "per CPU-second" is what one core of
# the authority answers however much of it the loaded machine gave it.
# ACTIVE=N: only N nodes of each generator look up (light load; latency
# without queueing), the rest are there to be found and asked.
# Prints each generator's figures, their sum, broker latency over all
# samples, and the authority's RSS idle, with every node registered, and
# per node. Figures, not a test (bench/README.md).
#
#              wan bridge (192.0.2.0/24)
#      +-------------+-----------+-----  ...  -----+
#   auth .10      gen1 .101   gen2 .102         genK
#   example.com   GEN_NODES nodes each
#
#   bench/authority-scale.sh [BUILD_DIR]   (root; make O=BUILD_DIR bench first)
cd "$(dirname "$0")/.." || exit 1
O=${1:-${O:-build}}
. tests/e2e/lib.sh
e2e_init authority-scale
NODES=${NODES:-4000}
SECS=${SECS:-20}
GEN_NODES=${GEN_NODES:-250}
DEPTH=${DEPTH:-4}
[ -x "$BIN/bench/scale_authority" ] || { echo "authority-scale: run make O=$O bench first"; exit 1; }

wan_up
host_add auth 192.0.2.10/24
q2qd_conf auth 'authority = { domain = "example.com"; listen = "0.0.0.0:8788"; };'
# lib.sh's daemons log at debug level, which writes a line per lookup; an
# authority in service logs at info.
sed -i 's/^log_level = "debug";$/log_level = "info";/' "$T/auth/q2qd.conf"
q2qd_start auth || exit 1
CADIR=$(dirname "$(find "$T/auth" -name ca.key | head -1)")
[ -d "$CADIR" ] || { echo "authority-scale: no CA key under $T/auth"; exit 1; }
ENGINE=$(q2qd_engine auth)
rss() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$ENGINE/status"; }
# cpu_ticks: the engine's user + system time in clock ticks
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$ENGINE/stat"; }
RSS_IDLE=$(rss)
K=$(( (NODES + GEN_NODES - 1) / GEN_NODES ))
for ((i = 1; i <= K; i++)); do host_add gen$i 192.0.2.$((100 + i))/24; done
[ -n "${ACTIVE:-}" ] && export SCALE_ACTIVE=$ACTIVE
# The authority evicts handshakes beyond 256 unauthenticated at once: the
# generators together stay under it.
C=$(( 240 / K )); [ "$C" -gt 8 ] && C=8; [ "$C" -lt 1 ] && C=1
export SCALE_CONNECTING=$C
pids=()
for ((i = 1; i <= K; i++)); do
	n=$(( i < K ? GEN_NODES : NODES - (K - 1) * GEN_NODES ))
	SCALE_GO=$T/go SCALE_LAT=$T/lat$i ip netns exec "$PFX-gen$i" "$BIN/bench/scale_authority" \
		192.0.2.10:8788 "$CADIR" "$n" "$SECS" $(( (i - 1) * GEN_NODES )) "$DEPTH" \
		>"$T/gen$i.out" 2>&1 &
	pids+=($!)
done
# all_registered: every generator has reported its registrations (or died)
all_registered() {
	local i
	for ((i = 1; i <= K; i++)); do
		grep -q '^registered:' "$T/gen$i.out" || ! kill -0 "${pids[i-1]}" 2>/dev/null || return 1
	done
}
wait_for 300 all_registered || echo "authority-scale: not every generator registered in 300 s"
RSS_REG=$(rss)
REG=$(cat "$T"/gen*.out | awk '/^registered:/ { r += $2 } END { print r + 0 }')
LOAD0=$(cut -d' ' -f1 /proc/loadavg)
touch "$T/go"
sleep 1	# the generators' warm-up second
C0=$(cpu_ticks)
sleep "$SECS"
C1=$(cpu_ticks)
LOAD1=$(cut -d' ' -f1 /proc/loadavg)
for p in "${pids[@]}"; do wait "$p"; done
cat "$T"/gen*.out | sed 's/^/# /' | head -12
HZ=$(getconf CLK_TCK)
awk -v c="$(( C1 - C0 ))" -v hz="$HZ" -v secs="$SECS" '
	/^registered:/ { r += $2 } /^lookups answered/ { split($5, a, "/"); l += a[1] }
	END { cpu = c / hz
	      printf "all generators: %d nodes registered, %d lookups/s answered\n", r, l
	      printf "authority engine CPU while measuring: %.2f s of %d s (%.0f%% of a core): %.0f lookups per CPU-second\n",
		cpu, secs, 100 * cpu / secs, (cpu > 0 ? l * secs / cpu : 0) }' "$T"/gen*.out
cat "$T"/lat* 2>/dev/null | sort -n | awk '{ v[NR] = $1 } END {
	if (NR) printf "broker latency over all %d samples: median %d ms, p90 %d ms, p99 %d ms\n",
		NR, v[int(NR * 0.5) + 1], v[int(NR * 0.9) + 1], v[int(NR * 0.99) + 1] }'
echo "authority engine RSS: $RSS_IDLE KiB idle, $RSS_REG KiB with $REG nodes registered" \
	"($(( REG > 0 ? (RSS_REG - RSS_IDLE) * 1024 / REG : 0 )) bytes per node), $(rss) KiB at the end"
echo "load average (1 min) at the start and end of the measured seconds: $LOAD0, $LOAD1"
ctl auth status --json | jq_get authority_service.admission
