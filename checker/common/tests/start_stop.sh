# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# 1 starts, 0 stops, 1 starts again; status follows; curl works only while
# the server runs.
. "$KW_LIB"
kw_load
kw_set_status 1
[ "$(kw_get_status)" = 1 ] || kw_fail "status reads '$(kw_get_status)' after writing 1"
kw_wait_listen 9999
kw_run "curl failed while the server runs" curl -sf --max-time "$(kw_secs 10)" -o /dev/null http://127.0.0.1:9999/
kw_set_status 0
[ "$(kw_get_status)" = 0 ] || kw_fail "status reads '$(kw_get_status)' after writing 0"
kw_not_listening 9999
kw_run "port 9999 accepts connections after writing 0" kwnet refused
kw_set_status 1
kw_wait_listen 9999
kw_run "curl failed after restarting the server" curl -sf --max-time "$(kw_secs 10)" -o /dev/null http://127.0.0.1:9999/
kw_unload
kw_no_sockets 9999
