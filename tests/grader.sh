#!/usr/bin/env bash
# The grader's own tests: does it tell right from wrong?
#
#   tests/grader.sh STAGE KERNEL
#
# For the stage: the solution must score full marks; the unfilled stage must
# name its blanks and score 0 without booting; every fixture in
# tests/fixtures/STAGE/ must be graded as its "# expect:" lines say.
# A fixture is NAME.answers (the stage's blanks filled from it), NAME.sed
# (a sed script applied to the solution) or NAME.dir/ (files copied over
# the solution, its expectations in NAME.dir/expect). Expectations:
#   exit N               the grader's exit status
#   status TEST S1|S2    the test's status in results.tsv is one of these
#   output TEXT          the grader's output contains TEXT
#   below-max            the total is below the maximum
#   tests A B ...        grade only these tests (keeps slow fixtures short)
#   answers-mode         (NAME.answers) graded through ANSWERS=, as a quiz
#                        answer is, rather than filled in beforehand
#   from STAGE           (NAME.dir/) its files are laid over the solution of
#                        STAGE (another stage's, e.g. 05-netns), not this one
#   kernels K1 K2 ...    graded on these kernels only: a wrong answer that
#                        only the debug kernel's sanitizers catch says
#                        "kernels debug"
#   matrix-only          a race the kernel catches on most runs, not every
#                        run: graded by make test-matrix (or when
#                        KWEB_FIXTURES names it), never in make test
# KWEB_FIXTURES="a b" runs only those fixtures (after the solution and the
# unfilled stage); KWEB_FIXTURES=none runs none (tests/run.sh, on every
# kernel but the first); KWEB_FIXTURES=own runs those whose "kernels" line
# names this kernel (tests/run.sh, on the debug kernel).
# The solution and the unfilled stage are graded alone; the fixtures two at
# a time (KWEB_SELFTEST_JOBS, default 2).
# Prints TAP; exits 1 if anything failed.
set -u
. "$(dirname "$0")/../grading/lib.sh"

stage_arg=$1
kernel=$2
stage=$(basename "$(stage_dir "$KWEB_ROOT/checker" "$stage_arg")")
work=$KWEB_BUILD/selftest/$stage-$kernel
rm -rf "$work"
mkdir -p "$work"
n=0
failed=0

ok() {
	n=$((n + 1))
	echo "ok $n - $*"
}

not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
	shift
	printf '#   %s\n' "$@"
}

# run_grade NAME SRC [TESTS [ANSWERS]]: run the grader; its output in
# $work/NAME.out, its exit status and seconds in $work/NAME.rc, results in
# $work/NAME/.
run_grade() {
	local name=$1 src=$2 tests=${3:-} answers=${4:-} t0 t1 rc
	t0=$(now_ms)
	KWEB_QUIET='' KWEB_TESTS=$tests KWEB_OUT=$work/$name KWEB_ANSWERS=$answers \
		"$KWEB_ROOT/grading/kw" grade "$stage" "$src" "$kernel" \
		>"$work/$name.out" 2>&1
	rc=$?
	t1=$(now_ms)
	echo "$rc $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1000 }')" \
		>"$work/$name.rc"
}

# graded NAME: GRADE_RC, GRADE_SECS and GRADE_TOTAL of a finished grade.
graded() {
	GRADE_RC=255
	GRADE_SECS=0
	read -r GRADE_RC GRADE_SECS <"$work/$1.rc" || true
	GRADE_TOTAL=$(sed -n 's/^Total: //p' "$work/$1.out" | tail -n 1)
}

grade() {
	run_grade "$@"
	graded "$1"
}

status_of() {
	awk -F'\t' -v t="$2" '$1 == t { print $2 }' "$work/$1/results.tsv" 2>/dev/null
}

# failure_detail NAME [TEST...]: what a failed grade of NAME shows CI,
# whose machine is gone afterwards: the grader's lines but the passes, the
# start of the log of each TEST (or of each test that did not pass), and
# the kernel's first oops, BUG, warning or soft lockup with what follows.
failure_detail() {
	local d=$work/$1 t c list
	grep -vE '^  PASS' "$work/$1.out" | tail -n 20
	shift
	list=${*:-$(awk -F'\t' 'NR > 1 && $2 != "pass" { print $1 }' "$d/results.tsv" 2>/dev/null)}
	for t in $list; do
		[ -f "$d/tests/$t.log" ] || continue
		echo "--- $t.log (start)"
		head -n 15 "$d/tests/$t.log"
	done
	for c in "$d"/console-*.log; do
		[ -f "$c" ] || continue
		grep -m 1 -A 30 -E 'Oops|BUG:|double fault|general protection|soft lockup|WARNING:' "$c" |
			sed "1s|^|--- ${c##*/}: |" && break
	done
}

