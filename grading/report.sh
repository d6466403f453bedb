#!/usr/bin/env bash
# The writers of grading results: one result model, several formats.
#
#   grading/report.sh line STATUS SCORE MAX NAME SECONDS MESSAGE [VISIBILITY]
#       the terminal line of one test (in colour when stdout is a terminal
#       and NO_COLOR is unset)
#   grading/report.sh write DIR
#       the reports of a results folder, next to its results.tsv:
#         report.md             for the student: hidden tests left out
#         report-instructor.md  everything
#         results.json          Gradescope's format
#         junit.xml             JUnit (a crash or timeout is an <error>,
#                               a wrong result a <failure>)
#         results.ktap          KTAP
#
# The model, written by grading/grade.sh: results.tsv (name, status, score,
# max_score, seconds, visibility, message; the score comes from grade.sh's
# points(), the one place a status becomes points), rubric.tsv (name, kind,
# description, hint), results.info (key<TAB>value), tests/NAME.log,
# build.txt and feedback/ (blanks.txt, answers.tsv, checkpatch.txt,
# sparse.txt, warnings.txt). Nothing here recomputes a score.
set -eu
. "$(dirname "$0")/lib.sh"

# --- the terminal ------------------------------------------------------------

line() {
	local st=$1 score=$2 max=$3 name=$4 secs=$5 text=$6 vis=${7:-visible}
	local label on= off=
	label=$(printf '%-7s' "$(echo "$st" | tr a-z A-Z)")
	if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
		case $st in
		pass) on=$'\033[32m' ;;
		fail) on=$'\033[31m' ;;
		timeout) on=$'\033[33m' ;;
		error) on=$'\033[1;31m' ;;
		*) on=$'\033[36m' ;;
		esac
		off=$'\033[0m'
	fi
	[ "$vis" = visible ] || text="$text${text:+  }(hidden)"
	printf '  %s %3s/%-3s  %-20s %6ss  %s\n' "$on$label$off" "$score" "$max" \
		"$name" "$secs" "$text"
}

# --- reading the model -------------------------------------------------------

declare -A INFO=() DESC=() HINT=()
declare -a N=() ST=() SC=() MX=() SE=() VI=() MS=()

load() {
	local row
	local -a c
	[ -f "$dir/results.tsv" ] && [ -f "$dir/results.info" ] ||
		die "$dir holds no results.tsv and results.info"
	while IFS= read -r row; do
		INFO[${row%%$'\t'*}]=${row#*$'\t'}
	done <"$dir/results.info"
	# Fields may be empty: split on each tab (read would merge them).
	while IFS= read -r row; do
		mapfile -t -d $'\t' c < <(printf '%s' "$row")
		N+=("${c[0]}") ST+=("${c[1]}") SC+=("${c[2]}") MX+=("${c[3]}")
		SE+=("${c[4]}") VI+=("${c[5]}") MS+=("${c[6]:-}")
	done < <(tail -n +2 "$dir/results.tsv")
	if [ -f "$dir/rubric.tsv" ]; then
		while IFS= read -r row; do
			mapfile -t -d $'\t' c < <(printf '%s' "$row")
			DESC[${c[0]}]=${c[2]:-}
			HINT[${c[0]}]=${c[3]:-}
		done < <(tail -n +2 "$dir/rubric.tsv")
	fi
}

# clean: text safe for XML and JSON: valid UTF-8, no control characters but
# tab and newline.
clean() {
	iconv -f UTF-8 -t UTF-8 -c 2>/dev/null | LC_ALL=C tr -d '\000-\010\013\014\016-\037\177'
}

# log NAME [LINES]: the test's log (its last LINES lines), cleaned.
log() {
	local f=$dir/tests/$1.log
	[ -f "$f" ] || return 0
	tail -n "${2:-200}" "$f" | clean
}

xml() {
	sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g'
}

# --- KTAP ----------------------------------------------------------------------

write_ktap() {
	local i dir_
	{
		echo "KTAP version 1"
		echo "# kweb-lab $stage on Linux ${INFO[kernel]}: ${INFO[total]}/${INFO[max]}"
		echo "1..${#N[@]}"
		for i in "${!N[@]}"; do
			if [ "${ST[$i]}" != pass ]; then
				log "${N[$i]}" 40 | sed 's/^/# /'
			fi
			case ${ST[$i]} in
			pass) dir_= ;;
			skip) dir_=" # SKIP" ;;
			timeout) dir_=" # TIMEOUT ${MS[$i]}" ;;
			error) dir_=" # ERROR ${MS[$i]}" ;;
			*) dir_= ;;
			esac
			case ${ST[$i]} in
			pass|skip) printf 'ok %d %s%s\n' $((i + 1)) "${N[$i]}" "$dir_" ;;
			*) printf 'not ok %d %s%s\n' $((i + 1)) "${N[$i]}" "$dir_" ;;
			esac
		done
	} | clean >"$dir/results.ktap"
}

