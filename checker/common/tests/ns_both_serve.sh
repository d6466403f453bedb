# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# Both namespaces serve on the same 0.0.0.0:9999 at once, independently.
. "$KW_LIB"
kw_start
kw_netns_new A
kw_set_status 1 "$(kw_ns_status A)"
[ "$(cat "$(kw_ns_status A)")" = 1 ] || kw_fail "namespace A's status does not read 1 after writing 1"
n=0
until kw_in_ns A kwnet listening -p 9999 >/dev/null 2>&1; do
	[ $n -lt 50 ] || kw_fail "nothing listens on 9999 inside namespace A"
	sleep 0.1
	n=$((n + 1))
done
kw_run "namespace A's server does not answer" kw_in_ns A kwnet http -c 10
kw_run "namespace A's server does not answer curl" kw_in_ns A curl -sf --max-time "$(kw_secs 10)" -o /dev/null http://127.0.0.1:9999/
kw_run "the initial namespace's server does not answer" kwnet http -c 10
n=$(kw_listeners 9999)
[ "$n" = 1 ] || kw_fail "$n listeners on 9999 in the initial namespace, expected 1"
kw_netns_del A
kw_unload
