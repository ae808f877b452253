"""test_bu_strict.py - bu_strict: an allocation no eviction can satisfy

Everything in the node is pinned or referenced when a 14 MiB allocation
would take it from 28 to 42 MiB over a 32 MiB hard limit. strict: malloc
gives NULL with ENOMEM, new throws std::bad_alloc, nothrow new gives
nullptr, each recorded as a `failed` violation, and the game recovers by
letting the budget evict (exit 0). soft: all three succeed, each recorded
as an `over_hard` violation.
"""
import pytest

from bu_support import MIB, Budgets, gmtrace, gmtrace_json, run, verdicts_ok


@pytest.fixture(scope="module")
def strict(tmp_path_factory):
    r = run("strict", tmp_path_factory.mktemp("strict"), args=("strict",),
            env={"GMTRACE_BUDGET_MODE": "strict"})
    return r, Budgets(r.capture)


@pytest.fixture(scope="module")
def soft(tmp_path_factory):
    r = run("strict", tmp_path_factory.mktemp("soft"), args=("soft",),
            env={"GMTRACE_BUDGET_MODE": "soft"})
    return r, Budgets(r.capture)


def attempts(line):
    """(asset id, bytes) of the three over-limit allocations: M5's malloc, M6's new and
    nothrow new."""
    ids = line["ids"]
    return [(ids["M5"], 14 * MIB), (ids["M6"], 14 * MIB), (ids["M6"], 14 * MIB)]


def test_strict_fails_as_the_device_would(strict):
    r, b = strict
    line = r.line
    verdicts_ok(line)
    assert line["malloc_null"] and line["malloc_errno"] == line["enomem"]
    assert line["new_threw"] and line["nothrow_null"]
    assert line["live_after_attempts"] == line["live_before"] == 28 * MIB
    assert line["failures_after_attempts"] == 3 and line["violations_after_attempts"] == 0
    node = b.node_id("level")
    assert b.nodes[node]["strict"] == 1
    failed = [v for v in b.violations if v["event"] == "failed"]
    assert [(v["asset"], v["size"]) for v in failed] == attempts(line)
    for v in failed:
        assert (v["node"], v["live_bytes"], v["limit"]) == (node, 28 * MIB, 32 * MIB), v
    assert not [v for v in b.violations if v["event"] == "over_hard"]
    # the hooks' own records of the failed calls
    fails = [(e["kind"], e["size"]) for e in b.events if e["type"] == "fail"]
    assert fails[:3] == [("malloc", 14 * MIB), ("new_array", 14 * MIB), ("new_array", 14 * MIB)]


def test_strict_recovers_by_evicting_in_lru_order(strict):
    r, b = strict
    line = r.line
    assert line["recovered"]
    ids = line["ids"]
    assert line["evictions"] == [ids["M1"], ids["M2"], ids["M3"], ids["M4"]]
    recs = [(e["asset"], e["event"], e["reclaimed_bytes"]) for e in b.evictions]
    assert recs == [(ids[m], "over_hard", 7 * MIB) for m in ("M1", "M2", "M3", "M4")]
    assert line["live_end"] == line["model_end"]


def test_strict_level_change_fits_in_the_room_evictions_left(strict):
    r, b = strict
    assert not [v for v in b.violations if v["event"] == "heap_full"], "heap_full violations"
    assert r.line["recovered_by_eviction"] and r.line["m7_bytes"] == 28 * MIB


def test_budgets_check_fails_on_failed_allocations(strict):
    r, _ = strict
    rep = gmtrace_json("budgets", "--json", r.capture)
    assert rep["check"]["passed"] is False and rep["check"]["failed"] == 3
    (node,) = rep["nodes"]
    assert node["name"] == "level" and node["strict"] is True
    first = node["failed"][:3]
    assert [(v["event"], v["requested_bytes"], v["failure"]) for v in first] == \
        [("failed", 14 * MIB, True)] * 3
    assert [v["asset_name"] for v in first] == ["M5", "M6", "M6"]
    assert gmtrace("budgets", "--check", r.capture).returncode == 1


def test_soft_succeeds_and_records_violations(soft):
    r, b = soft
    line = r.line
    verdicts_ok(line)
    assert not line["malloc_null"] and not line["new_threw"] and not line["nothrow_null"]
    node = b.node_id("level")
    assert b.nodes[node]["strict"] == 0
    over = [v for v in b.violations if v["event"] == "over_hard"]
    assert [(v["asset"], v["size"]) for v in over] == attempts(line)
    for v in over:
        assert (v["node"], v["limit"]) == (node, 32 * MIB), v
    assert over[0]["live_bytes"] == 28 * MIB
    assert not [v for v in b.violations if v["event"] == "failed"]
    assert not [e for e in b.events if e["type"] == "fail"], "no failed call in soft mode"
    assert b.evictions == []
    assert line["live_end"] == line["model_end"] == 28 * MIB
    assert gmtrace("budgets", "--check", r.capture).returncode == 1, "over_hard fails --check"


def test_soft_violations_still_count_their_bytes(soft):
    r, b = soft
    line = r.line
    assert line["live_after_attempts"] == 70 * MIB, "live bytes after the three"
    assert line["failures_after_attempts"] == 0, "nothing failed"
    assert line["violations_after_attempts"] == 3
    assert not [v for v in b.violations if v["event"] == "heap_full"]
