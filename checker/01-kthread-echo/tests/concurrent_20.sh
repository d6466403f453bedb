# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# 20 clients connected at once, each echoed independently.
. "$KW_LIB"
kw_load
kw_wait_listen 9999
kw_run "20 concurrent clients were not all served" \
	kwnet echo -n 4096 -c 20 -r 3 -t "$(kw_secs 10)"
kw_unload
kw_no_sockets 9999
