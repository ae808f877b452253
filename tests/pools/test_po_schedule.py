"""test_po_schedule.py - po_schedule: three pools with a known schedule, every metric exact

po_schedule (po_schedule.c) drives "enemies" (overflows in some frames, idle
frames with no call), "bullets" (resized, destroyed, never fills) and
"sparks" (created late, overflows in every frame it is used) and prints
the figures `gmtrace pools` must find, computed as README.md here defines
them with the default percentile (99) and headroom (10%). Checked:
 - every per-frame figure and every metric of every pool, exactly (doubles
   are printed by the fixture with 17 digits: the same double);
 - creation, resize and destroy frames; the flags;
 - the allocator time saved is served x the measured cost of the object
   size's class (GMTRACE_TIMING_SAMPLE=1 times every call);
 - --percentile / --headroom change the advice as defined;
 - the CSV tables say what the JSON says; the text names the flags.
"""
import json
import math

import pytest

from po_support import csv_tables, gmtrace, pools_json, run_fixture

PER_FRAME = ("acquires", "served", "releases", "returned", "in_use", "high_water", "capacity")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("schedule")
    r = run_fixture("po_schedule", [], out, {"GMTRACE_TIMING_SAMPLE": "1"})
    return r, pools_json(r.capture)


def by_name(report):
    return {p["name"]: p for p in report["pools"]}


def test_pools_are_found_with_their_ids(run):
    r, rep = run
    assert rep["error"] is None
    assert rep["frames"] == r.line["frames"] == 40
    assert [(p["id"], p["name"]) for p in rep["pools"]] == [
        (p["id"], p["name"]) for p in r.line["pools"]] == [
        (1, "enemies"), (2, "bullets"), (3, "sparks")]


@pytest.mark.parametrize("name", ["enemies", "bullets", "sparks"])
def test_per_frame_series_equal_the_schedule(run, name):
    r, rep = run
    want = {p["name"]: p for p in r.line["pools"]}[name]
    got = by_name(rep)[name]
    frames = [row["frame"] for row in got["per_frame"]]
    assert frames == list(range(want["first_frame"], want["last_frame"] + 1))
    for key in PER_FRAME:
        column = [row[key] for row in got["per_frame"]]
        assert column == want["per_frame"][key], f"{name} per_frame {key}"
    assert [row["overflows"] for row in got["per_frame"]] == [
        a - s for a, s in zip(want["per_frame"]["acquires"], want["per_frame"]["served"])]


@pytest.mark.parametrize("name", ["enemies", "bullets", "sparks"])
def test_every_metric_equals_the_fixture(run, name):
    r, rep = run
    want = {p["name"]: p for p in r.line["pools"]}[name]
    got = by_name(rep)[name]
    for key, value in want.items():
        if key in ("per_frame", "sizing"):
            continue
        assert got[key] == value, f"{name}: {key} is {got[key]}, fixture says {value}"
    for key, value in want["sizing"].items():
        assert got["sizing"][key] == value, f"{name}: sizing.{key}"
    assert got["sizing"]["percentile"] == 99 and got["sizing"]["headroom_pct"] == 10


def test_the_schedule_covers_what_it_should(run):
    """The fixture's figures are worth checking: overflows in some frames
    only, idle frames, a high-water mark above the frame-end count."""
    r, _ = run
    enemies = {p["name"]: p for p in r.line["pools"]}["enemies"]
    pf = enemies["per_frame"]
    assert 0 < enemies["overflow_frames"] < enemies["used_frames"] < enemies["frames"]
    assert 0 < enemies["hit_rate"] < 1
    assert any(h > u for h, u in zip(pf["high_water"], pf["in_use"]))
    assert enemies["sizing"]["demand_percentile"] > enemies["sizing"]["high_water_percentile"]


def test_lifetimes_resizes_and_flags(run):
    _, rep = run
    p = by_name(rep)
    assert p["enemies"]["created_frame"] == 1 and p["enemies"]["destroyed_frame"] is None
    assert p["bullets"]["destroyed_frame"] == 30 and p["bullets"]["last_frame"] == 30
    assert [(z["frame"], z["capacity"]) for z in p["bullets"]["resizes"]] == [(20, 32)]
    assert p["bullets"]["capacity_initial"] == 64 and p["bullets"]["capacity"] == 32
    assert p["sparks"]["created_frame"] == 5 and p["sparks"]["first_frame"] == 5
    assert p["enemies"]["sizing"]["flags"] == []
    assert p["bullets"]["sizing"]["flags"] == ["never_fills"]
    assert p["sparks"]["sizing"]["flags"] == ["overflows_every_frame"]
    assert p["bullets"]["sizing"]["recommended_capacity"] == 14
    assert p["bullets"]["sizing"]["resize_saves_bytes"] == (32 - 14) * 32


