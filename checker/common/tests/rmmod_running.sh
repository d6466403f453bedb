# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# rmmod while the server runs (with a connection open): prompt, the sysfs
# tree is gone as soon as the exit function has returned, nothing is left
# open.
. "$KW_LIB"
kw_start
kw_hold 2 60
# The kernel removes the module's parameter files right after its exit
# function returns; rmmod itself may go on waiting for the module's own
# kobjects (the debug kernel delays their release by seconds). By the time
# the parameters are gone, the exit function must have removed the sysfs
# tree: a tree left to kobject_put() alone is still there.
params=/sys/module/$KW_MODULE/parameters/port
[ -e "$params" ] || kw_fail "$params is missing: is the port= parameter there?"
limit=$(kw_secs 5)
rmmod "$KW_MODULE" >/tmp/rmmod.out 2>&1 &
pid=$!
n=0
checked=
while kill -0 $pid 2>/dev/null; do
	if [ -z "$checked" ] && [ ! -e "$params" ]; then
		checked=1
		[ ! -e /sys/kernel/webserver ] ||
			kw_fail "/sys/kernel/webserver is still there after the exit function returned (it goes with kobject_del(), not with the last kobject_put())"
	fi
	[ $n -lt $((limit * 20)) ] ||
		kw_fail "rmmod $KW_MODULE did not return within $limit s (is the exit function waiting for a thread or work item that never wakes?)"
	sleep 0.05
	n=$((n + 1))
done
wait $pid || kw_fail "rmmod $KW_MODULE failed: $(cat /tmp/rmmod.out)"
! kw_loaded || kw_fail "$KW_MODULE is still loaded after rmmod"
[ ! -e /sys/kernel/webserver ] || kw_fail "/sys/kernel/webserver is still there after rmmod"
kw_hold_end
kw_run "port 9999 still accepts connections after rmmod" kwnet refused
kw_no_sockets 9999
