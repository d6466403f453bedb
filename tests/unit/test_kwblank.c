// SPDX-License-Identifier: GPL-2.0
/*
 * test_kwblank.c - CMocka unit tests of the static blank checker
 * (checker/kwblank): expressions, rules and submissions.
 */
#define _POSIX_C_SOURCE 200809L

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "kwcheck.h"
#include "kwexpr.h"
#include "kwrules.h"
#include "kwutil.h"

/* ---- helpers ----------------------------------------------------------- */

/* Does any finding of kind contain text? */
static int has(const struct kw_findings *f, enum kw_kind kind, const char *text)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (f->v[i].kind == kind && strstr(f->v[i].text, text))
			return 1;
	return 0;
}

static size_t count(const struct kw_findings *f, enum kw_kind kind)
{
	size_t i, n = 0;

	for (i = 0; i < f->n; i++)
		n += f->v[i].kind == kind;
	return n;
}

static void dump(const struct kw_findings *f)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		print_message("  %s: %s\n", kw_kind_name(f->v[i].kind), f->v[i].text);
}

/* ---- canonical forms --------------------------------------------------- */

static const char *const canon_cases[][2] = {
	{ "container_of(work,struct client_work_queue,work)",
	  "container_of(work, struct client_work_queue, work)" },
	{ "queue_work( kweb_wq , & client -> work )",
	  "queue_work(kweb_wq, &client->work)" },
	{ "a+b*c", "a + b * c" },
	{ "x?y:z", "x ? y : z" },
	{ "x ?: y", "x ?: y" },
	{ "!kthread_should_stop( )", "!kthread_should_stop()" },
	{ "sizeof x", "sizeof(x)" },
	{ "sizeof (struct foo)", "sizeof(struct foo)" },
	{ "sizeof *p", "sizeof(*p)" },
	{ "( unsigned long ) -1", "(unsigned long)-1" },
	{ "(struct foo*)p", "(struct foo *)p" },
	{ "(const char * const *)p", "(const char *const *)p" },
	{ "(size_t)len", "(size_t)len" },
	{ "(my_type)x", "(my_type)x" },
	{ "- -x", "- -x" },
	{ "-(-x)", "-(-x)" },
	{ "p->a[i].b++", "p->a[i].b++" },
	{ "KERN_INFO \"x\"  \"y\"", "KERN_INFO \"x\" \"y\"" },
	{ "sysfs_emit(buf,\"%d\\n\",running)", "sysfs_emit(buf, \"%d\\n\", running)" },
	{ "(struct foo){.a=1,.b={2}}", "(struct foo){ .a = 1, .b = { 2 } }" },
	{ "container_of(work, typeof(*client), work)",
	  "container_of(work, typeof(*client), work)" },
	{ "a /* why */ + b", "a + b" },
	{ "x<<=2", "x <<= 2" },
	{ "f(g(h(1)), 'c', L\"w\")", "f(g(h(1)), 'c', L\"w\")" },
	{ "a&&b||c", "a && b || c" },
	{ "*p++", "*p++" },
	{ "&arr[0]", "&arr[0]" },
};

static void test_canonical(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(canon_cases) / sizeof(canon_cases[0]); i++) {
		struct kw_analysis a;

		kw_analyze(canon_cases[i][0], KW_LEVEL_FULL, &a);
		if (!a.canon || strcmp(a.canon, canon_cases[i][1])) {
			print_message("%s: got %s, want %s\n", canon_cases[i][0],
				      a.canon ? a.canon : "(none)", canon_cases[i][1]);
			dump(&a.findings);
			fail();
		}
		assert_int_equal(count(&a.findings, KW_SYNTAX), 0);
		kw_analysis_free(&a);
	}
}

/* ---- not one expression ------------------------------------------------ */

static const char *const syntax_cases[][2] = {
	{ "f(a); g()", "no ';'" },
	{ "a // comment", "// comment" },
	{ "if (x) y", "statement keyword" },
	{ "return x", "statement keyword" },
	{ "", "empty" },
	{ "   ", "empty" },
	{ "\"open", "unterminated" },
	{ "/* open", "unterminated" },
	{ "a, b", "more than one expression" },
	{ "({ int x = 1; x; })", "no ';'" },
	{ "({ x })", "statement expression" },
	{ "f(a", "ends too early" },
	{ "a b", "unexpected 'b'" },
	{ "f(a))", "unexpected ')'" },
	{ "int", "type name" },
	{ "#x", "'#'" },
	{ "a @ b", "is not C" },
	{ "x = ", "ends too early" },
	{ "a ? b", "ends too early" },
};

