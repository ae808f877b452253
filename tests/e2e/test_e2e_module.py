"""test_e2e_module.py - interpose/python/gmtrace.py with and without gmtrace

Without the preload every call must work and do nothing, returning neutral
values (calls_game.py in a child without LD_PRELOAD, and the module
imported right here: the test runner is never preloaded). With the preload
every call must return what the library said and leave its records in the
capture. Also: the module's syntax is Python 3.8's, Python evictors are
guarded against reentry and their exceptions stay inside the callback.
"""
import ast
import collections
import gc
import sys
import threading
import time

import pytest

from e2e_support import MODULE_DIR, dump, gmtrace_json, run_script, script

sys.path.insert(0, str(MODULE_DIR))
import gmtrace  # noqa: E402  (not preloaded here: the no-op module)

NEUTRAL = {
    "available": False, "enabled": False, "level_frames": False, "level_events": False,
    "level_bogus": False, "tag_id": 0, "decorated": 3, "decorated_name": "decorated",
    "asset_id": 0, "asset_bool": False, "raised": "decode error", "failed_id": 0,
    "pool_id": 0, "pool_id_after_destroy": 0, "budget_id": 0, "budget_bool": False,
    "budget_found": None, "budget_missing": None, "bind_tag": False, "bind_type": False,
    "policy": False, "policy_bogus": False, "policy_upper": False, "evictor": False, "evictor_type": False,
    "evictor_removed": False, "node_snapshot": None, "snapshot_nodes": [],
    "snapshot_assets": {}, "snapshot_hero": [], "unloaded_again": None,
    "spike_callback": False, "spike_removed": False, "self_allocations": 0,
    "footprint_bytes": 0, "evicted": [], "again_id": 0,
    "violation_callback": False, "violation_removed": False, "violations": [],
}


def test_module_is_python_3_8_syntax():
    src = (MODULE_DIR / "gmtrace.py").read_text()
    ast.parse(src, filename="gmtrace.py", feature_version=(3, 8))


def test_without_preload_every_call_is_neutral(tmp_path):
    run = run_script(script("calls_game.py"), [], tmp_path, preload=False)
    assert run.line == NEUTRAL
    assert run.stderr == "", run.stderr
    assert list(tmp_path.glob("*.gmt")) == []


def test_without_preload_in_process():
    assert not gmtrace.available() and not gmtrace.enabled()
    assert gmtrace._on_gc not in gc.callbacks  # nothing installed
    f = lambda: 1  # noqa: E731
    assert gmtrace.tag("x")(f) is f  # the decorator hands the function back
    with gmtrace.tag("x") as t:
        assert t.id == 0
    with gmtrace.asset("a", "texture") as a:
        pass
    assert a.id == 0 and not a
    for call in (a.ref, a.release, a.touch, a.unload, lambda: a.extra_bytes(1),
                 lambda: a.priority(1), lambda: a.pin(True)):
        assert call() is None
    with a.unloading(), gmtrace.attach(a), gmtrace.attach(12345):
        pass
    with pytest.raises(KeyError):
        with gmtrace.asset("b", "texture"):
            raise KeyError("not swallowed")
    assert gmtrace.snapshot() == {"nodes": [], "assets": []}
    assert gmtrace.Budget.define("n", None, 1, 2).snapshot() is None
    assert gmtrace.Pool("p", 8, 8).id == 0
    assert [gmtrace.frame(), gmtrace.frame_set("x"), gmtrace.tick(), gmtrace.scene("s"),
            gmtrace.gc_record(0, 1, 2, 3)] == [None] * 5
    assert gmtrace.self_allocations() == 0 and gmtrace.footprint_bytes() == 0


def test_evictor_wrapper_returns_at_once_when_reentered():
    calls = []
    holder = {}

    def evict(asset_id):
        calls.append(asset_id)
        holder["cb"](asset_id + 1, None)  # the same evictor, on the same thread

    holder["cb"] = gmtrace._evict_callback(evict)
    holder["cb"](7, None)  # through C (libffi) and back, as libgmtrace calls it
    assert calls == [7]
    holder["cb"](8, None)  # the guard is released afterwards
    assert calls == [7, 8]


