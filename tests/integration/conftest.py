"""conftest.py - what every integration test shares

Paths into the build tree, running a program with libgmtrace preloaded (in the
child's environment only: the test runner itself is never preloaded), running
`gmtrace`, reading `summary --json` and `dump --json`, and the size-rule filter
that turns a capture into the numbers a fixture prints (tests/fixtures/README.md).

The build tree comes from GM_BUILD_DIR (set by ctest), else <source>/build.
"""
import collections
import glob
import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

SOURCE_DIR = Path(os.environ.get("GM_SOURCE_DIR", Path(__file__).resolve().parents[2]))
BUILD_DIR = Path(os.environ.get("GM_BUILD_DIR", SOURCE_DIR / "build"))
LIB = BUILD_DIR / "interpose" / "libgmtrace.so"
GMTRACE = BUILD_DIR / "analysis" / "gmtrace"
FIXTURES = BUILD_DIR / "tests" / "integration" / "fixtures"
ZEROALLOC = BUILD_DIR / "tests" / "integration" / "it_zeroalloc"

# The keys of a fixture's tally that a filtered capture must reproduce.
TALLY_KEYS = ("allocations", "frees", "allocated_bytes", "freed_bytes",
              "live_at_exit_count", "live_at_exit_bytes")

# ---- the size rule (tests/fixtures/README.md) -------------------------------

SIZE_STEP = 4096
SIZE_REM = 1771
SIZE_MIN = SIZE_STEP + SIZE_REM  # FX_SIZE(1) = 5867


def size_ok(size):
    """True when size follows the rule s % 4096 == 1771 && s >= 5867."""
    return size % SIZE_STEP == SIZE_REM and size >= SIZE_MIN


def fx(path):
    """Path of a built fixture; fails the test if it was not built."""
    p = FIXTURES / path
    if not p.exists():
        pytest.fail(f"{p} is missing: build the tree ({BUILD_DIR}) first")
    return p


# ---- environments and processes -------------------------------------------


def clean_env(extra=None):
    """The runner's environment without any LD_PRELOAD or GMTRACE_* setting."""
    env = {k: v for k, v in os.environ.items()
           if k != "LD_PRELOAD" and not k.startswith("GMTRACE_")}
    env.update(extra or {})
    return env


def preload_env(outdir, extra=None):
    """Environment for one preloaded child: captures go to outdir, no banner."""
    env = clean_env({
        "LD_PRELOAD": str(LIB),
        "GMTRACE_OUTPUT": str(Path(outdir) / "%e.%p.gmt"),
        "GMTRACE_QUIET": "1",
    })
    env.update(extra or {})
    return env


def run_preloaded(argv, outdir, extra_env=None, timeout=60, cwd=None, stdin=None):
    """Runs argv with libgmtrace preloaded; returns the CompletedProcess
    (stdout/stderr as bytes). Raises TimeoutExpired on a hang."""
    return subprocess.run([str(a) for a in argv], env=preload_env(outdir, extra_env),
                          cwd=str(cwd or outdir), stdin=stdin, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout)


def run_plain(argv, cwd, extra_env=None, timeout=60, stdin=None):
    """Runs argv without the preload (the reference run)."""
    return subprocess.run([str(a) for a in argv], env=clean_env(extra_env), cwd=str(cwd),
                          stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=timeout)


def gmtrace(*args, timeout=60, cwd=None, extra_env=None):
    """Runs the gmtrace CLI (never preloaded); returns the CompletedProcess
    with text stdout/stderr."""
    return subprocess.run([str(GMTRACE)] + [str(a) for a in args], env=clean_env(extra_env),
                          cwd=str(cwd) if cwd else None, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=timeout)


def captures(outdir):
    """The capture files in outdir, sorted by name."""
    return sorted(Path(p) for p in glob.glob(str(Path(outdir) / "*.gmt*")))


def capture_of(outdir, program, pid):
    """The one capture of program/pid in outdir (name %e.%p.gmt)."""
    path = Path(outdir) / f"{program}.{pid}.gmt"
    assert path.exists(), f"no capture {path.name}; have {[c.name for c in captures(outdir)]}"
    return path


