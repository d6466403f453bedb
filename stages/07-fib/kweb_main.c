// SPDX-License-Identifier: GPL-2.0
/*
 * kweb - kweb-lab stage 7: the keep-alive server of stage 6 computes.
 *
 * GET /fib/N answers the decimal digits of the Nth Fibonacci number
 * (F(0) = 0, F(1) = 1, F(N) = F(N - 1) + F(N - 2)), for any N from 0 to
 * 2^31 - 1 that is at most the fib_max parameter. F(N) has about 0.694 N
 * bits and 0.209 N decimal digits: F(10^6) has 208,988 of them. The
 * arithmetic is in bn.c, which knows nothing of sockets and is compiled
 * into user-space unit tests too; this file is the server.
 *
 * What the server of stage 6 could take for granted no longer holds: an
 * answer can take seconds, and megabytes.
 *
 * - The io work computes the answer itself, on the unbound workqueue:
 *   other connections are served by other workers meanwhile, and bn.c
 *   lets the scheduler in often enough that neither the soft-lockup nor
 *   the hung-task detector ever fires.
 * - A client that goes away, or a server that stops, cancels the
 *   computation at its next step (kweb_fib_cancelled()): rmmod returns
 *   promptly, and no CPU is spent on an answer nobody will read.
 * - The reply's head goes into out[], its body stays in the buffer bn.c
 *   made (kvmalloc()), which is sent from there as the socket takes it;
 *   no later reply of the connection is made before it is all sent.
 * - The time from the request to its answer is measured: every answer
 *   says it in a Server-Timing header, and stats/fib_time keeps the count,
 *   mean and maximum for each size of N.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/ctype.h>
#include <linux/in.h>
#include <linux/inet.h>
#include <linux/jiffies.h>
#include <linux/kobject.h>
#include <linux/kstrtox.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/net.h>
#include <linux/netdevice.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/uio.h>
#include <linux/wait_bit.h>
#include <linux/workqueue.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/sock.h>
#include <net/tcp_states.h>

#include "bn.h"
#include "compat.h"

#define KWEB_BACKLOG	128
#define KWEB_MAX_HEADER	8192		/* bytes of request head we accept */
#define KWEB_MAX_BODY	(1 << 20)	/* bytes of request body we drop */
#define KWEB_MAX_REPLY	256		/* bytes of our longest reply */
#define KWEB_OUT_SIZE	4096		/* replies waiting to be sent */
#define KWEB_IO_BUDGET	16		/* rounds of io before others' turn */
#define KWEB_FIB_PREFIX	"/fib/"
#define KWEB_FIB_CLASSES	10	/* N of 1, 2, ... 10 digits */

static char *host = "0.0.0.0";
module_param(host, charp, 0444);
MODULE_PARM_DESC(host, "IPv4 address to listen on (default 0.0.0.0)");

static int port = 9999;
module_param(port, int, 0444);
MODULE_PARM_DESC(port, "TCP port to listen on (default 9999)");

static bool keepalive = true;
module_param(keepalive, bool, 0444);
MODULE_PARM_DESC(keepalive, "keep connections open between requests (default 1)");

static int max_conns = 1024;
module_param(max_conns, int, 0444);
MODULE_PARM_DESC(max_conns, "open connections per server, 1..65536 (default 1024)");

static int request_timeout = 10;
module_param(request_timeout, int, 0444);
MODULE_PARM_DESC(request_timeout, "seconds a request may take to arrive, 1..3600 (default 10)");

static int idle_timeout = 5;
module_param(idle_timeout, int, 0444);
MODULE_PARM_DESC(idle_timeout, "seconds a connection may wait for a request, 1..3600 (default 5)");

/*
 * The largest N computed. F(2^31 - 1) would take 186 MB in binary and 449
 * million decimal digits: far more than a guest has, and hours. With the
 * default, the worst request has 20,899 digits and takes about 7 ms in an
 * emulated guest, so that eight of them at once (all the io workers)
 * still leave the server responsive; the tests and the benchmark raise it.
 */
static int fib_max = 100000;
module_param(fib_max, int, 0444);
MODULE_PARM_DESC(fib_max, "largest N that /fib/N computes, 0..2147483647 (default 100000)");

/* An answer: the status line's code and reason, and the body. */
struct kweb_reply {
	const char *status;
	const char *body;
};

static const struct kweb_reply kweb_ok = {
	"200 OK", "Hello from kweb-lab!\n"
};
static const struct kweb_reply kweb_bad_request = {
	"400 Bad Request", "Bad Request\n"
};
static const struct kweb_reply kweb_bad_fib = {
	"400 Bad Request",
	"Bad Request: /fib/N takes N from 0 to 2147483647, in decimal digits, without sign or leading zero\n"
};
static const struct kweb_reply kweb_fib_too_large = {
	"403 Forbidden",
	"Forbidden: N is above this server's limit (its fib_max parameter)\n"
};
static const struct kweb_reply kweb_timed_out = {
	"408 Request Timeout", "Request Timeout\n"
};
static const struct kweb_reply kweb_body_too_large = {
	"413 Content Too Large", "Content Too Large\n"
};
static const struct kweb_reply kweb_too_large = {
	"431 Request Header Fields Too Large",
	"Request Header Fields Too Large\n"
};
static const struct kweb_reply kweb_not_implemented = {
	"501 Not Implemented", "Not Implemented\n"
};
static const struct kweb_reply kweb_unavailable = {
	"503 Service Unavailable", "Service Unavailable\n"
};

/* What the head of a request asks for, besides its reply. */
struct kweb_request {
	bool head;		/* HEAD: the reply has no body */
	bool keep_alive;	/* the connection stays open after the reply */
	size_t body_len;	/* bytes of body that follow the head */
	bool fib;		/* /fib/N: the reply's body is F(N) */
	u32 fib_n;
};

/* One client connection. Only its io work touches the buffers. */
struct kweb_conn {
	struct kweb_server *srv;
	struct socket *sock;
	struct delayed_work io;
	struct list_head list;		/* on srv->conns, then srv->done */
	bool closing;			/* off srv->conns: nothing more to do */
	/* What the socket's callbacks were before kweb_serve() set ours. */
	void (*orig_data_ready)(struct sock *sk);
	void (*orig_write_space)(struct sock *sk);
	void (*orig_state_change)(struct sock *sk);

	char in[KWEB_MAX_HEADER];	/* received, not yet answered */
	size_t in_len;
	size_t scanned;			/* of in[], searched for the head's end */
	size_t body_left;		/* body bytes still to drop */
	char out[KWEB_OUT_SIZE];	/* replies not yet sent */
	size_t out_len;
	size_t out_sent;
	char *body;			/* after out[]: a computed body */
	size_t body_len;
	size_t body_sent;
	bool finishing;			/* the last reply is in out[] */
	bool shut;			/* our side is shut down: drain input */
	unsigned long req_deadline;	/* for the request in progress */
	unsigned long idle_deadline;	/* for the next request to start */
};

