"""test_fr_compare.py - `gmtrace frames --compare A B` on two builds of one game

fr_pattern plays the same way every run (fr_pattern.c): frame n allocates
f(n) = (n * 7) % 13 + 1 rule-sized blocks and keeps one when n % 11 == 0.
"Before" is 300 frames, "after" 330: three more kept blocks, so more live
bytes at the end, and the same per-frame counts. Checked:
 - every figure of a run equals what the fixture's own per-frame line gives
   (nearest-rank percentiles of its allocations and bytes; frames) and what
   `gmtrace frames --json` of the same capture says (live bytes);
 - two runs of the same build differ in no memory figure: --check-growth 0
   passes (exit 0), whatever the frame times did;
 - the longer run grows the live bytes at the end by exactly its three kept
   blocks: --check-growth 5 fails (exit 1) on that figure and no other
   memory figure, --check-growth 20 passes;
 - usage errors and a missing capture are one clear line each (a capture
   without frames, damage and out of memory: test_frames_cmd.c).
"""
import json
import math

import pytest

from fr_support import frames_json, gmtrace, per_frame_column, run_fixture

S = 200
FIG_METRICS = ("frame_ns", "allocations", "allocated_bytes", "alloc_ns")
MEMORY = {"allocations", "allocated_bytes", "peak_live_bytes", "end_live_bytes"}


