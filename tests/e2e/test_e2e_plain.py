"""test_e2e_plain.py - a pygame loop with no gmtrace call at all (plain_loop.py)

Under LD_PRELOAD and PYTHONMALLOC=malloc the capture must hold one main
frame per present (display.flip, display.update, display.update(rects), and
pygame's own present of the new window in set_mode), found by the SDL
present hooks, and the many small allocations Python makes; the game must
exit 0 and print what it printed without gmtrace.
"""
import pytest

from e2e_support import MODULE_DIR, gmtrace_json, main_frames, needs_pygame, run_script, script

pytestmark = needs_pygame
FRAMES = 240


@pytest.mark.parametrize("present", ["flip", "update", "rects", "mixed"])
def test_frames_found_are_frames_presented(tmp_path, present):
    run = run_script(script("plain_loop.py"), ["--frames", FRAMES, "--present", present],
                     tmp_path)
    assert run.line["flips"] == FRAMES
    frames = gmtrace_json("frames", "--json", run.capture)
    # set_mode presents the new (black) window once before the first flip
    assert frames["frames"] == FRAMES + run.line["windows"], frames["frame_sources"]
    sources = set(frames["frame_sources"])
    if present == "rects":
        assert sources == {"SDL_UpdateWindowSurface", "SDL_UpdateWindowSurfaceRects"}
    elif present != "mixed":
        assert sources == {"SDL_UpdateWindowSurface"}


def test_capture_has_pythons_allocations(tmp_path):
    run = run_script(script("plain_loop.py"), ["--frames", FRAMES], tmp_path)
    s = gmtrace_json("summary", "--json", run.capture)
    # 300 sprites rebuilt per frame: lists and floats, all malloc'd
    assert s["allocations"] >= 300 * FRAMES, s["allocations"]
    assert s["frees"] >= 300 * FRAMES, s["frees"]
    assert s["unmatched_frees"] == 0 and s["records_lost"] == 0, s
    assert s["frames"] == FRAMES + 1


def test_same_output_without_gmtrace(tmp_path):
    a = run_script(script("plain_loop.py"), ["--frames", 30], tmp_path / "on")
    b = run_script(script("plain_loop.py"), ["--frames", 30], tmp_path / "off", preload=False)
    assert a.line == b.line
    assert b.capture is None and list((tmp_path / "off").glob("*.gmt")) == []


def test_without_pythonmalloc_still_frames(tmp_path):
    # pymalloc serves small objects from its own arenas: fewer allocations
    # seen, frames just the same
    run = run_script(script("plain_loop.py"), ["--frames", 60], tmp_path, pymalloc=False)
    assert main_frames(run.capture) == 61


PRESENT_THEN_MARK = r"""
import sys
sys.path.insert(0, sys.argv[1])
import json, pygame, gmtrace
pygame.display.init()
screen = pygame.display.set_mode((64, 48))
for i in range(25):
    pygame.event.pump()
    screen.fill((i, 0, 0))
    pygame.display.flip()
    gmtrace.frame()
print(json.dumps({"marks": 25}))
"""


def test_a_game_that_presents_and_marks_gets_no_extra_frame(tmp_path):
    """set_mode's present, then 25 loops of flip and gmtrace.frame(): the
    first mark takes over the frame the first flip began, so there are 26
    frames (two ended by presents, 24 by marks), not 27 with one of the few
    instructions between a flip and the first mark."""
    path = tmp_path / "present_then_mark.py"
    path.write_text(PRESENT_THEN_MARK)
    run = run_script(path, [MODULE_DIR], tmp_path)
    frames = gmtrace_json("frames", "--json", run.capture)
    assert frames["frames"] == 26, frames["frame_sources"]
    assert frames["frame_sources"] == {"SDL_UpdateWindowSurface": 2, "marker": 24}


def test_partial_updates_without_event_pumps_are_frames(tmp_path):
    """A loop of display.update(rects) that never pumps events (only
    pygame's set_mode pumped, once): one frame per update, not one frame
    for the whole run."""
    run = run_script(script("plain_loop.py"), ["--frames", 40, "--present", "rects",
                                               "--no-pump"], tmp_path)
    frames = gmtrace_json("frames", "--json", run.capture)
    assert frames["frames"] == 40 + run.line["windows"], frames["frame_sources"]
