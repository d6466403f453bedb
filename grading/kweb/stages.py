"""The student stages, generated from the reference solutions.

In a solution (solutions/NN-name/*.c, *.h), a blank is marked inline as
/*{*/expression/*}*/, so that the solution stays a buildable module. Its
stage (stages/NN-name/) has each marked expression replaced by the next
token, AAAA, BBBB, ... ZZZZ, in order of appearance (through the
solution's .c and .h files in name order). This module is the one parser
of those markers; the handouts and the grader call it.

solutions/NN-name/variants (instructor only, never copied into stages/)
lists other expressions accepted for a blank, "TOKEN = expression" lines,
each after comment lines saying why it is equivalent there; variants()
is its one parser.

    generate [OUTROOT]   write OUTROOT/NN-name for every solution (stages/)
    check                one error line if stages/ is not what generate writes
    one SOL DST          write the stage of one solution folder
    answers SOL          print the solution's "AAAA = expression" lines
"""

import fnmatch
import re
import shutil
import string
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Tuple

from .paths import ROOT, die, run_main

OPEN, CLOSE = "/*{*/", "/*}*/"
# Never copied from a solution: build products, and the instructor's list.
SKIP = ("*.ko", "*.o", "*.mod", "*.mod.c", "*.order", "*.symvers", "variants")
# Not compared by check: build products in either tree.
BUILT = ("*.ko", "*.o", "*.mod*", "*.order", "*.symvers", ".*.cmd")
VARIANT_RE = re.compile(r"\s*(([A-Z])\2\2\2)\s*=\s*(.*?)\s*$")
USAGE = ("usage: stages generate [OUTROOT] | check | one SOLUTIONDIR OUTDIR "
         "| answers SOLUTIONDIR")


@dataclass
class Blank:
    token: str          # AAAA
    expr: str           # the expression marked in the solution
    file: str           # kecho.c
    line: int           # 1-based


def _shown(path):
    path = Path(path)
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def _token(n, where):
    if n >= len(string.ascii_uppercase):
        die("%s: more than 26 blanks (AAAA to ZZZZ)" % where)
    return string.ascii_uppercase[n] * 4


def parse_markers(text, name, first=0, shown=None):
    """The stage text of one solution file and its blanks.

    text: the file's text; name: its name (kecho.c); first: how many blanks
    came before it in the solution. A marker must open and close on one
    line."""
    shown = shown or name
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    out, found = [], []
    for n, line in enumerate(lines, 1):
        res = ""
        while True:
            s = line.find(OPEN)
            if s < 0:
                break
            rest = line[s + len(OPEN):]
            e = rest.find(CLOSE)
            if e < 0:
                die("%s:%d: blank opened with %s but not closed on the same "
                    "line" % (shown, n, OPEN))
            tok = _token(first + len(found), "%s:%d" % (shown, n))
            found.append(Blank(tok, rest[:e], name, n))
            res += line[:s] + tok
            line = rest[e + len(CLOSE):]
        if CLOSE in line:
            die("%s:%d: %s without %s" % (shown, n, CLOSE, OPEN))
        out.append(res + line)
    return "".join(x + "\n" for x in out), found


def strip_markers(text):
    """The solution's text as the compiler reads it: markers dropped."""
    return text.replace(OPEN, "").replace(CLOSE, "")


def _read(path):
    return path.read_bytes().decode("utf-8", "surrogateescape")


def _write(path, text):
    path.write_bytes(text.encode("utf-8", "surrogateescape"))


def _sources(sol):
    return sorted(p for p in Path(sol).iterdir()
                  if p.suffix in (".c", ".h") and p.is_file()
                  and not p.name.startswith("."))


def blanks(sol) -> List[Blank]:
    """The blanks of a solution folder, in stage order."""
    found = []
    for p in _sources(sol):
        found += parse_markers(_read(p), p.name, len(found), _shown(p))[1]
    return found


def answers(sol) -> List[Tuple[str, str]]:
    """[(token, expression)] of a solution folder, in order."""
    return [(b.token, b.expr) for b in blanks(sol)]