# --- JUnit -------------------------------------------------------------------

write_junit() {
	local i fails=0 errors=0 skips=0 msg
	for i in "${!N[@]}"; do
		case ${ST[$i]} in
		pass) ;;
		skip) skips=$((skips + 1)) ;;
		timeout|error) errors=$((errors + 1)) ;;
		*) fails=$((fails + 1)) ;;
		esac
	done
	{
		echo '<?xml version="1.0" encoding="UTF-8"?>'
		printf '<testsuites name="kweb-lab" tests="%d" failures="%d" errors="%d" skipped="%d" time="%s">\n' \
			"${#N[@]}" "$fails" "$errors" "$skips" "${INFO[seconds]}"
		printf '  <testsuite name="%s" tests="%d" failures="%d" errors="%d" skipped="%d" time="%s" timestamp="%s" hostname="%s">\n' \
			"$stage" "${#N[@]}" "$fails" "$errors" "$skips" "${INFO[seconds]}" \
			"${INFO[started]%Z}" "$(uname -n | xml)"
		echo '    <properties>'
		for k in kernel release accel source answers total max; do
			printf '      <property name="%s" value="%s"/>\n' "$k" "$(printf '%s' "${INFO[$k]:-}" | clean | xml)"
		done
		echo '    </properties>'
		for i in "${!N[@]}"; do
			printf '    <testcase name="%s" classname="kweb.%s" time="%s">\n' \
				"${N[$i]}" "$stage" "${SE[$i]}"
			msg=$(printf '%s' "${MS[$i]}" | clean | xml)
			case ${ST[$i]} in
			pass) ;;
			skip) printf '      <skipped message="%s"/>\n' "$msg" ;;
			timeout|error)
				printf '      <error message="%s" type="%s">' "$msg" "${ST[$i]}"
				log "${N[$i]}" | xml
				echo '</error>'
				;;
			*)
				printf '      <failure message="%s" type="%s">' "$msg" "${ST[$i]}"
				log "${N[$i]}" | xml
				echo '</failure>'
				;;
			esac
			if [ "${ST[$i]}" = pass ] && [ -s "$dir/tests/${N[$i]}.log" ]; then
				printf '      <system-out>'
				log "${N[$i]}" | xml
				echo '</system-out>'
			fi
			echo '    </testcase>'
		done
		echo '  </testsuite>'
		echo '</testsuites>'
	} >"$dir/junit.xml"
}

# --- Gradescope ----------------------------------------------------------------

# feedback_text: the static feedback, as plain text.
feedback_text() {
	local f
	if [ -s "$dir/feedback/blanks.txt" ]; then
		echo "Blank checker:"
		clean <"$dir/feedback/blanks.txt"
		echo
	fi
	if [ -s "$dir/build.txt" ]; then
		echo "Compiler (W=1):"
		clean <"$dir/build.txt"
		echo
	fi
	for f in checkpatch sparse; do
		if [ -s "$dir/feedback/$f.txt" ]; then
			echo "$f:"
			clean <"$dir/feedback/$f.txt"
			echo
		fi
	done
}

