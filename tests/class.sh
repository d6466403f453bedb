#!/usr/bin/env bash
# Tests of grading a whole class and a quiz (grading/kweb/classbatch.py,
# through grading/kw class and grading/kw quiz). Prints TAP.
#
#   tests/class.sh [KERNEL]
#
# class: sixteen synthetic stage 1 submissions (correct, the same answers
# written differently, the solution folder, partly wrong, not compiling,
# oopsing at load, hanging at unload, a tampered Kbuild and Makefile,
# tampered tests and rubric, answers breaking the blank rules, a missing
# file, a blank not answered, an entry that is a symlink, a folder whose
# source is a symlink to another student's)
# are graded with an instructor pack that adds static_blanks and a hidden
# test, and must give the expected gradebook: identical answer sets graded
# once, hidden tests only in the instructor's report, every report valid.
# quiz: a stage 5 form export with a BOM, CRLF, quoted fields, a student
# answering twice, an empty answer, and malformed rows.
#
# Only a few tests run (KWEB_TESTS) to keep each grade short.
# shellcheck disable=SC2034,SC2154 # TAP_LOG, TAP_TRIM and n are tests/tap.sh's
set -u
. "$(dirname "$0")/../grading/lib.sh"
kernel=${1:-$KWEB_DEFAULT_KERNEL}
kw=$KWEB_ROOT/grading/kw
work=$KWEB_BUILD/selftest/class-$kernel
rm -rf "$work"
mkdir -p "$work"

TAP_LOG=$work/check.log
. "$KWEB_ROOT/tests/tap.sh"

# same FILE EXPECTED: the file's first five columns are what is expected.
same_book() {
	cut -d, -f1-5 "$1" | diff -u <(printf '%s\n' "$2") - && return 0
	echo "--- the gradebook:"
	cat "$1"
	return 1
}

answers() {
	"$KWEB_ROOT/grading/kw" stages answers "$KWEB_ROOT/solutions/$1"
}

# with STAGE BLANK EXPR: the solution's answers with one blank replaced.
with() {
	answers "$1" | KW_E=$3 awk -v b="$2" '$1 == b { print b " = " ENVIRON["KW_E"]; next } { print }'
}

# folder_with STAGE DIR ANSWERS: a stage folder filled in from answers.
folder_with() {
	"$KWEB_ROOT/grading/kw" fill "$KWEB_ROOT/stages/$1" "$3" "$2"
}

# --- a class of stage 1 ------------------------------------------------------------
s=01-kthread-echo
sub=$work/submissions
mkdir -p "$sub"
answers $s >"$sub/alice.txt"
answers $s | sed 's/, /,/g; s/ = /=   /' >"$sub/bob.txt"
cp -r "$KWEB_ROOT/solutions/$s" "$sub/carol"
with $s DDDD 'kthread_create(kweb_accept_thread, NULL, "kecho")' >"$sub/dave.txt"
with $s AAAA 'kernel_recvmsg(client->sock, &msg)' >"$sub/erin.txt"
# oopses at load
cp -r "$KWEB_ROOT/solutions/$s" "$sub/frank"
sed -i -f "$KWEB_ROOT/tests/fixtures/$s/panic-at-load.sed" "$sub/frank/kecho.c"
# hangs at unload: the accept thread never stops
with $s BBBB 1 >"$sub/gina.txt"
# A Kbuild and Makefile that would make it build; the grader uses neither.
with $s CCCC 'kernel_accept(listen_sock, &sock, KWEB_CHEAT_FLAGS)' >"$work/hank.ans"
folder_with $s "$sub/hank" "$work/hank.ans"
printf 'obj-m := kecho.o\nccflags-y := -DKWEB_CHEAT_FLAGS=0\n' >"$sub/hank/Kbuild"
printf 'obj-m := kecho.o\nccflags-y := -DKWEB_CHEAT_FLAGS=0\nall:\n\t$(MAKE) -C /lib/modules/$(shell uname -r)/build M=$(CURDIR)\n' \
	>"$sub/hank/Makefile"
# Dave's module with tests, rubric and stage.conf that would pass it.
folder_with $s "$sub/ivan" "$sub/dave.txt"
sed -i '1a /* my version */' "$sub/ivan/kecho.c"
mkdir -p "$sub/ivan/tests" "$sub/ivan/checker/$s/tests"
for t in load_default rmmod_idle secret_echo; do
	printf 'exit 0\n' >"$sub/ivan/tests/$t.sh"
	printf 'exit 0\n' >"$sub/ivan/checker/$s/tests/$t.sh"
