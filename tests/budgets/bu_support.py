"""bu_support.py - what the budget tests share

Paths into the build tree; running a budget fixture with libgmtrace preloaded
in the child's environment only (the test runner is never preloaded);
running `gmtrace`; reading `gmtrace dump --json` (keeping a repeated key
instead of losing it); and `Budgets`, an independent reading of the budget
records of a capture that replays the assets (state, references, touches,
bytes) so that every `budget_evict` record can be checked against the victim
its node's policy should have chosen at that moment.

The build tree comes from GM_BUILD_DIR (set by ctest), else <source>/build.
"""
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
FIXTURES = BUILD_DIR / "tests" / "budgets"

MIB = 1 << 20
POLICIES = {0: "lru", 1: "lfu", 2: "largest", 3: "priority"}


# ---- running ----------------------------------------------------------------


def fixture(name):
    """Path of the built fixture bu_<name>; fails the test when it is missing."""
    p = FIXTURES / f"bu_{name}"
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
    capture (the .gmt path, or None without the preload), seconds."""

    def __init__(self, rc, out, err, line, capture, seconds):
        self.rc, self.stdout, self.stderr = rc, out, err
        self.line, self.capture, self.seconds = line, capture, seconds


def run(name, outdir, args=(), env=None, preload=True, timeout=40, expect_rc=0):
    """Runs bu_<name> ARGS in outdir, with libgmtrace preloaded in its
    environment only (plus env), checks its exit status and returns a Run.
    A hang past timeout (a deadlock in an evictor, say) kills the fixture,
    and only it, and fails the test."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    child = clean_env(env)
    if preload:
        child.update({"LD_PRELOAD": str(LIB), "GMTRACE_OUTPUT": str(outdir / "%p.gmt"),
                      "GMTRACE_QUIET": "1"})
    argv = [str(fixture(name))] + [str(a) for a in args]
    out_path, err_path = outdir / f"bu_{name}.out", outdir / f"bu_{name}.err"
    start = time.monotonic()
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        p = subprocess.Popen(argv, env=child, cwd=str(outdir), stdout=out, stderr=err)
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            pytest.fail(f"bu_{name} {' '.join(argv[1:])}: still running after {timeout} s "
                        f"(deadlock?): killed")
    seconds = time.monotonic() - start
    out, err = out_path.read_bytes(), err_path.read_bytes()
    assert p.returncode == expect_rc, (
        f"bu_{name} {' '.join(argv[1:])}: exit status {p.returncode}, expected {expect_rc}; "
        f"stderr {err.decode('utf-8', 'replace')!r}")
    line = fixture_line(out)
    capture = None
    if preload:
        caps = sorted(outdir.glob("*.gmt"))
        assert len(caps) == 1, f"bu_{name}: expected one capture, got {caps}"
        capture = caps[0]
    return Run(p.returncode, out, err, line, capture, seconds)


def gmtrace(*args, timeout=60):
    """Runs the gmtrace CLI (never preloaded); CompletedProcess, text output."""
    return subprocess.run([str(GMTRACE)] + [str(a) for a in args], env=clean_env(),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=timeout)


def gmtrace_json(*args, expect_rc=0, timeout=60):
    """`gmtrace ARGS` that prints one JSON object; checks the exit status and
    returns the object."""
    r = gmtrace(*args, timeout=timeout)
    cmd = " ".join(map(str, args))
    assert r.returncode >= 0, f"gmtrace {cmd}: signal {-r.returncode}"
    assert r.returncode == expect_rc, \
        f"gmtrace {cmd}: exit status {r.returncode}, expected {expect_rc}: {r.stderr.strip()}"
    try:
        return json.loads(r.stdout)
    except ValueError as e:
        pytest.fail(f"gmtrace {cmd}: not JSON ({e}): {r.stdout[:500]!r}")


