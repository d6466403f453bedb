#!/usr/bin/env bash
# Tests of the static blank checker (checker/kwblank) on the kit's own
# stages: no guest. Prints TAP.
#
# For every stage with a solution: its blanks.rules names the stage's
# blanks; the solution's answers, each accepted variant in
# solutions/NN/variants, and the solution file itself (a filled-in file)
# draw no finding. Then wrong and badly written answers draw the findings
# they should (stage 5's quiz rules among them), answers that are not one C
# expression are refused, and a filled-in file with other lines changed is
# told apart from one with only the blanks filled.
set -u
. "$(dirname "$0")/../grading/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

TAP_LOG=$tmp/check.log
export TAP_LOG
. "$KWEB_ROOT/tests/tap.sh"

# stages ARGS...: grading/kweb/stages.py (generate, one, answers).
stages() {
	PYTHONPATH="$KWEB_ROOT/grading${PYTHONPATH:+:$PYTHONPATH}" \
		/usr/bin/python3 -m kweb.stages "$@"
}

make -s -C "$KWEB_ROOT/checker/kwblank" OUT="$KWEB_BUILD/host-bin" ||
	die "building checker/kwblank failed"
kwblank=$KWEB_BUILD/host-bin/kwblank

# blank_check STAGE ARGS...: kwblank check on the stage as generated from
# its solution, with its rules; findings on stdout.
blank_check() {
	local s=$1 f
	local -a a=(--stage "$tmp/pristine/$s" --rules "$KWEB_ROOT/checker/$s/blanks.rules")
	shift
# shellcheck disable=SC1090 # the stage's own stage.conf
	for f in $(. "$KWEB_ROOT/checker/$s/stage.conf"; echo "$SOURCES"); do
		a+=(--file "$f")
	done
	"$kwblank" check "${a[@]}" "$@"
}

# expect STAGE ANSWERS-TEXT RC PATTERN...: the answers draw exit status RC
# and a finding matching each PATTERN.
expect() {
	local s=$1 text=$2 want=$3 rc=0 p
	shift 3
	printf '%s\n' "$text" >"$tmp/ans.txt"
	blank_check "$s" --answers "$tmp/ans.txt" --shown ans.txt >"$tmp/out" || rc=$?
	cat "$tmp/out"
	[ "$rc" = "$want" ] || { echo "exit $rc, expected $want"; return 1; }
	for p in "$@"; do
		grep -qE -- "$p" "$tmp/out" || { echo "no finding matches '$p'"; return 1; }
	done
}

# no_finding CMD...: the command succeeds and prints nothing.
no_finding() {
	local out
	out=$("$@") || { printf '%s\n' "$out"; return 1; }
	[ -z "$out" ] || { printf '%s\n' "$out"; return 1; }
}

# with STAGE BLANK EXPR: the solution's answers with one blank replaced.
with() {
	stages answers "$KWEB_ROOT/solutions/$1" |
		KW_E=$3 awk -v b="$2" '$1 == b { print b " = " ENVIRON["KW_E"]; next } { print }'
}

for sol in "$KWEB_ROOT"/solutions/[0-9][0-9]-*; do
	s=$(basename "$sol")
	[ -f "$KWEB_ROOT/checker/$s/stage.conf" ] || continue
	stages one "$sol" "$tmp/pristine/$s"
	check "$s: blanks.rules exists and names the stage's blanks" \
		test -f "$KWEB_ROOT/checker/$s/blanks.rules"
	stages answers "$sol" >"$tmp/$s.ans"
	check "$s: the solution's answers draw no finding" \
		expect "$s" "$(cat "$tmp/$s.ans")" 0
	check "$s: the solution file, filled in, draws no finding" \
		no_finding blank_check "$s" --submission "$sol" --shown "solutions/$s"
	if [ -f "$sol/variants" ]; then
		while IFS= read -r line; do
			b=${line%% *}
			e=$(printf '%s' "${line#*=}" | sed 's/^ *//')
			check "$s: accepted variant $b = $e draws no finding" \
				expect "$s" "$(with "$s" "$b" "$e")" 0
		done < <(grep -E '^[A-Z]{4} = ' "$sol/variants")
	fi
done

