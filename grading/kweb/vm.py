"""The throwaway QEMU guest: accelerator, command line, overlay and a boot.

A boot has three channels to the host, all UNIX sockets that QEMU serves
and the host reads with caps (a module can flood any of them):
  console   ttyS0, kept in console-N.log (the first 4 MiB and the last
            256 KiB; what is dropped in between is said)
  results   ttyS1, the runner's line protocol (protocol.py), both ways:
            the host sends each test's script and the probes' answers
  QMP       QEMU's monitor: the pvpanic device's GUEST_PANICKED event and
            the guest's run state, seen from outside the guest
and a network card on QEMU's user network (restrict=on: the guest reaches
nothing), through which one port of the host's 127.0.0.1 is forwarded to
the guest's port 9999, for the host's own probes.
"""

import json
import os
import select
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .paths import CACHE, ROOT, debug_kernel, die

CONSOLE_HEAD = 4 * 1024 * 1024
CONSOLE_TAIL = 256 * 1024
RESULTS_CAP = 16 * 1024 * 1024     # bytes of the results port per boot
LINE_CAP = 4096                    # bytes of one results line kept
GUEST_PORT = 9999


def accel(kdir):
    """kvm when this machine can really run a KVM guest, else tcg.

    /dev/kvm existing is not enough (nested setups may abort at the first
    vCPU register write): a kernel is booted once with KVM and the answer
    remembered for this machine. KWEB_ACCEL=kvm|tcg overrides."""
    forced = os.environ.get("KWEB_ACCEL", "")
    if forced in ("kvm", "tcg"):
        return forced
    if forced:
        die("KWEB_ACCEL='%s': use kvm or tcg" % forced)
    if not (os.access("/dev/kvm", os.R_OK) and os.access("/dev/kvm", os.W_OK)):
        return "tcg"
    ver = subprocess.run(["qemu-system-x86_64", "--version"],
                         capture_output=True, text=True).stdout.split("\n")[0]
    u = os.uname()
    key = "%s %s %s" % (u.nodename, u.release, ver)
    cache = CACHE / "accel"
    if cache.is_file():
        lines = cache.read_text().split("\n")
        if len(lines) >= 2 and lines[0] == key and lines[1] in ("kvm", "tcg"):
            return lines[1]
    try:
        out = subprocess.run(
            ["qemu-system-x86_64", "-accel", "kvm", "-cpu", "host", "-m",
             "256", "-display", "none", "-monitor", "none", "-nodefaults",
             "-no-reboot", "-serial", "stdio", "-kernel",
             str(Path(kdir) / "vmlinuz"), "-append",
             "console=ttyS0 panic=-1"], stdin=subprocess.DEVNULL,
            capture_output=True, timeout=30).stdout
    except subprocess.TimeoutExpired as e:
        out = e.stdout or b""
    result = "kvm" if b"Linux version" in out else "tcg"
    CACHE.mkdir(parents=True, exist_ok=True)
    cache.write_text("%s\n%s\n" % (key, result))
    return result


def sanitizers(kdir):
    """Whether kdir is the debug kernel (KASAN, lockdep, kmemleak, ...)."""
    return debug_kernel(kdir)


def scale(acc, kdir=None):
    """How much longer than on KVM every timeout is: 3 under TCG, and twice
    that again on the debug kernel, whose checks slow everything down."""
    s = os.environ.get("KWEB_TIMEOUT_SCALE", "")
    if s:
        if not s.isdigit() or not 1 <= int(s) <= 20:
            die("KWEB_TIMEOUT_SCALE=%s: use a whole number from 1 to 20" % s)
        return int(s)
    base = 1 if acc == "kvm" else 3
    return base * 2 if kdir is not None and sanitizers(kdir) else base


def base_image():
    """The guest's base initramfs (built once; grading/image.sh)."""
    given = os.environ.get("KWEB_BASE_IMAGE")
    if given:
        return Path(given)
    r = subprocess.run([str(ROOT / "grading" / "image.sh"), "base"],
                       stdout=subprocess.PIPE, text=True)
    if r.returncode != 0:
        die("building the guest's base image failed (see above)")
    return Path(r.stdout.strip())