def verdicts_ok(line):
    """Asserts a fixture's own checks all passed (and that it made some)."""
    assert line["checks"] > 0, f"{line['fixture']}: made no checks"
    assert line["nfailed"] == 0, f"{line['fixture']}: {line['nfailed']} checks failed: " \
                                 f"{line['failed']}"


# ---- the records --------------------------------------------------------------


def _pairs(pairs):
    """JSON object hook: a key seen twice keeps both values (the second as
    "<key>#2") and the object lists its repeated keys under "#dup"."""
    out, dup = {}, []
    for k, v in pairs:
        if k in out:
            dup.append(k)
            k = f"{k}#2"
        out[k] = v
    if dup:
        out["#dup"] = dup
    return out


def dump_events(capture, timeout=120):
    """Every event of `gmtrace dump --json CAPTURE`, in the dump's order."""
    r = subprocess.run([str(GMTRACE), "dump", "--json", str(capture)], env=clean_env(),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    assert r.returncode == 0, f"gmtrace dump {capture}: rc {r.returncode}: {r.stderr!r}"
    return [json.loads(s, object_pairs_hook=_pairs) for s in r.stdout.splitlines()]


class Asset:
    """One asset as the records tell it."""

    def __init__(self, aid, name, type_):
        self.id, self.name, self.type = aid, name, type_
        self.state = "loading"
        self.refs = 0
        self.last_touch = None  # gmtrace frame of the last touch record
        self.touches = 0
        self.bytes = 0          # allocated under it (its scopes)


class Budgets:
    """The budget side of a capture, from its records in order.

    nodes: id -> last budget_node record; names: name -> id; frames: node id
    -> [budget_frame records]; violations, evictions: the records, in order;
    validations: validation records (code names); assets: id -> Asset as of
    the end; choices: for each budget_evict record, the victim its node's
    policy should have picked (None when none was evictable), computed from
    the assets as they were when the victim's unload began (or at the record
    when the evictor unloaded nothing). pinned and priority are not in the
    records: pass them (asset id -> value) from the fixture."""

    def __init__(self, capture, events=None, priority=None, pinned=(), node_of=None):
        self.events = events if events is not None else dump_events(capture)
        self.nodes, self.names, self.frames = {}, {}, {}
        self.violations, self.evictions, self.validations = [], [], []
        self.assets, self.choices = {}, []
        self.priority = priority or {}
        self.pinned = set(pinned)
        self.node_of = node_of or {}   # asset type -> node id (the bindings)
        self.frame_records = 0
        context = {}                    # thread -> current asset id
        pending = {}                    # asset -> choice state frozen at its unload
        for ev in self.events:
            typ = ev["type"]
            if typ == "budget_node":
                self.nodes[ev["node"]] = ev
                self.names[ev["name"]] = ev["node"]
            elif typ == "budget_frame":
                self.frames.setdefault(ev["node"], []).append(ev)
            elif typ == "budget_violation":
                self.violations.append(ev)
            elif typ == "budget_evict":
                frozen = pending.pop(ev["asset"], None)
                if frozen is None:
                    frozen = self._freeze()
                self.evictions.append(ev)
                self.choices.append(self._choose(frozen, ev["node"]))
            elif typ == "validation":
                self.validations.append(ev)
            elif typ == "frame" and ev.get("set", 0) == 0:
                self.frame_records += 1
            elif typ == "asset_new":
                self.assets[ev["asset"]] = Asset(ev["asset"], ev["name"], ev["asset_type"])
            elif typ == "asset_state":
                a = self.assets.get(ev["asset"])
                if a is not None:
                    if ev["state"] == "unloading":
                        pending[a.id] = self._freeze()
                    a.state = ev["state"]
            elif typ == "asset_ref":
                a = self.assets.get(ev["asset"])
                if a is None:
                    continue
                if ev["op"] == "touch":
                    a.last_touch = ev["touch_frame"]
                    a.touches += 1
                else:
                    a.refs = ev["refs"]
            elif typ == "context":
                context[ev["thread"]] = ev["asset"]
            elif typ == "alloc":
                aid = context.get(ev["thread"], 0)
                if aid in self.assets:
                    self.assets[aid].bytes += ev["size"]

    def node_id(self, name):
        assert name in self.names, f"no budget_node record names {name!r}: {self.names}"
        return self.names[name]

    def name_of(self, node):
        return self.nodes[node]["name"] if node in self.nodes else f"?{node}"

    def subtree(self, root):
        """Ids of root and every node below it."""
        out, grew = {root}, True
        while grew:
            grew = False
            for nid, n in self.nodes.items():
                if nid not in out and n["parent"] in out:
                    out.add(nid)
                    grew = True
        return out

    def _freeze(self):
        return [(a.id, self.node_of.get(a.type, 0), a.state, a.refs, a.last_touch,
                 a.touches, a.bytes) for a in self.assets.values()]

    def _choose(self, frozen, root):
        """The policy's victim under root (gmtrace.h): resident, no reference,
        not pinned; LRU oldest touch (never touched first), LFU fewest touches,
        LARGEST most bytes, PRIORITY lowest priority; lowest id on ties."""
        if root not in self.nodes:
            return None
        policy = POLICIES.get(self.nodes[root]["policy"])
        under = self.subtree(root)
        best = None
        for aid, node, state, refs, last, touches, nbytes in frozen:
            if state != "resident" or refs > 0 or aid in self.pinned or node not in under:
                continue
            if policy == "lfu":
                key = touches
            elif policy == "largest":
                key = -nbytes
            elif policy == "priority":
                key = self.priority.get(aid, 0)
            else:
                key = -1 if last is None else last
            if best is None or (key, aid) < best:
                best = (key, aid)
        return None if best is None else best[1]

    def frame_live(self, node):
        """live_bytes of node's budget_frame records, in frame order."""
        return [f["live_bytes"] for f in self.frames.get(node, [])]


# ---- bu_tree's tree and what it must do (bu_tree.c's opening comment) ----------


def size_text(n):
    """A size as a budget file writes it: whole MiB or KiB when it can."""
    if n % MIB == 0:
        return f"{n // MIB}M"
    if n % 1024 == 0:
        return f"{n // 1024}K"
    return str(n)

# (name, parent, soft, target, hard, policy, types, tags); sizes in MiB
TREE = [
    ("total", None, 0, 0, 108, "largest", [], []),
    ("assets", "total", 80, 64, 96, "lru", [], []),
    ("textures", "assets", 0, 0, 144, "lru", ["texture"], []),
    ("audio", "assets", 0, 0, 40, "priority", ["sound"], []),
    ("gameplay", "total", 0, 0, 22, "lfu", [], ["gameplay"]),
    ("particles", "gameplay", 10, 6, 20, "lru", ["particles"], ["gameplay/particles"]),
]

# every eviction, in order: (asset, node whose limit it was, event, frame)
TREE_EVICTIONS = [
    ("T1", "assets", "over_hard", 10),
    ("T2", "assets", "over_soft", 10), ("T3", "assets", "over_soft", 10),
    ("A", "assets", "over_soft", 10), ("T4", "assets", "over_soft", 10),
    ("S5", "audio", "over_hard", 11), ("S10", "audio", "over_hard", 11),
    ("S15", "audio", "over_hard", 11), ("S20", "audio", "over_hard", 11),
    ("E2", "gameplay", "over_hard", 16),
    ("E3", "particles", "over_soft", 16), ("E4", "particles", "over_soft", 16),
    ("E1", "particles", "over_soft", 16),
    ("T5", "total", "over_hard", 18), ("T6", "total", "over_hard", 18),
    ("E6", "gameplay", "over_hard", 18),
]

# live bytes of each node at the end (MiB)
TREE_END = {"total": 101, "assets": 80, "textures": 80, "audio": 0, "gameplay": 21,
            "particles": 4}

# the frame-end over_soft violations: (node, frame, live MiB, soft MiB)
TREE_SOFT = [("assets", 10, 90, 80), ("particles", 16, 12, 10)]


def tree_yaml(path, mode=None):
    """Writes bu_tree's tree as a budget file (budgetfile.h's format)."""
    out = []
    if mode:
        out.append(f"mode: {mode}")
    out.append("nodes:")
    for name, parent, soft, target, hard, policy, types, tags in TREE:
        out.append(f"  - name: {name}")
        if parent:
            out.append(f"    parent: {parent}")
        if soft:
            out.append(f"    soft: {size_text(soft * MIB)}")
        if target:
            out.append(f"    target: {size_text(target * MIB)}")
        out.append(f"    hard: {size_text(hard * MIB)}")
        out.append(f"    policy: {policy}")
        if types:
            out.append(f"    types: [{', '.join(types)}]")
        if tags:
            out.append(f"    tags: [{', '.join(tags)}]")
    Path(path).write_text("\n".join(out) + "\n")
    return Path(path)


def tree_checks(r, b):
    """What every bu_tree run with budgets must show, from the fixture's
    line and the records (b: Budgets of its capture)."""
    line = r.line
    verdicts_ok(line)
    assert line["budgets"] == 1 and line["frames"] == 18
    names = {a["id"]: a["name"] for a in line["assets"]}
    ids = {a["name"]: a["id"] for a in line["assets"]}
    got = [(e["name"], e["node"], e["event"], e["frame"]) for e in line["evictions"]]
    assert got == TREE_EVICTIONS, "the fixture's evictor calls"
    assert [e["expected"] for e in line["evictions"]] == [e["asset"] for e in line["evictions"]]
    # the records: same victims, nodes and events, in the same order
    recs = [(names.get(e["asset"], e["asset"]), b.name_of(e["node"]), e["event"])
            for e in b.evictions]
    assert recs == [g[:3] for g in TREE_EVICTIONS], "budget_evict records"
    for e in b.evictions:
        assert e["reclaimed_bytes"] == b.assets[e["asset"]].bytes == e["asset_bytes"], e
    # every victim was its node's policy choice at that moment (from the records)
    assert b.choices == [e["asset"] for e in b.evictions]
    # particles go to their type's evictor, the rest to total's
    for e in line["evictions"]:
        want = "type" if e["name"].startswith("E") else "node"
        assert e["evictor"] == want, e
    # violations: the two frame-end ones only
    soft = [(b.name_of(v["node"]), v["live_bytes"], v["limit"]) for v in b.violations]
    assert soft == [(n, live * MIB, lim * MIB) for n, _, live, lim in TREE_SOFT]
    assert all(v["event"] == "over_soft" for v in b.violations)
    assert [(s["node"], s["frame"], s["live"]) for s in line["soft_violations"]] == \
        [(n, f, live * MIB) for n, f, live, _ in TREE_SOFT]
    # nodes: definitions, live bytes at each frame end and at the end
    nodes = {n["name"]: n for n in line["nodes"]}
    for name, parent, soft_mib, target, hard, policy, _, _ in TREE:
        rec = b.nodes[b.node_id(name)]
        assert rec["parent"] == (b.node_id(parent) if parent else 0), name
        assert (rec["soft"], rec["hard"], rec["target"]) == \
            (soft_mib * MIB, hard * MIB, (target or soft_mib) * MIB), name
        assert POLICIES[rec["policy"]] == policy, name
        assert rec["heap_capacity"] >= hard * MIB, name
        n = nodes[name]
        assert n["live"] == n["model"] == TREE_END[name] * MIB, name
        assert b.frame_live(rec["node"]) == n["frame_live"], f"{name}: budget_frame live bytes"
        assert len(n["frame_live"]) == 18, name
    assert set(ids) >= {name for name, _, _, _ in TREE_EVICTIONS}
    return nodes
