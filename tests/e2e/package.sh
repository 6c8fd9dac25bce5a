#!/bin/bash
# The Debian package, as a user gets it: built with dpkg-buildpackage from
# a copy of the tree (never inside it), lintian without errors, installed
# with dpkg -i on this machine, then purged. Installed, q2qd accepts the
# shipped configuration, both programs run, the man pages and the unit are
# there; purged, nothing is left: none of its files or directories, no
# /etc/q2q, no state, and /etc/nsswitch.conf byte for byte as before.
# No namespaces: this test changes the real system, so it refuses to run
# where q2q is already installed or has state, and its EXIT trap purges
# the package and restores nsswitch.conf even when a check fails.
. "$(dirname "$0")/lib.sh"
e2e_init package
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VERSION=$(cat "$ROOT/VERSION")
NSS=/etc/nsswitch.conf

# Skips the whole test, saying why, when it cannot run here.
skip_all() { skip "$1"; e2e_finish; exit; }

[ "$(id -u)" = 0 ] || skip_all "needs root (dpkg -i)"
for tool in dpkg-buildpackage dh fakeroot lintian; do
	command -v "$tool" >/dev/null || skip_all "$tool is missing (tests/deps.sh installs it): cannot build the package"
done
if dpkg-query -W -f='${Status}' q2q 2>/dev/null | grep -qv "not-installed"; then
	skip_all "a q2q package is already on this machine: not touching it"
fi
for d in /etc/q2q /var/lib/q2q /var/lib/q2q-ca; do
	[ -e "$d" ] && skip_all "$d exists: purging the package would delete it"
done

cp -p "$NSS" "$T/nsswitch.conf.before"
had_user=0; id q2q >/dev/null 2>&1 && had_user=1
had_group=0; getent group q2q >/dev/null && had_group=1
installed=0

# Whatever happened, the machine goes back to how it was.
pkg_restore() {
	if [ "$installed" = 1 ] || dpkg-query -W q2q >/dev/null 2>&1; then
		dpkg -P q2q >/dev/null 2>&1 || echo "package: dpkg -P q2q failed in cleanup"
	fi
	if ! cmp -s "$NSS" "$T/nsswitch.conf.before"; then
		cat "$T/nsswitch.conf.before" > "$NSS"
		echo "package: restored $NSS"
	fi
	# Debian keeps system users after a purge; this test does not.
	[ "$had_user" = 0 ] && id q2q >/dev/null 2>&1 && userdel q2q 2>/dev/null
	[ "$had_group" = 0 ] && getent group q2q >/dev/null && groupdel q2q 2>/dev/null
	rm -rf /etc/q2q /var/lib/q2q /var/lib/q2q-ca
	e2e_cleanup
}
trap pkg_restore EXIT

# ---- build, from a copy of the tree
SRC="$T/src/q2q-$VERSION"
mkdir -p "$SRC"
if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$ROOT" && git ls-files -co --exclude-standard -z | xargs -0 tar -cf - --) | tar -xf - -C "$SRC"
else
	cp -a "$ROOT/." "$SRC" && rm -rf "$SRC/build" "$SRC"/build-*
fi
if ! (cd "$SRC" && dpkg-checkbuilddeps) >"$T/builddeps.out" 2>&1; then
	skip_all "build dependencies missing: $(tail -1 "$T/builddeps.out")"
fi
# Before the build, what git sees untracked in the copy: the sources alone.
untracked=$(cd "$SRC" && git init -q && git status --porcelain -uall | md5sum)
# The unit tests run in run-all.sh already: nocheck keeps this build short.
check "dpkg-buildpackage -us -uc -b builds the package" \
	bash -c "cd '$SRC' && DEB_BUILD_OPTIONS='nocheck parallel=2' dpkg-buildpackage -us -uc -b >'$T/build.log' 2>&1 || { tail -30 '$T/build.log'; exit 1; }"
DEB="$T/src/q2q_${VERSION}_$(dpkg --print-architecture).deb"
check "it is named q2q_<VERSION>_<arch>.deb" test -s "$DEB"
[ -s "$DEB" ] || skip_all "no package was built: nothing to install"
check_eq "whatever the build made, .gitignore ignores (it cannot be committed)" \
	"$(cd "$SRC" && git status --porcelain -uall | md5sum)" "$untracked"
check "the tree itself holds no build outputs (built in the copy)" \
	bash -c "cd '$ROOT' && test ! -e debian/build -a ! -e debian/q2q -a ! -e debian/files"

lintian "$DEB" >"$T/lintian.out" 2>&1
grep -E '^[WIP]: ' "$T/lintian.out" | sed 's/^/    # lintian: /'
check "lintian reports no errors" bash -c "! grep -E '^E: ' '$T/lintian.out'"

