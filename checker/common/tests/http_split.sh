# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# A request that arrives in small TCP segments with pauses between them is
# read to its end before the answer.
. "$KW_LIB"
kw_start
kw_run "a request sent in 5-byte pieces was not answered" \
	kwnet http -S 5 -d 50 -t "$(kw_secs 10)"
kw_run "a request sent in 1-byte pieces was not answered" \
	kwnet http -S 1 -d 10 -t "$(kw_secs 10)"
kw_unload
