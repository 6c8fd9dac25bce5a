#!/bin/bash
# Regenerates the committed seed inputs in tests/fuzz/corpus/<target>/: each
# target, run with Q2Q_FUZZ_SEEDS=dir, writes a few valid inputs built with
# the library's own builders (so the seeds follow the formats when they
# change) and exits. Needs what tests/fuzz/run.sh needs (clang, libFuzzer).
#   tests/fuzz/make-corpus.sh [OUTDIR] [TARGET...]
cd "$(dirname "$0")/../.." || exit 1
OUT=${1:-build-fuzz}
shift
targets=${*:-$(sed -n '/^TABLE="/,/^"/p' tests/fuzz/run.sh | awk 'NF > 1 { print $1 }')}
FUZZ_BUILD_ONLY=1 FUZZ_TARGETS="$targets" tests/fuzz/run.sh "$OUT" | grep -v -e ': built' -e ' passed, ' ; [ ${PIPESTATUS[0]} = 0 ] || exit 1
for t in $targets; do
	dir=tests/fuzz/corpus/$t
	rm -rf "$dir"
	mkdir -p "$dir"
	Q2Q_FUZZ_SEEDS=$dir "$OUT/fuzz_$t" || { echo "$t: seed mode failed"; exit 1; }
	echo "$t: $(ls "$dir" | wc -l) seeds, $(cat "$dir"/* | wc -c) bytes"
done
