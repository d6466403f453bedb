// SPDX-License-Identifier: GPL-2.0
/*
 * kwutil.c - growable strings and lists for the blank checker.
 */
#include "kwutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kw_oom(void)
{
	fputs("kwblank: out of memory\n", stderr);
	exit(2);
}

void *kw_alloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);

	if (!p)
		kw_oom();
	return p;
}

void *kw_realloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		kw_oom();
	return p;
}

char *kw_strndup(const char *s, size_t n)
{
	char *d = kw_alloc(n + 1);

	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

char *kw_strdup(const char *s)
{
	return kw_strndup(s, strlen(s));
}

static void buf_reserve(struct kw_buf *b, size_t more)
{
	size_t need = b->len + more + 1;

	if (need <= b->cap)
		return;
	if (b->cap == 0)
		b->cap = 64;
	while (b->cap < need)
		b->cap *= 2;
	b->s = kw_realloc(b->s, b->cap);
}

void kw_buf_addn(struct kw_buf *b, const char *s, size_t n)
{
	buf_reserve(b, n);
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void kw_buf_add(struct kw_buf *b, const char *s)
{
	kw_buf_addn(b, s, strlen(s));
}

void kw_buf_addc(struct kw_buf *b, char c)
{
	kw_buf_addn(b, &c, 1);
}

static void buf_vaddf(struct kw_buf *b, const char *fmt, va_list ap)
{
	va_list aq;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0)
		kw_oom();
	buf_reserve(b, (size_t)n);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void kw_buf_addf(struct kw_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(b, fmt, ap);
	va_end(ap);
}

char *kw_vprintf(const char *fmt, va_list ap)
{
	struct kw_buf b = { 0 };

	buf_vaddf(&b, fmt, ap);
	return kw_buf_take(&b);
}

char *kw_printf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = kw_vprintf(fmt, ap);
	va_end(ap);
	return s;
}

char *kw_buf_take(struct kw_buf *b)
{
	char *s = b->s ? b->s : kw_strdup("");

	b->s = NULL;
	b->len = 0;
	b->cap = 0;
	return s;
}

void kw_buf_free(struct kw_buf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = 0;
	b->cap = 0;
}

void kw_strv_pushn(struct kw_strv *l, const char *s, size_t n)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->v = kw_realloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n++] = kw_strndup(s, n);
}

void kw_strv_push(struct kw_strv *l, const char *s)
{
	kw_strv_pushn(l, s, strlen(s));
}

int kw_strv_has(const struct kw_strv *l, const char *s)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return 1;
	return 0;
}

void kw_strv_free(struct kw_strv *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
	l->cap = 0;
}

char *kw_read_file(const char *path, size_t *len)
{
	struct kw_buf b = { 0 };
	char chunk[8192];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		kw_buf_addn(&b, chunk, n);
	if (ferror(f)) {
		int err = errno;

		fclose(f);
		kw_buf_free(&b);
		errno = err ? err : EIO;
		return NULL;
	}
	fclose(f);
	if (len)
		*len = b.len;
	return kw_buf_take(&b);
}

void kw_split_lines(const char *text, struct kw_strv *lines)
{
	const char *p = text, *nl;

	while (*p) {
		size_t n;

		nl = strchr(p, '\n');
		n = nl ? (size_t)(nl - p) : strlen(p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		kw_strv_pushn(lines, p, n);
		if (!nl)
			break;
		p = nl + 1;
	}
}

/* The length of the valid UTF-8 sequence at s, or 0. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t n, i;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	/* no overlong forms, no surrogates, nothing above U+10FFFF */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

void kw_json_str(struct kw_buf *b, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n;

	kw_buf_addc(b, '"');
	while (*s) {
		unsigned char c = *s;

		if (c == '"' || c == '\\') {
			kw_buf_addc(b, '\\');
			kw_buf_addc(b, (char)c);
			s++;
		} else if (c == '\n') {
			kw_buf_add(b, "\\n");
			s++;
		} else if (c == '\t') {
			kw_buf_add(b, "\\t");
			s++;
		} else if (c < 0x20 || c == 0x7f) {
			kw_buf_addf(b, "\\u%04x", c);
			s++;
		} else if (c < 0x80) {
			kw_buf_addc(b, (char)c);
			s++;
		} else if ((n = utf8_len(s)) > 0) {
			kw_buf_addn(b, (const char *)s, n);
			s += n;
		} else {
			kw_buf_add(b, "\\ufffd");
			s++;
		}
	}
	kw_buf_addc(b, '"');
}

void kw_json_strv(struct kw_buf *b, const struct kw_strv *l)
{
	size_t i;

	kw_buf_addc(b, '[');
	for (i = 0; i < l->n; i++) {
		if (i)
			kw_buf_add(b, ", ");
		kw_json_str(b, l->v[i]);
	}
	kw_buf_addc(b, ']');
}
