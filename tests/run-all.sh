#!/bin/bash
# Runs every test: the unit tests (no root needed), then each end-to-end
# test in tests/e2e/ (root: network namespaces). Adds up the counts and
# ends with "N passed, N failed, N skipped".
O=${1:-build}
export O
cd "$(dirname "$0")/.." || exit 1
pass=0; fail=0; skip=0
log=$(mktemp /tmp/q2q-tests.XXXXXX)

add_counts() {	# adds the last "N passed, N failed[, N skipped]" line of $log
	local line re='([0-9]+) passed, ([0-9]+) failed(, ([0-9]+) skipped)?'
	line=$(grep -E "$re" "$log" | tail -1)
	if ! [[ $line =~ $re ]]; then
		echo "  (no result line: counted as one failure)"
		fail=$((fail + 1)); return
	fi
	pass=$((pass + BASH_REMATCH[1]))
	fail=$((fail + BASH_REMATCH[2]))
	skip=$((skip + ${BASH_REMATCH[4]:-0}))
}

echo "== unit tests"
tests/unit/run.sh "$O"/tests/test_* 2>&1 | tee "$log"
add_counts

# The same unit tests and one end-to-end test again under AddressSanitizer
# and UBSan: memory errors fail the run even when behaviour looks right.
echo "== unit tests (ASan/UBSan build)"
if make --no-print-directory asan >"$log.build" 2>&1; then
	tests/unit/run.sh build-asan/tests/test_* 2>&1 | tee "$log"
	add_counts
else
	tail -20 "$log.build"
	echo "  (sanitizer build failed: counted as one failure)"
	fail=$((fail + 1))
fi
rm -f "$log.build"

# Coverage-guided fuzzing of every parser of untrusted bytes, briefly.
echo "== fuzz targets (${FUZZ_SECONDS:-10} s each)"
FUZZ_SECONDS=${FUZZ_SECONDS:-10} tests/fuzz/run.sh "$O/fuzz" 2>&1 | tee "$log"
add_counts

if [ "$(id -u)" != 0 ]; then
	echo "== end-to-end tests skipped: they need root (network namespaces)"
	skip=$((skip + 1))
else
	for t in tests/e2e/*.sh; do
		case "$(basename "$t")" in *lib.sh) continue ;; esac
		echo "== $t"
		start=$(date +%s)
		timeout 1200 bash "$t" 2>&1 | tee "$log"
		echo "   ($(( $(date +%s) - start )) s)"
		add_counts
	done
	echo "== tests/e2e/overlay.sh with sanitizer-built daemons"
	O=build-asan timeout 1200 bash tests/e2e/overlay.sh 2>&1 | tee "$log"
	add_counts
fi
rm -f "$log"
echo
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
