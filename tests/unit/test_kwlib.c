// SPDX-License-Identifier: GPL-2.0
/*
 * test_kwlib.c - CMocka unit tests of checker/src/kwlib.c.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kwlib.h"

/* ---- byte patterns ---------------------------------------------------- */

static void test_pattern_deterministic(void **state)
{
	unsigned char a[1000], b[1000];

	(void)state;
	kw_pattern_fill(a, sizeof(a), 7, 123);
	kw_pattern_fill(b, sizeof(b), 7, 123);
	assert_memory_equal(a, b, sizeof(a));
	assert_true(kw_pattern_check(a, sizeof(a), 7, 123) == KW_PATTERN_OK);
}

/* A piece filled at offset N is that slice of the whole stream. */
static void test_pattern_offsets(void **state)
{
	unsigned char whole[256], piece[64];
	size_t off, len, i;

	(void)state;
	kw_pattern_fill(whole, sizeof(whole), 3, 0);
	for (off = 0; off < 16; off++) {
		for (len = 0; len <= 37; len++) {
			kw_pattern_fill(piece, len, 3, off);
			assert_memory_equal(piece, whole + off, len);
			assert_true(kw_pattern_check(whole + off, len, 3,
						     off) == KW_PATTERN_OK);
		}
	}
	for (i = 0; i < sizeof(whole); i++)
		assert_int_equal(kw_pattern_byte(3, i), whole[i]);
}

static void test_pattern_large_offset(void **state)
{
	size_t big = (size_t)3 << 30;	/* 3 GiB into the stream */
	unsigned char a[10];
	size_t i;

	(void)state;
	kw_pattern_fill(a, sizeof(a), 1, big + 1);
	for (i = 0; i < sizeof(a); i++)
		assert_int_equal(a[i], kw_pattern_byte(1, big + 1 + i));
	assert_true(kw_pattern_check(a, sizeof(a), 1, big + 1) ==
		    KW_PATTERN_OK);
	assert_true(kw_pattern_check(a, sizeof(a), 1, big) != KW_PATTERN_OK);
}

static void test_pattern_zero_length(void **state)
{
	unsigned char guard[4] = { 0xaa, 0xaa, 0xaa, 0xaa };

	(void)state;
	kw_pattern_fill(guard + 2, 0, 5, 9);
	assert_int_equal(guard[2], 0xaa);
	assert_true(kw_pattern_check(guard, 0, 5, 9) == KW_PATTERN_OK);
}

static void test_pattern_mismatch_index(void **state)
{
	unsigned char a[4096];

	(void)state;
	kw_pattern_fill(a, sizeof(a), 0, 0);
	a[4095] ^= 1;
	assert_int_equal(kw_pattern_check(a, sizeof(a), 0, 0), 4095);
	a[17] ^= 0x80;
	assert_int_equal(kw_pattern_check(a, sizeof(a), 0, 0), 17);
	a[0] ^= 0xff;
	assert_int_equal(kw_pattern_check(a, sizeof(a), 0, 0), 0);
	/* the index is relative to the buffer, not to the stream */
	assert_int_equal(kw_pattern_check(a + 10, 100, 0, 10), 7);
}

/* Seeds, shifts and zero bytes must all be told apart. */
static void test_pattern_distinct(void **state)
{
	unsigned char a[4096], b[4096], zero[8] = { 0 };
	uint32_t seed;
	size_t shift;

	(void)state;
	kw_pattern_fill(a, sizeof(a), 0, 0);
	for (seed = 1; seed < 64; seed++) {
		kw_pattern_fill(b, sizeof(b), seed, 0);
		assert_true(kw_pattern_check(b, 16, 0, 0) != KW_PATTERN_OK);
	}
	/* no short period: a shifted stream is not the stream */
	for (shift = 1; shift <= 1024; shift *= 2)
		assert_true(kw_pattern_check(a + shift, 64, 0, 0) !=
			    KW_PATTERN_OK);
	/* an all-zero echo fails within the first few bytes */
	assert_true(kw_pattern_check(zero, sizeof(zero), 0, 0) < 4);
	assert_true(kw_pattern_check(zero, sizeof(zero), 1, 0) < 4);
}

/* ---- /proc/net/tcp ---------------------------------------------------- */

/* How the kernel prints @host_addr on this machine ("%08X" of a __be32). */
static void proc_hex(uint32_t host_addr, char out[9])
{
	unsigned char b[4] = {
		host_addr >> 24, host_addr >> 16 & 255,
		host_addr >> 8 & 255, host_addr & 255
	};
	uint32_t v;

	memcpy(&v, b, sizeof(v));
	snprintf(out, 9, "%08X", v);
}

static const char tcp_header[] =
	"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when "
	"retrnsmt   uid  timeout inode\n";

