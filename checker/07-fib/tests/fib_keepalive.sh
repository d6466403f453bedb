# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# A large answer is sent whole, and the connection stays usable after it:
# big and small N alternate on one connection; 20 requests for /fib/50000
# one after the other; 20 written at once (pipelined), answered in order.
# Then 300 more: each body is freed once it is sent (the slab stays flat).
. "$KW_LIB"
slab() {
	awk '/^Slab:/ { print $2 }' /proc/meminfo
}
kw_start fib_max=200000
kw_run "big and small N alternating on one connection" \
	kwfib verify -k -t "$(kw_secs 30)" 100000 10 200000 0 150000 1 100000
kw_run "20 requests for /fib/50000 on one connection" \
	kwnet keepalive -n 20 -u /fib/50000
kw_run "20 pipelined requests for /fib/50000" \
	kwnet pipeline -n 20 -u /fib/50000
kw_run "/fib/100000 after them" kwfib verify 100000
kw_run "warming up" kwnet keepalive -n 20 -u /fib/50000
before=$(slab)
kw_run "300 requests for /fib/50000 on one connection" \
	kwnet keepalive -n 300 -u /fib/50000
after=$(slab)
kw_note "slab: $before KiB before 300 answers of 10,450 digits, $after KiB after"
[ $((after - before)) -le 1536 ] ||
	kw_fail "the kernel's slab grew by $((after - before)) KiB over 300 answers of 10,450 bytes: are the bodies freed once sent?"
kw_unload
kw_no_sockets 9999
