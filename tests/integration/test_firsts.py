"""test_firsts.py - fx_firsts: each of the 30 C and C++ allocation entry points
as the very first call of a new thread (the hooks register the thread there),
null deletes of every operator, and, with "asset", every allocating call inside
an asset's load. Run at the events level, at the frames level and under a
platform's default bank: the fixture's contract checks hold in each, and at the
events level every thread's record is exactly its one call."""
import json
import subprocess

import pytest

from conftest import (SOURCE_DIR, assert_tally, assert_valid, captures, clean_env, fixture_line,
                      fx, gmtrace, rule_tally, run_preloaded)

PLATFORM = str(SOURCE_DIR / "tests" / "platforms" / "profiles" / "tiny-split.yaml")
S1, S2, S3 = 4096 + 1771, 2 * 4096 + 1771, 3 * 4096 + 1771
ALLOCATING, FREEING = 15, 15  # firsts.cpp: FX_ALLOCATING, FX_FREEING
TALLY = ("allocations", "frees", "allocated_bytes", "freed_bytes", "live_at_exit_count",
         "live_at_exit_bytes", "peak_live_bytes")
MODES = {
    "events": {},
    "frames": {"GMTRACE_LEVEL": "frames"},
    "platform": {"GMTRACE_PLATFORM": PLATFORM},
    "platform-frames": {"GMTRACE_PLATFORM": PLATFORM, "GMTRACE_LEVEL": "frames"},
}


def run(tmp_path, env, *args):
    r = run_preloaded([fx("fx_firsts"), *args], tmp_path, extra_env=env, timeout=30)
    assert r.returncode == 0, f"fx_firsts: rc {r.returncode}: {r.stderr!r}"
    line = fixture_line(r.stdout, fixture="firsts")
    caps = captures(tmp_path)
    assert len(caps) == 1, caps
    return line, caps[0]


@pytest.mark.parametrize("mode", sorted(MODES))
def test_first_calls_of_threads(tmp_path, mode):
    env = MODES[mode]
    line, cap = run(tmp_path, env)
    assert line["threads"] == ALLOCATING + FREEING
    s = assert_valid(cap)
    assert s["failed_allocations"] == 0
    if env.get("GMTRACE_LEVEL") == "frames":
        assert s["allocations"] == 0, "frames level: no allocation records"
        return
    assert_tally(rule_tally(cap), line, keys=TALLY, what=f"{mode}: ")
    threads = sorted(s["threads"], key=lambda t: t["thread"])
    # thread 0 is main; then one thread per call, in the order they ran
    assert len(threads) == 1 + ALLOCATING + FREEING, [t["thread"] for t in threads]
    for t in threads[1:1 + ALLOCATING]:
        assert (t["allocations"], t["allocated_bytes"], t["frees"]) == (1, S2, 0), t
    for i, t in enumerate(threads[1 + ALLOCATING:]):
        want = (1, S2, 1, S1) if i in (1, 2) else (0, 0, 1, S1)  # realloc, reallocarray
        got = (t["allocations"], t["allocated_bytes"], t["frees"], t["freed_bytes"])
        assert got == want, (i, t)


def test_every_allocating_call_lands_in_the_loading_asset(tmp_path):
    line, cap = run(tmp_path, {}, "asset")
    assert line["asset_calls"] == ALLOCATING
    assert_tally(rule_tally(cap), line, keys=TALLY)
    r = gmtrace("assets", "--json", cap)
    assert r.returncode == 0, r.stderr
    assets = json.loads(r.stdout)["assets"]
    assert [a["name"] for a in assets] == ["levels/firsts.bin"]
    a = assets[0]
    assert (a["allocations"], a["allocated_bytes"], a["live_bytes"]) == \
        (ALLOCATING, ALLOCATING * S3, 0), a


def test_hooks_keep_their_contracts_when_recording_is_off(tmp_path):
    """GMTRACE_ENABLED=0: the hooks forward every call and write nothing."""
    r = run_preloaded([fx("fx_firsts"), "asset"], tmp_path, extra_env={"GMTRACE_ENABLED": "0"},
                      timeout=30)
    assert r.returncode == 0, r.stderr
    line = fixture_line(r.stdout, fixture="firsts")
    assert line["threads"] == ALLOCATING + FREEING
    assert line["asset_calls"] == ALLOCATING
    assert captures(tmp_path) == []


def test_markers_are_no_ops_without_the_preload(tmp_path):
    """The marker API resolves at run time: without libgmtrace the asset load
    calls do nothing and the game runs the same."""
    r = subprocess.run([str(fx("fx_firsts")), "asset"], env=clean_env(), cwd=str(tmp_path),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    assert r.returncode == 0, r.stderr
    line = fixture_line(r.stdout, fixture="firsts")
    assert (line["threads"], line["asset_calls"]) == (ALLOCATING + FREEING, ALLOCATING)
    assert list(tmp_path.iterdir()) == []
