#!/bin/bash
# Nebula (Debian's `nebula` package: userspace, TUN, certificate
# identities signed by a CA, Noise handshake) between the two bench
# namespaces: the second peer q2q is measured against, the design closest
# to q2q's (identities in certificates, one userspace daemon per host).
#
# Sourced by bench/q2q.sh for its functions; run alone, it measures nebula
# and plain veth and prints "name metric value" lines.
#
# Overlay: neba 198.18.1.1 <-> nebb 198.18.1.2 (a /24 of its own: q2q uses
# 100.64.0.0/10, wireguard-go 198.18.0.0/24), UDP port 4242, MTU 1420 like
# wireguard-go's (nebula's default is 1300; its overhead over IPv4 is 60
# bytes, so 1440 would still fit a 1500 underlay). Neither host is a
# lighthouse: each finds the other through static_host_map. Everything
# else is nebula's default (one routine, AES-256-GCM).

NEB_A_IP=198.18.1.1
NEB_B_IP=198.18.1.2
NEB_DIR=""
NEB_PIDS=()

# nebula_check: true if nebula and nebula-cert are there, installing the
# Debian package when they are not; says so and fails if it cannot, so the
# caller can go on without nebula.
nebula_check() {
	command -v nebula >/dev/null && command -v nebula-cert >/dev/null && return 0
	echo "bench: installing nebula"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nebula >/dev/null 2>&1
	command -v nebula >/dev/null && command -v nebula-cert >/dev/null && return 0
	echo "bench: nebula is missing (Debian package nebula) and could not be installed: no nebula figures in this run" >&2
	return 1
}

# nebula_version: "1.6.1", or "-".
nebula_version() { nebula -version 2>/dev/null | sed -n 's/^Version: //p' | head -1 | grep . || echo -; }

# nebula_up: a CA and one certificate per host made with nebula-cert in a
# scratch directory, then both daemons; sets NEB_UP_MS to the milliseconds
# from starting the daemons to the first ping reply (certificates are made
# before the clock starts, as wireguard-go's keys are), or "fail".
# Not to be run in a subshell: it records the daemons' pids.
nebula_up() {
	local side ns ip oip ep t0
	NEB_UP_MS=fail
	NEB_DIR=$(mktemp -d "${TMPDIR:-/tmp}/q2q-bench-nebula.XXXXXX")
	(umask 077
	 nebula-cert ca -name q2q-bench-ca -duration 24h \
		-out-crt "$NEB_DIR/ca.crt" -out-key "$NEB_DIR/ca.key" &&
	 nebula-cert sign -ca-crt "$NEB_DIR/ca.crt" -ca-key "$NEB_DIR/ca.key" -name a -ip "$NEB_A_IP/24" \
		-out-crt "$NEB_DIR/a.crt" -out-key "$NEB_DIR/a.key" &&
	 nebula-cert sign -ca-crt "$NEB_DIR/ca.crt" -ca-key "$NEB_DIR/ca.key" -name b -ip "$NEB_B_IP/24" \
		-out-crt "$NEB_DIR/b.crt" -out-key "$NEB_DIR/b.key") >"$NEB_DIR/cert.log" 2>&1 ||
		{ echo "bench: nebula-cert failed:"; cat "$NEB_DIR/cert.log"; return 1; }
	for side in a b; do
		if [ $side = a ]; then oip=$NEB_B_IP ep=192.0.2.2
		else oip=$NEB_A_IP ep=192.0.2.1; fi
		cat > "$NEB_DIR/$side.yml" <<-YML
		pki:
		  ca: $NEB_DIR/ca.crt
		  cert: $NEB_DIR/$side.crt
		  key: $NEB_DIR/$side.key
		static_host_map:
		  "$oip": ["$ep:4242"]
		lighthouse:
		  am_lighthouse: false
		  hosts: []
		listen:
		  host: 0.0.0.0
		  port: 4242
		punchy:
		  punch: false
		tun:
		  dev: neb$side
		  mtu: 1420
		logging:
		  level: warning
		firewall:
		  outbound:
		    - {port: any, proto: any, host: any}
		  inbound:
		    - {port: any, proto: any, host: any}
		YML
	done
	t0=$(now_ms)
	for side in a b; do
		if [ $side = a ]; then ns=$A; else ns=$B; fi
		# ip netns exec execs the daemon, so $! is nebula itself.
		ip netns exec "$ns" nebula -config "$NEB_DIR/$side.yml" >"$NEB_DIR/log-$side" 2>&1 &
		NEB_PIDS+=($!); BENCH_PIDS+=($!)
	done
	first_reply "$NEB_B_IP" 20 || { echo "bench: no ping reply through nebula within 20 s:"; tail -3 "$NEB_DIR"/log-*; return 1; }
	NEB_UP_MS=$(($(now_ms) - t0))
}

# nebula_rss: the larger of the two daemons' RSS in KiB.
nebula_rss() {
	local a b
	a=$(rss_kib "${NEB_PIDS[0]}"); b=$(rss_kib "${NEB_PIDS[1]}")
	if [ "$a" = n/a ] || { [ "$b" != n/a ] && [ "$b" -gt "$a" ]; }; then echo "$b"; else echo "$a"; fi
}

# nebula_cpu: CPU time of both daemons so far, sender first.
nebula_cpu() { echo "a: $(cpu_times "${NEB_PIDS[0]}"); b: $(cpu_times "${NEB_PIDS[1]}")"; }

# nebula_down: stops both daemons (their TUN devices go with them) and
# removes the certificates. Safe to call twice.
nebula_down() {
	local pid
	for pid in "${NEB_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
	for pid in "${NEB_PIDS[@]}"; do
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null
	done
	NEB_PIDS=()
	[ -n "$NEB_DIR" ] && [ -z "${KEEP:-}" ] && rm -rf "$NEB_DIR"
	NEB_DIR=""
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	. "$(dirname "$0")/netns-lib.sh"
	[ "$(id -u)" = 0 ] || { echo "nebula-lib.sh: needs root (network namespaces)" >&2; exit 1; }
	nebula_check || exit 1
	trap 'nebula_down; bench_ns_down' EXIT
	trap 'exit 130' INT TERM
	bench_ns_up || exit 1
	SECS=${SECS:-5}
	echo "plain-veth rtt_ms $(ping_rtt 192.0.2.2)"
	echo "plain-veth tcp_gbps $(iperf_gbps 192.0.2.2 "$SECS")"
	nebula_up
	echo "nebula version $(nebula_version)"
	echo "nebula up_to_first_reply_ms $NEB_UP_MS"
	echo "nebula rtt_ms $(ping_rtt $NEB_B_IP)"
	echo "nebula tcp_gbps $(iperf_gbps $NEB_B_IP "$SECS")"
	echo "nebula tcp_gbps_P4 $(iperf_gbps $NEB_B_IP "$SECS" -P 4)"
	echo "nebula rss_kib_after $(nebula_rss)"
	echo "nebula cpu $(nebula_cpu)"
fi
