"""Tests of grading/kweb/blanks.py: unfilled tokens, kwblank's JSON (the
one parser of answers files and blanks.rules), answers refused, filling a
stage in.

    /usr/bin/python3 -m pytest tests/py/test_blanks.py
"""

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "grading"))

from kweb import blanks, stages  # noqa: E402
from kweb.paths import ROOT, KwebError  # noqa: E402

STAGE = "static int f(void)\n{\n\tint len;\n\n\tlen = AAAA;\n" \
        "\twhile (BBBB) {\n\t\tg(len, \"AAAA\");\n\t}\n\tCCCC;\n\treturn 0;\n}\n"
SOL5 = ROOT / "solutions" / "05-netns"


@pytest.fixture
def stage(tmp_path):
    d = tmp_path / "pristine"
    d.mkdir()
    (d / "m.c").write_text(STAGE)
    (d / "Makefile").write_text("obj-m := m.o # AAAA\n")
    return d


def answers_file(tmp_path, text):
    p = tmp_path / "answers.txt"
    p.write_bytes(text.encode("utf-8", "surrogateescape")
                  if isinstance(text, str) else text)
    return p


# --- unfilled --------------------------------------------------------------

def test_unfilled_finds_each_token_with_its_line(tmp_path):
    f = tmp_path / "b.c"
    f.write_text("int a = AAAA;\nfoo(BBBB, CCCC);\nint XAAAA, AAAAB, A_AAAA, AAAA1;\n"
                 "ZZZZ ZZZZ\n")
    assert blanks.unfilled([f], "stages/x") == [
        "blank AAAA at stages/x/b.c:1 is not filled in",
        "blank BBBB at stages/x/b.c:2 is not filled in",
        "blank CCCC at stages/x/b.c:2 is not filled in",
        "blank ZZZZ at stages/x/b.c:4 is not filled in",
        "blank ZZZZ at stages/x/b.c:4 is not filled in"]


def test_unfilled_look_alikes_are_not_blanks(tmp_path):
    f = tmp_path / "c.c"
    f.write_text("int a = b;\nint XAAAA, AAAAB, A_AAAA, _AAAA, AAAA_, ABAB, AAA;\n")
    assert blanks.unfilled([f], "stages/x") == []


def test_unfilled_any_bytes(tmp_path):
    f = tmp_path / "d.c"
    f.write_bytes(b"\xff\xfe AAAA\r\n\x00BBBB\n")
    assert blanks.unfilled([f], "") == [
        "blank AAAA at d.c:1 is not filled in",
        "blank BBBB at d.c:2 is not filled in"]


def test_tokens():
    assert blanks.tokens("a AAAA\nXBBBB BBBB") == [("AAAA", 1), ("BBBB", 2)]


# --- check -------------------------------------------------------------------

def test_check_clean_answers(stage, tmp_path):
    a = answers_file(tmp_path, "# mine\nAAAA = h(1, 2)\nBBBB = !done\nCCCC = stop(x)\n")
    rep = blanks.check(stage, ["m.c"], answers=a, shown="answers.txt",
                       out=tmp_path / "fb")
    assert (rep.exit, rep.text, rep.findings, rep.refusals) == (0, "", 0, [])
    assert not rep.unanswered and rep.mode == "answers"
    assert rep.answers == {"AAAA": "h(1, 2)", "BBBB": "!done", "CCCC": "stop(x)"}
    assert [b.where for b in rep.blanks] == ["answers.txt:2", "answers.txt:3",
                                            "answers.txt:4"]
    assert all(b.one_expression for b in rep.blanks)
    assert rep.key == "AAAA = h(1, 2)\nBBBB = !done\nCCCC = stop(x)\n"
    assert (tmp_path / "fb" / "key").read_text() == rep.key
    assert (tmp_path / "fb" / "answers.tsv").read_text().startswith(
        "AAAA\tanswers.txt:2\th(1, 2)\tok\n")
    json.loads((tmp_path / "fb" / "blanks.json").read_text())


def test_check_findings(stage, tmp_path):
    a = answers_file(tmp_path, "AAAA = h(1,2)\nBBBB = (!done)\nCCCC = stop(x)\n")
    rep = blanks.check(stage, ["m.c"], answers=a, shown="ans.txt")
    assert rep.exit == 1 and rep.findings == 2
    assert rep.counts["style"] == 1 and rep.counts["minimal"] == 1
    assert "ans.txt:1: AAAA: style: kernel style: write h(1, 2)\n" in rep.text
    assert rep.blanks[0].canon == "h(1, 2)" and rep.blanks[0].given == "h(1,2)"
    assert rep.blanks[1].verdict == "minimal"


def test_check_not_answered(stage, tmp_path):
    a = answers_file(tmp_path, "AAAA = 1\nCCCC = x\n")
    rep = blanks.check(stage, ["m.c"], answers=a)
    assert rep.exit == 3 and rep.unanswered and not rep.refusals
    assert rep.blanks[1].given is None and not rep.blanks[1].one_expression
    assert "BBBB: missing: not answered" in rep.text


