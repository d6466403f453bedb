// SPDX-License-Identifier: GPL-2.0
/*
 * kwlib.c - helpers of the kit's test programs (see kwlib.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "kwlib.h"

/* ---- byte patterns ---------------------------------------------------- */

/* A 32-bit mixing function; a bijection, so distinct inputs stay distinct. */
static uint32_t mix32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352dU;
	x ^= x >> 15;
	x *= 0x846ca68bU;
	x ^= x >> 16;
	return x;
}

static uint32_t pattern_key(uint32_t seed)
{
	return mix32(seed * 0x9e3779b1U + 0x7f4a7c15U);
}

/* The 4 bytes at stream offsets 4 * word .. 4 * word + 3, lowest first. */
static uint32_t pattern_word(uint32_t key, size_t word)
{
	return mix32(key ^ mix32((uint32_t)word + 0x632be5abU));
}

unsigned char kw_pattern_byte(uint32_t seed, size_t offset)
{
	uint32_t w = pattern_word(pattern_key(seed), offset / 4);

	return (unsigned char)(w >> (8 * (offset % 4)));
}

void kw_pattern_fill(unsigned char *buf, size_t len, uint32_t seed,
		     size_t offset)
{
	uint32_t key = pattern_key(seed);
	size_t i = 0;

	while (i < len) {
		size_t off = offset + i;
		uint32_t w = pattern_word(key, off / 4);
		unsigned int b;

		for (b = off % 4; b < 4 && i < len; b++, i++)
			buf[i] = (unsigned char)(w >> (8 * b));
	}
}

size_t kw_pattern_check(const unsigned char *buf, size_t len, uint32_t seed,
			size_t offset)
{
	uint32_t key = pattern_key(seed);
	size_t i = 0;

	while (i < len) {
		size_t off = offset + i;
		uint32_t w = pattern_word(key, off / 4);
		unsigned int b;

		for (b = off % 4; b < 4 && i < len; b++, i++) {
			if (buf[i] != (unsigned char)(w >> (8 * b)))
				return i;
		}
	}
	return KW_PATTERN_OK;
}

/* ---- /proc/net/tcp ---------------------------------------------------- */

static const char *const tcp_state_names[KW_TCP_MAX_STATES] = {
	[KW_TCP_ESTABLISHED] = "ESTABLISHED",
	[KW_TCP_SYN_SENT] = "SYN_SENT",
	[KW_TCP_SYN_RECV] = "SYN_RECV",
	[KW_TCP_FIN_WAIT1] = "FIN_WAIT1",
	[KW_TCP_FIN_WAIT2] = "FIN_WAIT2",
	[KW_TCP_TIME_WAIT] = "TIME_WAIT",
	[KW_TCP_CLOSE] = "CLOSE",
	[KW_TCP_CLOSE_WAIT] = "CLOSE_WAIT",
	[KW_TCP_LAST_ACK] = "LAST_ACK",
	[KW_TCP_LISTEN] = "LISTEN",
	[KW_TCP_CLOSING] = "CLOSING",
	[KW_TCP_NEW_SYN_RECV] = "NEW_SYN_RECV",
	[KW_TCP_BOUND_INACTIVE] = "BOUND_INACTIVE",
};

const char *kw_tcp_state_name(int st)
{
	if (st < 0 || st >= KW_TCP_MAX_STATES || !tcp_state_names[st])
		return "UNKNOWN";
	return tcp_state_names[st];
}

static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Does the @alen bytes at @a equal the string @b, ignoring ASCII case? */
static int name_eq(const char *a, size_t alen, const char *b)
{
	size_t i;

	for (i = 0; i < alen; i++) {
		if (!b[i] || ascii_lower(a[i]) != ascii_lower(b[i]))
			return 0;
	}
	return b[alen] == '\0';
}

