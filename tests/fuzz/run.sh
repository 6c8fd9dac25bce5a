#!/bin/bash
# Builds the coverage-guided fuzz targets in tests/fuzz/ with clang
# (libFuzzer + AddressSanitizer + UBSan) and runs each for FUZZ_SECONDS
# (default 20) or FUZZ_RUNS executions, starting from the committed seeds
# in tests/fuzz/corpus/ and what earlier runs in OUTDIR found. Prints
# "fuzz_x: ok (N runs ...) in S s" or the crash with its input in hex, and
# ends with "N passed, N failed[, N skipped]".
#   tests/fuzz/run.sh [OUTDIR]      (default build-fuzz; make fuzz uses $(O)/fuzz)
#   FUZZ_SECONDS=60                 time per target
#   FUZZ_RUNS=10000000              executions per target instead (the
#                                   campaign `make fuzz` runs; with
#                                   FUZZ_SECONDS too, whichever comes first)
#   FUZZ_TARGETS="wire msg"         run only these
#   FUZZ_CC=clang-14                compiler (default: clang, then clang-14)
#   FUZZ_BUILD_ONLY=1               build the targets, run nothing
#   FUZZ_COVERAGE=1                 also report line/branch coverage per
#                                   library file (llvm-cov), after each run
# Inputs that found new coverage go to OUTDIR/corpus/<target>/ (never into
# the committed seeds); crashes to OUTDIR/crashes/.
cd "$(dirname "$0")/../.." || exit 1
OUT=${1:-build-fuzz}
SECS=${FUZZ_SECONDS:-20}
# A campaign is bounded by executions, and by time only if asked for.
LIMIT="-max_total_time=$SECS"
if [ -n "$FUZZ_RUNS" ]; then
	LIMIT="-runs=$FUZZ_RUNS"
	[ -n "$FUZZ_SECONDS" ] && LIMIT="$LIMIT -max_total_time=$SECS"
fi

# target  max_len  library sources it exercises, for the coverage report
# (identity/ means every identity/*.c)
TABLE="
wire      2048   netstack/wire.c
msg       4096   netstack/msg.c
authwire  2048   netstack/authwire.c
stream    1024   netstack/stream.c
cert      4096   identity/
certsig   2048   identity/
name      600    identity/name.c identity/addr.c
camsg     66000  tund/authority/camsg.c identity/addr.c
icmp      2048   routing/icmp.c
xlat4     2048   routing/xlat4.c
tso       9000   netstack/tso.c
gro       9000   netstack/gro.c netstack/tso.c
aead      10000  netstack/aead.c
privmsg   128    tund/priv/privmsg.c tund/priv/privpol.c
names     700    nss/wire.c nss/alias.c
ctl       4096   tund/ctl/request.c
config    8192   tund/conf/config.c
hs        8192   netstack/handshake.c netstack/stream.c
dnsrr     600    tund/node/dnsrr.c
mhttp     9000   tund/ctl/metrics_http.c
policy    9000   tund/policy/polmsg.c tund/policy/polset.c tund/policy/flow.c tund/policy/fw.c tund/policy/conntrack.c
revnews   4096   tund/node/revnews.c tund/node/revlist.c
frag      4096   netstack/frag.c
portmap   1200   tund/portmap/pcp.c tund/portmap/pmp.c tund/portmap/mapping.c
"

names=$(echo "$TABLE" | awk 'NF { print $1 }')
[ -n "$FUZZ_TARGETS" ] && names=$FUZZ_TARGETS
count=$(echo $names | wc -w)

skip_all() {
	echo "fuzz: skipped: $1"
	echo "0 passed, 0 failed, $count skipped"
	exit 0
}

CC=${FUZZ_CC:-}
if [ -z "$CC" ]; then
	for c in clang clang-14; do
		command -v "$c" >/dev/null 2>&1 && { CC=$c; break; }
	done
fi
[ -n "$CC" ] || skip_all "no clang (apt-get install clang-14 libclang-rt-14-dev)"
command -v "$CC" >/dev/null 2>&1 || skip_all "no compiler $CC"
mkdir -p "$OUT/corpus" "$OUT/crashes" || exit 1
# libFuzzer ships separately from clang on Debian (libclang-rt-14-dev).
echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { return !d + (int)n * 0; }' \
	>"$OUT/probe.c"
"$CC" -fsanitize=fuzzer,address,undefined -o "$OUT/probe" "$OUT/probe.c" \
	>"$OUT/probe.log" 2>&1 ||
	skip_all "$CC cannot link -fsanitize=fuzzer (install libclang-rt-14-dev)"

SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
PKGS="wolfssl libcrypto libmnl libconfig sqlite3 json-c libsystemd libseccomp miniupnpc"
CFLAGS="-std=gnu11 -g -O1 -fno-omit-frame-pointer $SAN -I. -D_GNU_SOURCE \
	-Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wno-unused-parameter $(pkg-config --cflags $PKGS 2>/dev/null)"
LIBS="$(pkg-config --libs $PKGS 2>/dev/null) -lnatpmp"

# The targets link the daemon's own library (the Makefile's libq2q.a, the
# same objects q2qd is made of), built once more with clang's coverage
# instrumentation and the sanitizers. The make output goes to a log.
LIB="$OUT/lib/libq2q.a"
lib() {
	make --no-print-directory -j2 O="$OUT/lib" CC="$CC" CI= \
		CFLAGS="-g -O1 -fno-omit-frame-pointer $SAN -fsanitize=fuzzer-no-link" "$LIB"
}
srcs_of() {	# a table row's sources, folders expanded
	local s
	for s in "$@"; do
		case $s in
		*/) ls "$s"*.c ;;
		*) echo "$s" ;;
		esac
	done
}

