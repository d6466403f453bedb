# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# The statistics files: each reads one number and a newline; they count
# a known sequence of clients right (connections accepted, responses
# served, errors included, connections open now); a new namespace's
# counters are its own.
. "$KW_LIB"
S=/sys/kernel/webserver/net/data/stats
# st NAME: v = the number in stats file NAME (checked: digits, newline).
st() {
	f=$S/$1
	[ -f "$f" ] || kw_fail "$f does not exist"
	read -r v <"$f" || kw_fail "cannot read $f"
	case $v in '' | *[!0-9]*) kw_fail "$f reads '$v', expected a number" ;; esac
	[ "$(wc -c <"$f")" -eq $((${#v} + 1)) ] ||
		kw_fail "$f reads $(wc -c <"$f") bytes, expected one number and a newline ($((${#v} + 1)) bytes)"
}
# expect WHEN NAME=VALUE...: the stats files read these numbers.
expect() {
	when=$1
	shift
	for kv in "$@"; do
		st "${kv%%=*}"
		[ "$v" = "${kv#*=}" ] ||
			kw_fail "stats/${kv%%=*} reads $v $when, expected ${kv#*=}"
	done
}
# settle: wait (5 s, scaled) until stats/open is 0 again.
settle() {
	n=0
	while st open && [ "$v" != 0 ]; do
		[ $n -lt $(($(kw_secs 5) * 10)) ] ||
			kw_fail "stats/open still reads $v 5 s after $1 ended, expected 0"
		sleep 0.1
		n=$((n + 1))
	done
}
kw_load
for f in accepted served refused timed_out open; do st $f; done
expect "after insmod" accepted=0 served=0 refused=0 timed_out=0 open=0
kw_set_status 1
kw_wait_listen 9999
kw_run "GET / failed" kwnet http
settle "one GET"
expect "after one GET" accepted=1 served=1 open=0
kw_run "5 requests on one connection failed" kwnet keepalive -n 5
settle "5 requests on one connection"
expect "after 1 GET and 5 requests on one connection" accepted=2 served=6
kw_run "POST did not get 501" kwnet http -m POST -x 501
printf 'this is not http\r\n\r\n' >garbage
kw_run "a malformed request did not get 400" kwnet http -R garbage -x 400
settle "a POST and a malformed request"
expect "after 1 GET, 5 keep-alive requests, a POST (501) and a malformed request (400)" \
	accepted=4 served=8 refused=0 timed_out=0
kw_hold 3 60
n=0
while st open && [ "$v" != 3 ]; do
	[ $n -lt $(($(kw_secs 5) * 10)) ] || kw_fail "stats/open reads $v with 3 connections held, expected 3"
	sleep 0.1
	n=$((n + 1))
done
expect "with 3 connections held" accepted=7 served=8
kw_hold_end
settle "3 held connections"
kw_netns_new A
expect "in the initial namespace after namespace A was created" accepted=7
S=/mnt/A/kernel/webserver/net/data/stats
for f in accepted served refused timed_out open; do st $f; done
expect "in a new namespace" accepted=0 served=0 open=0
kw_set_status 1 "$(kw_ns_status A)"
n=0
until kw_in_ns A kwnet listening -p 9999 >/dev/null 2>&1; do
	[ $n -lt 50 ] || kw_fail "nothing listens on 9999 inside namespace A"
	sleep 0.1
	n=$((n + 1))
done
kw_run "namespace A's server does not answer" kw_in_ns A kwnet keepalive -n 3
settle "3 requests in namespace A"
expect "in namespace A after 3 requests on one connection there" accepted=1 served=3
S=/sys/kernel/webserver/net/data/stats
expect "in the initial namespace after 3 requests in namespace A" accepted=7 served=8
kw_netns_del A
kw_unload