int kw_tcp_state_parse(const char *name)
{
	int st;

	for (st = 0; st < KW_TCP_MAX_STATES; st++) {
		if (tcp_state_names[st] &&
		    name_eq(name, strlen(name), tcp_state_names[st]))
			return st;
	}
	return -1;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Exactly @digits hex digits at *@pp; advances *@pp past them. */
static int parse_hex(const char **pp, int digits, uint32_t *out)
{
	uint32_t v = 0;
	int i;

	for (i = 0; i < digits; i++) {
		int d = hex_digit((*pp)[i]);

		if (d < 0)
			return -1;
		v = v << 4 | (uint32_t)d;
	}
	*pp += digits;
	*out = v;
	return 0;
}

/*
 * The kernel prints an address as the 32-bit number whose memory holds the
 * address in network byte order, so undo that in this machine's order.
 */
static uint32_t proc_addr_to_host(uint32_t v)
{
	unsigned char b[4];

	memcpy(b, &v, sizeof(b));
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	       (uint32_t)b[2] << 8 | b[3];
}

/* "AAAAAAAA:PPPP" at *@pp: an IPv4 address and a port. */
static int parse_endpoint(const char **pp, uint32_t *addr, int *port)
{
	uint32_t a, p;

	if (parse_hex(pp, 8, &a) < 0 || **pp != ':')
		return -1;
	(*pp)++;
	if (parse_hex(pp, 4, &p) < 0)
		return -1;
	*addr = proc_addr_to_host(a);
	*port = (int)p;
	return 0;
}

int kw_tcp_parse_line(const char *line, struct kw_tcp_entry *e)
{
	const char *p = line;
	struct kw_tcp_entry t;
	uint32_t st;

	/* "   0: " - the slot number; the header line has "sl" here */
	while (*p == ' ')
		p++;
	if (*p < '0' || *p > '9')
		return -1;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p++ != ':' || *p++ != ' ')
		return -1;

	if (parse_endpoint(&p, &t.local_addr, &t.local_port) < 0 ||
	    *p++ != ' ')
		return -1;
	if (parse_endpoint(&p, &t.remote_addr, &t.remote_port) < 0 ||
	    *p++ != ' ')
		return -1;
	if (parse_hex(&p, 2, &st) < 0)
		return -1;
	if (*p != ' ' && *p != '\n' && *p != '\0')
		return -1;
	t.state = (int)st;
	*e = t;
	return 0;
}

/* ---- HTTP responses --------------------------------------------------- */

