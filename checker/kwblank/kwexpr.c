// SPDX-License-Identifier: GPL-2.0
/*
 * kwexpr.c - C expressions as students write them in a blank.
 *
 * The parser knows the C expression grammar (with the GNU "a ?: b") and
 * enough of type names for casts, sizeof, compound literals and macros
 * taking a type (container_of(ptr, struct foo, member)). Without the
 * program's declarations, "(name)x" is read as a cast when name is a known
 * type or a typedef ending in _t, or when what follows can only start an
 * operand.
 *
 * The canonical form is the expression printed back in kernel style: one
 * space around binary operators, none after unary ones or inside
 * parentheses, ", " between arguments, "(type)x" casts, sizeof(x).
 * Parentheses the student wrote are kept (whether they are needed is a
 * separate finding), comments are dropped.
 */
#include "kwexpr.h"

#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- tokens ------------------------------------------------------------ */

static const char *const puncts[] = {
	"...", "<<=", ">>=",
	"->", "++", "--", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||",
	"*=", "/=", "%=", "+=", "-=", "&=", "^=", "|=", "##",
	"[", "]", "(", ")", "{", "}", ".", "&", "*", "+", "-", "~", "!",
	"/", "%", "<", ">", "^", "|", "?", ":", ";", "=", ",", "#",
};

static void push_tok(struct kw_toks *t, enum kw_tok_kind kind, size_t off,
		     size_t len)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 32;
		t->v = kw_realloc(t->v, t->cap * sizeof(*t->v));
	}
	t->v[t->n].kind = kind;
	t->v[t->n].off = off;
	t->v[t->n].len = len;
	t->n++;
}

static int ident_start(char c)
{
	return isalpha((unsigned char)c) || c == '_';
}

static int ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* A quoted literal from s[i] (the quote); returns the index after it. */
static size_t lex_quoted(const char *s, size_t len, size_t i, int *bad)
{
	char q = s[i++];

	while (i < len && s[i] != q && s[i] != '\n') {
		if (s[i] == '\\' && i + 1 < len)
			i++;
		i++;
	}
	if (i >= len || s[i] != q) {
		*bad = 1;
		return i;
	}
	return i + 1;
}

void kw_lex(const char *s, size_t len, struct kw_toks *t)
{
	size_t i = 0, j, k;

	while (i < len) {
		char c = s[i];

		if (isspace((unsigned char)c)) {
			i++;
		} else if (c == '/' && i + 1 < len && s[i + 1] == '*') {
			t->block_comment = 1;
			for (j = i + 2; j + 1 < len; j++)
				if (s[j] == '*' && s[j + 1] == '/')
					break;
			if (j + 1 >= len) {
				t->unterminated = 1;
				return;
			}
			i = j + 2;
		} else if (c == '/' && i + 1 < len && s[i + 1] == '/') {
			t->line_comment = 1;
			while (i < len && s[i] != '\n')
				i++;
		} else if (ident_start(c)) {
			for (j = i; j < len && ident_char(s[j]); j++)
				;
			/* L'x', u"x", u8"x": a prefix of the literal. */
			if (j < len && (s[j] == '\'' || s[j] == '"') &&
			    ((j - i == 1 && strchr("LuU", c)) ||
			     (j - i == 2 && c == 'u' && s[i + 1] == '8'))) {
				k = lex_quoted(s, len, j, &t->unterminated);
				push_tok(t, s[j] == '"' ? KW_T_STRING : KW_T_CHAR,
					 i, k - i);
				i = k;
				continue;
			}
			push_tok(t, KW_T_IDENT, i, j - i);
			i = j;
		} else if (isdigit((unsigned char)c) ||
			   (c == '.' && i + 1 < len &&
			    isdigit((unsigned char)s[i + 1]))) {
			for (j = i + 1; j < len; j++) {
				if (ident_char(s[j]) || s[j] == '.')
					continue;
				if ((s[j] == '+' || s[j] == '-') &&
				    strchr("eEpP", s[j - 1]))
					continue;
				break;
			}
			push_tok(t, KW_T_NUMBER, i, j - i);
			i = j;
		} else if (c == '\'' || c == '"') {
			k = lex_quoted(s, len, i, &t->unterminated);
			push_tok(t, c == '"' ? KW_T_STRING : KW_T_CHAR, i, k - i);
			i = k;
		} else {
			size_t p, n = 0;

			for (p = 0; p < ARRAY_SIZE(puncts); p++) {
				n = strlen(puncts[p]);
				if (n <= len - i && memcmp(s + i, puncts[p], n) == 0)
					break;
			}
			if (p == ARRAY_SIZE(puncts)) {
				push_tok(t, KW_T_BAD, i, 1);
				i++;
			} else {
				push_tok(t, KW_T_PUNCT, i, n);
				i += n;
			}
		}
	}
}

void kw_toks_free(struct kw_toks *t)
{
	free(t->v);
	memset(t, 0, sizeof(*t));
}

int kw_tok_is(const char *text, const struct kw_tok *t, const char *s)
{
	size_t n = strlen(s);

	return t->len == n && memcmp(text + t->off, s, n) == 0;
}

/* ---- words ------------------------------------------------------------- */

static int in_list(const char *w, size_t n, const char *const *list,
		   size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		if (strlen(list[i]) == n && memcmp(list[i], w, n) == 0)
			return 1;
	return 0;
}

#define IN(w, n, list) in_list(w, n, list, ARRAY_SIZE(list))

static const char *const type_keywords[] = {
	"void", "char", "short", "int", "long", "float", "double", "signed",
	"unsigned", "_Bool", "bool", "struct", "union", "enum", "const",
	"volatile", "restrict", "__restrict", "_Atomic", "typeof",
	"__typeof__", "__typeof", "__user", "__kernel", "__iomem", "__force",
	"__rcu", "__percpu", "__bitwise",
};

/* Kernel and C typedefs a cast may name (besides any name ending in _t). */
static const char *const type_names[] = {
	"u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64",
	"__u8", "__u16", "__u32", "__u64", "__s8", "__s16", "__s32", "__s64",
	"__be16", "__be32", "__be64", "__le16", "__le32", "__le64",
	"__sum16", "__wsum", "__poll_t",
};