static void test_tcp_header(void **state)
{
	struct kw_tcp_entry e;

	(void)state;
	assert_int_equal(kw_tcp_parse_line(tcp_header, &e), -1);
}

static void test_tcp_listen_line(void **state)
{
	char line[256], la[9];
	struct kw_tcp_entry e;

	(void)state;
	proc_hex(0x7f000001, la);
	snprintf(line, sizeof(line),
		 "   0: %s:270F 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 20137 1 0000000000000000 100 0 0 10 0\n",
		 la);
	assert_int_equal(kw_tcp_parse_line(line, &e), 0);
	assert_int_equal(e.local_addr, 0x7f000001);
	assert_int_equal(e.local_port, 9999);
	assert_int_equal(e.remote_addr, 0);
	assert_int_equal(e.remote_port, 0);
	assert_int_equal(e.state, KW_TCP_LISTEN);
}

/* The literal text of a little-endian kernel, as found in the guest. */
static void test_tcp_literal_line(void **state)
{
	static const char line[] =
		"  12: 0F02000A:1F90 0100007F:D2C4 01 00000000:00000000 02:000A7C7B 00000000  1000        0 31337 2 0000000000000000 20 4 30 10 -1";
	struct kw_tcp_entry e;

	(void)state;
	assert_int_equal(kw_tcp_parse_line(line, &e), 0);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	assert_int_equal(e.local_addr, 0x0a00020f);	/* 10.0.2.15 */
	assert_int_equal(e.remote_addr, 0x7f000001);
#endif
	assert_int_equal(e.local_port, 8080);
	assert_int_equal(e.remote_port, 0xd2c4);
	assert_int_equal(e.state, KW_TCP_ESTABLISHED);
}

static void test_tcp_states_and_case(void **state)
{
	static const struct {
		const char *line;
		int state;
	} cases[] = {
		{ "0: 00000000:270F 00000000:0000 0A", KW_TCP_LISTEN },
		{ "   1: 00000000:270F 00000000:0000 08 x", KW_TCP_CLOSE_WAIT },
		{ "   2: 00000000:270f 00000000:0000 06\n", KW_TCP_TIME_WAIT },
		{ "10000: 00000000:270F 00000000:0000 03 ", KW_TCP_SYN_RECV },
		{ "   4: ffffffff:FFFF ffffffff:0001 0b ", KW_TCP_CLOSING },
	};
	struct kw_tcp_entry e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(kw_tcp_parse_line(cases[i].line, &e), 0);
		assert_int_equal(e.state, cases[i].state);
	}
	assert_int_equal(e.local_addr, 0xffffffff);
	assert_int_equal(e.local_port, 65535);
	assert_int_equal(e.remote_port, 1);
}

static void test_tcp_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		"\n",
		"garbage",
		"   0: 0100007F:270F",
		"   0: 0100007F:270F 00000000:0000",
		"   0: 0100007F:270F 00000000:0000 0",
		"   0: 0100007F:270F 00000000:0000 0A1",
		"   0: 0100007G:270F 00000000:0000 0A",
		"   0: 0100007F:27 00000000:0000 0A",
		"   0: 0100007F-270F 00000000:0000 0A",
		"   0 0100007F:270F 00000000:0000 0A",
		"   x: 0100007F:270F 00000000:0000 0A",
		"   0:  0100007F:270F 00000000:0000 0A",
		/* a /proc/net/tcp6 line */
		"   0: 00000000000000000000000000000000:270F 00000000000000000000000000000000:0000 0A",
	};
	struct kw_tcp_entry e = { .local_port = 42 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(kw_tcp_parse_line(bad[i], &e), -1);
		assert_int_equal(e.local_port, 42);	/* left alone */
	}
}

static void test_tcp_state_names(void **state)
{
	(void)state;
	assert_string_equal(kw_tcp_state_name(0x0A), "LISTEN");
	assert_string_equal(kw_tcp_state_name(0x01), "ESTABLISHED");
	assert_string_equal(kw_tcp_state_name(0x08), "CLOSE_WAIT");
	assert_string_equal(kw_tcp_state_name(0x06), "TIME_WAIT");
	assert_string_equal(kw_tcp_state_name(0x03), "SYN_RECV");
	assert_string_equal(kw_tcp_state_name(0x0C), "NEW_SYN_RECV");
	assert_string_equal(kw_tcp_state_name(0), "UNKNOWN");
	assert_string_equal(kw_tcp_state_name(-1), "UNKNOWN");
	assert_string_equal(kw_tcp_state_name(0xff), "UNKNOWN");
	assert_string_equal(kw_tcp_state_name(KW_TCP_MAX_STATES), "UNKNOWN");
}