static void test_syntax(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(syntax_cases) / sizeof(syntax_cases[0]); i++) {
		struct kw_analysis a;

		kw_analyze(syntax_cases[i][0], KW_LEVEL_FULL, &a);
		if (!has(&a.findings, KW_SYNTAX, syntax_cases[i][1])) {
			print_message("'%s' lacks a syntax finding with '%s':\n",
				      syntax_cases[i][0], syntax_cases[i][1]);
			dump(&a.findings);
			fail();
		}
		kw_analysis_free(&a);
	}
}

/* ---- precedence where the blank stands ------------------------------- */

static void test_precedence(void **state)
{
	struct kw_analysis a;

	(void)state;
	/* if (AAAA || ...): an assignment there would be read differently */
	kw_analyze("x = f()", 5, &a);
	assert_true(has(&a.findings, KW_PRECEDENCE, "(x = f())"));
	kw_analysis_free(&a);
	kw_analyze("f() != 0", 5, &a);
	assert_int_equal(a.findings.n, 0);
	kw_analysis_free(&a);
	/* !AAAA */
	kw_analyze("a && b", KW_LEVEL_UNARY, &a);
	assert_true(has(&a.findings, KW_PRECEDENCE, "(a && b)"));
	kw_analysis_free(&a);
	kw_analyze("(a && b)", KW_LEVEL_UNARY, &a);
	assert_int_equal(a.findings.n, 0);
	kw_analysis_free(&a);
	/* AAAA->x */
	kw_analyze("*p", KW_LEVEL_POSTFIX, &a);
	assert_true(has(&a.findings, KW_PRECEDENCE, "(*p)"));
	kw_analysis_free(&a);
}

/* ---- the level a position demands ------------------------------------- */

static int level_of(const char *line)
{
	struct kw_toks t = { 0 };
	size_t k;
	int lv = -1;

	kw_lex(line, strlen(line), &t);
	for (k = 0; k < t.n; k++)
		if (kw_tok_is(line, &t.v[k], "AAAA"))
			lv = kw_slot_level(line, &t, k);
	kw_toks_free(&t);
	return lv;
}

static void test_slot_level(void **state)
{
	(void)state;
	assert_int_equal(level_of("\tlen = AAAA;"), KW_LEVEL_FULL);
	assert_int_equal(level_of("\tAAAA;"), KW_LEVEL_FULL);
	assert_int_equal(level_of("\twhile (AAAA) {"), KW_LEVEL_FULL);
	assert_int_equal(level_of("\tf(a, AAAA, b);"), KW_LEVEL_FULL);
	assert_int_equal(level_of("\treturn AAAA;"), KW_LEVEL_FULL);
	assert_int_equal(level_of("\tif (x) AAAA;"), KW_LEVEL_FULL);
	assert_int_equal(level_of("\tif (AAAA || (on != 0))"), 4);
	assert_int_equal(level_of("\tif (x && AAAA)"), 6);
	assert_int_equal(level_of("\ty = a - AAAA;"), 13);
	assert_int_equal(level_of("\ty = AAAA - a;"), 12);
	assert_int_equal(level_of("\ty = !AAAA;"), KW_LEVEL_UNARY);
	assert_int_equal(level_of("\ty = a & AAAA;"), 9);
	assert_int_equal(level_of("\ty = &AAAA;"), KW_LEVEL_UNARY);
	assert_int_equal(level_of("\ty = (int)AAAA;"), KW_LEVEL_UNARY);
	assert_int_equal(level_of("\ty = AAAA->x;"), KW_LEVEL_POSTFIX);
	assert_int_equal(level_of("\ty = c ? AAAA : d;"), KW_LEVEL_FULL);
	assert_int_equal(level_of("\ty = c ? d : AAAA;"), 3);
	assert_int_equal(level_of("\ty = AAAA ? c : d;"), 4);
	assert_int_equal(level_of("\tAAAA = 1;"), KW_LEVEL_UNARY);
}

/* ---- minimal forms ----------------------------------------------------- */

static const char *const minimal_cases[][2] = {
	{ "(!kthread_should_stop())", "redundant parentheses" },
	{ "((x))", "double parentheses" },
	{ "x = (a + b)", "redundant parentheses" },
	{ "f((a + b))", "redundant parentheses" },
	{ "(a)->b", "redundant parentheses" },
	{ "!(x)", "redundant parentheses" },
	{ "(int)(x)", "redundant parentheses" },
	{ "(struct foo *)container_of(w, struct foo, w)", "container_of() already" },
	{ "(struct foo *)kzalloc(sizeof(*p), GFP_KERNEL)", "returns void *" },
	{ "(char *)NULL", "cast of NULL" },
	{ "(void *)0", "write NULL" },
	{ "(int)(long)x", "cast of a cast" },
	{ "kthread_should_stop() == false", "write !kthread_should_stop()" },
	{ "x != false", "write x" },
	{ "true == x", "write x" },
	{ "x != true", "write !x" },
	{ "&*p", "cancels out" },
	{ "*&x", "cancels out" },
	{ "c ? (a) : b", "redundant parentheses" },
};

