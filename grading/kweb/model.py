"""The one data model of a grade: stage, rubric line, test result, grade.

A grade is saved in its results folder as results.tsv (a line per test:
name, status, score, max_score, seconds, visibility, message), rubric.tsv
(name, kind, description, hint) and results.info (key<TAB>value); load()
reads them back. points() is the one place where a status becomes a score.
"""

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

STATUSES = ("pass", "fail", "timeout", "error", "skip")
# Host-side checks a rubric may grade; every other name is a guest test.
STATIC_TESTS = ("static_blanks", "static_warnings", "static_checkpatch",
                "static_sparse")
STATIC_HINTS = {
    "static_blanks": "Each blank holds one C expression, in kernel style, as "
                     "the stage's checker/%s/blanks.rules asks.",
    "static_warnings": "Build your module with W=1 and fix every warning.",
    "static_checkpatch": "Run checkpatch.pl on your changes and fix what it "
                         "reports.",
    "static_sparse": "Fix what sparse reports (make C=2 CHECK=sparse).",
}


def points(status, max_score):
    """The one place a status becomes points: only a pass earns them."""
    return max_score if status == "pass" else 0


@dataclass
class RubricLine:
    name: str
    points: int
    timeout: int
    visibility: str          # visible | hidden
    description: str
    kind: str = "guest"      # guest | static
    script: Optional[Path] = None   # the guest test's script
    hint: str = ""
    net: bool = False        # its verdict needs the host's own probe


@dataclass
class StageConf:
    module: str
    sources: List[str]
    control: str = ""        # "" or sysfs
    probe: str = ""          # "" | echo | http | fib: what the host probes
    local: List[str] = field(default_factory=list)  # tests that need no
    #                          server: believed without the host's probe


@dataclass
class Stage:
    name: str                # 01-kthread-echo
    check_dir: Path
    conf: StageConf
    tests: List[RubricLine]
    pack_dir: Optional[Path] = None
    kernels: List[str] = field(default_factory=list)   # required; [] = any

    def test(self, name):
        for t in self.tests:
            if t.name == name:
                return t
        return None

    @property
    def guest_tests(self):
        return [t for t in self.tests if t.kind == "guest"]


@dataclass
class TestResult:
    name: str
    status: str
    seconds: float = 0.0
    message: str = ""

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError("unknown status %r" % self.status)


@dataclass
class Grade:
    stage: Stage
    info: Dict[str, str] = field(default_factory=dict)
    results: Dict[str, TestResult] = field(default_factory=dict)

    def record(self, result):
        """Record a test's result; the first result of a test stands."""
        if result.name not in self.results:
            self.results[result.name] = result
        return self.results[result.name]

    def result(self, name):
        return self.results.get(name)

    def pending(self, kind=None):
        return [t for t in self.stage.tests if t.name not in self.results
                and (kind is None or t.kind == kind)]

    def score(self, name):
        t = self.stage.test(name)
        r = self.results.get(name)
        return points(r.status, t.points) if r else 0

    @property
    def total(self):
        return sum(self.score(t.name) for t in self.stage.tests)

    @property
    def max(self):
        return sum(t.points for t in self.stage.tests)

    @property
    def visible_total(self):
        return sum(self.score(t.name) for t in self.stage.tests
                   if t.visibility == "visible")

    @property
    def visible_max(self):
        return sum(t.points for t in self.stage.tests
                   if t.visibility == "visible")

    @property
    def hidden_count(self):
        return sum(1 for t in self.stage.tests if t.visibility != "visible")

    def rows(self):
        """(RubricLine, TestResult) in rubric order; no result is an error."""
        for t in self.stage.tests:
            r = self.results.get(t.name) or TestResult(t.name, "error", 0.0,
                                                      "not run")
            yield t, r

    # --- the results folder ------------------------------------------------

    def save(self, out):
        out = Path(out)
        self.info.update(total=str(self.total), max=str(self.max),
                         visible_total=str(self.visible_total),
                         visible_max=str(self.visible_max),
                         hidden_tests=str(self.hidden_count))
        with open(out / "results.tsv", "w", newline="") as f:
            w = csv.writer(f, delimiter="\t", lineterminator="\n",
                           quoting=csv.QUOTE_NONE, escapechar="\\")
            w.writerow(["name", "status", "score", "max_score", "seconds",
                        "visibility", "message"])
            for t, r in self.rows():
                w.writerow([t.name, r.status, points(r.status, t.points),
                            t.points, "%.1f" % r.seconds, t.visibility,
                            one_line(r.message)])
        with open(out / "rubric.tsv", "w", newline="") as f:
            w = csv.writer(f, delimiter="\t", lineterminator="\n",
                           quoting=csv.QUOTE_NONE, escapechar="\\")
            w.writerow(["name", "kind", "description", "hint"])
            for t in self.stage.tests:
                w.writerow([t.name, t.kind, one_line(t.description),
                            one_line(t.hint)])
        with open(out / "results.info", "w") as f:
            for k, v in self.info.items():
                f.write("%s\t%s\n" % (k, one_line(str(v))))


def one_line(text):
    """Text for one TSV field: no tab, newline or other control character."""
    return "".join(c if c >= " " and c != "\x7f" else " "
                   for c in str(text)).strip()


def load_results(out):
    """results.tsv and results.info of a results folder, as plain data:
    (info dict, list of row dicts). Used to reuse or report a saved grade."""
    out = Path(out)
    info = {}
    with open(out / "results.info") as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("\t")
            info[k] = v
    with open(out / "results.tsv", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE,
                                   escapechar="\\"))
    return info, rows


def load_grade(out, stage):
    """A saved grade of stage, read back from its results folder."""
    info, rows = load_results(out)
    g = Grade(stage=stage, info=info)
    for row in rows:
        if stage.test(row["name"]):
            g.record(TestResult(row["name"], row["status"],
                                float(row["seconds"] or 0),
                                row.get("message") or ""))
    return g
