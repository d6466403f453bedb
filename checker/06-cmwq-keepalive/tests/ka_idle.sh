# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# idle_timeout=2: a connection with no request in progress is closed by
# the server about 2 s after it went idle, not before 1 s, both a fresh
# connection that never sends anything and a keep-alive connection after
# its first response; stats/timed_out counts both. Each request starts
# the idle time anew: 7 requests 0.5 s apart on one connection are all
# answered.
. "$KW_LIB"
S=/sys/kernel/webserver/net/data/stats
# now: the time since boot in hundredths of a second.
now() {
	awk '{ printf "%d\n", $1 * 100 }' /proc/uptime
}
# server_open: a server-side connection on port 9999 is still established.
server_open() {
	! kwnet sockets -p 9999 -s ESTABLISHED >/dev/null 2>&1
}
# idle_closed WHAT T0: the server closes the one connection at least 1 s
# and at most 4.2 s after T0. Not scaled for a slow guest: timers keep
# real time even under emulation, and a server that ignores idle_timeout
# and keeps its default of 5 s must fail here.
idle_closed() {
	limit=420
	while server_open; do
		t=$(($(now) - $2))
		[ $t -le $limit ] ||
			kw_fail "$1 was still open $((t / 100)).$((t % 100 / 10)) s after it went idle, with idle_timeout=2"
		sleep 0.05
	done
	t=$(($(now) - $2))
	kw_note "$1 closed by the server after $((t / 100)).$((t % 100 / 10)) s idle"
	[ $t -ge 100 ] ||
		kw_fail "$1 was closed $((t / 100)).$((t % 100 / 10)) s after it went idle, expected about 2 s (idle_timeout=2)"
}
kw_start idle_timeout=2
to0=
[ ! -f "$S/timed_out" ] || read -r to0 <"$S/timed_out"
# A fresh connection that sends nothing.
sleep 30 | /usr/bin/nc.openbsd 127.0.0.1 9999 >/dev/null &
nc1=$!
n=0
until server_open; do
	[ $n -lt $(($(kw_secs 5) * 20)) ] || kw_fail "nc could not connect to 127.0.0.1:9999"
	sleep 0.05
	n=$((n + 1))
done
idle_closed "a fresh connection with no request" "$(now)"
kill $nc1 2>/dev/null
# A keep-alive connection after its first response.
(printf 'GET / HTTP/1.1\r\nHost: kweb\r\n\r\n'; sleep 30) |
	/usr/bin/nc.openbsd 127.0.0.1 9999 >resp &
nc2=$!
n=0
until grep -q '^Hello from kweb-lab!' resp; do
	[ $n -lt $(($(kw_secs 5) * 20)) ] ||
		kw_fail "GET / on a new connection got no complete answer within $(kw_secs 5) s (got '$(head -n 1 resp | tr -d '\r')')"
	sleep 0.05
	n=$((n + 1))
done
t0=$(now)
server_open ||
	kw_fail "the server closed an HTTP/1.1 connection right after its first response (idle_timeout=2: it must stay open about 2 s)"
idle_closed "a keep-alive connection after one response" "$t0"
kill $nc2 2>/dev/null
[ -f "$S/timed_out" ] || kw_fail "$S/timed_out does not exist"
read -r to1 <"$S/timed_out"
[ $((to1 - to0)) -eq 2 ] ||
	kw_fail "stats/timed_out grew by $((to1 - to0)) for 2 connections closed for idleness, expected 2"
# 7 requests 0.5 s apart: 3 s in all, longer than idle_timeout, while
# each gap leaves 1.5 s to spare. A guest that stalls for longer than that
# between a response and the next request (the debug kernel under
# emulation can) makes a right server look wrong, so up to 3 tries; a
# server whose idle time does not start anew fails every one.
try=1
while :; do
	: >resp7
	{
		for i in 1 2 3 4 5 6; do
			printf 'GET /%d HTTP/1.1\r\nHost: kweb\r\n\r\n' $i
			sleep 0.5
		done
		printf 'GET /7 HTTP/1.1\r\nHost: kweb\r\n\r\n'
		sleep "$(kw_secs 10)"
	} | /usr/bin/nc.openbsd 127.0.0.1 9999 >resp7 &
	nc3=$!
	n=0
	while [ "$(grep -c '^HTTP/1.1 200' resp7)" -lt 7 ] && kill -0 $nc3 2>/dev/null &&
		[ $n -lt $((30 + $(kw_secs 5) * 10)) ]; do
		sleep 0.1
		n=$((n + 1))
	done
	kill $nc3 2>/dev/null
	got=$(grep -c '^HTTP/1.1 200' resp7)
	[ "$got" != 7 ] || break
	[ $try -lt 3 ] ||
		kw_fail "7 requests 0.5 s apart on one connection (idle_timeout=2) got $got responses, expected 7 (3 tries): each answered request must start the idle time anew"
	kw_note "try $try: 7 requests 0.5 s apart got $got responses; again"
	try=$((try + 1))
done
kw_unload
kw_no_sockets 9999
