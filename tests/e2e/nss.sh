#!/bin/bash
# Names for every program: libnss_q2q.so.2 used by real programs in
# alice's namespace. ping, getent (gethostbyname2, getaddrinfo, reverse),
# Python's gethostbyname_ex, ssh to a real sshd and curl to a real HTTP
# server on bob, both by the DNS-safe alias; an unprivileged user
# resolves names but is refused on the control socket; a stopped or
# frozen q2qd costs a look-up at most 100 ms and other sources go on.
#
#                 wan bridge (192.0.2.0/24)
#       +----------------+----------------+
#       |                |                |
#    auth .10         alice .11         bob .12
#    example.com      q2q0, programs    q2q0, sshd :22,
#    (authority)      using the module  http.server :8080
#
# The module is never installed on the host (lib.sh's nss_run).
. "$(dirname "$0")/lib.sh"
e2e_init nss

nss_setup
# q2q first: what it does not find, files still answer.
printf 'hosts: q2q files\n' > "$T/etc/nsswitch.q2q-first"
printf '127.0.0.1 localhost\n::1 localhost\n198.51.100.7 carol@example.com\n' > "$T/etc/hosts"
chmod -R a+rX "$T/etc"

# An unprivileged user (nobody), with no groups.
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
# A bash script for nss_run: runs its arguments, prints "EXIT MILLISECONDS".
MS_OF='t0=$(date +%s%N); "$@" >/dev/null 2>&1; rc=$?; t1=$(date +%s%N); echo "$rc $(( (t1 - t0) / 1000000 ))"'

wan_up
host_add auth 192.0.2.10/24
host_add alice 192.0.2.11/24
host_add bob 192.0.2.12/24
q2qd_conf auth 'authority = { domain = "example.com"; listen = "0.0.0.0:8788"; };'
# names_socket is left to its default: names.sock beside the control socket.
for n in alice bob; do q2qd_conf $n; done
for n in auth alice bob; do q2qd_start $n || exit 1; done
check "alice enrolls" ovl_enroll alice alice@example.com auth 192.0.2.10:8788
check "bob enrolls" ovl_enroll bob bob@example.com auth 192.0.2.10:8788
check "alice: up" ctl alice up
check "bob: up" ctl bob up
check "the names socket is open to every user (0666)" \
	test "$(stat -c %a "$T/alice/names.sock" 2>/dev/null)" = 666
check "the control socket is not (0660)" test "$(stat -c %a "$T/alice/q2qd.sock")" = 660
B4=$(ctl bob status --json | jq_get ipv4)
B6=$(ctl bob status --json | jq_get ipv6)
A4=$(ctl alice status --json | jq_get ipv4)
A6=$(ctl alice status --json | jq_get ipv6)
[ -n "$B4" ] && [ -n "$B6" ] && [ -n "$A4" ] || { echo "no overlay addresses"; e2e_finish; exit 1; }

# ---------------------------------------------------------------- getent
# The first look-up of bob makes alice ask the authority; allow it a
# retry in case that took longer than the module's 100 ms.
check "getent hosts bob@example.com answers" wait_for 5 nss_run alice getent hosts bob@example.com
out=$(nss_run alice getent hosts bob@example.com)
check_eq "getent hosts bob@example.com: bob's IPv6, his identity, his alias" \
	"$out" "$(printf '%-15s bob@example.com bob.example.com.q2q' "$B6")"
check_eq "getent ahostsv4 bob@example.com: bob's IPv4" \
	"$(nss_run alice getent ahostsv4 bob@example.com | awk 'NR == 1 {print $1}')" "$B4"
check_eq "getent ahostsv6 bob.example.com.q2q: bob's IPv6" \
	"$(nss_run alice getent ahostsv6 bob.example.com.q2q | awk 'NR == 1 {print $1}')" "$B6"
check_eq "getent ahosts bob@example.com lists both addresses" \
	"$(nss_run alice getent ahosts bob@example.com | awk '{print $1}' | sort -u | tr '\n' ' ')" \
	"$(printf '%s\n%s\n' "$B4" "$B6" | sort | tr '\n' ' ')"
check_eq "getent hosts $B4 (reverse) is bob@example.com" \
	"$(nss_run alice getent hosts "$B4" | awk '{print $2}')" bob@example.com
check_eq "getent hosts $B6 (reverse) is bob@example.com" \
	"$(nss_run alice getent hosts "$B6" | awk '{print $2}')" bob@example.com
check_eq "getent hosts alice@example.com on alice: her own IPv4 (ahostsv4)" \
	"$(nss_run alice getent ahostsv4 alice@example.com | awk 'NR == 1 {print $1}')" "$A4"