def test_check_rules_disagree_is_an_error(stage, tmp_path):
    r = tmp_path / "blanks.rules"
    r.write_text("blanks AAAA BBBB\n")
    a = answers_file(tmp_path, "AAAA = 1\nBBBB = 2\nCCCC = 3\n")
    with pytest.raises(KwebError, match="lists the blanks 'AAAA BBBB' but the "
                                        "stage has 'AAAA BBBB CCCC'"):
        blanks.check(stage, ["m.c"], r, answers=a)


def test_check_submission(stage, tmp_path):
    sub = tmp_path / "mine"
    sub.mkdir()
    (sub / "m.c").write_text(STAGE.replace("AAAA;", "h(1, 2);")
                             .replace("BBBB", "!done").replace("CCCC", "stop(x)"))
    rep = blanks.check(stage, ["m.c"], submission=sub, shown="mine")
    assert rep.exit == 0 and rep.mode == "submission"
    assert rep.blanks[0].where == "mine/m.c:5"
    with pytest.raises(ValueError):
        blanks.fill(stage, rep, tmp_path / "out")


def test_check_submission_non_expression_is_feedback(stage, tmp_path):
    sub = tmp_path / "mine"
    sub.mkdir()
    (sub / "m.c").write_text(STAGE.replace("AAAA;", "({ g(1); 2; });")
                             .replace("BBBB", "!done").replace("CCCC", "stop(x)"))
    rep = blanks.check(stage, ["m.c"], submission=sub, shown="mine")
    assert rep.exit == 1 and not rep.refusals and not rep.fatal
    assert rep.counts["syntax"] >= 1


# --- refusals -------------------------------------------------------------

REFUSED = [
    ("({ int x = 1; container_of(w, struct c, w); })", "statement expression '({'"),
    ("(struct c){ 0 }", "braces '{'"),
    ("f(a); evil()", "';'"),
    ("a /* x */", "a comment '/*'"),
    ("a // x", "a comment '//'"),
    ("a ## b", "preprocessor '#'"),
    ("f(a) \\", "a backslash outside a string"),
    ("a, evil()", "a comma at the top level"),
    ("x), evil(y", "an unbalanced ')'"),
    ("asm volatile(\"hlt\")", "GNU asm"),
    ("__asm__(\"nop\")", "GNU asm"),
    ("_Pragma(\"x\")", "_Pragma"),
    ("'\"' ; evil()", "';'"),
    ("\"\\\"\" ; evil()", "';'"),
    ("\"open", "an unterminated string"),
    ("R\"x(\")x\" ; \"\"", "a raw string literal"),
    ("x <% y", "the digraph '<%'"),
    ("a\x01b", "a byte 0x01"),
    ("a\x0bb", "a byte 0x0b"),
    ("caf\u00e9", "a byte 0xc3"),
    ("f(%s)" % ("x" * 200), "longer than 200 characters"),
]
ACCEPTED = [
    "container_of(work, struct client_work_queue, work)",
    "&kweb_ops",
    "f(\"a,b\")",
    "f(a, b)",
    "g(\"a;b{c}\", ';', \"//\", \"#\")",
    "x ? y : z",
]


@pytest.mark.parametrize("expr, why", REFUSED)
def test_answer_refused(stage, tmp_path, expr, why):
    a = answers_file(tmp_path, "AAAA = 1\nBBBB = %s\nCCCC = x\n" % expr)
    rep = blanks.check(stage, ["m.c"], answers=a, shown="answers.txt")
    assert rep.exit == 3 and rep.fatal and not rep.unanswered
    assert len(rep.refusals) == 1
    assert rep.refusals[0] == ("BBBB: not one C expression (%s): answers hold "
                               "expressions only" % why) or \
        rep.refusals[0].startswith("BBBB: not one C expression (%s" % why)
    assert not rep.blanks[1].one_expression
    with pytest.raises(blanks.Refused) as e:
        blanks.fill(stage, rep, tmp_path / "out")
    assert e.value.lines == rep.refusals
    assert not (tmp_path / "out").exists()


def test_refusal_line_is_exact(stage, tmp_path):
    a = answers_file(tmp_path, "AAAA = ({ int x = 1; container_of(work, "
                               "struct client_work_queue, work); })\n"
                               "BBBB = 1\nCCCC = 2\n")
    rep = blanks.check(stage, ["m.c"], answers=a)
    assert rep.refusals == ["AAAA: not one C expression (statement expression "
                            "'({'): answers hold expressions only"]


def test_nul_byte_is_refused(stage, tmp_path):
    a = answers_file(tmp_path, b"AAAA = x\x00; evil()\nBBBB = 1\nCCCC = 2\n")
    rep = blanks.check(stage, ["m.c"], answers=a)
    assert rep.refusals and rep.refusals[0].startswith(
        "AAAA: not one C expression (a byte 0x01")


