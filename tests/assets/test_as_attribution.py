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
from as_support import (Model, assets_report, by_name, count_view, run,
                        tally_view, without)

# the states an asset went through, by the state it ends in
STATES = {"resident": ["loading", "resident"],
          "unloaded": ["loading", "resident", "unloading", "unloaded"]}


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


# the one tag each asset's blocks were allocated under (None: no tag)
ASSET_TAGS = {"hero_diffuse": "render/textures", "level_mesh": "render/meshes",
              "theme_music": "audio/music", "config": None}


def test_attribution_in_assets_report(tmp_path):
    r = run("attribution", tmp_path)
    line = r.line
    rep = assets_report(r.capture)
    assert rep["error"] is None and rep["exact"] is True
    assert rep["frames"] == line["frames"]
    got = by_name(rep["assets"], "assets")
    assert set(got) == {a["name"] for a in line["assets"]}
    for want in line["assets"]:
        a = got[want["name"]]
        what = f"asset {want['name']}"
        assert a["type"] == want["type"], what
        assert a["state"] == want["state"], what
        assert count_view(a) == tally_view(want["bytes"]), what
        assert a["allocations"] == want["bytes"]["allocations"], what
        # every block was allocated inside the load scope
        assert a["resident_bytes"] == want["bytes"]["allocated_bytes"], what
        assert a["extra_bytes"] == want["extra_bytes"], what
        assert a["load_frame"] == want["load_frame"], what
        assert a["ready_frame"] == want["load_frame"], what
        unload = want["unload_frame"] or None
        assert (a["unload_frame"], a["unloaded_frame"]) == (unload, unload), what
        # an unload frees everything: nothing left behind
        assert a["unloaded_live_bytes"] == (0 if unload else None), what
        assert a["refs"] == 0 and a["refs_max"] == 0 and a["touches"] == 0, what
        b = want["bytes"]
        assert a["tags"] == [{"tag": ASSET_TAGS[want["name"]], "allocated_bytes":
                              b["allocated_bytes"], "live_bytes": b["live_bytes"]}], what

    tags = by_name(rep["tags"], "tags", key="tag")
    assert set(tags) == {t["name"] for t in line["tags"]}
    for want in line["tags"]:
        t = tags[want["name"]]
        what = f"tag {want['name']}"
        assert t["parent"] == (want["parent"] or None), what
        assert count_view(t) == tally_view(want["own"]), f"{what} (own)"
        assert count_view(t["rollup"]) == tally_view(want["rollup"]), f"{what} (roll-up)"
        assert (t["loose_live_bytes"], t["loose_live_blocks"]) == \
            (want["loose"]["live_bytes"], want["loose"]["live_count"]), f"{what} (loose)"
    # no tag: the runtime's blocks too, so compared with the records
    m = Model(r.capture)
    assert count_view(rep["untagged"]) == tally_view(m.tag_own[""]), "untagged"
    assert rep["totals"]["asset_bytes"] == sum(a["bytes"]["live_bytes"] for a in line["assets"])
    assert rep["totals"]["extra_bytes"] == sum(a["extra_bytes"] for a in line["assets"]
                                               if a["state"] != "unloaded")

    # no leak, orphan, refcount or validation finding: the only ones allowed
    # are about the two assets the fixture keeps to the end on purpose
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
