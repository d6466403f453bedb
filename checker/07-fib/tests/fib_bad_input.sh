# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# N is 1 to 10 decimal digits, no sign, no leading zero, at most 2^31 - 1:
# anything else gets 400. A well-formed N above fib_max gets 403; fib_max
# itself is answered. The server goes on serving after each.
. "$KW_LIB"
kw_start fib_max=5000
for path in /fib/ /fib/-1 /fib/abc /fib/+5 /fib/1%200 /fib/99999999999 \
	/fib/007 /fib/00 /fib/2147483648 /fib/4294967297 /fib/10x /fib/1.5 \
	'/fib/10?x=1' /fib//10 /fib/0x10 /fib/10/ /fib/%31; do
	kw_run "GET $path" kwfib expect 400 "$path"
done
kw_run "GET /fib/5001 with fib_max=5000" kwfib expect 403 /fib/5001
kw_run "GET /fib/2147483647 with fib_max=5000" kwfib expect 403 /fib/2147483647
kw_run "fib_max itself, and /fib/0, after the refusals" kwfib verify 5000 0 7
kw_run "GET / after the refusals" kwnet http
kw_unload
kw_no_sockets 9999
