# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# rmmod with servers running in three namespaces stops every one of them
# promptly.
. "$KW_LIB"
kw_start
for ns in A B; do
	kw_netns_new $ns
	kw_set_status 1 "$(kw_ns_status $ns)"
done
sleep 0.5
for ns in A B; do
	kw_run "namespace $ns's server does not answer" kw_in_ns $ns kwnet http
	kw_in_ns $ns kwnet hold -c 2 -w 30 >/dev/null 2>&1 &
done
sleep 1
# The namespaces' sysfs views pin nothing of the module; unmount them so
# that rmmod is not refused for a busy mount.
for ns in A B; do umount "/mnt/$ns"; done
kw_unload 5
for ns in A B; do
	kw_run "namespace $ns still accepts connections after rmmod" kw_in_ns $ns kwnet refused
done
kw_run "the initial namespace still accepts connections after rmmod" kwnet refused
for ns in A B; do kw_netns_del $ns; done
# shellcheck disable=SC2046 # one pid a word
kill $(jobs -p) 2>/dev/null
wait 2>/dev/null
kw_taint_ok
