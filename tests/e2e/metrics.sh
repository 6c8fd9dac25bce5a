#!/bin/bash
# Metrics as a monitoring system sees them: `q2qctl metrics` and GET
# /metrics on metrics_listen are accepted by Prometheus' own checker
# (promtool check metrics), the per-peer counters move by at least the
# bytes a ping and a file copy carried, replayed, forged, spoofed and
# unroutable packets raise their own drop reasons, an authority counts its
# nodes, enrollments, lookups and brokering, a policy refusal is a failed
# handshake, traffic on the relay moves the relay counters, the HTTP
# listener refuses other paths, methods, garbage, oversize requests and
# too many clients while the daemon keeps serving, and a reload moves or
# stops it.
#
#                  wan bridge (192.0.2.0/24)
#        +------------------+------------------+-----------------+
#        |                  |                  |                 |
#    auth .10            alice .11          bob .12          carol .13
#    example.com         metrics on         metrics on       pins bob's
#    (authority)         127.0.0.1:9789     127.0.0.1:9789   endpoint; bob
#    metrics on          (each in its own namespace's        refuses her
#    127.0.0.1:9789       loopback)
. "$(dirname "$0")/lib.sh"
e2e_init metrics

command -v promtool >/dev/null || { echo "promtool missing (apt-get install prometheus; tests/deps.sh)"; exit 1; }
command -v curl >/dev/null || { echo "curl missing (tests/deps.sh)"; exit 1; }

MURL=http://127.0.0.1:9789/metrics
wan_up
host_add auth 192.0.2.10/24
host_add alice 192.0.2.11/24
host_add bob 192.0.2.12/24
host_add carol 192.0.2.13/24
q2qd_conf auth 'authority = { domain = "example.com"; listen = "0.0.0.0:8788"; };' \
	'metrics_listen = "127.0.0.1:9789";'
q2qd_conf alice 'port = 8789;' 'metrics_listen = "127.0.0.1:9789";'
q2qd_conf bob 'port = 8789;' 'metrics_listen = "127.0.0.1:9789";' 'refuse = [ "carol@example.com" ];'
# carol knows bob's endpoint, so she handshakes with him directly, and he
# refuses her by policy inside the handshake.
q2qd_conf carol 'port = 8789;' \
	'peers = ( { identity = "bob@example.com"; endpoints = [ "192.0.2.12:8789" ]; } );'

# ---------------------------------------------------------------- config
q2qd_conf bad 'metrics_listen = "localhost:9789";'
check_fails "q2qd -n refuses metrics_listen = \"localhost:9789\"" "$BIN/q2qd" -n -c "$T/bad/q2qd.conf"
check "... naming the setting and the value" \
	bash -c "'$BIN/q2qd' -n -c '$T/bad/q2qd.conf' 2>&1 | grep \"metrics_listen: 'localhost:9789'\""

for n in auth alice bob carol; do q2qd_start $n || exit 1; done

# mval FILE SERIES: the value of one series (name and labels exactly as
# exposed) in an exposition file, or nothing.
mval() { awk -v s="$2" '$1 == s { print $2; exit }' "$1"; }
# promcheck FILE: promtool's verdict on FILE, its complaints shown.
promcheck() { promtool check metrics < "$1"; }
# scrape NODE FILE: curl the node's metrics_listen into FILE (body only).
scrape() { nsx "$1" curl -sS -f --max-time 5 -o "$2" "$MURL"; }

check "bob: q2qctl metrics before up says q2q_up 0" bash -c "ctl bob metrics | grep -qx 'q2q_up 0'"
check "alice enrolls" ovl_enroll alice alice@example.com auth 192.0.2.10:8788
check "bob enrolls" ovl_enroll bob bob@example.com auth 192.0.2.10:8788
check_fails "an enrollment with a wrong token is refused" \
	ctl alice enroll carol@example.com --authority 192.0.2.10:8788 --token 0123456789abcdef \
	--ca-fingerprint "$(ctl auth status --json | jq_get authority_service.ca_fingerprint)"
