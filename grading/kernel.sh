#!/usr/bin/env bash
# The guest kernels, in the kit's cache.
#
#   grading/kernel.sh [SERIES ...]         make the named series ready
#                                          (default 6.12)
#   grading/kernel.sh --print-dir SERIES   print its folder, readying it first
#
# 6.12 and 6.1 are Debian's own kernels: the image and headers packages,
# unpacked. 7.3 and debug are built here from Debian's linux-source-7.3
# (Debian's 7.3 headers need gcc-14, which bookworm lacks): a tinyconfig with
# what the guest needs (grading/kconfig/guest.config), and for debug the
# sanitizers too (debug.config), out of tree, once: 5 to 17 minutes each on
# two cores (257 s to 988 s measured, debug the longer). Either way the
# folder holds build/ (for make -C build M=...), vmlinuz, release, and
# root/drivers/ (the guest's drivers, if modules).
#
# Packages come from Debian's archive through a private apt configuration
# (own sources list, lists and package cache under $KWEB_CACHE/apt, or
# apt-trixie for linux-source-7.3): the system's apt sources are never
# touched and no root is needed. Once a series is ready, nothing here
# touches the network again.
set -eu
. "$(dirname "$0")/lib.sh"

APT_DIR=$KWEB_CACHE/apt
APT_SUITES="bookworm bookworm-updates bookworm-security bookworm-backports"

# apt_use bookworm|trixie: which archive apt_update and apt_opts read.
apt_use() {
	case $1 in
	bookworm)
		APT_DIR=$KWEB_CACHE/apt
		APT_SUITES="bookworm bookworm-updates bookworm-security bookworm-backports" ;;
	trixie)
		APT_DIR=$KWEB_CACHE/apt-trixie
		APT_SUITES="trixie trixie-updates trixie-security trixie-backports" ;;
	esac
}

apt_opts() {
	printf '%s\n' \
		-o "Dir::Etc::sourcelist=$APT_DIR/sources.list" \
		-o "Dir::Etc::sourceparts=-" \
		-o "Dir::State::Lists=$APT_DIR/lists" \
		-o "Dir::State::status=$APT_DIR/status" \
		-o "Dir::Cache=$APT_DIR/cache" \
		-o "Debug::NoLocking=1" \
		-o "APT::Sandbox::User=$(id -un)" \
		-o "Acquire::Retries=3"
}

apt_update() {
	mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial"
	: >"$APT_DIR/status"
	local suite
	for suite in $APT_SUITES; do
		case $suite in
		*-security) echo "deb http://deb.debian.org/debian-security $suite main" ;;
		*) echo "deb http://deb.debian.org/debian $suite main" ;;
		esac
	done >"$APT_DIR/sources.list"
	local opts
	mapfile -t opts < <(apt_opts)
	if ! apt-get "${opts[@]}" -qq update >"$APT_DIR/update.log" 2>&1; then
		die "cannot reach Debian's package archive (see $APT_DIR/update.log); connect to the network, or use a series already in $KWEB_CACHE/kernels"
	fi
}

# newest_abi SERIES: the ABI name of the newest kernel of the series that the
# linux-headers-amd64 meta package points at, e.g. 6.12.95+deb12-amd64.
newest_abi() {
	local series=$1 opts
	mapfile -t opts < <(apt_opts)
	apt-cache "${opts[@]}" show linux-headers-amd64 2>/dev/null | awk -v s="$series." '
		/^Version:/ { v = $2 }
		/^Depends:/ && index(v, s) == 1 {
			sub(/.*linux-headers-/, ""); sub(/ .*/, ""); print v, $0
		}' | sort -V | tail -n 1 | cut -d' ' -f2
}

