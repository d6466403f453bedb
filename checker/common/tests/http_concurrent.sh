# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# 50 clients at once all get a complete answer.
. "$KW_LIB"
kw_start
kw_run "50 concurrent clients were not all served" \
	kwnet http -c 50 -t "$(kw_secs 10)"
kw_unload
kw_no_sockets 9999
