# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# Loaded (and started) with no parameters, the server answers HTTP on
# 0.0.0.0:9999; rmmod leaves nothing open.
. "$KW_LIB"
kw_start
kw_wait_listen 9999 0.0.0.0
kw_run "GET / on 127.0.0.1:9999 failed" kwnet http -u /
kw_unload
kw_no_sockets 9999
