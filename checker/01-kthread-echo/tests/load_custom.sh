# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# host= and port= select the address: 127.0.0.1:8080, and not port 9999.
. "$KW_LIB"
kw_load host=127.0.0.1 port=8080
kw_wait_listen 8080 127.0.0.1
kw_not_listening 9999
kw_run "echo through 127.0.0.1:8080 failed" kwnet echo -p 8080 -n 16 -c 1
kw_unload
kw_no_sockets 8080
