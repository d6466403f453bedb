# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# A request head over 8 KiB gets 431; one just under is served.
. "$KW_LIB"
kw_start
{
	printf 'GET / HTTP/1.1\r\nHost: kweb\r\n'
	i=0
	while [ $i -lt 100 ]; do
		printf 'X-Padding-%03d: %s\r\n' $i \
			"0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
		i=$((i + 1))
	done
	printf '\r\n'
} >big
{
	printf 'GET / HTTP/1.1\r\nHost: kweb\r\n'
	i=0
	while [ $i -lt 60 ]; do
		printf 'X-Padding-%03d: %s\r\n' $i \
			"0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
		i=$((i + 1))
	done
	printf '\r\n'
} >medium
kw_note "request heads of $(wc -c <big) and $(wc -c <medium) bytes"
kw_run "a $(wc -c <big)-byte request head did not get 431" kwnet http -R big -x 431
kw_run "a $(wc -c <medium)-byte request head was not served" kwnet http -R medium
kw_unload
