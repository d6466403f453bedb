# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# Loaded with no parameters, the server listens on 0.0.0.0:9999.
. "$KW_LIB"
kw_load
kw_wait_listen 9999 0.0.0.0
kw_run "echo through 127.0.0.1:9999 failed" kwnet echo -p 9999 -n 16 -c 1
kw_unload
kw_no_sockets 9999
