#!/bin/bash
# The overlay under attack and under faults, as a user sees it: replayed
# datagrams change nothing, a forged inner source is dropped, a certificate
# from another CA (even for the same domain name) gets no tunnel, a revoked
# node is cut off, a crashed daemon comes back by itself and the far side
# recovers, and a lossy reordering path still handshakes and carries a file.
#
#                          wan bridge (192.0.2.0/24)
#   +-----------+-----------+-----------+-----------+-----------+
#   |           |           |           |           |           |
# auth .10   alice .11    bob .12    carol .13  mallory .14  auth2 .20
# example.com                        (revoked   (cert from   example.com
# (authority)                         later)     auth2)      again, but a
#                                                            different CA
#
# carol and mallory pin bob's endpoint 192.0.2.12:8789 in their configs, so
# they try to reach him without asking an authority.
. "$(dirname "$0")/lib.sh"
e2e_init overlay-faults

# q2qctl with a time limit, for commands that may wait on a dead peer.
ctl_t() { local n=$1; shift; timeout 30 ip netns exec "$PFX-$n" "$BIN/q2qctl" -s "$T/$n/q2qd.sock" "$@"; }

wan_up
host_add auth 192.0.2.10/24
host_add alice 192.0.2.11/24
host_add bob 192.0.2.12/24
host_add carol 192.0.2.13/24
host_add mallory 192.0.2.14/24
host_add auth2 192.0.2.20/24

PIN_BOB='peers = ( { identity = "bob@example.com"; endpoints = [ "192.0.2.12:8789" ]; } );'
q2qd_conf auth 'authority = { domain = "example.com"; listen = "0.0.0.0:8788"; };'
q2qd_conf auth2 'authority = { domain = "example.com"; listen = "0.0.0.0:8788"; };'
q2qd_conf alice 'port = 8789;'
q2qd_conf bob 'port = 8789;'
q2qd_conf carol 'port = 8789;' "$PIN_BOB"
q2qd_conf mallory 'port = 8789;' "$PIN_BOB"
for n in auth auth2 alice bob carol mallory; do q2qd_start $n || exit 1; done

check "alice enrolls" ovl_enroll alice alice@example.com auth 192.0.2.10:8788
check "bob enrolls" ovl_enroll bob bob@example.com auth 192.0.2.10:8788
check "carol enrolls" ovl_enroll carol carol@example.com auth 192.0.2.10:8788
for n in alice bob carol; do check "$n: q2qctl up" ctl $n up; done
A4=$(ctl bob resolve alice@example.com 2>/dev/null)
B4=$(ctl alice resolve bob@example.com 2>/dev/null)
[ -n "$A4" ] && [ -n "$B4" ] || { echo "cannot continue: resolve gave no addresses"; e2e_finish; exit 1; }
check "alice pings bob" wait_for 10 ovl_ping alice "$B4"
check "bob pings alice" wait_for 10 ovl_ping bob "$A4"

# ---------------------------------------------------------------- replay
# Capture alice's DATA datagrams (first byte 4) to bob, then send them again
# from another source port: bob must drop every one by its replay window.
cap_start bob eth0 "$T/data.pcap" udp dst port 8789 and src host 192.0.2.11
check "10 pings alice->bob while capturing" nsx alice ping -c10 -i0.1 -W2 "$B4"
cap_stop "$T/data.pcap"
pcap_udp "$T/data.pcap" | awk '$3 ~ /^04/ { print $3 }' > "$T/data.hex"
N=$(wc -l < "$T/data.hex")
check "captured at least 10 DATA datagrams to bob (got $N)" test "$N" -ge 10
RX0=$(ovl_peer bob alice@example.com rx_packets)
cap_start bob eth0 "$T/replay.pcap" udp src port 40404
cap_start bob q2q0 "$T/replay-in.pcap" icmp
cap_start alice q2q0 "$T/replay-back.pcap" icmp
nsx alice python3 -c 'import socket,sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("192.0.2.11", 40404))
for line in open(sys.argv[1]):
    s.sendto(bytes.fromhex(line.strip()), ("192.0.2.12", 8789))' "$T/data.hex"
check "control: all $N replayed datagrams reached bob's eth0" \
	wait_for 5 bash -c "[ \$(cap_count '$T/replay.pcap') -ge $N ]"
