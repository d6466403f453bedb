// SPDX-License-Identifier: GPL-2.0
/*
 * kwload - the kweb-lab load generator, after htstress: THREADS threads,
 * each with its own epoll set, keep CONCURRENCY connections busy until
 * REQUESTS requests are answered or the run's time is up.
 *
 *   kwload -n REQUESTS [-c CONCURRENCY] [-t THREADS] [-k REQS_PER_CONN]
 *          [-d SECONDS] [-H HOST] [-p PORT] [-u PATH] [-q]
 *
 * Every request ends as exactly one of: good (a whole 200 response), bad
 * (a whole response of another status, or a malformed one), or a socket
 * error (the connection failed, was reset or closed before the whole
 * response came, or the run ended first). A request is claimed from the
 * shared budget before it is sent, or before its connection is opened, so
 * a connection that cannot be opened costs one request.
 *
 * Responses are framed with kwlib's parser (Content-Length; no body after
 * 1xx, 204, 304; without a length, the body runs to the close). The
 * latency of a request runs from the first write of the request to the
 * last byte of its response; the latencies go into a log-linear histogram
 * per thread (kwlib's struct kw_hist: exact below 64 us, within 1/64
 * above, constant memory however long the run), merged at the end for
 * the nearest-rank p50 and p99.
 *
 * Exit status: 0 when every request was good, 1 otherwise, 2 on a usage
 * error or when kwload itself could not run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "kwlib.h"

#define MAX_REQUESTS	1000000000UL
#define MAX_CONNS	10000
#define MAX_THREADS	256
#define RESP_BUF	4096	/* a response head must fit; bodies are counted */
#define CLOSE_GRACE_US	1000000	/* for the server's close after the last */

static const char usage_text[] =
"usage: kwload -n REQUESTS [-c CONCURRENCY] [-t THREADS] [-k REQS_PER_CONN]\n"
"              [-d SECONDS] [-H HOST] [-p PORT] [-u PATH] [-q]\n"
"\n"
"  -n REQUESTS     requests to make in all (1..1000000000)\n"
"  -c CONCURRENCY  connections open at once (1), 1..10000\n"
"  -t THREADS      threads, each with its own epoll set (1), 1..256, at\n"
"                  most CONCURRENCY\n"
"  -k N            requests per connection: 0 keep-alive, unlimited (the\n"
"                  default); N: the Nth asks 'Connection: close' and the\n"
"                  connection is closed after its response (-k 1: one\n"
"                  request per connection)\n"
"  -d SECONDS      the most the run takes (30); what is unfinished then\n"
"                  counts as socket errors\n"
"  -H HOST -p PORT the server (127.0.0.1, 9999)\n"
"  -u PATH         the request target (/)\n"
"  -q              print only the machine-readable line\n"
"\n"
"output: the htstress summary, then one line\n"
"  kwload requests=N good=N bad=N errors=N seconds=F rps=F p50_us=N p99_us=N conns=N\n"
"rps counts good requests per second; conns is the most connections open\n"
"at once (the sum of each thread's peak: at most CONCURRENCY)\n"
"exit status: 0 every request good, 1 not, 2 usage error or kwload could\n"
"not run\n";

static struct {
	const char *host_str;
	uint32_t host;		/* host byte order */
	int port;
	const char *path;
	unsigned long requests;
	unsigned long conc;
	unsigned long threads;
	unsigned long per_conn;	/* 0: unlimited */
	unsigned long seconds;
	bool quiet;
} cfg = {
	.host_str = "127.0.0.1",
	.host = 0x7f000001,
	.port = 9999,
	.path = "/",
	.conc = 1,
	.threads = 1,
	.seconds = 30,
};

static struct sockaddr_in target;
static char *req_keep, *req_close;	/* keep-alive, and the last one */
static size_t req_keep_len, req_close_len;
static atomic_long unclaimed;		/* requests not yet claimed */
static int64_t end_us;			/* the run's deadline */

/* ---- messages and options ---------------------------------------------- */

