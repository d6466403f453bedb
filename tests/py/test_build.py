"""Tests of grading/kweb/build.py: the sandboxed module build refuses or
fails on each hostile module (a kit file included by a relative path or a
macro, .incbin, "/dev/zero"), with and without the sandbox, and builds an
honest one."""

import os
import re
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "grading"))

from kweb import build  # noqa: E402
from kernels import build_tree, kdir_or_skip  # noqa: E402

KERNEL = "6.12"
KDIR = build_tree(KERNEL)
OUTSIDE = "outside the kernel headers and your module's folder"

HEAD = '#include <linux/module.h>\n'
TAIL = 'MODULE_LICENSE("GPL");\nMODULE_DESCRIPTION("test");\n'
HONEST = HEAD + '#include "compat.h"\n' + TAIL


def sandbox_or_skip():
    ok, why = build.sandbox_available()
    if not ok:
        pytest.skip("bubblewrap cannot run here: %s" % why)


def make(tmp_path, source, name="kweb"):
    d = tmp_path / "module"
    d.mkdir()
    (d / (name + ".c")).write_text(source)
    return d


def run(tmp_path, source, monkeypatch, sandboxed=True):
    kdir_or_skip(KERNEL)
    if sandboxed:
        sandbox_or_skip()
        monkeypatch.delenv("KWEB_UNSANDBOXED", raising=False)
    else:
        monkeypatch.setenv("KWEB_UNSANDBOXED", "1")
    return build.build_module(KDIR, make(tmp_path, source), "kweb", "SHOWN")


# --- without building --------------------------------------------------------------

def test_scan_refuses_relative_include(tmp_path):
    d = make(tmp_path, '#include "../../solutions/05-netns/kweb.c"\n')
    why = build.scan_sources(d, ["kweb.c"])
    assert why.startswith("kweb.c:1 includes ../../solutions/05-netns/kweb.c")
    assert OUTSIDE in why


def test_scan_sees_through_comments_and_continuations(tmp_path):
    d = make(tmp_path, HEAD + '/* x */ # /* y */ inc\\\nlude "/dev/zero"\n')
    assert "includes /dev/zero" in build.scan_sources(d, ["kweb.c"])


def test_scan_refuses_incbin(tmp_path):
    d = make(tmp_path, HEAD + 'asm(".incbin \\"x\\"");\n' + TAIL)
    assert build.scan_sources(d, ["kweb.c"]) == (
        "kweb.c:2 uses incbin, which pulls a file into the module: not allowed")


def test_scan_passes_kernel_and_own_headers(tmp_path):
    d = make(tmp_path, HONEST + '#include "kweb_util.h"\n')
    assert build.scan_sources(d, ["kweb.c"]) == ""


def test_dependencies_parsed_with_escapes(tmp_path):
    (tmp_path / ".kweb.o.cmd").write_text(
        "savedcmd_x := gcc\n\nsource_x := /m/kweb.c\n\ndeps_x := \\\n"
        "    $(wildcard include/config/FOO) \\\n  /m/a\\ b.h \\\n"
        "  include/linux/x.h \\\n\n/m/kweb.o: $(deps_x)\n")
    deps = [d for _, d in build.cmd_dependencies(tmp_path)]
    assert deps == ["/m/kweb.c", "/m/a b.h", "include/linux/x.h"]


def test_line_markers():
    text = '# 1 "/m/kweb.c"\n# 1 "<built-in>"\n# 12 "/k/include/x.h" 1 3\n'
    assert build.preprocessed_files(text) == {"/m/kweb.c", "/k/include/x.h"}


