/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kwlib.h - helpers of the kit's test programs (kwnet, the test client;
 * kwload, the load generator; kwfib, the Fibonacci checker).
 *
 * Pure helpers, which touch no socket and no file: byte patterns,
 * /proc/net/tcp lines, HTTP response heads and their framing, Server-Timing
 * values, latency histograms, strict number parsing, quoting for messages,
 * a seeded random generator.
 *
 * And what every program does the same way: its messages and exit codes,
 * option parsing, allocation that cannot fail, and sockets that never
 * block past a deadline (connect, send, read one HTTP response).
 *
 * Every function is unit tested (tests/unit/test_kwlib.c).
 */
#ifndef KWLIB_H
#define KWLIB_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* ---- byte patterns ---------------------------------------------------- */

/* What kw_pattern_check() returns when every byte matches. */
#define KW_PATTERN_OK ((size_t)-1)

/*
 * The byte at stream offset @offset of the stream of client @seed. The
 * stream does not repeat within 16 GiB and differs from seed to seed, so a
 * lost, repeated, reordered or foreign byte shows up as a mismatch.
 */
unsigned char kw_pattern_byte(uint32_t seed, size_t offset);

/* Fill @buf with the @len bytes of stream @seed starting at @offset. */
void kw_pattern_fill(unsigned char *buf, size_t len, uint32_t seed,
		     size_t offset);

/*
 * Check @buf against the @len bytes of stream @seed starting at @offset.
 * Returns the index in @buf of the first byte that differs, or
 * KW_PATTERN_OK when all match.
 */
size_t kw_pattern_check(const unsigned char *buf, size_t len, uint32_t seed,
			size_t offset);

/* ---- /proc/net/tcp ---------------------------------------------------- */

/* TCP states as /proc/net/tcp numbers them (include/net/tcp_states.h). */
enum {
	KW_TCP_ESTABLISHED = 0x01,
	KW_TCP_SYN_SENT = 0x02,
	KW_TCP_SYN_RECV = 0x03,
	KW_TCP_FIN_WAIT1 = 0x04,
	KW_TCP_FIN_WAIT2 = 0x05,
	KW_TCP_TIME_WAIT = 0x06,
	KW_TCP_CLOSE = 0x07,
	KW_TCP_CLOSE_WAIT = 0x08,
	KW_TCP_LAST_ACK = 0x09,
	KW_TCP_LISTEN = 0x0A,
	KW_TCP_CLOSING = 0x0B,
	KW_TCP_NEW_SYN_RECV = 0x0C,
	KW_TCP_BOUND_INACTIVE = 0x0D,
	KW_TCP_MAX_STATES
};

struct kw_tcp_entry {
	uint32_t local_addr;	/* IPv4 address, host byte order */
	int local_port;
	uint32_t remote_addr;	/* IPv4 address, host byte order */
	int remote_port;
	int state;		/* KW_TCP_* */
};

/*
 * Parse one line of /proc/net/tcp ("   0: 0100007F:270F 00000000:0000 0A
 * ..."). Returns 0 and fills @e, or -1 for the header line or a line that
 * is not an IPv4 socket entry.
 */
int kw_tcp_parse_line(const char *line, struct kw_tcp_entry *e);

/* "LISTEN", "ESTABLISHED", ...; "UNKNOWN" for a number with no name. */
const char *kw_tcp_state_name(int st);

/* The state called @name (any case), or -1 if there is none. */
int kw_tcp_state_parse(const char *name);

/* ---- HTTP responses --------------------------------------------------- */

#define KW_HTTP_MAX_HEADERS 64

struct kw_http_field {
	const char *name;
	size_t name_len;
	const char *value;	/* leading and trailing blanks trimmed */
	size_t value_len;
};

/*
 * A parsed response head. All pointers point into the buffer given to
 * kw_http_parse(), which need not be NUL-terminated.
 */
struct kw_http_resp {
	int minor;		/* x of HTTP/1.x */
	int status;
	const char *status_line;	/* without its line end */
	size_t status_line_len;
	const char *reason;
	size_t reason_len;
	size_t nheaders;
	struct kw_http_field headers[KW_HTTP_MAX_HEADERS];
	const char *content_length_str;	/* NULL if absent */
	size_t content_length_str_len;
	long content_length;	/* -1 if absent */
	const char *content_type;	/* NULL if absent */
	size_t content_type_len;
	const char *connection;	/* NULL if absent */
	size_t connection_len;
	int bare_lf;		/* some line ends in LF without CR */
	int bare_lf_line;	/* the first such line, 1 = status line */
	size_t body_off;	/* where the body starts in the buffer */
	const char *error;	/* why the head is malformed, or NULL */
	int error_line;		/* the line it is about, 1 = status line */
};

