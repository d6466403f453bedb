// SPDX-License-Identifier: GPL-2.0
/*
 * kwrules.c - a stage's per-blank rules.
 *
 * One rule a line; blank lines and lines starting with # are ignored:
 *
 *   blanks AAAA BBBB ...        the stage's blanks, in order (required)
 *   set NAME WORD...            a named list of words, used as @NAME
 *   BLANK calls WORD...         the expression calls one of the words
 *   BLANK uses WORD...          one of the words appears in it
 *   BLANK forbids WORD...       none of the words appears in it
 *   BLANK hint TEXT             shown with the findings of the blank (several
 *                               hint lines of a blank are joined)
 *
 * BLANK is a blank's name or * (every blank); a WORD is an identifier or
 * @NAME of a set defined above. Several rules of a blank must all hold.
 */
#include "kwrules.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static int is_blank_name(const char *w)
{
	return strlen(w) == 4 && isupper((unsigned char)w[0]) &&
	       w[1] == w[0] && w[2] == w[0] && w[3] == w[0];
}

static int is_ident(const char *w)
{
	if (!isalpha((unsigned char)*w) && *w != '_')
		return 0;
	for (; *w; w++)
		if (!isalnum((unsigned char)*w) && *w != '_')
			return 0;
	return 1;
}

struct set {
	char *name;
	struct kw_strv words;
};

static void split_words(const char *s, struct kw_strv *out)
{
	while (*s) {
		size_t n;

		while (*s && isspace((unsigned char)*s))
			s++;
		if (!*s)
			break;
		for (n = 0; s[n] && !isspace((unsigned char)s[n]); n++)
			;
		kw_strv_pushn(out, s, n);
		s += n;
	}
}

/*
 * add_word: a rule's word, or the words of the set it names (@NAME; only
 * says which set when it is the rule's only word). -1 on error.
 */
static int add_word(struct kw_rule *rule, const char *word, int only,
		    const struct set *sets, size_t nsets, const char *path,
		    struct kw_buf *err)
{
	size_t s, j;

	kw_strv_push(&rule->written, word);
	if (word[0] != '@') {
		if (is_ident(word)) {
			kw_strv_push(&rule->words, word);
			return 0;
		}
		kw_buf_addf(err, "%s:%u: '%s' is not an identifier", path,
			    rule->line, word);
		return -1;
	}
	for (s = 0; s < nsets; s++)
		if (!strcmp(sets[s].name, word + 1))
			break;
	if (s == nsets) {
		kw_buf_addf(err, "%s:%u: no set %s defined above", path,
			    rule->line, word);
		return -1;
	}
	if (only)
		rule->set = kw_strdup(word + 1);
	for (j = 0; j < sets[s].words.n; j++)
		kw_strv_push(&rule->words, sets[s].words.v[j]);
	return 0;
}

