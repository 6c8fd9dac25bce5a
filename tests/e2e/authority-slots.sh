#!/bin/bash
# How many nodes an authority holds at once (authority.max_clients): by
# default room for 10,000 online nodes and more (it was 4096); a
# configured number is what q2qctl status --json shows, and nodes still
# enroll, register and find each other through it; a number the
# descriptor hard limit cannot hold stops q2qd at start, saying what to
# change, instead of an authority that fails accept() later.
#
#          wan bridge (192.0.2.0/24)
#      +-------------+-------------+-------------+
#   auth .10      alice .11     bob .12       dflt .20
#   max_clients   nodes of auth's domain      an authority with
#   = 100                                     the default
#   (big .30: max_clients = 1048576 under a descriptor hard limit of
#    1024; it never comes up)
. "$(dirname "$0")/lib.sh"
e2e_init authslots

wan_up
host_add auth 192.0.2.10/24
host_add alice 192.0.2.11/24
host_add bob 192.0.2.12/24
host_add dflt 192.0.2.20/24
host_add big 192.0.2.30/24

q2qd_conf dflt 'authority = { domain = "example.org"; listen = "0.0.0.0:8788"; };'
q2qd_conf big 'authority = { domain = "example.net"; listen = "0.0.0.0:8788"; max_clients = 1048576; };'
q2qd_start dflt || exit 1

adm() { ctl "$1" status --json | jq_get "authority_service.admission.$2"; }
# The default: 16384, unless this machine's hard limit holds fewer (then
# all it can, less the 256 kept for other descriptors).
HARD=$(ulimit -Hn)
WANT=16384
[ "$HARD" != unlimited ] && [ "$HARD" -lt $((WANT + 256)) ] && WANT=$((HARD - 256))
check_eq "the default authority has $WANT connection slots (hard limit $HARD)" "$(adm dflt slots)" "$WANT"
check "the default holds 10,000 online nodes" test "$(adm dflt slots)" -ge 10000

if ! ovl_pair 'max_clients = 100;'; then
	check_eq "an authority with max_clients = 100 starts" no yes
	e2e_finish
	exit 1
fi
check_eq "max_clients = 100 gives 100 slots" "$(adm auth slots)" 100
check_eq "of which at most half wait unauthenticated" "$(adm auth unauthenticated_slots)" 50

# Nodes of the small authority register and reach each other through it.
ovl_pair_up || exit 1
check "alice pings bob over the overlay" wait_for 30 ovl_ping alice "$B4"

# Too many for the hard limit: q2qd stops at start and says why.
( ulimit -n 1024 && ulimit -Hn 1024 && q2qd_start big ) >/dev/null 2>&1
check_fails "q2qd with max_clients over the descriptor hard limit does not come up" ctl big status
check "its log names max_clients, the limit and what to change" \
	grep -q "max_clients = 1048576 needs 1048832 descriptors.*hard limit 1024: raise LimitNOFILE=" "$T/big/log"
check "the others went on serving" ctl dflt status
e2e_finish
