# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# Seen from the host: the HTTP server answers on the guest's network card
# (the host connects through QEMU's network, outside the guest's control).
. "$KW_LIB"
kw_start
kw_host_probe http
kw_unload
