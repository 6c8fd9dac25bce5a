# bash completion for q2qctl(8).
#
# Commands and their options are read from q2qctl's own help text
# (`q2qctl --help`, `q2qctl COMMAND --help`), so a command added to q2qctl
# completes without touching this file.

_q2qctl_commands()
{
	q2qctl --help 2>/dev/null | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p'
}

_q2qctl()
{
	local cur prev words cword cmd i
	_init_completion || return

	# the first word that is neither an option nor an option's argument
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		-s | --socket) ((i++)) ;;
		-*) ;;
		*) cmd=${words[i]}; break ;;
		esac
	done

	case $prev in
	-s | --socket)
		_filedir
		return
		;;
	--token-file)
		_filedir
		return
		;;
	esac

	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W '-s --socket -j --json -h --help -V --version' -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$(_q2qctl_commands)" -- "$cur"))
		fi
		return
	fi
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(q2qctl "$cmd" --help 2>/dev/null |
			grep -o -- '--\?-[a-zA-Z0-9][a-zA-Z0-9-]*' | sort -u) --json --help" -- "$cur"))
	fi
}
complete -F _q2qctl q2qctl
