#!/usr/bin/env bash
# Grade a whole class: a folder of submissions, or a quiz form's export.
#
#   grading/class.sh class STAGE SUBMISSIONS [KERNEL]   (make grade-class)
#   grading/class.sh quiz STAGE CSV [KERNEL]            (make grade-quiz)
#
# class: SUBMISSIONS holds one entry per student, named after the student:
# a folder (a copy of the stage folder, or a folder holding it, or holding
# an answers.txt) or an answers file ("AAAA = <expression>" lines; the
# student is the file name without .txt or .answers).
#
# quiz: CSV is the export of a quiz form: a header row, a student id column
# (ID_COLUMN=name, else the first of id, student, student id, student_id,
# sid, email, email address, username, login) and one column per blank,
# headed by its name (AAAA, "BBBB (line 394)", ...). A student who answered
# twice is graded on the last row; a malformed row is reported and skipped.
#
# Environment: KWEB_CLASS_OUT (default build/class/STAGE-NAME-KERNEL),
# KWEB_JOBS (grades at once; default: the number of cores), KWEB_TESTS,
# KWEB_INSTRUCTOR_PACK, KWEB_FEEDBACK, KWEB_JOB_TIMEOUT (seconds a grade may
# take, default 1800).
#
# Writes OUT/gradebook.csv (student, score, max_score, status, same_as,
# seconds, report, message) and OUT/students/ID/ (the student's results
# folder: report.md, report-instructor.md, results.json, junit.xml,
# results.ktap, ...). Submissions whose normalized answers are identical are
# graded once in the guest; the others reuse that grade, each with its own
# static checks. A broken submission scores 0 and the batch goes on; a
# grade that could not run is "error" in the gradebook. Exit status: 0 all
# graded, 1 some errors, 2 the batch could not run.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vm.sh"

mode=${1:-}
stage_arg=${2:-}
input=${3:-}
series=$(kernel_series "${4:-}")

case $mode in
class)
	[ -n "$input" ] || die "no submissions given: use SUBMISSIONS=folder/"
	[ -d "$input" ] || die "SUBMISSIONS=$input is not a folder"
	;;
quiz)
	[ -n "$input" ] || die "no quiz export given: use CSV=form.csv"
	[ -f "$input" ] || die "CSV=$input is not a file"
	;;
*) die "usage: class.sh class STAGE SUBMISSIONS [KERNEL] | quiz STAGE CSV [KERNEL]" ;;
esac
input=$(cd "$(dirname "$input")" && pwd)/$(basename "$input")
check_dir=$(stage_dir "$KWEB_ROOT/checker" "$stage_arg")
stage=$(basename "$check_dir")
[ -f "$check_dir/rubric" ] && [ -f "$check_dir/stage.conf" ] ||
	die "stage $stage has no rubric or stage.conf in $check_dir"
MODULE= SOURCES=
. "$check_dir/stage.conf"
jobs=${KWEB_JOBS:-$(nproc)}
case $jobs in ''|*[!0-9]*|0) die "KWEB_JOBS=$jobs: use a number of grades at once, 1 or more" ;; esac
job_timeout=${KWEB_JOB_TIMEOUT:-1800}

name=$(basename "$input")
name=${name%.csv}
out=${KWEB_CLASS_OUT:-$KWEB_BUILD/class/$stage-$(printf '%s' "$name" | tr -c 'A-Za-z0-9_.-' _)-$series}
rm -rf "$out"
mkdir -p "$out/students" "$out/log" "$out/answers" "$out/work"
out=$(cd "$out" && pwd)
t0=$(date +%s)

# --- once, before the batch ------------------------------------------------
# Everything grades share is made ready here, so that grades running in
# parallel only read it: host packages, the kernel, the guest's base image
# (KWEB_BASE_IMAGE), the accelerator probe, the blank checker, checkpatch.pl.
"$KWEB_ROOT/grading/deps.sh" grade
"$KWEB_ROOT/grading/kernel.sh" "$series"
base=$("$KWEB_ROOT/grading/image.sh" base)
accel=$(vm_accel "$(kernel_dir "$series")")
make -s -C "$KWEB_ROOT/checker/kwblank" OUT="$KWEB_BUILD/host-bin" >&2 ||
	die "building the blank checker (checker/kwblank) failed"