# --- findings on wrong or badly written answers (stage 1) ---------------------------
s=01-kthread-echo
check "style: spacing is flagged with the canonical form" \
	expect $s "$(with $s CCCC 'kernel_accept(listen_sock,&sock,0)')" 1 \
	'ans.txt:3: CCCC: style: kernel style: write kernel_accept\(listen_sock, &sock, 0\)'
check "minimal: redundant parentheses are flagged" \
	expect $s "$(with $s BBBB '(!kthread_should_stop())')" 1 \
	'BBBB: minimal: redundant parentheses around !kthread_should_stop\(\)'
check "minimal: a comparison with false is flagged" \
	expect $s "$(with $s BBBB 'kthread_should_stop() == false')" 1 \
	'BBBB: minimal: comparison with false: write !kthread_should_stop\(\)'
check "syntax: a ';' is refused (exit 3), with the rule's hint" \
	expect $s "$(with $s EEEE 'kernel_sock_shutdown(listen_sock, SHUT_RDWR); x = 1')" 3 \
	"EEEE: syntax: not one C expression \\(';'\\)" 'EEEE: hint: Wake the thread'
check "rule: a blank that should call kthread_run" \
	expect $s "$(with $s DDDD 'kthread_create(kweb_accept_thread, NULL, "kecho")')" 1 \
	'DDDD: rule: should call kthread_run\(\) \[.*checker/01-kthread-echo/blanks.rules:[0-9]+\]'
check "a blank not answered cannot be graded (exit 3)" \
	expect $s "$(with $s AAAA '' | grep -v '^AAAA')" 3 'AAAA: missing: not answered'

# --- answers that are not one C expression are refused (exit 3) -----------------
refused() {
	local rc=0
	expect "$1" "$(with "$1" "$2" "$3")" 3 \
		"ans.txt:[0-9]+: $2: syntax: not one C expression \\($4\\): answers hold expressions only" ||
		return 1
	blank_check "$1" --answers "$tmp/ans.txt" --shown ans.txt --json "$tmp/ans.json" >/dev/null || rc=$?
	[ "$rc" = 3 ] && grep -q "{\"where\": \"ans.txt:[0-9]*\", \"blank\": \"$2\", \"kind\": \"refused\"" "$tmp/ans.json"
}
check "refused: a statement expression" \
	refused $s AAAA '({ int n = 0; kernel_recvmsg(sock, &msg, &vec, 1, len, 0); })' "statement expression '\\(\\{'"
check "refused: a comment" refused $s BBBB '!kthread_should_stop() /* x */' "a comment '/\\*'"
check "refused: GNU asm" refused $s DDDD 'asm("hlt")' "GNU asm"
check "refused: a top-level comma" refused $s EEEE 'kernel_sock_shutdown(listen_sock, SHUT_RDWR), 0' "a comma at the top level"

# --- the quiz (stage 5) rules ---------------------------------------------------------
s=05-netns
if [ -d "$tmp/pristine/$s" ]; then
	check "quiz: AAAA must call container_of" \
		expect $s "$(with $s AAAA 'list_entry(work, struct client_work_queue, work)')" 1 \
		'AAAA: rule: should call container_of\(\)'
	check "quiz: DDDD must call container_of" \
		expect $s "$(with $s DDDD '(struct kweb_data *)kobj')" 1 \
		'DDDD: rule: should call container_of\(\)'
	check "quiz: BBBB must call a workqueue function" \
		expect $s "$(with $s BBBB 'kweb_client_work(&client->work)')" 1 \
		'BBBB: rule: should call a function of @workqueue'
	check "quiz: CCCC may call any workqueue function" \
		expect $s "$(with $s CCCC 'cancel_work(&srv->accept_work)')" 0
	check "quiz: CCCC without a workqueue call is flagged" \
		expect $s "$(with $s CCCC 'srv->running = false')" 1 \
		'CCCC: rule: should call a function of @workqueue'
	check "quiz: a needless cast of container_of is flagged" \
		expect $s "$(with $s DDDD '(struct kweb_data *)container_of(kobj, struct kweb_data, kobj)')" 1 \
		'DDDD: minimal: needless cast: container_of\(\)'
fi

