// SPDX-License-Identifier: GPL-2.0
/*
 * kwcheck.c - the static blank checker: find each blank's expression in a
 * submission and judge it.
 *
 * An answers file names each blank's expression. A filled-in file is
 * compared with the pristine stage line by line (longest common
 * subsequence): lines left as they were anchor the comparison, and in each
 * run of changed lines the line of a blank is found by its tokens around
 * the blank (the expression may span up to six lines). Lines changed
 * outside the blanks are allowed, and reported as a notice; a blank whose
 * own line was rewritten beyond recognition cannot be checked, which is a
 * finding of its own.
 */
#include "kwcheck.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SPAN	6		/* lines an expression may span */
#define MAX_LCS_CELLS	4000000		/* beyond: one run of changed lines */

int kw_is_blank_name(const char *s, size_t n)
{
	return n == 4 && isupper((unsigned char)s[0]) && s[1] == s[0] &&
	       s[2] == s[0] && s[3] == s[0];
}

/* ---- the pristine stage ------------------------------------------------ */

static void add_site(struct kw_stage *st, const char *name, size_t file,
		     size_t line, int level)
{
	struct kw_site *s;

	st->sites = kw_realloc(st->sites, (st->nsites + 1) * sizeof(*st->sites));
	s = &st->sites[st->nsites++];
	memcpy(s->name, name, 4);
	s->name[4] = '\0';
	s->file = file;
	s->line = line;
	s->level = level;
}

int kw_stage_load(struct kw_stage *st, const char *dir, char *const *files,
		  size_t nfiles, struct kw_buf *err)
{
	size_t f, k, line, off;

	memset(st, 0, sizeof(*st));
	st->files = kw_alloc(nfiles * sizeof(*st->files));
	for (f = 0; f < nfiles; f++) {
		struct kw_toks t = { 0 };
		char *path = kw_printf("%s/%s", dir, files[f]);
		char *text = kw_read_file(path, NULL);

		if (!text) {
			kw_buf_addf(err, "cannot read %s: %s", path, strerror(errno));
			free(path);
			return -1;
		}
		free(path);
		st->files[f].name = kw_strdup(files[f]);
		kw_split_lines(text, &st->files[f].lines);
		st->nfiles++;
		/* Lex the whole file: comments span lines. */
		kw_lex(text, strlen(text), &t);
		line = 0;
		off = 0;
		for (k = 0; k < t.n; k++) {
			const struct kw_tok *x = &t.v[k];

			for (; off < x->off; off++)
				if (text[off] == '\n')
					line++;
			if (x->kind == KW_T_IDENT &&
			    kw_is_blank_name(text + x->off, x->len))
				add_site(st, text + x->off, f, line,
					 kw_slot_level(text, &t, k));
		}
		kw_toks_free(&t);
		free(text);
	}
	return 0;
}

void kw_stage_free(struct kw_stage *st)
{
	size_t f;

	for (f = 0; f < st->nfiles; f++) {
		free(st->files[f].name);
		kw_strv_free(&st->files[f].lines);
	}
	free(st->files);
	free(st->sites);
	memset(st, 0, sizeof(*st));
}

/* ---- results ----------------------------------------------------------- */

static void result_init(const struct kw_stage *st, struct kw_result *res)
{
	size_t i;

	memset(res, 0, sizeof(*res));
	res->n = st->nsites;
	res->blanks = kw_alloc((st->nsites ? st->nsites : 1) * sizeof(*res->blanks));
	for (i = 0; i < st->nsites; i++)
		memcpy(res->blanks[i].name, st->sites[i].name, 5);
}

static void general(struct kw_result *res, const char *where,
		    enum kw_kind kind, const char *text)
{
	kw_strv_push(&res->general_where, where);
	kw_add(&res->general, kind, "%s", text);
}

void kw_result_free(struct kw_result *res)
{
	size_t i;

	for (i = 0; i < res->n; i++) {
		free(res->blanks[i].where);
		free(res->blanks[i].text);
		free(res->blanks[i].canon);
		free(res->blanks[i].refusal);
		kw_findings_free(&res->blanks[i].findings);
	}
	free(res->blanks);
	kw_findings_free(&res->general);
	kw_strv_free(&res->general_where);
	memset(res, 0, sizeof(*res));
}

