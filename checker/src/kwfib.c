// SPDX-License-Identifier: GPL-2.0
/*
 * kwfib - the kweb-lab Fibonacci checker: fetches GET /fib/N from the
 * server under test and compares every answer, byte for byte, with what
 * GMP says F(N) is (mpz_fib_ui, mpz_get_str: F(0) = 0, F(1) = 1, F(10) =
 * 55, decimal, no newline).
 *
 *   kwfib SUBCOMMAND [options]      (kwfib help lists them)
 *
 * Exit status: 0 when every check passed, 1 when one failed (with one line
 * on stderr for each, saying what differed), 2 on a usage error, when the
 * server cannot be connected to, or when kwfib itself could not run.
 *
 * The server is a student's module: nothing it says is trusted. Every
 * request has a deadline (-t), a response is read only as far as its head
 * (16 KiB) and the length F(N) should have, plus one byte, allow, and
 * what is quoted from it in a message is escaped and cut short.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <gmp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kwlib.h"

#define MAX_N		100000000UL	/* F(N) has 20.9 million digits */
#define MAX_COUNT	10000000UL	/* -R COUNT */
#define MAX_REPEAT	100000UL
#define HEAD_MAX	16384		/* the most a response head may take */
#define EXPECT_BODY_MAX	(1UL << 20)	/* expect, a path that is not /fib/N */
#define HEAD_GRACE_MS	500		/* expect -m HEAD: for a stray body */
#define WINDOW		40		/* bytes shown around a difference */

static const char usage_text[] =
"usage: kwfib SUBCOMMAND [options]\n"
"\n"
"  verify [-k] [-f MAXFAIL] [-r LO-HI] [-R COUNT:MAX[:SEED]] [N...]\n"
"        GET /fib/N for every N given, every N from LO to HI (-r) and\n"
"        COUNT random N from 0 to MAX (-R; splitmix64 seeded with SEED,\n"
"        or with the time if there is none: the seed is printed); each\n"
"        response must be 200, its body F(N) exactly (as GMP has it), with\n"
"        Content-Length, Content-Type text/plain and Server-Timing\n"
"        'fib;dur=MS' (MS: milliseconds with at most 3 decimals). -k: all\n"
"        on one keep-alive connection (a new one when the server closes\n"
"        it), else one connection per request ('Connection: close'). It\n"
"        stops after MAXFAIL failed N (10; 0: never)\n"
"        last line: kwfib verify checked=K ok=K bad=B errors=E bytes=BODY_BYTES seconds=S\n"
"  expect [-m METHOD] STATUS PATH\n"
"        send 'METHOD PATH HTTP/1.1' (GET; PATH as given, byte for byte)\n"
"        and check that the status is STATUS; for /fib/N and 200 also the\n"
"        body (GET) or the Content-Length without a body (HEAD)\n"
"        last line: kwfib expect status=S method=M bytes=BODY_BYTES first_line='...'\n"
"  time [-n REPEAT] N...\n"
"        REPEAT (5) requests for each N on one keep-alive connection, each\n"
"        body checked; the time from sending the request to the body's\n"
"        last byte, and the server's own Server-Timing dur, one line per N:\n"
"        kwfib time n=N digits=D best_us=.. median_us=.. server_us=..\n"
"  gmp [-n REPEAT] N...\n"
"        how long GMP takes here, best of REPEAT (3), one line per N:\n"
"        kwfib gmp n=N digits=D fib_us=.. str_us=.. total_us=..\n"
"  digits N\n"
"        the number of decimal digits of F(N)\n"
"\n"
"N is 0 to 100000000. Options of the subcommands that connect: -h HOST\n"
"(or -H; 127.0.0.1), -p PORT (9999), -t SECONDS (30), the most each\n"
"request may take, connecting included\n"
"exit status: 0 passed, 1 a check failed, 2 usage error, no connection,\n"
"or kwfib could not run\n";

static struct {
	const char *host_str;	/* as given, for messages and Host: */
	uint32_t host;		/* host byte order */
	int port;
	int timeout;		/* seconds, for each request */
} cfg = {
	.host_str = "127.0.0.1",
	.host = 0x7f000001,
	.port = 9999,
	.timeout = 30,
};

/* ---- options ----------------------------------------------------------- */

