#!/usr/bin/env bash
# The HTTP benchmark's guest programs, from Debian's archive, unpacked.
#
#   grading/bench/fetch.sh     fetch (once) and print the unpacked tree
#
# lighttpd and wrk, and the libraries they need that a minimal system
# lacks, are downloaded with apt-get download through the kit's private apt
# configuration (the one grading/kernel.sh uses for the kernels: own
# sources, lists and cache under $KWEB_CACHE/apt) and unpacked with
# dpkg-deb -x into $KWEB_CACHE/bench/root. Nothing is installed on this
# machine: lighttpd's maintainer scripts never run, so no daemon starts
# here. bench.py takes the binaries and their libraries from that tree.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../kernel.sh
. "$here/../kernel.sh"

# The packages (bookworm): the two programs, and the libraries of theirs
# that are not part of every Debian system (libc6 comes from the host, so
# that it matches the dynamic loader the guest's base image carries).
pkg_list=(wrk libluajit-5.1-2 libluajit-5.1-common lighttpd libpcre2-8-0
	libxxhash0 libnettle8 libcrypt1 libssl3)
FORMAT=1
dir=$KWEB_CACHE/bench

if [ "$(cat "$dir/ready" 2>/dev/null)" = $FORMAT ]; then
	printf '%s\n' "$dir/root"
	exit 0
fi
msg "fetching lighttpd and wrk from Debian (about 3 MB, once)"
mkdir -p "$KWEB_CACHE"
work=$(mktemp -d "$KWEB_CACHE/.bench-fetch.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/debs" "$work/root"
mapfile -t opts < <(apt_opts)
download() {
	(cd "$work/debs" && apt-get "${opts[@]}" -qq download "${pkg_list[@]}") \
		>"$work/download.log" 2>&1
}
if [ ! -d "$APT_DIR/lists" ] || ! download; then
	apt_update
	if ! download; then
		cat "$work/download.log" >&2
		die "downloading ${pkg_list[*]} failed"
	fi
fi
for deb in "$work"/debs/*.deb; do
	dpkg-deb -x "$deb" "$work/root"
done
for f in usr/bin/wrk usr/sbin/lighttpd; do
	[ -x "$work/root/$f" ] || die "the packages hold no $f"
done
(cd "$work/debs" && ls ./*.deb) | sed 's|^\./||' >"$work/root/packages"
rm -rf "$dir"
mkdir -p "$dir"
mv "$work/root" "$dir/root"
echo $FORMAT >"$dir/ready"
rm -rf "$work"
trap - EXIT
printf '%s\n' "$dir/root"