static int is_violation(enum kw_kind k)
{
	return k != KW_NOTICE;
}

size_t kw_result_violations(const struct kw_result *res)
{
	size_t i, k, n = 0;

	for (i = 0; i < res->n; i++)
		for (k = 0; k < res->blanks[i].findings.n; k++)
			n += is_violation(res->blanks[i].findings.v[k].kind);
	for (k = 0; k < res->general.n; k++)
		n += is_violation(res->general.v[k].kind);
	return n;
}

/*
 * Judge one expression: a C expression fit for its position, in kernel
 * style when style is set (the caller judges the style of a filled line
 * itself), and true to the stage's rules.
 */
static void judge(struct kw_blank *b, const char *text, int level, int style,
		  const struct kw_rules *rules)
{
	struct kw_analysis a;
	size_t k;

	kw_analyze(text, level, &a);
	b->canon = a.canon ? kw_strdup(a.canon) : NULL;
	for (k = 0; k < a.findings.n; k++)
		kw_add(&b->findings, a.findings.v[k].kind, "%s",
		       a.findings.v[k].text);
	if (style && a.canon && strcmp(a.flat, a.canon) != 0)
		kw_add(&b->findings, KW_STYLE, "kernel style: write %s", a.canon);
	else if (style && a.canon && strcmp(text, a.flat) != 0)
		kw_add(&b->findings, KW_STYLE, "kernel style: write %s (spacing)",
		       a.canon);
	if (rules)
		kw_rules_check(rules, b->name, &a, &b->findings);
	kw_analysis_free(&a);
}

/* ---- answers files ----------------------------------------------------- */

static char *trim(const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s))
		s++, n--;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return kw_strndup(s, n);
}

void kw_check_answers(const struct kw_stage *st, const struct kw_rules *rules,
		      const char *answers, const char *shown,
		      struct kw_result *res)
{
	struct kw_strv lines = { 0 }, names = { 0 }, values = { 0 };
	unsigned int *at = NULL;
	size_t i, k;

	result_init(st, res);
	kw_split_lines(answers, &lines);
	at = kw_alloc((lines.n ? lines.n : 1) * sizeof(*at));
	for (i = 0; i < lines.n; i++) {
		const char *l = lines.v[i], *eq;
		char *where = kw_printf("%s:%zu", shown, i + 1);
		char name[5] = "";

		while (isspace((unsigned char)*l))
			l++;
		if (!*l || *l == '#') {
			free(where);
			continue;
		}
		eq = NULL;
		if (strlen(l) >= 4 && kw_is_blank_name(l, 4)) {
			memcpy(name, l, 4);
			eq = l + 4;
			while (*eq == ' ' || *eq == '\t')
				eq++;
		}
		if (!eq || *eq != '=') {
			general(res, where, KW_SYNTAX,
				"expected \"AAAA = <expression>\"");
			res->fatal = 1;
		} else if (kw_strv_has(&names, name)) {
			char *msg = kw_printf("%.4s is answered twice", l);

			general(res, where, KW_SYNTAX, msg);
			free(msg);
			res->fatal = 1;
		} else {
			at[names.n] = (unsigned int)i + 1;
			kw_strv_pushn(&names, l, 4);
			kw_strv_push(&values, eq + 1);
		}
		free(where);
	}
	for (k = 0; k < names.n; k++) {
		for (i = 0; i < st->nsites; i++)
			if (!strcmp(st->sites[i].name, names.v[k]))
				break;
		if (i == st->nsites) {
			char *where = kw_printf("%s:%u", shown, at[k]);
			char *msg = kw_printf("the stage has no blank %s", names.v[k]);

			general(res, where, KW_SYNTAX, msg);
			free(where);
			free(msg);
		}
	}
	for (i = 0; i < st->nsites; i++) {
		struct kw_blank *b = &res->blanks[i];
		char *v = NULL, *why;

		for (k = 0; k < names.n; k++)
			if (!strcmp(names.v[k], b->name))
				break;
		if (k < names.n)
			v = trim(values.v[k], strlen(values.v[k]));
		if (!v || !*v) {
			b->where = kw_strdup(shown);
			kw_add(&b->findings, KW_MISSING, "not answered");
			res->fatal = 1;
			free(v);
			continue;
		}
		b->where = kw_printf("%s:%u", shown, at[k]);
		b->text = v;
		if (kw_not_expression(v, 1, &why)) {
			/* never filled in, never built */
			b->refusal = kw_printf("not one C expression (%s): answers hold expressions only",
					       why);
			kw_add(&b->findings, KW_SYNTAX, "%s", b->refusal);
			res->fatal = 1;
			free(why);
			continue;
		}
		judge(b, v, st->sites[i].level, 1, rules);
	}
	free(at);
	kw_strv_free(&lines);
	kw_strv_free(&names);
	kw_strv_free(&values);
}

