// SPDX-License-Identifier: GPL-2.0
/*
 * test_kwlib.c - CMocka unit tests of checker/src/kwlib.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* ---- more HTTP heads: repeated fields, why malformed ------------------- */

static void test_http_field_next(void **state)
{
	const struct kw_http_field *f;

	(void)state;
	assert_int_equal(parse("HTTP/1.1 200 OK\r\n"
			       "Server-Timing: a;dur=1\r\n"
			       "X: y\r\n"
			       "server-timing: fib;dur=2\r\n"
			       "Content-Length: 0\r\n"
			       "Content-Length: 0\r\n"
			       "\r\n"), 0);
	f = kw_http_field_next(&resp, "Server-Timing", NULL);
	assert_non_null(f);
	assert_value(f->value, f->value_len, "a;dur=1");
	f = kw_http_field_next(&resp, "SERVER-TIMING", f);
	assert_non_null(f);
	assert_value(f->value, f->value_len, "fib;dur=2");
	assert_null(kw_http_field_next(&resp, "Server-Timing", f));
	assert_null(kw_http_field_next(&resp, "Nope", NULL));
	assert_int_equal(kw_http_field_count(&resp, "server-timing"), 2);
	/* equal Content-Lengths parse; counting shows there are two */
	assert_int_equal(kw_http_field_count(&resp, "Content-Length"), 2);
	assert_int_equal(kw_http_field_count(&resp, "X"), 1);
	assert_int_equal(kw_http_field_count(&resp, "Y"), 0);
}

static void test_http_malformed_why(void **state)
{
	static const char r[] = "HTTP/1.1 200 OK\r\nGood: 1\r\nBad line\r\n\r\n";
	char why[256];

	(void)state;
	assert_int_equal(kw_http_parse(r, strlen(r), &resp), -1);
	assert_ptr_equal(kw_http_malformed_why(r, strlen(r), &resp, why,
					       sizeof(why)), why);
	assert_string_equal(why, "malformed response: header line without ':' (line 3: 'Bad line\\r\\n')");

	/* a status line cut short, with a control byte */
	assert_int_equal(kw_http_parse("HTTP/1.1 2\x01\n", 12, &resp), -1);
	kw_http_malformed_why("HTTP/1.1 2\x01\n", 12, &resp, why, sizeof(why));
	assert_string_equal(why, "malformed response: status line is not 'HTTP/1.x NNN reason' (line 1: 'HTTP/1.1 2\\x01\\n')");
}

/* ---- Server-Timing ------------------------------------------------------ */

static const char *dur(const char *v, uint64_t *us)
{
	*us = 424242;
	return kw_server_timing_dur(v, strlen(v), "fib", us);
}

static void test_timing_good(void **state)
{
	static const struct {
		const char *v;
		uint64_t us;
	} good[] = {
		{ "fib;dur=12.345", 12345 },
		{ "fib;dur=0", 0 },
		{ "fib;dur=0.001", 1 },
		{ "fib;dur=7.5", 7500 },
		{ "fib;dur=7.50", 7500 },
		{ "fib;dur=123456789", 123456789000ULL },
		{ "db;dur=53, fib;dur=2.25", 2250 },
		{ "db, fib;desc=\"a, b;dur=9\";dur=3", 3000 },
		{ "fib ; dur = 3 ", 3000 },
		{ "fib;DUR=4", 4000 },
		{ "fib;dur=5;dur=x", 5000 },	/* the first dur counts */
		{ ",fib;dur=6,", 6000 },
		{ "fib;dur=7, fib;dur=8", 7000 },
		{ "fibonacci;dur=1, fib;dur=9", 9000 },
	};
	uint64_t us;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		const char *why = dur(good[i].v, &us);

		if (why)
			fail_msg("'%s': %s", good[i].v, why);
		if (us != good[i].us)
			fail_msg("'%s': %llu us", good[i].v,
				 (unsigned long long)us);
	}
	/* not NUL-terminated: only len bytes count */
	assert_null(kw_server_timing_dur("fib;dur=12345", 11, "fib", &us));
	assert_int_equal(us, 123000);
}

