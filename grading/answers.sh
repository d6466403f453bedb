#!/usr/bin/env bash
# Fill a stage's blanks from an answers file.
#
#   grading/answers.sh fill STAGEDIR ANSWERS OUTDIR
#
# ANSWERS has lines "AAAA = <expression>" (blank lines and lines starting
# with # are ignored). OUTDIR gets a copy of STAGEDIR with every blank
# token replaced by its expression. A token given twice, or a line that is
# not of that form, is an error naming the line.
set -eu
. "$(dirname "$0")/lib.sh"

fill() {
	local stage=$1 answers=$2 out=$3 f
	[ -d "$stage" ] || die "no stage folder $stage"
	[ -f "$answers" ] || die "no answers file $answers"
	rm -rf "$out"
	mkdir -p "$out"
	cp -r "$stage"/. "$out/"
	for f in "$out"/*.c "$out"/*.h; do
		[ -f "$f" ] || continue
		awk -v answers="$answers" '
		BEGIN {
			while ((getline l < answers) > 0) {
				n++
				sub(/\r$/, "", l)
				if (l ~ /^[ \t]*(#|$)/)
					continue
				if (!match(l, /^[ \t]*[A-Z][A-Z][A-Z][A-Z][ \t]*=/)) {
					printf "%s:%d: expected \"AAAA = <expression>\"\n", answers, n > "/dev/stderr"
					bad = 1
					exit 2
				}
				tok = l; sub(/^[ \t]*/, "", tok); tok = substr(tok, 1, 4)
				if (substr(tok, 2, 3) != substr(tok, 1, 1) substr(tok, 1, 1) substr(tok, 1, 1)) {
					printf "%s:%d: %s is not a blank name (AAAA, BBBB, ...)\n", answers, n, tok > "/dev/stderr"
					bad = 1
					exit 2
				}
				if (tok in ans) {
					printf "%s:%d: %s is answered twice\n", answers, n, tok > "/dev/stderr"
					bad = 1
					exit 2
				}
				v = substr(l, RSTART + RLENGTH)
				sub(/^[ \t]+/, "", v); sub(/[ \t]+$/, "", v)
				ans[tok] = v
			}
		}
		function word(c) { return c ~ /[A-Za-z0-9_]/ }
		{
			line = $0; res = ""
			while (match(line, /[A-Z][A-Z][A-Z][A-Z]/)) {
				tok = substr(line, RSTART, 4)
				pre = RSTART > 1 ? substr(line, RSTART - 1, 1) : substr(res, length(res), 1)
				post = substr(line, RSTART + 4, 1)
				if ((tok in ans) && !word(pre) && !word(post)) {
					res = res substr(line, 1, RSTART - 1) ans[tok]
				} else {
					res = res substr(line, 1, RSTART)
					line = substr(line, RSTART + 1)
					continue
				}
				line = substr(line, RSTART + 4)
			}
			print res line
		}
		END { if (bad) exit 2 }' "$f" >"$f.tmp" || { rm -f "$f.tmp"; exit 2; }
		mv "$f.tmp" "$f"
	done
}

case ${1:-} in
fill) shift; fill "$@" ;;
*) die "usage: answers.sh fill STAGEDIR ANSWERS OUTDIR" ;;
esac
