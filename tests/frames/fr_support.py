"""fr_support.py - what the frame tests share

Paths into the build tree, running a frame fixture with libgmtrace preloaded
in the child's environment only (the test runner is never preloaded), reading
`gmtrace dump --json` into frames, and reading `gmtrace frames --json`.

Frames are numbered as gmtrace numbers them: frame n holds what happened
between the (n-1)-th and the n-th frame record of the main set. A dump's
events are in time order, so in a single-threaded fixture every event falls
in exactly one frame; frame-end records (frame_thread, frame_sum, spike)
follow their frame record on the thread that ended the frame.

The build tree comes from GM_BUILD_DIR (set by ctest), else <source>/build.
"""
import collections
import json
import os
import subprocess
import time
from pathlib import Path

import pytest

SOURCE_DIR = Path(os.environ.get("GM_SOURCE_DIR", Path(__file__).resolve().parents[2]))
BUILD_DIR = Path(os.environ.get("GM_BUILD_DIR", SOURCE_DIR / "build"))
LIB = BUILD_DIR / "interpose" / "libgmtrace.so"
GMTRACE = BUILD_DIR / "analysis" / "gmtrace"
FIXTURES = BUILD_DIR / "tests" / "frames"

# Headless SDL: no display, no sound card.
SDL_ENV = {"SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}

# gmtrace_spike_t.reasons bits (gmtrace.h) and their names.
SPIKE_ALLOCATIONS, SPIKE_BYTES, SPIKE_ALLOC_TIME = 1, 2, 4
_REASON_BITS = {"allocations": SPIKE_ALLOCATIONS, "bytes": SPIKE_BYTES,
                "allocated_bytes": SPIKE_BYTES, "alloc_time": SPIKE_ALLOC_TIME,
                "alloc_ns": SPIKE_ALLOC_TIME, "time": SPIKE_ALLOC_TIME}

# ---- the size rule (tests/fixtures/README.md) -------------------------------


def size_ok(size):
    """True when size follows the rule s % 4096 == 1771 && s >= 5867."""
    return size % 4096 == 1771 and size >= 4096 + 1771


# ---- running ----------------------------------------------------------------


def fixture(name):
    """Path of a built frame fixture (fr_<name>); fails the test when it is
    missing (optional SDL fixtures are checked with has_fixture first)."""
    p = FIXTURES / name
    if not p.exists():
        pytest.fail(f"{p} is missing: build the tree ({BUILD_DIR}) first")
    return p


def has_fixture(name):
    """True when fr_<name> was built (SDL fixtures need SDL at configure time)."""
    return (FIXTURES / name).exists()


def child_env(outdir, extra=None, preload=True):
    """The runner's environment without LD_PRELOAD or GMTRACE_*; with
    preload, libgmtrace is preloaded and captures go to outdir."""
    env = {k: v for k, v in os.environ.items()
           if k != "LD_PRELOAD" and not k.startswith("GMTRACE_")}
    if preload:
        env.update({"LD_PRELOAD": str(LIB),
                    "GMTRACE_OUTPUT": str(Path(outdir) / "%e.%p.gmt"),
                    "GMTRACE_QUIET": "1"})
    env.update(extra or {})
    return env


class Run:
    """One fixture run: its JSON line (line), its capture (capture, or None
    without the preload), stderr text, and the wall time it took (seconds)."""

    def __init__(self, line, capture, stderr, seconds):
        self.line, self.capture, self.stderr, self.seconds = line, capture, stderr, seconds


def run_fixture(name, args, outdir, env=None, preload=True, timeout=120):
    """Runs fr_<name> ARGS (preloaded unless told otherwise) in outdir; the
    run must exit 0, print one fixture line and leave one capture."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    before = set(outdir.glob("*.gmt"))
    t0 = time.monotonic()
    r = subprocess.run([str(fixture(name))] + [str(a) for a in args],
                       env=child_env(outdir, env, preload), cwd=str(outdir),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    seconds = time.monotonic() - t0
    err = r.stderr.decode("utf-8", "replace")
    assert r.returncode == 0, f"{name} {args}: rc {r.returncode}: {err}"
    lines = [json.loads(l) for l in r.stdout.decode().splitlines() if l.startswith("{")]
    lines = [l for l in lines if "fixture" in l]
    assert len(lines) == 1, f"{name}: expected one fixture line, got {r.stdout!r}"
    capture = None
    if preload:
        new = sorted(set(outdir.glob("*.gmt")) - before)
        assert len(new) == 1, f"{name}: expected one new capture in {outdir}, got {new}"
        capture = new[0]
    return Run(lines[0], capture, err, seconds)


def gmtrace(*args, timeout=120):
    """Runs the gmtrace CLI (never preloaded); CompletedProcess, text output."""
    return subprocess.run([str(GMTRACE)] + [str(a) for a in args], env=child_env(None, None, False),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=timeout)


# ---- gmtrace dump --json -----------------------------------------------------


def dump_events(path, timeout=300):
    """Yields every event of `gmtrace dump --json path` as a dict."""
    proc = subprocess.Popen([str(GMTRACE), "dump", "--json", str(path)],
                            env=child_env(None, None, False),
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
    assert rc == 0, f"gmtrace dump {path}: rc {rc}: {err}"


def _counts():
    return dict(allocations=0, frees=0, allocated_bytes=0, freed_bytes=0)


class DumpFrames:
    """A capture read through `gmtrace dump --json`, cut into main frames.

    rule[n]      size-rule view of frame n (allocations, frees, allocated_bytes,
                 freed_bytes): allocations whose requested size follows the
                 rule, frees of exactly those blocks (matched by address)
    all[n]       every allocation and free event of frame n (allocations:
                 alloc + realloc events; frees: free events + reallocs of a
                 non-NULL block), as `gmtrace frames` counts them
    rule_thread[thread] / rule_thread_frame[thread][n]: the rule view split
                 by the writer thread (frees counted on the freeing thread)
    ticks[n]     tick records in frame n; rule allocations between two
                 consecutive ticks in tick_allocations (one entry per tick)
    spikes       {frame: count} of spike records (attached to the frame
                 record their thread wrote last)
    types        Counter of every event type; os_tid {thread: kernel tid}
    frames       main frame records; frame_numbers their numbers in order
    sets         {set id: frame records}, set_names {set id: name}
    Frame n's tail after the last frame record is frame frames + 1.
    """

    def __init__(self, path):
        self.rule = collections.defaultdict(_counts)
        self.all = collections.defaultdict(_counts)
        self.rule_thread = collections.defaultdict(_counts)
        self.rule_thread_frame = collections.defaultdict(lambda: collections.defaultdict(_counts))
        self.ticks = collections.Counter()
        self.tick_allocations = []
        self.spikes = collections.Counter()
        self.types = collections.Counter()
        self.frames = 0
        self.frame_numbers = []
        self.sets = collections.Counter()
        self.set_names = {}
        self.os_tid = {}
        self.anomalies = []
        live = {}
        last_frame_of = {}
        in_tick = False
        for ev in dump_events(path):
            typ = ev["type"]
            self.types[typ] += 1
            n = self.frames + 1
            th = ev["thread"]
            if typ in ("alloc", "realloc"):
                a = self.all[n]
                a["allocations"] += 1
                a["allocated_bytes"] += ev["size"]
                old = int(ev.get("old_ptr", "0x0"), 16)
                if typ == "realloc" and old:
                    a["frees"] += 1
                    if old in live:
                        self._free(live, old, n, th)
                ptr = int(ev["ptr"], 16)
                if size_ok(ev["size"]) and ptr:
                    if ptr in live:
                        self.anomalies.append(f"allocation at live block: {ev}")
                    live[ptr] = ev["size"]
                    for c in (self.rule[n], self.rule_thread[th], self.rule_thread_frame[th][n]):
                        c["allocations"] += 1
                        c["allocated_bytes"] += ev["size"]
                    if in_tick:
                        self.tick_allocations[-1] += 1
            elif typ == "free":
                self.all[n]["frees"] += 1
                ptr = int(ev["ptr"], 16)
                if ptr in live:
                    self._free(live, ptr, n, th)
            elif typ == "frame":
                if ev["set"] == 0:
                    self.frames += 1
                    self.frame_numbers.append(ev["frame"])
                    last_frame_of[th] = ev["frame"]
                    in_tick = False
                else:
                    self.sets[ev["set"]] += 1
            elif typ == "frame_set":
                self.set_names[ev["set"]] = ev["name"]
            elif typ == "thread_start":
                self.os_tid[th] = ev["os_tid"]
            elif typ == "tick":
                self.ticks[n] += 1
                self.tick_allocations.append(0)
                in_tick = True
            elif typ == "spike":
                self.spikes[last_frame_of.get(th)] += 1
        self.live = live

    def _free(self, live, ptr, n, th):
        size = live.pop(ptr)
        for c in (self.rule[n], self.rule_thread[th], self.rule_thread_frame[th][n]):
            c["frees"] += 1
            c["freed_bytes"] += size

    def rule_rows(self, nframes, key):
        """The rule view's key for frames 1..nframes, as a list."""
        return [self.rule[n][key] for n in range(1, nframes + 1)]

    def all_rows(self, nframes, key):
        """Every event's key for frames 1..nframes, as a list."""
        return [self.all[n][key] for n in range(1, nframes + 1)]


# ---- gmtrace frames --json -----------------------------------------------------


def frames_json(path, *extra, timeout=120):
    """`gmtrace frames --json path` as a dict, and the seconds it took. Fails
    (not skips) while the subcommand does not exist: these tests are written
    against it."""
    t0 = time.monotonic()
    r = gmtrace("frames", "--json", *extra, path, timeout=timeout)
    seconds = time.monotonic() - t0
    assert r.returncode == 0, (
        f"gmtrace frames --json {path}: rc {r.returncode}: {r.stderr.strip()[:400]}")
    return json.loads(r.stdout), seconds


def per_frame_column(report, key, nframes=None):
    """Column key of report["per_frame"] for frames 1..nframes, by the rows'
    "frame" numbers (which must be 1..N in order)."""
    rows = report["per_frame"]
    numbers = [row["frame"] for row in rows]
    assert numbers == list(range(1, len(rows) + 1)), f"per_frame frames are {numbers[:10]}..."
    if nframes is not None:
        rows = rows[:nframes]
    return [row[key] for row in rows]


def reason_bits(reasons):
    """A spike's reasons as GMTRACE_SPIKE_* bits, from an integer, a name,
    or a list of names."""
    if isinstance(reasons, int):
        return reasons
    if isinstance(reasons, str):
        reasons = [reasons]
    bits = 0
    for r in reasons:
        assert r in _REASON_BITS, f"unknown spike reason {r!r}"
        bits |= _REASON_BITS[r]
    return bits


def first_mismatch(got, want):
    """'frame n: got x, want y' for the first difference of two per-frame
    lists (frame n = index + 1), or '' when equal."""
    if len(got) != len(want):
        return f"{len(got)} frames, want {len(want)}"
    for i, (g, w) in enumerate(zip(got, want)):
        if g != w:
            return f"frame {i + 1}: got {g}, want {w}"
    return ""
