# Port mapping for the NAT lab: a real miniupnpd (Debian's
# miniupnpd-nftables) on a natlab-lib.sh router, offering NAT-PMP and PCP
# on its LAN. Source it after natlab-lib.sh.
#
#   portmap_stun NAME ADDR1 ADDR2     a STUN server (stund) on the wan
#   portmap_gateway ROUTER STUN_ADDR [MAX_LIFETIME [upnp]]  (after portmap_stun)
#   portmap_liar ROUTER PORT          the router still grants mappings of
#                                     UDP PORT but drops what comes for it
#   portmap_squat HOST PORT           HOST maps external UDP PORT to its own
#                                     PORT (NAT-PMP, a one-shot client)
#   portmap_reboot ROUTER             miniupnpd restarts, its mappings lost
#   portmap_has ROUTER PORT           the router forwards UDP PORT (nft)
#   portmap_lease ROUTER PORT         miniupnpd's lease file holds UDP PORT
#   portmap_lease_expiry ROUTER PORT  ... and when it expires (Unix time)
#
# miniupnpd refuses to map anything while its WAN address is a reserved
# one, and every address this lab may use is (TEST-NET, 198.18/15). With
# ext_perform_stun it asks a STUN server instead and, seeing that nothing
# filters the answers (all four of RFC 5780's change tests come back),
# declares the address public and forwarding possible: so every world
# that has a gateway also has a STUN server with two addresses.
#
# The router's home firewall drops what comes unasked from the WAN, and
# the answers to the change tests come from the server's other address and
# port: portmap_gateway lets those in (and nothing else).
#
# Its rules live in a table of their own, "inet miniupnpd", so natlab's
# table stays untouched: the dnat chain runs just before natlab's (so a
# mapped port wins over the easy NAT's learnt map), and the home-router
# firewall in natlab's forward chain already lets in what a dnat let in.
# The filter chain miniupnpd fills is not hooked for that reason.

# portmap_stun NAME ADDR1 ADDR2: stund on a wan host with two addresses
# (/24 each, on the wan bridge); returns once it listens.
portmap_stun() {
	local name=$1 a1=$2 a2=$3
	host_add "$name" "$a1/24" || return 1
	ip -n "$PFX-$name" addr add "$a2/24" dev eth0 || return 1
	ip netns exec "$PFX-$name" stund -h "$a1" -a "$a2" >"$T/$name.log" 2>&1 &
	PORTMAP_STUN_ADDRS="$a1, $a2"
	wait_for 5 _portmap_udp_bound "$name" 3478
}

_portmap_udp_bound() { [ -n "$(ip netns exec "$PFX-$1" ss -Hlun "sport = :$2")" ]; }

# portmap_gateway ROUTER STUN_ADDR [MAX_LIFETIME [upnp]]: miniupnpd on
# ROUTER (NAT-PMP and PCP on its LAN; UPnP-IGD too with "upnp"), mappings
# for the LAN only, PCP lifetimes capped at MAX_LIFETIME seconds (default
# 3600). Returns once its STUN check passed and it listens on 5351.
portmap_gateway() {
	local r=$1 stun=$2 maxl=${3:-3600} upnp=no ns="$PFX-$1" d="$T/$1-miniupnpd"
	[ "${4:-}" = upnp ] && upnp=yes
	local lan="${NAT_GW[$r]%.*}.0/${NAT_PLEN[$r]}"
	mkdir -p "$d"
	ip netns exec "$ns" nft insert rule ip natlab input iifname wan ip saddr "{ $PORTMAP_STUN_ADDRS }" \
		udp sport '{ 3478, 3479 }' accept || return 1
	ip netns exec "$ns" nft -f - <<-EOF || { _nat_die "nft rejected the miniupnpd table on $r"; return 1; }
	table inet miniupnpd {
		chain forward_miniupnpd {
		}
		chain prerouting_miniupnpd {
		}
		chain postrouting_miniupnpd {
		}
		chain prerouting {
			type nat hook prerouting priority dstnat - 5; policy accept;
			jump prerouting_miniupnpd
		}
		chain postrouting {
			type nat hook postrouting priority srcnat - 5; policy accept;
			jump postrouting_miniupnpd
			# The router's own datagrams (miniupnpd's STUN check) keep
			# their ports: the hard NAT's random ports would tell it
			# that nothing it maps can be reached.
			oifname "wan" ip saddr ${NAT_WANIP[$r]} snat ip to ${NAT_WANIP[$r]}
		}
	}
	EOF
	cat > "$d/miniupnpd.conf" <<-EOF
	ext_ifname=wan
	listening_ip=lan
	enable_natpmp=yes
	enable_upnp=$upnp
	secure_mode=yes
	ext_perform_stun=yes
	ext_stun_host=$stun
	lease_file=$d/leases
	min_lifetime=10
	max_lifetime=$maxl
	upnp_table_name=miniupnpd
	upnp_nat_table_name=miniupnpd
	upnp_forward_chain=forward_miniupnpd
	upnp_nat_chain=prerouting_miniupnpd
	upnp_nat_postrouting_chain=postrouting_miniupnpd
	allow 1024-65535 $lan 1024-65535
	deny 0-65535 0.0.0.0/0 0-65535
	EOF
	ip netns exec "$ns" /usr/sbin/miniupnpd -d -f "$d/miniupnpd.conf" -P "$d/pid" >"$d/log" 2>&1 &
	wait_for 15 grep -q "Listening for NAT-PMP/PCP" "$d/log" ||
		{ _nat_die "miniupnpd on $r did not start:"; tail -5 "$d/log" >&2; return 1; }
	grep -q "Port forwarding is now enabled" "$d/log" ||
		{ _nat_die "miniupnpd on $r: STUN did not enable forwarding"; tail -5 "$d/log" >&2; return 1; }
}

