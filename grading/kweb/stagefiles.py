"""Parsers of a stage's files in checker/NN-name/ (and an instructor
pack's): rubric, hints and stage.conf. One parser per format: everything in
the kit that reads these files calls this module.

rubric     "name points timeout visibility description" lines, # comments;
           "require kernel K..." grades the stage on those kernels only
hints      "NAME text" lines; several lines of a test are joined
stage.conf MODULE=kweb, SOURCES="kweb.c", CONTROL=sysfs, PROBE=http,
           LOCAL_TESTS="invalid_params" lines (shell-like assignments, read
           as data: never run)
"""

import os
import re
import shlex
from pathlib import Path

from .model import (STATIC_HINTS, STATIC_TESTS, RubricLine, Stage,
                    StageConf)
from .paths import KERNELS, ROOT, die, stage_dir

NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,39}")
MODULE_RE = re.compile(r"[a-z][a-z0-9_]{0,30}")
SOURCE_RE = re.compile(r"[a-z0-9_]{1,40}\.[ch]")


def _lines(path):
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if line and not line.startswith("#"):
                yield n, line


def parse_rubric(path, kernels=None):
    """The rubric's lines, in order, as RubricLine (kind and script unset).

    kernels: a list, given the kernels a "require kernel K..." line names
    (a stage, or an instructor's pack, that must be graded on debug)."""
    out, seen = [], set()
    for n, line in _lines(path):
        parts = line.split(None, 4)
        where = "%s:%d" % (path, n)
        if parts[0] == "require":
            words = line.split()
            if len(words) < 3 or words[1] != "kernel" or \
                    not all(k in KERNELS for k in words[2:]):
                die("%s: expected 'require kernel K...', K one of %s"
                    % (where, ", ".join(KERNELS)))
            if kernels is not None:
                kernels.extend(k for k in words[2:] if k not in kernels)
            continue
        if len(parts) < 4:
            die("%s: expected 'name points timeout visibility description'"
                % where)
        name, pts, timeout, vis = parts[:4]
        desc = parts[4] if len(parts) > 4 else ""
        if not NAME_RE.fullmatch(name):
            die("%s: test name '%s' is not lower_case_with_underscores"
                % (where, name))
        if not pts.isdigit():
            die("%s: test %s: points '%s' is not a number" % (where, name, pts))
        if not timeout.isdigit() or (int(timeout) == 0 and
                                     not name.startswith("static_")):
            die("%s: test %s: timeout '%s' is not a number of seconds"
                % (where, name, timeout))
        if vis not in ("visible", "hidden"):
            die("%s: test %s: visibility '%s' is neither visible nor hidden"
                % (where, name, vis))
        if name in seen:
            die("test %s is in the rubric twice (%s)" % (name, path))
        seen.add(name)
        out.append(RubricLine(name, int(pts), int(timeout), vis, desc))
    return out


def parse_hints(path):
    hints = {}
    if not Path(path).is_file():
        return hints
    for _, line in _lines(path):
        name, _, text = line.partition(" ")
        text = text.strip()
        hints[name] = (hints[name] + " " + text) if name in hints else text
    return hints


def parse_stage_conf(path):
    values = {}
    for n, line in _lines(path):
        key, eq, value = line.partition("=")
        if not eq or not re.fullmatch(r"[A-Z_]+", key):
            die("%s:%d: expected KEY=value" % (path, n))
        try:
            words = shlex.split(value)
        except ValueError:
            die("%s:%d: unbalanced quotes" % (path, n))
        values[key] = " ".join(words)
    module = values.get("MODULE", "")
    sources = values.get("SOURCES", "").split()
    if not MODULE_RE.fullmatch(module):
        die("%s: MODULE='%s' is not a module name" % (path, module))
    if not sources or not all(SOURCE_RE.fullmatch(s) for s in sources):
        die("%s: SOURCES='%s' must name the module's .c/.h files"
            % (path, values.get("SOURCES", "")))
    control = values.get("CONTROL", "")
    probe = values.get("PROBE", "")
    if control not in ("", "sysfs"):
        die("%s: CONTROL='%s': use sysfs or leave it out" % (path, control))
    if probe not in ("", "echo", "http", "fib"):
        die("%s: PROBE='%s': use echo, http or fib" % (path, probe))
    local = values.get("LOCAL_TESTS", "").split()
    bad = [t for t in local if not NAME_RE.fullmatch(t)]
    if bad:
        die("%s: LOCAL_TESTS names '%s', which is no test name" % (path, bad[0]))
    return StageConf(module, sources, control, probe, local)


