#!/usr/bin/env bash
# Guest image: a small initramfs for the grading guest.
#
#   grading/image.sh base            build (if stale) and print the base image
#   grading/image.sh overlay OUT DIR  pack the folder DIR as a cpio into OUT
#
# The base image holds what never changes between runs: busybox (static),
# the real curl and netcat with their libraries, and the kit's test programs
# (static). Each run appends a small overlay (init, the tests, the module):
# Linux unpacks concatenated cpio archives in order.
set -eu
. "$(dirname "$0")/lib.sh"

IMG=$KWEB_BUILD/image
BIN=$KWEB_BUILD/checker-bin

# copy_elf FILE DESTROOT: FILE and every shared library it needs, at the
# same paths, so that the dynamic loader finds them in the guest.
copy_elf() {
	local f=$1 root=$2 lib
	install -D -m 755 "$f" "$root$f"
	ldd "$f" 2>/dev/null | awk '/=> \// { print $3 } /^\t\// { print $1 }' |
		while read -r lib; do
			[ -e "$root$lib" ] || install -D -m 755 "$(readlink -f "$lib")" "$root$lib"
		done
}

build_base() {
	local root=$IMG/base.root out=$IMG/base.cpio
	local curl nc busybox a
	busybox=$(command -v busybox) || die "busybox is missing: run 'make deps'"
	file -L "$busybox" | grep -q 'statically linked' ||
		die "$busybox is not static: install busybox-static (run 'make deps')"
	curl=$(command -v curl) || die "curl is missing: run 'make deps'"
	nc=$(readlink -f "$(command -v nc.openbsd || true)")
	[ -x "$nc" ] || die "nc.openbsd is missing: install netcat-openbsd (run 'make deps')"

	make -s -C "$KWEB_ROOT/checker/src" OUT="$BIN" >&2 ||
		die "building the kit's test programs failed"

	rm -rf "$root"
	mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,run,mnt,root,kweb/bin}
	install -m 755 "$busybox" "$root/bin/busybox"
	for a in $("$busybox" --list); do
		case $a in busybox) continue ;; esac
		ln -s busybox "$root/bin/$a"
	done
	copy_elf "$curl" "$root"
	copy_elf "$nc" "$root"
	ln -sf "$nc" "$root/usr/bin/nc"
	mkdir -p "$root/lib64"
	[ -e "$root/lib64/ld-linux-x86-64.so.2" ] ||
		cp -L /lib64/ld-linux-x86-64.so.2 "$root/lib64/"
	cp "$BIN"/* "$root/kweb/bin/"
	printf '127.0.0.1\tlocalhost kweb\n::1\tlocalhost ip6-localhost\n' >"$root/etc/hosts"
	printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
	printf 'root:x:0:\n' >"$root/etc/group"
	printf 'hosts: files\n' >"$root/etc/nsswitch.conf"
	(cd "$root" && find . -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc --quiet -R 0:0) >"$out.tmp"
	mv "$out.tmp" "$out"
}

# The base image is rebuilt when one of its inputs changed.
base_inputs() {
	ls -lL "$(command -v busybox)" "$(command -v curl)" \
		"$(command -v nc.openbsd 2>/dev/null || echo /dev/null)" "$0"
	find "$KWEB_ROOT/checker/src" -type f -exec ls -l {} + | sort
}

cmd=${1:-base}
case $cmd in
base)
	mkdir -p "$IMG"
	# Two grades started at once on a fresh checkout build it once: the
	# second waits here, then finds it up to date.
	exec 9>"$IMG/.lock"
	flock 9
	sum=$(base_inputs 2>/dev/null | md5sum | cut -d' ' -f1)
	if [ ! -f "$IMG/base.cpio" ] || [ "$(cat "$IMG/base.sum" 2>/dev/null)" != "$sum" ]; then
		build_base
		echo "$sum" >"$IMG/base.sum"
	fi
	echo "$IMG/base.cpio"
	;;
overlay)
	out=$2 dir=$3
	(cd "$dir" && find . -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc --quiet -R 0:0) >"$out"
	;;
*)
	die "usage: image.sh base | overlay OUT DIR"
	;;
esac
