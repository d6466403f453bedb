#!/usr/bin/env bash
# The student kit: a tarball with what students need and nothing of the
# answers.
#
#   handouts/dist.sh [OUT.tar.gz]     default build/dist/kweb-lab-student.tar.gz
#
# KWEB_DIST_WORK=DIR assembles the kit there (default build/dist/work).
#
# In it, under kweb-lab/: Makefile, README.md, stages/, checker/, grading/
# and the student edition of the handouts (handouts/*.html, *.pdf and the
# quiz answer form answers.txt). Never in it: solutions/, the accepted
# variants, the instructor handouts, tests/ (the kit's own tests and their
# fixtures of wrong answers), any instructor/ folder, hidden tests (rubric
# lines whose visibility is not "visible", and their scripts), build
# products. The finished tarball is checked by handouts/lib/leaks.py, and
# not written if anything leaks.
set -eu
. "$(dirname "$0")/../grading/lib.sh"

out=${1:-$KWEB_BUILD/dist/kweb-lab-student.tar.gz}
case $out in /*) ;; *) out=$PWD/$out ;; esac
work=${KWEB_DIST_WORK:-$KWEB_BUILD/dist/work}
kit=$work/kweb-lab

"$KWEB_ROOT/grading/deps.sh" handouts
"$KWEB_ROOT/grading/kw" stages check

rm -rf "$work"
mkdir -p "$kit" "$(dirname "$out")"

# The student handouts, built afresh: only the student edition is made here.
# (KWEB_DIST_HANDOUTS=DIR takes them ready-made from DIR/student, a folder
# that handouts/build.sh wrote: the kit's tests build them once for both.)
if [ -n "${KWEB_DIST_HANDOUTS:-}" ]; then
	mkdir -p "$work/handouts-build"
	cp -r "$KWEB_DIST_HANDOUTS/student" "$work/handouts-build/student"
else
	"$KWEB_ROOT/handouts/build.sh" student "$work/handouts-build"
fi

# copy_tree SRC DST: the files of SRC, without build products and without
# anything instructor-only.
copy_tree() {
	(cd "$1" && find . -type f \
		! -name '*.o' ! -name '*.ko' ! -name '*.mod' ! -name '*.mod.c' \
		! -name '*.cmd' ! -name '*.order' ! -name '*.symvers' \
		! -name 'build.log' ! -name 'variants' ! -name '*.answers' \
		! -path '*/instructor/*' ! -path '*/.tmp_versions/*' \
		! -path '*/__pycache__/*' -print0) |
		while IFS= read -r -d '' f; do
			install -D -m "$(stat -c %a "$1/$f")" "$1/$f" "$2/$f"
		done
}

cp "$KWEB_ROOT/Makefile" "$KWEB_ROOT/README.md" "$KWEB_ROOT/.gitignore" "$kit/"
copy_tree "$KWEB_ROOT/grading" "$kit/grading"
copy_tree "$KWEB_ROOT/checker" "$kit/checker"
# Only stages that have a reference solution are finished stages.
for d in "$KWEB_ROOT"/stages/[0-9][0-9]-*/; do
	s=$(basename "$d")
	[ -d "$KWEB_ROOT/solutions/$s" ] || continue
	copy_tree "$d" "$kit/stages/$s"
done

# Hidden tests: out of each rubric, and their scripts out of the kit unless
# a stage still uses them visibly.
"$KWEB_ROOT/grading/kw" strip-hidden "$kit/checker"

mkdir -p "$kit/handouts"
cp "$work/handouts-build/student/"*.html "$work/handouts-build/student/"*.pdf "$kit/handouts/"
[ ! -f "$work/handouts-build/student/answers.txt" ] ||
	cp "$work/handouts-build/student/answers.txt" "$kit/handouts/"

# Reproducible: fixed order, owner and time (that of the last commit).
stamp=$(git -C "$KWEB_ROOT" log -1 --format=%ct 2>/dev/null || date +%s)
tar -C "$work" --sort=name --owner=0 --group=0 --numeric-owner \
	--mtime="@$stamp" -czf "$out.tmp" kweb-lab

if ! python3 "$KWEB_ROOT/handouts/lib/leaks.py" "$KWEB_ROOT" "$out.tmp"; then
	rm -f "$out.tmp"
	die "the student kit would give answers away (see above): not written"
fi
mv "$out.tmp" "$out"
msg "student kit: $out ($(du -h "$out" | cut -f1), $(tar -tzf "$out" | grep -vc '/$') files)"
