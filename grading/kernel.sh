#!/usr/bin/env bash
# Fetch and unpack a Debian kernel (image + headers) into the kit's cache.
#
#   grading/kernel.sh [6.12|6.1 ...]     fetch the named series (default 6.12)
#   grading/kernel.sh --print-dir 6.12   print the folder, fetching if needed
#
# Packages come from Debian's archive through a private apt configuration
# (own sources list, lists and package cache under $KWEB_CACHE/apt): the
# system's apt sources are never touched and no root is needed. Once a series
# is unpacked, nothing here touches the network again.
set -eu
. "$(dirname "$0")/lib.sh"

APT_DIR=$KWEB_CACHE/apt

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
	cat >"$APT_DIR/sources.list" <<-SRC
	deb http://deb.debian.org/debian bookworm main
	deb http://deb.debian.org/debian bookworm-updates main
	deb http://deb.debian.org/debian-security bookworm-security main
	deb http://deb.debian.org/debian bookworm-backports main
	SRC
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
	fetch_series "$k"
	[ -z "$print_dir" ] || kernel_dir "$k"
done
