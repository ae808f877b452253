"""test_fr_pattern.py - fr_pattern: marked frames with a known allocation pattern, one spike

Frame n allocates f(n) = (n * 7) % 13 + 1 rule-sized blocks and frees the
previous frame's (fr_pattern.c); frame S adds a burst of 5000. Checked:
 - the size-rule view of `gmtrace dump --json`, cut at frame records, equals
   the fixture's per-frame figures exactly, and every event of frames 2..F
   is a deliberate one (the fixture allocates nothing else in its loop);
 - `gmtrace frames --json` per_frame rows (all allocations) equal them too;
 - spikes: absolute limit alone, relative limit alone; the callback;
 - GMTRACE_LEVEL=frames: no allocation records, one frame_sum per frame, and
   per-frame counts equal to the events run's, usable-size bytes exact;
 - with one call in 1,000 timed, no frame's allocator time exceeds its length.
"""
import pytest

from fr_support import (SPIKE_ALLOC_TIME, SPIKE_ALLOCATIONS, DumpFrames, first_mismatch,
                        frames_json, per_frame_column, reason_bits, run_fixture)

F, S = 300, 200
KEYS = ("allocations", "frees", "allocated_bytes", "freed_bytes")


def f(n):
    return (n * 7) % 13 + 1


@pytest.fixture(scope="module")
def events_run(tmp_path_factory):
    """One events-level run with the absolute limit alone, read once."""
    out = tmp_path_factory.mktemp("events")
    run = run_fixture("fr_pattern", [F, S], out,
                      {"GMTRACE_SPIKE_ALLOCATIONS": "1000", "GMTRACE_SPIKE_FACTOR": "0"})
    return run, DumpFrames(run.capture)


@pytest.fixture(scope="module")
def frames_run(tmp_path_factory):
    """The same run in the frames level."""
    out = tmp_path_factory.mktemp("frames")
    run = run_fixture("fr_pattern", [F, S], out,
                      {"GMTRACE_LEVEL": "frames", "GMTRACE_SPIKE_ALLOCATIONS": "1000",
                       "GMTRACE_SPIKE_FACTOR": "0"})
    return run, DumpFrames(run.capture)


def test_fixture_line_follows_the_pattern(events_run):
    run, _ = events_run
    line = run.line
    assert line["frames"] == F and line["spike_frame"] == S
    want = [f(n) + (5000 if n == S else 0) for n in range(1, F + 1)]
    assert line["per_frame"]["allocations"] == want
    frees = [(f(n - 1) - (1 if (n - 1) % 11 == 0 else 0) if n > 1 else 0)
             + (5000 if n == S else 0) for n in range(1, F + 1)]
    frees[-1] += f(F) - (1 if F % 11 == 0 else 0)
    assert line["per_frame"]["frees"] == frees
    assert line["allocations"] == sum(want) == 7101
    assert line["live_at_exit_count"] == F // 11 == 27
    assert line["enabled"] is True


def test_dump_frames_equal_the_pattern(events_run):
    run, d = events_run
    line = run.line
    assert d.frames == F, f"{d.frames} main frame records, fixture ended {F} frames"
    assert d.frame_numbers == list(range(1, F + 1))
    for key in KEYS:
        got = d.rule_rows(F, key)
        assert got == line["per_frame"][key], f"rule view {key}: " + first_mismatch(
            got, line["per_frame"][key])
    assert d.rule[F + 1] == {k: 0 for k in KEYS}, "deliberate work after the last frame"
    assert len(d.live) == line["live_at_exit_count"]
    assert d.anomalies == []


def test_dump_has_no_other_allocations_in_the_loop(events_run):
    """Frames 2..F hold only the fixture's blocks, so reports that count every
    allocation (gmtrace frames) must give the fixture's figures there."""
    run, d = events_run
    pf = run.line["per_frame"]
    for key in ("allocations", "frees", "allocated_bytes"):
        got = d.all_rows(F, key)[1:]
        assert got == pf[key][1:], f"all events {key}: " + first_mismatch(got, pf[key][1:])
    assert d.all[1]["allocations"] >= pf["allocations"][0]


def test_absolute_spike_limit_dump_and_callback(events_run):
    run, d = events_run
    assert d.types["spike"] == 1, f"spike records: {dict(d.spikes)}"
    assert dict(d.spikes) == {S: 1}
    line = run.line
    assert line["callback_calls"] == 1, line["callback"]
    call = line["callback"][0]
    assert call["frame"] == S
    assert call["reasons"] == SPIKE_ALLOCATIONS
    assert call["allocations"] == line["spike_frame_allocations"] == f(S) + 5000
    assert call["allocated_bytes"] == line["per_frame"]["allocated_bytes"][S - 1]
    assert call["limit_allocations"] == 1000


def test_frames_report_events_level(events_run):
    run, _ = events_run
    pf = run.line["per_frame"]
    rep, _ = frames_json(run.capture)
    assert rep["frames"] == F
    assert len(rep["per_frame"]) == F
    for key in KEYS:
        got = per_frame_column(rep, key)
        assert got[1:] == pf[key][1:], f"per_frame {key}: " + first_mismatch(got[1:], pf[key][1:])
        assert got[0] >= pf[key][0], f"frame 1 {key}: {got[0]} < {pf[key][0]}"
    spikes = rep["spikes"]
    assert [s["frame"] for s in spikes] == [S], spikes
    assert reason_bits(spikes[0]["reasons"]) == SPIKE_ALLOCATIONS
    assert spikes[0]["allocations"] == f(S) + 5000


