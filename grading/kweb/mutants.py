"""Mutation testing: how many small wrong versions of a solution the
stage's tests catch.

    grading/kw mutants STAGE [KERNEL]       (make mutants STAGE=n)
    grading/kw mutants STAGE --list         the mutants, not graded

Each mutant is the solution (solutions/NN-*/, markers dropped) with one
small edit, made by one of a fixed set of operators, in this order:

  call    a blank's call replaced by one a student might write instead:
          another workqueue call (queue_work -> schedule_work, flush_work
          for cancel_work_sync, queue_delayed_work for mod_delayed_work),
          kthread_create for kthread_run, cpu_relax for cond_resched,
          sizeof for strlen, another base for kstrto*
  sync    "_sync" dropped from a call (cancel_work_sync -> cancel_work),
          in a blank or on a start/stop/exit path
  flag    a flag flipped, in a blank or on a start/stop/exit path:
          O_NONBLOCK, MSG_*, SHUT_*, WQ_*, GFP_* (FLAGS below)
  args    two neighbouring arguments of a blank's call swapped
  neg     a blank's negation removed, or added to a blank that is a
          condition; a comparison or && / || in a blank turned around;
          the two branches of a blank's ?: swapped
  const   an integer constant in a blank off by one
  member  container_of's member or type replaced by another one of the
          file's: another member of the same type in the struct, another
          struct with a member of that type; or a cast instead
  fmt     the newline dropped from a sysfs_emit format
  del     a statement deleted on a start/stop/exit path (a function whose
          name says start, stop, exit, init, release, reap, close, free,
          store or listen)
  lock    a lock taken on such a path, or anywhere, deleted with its
          unlocks
  order   two neighbouring statements on such a path swapped

A mutant is graded like a student's folder (grading/kw grade). It is
KILLED when it scores below full marks (the tests that failed are named),
SURVIVED when it scores full marks, EQUIVALENT when it is listed in
solutions/NN-*/equivalent or its blank's expression is one of the
solution's variants, STILLBORN when it does not build (not counted), and
ERROR when the grade could not run. The kill rate is killed / (killed +
survived). A listed equivalent that a test kills is an error of the list,
and so is a listed id that no operator makes any more.

solutions/NN-*/equivalent (instructors only, like variants): one mutant a
line, "ID  reason": why the edit cannot change what the module does.

Ids are the first 8 hex digits of a hash of the operator, the file, the
line's text and the edit, so they survive edits elsewhere in the file.

Environment: KWEB_MUTANTS (ids to grade, the rest are left out),
KWEB_MUTANTS_OPS (operators to use), KWEB_MUTANTS_SEED (the order of the
grades, default 1: with a budget, which ones run), KWEB_MUTANTS_LIMIT
(grade at most this many), KWEB_MUTANTS_BUDGET (seconds: no grade starts
after it, default 0 = none), KWEB_JOBS (grades at once, default 1: two
guests on two cores slow each other's timing), KWEB_MUTANTS_OUT (default
build/mutants/STAGE-KERNEL), KWEB_JOB_TIMEOUT, KWEB_TESTS,
KWEB_INSTRUCTOR_PACK.

Resumable: a grade's verdict is kept in OUT/verdicts/KERNEL/ID.json with a digest
of the mutant's source, the kernel and the stage's tests, and reused while
all three are the same. Writes OUT/mutants.tsv and OUT/summary.txt. Exit
status: 0 when every mutant graded is killed, equivalent or stillborn,
1 when some survived or the equivalent list is wrong, 2 when the run
could not start.
"""

import concurrent.futures
import hashlib
import json
import os
import random
import re
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List

from . import classbatch, stages
from .model import load_results, one_line
from .paths import (BUILD, ROOT, KwebError, die, kernel_series, now,
                    stage_dir)

OPERATORS = ("call", "sync", "flag", "args", "neg", "const", "member", "fmt",
             "del", "lock", "order")

# Functions on the start/stop/exit paths: statements there are deleted and
# reordered, and their flags flipped.
PATH_RE = re.compile(r"(start|stop|exit|init|release|reap|close|free|store|"
                     r"listen)")

# A flag and what a student writes instead ("" drops it from an | list;
# alone, it becomes 0).
FLAGS = {
    "O_NONBLOCK": ["0"],
    "MSG_DONTWAIT": ["0"],
    "MSG_NOSIGNAL": ["0"],
    "MSG_WAITALL": ["0"],
    "MSG_MORE": ["0"],
    "SHUT_RDWR": ["SHUT_WR", "SHUT_RD"],
    "SHUT_WR": ["SHUT_RDWR", "SHUT_RD"],
    "SHUT_RD": ["SHUT_RDWR"],
    "WQ_UNBOUND": ["0"],
    "WQ_MEM_RECLAIM": ["0"],
    "WQ_HIGHPRI": ["0"],
    "WQ_SYSFS": ["0"],
    "GFP_ATOMIC": ["GFP_KERNEL"],
    "GFP_KERNEL": ["GFP_ATOMIC"],
    "GFP_NOWAIT": ["GFP_KERNEL"],
}