static const char *const qualifiers[] = {
	"const", "volatile", "restrict", "__restrict", "_Atomic", "__user",
	"__kernel", "__iomem", "__force", "__rcu", "__percpu",
};

static const char *const statement_words[] = {
	"if", "else", "for", "while", "do", "switch", "case", "default",
	"return", "goto", "break", "continue", "static", "extern", "auto",
	"register", "typedef", "inline", "asm", "__asm__",
};

static int is_type_word(const char *w, size_t n)
{
	if (IN(w, n, type_keywords) || IN(w, n, type_names))
		return 1;
	return n > 2 && w[n - 2] == '_' && w[n - 1] == 't';
}

/* Macros that hand back a pointer of the right type already. */
static const char *const typed_macros[] = {
	"container_of", "container_of_const", "list_entry",
	"list_first_entry", "list_last_entry", "list_next_entry",
	"list_prev_entry", "list_first_entry_or_null", "hlist_entry",
	"hlist_entry_safe", "rb_entry", "rb_entry_safe", "from_timer",
	"from_tasklet", "from_work",
};

/* Allocators returning void *, which converts without a cast. */
static const char *const allocators[] = {
	"kmalloc", "kzalloc", "kcalloc", "kmalloc_array", "krealloc",
	"kmalloc_node", "kzalloc_node", "kvmalloc", "kvzalloc", "kvcalloc",
	"kvmalloc_array", "vmalloc", "vzalloc", "kmem_cache_alloc",
	"kmem_cache_zalloc", "devm_kmalloc", "devm_kzalloc", "devm_kcalloc",
	"kmemdup",
};

/* ---- findings ---------------------------------------------------------- */

const char *kw_kind_name(enum kw_kind k)
{
	static const char *const names[] = {
		[KW_SYNTAX] = "syntax",
		[KW_PRECEDENCE] = "precedence",
		[KW_STYLE] = "style",
		[KW_MINIMAL] = "minimal",
		[KW_RULE] = "rule",
		[KW_MISSING] = "missing",
		[KW_NOTICE] = "notice",
	};

	return (size_t)k < ARRAY_SIZE(names) ? names[k] : "?";
}

void kw_add(struct kw_findings *f, enum kw_kind kind, const char *fmt, ...)
{
	struct kw_buf b = { 0 };
	va_list ap;

	va_start(ap, fmt);
	b.s = kw_vprintf(fmt, ap);
	va_end(ap);
	/* one finding, one line */
	for (b.len = 0; b.s[b.len]; b.len++)
		if (b.s[b.len] == '\n' || b.s[b.len] == '\r' || b.s[b.len] == '\t')
			b.s[b.len] = ' ';
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 8;
		f->v = kw_realloc(f->v, f->cap * sizeof(*f->v));
	}
	f->v[f->n].kind = kind;
	f->v[f->n].text = b.s;
	f->n++;
}

void kw_findings_free(struct kw_findings *f)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		free(f->v[i].text);
	free(f->v);
	memset(f, 0, sizeof(*f));
}

/* ---- syntax tree ------------------------------------------------------- */

enum node_kind {
	N_IDENT,	/* text */
	N_LITERAL,	/* number or character constant: text */
	N_STRING,	/* adjacent string literals and macros: args */
	N_PAREN,	/* (a) */
	N_CALL,		/* a(args) */
	N_INDEX,	/* a[b] */
	N_MEMBER,	/* a.text, a->text (op) */
	N_POSTFIX,	/* a++, a-- */
	N_UNARY,	/* op a */
	N_SIZEOF,	/* op (sizeof or _Alignof) a, or op(text) for a type */
	N_CAST,		/* (text)a */
	N_COMPOUND,	/* (text)a, a an N_INIT */
	N_INIT,		/* { args } */
	N_DESIG,	/* text = a: designator and value */
	N_TYPE,		/* a type name given to a macro: text */
	N_BINARY,	/* a op b, assignments and the comma included */
	N_COND,		/* a ? b : c; b is NULL for a ?: c */
};

struct node {
	enum node_kind kind;
	const char *op;
	char *text;
	struct node *a, *b, *c;
	struct node **args;
	size_t nargs;
};

struct parser {
	const char *src;
	const struct kw_toks *t;
	size_t i;
	struct node **nodes;	/* every node, to free them */
	size_t nnodes, cap;
	char **texts;		/* every text, likewise */
	size_t ntexts, tcap;
	jmp_buf fail;
	char err[200];
};

static struct node *new_node(struct parser *p, enum node_kind kind)
{
	struct node *n = kw_alloc(sizeof(*n));

	if (p->nnodes == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 32;
		p->nodes = kw_realloc(p->nodes, p->cap * sizeof(*p->nodes));
	}
	p->nodes[p->nnodes++] = n;
	n->kind = kind;
	return n;
}

static char *keep_text(struct parser *p, char *s)
{
	if (p->ntexts == p->tcap) {
		p->tcap = p->tcap ? p->tcap * 2 : 32;
		p->texts = kw_realloc(p->texts, p->tcap * sizeof(*p->texts));
	}
	p->texts[p->ntexts++] = s;
	return s;
}

static void add_arg(struct node *n, struct node *arg)
{
	n->args = kw_realloc(n->args, (n->nargs + 1) * sizeof(*n->args));
	n->args[n->nargs++] = arg;
}

static void parser_free(struct parser *p)
{
	size_t i;

	for (i = 0; i < p->nnodes; i++) {
		free(p->nodes[i]->args);
		free(p->nodes[i]);
	}
	for (i = 0; i < p->ntexts; i++)
		free(p->texts[i]);
	free(p->nodes);
	free(p->texts);
}

static const struct kw_tok *peek_at(struct parser *p, size_t k)
{
	return p->i + k < p->t->n ? &p->t->v[p->i + k] : NULL;
}

static const struct kw_tok *peek(struct parser *p)
{
	return peek_at(p, 0);
}

static int is_at(struct parser *p, size_t k, const char *s)
{
	const struct kw_tok *t = peek_at(p, k);

	return t && t->kind == KW_T_PUNCT && kw_tok_is(p->src, t, s);
}

static int is(struct parser *p, const char *s)
{
	return is_at(p, 0, s);
}