static void test_tcp_state_parse(void **state)
{
	int st;

	(void)state;
	assert_int_equal(kw_tcp_state_parse("LISTEN"), KW_TCP_LISTEN);
	assert_int_equal(kw_tcp_state_parse("listen"), KW_TCP_LISTEN);
	assert_int_equal(kw_tcp_state_parse("Close_Wait"), KW_TCP_CLOSE_WAIT);
	assert_int_equal(kw_tcp_state_parse("SYN_RECV"), KW_TCP_SYN_RECV);
	assert_int_equal(kw_tcp_state_parse(""), -1);
	assert_int_equal(kw_tcp_state_parse("LISTE"), -1);
	assert_int_equal(kw_tcp_state_parse("LISTENING"), -1);
	assert_int_equal(kw_tcp_state_parse("UNKNOWN"), -1);
	assert_int_equal(kw_tcp_state_parse("0A"), -1);
	/* every name parses back to its number */
	for (st = 1; st < KW_TCP_MAX_STATES; st++)
		assert_int_equal(kw_tcp_state_parse(kw_tcp_state_name(st)), st);
}

/* ---- HTTP responses --------------------------------------------------- */

static struct kw_http_resp resp;

static int parse(const char *s)
{
	return kw_http_parse(s, strlen(s), &resp);
}

static void assert_value(const char *v, size_t len, const char *want)
{
	assert_non_null(v);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(v, want, len);
}

/* The parsed response has header @name with value @want. */
static void assert_header(const char *name, const char *want)
{
	size_t len = 12345;
	const char *v = kw_http_header(&resp, name, &len);

	if (!v)
		fail_msg("no header '%s'", name);
	assert_value(v, len, want);
}

static void test_http_complete(void **state)
{
	static const char r[] =
		"HTTP/1.1 200 OK\r\n"
		"Content-Length: 5\r\n"
		"Content-Type: text/plain; charset=utf-8\r\n"
		"Connection: close\r\n"
		"\r\n"
		"hello";

	(void)state;
	assert_int_equal(parse(r), 0);
	assert_int_equal(resp.status, 200);
	assert_int_equal(resp.minor, 1);
	assert_value(resp.reason, resp.reason_len, "OK");
	assert_value(resp.status_line, resp.status_line_len,
		     "HTTP/1.1 200 OK");
	assert_int_equal(resp.nheaders, 3);
	assert_int_equal(resp.content_length, 5);
	assert_value(resp.content_length_str, resp.content_length_str_len,
		     "5");
	assert_value(resp.content_type, resp.content_type_len,
		     "text/plain; charset=utf-8");
	assert_value(resp.connection, resp.connection_len, "close");
	assert_int_equal(resp.bare_lf, 0);
	assert_int_equal(resp.body_off, strlen(r) - 5);
	assert_null(resp.error);
}

static void test_http_no_headers(void **state)
{
	(void)state;
	assert_int_equal(parse("HTTP/1.0 404 Not Found\r\n\r\n"), 0);
	assert_int_equal(resp.status, 404);
	assert_int_equal(resp.minor, 0);
	assert_value(resp.reason, resp.reason_len, "Not Found");
	assert_int_equal(resp.nheaders, 0);
	assert_int_equal(resp.content_length, -1);
	assert_null(resp.content_length_str);
	assert_null(resp.content_type);
	assert_null(resp.connection);
	assert_int_equal(resp.body_off, 26);
}

static void test_http_status_lines(void **state)
{
	(void)state;
	/* the reason phrase may be empty or missing */
	assert_int_equal(parse("HTTP/1.1 204 \r\n\r\n"), 0);
	assert_int_equal(resp.reason_len, 0);
	assert_int_equal(parse("HTTP/1.1 503\r\n\r\n"), 0);
	assert_int_equal(resp.status, 503);
	assert_int_equal(resp.reason_len, 0);
	assert_int_equal(parse("HTTP/1.1 200 A  reason\twith blanks\r\n\r\n"), 0);
	assert_value(resp.reason, resp.reason_len, "A  reason\twith blanks");

	assert_int_equal(parse("HTTP/1.1 20 OK\r\n\r\n"), -1);
	assert_non_null(resp.error);
	assert_int_equal(parse("HTTP/1.1 2000 OK\r\n\r\n"), -1);
	assert_int_equal(parse("HTTP/1.1 099 Low\r\n\r\n"), -1);
	assert_int_equal(parse("HTTP/1.1  200 OK\r\n\r\n"), -1);
	assert_int_equal(parse("HTTP/1.x 200 OK\r\n\r\n"), -1);
	assert_int_equal(parse("HTTP/2 200 OK\r\n\r\n"), -1);
	assert_int_equal(parse("http/1.1 200 OK\r\n\r\n"), -1);
	assert_int_equal(parse("\r\nHTTP/1.1 200 OK\r\n\r\n"), -1);
}

