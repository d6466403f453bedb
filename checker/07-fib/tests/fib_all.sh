# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# Every N from 0 to 2000, on one keep-alive connection: each answer is
# compared byte for byte with GMP's.
. "$KW_LIB"
kw_start
kw_run "/fib/0 to /fib/2000" kwfib verify -k -t "$(kw_secs 30)" -r 0-2000
kw_unload
kw_no_sockets 9999
