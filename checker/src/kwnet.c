// SPDX-License-Identifier: GPL-2.0
/*
 * kwnet - the kweb-lab test client, run by the guest-side test scripts.
 *
 *   kwnet SUBCOMMAND [options]      (kwnet help lists them)
 *
 * Exit status: 0 when the check passed, 1 when it failed (with one line on
 * stderr saying what was expected and what happened), 2 on a usage error
 * or when kwnet itself could not run.
 *
 * Every blocking step (connect, send, receive) waits in poll() with a
 * deadline, so no server bug can hang a test.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kwlib.h"

#define MAX_CLIENTS	10000
#define MAX_SIZE	(1UL << 30)
#define MAX_RESPONSE	(16UL << 20)
#define MAX_RAW_REQUEST	(1UL << 20)

static const char usage_text[] =
"usage: kwnet SUBCOMMAND [options]\n"
"\n"
"  echo -n SIZE -c CLIENTS [-r ROUNDS] [-s CHUNK]\n"
"        CLIENTS connections at once each send ROUNDS messages of SIZE\n"
"        pattern bytes (in writes of at most CHUNK bytes) and check every\n"
"        echo byte for byte before the next round\n"
"  hold -c N [-w SECONDS] [-r]\n"
"        open N connections, print 'ready', keep them open for SECONDS\n"
"        (60), until EOF on a piped stdin, or until SIGTERM/SIGINT; -r:\n"
"        first send one HTTP/1.1 GET on each and read its response (200,\n"
"        not 'Connection: close'), so each is an idle keep-alive connection\n"
"  abort -n SIZE [-m]\n"
"        connect, send SIZE bytes (-m: half of them), close with a reset\n"
"  refused\n"
"        pass if the connection is refused\n"
"  sockets -p PORT [-s STATE]... [-f FILE]\n"
"        list the TCP sockets whose local port is PORT; fail if one is in\n"
"        a STATE given (LISTEN, ESTABLISHED, CLOSE_WAIT, SYN_RECV, ...)\n"
"  listening -p PORT [-H HOST] [-f FILE]\n"
"        pass if a socket listens on PORT (and on HOST if -H is given)\n"
"  http [-m METHOD] [-u PATH] [-V 1.0|1.1] [-c CLIENTS] [-S SPLIT [-d MS]]\n"
"       [-x STATUS] [-b BODY] [-R RAWFILE] [-v]\n"
"        send a request (or RAWFILE verbatim), in SPLIT-byte pieces MS\n"
"        (100) ms apart with -S, and check the response: status STATUS\n"
"        (200), CRLF line ends, Content-Length, the body (-b); -v prints\n"
"        the response of client 0\n"
"  keepalive -n N [-u PATH] [-m GET|HEAD] [-b BODY]\n"
"        N HTTP/1.1 requests one after the other on one connection; each\n"
"        response must be 200 with a Content-Length, the same body every\n"
"        time (BODY with -b), and not 'Connection: close' before the last\n"
"  pipeline -n N [-u PATH]\n"
"        N requests in one write (GET, HEAD, GET, ...; the last with\n"
"        'Connection: close'); exactly N responses must come back in order,\n"
"        each 200 with a Content-Length (no body after HEAD), then the\n"
"        server must close the connection\n"
"  drip -c N -i MS [-e SECONDS] [-w SECONDS]\n"
"        N connections each send a request head that never ends, one byte\n"
"        every MS ms; print 'ready' once all have sent their first byte;\n"
"        -e: each must be closed by the server within SECONDS of its first\n"
"        byte; stop when all are closed, after -w SECONDS (60), on EOF on a\n"
"        piped stdin or SIGTERM/SIGINT; print 'closed K/N after MIN..MAX s'\n"
"\n"
"common options: -p PORT (9999); -H HOST (127.0.0.1) and -t SECONDS, the\n"
"timeout of each step (10), for the subcommands that connect\n"
"sockets and listening read /proc/net/tcp, or FILE with -f\n"
"exit status: 0 passed, 1 a check failed, 2 usage error or kwnet could\n"
"not run\n";

/* The subcommand being run, for messages. */
static const char *cmd_name = "";

static struct {
	const char *host_str;	/* as given, for messages and Host: */
	uint32_t host;		/* host byte order */
	bool host_set;		/* -H given */
	int port;
	int timeout;		/* seconds, for each step */
} cfg = {
	.host_str = "127.0.0.1",
	.host = 0x7f000001,
	.port = 9999,
	.timeout = 10,
};

/* Scratch space for pattern bytes going out and echoes coming back. */
static unsigned char scratch[64 * 1024];

/* ---- messages ---------------------------------------------------------- */

/*
 * @len bytes at @s, quoted for a one-line message: printable ASCII as is,
 * the rest as C escapes, cut short with "..." after about 60 characters.
 */
static const char *quote(const char *s, size_t len, char *buf, size_t size)
{
	return kw_quote(s, len, 60, buf, size);
}

/* Like quote(), in quotes, or "the end" when there is nothing left. */
static const char *quote_or_end(const char *s, size_t len, char *buf,
				size_t size)
{
	if (len == 0)
		return "the end";
	buf[0] = '\'';
	quote(s, len, buf + 1, size - 2);
	strcat(buf, "'");
	return buf;
}

/* ---- options ----------------------------------------------------------- */

/* The options every network subcommand takes: -H, -p, -t. */
static bool common_opt(int opt, const char *arg)
{
	switch (opt) {
	case 'H':
		cfg.host = kw_host_arg(opt, arg);
		cfg.host_str = arg;
		cfg.host_set = true;
		return true;
	case 'p':
		cfg.port = kw_port_arg(opt, arg);
		return true;
	case 't':
		cfg.timeout = (int)kw_num_arg(opt, arg, 1, 3600);
		return true;
	}
	return false;
}

static void no_operands(int argc, char **argv)
{
	if (optind < argc)
		kw_die("unexpected argument '%s' (see 'kwnet help')",
		       argv[optind]);
}

/* ---- time and sockets -------------------------------------------------- */

static int64_t step_deadline(void)
{
	return kw_now_ms() + (int64_t)cfg.timeout * 1000;
}

static const char *target_str(void)
{
	static char buf[KW_IPV4_STRLEN + 8];

	snprintf(buf, sizeof(buf), "%s:%d", cfg.host_str, cfg.port);
	return buf;
}

/* Make room for @n sockets under the open-file limit, as far as allowed. */
static void raise_fd_limit(int n)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)n + 32;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
	setrlimit(RLIMIT_NOFILE, &rl);
}

/* Connect @n sockets to the target at once: see kw_connect_all(). */
static int connect_all(int *fds, int n, int *bad)
{
	raise_fd_limit(n);
	return kw_connect_all(cfg.host, cfg.port, step_deadline(), fds, n, bad);
}

/* Connect @n clients or fail, naming the client when there are several. */
static void connect_or_fail(int *fds, int n)
{
	char who[32] = "";
	int bad = 0;
	int err = connect_all(fds, n, &bad);

	if (!err)
		return;
	if (n > 1)
		snprintf(who, sizeof(who), "client %d: ", bad);
	if (err == ETIMEDOUT)
		kw_fail("%sconnecting to %s timed out after %d s", who,
			target_str(), cfg.timeout);
	kw_fail("%scannot connect to %s: %s", who, target_str(), strerror(err));
}

/* ---- echo -------------------------------------------------------------- */

struct echo_opts {
	size_t size;
	size_t chunk;
	unsigned long rounds;
	int clients;
};

struct echo_client {
	int fd;
	unsigned long round;	/* 0-based */
	size_t sent;		/* bytes of this round sent */
	size_t got;		/* bytes of this round echoed and checked */
	int64_t deadline;	/* for this round */
	bool done;
};

