#!/usr/bin/env bash
# make test-bn, the students' user-space check of stage 7's bn.c against
# GMP: it passes the solution, fails each wrong answer of the stage's
# fixtures that bn.c's own behaviour shows (the carry, the doubling step,
# no reschedule point), and refuses an unfilled stage with one line.
# No guest. Prints TAP.
set -u
. "$(dirname "$0")/../grading/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

TAP_LOG=$tmp/check.log
TAP_TRIM="tail -n 20"
export TAP_LOG TAP_TRIM
. "$KWEB_ROOT/tests/tap.sh"

S=07-fib
FX=$KWEB_ROOT/tests/fixtures/$S

# fails SRC: make test-bn SRC=SRC must fail, with CMocka saying which test.
fails() {
	! make -s -C "$KWEB_ROOT" test-bn SRC="$1" >"$tmp/out" 2>&1 &&
		grep -E '^\[  (FAILED|ERROR) +\]' "$tmp/out"
}

# unfilled: exit 2, and one line that names the blank.
unfilled() {
	make -s -C "$KWEB_ROOT" test-bn SRC="$KWEB_ROOT/stages" >"$tmp/out" 2>&1
	[ $? -eq 2 ] &&
		grep -qx "make test-bn: $KWEB_ROOT/stages/$S/bn.c still has the blank AAAA: fill it in first" "$tmp/out"
}

check "make test-bn passes the solution" \
	make -s -C "$KWEB_ROOT" test-bn SRC="$KWEB_ROOT/solutions"
check "make test-bn refuses the unfilled stage with one line" unfilled
for fx in carry-from-bit-31 doubling-squares spin-instead-of-resched; do
	"$KWEB_ROOT/grading/kw" fill "$KWEB_ROOT/stages/$S" "$FX/$fx.answers" "$tmp/$fx" ||
		die "cannot fill $S with $fx"
	check "make test-bn fails the wrong answer $fx" fails "$tmp/$fx"
done
tap_end
