#!/usr/bin/env bash
# Static feedback on a submission: checkpatch.pl and sparse.
#
#   grading/feedback.sh fetch SERIES
#       put checkpatch.pl (with the data files it reads) of the Debian
#       kernel SERIES into $KWEB_CACHE/checkpatch/SERIES, once
#   grading/feedback.sh ensure SERIES
#       the same, unless a download failed less than an hour ago (so that
#       grading offline stays fast)
#   grading/feedback.sh checkpatch SERIES PRISTINE SUBMISSION SHOWN FILE...
#       checkpatch the lines of each FILE that differ from the pristine
#       stage (the blanks and whatever else the student changed), after
#       "ensure"
#   grading/feedback.sh sparse KDIR MODDIR SHOWN
#       run sparse (make C=2 CHECK=sparse) on an already built module
#
# checkpatch and sparse print one finding a line with the file named as
# SHOWN/file.c and exit 0 when there is nothing to say, 1 when there is;
# exit 2 means the tool could not run (the reason is on stderr).
#
# checkpatch.pl comes from Debian's linux-source-SERIES package, downloaded
# with apt-get through the same private apt configuration as the kernels
# (grading/kernel.sh); only the few files checkpatch reads are kept.
set -eu
. "$(dirname "$0")/kernel.sh"

CP_FILES="scripts/checkpatch.pl scripts/spelling.txt scripts/const_structs.checkpatch .clang-format"

# cp_series SERIES: whose linux-source the series' checkpatch comes from
# (debug is 7.3 with sanitizers: the same source).
cp_series() {
	local series
	series=$(kernel_series "$1")
	case $series in
	debug) echo 7.3 ;;
	*) echo "$series" ;;
	esac
}

checkpatch_dir() {
	printf '%s/checkpatch/%s\n' "$KWEB_CACHE" "$(cp_series "$1")"
}

# keep_checkpatch SRC DIR PACKAGE: checkpatch's files from the tree SRC.
keep_checkpatch() {
	local src=$1 dir=$2 f
	for f in $CP_FILES; do
		[ -f "$src/$f" ] || die "$3 lacks $f"
	done
	rm -rf "$dir"
	mkdir -p "$dir"
	cp "$src/scripts/checkpatch.pl" "$src/scripts/spelling.txt" \
		"$src/scripts/const_structs.checkpatch" "$dir/"
	cp "$src/.clang-format" "$dir/clang-format"
	echo "$3" >"$dir/package"
	touch "$dir/ready"
	msg "checkpatch.pl ready: $3"
}

fetch_checkpatch() {
	local series dir work opts tarball f src
	series=$(cp_series "$1")
	dir=$(checkpatch_dir "$series")
	[ ! -f "$dir/ready" ] || return 0
	if [ "$series" = 7.3 ]; then
		# The tree the 7.3 and debug kernels are built from has it.
		src=$(source_tree)
		keep_checkpatch "$src" "$dir" "$(cat "$src/.kweb-package")"
		return 0
	fi
	msg "fetching checkpatch.pl from Debian's linux-source-$series (about 150 MB, once)"
	apt_update
	mkdir -p "$KWEB_CACHE/checkpatch"
	work=$(mktemp -d "$KWEB_CACHE/checkpatch/.fetch-$series.XXXXXX")
	trap 'rm -rf "$work"' EXIT
	mapfile -t opts < <(apt_opts)
	if ! (cd "$work" && apt-get "${opts[@]}" -qq download "linux-source-$series") \
		>"$work/download.log" 2>&1; then
		tail -n 5 "$work/download.log" >&2
		die "downloading linux-source-$series failed"
	fi
	tarball=./usr/src/linux-source-$series.tar.xz
	mkdir -p "$work/src"
	# The package holds one compressed tarball of the whole tree: stream it
	# and keep only checkpatch's files.
	# shellcheck disable=SC2046
	dpkg-deb --fsys-tarfile "$work"/linux-source-*.deb | tar -xO "$tarball" |
		tar -xJ -C "$work/src" --strip-components=1 --wildcards \
			$(for f in $CP_FILES; do printf '*/%s ' "$f"; done) ||
		die "linux-source-$series does not hold $CP_FILES"
	keep_checkpatch "$work/src" "$dir" "$(basename "$work"/linux-source-*.deb .deb)"
	rm -rf "$work"
	trap - EXIT
}

