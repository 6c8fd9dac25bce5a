# Shared helpers for q2q's end-to-end tests. Source it, then call e2e_init.
#
# Every test builds its own world of network namespaces named
# q2q-<pid>-<name>, joined through a bridge in a "wan" namespace, and takes
# it all down in an EXIT trap. Daemons get their own state dir, config and
# control socket under $T, so tests can run side by side.

: "${O:=build}"
# O is relative to the tree, or absolute (O=/tmp/build).
case $O in
/*) BIN=$O ;;
*) BIN=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/$O ;;
esac
PASS=0; FAIL=0; SKIP=0
PFX="q2q-$$"
T=""
NSES=()

e2e_cleanup() {
	local ns pid
	for ns in "${NSES[@]}"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null; done
	done
	sleep 0.2
	for ns in "${NSES[@]}"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
		ip netns del "$ns" 2>/dev/null
	done
	if [ -n "$T" ] && [ -z "${KEEP:-}" ]; then rm -rf "$T"; fi
}

e2e_init() {
	NAME=$1
	T=$(mktemp -d "/tmp/q2q-e2e-$NAME.XXXXXX")
	chmod 755 "$T"
	trap e2e_cleanup EXIT
	trap 'exit 130' INT TERM
	[ -x "$BIN/q2qd" ] || { echo "e2e: $BIN/q2qd not built (run make)"; exit 1; }
}

# pass/fail bookkeeping: check "what" command...
check() {
	local what=$1; shift
	if "$@" >"$T/last.out" 2>&1; then
		PASS=$((PASS + 1)); echo "ok - $what"
	else
		FAIL=$((FAIL + 1)); echo "not ok - $what"; sed 's/^/    # /' "$T/last.out" | tail -15
	fi
}
# the command must fail
check_fails() {
	local what=$1; shift
	if "$@" >"$T/last.out" 2>&1; then
		FAIL=$((FAIL + 1)); echo "not ok - $what (unexpectedly succeeded)"; sed 's/^/    # /' "$T/last.out" | tail -15
	else
		PASS=$((PASS + 1)); echo "ok - $what"
	fi
}
# check_eq "what" ACTUAL EXPECTED: both non-empty and equal
check_eq() {
	if [ -n "$2" ] && [ "$2" = "$3" ]; then
		PASS=$((PASS + 1)); echo "ok - $1"
	else
		FAIL=$((FAIL + 1)); echo "not ok - $1"; echo "    # got '$2', expected '$3'"
	fi
}
# check_ne "what" A B: both non-empty and different
check_ne() {
	if [ -n "$2" ] && [ -n "$3" ] && [ "$2" != "$3" ]; then
		PASS=$((PASS + 1)); echo "ok - $1"
	else
		FAIL=$((FAIL + 1)); echo "not ok - $1"; echo "    # got '$2' and '$3'"
	fi
}
skip() { SKIP=$((SKIP + 1)); echo "skip - $1"; }

e2e_finish() {
	# Stop the daemons first, so a sanitizer build reports leaks at exit,
	# then fail the run on any sanitizer report in their logs.
	local f name
	for f in "$T"/*/pid; do
		[ -e "$f" ] || continue
		name=$(basename "$(dirname "$f")")
		q2qd_stop "$name"
	done
	if grep -l -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$T"/*/log >/dev/null 2>&1; then
		FAIL=$((FAIL + 1))
		echo "not ok - a daemon's sanitizer reported errors:"
		grep -h -A20 -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$T"/*/log | head -60 | sed 's/^/    # /'
	fi
	echo "$PASS passed, $FAIL failed, $SKIP skipped"
	[ "$FAIL" -eq 0 ]
}