/* How long the answers to /fib/N took, for the N of one size class. */
struct kweb_fib_time {
	u64 count;
	u64 total_ns;
	u64 max_ns;
};

/* What a server did; "open" is the number of connections, nconns. */
struct kweb_stats {
	atomic_long_t accepted;
	atomic_long_t served;
	atomic_long_t refused;
	atomic_long_t timed_out;
	atomic_long_t cancelled;	/* computations given up */
	spinlock_t fib_lock;		/* protects fib[] */
	struct kweb_fib_time fib[KWEB_FIB_CLASSES];
};

/* A server: its listening socket and its connections. */
struct kweb_server {
	struct net *net;		/* the namespace it serves */
	struct kweb_data *data;		/* its data directory in sysfs */
	struct mutex lock;		/* serializes starting and stopping */
	struct socket *listen_sock;	/* NULL while the server is stopped */
	/* The listener's sk_data_ready before kweb_start() replaced it. */
	void (*orig_data_ready)(struct sock *sk);
	struct work_struct accept_work;
	/*
	 * Open connections, and closed ones waiting for the release work.
	 * The accept work adds to conns, a connection's io work or
	 * kweb_stop() moves it to done, the release work frees what is on
	 * done: conns_lock protects both lists and each conn's closing.
	 */
	spinlock_t conns_lock;
	struct list_head conns;
	struct list_head done;
	struct work_struct release_work;
	atomic_t nconns;		/* accepted and not yet freed */
	struct kweb_stats stats;
};

/*
 * A namespace's data directory, which holds its status file. It is not part
 * of struct kweb_server, which the namespace frees after kweb_net_exit():
 * a kobject lives until its last reference goes, then its release frees it.
 */
struct kweb_data {
	struct kobject kobj;
	struct kweb_server *srv;
};

/*
 * Two workqueues of our own, so that nothing this module queued can outlive
 * it (destroy_workqueue() waits for whatever is left), each made for what
 * runs on it (Documentation/core-api/workqueue.rst):
 *
 * kweb_wq runs the connections' io and release work. WQ_UNBOUND: the work
 * need not run on the CPU whose softirq queued it, and the scheduler may
 * spread it. Its work never sleeps waiting for a client, so more of it
 * running at once than there are CPUs buys nothing: max_active says so
 * explicitly (kweb_io_active()) instead of taking the default of 256 that
 * stage 5 left to sleeping clients.
 *
 * kweb_accept_wq runs the servers' accept work, and nothing else: accepting
 * never waits behind client work, however much of it there is. WQ_HIGHPRI:
 * a new connection is served by the high-priority worker pool, ahead of
 * the io work that the connections already open keep queueing.
 *
 * Neither needs WQ_MEM_RECLAIM: no memory reclaim ever waits for them.
 */
static struct workqueue_struct *kweb_wq;
static struct workqueue_struct *kweb_accept_wq;

static __be32 listen_addr;

/* Finds a namespace's struct kweb_server with net_generic(). */
static unsigned int kweb_net_id;

static int kweb_io_active(void)
{
	return min_t(int, 4 * num_possible_cpus(), WQ_UNBOUND_MAX_ACTIVE);
}

/*
 * Receive into buf without waiting. Returns the number of bytes, 0 when the
 * client has closed or the socket was shut down, -EAGAIN when nothing has
 * come, or another negative error.
 */
static int kweb_recv(struct socket *sock, char *buf, size_t size)
{
	struct msghdr msg = { };
	struct kvec vec = { .iov_base = buf, .iov_len = size };

	return kernel_recvmsg(sock, &msg, &vec, 1, size, MSG_DONTWAIT);
}

/*
 * The length of the request head in buf[0..len), up to and including the
 * empty line that ends it, or 0 if that line is not there yet. Lines end in
 * CRLF, or in a bare LF. Bytes before buf[from] were searched already.
 */
static size_t kweb_head_len(const char *buf, size_t from, size_t len)
{
	size_t i;

	for (i = max_t(size_t, from, 1); i < len; i++)
		if (buf[i] == '\n' &&
		    (buf[i - 1] == '\n' ||
		     (i >= 2 && buf[i - 1] == '\r' && buf[i - 2] == '\n')))
			return i + 1;
	return 0;
}

/* A method or a field name is a token: letters, digits and some marks. */
static bool kweb_is_token(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum(*s) && !strchr("!#$%&'*+-.^_`|~", *s))
			return false;
	return true;
}

/* A request target is made of visible characters. */
static bool kweb_is_target(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isgraph(*s))
			return false;
	return true;
}

/*
 * The N of /fib/N, after the prefix: 1 to 10 decimal digits, no sign, no
 * leading zero (one name for each number: /fib/007 is not /fib/7), at most
 * 2^31 - 1; then at most fib_max, or the server will not compute it.
 */
static const struct kweb_reply *kweb_parse_fib(const char *s,
					       struct kweb_request *req)
{
	unsigned long long n;
	size_t len = strlen(s);

	if (!len || len > 10 || strspn(s, "0123456789") != len ||
	    (s[0] == '0' && len > 1) || kstrtoull(s, 10, &n) || n > INT_MAX)
		return &kweb_bad_fib;
	if (n > fib_max)
		return &kweb_fib_too_large;
	req->fib = true;
	req->fib_n = n;
	return &kweb_ok;
}

/*
 * The line that starts at *pos, cut into a string in place (without its
 * CRLF or LF); *pos moves to the next line. The head is a string whose
 * last LF became its NUL: its empty last line is the empty string.
 */
static char *kweb_next_line(char **pos)
{
	char *line = *pos, *eol = strchrnul(line, '\n');

	*pos = *eol ? eol + 1 : eol;
	if (eol > line && eol[-1] == '\r')
		eol--;
	*eol = '\0';
	return line;
}

/* Look for "close" and "keep-alive" in a Connection field's value. */
static void kweb_parse_connection(char *value, bool *close, bool *keep)
{
	char *option;

	while ((option = strsep(&value, ","))) {
		option = strim(option);
		if (!strcasecmp(option, "close"))
			*close = true;
		else if (!strcasecmp(option, "keep-alive"))
			*keep = true;
	}
}

/* A Content-Length is digits, nothing else (no sign, no space inside). */
static int kweb_parse_length(const char *value, size_t *len)
{
	unsigned long long n;
	const char *p;

	for (p = value; *p; p++)
		if (!isdigit(*p))
			return -EINVAL;
	if (p == value || kstrtoull(value, 10, &n))
		return -EINVAL;
	*len = min_t(unsigned long long, n, SIZE_MAX);
	return 0;
}

