# rmmod returns promptly while clients hold connections open without
# sending a request, and nothing is left open afterwards.
. "$KW_LIB"
kw_start
kwnet hold -c 5 -w 60 >hold.out 2>&1 &
hold=$!
n=0
until grep -q ready hold.out; do
	[ $n -lt $(($(kw_secs 10) * 10)) ] || kw_fail "5 clients could not connect: $(cat hold.out)"
	sleep 0.1
	n=$((n + 1))
done
sleep 0.5
kw_unload 5
kw_run "port 9999 still accepts connections after rmmod" kwnet refused
kill $hold 2>/dev/null
wait $hold 2>/dev/null
kw_no_sockets 9999
