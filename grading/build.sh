#!/usr/bin/env bash
# Build a module folder against a kernel build tree, at W=1.
#
#   grading/build.sh KDIR MODDIR SHOWN
#
# Prints only what a student needs: compiler errors and warnings with the
# file named as SHOWN/file.c (the file the student edits), each with the
# source line it points at, and modpost errors. The full kbuild output is
# kept in MODDIR/build.log. Exit status is make's.
set -eu
kdir=$1 mdir=$2 shown=$3

set +e
make -C "$kdir" M="$mdir" W=1 modules >"$mdir/build.log" 2>&1
rc=$?
set -e

# Diagnostics about the module's own files, with gcc's context lines
# ("   87 |  code" and the caret line) kept; everything else is kbuild noise.
awk -v dir="$mdir/" -v shown="$shown/" '
	function show(s) { gsub(dir, shown, s); print s }
	index($0, dir) == 1 && / (error|warning|note): / { show($0); ctx = 1; next }
	index($0, dir) == 1 && /: In function / { show($0); next }
	ctx && /^ *[0-9]* *\|/ { print; next }
	{ ctx = 0 }
	/^(ERROR|WARNING): modpost: / { show($0) }
' "$mdir/build.log"

if [ $rc -ne 0 ] && ! grep -qE ' error: |^ERROR: ' "$mdir/build.log"; then
	# An unusual failure: show the end of the log rather than nothing.
	tail -n 15 "$mdir/build.log"
fi
exit $rc
