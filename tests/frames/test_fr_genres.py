"""test_fr_genres.py - genre scenarios with their own allocation profiles

platformer (steady, almost no allocation), bullethell (thousands of
short-lived blocks a frame), strategy (thousands of entities and an array
grown with realloc), puzzle (tiny totals): exact per-frame figures, in the
size-rule view of `gmtrace dump --json` and in `gmtrace frames --json`.
openworld (a streaming thread next to the game loop): exact totals per
thread over the run and the main thread's exact share of every frame.
"""
import pytest

from fr_support import (DumpFrames, dump_events, first_mismatch, frames_json,
                        per_frame_column, run_fixture)

KEYS = ("allocations", "frees", "allocated_bytes", "freed_bytes")
TALLY = ("allocations", "frees", "allocated_bytes", "freed_bytes", "live_at_exit_count")

# genre -> (arguments, expected totals written in the fixture's comment)
SINGLE = {
    "platformer": ([600], dict(allocations=62, frees=62, live_at_exit_count=0)),
    "bullethell": ([120], dict(allocations=sum(2000 + (n * 37) % 500 for n in range(1, 121)),
                               live_at_exit_count=0)),
    "strategy": ([400], dict(allocations=3201, frees=3201, live_at_exit_count=0)),
    "puzzle": ([240], dict(allocations=31, frees=31, allocated_bytes=185973,
                           peak_live_bytes=39298, live_at_exit_count=0)),
}


@pytest.fixture(scope="module", params=sorted(SINGLE))
def genre_run(request, tmp_path_factory):
    name = request.param
    args, _ = SINGLE[name]
    run = run_fixture(f"fr_{name}", args, tmp_path_factory.mktemp(name))
    return name, run, DumpFrames(run.capture)


def test_genre_line_has_the_documented_totals(genre_run):
    name, run, _ = genre_run
    _, want = SINGLE[name]
    assert {k: run.line[k] for k in want} == want
    assert run.line["frames"] == SINGLE[name][0][0]
    pf = run.line["per_frame"]
    for key in KEYS:
        assert sum(pf[key]) == run.line[key], f"{key}: per-frame sum != total"


def test_genre_dump_per_frame(genre_run):
    name, run, d = genre_run
    nframes, pf = run.line["frames"], run.line["per_frame"]
    assert d.frames == nframes
    for key in KEYS:
        got = d.rule_rows(nframes, key)
        assert got == pf[key], f"{name} rule view {key}: " + first_mismatch(got, pf[key])
        # nothing else allocates in the loop: every event of frames 2..F is deliberate
        if key != "freed_bytes":
            got = d.all_rows(nframes, key)[1:]
            assert got == pf[key][1:], f"{name} all events {key}: " + first_mismatch(
                got, pf[key][1:])
    assert d.rule[nframes + 1] == {k: 0 for k in KEYS}
    assert len(d.live) == run.line["live_at_exit_count"]
    assert d.anomalies == []


def test_genre_frames_report(genre_run):
    name, run, _ = genre_run
    nframes, pf = run.line["frames"], run.line["per_frame"]
    rep, _ = frames_json(run.capture)
    assert rep["frames"] == nframes
    for key in KEYS:
        got = per_frame_column(rep, key)
        assert got[1:] == pf[key][1:], f"{name} per_frame {key}: " + first_mismatch(
            got[1:], pf[key][1:])
        assert got[0] >= pf[key][0]
    if name == "platformer":
        quiet = sum(1 for a in per_frame_column(rep, "allocations")[1:] if a == 0)
        assert quiet == 559, "platformer frames without any allocation"
    if name == "bullethell":
        assert min(per_frame_column(rep, "allocations")) >= 2000


@pytest.fixture(scope="module")
def strategy_run(tmp_path_factory):
    run = run_fixture("fr_strategy", [400], tmp_path_factory.mktemp("strategy-events"))
    return run, DumpFrames(run.capture)


def test_strategy_reallocs(strategy_run):
    run, d = strategy_run
    assert run.line["reallocs"] == 3
    assert d.types["realloc"] == run.line["reallocs"]


def test_strategy_frames_level(tmp_path):
    """The frames level counts realloc as a free and an allocation too, and
    its usable-size bytes equal the fixture's malloc_usable_size figures."""
    run = run_fixture("fr_strategy", [400], tmp_path, {"GMTRACE_LEVEL": "frames"})
    pf, usable = run.line["per_frame"], run.line["per_frame_usable"]
    rep, _ = frames_json(run.capture)
    assert rep["frames"] == 400
    for key in ("allocations", "frees", "allocated_bytes"):
        got = per_frame_column(rep, key)[1:]
        assert got == pf[key][1:], f"frames level {key}: " + first_mismatch(got, pf[key][1:])
    got = per_frame_column(rep, "freed_bytes")[1:]
    assert got == usable["freed_bytes"][1:], "usable freed_bytes: " + first_mismatch(
        got, usable["freed_bytes"][1:])
    live = per_frame_column(rep, "live_bytes")
    base = live[0] - usable["live_bytes"][0]
    assert [v - base for v in live] == usable["live_bytes"], "live_bytes: " + first_mismatch(
        [v - base for v in live], usable["live_bytes"])