/*
 * Parse the status line and header lines of the response in @buf. Returns
 * 0 when the head is complete (r->body_off is set), 1 when the empty line
 * that ends it has not arrived yet, -1 when it is malformed (r->error says
 * why, r->error_line where). Lines may end in CRLF or in a bare LF
 * (flagged in r->bare_lf).
 */
int kw_http_parse(const char *buf, size_t len, struct kw_http_resp *r);

/*
 * The value of the first header called @name (any case) and its length
 * in *@vlen (if @vlen is not NULL), or NULL if there is no such header.
 */
const char *kw_http_header(const struct kw_http_resp *r, const char *name,
			   size_t *vlen);

/*
 * What kw_http_frame() returns for a response that ends when the server
 * closes the connection (no Content-Length).
 */
#define KW_HTTP_UNTIL_CLOSE 2

/*
 * Frame the response at the start of @buf, the answer to a HEAD request
 * if @head: returns 0 when it is complete, with *@total its length (the
 * head and Content-Length body bytes; no body after HEAD, 1xx, 204 or
 * 304), so that a next pipelined response starts at @buf + *@total; 1
 * when more must arrive; KW_HTTP_UNTIL_CLOSE when the head is complete
 * but has no Content-Length (the body runs to the connection's end); -1
 * when the head is malformed (r->error). @r is filled as by
 * kw_http_parse().
 */
int kw_http_frame(const char *buf, size_t len, int head,
		  struct kw_http_resp *r, size_t *total);

/*
 * The header after @prev (NULL: the first) called @name (any case), or
 * NULL when there is no more: for headers that may come more than once.
 */
const struct kw_http_field *kw_http_field_next(const struct kw_http_resp *r,
					       const char *name,
					       const struct kw_http_field *prev);

/* How many headers are called @name (any case). */
size_t kw_http_field_count(const struct kw_http_resp *r, const char *name);

/*
 * Why the head in @buf (@len bytes), which kw_http_parse() refused into
 * @r, is malformed, for a message: "malformed response: WHY (line N:
 * 'QUOTED LINE')". Returns @why.
 */
char *kw_http_malformed_why(const char *buf, size_t len,
			    const struct kw_http_resp *r, char *why,
			    size_t size);

/*
 * The "dur" of the metric @metric in a Server-Timing value (W3C Server
 * Timing: a list of "metric;param=value", values tokens or quoted strings,
 * such as "db;dur=53, fib;dur=12.345;desc=\"x\""): the first metric of
 * that name (case counts), its first dur (any case): milliseconds, digits
 * with at most 3 decimals, stored in *@us as microseconds. Returns NULL,
 * or why not: the value is malformed, has no such metric ("no such
 * metric"), the metric has no dur, or the dur is not such a number.
 */
const char *kw_server_timing_dur(const char *v, size_t len,
				 const char *metric, uint64_t *us);

/* ---- latency histograms ----------------------------------------------- */

/*
 * A log-linear histogram of non-negative values (microseconds, for
 * kwload): values below 2^KW_HIST_SUB_BITS have a bucket each; above,
 * each power of two is cut into 2^KW_HIST_SUB_BITS buckets, so a value is
 * known to within 1/64 (1.6 %) of itself, in constant memory, however many
 * values are added. Values of 2^32 and more (71 minutes) share one last
 * bucket.
 */
#define KW_HIST_SUB_BITS 6
#define KW_HIST_SUB (1U << KW_HIST_SUB_BITS)
#define KW_HIST_BUCKETS (KW_HIST_SUB * (32 - KW_HIST_SUB_BITS + 1) + 1)

struct kw_hist {
	uint64_t count[KW_HIST_BUCKETS];
	uint64_t total;		/* values added */
	uint64_t min, max;	/* exact; 0 when empty */
};

/* Zero @h. */
void kw_hist_init(struct kw_hist *h);

/* Add one value. */
void kw_hist_add(struct kw_hist *h, uint64_t v);

/* Add every value of @src to @dst. */
void kw_hist_merge(struct kw_hist *dst, const struct kw_hist *src);

