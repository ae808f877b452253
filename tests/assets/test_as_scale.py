"""test_as_scale.py - as_scale: 10,000 assets holding 1.33 GB, loaded and unloaded over frames

Correctness only (bench_assets.sh times `gmtrace assets` on the same capture):
every asset is in the capture with its one block, all unloaded, the byte
totals exact, and the fixture stayed small (its asset pages are never
touched, and gmtrace must not touch them either).
"""
from as_support import Model, assets_report, run

MAX_RSS_KIB = 256 * 1024


def test_scale_in_records_and_report(tmp_path):
    r = run("scale", tmp_path, timeout=90)
    line = r.line
    assert line["asset_bytes"] > 1 << 30
    assert r.maxrss_kib < MAX_RSS_KIB, f"as_scale used {r.maxrss_kib} KiB resident"

    m = Model(r.capture)
    assert len(m.assets) == line["assets"]
    assert len(m.assets_named) == line["assets"], "names are unique"
    assert all(a.states[-1] == "unloaded" for a in m.assets.values())
    assert all(a.tally["allocations"] == 1 and a.tally["live_bytes"] == 0
               for a in m.assets.values())
    assert sum(a.tally["allocated_bytes"] for a in m.assets.values()) == line["asset_bytes"]
    assert m.frames == line["frames"]
    del m

    rep = assets_report(r.capture)
    assert len(rep["assets"]) == line["assets"]
    assert rep["totals"]["assets"] == rep["totals"]["unloaded"] == line["assets"]
    assert all(a["state"] == "unloaded" and a["live_bytes"] == 0 for a in rep["assets"])
    assert sum(a["peak_live_bytes"] for a in rep["assets"]) == line["asset_bytes"]
    blob = [t for t in rep["types"] if t["type"] == "blob"]
    assert len(blob) == 1 and blob[0]["assets"] == line["assets"]
    assert blob[0]["peak_live_bytes"] == line["peak_asset_bytes"]
    assert blob[0]["allocated_bytes"] == line["asset_bytes"]
    assert [c for c in rep["checks"] if c["check"] == "leak"] == []
