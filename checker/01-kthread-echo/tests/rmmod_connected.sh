# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# rmmod must return promptly while clients are connected, and release
# every socket: no listener, no connection left open on the server side.
. "$KW_LIB"
kw_load
kw_wait_listen 9999
kw_hold 5 60
kwnet echo -n 64 -c 1 >/dev/null 2>&1
kw_unload 5
kw_run "port 9999 still accepts connections after rmmod" kwnet refused
kw_hold_end
kw_no_sockets 9999
kw_taint_ok
