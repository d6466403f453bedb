// SPDX-License-Identifier: GPL-2.0
/*
 * kwblank - the static blank checker of kweb-lab.
 *
 *   kwblank check --stage DIR --file NAME... [--rules FILE] [--shown NAME]
 *                 (--answers FILE | --submission DIR)
 *                 [--table FILE] [--key FILE] [--json FILE]
 *   kwblank rules --json RULES
 *   kwblank canon [--level N] EXPRESSION
 *
 * check: DIR is the pristine stage (with its AAAA, BBBB, ... tokens), each
 * --file one of its source files; the submission is an answers file or a
 * folder with the same files filled in. Prints one finding a line
 * ("WHERE: BLANK: KIND: text"), writes a table of the answers (--table) and
 * the normalized answer set (--key), and all of it as JSON (--json: the
 * findings, each blank's expression as given and canonical, and the
 * answers refused; see kw_result_json()). An answer in an answers file
 * that is not one C expression is refused: the grader must not fill it in.
 * Exit status: 0 nothing to report, 1 findings, 3 blanks not answered or
 * not filled in, an answer refused, or an answers file that cannot be
 * read as one; 2 usage error or a stage and rules file that disagree.
 *
 * rules: a blanks.rules file as JSON on stdout (kw_rules_json()), for the
 * handouts; exit status 2 (the reason on stderr) if it does not parse.
 *
 * canon: the canonical form of one expression and its findings, in a slot
 * demanding level N (default 2, a full expression).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kwcheck.h"
#include "kwexpr.h"
#include "kwrules.h"
#include "kwutil.h"

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fputs("kwblank: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void __attribute__((noreturn)) usage(void)
{
	die("usage: kwblank check --stage DIR --file NAME... [--rules FILE] [--shown NAME] (--answers FILE | --submission DIR) [--table FILE] [--key FILE] [--json FILE] | kwblank rules --json RULES | kwblank canon [--level N] EXPRESSION");
}

static char *read_or_die(const char *path)
{
	char *text = kw_read_file(path, NULL);

	if (!text)
		die("cannot read %s: %s", path, strerror(errno));
	return text;
}

static FILE *open_or_die(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		die("cannot write %s: %s", path, strerror(errno));
	return f;
}

static int canon(int argc, char **argv)
{
	struct kw_analysis a;
	int level = KW_LEVEL_FULL, i = 0;
	size_t k;

	if (argc >= 2 && !strcmp(argv[0], "--level")) {
		level = atoi(argv[1]);
		i = 2;
	}
	if (argc - i != 1)
		usage();
	kw_analyze(argv[i], level, &a);
	printf("%s\n", a.canon ? a.canon : "(does not parse)");
	for (k = 0; k < a.findings.n; k++)
		printf("%s: %s\n", kw_kind_name(a.findings.v[k].kind),
		       a.findings.v[k].text);
	k = a.findings.n;
	kw_analysis_free(&a);
	return k ? 1 : 0;
}

/* The rules must name the stage's blanks, in order. */
static void check_rules(const struct kw_stage *st, const struct kw_rules *r)
{
	struct kw_buf have = { 0 }, want = { 0 };
	size_t i;

	for (i = 0; i < st->nsites; i++)
		kw_buf_addf(&have, "%s%s", i ? " " : "", st->sites[i].name);
	for (i = 0; i < r->blanks.n; i++)
		kw_buf_addf(&want, "%s%s", i ? " " : "", r->blanks.v[i]);
	if (strcmp(have.s ? have.s : "", want.s ? want.s : ""))
		die("%s lists the blanks '%s' but the stage has '%s'", r->path,
		    want.s ? want.s : "", have.s ? have.s : "");
	kw_buf_free(&have);
	kw_buf_free(&want);
}

