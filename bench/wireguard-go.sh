#!/bin/bash
# wireguard-go (userspace WireGuard on a TUN device) between the two bench
# namespaces: the yardstick q2q is measured against, since both carry IP
# packets through a TUN device and a userspace process.
#
# Sourced by bench/q2q.sh for its functions; run alone, it measures
# wireguard-go and plain veth and prints "name metric value" lines.
#
# Overlay: wga 198.18.0.1 <-> wgb 198.18.0.2, UDP port 51820, MTU 1420.

WG_A_IP=198.18.0.1
WG_B_IP=198.18.0.2
WG_DIR=""
WG_PIDS=()

# wggo_up: starts wireguard-go on both sides, configures keys and peers;
# sets WG_UP_MS to the milliseconds from starting the daemons to the first
# ping reply (the span `q2qctl up` + first ping covers for q2q), or "fail".
# Not to be run in a subshell: it records the daemons' pids.
wggo_up() {
	local side ns other ip oip ep t0 i
	WG_UP_MS=fail
	WG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/q2q-bench-wg.XXXXXX")
	(umask 077
	 wg genkey > "$WG_DIR/a"; wg genkey > "$WG_DIR/b")
	wg pubkey < "$WG_DIR/a" > "$WG_DIR/a.pub"
	wg pubkey < "$WG_DIR/b" > "$WG_DIR/b.pub"
	t0=$(now_ms)
	for side in a b; do
		if [ $side = a ]; then ns=$A other=b ip=$WG_A_IP oip=$WG_B_IP ep=192.0.2.2
		else ns=$B other=a ip=$WG_B_IP oip=$WG_A_IP ep=192.0.2.1; fi
		# ip netns exec execs the daemon, so $! is wireguard-go itself.
		ip netns exec "$ns" env WG_PROCESS_FOREGROUND=1 \
			WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 \
			wireguard-go "wg$side" >"$WG_DIR/log-$side" 2>&1 &
		WG_PIDS+=($!); BENCH_PIDS+=($!)
		for ((i = 0; i < 100; i++)); do
			ip netns exec "$ns" wg show "wg$side" >/dev/null 2>&1 && break
			sleep 0.02
		done
		ip netns exec "$ns" wg set "wg$side" listen-port 51820 private-key "$WG_DIR/$side" \
			peer "$(cat "$WG_DIR/$other.pub")" allowed-ips "$oip/32" endpoint "$ep:51820" || return 1
		ip -n "$ns" addr add "$ip/24" dev "wg$side"
		ip -n "$ns" link set "wg$side" mtu 1420 up
	done
	first_reply "$WG_B_IP" 20 || return 1
	WG_UP_MS=$(($(now_ms) - t0))
}

wggo_rss() {
	local a b
	a=$(rss_kib "${WG_PIDS[0]}"); b=$(rss_kib "${WG_PIDS[1]}")
	# the larger of the two: the receiver usually holds more buffers
	if [ "$a" = n/a ] || { [ "$b" != n/a ] && [ "$b" -gt "$a" ]; }; then echo "$b"; else echo "$a"; fi
}

# wggo_cpu: CPU time of both daemons so far, sender first.
wggo_cpu() { echo "a: $(cpu_times "${WG_PIDS[0]}"); b: $(cpu_times "${WG_PIDS[1]}")"; }

# wggo_down: stops both daemons (their TUN devices go with them).
wggo_down() {
	local pid
	for pid in "${WG_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
	for pid in "${WG_PIDS[@]}"; do
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null
	done
	WG_PIDS=()
	[ -n "$WG_DIR" ] && rm -rf "$WG_DIR"
	WG_DIR=""
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	. "$(dirname "$0")/netns-lib.sh"
	[ "$(id -u)" = 0 ] || { echo "wireguard-go.sh: needs root (network namespaces)" >&2; exit 1; }
	trap 'wggo_down; bench_ns_down' EXIT
	trap 'exit 130' INT TERM
	bench_ns_up || exit 1
	SECS=${SECS:-5}
	echo "plain-veth rtt_ms $(ping_rtt 192.0.2.2)"
	echo "plain-veth tcp_gbps $(iperf_gbps 192.0.2.2 "$SECS")"
	echo "plain-veth tcp_gbps_P4 $(iperf_gbps 192.0.2.2 "$SECS" -P 4)"
	wggo_up
	echo "wireguard-go up_to_first_reply_ms $WG_UP_MS"
	echo "wireguard-go rtt_ms $(ping_rtt $WG_B_IP)"
	echo "wireguard-go tcp_gbps $(iperf_gbps $WG_B_IP "$SECS")"
	echo "wireguard-go tcp_gbps_P4 $(iperf_gbps $WG_B_IP "$SECS" -P 4)"
	echo "wireguard-go rss_kib_after $(wggo_rss)"
fi
