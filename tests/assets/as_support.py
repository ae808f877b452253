"""as_support.py - what the asset tests share

Paths into the build tree; running an asset fixture with libgmtrace preloaded
in the child's environment only (the test runner is never preloaded); running
`gmtrace`; and `Model`, an independent reading of `gmtrace dump --json` that
attributes every allocation to the asset and tag current on its thread (the
`context` records) and every free to the block's owner, so the tests can
compare the raw records with the fixture before comparing the reports
(`gmtrace assets`, `gmtrace transitions`) with both.

Tallies everywhere have the fixture's keys (as_common.h, as_json_tally):
allocations, frees, allocated_bytes, freed_bytes, live_count, live_bytes,
peak_bytes.

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
FIXTURES = BUILD_DIR / "tests" / "assets"

TALLY_KEYS = ("allocations", "frees", "allocated_bytes", "freed_bytes", "live_count",
              "live_bytes", "peak_bytes")

# gm_valid (interpose/log/format.h) by number, for dumps that print the code
VALID_NAMES = {1: "unknown_asset", 2: "double_unload", 3: "release_below_zero",
               4: "null_name", 5: "long_name", 6: "unload_with_refs", 7: "tag_underflow",
               8: "stack_overflow", 9: "bad_state", 10: "detach_mismatch", 11: "unknown_tag",
               12: "unknown_pool", 13: "pool_underflow"}
# gm_asset_state and gm_asset_op by number
STATE_NAMES = {0: "loading", 1: "resident", 2: "unloading", 3: "unloaded", 4: "failed"}
OP_NAMES = {0: "ref", 1: "release", 2: "touch"}


def size_ok(size):
    """True when size follows the rule s % 4096 == 1771 && s >= 5867."""
    return size % 4096 == 1771 and size >= 4096 + 1771


# ---- running ----------------------------------------------------------------


def fixture(name):
    """Path of the built fixture as_<name>; fails the test when it is missing."""
    p = FIXTURES / f"as_{name}"
    if not p.exists():
        pytest.fail(f"{p} is missing: build the tree ({BUILD_DIR}) first")
    return p


def clean_env(extra=None):
    """The runner's environment without any LD_PRELOAD or GMTRACE_* setting."""
    env = {k: v for k, v in os.environ.items()
           if k != "LD_PRELOAD" and not k.startswith("GMTRACE_")}
    env.update(extra or {})
    return env


def fixture_line(stdout):
    """The one JSON line (with "fixture") a fixture printed."""
    lines = [json.loads(s) for s in stdout.decode("utf-8", "replace").splitlines()
             if s.startswith("{")]
    lines = [j for j in lines if "fixture" in j]
    assert len(lines) == 1, f"expected one fixture line, got {stdout!r}"
    return lines[0]


class Run:
    """One fixture run: rc, stdout, stderr (bytes), line (its JSON line),
    capture (the .gmt path, or None without the preload), maxrss_kib (the
    fixture process's own peak resident set)."""

    def __init__(self, rc, out, err, line, capture, maxrss_kib):
        self.rc, self.stdout, self.stderr = rc, out, err
        self.line, self.capture, self.maxrss_kib = line, capture, maxrss_kib


