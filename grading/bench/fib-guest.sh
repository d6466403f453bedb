#!/bin/sh
# shellcheck shell=dash
# The Fibonacci benchmark, guest side (busybox sh; /kweb/run/script.sh of
# a kweb.mode=script boot, see grading/kweb/benchfib.py).
#
# The kernel command line says what to run:
#   kweb.nonce=HEX                  tags every control line
#   kweb.scale=N                    timeouts x N (TCG)
#   kweb.fib.points=N:R:L,...       for each N (0 to 10000000), in order:
#                                   R repeats (1 to 100), at most L seconds
#                                   (1 to 3600) for each of its steps
# Stage 7's module (/kweb/bench/mod/kweb.ko) is loaded with
# fib_max=10000000 and started through sysfs; it listens on 0.0.0.0:9999.
# For each N, three steps:
#   gmp      kwfib gmp -n R N        GMP's mpz_fib_ui + mpz_get_str here
#   time     kwfib time -n R N       GET /fib/N from the client, R times on
#                                    one keep-alive connection, each body
#                                    checked against GMP
#   timing   curl -D - /fib/N ...    R requests in one curl (keep-alive):
#                                    their heads (the Server-Timing header:
#                                    fib, calc, dec)
# Results go to the results port (ttyS1), in these lines only:
#   KWEB NONCE bench-begin NCPU
#   KWEB NONCE server kweb failed|up        it did not start / it serves
#   KWEB NONCE point kweb STEP N            then the step's output, "# "
#   KWEB NONCE end kweb STEP N RC           lines, then its exit status
#   KWEB NONCE server kweb died             it stopped answering: the
#                                           points left are not run
#   KWEB NONCE server kweb down|stuck|tainted
#   KWEB NONCE bench-done
# and "# " lines of diagnostics (the server's failure, its kernel log).
# The host parses the tools' output itself, and trusts none of it.
KO=/kweb/bench/mod/kweb.ko
URL=http://127.0.0.1:9999
STATUS=/sys/kernel/webserver/net/data/status
nonce=
scale=1
points=
read -r cmdline </proc/cmdline
for arg in $cmdline; do
	case $arg in
	kweb.nonce=*) nonce=${arg#kweb.nonce=} ;;
	kweb.scale=*) scale=${arg#kweb.scale=} ;;
	kweb.fib.points=*) points=$(echo "${arg#*=}" | tr , ' ') ;;
	esac
done

exec 9>/dev/ttyS1
say() {
	printf 'KWEB %s %s\n' "$nonce" "$*" >&9
}
# diag FILE [LINES]: the file's last lines as diagnostic lines.
diag() {
	tail -n "${2:-40}" "$1" | tr -d '\r' | sed 's/^/# /' >&9
}

# num VALUE LO HI: VALUE is a whole number from LO to HI (at most 9
# digits, so that the shell's arithmetic cannot overflow).
num() {
	case $1 in
	'' | *[!0-9]* | ??????????* | 0?*) return 1 ;;
	esac
	[ "$1" -ge "$2" ] && [ "$1" -le "$3" ]
}

num "$scale" 1 20 || scale=1
case $nonce in
*[!0-9a-f]* | '') echo "fib-guest: no valid kweb.nonce" >&2 && exit 2 ;;
esac
[ -n "$points" ] || { echo "# no kweb.fib.points" >&9 && exit 2; }
for p in $points; do
	IFS=: read -r n r l rest <<EOF
$p
EOF
	if ! num "$n" 0 10000000 || ! num "$r" 1 100 || ! num "$l" 1 3600 ||
		[ -n "$rest" ]; then
		echo "# kweb.fib.points: '$p' is not N:REPEAT:SECONDS" >&9
		exit 2
	fi
done

# Taint bits that end the run: D (oops), W (warning), L (soft lockup).
BAD_TAINT=$((128 | 512 | 16384))

# serves: the server answers /fib/10 with 55 (a few tries; it may need a
# moment after it starts).
serves() {
	i=0
	while [ $i -lt $((5 * scale)) ]; do
		body=$(curl -s -m "$((2 * scale))" "$URL/fib/10" 2>/dev/null) &&
			[ "$body" = 55 ] && return 0
		sleep 1
		i=$((i + 1))
	done
	return 1
}

# step NAME N LIMIT COMMAND...: one bounded run of the step, its output
# and exit status to the host.
step() {
	name=$1 sn=$2 limit=$3
	shift 3
	say point kweb "$name" "$sn"
	timeout "$limit" "$@" >/tmp/step.out 2>&1 </dev/null
	src=$?
	head -n 100 /tmp/step.out | tr -d '\r' | sed 's/^/# /' >&9
	say end kweb "$name" "$sn" "$src"
	return $src
}

# stop: 0 once the module is unloaded (within 10 s x scale).
stop() {
	grep -q '^kweb ' /proc/modules || return 0
	[ ! -w "$STATUS" ] || echo 0 >"$STATUS" 2>/dev/null
	rmmod kweb >/dev/null 2>&1 &
	pid=$!
	i=0
	while kill -0 $pid 2>/dev/null && [ $i -lt $((100 * scale)) ]; do
		sleep 0.1
		i=$((i + 1))
	done
	! grep -q '^kweb ' /proc/modules
}

say bench-begin "$(nproc)"
dmesg -c >/dev/null 2>&1
taint0=$(cat /proc/sys/kernel/tainted)
if [ ! -f "$KO" ]; then
	echo "# $KO is not in the guest" >&9
	say server kweb failed
elif ! insmod "$KO" fib_max=10000000 >/tmp/server.log 2>&1 ||
	! echo 1 >"$STATUS" 2>>/tmp/server.log || ! serves; then
	echo "# kweb did not start, or does not answer /fib/10 with 55" >&9
	diag /tmp/server.log
	dmesg 2>/dev/null >/tmp/dmesg.log && diag /tmp/dmesg.log
	say server kweb failed
else
	say server kweb up
	for p in $points; do
		IFS=: read -r n r l <<EOF
$p
EOF
		step gmp "$n" "$l" kwfib gmp -n "$r" "$n"
		ok=1
		step time "$n" "$l" kwfib time -t "$l" -n "$r" "$n" || ok=0
		set -- curl -s -m "$l" -D -
		i=0
		while [ $i -lt "$r" ]; do
			set -- "$@" -o /dev/null "$URL/fib/$n"
			i=$((i + 1))
		done
		step timing "$n" "$l" "$@" || ok=0
		if [ $ok -eq 0 ] && ! serves; then
			dmesg 2>/dev/null >/tmp/dmesg.log && diag /tmp/dmesg.log
			say server kweb died
			break
		fi
	done
fi
if ! stop; then
	say server kweb stuck
	exit 0
fi
taint1=$(cat /proc/sys/kernel/tainted)
if [ $(((taint1 & ~taint0) & BAD_TAINT)) -ne 0 ]; then
	dmesg 2>/dev/null >/tmp/dmesg.log && diag /tmp/dmesg.log 80
	say server kweb tainted
	exit 0
fi
say server kweb down
say bench-done