def json_lines(text):
    """Every line of text (str or bytes) that parses as a JSON object."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


def fixture_line(text, **match):
    """The fixture JSON line (has "fixture") whose keys equal match."""
    found = [j for j in json_lines(text)
             if "fixture" in j and all(j.get(k) == v for k, v in match.items())]
    assert len(found) == 1, f"expected one fixture line with {match}, got {found!r}"
    return found[0]


def run_captures_json(stdout):
    """The {"captures": [...]} object `gmtrace run --json` printed (the
    program's own output shares stdout)."""
    found = [j for j in json_lines(stdout) if set(j) == {"captures"}]
    assert len(found) == 1, f"gmtrace run --json printed no captures list: {stdout!r}"
    return found[0]["captures"]


# When this test run began: a log in /dev/shm older than that belongs to an
# earlier process that had the same pid (pids come round again, 32768 of them
# by default), left there by some earlier run, not to the process under test.
_RUN_STARTED = time.time()


def shm_logs(pid):
    """Shared-memory logs /dev/shm/gmtrace.<pid>.* left for pid by a process
    of this test run."""
    logs = []
    for path in glob.glob(f"/dev/shm/gmtrace.{pid}.*"):
        try:
            if os.stat(path).st_mtime >= _RUN_STARTED - 1:
                logs.append(path)
        except FileNotFoundError:
            pass
    return sorted(logs)


def wait_for(predicate, timeout, what, interval=0.01):
    """Polls predicate until it returns a true value; fails after timeout s."""
    deadline = time.monotonic() + timeout
    while True:
        v = predicate()
        if v:
            return v
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def read_json_file(path):
    """A file holding one JSON object, or None if it is missing or half-written."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def kill_if_alive(proc):
    """Kills a Popen that a failed test left behind (only that process)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)


# ---- reading captures -------------------------------------------------------


def summary(path, expect_ok=True, timeout=60, top=0):
    """`gmtrace summary --json --top TOP path` as a dict. With expect_ok, the
    command must exit 0 and report no damage."""
    r = gmtrace("summary", "--json", "--top", top, path, timeout=timeout)
    assert r.returncode >= 0, f"gmtrace summary {path} died by signal {-r.returncode}"
    if expect_ok:
        assert r.returncode == 0, f"gmtrace summary {path}: rc {r.returncode}: {r.stderr}"
    s = json.loads(r.stdout)
    if expect_ok:
        assert s["error"] is None, f"{path}: {s['error']}"
    return s


def assert_valid(path, forked=False):
    """A capture that reads whole, lost nothing and frees nothing unknown;
    returns its summary. A forked child's capture starts at the fork, so
    with forked=True it may free blocks its parent allocated (unmatched)."""
    s = summary(path)
    assert s["records_lost"] == 0, f"{path}: records_lost {s['records_lost']}"
    if not forked:
        assert s["unmatched_frees"] == 0, f"{path}: unmatched_frees {s['unmatched_frees']}"
    assert s["unknown_records"] == 0, f"{path}: unknown_records {s['unknown_records']}"
    return s