/* The options of every subcommand that connects: -h (-H), -p, -t. */
static bool common_opt(int opt, const char *arg)
{
	switch (opt) {
	case 'h':
	case 'H':
		cfg.host = kw_host_arg(opt, arg);
		cfg.host_str = arg;
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

static unsigned long n_arg(const char *arg)
{
	unsigned long n;

	if (kw_parse_ulong(arg, 0, MAX_N, &n) < 0)
		kw_die("invalid N '%s': expected a number from 0 to %lu", arg,
		       MAX_N);
	return n;
}

/* The operands N... (at least one unless @may_be_none). */
static void n_operands(int argc, char **argv, bool may_be_none)
{
	int i;

	if (optind == argc && !may_be_none)
		kw_die("no N given (see 'kwfib help')");
	for (i = optind; i < argc; i++)
		n_arg(argv[i]);
}

/* ---- GMP --------------------------------------------------------------- */

/* F(@n) in decimal, NUL-terminated, its length in *@len; free() it. */
static char *fib_str(unsigned long n, size_t *len)
{
	mpz_t f;
	char *s;

	mpz_init(f);
	mpz_fib_ui(f, n);
	/* sizeinbase may say one digit too many, never too few */
	s = kw_xcalloc(mpz_sizeinbase(f, 10) + 2, 1);
	mpz_get_str(s, 10, f);
	mpz_clear(f);
	*len = strlen(s);
	return s;
}

/* Is @path "/fib/N" with a number N kwfib knows F of? */
static bool fib_path(const char *path, unsigned long *n)
{
	return !strncmp(path, "/fib/", 5) &&
	       kw_parse_ulong(path + 5, 0, MAX_N, n) == 0;
}

/* ---- messages ---------------------------------------------------------- */

static const char *target_str(void)
{
	static char buf[KW_IPV4_STRLEN + 8];

	snprintf(buf, sizeof(buf), "%s:%d", cfg.host_str, cfg.port);
	return buf;
}

/* Append printf() output to the message in @buf. */
__attribute__((format(printf, 3, 4)))
static void add(char *buf, size_t size, const char *fmt, ...)
{
	size_t o = strlen(buf);
	va_list ap;

	if (o + 1 >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + o, size - o, fmt, ap);
	va_end(ap);
}

/* @len bytes at @s quoted, or "the end" when there are none. */
static const char *quoted(const char *s, size_t len, char *buf, size_t size)
{
	char q[4 * WINDOW + 16];

	if (len == 0)
		return "the end";
	snprintf(buf, size, "'%s'", kw_quote(s, len, 4 * WINDOW, q, sizeof(q)));
	return buf;
}

/*
 * Append how @got (@glen bytes) differs from @want (@wlen): the first
 * byte that differs, both lengths, and WINDOW bytes of each around it.
 * Returns false (appending nothing) when they are the same.
 */
static bool add_diff(char *why, size_t size, const char *want, size_t wlen,
		     const char *got, size_t glen, bool complete)
{
	char q1[4 * WINDOW + 24], q2[4 * WINDOW + 24];
	size_t i = 0, from, wn, gn;

	while (i < wlen && i < glen && want[i] == got[i])
		i++;
	if (i == glen && (complete ? i == wlen : i <= wlen))
		return false;
	from = i > WINDOW / 2 ? i - WINDOW / 2 : 0;
	wn = wlen - from < WINDOW ? wlen - from : WINDOW;
	gn = glen - from < WINDOW ? glen - from : WINDOW;
	add(why, size, "the body differs at byte %zu: expected %zu bytes, got %zu%s; from byte %zu expected %s, got %s",
	    i, wlen, glen, complete ? "" : " so far", from,
	    quoted(want + from, wn, q1, sizeof(q1)),
	    quoted(got + from, gn, q2, sizeof(q2)));
	return true;
}

/* ---- one request ------------------------------------------------------- */

/* How a request went. */
enum outcome {
	GOOD,		/* every check passed */
	BAD,		/* a response came, and it is wrong */
	ERROR,		/* no whole response: timeout, close, reset */
	NO_CONN,	/* the server could not be connected to */
};

struct client {
	int fd;			/* -1: not connected */
	bool keep;		/* keep the connection for the next request */
	unsigned long conns;	/* connections opened */
	unsigned long closes;	/* keep-alive connections the server ended */
	char last[64];		/* the last request, for messages */
	struct kw_http_msg m;
	enum kw_read rc;	/* how reading the response ended */
	int64_t t0, t1;		/* ns: the request's first write, the end */
	uint64_t bytes;		/* body bytes received */
};

static void client_init(struct client *c, bool keep)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->keep = keep;
	c->m.head_max = HEAD_MAX;
}

static void client_close(struct client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static enum outcome client_connect(struct client *c, int64_t deadline,
				   char *why, size_t size)
{
	int bad, err = kw_connect_all(cfg.host, cfg.port, deadline, &c->fd, 1,
				      &bad);

	if (err == ETIMEDOUT) {
		snprintf(why, size, "connecting to %s timed out after %d s",
			 target_str(), cfg.timeout);
		return NO_CONN;
	}
	if (err) {
		snprintf(why, size, "cannot connect to %s: %s", target_str(),
			 strerror(err));
		return NO_CONN;
	}
	kw_set_nodelay(c->fd);
	c->conns++;
	return GOOD;
}

/*
 * Before a request on a connection kept from the last: has the server
 * closed it (then open a new one), or sent what nobody asked for?
 */
static enum outcome client_reuse(struct client *c, char *why, size_t size)
{
	char buf[WINDOW], q[4 * WINDOW + 24];
	ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT);

	if (n < 0 && kw_again(errno))
		return GOOD;
	if (n > 0) {
		snprintf(why, size, "bytes that nobody asked for were waiting on the keep-alive connection after the response to %s: %s",
			 c->last, quoted(buf, (size_t)n, q, sizeof(q)));
		client_close(c);
		return BAD;
	}
	/* closed (or reset) while idle: the server may do that */
	c->closes++;
	client_close(c);
	return GOOD;
}

/* Does the response in @m let the connection stay open? */
static bool stays_open(const struct kw_http_msg *m)
{
	const struct kw_http_resp *r = &m->r;
	bool close_it = r->connection && r->connection_len == 5 &&
			!strncasecmp(r->connection, "close", 5);
	bool keep_it = r->connection && r->connection_len == 10 &&
		       !strncasecmp(r->connection, "keep-alive", 10);

	return !close_it && (r->minor == 1 || keep_it);
}

/*
 * Send "@method @path HTTP/1.1" and read its response into c->m (a body
 * of at most @body_max bytes; a HEAD request's has none; @need_length: it
 * must have a Content-Length). On a kept connection that the server
 * closed before answering, the request goes again on a new one. Returns
 * NO_CONN (with why) or GOOD: c->rc says how reading ended.
 */
static enum outcome request(struct client *c, const char *method,
			    const char *path, size_t body_max,
			    bool need_length, char *why, size_t size)
{
	char *req = kw_xasprintf("%s %s HTTP/1.1\r\nHost: %s\r\n%s\r\n", method,
				 path, cfg.host_str,
				 c->keep ? "" : "Connection: close\r\n");
	int64_t deadline = kw_now_ms() + (int64_t)cfg.timeout * 1000;
	size_t len = strlen(req), sent;
	enum outcome o = GOOD;
	int attempt, err;

	if (!c->keep)
		client_close(c);	/* a connection per request */
	c->m.head = !strcmp(method, "HEAD");
	c->m.need_length = need_length;
	c->m.body_max = body_max;
	for (attempt = 0; attempt < 2; attempt++) {
		bool reused = c->fd >= 0;

		if (c->fd < 0) {
			o = client_connect(c, deadline, why, size);
			if (o != GOOD)
				break;
		}
		c->t0 = kw_now_ns();
		err = kw_send_all(c->fd, req, len, deadline, &sent);
		if (err == ETIMEDOUT) {
			c->rc = KW_READ_TIMEOUT;
			c->m.len = 0;
			c->m.head_done = 0;
		} else {
			/* a send error: read what the server said anyway */
			c->rc = kw_http_read(c->fd, &c->m, deadline);
		}
		c->t1 = kw_now_ns();
		if (reused && c->m.len == 0 &&
		    (c->rc == KW_READ_EOF || c->rc == KW_READ_ERROR ||
		     (err && err != ETIMEDOUT))) {
			/* closed under us before it answered: once more */
			c->closes++;
			client_close(c);
			continue;
		}
		break;
	}
	if (c->m.head_done && c->m.len > c->m.r.body_off)
		c->bytes += c->m.len - c->m.r.body_off;
	/* without keep-alive, the caller closes it when done with it */
	if (o == GOOD && c->keep && (c->rc != KW_READ_DONE ||
				     c->m.len > c->m.total ||
				     !stays_open(&c->m)))
		client_close(c);
	snprintf(c->last, sizeof(c->last), "%s %.40s", method, path);
	free(req);
	return o;
}

/*
 * What went wrong in c->m when reading ended with c->rc before the head
 * was whole, or with the head malformed or too big: ERROR or BAD, with
 * why; GOOD when the head is in and fine so far.
 */
static enum outcome head_check(const struct client *c, char *why,
			       size_t size)
{
	const struct kw_http_msg *m = &c->m;
	char q[96];

	switch (c->rc) {
	case KW_READ_MALFORMED:
		kw_http_malformed_why(m->buf, m->len, &m->r, why, size);
		return BAD;
	case KW_READ_HEAD_TOO_BIG:
		snprintf(why, size, "the response head does not end within %d bytes ('%s')",
			 HEAD_MAX, kw_quote(m->buf, m->len, 60, q, sizeof(q)));
		return BAD;
	default:
		break;
	}
	if (m->head_done)
		return GOOD;
	if (m->len == 0 && c->rc == KW_READ_TIMEOUT)
		snprintf(why, size, "no response within %d s", cfg.timeout);
	else if (m->len == 0)
		snprintf(why, size, "no response: %s",
			 kw_read_str(c->rc, m->err));
	else
		snprintf(why, size, "the response head is incomplete after %zu bytes ('%s'): %s%s",
			 m->len, kw_quote(m->buf, m->len, 60, q, sizeof(q)),
			 kw_read_str(c->rc, m->err),
			 c->rc == KW_READ_TIMEOUT ? " waiting for the rest" : "");
	return ERROR;
}

/* The status must be @want. */
static enum outcome status_check(const struct kw_http_resp *r, int want,
				 char *why, size_t size)
{
	char q[96];

	if (r->status == want)
		return GOOD;
	snprintf(why, size, "status %d, expected %d (status line '%s')",
		 r->status, want,
		 kw_quote(r->status_line, r->status_line_len, 60, q, sizeof(q)));
	return BAD;
}

/* Content-Type: text/plain (parameters such as charset may follow). */
static enum outcome type_check(const struct kw_http_resp *r, char *why,
			       size_t size)
{
	const char *v = r->content_type;
	size_t n = r->content_type_len, t = 0, rest;
	char q[96];

	if (!v) {
		snprintf(why, size, "no Content-Type header; expected 'Content-Type: text/plain'");
		return BAD;
	}
	while (t < n && v[t] != ';' && v[t] != ' ' && v[t] != '\t')
		t++;
	for (rest = t; rest < n && (v[rest] == ' ' || v[rest] == '\t'); rest++)
		;
	if (t != 10 || strncasecmp(v, "text/plain", 10) ||
	    (rest < n && v[rest] != ';') ||
	    kw_http_field_count(r, "Content-Type") > 1) {
		snprintf(why, size, "Content-Type is '%s'%s; expected text/plain",
			 kw_quote(v, n, 60, q, sizeof(q)),
			 kw_http_field_count(r, "Content-Type") > 1 ?
			 " (and more than one Content-Type header)" : "");
		return BAD;
	}
	return GOOD;
}

/* Server-Timing: fib;dur=MS; the dur in *@us. */
static enum outcome timing_check(const struct kw_http_resp *r, uint64_t *us,
				 char *why, size_t size)
{
	const struct kw_http_field *f = NULL, *first = NULL;
	const char *first_why = NULL;
	char q[96];

	while ((f = kw_http_field_next(r, "Server-Timing", f))) {
		const char *w = kw_server_timing_dur(f->value, f->value_len,
						     "fib", us);

		if (!w)
			return GOOD;
		/* what is wrong with a fib metric beats a header without one */
		if (!first || (!strcmp(first_why, "no such metric") &&
			       strcmp(w, "no such metric"))) {
			first = f;
			first_why = w;
		}
	}
	if (!first) {
		snprintf(why, size, "no Server-Timing header; expected 'Server-Timing: fib;dur=MILLISECONDS' (such as fib;dur=12.345)");
		return BAD;
	}
	snprintf(why, size, "Server-Timing is '%s': %s",
		 kw_quote(first->value, first->value_len, 60, q, sizeof(q)),
		 strcmp(first_why, "no such metric") ? first_why :
		 "it has no 'fib' metric (expected fib;dur=MILLISECONDS)");
	return BAD;
}

/*
 * Check the response in c->m to GET /fib/@n, whose body must be @want
 * (@wlen bytes): status 200, one Content-Length, the body, nothing after
 * it, Content-Type text/plain, Server-Timing fib;dur= (in *@dur_us).
 */
static enum outcome fib_check(const struct client *c, unsigned long n,
			      const char *want, size_t wlen, uint64_t *dur_us,
			      char *why, size_t size)
{
	const struct kw_http_msg *m = &c->m;
	const struct kw_http_resp *r = &m->r;
	const char *body;
	size_t blen, ncl;
	char q[96];
	enum outcome o = head_check(c, why, size);

	if (o != GOOD)
		return o;
	why[0] = '\0';
	o = status_check(r, 200, why, size);
	if (o != GOOD)
		return o;
	ncl = kw_http_field_count(r, "Content-Length");
	if (ncl > 1) {
		snprintf(why, size, "%zu Content-Length headers; expected one",
			 ncl);
		return BAD;
	}
	if (c->rc == KW_READ_NO_LENGTH) {
		snprintf(why, size, "no Content-Length header: on a keep-alive connection the client cannot tell where the body ends");
		return BAD;
	}
	if (c->rc == KW_READ_BODY_TOO_BIG) {
		snprintf(why, size, "Content-Length is %ld; expected %zu (F(%lu) has %zu digits)",
			 r->content_length, wlen, n, wlen);
		return BAD;
	}
	body = m->buf + r->body_off;
	blen = m->len - r->body_off;
	if (c->rc != KW_READ_DONE) {
		snprintf(why, size, "Content-Length is %ld but only %zu body byte%s came: %s",
			 r->content_length, blen, blen == 1 ? "" : "s",
			 kw_read_str(c->rc, m->err));
		if (c->rc == KW_READ_TIMEOUT)
			add(why, size, " after %d s", cfg.timeout);
		if ((size_t)r->content_length != wlen)
			add(why, size, " (F(%lu) has %zu digits)", n, wlen);
		add(why, size, "; ");
		if (!add_diff(why, size, want, wlen, body, blen, false))
			add(why, size, "the body so far is right");
		return ERROR;
	}
	blen = m->total - r->body_off;
	if (add_diff(why, size, want, wlen, body, blen, true)) {
		add(why, size, " (Content-Length %ld)", r->content_length);
		return BAD;
	}
	if (m->len > m->total) {
		snprintf(why, size, "%zu more bytes came after the %zu-byte body (Content-Length %ld): '%s'",
			 m->len - m->total, blen, r->content_length,
			 kw_quote(m->buf + m->total, m->len - m->total, 60, q,
				  sizeof(q)));
		return BAD;
	}
	o = type_check(r, why, size);
	if (o != GOOD)
		return o;
	return timing_check(r, dur_us, why, size);
}

/* ---- verify ------------------------------------------------------------ */

/* Where the N to check come from: operands, then -r, then -R. */
struct n_source {
	int argc, next;		/* operands argv[next..argc-1] */
	char **argv;
	bool range;
	unsigned long lo, hi;	/* -r: lo is the next */
	unsigned long count;	/* -R: how many are left */
	unsigned long max;
	uint64_t state;		/* splitmix64 */
};

static bool next_n(struct n_source *s, unsigned long *n)
{
	if (s->next < s->argc) {
		*n = n_arg(s->argv[s->next++]);
		return true;
	}
	if (s->range && s->lo <= s->hi) {
		*n = s->lo;
		if (s->lo++ == s->hi)
			s->range = false;
		return true;
	}
	if (s->count) {
		s->count--;
		*n = (unsigned long)kw_random_upto(&s->state, s->max);
		return true;
	}
	return false;
}

/* -r LO-HI */
static void range_arg(struct n_source *s, const char *arg)
{
	const char *dash = strchr(arg, '-');
	char lo[32];

	if (!dash || (size_t)(dash - arg) >= sizeof(lo))
		kw_die("invalid -r '%s': expected LO-HI, such as 0-100", arg);
	memcpy(lo, arg, (size_t)(dash - arg));
	lo[dash - arg] = '\0';
	if (kw_parse_ulong(lo, 0, MAX_N, &s->lo) < 0 ||
	    kw_parse_ulong(dash + 1, 0, MAX_N, &s->hi) < 0 || s->lo > s->hi)
		kw_die("invalid -r '%s': expected LO-HI with 0 <= LO <= HI <= %lu",
		       arg, MAX_N);
	s->range = true;
}

/* -R COUNT:MAX[:SEED] */
static void random_arg(struct n_source *s, const char *arg)
{
	char buf[80], *max, *seed;
	unsigned long v;

	if (strlen(arg) >= sizeof(buf))
		kw_die("invalid -R '%s': expected COUNT:MAX[:SEED]", arg);
	strcpy(buf, arg);
	max = strchr(buf, ':');
	if (!max)
		kw_die("invalid -R '%s': expected COUNT:MAX[:SEED]", arg);
	*max++ = '\0';
	seed = strchr(max, ':');
	if (seed)
		*seed++ = '\0';
	if (kw_parse_ulong(buf, 1, MAX_COUNT, &s->count) < 0)
		kw_die("invalid -R '%s': COUNT must be a number from 1 to %lu",
		       arg, MAX_COUNT);
	if (kw_parse_ulong(max, 0, MAX_N, &s->max) < 0)
		kw_die("invalid -R '%s': MAX must be a number from 0 to %lu",
		       arg, MAX_N);
	_Static_assert(sizeof(v) == sizeof(uint64_t), "a 64-bit SEED");
	if (!seed) {
		s->state = (uint64_t)kw_now_ns() ^ (uint64_t)getpid() << 32;
	} else if (kw_parse_ulong(seed, 0, ULONG_MAX, &v) < 0) {
		kw_die("invalid -R '%s': SEED must be a number from 0 to 18446744073709551615",
		       arg);
	} else {
		s->state = v;
	}
}

static int cmd_verify(int argc, char **argv)
{
	struct n_source src = { 0 };
	unsigned long maxfail = 10, checked = 0, good = 0, bad = 0, errors = 0;
	bool keep = false, have_r = false, have_rand = false, no_conn = false;
	char why[1024];
	struct client c;
	unsigned long n;
	int64_t start;
	int opt;

	while ((opt = kw_next_opt(argc, argv, ":h:H:p:t:kf:r:R:")) != -1) {
		if (common_opt(opt, optarg))
			continue;
		switch (opt) {
		case 'k':
			keep = true;
			break;
		case 'f':
			maxfail = kw_num_arg(opt, optarg, 0, ULONG_MAX);
			break;
		case 'r':
			if (have_r)
				kw_die("-r may be given only once");
			range_arg(&src, optarg);
			have_r = true;
			break;
		case 'R':
			if (have_rand)
				kw_die("-R may be given only once");
			random_arg(&src, optarg);
			have_rand = true;
			break;
		}
	}
	n_operands(argc, argv, have_r || have_rand);
	src.argc = argc;
	src.argv = argv;
	src.next = optind;
	if (have_rand)
		printf("kwfib verify random count=%lu max=%lu seed=%llu\n",
		       src.count, src.max, (unsigned long long)src.state);

	client_init(&c, keep);
	start = kw_now_ns();
	while (next_n(&src, &n)) {
		char path[32];
		size_t wlen;
		char *want = fib_str(n, &wlen);
		uint64_t dur;
		enum outcome o;

		snprintf(path, sizeof(path), "/fib/%lu", n);
		o = GOOD;
		if (keep && c.fd >= 0)
			o = client_reuse(&c, why, sizeof(why));
		if (o == GOOD)
			o = request(&c, "GET", path, wlen + 1, true, why,
				    sizeof(why));
		if (o == GOOD)
			o = fib_check(&c, n, want, wlen, &dur, why,
				      sizeof(why));
		free(want);
		if (!keep)
			client_close(&c);
		if (o == NO_CONN) {
			kw_note("N=%lu: %s", n, why);
			no_conn = true;
			break;
		}
		checked++;
		if (o == GOOD) {
			good++;
			continue;
		}
		kw_note("N=%lu: %s", n, why);
		if (o == BAD)
			bad++;
		else
			errors++;
		/* after a wrong answer, where the next starts is unknown */
		client_close(&c);
		if (maxfail && bad + errors >= maxfail && (src.next < src.argc ||
				src.range || src.count)) {
			kw_note("stopping after %lu failed N (-f %lu)",
				bad + errors, maxfail);
			break;
		}
	}
	client_close(&c);
	if (c.closes)
		printf("kwfib verify: the server ended %lu keep-alive connections (%lu connections in all)\n",
		       c.closes, c.conns);
	printf("kwfib verify checked=%lu ok=%lu bad=%lu errors=%lu bytes=%llu seconds=%.3f\n",
	       checked, good, bad, errors, (unsigned long long)c.bytes,
	       (double)(kw_now_ns() - start) / 1e9);
	free(c.m.buf);
	if (no_conn)
		return KW_EXIT_USAGE;
	return bad || errors ? KW_EXIT_CHECK : 0;
}

/* ---- expect ------------------------------------------------------------ */

/* A request method: an HTTP token. */
static void method_arg(const char *arg)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";
	const char *p;

	for (p = arg; *p; p++) {
		unsigned char ch = (unsigned char)*p;

		if (!(ch >= 'a' && ch <= 'z') && !(ch >= 'A' && ch <= 'Z') &&
		    !(ch >= '0' && ch <= '9') && !strchr(extra, ch))
			break;
	}
	if (!*arg || *p)
		kw_die("invalid -m '%s': expected a method such as GET or HEAD",
		       arg);
}

