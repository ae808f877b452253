"""test_bu_threads.py - bu_threads: four loader threads, one budget, at once

The fixture checks, from snapshots taken by the loaders and by a monitor
thread, that the budget is never over its hard limit by more than one
allocation in flight per thread, and at the end (threads joined) that the
node's live bytes equal what it holds by its own count, by its table and by
the snapshot's assets. A hang (deadlock) is the run's timeout.

The last three tests run the fixture again and again with more contention
(8 threads, an 8 MiB budget: STRESS_ARGS), stopping once each race has
shown or after STRESS_SECONDS, and check what concurrency must not change:
no over_hard violation while evictable chunks remain, no evictor flagged
for making no progress when it freed its chunk, no chunk handed to an
evictor twice. Each race showed in few runs (one in thirty for the last
found), hence the loop: a few runs while a bug is there, the full time
once it is fixed.
"""
import collections
import json
import subprocess
import time

import pytest

from bu_support import GMTRACE, clean_env, run, verdicts_ok

STRESS_ARGS = (600, 8192, 8)  # loads per thread, hard limit in KiB, threads
STRESS_SECONDS = 25


def budget_events(capture):
    """The budget and validation events of a capture (the dump filtered
    before parsing: these captures hold thousands of allocations)."""
    r = subprocess.run([str(GMTRACE), "dump", "--json", str(capture)], env=clean_env(),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return [json.loads(s) for s in r.stdout.splitlines()
            if '"budget_' in s or '"validation"' in s]


@pytest.fixture(scope="module")
def threads(tmp_path_factory):
    r = run("threads", tmp_path_factory.mktemp("threads"), timeout=40)
    return r, budget_events(r.capture)


def test_threads_end_exact(threads):
    r, _ = threads
    line = r.line
    verdicts_ok(line)
    chunk = line["chunk_bytes"]
    assert line["threads"] == 4 and line["loads_per_thread"] == 600
    assert line["held"] == line["resident"] * chunk
    assert line["live_stream"] == line["live_chunks"] == line["held"]
    assert line["snapshot_resident_bytes"] == line["held"]
    assert line["live_stream"] <= line["hard_limit"]
    assert line["evictions"] == line["node_evictions"] > 0
    assert line["evictions"] + line["resident"] == 4 * 600 or line["double_evictions"] > 0
    assert line["failures"] == 0
    assert 0 < line["max_live_seen"] <= line["hard_limit"] + 4 * chunk
    assert line["snapshots"] > 4 * 600 and line["frames"] > 0


def test_records_within_the_limit(threads):
    r, events = threads
    line = r.line
    chunk, hard = line["chunk_bytes"], line["hard_limit"]
    stream = line["stream"]
    frames = [e for e in events if e["type"] == "budget_frame" and e["node"] == stream]
    assert len(frames) == line["frames"]
    for f in frames:
        assert f["live_bytes"] <= hard + 4 * chunk, f
        assert f["peak_live_bytes"] <= hard + 4 * chunk, f
    evicts = [e for e in events if e["type"] == "budget_evict"]
    assert len(evicts) == line["evictions"], "one budget_evict record per evictor call"
    assert {e["node"] for e in evicts} == {stream}, "evictions are the stream node's"
    assert {e["event"] for e in evicts} <= {"over_hard", "over_soft"}
    assert not [v for v in events if v["type"] == "budget_violation" and v["event"] == "failed"]


@pytest.fixture(scope="module")
def stress(tmp_path_factory):
    """Runs of the fixture with STRESS_ARGS until each race has shown or
    STRESS_SECONDS have passed: per run, over_hard violations,
    evictor_no_progress validations and budget_evict records whose reclaim
    is not one chunk, double evictions (the fixture's count and assets in
    two records), times the fixture held more than the limit."""
    seen = collections.Counter()
    runs = []
    deadline = time.monotonic() + STRESS_SECONDS
    while time.monotonic() < deadline:
        r = run("threads", tmp_path_factory.mktemp("stress"), args=STRESS_ARGS, timeout=40)
        ev = budget_events(r.capture)
        chunk = r.line["chunk_bytes"]
        per_asset = collections.Counter(e["asset"] for e in ev if e["type"] == "budget_evict")
        got = {
            "over_hard": sum(1 for e in ev if e["type"] == "budget_violation"
                             and e["event"] in ("over_hard", "failed", "heap_full")),
            "no_progress": sum(1 for e in ev if e["type"] == "validation"
                               and e["code"] == "evictor_no_progress"),
            "bad_reclaim": sum(1 for e in ev if e["type"] == "budget_evict"
                               and e["reclaimed_bytes"] != chunk),
            "double": r.line["double_evictions"] + sum(1 for n in per_asset.values() if n > 1),
            "held_over": r.line["held_over_limit"],
            "failed_checks": r.line["nfailed"],
            # how far past its limit an over_hard violation took the node: live
            # bytes then, plus the bytes asked for, minus the limit
            "excess": max([e["live_bytes"] + e["size"] - e["limit"] for e in ev
                           if e["type"] == "budget_violation" and e["event"] == "over_hard"]
                          or [0]),
            "threads": STRESS_ARGS[2],
            "chunk": chunk,
        }
        runs.append(got)
        seen.update({k: 1 for k, v in got.items() if v})
        if all(seen[k] for k in ("over_hard", "no_progress", "double")):
            break
    assert runs
    return runs


def test_never_over_hard_while_chunks_can_go(stress):
    """A loader that loses the room an eviction freed to another thread
    evicts again: the cache always holds evictable chunks here (at most one
    load in flight per thread, 18 chunks fit), so no run may go over the hard
    limit. It did in about one run in thirty (one in twenty on CI) while a
    thread paused in its scan of the asset table missed the assets created
    after the scan began, called the cache empty and let its chunk through
    with an over_hard violation (the fixture then held it over the limit)."""
    for r in stress:
        assert r["excess"] <= r["threads"] * r["chunk"], f"over by {r['excess']} bytes: {r}"
    over = [r for r in stress if r["over_hard"] or r["held_over"]]
    assert not over, f"{len(over)} of {len(stress)} runs went over the limit: {over}"


def test_evictor_that_frees_is_not_flagged(stress):
    assert sum(r["no_progress"] for r in stress) == 0, f"per run: {stress}"
    assert sum(r["bad_reclaim"] for r in stress) == 0, f"per run: {stress}"


def test_no_chunk_evicted_twice(stress):
    assert sum(r["double"] for r in stress) == 0, f"per run: {stress}"
