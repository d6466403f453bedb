# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# Writing 0 while clients hold connections returns promptly, stops
# listening, and leaves nothing open on the server side.
. "$KW_LIB"
kw_load
kw_set_status 1
kw_wait_listen 9999
kw_hold 5 60
sleep 0.5
t0=$(date +%s)
kw_set_status 0
t1=$(date +%s)
[ $((t1 - t0)) -le "$(kw_secs 5)" ] || kw_fail "writing 0 took $((t1 - t0)) s with clients connected"
kw_not_listening 9999
kw_hold_end
out=$(kwnet sockets -p 9999 -s ESTABLISHED -s CLOSE_WAIT 2>&1) ||
	kw_fail "a connection on port 9999 is left open after writing 0: $out"
kw_unload
kw_no_sockets 9999
