#!/bin/sh
# shellcheck shell=dash
# The HTTP benchmark, guest side (busybox sh; /kweb/run/script.sh of a
# kweb.mode=script boot, see grading/kweb/bench.py).
#
# The kernel command line says what to run:
#   kweb.nonce=HEX             tags every control line (as the runner's do)
#   kweb.scale=N               timeouts x N (TCG)
#   kweb.bench.servers=A,B,..  servers, in order (stage02 stage05
#                              stage06-ka0 stage06-ka1 lighttpd)
#   kweb.bench.tools=A,B,..    load tools (wrk kwload-k0 kwload-k1)
#   kweb.bench.conc=1,4,..     concurrencies
#   kweb.bench.secs=N          seconds of load per point
# Every server listens on 127.0.0.1:9999 (the modules on 0.0.0.0:9999);
# the load comes from the same guest over loopback. Results go to the
# results port (ttyS1), in these lines only:
#   KWEB NONCE bench-begin NCPU
#   KWEB NONCE server NAME missing              not in the guest: skipped
#   KWEB NONCE server NAME failed|up            it did not start / it serves
#   KWEB NONCE server NAME died                 it stopped answering
#   KWEB NONCE server NAME down|stuck|tainted   stopped (unloaded); or not
#                                               unloadable; or it tainted
#                                               the kernel
#   KWEB NONCE tool TOOL missing
#   KWEB NONCE point NAME TOOL CONC   then the tool's output as "# " lines
#   KWEB NONCE end NAME TOOL CONC RC
#   KWEB NONCE bench-done
# and "# " lines of diagnostics (a server's failure, its kernel log). The
# host parses the tools' output itself. After "stuck" or "tainted" this
# guest stops (bench-done is not said): the host boots a fresh one for the
# servers left.
B=/kweb/bench
URL=http://127.0.0.1:9999/
nonce=
scale=1
servers=
tools="wrk kwload-k0 kwload-k1"
conc="1 4 16 64 256 1024"
secs=3
read -r cmdline </proc/cmdline
for arg in $cmdline; do
	case $arg in
	kweb.nonce=*) nonce=${arg#kweb.nonce=} ;;
	kweb.scale=*) scale=${arg#kweb.scale=} ;;
	kweb.bench.servers=*) servers=$(echo "${arg#*=}" | tr , ' ') ;;
	kweb.bench.tools=*) tools=$(echo "${arg#*=}" | tr , ' ') ;;
	kweb.bench.conc=*) conc=$(echo "${arg#*=}" | tr , ' ') ;;
	kweb.bench.secs=*) secs=${arg#*=} ;;
	esac
done

exec 9>/dev/ttyS1
say() {
	printf 'KWEB %s %s\n' "$nonce" "$*" >&9
}
# diag FILE: the file's last lines as diagnostic lines.
diag() {
	tail -n "${2:-40}" "$1" | sed 's/^/# /' >&9
}

# Taint bits that end the run: D (oops), W (warning), L (soft lockup).
BAD_TAINT=$((128 | 512 | 16384))
ncpu=$(nproc)

# 1024 connections and more: file descriptors, the accept backlog, ports.
ulimit -n 65536 2>/dev/null || ulimit -n 8192 2>/dev/null
echo 4096 >/proc/sys/net/core/somaxconn
echo 4096 >/proc/sys/net/ipv4/tcp_max_syn_backlog
echo "1024 65535" >/proc/sys/net/ipv4/ip_local_port_range
echo 1 >/proc/sys/net/ipv4/tcp_tw_reuse

STATUS=/sys/kernel/webserver/net/data/status
lighttpd_pid=

# serves: the server at 127.0.0.1:9999 answers / with the expected bytes
# (a few tries; a server may need a moment after it starts).
serves() {
	n=0
	while [ $n -lt $((5 * scale)) ]; do
		rm -f /tmp/body
		if curl -s -m "$((2 * scale))" -o /tmp/body "$URL" 2>/dev/null &&
			cmp -s /tmp/body "$B/www/index.txt"; then
			return 0
		fi
		sleep 1
		n=$((n + 1))
	done
	return 1
}

module_of() {
	case $1 in
	stage02) echo khttp ;;
	*) echo kweb ;;
	esac
}

ko_of() {
	case $1 in
	stage02) echo "$B/mod/stage02.ko" ;;
	stage05) echo "$B/mod/stage05.ko" ;;
	stage06-*) echo "$B/mod/stage06.ko" ;;
	esac
}