static void echo_send(struct echo_client *c, int idx,
		      const struct echo_opts *o)
{
	size_t len = o->size - c->sent;
	ssize_t n;

	if (len > o->chunk)
		len = o->chunk;
	if (len > sizeof(scratch))
		len = sizeof(scratch);
	kw_pattern_fill(scratch, len, (uint32_t)idx,
			c->round * o->size + c->sent);
	n = send(c->fd, scratch, len, MSG_NOSIGNAL);
	if (n < 0) {
		if (kw_again(errno))
			return;
		kw_fail("client %d, round %lu: send failed after %zu of %zu bytes: %s",
			idx, c->round + 1, c->sent, o->size, strerror(errno));
	}
	c->sent += (size_t)n;
}

static void echo_recv(struct echo_client *c, int idx,
		      const struct echo_opts *o)
{
	size_t stream_off = c->round * o->size + c->got;
	size_t expected, bad;
	ssize_t n;

	n = recv(c->fd, scratch, sizeof(scratch), 0);
	if (n < 0) {
		if (kw_again(errno))
			return;
		kw_fail("client %d, round %lu: receive failed after %zu of %zu bytes came back: %s",
			idx, c->round + 1, c->got, o->size, strerror(errno));
	}
	if (n == 0)
		kw_fail("client %d, round %lu: the server closed the connection after echoing %zu of %zu bytes",
			idx, c->round + 1, c->got, o->size);

	/* the server cannot echo what it has not been sent */
	expected = c->sent - c->got;
	if (expected > (size_t)n)
		expected = (size_t)n;
	bad = kw_pattern_check(scratch, expected, (uint32_t)idx, stream_off);
	if (bad != KW_PATTERN_OK)
		kw_fail("client %d, round %lu: byte %zu of %zu differs: expected 0x%02x, got 0x%02x",
			idx, c->round + 1, c->got + bad, o->size,
			kw_pattern_byte((uint32_t)idx, stream_off + bad),
			scratch[bad]);
	if ((size_t)n > expected)
		kw_fail("client %d, round %lu: %zu bytes came back but only %zu were sent",
			idx, c->round + 1, c->got + (size_t)n, c->sent);

	c->got += (size_t)n;
	if (c->got < o->size)
		return;
	c->round++;
	c->sent = 0;
	c->got = 0;
	c->deadline = step_deadline();
	c->done = c->round == o->rounds;
}

static void echo_run(struct echo_client *cl, const struct echo_opts *o)
{
	struct pollfd *pfd = kw_xcalloc((size_t)o->clients, sizeof(*pfd));
	int active = o->clients;
	int i;

	while (active > 0) {
		int64_t now = kw_now_ms(), wake = INT64_MAX;

		for (i = 0; i < o->clients; i++) {
			struct echo_client *c = &cl[i];

			pfd[i].fd = -1;
			pfd[i].revents = 0;
			if (c->done)
				continue;
			if (now >= c->deadline)
				kw_fail("client %d, round %lu: timed out after %d s: %zu of %zu bytes sent, %zu echoed back",
					i, c->round + 1, cfg.timeout, c->sent,
					o->size, c->got);
			pfd[i].fd = c->fd;
			pfd[i].events = POLLIN;
			if (c->sent < o->size)
				pfd[i].events |= POLLOUT;
			if (c->deadline < wake)
				wake = c->deadline;
		}
		if (poll(pfd, (nfds_t)o->clients, kw_ms_left(wake)) < 0) {
			if (errno == EINTR)
				continue;
			kw_die("poll: %s", strerror(errno));
		}
		for (i = 0; i < o->clients; i++) {
			struct echo_client *c = &cl[i];
			short ev = pfd[i].revents;

			if (pfd[i].fd < 0 || !ev)
				continue;
			if (ev & (POLLIN | POLLHUP | POLLERR))
				echo_recv(c, i, o);
			if (!c->done && (ev & POLLOUT) && c->sent < o->size)
				echo_send(c, i, o);
			if (c->done)
				active--;
		}
	}
	free(pfd);
}

static int cmd_echo(int argc, char **argv)
{
	struct echo_opts o = { .rounds = 1 };
	struct echo_client *cl;
	int *fds;
	int opt, i;

	while ((opt = kw_next_opt(argc, argv, ":H:p:t:n:c:r:s:")) != -1) {
		if (common_opt(opt, optarg))
			continue;
		switch (opt) {
		case 'n':
			o.size = kw_num_arg(opt, optarg, 1, MAX_SIZE);
			break;
		case 'c':
			o.clients = (int)kw_num_arg(opt, optarg, 1, MAX_CLIENTS);
			break;
		case 'r':
			o.rounds = kw_num_arg(opt, optarg, 1, 1000000);
			break;
		case 's':
			o.chunk = kw_num_arg(opt, optarg, 1, MAX_SIZE);
			break;
		}
	}
	no_operands(argc, argv);
	if (!o.size)
		kw_die("-n SIZE is required");
	if (!o.clients)
		kw_die("-c CLIENTS is required");
	if (!o.chunk || o.chunk > o.size)
		o.chunk = o.size;

	fds = kw_xcalloc((size_t)o.clients, sizeof(*fds));
	cl = kw_xcalloc((size_t)o.clients, sizeof(*cl));
	/* every client is connected before any sends */
	connect_or_fail(fds, o.clients);
	for (i = 0; i < o.clients; i++) {
		cl[i].fd = fds[i];
		cl[i].deadline = step_deadline();
		/* let small writes leave as separate segments */
		if (o.chunk < o.size)
			kw_set_nodelay(fds[i]);
	}

	/* and none closes before all are done: the server serves them all */
	echo_run(cl, &o);

	for (i = 0; i < o.clients; i++) {
		ssize_t n = recv(cl[i].fd, scratch, sizeof(scratch),
				 MSG_DONTWAIT);

		if (n > 0)
			kw_fail("client %d: %zd unexpected bytes came back after the last round",
				i, n);
		close(cl[i].fd);
	}
	printf("echo: %d clients x %lu rounds x %zu bytes ok\n", o.clients,
	       o.rounds, o.size);
	free(cl);
	free(fds);
	return 0;
}

/* ---- hold -------------------------------------------------------------- */

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

/*
 * Only a pipe, a socket or a terminal reaches EOF on purpose: a background
 * job of a script gets /dev/null, whose EOF must not end the hold.
 */
static bool stdin_watchable(void)
{
	struct stat st;

	if (fstat(STDIN_FILENO, &st) < 0)
		return false;
	return S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) ||
	       isatty(STDIN_FILENO);
}

static void hold_fetch(int *fds, int n);

static int cmd_hold(int argc, char **argv)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
	struct sigaction sa = { .sa_handler = on_signal };
	unsigned long wait_s = 60;
	struct pollfd in = { .fd = -1, .events = POLLIN };
	sigset_t block, orig;
	int64_t deadline;
	bool fetch = false;
	int n = 0, opt, i;
	int *fds;

	while ((opt = kw_next_opt(argc, argv, ":H:p:t:c:w:r")) != -1) {
		if (common_opt(opt, optarg))
			continue;
		switch (opt) {
		case 'c':
			n = (int)kw_num_arg(opt, optarg, 1, MAX_CLIENTS);
			break;
		case 'w':
			wait_s = kw_num_arg(opt, optarg, 0, 86400);
			break;
		case 'r':
			fetch = true;
			break;
		}
	}
	no_operands(argc, argv);
	if (!n)
		kw_die("-c N is required");

	/* a signal that comes early is delivered in ppoll() below */
	sigemptyset(&block);
	for (i = 0; i < (int)(sizeof(sigs) / sizeof(sigs[0])); i++) {
		sigaddset(&block, sigs[i]);
		sigaction(sigs[i], &sa, NULL);
	}
	sigprocmask(SIG_BLOCK, &block, &orig);

	fds = kw_xcalloc((size_t)n, sizeof(*fds));
	connect_or_fail(fds, n);
	if (fetch)
		hold_fetch(fds, n);
	printf("ready\n");
	fflush(stdout);

	if (stdin_watchable())
		in.fd = STDIN_FILENO;
	deadline = kw_now_ms() + (int64_t)wait_s * 1000;
	while (!got_signal) {
		int ms = kw_ms_left(deadline);
		struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
		char buf[256];
		ssize_t len;
		int rc;

		if (ms == 0)
			break;
		rc = ppoll(&in, 1, &ts, &orig);
		if (rc < 0 && errno != EINTR)
			kw_die("ppoll: %s", strerror(errno));
		if (rc <= 0 || !in.revents)
			continue;
		len = read(in.fd, buf, sizeof(buf));
		if (len == 0 || (len < 0 && !kw_again(errno)))
			break;
	}

	for (i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
	return 0;
}