/* Parentheses a reader may want, and forms that are minimal already. */
static const char *const clean_cases[] = {
	"a + (b * c)",
	"(a && b) || c",
	"(a & b) == c",
	"(a > b) ? a : b",
	"-(a + b)",
	"-(-x)",
	"(*p)->x",
	"*(p + 1)",
	"((struct foo *)p)->x",
	"(int)(a + b)",
	"sizeof(x)",
	"sizeof(struct foo)",
	"(x = f())",
	"!head ? reply->body : \"\"",
	"kernel_recvmsg(client->sock, &msg, &vec, 1, KWEB_BUF_SIZE, 0)",
	"container_of(kobj, struct kweb_data, kobj)",
	"(size_t)len",
	"x == NULL",
};

static void test_minimal(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(minimal_cases) / sizeof(minimal_cases[0]); i++) {
		struct kw_analysis a;

		kw_analyze(minimal_cases[i][0], KW_LEVEL_FULL, &a);
		if (!has(&a.findings, KW_MINIMAL, minimal_cases[i][1])) {
			print_message("'%s' lacks '%s':\n", minimal_cases[i][0],
				      minimal_cases[i][1]);
			dump(&a.findings);
			fail();
		}
		kw_analysis_free(&a);
	}
	for (i = 0; i < sizeof(clean_cases) / sizeof(clean_cases[0]); i++) {
		struct kw_analysis a;

		kw_analyze(clean_cases[i], KW_LEVEL_FULL, &a);
		if (a.findings.n) {
			print_message("'%s' should have no finding:\n", clean_cases[i]);
			dump(&a.findings);
			fail();
		}
		kw_analysis_free(&a);
	}
}

static void test_idents_calls(void **state)
{
	struct kw_analysis a;

	(void)state;
	kw_analyze("queue_work(kweb_wq, &client->work)", KW_LEVEL_FULL, &a);
	assert_int_equal(a.calls.n, 1);
	assert_string_equal(a.calls.v[0], "queue_work");
	assert_true(kw_strv_has(&a.idents, "kweb_wq"));
	assert_true(kw_strv_has(&a.idents, "work"));
	kw_analysis_free(&a);
	/* found even when the text does not parse */
	kw_analyze("cancel_work_sync(&w); x", KW_LEVEL_FULL, &a);
	assert_true(kw_strv_has(&a.calls, "cancel_work_sync"));
	kw_analysis_free(&a);
}

/* ---- rules ------------------------------------------------------------- */

static const char rules_text[] =
	"# comment\n"
	"blanks AAAA BBBB CCCC\n"
	"set wq queue_work cancel_work_sync\n"
	"AAAA calls container_of\n"
	"AAAA hint From the work\n"
	"AAAA hint to its owner.\n"
	"BBBB calls @wq\n"
	"CCCC uses head\n"
	"CCCC forbids goto_fail strcpy\n"
	"* forbids BUG\n";

static void check_rule(const struct kw_rules *r, const char *blank,
		       const char *expr, const char *want)
{
	struct kw_analysis a;
	struct kw_findings f = { 0 };

	kw_analyze(expr, KW_LEVEL_FULL, &a);
	kw_rules_check(r, blank, &a, &f);
	if (want ? !has(&f, KW_RULE, want) : f.n != 0) {
		print_message("%s = %s: want %s\n", blank, expr, want ? want : "nothing");
		dump(&f);
		fail();
	}
	kw_findings_free(&f);
	kw_analysis_free(&a);
}