def test_evictor_exception_stays_in_the_callback(capfd):
    def evict(asset_id):
        raise RuntimeError("evictor broke on %d" % asset_id)

    cb = gmtrace._evict_callback(evict)
    cb(3, None)  # must not raise
    err = capfd.readouterr().err
    assert "evictor broke on 3" in err and "gmtrace: [" in err, err
    # a frame end calls a broken evictor once per victim: three tracebacks,
    # then one line, then nothing
    for k in range(4, 10):
        cb(k, None)
    err = capfd.readouterr().err
    assert [k for k in range(4, 10) if "evictor broke on %d" % k in err] == [4, 5], err
    assert err.count("further exceptions from it are not shown") == 1, err


class _Writes:
    """A stderr that keeps each write() apart and counts writes that began
    while another was still going on (each one lasts a few milliseconds)."""

    def __init__(self):
        self.texts, self.inside, self.overlaps = [], 0, 0
        self.lock = threading.Lock()

    def write(self, text):
        with self.lock:
            self.inside += 1
            self.overlaps += self.inside > 1
        time.sleep(0.002)
        with self.lock:
            self.inside -= 1
            self.texts.append(text)
        return len(text)

    def flush(self):
        pass


def test_evictor_reports_from_several_threads_do_not_interleave(monkeypatch):
    # four loader threads whose evictors raise at the same moment, five
    # times each: every report (header and traceback, or the "not shown"
    # line) is one write, and no write starts while another is going on
    err = _Writes()
    monkeypatch.setattr(sys, "stderr", err)
    start = threading.Barrier(4)

    def loader(k):
        def evict(asset_id):
            raise RuntimeError("evictor %d broke on %d" % (k, asset_id))
        cb = gmtrace._evict_callback(evict)
        start.wait()
        for asset_id in range(5):
            cb(asset_id, None)

    threads = [threading.Thread(target=loader, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert err.overlaps == 0, err.texts
    assert len(err.texts) == 4 * 4, err.texts  # 3 tracebacks and 1 line per evictor
    for k in range(4):
        reports = sorted(t for t in err.texts if "RuntimeError: evictor %d broke" % k in t)
        assert len(reports) == 3, (k, err.texts)
        for asset_id, text in enumerate(reports):
            lines = text.splitlines()
            assert lines[0].startswith("gmtrace: [") and lines[0].endswith("raised; ignored:")
            assert lines[1] == "Traceback (most recent call last):", text
            assert lines[-1] == "RuntimeError: evictor %d broke on %d" % (k, asset_id), text
    said = [t for t in err.texts if t.endswith("further exceptions from it are not shown\n")]
    assert len(said) == 4 and all(t.count("\n") == 1 for t in said), err.texts


def test_evictor_sys_exit_and_ctrl_c_are_said_in_one_line(capfd):
    def leave(asset_id):
        sys.exit(3)

    def interrupted(asset_id):
        raise KeyboardInterrupt

    gmtrace._evict_callback(leave)(1, None)  # must not raise, nor end the test
    gmtrace._evict_callback(interrupted)(1, None)
    err = capfd.readouterr().err.splitlines()
    assert len(err) == 2, err
    assert "called sys.exit(3)" in err[0] and "cannot end the game" in err[0], err
    assert "Ctrl-C came while evictor" in err[1] and "press it again" in err[1], err


@pytest.fixture(scope="module")
def preloaded(tmp_path_factory):
    return run_script(script("calls_game.py"), [], tmp_path_factory.mktemp("calls"))


def test_with_preload_every_call_answers(preloaded):
    got = preloaded.line
    assert got["available"] and got["enabled"]
    assert got["level_frames"] and got["level_events"] and not got["level_bogus"]
    assert got["tag_id"] > 0 and got["decorated"] == 3 and got["decorated_name"] == "decorated"
    assert got["asset_id"] > 0 and got["asset_bool"] and got["failed_id"] > got["asset_id"]
    assert got["again_id"] == got["asset_id"]
    assert got["raised"] == "decode error"
    assert got["pool_id"] > 0 and got["pool_id_after_destroy"] == 0
    assert got["budget_id"] > 0 and got["budget_found"] == got["budget_id"]
    assert got["budget_missing"] is None
    for k in ("bind_tag", "bind_type", "policy", "policy_upper", "evictor", "evictor_type",
              "evictor_removed", "spike_callback", "spike_removed", "violation_callback",
              "violation_removed"):
        assert got[k] is True, k
    assert got["policy_bogus"] is False
    node = got["node_snapshot"]
    assert node["name"] == "calls" and node["soft_limit"] == 1 << 30
    assert node["hard_limit"] == 1 << 31
    assert got["snapshot_nodes"] == ["calls"]
    assert got["snapshot_assets"] == {str(got["asset_id"]): "resident",
                                      str(got["failed_id"]): "failed",
                                      str(got["failed_id"] + 1): "resident"}
    hero = got["snapshot_hero"][0]
    assert hero["bytes"] >= 64 * 64 * 4 + 4096 and hero["priority"] == 5, hero
    assert hero["refs"] == 0 and hero["last_touch_frame"] == 0, hero
    assert got["self_allocations"] >= 0 and got["footprint_bytes"] > 0
    # The first crossing: the second 700 KiB buffer (bytearray asks for one
    # byte more, its NUL) on top of the first (jemalloc's 768 KiB class).
    v = got["violations"][0]
    assert (v["event"], v["name"], v["limit_bytes"], v["size"], v["failed"]) == (
        "over_hard", "calls/small", 1 << 20, (700 << 10) + 1, False), v
    assert 700 << 10 <= v["live_bytes"] <= 1 << 20 < v["live_bytes"] + v["size"], v
    # policy("bogus"), said once
    lines = preloaded.stderr.splitlines()
    assert len(lines) == 1 and lines[0].endswith(
        "] Budget.policy policy: expected \"lru\", \"lfu\", \"largest\" or \"priority\" (any "
        "case) or an EVICT_* value, got 'bogus'; the node keeps its policy (further such "
        "calls are not reported)"), lines


def test_with_preload_the_capture_has_every_record(preloaded):
    got = preloaded.line
    types = ("tag_def", "context", "asset_new", "asset_state", "asset_ref", "asset_extra",
             "scene", "pool_def", "pool_resize", "pool_destroy", "pool_frame", "frame",
             "frame_set", "tick", "level", "gc", "budget_node", "validation")
    evs = dump(preloaded.capture, types)
    by = collections.defaultdict(list)
    for e in evs:
        by[e["type"]].append(e)
    tags = {e["name"]: e["tag"] for e in by["tag_def"]}
    assert set(tags) == {"calls/decorated", "calls/tagged", "calls/bytes",
                         "calls/small"}, tags
    assert tags["calls/tagged"] == got["tag_id"]
    pushed = {e["tag"] for e in by["context"] if e["tag"]}
    assert pushed == set(tags.values()), pushed
    names = {e["asset"]: (e["name"], e["asset_type"]) for e in by["asset_new"]}
    hero, broken = got["asset_id"], got["failed_id"]
    level = broken + 1
    assert names[hero] == ("calls/hero.png", "texture") and names[level][1] == "level"
    states = collections.defaultdict(list)
    for e in by["asset_state"]:
        states[e["asset"]].append(e["state"])
    assert states[hero] == ["resident", "unloading", "unloaded"], states
    assert states[broken] == ["failed"], states
    assert states[level] == ["resident"], states
    assert [e["op"] for e in by["asset_ref"] if e["asset"] == hero] == ["ref", "touch", "release"]
    assert [(e["asset"], e["bytes"]) for e in by["asset_extra"]] == [(hero, 4096)]
    worker = [e for e in by["context"] if e["thread"] != 0]
    assert [e["asset"] for e in worker] == [level, 0, level, 0], worker
    assert [e["name"] for e in by["scene"]] == ["calls"]
    pool = by["pool_def"][0]
    assert (pool["name"], pool["object_size"], pool["capacity"]) == ("calls/bullets", 48, 16)
    assert [e["capacity"] for e in by["pool_resize"]] == [32]
    assert len(by["pool_destroy"]) == 1
    pf = by["pool_frame"][0]
    assert (pf["acquires"], pf["served"], pf["releases"], pf["returned"]) == (4, 3, 2, 1), pf
    assert [(e["set"], e["name"]) for e in by["frame_set"]] == [(1, "physics")]
    assert [e["frame"] for e in by["frame"] if e["set"] == 1] == [1, 2]
    assert [e["frame"] for e in by["frame"] if e["set"] == 0] == [1, 2]
    assert len(by["tick"]) == 3
    assert [e["level"] for e in by["level"]] == ["events", "frames", "events"]
    # gc_record's run (automatic collections may come too)
    assert [(e["generation"], e["collected"], e["uncollectable"])
            for e in by["gc"] if e["duration_ns"] == 1234] == [(0, 5, 0)]
    calls = [e for e in by["budget_node"] if e["name"] == "calls"]
    assert calls and calls[-1]["policy"] == 3, by["budget_node"]
    small = [e for e in by["budget_node"] if e["name"] == "calls/small"]
    assert small and small[-1]["hard"] == 1 << 20, small
    # the two deliberate misuses, and nothing else
    # an unknown policy is a bad_policy (the node exists), the second unload a double_unload
    assert sorted(e["code"] for e in by["validation"]) == ["bad_policy", "double_unload"]


MISUSES = {
    # the call: its stderr line's subject under the preload, and its result
    "asset_id_none": ("Asset(id=)", 0), "asset_id_negative": ("Asset(id=)", 0),
    "attach_text": ("attach", 0), "gc_none": ("gc_record generation", None),
    "policy_none": ("Budget.policy policy", False), "tag_list": ("tag", 0), "tag_nul": ("tag", 0),
    "extra_none": ("Asset.extra_bytes", None), "extra_negative": ("Asset.extra_bytes", None),
    "priority_text": ("Asset.priority", None), "priority_huge": ("Asset.priority", None),
    "pool_none": ("Pool object_size", 0), "pool_negative": ("Pool object_size", 0),
    "define_text": ("Budget.define soft", 0), "define_soft_over_hard": ("Budget.define soft", 0),
    "define_no_parent": ("Budget.define parent", 0), "level_huge": ("level", False),
    "level_bool": ("level", False), "pool_huge": ("Pool object_size", 0),
    "evictor_type_list": ("Budget.evictor_type asset_type", False),
    "spike_not_callable": ("spike_callback fn", False),
    "violation_not_callable": ("budget_violation_callback fn", False),
    "asset_nul": ("asset", 0), "pool_nul": ("Pool", 0), "scene_nul": ("scene", None),
    "define_nul": ("Budget.define", 0),
    "scene_no_str": ("a name", None), "find_no_str": ("a name", None),
    "tag_decorates_5": ("tag decorator", 5),
    "find_nul": ("Budget.find", None), "attach_ambiguous": ("attach", 0),
    "pin_ambiguous": ("Asset.pin", None), "acquire_ambiguous": ("Pool.acquire from_pool", None),
    "release_ambiguous": ("Pool.release to_pool", None),
    "strict_ambiguous": ("Budget.policy strict", None),
    "snapshot_ambiguous": ("snapshot assets", "dict"),
}


@pytest.mark.parametrize("preload", (False, True), ids=("plain", "preloaded"))
def test_bad_arguments_never_raise(tmp_path, preload):
    """The same calls with bad arguments raise nothing with or without
    gmtrace and give the same neutral results; under gmtrace each kind is
    one line on stderr, once, and nothing absurd reaches the capture."""
    run = run_script(script("misuse_game.py"), [], tmp_path, preload=preload)
    assert run.line["raised"] == [], run.line["raised"]
    assert run.line["results"] == {k: v for k, (_, v) in MISUSES.items()}
    if not preload:
        assert run.stderr == "", run.stderr
        return
    lines = run.stderr.splitlines()
    # Pool("misuse/neg", -1, -1): its capacity is a kind of its own
    subjects = sorted({w for w, _ in MISUSES.values() if w} | {"Pool capacity"})
    for subject in subjects:
        said = [x for x in lines if f"] {subject}: expected " in x]
        assert len(said) == 1, (subject, lines)
    assert len(lines) == len(subjects), lines
    pools = dump(run.capture, {"pool_def"})
    assert [(p["object_size"], p["capacity"]) for p in pools] == [(8, 8)], pools  # misuse/ok
    # the ambiguous flags took their defaults: from the pool, to the pool
    frames = dump(run.capture, {"pool_frame"})
    assert [(f["acquires"], f["served"], f["releases"]) for f in frames] == [(2, 2, 2)], frames
    # only the call with an integer of another type (__index__) went through
    extra = dump(run.capture, {"asset_extra"})
    assert [e["bytes"] for e in extra] == [4096], extra


GEN_GAME = """\
import json, sys
sys.path.insert(0, %r)
import gmtrace

@gmtrace.tag("gen/body")
def chunks():
    for i in range(3):
        yield bytearray(300000 + 4096 * i)  # allocated at next(), not at the call

got = [len(c) for c in chunks()]
print(json.dumps({"chunks": got}), flush=True)
"""


def test_a_tagged_generator_tags_its_body(tmp_path):
    """@gmtrace.tag on a generator function: what the body allocates at
    each next() is under the tag (it was pushed and popped at the call,
    before the body ran)."""
    game = tmp_path / "gen_game.py"
    game.write_text(GEN_GAME % str(MODULE_DIR))
    run = run_script(game, [], tmp_path / "run")
    assert run.line["chunks"] == [300000, 304096, 308192]
    tags = {t["tag"]: t for t in gmtrace_json("assets", "--json", run.capture)["tags"]}
    assert "gen/body" in tags, sorted(tags)
    assert tags["gen/body"]["allocated_bytes"] >= 300000 + 304096 + 308192, tags["gen/body"]


DECORATED_GAME = """\
import functools, json, sys
sys.path.insert(0, %r)
import gmtrace

keep = []

@gmtrace.tag("dec/class")
class Foo:
    pass

class Bar:
    @gmtrace.tag("dec/static")
    @staticmethod
    def s(x):
        keep.append(bytearray(200000))
        return x * 2

    @gmtrace.tag("dec/cls")
    @classmethod
    def c(cls, x):
        keep.append(bytearray(300000))
        return cls.__name__ + str(x)

    class Call:
        def __call__(self, *a):
            keep.append(bytearray(400000))
            return len(a)
    called = gmtrace.tag("dec/object")(Call())
    maxed = gmtrace.tag("dec/builtin")(max)

def gen(n):
    for i in range(n):
        keep.append(bytearray(100000))
        yield i

class Holder:
    def meth(self):
        return "meth"

class D:  # a bound method and a partial generator in a class body bind nothing
    m = gmtrace.tag("dec/bound")(Holder().meth)
    g = gmtrace.tag("dec/pgen")(functools.partial(gen, 2))

b = Bar()
print(json.dumps({"isinstance": isinstance(Foo(), Foo), "static": [Bar.s(21), b.s(21)],
                  "cls": [Bar.c(1), b.c(2)], "object": b.called(1, 2),
                  "builtin": b.maxed(3, 9),
                  "partial": gmtrace.tag("dec/partial")(functools.partial(max, 4))(2),
                  "bound": D().m(), "pgen": list(D().g())}),
      flush=True)
"""


def test_tagged_methods_and_callables_behave_as_without_gmtrace(tmp_path):
    """@gmtrace.tag on a static or class method, a callable object or a
    builtin in a class body, and on a class: the game behaves as without
    gmtrace (a plain function in their place would bind the instance, and a
    class would no longer be one); the methods' and objects' bodies are
    under their tags; the class is left as it is, said once."""
    game = tmp_path / "decorated.py"
    game.write_text(DECORATED_GAME % str(MODULE_DIR))
    plain = run_script(game, [], tmp_path / "plain", preload=False)
    run = run_script(game, [], tmp_path / "run")
    assert run.line == plain.line == {
        "isinstance": True, "static": [42, 42], "cls": ["Bar1", "Bar2"], "object": 2,
        "builtin": 9, "partial": 4, "bound": "meth", "pgen": [0, 1]}
    assert "tag decorator: expected a function (or a method), got <class" in run.stderr
    tags = {t["tag"]: t for t in gmtrace_json("assets", "--json", run.capture)["tags"]}
    for name, least in (("dec/static", 400000), ("dec/cls", 600000), ("dec/object", 400000),
                        ("dec/pgen", 200000)):
        assert least <= tags[name]["allocated_bytes"] < least + 4096, (name, tags[name])


POOLS_GAME = """\
import json, sys
sys.path.insert(0, %r)
import gmtrace

ids = []
for level in range(300):
    p = gmtrace.Pool("level%%03d/bullets" %% level, 64, 100)
    ids.append(p.id)
    p.acquire()
    p.acquire()
    p.release()  # one bullet never comes back
    gmtrace.frame()
    p.destroy()
gmtrace.frame()  # (an id is given again in a later frame than its destroy)
live = [gmtrace.Pool("live%%03d" %% i, 8, 8).id for i in range(256)]  # one too many
print(json.dumps({"zero": ids.count(0), "distinct": len(set(ids)),
                  "live_zero": live.count(0), "live_distinct": len(set(live) - {0})}),
      flush=True)
"""


def test_a_pool_per_level_past_255_pools(tmp_path):
    """A pool made and destroyed per level, 300 levels: the ids of destroyed
    pools are given again once all 255 were used, every pool is recorded,
    and a reused id's pool starts with none in use (its predecessor's
    bullet that never came back is not its own). 256 pools at once: the
    last is not recorded, said once on stderr and by one validation."""
    game = tmp_path / "pools.py"
    game.write_text(POOLS_GAME % str(MODULE_DIR))
    run = run_script(game, [], tmp_path / "run")
    assert run.line == {"zero": 0, "distinct": 255, "live_zero": 1, "live_distinct": 255}
    assert run.stderr.count("more than 255 pools exist at once") == 1, run.stderr
    pools = gmtrace_json("pools", "--json", run.capture)["pools"]
    assert sorted(p["name"] for p in pools) == sorted(
        ["level%03d/bullets" % i for i in range(300)] + ["live%03d" % i for i in range(255)])
    for p in pools:
        if p["name"].startswith("live"):
            continue
        got = (p["acquires"], p["served"], p["releases"], p["peak"], p["in_use_end"],
               p["created_frame"], p["destroyed_frame"])
        level = int(p["name"][5:8])
        assert got == (2, 2, 1, 2, 1, level + 1, level + 2), p
    assert [(v["code"], v["detail"]) for v in dump(run.capture, {"validation"})] == [
        ("unknown_pool", 256)]


TAGS_GAME = """\
import json, sys
sys.path.insert(0, %r)
import gmtrace

for i in range(40000):
    with gmtrace.tag("enemy/%%d" %% i):
        pass
for i in range(39990, 40000):  # names past the table, again
    with gmtrace.tag("enemy/%%d" %% i):
        pass
print(json.dumps({"ok": True}), flush=True)
"""


def test_tag_names_past_the_table(tmp_path):
    """40,000 tag names: the table holds 32,768; the names past it are no
    tag, said once on stderr and by one validation, not one per use."""
    game = tmp_path / "tags.py"
    game.write_text(TAGS_GAME % str(MODULE_DIR))
    run = run_script(game, [], tmp_path / "run")
    assert run.stderr.count("more than 32768 tag names") == 1, run.stderr
    assert [(v["code"], v["id"], v["detail"]) for v in dump(run.capture, {"validation"})] == [
        ("unknown_tag", 0, 32768)]


UNKNOWN_NODE_GAME = """\
import json, sys
sys.path.insert(0, %r)
import gmtrace

print(json.dumps({"set": gmtrace.Budget(id=98).evictor(lambda asset: None)}), flush=True)
"""


def test_an_evictor_for_an_unknown_node_is_said_once(tmp_path):
    """An evictor given to a node gmtrace does not know: False, one
    unknown_node validation (the callback is not kept, so the module's
    clean-up at exit does not name the node again)."""
    game = tmp_path / "unknown_node.py"
    game.write_text(UNKNOWN_NODE_GAME % str(MODULE_DIR))
    run = run_script(game, [], tmp_path / "run")
    assert run.line == {"set": False}
    assert [(v["code"], v["id"]) for v in dump(run.capture, {"validation"})] == [
        ("unknown_node", 98)]


EXTRA_GAME = """\
import json, sys
sys.path.insert(0, %r)
import gmtrace

with gmtrace.asset("huge", "texture") as a:
    pass
a.extra_bytes(1 << 41)
print(json.dumps({"asset": a.id}), flush=True)
"""


def test_extra_bytes_past_the_field_saturate(tmp_path):
    """Extra bytes of 2 TiB are kept as 1 TiB - 1 (the record's 40-bit
    field), not cut to their low 40 bits (0)."""
    game = tmp_path / "extra_game.py"
    game.write_text(EXTRA_GAME % str(MODULE_DIR))
    run = run_script(game, [], tmp_path / "run")
    extra = dump(run.capture, {"asset_extra"})
    assert [e["bytes"] for e in extra] == [(1 << 40) - 1], extra


FOREIGN_EXIT_GAME = """\
import json, sys, threading
sys.path.insert(0, %r)
import gmtrace

keep = []
a = gmtrace.asset("x/asset", "blob")
a.__enter__()
keep.append(bytearray(111110))
t = threading.Thread(target=lambda: a.__exit__(None, None, None))
t.start()
t.join()
keep.append(bytearray(444443))  # still inside its load: the scope is this thread's
state = [s["state"] for s in gmtrace.snapshot()["assets"] if s["id"] == a.id]
a.__exit__(None, None, None)  # the owner ends it
keep.append(bytearray(333333))  # after the load: not the asset's
gmtrace.frame()
after = [s["state"] for s in gmtrace.snapshot()["assets"] if s["id"] == a.id]
print(json.dumps({"during": state, "after": after}), flush=True)
"""


def test_an_asset_scope_ended_on_another_thread_stays_open_on_its_own(tmp_path):
    """A load scope's end on a thread where it is not open ends nothing
    (one line on stderr): the load stays open on the thread that began it,
    which can still end it; no detach_mismatch validation."""
    game = tmp_path / "foreign_exit.py"
    game.write_text(FOREIGN_EXIT_GAME % str(MODULE_DIR))
    run = run_script(game, [], tmp_path / "run")
    assert run.line == {"during": ["loading"], "after": ["resident"]}
    assert "ended on a thread where it is not open" in run.stderr, run.stderr
    assert dump(run.capture, {"validation"}) == []
    (asset,) = [x for x in gmtrace_json("assets", "--json", run.capture)["assets"]
                if x["name"] == "x/asset"]
    assert 111111 + 444444 <= asset["allocated_bytes"] < 111111 + 444444 + 333334, asset
