"""test_bu_edges.py - bu_edges: size classes, a failed huge request, an evictor that throws

A node's hard limit holds for the size class a block takes from its heap
(5 MiB + 1 takes 6 MiB), for malloc and realloc alike; a request no
allocator serves never shows as a peak; an evictor's C++ exception, caught
by the game, leaves eviction working on that thread, the asset left alone
until the frame's end and the thread's scopes as they were.
"""
import pytest

from bu_support import dump_events, gmtrace_json, run, verdicts_ok

MIB = 1 << 20
FX_SIZE_7 = 4096 * 7 + 1771


@pytest.fixture(scope="module")
def edges(tmp_path_factory):
    r = run("edges", tmp_path_factory.mktemp("edges"))
    verdicts_ok(r.line)
    return r, dump_events(r.capture)


def test_limit_holds_for_size_classes(edges):
    s = edges[0].line["sizes"]
    assert s["six_mib_class_null"] and s["six_mib_class_enomem"], s
    assert s["realloc_null"] and s["realloc_enomem"], s
    assert (s["live"], s["peak"], s["failures"], s["violations"]) == (8 * MIB, 8 * MIB, 2, 0)
    assert s["live_end"] == 0
    failed = [(e["size"], e["live_bytes"]) for e in edges[1]
              if e["type"] == "budget_violation" and e["event"] == "failed"]
    assert failed == [(5 * MIB + 1, 2 * MIB + MIB // 2), (3 * MIB + 1, 8 * MIB)]


def test_defined_again(edges):
    r, events = edges
    got = [(e["id"], e["detail"]) for e in events
           if e["type"] == "validation" and e["code"] == "node_redefined"]
    assert got == [(1, 16 * MIB), (1, 8 * MIB)]
    lines = [s for s in r.stderr.decode().splitlines() if "defined already" in s]
    assert len(lines) == 1 and '"sizes"' in lines[0], r.stderr
    # gmtrace budgets lists them with the node's name
    rep = gmtrace_json("budgets", "--json", r.capture)
    assert [(v["code"], v["detail"]) for v in rep["validations"]] == \
        [("node_redefined", 16 * MIB), ("node_redefined", 8 * MIB)], rep["validations"]


def test_failed_huge_request_is_no_peak(edges):
    r, events = edges
    s = r.line["soft"]
    assert s["huge_null"]
    assert (s["live"], s["peak"]) == (MIB, MIB)
    assert [e["event"] for e in events if e["type"] == "budget_violation" and e["node"] == 2] \
        == ["over_hard", "heap_full"]
    frames = [(e["frame"], e["peak_live_bytes"]) for e in events
              if e["type"] == "budget_frame" and e["node"] == 2]
    assert frames[0] == (1, MIB), frames
    rep = gmtrace_json("budgets", "--json", r.capture)
    soft = next(n for n in rep["nodes"] if n["name"] == "soft")
    assert soft["peak_live_bytes"] == MIB


def test_evictor_that_throws(edges):
    r, events = edges
    c = r.line["cache"]
    assert (c["caught"], c["caught_at"]) == (1, 4)
    # texture 0's evictor threw: left alone until the frame's end, then evicted
    assert c["evicted"] == [1, 2, 3, 5, 6, 0]
    assert c["t0_resident_at_frame_end"]
    assert (c["live"], c["violations"], c["evictions"]) == (4 * MIB, 0, 5)
    assert (c["after_frame"]["live"], c["after_frame"]["evictions"]) == (4 * MIB, 6)
    assert not [e for e in events if e["type"] == "budget_violation" and e["node"] == 3]


BANK_YAML = """nodes:
  - name: bank
    hard: 4M
    capacity: 4M
    policy: lru
    types: [slab]
"""


def test_throw_while_a_reservation_is_held(tmp_path):
    """The bank has the room by its count but no hole large enough: the
    evictions for room in the heap run while the block's reservation is
    held, and the evictor's exception takes it back."""
    budgets = tmp_path / "bank.yaml"
    budgets.write_text(BANK_YAML)
    r = run("edges", tmp_path / "run", env={"GMTRACE_BUDGETS": str(budgets)})
    verdicts_ok(r.line)
    b = r.line["bank"]
    assert (b["caught"], b["live_before"], b["live_after_throw"], b["live_end"]) == \
        (1, 5 * MIB // 2, 5 * MIB // 2, 0), b
    assert b["peak"] == 7 * MIB // 2, b


def test_scopes_after_the_exception(edges):
    """The block allocated right after the caught exception is the game's
    tag "world" and no asset's: the evictor's neutral scope is gone."""
    _, events = edges
    tags = {e["tag"]: e["name"] for e in events if e["type"] == "tag_def"}
    tag = asset = None
    for e in events:
        if e["thread"] != 0:
            continue
        if e["type"] == "context":
            tag, asset = e["tag"], e["asset"]
        elif e["type"] == "alloc" and e["size"] == FX_SIZE_7:
            break
    else:
        pytest.fail("the FX_SIZE(7) block is not in the capture")
    assert (tags.get(tag), asset) == ("world", 0)


def test_limits_past_any_count_are_none(edges):
    """UINT64_MAX (a game's "unlimited") as soft, hard and target limits is
    no limit: as a signed count it was below every live count, so a 1000 B
    blob called the evictor and, strict, failed."""
    u = edges[0].line["unlimited"]
    assert u["served"] and u["evictor_calls"] == 0, u
    assert (u["violations"], u["failures"], u["evictions"]) == (0, 0, 0), u
    rep = gmtrace_json("budgets", "--json", edges[0].capture, expect_rc=0)
    (node,) = [n for n in rep["nodes"] if n["name"] == "unlimited"]
    assert (node["soft_limit_bytes"], node["hard_limit_bytes"], node["target_bytes"]) == (0, 0, 0)
    assert (node["nviolations"], node["nevictions"], node["nfailed"]) == (0, 0, 0)