/*
 * Whether the connection stays open after answering a request of HTTP/1.x
 * (minor is the x) whose Connection field said close, keep-alive, both or
 * neither: HTTP/1.1 connections persist unless the client says close,
 * HTTP/1.0 ones close unless it asks to keep them alive.
 */
static bool kweb_persistent(int minor, bool close, bool keep)
{
	return !close && (minor >= 1 || keep);
}

/*
 * The header fields of the head, from pos up to its empty line: what they
 * say about the connection and the body, or an error reply.
 */
static const struct kweb_reply *kweb_parse_fields(char *pos, int minor,
						  struct kweb_request *req)
{
	bool close = false, keep = false, have_len = false;
	char *line, *value;
	size_t len;

	while (*(line = kweb_next_line(&pos))) {
		/* A field continued on the next line: obsolete, refused. */
		if (*line == ' ' || *line == '\t')
			return &kweb_bad_request;
		value = strchr(line, ':');
		if (!value)
			return &kweb_bad_request;
		*value++ = '\0';
		/* No space before the colon: the name must be a token. */
		if (!kweb_is_token(line))
			return &kweb_bad_request;
		value = strim(value);

		if (!strcasecmp(line, "Connection")) {
			kweb_parse_connection(value, &close, &keep);
		} else if (!strcasecmp(line, "Content-Length")) {
			/* Two lengths that differ: where would the body end? */
			if (kweb_parse_length(value, &len) ||
			    (have_len && len != req->body_len))
				return &kweb_bad_request;
			req->body_len = len;
			have_len = true;
		} else if (!strcasecmp(line, "Transfer-Encoding")) {
			/* Chunked bodies are not read: the framing is lost. */
			return &kweb_not_implemented;
		}
	}
	if (req->body_len > KWEB_MAX_BODY)
		return &kweb_body_too_large;
	req->keep_alive = keepalive && kweb_persistent(minor, close, keep);
	return NULL;
}

/*
 * Choose the reply to the request head in buf[0..len), which ends with a
 * LF. The request line must be "METHOD SP target SP HTTP/1.x"; GET and HEAD
 * are served, other methods are not. Fills in *req. The head is cut into
 * strings in place: its last LF becomes a NUL.
 */
static const struct kweb_reply *kweb_parse(char *buf, size_t len,
					   struct kweb_request *req)
{
	const struct kweb_reply *error;
	char *pos = buf, *method, *target, *version;

	/* A NUL inside would cut the head short where the client did not. */
	if (memchr(buf, '\0', len))
		return &kweb_bad_request;
	buf[len - 1] = '\0';

	method = kweb_next_line(&pos);
	target = strchr(method, ' ');
	if (!target)
		return &kweb_bad_request;
	*target++ = '\0';
	version = strchr(target, ' ');
	if (!version)
		return &kweb_bad_request;
	*version++ = '\0';

	if (!kweb_is_token(method) || !kweb_is_target(target) ||
	    strlen(version) != 8 || strncmp(version, "HTTP/1.", 7) ||
	    !isdigit(version[7]))
		return &kweb_bad_request;

	error = kweb_parse_fields(pos, version[7] - '0', req);
	if (error)
		return error;
	if (!strcmp(method, "HEAD"))
		req->head = true;
	else if (strcmp(method, "GET"))
		return &kweb_not_implemented;
	if (str_has_prefix(target, KWEB_FIB_PREFIX))
		return kweb_parse_fib(target + strlen(KWEB_FIB_PREFIX), req);
	return &kweb_ok;
}

/*
 * Write a reply into buf (at least KWEB_MAX_REPLY bytes); returns its
 * length. A reply to HEAD carries the headers a GET would get,
 * Content-Length included, but no body.
 */
static int kweb_format(char *buf, size_t size, const struct kweb_reply *reply,
		       bool head, bool keep_alive)
{
	return scnprintf(buf, size,
			 "HTTP/1.1 %s\r\n"
			 "Content-Type: text/plain\r\n"
			 "Content-Length: %zu\r\n"
			 "Connection: %s\r\n"
			 "\r\n"
			 "%s",
			 reply->status, strlen(reply->body),
			 keep_alive ? "keep-alive" : "close",
			 head ? "" : reply->body);
}

/* A reply is queued. After one that closes, nothing more is answered. */
static void kweb_replied(struct kweb_conn *conn, bool keep_alive)
{
	atomic_long_inc(&conn->srv->stats.served);
	if (!keep_alive)
		conn->finishing = true;
}

/* Queue a reply in out[], which has room for it. */
static void kweb_reply(struct kweb_conn *conn, const struct kweb_reply *reply,
		       bool head, bool keep_alive)
{
	conn->out_len += kweb_format(conn->out + conn->out_len,
				     sizeof(conn->out) - conn->out_len,
				     reply, head, keep_alive);
	kweb_replied(conn, keep_alive);
}

/* Nanoseconds as milliseconds with three decimals, into buf. */
static void kweb_ms(char *buf, size_t size, u64 ns)
{
	u32 us;
	u64 ms = div_u64_rem(div_u64(ns, NSEC_PER_USEC), USEC_PER_MSEC, &us);

	scnprintf(buf, size, "%llu.%03u", ms, us);
}

/*
 * The head of a reply whose body is len computed digits: its length is
 * known before the first byte is sent, so Content-Length says it, and the
 * connection can stay open after it (no chunked encoding is needed). The
 * Server-Timing header tells the client how long the server took: in all
 * (fib), computing F(N) in binary (calc), and writing it in decimal (dec).
 */
static int kweb_format_fib(char *buf, size_t size, size_t len, u64 calc_ns,
			   u64 total_ns, bool keep_alive)
{
	char total[24], calc[24], dec[24];

	kweb_ms(total, sizeof(total), total_ns);
	kweb_ms(calc, sizeof(calc), calc_ns);
	kweb_ms(dec, sizeof(dec), total_ns - calc_ns);
	return scnprintf(buf, size,
			 "HTTP/1.1 200 OK\r\n"
			 "Content-Type: text/plain\r\n"
			 "Content-Length: %zu\r\n"
			 "Connection: %s\r\n"
			 "Server-Timing: fib;dur=%s, calc;dur=%s, dec;dur=%s\r\n"
			 "\r\n",
			 len, keep_alive ? "keep-alive" : "close",
			 total, calc, dec);
}

/* N's size class: the number of its decimal digits, less one. */
static unsigned int kweb_fib_class(u32 n)
{
	unsigned int class = 0;

	for (; n >= 10 && class < KWEB_FIB_CLASSES - 1; n /= 10)
		class++;
	return class;
}

