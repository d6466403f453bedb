# Writing 0 while clients hold connections returns promptly, stops
# listening, and leaves nothing open on the server side.
. "$KW_LIB"
kw_load
kw_set_status 1
kw_wait_listen 9999
kwnet hold -c 5 -w 60 >hold.out 2>&1 &
hold=$!
n=0
until grep -q ready hold.out; do
	[ $n -lt $(($(kw_secs 10) * 10)) ] || kw_fail "5 clients could not connect: $(cat hold.out)"
	sleep 0.1
	n=$((n + 1))
done
sleep 0.5
t0=$(date +%s)
kw_set_status 0
t1=$(date +%s)
[ $((t1 - t0)) -le $(kw_secs 5) ] || kw_fail "writing 0 took $((t1 - t0)) s with clients connected"
kw_not_listening 9999
kill $hold 2>/dev/null
wait $hold 2>/dev/null
out=$(kwnet sockets -p 9999 -s ESTABLISHED -s CLOSE_WAIT 2>&1) ||
	kw_fail "a connection on port 9999 is left open after writing 0: $out"
kw_unload
kw_no_sockets 9999