def run(name, outdir, args=(), preload=True, timeout=60, expect_rc=0):
    """Runs as_<name> ARGS in outdir, with libgmtrace preloaded in its
    environment only when preload is set; checks its exit status and
    returns a Run. Output goes through files so that the fixture can be
    reaped with wait4 (its own rusage); a hang past timeout kills it (only
    it) and fails the test."""
    outdir = Path(outdir)
    env = clean_env()
    if preload:
        env.update({"LD_PRELOAD": str(LIB), "GMTRACE_OUTPUT": str(outdir / "%p.gmt"),
                    "GMTRACE_QUIET": "1"})
    argv = [str(fixture(name))] + [str(a) for a in args]
    out_path, err_path = outdir / f"as_{name}.out", outdir / f"as_{name}.err"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        p = subprocess.Popen(argv, env=env, cwd=str(outdir), stdout=out, stderr=err)
    deadline = time.monotonic() + timeout
    while True:
        pid, status, rusage = os.wait4(p.pid, os.WNOHANG)
        if pid == p.pid:
            break
        if time.monotonic() > deadline:
            p.kill()
            os.wait4(p.pid, 0)
            pytest.fail(f"as_{name} still running after {timeout} s: killed")
        time.sleep(0.005)
    p.returncode = rc = os.waitstatus_to_exitcode(status)
    out, err = out_path.read_bytes(), err_path.read_bytes()
    assert rc == expect_rc, (
        f"as_{name}: exit status {rc}, expected {expect_rc}; "
        f"stderr {err.decode('utf-8', 'replace')!r}")
    line = fixture_line(out)
    capture = None
    if preload:
        caps = sorted(outdir.glob("*.gmt"))
        assert len(caps) == 1, f"as_{name}: expected one capture, got {caps}"
        capture = caps[0]
    return Run(rc, out, err, line, capture, rusage.ru_maxrss)


def gmtrace(*args, timeout=60):
    """Runs the gmtrace CLI (never preloaded); CompletedProcess, text output."""
    return subprocess.run([str(GMTRACE)] + [str(a) for a in args], env=clean_env(),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=timeout)


def gmtrace_json(*args, expect_rc=0, timeout=60):
    """`gmtrace ARGS` that prints one JSON object; checks the exit status and
    returns the object."""
    r = gmtrace(*args, timeout=timeout)
    assert r.returncode >= 0, f"gmtrace {' '.join(map(str, args))}: signal {-r.returncode}"
    assert r.returncode == expect_rc, (
        f"gmtrace {' '.join(map(str, args))}: exit status {r.returncode}, expected "
        f"{expect_rc}: {r.stderr.strip()}")
    try:
        return json.loads(r.stdout)
    except ValueError as e:
        pytest.fail(f"gmtrace {' '.join(map(str, args))}: not JSON ({e}): {r.stdout[:500]!r}")


def assets_report(capture, *flags, expect_rc=0):
    """`gmtrace assets --json [FLAGS] CAPTURE` as a dict."""
    return gmtrace_json("assets", "--json", *flags, capture, expect_rc=expect_rc)


def transitions_report(capture, expect_rc=0):
    """`gmtrace transitions --json CAPTURE` as a dict."""
    return gmtrace_json("transitions", "--json", capture, expect_rc=expect_rc)


def by_name(entries, what, key="name"):
    """{name: entry} of a report's list (names under key); names must be unique."""
    out = {}
    for e in entries:
        assert e[key] not in out, f"{what}: name {e[key]!r} listed twice"
        out[e[key]] = e
    return out


def count_view(entry):
    """A byte count of `gmtrace assets --json` (an asset, a tag's own or
    roll-up figures) in the tally keys: {allocated_bytes, live_bytes,
    live_count, peak_bytes}."""
    return {"allocated_bytes": entry["allocated_bytes"], "live_bytes": entry["live_bytes"],
            "live_count": entry["live_blocks"], "peak_bytes": entry["peak_live_bytes"]}


def tally_view(t):
    """The same four keys of a tally (fixture or Model)."""
    return {k: t[k] for k in ("allocated_bytes", "live_bytes", "live_count", "peak_bytes")}