static void test_timing_bad(void **state)
{
	static const struct {
		const char *v;
		const char *why;	/* how the reason starts */
	} bad[] = {
		{ "", "no such metric" },
		{ "   ", "no such metric" },
		{ "db;dur=1", "no such metric" },
		{ "FIB;dur=1", "no such metric" },
		{ "fibx;dur=1", "no such metric" },
		{ "fib", "the metric has no dur" },
		{ "fib;desc=x", "the metric has no dur" },
		{ "db;dur=1, fib", "the metric has no dur" },
		{ "fib;dur=-1", "its dur is not" },
		{ "fib;dur=1.2345", "its dur is not" },
		{ "fib;dur=1.", "its dur is not" },
		{ "fib;dur=.5", "its dur is not" },
		{ "fib;dur=1e3", "its dur is not" },
		{ "fib;dur=0x10", "its dur is not" },
		{ "fib;dur=\"1\"", "its dur is not" },
		{ "fib;dur=99999999999999999999", "its dur is too large" },
		{ "fib;dur=", "malformed" },
		{ "fib;dur", "malformed" },
		{ "fib dur=1", "malformed" },
		{ "fib;;dur=1", "malformed" },
		{ "fib;dur=1 2", "malformed" },
		{ "fib;desc=\"open", "malformed" },
		{ "fib;desc=\"a\\\"", "malformed" },
		{ "=1", "malformed" },
	};
	uint64_t us;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *why = dur(bad[i].v, &us);

		if (!why)
			fail_msg("'%s' was accepted", bad[i].v);
		if (strncmp(why, bad[i].why, strlen(bad[i].why)))
			fail_msg("'%s': '%s', expected '%s...'", bad[i].v, why,
				 bad[i].why);
		assert_int_equal(us, 424242);
	}
}

/* ---- quoting, random numbers ------------------------------------------- */

static void test_quote(void **state)
{
	char buf[64], big[512];
	char all[256];
	size_t i;

	(void)state;
	assert_string_equal(kw_quote("abc", 3, 60, buf, sizeof(buf)), "abc");
	assert_string_equal(kw_quote("", 0, 60, buf, sizeof(buf)), "");
	assert_string_equal(kw_quote("a\r\n\t\\'\"b", 8, 60, buf, sizeof(buf)),
			    "a\\r\\n\\t\\\\\\'\"b");
	assert_string_equal(kw_quote("\x00\x1f\x7f\xff", 4, 60, buf,
				     sizeof(buf)), "\\x00\\x1f\\x7f\\xff");
	/* only len bytes, NULs included */
	assert_string_equal(kw_quote("ab\0cd", 5, 60, buf, sizeof(buf)),
			    "ab\\x00cd");
	/* cut at about max characters */
	memset(all, 'x', sizeof(all));
	kw_quote(all, 100, 10, buf, sizeof(buf));
	assert_string_equal(buf, "xxxxxxxxxx...");
	kw_quote(all, 10, 10, buf, sizeof(buf));
	assert_string_equal(buf, "xxxxxxxxxx");
	/* or where the buffer ends, whatever max says */
	kw_quote(all, sizeof(all), 1000, buf, 20);
	assert_true(strlen(buf) < 20);
	assert_string_equal(buf + strlen(buf) - 3, "...");
	/* every byte: never more than max + an escape + "..." */
	for (i = 0; i < sizeof(all); i++)
		all[i] = (char)i;
	kw_quote(all, sizeof(all), 200, big, sizeof(big));
	assert_true(strlen(big) <= 200 + 4 + 3);
	for (i = 0; big[i]; i++)
		assert_true(big[i] >= 0x20 && big[i] < 0x7f);
}

static void test_splitmix64(void **state)
{
	uint64_t s = 0;

	(void)state;
	/* the published sequence of splitmix64 from 0 */
	assert_true(kw_splitmix64(&s) == 0xe220a8397b1dcdafULL);
	assert_true(kw_splitmix64(&s) == 0x6e789e6aa1b965f4ULL);
	assert_true(kw_splitmix64(&s) == 0x06c45d188009454fULL);
	s = 42;
	assert_true(kw_splitmix64(&s) == 0xbdd732262feb6e95ULL);
	assert_true(kw_splitmix64(&s) == 0x28efe333b266f103ULL);
}