static void test_http_incomplete(void **state)
{
	static const char full[] = "HTTP/1.1 200 OK\r\nA: b\r\n\r\n";
	size_t len;

	(void)state;
	/* every proper prefix needs more data */
	for (len = 0; len < sizeof(full) - 1; len++)
		assert_int_equal(kw_http_parse(full, len, &resp), 1);
	assert_int_equal(kw_http_parse(full, len, &resp), 0);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"), 1);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\n\r"), 1);
}

/* Input that can never become HTTP is refused before its line ends. */
static void test_http_not_http(void **state)
{
	(void)state;
	assert_int_equal(parse("SSH-2.0-OpenSSH"), -1);
	assert_int_equal(parse("H"), 1);
	assert_int_equal(parse("HTTP/1."), 1);
	assert_int_equal(parse("HTTP/2"), -1);
	assert_int_equal(parse("hello world\r\n\r\n"), -1);
	assert_int_equal(parse("hello world\n"), -1);
}

static void test_http_bare_lf(void **state)
{
	(void)state;
	assert_int_equal(parse("HTTP/1.1 200 OK\nContent-Length: 0\n\n"), 0);
	assert_int_equal(resp.bare_lf, 1);
	assert_int_equal(resp.bare_lf_line, 1);
	assert_int_equal(resp.content_length, 0);

	assert_int_equal(parse("HTTP/1.1 200 OK\r\nA: b\nC: d\r\n\r\nx"), 0);
	assert_int_equal(resp.bare_lf, 1);
	assert_int_equal(resp.bare_lf_line, 2);
	assert_header("a", "b");

	/* only the empty line at the end is bare */
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nA: b\r\n\nbody\n"), 0);
	assert_int_equal(resp.bare_lf_line, 3);
	assert_int_equal(resp.body_off, 24);

	/* line ends inside the body do not count */
	assert_int_equal(parse("HTTP/1.1 200 OK\r\n\r\nline\nline\n"), 0);
	assert_int_equal(resp.bare_lf, 0);
}

static void test_http_bad_cr_nul(void **state)
{
	static const char nul[] = "HTTP/1.1 200 OK\r\nA: b\0c\r\n\r\n";

	(void)state;
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n"), -1);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\r\n\r\n"), -1);
	assert_int_equal(kw_http_parse(nul, sizeof(nul) - 1, &resp), -1);
	assert_non_null(resp.error);
}

static void test_http_case_insensitive(void **state)
{
	size_t len = 0;

	(void)state;
	assert_int_equal(parse("HTTP/1.1 200 OK\r\n"
			       "content-length: 3\r\n"
			       "CONTENT-TYPE: text/html\r\n"
			       "cOnNeCtIoN: Keep-Alive\r\n"
			       "X-Thing: 1\r\n"
			       "\r\nabc"), 0);
	assert_int_equal(resp.content_length, 3);
	assert_value(resp.content_type, resp.content_type_len, "text/html");
	assert_value(resp.connection, resp.connection_len, "Keep-Alive");
	assert_header("Content-Length", "3");
	assert_header("x-thing", "1");
	assert_header("X-THING", "1");
	assert_null(kw_http_header(&resp, "X-Missing", &len));
	assert_null(kw_http_header(&resp, "X-Thin", &len));
	assert_null(kw_http_header(&resp, "X-Things", &len));
}

static void test_http_values(void **state)
{
	size_t len = 99;

	(void)state;
	assert_int_equal(parse("HTTP/1.1 200 OK\r\n"
			       "X-Foo:   bar baz \t\r\n"
			       "X-Empty:\r\n"
			       "X-Blank: \t \r\n"
			       "X-Foo: second\r\n"
			       "\r\n"), 0);
	assert_int_equal(resp.nheaders, 4);
	assert_header("X-Foo", "bar baz");
	assert_non_null(kw_http_header(&resp, "X-Empty", &len));
	assert_int_equal(len, 0);
	assert_non_null(kw_http_header(&resp, "X-Blank", &len));
	assert_int_equal(len, 0);
	/* the length is optional */
	assert_true(kw_http_header(&resp, "x-foo", NULL) == resp.headers[0].value);
	assert_value(resp.headers[3].name, resp.headers[3].name_len, "X-Foo");
	assert_value(resp.headers[3].value, resp.headers[3].value_len,
		     "second");
}

static void test_http_content_length(void **state)
{
	(void)state;
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nX: y\r\n\r\nbody"), 0);
	assert_int_equal(resp.content_length, -1);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), 0);
	assert_int_equal(resp.content_length, 0);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length:  0012 \r\n\r\n"), 0);
	assert_int_equal(resp.content_length, 12);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 7\r\nContent-Length: 7\r\n\r\n"), 0);
	assert_int_equal(resp.content_length, 7);

	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n"), -1);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"), -1);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\n"), -1);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\n"), -1);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n"), -1);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n"), -1);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 7\r\nContent-Length: 8\r\n\r\n"), -1);
	assert_non_null(resp.error);
}