# 1. The reference solution scores full marks.
grade solution solutions
max=${GRADE_TOTAL#*/}
if [ "$GRADE_RC" -eq 0 ] && [ -n "$max" ] && [ "$GRADE_TOTAL" = "$max/$max" ]; then
	ok "$stage/$kernel: the solution scores $GRADE_TOTAL (${GRADE_SECS}s)"
else
	not_ok "$stage/$kernel: the solution scores ${GRADE_TOTAL:-nothing} (exit $GRADE_RC)" \
		"$(failure_detail solution)"
fi

# 1b. ... and builds with no warning at W=1.
if [ -s "$work/solution/build.txt" ]; then
	not_ok "$stage/$kernel: the solution builds with warnings at W=1" \
		"$(cat "$work/solution/build.txt")"
else
	ok "$stage/$kernel: the solution builds with no warning at W=1"
fi

# 1c. ... and sparse, which ran on it, found nothing.
if [ -f "$work/solution/feedback/sparse.unavailable" ]; then
	not_ok "$stage/$kernel: sparse did not check the solution" \
		"$(cat "$work/solution/feedback/sparse.unavailable")"
elif [ -s "$work/solution/feedback/sparse.txt" ]; then
	not_ok "$stage/$kernel: sparse has findings on the solution" \
		"$(head -n 20 "$work/solution/feedback/sparse.txt")"
elif [ -f "$work/solution/feedback/sparse.txt" ]; then
	ok "$stage/$kernel: sparse finds nothing in the solution"
else
	not_ok "$stage/$kernel: the solution's grade left no sparse result"
fi

# 2. The unfilled stage names every blank, scores 0 and boots nothing.
grade unfilled stages
want=$("$KWEB_ROOT/grading/kw" stages answers "$KWEB_ROOT/solutions/$stage" | cut -d' ' -f1)
missing=
for b in $want; do
	grep -qE "blank $b at stages/$stage/[a-z0-9_]+\.c:[0-9]+ is not filled in" \
		"$work/unfilled.out" || missing="$missing $b"
done
if [ "$GRADE_RC" -eq 1 ] && [ "$GRADE_TOTAL" = "0/$max" ] && [ -z "$missing" ] &&
	! ls "$work/unfilled"/console-*.log >/dev/null 2>&1; then
	ok "$stage/$kernel: the unfilled stage names its blanks ($(printf '%s' "$want" | tr '\n' ' ' | sed 's/ $//')) and scores 0"
else
	not_ok "$stage/$kernel: unfilled stage: exit $GRADE_RC, total ${GRADE_TOTAL:-none}, blanks not named:${missing:- none}" \
		"$(tail -n 20 "$work/unfilled.out")"
fi

# 3. Each fixture is graded as it expects.
jobs=${KWEB_SELFTEST_JOBS:-2}
queued=()
expects=()
for fx in "$KWEB_ROOT"/tests/fixtures/"$stage"/*.answers "$KWEB_ROOT"/tests/fixtures/"$stage"/*.sed \
	"$KWEB_ROOT"/tests/fixtures/"$stage"/*.dir; do
	[ -e "$fx" ] || continue
	name=$(basename "$fx")
	name=${name%.*}
	expect=$fx
	[ ! -d "$fx" ] || expect=$fx/expect
	only=$(sed -n 's/^# expect: kernels //p' "$expect")
	if [ -n "$only" ]; then
		case " $only " in *" $kernel "*) ;; *) continue ;; esac
	fi
	if grep -qx '# expect: matrix-only' "$expect" &&
		[ -z "${KWEB_SELFTEST_MATRIX:-}" ]; then
		case " ${KWEB_FIXTURES:-} " in *" $name "*) ;; *) continue ;; esac
	fi
	if [ "${KWEB_FIXTURES:-}" = own ]; then
		[ -n "$only" ] || continue
	elif [ -n "${KWEB_FIXTURES:-}" ]; then
		case " $KWEB_FIXTURES " in *" $name "*) ;; *) continue ;; esac
	fi
	sub=$work/src-$name
	case $fx in
	*.answers)
		# "answers-mode": graded as ANSWERS= is (the quiz channel), not
		# filled in beforehand.
		if grep -qx '# expect: answers-mode' "$fx"; then
			sub=stages
		else
			"$KWEB_ROOT/grading/kw" fill "$KWEB_ROOT/stages/$stage" "$fx" "$sub" ||
			{ not_ok "$stage/$kernel: fixture $name cannot be applied"; continue; }
		fi
		;;
	*.dir)
		base=$(sed -n 's/^# expect: from //p' "$expect")
		base=${base:-$stage}
		if [ ! -d "$KWEB_ROOT/solutions/$base" ]; then
			not_ok "$stage/$kernel: fixture $name: no solution $base to start from"
			continue
		fi
		mkdir -p "$sub"
		cp -r "$KWEB_ROOT/solutions/$base"/. "$sub/"
		sed -i 's|/\*[{}]\*/||g' "$sub"/*.c
		find "$fx" -mindepth 1 -maxdepth 1 ! -name expect -exec cp -P {} "$sub/" \;
		;;
	*.sed)
		mkdir -p "$sub"
		cp -r "$KWEB_ROOT/solutions/$stage"/. "$sub/"
		for f in "$sub"/*.c; do
			sed -i -e 's|/\*[{}]\*/||g' -f "$fx" "$f"
		done
		if cmp -s <(sed 's|/\*[{}]\*/||g' "$KWEB_ROOT/solutions/$stage"/*.c) <(cat "$sub"/*.c); then
			not_ok "$stage/$kernel: fixture $name changes nothing in the solution"
			continue
		fi
		;;
	esac
	tests=$(sed -n 's/^# expect: tests //p' "$expect")
	answers=
	[ "$sub" != stages ] || answers=$fx
	# Two grades at once (KWEB_SELFTEST_JOBS): a fixture's guest mostly
	# waits (a timeout, a hung rmmod, a reboot after an oops), and each
	# grade has its own guest, folder and ports, as a class's grades do.
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
		wait -n || true
	done
	run_grade "$name" "$sub" "$tests" "$answers" &
	queued+=("$name")
	expects+=("$expect")
done
wait

for i in "${!queued[@]}"; do
	name=${queued[$i]}
	expect=${expects[$i]}
	graded "$name"
	problems=()
	while read -r kind arg rest; do
		case $kind in
		exit)
			[ "$GRADE_RC" = "$arg" ] || problems+=("exit $GRADE_RC, expected $arg")
			;;
		status)
			got=$(status_of "$name" "$arg")
			case "|$rest|" in
			*"|$got|"*) ;;
			*) problems+=("test $arg is '${got:-missing}', expected $rest") ;;
			esac
			[ -n "$got" ] || problems+=("test $arg has no result")
			;;
		output)
			grep -qF -- "$arg${rest:+ $rest}" "$work/$name.out" ||
				problems+=("output lacks '$arg${rest:+ $rest}'")
			;;
		below-max)
			got=${GRADE_TOTAL%/*}
			[ -n "$got" ] && [ "$got" -lt "${GRADE_TOTAL#*/}" ] ||
				problems+=("total ${GRADE_TOTAL:-none} is not below the maximum")
			;;
		tests | answers-mode | from | kernels | matrix-only) ;;
		*) problems+=("unknown expectation '$kind'") ;;
		esac
	done < <(sed -n 's/^# expect: //p' "$expect")
	if [ ${#problems[@]} -eq 0 ]; then
		ok "$stage/$kernel: fixture $name graded as expected: $GRADE_TOTAL (${GRADE_SECS}s)"
	else
		# shellcheck disable=SC2046 # the names of the tests expected to fail
		not_ok "$stage/$kernel: fixture $name: ${problems[0]}" "${problems[@]}" \
			"$(failure_detail "$name" $(sed -n 's/^# expect: status \([^ ]*\).*/\1/p' "$expect"))"
	fi
done

echo "1..$n"
[ "$failed" -eq 0 ]
