#!/usr/bin/env bash
# The student kit (make dist): complete, free of answers, and it grades.
#
#   tests/dist.sh [HANDOUTS]   HANDOUTS: handouts already built by
#                              tests/handouts.sh (else they are built here)
#
# 1. handouts/dist.sh makes the tarball (it refuses one that leaks);
# 2. handouts/lib/leaks.py finds no leak in it, and does find each kind of
#    real leak planted in a copy: the solutions folder, a blank filled in a
#    stage file, an answer in a handout's text or in a figure, a variants
#    file, an answer hidden in a checker script, an instructor handout;
# 3. unpacked in another folder, with no solutions/ anywhere in it, the kit
#    grades stage 1 filled in with the answers of solutions/01 at full marks.
# Prints TAP.
# shellcheck disable=SC2034,SC2154 # TAP_LOG, TAP_TRIM and n are tests/tap.sh's
set -u
. "$(dirname "$0")/../grading/lib.sh"
handouts=${1:-}
work=$KWEB_BUILD/selftest/dist
rm -rf "$work"
mkdir -p "$work"
kit=$work/kweb-lab-student.tar.gz
LEAKS=$KWEB_ROOT/handouts/lib/leaks.py

TAP_LOG=$work/check.log
TAP_TRIM="tail -n 30"
. "$KWEB_ROOT/tests/tap.sh"

t0=$(date +%s)
check "make dist writes the student kit" env ${handouts:+KWEB_DIST_HANDOUTS=$handouts} \
	KWEB_DIST_WORK="$work/assemble" "$KWEB_ROOT/handouts/dist.sh" "$kit"
echo "# dist took $(( $(date +%s) - t0 ))s"
[ -f "$kit" ] || { echo "1..$n"; exit 1; }

check "the kit has stages, checker, grading, handouts, Makefile, README" bash -c '
	list=$(tar -tzf "$0")
	for p in kweb-lab/Makefile kweb-lab/README.md kweb-lab/grading/kw kweb-lab/grading/kweb/grade.py \
		kweb-lab/checker/01-kthread-echo/rubric kweb-lab/stages/01-kthread-echo/kecho.c \
		kweb-lab/handouts/01-kthread-echo.zh-TW.html kweb-lab/handouts/01-kthread-echo.en.pdf; do
		grep -qxF "$p" <<<"$list" || { echo "missing $p"; exit 1; }
	done' "$kit"
check "the kit gives no answer away (leaks.py)" python3 "$LEAKS" "$KWEB_ROOT" "$kit"

