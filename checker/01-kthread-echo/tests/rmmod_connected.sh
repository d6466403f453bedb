# rmmod must return promptly while clients are connected, and release
# every socket: no listener, no connection left open on the server side.
. "$KW_LIB"
kw_load
kw_wait_listen 9999
kwnet hold -c 5 -w 60 >hold.out 2>&1 &
hold=$!
n=0
until grep -q ready hold.out; do
	[ $n -lt $(($(kw_secs 10) * 10)) ] || kw_fail "5 clients could not connect: $(cat hold.out)"
	sleep 0.1
	n=$((n + 1))
done
kwnet echo -n 64 -c 1 >/dev/null 2>&1
kw_unload 5
kw_run "port 9999 still accepts connections after rmmod" kwnet refused
kill $hold 2>/dev/null
wait $hold 2>/dev/null
kw_no_sockets 9999
kw_taint_ok