kwblank=$KWEB_BUILD/host-bin/kwblank
if [ "${KWEB_FEEDBACK:-1}" != 0 ]; then
	"$KWEB_ROOT/grading/feedback.sh" ensure "$series" >"$out/log/fetch.log" 2>&1 ||
		msg "checkpatch.pl is unavailable (see $out/log/fetch.log): grades go on without it"
fi
pristine=$out/work/pristine
if [ -d "$KWEB_ROOT/solutions/$stage" ]; then
	"$KWEB_ROOT/grading/stages.sh" one "$KWEB_ROOT/solutions/$stage" "$pristine"
else
	cp -r "$KWEB_ROOT/stages/$stage" "$pristine"
fi
blank_args=(--stage "$pristine")
for f in $SOURCES; do blank_args+=(--file "$f"); done
blanks=$(cd "$pristine" && grep -ohE '(^|[^A-Za-z0-9_])([A-Z])\2\2\2([^A-Za-z0-9_]|$)' \
	$SOURCES | tr -dc 'A-Z\n' | tr '\n' ' ')
[ -n "$blanks" ] || die "the pristine stage $stage has no blanks"

# --- the submissions ---------------------------------------------------------
declare -a IDS=()
declare -A KIND=() PATH_OF=() SAFE=() NOTE=() KEY=() REP=() RC=() SECS=()
declare -A USED=()