/* Count an answer to /fib/N that took ns nanoseconds. */
static void kweb_fib_account(struct kweb_stats *stats, u32 n, u64 ns)
{
	struct kweb_fib_time *t = &stats->fib[kweb_fib_class(n)];

	spin_lock(&stats->fib_lock);
	t->count++;
	t->total_ns += ns;
	t->max_ns = max(t->max_ns, ns);
	spin_unlock(&stats->fib_lock);
}

/*
 * Whether the answer being computed is still wanted: not when the
 * connection is closing (the server stops), nor when the client has reset
 * it or shut down its side (it has gone: like nginx, the server does not
 * work for a client that closed its connection before the answer).
 */
static bool kweb_fib_cancelled(void *arg)
{
	struct kweb_conn *conn = arg;
	struct sock *sk = conn->sock->sk;

	return READ_ONCE(conn->closing) || READ_ONCE(sk->sk_err) ||
	       (READ_ONCE(sk->sk_shutdown) & RCV_SHUTDOWN);
}

/*
 * Answer /fib/N: compute F(N), write it in decimal, and queue the reply,
 * whose body is sent from the digits' own buffer. start is when the
 * request was read. Returns 0, or -ECANCELED when nobody wants the answer
 * any more (the connection is then closed). Out of memory, the client is
 * told so (503), and the connection closes.
 */
static int kweb_fib_reply(struct kweb_conn *conn,
			  const struct kweb_request *req, u64 start)
{
	struct bn_ctx ctx = { .cancelled = kweb_fib_cancelled, .arg = conn };
	struct kweb_stats *stats = &conn->srv->stats;
	u64 calc, total;
	struct bn fib;
	char *digits;
	size_t len;
	int err;

	bn_init(&fib);
	err = bn_fib(&fib, req->fib_n, &ctx);
	calc = ktime_get_ns() - start;
	if (!err)
		err = bn_to_dec(&fib, &digits, &len, &ctx);
	bn_free(&fib);
	if (err == -ECANCELED) {
		atomic_long_inc(&stats->cancelled);
		return err;
	}
	if (err) {
		kweb_reply(conn, &kweb_unavailable, req->head, false);
		return 0;
	}
	total = ktime_get_ns() - start;
	kweb_fib_account(stats, req->fib_n, total);

	conn->out_len += kweb_format_fib(conn->out + conn->out_len,
					 sizeof(conn->out) - conn->out_len,
					 len, calc, total, req->keep_alive);
	kweb_replied(conn, req->keep_alive);
	if (req->head) {
		kvfree(digits);
		return 0;
	}
	conn->body = digits;
	conn->body_len = len;
	conn->body_sent = 0;
	return 0;
}

/* Drop n bytes from the front of in[]. */
static void kweb_consume(struct kweb_conn *conn, size_t n)
{
	memmove(conn->in, conn->in + n, conn->in_len - n);
	conn->in_len -= n;
	conn->scanned = 0;
}

/*
 * Answer the requests that are in in[] whole, while out[] has room for
 * their replies and no computed body waits to be sent. Body bytes are
 * dropped as they come. Returns 0, or -ECANCELED to close.
 */
static int kweb_answer(struct kweb_conn *conn)
{
	while (!conn->finishing && !conn->body &&
	       sizeof(conn->out) - conn->out_len >= KWEB_MAX_REPLY) {
		const struct kweb_reply *reply;
		struct kweb_request req = { };
		size_t head, drop;
		bool keep_alive;
		u64 start;
		int err;

		drop = min(conn->in_len, conn->body_left);
		if (drop) {
			kweb_consume(conn, drop);
			conn->body_left -= drop;
			/* The body is in: what follows is the next request. */
			if (!conn->body_left)
				conn->req_deadline = jiffies +
						     request_timeout * HZ;
		}
		if (conn->body_left || !conn->in_len)
			return 0;

		head = kweb_head_len(conn->in, conn->scanned, conn->in_len);
		if (!head) {
			conn->scanned = conn->in_len;
			if (conn->in_len == sizeof(conn->in))
				kweb_reply(conn, &kweb_too_large, false, false);
			return 0;
		}

		start = ktime_get_ns();
		reply = kweb_parse(conn->in, head, &req);
		keep_alive = reply == &kweb_ok && req.keep_alive;
		if (reply == &kweb_ok && req.fib) {
			err = kweb_fib_reply(conn, &req, start);
			if (err)
				return err;
		} else {
			kweb_reply(conn, reply, req.head, keep_alive);
		}
		kweb_consume(conn, head);
		conn->body_left = req.body_len;

		/*
		 * Bytes that follow the body, if any, are the next request,
		 * and it has a deadline of its own.
		 */
		if (!conn->body_left)
			conn->req_deadline = jiffies + request_timeout * HZ;
		conn->idle_deadline = jiffies + idle_timeout * HZ;
	}
	return 0;
}

/*
 * Send buf[0..len) without waiting: the number of bytes the socket took,
 * -EAGAIN if its buffer is full, or another negative error.
 */
static int kweb_send_nowait(struct socket *sock, const char *buf, size_t len)
{
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT | MSG_NOSIGNAL };
	struct kvec vec = { .iov_base = (char *)buf, .iov_len = len };

	return kernel_sendmsg(sock, &msg, &vec, 1, len);
}

/*
 * Send what out[] holds, then the computed body that follows it, if any,
 * without waiting, both in one call while both are left: sent apart, the
 * body's first segment would wait for the client to acknowledge the head
 * (Nagle's algorithm), which a client delays by up to 40 ms. Returns 0
 * when all is sent, -EAGAIN when the socket's buffer is full
 * (sk_write_space queues the io work again once there is room), or
 * another negative error. A client that takes a long body slowly is idle
 * only while it takes none of it.
 */
static int kweb_send(struct kweb_conn *conn)
{
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT | MSG_NOSIGNAL };
	size_t head, body;
	struct kvec vec[2];
	int n, sent;

	for (;;) {
		head = conn->out_len - conn->out_sent;
		body = conn->body ? conn->body_len - conn->body_sent : 0;
		if (!head && !body)
			break;
		n = 0;
		if (head)
			vec[n++] = (struct kvec){ conn->out + conn->out_sent, head };
		if (body)
			vec[n++] = (struct kvec){ conn->body + conn->body_sent,
						  body };
		sent = kernel_sendmsg(conn->sock, &msg, vec, n, head + body);
		if (sent <= 0)
			return sent ? sent : -EPIPE;
		conn->out_sent += min_t(size_t, sent, head);
		if (sent > head) {
			conn->body_sent += sent - head;
			conn->idle_deadline = jiffies + idle_timeout * HZ;
		}
	}
	conn->out_len = 0;
	conn->out_sent = 0;
	kvfree(conn->body);
	conn->body = NULL;
	return 0;
}