static char *tok_text(struct parser *p, const struct kw_tok *t)
{
	return keep_text(p, kw_strndup(p->src + t->off, t->len));
}

static void __attribute__((noreturn, format(printf, 2, 3)))
fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->err, sizeof(p->err), fmt, ap);
	va_end(ap);
	longjmp(p->fail, 1);
}

/* "unexpected ')' at column 7" or "unexpected end" */
static void __attribute__((noreturn)) unexpected(struct parser *p)
{
	const struct kw_tok *t = peek(p);

	if (!t)
		fail(p, "it ends too early");
	fail(p, "unexpected '%.*s' at column %zu", (int)t->len, p->src + t->off,
	     t->off + 1);
}

static void expect(struct parser *p, const char *s)
{
	if (!is(p, s))
		unexpected(p);
	p->i++;
}

static int word_at(struct parser *p, size_t k, const char *const *list,
		   size_t count)
{
	const struct kw_tok *t = peek_at(p, k);

	return t && t->kind == KW_T_IDENT &&
	       in_list(p->src + t->off, t->len, list, count);
}

static int type_word_at(struct parser *p, size_t k)
{
	const struct kw_tok *t = peek_at(p, k);

	return t && t->kind == KW_T_IDENT && is_type_word(p->src + t->off, t->len);
}

static struct node *parse_expr(struct parser *p);
static struct node *parse_assign(struct parser *p);
static struct node *parse_cast(struct parser *p);
static struct node *parse_unary(struct parser *p);
static void print_node(struct kw_buf *b, const struct node *n);

/*
 * A type name: specifiers, then pointers with their qualifiers, then
 * array bounds. Returns its canonical text, or NULL (nothing consumed)
 * when the tokens do not start one. Unknown names are types only when
 * first_unknown allows it (the cast heuristic).
 */
static char *parse_type_name(struct parser *p, int first_unknown)
{
	struct kw_buf b = { 0 };
	size_t start = p->i;
	int words = 0, base = 0;
	const struct kw_tok *t;

	for (;;) {
		t = peek(p);
		if (!t || t->kind != KW_T_IDENT)
			break;
		if (word_at(p, 0, (const char *const[]){ "struct", "union", "enum" }, 3)) {
			const struct kw_tok *tag = peek_at(p, 1);

			if (!tag || tag->kind != KW_T_IDENT)
				fail(p, "a struct, union or enum without a name");
			kw_buf_addf(&b, "%s%.*s %.*s", words ? " " : "",
				    (int)t->len, p->src + t->off,
				    (int)tag->len, p->src + tag->off);
			p->i += 2;
			base = 1;
		} else if (word_at(p, 0, (const char *const[]){ "typeof", "__typeof__", "__typeof" }, 3)) {
			struct kw_buf in = { 0 };
			struct node *e;
			char *ty;

			p->i++;
			expect(p, "(");
			ty = parse_type_name(p, 0);
			if (ty) {
				kw_buf_add(&in, ty);
			} else {
				e = parse_expr(p);
				print_node(&in, e);
			}
			expect(p, ")");
			kw_buf_addf(&b, "%s%.*s(%s)", words ? " " : "",
				    (int)t->len, p->src + t->off, in.s);
			kw_buf_free(&in);
			base = 1;
		} else if (is_type_word(p->src + t->off, t->len) ||
			   (first_unknown && words == 0)) {
			if (!IN(p->src + t->off, t->len, qualifiers) &&
			    !IN(p->src + t->off, t->len, type_keywords) && base)
				break;	/* a second typedef name: not a type */
			kw_buf_addf(&b, "%s%.*s", words ? " " : "", (int)t->len,
				    p->src + t->off);
			if (!IN(p->src + t->off, t->len, qualifiers))
				base = 1;
			p->i++;
		} else {
			break;
		}
		words++;
	}
	if (!base) {
		p->i = start;
		kw_buf_free(&b);
		return NULL;
	}
	if (is(p, "*"))
		kw_buf_addc(&b, ' ');
	while (is(p, "*")) {
		p->i++;
		kw_buf_addc(&b, '*');
		while (word_at(p, 0, qualifiers, ARRAY_SIZE(qualifiers))) {
			t = peek(p);
			kw_buf_addn(&b, p->src + t->off, t->len);
			p->i++;
			if (is(p, "*") || word_at(p, 0, qualifiers, ARRAY_SIZE(qualifiers)))
				kw_buf_addc(&b, ' ');
		}
	}
	while (is(p, "[")) {
		p->i++;
		kw_buf_addc(&b, '[');
		if (!is(p, "]"))
			print_node(&b, parse_expr(p));
		expect(p, "]");
		kw_buf_addc(&b, ']');
	}
	if (is(p, "(") && is_at(p, 1, "*"))
		fail(p, "function pointer types are beyond this checker; "
		     "use a typedef");
	return keep_text(p, kw_buf_take(&b));
}

/* After "(" ... ")", can only an operand follow (so it was a cast)? */
static int starts_operand_only(struct parser *p, size_t k)
{
	const struct kw_tok *t = peek_at(p, k);

	if (!t)
		return 0;
	if (t->kind == KW_T_IDENT || t->kind == KW_T_NUMBER ||
	    t->kind == KW_T_CHAR || t->kind == KW_T_STRING)
		return 1;
	return is_at(p, k, "!") || is_at(p, k, "~");
}

/* { .a = 1, [2] = x, y } */
static struct node *parse_init(struct parser *p)
{
	struct node *n = new_node(p, N_INIT);

	expect(p, "{");
	while (!is(p, "}")) {
		struct kw_buf d = { 0 };
		struct node *v;

		while (is(p, ".") || is(p, "[")) {
			if (is(p, ".")) {
				const struct kw_tok *t = peek_at(p, 1);

				if (!t || t->kind != KW_T_IDENT) {
					p->i++;
					unexpected(p);
				}
				kw_buf_addf(&d, ".%.*s", (int)t->len, p->src + t->off);
				p->i += 2;
			} else {
				p->i++;
				kw_buf_addc(&d, '[');
				print_node(&d, parse_assign(p));
				expect(p, "]");
				kw_buf_addc(&d, ']');
			}
		}
		if (d.len) {
			expect(p, "=");
			v = new_node(p, N_DESIG);
			v->text = keep_text(p, kw_buf_take(&d));
			v->a = is(p, "{") ? parse_init(p) : parse_assign(p);
		} else {
			v = is(p, "{") ? parse_init(p) : parse_assign(p);
		}
		add_arg(n, v);
		if (!is(p, ","))
			break;
		p->i++;
	}
	expect(p, "}");
	return n;
}