def overlay(ov, kdir, stage, ko, tests=(), scripts=(), extra=None):
    """Lay out the per-run part of the guest in ov: /init, the runner, the
    test library, stage.conf, the module, the guest's drivers, and the list
    of tests ("INDEX NAME TIMEOUT"). Test scripts are not in it (the host
    sends each when it starts), except the scripts given (for a shell)."""
    ov = Path(ov)
    for d in ("kweb/lib", "kweb/tests", "kweb/run", "kweb/module",
              "kweb/drivers"):
        (ov / d).mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "grading" / "guest" / "init", ov / "init")
    os.chmod(ov / "init", 0o755)
    shutil.copy(ROOT / "grading" / "guest" / "runtests", ov / "kweb/lib")
    shutil.copy(ROOT / "checker" / "lib" / "kwtest.sh", ov / "kweb/lib")
    shutil.copy(stage.check_dir / "stage.conf", ov / "kweb/run/stage.conf")
    if ko:
        shutil.copy(ko, ov / "kweb/module")
    (ov / "kweb/run/module").write_text(stage.conf.module + "\n")
    drivers = Path(kdir) / "root" / "drivers"
    for ko_ in sorted(drivers.glob("*.ko")):
        shutil.copy(ko_, ov / "kweb/drivers")
    with open(ov / "kweb/run/tests", "w") as f:
        for index, t in tests:
            f.write("%d %s %d\n" % (index, t.name, t.timeout))
    for s in scripts:
        shutil.copy(s, ov / "kweb/tests")
    for name, text in (extra or {}).items():
        (ov / "kweb/run" / name).write_text(text)


def initrd(out, base, ov, name="initrd.cpio"):
    """The base image with the overlay appended (Linux unpacks both)."""
    out = Path(out)
    cpio = out / "overlay.cpio"
    if subprocess.run([str(ROOT / "grading" / "image.sh"), "overlay",
                       str(cpio), str(ov)]).returncode != 0:
        die("packing the guest's overlay failed")
    dst = out / name
    with open(dst, "wb") as w:
        for part in (base, cpio):
            with open(part, "rb") as r:
                shutil.copyfileobj(r, w)
    return dst


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def qemu_args(acc, kdir, initrd_path, append, memory=None):
    """The guest's command line. /dev/kmsg takes every line a test writes
    (printk.devkmsg=on: the runner marks each test's end there). The debug
    kernel gets twice the memory (KASAN's shadow, kmemleak's and lockdep's
    tables), reports every KASAN finding, not only the first, and prints
    warnings on the console too (loglevel=5 after quiet): lockdep's reports,
    the WARNING line of a WARN and every call trace are at that level.

    pci=noacpi: PCI interrupts are routed from the BIOS's table, not by
    running the ACPI _PRT method. QEMU's i440fx builds _PRT as an AML loop,
    which the debug kernel's interpreter ran for over 30 s of a TCG boot
    and then aborted (AE_AML_LOOP_TIMEOUT): the network card got no
    interrupt, and the host's probes failed at random.

    no5lvl: 4-level paging. QEMU's "max" CPU has LA57, and while 7.3's
    identify_cpu() re-reads the boot CPU's features, LA57 reads as off for
    a moment: an interrupt then makes KASAN call every access to the
    5-level direct map (ff11...) a wild one, and the debug guest flooded
    its console with such reports in about one boot of twenty."""
    cpu = "host" if acc == "kvm" else "max"
    mem = memory or os.environ.get("KWEB_GUEST_MEM") or \
        ("1024" if sanitizers(kdir) else "512")
    if sanitizers(kdir):
        append = "kasan_multi_shot loglevel=5 " + append
    return ["qemu-system-x86_64", "-accel", acc, "-cpu", cpu,
            "-m", str(mem),
            "-smp", "2", "-display", "none", "-monitor", "none",
            "-nodefaults", "-no-reboot",
            "-kernel", str(Path(kdir) / "vmlinuz"), "-initrd",
            str(initrd_path), "-append",
            "console=ttyS0 quiet panic=-1 oops=panic softlockup_panic=1 "
            "random.trust_cpu=on tsc=reliable no_timer_check mitigations=off "
            "printk.devkmsg=on pci=noacpi no5lvl " + append]


@dataclass
class Boot:
    """One running guest in test or script mode (see start())."""
    proc: subprocess.Popen
    results: socket.socket
    console_log: Path
    host_port: int
    tmp: str
    qmp: socket.socket = None
    panicked: bool = False
    results_bytes: int = 0
    flooded: str = ""
    _buf: bytes = b""
    _skipping: bool = False
    # The grader and a probe's thread both send: one whole line at a time.
    _send_lock: threading.Lock = field(default_factory=threading.Lock)

    def lines(self, timeout):
        """Complete lines from the results port within timeout seconds;
        [] on a quiet port, None when the guest is gone."""
        r, _, _ = select.select([self.results], [], [], timeout)
        if not r:
            return [] if self.proc.poll() is None else None
        try:
            data = self.results.recv(65536)
        except OSError:
            data = b""
        if not data:
            return None
        self.results_bytes += len(data)
        if self.results_bytes > RESULTS_CAP:
            self.flooded = "the guest wrote more than %d MiB to the results " \
                           "port" % (RESULTS_CAP >> 20)
            self.kill()
            return None
        out = []
        self._buf += data
        while True:
            nl = self._buf.find(b"\n")
            if nl < 0:
                if len(self._buf) > LINE_CAP:
                    if not self._skipping:
                        out.append(self._buf[:LINE_CAP])
                    self._skipping = True
                    self._buf = b""
                break
            line, self._buf = self._buf[:nl], self._buf[nl + 1:]
            if not self._skipping:
                out.append(line[:LINE_CAP])
            self._skipping = False
        return out

    def send(self, text):
        with self._send_lock:
            try:
                self.results.sendall(text.encode())
            except OSError:
                pass

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()

    def wait(self):
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for s in (self.results, self.qmp):
            if s:
                s.close()
        for t in getattr(self, "_threads", ()):
            t.join(timeout=5)
        shutil.rmtree(self.tmp, ignore_errors=True)