# plant NAME SCRIPT: unpack the kit, run SCRIPT in it, repack as NAME.tar.gz;
# leaks.py must then fail and name the leak (EXPECT, a regex).
plant() {
	local name=$1 expect=$2 script=$3 d=$work/plant-$1
	rm -rf "$d"
	mkdir -p "$d"
	if ! { tar -xzf "$kit" -C "$d" && (cd "$d/kweb-lab" && eval "$script") &&
		tar -C "$d" -czf "$d.tar.gz" kweb-lab; }; then
		echo "planting failed"
		return 1
	fi
	if python3 "$LEAKS" "$KWEB_ROOT" "$d.tar.gz" >"$d.out" 2>&1; then
		echo "leaks.py passed a kit with $name"
		return 1
	fi
	grep -E "$expect" "$d.out" || { cat "$d.out"; echo "(expected /$expect/)"; return 1; }
}
first_answer=$("$KWEB_ROOT/grading/kw" stages answers "$KWEB_ROOT/solutions/01-kthread-echo" | head -n 1)
first_expr=${first_answer#* = }
variant=$(grep -m1 -E '^[A-Z]{4} = ' "$KWEB_ROOT/solutions/01-kthread-echo/variants")
variant_tok=${variant%% = *}
variant_expr=${variant#* = }
export first_expr variant_tok variant_expr KWEB_ROOT
check "leaks.py catches the solutions folder" plant solutions 'solutions' \
	'cp -r "$KWEB_ROOT/solutions" .'
check "leaks.py catches a blank filled with a variant" plant filled "kecho.c.*(differs|blank $variant_tok)" \
	'python3 -c "import sys; p=\"stages/01-kthread-echo/kecho.c\"; s=open(p).read(); open(p,\"w\").write(s.replace(sys.argv[1], sys.argv[2], 1))" "$variant_tok" "$variant_expr"'
check "leaks.py catches an answer in a handout's text" plant handout-text '01-kthread-echo.en.html: the answer of AAAA' \
	'sed -i "s|</body>|<p>Hint: $(printf %s "$first_expr" | sed "s/&/\\\\&amp;/g")</p></body>|" handouts/01-kthread-echo.en.html'
check "leaks.py catches an answer in a figure" plant figure '01-kthread-echo.zh-TW.html: the answer' \
	'svg=$(printf "<svg xmlns=\"http://www.w3.org/2000/svg\"><text>%s</text></svg>" "$(printf %s "$first_expr" | sed "s/&/\&amp;/g")" | base64 -w0)
	 sed -i "s|</body>|<img src=\"data:image/svg+xml;base64,$svg\"></body>|" handouts/01-kthread-echo.zh-TW.html'
check "leaks.py catches a variants file in a stage" plant variants 'variants' \
	'cp "$KWEB_ROOT/solutions/01-kthread-echo/variants" stages/01-kthread-echo/'
check "leaks.py catches an answer in a checker script" plant checker 'checker/.*the answer' \
	'printf "# %s\n" "$first_expr" >>checker/lib/kwtest.sh'
check "leaks.py catches an instructor handout" plant instructor 'instructor' \
	'cp handouts/01-kthread-echo.en.html handouts/01-kthread-echo.en.instructor.html'

# Hidden tests stay out: in a copy of the tree where one test of stage 1 is
# hidden, the kit's rubric lacks that line and the kit lacks its script.
check "a hidden test is left out of the kit (rubric line and script)" bash -c '
	root=$1/hidden-root
	rm -rf "$root" && mkdir -p "$root" &&
	(cd "$0" && tar -cf - Makefile README.md .gitignore grading checker stages solutions handouts) |
		tar -xf - -C "$root" &&
	awk "\$1 == \"echo_1k\" { \$4 = \"hidden\" } { print }" "$root/checker/01-kthread-echo/rubric" \
		>"$root/rubric.tmp" && mv "$root/rubric.tmp" "$root/checker/01-kthread-echo/rubric" &&
	KWEB_ROOT=$root KWEB_BUILD=$1/hidden-build KWEB_DIST_HANDOUTS=$2 \
		"$root/handouts/dist.sh" "$1/hidden.tar.gz" &&
	list=$(tar -tzf "$1/hidden.tar.gz") &&
	! grep -q "checker/01-kthread-echo/tests/echo_1k.sh" <<<"$list" &&
	grep -q "checker/01-kthread-echo/tests/echo_64k.sh" <<<"$list" &&
	rubric=$(tar -xzOf "$1/hidden.tar.gz" kweb-lab/checker/01-kthread-echo/rubric) &&
	! grep -q "^echo_1k" <<<"$rubric" && grep -q "^echo_64k" <<<"$rubric"' \
	"$KWEB_ROOT" "$work" "${handouts:-$work/assemble/handouts-build}"

# 3. Grading from the unpacked kit, far from solutions/.
un=$work/unpacked
mkdir -p "$un"
tar -xzf "$kit" -C "$un"
check "the unpacked kit has no solutions/ and no tests/" bash -c '
	! find "$0" -name solutions -o -name variants | grep . && [ ! -e "$0/kweb-lab/tests" ]' "$un"
"$KWEB_ROOT/grading/kw" stages answers "$KWEB_ROOT/solutions/01-kthread-echo" >"$work/answers-01.txt"
t0=$(date +%s)
# The kernels already fetched are reused (KWEB_CACHE); everything else,
# the kit's scripts, checker and build folder, is the unpacked copy's own.
check "the unpacked kit grades stage 1, filled from solutions/01, at full marks" bash -c '
	cd "$0/kweb-lab" &&
	grading/kw fill stages/01-kthread-echo "$1" "$0/filled-01" &&
	env -u KWEB_ROOT -u KWEB_BUILD KWEB_CACHE="$2" \
		make grade STAGE=1 SRC="$0/filled-01" STRICT=1 >"$0/grade.out" 2>&1
	rc=$?
	tail -n 3 "$0/grade.out"
	[ $rc -eq 0 ] && grep -qE "^Total: ([0-9]+)/\1$" "$0/grade.out" &&
	grep -q "^Results: $0/kweb-lab/build/" "$0/grade.out"' \
	"$un" "$work/answers-01.txt" "$KWEB_CACHE"
echo "# grading from the kit took $(( $(date +%s) - t0 ))s"

tap_end