/*
 * After the head of a response to HEAD: nothing more may come. Wait a
 * little for a stray body, or for the close. Fails if bytes come.
 */
static void no_more(struct client *c, const char *path)
{
	struct kw_http_msg *m = &c->m;
	int64_t until = kw_now_ms() + HEAD_GRACE_MS;
	char buf[WINDOW], q[4 * WINDOW + 24];
	size_t extra = m->len - m->total;
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };

	if (extra) {
		kw_fail("HEAD %.40s: the response has a body: %zu bytes came after its head (%s); a response to HEAD must have none",
			path, extra,
			quoted(m->buf + m->total, extra, q, sizeof(q)));
	}
	if (c->fd < 0)
		return;
	while (kw_ms_left(until) > 0) {
		ssize_t n;

		if (poll(&pfd, 1, kw_ms_left(until)) <= 0)
			continue;
		n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && !kw_again(errno)))
			return;
		if (n > 0)
			kw_fail("HEAD %.40s: the response has a body: bytes came after its head (%s); a response to HEAD must have none",
				path, quoted(buf, (size_t)n, q, sizeof(q)));
	}
}

/* The length of the first line of the @len bytes at @s, without CR LF. */
static size_t first_line(const char *s, size_t len)
{
	const char *nl = memchr(s, '\n', len);
	size_t n = nl ? (size_t)(nl - s) : len;

	return n > 0 && s[n - 1] == '\r' ? n - 1 : n;
}

