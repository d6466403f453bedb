# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# 1 KiB messages come back intact.
. "$KW_LIB"
kw_load
kw_wait_listen 9999
kw_run "1 KiB messages were not echoed intact" kwnet echo -n 1024 -c 1 -r 4
kw_unload
