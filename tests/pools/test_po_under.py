"""test_po_under.py - po_under: more releases than acquires is one validation

A release with no acquire never shows as a negative count (nor as 2^64 - 1
objects at the peak): the pool's frame records say 0 in use at the least,
and one pool_underflow validation follows the second frame end in a row that
finds the count below zero; none follows frame 4's, the first of a new
stretch below zero. A call on the pool once destroyed is one unknown_pool
validation and counts nothing.
"""
import json
import subprocess

import pytest

from po_support import GMTRACE, pools_json, run_fixture


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    r = run_fixture("po_under", [], tmp_path_factory.mktemp("under"))
    out = subprocess.run([str(GMTRACE), "dump", "--json", str(r.capture)],
                         stdout=subprocess.PIPE, check=True, timeout=60).stdout
    return r, [json.loads(s) for s in out.splitlines()]


def test_frame_records_never_go_below_zero(run):
    r, events = run
    frames = [(e["frame"], e["in_use"], e["high_water"]) for e in events
              if e["type"] == "pool_frame" and e["pool"] == r.line["pool"]]
    # the game's counts stay its own: one object short from frame 1 on, so
    # the acquire of frame 3 brings them to 0, its release to -1 (shown as 0)
    assert frames == [(1, 0, 2), (3, 0, 1), (4, 0, 0)]


def test_one_underflow_after_the_second_frame_end(run):
    r, events = run
    kinds = [(e["type"], e.get("frame"), e.get("code"), e.get("detail"))
             for e in events if e["type"] in ("frame", "validation")]
    assert kinds == [("frame", 1, None, None), ("frame", 2, None, None),
                     ("validation", None, "pool_underflow", 1),
                     ("frame", 3, None, None), ("frame", 4, None, None),
                     ("validation", None, "unknown_pool", 0), ("frame", 5, None, None)]


def test_report_figures(run):
    r, _ = run
    rep = pools_json(r.capture)
    (pool,) = rep["pools"]
    assert (pool["in_use_end"], pool["peak"], pool["peak_frame"]) == (0, 2, 1)
    assert (pool["acquires"], pool["releases"]) == (3, 4)
