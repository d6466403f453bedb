#!/usr/bin/env python3
"""Prove that a student kit gives none of the answers away.

    leaks.py ROOT KIT.tar.gz     exit 0 if clean, 1 with one line per leak

ROOT is the instructor's tree (with solutions/). The answers are every
expression marked /*{*/ ... /*}*/ in solutions/*/*.c and every accepted
variant in solutions/*/variants. The kit leaks if:

  - it holds instructor-only material: solutions/, tests/ (fixtures and the
    kit's own tests), a variants file, an instructor/ folder, an instructor
    edition of a handout, an answer key;
  - a stage file differs from what solutions/ generates (so each blank's
    token is in its place, and nothing else changed);
  - an answer appears in a file more often than it may. In a stage file it
    may appear where the stage shows it outside its blanks (a later stage
    shows the code an earlier stage asked for, and a stage may use the same
    call twice); in a handout, only inside the listing of its stage file,
    which must match that file; anywhere else, never.

Whitespace is ignored when looking for an answer, so a line break or an
extra space cannot hide one. An answer that is a bare word (a constant, a
variable) is looked for, as a whole word, only in the stage files and the
handouts: elsewhere such a word says nothing about a blank.
"""
import base64
import os
import re
import subprocess
import sys
import tarfile
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import handout  # noqa: E402

QUIZ_STAGE = '05-netns'

FORBIDDEN = [
    (re.compile(r'(^|/)solutions(/|$)'), 'the reference solutions'),
    (re.compile(r'^[^/]+/tests(/|$)'), "the kit's own tests and fixtures"),
    (re.compile(r'(^|/)variants$'), 'accepted variants (answer key)'),
    (re.compile(r'(^|/)instructor(/|$)'), 'an instructor folder'),
    (re.compile(r'\.instructor\.[a-z]+$'), 'an instructor edition'),
    (re.compile(r'answer-key'), 'an answer key'),
    (re.compile(r'\.answers$'), 'a fixture of answers'),
]


def squeeze(s):
    return re.sub(r'\s+', '', s)


def answers(root):
    """[(stage, token, expression, kind)] of every stage."""
    out = []
    sols = os.path.join(root, 'solutions')
    for name in sorted(os.listdir(sols)):
        d = os.path.join(sols, name)
        if not re.match(r'\d\d-', name) or not os.path.isdir(d):
            continue
        res = subprocess.run([os.path.join(root, 'grading', 'kw'), 'stages',
                              'answers', d], check=True, capture_output=True,
                             text=True).stdout
        for line in res.splitlines():
            tok, _, expr = line.partition(' = ')
            out.append((name, tok, expr, 'answer'))
        for tok, vs in handout.read_variants(os.path.join(d, 'variants')).items():
            for expr, _ in vs:
                out.append((name, tok, expr, 'variant'))
    return out