start_server() {
	case $1 in
	lighttpd)
		[ -x "$B/bin/lighttpd" ] || return 2
		LD_LIBRARY_PATH=$B/lib "$B/bin/lighttpd" -D -f "$B/lighttpd.conf" \
			-m "$B/lib/lighttpd" >/tmp/server.log 2>&1 &
		lighttpd_pid=$!
		;;
	stage0*)
		ko=$(ko_of "$1")
		[ -f "$ko" ] || return 2
		# max_conns above the top concurrency: connections still
		# closing from the point before must not be refused (503),
		# as lighttpd's server.max-connections is set above it too.
		case $1 in
		stage06-ka0) set -- keepalive=0 max_conns=4096 ;;
		stage06-ka1) set -- keepalive=1 max_conns=4096 ;;
		*) set -- ;;
		esac
		insmod "$ko" "$@" >/tmp/server.log 2>&1 || return 1
		if [ "$ko" != "$B/mod/stage02.ko" ]; then
			echo 1 >"$STATUS" 2>>/tmp/server.log || return 1
		fi
		;;
	*) return 2 ;;
	esac
	serves
}

# stop_server NAME: 0 once it is gone (a module unloaded within 10 s).
stop_server() {
	case $1 in
	lighttpd)
		[ -n "$lighttpd_pid" ] || return 0
		kill "$lighttpd_pid" 2>/dev/null
		n=0
		while kill -0 "$lighttpd_pid" 2>/dev/null && [ $n -lt $((50 * scale)) ]; do
			sleep 0.1
			n=$((n + 1))
		done
		kill -KILL "$lighttpd_pid" 2>/dev/null
		wait "$lighttpd_pid" 2>/dev/null
		lighttpd_pid=
		return 0
		;;
	esac
	mod=$(module_of "$1")
	grep -q "^$mod " /proc/modules || return 0
	[ ! -w "$STATUS" ] || echo 0 >"$STATUS" 2>/dev/null
	rmmod "$mod" >/dev/null 2>&1 &
	pid=$!
	n=0
	while kill -0 $pid 2>/dev/null && [ $n -lt $((100 * scale)) ]; do
		sleep 0.1
		n=$((n + 1))
	done
	! grep -q "^$mod " /proc/modules
}

# run_point NAME TOOL CONC: one bounded run of the load, its output and
# exit status to the host.
run_point() {
	c=$3
	t=$ncpu
	[ "$c" -ge "$t" ] || t=$c
	limit=$((secs + 10 * scale))
	say point "$1" "$2" "$c"
	case $2 in
	wrk)
		LD_LIBRARY_PATH=$B/lib timeout "$limit" "$B/bin/wrk" -c "$c" \
			-t "$t" -d "${secs}s" --timeout "$((2 * scale))s" --latency "$URL"
		;;
	kwload-k0 | kwload-k1)
		timeout "$limit" kwload -n 100000000 -c "$c" -t "$t" \
			-k "${2#kwload-k}" -d "$secs"
		;;
	esac >/tmp/point.out 2>&1 </dev/null
	rc=$?
	head -n 100 /tmp/point.out | sed 's/^/# /' >&9
	say end "$1" "$2" "$c" "$rc"
	return $rc
}

have_tool() {
	case $1 in
	wrk) [ -x "$B/bin/wrk" ] ;;
	kwload-*) command -v kwload >/dev/null 2>&1 ;;
	*) return 1 ;;
	esac
}

say bench-begin "$ncpu"
for tool in $tools; do
	have_tool "$tool" || say tool "$tool" missing
done
for s in $servers; do
	dmesg -c >/dev/null 2>&1
	taint0=$(cat /proc/sys/kernel/tainted)
	start_server "$s"
	rc=$?
	if [ $rc -eq 2 ]; then
		say server "$s" missing
		continue
	fi
	if [ $rc -ne 0 ]; then
		echo "# $s did not start, or does not answer / with the expected 21 bytes" >&9
		diag /tmp/server.log
		dmesg 2>/dev/null >/tmp/dmesg.log && diag /tmp/dmesg.log
		say server "$s" failed
	else
		say server "$s" up
		for tool in $tools; do
			have_tool "$tool" || continue
			for c in $conc; do
				run_point "$s" "$tool" "$c" && continue
				if ! serves; then
					dmesg 2>/dev/null >/tmp/dmesg.log && diag /tmp/dmesg.log
					say server "$s" died
					break 2
				fi
			done
		done
	fi
	if ! stop_server "$s"; then
		say server "$s" stuck
		exit 0
	fi
	taint1=$(cat /proc/sys/kernel/tainted)
	if [ $(((taint1 & ~taint0) & BAD_TAINT)) -ne 0 ]; then
		dmesg 2>/dev/null >/tmp/dmesg.log && diag /tmp/dmesg.log 80
		say server "$s" tainted
		exit 0
	fi
	say server "$s" down
done
say bench-done