# name -> [(new name, how its arguments change)]: "same" keeps them,
# "drop1" drops the first (queue_work(wq, w) -> schedule_work(w)),
# "sys1" puts system_wq first (schedule_work(w) -> queue_work(system_wq, w)),
# "none" calls it with no arguments.
CALLS = {
    "queue_work": [("schedule_work", "drop1")],
    "schedule_work": [("queue_work", "sys1")],
    "queue_delayed_work": [("mod_delayed_work", "same"),
                           ("schedule_delayed_work", "drop1")],
    "mod_delayed_work": [("queue_delayed_work", "same"),
                         ("schedule_delayed_work", "drop1")],
    "cancel_work_sync": [("flush_work", "same")],
    "cancel_work": [("cancel_work_sync", "same")],
    "flush_work": [("cancel_work_sync", "same")],
    "cancel_delayed_work_sync": [("flush_delayed_work", "same")],
    "flush_delayed_work": [("cancel_delayed_work_sync", "same")],
    "flush_workqueue": [("drain_workqueue", "same")],
    "kthread_run": [("kthread_create", "same")],
    "kthread_stop": [("kthread_park", "same")],
    "cond_resched": [("cpu_relax", "none")],
    "strlen": [("sizeof", "same")],
    "sysfs_emit": [("sprintf", "same")],
    "atomic_read": [("atomic_inc_return", "same")],
}
KSTRTO_RE = re.compile(r"\bkstrto[a-z0-9]+\(")

LOCKS = {
    "mutex_lock": "mutex_unlock",
    "spin_lock": "spin_unlock",
    "spin_lock_bh": "spin_unlock_bh",
    "spin_lock_irq": "spin_unlock_irq",
    "read_lock": "read_unlock",
    "read_lock_bh": "read_unlock_bh",
    "write_lock": "write_unlock",
    "write_lock_bh": "write_unlock_bh",
    "lock_sock": "release_sock",
    "rcu_read_lock": "rcu_read_unlock",
}

STATEMENT_RE = re.compile(r"^(\t+)([A-Za-z_*(][^;]*);\s*(/\*.*\*/)?\s*$")
DECL_RE = re.compile(r"^(const\s+|static\s+|unsigned\s+|struct\s+|enum\s+)*"
                     r"[A-Za-z_]\w*\s+\**\s*[A-Za-z_]\w*\s*(=|\[|;|,|$)")
# Calls that only log: deleting or moving one changes no behaviour a test
# could (or should) see.
LOG_RE = re.compile(r"^\s*(pr_[a-z_]+|printk|dev_[a-z]+|net_[a-z_]+ratelimited)"
                    r"\s*\(")
NOT_STATEMENTS = ("return", "goto", "break", "continue", "case", "default",
                  "else", "do")
CONTROL_RE = re.compile(r"^\s*(\}\s*)?(if|else|for|while)\b")
CALL_RE = re.compile(r"^([A-Za-z_]\w*)\s*\(")
INT_RE = re.compile(r"(?<![\w.])(\d+)(?![\w.])")
CMP = [(" >= ", " > "), (" > ", " >= "), (" <= ", " < "), (" < ", " <= "),
       (" == ", " != "), (" != ", " == "), (" && ", " || "),
       (" || ", " && ")]
MAX_ONE_LINE = 120


@dataclass
class Mutant:
    op: str
    file: str
    line: int                   # 1-based, of the first line changed
    before: str                 # the changed text, one line
    after: str
    text: str                   # the whole mutated file
    token: str = ""             # the blank it edits, if one
    expr: str = ""              # the blank's new expression
    id: str = ""

    def diff(self):
        """The edit on one line: what the two sides share at either end
        is left out (...) when the line is long."""
        a, b = self.before, self.after
        d = "%s -> %s" % (a, b)
        if len(d) <= MAX_ONE_LINE or b == "(deleted)" or \
                b.startswith("(deleted with"):
            return d if len(d) <= MAX_ONE_LINE else \
                d[:MAX_ONE_LINE - 3] + "..."
        p = 0
        while p < min(len(a), len(b)) and a[p] == b[p]:
            p += 1
        q = 0
        while q < min(len(a), len(b)) - p and a[-1 - q] == b[-1 - q]:
            q += 1
        # Back to the argument or word each edit starts and ends in.
        p = max([a.rfind(c, 0, max(0, p - 16)) + 1 for c in "(, "] + [0])
        end = min(len(a), len(a) - q + 8)
        q = len(a) - min([x for x in (a.find(c, end) for c in "), ")
                          if x >= 0] + [len(a)])
        cut = lambda x: ("..." if p else "") + x[p:len(x) - q] + \
            ("..." if q else "")
        return "%s -> %s" % (cut(a), cut(b))