static void test_random_upto(void **state)
{
	static const uint64_t want42[] = { 152, 313, 959, 562, 475 };
	uint64_t s = 42, t;
	unsigned int seen[8] = { 0 };
	size_t i;

	(void)state;
	for (i = 0; i < 5; i++)
		assert_int_equal(kw_random_upto(&s, 1000), want42[i]);
	s = 1;
	for (i = 0; i < 100; i++)
		assert_int_equal(kw_random_upto(&s, 0), 0);
	for (i = 0; i < 8000; i++)
		seen[kw_random_upto(&s, 7)]++;
	for (i = 0; i < 8; i++)
		assert_true(seen[i] > 800 && seen[i] < 1200);
	/* the whole range: the draw itself */
	s = 5;
	t = 5;
	assert_true(kw_random_upto(&s, UINT64_MAX) == kw_splitmix64(&t));
}

/* ---- messages, options, memory ----------------------------------------- */

/* Run @fn in a child; its stderr into @err, its exit status returned. */
static int in_child(void (*fn)(void), char *err, size_t size)
{
	int pfd[2], status;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	assert_int_equal(pipe(pfd), 0);
	fflush(stdout);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(pfd[0]);
		dup2(pfd[1], 2);
		fn();
		_exit(99);
	}
	close(pfd[1]);
	while (got + 1 < size &&
	       (n = read(pfd[0], err + got, size - 1 - got)) > 0)
		got += (size_t)n;
	err[got] = '\0';
	close(pfd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void child_die(void)
{
	kw_set_prog("kwx", "sub", "kwx help");
	kw_die("bad %s %d", "thing", 7);
}

static void child_fail(void)
{
	kw_set_prog("kwx", "", "kwx -h");
	kw_note("first %d", 1);
	kw_fail("then %s", "this");
}

static void child_next_opt_unknown(void)
{
	char *argv[] = { "sub", "-a", "-z", NULL };

	kw_set_prog("kwx", "sub", "kwx help");
	optind = 1;
	opterr = 0;
	if (kw_next_opt(3, argv, ":ab:") == 'a')
		kw_next_opt(3, argv, ":ab:");
	_exit(0);
}

static void child_next_opt_missing(void)
{
	char *argv[] = { "sub", "-b", NULL };

	kw_set_prog("kwx", "", "kwx -h");
	optind = 1;
	kw_next_opt(2, argv, ":ab:");
	_exit(0);
}

static void child_num_arg(void)
{
	kw_set_prog("kwx", "", "kwx -h");
	kw_num_arg('n', "12x", 1, 10);
}

static void child_num_arg_range(void)
{
	kw_set_prog("kwx", "", "kwx -h");
	kw_num_arg('n', "11", 1, 10);
}

static void child_host_arg(void)
{
	kw_set_prog("kwx", "", "kwx -h");
	kw_host_arg('H', "1.2.3");
}

static void child_port_arg(void)
{
	kw_set_prog("kwx", "", "kwx -h");
	kw_port_arg('p', "65536");
}

static void test_messages(void **state)
{
	char err[512];

	(void)state;
	assert_int_equal(in_child(child_die, err, sizeof(err)), KW_EXIT_USAGE);
	assert_string_equal(err, "kwx sub: bad thing 7\n");
	assert_int_equal(in_child(child_fail, err, sizeof(err)), KW_EXIT_CHECK);
	assert_string_equal(err, "kwx: first 1\nkwx: then this\n");
}

static void test_options(void **state)
{
	char err[512];
	char *argv[] = { "sub", "-a", "-b", "val", "operand", NULL };
	int c;

	(void)state;
	assert_int_equal(in_child(child_next_opt_unknown, err, sizeof(err)),
			 KW_EXIT_USAGE);
	assert_string_equal(err, "kwx sub: unknown option -z (see 'kwx help')\n");
	assert_int_equal(in_child(child_next_opt_missing, err, sizeof(err)),
			 KW_EXIT_USAGE);
	assert_string_equal(err, "kwx: option -b needs a value\n");
	assert_int_equal(in_child(child_num_arg, err, sizeof(err)),
			 KW_EXIT_USAGE);
	assert_string_equal(err, "kwx: invalid -n '12x': expected a number from 1 to 10\n");
	assert_int_equal(in_child(child_num_arg_range, err, sizeof(err)),
			 KW_EXIT_USAGE);
	assert_string_equal(err, "kwx: invalid -n '11': expected a number from 1 to 10\n");
	assert_int_equal(in_child(child_host_arg, err, sizeof(err)),
			 KW_EXIT_USAGE);
	assert_string_equal(err, "kwx: invalid -H '1.2.3': expected an IPv4 address such as 127.0.0.1\n");
	assert_int_equal(in_child(child_port_arg, err, sizeof(err)),
			 KW_EXIT_USAGE);
	assert_string_equal(err, "kwx: invalid -p '65536': expected a port from 1 to 65535\n");

	/* and when all is well, in this process */
	optind = 1;
	assert_int_equal(kw_next_opt(5, argv, ":ab:"), 'a');
	c = kw_next_opt(5, argv, ":ab:");
	assert_int_equal(c, 'b');
	assert_string_equal(optarg, "val");
	assert_int_equal(kw_next_opt(5, argv, ":ab:"), -1);
	assert_int_equal(optind, 4);
	optind = 1;
	assert_int_equal(kw_num_arg('n', "10", 1, 10), 10);
	assert_int_equal(kw_host_arg('H', "10.0.0.1"), 0x0a000001);
	assert_int_equal(kw_port_arg('p', "8080"), 8080);
}

static void test_memory(void **state)
{
	char *s, *p;
	int *v;

	(void)state;
	v = kw_xcalloc(0, 0);	/* never NULL */
	assert_non_null(v);
	free(v);
	v = kw_xcalloc(4, sizeof(*v));
	assert_int_equal(v[0] | v[1] | v[2] | v[3], 0);
	v = kw_xrealloc(v, 1000 * sizeof(*v));
	v[999] = 1;
	free(v);
	s = kw_xasprintf("%s-%d", "a", 12);
	assert_string_equal(s, "a-12");
	free(s);
	p = kw_xrealloc(NULL, 0);
	assert_non_null(p);
	free(p);
}

/* ---- time and sockets --------------------------------------------------- */

static void test_time(void **state)
{
	int64_t ns = kw_now_ns(), us = kw_now_us(), ms = kw_now_ms();

	(void)state;
	assert_true(us >= ns / 1000 && us - ns / 1000 < 1000000);
	assert_true(ms >= ns / 1000000 && ms - ns / 1000000 < 1000);
	assert_true(kw_now_ns() >= ns);
	assert_int_equal(kw_ms_left(ms - 5), 0);
	assert_int_equal(kw_ms_left(0), 0);
	assert_true(kw_ms_left(kw_now_ms() + 10000) > 9000);
	assert_int_equal(kw_ms_left(INT64_MAX / 2), INT_MAX);
	assert_true(kw_again(EAGAIN) && kw_again(EWOULDBLOCK) &&
		    kw_again(EINTR));
	assert_false(kw_again(EPIPE) || kw_again(0));
}

/* A socket listening on 127.0.0.1, its port in *@port. */
static int listener(int *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(0x7f000001);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

static void test_connect_all(void **state)
{
	int port, lfd = listener(&port), fds[3] = { 7, 7, 7 }, bad = -1, i;

	(void)state;
	assert_int_equal(kw_connect_all(0x7f000001, port, kw_now_ms() + 2000,
					fds, 3, &bad), 0);
	for (i = 0; i < 3; i++) {
		int c = accept(lfd, NULL, NULL), on = 0;
		socklen_t len = sizeof(on);

		assert_true(fds[i] >= 0 && c >= 0);
		kw_set_nodelay(fds[i]);
		assert_int_equal(getsockopt(fds[i], IPPROTO_TCP, TCP_NODELAY,
					    &on, &len), 0);
		assert_int_equal(on, 1);
		assert_int_equal(send(fds[i], "x", 1, MSG_NOSIGNAL), 1);
		close(fds[i]);
		close(c);
	}
	close(lfd);
	/* nothing listens there now */
	assert_int_equal(kw_connect_all(0x7f000001, port, kw_now_ms() + 2000,
					fds, 2, &bad), ECONNREFUSED);
	assert_int_equal(bad, 0);
	assert_int_equal(fds[0], -1);
	assert_int_equal(fds[1], -1);
}

static void test_send_all(void **state)
{
	static char big[4 << 20];
	char buf[16];
	size_t sent = 1;
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
				    sv), 0);
	assert_int_equal(kw_send_all(sv[0], "hello", 5, kw_now_ms() + 1000,
				     &sent), 0);
	assert_int_equal(sent, 5);
	assert_int_equal(recv(sv[1], buf, sizeof(buf), 0), 5);
	assert_memory_equal(buf, "hello", 5);
	/* nobody reads: it stops at the deadline */
	assert_int_equal(kw_send_all(sv[0], big, sizeof(big),
				     kw_now_ms() + 100, &sent), ETIMEDOUT);
	assert_true(sent > 0 && sent < sizeof(big));
	/* the peer is gone */
	close(sv[1]);
	assert_int_equal(kw_send_all(sv[0], "x", 1, kw_now_ms() + 100, &sent),
			 EPIPE);
	assert_int_equal(sent, 0);
	close(sv[0]);
}

