# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# rmmod while a client waits for an answer that takes several seconds: it
# returns within 2 s (scaled), and nothing is left open. Stopping closes the
# connection, and the computation must notice it at its next step.
#
# The computation must outlast rmmod's limit by far: a server that does
# not stop it makes rmmod wait for its end, and that must be later than
# 1 s (the wait below) plus the limit, even when kw_fib_big's estimate is
# twice too long (CI saw one 2.3 times too long: F(N) "about 8 s" ended
# within 3.5 s, under the limit of 6 s then). So 4 times the limit, plus 1.
. "$KW_LIB"
kw_start fib_max=20000000
want=$(($(kw_secs 2) * 4 + 1))
big=$(kw_fib_big $want) || kw_fail "$big"
kw_note "F($big) takes about $want s here"
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
