#!/usr/bin/env bash
# Grade one stage in a throwaway QEMU guest.
#
#   grading/grade.sh STAGE [SRC] [KERNEL]
#
# STAGE   1, 01 or 01-kthread-echo
# SRC     stages (default: what the student edits), solutions, or a folder
#         (a stage folder, or a folder holding NN-name stage folders)
# KERNEL  6.12 (default) or 6.1
#
# Environment:
#   KWEB_ANSWERS=FILE     grade the stage's blanks filled in from FILE
#                         ("AAAA = <expression>" lines), not SRC
#   KWEB_OUT              the results folder
#   KWEB_TESTS            only these tests
#   KWEB_INSTRUCTOR_PACK  a folder of NN-name/{rubric,tests/,hints} adding
#                         tests (hidden ones too); default instructor/ when
#                         it exists, "none" for no pack
#   KWEB_FEEDBACK=0       no checkpatch.pl or sparse (unless graded)
#   KWEB_ACCEL (kvm|tcg), KWEB_TIMEOUT_SCALE, KWEB_QUIET=1 (no test lines)
# For grading a class (grading/class.sh):
#   KWEB_REUSE=DIR        take the build and the guest's results from DIR, a
#                         grade of the same module (same normalized answers)
#   KWEB_BASE_IMAGE=FILE  the guest's base image, built once beforehand
#
# The results folder holds results.tsv (a line per test: name, status,
# score, max_score, seconds, visibility, message), results.info, rubric.tsv,
# tests/NAME.log, the reports (report.md for the student,
# report-instructor.md, results.json for Gradescope, junit.xml,
# results.ktap; see grading/report.sh), build.txt and feedback/.
#
# Rubric lines named static_blanks, static_warnings, static_checkpatch or
# static_sparse are host-side checks (the blank checker, compiler warnings
# at W=1, checkpatch.pl, sparse): they pass when there is no finding. Without
# such a line, those checks are feedback only.
#
# Exit status: 0 full marks; 1 graded, not full marks (including a module
# that does not build, has unfilled blanks or misses a file); 2 grading
# could not run.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vm.sh"

stage_arg=${1:-}
src_arg=${2:-stages}
series=$(kernel_series "${3:-}")
answers=${KWEB_ANSWERS:-}
reuse=${KWEB_REUSE:-}
t_begin=$(now_ms)
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)

"$KWEB_ROOT/grading/deps.sh" grade

# --- what is graded --------------------------------------------------------
check_dir=$(stage_dir "$KWEB_ROOT/checker" "$stage_arg")
stage=$(basename "$check_dir")
[ -f "$check_dir/rubric" ] && [ -f "$check_dir/stage.conf" ] ||
	die "stage $stage has no rubric or stage.conf in $check_dir"
MODULE= SOURCES=
. "$check_dir/stage.conf"

if [ -n "$answers" ]; then
	[ -f "$answers" ] || die "ANSWERS=$answers is not a file"
	[ "$src_arg" = stages ] ||
		die "ANSWERS= fills the kit's own copy of the stage: leave SRC= out"
	answers=$(cd "$(dirname "$answers")" && pwd)/$(basename "$answers")
	label=answers-$(basename "$answers" | tr -c 'A-Za-z0-9_.\n-' _)
	sub_dir=
	shown=
else
	case $src_arg in
	stages|solutions)
		sub_dir=$KWEB_ROOT/$src_arg/$stage
		shown=$src_arg/$stage
		label=$src_arg
		;;
	*)
		[ -d "$src_arg" ] || die "SRC=$src_arg is not a folder (use stages, solutions or a folder)"
		sub_dir=$(cd "$src_arg" && pwd)
		[ ! -d "$sub_dir/$stage" ] || sub_dir=$sub_dir/$stage
		shown=$src_arg
		label=$(basename "$sub_dir" | tr -c 'A-Za-z0-9_.\n-' _)
		;;
	esac
	[ -d "$sub_dir" ] || die "no folder $shown to grade"
