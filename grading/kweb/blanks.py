"""A stage's blanks: tokens left unfilled, the static blank checker, and
filling a stage from an answers file.

The blank checker is checker/kwblank (C, built into build/host-bin): the
one parser of answers files and of blanks.rules. Its JSON (kwblank check
--json, kwblank rules --json) is all this module reads of them: fill()
fills the stage from the expressions kwblank parsed, never from a parse
of its own, and refuses a report in which kwblank refused an answer (an
answer that is not one C expression is never filled in nor built).

    unfilled(files, shown)   "blank BBBB at SHOWN/kecho.c:160 is not filled in"
    check(...)               kwblank check -> BlankReport
    fill(pristine, report, out)
    rules(path)              kwblank rules --json -> dict
"""

import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from .paths import BUILD, ROOT, KwebError, die

# A blank token: four times the same capital letter, as a whole word.
TOKEN_RE = re.compile(r"(?<![A-Za-z0-9_])([A-Z])\1\1\1(?![A-Za-z0-9_])")
_TOKEN_RE_B = re.compile(rb"(?<![A-Za-z0-9_])([A-Z])\1\1\1(?![A-Za-z0-9_])")
NAME_RE = re.compile(r"([A-Z])\1\1\1")
KINDS = ("syntax", "precedence", "style", "minimal", "rule", "missing",
         "notice")
VIOLATIONS = KINDS[:-1]


class Refused(KwebError):
    """An answer is not one C expression: nothing may be filled or built.
    lines: one "AAAA: not one C expression (...): ..." line a blank."""

    def __init__(self, lines):
        super().__init__(lines[0] if lines else "an answer was refused")
        self.lines = list(lines)


@dataclass
class Finding:
    where: str              # ans.txt:3, stages/01-x/kecho.c:160
    blank: Optional[str]    # AAAA, or None: about no single blank
    kind: str               # one of KINDS
    text: str


@dataclass
class BlankAnswer:
    name: str               # AAAA
    where: str
    given: Optional[str]    # the expression as written; None: not found
    canon: Optional[str]    # its canonical form; None: does not parse
    one_expression: bool
    verdict: str            # ok, or the kind of its first violation
    hint: Optional[str] = None


@dataclass
class BlankReport:
    mode: str               # answers | submission
    exit: int               # kwblank's: 0 clean, 1 findings, 3 fatal
    text: str               # its findings, one a line, hints after
    items: List[Finding] = field(default_factory=list)
    blanks: List[BlankAnswer] = field(default_factory=list)
    refusals: List[str] = field(default_factory=list)
    key: str = ""           # "AAAA = canonical" lines, then "changed"
    changed: bool = False   # lines changed outside the blanks
    fatal: bool = False

    @property
    def counts(self) -> Dict[str, int]:
        c = dict.fromkeys(KINDS, 0)
        for f in self.items:
            c[f.kind] = c.get(f.kind, 0) + 1
        return c

    @property
    def findings(self) -> int:
        """The violations (every finding but notices)."""
        return sum(1 for f in self.items if f.kind in VIOLATIONS)

    @property
    def unanswered(self) -> bool:
        """Blanks not answered or not filled in: nothing can be graded."""
        return self.fatal and not self.refusals

    @property
    def answers(self) -> Dict[str, str]:
        """{blank: expression as given} of the blanks answered."""
        return {b.name: b.given for b in self.blanks if b.given is not None}


def tokens(text):
    """[(token, line)] of the blank tokens in text, in order."""
    out = []
    for n, line in enumerate(text.split("\n"), 1):
        out += [(m.group(0), n) for m in TOKEN_RE.finditer(line)]
    return out


def unfilled(files, shown):
    """One line per blank token still in the files (as whole words; XAAAA,
    AAAAB or A_AAAA are not blanks), named SHOWN/basename:line."""
    out = []
    for f in files:
        f = Path(f)
        name = "%s/%s" % (shown, f.name) if shown else f.name
        for n, line in enumerate(f.read_bytes().split(b"\n"), 1):
            for m in _TOKEN_RE_B.finditer(line):
                out.append("blank %s at %s:%d is not filled in"
                           % (m.group(0).decode(), name, n))
    return out


_built = []


