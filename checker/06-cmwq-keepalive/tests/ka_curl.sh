# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# HTTP/1.1 keep-alive with the real curl: the 200 response says
# "Connection: keep-alive", and 100 URLs on one command line are served on
# ONE connection (curl's num_connects adds up to 1; the server's stats
# count 1 connection accepted and 100 responses).
. "$KW_LIB"
S=/sys/kernel/webserver/net/data/stats
# st NAME: v = the number in stats file NAME ('' when there is no such file).
st() {
	v=
	[ -f "$S/$1" ] || return 0
	read -r v <"$S/$1" || kw_fail "cannot read $S/$1"
	case $v in '' | *[!0-9]*) kw_fail "$S/$1 reads '$v', expected a number" ;; esac
}
# st_delta NAME BEFORE WANT: stats file NAME grew by WANT since BEFORE.
st_delta() {
	st "$1"
	[ -n "$v" ] || kw_fail "$S/$1 does not exist"
	[ -n "$2" ] || kw_fail "$S/$1 did not exist before the requests"
	[ $((v - $2)) -eq "$3" ] ||
		kw_fail "stats/$1 grew by $((v - $2)) over 100 URLs on one curl command line, expected $3"
}
kw_start
curl -si --max-time "$(kw_secs 10)" http://127.0.0.1:9999/ >resp ||
	kw_fail "curl -i http://127.0.0.1:9999/ failed (exit $?)"
tr -d '\r' <resp | sed -n '1,/^$/p' | sed 's/^/# /'
head -n 1 resp | grep -q '^HTTP/1.1 200 OK' ||
	kw_fail "curl got '$(head -n 1 resp | tr -d '\r')', expected 'HTTP/1.1 200 OK'"
grep -qi '^Connection: *keep-alive' resp ||
	kw_fail "the 200 response to an HTTP/1.1 request says '$(grep -i '^Connection:' resp | tr -d '\r')', expected 'Connection: keep-alive'"
st accepted
a0=$v
st served
s0=$v
set --
i=0
while [ $i -lt 100 ]; do
	set -- "$@" -o /dev/null "http://127.0.0.1:9999/$i"
	i=$((i + 1))
done
out=$(curl -s --max-time "$(kw_secs 30)" -w '%{http_code} %{num_connects}\n' "$@") ||
	kw_fail "curl with 100 URLs failed (exit $?)"
ok=$(printf '%s\n' "$out" | grep -c '^200 ')
conns=$(printf '%s\n' "$out" | awk '{ n += $2 } END { print n + 0 }')
kw_note "100 URLs: $ok answered 200, $conns connection(s)"
[ "$ok" = 100 ] || kw_fail "curl got 200 for $ok of 100 URLs"
[ "$conns" = 1 ] ||
	kw_fail "curl needed $conns connections for 100 URLs, expected 1 (the server must keep the connection open after each response)"
st_delta accepted "$a0" 1
st_delta served "$s0" 100
kw_unload
kw_no_sockets 9999
