# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# Anything but 0 or 1 is refused with EINVAL and changes nothing, whether
# the server is stopped or running.
. "$KW_LIB"
kw_load
junk=$(head -c 4096 /dev/zero | tr '\0' x)
for state in 0 1; do
	kw_set_status $state
	for v in 2 -1 abc "" 10 1x "$junk"; do
		kw_status_rejected "$v"
		st=$(kw_get_status)
		[ "$st" = $state ] ||
			kw_fail "status reads '$st' after a rejected write of '$(printf '%.20s' "$v")', expected $state"
	done
	if [ $state = 1 ]; then
		kw_run "the server stopped serving after rejected writes" kwnet http
	else
		kw_not_listening 9999
	fi
done
kw_unload
