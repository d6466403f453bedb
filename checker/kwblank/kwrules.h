/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kwrules.h - a stage's per-blank rules (checker/NN-name/blanks.rules).
 *
 * The file format is documented in each blanks.rules header and in
 * kwrules.c: "blanks", "set", and per blank "calls", "uses", "forbids" and
 * "hint" lines.
 */
#ifndef KWRULES_H
#define KWRULES_H

#include "kwexpr.h"
#include "kwutil.h"

enum kw_verb {
	KW_CALLS,	/* the expression calls one of the words */
	KW_USES,	/* one of the words appears in it */
	KW_FORBIDS,	/* none of the words appears in it */
};

struct kw_rule {
	char *blank;		/* AAAA, or "*" for every blank */
	enum kw_verb verb;
	struct kw_strv words;	/* the words, sets expanded */
	struct kw_strv written;	/* the words as written (@NAME for a set) */
	char *set;		/* the set named, when the words came from one */
	unsigned int line;
};

struct kw_rules {
	char *path;
	struct kw_strv blanks;	/* from the "blanks" line */
	struct kw_rule *v;
	size_t n;
	struct kw_strv hint_blank, hint_text;
	struct kw_strv set_names;	/* the "set" lines, in order */
	struct kw_strv *set_words;
};

/* Parse a rules file's text; on error, -1 with the reason in err. */
int kw_rules_parse(const char *text, const char *path, struct kw_rules *r,
		   struct kw_buf *err);
void kw_rules_free(struct kw_rules *r);

/* Add a KW_RULE finding for each rule of blank the expression breaks. */
void kw_rules_check(const struct kw_rules *r, const char *blank,
		    const struct kw_analysis *a, struct kw_findings *f);

/* The hint for a blank (several hint lines joined), or NULL. */
const char *kw_rules_hint(const struct kw_rules *r, const char *blank);

/*
 * The rules as one JSON object (for the handouts, which show them):
 * {"path", "blanks": [...], "sets": {NAME: [words]}, "rules": [{"blank",
 * "verb", "words" (sets expanded), "written", "set", "line"}],
 * "hints": {BLANK: text}}.
 */
void kw_rules_json(const struct kw_rules *r, struct kw_buf *out);

#endif /* KWRULES_H */
