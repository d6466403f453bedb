/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kwutil.h - growable strings and lists for the blank checker.
 *
 * Allocation failure ends the program (kw_oom()): the checker is a short
 * lived command-line tool and has nothing sensible to fall back to.
 */
#ifndef KWUTIL_H
#define KWUTIL_H

#include <stdarg.h>
#include <stddef.h>

/* A NUL-terminated string that grows as text is appended. */
struct kw_buf {
	char *s;
	size_t len;
	size_t cap;
};

void kw_buf_add(struct kw_buf *b, const char *s);
void kw_buf_addn(struct kw_buf *b, const char *s, size_t n);
void kw_buf_addc(struct kw_buf *b, char c);
void kw_buf_addf(struct kw_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The string, never NULL; ownership passes to the caller. */
char *kw_buf_take(struct kw_buf *b);
void kw_buf_free(struct kw_buf *b);

/* A list of owned strings. */
struct kw_strv {
	char **v;
	size_t n;
	size_t cap;
};

void kw_strv_push(struct kw_strv *l, const char *s);
void kw_strv_pushn(struct kw_strv *l, const char *s, size_t n);
int kw_strv_has(const struct kw_strv *l, const char *s);
void kw_strv_free(struct kw_strv *l);

void *kw_alloc(size_t n);
void *kw_realloc(void *p, size_t n);
char *kw_strdup(const char *s);
char *kw_strndup(const char *s, size_t n);
char *kw_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *kw_vprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
void kw_oom(void) __attribute__((noreturn));

/* Read a whole file; NULL (errno set) if it cannot be read. */
char *kw_read_file(const char *path, size_t *len);

/* Split text into lines (without their "\n" or "\r\n"). */
void kw_split_lines(const char *text, struct kw_strv *lines);

/*
 * Append s as a JSON string, quotes included: '"', '\\' and control
 * characters escaped, valid UTF-8 kept as it is, any other byte (text from
 * a submission need not be UTF-8) written as U+FFFD.
 */
void kw_json_str(struct kw_buf *b, const char *s);
/* Append a JSON list of the strings. */
void kw_json_strv(struct kw_buf *b, const struct kw_strv *l);

#endif /* KWUTIL_H */
