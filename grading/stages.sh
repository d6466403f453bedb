#!/usr/bin/env bash
# Generate the student stages from the reference solutions.
#
#   grading/stages.sh generate [OUTROOT]   write OUTROOT/NN-name (default stages/)
#   grading/stages.sh check                fail if stages/ differs from what
#                                          generate would write
#   grading/stages.sh one SOLDIR OUTDIR    write the stage of one solution
#   grading/stages.sh answers STAGEDIR     print the blanks' answers
#                                          ("AAAA = expr" lines) of a solution
#
# In a solution, a blank is marked inline as /*{*/expression/*}*/; the code
# stays a valid, buildable module. In the stage, each marked expression is
# replaced by the next token: AAAA, BBBB, ... in order of appearance.
#
# solutions/NN-name/variants (instructor only) lists other expressions
# accepted for a blank, as "TOKEN = expression" lines, each with a comment
# saying why it is equivalent there. It is never copied into stages/.
set -eu
. "$(dirname "$0")/lib.sh"

# blank_awk MODE: MODE=stage prints the file with the tokens in place;
# MODE=answers prints "TOKEN = expression" lines.
blank_awk() {
	awk -v mode="$1" -v file="$2" '
	BEGIN { letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"; n = 0 }
	{
		line = $0; res = ""
		while ((s = index(line, "/*{*/")) > 0) {
			rest = substr(line, s + 5)
			e = index(rest, "/*}*/")
			if (e == 0) {
				printf "%s:%d: blank opened with /*{*/ but not closed on the same line\n", file, NR > "/dev/stderr"
				exit 2
			}
			n++
			c = substr(letters, n, 1)
			tok = c c c c
			if (mode == "answers")
				printf "%s = %s\n", tok, substr(rest, 1, e - 1)
			res = res substr(line, 1, s - 1) tok
			line = substr(rest, e + 5)
		}
		if (index(line, "/*}*/") > 0) {
			printf "%s:%d: /*}*/ without /*{*/\n", file, NR > "/dev/stderr"
			exit 2
		}
		if (mode == "stage")
			print res line
	}' "$2"
}

generate_one() {
	local sol=$1 dst=$2 f rel
	rm -rf "$dst"
	mkdir -p "$dst"
	for f in "$sol"/*; do
		rel=$(basename "$f")
		case $rel in
		*.ko|*.o|*.mod|*.mod.c|*.order|*.symvers) continue ;;
		variants) continue ;;	# instructor only
		esac
		case $rel in
		*.c|*.h) blank_awk stage "$f" >"$dst/$rel" ;;
		*) cp "$f" "$dst/$rel" ;;
		esac
	done
}

generate() {
	local out=${1:-$KWEB_ROOT/stages} sol
	# The student kit has stages/ but no solutions/ to make them from.
	compgen -G "$KWEB_ROOT/solutions/[0-9][0-9]-*/" >/dev/null ||
		die "no solutions/ here to generate stages/ from (the student kit ships stages/ ready-made)"
	mkdir -p "$out"
	for sol in "$KWEB_ROOT"/solutions/[0-9][0-9]-*/; do
		sol=${sol%/}
		generate_one "$sol" "$out/$(basename "$sol")"
	done
}

case ${1:-} in
generate)
	generate "${2:-}"
	;;
check)
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	generate "$tmp"
	for d in "$tmp"/*/; do
		d=${d%/}
		diff -r -x '*.ko' -x '*.o' -x '*.mod*' -x '*.order' -x '*.symvers' \
			-x '.*.cmd' "$d" "$KWEB_ROOT/stages/$(basename "$d")" >&2 ||
			die "stages/$(basename "$d") differs from what solutions/ generates: run 'make stages'"
	done
	;;
one)
	generate_one "${2:?solution folder}" "${3:?output folder}"
	;;
answers)
	for f in "${2:?stage folder}"/*.c; do
		blank_awk answers "$f"
	done
	;;
*)
	die "usage: stages.sh generate [OUTROOT] | check | one SOLUTIONDIR OUTDIR | answers SOLUTIONDIR"
	;;
esac
