# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# rmmod returns promptly while clients hold connections open without
# sending a request, and nothing is left open afterwards.
. "$KW_LIB"
kw_start
kw_hold 5 60
sleep 0.5
kw_unload 5
kw_run "port 9999 still accepts connections after rmmod" kwnet refused
kw_hold_end
kw_no_sockets 9999
