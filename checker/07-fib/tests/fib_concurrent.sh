# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# While two clients wait for answers of a few seconds each, other clients
# are answered within 1 s (scaled): the computations run in work items of
# their own, on an unbound workqueue, and give the CPU up when others need
# it. A server that computes under a lock, in the accept work, or on a
# workqueue that runs one item at a time keeps everyone waiting.
. "$KW_LIB"
S=/sys/kernel/webserver/net/data/stats
kw_start fib_max=20000000
big=$(kw_fib_big 4) || kw_fail "$big"
kw_note "F($big) takes about 4 s here"
read -r accepted <"$S/accepted" || kw_fail "cannot read $S/accepted"
curl -s -o big1.out --max-time "$(kw_secs 120)" "http://127.0.0.1:9999/fib/$big" &
p1=$!
curl -s -o big2.out --max-time "$(kw_secs 120)" "http://127.0.0.1:9999/fib/$((big - 1))" &
p2=$!
# Both connected, and a moment for their requests to be read.
kw_wait_stat accepted $((accepted + 2))
sleep 1
i=0
while [ $i -lt 3 ]; do
	kw_run "GET / was not answered within $(kw_secs 1) s while two clients waited for F(N)" \
		kwnet http -t "$(kw_secs 1)"
	kw_run "/fib/10, /fib/1000 were not answered within $(kw_secs 1) s while two clients waited for F(N)" \
		kwfib verify -k -t "$(kw_secs 1)" 10 1000
	i=$((i + 1))
done
kill -0 $p1 2>/dev/null || kill -0 $p2 2>/dev/null ||
	kw_note "both long answers came before the short ones were done: F($big) was quicker than expected"
wait $p1 || kw_fail "F($big) was not answered (curl's exit status $?)"
wait $p2 || kw_fail "F($((big - 1))) was not answered (curl's exit status $?)"
for n in "$big" "$((big - 1))"; do
	f=big1.out
	[ "$n" = "$big" ] || f=big2.out
	want=$(kwfib digits "$n")
	got=$(wc -c <$f)
	[ "$got" = "$want" ] || kw_fail "F($n) came with $got digits, expected $want"
done
kw_unload
kw_no_sockets 9999
