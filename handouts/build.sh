#!/usr/bin/env bash
# Build the handouts: one page per stage and language, and the kweb quiz
# sheet, as self-contained HTML and as PDF.
#
#   handouts/build.sh [student|instructor|all] [OUTDIR]
#
# OUTDIR defaults to build/handouts; the student edition goes to
# OUTDIR/student, the instructor edition to OUTDIR/instructor. Only the
# instructor edition reads solutions/ (the answer key and accepted
# variants); the student edition is made from stages/, checker/ and the
# sources here, so nothing of the answers can end up in it.
#
# Sources: handouts/src/NN-name.LANG.md (a stage) and quiz.LANG.md (the
# kweb quiz, on stage $QUIZ_STAGE), in Markdown with the directives that
# handouts/lib/handout.py expands (listings generated from stages/ at build
# time, blank tables, rubric, figures drawn with graphviz from
# handouts/figures/*.dot). KWEB_HANDOUT_FORMATS="html pdf" (default) picks
# the formats; KWEB_HANDOUT_ONLY="01-kthread-echo quiz" only those.
set -eu
. "$(dirname "$0")/../grading/lib.sh"

QUIZ_STAGE=05-netns
editions=${1:-all}
outroot=${2:-$KWEB_BUILD/handouts}
formats=${KWEB_HANDOUT_FORMATS:-html pdf}
case $editions in
all) editions="student instructor" ;;
student|instructor) ;;
*) die "usage: handouts/build.sh [student|instructor|all] [OUTDIR]" ;;
esac

"$KWEB_ROOT/grading/deps.sh" handouts

HD=$KWEB_ROOT/handouts
PY=$HD/lib/handout.py
work=$outroot/.work
mkdir -p "$work"