build() {	# build NAME
	# Warnings in the targets themselves are errors: they are ours.
	$CC $CFLAGS -Werror -fsanitize=fuzzer -o "$OUT/fuzz_$1" "tests/fuzz/fuzz_$1.c" "$LIB" $LIBS
}

# FUZZ_COVERAGE=1: line coverage of the library sources reached by the
# corpus (seeds + what this run found), from a separate instrumented build.
coverage() {	# coverage NAME SOURCES...
	local t=$1 d="$OUT/cov" prof srcs
	shift
	prof=$(command -v llvm-profdata-14 || command -v llvm-profdata)
	cov=$(command -v llvm-cov-14 || command -v llvm-cov)
	[ -n "$prof" ] && [ -n "$cov" ] || { echo "    (no llvm-cov: no coverage report)"; return; }
	srcs=$(srcs_of "$@")
	mkdir -p "$d"
	$CC -std=gnu11 -O1 -g -I. -D_GNU_SOURCE $(pkg-config --cflags wolfssl 2>/dev/null) \
		-fprofile-instr-generate -fcoverage-mapping -fsanitize=fuzzer \
		-o "$d/fuzz_$t" "tests/fuzz/fuzz_$t.c" $srcs $LIBS 2>/dev/null || return
	rm -f "$d/$t.profraw"
	LLVM_PROFILE_FILE="$d/$t.profraw" "$d/fuzz_$t" -runs=0 \
		"$OUT/corpus/$t" "tests/fuzz/corpus/$t" >/dev/null 2>&1
	"$prof" merge -o "$d/$t.profdata" "$d/$t.profraw" || return
	"$cov" report "$d/fuzz_$t" -instr-profile="$d/$t.profdata" $srcs |
		awk -v pwd="$PWD/" '$1 ~ /\.c$/ { sub(pwd, "", $1);
			printf "    %-22s lines %7s  branches %7s\n", $1, $10, $13 }'
}

pass=0; fail=0; skip=0
if ! lib >"$OUT/lib.log" 2>&1; then
	echo "fuzz: FAILED (building $LIB)"
	tail -20 "$OUT/lib.log" | sed 's/^/    /'
	echo "0 passed, $count failed, 0 skipped"
	exit 1
fi
for t in $names; do
	row=$(echo "$TABLE" | awk -v t="$t" '$1 == t')
	if [ -z "$row" ] || [ ! -f "tests/fuzz/fuzz_$t.c" ]; then
		echo "fuzz_$t: FAILED (no such target)"
		fail=$((fail + 1)); continue
	fi
	set -- $row
	maxlen=$2
	shift 2
	log="$OUT/fuzz_$t.log"
	if ! build "$t" >"$OUT/fuzz_$t.build.log" 2>&1; then
		echo "fuzz_$t: FAILED (build)"
		sed 's/^/    /' "$OUT/fuzz_$t.build.log" | tail -20
		fail=$((fail + 1)); continue
	fi
	if [ -n "$FUZZ_BUILD_ONLY" ]; then
		echo "fuzz_$t: built ($OUT/fuzz_$t)"
		pass=$((pass + 1)); continue
	fi
	mkdir -p "$OUT/corpus/$t" "tests/fuzz/corpus/$t"
	rm -f "$OUT/crashes/$t-"*
	# The first directory collects new inputs; the committed seeds are read
	# only. One process (no -jobs): the machine is shared.
	start=$(date +%s)
	cap=
	[ -z "$FUZZ_RUNS" ] || [ -n "$FUZZ_SECONDS" ] && cap="timeout $((SECS + 120))"
	# Per-target libFuzzer options, each with its reason in the target.
	extra=
	case $t in
	config) extra=-detect_leaks=0 ;;	# it checks leaks itself (fuzz_config.c)
	esac
	$cap "$OUT/fuzz_$t" $LIMIT $extra \
		-max_len="$maxlen" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$OUT/crashes/$t-" \
		"$OUT/corpus/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1)
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	if [ $rc = 0 ] && [ -n "$runs" ]; then
		echo "fuzz_$t: ok ($runs runs)  $cov, $eps exec/s, in $(( $(date +%s) - start )) s"
		pass=$((pass + 1))
		[ -n "$FUZZ_COVERAGE" ] && coverage "$t" "$@"
		continue
	fi
	echo "fuzz_$t: FAILED (exit $rc)"
	# The finding and the stack frames in our code, not libFuzzer's or libc's.
	grep -E 'ERROR|invariant failed|runtime error|SUMMARY|^ *#[0-9]+ .*[ /](tests|netstack|identity|routing|tund)/' "$log" |
		sed 's/ (BuildId: [0-9a-f]*)//' | head -30 | sed 's/^/    /'
	for a in "$OUT/crashes/$t-"*; do
		[ -f "$a" ] || continue
		echo "    reproduce: $OUT/fuzz_$t $a"
		echo "    input ($(stat -c %s "$a") bytes):"
		od -An -tx1 -v "$a" | head -40 | tr -s ' ' | sed 's/^/     /'
	done
	fail=$((fail + 1))
done
echo "$pass passed, $fail failed, $skip skipped"
[ $fail = 0 ]
