# shellcheck shell=sh
# kwtest.sh - helpers for the guest-side tests (busybox sh). Each test does
#   . "$KW_LIB"
# and then runs its steps; the first failed step ends the test with one
# "FAIL: ..." line that says what was expected and what happened.
#
# Set by the runner: KW_MODULE (module name), KW_KO (its .ko file),
# KW_SCALE (timeout multiplier), KW_BIN (the kit's test programs),
# KW_KMEMLEAK (1 if kmemleak scans after each test: the debug kernel).

KW_PORT=${KW_PORT:-9999}
# The stage's stage.conf (MODULE, SOURCES, CONTROL) is in the guest too.
CONTROL=
[ ! -f /kweb/run/stage.conf ] || . /kweb/run/stage.conf
KW_STATUS=/sys/kernel/webserver/net/data/status

kw_fail() {
	echo "FAIL: $*"
	exit 1
}

kw_note() {
	echo "# $*"
}

# kw_secs N: N seconds scaled for a slow (emulated) guest.
kw_secs() {
	echo $(($1 * ${KW_SCALE:-1}))
}

# kw_tcp_owned: TCP sockets that still have an owner (a struct socket):
# allocated minus orphaned. Orphans are sockets already released that TCP
# is still closing; a socket the module never released stays owned.
kw_tcp_owned() {
	awk '$1 == "TCP:" {
		for (i = 2; i < NF; i += 2) v[$i] = $(i + 1)
		print v["alloc"] - v["orphan"]
	}' /proc/net/sockstat
}

# kw_load [param=value...]: insmod the module under test, or fail.
kw_load() {
	kw_tcp_owned >/tmp/kw.tcp_owned
	out=$(insmod "$KW_KO" "$@" 2>&1) ||
		kw_fail "insmod $KW_MODULE.ko $* failed: $out"
	kw_note "loaded $KW_MODULE $*"
}

# kw_start [param=value...]: load the module and start its server (for a
# stage with CONTROL=sysfs, by writing 1 to its status file), then wait
# until the port (9999, or port=N) listens.
kw_start() {
	p=9999
	for a in "$@"; do
		case $a in port=*) p=${a#port=} ;; esac
	done
	kw_load "$@"
	[ "$CONTROL" != sysfs ] || kw_set_status 1
	kw_wait_listen "$p"
}

# kw_set_status VALUE [FILE]: write VALUE to the status file; must succeed.
kw_set_status() {
	f=${2:-$KW_STATUS}
	[ -f "$f" ] || kw_fail "$f does not exist"
	err=$( (echo "$1" >"$f") 2>&1) ||
		kw_fail "writing $1 to $f failed: $err"
}

# kw_get_status [FILE]: print the status file's content.
kw_get_status() {
	f=${1:-$KW_STATUS}
	[ -f "$f" ] || kw_fail "$f does not exist"
	cat "$f"
}

# kw_status_rejected VALUE [FILE]: writing VALUE must fail with EINVAL.
# (The shell's echo builtin reports the write error; its printf does not.)
kw_status_rejected() {
	f=${2:-$KW_STATUS}
	if err=$( (echo "$1" >"$f") 2>&1); then
		kw_fail "writing '$(printf '%.20s' "$1")' to $f succeeded; it must fail with EINVAL"
	fi
	case $err in
	*"Invalid argument"*) ;;
	*) kw_fail "writing '$(printf '%.20s' "$1")' to $f failed with '$err', expected 'Invalid argument'" ;;
	esac
}

# kw_listeners PORT: how many sockets listen on PORT.
kw_listeners() {
	kwnet sockets -p "$1" 2>/dev/null | grep -c ' LISTEN$'
}

# Network namespaces for the tests. kw_netns_new NAME starts a process
# in a new network namespace (lo up) that keeps it alive, and mounts that
# namespace's view of sysfs at /mnt/NAME; kw_in_ns NAME CMD... runs CMD in
# it; kw_netns_del NAME lets it die (a sysfs mount holds a reference to its
# namespace, so it is unmounted first).
kw_netns_new() {
	mkdir -p "/mnt/$1"
	unshare -n sh -c 'ip link set lo up; exec sleep 3600' &
	echo $! >"/tmp/ns.$1"
	n=0
	until [ "$(readlink "/proc/$!/ns/net" 2>/dev/null)" != "$(readlink /proc/self/ns/net)" ] &&
		nsenter -t "$(cat "/tmp/ns.$1")" -n ip link show lo 2>/dev/null | grep -q UP; do
		[ $n -lt 50 ] || kw_fail "could not create network namespace $1"
		sleep 0.1
		n=$((n + 1))
	done
	nsenter -t "$(cat "/tmp/ns.$1")" -n mount -t sysfs sysfs "/mnt/$1" ||
		kw_fail "cannot mount sysfs for namespace $1"
}

