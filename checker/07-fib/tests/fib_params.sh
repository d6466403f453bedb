# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# fib_max is checked at insmod: -1 fails with EINVAL. fib_max=0 computes
# F(0) only: /fib/1 gets 403.
. "$KW_LIB"
kw_load_rejected "Invalid argument" fib_max=-1
kw_start fib_max=0
kw_run "/fib/0 with fib_max=0" kwfib verify 0
kw_run "/fib/1 with fib_max=0" kwfib expect 403 /fib/1
kw_unload
