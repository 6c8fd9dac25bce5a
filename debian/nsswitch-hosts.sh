# Adds and removes the q2q source on the hosts line of nsswitch.conf(5).
# Pasted into the maintainer scripts by dh_installdeb (see debian/rules);
# tests/e2e/package.sh runs it on copies. Only the hosts line is touched,
# and remove undoes exactly what add did, so install then purge leaves the
# file byte for byte as it was. resolv.conf is never touched.

# q2q goes just before dns, so overlay names never leak to DNS servers;
# without dns on the line, at its end. Nothing happens if q2q is already
# there or the file has no hosts line.
nsswitch_hosts_add()
{
	[ -f "$1" ] || return 0
	grep -Eq '^hosts:' "$1" || return 0
	grep -Eq '^hosts:.*[[:space:]]q2q([[:space:]]|$)' "$1" && return 0
	if grep -Eq '^hosts:.*[[:space:]]dns([[:space:]]|$)' "$1"; then
		sed -E -i '/^hosts:/ s/([[:space:]])dns([[:space:]]|$)/\1q2q dns\2/' "$1"
	else
		sed -E -i '/^hosts:/ s/^(hosts:.*[^[:space:]])/\1 q2q/' "$1"
	fi
}

# The inverse of the two cases above, then any other q2q on the line.
nsswitch_hosts_remove()
{
	[ -f "$1" ] || return 0
	grep -Eq '^hosts:.*[[:space:]]q2q([[:space:]]|$)' "$1" || return 0
	sed -E -i '/^hosts:/ {
		s/([[:space:]])q2q dns([[:space:]]|$)/\1dns\2/
		t
		s/ q2q([[:space:]]*)$/\1/
		t
		s/([[:space:]])q2q([[:space:]]|$)/\1\2/
	}' "$1"
}