static void test_rules(void **state)
{
	struct kw_rules r;
	struct kw_buf err = { 0 };

	(void)state;
	assert_int_equal(kw_rules_parse(rules_text, "x.rules", &r, &err), 0);
	assert_int_equal(r.blanks.n, 3);
	assert_string_equal(kw_rules_hint(&r, "AAAA"), "From the work to its owner.");
	check_rule(&r, "AAAA", "container_of(w, struct x, w)", NULL);
	check_rule(&r, "AAAA", "list_entry(w, struct x, w)", "should call container_of()");
	check_rule(&r, "AAAA", "container_of", "should call");	/* no call */
	check_rule(&r, "BBBB", "cancel_work_sync(&w)", NULL);
	check_rule(&r, "BBBB", "flush_work(&w)", "@wq");
	check_rule(&r, "CCCC", "head ? a : b", NULL);
	check_rule(&r, "CCCC", "a ? b : c", "should use head");
	check_rule(&r, "CCCC", "head ? strcpy(a, b) : c", "must not use strcpy");
	check_rule(&r, "AAAA", "container_of(BUG, struct x, w)", "must not use BUG");
	check_rule(&r, "AAAA", "container_of(w, struct x, w)", NULL);
	kw_rules_free(&r);
	kw_buf_free(&err);
}