/* The bucket of @v, and the smallest and largest value of bucket @b. */
unsigned int kw_hist_bucket(uint64_t v);
uint64_t kw_hist_bucket_low(unsigned int b);
uint64_t kw_hist_bucket_high(unsigned int b);

/*
 * The @pct-th percentile (1..100), nearest rank: the value at rank
 * ceil(@pct / 100 * total) in sorted order, given as the middle of its
 * bucket, kept within the exact min and max. Exact below 64; 0 when @h is
 * empty.
 */
uint64_t kw_hist_percentile(const struct kw_hist *h, unsigned int pct);

/* ---- numbers and addresses -------------------------------------------- */

/* Longest dotted quad plus its NUL: "255.255.255.255". */
#define KW_IPV4_STRLEN 16

/*
 * Strict dotted quad: four decimal numbers 0..255 without leading zeros
 * (so "01.2.3.4", ambiguous with octal, is refused), nothing before or
 * after. Stores the address in host byte order. Returns 0 or -1.
 */
int kw_parse_ipv4(const char *s, uint32_t *out);

/* Format @addr (host byte order) as a dotted quad into @buf; returns @buf. */
char *kw_ipv4_str(uint32_t addr, char buf[KW_IPV4_STRLEN]);

/*
 * Decimal number, digits only (no sign, no blanks), within min..max.
 * Returns 0 or -1.
 */
int kw_parse_ulong(const char *s, unsigned long min, unsigned long max,
		   unsigned long *out);

/* TCP port 1..65535 (decimal digits only). Returns 0 or -1. */
int kw_parse_port(const char *s, int *out);

/* ---- quoting, random numbers ------------------------------------------ */

/*
 * The @len bytes at @s quoted for a one-line message into @buf (@size
 * bytes, at least 16): printable ASCII as is, \r \n \t \\ \' as C
 * escapes, any other byte as \xNN; cut short with "..." once about @max
 * characters are written (or @buf is full). Returns @buf.
 */
const char *kw_quote(const char *s, size_t len, size_t max, char *buf,
		     size_t size);

/*
 * splitmix64: the next number of the sequence in *@state (any seed is
 * good, 0 too). Fixed, so a seed names the same numbers everywhere:
 * state += 0x9e3779b97f4a7c15; z = state; z = (z ^ z >> 30) *
 * 0xbf58476d1ce4e5b9; z = (z ^ z >> 27) * 0x94d049bb133111eb; z ^ z >> 31.
 */
uint64_t kw_splitmix64(uint64_t *state);

/*
 * A number from 0 to @max, each as likely, from kw_splitmix64(): draws
 * below 2^64 mod (@max + 1) are thrown away, the others taken modulo @max
 * + 1 (@max = 2^64 - 1: the draw itself).
 */
uint64_t kw_random_upto(uint64_t *state, uint64_t max);

/* ---- messages, options, memory ---------------------------------------- */

#define KW_EXIT_CHECK	1	/* a check failed */
#define KW_EXIT_USAGE	2	/* bad usage, or the program could not run */

/*
 * Who the messages come from: "PROG: ..." or, with a subcommand @sub that
 * is not empty, "PROG SUB: ..."; usage errors point to @help ("kwnet
 * help", "kwload -h"). The strings must last. Before any call: "kw", "",
 * "kw -h".
 */
void kw_set_prog(const char *prog, const char *sub, const char *help);

/*
 * One line on stderr, "PROG[ SUB]: MESSAGE\n", after flushing stdout (so
 * that what went there comes first when both share a pipe).
 */
void kw_vreport(const char *fmt, va_list ap);

/* A remark that does not change the outcome. */
__attribute__((format(printf, 1, 2)))
void kw_note(const char *fmt, ...);

/* A check failed: say what was expected and what happened, exit 1. */
__attribute__((format(printf, 1, 2)))
_Noreturn void kw_fail(const char *fmt, ...);

/* Bad usage, or the program itself cannot go on: exit 2. */
__attribute__((format(printf, 1, 2)))
_Noreturn void kw_die(const char *fmt, ...);

/* calloc(), realloc() and vasprintf() that die when memory is out. */
void *kw_xcalloc(size_t n, size_t size);
void *kw_xrealloc(void *p, size_t size);
__attribute__((format(printf, 1, 2)))
char *kw_xasprintf(const char *fmt, ...);

/*
 * getopt() for @optstring, which starts with ':': dies on an unknown
 * option ("unknown option -x (see 'HELP')") or a missing value ("option
 * -x needs a value").
 */
