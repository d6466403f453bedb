"""The static gate: may this built module boot in the guest?

check_module() reads the .ko (binutils' nm and objdump, with the build's
limits and in its sandbox) and refuses, one line each:

- a kernel symbol the module imports that is not in checker/symbols/common
  nor in checker/symbols/NN-name (what the stage's solution needs beyond
  common), with the reason for the dangerous classes (file access, running
  programs, symbol lookups, kprobes, powering off, the console);
- a privileged instruction in its code (port I/O, cli/sti, hlt, MSRs,
  descriptor tables, control and debug registers, TLB and cache control,
  hypervisor calls, kernel entry and exit). The paravirt alternatives of
  local_irq_save() and friends put cli/sti in .altinstr_replacement: those
  two are allowed there, nothing else is.

This is a gate against honest mistakes and casual tricks, not a proof: code
in ring 0 can reach the kernel by other means (computed addresses, bytes
hidden inside other instructions). The guest is a throwaway VM, and the
grader trusts nothing the guest says beyond its protocol.

The stage files are regenerated from the solutions (both kernels):
    cd grading && /usr/bin/python3 -m kweb.gate regen
"""

import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

from . import build
from .paths import (KERNELS, ROOT, debug_kernel, die, kernel_dir, run_main,
                    stage_names)

SYMBOLS = ROOT / "checker" / "symbols"
# What the debug kernel's instrumentation imports into any module.
DEBUG_LIST = "debug"
SYMBOL_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.$]{0,127}")
MAX_REFUSALS = 12

# Why a symbol is refused, for the classes a student should know about.
REASONS = [
    (r"filp_open|filp_close|file_open_.*|kernel_file_open|kernel_read|"
     r"kernel_write|kernel_read_file.*|vfs_.*|kern_path.*|fput|fget.*|"
     r"__fput_sync|dentry_open|do_sys_open|d_path|path_put|path_get",
     "file access from the kernel"),
    (r"call_usermodehelper.*|kernel_execve|__request_module|request_module.*",
     "runs programs or loads other modules"),
    (r"kallsyms_.*|module_kallsyms_.*|__symbol_get|symbol_get.*|__symbol_put|"
     r"symbol_put_addr|find_module|__module_address|lookup_symbol_.*|"
     r"sprint_symbol.*",
     "looks kernel symbols up by name, around this check"),
    (r".*kprobe.*|.*uprobe.*|register_ftrace_.*|unregister_ftrace_.*|"
     r"ftrace_.*|tracepoint_probe_.*|register_trace_.*|text_poke.*|"
     r"perf_event_create_kernel_counter|register_die_notifier|"
     r"static_key_.*|jump_label_.*",
     "hooks or patches kernel code"),
    (r"kernel_power_off|kernel_restart|kernel_halt|emergency_restart|"
     r"machine_.*|orderly_poweroff|orderly_reboot|ctrl_alt_del|pm_power_off|"
     r"do_kernel_.*|register_reboot_notifier|panic|nmi_panic|do_exit|"
     r"kthread_complete_and_exit|make_task_dead",
     "stops, restarts or crashes the guest machine"),
    (r"tty_.*|uart_.*|serial8250_.*|serial_.*|.*console.*|vt_.*|n_tty_.*|"
     r"hvc_.*|early_printk|printk_emit|vprintk_emit|kmsg_dump.*",
     "writes to the guest's console or serial line, which carries the "
     "grader's results"),
    (r"ioremap.*|iounmap|memremap|memunmap|ioport_.*|ioread.*|iowrite.*|"
     r"__request_region|__release_region|request_.*region|pci_.*|"
     r"set_memory_.*|__set_memory_.*|set_pages_.*|phys_to_.*|__phys_addr|"
     r"page_offset_base|vmemmap_base|vmalloc_base",
     "touches devices or physical memory directly"),
    (r"commit_creds|prepare_creds|prepare_kernel_cred|override_creds|"
     r"revert_creds|abort_creds",
     "changes credentials"),
    (r"send_sig.*|kill_pid.*|kill_pgrp|force_sig.*|find_task_by_.*|"
     r"pid_task|find_vpid|find_get_pid|get_pid_task|init_task|"
     r"__task_pid_nr_ns|for_each_process|tasklist_lock",
     "reaches other processes (the grader's tests run there)"),
    (r"copy_from_user|copy_to_user|_copy_from_user|_copy_to_user|"
     r"__get_user_.*|__put_user_.*|strncpy_from_user|strnlen_user|"
     r"memdup_user.*|access_process_vm",
     "reads or writes a process's memory"),
    (r"sys_call_table|__x64_sys_.*|__ia32_sys_.*|ksys_.*",
     "calls system calls from the kernel"),
]
REASONS = [(re.compile(p), why) for p, why in REASONS]
OTHER = "not among the kernel functions this stage needs: see checker/symbols/"