@dataclass
class Verdict:
    status: str                 # KILLED SURVIVED EQUIVALENT STILLBORN ERROR
    tests: List[str] = field(default_factory=list)  # failed, when killed
    why: str = ""
    seconds: float = 0.0
    reused: bool = False


# --- parsing the solution's C, kernel style --------------------------------

@dataclass
class Function:
    name: str
    start: int                  # 0-based index of its "{" line
    end: int                    # 0-based index of its "}" line


def functions(lines):
    """The file's function bodies: a "{" alone at column 0 after a header
    that names the function, up to the next "}" at column 0."""
    out = []
    i = 0
    while i < len(lines):
        if lines[i] == "{":
            name = ""
            for j in range(i - 1, max(i - 4, -1), -1):
                m = re.search(r"\b([A-Za-z_]\w*)\s*\(", lines[j])
                if m and not lines[j].startswith((" ", "\t")):
                    name = m.group(1)
                    break
            k = i + 1
            while k < len(lines) and lines[k] != "}":
                k += 1
            if name and k < len(lines):
                out.append(Function(name, i, k))
            i = k
        i += 1
    return out


def _balanced(s):
    depth = 0
    for c in _code(s):
        depth += {"(": 1, ")": -1}.get(c, 0)
        if depth < 0:
            return False
    return depth == 0


def _code(s):
    """s with string and character literals blanked out."""
    return re.sub(r'"(\\.|[^"\\])*"|\'(\\.|[^\'\\])*\'',
                  lambda m: '"' + " " * (len(m.group(0)) - 2) + '"', s)


def statement(lines, i):
    """The statement on line i when it is one whole simple statement (a
    call or an assignment, not a declaration or a jump, not a braceless
    body of a control line), else None."""
    m = STATEMENT_RE.match(lines[i])
    if not m:
        return None
    body = m.group(2).strip()
    first = re.match(r"[A-Za-z_]\w*", body)
    if first and first.group(0) in NOT_STATEMENTS:
        return None
    if DECL_RE.match(body) and not re.match(r"[A-Za-z_]\w*\s*\(", body):
        return None
    if not _balanced(body) or LOG_RE.match(body):
        return None
    prev = i - 1
    while prev >= 0 and not lines[prev].strip():
        prev -= 1
    if prev < 0:
        return None
    p = lines[prev].rstrip()
    if not (p.endswith((";", "{", "}", "*/")) or p.endswith(":")):
        return None             # a continued statement or a braceless body
    if CONTROL_RE.match(p) and not p.endswith("{"):
        return None
    return body


def _calls(expr):
    """(name, start, open paren, close paren) of each call in expr."""
    code = _code(expr)
    out = []
    for m in re.finditer(r"\b([A-Za-z_]\w*)\s*\(", code):
        depth, j = 0, m.end() - 1
        for k in range(j, len(code)):
            depth += {"(": 1, ")": -1}.get(code[k], 0)
            if depth == 0:
                out.append((m.group(1), m.start(), j, k))
                break
    return out


def _split_args(s):
    """The top-level arguments of an argument list's text."""
    code = _code(s)
    out, depth, last = [], 0, 0
    for k, c in enumerate(code):
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == "," and depth == 0:
            out.append(s[last:k])
            last = k + 1
    out.append(s[last:])
    return [a.strip() for a in out] if s.strip() else []


def structs(text):
    """{struct name: [(member type, member name)]} of the file's struct
    definitions (one member a line)."""
    out = {}
    for m in re.finditer(r"^struct (\w+) \{\n(.*?)^\};", text, re.M | re.S):
        members = []
        for line in m.group(2).split("\n"):
            d = re.match(r"^\t([A-Za-z_][\w\s*]*?)\s*\**(\w+)(\[[^\]]*\])?;",
                         line)
            if d:
                members.append((d.group(1).strip(), d.group(2)))
        out[m.group(1)] = members
    return out


# --- the operators ---------------------------------------------------------