static struct node *parse_primary(struct parser *p)
{
	const struct kw_tok *t = peek(p);
	struct node *n;

	if (!t)
		unexpected(p);
	switch (t->kind) {
	case KW_T_IDENT:
		if (IN(p->src + t->off, t->len, statement_words))
			fail(p, "'%.*s' is a statement keyword: a blank holds an expression",
			     (int)t->len, p->src + t->off);
		if (IN(p->src + t->off, t->len, type_keywords))
			fail(p, "type name '%.*s' where a value belongs",
			     (int)t->len, p->src + t->off);
		if (peek_at(p, 1) && peek_at(p, 1)->kind == KW_T_STRING)
			break;	/* KERN_INFO "text": a string */
		p->i++;
		n = new_node(p, N_IDENT);
		n->text = tok_text(p, t);
		return n;
	case KW_T_NUMBER:
	case KW_T_CHAR:
		p->i++;
		n = new_node(p, N_LITERAL);
		n->text = tok_text(p, t);
		return n;
	case KW_T_STRING:
		break;
	case KW_T_PUNCT:
		if (kw_tok_is(p->src, t, "(")) {
			if (is_at(p, 1, "{"))
				fail(p, "a statement expression '({ ... })' is not a plain expression");
			p->i++;
			n = new_node(p, N_PAREN);
			n->a = parse_expr(p);
			expect(p, ")");
			return n;
		}
		unexpected(p);
	default:
		unexpected(p);
	}
	/* Adjacent strings, and macros between them, are one string. */
	n = new_node(p, N_STRING);
	for (;;) {
		struct node *piece;

		t = peek(p);
		if (!t || (t->kind != KW_T_STRING && t->kind != KW_T_IDENT))
			break;
		if (t->kind == KW_T_IDENT) {
			const struct kw_tok *next = peek_at(p, 1);

			/* an identifier continues the string only before one */
			if (!next || next->kind != KW_T_STRING)
				break;
		}
		piece = new_node(p, N_LITERAL);
		piece->text = tok_text(p, t);
		add_arg(n, piece);
		p->i++;
	}
	return n;
}

static struct node *parse_postfix(struct parser *p)
{
	struct node *n = parse_primary(p), *m;
	const struct kw_tok *t;

	for (;;) {
		if (is(p, "[")) {
			p->i++;
			m = new_node(p, N_INDEX);
			m->a = n;
			m->b = parse_expr(p);
			expect(p, "]");
		} else if (is(p, "(")) {
			p->i++;
			m = new_node(p, N_CALL);
			m->a = n;
			while (!is(p, ")")) {
				size_t save = p->i;
				char *ty = NULL;

				/* A macro argument may be a type name. */
				if (type_word_at(p, 0))
					ty = parse_type_name(p, 0);
				if (ty && (is(p, ",") || is(p, ")"))) {
					struct node *a = new_node(p, N_TYPE);

					a->text = ty;
					add_arg(m, a);
				} else {
					p->i = save;
					add_arg(m, parse_assign(p));
				}
				if (!is(p, ","))
					break;
				p->i++;
			}
			expect(p, ")");
		} else if (is(p, ".") || is(p, "->")) {
			m = new_node(p, N_MEMBER);
			m->op = is(p, ".") ? "." : "->";
			p->i++;
			t = peek(p);
			if (!t || t->kind != KW_T_IDENT)
				unexpected(p);
			m->a = n;
			m->text = tok_text(p, t);
			p->i++;
		} else if (is(p, "++") || is(p, "--")) {
			m = new_node(p, N_POSTFIX);
			m->op = is(p, "++") ? "++" : "--";
			m->a = n;
			p->i++;
		} else {
			return n;
		}
		n = m;
	}
}

static struct node *parse_unary(struct parser *p)
{
	static const char *const ops[] = { "++", "--", "&", "*", "+", "-", "~", "!" };
	struct node *n;
	size_t k;

	for (k = 0; k < ARRAY_SIZE(ops); k++) {
		if (is(p, ops[k])) {
			p->i++;
			n = new_node(p, N_UNARY);
			n->op = ops[k];
			n->a = parse_cast(p);
			return n;
		}
	}
	if (is(p, "&&"))
		fail(p, "'&&label' (a label's address) is not for a blank");
	if (word_at(p, 0, (const char *const[]){ "sizeof", "_Alignof", "alignof", "__alignof__" }, 4)) {
		const struct kw_tok *t = peek(p);

		n = new_node(p, N_SIZEOF);
		n->op = tok_text(p, t);
		p->i++;
		if (is(p, "(")) {
			size_t save = p->i;
			char *ty;

			p->i++;
			ty = parse_type_name(p, 0);
			if (ty && is(p, ")")) {
				p->i++;
				if (is(p, "{")) {
					/* sizeof (struct foo){ ... } */
					struct node *c = new_node(p, N_COMPOUND);

					c->text = ty;
					c->a = parse_init(p);
					n->a = c;
				} else {
					n->text = ty;
				}
				return n;
			}
			p->i = save;
		}
		n->a = parse_unary(p);
		return n;
	}
	return parse_postfix(p);
}

static struct node *parse_cast(struct parser *p)
{
	size_t save = p->i;
	char *ty = NULL;
	struct node *n;

	if (!is(p, "("))
		return parse_unary(p);
	p->i++;
	if (type_word_at(p, 0)) {
		ty = parse_type_name(p, 0);
	} else if (peek(p) && peek(p)->kind == KW_T_IDENT && is_at(p, 1, ")") &&
		   starts_operand_only(p, 2)) {
		/* (name)x: name can only be a typedef'd type. */
		ty = parse_type_name(p, 1);
	}
	if (!ty || !is(p, ")")) {
		p->i = save;
		return parse_unary(p);
	}
	p->i++;
	if (is(p, "{")) {
		n = new_node(p, N_COMPOUND);
		n->text = ty;
		n->a = parse_init(p);
		/* a compound literal is a postfix expression: (T){ }.x */
		if (is(p, ".") || is(p, "->") || is(p, "["))
			fail(p, "a member of a compound literal is beyond this checker");
		return n;
	}
	n = new_node(p, N_CAST);
	n->text = ty;
	n->a = parse_cast(p);
	return n;
}

