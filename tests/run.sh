#!/usr/bin/env bash
# The kit's own tests (`make test`, called by CI).
#
#   tests/run.sh               the kit's tests (make test)
#   KWEB_SELFTEST_STAGES="1"   only these stages in the guest
#   KWEB_SELFTEST_KERNELS="6.12 6.1 debug"   (test-matrix: and 7.3)
#   KWEB_SELFTEST_DEBUG_STAGES="4"   the stages graded on debug
#   KWEB_SELFTEST_TIMED=6      the first stage not graded beside a build
#   KWEB_SELFTEST_MATRIX=1     everything on every kernel (make test-matrix)
#
# make test grades, per kernel:
#   6.12   every stage's solution, unfilled stage and fixtures;
#   6.1    every stage's solution and unfilled stage;
#   7.3    nothing: make test-matrix builds it and grades every stage's
#          solution on it. Debug is the same 7.3 with sanitizers, so make
#          test still builds every solution against 7.3's headers (the
#          gate's pytest) and runs stage 4 on it;
#   debug  the solution of stage 4 (whose teardown the sanitizers
#          check) and the fixtures only the debug kernel catches ("# expect:
#          kernels debug"). A grade there takes 10 to 20 times as long
#          as on 7.3.
# A fixture tests the grader, which is the same whatever the kernel, while a
# solution that breaks on one kernel shows on that kernel. make test-matrix
# grades every stage's solution and fixtures on every kernel (three hours
# or more).
#
# In this order:
# 1. user-space unit tests (CMocka), make test-bn on right and wrong answers
#    of stage 7, shellcheck and pyflakes, and stages/ is exactly what
#    solutions/ generates;
# 2. the fetched kernels (6.12, 6.1); the built ones (debug, and 7.3 for
#    test-matrix) start building in the background;
# 3. the blank checker on the stages (tests/blanks.sh), the report writers
#    (tests/reports.sh), the handouts build and their listings are the stage
#    files (tests/handouts.sh), the student kit (make dist) gives no answer
#    away and grades stage 1 on its own (tests/dist.sh);
# 4. per stage, on the fetched kernels, the grader run against the solution,
#    the unfilled stage and wrong answers (tests/grader.sh), then a class
#    and a quiz graded at once (tests/class.sh). Only the stages before
#    KWEB_SELFTEST_TIMED (6) while a kernel builds: from stage 6 on, the
#    tests measure time (timeouts of a few seconds, a computation's
#    duration, the soft-lockup detector), and beside a kernel build CI saw
#    them fail on the solution and pass a wrong fixture; the host side's
#    pytest suite but its tests of the kernels being built;
# 5. the built kernels, waited for; the timed stages on the fetched
#    kernels; pytest's tests of the built kernels; the grader on them.
# Ends with "N passed, N failed".
set -eu
. "$(dirname "$0")/../grading/lib.sh"
cd "$KWEB_ROOT"

"$KWEB_ROOT/grading/deps.sh" test

passed=0
failed=0
failures=()
t_start=$(date +%s)

# part NAME CMD...: run one part, count its result by its exit status.
part() {
	local name=$1 t0 rc
	shift
	echo "=== $name"
	t0=$(date +%s)
	set +e
	"$@"
	rc=$?
	set -e
	if [ $rc -eq 0 ]; then
		passed=$((passed + 1))
		echo "=== $name: ok ($(( $(date +%s) - t0 ))s)"
	else
		failed=$((failed + 1))
		failures+=("$name")
		echo "=== $name: FAILED ($(( $(date +%s) - t0 ))s)"
	fi
}

part "unit tests (cmocka)" make -s -C tests/unit
part "make test-bn: bn.c against GMP, wrong answers caught" tests/testbn.sh
part "static checks (shell)" tests/static.sh
part "stages/ in sync with solutions/" grading/kw stages check
# The kernels. The fetched ones (6.12, 6.1) first: everything up to the
# class grade runs on them. The built ones (debug; 7.3 for test-matrix)
# take 5 to 17 minutes each on 2 cores, so they build in the background at
# the lowest priority while those parts run; pytest's tests of them (the
# gate builds every solution against their headers) and the grades on them
# wait for it. 7.3
# is built for make test-matrix only: debug is the same 7.3, so make test
# still builds every solution against 7.3's headers and grades stage 4 on it.
if [ -n "${KWEB_SELFTEST_MATRIX:-}" ]; then
	kernels=${KWEB_SELFTEST_KERNELS:-6.12 6.1 7.3 debug}
else
	kernels=${KWEB_SELFTEST_KERNELS:-6.12 6.1 debug}
fi
fetched=
built=
for k in $kernels; do
	if kernel_built "$k"; then
		built="$built $k"
	else
		fetched="$fetched $k"
	fi