/*
 * Do what there is to do on a connection, without waiting: send, answer,
 * receive, in turn, until nothing moves. Returns 0 to wait for more,
 * -EINPROGRESS when the budget is spent and others should run first, or
 * a negative error (0 from the client included) to close.
 *
 * After the reply that closes, the connection is shut down on our side and
 * what the client still sends is read and dropped until it closes too:
 * closing a socket with unread data makes TCP send a reset, which can
 * destroy the reply before the client has read it.
 */
static int kweb_io(struct kweb_conn *conn)
{
	int round, n;

	for (round = 0; round < KWEB_IO_BUDGET; round++) {
		n = kweb_send(conn);
		if (n)
			return n == -EAGAIN ? 0 : n;

		if (conn->finishing && !conn->shut) {
			kernel_sock_shutdown(conn->sock, SHUT_WR);
			conn->shut = true;
			conn->idle_deadline = jiffies + idle_timeout * HZ;
		}
		if (conn->shut) {
			n = kweb_recv(conn->sock, conn->in, sizeof(conn->in));
			if (n <= 0)
				return n == -EAGAIN ? 0 : n ? n : -ESHUTDOWN;
			continue;
		}

		n = kweb_answer(conn);
		if (n)
			return n;
		if (conn->out_len || conn->finishing)
			continue;

		n = kweb_recv(conn->sock, conn->in + conn->in_len,
			      sizeof(conn->in) - conn->in_len);
		if (n <= 0)
			return n == -EAGAIN ? 0 : n ? n : -ESHUTDOWN;
		/* The first bytes of a request start its deadline. */
		if (!conn->in_len && !conn->body_left)
			conn->req_deadline = jiffies + request_timeout * HZ;
		conn->in_len += n;
	}
	return -EINPROGRESS;
}

/*
 * How long until the deadline the connection waits for now, in *delay;
 * -ETIMEDOUT if it has passed. A request in progress must be in by its
 * deadline, and it is told so (408) if there is room for that; otherwise
 * the next request must start before the idle deadline.
 */
static int kweb_expired(struct kweb_conn *conn, unsigned long *delay)
{
	bool in_request = !conn->shut && (conn->in_len || conn->body_left);
	unsigned long deadline, now = jiffies;

	deadline = in_request ? conn->req_deadline : conn->idle_deadline;
	if (time_before(now, deadline)) {
		*delay = deadline - now;
		return 0;
	}
	if (in_request && !conn->out_len) {
		kweb_reply(conn, &kweb_timed_out, false, false);
		kweb_send(conn);
	}
	atomic_long_inc(&conn->srv->stats.timed_out);
	return -ETIMEDOUT;
}

/* Give the socket its own callbacks back; none of ours runs after this. */
static void kweb_conn_restore(struct kweb_conn *conn)
{
	struct sock *sk = conn->sock->sk;

	write_lock_bh(&sk->sk_callback_lock);
	sk->sk_user_data = NULL;
	sk->sk_data_ready = conn->orig_data_ready;
	sk->sk_write_space = conn->orig_write_space;
	sk->sk_state_change = conn->orig_state_change;
	write_unlock_bh(&sk->sk_callback_lock);
	kernel_sock_shutdown(conn->sock, SHUT_RDWR);
}

/*
 * The connection is done: off the open list, onto the done list, for the
 * release work to free. Called by its own io work; kweb_stop() closes the
 * connections it finds open itself, and then this does nothing.
 */
static void kweb_conn_close(struct kweb_conn *conn)
{
	struct kweb_server *srv = conn->srv;

	spin_lock(&srv->conns_lock);
	if (conn->closing) {
		spin_unlock(&srv->conns_lock);
		return;
	}
	WRITE_ONCE(conn->closing, true);
	list_del(&conn->list);
	spin_unlock(&srv->conns_lock);

	kweb_conn_restore(conn);

	spin_lock(&srv->conns_lock);
	list_add_tail(&conn->list, &srv->done);
	spin_unlock(&srv->conns_lock);
	queue_work(kweb_wq, &srv->release_work);
}

static void kweb_io_work(struct work_struct *work)
{
	struct kweb_conn *conn;
	unsigned long delay;
	bool busy;
	int err;

	conn = container_of(to_delayed_work(work), struct kweb_conn, io);
	if (READ_ONCE(conn->closing))
		return;

	err = kweb_io(conn);
	busy = err == -EINPROGRESS;
	if (!err || busy)
		err = kweb_expired(conn, &delay);
	if (err) {
		kweb_conn_close(conn);
		return;
	}
	/*
	 * Still busy: run again, behind the connections waiting already.
	 * Otherwise wake up at the deadline, unless a callback has queued
	 * the work to run at once meanwhile: queue_delayed_work() does
	 * nothing then.
	 */
	queue_delayed_work(kweb_wq, &conn->io, busy ? 0 : delay);
}

/*
 * Run the connection's io work now, even if it was armed for a deadline
 * later; if it is running, it runs once more when it returns. Safe in any
 * context.
 */
static void kweb_conn_kick(struct kweb_conn *conn)
{
	mod_delayed_work(kweb_wq, &conn->io, 0);
}

/*
 * The callbacks of a client's socket, called by the network stack in atomic
 * context: data has come (or the client closed), the connection changed
 * state, there is room to send.
 */
static void kweb_conn_wake(struct sock *sk)
{
	struct kweb_conn *conn;

	read_lock_bh(&sk->sk_callback_lock);
	conn = sk->sk_user_data;
	if (conn)
		kweb_conn_kick(conn);
	read_unlock_bh(&sk->sk_callback_lock);
}

static void kweb_conn_write_space(struct sock *sk)
{
	struct kweb_conn *conn;

	read_lock_bh(&sk->sk_callback_lock);
	conn = sk->sk_user_data;
	if (conn && sk_stream_is_writeable(sk)) {
		clear_bit(SOCK_NOSPACE, &sk->sk_socket->flags);
		kweb_conn_kick(conn);
	}
	read_unlock_bh(&sk->sk_callback_lock);
}

/* Free what is on the done list, once its io work can no longer run. */
static void kweb_release_work(struct work_struct *work)
{
	struct kweb_server *srv;
	struct kweb_conn *conn, *tmp;
	LIST_HEAD(done);

	srv = container_of(work, struct kweb_server, release_work);
	spin_lock(&srv->conns_lock);
	list_splice_init(&srv->done, &done);
	spin_unlock(&srv->conns_lock);

	list_for_each_entry_safe(conn, tmp, &done, list) {
		/* Waits for an io work still running, cancels one queued. */
		cancel_delayed_work_sync(&conn->io);
		sock_release(conn->sock);
		kvfree(conn->body);
		kfree(conn);
		/* Pairs with wait_var_event() in kweb_stop(). */
		if (atomic_dec_and_test(&srv->nconns))
			wake_up_var(&srv->nconns);
	}
}