def _expr_edits(op, expr, is_cond, text):
    """(new expression, shown before, shown after) for a blank's expression
    under operator op."""
    out = []
    calls = _calls(expr)
    if op == "call":
        for name, s, o, c in calls:
            args = _split_args(expr[o + 1:c])
            for new, how in CALLS.get(name, []):
                if how == "drop1" and args:
                    a = args[1:]
                elif how == "sys1":
                    a = ["system_wq"] + args
                elif how == "none":
                    a = []
                else:
                    a = args
                out.append("%s%s(%s)%s" % (expr[:s], new, ", ".join(a),
                                           expr[c + 1:]))
        for m in KSTRTO_RE.finditer(expr):
            args = _split_args(expr[m.end():expr.rfind(")")])
            if len(args) == 3 and args[1] in ("10", "0", "16"):
                for base in ("0", "16", "10"):
                    if base != args[1]:
                        out.append(expr[:m.end()] + ", ".join(
                            [args[0], base, args[2]]) + expr[expr.rfind(")"):])
    elif op == "sync":
        for name, s, o, c in calls:
            if name.endswith("_sync"):
                out.append(expr[:s] + name[:-5] + expr[o:])
    elif op == "flag":
        out += _flag_edits(expr)
    elif op == "args":
        for name, s, o, c in calls:
            args = _split_args(expr[o + 1:c])
            for k in range(len(args) - 1):
                if args[k] != args[k + 1] and not name.startswith(
                        ("container_of", "kthread_run", "sizeof")):
                    a = list(args)
                    a[k], a[k + 1] = a[k + 1], a[k]
                    out.append("%s(%s)%s" % (expr[:o], ", ".join(a),
                                             expr[c + 1:]))
    elif op == "neg":
        if expr.startswith("!") and _balanced(expr[1:]) and \
                not re.search(r"\s(&&|\|\|)\s", _code(expr)):
            out.append(expr[1:])
        elif expr.startswith("!"):
            m = re.match(r"!([A-Za-z_]\w*(\([^()]*\))?)", expr)
            if m:
                out.append(m.group(1) + expr[m.end():])
        elif is_cond:
            out.append("!(%s)" % expr if re.search(r"[ <>=&|]", expr)
                       else "!" + expr)
        code = _code(expr)
        t = re.fullmatch(r"(.+?) \? (.+) : (.+)", expr)
        if t and _balanced(t.group(2)) and _balanced(t.group(3)):
            out.append("%s ? %s : %s" % (t.group(1), t.group(3), t.group(2)))
        for a, b in CMP:
            k = code.find(a)
            while k >= 0:
                out.append(expr[:k] + b + expr[k + len(a):])
                k = code.find(a, k + 1)
    elif op == "const":
        for m in INT_RE.finditer(_code(expr)):
            v = int(m.group(1))
            for w in (v - 1, v + 1):
                if w >= 0:
                    out.append(expr[:m.start()] + str(w) + expr[m.end():])
    elif op == "member":
        for name, s, o, c in calls:
            if name != "container_of":
                continue
            args = _split_args(expr[o + 1:c])
            if len(args) != 3 or not args[1].startswith("struct "):
                continue
            st = args[1].split()[1]
            known = structs(text)
            mtype = dict((n, t) for t, n in known.get(st, [])).get(args[2])
            for t, n in known.get(st, []):
                if n != args[2] and (t == mtype or mtype is None):
                    out.append("%s(%s)%s" % (expr[:o], ", ".join(
                        [args[0], args[1], n]), expr[c + 1:]))
            # A cast: right only when the member is the struct's first.
            out.append("%s(%s *)%s%s" % (expr[:s], args[1], args[0],
                                         expr[c + 1:]))
            # Another struct with a member of that type (the member's
            # name, if it has one of that name, else each such member).
            for other, members in sorted(known.items()):
                if other == st:
                    continue
                same = [n for t, n in members if t == mtype]
                for n in ([args[2]] if args[2] in same else same):
                    out.append("%s(%s)%s" % (expr[:o], ", ".join(
                        [args[0], "struct " + other, n]), expr[c + 1:]))
    elif op == "fmt":
        for name, s, o, c in calls:
            if name == "sysfs_emit" and "\\n\"" in expr[o:c]:
                k = expr.rfind("\\n\"", o, c)
                out.append(expr[:k] + expr[k + 2:])
    seen, res = set(), []
    for e in out:
        if e != expr and e not in seen:
            seen.add(e)
            res.append(e)
    return res