def nearest_rank(values, p):
    """The p-th percentile by the nearest-rank method (gmtrace frames)."""
    v = sorted(values)
    return v[max(1, math.ceil(p * len(v) / 100)) - 1]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two runs of 300 frames and one of 330, each with its fixture line."""
    out = tmp_path_factory.mktemp("compare")
    env = {"GMTRACE_SPIKE_FACTOR": "0"}
    return {name: run_fixture("fr_pattern", [frames, S], out / name, env)
            for name, frames in (("a", 300), ("a2", 300), ("b", 330))}


def compare(a, b, *extra):
    r = gmtrace("frames", "--json", *extra, "--compare", a.capture, b.capture)
    return r.returncode, json.loads(r.stdout) if r.stdout else None, r.stderr


def figures(report, side):
    return {f["name"]: f[side] for f in report["figures"]}


def test_figures_are_the_fixtures_own(runs):
    rc, rep, err = compare(runs["a"], runs["b"])
    assert rc == 0, err
    assert rep["check_growth"] is None and rep["passed"] is None and rep["grew"] == 0
    assert rep["error_a"] is None and rep["error_b"] is None
    for side in ("a", "b"):
        run = runs[side]
        got = figures(rep, side)
        per = run.line["per_frame"]
        n = run.line["frames"]
        assert got["frames"] == n == len(per["allocations"])
        for key in ("allocations", "allocated_bytes"):
            for p in (50, 95, 99):
                assert got[f"{key}_p{p}"] == nearest_rank(per[key], p), (side, key, p)
            assert got[f"{key}_max"] == max(per[key])
        # the same capture through `gmtrace frames --json`
        fr, _ = frames_json(run.capture)
        assert got["end_live_bytes"] == per_frame_column(fr, "live_bytes")[-1]
        assert got["peak_live_bytes"] == max(per_frame_column(fr, "peak_live_bytes"))
        assert got["spikes"] == len(fr["spikes"])
        for m in FIG_METRICS:
            assert [got[f"{m}_p{p}"] for p in (50, 95, 99)] + [got[f"{m}_max"]] == \
                [fr["percentiles"][m][k] for k in ("p50", "p95", "p99", "max")], m
    # a figure's change and percent follow from its two values
    for f in rep["figures"]:
        assert f["change"] == f["b"] - f["a"]
        if f["a"]:
            assert f["change_pct"] == pytest.approx((f["b"] - f["a"]) * 100 / f["a"])
        else:
            assert f["change_pct"] is None
        assert f["checked"] == (f["name"].rsplit("_p", 1)[0].rsplit("_max", 1)[0] in MEMORY)
        assert f["grew"] is False


def test_two_runs_of_one_build_pass_a_zero_growth_check(runs):
    rc, rep, err = compare(runs["a"], runs["a2"], "--check-growth", "0")
    assert rc == 0, err
    assert rep["check_growth"] == 0 and rep["passed"] is True and rep["grew"] == 0
    for f in rep["figures"]:
        if f["checked"]:
            assert f["change"] == 0, f


def test_three_more_kept_blocks_fail_a_5_percent_check(runs):
    a, b = runs["a"], runs["b"]
    # the blocks frames 297 + 11, +22, +33 keep: block 0 of FX_SIZE(1 + n % 5)
    added = sum(4096 * (1 + n % 5) + 1771 for n in (308, 319, 330))
    rc, rep, err = compare(a, b, "--check-growth", "5%")
    assert rc == 1, err
    assert rep["check_growth"] == 5 and rep["passed"] is False
    grew = [f["name"] for f in rep["figures"] if f["grew"]]
    assert grew == ["end_live_bytes"], grew
    assert rep["grew"] == 1
    end = {f["name"]: f for f in rep["figures"]}["end_live_bytes"]
    assert end["change"] == added and end["change_pct"] > 5
    rc, rep, err = compare(a, b, "--check-growth", "20")
    assert rc == 0 and rep["passed"] is True, err


def test_text_names_the_figure_that_grew(runs):
    r = gmtrace("frames", "--check-growth", "5", "--compare", runs["a"].capture,
                runs["b"].capture)
    assert r.returncode == 1, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == f"compare   {runs['a'].capture} -> {runs['b'].capture}"
    grew = [l.split()[0:5] for l in lines if l.endswith("  grew")]
    assert len(grew) == 1 and grew[0][:4] == ["live", "bytes", "at", "the"], lines
    assert lines[-1] == "check     memory figures growing by more than 5%: 1, failed"


def test_bad_usage_and_a_missing_capture(runs, tmp_path):
    a = str(runs["a"].capture)
    for args, want in (
            (["--compare", a], "--compare takes two captures, once"),
            (["--compare", a, a, a], "--compare A B takes no other capture"),
            (["--compare", a, a, "--csv"],
             "--compare A B takes only --json, --check-growth and --check, not --csv"),
            (["--compare", a, "--json"], "--compare takes two captures, once"),
            (["--check-growth", "5", a], "--check-growth goes with --compare A B"),
            (["--check-growth", "-1", "--compare", a, a], "--check-growth takes a percent"),
            (["--check-growth", "x%", "--compare", a, a], "--check-growth takes a percent")):
        r = gmtrace("frames", *args)
        assert r.returncode == 2, args
        assert r.stderr.splitlines()[0] == f"gmtrace frames: {want}" or \
            r.stderr.splitlines()[0].startswith(f"gmtrace frames: {want}"), (args, r.stderr)
    missing = tmp_path / "missing.gmt"
    r = gmtrace("frames", "--compare", a, missing)
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1 and str(missing) in r.stderr


def test_a_frames_level_capture_against_an_events_level_one_is_warned(runs, tmp_path):
    """Bytes are requested sizes at the events level and usable ones at the
    frames level: comparing the two is said on stderr, once; runs at one
    level compare without a word."""
    f = run_fixture("fr_pattern", [300, S], tmp_path / "f",
                    {"GMTRACE_SPIKE_FACTOR": "0", "GMTRACE_LEVEL": "frames"})
    rc, rep, err = compare(runs["a"], f)
    assert rep is not None and rc == 0, err
    assert err.splitlines() == [
        f"gmtrace frames: warning: {runs['a'].capture} is at the events level and "
        f"{f.capture} at the frames level: bytes are requested sizes at the events level "
        "and usable ones (rounded up by the allocator) at the frames level"]
    assert compare(runs["a"], runs["a2"])[2] == ""


def test_check_looks_at_the_figures_named(runs):
    """--check names the figures --check-growth looks at: the longer run
    grows its end live bytes only, so checking the peak alone passes and
    the end live bytes alone fails; a figure that is not a memory one (or
    no figure at all) is bad usage."""
    rc, rep, err = compare(runs["a"], runs["b"], "--check-growth", "5", "--check",
                           "peak_live_bytes")
    assert rc == 0, err
    assert [f["name"] for f in rep["figures"] if f["checked"]] == ["peak_live_bytes"]
    rc, rep, err = compare(runs["a"], runs["b"], "--check-growth", "5", "--check",
                           "end_live_bytes,allocations_p50")
    assert rc == 1 and rep["grew"] == 1, err
    assert [f["name"] for f in rep["figures"] if f["grew"]] == ["end_live_bytes"]
    text = gmtrace("frames", "--check-growth", "5", "--check", "end_live_bytes", "--compare",
                   runs["a"].capture, runs["b"].capture)
    assert text.returncode == 1
    assert "check     end_live_bytes growing by more than 5%: 1, failed" in text.stdout
    for args in (["--check", "frame_ns_p50"], ["--check", "end_live_bytes,"],
                 ["--check", "nothing"]):
        r = gmtrace("frames", "--check-growth", "5", *args, "--compare", runs["a"].capture,
                    runs["b"].capture)
        assert r.returncode == 2 and r.stderr.startswith("gmtrace frames: --check takes"), \
            (args, r.stderr)
    r = gmtrace("frames", "--check", "end_live_bytes", "--compare", runs["a"].capture,
                runs["b"].capture)
    assert r.returncode == 2 and "--check goes with --check-growth" in r.stderr
