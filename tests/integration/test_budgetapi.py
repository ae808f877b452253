"""test_budgetapi.py - fx_budgetapi: every wrong call of the budget API once
(names NULL, empty and too long, unknown nodes and parents, a bad policy, and
the node, tag-bind and type-bind tables filled). Each leaves exactly the
validation record listed in budgetapi.c, in order, the calls return what the
header says, and without the preload every call is a harmless no-op."""
import json

from conftest import (assert_tally, assert_valid, captures, dump_events, fixture_line, fx,
                      gmtrace, rule_tally, run_plain, run_preloaded)

ROOT = 1
EXPECTED = [  # (code, id, detail)
    ("null_name", 0, 0), ("null_name", 0, 1), ("long_name", 0, 100),       # 1-3 define
    ("unknown_node", 0, 0),                                                # 4 parent
    ("unknown_node", 0, 0), ("unknown_node", 99, 0),                       # 5 bind_tag
    ("null_name", ROOT, 0), ("null_name", ROOT, 1), ("long_name", ROOT, 200),  # 6
    ("unknown_node", 0, 0),                                                # 7 bind_type
    ("null_name", ROOT, 0), ("long_name", ROOT, 80),                       # 8
    ("unknown_node", 99, 0), ("bad_policy", ROOT, 7),                      # 9 policy
    ("unknown_node", 0, 0),                                                # 10 evictor
    ("null_name", 0, 0), ("long_name", 0, 80),                             # 11 evictor_type
    ("stack_overflow", 0, 64),                                             # 12 nodes
    ("stack_overflow", ROOT, 256),                                         # 13 tag binds
    ("stack_overflow", ROOT, 64),                                          # 14 type binds
]


def test_budget_api_misuse(tmp_path):
    r = run_preloaded([fx("fx_budgetapi")], tmp_path, timeout=30)
    assert r.returncode == 0, r.stderr
    line = fixture_line(r.stdout, fixture="budgetapi")
    assert (line["root"], line["nodes"], line["tag_binds"], line["type_binds"]) == \
        (ROOT, 64, 256, 64)
    assert (line["snapshot_nodes"], line["snapshot_assets"], line["snapshot_first"]) == \
        (64, 0, "root")
    caps = captures(tmp_path)
    assert len(caps) == 1
    assert_valid(caps[0])
    assert_tally(rule_tally(caps[0]), line)
    got = [(e["code"], e["id"], e["detail"]) for e in dump_events(caps[0])
           if e["type"] == "validation"]
    assert got == EXPECTED
    rep = gmtrace("budgets", "--json", caps[0])
    assert rep.returncode == 0, rep.stderr
    rep = json.loads(rep.stdout)
    assert [n["name"] for n in rep["nodes"]] == ["root"] + [f"node{i}" for i in range(63)]
    assert {n["parent"] for n in rep["nodes"][1:]} == {"root"}
    # no frame ended: each node has one point for the whole run, written at
    # the end, so the report has its live and peak bytes: root held the
    # FX_SIZE(1) block (5867 bytes, its heap's 6144-byte class), then none
    points = [(e["frame"], e["node"], e["live_bytes"], e["peak_live_bytes"])
              for e in dump_events(caps[0]) if e["type"] == "budget_frame"]
    assert points == [(1, 1, 0, 6144)] + [(1, node, 0, 0) for node in range(2, 65)]
    assert (rep["nodes"][0]["peak_live_bytes"], rep["nodes"][0]["live_bytes"]) == (6144, 0)


def test_budget_api_without_the_preload(tmp_path):
    r = run_plain([fx("fx_budgetapi")], tmp_path, timeout=30)
    assert r.returncode == 0, r.stderr
    line = fixture_line(r.stdout, fixture="budgetapi")
    assert (line["root"], line["nodes"], line["tag_binds"], line["type_binds"],
            line["snapshot_nodes"]) == (0, 1, 0, 0, 0)


def test_a_root_node_stays_a_root_under_a_budgets_file(tmp_path):
    # Only a platform's default bank takes the game's root nodes as its
    # children: a budgets file's `default: true` node is an ordinary node,
    # and "root" stays a root beside it (it went under "misc" and its
    # allocations failed at misc's 1 KiB).
    (tmp_path / "b.yaml").write_text("nodes:\n  - name: misc\n    hard: 1K\n"
                                     "    default: true\n")
    r = run_preloaded([fx("fx_budgetapi")], tmp_path,
                      extra_env={"GMTRACE_BUDGETS": str(tmp_path / "b.yaml"),
                                 "GMTRACE_BUDGET_MODE": "strict"}, timeout=30)
    assert r.returncode == 0, r.stderr
    (cap,) = captures(tmp_path)
    nodes = {e["name"]: e for e in dump_events(cap) if e["type"] == "budget_node"}
    assert nodes["root"]["parent"] == 0, nodes["root"]
    assert "defined already" not in r.stderr.decode()