kw_in_ns() {
	ns=$1
	shift
	nsenter -t "$(cat "/tmp/ns.$ns")" -n "$@"
}

kw_netns_del() {
	umount "/mnt/$1" 2>/dev/null
	kill "$(cat "/tmp/ns.$1")" 2>/dev/null
	wait "$(cat "/tmp/ns.$1")" 2>/dev/null
	rm -f "/tmp/ns.$1"
}

# kw_ns_status NAME: the status file of namespace NAME's sysfs view.
kw_ns_status() {
	echo "/mnt/$1/kernel/webserver/net/data/status"
}

# kw_load_rejected ERRNO_TEXT [param=value...]: insmod must fail with it.
kw_load_rejected() {
	want=$1
	shift
	if out=$(insmod "$KW_KO" "$@" 2>&1); then
		rmmod "$KW_MODULE" 2>/dev/null
		kw_fail "insmod with $* succeeded; it must fail with '$want'"
	fi
	case $out in
	*"$want"*) kw_note "insmod $* rejected: $out" ;;
	*) kw_fail "insmod with $* failed with '$out'; expected '$want'" ;;
	esac
}

kw_loaded() {
	grep -q "^$KW_MODULE " /proc/modules
}

# kw_unload [LIMIT [CHECK]]: rmmod must succeed within LIMIT seconds
# (default 5, scaled) and the module must be gone. CHECK, a command, runs
# every tenth of a second while rmmod does.
kw_unload() {
	limit=$(kw_secs "${1:-5}")
	rmmod "$KW_MODULE" >/tmp/rmmod.out 2>&1 &
	pid=$!
	n=0
	while kill -0 $pid 2>/dev/null; do
		[ -z "${2:-}" ] || $2
		[ $n -lt $((limit * 10)) ] ||
			kw_fail "rmmod $KW_MODULE did not return within $limit s (is the exit function waiting for a thread or work item that never wakes?)"
		sleep 0.1
		n=$((n + 1))
	done
	wait $pid || kw_fail "rmmod $KW_MODULE failed: $(cat /tmp/rmmod.out)"
	! kw_loaded || kw_fail "$KW_MODULE is still loaded after rmmod"
	kw_note "unloaded $KW_MODULE in about $((n / 10)).$((n % 10)) s"
}

# kw_wait_listen PORT [HOST]: wait (up to 5 s, scaled) until PORT listens.
kw_wait_listen() {
	n=0
	limit=$(($(kw_secs 5) * 10))
	while ! kwnet listening -p "$1" ${2:+-H "$2"} >/dev/null 2>&1; do
		[ $n -lt $limit ] ||
			kw_fail "nothing listens on ${2:-any address}:$1 ($(kwnet listening -p "$1" ${2:+-H "$2"} 2>&1))"
		sleep 0.1
		n=$((n + 1))
	done
}

# kw_not_listening PORT: nothing may listen on PORT.
kw_not_listening() {
	! kwnet listening -p "$1" >/dev/null 2>&1 ||
		kw_fail "something still listens on port $1"
}

# kw_no_sockets PORT: after rmmod, no socket on local PORT is left open by
# the server (listening, connected, or waiting for the server to close it),
# and no TCP socket the module created is still allocated.
kw_no_sockets() {
	out=$(kwnet sockets -p "$1" -s LISTEN -s ESTABLISHED -s CLOSE_WAIT \
		-s SYN_RECV 2>&1) ||
		kw_fail "a socket on port $1 is left open: $out"
	base=$(cat /tmp/kw.tcp_owned 2>/dev/null || echo 0)
	now=$(kw_tcp_owned)
	[ "$now" -le "$base" ] ||
		kw_fail "$((now - base)) TCP socket(s) are still allocated after rmmod: a socket the module created was never released (sock_release)"
}

# kw_run DESCRIPTION CMD...: run a check program; fail with its output.
kw_run() {
	what=$1
	shift
	if out=$("$@" 2>&1); then
		[ -z "$out" ] || echo "$out"
	else
		echo "$out"
		kw_fail "$what"
	fi
}

# kw_kthreads: the names of the kernel threads (children of kthreadd) that
# are not shared workqueue workers, one a line, sorted.
kw_kthreads() {
	for f in /proc/[0-9]*/stat; do
		read -r _ comm _ ppid _ <"$f" 2>/dev/null || continue
		[ "$ppid" = 2 ] || continue
		case $comm in "(kworker/"*) continue ;; esac
		echo "$comm"
	done | sort -u
}

# kw_hold N [SECONDS]: N idle client connections to 127.0.0.1:9999, held
# open in the background (at most SECONDS, default 60) once all are up;
# kw_hold_end closes them.
kw_hold() {
	kwnet hold -c "$1" -w "${2:-60}" >hold.out 2>&1 &
	KW_HOLD_PID=$!
	n=0
	until grep -q ready hold.out; do
		[ $n -lt $(($(kw_secs 10) * 10)) ] ||
			kw_fail "$1 clients could not connect: $(cat hold.out)"
		sleep 0.1
		n=$((n + 1))
	done
}