static int cmd_expect(int argc, char **argv)
{
	const char *method = "GET", *path;
	unsigned long status, n = 0;
	char why[1024], q[256];
	struct kw_http_resp *r;
	struct client c;
	bool fib, head;
	char *want = NULL;
	size_t wlen = 0, blen;
	const char *body;
	int opt;

	while ((opt = kw_next_opt(argc, argv, ":h:H:p:t:m:")) != -1) {
		if (common_opt(opt, optarg))
			continue;
		if (opt == 'm') {
			method_arg(optarg);
			method = optarg;
		}
	}
	if (argc - optind != 2)
		kw_die("expected STATUS PATH (see 'kwfib help')");
	if (kw_parse_ulong(argv[optind], 100, 999, &status) < 0)
		kw_die("invalid STATUS '%s': expected a number from 100 to 999",
		       argv[optind]);
	path = argv[optind + 1];
	if (!*path)
		kw_die("PATH must not be empty");
	head = !strcmp(method, "HEAD");
	fib = fib_path(path, &n) && status == 200;
	if (fib)
		want = fib_str(n, &wlen);

	/* the server may close at once after an error: ask it to close */
	client_init(&c, false);
	if (request(&c, method, path, fib ? wlen + 1 : EXPECT_BODY_MAX, false,
		    why, sizeof(why)) == NO_CONN)
		kw_die("%s", why);
	if (head_check(&c, why, sizeof(why)) != GOOD)
		kw_fail("%s %s: %s", method, path, why);
	r = &c.m.r;
	body = c.m.buf + r->body_off;
	blen = c.m.len - r->body_off;
	if (status_check(r, (int)status, why, sizeof(why)) != GOOD)
		kw_fail("%s %.40s: %s; body '%s'", method, path, why,
			kw_quote(body, first_line(body, blen), 120, q,
				 sizeof(q)));
	if (kw_http_field_count(r, "Content-Length") > 1)
		kw_fail("%s %.40s: %zu Content-Length headers; expected one",
			method, path, kw_http_field_count(r, "Content-Length"));
	if (head) {
		if (fib && r->content_length != (long)wlen)
			kw_fail("HEAD %s: Content-Length is %s, expected %zu (F(%lu) has %zu digits)",
				path, r->content_length < 0 ? "missing" :
				kw_quote(r->content_length_str,
					 r->content_length_str_len, 60, q,
					 sizeof(q)), wlen, n, wlen);
		no_more(&c, path);
		blen = 0;
	} else if (c.rc == KW_READ_BODY_TOO_BIG && r->content_length < 0) {
		kw_fail("%s %.40s: the body (no Content-Length) goes on past %lu bytes",
			method, path, fib ? wlen + 1 : EXPECT_BODY_MAX);
	} else if (c.rc == KW_READ_BODY_TOO_BIG && fib) {
		kw_fail("%s %s: Content-Length is %ld; expected %zu (F(%lu) has %zu digits)",
			method, path, r->content_length, wlen, n, wlen);
	} else if (c.rc == KW_READ_BODY_TOO_BIG) {
		kw_fail("%s %.40s: Content-Length is %ld, more than the %lu bytes kwfib takes",
			method, path, r->content_length, EXPECT_BODY_MAX);
	} else if (c.rc != KW_READ_DONE && r->content_length < 0) {
		kw_fail("%s %.40s: no Content-Length, and the server did not close the connection (%s after %zu body bytes)",
			method, path, kw_read_str(c.rc, c.m.err), blen);
	} else if (c.rc != KW_READ_DONE) {
		kw_fail("%s %.40s: Content-Length is %ld but only %zu body bytes came: %s",
			method, path, r->content_length, blen,
			kw_read_str(c.rc, c.m.err));
	} else {
		blen = c.m.total - r->body_off;
		why[0] = '\0';
		if (fib && add_diff(why, sizeof(why), want, wlen, body, blen,
				    true))
			kw_fail("%s %s: %s", method, path, why);
		if (c.m.len > c.m.total)
			kw_fail("%s %.40s: %zu more bytes came after the %zu-byte body: '%s'",
				method, path, c.m.len - c.m.total, blen,
				kw_quote(c.m.buf + c.m.total,
					 c.m.len - c.m.total, 60, q,
					 sizeof(q)));
	}
	printf("kwfib expect status=%d method=%s bytes=%zu first_line='%s'\n",
	       r->status, method, blen,
	       kw_quote(body, first_line(body, blen), 200, q, sizeof(q)));
	client_close(&c);
	free(c.m.buf);
	free(want);
	return 0;
}

