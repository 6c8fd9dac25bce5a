#!/bin/sh
# Runs each unit-test binary given and adds up their RESULT lines.
# Prints "unit: N passed, N failed" and exits non-zero if any test failed.
pass=0; fail=0
for t in "$@"; do
	out=$("$t" 2>&1); rc=$?
	res=$(printf '%s\n' "$out" | awk '/^RESULT /{print $2, $3}' | tail -1)
	if [ -z "$res" ]; then
		printf '%s\n' "$out"
		echo "not ok $(basename "$t") (crashed, exit $rc)"
		fail=$((fail + 1)); continue
	fi
	p=${res% *}; f=${res#* }
	{ [ "$f" -gt 0 ] || [ $rc -ne 0 ]; } && printf '%s\n' "$out" | grep -v '^ok '
	echo "$(basename "$t"): $p passed, $f failed"
	pass=$((pass + p)); fail=$((fail + f))
done
echo "unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
