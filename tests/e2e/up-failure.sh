#!/bin/bash
# A failed `q2qctl up` leaves nothing half-made: no q2q0, no routes, and a
# clear message naming what was in the way; once it is gone, up works.
#
#        wan bridge (192.0.2.0/24)
#      +-------------+
#      |             |
#   auth .10      alice .11   (UDP 8789 taken by another program)
#
. "$(dirname "$0")/lib.sh"
e2e_init upfail

wan_up
host_add auth 192.0.2.10/24
host_add alice 192.0.2.11/24
q2qd_conf auth 'authority = { domain = "example.com"; listen = "0.0.0.0:8788"; };'
q2qd_conf alice
for n in auth alice; do q2qd_start $n || exit 1; done
TOK=$(ctl auth invite alice@example.com 2>/dev/null)
check "alice enrolls" ctl alice enroll alice@example.com --authority 192.0.2.10 --token "$TOK"

out=$(ctl alice up 2>&1); rc=$?
check "up works" test $rc = 0
check "down" ctl alice down

# Another program holds alice's UDP port.
nsx alice python3 -c 'import socket,time
s=socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", 8789))
import os; open("'"$T"'/held","w").write(str(os.getpid())); time.sleep(60)' &
wait_for 10 test -s "$T/held"
out=$(ctl alice up 2>&1); rc=$?
check "up fails with exit 1 while the port is taken" test $rc = 1
check "the message names the port and the reason ($out)" bash -c "grep -q '8789' <<<\"$out\" && grep -qi 'in use' <<<\"$out\""
check "no q2q0 was left behind" bash -c "! nsx alice ip link show q2q0 >/dev/null 2>&1"
check "no route points at q2q0" bash -c "! nsx alice ip route show table all | grep -q q2q0"
check_eq "status says the overlay is down" "$(ctl alice status --json | jq_get up)" False
check "the daemon is still running" ctl alice status
kill "$(cat "$T/held")" 2>/dev/null
wait_for 10 bash -c "! nsx alice ss -Hlun 'sport = :8789' | grep -q ."
check "once the port is free, up works" ctl alice up
check "and q2q0 exists" nsx alice ip link show q2q0
e2e_finish