kw_hold_end() {
	kill "$KW_HOLD_PID" 2>/dev/null
	wait "$KW_HOLD_PID" 2>/dev/null
}

# kw_fib_big SECONDS: an N whose answer takes about SECONDS here, sized
# from the client's own times for /fib/100000 and /fib/300000 (never from
# what the server says), extrapolated at the rate between the two. Between
# 300,000 and 20,000,000; the module must have been loaded with
# fib_max=20000000. It runs in a subshell: call it as
# big=$(kw_fib_big 4) || kw_fail "$big".
kw_fib_big() {
	# The best of 3: the first run of the code is slower (an emulator
	# translates it first, caches are cold).
	out=$(kwfib time -n 3 -t "$(kw_secs 60)" 100000 300000 2>&1) ||
		kw_fail "timing /fib/100000 and /fib/300000 failed: $out"
	us=$(echo "$out" | sed -n 's/.* best_us=\([0-9][0-9]*\).*/\1/p' | tr '\n' ' ')
	# shellcheck disable=SC2086 # two numbers
	set -- "$1" $us
	[ $# -eq 3 ] || kw_fail "kwfib time did not time both N: $out"
	# busybox awk has no pow(): N grows by 3^(1/4) a step, the time by
	# the fourth root of the ratio measured over a factor of 3.
	awk -v s="$1" -v t1="$2" -v t3="$3" '
	function root(x, y, i) {
		y = x
		for (i = 0; i < 40; i++)
			y = (y + x / y) / 2
		return y
	}
	BEGIN {
		r = t3 / (t1 + 1)
		if (r < 3) r = 3
		f = root(root(r))
		n = 300000
		for (t = t3; t < s * 1e6 && n < 20000000; t *= f)
			n *= 1.31607
		if (n > 20000000) n = 20000000
		printf "%d\n", n }'
}

# kw_wait_stat NAME VALUE [SECONDS]: wait (5 s, scaled) until the stats
# file NAME reads at least VALUE.
kw_wait_stat() {
	n=0
	while read -r v <"/sys/kernel/webserver/net/data/stats/$1" &&
		[ "$v" -lt "$2" ]; do
		[ $n -lt $(($(kw_secs "${3:-5}") * 10)) ] ||
			kw_fail "stats/$1 reads $v after $(kw_secs "${3:-5}") s, expected at least $2"
		sleep 0.1
		n=$((n + 1))
	done
}

# kw_cpu_busy SECONDS: how busy the CPUs were (all of them, in percent)
# over the next SECONDS, from /proc/stat.
kw_cpu_busy() {
	a=$(head -n 1 /proc/stat)
	sleep "$1"
	b=$(head -n 1 /proc/stat)
	printf '%s\n%s\n' "$a" "$b" | awk '{
		t = 0
		for (i = 2; i <= NF; i++) t += $i
		idle = $5 + $6
		if (NR == 1) { t0 = t; i0 = idle; next }
		dt = t - t0
		printf "%d\n", dt ? 100 * (dt - (idle - i0)) / dt : 0 }'
}

# kw_taint_ok: no bad page (KASAN, KFENCE), oops, warning or soft lockup
# since boot: the taints the runner fails a test on.
kw_taint_ok() {
	t=$(cat /proc/sys/kernel/tainted)
	[ $((t & (32 | 128 | 512 | 16384))) -eq 0 ] ||
		kw_fail "the kernel is tainted ($t): see the kernel log"
}

# kw_dmesg_has TEXT: the kernel log since the test started mentions TEXT.
kw_dmesg_has() {
	dmesg | grep -qi -- "$1" || kw_fail "the kernel log does not mention '$1'"
}

# kw_host_probe KIND: ask the host to check the server from outside the
# guest (KIND echo or http: it connects to port 9999 of this guest through
# QEMU's network) and wait until it has. The host scores what it saw; the
# answer printed here is only for the log. The results port is the
# runner's descriptor 9: opening the serial line here would make it this
# session's terminal, hung up when the test ends.
kw_host_probe() {
	if [ -z "${KW_NONCE:-}" ] || ! { true >&9; } 2>/dev/null; then
		kw_fail "no results port: kw_host_probe runs only under the grader"
	fi
	printf 'KWEB %s probe %s %s %s\n' "$KW_NONCE" "$KW_INDEX" "$KW_NAME" "$1" >&9
	# shellcheck disable=SC3045 # busybox sh's read has -t
	while IFS= read -r -t "$(kw_secs 60)" l <&9; do
		case $l in
		"KWEB-PROBED $KW_NONCE "*)
			kw_note "the host's probe: ${l#KWEB-PROBED "$KW_NONCE" }"
			return 0
			;;
		esac
	done
	kw_fail "the host did not answer the probe request"
}