# wait_for SECONDS command...: poll until the command succeeds.
wait_for() {
	local secs=$1 i; shift
	for ((i = 0; i < secs * 10; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# The "internet": a namespace with a bridge; hosts plug into it.
wan_up() {
	local ns="$PFX-wan"
	ip netns add "$ns"; NSES+=("$ns")
	ip -n "$ns" link set lo up
	ip -n "$ns" link add br0 type bridge
	ip -n "$ns" link set br0 up
}

# host_add NAME ADDR/PLEN: a namespace plugged into the wan bridge.
host_add() {
	local name=$1 addr=$2 ns="$PFX-$1" wan="$PFX-wan"
	ip netns add "$ns"; NSES+=("$ns")
	ip -n "$ns" link set lo up
	ip link add "q2qv-$$-$name" netns "$ns" type veth peer name "v-$name" netns "$wan" 2>/dev/null ||
		ip link add "qv$$$name" netns "$ns" type veth peer name "v-$name" netns "$wan"
	local inner; inner=$(ip -n "$ns" -o link show type veth | awk -F': ' '{print $2}' | cut -d@ -f1 | head -1)
	ip -n "$ns" link set "$inner" name eth0
	ip -n "$ns" addr add "$addr" dev eth0
	ip -n "$ns" link set eth0 up
	ip -n "$wan" link set "v-$name" master br0 up
}

nsx() { local n=$1; shift; ip netns exec "$PFX-$n" "$@"; }

# q2qd_conf NAME [extra config lines]: writes $T/NAME/q2qd.conf
q2qd_conf() {
	local name=$1; shift
	mkdir -p "$T/$name"
	{
		echo "state_dir = \"$T/$name/state\";"
		echo "control_socket = \"$T/$name/q2qd.sock\";"
		echo "log_level = \"debug\";"
		printf '%s\n' "$@"
	} > "$T/$name/q2qd.conf"
}

# q2qd_start NAME: runs q2qd in NAME's namespace the way systemd's unit
# does, and waits for its socket: started as root with the unit's bounding
# set (CAP_NET_ADMIN, CAP_SETUID, CAP_SETGID, CAP_SETPCAP) and no_new_privs, engine as
# user q2q (-u). Like StateDirectory= and RuntimeDirectory=, the state dir
# and the socket's directory are handed to q2q first; like the tmpfiles
# entry, the CA directory (state dir + "-ca") is root's.
q2qd_start() {
	local name=$1
	e2e_user
	install -d -m 0700 -o q2q -g q2q "$T/$name/state"
	chown -R q2q:q2q "$T/$name/state"
	chown q2q:q2q "$T/$name"
	install -d -m 0700 -o root -g root "$T/$name/state-ca"
	# ip netns exec and setpriv exec q2qd, so $! is the daemon's own pid.
	ip netns exec "$PFX-$name" setpriv --bounding-set=-all,+net_admin,+setuid,+setgid,+setpcap \
		--inh-caps=-all --no-new-privs \
		"$BIN/q2qd" -u q2q -c "$T/$name/q2qd.conf" >>"$T/$name/log" 2>&1 &
	echo $! > "$T/$name/pid"
	wait_for 10 ctl "$name" status || { echo "q2qd $name did not start:"; tail -20 "$T/$name/log"; return 1; }
}

# e2e_user: the system user the engine runs as (systemd/q2q.sysusers makes
# it on an installed system).
e2e_user() {
	id q2q >/dev/null 2>&1 && return 0
	useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin q2q
}

# q2qd_engine NAME: the pid of NAME's engine (the privileged part's child
# named q2qd-engine).
q2qd_engine() { pgrep -P "$(cat "$T/$1/pid")" -x q2qd-engine; }
# q2qd_ca NAME: the pid of NAME's CA process.
q2qd_ca() { pgrep -P "$(cat "$T/$1/pid")" -x q2qd-ca; }
# proc_field PID FIELD: a field of /proc/PID/status (CapEff, NoNewPrivs...)
proc_field() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }

q2qd_stop() {
	local name=$1 pid
	pid=$(cat "$T/$name/pid" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null
	for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rm -f "$T/$name/pid"
}

ctl() { local name=$1; shift; nsx "$name" "$BIN/q2qctl" -s "$T/$name/q2qd.sock" "$@"; }

# jget NAME CMD... -- KEY: a field from q2qctl --json output
jq_get() { python3 -c 'import json,sys
d=json.load(sys.stdin)
for k in sys.argv[1].split("."):
    d = d[int(k)] if isinstance(d, list) else d.get(k)
    if d is None: break
print("" if d is None else (json.dumps(d) if isinstance(d,(dict,list)) else d))' "$1"; }

export BIN T PFX
export -f nsx ctl jq_get

# ---- overlay helpers (tests/e2e/overlay*.sh) -------------------------------
# Added for the overlay end-to-end tests; appended as one block so the rest
# of this file can change independently.

# ovl_enroll NODE IDENTITY AUTH AUTHADDR: enroll NODE as IDENTITY at the
# authority running in namespace AUTH, pinning that authority's CA.
ovl_enroll() {
	local node=$1 id=$2 auth=$3 addr=$4 fp tok
	fp=$(ctl "$auth" status --json | jq_get authority_service.ca_fingerprint)
	tok=$(ctl "$auth" invite "$id" 2>/dev/null) || return 1
	ctl "$node" enroll "$id" --authority "$addr" --token "$tok" --ca-fingerprint "$fp"
}

# ovl_lan_gw: the wan with hosts auth (.10), alice (.11), bob (.12) and a
# gateway gw (.1) on 192.0.2.0/24, alice, bob and gw also on 2001:db8::/64
# (the LAN a router would push routes on).
ovl_lan_gw() {
	local h
	wan_up
	host_add auth 192.0.2.10/24
	host_add alice 192.0.2.11/24
	host_add bob 192.0.2.12/24
	host_add gw 192.0.2.1/24
	for h in alice:11 bob:12 gw:1; do
		nsx "${h%:*}" ip -6 addr add "2001:db8::${h#*:}/64" dev eth0 nodad
	done
}

# ovl_pair [AUTHORITY_EXTRA [ALICE_EXTRA [BOB_EXTRA]]]: the common world's
# daemons in hosts auth (192.0.2.10), alice and bob, which the caller made:
# the authority of example.com (AUTHORITY_EXTRA goes inside its authority
# section) and the two nodes on port 8789 (ALICE_EXTRA, BOB_EXTRA: a line
# more for each one's config), started, both enrolled. 1 if a daemon did not start.
ovl_pair() {
	local n
	q2qd_conf auth "authority = { domain = \"example.com\"; listen = \"0.0.0.0:8788\"; ${1:-} };"
	q2qd_conf alice 'port = 8789;' ${2:+"$2"}
	q2qd_conf bob 'port = 8789;' ${3:+"$3"}
	for n in auth alice bob; do q2qd_start $n || return 1; done
	check "alice enrolls" ovl_enroll alice alice@example.com auth 192.0.2.10:8788
	check "bob enrolls" ovl_enroll bob bob@example.com auth 192.0.2.10:8788
}

# ovl_pair_up: ovl_pair's two nodes up; A4 and B4, alice's and bob's
# IPv4 as the other resolves it. 1 (saying so) if either has none.
ovl_pair_up() {
	check "alice: q2qctl up" ctl alice up
	check "bob: q2qctl up" ctl bob up
	check "alice resolves bob once he is registered" wait_for 10 ctl alice resolve bob@example.com
	A4=$(ctl bob resolve alice@example.com 2>/dev/null)
	B4=$(ctl alice resolve bob@example.com 2>/dev/null)
	[ -n "$A4" ] && [ -n "$B4" ] || { echo "cannot continue without overlay addresses"; return 1; }
}

# ovl_ping NODE ADDR: one echo request, 1 s for the reply.
ovl_ping() { nsx "$1" ping -c1 -W1 "$2"; }
# ovl_no_ping NODE ADDR: succeeds when no reply comes back.
ovl_no_ping() { ! nsx "$1" ping -c1 -W1 "$2"; }

# ovl_peer NODE IDENTITY FIELD: one field of IDENTITY's entry in NODE's
# `q2qctl peers --json`; prints nothing if there is no such peer.
ovl_peer() {
	ctl "$1" peers --json 2>/dev/null | python3 -c 'import json,sys
try:
    d = json.load(sys.stdin)
except ValueError:
    sys.exit(0)
for p in d.get("peers", []):
    if p.get("identity") == sys.argv[1]:
        v = p.get(sys.argv[2])
        print("" if v is None else (json.dumps(v) if isinstance(v, (bool, dict, list)) else v))' "$2" "$3"
}
# ovl_has_peer NODE IDENTITY: NODE's peers list names IDENTITY.
ovl_has_peer() {
	ctl "$1" peers --json 2>/dev/null | python3 -c 'import json,sys
d = json.load(sys.stdin)
sys.exit(0 if any(p.get("identity") == sys.argv[1] for p in d.get("peers", [])) else 1)' "$2"
}
# ovl_session NODE IDENTITY: NODE has a live session with IDENTITY.
ovl_session() { [ "$(ovl_peer "$1" "$2" session)" = true ]; }

# ovl_no_link NODE IFACE: IFACE does not exist in NODE's namespace.
ovl_no_link() { ! nsx "$1" ip link show "$2"; }

# lan_add NAME ROUTER ADDR/PLEN ROUTERADDR/PLEN: a host namespace NAME on a
# LAN behind ROUTER (a host_add namespace), default route via ROUTER, which
# forwards.
lan_add() {
	local name=$1 router=$2 addr=$3 raddr=$4 ns="$PFX-$1" inner outer
	ip netns add "$ns"; NSES+=("$ns")
	ip -n "$ns" link set lo up
	inner="ql$$a"; outer="ql$$b"
	ip link add "$inner" netns "$ns" type veth peer name "$outer" netns "$PFX-$router"
	ip -n "$ns" link set "$inner" name eth0
	ip -n "$PFX-$router" link set "$outer" name "lan-$name"
	ip -n "$ns" addr add "$addr" dev eth0
	ip -n "$ns" link set eth0 up
	ip -n "$PFX-$router" addr add "$raddr" dev "lan-$name"
	ip -n "$PFX-$router" link set "lan-$name" up
	ip -n "$ns" route add default via "${raddr%/*}"
	nsx "$router" sysctl -qw net.ipv4.ip_forward=1
}

# cap_start NODE IFACE FILE [FILTER...]: tcpdump in NODE's namespace into
# FILE (pcap); returns once it is capturing. cap_stop FILE ends it.
cap_start() {
	local node=$1 ifc=$2 file=$3; shift 3
	# ip netns exec (not nsx, a function) so that $! is tcpdump itself.
	ip netns exec "$PFX-$node" tcpdump -Z root -U --immediate-mode -n -i "$ifc" -w "$file" "$@" 2>"$file.err" &
	echo $! > "$file.pid"
	wait_for 5 grep -q 'listening on' "$file.err"
}
cap_stop() {
	local file=$1 pid
	pid=$(cat "$file.pid" 2>/dev/null) || return 0
	kill -INT "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rm -f "$file.pid"
}
# cap_count FILE [FILTER...]: how many packets in FILE match FILTER.
cap_count() { local file=$1; shift; tcpdump -n -r "$file" "$@" 2>/dev/null | wc -l; }

# ovl_listening NODE PORT: something listens on TCP PORT in NODE.
ovl_listening() { [ -n "$(nsx "$1" ss -Hltn "sport = :$2")" ]; }

# tcp_recv NODE ADDR PORT OUT: a one-shot TCP receiver in NODE writing
# what it gets to OUT; returns once it listens (its pid is in OUT.pid).
tcp_recv() {
	local node=$1 addr=$2 port=$3 out=$4
	ip netns exec "$PFX-$node" timeout 180 python3 -c 'import socket,sys
a, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((a, port)); s.listen(1)
c, _ = s.accept(); c.settimeout(60)
with open(out, "wb") as f:
    while True:
        b = c.recv(1 << 16)
        if not b:
            break
        f.write(b)
c.close()' "$addr" "$port" "$out" &
	echo $! > "$out.pid"
	wait_for 5 ovl_listening "$node" "$port"
}
# tcp_send NODE ADDR PORT FILE: send FILE and wait until the receiver has
# read all of it (it closes after end of file).
tcp_send() {
	nsx "$1" timeout 180 python3 -c 'import socket,sys
a, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.create_connection((a, port), timeout=10); s.settimeout(60)
with open(path, "rb") as f:
    s.sendfile(f)
s.shutdown(socket.SHUT_WR)
s.recv(1)' "$2" "$3" "$4"
}
# tcp_copy FROM TO ADDR PORT SRC DST [BIND]: copy file SRC from namespace
# FROM to DST via a receiver in TO listening on ADDR:PORT (on BIND:PORT if
# given: where FROM knows TO by another address, as another domain's node
# does, "IPv4 across domains"); then compare checksums.
tcp_copy() {
	local from=$1 to=$2 addr=$3 port=$4 src=$5 dst=$6 bind=${7:-$3} pid rc=0
	rm -f "$dst"
	tcp_recv "$to" "$bind" "$port" "$dst" || { echo "receiver did not start"; return 1; }
	pid=$(cat "$dst.pid")
	tcp_send "$from" "$addr" "$port" "$src" || { echo "sender failed"; rc=1; kill "$pid" 2>/dev/null; }
	wait "$pid" 2>/dev/null || rc=1
	rm -f "$dst.pid"
	[ "$rc" = 0 ] || return 1
	local a b
	a=$(sha256sum < "$src"); b=$(sha256sum < "$dst")
	echo "sent ${a%% *} received ${b%% *} ($(stat -c %s "$dst") bytes)"
	[ "$a" = "$b" ]
}

# pcap_udp FILE: one line per IPv4 UDP packet in FILE (an Ethernet or raw-IP
# pcap): "SRC:SPORT DST:DPORT PAYLOAD-HEX".
pcap_udp() {
	python3 -c 'import struct,sys,socket
data = open(sys.argv[1], "rb").read()
if len(data) < 24:
    sys.exit(0)
magic = data[:4]
e = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
link = struct.unpack(e + "I", data[20:24])[0]
off = 24
while off + 16 <= len(data):
    incl = struct.unpack(e + "I", data[off + 8:off + 12])[0]
    pkt = data[off + 16:off + 16 + incl]
    off += 16 + incl
    if link == 1:
        if len(pkt) < 14 or pkt[12:14] != b"\x08\x00":
            continue
        pkt = pkt[14:]
    elif link == 113:
        if len(pkt) < 16 or pkt[14:16] != b"\x08\x00":
            continue
        pkt = pkt[16:]
    if len(pkt) < 20 or pkt[0] >> 4 != 4 or pkt[9] != 17:
        continue
    ihl = (pkt[0] & 15) * 4
    if len(pkt) < ihl + 8:
        continue
    sp, dp = struct.unpack(">HH", pkt[ihl:ihl + 4])
    print("%s:%d %s:%d %s" % (socket.inet_ntoa(pkt[12:16]), sp, socket.inet_ntoa(pkt[16:20]), dp, pkt[ihl + 8:].hex()))' "$1"
}
# wire_impair HOST LOSS DELAY_MS REORDER [DUP]: cut HOST's eth0 from the wan
# bridge and join them again through a userspace "wire" (a python AF_PACKET
# forwarder in namespace mb-HOST) that drops LOSS percent of frames each
# way and delays the rest by DELAY_MS, except REORDER percent that go at
# once, and sends DUP percent (default 0) of the frames it forwards twice,
# the way `netem loss L delay D reorder R duplicate P` does on kernels that
# have sch_netem. Frames must stay within the MTU and carry full checksums, so
# GSO is limited to one segment on every host's eth0 and the forwarder
# completes checksums the sender left to offload. wire_clear HOST ends it.
wire_impair() {
	local host=$1 loss=$2 delay=$3 reorder=$4 dup=${5:-0} mb="$PFX-mb-$1" wan="$PFX-wan" ns
	ip netns add "$mb"; NSES+=("$mb")
	for ns in "${NSES[@]}"; do
		ip -n "$ns" link set dev eth0 gso_max_segs 1 2>/dev/null
	done
	ip -n "$wan" link set "v-$host" nomaster
	ip -n "$wan" link set "v-$host" netns "$mb"
	ip link add "qm$$w" netns "$mb" type veth peer name "m-$host" netns "$wan"
	ip -n "$mb" link set "qm$$w" name up0
	ip -n "$wan" link set "m-$host" master br0 up
	ip -n "$mb" link set "v-$host" up promisc on
	ip -n "$mb" link set up0 up promisc on
	rm -f "$T/wire-$host.ready"
	ip netns exec "$mb" python3 -c 'import heapq,random,select,socket,struct,sys,time
a, b, ready = sys.argv[1], sys.argv[2], sys.argv[6]
loss, delay, reorder = float(sys.argv[3]) / 100, float(sys.argv[4]) / 1000, float(sys.argv[5]) / 100
dup = float(sys.argv[7]) / 100
def csum(d):
    if len(d) % 2:
        d += b"\0"
    s = sum(struct.unpack("!%dH" % (len(d) // 2), d))
    while s >> 16:
        s = (s >> 16) + (s & 0xffff)
    return ~s & 0xffff
def complete(f):
    # IPv4 TCP/UDP whose checksum the sender left to offload.
    if len(f) < 34 or f[12:14] != b"\x08\x00":
        return f
    ihl = (f[14] & 15) * 4
    tot = struct.unpack("!H", f[16:18])[0]
    proto = f[23]
    off = {6: 16, 17: 6}.get(proto)
    if off is None or tot > len(f) - 14 or tot < ihl + off + 2:
        return f
    l4 = bytearray(f[14 + ihl:14 + tot])
    l4[off:off + 2] = b"\0\0"
    c = csum(f[26:34] + struct.pack("!BBH", 0, proto, len(l4)) + bytes(l4))
    if proto == 17 and c == 0:
        c = 0xffff
    l4[off:off + 2] = struct.pack("!H", c)
    return f[:14 + ihl] + bytes(l4) + f[14 + tot:]
socks = {}
for ifc in (a, b):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
    s.setsockopt(263, 8, 1)  # SOL_PACKET, PACKET_AUXDATA
    s.bind((ifc, 0))
    s.setblocking(False)
    socks[ifc] = s
other = {socks[a]: socks[b], socks[b]: socks[a]}
open(ready, "w").close()
q, seq = [], 0
while True:
    wait = max(0.0, q[0][0] - time.monotonic()) if q else None
    r, _, _ = select.select(list(other), [], [], wait)
    for s in r:
        while True:
            try:
                f, anc, _, addr = s.recvmsg(65536, socket.CMSG_SPACE(32))
            except BlockingIOError:
                break
            if addr[2] == socket.PACKET_OUTGOING or random.random() < loss:
                continue
            for lvl, typ, data in anc:
                if lvl == 263 and typ == 8 and struct.unpack("I", data[:4])[0] & 8:
                    f = complete(f)  # TP_STATUS_CSUMNOTREADY
            d = 0.0 if random.random() < reorder else delay
            heapq.heappush(q, (time.monotonic() + d, seq, other[s], f)); seq += 1
            if dup and random.random() < dup:
                # The copy takes its own draw: at once or after the delay.
                d = 0.0 if random.random() < reorder else delay
                heapq.heappush(q, (time.monotonic() + d, seq, other[s], f)); seq += 1
    now = time.monotonic()
    while q and q[0][0] <= now:
        _, _, o, f = heapq.heappop(q)
        try:
            o.send(f)
        except OSError:
            pass' "v-$host" up0 "$loss" "$delay" "$reorder" "$T/wire-$host.ready" "$dup" 2>"$T/wire-$host.err" &
	echo $! > "$T/wire-$host.pid"
	wait_for 5 test -e "$T/wire-$host.ready"
}
# wire_probe FROM TO TO_ADDR COUNT: COUNT numbered UDP datagrams 1 ms apart
# from FROM to TO_ADDR:9999 in TO; prints "received distinct inversions
# duplicates", the controls a test of an impaired wire asserts on.
wire_probe() {
	local from=$1 to=$2 addr=$3 count=$4 rpid
	rm -f "$T/probe.ready"
	nsx "$to" timeout 20 python3 -c 'import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((sys.argv[1], 9999))
open(sys.argv[2], "w").close(); s.settimeout(5); seen = []
try:
    while True:
        seen.append(int(s.recv(64)))
        s.settimeout(1)
except socket.timeout:
    pass
inv = sum(1 for i in range(1, len(seen)) if seen[i] < seen[i - 1])
print(len(seen), len(set(seen)), inv, len(seen) - len(set(seen)))' "$addr" "$T/probe.ready" > "$T/probe.out" &
	rpid=$!
	wait_for 5 test -e "$T/probe.ready"
	nsx "$from" python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(int(sys.argv[2])):
    s.sendto(b"%d" % i, (sys.argv[1], 9999)); time.sleep(0.001)' "$addr" "$count"
	wait "$rpid"
	cat "$T/probe.out"
}
# wire_clear HOST: stop HOST's impaired wire and bridge it straight through.
wire_clear() {
	local host=$1 mb="$PFX-mb-$1" pid
	pid=$(cat "$T/wire-$host.pid" 2>/dev/null) && { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
	rm -f "$T/wire-$host.pid"
	ip -n "$mb" link add br0 type bridge
	ip -n "$mb" link set "v-$host" master br0
	ip -n "$mb" link set up0 master br0
	ip -n "$mb" link set br0 up
}
export -f ovl_ping ovl_no_ping ovl_peer ovl_has_peer ovl_session ovl_no_link ovl_listening cap_count pcap_udp
# ---- end of overlay helpers -------------------------------------------------

# ---- names module helpers (tests/e2e/nss.sh, fed-v4.sh) -------------------
# The module is never installed on the host: nss_run runs a program in a
# mount namespace of its own where a read-only overlay adds
# libnss_q2q.so.2 to the system library directory, a test nsswitch.conf
# and hosts file are bound over /etc's, and /run is a fresh tmpfs whose
# /run/q2q is the daemon's socket directory. They vanish with the program.

# nss_setup: the module's copy, $T/etc/nsswitch.conf ("hosts: files q2q",
# NSS_CONF) and $T/etc/hosts (localhost only), for nss_run.
nss_setup() {
	LIBDIR=$(readlink -f "/lib/$(gcc -print-multiarch 2>/dev/null)")
	[ -d "$LIBDIR" ] || LIBDIR=$(dirname "$(readlink -f "$(ldd /bin/true | awk '/libc.so/ {print $3}')")")
	mkdir -p "$T/nsslib" "$T/etc"
	cp "$BIN/libnss_q2q.so.2" "$T/nsslib/"
	printf 'hosts: files q2q\n' > "$T/etc/nsswitch.conf"
	printf '127.0.0.1 localhost\n::1 localhost\n' > "$T/etc/hosts"
	chmod -R a+rX "$T/nsslib" "$T/etc"
	NSS_CONF=$T/etc/nsswitch.conf
	export LIBDIR NSS_CONF
}

# nss_run NODE [--run DIR] CMD...: CMD in NODE's network namespace, with
# the module, the test nsswitch.conf and /run/q2q = DIR (default NODE's
# socket directory).
nss_run() {
	local node=$1 run="$T/$1"; shift
	if [ "$1" = --run ]; then run=$2; shift 2; fi
	ip netns exec "$PFX-$node" unshare -m --propagation private sh -c '
		set -e
		mount -t overlay q2q-nss-test -o "lowerdir=$1:$2" "$2"
		mount --bind "$3" /etc/nsswitch.conf
		mount --bind "$4" /etc/hosts
		mount -t tmpfs -o mode=0755 q2q-nss-run /run
		mkdir -m 0755 /run/q2q /run/sshd
		mount --bind "$5" /run/q2q
		shift 5
		exec "$@"' nss_run "$T/nsslib" "$LIBDIR" "$NSS_CONF" "$T/etc/hosts" "$run" "$@"
}
export -f nss_run
# ---- end of names module helpers --------------------------------------------
