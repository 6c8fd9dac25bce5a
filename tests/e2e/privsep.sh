#!/bin/bash
# q2qd's parts, as a user or an attacker would find them: the privileged
# part keeps only CAP_NET_ADMIN; the engine runs as q2q with no
# capabilities, no_new_privs and a seccomp filter; on the authority the CA
# key is in a process and a directory of its own. A compromised engine is
# played by taking a copy of its socket to the privileged part
# (pidfd_getfd) and sending what an attacker would: other interfaces,
# a default route, foreign addresses, garbage. Killing any part leaves no
# q2q0, no route and no process.
#
#                 wan bridge (192.0.2.0/24)
#     +---------------+---------------+
#     |               |               |
#  auth .10        alice .11        bob .12
#  example.com     q2q0             q2q0
#  (authority: privileged part, CA process, engine)
. "$(dirname "$0")/lib.sh"
e2e_init privsep

wan_up
host_add auth 192.0.2.10/24
host_add alice 192.0.2.11/24
host_add bob 192.0.2.12/24
ovl_pair || exit 1
ovl_pair_up
check "alice pings bob" wait_for 10 ovl_ping alice "$B4"

# ---------------------------------------------------------------- the parts
for n in alice auth; do
	P=$(cat "$T/$n/pid"); E=$(q2qd_engine "$n")
	check_eq "$n: the privileged part is root with CapEff CAP_NET_ADMIN only" \
		"$(stat -c %U "/proc/$P") $(proc_field "$P" CapEff)" "root 0000000000001000"
	check_eq "$n: the privileged part has NoNewPrivs, and CAP_NET_ADMIN alone in its bounding set" \
		"$(proc_field "$P" NoNewPrivs) $(proc_field "$P" CapBnd)" "1 0000000000001000"
	check_eq "$n: the engine is user q2q" "$(stat -c %U "/proc/$E")" q2q
	check_eq "$n: the engine has CapEff 0, CapPrm 0, CapAmb 0, CapBnd 0" \
		"$(proc_field "$E" CapEff) $(proc_field "$E" CapPrm) $(proc_field "$E" CapAmb) $(proc_field "$E" CapBnd)" \
		"0000000000000000 0000000000000000 0000000000000000 0000000000000000"
	check_eq "$n: the engine has NoNewPrivs" "$(proc_field "$E" NoNewPrivs)" 1
	check_eq "$n: the engine runs under a seccomp filter (Seccomp: 2)" "$(proc_field "$E" Seccomp)" 2
	check_eq "$n: the engine has no other children" "$(pgrep -P "$E" | wc -l)" 0
done
check_eq "alice (a node) has no CA process" "$(q2qd_ca alice | wc -l)" 0

# ---------------------------------------------------------------- the CA key
CA_DIR="$T/auth/state-ca"
C=$(q2qd_ca auth); E=$(q2qd_engine auth)
check "auth has a CA process" test -n "$C"
if [ -n "$C" ]; then
	check_eq "the CA process is root with no capabilities" \
		"$(stat -c %U "/proc/$C") $(proc_field "$C" CapEff) $(proc_field "$C" CapPrm)" \
		"root 0000000000000000 0000000000000000"
	check_eq "the CA process has NoNewPrivs and a seccomp filter" \
		"$(proc_field "$C" NoNewPrivs) $(proc_field "$C" Seccomp)" "1 2"
fi
check_eq "the CA key is root's, mode 0600, in a root-only directory" \
	"$(stat -c '%U %a' "$CA_DIR/ca.key") $(stat -c '%U %a' "$CA_DIR")" "root 600 root 700"
check_fails "user q2q (the engine's user) cannot read the CA key" \
	setpriv --reuid=q2q --regid=q2q --clear-groups cat "$CA_DIR/ca.key"
check_fails "the engine has no descriptor on the CA key" \
	bash -c "ls -l /proc/$E/fd | grep -F ca.key"
check_fails "the engine has nothing of the CA directory mapped" \
	grep -F "$CA_DIR" "/proc/$E/maps"
check_fails "no key file under the engine's state directory is the CA's" \
	bash -c "find '$T/auth/state' -name ca.key | grep ."
check_eq "the node pins the CA fingerprint the authority shows" \
	"$(ctl alice status --json | jq_get ca_fingerprint)" "$(ctl auth status --json | jq_get authority_service.ca_fingerprint)"

