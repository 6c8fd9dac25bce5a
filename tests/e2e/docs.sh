#!/bin/bash
# What a user reads: --help and --version of both programs (exit 0, on
# standard output, the version from VERSION, which debian/changelog must
# match), bad options told apart from help, the man pages clean under
# mandoc -T lint and groff -ww and complete (every q2qctl command, every
# q2qd option, every configuration setting q2qd knows), and the bash
# completion offering q2qctl's commands. No namespaces: only the programs
# and the files in the tree.
. "$(dirname "$0")/lib.sh"
e2e_init docs
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VERSION=$(cat "$ROOT/VERSION")

# out_only PROG ARGS...: exits 0 with output on stdout and none on stderr.
out_only() {
	"$@" >"$T/out" 2>"$T/err" || { echo "exit status $?"; return 1; }
	[ -s "$T/out" ] || { echo "nothing on standard output"; return 1; }
	[ ! -s "$T/err" ] || { echo "standard error:"; cat "$T/err"; return 1; }
}

for p in q2qd q2qctl; do
	for opt in --help -h; do
		check "$p $opt exits 0 and prints to standard output only" out_only "$BIN/$p" "$opt"
	done
	check "$p --help names the man page" bash -c "'$BIN/$p' --help | grep -q '$p(8)'"
	check_eq "$p --version prints the VERSION file's version" "$("$BIN/$p" --version)" "$p $VERSION"
	check_eq "$p -V is --version" "$("$BIN/$p" -V)" "$p $VERSION"
done
if command -v dpkg-parsechangelog >/dev/null; then
	check_eq "debian/changelog has the same version as VERSION" \
		"$(cd "$ROOT" && dpkg-parsechangelog -S Version)" "$VERSION"
else
	check_eq "debian/changelog has the same version as VERSION" \
		"$(sed -n '1s/^q2q (\([^)]*\)).*/\1/p' "$ROOT/debian/changelog")" "$VERSION"
fi

# Bad usage is not help: exit 2, a message naming the option on stderr.
check_eq "q2qd --bogus exits 2" "$("$BIN/q2qd" --bogus >/dev/null 2>&1; echo $?)" 2
check "q2qd --bogus names the option, and says nothing of 'invalid option'" \
	bash -c "'$BIN/q2qd' --bogus 2>&1 >/dev/null | grep -q \"unknown option '--bogus'\" &&
		! '$BIN/q2qd' --bogus 2>&1 | grep -q 'invalid option'"
check "q2qd -c without a file says it needs an argument" \
	bash -c "'$BIN/q2qd' -c 2>&1 | grep -q \"option '-c' needs an argument\""
check_eq "q2qctl --bogus exits 2" "$("$BIN/q2qctl" --bogus >/dev/null 2>&1; echo $?)" 2

# Every command q2qctl lists has its own --help and an entry in q2qctl(8).
cmds=$("$BIN/q2qctl" --help | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p')
check "q2qctl --help lists its commands" test -n "$cmds"
for c in $cmds; do
	check "q2qctl $c --help exits 0" out_only "$BIN/q2qctl" "$c" --help
	check "q2qctl(8) describes '$c'" grep -Eq "^\.(It )?Ic $c( |$)" "$ROOT/man/q2qctl.8"
	for o in $("$BIN/q2qctl" "$c" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
		check "q2qctl(8) describes $c $o" grep -q "Fl -${o#--}" "$ROOT/man/q2qctl.8"
	done
done
# Every long option of q2qd's usage is in q2qd(8), every setting config.c
# knows in q2qd.conf(5).
for o in $("$BIN/q2qd" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
	check "q2qd(8) describes $o" grep -q "Fl -${o#--}" "$ROOT/man/q2qd.8"
done
keys=$(sed -n 's/^[[:space:]]*{ "\([a-z_]*\)", cfg_[a-z_]* },$/\1/p' "$ROOT/tund/conf/config.c" | sort -u)
check "config.c's settings are found" test "$(echo "$keys" | wc -l)" -gt 10
for k in $keys; do
	check "q2qd.conf(5) describes '$k'" grep -Eq "^\.It Ic $k No" "$ROOT/man/q2qd.conf.5"
done

# The default and the example configuration say their values are the
# defaults: q2qd.conf(5) must give the same ones.
default_in_man() {	# default_in_man KEY VALUE
	python3 - "$ROOT/man/q2qd.conf.5" "$1" "$2" <<'PY'
import re, sys
man, key, val = sys.argv[1:]
text, on = [], False
for line in open(man):
    if re.match(r"\.It Ic %s No" % re.escape(key), line):
        on = True
        continue
    if on and line.startswith(".It"):
        break
    if on:
        text.append(line.strip())
body = " ".join(text)
body = re.sub(r"\.Qq (\S*) \.", r'"\1".', body)
body = re.sub(r"\.Cm (\S*) \.", r"\1.", body)
body = body.replace("the empty string", '""')
m = re.search(r"Default: (\S+?)\.( |$)", body)
if not m or m.group(1) != val:
    sys.exit("q2qd.conf(5) gives %s the default %s, q2qd.conf has %s" % (key, m and m.group(1), val))
PY
}
for f in q2qd.conf q2qd.conf.example; do
	while read -r key eq val; do
		check "q2qd.conf(5) gives $key the default of systemd/$f" default_in_man "$key" "${val%;}"
	done < <(grep -E '^[a-z_]+ = ' "$ROOT/systemd/$f")
done

# The man pages render without a warning.
for m in "$ROOT"/man/*.[1-8]; do
	if command -v mandoc >/dev/null; then
		check "mandoc -T lint finds nothing in $(basename "$m")" \
			bash -c "out=\$(mandoc -T lint -W warning '$m' 2>&1); [ -z \"\$out\" ] || { echo \"\$out\"; exit 1; }"
	else
		skip "mandoc is not installed (tests/deps.sh installs it): $(basename "$m") not linted"
	fi
	check "groff -ww renders $(basename "$m") without a warning" \
		bash -c "out=\$(groff -ww -z -mandoc '$m' 2>&1); [ -z \"\$out\" ] || { echo \"\$out\"; exit 1; }"
done

# The completion offers q2qctl's commands and a command's options.
complete_words() {	# complete_words WORD...: what bash offers for the last one
	PATH="$BIN:$PATH" bash -c '
		. /usr/share/bash-completion/bash_completion
		. "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_q2qctl q2qctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
		printf "%s\n" "${COMPREPLY[@]}"' _ "$ROOT/completion/q2qctl.bash" "$@"
}
if [ -r /usr/share/bash-completion/bash_completion ]; then
	check_eq "completing 'q2qctl re' offers its commands" \
		"$(complete_words q2qctl re | sort | tr '\n' ' ')" "reload renew resolve revoke "
	check_eq "completing 'q2qctl enroll --tok' offers its options" \
		"$(complete_words q2qctl enroll --tok | sort | tr '\n' ' ')" "--token --token-file "
	check_eq "completing 'q2qctl -s sock pe' skips the socket argument" \
		"$(complete_words q2qctl -s sock pe)" "peers"
else
	skip "bash-completion is not installed (tests/deps.sh installs it): completion not tried"
fi
e2e_finish