check_eq "gethostbyname_ex (Python) of the alias: bob's IPv4" \
	"$(nss_run alice /usr/bin/python3 -c 'import socket; print(socket.gethostbyname_ex("bob.example.com.q2q"))')" \
	"('bob@example.com', ['bob.example.com.q2q'], ['$B4'])"
check_fails "an identity nobody has is not found" nss_run alice getent hosts nobody@example.com
check_fails "an alias spelled two ways is not found (q--bob...)" nss_run alice getent hosts q--bob.example.com.q2q
check_fails "an address outside the overlay has no q2q name" nss_run alice getent hosts 192.0.2.12

# Only q2q names reach the socket: with q2q first in nsswitch.conf,
# localhost passes through the module without a connection.
if command -v strace >/dev/null; then
	NSS_CONF=$T/etc/nsswitch.q2q-first
	out=$(nss_run alice strace -f -e trace=connect getent hosts localhost 2>&1)
	check "q2q first: localhost is still answered (by files)" grep -q ' localhost$' <<<"$out"
	check_fails "... and the module made no connection for it" grep -q names.sock <<<"$out"
	out=$(nss_run alice strace -f -e trace=connect getent hosts bob@example.com 2>&1)
	check "... while bob@example.com is asked on names.sock" grep -q 'connect(.*names\.sock' <<<"$out"
	NSS_CONF=$T/etc/nsswitch.conf
else
	skip "no strace: cannot watch which look-ups reach the names socket"
fi

# ---------------------------------------------------------------- ping
out=$(nss_run alice ping -c1 -W2 bob@example.com 2>&1)
check "ping bob@example.com: a reply" grep -q '1 received' <<<"$out"
check "ping names bob@example.com" grep -q "PING bob@example.com" <<<"$out"
check "ping -4 bob.example.com.q2q: a reply from $B4" \
	bash -c "nss_run alice ping -4 -c1 -W2 bob.example.com.q2q | grep -q 'from .*$B4.*icmp_seq=1'"
check "an unprivileged user pings bob@example.com (ping's file capabilities: NSS as for setuid programs)" \
	nss_run alice "${NOBODY[@]}" ping -c1 -W2 bob@example.com

# ---------------------------------------------------------------- ssh
mkdir -p "$T/ssh" && chmod 700 "$T/ssh"
ssh-keygen -q -t ed25519 -N '' -f "$T/ssh/host" && ssh-keygen -q -t ed25519 -N '' -f "$T/ssh/client"
cp "$T/ssh/client.pub" "$T/ssh/authorized_keys"
cat > "$T/ssh/sshd_config" <<CONF
Port 22
ListenAddress $B4
ListenAddress $B6
HostKey $T/ssh/host
AuthorizedKeysFile $T/ssh/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PermitRootLogin prohibit-password
StrictModes no
PidFile none
CONF
if [ -x /usr/sbin/sshd ]; then
	nss_run bob /usr/sbin/sshd -D -e -f "$T/ssh/sshd_config" 2>"$T/ssh/sshd.log" &
	echo $! > "$T/ssh/sshd.pid"
	check "sshd listens on bob's overlay address" wait_for 10 ovl_listening bob 22
	out=$(nss_run alice ssh -F /dev/null -i "$T/ssh/client" -o BatchMode=yes \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=10 \
		root@bob.example.com.q2q 'ip -o addr show dev q2q0' 2>"$T/ssh/client.log")
	check "ssh root@bob.example.com.q2q runs a command on bob (his q2q0 has $B4)" \
		grep -qF " $B4/" <<<"$out"
	check "sshd accepted alice's key from her overlay address" \
		grep -Eq "Accepted publickey for root from ($A4|$A6) " "$T/ssh/sshd.log"
	kill "$(cat "$T/ssh/sshd.pid")" 2>/dev/null
else
	skip "ssh: /usr/sbin/sshd is missing (apt-get install openssh-server)"
fi

# ---------------------------------------------------------------- curl
mkdir -p "$T/www" && head -c 200000 /dev/urandom > "$T/www/blob"
( cd "$T/www" && exec ip netns exec "$PFX-bob" python3 -m http.server 8080 --bind :: ) \
	>"$T/www.log" 2>&1 &
