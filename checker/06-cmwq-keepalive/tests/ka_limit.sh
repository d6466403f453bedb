# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# max_conns=20: 20 connections held open are all accepted (stats/open
# reads 20, none refused); the 21st gets "503 Service Unavailable" and
# stats/refused counts it; once the 20 are released, new clients are
# served again.
. "$KW_LIB"
S=/sys/kernel/webserver/net/data/stats
# st NAME: v = the number in stats file NAME.
st() {
	[ -f "$S/$1" ] || kw_fail "$S/$1 does not exist"
	read -r v <"$S/$1" || kw_fail "cannot read $S/$1"
	case $v in '' | *[!0-9]*) kw_fail "$S/$1 reads '$v', expected a number" ;; esac
}
# wait_open N WHAT: stats/open reads N within 5 s (scaled).
wait_open() {
	n=0
	while st open && [ "$v" != "$1" ]; do
		[ $n -lt $(($(kw_secs 5) * 10)) ] ||
			kw_fail "stats/open reads $v $2, expected $1"
		sleep 0.1
		n=$((n + 1))
	done
}
kw_start max_conns=20 idle_timeout=60
r0=
[ ! -f "$S/refused" ] || { st refused && r0=$v; }
kw_hold 20 60
if [ -n "$r0" ]; then
	wait_open 20 "with 20 connections held (max_conns=20)"
else
	sleep 1
fi
kw_run "the 21st connection (max_conns=20) did not get 503 Service Unavailable" \
	kwnet http -x 503 -t "$(kw_secs 5)"
[ -n "$r0" ] || kw_fail "$S/refused does not exist"
st refused
[ $((v - r0)) -eq 1 ] ||
	kw_fail "stats/refused grew by $((v - r0)) with 20 connections held and one more over max_conns=20, expected 1 (the 20 held ones are within the limit)"
st open
[ "$v" = 20 ] || kw_fail "stats/open reads $v after a refused connection, expected 20 (the 20 held ones)"
kw_run "a second connection over the limit did not get 503 Service Unavailable" \
	kwnet http -x 503 -t "$(kw_secs 5)"
kw_hold_end
wait_open 0 "5 s after the 20 held connections were closed"
kw_run "after the 20 held connections closed, 20 new clients at once were not all served" \
	kwnet http -c 20 -t "$(kw_secs 10)"
st refused
[ $((v - r0)) -eq 2 ] ||
	kw_fail "stats/refused grew by $((v - r0)), expected 2 (20 clients at once after the held ones closed fit in max_conns=20)"
kw_unload
kw_no_sockets 9999
