/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kwlib.h - pure helpers of the kwnet test client and the kwload load
 * generator: byte patterns, /proc/net/tcp lines, HTTP response heads and
 * their framing, latency histograms and strict number parsing.
 *
 * Nothing here touches a socket or a file, so every function can be unit
 * tested on its own (tests/unit/test_kwlib.c).
 */
#ifndef KWLIB_H
#define KWLIB_H

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

#endif /* KWLIB_H */
