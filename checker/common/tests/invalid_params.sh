# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# Invalid parameters make insmod fail with -EINVAL and a clear log line.
. "$KW_LIB"
for p in port=0 port=65536 port=-1 host=abc host=1.2.3.256 host=10.0.0; do
	dmesg -c >/dev/null
	kw_load_rejected "Invalid argument" "$p"
	dmesg | grep -q "${p%%=*}" ||
		kw_fail "insmod with $p failed but the kernel log does not name '${p%%=*}'"
done
kw_not_listening 9999
