# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# 64 KiB messages (larger than any one receive) come back intact.
. "$KW_LIB"
kw_load
kw_wait_listen 9999
kw_run "64 KiB messages were not echoed intact" kwnet echo -n 65536 -c 1 -r 2
kw_run "64 KiB sent in 1000-byte writes was not echoed intact" \
	kwnet echo -n 65536 -c 1 -s 1000
kw_unload
