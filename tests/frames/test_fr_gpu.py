"""test_fr_gpu.py - automatic frames at GLX, EGL and Vulkan present calls

fr_gpu.c is an engine without SDL and without markers that presents through
glXSwapBuffers, eglSwapBuffers or vkQueuePresentKHR taken from the global
scope (no driver behind them), or through the eglSwapBuffers that libEGL's
eglGetProcAddress hands out (the real one behind gmtrace's). gmtrace must
find exactly N main frames, each ended by that API (format.h gm_present:
glx 9, egl 10, vulkan 11), and frame n must hold the frame's own block.
"""
import pytest

from fr_support import DumpFrames, dump_events, first_mismatch, frames_json, run_fixture

CASES = [("glx", 9, "glXSwapBuffers"), ("egl", 10, "eglSwapBuffers"),
         ("vulkan", 11, "vkQueuePresentKHR"), ("egl-loader", 10, "eglSwapBuffers")]


@pytest.mark.parametrize("mode,source,name", CASES, ids=[c[0] for c in CASES])
def test_each_present_api_ends_the_frames(mode, source, name, tmp_path):
    n = 60
    run = run_fixture("fr_gpu", [mode, n], tmp_path)
    assert run.line["frames"] == n and run.line["present_calls"] == n
    frames = [e for e in dump_events(run.capture) if e["type"] == "frame" and e["set"] == 0]
    assert [e["frame"] for e in frames] == list(range(1, n + 1))
    assert {e["source"] for e in frames} == {source}
    d = DumpFrames(run.capture)
    for key in ("allocations", "frees", "allocated_bytes"):
        got = d.rule_rows(n, key)
        assert got == run.line["per_frame"][key], f"{key}: " + first_mismatch(
            got, run.line["per_frame"][key])
    rep, _ = frames_json(run.capture)
    assert rep["frames"] == n
    assert rep["frame_source"] == name