class TextOnly(handout.HTMLParser):
    """The text of a page outside its listings, with the SVG figures
    (embedded as data: URIs) decoded and their text included."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []
        self.in_listing = 0
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == 'div' and 'listing' in (a.get('class') or '').split():
            self.in_listing = 1
        elif self.in_listing and tag == 'div':
            self.in_listing += 1
        if tag in ('style', 'script'):
            self.skip += 1
        for k, v in attrs:
            if v and v.startswith('data:image/svg+xml'):
                self.parts.append(svg_text(v))
            elif v and k in ('title', 'alt'):
                self.parts.append(v)

    def handle_endtag(self, tag):
        if self.in_listing and tag == 'div':
            self.in_listing -= 1
        if tag in ('style', 'script') and self.skip:
            self.skip -= 1

    def handle_data(self, data):
        if not self.in_listing and not self.skip:
            self.parts.append(data)


def svg_text(uri):
    head, _, data = uri.partition(',')
    if ';base64' in head:
        data = base64.b64decode(data).decode('utf-8', 'replace')
    else:
        from urllib.parse import unquote
        data = unquote(data)
    return handout.html.unescape(re.sub(r'<[^>]+>', ' ', data))


def handout_stage(member):
    base = os.path.basename(member)
    if base.startswith('kweb-quiz.'):
        return QUIZ_STAGE
    m = re.match(r'(\d\d-[a-z0-9-]+)\.', base)
    return m.group(1) if m else None


def check(root, tarball):
    problems = []
    gen = tempfile.mkdtemp(prefix='kweb-leaks.')
    subprocess.run([os.path.join(root, 'grading', 'kw'), 'stages', 'generate',
                    gen], check=True)
    exprs = answers(root)
    if not exprs:
        problems.append('no answers found in %s/solutions: nothing to check' % root)

    def generated(stage):
        d = os.path.join(gen, stage)
        files = {}
        if os.path.isdir(d):
            for f in sorted(os.listdir(d)):
                if f.endswith(('.c', '.h')):
                    files[f] = open(os.path.join(d, f), encoding='utf-8').read()
        return files

    with tarfile.open(tarball) as tar:
        members = [m for m in tar.getmembers()]
        names = [m.name for m in members]
        for n in names:
            for rx, what in FORBIDDEN:
                if rx.search(n):
                    problems.append('%s: %s must not be in the student kit' % (n, what))
        top = names[0].split('/')[0] if names else ''

        # Stage files: exactly what solutions/ generates.
        for stage in sorted(os.listdir(gen)):
            for f, want in generated(stage).items():
                path = '%s/stages/%s/%s' % (top, stage, f)
                if path not in names:
                    problems.append('%s: missing from the kit' % path)
                    continue
                got = tar.extractfile(path).read().decode('utf-8', 'replace')
                if got != want:
                    problems.append('%s: differs from what solutions/%s generates'
                                    % (path, stage))
                # Each blank's token where the stage has it.
                gl = got.split('\n')
                for i, line in enumerate(want.split('\n'), 1):
                    for t in handout.TOKEN_RE.finditer(line):
                        if i > len(gl) or t.group(0) not in gl[i - 1]:
                            problems.append('%s:%d: blank %s is not there'
                                            % (path, i, t.group(0)))
        # Every file, every answer.
        for m in members:
            if not m.isfile():
                continue
            rel = m.name[len(top) + 1:]
            raw = tar.extractfile(m).read()
            allowed_from = ''
            if rel.startswith('stages/'):
                parts = rel.split('/')
                if len(parts) == 3 and parts[2] in generated(parts[1]):
                    allowed_from = generated(parts[1])[parts[2]]
                text = raw.decode('utf-8', 'replace')
            elif rel.startswith('handouts/') and rel.endswith(('.html', '.pdf')):
                stage = handout_stage(rel)
                files = generated(stage) if stage else {}
                if rel.endswith('.pdf'):
                    with tempfile.NamedTemporaryFile(suffix='.pdf') as tf:
                        tf.write(raw)
                        tf.flush()
                        text = subprocess.run(['pdftotext', tf.name, '-'],
                                              check=True, capture_output=True,
                                              text=True).stdout
                    allowed_from = ''.join(files.values())
                else:
                    page = raw.decode('utf-8', 'replace')
                    p = TextOnly()
                    p.feed(page)
                    text = ' '.join(p.parts)
                    # The listings themselves are checked line by line
                    # against the stage files by check-html; their text must
                    # be that of the stage's files and nothing more.
                    for key, lst in handout.html_listings_from_text(page).items():
                        f = os.path.basename(key)
                        body = '\n'.join(t for _, (_, t) in sorted(lst['text'].items()))
                        want = files.get(f)
                        if want is None or squeeze(body) != squeeze(want.expandtabs(8)):
                            problems.append('%s: its listing of %s is not the stage file'
                                            % (rel, key))
            else:
                try:
                    text = raw.decode('utf-8')
                except UnicodeDecodeError:
                    continue        # binary: no source text in it
            flat = squeeze(text)
            if not flat:
                continue
            flat_allowed = squeeze(allowed_from)
            student_facing = rel.startswith(('stages/', 'handouts/'))
            for stage, tok, expr, kind in exprs:
                e = squeeze(expr)
                if not e:
                    continue
                if re.fullmatch(r'\w+', e):
                    if not student_facing:
                        continue
                    word = re.compile(r'(?<!\w)%s(?!\w)' % re.escape(e))
                    n, allowed = len(word.findall(text)), len(word.findall(allowed_from))
                else:
                    n, allowed = flat.count(e), flat_allowed.count(e)
                if n > allowed:
                    problems.append('%s: the %s of %s in %s (%s) appears %d time(s), %d allowed'
                                    % (rel, kind, tok, stage, expr, n, allowed))
    subprocess.run(['rm', '-rf', gen])
    return problems


def main(argv):
    if len(argv) != 3:
        sys.stderr.write('usage: leaks.py ROOT KIT.tar.gz\n')
        return 2
    problems = check(argv[1], argv[2])
    for p in problems:
        print('leak: %s' % p)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
