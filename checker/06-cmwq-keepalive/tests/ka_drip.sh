# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# request_timeout=2 bounds a whole request, not each read: clients that
# send a valid request one byte every 500 ms (each byte well within any
# per-read timeout) are dropped about 2 s after their first byte, and
# stats/timed_out counts them; the server goes on serving.
. "$KW_LIB"
S=/sys/kernel/webserver/net/data/stats
kw_start request_timeout=2
to0=
[ ! -f "$S/timed_out" ] || read -r to0 <"$S/timed_out"
lim=$((3 + $(kw_secs 1)))
out=$(kwnet drip -c 5 -i 500 -e "$lim" -w "$(kw_secs 20)" 2>&1)
rc=$?
printf '%s\n' "$out" | sed 's/^/# /'
[ $rc = 0 ] ||
	kw_fail "with request_timeout=2, 5 clients sending a byte every 500 ms were not all dropped within $lim s of their first byte"
# the earliest close: not before 1 s (the deadline is 2 s)
min=$(printf '%s\n' "$out" | sed -n 's/.*closed [0-9]*\/[0-9]* after \([0-9]*\)\.\([0-9]\).*/\1\2/p')
[ -z "$min" ] || [ "$min" -ge 10 ] ||
	kw_fail "a dripping client was dropped $((min / 10)).$((min % 10)) s after its first byte, expected about 2 s (request_timeout=2)"
[ -f "$S/timed_out" ] || kw_fail "$S/timed_out does not exist"
read -r to1 <"$S/timed_out"
[ $((to1 - to0)) -eq 5 ] ||
	kw_fail "stats/timed_out grew by $((to1 - to0)) for 5 clients dropped at the request timeout, expected 5"
kw_run "the server does not serve after dropping the dripping clients" kwnet http -c 5
kw_unload
kw_no_sockets 9999
