"""A guest for experiments, with a stage's module built and ready.

    grading/kw shell  STAGE [SRC] [KERNEL]          an interactive shell
    grading/kw vm-run STAGE [SRC] [KERNEL] SCRIPT   run SCRIPT in the guest,
        print its output, exit with its status

The module is built the way grading builds it (sandboxed, then the static
gate); in the guest it is /kweb/module/NAME.ko, and the stage's visible
tests are in /kweb/tests. The guest is thrown away at the end.
"""

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from . import blanks, build, gate, protocol, vm
from .paths import BUILD, ROOT, die, kernel_dir, kernel_series
from .stagefiles import load_stage
from .grade import check_submission

START = "kweb: running your script"


def main(mode, argv):
    if len(argv) < 1:
        die("usage: grading/kw %s STAGE [SRC] [KERNEL]%s" % (
            "shell" if mode == "shell" else "vm-run",
            "" if mode == "shell" else " SCRIPT"))
    stage_arg = argv[0]
    src_arg = argv[1] if len(argv) > 1 and argv[1] else "stages"
    series = kernel_series(argv[2] if len(argv) > 2 and argv[2] else None)
    script = argv[3] if len(argv) > 3 else ""
    if mode == "script":
        if not script:
            die("no script given: use SCRIPT=path/to/script.sh")
        if not Path(script).is_file():
            die("SCRIPT=%s does not exist" % script)
    if subprocess.run([str(ROOT / "grading" / "deps.sh"), "grade"]).returncode:
        die("the host lacks packages grading needs (see above)")
    st = load_stage(stage_arg, pack="none")
    if src_arg in ("stages", "solutions"):
        sub, shown = ROOT / src_arg / st.name, "%s/%s" % (src_arg, st.name)
    else:
        sub, shown = Path(src_arg), src_arg
        if (sub / st.name).is_dir():
            sub = sub / st.name
    if not sub.is_dir():
        die("no folder %s" % shown)
    bad = check_submission(sub, shown, st.conf.sources)
    if bad:
        die(bad)
    left = blanks.unfilled([sub / f for f in st.conf.sources], shown)
    if left:
        for x in left:
            print(x, file=sys.stderr)
        die("fill in the blanks above first (the module cannot be built "
            "with them)")
    out = BUILD / "vm" / ("%s-%s" % (st.name, mode))
    shutil.rmtree(out, ignore_errors=True)
    (out / "module").mkdir(parents=True)
    for f in st.conf.sources:
        shutil.copyfile(sub / f, out / "module" / f)
    if subprocess.run([str(ROOT / "grading" / "kernel.sh"),
                       series]).returncode:
        die("the kernel %s is not available (see above)" % series)
    kdir = kernel_dir(series)
    res = build.build_module(kdir / "build", out / "module", st.conf.module,
                             shown)
    if res.refusal:
        die(res.refusal)
    if not res.ok:
        print(res.diagnostics, file=sys.stderr)
        die("the module does not build: fix the errors above")
    ko = out / "module" / (st.conf.module + ".ko")
    refused = gate.check_module(ko, st.name, kdir)
    if refused:
        die("refused: " + refused[0])
    base = vm.base_image()
    acc = vm.accel(kdir)
    scale = vm.scale(acc, kdir)
    release = (kdir / "release").read_text().strip()
    visible = [t.script for t in st.guest_tests if t.visibility == "visible"
               and t.script]
    extra = {"motd": MOTD % dict(release=release, accel=acc,
                                 module=st.conf.module)}
    ov = out / "overlay"
    if mode == "script":
        shutil.copy(script, out / "script.sh")
        extra["script.sh"] = (out / "script.sh").read_text()
    vm.overlay(ov, kdir, st, ko, scripts=visible, extra=extra)
    initrd = vm.initrd(out, base, ov)
    append = "kweb.mode=%s kweb.scale=%d" % (mode, scale)
    if mode == "shell":
        args = vm.qemu_args(acc, kdir, initrd, append) + [
            "-serial", "mon:stdio", "-serial", "null"]
        return subprocess.call(args)
    return run_script(acc, kdir, initrd, append, out)


def run_script(acc, kdir, initrd, append, out):
    """The console from the moment the script starts (the boot before it
    is noise), the script's exit status from the results port."""
    nonce = protocol.new_nonce()
    boot = vm.start(acc, kdir, initrd, append + " kweb.nonce=" + nonce,
                    out / "console.log", out / "qemu.err")
    status = None
    stream = protocol.ResultStream(nonce, [])
    deadline = time.monotonic() + 600
    try:
        while time.monotonic() < deadline:
            lines = boot.lines(0.5)
            if lines is None:
                break
            for line in lines:
                ev = stream.feed(line)
                if ev.kind == "exit":
                    status = int(ev.value)
        else:
            boot.kill()
    finally:
        boot.kill()
        boot.wait()
    text = (out / "console.log").read_text(errors="replace")
    on = False
    for line in text.replace("\r", "").split("\n"):
        if line.startswith(START):
            on = True
        if on and not re.search(r"reboot: Restarting system$", line):
            print(line)
    if status is None:
        die("the guest ended before the script finished (crash? see the "
            "output above)")
    return status


MOTD = """
kweb-lab guest: Linux %(release)s (%(accel)s). Nothing here touches your machine.
  insmod /kweb/module/%(module)s.ko [host=0.0.0.0] [port=9999]
  curl -i http://127.0.0.1:9999/   nc.openbsd 127.0.0.1 9999   dmesg   rmmod %(module)s
  The stage's tests are in /kweb/tests: run one with sh /kweb/tests/NAME.sh
  Leave with 'exit' (or Ctrl-A X).

"""

