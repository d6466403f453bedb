# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# rmmod must return promptly while the accept thread sleeps in accept.
. "$KW_LIB"
kw_load
kw_wait_listen 9999
sleep 1
kw_unload 5
kw_no_sockets 9999
kw_run "port 9999 still accepts connections after rmmod" kwnet refused