done
printf 'load_default 1000 20 visible tampered\n' >"$sub/ivan/rubric"
cp "$sub/ivan/rubric" "$sub/ivan/checker/$s/rubric"
printf 'MODULE=kecho\nSOURCES="kecho.c tests/load_default.sh"\n' >"$sub/ivan/stage.conf"
# Works, but breaks the blank rules: redundant parentheses, spacing.
with $s BBBB '(!kthread_should_stop())' | sed 's/listen_sock, &sock, 0/listen_sock,\&sock,0/' \
	>"$sub/judy.txt"
mkdir -p "$sub/kate"
printf 'I forgot my file.\n' >"$sub/kate/README"
answers $s | grep -v '^EEEE' >"$sub/leo.txt"
ln -s /etc "$sub/mia"
{ echo "# Nora's answers"; echo; answers $s; } >"$sub/nora.answers"
mkdir -p "$sub/olga"
answers $s >"$sub/olga/answers.txt"
# Hands in Carol's file through a symlink: refused, the others graded.
mkdir -p "$sub/peter"
ln -s ../carol/kecho.c "$sub/peter/kecho.c"

export KWEB_INSTRUCTOR_PACK=$KWEB_ROOT/tests/fixtures/instructor
t0=$(date +%s)
KWEB_TESTS="load_default rmmod_idle static_blanks secret_echo" \
	KWEB_CLASS_OUT=$work/class \
	"$kw" class 1 "$sub" "$kernel" >"$work/class.out" 2>&1
rc=$?
echo "# grade-class of $(find "$sub" -mindepth 1 -maxdepth 1 | wc -l) submissions took $(( $(date +%s) - t0 )) s (exit $rc)"
book=$work/class/gradebook.csv
check "grade-class: the expected gradebook" same_book "$book" "\
student,score,max_score,status,same_as
alice,32,32,graded,
bob,28,32,graded,alice
carol,32,32,graded,alice
dave,8,32,graded,
erin,4,32,graded,
frank,4,32,graded,
gina,0,32,graded,
hank,4,32,graded,
ivan,8,32,graded,
judy,28,32,graded,
kate,0,32,graded,
leo,0,32,graded,
mia,,,invalid,
nora,32,32,graded,alice
olga,32,32,graded,alice
peter,,,invalid,"
status_of() {
	awk -F'\t' -v t="$2" '$1 == t { print $2 }' "$work/class/students/$1/results.tsv"
}
check "grade-class: exit 0 (all graded) and progress shown" bash -c '
	[ "$0" = 0 ] && grep -q "^\[16/16\] " "$1" && grep -q "^\[1/16\] " "$1" &&
	grep -q "^Gradebook: " "$1"' "$rc" "$work/class.out"
check "grade-class: why each broken submission scored what it did" bash -c '
	grep -q "^erin,.*does not build" "$0" && grep -q "^hank,.*does not build" "$0" &&
	grep -q "^kate,.*kecho.c is missing" "$0" &&
	grep -q "^leo,.*blanks not answered" "$0" &&
	grep -q "^mia,.*submission is a symlink: mia -> /etc; copy the files instead" "$0"' "$book"
check "grade-class: a symlink inside a submission is refused, nothing graded" bash -c '
	grep -q "^peter,,,invalid,,,,submission contains a symlink: peter/kecho.c -> ../carol/kecho.c; copy the files instead$" "$0" &&
	[ ! -e "$1/peter" ]' "$book" "$work/class/students"
check "grade-class: an oops is an error, a hang at unload a failure or timeout" bash -c '
	[ "$(awk -F"\t" "\$1 == \"load_default\" { print \$2 }" "$0/frank/results.tsv")" = error ] &&
	grep -q "kernel crashed" "$0/frank/results.tsv" &&
	case $(awk -F"\t" "\$1 == \"rmmod_idle\" { print \$2 }" "$0/gina/results.tsv") in
	fail|timeout) ;; *) exit 1 ;; esac' "$work/class/students"
