#!/usr/bin/env bash
# Grade one stage in a throwaway QEMU guest.
#
#   grading/grade.sh STAGE [SRC] [KERNEL]
#
# STAGE   1, 01 or 01-kthread-echo
# SRC     stages (default: what the student edits), solutions, or a folder
#         (a stage folder, or a folder holding NN-name stage folders)
# KERNEL  6.12 (default) or 6.1
# Environment: KWEB_OUT (results folder), KWEB_TESTS (only these tests),
# KWEB_ACCEL (kvm|tcg), KWEB_TIMEOUT_SCALE, KWEB_QUIET=1 (no per-test lines).
#
# Exit status: 0 full marks; 1 graded, not full marks (including a module
# that does not build or has unfilled blanks); 2 grading could not run.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vm.sh"

stage_arg=${1:-}
src_arg=${2:-stages}
series=$(kernel_series "${3:-}")

"$KWEB_ROOT/grading/deps.sh" grade

# --- what is graded --------------------------------------------------------
check_dir=$(stage_dir "$KWEB_ROOT/checker" "$stage_arg")
stage=$(basename "$check_dir")
[ -f "$check_dir/rubric" ] && [ -f "$check_dir/stage.conf" ] ||
	die "stage $stage has no rubric or stage.conf in $check_dir"
MODULE= SOURCES=
. "$check_dir/stage.conf"

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
for f in $SOURCES; do
	[ -f "$sub_dir/$f" ] || die "$shown/$f is missing: stage $stage needs $SOURCES"
done

out=${KWEB_OUT:-$KWEB_BUILD/grade/$stage-$label-$series}
rm -rf "$out"
mkdir -p "$out/tests"

# --- the rubric ------------------------------------------------------------
declare -a T_NAME=()
declare -A T_POINTS=() T_TIMEOUT=() T_VIS=() T_DESC=()
declare -A R_STATUS=() R_SECS=() R_MSG=()
while read -r name points timeout vis desc; do
	case $name in ''|'#'*) continue ;; esac
	if [ -n "${KWEB_TESTS:-}" ]; then
		case " $KWEB_TESTS " in *" $name "*) ;; *) continue ;; esac
	fi
	[ -f "$check_dir/tests/$name.sh" ] || [ -f "$KWEB_ROOT/checker/common/tests/$name.sh" ] ||
		die "rubric of $stage names test '$name', which is neither in $check_dir/tests nor in checker/common/tests"
	T_NAME+=("$name")
	T_POINTS[$name]=$points
	T_TIMEOUT[$name]=$timeout
	T_VIS[$name]=$vis
	T_DESC[$name]=$desc
done <"$check_dir/rubric"
[ ${#T_NAME[@]} -gt 0 ] || die "no test selected (KWEB_TESTS='${KWEB_TESTS:-}')"

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

STATUS_WIDTH=7
# report NAME STATUS SECONDS MESSAGE: record a result and print its line.
report() {
	local name=$1 st=$2 secs=$3 text=$4 pts
	R_STATUS[$name]=$st
	R_SECS[$name]=$secs
	R_MSG[$name]=$text
	pts=$(points "$st" "${T_POINTS[$name]}")
	[ -n "${KWEB_QUIET:-}" ] && return
	printf '  %-*s %3s/%-3s  %-18s %6ss  %s\n' "$STATUS_WIDTH" \
		"$(echo "$st" | tr a-z A-Z)" "$pts" "${T_POINTS[$name]}" "$name" \
		"$secs" "$text"
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
}

# finish: the summary; Total is its last line. Exit status as documented.
finish() {
	local n total=0 max
	max=$(max_total)
	for n in "${T_NAME[@]}"; do
		[ -n "${R_STATUS[$n]:-}" ] || R_STATUS[$n]=error
		: "${R_SECS[$n]:=0.0}" "${R_MSG[$n]:=not run}"
		total=$((total + $(points "${R_STATUS[$n]}" "${T_POINTS[$n]}")))
	done
	write_results
	echo "Results: $out"
	echo "Total: $total/$max"
	[ "$total" -eq "$max" ] && exit 0
	exit 1
}

# fail_all MESSAGE: nothing could be tested; every test scores 0.
fail_all() {
	local n
	for n in "${T_NAME[@]}"; do
		R_STATUS[$n]=fail
		R_SECS[$n]=0.0
		R_MSG[$n]=$1
	done
	finish
}

echo "Grading $stage ($shown) on Linux $series"

# --- blanks ----------------------------------------------------------------
files=()
for f in $SOURCES; do files+=("$sub_dir/$f"); done
if "$KWEB_ROOT/checker/blanks.sh" unfilled "$shown" "${files[@]}" >"$out/blanks.txt"; then
	:
else
	sed 's/^/  /' "$out/blanks.txt"
	echo "  Fill in every blank, then grade again (nothing was run)."
	fail_all "unfilled blanks"
fi

# --- build -----------------------------------------------------------------
"$KWEB_ROOT/grading/kernel.sh" "$series"
kdir=$(kernel_dir "$series")
bdir=$out/module
mkdir -p "$bdir"
for f in $SOURCES; do cp "$sub_dir/$f" "$bdir/"; done
# The Kbuild file comes from the kit, never from the submission.
printf 'obj-m := %s.o\nccflags-y := -I%s\n' "$MODULE" "$KWEB_ROOT/checker/include" \
	>"$bdir/Kbuild"
if ! "$KWEB_ROOT/grading/build.sh" "$kdir/build" "$bdir" "$shown" >"$out/build.txt" 2>&1; then
	sed 's/^/  /' "$out/build.txt"
	echo "  The module does not build: fix the errors above (nothing was run)."
	fail_all "does not build"
fi
if [ -s "$out/build.txt" ]; then
	echo "  Compiler feedback (not graded):"
	sed 's/^/    /' "$out/build.txt"
fi

# --- the guest -------------------------------------------------------------
base=$("$KWEB_ROOT/grading/image.sh" base)
accel=$(vm_accel "$kdir")
scale=$(vm_scale "$accel")
echo "  guest: Linux $(cat "$kdir/release"), $accel, timeouts x$scale"

ov=$out/overlay
mkdir -p "$ov/kweb/lib" "$ov/kweb/tests" "$ov/kweb/run" "$ov/kweb/module"
install -m 755 "$KWEB_ROOT/grading/guest/init" "$ov/init"
cp "$KWEB_ROOT/grading/guest/runtests" "$KWEB_ROOT/checker/lib/kwtest.sh" "$ov/kweb/lib/"
# Tests shared by several stages first; a stage's own test of the same
# name wins.
cp "$KWEB_ROOT"/checker/common/tests/*.sh "$ov/kweb/tests/"
cp "$check_dir"/tests/*.sh "$ov/kweb/tests/" 2>/dev/null || true
cp "$check_dir/stage.conf" "$ov/kweb/run/stage.conf"
cp "$bdir/$MODULE.ko" "$ov/kweb/module/"
echo "$MODULE" >"$ov/kweb/run/module"

boot=0
max_boots=$((${#T_NAME[@]} * 2 + 3))
deadline_all=$(( $(date +%s) + 120 + ${#T_NAME[@]} * 90 * scale ))

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
