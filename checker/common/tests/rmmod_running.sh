# rmmod while the server runs (with a connection open): prompt, the sysfs
# tree is gone, nothing is left open.
. "$KW_LIB"
kw_start
kwnet hold -c 2 -w 60 >hold.out 2>&1 &
hold=$!
sleep 1
kw_unload 5
[ ! -e /sys/kernel/webserver ] || kw_fail "/sys/kernel/webserver is still there after rmmod"
kill $hold 2>/dev/null
wait $hold 2>/dev/null
kw_run "port 9999 still accepts connections after rmmod" kwnet refused
kw_no_sockets 9999