# safe_name ID: SAFE[ID] is a folder name for the student id, unique in
# this batch (set here, not printed: a subshell would forget USED).
safe_name() {
	local s try n=1
	s=$(printf '%s' "$1" | tr -c 'A-Za-z0-9._@+-' _)
	s=${s#.}
	[ -n "$s" ] || s=_
	try=$s
	while [ -n "${USED[$try]:-}" ]; do
		n=$((n + 1))
		try=$s~$n
	done
	USED[$try]=1
	SAFE[$1]=$try
}

# add ID KIND PATH [NOTE]: a submission; a second one of the same student
# is invalid, under its entry's own name.
add() {
	local id=$1 kind=$2 path=$3 note=${4:-}
	if [ -n "${KIND[$id]:-}" ]; then
		id=$(basename "$path")
		kind=invalid
		note="another entry is already the submission of $1"
	fi
	[ -z "$note" ] || NOTE[$id]=$note
	IDS+=("$id")
	KIND[$id]=$kind
	PATH_OF[$id]=$path
	safe_name "$id"
}

class_entries() {
	local e id
	for e in "$input"/*; do
		[ -e "$e" ] || [ -L "$e" ] || continue
		id=$(basename "$e")
		if [ -d "$e" ] && [ ! -L "$e" ]; then
			if [ ! -e "$e/${SOURCES%% *}" ] && [ ! -d "$e/$stage" ] && [ -f "$e/answers.txt" ]; then
				add "$id" answers "$e/answers.txt"
			else
				add "$id" folder "$e"
			fi
		elif [ -f "$e" ] && [ ! -L "$e" ]; then
			id=${id%.txt}
			id=${id%.answers}
			add "$id" answers "$e"
		else
			add "$id" invalid "$e" "neither a folder nor an answers file"
		fi
	done
}

# csv_records FILE: the CSV (RFC 4180: quoted fields, "" for a quote, line
# breaks inside quotes) as one record a line: ROW<US>NFIELDS<US>field...,
# fields separated by the unit separator, line breaks in a field made
# spaces; NFIELDS is "open" for a quoted field never closed.
csv_records() {
	sed '1s/^\xEF\xBB\xBF//' "$1" | awk -v US=$'\037' '
	function emit(  i, s) {
		s = row US nf
		for (i = 1; i <= nf; i++)
			s = s US f[i]
		print s
		nf = 0; cur = ""; started = 0
	}
	{
		sub(/\r$/, "")
		if (!inq) {
			row = NR
			nf = 0; cur = ""; started = 0
		} else {
			cur = cur " "
		}
		line = $0
		n = length(line)
		for (i = 1; i <= n; i++) {
			c = substr(line, i, 1)
			if (inq) {
				if (c == "\"") {
					if (substr(line, i + 1, 1) == "\"") {
						cur = cur "\""; i++
					} else {
						inq = 0
					}
				} else {
					cur = cur c
				}
			} else if (c == "\"" && !started) {
				inq = 1; started = 1
			} else if (c == ",") {
				f[++nf] = cur; cur = ""; started = 0
			} else {
				if (c == US)
					c = " "
				cur = cur c; started = 1
			}
		}
		if (!inq) {
			f[++nf] = cur
			emit()
		}
	}
	END {
		if (inq)
			print row US "open"
	}'
}

trim() {
	local s=$1
	s=${s#"${s%%[![:space:]]*}"}
	s=${s%"${s##*[![:space:]]}"}
	printf '%s' "$s"
}

quiz_entries() {
	local rec row nf id_col= i h key want b
	local -a hdr=() fld=()
	local -A col=() last_row=() rows=()
	local problems=$out/problems.txt
	: >"$problems"
	while IFS= read -r rec; do
		IFS=$'\037' read -r -a fld <<<"$rec"
		row=${fld[0]} nf=${fld[1]}
		fld=("${fld[@]:2}")
		if [ ${#hdr[@]} -eq 0 ]; then
			[ "$nf" != open ] || die "$input: the header row has a quote that is never closed"
			hdr=("${fld[@]}")
			want=$(printf '%s' "${ID_COLUMN:-}" | tr A-Z a-z)
			for i in "${!hdr[@]}"; do
				h=$(trim "${hdr[$i]}" | tr A-Z a-z)
				if [ -n "$want" ]; then
					[ "$h" != "$want" ] || { id_col=$i; break; }
				else
					case $h in
					id|student|"student id"|student_id|studentid|sid|email|"email address"|username|login)
						id_col=$i
						break
						;;
					esac
				fi
			done
			[ -n "$id_col" ] ||
				die "$input: no student id column${ID_COLUMN:+ named '$ID_COLUMN'} (columns: $(IFS=,; echo "${hdr[*]}")); set ID_COLUMN=name"
			for i in "${!hdr[@]}"; do
				h=$(trim "${hdr[$i]}")
				b=${h:0:4}
				# AAAA, or AAAA followed by a non-word character
				if [ "$b" = "${b:0:1}${b:0:1}${b:0:1}${b:0:1}" ] &&
					[[ $b =~ ^[A-Z]{4}$ ]] && [[ ! ${h:4:1} =~ [A-Za-z0-9_] ]]; then
					col[$b]=$i
				fi
			done
			for b in $blanks; do
				[ -n "${col[$b]:-}" ] ||
					die "$input: no column for blank $b of stage $stage (columns: $(IFS=,; echo "${hdr[*]}"))"
			done
			for b in "${!col[@]}"; do
				case " $blanks " in *" $b "*) ;; *) msg "$input: column $b is not a blank of stage $stage: ignored" ;; esac
			done
			continue
		fi
		if [ "$nf" = open ]; then
			echo "row $row: a quoted field is never closed: the rows from here on are skipped" >>"$problems"
			break
		fi
		[ "$nf" -gt 1 ] || [ -n "$(trim "${fld[0]:-}")" ] || continue	# an empty line
		if [ "$nf" -ne ${#hdr[@]} ]; then
			echo "row $row: $nf fields where the header has ${#hdr[@]}: skipped" >>"$problems"
			continue
		fi
		key=$(trim "${fld[$id_col]:-}")
		if [ -z "$key" ]; then
			echo "row $row: no student id: skipped" >>"$problems"
			continue
		fi
		rows[$key]="${rows[$key]:-}${rows[$key]:+, }$row"
		last_row[$key]=$row
		{
			echo "# $key, row $row of $(basename "$input")"
			for b in $blanks; do
				printf '%s = %s\n' "$b" "$(trim "$(printf '%s' "${fld[${col[$b]}]:-}" | tr '\n\r\t' '   ')")"
			done
		} >"$out/work/row-$row.txt"
	done < <(csv_records "$input")
	[ ${#hdr[@]} -gt 0 ] || die "$input is empty"
	# One entry per student, in the order of their first row.
	while IFS=$'\t' read -r _ key; do
		add "$key" answers ""
		PATH_OF[$key]=$out/answers/${SAFE[$key]}.txt
		cp "$out/work/row-${last_row[$key]}.txt" "${PATH_OF[$key]}"
		case ${rows[$key]} in
		*,*) NOTE[$key]="answered on rows ${rows[$key]}: row ${last_row[$key]} is graded" ;;
		esac
	done < <(for key in "${!last_row[@]}"; do
		printf '%s\t%s\n' "${rows[$key]%%,*}" "$key"; done | sort -n)
	if [ -s "$problems" ]; then
		msg "$(wc -l <"$problems") malformed row(s) in $(basename "$input") (see $problems):"
		sed 's/^/  /' "$problems" >&2
	fi
}

case $mode in
class) class_entries ;;
quiz) quiz_entries ;;
esac
[ ${#IDS[@]} -gt 0 ] || die "no submission in $input"

# --- one grade per normalized answer set ---------------------------------------
# key ID: the student's normalized answers (every blank's expression in its
# canonical form) when only the blanks were filled in; the sources' own hash
# when other lines changed too; nothing (graded alone) when the blank
# checker cannot read the submission.
key() {
	local id=$1 k=$out/work/key-${SAFE[$1]} dir f rc=0
	case ${KIND[$id]} in
	answers)
		"$kwblank" check "${blank_args[@]}" --answers "${PATH_OF[$id]}" \
			--key "$k" >/dev/null 2>&1 || rc=$?
		;;
	folder)
		dir=${PATH_OF[$id]}
		[ ! -d "$dir/$stage" ] || dir=$dir/$stage
		for f in $SOURCES; do
			[ -f "$dir/$f" ] && [ ! -L "$dir/$f" ] || return 0
		done
		"$kwblank" check "${blank_args[@]}" --submission "$dir" \
			--key "$k" >/dev/null 2>&1 || rc=$?
		if [ $rc -le 1 ] && grep -qx changed "$k"; then
			(cd "$dir" && cat $SOURCES) | sha256sum | sed 's/^/source:/; s/ .*//'
			return 0
		fi
		;;
	*) return 0 ;;
	esac
	[ $rc -le 1 ] || return 0
	sha256sum <"$k" | sed 's/^/answers:/; s/ .*//'
}

