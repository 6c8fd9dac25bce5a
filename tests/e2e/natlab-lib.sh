# A NAT lab for q2q's NAT-traversal tests, built from network namespaces and
# nftables. Source it after lib.sh (it needs e2e_init's $T, $PFX and NSES).
#
# The "internet" is lib.sh's wan bridge (wan_up, 192.0.2.0/24; public hosts
# join with host_add). A NAT router is a namespace "$PFX-NAME" with a veth
# "wan" on the wan bridge (or on a parent router's LAN, for double NAT /
# CGNAT), a bridge "lan" carrying the LAN side address (.1 of LAN_NET), and
# one nftables table "natlab" holding the NAT and the home-router firewall.
# Hosts behind a router are namespaces whose eth0 is a veth into that bridge.
#
#   nat_router NAME TYPE WAN_ADDR/PLEN LAN_NET       TYPE: easy|restricted|hard
#   nat_router_behind NAME TYPE PARENT WAN_ADDR/PLEN LAN_NET
#   nat_host NAME ROUTER LAN_ADDR/PLEN
#   nat_set_timeout ROUTER SECONDS
#   nat_blackhole ROUTER on|off [SPARE_ADDR...]
#   nat_move_host HOST ROUTER|wan NEW_ADDR/PLEN
#   nat_wan_ip ROUTER, nat_gw ROUTER, nat_router_of HOST, nat_conntrack ROUTER
#   nat_observer HOST IP PORT...  (UDP echo of the source ip:port it saw)
#   nat_probe HOST LPORT DST:PORT...  /  nat_ask, nat_listen, nat_send
#
# The NAT types, in RFC 4787 terms:
#   easy        endpoint-independent mapping and filtering ("full cone").
#               nftables has no full-cone target, so the router learns each
#               mapping from outgoing UDP into a dynamic map (external port ->
#               LAN address . port, read from the conntrack tuples after snat)
#               and dnats new incoming UDP on that port to its owner. Entries
#               live as long as the UDP conntrack timeout after the last
#               outgoing packet, like the mapping they mirror.
#   restricted  endpoint-independent mapping, address-and-port-dependent
#               filtering ("port-restricted cone"): plain snat; only replies
#               (conntrack) get in.
#   hard        endpoint-dependent mapping ("symmetric"): snat fully-random,
#               so every new 5-tuple, hence every destination, gets a fresh
#               random external port.
# easy and restricted keep the source port when it is free (Linux snat tries
# the original port first); two LAN hosts using the same port to the same
# destination make the second one get another port.
#
# Every router also has a home router's firewall: new connections arriving
# on the WAN side are dropped in input and forward unless a dnat let them in.
# Without it an early probe from the far peer is delivered to the router
# itself and confirmed in conntrack, which then steals the tuple the local
# peer's own mapping needs (see TESTING.md). No hairpinning: hosts behind one
# router reach each other only by their LAN addresses.

declare -gA NAT_TYPE NAT_WANIP NAT_GW NAT_PLEN NAT_TIMEOUT NAT_HOSTR

_nat_die() { echo "natlab: $*" >&2; return 1; }

# Interface names are at most 15 bytes; bridge ports are "p-NAME".
_nat_name_ok() {
	[[ $1 =~ ^[a-z][a-z0-9]{0,12}$ ]] || _nat_die "name '$1' is not [a-z][a-z0-9]{0,12}"
}

# _nat_lan_gw NET/PLEN: prints "GW PLEN" (GW = first host address).
_nat_lan_gw() {
	python3 -c 'import ipaddress,sys
n = ipaddress.ip_network(sys.argv[1], strict=True)
print(n.network_address + 1, n.prefixlen)' "$1" 2>/dev/null || _nat_die "bad LAN network '$1'"
}

# _nat_plug NS IFNAME BRIDGE_NS BRIDGE PORTNAME: a veth IFNAME in NS whose
# other end PORTNAME joins BRIDGE in BRIDGE_NS.
_nat_plug() {
	local ns=$1 ifn=$2 bns=$3 br=$4 port=$5
	ip link add "$ifn" netns "$ns" type veth peer name "$port" netns "$bns" || return 1
	ip -n "$bns" link set "$port" master "$br" up || return 1
	ip -n "$ns" link set "$ifn" up
}

# _nat_ns_new NAME: a fresh namespace registered for cleanup.
_nat_ns_new() {
	local ns="$PFX-$1"
	ip netns add "$ns" || return 1
	NSES+=("$ns")
	ip -n "$ns" link set lo up
}

# The easy NAT's mapping learner. A rule, not the map, so that
# nat_set_timeout can change the entry lifetime without dropping entries.
_nat_learn_rule() {
	local r=$1
	echo "add rule ip natlab learn oifname \"wan\" meta l4proto udp ct direction original" \
		"update @fullcone { ct reply proto-dst timeout ${NAT_TIMEOUT[$r]}s :" \
		"ct original ip saddr . ct original proto-src }"
}

