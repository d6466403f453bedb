# The server runs on work items: loading it and serving requests creates no
# kernel thread of its own (workqueue workers, kworker/*, are shared).
. "$KW_LIB"
before=$(kw_kthreads)
kw_start
kw_run "requests were not answered" kwnet http -c 20
kwnet hold -c 3 -w 30 >hold.out 2>&1 &
hold=$!
sleep 1
after=$(kw_kthreads)
new=$(printf '%s\n' "$after" | grep -vxF -e "$before" -e '' | tr '\n' ' ')
[ -z "$new" ] || kw_fail "new kernel threads while serving: $new"
kw_note "no new kernel thread besides kworkers"
kill $hold 2>/dev/null
wait $hold 2>/dev/null
kw_unload
