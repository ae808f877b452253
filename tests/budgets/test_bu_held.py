"""test_bu_held.py - bu_held: an asset's bytes are what it holds

A load's temporary and a block the game frees later, outside any scope, come
off the asset's bytes; a realloc counts its new size only. So the snapshot
says what each asset holds, the "largest" policy evicts the asset that
holds the most, and the eviction record's asset_bytes equals what it gave
back (not a leaky unload).
"""
import pytest

from bu_support import Budgets, gmtrace_json, run, verdicts_ok

KIB = 1 << 10


@pytest.fixture(scope="module")
def held(tmp_path_factory):
    r = run("held", tmp_path_factory.mktemp("held"))
    return r, Budgets(r.capture)


def test_snapshot_and_victim(held):
    r, _ = held
    verdicts_ok(r.line)
    ids = r.line["ids"]
    assert r.line["snapshot"] == {"A": 64 * KIB, "B": 256 * KIB, "C": 256 * KIB}
    assert r.line["evicted"] == [ids["B"]]
    assert (r.line["live_after_loads"], r.line["live_end"]) == (576 * KIB, 576 * KIB)
    assert r.line["c_after_realloc"] == 512 * KIB


def test_eviction_record_and_report(held):
    r, b = held
    ids = r.line["ids"]
    assert [(e["asset"], e["event"], e["asset_bytes"], e["reclaimed_bytes"])
            for e in b.evictions] == [(ids["B"], "over_soft", 256 * KIB, 256 * KIB)]
    rep = gmtrace_json("budgets", "--json", r.capture, expect_rc=0)
    (node,) = rep["nodes"]
    assert [e["leaky"] for e in node["evictions"]] == [False]