# deps_of PKG: the linux-* packages PKG depends on (first alternative).
deps_of() {
	local opts
	mapfile -t opts < <(apt_opts)
	apt-cache "${opts[@]}" show "$1" 2>/dev/null | awk '/^Depends:/ {
		n = split(substr($0, 10), d, ",")
		for (i = 1; i <= n; i++) {
			split(d[i], alt, "|"); p = alt[1]
			gsub(/^ +| +$/, "", p); sub(/ .*/, "", p)
			if (p ~ /^linux-(headers|kbuild)-/) print p
		}
		exit
	}'
}

fetch_series() {
	local series dir abi work pkgs deb
	series=$(kernel_series "$1")
	dir=$KWEB_CACHE/kernels/$series
	# "ready" holds the cache's format: 2 added the guest's drivers, 3 the
	# pvpanic core they need.
	if [ "$(cat "$dir/ready" 2>/dev/null)" = 3 ]; then
		return 0
	fi
	msg "fetching Debian kernel $series (image and headers, about 100 MB, once)"
	apt_update
	abi=$(newest_abi "$series")
	[ -n "$abi" ] || die "Debian's archive lists no linux-headers-amd64 for $series"
	pkgs="linux-image-$abi-unsigned linux-headers-$abi $(deps_of "linux-headers-$abi" | tr '\n' ' ')"
	work=$(mktemp -d "$KWEB_CACHE/kernels/.fetch-$series.XXXXXX")
	trap 'rm -rf "$work"' EXIT
	mkdir -p "$work/debs" "$work/root"
	local opts
	mapfile -t opts < <(apt_opts)
	# shellcheck disable=SC2086
	if ! (cd "$work/debs" && apt-get "${opts[@]}" -qq download $pkgs) \
		>"$work/download.log" 2>&1; then
		cat "$work/download.log" >&2
		die "downloading $pkgs failed"
	fi
	for deb in "$work"/debs/linux-headers-*.deb "$work"/debs/linux-kbuild-*.deb; do
		dpkg-deb -x "$deb" "$work/root"
	done
	# Only the kernel image itself is needed from the (large) image package.
	dpkg-deb --fsys-tarfile "$work"/debs/linux-image-*.deb |
		tar -x -C "$work/root" --wildcards './boot/vmlinuz-*' './boot/System.map-*' \
			'./lib/modules/*/kernel/drivers/net/ethernet/intel/e1000/e1000.ko*' \
			'./lib/modules/*/kernel/drivers/misc/pvpanic/pvpanic.ko*' \
			'./lib/modules/*/kernel/drivers/misc/pvpanic/pvpanic-pci.ko*'
	# The guest's own drivers, uncompressed for busybox insmod: a network
	# card for the host's probes (QEMU's e1000) and pvpanic, which tells
	# QEMU, and so the host, when the guest kernel panics.
	mkdir -p "$work/root/drivers"
	local ko
	for ko in "$work"/root/lib/modules/*/kernel/drivers/net/ethernet/intel/e1000/e1000.ko* \
		"$work"/root/lib/modules/*/kernel/drivers/misc/pvpanic/pvpanic.ko* \
		"$work"/root/lib/modules/*/kernel/drivers/misc/pvpanic/pvpanic-pci.ko*; do
		[ -f "$ko" ] || die "the kernel image package lacks $(basename "$ko")"
		case $ko in
		*.xz) xz -dc "$ko" >"$work/root/drivers/$(basename "$ko" .xz)" ;;
		*) cp "$ko" "$work/root/drivers/" ;;
		esac
	done
	rm -rf "$work/root/lib/modules"/*/kernel
	# The headers' top Makefile includes the -common tree by absolute path;
	# make it relative to where the tree is unpacked, so the cache can move.
	local hdr="$work/root/usr/src/linux-headers-$abi"
	local common
	common=$(sed -n 's|^include /usr/src/\(linux-headers-[^/]*\)/Makefile$|\1|p' "$hdr/Makefile")
	[ -n "$common" ] || die "unexpected headers Makefile in linux-headers-$abi"
	# shellcheck disable=SC2016 # make's $(...), written as it is
	printf 'include $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/../%s/Makefile)\n' \
		"$common" >"$hdr/Makefile"
	rm -rf "$dir"
	mkdir -p "$dir"
	mv "$work/root" "$dir/root"
	ln -s "root/usr/src/linux-headers-$abi" "$dir/build"
	ln -s "$(cd "$dir/root/boot" && ls vmlinuz-*)" "$dir/root/boot/vmlinuz"
	ln -s root/boot/vmlinuz "$dir/vmlinuz"
	printf '%s\n' "$abi" >"$dir/release"
	printf '%s\n' "$pkgs" | tr ' ' '\n' | sed '/^$/d' >"$dir/packages"
	echo 3 >"$dir/ready"
	rm -rf "$work"
	trap - EXIT
	msg "kernel $series ready: $abi"
}

