"""Tests of grading/kweb/gate.py: every solution passes the gate on both
kernels; a module calling filp_open or kernel_power_off, or doing port I/O,
is refused with a line naming what it used."""

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "grading"))

from kweb import build, gate  # noqa: E402
from kweb.paths import KERNELS, KwebError  # noqa: E402
from kweb.stagefiles import parse_stage_conf  # noqa: E402
from kernels import kdir_or_skip  # noqa: E402

STAGES = sorted(p.name for p in (ROOT / "solutions").glob("[0-9][0-9]-*"))

HEAD = ("#include <linux/module.h>\n#include <linux/fs.h>\n"
        "#include <linux/reboot.h>\n#include <linux/io.h>\n"
        "#include <linux/delay.h>\n#include <linux/random.h>\n")
TAIL = 'MODULE_LICENSE("GPL");\nMODULE_DESCRIPTION("test");\n'


def build_or_fail(tmp_path, kernel, module, sources):
    kdir = kdir_or_skip(kernel)
    d = tmp_path / ("%s-%s" % (module, kernel))
    d.mkdir()
    for name, text in sources.items():
        (d / name).write_text(text)
    r = build.build_module(kdir, d, module, "SHOWN")
    assert r.ok, r.refusal or r.diagnostics
    return d / (module + ".ko"), kdir


def module_with(tmp_path, body, kernel="6.12"):
    src = HEAD + "static int __init t_init(void)\n{\n%s\n\treturn 0;\n}\n" \
        "module_init(t_init);\n" % body + TAIL
    return build_or_fail(tmp_path, kernel, "kweb", {"kweb.c": src})


# --- without building ------------------------------------------------------------------

OBJDUMP = """
Disassembly of section .text:

0000000000000000 <kweb_init>:
   0:\tendbr64
   4:\tlock incl 0x0(%rip)        # b <kweb_init+0xb>
   b:\tmov    %cr3,%rax
  10:\tmov    $0x3f8,%edx
  15:\tout    %al,(%dx)
  16:\trep insb (%dx),%es:(%rdi)
  18:\tinc    %rsi
  1b:\tint3
  1c:\tcs nopw 0x0(%rax,%rax,1)

Disassembly of section .altinstr_replacement:

0000000000000000 <.altinstr_replacement>:
   0:\tpushf
   1:\tcli
   2:\tsti
   3:\twrmsr
"""


def test_instructions_and_privileged():
    found = [(s, f, m) for s, f, m, o in gate.instructions(OBJDUMP)
             if gate.privileged(s, m, o)]
    assert found == [(".text", "kweb_init", "mov"), (".text", "kweb_init", "out"),
                     (".text", "kweb_init", "insb"),
                     (".altinstr_replacement", ".altinstr_replacement", "wrmsr")]


def test_reasons():
    assert gate.reason("filp_open") == "file access from the kernel"
    assert gate.reason("kernel_write") == "file access from the kernel"
    assert gate.reason("call_usermodehelper_exec").startswith("runs programs")
    assert gate.reason("kallsyms_lookup_name").startswith("looks kernel symbols")
    assert gate.reason("register_kprobe") == "hooks or patches kernel code"
    assert gate.reason("kernel_power_off").startswith("stops, restarts")
    assert gate.reason("emergency_restart").startswith("stops, restarts")
    assert gate.reason("serial8250_do_pm").startswith("writes to the guest's console")
    assert gate.reason("tty_write_room").startswith("writes to the guest's console")
    assert gate.reason("__symbol_get").startswith("looks kernel symbols")
    assert gate.reason("crc32_le") == gate.OTHER


def test_allowlists_are_well_formed():
    common = gate.load_allowlist(gate.SYMBOLS / "common")
    assert {"_printk", "kfree", "kernel_accept", "__fentry__"} <= common
    for stage in STAGES:
        allowed = gate.allowed_symbols(stage)
        assert common <= allowed
        assert not {s for s in allowed if gate.reason(s) != gate.OTHER}, stage


def test_bad_allowlist_line(tmp_path):
    (tmp_path / "common").write_text("# fine\nkfree\nnot a symbol\n")
    with pytest.raises(KwebError, match=r"common:3: 'not a symbol' is not"):
        gate.allowed_symbols("05-netns", root=tmp_path)


# --- built modules (slow) ------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("stage", STAGES)
def test_solution_passes(tmp_path, stage, kernel):
    conf = parse_stage_conf(ROOT / "checker" / stage / "stage.conf")
    sources = {n: re.sub(r"/\*[{}]\*/", "",
                         (ROOT / "solutions" / stage / n).read_text())
               for n in conf.sources}
    ko, kdir = build_or_fail(tmp_path, kernel, conf.module, sources)
    assert gate.check_module(ko, stage, kdir) == []


@pytest.mark.slow
@pytest.mark.parametrize("kernel", KERNELS)
def test_irq_helpers_pass(tmp_path, kernel):
    """local_irq_save() leaves cli/sti in .altinstr_replacement: allowed."""
    ko, kdir = module_with(tmp_path, """
	static DEFINE_SPINLOCK(l);
	unsigned long flags;
	spin_lock_irqsave(&l, flags);
	spin_unlock_irqrestore(&l, flags);
	local_irq_save(flags);
	local_irq_restore(flags);
	msleep(1);
	pr_info("%u\\n", get_random_u32());""", kernel)
    assert gate.check_module(ko, "01-kthread-echo", kdir) == []


@pytest.mark.slow
def test_filp_open_refused(tmp_path):
    ko, kdir = module_with(tmp_path, """
	struct file *f = filp_open("/etc/passwd", O_RDONLY, 0);
	if (!IS_ERR(f))
		filp_close(f, NULL);""")
    assert gate.check_module(ko, "05-netns", kdir) == [
        "the module uses filp_close, which stage 05-netns does not "
        "allow (file access from the kernel)",
        "the module uses filp_open, which stage 05-netns does not "
        "allow (file access from the kernel)"]


@pytest.mark.slow
def test_port_io_refused(tmp_path):
    ko, kdir = module_with(tmp_path, "\toutb('x', 0x3f8);")
    assert gate.check_module(ko, "05-netns", kdir) == [
        "the module's code uses the privileged instruction out in "
        "init_module, the module's init function (port I/O)"]


@pytest.mark.slow
def test_power_off_refused(tmp_path):
    ko, kdir = module_with(tmp_path, "\tkernel_power_off();")
    assert gate.check_module(ko, "01-kthread-echo", kdir) == [
        "the module uses kernel_power_off, which stage 01-kthread-echo "
        "does not allow (stops, restarts or crashes the guest machine)"]