def test_diagnostics_filter_and_strip(tmp_path):
    m = str(tmp_path)
    log = ("  CC [M]  %s/kweb.o\n%s/kweb.c: In function 'f':\n"
           "%s/kweb.c:3:5: warning: unused \x1b[31mx\x07\n"
           "    3 |  int x;\n      |      ^\nnoise\n"
           "%s/.kweb-include/compat.h:9:1: note: here\n"
           "WARNING: modpost: missing MODULE_LICENSE() in %s/kweb.o\n"
           % (m, m, m, m, m))
    text = build.student_diagnostics(log, tmp_path, "stages/01", 0)
    assert text.split("\n") == [
        "stages/01/kweb.c: In function 'f':",
        "stages/01/kweb.c:3:5: warning: unused [31mx",
        "    3 |  int x;", "      |      ^",
        "checker/include/compat.h:9:1: note: here",
        "WARNING: modpost: missing MODULE_LICENSE() in stages/01/kweb.o"]


def test_sandbox_refusal_names_the_way_out():
    text = build.sandbox_refusal("No permissions to create a new namespace")
    assert "cannot run here: No permissions" in text
    assert "KWEB_UNSANDBOXED=1" in text


def test_kbuild_of_one_file_and_of_several():
    assert build.kbuild_text("kweb", ["kweb"], "/i") == \
        "obj-m := kweb.o\nccflags-y := -I/i\n"
    assert build.kbuild_text("kweb", ["bn", "kweb_main"], "/i") == \
        "obj-m := kweb.o\nkweb-y := bn.o kweb_main.o\nccflags-y := -I/i\n"
    # kweb.o would be both the module and kweb.c's object.
    assert build.kbuild_text("kweb", ["bn", "kweb"], "/i") is None


# --- builds (slow) --------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("sandboxed", [True, False], ids=["sandbox", "unsandboxed"])
def test_honest_module_builds(tmp_path, monkeypatch, sandboxed):
    r = run(tmp_path, HONEST, monkeypatch, sandboxed)
    assert r.ok and not r.refusal, r.diagnostics
    assert (r.log.parent / "kweb.ko").is_file()
    assert r.warnings == []
    assert r.sandboxed == sandboxed
    assert ("KWEB_UNSANDBOXED" in r.diagnostics) == (not sandboxed)
    kbuild = (r.log.parent / "Kbuild").read_text()
    assert "checker/include" not in kbuild and ".kweb-include" in kbuild


@pytest.mark.slow
def test_warning_is_reported_as_shown_file(tmp_path, monkeypatch):
    r = run(tmp_path, HONEST + "int f(void) { int y; return 0; }\n", monkeypatch)
    assert r.ok
    assert any(w.startswith("SHOWN/kweb.c:") and "-Wunused" in w
               for w in r.warnings), r.diagnostics


@pytest.mark.slow
def test_kit_file_by_macro_is_invisible_in_the_sandbox(tmp_path, monkeypatch):
    kit = ROOT / "solutions" / "05-netns" / "kweb.c"
    r = run(tmp_path, HEAD + '#define F "%s"\n#include F\n' % kit, monkeypatch)
    assert not r.ok and not r.refusal
    assert "No such file or directory" in r.diagnostics


@pytest.mark.slow
def test_kit_file_by_macro_is_refused_without_the_sandbox(tmp_path, monkeypatch):
    kit = ROOT / "checker" / "include" / "compat.h"
    r = run(tmp_path, HEAD + '#define F "%s"\n#include F\n' % kit + TAIL,
            monkeypatch, sandboxed=False)
    assert not r.ok
    assert r.refusal == "kweb.c includes %s, %s" % (kit, OUTSIDE)


@pytest.mark.slow
def test_incbin_by_concatenation_fails_in_the_sandbox(tmp_path, monkeypatch):
    src = HEAD + 'asm(".in" "cbin \\"%s\\"");\n' % (ROOT / "README.md") + TAIL
    r = run(tmp_path, src, monkeypatch)
    assert not r.ok
    assert "file not found" in r.diagnostics


@pytest.mark.slow
def test_incbin_by_concatenation_refused_without_the_sandbox(tmp_path, monkeypatch):
    src = (HEAD + 'asm(".section .rodata\\n.in" "cbin \\"%s\\"\\n.previous");\n'
           % (ROOT / "README.md") + TAIL)
    r = run(tmp_path, src, monkeypatch, sandboxed=False)
    assert not r.ok
    assert re.search(r"incbin, which pulls a file into the module", r.refusal)


