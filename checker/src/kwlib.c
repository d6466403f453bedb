// SPDX-License-Identifier: GPL-2.0
/*
 * kwlib.c - pure helpers of the kwnet and kwload test clients (see kwlib.h).
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

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
