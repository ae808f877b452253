"""test_procaddr.py - an engine that takes its present call from a loader
(glXGetProcAddress, glXGetProcAddressARB, SDL_GL_GetProcAddress,
eglGetProcAddress, vkGetDeviceProcAddr, vkGetInstanceProcAddr) of a driver it
loaded itself (fx_driver.so, a stand-in): gmtrace's loaders hand out its present
hooks with the driver's functions behind them, so every present ends a frame
and still reaches the driver; other names and NULL pass through untouched."""
import json

from conftest import (assert_tally, assert_valid, captures, fixture_line, fx, gmtrace,
                      rule_tally, run_plain, run_preloaded)

N = 40


def test_every_loader_hands_out_a_counting_present(tmp_path):
    r = run_preloaded([fx("fx_procaddr"), N], tmp_path, timeout=30)
    assert r.returncode == 0, r.stderr
    line = fixture_line(r.stdout, fixture="procaddr")
    # the driver saw every present and every other call
    assert (line["frames"], line["glx_calls"], line["egl_calls"], line["vk_calls"],
            line["clear_calls"]) == (6 * N, 3 * N, N, 2 * N, 6)
    caps = captures(tmp_path)
    assert len(caps) == 1
    assert_valid(caps[0])
    assert_tally(rule_tally(caps[0]), line)
    f = gmtrace("frames", "--json", caps[0])
    assert f.returncode == 0, f.stderr
    rep = json.loads(f.stdout)
    assert rep["frames"] == 6 * N
    assert rep["frame_sources"] == {"glXSwapBuffers": 3 * N, "eglSwapBuffers": N,
                                    "vkQueuePresentKHR": 2 * N}


def test_without_the_preload_the_driver_serves_alone(tmp_path):
    r = run_plain([fx("fx_procaddr"), N], tmp_path, timeout=30)
    assert r.returncode == 0, r.stderr
    line = fixture_line(r.stdout, fixture="procaddr")
    assert (line["frames"], line["glx_calls"], line["egl_calls"], line["vk_calls"]) == \
        (6 * N, 3 * N, N, 2 * N)
