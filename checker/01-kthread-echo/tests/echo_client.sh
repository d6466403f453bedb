# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# Several small messages on one connection, each echoed before the next.
. "$KW_LIB"
kw_load
kw_wait_listen 9999
kw_run "small messages were not echoed" kwnet echo -n 13 -c 1 -r 5
kw_run "a message sent in 1-byte pieces was not echoed" kwnet echo -n 8 -c 1 -s 1
kw_unload
