# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# 200 random N up to 100,000, a new seed every run (kwfib prints it, so a
# failure can be repeated), checked against GMP.
. "$KW_LIB"
seed=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
kw_note "seed $seed"
kw_start
kw_run "200 random N up to 100,000 (seed $seed)" \
	kwfib verify -k -t "$(kw_secs 30)" -R "200:100000:$seed"
kw_unload
kw_no_sockets 9999
