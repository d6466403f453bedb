"""Tests of grading/kweb/stages.py: the blank markers of the solutions, the
stages generated from them, and the round trip back.

    /usr/bin/python3 -m pytest tests/py/test_stages.py
"""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "grading"))

from kweb import blanks, stages  # noqa: E402
from kweb.paths import ROOT, KwebError  # noqa: E402

SOLUTIONS = sorted(p for p in (ROOT / "solutions").glob("[0-9][0-9]-*")
                   if p.is_dir())
needs_solutions = pytest.mark.skipif(not SOLUTIONS,
                                     reason="no solutions/ (student kit)")


def test_markers_become_tokens_in_order():
    text, found = stages.parse_markers(
        "a = /*{*/f(x)/*}*/;\nb = /*{*/g(/*c*/1)/*}*/ + /*{*/h()/*}*/;\n"
        "c = 0;\n", "m.c")
    assert text == "a = AAAA;\nb = BBBB + CCCC;\nc = 0;\n"
    assert [(b.token, b.expr, b.line) for b in found] == [
        ("AAAA", "f(x)", 1), ("BBBB", "g(/*c*/1)", 2), ("CCCC", "h()", 2)]


def test_markers_continue_across_files():
    _, found = stages.parse_markers("x = /*{*/y/*}*/;\n", "b.c", first=2)
    assert found[0].token == "CCCC"


def test_markers_last_line_without_newline():
    assert stages.parse_markers("a = /*{*/1/*}*/;", "m.c")[0] == "a = AAAA;\n"
    assert stages.parse_markers("", "m.c")[0] == ""


@pytest.mark.parametrize("text, err", [
    ("a = /*{*/f(x);\n", "m.c:1: blank opened with /*{*/ but not closed"),
    ("a = f(x)/*}*/;\n", "m.c:1: /*}*/ without /*{*/"),
    ("".join("/*{*/%d/*}*/\n" % i for i in range(27)),
     "m.c:27: more than 26 blanks"),
])
def test_marker_errors(text, err):
    with pytest.raises(KwebError, match=err.replace("*", r"\*")
                       .replace("{", r"\{").replace("}", r"\}")):
        stages.parse_markers(text, "m.c")


def test_strip_markers():
    assert stages.strip_markers("a = /*{*/f(x)/*}*/;") == "a = f(x);"


def test_generate_one(tmp_path):
    sol = tmp_path / "sol"
    sol.mkdir()
    (sol / "m.c").write_text("int a = /*{*/1/*}*/;\n")
    (sol / "m.h").write_text("#define B /*{*/2/*}*/\n")
    (sol / "Makefile").write_text("obj-m := m.o\n")
    (sol / "variants").write_text("AAAA = 0 + 1\n")
    for junk in ("m.o", "m.ko", "m.mod", "m.mod.c", "modules.order",
                 "Module.symvers", ".m.o.cmd"):
        (sol / junk).write_text("x")
    dst = tmp_path / "dst"
    dst.mkdir()
    (dst / "stale.c").write_text("old")
    stages.generate_one(sol, dst)
    assert sorted(p.name for p in dst.iterdir()) == ["Makefile", "m.c", "m.h"]
    assert (dst / "m.c").read_text() == "int a = AAAA;\n"
    assert (dst / "m.h").read_text() == "#define B BBBB\n"
    assert stages.answers(sol) == [("AAAA", "1"), ("BBBB", "2")]
    assert stages.answers_text(sol) == "AAAA = 1\nBBBB = 2\n"


def test_generate_keeps_bytes(tmp_path):
    sol = tmp_path / "sol"
    sol.mkdir()
    raw = b"/* caf\xc3\xa9 \xff */\r\nx = /*{*/1/*}*/;\r\n"
    (sol / "m.c").write_bytes(raw)
    stages.generate_one(sol, tmp_path / "dst")
    assert (tmp_path / "dst" / "m.c").read_bytes() == \
        b"/* caf\xc3\xa9 \xff */\r\nx = AAAA;\r\n"


@needs_solutions
@pytest.mark.parametrize("sol", SOLUTIONS, ids=lambda p: p.name)
def test_round_trip(sol, tmp_path):
    """Each solution -> its stage -> filled with its own answers is the
    solution without its markers."""
    stages.generate_one(sol, tmp_path / "stage")
    answers = dict(stages.answers(sol))
    assert answers, "%s has no blanks" % sol.name
    blanks.fill(tmp_path / "stage", answers, tmp_path / "filled")
    for f in sol.glob("*.[ch]"):
        want = stages.strip_markers(f.read_text(encoding="utf-8"))
        assert (tmp_path / "filled" / f.name).read_text(encoding="utf-8") == want
        assert not blanks.unfilled([tmp_path / "filled" / f.name], "x")


@needs_solutions
@pytest.mark.parametrize("sol", SOLUTIONS, ids=lambda p: p.name)
def test_stage_tokens_are_the_answers(sol, tmp_path):
    stages.generate_one(sol, tmp_path / "stage")
    found = []
    for f in sorted((tmp_path / "stage").glob("*.[ch]")):
        found += [t for t, _ in blanks.tokens(f.read_text(encoding="utf-8"))]
    assert found == [t for t, _ in stages.answers(sol)]


@needs_solutions
def test_stages_in_sync():
    assert stages.stale() is None


def test_stale_stage_is_one_line(tmp_path):
    root = tmp_path / "kit"
    (root / "solutions").mkdir(parents=True)
    sol = root / "solutions" / "01-x"
    sol.mkdir()
    (sol / "m.c").write_text("a = /*{*/1/*}*/;\n")
    stages.generate(root=root)
    assert stages.stale(root) is None
    (root / "stages" / "01-x" / "m.o").write_text("built")   # ignored
    assert stages.stale(root) is None
    (root / "stages" / "01-x" / "m.c").write_text("a = 1;\n")
    with pytest.raises(KwebError) as e:
        stages.check(root)
    assert str(e.value) == ("stages/01-x/m.c differs from what solutions/ "
                            "generates: run 'make stages'")
    (root / "stages" / "01-x" / "m.c").unlink()
    assert "run 'make stages'" in stages.stale(root)


def test_student_kit_has_no_solutions(tmp_path):
    with pytest.raises(KwebError, match="no solutions/ here"):
        stages.generate(root=tmp_path)


def test_variants(tmp_path):
    v = tmp_path / "variants"
    v.write_text("# header\n\n# why one\n# and two\nAAAA = f(x,  y) \n"
                 "BBBB = g()\n\nAAAA = h()\n")
    assert stages.variants(v) == {
        "AAAA": [("f(x,  y)", "why one and two"), ("h()", "")],
        "BBBB": [("g()", "")]}
    assert stages.variants(tmp_path / "none") == {}
    v.write_text("AAAA: f(x)\n")
    with pytest.raises(KwebError, match="variants:1: expected"):
        stages.variants(v)


def test_main(tmp_path, capsys):
    sol = tmp_path / "sol"
    sol.mkdir()
    (sol / "m.c").write_text("a = /*{*/f(1, 2)/*}*/;\n")
    assert stages.main(["answers", str(sol)]) == 0
    assert capsys.readouterr().out == "AAAA = f(1, 2)\n"
    assert stages.main(["one", str(sol), str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "m.c").read_text() == "a = AAAA;\n"
    with pytest.raises(KwebError, match="usage: stages generate"):
        stages.main(["bogus"])