_nat_rules() {
	local r=$1 wan=${NAT_WANIP[$1]}
	cat <<-EOF
	table ip natlab {
		chain input {
			type filter hook input priority filter; policy accept;
			iifname "wan" ct state invalid drop
			iifname "wan" ct state new drop
		}
		chain forward {
			type filter hook forward priority filter; policy accept;
			iifname "wan" ct state invalid drop
			iifname "wan" ct state new ct status dnat accept
			iifname "wan" ct state new drop
		}
	}
	EOF
	case ${NAT_TYPE[$r]} in
	easy)
		cat <<-EOF
		table ip natlab {
			map fullcone {
				type inet_service : ipv4_addr . inet_service
				flags dynamic, timeout
				timeout ${NAT_TIMEOUT[$r]}s
			}
			chain prerouting {
				type nat hook prerouting priority dstnat; policy accept;
				iifname "wan" ip daddr $wan meta l4proto udp dnat ip addr . port to udp dport map @fullcone
			}
			chain postrouting {
				type nat hook postrouting priority srcnat; policy accept;
				oifname "wan" snat to $wan
			}
			# after srcnat, so the reply tuple holds the external port
			chain learn {
				type filter hook postrouting priority srcnat + 10; policy accept;
			}
		}
		EOF
		_nat_learn_rule "$r"
		;;
	restricted)
		cat <<-EOF
		table ip natlab {
			chain postrouting {
				type nat hook postrouting priority srcnat; policy accept;
				oifname "wan" snat to $wan
			}
		}
		EOF
		;;
	hard)
		cat <<-EOF
		table ip natlab {
			chain postrouting {
				type nat hook postrouting priority srcnat; policy accept;
				oifname "wan" snat to $wan fully-random
			}
		}
		EOF
		;;
	esac
}