# The jobs: "edition source stage lang basename" lines.
jobs=$work/jobs
: >"$jobs"
for ed in $editions; do
	rm -rf "${outroot:?}/$ed"
	mkdir -p "$outroot/$ed"
	for src in "$HD"/src/*.md; do
		base=$(basename "$src" .md)        # 01-kthread-echo.zh-TW
		name=${base%.*}
		lang=${base##*.}
		if [ "$name" = quiz ]; then
			stage=$QUIZ_STAGE
			out=kweb-quiz.$lang
		else
			stage=$name
			out=$base
		fi
		if [ -n "${KWEB_HANDOUT_ONLY:-}" ]; then
			case " $KWEB_HANDOUT_ONLY " in *" $name "*) ;; *) continue ;; esac
		fi
		# A stage not in this tree (yet) has no handout.
		[ -d "$KWEB_ROOT/stages/$stage" ] || continue
		[ "$ed" = student ] || out=$out.instructor
		echo "$ed $src $stage $lang $out" >>"$jobs"
	done
done

# Chinese PDFs: weasyprint subsets each CJK font it embeds, which takes
# seconds per face for fonts of 65 000 glyphs. So the two faces used
# (Noto Sans CJK TC regular and bold) are first cut down, once, to the
# characters the Chinese sources use, and the PDFs get those small copies
# as the family KwebCJK, ahead of the full font (a character missing from
# them still comes from the full font, just slower). The figures name it
# too (handout.py), which browsers showing the HTML simply skip.
cjk_css=
if grep -q ' zh-TW ' "$jobs" && [[ " $formats " == *" pdf "* ]]; then
	fonts=$work/fonts
	mkdir -p "$fonts"
	cat "$HD"/src/*.zh-TW.md "$HD"/figures/*.zh-TW.dot "$PY" |
		python3 -c 'import sys; s = sys.stdin.read(); sys.stdout.write("".join(sorted(set(c for c in s if ord(c) > 127))))' \
		>"$fonts/chars.txt"
	for w in Regular Bold; do
		/usr/bin/python3 -m fontTools.subset \
			"/usr/share/fonts/opentype/noto/NotoSansCJK-$w.ttc" --font-number=3 \
			--text-file="$fonts/chars.txt" --layout-features='*' \
			--output-file="$fonts/kweb-cjk-tc-$w.otf" ||
			die "cannot subset NotoSansCJK-$w.ttc (fonts-noto-cjk)"
	done
	cjk_css=$fonts/cjk.css
	cat >"$cjk_css" <<-CSS
	@font-face { font-family: "KwebCJK"; font-weight: normal; src: url("file://$fonts/kweb-cjk-tc-Regular.otf"); }
	@font-face { font-family: "KwebCJK"; font-weight: bold; src: url("file://$fonts/kweb-cjk-tc-Bold.otf"); }
	html:lang(zh-TW) body, html:lang(zh-TW) body * {
		font-family: "Liberation Sans", "KwebCJK", "Noto Sans CJK TC", sans-serif;
	}
	html:lang(zh-TW) code, html:lang(zh-TW) code *, html:lang(zh-TW) pre, html:lang(zh-TW) pre * {
		font-family: "DejaVu Sans Mono", "KwebCJK", "Noto Sans CJK TC", monospace;
	}
	@page {
		@top-right { font-family: "Liberation Sans", "KwebCJK", sans-serif; }
		@bottom-center { font-family: "Liberation Sans", "KwebCJK", sans-serif; }
	}
	CSS
fi

# build_one EDITION SRC STAGE LANG OUT
build_one() {
	local ed=$1 src=$2 stage=$3 lang=$4 out=$5 md dir
	dir=$outroot/$ed
	md=$work/$ed.$out.md
	python3 "$PY" render "$KWEB_ROOT" "$src" "$stage" "$lang" "$ed" \
		"$work/figures-$ed-$out" "$md" || return 1
	local opts=(--quiet -f markdown -t html5 --standalone --self-contained
		--css "$HD/style.css" --toc --toc-depth=2 --number-sections
		--resource-path "$work:$HD" --metadata "lang=$lang")
	for fmt in $formats; do
		case $fmt in
		html) pandoc "${opts[@]}" -o "$dir/$out.html" "$md" || return 1 ;;
		pdf) pandoc "${opts[@]}" ${cjk_css:+--css "$cjk_css"} --pdf-engine=weasyprint \
			--pdf-engine-opt=--quiet -o "$dir/$out.pdf" "$md" 2>"$work/$ed.$out.pdf.log" || {
				cat "$work/$ed.$out.pdf.log" >&2
				return 1
			} ;;
		*) echo "unknown format $fmt" >&2; return 1 ;;
		esac
	done
	echo "  $ed/$out: $formats"
}

# Run the jobs, as many at a time as there are CPUs, the slow ones (the
# Chinese PDFs, whose CJK fonts take long to subset) first.
max=$(nproc 2>/dev/null || echo 2)
running=0
fails=0
while read -r ed src stage lang out; do
	if [ "$running" -ge "$max" ]; then
		wait -n || fails=$((fails + 1))
		running=$((running - 1))
	fi
	build_one "$ed" "$src" "$stage" "$lang" "$out" &
	running=$((running + 1))
done < <(sort -k4,4r -k1,1r "$jobs")
while [ "$running" -gt 0 ]; do
	wait -n || fails=$((fails + 1))
	running=$((running - 1))
done
[ "$fails" -eq 0 ] || die "$fails handout(s) failed to build (see above)"

# The quiz answer form for students, the answer key for instructors.
for ed in $editions; do
	[ -d "$KWEB_ROOT/stages/$QUIZ_STAGE" ] || continue
	if [ "$ed" = student ]; then
		python3 "$PY" answers-form "$KWEB_ROOT" "$QUIZ_STAGE" >"$outroot/student/answers.txt"
	else
		python3 "$PY" answer-key "$KWEB_ROOT" "$QUIZ_STAGE" >"$outroot/instructor/kweb-quiz-answer-key.txt"
	fi
done
msg "handouts in $outroot/{$(echo "$editions" | tr ' ' ,)}"