@pytest.mark.parametrize("expr", ACCEPTED)
def test_answer_accepted(stage, tmp_path, expr):
    a = answers_file(tmp_path, "AAAA = 1\nBBBB = %s\nCCCC = x\n" % expr)
    rep = blanks.check(stage, ["m.c"], answers=a)
    assert rep.refusals == [] and rep.exit in (0, 1)
    assert rep.answers["BBBB"] == expr


# --- fill --------------------------------------------------------------------

def test_fill_from_report(stage, tmp_path):
    a = answers_file(tmp_path, "AAAA = f(a, &b)\nBBBB =  g(\"\\\\n\") \nCCCC = h()\n")
    rep = blanks.check(stage, ["m.c"], answers=a)
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.c").write_text("stale")
    blanks.fill(stage, rep, out)
    assert sorted(p.name for p in out.iterdir()) == ["Makefile", "m.c"]
    assert (out / "m.c").read_text() == STAGE.replace("AAAA;", "f(a, &b);") \
        .replace("BBBB", "g(\"\\\\n\")").replace("CCCC", "h()") \
        .replace("(len, \"AAAA\")", "(len, \"f(a, &b)\")")
    # only .c and .h files are filled
    assert (out / "Makefile").read_text() == "obj-m := m.o # AAAA\n"


def test_fill_leaves_look_alikes_and_unanswered(tmp_path):
    st = tmp_path / "st"
    st.mkdir()
    (st / "m.c").write_text("x = AAAA;\ny = BBBB + AAAA;\nz = XBBBB + CCCC;\n")
    blanks.fill(st, {"AAAA": "f(a, &b)", "BBBB": "\\1 g()"}, tmp_path / "out")
    assert (tmp_path / "out" / "m.c").read_text() == \
        "x = f(a, &b);\ny = \\1 g() + f(a, &b);\nz = XBBBB + CCCC;\n"
    assert blanks.unfilled([tmp_path / "out" / "m.c"], "s") == [
        "blank CCCC at s/m.c:3 is not filled in"]


def test_fill_rejects_what_is_no_answer(stage, tmp_path):
    with pytest.raises(ValueError):
        blanks.fill(stage, {"AAAB": "1"}, tmp_path / "out")
    with pytest.raises(ValueError):
        blanks.fill(stage, {"AAAA": "1\n#include <x>"}, tmp_path / "out")


@pytest.mark.skipif(not SOL5.is_dir(), reason="no solutions/ (student kit)")
def test_quiz_answers_round_trip(tmp_path):
    """Stage 5 (the quiz): the solution's answers pass kwblank with the
    stage's rules and fill the stage back into the solution."""
    stages.generate_one(SOL5, tmp_path / "p")
    a = answers_file(tmp_path, stages.answers_text(SOL5))
    rep = blanks.check(tmp_path / "p", ["kweb.c"],
                       ROOT / "checker" / "05-netns" / "blanks.rules",
                       answers=a)
    assert (rep.exit, rep.text) == (0, "")
    assert rep.blanks[0].hint.startswith("From the work item")
    blanks.fill(tmp_path / "p", rep, tmp_path / "f")
    assert (tmp_path / "f" / "kweb.c").read_text() == \
        stages.strip_markers((SOL5 / "kweb.c").read_text())


# --- rules -------------------------------------------------------------------

def test_rules_json(tmp_path):
    r = tmp_path / "x.rules"
    r.write_text("# c\nblanks AAAA BBBB\nset wq queue_work flush_work\n"
                 "AAAA calls container_of\nAAAA hint From the \"work\"\n"
                 "AAAA hint to its owner.\nBBBB calls @wq\n* forbids BUG\n")
    got = blanks.rules(r)
    assert got["blanks"] == ["AAAA", "BBBB"]
    assert got["sets"] == {"wq": ["queue_work", "flush_work"]}
    assert got["hints"] == {"AAAA": "From the \"work\" to its owner."}
    assert [(x["blank"], x["verb"], x["words"], x["written"], x["set"], x["line"])
            for x in got["rules"]] == [
        ("AAAA", "calls", ["container_of"], ["container_of"], None, 4),
        ("BBBB", "calls", ["queue_work", "flush_work"], ["@wq"], "wq", 7),
        ("*", "forbids", ["BUG"], ["BUG"], None, 8)]


def test_rules_error_is_one_line(tmp_path):
    r = tmp_path / "y.rules"
    r.write_text("blanks AAAA\nAAAA wants f\n")
    with pytest.raises(KwebError, match=r"y.rules:2: unknown rule 'wants'"):
        blanks.rules(r)


@pytest.mark.parametrize("stage_dir", sorted(
    p for p in (ROOT / "checker").glob("[0-9][0-9]-*")
    if (p / "blanks.rules").is_file()), ids=lambda p: p.name)
def test_kit_rules_parse(stage_dir):
    got = blanks.rules(stage_dir / "blanks.rules")
    assert got["blanks"] and all(blanks.NAME_RE.fullmatch(b) for b in got["blanks"])
