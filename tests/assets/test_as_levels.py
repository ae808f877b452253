"""test_as_levels.py - as_levels: a level transition that keeps three assets by mistake

Scene A loads ui_font and a1..a6; scene B unloads a1..a3, loads b1..b3 and from
then on touches only ui_font and b1..b3. a4..a6 are the wrongly kept assets:
resident from the previous scene and never touched after the transition.
`gmtrace transitions` must list exactly those three (not ui_font, which B
uses) with the transition's before, peak and after bytes exactly.
"""
from as_support import Model, run, transitions_report


def test_transition_in_records(tmp_path):
    r = run("levels", tmp_path)
    t = r.line["transition"]
    m = Model(r.capture)
    assert [(name, frame) for name, frame, _ in m.scenes] == [("A", 1), (t["to"], t["frame"])]
    b = m.scene_bytes[1]
    assert (b["before"], b["peak"], b["after"]) == \
        (t["before_bytes"], t["peak_bytes"], t["after_bytes"])
    for name in t["kept"]:
        a = m.asset(name)
        assert a.states == ["loading", "resident"], name
        assert a.touch_frames == list(range(1, t["frame"])), f"{name}: touched only in A"
    font = m.asset(t["kept_and_used"])
    assert font.touch_frames == list(range(1, m.frames + 1))
    for name in t["unloaded"]:
        a = m.asset(name)
        assert a.states[-1] == "unloaded" and a.state_frames[-1] == t["frame"], name
        assert a.tally["live_bytes"] == 0, name
    assert sum(m.asset(n).tally["freed_bytes"] for n in t["unloaded"]) == t["unloaded_bytes"]
    assert sum(m.asset(n).tally["live_bytes"] for n in t["loaded"]) == t["loaded_bytes"]
    for want in r.line["assets"]:
        assert m.asset(want["name"]).tally == want["bytes"], want["name"]
    assert m.validations == []


def test_transition_reported(tmp_path):
    r = run("levels", tmp_path)
    t = r.line["transition"]
    assets = {a["name"]: a for a in r.line["assets"]}
    m = Model(r.capture)  # the whole heap's figures (the runtime's blocks too)
    heap = m.scene_bytes[1]
    rep = transitions_report(r.capture)
    assert [x["name"] for x in rep["transitions"]] == [t["from"], t["to"]]
    x = rep["transitions"][1]
    assert x["source"] == "scene"
    assert x["frame"] == t["frame"]
    assert [k["name"] for k in x["kept"]] == t["kept"], "wrongly kept assets"
    for k in x["kept"]:
        assert k["resident_bytes"] == assets[k["name"]]["bytes"]["live_bytes"], k["name"]
        assert k["last_touch_frame"] == t["frame"] - 1, k["name"]
    assert x["kept_bytes"] == sum(assets[n]["bytes"]["live_bytes"] for n in t["kept"])
    # the old scene's assets: ui_font and a1..a6, of which a1..a3 unloaded
    assert (x["old_assets"], x["old_unloaded"]) == (1 + len(t["kept"]) + len(t["unloaded"]),
                                                    len(t["unloaded"]))
    # every live block: exact from the records
    assert (x["before"]["live_bytes"], x["peak"]["live_bytes"], x["after"]["live_bytes"]) == \
        (heap["heap_before"], heap["heap_peak"], heap["heap_after"])
    assert x["peak"]["frame"] == t["frame"]
    # assets' blocks: exact from the fixture
    assert (x["before"]["asset_bytes"], x["after"]["asset_bytes"]) == \
        (t["before_bytes"], t["after_bytes"])
    by_type = {}
    for a in r.line["assets"]:
        by_type[a["type"]] = by_type.get(a["type"], 0) + a["bytes"]["live_bytes"]
    assert {b["type"]: b["live_bytes"] for b in x["after"]["by_type"]} == by_type
    # moved bytes: everything allocated by B's loads (their scratch blocks
    # too) and everything freed out of assets (A's unloads and the scratch)
    assert x["loaded_bytes"] == t["loaded_allocated_bytes"]
    assert x["unloaded_bytes"] == t["unloaded_bytes"] + t["scratch_freed_bytes"]
