# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# A raw request typed through nc gets a CRLF status line, then the server
# closes the connection.
. "$KW_LIB"
kw_start
printf 'GET / HTTP/1.1\r\nHost: kweb\r\n\r\n' |
	timeout "$(kw_secs 10)" /usr/bin/nc.openbsd 127.0.0.1 9999 >resp ||
	kw_fail "nc did not end: the server did not close the connection"
first=$(head -n 1 resp)
[ "$first" = "$(printf 'HTTP/1.1 200 OK\r')" ] ||
	kw_fail "nc got '$(printf '%s' "$first" | tr -d '\r')', expected 'HTTP/1.1 200 OK' ending in CRLF"
kw_unload