static int http_error(struct kw_http_resp *r, const char *why)
{
	r->error = why;
	return -1;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* A character allowed in a header name (RFC 9110 "tchar"). */
static int is_tchar(char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * Find the line starting at @p (line number @lineno). Returns 1 if its LF
 * has not arrived yet, -1 if it holds a CR or a NUL, else 0 with *@eol at
 * its end (before CR LF or LF) and *@next where the next line starts.
 */
static int next_line(struct kw_http_resp *r, int lineno, const char *p,
		     const char *end, const char **eol, const char **next)
{
	const char *lf = memchr(p, '\n', (size_t)(end - p));
	const char *e, *q;

	if (!lf)
		return 1;
	e = lf;
	if (e > p && e[-1] == '\r') {
		e--;
	} else if (!r->bare_lf) {
		r->bare_lf = 1;
		r->bare_lf_line = lineno;
	}
	for (q = p; q < e; q++) {
		if (*q == '\r')
			return http_error(r, "CR in the middle of a line");
		if (*q == '\0')
			return http_error(r, "NUL byte in the response head");
	}
	*eol = e;
	*next = lf + 1;
	return 0;
}

/* "HTTP/1.x NNN reason" (the reason and its space may be missing). */
static int parse_status_line(struct kw_http_resp *r, const char *p,
			     const char *eol)
{
	size_t n = (size_t)(eol - p);

	r->status_line = p;
	r->status_line_len = n;
	if (n < 12 || memcmp(p, "HTTP/1.", 7) != 0 || !is_digit(p[7]) ||
	    p[8] != ' ' || !is_digit(p[9]) || !is_digit(p[10]) ||
	    !is_digit(p[11]) || (n > 12 && p[12] != ' ') || p[9] == '0')
		return http_error(r, "status line is not 'HTTP/1.x NNN reason'");
	r->minor = p[7] - '0';
	r->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	r->reason = n > 12 ? p + 13 : eol;
	r->reason_len = (size_t)(eol - r->reason);
	return 0;
}

static int parse_content_length(struct kw_http_resp *r,
				const struct kw_http_field *f)
{
	long v = 0;
	size_t i;

	if (f->value_len == 0)
		return http_error(r, "empty Content-Length");
	for (i = 0; i < f->value_len; i++) {
		int d = f->value[i] - '0';

		if (!is_digit(f->value[i]))
			return http_error(r, "Content-Length is not a number");
		if (v > (LONG_MAX - d) / 10)
			return http_error(r, "Content-Length is too large");
		v = v * 10 + d;
	}
	if (r->content_length_str && r->content_length != v)
		return http_error(r, "conflicting Content-Length headers");
	if (!r->content_length_str) {
		r->content_length_str = f->value;
		r->content_length_str_len = f->value_len;
		r->content_length = v;
	}
	return 0;
}

/* "Name: value" between @p and @eol. */
static int parse_header(struct kw_http_resp *r, const char *p,
			const char *eol)
{
	const char *colon = memchr(p, ':', (size_t)(eol - p));
	struct kw_http_field *f;
	const char *v, *ve, *q;

	if (!colon)
		return http_error(r, "header line without ':'");
	if (colon == p)
		return http_error(r, "header line with an empty name");
	for (q = p; q < colon; q++) {
		if (!is_tchar(*q))
			return http_error(r, "invalid character in a header name");
	}
	v = colon + 1;
	ve = eol;
	while (v < ve && is_blank(*v))
		v++;
	while (ve > v && is_blank(ve[-1]))
		ve--;
	for (q = v; q < ve; q++) {
		unsigned char c = (unsigned char)*q;

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return http_error(r,
					  "control character in a header value");
	}
	if (r->nheaders == KW_HTTP_MAX_HEADERS)
		return http_error(r, "too many header lines");

	f = &r->headers[r->nheaders++];
	f->name = p;
	f->name_len = (size_t)(colon - p);
	f->value = v;
	f->value_len = (size_t)(ve - v);

	if (name_eq(f->name, f->name_len, "Content-Length"))
		return parse_content_length(r, f);
	if (name_eq(f->name, f->name_len, "Content-Type") &&
	    !r->content_type) {
		r->content_type = f->value;
		r->content_type_len = f->value_len;
	}
	if (name_eq(f->name, f->name_len, "Connection") && !r->connection) {
		r->connection = f->value;
		r->connection_len = f->value_len;
	}
	return 0;
}

static int parse_head(const char *buf, size_t len, struct kw_http_resp *r,
		      int *lineno)
{
	static const char prefix[] = "HTTP/1.";
	const char *p = buf, *end = buf + len;
	const char *eol, *next;
	int rc;

	*lineno = 1;
	rc = next_line(r, *lineno, p, end, &eol, &next);
	if (rc == 1) {
		/* refuse what can never become a status line */
		size_t n = len < sizeof(prefix) - 1 ? len : sizeof(prefix) - 1;

		if (memcmp(buf, prefix, n) != 0)
			return http_error(r, "response does not start with 'HTTP/1.'");
		return 1;
	}
	if (rc < 0 || parse_status_line(r, p, eol) < 0)
		return -1;

	for (;;) {
		p = next;
		++*lineno;
		rc = next_line(r, *lineno, p, end, &eol, &next);
		if (rc)
			return rc;
		if (eol == p)
			break;
		if (is_blank(*p))
			return http_error(r, "header line starts with a blank (obsolete line folding)");
		if (parse_header(r, p, eol) < 0)
			return -1;
	}
	r->body_off = (size_t)(next - buf);
	return 0;
}

int kw_http_parse(const char *buf, size_t len, struct kw_http_resp *r)
{
	int lineno, rc;

	memset(r, 0, sizeof(*r));
	r->content_length = -1;
	rc = parse_head(buf, len, r, &lineno);
	if (rc < 0)
		r->error_line = lineno;
	return rc;
}

const char *kw_http_header(const struct kw_http_resp *r, const char *name,
			   size_t *vlen)
{
	size_t i;

	for (i = 0; i < r->nheaders; i++) {
		const struct kw_http_field *f = &r->headers[i];

		if (name_eq(f->name, f->name_len, name)) {
			if (vlen)
				*vlen = f->value_len;
			return f->value;
		}
	}
	return NULL;
}

const struct kw_http_field *kw_http_field_next(const struct kw_http_resp *r,
					       const char *name,
					       const struct kw_http_field *prev)
{
	size_t i = prev ? (size_t)(prev - r->headers) + 1 : 0;

	for (; i < r->nheaders; i++) {
		const struct kw_http_field *f = &r->headers[i];

		if (name_eq(f->name, f->name_len, name))
			return f;
	}
	return NULL;
}

size_t kw_http_field_count(const struct kw_http_resp *r, const char *name)
{
	const struct kw_http_field *f = NULL;
	size_t n = 0;

	while ((f = kw_http_field_next(r, name, f)))
		n++;
	return n;
}

char *kw_http_malformed_why(const char *buf, size_t len,
			    const struct kw_http_resp *r, char *why,
			    size_t size)
{
	const char *line = buf, *end = buf + len;
	const char *nl;
	char q[96];
	int n;

	for (n = 1; n < r->error_line; n++)
		line = (const char *)memchr(line, '\n', (size_t)(end - line)) + 1;
	nl = memchr(line, '\n', (size_t)(end - line));
	snprintf(why, size, "malformed response: %s (line %d: '%s')",
		 r->error, r->error_line,
		 kw_quote(line, nl ? (size_t)(nl + 1 - line) :
			  (size_t)(end - line), 60, q, sizeof(q)));
	return why;
}

int kw_http_frame(const char *buf, size_t len, int head,
		  struct kw_http_resp *r, size_t *total)
{
	int rc = kw_http_parse(buf, len, r);
	size_t body_len;

	if (rc != 0)
		return rc;
	if (head || r->status / 100 == 1 || r->status == 204 ||
	    r->status == 304) {
		*total = r->body_off;
		return 0;
	}
	if (r->content_length < 0)
		return KW_HTTP_UNTIL_CLOSE;
	body_len = len - r->body_off;
	if (body_len < (size_t)r->content_length)
		return 1;
	*total = r->body_off + (size_t)r->content_length;
	return 0;
}

/* ---- Server-Timing ------------------------------------------------------ */

static const char *skip_ows(const char *p, const char *e)
{
	while (p < e && is_blank(*p))
		p++;
	return p;
}

static size_t token_len(const char *p, const char *e)
{
	const char *q = p;

	while (q < e && is_tchar(*q))
		q++;
	return (size_t)(q - p);
}

/* Past the quoted string at @p (which starts with '"'), or NULL. */
static const char *skip_quoted(const char *p, const char *e)
{
	for (p++; p < e; p++) {
		if (*p == '\\') {
			if (++p == e)
				return NULL;
			continue;
		}
		if (*p == '"')
			return p + 1;
	}
	return NULL;
}

/* "12", "12.3", "12.345" milliseconds, in microseconds. */
static const char *parse_dur(const char *p, size_t len, uint64_t *us)
{
	static const char bad[] =
		"its dur is not a number of milliseconds with at most 3 decimals (such as 12.345)";
	const uint64_t limit = UINT64_MAX / 1000 - 1;
	uint64_t ms = 0, frac = 0;
	size_t i = 0, decimals = 0;

	if (len == 0 || !is_digit(p[0]))
		return bad;
	for (; i < len && is_digit(p[i]); i++) {
		uint64_t d = (uint64_t)(p[i] - '0');

		if (ms > (limit - d) / 10)
			return "its dur is too large";
		ms = ms * 10 + d;
	}
	if (i < len && p[i] == '.') {
		for (i++; i < len && is_digit(p[i]); i++) {
			if (++decimals > 3)
				return bad;
			frac = frac * 10 + (uint64_t)(p[i] - '0');
		}
		if (decimals == 0)
			return bad;
	}
	if (i < len)
		return bad;
	for (; decimals < 3; decimals++)
		frac *= 10;
	*us = ms * 1000 + frac;
	return NULL;
}

const char *kw_server_timing_dur(const char *v, size_t len,
				 const char *metric, uint64_t *us)
{
	static const char malformed[] =
		"malformed Server-Timing value (expected metric;param=value, ...)";
	const char *p = v, *e = v + len, *why = NULL;
	size_t mlen = strlen(metric);
	int found = 0, have_dur = 0;
	uint64_t dur = 0;

	for (;;) {
		const char *name;
		size_t n;
		int mine;

		p = skip_ows(p, e);
		if (p == e)
			break;
		if (*p == ',') {
			p++;
			continue;
		}
		n = token_len(p, e);
		if (!n)
			return malformed;
		name = p;
		p += n;
		mine = !found && n == mlen && !memcmp(name, metric, n);
		found |= mine;
		for (;;) {
			const char *pname, *val;
			size_t pn, vn;

			p = skip_ows(p, e);
			if (p == e || *p == ',')
				break;
			if (*p != ';')
				return malformed;
			p = skip_ows(p + 1, e);
			pn = token_len(p, e);
			if (!pn)
				return malformed;
			pname = p;
			p = skip_ows(p + pn, e);
			if (p == e || *p != '=')
				return malformed;
			p = skip_ows(p + 1, e);
			val = p;
			if (p < e && *p == '"') {
				p = skip_quoted(p, e);
				if (!p)
					return malformed;
			} else {
				vn = token_len(p, e);
				if (!vn)
					return malformed;
				p += vn;
			}
			if (mine && !have_dur && name_eq(pname, pn, "dur")) {
				have_dur = 1;
				why = parse_dur(val, (size_t)(p - val), &dur);
			}
		}
	}
	if (!found)
		return "no such metric";
	if (!have_dur)
		return "the metric has no dur";
	if (why)
		return why;
	*us = dur;
	return NULL;
}

/* ---- latency histograms ----------------------------------------------- */

void kw_hist_init(struct kw_hist *h)
{
	memset(h, 0, sizeof(*h));
}

/* The index of the highest bit set in @v, which is not 0. */
static unsigned int top_bit(uint64_t v)
{
	unsigned int b = 0;

	while (v >>= 1)
		b++;
	return b;
}

unsigned int kw_hist_bucket(uint64_t v)
{
	unsigned int k, shift;

	if (v < KW_HIST_SUB)
		return (unsigned int)v;
	if (v >> 32)
		return KW_HIST_BUCKETS - 1;
	k = top_bit(v);
	shift = k - KW_HIST_SUB_BITS;
	/* v >> shift is KW_HIST_SUB .. 2 * KW_HIST_SUB - 1 */
	return KW_HIST_SUB * (shift + 1) + (unsigned int)(v >> shift) -
	       KW_HIST_SUB;
}

uint64_t kw_hist_bucket_low(unsigned int b)
{
	unsigned int shift;

	if (b < KW_HIST_SUB)
		return b;
	shift = b / KW_HIST_SUB - 1;
	return (uint64_t)(b % KW_HIST_SUB + KW_HIST_SUB) << shift;
}

uint64_t kw_hist_bucket_high(unsigned int b)
{
	if (b >= KW_HIST_BUCKETS - 1)
		return UINT64_MAX;
	return kw_hist_bucket_low(b + 1) - 1;
}

void kw_hist_add(struct kw_hist *h, uint64_t v)
{
	h->count[kw_hist_bucket(v)]++;
	if (!h->total || v < h->min)
		h->min = v;
	if (!h->total || v > h->max)
		h->max = v;
	h->total++;
}

void kw_hist_merge(struct kw_hist *dst, const struct kw_hist *src)
{
	unsigned int b;

	if (!src->total)
		return;
	for (b = 0; b < KW_HIST_BUCKETS; b++)
		dst->count[b] += src->count[b];
	if (!dst->total || src->min < dst->min)
		dst->min = src->min;
	if (!dst->total || src->max > dst->max)
		dst->max = src->max;
	dst->total += src->total;
}

uint64_t kw_hist_percentile(const struct kw_hist *h, unsigned int pct)
{
	uint64_t rank, seen = 0, v;
	unsigned int b;

	if (!h->total)
		return 0;
	if (pct > 100)
		pct = 100;
	/* ceil(pct * total / 100), at least 1 */
	rank = (h->total / 100) * pct + ((h->total % 100) * pct + 99) / 100;
	if (rank == 0)
		rank = 1;
	for (b = 0; b < KW_HIST_BUCKETS - 1; b++) {
		seen += h->count[b];
		if (seen >= rank)
			break;
	}
	if (b == KW_HIST_BUCKETS - 1)
		v = h->max;
	else
		v = kw_hist_bucket_low(b) +
		    (kw_hist_bucket_high(b) - kw_hist_bucket_low(b)) / 2;
	if (v < h->min)
		v = h->min;
	if (v > h->max)
		v = h->max;
	return v;
}

/* ---- numbers and addresses -------------------------------------------- */

int kw_parse_ipv4(const char *s, uint32_t *out)
{
	uint32_t addr = 0;
	int i;

	for (i = 0; i < 4; i++) {
		unsigned int v = 0;
		int digits = 0;

		if (i > 0 && *s++ != '.')
			return -1;
		while (is_digit(*s)) {
			/* too long, or a leading zero */
			if (digits == 3 || (digits == 1 && v == 0))
				return -1;
			v = v * 10 + (unsigned int)(*s++ - '0');
			digits++;
		}
		if (digits == 0 || v > 255)
			return -1;
		addr = addr << 8 | v;
	}
	if (*s != '\0')
		return -1;
	*out = addr;
	return 0;
}

char *kw_ipv4_str(uint32_t addr, char buf[KW_IPV4_STRLEN])
{
	snprintf(buf, KW_IPV4_STRLEN, "%u.%u.%u.%u",
		 (unsigned int)(addr >> 24), (unsigned int)(addr >> 16 & 255),
		 (unsigned int)(addr >> 8 & 255), (unsigned int)(addr & 255));
	return buf;
}

int kw_parse_ulong(const char *s, unsigned long min, unsigned long max,
		   unsigned long *out)
{
	unsigned long v = 0;

	if (!s || *s == '\0')
		return -1;
	for (; *s; s++) {
		unsigned long d = (unsigned long)(*s - '0');

		if (!is_digit(*s) || v > (ULONG_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int kw_parse_port(const char *s, int *out)
{
	unsigned long v;

	if (kw_parse_ulong(s, 1, 65535, &v) < 0)
		return -1;
	*out = (int)v;
	return 0;
}

/* ---- quoting, random numbers ------------------------------------------ */

const char *kw_quote(const char *s, size_t len, size_t max, char *buf,
		     size_t size)
{
	size_t o = 0, i;

	for (i = 0; i < len && o + 8 < size && o < max; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\r')
			o += (size_t)snprintf(buf + o, size - o, "\\r");
		else if (c == '\n')
			o += (size_t)snprintf(buf + o, size - o, "\\n");
		else if (c == '\t')
			o += (size_t)snprintf(buf + o, size - o, "\\t");
		else if (c == '\\' || c == '\'')
			o += (size_t)snprintf(buf + o, size - o, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	buf[o] = '\0';
	if (i < len)
		snprintf(buf + o, size - o, "...");
	return buf;
}

uint64_t kw_splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t kw_random_upto(uint64_t *state, uint64_t max)
{
	uint64_t n = max + 1, skip, r;

	if (n == 0)
		return kw_splitmix64(state);
	skip = (0 - n) % n;	/* 2^64 mod n */
	do {
		r = kw_splitmix64(state);
	} while (r < skip);
	return r % n;
}

/* ---- messages, options, memory ---------------------------------------- */

static const char *msg_prog = "kw", *msg_sub = "", *msg_help = "kw -h";

void kw_set_prog(const char *prog, const char *sub, const char *help)
{
	msg_prog = prog;
	msg_sub = sub;
	msg_help = help;
}

void kw_vreport(const char *fmt, va_list ap)
{
	/* what went to stdout comes first, even when both share a pipe */
	fflush(stdout);
	fprintf(stderr, "%s%s%s: ", msg_prog, *msg_sub ? " " : "", msg_sub);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void kw_note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kw_vreport(fmt, ap);
	va_end(ap);
}

void kw_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kw_vreport(fmt, ap);
	va_end(ap);
	exit(KW_EXIT_CHECK);
}

void kw_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kw_vreport(fmt, ap);
	va_end(ap);
	exit(KW_EXIT_USAGE);
}

void *kw_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		kw_die("out of memory");
	return p;
}

void *kw_xrealloc(void *p, size_t size)
{
	p = realloc(p, size ? size : 1);
	if (!p)
		kw_die("out of memory");
	return p;
}

char *kw_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int rc;

	va_start(ap, fmt);
	rc = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (rc < 0)
		kw_die("out of memory");
	return s;
}

int kw_next_opt(int argc, char **argv, const char *optstring)
{
	int c = getopt(argc, argv, optstring);

	if (c == '?')
		kw_die("unknown option -%c (see '%s')", optopt, msg_help);
	if (c == ':')
		kw_die("option -%c needs a value", optopt);
	return c;
}

unsigned long kw_num_arg(int opt, const char *arg, unsigned long min,
			 unsigned long max)
{
	unsigned long v;

	if (kw_parse_ulong(arg, min, max, &v) < 0)
		kw_die("invalid -%c '%s': expected a number from %lu to %lu",
		       opt, arg, min, max);
	return v;
}

uint32_t kw_host_arg(int opt, const char *arg)
{
	uint32_t host;

	if (kw_parse_ipv4(arg, &host) < 0)
		kw_die("invalid -%c '%s': expected an IPv4 address such as 127.0.0.1",
		       opt, arg);
	return host;
}

int kw_port_arg(int opt, const char *arg)
{
	int port;

	if (kw_parse_port(arg, &port) < 0)
		kw_die("invalid -%c '%s': expected a port from 1 to 65535", opt,
		       arg);
	return port;
}

/* ---- time and sockets ------------------------------------------------- */

int64_t kw_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t kw_now_us(void)
{
	return kw_now_ns() / 1000;
}

int64_t kw_now_ms(void)
{
	return kw_now_ns() / 1000000;
}

int kw_ms_left(int64_t deadline)
{
	int64_t left = deadline - kw_now_ms();

	if (left <= 0)
		return 0;
	return left > INT_MAX ? INT_MAX : (int)left;
}

int kw_again(int err)
{
	return err == EAGAIN || err == EWOULDBLOCK || err == EINTR;
}

void kw_set_nodelay(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

int kw_connect_all(uint32_t host, int port, int64_t deadline, int *fds, int n,
		   int *bad)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_port = htons((uint16_t)port),
		.sin_addr.s_addr = htonl(host),
	};
	struct pollfd *pfd = kw_xcalloc((size_t)n, sizeof(*pfd));
	int pending = 0, err = 0, i;

	for (i = 0; i < n; i++) {
		fds[i] = -1;
		pfd[i].fd = -1;
	}
	for (i = 0; i < n; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK |
				SOCK_CLOEXEC, 0);
		if (fds[i] < 0)
			kw_die("cannot create socket %d: %s", i,
			       strerror(errno));
		if (connect(fds[i], (struct sockaddr *)&sa, sizeof(sa)) == 0)
			continue;
		if (errno != EINPROGRESS) {
			err = errno;
			*bad = i;
			break;
		}
		pfd[i].fd = fds[i];
		pfd[i].events = POLLOUT;
		pending++;
	}

	while (!err && pending > 0) {
		int ms = kw_ms_left(deadline);

		if (ms == 0) {
			for (i = 0; pfd[i].fd < 0; i++)
				;
			err = ETIMEDOUT;
			*bad = i;
			break;
		}
		if (poll(pfd, (nfds_t)n, ms) < 0) {
			if (errno == EINTR)
				continue;
			kw_die("poll: %s", strerror(errno));
		}
		for (i = 0; i < n; i++) {
			socklen_t len = sizeof(err);

			if (pfd[i].fd < 0 || !pfd[i].revents)
				continue;
			if (getsockopt(pfd[i].fd, SOL_SOCKET, SO_ERROR, &err,
				       &len) < 0)
				err = errno;
			if (err) {
				*bad = i;
				break;
			}
			pfd[i].fd = -1;
			pending--;
		}
	}

	free(pfd);
	if (err) {
		for (i = 0; i < n; i++) {
			if (fds[i] >= 0)
				close(fds[i]);
			fds[i] = -1;
		}
	}
	return err;
}

int kw_send_all(int fd, const void *buf, size_t len, int64_t deadline,
		size_t *sent)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };

	*sent = 0;
	while (*sent < len) {
		ssize_t n = send(fd, (const char *)buf + *sent, len - *sent,
				 MSG_NOSIGNAL);

		if (n >= 0) {
			*sent += (size_t)n;
			continue;
		}
		if (!kw_again(errno))
			return errno;
		if (kw_ms_left(deadline) == 0)
			return ETIMEDOUT;
		if (poll(&pfd, 1, kw_ms_left(deadline)) < 0 && errno != EINTR)
			return errno;
	}
	return 0;
}