# Privileged instructions: mnemonic pattern, what it does.
PRIVILEGED = [
    (r"(in|out)[bwl]?|(ins|outs)[bwld]?", "port I/O"),
    (r"cli|sti", "turns interrupts off or on directly"),
    (r"hlt|monitor|mwait|monitorx|mwaitx", "stops the CPU"),
    (r"rdmsr|wrmsr|wrmsrns|rdmsrq|wrmsrq|rdmsrlist|wrmsrlist",
     "model-specific registers"),
    (r"lgdt|lidt|lldt|ltr|lmsw|clts|xsetbv", "descriptor tables and CPU control"),
    (r"invlpg|invlpga|invpcid|invd|wbinvd|wbnoinvd", "the TLB and caches"),
    (r"vmcall|vmmcall|vmlaunch|vmresume|vmxon|vmxoff|vmread|vmwrite|"
     r"vmptrld|vmptrst|vmclear|vmfunc|vmrun|vmload|vmsave|stgi|clgi|"
     r"skinit|tdcall|invept|invvpid", "hypervisor calls"),
    (r"swapgs|sysret[lq]?|sysexit[lq]?|iret[wlq]?|syscall|sysenter",
     "kernel entry and exit"),
]
PRIVILEGED = [(re.compile(p), why) for p, why in PRIVILEGED]
CONTROL_REG = re.compile(r"%[cd]r[0-9]+")
# In the paravirt alternatives of local_irq_save() and friends.
ALTERNATIVES = ".altinstr_replacement"
ALLOWED_IN_ALTERNATIVES = {"cli", "sti"}
ENTRY_POINTS = {"init_module": "the module's init function",
                "cleanup_module": "the module's exit function"}
PREFIXES = {"lock", "rep", "repz", "repe", "repnz", "repne", "data16",
            "data32", "addr16", "addr32", "cs", "ds", "es", "fs", "gs", "ss",
            "notrack", "bnd", "xacquire", "xrelease"}


# --- the allowlists ------------------------------------------------------------------

def load_allowlist(path):
    """The symbols of an allowlist file: one a line, # comments."""
    out = set()
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            if not SYMBOL_RE.fullmatch(line):
                die("%s:%d: '%s' is not a symbol name" % (path, n, line))
            out.add(line)
    return out


def allowed_symbols(stage_name, root=SYMBOLS, debug=False):
    """common, the stage's own file, and with debug the hooks that the debug
    kernel's instrumentation (KASAN, lockdep, ...) adds to every module."""
    root = Path(root)
    if not (root / "common").is_file():
        die("%s is missing: the kit is incomplete" % (root / "common"))
    allowed = load_allowlist(root / "common")
    own = root / stage_name
    if own.is_file():
        allowed |= load_allowlist(own)
    if debug and (root / DEBUG_LIST).is_file():
        allowed |= load_allowlist(root / DEBUG_LIST)
    return allowed


def reason(symbol):
    for pattern, why in REASONS:
        if pattern.fullmatch(symbol):
            return why
    return OTHER


# --- reading the module --------------------------------------------------------------