# --- filled-in files ---------------------------------------------------------------------
s=01-kthread-echo
mkdir -p "$tmp/edited"
sed 's|/\*[{}]\*/||g' "$KWEB_ROOT/solutions/$s/kecho.c" >"$tmp/edited/kecho.c"
only_blanks() {
	blank_check $s --key "$tmp/key1" --submission "$tmp/edited" >/dev/null &&
		! grep -qx changed "$tmp/key1" && [ "$(grep -c " = " "$tmp/key1")" = 5 ]
}
check "a filled-in file with only the blanks changed: key of the answers" only_blanks
sed -i 's|^#include <linux/err.h>|/* my own comment */\n&|' "$tmp/edited/kecho.c"
sed -i 's|\(err = kernel_accept(listen_sock, \)&sock, 0);|\1\&sock,0);|' "$tmp/edited/kecho.c"
other_lines() {
	local rc=0
	blank_check $s --key "$tmp/key2" --submission "$tmp/edited" --shown mine \
		>"$tmp/out2" || rc=$?
	cat "$tmp/out2"
	[ $rc = 1 ] && grep -qx changed "$tmp/key2" &&
		grep -q "mine/kecho.c: notice: 1 line changed outside the blanks (allowed; the tests decide)" "$tmp/out2" &&
		grep -q "mine/kecho.c:[0-9]*: CCCC: style" "$tmp/out2"
}
check "a filled-in file with other lines changed: a notice, said apart" other_lines
rules_disagree() {
	printf "blanks AAAA BBBB\n" >"$tmp/wrong.rules" &&
		"$kwblank" check --stage "$tmp/pristine/01-kthread-echo" --file kecho.c \
			--rules "$tmp/wrong.rules" --answers "$tmp/01-kthread-echo.ans" 2>"$tmp/err"
	[ $? = 2 ] && grep -q "lists the blanks .AAAA BBBB. but the stage has .AAAA BBBB CCCC DDDD EEEE." "$tmp/err"
}
check "kwblank: a rules file that disagrees with the stage is an error (exit 2)" rules_disagree

# --- the canonical form is the kernel's clang-format style ---------------------------
# Every answer and accepted variant of the kit, and a few forms besides,
# formatted by clang-format with the kernel's own .clang-format (from the
# checkpatch cache; wide lines, so that nothing wraps) must read as their
# canonical form.
cf=$KWEB_CACHE/checkpatch/$KWEB_DEFAULT_KERNEL/clang-format
"$KWEB_ROOT/grading/feedback.sh" ensure "$KWEB_DEFAULT_KERNEL" >/dev/null 2>&1 || :
if ! command -v clang-format >/dev/null 2>&1 || [ ! -f "$cf" ]; then
	n=$((n + 1))
	echo "ok $n - canonical forms and clang-format # SKIP no clang-format, or no kernel .clang-format (offline?)"
else
	mkdir -p "$tmp/cf"
	sed 's/^ColumnLimit:.*/ColumnLimit: 400/' "$cf" >"$tmp/cf/.clang-format"
	{
		for sol in "$KWEB_ROOT"/solutions/[0-9][0-9]-*; do
			stages answers "$sol"
			grep -hE '^[A-Z]{4} = ' "$sol/variants" 2>/dev/null || :
		done | sed 's/^[A-Z]* = //'
		printf '%s\n' '(struct foo *)p' 'sizeof(*p)' 'a + b * c' 'x ? y : z' \
			'(unsigned long)-1' '&arr[0]' 'p->a[i].b++' 'f(g(h(1)), 2)' \
			'!(a && b)' 'a << 2 | b'
	} | sort -u >"$tmp/cf/exprs"
	canon_is_clang_format() {
		local e bad=0
		{
			echo 'void f(void)'
			echo '{'
			while IFS= read -r e; do
				printf '\tx = %s;\n' "$("$kwblank" canon "$e" | head -n 1)"
			done <"$tmp/cf/exprs"
			echo '}'
		} >"$tmp/cf/t.c"
		(cd "$tmp/cf" && clang-format t.c) >"$tmp/cf/formatted.c" || return 1
		diff -u "$tmp/cf/t.c" "$tmp/cf/formatted.c" || bad=1
		return $bad
	}
	check "canonical forms are what clang-format makes of them (kernel .clang-format)" \
		canon_is_clang_format
fi

tap_end
