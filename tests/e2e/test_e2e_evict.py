"""test_e2e_evict.py - Python evictors called by libgmtrace (evict_game.py)

Textures (pygame Surfaces, pixels malloc'd by SDL inside the asset's load
scope) go over a budget; the evictor written in Python must be called with
the asset ids the LRU order predicts, where the case says (inside
display.flip() at a frame end, or inside the allocation that goes over),
on the thread that allocated, and the node's live bytes must drop by what
one texture costs. The capture must say the same (budget_evict records).
"""
import pytest

from e2e_support import dump, needs_pygame, run_script, script

pytestmark = needs_pygame

# Victims per case, in order (evict_game.py tells the story frame by frame):
#   A, B, C touched in frames 1, 2, 3; A again in 4; D loaded in 5; C, D
#   touched in 6; E and F loaded in 7. Ties go to the oldest asset.
EXPECTED = {
    "soft": ["B", "A", "C"],         # frame ends 5 and 7 (7: two to go under)
    "hard": ["B", "A", "C"],         # inside the loads of D, E and F
    "pinned": ["C", "D", "E"],       # A pinned and B held: skipped
    "thread": ["A"],                 # all touched in one frame: the oldest
    "nested": ["B", "C", "A", "scratch"],  # B's eviction loads scratch first
}
WHERE = {"soft": "flip", "hard": "load", "pinned": "load", "thread": "load",
         "nested": None}
EVENT = {"soft": "over_soft", "hard": "over_hard", "pinned": "over_hard",
         "thread": "over_hard", "nested": "over_hard"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = {}
    for case in EXPECTED:
        d = tmp_path_factory.mktemp(case)
        out[case] = run_script(script("evict_game.py"), ["--case", case], d)
    return out


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_evictor_gets_the_lru_victims(runs, case):
    line = runs[case].line
    assert line["gmtrace"], f"{case}: gmtrace not enabled in the child"
    got = [e["name"] for e in line["evictions"]]
    assert got == EXPECTED[case], f"{case}: evicted {got}, expected {EXPECTED[case]}"
    for e in line["evictions"]:
        if e["name"] in line["ids"]:
            assert e["id"] == line["ids"][e["name"]], f"{case}: {e} has the wrong id"
    assert line["node"]["evictions"] == len(EXPECTED[case]), f"{case}: {line['node']}"
    assert line["depth_max"] == 1, f"{case}: evictor nested {line['depth_max']} deep"


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_evictor_runs_where_and_on_the_thread_expected(runs, case):
    line = runs[case].line
    thread = "loader" if case == "thread" else "main"
    for e in line["evictions"]:
        assert e["thread"] == thread, f"{case}: {e}"
        if WHERE[case]:
            assert e["where"] == WHERE[case], f"{case}: {e}"


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_memory_comes_back(runs, case):
    line = runs[case].line
    cost = line["cost"]
    assert cost >= 256 * 256 * 4, f"{case}: one texture costs only {cost} bytes"
    for i, e in enumerate(line["evictions"]):
        dropped = e["live_before"] - e["live_after"]
        if case == "nested" and i == 0:
            # scratch (one texture) came in before the victim went out
            assert abs(dropped) < cost // 8, f"{case}: {e}"
            continue
        assert cost * 0.9 <= dropped <= cost * 1.1, f"{case}: {e} (cost {cost})"
    limit = line["node"]["soft_limit"] or line["node"]["hard_limit"]
    assert line["node"]["live_bytes"] <= limit, f"{case}: {line['node']}"


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_capture_has_the_evictions(runs, case):
    run = runs[case]
    ids = {e["id"]: e["name"] for e in run.line["evictions"]}
    evs = dump(run.capture, ("budget_evict", "budget_violation", "validation"))
    got = [ids.get(e["asset"], e["asset"]) for e in evs if e["type"] == "budget_evict"]
    assert got == EXPECTED[case], f"{case}: budget_evict records {got}"
    assert {e["event"] for e in evs if e["type"] == "budget_evict"} == {EVENT[case]}
    progress = [e for e in evs if e["type"] == "validation"
                and e["code"] == "evictor_no_progress"]
    if case == "nested":
        # the first eviction gave back what scratch took: no net progress,
        # and scratch's load went over the hard limit while evicting
        assert [ids.get(e["id"]) for e in progress] == ["B"], progress
        scratch = [i for i, n in ids.items() if n == "scratch"]
        over = [e for e in evs if e["type"] == "budget_violation"
                and e["event"] == "over_hard" and e["asset"] in scratch]
        assert over, f"{case}: no over_hard violation for scratch's load"
    else:
        assert progress == [], f"{case}: {progress}"