check "http.server listens on bob" wait_for 10 ovl_listening bob 8080
check "curl http://bob.example.com.q2q:8080/blob: the same bytes (sha256)" bash -c "
	nss_run alice curl -fsS --max-time 20 -o '$T/blob.got' http://bob.example.com.q2q:8080/blob &&
	[ \"\$(sha256sum < '$T/www/blob')\" = \"\$(sha256sum < '$T/blob.got')\" ]"
check "curl -4 by alias reaches bob over IPv4" bash -c "
	nss_run alice curl -4 -fsS --max-time 20 -o /dev/null -w '%{remote_ip}' http://bob.example.com.q2q:8080/blob | grep -qx '$B4'"

# ---------------------------------------------------------------- valgrind
if command -v valgrind >/dev/null; then
	check "valgrind: getent ahosts through the module, no errors, no definite leaks" \
		nss_run alice valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite \
		getent ahosts bob.example.com.q2q
else
	skip "valgrind is not installed"
fi

# ---------------------------------------------------------------- unprivileged
check "an unprivileged user resolves bob@example.com" nss_run alice "${NOBODY[@]}" getent hosts bob@example.com
check_fails "an unprivileged user cannot down alice's overlay" \
	nss_run alice "${NOBODY[@]}" "$BIN/q2qctl" -s "$T/alice/q2qd.sock" down
check_fails "an unprivileged user cannot up it either" \
	nss_run alice "${NOBODY[@]}" "$BIN/q2qctl" -s "$T/alice/q2qd.sock" up
check_fails "an unprivileged user cannot invite at the authority" \
	nsx auth setpriv --reuid=65534 --regid=65534 --clear-groups "$BIN/q2qctl" -s "$T/auth/q2qd.sock" invite eve@example.com
check "alice's overlay is still up" wait_for 2 ovl_ping alice "$B4"
# The names socket answers its two questions only: anything else is a
# refusal, and the daemon goes on.
out=$(nss_run alice "${NOBODY[@]}" /usr/bin/python3 -c 'import socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.settimeout(2); s.connect("/run/q2q/names.sock")
s.send(bytes([1, 3, 0, 2]) + b"up")
r = s.recv(512)
print(r[2])')
check_eq "the names socket refuses an unknown request (status 2: bad request)" "$out" 2
check "alice's q2qd logged the refusal" grep -q "names: refused a request: request has unknown operation 3" "$T/alice/log"
check "alice still resolves" nss_run alice getent hosts bob@example.com

# A local user who opens many connections and asks nothing holds the
# names socket up for a second at most: q2qd keeps 32 at a time, closes
# the rest at once and each kept one after 1 s.
nss_run alice "${NOBODY[@]}" /usr/bin/python3 -c 'import socket, sys
ss = []
for i in range(40):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect("/run/q2q/names.sock")
    ss.append(s)
print("ready", flush=True)
closed = 0
for s in ss:
    s.settimeout(5)
    try:
        closed += s.recv(1) == b""
    except OSError:
        pass
print(closed)' >"$T/idle.out" 2>&1 &
idle=$!
wait_for 5 grep -q ready "$T/idle.out"
check "40 idle connections: names resolve again within 3 s" wait_for 3 nss_run alice getent hosts bob@example.com
wait "$idle"
check_eq "q2qd closed all 40 idle connections" "$(tail -1 "$T/idle.out")" 40

# ---------------------------------------------------------------- q2qd frozen, stopped
NSS_CONF=$T/etc/nsswitch.q2q-first
eng=$(q2qd_engine alice)
kill -STOP "$eng"
r=$(nss_run alice bash -c "$MS_OF" ms_of getent hosts bob@example.com)
kill -CONT "$eng"
echo "# q2qd frozen: getent hosts bob@example.com exit ${r% *} after ${r#* } ms"
check_eq "q2qd frozen: getent hosts bob@example.com is not found (exit 2)" "${r% *}" 2
# getent asks twice (IPv6, then IPv4); the module waits once, 100 ms.
check "q2qd frozen: ... after one 100 ms wait (100..199 ms with getent's start-up)" \
	test "${r#* }" -ge 100 -a "${r#* }" -lt 200
check "alice's q2qd answers again once thawed" wait_for 5 nss_run alice getent hosts bob@example.com

q2qd_stop alice
r=$(nss_run alice bash -c "$MS_OF" ms_of getent hosts bob@example.com)
echo "# q2qd stopped: getent hosts bob@example.com exit ${r% *} after ${r#* } ms"
check_eq "q2qd stopped: getent hosts bob@example.com is not found (exit 2)" "${r% *}" 2
check "q2qd stopped: ... within 100 ms" test "${r#* }" -lt 100
check_eq "q2qd stopped: getent hosts localhost still works (q2q, then files)" \
	"$(nss_run alice getent hosts localhost | awk '{print $2}' | head -1)" localhost
check_eq "q2qd stopped: files answer what q2q does not find (carol@example.com)" \
	"$(nss_run alice getent hosts carol@example.com | awk '{print $1}')" 198.51.100.7
check "q2qd stopped: its names socket is gone" test ! -e "$T/alice/names.sock"

e2e_finish
