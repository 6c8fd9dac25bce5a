#!/bin/bash
# `make install` honours DESTDIR and PREFIX and installs the programs, the
# systemd unit (pointing at the installed q2qd), the sysusers and tmpfiles
# entries, the man pages, the bash completion, the example configuration and
# a default one, which q2qd accepts and starts with, saying what to do
# next; a second install keeps an edited q2qd.conf.
#
#   [ node ]--(wan)    one namespace, for the daemon started from the
#                      installed default configuration
. "$(dirname "$0")/lib.sh"
e2e_init install
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
D="$T/destdir"
had_opt=0; [ -e /opt/q2q ] && had_opt=1

check "make install with DESTDIR and PREFIX succeeds" \
	make -C "$ROOT" --no-print-directory O="$O" install DESTDIR="$D" PREFIX=/opt/q2q
check "q2qd installed under PREFIX/sbin, executable" test -x "$D/opt/q2q/sbin/q2qd"
check "q2qctl installed under PREFIX/bin, executable" test -x "$D/opt/q2q/bin/q2qctl"
check_eq "the unit starts the installed q2qd" \
	"$(sed -n 's/^ExecStart=//p' "$D/lib/systemd/system/q2qd.service")" "!/opt/q2q/sbin/q2qd -u q2q -c /etc/q2q/q2qd.conf"
check "the unit is Type=notify with a watchdog" \
	bash -c "grep -qx 'Type=notify' '$D/lib/systemd/system/q2qd.service' && grep -q '^WatchdogSec=' '$D/lib/systemd/system/q2qd.service'"
check_eq "the unit bounds q2qd to CAP_NET_ADMIN (and CAP_SETUID/SETGID/SETPCAP to shed the rest)" \
	"$(sed -n 's/^CapabilityBoundingSet=//p' "$D/lib/systemd/system/q2qd.service")" "CAP_NET_ADMIN CAP_SETUID CAP_SETGID CAP_SETPCAP"
check "the unit grants no ambient capabilities" bash -c "! grep -q '^AmbientCapabilities=' '$D/lib/systemd/system/q2qd.service'"
check "the tmpfiles entry makes the root-owned CA directory" \
	grep -qx 'd /var/lib/q2q-ca 0700 root root -' "$D/usr/lib/tmpfiles.d/q2q.conf"
check "the sysusers entry creates user q2q" grep -q '^u q2q ' "$D/usr/lib/sysusers.d/q2q.conf"
check "the NSS module is in the system library directory (not under PREFIX), exporting glibc's entry points" \
	bash -c "nm -D --defined-only '$D/lib/$(gcc -print-multiarch)/libnss_q2q.so.2' | grep -q ' T _nss_q2q_gethostbyname4_r$'"
check "the unit lets every user reach /run/q2q/names.sock (RuntimeDirectoryMode=0755)" \
	grep -qx 'RuntimeDirectoryMode=0755' "$D/lib/systemd/system/q2qd.service"
check "the installed example configuration is accepted by q2qd -n" \
	bash -c "'$D/opt/q2q/sbin/q2qd' -n -c '$D/etc/q2q/q2qd.conf.example' | grep -qx 'configuration OK'"
check "the default configuration is installed and accepted by q2qd -n" \
	bash -c "'$D/opt/q2q/sbin/q2qd' -n -c '$D/etc/q2q/q2qd.conf' | grep -qx 'configuration OK'"
check "the default configuration makes a node (no authority section)" \
	bash -c "! grep -Eq '^[[:space:]]*authority[[:space:]]*=' '$D/etc/q2q/q2qd.conf'"
for m in man8/q2qd.8 man8/q2qctl.8 man5/q2qd.conf.5; do
	check "man page $m installed under PREFIX/share/man" test -s "$D/opt/q2q/share/man/$m"
done
check "the bash completion is installed under PREFIX/share/bash-completion" \
	test -s "$D/opt/q2q/share/bash-completion/completions/q2qctl"

# An administrator's edit survives the next install.
echo '# edited by the administrator' >> "$D/etc/q2q/q2qd.conf"
sum=$(sha256sum < "$D/etc/q2q/q2qd.conf")
check "a second make install succeeds" \
	make -C "$ROOT" --no-print-directory O="$O" install DESTDIR="$D" PREFIX=/opt/q2q
check_eq "the second install left the edited q2qd.conf as it was" \
	"$(sha256sum < "$D/etc/q2q/q2qd.conf")" "$sum"

# The daemon starts with the installed default (paths moved into $T) and
# says what to do next.
wan_up
host_add node 192.0.2.10/24
mkdir -p "$T/node"
sed -e "s|^state_dir = .*|state_dir = \"$T/node/state\";|" \
    -e "s|^control_socket = .*|control_socket = \"$T/node/q2qd.sock\";|" \
	"$D/etc/q2q/q2qd.conf" > "$T/node/q2qd.conf"
check_eq "only the two paths differ from the installed default" \
	"$(diff "$D/etc/q2q/q2qd.conf" "$T/node/q2qd.conf" | grep -c '^>')" 2
check "q2qd starts with the default configuration" q2qd_start node
check "its log says the node is not enrolled and how to enroll" \
	wait_for 5 grep -q 'not enrolled yet: .*q2qctl enroll USER@DOMAIN --authority' "$T/node/log"
check "q2qctl status points to enroll too" bash -c "ctl node status | grep -q 'not enrolled: see q2qctl enroll --help'"

if [ "$had_opt" = 0 ]; then
	check "nothing was installed outside DESTDIR (no /opt/q2q)" test ! -e /opt/q2q
else
	skip "/opt/q2q existed before the test: cannot tell whether install wrote there"
fi
e2e_finish