declare -A REP_OF_KEY=()
for id in "${IDS[@]}"; do
	KEY[$id]=$(key "$id")
	[ -n "${KEY[$id]}" ] || continue
	if [ -n "${REP_OF_KEY[${KEY[$id]}]:-}" ]; then
		REP[$id]=${REP_OF_KEY[${KEY[$id]}]}
	else
		REP_OF_KEY[${KEY[$id]}]=$id
	fi
done

# --- the grades, in parallel ---------------------------------------------------
total=${#IDS[@]}
done_n=0
running=0
declare -A JOB_ID=() JOB_T0=()

# start ID: grade one student in the background.
start() {
	local id=$1 safe=${SAFE[$1]} src=stages
	local -a envs=(KWEB_OUT="$out/students/$safe" KWEB_QUIET= KWEB_BASE_IMAGE="$base")
	case ${KIND[$id]} in
	answers) envs+=(KWEB_ANSWERS="${PATH_OF[$id]}") ;;
	folder) src=${PATH_OF[$id]} ;;
	esac
	# A grade that could not run leaves nothing to reuse: grade anew.
	if [ -n "${REP[$id]:-}" ] && [ "${RC[${REP[$id]}]:-2}" -gt 1 ]; then
		unset "REP[$id]"
	fi
	[ -z "${REP[$id]:-}" ] || envs+=(KWEB_REUSE="$out/students/${SAFE[${REP[$id]}]}")
	env "${envs[@]}" timeout -k 30 "$job_timeout" \
		"$KWEB_ROOT/grading/grade.sh" "$stage" "$src" "$series" \
		>"$out/log/$safe.txt" 2>&1 </dev/null &
	JOB_ID[$!]=$id
	JOB_T0[$!]=$(now_ms)
	running=$((running + 1))
}

# tidy DIR: drop what only the guest needed (the image, the overlay).
tidy() {
	rm -rf "$1/initrd.cpio" "$1/overlay.cpio" "$1/overlay" "$1/filled" "$1/pristine"
	[ ! -d "$1/module" ] || find "$1/module" -type f ! -name '*.c' ! -name '*.log' -delete
}

# info DIR KEY: a value of DIR/results.info.
info() {
	sed -n "s/^$2\t//p" "$1/results.info" 2>/dev/null || :
}