def _flag_edits(expr):
    out = []
    code = _code(expr)
    for flag, alts in FLAGS.items():
        for m in re.finditer(r"(?<![\w])%s(?![\w])" % flag, code):
            s, e = m.start(), m.end()
            left = re.search(r"\s*\|\s*$", code[:s])
            right = re.match(r"\s*\|\s*", code[e:])
            if right:
                out.append(expr[:s] + expr[e + right.end():])
            elif left:
                out.append(expr[:left.start()] + expr[e:])
            else:
                out += [expr[:s] + a + expr[e:] for a in alts]
    # A call that takes flags, given none: kernel_accept(..., 0).
    for name, s, o, c in _calls(expr):
        args = _split_args(expr[o + 1:c])
        if name == "kernel_accept" and len(args) == 3 and args[2] == "0":
            out.append("%s(%s)%s" % (expr[:o], ", ".join(
                args[:2] + ["O_NONBLOCK"]), expr[c + 1:]))
        if name == "kernel_recvmsg" and len(args) == 6 and args[5] == "0":
            for f in ("MSG_DONTWAIT", "MSG_WAITALL"):
                out.append("%s(%s)%s" % (expr[:o], ", ".join(
                    args[:5] + [f]), expr[c + 1:]))
    return out


def _is_cond(line, col):
    before = line[:col]
    return bool(re.search(r"\b(if|while)\s*\($", before.rstrip()) or
                re.search(r"\b(if|while)\s*\(\s*$", before))


def _hash(*parts):
    h = hashlib.sha256("\0".join(parts).encode("utf-8", "surrogateescape"))
    return h.hexdigest()[:8]


def generate(sol, ops=OPERATORS):
    """The mutants of solution folder sol, in a fixed order, ids unique."""
    sol = Path(sol)
    out = []
    first = 0
    for path in stages._sources(sol):
        raw = stages._read(path)
        found = stages.parse_markers(raw, path.name, first)[1]
        first += len(found)
        out += _file_mutants(path.name, raw, found, ops)
    seen = {}
    for m in out:
        base = _hash(m.op, m.file, m.before, m.after)
        n = seen.get(base, 0)
        seen[base] = n + 1
        m.id = base if n == 0 else _hash(base, str(n))
    return out


def _file_mutants(name, raw, found, ops):
    text = stages.strip_markers(raw)
    lines = text.split("\n")
    out = []

    def emit(op, i, new_lines, before, after, token="", expr=""):
        t = "\n".join(new_lines)
        if t != text:
            out.append(Mutant(op, name, i + 1, before, after, t, token,
                              expr))

    # Blanks: each operator on each blank's expression, in place.
    marked = raw.split("\n")
    for b in found:
        i = b.line - 1
        ml = marked[i]
        s = ml.find(stages.OPEN + b.expr + stages.CLOSE)
        if s < 0:
            continue
        col = len(stages.strip_markers(ml[:s]))
        line = lines[i]
        cond = _is_cond(line, col)
        for op in ops:
            for e in _expr_edits(op, b.expr, cond, text):
                nl = list(lines)
                nl[i] = line[:col] + e + line[col + len(b.expr):]
                emit(op, i, nl, b.expr, e, b.token, e)
    blank_lines = {b.line - 1 for b in found}

    funcs = functions(lines)
    path_funcs = [f for f in funcs if PATH_RE.search(f.name)]
    # sync and flag on the start/stop/exit paths, outside the blanks.
    for f in path_funcs:
        for i in range(f.start + 1, f.end):
            if i in blank_lines or lines[i].lstrip().startswith(("*", "/*")):
                continue
            for op in ("sync", "flag"):
                if op not in ops:
                    continue
                for e in _expr_edits(op, lines[i], False, text):
                    nl = list(lines)
                    nl[i] = e
                    emit(op, i, nl, lines[i].strip(), e.strip())
    # del and order on the paths.
    for f in path_funcs:
        stmts = [i for i in range(f.start + 1, f.end)
                 if statement(lines, i) is not None]
        if "del" in ops:
            for i in stmts:
                if _lock_call(lines[i]) or _lock_call(lines[i], True):
                    continue    # the lock operator's
                nl = lines[:i] + lines[i + 1:]
                emit("del", i, nl, lines[i].strip(), "(deleted)")
        if "order" in ops:
            for i in stmts:
                j = i + 1
                if j in stmts and lines[j] != lines[i] and \
                        _indent(lines[i]) == _indent(lines[j]):
                    nl = list(lines)
                    nl[i], nl[j] = nl[j], nl[i]
                    emit("order", i, nl, "%s %s" % (lines[i].strip(),
                                                    lines[j].strip()),
                         "%s %s" % (lines[j].strip(), lines[i].strip()))
    # lock: anywhere, a lock statement deleted with its unlocks.
    if "lock" in ops:
        for f in funcs:
            for i in range(f.start + 1, f.end):
                lk = _lock_call(lines[i])
                if not lk or statement(lines, i) is None:
                    continue
                lk_name, arg = lk
                drop = {i}
                for k in range(i + 1, f.end):
                    u = _lock_call(lines[k], unlock=True)
                    if u and u[0] == LOCKS[lk_name] and u[1] == arg:
                        drop.add(k)
                nl = [x for n, x in enumerate(lines) if n not in drop]
                emit("lock", i, nl, lines[i].strip(),
                     "(deleted with %d unlock(s))" % (len(drop) - 1))
    return out


