#!/usr/bin/env bash
# A guest for experiments, with a stage's module built and ready to insmod.
#
#   grading/vm-run.sh shell  STAGE [SRC] [KERNEL]          interactive shell
#   grading/vm-run.sh script STAGE [SRC] [KERNEL] SCRIPT   run SCRIPT in the
#       guest, print its output, exit with its status
#
# In the guest the module is /kweb/module/NAME.ko, the kit's test programs
# are on PATH (kwnet), and curl, nc, dmesg, ip and unshare are at hand.
# The guest is thrown away at the end; nothing in it can harm this machine.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vm.sh"

mode=${1:-}
stage_arg=${2:-}
src_arg=${3:-stages}
series=$(kernel_series "${4:-}")
script=${5:-}

case $mode in
shell) ;;
script)
	[ -n "$script" ] || die "no script given: use SCRIPT=path/to/script.sh"
	[ -f "$script" ] || die "SCRIPT=$script does not exist"
	;;
*) die "usage: vm-run.sh shell|script STAGE [SRC] [KERNEL] [SCRIPT]" ;;
esac

"$KWEB_ROOT/grading/deps.sh" grade
check_dir=$(stage_dir "$KWEB_ROOT/checker" "$stage_arg")
stage=$(basename "$check_dir")
MODULE= SOURCES=
. "$check_dir/stage.conf"
case $src_arg in
stages|solutions) sub_dir=$KWEB_ROOT/$src_arg/$stage shown=$src_arg/$stage ;;
*)
	sub_dir=$(cd "$src_arg" && pwd) shown=$src_arg
	[ ! -d "$sub_dir/$stage" ] || sub_dir=$sub_dir/$stage
	;;
esac

out=$KWEB_BUILD/vm/$stage-$mode
rm -rf "$out"
mkdir -p "$out/module"

files=()
for f in $SOURCES; do files+=("$sub_dir/$f"); done
if ! "$KWEB_ROOT/checker/blanks.sh" unfilled "$shown" "${files[@]}" >&2; then
	die "fill in the blanks above first (the module cannot be built with them)"
fi
"$KWEB_ROOT/grading/kernel.sh" "$series"
kdir=$(kernel_dir "$series")
cp "${files[@]}" "$out/module/"
printf 'obj-m := %s.o\nccflags-y := -I%s\n' "$MODULE" "$KWEB_ROOT/checker/include" \
	>"$out/module/Kbuild"
if ! "$KWEB_ROOT/grading/build.sh" "$kdir/build" "$out/module" "$shown" >&2; then
	die "the module does not build: fix the errors above"
fi

base=$("$KWEB_ROOT/grading/image.sh" base)
accel=$(vm_accel "$kdir")
scale=$(vm_scale "$accel")
ov=$out/overlay
vm_overlay "$ov" "$check_dir" "$out/module/$MODULE.ko"
[ "$mode" != script ] || cp "$script" "$ov/kweb/run/script.sh"
cat >"$ov/kweb/run/motd" <<EOF

kweb-lab guest: Linux $(cat "$kdir/release") ($accel). Nothing here touches your machine.
  insmod /kweb/module/$MODULE.ko [host=0.0.0.0] [port=9999]
  curl -i http://127.0.0.1:9999/   nc.openbsd 127.0.0.1 9999   dmesg   rmmod $MODULE
  The stage's tests are in /kweb/tests: run one with sh /kweb/tests/NAME.sh
  Leave with 'exit' (or Ctrl-A X).

EOF
"$KWEB_ROOT/grading/image.sh" overlay "$out/overlay.cpio" "$ov"
cat "$base" "$out/overlay.cpio" >"$out/initrd.cpio"

mapfile -t args < <(vm_qemu_args "$accel" "$kdir" "$out/initrd.cpio" \
	"kweb.mode=$mode kweb.scale=$scale")
if [ "$mode" = shell ]; then
	exec qemu-system-x86_64 "${args[@]}" -serial mon:stdio -serial null
fi

# script: console on stdout from the moment the script starts (the boot
# before it is noise; kernel messages during it, dmesg output and oopses
# included, are not), the script's exit status on the second port.
status=$out/status
qemu-system-x86_64 "${args[@]}" -serial stdio -serial "file:$status" </dev/null |
	sed -u -n -e 's/\r$//' -e '/reboot: Restarting system$/d' \
		-e '/^kweb: running your script/,$p'
rc=$(sed -n 's/^# kweb-exit: \([0-9]*\).*/\1/p' "$status" | tail -n 1)
[ -n "$rc" ] || die "the guest ended before the script finished (crash? see the output above)"
exit "$rc"