def instructor_pack(stage_name, pack=None):
    """The instructor pack's folder for the stage, or None.

    pack: KWEB_INSTRUCTOR_PACK ('' = instructor/ when it exists, 'none')."""
    if pack is None:
        pack = os.environ.get("KWEB_INSTRUCTOR_PACK", "")
    if pack == "none":
        return None
    if pack == "":
        base = ROOT / "instructor"
        if not base.is_dir():
            return None
    else:
        base = Path(pack)
        if not base.is_dir():
            die("KWEB_INSTRUCTOR_PACK=%s is not a folder" % pack)
    d = base.resolve() / stage_name
    return d if d.is_dir() else None


def load_stage(stage_arg, pack=None, only=None):
    """The stage to grade: its rubric (with the pack's), scripts and hints.

    only: test names to keep (KWEB_TESTS), or None for all."""
    check = stage_dir(stage_arg)
    name = check.name
    for f in ("rubric", "stage.conf"):
        if not (check / f).is_file():
            die("stage %s has no %s in %s" % (name, f, check))
    conf = parse_stage_conf(check / "stage.conf")
    pack_dir = instructor_pack(name, pack)
    common = ROOT / "checker" / "common" / "tests"
    search = [check / "tests", common]
    if pack_dir:
        for f in sorted((pack_dir / "tests").glob("*.sh")):
            if (check / "tests" / f.name).is_file() or (common / f.name).is_file():
                die("instructor pack test %s has the name of one of the kit's "
                    "tests: rename it" % f.stem)
        search.insert(0, pack_dir / "tests")
    kernels, pack_kernels = [], []
    lines = parse_rubric(check / "rubric", kernels)
    if pack_dir and (pack_dir / "rubric").is_file():
        kit = {t.name for t in lines}
        for t in parse_rubric(pack_dir / "rubric", pack_kernels):
            if t.name in kit:
                die("test %s is in the rubric twice (%s)"
                    % (t.name, pack_dir / "rubric"))
            lines.append(t)
    hints = parse_hints(check / "hints")
    if pack_dir:
        for k, v in parse_hints(pack_dir / "hints").items():
            hints[k] = (hints[k] + " " + v) if k in hints else v
    tests = []
    for t in lines:
        if only is not None and t.name not in only:
            continue
        if t.name in STATIC_TESTS:
            t.kind = "static"
            t.hint = STATIC_HINTS[t.name] % name if "%s" in STATIC_HINTS[t.name] \
                else STATIC_HINTS[t.name]
        elif t.name.startswith("static_"):
            die("%s: unknown host-side check %s (one of: %s)"
                % (check / "rubric", t.name, " ".join(STATIC_TESTS)))
        else:
            for d in search:
                if (d / (t.name + ".sh")).is_file():
                    t.script = d / (t.name + ".sh")
                    break
            else:
                die("rubric of %s names test '%s', which is in none of %s"
                    % (name, t.name, ", ".join(str(d) for d in search)))
        t.hint = hints.get(t.name, t.hint)
        tests.append(t)
    if not tests:
        die("no test selected (KWEB_TESTS='%s')" % " ".join(only or ()))
    if kernels and pack_kernels:    # both require: what both allow
        kernels = [k for k in kernels if k in pack_kernels]
        if not kernels:
            die("the rubrics of %s and of the instructor pack require no "
                "kernel in common" % name)
    return Stage(name, check, conf, tests, pack_dir, kernels or pack_kernels)


def strip_hidden(checker):
    """Take the hidden tests out of a copy of checker/ (the student kit):
    their rubric lines, and their scripts unless a stage uses the same
    test visibly. Returns the names taken out."""
    checker = Path(checker)
    rubrics = sorted(checker.glob("[0-9][0-9]-*/rubric"))
    parsed = {r: parse_rubric(r) for r in rubrics}
    visible = {t.name for ts in parsed.values() for t in ts
               if t.visibility == "visible"}
    gone = set()
    for r, tests in parsed.items():
        hidden = {t.name for t in tests if t.visibility != "visible"}
        if not hidden:
            continue
        kept = []
        with open(r, encoding="utf-8") as f:
            for line in f:
                words = line.split()
                if words and not line.lstrip().startswith("#") \
                        and words[0] in hidden:
                    continue
                kept.append(line)
        Path(r).write_text("".join(kept), encoding="utf-8")
        for name in hidden:
            (r.parent / "tests" / (name + ".sh")).unlink(missing_ok=True)
            if name not in visible:
                (checker / "common" / "tests" / (name + ".sh")).unlink(
                    missing_ok=True)
        gone |= hidden
    return sorted(gone)
