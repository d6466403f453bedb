# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# Disabling one namespace's server leaves the other's running.
. "$KW_LIB"
kw_start
kw_netns_new A
fa=$(kw_ns_status A)
kw_set_status 1 "$fa"
sleep 0.5
kw_set_status 0
kw_not_listening 9999
kw_run "the initial namespace still accepts after writing 0 there" kwnet refused
kw_run "namespace A stopped serving when the initial one was disabled" kw_in_ns A kwnet http
[ "$(cat "$fa")" = 1 ] || kw_fail "namespace A's status changed when the initial one was disabled"
kw_set_status 0 "$fa"
kw_run "namespace A still accepts after writing 0 there" kw_in_ns A kwnet refused
kw_set_status 1
kw_wait_listen 9999
kw_run "the initial namespace does not serve after re-enabling" kwnet http
kw_run "namespace A came back on when the initial one was enabled" kw_in_ns A kwnet refused
kw_netns_del A
kw_unload