/* ---- filled-in files --------------------------------------------------- */

/* The kit's blank markers (in the solutions) are not part of the code. */
static char *strip_markers(const char *s)
{
	struct kw_buf b = { 0 };

	kw_buf_add(&b, "");
	while (*s) {
		if (!strncmp(s, "/*{*/", 5) || !strncmp(s, "/*}*/", 5)) {
			s += 5;
			continue;
		}
		kw_buf_addc(&b, *s++);
	}
	return kw_buf_take(&b);
}

/*
 * pm[i]: the student line that pristine line i was kept as, or -1; a
 * longest common subsequence of equal lines, after the common head and tail.
 */
static void align(const struct kw_strv *p, const struct kw_strv *s, long *pm)
{
	size_t pre = 0, suf = 0, a, b, i, j;
	uint32_t *dp;

	for (i = 0; i < p->n; i++)
		pm[i] = -1;
	while (pre < p->n && pre < s->n && !strcmp(p->v[pre], s->v[pre])) {
		pm[pre] = (long)pre;
		pre++;
	}
	while (suf < p->n - pre && suf < s->n - pre &&
	       !strcmp(p->v[p->n - 1 - suf], s->v[s->n - 1 - suf])) {
		pm[p->n - 1 - suf] = (long)(s->n - 1 - suf);
		suf++;
	}
	a = p->n - pre - suf;
	b = s->n - pre - suf;
	if (!a || !b || a * b > MAX_LCS_CELLS)
		return;
#define DP(x, y) dp[(x) * (b + 1) + (y)]
	dp = kw_alloc((a + 1) * (b + 1) * sizeof(*dp));
	for (i = a; i-- > 0;) {
		for (j = b; j-- > 0;) {
			if (!strcmp(p->v[pre + i], s->v[pre + j]))
				DP(i, j) = DP(i + 1, j + 1) + 1;
			else
				DP(i, j) = DP(i + 1, j) > DP(i, j + 1) ?
					   DP(i + 1, j) : DP(i, j + 1);
		}
	}
	i = 0;
	j = 0;
	while (i < a && j < b) {
		if (!strcmp(p->v[pre + i], s->v[pre + j]) &&
		    DP(i, j) == DP(i + 1, j + 1) + 1) {
			pm[pre + i] = (long)(pre + j);
			i++;
			j++;
		} else if (DP(i + 1, j) >= DP(i, j + 1)) {
			i++;
		} else {
			j++;
		}
	}
#undef DP
	free(dp);
}

static int is_open(const char *text, const struct kw_tok *t)
{
	return t->kind == KW_T_PUNCT && t->len == 1 && strchr("([{", text[t->off]);
}

static int is_close(const char *text, const struct kw_tok *t)
{
	return t->kind == KW_T_PUNCT && t->len == 1 && strchr(")]}", text[t->off]);
}

static int tok_eq(const char *a, const struct kw_tok *x, const char *b,
		  const struct kw_tok *y)
{
	return x->len == y->len && memcmp(a + x->off, b + y->off, x->len) == 0;
}

struct pattern {
	const char *text;	/* the pristine line */
	struct kw_toks t;
	int *is_blank;		/* per token */
};

/*
 * Match pattern tokens from pi against student tokens from si; a blank
 * takes the shortest balanced run of tokens that lets the rest match.
 * span[2 * b], span[2 * b + 1]: the token range of blank number b.
 */