# --- 7.3 and debug: built from Debian's linux-source-7.3 ----------------------

BUILT_VERSION=7.3
KCONFIG_DIR=$KWEB_ROOT/grading/kconfig

# kconfig_fragments SERIES: the configuration fragments of a built series.
kconfig_fragments() {
	case $1 in
	7.3) echo "$KCONFIG_DIR/guest.config" ;;
	debug) echo "$KCONFIG_DIR/guest.config $KCONFIG_DIR/debug.config" ;;
	esac
}

# source_tree: Debian's linux-source-7.3, unpacked once into
# $KWEB_CACHE/kernels/src/ and shared by 7.3 and debug.
source_tree() {
	local src=$KWEB_CACHE/kernels/src/linux-source-$BUILT_VERSION work opts
	if [ -f "$src/.kweb-package" ]; then
		printf '%s\n' "$src"
		return 0
	fi
	msg "fetching Debian's linux-source-$BUILT_VERSION (about 170 MB, once)"
	apt_use trixie
	apt_update
	mkdir -p "$KWEB_CACHE/kernels/src"
	work=$(mktemp -d "$KWEB_CACHE/kernels/src/.fetch.XXXXXX")
	mapfile -t opts < <(apt_opts)
	if ! (cd "$work" && apt-get "${opts[@]}" -qq download "linux-source-$BUILT_VERSION") \
		>"$work/download.log" 2>&1; then
		tail -n 5 "$work/download.log" >&2
		rm -rf "$work"
		die "downloading linux-source-$BUILT_VERSION from trixie-backports failed (see above)"
	fi
	mkdir -p "$work/tree"
	if ! dpkg-deb --fsys-tarfile "$work"/linux-source-*.deb |
		tar -xO "./usr/src/linux-source-$BUILT_VERSION.tar.xz" |
		tar -xJ -C "$work/tree" --strip-components=1; then
		rm -rf "$work"
		die "unpacking linux-source-$BUILT_VERSION failed (disk full? df -h $KWEB_CACHE)"
	fi
	basename "$work"/linux-source-*.deb .deb >"$work/tree/.kweb-package"
	rm -rf "$src"
	mv "$work/tree" "$src"
	rm -rf "$work"
	printf '%s\n' "$src"
}

# built_stamp SERIES SRC: what a built series was made from (the source
# package, the fragments' text, the recipe's version): when it changes, the
# kernel is built again.
built_stamp() {
	local frag
	{
		echo "recipe 2"
		cat "$2/.kweb-package"
		for frag in $(kconfig_fragments "$1"); do
			cat "$frag"
		done
	} | sha256sum | cut -c1-16
}

# kconfig_check CONFIG FRAGMENT...: every option the fragments set is set
# so in the final .config (Kconfig drops what it cannot satisfy, silently).
kconfig_check() {
	local config=$1 frag line bad=
	shift
	for frag in "$@"; do
		while IFS= read -r line; do
			case $line in
			CONFIG_*=*|'# CONFIG_'*' is not set') ;;
			*) continue ;;
			esac
			grep -qxF -- "$line" "$config" || bad="$bad ${line#\# }"
		done <"$frag"
	done
	[ -z "$bad" ] || die "the kernel configuration lost:$bad (a dependency is missing in grading/kconfig/)"
}

