#!/usr/bin/env bash
# Static checks of the kit's own code, no guest: every shell script parses
# and is shellcheck-clean, the Python is pyflakes-clean. Prints TAP.
#
# (The blank markers, the answers filler and the stage generator are
# tested in tests/py: /usr/bin/python3 -m pytest tests/py.)
set -u
KWEB_ROOT=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

TAP_LOG=$tmp/check.log
export TAP_LOG
# shellcheck source=tests/tap.sh
. "$KWEB_ROOT/tests/tap.sh"
cd "$KWEB_ROOT" || exit 2

# The kit's shell files: *.sh, and scripts whose first line names a shell.
shell_files() {
	local f
	{
		if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
			git ls-files --cached --others --exclude-standard
		else	# a kit unpacked from its tarball
			find . -type f ! -path './.cache/*' ! -path './build/*' |
				sed 's|^\./||'
		fi
	} | while IFS= read -r f; do
		[ -f "$f" ] || continue
		case $f in
		*.sh) echo "$f" ;;
		*.c | *.h | *.py | *.md | *.txt | *.css | *.svg | *.dot | *.xsd) ;;
		*) head -n 1 "$f" | grep -qE '^#!.*[/ ](ba)?sh( |$)' && echo "$f" ;;
		esac
	done | sort -u
}
shell_files >"$tmp/files"

# The guest's scripts run under busybox sh; guest tests are sourced by it
# (no "#!" line of their own).
is_guest() {
	case $1 in
	grading/guest/* | grading/bench/guest.sh | grading/bench/fib-guest.sh | checker/lib/*.sh | checker/*/tests/*.sh | tests/fixtures/*/tests/*.sh) return 0 ;;
	esac
	return 1
}

while IFS= read -r f; do
	if is_guest "$f"; then
		check "sh -n $f" busybox sh -n "$f"
	else
		check "bash -n $f" bash -n "$f"
	fi
done <"$tmp/files"

# Every shellcheck finding counts, but for sources it cannot
# follow (the scripts find grading/lib.sh and tests/tap.sh from $0).
if command -v shellcheck >/dev/null 2>&1; then
	while IFS= read -r f; do
		# SC2016: the tests pass scripts to bash -c in single quotes on
		# purpose (their arguments come as $0, $1, ...).
		opts=("--exclude=SC1090,SC1091,SC2016")
		if is_guest "$f" && ! head -n 1 "$f" | grep -q '^#!'; then
			opts+=(--shell=sh)
		fi
		check "shellcheck $f" shellcheck "${opts[@]}" "$f"
	done <"$tmp/files"
else
	n=$((n + 1))
	echo "ok $n - shellcheck # SKIP shellcheck is not installed (apt-get install shellcheck)"
fi

if command -v pyflakes3 >/dev/null 2>&1; then
	for d in grading handouts/lib tests/py; do
		[ -d "$d" ] || continue
		check "pyflakes3 $d" pyflakes3 "$d"
	done
else
	n=$((n + 1))
	echo "ok $n - pyflakes3 # SKIP pyflakes3 is not installed (apt-get install pyflakes3)"
fi

tap_end
