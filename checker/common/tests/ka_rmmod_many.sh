# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# rmmod with 1000 idle keep-alive connections open (each has had one
# request answered): it returns within 5 s (scaled), and no socket is left
# open.
. "$KW_LIB"
S=/sys/kernel/webserver/net/data/stats
kw_start idle_timeout=600
kwnet hold -c 1000 -r -t "$(kw_secs 10)" -w "$(kw_secs 60)" >hold.out 2>&1 &
hold=$!
n=0
until grep -q ready hold.out; do
	kill -0 $hold 2>/dev/null ||
		kw_fail "1000 keep-alive connections could not be set up: $(cat hold.out)"
	[ $n -lt $(($(kw_secs 20) * 10)) ] ||
		kw_fail "1000 keep-alive connections were not set up within $(kw_secs 20) s: $(cat hold.out)"
	sleep 0.1
	n=$((n + 1))
done
read -r open <"$S/open" || kw_fail "cannot read $S/open"
kw_note "stats/open: $open"
[ "$open" = 1000 ] || kw_fail "stats/open reads $open with 1000 keep-alive connections held, expected 1000"
kw_unload 5
kw_run "port 9999 still accepts connections after rmmod" kwnet refused
kill $hold 2>/dev/null
wait $hold 2>/dev/null
kw_no_sockets 9999