struct binop {
	const char *op;
	int level;
};

static const struct binop binops[] = {
	{ "||", 4 }, { "&&", 5 }, { "|", 6 }, { "^", 7 }, { "&", 8 },
	{ "==", 9 }, { "!=", 9 }, { "<", 10 }, { ">", 10 }, { "<=", 10 },
	{ ">=", 10 }, { "<<", 11 }, { ">>", 11 }, { "+", 12 }, { "-", 12 },
	{ "*", 13 }, { "/", 13 }, { "%", 13 },
};

static const char *const assign_ops[] = {
	"=", "*=", "/=", "%=", "+=", "-=", "<<=", ">>=", "&=", "^=", "|=",
};

static int binop_level(const char *text, const struct kw_tok *t,
		       const char **op)
{
	size_t k;

	if (!t || t->kind != KW_T_PUNCT)
		return 0;
	for (k = 0; k < ARRAY_SIZE(binops); k++) {
		if (kw_tok_is(text, t, binops[k].op)) {
			if (op)
				*op = binops[k].op;
			return binops[k].level;
		}
	}
	return 0;
}

static struct node *parse_binary(struct parser *p, int min)
{
	struct node *l = parse_cast(p), *n;
	const char *op;
	int lv;

	while ((lv = binop_level(p->src, peek(p), &op)) >= min) {
		p->i++;
		n = new_node(p, N_BINARY);
		n->op = op;
		n->a = l;
		n->b = parse_binary(p, lv + 1);
		l = n;
	}
	return l;
}

static struct node *parse_cond(struct parser *p)
{
	struct node *c = parse_binary(p, 4), *n;

	if (!is(p, "?"))
		return c;
	p->i++;
	n = new_node(p, N_COND);
	n->a = c;
	if (!is(p, ":"))
		n->b = parse_expr(p);
	expect(p, ":");
	n->c = parse_cond(p);
	return n;
}

static struct node *parse_assign(struct parser *p)
{
	struct node *l = parse_cond(p), *n;
	size_t k;

	for (k = 0; k < ARRAY_SIZE(assign_ops); k++) {
		if (is(p, assign_ops[k])) {
			p->i++;
			n = new_node(p, N_BINARY);
			n->op = assign_ops[k];
			n->a = l;
			n->b = parse_assign(p);
			return n;
		}
	}
	return l;
}

static struct node *parse_expr(struct parser *p)
{
	struct node *l = parse_assign(p), *n;

	while (is(p, ",")) {
		p->i++;
		n = new_node(p, N_BINARY);
		n->op = ",";
		n->a = l;
		n->b = parse_assign(p);
		l = n;
	}
	return l;
}

static int is_assign_op(const char *op)
{
	return in_list(op, strlen(op), assign_ops, ARRAY_SIZE(assign_ops));
}

/* How tightly a node binds (see kwexpr.h). */
static int node_level(const struct node *n)
{
	size_t k;

	switch (n->kind) {
	case N_BINARY:
		if (strcmp(n->op, ",") == 0)
			return 1;
		if (is_assign_op(n->op))
			return 2;
		for (k = 0; k < ARRAY_SIZE(binops); k++)
			if (strcmp(binops[k].op, n->op) == 0)
				return binops[k].level;
		return 2;
	case N_COND:
		return 3;
	case N_UNARY:
	case N_SIZEOF:
	case N_CAST:
		return 14;
	default:
		return 15;
	}
}

/* ---- canonical form ---------------------------------------------------- */

static void print_node(struct kw_buf *b, const struct node *n)
{
	size_t k, mark;

	switch (n->kind) {
	case N_IDENT:
	case N_LITERAL:
	case N_TYPE:
		kw_buf_add(b, n->text);
		break;
	case N_STRING:
		for (k = 0; k < n->nargs; k++) {
			if (k)
				kw_buf_addc(b, ' ');
			kw_buf_add(b, n->args[k]->text);
		}
		break;
	case N_PAREN:
		kw_buf_addc(b, '(');
		print_node(b, n->a);
		kw_buf_addc(b, ')');
		break;
	case N_CALL:
		print_node(b, n->a);
		kw_buf_addc(b, '(');
		for (k = 0; k < n->nargs; k++) {
			if (k)
				kw_buf_add(b, ", ");
			print_node(b, n->args[k]);
		}
		kw_buf_addc(b, ')');
		break;
	case N_INDEX:
		print_node(b, n->a);
		kw_buf_addc(b, '[');
		print_node(b, n->b);
		kw_buf_addc(b, ']');
		break;
	case N_MEMBER:
		print_node(b, n->a);
		kw_buf_add(b, n->op);
		kw_buf_add(b, n->text);
		break;
	case N_POSTFIX:
		print_node(b, n->a);
		kw_buf_add(b, n->op);
		break;
	case N_UNARY:
		kw_buf_add(b, n->op);
		mark = b->len;
		print_node(b, n->a);
		/* - -x, + +x, & &x: keep the tokens apart */
		if (strchr("+-&", n->op[0]) && b->s[mark] == n->op[0]) {
			kw_buf_addc(b, ' ');
			memmove(b->s + mark + 1, b->s + mark, b->len - mark - 1);
			b->s[mark] = ' ';
		}
		break;
	case N_SIZEOF:
		kw_buf_add(b, n->op);
		if (n->text) {
			kw_buf_addf(b, "(%s)", n->text);
		} else if (n->a->kind == N_PAREN) {
			print_node(b, n->a);
		} else {
			/* sizeof x is written sizeof(x) in the kernel */
			kw_buf_addc(b, '(');
			print_node(b, n->a);
			kw_buf_addc(b, ')');
		}
		break;
	case N_CAST:
	case N_COMPOUND:
		kw_buf_addf(b, "(%s)", n->text);
		print_node(b, n->a);
		break;
	case N_INIT:
		if (n->nargs == 0) {
			kw_buf_add(b, "{}");
			break;
		}
		kw_buf_add(b, "{ ");
		for (k = 0; k < n->nargs; k++) {
			if (k)
				kw_buf_add(b, ", ");
			print_node(b, n->args[k]);
		}
		kw_buf_add(b, " }");
		break;
	case N_DESIG:
		kw_buf_addf(b, "%s = ", n->text);
		print_node(b, n->a);
		break;
	case N_BINARY:
		print_node(b, n->a);
		if (strcmp(n->op, ",") == 0)
			kw_buf_add(b, ", ");
		else
			kw_buf_addf(b, " %s ", n->op);
		print_node(b, n->b);
		break;
	case N_COND:
		print_node(b, n->a);
		if (n->b) {
			kw_buf_add(b, " ? ");
			print_node(b, n->b);
			kw_buf_add(b, " : ");
		} else {
			kw_buf_add(b, " ?: ");
		}
		print_node(b, n->c);
		break;
	}
}