static void parse_options(int argc, char **argv)
{
	const char *p;
	int opt;

	if (argc == 2 && (!strcmp(argv[1], "-h") ||
			  !strcmp(argv[1], "--help") ||
			  !strcmp(argv[1], "help"))) {
		fputs(usage_text, stdout);
		exit(0);
	}
	while ((opt = kw_next_opt(argc, argv, ":n:c:t:k:d:H:p:u:q")) != -1) {
		switch (opt) {
		case 'n':
			cfg.requests = kw_num_arg(opt, optarg, 1, MAX_REQUESTS);
			break;
		case 'c':
			cfg.conc = kw_num_arg(opt, optarg, 1, MAX_CONNS);
			break;
		case 't':
			cfg.threads = kw_num_arg(opt, optarg, 1, MAX_THREADS);
			break;
		case 'k':
			cfg.per_conn = kw_num_arg(opt, optarg, 0, MAX_REQUESTS);
			break;
		case 'd':
			cfg.seconds = kw_num_arg(opt, optarg, 1, 86400);
			break;
		case 'H':
			cfg.host = kw_host_arg(opt, optarg);
			cfg.host_str = optarg;
			break;
		case 'p':
			cfg.port = kw_port_arg(opt, optarg);
			break;
		case 'u':
			for (p = optarg; *p; p++) {
				if ((unsigned char)*p <= ' ' || *p == 0x7f)
					kw_die("-u '%s' has a blank or control character",
					       optarg);
			}
			if (!*optarg)
				kw_die("-u must not be empty");
			cfg.path = optarg;
			break;
		case 'q':
			cfg.quiet = true;
			break;
		}
	}
	if (optind < argc)
		kw_die("unexpected argument '%s' (see 'kwload -h')",
		       argv[optind]);
	if (!cfg.requests)
		kw_die("-n REQUESTS is required (see 'kwload -h')");
	if (cfg.threads > cfg.conc)
		kw_die("-t %lu is more than -c %lu: each thread needs a connection",
		       cfg.threads, cfg.conc);
}

/* ---- time, sockets ----------------------------------------------------- */

/* Make room for @n sockets under the open-file limit, as far as allowed. */
static void raise_fd_limit(unsigned long n)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)n + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
	setrlimit(RLIMIT_NOFILE, &rl);
}

/* Take one request from the budget; false when none is left. */
static bool claim(void)
{
	long left = atomic_load(&unclaimed);

	while (left > 0) {
		if (atomic_compare_exchange_weak(&unclaimed, &left, left - 1))
			return true;
	}
	return false;
}

/* ---- connections ------------------------------------------------------- */

enum conn_state {
	C_OFF,		/* no socket: nothing left to do */
	C_CONNECTING,
	C_SENDING,
	C_RECEIVING,
	C_CLOSING,	/* after the last response: waiting for the close */
};

struct conn {
	int fd;
	enum conn_state state;
	unsigned long gen;	/* sockets opened on this slot */
	const char *req;
	size_t req_len;
	size_t req_off;
	bool last;		/* the connection's last request */
	bool has_req;		/* a claimed request is unfinished */
	unsigned long on_conn;	/* requests begun on this connection */
	int64_t sent_at;	/* first write of the request */
	int64_t close_by;	/* C_CLOSING: the most we wait */
	size_t got;		/* response bytes received */
	size_t need;		/* its whole length, 0 until the head is in */
	bool until_close;	/* no Content-Length: it ends at the close */
	bool close_after;	/* the response said the connection ends */
	int status;
	char buf[RESP_BUF];	/* the response's first bytes */
};

struct worker {
	pthread_t tid;
	int epfd;
	struct conn *conns;
	unsigned long nconns;
	unsigned long open;	/* connections not C_OFF */
	unsigned long peak;	/* the most of them at once */
	unsigned long closing;	/* connections in C_CLOSING */
	/* results */
	unsigned long good, bad;
	unsigned long connect_errors;	/* connection could not be opened */
	unsigned long conn_errors;	/* reset or closed mid-request */
	unsigned long server_closes;	/* keep-alive ended by the server */
	unsigned long conns_opened;
	struct kw_hist hist;
};

static void conn_start(struct worker *w, struct conn *c);

static void conn_close(struct worker *w, struct conn *c)
{
	if (c->state == C_CLOSING)
		w->closing--;
	close(c->fd);
	c->fd = -1;
	c->state = C_OFF;
	w->open--;
}

