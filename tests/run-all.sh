#!/bin/bash
# Runs every test: the unit tests (no root needed), then each end-to-end
# test in tests/e2e/ (root: network namespaces). Adds up the counts and
# ends with "N passed, N failed, N skipped".
O=${1:-build}
export O
cd "$(dirname "$0")/.." || exit 1
pass=0; fail=0; skip=0
log=$(mktemp /tmp/q2q-tests.XXXXXX)

add_counts() {	# reads "N passed, N failed[, N skipped]" from the last such line of $log
	local line
	line=$(grep -E '^[a-z: ]*[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
	if [ -z "$line" ]; then
		echo "  (no result line: counted as one failure)"
		fail=$((fail + 1)); return
	fi
	pass=$((pass + $(sed -E 's/.*[^0-9]?([0-9]+) passed.*/\1/' <<<"$line")))
	fail=$((fail + $(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")))
	if grep -q skipped <<<"$line"; then
		skip=$((skip + $(sed -E 's/.* ([0-9]+) skipped.*/\1/' <<<"$line")))
	fi
}

echo "== unit tests"
tests/unit/run.sh "$O"/tests/test_* 2>&1 | tee "$log"
add_counts

if [ "$(id -u)" != 0 ]; then
	echo "== end-to-end tests skipped: they need root (network namespaces)"
	skip=$((skip + 1))
else
	for t in tests/e2e/*.sh; do
		[ "$(basename "$t")" = lib.sh ] && continue
		echo "== $t"
		start=$(date +%s)
		timeout 900 bash "$t" 2>&1 | tee "$log"
		echo "   ($(( $(date +%s) - start )) s)"
		add_counts
	done
fi
rm -f "$log"
echo
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
