# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# Clients that reset the connection mid-message or right after connecting
# must not disturb the server: it keeps serving the next client.
. "$KW_LIB"
kw_load
kw_wait_listen 9999
for i in 1 2 3 4 5; do
	kw_run "client $i could not connect" kwnet abort -n 3000 -m
	kw_run "client $i could not connect" kwnet abort -n 0
done
kw_run "the server stopped serving after clients reset" kwnet echo -n 100 -c 2
kw_unload
kw_no_sockets 9999
