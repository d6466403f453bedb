# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# While two clients wait for answers of a few seconds each, other clients
# are answered within 1 s (scaled): the computations run in work items of
# their own, on an unbound workqueue, and give the CPU up when others need
# it. A server that computes under a lock, in the accept work, or on a
# workqueue that runs one item at a time keeps everyone waiting.
. "$KW_LIB"
kw_start fib_max=20000000
big=$(kw_fib_big 4) || kw_fail "$big"
kw_note "F($big) takes about 4 s here"
kwfib verify -t "$(kw_secs 120)" "$big" >big1.out 2>&1 &
p1=$!
kwfib verify -t "$(kw_secs 120)" "$((big - 1))" >big2.out 2>&1 &
p2=$!
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
wait $p1 || kw_fail "F($big) was wrong or not answered: $(tail -n 3 big1.out)"
wait $p2 || kw_fail "F($((big - 1))) was wrong or not answered: $(tail -n 3 big2.out)"
kw_unload
kw_no_sockets 9999