def _indent(line):
    return len(line) - len(line.lstrip("\t"))


def _lock_call(line, unlock=False):
    m = re.match(r"^\t+([a-z_]+)\((.*)\);\s*$", line)
    if not m:
        return None
    table = set(LOCKS.values()) if unlock else set(LOCKS)
    return (m.group(1), m.group(2).strip()) if m.group(1) in table else None


# --- equivalents -----------------------------------------------------------

def equivalents(path):
    """{id: reason} from a solutions/NN-*/equivalent file."""
    out = {}
    path = Path(path)
    if not path.exists():
        return out
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            s = line.strip()
            if not s or s.startswith("#"):
                continue
            m = re.fullmatch(r"([0-9a-f]{8})\s+(\S.*)", s)
            if not m:
                die('%s:%d: expected "ID  reason" (an 8-digit id from '
                    'make mutants, and why the mutant changes nothing)'
                    % (path, n))
            if m.group(1) in out:
                die("%s:%d: %s is listed twice" % (path, n, m.group(1)))
            out[m.group(1)] = m.group(2)
    return out


# --- grading ---------------------------------------------------------------

def _suite_digest(stage_name, series):
    """What a verdict depends on besides the mutant: the kernel, the
    stage's tests and the guest's runner and libraries."""
    h = hashlib.sha256(series.encode())
    for d in (ROOT / "checker" / stage_name, ROOT / "checker" / "common",
              ROOT / "checker" / "lib", ROOT / "checker" / "src",
              ROOT / "grading" / "guest"):
        for p in sorted(d.rglob("*")):
            if p.is_file():
                h.update(str(p.relative_to(ROOT)).encode() + b"\0")
                h.update(p.read_bytes())
    for k in ("KWEB_TESTS", "KWEB_INSTRUCTOR_PACK"):
        h.update(("%s=%s\0" % (k, os.environ.get(k, ""))).encode())
    return h.hexdigest()


@dataclass
class Run:
    stage: str                  # 04-sysfs-control
    sol: Path
    series: str
    out: Path
    digest: str
    timeout: int
    base: str = ""
    accel: str = ""


def _write_mutant(run, m):
    d = run.out / "src" / m.id
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    for p in run.sol.iterdir():
        if p.is_file() and p.name not in ("variants", "equivalent"):
            if p.suffix in (".c", ".h"):
                stages._write(d / p.name, stages.strip_markers(
                    stages._read(p)))
            else:
                shutil.copy2(p, d / p.name)
    stages._write(d / m.file, m.text)
    return d


def _mutant_digest(run, m):
    return _hash(run.digest, m.file, m.text) + run.digest[:16]


def grade_one(run, m):
    """Grade mutant m; its verdict, reused when nothing it depends on
    changed since the last run."""
    vdir = run.out / "verdicts" / run.series
    vfile = vdir / (m.id + ".json")
    key = _mutant_digest(run, m)
    try:
        saved = json.loads(vfile.read_text())
        if saved.get("key") == key:
            return Verdict(saved["status"], saved.get("tests", []),
                           saved.get("why", ""), saved.get("seconds", 0.0),
                           True)
    except (OSError, ValueError, KeyError):
        pass
    src = _write_mutant(run, m)
    res = run.out / "results" / m.id
    log = run.out / "log" / (m.id + ".txt")
    env = {k: v for k, v in os.environ.items()
           if k not in classbatch.PASSED_ENV}
    env.update(KWEB_OUT=str(res), KWEB_QUIET="1", KWEB_FEEDBACK="0")
    if run.base:
        env["KWEB_BASE_IMAGE"] = run.base
    t0 = now()
    try:
        rc, why = classbatch.run_grade(
            classbatch.grade_command() + [run.stage, str(src), run.series],
            env, log, run.timeout)
    except OSError as e:
        rc, why = None, "the grader did not start (%s)" % e
    secs = now() - t0
    if res.is_dir():
        classbatch.tidy(res)
    v = _verdict(rc, why, res, log)
    v.seconds = secs
    if v.status != "ERROR":
        vdir.mkdir(parents=True, exist_ok=True)
        vfile.write_text(json.dumps(dict(key=key, status=v.status,
                                         tests=v.tests, why=v.why,
                                         seconds=round(secs, 1))))
    shutil.rmtree(src, ignore_errors=True)
    return v