for n in alice bob; do check "$n: q2qctl up" ctl $n up; done
A4=$(ctl bob resolve alice@example.com 2>/dev/null)
B4=$(ctl alice resolve bob@example.com 2>/dev/null)
[ -n "$A4" ] && [ -n "$B4" ] || { echo "cannot continue: resolve gave no addresses"; e2e_finish; exit 1; }
check "alice pings bob" wait_for 10 ovl_ping alice "$B4"

# ---------------------------------------------------------------- traffic
ctl bob metrics > "$T/bob0.prom"
ctl alice metrics > "$T/alice0.prom"
RX0=$(mval "$T/bob0.prom" 'q2q_peer_rx_bytes_total{peer="alice@example.com"}')
TX0=$(mval "$T/alice0.prom" 'q2q_peer_tx_bytes_total{peer="bob@example.com"}')
PK0=$(mval "$T/bob0.prom" 'q2q_peer_rx_packets_total{peer="alice@example.com"}')
check "bob's metrics name alice with byte and packet counters" test -n "$RX0" -a -n "$TX0" -a -n "$PK0"
check "alice pings bob 20 times, 1000-byte payloads" nsx alice ping -c20 -i0.05 -s1000 -W2 "$B4"
head -c 3000000 /dev/urandom > "$T/file.bin"
check "alice copies 3 MB to bob over the overlay" tcp_copy alice bob "$B4" 5001 "$T/file.bin" "$T/file.out"
# What the ping and the copy carried, as inner IP bytes: 20 x (1000 + 28)
# and the file itself, before TCP/IP headers.
SENT=$((20 * 1028 + 3000000))
ctl bob metrics > "$T/bob1.prom"
ctl alice metrics > "$T/alice1.prom"
check "promtool accepts bob's q2qctl metrics" promcheck "$T/bob1.prom"
check "promtool accepts alice's q2qctl metrics" promcheck "$T/alice1.prom"
RX1=$(mval "$T/bob1.prom" 'q2q_peer_rx_bytes_total{peer="alice@example.com"}')
TX1=$(mval "$T/alice1.prom" 'q2q_peer_tx_bytes_total{peer="bob@example.com"}')
PK1=$(mval "$T/bob1.prom" 'q2q_peer_rx_packets_total{peer="alice@example.com"}')
check "bob's rx bytes from alice grew by at least $SENT ($RX0 -> $RX1)" \
	bash -c "[ -n '$RX1' ] && [ \$(( $RX1 - $RX0 )) -ge $SENT ]"
check "alice's tx bytes to bob grew by at least $SENT ($TX0 -> $TX1)" \
	bash -c "[ -n '$TX1' ] && [ \$(( $TX1 - $TX0 )) -ge $SENT ]"
check "bob's rx packets from alice grew by at least 20 + 3000000/1400 ($PK0 -> $PK1)" \
	bash -c "[ -n '$PK1' ] && [ \$(( $PK1 - $PK0 )) -ge $((20 + 3000000 / 1400)) ]"
check_eq "bob: the path to alice is direct" "$(mval "$T/bob1.prom" 'q2q_peer_path{peer="alice@example.com",path="direct"}')" 1
check_eq "bob: ... and not the relay" "$(mval "$T/bob1.prom" 'q2q_peer_path{peer="alice@example.com",path="relay"}')" 0
check_eq "bob: nothing went through the relay" \
	"$(mval "$T/bob1.prom" 'q2q_peer_relay_rx_bytes_total{peer="alice@example.com"}')" 0
check "alice completed at least one handshake" \
	bash -c "[ \"\$(awk '\$1 == \"q2q_handshakes_completed_total\" { print \$2 }' '$T/alice1.prom')\" -ge 1 ]"
