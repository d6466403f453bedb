#!/usr/bin/env bash
# Host prerequisites: check, and install what is missing.
#
#   grading/deps.sh [grade|test|handouts|bench|unit|kernel]
#
# As root, missing Debian packages are installed with apt-get; otherwise the
# one exact command to run is printed and the script fails.
set -eu
. "$(dirname "$0")/lib.sh"

# "command-or-file package" pairs: what grading needs on the host.
GRADE_DEPS="
qemu-system-x86_64 qemu-system-x86
/bin/busybox busybox-static
cpio cpio
pahole dwarves
x86_64-linux-gnu-gcc-12 gcc-12
make make
/usr/include/x86_64-linux-gnu/gmp.h libgmp-dev
curl curl
nc.openbsd netcat-openbsd
file file
apt-get apt
dpkg-deb dpkg
/usr/share/doc/libelf1 libelf1
/usr/share/doc/libssl3 libssl3
jq jq
sparse sparse
xz xz-utils
/usr/share/doc/perl perl
/usr/bin/python3 python3
bwrap bubblewrap
objdump binutils
"
# What building the handouts needs (make handouts, make dist): pandoc,
# weasyprint as its PDF engine, fonts (Latin, Traditional Chinese, and a
# monospace one for code), graphviz for the figures, pdftotext to check PDFs.
HANDOUT_DEPS="
pandoc pandoc
weasyprint weasyprint
python3 python3
dot graphviz
pdftotext poppler-utils
/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc fonts-noto-cjk
/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf fonts-dejavu-core
/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf fonts-liberation2
"
# What building the 7.3 and debug kernels from linux-source needs
# (grading/kernel.sh 7.3|debug).
KERNEL_DEPS="
flex flex
bison bison
bc bc
/usr/include/libelf.h libelf-dev
/usr/include/openssl/ssl.h libssl-dev
xz xz-utils
perl perl
"

# What make test-bn needs besides grading's (GMP is there already): CMocka.
UNIT_DEPS="
/usr/include/cmocka.h libcmocka-dev
"
# And what the kit's own tests need besides (they build the handouts too).
TEST_DEPS="
$UNIT_DEPS
$KERNEL_DEPS
pkg-config pkg-config
xmllint libxml2-utils
clang-format clang-format
/usr/lib/python3/dist-packages/pytest python3-pytest
pyflakes3 pyflakes3
shellcheck shellcheck
$HANDOUT_DEPS"
# What make bench-http needs besides grading's: gnuplot for its figures
# (lighttpd and wrk run in the guest, from Debian's packages unpacked into
# the cache by grading/bench/fetch.sh, never installed here).
BENCH_DEPS="
gnuplot gnuplot-nox
strip binutils
"

have() {
	case $1 in
	/*) [ -e "$1" ] ;;
	*) command -v "$1" >/dev/null 2>&1 ;;
	esac
}

missing_packages() {
	local what=$1 list=$GRADE_DEPS
	case $what in
	test) list="$GRADE_DEPS$TEST_DEPS" ;;
	handouts) list=$HANDOUT_DEPS ;;
	bench) list="$GRADE_DEPS$BENCH_DEPS" ;;
	unit) list="$GRADE_DEPS$UNIT_DEPS" ;;
	kernel) list="$GRADE_DEPS$KERNEL_DEPS" ;;
	esac
	printf '%s\n' "$list" | while read -r thing pkg; do
		[ -n "$thing" ] || continue
		if [ "$thing" = /bin/busybox ]; then
			# The dynamic busybox cannot run in the guest: static only.
			file -L /bin/busybox 2>/dev/null | grep -q 'statically linked' ||
				echo "$pkg"
		elif ! have "$thing"; then
			echo "$pkg"
		fi
	done | sort -u | tr '\n' ' ' | sed 's/ $//'
}

what=${1:-grade}
case $what in
grade|test|handouts|bench|unit|kernel) ;;
*) die "usage: grading/deps.sh [grade|test|handouts|bench|unit|kernel]" ;;
esac
pkgs=$(missing_packages "$what")
[ -n "$pkgs" ] || exit 0

if [ "$(id -u)" -ne 0 ]; then
	die "missing host packages: run 'sudo apt-get install -y $pkgs', then try again"
fi
msg "installing missing host packages: $pkgs"
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
read -ra pkg_list <<<"$pkgs"
if ! apt-get install -y -q "${pkg_list[@]}" >"$log" 2>&1; then
	apt-get update -q >>"$log" 2>&1 || true
	if ! apt-get install -y -q "${pkg_list[@]}" >>"$log" 2>&1; then
		tail -n 20 "$log" >&2
		rm -f "$log"
		die "apt-get install $pkgs failed (see above)"
	fi
fi
rm -f "$log"
left=$(missing_packages "$what")
[ -z "$left" ] || die "still missing after apt-get: $left"
