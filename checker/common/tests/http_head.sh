# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# HEAD gets the headers of a GET (Content-Length included) and no body.
. "$KW_LIB"
kw_start
curl -sI --max-time "$(kw_secs 10)" http://127.0.0.1:9999/ >resp ||
	kw_fail "curl -I http://127.0.0.1:9999/ failed (exit $?)"
head -n 1 resp | grep -q '^HTTP/1.1 200 OK' ||
	kw_fail "curl -I got '$(head -n 1 resp | tr -d '\r')', expected 'HTTP/1.1 200 OK'"
get=$(kwnet http -v 2>/dev/null | tr -d '\r' | grep -i '^Content-Length:')
head=$(tr -d '\r' <resp | grep -i '^Content-Length:')
if [ -z "$head" ] || [ "$head" != "$get" ]; then
	kw_fail "HEAD says '$head' but GET says '$get'"
fi
kw_run "HEAD got a body or a malformed response" kwnet http -m HEAD
kw_unload
