# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# rmmod while clients keep connecting: it returns promptly, the kernel
# stays healthy and nothing is left open.
. "$KW_LIB"
kw_start
i=0
while [ $i -lt 4 ]; do
	(while :; do kwnet http -c 10 -t 5 >/dev/null 2>&1; done) &
	i=$((i + 1))
done
sleep 2
kw_unload 5
sleep 1
for p in $(jobs -p); do kill "$p" 2>/dev/null; done
# shellcheck disable=SC2046 # one pid a word
kill $(jobs -p) 2>/dev/null
wait 2>/dev/null
kw_run "port 9999 still accepts connections after rmmod" kwnet refused
kw_taint_ok
kw_no_sockets 9999