/* A socket pair: what is written to sv[1] is read by kw_http_read(sv[0]). */
static int sv[2];
static struct kw_http_msg msg;

static int read_setup(void **state)
{
	(void)state;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return -1;
	memset(&msg, 0, sizeof(msg));
	msg.head_max = 1024;
	msg.body_max = 100;
	return 0;
}

static int read_teardown(void **state)
{
	(void)state;
	close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	free(msg.buf);
	return 0;
}

static void put(const char *s)
{
	assert_int_equal(write(sv[1], s, strlen(s)), (ssize_t)strlen(s));
}

static enum kw_read read_ms(int ms)
{
	return kw_http_read(sv[0], &msg, kw_now_ms() + ms);
}

static void test_read_content_length(void **state)
{
	(void)state;
	put("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
	assert_int_equal(read_ms(1000), KW_READ_DONE);
	assert_true(msg.head_done);
	assert_int_equal(msg.r.status, 200);
	assert_int_equal(msg.total, msg.len);
	assert_memory_equal(msg.buf + msg.r.body_off, "hello", 5);
	/* the struct is kept for the next, here with bytes after it */
	put("HTTP/1.1 404 No\r\nContent-Length: 2\r\n\r\nnoEXTRA");
	assert_int_equal(read_ms(1000), KW_READ_DONE);
	assert_int_equal(msg.r.status, 404);
	assert_int_equal(msg.len - msg.total, 5);
	assert_memory_equal(msg.buf + msg.total, "EXTRA", 5);
}

static void test_read_stops_at_the_end(void **state)
{
	char buf[16];

	(void)state;
	/* once the head is in, nothing past the framed end is read */
	put("HTTP/1.1 200 OK\r\nContent-Length: 300\r\n\r\n");
	msg.body_max = 1000;
	assert_int_equal(read_ms(50), KW_READ_TIMEOUT);
	assert_true(msg.head_done);
	assert_int_equal(msg.len, msg.r.body_off);
	{
		char body[300];

		memset(body, 'b', sizeof(body));
		assert_int_equal(write(sv[1], body, sizeof(body)), 300);
	}
	put("NEXT");
	/* a new read starts over: the 300 bytes are not a head */
	assert_int_equal(read_ms(100), KW_READ_MALFORMED);
	assert_int_equal(recv(sv[0], buf, sizeof(buf), MSG_DONTWAIT), -1);
}

static void test_read_pieces(void **state)
{
	static const char r[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
				"Content-Length: 10\r\n\r\n0123456789";
	pid_t pid;
	size_t i;
	int status;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		for (i = 0; i < sizeof(r) - 1; i++) {
			if (write(sv[1], r + i, 1) != 1)
				_exit(1);
			usleep(500);
		}
		_exit(0);
	}
	assert_int_equal(read_ms(5000), KW_READ_DONE);
	assert_int_equal(msg.len, sizeof(r) - 1);
	assert_value(msg.r.content_type, msg.r.content_type_len, "text/plain");
	assert_memory_equal(msg.buf + msg.r.body_off, "0123456789", 10);
	assert_int_equal(waitpid(pid, &status, 0), pid);
}

static void test_read_big_body(void **state)
{
	size_t size = 3 << 20, i;
	pid_t pid;
	int status;

	(void)state;
	msg.body_max = size;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *b = malloc(size);
		int n = snprintf(NULL, 0, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", size);
		char head[128];

		snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", size);
		for (i = 0; i < size; i++)
			b[i] = (char)('0' + i % 10);
		if (write(sv[1], head, (size_t)n) != n)
			_exit(1);
		for (i = 0; i < size;) {
			ssize_t w = write(sv[1], b + i, size - i);

			if (w <= 0)
				_exit(1);
			i += (size_t)w;
		}
		_exit(0);
	}
	assert_int_equal(read_ms(10000), KW_READ_DONE);
	assert_int_equal(msg.total - msg.r.body_off, size);
	assert_true(msg.cap <= msg.len + 65536);
	for (i = 0; i < size; i += 4099)
		assert_int_equal(msg.buf[msg.r.body_off + i], '0' + i % 10);
	/* the head was parsed again after the buffer moved */
	assert_int_equal(msg.r.content_length, (long)size);
	assert_memory_equal(msg.r.status_line, "HTTP/1.1 200 OK", 15);
	assert_int_equal(waitpid(pid, &status, 0), pid);
}

static void test_read_head_and_no_body(void **state)
{
	(void)state;
	msg.head = 1;
	put("HTTP/1.1 200 OK\r\nContent-Length: 55\r\n\r\n");
	assert_int_equal(read_ms(1000), KW_READ_DONE);
	assert_int_equal(msg.total, msg.len);
	assert_int_equal(msg.r.content_length, 55);
	msg.head = 0;
	msg.need_length = 1;
	put("HTTP/1.1 204 No Content\r\n\r\n");
	assert_int_equal(read_ms(1000), KW_READ_DONE);
	assert_int_equal(msg.r.status, 204);
	put("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(read_ms(1000), KW_READ_DONE);
	assert_int_equal(msg.total, msg.r.body_off);
}

static void test_read_until_close(void **state)
{
	(void)state;
	put("HTTP/1.1 400 Bad\r\n\r\nno length");
	shutdown(sv[1], SHUT_WR);
	assert_int_equal(read_ms(1000), KW_READ_DONE);
	assert_int_equal(msg.total, msg.len);
	assert_memory_equal(msg.buf + msg.r.body_off, "no length", 9);
}

static void test_read_need_length(void **state)
{
	(void)state;
	msg.need_length = 1;
	put("HTTP/1.1 200 OK\r\n\r\n55");
	assert_int_equal(read_ms(1000), KW_READ_NO_LENGTH);
	assert_true(msg.head_done);
	assert_int_equal(msg.r.status, 200);
}

static void test_read_body_too_big(void **state)
{
	(void)state;
	/* a Content-Length over the limit: at once, whatever came */
	put("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999\r\n\r\n55");
	assert_int_equal(read_ms(5000), KW_READ_BODY_TOO_BIG);
	assert_int_equal(msg.r.content_length, 99999999999999L);
	assert_int_equal(msg.len - msg.r.body_off, 2);
	/*
	 * to the close: one byte over is enough (a head_max of just the
	 * head, so that the first read takes no more)
	 */
	msg.body_max = 10;
	msg.head_max = 19;
	put("HTTP/1.1 200 OK\r\n\r\n0123456789A and more that is never read");
	assert_int_equal(read_ms(1000), KW_READ_BODY_TOO_BIG);
	assert_int_equal(msg.r.body_off, 19);
	assert_int_equal(msg.len - msg.r.body_off, 11);
	/* and the rest was left unread */
	{
		char rest[64];

		assert_int_equal(recv(sv[0], rest, sizeof(rest), MSG_DONTWAIT),
				 28);
		assert_memory_equal(rest, " and more", 9);
	}
	/* never more than head_max + body_max + 1 in all */
	msg.head_max = 30;
	put("HTTP/1.1 200 OK\r\n\r\n0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ");
	assert_int_equal(read_ms(1000), KW_READ_BODY_TOO_BIG);
	assert_true(msg.len <= 30 + 10 + 1);
}

static void test_read_head_too_big(void **state)
{
	char line[100];
	int i;

	(void)state;
	put("HTTP/1.1 200 OK\r\n");
	memset(line, 'a', sizeof(line));
	memcpy(line, "X-Pad: ", 7);
	line[98] = '\r';
	line[99] = '\n';
	for (i = 0; i < 20; i++)
		assert_int_equal(write(sv[1], line, sizeof(line)), 100);
	assert_int_equal(read_ms(1000), KW_READ_HEAD_TOO_BIG);
	assert_int_equal(msg.len, msg.head_max);
	assert_false(msg.head_done);
}

static void test_read_malformed(void **state)
{
	(void)state;
	put("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n");
	assert_int_equal(read_ms(1000), KW_READ_MALFORMED);
	assert_string_equal(msg.r.error, "Content-Length is not a number");
	put("SSH-2.0\r\n");
	assert_int_equal(read_ms(1000), KW_READ_MALFORMED);
}

static void test_read_eof_and_timeout(void **state)
{
	(void)state;
	put("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel");
	assert_int_equal(read_ms(50), KW_READ_TIMEOUT);
	assert_true(msg.head_done);
	assert_int_equal(msg.len - msg.r.body_off, 3);
	put("HTTP/1.1 200 OK\r\nContent-");
	assert_int_equal(read_ms(50), KW_READ_TIMEOUT);
	assert_false(msg.head_done);
	assert_int_equal(msg.len, 25);
	close(sv[1]);
	sv[1] = -1;
	assert_int_equal(read_ms(1000), KW_READ_EOF);
	assert_int_equal(msg.len, 0);
	assert_string_equal(kw_read_str(KW_READ_EOF, 0),
			    "the server closed the connection");
	assert_string_equal(kw_read_str(KW_READ_TIMEOUT, 0), "timed out");
	assert_string_equal(kw_read_str(KW_READ_ERROR, ECONNRESET),
			    strerror(ECONNRESET));
}

static void test_read_reset(void **state)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int port, lfd = listener(&port), fd, c, bad;

	(void)state;
	assert_int_equal(kw_connect_all(0x7f000001, port, kw_now_ms() + 2000,
					&fd, 1, &bad), 0);
	c = accept(lfd, NULL, NULL);
	assert_true(c >= 0);
	assert_int_equal(write(c, "HTTP/1.1 200 OK\r\n", 17), 17);
	setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(c);
	close(lfd);
	assert_int_equal(kw_http_read(fd, &msg, kw_now_ms() + 2000),
			 KW_READ_ERROR);
	assert_int_equal(msg.err, ECONNRESET);
	close(fd);
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
		cmocka_unit_test(test_http_field_next),
		cmocka_unit_test(test_http_malformed_why),
		cmocka_unit_test(test_timing_good),
		cmocka_unit_test(test_timing_bad),
		cmocka_unit_test(test_quote),
		cmocka_unit_test(test_splitmix64),
		cmocka_unit_test(test_random_upto),
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_memory),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_connect_all),
		cmocka_unit_test(test_send_all),
		cmocka_unit_test_setup_teardown(test_read_content_length,
						read_setup, read_teardown),
		cmocka_unit_test_setup_teardown(test_read_stops_at_the_end,
						read_setup, read_teardown),
		cmocka_unit_test_setup_teardown(test_read_pieces, read_setup,
						read_teardown),
		cmocka_unit_test_setup_teardown(test_read_big_body, read_setup,
						read_teardown),
		cmocka_unit_test_setup_teardown(test_read_head_and_no_body,
						read_setup, read_teardown),
		cmocka_unit_test_setup_teardown(test_read_until_close,
						read_setup, read_teardown),
		cmocka_unit_test_setup_teardown(test_read_need_length,
						read_setup, read_teardown),
		cmocka_unit_test_setup_teardown(test_read_body_too_big,
						read_setup, read_teardown),
		cmocka_unit_test_setup_teardown(test_read_head_too_big,
						read_setup, read_teardown),
		cmocka_unit_test_setup_teardown(test_read_malformed,
						read_setup, read_teardown),
		cmocka_unit_test_setup_teardown(test_read_eof_and_timeout,
						read_setup, read_teardown),
		cmocka_unit_test_setup_teardown(test_read_reset, read_setup,
						read_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