def _run(argv, ko):
    """Run a binutils tool on ko with the build's limits (sandboxed when the
    sandbox can run); its output as text."""
    tool = shutil.which(argv[0], path=build.PATH)
    if not tool:
        die("%s is missing: install binutils" % argv[0])
    argv = [tool] + argv[1:] + [str(ko)]
    if build.sandbox_available()[0] and not build.unsandboxed():
        argv = build.sandbox_argv(argv, ro=[ko.parent])
    r = build.run_limited(argv, timeout=60)
    text = r.output.decode("utf-8", "replace")
    if r.timed_out or r.rc != 0 or r.cut:
        last = [x for x in text.split("\n") if x.strip()][-1:] or ["exit %d" % r.rc]
        return None, build.clean_text(last[0])[:200]
    return text, ""


def imports(ko):
    """The undefined symbols of ko (nm -u), or (None, why)."""
    text, why = _run(["nm", "-u", "-P"], ko)
    if text is None:
        return None, why
    names = []
    for line in text.split("\n"):
        parts = line.split()
        if parts:
            names.append(parts[0])
    return names, ""


def instructions(text):
    """(section, function, mnemonic, operands) for each line of objdump -d."""
    section = function = ""
    for line in text.split("\n"):
        m = re.match(r"Disassembly of section (\S+):$", line)
        if m:
            section, function = m.group(1), ""
            continue
        m = re.match(r"[0-9a-f]+ <(.*)>:$", line)
        if m:
            function = m.group(1)
            continue
        m = re.match(r"\s*[0-9a-f]+:\t(.*)$", line)
        if not m:
            continue
        insn = m.group(1).split("#", 1)[0].split("<", 1)[0]
        words = insn.split()
        while words and (words[0] in PREFIXES or words[0].startswith("rex")):
            words.pop(0)
        if words:
            yield section, function, words[0], " ".join(words[1:])


def privileged(section, mnemonic, operands):
    """Why this instruction is refused, or ""."""
    if mnemonic == "(bad)":
        return "bytes in code that are not instructions"
    if mnemonic.startswith("mov") and CONTROL_REG.search(operands):
        return "control and debug registers"
    for pattern, why in PRIVILEGED:
        if pattern.fullmatch(mnemonic):
            if section == ALTERNATIVES and mnemonic in ALLOWED_IN_ALTERNATIVES:
                return ""
            return why
    return ""


# --- the gate ---------------------------------------------------------------------------

def check_module(ko, stage_name, kdir=None):
    """Refusals of the built module ko for stage stage_name, each one line
    naming the symbol or instruction (no "refused:" prefix: the caller
    adds it); [] means it may boot. kdir (the
    kernel it was built for) is accepted for the record; the lists hold the
    names of every supported kernel; for the debug kernel, the hooks of
    its instrumentation too."""
    ko = Path(os.path.realpath(ko))
    allowed = allowed_symbols(stage_name, debug=kdir is not None and
                              debug_kernel(kdir))
    out = []
    names, why = imports(ko)
    if names is None:
        return ["the module's symbols cannot be read (nm: %s)" % why]
    for name in sorted(set(names)):
        if not SYMBOL_RE.fullmatch(name):
            out.append("the module imports a symbol with an odd name "
                       "(%s)" % build.clean_text(name)[:60])
        elif name not in allowed:
            out.append("the module uses %s, which stage %s does not "
                       "allow (%s)" % (name, stage_name, reason(name)))
    text, why = _run(["objdump", "-d", "-w", "--no-show-raw-insn"], ko)
    if text is None:
        return out + ["the module's code cannot be disassembled "
                      "(objdump: %s)" % why]
    seen = set()
    for section, function, mnemonic, operands in instructions(text):
        what = privileged(section, mnemonic, operands)
        if what and (mnemonic, function) not in seen:
            seen.add((mnemonic, function))
            where = build.clean_text(function)[:60] or section
            if where in ENTRY_POINTS:
                where += ", " + ENTRY_POINTS[where]
            out.append("the module's code uses the privileged "
                       "instruction %s in %s (%s)"
                       % (build.clean_text(mnemonic)[:20], where, what))
    if len(out) > MAX_REFUSALS:
        out = out[:MAX_REFUSALS] + ["... and %d more"
                                    % (len(out) - MAX_REFUSALS)]
    return out