/* The connection failed: its request, if any, is a socket error. */
static void conn_fail(struct worker *w, struct conn *c)
{
	if (c->has_req)
		w->conn_errors++;
	c->has_req = false;
	conn_close(w, c);
	conn_start(w, c);
}

/* Begin the claimed request on the connected @c. */
static void req_begin(struct conn *c)
{
	c->on_conn++;
	c->last = cfg.per_conn && c->on_conn >= cfg.per_conn;
	c->req = c->last ? req_close : req_keep;
	c->req_len = c->last ? req_close_len : req_keep_len;
	c->req_off = 0;
	c->sent_at = 0;
	c->got = 0;
	c->need = 0;
	c->until_close = false;
	c->close_after = false;
	c->status = 0;
	c->state = C_SENDING;
}

/*
 * Open a connection for a new request, if one is left to claim. A
 * connection that cannot be opened costs its request, and the next is
 * tried.
 */
static void conn_start(struct worker *w, struct conn *c)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP |
					    EPOLLET };
	int one = 1;

	while (kw_now_us() < end_us && claim()) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK |
				SOCK_CLOEXEC, 0);
		int rc;

		if (fd < 0)
			kw_die("cannot create a socket: %s", strerror(errno));
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		rc = connect(fd, (struct sockaddr *)&target, sizeof(target));
		if (rc < 0 && errno != EINPROGRESS) {
			close(fd);
			w->connect_errors++;
			continue;
		}
		c->fd = fd;
		c->gen++;
		c->has_req = true;
		c->on_conn = 0;
		c->state = C_CONNECTING;
		ev.data.ptr = c;
		if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
			kw_die("epoll_ctl: %s", strerror(errno));
		if (++w->open > w->peak)
			w->peak = w->open;
		/* the first event says whether it connected */
		return;
	}
	c->state = C_OFF;
}

/* The whole response is in: count it, then go on or close. */
static void resp_done(struct worker *w, struct conn *c, bool eof)
{
	/* now, not when the events came: the reply may beat our recv() */
	int64_t now = kw_now_us();

	kw_hist_add(&w->hist, (uint64_t)(now - c->sent_at));
	if (c->status == 200)
		w->good++;
	else
		w->bad++;
	c->has_req = false;
	if (c->close_after && !c->last)
		w->server_closes++;
	if (eof) {
		conn_close(w, c);
		conn_start(w, c);
		return;
	}
	if (c->last || c->close_after || c->until_close) {
		/* let the server close first: its side keeps the TIME_WAIT */
		c->state = C_CLOSING;
		c->close_by = now + CLOSE_GRACE_US;
		w->closing++;
		return;
	}
	if (!claim()) {
		conn_close(w, c);
		return;
	}
	c->has_req = true;
	req_begin(c);
}

/* A bad response whose end cannot be found: count it, start over. */
static void resp_broken(struct worker *w, struct conn *c)
{
	w->bad++;
	c->has_req = false;
	conn_close(w, c);
	conn_start(w, c);
}

/* Frame what came of the response so far. */
static void resp_frame(struct worker *w, struct conn *c)
{
	struct kw_http_resp r;
	size_t stored = c->got < RESP_BUF ? c->got : RESP_BUF;
	size_t total;
	int rc = kw_http_frame(c->buf, stored, 0, &r, &total);

	if (rc == 1 && stored == RESP_BUF) {
		resp_broken(w, c);	/* the head does not fit */
		return;
	}
	if (rc == 1)
		return;
	if (rc < 0) {
		resp_broken(w, c);
		return;
	}
	c->status = r.status;
	c->close_after = (r.connection &&
			  r.connection_len == 5 &&
			  !strncasecmp(r.connection, "close", 5)) ||
			 (r.minor == 0 &&
			  !(r.connection && r.connection_len == 10 &&
			    !strncasecmp(r.connection, "keep-alive", 10)));
	if (rc == KW_HTTP_UNTIL_CLOSE) {
		c->until_close = true;
		c->need = SIZE_MAX;
		return;
	}
	c->need = total;
}