/* ---- abort ------------------------------------------------------------- */

static int cmd_abort(int argc, char **argv)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	unsigned long size = 0;
	bool have_size = false, mid = false;
	size_t total, sent = 0;
	int64_t deadline;
	int opt, fd, err = 0;

	while ((opt = kw_next_opt(argc, argv, ":H:p:t:n:m")) != -1) {
		if (common_opt(opt, optarg))
			continue;
		switch (opt) {
		case 'n':
			size = kw_num_arg(opt, optarg, 0, MAX_SIZE);
			have_size = true;
			break;
		case 'm':
			mid = true;
			break;
		}
	}
	no_operands(argc, argv);
	if (!have_size)
		kw_die("-n SIZE is required");
	total = mid ? size / 2 : size;

	connect_or_fail(&fd, 1);
	deadline = step_deadline();
	while (sent < total && !err) {
		size_t len = total - sent, done;

		if (len > sizeof(scratch))
			len = sizeof(scratch);
		kw_pattern_fill(scratch, len, 0, sent);
		err = kw_send_all(fd, scratch, len, deadline, &done);
		sent += done;
	}
	if (err == ETIMEDOUT)
		kw_note("note: the server took only %zu of %zu bytes within %d s",
			sent, total, cfg.timeout);
	else if (err)
		kw_note("note: sending stopped after %zu of %zu bytes: %s", sent,
			total, strerror(err));

	if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0)
		kw_die("cannot set SO_LINGER: %s", strerror(errno));
	close(fd);
	printf("abort: sent %zu of %lu bytes to %s, then reset the connection\n",
	       sent, size, target_str());
	return 0;
}

/* ---- refused ----------------------------------------------------------- */

static int cmd_refused(int argc, char **argv)
{
	int opt, fd, bad, err;

	while ((opt = kw_next_opt(argc, argv, ":H:p:t:")) != -1)
		common_opt(opt, optarg);
	no_operands(argc, argv);

	err = connect_all(&fd, 1, &bad);
	if (!err) {
		close(fd);
		kw_fail("connected to %s; expected the connection to be refused",
			target_str());
	}
	if (err == ETIMEDOUT)
		kw_fail("no answer from %s within %d s; expected the connection to be refused",
			target_str(), cfg.timeout);
	if (err != ECONNREFUSED)
		kw_fail("connecting to %s failed with '%s'; expected 'Connection refused'",
			target_str(), strerror(err));
	printf("refused: %s refused the connection\n", target_str());
	return 0;
}

/* ---- sockets, listening ------------------------------------------------ */

/* The entries of the /proc/net/tcp table in @path; exits if unreadable. */
static struct kw_tcp_entry *read_tcp_table(const char *path, size_t *count)
{
	struct kw_tcp_entry *v = NULL;
	size_t n = 0, cap = 0, lineno = 0, linecap = 0;
	char *line = NULL;
	FILE *f = fopen(path, "r");

	if (!f)
		kw_die("cannot open %s: %s", path, strerror(errno));
	while (getline(&line, &linecap, f) >= 0) {
		struct kw_tcp_entry e;

		lineno++;
		if (kw_tcp_parse_line(line, &e) < 0) {
			/* the first line is the header */
			if (lineno == 1 || line[strspn(line, " \t\n")] == '\0')
				continue;
			kw_die("%s:%zu: not a /proc/net/tcp entry", path, lineno);
		}
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			v = kw_xrealloc(v, cap * sizeof(*v));
		}
		v[n++] = e;
	}
	if (ferror(f))
		kw_die("cannot read %s: %s", path, strerror(errno));
	fclose(f);
	free(line);
	*count = n;
	return v;
}

/* "LOCALIP:PORT REMOTEIP:PORT STATE" */
static const char *entry_str(const struct kw_tcp_entry *e)
{
	static char buf[2 * (KW_IPV4_STRLEN + 6) + 20];
	char la[KW_IPV4_STRLEN], ra[KW_IPV4_STRLEN];

	snprintf(buf, sizeof(buf), "%s:%d %s:%d %s",
		 kw_ipv4_str(e->local_addr, la), e->local_port,
		 kw_ipv4_str(e->remote_addr, ra), e->remote_port,
		 kw_tcp_state_name(e->state));
	return buf;
}

static _Noreturn void die_bad_state(const char *arg)
{
	char list[256] = "";
	size_t o = 0;
	int st;

	for (st = 0; st < KW_TCP_MAX_STATES && o < sizeof(list); st++) {
		if (strcmp(kw_tcp_state_name(st), "UNKNOWN") != 0)
			o += (size_t)snprintf(list + o, sizeof(list) - o,
					      "%s%s", o ? " " : "",
					      kw_tcp_state_name(st));
	}
	kw_die("unknown state '%s' (states: %s)", arg, list);
}

static int cmd_sockets(int argc, char **argv)
{
	const char *path = "/proc/net/tcp";
	const struct kw_tcp_entry *bad = NULL;
	struct kw_tcp_entry *tab;
	unsigned int states = 0;
	size_t n, i;
	int opt, st;

	while ((opt = kw_next_opt(argc, argv, ":p:s:f:")) != -1) {
		if (common_opt(opt, optarg))
			continue;
		switch (opt) {
		case 's':
			st = kw_tcp_state_parse(optarg);
			if (st < 0)
				die_bad_state(optarg);
			states |= 1U << st;
			break;
		case 'f':
			path = optarg;
			break;
		}
	}
	no_operands(argc, argv);

	tab = read_tcp_table(path, &n);
	for (i = 0; i < n; i++) {
		if (tab[i].local_port != cfg.port)
			continue;
		printf("%s\n", entry_str(&tab[i]));
		if (!bad && tab[i].state < 32 &&
		    (states & 1U << tab[i].state))
			bad = &tab[i];
	}
	if (bad)
		kw_fail("a socket on port %d is %s: %s", cfg.port,
			kw_tcp_state_name(bad->state), entry_str(bad));
	free(tab);
	return 0;
}

static int cmd_listening(int argc, char **argv)
{
	const char *path = "/proc/net/tcp";
	struct kw_tcp_entry *tab;
	char others[512] = "";
	size_t n, i, o = 0;
	int opt;

	while ((opt = kw_next_opt(argc, argv, ":H:p:f:")) != -1) {
		if (common_opt(opt, optarg))
			continue;
		if (opt == 'f')
			path = optarg;
	}
	no_operands(argc, argv);

	tab = read_tcp_table(path, &n);
	for (i = 0; i < n; i++) {
		char a[KW_IPV4_STRLEN];

		if (tab[i].local_port != cfg.port ||
		    tab[i].state != KW_TCP_LISTEN)
			continue;
		if (!cfg.host_set || tab[i].local_addr == cfg.host) {
			printf("listening: %s:%d\n",
			       kw_ipv4_str(tab[i].local_addr, a), cfg.port);
			free(tab);
			return 0;
		}
		if (o < sizeof(others))
			o += (size_t)snprintf(others + o, sizeof(others) - o,
					      "%s%s:%d", o ? ", " : "",
					      kw_ipv4_str(tab[i].local_addr, a),
					      cfg.port);
	}
	if (!cfg.host_set)
		kw_fail("nothing listens on port %d", cfg.port);
	if (!o)
		kw_fail("nothing listens on %s:%d (nor on any address with port %d)",
			cfg.host_str, cfg.port, cfg.port);
	kw_fail("nothing listens on %s:%d (listening on port %d: %s)",
		cfg.host_str, cfg.port, cfg.port, others);
}