static void test_http_bad_headers(void **state)
{
	(void)state;
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nNoColon\r\n\r\n"), -1);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\n: value\r\n\r\n"), -1);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n"), -1);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nName : x\r\n\r\n"), -1);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n"), -1);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nA: b\x01\r\n\r\n"), -1);
	assert_non_null(resp.error);
}

/* r->error_line says which line is wrong. */
static void test_http_error_line(void **state)
{
	(void)state;
	assert_int_equal(parse("HTTP/1.1 20 OK\r\n\r\n"), -1);
	assert_int_equal(resp.error_line, 1);
	assert_int_equal(parse("SSH-2.0"), -1);
	assert_int_equal(resp.error_line, 1);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nNoColon\r\n\r\n"), -1);
	assert_int_equal(resp.error_line, 2);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n"), -1);
	assert_int_equal(resp.error_line, 3);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nA: b\r\nB: c\rd\r\n\r\n"), -1);
	assert_int_equal(resp.error_line, 3);
	/* no error, no line */
	assert_int_equal(parse("HTTP/1.1 200 OK\r\n\r\n"), 0);
	assert_null(resp.error);
	assert_int_equal(resp.error_line, 0);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\n"), 1);
	assert_int_equal(resp.error_line, 0);
}

static void test_http_body_with_blank_lines(void **state)
{
	static const char r[] =
		"HTTP/1.0 200 OK\r\nContent-Length: 8\r\n\r\n\r\n\r\nX: y";

	(void)state;
	assert_int_equal(parse(r), 0);
	assert_int_equal(resp.nheaders, 1);
	assert_int_equal(resp.body_off, strlen(r) - 8);
	assert_null(kw_http_header(&resp, "X", NULL));
}

static void test_http_many_headers(void **state)
{
	char buf[4096];
	size_t o;
	int i;

	(void)state;
	o = (size_t)snprintf(buf, sizeof(buf), "HTTP/1.1 200 OK\r\n");
	for (i = 0; i < KW_HTTP_MAX_HEADERS; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "H%d: %d\r\n",
				      i, i);
	snprintf(buf + o, sizeof(buf) - o, "\r\n");
	assert_int_equal(parse(buf), 0);
	assert_int_equal(resp.nheaders, KW_HTTP_MAX_HEADERS);
	assert_header("h63", "63");

	snprintf(buf + o, sizeof(buf) - o, "One-Too-Many: x\r\n\r\n");
	assert_int_equal(parse(buf), -1);
}

/* The buffer need not end in a NUL: nothing past len is read. */
static void test_http_not_terminated(void **state)
{
	char buf[32];

	(void)state;
	memcpy(buf, "HTTP/1.1 200 OK\r\n\r\n", 19);
	memset(buf + 19, 'x', sizeof(buf) - 19);
	assert_int_equal(kw_http_parse(buf, 19, &resp), 0);
	assert_int_equal(resp.body_off, 19);
	assert_int_equal(kw_http_parse(buf, 18, &resp), 1);
}

/* ---- HTTP response framing -------------------------------------------- */

/* Three pipelined responses in one buffer: GET, HEAD, GET with close. */
static void test_frame_pipelined(void **state)
{
	static const char buf[] =
		"HTTP/1.1 200 OK\r\nContent-Length: 21\r\n"
		"Connection: keep-alive\r\n\r\n"
		"Hello from kweb-lab!\n"
		"HTTP/1.1 200 OK\r\nContent-Length: 21\r\n"
		"Connection: keep-alive\r\n\r\n"
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
		"Connection: close\r\n\r\nhello";
	static const int head[] = { 0, 1, 0 };
	size_t off = 0, len = sizeof(buf) - 1, total;
	int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		total = 0;
		assert_int_equal(kw_http_frame(buf + off, len - off, head[i],
					       &resp, &total), 0);
		assert_int_equal(resp.status, 200);
		assert_true(total > resp.body_off || head[i]);
		off += total;
	}
	assert_int_equal(off, len);
	assert_value(resp.connection, resp.connection_len, "close");
	/* and nothing is left */
	assert_int_equal(kw_http_frame(buf + off, 0, 0, &resp, &total), 1);
}

/* Every proper prefix of a response needs more; the whole one is framed. */
static void test_frame_prefixes(void **state)
{
	static const char r[] =
		"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1";
	size_t whole = sizeof(r) - 1 - strlen("HTTP/1.1"), len, total = 0;

	(void)state;
	for (len = 0; len < whole; len++)
		assert_int_equal(kw_http_frame(r, len, 0, &resp, &total), 1);
	for (len = whole; len < sizeof(r); len++) {
		assert_int_equal(kw_http_frame(r, len, 0, &resp, &total), 0);
		assert_int_equal(total, whole);
	}
}