def dump_events(capture, timeout=120):
    """Every event of `gmtrace dump --json CAPTURE`, in time order."""
    r = subprocess.run([str(GMTRACE), "dump", "--json", str(capture)], env=clean_env(),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    assert r.returncode == 0, f"gmtrace dump {capture}: rc {r.returncode}: {r.stderr!r}"
    return [json.loads(s) for s in r.stdout.splitlines()]


# ---- the records, read independently of the reports -------------------------


def field(ev, *names):
    """The first of names present in a dump event (the record's field as the
    dump names it); fails the test naming the event when none is."""
    for n in names:
        if n in ev:
            return ev[n]
    pytest.fail(f"dump event has none of {names}: {ev}")


def as_int(v):
    """An id or address as the dump prints it (integer or "0x..." string)."""
    return int(v, 16) if isinstance(v, str) else int(v)


def new_tally():
    return dict.fromkeys(TALLY_KEYS, 0)


def tally_alloc(t, n):
    t["allocations"] += 1
    t["allocated_bytes"] += n
    t["live_count"] += 1
    t["live_bytes"] += n
    t["peak_bytes"] = max(t["peak_bytes"], t["live_bytes"])


def tally_free(t, n):
    t["frees"] += 1
    t["freed_bytes"] += n
    t["live_count"] -= 1
    t["live_bytes"] -= n


class Asset:
    """One asset id as the records tell it."""

    def __init__(self, aid, name, type_, thread, frame):
        self.id, self.name, self.type = aid, name, type_
        self.thread = thread          # capture thread that started the load
        self.load_frame = frame       # 1-based frame of the asset_new record
        self.states = ["loading"]     # every state entered, in order
        self.state_frames = [frame]
        self.refs = []                # (op, count after) for ref/release
        self.touch_frames = []        # 1-based frames of touch records
        self.extra_bytes = None       # last asset_extra total
        self.tally = new_tally()      # blocks allocated under it (all sizes)
        self.threads = collections.Counter()  # capture thread -> blocks allocated


class Model:
    """A capture's assets, tags, scenes and validations from its records.

    Frames are numbered as gmtrace numbers them: events before the first main
    frame record are in frame 1. Allocations belong to the (asset, tag)
    of the last `context` record on their thread; a free (or the free half of
    a realloc) is counted against the block's owner whatever thread frees it.
    Attributes: assets (id -> Asset), assets_named (name -> [Asset, ...] in
    load order), tags (id -> name), tag_own (tag name -> tally; "" for no
    tag), untagged_rule / no_asset_rule (the size-rule view of the blocks
    outside every tag / asset), scenes [(name, frame, index of the event)],
    validations [dict: code, id, detail, thread, frame], frame_tag_live
    (per main frame end: {tag name: live bytes}), asset_live (bytes live in
    all assets now, i.e. at the end), heap_live (bytes of every live block),
    scene_bytes (per scene, in order: {name, frame, before, peak, after}:
    asset bytes live when it began, the most until the next scene began or
    the capture ended, and then; heap_before, heap_peak, heap_after: the
    same for every live block, the runtime's too),
    threads (capture thread -> os tid), events (the raw list).
    """

    def __init__(self, capture):
        self.events = dump_events(capture)
        self.assets = {}
        self.assets_named = collections.defaultdict(list)
        self.tags = {0: ""}
        self.tag_own = collections.defaultdict(new_tally)
        self.untagged_rule = new_tally()
        self.no_asset_rule = new_tally()
        self.scenes = []
        self.validations = []
        self.frame_tag_live = []
        self.threads = {}
        self.unknown_context = []
        self.asset_live = 0
        self.heap_live = 0
        self.scene_bytes = []
        frame = 1
        context = collections.defaultdict(lambda: (0, 0))  # thread -> (asset, tag)
        live = {}  # ptr -> (size, asset id, tag id)

        def alloc(ev, ptr, size):
            aid, tid = context[ev["thread"]]
            if ptr in live:  # its free was not recorded
                free(ptr)
            live[ptr] = (size, aid, tid)
            self.heap_live += size
            if self.scene_bytes:
                self.scene_bytes[-1]["heap_peak"] = max(self.scene_bytes[-1]["heap_peak"],
                                                        self.heap_live)
            if aid:
                a = self.assets.get(aid)
                if a is None:
                    self.unknown_context.append(ev)
                else:
                    tally_alloc(a.tally, size)
                    a.threads[ev["thread"]] += 1
                    self.asset_live += size
                    if self.scene_bytes:
                        s = self.scene_bytes[-1]
                        s["peak"] = max(s["peak"], self.asset_live)
            tally_alloc(self.tag_own[self.tags.get(tid, f"?{tid}")], size)
            if size_ok(size):
                if not tid:
                    tally_alloc(self.untagged_rule, size)
                if not aid:
                    tally_alloc(self.no_asset_rule, size)

        def free(ptr):
            if ptr not in live:
                return
            size, aid, tid = live.pop(ptr)
            self.heap_live -= size
            if aid in self.assets:
                tally_free(self.assets[aid].tally, size)
                self.asset_live -= size
            tally_free(self.tag_own[self.tags.get(tid, f"?{tid}")], size)
            if size_ok(size):
                if not tid:
                    tally_free(self.untagged_rule, size)
                if not aid:
                    tally_free(self.no_asset_rule, size)

        for i, ev in enumerate(self.events):
            typ = ev["type"]
            if typ == "alloc":
                alloc(ev, as_int(ev["ptr"]), ev["size"])
            elif typ == "free":
                free(as_int(ev["ptr"]))
            elif typ == "realloc":
                free(as_int(ev["old_ptr"]))
                if as_int(ev["ptr"]):
                    alloc(ev, as_int(ev["ptr"]), ev["size"])
            elif typ == "thread_start":
                self.threads[ev["thread"]] = ev["os_tid"]
            elif typ == "frame":
                if ev["set"] == 0:
                    frame += 1
                    self.frame_tag_live.append(
                        {name: t["live_bytes"] for name, t in self.tag_own.items()})
            elif typ == "tag_def":
                self.tags[as_int(field(ev, "tag", "id"))] = field(ev, "name")
            elif typ == "context":
                context[ev["thread"]] = (as_int(field(ev, "asset")), as_int(field(ev, "tag")))
            elif typ == "asset_new":
                aid = as_int(field(ev, "asset", "id"))
                a = Asset(aid, field(ev, "name"), field(ev, "asset_type", "type_name", "kind"),
                          ev["thread"], frame)
                self.assets[aid] = a
                self.assets_named[a.name].append(a)
            elif typ == "asset_state":
                a = self.assets[as_int(field(ev, "asset", "id"))]
                st = field(ev, "state")
                a.states.append(STATE_NAMES.get(st, st))
                a.state_frames.append(frame)
            elif typ == "asset_ref":
                a = self.assets[as_int(field(ev, "asset", "id"))]
                op = field(ev, "op")
                op = OP_NAMES.get(op, op)
                if op == "touch":
                    a.touch_frames.append(frame)
                else:
                    a.refs.append((op, field(ev, "refs", "count")))
            elif typ == "asset_extra":
                a = self.assets[as_int(field(ev, "asset", "id"))]
                a.extra_bytes = field(ev, "bytes")
            elif typ == "scene":
                self.scenes.append((field(ev, "name"), frame, i))
                self._close_scene()
                self.scene_bytes.append({"name": field(ev, "name"), "frame": frame,
                                         "before": self.asset_live, "peak": self.asset_live,
                                         "after": None, "heap_before": self.heap_live,
                                         "heap_peak": self.heap_live, "heap_after": None})
            elif typ == "validation":
                code = field(ev, "code", "what")
                self.validations.append({
                    "code": VALID_NAMES.get(code, code),
                    "id": as_int(field(ev, "id", "asset")),
                    "detail": field(ev, "detail"),
                    "thread": ev["thread"], "frame": frame})
        self.frames = frame - 1
        self.live_at_exit = live
        self._close_scene()

    def _close_scene(self):
        if self.scene_bytes:
            self.scene_bytes[-1]["after"] = self.asset_live
            self.scene_bytes[-1]["heap_after"] = self.heap_live

    def asset(self, name):
        """The one asset id loaded under name."""
        found = self.assets_named.get(name, [])
        assert len(found) == 1, f"asset {name!r}: {len(found)} ids in the capture"
        return found[0]

    def tag_rollup(self, name):
        """The live and allocated bytes of a tag and every tag below it by
        name (peaks do not add up, so the roll-up peak is not derivable from
        the own tallies; tests take it from the fixture)."""
        out = dict.fromkeys(("allocations", "frees", "allocated_bytes", "freed_bytes",
                             "live_count", "live_bytes"), 0)
        for tag, t in self.tag_own.items():
            if tag == name or tag.startswith(name + "/"):
                for k in out:
                    out[k] += t[k]
        return out


def without(d, *keys):
    """d without keys (for comparing tallies minus what cannot be derived)."""
    return {k: v for k, v in d.items() if k not in keys}
