#!/bin/bash
# An authority under NODES registered nodes (default 4000) that look each
# other up for SECS seconds (default 20): bench/scale_authority, one
# generator per GEN_NODES nodes (default 250; the authority admits 256
# connections per source address), each in its own namespace with its own
# address. Prints each generator's figures and their sum. Figures, not a
# test (bench/README.md).
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
q2qd_start auth || exit 1
CADIR=$(dirname "$(find "$T/auth" -name ca.key | head -1)")
[ -d "$CADIR" ] || { echo "authority-scale: no CA key under $T/auth"; exit 1; }
K=$(( (NODES + GEN_NODES - 1) / GEN_NODES ))
for ((i = 1; i <= K; i++)); do host_add gen$i 192.0.2.$((100 + i))/24; done
pids=()
for ((i = 1; i <= K; i++)); do
	n=$(( i < K ? GEN_NODES : NODES - (K - 1) * GEN_NODES ))
	ip netns exec "$PFX-gen$i" "$BIN/bench/scale_authority" 192.0.2.10:8788 "$CADIR" "$n" "$SECS" \
		$(( (i - 1) * GEN_NODES )) "$DEPTH" >"$T/gen$i.out" 2>&1 &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
cat "$T"/gen*.out | sed 's/^/# /' | head -12
awk '/^registered:/ { r += $2 } /^lookups answered/ { split($5, a, "/"); l += a[1] }
	END { printf "all generators: %d nodes registered, %d lookups/s answered\n", r, l }' "$T"/gen*.out
echo "authority engine CPU: $(ps -o times= -p "$(q2qd_engine auth)") s in all; RSS $(awk '$1 == "VmRSS:" { print $2 }' /proc/"$(q2qd_engine auth)"/status) KiB"
ctl auth status --json | jq_get authority_service.admission
