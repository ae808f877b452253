"""test_bu_feeder.py - bu_feeder: an evictor that loads a replacement for each
asset it evicts gets each resident asset once per frame end, not the ones it
loaded itself in that eviction (which fed it for thousands of calls a frame
end before, the game looking hung)."""
import pytest

from bu_support import Budgets, run, verdicts_ok

KIB = 1 << 10


@pytest.fixture(scope="module")
def feeder(tmp_path_factory):
    r = run("feeder", tmp_path_factory.mktemp("feeder"), timeout=60)
    return r, Budgets(r.capture)


def test_each_frame_end_evicts_what_was_there_before_it(feeder):
    r, b = feeder
    verdicts_ok(r.line)
    ids = r.line["ids"]
    assert (r.line["calls_frame1"], r.line["calls_frame2"], r.line["calls_hard"]) == (3, 3, 3)
    assert r.line["evicted"][:3] == [ids["T1"], ids["T2"], ids["T3"]]
    # frame 2's victims are the replacements frame 1's evictions loaded
    assert [b.assets[i].name for i in r.line["evicted"][3:6]] == ["R1", "R2", "R3"]
    assert r.line["live_end"] == 3 * 64 * KIB
    still = b.names["still"]
    assert [e["asset"] for e in b.evictions if e["node"] != still] == r.line["evicted"]
    # S4's load: S1, S2, S3, never a replacement of that same allocation
    assert [b.assets[i].name for i in r.line["evicted"][6:]] == ["S1", "S2", "S3"]
    assert [v["code"] for v in b.validations] == ["evictor_no_progress"] * (9 + 42)


def test_an_allocation_calls_a_fruitless_evictor_16_times(feeder):
    """Node still's evictor frees nothing: each load past its hard limit
    calls it 16 times in all its rounds (it called it for every asset
    there), then goes over (soft mode: an over_hard violation each)."""
    r, b = feeder
    still = b.names["still"]
    assert r.line["still_calls"] == [16, 16, 10]
    names = [b.assets[i].name for i in r.line["still_victims"]]
    assert names == [f"U{k}" for k in range(1, 41)] + ["U41", "U42"]
    assert [e["asset"] for e in b.evictions if e["node"] == still] == r.line["still_victims"]
    over = [v for v in b.violations if v["node"] == still]
    assert [v["event"] for v in over] == ["over_hard"] * 3