/* Receive in C_RECEIVING; returns false when @c left that state. */
static bool conn_recv(struct worker *w, struct conn *c)
{
	char discard[RESP_BUF];

	for (;;) {
		bool stored = c->got < RESP_BUF;
		ssize_t n = stored ?
			recv(c->fd, c->buf + c->got, RESP_BUF - c->got, 0) :
			recv(c->fd, discard, sizeof(discard), 0);

		if (n < 0 && kw_again(errno))
			return true;
		if (n < 0) {
			conn_fail(w, c);
			return false;
		}
		if (n == 0) {
			if (c->until_close) {
				resp_done(w, c, true);
			} else {
				/* a keep-alive connection closed under us */
				if (c->got == 0 && c->on_conn > 1)
					w->server_closes++;
				conn_fail(w, c);
			}
			return false;
		}
		c->got += (size_t)n;
		if (!c->need) {
			resp_frame(w, c);
			if (c->state != C_RECEIVING)
				return false;
		}
		if (!c->need || c->until_close || c->got < c->need)
			continue;
		if (c->got > c->need) {
			/* bytes no request asked for */
			resp_broken(w, c);
			return false;
		}
		resp_done(w, c, false);
		return false;
	}
}

/*
 * Drive @c, which got the epoll events @events, as far as it goes without
 * blocking. Once it is closed and opened again, the new socket waits for
 * its own first event.
 */
static void conn_io(struct worker *w, struct conn *c, uint32_t events)
{
	unsigned long gen = c->gen;
	char discard[512];
	socklen_t len;
	ssize_t n;
	int err;

	while (c->gen == gen) {
		switch (c->state) {
		case C_OFF:
			return;
		case C_CONNECTING:
			if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
				return;
			err = 0;
			len = sizeof(err);
			if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err,
				       &len) < 0)
				err = errno;
			if (err) {
				w->connect_errors++;
				c->has_req = false;
				conn_close(w, c);
				conn_start(w, c);
				return;
			}
			w->conns_opened++;
			req_begin(c);
			break;
		case C_SENDING:
			if (!c->sent_at)
				c->sent_at = kw_now_us();
			n = send(c->fd, c->req + c->req_off,
				 c->req_len - c->req_off, MSG_NOSIGNAL);
			if (n < 0 && kw_again(errno))
				return;
			if (n < 0) {
				conn_fail(w, c);
				continue;
			}
			c->req_off += (size_t)n;
			if (c->req_off == c->req_len)
				c->state = C_RECEIVING;
			break;
		case C_RECEIVING:
			if (conn_recv(w, c))
				return;
			break;
		case C_CLOSING:
			n = recv(c->fd, discard, sizeof(discard), 0);
			if (n > 0)
				break;
			if (n < 0 && kw_again(errno))
				return;
			conn_close(w, c);
			conn_start(w, c);
			break;
		}
	}
}

/* A C_CLOSING connection whose server did not close it in time. */
static void check_closing(struct worker *w, int64_t now)
{
	unsigned long i;

	for (i = 0; i < w->nconns && w->closing; i++) {
		struct conn *c = &w->conns[i];

		if (c->state != C_CLOSING || now < c->close_by)
			continue;
		conn_close(w, c);
		conn_start(w, c);
	}
}

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	struct epoll_event ev[256];
	unsigned long i;

	for (i = 0; i < w->nconns; i++) {
		w->conns[i].fd = -1;
		conn_start(w, &w->conns[i]);
	}
	while (w->open) {
		int64_t now = kw_now_us(), left = end_us - now;
		int ms, n, j;

		if (left <= 0)
			break;
		ms = (int)((left + 999) / 1000);
		if (w->closing && ms > 100)
			ms = 100;
		n = epoll_wait(w->epfd, ev, sizeof(ev) / sizeof(ev[0]), ms);
		if (n < 0 && errno != EINTR)
			kw_die("epoll_wait: %s", strerror(errno));
		for (j = 0; j < n; j++)
			conn_io(w, ev[j].data.ptr, ev[j].events);
		if (w->closing)
			check_closing(w, kw_now_us());
	}
	/* time is up: what is unfinished counts as errors, at the end */
	for (i = 0; i < w->nconns; i++) {
		if (w->conns[i].state != C_OFF)
			conn_close(w, &w->conns[i]);
	}
	close(w->epfd);
	return NULL;
}

/* ---- main -------------------------------------------------------------- */

static double pct_of(unsigned long n)
{
	return 100.0 * (double)n / (double)cfg.requests;
}

