# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# 200 connections opened at once: every one is accepted by the work the
# data-ready callback schedules, and answered.
. "$KW_LIB"
kw_start
kw_run "a burst of 200 connections was not all answered" \
	kwnet http -c 200 -t "$(kw_secs 20)"
kw_run "a second burst of 200 connections was not all answered" \
	kwnet http -c 200 -t "$(kw_secs 20)"
kw_unload
kw_no_sockets 9999