# --- regenerating the stage files -------------------------------------------------------

HEADER = """\
# Kernel symbols the module of stage {stage} may import beyond
# checker/symbols/common (see its header for the format and the check).
# Generated from what solutions/{stage}/ imports on every kernel in .cache/kernels:
#   cd grading && /usr/bin/python3 -m kweb.gate regen
# Lines above the "# generated" line are kept; those below are rewritten.
# generated
"""


def solution_imports(stage, kernel, work):
    """What solutions/STAGE's module imports, built for kernel."""
    from .stagefiles import parse_stage_conf
    conf = parse_stage_conf(ROOT / "checker" / stage / "stage.conf")
    mod = Path(work) / ("%s-%s" % (stage, kernel))
    mod.mkdir()
    for name in conf.sources:
        text = (ROOT / "solutions" / stage / name).read_text()
        (mod / name).write_text(re.sub(r"/\*[{}]\*/", "", text))
    r = build.build_module(kernel_dir(kernel) / "build", mod, conf.module,
                           "solutions/" + stage)
    if not r.ok:
        die("solutions/%s does not build for %s: %s" % (
            stage, kernel, r.refusal or r.diagnostics[-500:]))
    names, why = imports(mod / (conf.module + ".ko"))
    if names is None:
        die("nm cannot read the solution's module: %s" % why)
    return set(names)


DEBUG_HEADER = """\
# Kernel symbols any module may import when it is built for the debug
# kernel (KERNEL=debug): the hooks its instrumentation (KASAN, lockdep, the
# tracepoints of its debug checks) compiles into the module's code, beyond
# checker/symbols/common and the stage's own file. Generated from what the
# solutions import there and nowhere else:
#   cd grading && /usr/bin/python3 -m kweb.gate regen
# Lines above the "# generated" line are kept; those below are rewritten.
# generated
"""


def _rewrite(path, header, names, check, changed, label):
    keep = header
    if path.is_file():
        old = path.read_text()
        head, mark, _ = old.partition("# generated\n")
        if mark:
            keep = head + mark
    else:
        old = ""
    new = keep + "".join("%s\n" % s for s in sorted(names))
    if new != old:
        changed.append(label)
        if not check:
            path.write_text(new)


def regen(check=False):
    present = [k for k in KERNELS if (kernel_dir(k) / "build").exists()]
    kernels = [k for k in present if k != "debug"]
    if not kernels:
        die("no kernel tree in .cache/kernels: run make kernels first")
    common = load_allowlist(SYMBOLS / "common")
    changed = []
    extra = set()
    with tempfile.TemporaryDirectory(prefix="kweb-symbols-") as work:
        for stage in stage_names():
            need = set()
            for k in kernels:
                need |= solution_imports(stage, k, work)
            _rewrite(SYMBOLS / stage, HEADER.format(stage=stage),
                     need - common, check, changed, stage)
            if "debug" in present:
                extra |= solution_imports(stage, "debug", work) - need - common
        if "debug" in present:
            _rewrite(SYMBOLS / DEBUG_LIST, DEBUG_HEADER, extra, check,
                     changed, DEBUG_LIST)
    return changed


def main(argv):
    if argv[:1] == ["regen"]:
        check = "--check" in argv
        changed = regen(check)
        for stage in changed:
            print("checker/symbols/%s %s" % (stage, "is out of date" if check
                                              else "rewritten"))
        return 1 if check and changed else 0
    if argv[:1] == ["check"] and len(argv) == 3:
        refusals = check_module(Path(argv[1]), argv[2])
        for line in refusals:
            print(line)
        return 1 if refusals else 0
    print("usage: python3 -m kweb.gate regen [--check] | check KO STAGE",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    run_main(main)
