# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# "Connection: close" on HTTP/1.1, and a plain HTTP/1.0 request, are
# answered with "Connection: close" and the server closes the connection
# (nc ends without shutting its own side down); an HTTP/1.0 request with
# "Connection: keep-alive" gets "Connection: keep-alive" and stays open.
. "$KW_LIB"
kw_start idle_timeout=30
# closes NAME REQUEST: the server answers REQUEST with 200 and
# "Connection: close", then closes the connection by itself.
closes() {
	printf "%b" "$2" >"req.$1"
	timeout "$(kw_secs 5)" /usr/bin/nc.openbsd 127.0.0.1 9999 <"req.$1" >"resp.$1"
	rc=$?
	tr -d '\r' <"resp.$1" | sed -n '1,/^$/p' | sed "s/^/# $1: /"
	head -n 1 "resp.$1" | grep -q '^HTTP/1\.[01] 200 OK' ||
		kw_fail "$1: got '$(head -n 1 "resp.$1" | tr -d '\r')', expected a 200 OK status line"
	grep -qi '^Connection: *close' "resp.$1" ||
		kw_fail "$1: the response says '$(grep -i '^Connection:' "resp.$1" | tr -d '\r')', expected 'Connection: close'"
	[ "$rc" = 0 ] ||
		kw_fail "$1: the connection was still open $(kw_secs 5) s after the response with 'Connection: close' (the server must close it)"
}
closes http11-close 'GET / HTTP/1.1\r\nHost: kweb\r\nConnection: close\r\n\r\n'
closes http11-Close 'GET / HTTP/1.1\r\nHost: kweb\r\nconnection: Close\r\n\r\n'
closes http10 'GET / HTTP/1.0\r\n\r\n'
kw_run "curl --http1.0 did not get a complete answer" \
	curl -sf --http1.0 --max-time "$(kw_secs 5)" -o /dev/null http://127.0.0.1:9999/
# HTTP/1.0 with keep-alive: the answer says so and the connection stays.
(printf 'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n'; sleep "$(kw_secs 10)") |
	/usr/bin/nc.openbsd 127.0.0.1 9999 >resp.ka &
n=0
until grep -q '^Hello from kweb-lab!' resp.ka; do
	[ $n -lt $(($(kw_secs 5) * 10)) ] ||
		kw_fail "an HTTP/1.0 request with 'Connection: keep-alive' got no complete answer within $(kw_secs 5) s (got '$(head -n 1 resp.ka | tr -d '\r')')"
	sleep 0.1
	n=$((n + 1))
done
tr -d '\r' <resp.ka | sed -n '1,/^$/p' | sed 's/^/# http10-keep-alive: /'
grep -qi '^Connection: *keep-alive' resp.ka ||
	kw_fail "the answer to an HTTP/1.0 request with 'Connection: keep-alive' says '$(grep -i '^Connection:' resp.ka | tr -d '\r')', expected 'Connection: keep-alive'"
sleep 1
kwnet sockets -p 9999 -s ESTABLISHED >/dev/null 2>&1 &&
	kw_fail "the server closed the connection of an HTTP/1.0 request with 'Connection: keep-alive' 1 s after answering it (it must stay open)"
kw_unload
# shellcheck disable=SC2046 # one pid a word
kill $(jobs -p) 2>/dev/null
wait 2>/dev/null
kw_no_sockets 9999