static char *node_str(const struct node *n)
{
	struct kw_buf b = { 0 };

	print_node(&b, n);
	return kw_buf_take(&b);
}

/* ---- minimal forms ----------------------------------------------------- */

static const struct node *unparen(const struct node *n)
{
	while (n->kind == N_PAREN)
		n = n->a;
	return n;
}

static int call_of(const struct node *n, const char *const *list, size_t count)
{
	n = unparen(n);
	return n->kind == N_CALL && n->a->kind == N_IDENT &&
	       in_list(n->a->text, strlen(n->a->text), list, count);
}

static void lint_paren(const struct node *n, int slot, struct kw_findings *f)
{
	const struct node *in = n->a;
	char *s;

	if (in->kind == N_PAREN) {
		s = node_str(in);
		kw_add(f, KW_MINIMAL, "double parentheses around %s", s);
		free(s);
		return;
	}
	if (node_level(in) < slot)
		return;		/* needed */
	/*
	 * Parentheses that group an operation inside another one are kept
	 * for clarity (a + (b * c), (a && b) || c); elsewhere, and around an
	 * assignment in a condition, they change nothing.
	 */
	if (in->kind == N_BINARY && is_assign_op(in->op))
		return;
	if ((in->kind == N_BINARY || in->kind == N_COND) && slot > KW_LEVEL_FULL)
		return;
	s = node_str(in);
	kw_add(f, KW_MINIMAL, "redundant parentheses around %s", s);
	free(s);
}

static void lint(const struct node *n, int slot, struct kw_findings *f);

static void lint_cast(const struct node *n, struct kw_findings *f)
{
	const struct node *in = unparen(n->a);

	if (in->kind == N_IDENT && strcmp(in->text, "NULL") == 0) {
		kw_add(f, KW_MINIMAL, "needless cast of NULL: NULL converts to any pointer type");
	} else if (in->kind == N_LITERAL && strcmp(in->text, "0") == 0 &&
		   strchr(n->text, '*')) {
		kw_add(f, KW_MINIMAL, "(%s)0: write NULL", n->text);
	} else if (call_of(in, typed_macros, ARRAY_SIZE(typed_macros))) {
		kw_add(f, KW_MINIMAL, "needless cast: %s() already gives a pointer of the right type",
		       unparen(in)->a->text);
	} else if (call_of(in, allocators, ARRAY_SIZE(allocators)) &&
		   strchr(n->text, '*')) {
		kw_add(f, KW_MINIMAL, "needless cast: %s() returns void *, which converts without one",
		       unparen(in)->a->text);
	} else if (in->kind == N_CAST) {
		kw_add(f, KW_MINIMAL, "a cast of a cast: (%s)(%s)", n->text,
		       in->text);
	}
}

static void lint(const struct node *n, int slot, struct kw_findings *f)
{
	size_t k;
	int lv;

	switch (n->kind) {
	case N_PAREN:
		lint_paren(n, slot, f);
		lint(unparen(n), KW_LEVEL_COMMA, f);
		break;
	case N_CALL:
		lint(n->a, KW_LEVEL_POSTFIX, f);
		for (k = 0; k < n->nargs; k++)
			lint(n->args[k], KW_LEVEL_FULL, f);
		break;
	case N_INDEX:
		lint(n->a, KW_LEVEL_POSTFIX, f);
		lint(n->b, KW_LEVEL_FULL, f);
		break;
	case N_MEMBER:
	case N_POSTFIX:
		lint(n->a, KW_LEVEL_POSTFIX, f);
		break;
	case N_UNARY: {
		const struct node *in = unparen(n->a);

		if (in->kind == N_UNARY &&
		    ((n->op[0] == '&' && in->op[0] == '*') ||
		     (n->op[0] == '*' && in->op[0] == '&')))
			kw_add(f, KW_MINIMAL, "'%s%s' cancels out", n->op, in->op);
		/* -(-x) reads better than - -x: not redundant */
		if (n->a->kind == N_PAREN && n->a->a->kind == N_UNARY &&
		    strchr("+-", n->op[0]) && n->a->a->op[0] == n->op[0])
			lint(n->a->a, KW_LEVEL_UNARY, f);
		else
			lint(n->a, KW_LEVEL_UNARY, f);
		break;
	}
	case N_SIZEOF:
		if (n->a && n->a->kind == N_PAREN)
			lint(n->a->a, KW_LEVEL_COMMA, f);	/* sizeof's own */
		else if (n->a)
			lint(n->a, KW_LEVEL_UNARY, f);
		break;
	case N_CAST:
		lint_cast(n, f);
		lint(n->a, KW_LEVEL_UNARY, f);
		break;
	case N_COMPOUND:
	case N_DESIG:
		lint(n->a, KW_LEVEL_FULL, f);
		break;
	case N_INIT:
		for (k = 0; k < n->nargs; k++)
			lint(n->args[k], KW_LEVEL_FULL, f);
		break;
	case N_BINARY:
		if (strcmp(n->op, "==") == 0 || strcmp(n->op, "!=") == 0) {
			const struct node *a = unparen(n->a), *b = unparen(n->b);
			const struct node *lit = NULL, *other = NULL;

			if (a->kind == N_IDENT && (!strcmp(a->text, "true") ||
						   !strcmp(a->text, "false")))
				lit = a, other = b;
			else if (b->kind == N_IDENT && (!strcmp(b->text, "true") ||
							!strcmp(b->text, "false")))
				lit = b, other = a;
			if (lit) {
				char *s = node_str(other);
				int neg = (lit->text[0] == 'f') == (n->op[0] == '=');

				kw_add(f, KW_MINIMAL, "comparison with %s: write %s%s",
				       lit->text, neg ? "!" : "", s);
				free(s);
			}
		}
		lv = node_level(n);
		if (lv == 1) {
			lint(n->a, 1, f);
			lint(n->b, 2, f);
		} else if (lv == 2) {
			lint(n->a, KW_LEVEL_UNARY, f);
			lint(n->b, 2, f);
		} else {
			lint(n->a, lv, f);
			lint(n->b, lv + 1, f);
		}
		break;
	case N_COND:
		lint(n->a, 4, f);
		if (n->b)
			lint(n->b, KW_LEVEL_COMMA, f);
		lint(n->c, 3, f);
		break;
	case N_IDENT:
	case N_LITERAL:
	case N_STRING:
	case N_TYPE:
		break;
	}
}

