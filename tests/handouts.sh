#!/usr/bin/env bash
# The handouts: they build, and what they show is what students edit.
#
#   tests/handouts.sh [OUTDIR]      (default build/selftest/handouts)
#
# Builds both editions of every handout (the instructor edition as HTML
# only: its PDFs are made by the same code as the student ones, and the
# Chinese PDFs are the slow part of the build), then checks that
#   - every finished stage (one with a solution) has a handout in each
#     language, as HTML and PDF (the student edition) and as HTML (the
#     instructor edition), and so has the quiz;
#   - each listing's line numbers and text are those of the stage file, in
#     the HTML (line by line, with every blank highlighted) and in the PDF
#     (pdftotext), so the numbers students read are their file's;
#   - the instructor edition carries every expected answer and accepted
#     variant, and the student edition none of them (the student kit as a
#     whole is checked by tests/dist.sh);
#   - the quiz answer form lists exactly the quiz stage's blanks.
# Prints TAP; OUTDIR is kept for tests/dist.sh.
# shellcheck disable=SC2034,SC2154 # TAP_LOG, TAP_TRIM and n are tests/tap.sh's
set -u
. "$(dirname "$0")/../grading/lib.sh"
out=${1:-$KWEB_BUILD/selftest/handouts}
PY=$KWEB_ROOT/handouts/lib/handout.py
LANGS="zh-TW en"
QUIZ_STAGE=05-netns
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

TAP_LOG=$tmp/check.log
TAP_TRIM="head -n 30"
. "$KWEB_ROOT/tests/tap.sh"

t0=$(date +%s)
check "handouts/build.sh builds every student handout (HTML, PDF)" \
	"$KWEB_ROOT/handouts/build.sh" student "$out"
check "handouts/build.sh builds every instructor handout (HTML)" \
	env KWEB_HANDOUT_FORMATS=html "$KWEB_ROOT/handouts/build.sh" instructor "$out"
echo "# built in $(( $(date +%s) - t0 ))s"

stages=$(cd "$KWEB_ROOT/solutions" && ls -d [0-9][0-9]-* 2>/dev/null)
for s in $stages; do
	# shellcheck disable=SC1090 # the stage's own stage.conf
	files=$(. "$KWEB_ROOT/checker/$s/stage.conf" 2>/dev/null; echo "${SOURCES:-}")
	[ -n "$files" ] || files=$(cd "$KWEB_ROOT/stages/$s" && find . -maxdepth 1 -name '*.c' -printf '%f\n' | sort)
	mapfile -t paths < <(for f in $files; do echo "$KWEB_ROOT/stages/$s/$f"; done)
	for lang in $LANGS; do
		for ed in student instructor; do
			base=$out/$ed/$s.$lang
			[ $ed = student ] || base=$base.instructor
			check "$s $lang $ed: HTML listing matches stages/$s line by line" \
				python3 "$PY" check-html "$base.html" "${paths[@]}"
			[ $ed = student ] || continue
			check "$s $lang $ed: PDF listing matches stages/$s line by line" \
				python3 "$PY" check-pdf "$base.pdf" "${paths[@]}"
		done
	done
done

# The quiz sheet: stage 05's listing, the answer form, the key.
if [ -d "$KWEB_ROOT/solutions/$QUIZ_STAGE" ]; then
	for lang in $LANGS; do
		check "quiz $lang: HTML listing matches stages/$QUIZ_STAGE" \
			python3 "$PY" check-html "$out/student/kweb-quiz.$lang.html" "$KWEB_ROOT/stages/$QUIZ_STAGE/kweb.c"
		check "quiz $lang: PDF listing matches stages/$QUIZ_STAGE" \
			python3 "$PY" check-pdf "$out/student/kweb-quiz.$lang.pdf" "$KWEB_ROOT/stages/$QUIZ_STAGE/kweb.c"
		check "quiz $lang instructor: HTML listing matches stages/$QUIZ_STAGE" \
			python3 "$PY" check-html "$out/instructor/kweb-quiz.$lang.instructor.html" "$KWEB_ROOT/stages/$QUIZ_STAGE/kweb.c"
	done
	check "quiz: answers.txt has one 'TOKEN = ' line per blank, in order" bash -c '
		want=$("$0/grading/kw" stages answers "$0/solutions/$2" | sed "s/ = .*/ =/")
		got=$(grep -v "^#" "$1/student/answers.txt" | sed "s/ *$//")
		[ "$want" = "$got" ] || { echo "want: $want"; echo "got: $got"; exit 1; }' \
		"$KWEB_ROOT" "$out" "$QUIZ_STAGE"
	cp "$out/student/answers.txt" "$tmp/answers.txt"
	check "quiz: answers.txt, filled in, fills the stage back into the solution" bash -c '
		"$0/grading/kw" stages answers "$0/solutions/$2" >"$1/key"
		while IFS= read -r l; do
			tok=${l%% = *}
			L=$l awk -v t="$tok" "\$0 == t \" = \" || \$0 == t \" =\" { print ENVIRON[\"L\"]; next } { print }" \
				"$1/answers.txt" >"$1/a.tmp" && mv "$1/a.tmp" "$1/answers.txt"
		done <"$1/key"
		"$0/grading/kw" fill "$0/stages/$2" "$1/answers.txt" "$1/filled" &&
		diff <(sed "s|/\*[{}]\*/||g" "$0/solutions/$2/kweb.c") "$1/filled/kweb.c"' \
		"$KWEB_ROOT" "$tmp" "$QUIZ_STAGE"
	check "quiz: the instructor key lists every answer and variant" bash -c '
		key=$1/instructor/kweb-quiz-answer-key.txt
		"$0/grading/kw" stages answers "$0/solutions/$2" | while IFS= read -r l; do
			grep -qxF "$l" "$key" || { echo "missing: $l"; exit 1; }; done &&
		if [ -f "$0/solutions/$2/variants" ]; then
			grep -E "^[A-Z]{4} = " "$0/solutions/$2/variants" | sed -E "s/ *= */ = /" |
			while IFS= read -r l; do grep -qxF "$l" "$key" || { echo "missing: $l"; exit 1; }; done
		fi' "$KWEB_ROOT" "$out" "$QUIZ_STAGE"
fi

# Editions: the key is in the instructor's pages, and only there.
check "instructor pages carry every answer; student pages none" python3 - "$KWEB_ROOT" "$out" <<'EOF'
import os, re, subprocess, sys
sys.path.insert(0, os.path.join(sys.argv[1], 'handouts', 'lib'))
import leaks
root, out = sys.argv[1], sys.argv[2]
exprs = leaks.answers(root)
bad = 0
for ed in ('student', 'instructor'):
    for f in sorted(os.listdir(os.path.join(out, ed))):
        if not f.endswith('.html'):
            continue
        stage = leaks.handout_stage(f)
        page = open(os.path.join(out, ed, f), encoding='utf-8').read()
        p = leaks.TextOnly()
        p.feed(page)
        prose = leaks.squeeze(' '.join(p.parts))
        for st, tok, expr, kind in exprs:
            e = leaks.squeeze(expr)
            if ed == 'student' and e in prose:
                print('%s/%s: the %s of %s in %s is in the text: %s' % (ed, f, kind, tok, st, expr)); bad += 1
            if ed == 'instructor' and st == stage and e not in prose:
                print('%s/%s: the key lacks the %s of %s: %s' % (ed, f, kind, tok, expr)); bad += 1
sys.exit(1 if bad else 0)
EOF

tap_end