static void test_frame_no_body(void **state)
{
	static const char *const no_body[] = {
		"HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1",
		"HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n",
		"HTTP/1.1 100 Continue\r\n\r\n",
	};
	static const char head[] =
		"HTTP/1.1 200 OK\r\nContent-Length: 21\r\n\r\n";
	size_t i, total = 0;

	(void)state;
	for (i = 0; i < sizeof(no_body) / sizeof(no_body[0]); i++) {
		assert_int_equal(kw_http_frame(no_body[i], strlen(no_body[i]),
					       0, &resp, &total), 0);
		assert_int_equal(total, resp.body_off);
	}
	/* after HEAD, Content-Length is the GET's body: none follows */
	assert_int_equal(kw_http_frame(head, strlen(head), 1, &resp, &total),
			 0);
	assert_int_equal(total, strlen(head));
	/* after GET it is awaited */
	assert_int_equal(kw_http_frame(head, strlen(head), 0, &resp, &total),
			 1);
}

static void test_frame_until_close(void **state)
{
	static const char r[] = "HTTP/1.0 200 OK\r\nServer: x\r\n\r\nbody";
	size_t total = 77;

	(void)state;
	assert_int_equal(kw_http_frame(r, strlen(r), 0, &resp, &total),
			 KW_HTTP_UNTIL_CLOSE);
	assert_int_equal(resp.body_off, strlen(r) - 4);
	assert_int_equal(total, 77);	/* left alone */
	/* a HEAD response needs no length */
	assert_int_equal(kw_http_frame(r, strlen(r), 1, &resp, &total), 0);
	assert_int_equal(total, strlen(r) - 4);
}

static void test_frame_malformed(void **state)
{
	static const char r[] =
		"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n";
	size_t total = 0;

	(void)state;
	assert_int_equal(kw_http_frame(r, strlen(r), 0, &resp, &total), -1);
	assert_non_null(resp.error);
	/* a body byte where the next response should start */
	assert_int_equal(kw_http_frame("!HTTP/1.1 200 OK\r\n", 18, 0, &resp,
				       &total), -1);
}

/* ---- latency histograms ----------------------------------------------- */

static struct kw_hist hist, hist2;

/* Buckets tile the values: each value lies in its bucket, in order. */
static void test_hist_buckets(void **state)
{
	uint64_t v, step;
	unsigned int b, prev = 0;

	(void)state;
	for (b = 0; b < KW_HIST_SUB; b++) {
		assert_int_equal(kw_hist_bucket(b), b);
		assert_int_equal(kw_hist_bucket_low(b), b);
		assert_int_equal(kw_hist_bucket_high(b), b);
	}
	for (b = 0; b + 1 < KW_HIST_BUCKETS; b++)
		assert_true(kw_hist_bucket_high(b) + 1 ==
			    kw_hist_bucket_low(b + 1));
	for (v = 1, step = 1; v < ((uint64_t)1 << 32); v += step) {
		b = kw_hist_bucket(v);
		assert_true(b >= prev);
		assert_true(kw_hist_bucket_low(b) <= v);
		assert_true(v <= kw_hist_bucket_high(b));
		/* the bucket is at most 1/64 of its values wide */
		assert_true((kw_hist_bucket_high(b) - kw_hist_bucket_low(b)) *
			    KW_HIST_SUB <= v);
		prev = b;
		step = v / 97 + 1;
	}
	assert_int_equal(kw_hist_bucket((uint64_t)1 << 32),
			 KW_HIST_BUCKETS - 1);
	assert_int_equal(kw_hist_bucket(UINT64_MAX), KW_HIST_BUCKETS - 1);
	assert_true(kw_hist_bucket_high(KW_HIST_BUCKETS - 1) == UINT64_MAX);
}

static void test_hist_exact_small(void **state)
{
	uint64_t v;

	(void)state;
	kw_hist_init(&hist);
	assert_int_equal(kw_hist_percentile(&hist, 50), 0);
	for (v = 1; v <= 60; v++)
		kw_hist_add(&hist, v);
	assert_int_equal(hist.total, 60);
	assert_int_equal(hist.min, 1);
	assert_int_equal(hist.max, 60);
	/* nearest rank: ceil(p * 60 / 100) */
	assert_int_equal(kw_hist_percentile(&hist, 50), 30);
	assert_int_equal(kw_hist_percentile(&hist, 99), 60);
	assert_int_equal(kw_hist_percentile(&hist, 1), 1);
	assert_int_equal(kw_hist_percentile(&hist, 100), 60);
	assert_int_equal(kw_hist_percentile(&hist, 10), 6);

	kw_hist_init(&hist);
	kw_hist_add(&hist, 7);
	assert_int_equal(kw_hist_percentile(&hist, 50), 7);
	assert_int_equal(kw_hist_percentile(&hist, 99), 7);
}

