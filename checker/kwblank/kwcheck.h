/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kwcheck.h - the static blank checker: find each blank's expression in a
 * submission (an answers file, or the stage's files filled in by hand) and
 * judge it.
 */
#ifndef KWCHECK_H
#define KWCHECK_H

#include <stdio.h>

#include "kwexpr.h"
#include "kwrules.h"
#include "kwutil.h"

/* One file of the pristine stage, as the students got it. */
struct kw_stage_file {
	char *name;		/* kecho.c */
	struct kw_strv lines;
};

/* One blank token in the pristine stage. */
struct kw_site {
	char name[5];
	size_t file;
	size_t line;		/* 0-based */
	int level;		/* what its position demands (kwexpr.h) */
};

struct kw_stage {
	struct kw_stage_file *files;
	size_t nfiles;
	struct kw_site *sites;
	size_t nsites;
};

/*
 * Load the named files of a pristine stage folder and find its blanks.
 * Returns -1 with the reason in err when a file cannot be read.
 */
int kw_stage_load(struct kw_stage *st, const char *dir, char *const *files,
		  size_t nfiles, struct kw_buf *err);
void kw_stage_free(struct kw_stage *st);

/* What the checker found for one blank. */
struct kw_blank {
	char name[5];
	char *where;		/* answers.txt:3 or stages/01-x/kecho.c:160 */
	char *text;		/* the expression as written; NULL: not found */
	char *canon;		/* its canonical form, NULL if it does not parse */
	char *refusal;		/* answers only: why it cannot be filled in */
	struct kw_findings findings;
};

struct kw_result {
	struct kw_blank *blanks;	/* one per site, in stage order */
	size_t n;
	struct kw_findings general;	/* findings about no single blank */
	struct kw_strv general_where;
	int changed;		/* lines changed outside the blanks */
	int fatal;		/* blanks not answered: nothing can be graded */
};

/*
 * Check an answers file ("AAAA = expression" lines) against the stage.
 * shown names the file in messages. An answer that is not one C
 * expression (kw_not_expression()) is refused: it is never filled in, and
 * the result is fatal.
 */
void kw_check_answers(const struct kw_stage *st, const struct kw_rules *rules,
		      const char *answers, const char *shown,
		      struct kw_result *res);

/*
 * Check the stage's files as filled in by a student: texts[i] is the
 * student's version of st->files[i]; shown is the folder named in messages.
 */
void kw_check_files(const struct kw_stage *st, const struct kw_rules *rules,
		    char *const *texts, const char *shown,
		    struct kw_result *res);

void kw_result_free(struct kw_result *res);

/* Violations (every finding but notices). */
size_t kw_result_violations(const struct kw_result *res);

/* One finding a line: "WHERE: BLANK: KIND: text", hints after. */
void kw_result_print(const struct kw_result *res, const struct kw_rules *rules,
		     FILE *out);

/* The normalized answer set: "AAAA = canonical" lines, then "changed". */
void kw_result_key(const struct kw_result *res, FILE *out);

/* A table for reports: "name<TAB>where<TAB>expression<TAB>verdict". */
void kw_result_table(const struct kw_result *res, FILE *out);

/*
 * Everything as one JSON object, for grading/kweb/blanks.py:
 * {"mode": "answers"|"submission", "exit": N, "fatal", "changed",
 *  "findings": [{"where", "blank" (null: about no single blank), "kind",
 *  "text"}], "blanks": [{"name", "where", "given" (the expression as
 *  written, null if none), "canon", "one_expression", "verdict", "hint"}],
 *  "refusals": [{"where", "blank", "text"}], "key": the --key text}.
 */
void kw_result_json(const struct kw_result *res, const struct kw_rules *rules,
		    const char *mode, int exit_code, struct kw_buf *out);

/* Is s a blank's name (four times the same capital letter)? */
int kw_is_blank_name(const char *s, size_t n);

#endif /* KWCHECK_H */
