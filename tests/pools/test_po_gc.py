"""test_po_gc.py - po_gc: GC runs reported through gmtrace_gc(), numbers exact

po_gc (po_gc.c) reports f % 4 runs in frame f (none in frame 1) with known
generations, durations and counts, and makes frames 6 and 8 spike (2000
allocations against GMTRACE_SPIKE_ALLOCATIONS=1000). Checked: totals, per
generation, per frame, and the one spike frame with a GC run (6). The
Python module's own test lives with the Python tests.
"""
import pytest

from po_support import csv_tables, gmtrace, pools_json, run_fixture

SPIKES = {"GMTRACE_SPIKE_ALLOCATIONS": "1000", "GMTRACE_SPIKE_FACTOR": "0"}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    r = run_fixture("po_gc", [30], tmp_path_factory.mktemp("gc"), SPIKES)
    return r, pools_json(r.capture)


def test_gc_totals_and_generations(run):
    r, rep = run
    gc, line = rep["gc"], r.line
    assert gc["runs"] == line["runs"] == 44
    assert gc["pause_ns"] == line["pause_ns"]
    assert gc["max_ns"] == line["max_ns"]
    assert gc["pause_ns_per_frame"] == line["pause_ns"] / line["frames"]
    assert gc["generations"] == line["generations"]


def test_gc_per_frame(run):
    r, rep = run
    got = [{k: f[k] for k in ("frame", "runs", "pause_ns", "max_ns", "collected")}
           for f in rep["gc"]["per_frame"]]
    assert got == r.line["per_frame"]
    assert rep["gc"]["frames_with_gc"] == len(r.line["per_frame"])


def test_spike_frames_with_a_gc_run(run):
    r, rep = run
    assert rep["gc"]["spike_frames"] == r.line["spike_frames_with_gc"] == [6]
    assert rep["gc"]["spike_frames_with_gc"] == 1
    assert [f["frame"] for f in rep["gc"]["per_frame"] if f["spike"]] == [6]


def test_gc_csv_and_text(run):
    r, rep = run
    res = gmtrace("pools", "--csv", r.capture)
    assert res.returncode == 0, res.stderr
    t = csv_tables(res.stdout)
    assert [int(x["runs"]) for x in t["gc_generations"]] == [g["runs"] for g in r.line["generations"]]
    assert [int(x["frame"]) for x in t["gc_frames"] if x["spike"] == "1"] == [6]
    res = gmtrace("pools", r.capture)
    assert "garbage collector: 44 runs" in res.stdout
