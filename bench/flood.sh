#!/bin/bash
# Goodput of an established q2q tunnel while a third host floods the
# receiver's data port for 20 s per kind (random bytes; HELLOs and HS with
# a valid mac1 from spoofed sources across 198.18.0.0/15 and in one IPv6
# /64; replays of a captured handshake), at 10,000 datagrams/s, as ratios
# against a baseline measured in the same run; also the handshake time of
# a new peer under each flood, COOKIEs per second to spoofed sources, the
# slowest `q2qctl status` and the engine's RSS. It runs
# tests/e2e/flood.sh (the topology is drawn there) with longer floods and
# prints its figures.
#
# Usage: sudo bench/flood.sh [BUILD_DIR]   (default build; FLOOD_SECS=20, RATE=10000)
# Figures only: the test's own floors are generous, this prints ratios.
HERE=$(cd "$(dirname "$0")" && pwd)
B=${1:-build}
case $B in /*) ;; *) B=$(cd "$HERE/.." && pwd)/$B ;; esac
out=$(O="$B" FLOOD_SECS=${FLOOD_SECS:-20} RATE=${RATE:-10000} bash "$HERE/../tests/e2e/flood.sh" 2>&1)
rc=$?
grep '^# figure:' <<<"$out" | sed 's/^# figure: //'
grep -E '^not ok|passed, .* failed' <<<"$out"
exit $rc
