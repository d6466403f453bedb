#!/usr/bin/env python3
"""Turn a handout source (Markdown with kweb directives) into plain Markdown
for pandoc, and check what pandoc and weasyprint made of it.

    handout.py render ROOT SRC.md STAGE LANG EDITION FIGDIR OUT.md
    handout.py answers-form ROOT STAGE            the quiz answer form
    handout.py answer-key ROOT STAGE              its key (instructor only)
    handout.py check-html HTML STAGEFILE...       listings match the files
    handout.py check-pdf PDF STAGEFILE...         the same, in the PDF text

STAGE is a stage folder name (01-kthread-echo). EDITION is student or
instructor. The student edition reads only stages/, checker/ and handouts/;
only the instructor edition reads solutions/ (the answers and variants).

Directives, each alone on a line:
    <!-- kweb:listing -->             the numbered listing of the stage's files
    <!-- kweb:blanks -->              a table of the blanks and their lines
    <!-- kweb:rubric -->              the visible tests and their points
    <!-- kweb:figure NAME Caption --> figures/NAME.LANG.dot, drawn with dot
    <!-- kweb:measured NAME Caption --> figures/NAME.png as it is: a figure
                                      of a measurement (make bench-http),
                                      kept with its data (figures/*.csv)
    <!-- kweb:answers-form -->        the answers.txt template (quiz)
    <!-- kweb:answer-key -->          answers and variants (instructor only)
    <!-- kweb:instructor --> ... <!-- kweb:end -->  instructor-only text
Inline: {{stage}} {{n}} {{module}} {{file}} {{tokens}} {{line:AAAA}}
"""
import html
import shutil
from html.parser import HTMLParser
import os
import re
import subprocess
import sys

# The kit's one parser of each format lives in grading/kweb: stage.conf and
# rubric (stagefiles), the blank markers and variants of a solution
# (stages), blanks.rules (kwblank's JSON, through blanks).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))), 'grading'))
from kweb import blanks as kwblanks  # noqa: E402
from kweb import stagefiles, stages as kwstages  # noqa: E402
from kweb.paths import KwebError  # noqa: E402

TOKEN_RE = kwblanks.TOKEN_RE

TEXT = {
    'en': {
        'token': 'Blank', 'where': 'File and line', 'rule': 'The checker asks',
        'hint': 'Hint (checker/%s/blanks.rules)', 'calls': 'calls %s',
        'uses': 'uses %s', 'forbids': 'does not use %s', 'or': ' or ',
        'and': '; ', 'set': '%s stands for any of: %s.',
        'test': 'Test', 'points': 'Points', 'checks': 'What it checks',
        'expected': 'Expected answer', 'variants': 'Also accepted (why)',
        'none': 'none', 'total': 'Total',
        'listing': 'Listing', 'lines': 'lines',
        'banner': '**Instructor edition**: it holds the answer key. Never '
                  'give it to students; they get the student edition.',
    },
    'zh-TW': {
        'token': '空格', 'where': '檔案與行號', 'rule': '檢查器的要求',
        'hint': '提示 (取自 checker/%s/blanks.rules)', 'calls': '呼叫 %s',
        'uses': '使用 %s', 'forbids': '不使用 %s', 'or': ' 或 ',
        'and': '；', 'set': '%s 代表下列任一：%s。',
        'test': '測試', 'points': '配分', 'checks': '檢查內容 (取自 rubric)',
        'expected': '參考答案', 'variants': '亦接受 (理由)',
        'none': '無', 'total': '合計',
        'listing': '程式列表', 'lines': '行',
        'banner': '**教師版**：內含參考答案與可接受的等價寫法，請勿發給學員；'
                  '學員請使用學生版。',
    },
}


def die(msg):
    sys.stderr.write('handout.py: %s\n' % msg)
    sys.exit(2)


def kweb(fn, *args):
    """Call a grading/kweb parser; its error ends the program, as die()."""
    try:
        return fn(*args)
    except KwebError as e:
        die(str(e))