/* ---- time, gmp, digits ------------------------------------------------- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The median of @n values (sorts them): the mean of the middle two. */
static uint64_t median(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return n % 2 ? v[n / 2] : v[n / 2 - 1] + (v[n / 2] - v[n / 2 - 1]) / 2;
}

static int cmd_time(int argc, char **argv)
{
	unsigned long repeat = 5, i;
	uint64_t *ns, *dur, med;
	bool failed = false;
	char why[1024];
	struct client c;
	int opt, a;

	while ((opt = kw_next_opt(argc, argv, ":h:H:p:t:n:")) != -1) {
		if (common_opt(opt, optarg))
			continue;
		if (opt == 'n')
			repeat = kw_num_arg(opt, optarg, 1, MAX_REPEAT);
	}
	n_operands(argc, argv, false);
	ns = kw_xcalloc(repeat, sizeof(*ns));
	dur = kw_xcalloc(repeat, sizeof(*dur));
	client_init(&c, true);
	for (a = optind; a < argc; a++) {
		unsigned long n = n_arg(argv[a]);
		char path[32];
		size_t wlen;
		char *want = fib_str(n, &wlen);
		enum outcome o = GOOD;

		snprintf(path, sizeof(path), "/fib/%lu", n);
		for (i = 0; i < repeat && o == GOOD; i++) {
			if (c.fd >= 0)
				o = client_reuse(&c, why, sizeof(why));
			if (o == GOOD)
				o = request(&c, "GET", path, wlen + 1, true,
					    why, sizeof(why));
			if (o == NO_CONN)
				kw_die("%s", why);
			if (o == GOOD)
				o = fib_check(&c, n, want, wlen, &dur[i], why,
					      sizeof(why));
			ns[i] = (uint64_t)(c.t1 - c.t0);
		}
		free(want);
		if (o != GOOD) {
			kw_note("N=%lu, request %lu of %lu: %s", n, i, repeat,
				why);
			client_close(&c);
			failed = true;
			continue;
		}
		med = median(ns, repeat);	/* sorted: ns[0] is the best */
		printf("kwfib time n=%lu digits=%zu best_us=%llu median_us=%llu server_us=%llu\n",
		       n, wlen, (unsigned long long)((ns[0] + 500) / 1000),
		       (unsigned long long)((med + 500) / 1000),
		       (unsigned long long)median(dur, repeat));
		fflush(stdout);
	}
	client_close(&c);
	free(c.m.buf);
	free(ns);
	free(dur);
	return failed ? KW_EXIT_CHECK : 0;
}

