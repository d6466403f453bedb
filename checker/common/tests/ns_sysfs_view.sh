# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# The seed's walk-through, part 1: with the server enabled in the initial
# namespace, a new namespace (lo up, sysfs mounted at /mnt/A) sees its own
# status file, which reads 0, and has no server until enabled there.
. "$KW_LIB"
kw_start
kw_netns_new A
f=$(kw_ns_status A)
[ -f "$f" ] || kw_fail "$f does not exist: is the net directory namespace-tagged?"
st=$(cat "$f")
[ "$st" = 0 ] || kw_fail "the new namespace's status reads '$st', expected 0 (each namespace has its own server)"
kw_run "something answers on 127.0.0.1:9999 inside the new namespace" kw_in_ns A kwnet refused
kw_run "the initial namespace stopped serving" kwnet http
[ "$(kw_get_status)" = 1 ] || kw_fail "the initial namespace's status changed"
kw_netns_del A
kw_unload