@pytest.mark.slow
def test_dev_zero_is_missing_in_the_sandbox(tmp_path, monkeypatch):
    r = run(tmp_path, HEAD + '#define F "/dev/zero"\n#include F\n', monkeypatch)
    assert not r.ok and "/dev/zero: No such file" in r.diagnostics


@pytest.mark.slow
def test_dev_zero_hits_the_memory_limit_without_the_sandbox(tmp_path, monkeypatch):
    r = run(tmp_path, HEAD + '#define F "/dev/zero"\n#include F\n', monkeypatch,
            sandboxed=False)
    assert not r.ok
    assert r.refusal.startswith("the compiler ran out of memory")


@pytest.mark.slow
def test_sandbox_hides_the_host(tmp_path, monkeypatch):
    """Inside the sandbox: no kit, no /root, no /proc, no network, clean env."""
    kdir_or_skip(KERNEL)
    sandbox_or_skip()
    tree = build.kernel_tree(KDIR)
    seen = [ROOT / "README.md", ROOT / "solutions", ROOT / "checker",
            ROOT / "build", "/root", "/home", "/proc/self", "/etc/passwd",
            "/sys/class/net", "/dev/zero", "/work/.library"]
    script = ("for p in %s; do [ -e $p ] && echo SEEN $p; done; env; true"
              % " ".join(str(p) for p in seen))
    argv = build.sandbox_argv(["sh", "-c", script], ro=tree.binds, chdir="/")
    r = build.run_limited(argv, timeout=30)
    out = r.output.decode()
    assert r.rc == 0, out
    assert "SEEN" not in out
    assert sorted(out.split()) == sorted(["HOME=/tmp", "LC_ALL=C",
                                          "PATH=/usr/bin:/bin", "PWD=/"])


@pytest.mark.slow
def test_sandbox_proc_shows_its_own_processes_only():
    """proc=True (the built 7.3 trees, whose objtool reads /proc/self/maps):
    a /proc of the sandbox's own PID namespace, none of the host's."""
    sandbox_or_skip()
    script = ("test -r /proc/self/maps && echo MAPS; "
              "ls /proc | grep -c '^[0-9][0-9]*$'; cat /proc/1/cmdline; true")
    argv = build.sandbox_argv(["sh", "-c", script], chdir="/", proc=True)
    r = build.run_limited(argv, timeout=30)
    out = r.output.decode()
    assert r.rc == 0, out
    lines = out.split("\n")
    assert lines[0] == "MAPS"
    assert int(lines[1]) <= 4, out          # bwrap, sh, ls, grep
    assert "systemd" not in out and "/sbin/init" not in out


def test_timeout_kills_the_group():
    r = build.run_limited(["sh", "-c", "sleep 30 & sleep 30"], timeout=1)
    assert r.timed_out


def test_output_is_capped():
    r = build.run_limited(["sh", "-c", "yes | head -c 3000000"], timeout=30)
    assert r.rc == 0 and r.cut > 0
    assert len(r.output) < build.LOG_HEAD + build.LOG_TAIL + 100
    assert b"bytes of output left out" in r.output


def test_symlink_in_module_folder_is_refused(tmp_path, monkeypatch):
    kdir_or_skip(KERNEL)
    monkeypatch.setenv("KWEB_UNSANDBOXED", "1")
    d = make(tmp_path, HONEST)
    os.symlink(ROOT / "README.md", d / "kweb_util.h")
    r = build.build_module(KDIR, d, "kweb", "SHOWN")
    assert r.refusal == "kweb_util.h in the module folder is not a regular file"


