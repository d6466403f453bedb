#!/usr/bin/env bash
# Static blank checker.
#
#   checker/blanks.sh unfilled DISPLAYDIR FILE...
#
# Prints one line per blank token (AAAA, BBBB, ... ZZZZ) still present in
# the files, as "blank BBBB at DISPLAYDIR/kecho.c:87 is not filled in", and
# exits 1 if there is any, 0 otherwise.
set -eu

blank_regex() {
	local l r=
	for l in A B C D E F G H I J K L M N O P Q R S T U V W X Y Z; do
		r="$r${r:+|}$l$l$l$l"
	done
	printf '(^|[^A-Za-z0-9_])(%s)([^A-Za-z0-9_]|$)' "$r"
}

unfilled() {
	local shown=$1 f found=0
	shift
	for f in "$@"; do
		if awk -v re="$(blank_regex)" -v name="$shown/$(basename "$f")" '
			{
				line = $0
				while (match(line, re)) {
					tok = substr(line, RSTART, RLENGTH)
					gsub(/[^A-Z]/, "", tok)
					printf "blank %s at %s:%d is not filled in\n", tok, name, NR
					found = 1
					line = substr(line, RSTART + RLENGTH - 1)
				}
			}
			END { exit !found }' "$f"; then
			found=1
		fi
	done
	return $found
}

case ${1:-} in
unfilled)
	shift
	unfilled "$@"
	;;
*)
	echo "usage: blanks.sh unfilled DISPLAYDIR FILE..." >&2
	exit 2
	;;
esac
