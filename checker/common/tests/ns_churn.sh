# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# 20 namespaces created, served from and destroyed while the initial
# namespace serves: every one works, and nothing is disturbed.
. "$KW_LIB"
kw_start
(while :; do kwnet http -c 3 -t 5 >/dev/null 2>&1; done) &
load=$!
i=0
while [ $i -lt 20 ]; do
	kw_netns_new N$i
	kw_set_status 1 "$(kw_ns_status N$i)"
	n=0
	until kw_in_ns N$i kwnet listening -p 9999 >/dev/null 2>&1; do
		[ $n -lt 50 ] || kw_fail "namespace $i: nothing listens after writing 1"
		sleep 0.1
		n=$((n + 1))
	done
	kw_run "namespace $i: no answer" kw_in_ns N$i kwnet http
	kw_netns_del N$i
	i=$((i + 1))
done
kill $load 2>/dev/null
wait 2>/dev/null
sleep "$(kw_secs 2)"
kw_taint_ok
kw_run "the initial namespace does not serve after the churn" kwnet http -c 5
kw_unload 5
kw_no_sockets 9999
