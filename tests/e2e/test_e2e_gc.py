"""test_e2e_gc.py - garbage-collector runs recorded by gmtrace.py (gc_game.py)

gc_game.py disables automatic collection and forces exactly K collections;
importing gmtrace under the preload must turn each into exactly one "gc"
record with the generation, collected and uncollectable counts Python
reported, and a duration no longer than the gc.collect() call took.
`gmtrace pools --json` must count the same runs, and with --pygame each
collection falls in its own frame.
"""
import pytest

from e2e_support import dump, gmtrace_json, needs_pygame, run_script, script

K = 7


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    return run_script(script("gc_game.py"), ["--collections", K], tmp_path_factory.mktemp("gc"))


def test_k_collections_give_k_gc_records(plain):
    line = plain.line
    assert line["gmtrace"] and line["collections"] == K and line["seen"] == K, line
    recs = dump(plain.capture, ("gc",))
    assert len(recs) == K, f"{len(recs)} gc records for {K} collections: {recs}"
    for i, (rec, run) in enumerate(zip(recs, line["runs"])):
        assert rec["generation"] == run["generation"] == i % 3, (i, rec, run)
        assert rec["collected"] == run["collected"], (i, rec, run)
        assert rec["uncollectable"] == run["uncollectable"], (i, rec, run)
        assert run["collected"] >= run["made"], (i, run)
        assert 0 < rec["duration_ns"] <= run["wall_ns"], (i, rec, run)
        assert rec["thread"] == 0, (i, rec)


def test_pools_report_counts_the_runs(plain):
    gc = gmtrace_json("pools", "--json", plain.capture)["gc"]
    assert gc["runs"] == K, gc
    by_gen = {g["generation"]: g for g in gc["generations"]}
    for gen in range(3):
        runs = [r for r in plain.line["runs"] if r["generation"] == gen]
        assert by_gen[gen]["runs"] == len(runs), (gen, gc)
        assert by_gen[gen]["collected"] == sum(r["collected"] for r in runs), (gen, gc)


def test_no_records_without_the_preload(tmp_path):
    run = run_script(script("gc_game.py"), ["--collections", K], tmp_path, preload=False)
    assert run.capture is None and not run.line["gmtrace"], run.line
    assert run.line["seen"] == K


@needs_pygame
def test_each_collection_in_its_own_frame(tmp_path):
    run = run_script(script("gc_game.py"), ["--collections", K, "--pygame"], tmp_path)
    gc = gmtrace_json("pools", "--json", run.capture)["gc"]
    assert gc["runs"] == K, gc
    # frame 1 ends in set_mode's own present; collection i runs in frame i + 2
    frames = [(f["frame"], f["runs"]) for f in gc["per_frame"]]
    assert frames == [(i + 2, 1) for i in range(K)], frames
