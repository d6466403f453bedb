# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# /fib/0 to /fib/100 on one keep-alive connection, then the N where F(N)
# crosses 32, 64 and 128 bits (one limb, two, four), each checked byte for
# byte against GMP, and HEAD /fib/1000: the Content-Length of F(1000)'s
# digits, and no body.
. "$KW_LIB"
kw_start
kw_run "/fib/0 to /fib/100 on one connection" kwfib verify -k -r 0-100
kw_run "F(N) where it crosses 32, 64 and 128 bits" \
	kwfib verify 46 47 48 92 93 94 185 186 187 1000
kw_run "HEAD /fib/1000" kwfib expect -m HEAD 200 /fib/1000
kw_unload
kw_no_sockets 9999
