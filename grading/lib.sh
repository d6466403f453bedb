# shellcheck shell=bash
# Shared helpers for the host-side scripts. Source it; do not run it.

KWEB_ROOT=${KWEB_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
KWEB_CACHE=${KWEB_CACHE:-$KWEB_ROOT/.cache}
KWEB_BUILD=${KWEB_BUILD:-$KWEB_ROOT/build}
KWEB_DEFAULT_KERNEL=6.12

if [ -t 2 ] && [ -z "${NO_COLOR:-}" ]; then
	_kw_red=$(printf '\033[31m')
	_kw_bold=$(printf '\033[1m')
	_kw_off=$(printf '\033[0m')
else
	_kw_red='' _kw_bold='' _kw_off=''
fi

# die MESSAGE: one clear line on stderr, then exit 2 ("grading could not run").
die() {
	printf '%skweb: error:%s %s\n' "$_kw_red$_kw_bold" "$_kw_off" "$*" >&2
	exit 2
}

msg() {
	printf 'kweb: %s\n' "$*" >&2
}

# stage_dir ROOT N: the folder of stage N (1, 01, or a full name) under ROOT.
stage_dir() {
	local root=$1 n=$2 d
	case $n in
	'' ) die "no stage given: use STAGE=1 (stages: $(stage_list "$root"))" ;;
	*[!0-9]*) d=$root/$n ;;
	*) d=$(find "$root" -mindepth 1 -maxdepth 1 -type d \
		-name "$(printf '%02d' "$((10#$n))")-*" | sort | head -n 1) ;;
	esac
	if [ -z "$d" ] || [ ! -d "$d" ]; then
		die "no stage '$n' in $root (stages: $(stage_list "$root"))"
	fi
	printf '%s\n' "$d"
}

stage_list() {
	find "$1" -mindepth 1 -maxdepth 1 -type d -name '[0-9][0-9]-*' \
		-printf '%f\n' 2>/dev/null | sort | tr '\n' ' ' | sed 's/ $//'
}

# kernel_series NAME: normalise a KERNEL= value (6.12, 6.1, 7.3, debug).
# 6.12 and 6.1 are Debian's own kernels, unpacked; 7.3 and debug are built
# here from Debian's linux-source-7.3 (grading/kernel.sh).
kernel_series() {
	case ${1:-$KWEB_DEFAULT_KERNEL} in
	6.12|6.12.*) echo 6.12 ;;
	6.1|6.1.*) echo 6.1 ;;
	7.3|7.3.*) echo 7.3 ;;
	debug) echo debug ;;
	*) die "unsupported KERNEL='$1': use KERNEL=6.12 (default), 6.1, 7.3 or debug (7.3 with sanitizers)" ;;
	esac
}

# kernel_built SERIES: true for a series built here from Debian's source
# (grading/kernel.sh), false for one of Debian's own, fetched.
kernel_built() {
	case $(kernel_series "$1") in
	7.3|debug) return 0 ;;
	esac
	return 1
}

# The unpacked kernel of a series: $KWEB_CACHE/kernels/<series>/
kernel_dir() {
	printf '%s/kernels/%s\n' "$KWEB_CACHE" "$(kernel_series "$1")"
}

# now_ms: milliseconds since the epoch.
now_ms() {
	date +%s%3N
}