# portmap_reboot ROUTER: miniupnpd on ROUTER stops and its mappings go
# (its rules and lease file, as in a reboot); it starts again with the
# same settings. Returns once it listens again.
portmap_reboot() {
	local r=$1 ns="$PFX-$1" d="$T/$1-miniupnpd" pid c
	pid=$(cat "$d/pid" 2>/dev/null) || return 1
	kill "$pid"
	wait_for 10 not_running "$pid" || return 1
	for c in prerouting_miniupnpd postrouting_miniupnpd forward_miniupnpd; do
		ip netns exec "$ns" nft flush chain inet miniupnpd $c || return 1
	done
	rm -f "$d/leases"
	mv "$d/log" "$d/log.1"
	ip netns exec "$ns" /usr/sbin/miniupnpd -d -f "$d/miniupnpd.conf" -P "$d/pid" >"$d/log" 2>&1 &
	wait_for 15 grep -q "Listening for NAT-PMP/PCP" "$d/log"
}
not_running() { ! kill -0 "$1" 2>/dev/null; }

# portmap_has ROUTER PORT: miniupnpd's dnat rule for UDP PORT is in ROUTER.
portmap_has() {
	ip netns exec "$PFX-$1" nft list chain inet miniupnpd prerouting_miniupnpd 2>/dev/null |
		grep -Eq "dport $2 dnat ip to "
}

# portmap_lease ROUTER PORT: miniupnpd's lease file has UDP PORT (it
# rewrites the file when a mapping is added or removed).
portmap_lease() { grep -q "^UDP:$2:" "$T/$1-miniupnpd/leases" 2>/dev/null; }

# portmap_lease_expiry ROUTER PORT: the expiry (Unix time) miniupnpd's
# lease file gives UDP PORT: lines are PROTO:EXT:CLIENT:INT:EXPIRY:DESC.
portmap_lease_expiry() {
	awk -F: -v p="$2" '$1 == "UDP" && $2 == p { print $5; exit }' "$T/$1-miniupnpd/leases" 2>/dev/null
}

# portmap_liar ROUTER PORT: a router that lies: miniupnpd goes on granting
# (and listing) the mapping, but what arrives from the WAN for external
# UDP PORT is dropped before its dnat. A table of its own.
portmap_liar() {
	ip netns exec "$PFX-$1" nft -f - <<-EOF
	table ip portmap_liar {
		chain prerouting {
			type filter hook prerouting priority dstnat - 10; policy accept;
			iifname "wan" udp dport $2 drop
		}
	}
	EOF
}

# portmap_squat HOST PORT: HOST asks its gateway (NAT-PMP, RFC 6886 3.3)
# for external UDP PORT to its own PORT, for an hour; succeeds if the
# gateway granted exactly that port.
portmap_squat() {
	ip netns exec "$PFX-$1" python3 -c 'import socket, struct, sys
port = int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
for _ in range(3):
    s.sendto(struct.pack("!BBHHHI", 0, 1, 0, port, port, 3600), (sys.argv[1], 5351))
    try:
        b = s.recv(64)
    except socket.timeout:
        continue
    v, op, rc, _, inp, ext, life = struct.unpack("!BBHIHHI", b[:16])
    sys.exit(0 if (op, rc, inp, ext) == (129, 0, port, port) else 1)
sys.exit(1)' "$(nat_gw "$(nat_router_of "$1")")" "$2"
}
