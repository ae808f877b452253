"""test_bu_tree.py - bu_tree: a parent's limit evicts in its children, siblings keep theirs

The tree and the game are in bu_tree.c's opening comment; every eviction
(victim, node, event, frame), the two frame-end violations and every node's
live bytes at each frame end are known in advance (bu_support.TREE_*). The
records must say the same, every victim must be its node's policy choice at
that moment (replayed from the records: LRU, LFU, largest, priority), and
`gmtrace budgets` must report it.
"""
import pytest

from bu_support import (MIB, TREE, TREE_END, TREE_EVICTIONS, Budgets, gmtrace, gmtrace_json,
                        run, tree_checks)


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    r = run("tree", tmp_path_factory.mktemp("tree"), args=("api",))
    line = r.line
    node_of = {}
    for name, _, _, _, _, _, types, _ in TREE:
        nid = [n["id"] for n in line["nodes"] if n["name"] == name][0]
        for t in types:
            node_of[t] = nid
    prio = {a["id"]: a["priority"] for a in line["assets"]}
    return r, Budgets(r.capture, priority=prio, node_of=node_of)


def test_tree_evictions_limits_and_records(tree):
    r, b = tree
    tree_checks(r, b)


def test_parent_limit_evicts_in_both_children(tree):
    """assets (LRU) evicts textures and the sound A, older than the textures
    after it; audio's own limit evicts only sounds (lowest priority), though
    textures T5..T9 are older; total (largest) evicts textures for gameplay
    memory; gameplay (LFU) evicts particle effects."""
    r, _ = tree
    ev = r.line["evictions"]
    by_node = {}
    for e in ev:
        by_node.setdefault(e["node"], []).append(e["name"])
    assert by_node["assets"] == ["T1", "T2", "T3", "A", "T4"]
    assert by_node["audio"] == ["S5", "S10", "S15", "S20"]
    assert by_node["total"] == ["T5", "T6"]
    assert by_node["gameplay"] == ["E2", "E6"]
    assert by_node["particles"] == ["E3", "E4", "E1"]
    # the audio evictions left the textures alone: T5..T9 stayed through frame 11
    f11 = [e["name"] for e in ev if e["frame"] == 11]
    assert f11 and all(n.startswith("S") for n in f11)
    prio = {a["name"]: a["priority"] for a in r.line["assets"]}
    assert [prio[n] for n in by_node["audio"]] == [0, 0, 0, 0]


def test_peaks_count_only_bytes_that_were_live(tree):
    r, b = tree
    for n in r.line["nodes"]:
        assert n["peak"] == n["model_peak"], \
            f"{n['name']}: snapshot peak {n['peak'] / MIB} MiB, held at most " \
            f"{n['model_peak'] / MIB} MiB"
        peaks = [f["peak_live_bytes"] for f in b.frames[n["id"]]]
        assert max(peaks) == n["model_peak"], f"{n['name']}: budget_frame peak_live_bytes"


def test_budgets_report(tree):
    r, b = tree
    line = r.line
    rep = gmtrace_json("budgets", "--json", r.capture)
    assert rep["frames"] == 18
    assert [n["name"] for n in rep["nodes"]] == \
        ["total", "assets", "textures", "audio", "gameplay", "particles"], "tree order"
    nodes = {n["name"]: n for n in rep["nodes"]}
    mine = {n["name"]: n for n in line["nodes"]}
    for name, parent, soft, target, hard, policy, _, _ in TREE:
        n = nodes[name]
        assert (n["parent"], n["soft_limit_bytes"], n["hard_limit_bytes"], n["policy"]) == \
            (parent, soft * MIB, hard * MIB, policy), name
        assert n["target_bytes"] == (target or soft) * MIB, name
        assert n["depth"] == {"total": 0, "assets": 1, "gameplay": 1}.get(name, 2), name
        assert n["live_bytes"] == TREE_END[name] * MIB, name
        assert [p[1] for p in n["series"]] == mine[name]["frame_live"], name
        want = [(v, e) for v, node, e, _ in TREE_EVICTIONS if node == name]
        assert [(e["asset_name"], e["event"]) for e in n["evictions"]] == want, name
        assert [e["frame"] for e in n["evictions"]] == \
            [f for _, node, _, f in TREE_EVICTIONS if node == name], name
        assert n["nleaky_unloads"] == 0 and n["nfailed"] == 0, name
    assert nodes["assets"]["violations_by_event"]["over_soft"] == 1
    assert nodes["particles"]["violations_by_event"]["over_soft"] == 1
    assert rep["totals"]["evictions"] == len(TREE_EVICTIONS)
    assert rep["totals"]["violations_by_event"] == \
        {"over_soft": 2, "over_hard": 0, "failed": 0, "heap_full": 0}
    assert rep["check"]["passed"] is True
    assert gmtrace("budgets", "--check", r.capture).returncode == 0
    # --node: a subtree
    sub = gmtrace_json("budgets", "--json", "--node", "gameplay", r.capture)
    assert [n["name"] for n in sub["nodes"]] == ["gameplay", "particles"]
    assert sub["totals"]["evictions"] == 5


def test_assets_unload_in_the_frame_budgets_evicts_in(tree):
    """An eviction over a soft limit runs at a frame's end, after its mark:
    `gmtrace assets` has the unload in that frame, as `gmtrace budgets` has
    the eviction (not in the next one); over a hard limit, both have the
    frame of the allocation."""
    r, _ = tree
    rep = gmtrace_json("budgets", "--json", r.capture)
    evictions = [(e["asset"], e["frame"], e["event"]) for n in rep["nodes"]
                 for e in n["evictions"]]
    assert {ev for _, _, ev in evictions} == {"over_soft", "over_hard"}, evictions
    unloads = {a["id"]: (a["unload_frame"], a["unloaded_frame"])
               for a in gmtrace_json("assets", "--json", r.capture)["assets"]}
    for asset, frame, _ in evictions:
        assert unloads[asset] == (frame, frame), (asset, frame, unloads[asset])
