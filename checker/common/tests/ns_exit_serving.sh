# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# A namespace that dies with its server running (and a client connected)
# is cleaned up: no warning, no oops, and rmmod still works.
. "$KW_LIB"
kw_start
kw_netns_new A
kw_set_status 1 "$(kw_ns_status A)"
sleep 0.5
kw_run "namespace A's server does not answer" kw_in_ns A kwnet http
kw_in_ns A kwnet hold -c 2 -w 5 >/dev/null 2>&1 &
sleep 1
kw_netns_del A
wait
sleep "$(kw_secs 2)"
kw_taint_ok
kw_run "the initial namespace stopped serving" kwnet http
kw_unload 5
kw_taint_ok
