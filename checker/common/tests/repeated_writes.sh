# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# Writing the state the server is in already is harmless: 1,1,1 leaves one
# listener that serves; 0,0 leaves none.
. "$KW_LIB"
kw_load
for i in 1 2 3; do kw_set_status 1; done
kw_wait_listen 9999
n=$(kw_listeners 9999)
[ "$n" = 1 ] || kw_fail "$n sockets listen on 9999 after writing 1 three times, expected 1"
kw_run "the server does not serve after writing 1 three times" kwnet http -c 5
for i in 1 2; do kw_set_status 0; done
[ "$(kw_get_status)" = 0 ] || kw_fail "status is not 0 after writing 0 twice"
kw_not_listening 9999
# Concurrent writers: 20 writers of 1 at once still start one server.
i=0
while [ $i -lt 20 ]; do
	(printf '1\n' >"$KW_STATUS") 2>/dev/null &
	i=$((i + 1))
done
wait
n=$(kw_listeners 9999)
[ "$n" = 1 ] || kw_fail "$n sockets listen on 9999 after 20 concurrent writes of 1, expected 1"
kw_unload
kw_no_sockets 9999