check_eq "bob's json rx_bytes and the metric agree (no traffic in between)" \
	"$(ovl_peer bob alice@example.com rx_bytes)" \
	"$(ctl bob metrics | awk '$1 == "q2q_peer_rx_bytes_total{peer=\"alice@example.com\"}" { print $2 }')"

# ---------------------------------------------------------------- HTTP
check "curl GET $MURL on bob" scrape bob "$T/bob-http.prom"
check "promtool accepts what bob serves over HTTP" promcheck "$T/bob-http.prom"
check_eq "HTTP and q2qctl expose the same series" \
	"$(grep -v '^#' "$T/bob-http.prom" | awk '{print $1}' | sort | md5sum)" \
	"$(ctl bob metrics | grep -v '^#' | awk '{print $1}' | sort | md5sum)"
check "HTTP: counters moved by the traffic too" \
	bash -c "[ \$(( \$(awk '\$1 == \"q2q_peer_rx_bytes_total{peer=\\\"alice@example.com\\\"}\" { print \$2 }' '$T/bob-http.prom') - $RX0 )) -ge $SENT ]"
check "HTTP: Content-Type is the text format 0.0.4" \
	bash -c "nsx bob curl -sS -o /dev/null -D - --max-time 5 '$MURL' | grep -qi '^Content-Type: text/plain; version=0.0.4'"
code() { nsx "$1" curl -s -o /dev/null -w '%{http_code}' --max-time 5 "${@:2}"; }
check_eq "HTTP: another path is 404" "$(code bob http://127.0.0.1:9789/)" 404
check_eq "HTTP: /metrics/x is 404" "$(code bob http://127.0.0.1:9789/metrics/x)" 404
check_eq "HTTP: POST is 405" "$(code bob -X POST -d x "$MURL")" 405
# raw NODE: sends stdin's bytes (python-escaped) and prints the status line.
raw() { nsx "$1" python3 -c 'import socket,sys
s = socket.create_connection(("127.0.0.1", 9789), timeout=8)
s.sendall(eval(sys.argv[1]))
r = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    r += b
print(r.split(b"\r\n")[0].decode() if r else "(closed without an answer)")' "$2"; }
check_eq "HTTP: a request line that is not HTTP is 400" \
	"$(raw bob 'b"hello there\r\n\r\n"')" "HTTP/1.1 400 Bad Request"
check_eq "HTTP: a NUL byte is 400" "$(raw bob 'b"GET /metr\0ics HTTP/1.1\r\n\r\n"')" "HTTP/1.1 400 Bad Request"
check_eq "HTTP: 64 KB of headers are refused with 431" \
	"$(raw bob 'b"GET /metrics HTTP/1.1\r\n" + b"X-Pad: " + b"a" * 65536 + b"\r\n\r\n"')" \
	"HTTP/1.1 431 Request Header Fields Too Large"
# The cap: 16 clients that send nothing hold every slot; the 17th is told
# 503 at once, and the deadline (5 s) frees the slots.
check "HTTP: 16 silent clients fill it, the 17th gets 503, the deadline frees them" \
	nsx bob python3 -c 'import socket,time,sys
idle = [socket.create_connection(("127.0.0.1", 9789), timeout=10) for _ in range(16)]
time.sleep(0.5)
s = socket.create_connection(("127.0.0.1", 9789), timeout=10)
s.sendall(b"GET /metrics HTTP/1.1\r\n\r\n")
first = s.recv(4096).split(b"\r\n")[0]
print("17th:", first)
if first != b"HTTP/1.1 503 Service Unavailable":
    sys.exit(1)
t0 = time.time()
for c in idle:
    if c.recv(1) != b"":
        sys.exit("an idle client got data")
took = time.time() - t0
print("idle clients closed after %.1f s more" % took)
sys.exit(0 if took < 8 else 1)'
check "HTTP: after all that bob still serves /metrics" scrape bob "$T/bob-http2.prom"
check "bob's engine is still running" ctl bob status

# ---------------------------------------------------------------- drops
drop() { ctl "$1" metrics | awk -v s="q2q_drops_total{reason=\"$2\"}" '$1 == s { print $2 }'; }
# Replay: capture alice's DATA datagrams to bob, send them again.
cap_start bob eth0 "$T/data.pcap" udp dst port 8789 and src host 192.0.2.11
check "10 pings alice->bob while capturing" nsx alice ping -c10 -i0.1 -W2 "$B4"
cap_stop "$T/data.pcap"
pcap_udp "$T/data.pcap" | awk '$3 ~ /^04/ { print $3 }' > "$T/data.hex"
N=$(wc -l < "$T/data.hex")
check "captured at least 10 DATA datagrams to bob (got $N)" test "$N" -ge 10
R0=$(drop bob replay)
nsx alice python3 -c 'import socket,sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("192.0.2.11", 40404))
for line in open(sys.argv[1]):
    s.sendto(bytes.fromhex(line.strip()), ("192.0.2.12", 8789))' "$T/data.hex"
check "a fresh ping after the replays gets through" ovl_ping alice "$B4"
R1=$(drop bob replay)
check_eq "bob's replay drops grew by the $N replayed datagrams ($R0 -> $R1)" "$((R1 - R0))" "$N"
# Forged: the first datagram with a counter bob has never seen (the
# counter is little-endian on the wire; 2^40 is far ahead, so the replay
# window lets it through), its tag no longer matching.
AU0=$(drop bob authentication)
nsx alice python3 -c 'import socket,sys
d = bytearray(bytes.fromhex(open(sys.argv[1]).readline().strip()))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("192.0.2.11", 40405))
for k in range(3):
    d[8:16] = ((1 << 40) + k).to_bytes(8, "little")
    s.sendto(bytes(d), ("192.0.2.12", 8789))' "$T/data.hex"
check "a fresh ping after the forgeries gets through" ovl_ping alice "$B4"
AU1=$(drop bob authentication); R2=$(drop bob replay)
check_eq "bob's authentication drops grew by the 3 forged ones ($AU0 -> $AU1)" "$((AU1 - AU0))" 3
check_eq "... and none of them counted as a replay ($R1 -> $R2)" "$((R2 - R1))" 0
# Spoofed inner source: raw echoes into alice's q2q0 from an address her
# certificate does not bind.
S0=$(drop bob spoofed_source)
check "alice sends 3 echoes with a forged source into q2q0" nsx alice python3 -c 'import socket,struct,sys
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
src, dst = sys.argv[1], sys.argv[2]
r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
r.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"q2q0")
for seq in range(3):
    icmp = struct.pack("!BBHHH", 8, 0, 0, 0x5151, seq) + b"q2q spoofed source!!"
    icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), 0, 0, 64, 1, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    r.sendto(ip + icmp, (dst, 0))' 100.64.99.99 "$B4"