fi

# The instructor pack: more tests (hidden ones among them), never in the
# student kit.
pack=
case ${KWEB_INSTRUCTOR_PACK:-} in
none) ;;
'') [ ! -d "$KWEB_ROOT/instructor" ] || pack=$KWEB_ROOT/instructor ;;
*)
	[ -d "$KWEB_INSTRUCTOR_PACK" ] ||
		die "KWEB_INSTRUCTOR_PACK=$KWEB_INSTRUCTOR_PACK is not a folder"
	pack=$(cd "$KWEB_INSTRUCTOR_PACK" && pwd)
	;;
esac
pack_dir=
[ -z "$pack" ] || [ ! -d "$pack/$stage" ] || pack_dir=$pack/$stage

out=${KWEB_OUT:-$KWEB_BUILD/grade/$stage-$label-$series}
rm -rf "$out"
mkdir -p "$out/tests" "$out/feedback"
out=$(cd "$out" && pwd)

# --- the rubric ------------------------------------------------------------
STATIC_TESTS="static_blanks static_warnings static_checkpatch static_sparse"
declare -a T_NAME=()
declare -A T_POINTS=() T_TIMEOUT=() T_VIS=() T_DESC=() T_KIND=() T_HINT=()
declare -A R_STATUS=() R_SECS=() R_MSG=()

# test_script NAME: the guest-side script of a test, from the pack, the
# stage or the tests shared by several stages.
test_script() {
	local d
	for d in ${pack_dir:+"$pack_dir/tests"} "$check_dir/tests" "$KWEB_ROOT/checker/common/tests"; do
		[ ! -f "$d/$1.sh" ] || { echo "$d/$1.sh"; return 0; }
	done
	return 1
}

read_rubric() {
	local file=$1 name points timeout vis desc
	while read -r name points timeout vis desc; do
		case $name in ''|'#'*) continue ;; esac
		case $points in ''|*[!0-9]*) die "$file: test $name: points '$points' is not a number" ;; esac
		case $vis in visible|hidden) ;; *) die "$file: test $name: visibility '$vis' is neither visible nor hidden" ;; esac
		[ -z "${T_POINTS[$name]:-}" ] || die "test $name is in the rubric twice ($file)"
		if [ -n "${KWEB_TESTS:-}" ]; then
			case " $KWEB_TESTS " in *" $name "*) ;; *) continue ;; esac
		fi
		case " $STATIC_TESTS " in
		*" $name "*) T_KIND[$name]=static ;;
		*)
			case $name in static_*) die "$file: unknown host-side check $name (one of: $STATIC_TESTS)" ;; esac
			test_script "$name" >/dev/null ||
				die "rubric of $stage names test '$name', which is neither in $check_dir/tests${pack_dir:+, $pack_dir/tests} nor in checker/common/tests"
			T_KIND[$name]=guest
			;;
		esac
		T_NAME+=("$name")
		T_POINTS[$name]=$points
		T_TIMEOUT[$name]=$timeout
		T_VIS[$name]=$vis
		T_DESC[$name]=$desc
	done <"$file"
}

# hints FILE: "NAME text" lines (several lines of a test are joined).
read_hints() {
	local name text
	[ -f "$1" ] || return 0
	while read -r name text; do
		case $name in ''|'#'*) continue ;; esac
		T_HINT[$name]="${T_HINT[$name]:-}${T_HINT[$name]:+ }$text"
	done <"$1"
}