# ---------------------------------------------------------------- a compromised engine
# priv_send NAME HEX...: sends each message through a copy of NAME's engine
# socket to its privileged part and prints the reply's rc, one per line.
priv_send() {
	local name=$1; shift
	python3 - "$(cat "$T/$name/pid")" "$(q2qd_engine "$name")" "$@" <<'EOF'
import ctypes, os, re, socket, struct, subprocess, sys
parent, engine = int(sys.argv[1]), int(sys.argv[2])
def inodes(pid):
    out = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        m = re.match(r"socket:\[(\d+)\]", os.readlink(f"/proc/{pid}/fd/{fd}"))
        if m:
            out[m.group(1)] = int(fd)
    return out
eng, par = inodes(engine), inodes(parent)
# ss in the daemon's namespace: "u_seq ESTAB 0 0 * LOCAL * PEER"
ns = subprocess.run(["ip", "netns", "identify", str(engine)], capture_output=True, text=True).stdout.strip()
ss = subprocess.run(["ip", "netns", "exec", ns, "ss", "-xaH"], capture_output=True, text=True).stdout
fd = None
for line in ss.splitlines():
    f = line.split()
    if len(f) >= 8 and f[0] == "u_seq" and f[5] in eng and f[7] in par:
        fd = eng[f[5]]
if fd is None:
    sys.exit("no socket from the engine to the privileged part")
libc = ctypes.CDLL(None, use_errno=True)
pidfd = os.pidfd_open(engine)
mine = libc.syscall(438, pidfd, fd, 0)       # pidfd_getfd
if mine < 0:
    sys.exit("pidfd_getfd: " + os.strerror(ctypes.get_errno()))
s = socket.socket(fileno=mine)
s.settimeout(5)
for hexmsg in sys.argv[3:]:
    s.send(bytes.fromhex(hexmsg))
    rep = s.recv(64)
    print(struct.unpack(">i", rep[4:8])[0] if len(rep) >= 8 else "short")
EOF
}
# Messages: type(2) len(2) body. ROUTE_ADD = 5, ADDR_ADD = 3, TUN_OPEN = 1.
pfx() { printf '%04x0012%02x%s%02x' "$1" "$2" "$3" "$4"; }
zero12=000000000000000000000000
ROUTE_DEFAULT=$(pfx 5 2 "00000000$zero12" 0)
ROUTE_OTHER=$(pfx 5 2 "c6336400$zero12" 24)		# 198.51.100.0/24
ADDR_FOREIGN=$(pfx 3 2 "c0000263$zero12" 32)		# 192.0.2.99/32
TUN_ETH0=000100116574683000000000000000000000000000  # "eth0"
GARBAGE=0005000701
OVERSIZE=$(printf '%0160d' 0)
# The engine is stopped meanwhile, so the replies come to us, not to it.
E=$(q2qd_engine alice)
kill -STOP "$E"
out=$(priv_send alice "$ROUTE_DEFAULT" "$ROUTE_OTHER" "$ADDR_FOREIGN" "$TUN_ETH0" "$GARBAGE" "$OVERSIZE" 2>&1)
kill -CONT "$E"
check_eq "the privileged part refuses a default route, another route, a foreign address, another interface (EPERM) and garbage (EBADMSG)" \
	"$(echo $out)" "-1 -1 -1 -1 -74 -74"
check "the refusals are logged with what was asked" bash -c \
	"grep -q 'refused ROUTE_ADD from the engine: route 0.0.0.0/0: a default route needs allow_exit_node = true' '$T/alice/log' &&
	 grep -q 'refused ADDR_ADD from the engine: address 192.0.2.99/32' '$T/alice/log' &&
	 grep -q \"refused TUN_OPEN from the engine: interface 'eth0'\" '$T/alice/log' &&
	 grep -q 'refused a malformed message' '$T/alice/log'"
check_fails "no default route leads into q2q0 (any table)" bash -c "nsx alice ip route show table all default | grep q2q0"
check_fails "198.51.100.0/24 was not routed into q2q0 (any table)" bash -c "nsx alice ip route show table all 198.51.100.0/24 | grep q2q0"
check_fails "192.0.2.99 was not added" bash -c "nsx alice ip -o addr show | grep -F 192.0.2.99"
check "alice's daemon keeps running" kill -0 "$(cat "$T/alice/pid")"
check "alice still pings bob" wait_for 10 ovl_ping alice "$B4"

# ---------------------------------------------------------------- signals
# systemd signals the main process (the privileged part), which passes them
# on to the engine as messages.
kill -HUP "$(cat "$T/alice/pid")"
check "SIGHUP to the main process reloads the engine's configuration" \
	wait_for 10 grep -q "reloaded $T/alice/q2qd.conf" "$T/alice/log"
q2qd_stop alice
check "SIGTERM to the main process stops the engine cleanly, in time" bash -c \
	"grep -q 'signal 15: shutting down' '$T/alice/log' && ! grep -q 'did not stop' '$T/alice/log'"
check "alice's q2q0 is gone with it" ovl_no_link alice q2q0

# ---------------------------------------------------------------- a part dies
# gone NAME: the daemon's processes are gone, with q2q0 and its routes.
gone() {
	local name=$1
	! kill -0 "$(cat "$T/$name/pid")" 2>/dev/null && ! pgrep -f "$T/$name/q2qd.conf" >/dev/null &&
		! nsx "$name" ip link show q2q0 >/dev/null 2>&1 &&
		[ -z "$(nsx "$name" ip route show dev q2q0 2>/dev/null)" ]
}
E=$(q2qd_engine bob)
kill -9 "$E"
check "killing bob's engine stops the daemon: no process, no q2q0, no routes" wait_for 10 gone bob
check "the privileged part said why" grep -q 'the engine was killed by signal 9' "$T/bob/log"
q2qd_stop bob
check "bob starts again (and comes back up)" q2qd_start bob
check "bob's q2q0 is back" wait_for 10 nsx bob ip link show q2q0
P=$(cat "$T/bob/pid")
kill -9 "$P"; wait "$P" 2>/dev/null
check "killing bob's privileged part stops the engine too: no process, no q2q0, no routes" wait_for 10 gone bob
check "the engine said why" grep -q 'the privileged part is gone' "$T/bob/log"
q2qd_stop bob
C=$(q2qd_ca auth)
if [ -n "$C" ]; then
	kill -9 "$C"
	check "killing the CA process stops the authority: no process left" wait_for 15 gone auth
	check "the privileged part said why" grep -q 'the CA process was killed by signal 9' "$T/auth/log"
	q2qd_stop auth
	check "the authority starts again" q2qd_start auth
fi
e2e_finish
