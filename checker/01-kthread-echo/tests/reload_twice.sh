# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# Load, serve, unload; twice. Nothing from the first run may be left over.
. "$KW_LIB"
for round in 1 2; do
	kw_load
	kw_wait_listen 9999
	kw_run "round $round: echo failed" kwnet echo -n 512 -c 3
	kw_unload
	kw_no_sockets 9999
done
