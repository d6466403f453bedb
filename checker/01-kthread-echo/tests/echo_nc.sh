# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# A line sent with the real nc (netcat-openbsd; busybox runs its own nc
# applet for a bare "nc") comes back unchanged.
. "$KW_LIB"
kw_load
kw_wait_listen 9999
want="hello from nc, kweb-lab"
got=$(printf '%s\n' "$want" | timeout "$(kw_secs 10)" /usr/bin/nc.openbsd -N 127.0.0.1 9999) ||
	kw_fail "nc 127.0.0.1 9999 failed or did not end (status $?)"
[ "$got" = "$want" ] || kw_fail "nc sent '$want' and got back '$got'"
kw_note "nc got back: $got"
kw_unload
