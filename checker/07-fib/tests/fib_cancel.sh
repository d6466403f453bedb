# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# Two clients ask for answers of about 8 s each and go away after 2 s. The
# computations stop at their next step: stats/cancelled counts both within
# 2 s (scaled), and then the CPUs are mostly idle (measured by the kernel's
# own /proc/stat, not by the module). A server that computes on for nobody
# keeps them busy for seconds more.
. "$KW_LIB"
S=/sys/kernel/webserver/net/data/stats
kw_start fib_max=20000000
big=$(kw_fib_big 8) || kw_fail "$big"
kw_note "F($big) takes about 8 s here"
read -r before <"$S/cancelled" || kw_fail "cannot read $S/cancelled"
read -r accepted <"$S/accepted" || kw_fail "cannot read $S/accepted"
# Each client sends its request, waits 2 s and closes (nc -q 0: at the end
# of its input).
for n in "$big" "$((big + 1))"; do
	{
		printf 'GET /fib/%s HTTP/1.1\r\nHost: kweb\r\n\r\n' "$n"
		sleep 2
	} | nc.openbsd -q 0 127.0.0.1 9999 >/dev/null 2>&1 &
done
kw_wait_stat accepted $((accepted + 2))
wait
n=0
while read -r now <"$S/cancelled" && [ $((now - before)) -lt 2 ]; do
	[ $n -lt $(($(kw_secs 2) * 10)) ] ||
		kw_fail "stats/cancelled went from $before to $now in the $(kw_secs 2) s after two clients went away mid-computation, expected 2 more"
	sleep 0.1
	n=$((n + 1))
done
busy=$(kw_cpu_busy 2)
kw_note "the CPUs were $busy% busy over the 2 s after the computations were cancelled"
[ "$busy" -le 40 ] ||
	kw_fail "the CPUs were $busy% busy in the 2 s after both clients had gone (and stats/cancelled counted them): the computations went on"
kw_run "/fib/1000 after the cancelled computations" kwfib verify 1000
kw_unload
kw_no_sockets 9999
