"""test_fr_ticks.py - fixed and variable timesteps

fr_fixed: an accumulator loop with 0..3 simulation ticks per frame, each tick
allocating exactly 3 rule-sized blocks; checked: ticks per frame, 3
allocations per tick, the "physics" frame set (one frame per tick), and the
`gmtrace frames` ticks summary.

fr_variable: frames of known simulated length (slept to absolute deadlines)
whose emitter allocates at a fixed rate per simulated second; checked: the
exact per-frame counts, the rate over simulated time, and the rate over the
frame times gmtrace measured (loosely: real sleeps overshoot).
"""
import pytest

from fr_support import DumpFrames, first_mismatch, frames_json, per_frame_column, run_fixture

STEP_US = 16667
DT_US = (16667, 8000, 9000, 40000, 70000, 5000, 16667, 33334)


def fixed_ticks(nframes):
    """fr_fixed's ticks per frame, recomputed from its rules."""
    acc, out = 0, []
    for n in range(1, nframes + 1):
        acc += 0 if n == 1 else DT_US[(n - 2) % 8]
        t = 0
        while acc >= STEP_US and t < 3:
            acc -= STEP_US
            t += 1
        if acc >= STEP_US:
            acc %= STEP_US
        out.append(t)
    return out


@pytest.fixture(scope="module")
def fixed_run(tmp_path_factory):
    run = run_fixture("fr_fixed", [240], tmp_path_factory.mktemp("fixed"))
    return run, DumpFrames(run.capture)


def test_fixed_line_matches_the_accumulator(fixed_run):
    run, _ = fixed_run
    ticks = fixed_ticks(240)
    assert run.line["per_frame"]["ticks"] == ticks
    assert set(ticks) == {0, 1, 2, 3}, "the sequence must have frames with 0, 1, 2 and 3 ticks"
    assert run.line["ticks_total"] == sum(ticks) == 320
    assert run.line["per_frame"]["allocations"] == [3 * t for t in ticks]


def test_fixed_ticks_per_frame_in_dump(fixed_run):
    run, d = fixed_run
    ticks = run.line["per_frame"]["ticks"]
    assert d.frames == 240
    got = [d.ticks[n] for n in range(1, 241)]
    assert got == ticks, "tick records per frame: " + first_mismatch(got, ticks)
    assert d.ticks[241] == 0
    assert d.types["tick"] == sum(ticks)
    # every tick allocates exactly 3 deliberate blocks before the next tick or frame end
    assert len(d.tick_allocations) == sum(ticks)
    assert set(d.tick_allocations) == {3}, f"allocations per tick: {set(d.tick_allocations)}"
    for key in ("allocations", "frees", "allocated_bytes", "freed_bytes"):
        assert d.rule_rows(240, key) == run.line["per_frame"][key], key


def test_fixed_physics_set(fixed_run):
    run, d = fixed_run
    assert list(d.set_names.values()) == ["physics"], d.set_names
    (sid,) = d.set_names
    assert d.sets[sid] == run.line["ticks_total"]


def test_fixed_frames_report(fixed_run):
    run, _ = fixed_run
    ticks = run.line["per_frame"]["ticks"]
    rep, _ = frames_json(run.capture)
    assert rep["frames"] == 240
    assert per_frame_column(rep, "ticks") == ticks
    allocs = per_frame_column(rep, "allocations")
    assert allocs[1:] == [3 * t for t in ticks][1:], first_mismatch(
        allocs[1:], [3 * t for t in ticks][1:])
    assert rep["ticks"]["total"] == sum(ticks)
    hist = {row["ticks"]: row["frames"] for row in rep["ticks"]["per_frame"] if row["frames"]}
    assert hist == {k: ticks.count(k) for k in set(ticks)}
    assert rep["ticks"]["allocations_per_tick_mean"] == pytest.approx(3.0)
    sets = {s["name"]: s["frames"] for s in rep["sets"]}
    assert sets.get("physics") == sum(ticks), rep["sets"]


# ---- variable timestep ------------------------------------------------------

RATE, LIFE_US = 4000, 50000


def variable_allocations(nframes):
    t, out, prev = 0, [], 0
    for n in range(1, nframes + 1):
        t += 1000 + ((n * 37) % 11) * 500
        due = RATE * t // 1000000
        out.append(due - prev)
        prev = due
    return out, t


@pytest.fixture(scope="module")
def variable_run(tmp_path_factory):
    run = run_fixture("fr_variable", [200, 1], tmp_path_factory.mktemp("variable"))
    return run, DumpFrames(run.capture)


def test_variable_per_frame_counts(variable_run):
    run, d = variable_run
    line = run.line
    allocs, sim_us = variable_allocations(200)
    assert line["per_frame"]["allocations"] == allocs
    assert line["sim_us"] == sim_us
    assert d.frames == 200
    for key in ("allocations", "frees", "allocated_bytes", "freed_bytes"):
        got = d.rule_rows(200, key)
        assert got == line["per_frame"][key], f"{key}: " + first_mismatch(got, line["per_frame"][key])


def test_variable_rate_over_simulated_time(variable_run):
    run, _ = variable_run
    pf, dt = run.line["per_frame"]["allocations"], run.line["dt_us"]
    # allocations by the end of frame n are floor(RATE * t(n)): the rate over
    # frames 2..F differs from RATE by less than one allocation's worth
    n = sum(pf[1:])
    sim_s = sum(dt[1:]) / 1e6
    assert abs(n - RATE * sim_s) < 1.0 + 1e-9, f"{n} allocations in {sim_s} s"
    for a, t in zip(pf, dt):
        assert abs(a - RATE * t / 1e6) < 1.0 + 1e-9


def test_variable_rate_over_measured_frames(variable_run):
    """gmtrace's frame times come from real sleeps to absolute deadlines, so
    frames 2..F together last at least the simulated time (minus frame 1's
    lateness) and are only slower on a loaded machine: the measured rate is
    at most ~RATE and, loosely, not below a quarter of it."""
    run, _ = variable_run
    pf = run.line["per_frame"]["allocations"]
    rep, _ = frames_json(run.capture)
    got = per_frame_column(rep, "allocations")
    assert got[1:] == pf[1:], first_mismatch(got[1:], pf[1:])
    ns = per_frame_column(rep, "frame_ns")
    wall_s = sum(ns[1:]) / 1e9
    rate = sum(pf[1:]) / wall_s
    print(f"fr_variable: {sum(pf[1:])} allocations in {wall_s:.3f} s of frames: "
          f"{rate:.0f}/s (simulated {RATE}/s)")
    assert RATE / 4 <= rate <= RATE * 1.05