/* Large values come back within their bucket, inside min..max. */
static void test_hist_large(void **state)
{
	uint64_t v, p50, p99;
	int i;

	(void)state;
	kw_hist_init(&hist);
	/* 990 fast requests around 1 ms, 10 slow ones around 2 s */
	for (i = 0; i < 990; i++)
		kw_hist_add(&hist, 1000 + (uint64_t)(i % 10));
	for (i = 0; i < 10; i++)
		kw_hist_add(&hist, 2000000 + (uint64_t)i);
	p50 = kw_hist_percentile(&hist, 50);
	p99 = kw_hist_percentile(&hist, 99);
	assert_true(p50 >= 1000 - 1000 / 64 && p50 <= 1009 + 1009 / 64);
	/* rank 990 is still a fast one */
	assert_true(p99 <= 1009 + 1009 / 64);
	v = kw_hist_percentile(&hist, 100);
	assert_true(v >= 2000000 - 2000000 / 64 && v <= 2000009);
	kw_hist_add(&hist, 2000000);
	/* rank ceil(0.99 * 1001) = 991: the first slow one */
	assert_true(kw_hist_percentile(&hist, 99) >= 2000000 - 2000000 / 64);

	/* one huge value: kept to max */
	kw_hist_init(&hist);
	kw_hist_add(&hist, (uint64_t)1 << 40);
	assert_true(kw_hist_percentile(&hist, 50) == (uint64_t)1 << 40);
}

static void test_hist_merge(void **state)
{
	uint64_t v;

	(void)state;
	kw_hist_init(&hist);
	kw_hist_init(&hist2);
	kw_hist_merge(&hist, &hist2);
	assert_int_equal(hist.total, 0);
	for (v = 1; v <= 50; v++)
		kw_hist_add(&hist, v);
	for (v = 51; v <= 100; v++)
		kw_hist_add(&hist2, v);
	kw_hist_merge(&hist, &hist2);
	assert_int_equal(hist.total, 100);
	assert_int_equal(hist.min, 1);
	assert_int_equal(hist.max, 100);
	assert_int_equal(kw_hist_percentile(&hist, 50), 50);
	/* 99 is in bucket 96..97 (width 2 above 64): its middle is 96 */
	v = kw_hist_percentile(&hist, 99);
	assert_true(v >= 98 && v <= 99);
	/* merging into an empty histogram copies min and max */
	kw_hist_init(&hist2);
	kw_hist_merge(&hist2, &hist);
	assert_int_equal(hist2.min, 1);
	assert_int_equal(hist2.max, 100);
}

/* ---- numbers and addresses -------------------------------------------- */

static void test_ipv4_good(void **state)
{
	static const struct {
		const char *s;
		uint32_t addr;
	} cases[] = {
		{ "127.0.0.1", 0x7f000001 },
		{ "0.0.0.0", 0 },
		{ "255.255.255.255", 0xffffffff },
		{ "10.0.2.15", 0x0a00020f },
		{ "192.168.100.9", 0xc0a86409 },
		{ "1.20.100.0", 0x01146400 },
	};
	char buf[KW_IPV4_STRLEN];
	uint32_t a;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(kw_parse_ipv4(cases[i].s, &a), 0);
		assert_int_equal(a, cases[i].addr);
		/* and back */
		assert_string_equal(kw_ipv4_str(a, buf), cases[i].s);
	}
}

static void test_ipv4_bad(void **state)
{
	static const char *const bad[] = {
		"1.2.3.256", "256.1.1.1", "1.2.3.999",
		/* leading zeros would be octal to inet_aton(): refused */
		"01.2.3.4", "1.2.3.04", "00.0.0.0", "1.2.3.007",
		"1.2.3", "1.2.3.4.5", "1..2.3", ".1.2.3", "1.2.3.",
		"", " 1.2.3.4", "1.2.3.4 ", "1.2.3.4\n", "1.2 .3.4",
		"a.b.c.d", "1.2.3.-4", "+1.2.3.4", "1234.1.1.1",
		"0x7f.0.0.1", "127.1", "localhost", "1.2.3.4:80",
	};
	uint32_t a = 0x12345678;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (kw_parse_ipv4(bad[i], &a) != -1)
			fail_msg("'%s' was accepted", bad[i]);
		assert_int_equal(a, 0x12345678);	/* left alone */
	}
}