/* ---- http -------------------------------------------------------------- */

struct http_opts {
	char *req;		/* what to send */
	size_t req_len;
	char *what;		/* the request, for the summary */
	bool head;		/* a HEAD request: no body may come back */
	bool http11;		/* an HTTP/1.1 request: may stay open */
	size_t split;		/* piece size */
	unsigned long delay;	/* ms between pieces */
	int status;		/* expected */
	const char *body;	/* expected, or NULL */
	int clients;
	bool verbose;
};

enum http_state { HTTP_SENDING, HTTP_RECEIVING, HTTP_DONE };

struct http_client {
	int fd;
	enum http_state state;
	size_t req_off;		/* request bytes sent */
	size_t piece_end;	/* end of the piece being sent */
	int64_t send_at;	/* when that piece may go */
	int64_t deadline;	/* of the current step */
	char *resp;
	size_t resp_len;
	size_t resp_cap;
	int send_err;		/* what stopped the sending, or 0 */
	int recv_err;		/* what ended the receiving, or 0 */
	bool timed_out;
};

static bool value_is(const char *v, size_t len, const char *word)
{
	return v && len == strlen(word) && strncasecmp(v, word, len) == 0;
}

/*
 * Has the response in @c ended before the server closed the connection?
 * It has when its head is malformed, and, after an HTTP/1.1 request that
 * lets the server keep the connection open, where Content-Length says.
 */
static bool http_ended(const struct http_client *c, const struct http_opts *o)
{
	struct kw_http_resp r;
	int rc = kw_http_parse(c->resp, c->resp_len, &r);

	if (rc < 0)
		return true;
	if (rc > 0 || !o->http11 || r.minor != 1 ||
	    value_is(r.connection, r.connection_len, "close"))
		return false;
	if (o->head)
		return true;
	return r.content_length >= 0 &&
	       c->resp_len - r.body_off >= (size_t)r.content_length;
}

static void http_send(struct http_client *c, const struct http_opts *o)
{
	ssize_t n = send(c->fd, o->req + c->req_off, c->piece_end - c->req_off,
			 MSG_NOSIGNAL);

	if (n < 0) {
		if (kw_again(errno))
			return;
		/* the server may have answered and closed: read that */
		c->send_err = errno;
		c->state = HTTP_RECEIVING;
		c->deadline = step_deadline();
		return;
	}
	c->req_off += (size_t)n;
	if (c->req_off < c->piece_end)
		return;
	if (c->req_off == o->req_len) {
		c->state = HTTP_RECEIVING;
		c->deadline = step_deadline();
		return;
	}
	c->piece_end += o->split;
	if (c->piece_end > o->req_len)
		c->piece_end = o->req_len;
	c->send_at = kw_now_ms() + (int64_t)o->delay;
	c->deadline = c->send_at + (int64_t)cfg.timeout * 1000;
}

static void http_recv(struct http_client *c, const struct http_opts *o)
{
	ssize_t n;

	if (c->resp_len == c->resp_cap) {
		if (c->resp_cap >= MAX_RESPONSE) {
			c->recv_err = EFBIG;
			c->state = HTTP_DONE;
			return;
		}
		c->resp_cap = c->resp_cap ? 2 * c->resp_cap : 4096;
		c->resp = kw_xrealloc(c->resp, c->resp_cap);
	}
	n = recv(c->fd, c->resp + c->resp_len, c->resp_cap - c->resp_len, 0);
	if (n < 0) {
		if (kw_again(errno))
			return;
		c->recv_err = errno;
		c->state = HTTP_DONE;
		return;
	}
	if (n == 0) {
		c->state = HTTP_DONE;
		return;
	}
	c->resp_len += (size_t)n;
	if (http_ended(c, o))
		c->state = HTTP_DONE;
}

static void http_run(struct http_client *cl, const struct http_opts *o)
{
	struct pollfd *pfd = kw_xcalloc((size_t)o->clients, sizeof(*pfd));
	int active = o->clients;
	int i;

	for (i = 0; i < o->clients; i++) {
		cl[i].piece_end = o->split < o->req_len ? o->split : o->req_len;
		cl[i].send_at = kw_now_ms();
		cl[i].deadline = step_deadline();
	}
	while (active > 0) {
		int64_t now = kw_now_ms(), wake = INT64_MAX;

		for (i = 0; i < o->clients; i++) {
			struct http_client *c = &cl[i];

			pfd[i].fd = -1;
			pfd[i].revents = 0;
			if (c->state == HTTP_DONE)
				continue;
			if (now >= c->deadline) {
				c->timed_out = true;
				c->state = HTTP_DONE;
				active--;
				continue;
			}
			pfd[i].fd = c->fd;
			pfd[i].events = POLLIN;
			if (c->deadline < wake)
				wake = c->deadline;
			if (c->state != HTTP_SENDING)
				continue;
			if (now >= c->send_at)
				pfd[i].events |= POLLOUT;
			else if (c->send_at < wake)
				wake = c->send_at;
		}
		if (active == 0)
			break;
		if (poll(pfd, (nfds_t)o->clients, kw_ms_left(wake)) < 0) {
			if (errno == EINTR)
				continue;
			kw_die("poll: %s", strerror(errno));
		}
		for (i = 0; i < o->clients; i++) {
			struct http_client *c = &cl[i];
			short ev = pfd[i].revents;

			if (pfd[i].fd < 0 || !ev)
				continue;
			if (ev & (POLLIN | POLLHUP | POLLERR))
				http_recv(c, o);
			if (c->state == HTTP_SENDING && (ev & POLLOUT))
				http_send(c, o);
			if (c->state == HTTP_DONE)
				active--;
		}
	}
	free(pfd);
}

/*
 * Check what client @c received. Returns true if it is right; else puts
 * what is wrong into @why. On success *@body_len is the body's length.
 */