static int match_from(const struct pattern *pt, size_t pi, const char *s,
		      const struct kw_toks *st, size_t si, size_t nb,
		      size_t *span)
{
	size_t e;
	int depth;

	if (pi == pt->t.n)
		return si == st->n;
	if (!pt->is_blank[pi]) {
		if (si < st->n && tok_eq(pt->text, &pt->t.v[pi], s, &st->v[si]))
			return match_from(pt, pi + 1, s, st, si + 1, nb, span);
		return 0;
	}
	depth = 0;
	for (e = si; e < st->n; e++) {
		if (is_open(s, &st->v[e]))
			depth++;
		else if (is_close(s, &st->v[e]) && --depth < 0)
			return 0;
		if (depth == 0 &&
		    match_from(pt, pi + 1, s, st, e + 1, nb + 1, span)) {
			span[2 * nb] = si;
			span[2 * nb + 1] = e + 1;
			return 1;
		}
	}
	return 0;
}

static void pattern_init(struct pattern *pt, const char *line)
{
	size_t k;

	pt->text = line;
	memset(&pt->t, 0, sizeof(pt->t));
	kw_lex(line, strlen(line), &pt->t);
	pt->is_blank = kw_alloc((pt->t.n ? pt->t.n : 1) * sizeof(int));
	for (k = 0; k < pt->t.n; k++)
		pt->is_blank[k] = pt->t.v[k].kind == KW_T_IDENT &&
				  kw_is_blank_name(line + pt->t.v[k].off,
						   pt->t.v[k].len);
}

static void pattern_free(struct pattern *pt)
{
	kw_toks_free(&pt->t);
	free(pt->is_blank);
}

static char *join_lines(const struct kw_strv *s, size_t from, size_t n)
{
	struct kw_buf b = { 0 };
	size_t i;

	kw_buf_add(&b, "");
	for (i = 0; i < n; i++) {
		if (i)
			kw_buf_addc(&b, '\n');
		kw_buf_add(&b, s->v[from + i]);
	}
	return kw_buf_take(&b);
}

/* Join a statement's lines back into one, the way it reads on one line. */
static char *collapse(const char *s)
{
	struct kw_buf b = { 0 };

	kw_buf_add(&b, "");
	while (*s) {
		if (*s != '\n') {
			kw_buf_addc(&b, *s++);
			continue;
		}
		while (b.len && (b.s[b.len - 1] == ' ' || b.s[b.len - 1] == '\t'))
			b.s[--b.len] = '\0';
		s++;
		while (*s == ' ' || *s == '\t')
			s++;
		if (b.len && !strchr("([", b.s[b.len - 1]) && *s && !strchr(")]", *s))
			kw_buf_addc(&b, ' ');
	}
	return kw_buf_take(&b);
}

static int same_but_space(const char *a, const char *b)
{
	for (;;) {
		while (isspace((unsigned char)*a))
			a++;
		while (isspace((unsigned char)*b))
			b++;
		if (*a != *b)
			return 0;
		if (!*a)
			return 1;
		a++;
		b++;
	}
}

static size_t leading_space(const char *s)
{
	size_t n = 0;

	while (s[n] == ' ' || s[n] == '\t')
		n++;
	return n;
}

struct filecheck {
	const struct kw_stage *st;
	const struct kw_rules *rules;
	struct kw_result *res;
	size_t file;
	const char *shown;
	const struct kw_strv *p;	/* pristine lines */
	const struct kw_strv *s;	/* student lines */
	char *consumed;			/* per student line */
	char *p_changed;		/* per pristine line: changed, not found */
};

/* The sites of pristine line pl: their indices, in order. */
static size_t sites_of_line(const struct filecheck *fc, size_t pl, size_t *idx,
			    size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < fc->st->nsites && n < max; i++)
		if (fc->st->sites[i].file == fc->file && fc->st->sites[i].line == pl)
			idx[n++] = i;
	return n;
}

/*
 * A filled-in file may hold anything (its student edits it freely): what
 * is not one expression in a blank is feedback, when the parser did not
 * say so already.
 */
