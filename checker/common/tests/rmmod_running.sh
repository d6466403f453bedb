# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# rmmod while the server runs (with a connection open): prompt, the sysfs
# tree is gone, nothing is left open.
. "$KW_LIB"
kw_start
kw_hold 2 60
kw_unload 5
[ ! -e /sys/kernel/webserver ] || kw_fail "/sys/kernel/webserver is still there after rmmod"
kw_hold_end
kw_run "port 9999 still accepts connections after rmmod" kwnet refused
kw_no_sockets 9999
