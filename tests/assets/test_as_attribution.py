"""test_as_attribution.py - as_attribution: bytes per asset and per tag, exactly

The fixture loads four assets (one partly on a worker thread between attach
and detach), allocates under nested tags and outside every asset, and unloads
two assets. Asset and tag scopes contain only the fixture's blocks, so every
asset's and every tag's figures must equal the fixture's with no filtering;
only "no tag" and "no asset" (where the runtime allocates too) are compared
in the size-rule view. Checked twice: in the raw records (`gmtrace dump`,
read by as_support.Model) and in `gmtrace assets --json`. Without the preload
the marker calls do nothing and the fixture prints the same line.
"""
from as_support import Model, RECORD_UNITS_BUG, assets_report, by_name, run, without

# the states an asset went through, by the state it ends in
STATES = {"resident": ["loading", "resident"],
          "unloaded": ["loading", "resident", "unloading", "unloaded"]}


@RECORD_UNITS_BUG
def test_attribution_in_records(tmp_path):
    r = run("attribution", tmp_path)
    line = r.line
    assert line["enabled"] is True
    m = Model(r.capture)
    assert m.unknown_context == [], "allocations under an asset id never defined"
    assert m.frames == line["frames"]

    for want in line["assets"]:
        a = m.asset(want["name"])
        what = f"asset {want['name']}"
        assert a.type == want["type"], what
        assert a.tally == want["bytes"], f"{what}: records {a.tally} != fixture {want['bytes']}"
        assert a.states == STATES[want["state"]], what
        assert a.load_frame == want["load_frame"], what
        if want["unload_frame"]:
            assert a.state_frames[a.states.index("unloaded")] == want["unload_frame"], what
        assert (a.extra_bytes or 0) == want["extra_bytes"], what
        assert a.refs == [] and a.touch_frames == [], what

    # level_mesh: 2 blocks made on the loading thread, 3 by the worker
    # between attach and detach; the worker's block after detach is no asset's
    mesh = m.asset("level_mesh")
    assert sorted(mesh.threads.values()) == [2, line["worker_blocks"] - 1], mesh.threads
    assert len(mesh.threads) == 2 and mesh.thread in mesh.threads

    assert set(m.tags.values()) - {""} == {t["name"] for t in line["tags"]}, \
        "tags defined in the capture differ from the fixture's"
    for want in line["tags"]:
        got = m.tag_own.get(want["name"])
        assert got == want["own"], f"tag {want['name']} (own): records {got} != {want['own']}"
        assert m.tag_rollup(want["name"]) == without(want["rollup"], "peak_bytes"), \
            f"tag {want['name']} (roll-up)"
    assert m.untagged_rule == line["untagged"], "untagged blocks (size rule)"
    assert m.no_asset_rule == line["no_asset"], "blocks outside every asset (size rule)"
    assert m.validations == [], f"a correct game made validation records: {m.validations}"


def tag_figures(entry):
    """(own, rollup) of one tag of `gmtrace assets --json`, each
    {allocated_bytes, live_bytes, peak_bytes}."""
    keys = ("allocated_bytes", "live_bytes", "peak_bytes")
    return ({k: entry["own"][k] for k in keys}, {k: entry["rollup"][k] for k in keys})


@RECORD_UNITS_BUG
def test_attribution_in_assets_report(tmp_path):
    r = run("attribution", tmp_path)
    line = r.line
    rep = assets_report(r.capture)
    got = by_name(rep["assets"], "assets")
    assert set(got) == {a["name"] for a in line["assets"]}
    for want in line["assets"]:
        a = got[want["name"]]
        what = f"asset {want['name']}"
        assert a["type"] == want["type"], what
        assert a["state"] == want["state"], what
        assert a["peak_bytes"] == want["bytes"]["peak_bytes"], what
        assert a["live_bytes"] == want["bytes"]["live_bytes"], what
        assert a["extra_bytes"] == want["extra_bytes"], what
        assert a["load_frame"] == want["load_frame"], what
        assert (a["unload_frame"] or 0) == want["unload_frame"], what
        if want["state"] == "unloaded":
            # every block freed by the unload: nothing left behind
            assert a["live_at_unload_bytes"] == 0, what
        assert a["refs_max"] == 0 and a["refs_end"] == 0, what
        assert a["touches"] == 0, what

    tags = by_name([t for t in rep["tags"] if t["name"]], "tags")
    for want in line["tags"]:
        own, rollup = tag_figures(tags[want["name"]])
        keys = own.keys()
        assert own == {k: want["own"][k] for k in keys}, f"tag {want['name']} (own)"
        assert rollup == {k: want["rollup"][k] for k in keys}, f"tag {want['name']} (roll-up)"

    # no leak, no orphan, no validation: the only findings allowed are about
    # the two assets the fixture keeps to the end on purpose
    kept = {a["name"] for a in line["assets"] if a["state"] == "resident"}
    for c in rep["checks"]:
        assert c["check"] == "never_unloaded" and c["name"] in kept, f"unexpected finding {c}"


def test_markers_are_harmless_without_preload(tmp_path):
    (tmp_path / "plain").mkdir()
    (tmp_path / "traced").mkdir()
    plain = run("attribution", tmp_path / "plain", preload=False)
    traced = run("attribution", tmp_path / "traced")
    assert plain.line["enabled"] is False and traced.line["enabled"] is True
    assert without(plain.line, "enabled") == without(traced.line, "enabled")
    assert plain.stderr == b""
    assert list((tmp_path / "plain").glob("*.gmt")) == []
