# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# Seen from the host: GET and HEAD, then /fib/N for N the host picks,
# checked against the host's own F(N) (the host connects through QEMU's
# network, outside the guest's control).
. "$KW_LIB"
kw_start
kw_host_probe fib
kw_unload
