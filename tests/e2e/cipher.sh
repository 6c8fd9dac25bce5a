#!/bin/bash
# The data cipher follows the TLS 1.3 suite both sides negotiated:
# AES-256-GCM when both hosts have AES hardware, ChaCha20-Poly1305 when
# either lacks it (bob's q2qd started with Q2Q_NO_HW_AES=1 plays a host
# without). In both cases both sides report the same cipher, pings are
# answered and a 4 MB file arrives intact both ways; a capture shows the
# file's marker never on the wire.
#
#              wan bridge (192.0.2.0/24)
#      +-------------+-------------+
#      |             |             |
#   auth .10      alice .11     bob .12
#
. "$(dirname "$0")/lib.sh"
e2e_init cipher

wan_up
host_add auth 192.0.2.10/24
host_add alice 192.0.2.11/24
host_add bob 192.0.2.12/24
q2qd_conf auth 'authority = { domain = "example.com"; listen = "0.0.0.0:8788"; };'
for n in alice bob; do q2qd_conf $n; done
for n in auth alice bob; do q2qd_start $n || exit 1; done
for n in alice bob; do
	ovl_enroll $n $n@example.com auth 192.0.2.10 >/dev/null || { echo "enrolling $n failed"; exit 1; }
	ctl $n up >/dev/null
done
check "alice registered with the authority" wait_for 10 bash -c "[ \"\$(ctl alice status --json | jq_get authority_link)\" = registered ]"
check "bob registered with the authority" wait_for 10 bash -c "[ \"\$(ctl bob status --json | jq_get authority_link)\" = registered ]"
A=$(ctl bob resolve alice@example.com)
B=$(ctl alice resolve bob@example.com)

# A file with a marker that must never appear in clear on the wire.
python3 -c 'import os,sys
with open(sys.argv[1], "wb") as f:
    for i in range(4096):
        f.write(b"Q2Q-CIPHER-MARKER-" + os.urandom(1006))' "$T/file"

# run_case WANT: pings and copies both ways; both sides report WANT.
run_case() {
	local want=$1
	check "alice reaches bob ($want)" wait_for 15 ovl_ping alice "$B"
	check "bob reaches alice ($want)" wait_for 15 ovl_ping bob "$A"
	check_eq "alice's session with bob uses $want" "$(ovl_peer alice bob@example.com cipher)" "$want"
	check_eq "bob's session with alice uses $want" "$(ovl_peer bob alice@example.com cipher)" "$want"
	cap_start alice eth0 "$T/$want.pcap" udp port 8789
	check "4 MB alice -> bob intact ($want)" tcp_copy alice bob "$B" 5001 "$T/file" "$T/got-b"
	check "4 MB bob -> alice intact ($want)" tcp_copy bob alice "$A" 5002 "$T/file" "$T/got-a"
	cap_stop "$T/$want.pcap"
	check "the capture holds the tunnel's packets ($want)" test "$(cap_count "$T/$want.pcap")" -gt 100
	check_fails "the file's marker is not on the wire ($want)" grep -q Q2Q-CIPHER-MARKER "$T/$want.pcap"
}

if grep -qw aes /proc/cpuinfo && grep -qw pclmulqdq /proc/cpuinfo; then
	run_case aes-256-gcm
else
	skip "this CPU has no AES-NI: both hosts negotiate ChaCha20-Poly1305 (checked below)"
fi

# bob as a host without AES hardware: new handshakes pick ChaCha20-Poly1305.
q2qd_stop bob
Q2Q_NO_HW_AES=1 q2qd_start bob || exit 1
ctl bob up >/dev/null
check "bob registered with the authority again" wait_for 10 bash -c "[ \"\$(ctl bob status --json | jq_get authority_link)\" = registered ]"
run_case chacha20-poly1305

e2e_finish
