# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# The real curl gets "HTTP/1.1 200 OK", a text/plain body whose length is
# the Content-Length, and Connection: close.
. "$KW_LIB"
kw_start
curl -si --max-time "$(kw_secs 10)" http://127.0.0.1:9999/ >resp ||
	kw_fail "curl -i http://127.0.0.1:9999/ failed (exit $?)"
tr -d '\r' <resp | sed -n '1,/^$/p' | sed 's/^/# /'
head -n 1 resp | grep -q '^HTTP/1.1 200 OK' ||
	kw_fail "curl got '$(head -n 1 resp | tr -d '\r')', expected 'HTTP/1.1 200 OK'"
grep -qi '^Content-Type: text/plain' resp || kw_fail "no 'Content-Type: text/plain' header"
grep -qi '^Connection: close' resp || kw_fail "no 'Connection: close' header"
body=$(curl -s --max-time "$(kw_secs 10)" http://127.0.0.1:9999/index.html) ||
	kw_fail "curl http://127.0.0.1:9999/index.html failed"
[ -n "$body" ] || kw_fail "the body is empty"
kw_run "the response is not well-formed HTTP" kwnet http -u /hello
kw_unload