int kw_rules_parse(const char *text, const char *path, struct kw_rules *r,
		   struct kw_buf *err)
{
	struct kw_strv lines = { 0 };
	struct set *sets = NULL;
	size_t nsets = 0, i, k, s;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	r->path = kw_strdup(path);
	kw_split_lines(text, &lines);
	for (i = 0; i < lines.n; i++) {
		struct kw_strv w = { 0 };
		const char *line = lines.v[i], *rest;
		unsigned int ln = (unsigned int)i + 1;

		while (isspace((unsigned char)*line))
			line++;
		if (!*line || *line == '#')
			continue;
		split_words(line, &w);
		if (strcmp(w.v[0], "blanks") == 0) {
			if (r->blanks.n) {
				kw_buf_addf(err, "%s:%u: a second 'blanks' line", path, ln);
				goto bad_line;
			}
			for (k = 1; k < w.n; k++) {
				if (!is_blank_name(w.v[k])) {
					kw_buf_addf(err, "%s:%u: '%s' is not a blank name",
						    path, ln, w.v[k]);
					goto bad_line;
				}
				kw_strv_push(&r->blanks, w.v[k]);
			}
		} else if (strcmp(w.v[0], "set") == 0) {
			if (w.n < 3 || !is_ident(w.v[1])) {
				kw_buf_addf(err, "%s:%u: expected 'set NAME WORD...'", path, ln);
				goto bad_line;
			}
			sets = kw_realloc(sets, (nsets + 1) * sizeof(*sets));
			sets[nsets].name = kw_strdup(w.v[1]);
			memset(&sets[nsets].words, 0, sizeof(sets[nsets].words));
			for (k = 2; k < w.n; k++)
				kw_strv_push(&sets[nsets].words, w.v[k]);
			nsets++;
		} else if (w.n >= 2 && (is_blank_name(w.v[0]) || !strcmp(w.v[0], "*"))) {
			struct kw_rule *rule;

			if (strcmp(w.v[0], "*") && r->blanks.n &&
			    !kw_strv_has(&r->blanks, w.v[0])) {
				kw_buf_addf(err, "%s:%u: %s is not in the 'blanks' line",
					    path, ln, w.v[0]);
				goto bad_line;
			}
			if (strcmp(w.v[1], "hint") == 0) {
				rest = strstr(line, "hint") + 4;
				while (isspace((unsigned char)*rest))
					rest++;
				for (k = 0; k < r->hint_blank.n; k++)
					if (!strcmp(r->hint_blank.v[k], w.v[0]))
						break;
				if (k < r->hint_blank.n) {
					char *joined = kw_printf("%s %s", r->hint_text.v[k], rest);

					free(r->hint_text.v[k]);
					r->hint_text.v[k] = joined;
				} else {
					kw_strv_push(&r->hint_blank, w.v[0]);
					kw_strv_push(&r->hint_text, rest);
				}
				kw_strv_free(&w);
				continue;
			}
			r->v = kw_realloc(r->v, (r->n + 1) * sizeof(*r->v));
			rule = &r->v[r->n];
			memset(rule, 0, sizeof(*rule));
			if (strcmp(w.v[1], "calls") == 0) {
				rule->verb = KW_CALLS;
			} else if (strcmp(w.v[1], "uses") == 0) {
				rule->verb = KW_USES;
			} else if (strcmp(w.v[1], "forbids") == 0) {
				rule->verb = KW_FORBIDS;
			} else {
				kw_buf_addf(err, "%s:%u: unknown rule '%s' (calls, uses, forbids, hint)",
					    path, ln, w.v[1]);
				goto bad_line;
			}
			r->n++;
			rule->blank = kw_strdup(w.v[0]);
			rule->line = ln;
			if (w.n < 3) {
				kw_buf_addf(err, "%s:%u: '%s' needs at least one word",
					    path, ln, w.v[1]);
				goto bad_line;
			}
			for (k = 2; k < w.n; k++)
				if (add_word(rule, w.v[k], w.n == 3, sets, nsets,
					     path, err))
					goto bad_line;
		} else {
			kw_buf_addf(err, "%s:%u: expected 'blanks', 'set' or 'BLANK RULE WORD...'",
				    path, ln);
			goto bad_line;
		}
		kw_strv_free(&w);
		continue;
bad_line:
		kw_strv_free(&w);
		goto out;
	}
	if (!r->blanks.n) {
		kw_buf_addf(err, "%s: no 'blanks' line", path);
		goto out;
	}
	rc = 0;
out:
	r->set_words = kw_alloc((nsets ? nsets : 1) * sizeof(*r->set_words));
	for (s = 0; s < nsets; s++) {
		kw_strv_push(&r->set_names, sets[s].name);
		r->set_words[s] = sets[s].words;	/* moved */
		free(sets[s].name);
	}
	free(sets);
	kw_strv_free(&lines);
	return rc;
}

void kw_rules_free(struct kw_rules *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		free(r->v[i].blank);
		free(r->v[i].set);
		kw_strv_free(&r->v[i].words);
		kw_strv_free(&r->v[i].written);
	}
	for (i = 0; i < r->set_names.n; i++)
		kw_strv_free(&r->set_words[i]);
	free(r->set_words);
	kw_strv_free(&r->set_names);
	free(r->v);
	free(r->path);
	kw_strv_free(&r->blanks);
	kw_strv_free(&r->hint_blank);
	kw_strv_free(&r->hint_text);
	memset(r, 0, sizeof(*r));
}

static int any_in(const struct kw_strv *have, const struct kw_strv *words,
		  const char **which)
{
	size_t i;

	for (i = 0; i < have->n; i++) {
		if (kw_strv_has(words, have->v[i])) {
			if (which)
				*which = have->v[i];
			return 1;
		}
	}
	return 0;
}