/*
 * Over the limit: say so, and close. The accept work must not wait, so
 * the reply is sent only if the socket takes it at once (a new socket's
 * buffer is empty: it does).
 */
static void kweb_refuse(struct kweb_server *srv, struct socket *sock)
{
	char buf[KWEB_MAX_REPLY];
	int len;

	len = kweb_format(buf, sizeof(buf), &kweb_unavailable, false, false);
	kweb_send_nowait(sock, buf, len);
	kernel_sock_shutdown(sock, SHUT_WR);
	sock_release(sock);
	atomic_long_inc(&srv->stats.refused);
}

/* Set up a newly accepted connection; consumes sock on failure. */
static void kweb_serve(struct kweb_server *srv, struct socket *sock)
{
	struct sock *sk = sock->sk;
	struct kweb_conn *conn;

	/*
	 * The new socket is a clone of the listener and inherited its
	 * callback and sk_user_data: give it back the default ones.
	 */
	write_lock_bh(&sk->sk_callback_lock);
	sk->sk_user_data = NULL;
	sk->sk_data_ready = srv->orig_data_ready;
	write_unlock_bh(&sk->sk_callback_lock);

	if (atomic_read(&srv->nconns) >= max_conns) {
		kweb_refuse(srv, sock);
		return;
	}
	conn = kzalloc(sizeof(*conn), GFP_KERNEL);
	if (!conn) {
		sock_release(sock);
		return;
	}
	conn->srv = srv;
	conn->sock = sock;
	INIT_DELAYED_WORK(&conn->io, kweb_io_work);
	conn->idle_deadline = jiffies + idle_timeout * HZ;

	/* On the list first: its io work may close it as soon as it runs. */
	atomic_inc(&srv->nconns);
	atomic_long_inc(&srv->stats.accepted);
	spin_lock(&srv->conns_lock);
	list_add_tail(&conn->list, &srv->conns);
	spin_unlock(&srv->conns_lock);

	write_lock_bh(&sk->sk_callback_lock);
	conn->orig_data_ready = sk->sk_data_ready;
	conn->orig_write_space = sk->sk_write_space;
	conn->orig_state_change = sk->sk_state_change;
	sk->sk_user_data = conn;
	sk->sk_data_ready = kweb_conn_wake;
	sk->sk_write_space = kweb_conn_write_space;
	sk->sk_state_change = kweb_conn_wake;
	write_unlock_bh(&sk->sk_callback_lock);

	/*
	 * Wait for the request, or for the idle deadline. It may have come
	 * (or the client closed) before our callbacks were there: then run
	 * the io work at once.
	 */
	if (skb_queue_empty_lockless(&sk->sk_receive_queue) &&
	    sk->sk_state == TCP_ESTABLISHED)
		queue_delayed_work(kweb_wq, &conn->io, idle_timeout * HZ);
	else
		kweb_conn_kick(conn);
}

/*
 * The listener's sk_data_ready: a connection is ready to be accepted. The
 * network stack calls it in atomic context, so it only queues the accept
 * work, which may sleep.
 */
static void kweb_data_ready(struct sock *sk)
{
	struct kweb_server *srv;

	/*
	 * Only a listener has connections to accept. The listener's clones
	 * call this too, for data of their own, until kweb_serve() resets
	 * them: test the state before taking the lock, as nvmet-tcp does, so
	 * that such calls never touch the lock or sk_user_data.
	 */
	if (sk->sk_state != TCP_LISTEN)
		return;

	read_lock_bh(&sk->sk_callback_lock);
	srv = sk->sk_user_data;
	if (srv)
		queue_work(kweb_accept_wq, &srv->accept_work);
	read_unlock_bh(&sk->sk_callback_lock);
}

/* Accept every connection that is waiting, without blocking. */
static void kweb_accept_work(struct work_struct *work)
{
	struct kweb_server *srv;
	struct socket *sock;
	int err;

	srv = container_of(work, struct kweb_server, accept_work);
	for (;;) {
		err = kernel_accept(srv->listen_sock, &sock, O_NONBLOCK);
		if (err < 0)
			break;
		kweb_serve(srv, sock);
	}
	/* -EAGAIN: no connection is left waiting. */
	if (err != -EAGAIN)
		pr_warn_ratelimited("accept failed: %d\n", err);
}

static int kweb_start(struct kweb_server *srv)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = listen_addr,
		.sin_port = htons(port),
	};
	struct socket *sock;
	struct sock *sk;
	int err;

	err = sock_create_kern(srv->net, AF_INET, SOCK_STREAM, IPPROTO_TCP,
			       &sock);
	if (err < 0)
		goto err_out;
	sk = sock->sk;
	sock_set_reuseaddr(sk);
	srv->listen_sock = sock;

	/* Before listening, so that no connection goes unnoticed. */
	write_lock_bh(&sk->sk_callback_lock);
	srv->orig_data_ready = sk->sk_data_ready;
	sk->sk_user_data = srv;
	sk->sk_data_ready = kweb_data_ready;
	write_unlock_bh(&sk->sk_callback_lock);

	err = kernel_bind(sock, KWEB_SOCKADDR(&sin), sizeof(sin));
	if (err < 0)
		goto err_release;
	err = kernel_listen(sock, KWEB_BACKLOG);
	if (err < 0)
		goto err_release;
	pr_info("HTTP server listening on %s:%d in netns %u\n", host, port,
		srv->net->ns.inum);
	return 0;

err_release:
	/* Not listening: the callback never queued the accept work. */
	sock_release(sock);
	srv->listen_sock = NULL;
err_out:
	pr_err("cannot listen on %s:%d in netns %u: %d\n", host, port,
	       srv->net->ns.inum, err);
	return err;
}

/*
 * The order matters: once the callback is restored nothing queues the
 * accept work; once that is cancelled (and waited for) nothing uses the
 * listener or adds connections, so the listener can be released and then
 * the connections closed. Releasing the listener while the accept work may
 * still run would be a use-after-free.
 */