# ---- openworld: a streaming thread ---------------------------------------------


@pytest.fixture(scope="module")
def openworld_run(tmp_path_factory):
    run = run_fixture("fr_openworld", [300, 400], tmp_path_factory.mktemp("openworld"))
    return run, DumpFrames(run.capture)


def test_openworld_totals_per_thread(openworld_run):
    run, d = openworld_run
    line = run.line
    roles = {t["role"]: t for t in line["threads"]}
    assert roles["main"]["allocations"] == 600 and roles["streamer"]["allocations"] == 1600
    # the capture's threads with deliberate work, matched to the fixture's by kernel tid
    tids = {}
    busy = {th: c for th, c in d.rule_thread.items() if c["allocations"] or c["frees"]}
    assert len(busy) == 2, f"threads with deliberate work: {busy}"
    by_count = {c["allocations"]: th for th, c in busy.items()}
    for role in ("main", "streamer"):
        want = roles[role]
        th = by_count.get(want["allocations"])
        assert th is not None, f"no capture thread made the {role}'s {want['allocations']} allocations"
        assert busy[th] == {k: want[k] for k in KEYS}, role
        tids[role] = th
    assert tids["main"] != tids["streamer"]
    for role, th in tids.items():
        assert d.os_tid.get(th) == roles[role]["tid"], f"{role}: os_tid"
    assert {k: sum(c[k] for c in busy.values()) for k in KEYS} == {k: line[k] for k in KEYS}
    assert len(d.live) == 0


def test_openworld_main_thread_per_frame(openworld_run):
    run, d = openworld_run
    main = [th for th, c in d.rule_thread.items() if c["allocations"] == 600]
    assert len(main) == 1
    frames = d.rule_thread_frame[main[0]]
    pf = run.line["per_frame"]
    for key in KEYS:
        got = [frames[n][key] for n in range(1, 301)]
        assert got == pf[key], f"main thread {key}: " + first_mismatch(got, pf[key])


def test_openworld_frames_report(openworld_run):
    """Every allocation of the run is in some frame's total or after the
    last frame; the main thread's share of frames 2..F is exactly 2 and 2."""
    run, d = openworld_run
    rep, _ = frames_json(run.capture, "--threads")
    assert rep["frames"] == 300
    allocs = per_frame_column(rep, "allocations")
    total_events = sum(c["allocations"] for c in d.all.values())
    assert sum(allocs) + rep["allocations_after_last_frame"] == total_events
    main = [r["threads"] for r in rep["per_frame"]]
    for n, rows in enumerate(main[1:], start=2):
        mine = [t for t in rows if t["thread"] == 0]
        assert len(mine) == 1 and (mine[0]["allocations"], mine[0]["frees"]) == (2, 2), (
            f"frame {n}: main thread share {mine}")


def test_strategy_thread_split_counts_realloc_frees(strategy_run):
    """Events level, one thread: the writer's frame_thread records count what
    the events count, reallocs included (one free + one allocation); so does
    the per-thread split of gmtrace frames --threads. Until 3ccc9fb the
    writer's counters skipped a moving realloc's free (frames 113 and 209
    said 1 free where the events say 2)."""
    run, _ = strategy_run
    pf = run.line["per_frame"]
    want = {n: {k: pf[k][n - 1] for k in ("allocations", "frees")}
            for n in range(1, run.line["frames"] + 1)}
    records = {ev["frame"]: {k: ev[k] for k in ("allocations", "frees")}
               for ev in dump_events(run.capture)
               if ev["type"] == "frame_thread" and ev["thread_index"] == 0}
    bad = [(n, records.get(n), w) for n, w in want.items()
           if n > 1 and records.get(n, {"allocations": 0, "frees": 0}) != w]
    assert bad == [], f"frames whose frame_thread record differs: {bad[:5]}"
    rep, _ = frames_json(run.capture, "--threads")
    bad = []
    for row in rep["per_frame"][1:]:
        n = row["frame"]
        split = {k: sum(t[k] for t in row["threads"]) for k in ("allocations", "frees")}
        if split != want[n]:
            bad.append((n, split, want[n]))
    assert bad == [], f"frames whose thread split differs: {bad[:5]}"