check "a ping after the spoofed echoes gets through" ovl_ping alice "$B4"
check "bob's spoofed_source drops grew by 3" \
	bash -c "[ \$(( \$(ctl bob metrics | awk '\$1 == \"q2q_drops_total{reason=\\\"spoofed_source\\\"}\" { print \$2 }') - $S0 )) -eq 3 ]"
# No route: a prefix nobody may route for, sent into q2q0.
NR0=$(drop alice no_route)
check "alice routes 198.51.100.0/24 (granted to nobody) into q2q0" nsx alice ip route add 198.51.100.0/24 dev q2q0
check "ping 198.51.100.7 is answered unreachable" \
	bash -c "nsx alice ping -c2 -i0.3 -W2 198.51.100.7 2>&1 | grep -qi unreachable"
NR1=$(drop alice no_route)
check "alice's no_route drops grew by the 2 pings ($NR0 -> $NR1)" test "$((NR1 - NR0))" -ge 2
check_eq "the policy drop reason is exposed (0: this world has no policy)" "$(drop alice policy)" 0
check "alice's metrics still pass promtool" bash -c "ctl alice metrics > '$T/alice2.prom' && promtool check metrics < '$T/alice2.prom'"

# ---------------------------------------------------------------- authority
check "curl the authority's metrics" scrape auth "$T/auth.prom"
check "promtool accepts the authority's metrics" promcheck "$T/auth.prom"
check_eq "authority: 2 registered nodes" "$(mval "$T/auth.prom" q2q_authority_registered_nodes)" 2
check_eq "authority: 2 enrollments accepted" \
	"$(mval "$T/auth.prom" 'q2q_authority_enrollments_total{result="accepted"}')" 2