static void kweb_stop(struct kweb_server *srv)
{
	struct sock *sk = srv->listen_sock->sk;
	struct kweb_conn *conn;
	LIST_HEAD(closing);

	write_lock_bh(&sk->sk_callback_lock);
	sk->sk_data_ready = srv->orig_data_ready;
	sk->sk_user_data = NULL;
	write_unlock_bh(&sk->sk_callback_lock);

	cancel_work_sync(&srv->accept_work);

	/*
	 * Nothing can queue the accept work now, so the listener can go:
	 * connections still waiting in its backlog are reset.
	 */
	kernel_sock_shutdown(srv->listen_sock, SHUT_RDWR);
	sock_release(srv->listen_sock);
	srv->listen_sock = NULL;

	/*
	 * No new connection can appear either. Take every open one off the
	 * list at once (their io work then leaves them alone), close them,
	 * and hand them to the release work.
	 */
	spin_lock(&srv->conns_lock);
	list_for_each_entry(conn, &srv->conns, list)
		WRITE_ONCE(conn->closing, true);
	list_splice_init(&srv->conns, &closing);
	spin_unlock(&srv->conns_lock);

	list_for_each_entry(conn, &closing, list)
		kweb_conn_restore(conn);

	spin_lock(&srv->conns_lock);
	list_splice_tail(&closing, &srv->done);
	spin_unlock(&srv->conns_lock);
	queue_work(kweb_wq, &srv->release_work);

	/*
	 * Every connection freed, then the release work itself finished:
	 * after that nothing of this server runs, and it may be freed.
	 */
	wait_var_event(&srv->nconns, !atomic_read(&srv->nconns));
	flush_work(&srv->release_work);
	pr_info("HTTP server stopped in netns %u\n", srv->net->ns.inum);
}

static void kweb_server_init(struct kweb_server *srv, struct net *net)
{
	srv->net = net;
	mutex_init(&srv->lock);
	INIT_WORK(&srv->accept_work, kweb_accept_work);
	spin_lock_init(&srv->conns_lock);
	spin_lock_init(&srv->stats.fib_lock);
	INIT_LIST_HEAD(&srv->conns);
	INIT_LIST_HEAD(&srv->done);
	INIT_WORK(&srv->release_work, kweb_release_work);
}

static struct kweb_data *to_kweb_data(const struct kobject *kobj)
{
	return container_of(kobj, struct kweb_data, kobj);
}

static ssize_t status_show(struct kobject *kobj, struct kobj_attribute *attr,
			   char *buf)
{
	struct kweb_server *srv = to_kweb_data(kobj)->srv;
	bool running;

	mutex_lock(&srv->lock);
	running = srv->listen_sock;
	mutex_unlock(&srv->lock);
	return sysfs_emit(buf, "%d\n", running);
}

/*
 * Writing 1 starts the server and 0 stops it; either is harmless when the
 * server is in that state already. Anything else is refused and changes
 * nothing. The mutex keeps two writers from starting the server twice.
 */
static ssize_t status_store(struct kobject *kobj, struct kobj_attribute *attr,
			    const char *buf, size_t count)
{
	struct kweb_server *srv = to_kweb_data(kobj)->srv;
	int on, err = 0;

	if (kstrtoint(buf, 10, &on) || (on != 0 && on != 1))
		return -EINVAL;

	mutex_lock(&srv->lock);
	if (on && !srv->listen_sock)
		err = kweb_start(srv);
	else if (!on && srv->listen_sock)
		kweb_stop(srv);
	mutex_unlock(&srv->lock);
	return err ? err : count;
}

static struct kobj_attribute status_attr = __ATTR_RW(status);

static struct attribute *kweb_data_attrs[] = {
	&status_attr.attr,
	NULL
};

static const struct attribute_group kweb_data_group = {
	.attrs = kweb_data_attrs,
};

/* The stats directory: one counter a file, as sysfs files are. */
#define KWEB_STAT_ATTR(name, value)					\
static ssize_t name##_show(struct kobject *kobj,			\
			   struct kobj_attribute *attr, char *buf)	\
{									\
	struct kweb_server *srv = to_kweb_data(kobj)->srv;		\
									\
	return sysfs_emit(buf, "%ld\n", (long)(value));			\
}									\
static struct kobj_attribute name##_attr = __ATTR_RO(name)

KWEB_STAT_ATTR(accepted, atomic_long_read(&srv->stats.accepted));
KWEB_STAT_ATTR(served, atomic_long_read(&srv->stats.served));
KWEB_STAT_ATTR(refused, atomic_long_read(&srv->stats.refused));
KWEB_STAT_ATTR(timed_out, atomic_long_read(&srv->stats.timed_out));
KWEB_STAT_ATTR(open, atomic_read(&srv->nconns));
KWEB_STAT_ATTR(cancelled, atomic_long_read(&srv->stats.cancelled));

/*
 * stats/fib_time: a table, like /proc/net/tcp: a line of column names,
 * then one line for each size class of N (1 digit, 2, ... 10): how many
 * answers there were, and their mean and longest time, in nanoseconds.
 */
static ssize_t fib_time_show(struct kobject *kobj, struct kobj_attribute *attr,
			     char *buf)
{
	struct kweb_stats *stats = &to_kweb_data(kobj)->srv->stats;
	struct kweb_fib_time t[KWEB_FIB_CLASSES];
	unsigned int i;
	int len;

	spin_lock(&stats->fib_lock);
	memcpy(t, stats->fib, sizeof(t));
	spin_unlock(&stats->fib_lock);

	len = sysfs_emit(buf, "digits count mean_ns max_ns\n");
	for (i = 0; i < KWEB_FIB_CLASSES; i++)
		len += sysfs_emit_at(buf, len, "%u %llu %llu %llu\n", i + 1,
				     t[i].count, t[i].count ?
				     div64_u64(t[i].total_ns, t[i].count) : 0,
				     t[i].max_ns);
	return len;
}

static struct kobj_attribute fib_time_attr = __ATTR_RO(fib_time);

static struct attribute *kweb_stats_attrs[] = {
	&accepted_attr.attr,
	&served_attr.attr,
	&refused_attr.attr,
	&timed_out_attr.attr,
	&open_attr.attr,
	&cancelled_attr.attr,
	&fib_time_attr.attr,
	NULL
};

static const struct attribute_group kweb_stats_group = {
	.name = "stats",
	.attrs = kweb_stats_attrs,
};

static const struct attribute_group *kweb_data_groups[] = {
	&kweb_data_group,
	&kweb_stats_group,
	NULL
};

/*
 * The kobjects whose release is this module's code (the net directory and
 * the data directories), plus one for the module itself. A kobject is
 * released when its last reference goes, which may be after our last
 * kobject_put() (CONFIG_DEBUG_KOBJECT_RELEASE delays it on purpose), and
 * the module must not go before the last release has run: the completion
 * says when (the idiom of ext4's s_kobj_unregister).
 */
static atomic_t kweb_kobjects = ATOMIC_INIT(1);
static DECLARE_COMPLETION(kweb_kobjects_released);

