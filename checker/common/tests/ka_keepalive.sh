# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# HTTP/1.1 is persistent by default: 100 GETs, then 20 HEADs, one after
# the other on one connection, every response well-formed; then 10 such
# connections at once. idle_timeout=30, and each response must come within
# 2 s (scaled): a server whose io work waits for its idle deadline before
# it reads a request that has come fails at once instead of crawling.
. "$KW_LIB"
kw_start idle_timeout=30
kw_run "100 GET requests on one HTTP/1.1 connection were not all answered, each within $(kw_secs 2) s (does data that comes run the io work at once, or only at its deadline?)" \
	kwnet keepalive -n 100 -t "$(kw_secs 2)"
kw_run "20 HEAD requests on one HTTP/1.1 connection were not all answered" \
	kwnet keepalive -n 20 -m HEAD -t "$(kw_secs 2)"
i=0
while [ $i -lt 10 ]; do
	kwnet keepalive -n 20 -t "$(kw_secs 10)" >ka.$i 2>&1 &
	echo $! >pid.$i
	i=$((i + 1))
done
bad=
i=0
while [ $i -lt 10 ]; do
	wait "$(cat pid.$i)" || bad="$bad $i"
	i=$((i + 1))
done
if [ -n "$bad" ]; then
	for i in $bad; do sed "s/^/# client $i: /" "ka.$i"; done
	kw_fail "of 10 connections at once with 20 requests each, client(s)$bad failed"
fi
kw_unload
kw_no_sockets 9999