def _connect(path, proc, deadline):
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return None
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(path)
            return s
        except OSError:
            s.close()
            time.sleep(0.05)
    return None


def _console_reader(sock, path, boot, watch):
    """Copy the console into path: the first CONSOLE_HEAD bytes, then the
    last CONSOLE_TAIL bytes; a flood is said in the file. All of it goes
    through watch (console.ConsoleWatch), if given, as it comes."""
    head, tail, dropped = 0, bytearray(), 0
    with open(path, "wb") as f:
        while True:
            try:
                data = sock.recv(65536)
            except OSError:
                break
            if not data:
                break
            if watch is not None:
                watch.feed(data)
            if head < CONSOLE_HEAD:
                n = min(len(data), CONSOLE_HEAD - head)
                f.write(data[:n])
                head += n
                data = data[n:]
            if data:
                tail += data
                if len(tail) > CONSOLE_TAIL:
                    cut = len(tail) - CONSOLE_TAIL
                    dropped += cut
                    del tail[:cut]
        if dropped:
            f.write(b"\n[kweb: %d bytes of console output dropped here: the "
                    b"guest flooded its console]\n" % dropped)
            boot.flooded = boot.flooded or "the guest flooded its console " \
                "(%d MiB)" % ((head + dropped + len(tail)) >> 20)
        f.write(tail)
    sock.close()


def _qmp_reader(sock, boot):
    f = sock.makefile("rb")
    try:
        sock.sendall(b'{"execute": "qmp_capabilities"}\n')
        for raw in f:
            if len(raw) > 65536:
                continue
            try:
                msg = json.loads(raw)
            except ValueError:
                continue
            if isinstance(msg, dict) and msg.get("event") == "GUEST_PANICKED":
                boot.panicked = True
    except OSError:
        pass


def start(acc, kdir, initrd_path, append, console_log, qemu_err, watch=None):
    """Boot a guest for tests or a script: console and results on sockets,
    QMP, pvpanic, and the host's forwarded port. watch (a
    console.ConsoleWatch) reads the console as it comes."""
    tmp = tempfile.mkdtemp(prefix="kweb-vm-")
    con, res, qmp = (os.path.join(tmp, n) for n in ("con", "res", "qmp"))
    for attempt in range(3):
        port = free_port()
        args = qemu_args(acc, kdir, initrd_path, append) + [
            "-chardev", "socket,id=con,path=%s,server=on,wait=on" % con,
            "-serial", "chardev:con",
            "-chardev", "socket,id=res,path=%s,server=on,wait=on" % res,
            "-serial", "chardev:res",
            "-qmp", "unix:%s,server=on,wait=off" % qmp,
            "-device", "pvpanic-pci",
            "-netdev", "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:%d-"
            "10.0.2.15:%d" % (port, GUEST_PORT),
            "-device", "e1000,netdev=n0"]
        err = open(qemu_err, "wb")
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=err)
        err.close()
        deadline = time.monotonic() + 20
        c = _connect(con, proc, deadline)
        r = c and _connect(res, proc, deadline)
        if r:
            break
        proc.kill()
        proc.wait()
        text = Path(qemu_err).read_text(errors="replace")
        if "hostfwd" not in text and "Could not set up host forwarding" \
                not in text:
            shutil.rmtree(tmp, ignore_errors=True)
            die("QEMU did not start: %s" % (text.strip().split("\n")[-1]
                                            if text.strip() else "no message"))
    else:
        shutil.rmtree(tmp, ignore_errors=True)
        die("QEMU could not forward a port of 127.0.0.1 to the guest")
    boot = Boot(proc, r, Path(console_log), port, tmp)
    threads = [threading.Thread(target=_console_reader,
                                args=(c, console_log, boot, watch),
                                daemon=True)]
    q = _connect(qmp, proc, time.monotonic() + 5)
    if q:
        boot.qmp = q
        threads.append(threading.Thread(target=_qmp_reader, args=(q, boot),
                                        daemon=True))
    for t in threads:
        t.start()
    boot._threads = threads
    return boot