/* ---- slots ------------------------------------------------------------- */

/* Does token k end an operand (so that a following '&' is binary)? */
static int ends_operand(const char *text, const struct kw_toks *t, size_t k)
{
	const struct kw_tok *x = &t->v[k];

	if (x->kind == KW_T_IDENT)
		return !in_list(text + x->off, x->len, statement_words,
				ARRAY_SIZE(statement_words)) &&
		       !kw_tok_is(text, x, "sizeof");
	if (x->kind != KW_T_PUNCT)
		return 1;
	return kw_tok_is(text, x, ")") || kw_tok_is(text, x, "]") ||
	       kw_tok_is(text, x, "++") || kw_tok_is(text, x, "--");
}

/* Token k is ")": does its "(" follow if, while, for or switch? */
static int closes_condition(const char *text, const struct kw_toks *t,
			    size_t k)
{
	int depth = 0;
	size_t i = k + 1;

	while (i-- > 0) {
		if (kw_tok_is(text, &t->v[i], ")"))
			depth++;
		else if (kw_tok_is(text, &t->v[i], "(") && --depth == 0)
			break;
	}
	if (i == (size_t)-1 || i == 0)
		return 0;
	return kw_tok_is(text, &t->v[i - 1], "if") ||
	       kw_tok_is(text, &t->v[i - 1], "while") ||
	       kw_tok_is(text, &t->v[i - 1], "for") ||
	       kw_tok_is(text, &t->v[i - 1], "switch");
}

int kw_slot_level(const char *text, const struct kw_toks *t, size_t slot)
{
	int left = KW_LEVEL_FULL, right = KW_LEVEL_FULL, lv;
	const struct kw_tok *x;

	if (slot > 0) {
		x = &t->v[slot - 1];
		if (x->kind == KW_T_PUNCT) {
			int binary = slot >= 2 && ends_operand(text, t, slot - 2);

			lv = binary ? binop_level(text, x, NULL) : 0;
			if (kw_tok_is(text, x, ":"))
				left = 3;
			else if (kw_tok_is(text, x, ")"))
				left = closes_condition(text, t, slot - 1) ?
				       KW_LEVEL_FULL : KW_LEVEL_UNARY;
			else if (lv)
				left = lv + 1;
			else if (!binary && strchr("&*+-!~", text[x->off]) &&
				 x->len == 1)
				left = KW_LEVEL_UNARY;
			else if (kw_tok_is(text, x, "++") || kw_tok_is(text, x, "--"))
				left = KW_LEVEL_UNARY;
		} else if (kw_tok_is(text, x, "sizeof")) {
			left = KW_LEVEL_UNARY;
		}
	}
	if (slot + 1 < t->n) {
		x = &t->v[slot + 1];
		lv = binop_level(text, x, NULL);
		if (x->kind == KW_T_PUNCT) {
			if (kw_tok_is(text, x, "?"))
				right = 4;
			else if (lv)
				right = lv;
			else if (in_list(text + x->off, x->len, assign_ops,
					 ARRAY_SIZE(assign_ops)))
				right = KW_LEVEL_UNARY;
			else if (kw_tok_is(text, x, "(") || kw_tok_is(text, x, "[") ||
				 kw_tok_is(text, x, ".") || kw_tok_is(text, x, "->") ||
				 kw_tok_is(text, x, "++") || kw_tok_is(text, x, "--"))
				right = KW_LEVEL_POSTFIX;
		}
	}
	return left > right ? left : right;
}

/* ---- analysis ---------------------------------------------------------- */

static char *flatten(const char *s)
{
	struct kw_buf b = { 0 };
	int space = 0;

	while (isspace((unsigned char)*s))
		s++;
	for (; *s; s++) {
		if (isspace((unsigned char)*s)) {
			space = 1;
			continue;
		}
		if (space)
			kw_buf_addc(&b, ' ');
		space = 0;
		kw_buf_addc(&b, *s);
	}
	return kw_buf_take(&b);
}

