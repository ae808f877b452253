"""test_bu_file.py - budget trees from a YAML file (GMTRACE_BUDGETS)

bu_tree in "file" mode finds its nodes by name and registers evictors only;
the tree itself comes from budgets.yaml, written here from the same table as
the marker-API run, so the run must do exactly what that one does. A broken
file (a bad size at a known line, a missing file) gives one warning naming
the file and line, and the game runs without budgets. The file's mode
(strict) applies unless GMTRACE_BUDGET_MODE says otherwise.
"""
import re

import pytest

from bu_support import TREE, Budgets, dump_events, run, tree_checks, tree_yaml, verdicts_ok


def node_of(line):
    out = {}
    for name, _, _, _, _, _, types, _ in TREE:
        nid = [n["id"] for n in line["nodes"] if n["name"] == name][0]
        for t in types:
            out[t] = nid
    return out


def test_tree_from_the_file_does_what_the_api_tree_does(tmp_path):
    path = tree_yaml(tmp_path / "budgets.yaml")
    r = run("tree", tmp_path / "run", args=("file",), env={"GMTRACE_BUDGETS": str(path)})
    assert r.stderr == b"", r.stderr
    prio = {a["id"]: a["priority"] for a in r.line["assets"]}
    b = Budgets(r.capture, priority=prio, node_of=node_of(r.line))
    tree_checks(r, b)
    # the nodes come from the file: defined before the game's first frame
    first_frame = next(i for i, e in enumerate(b.events) if e["type"] == "frame")
    defs = [i for i, e in enumerate(b.events) if e["type"] == "budget_node"]
    assert defs and max(defs) < first_frame


def broken(lines, what):
    """The tree's file with one line changed; returns (text, 1-based line)."""
    for i, s in enumerate(lines):
        if s.strip() == "hard: 96M":  # the assets node
            if what == "bad size":
                lines[i] = s.replace("96M", "96Q")
            elif what == "zero size":
                lines[i] = s.replace("96M", "0")
            return "\n".join(lines) + "\n", i + 1
    pytest.fail("no 'hard: 96M' line in the tree file")


@pytest.mark.parametrize("what", ["bad size", "zero size", "missing file"])
def test_broken_file_warns_once_and_runs_without_budgets(tmp_path, what):
    path = tree_yaml(tmp_path / "budgets.yaml")
    if what == "missing file":
        path.unlink()
        where = re.escape(str(path)) + r":"
    else:
        text, lineno = broken(path.read_text().splitlines(), what)
        path.write_text(text)
        where = re.escape(str(path)) + f":{lineno}:"
    r = run("tree", tmp_path / "run", args=("file",), env={"GMTRACE_BUDGETS": str(path)})
    err = r.stderr.decode("utf-8", "replace").splitlines()
    assert len(err) == 1, f"one warning expected, got {err}"
    pid = r.capture.stem
    assert re.fullmatch(rf"gmtrace: \[{pid}\] {where} \S.*", err[0]), err[0]
    # the game ran, unbudgeted: no node, no eviction, no budget record
    line = r.line
    verdicts_ok(line)
    assert line["budgets"] == 0 and line["nodes"] == [] and line["evictions"] == []
    assert line["frames"] == 18
    kinds = {e["type"] for e in dump_events(r.capture)}
    assert not kinds & {"budget_node", "budget_frame", "budget_violation", "budget_evict"}


def strict_file(tmp_path):
    """A file whose mode is strict, with one node of its own ("spare")."""
    p = tmp_path / "mode.yaml"
    p.write_text("mode: strict\nnodes:\n  - name: spare\n    hard: 1M\n")
    return p


def test_file_mode_strict_applies(tmp_path):
    r = run("strict", tmp_path / "run", args=("strict",),
            env={"GMTRACE_BUDGETS": str(strict_file(tmp_path))})
    verdicts_ok(r.line)
    assert r.line["malloc_null"] and r.line["new_threw"] and r.line["recovered"]
    b = Budgets(r.capture)
    assert b.nodes[b.node_id("spare")]["strict"] == 1
    assert b.nodes[b.node_id("level")]["strict"] == 1


def test_environment_mode_wins_over_the_file(tmp_path):
    r = run("strict", tmp_path / "run", args=("soft",),
            env={"GMTRACE_BUDGETS": str(strict_file(tmp_path)), "GMTRACE_BUDGET_MODE": "soft"})
    verdicts_ok(r.line)
    assert not r.line["malloc_null"] and not r.line["new_threw"]
    b = Budgets(r.capture)
    assert b.nodes[b.node_id("level")]["strict"] == 0
