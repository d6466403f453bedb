#!/usr/bin/env bash
# The kit's own tests (`make test`, called by CI).
#
#   tests/run.sh               the kit's tests (make test)
#   KWEB_SELFTEST_STAGES="1"   only these stages in the guest
#   KWEB_SELFTEST_KERNELS="6.12 6.1"
#   KWEB_SELFTEST_MATRIX=1     every fixture on every kernel (make test-matrix)
#
# make test grades every stage's solution, unfilled stage and fixtures on
# the first kernel, and on the others the solution and the unfilled stage
# only: a fixture tests the grader, which is the same whatever the kernel,
# while a solution that breaks on one kernel shows on that kernel.
# make test-matrix runs the fixtures on every kernel too (about twice as
# long).
#
# 1. user-space unit tests (CMocka), and make test-bn on right and wrong
#    answers of stage 7;
# 2. stages/ is exactly what solutions/ generates;
# 3. per stage and kernel, the grader run against the solution, the unfilled
#    stage and wrong answers (tests/grader.sh);
# 4. the blank checker on the stages (tests/blanks.sh), the report writers
#    (tests/reports.sh), a class and a quiz graded at once (tests/class.sh);
# 5. the handouts build and their listings are the stage files
#    (tests/handouts.sh); the student kit (make dist) gives no answer away
#    and grades stage 1 on its own (tests/dist.sh).
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
# The kernels first: the build and gate tests need their headers.
part "guest kernels fetched (6.12, 6.1)" grading/kernel.sh 6.12 6.1
part "host-side Python (pytest)" /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/py
part "static blank checker on the stages" tests/blanks.sh
part "report writers, and the grader before the guest" tests/reports.sh
part "handouts build; listings match the stage files" tests/handouts.sh "$KWEB_BUILD/selftest/handouts"
part "student kit: no answers in it, and it grades stage 1" tests/dist.sh "$KWEB_BUILD/selftest/handouts"

# Every stage that has a rubric (a stage being written may not yet).
stages=${KWEB_SELFTEST_STAGES:-$(cd checker && for d in [0-9][0-9]-*; do
	[ -f "$d/rubric" ] && echo "${d%%-*}"; done | tr '\n' ' ')}
kernels=${KWEB_SELFTEST_KERNELS:-6.12 6.1}
first=1
for k in $kernels; do
	for s in $stages; do
		if [ -n "$first" ] || [ -n "${KWEB_SELFTEST_MATRIX:-}" ]; then
			part "grader on stage $s, Linux $k" tests/grader.sh "$s" "$k"
		else
			part "grader on stage $s, Linux $k (solution and unfilled stage)" \
				env KWEB_FIXTURES=none tests/grader.sh "$s" "$k"
		fi
	done
	first=
done
# A class and a quiz, graded in parallel: on the first kernel only.
part "grading a class and a quiz, Linux ${kernels%% *}" tests/class.sh "${kernels%% *}"

echo
echo "kit tests took $(( $(date +%s) - t_start ))s"
for f in ${failures[@]+"${failures[@]}"}; do
	echo "failed: $f"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
