#!/usr/bin/env bash
# Tests of the host-side tools that need no guest: the blank checker, the
# answers filler, the stage generator, the stage lookup. Prints TAP.
set -u
. "$(dirname "$0")/../grading/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

TAP_LOG=$tmp/check.log
. "$KWEB_ROOT/tests/tap.sh"

# Every shell script parses.
for f in "$KWEB_ROOT"/grading/*.sh "$KWEB_ROOT"/checker/*.sh "$KWEB_ROOT"/tests/*.sh; do
	check "bash -n $(basename "$f")" bash -n "$f"
done
for f in "$KWEB_ROOT"/grading/guest/* "$KWEB_ROOT"/checker/lib/*.sh "$KWEB_ROOT"/checker/*/tests/*.sh; do
	check "sh -n ${f#"$KWEB_ROOT"/}" busybox sh -n "$f"
done

# The blank checker.
printf 'int a = AAAA;\nfoo(BBBB, CCCC);\nint XAAAA, AAAAB, A_AAAA;\n' >"$tmp/b.c"
blanks() { "$KWEB_ROOT/checker/blanks.sh" unfilled "$@"; }
check "blanks: finds each token with its line" bash -c '
	out=$("$0" unfilled stages/x "$1"); [ $? -eq 1 ] || exit 1
	[ "$out" = "blank AAAA at stages/x/b.c:1 is not filled in
blank BBBB at stages/x/b.c:2 is not filled in
blank CCCC at stages/x/b.c:2 is not filled in" ]' "$KWEB_ROOT/checker/blanks.sh" "$tmp/b.c"
printf 'int a = b;\nint XAAAA, AAAAB;\n' >"$tmp/c.c"
check "blanks: a filled file passes" blanks stages/x "$tmp/c.c"

# The answers filler.
mkdir -p "$tmp/st"
printf 'x = AAAA;\ny = BBBB + AAAA;\nz = XBBBB;\n' >"$tmp/st/m.c"
printf '# comment\nAAAA = f(a, &b)\n\nBBBB =  g("\\\\n") \n' >"$tmp/ans"
check "answers: fills every token, leaves look-alikes" bash -c '
	"$0" fill "$1/st" "$1/ans" "$1/out" && [ "$(cat "$1/out/m.c")" = "x = f(a, &b);
y = g(\"\\\\n\") + f(a, &b);
z = XBBBB;" ]' "$KWEB_ROOT/grading/answers.sh" "$tmp"
printf 'AAAA = 1\nAAAA = 2\n' >"$tmp/dup"
check "answers: a blank answered twice is an error" bash -c '
	! "$0" fill "$1/st" "$1/dup" "$1/out2" 2>"$1/err" && grep -q "answered twice" "$1/err"' \
	"$KWEB_ROOT/grading/answers.sh" "$tmp"
printf 'AAAA: 1\n' >"$tmp/bad"
check "answers: a malformed line is an error naming the line" bash -c '
	! "$0" fill "$1/st" "$1/bad" "$1/out3" 2>"$1/err" && grep -q "bad:1:" "$1/err"' \
	"$KWEB_ROOT/grading/answers.sh" "$tmp"

# The stage generator round trip: the answers it extracts fill the stage
# it generates back into the solution.
for sol in "$KWEB_ROOT"/solutions/[0-9][0-9]-*; do
	s=$(basename "$sol")
	check "stages: $s filled with its own answers is the solution" bash -c '
		"$0/grading/stages.sh" answers "$0/solutions/$1" >"$2/$1.ans" &&
		"$0/grading/answers.sh" fill "$0/stages/$1" "$2/$1.ans" "$2/$1" &&
		for f in "$0/solutions/$1"/*.c; do
			diff <(sed "s|/\*[{}]\*/||g" "$f") "$2/$1/$(basename "$f")" || exit 1
		done' "$KWEB_ROOT" "$s" "$tmp"
done

# Stage lookup.
check "stage_dir: 1, 01 and the full name find stage 1" bash -c '
	. "$0/grading/lib.sh"
	a=$(stage_dir "$0/checker" 1) && b=$(stage_dir "$0/checker" 01) &&
	c=$(stage_dir "$0/checker" 01-kthread-echo) && [ "$a" = "$b" ] && [ "$b" = "$c" ]' \
	"$KWEB_ROOT"
check "stage_dir: an unknown stage is one clear error" bash -c '
	. "$0/grading/lib.sh"
	! (stage_dir "$0/checker" 42) 2>"$1/err" && [ "$(wc -l <"$1/err")" -eq 1 ] &&
	grep -q "no stage .42." "$1/err"' "$KWEB_ROOT" "$tmp"

tap_end
