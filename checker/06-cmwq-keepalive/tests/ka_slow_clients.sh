# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# 300 slow clients (each sending its request one byte a second, default
# timeouts) do not keep a new client waiting: it is accepted and served
# within 1 s (scaled), and so are 10 more. A server whose accept work waits
# in the same queue as work items blocked on those clients is stuck.
. "$KW_LIB"
kw_start
kwnet drip -c 300 -i 1000 -w "$(kw_secs 20)" >drip.out 2>&1 &
drip=$!
n=0
until grep -q ready drip.out; do
	kill -0 $drip 2>/dev/null || kw_fail "300 dripping clients could not start: $(cat drip.out)"
	[ $n -lt $(($(kw_secs 10) * 10)) ] || kw_fail "300 dripping clients were not connected within $(kw_secs 10) s: $(cat drip.out)"
	sleep 0.1
	n=$((n + 1))
done
sleep 1
kw_run "with 300 slow clients connected, a new client was not served within $(kw_secs 1) s" \
	kwnet http -t "$(kw_secs 1)"
kw_run "with 300 slow clients connected, curl was not served within $(kw_secs 1) s" \
	curl -sf --max-time "$(kw_secs 1)" -o /dev/null http://127.0.0.1:9999/
kw_run "with 300 slow clients connected, 10 new clients were not all served within $(kw_secs 2) s" \
	kwnet http -c 10 -t "$(kw_secs 2)"
kill $drip 2>/dev/null
wait $drip 2>/dev/null
kw_unload 5
kw_no_sockets 9999