# _nat_router_ns NAME TYPE WAN_ADDR/PLEN LAN_NET: the namespace, its LAN
# bridge and sysctls; the caller plugs in "wan" and then calls _nat_finish.
_nat_router_ns() {
	local name=$1 type=$2 wan=$3 lan=$4 ns="$PFX-$1" gwp
	_nat_name_ok "$name" || return 1
	case $type in easy|restricted|hard) ;; *) _nat_die "NAT type '$type' is not easy|restricted|hard"; return 1;; esac
	[[ $wan =~ ^[0-9.]+/[0-9]+$ ]] || { _nat_die "WAN address '$wan' is not ADDR/PLEN"; return 1; }
	gwp=$(_nat_lan_gw "$lan") || return 1
	_nat_ns_new "$name" || return 1
	NAT_TYPE[$name]=$type
	NAT_WANIP[$name]=${wan%/*}
	NAT_GW[$name]=${gwp% *}
	NAT_PLEN[$name]=${gwp#* }
	NAT_TIMEOUT[$name]=$(cat /proc/sys/net/netfilter/nf_conntrack_udp_timeout_stream 2>/dev/null || echo 120)
	ip -n "$ns" link add lan type bridge || return 1
	ip -n "$ns" addr add "${NAT_GW[$name]}/${NAT_PLEN[$name]}" dev lan
	ip -n "$ns" link set lan up
	# The LAN bridge is a plain switch, as in a home router: bridged
	# frames do not go through the IP hooks (new namespaces default to 1).
	ip netns exec "$ns" sysctl -qw net.bridge.bridge-nf-call-iptables=0 2>/dev/null
	ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
}

_nat_finish() {
	local name=$1 ns="$PFX-$1"
	ip -n "$ns" addr add "$2" dev wan || return 1
	_nat_rules "$name" | ip netns exec "$ns" nft -f - ||
		{ _nat_die "nft rejected the $name ruleset"; return 1; }
}

# nat_router NAME TYPE WAN_ADDR/PLEN LAN_NET: a NAT router on the wan bridge.
nat_router() {
	local name=$1 type=$2 wan=$3 lan=$4
	_nat_router_ns "$name" "$type" "$wan" "$lan" || return 1
	_nat_plug "$PFX-$name" wan "$PFX-wan" br0 "v-$name" || return 1
	_nat_finish "$name" "$wan"
}

# nat_router_behind NAME TYPE PARENT WAN_ADDR/PLEN LAN_NET: a NAT router
# whose WAN side is on PARENT's LAN (double NAT, CGNAT).
nat_router_behind() {
	local name=$1 type=$2 parent=$3 wan=$4 lan=$5
	[ -n "${NAT_TYPE[$parent]:-}" ] || { _nat_die "no router '$parent'"; return 1; }
	_nat_router_ns "$name" "$type" "$wan" "$lan" || return 1
	_nat_plug "$PFX-$name" wan "$PFX-$parent" lan "p-$name" || return 1
	_nat_finish "$name" "$wan" || return 1
	ip -n "$PFX-$name" route add default via "${NAT_GW[$parent]}"
}

# nat_host NAME ROUTER LAN_ADDR/PLEN: a host on ROUTER's LAN, default route
# via the router.
nat_host() {
	local name=$1 router=$2 addr=$3
	_nat_name_ok "$name" || return 1
	[ -n "${NAT_TYPE[$router]:-}" ] || { _nat_die "no router '$router'"; return 1; }
	_nat_ns_new "$name" || return 1
	_nat_attach "$name" "$router" "$addr"
}

# _nat_attach HOST ROUTER|wan ADDR/PLEN: give HOST a fresh eth0 there.
_nat_attach() {
	local name=$1 router=$2 addr=$3 ns="$PFX-$1"
	if [ "$router" = wan ]; then
		_nat_plug "$ns" eth0 "$PFX-wan" br0 "v-$name" || return 1
	else
		_nat_plug "$ns" eth0 "$PFX-$router" lan "p-$name" || return 1
	fi
	ip -n "$ns" addr add "$addr" dev eth0 || return 1
	if [ "$router" != wan ]; then
		ip -n "$ns" route add default via "${NAT_GW[$router]}" || return 1
	fi
	NAT_HOSTR[$name]=$router
}

# nat_move_host HOST ROUTER|wan NEW_ADDR/PLEN: roaming. HOST's eth0 is
# unplugged (deleting the veth pair) and a new one plugged into ROUTER's LAN
# (or straight into the wan bridge) with NEW_ADDR. Sockets bound to the
# wildcard address survive; ones bound to the old address do not.
nat_move_host() {
	local name=$1 router=$2 addr=$3
	[ "$router" = wan ] || [ -n "${NAT_TYPE[$router]:-}" ] || { _nat_die "no router '$router'"; return 1; }
	ip -n "$PFX-$name" link del eth0 2>/dev/null
	_nat_attach "$name" "$router" "$addr"
}

# nat_set_timeout ROUTER SECONDS: UDP conntrack timeouts (unreplied and
# stream) in ROUTER, and the easy NAT's mapping lifetime. Existing
# conntrack entries keep their expiry until their next packet.
nat_set_timeout() {
	local r=$1 secs=$2 ns="$PFX-$1"
	[[ $secs =~ ^[1-9][0-9]*$ ]] || { _nat_die "timeout '$secs' is not a positive number"; return 1; }
	ip netns exec "$ns" sysctl -qw net.netfilter.nf_conntrack_udp_timeout="$secs" \
		net.netfilter.nf_conntrack_udp_timeout_stream="$secs" || return 1
	NAT_TIMEOUT[$r]=$secs
	if [ "${NAT_TYPE[$r]}" = easy ]; then
		{ echo "flush chain ip natlab learn"; _nat_learn_rule "$r"; } | ip netns exec "$ns" nft -f -
	fi
}

# nat_blackhole ROUTER on|off [SPARE_ADDR...]: drop all UDP the router
# forwards, as if the direct path died; UDP to or from a SPARE_ADDR (say,
# the authority relaying) still passes. Kept in its own table so toggling
# it leaves the NAT mappings alone.
nat_blackhole() {
	local r=$1 mode=$2 ns="$PFX-$1" spare=""
	shift 2
	ip netns exec "$ns" nft delete table ip natlab_bh 2>/dev/null
	case $mode in
	off) return 0 ;;
	on) ;;
	*) _nat_die "nat_blackhole: '$mode' is not on|off"; return 1 ;;
	esac
	if [ $# -gt 0 ]; then
		spare=$(IFS=,; echo "$*")
		spare="ip saddr != { $spare } ip daddr != { $spare }"
	fi
	ip netns exec "$ns" nft -f - <<-EOF
	table ip natlab_bh {
		chain forward {
			type filter hook forward priority filter - 10; policy accept;
			meta l4proto udp $spare drop
		}
	}
	EOF
}

nat_wan_ip() { echo "${NAT_WANIP[$1]}"; }
nat_gw() { echo "${NAT_GW[$1]}"; }
# nat_router_of HOST: the router whose LAN HOST is on ("wan" if none).
nat_router_of() { echo "${NAT_HOSTR[$1]:-wan}"; }
# nat_conntrack ROUTER [GREP_PATTERN]: ROUTER's conntrack table (UDP lines).
nat_conntrack() {
	ip netns exec "$PFX-$1" cat /proc/net/nf_conntrack 2>/dev/null | grep -E '\budp\b' | grep -E -- "${2:-.}"
}

# ---- UDP probes -------------------------------------------------------------
# One small Python tool for all of them:
#   serve IP PORT...      observer: answers every datagram with "IP:PORT" of
#                         its source (plus " id=X" if the request had id=X);
#                         "delay=S" answers after S seconds, "via=P" answers
#                         from its port P instead of the one asked.
#   ask LPORT WAIT TRIES [DST PAYLOAD]...
#                         from local port LPORT, one request per DST; prints
#                         each answer (without the id), or "-" after WAIT s.
#   listen LPORT SECS OUT [DST]
#                         binds LPORT; with DST first asks DST and writes
#                         "mapped IP:PORT" to OUT; then appends "from IP:PORT
#                         PAYLOAD" for every datagram for SECS seconds.
#   send LPORT DST PAYLOAD COUNT    fire and forget, 50 ms apart.
NAT_PY='import select, socket, sys, time

def addr(s):
    h, _, p = s.rpartition(":")
    return (h, int(p))

def bound(port, ip="0.0.0.0"):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((ip, port))
    return s

def words(data):
    out = {}
    for w in data.split()[:8]:
        k, eq, v = w.partition(b"=")
        if eq and len(v) <= 16:
            out[k.decode("ascii", "replace")] = v.decode("ascii", "replace")
    return out

def serve(ip, ports):
    socks = {p: bound(p, ip) for p in ports}
    pending = []
    while True:
        now = time.monotonic()
        for item in [x for x in pending if x[0] <= now]:
            pending.remove(item)
            try:
                socks[item[1]].sendto(item[3], item[2])
            except OSError:
                pass
        wait = max(0.0, min(x[0] for x in pending) - now) if pending else None
        r, _, _ = select.select(list(socks.values()), [], [], wait)
        for s in r:
            data, frm = s.recvfrom(2048)
            w = words(data)
            delay, via = 0.0, s.getsockname()[1]
            try:
                delay = min(max(float(w.get("delay", 0)), 0.0), 60.0)
                if int(w.get("via", via)) in socks:
                    via = int(w.get("via", via))
            except ValueError:
                continue
            msg = "%s:%d" % frm
            if "id" in w:
                msg += " id=" + w["id"]
            pending.append((time.monotonic() + delay, via, frm, msg.encode()))

def ask(lport, wait, tries, pairs):
    s = bound(lport)
    for n, (dst, payload) in enumerate(pairs):
        tag = "id=%d.%d" % (time.monotonic_ns() % 1000000, n)
        answer = "-"
        for _ in range(tries):
            s.sendto((payload + " " + tag).encode(), addr(dst))
            end = time.monotonic() + wait / tries
            while answer == "-":
                left = end - time.monotonic()
                if left <= 0 or not select.select([s], [], [], left)[0]:
                    break
                data = s.recv(2048).decode("ascii", "replace").split()
                if len(data) == 2 and data[1] == tag:
                    answer = data[0]
            if answer != "-":
                break
        print(answer, flush=True)

def listen(lport, secs, out, dst):
    s = bound(lport)
    end = time.monotonic() + secs
    with open(out, "a") as f:
        if dst:
            for _ in range(5):
                s.sendto(b"probe id=m", addr(dst))
                if select.select([s], [], [], 0.4)[0]:
                    data = s.recv(2048).decode("ascii", "replace").split()
                    if len(data) == 2 and data[1] == "id=m":
                        f.write("mapped %s\n" % data[0])
                        break
            f.flush()
        while True:
            left = end - time.monotonic()
            if left <= 0 or not select.select([s], [], [], left)[0]:
                if left <= 0:
                    break
                continue
            data, frm = s.recvfrom(2048)
            f.write("from %s:%d %s\n" % (frm[0], frm[1], data[:64].decode("ascii", "replace")))
            f.flush()

def send(lport, dst, payload, count):
    s = bound(lport)
    for i in range(count):
        s.sendto(payload.encode(), addr(dst))
        time.sleep(0.05)

a = sys.argv[1:]
if a[0] == "serve":
    serve(a[1], [int(p) for p in a[2:]])
elif a[0] == "ask":
    ask(int(a[1]), float(a[2]), int(a[3]), list(zip(a[4::2], a[5::2])))
elif a[0] == "listen":
    listen(int(a[1]), float(a[2]), a[3], a[4] if len(a) > 4 else None)
elif a[0] == "send":
    send(int(a[1]), a[2], a[3], int(a[4]))
'

# The interpreter itself, not a wrapper (pyenv's shim is a shell script that
# stays the parent, so the signal that ends the tool is reported by it).
NAT_PYTHON=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) || NAT_PYTHON=python3
_nat_py() { local n=$1; shift; ip netns exec "$PFX-$n" "$NAT_PYTHON" -c "$NAT_PY" "$@"; }

# nat_observer HOST IP PORT...: the UDP observer in HOST, in the background;
# returns once it listens on every port.
nat_observer() {
	local host=$1 ip=$2 p; shift 2
	# Started directly, not through _nat_py: a function in the background
	# is a subshell that would stay the parent and report "Terminated".
	ip netns exec "$PFX-$host" "$NAT_PYTHON" -c "$NAT_PY" serve "$ip" "$@" &
	disown $!	# e2e_cleanup ends it
	for p in "$@"; do
		wait_for 5 _nat_udp_bound "$host" "$p" || { _nat_die "observer in $host not listening on $p"; return 1; }
	done
}
_nat_udp_bound() { [ -n "$(ip netns exec "$PFX-$1" ss -Hlun "sport = :$2")" ]; }

# nat_probe HOST LPORT DST:PORT...: the external IP:PORT each observer saw
# for HOST's local port LPORT, one line each ("-" for no answer in 2 s).
nat_probe() {
	local host=$1 lport=$2 d args=(); shift 2
	for d in "$@"; do args+=("$d" probe); done
	_nat_py "$host" ask "$lport" 2 4 "${args[@]}"
}

# nat_ask HOST LPORT WAIT DST:PORT PAYLOAD: one request, sent once, no
# retries (a retry would refresh the mapping); prints the answer or "-".
nat_ask() { _nat_py "$1" ask "$2" "$3" 1 "$4" "$5"; }

# nat_listen HOST LPORT SECS OUT [DST:PORT]: background listener (see
# NAT_PY); with DST, returns once OUT holds the mapping, else once bound.
# It ends by itself after SECS; its pid is in OUT.pid.
nat_listen() {
	local host=$1 lport=$2 secs=$3 out=$4 dst=${5:-}
	: > "$out"
	ip netns exec "$PFX-$host" "$NAT_PYTHON" -c "$NAT_PY" listen "$lport" "$secs" "$out" $dst &
	echo $! > "$out.pid"
	disown $!
	if [ -n "$dst" ]; then
		wait_for 5 grep -q '^mapped ' "$out"
	else
		wait_for 5 _nat_udp_bound "$host" "$lport"
	fi
}
# nat_mapped OUT: the mapping a nat_listen recorded.
nat_mapped() { sed -n 's/^mapped //p' "$1" | head -1; }

# nat_send HOST LPORT DST:PORT PAYLOAD [COUNT]: fire and forget.
nat_send() { _nat_py "$1" send "$2" "$3" "$4" "${5:-3}"; }

# ===========================================================================
# Shared by nat-matrix.sh and nat-paths.sh: two nodes joined through the lab,
# and cases run side by side, each in a world of its own. These use lib.sh's
# daemons, overlay helpers and checks; every check's name starts with $tag
# ("[CASE]", set by nat_cases).
#
#   nat_auth_start NAME DOMAIN [SETTINGS]
#   nat_join NODE IDENTITY AUTHNS AUTHADDR [CONFIG...]
#   nat_pair AUTHADDR [ALICE_CONFIG...] [-- BOB_CONFIG...]    (sets A4, B4)
#   nat_pair_settles PATH SECS
#   nat_pair_copies PATH          (files both ways intact, path still PATH)
#   nat_marked MARK FILE          (256 KB of text repeating MARK)
#   nat_relay_forgeries RELAY ADDR PCAP FORGER FORGER_ADDR
#                                 (forged and replayed RELAY: nothing out)
#   nat_path_is NODE IDENTITY PATH, nat_endpoint_in NODE IDENTITY GLOB
#   nat_cases JOBS FUNC CASE...
# ===========================================================================

# nat_path_is NODE IDENTITY PATH: NODE's path to IDENTITY is PATH
# (direct|relay).
nat_path_is() { [ "$(ovl_peer "$1" "$2" path)" = "$3" ]; }
# nat_endpoint_in NODE IDENTITY GLOB: the endpoint NODE uses for IDENTITY
# matches GLOB.
# shellcheck disable=SC2053
nat_endpoint_in() { [[ "$(ovl_peer "$1" "$2" endpoint)" == $3 ]]; }

# nat_auth_start NAME DOMAIN [SETTINGS]: NAME's q2qd as the authority for
# DOMAIN on TCP+UDP 8788; SETTINGS go into its authority block.
nat_auth_start() {
	q2qd_conf "$1" "authority = { domain = \"$2\"; listen = \"0.0.0.0:8788\"; $3 };"
	q2qd_start "$1"
}

# nat_join NODE IDENTITY AUTHNS AUTHADDR [CONFIG...]: start NODE's q2qd
# (port 8789, plus CONFIG lines), enroll it as IDENTITY at the authority in
# namespace AUTHNS listening on AUTHADDR, bring it up. Failures are checks.
nat_join() {
	local node=$1 id=$2 auth=$3 addr=$4 f=$FAIL
	shift 4
	q2qd_conf "$node" 'port = 8789;' "$@"
	q2qd_start "$node" || { check "$tag q2qd $node starts" false; return 1; }
	check "$tag $node enrolls as $id" ovl_enroll "$node" "$id" "$auth" "$addr:8788"
	check "$tag $node up" ctl "$node" up
	[ "$FAIL" = "$f" ]
}

# nat_pair AUTHADDR [ALICE_CONFIG...] [-- BOB_CONFIG...]: the example.com
# authority in namespace auth at AUTHADDR, alice@example.com and
# bob@example.com joined; sets A4 and B4 (their overlay IPv4) once each
# resolves the other.
nat_pair() {
	local addr=$1 ca=() cb=()
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do ca+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	cb=("$@")
	nat_auth_start auth example.com || { check "$tag authority starts" false; return 1; }
	nat_join alice alice@example.com auth "$addr" "${ca[@]}" || return 1
	nat_join bob bob@example.com auth "$addr" "${cb[@]}" || return 1
	# up answers once registered, or after 5 s if the authority is slow:
	# a loaded machine may still need the wait
	wait_for 10 ctl alice resolve bob@example.com
	wait_for 10 ctl bob resolve alice@example.com
	A4=$(ctl bob resolve alice@example.com 2>/dev/null)
	B4=$(ctl alice resolve bob@example.com 2>/dev/null)
	if [ -z "$A4" ] || [ -z "$B4" ]; then
		check "$tag both overlay addresses resolve" false
		return 1
	fi
}

# nat_pair_settles PATH SECS: alice and bob ping each other, then alice's
# path to bob becomes PATH (direct|relay) within SECS, and bob's to alice
# within 15 s. A session may start on the relay and move to direct once a
# punch lands, so this waits for PATH rather than looking once.
nat_pair_settles() {
	check "$tag alice pings bob" wait_for 30 ovl_ping alice "$B4"
	check "$tag bob pings alice" wait_for 10 ovl_ping bob "$A4"
	check "$tag alice's path to bob becomes $1" wait_for "$2" nat_path_is alice bob@example.com "$1"
	check "$tag bob's path to alice becomes $1" wait_for 15 nat_path_is bob alice@example.com "$1"
}

# nat_pair_copies PATH: FILE_KB (default 256) KB of random bytes copied
# alice->bob and bob->alice over the overlay arrive intact, and alice's
# path to bob is still PATH afterwards.
nat_pair_copies() {
	head -c "${FILE_KB:-256}K" /dev/urandom > "$T/file"
	check "$tag ${FILE_KB:-256} KB alice->bob arrives intact" \
		tcp_copy alice bob "$B4" 5001 "$T/file" "$T/file.rx"
	check "$tag ${FILE_KB:-256} KB bob->alice arrives intact" \
		tcp_copy bob alice "$A4" 5002 "$T/file" "$T/file.rx2"
	check_eq "$tag alice's path to bob is still $1" "$(ovl_peer alice bob@example.com path)" "$1"
}

# nat_marked MARK FILE: 256 KB of lines repeating MARK, for a copy whose
# plaintext must never show in a capture on the way.
nat_marked() {
	python3 -c 'import sys
line = (sys.argv[1] + " ").encode() * 20 + b"\n"
sys.stdout.buffer.write(line * (262144 // len(line)))' "$1" > "$2"
}

# nat_relay_forgeries RELAY ADDR PCAP FORGER FORGER_ADDR: what a host on the
# internet (FORGER, at FORGER_ADDR) gets out of the relay in namespace RELAY
# at ADDR (UDP 8788) when it sends 200 forged RELAY datagrams (random node
# ids, or the real ones read off PCAP, a capture of RELAY's eth0 while it
# relayed, with random macs) and 20 replays of genuine ones from PCAP:
# nothing sent back, nothing forwarded. Checks, named with $tag.
nat_relay_forgeries() {
	local relay=$1 addr=$2 pcap=$3 forger=$4 faddr=$5 ids n
	# Real node ids, as an on-path observer reads them off RELAY headers;
	# and 20 genuine RELAY datagrams to replay.
	pcap_udp "$pcap" | awk -v a="$addr:8788" '$2 == a && $3 ~ /^07000000/' > "$T/genuine"
	ids=$(awk '{ print substr($3, 9, 8); print substr($3, 17, 8) }' "$T/genuine" | sort -u | tr '\n' ,)
	check "$tag the capture shows genuine RELAY datagrams to forge from" test -s "$T/genuine"

	# Quiet now (no pings, the copy is done): capture, forge, compare.
	cap_start "$relay" eth0 "$T/forge.pcap" udp or icmp
	nsx "$forger" python3 -c 'import os, random, socket, sys, time
dst, ids, genuine, out = sys.argv[1], [bytes.fromhex(x) for x in sys.argv[2].split(",") if x], sys.argv[3], sys.argv[4]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 40000))
sent = []
for i in range(200):
    if i % 2 and len(ids) >= 2:
        sender, target = random.sample(ids, 2)
    else:
        sender, target = os.urandom(4), os.urandom(4)
    body = os.urandom(random.randint(100, 600))
    d = b"\x07\0\0\0" + sender + target + os.urandom(8) + os.urandom(16) + body
    s.sendto(d, (dst, 8788))
    sent.append(body.hex())
    time.sleep(0.002)
with open(genuine) as f:
    replays = [bytes.fromhex(l.split()[2]) for l in f][-20:]
for d in replays:
    s.sendto(d, (dst, 8788))
    time.sleep(0.002)
    sent.append(d[36:].hex())
with open(out, "w") as f:
    f.write("\n".join(sent) + "\n")
print("sent", len(sent))' "$addr" "$ids" "$T/genuine" "$T/forged" > "$T/forger.out" 2>&1
	# Anything forwarded leaves within milliseconds; give it a second.
	sleep 1
	cap_stop "$T/forge.pcap"
	echo "# $tag $(cat "$T/forger.out")"
	# (tcpdump may miss a few under load; what it saw is what is judged)
	n=$(cap_count "$T/forge.pcap" "src host $faddr and udp dst port 8788")
	check "$tag control: the capture saw the flood ($n of 220 datagrams)" test "$n" -ge 200
	check_eq "$tag the relay sent nothing to the forger" \
		"$(cap_count "$T/forge.pcap" "src host $addr and dst host $faddr")" 0
	pcap_udp "$T/forge.pcap" | awk -v a="$addr" -v f="$faddr" 'index($1, a ":") == 1 && index($2, f ":") != 1' > "$T/out"
	echo "# $tag during the flood the relay sent $(wc -l < "$T/out") datagrams to nodes," \
		"sizes: $(awk '{ printf "%d ", length($3) / 2 }' "$T/out")"
	check_eq "$tag nothing bigger than a relayed keepalive went to the nodes" \
		"$(awk 'length($3) / 2 > 100' "$T/out" | wc -l)" 0
	check_eq "$tag no forged or replayed payload was forwarded" \
		"$(awk '{ print substr($3, 73) }' "$T/out" | grep -cxFf "$T/forged")" 0
}

# _nat_case FUNC CASE N TOP: the body of one case, run in the background
# (so in a subshell of its own): lib.sh's globals are set for its world.
_nat_case() {
	local fn=$1 c=$2 start out
	# shellcheck disable=SC2034
	PFX="$PFX-$3"; T="$4/c$3"; NSES=(); tag="[$c]"
	mkdir -p "$T"; chmod 755 "$T"
	trap e2e_cleanup EXIT
	trap 'exit 130' INT TERM
	start=$(date +%s)
	"$fn" "$c"
	if [ "$FAIL" -gt 0 ]; then
		for out in "$T"/*/log; do
			[ -f "$out" ] || continue
			tail -25 "$out" | sed "s/^/    # $(basename "$(dirname "$out")"): /"
		done
	fi
	echo "# $tag $(( $(date +%s) - start )) s"
}

