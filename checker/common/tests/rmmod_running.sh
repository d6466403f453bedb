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
tree_gone_after_exit() {
	[ -e "$params" ] || [ ! -e /sys/kernel/webserver ] ||
		kw_fail "/sys/kernel/webserver is still there after the exit function returned (it goes with kobject_del(), not with the last kobject_put())"
}
kw_unload 5 tree_gone_after_exit
[ ! -e /sys/kernel/webserver ] || kw_fail "/sys/kernel/webserver is still there after rmmod"
kw_hold_end
kw_run "port 9999 still accepts connections after rmmod" kwnet refused
kw_no_sockets 9999