def answers_text(sol):
    """The solution's answers file: "AAAA = expression" lines."""
    return "".join("%s = %s\n" % a for a in answers(sol))


def generate_one(sol, dst):
    """Write the stage of solution folder sol into dst (replaced)."""
    sol, dst = Path(sol), Path(dst)
    if not sol.is_dir():
        die("no solution folder %s" % sol)
    if dst.is_symlink() or dst.is_file():
        dst.unlink()
    elif dst.exists():
        shutil.rmtree(dst)
    dst.mkdir(parents=True)
    n = 0
    for p in sorted(sol.iterdir()):
        if p.name.startswith(".") or \
                any(fnmatch.fnmatch(p.name, pat) for pat in SKIP):
            continue
        if not p.is_file() or p.is_symlink():
            die("%s is not a regular file: a solution holds files only"
                % _shown(p))
        if p.suffix in (".c", ".h"):
            text, found = parse_markers(_read(p), p.name, n, _shown(p))
            n += len(found)
            _write(dst / p.name, text)
        else:
            shutil.copy(p, dst / p.name)


def solutions(root=None):
    root = Path(root or ROOT)
    sols = sorted(p for p in (root / "solutions").glob("[0-9][0-9]-*")
                  if p.is_dir())
    if not sols:
        die("no solutions/ here to generate stages/ from (the student kit "
            "ships stages/ ready-made)")
    return sols


def generate(out=None, root=None):
    """Write every solution's stage under out (default stages/)."""
    root = Path(root or ROOT)
    out = Path(out or root / "stages")
    sols = solutions(root)
    out.mkdir(parents=True, exist_ok=True)
    for sol in sols:
        generate_one(sol, out / sol.name)


def _tree(d):
    """{relative path: bytes} of the files under d, build products aside."""
    files = {}
    for p in sorted(Path(d).rglob("*")):
        if p.is_dir() or any(fnmatch.fnmatch(p.name, pat) for pat in BUILT):
            continue
        files[str(p.relative_to(d))] = p.read_bytes() if p.is_file() else None
    return files


def stale(root=None):
    """None if stages/ is what generate writes, else one line saying what
    differs and what to do."""
    root = Path(root or ROOT)
    with tempfile.TemporaryDirectory(prefix="kweb-stages.") as tmp:
        generate(tmp, root)
        for d in sorted(Path(tmp).iterdir()):
            have = root / "stages" / d.name
            if not have.is_dir():
                return "stages/%s is missing: run 'make stages'" % d.name
            want, got = _tree(d), _tree(have)
            for f in sorted(set(want) | set(got)):
                if want.get(f) != got.get(f):
                    return ("stages/%s/%s differs from what solutions/ "
                            "generates: run 'make stages'" % (d.name, f))
    return None


def check(root=None):
    """Raise KwebError (one line) if stages/ is stale."""
    bad = stale(root)
    if bad:
        die(bad)


def variants(path) -> Dict[str, List[Tuple[str, str]]]:
    """{token: [(expression, why)]} from a solutions/NN/variants file; why
    is the comment lines just above the variant, joined."""
    out = {}
    path = Path(path)
    if not path.exists():
        return out
    why = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip():
                why = []
                continue
            if line.lstrip().startswith("#"):
                why.append(line.lstrip()[1:].strip())
                continue
            m = VARIANT_RE.match(line)
            if not m or not m.group(3):
                die('%s:%d: expected "AAAA = <expression>"' % (path, n))
            out.setdefault(m.group(1), []).append((m.group(3), " ".join(why)))
            why = []
    return out


def main(argv):
    """grading/kw stages ARGS: argv without the command name. Returns the
    exit status; raises KwebError (exit 2, one line) on errors."""
    if argv[:1] == ["generate"] and len(argv) <= 2:
        generate(argv[1] if len(argv) == 2 else None)
    elif argv == ["check"]:
        check()
    elif argv[:1] == ["one"] and len(argv) == 3:
        generate_one(argv[1], argv[2])
    elif argv[:1] == ["answers"] and len(argv) == 2:
        sys.stdout.write(answers_text(argv[1]))
    else:
        die(USAGE)
    return 0


if __name__ == "__main__":
    run_main(main)
