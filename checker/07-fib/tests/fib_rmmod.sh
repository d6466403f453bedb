# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# rmmod while a client waits for an answer that takes several seconds: it
# returns within 2 s (scaled), and nothing is left open. Stopping closes the
# connection, and the computation must notice it at its next step.
. "$KW_LIB"
kw_start fib_max=20000000
big=$(kw_fib_big 8) || kw_fail "$big"
kw_note "F($big) takes about 8 s here"
read -r accepted </sys/kernel/webserver/net/data/stats/accepted
curl -s -o /dev/null --max-time "$(kw_secs 60)" "http://127.0.0.1:9999/fib/$big" &
client=$!
kw_wait_stat accepted $((accepted + 1))
sleep 1
kw_unload 2
wait $client 2>/dev/null
rc=$?
[ $rc -ne 0 ] ||
	kw_note "curl got the whole answer before rmmod: F($big) was quicker than expected"
kw_no_sockets 9999