def test_relative_spike_limit_finds_the_burst(tmp_path):
    """Relative limit only (4 x the median of the last frames): the burst is
    the one frame over the allocation-count limit."""
    run = run_fixture("fr_pattern", [F, S], tmp_path, {"GMTRACE_SPIKE_FACTOR": "4"})
    calls = run.line["callback"]
    by_count = [c for c in calls if c["reasons"] & SPIKE_ALLOCATIONS]
    assert [c["frame"] for c in by_count] == [S], calls
    assert by_count[0]["allocations"] == f(S) + 5000
    # median of f over the window: 7; the limit is 4 x 7, but never below the
    # median plus 32 allocations (the floor against noise on small medians)
    assert by_count[0]["limit_allocations"] == max(4 * 7, 7 + 32)


def test_relative_spike_limit_reports_only_the_burst(tmp_path):
    """Relative limit only, 20000 frames: exactly one spike, at S, in the
    records and in the callback. Every frame but S does the same kind of
    work (at most 13 allocations against a median of 7). (20000 frames, not
    300: the allocator-time estimate stays 0 for the first 20 ms of a
    session, which 300 or even 2000 frames may not outlast.)"""
    run = run_fixture("fr_pattern", [20000, S], tmp_path, {"GMTRACE_SPIKE_FACTOR": "4"})
    d = DumpFrames(run.capture)
    calls = run.line["callback"]
    noise = [(c["frame"], c["reasons"]) for c in calls if c["frame"] != S][:10]
    assert dict(d.spikes) == {S: 1}, (
        f"{d.types['spike']} spike records; callback calls other than frame {S}: {noise}")
    assert run.line["callback_calls"] == 1, noise
    assert not calls[0]["reasons"] & SPIKE_ALLOC_TIME


def test_frames_level_records(frames_run):
    run, d = frames_run
    for typ in ("alloc", "free", "realloc"):
        assert d.types[typ] == 0, f"frames level wrote {d.types[typ]} {typ} records"
    assert d.frames == F
    # one a frame, and the total of what came after the last one, at the end
    assert d.types["frame_sum"] == F + 1, \
        f"{d.types['frame_sum']} frame_sum records for {F} frames"
    assert dict(d.spikes) == {S: 1}
    assert run.line["callback_calls"] == 1 and run.line["callback"][0]["frame"] == S


def test_frames_level_counts_equal_events_run(events_run, frames_run):
    """frame_sum allocation and free counts (through gmtrace frames) equal the
    events run's event counts, frame by frame; bytes in usable sizes equal the
    fixture's malloc_usable_size() figures."""
    erun, ed = events_run
    frun, _ = frames_run
    rep, _ = frames_json(frun.capture)
    assert rep["frames"] == F
    for key in ("allocations", "frees", "allocated_bytes"):
        got, want = per_frame_column(rep, key), ed.all_rows(F, key)
        assert got == want, f"frames level {key} vs events run: " + first_mismatch(got, want)
    usable = frun.line["per_frame_usable"]
    got = per_frame_column(rep, "freed_bytes")[1:]
    assert got == usable["freed_bytes"][1:], "freed_bytes (usable): " + first_mismatch(
        got, usable["freed_bytes"][1:])
    # live and peak bytes count every block since start-up: compare their
    # movement from frame 1's end, which only the fixture's blocks make
    live = per_frame_column(rep, "live_bytes")
    peak = per_frame_column(rep, "peak_live_bytes")
    base = live[0] - usable["live_bytes"][0]
    assert [v - base for v in live] == usable["live_bytes"], "live_bytes: " + first_mismatch(
        [v - base for v in live], usable["live_bytes"])
    assert [v - base for v in peak][1:] == usable["peak_live_bytes"][1:], (
        "peak_live_bytes: " + first_mismatch([v - base for v in peak][1:],
                                             usable["peak_live_bytes"][1:]))


@pytest.mark.parametrize("level", ["events", "frames"])
def test_allocator_time_never_exceeds_the_frame(tmp_path, level):
    """One call in 1,000 timed (GMTRACE_TIMING_SAMPLE=1000) counts 1,000
    times: a timed call of some tens of ns would stand for tens of µs in a
    frame of a few µs. A thread's estimate is cut to the frame's length,
    so no frame after the first (whose start is not a frame end) reports
    more time in the allocator than it lasted; a few frames still have
    some. The bound is in TSC ticks, frame_ns comes from the clock fit:
    they may differ by a nanosecond or two."""
    run = run_fixture("fr_pattern", [F, S], tmp_path,
                      {"GMTRACE_TIMING_SAMPLE": "1000", "GMTRACE_LEVEL": level,
                       "GMTRACE_SPIKE_FACTOR": "0"})
    rep, _ = frames_json(run.capture)
    frame_ns = per_frame_column(rep, "frame_ns")
    alloc_ns = per_frame_column(rep, "alloc_ns")
    over = [(n + 1, f, a) for n, (f, a) in enumerate(zip(frame_ns, alloc_ns))
            if n > 0 and a > f + f // 1000 + 2]
    assert over == [], f"frames whose allocator time exceeds their length: {over[:5]}"
    assert sum(1 for a in alloc_ns if a > 0) >= 3, alloc_ns