static bool http_check(const struct http_client *c,
		       const struct http_opts *o, char *why, size_t size,
		       size_t *body_len)
{
	struct kw_http_resp r;
	const char *body;
	char q1[96];
	size_t blen;
	int rc;

	if (c->resp_len == 0) {
		char sent[80] = "";

		if (c->req_off < o->req_len)
			snprintf(sent, sizeof(sent), " after %zu of %zu request bytes",
				 c->req_off, o->req_len);
		if (c->timed_out)
			snprintf(why, size, "no response within %d s (%zu of %zu request bytes sent)",
				 cfg.timeout, c->req_off, o->req_len);
		else if (c->send_err)
			snprintf(why, size, "sending the request failed%s: %s",
				 sent, strerror(c->send_err));
		else if (c->recv_err)
			snprintf(why, size, "no response%s: %s", sent,
				 strerror(c->recv_err));
		else
			snprintf(why, size, "the server closed the connection%s without a response",
				 sent);
		return false;
	}

	rc = kw_http_parse(c->resp, c->resp_len, &r);
	if (rc < 0) {
		kw_http_malformed_why(c->resp, c->resp_len, &r, why, size);
		return false;
	}
	if (rc > 0) {
		if (c->timed_out)
			snprintf(why, size, "the response head did not end within %d s (%zu bytes, no empty line yet)",
				 cfg.timeout, c->resp_len);
		else if (c->recv_err)
			snprintf(why, size, "receiving failed after %zu bytes of the response head: %s",
				 c->resp_len, strerror(c->recv_err));
		else
			snprintf(why, size, "the connection closed after %zu bytes, before the empty line that ends the response head",
				 c->resp_len);
		return false;
	}

	if (r.status != o->status) {
		snprintf(why, size, "status %d, expected %d (status line '%s')",
			 r.status, o->status,
			 quote(r.status_line, r.status_line_len, q1,
			       sizeof(q1)));
		return false;
	}
	if (r.bare_lf) {
		snprintf(why, size, "line %d of the response head ends in a bare LF; HTTP lines end in CRLF",
			 r.bare_lf_line);
		return false;
	}

	body = c->resp + r.body_off;
	blen = c->resp_len - r.body_off;
	if (!o->head && r.content_length >= 0 &&
	    blen < (size_t)r.content_length && (c->timed_out || c->recv_err)) {
		snprintf(why, size, "Content-Length is %ld but only %zu body bytes came (%s)",
			 r.content_length, blen,
			 c->timed_out ? "timed out" : strerror(c->recv_err));
		return false;
	}
	if (c->timed_out) {
		snprintf(why, size, "the server did not close the connection within %d s after the response",
			 cfg.timeout);
		return false;
	}
	if (c->recv_err == EFBIG) {
		snprintf(why, size, "the response is larger than %lu bytes",
			 MAX_RESPONSE);
		return false;
	}
	if (o->head && blen) {
		snprintf(why, size, "the response to HEAD has a %zu-byte body ('%s'); it must have none",
			 blen, quote(body, blen, q1, sizeof(q1)));
		return false;
	}
	if (!o->head && r.content_length >= 0 &&
	    blen != (size_t)r.content_length) {
		snprintf(why, size, "Content-Length is %ld but the body has %zu bytes",
			 r.content_length, blen);
		return false;
	}
	if (o->body) {
		size_t want = strlen(o->body), i;
		char q2[96];

		for (i = 0; i < want && i < blen && body[i] == o->body[i]; i++)
			;
		if (i < want || i < blen) {
			snprintf(why, size, "the body differs from the expected one at byte %zu: expected %s, got %s (%zu bytes expected, %zu came)",
				 i, quote_or_end(o->body + i, want - i, q1,
						 sizeof(q1)),
				 quote_or_end(body + i, blen - i, q2,
					      sizeof(q2)),
				 want, blen);
			return false;
		}
	}
	*body_len = blen;
	return true;
}

/* Refuse what would not make one clean request line. */
static void check_token(int opt, const char *arg)
{
	const char *p;

	if (*arg == '\0')
		kw_die("-%c must not be empty", opt);
	for (p = arg; *p; p++) {
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			kw_die("-%c '%s' has a blank or control character (use -R RAWFILE for such requests)",
			       opt, arg);
	}
}

static char *read_raw_request(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = kw_xrealloc(NULL, MAX_RAW_REQUEST + 2);

	if (!f)
		kw_die("cannot open %s: %s", path, strerror(errno));
	*len = fread(buf, 1, MAX_RAW_REQUEST + 1, f);
	if (ferror(f))
		kw_die("cannot read %s: %s", path, strerror(errno));
	fclose(f);
	if (*len == 0)
		kw_die("%s is empty", path);
	if (*len > MAX_RAW_REQUEST)
		kw_die("%s is larger than %lu bytes", path, MAX_RAW_REQUEST);
	buf[*len] = '\0';
	return buf;
}

/* Fill @o from the options of the http subcommand, request included. */
static void http_options(int argc, char **argv, struct http_opts *o)
{
	const char *method = NULL, *path = "/", *raw = NULL;
	bool have_delay = false;
	int minor = 0, opt;

	while ((opt = kw_next_opt(argc, argv,
				  ":H:p:t:m:u:V:c:S:d:x:b:R:v")) != -1) {
		if (common_opt(opt, optarg))
			continue;
		switch (opt) {
		case 'm':
			check_token(opt, optarg);
			method = optarg;
			break;
		case 'u':
			check_token(opt, optarg);
			path = optarg;
			break;
		case 'V':
			if (strcmp(optarg, "1.0") && strcmp(optarg, "1.1"))
				kw_die("invalid -V '%s': expected 1.0 or 1.1",
				       optarg);
			minor = optarg[2] - '0';
			break;
		case 'c':
			o->clients = (int)kw_num_arg(opt, optarg, 1, MAX_CLIENTS);
			break;
		case 'S':
			o->split = kw_num_arg(opt, optarg, 1, MAX_RAW_REQUEST);
			break;
		case 'd':
			o->delay = kw_num_arg(opt, optarg, 0, 60000);
			have_delay = true;
			break;
		case 'x':
			o->status = (int)kw_num_arg(opt, optarg, 100, 999);
			break;
		case 'b':
			o->body = optarg;
			break;
		case 'R':
			raw = optarg;
			break;
		case 'v':
			o->verbose = true;
			break;
		}
	}
	no_operands(argc, argv);
	if (have_delay && !o->split)
		kw_die("-d needs -S SPLIT");
	if (o->split && !have_delay)
		o->delay = 100;

	if (raw) {
		size_t line_len;

		o->req = read_raw_request(raw, &o->req_len);
		line_len = strcspn(o->req, "\n");
		/* HEAD and HTTP/1.1 as the raw request line says */
		o->head = method ? !strcmp(method, "HEAD") :
			 !strncmp(o->req, "HEAD ", 5);
		o->http11 = memmem(o->req, line_len, " HTTP/1.1", 9) != NULL;
		o->what = kw_xasprintf("%s", raw);
	} else {
		if (!method)
			method = "GET";
		o->req = kw_xasprintf("%s %s HTTP/1.%d\r\nHost: %s\r\n\r\n",
				      method, path, minor, cfg.host_str);
		o->req_len = strlen(o->req);
		o->head = !strcmp(method, "HEAD");
		o->http11 = minor == 1;
		o->what = kw_xasprintf("%s %s HTTP/1.%d", method, path, minor);
	}
	if (!o->split)
		o->split = o->req_len;
}

static int cmd_http(int argc, char **argv)
{
	struct http_opts o = { .status = 200, .clients = 1 };
	char why[512], other[512];
	struct http_client *cl;
	int nfail = 0, first = -1;
	size_t body_len = 0;
	int *fds;
	int i;

	http_options(argc, argv, &o);

	fds = kw_xcalloc((size_t)o.clients, sizeof(*fds));
	cl = kw_xcalloc((size_t)o.clients, sizeof(*cl));
	/* every client is connected before any sends */
	connect_or_fail(fds, o.clients);
	for (i = 0; i < o.clients; i++) {
		cl[i].fd = fds[i];
		if (o.split < o.req_len)
			kw_set_nodelay(fds[i]);
	}
	http_run(cl, &o);

	for (i = 0; i < o.clients; i++) {
		size_t blen = 0;

		close(cl[i].fd);
		if (http_check(&cl[i], &o, nfail ? other : why, sizeof(why),
			       &blen)) {
			if (i == 0)
				body_len = blen;
		} else if (!nfail++) {
			first = i;
		}
	}
	if (o.verbose && cl[0].resp_len) {
		fwrite(cl[0].resp, 1, cl[0].resp_len, stdout);
		/* keep the summary on a line of its own */
		if (cl[0].resp[cl[0].resp_len - 1] != '\n')
			putchar('\n');
	}
	if (nfail && o.clients == 1)
		kw_fail("%s", why);
	if (nfail)
		kw_fail("client %d: %s [%d of %d clients failed]", first, why,
			nfail, o.clients);
	printf("http: %d clients x %s -> %d ok, %zu-byte body\n", o.clients,
	       o.what, o.status, body_len);

	for (i = 0; i < o.clients; i++)
		free(cl[i].resp);
	free(cl);
	free(fds);
	free(o.req);
	free(o.what);
	return 0;
}

/* ---- conversations: keepalive, pipeline, hold -r ----------------------- */

/*
 * One connection's exchange: what to send and what came back. converse()
 * runs several at once, each until done() says so, the server closes the
 * connection, receiving fails, or nothing moves for the timeout.
 */
