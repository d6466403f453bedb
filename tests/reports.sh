#!/usr/bin/env bash
# Tests of the result writers (grading/kweb/report.py) against their formats,
# and of the grader's paths that stop before the guest. No guest is booted.
# Prints TAP. (tests/py/test_report.py tests the writers from Python.)
#
# A synthetic results folder (every status, a hidden test from an instructor
# pack, logs with XML and Markdown specials, invalid UTF-8 and control
# characters) is written out; then: junit.xml must validate against
# tests/junit.xsd (xmllint), and the schema must reject a broken file;
# results.json must be Gradescope's shape (jq); results.ktap must be KTAP;
# report.md must show each failing visible test with its log and hint and
# leave hidden tests out, which report-instructor.md shows; the terminal line
# is coloured only on a terminal without NO_COLOR.
# shellcheck disable=SC2034,SC2154 # TAP_LOG, TAP_TRIM and n are tests/tap.sh's
set -u
KWEB_ROOT=${KWEB_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

TAP_LOG=$tmp/check.log
. "$KWEB_ROOT/tests/tap.sh"

export KWEB_ROOT PYTHONPATH=$KWEB_ROOT/grading

# --- a synthetic results folder ------------------------------------------------
# Stage 1's tests (in the rubric's order), and an instructor pack adding a
# hidden test and a graded static check; results.info names the pack, as the
# grader writes it.
pack=$tmp/pack/01-kthread-echo
mkdir -p "$pack/tests"
printf 'secret_load 7 20 hidden a hidden check\nstatic_blanks 3 20 visible the blank checker\n' >"$pack/rubric"
printf '#!/bin/sh\n' >"$pack/tests/secret_load.sh"
printf 'secret_load HIDDEN-HINT\n' >"$pack/hints"
r=$tmp/res
mkdir -p "$r/tests" "$r/feedback"
{
	printf 'name\tstatus\tscore\tmax_score\tseconds\tvisibility\tmessage\n'
	printf 'load_default\tpass\t8\t8\t0.5\tvisible\t\n'
	printf 'echo_nc\tfail\t0\t8\t0.4\tvisible\tnc sent <hello> & got back "" | nothing\n'
	printf 'echo_1k\tskip\t0\t8\t0.1\tvisible\t\n'
	printf 'echo_64k\terror\t0\t8\t1.1\tvisible\tkernel crashed: BUG: kernel NULL pointer dereference in kweb_exit+0x2c/0x90 [kecho]\n'
	printf 'rmmod_idle\ttimeout\t0\t8\t60.2\tvisible\tthe guest stopped responding\n'
	printf 'secret_load\tfail\t0\t7\t0.9\thidden\tthe secret check failed\n'
	printf 'static_blanks\tpass\t3\t3\t0.0\tvisible\t\n'
} >"$r/results.tsv"
printf 'stage\t01-kthread-echo\nsource\tstages/01-kthread-echo\nanswers\t\nkernel\t6.12\nrelease\t6.12.95+deb12-amd64\naccel\ttcg\nstarted\t2026-01-02T03:04:05Z\nseconds\t75.3\ntotal\t11\nmax\t50\nvisible_total\t11\nvisible_max\t43\nhidden_tests\t1\npack\t%s\noutcome\tall tests ran\nreused\t\n' "$pack" >"$r/results.info"
printf 'loaded kecho\nFAIL: nc sent <hello> & got back ""\n```\nbackticks above\n`````\nok 1 fake\n\001\002 control \377\376 bytes\033[2J\n' >"$r/tests/echo_nc.log"
printf 'TIMEOUT: the guest stopped responding\n' >"$r/tests/rmmod_idle.log"
printf 'ERROR: the guest kernel crashed during this test\nBUG: kernel NULL pointer dereference\n' >"$r/tests/echo_64k.log"
printf 'SECRET-LOG-LINE\n' >"$r/tests/secret_load.log"
printf 'loaded\n' >"$r/tests/load_default.log"
printf 'stages/01-kthread-echo/kecho.c:161: BBBB: style: kernel style: write !x\n' >"$r/feedback/blanks.txt"
printf 'stages/01-kthread-echo/kecho.c:44: warning: unused variable <x>\n' >"$r/build.txt"
printf 'stages/01-kthread-echo/kecho.c:161: ERROR:SPACING: space prohibited\n' >"$r/feedback/checkpatch.txt"

check "kweb.report write: writes every report" bash -c '
	env -u KWEB_INSTRUCTOR_PACK /usr/bin/python3 -m kweb.report write "$0" 1 && cd "$0" &&
	for f in report.md report-instructor.md results.json junit.xml results.ktap; do
		[ -s "$f" ] || { echo "$f missing"; exit 1; }
	done' "$r"
check "kweb.report write: a results.tsv test the rubric lacks is named, exit 2" bash -c '
	cp -r "$0" "$0-nopack" &&
	KWEB_INSTRUCTOR_PACK=none /usr/bin/python3 -m kweb.report write "$0-nopack" 1 2>"$0.err"
	[ $? = 2 ] && [ "$(wc -l <"$0.err")" = 1 ] &&
	grep -q "secret_load static_blanks, which the rubric of 01-kthread-echo does not have" "$0.err"' "$r"

# --- JUnit ---------------------------------------------------------------------
check "junit.xml validates against tests/junit.xsd" \
	xmllint --noout --schema "$KWEB_ROOT/tests/junit.xsd" "$r/junit.xml"
check "junit.xsd rejects a testcase without a name" bash -c '
	sed "0,/<testcase name=\"[^\"]*\"/s//<testcase/" "$1/junit.xml" >"$1/bad.xml" &&
	! xmllint --noout --schema "$0/tests/junit.xsd" "$1/bad.xml"' "$KWEB_ROOT" "$r"
check "junit.xsd rejects a testcase with both a failure and an error" bash -c '
	sed "s|<failure |<error message=\"x\" type=\"y\"/><failure |" "$1/junit.xml" >"$1/bad2.xml" &&
	! xmllint --noout --schema "$0/tests/junit.xsd" "$1/bad2.xml"' "$KWEB_ROOT" "$r"
q() {
	xmllint --xpath "$1" "$r/junit.xml" 2>/dev/null
}
check "junit: a wrong result is a failure, a crash or a timeout an error, a skip skipped" bash -c '
	[ "$(xmllint --xpath "count(//testcase[@name=\"echo_nc\"]/failure)" "$0")" = 1 ] &&
	[ "$(xmllint --xpath "string(//testcase[@name=\"rmmod_idle\"]/error/@type)" "$0")" = timeout ] &&
	[ "$(xmllint --xpath "string(//testcase[@name=\"echo_64k\"]/error/@type)" "$0")" = error ] &&
	[ "$(xmllint --xpath "count(//testcase[@name=\"echo_1k\"]/skipped)" "$0")" = 1 ] &&
	[ "$(xmllint --xpath "count(//testcase[@name=\"load_default\"]/*[self::failure or self::error])" "$0")" = 0 ] &&
	[ "$(xmllint --xpath "string(/testsuites/testsuite/@failures)" "$0")" = 2 ] &&
	[ "$(xmllint --xpath "string(/testsuites/testsuite/@errors)" "$0")" = 2 ] &&
	[ "$(xmllint --xpath "string(/testsuites/testsuite/@tests)" "$0")" = 7 ]' "$r/junit.xml"
check "junit: the failure carries the message and the log, escaped" bash -c '
	m=$(xmllint --xpath "string(//testcase[@name=\"echo_nc\"]/failure/@message)" "$0") &&
	[ "$m" = "nc sent <hello> & got back \"\" | nothing" ] &&
	xmllint --xpath "string(//testcase[@name=\"echo_nc\"]/failure)" "$0" | grep -q "backticks above"' \
	"$r/junit.xml"

# --- Gradescope --------------------------------------------------------------------
check "results.json: Gradescope's shape" jq -e '
	(keys == ["execution_time", "output", "score", "tests", "visibility"]) and
	(.score | type) == "number" and (.output | type) == "string" and
	(.execution_time | type) == "number" and (.tests | type) == "array" and
	all(.tests[]; keys == ["max_score", "name", "output", "score", "status", "visibility"]) and
	all(.tests[]; (.name | type) == "string" and (.score | type) == "number" and
		(.max_score | type) == "number" and
		(.status == "passed" or .status == "failed") and
		(.output | type) == "string" and
		(.visibility == "visible" or .visibility == "hidden"))' "$r/results.json"
check "results.json: scores as results.tsv has them, hidden tests hidden" jq -e '
	.score == 11 and .execution_time == 75 and
	(.tests | length) == 7 and ([.tests[].score] | add) == .score and
	([.tests[].max_score] | add) == 50 and
	(.tests[] | select(.name == "secret_load") | .visibility) == "hidden" and
	(.tests[] | select(.name == "echo_nc") | .status) == "failed" and
	(.tests[] | select(.name == "echo_nc") | .output | contains("Hint: The client thread sends back")) and
	(.tests[] | select(.name == "load_default") | .status) == "passed"' "$r/results.json"

# --- KTAP --------------------------------------------------------------------------
check "results.ktap: KTAP version 1, a plan, numbered results, diagnostics" bash -c '
	f=$0
	[ "$(sed -n 1p "$f")" = "KTAP version 1" ] || exit 1
	grep -qx "1\.\.7" "$f" || exit 1
	grep -vE "^(KTAP version 1|1\.\.[0-9]+|(not )?ok [0-9]+ [a-z0-9_]+( # (SKIP|TIMEOUT|ERROR).*)?|# .*)$" "$f" && exit 1
	[ "$(grep -cE "^(not )?ok " "$f")" = 7 ] &&
	grep -qx "not ok 5 rmmod_idle # TIMEOUT the guest stopped responding" "$f" &&
	grep -qE "^not ok 4 echo_64k # ERROR kernel crashed" "$f" &&
	grep -qx "ok 3 echo_1k # SKIP" "$f" && grep -qx "ok 1 load_default" "$f" &&
	grep -qx "not ok 2 echo_nc" "$f" && grep -qx "# ok 1 fake" "$f"' "$r/results.ktap"

# --- Markdown -----------------------------------------------------------------------
check "report.md: failing visible tests with their result, log and hint" bash -c '
	f=$0
	grep -q "^# 01-kthread-echo: 11/43$" "$f" &&
	grep -q "^### \`echo_nc\`: FAIL, 0/8" "$f" &&
	grep -q "What happened: nc sent &lt;hello> & got back \"\" \\\\| nothing" "$f" &&
	grep -q "Hint: The client thread sends back exactly" "$f" &&
	grep -q "^### \`rmmod_idle\`: TIMEOUT" "$f" &&
	grep -q "Hint: On rmmod the accept thread sleeps" "$f" &&
	grep -q "backticks above" "$f" &&
	grep -q "^## Blank checker" "$f" && grep -q "^## checkpatch.pl" "$f" &&
	grep -q "^## Compiler output" "$f" &&
	! grep -q "^### \`load_default\`" "$f"' "$r/report.md"
check "report.md: hidden tests left out, their existence said" bash -c '
	! grep -qE "secret_load|SECRET-LOG-LINE|HIDDEN-HINT|hidden check" "$0" &&
	grep -q "1 hidden test(s) worth 7 point(s)" "$0"' "$r/report.md"
check "report-instructor.md: everything, hidden tests marked" bash -c '
	grep -q "^# 01-kthread-echo: 11/50$" "$0" &&
	grep -q "secret_load\` (hidden)" "$0" && grep -q "SECRET-LOG-LINE" "$0" &&
	grep -q "Students see 11/43" "$0"' "$r/report-instructor.md"
check "report.md: a log cannot close its code fence (the fence is longer)" bash -c '
	grep -A1 -x "\`\`\`\`\`\`text" "$0" | grep -qx "loaded kecho" &&
	grep -qx "\`\`\`\`\`" "$0"' "$r/report.md"
check "reports: no control character or invalid UTF-8 from a log" bash -c '
	cd "$0" && for f in report.md report-instructor.md results.json junit.xml results.ktap; do
		iconv -f UTF-8 -t UTF-8 "$f" >/dev/null || exit 1
		! tr -d "\t\n" <"$f" | LC_ALL=C grep -q "[[:cntrl:]]" || { echo "$f"; exit 1; }
	done' "$r"

# --- the terminal ---------------------------------------------------------------------
check "terminal line: the grader's format, no colour when not a terminal" bash -c '
	out=$(/usr/bin/python3 -m kweb.report line fail 8 echo_nc 0.4 "nc got nothing")
	[ "$out" = "  FAIL      0/8    echo_nc                 0.4s  nc got nothing" ]'
if command -v script >/dev/null 2>&1; then
	check "terminal line: colour on a terminal, none with NO_COLOR" bash -c '
		script -qec "/usr/bin/python3 -m kweb.report line pass 8 load_default 0.5" /dev/null |
			grep -q $'"'"'\033\\[32mPASS'"'"' &&
		! NO_COLOR=1 script -qec "/usr/bin/python3 -m kweb.report line pass 8 load_default 0.5" /dev/null |
			grep -q $'"'"'\033'"'"''
fi
check "terminal line: hidden tests are marked" bash -c '
	/usr/bin/python3 -m kweb.report line pass 7 secret 0.1 "" hidden | grep -q "0\.1s  (hidden)$"'

# --- the grader, before the guest ----------------------------------------------------------
# grade NAME ARGS...: the grader (grading/kw grade) with its output in
# $tmp/NAME.out, its exit status in $tmp/NAME.rc, results in $tmp/NAME/.
grade() {
	local name=$1
	shift
	KWEB_OUT=$tmp/$name KWEB_FEEDBACK=0 KWEB_INSTRUCTOR_PACK=none "$@" \
		>"$tmp/$name.out" 2>&1
	echo $? >"$tmp/$name.rc"
}
stage1=01-kthread-echo
"$KWEB_ROOT/grading/kw" stages answers "$KWEB_ROOT/solutions/$stage1" | grep -v '^EEEE' >"$tmp/partial.txt"
grade partial env KWEB_ANSWERS="$tmp/partial.txt" "$KWEB_ROOT/grading/kw" grade 1
check "ANSWERS= with a blank not answered: named, 0 points, no guest" bash -c '
	[ "$(cat "$0/partial.rc")" = 1 ] && grep -q "partial.txt: EEEE: missing: not answered" "$0/partial.out" &&
	grep -q "^Total: 0/100$" "$0/partial.out" && ! ls "$0"/partial/console-*.log 2>/dev/null &&
	grep -q "blanks not answered" "$0/partial/report.md" &&
	xmllint --noout --schema "$1/tests/junit.xsd" "$0/partial/junit.xml" &&
	jq -e ".score == 0" "$0/partial/results.json"' "$tmp" "$KWEB_ROOT"
grade noanswers env KWEB_ANSWERS="$tmp/nonexistent.txt" "$KWEB_ROOT/grading/kw" grade 1
check "ANSWERS= naming no file: one clear error, exit 2" bash -c '
	[ "$(cat "$0/noanswers.rc")" = 2 ] && [ "$(wc -l <"$0/noanswers.out")" = 1 ] &&
	grep -q "kweb: error: ANSWERS=.*nonexistent.txt is not a file" "$0/noanswers.out"' "$tmp"
mkdir -p "$tmp/empty-sub"
printf 'not the module\n' >"$tmp/empty-sub/README"
grade nofile "$KWEB_ROOT/grading/kw" grade 1 "$tmp/empty-sub"
check "a submission without the module's file: 0 points, exit 1, said" bash -c '
	[ "$(cat "$0/nofile.rc")" = 1 ] && grep -q "kecho.c is missing" "$0/nofile.out" &&
	grep -q "^Total: 0/100$" "$0/nofile.out"' "$tmp"
mkdir -p "$tmp/link-sub"
ln -s /etc/passwd "$tmp/link-sub/kecho.c"
grade symlink "$KWEB_ROOT/grading/kw" grade 1 "$tmp/link-sub"
check "a symbolic link for the module's file is refused" bash -c '
	[ "$(cat "$0/symlink.rc")" = 1 ] && grep -q "kecho.c is a symbolic link" "$0/symlink.out"' "$tmp"
grade unfilled "$KWEB_ROOT/grading/kw" grade 1 stages
check "the unfilled stage: reports written, unfilled named in report.md" bash -c '
	grep -q "unfilled blanks" "$0/unfilled/report.md" && jq -e ".score == 0" "$0/unfilled/results.json" &&
	n=$(sed -n "s/^1\.\.//p" "$0/unfilled/results.ktap") && [ "$n" -gt 0 ] &&
	[ "$(grep -c "^not ok" "$0/unfilled/results.ktap")" = "$n" ]' "$tmp"
check "stage.conf SOURCES only: a submission cannot name the Kbuild" bash -c '
	mkdir -p "$0/kb" && printf "obj-m := evil.o\n" >"$0/kb/Kbuild" &&
	cp "$1/stages/01-kthread-echo/kecho.c" "$0/kb/" &&
	KWEB_OUT=$0/kbres KWEB_FEEDBACK=0 "$1/grading/kw" grade 1 "$0/kb" >/dev/null 2>&1
	[ ! -e "$0/kbres/source/Kbuild" ] && [ "$(ls "$0/kbres/source")" = kecho.c ]' "$tmp" "$KWEB_ROOT"

tap_end