check "grade-class: tampered tests, rubric and stage.conf change nothing" bash -c '
	[ "$(cut -f1-4 "$0/ivan/results.tsv")" = "$(cut -f1-4 "$0/dave/results.tsv")" ] &&
	[ "$(ls "$0/ivan/source")" = kecho.c ] && ! grep -q 1000 "$0/ivan/results.tsv"' \
	"$work/class/students"
check "grade-class: a tampered Kbuild is not used" bash -c '
	grep -q "KWEB_CHEAT_FLAGS" "$0/hank/build.txt" && [ ! -e "$0/hank/source/Kbuild" ]' \
	"$work/class/students"
check "grade-class: identical answer sets booted one guest" bash -c '
	ls "$0"/alice/console-*.log >/dev/null &&
	for s in bob carol nora olga; do ! ls "$0/$s"/console-*.log 2>/dev/null || exit 1; done' \
	"$work/class/students"
check "grade-class: reused grades keep their own static checks" bash -c '
	grep -q "kernel style" "$0/bob/tests/static_blanks.log" &&
	[ "$(awk -F"\t" "\$1 == \"static_blanks\" { print \$2 }" "$0/bob/results.tsv")" = fail ] &&
	grep -q "redundant parentheses" "$0/judy/tests/static_blanks.log"' "$work/class/students"
check "grade-class: hidden tests only in the instructor's report" bash -c '
	! grep -q secret_echo "$0/alice/report.md" &&
	grep -q "1 hidden test(s) worth 6 point(s)" "$0/alice/report.md" &&
	grep -q "secret_echo\` (hidden)" "$0/alice/report-instructor.md" &&
	jq -e "(.tests[] | select(.name == \"secret_echo\") | .visibility) == \"hidden\"" \
		"$0/alice/results.json" >/dev/null' "$work/class/students"