done
fetched=${fetched# }
built=${built# }
built_log=$KWEB_BUILD/selftest/kernels-built.log
built_pid=
if [ -n "$fetched" ]; then
	# shellcheck disable=SC2086 # a list of kernels
	part "guest kernels ready ($fetched, fetched once)" grading/kernel.sh $fetched
fi
if [ -n "$built" ]; then
	mkdir -p "$(dirname "$built_log")"
	echo "=== building $built in the background (log: ${built_log#"$KWEB_ROOT"/})"
	# shellcheck disable=SC2086 # a list of kernels
	setsid nice -n 19 grading/kernel.sh $built >"$built_log" 2>&1 </dev/null &
	built_pid=$!
	# An interrupted make test does not leave a build running: the build
	# is a process group of its own (a background job of a script ignores
	# ^C), killed as a whole.
	trap '[ -z "$built_pid" ] || kill -- -"$built_pid" 2>/dev/null || :' EXIT
fi

# built_kernels: wait for the background build; its output is this part's.
# On failure the grades on those kernels are not run.
built_ok=1
built_kernels() {
	local rc=0
	wait "$built_pid" || rc=$?
	built_pid=
	cat "$built_log"
	[ $rc -eq 0 ] || built_ok=
	return $rc
}

part "static blank checker on the stages" tests/blanks.sh
part "report writers, and the grader before the guest" tests/reports.sh
part "handouts build; listings match the stage files" tests/handouts.sh "$KWEB_BUILD/selftest/handouts"
part "student kit: no answers in it, and it grades stage 1" tests/dist.sh "$KWEB_BUILD/selftest/handouts"

# Every stage that has a rubric (a stage being written may not yet).
stages=${KWEB_SELFTEST_STAGES:-$(cd checker && for d in [0-9][0-9]-*; do
	[ -f "$d/rubric" ] && echo "${d%%-*}"; done | tr '\n' ' ')}
debug_stages=${KWEB_SELFTEST_DEBUG_STAGES:-4}
# Every fixture and the class on the first fetched kernel (a built one only
# when none is fetched: then after its build).
first_kernel=${fetched:-$built}
first_kernel=${first_kernel%% *}

# The first stage whose tests measure time: graded with no build beside it.
timed=${KWEB_SELFTEST_TIMED:-6}

# grade_stages KERNEL [untimed|timed]: the grader on every stage, on one
# kernel (only the stages before $timed, or only the others).
grade_stages() {
	local k=$1 which=${2:-all} s
	for s in $stages; do
		case $which in
		untimed) [ $((10#$s)) -lt "$timed" ] || continue ;;
		timed) [ $((10#$s)) -ge "$timed" ] || continue ;;
		esac
		if [ -n "${KWEB_SELFTEST_MATRIX:-}" ]; then
			part "grader on stage $s, Linux $k" tests/grader.sh "$s" "$k"
		elif [ "$k" = debug ]; then
			case " $debug_stages " in
			*" $((10#$s)) "*) ;;
			*) continue ;;
			esac
			part "grader on stage $s, Linux $k (solution, unfilled stage, the fixtures only it catches)" \
				env KWEB_FIXTURES=own tests/grader.sh "$s" "$k"
		elif [ "$k" = "$first_kernel" ]; then
			part "grader on stage $s, Linux $k" tests/grader.sh "$s" "$k"
		else
			part "grader on stage $s, Linux $k (solution and unfilled stage)" \
				env KWEB_FIXTURES=none tests/grader.sh "$s" "$k"
		fi
	done
}

# With a kernel building beside them, the timed stages wait for its end.
for k in $fetched; do
	grade_stages "$k" "${built_pid:+untimed}"
done
# A class and a quiz, graded in parallel: on the first kernel only.
class_part() {
	part "grading a class and a quiz, Linux $first_kernel" tests/class.sh "$first_kernel"
}
[ -z "$fetched" ] || class_part

# pytest_part WHAT [ARGS...]: the pytest suite (ARGS: which tests). A hung
# test fails the part instead of running into CI's time limit.
pytest_part() {
	local what=$1
	shift
	part "host-side Python (pytest)$what" timeout 900 /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/py "$@"
}
# While a kernel builds, the tests that do not name it (by their names
# and parameters: test_gate[debug]) run beside it; the others after it.
# A kernel whose name is no word (7.3) cannot be named in -k: then the
# whole suite waits.
only_built=
if [ -n "$built_pid" ]; then
	for k in $built; do
		if [[ ! $k =~ ^[a-z][a-z0-9_]*$ ]]; then
			only_built=
			break
		fi
		only_built=${only_built:+$only_built or }$k
	done
fi
[ -z "$only_built" ] || pytest_part ", all but the tests of $built" -k "not ($only_built)"

if [ -n "$built" ]; then
	part "guest kernels ready ($built, built here once)" built_kernels
	for k in $fetched; do
		grade_stages "$k" timed
	done
fi
if [ -n "$only_built" ]; then
	pytest_part ", the tests of $built" -k "$only_built"
else
	pytest_part ""
fi
for k in $built; do
	if [ -n "$built_ok" ]; then
		grade_stages "$k"
	else
		echo "=== grader on Linux $k: not run, the kernel did not build"
	fi
done
[ -n "$fetched" ] || [ -z "$built_ok" ] || class_part

echo
echo "kit tests took $(( $(date +%s) - t_start ))s"
for f in ${failures[@]+"${failures[@]}"}; do
	echo "failed: $f"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