def _verdict(rc, why, res, log):
    if why:
        return Verdict("ERROR", why=why)
    if rc not in (0, 1):
        return Verdict("ERROR", why=classbatch.error_of(log))
    try:
        info, rows = load_results(res)
        total, top = int(info["total"]), int(info["max"])
    except (OSError, ValueError, KeyError):
        return Verdict("ERROR", why="the grader left no results")
    outcome = info.get("outcome", "")
    if outcome == "does not build":
        return Verdict("STILLBORN", why="does not build")
    failed = [r["name"] for r in rows if r.get("status") != "pass"]
    if total < top:
        return Verdict("KILLED", failed,
                       "" if outcome == "all tests ran" else one_line(outcome))
    return Verdict("SURVIVED")


def _number(name, default):
    v = os.environ.get(name, "")
    if not v:
        return default
    if not re.fullmatch(r"[0-9]+", v):
        die("%s=%s: expected a whole number" % (name, v))
    return int(v)


def select(mutants, eq, variants):
    """The mutants to grade, in the order to grade them, and the ones that
    are equivalent without a grade (their blank's expression is a
    variant of the solution's)."""
    want = set(os.environ.get("KWEB_MUTANTS", "").split())
    unknown = want - {m.id for m in mutants}
    if unknown:
        die("KWEB_MUTANTS names %s, which no operator makes: see "
            "make mutants STAGE=n LIST=1" % " ".join(sorted(unknown)))
    by_variant = {}
    todo = []
    for m in mutants:
        if want and m.id not in want:
            continue
        ok = [why for e, why in variants.get(m.token, []) if e == m.expr]
        if m.token and ok:
            by_variant[m.id] = "a variant of the solution's: %s" % (
                ok[0] or "accepted by solutions/%s/variants" % m.token)
        else:
            todo.append(m)
    rnd = random.Random(_number("KWEB_MUTANTS_SEED", 1))
    rnd.shuffle(todo)
    limit = _number("KWEB_MUTANTS_LIMIT", 0)
    if limit:
        todo = todo[:limit]
    return todo, by_variant


def run(stage_arg, kernel=None, list_only=False, sol=None):
    """make mutants; sol: the solution folder (the kit's tests use a
    copy), by default solutions/NN-*."""
    check = stage_dir(stage_arg)
    name = check.name
    sol = Path(sol or ROOT / "solutions" / name)
    if not sol.is_dir():
        die("no solution for %s in %s: make mutants needs the instructor "
            "kit" % (name, sol))
    ops = os.environ.get("KWEB_MUTANTS_OPS", "").split() or list(OPERATORS)
    bad = [o for o in ops if o not in OPERATORS]
    if bad:
        die("KWEB_MUTANTS_OPS: unknown operator %s (operators: %s)"
            % (bad[0], " ".join(OPERATORS)))
    mutants = generate(sol, ops)
    eq = equivalents(sol / "equivalent")
    variants = stages.variants(sol / "variants")
    if list_only:
        for m in mutants:
            print("%s  %-6s %s:%d  %s" % (m.id, m.op, m.file, m.line,
                                          m.diff()))
        print("%d mutants of %s" % (len(mutants), name))
        return 0
    series = kernel_series(kernel)
    out = Path(os.environ.get("KWEB_MUTANTS_OUT") or
               BUILD / "mutants" / ("%s-%s" % (name, series)))
    for d in ("log", "results", "src"):
        (out / d).mkdir(parents=True, exist_ok=True)
    stale = sorted(set(eq) - {m.id for m in generate(sol)})
    todo, by_variant = select(mutants, eq, variants)
    r = Run(name, sol, series, out, _suite_digest(name, series),
            _number("KWEB_JOB_TIMEOUT", 1800))
    if todo and not os.environ.get("KWEB_GRADE_CMD"):
        classbatch.prepare_host(r)
    jobs = max(1, _number("KWEB_JOBS", 1))
    budget = _number("KWEB_MUTANTS_BUDGET", 0)
    t0 = now()
    print("Mutants of %s on Linux %s: %d to grade (%d at once%s)" % (
        name, series, len(todo), jobs,
        ", a budget of %d s" % budget if budget else ""), flush=True)
    verdicts: Dict[str, Verdict] = {}
    lock = threading.Lock()

    def one(m):
        if budget and now() - t0 > budget:
            return m, None
        if classbatch._stopping.is_set():
            return m, None
        v = grade_one(r, m)
        with lock:
            _print_line(m, v, eq)
        return m, v

    with concurrent.futures.ThreadPoolExecutor(jobs) as ex:
        try:
            for m, v in ex.map(one, todo):
                if v is not None:
                    verdicts[m.id] = v
        except KeyboardInterrupt:
            classbatch.stop_all()
            raise
    for mid, why in by_variant.items():
        verdicts[mid] = Verdict("EQUIVALENT", why=why)
    not_run = len(todo) - (len(verdicts) - len(by_variant))
    return report(name, series, out, mutants, verdicts, eq, stale,
                  not_run, now() - t0)