check "grade-class: every student's JUnit validates and JSON parses" bash -c '
	for d in "$0"/*/; do
		xmllint --noout --schema "$1/tests/junit.xsd" "$d/junit.xml" 2>/dev/null || { echo "$d"; exit 1; }
		jq -e ".score >= 0" "$d/results.json" >/dev/null || { echo "$d"; exit 1; }
	done' "$work/class/students" "$KWEB_ROOT"
check "make grade ANSWERS=: the answers file is graded" bash -c '
	KWEB_TESTS="load_default rmmod_idle static_blanks secret_echo" \
		make -s -C "$1" grade STAGE=1 ANSWERS="$0/submissions/leo.txt" KERNEL="$2" >"$0/make-grade.out" 2>&1
	grep -q "leo.txt: EEEE: missing: not answered" "$0/make-grade.out" &&
	grep -q "^Total: 0/32$" "$0/make-grade.out"' "$work" "$KWEB_ROOT" "$kernel"

# Student ids that clash as folder names, a student with two entries: no
# guest needed (nothing is answered).
mkdir -p "$work/names/pat"
for e in "p q.txt" "p?q.txt" "p_q.txt" "pat.txt"; do
	printf 'AAAA = 1\n' >"$work/names/$e"
done
printf 'AAAA = 1\n' >"$work/names/pat/answers.txt"
names() {
	KWEB_INSTRUCTOR_PACK=none KWEB_CLASS_OUT=$work/names-out \
		"$kw" class 1 "$work/names" "$kernel" >"$work/names.out" 2>&1 || return 1
	same_book "$work/names-out/gradebook.csv" "\
student,score,max_score,status,same_as
p q,0,100,graded,
p?q,0,100,graded,
p_q,0,100,graded,
pat,0,100,graded,
pat.txt,,,invalid," &&
		[ "$(find "$work/names-out/students" -mindepth 1 -maxdepth 1 -printf "%f\n" | LC_ALL=C sort | tr '\n' ' ')" = "p_q p_q~2 p_q~3 pat " ] &&
		grep -q '^pat.txt,.*another entry is already the submission of pat' \
			"$work/names-out/gradebook.csv"
}
check "grade-class: ids that clash as folder names, a student with two entries" names

# --- a quiz of stage 5 -----------------------------------------------------------------
s=05-netns
if [ -f "$KWEB_ROOT/checker/$s/rubric" ]; then
	unset KWEB_INSTRUCTOR_PACK
	ok=$(answers $s | sed 's/^[A-Z]* = //')
	a=$(sed -n 1p <<<"$ok") b=$(sed -n 2p <<<"$ok") c=$(sed -n 3p <<<"$ok") d=$(sed -n 4p <<<"$ok")
	q() {
		printf '"%s"' "${1//\"/\"\"}"
	}
	{
		printf '\xef\xbb\xbf"Timestamp","Student ID","Name","AAAA (kweb.c:336)","BBBB","CCCC","DDDD"\r\n'
		printf '2026-01-05 10:00,s001,"Doe, Alice",%s,%s,%s,%s\r\n' "$(q "$a")" "$(q "$b")" "$(q "$c")" "$(q "$d")"
		printf '2026-01-05 10:01,s002,Bob,%s,%s,%s,%s\r\n' "$(q "$a")" "$(q "${b//, /,}")" "$(q "$c")" "$(q "$d")"
		printf '2026-01-05 10:02,s003,Carol,"container_of(work, struct kweb_server, accept_work)",%s,%s,%s\r\n' \
			"$(q "$b")" "$(q "$c")" "$(q "$d")"
		printf '2026-01-05 10:03,s004,Dave,%s,%s,%s,"container_of(kobj->parent, struct kweb_data, kobj)"\r\n' \
			"$(q "$a")" "$(q "$b")" "$(q "$c")"
		printf '2026-01-05 10:04,,"",%s,%s,%s,%s\r\n' "$(q "$a")" "$(q "$b")" "$(q "$c")" "$(q "$d")"
		printf '2026-01-05 10:05,s005,Erin,%s,,%s,%s\r\n' "$(q "$a")" "$(q "$c")" "$(q "$d")"
		printf '2026-01-05 10:06,s006,"Multi\r\nline ""name""",%s,%s,%s,%s\r\n' "$(q "$a")" "$(q "$b")" "$(q "$c")" "$(q "$d")"
		printf '2026-01-05 10:07,s007,Too few\r\n'
		printf '2026-01-05 10:09,s004,Dave,%s,%s,%s,%s\r\n' "$(q "$a")" "$(q "$b")" "$(q "$c")" "$(q "$d")"
		printf '2026-01-05 10:10,s008,"Unclosed name,x,y,z,w\r\n'
	} >"$work/form.csv"
	t0=$(date +%s)
	KWEB_TESTS="start_stop" KWEB_CLASS_OUT=$work/quiz \
		"$kw" quiz 5 "$work/form.csv" "$kernel" >"$work/quiz.out" 2>&1
	rc=$?
	echo "# grade-quiz took $(( $(date +%s) - t0 )) s (exit $rc)"
	# start_stop, and the host's probe that every grade includes
	m=$(awk '$1 == "start_stop" || $1 == "host_http" { t += $2 } END { print t }' "$KWEB_ROOT/checker/$s/rubric")
	check "grade-quiz: the expected gradebook" same_book "$work/quiz/gradebook.csv" "\
student,score,max_score,status,same_as
s001,$m,$m,graded,
s002,$m,$m,graded,s001
s003,0,$m,graded,
s004,$m,$m,graded,s001
s005,0,$m,graded,
s006,$m,$m,graded,s001"
	check "grade-quiz: a student who answered twice is graded on the last row" \
		grep -q '^s004,.*answered on rows 5, 11: row 11 is graded' "$work/quiz/gradebook.csv"
	check "grade-quiz: malformed rows are reported, not graded" bash -c '
		[ "$(wc -l <"$0")" = 3 ] && grep -q "^row 6: no student id" "$0" &&
		grep -q "^row 10: 3 fields where the header has 7" "$0" &&
		grep -q "^row 12: a quoted field is never closed" "$0" &&
		grep -q "malformed row" "$1"' "$work/quiz/problems.txt" "$work/quiz.out"
	check "grade-quiz: why the wrong ones scored 0" bash -c '
		grep -q "^s003,.*does not build" "$0" &&
		grep -q "^s005,.*blanks not answered" "$0" &&
		grep -q "BBBB: missing: not answered" "$1/s005/feedback/blanks.txt"' \
		"$work/quiz/gradebook.csv" "$work/quiz/students"
	check "grade-quiz: the student's answers are in the report" bash -c '
		grep -q "| AAAA | s001.txt:2 | \`container_of(work, struct client_work_queue, work)\` | ok |" "$0/s001/report.md" &&
		grep -q "| BBBB | s002.txt:3 | \`queue_work(kweb_wq,&client->work)\` | style |" "$0/s002/report.md"' \
		"$work/quiz/students"
fi

tap_end