int kw_next_opt(int argc, char **argv, const char *optstring);

/*
 * The value @arg of option -@opt: a decimal number from @min to @max, or
 * die ("invalid -x 'ARG': expected a number from MIN to MAX").
 */
unsigned long kw_num_arg(int opt, const char *arg, unsigned long min,
			 unsigned long max);

/* The value of option -@opt: an IPv4 address (host byte order), or die. */
uint32_t kw_host_arg(int opt, const char *arg);

/* The value of option -@opt: a TCP port, or die. */
int kw_port_arg(int opt, const char *arg);

/* ---- time and sockets ------------------------------------------------- */

/* CLOCK_MONOTONIC in nanoseconds, microseconds, milliseconds. */
int64_t kw_now_ns(void);
int64_t kw_now_us(void);
int64_t kw_now_ms(void);

/* Milliseconds from now to @deadline (kw_now_ms()), 0 once it passed. */
int kw_ms_left(int64_t deadline);

/* Is @err one that means "try again" (EAGAIN, EWOULDBLOCK, EINTR)? */
int kw_again(int err);

/* Let small writes on @fd leave at once (TCP_NODELAY). */
void kw_set_nodelay(int fd);

/*
 * Connect @n non-blocking sockets to @host (host byte order) and @port
 * all at once, by @deadline (kw_now_ms()). Returns 0 with all of them
 * connected in @fds, or the error of the first that failed (ETIMEDOUT
 * when time ran out) with its index in *@bad and every socket closed.
 * Dies if a socket cannot be created.
 */
int kw_connect_all(uint32_t host, int port, int64_t deadline, int *fds, int n,
		   int *bad);

/*
 * Send @len bytes, waiting for room until @deadline. Returns 0, or the
 * error that stopped it (ETIMEDOUT when time ran out); *@sent says how far
 * it got.
 */
int kw_send_all(int fd, const void *buf, size_t len, int64_t deadline,
		size_t *sent);

/* What kw_http_read() returns. */
enum kw_read {
	KW_READ_DONE,		/* a whole response: m->total bytes */
	KW_READ_MALFORMED,	/* the head is malformed (m->r.error) */
	KW_READ_HEAD_TOO_BIG,	/* no end of the head in m->head_max bytes */
	KW_READ_BODY_TOO_BIG,	/* Content-Length, or the body, over m->body_max */
	KW_READ_NO_LENGTH,	/* no Content-Length, and m->need_length */
	KW_READ_EOF,		/* the server closed it before the end */
	KW_READ_TIMEOUT,	/* the deadline came first */
	KW_READ_ERROR,		/* receiving failed (m->err) */
};

/*
 * One HTTP response read from a socket by kw_http_read(), within limits:
 * the caller sets the first four fields, and may keep the struct (and its
 * buffer) for the next response; free(m->buf) at the end.
 */
struct kw_http_msg {
	int head;		/* it answers a HEAD request: no body */
	int need_length;	/* a body needs a Content-Length */
	size_t head_max;	/* the most bytes the head may take */
	size_t body_max;	/* the most bytes the body may take */

	char *buf;		/* what came (not NUL-terminated) */
	size_t len;		/* its length */
	size_t cap;
	int head_done;		/* the head is in: r is filled */
	struct kw_http_resp r;	/* the head, pointing into buf */
	size_t total;		/* KW_READ_DONE: the response's length */
	int err;		/* KW_READ_ERROR: recv()'s errno */
};

/*
 * Read one response from @fd into @m by @deadline (kw_now_ms()), framed
 * by kw_http_frame(): to its Content-Length, no body after HEAD, 1xx, 204
 * and 304, else to the server's close. Never reads past the framed end
 * once the head is in; bytes that came with the head after that end are
 * in m->buf past m->total (m->len - m->total of them). Never holds more
 * than head_max + body_max + 1 bytes: a Content-Length over body_max
 * stops it at once (KW_READ_BODY_TOO_BIG, with what came so far), so does
 * a head without one if need_length (KW_READ_NO_LENGTH). What came so far
 * stays in m->buf, whatever the outcome; m->r is valid if m->head_done.
 * Dies only when memory is out.
 */
enum kw_read kw_http_read(int fd, struct kw_http_msg *m, int64_t deadline);

/* "timed out", "the server closed the connection", ...: for messages. */
const char *kw_read_str(enum kw_read rc, int err);

#endif /* KWLIB_H */