# One fresh ping after the replays: once its reply is back, bob has
# processed everything sent before it.
check "a fresh ping after the replay gets through" ovl_ping alice "$B4"
cap_stop "$T/replay.pcap"; cap_stop "$T/replay-in.pcap"; cap_stop "$T/replay-back.pcap"
RX1=$(ovl_peer bob alice@example.com rx_packets)
check "bob's rx_packets for alice grew by at most 3, not by $N ($RX0 -> $RX1)" \
	bash -c "[ -n '$RX0' ] && [ -n '$RX1' ] && [ \$(( $RX1 - $RX0 )) -ge 1 ] && [ \$(( $RX1 - $RX0 )) -le 3 ]"
check_eq "bob's q2q0 saw exactly one echo request from alice (the fresh one)" \
	"$(cap_count "$T/replay-in.pcap" "src host $A4 and icmp[icmptype] == icmp-echo")" 1
check_eq "alice got exactly one echo reply (no duplicates from replays)" \
	"$(cap_count "$T/replay-back.pcap" "icmp[icmptype] == icmp-echoreply")" 1
check_eq "bob still has alice at 192.0.2.11:8789 (replays did not move her)" \
	"$(ovl_peer bob alice@example.com endpoint)" 192.0.2.11:8789

# ---------------------------------------------------------------- forged source
# Raw IPv4 ICMP echoes into alice's q2q0: three from 100.64.99.99 (not
# alice's), then three from alice's own address as the control.
cap_start alice q2q0 "$T/forge-out.pcap" icmp
cap_start bob q2q0 "$T/forge-in.pcap" icmp
check "alice sends raw echoes with forged and true sources into q2q0" nsx alice python3 -c 'import socket,struct,sys
def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
dst = sys.argv[3]
r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
r.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"q2q0")
for src in (sys.argv[1], sys.argv[2]):
    for seq in range(3):
        icmp = struct.pack("!BBHHH", 8, 0, 0, 0x5151, seq) + b"q2q forged-source test"
        icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), 0, 0, 64, 1, 0,
                         socket.inet_aton(src), socket.inet_aton(dst))
        r.sendto(ip + icmp, (dst, 0))' 100.64.99.99 "$A4" "$B4"
check "control: the echoes from alice's true address reach bob's q2q0" \
	wait_for 5 bash -c "[ \$(cap_count '$T/forge-in.pcap' 'src host $A4 and icmp[4:2] == 0x5151') -ge 3 ]"
cap_stop "$T/forge-out.pcap"; cap_stop "$T/forge-in.pcap"
check "control: the forged echoes did enter alice's q2q0" \
	test "$(cap_count "$T/forge-out.pcap" src host 100.64.99.99)" -ge 3
check_eq "bob never sees a packet from 100.64.99.99" \
	"$(cap_count "$T/forge-in.pcap" src host 100.64.99.99)" 0

# ---------------------------------------------------------------- foreign CA
FP1=$(ctl auth status --json | jq_get authority_service.ca_fingerprint)
FP2=$(ctl auth2 status --json | jq_get authority_service.ca_fingerprint)
check_ne "auth2 serves example.com with a different CA" "$FP1" "$FP2"
check "mallory enrolls as mallory@example.com at auth2" ovl_enroll mallory mallory@example.com auth2 192.0.2.20:8788
check "mallory: q2qctl up" ctl mallory up
cap_start bob eth0 "$T/mallory.pcap" udp dst port 8789 and src host 192.0.2.14
check_fails "mallory: q2qctl ping bob@example.com gets no reply" ctl_t mallory ping bob@example.com -c 3
check_fails "mallory cannot ping bob's overlay IPv4" nsx mallory ping -c3 -i0.3 -W1 "$B4"
cap_stop "$T/mallory.pcap"
check "control: mallory's datagrams did reach bob's port ($(cap_count "$T/mallory.pcap") seen)" \
	test "$(cap_count "$T/mallory.pcap")" -ge 1
check_fails "bob's peers list has no mallory" ovl_has_peer bob mallory@example.com
check_fails "mallory has no session with bob" ovl_session mallory bob@example.com
check "bob still pings alice" ovl_ping bob "$A4"