def test_preprocessed_file_outside_is_refused(tmp_path):
    """Without the sandbox, the .i's line markers are checked too."""
    kdir_or_skip(KERNEL)
    tree = build.kernel_tree(KDIR)
    (tmp_path / "kweb.i").write_text('# 1 "%s/kweb.c"\n# 1 "%s" 1 3\n'
                                     % (tmp_path, ROOT / "README.md"))
    (tmp_path / "kweb.s").write_text("\t.text\n")
    assert build.check_outputs(tree, tmp_path, "kweb", deep=False) == ""
    assert build.check_outputs(tree, tmp_path, "kweb", deep=True) == (
        "kweb.c includes %s, %s" % (ROOT / "README.md", OUTSIDE))
    (tmp_path / "kweb.i").write_text('asm(".inc" "bin x");\n')
    assert "incbin" in build.check_outputs(tree, tmp_path, "kweb", deep=True)


def make_two(tmp_path, second):
    d = tmp_path / "module"
    d.mkdir()
    (d / "kweb_main.c").write_text(HONEST + "int kweb_two(void);\nint kweb_one(void);\n"
                                   "int kweb_one(void) { return kweb_two(); }\n")
    (d / "two.c").write_text(second)
    return d


@pytest.mark.slow
def test_module_of_two_files_builds(tmp_path, monkeypatch):
    kdir_or_skip(KERNEL)
    sandbox_or_skip()
    monkeypatch.delenv("KWEB_UNSANDBOXED", raising=False)
    d = make_two(tmp_path, "int kweb_two(void);\nint kweb_two(void) { return 2; }\n")
    r = build.build_module(KDIR, d, "kweb", "SHOWN")
    assert r.ok and not r.refusal, r.diagnostics
    assert (d / "kweb.ko").is_file()
    assert "kweb-y := kweb_main.o two.o" in (d / "Kbuild").read_text()


@pytest.mark.slow
def test_second_file_is_checked_without_the_sandbox(tmp_path, monkeypatch):
    """The deep checks read every file's .i and .s, not only the first's."""
    kdir_or_skip(KERNEL)
    monkeypatch.setenv("KWEB_UNSANDBOXED", "1")
    d = make_two(tmp_path, 'int kweb_two(void);\nint kweb_two(void) { return 2; }\n'
                 'asm(".section .rodata\\n.in" "cbin \\"%s\\"\\n.previous");\n'
                 % (ROOT / "README.md"))
    r = build.build_module(KDIR, d, "kweb", "SHOWN")
    assert not r.ok
    assert r.refusal.startswith("two.c ") and "incbin" in r.refusal, r.refusal


@pytest.mark.slow
def test_several_files_with_one_named_after_the_module_is_refused(tmp_path, monkeypatch):
    kdir_or_skip(KERNEL)
    monkeypatch.setenv("KWEB_UNSANDBOXED", "1")
    d = make_two(tmp_path, "int kweb_two(void);\nint kweb_two(void) { return 2; }\n")
    (d / "kweb.c").write_text("int kweb_three(void);\n")
    r = build.build_module(KDIR, d, "kweb", "SHOWN")
    assert not r.ok
    assert "cannot have one named kweb.c" in r.refusal


@pytest.mark.slow
def test_sparse_runs_on_a_copy_of_the_sources(tmp_path, monkeypatch):
    """The grader runs sparse on a copy of the sources in a folder of its
    own: compat.h must be found there too (the copy's Kbuild once named the
    first folder's include copy, which the sandbox hides, so sparse never
    ran), and sparse's own findings must come out."""
    if not shutil.which("sparse"):
        pytest.skip("sparse is not installed")
    r = run(tmp_path, HONEST + "int kweb_shared;\n", monkeypatch)
    assert r.ok, r.diagnostics
    copy = tmp_path / "sparse"
    copy.mkdir()
    shutil.copyfile(r.log.parent / "kweb.c", copy / "kweb.c")
    s = build.run_kbuild(KDIR, copy, "kweb",
                         ["W=1", "C=2", "CHECK=sparse", "modules"])
    out = s.output.decode()
    assert s.rc == 0, out
    assert re.search(r"kweb\.c:\d+:\d+: warning: symbol 'kweb_shared' was "
                     r"not declared\. Should it be static\?", out), out