struct conv {
	int fd;
	const char *out;	/* what to send */
	size_t out_len;
	size_t out_off;		/* how much of it went */
	char *in;		/* what came back */
	size_t in_len;
	size_t in_cap;
	size_t in_start;	/* where the response awaited starts in it */
	bool head;		/* that response answers a HEAD request */
	int send_err;		/* what stopped the sending, or 0 */
	int recv_err;		/* what ended the receiving, or 0 */
	bool eof;		/* the server closed the connection */
	bool timed_out;
	bool over;
	int64_t deadline;
};

/* Is a whole response (or a malformed one) in at c->in_start? */
static bool conv_has_response(const struct conv *c)
{
	struct kw_http_resp r;
	size_t total;
	int rc = kw_http_frame(c->in + c->in_start, c->in_len - c->in_start,
			       c->head, &r, &total);

	return rc == 0 || rc < 0;
}

/* Wait for the server to close the connection. */
static bool conv_until_close(const struct conv *c)
{
	(void)c;
	return false;
}

/* Start @c over on its connection: send @out, expect a new response. */
static void conv_reset(struct conv *c, const char *out, size_t out_len,
		       bool head)
{
	c->out = out;
	c->out_len = out_len;
	c->out_off = 0;
	c->in_len = 0;
	c->in_start = 0;
	c->head = head;
	c->send_err = 0;
	c->recv_err = 0;
	c->eof = false;
	c->timed_out = false;
	c->over = false;
}

static void conv_send(struct conv *c)
{
	ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
			 MSG_NOSIGNAL);

	if (n >= 0) {
		c->out_off += (size_t)n;
		c->deadline = step_deadline();
	} else if (!kw_again(errno)) {
		/* the server may have answered and closed: read that */
		c->send_err = errno;
	}
}

static void conv_recv(struct conv *c)
{
	ssize_t n;

	if (c->in_len == c->in_cap) {
		if (c->in_cap >= MAX_RESPONSE) {
			c->recv_err = EFBIG;
			return;
		}
		c->in_cap = c->in_cap ? 2 * c->in_cap : 4096;
		c->in = kw_xrealloc(c->in, c->in_cap);
	}
	n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
	if (n < 0) {
		if (!kw_again(errno))
			c->recv_err = errno;
		return;
	}
	if (n == 0) {
		c->eof = true;
		return;
	}
	c->in_len += (size_t)n;
	c->deadline = step_deadline();
}

static void converse(struct conv *cv, int n, bool (*done)(const struct conv *))
{
	struct pollfd *pfd = kw_xcalloc((size_t)n, sizeof(*pfd));
	int active = 0, i;

	for (i = 0; i < n; i++) {
		cv[i].deadline = step_deadline();
		cv[i].over = done(&cv[i]);
		if (!cv[i].over)
			active++;
	}
	while (active > 0) {
		int64_t now = kw_now_ms(), wake = INT64_MAX;

		for (i = 0; i < n; i++) {
			struct conv *c = &cv[i];

			pfd[i].fd = -1;
			pfd[i].revents = 0;
			if (c->over)
				continue;
			if (now >= c->deadline) {
				c->timed_out = true;
				c->over = true;
				active--;
				continue;
			}
			pfd[i].fd = c->fd;
			pfd[i].events = POLLIN;
			if (c->out_off < c->out_len && !c->send_err)
				pfd[i].events |= POLLOUT;
			if (c->deadline < wake)
				wake = c->deadline;
		}
		if (active == 0)
			break;
		if (poll(pfd, (nfds_t)n, kw_ms_left(wake)) < 0) {
			if (errno == EINTR)
				continue;
			kw_die("poll: %s", strerror(errno));
		}
		for (i = 0; i < n; i++) {
			struct conv *c = &cv[i];
			short ev = pfd[i].revents;

			if (pfd[i].fd < 0 || !ev)
				continue;
			if ((ev & POLLOUT) && c->out_off < c->out_len &&
			    !c->send_err)
				conv_send(c);
			if (ev & (POLLIN | POLLHUP | POLLERR))
				conv_recv(c);
			if (c->eof || c->recv_err || done(c)) {
				c->over = true;
				active--;
			}
		}
	}
	free(pfd);
}

/* How the exchange on @c ended, for a message: "the server closed ...". */
static const char *conv_end_str(const struct conv *c, char *buf, size_t size)
{
	if (c->recv_err == EFBIG)
		snprintf(buf, size, "more than %lu bytes came", MAX_RESPONSE);
	else if (c->recv_err)
		snprintf(buf, size, "receiving failed: %s",
			 strerror(c->recv_err));
	else if (c->timed_out)
		snprintf(buf, size, "nothing more came within %d s",
			 cfg.timeout);
	else if (c->eof)
		snprintf(buf, size, "the server closed the connection");
	else
		snprintf(buf, size, "it stopped");
	if (c->send_err && strlen(buf) + 40 < size)
		snprintf(buf + strlen(buf), size - strlen(buf),
			 " (sending failed: %s)", strerror(c->send_err));
	return buf;
}

/*
 * Check the response at c->in + c->in_start, which answers a GET, or a
 * HEAD if c->head: complete, status 200, CRLF line ends, Content-Length,
 * and the body @body (if not NULL). Returns its length with its head in
 * @r, or 0 with what is wrong in @why.
 */
static size_t resp_check(const struct conv *c, const char *body,
			 struct kw_http_resp *r, char *why, size_t size)
{
	const char *p = c->in + c->in_start;
	size_t len = c->in_len - c->in_start, total = 0, blen;
	char end[128], q1[96], q2[96];
	int rc = kw_http_frame(p, len, c->head, r, &total);

	if (rc < 0) {
		kw_http_malformed_why(p, len, r, why, size);
		return 0;
	}
	if (rc == 1 && len == 0 && c->timed_out) {
		snprintf(why, size, "no response within %d s (%zu of %zu request bytes sent)",
			 cfg.timeout, c->out_off, c->out_len);
		return 0;
	}
	if (rc == 1 && len == 0) {
		snprintf(why, size, "no response: %s",
			 conv_end_str(c, end, sizeof(end)));
		return 0;
	}
	if (rc == 1) {
		snprintf(why, size, "the response is incomplete after %zu bytes (%s): %s",
			 len, quote(p, len, q1, sizeof(q1)),
			 conv_end_str(c, end, sizeof(end)));
		return 0;
	}
	if (r->status != 200) {
		snprintf(why, size, "status %d, expected 200 (status line '%s')",
			 r->status, quote(r->status_line, r->status_line_len,
					  q1, sizeof(q1)));
		return 0;
	}
	if (r->bare_lf) {
		snprintf(why, size, "line %d of the response head ends in a bare LF; HTTP lines end in CRLF",
			 r->bare_lf_line);
		return 0;
	}
	if (rc == KW_HTTP_UNTIL_CLOSE || r->content_length < 0) {
		snprintf(why, size, "the response has no Content-Length; on a persistent connection the client cannot tell where it ends");
		return 0;
	}
	blen = total - r->body_off;
	if (body && !c->head &&
	    (blen != strlen(body) || memcmp(p + r->body_off, body, blen))) {
		snprintf(why, size, "the body is '%s' (%zu bytes); expected '%s' (%zu bytes)",
			 quote(p + r->body_off, blen, q1, sizeof(q1)), blen,
			 quote(body, strlen(body), q2, sizeof(q2)),
			 strlen(body));
		return 0;
	}
	return total;
}

static bool says_close(const struct kw_http_resp *r)
{
	return value_is(r->connection, r->connection_len, "close");
}

/* The GET request kwnet sends on a connection it keeps open. */
static char *keepalive_request(const char *method, const char *path,
			       bool close_it)
{
	return kw_xasprintf("%s %s HTTP/1.1\r\nHost: %s\r\n%s\r\n", method, path,
			    cfg.host_str, close_it ? "Connection: close\r\n" : "");
}