# ---------------------------------------------------------------- revocation
C4=$(ctl carol status --json | jq_get ipv4)
check "carol pings bob" wait_for 10 ovl_ping carol "$B4"
check "bob pings carol" wait_for 10 ovl_ping bob "$C4"
check_eq "bob has a session with carol" "$(ovl_peer bob carol@example.com session)" true
check "the authority revokes carol" ctl auth revoke carol@example.com
check "within 10 s carol can no longer ping bob" wait_for 10 ovl_no_ping carol "$B4"
check_fails "... and stays cut off" nsx carol ping -c3 -i0.5 -W1 "$B4"
check_fails "bob keeps no session with carol" ovl_session bob carol@example.com
ctl carol down >/dev/null 2>&1; ctl carol up >/dev/null 2>&1
cap_start bob eth0 "$T/carol.pcap" udp dst port 8789 and src host 192.0.2.13
check_fails "a fresh handshake from revoked carol gets nowhere" ctl_t carol ping bob@example.com -c 3
check_fails "revoked carol's overlay ping to bob fails" nsx carol ping -c2 -i0.5 -W1 "$B4"
cap_stop "$T/carol.pcap"
check "control: carol's datagrams did reach bob's port" test "$(cap_count "$T/carol.pcap")" -ge 1
check "alice still pings bob" ovl_ping alice "$B4"

# ---------------------------------------------------------------- crash
BPID=$(cat "$T/bob/pid")
check "alice pings bob before the crash" wait_for 5 ovl_ping alice "$B4"
kill -9 "$BPID"; wait "$BPID" 2>/dev/null
check "after kill -9 no q2q0 is left in bob's namespace" wait_for 5 ovl_no_link bob q2q0
check "bob's daemon restarts" q2qd_start bob
check "bob comes back up by itself (q2q0 exists)" wait_for 10 nsx bob ip link show q2q0
check_eq "bob's status says up" "$(ctl bob status --json | jq_get up)" True
check "alice's ping to bob recovers without touching alice (30 s)" wait_for 30 ovl_ping alice "$B4"
check "bob pings alice after his restart" wait_for 10 ovl_ping bob "$A4"

# ---------------------------------------------------------------- lossy path
# netem if this kernel has it; otherwise (no sch_netem) the same impairment
# from a userspace wire between alice's eth0 and the bridge (lib.sh).
if nsx alice tc qdisc add dev eth0 root netem loss 5% delay 10ms reorder 25% 2>/dev/null; then
	LOSSY="netem on alice's eth0"
	unlossy() { nsx alice tc qdisc del dev eth0 root; }
else
	check "no sch_netem here: a userspace wire drops 5%, delays 10 ms, reorders 25% (each way)" \
		wire_impair alice 5 10 25
	LOSSY="userspace wire"
	unlossy() { wire_clear alice; }
fi
LOSS=$(nsx alice ping -c200 -i0.005 -W1 -q 192.0.2.12 | sed -nE 's/.* ([0-9.]+)% packet loss.*/\1/p')
check "control: the underlay now loses packets ($LOSSY: ${LOSS:-?}% of 200 pings lost)" \
	python3 -c "import sys; sys.exit(not 0 < float('${LOSS:-0}') < 50)"
# 200 numbered datagrams 1 ms apart: some must arrive out of order.
read -r RGOT _ RINV _ < <(wire_probe alice bob 192.0.2.12 200)
check "control: the underlay now reorders (${RINV:-?} inversions in ${RGOT:-?} of 200 datagrams)" \
	test "${RINV:-0}" -ge 1
for n in alice bob; do ctl $n down >/dev/null; done
check "alice and bob: down" bash -c "ovl_no_link alice q2q0 && ovl_no_link bob q2q0"
for n in alice bob; do check "$n: up again" ctl $n up; done
UPAT=$(date +%s)
check "a fresh handshake completes over the lossy path" wait_for 30 ovl_ping alice "$B4"
AGE=$(ovl_peer alice bob@example.com handshake_age)
check "the session is new (handshake_age ${AGE:-none} <= $(( $(date +%s) - UPAT + 1 )) s)" \
	bash -c "[ -n '$AGE' ] && [ '${AGE%.*}' -le $(( $(date +%s) - UPAT + 1 )) ]"
head -c 5M /dev/urandom > "$T/5M"
check "5 MB file alice->bob over the lossy path arrives intact" \
	tcp_copy alice bob "$B4" 5003 "$T/5M" "$T/5M.rx"
check "5 MB file bob->alice over the lossy path arrives intact" \
	tcp_copy bob alice "$A4" 5004 "$T/5M" "$T/5M.rx2"
unlossy
rm -f "$T/5M" "$T/5M.rx" "$T/5M.rx2"

e2e_finish
