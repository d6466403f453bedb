/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kwexpr.h - C expressions as students write them in a blank: tokens, a
 * parser, the canonical (kernel style) form and the findings of the static
 * blank checker about one expression.
 */
#ifndef KWEXPR_H
#define KWEXPR_H

#include <stddef.h>

#include "kwutil.h"

/* ---- tokens ------------------------------------------------------------ */

enum kw_tok_kind {
	KW_T_IDENT,
	KW_T_NUMBER,
	KW_T_CHAR,
	KW_T_STRING,
	KW_T_PUNCT,
	KW_T_BAD,		/* a character C has no use for */
};

struct kw_tok {
	enum kw_tok_kind kind;
	size_t off;		/* where it starts in the text */
	size_t len;
};

struct kw_toks {
	struct kw_tok *v;
	size_t n;
	size_t cap;
	int block_comment;	/* the text holds a comment */
	int line_comment;	/* ... a // comment */
	int unterminated;	/* a comment, string or character constant */
};

/* Split text (len bytes) into C tokens; comments and white space go. */
void kw_lex(const char *text, size_t len, struct kw_toks *out);
void kw_toks_free(struct kw_toks *t);
/* Does token t of text spell s? */
int kw_tok_is(const char *text, const struct kw_tok *t, const char *s);

/* ---- binding levels ---------------------------------------------------- */

/*
 * How tightly an expression binds, from the C grammar: 1 comma, 2
 * assignment, 3 conditional, 4 ||, 5 &&, 6 |, 7 ^, 8 &, 9 equality,
 * 10 relational, 11 shift, 12 additive, 13 multiplicative, 14 unary and
 * cast, 15 postfix and primary. A position in code demands a level: an
 * expression binding less tightly needs parentheses there.
 */
enum {
	KW_LEVEL_COMMA = 1,
	KW_LEVEL_FULL = 2,	/* an argument, an initializer, a condition */
	KW_LEVEL_UNARY = 14,
	KW_LEVEL_POSTFIX = 15,
};

/*
 * The level demanded by the slot at token index slot of a line's tokens
 * (the slot token itself is what the expression replaces).
 */
int kw_slot_level(const char *text, const struct kw_toks *t, size_t slot);

/* ---- analysis ---------------------------------------------------------- */

enum kw_kind {
	KW_SYNTAX,		/* not a single C expression */
	KW_PRECEDENCE,		/* needs parentheses where it stands */
	KW_STYLE,		/* not in its canonical kernel form */
	KW_MINIMAL,		/* redundant parentheses, needless casts, ... */
	KW_RULE,		/* breaks a rule of the stage's blanks.rules */
	KW_MISSING,		/* the blank is not answered or not found */
	KW_NOTICE,		/* for information; not a violation */
};

const char *kw_kind_name(enum kw_kind k);

struct kw_finding {
	enum kw_kind kind;
	char *text;
};

struct kw_findings {
	struct kw_finding *v;
	size_t n;
	size_t cap;
};

void kw_add(struct kw_findings *f, enum kw_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void kw_findings_free(struct kw_findings *f);

struct kw_analysis {
	char *canon;		/* canonical form; NULL when it does not parse */
	char *flat;		/* the text, white space runs made one space */
	int level;		/* how tightly it binds (0 if it does not parse) */
	struct kw_strv idents;	/* every identifier, in order */
	struct kw_strv calls;	/* identifiers followed by '(' */
	struct kw_findings findings;
};

/*
 * Analyze one blank's expression for a slot demanding level: whether it is
 * one C expression, its canonical form, whether it needs parentheses there,
 * and its non-minimal forms. Kernel style (text against canonical form) is
 * left to the caller, which knows the line around it.
 */
void kw_analyze(const char *text, int level, struct kw_analysis *a);
void kw_analysis_free(struct kw_analysis *a);

/* ---- one expression, and nothing that could smuggle in more ------------- */

#define KW_ANSWER_MAX	200	/* characters in an answers file's answer */

/*
 * Is text anything but one C expression, by what it holds: a statement
 * expression, braces, ';', a comment, '#', a backslash outside a literal,
 * a comma at the top level, unbalanced parentheses or brackets, GNU asm,
 * _Pragma, __attribute__, a statement keyword, a digraph or trigraph, an
 * unterminated literal, a byte that is not printable ASCII (tab aside),
 * or (answers set: an answers file's answer) more than KW_ANSWER_MAX
 * characters. Literals are lexed as the compiler does, so that a quote
 * cannot hide any of these. Returns 0, or 1 with why set to a short
 * reason ("statement expression '({'") the caller frees.
 */
int kw_not_expression(const char *text, int answers, char **why);

#endif /* KWEXPR_H */
