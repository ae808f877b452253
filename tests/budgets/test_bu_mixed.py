"""test_bu_mixed.py - bu_mixed: textures with no evictor beside meshes with one,
in a strict node, and a texture larger than the node's hard limit

An asset with no evictor is one no_evictor validation and is left alone
until the next frame end, and eviction goes on with the next victim; a
load that nothing can make room for fails at once, one validation per
asset tried (not one per retry); a block over the hard limit by itself
fails without evicting anything.
"""
import pytest

from bu_support import MIB, Budgets, gmtrace_json, run, verdicts_ok


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    r = run("mixed", tmp_path_factory.mktemp("mixed"))
    return r, Budgets(r.capture)


def test_fixture_verdicts(mixed):
    r, _ = mixed
    verdicts_ok(r.line)
    ids = r.line["ids"]
    assert r.line["evicted"] == [ids["M1"], ids["M2"]]
    assert r.line["null_loads"] == ["T5", "T6", "huge"]
    assert r.line["live_end"] == 16 * MIB
    assert (r.line["failures"], r.line["violations"]) == (3, 0)


def test_no_evictor_validations(mixed):
    r, b = mixed
    ids = r.line["ids"]
    node = b.node_id("world")
    got = [(v["code"], v["id"], v["detail"]) for v in b.validations]
    # frame 3: T1 and T2 once (then left alone for the frame); frame 4: T1..T4
    want = [("no_evictor", node, ids[t]) for t in ("T1", "T2", "T1", "T2", "T3", "T4")]
    assert got == want


def test_evictions_and_failures(mixed):
    r, b = mixed
    ids = r.line["ids"]
    assert [(e["asset"], e["event"], e["reclaimed_bytes"]) for e in b.evictions] == \
        [(ids["M1"], "over_hard", 4 * MIB), (ids["M2"], "over_hard", 4 * MIB)]
    failed = [(v["asset"], v["size"], v["live_bytes"]) for v in b.violations
              if v["event"] == "failed"]
    assert failed == [(ids["T5"], 4 * MIB, 16 * MIB), (ids["T6"], 4 * MIB, 16 * MIB),
                      (ids["huge"], 32 * MIB, 16 * MIB)]


def test_budgets_report(mixed):
    r, _ = mixed
    rep = gmtrace_json("budgets", "--json", r.capture, expect_rc=0)
    (node,) = rep["nodes"]
    assert node["name"] == "world"
    assert rep["check"]["failed"] == 3
