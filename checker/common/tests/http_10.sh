# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# An HTTP/1.0 client (curl --http1.0) is answered too.
. "$KW_LIB"
kw_start
out=$(curl -si --http1.0 --max-time "$(kw_secs 10)" http://127.0.0.1:9999/) ||
	kw_fail "curl --http1.0 failed (exit $?)"
printf '%s\n' "$out" | head -n 1 | grep -q '^HTTP/1\.[01] 200' ||
	kw_fail "curl --http1.0 got '$(printf '%s\n' "$out" | head -n 1)'"
kw_run "an HTTP/1.0 request was not answered properly" kwnet http -V 1.0
kw_unload