# error_of ID: why the grade of ID could not run, from its log.
error_of() {
	local m
	m=$(grep -m1 'kweb: error:' "$out/log/${SAFE[$1]}.txt" 2>/dev/null |
		sed 's/.*kweb: error: //' || :)
	printf '%s\n' "${m:-grading could not run}"
}

# reap: wait for one grade to end and say how it went.
reap() {
	local pid rc=0 id res what
	wait -n -p pid || rc=$?
	id=${JOB_ID[$pid]}
	unset "JOB_ID[$pid]"
	running=$((running - 1))
	done_n=$((done_n + 1))
	RC[$id]=$rc
	SECS[$id]=$(awk -v a="${JOB_T0[$pid]}" -v b="$(now_ms)" 'BEGIN { printf "%.1f", (b - a) / 1000 }')
	res=$out/students/${SAFE[$id]}
	[ ! -d "$res" ] || tidy "$res"
	# Graded means results: anything else is an error of the grader.
	if [ $rc -le 1 ] && [ ! -f "$res/results.info" ]; then
		RC[$id]=2
		rc=2
	fi
	case $rc in
	0|1) what="$(info "$res" total)/$(info "$res" max)" ;;
	124|137) what="error: the grade took longer than $job_timeout s" ;;
	*) what="error: $(error_of "$id")" ;;
	esac
	[ -z "${REP[$id]:-}" ] || what="$what (same answers as ${REP[$id]})"
	printf '[%d/%d] %s: %s, %ss\n' "$done_n" "$total" "$id" "$what" "${SECS[$id]}"
}

pool() {
	local id
	for id in "$@"; do
		while [ $running -ge "$jobs" ]; do reap; done
		start "$id"
	done
	while [ $running -gt 0 ]; do reap; done
}

echo "Grading ${#IDS[@]} submission(s) of $stage on Linux $series ($accel), $jobs at a time"
first=() rest=()
for id in "${IDS[@]}"; do
	if [ "${KIND[$id]}" = invalid ]; then
		done_n=$((done_n + 1))
		printf '[%d/%d] %s: invalid: %s\n' "$done_n" "$total" "$id" "${NOTE[$id]}"
	elif [ -n "${REP[$id]:-}" ]; then
		rest+=("$id")
	else
		first+=("$id")
	fi
done
# Each distinct answer set is graded in the guest first; the others then
# reuse its results.
pool ${first[@]+"${first[@]}"}
pool ${rest[@]+"${rest[@]}"}

# --- the gradebook ---------------------------------------------------------------
csv() {
	local s=$1
	s=${s//\"/\"\"}
	printf '"%s"' "$s"
}

errors=0
graded=0
{
	echo 'student,score,max_score,status,same_as,seconds,report,message'
	for id in "${IDS[@]}"; do
		res=$out/students/${SAFE[$id]}
		score= max= status= message=${NOTE[$id]:-} report=
		if [ "${KIND[$id]}" = invalid ]; then
			status=invalid
		elif [ "${RC[$id]}" -le 1 ]; then
			status=graded
			graded=$((graded + 1))
			score=$(info "$res" total)
			max=$(info "$res" max)
			report=students/${SAFE[$id]}/report.md
			m=$(info "$res" outcome)
			[ "$m" = "all tests ran" ] || message="$m${message:+; $message}"
		else
			status=error
			errors=$((errors + 1))
			case ${RC[$id]} in
			124|137) m="the grade took longer than $job_timeout s" ;;
			*) m=$(error_of "$id") ;;
			esac
			message="$m: see log/${SAFE[$id]}.txt${message:+; $message}"
		fi
		printf '%s,%s,%s,%s,%s,%s,%s,%s\n' "$(csv "$id")" "$score" "$max" "$status" \
			"$(csv "${REP[$id]:-}")" "${SECS[$id]:-}" "$(csv "$report")" "$(csv "$message")"
	done
} >"$out/gradebook.csv"

reused=0
for id in "${IDS[@]}"; do
	[ -z "${REP[$id]:-}" ] || reused=$((reused + 1))
done
echo "Gradebook: $out/gradebook.csv"
echo "$total submission(s): $graded graded ($((graded - reused)) on their own, $reused reusing the grade of an identical answer set), $errors error(s), in $(( $(date +%s) - t0 )) s"
[ -s "$out/problems.txt" ] && echo "Malformed rows: $out/problems.txt" || :
[ "$errors" -eq 0 ]