# nat_cases JOBS FUNC CASE...: runs "FUNC CASE" for every CASE, JOBS at a
# time, each in a subshell with a world of its own (namespaces $PFX-N-*,
# files under $T/cN, its own NSES and cleanup) and $tag set to "[CASE]".
# When all have ended, prints each case's output in order (after a failed
# check, the tail of every daemon's log) and adds its checks to PASS, FAIL
# and SKIP; a case that did not print its closing "# [CASE] N s" line
# counts as one more failure.
nat_cases() {
	local max=$1 fn=$2 i=0 c out
	shift 2
	for c in "$@"; do
		i=$((i + 1))
		while [ "$(jobs -rp | wc -l)" -ge "$max" ]; do wait -n; done
		_nat_case "$fn" "$c" "$i" "$T" > "$T/c$i.out" 2>&1 &
	done
	wait

	i=0
	for c in "$@"; do
		i=$((i + 1))
		out="$T/c$i.out"
		cat "$out"
		PASS=$((PASS + $(grep -c '^ok - ' "$out")))
		FAIL=$((FAIL + $(grep -c '^not ok - ' "$out")))
		SKIP=$((SKIP + $(grep -c '^skip - ' "$out")))
		grep -q "^# \[$c\] [0-9]* s$" "$out" ||
			{ FAIL=$((FAIL + 1)); echo "not ok - [$c] case did not finish"; }
	done
}

