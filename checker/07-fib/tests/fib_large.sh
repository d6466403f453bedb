# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# Large N, up to 10^6 (208,988 digits), with fib_max=1000000, on one
# connection, checked against GMP. 2^19 + 1 and 2^19 - 1 have the most and
# fewest 1 bits for their size: fast doubling's two kinds of step.
. "$KW_LIB"
kw_start fib_max=1000000
kw_run "large N up to 10^6" kwfib verify -k -t "$(kw_secs 60)" \
	524287 524289 777777 1000000
kw_unload
kw_no_sockets 9999