check_eq "authority: 1 enrollment refused (the wrong token)" \
	"$(mval "$T/auth.prom" 'q2q_authority_enrollments_total{result="refused"}')" 1
check_eq "authority: 2 certificates issued" "$(mval "$T/auth.prom" q2q_authority_certificates_issued_total)" 2
check "authority: lookups were found" test "$(mval "$T/auth.prom" 'q2q_authority_lookups_total{result="found"}')" -ge 1
BOK=$(mval "$T/auth.prom" 'q2q_authority_broker_requests_total{result="ok"}')
check "authority: broker requests answered ok ($BOK)" test "${BOK:-0}" -ge 1
check_eq "authority: the broker latency histogram counts each one" \
	"$(mval "$T/auth.prom" q2q_authority_broker_latency_seconds_count)" "$BOK"
check_eq "authority: ... all within the last finite bucket (3 s)" \
	"$(mval "$T/auth.prom" 'q2q_authority_broker_latency_seconds_bucket{le="3"}')" "$BOK"
check "q2qctl metrics --json carries the same text" \
	bash -c "ctl auth metrics --json | python3 -c 'import json,sys; t = json.load(sys.stdin)[\"text\"]; sys.exit(0 if \"q2q_authority_registered_nodes 2\" in t else 1)'"

# ---------------------------------------------------------------- relay
# Cut the direct path (alice's firewall drops UDP to and from bob's port);
# the session falls back to the authority's relay, and the relay counters
# move by at least what a ping carries.
pmetric() { ctl "$1" metrics | awk -v s="$2" '$1 == s { print $2 }'; }
nsx alice nft -f - <<'EOF2'
table inet metrics_bh {
	chain out { type filter hook output priority filter; policy accept; ip daddr 192.0.2.12 udp dport 8789 drop; }
	chain in { type filter hook input priority filter; policy accept; ip saddr 192.0.2.12 udp sport 8789 drop; }
}
EOF2
ip netns exec "$PFX-alice" ping -i 0.2 -W 1 "$B4" > "$T/relay-ping.out" 2>&1 &
PING=$!
relay_metric_is() { [ "$(pmetric "$1" "q2q_peer_path{peer=\"$2\",path=\"relay\"}")" = 1 ]; }
check "with the direct path cut, alice's metrics show the path to bob as relay" \
	wait_for 20 relay_metric_is alice bob@example.com
kill -INT "$PING" 2>/dev/null; wait "$PING" 2>/dev/null
check "... and bob's to alice" wait_for 10 relay_metric_is bob alice@example.com
RT0=$(pmetric alice 'q2q_peer_relay_tx_bytes_total{peer="bob@example.com"}')
RR0=$(pmetric alice 'q2q_peer_relay_rx_bytes_total{peer="bob@example.com"}')
scrape auth "$T/auth-r0.prom"
AR0=$(mval "$T/auth-r0.prom" q2q_authority_relayed_bytes_total)
check "alice pings bob 10 times through the relay, 1000-byte payloads" nsx alice ping -c10 -i0.1 -s1000 -W2 "$B4"
RT1=$(pmetric alice 'q2q_peer_relay_tx_bytes_total{peer="bob@example.com"}')
RR1=$(pmetric alice 'q2q_peer_relay_rx_bytes_total{peer="bob@example.com"}')
scrape auth "$T/auth-r1.prom"
AR1=$(mval "$T/auth-r1.prom" q2q_authority_relayed_bytes_total)
check "alice's relay tx bytes grew by at least 10 x 1028 ($RT0 -> $RT1)" test "$((RT1 - RT0))" -ge 10280
check "alice's relay rx bytes grew by at least 10 x 1028 ($RR0 -> $RR1)" test "$((RR1 - RR0))" -ge 10280
check "the authority's relayed bytes grew by at least both ways' ($AR0 -> $AR1)" test "$((AR1 - AR0))" -ge 20560
check "promtool accepts the authority's metrics after relaying" promcheck "$T/auth-r1.prom"
nsx alice nft delete table inet metrics_bh

# ---------------------------------------------------------------- handshakes
hs_failed() { ctl "$1" metrics | awk -v s="q2q_handshakes_failed_total{reason=\"$2\"}" '$1 == s { print $2 }'; }
P0=$(hs_failed bob policy)
check "carol enrolls" ovl_enroll carol carol@example.com auth 192.0.2.10:8788
check "carol: q2qctl up" ctl carol up
check_fails "carol, whom bob refuses, gets no q2qctl ping through to him" \
	timeout 30 ip netns exec "$PFX-carol" "$BIN/q2qctl" -s "$T/carol/q2qd.sock" ping bob@example.com -c 2
check "bob counted the refusal as a failed handshake, reason policy ($P0 -> $(hs_failed bob policy))" \
	test "$(hs_failed bob policy)" -gt "$P0"
# To carol the refusal is a TLS alert: she cannot tell policy from any
# other refusal, and should not.
check "carol counted failed handshakes, reason tls ($(hs_failed carol tls))" test "$(hs_failed carol tls)" -ge 1
check "carol's metrics pass promtool" bash -c "ctl carol metrics > '$T/carol.prom' && promtool check metrics < '$T/carol.prom'"

# ---------------------------------------------------------------- reload
# metrics_listen follows the config on reload: another port, another
# address on the same port, then off.
bob_conf() {
	q2qd_conf bob 'port = 8789;' 'refuse = [ "carol@example.com" ];' "$@"
}
bob_conf 'metrics_listen = "127.0.0.1:9790";'
check "bob: reload with metrics_listen on port 9790" ctl bob reload
check "bob serves on 127.0.0.1:9790 now" nsx bob curl -sS -f --max-time 5 -o "$T/r1.prom" http://127.0.0.1:9790/metrics
check_fails "... and no longer on 9789" nsx bob curl -sS -f --max-time 5 -o /dev/null "$MURL"
bob_conf 'metrics_listen = "[::1]:9790";'
check "bob: reload with metrics_listen on [::1]:9790 (same port)" ctl bob reload
check "bob serves on [::1]:9790" nsx bob curl -sS -f --max-time 5 -o "$T/r2.prom" 'http://[::1]:9790/metrics'
check "promtool accepts it" promcheck "$T/r2.prom"
bob_conf
check "bob: reload without metrics_listen" ctl bob reload
check_fails "bob serves no HTTP metrics any more" nsx bob curl -sS -f --max-time 5 -o /dev/null 'http://[::1]:9790/metrics'
check "q2qctl metrics still works" bash -c "ctl bob metrics | grep -qx 'q2q_up 1'"

check "alice still pings bob at the end" ovl_ping alice "$B4"
for n in auth alice bob carol; do
	check "$n: q2qd still running" kill -0 "$(cat "$T/$n/pid")"
done
check_fails "no daemon part was killed by seccomp" grep -h "is not allowed" "$T"/auth/log "$T"/alice/log "$T"/bob/log "$T"/carol/log

e2e_finish