# run_checkpatch SERIES PRISTINE SUBMISSION SHOWN FILE...: a unified diff from
# the pristine stage to the submission, checked as a patch, so that only
# what the student wrote is judged, not the kit's own code around it.
# ensure SERIES: checkpatch.pl is in the cache, or fetched now, unless that
# failed less than an hour ago.
ensure() {
	local series=$1 dir failed
	dir=$(checkpatch_dir "$series")
	failed=$KWEB_CACHE/checkpatch/$(kernel_series "$series").failed
	[ ! -f "$dir/ready" ] || return 0
	if [ -n "$(find "$failed" -mmin -60 2>/dev/null)" ]; then
		echo "checkpatch.pl is not in the cache and its download failed less than an hour ago ($(tail -n 1 "$failed")); 'grading/feedback.sh fetch $series' tries again" >&2
		return 2
	fi
	mkdir -p "$KWEB_CACHE/checkpatch"
	if ! (fetch_checkpatch "$series") 2>"$failed"; then
		tail -n 1 "$failed" >&2
		return 2
	fi
	rm -f "$failed"
}

run_checkpatch() {
	local series=$1 pristine=$2 sub=$3 shown=$4 dir f tmp rc
	shift 4
	dir=$(checkpatch_dir "$series")
	ensure "$series" || return 2
	tmp=$(mktemp -d)
	for f in "$@"; do
		# The kit's blank markers in solutions are not the student's code.
		sed 's|/\*[{}]\*/||g' "$sub/$f" >"$tmp/$f"
		diff -u --label "a/$f" --label "b/$f" "$pristine/$f" "$tmp/$f" >>"$tmp/patch" || :
	done
	if [ ! -s "$tmp/patch" ]; then
		rm -rf "$tmp"
		return 0
	fi
	set +e
	perl "$dir/checkpatch.pl" --no-tree --no-signoff --show-types \
		--no-summary --ignore FILE_PATH_CHANGES,COMMIT_MESSAGE,MISSING_SIGN_OFF \
		--ignore SPDX_LICENSE_TAG,GIT_COMMIT_ID \
		"$tmp/patch" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	set -e
	# "LEVEL:TYPE: message", then "#N: FILE: kecho.c:LINE:" (the line in
	# the submission): one "SHOWN/kecho.c:LINE: LEVEL:TYPE: message" each.
	awk -v shown="$shown/" '
		/^(ERROR|WARNING|CHECK):[A-Z_]+: / { what = $0; next }
		what != "" && /^#[0-9]+: FILE: / {
			sub(/^#[0-9]+: FILE: /, "")
			sub(/:$/, "")
			print shown $0 ": " what
		}
		{ what = "" }' "$tmp/out" >"$tmp/found"
	if [ ! -s "$tmp/found" ] && [ $rc -ne 0 ]; then
		# checkpatch failed without a finding on the files: a tool problem.
		cat "$tmp/err" "$tmp/out" | head -n 5 >&2
		rm -rf "$tmp"
		return 2
	fi
	cat "$tmp/found"
	rc=0
	[ ! -s "$tmp/found" ] || rc=1
	rm -rf "$tmp"
	return $rc
}

# run_sparse KDIR MODDIR SHOWN: with the flags of the build (W=1), so that make
# only runs the checker and recompiles nothing.
run_sparse() {
	local kdir=$1 mdir=$2 shown=$3 rc
	command -v sparse >/dev/null 2>&1 || {
		echo "sparse is not installed (apt-get install sparse)" >&2
		return 2
	}
	set +e
	make -C "$kdir" M="$mdir" W=1 C=2 CHECK=sparse modules >"$mdir/sparse.log" 2>&1
	rc=$?
	set -e
	if [ $rc -ne 0 ]; then
		tail -n 5 "$mdir/sparse.log" >&2
		return 2
	fi
	# Findings on the module's own files; gcc's (already shown) are not
	# repeated: sparse's lines have no column-free "warning: ... [-W" tail.
	awk -v dir="$mdir/" -v shown="$shown/" '
		index($0, dir) == 1 && / (error|warning): / && !/ \[-W[^]]*\]$/ {
			gsub(dir, shown); print; found = 1
		}
		END { exit !found }' "$mdir/sparse.log" && return 1
	return 0
}

case ${1:-} in
fetch) shift; for s in "${@:-$KWEB_DEFAULT_KERNEL}"; do fetch_checkpatch "$s"; done ;;
ensure) shift; ensure "${1:-$KWEB_DEFAULT_KERNEL}" ;;
checkpatch) shift; run_checkpatch "$@" ;;
sparse) shift; run_sparse "$@" ;;
*) die "usage: feedback.sh fetch SERIES | ensure SERIES | checkpatch SERIES PRISTINE SUBMISSION SHOWN FILE... | sparse KDIR MODDIR SHOWN" ;;
esac