def test_time_saved_is_served_times_the_measured_class_cost(run):
    _, rep = run
    assert rep["alloc_cost"]["measured"] is True
    costs = {c["max_bytes"]: c for c in rep["alloc_cost"]["classes"]}
    for p in rep["pools"]:
        cls = p["cost_class_bytes"]
        assert cls == 1 << max(0, (p["object_size"] - 1).bit_length())
        # every overflow malloc'd an object of the pool's size, and every
        # allocator call was timed: each class has a measurement
        assert cls in costs, f"{p['name']}: class <= {cls} B has no timed call"
        c = costs[cls]
        assert c["calls"] > 0
        assert p["alloc_cost_ns"] == pytest.approx(c["ticks"] * 1e9 / rep["tsc_hz"] / c["calls"],
                                                   rel=1e-9)
        assert p["alloc_time_saved_ns"] == pytest.approx(p["served"] * p["alloc_cost_ns"],
                                                         rel=1e-12)
        assert p["alloc_time_saved_ns"] > 0


def nearest_rank(values, p):
    v = sorted(values)
    rank = max(1, math.ceil(p * len(v) / 100))
    return v[rank - 1]


@pytest.mark.parametrize("percentile,headroom", [("50", "0"), ("90", "25"), ("100", "33.5")])
def test_percentile_and_headroom_options(run, percentile, headroom):
    r, _ = run
    rep = pools_json("--percentile", percentile, "--headroom", headroom, r.capture)
    for want in r.line["pools"]:
        got = by_name(rep)[want["name"]]
        hw = nearest_rank(want["per_frame"]["high_water"], float(percentile))
        # ceil(hw x (100 + headroom) / 100) in exact thousandths
        rec = -(-hw * (100000 + int(float(headroom) * 1000)) // 100000)
        assert got["sizing"]["high_water_percentile"] == hw, want["name"]
        assert got["sizing"]["recommended_capacity"] == rec, want["name"]
        assert got["sizing"]["resize_saves_bytes"] == (want["capacity"] - rec) * want["object_size"]


def test_csv_tables_say_what_the_json_says(run):
    r, rep = run
    res = gmtrace("pools", "--csv", r.capture)
    assert res.returncode == 0, res.stderr
    t = csv_tables(res.stdout)
    assert set(t) == {"pools", "pool_frames", "candidates", "gc_generations", "gc_frames"}
    for row, p in zip(t["pools"], rep["pools"]):
        assert row["name"] == p["name"]
        for key in ("acquires", "served", "overflows", "peak", "idle_bytes_at_peak",
                    "overflow_frames", "used_frames", "frames"):
            assert int(row[key]) == p[key], f"{p['name']} {key}"
        assert float(row["hit_rate"]) == p["hit_rate"]
        assert float(row["utilization_mean"]) == p["utilization_mean"]
        # numbers as the JSON writes them (the shortest form that reads back)
        for key in ("hit_rate", "utilization_mean", "overflows_per_s", "in_use_mean"):
            if p[key] is not None:
                assert row[key] == json.dumps(p[key]).removesuffix(".0"), (key, row[key])
        assert row["created_frame"] == ("" if p["created_frame"] is None
                                        else str(p["created_frame"]))
        assert int(row["recommended_capacity"]) == p["sizing"]["recommended_capacity"]
        assert int(row["never_fills"]) == p["sizing"]["never_fills"]
    frames = [(int(x["pool"]), int(x["frame"]), int(x["in_use"]), int(x["high_water"]))
              for x in t["pool_frames"]]
    assert frames == [(p["id"], f["frame"], f["in_use"], f["high_water"])
                      for p in rep["pools"] for f in p["per_frame"]]
    one = gmtrace("pools", "--csv", "--table", "pools", r.capture)
    assert one.returncode == 0
    assert one.stdout.splitlines()[0].startswith("id,name,")
    assert len(one.stdout.splitlines()) == 1 + 3


def test_text_report_names_pools_and_flags(run):
    r, _ = run
    res = gmtrace("pools", r.capture)
    assert res.returncode == 0, res.stderr
    for needle in ('pool 1 "enemies"', 'pool 2 "bullets"', 'pool 3 "sparks"',
                   "never_fills", "overflows_every_frame", "resized to 32 in frame 20"):
        assert needle in res.stdout, needle
