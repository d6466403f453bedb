# shellcheck shell=bash
# TAP for the kit's shell tests. Source it, then:
#   check WHAT CMD...   runs CMD; "ok N - WHAT", or "not ok N - WHAT" with
#                       CMD's output as diagnostic lines
#   tap_end             prints the plan; fails if any check failed
# TAP_LOG (a file for CMD's output) must be set before the first check;
# TAP_TRIM (default cat) trims the diagnostic lines, e.g. "tail -n 30".
n=0
failed=0

check() {
	local what=$1
	shift
	n=$((n + 1))
	if "$@" >"$TAP_LOG" 2>&1; then
		echo "ok $n - $what"
	else
		failed=$((failed + 1))
		echo "not ok $n - $what"
		sed 's/^/#   /' "$TAP_LOG" | ${TAP_TRIM:-cat}
	fi
}

tap_end() {
	echo "1..$n"
	[ "$failed" -eq 0 ]
}
