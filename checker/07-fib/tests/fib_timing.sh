# shellcheck shell=sh disable=SC1090 # busybox sh; sources $KW_LIB
# The module times its answers. Every answer carries Server-Timing (kwfib
# checks it on each); for /fib/100000 the server's time is no longer than
# the client waited, and most of it (the computation is most of the
# work). stats/fib_time is a table: a line of column names, then one line
# for each size of N (1 to 10 digits) with the count, mean and maximum in
# nanoseconds; it counts exactly the answers given, in the right line.
. "$KW_LIB"
T=/sys/kernel/webserver/net/data/stats/fib_time
# row DIGITS: count, mean and max of that size class, in $count $mean $max.
row() {
	digits=$1
	line=$(awk -v d="$digits" 'NR > 1 && $1 == d' "$T")
	# shellcheck disable=SC2086 # split the line into its fields
	set -- $line
	[ $# -eq 4 ] || kw_fail "stats/fib_time has no line '$digits COUNT MEAN MAX' for N of $digits digits: $(cat "$T")"
	count=$2 mean=$3 max=$4
	for v in "$count" "$mean" "$max"; do
		case $v in '' | *[!0-9]*) kw_fail "stats/fib_time: '$line' is not four numbers" ;; esac
	done
}
kw_start fib_max=200000
[ -f "$T" ] || kw_fail "$T does not exist"
head=$(head -n 1 "$T")
[ "$head" = "digits count mean_ns max_ns" ] ||
	kw_fail "stats/fib_time's first line is '$head', expected 'digits count mean_ns max_ns'"
[ "$(wc -l <"$T")" -eq 11 ] || kw_fail "stats/fib_time has $(wc -l <"$T") lines, expected 11: $(cat "$T")"
d=1
while [ $d -le 10 ]; do
	row $d
	[ "$count $mean $max" = "0 0 0" ] || kw_fail "stats/fib_time reads '$d $count $mean $max' before any request, expected '$d 0 0 0'"
	d=$((d + 1))
done

out=$(kwfib time -n 3 100000 2>&1) || kw_fail "timing /fib/100000 failed: $out"
echo "$out" | tail -n 1
client=$(echo "$out" | sed -n 's/.* median_us=\([0-9][0-9]*\).*/\1/p' | tail -n 1)
server=$(echo "$out" | sed -n 's/.* server_us=\([0-9][0-9]*\).*/\1/p' | tail -n 1)
if [ -z "$client" ] || [ -z "$server" ]; then
	kw_fail "kwfib time printed no times: $out"
fi
[ "$server" -le "$client" ] ||
	kw_fail "Server-Timing says the server took $server us for /fib/100000, longer than the client waited ($client us)"
[ $((server * 4)) -ge "$client" ] ||
	kw_fail "Server-Timing says the server took $server us for /fib/100000, less than a quarter of the $client us the client waited: it does not time the computation"

kw_run "/fib/1, /fib/2, /fib/3 and /fib/10" kwfib verify -k 1 2 3 10
kw_run "a 400, which is not counted" kwfib expect 400 /fib/x
row 6
[ "$count" = 3 ] || kw_fail "stats/fib_time counts $count answers for N of 6 digits after 3 requests for /fib/100000, expected 3"
[ "$mean" -le "$max" ] || kw_fail "stats/fib_time's mean ($mean ns) is above its max ($max ns) for N of 6 digits"
[ "$max" -ge $((server * 1000 / 2)) ] ||
	kw_fail "stats/fib_time's max for N of 6 digits is $max ns, less than half the median Server-Timing of the same answers ($server us)"
row 1
[ "$count" = 3 ] || kw_fail "stats/fib_time counts $count answers for N of 1 digit after /fib/1, /fib/2, /fib/3, expected 3"
row 2
[ "$count" = 1 ] || kw_fail "stats/fib_time counts $count answers for N of 2 digits after /fib/10, expected 1"
row 7
[ "$count" = 0 ] || kw_fail "stats/fib_time counts $count answers for N of 7 digits, expected 0"
kw_unload
