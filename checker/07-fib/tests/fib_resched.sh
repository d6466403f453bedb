# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# The soft-lockup detector, set to fire after 2 s on a CPU that never
# schedules (watchdog_thresh=1), watches a computation of about 12 s: the
# kernel must stay untainted (no soft lockup, no warning). Without
# a reschedule point in the long loops, a kernel with voluntary preemption
# (as Debian's) never takes the CPU from the computation. The 12 s leave
# room for kw_fib_big's estimate being a few times too long (with 6 s, CI
# once saw a loop without reschedule points pass).
. "$KW_LIB"
[ -w /proc/sys/kernel/watchdog_thresh ] ||
	kw_fail "this kernel has no soft-lockup detector (/proc/sys/kernel/watchdog_thresh)"
read -r thresh </proc/sys/kernel/watchdog_thresh
kw_start fib_max=20000000
big=$(kw_fib_big 12) || kw_fail "$big"
kw_note "F($big) takes about 12 s here"
echo 1 >/proc/sys/kernel/watchdog_thresh
out=$(kwfib verify -t "$(kw_secs 120)" "$big" 2>&1)
rc=$?
echo "$thresh" >/proc/sys/kernel/watchdog_thresh
echo "$out" | tail -n 2
[ $rc -eq 0 ] || kw_fail "F($big) was wrong or not answered"
if dmesg | grep -q "soft lockup"; then
	dmesg | grep -A3 "soft lockup" | head -n 8
	kw_fail "the kernel saw a soft lockup during the computation: it never gave the CPU up"
fi
kw_taint_ok
kw_unload