class Stage:
    def __init__(self, root, name):
        self.root = root
        self.name = name
        self.n = int(name.split('-')[0])
        self.stage_dir = os.path.join(root, 'stages', name)
        self.check_dir = os.path.join(root, 'checker', name)
        if not os.path.isdir(self.stage_dir):
            die('no stage folder %s' % self.stage_dir)
        path = os.path.join(self.check_dir, 'stage.conf')
        if os.path.exists(path):
            conf = kweb(stagefiles.parse_stage_conf, path)
            self.module, self.sources = conf.module, conf.sources
        else:
            self.module = name
            self.sources = sorted(f for f in os.listdir(self.stage_dir)
                                  if f.endswith('.c'))

    def file_lines(self, src):
        with open(os.path.join(self.stage_dir, src), encoding='utf-8') as f:
            return f.read().split('\n')[:-1]

    def blanks(self):
        """[(token, file, line)] in order of appearance."""
        out = []
        for src in self.sources:
            text = '\n'.join(self.file_lines(src))
            out += [(tok, src, i) for tok, i in kwblanks.tokens(text)]
        return out

    def rules(self):
        """The public per-blank rules of checker/NN/blanks.rules (the static
        blank checker's format: "BLANK calls|uses|forbids WORD...", "BLANK
        hint TEXT", "set NAME WORD...", BLANK * for every blank):
        ({blank: {'calls': [...], 'uses': [...], 'forbids': [...],
        'hint': text}}, {set: [words]}). Empty if there is no such file."""
        path = os.path.join(self.check_dir, 'blanks.rules')
        rules = {}
        if not os.path.exists(path):
            return rules, {}
        parsed = kweb(kwblanks.rules, path)
        for r in parsed['rules']:
            rules.setdefault(r['blank'], {}).setdefault(r['verb'], []).extend(
                r['written'])
        for blank, hint in parsed['hints'].items():
            rules.setdefault(blank, {})['hint'] = hint
        return rules, parsed['sets']

    def rubric(self):
        path = os.path.join(self.check_dir, 'rubric')
        if not os.path.exists(path):
            return []
        # hidden tests are not described to students
        return [(t.name, t.points, t.description.strip())
                for t in kweb(stagefiles.parse_rubric, path)
                if t.visibility == 'visible']

    # Instructor-only: the answers and their accepted variants.
    def answers(self):
        sol = os.path.join(self.root, 'solutions', self.name)
        if not os.path.isdir(sol):
            die('the instructor edition needs %s' % sol)
        return kweb(kwstages.answers, sol)

    def variants(self):
        """{token: [(expression, why)]} from solutions/NN/variants."""
        return read_variants(os.path.join(self.root, 'solutions', self.name,
                                          'variants'))


def read_variants(path):
    """{token: [(expression, why)]} (grading/kweb/stages.py's parser)."""
    return kweb(kwstages.variants, path)


# --- listings ----------------------------------------------------------------

def highlight(lines):
    """The lines as highlighted HTML, one string per line (pandoc's own
    highlighter; tabs already expanded)."""
    fence = '`' * 8
    md = fence + 'c\n' + '\n'.join(lines) + '\n' + fence + '\n'
    out = subprocess.run(['pandoc', '-f', 'markdown', '-t', 'html'],
                         input=md, check=True, capture_output=True,
                         text=True).stdout
    found = {}
    for m in re.finditer(r'<span id="cb1-(\d+)">(?:<a [^>]*></a>)?(.*?)</span>(?=\n|</code>)',
                         out):
        found[int(m.group(1))] = m.group(2)
    res = []
    for i, line in enumerate(lines, 1):
        h = found.get(i)
        # Fall back to plain text if pandoc split a line differently.
        if h is None or html.unescape(re.sub(r'<[^>]+>', '', h)) != line:
            h = html.escape(line, quote=False)
        res.append(h)
    return res


def mark_blanks(h):
    parts = re.split(r'(<[^>]+>)', h)
    for i, p in enumerate(parts):
        if not p.startswith('<'):
            parts[i] = TOKEN_RE.sub(r'<mark class="blank">\g<0></mark>', p)
    return ''.join(parts)


def listing(stage, src):
    raw = stage.file_lines(src)
    lines = [l.expandtabs(8) for l in raw]
    hl = highlight(lines)
    width = len(str(len(lines)))
    ident = re.sub(r'[^A-Za-z0-9]', '-', src)
    out = ['<div class="listing" data-file="stages/%s/%s" data-lines="%d">'
           % (stage.name, src, len(lines)),
           '<div class="listing-title">stages/%s/%s</div>' % (stage.name, src),
           '<pre class="listing-code"><code>']
    body = []
    for i, h in enumerate(hl, 1):
        cls = 'line blank-line' if TOKEN_RE.search(lines[i - 1]) else 'line'
        body.append('<span class="%s" id="%s-L%d" data-ln="%d">'
                    '<span class="ln">%*d</span>%s</span>'
                    % (cls, ident, i, i, width, i, mark_blanks(h)))
    # No newline between the lines: each is a block of its own.
    out.append(''.join(body) + '</code></pre>')
    out.append('</div>')
    return '\n'.join(out)