int main(int argc, char **argv)
{
	struct worker *w;
	struct kw_hist *hist;
	unsigned long good = 0, bad = 0, errors, conns = 0, closes = 0;
	unsigned long opened = 0;
	unsigned long connect_errors = 0, conn_errors = 0, unfinished, i;
	uint64_t p50, p99;
	int64_t start;
	double secs, rps;
	int rc;

	signal(SIGPIPE, SIG_IGN);
	kw_set_prog("kwload", "", "kwload -h");
	parse_options(argc, argv);

	target.sin_family = AF_INET;
	target.sin_port = htons((uint16_t)cfg.port);
	target.sin_addr.s_addr = htonl(cfg.host);
	req_keep = kw_xasprintf("GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", cfg.path,
				cfg.host_str);
	req_close = kw_xasprintf("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n",
				 cfg.path, cfg.host_str);
	req_keep_len = strlen(req_keep);
	req_close_len = strlen(req_close);
	atomic_init(&unclaimed, (long)cfg.requests);
	raise_fd_limit(cfg.conc + 2 * cfg.threads);

	w = kw_xcalloc(cfg.threads, sizeof(*w));
	hist = kw_xcalloc(1, sizeof(*hist));
	kw_hist_init(hist);
	start = kw_now_us();
	end_us = start + (int64_t)cfg.seconds * 1000000;
	for (i = 0; i < cfg.threads; i++) {
		w[i].nconns = cfg.conc / cfg.threads +
			      (i < cfg.conc % cfg.threads);
		w[i].conns = kw_xcalloc(w[i].nconns, sizeof(struct conn));
		kw_hist_init(&w[i].hist);
		w[i].epfd = epoll_create1(EPOLL_CLOEXEC);
		if (w[i].epfd < 0)
			kw_die("epoll_create1: %s", strerror(errno));
		rc = pthread_create(&w[i].tid, NULL, worker_run, &w[i]);
		if (rc)
			kw_die("cannot start a thread: %s", strerror(rc));
	}
	for (i = 0; i < cfg.threads; i++) {
		pthread_join(w[i].tid, NULL);
		good += w[i].good;
		bad += w[i].bad;
		opened += w[i].conns_opened;
		conns += w[i].peak;
		closes += w[i].server_closes;
		connect_errors += w[i].connect_errors;
		conn_errors += w[i].conn_errors;
		kw_hist_merge(hist, &w[i].hist);
		free(w[i].conns);
	}
	secs = (double)(kw_now_us() - start) / 1e6;
	if (secs <= 0)
		secs = 1e-6;
	/* a request neither good nor bad is a socket error */
	errors = cfg.requests - good - bad;
	unfinished = errors - connect_errors - conn_errors;
	rps = (double)good / secs;
	p50 = kw_hist_percentile(hist, 50);
	p99 = kw_hist_percentile(hist, 99);

	if (!cfg.quiet) {
		printf("requests:      %lu\n", cfg.requests);
		printf("good requests: %lu [%.0f%%]\n", good, pct_of(good));
		printf("bad requests:  %lu [%.0f%%]\n", bad, pct_of(bad));
		printf("socket errors: %lu [%.0f%%]\n", errors, pct_of(errors));
		if (errors)
			printf("               (%lu failed connects, %lu reset or closed mid-request, %lu unfinished when -d %lu s ran out)\n",
			       connect_errors, conn_errors, unfinished,
			       cfg.seconds);
		printf("seconds:       %.3f\n", secs);
		printf("requests/sec:  %.3f\n", rps);
		printf("connections:   %lu opened, at most %lu at once (%lu ended by the server before -k %lu asked)\n",
		       opened, conns, closes, cfg.per_conn);
		printf("latency:       p50 %llu us, p99 %llu us, max %llu us\n",
		       (unsigned long long)p50, (unsigned long long)p99,
		       (unsigned long long)hist->max);
	}
	printf("kwload requests=%lu good=%lu bad=%lu errors=%lu seconds=%.3f rps=%.1f p50_us=%llu p99_us=%llu conns=%lu\n",
	       cfg.requests, good, bad, errors, secs, rps,
	       (unsigned long long)p50, (unsigned long long)p99, conns);
	free(hist);
	free(w);
	free(req_keep);
	free(req_close);
	return good == cfg.requests ? 0 : KW_EXIT_CHECK;
}