static void not_expression(struct kw_blank *bl, const char *text)
{
	char *flat, *why, *p;
	size_t k;

	for (k = 0; k < bl->findings.n; k++)
		if (bl->findings.v[k].kind == KW_SYNTAX)
			return;
	flat = kw_strdup(text);
	for (p = flat; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (kw_not_expression(flat, 0, &why)) {
		kw_add(&bl->findings, KW_SYNTAX, "not one C expression (%s)", why);
		free(why);
	}
	free(flat);
}

/* Judge the blanks of a pristine line, found from student line sl on. */
static void judge_line(struct filecheck *fc, const struct pattern *pt,
		       const size_t *idx, size_t nb, size_t sl, const char *joined, const struct kw_toks *jt,
		       const size_t *span)
{
	struct kw_buf mine = { 0 }, want = { 0 };
	size_t b, k, last = 0;
	char *got;

	for (b = 0; b < nb; b++) {
		struct kw_blank *bl = &fc->res->blanks[idx[b]];
		size_t from = jt->v[span[2 * b]].off;
		size_t to = jt->v[span[2 * b + 1] - 1].off + jt->v[span[2 * b + 1] - 1].len;
		char *text = kw_strndup(joined + from, to - from);
		char *flat;

		bl->where = kw_printf("%s/%s:%zu", fc->shown,
				      fc->st->files[fc->file].name, sl + 1);
		bl->text = text;
		if (!strcmp(text, bl->name)) {
			kw_add(&bl->findings, KW_MISSING, "not filled in");
			fc->res->fatal = 1;
			continue;
		}
		judge(bl, text, fc->st->sites[idx[b]].level, 0, fc->rules);
		not_expression(bl, text);
		flat = collapse(text);
		if (bl->canon && strcmp(flat, bl->canon))
			kw_add(&bl->findings, KW_STYLE, "kernel style: write %s",
			       bl->canon);
		free(flat);
		/* the student's line(s) with canonical expressions */
		kw_buf_addn(&mine, joined + last, from - last);
		kw_buf_add(&mine, bl->canon ? bl->canon : text);
		last = to;
	}
	kw_buf_add(&mine, joined + last);
	/* the pristine line with the same expressions */
	b = 0;
	last = 0;
	for (k = 0; k < pt->t.n; k++) {
		const struct kw_blank *bl;

		if (!pt->is_blank[k])
			continue;
		bl = &fc->res->blanks[idx[b++]];
		kw_buf_addn(&want, pt->text + last, pt->t.v[k].off - last);
		kw_buf_add(&want, bl->canon ? bl->canon : bl->text ? bl->text : bl->name);
		last = pt->t.v[k].off + pt->t.v[k].len;
	}
	kw_buf_add(&want, pt->text + last);
	/* Indentation is the code around's business (an added "if"). */
	got = collapse(mine.s ? mine.s : "");
	if (strcmp(got + leading_space(got), want.s + leading_space(want.s))) {
		struct kw_blank *bl = &fc->res->blanks[idx[0]];
		const char *w = want.s + leading_space(want.s);

		if (same_but_space(got, want.s))
			kw_add(&bl->findings, KW_STYLE,
			       "kernel style: the line should read: %s", w);
		else
			kw_add(&bl->findings, KW_NOTICE,
			       "the line has other changes as well (allowed): it was: %s",
			       pt->text + leading_space(pt->text));
	}
	free(got);
	kw_buf_free(&mine);
	kw_buf_free(&want);
}

/* How many of the nb spans found do not hold one C expression? */
static size_t bad_spans(const char *joined, const struct kw_toks *jt,
			const size_t *span, size_t nb)
{
	size_t b, k, bad = 0;

	for (b = 0; b < nb; b++) {
		size_t from = jt->v[span[2 * b]].off;
		size_t to = jt->v[span[2 * b + 1] - 1].off +
			    jt->v[span[2 * b + 1] - 1].len;
		char *text = kw_strndup(joined + from, to - from);
		struct kw_analysis a;

		kw_analyze(text, KW_LEVEL_COMMA, &a);
		for (k = 0; k < a.findings.n; k++) {
			if (a.findings.v[k].kind == KW_SYNTAX) {
				bad++;
				break;
			}
		}
		kw_analysis_free(&a);
		free(text);
	}
	return bad;
}

/* Find pristine line pl (with blanks) among student lines [cursor, to). */
static void find_line(struct filecheck *fc, size_t pl, size_t *cursor,
		      size_t to, size_t expect)
{
	size_t idx[16], nb, s, n, best_s = 0, best_n = 0, b;
	size_t span[32], best_span[32];
	long best = -1;
	struct pattern pt;

	nb = sites_of_line(fc, pl, idx, 16);
	pattern_init(&pt, fc->p->v[pl]);
	for (s = *cursor; s < to; s++) {
		for (n = 1; n <= MAX_SPAN && s + n <= to; n++) {
			struct kw_toks jt = { 0 };
			char *joined = join_lines(fc->s, s, n);
			long score;

			kw_lex(joined, strlen(joined), &jt);
			if (match_from(&pt, 0, joined, &jt, 0, 0, span)) {
				size_t ls = leading_space(fc->s->v[s]);

				/*
				 * The closest candidate wins, one line before
				 * several, one indented like the pristine line
				 * and whose blanks hold expressions before
				 * others ("if (x)\n\t\tf()" for "\tAAAA;").
				 */
				score = (long)(s > expect ? s - expect : expect - s) +
					(long)(n - 1) * 2;
				if (ls != leading_space(pt.text) ||
				    strncmp(fc->s->v[s], pt.text, ls))
					score += 3;
				score += 100 * (long)bad_spans(joined, &jt, span, nb);
				if (best < 0 || score < best) {
					best = score;
					best_s = s;
					best_n = n;
					memcpy(best_span, span, sizeof(span));
				}
			}
			kw_toks_free(&jt);
			free(joined);
		}
	}
	if (best < 0) {
		size_t at = expect < fc->s->n ? expect : fc->s->n;

		for (b = 0; b < nb; b++) {
			struct kw_blank *bl = &fc->res->blanks[idx[b]];

			bl->where = kw_printf("%s/%s:%zu", fc->shown,
					      fc->st->files[fc->file].name, at + 1);
			kw_add(&bl->findings, KW_MISSING,
			       "cannot find this blank: its line was rewritten (it was: %s)",
			       pt.text + leading_space(pt.text));
		}
		fc->p_changed[pl] = 1;
	} else {
		struct kw_toks jt = { 0 };
		char *joined = join_lines(fc->s, best_s, best_n);

		kw_lex(joined, strlen(joined), &jt);
		judge_line(fc, &pt, idx, nb, best_s, joined, &jt, best_span);
		kw_toks_free(&jt);
		free(joined);
		memset(fc->consumed + best_s, 1, best_n);
		*cursor = best_s + best_n;
	}
	pattern_free(&pt);
}

/* "12-14, 80" from a per-line flag array. */
static char *ranges(const char *flag, size_t n, size_t *count)
{
	struct kw_buf b = { 0 };
	size_t i = 0, j, shown = 0;

	*count = 0;
	kw_buf_add(&b, "");
	while (i < n) {
		if (!flag[i]) {
			i++;
			continue;
		}
		for (j = i; j < n && flag[j]; j++)
			;
		*count += j - i;
		if (shown++ < 8) {
			if (j - i == 1)
				kw_buf_addf(&b, "%s%zu", b.len ? ", " : "", i + 1);
			else
				kw_buf_addf(&b, "%s%zu-%zu", b.len ? ", " : "", i + 1, j);
		} else if (shown == 9) {
			kw_buf_add(&b, ", ...");
		}
		i = j;
	}
	return kw_buf_take(&b);
}

static void check_file(struct filecheck *fc)
{
	const struct kw_strv *p = fc->p, *s = fc->s;
	long *pm = kw_alloc((p->n ? p->n : 1) * sizeof(*pm));
	size_t i = 0, j = 0, i2, j2, cursor, k, idx[16], nb, cnt, removed = 0;
	char *list;

	fc->consumed = kw_alloc(s->n + 1);
	fc->p_changed = kw_alloc(p->n + 1);
	align(p, s, pm);
	while (i < p->n || j < s->n) {
		if (i < p->n && pm[i] >= 0 && (size_t)pm[i] == j) {
			/* kept as it was: a blank on it is not filled in */
			nb = sites_of_line(fc, i, idx, 16);
			for (k = 0; k < nb; k++) {
				struct kw_blank *bl = &fc->res->blanks[idx[k]];

				bl->where = kw_printf("%s/%s:%zu", fc->shown,
						      fc->st->files[fc->file].name, j + 1);
				bl->text = kw_strdup(bl->name);
				kw_add(&bl->findings, KW_MISSING, "not filled in");
				fc->res->fatal = 1;
			}
			i++;
			j++;
			continue;
		}
		for (i2 = i; i2 < p->n && pm[i2] < 0; i2++)
			;
		j2 = i2 < p->n ? (size_t)pm[i2] : s->n;
		cursor = j;
		for (k = i; k < i2; k++) {
			if (sites_of_line(fc, k, idx, 16))
				find_line(fc, k, &cursor, j2, j + (k - i));
			else
				fc->p_changed[k] = 1;
		}
		for (k = j; k < j2; k++)
			if (!fc->consumed[k])
				fc->consumed[k] = 2;	/* changed */
		i = i2;
		j = j2;
	}
	for (k = 0; k < s->n; k++)
		fc->consumed[k] = fc->consumed[k] == 2;
	for (k = 0; k < p->n; k++)
		removed += fc->p_changed[k];
	list = ranges(fc->consumed, s->n, &cnt);
	if (cnt || removed) {
		char *where = kw_printf("%s/%s", fc->shown, fc->st->files[fc->file].name);
		char *msg;

		if (cnt)
			msg = kw_printf("%zu line%s changed outside the blanks (allowed; the tests decide): %s",
					cnt, cnt == 1 ? "" : "s", list);
		else
			msg = kw_printf("%zu line%s of the stage removed (allowed; the tests decide)",
					removed, removed == 1 ? "" : "s");
		general(fc->res, where, KW_NOTICE, msg);
		fc->res->changed = 1;
		free(where);
		free(msg);
	}
	free(list);
	free(pm);
	free(fc->consumed);
	free(fc->p_changed);
}

void kw_check_files(const struct kw_stage *st, const struct kw_rules *rules,
		    char *const *texts, const char *shown,
		    struct kw_result *res)
{
	size_t f;

	result_init(st, res);
	for (f = 0; f < st->nfiles; f++) {
		struct kw_strv s = { 0 };
		char *text = strip_markers(texts[f]);
		struct filecheck fc = {
			.st = st, .rules = rules, .res = res, .file = f,
			.shown = shown, .p = &st->files[f].lines, .s = &s,
		};

		kw_split_lines(text, &s);
		check_file(&fc);
		kw_strv_free(&s);
		free(text);
	}
}

/* ---- output ------------------------------------------------------------ */

void kw_result_print(const struct kw_result *res, const struct kw_rules *rules,
		     FILE *out)
{
	size_t i, k;

	for (k = 0; k < res->general.n; k++)
		fprintf(out, "%s: %s: %s\n", res->general_where.v[k],
			kw_kind_name(res->general.v[k].kind), res->general.v[k].text);
	for (i = 0; i < res->n; i++) {
		const struct kw_blank *b = &res->blanks[i];
		int bad = 0;

		for (k = 0; k < b->findings.n; k++) {
			enum kw_kind kind = b->findings.v[k].kind;

			fprintf(out, "%s: %s: %s: %s\n", b->where, b->name,
				kw_kind_name(kind), b->findings.v[k].text);
			/* a hint helps with what, not with how it is written */
			bad |= kind == KW_SYNTAX || kind == KW_PRECEDENCE ||
			       kind == KW_RULE || kind == KW_MISSING;
		}
		if (bad && rules && kw_rules_hint(rules, b->name))
			fprintf(out, "%s: %s: hint: %s\n", b->where, b->name,
				kw_rules_hint(rules, b->name));
	}
}

static char *one_line(const char *s)
{
	struct kw_analysis a;
	char *flat;

	/* the flat text: white space runs as one space, tabs included */
	kw_analyze(s, KW_LEVEL_COMMA, &a);
	flat = kw_strdup(a.flat);
	kw_analysis_free(&a);
	return flat;
}

static char *key_text(const struct kw_result *res)
{
	struct kw_buf k = { 0 };
	size_t i;

	kw_buf_add(&k, "");
	for (i = 0; i < res->n; i++) {
		const struct kw_blank *b = &res->blanks[i];
		char *t = b->canon ? kw_strdup(b->canon) :
			  b->text ? one_line(b->text) : kw_strdup("");

		kw_buf_addf(&k, "%s = %s\n", b->name, t);
		free(t);
	}
	if (res->changed)
		kw_buf_add(&k, "changed\n");
	return kw_buf_take(&k);
}

void kw_result_key(const struct kw_result *res, FILE *out)
{
	char *k = key_text(res);

	fputs(k, out);
	free(k);
}

static const char *verdict_of(const struct kw_blank *b)
{
	size_t k;

	for (k = 0; k < b->findings.n; k++)
		if (is_violation(b->findings.v[k].kind))
			return kw_kind_name(b->findings.v[k].kind);
	return "ok";
}

static void json_opt(struct kw_buf *out, const char *s)
{
	if (s)
		kw_json_str(out, s);
	else
		kw_buf_add(out, "null");
}

static void json_finding(struct kw_buf *out, int *first, const char *where,
			 const char *blank, const char *kind, const char *text)
{
	kw_buf_add(out, *first ? "\n  {\"where\": " : ",\n  {\"where\": ");
	*first = 0;
	json_opt(out, where);
	kw_buf_add(out, ", \"blank\": ");
	json_opt(out, blank);
	kw_buf_add(out, ", \"kind\": ");
	kw_json_str(out, kind);
	kw_buf_add(out, ", \"text\": ");
	kw_json_str(out, text);
	kw_buf_addc(out, '}');
}

void kw_result_json(const struct kw_result *res, const struct kw_rules *rules,
		    const char *mode, int exit_code, struct kw_buf *out)
{
	size_t i, k;
	int first = 1, one;
	char *key;

	kw_buf_add(out, "{\"mode\": ");
	kw_json_str(out, mode);
	kw_buf_addf(out, ", \"exit\": %d, \"fatal\": %s, \"changed\": %s,\n \"findings\": [",
		    exit_code, res->fatal ? "true" : "false",
		    res->changed ? "true" : "false");
	for (k = 0; k < res->general.n; k++)
		json_finding(out, &first, res->general_where.v[k], NULL,
			     kw_kind_name(res->general.v[k].kind),
			     res->general.v[k].text);
	for (i = 0; i < res->n; i++)
		for (k = 0; k < res->blanks[i].findings.n; k++)
			json_finding(out, &first, res->blanks[i].where,
				     res->blanks[i].name,
				     kw_kind_name(res->blanks[i].findings.v[k].kind),
				     res->blanks[i].findings.v[k].text);
	kw_buf_add(out, "],\n \"blanks\": [");
	for (i = 0; i < res->n; i++) {
		const struct kw_blank *b = &res->blanks[i];

		one = b->text && !b->refusal;
		for (k = 0; k < b->findings.n; k++)
			if (b->findings.v[k].kind == KW_SYNTAX ||
			    b->findings.v[k].kind == KW_MISSING)
				one = 0;
		kw_buf_add(out, i ? ",\n  {\"name\": " : "\n  {\"name\": ");
		kw_json_str(out, b->name);
		kw_buf_add(out, ", \"where\": ");
		json_opt(out, b->where);
		kw_buf_add(out, ", \"given\": ");
		json_opt(out, b->text);
		kw_buf_add(out, ", \"canon\": ");
		json_opt(out, b->canon);
		kw_buf_addf(out, ", \"one_expression\": %s, \"verdict\": ",
			    one ? "true" : "false");
		kw_json_str(out, verdict_of(b));
		kw_buf_add(out, ", \"hint\": ");
		json_opt(out, rules ? kw_rules_hint(rules, b->name) : NULL);
		kw_buf_addc(out, '}');
	}
	kw_buf_add(out, "],\n \"refusals\": [");
	first = 1;
	for (i = 0; i < res->n; i++)
		if (res->blanks[i].refusal)
			json_finding(out, &first, res->blanks[i].where,
				     res->blanks[i].name, "refused",
				     res->blanks[i].refusal);
	key = key_text(res);
	kw_buf_add(out, "],\n \"key\": ");
	kw_json_str(out, key);
	kw_buf_add(out, "}\n");
	free(key);
}

void kw_result_table(const struct kw_result *res, FILE *out)
{
	size_t i, k;

	for (i = 0; i < res->n; i++) {
		const struct kw_blank *b = &res->blanks[i];
		const char *verdict = verdict_of(b);
		char *t = b->text ? one_line(b->text) : kw_strdup("");

		for (k = 0; t[k]; k++)
			if (t[k] == '\t')
				t[k] = ' ';
		fprintf(out, "%s\t%s\t%s\t%s\n", b->name, b->where ? b->where : "",
			t, verdict);
		free(t);
	}
}