static int cmd_gmp(int argc, char **argv)
{
	unsigned long repeat = 3, i;
	int opt, a;

	while ((opt = kw_next_opt(argc, argv, ":n:")) != -1) {
		if (opt == 'n')
			repeat = kw_num_arg(opt, optarg, 1, MAX_REPEAT);
	}
	n_operands(argc, argv, false);
	for (a = optind; a < argc; a++) {
		unsigned long n = n_arg(argv[a]);
		int64_t best_fib = INT64_MAX, best_str = INT64_MAX;
		int64_t best_total = INT64_MAX;
		size_t digits = 0;
		char *s = NULL;
		mpz_t f;

		mpz_init(f);
		for (i = 0; i < repeat; i++) {
			int64_t t0, t1, t2;

			t0 = kw_now_ns();
			mpz_fib_ui(f, n);
			t1 = kw_now_ns();
			if (!s)
				s = kw_xcalloc(mpz_sizeinbase(f, 10) + 2, 1);
			mpz_get_str(s, 10, f);
			t2 = kw_now_ns();
			if (t1 - t0 < best_fib)
				best_fib = t1 - t0;
			if (t2 - t1 < best_str)
				best_str = t2 - t1;
			if (t2 - t0 < best_total)
				best_total = t2 - t0;
		}
		digits = strlen(s);
		printf("kwfib gmp n=%lu digits=%zu fib_us=%.3f str_us=%.3f total_us=%.3f\n",
		       n, digits, (double)best_fib / 1e3, (double)best_str / 1e3,
		       (double)best_total / 1e3);
		fflush(stdout);
		mpz_clear(f);
		free(s);
	}
	return 0;
}

