# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# 50 requests written in one go (a mix of GET and HEAD, the last with
# "Connection: close") are answered in order, 50 responses, the last
# with "Connection: close", then the server closes (by itself: the client
# keeps its side open, and the idle timeout is far off); kwnet pipeline
# checks the same strictly.
. "$KW_LIB"
kw_start idle_timeout=60
# The methods: HEAD where i % 3 == 1, GET elsewhere (the expected shape
# string has G for a response with a body, H for one without).
want=
i=0
while [ $i -lt 50 ]; do
	if [ $((i % 3)) = 1 ]; then m=HEAD; else m=GET; fi
	want="$want$(printf '%.1s' $m)"
	conn=
	[ $i != 49 ] || conn='Connection: close\r\n'
	printf '%s /%d HTTP/1.1\r\nHost: kweb\r\n%b\r\n' $m $i "$conn"
	i=$((i + 1))
done >reqs
timeout "$(kw_secs 10)" /usr/bin/nc.openbsd 127.0.0.1 9999 <reqs >resp
rc=$?
# The shape of what came back: one letter per status line, G when a body
# line follows the head, H when the next status line (or the end) does.
got=$(tr -d '\r' <resp | awk '
	/^HTTP\/1\.1 200 OK$/ { if (r) s = s (body ? "G" : "H"); r = 1; head = 1; body = 0; next }
	/^HTTP\// { if (r) s = s (body ? "G" : "H"); r = 1; head = 1; body = 0; bad = 1; next }
	head && $0 == "" { head = 0; next }
	!head && $0 == "Hello from kweb-lab!" { body = 1 }
	END { if (r) s = s (body ? "G" : "H"); if (bad) s = s " (not all 200 OK)"; print s }')
n=$(grep -c '^HTTP/' resp)
kw_note "responses: $n, shapes $got"
[ "$got" = "$want" ] ||
	kw_fail "50 pipelined requests got $n responses shaped '$got', expected '$want' (G: a GET's response with its body, H: a HEAD's, without; in the order of the requests)"
last=$(tr -d '\r' <resp | awk '/^HTTP\// { c = "" } /^[Cc]onnection:/ { c = $0 } END { print c }')
printf '%s\n' "$last" | grep -qi '^Connection: *close' ||
	kw_fail "the response to the last request (with 'Connection: close') says '$last', expected 'Connection: close'"
[ "$rc" = 0 ] ||
	kw_fail "nc did not end within $(kw_secs 10) s: the server did not close the connection after answering 'Connection: close'"
kw_run "kwnet pipeline -n 50 failed" kwnet pipeline -n 50 -t "$(kw_secs 10)"
kw_run "kwnet pipeline -n 200 failed" kwnet pipeline -n 200 -t "$(kw_secs 10)"
kw_unload
kw_no_sockets 9999
