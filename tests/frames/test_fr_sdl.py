"""test_fr_sdl.py - automatic frames: SDL games that never call the marker API

Each fixture presents N frames its own way (fr_sdl2.c, fr_sdl2_surface.c,
fr_sdl2_dlopen.c, fr_sdl1.c, fr_sdl1_rects.c) and prints N. gmtrace must
find exactly N main frames at the present calls, partial updates coalesced
to one frame per event pump, and frame n must hold the fixture's one
deliberate allocation of that frame (fr_sdl.h). Headless: dummy SDL drivers.
"""
import pytest

from fr_support import (SDL_ENV, DumpFrames, first_mismatch, frames_json, has_fixture,
                        run_fixture)

CASES = [
    pytest.param("fr_sdl2", [120], id="sdl2-render"),
    pytest.param("fr_sdl2_surface", [120], id="sdl2-surface-rects"),
    pytest.param("fr_sdl2_ext", [120], id="sdl2-private-scope-extension"),
    pytest.param("fr_sdl2_dlopen", [120], id="sdl2-dlopen-local"),
    pytest.param("fr_sdl1", [120], id="sdl1-flip"),
    pytest.param("fr_sdl1_rects", [120], id="sdl1-update-rects"),
    pytest.param("fr_sdl2", [3000, 32, 32], id="sdl2-fast-3000"),
]


def run_sdl(name, args, tmp_path):
    if not has_fixture(name):
        pytest.skip(f"{name} not built (SDL development files missing at configure time)")
    return run_fixture(name, args, tmp_path, SDL_ENV)


@pytest.mark.parametrize("name,args", CASES)
def test_frames_found_equal_frames_presented(name, args, tmp_path):
    run = run_sdl(name, args, tmp_path)
    n = run.line["frames"]
    assert n == args[0]
    d = DumpFrames(run.capture)
    assert d.frames == n, (f"{name}: {d.frames} main frame records for {n} frames presented "
                           f"({run.line['present_calls']} present calls)")
    assert d.frame_numbers == list(range(1, n + 1))
    # frame n holds exactly the fixture's block of frame n
    for key in ("allocations", "frees", "allocated_bytes"):
        got = d.rule_rows(n, key)
        assert got == run.line["per_frame"][key], f"{key}: " + first_mismatch(
            got, run.line["per_frame"][key])
    assert d.rule[n + 1]["allocations"] == 0
    if n >= 3000:
        print(f"{name}: {run.line['fps']} frames per second under the preload")
        assert run.line["fps"] >= 1000, "the fast case must run at 1,000+ frames per second"


@pytest.mark.parametrize("name,args", CASES)
def test_frames_report_counts_presented_frames(name, args, tmp_path):
    run = run_sdl(name, args, tmp_path)
    rep, _ = frames_json(run.capture)
    assert rep["frames"] == run.line["frames"]
    assert len(rep["per_frame"]) == run.line["frames"]
    assert rep["frame_source"] not in (None, "", "marker", "none"), rep["frame_source"]