def dump_events(path, expect_ok=True, timeout=120):
    """Yields every event of `gmtrace dump --json path` as a dict, streaming."""
    proc = subprocess.Popen([str(GMTRACE), "dump", "--json", str(path)], env=clean_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    loads = json.loads
    try:
        for line in proc.stdout:
            yield loads(line)
        err = proc.stderr.read().decode("utf-8", "replace")
        rc = proc.wait(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    assert rc >= 0, f"gmtrace dump {path} died by signal {-rc}"
    if expect_ok:
        assert rc == 0, f"gmtrace dump {path}: rc {rc}: {err}"


class Tally:
    """What a capture says the fixture did on purpose: the allocations whose
    requested size follows the rule and the frees of exactly those blocks.

    Attributes (keys as in the fixture JSON): allocations, frees,
    allocated_bytes, freed_bytes, live_at_exit_count, live_at_exit_bytes,
    peak_live_bytes, sizes (sorted distinct sizes). Also per capture thread
    index: threads[i] = {allocations, frees, allocated_bytes, freed_bytes}
    (frees counted on the freeing thread); os_tid[i]; calls (Counter of the
    entry points that made or released deliberate blocks); frames and, per
    main frame, frame_allocations / frame_allocated_bytes; types (Counter of
    every event type in the capture); events (list of the non-deliberate
    events of interest: fork, exec, exit, process); anomalies (strings:
    an allocation at a live deliberate address, a sized delete whose size
    differs from the block's); snapshot (the tally after the first
    `snapshot_at` deliberate operations, when asked).
    """

    def __init__(self):
        self.allocations = self.frees = 0
        self.allocated_bytes = self.freed_bytes = 0
        self.live = {}
        self.live_bytes = 0
        self.peak_live_bytes = 0
        self.sizes = set()
        self.threads = collections.defaultdict(
            lambda: dict(allocations=0, frees=0, allocated_bytes=0, freed_bytes=0))
        self.os_tid = {}
        self.calls = collections.Counter()
        self.frames = 0
        self.frame_allocations = [0]
        self.frame_allocated_bytes = [0]
        self.types = collections.Counter()
        self.events = []
        self.anomalies = []
        self.ops = 0
        self.snapshot = None

    @property
    def live_at_exit_count(self):
        return len(self.live)

    @property
    def live_at_exit_bytes(self):
        return self.live_bytes

    def as_dict(self, keys=TALLY_KEYS):
        return {k: getattr(self, k) for k in keys}

    def _op(self, snapshot_at):
        self.ops += 1
        if snapshot_at is not None and self.ops == snapshot_at:
            self.snapshot = self.as_dict()

    def _alloc(self, ev, ptr, size, snapshot_at):
        if ptr in self.live:  # its free was not recorded
            self.anomalies.append(f"allocation at live deliberate block {ptr:#x}: {ev}")
            self.live_bytes -= self.live.pop(ptr)
        self.allocations += 1
        self.allocated_bytes += size
        self.live[ptr] = size
        self.live_bytes += size
        self.peak_live_bytes = max(self.peak_live_bytes, self.live_bytes)
        self.sizes.add(size)
        t = self.threads[ev["thread"]]
        t["allocations"] += 1
        t["allocated_bytes"] += size
        self.frame_allocations[-1] += 1
        self.frame_allocated_bytes[-1] += size
        self._op(snapshot_at)

    def _release(self, ev, ptr, snapshot_at):
        size = self.live.pop(ptr)
        self.live_bytes -= size
        self.frees += 1
        self.freed_bytes += size
        t = self.threads[ev["thread"]]
        t["frees"] += 1
        t["freed_bytes"] += size
        self._op(snapshot_at)
        return size

    def add(self, ev, snapshot_at=None):
        """Counts one event of `gmtrace dump --json`."""
        typ = ev["type"]
        self.types[typ] += 1
        if typ == "alloc":
            if size_ok(ev["size"]):
                self.calls[ev["kind"]] += 1
                self._alloc(ev, int(ev["ptr"], 16), ev["size"], snapshot_at)
        elif typ == "free":
            ptr = int(ev["ptr"], 16)
            if ptr in self.live:
                size = self._release(ev, ptr, snapshot_at)
                self.calls[ev["kind"]] += 1
                if ev["size"] not in (0, size):
                    self.anomalies.append(f"sized free of {size} bytes says {ev['size']}: {ev}")
        elif typ == "realloc":
            old, new = int(ev["old_ptr"], 16), int(ev["ptr"], 16)
            touched = False
            if old in self.live:
                self._release(ev, old, snapshot_at)
                touched = True
            if new != 0 and size_ok(ev["size"]):
                self._alloc(ev, new, ev["size"], snapshot_at)
                touched = True
            if touched:
                self.calls[ev["kind"]] += 1
        elif typ == "frame":
            if ev["set"] == 0:
                self.frames += 1
                self.frame_allocations.append(0)
                self.frame_allocated_bytes.append(0)
        elif typ == "thread_start":
            self.os_tid[ev["thread"]] = ev["os_tid"]
        elif typ in ("fork", "exec", "exit", "process", "lost"):
            self.events.append(ev)

    def finish(self):
        self.sizes = sorted(self.sizes)
        # frame i's numbers are those before end mark i; drop the open tail
        # unless something deliberate happened after the last mark
        if self.frame_allocations[-1] == 0:
            self.frame_allocations.pop()
            self.frame_allocated_bytes.pop()
        return self


def rule_tally(path, expect_ok=True, snapshot_at=None):
    """The size-rule view of a capture (see Tally), from `gmtrace dump --json`."""
    t = Tally()
    for ev in dump_events(path, expect_ok=expect_ok):
        t.add(ev, snapshot_at)
    return t.finish()


def assert_tally(tally, expected, keys=TALLY_KEYS, what=""):
    """Every key of keys compared between a Tally and a fixture's JSON line."""
    got = {k: getattr(tally, k) for k in keys}
    want = {k: expected[k] for k in keys}
    assert got == want, f"{what}capture (size rule) {got} != fixture {want}"
    if "sizes" in expected:
        assert tally.sizes == sorted(expected["sizes"]), f"{what}sizes differ"
    assert tally.anomalies == [], f"{what}anomalies: {tally.anomalies[:5]}"


WARNING_RE = re.compile(r"^gmtrace: \[(\d+)\] ")