def kwblank():
    """The blank checker, built for the host if it is not up to date."""
    if not _built:
        r = subprocess.run(["make", "-s", "-C", str(ROOT / "checker" / "kwblank"),
                            "OUT=%s" % (BUILD / "host-bin")],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if r.returncode:
            last = r.stdout.decode("utf-8", "replace").strip().splitlines()
            die("building the blank checker (checker/kwblank) failed%s"
                % (": " + last[-1] if last else ""))
        _built.append(BUILD / "host-bin" / "kwblank")
    return _built[0]


def _str(v, what):
    if v is not None and not isinstance(v, str):
        die("kwblank's JSON: %s is not a string" % what)
    return v


def _report(data, text):
    try:
        items = [Finding(_str(f["where"], "where") or "", _str(f["blank"], "blank"),
                         _str(f["kind"], "kind"), _str(f["text"], "text"))
                 for f in data["findings"]]
        answers = [BlankAnswer(_str(b["name"], "name"), _str(b["where"], "where") or "",
                               _str(b["given"], "given"), _str(b["canon"], "canon"),
                               b["one_expression"] is True,
                               _str(b["verdict"], "verdict"),
                               _str(b["hint"], "hint"))
                   for b in data["blanks"]]
        refusals = ["%s: %s" % (_str(r["blank"], "blank"), _str(r["text"], "text"))
                    for r in data["refusals"]]
        rep = BlankReport(_str(data["mode"], "mode"), int(data["exit"]), text,
                          items, answers, refusals, _str(data["key"], "key"),
                          data["changed"] is True, data["fatal"] is True)
    except (KeyError, TypeError, ValueError) as e:
        die("kwblank's JSON is not what this grader reads (%s): rebuild it "
            "(make -C checker/kwblank)" % e)
    for b in rep.blanks:
        if not NAME_RE.fullmatch(b.name):
            die("kwblank's JSON names a blank %r" % b.name)
    return rep


def check(pristine, sources, rules=None, answers=None, submission=None,
          shown="", out=None) -> BlankReport:
    """Run kwblank check on an answers file or a filled-in folder.

    pristine: the stage as handed out; sources: its files (stage.conf's
    SOURCES); rules: its blanks.rules or None; shown: the name of the
    answers file or folder in messages (kwblank's default: the path).
    out: a folder that gets answers.tsv (the table), key and blanks.json.
    Exit status 2 of kwblank (usage, a rules file that disagrees with the
    stage) raises KwebError with its message."""
    if (answers is None) == (submission is None):
        raise ValueError("check(): give answers or submission, not both")
    args = [str(kwblank()), "check", "--stage", str(pristine)]
    for f in sources:
        args += ["--file", f]
    if rules is not None:
        args += ["--rules", str(rules)]
    if shown:
        args += ["--shown", shown]
    if answers is not None:
        args += ["--answers", str(answers)]
    else:
        args += ["--submission", str(submission)]
    with tempfile.TemporaryDirectory(prefix="kweb-blanks.") as tmp:
        if out is not None:
            out = Path(out)
            out.mkdir(parents=True, exist_ok=True)
            args += ["--table", str(out / "answers.tsv"), "--key", str(out / "key")]
            js = out / "blanks.json"
        else:
            js = Path(tmp) / "blanks.json"
        args += ["--json", str(js)]
        r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        err = r.stderr.decode("utf-8", "replace").strip()
        if r.returncode not in (0, 1, 3):
            die("the blank checker failed: %s"
                % (err.splitlines()[-1] if err else "exit %d" % r.returncode))
        try:
            data = json.loads(js.read_bytes().decode("utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as e:
            die("the blank checker wrote no JSON one can read (%s)" % e)
    return _report(data, r.stdout.decode("utf-8", "replace"))


def fill(pristine_dir, report_or_answers, out_dir):
    """Copy the pristine stage to out_dir (replaced) with its blank tokens
    filled in: from a BlankReport of an answers file (the expressions as
    kwblank parsed them), or from a {blank: expression} dict. A token with
    no answer is left as it is (unfilled() finds it). Raises Refused if
    kwblank refused an answer."""
    if isinstance(report_or_answers, BlankReport):
        rep = report_or_answers
        if rep.refusals:
            raise Refused(rep.refusals)
        if rep.mode != "answers":
            raise ValueError("fill(): a report of a filled-in folder has no "
                             "answers to fill in")
        answers = rep.answers
    else:
        answers = dict(report_or_answers)
    table = {}
    for k, v in answers.items():
        if not NAME_RE.fullmatch(k) or "\n" in v:
            raise ValueError("fill(): %r = %r is no blank's answer" % (k, v))
        table[k.encode()] = v.encode("utf-8")
    src, out = Path(pristine_dir), Path(out_dir)
    if out.is_symlink() or out.is_file():
        out.unlink()
    elif out.exists():
        shutil.rmtree(out)
    shutil.copytree(src, out, symlinks=True)
    for f in sorted(out.iterdir()):
        if f.suffix not in (".c", ".h") or f.is_symlink() or not f.is_file():
            continue
        text = f.read_bytes()
        new = _TOKEN_RE_B.sub(lambda m: table.get(m.group(0), m.group(0)), text)
        if new != text:
            f.write_bytes(new)


def rules(path):
    """A blanks.rules file as kwblank reads it: {"path", "blanks": [...],
    "sets": {name: [words]}, "rules": [{"blank", "verb", "words",
    "written", "set", "line"}], "hints": {blank: text}}. A file that does
    not parse raises KwebError with kwblank's message."""
    r = subprocess.run([str(kwblank()), "rules", "--json", str(path)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode:
        err = r.stderr.decode("utf-8", "replace").strip()
        die(err.replace("kwblank: ", "", 1) or "kwblank rules failed")
    return json.loads(r.stdout.decode("utf-8"))