# ===========================================================================
# Carrier-grade NAT (nat-cgnat.sh). An ISP's NAT whose inside is the shared
# address space 100.64.0.0/10 (RFC 6598): home routers (nat_router_behind
# CGN ...) sit on its inside LAN, each with a WAN address in that range.
#
#   cgnat_router NAME TYPE on|off WAN_ADDR/PLEN [INSIDE_NET]
#                TYPE: easy|restricted|hard, as for nat_router; on|off:
#                hairpinning; INSIDE_NET defaults to 100.64.0.0/10
#   cgnat_hairpin ROUTER        prints on|off
#   nat_within SECS COMMAND...  waits on the wall clock, not on tries
#
# What differs from nat_router, and why:
# - Many customers share one public address, and every node uses the same
#   local port, so home routers hand the CGNAT the same source port again
#   and again. Linux snat then picks another port for the second customer,
#   flow by flow: whether it picks the same one towards the next
#   destination depends on the kernel (older ones pick at random; the one
#   here happens to repeat itself). So easy and restricted CGNATs learn
#   each customer mapping (inside address . port -> public address . port,
#   map "eim") from the first outgoing flow and snat later flows of the
#   same inside endpoint to it: endpoint-independent mapping for all, as
#   RFC 4787 REQ-1 and RFC 6888 ask of a CGNAT, on any kernel.
# - Hairpinning (RFC 4787 REQ-9): with it on, UDP from the inside to the
#   CGNAT's public address and a mapped port is dnatted to that mapping's
#   owner (map "fullcone", learned for every TYPE), and snatted to the
#   sender's own public mapping, so the receiver sees the sender as the
#   outside world does. With it off, such datagrams are dropped, as many
#   CGNATs do.
# - The inside LAN is routed, not switched, between customers: a datagram
#   hairpinned back out of the interface it came in on must not make the
#   CGNAT send ICMP redirects (home routers would then bypass it).
# ===========================================================================