# ---- the nsswitch.conf editing the maintainer scripts paste in, on copies
. "$SRC/debian/nsswitch-hosts.sh"
nss_case() {	# nss_case LINE EXPECTED: add twice gives EXPECTED, remove the original
	printf 'passwd: files\n%s\nnetworks: files\n' "$1" > "$T/ns"
	cp "$T/ns" "$T/ns.orig"
	nsswitch_hosts_add "$T/ns"; nsswitch_hosts_add "$T/ns"
	[ "$(sed -n 2p "$T/ns")" = "$2" ] || { echo "added: '$(sed -n 2p "$T/ns")'"; return 1; }
	nsswitch_hosts_remove "$T/ns"
	cmp "$T/ns" "$T/ns.orig"
}
check "q2q goes before dns, once, and comes out byte for byte" \
	nss_case "hosts:          files dns" "hosts:          files q2q dns"
check "... with tabs and actions after dns" \
	nss_case $'hosts:\tfiles mdns4_minimal [NOTFOUND=return] dns myhostname' \
	$'hosts:\tfiles mdns4_minimal [NOTFOUND=return] q2q dns myhostname'
check "... at the end of a hosts line without dns" nss_case "hosts: files  " "hosts: files q2q  "
check "a file without a hosts line is left alone" bash -c "
	. '$SRC/debian/nsswitch-hosts.sh'; printf 'passwd: files\n' > '$T/nh'
	nsswitch_hosts_add '$T/nh'; [ \"\$(cat '$T/nh')\" = 'passwd: files' ]"

# ---- install
dpkg-deb -c "$DEB" | awk '{ print $6 }' | sed 's|^\./|/|; s|/$||' | grep -v '^$' > "$T/paths"
while read -r p; do [ -e "$p" ] || [ -L "$p" ] || echo "$p"; done < "$T/paths" > "$T/new-paths"
check "dpkg -i installs it" dpkg -i "$DEB"
installed=1
check_eq "q2qd -n accepts the installed configuration" "$(q2qd -n 2>&1)" "configuration OK"
check_eq "q2qd -n accepts the example configuration" \
	"$(q2qd -n -c /usr/share/doc/q2q/examples/q2qd.conf.example 2>&1)" "configuration OK"
check_eq "/etc/q2q/q2qd.conf is a conffile" \
	"$(dpkg-query -W -f='${Conffiles}\n' q2q | awk 'NF { print $1 }')" "/etc/q2q/q2qd.conf"
check_eq "q2qd --version" "$(q2qd --version)" "q2qd $VERSION"
check "q2qctl --help" bash -c "q2qctl --help | grep -q '^Commands:'"
check_eq "man -w q2qd finds the installed page" "$(man -w q2qd)" /usr/share/man/man8/q2qd.8.gz
check_eq "man -w q2qctl" "$(man -w q2qctl)" /usr/share/man/man8/q2qctl.8.gz
check_eq "man -w 5 q2qd.conf" "$(man -w 5 q2qd.conf)" /usr/share/man/man5/q2qd.conf.5.gz
check_eq "the unit is installed and starts /usr/sbin/q2qd" \
	"$(sed -n 's/^ExecStart=//p' /lib/systemd/system/q2qd.service)" "!/usr/sbin/q2qd -u q2q -c /etc/q2q/q2qd.conf"
check "systemd-sysusers made the user q2q" id q2q
check_eq "systemd-tmpfiles made the CA directory, root's, 0700" \
	"$(stat -c '%U %a' /var/lib/q2q-ca 2>&1)" "root 700"
check "the bash completion is installed" test -s /usr/share/bash-completion/completions/q2qctl
if grep -q '/libnss_q2q\.so\.2$' "$T/paths"; then
	check "the hosts line names q2q before dns" grep -Eq '^hosts:.*[[:space:]]q2q[[:space:]](.*[[:space:]])?dns' "$NSS"
	/var/lib/dpkg/info/q2q.postinst configure "$VERSION" >/dev/null 2>&1
	check_eq "configuring again adds nothing" "$(grep '^hosts:' "$NSS" | grep -o -w q2q | wc -l)" 1
else
	check "without an NSS module in the package, nsswitch.conf is untouched" cmp "$NSS" "$T/nsswitch.conf.before"
	skip "the package has no libnss_q2q.so.2: the hosts line is not expected to change"
fi

# ---- purge
check "dpkg -P q2q purges it" dpkg -P q2q
installed=0
check "dpkg no longer knows q2q" bash -c "! dpkg-query -W -f='\${Status}' q2q 2>/dev/null | grep -q installed"
check "every file and directory the package made is gone" \
	bash -c "left=0; while read -r p; do if [ -e \"\$p\" ] || [ -L \"\$p\" ]; then echo \"left: \$p\"; left=1; fi; done < '$T/new-paths'; exit \$left"
check_eq "the package brought new paths (the check above saw some)" "$([ -s "$T/new-paths" ] && echo yes)" yes
for d in /etc/q2q /var/lib/q2q /var/lib/q2q-ca /etc/systemd/system/multi-user.target.wants/q2qd.service; do
	check "$d is gone" bash -c "! test -e '$d' -o -L '$d'"
done
check "nsswitch.conf is byte for byte as before" cmp "$NSS" "$T/nsswitch.conf.before"
e2e_finish