static int check(int argc, char **argv)
{
	const char *stage = NULL, *rules_path = NULL, *shown = NULL;
	const char *answers = NULL, *sub = NULL, *table = NULL, *key = NULL;
	const char *json = NULL;
	struct kw_strv files = { 0 };
	struct kw_rules rules, *rp = NULL;
	struct kw_stage st;
	struct kw_result res;
	struct kw_buf err = { 0 };
	int i, rc;

	for (i = 0; i < argc; i++) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!val)
			usage();
		if (!strcmp(opt, "--stage"))
			stage = val;
		else if (!strcmp(opt, "--file"))
			kw_strv_push(&files, val);
		else if (!strcmp(opt, "--rules"))
			rules_path = val;
		else if (!strcmp(opt, "--shown"))
			shown = val;
		else if (!strcmp(opt, "--answers"))
			answers = val;
		else if (!strcmp(opt, "--submission"))
			sub = val;
		else if (!strcmp(opt, "--table"))
			table = val;
		else if (!strcmp(opt, "--key"))
			key = val;
		else if (!strcmp(opt, "--json"))
			json = val;
		else
			usage();
		i++;
	}
	if (!stage || !files.n || !answers == !sub)
		usage();
	if (kw_stage_load(&st, stage, files.v, files.n, &err))
		die("%s", err.s);
	if (rules_path) {
		char *text = read_or_die(rules_path);

		if (kw_rules_parse(text, rules_path, &rules, &err))
			die("%s", err.s);
		free(text);
		check_rules(&st, &rules);
		rp = &rules;
	}
	if (answers) {
		size_t len, k;
		char *text = kw_read_file(answers, &len);

		if (!text)
			die("cannot read %s: %s", answers, strerror(errno));
		/* a NUL byte is no end of the text: it is refused as any other */
		for (k = 0; k < len; k++)
			if (!text[k])
				text[k] = '\x01';

		kw_check_answers(&st, rp, text, shown ? shown : answers, &res);
		free(text);
	} else {
		char **texts = kw_alloc(files.n * sizeof(*texts));
		size_t f;

		for (f = 0; f < files.n; f++) {
			char *path = kw_printf("%s/%s", sub, files.v[f]);

			texts[f] = read_or_die(path);
			free(path);
		}
		kw_check_files(&st, rp, texts, shown ? shown : sub, &res);
		for (f = 0; f < files.n; f++)
			free(texts[f]);
		free(texts);
	}
	kw_result_print(&res, rp, stdout);
	if (table) {
		FILE *f = open_or_die(table);

		kw_result_table(&res, f);
		fclose(f);
	}
	if (key) {
		FILE *f = open_or_die(key);

		kw_result_key(&res, f);
		fclose(f);
	}
	rc = res.fatal ? 3 : kw_result_violations(&res) ? 1 : 0;
	if (json) {
		struct kw_buf j = { 0 };
		FILE *f = open_or_die(json);

		kw_result_json(&res, rp, answers ? "answers" : "submission", rc, &j);
		if (fputs(j.s, f) == EOF || fclose(f))
			die("cannot write %s: %s", json, strerror(errno));
		kw_buf_free(&j);
	}
	kw_result_free(&res);
	kw_stage_free(&st);
	if (rp)
		kw_rules_free(rp);
	kw_strv_free(&files);
	kw_buf_free(&err);
	if (fflush(stdout))
		die("cannot write the findings: %s", strerror(errno));
	return rc;
}

static int rules(int argc, char **argv)
{
	struct kw_rules r;
	struct kw_buf err = { 0 }, j = { 0 };
	char *text;

	if (argc != 2 || strcmp(argv[0], "--json"))
		usage();
	text = read_or_die(argv[1]);
	if (kw_rules_parse(text, argv[1], &r, &err))
		die("%s", err.s);
	free(text);
	kw_rules_json(&r, &j);
	fputs(j.s, stdout);
	kw_buf_free(&j);
	kw_rules_free(&r);
	if (fflush(stdout))
		die("cannot write the rules: %s", strerror(errno));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	if (!strcmp(argv[1], "check"))
		return check(argc - 2, argv + 2);
	if (!strcmp(argv[1], "canon"))
		return canon(argc - 2, argv + 2);
	if (!strcmp(argv[1], "rules"))
		return rules(argc - 2, argv + 2);
	usage();
}
