# shellcheck shell=bash
# The grading guest: accelerator choice and the QEMU command line.
# Source it after lib.sh.

# vm_accel KERNELDIR: kvm when this machine can really run a KVM guest,
# else tcg. /dev/kvm existing is not enough (some nested setups abort at
# the first vCPU register write), so a kernel is booted once with KVM and
# the answer is remembered for this machine. KWEB_ACCEL=kvm|tcg overrides.
vm_accel() {
	local kdir=$1 cache key out
	case ${KWEB_ACCEL:-} in
	kvm|tcg) echo "$KWEB_ACCEL"; return ;;
	'') ;;
	*) die "KWEB_ACCEL='$KWEB_ACCEL': use kvm or tcg" ;;
	esac
	if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
		echo tcg
		return
	fi
	key="$(uname -n) $(uname -r) $(qemu-system-x86_64 --version | head -n 1)"
	cache=$KWEB_CACHE/accel
	if [ -f "$cache" ] && [ "$(sed -n 1p "$cache")" = "$key" ]; then
		sed -n 2p "$cache"
		return
	fi
	# Without an initramfs the kernel panics at once ("VFS: Unable to
	# mount root fs") and -no-reboot ends QEMU: a complete boot in ~1 s.
	out=$(timeout 30 qemu-system-x86_64 -accel kvm -cpu host -m 256 \
		-display none -monitor none -nodefaults -no-reboot \
		-serial stdio -kernel "$kdir/vmlinuz" \
		-append "console=ttyS0 panic=-1" </dev/null 2>&1 || true)
	mkdir -p "$KWEB_CACHE"
	if printf '%s' "$out" | grep -q 'Linux version'; then
		printf '%s\nkvm\n' "$key" >"$cache"
		echo kvm
	else
		printf '%s\ntcg\n' "$key" >"$cache"
		echo tcg
	fi
}

# vm_scale ACCEL: how much longer everything takes in this guest.
vm_scale() {
	if [ -n "${KWEB_TIMEOUT_SCALE:-}" ]; then
		echo "$KWEB_TIMEOUT_SCALE"
	elif [ "$1" = kvm ]; then
		echo 1
	else
		echo 3
	fi
}

# vm_qemu_args ACCEL KERNELDIR INITRD APPEND: the QEMU arguments for a
# throwaway guest whose console is serial port 1; the caller adds where the
# two serial ports go.
vm_qemu_args() {
	local accel=$1 kdir=$2 initrd=$3 append=$4 cpu=max
	[ "$accel" = tcg ] || cpu=host
	printf '%s\n' -accel "$accel" -cpu "$cpu" -m "${KWEB_GUEST_MEM:-512}" \
		-smp 2 -display none -monitor none -nodefaults -no-reboot \
		-kernel "$kdir/vmlinuz" -initrd "$initrd" \
		-append "console=ttyS0 quiet panic=-1 oops=panic softlockup_panic=1 \
random.trust_cpu=on tsc=reliable no_timer_check mitigations=off $append"
}

# vm_overlay DIR CHECKDIR KO [PACKDIR]: lay out the per-run part of the
# guest in DIR: /init, the runner and test library, the stage's tests (the
# shared ones first; a stage's own test of the same name wins, and an
# instructor pack's after that), stage.conf and the module.
vm_overlay() {
	local ov=$1 check_dir=$2 ko=$3 pack_dir=${4:-} module
	module=$(basename "$ko" .ko)
	mkdir -p "$ov/kweb/lib" "$ov/kweb/tests" "$ov/kweb/run" "$ov/kweb/module"
	install -m 755 "$KWEB_ROOT/grading/guest/init" "$ov/init"
	cp "$KWEB_ROOT/grading/guest/runtests" "$KWEB_ROOT/checker/lib/kwtest.sh" "$ov/kweb/lib/"
	cp "$KWEB_ROOT"/checker/common/tests/*.sh "$ov/kweb/tests/"
	cp "$check_dir"/tests/*.sh "$ov/kweb/tests/" 2>/dev/null || true
	[ -z "$pack_dir" ] || cp "$pack_dir"/tests/*.sh "$ov/kweb/tests/" 2>/dev/null || true
	cp "$check_dir/stage.conf" "$ov/kweb/run/stage.conf"
	cp "$ko" "$ov/kweb/module/"
	echo "$module" >"$ov/kweb/run/module"
}
