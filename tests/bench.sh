#!/usr/bin/env bash
# Grading speed, measured and printed (never asserted).
#
#   tests/bench.sh [--cold]
#
# Prints the wall time of one guest boot (a script that only echoes), of a
# warm `make grade STAGE=1 SRC=solutions` and, with --cold, of the same
# grade with an empty kernel cache and build folder (kernel download and
# guest image included). Target: warm grade within 20 s under TCG on 2 cores.
set -eu
. "$(dirname "$0")/../grading/lib.sh"
. "$(dirname "$0")/../grading/vm.sh"
cd "$KWEB_ROOT"
kernel=${KERNEL:-$KWEB_DEFAULT_KERNEL}

secs() {
	local t0 t1
	t0=$(now_ms)
	"$@" >/dev/null 2>&1 || true
	t1=$(now_ms)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1000 }'
}

grading/kernel.sh "$kernel"
accel=$(vm_accel "$(kernel_dir "$kernel")")
echo "machine: $(nproc) cores, accelerator $accel, Linux $kernel guest"

if [ "${1:-}" = --cold ]; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	echo "cold grade (empty cache: kernel download, guest image, build): $(KWEB_CACHE=$tmp/cache KWEB_BUILD=$tmp/build secs grading/grade.sh 1 solutions "$kernel") s"
fi

grading/grade.sh 1 solutions "$kernel" >/dev/null 2>&1 || true   # warm up
printf 'echo booted\n' >"$KWEB_BUILD/bench-boot.sh"
for i in 1 2 3; do
	echo "guest boot + script, run $i: $(secs grading/vm-run.sh script 1 solutions "$kernel" "$KWEB_BUILD/bench-boot.sh") s (module build included)"
done
# The boot alone: the initramfs vm-run just made, booted straight by QEMU
# (kernel start to the script's exit and QEMU's end).
initrd=$KWEB_BUILD/vm/01-kthread-echo-script/initrd.cpio
kdir=$(kernel_dir "$kernel")
mapfile -t args < <(vm_qemu_args "$accel" "$kdir" "$initrd" "kweb.mode=script kweb.scale=1")
for i in 1 2 3; do
	echo "guest boot alone (QEMU start to exit), run $i: $(secs qemu-system-x86_64 "${args[@]}" -serial null -serial null </dev/null) s"
done
for i in 1 2 3; do
	echo "warm grade STAGE=1 SRC=solutions, run $i: $(secs grading/grade.sh 1 solutions "$kernel") s (target: 20 s)"
done