static int cmd_keepalive(int argc, char **argv)
{
	const char *method = "GET", *path = "/", *body = NULL;
	char why[512], q1[96], q2[96];
	struct conv c = { .fd = -1 };
	struct kw_http_resp r;
	char *req, *first = NULL;
	size_t first_len = 0;
	int n = 0, opt, i;

	while ((opt = kw_next_opt(argc, argv, ":H:p:t:n:u:m:b:")) != -1) {
		if (common_opt(opt, optarg))
			continue;
		switch (opt) {
		case 'n':
			n = (int)kw_num_arg(opt, optarg, 1, 1000000);
			break;
		case 'u':
			check_token(opt, optarg);
			path = optarg;
			break;
		case 'm':
			if (strcmp(optarg, "GET") && strcmp(optarg, "HEAD"))
				kw_die("invalid -m '%s': expected GET or HEAD",
				       optarg);
			method = optarg;
			break;
		case 'b':
			body = optarg;
			break;
		}
	}
	no_operands(argc, argv);
	if (!n)
		kw_die("-n N is required");

	req = keepalive_request(method, path, false);
	connect_or_fail(&c.fd, 1);
	for (i = 0; i < n; i++) {
		size_t len, blen;

		conv_reset(&c, req, strlen(req), !strcmp(method, "HEAD"));
		converse(&c, 1, conv_has_response);
		len = resp_check(&c, body, &r, why, sizeof(why));
		if (!len && i > 0 && c.in_len == 0 && (c.eof || c.send_err))
			kw_fail("request %d of %d: the server closed the connection after %d responses; expected %d responses on one connection",
				i + 1, n, i, n);
		if (!len)
			kw_fail("request %d of %d on one connection: %s", i + 1, n,
				why);
		if (c.in_len > len)
			kw_fail("request %d of %d: %zu more bytes came after the response ('%s'); expected nothing more%s",
				i + 1, n, c.in_len - len,
				quote(c.in + len, c.in_len - len, q1, sizeof(q1)),
				c.head ? " (a response to HEAD has no body)" : "");
		if (i + 1 < n && says_close(&r))
			kw_fail("response %d of %d says 'Connection: close'; expected the connection to stay open for %d requests",
				i + 1, n, n);
		/* every body the same as the first */
		blen = len - r.body_off;
		if (!first) {
			first = kw_xrealloc(NULL, blen);
			memcpy(first, c.in + r.body_off, blen);
			first_len = blen;
		} else if (blen != first_len ||
			   memcmp(first, c.in + r.body_off, blen)) {
			kw_fail("response %d of %d has the body '%s' (%zu bytes); the first had '%s' (%zu bytes)",
				i + 1, n, quote(c.in + r.body_off, blen, q1,
					     sizeof(q1)), blen,
				quote(first, first_len, q2, sizeof(q2)),
				first_len);
		}
	}
	close(c.fd);
	printf("%d responses on 1 connection\n", n);
	free(first);
	free(c.in);
	free(req);
	return 0;
}

static int cmd_pipeline(int argc, char **argv)
{
	const char *path = "/";
	char why[512], end[128], q1[96];
	struct conv c = { .fd = -1 };
	struct kw_http_resp r;
	char *reqs = NULL;
	size_t reqs_len = 0, off = 0, first_blen = 0;
	int n = 0, opt, i;

	while ((opt = kw_next_opt(argc, argv, ":H:p:t:n:u:")) != -1) {
		if (common_opt(opt, optarg))
			continue;
		switch (opt) {
		case 'n':
			n = (int)kw_num_arg(opt, optarg, 1, 1000);
			break;
		case 'u':
			check_token(opt, optarg);
			path = optarg;
			break;
		}
	}
	no_operands(argc, argv);
	if (!n)
		kw_die("-n N is required");

	/* GET, HEAD, GET, ...; the last asks the server to close */
	for (i = 0; i < n; i++) {
		char *one = keepalive_request(i % 2 ? "HEAD" : "GET", path,
					      i == n - 1);
		size_t len = strlen(one);

		reqs = kw_xrealloc(reqs, reqs_len + len + 1);
		memcpy(reqs + reqs_len, one, len + 1);
		reqs_len += len;
		free(one);
	}

	connect_or_fail(&c.fd, 1);
	kw_set_nodelay(c.fd);
	conv_reset(&c, reqs, reqs_len, false);
	converse(&c, 1, conv_until_close);
	close(c.fd);

	for (i = 0; i < n; i++) {
		const char *m = i % 2 ? "HEAD" : "GET";
		size_t len;

		c.in_start = off;
		c.head = i % 2;
		len = resp_check(&c, NULL, &r, why, sizeof(why));
		if (!len && i > 0 && off == c.in_len)
			kw_fail("only %d of %d pipelined responses came: %s",
				i, n, conv_end_str(&c, end, sizeof(end)));
		if (!len && i > 0 && i % 2 == 0 && r.error)
			kw_fail("response %d of %d (to %s): %s (does the response to HEAD %d have a body? it must not)",
				i + 1, n, m, why, i);
		if (!len)
			kw_fail("response %d of %d (to %s): %s", i + 1, n, m, why);
		if (i + 1 < n && says_close(&r))
			kw_fail("response %d of %d (to %s) says 'Connection: close'; only request %d asked for that",
				i + 1, n, m, n);
		if (!c.head && !first_blen)
			first_blen = len - r.body_off;
		if (c.head && first_blen &&
		    r.content_length != (long)first_blen)
			kw_fail("response %d of %d (to HEAD) has Content-Length %ld; the GET's body has %zu bytes",
				i + 1, n, r.content_length, first_blen);
		off += len;
	}
	if (off < c.in_len)
		kw_fail("%zu more bytes came after the %d responses ('%s'); expected the server to close the connection",
			c.in_len - off, n,
			quote(c.in + off, c.in_len - off, q1, sizeof(q1)));
	if (!c.eof && c.recv_err != ECONNRESET)
		kw_fail("%d responses came in order, but then %s; expected the server to close the connection after the last ('Connection: close')",
			n, conv_end_str(&c, end, sizeof(end)));
	printf("%d pipelined responses in order, then the server closed\n", n);
	free(c.in);
	free(reqs);
	return 0;
}

/*
 * hold -r: send one HTTP/1.1 GET on each of the @n connections and read
 * its response, so that each is an idle keep-alive connection.
 */
static void hold_fetch(int *fds, int n)
{
	struct conv *cv = kw_xcalloc((size_t)n, sizeof(*cv));
	char *req = keepalive_request("GET", "/", false);
	struct kw_http_resp r;
	char why[512];
	int i;

	for (i = 0; i < n; i++) {
		cv[i].fd = fds[i];
		conv_reset(&cv[i], req, strlen(req), false);
	}
	converse(cv, n, conv_has_response);
	for (i = 0; i < n; i++) {
		if (!resp_check(&cv[i], NULL, &r, why, sizeof(why)))
			kw_fail("client %d: %s", i, why);
		if (says_close(&r))
			kw_fail("client %d: the response says 'Connection: close'; expected a keep-alive connection",
				i);
		if (cv[i].eof)
			kw_fail("client %d: the server closed the connection after its response; expected it to stay open",
				i);
		free(cv[i].in);
	}
	free(cv);
	free(req);
}

/* ---- drip -------------------------------------------------------------- */

/* Headers stop short of the server's 8 KiB limit on a request head. */
#define DRIP_MAX 7000

struct drip_conn {
	int fd;
	size_t sent;
	int64_t first_at;	/* when its first byte went */
	int64_t closed_at;	/* when the server closed it, or 0 */
};

/*
 * Byte @off of the request a drip connection sends: a valid HTTP/1.1
 * head that never ends ("X-Drip: 1" header lines after the Host line).
 */