write_json() {
	local i tmp status
	tmp=$(mktemp -d)
	: >"$tmp/tests.jsonl"
	for i in "${!N[@]}"; do
		{
			printf '%s\n' "${DESC[${N[$i]}]:-}"
			if [ "${ST[$i]}" != pass ]; then
				printf '%s: %s\n' "$(echo "${ST[$i]}" | tr a-z A-Z)" "${MS[$i]}"
				[ -z "${HINT[${N[$i]}]:-}" ] || printf 'Hint: %s\n' "${HINT[${N[$i]}]}"
				echo
				log "${N[$i]}" 120
			fi
		} | clean | head -c 16000 >"$tmp/out"
		status=failed
		[ "${ST[$i]}" != pass ] || status=passed
		jq -n --arg name "${N[$i]}" --argjson score "${SC[$i]}" \
			--argjson max "${MX[$i]}" --arg status "$status" \
			--rawfile output "$tmp/out" --arg vis "${VI[$i]}" \
			'{name: $name, score: $score, max_score: $max, status: $status,
			  output: $output, visibility: $vis}' >>"$tmp/tests.jsonl"
	done
	{
		printf '%s on Linux %s: %s/%s (%s)\n\n' "$stage" "${INFO[kernel]}" \
			"${INFO[total]}" "${INFO[max]}" "${INFO[outcome]}"
		feedback_text
	} | clean | head -c 32000 >"$tmp/summary"
	jq -s --argjson score "${INFO[total]}" --argjson max "${INFO[max]}" \
		--argjson t "$(printf '%.0f' "${INFO[seconds]}")" \
		--rawfile output "$tmp/summary" \
		'{score: $score, max_score: $max, execution_time: $t,
		  output: $output, visibility: "visible", tests: .}' \
		"$tmp/tests.jsonl" >"$dir/results.json"
	rm -rf "$tmp"
}

# --- Markdown ------------------------------------------------------------------

cell() {
	sed -e 's/|/\\|/g' -e 's/</\&lt;/g'
}

# fenced: a block of text, fenced so that nothing in it can close the fence.
fenced() {
	echo '````text'
	clean | sed 's/^````/ ````/'
	echo '````'
}