static void kweb_kobject_released(void)
{
	if (atomic_dec_and_test(&kweb_kobjects))
		complete(&kweb_kobjects_released);
}

/* Drops the module's own count and waits for the releases still to run. */
static void kweb_kobjects_wait(void)
{
	kweb_kobject_released();
	wait_for_completion(&kweb_kobjects_released);
}

static void kweb_data_release(struct kobject *kobj)
{
	kfree(to_kweb_data(kobj));
	kweb_kobject_released();
}

/* The tag that tells sysfs which namespace a data directory belongs to. */
static kweb_ns_tag_t kweb_data_namespace(KWEB_KOBJ_CONST struct kobject *kobj)
{
	return KWEB_NS_TAG(to_kweb_data(kobj)->srv->net);
}

static const struct kobj_type kweb_data_ktype = {
	.release = kweb_data_release,
	.sysfs_ops = &kobj_sysfs_ops,
	.default_groups = kweb_data_groups,
	.namespace = kweb_data_namespace,
};

static void kweb_net_release(struct kobject *kobj)
{
	kfree(kobj);
	kweb_kobject_released();
}

/* The children of the net directory are tagged with network namespaces. */
static const struct kobj_ns_type_operations *
kweb_net_child_ns_type(KWEB_KOBJ_CONST struct kobject *kobj)
{
	return &net_ns_type_operations;
}

static const struct kobj_type kweb_net_ktype = {
	.release = kweb_net_release,
	.child_ns_type = kweb_net_child_ns_type,
};

/* /sys/kernel/webserver/net; the data directories come with the namespaces. */
static struct kobject *webserver_kobj, *net_kobj;

static int kweb_sysfs_init(void)
{
	int err = -ENOMEM;

	webserver_kobj = kobject_create_and_add("webserver", kernel_kobj);
	if (!webserver_kobj)
		return -ENOMEM;
	net_kobj = kzalloc(sizeof(*net_kobj), GFP_KERNEL);
	if (!net_kobj)
		goto err_webserver;
	atomic_inc(&kweb_kobjects);
	err = kobject_init_and_add(net_kobj, &kweb_net_ktype, webserver_kobj,
				   "net");
	if (err)
		goto err_net;
	return 0;

err_net:
	kobject_put(net_kobj);
	kweb_kobjects_wait();
err_webserver:
	kobject_del(webserver_kobj);
	kobject_put(webserver_kobj);
	return err;
}

/*
 * kobject_del() removes the directories at once; the kobjects go with their
 * last reference, and the module after their releases.
 */
static void kweb_sysfs_exit(void)
{
	kobject_del(net_kobj);
	kobject_del(webserver_kobj);
	kobject_put(net_kobj);
	kobject_put(webserver_kobj);
	kweb_kobjects_wait();
}

/* A new namespace: a stopped server and a status file for it. */
static int __net_init kweb_net_init(struct net *net)
{
	struct kweb_server *srv = net_generic(net, kweb_net_id);
	struct kweb_data *data;
	int err;

	kweb_server_init(srv, net);
	data = kzalloc(sizeof(*data), GFP_KERNEL);
	if (!data)
		return -ENOMEM;
	data->srv = srv;
	atomic_inc(&kweb_kobjects);
	err = kobject_init_and_add(&data->kobj, &kweb_data_ktype, net_kobj,
				   "data");
	if (err) {
		kobject_put(&data->kobj);
		return err;
	}
	srv->data = data;
	return 0;
}

/*
 * A namespace goes away, or the module does. kobject_del() removes the
 * status file at once and waits for the status_store() calls in progress:
 * once it is gone, no write can start the server any more. (kobject_put()
 * alone might leave it there, since the kobject goes with its last
 * reference.) The server's sockets do not keep the namespace alive, so they
 * must be gone before this returns.
 */
static void __net_exit kweb_net_exit(struct net *net)
{
	struct kweb_server *srv = net_generic(net, kweb_net_id);

	kobject_del(&srv->data->kobj);
	kobject_put(&srv->data->kobj);
	if (srv->listen_sock)
		kweb_stop(srv);
}

static struct pernet_operations kweb_net_ops = {
	.init = kweb_net_init,
	.exit = kweb_net_exit,
	.id = &kweb_net_id,
	.size = sizeof(struct kweb_server),
};

/* A parameter in lo..hi, or -EINVAL with a line that says which. */
static int kweb_check_param(const char *name, int value, int lo, int hi)
{
	if (value >= lo && value <= hi)
		return 0;
	pr_err("%s=%d is not in %d..%d\n", name, value, lo, hi);
	return -EINVAL;
}

static int __init kweb_init(void)
{
	int err;

	if (!in4_pton(host, -1, (u8 *)&listen_addr, -1, NULL)) {
		pr_err("host=%s is not an IPv4 address\n", host);
		return -EINVAL;
	}
	if (kweb_check_param("port", port, 1, 65535) ||
	    kweb_check_param("max_conns", max_conns, 1, 65536) ||
	    kweb_check_param("request_timeout", request_timeout, 1, 3600) ||
	    kweb_check_param("idle_timeout", idle_timeout, 1, 3600) ||
	    kweb_check_param("fib_max", fib_max, 0, INT_MAX))
		return -EINVAL;

	kweb_wq = alloc_workqueue("kweb", WQ_UNBOUND, kweb_io_active());
	if (!kweb_wq)
		return -ENOMEM;
	/* 0: the default limit; there is one accept work per namespace. */
	kweb_accept_wq = alloc_workqueue("kweb_accept",
					 WQ_UNBOUND | WQ_HIGHPRI, 0);
	if (!kweb_accept_wq) {
		err = -ENOMEM;
		goto err_wq;
	}

	err = kweb_sysfs_init();
	if (err < 0)
		goto err_accept_wq;
	/* Runs kweb_net_init() for every namespace there is, and will be. */
	err = register_pernet_subsys(&kweb_net_ops);
	if (err < 0)
		goto err_sysfs;
	pr_info("loaded; write 1 to /sys/kernel/webserver/net/data/status to start\n");
	return 0;

err_sysfs:
	kweb_sysfs_exit();
err_accept_wq:
	destroy_workqueue(kweb_accept_wq);
err_wq:
	destroy_workqueue(kweb_wq);
	return err;
}

static void __exit kweb_exit(void)
{
	/* Runs kweb_net_exit() for every namespace: stops every server. */
	unregister_pernet_subsys(&kweb_net_ops);
	kweb_sysfs_exit();
	destroy_workqueue(kweb_accept_wq);
	destroy_workqueue(kweb_wq);
}

module_init(kweb_init);
module_exit(kweb_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("kweb-lab");
MODULE_DESCRIPTION("kweb-lab stage 7: HTTP server that computes Fibonacci numbers");