static char drip_byte(const char *start, size_t start_len, size_t off)
{
	static const char line[] = "X-Drip: 1\r\n";

	if (off < start_len)
		return start[off];
	return line[(off - start_len) % (sizeof(line) - 1)];
}

/* Send one more byte on @d; a failure means the server closed it. */
static void drip_send(struct drip_conn *d, const char *start,
		      size_t start_len, int64_t now)
{
	char b;

	if (d->closed_at || d->sent >= DRIP_MAX)
		return;
	b = drip_byte(start, start_len, d->sent);
	if (send(d->fd, &b, 1, MSG_NOSIGNAL) == 1) {
		d->sent++;
		if (d->sent == 1)
			d->first_at = now;
	} else if (!kw_again(errno)) {
		d->closed_at = now;
		if (!d->first_at)
			d->first_at = now;
	}
}

/* Read (and drop) what the server sent: a 408, say; note its close. */
static void drip_recv(struct drip_conn *d, int64_t now)
{
	ssize_t n = recv(d->fd, scratch, sizeof(scratch), 0);

	if (n == 0 || (n < 0 && !kw_again(errno)))
		d->closed_at = now;
}

static int cmd_drip(int argc, char **argv)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
	struct sigaction sa = { .sa_handler = on_signal };
	unsigned long interval = 0, expect = 0, wait_s = 60;
	struct drip_conn *dc;
	struct pollfd *pfd;
	sigset_t block, orig;
	int64_t start, end, next_tick, min_ms = 0, max_ms = 0;
	char *req;
	size_t req_len;
	int n = 0, nclosed = 0, opt, i;
	bool use_stdin;
	int *fds;

	while ((opt = kw_next_opt(argc, argv, ":H:p:t:c:i:e:w:")) != -1) {
		if (common_opt(opt, optarg))
			continue;
		switch (opt) {
		case 'c':
			n = (int)kw_num_arg(opt, optarg, 1, MAX_CLIENTS);
			break;
		case 'i':
			interval = kw_num_arg(opt, optarg, 1, 60000);
			break;
		case 'e':
			expect = kw_num_arg(opt, optarg, 1, 3600);
			break;
		case 'w':
			wait_s = kw_num_arg(opt, optarg, 1, 86400);
			break;
		}
	}
	no_operands(argc, argv);
	if (!n)
		kw_die("-c N is required");
	if (!interval)
		kw_die("-i MS is required");

	sigemptyset(&block);
	for (i = 0; i < (int)(sizeof(sigs) / sizeof(sigs[0])); i++) {
		sigaddset(&block, sigs[i]);
		sigaction(sigs[i], &sa, NULL);
	}
	sigprocmask(SIG_BLOCK, &block, &orig);

	req = kw_xasprintf("GET / HTTP/1.1\r\nHost: %s\r\n", cfg.host_str);
	req_len = strlen(req);
	fds = kw_xcalloc((size_t)n, sizeof(*fds));
	dc = kw_xcalloc((size_t)n, sizeof(*dc));
	pfd = kw_xcalloc((size_t)n + 1, sizeof(*pfd));
	connect_or_fail(fds, n);
	start = kw_now_ms();
	for (i = 0; i < n; i++) {
		dc[i].fd = fds[i];
		/* every byte leaves in a segment of its own */
		kw_set_nodelay(fds[i]);
		drip_send(&dc[i], req, req_len, start);
		if (!dc[i].first_at)
			kw_fail("client %d: its first byte could not be sent within %d s",
				i, cfg.timeout);
	}
	printf("ready\n");
	fflush(stdout);

	use_stdin = stdin_watchable();
	end = start + (int64_t)wait_s * 1000;
	next_tick = start + (int64_t)interval;
	while (!got_signal) {
		int64_t now = kw_now_ms(), wake = next_tick < end ? next_tick : end;
		int np = 0, ms, rc;
		struct timespec ts;

		nclosed = 0;
		for (i = 0; i < n; i++) {
			struct drip_conn *d = &dc[i];
			int64_t limit = d->first_at + (int64_t)expect * 1000;

			if (d->closed_at) {
				nclosed++;
				continue;
			}
			if (expect && now >= limit)
				kw_fail("client %d: still open %lu s after its first byte (%zu bytes sent, %d of %d connections closed); expected the server to close it within %lu s",
					i, expect, d->sent, nclosed, n, expect);
			if (expect && limit < wake)
				wake = limit;
		}
		if (nclosed == n || now >= end)
			break;
		if (now >= next_tick) {
			for (i = 0; i < n; i++)
				drip_send(&dc[i], req, req_len, now);
			next_tick += (int64_t)interval;
			if (next_tick <= now)
				next_tick = now + (int64_t)interval;
			continue;
		}
		for (i = 0; i < n; i++) {
			if (dc[i].closed_at)
				continue;
			pfd[np].fd = dc[i].fd;
			pfd[np].events = POLLIN;
			pfd[np++].revents = 0;
		}
		if (use_stdin) {
			pfd[np].fd = STDIN_FILENO;
			pfd[np].events = POLLIN;
			pfd[np++].revents = 0;
		}
		ms = kw_ms_left(wake);
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (long)(ms % 1000) * 1000000;
		rc = ppoll(pfd, (nfds_t)np, &ts, &orig);
		if (rc < 0 && errno != EINTR)
			kw_die("ppoll: %s", strerror(errno));
		if (rc <= 0)
			continue;
		now = kw_now_ms();
		if (use_stdin && pfd[np - 1].revents) {
			ssize_t len = read(STDIN_FILENO, scratch,
					   sizeof(scratch));

			if (len == 0 || (len < 0 && !kw_again(errno)))
				break;
		}
		/* the polled sockets are the open ones, in order */
		for (i = 0, np = 0; i < n; i++) {
			if (dc[i].closed_at)
				continue;
			if (pfd[np++].revents)
				drip_recv(&dc[i], now);
		}
	}

	nclosed = 0;
	for (i = 0; i < n; i++) {
		int64_t took = dc[i].closed_at - dc[i].first_at;

		close(dc[i].fd);
		if (!dc[i].closed_at) {
			if (expect)
				kw_fail("client %d: still open when kwnet stopped after %.1f s (%zu bytes sent); expected the server to close it within %lu s of its first byte",
					i, (double)(kw_now_ms() - start) / 1000,
					dc[i].sent, expect);
			continue;
		}
		if (!nclosed++ || took < min_ms)
			min_ms = took;
		if (took > max_ms)
			max_ms = took;
	}
	if (nclosed)
		printf("closed %d/%d after %.1f..%.1f s\n", nclosed, n,
		       (double)min_ms / 1000, (double)max_ms / 1000);
	else
		printf("closed 0/%d\n", n);
	free(pfd);
	free(dc);
	free(fds);
	free(req);
	return 0;
}

/* ---- main -------------------------------------------------------------- */

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} commands[] = {
	{ "echo", cmd_echo },
	{ "hold", cmd_hold },
	{ "abort", cmd_abort },
	{ "refused", cmd_refused },
	{ "sockets", cmd_sockets },
	{ "listening", cmd_listening },
	{ "http", cmd_http },
	{ "keepalive", cmd_keepalive },
	{ "pipeline", cmd_pipeline },
	{ "drip", cmd_drip },
};

int main(int argc, char **argv)
{
	size_t i;

	/* a write to a closed connection must fail, not kill us */
	signal(SIGPIPE, SIG_IGN);
	kw_set_prog("kwnet", cmd_name, "kwnet help");

	if (argc < 2)
		kw_die("no subcommand given (see 'kwnet help')");
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "--help")) {
		fputs(usage_text, stdout);
		return 0;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(argv[1], commands[i].name)) {
			cmd_name = commands[i].name;
			kw_set_prog("kwnet", cmd_name, "kwnet help");
			return commands[i].run(argc - 1, argv + 1);
		}
	}
	kw_die("unknown subcommand '%s' (see 'kwnet help')", argv[1]);
}