static int cmd_digits(int argc, char **argv)
{
	size_t len;
	char *s;
	int opt;

	while ((opt = kw_next_opt(argc, argv, ":")) != -1)
		;
	if (argc - optind != 1)
		kw_die("expected one N (see 'kwfib help')");
	s = fib_str(n_arg(argv[optind]), &len);
	printf("%zu\n", len);
	free(s);
	return 0;
}

/* ---- main -------------------------------------------------------------- */

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} commands[] = {
	{ "verify", cmd_verify },
	{ "expect", cmd_expect },
	{ "time", cmd_time },
	{ "gmp", cmd_gmp },
	{ "digits", cmd_digits },
};

int main(int argc, char **argv)
{
	size_t i;

	/* a write to a closed connection must fail, not kill us */
	signal(SIGPIPE, SIG_IGN);
	kw_set_prog("kwfib", "", "kwfib help");

	if (argc < 2)
		kw_die("no subcommand given (see 'kwfib help')");
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "--help")) {
		fputs(usage_text, stdout);
		return 0;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(argv[1], commands[i].name)) {
			kw_set_prog("kwfib", commands[i].name, "kwfib help");
			return commands[i].run(argc - 1, argv + 1);
		}
	}
	kw_die("unknown subcommand '%s' (see 'kwfib help')", argv[1]);
}
