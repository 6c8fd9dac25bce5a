#!/bin/bash
# Soak: SOAK_MINUTES (default 30) of traffic between two real daemons, per
# mode, while everything that replaces state happens over and over:
# sessions rekey every 10 s (rekey_after = 10), alice roams to a new
# underlay address and back, bob goes down and up, alice is restarted.
# After each event the tunnel must carry a ping within 60 s and a 512 KB
# file each way intact. Modes (SOAK_MODES, default "asan valgrind"):
#   asan      every daemon built with ASan/UBSan (SOAK_ASAN_O, default
#             build-asan; built here with `make asan`'s flags);
#   valgrind  alice's and bob's daemons under valgrind memcheck, from a
#             build of their own (SOAK_VALGRIND_O, default
#             build-soak-valgrind) made with -DQ2Q_SANDBOX_OFF_ALLOWED;
#             valgrind cannot run code under the seccomp filters, and
#             q2qd's parts are forked, not executed, so it runs all three:
#             those two daemons start with Q2Q_TEST_NO_SECCOMP=1
#             (tund/priv/sandbox.h), in this mode only.
#   plain     every daemon from an ordinary -O2 build (SOAK_PLAIN_O,
#             default build-soak-plain): the run whose RSS means what it
#             says, since no checker holds freed memory.
# Reports per mode: cycles and events done, errors (failed recoveries,
# corrupt copies, sanitizer or valgrind reports: must be 0), and the RSS of
# bob's engine and the authority's engine (one process each for the whole
# run), sampled after every event: at start, after the first fifth of the
# run (warm: every kind of event has happened), its maximum and at the end;
# alice's at start and end (restarted every fourth event).
# Read RSS with the checkers in mind: ASan holds freed memory in a
# quarantine (256 MB by default; this mode sets ASAN_OPTIONS
# quarantine_size_mb=4, SOAK_ASAN_QUARANTINE_MB, so it fills within the
# first minutes) and valgrind in a free list (20 MB), so RSS grows under
# both until those fill; leaks are what LeakSanitizer and valgrind's
# definite-leak check report at exit, and those count as errors. Flat RSS
# is judged on the plain run.
#
#              wan bridge (192.0.2.0/24)
#      +-------------+--------------------+
#      |             |                    |
#   auth .10    alice .11 <-> .21      bob .12
#                  (roams)
#
# Root (network namespaces). tests/soak/soak.sh; SOAK_MINUTES=3 for a check.
cd "$(dirname "$0")/../.." || exit 1
: "${O:=build}"
MINUTES=${SOAK_MINUTES:-30}
MODES=${SOAK_MODES:-asan valgrind plain}
ASAN_O=${SOAK_ASAN_O:-build-asan}
ASAN_CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer"
[ "$(id -u)" = 0 ] || { echo "soak: skipped: needs root (network namespaces)"; echo "0 passed, 0 failed, 1 skipped"; exit 0; }

total_fail=0
for mode in $MODES; do
	case $mode in
	asan)
		make --no-print-directory -j2 O="$ASAN_O" CFLAGS="$ASAN_CFLAGS" all >/tmp/q2q-soak-build.$$ 2>&1 ||
			{ tail -20 /tmp/q2q-soak-build.$$; rm -f /tmp/q2q-soak-build.$$; exit 1; }
		rm -f /tmp/q2q-soak-build.$$
		export ASAN_OPTIONS="quarantine_size_mb=${SOAK_ASAN_QUARANTINE_MB:-4}${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
		bo=$ASAN_O ;;
	plain)
		bo=${SOAK_PLAIN_O:-build-soak-plain}
		echo "== soak: building $bo (-O2 -g)"
		make --no-print-directory -j2 O="$bo" CFLAGS="-O2 -g" all >/dev/null ||
			{ echo "soak plain: FAILED (build of $bo)"; total_fail=$((total_fail + 1)); continue; } ;;
	valgrind)
		command -v valgrind >/dev/null || { echo "soak valgrind: FAILED (apt-get install valgrind)"; total_fail=$((total_fail + 1)); continue; }
		# Only a build made for it honours Q2Q_TEST_NO_SECCOMP.
		bo=${SOAK_VALGRIND_O:-build-soak-valgrind}
		echo "== soak: building $bo (-DQ2Q_SANDBOX_OFF_ALLOWED)"
		make --no-print-directory -j2 O="$bo" CFLAGS="-O2 -g -DQ2Q_SANDBOX_OFF_ALLOWED" all >/dev/null ||
			{ echo "soak valgrind: FAILED (build of $bo)"; total_fail=$((total_fail + 1)); continue; } ;;
	*)
		echo "soak: unknown mode '$mode' (asan, valgrind, plain)"; exit 2 ;;
	esac
	echo "== soak: $mode, $MINUTES min (daemons from $bo)"
	O=$bo SOAK_MODE=$mode SOAK_MINUTES=$MINUTES bash tests/soak/soak-run.sh
	rc=$?
	[ $rc = 0 ] || total_fail=$((total_fail + 1))
done
echo "soak: $([ $total_fail = 0 ] && echo ok || echo FAILED)"
[ $total_fail = 0 ]
