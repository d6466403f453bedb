# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# Garbage gets 400, methods other than GET and HEAD get 501.
. "$KW_LIB"
kw_start
printf 'this is not http\r\n\r\n' >garbage
printf 'GET /\r\n\r\n' >noversion
printf 'GET / FTP/1.0\r\n\r\n' >badversion
for f in garbage noversion badversion; do
	kw_run "a malformed request ($f) did not get 400" kwnet http -R "$f" -x 400
done
for m in POST PUT DELETE; do
	kw_run "$m did not get 501" kwnet http -m "$m" -x 501
done
kw_run "GET after the errors failed" kwnet http
kw_unload
