# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# The server runs on work items: loading it and serving requests creates no
# kernel thread of its own (workqueue workers, kworker/*, are shared).
. "$KW_LIB"
before=$(kw_kthreads)
kw_start
kw_run "requests were not answered" kwnet http -c 20
kw_hold 3 30
after=$(kw_kthreads)
new=$(printf '%s\n' "$after" | grep -vxF -e "$before" -e '' | tr '\n' ' ')
[ -z "$new" ] || kw_fail "new kernel threads while serving: $new"
kw_note "no new kernel thread besides kworkers"
kw_hold_end
kw_unload