read_rubric "$check_dir/rubric"
if [ -n "$pack_dir" ]; then
	for f in "$pack_dir"/tests/*.sh; do
		[ -f "$f" ] || continue
		n=$(basename "$f" .sh)
		[ ! -f "$check_dir/tests/$n.sh" ] && [ ! -f "$KWEB_ROOT/checker/common/tests/$n.sh" ] ||
			die "instructor pack test $n has the name of one of the kit's tests: rename it"
	done
	[ ! -f "$pack_dir/rubric" ] || read_rubric "$pack_dir/rubric"
fi
[ ${#T_NAME[@]} -gt 0 ] || die "no test selected (KWEB_TESTS='${KWEB_TESTS:-}')"
T_HINT[static_blanks]="Each blank holds one C expression, in kernel style, as the stage's checker/$stage/blanks.rules asks."
T_HINT[static_warnings]="Build your module with W=1 and fix every warning."
T_HINT[static_checkpatch]="Run checkpatch.pl on your changes and fix what it reports."
T_HINT[static_sparse]="Fix what sparse reports (make C=2 CHECK=sparse)."
read_hints "$check_dir/hints"
[ -z "$pack_dir" ] || read_hints "$pack_dir/hints"

# points STATUS MAX: the one place where a status becomes a score.
points() {
	case $1 in
	pass) echo "$2" ;;
	*) echo 0 ;;
	esac
}

max_total() {
	local n t=0
	for n in "${T_NAME[@]}"; do
		t=$((t + T_POINTS[$n]))
	done
	echo $t
}

graded() {
	[ -n "${T_POINTS[$1]:-}" ]
}

# report NAME STATUS SECONDS MESSAGE: record a result and print its line.
report() {
	local name=$1 st=$2 secs=$3 text=$4
	text=$(printf '%s' "$text" | tr '\t\n\r' '   ')
	R_STATUS[$name]=$st
	R_SECS[$name]=$secs
	R_MSG[$name]=$text
	[ -n "${KWEB_QUIET:-}" ] && return
	"$KWEB_ROOT/grading/report.sh" line "$st" "$(points "$st" "${T_POINTS[$name]}")" \
		"${T_POINTS[$name]}" "$name" "$secs" "$text" "${T_VIS[$name]}"
}

write_results() {
	local n
	{
		printf 'name\tstatus\tscore\tmax_score\tseconds\tvisibility\tmessage\n'
		for n in "${T_NAME[@]}"; do
			printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "${R_STATUS[$n]}" \
				"$(points "${R_STATUS[$n]}" "${T_POINTS[$n]}")" \
				"${T_POINTS[$n]}" "${R_SECS[$n]}" "${T_VIS[$n]}" \
				"${R_MSG[$n]}"
		done
	} >"$out/results.tsv"
	{
		printf 'name\tkind\tdescription\thint\n'
		for n in "${T_NAME[@]}"; do
			printf '%s\t%s\t%s\t%s\n' "$n" "${T_KIND[$n]}" "${T_DESC[$n]}" \
				"${T_HINT[$n]:-}"
		done
	} >"$out/rubric.tsv"
}

OUTCOME="all tests ran"
# finish: the summary; Total is its last line. Exit status as documented.
finish() {
	local n total=0 max vtotal=0 vmax=0 hidden=0 secs
	max=$(max_total)
	for n in "${T_NAME[@]}"; do
		[ -n "${R_STATUS[$n]:-}" ] || R_STATUS[$n]=error
		: "${R_SECS[$n]:=0.0}" "${R_MSG[$n]=not run}"
		total=$((total + $(points "${R_STATUS[$n]}" "${T_POINTS[$n]}")))
		if [ "${T_VIS[$n]}" = visible ]; then
			vtotal=$((vtotal + $(points "${R_STATUS[$n]}" "${T_POINTS[$n]}")))
			vmax=$((vmax + T_POINTS[$n]))
		else
			hidden=$((hidden + 1))
		fi
	done
	write_results
	secs=$(awk -v a="$t_begin" -v b="$(now_ms)" 'BEGIN { printf "%.1f", (b - a) / 1000 }')
	{
		printf 'stage\t%s\n' "$stage"
		printf 'source\t%s\n' "$shown"
		printf 'answers\t%s\n' "$answers"
		printf 'kernel\t%s\n' "$series"
		printf 'release\t%s\n' "${release:-}"
		printf 'accel\t%s\n' "${accel:-}"
		printf 'started\t%s\n' "$started"
		printf 'seconds\t%s\n' "$secs"
		printf 'total\t%s\n' "$total"
		printf 'max\t%s\n' "$max"
		printf 'visible_total\t%s\n' "$vtotal"
		printf 'visible_max\t%s\n' "$vmax"
		printf 'hidden_tests\t%s\n' "$hidden"
		printf 'pack\t%s\n' "$pack_dir"
		printf 'outcome\t%s\n' "$OUTCOME"
		printf 'reused\t%s\n' "$reuse"
	} >"$out/results.info"
	"$KWEB_ROOT/grading/report.sh" write "$out" ||
		die "writing the reports into $out failed"
	echo "Results: $out"
	echo "Report: $out/report.md"
	echo "Total: $total/$max"
	[ "$total" -eq "$max" ] && exit 0
	exit 1
}

# fail_all MESSAGE: nothing (more) could be tested; every test without a
# result scores 0.
fail_all() {
	local n
	OUTCOME=$1
	for n in "${T_NAME[@]}"; do
		[ -z "${R_STATUS[$n]:-}" ] || continue
		R_STATUS[$n]=fail
		R_SECS[$n]=0.0
		R_MSG[$n]=$1
		printf '%s\n' "$1" >"$out/tests/$n.log"
	done
	finish
}

# show FILE MAX: a file's first MAX lines, indented, and how many are left.
show() {
	local n
	n=$(wc -l <"$1")
	head -n "$2" "$1" | sed 's/^/    /'
	[ "$n" -le "$2" ] || echo "    ... $((n - $2)) more in ${1#"$PWD"/}"
}

echo "Grading $stage (${shown:-answers from $answers}) on Linux $series"

# --- the pristine stage ----------------------------------------------------
# The stage as handed out, for filling in answers and for finding what a
# student changed: generated from the solution when the kit has it (the
# student kit has none: its stages/ is the pristine copy).
pristine=$out/pristine
if [ -d "$KWEB_ROOT/solutions/$stage" ]; then
	"$KWEB_ROOT/grading/stages.sh" one "$KWEB_ROOT/solutions/$stage" "$pristine"
else
	cp -r "$KWEB_ROOT/stages/$stage" "$pristine"
fi

# --- the submission --------------------------------------------------------
# Only the module's source files are taken from it, into source/; the
# Kbuild file, the tests and the rubric come from the kit.
src=$out/source
mkdir -p "$src"
kwblank=$KWEB_BUILD/host-bin/kwblank
make -s -C "$KWEB_ROOT/checker/kwblank" OUT="$KWEB_BUILD/host-bin" >&2 ||
	die "building the blank checker (checker/kwblank) failed"
blank_args=(--stage "$pristine")
for f in $SOURCES; do blank_args+=(--file "$f"); done
[ ! -f "$check_dir/blanks.rules" ] || blank_args+=(--rules "$check_dir/blanks.rules")

if [ -n "$answers" ]; then
	grep -qE '(^|[^A-Za-z0-9_])([A-Z])\2\2\2([^A-Za-z0-9_]|$)' "$pristine"/*.c ||
		die "$stage in this kit has no blanks left to fill (stages/$stage was filled in?): ANSWERS= needs the stage as handed out"
	set +e
	"$kwblank" check "${blank_args[@]}" --answers "$answers" --shown "$(basename "$answers")" \
		--table "$out/feedback/answers.tsv" --key "$out/feedback/key" \
		>"$out/feedback/blanks.txt" 2>"$out/feedback/blanks.err"
	rc=$?
	set -e
	case $rc in
	0|1) ;;
	3)
		sed 's/^/  /' "$out/feedback/blanks.txt"
		echo "  Answer every blank, one \"AAAA = <expression>\" line each (nothing was run)."
		fail_all "blanks not answered"
		;;
	*) die "the blank checker failed: $(cat "$out/feedback/blanks.err")" ;;
	esac
	"$KWEB_ROOT/grading/answers.sh" fill "$pristine" "$answers" "$out/filled" \
		2>"$out/feedback/fill.err" || {
		sed 's/^/  /' "$out/feedback/fill.err"
		fail_all "the answers file cannot be used"
	}
	sub_dir=$out/filled
	shown=${out#"$PWD"/}/source
fi

bad=
for f in $SOURCES; do
	if [ -L "$sub_dir/$f" ] || [ ! -f "$sub_dir/$f" ]; then
		bad="$shown/$f is missing or not a regular file (stage $stage needs $SOURCES)"
	elif [ "$(stat -c %s "$sub_dir/$f")" -gt 1048576 ]; then
		bad="$shown/$f is larger than 1 MiB"
	else
		cp "$sub_dir/$f" "$src/$f"
	fi
done
if [ -n "$bad" ]; then
	echo "  $bad (nothing was run)"
	fail_all "$bad"
fi

# --- blanks ----------------------------------------------------------------
files=()
for f in $SOURCES; do files+=("$src/$f"); done
if ! "$KWEB_ROOT/checker/blanks.sh" unfilled "$shown" "${files[@]}" >"$out/blanks.txt"; then
	sed 's/^/  /' "$out/blanks.txt"
	echo "  Fill in every blank, then grade again (nothing was run)."
	fail_all "unfilled blanks"
fi

if [ -z "$answers" ]; then
	set +e
	"$kwblank" check "${blank_args[@]}" --submission "$src" --shown "$shown" \
		--table "$out/feedback/answers.tsv" --key "$out/feedback/key" \
		>"$out/feedback/blanks.txt" 2>"$out/feedback/blanks.err"
	rc=$?
	set -e
	case $rc in
	0|1|3) ;;
	*) die "the blank checker failed: $(cat "$out/feedback/blanks.err")" ;;
	esac
fi
nblank=$(grep -cE ': (syntax|precedence|style|minimal|rule|missing): ' "$out/feedback/blanks.txt" || true)
if [ -s "$out/feedback/blanks.txt" ]; then
	if graded static_blanks; then
		echo "  Blank checker:"
	else
		echo "  Blank checker (feedback, not graded):"
	fi
	show "$out/feedback/blanks.txt" 15
fi
if graded static_blanks; then
	cp "$out/feedback/blanks.txt" "$out/tests/static_blanks.log"
	if [ "$nblank" -eq 0 ]; then
		report static_blanks pass 0.0 ""
	else
		report static_blanks fail 0.0 "the blank checker has $nblank finding(s)"
	fi
fi

# --- checkpatch.pl ---------------------------------------------------------
want_feedback() {
	[ "${KWEB_FEEDBACK:-1}" != 0 ] || graded "$1"
}

# static_result NAME FILE WHAT: a host-side check passes without findings.
static_result() {
	local n
	graded "$1" || return 0
	n=$(grep -c . "$2" || true)
	cp "$2" "$out/tests/$1.log"
	if [ "$n" -eq 0 ]; then
		report "$1" pass 0.0 ""
	else
		report "$1" fail 0.0 "$3: $n finding(s)"
	fi
}

# unavailable NAME WHY: a check that cannot run fails a grade that needs it.
unavailable() {
	echo "  $2"
	printf '%s\n' "$2" >"$out/feedback/$1.unavailable"
	! graded "static_$1" || die "$2 (the rubric grades static_$1)"
}

if want_feedback static_checkpatch; then
	set +e
	"$KWEB_ROOT/grading/feedback.sh" checkpatch "$series" "$pristine" "$src" "$shown" \
		$SOURCES >"$out/feedback/checkpatch.txt" 2>"$out/feedback/checkpatch.err"
	rc=$?
	set -e
	if [ $rc -le 1 ]; then
		if [ -s "$out/feedback/checkpatch.txt" ]; then
			echo "  checkpatch.pl on your changes$(graded static_checkpatch || echo ' (feedback, not graded)'):"
			show "$out/feedback/checkpatch.txt" 10
		fi
		static_result static_checkpatch "$out/feedback/checkpatch.txt" checkpatch.pl
	else
		rm -f "$out/feedback/checkpatch.txt"
		unavailable checkpatch "checkpatch.pl is unavailable: $(grep . "$out/feedback/checkpatch.err" | tail -n 1)"
	fi
fi

# --- build -----------------------------------------------------------------
"$KWEB_ROOT/grading/kernel.sh" "$series"
kdir=$(kernel_dir "$series")
release=$(cat "$kdir/release")
bdir=$out/module

if [ -n "$reuse" ]; then
	# The same module was built and run before: take its results.
	[ -f "$reuse/results.tsv" ] && [ -f "$reuse/results.info" ] ||
		die "KWEB_REUSE=$reuse holds no results"
	[ "$(sed -n 's/^stage\t//p' "$reuse/results.info")" = "$stage" ] &&
		[ "$(sed -n 's/^kernel\t//p' "$reuse/results.info")" = "$series" ] ||
		die "KWEB_REUSE=$reuse graded another stage or kernel"
	cp "$reuse/build.txt" "$out/build.txt" 2>/dev/null || : >"$out/build.txt"
	[ ! -f "$reuse/feedback/sparse.txt" ] || cp "$reuse/feedback/sparse.txt" "$out/feedback/"
	[ ! -f "$reuse/feedback/sparse.unavailable" ] || cp "$reuse/feedback/sparse.unavailable" "$out/feedback/"
	accel=$(sed -n 's/^accel\t//p' "$reuse/results.info")
	if [ -s "$out/build.txt" ]; then
		echo "  Compiler feedback$(graded static_warnings || echo ' (not graded)'):"
		sed 's/^/    /' "$out/build.txt"
	fi
	echo "  same module as ${reuse#"$PWD"/}: its build and test results are reused"
	while IFS= read -r row; do
		mapfile -t -d $'\t' col < <(printf '%s' "$row")
		n=${col[0]}
		[ -n "${T_POINTS[$n]:-}" ] && [ -z "${R_STATUS[$n]:-}" ] || continue
		case $n in static_blanks|static_checkpatch) continue ;; esac
		cp "$reuse/tests/$n.log" "$out/tests/" 2>/dev/null || :
		report "$n" "${col[1]}" "${col[4]}" "${col[6]:-}"
	done < <(tail -n +2 "$reuse/results.tsv")
	reused_outcome=$(sed -n 's/^outcome\t//p' "$reuse/results.info")
	[ -z "$reused_outcome" ] || OUTCOME=$reused_outcome
	finish
fi

mkdir -p "$bdir"
for f in $SOURCES; do cp "$src/$f" "$bdir/"; done
# The Kbuild file comes from the kit, never from the submission.
printf 'obj-m := %s.o\nccflags-y := -I%s\n' "$MODULE" "$KWEB_ROOT/checker/include" \
	>"$bdir/Kbuild"
if ! "$KWEB_ROOT/grading/build.sh" "$kdir/build" "$bdir" "$shown" >"$out/build.txt" 2>&1; then
	sed 's/^/  /' "$out/build.txt"
	echo "  The module does not build: fix the errors above (nothing was run)."
	fail_all "does not build"
fi
grep -E ': warning: |^WARNING: ' "$out/build.txt" >"$out/feedback/warnings.txt" || :
if [ -s "$out/build.txt" ]; then
	echo "  Compiler feedback$(graded static_warnings || echo ' (not graded)'):"
	sed 's/^/    /' "$out/build.txt"
fi
static_result static_warnings "$out/feedback/warnings.txt" "compiler warnings at W=1"

# --- sparse ----------------------------------------------------------------
if want_feedback static_sparse; then
	set +e
	"$KWEB_ROOT/grading/feedback.sh" sparse "$kdir/build" "$bdir" "$shown" \
		>"$out/feedback/sparse.txt" 2>"$out/feedback/sparse.err"
	rc=$?
	set -e
	if [ $rc -le 1 ]; then
		if [ -s "$out/feedback/sparse.txt" ]; then
			echo "  sparse$(graded static_sparse || echo ' (feedback, not graded)'):"
			show "$out/feedback/sparse.txt" 10
		fi
		static_result static_sparse "$out/feedback/sparse.txt" sparse
	else
		rm -f "$out/feedback/sparse.txt"
		unavailable sparse "sparse cannot check this module: $(tail -n 1 "$out/feedback/sparse.err")"
	fi
fi

# Every test left runs in the guest.
guest_tests=0
for n in "${T_NAME[@]}"; do
	[ -n "${R_STATUS[$n]:-}" ] || guest_tests=$((guest_tests + 1))
done
[ $guest_tests -gt 0 ] || finish

# --- the guest -------------------------------------------------------------
base=${KWEB_BASE_IMAGE:-$("$KWEB_ROOT/grading/image.sh" base)}
accel=$(vm_accel "$kdir")
scale=$(vm_scale "$accel")
echo "  guest: Linux $release, $accel, timeouts x$scale"

ov=$out/overlay
vm_overlay "$ov" "$check_dir" "$bdir/$MODULE.ko" "$pack_dir"

boot=0
max_boots=$((guest_tests * 2 + 3))
deadline_all=$(( $(date +%s) + 120 + guest_tests * 90 * scale ))

# oops_summary CONSOLE: "kernel oops in FUNCTION" from a guest console log.
oops_summary() {
	local what rip
	what=$(grep -m1 -oE '(BUG: [^]]*|Oops: [^]]*|general protection fault[^]]*|kernel BUG at [^ ]*|Kernel panic - not syncing: [^]]*|watchdog: BUG: soft lockup[^]]*)' "$1" |
		sed 's/ *$//' || true)
	rip=$(grep -m1 -oE 'RIP: 00[0-9a-f]*:[^ ]+( \[[^]]+\])?' "$1" | sed 's/^RIP: [0-9a-f]*://' || true)
	printf 'kernel crashed: %s%s' "${what:-panic}" "${rip:+ in $rip}"
}

# The block of the console log from the first sign of trouble on.
oops_text() {
	awk '/BUG:|Oops:|general protection fault|kernel BUG at|WARNING:|Kernel panic|soft lockup|Call Trace:/ { on = 1 }
		on { print } ' "$1" | head -n 80
}

# run_guest: boot once, run the tests that have no result yet.
run_guest() {
	local list=$ov/kweb/run/tests n i=0 initrd qpid line cur= t0=0 deadline
	local log console=$out/console-$boot.log ktap=$out/ktap-$boot.log state=
	: >"$list"
	for n in "${T_NAME[@]}"; do
		i=$((i + 1))
		[ -n "${R_STATUS[$n]:-}" ] || echo "$i $n ${T_TIMEOUT[$n]}" >>"$list"
	done
	"$KWEB_ROOT/grading/image.sh" overlay "$out/overlay.cpio" "$ov"
	initrd=$out/initrd.cpio
	cat "$base" "$out/overlay.cpio" >"$initrd"

	local args
	mapfile -t args < <(vm_qemu_args "$accel" "$kdir" "$initrd" \
		"kweb.mode=test kweb.scale=$scale")
	exec 3< <(exec qemu-system-x86_64 "${args[@]}" \
		-serial "file:$console" -serial stdio </dev/null 2>"$out/qemu-$boot.err")
	qpid=$!
	: >"$ktap"
	deadline=$(( $(date +%s) + 60 * scale ))
	while :; do
		if IFS= read -r -t 1 line <&3; then
			line=${line%$'\r'}
			printf '%s\n' "$line" >>"$ktap"
			case $line in
			"# kweb-start: "*)
				cur=${line#\# kweb-start: * }
				t0=$(now_ms)
				log=$out/tests/$cur.log
				: >"$log"
				deadline=$(( $(date +%s) + T_TIMEOUT[$cur] * scale + 20 ))
				;;
			"ok "*|"not ok "*)
				[ -n "$cur" ] || continue
				local st=pass secs msg=
				case $line in
				*"# TIMEOUT"*) st=timeout ;;
				*"# SKIP"*) st=skip ;;
				"not ok "*) st=fail ;;
				esac
				secs=$(awk -v a="$t0" -v b="$(now_ms)" 'BEGIN { printf "%.1f", (b - a) / 1000 }')
				[ "$st" = pass ] || msg=$(grep -m1 -E '^(FAIL|TIMEOUT): ' "$log" | sed -E 's/^(FAIL|TIMEOUT): //' || true)
				[ "$st" = pass ] || [ -n "$msg" ] || msg="failed: see $log"
				report "$cur" "$st" "$secs" "$msg"
				cur=
				deadline=$(( $(date +%s) + 30 * scale ))
				;;
			"# kweb-dirty: "*|"# kweb-done")
				state=${line#\# }
				;;
			"# "*)
				[ -z "$cur" ] || printf '%s\n' "${line#\# }" >>"$log"
				;;
			esac
		else
			# read timed out (status > 128) or QEMU is gone (EOF).
			[ $? -gt 128 ] || break
			local now
			now=$(date +%s)
			if [ "$now" -ge "$deadline" ] || [ "$now" -ge "$deadline_all" ]; then
				kill -KILL "$qpid" 2>/dev/null || true
				state=host-timeout
			fi
		fi
	done
	exec 3<&-
	wait "$qpid" 2>/dev/null || true

	if [ -n "$cur" ]; then
		local secs
		secs=$(awk -v a="$t0" -v b="$(now_ms)" 'BEGIN { printf "%.1f", (b - a) / 1000 }')
		if [ "$state" = host-timeout ]; then
			echo "TIMEOUT: the guest stopped responding; it was killed" >>"$log"
			report "$cur" timeout "$secs" "the guest stopped responding (hung kernel?)"
		else
			{
				echo "ERROR: the guest kernel crashed during this test"
				oops_text "$console"
			} >>"$log"
			report "$cur" error "$secs" "$(oops_summary "$console")"
		fi
	elif [ -z "$state" ]; then
		# QEMU ended between tests or before the first one.
		GUEST_TROUBLE="the guest ended unexpectedly: $(oops_summary "$console") (see $console, $out/qemu-$boot.err)"
	fi
}

GUEST_TROUBLE=
stalls=0
while :; do
	remaining=0
	for n in "${T_NAME[@]}"; do
		[ -n "${R_STATUS[$n]:-}" ] || remaining=$((remaining + 1))
	done
	[ $remaining -gt 0 ] || break
	boot=$((boot + 1))
	[ $boot -le $max_boots ] || die "the guest keeps failing: $GUEST_TROUBLE"
	[ "$(date +%s)" -lt "$deadline_all" ] || {
		for n in "${T_NAME[@]}"; do
			[ -n "${R_STATUS[$n]:-}" ] ||
				report "$n" timeout 0.0 "not run: grading ran out of time"
		done
		break
	}
	before=$remaining
	GUEST_TROUBLE=
	run_guest
	remaining=0
	for n in "${T_NAME[@]}"; do
		[ -n "${R_STATUS[$n]:-}" ] || remaining=$((remaining + 1))
	done
	# A guest that ends before any test (an emulator hiccup during boot)
	# is retried; three in a row mean grading cannot run here.
	if [ $remaining -eq $before ]; then
		[ -n "$GUEST_TROUBLE" ] || GUEST_TROUBLE="no test ran (see $out/console-$boot.log)"
		stalls=$((stalls + 1))
		[ $stalls -lt 3 ] || die "$GUEST_TROUBLE"
		msg "the guest ended before any test ran; booting a fresh one"
	else
		stalls=0
	fi
done
finish