void kw_analyze(const char *text, int level, struct kw_analysis *a)
{
	struct kw_toks t = { 0 };
	struct parser p = { 0 };
	struct node *root;
	size_t k;
	int stop = 0;

	memset(a, 0, sizeof(*a));
	a->flat = flatten(text);
	kw_lex(text, strlen(text), &t);
	for (k = 0; k < t.n; k++) {
		const struct kw_tok *x = &t.v[k];

		if (x->kind == KW_T_IDENT) {
			kw_strv_pushn(&a->idents, text + x->off, x->len);
			if (k + 1 < t.n && kw_tok_is(text, &t.v[k + 1], "("))
				kw_strv_pushn(&a->calls, text + x->off, x->len);
		}
	}
	if (t.n == 0 && !t.unterminated) {
		kw_add(&a->findings, KW_SYNTAX, "it is empty");
		goto out;
	}
	if (t.line_comment) {
		kw_add(&a->findings, KW_SYNTAX,
		       "a // comment would hide the rest of the line");
		stop = 1;
	}
	if (t.unterminated) {
		kw_add(&a->findings, KW_SYNTAX,
		       "an unterminated comment, string or character constant");
		stop = 1;
	}
	for (k = 0; k < t.n; k++) {
		const struct kw_tok *x = &t.v[k];

		if (kw_tok_is(text, x, ";")) {
			kw_add(&a->findings, KW_SYNTAX,
			       "a blank holds one expression, not a statement: no ';'");
			stop = 1;
			break;
		}
		if (kw_tok_is(text, x, "#") || kw_tok_is(text, x, "##")) {
			kw_add(&a->findings, KW_SYNTAX, "'#' has no place in an expression");
			stop = 1;
			break;
		}
		if (x->kind == KW_T_BAD) {
			kw_add(&a->findings, KW_SYNTAX, "'%c' at column %zu is not C",
			       text[x->off], x->off + 1);
			stop = 1;
			break;
		}
	}
	if (stop)
		goto out;

	p.src = text;
	p.t = &t;
	if (setjmp(p.fail)) {
		kw_add(&a->findings, KW_SYNTAX, "not a C expression: %s", p.err);
		goto out;
	}
	root = parse_expr(&p);
	if (p.i < t.n)
		unexpected(&p);

	a->canon = node_str(root);
	a->level = node_level(root);
	if (a->level == KW_LEVEL_COMMA)
		kw_add(&a->findings, KW_SYNTAX,
		       "more than one expression (a comma at the top level)");
	else if (a->level < level)
		kw_add(&a->findings, KW_PRECEDENCE,
		       "needs parentheses where it stands: (%s)", a->canon);
	lint(root, level, &a->findings);
out:
	parser_free(&p);
	kw_toks_free(&t);
}

void kw_analysis_free(struct kw_analysis *a)
{
	free(a->canon);
	free(a->flat);
	kw_strv_free(&a->idents);
	kw_strv_free(&a->calls);
	kw_findings_free(&a->findings);
	memset(a, 0, sizeof(*a));
}

/* ---- one expression, and nothing that could smuggle in more ------------- */

static const char *const smuggling_words[][2] = {
	{ "asm", "GNU asm" }, { "__asm", "GNU asm" }, { "__asm__", "GNU asm" },
	{ "_Pragma", "_Pragma" }, { "__pragma", "_Pragma" },
	{ "__attribute__", "__attribute__" }, { "__attribute", "__attribute__" },
	{ "__label__", "__label__" },
};

static int refuse(char **why, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static const char *const raw_prefixes[] = { "R", "LR", "uR", "UR", "u8R" };

static int refuse(char **why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	*why = kw_vprintf(fmt, ap);
	va_end(ap);
	return 1;
}

static int is_trigraph(const char *s)
{
	return s[0] == '?' && s[1] == '?' && s[2] && strchr("=/'()!<>-", s[2]);
}

int kw_not_expression(const char *text, int answers, char **why)
{
	const char *s = text;
	char stack[64];
	size_t depth = 0, i, len = strlen(text);

	*why = NULL;
	if (answers && len > KW_ANSWER_MAX)
		return refuse(why, "longer than %d characters", KW_ANSWER_MAX);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if ((c < 0x20 && c != '\t') || c >= 0x7f)
			return refuse(why, "a byte 0x%02x at column %zu: only printable ASCII",
				      c, i + 1);
		if (is_trigraph(text + i))
			return refuse(why, "the trigraph '%.3s'", text + i);
	}
	while (*s) {
		char c = *s;

		if (c == '"' || c == '\'') {
			/* a literal, with its escapes, as the compiler reads it */
			for (s++; *s && *s != c; s++)
				if (*s == '\\' && s[1])
					s++;
			if (!*s)
				return refuse(why, "an unterminated %s",
					      c == '"' ? "string" : "character constant");
			s++;
			continue;
		}
		if (ident_start(c)) {
			const char *w = s;

			while (ident_char(*s))
				s++;
			for (i = 0; i < ARRAY_SIZE(smuggling_words); i++)
				if (strlen(smuggling_words[i][0]) == (size_t)(s - w) &&
				    !memcmp(w, smuggling_words[i][0], (size_t)(s - w)))
					return refuse(why, "%s", smuggling_words[i][1]);
			if (IN(w, (size_t)(s - w), statement_words))
				return refuse(why, "the statement keyword '%.*s'",
					      (int)(s - w), w);
			/* GNU C has R"x(...)x" strings, where '\\' is no escape */
			if (*s == '"' && IN(w, (size_t)(s - w), raw_prefixes))
				return refuse(why, "a raw string literal");
			continue;	/* L"x" and u8"x": the literal comes next */
		}
		if (isdigit((unsigned char)c)) {
			/* a preprocessing number: 1e+5, 0x1p-3, 10UL */
			for (s++; ident_char(*s) || *s == '.' ||
				  ((*s == '+' || *s == '-') && strchr("eEpP", s[-1])); s++)
				;
			continue;
		}
		if (c == '/' && (s[1] == '*' || s[1] == '/'))
			return refuse(why, "a comment '%.2s'", s);
		if (c == '\\')
			return refuse(why, "a backslash outside a string");
		if (c == '#')
			return refuse(why, "preprocessor '#'");
		if (c == ';')
			return refuse(why, "';'");
		if ((c == '<' && (s[1] == '%' || s[1] == ':')) ||
		    (c == '%' && (s[1] == '>' || s[1] == ':')) ||
		    (c == ':' && s[1] == '>'))
			return refuse(why, "the digraph '%.2s'", s);
		if (c == '(') {
			const char *n = s + 1;

			while (*n == ' ' || *n == '\t')
				n++;
			if (*n == '{')
				return refuse(why, "statement expression '({'");
		}
		if (c == '{' || c == '}')
			return refuse(why, "braces '%c'", c);
		if (c == '(' || c == '[') {
			if (depth == sizeof(stack))
				return refuse(why, "parentheses nested too deeply");
			stack[depth++] = c;
		} else if (c == ')' || c == ']') {
			if (!depth || stack[depth - 1] != (c == ')' ? '(' : '['))
				return refuse(why, "an unbalanced '%c'", c);
			depth--;
		} else if (c == ',' && !depth) {
			return refuse(why, "a comma at the top level");
		}
		s++;
	}
	if (depth)
		return refuse(why, "an unbalanced '%c'", stack[depth - 1]);
	return 0;
}
