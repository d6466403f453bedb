# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# Seen from the host: the echo server answers on the guest's network card
# (the host connects through QEMU's network, outside the guest's control).
. "$KW_LIB"
kw_load
kw_wait_listen 9999
kw_host_probe echo
kw_unload