# write_md FILE AUDIENCE: student (hidden tests left out) or instructor.
write_md() {
	local file=$1 who=$2 i n shown_total shown_max bad=0 label vis f
	local blank where expr verdict
	if [ "$who" = student ]; then
		shown_total=${INFO[visible_total]} shown_max=${INFO[visible_max]}
	else
		shown_total=${INFO[total]} shown_max=${INFO[max]}
	fi
	{
		echo "# $stage: $shown_total/$shown_max"
		echo
		printf 'Graded `%s` on Linux %s%s, %s, in %s s.' \
			"${INFO[answers]:-${INFO[source]}}" "${INFO[kernel]}" \
			"${INFO[release]:+ (${INFO[release]}${INFO[accel]:+, ${INFO[accel]}})}" \
			"${INFO[started]}" "${INFO[seconds]}"
		[ "${INFO[outcome]}" = "all tests ran" ] || printf ' **%s**: nothing was run in the guest.' "${INFO[outcome]}"
		echo
		echo
		if [ "$who" = instructor ] && [ "${INFO[hidden_tests]}" -gt 0 ]; then
			echo "Students see ${INFO[visible_total]}/${INFO[visible_max]} (visible tests only)."
			echo
		fi
		if [ "$who" = instructor ] && [ -n "${INFO[reused]:-}" ]; then
			echo "The module is the same as that of \`${INFO[reused]}\` (the same normalized answers): its build and test results were reused; the static checks are this submission's own."
			echo
		fi
		echo '| Result | Test | Points | What it checks |'
		echo '| --- | --- | ---: | --- |'
		for i in "${!N[@]}"; do
			[ "$who" = instructor ] || [ "${VI[$i]}" = visible ] || continue
			label=$(echo "${ST[$i]}" | tr a-z A-Z)
			[ "${ST[$i]}" = pass ] || label="**$label**"
			vis=
			[ "${VI[$i]}" = visible ] || vis=' (hidden)'
			printf '| %s | `%s`%s | %s/%s | %s |\n' "$label" "${N[$i]}" "$vis" \
				"${SC[$i]}" "${MX[$i]}" "$(printf '%s' "${DESC[${N[$i]}]:-}" | cell)"
		done
		if [ "$who" = student ] && [ "${INFO[hidden_tests]}" -gt 0 ]; then
			n=$(( ${INFO[max]} - ${INFO[visible_max]} ))
			echo
			echo "${INFO[hidden_tests]} hidden test(s) worth $n point(s) are graded as well; your instructor releases their results."
		fi
		if [ -s "$dir/feedback/answers.tsv" ]; then
			echo
			echo '## Your answers'
			echo
			echo '| Blank | Where | Expression | Blank checker |'
			echo '| --- | --- | --- | --- |'
			while IFS=$'\t' read -r blank where expr verdict; do
				printf '| %s | %s | `%s` | %s |\n' "$blank" \
					"$(printf '%s' "$where" | cell)" \
					"$(printf '%s' "$expr" | sed 's/`/'"'"'/g' | cell)" "$verdict"
			done <"$dir/feedback/answers.tsv"
		fi
		if [ -s "$dir/feedback/blanks.txt" ]; then
			echo
			echo '## Blank checker'
			echo
			echo 'Each blank holds one C expression, in kernel style, in its simplest form,'
			echo "as \`checker/$stage/blanks.rules\` asks. These findings cost points only if"
			echo 'the rubric has a `static_blanks` test; the tests decide whether the module works.'
			echo
			fenced <"$dir/feedback/blanks.txt"
		fi
		for i in "${!N[@]}"; do
			[ "${ST[$i]}" != pass ] || continue
			[ "$who" = instructor ] || [ "${VI[$i]}" = visible ] || continue
			if [ $bad -eq 0 ]; then
				echo
				echo '## What went wrong'
			fi
			bad=1
			echo
			printf '### `%s`: %s, %s/%s\n\n' "${N[$i]}" \
				"$(echo "${ST[$i]}" | tr a-z A-Z)" "${SC[$i]}" "${MX[$i]}"
			[ -z "${DESC[${N[$i]}]:-}" ] ||
				printf -- '- What it checks: %s\n' "$(printf '%s' "${DESC[${N[$i]}]}" | cell)"
			printf -- '- What happened: %s\n' "$(printf '%s' "${MS[$i]:-see the log}" | cell)"
			[ -z "${HINT[${N[$i]}]:-}" ] ||
				printf -- '- Hint: %s\n' "$(printf '%s' "${HINT[${N[$i]}]}" | cell)"
			if [ -s "$dir/tests/${N[$i]}.log" ]; then
				echo
				echo '<details><summary>Test log</summary>'
				echo
				log "${N[$i]}" 80 | fenced
				echo
				echo '</details>'
			fi
		done
		if [ -s "$dir/build.txt" ]; then
			echo
			echo '## Compiler output (W=1)'
			echo
			fenced <"$dir/build.txt"
		fi
		for f in checkpatch sparse; do
			if [ -s "$dir/feedback/$f.txt" ]; then
				echo
				case $f in
				checkpatch) echo '## checkpatch.pl on your changes' ;;
				sparse) echo '## sparse' ;;
				esac
				echo
				fenced <"$dir/feedback/$f.txt"
			elif [ -s "$dir/feedback/$f.unavailable" ]; then
				echo
				echo "_$(cell <"$dir/feedback/$f.unavailable")_"
			fi
		done
	} >"$file"
}

write_all() {
	dir=$1
	[ -d "$dir" ] || die "no results folder $dir"
	load
	stage=${INFO[stage]}
	write_ktap
	write_junit
	write_json
	write_md "$dir/report.md" student
	write_md "$dir/report-instructor.md" instructor
}

case ${1:-} in
line) shift; line "$@" ;;
write) write_all "${2:?results folder}" ;;
*) die "usage: report.sh line STATUS SCORE MAX NAME SECONDS MESSAGE [VISIBILITY] | write DIR" ;;
esac
