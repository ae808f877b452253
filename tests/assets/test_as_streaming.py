"""test_as_streaming.py - as_streaming: a background thread streams assets through a ring

Every stream asset must reach "unloaded" with all its bytes freed and its one
reference released, the load and unload byte totals must equal the fixture's
whatever the scheduling, nothing may leak, and the one asset reloaded right
after its unload (stream_10) must be reported as thrashing, alone.
"""
import collections

from as_support import Model, assets_report, run

STATES = ["loading", "resident", "unloading", "unloaded"]


def test_streaming_in_records(tmp_path):
    r = run("streaming", tmp_path)
    line = r.line
    m = Model(r.capture)
    loads = [a for a in m.assets.values() if a.name.startswith("stream_")]
    assert len(loads) == line["loads"]
    assert len(m.assets_named) == line["stream_assets"]
    assert {n: len(v) for n, v in m.assets_named.items() if len(v) > 1} == \
        {line["thrashed"]: 2}
    for a in loads:
        assert a.states == STATES, a.name
        assert a.tally["live_bytes"] == 0 and a.tally["allocated_bytes"] > 0, a.name
        assert a.refs == [("ref", 1), ("release", 0)], a.name
        # touched only while resident (the main thread holds the ring's lock)
        ready, gone = a.state_frames[1], a.state_frames[2]
        assert all(ready <= f <= gone for f in a.touch_frames), a.name
    assert sum(a.tally["allocated_bytes"] for a in loads) == line["loaded_bytes"]
    assert sum(a.tally["freed_bytes"] for a in loads) == line["unloaded_bytes"]
    # the streamer alone loaded and unloaded; per load, the fixture's bytes
    want = collections.defaultdict(list)
    for w in line["assets"]:
        want[w["name"]].append(w["bytes"])
    got = collections.defaultdict(list)
    for a in sorted(loads, key=lambda a: a.id):
        got[a.name].append(a.tally)
    assert got == want
    assert len({a.thread for a in loads}) == 1
    assert m.tag_own[line["tag"]]["allocated_bytes"] == line["loaded_bytes"]
    assert m.tag_own[line["tag"]]["live_bytes"] == 0
    assert m.validations == []


def test_streaming_reported(tmp_path):
    r = run("streaming", tmp_path)
    line = r.line
    rep = assets_report(r.capture)
    stream = [a for a in rep["assets"] if a["name"].startswith("stream_")]
    assert len(stream) == line["loads"]
    assert rep["totals"]["assets"] == line["loads"]
    assert rep["totals"]["unloaded"] == line["loads"]
    for a in stream:
        what = f"asset {a['name']} ({a['id']})"
        assert a["state"] == "unloaded", what
        assert a["live_bytes"] == 0 and a["unloaded_live_bytes"] == 0, what
        assert a["refs"] == 0 and a["refs_max"] == 1, what
        assert a["peak_live_bytes"] == a["allocated_bytes"] == a["resident_bytes"], what
    assert sum(a["allocated_bytes"] for a in stream) == line["loaded_bytes"]
    st = rep["streaming"]
    assert st["loaded"]["total_bytes"] == line["loaded_bytes"]
    assert st["unloaded"]["total_bytes"] == line["unloaded_bytes"]
    assert st["residency"]["count"] == line["loads"]
    assert st["residency"]["still_resident"] == 0
    assert [t["name"] for t in st["thrash"]] == [line["thrashed"]], st["thrash"]
    t = st["thrash"][0]
    assert 0 <= t["frames"] <= rep["options"]["thrash_frames"]
    bad = [c for c in rep["checks"]
           if c["check"] in ("leak", "refcount", "validation", "duplicate", "tag_growth")]
    assert bad == []