/* kw_http_read() goes on reading. */
#define READ_MORE (-1)

/* a + b, or SIZE_MAX when that overflows */
static size_t add_sat(size_t a, size_t b)
{
	return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

/* How many more bytes @m may take, as far as its framing says. */
static size_t read_want(const struct kw_http_msg *m)
{
	const struct kw_http_resp *r = &m->r;

	if (!m->head_done)
		return m->head_max - m->len;
	if (r->content_length >= 0)
		return r->body_off + (size_t)r->content_length - m->len;
	/* to the close: one byte more than body_max shows it is too big */
	return add_sat(r->body_off, add_sat(m->body_max, 1)) - m->len;
}

/* Frame what came; KW_READ_* when that decides it, else READ_MORE. */
static int read_step(struct kw_http_msg *m)
{
	struct kw_http_resp *r = &m->r;
	size_t total = 0;
	int rc = kw_http_frame(m->buf, m->len, m->head, r, &total);

	if (rc < 0)
		return KW_READ_MALFORMED;
	m->head_done = r->body_off > 0;
	if (!m->head_done)
		return m->len >= m->head_max ? KW_READ_HEAD_TOO_BIG : READ_MORE;
	if (rc == 0 && total == r->body_off) {
		m->total = total;	/* no body: HEAD, 1xx, 204, 304, or 0 */
		return KW_READ_DONE;
	}
	if (r->content_length >= 0) {
		if ((unsigned long)r->content_length > m->body_max)
			return KW_READ_BODY_TOO_BIG;
		if (rc == 0) {
			m->total = total;
			return KW_READ_DONE;
		}
		return READ_MORE;
	}
	if (m->need_length)
		return KW_READ_NO_LENGTH;
	if (m->len - r->body_off > m->body_max)
		return KW_READ_BODY_TOO_BIG;
	return READ_MORE;
}

/* Room for @want more bytes (at most 64 KiB at a time) in m->buf. */
static size_t read_room(struct kw_http_msg *m, size_t want)
{
	size_t chunk = want < 65536 ? want : 65536;
	size_t need = m->len + chunk;

	if (need > m->cap) {
		size_t cap = m->cap > SIZE_MAX / 2 ? SIZE_MAX : 2 * m->cap;
		size_t most = add_sat(m->len, want);

		if (cap > most)
			cap = most;
		if (cap < need)
			cap = need;
		m->buf = kw_xrealloc(m->buf, cap);
		m->cap = cap;
		/* r points into the buffer */
		if (m->head_done)
			kw_http_parse(m->buf, m->len, &m->r);
	}
	return chunk;
}

enum kw_read kw_http_read(int fd, struct kw_http_msg *m, int64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	m->len = 0;
	m->head_done = 0;
	m->total = 0;
	m->err = 0;
	memset(&m->r, 0, sizeof(m->r));
	m->r.content_length = -1;
	if (m->head_max == 0)
		return KW_READ_HEAD_TOO_BIG;
	for (;;) {
		size_t chunk = read_room(m, read_want(m));
		ssize_t n = recv(fd, m->buf + m->len, chunk, MSG_DONTWAIT);
		int rc;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int ms = kw_ms_left(deadline);

			if (ms == 0)
				return KW_READ_TIMEOUT;
			if (poll(&pfd, 1, ms) < 0 && errno != EINTR) {
				m->err = errno;
				return KW_READ_ERROR;
			}
			continue;
		}
		if (n < 0) {
			m->err = errno;
			return KW_READ_ERROR;
		}
		if (n == 0) {
			if (m->head_done && m->r.content_length < 0) {
				m->total = m->len;	/* it ends at the close */
				return KW_READ_DONE;
			}
			return KW_READ_EOF;
		}
		m->len += (size_t)n;
		rc = read_step(m);
		if (rc != READ_MORE)
			return (enum kw_read)rc;
		if (kw_ms_left(deadline) == 0)
			return KW_READ_TIMEOUT;
	}
}

const char *kw_read_str(enum kw_read rc, int err)
{
	switch (rc) {
	case KW_READ_DONE:
		return "complete";
	case KW_READ_MALFORMED:
		return "malformed";
	case KW_READ_HEAD_TOO_BIG:
		return "the head is too large";
	case KW_READ_BODY_TOO_BIG:
		return "the body is too large";
	case KW_READ_NO_LENGTH:
		return "no Content-Length";
	case KW_READ_EOF:
		return "the server closed the connection";
	case KW_READ_TIMEOUT:
		return "timed out";
	case KW_READ_ERROR:
		return strerror(err);
	}
	return "?";
}