/* "queue_work(), queue_work_on(), ... (@workqueue)" */
static char *word_list(const struct kw_rule *rule, const char *suffix)
{
	struct kw_buf b = { 0 };
	size_t i, shown = rule->words.n > 6 ? 5 : rule->words.n;

	for (i = 0; i < shown; i++)
		kw_buf_addf(&b, "%s%s%s", i ? ", " : "", rule->words.v[i], suffix);
	if (shown < rule->words.n)
		kw_buf_addf(&b, ", ... (%zu in all)", rule->words.n);
	return kw_buf_take(&b);
}

void kw_rules_check(const struct kw_rules *r, const char *blank,
		    const struct kw_analysis *a, struct kw_findings *f)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		const struct kw_rule *rule = &r->v[i];
		const char *which = NULL;
		char *list;

		if (strcmp(rule->blank, "*") && strcmp(rule->blank, blank))
			continue;
		switch (rule->verb) {
		case KW_CALLS:
			if (any_in(&a->calls, &rule->words, NULL))
				continue;
			list = word_list(rule, "()");
			if (rule->set)
				kw_add(f, KW_RULE, "should call a function of @%s: %s [%s:%u]",
				       rule->set, list, r->path, rule->line);
			else
				kw_add(f, KW_RULE, "should call %s%s [%s:%u]",
				       rule->words.n > 1 ? "one of " : "", list,
				       r->path, rule->line);
			free(list);
			break;
		case KW_USES:
			if (any_in(&a->idents, &rule->words, NULL))
				continue;
			list = word_list(rule, "");
			kw_add(f, KW_RULE, "should use %s%s [%s:%u]",
			       rule->words.n > 1 ? "one of " : "", list, r->path,
			       rule->line);
			free(list);
			break;
		case KW_FORBIDS:
			if (!any_in(&a->idents, &rule->words, &which))
				continue;
			kw_add(f, KW_RULE, "must not use %s [%s:%u]", which,
			       r->path, rule->line);
			break;
		}
	}
}

const char *kw_rules_hint(const struct kw_rules *r, const char *blank)
{
	size_t i;

	for (i = 0; i < r->hint_blank.n; i++)
		if (!strcmp(r->hint_blank.v[i], blank) ||
		    !strcmp(r->hint_blank.v[i], "*"))
			return r->hint_text.v[i];
	return NULL;
}

static const char *verb_name(enum kw_verb v)
{
	switch (v) {
	case KW_CALLS:
		return "calls";
	case KW_USES:
		return "uses";
	case KW_FORBIDS:
		return "forbids";
	}
	return "?";
}

void kw_rules_json(const struct kw_rules *r, struct kw_buf *out)
{
	size_t i;

	kw_buf_add(out, "{\"path\": ");
	kw_json_str(out, r->path);
	kw_buf_add(out, ",\n \"blanks\": ");
	kw_json_strv(out, &r->blanks);
	kw_buf_add(out, ",\n \"sets\": {");
	for (i = 0; i < r->set_names.n; i++) {
		kw_buf_add(out, i ? ",\n  " : "\n  ");
		kw_json_str(out, r->set_names.v[i]);
		kw_buf_add(out, ": ");
		kw_json_strv(out, &r->set_words[i]);
	}
	kw_buf_add(out, "},\n \"rules\": [");
	for (i = 0; i < r->n; i++) {
		const struct kw_rule *rule = &r->v[i];

		kw_buf_add(out, i ? ",\n  {\"blank\": " : "\n  {\"blank\": ");
		kw_json_str(out, rule->blank);
		kw_buf_add(out, ", \"verb\": ");
		kw_json_str(out, verb_name(rule->verb));
		kw_buf_add(out, ", \"words\": ");
		kw_json_strv(out, &rule->words);
		kw_buf_add(out, ", \"written\": ");
		kw_json_strv(out, &rule->written);
		kw_buf_add(out, ", \"set\": ");
		if (rule->set)
			kw_json_str(out, rule->set);
		else
			kw_buf_add(out, "null");
		kw_buf_addf(out, ", \"line\": %u}", rule->line);
	}
	kw_buf_add(out, "],\n \"hints\": {");
	for (i = 0; i < r->hint_blank.n; i++) {
		kw_buf_add(out, i ? ",\n  " : "\n  ");
		kw_json_str(out, r->hint_blank.v[i]);
		kw_buf_add(out, ": ");
		kw_json_str(out, r->hint_text.v[i]);
	}
	kw_buf_add(out, "}}\n");
}