build_series() {
	local series=$1 dir src stamp obj log frags t0 jobs
	dir=$KWEB_CACHE/kernels/$series
	src=$(source_tree)
	stamp=$(built_stamp "$series" "$src")
	if [ "$(cat "$dir/ready" 2>/dev/null)" = "built $stamp" ] &&
		[ -e "$dir/vmlinuz" ] && [ -d "$dir/build/" ]; then
		return 0
	fi
	"$KWEB_ROOT/grading/deps.sh" kernel
	frags=$(kconfig_fragments "$series")
	jobs=$(nproc 2>/dev/null || echo 2)
	msg "building Linux $BUILT_VERSION ($series) from Debian's source: 5 to 17 minutes on 2 cores, once"
	t0=$(date +%s)
	rm -rf "$dir"
	mkdir -p "$dir/root/drivers"
	obj=$dir/obj
	log=$dir/build.log
	# shellcheck disable=SC2086 # frags is a list of paths without spaces
	if ! {
		make -C "$src" O="$obj" tinyconfig &&
		"$src/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" $frags &&
		"$src/scripts/config" --file "$obj/.config" \
			--set-str LOCALVERSION "-kweb$([ "$series" = debug ] && echo -debug)" \
			--disable LOCALVERSION_AUTO &&
		make -C "$src" O="$obj" olddefconfig &&
		# Nothing as a module: the guest loads none of its own, and
		# "make modules" below is only for Module.symvers.
		sed -i -E 's/^(CONFIG_[A-Z0-9_]+)=m$/# \1 is not set/' "$obj/.config" &&
		make -C "$src" O="$obj" olddefconfig
	} >"$log" 2>&1; then
		tail -n 15 "$log" >&2
		die "configuring Linux $BUILT_VERSION failed (log: $log)"
	fi
	# shellcheck disable=SC2086
	kconfig_check "$obj/.config" $frags
	# modules_prepare makes the tree able to build modules (make -C obj
	# M=...), and "make modules" writes Module.symvers, which modpost reads
	# (there are no modules: everything the guest needs is built in).
	if ! { make -C "$src" O="$obj" -j"$jobs" bzImage modules_prepare &&
		make -C "$src" O="$obj" -j"$jobs" modules; } >>"$log" 2>&1; then
		grep -E 'error|Error' "$log" | head -n 10 >&2
		die "building Linux $BUILT_VERSION ($series) failed (log: $log)"
	fi
	[ -f "$obj/Module.symvers" ] || die "the $series build wrote no Module.symvers (log: $log)"
	make -s -C "$src" O="$obj" kernelrelease 2>/dev/null | tail -n 1 >"$dir/release"
	ln -s obj "$dir/build"
	ln -s obj/arch/x86/boot/bzImage "$dir/vmlinuz"
	printf 'linux-source-%s\n' "$BUILT_VERSION" >"$dir/packages"
	echo "built $stamp" >"$dir/ready"
	msg "kernel $series ready: $(cat "$dir/release"), built in $(( $(date +%s) - t0 )) s"
}

# ready_series SERIES: unpack or build the series, once.
ready_series() {
	local series
	series=$(kernel_series "$1")
	if kernel_built "$series"; then
		build_series "$series"
	else
		fetch_series "$series"
	fi
}

# Sourced by another script (for apt_opts and apt_update): stop here.
if [ "${BASH_SOURCE[0]}" != "$0" ]; then
	return 0
fi

print_dir=
if [ "${1:-}" = --print-dir ]; then
	print_dir=1
	shift
fi
[ $# -gt 0 ] || set -- "$KWEB_DEFAULT_KERNEL"
mkdir -p "$KWEB_CACHE/kernels"
for k in "$@"; do
	ready_series "$k"
	[ -z "$print_dir" ] || kernel_dir "$k"
done