# --- rendering ---------------------------------------------------------------

def words(ws, t):
    return t['or'].join(code(w) for w in ws)


def rule_text(r, t):
    """One blank's rules, in words."""
    out = []
    for k in ('calls', 'uses', 'forbids'):
        if r.get(k):
            out.append(t[k] % words(r[k], t))
    return t['and'].join(out)


def md_table(header, rows, widths=None):
    """A pipe table; widths (percentages) become the dashes pandoc reads
    column widths from."""
    def cell(s):
        return str(s).replace('|', '\\|').replace('\n', ' ')
    widths = widths or [100 // len(header)] * len(header)
    out = ['| ' + ' | '.join(header) + ' |',
           '|' + '|'.join('-' * max(3, w) for w in widths) + '|']
    for r in rows:
        out.append('| ' + ' | '.join(cell(c) for c in r) + ' |')
    return '\n'.join(out)


def code(s):
    """Inline code that survives backticks and pipes in the text. A pipe
    table cannot hold a | inside a code span (pandoc splits the row first,
    and a \\| in the span stays a backslash), so code with a | is written
    as an HTML element, every character but letters and digits as a
    numeric entity (which markdown reads as text, never as markup)."""
    if '|' in s:
        return '<code>%s</code>' % ''.join(
            c if c.isalnum() and c.isascii() else '&#%d;' % ord(c) for c in s)
    ticks = '``' if '`' in s else '`'
    pad = ' ' if '`' in s else ''
    return '%s%s%s%s%s' % (ticks, pad, s, pad, ticks)


def render(root, src, stage_name, lang, edition, figdir, out):
    t = TEXT[lang]
    stage = Stage(root, stage_name)
    blanks = stage.blanks()
    first = {}
    for tok, f, ln in blanks:
        first.setdefault(tok, (f, ln))
    text = open(src, encoding='utf-8').read()

    def inline(m):
        key = m.group(1)
        if key == 'stage':
            return stage.name
        if key == 'n':
            return str(stage.n)
        if key == 'module':
            return stage.module
        if key == 'file':
            return stage.sources[0]
        if key == 'tokens':
            return ', '.join('`%s`' % tok for tok in first)
        if key.startswith('line:'):
            tok = key[5:]
            if tok not in first:
                die('%s: {{%s}}: no blank %s in stage %s' % (src, key, tok, stage.name))
            return str(first[tok][1])
        die('%s: unknown {{%s}}' % (src, key))

    res = []
    skip = False
    lines = text.split('\n')
    if edition == 'instructor':
        # After the front matter: a banner no one can miss.
        end = lines.index('---', 1) + 1 if lines and lines[0] == '---' else 0
        lines[end:end] = ['', '::: instructor-only', t['banner'], ':::', '']
    for line in lines:
        s = line.strip()
        if s == '<!-- kweb:instructor -->':
            skip = edition != 'instructor'
            continue
        if s == '<!-- kweb:end -->':
            skip = False
            continue
        if skip:
            continue
        m = re.match(r'<!-- kweb:([a-z-]+)\s*(.*?)\s*-->$', s)
        if not m:
            res.append(re.sub(r'\{\{([a-z]+(?::[A-Z]{4})?)\}\}', inline, line))
            continue
        what, arg = m.groups()
        if what == 'listing':
            for f in stage.sources:
                res.append('')
                res.append(listing(stage, f))
                res.append('')
        elif what == 'blanks':
            rules, sets = stage.rules()
            header = [t['token'], t['where']]
            if rules:
                header += [t['rule'], t['hint'] % stage.name]
            rows = []
            for tok, f, ln in blanks:
                row = [code(tok), '%s:%d' % (f, ln)]
                if rules:
                    r = dict(rules.get(tok, {}))
                    for k, v in rules.get('*', {}).items():
                        r.setdefault(k, v)
                    row += [rule_text(r, t) or '', r.get('hint', '')]
                rows.append(row)
            res.append(md_table(header, rows, [10, 20, 32, 38] if rules else [30, 70]))
            used = sorted(set(w[1:] for r in rules.values()
                              for k in ('calls', 'uses', 'forbids')
                              for w in r.get(k, []) if w.startswith('@')))
            for name in used:
                res.append('')
                res.append(t['set'] % (code('@' + name), ', '.join(
                    code(w) for w in sets.get(name, []))))
        elif what == 'rubric':
            rows = stage.rubric()
            if rows:
                res.append(md_table([t['test'], t['points'], t['checks']],
                                    [(code(n), p, d) for n, p, d in rows] +
                                    [('**%s**' % t['total'],
                                      '**%d**' % sum(p for _, p, _ in rows), '')],
                                    [24, 10, 66]))
        elif what == 'figure':
            name, _, caption = arg.partition(' ')
            dot = os.path.join(root, 'handouts', 'figures', '%s.%s.dot' % (name, lang))
            if not os.path.exists(dot):
                die('%s: no figure %s' % (src, dot))
            svg = os.path.join(figdir, '%s.%s.svg' % (name, lang))
            os.makedirs(figdir, exist_ok=True)
            out_svg = subprocess.run(['dot', '-Tsvg', dot], check=True,
                                     capture_output=True, text=True).stdout
            # The PDF build has a small copy of the CJK font as KwebCJK.
            out_svg = out_svg.replace('font-family="Noto Sans CJK TC"',
                                      'font-family="KwebCJK,Noto Sans CJK TC"')
            with open(svg, 'w', encoding='utf-8') as f:
                f.write(out_svg)
            res.append('![%s](%s){.figure}' % (caption, svg))
        elif what == 'measured':
            name, _, caption = arg.partition(' ')
            # PNG: weasyprint cannot draw gnuplot's SVG (currentColor).
            fig = os.path.join(root, 'handouts', 'figures', name + '.png')
            if not os.path.exists(fig):
                die('%s: no measured figure %s' % (src, fig))
            os.makedirs(figdir, exist_ok=True)
            png = os.path.join(figdir, name + '.png')
            shutil.copyfile(fig, png)
            res.append('![%s](%s){.figure}' % (caption, png))
        elif what == 'answers-form':
            res.append('```')
            res.append(answers_form(stage).rstrip('\n'))
            res.append('```')
        elif what == 'answer-key':
            if edition != 'instructor':
                continue
            variants = stage.variants()
            rows = []
            for tok, expr in stage.answers():
                v = variants.get(tok, [])
                rows.append((code(tok), code(expr),
                             '<br>'.join('%s (%s)' % (code(e), w) if w else code(e)
                                         for e, w in v) or t['none']))
            res.append(md_table([t['token'], t['expected'], t['variants']], rows,
                                [10, 40, 50]))
        else:
            die('%s: unknown directive kweb:%s' % (src, what))
    with open(out, 'w', encoding='utf-8') as f:
        f.write('\n'.join(res))


def answer_key(stage):
    """The quiz answer key: expected answers, then accepted variants."""
    variants = stage.variants()
    out = ['# Answer key of %s (instructor only). The first line of each blank'
           % stage.name,
           '# is the expected answer, the lines after it accepted variants.']
    for tok, expr in stage.answers():
        out.append('')
        out.append('%s = %s' % (tok, expr))
        for e, why in variants.get(tok, []):
            out.append('# also accepted%s' % (': ' + why if why else ''))
            out.append('%s = %s' % (tok, e))
    return '\n'.join(out) + '\n'


def answers_form(stage):
    lines = ['# %s: one C expression after each "=" (no ";").' % stage.name,
             '# Check it with: make grade STAGE=%d ANSWERS=answers.txt' % stage.n]
    seen = []
    for tok, _, _ in stage.blanks():
        if tok not in seen:
            seen.append(tok)
    return '\n'.join(lines + ['%s = ' % tok for tok in seen]) + '\n'


# --- checks ------------------------------------------------------------------

class ListingParser(HTMLParser):
    """Collects the listings of a built page: for each, its file, its
    declared line count, {number: (shown number, text)} and the blanks
    highlighted, in order."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.listings = {}
        self.cur = None         # the listing being read
        self.line = None        # [number, shown number, text] being read
        self.depth = 0          # span depth inside the line
        self.where = None       # 'ln' or 'mark' while inside those

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = (a.get('class') or '').split()
        if tag == 'div' and 'listing' in cls and 'data-file' in a:
            self.cur = {'lines': int(a.get('data-lines', -1)), 'text': {},
                        'marked': []}
            self.listings[a['data-file']] = self.cur
        elif self.cur is not None and tag == 'span':
            if 'line' in cls and self.line is None:
                self.line = [int(a['data-ln']), '', '']
                self.depth = 0
                return
            if self.line is not None:
                self.depth += 1
                if 'ln' in cls:
                    self.where = 'ln'
        elif self.line is not None and tag == 'mark' and 'blank' in cls:
            self.where = 'mark'

    def handle_endtag(self, tag):
        if self.cur is None:
            return
        if tag == 'pre':
            self.cur = None
        elif tag == 'span' and self.line is not None:
            if self.depth == 0:
                n, shown, text = self.line
                self.cur['text'][n] = (shown.strip(), text)
                self.line = None
            else:
                self.depth -= 1
                if self.where == 'ln':
                    self.where = None
        elif tag == 'mark':
            self.where = None

    def handle_data(self, data):
        if self.line is None:
            return
        if self.where == 'ln':
            self.line[1] += data
            return
        if self.where == 'mark':
            self.cur['marked'].append(data)
        self.line[2] += data


def html_listings_from_text(page):
    p = ListingParser()
    p.feed(page)
    return p.listings


def html_listings(path):
    return html_listings_from_text(open(path, encoding='utf-8').read())


def check_html(path, files):
    got = html_listings(path)
    bad = 0
    for f in files:
        key = re.sub(r'^.*?(stages/)', r'\1', os.path.abspath(f))
        if key not in got:
            print('%s: no listing of %s' % (path, key))
            bad += 1
            continue
        want = open(f, encoding='utf-8').read().split('\n')[:-1]
        nlines, lines, marked = got[key]['lines'], got[key]['text'], got[key]['marked']
        for n, (shown, _) in lines.items():
            if shown != str(n):
                print('%s: %s: line %d is numbered %r' % (path, key, n, shown))
                bad += 1
        lines = dict((n, text) for n, (_, text) in lines.items())
        if nlines != len(want) or sorted(lines) != list(range(1, len(want) + 1)):
            print('%s: listing of %s has %d lines, the file %d' % (path, key, len(lines), len(want)))
            bad += 1
            continue
        for i, w in enumerate(want, 1):
            if lines[i] != w.expandtabs(8):
                print('%s: %s:%d differs:\n  file:    %r\n  listing: %r' % (path, key, i, w, lines[i]))
                bad += 1
        toks = [m.group(0) for l in want for m in TOKEN_RE.finditer(l)]
        if marked != toks:
            print('%s: blanks highlighted %s, the file has %s' % (path, marked, toks))
            bad += 1
    return bad


def check_pdf(path, files):
    text = subprocess.run(['pdftotext', '-layout', path, '-'], check=True,
                          capture_output=True, text=True).stdout
    # Without any white space: the highlight around a blank is padded, and
    # pdftotext turns that padding into spaces.
    squeeze = lambda s: ''.join(s.split())
    got = set(squeeze(l) for l in text.split('\n'))
    bad = 0
    for f in files:
        want = open(f, encoding='utf-8').read().split('\n')[:-1]
        for i, w in enumerate(want, 1):
            line = squeeze('%d %s' % (i, w))
            shown = '%d %s' % (i, w.expandtabs(8))
            if line not in got:
                print('%s: line %d of %s is not in the PDF as "%s"' % (path, i, f, shown))
                bad += 1
                if bad > 10:
                    return bad
    return bad


def main(argv):
    if len(argv) >= 2 and argv[1] == 'render' and len(argv) == 9:
        render(*argv[2:])
    elif len(argv) == 4 and argv[1] == 'answers-form':
        sys.stdout.write(answers_form(Stage(argv[2], argv[3])))
    elif len(argv) == 4 and argv[1] == 'answer-key':
        sys.stdout.write(answer_key(Stage(argv[2], argv[3])))
    elif len(argv) >= 4 and argv[1] == 'check-html':
        sys.exit(1 if check_html(argv[2], argv[3:]) else 0)
    elif len(argv) >= 4 and argv[1] == 'check-pdf':
        sys.exit(1 if check_pdf(argv[2], argv[3:]) else 0)
    else:
        die(__doc__.strip().split('\n\n')[1])


if __name__ == '__main__':
    main(sys.argv)