declare -gA CGNAT_HAIRPIN

# _cgnat_rules NAME INSIDE_NET: the CGNAT's table (one nft -f input).
_cgnat_rules() {
	local r=$1 in=$2 wan=${NAT_WANIP[$1]} rnd="" t=${NAT_TIMEOUT[$1]}
	[ "${NAT_TYPE[$r]}" = hard ] && rnd=" fully-random"
	cat <<-EOF
	table ip natlab {
		map fullcone {
			type inet_service : ipv4_addr . inet_service
			flags dynamic, timeout
			timeout ${t}s
		}
		map eim {
			type ipv4_addr . inet_service : ipv4_addr . inet_service
			flags dynamic, timeout
			timeout ${t}s
		}
		chain input {
			type filter hook input priority filter; policy accept;
			iifname "wan" ct state invalid drop
			iifname "wan" ct state new drop
			iifname "lan" ip daddr $wan meta l4proto udp drop
		}
		chain forward {
			type filter hook forward priority filter; policy accept;
			iifname "wan" ct state invalid drop
			iifname "wan" ct state new ct status dnat accept
			iifname "wan" ct state new drop
		}
		chain prerouting {
			type nat hook prerouting priority dstnat; policy accept;
		}
		chain postrouting {
			type nat hook postrouting priority srcnat; policy accept;
		}
		chain learn {
			type filter hook postrouting priority srcnat + 10; policy accept;
		}
		chain learneim {
			type filter hook postrouting priority srcnat + 10; policy accept;
		}
	}
	EOF
	# The learners are nat_set_timeout's (chain learn) and ours.
	_nat_learn_rule "$r"
	if [ "${NAT_TYPE[$r]}" = easy ]; then
		echo "add rule ip natlab prerouting iifname \"wan\" ip daddr $wan meta l4proto udp" \
			"dnat ip addr . port to udp dport map @fullcone"
	fi
	if [ "${CGNAT_HAIRPIN[$r]}" = on ]; then
		echo "add rule ip natlab prerouting iifname \"lan\" ip daddr $wan meta l4proto udp" \
			"dnat ip addr . port to udp dport map @fullcone"
	fi
	if [ -z "$rnd" ]; then
		echo "add rule ip natlab learneim oifname \"wan\" meta l4proto udp ct direction original" \
			"update @eim { ct original ip saddr . ct original proto-src timeout ${t}s :" \
			"ct reply ip daddr . ct reply proto-dst }"
		# A hairpinned datagram leaves by the inside LAN; the
		# sender's public mapping goes with it.
		echo "add rule ip natlab postrouting oifname \"lan\" ip saddr $in ct status dnat meta l4proto udp" \
			"snat ip addr . port to ip saddr . udp sport map @eim"
		echo "add rule ip natlab postrouting oifname \"wan\" meta l4proto udp" \
			"snat ip addr . port to ip saddr . udp sport map @eim"
	fi
	echo "add rule ip natlab postrouting oifname \"lan\" ip saddr $in ct status dnat snat to $wan$rnd"
	echo "add rule ip natlab postrouting oifname \"wan\" snat to $wan$rnd"
}

