# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# 600 start/stop toggles while clients keep sending requests and bursts of
# connections keep arriving: requests may be refused while the server is
# stopped, but the kernel must stay healthy and the server must serve at
# the end.
#
# The bursts are what make a wrong stop order show: 50 connections at once
# keep the accept work queued or running at almost every stop, so a stop
# that releases the listener before the accept work is cancelled meets a
# work that still uses it. Measured on the fixture listener-before-cancel
# (the debug kernel): the crash came after 20 to 60 stops, so 300 stops
# leave it well under one chance in a thousand to go unseen.
. "$KW_LIB"
kw_load
kw_set_status 1
kw_wait_listen 9999
# The load stops when the file "stop" appears, and the test waits for
# it: killing the loops would leave a kwnet of theirs running, its
# sockets counted as the module's by kw_no_sockets.
rm -f stop
(while [ ! -f stop ]; do kwnet http -c 5 -t 5 >/dev/null 2>&1; done) &
i=0
while [ $i -lt 2 ]; do
	(while [ ! -f stop ]; do
		kwnet hold -c 50 -w 0 -t 5 >/dev/null 2>&1
	done) &
	i=$((i + 1))
done
i=0
while [ $i -lt 300 ]; do
	kw_set_status 0
	kw_set_status 1
	i=$((i + 1))
done
touch stop
wait
kw_taint_ok
[ "$(kw_get_status)" = 1 ] || kw_fail "status is not 1 after the toggles"
kw_run "the server does not serve after 600 toggles" kwnet http -c 10
kw_unload 5
kw_no_sockets 9999
