"""test_bu_evil.py - bu_evil: evictors that free nothing, allocate, or call back into gmtrace

The fixture (opening comment of bu_evil.c) knows every evictor call in
advance; the records must show each one, with what it reclaimed, the
evictor_no_progress validations of the lazy evictor, the over_hard
violations (the lazy round that freed nothing, the greedy evictor's own
allocation before it frees) and the asset loaded from inside an evictor.
No deadlock: the run's timeout. Exit 0.
"""
import pytest

from bu_support import MIB, Budgets, gmtrace_json, run, verdicts_ok

LAZY = ["L1", "L2", "L3", "L4"] + ["L1", "L2", "L3", "L4", "L5"] * 2


@pytest.fixture(scope="module")
def evil(tmp_path_factory):
    r = run("evil", tmp_path_factory.mktemp("evil"), timeout=30)
    return r, Budgets(r.capture)


def names(line):
    return {a["id"]: a["name"] for a in line["assets"]}


def test_fixture_verdicts_and_calls(evil):
    r, _ = evil
    line = r.line
    verdicts_ok(line)
    calls = [(c["evictor"], c["name"]) for c in line["calls"]]
    assert calls == [("lazy", n) for n in LAZY] + [("greedy", "G1"), ("chatty", "C1"),
                                                   ("chatty", "C4")]
    assert line["live"] == line["model"]
    assert line["live"]["evil"] == 3 * 4 * MIB + MIB  # C2, C3, C5 and N1
    resident = sorted(a["name"] for a in line["assets"] if a["resident"])
    assert resident == ["C2", "C3", "C5", "N1"]


def test_evict_records(evil):
    r, b = evil
    line = r.line
    nm = names(line)
    got = [(nm[e["asset"]], b.name_of(e["node"]), e["event"], e["reclaimed_bytes"])
           for e in b.evictions]
    want = [(n, "evil", "over_hard", 0) for n in LAZY[:4]]
    want += [(n, "lazy", "over_soft", 0) for n in LAZY[4:]]
    want += [("G1", "evil", "over_hard", 4 * MIB),   # 1 MiB in, 4 + 1 + 1 MiB out
             ("C1", "evil", "over_hard", 3 * MIB),   # 4 MiB out, N1's 1 MiB in
             ("C4", "evil", "over_hard", 4 * MIB)]
    assert got == want
    for e in b.evictions:
        assert e["asset_bytes"] == 4 * MIB, e


def test_lazy_evictor_validations(evil):
    r, b = evil
    nm = names(r.line)
    stuck = [v for v in b.validations if v["code"] == "evictor_no_progress"]
    assert [nm[v["id"]] for v in stuck] == LAZY
    assert all(v["detail"] == 4 * MIB for v in stuck)
    assert [v for v in b.validations if v["code"] != "evictor_no_progress"] == []


def test_violations(evil):
    r, b = evil
    nm = names(r.line)
    got = [(b.name_of(v["node"]), v["event"], v["size"], nm.get(v["asset"], v["asset"]),
            v["live_bytes"], v["limit"]) for v in b.violations]
    assert got == [
        # L5: the lazy round freed nothing, soft mode lets it through
        ("evil", "over_hard", 4 * MIB, "L5", 16 * MIB, 16 * MIB),
        ("lazy", "over_soft", 0, 0, 20 * MIB, 6 * MIB),
        ("lazy", "over_soft", 0, 0, 20 * MIB, 6 * MIB),
        # the greedy evictor's 1 MiB, in G1's unload scope, before it freed anything
        ("evil", "over_hard", 1 * MIB, "G1", 16 * MIB, 16 * MIB),
    ]


def test_asset_loaded_inside_an_evictor(evil):
    """N1 is defined between C1's unload and C1's budget_evict record, and
    is resident with its 1 MiB at the end."""
    r, b = evil
    ids = {a["name"]: a["id"] for a in r.line["assets"]}
    seq = [(e["type"], e.get("asset"), e.get("state")) for e in b.events
           if e["type"] in ("asset_new", "asset_state", "budget_evict")]
    i_unloaded = seq.index(("asset_state", ids["C1"], "unloaded"))
    i_new = seq.index(("asset_new", ids["N1"], None))
    i_evict = seq.index(("budget_evict", ids["C1"], None))
    assert i_unloaded < i_new < i_evict
    assert b.assets[ids["N1"]].state == "resident" and b.assets[ids["N1"]].bytes == MIB


def test_budgets_report(evil):
    r, _ = evil
    rep = gmtrace_json("budgets", "--json", r.capture)
    nodes = {n["name"]: n for n in rep["nodes"]}
    assert [n["name"] for n in rep["nodes"]] == ["evil", "lazy", "greedy", "chatty"]
    assert nodes["evil"]["nevictions"] == 7 and nodes["lazy"]["nevictions"] == 10
    # an eviction that reclaims under 90 % of the asset is a leaky unload
    leaky = [(e["asset_name"], e["reclaimed_bytes"]) for e in nodes["evil"]["leaky_unloads"]]
    assert leaky == [("L1", 0), ("L2", 0), ("L3", 0), ("L4", 0), ("C1", 3 * MIB)]
    assert nodes["lazy"]["nleaky_unloads"] == 10
    assert [v["code"] for v in rep["validations"]] == ["evictor_no_progress"] * 14
    assert rep["totals"]["violations_by_event"]["over_hard"] == 2
    assert rep["check"]["passed"] is False


def test_dump_keys_are_unique(evil):
    """Every dump line is a JSON object with unique keys: budget_evict's time
    in the evictor is duration_ns, not a second "ns" (the event's time)."""
    _, b = evil
    dup = [e for e in b.events if "#dup" in e]
    assert dup == [], f"{len(dup)} dump lines repeat a key, e.g. {dup[:1]}"
    for e in b.evictions:
        assert e["duration_ns"] >= 0 and e["ns"] > e["duration_ns"], e