static void test_ipv4_str(void **state)
{
	char buf[KW_IPV4_STRLEN];

	(void)state;
	assert_string_equal(kw_ipv4_str(0xffffffff, buf), "255.255.255.255");
	assert_int_equal(strlen(buf), KW_IPV4_STRLEN - 1);
	assert_string_equal(kw_ipv4_str(0, buf), "0.0.0.0");
	assert_string_equal(kw_ipv4_str(0x7f000001, buf), "127.0.0.1");
}

static void test_port(void **state)
{
	static const char *const bad[] = {
		"0", "65536", "99999", "", "-1", "+80", "80a", " 80", "80 ",
		"0x50", "99999999999999999999999999",
	};
	int p = 0;
	size_t i;

	(void)state;
	assert_int_equal(kw_parse_port("1", &p), 0);
	assert_int_equal(p, 1);
	assert_int_equal(kw_parse_port("65535", &p), 0);
	assert_int_equal(p, 65535);
	assert_int_equal(kw_parse_port("9999", &p), 0);
	assert_int_equal(p, 9999);
	/* leading zeros are plain decimal for a port */
	assert_int_equal(kw_parse_port("0080", &p), 0);
	assert_int_equal(p, 80);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p = 7;
		if (kw_parse_port(bad[i], &p) != -1)
			fail_msg("port '%s' was accepted", bad[i]);
		assert_int_equal(p, 7);
	}
}

static void test_ulong(void **state)
{
	unsigned long v = 5;
	char buf[32];

	(void)state;
	assert_int_equal(kw_parse_ulong("0", 0, 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(kw_parse_ulong("10", 0, 10, &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(kw_parse_ulong("11", 0, 10, &v), -1);
	assert_int_equal(kw_parse_ulong("0", 1, 10, &v), -1);
	assert_int_equal(v, 10);
	assert_int_equal(kw_parse_ulong("", 0, 10, &v), -1);
	assert_int_equal(kw_parse_ulong(NULL, 0, 10, &v), -1);
	assert_int_equal(kw_parse_ulong("1e3", 0, 10000, &v), -1);
	assert_int_equal(kw_parse_ulong("-0", 0, 10, &v), -1);

	snprintf(buf, sizeof(buf), "%lu", ULONG_MAX);
	assert_int_equal(kw_parse_ulong(buf, 0, ULONG_MAX, &v), 0);
	assert_true(v == ULONG_MAX);
	/* one more than ULONG_MAX overflows */
	buf[strlen(buf) - 1]++;
	assert_int_equal(kw_parse_ulong(buf, 0, ULONG_MAX, &v), -1);
	assert_int_equal(kw_parse_ulong("184467440737095516150", 0, ULONG_MAX,
					&v), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pattern_deterministic),
		cmocka_unit_test(test_pattern_offsets),
		cmocka_unit_test(test_pattern_large_offset),
		cmocka_unit_test(test_pattern_zero_length),
		cmocka_unit_test(test_pattern_mismatch_index),
		cmocka_unit_test(test_pattern_distinct),
		cmocka_unit_test(test_tcp_header),
		cmocka_unit_test(test_tcp_listen_line),
		cmocka_unit_test(test_tcp_literal_line),
		cmocka_unit_test(test_tcp_states_and_case),
		cmocka_unit_test(test_tcp_malformed),
		cmocka_unit_test(test_tcp_state_names),
		cmocka_unit_test(test_tcp_state_parse),
		cmocka_unit_test(test_http_complete),
		cmocka_unit_test(test_http_no_headers),
		cmocka_unit_test(test_http_status_lines),
		cmocka_unit_test(test_http_incomplete),
		cmocka_unit_test(test_http_not_http),
		cmocka_unit_test(test_http_bare_lf),
		cmocka_unit_test(test_http_bad_cr_nul),
		cmocka_unit_test(test_http_case_insensitive),
		cmocka_unit_test(test_http_values),
		cmocka_unit_test(test_http_content_length),
		cmocka_unit_test(test_http_bad_headers),
		cmocka_unit_test(test_http_error_line),
		cmocka_unit_test(test_http_body_with_blank_lines),
		cmocka_unit_test(test_http_many_headers),
		cmocka_unit_test(test_http_not_terminated),
		cmocka_unit_test(test_frame_pipelined),
		cmocka_unit_test(test_frame_prefixes),
		cmocka_unit_test(test_frame_no_body),
		cmocka_unit_test(test_frame_until_close),
		cmocka_unit_test(test_frame_malformed),
		cmocka_unit_test(test_hist_buckets),
		cmocka_unit_test(test_hist_exact_small),
		cmocka_unit_test(test_hist_large),
		cmocka_unit_test(test_hist_merge),
		cmocka_unit_test(test_ipv4_good),
		cmocka_unit_test(test_ipv4_bad),
		cmocka_unit_test(test_ipv4_str),
		cmocka_unit_test(test_port),
		cmocka_unit_test(test_ulong),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