def _shown_status(m, v, eq):
    if v.status == "SURVIVED" and m.id in eq:
        return "EQUIVALENT"
    return v.status


def _print_line(m, v, eq):
    st = _shown_status(m, v, eq)
    if v.status == "KILLED" and m.id in eq:
        st = "KILLED!"
    extra = ""
    if v.status == "KILLED":
        extra = "  [%s]" % ", ".join(v.tests[:4] + (
            ["+%d" % (len(v.tests) - 4)] if len(v.tests) > 4 else []))
    elif v.why and v.status != "STILLBORN":
        extra = "  (%s)" % v.why[:100]
    print("  %-10s %s  %-6s %s:%d  %s%s%s" % (
        st, m.id, m.op, m.file, m.line, m.diff(), extra,
        "  (reused)" if v.reused else ""), flush=True)


def report(name, series, out, mutants, verdicts, eq, stale, not_run, secs):
    by_id = {m.id: m for m in mutants}
    counts = dict.fromkeys(("KILLED", "SURVIVED", "EQUIVALENT", "STILLBORN",
                            "ERROR"), 0)
    per_op: Dict[str, List[int]] = {}
    problems = []
    rows = []
    for mid, v in verdicts.items():
        m = by_id[mid]
        st = _shown_status(m, v, eq)
        counts[st] += 1
        k, s = per_op.setdefault(m.op, [0, 0])
        if st == "KILLED":
            per_op[m.op][0] += 1
        elif st == "SURVIVED":
            per_op[m.op][1] += 1
        if v.status == "KILLED" and mid in eq:
            problems.append("%s is listed as equivalent in solutions/%s/"
                            "equivalent, but %s kill(s) it" % (
                                mid, name, ", ".join(v.tests) or "the grade"))
        rows.append((m, st, v))
    for mid in stale:
        problems.append("solutions/%s/equivalent lists %s, which no operator "
                        "makes any more: delete the line" % (name, mid))
    rows.sort(key=lambda x: (x[0].file, x[0].line, x[0].op, x[0].id))
    with open(out / "mutants.tsv", "w") as f:
        f.write("id\toperator\tfile\tline\tstatus\ttests\tchange\treason\n")
        for m, st, v in rows:
            why = eq.get(m.id, "") if st == "EQUIVALENT" else v.why
            f.write("\t".join(one_line(x) for x in (
                m.id, m.op, m.file, str(m.line), st, " ".join(v.tests),
                m.diff(), why or "")) + "\n")
    killed, survived = counts["KILLED"], counts["SURVIVED"]
    graded = killed + survived
    rate = "%.1f%%" % (100.0 * killed / graded) if graded else "n/a"
    lines = ["", "%s on %s: by operator (killed/killed+survived):" % (
        name, series)]
    for op in OPERATORS:
        if op in per_op:
            k, s = per_op[op]
            lines.append("  %-7s %d/%d" % (op, k, k + s))
    survivors = [(m, v) for m, st, v in rows if st == "SURVIVED"]
    if survivors:
        lines.append("Survivors:")
        for m, v in survivors:
            lines.append("  %s  %-6s %s:%d  %s" % (m.id, m.op, m.file,
                                                   m.line, m.diff()))
    lines.append("Kill rate: %s (%d killed, %d survived; %d equivalent, "
                 "%d stillborn, %d errors, %d not run) in %.0f s" % (
                     rate, killed, survived, counts["EQUIVALENT"],
                     counts["STILLBORN"], counts["ERROR"], not_run,
                     secs))
    for p in problems:
        lines.append("kweb: error: " + p)
    text = "\n".join(lines) + "\n"
    (out / "summary.txt").write_text(text)
    print(text, end="", flush=True)
    print("Results: %s" % (out / "mutants.tsv"), flush=True)
    return 1 if survived or problems or counts["ERROR"] else 0


def main(argv):
    args = [a for a in argv if a != "--list"]
    if not args or len(args) > 2:
        raise KwebError("usage: grading/kw mutants STAGE [KERNEL] [--list]")
    return run(args[0], args[1] if len(args) > 1 else None,
               "--list" in argv)
