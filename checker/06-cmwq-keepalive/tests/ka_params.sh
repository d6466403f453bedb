# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# keepalive=0 makes every response "Connection: close", one request per
# connection; max_conns, request_timeout and idle_timeout out of range
# (0, -1, too large) make insmod fail with EINVAL, while the ends of the
# ranges are accepted.
. "$KW_LIB"
for p in max_conns=0 max_conns=-1 max_conns=65537 \
	request_timeout=0 request_timeout=-1 request_timeout=3601 \
	idle_timeout=0 idle_timeout=-1 idle_timeout=3601; do
	kw_load_rejected "Invalid argument" "$p"
done
for p in "max_conns=1 request_timeout=1 idle_timeout=1" \
	"max_conns=65536 request_timeout=3600 idle_timeout=3600"; do
	# shellcheck disable=SC2086 # one parameter a word
	out=$(insmod "$KW_KO" $p 2>&1) ||
		kw_fail "insmod with $p (the ends of the ranges) failed: $out"
	kw_unload
done
kw_start keepalive=0
curl -si --max-time "$(kw_secs 10)" http://127.0.0.1:9999/ >resp ||
	kw_fail "curl -i http://127.0.0.1:9999/ failed (exit $?) with keepalive=0"
head -n 1 resp | grep -q '^HTTP/1.1 200 OK' ||
	kw_fail "with keepalive=0 curl got '$(head -n 1 resp | tr -d '\r')', expected 'HTTP/1.1 200 OK'"
grep -qi '^Connection: *close' resp ||
	kw_fail "with keepalive=0 the response says '$(grep -i '^Connection:' resp | tr -d '\r')', expected 'Connection: close'"
set --
for i in 1 2 3 4 5; do set -- "$@" -o /dev/null "http://127.0.0.1:9999/$i"; done
out=$(curl -s --max-time "$(kw_secs 10)" -w '%{http_code} %{num_connects}\n' "$@") ||
	kw_fail "curl with 5 URLs failed (exit $?) with keepalive=0"
ok=$(printf '%s\n' "$out" | grep -c '^200 ')
conns=$(printf '%s\n' "$out" | awk '{ n += $2 } END { print n + 0 }')
[ "$ok" = 5 ] || kw_fail "with keepalive=0 curl got 200 for $ok of 5 URLs"
[ "$conns" = 5 ] ||
	kw_fail "with keepalive=0 curl needed $conns connections for 5 URLs, expected 5 (one request per connection)"
printf 'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n' >req
timeout "$(kw_secs 5)" /usr/bin/nc.openbsd 127.0.0.1 9999 <req >resp ||
	kw_fail "with keepalive=0 the server did not close the connection of an HTTP/1.0 keep-alive request"
grep -qi '^Connection: *close' resp ||
	kw_fail "with keepalive=0 the response to an HTTP/1.0 keep-alive request says '$(grep -i '^Connection:' resp | tr -d '\r')', expected 'Connection: close'"
kw_unload
kw_no_sockets 9999