# cgnat_router NAME TYPE on|off WAN_ADDR/PLEN [INSIDE_NET]: a CGNAT on the
# wan bridge; its inside LAN bridge holds the first address of INSIDE_NET.
cgnat_router() {
	local name=$1 type=$2 hp=$3 wan=$4 in=${5:-100.64.0.0/10} ns="$PFX-$1"
	case $hp in on|off) ;; *) _nat_die "hairpin '$hp' is not on|off"; return 1 ;; esac
	_nat_router_ns "$name" "$type" "$wan" "$in" || return 1
	CGNAT_HAIRPIN[$name]=$hp
	ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.send_redirects=0 \
		net.ipv4.conf.lan.send_redirects=0 || return 1
	_nat_plug "$ns" wan "$PFX-wan" br0 "v-$name" || return 1
	ip -n "$ns" addr add "$wan" dev wan || return 1
	_cgnat_rules "$name" "$in" | ip netns exec "$ns" nft -f - ||
		{ _nat_die "nft rejected the $name CGNAT ruleset"; return 1; }
}

cgnat_hairpin() { echo "${CGNAT_HAIRPIN[$1]:-off}"; }

# nat_within SECS COMMAND...: COMMAND succeeds within SECS seconds of wall
# clock (lib.sh's wait_for counts tries, so a command that itself takes a
# second, a ping -W1, would stretch it tenfold when it fails).
nat_within() {
	local end=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.2
	done
}
