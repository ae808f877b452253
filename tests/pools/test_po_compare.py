"""test_po_compare.py - po_compare: the same particles without (heap) and with (pool) a pool

Both runs make the same allocations outside the particles, so
`gmtrace pools --compare heap pool` must show exactly the fixture's 2000
particles per frame as avoided allocations (2000 F in all), and a positive
allocator time saved (timing values themselves are not asserted). The
pool run's own report shows every acquire served.
"""
import pytest

from po_support import csv_tables, gmtrace, pools_json, run_fixture

F = 100


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("compare")
    return (run_fixture("po_compare", ["heap", F], out),
            run_fixture("po_compare", ["pool", F], out))


def test_compare_shows_the_avoided_allocations_exactly(runs):
    heap, pool = runs
    per_frame = pool.line["avoided_per_frame"]
    assert per_frame == pool.line["particles_per_frame"] == 2000
    rep = pools_json("--compare", heap.capture, pool.capture)
    a, b, d = rep["a"], rep["b"], rep["difference"]
    assert a["frames"] == b["frames"] == F
    assert a["allocations"] - b["allocations"] == per_frame * F
    assert d["avoided_allocations"] == per_frame * F
    assert d["avoided_allocations_per_frame"] == per_frame
    assert d["saved_alloc_ns_per_frame"] > 0
    assert d["saved_alloc_ns"] > 0
    assert a["pools"] == 0 and b["pools"] == 1
    assert b["pool_allocations_avoided"] == per_frame * F
    assert rep["summary"].startswith(f"B avoids {per_frame} allocations per frame and saves ")


def test_compare_text_and_csv(runs):
    heap, pool = runs
    res = gmtrace("pools", "--compare", heap.capture, pool.capture)
    assert res.returncode == 0, res.stderr
    assert "B avoids 2000 allocations per frame and saves" in res.stdout
    res = gmtrace("pools", "--csv", "--compare", heap.capture, pool.capture)
    assert res.returncode == 0, res.stderr
    rows = csv_tables(res.stdout)["compare"]
    assert [r["side"] for r in rows] == ["A", "B", "difference"]
    assert float(rows[2]["allocations_per_frame"]) == 2000
    assert int(rows[0]["allocations"]) - int(rows[1]["allocations"]) == 2000 * F
    # the difference row is the JSON's difference: allocations avoided too
    assert int(rows[2]["allocations"]) == 2000 * F
    assert "gc_pause_ns_per_frame" in rows[0]


def test_the_pool_run_serves_every_particle(runs):
    _, pool = runs
    rep = pools_json(pool.capture)
    (p,) = rep["pools"]
    assert p["name"] == "particles" and p["object_size"] == 96 and p["capacity"] == 2000
    assert p["acquires"] == p["served"] == p["allocations_avoided"] == 2000 * F
    assert p["hit_rate"] == 1.0 and p["overflows"] == 0
    assert p["peak"] == 2000 and p["in_use_end"] == 0
    assert p["utilization_peak"] == 1.0 and p["utilization_mean"] == 0.0
    assert p["sizing"]["recommended_capacity"] == 2200
    assert p["sizing"]["flags"] == []
