#!/usr/bin/env bash
# Grading speed, measured and printed (never asserted).
#
#   tests/bench.sh [--cold]    (make bench; KERNEL=6.1 for the other kernel)
#
# Prints the wall time of three warm `make grade STAGE=1 SRC=solutions`
# runs, each with its breakdown as the grader measured it (static checks,
# sandboxed build, static gate, guest image, boot up to the first test,
# the tests and power-off), and of a `make vm-run` that only echoes; with
# --cold, the same grade with an empty kernel cache and build folder
# (kernel download and guest image included). Target: a warm grade within
# 10 s under TCG on 2 cores.
set -eu
. "$(dirname "$0")/../grading/lib.sh"
cd "$KWEB_ROOT"
kernel=${KERNEL:-$KWEB_DEFAULT_KERNEL}
out=$KWEB_BUILD/bench

secs() {
	local t0 t1
	t0=$(now_ms)
	"$@" >/dev/null 2>&1 || true
	t1=$(now_ms)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1000 }'
}

info() {
	sed -n "s/^$1\t//p" "$out/results.info"
}

grading/kernel.sh "$kernel"
if [ "${1:-}" = --cold ]; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	echo "cold grade (empty cache: kernel download, guest image, build): $(KWEB_CACHE=$tmp/cache KWEB_BUILD=$tmp/build secs grading/kw grade 1 solutions "$kernel") s"
fi

KWEB_OUT=$out grading/kw grade 1 solutions "$kernel" >/dev/null 2>&1 || true   # warm up
echo "machine: $(nproc) cores, accelerator $(info accel), Linux $(info release) guest"
for i in 1 2 3; do
	t=$(KWEB_OUT=$out secs grading/kw grade 1 solutions "$kernel")
	echo "warm grade STAGE=1 SRC=solutions, run $i: $t s, $(info total)/$(info max) (target: 10 s)"
	echo "  breakdown: $(info phases)"
done
printf 'echo booted\n' >"$KWEB_BUILD/bench-boot.sh"
for i in 1 2; do
	echo "vm-run of an echo, run $i: $(secs grading/kw vm-run 1 solutions "$kernel" "$KWEB_BUILD/bench-boot.sh") s (build, gate and boot)"
done