static void test_rules_errors(void **state)
{
	static const char *const bad[][2] = {
		{ "AAAA calls f\n", "no 'blanks' line" },
		{ "blanks AAAA\nAAAA wants f\n", "unknown rule" },
		{ "blanks AAAA\nAAAA calls @nope\n", "no set @nope" },
		{ "blanks AAAA\nBBBB calls f\n", "BBBB is not in the 'blanks' line" },
		{ "blanks AAAA\nAAAA calls\n", "needs at least one word" },
		{ "blanks AAAA\nAAAA calls f(x)\n", "not an identifier" },
		{ "blanks AAAB\n", "not a blank name" },
		{ "blanks AAAA\nwhat\n", "expected" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct kw_rules r;
		struct kw_buf err = { 0 };

		assert_int_equal(kw_rules_parse(bad[i][0], "y.rules", &r, &err), -1);
		if (!err.s || !strstr(err.s, bad[i][1])) {
			print_message("'%s': got '%s', want '%s'\n", bad[i][0],
				      err.s ? err.s : "", bad[i][1]);
			fail();
		}
		assert_non_null(strstr(err.s, "y.rules"));
		kw_rules_free(&r);
		kw_buf_free(&err);
	}
}

/* ---- submissions ------------------------------------------------------- */

static const char stage_text[] =
	"static int f(void)\n"
	"{\n"
	"\tint len;\n"
	"\n"
	"\tlen = AAAA;\n"
	"\twhile (BBBB) {\n"
	"\t\tg(len);\n"
	"\t}\n"
	"\tCCCC;\n"
	"\treturn 0;\n"
	"}\n";

struct fixture {
	char dir[64];
	struct kw_stage st;
};

static int setup(void **state)
{
	struct fixture *fx = kw_alloc(sizeof(*fx));
	struct kw_buf err = { 0 };
	char *path, *name = "m.c";
	FILE *f;

	strcpy(fx->dir, "/tmp/kwblank-test.XXXXXX");
	if (!mkdtemp(fx->dir))
		return -1;
	path = kw_printf("%s/m.c", fx->dir);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(stage_text, f);
	fclose(f);
	free(path);
	if (kw_stage_load(&fx->st, fx->dir, &name, 1, &err))
		return -1;
	kw_buf_free(&err);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char *path = kw_printf("%s/m.c", fx->dir);

	unlink(path);
	rmdir(fx->dir);
	free(path);
	kw_stage_free(&fx->st);
	free(fx);
	return 0;
}

static void test_stage_sites(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(fx->st.nsites, 3);
	assert_string_equal(fx->st.sites[0].name, "AAAA");
	assert_int_equal(fx->st.sites[0].line, 4);
	assert_int_equal(fx->st.sites[1].line, 5);
	assert_int_equal(fx->st.sites[2].line, 8);
	assert_int_equal(fx->st.sites[1].level, KW_LEVEL_FULL);
}

static const struct kw_blank *blank(const struct kw_result *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (!strcmp(r->blanks[i].name, name))
			return &r->blanks[i];
	fail_msg("no blank %s", name);
	return NULL;
}

static void test_answers_clean(void **state)
{
	struct fixture *fx = *state;
	struct kw_result r;

	kw_check_answers(&fx->st, NULL,
			 "# mine\r\nAAAA = h(1, 2)\r\n\nBBBB=!done\nCCCC   =  stop(x)  \n",
			 "ans.txt", &r);
	assert_false(r.fatal);
	assert_int_equal(kw_result_violations(&r), 0);
	assert_string_equal(blank(&r, "AAAA")->text, "h(1, 2)");
	assert_string_equal(blank(&r, "AAAA")->where, "ans.txt:2");
	assert_string_equal(blank(&r, "BBBB")->where, "ans.txt:4");
	assert_string_equal(blank(&r, "CCCC")->canon, "stop(x)");
	kw_result_free(&r);
}

static void test_answers_problems(void **state)
{
	struct fixture *fx = *state;
	struct kw_result r;

	/* BBBB missing: fatal */
	kw_check_answers(&fx->st, NULL, "AAAA = h(1,2)\nCCCC = stop(x);\nDDDD = 1\n",
			 "a.txt", &r);
	assert_true(r.fatal);
	assert_true(has(&blank(&r, "BBBB")->findings, KW_MISSING, "not answered"));
	assert_true(has(&blank(&r, "AAAA")->findings, KW_STYLE, "write h(1, 2)"));
	assert_true(has(&blank(&r, "CCCC")->findings, KW_SYNTAX,
			"not one C expression (';'): answers hold expressions only"));
	assert_non_null(blank(&r, "CCCC")->refusal);
	assert_null(blank(&r, "AAAA")->refusal);
	assert_true(has(&r.general, KW_SYNTAX, "no blank DDDD"));
	kw_result_free(&r);

	/* an empty answer is no answer */
	kw_check_answers(&fx->st, NULL, "AAAA = 1\nBBBB =\nCCCC = x\n", "a.txt", &r);
	assert_true(r.fatal);
	assert_true(has(&blank(&r, "BBBB")->findings, KW_MISSING, "not answered"));
	kw_result_free(&r);

	/* twice, and a line that is not an answer */
	kw_check_answers(&fx->st, NULL, "AAAA = 1\nAAAA = 2\nBBBB: x\nCCCC = y\n",
			 "a.txt", &r);
	assert_true(r.fatal);
	assert_true(has(&r.general, KW_SYNTAX, "answered twice"));
	assert_true(has(&r.general, KW_SYNTAX, "expected"));
	kw_result_free(&r);
}

static void check_files(struct fixture *fx, const char *student,
			struct kw_result *r)
{
	char *texts[1] = { (char *)student };

	kw_check_files(&fx->st, NULL, texts, "mine", r);
}

static char *filled(const char *a, const char *b, const char *c)
{
	struct kw_buf buf = { 0 };

	kw_buf_addf(&buf,
		    "static int f(void)\n{\n\tint len;\n\n\tlen = %s;\n"
		    "\twhile (%s) {\n\t\tg(len);\n\t}\n\t%s;\n\treturn 0;\n}\n",
		    a, b, c);
	return kw_buf_take(&buf);
}

static void test_files_clean(void **state)
{
	struct fixture *fx = *state;
	struct kw_result r;
	char *s = filled("/*{*/h(1, 2)/*}*/", "!done", "stop(x)");

	check_files(fx, s, &r);
	assert_false(r.fatal);
	assert_false(r.changed);
	assert_int_equal(kw_result_violations(&r), 0);
	assert_int_equal(r.general.n, 0);
	assert_string_equal(blank(&r, "AAAA")->text, "h(1, 2)");
	assert_string_equal(blank(&r, "AAAA")->where, "mine/m.c:5");
	assert_string_equal(blank(&r, "CCCC")->where, "mine/m.c:9");
	kw_result_free(&r);
	free(s);
}

static void test_files_style(void **state)
{
	struct fixture *fx = *state;
	struct kw_result r;
	char *s = filled("h(1,2)", " !done ", "(stop(x))");

	check_files(fx, s, &r);
	assert_false(r.changed);
	assert_true(has(&blank(&r, "AAAA")->findings, KW_STYLE, "write h(1, 2)"));
	assert_true(has(&blank(&r, "BBBB")->findings, KW_STYLE, "should read: while (!done) {"));
	assert_true(has(&blank(&r, "CCCC")->findings, KW_MINIMAL, "redundant"));
	kw_result_free(&r);
	free(s);
}

/* An expression over two lines, as kernel style wraps long lines. */
static void test_files_multiline(void **state)
{
	struct fixture *fx = *state;
	struct kw_result r;
	char *s = filled("h(1,\n\t\t  2)", "!done", "stop(x)");

	check_files(fx, s, &r);
	assert_false(r.changed);
	assert_int_equal(kw_result_violations(&r), 0);
	assert_string_equal(blank(&r, "AAAA")->canon, "h(1, 2)");
	assert_string_equal(blank(&r, "BBBB")->where, "mine/m.c:7");
	kw_result_free(&r);
	free(s);
}

/* Lines changed around the blanks: allowed, and said. */
static void test_files_changed(void **state)
{
	struct fixture *fx = *state;
	struct kw_result r;
	const char *s =
		"static int f(void)\n"
		"{\n"
		"\tint len;\n"
		"\tint extra = 0;\n"
		"\n"
		"\tlen = h(1, 2); /* mine */\n"
		"\twhile (!done) {\n"
		"\t\tg(len + extra);\n"
		"\t}\n"
		"\tif (len)\n"
		"\t\tstop(x);\n"
		"\treturn 0;\n"
		"}\n";

	check_files(fx, s, &r);
	assert_true(r.changed);
	assert_false(r.fatal);
	assert_true(has(&r.general, KW_NOTICE, "changed outside the blanks"));
	assert_true(has(&r.general, KW_NOTICE, "4, 8, 10"));
	assert_true(has(&blank(&r, "AAAA")->findings, KW_NOTICE, "other changes"));
	assert_string_equal(blank(&r, "CCCC")->text, "stop(x)");
	assert_string_equal(blank(&r, "CCCC")->where, "mine/m.c:11");
	assert_int_equal(kw_result_violations(&r), 0);
	kw_result_free(&r);
}

static void test_files_lost_and_unfilled(void **state)
{
	struct fixture *fx = *state;
	struct kw_result r;
	char *s = filled("h(1, 2)", "BBBB", "stop(x)");
	char *t;

	check_files(fx, s, &r);
	assert_true(r.fatal);
	assert_true(has(&blank(&r, "BBBB")->findings, KW_MISSING, "not filled in"));
	kw_result_free(&r);
	free(s);

	/* the line of AAAA rewritten beyond recognition */
	t = filled("h(1, 2)", "!done", "stop(x)");
	s = kw_strdup(t);
	strcpy(strstr(s, "\tlen = h"), "\tlen2 = h(1, 2);\n");
	check_files(fx, s, &r);
	assert_true(has(&blank(&r, "AAAA")->findings, KW_MISSING, "cannot find"));
	assert_false(r.fatal);
	assert_true(r.changed);
	kw_result_free(&r);
	free(s);
	free(t);
}

/* The normalized answer set ignores white space and comments only. */
static void test_key(void **state)
{
	struct fixture *fx = *state;
	struct kw_result r1, r2, r3;
	char *k1 = NULL, *k2 = NULL, *k3 = NULL;
	size_t n1, n2, n3;
	FILE *f;
	char *s = filled("h(1, 2)", "!done", "stop(x)");

	kw_check_answers(&fx->st, NULL, "AAAA = h( 1,2 )\nBBBB = !  done\nCCCC = stop(x)\n",
			 "a", &r1);
	check_files(fx, s, &r2);
	kw_check_answers(&fx->st, NULL, "AAAA = h(1, 2)\nBBBB = (!done)\nCCCC = stop(x)\n",
			 "a", &r3);
	f = open_memstream(&k1, &n1);
	kw_result_key(&r1, f);
	fclose(f);
	f = open_memstream(&k2, &n2);
	kw_result_key(&r2, f);
	fclose(f);
	f = open_memstream(&k3, &n3);
	kw_result_key(&r3, f);
	fclose(f);
	assert_string_equal(k1, "AAAA = h(1, 2)\nBBBB = !done\nCCCC = stop(x)\n");
	assert_string_equal(k1, k2);
	assert_string_not_equal(k1, k3);
	kw_result_free(&r1);
	kw_result_free(&r2);
	kw_result_free(&r3);
	free(k1);
	free(k2);
	free(k3);
	free(s);
}


/* ---- answers that are not one expression -------------------------------- */

static const char *const refused_cases[][2] = {
	{ "({ int x = 1; container_of(w, struct c, w); })", "statement expression '({'" },
	{ "( { x; })", "statement expression '({'" },
	{ "(struct foo){ .a = 1 }", "braces '{'" },
	{ "x }", "braces '}'" },
	{ "f(a); g()", "';'" },
	{ "a /* hide */", "a comment '/*'" },
	{ "a // hide", "a comment '//'" },
	{ "#define x", "preprocessor '#'" },
	{ "a ## b", "preprocessor '#'" },
	{ "%:define x", "the digraph '%:'" },
	{ "a <% b", "the digraph '<%'" },
	{ "x :> y", "the digraph ':>'" },
	{ "a ?\?= b", "the trigraph '?\?='" },
	{ "x \\", "a backslash outside a string" },
	{ "\\u0041", "a backslash outside a string" },
	{ "a, b", "a comma at the top level" },
	{ "f(a), g(b)", "a comma at the top level" },
	{ "x), evil(y", "an unbalanced ')'" },
	{ "f(x", "an unbalanced '('" },
	{ "a[(1])", "an unbalanced ']'" },
	{ "asm(\"nop\")", "GNU asm" },
	{ "__asm__ volatile(\"hlt\")", "GNU asm" },
	{ "__asm(\"x\")", "GNU asm" },
	{ "_Pragma(\"GCC poison f\")", "_Pragma" },
	{ "(int __attribute__((unused)))x", "__attribute__" },
	{ "return x", "the statement keyword 'return'" },
	{ "\"a\\\"; x(); \\\"\"; evil()", "';'" },
	{ "'\"' ; evil()", "';'" },
	{ "'\\'' ; evil()", "';'" },
	{ "\"unterminated", "an unterminated string" },
	{ "'x", "an unterminated character constant" },
	{ "R\"x(\")x\" ; \"\"", "a raw string literal" },
	{ "u8R\"(a)\"", "a raw string literal" },
	{ "a\x01", "a byte 0x01 at column 2" },
	{ "a\r", "a byte 0x0d" },
	{ "caf\xc3\xa9", "a byte 0xc3 at column 4" },
	{ "a\x7f", "a byte 0x7f" },
};

static const char *const accepted_cases[] = {
	"container_of(work, struct client_work_queue, work)",
	"&kweb_ops",
	"f(\"a,b\")",
	"f(a, b)",
	"f(\"a;b\", '{', \"/* no */\", \"#x\", '\\'', \"\\\"\")",
	"x ? a : b",
	"arr[f(1, 2)]",
	"KERN_INFO \"x\\n\"",
	"L'x' + u8\"y\"[0]",
	"1e+5 + 0x1p-3 + 10UL",
	"sizeof(struct kweb_data)",
	"(unsigned long)-1",
	"cancel_work_sync(&srv->accept_work)",
	"a\t+ b",
	"\"??\"",
};

static void test_not_expression(void **state)
{
	size_t i;
	char *why, long_text[KW_ANSWER_MAX + 2];

	(void)state;
	for (i = 0; i < sizeof(refused_cases) / sizeof(refused_cases[0]); i++) {
		if (!kw_not_expression(refused_cases[i][0], 1, &why) ||
		    !strstr(why, refused_cases[i][1])) {
			print_message("'%s': got '%s', want '%s'\n", refused_cases[i][0],
				      why ? why : "(accepted)", refused_cases[i][1]);
			fail();
		}
		free(why);
	}
	for (i = 0; i < sizeof(accepted_cases) / sizeof(accepted_cases[0]); i++) {
		if (kw_not_expression(accepted_cases[i], 1, &why)) {
			print_message("'%s' refused: %s\n", accepted_cases[i], why);
			fail();
		}
		assert_null(why);
	}
	memset(long_text, 'x', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	assert_true(kw_not_expression(long_text, 1, &why));
	assert_non_null(strstr(why, "longer than 200 characters"));
	free(why);
	/* in a filled-in file, length is the student's business */
	assert_false(kw_not_expression(long_text, 0, &why));
	long_text[KW_ANSWER_MAX] = '\0';
	assert_false(kw_not_expression(long_text, 1, &why));
}

static void test_answers_refused(void **state)
{
	struct fixture *fx = *state;
	struct kw_result r;

	kw_check_answers(&fx->st, NULL,
			 "AAAA = ({ g(1); h(1, 2); })\nBBBB = !done\nCCCC = stop(x), evil()\n",
			 "ans.txt", &r);
	assert_true(r.fatal);
	assert_string_equal(blank(&r, "AAAA")->refusal,
			    "not one C expression (statement expression '({'): answers hold expressions only");
	assert_string_equal(blank(&r, "AAAA")->where, "ans.txt:1");
	assert_null(blank(&r, "BBBB")->refusal);
	assert_int_equal(blank(&r, "BBBB")->findings.n, 0);
	assert_non_null(strstr(blank(&r, "CCCC")->refusal, "a comma at the top level"));
	kw_result_free(&r);
}

static void test_files_not_expression(void **state)
{
	struct fixture *fx = *state;
	struct kw_result r;
	char *s = filled("_Pragma(\"GCC x\")", "!done", "stop(x)");

	/* feedback only: a student may edit the file freely */
	check_files(fx, s, &r);
	assert_false(r.fatal);
	assert_true(has(&blank(&r, "AAAA")->findings, KW_SYNTAX,
			"not one C expression (_Pragma)"));
	assert_null(blank(&r, "AAAA")->refusal);
	kw_result_free(&r);
	free(s);
}

/* ---- JSON ------------------------------------------------------------------ */

static void test_json_str(void **state)
{
	static const char *const cases[][2] = {
		{ "plain", "\"plain\"" },
		{ "a\"b\\c", "\"a\\\"b\\\\c\"" },
		{ "l1\nl2\tx", "\"l1\\nl2\\tx\"" },
		{ "\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"" },
		{ "caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80", "\"caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80\"" },
		{ "\xff", "\"\\ufffd\"" },
		{ "\xe4\xb8", "\"\\ufffd\\ufffd\"" },		/* cut short */
		{ "\xc0\xaf", "\"\\ufffd\\ufffd\"" },		/* overlong '/' */
		{ "\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"" },	/* a surrogate */
		{ "\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" }, /* > U+10FFFF */
		{ "</script>", "\"</script>\"" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct kw_buf b = { 0 };

		kw_json_str(&b, cases[i][0]);
		assert_string_equal(b.s, cases[i][1]);
		kw_buf_free(&b);
	}
}

static void test_result_json(void **state)
{
	struct fixture *fx = *state;
	struct kw_result r;
	struct kw_buf j = { 0 };

	kw_check_answers(&fx->st, NULL,
			 "AAAA = h(\"a\\\"b\", 2)\nBBBB = ({ x; })\nCCCC = stop( x )\n",
			 "my \"answers\".txt", &r);
	kw_result_json(&r, NULL, "answers", 3, &j);
	assert_non_null(strstr(j.s, "{\"mode\": \"answers\", \"exit\": 3, \"fatal\": true"));
	assert_non_null(strstr(j.s, "\"given\": \"h(\\\"a\\\\\\\"b\\\", 2)\""));
	assert_non_null(strstr(j.s, "\"where\": \"my \\\"answers\\\".txt:2\", \"blank\": \"BBBB\", \"kind\": \"refused\""));
	assert_non_null(strstr(j.s, "{\"name\": \"CCCC\", \"where\": \"my \\\"answers\\\".txt:3\", \"given\": \"stop( x )\", \"canon\": \"stop(x)\", \"one_expression\": true, \"verdict\": \"style\""));
	assert_non_null(strstr(j.s, "\"one_expression\": false"));
	assert_non_null(strstr(j.s, "\"key\": \"AAAA = h(\\\"a\\\\\\\"b\\\", 2)\\nBBBB = ({ x; })\\nCCCC = stop(x)\\n\"}"));
	kw_buf_free(&j);
	kw_result_free(&r);
}

static void test_rules_json(void **state)
{
	struct kw_rules r;
	struct kw_buf err = { 0 }, j = { 0 };

	(void)state;
	assert_int_equal(kw_rules_parse(rules_text, "x\".rules", &r, &err), 0);
	kw_rules_json(&r, &j);
	assert_non_null(strstr(j.s, "{\"path\": \"x\\\".rules\",\n \"blanks\": [\"AAAA\", \"BBBB\", \"CCCC\"]"));
	assert_non_null(strstr(j.s, "\"sets\": {\n  \"wq\": [\"queue_work\", \"cancel_work_sync\"]}"));
	assert_non_null(strstr(j.s, "{\"blank\": \"BBBB\", \"verb\": \"calls\", \"words\": [\"queue_work\", \"cancel_work_sync\"], \"written\": [\"@wq\"], \"set\": \"wq\""));
	assert_non_null(strstr(j.s, "{\"blank\": \"CCCC\", \"verb\": \"forbids\", \"words\": [\"goto_fail\", \"strcpy\"], \"written\": [\"goto_fail\", \"strcpy\"], \"set\": null"));
	assert_non_null(strstr(j.s, "\"hints\": {\n  \"AAAA\": \"From the work to its owner.\"}}\n"));
	kw_buf_free(&j);
	kw_rules_free(&r);
	kw_buf_free(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canonical),
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_slot_level),
		cmocka_unit_test(test_minimal),
		cmocka_unit_test(test_idents_calls),
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_rules_errors),
		cmocka_unit_test_setup_teardown(test_stage_sites, setup, teardown),
		cmocka_unit_test_setup_teardown(test_answers_clean, setup, teardown),
		cmocka_unit_test_setup_teardown(test_answers_problems, setup, teardown),
		cmocka_unit_test_setup_teardown(test_files_clean, setup, teardown),
		cmocka_unit_test_setup_teardown(test_files_style, setup, teardown),
		cmocka_unit_test_setup_teardown(test_files_multiline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_files_changed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_files_lost_and_unfilled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key, setup, teardown),
		cmocka_unit_test(test_not_expression),
		cmocka_unit_test_setup_teardown(test_answers_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_files_not_expression, setup, teardown),
		cmocka_unit_test(test_json_str),
		cmocka_unit_test_setup_teardown(test_result_json, setup, teardown),
		cmocka_unit_test(test_rules_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
