# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# After insmod the server is stopped: status reads 0 and nothing listens
# until 1 is written.
. "$KW_LIB"
kw_load
[ -f "$KW_STATUS" ] || kw_fail "$KW_STATUS does not exist after insmod"
st=$(kw_get_status)
[ "$st" = 0 ] || kw_fail "status reads '$st' after insmod, expected 0"
sleep 0.5
kw_not_listening 9999
kw_run "port 9999 accepts connections before the server is started" kwnet refused
kw_unload
[ ! -e /sys/kernel/webserver ] || kw_fail "/sys/kernel/webserver is still there after rmmod"
