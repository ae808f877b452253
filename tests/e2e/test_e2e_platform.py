"""test_e2e_platform.py - a pygame game, unchanged, under platform profiles

The pygame demo (tests/games/pygame_demo.py) runs headless under
GMTRACE_PLATFORM: with PYTHONMALLOC=malloc every Python object is in a bank.
Under the made-up tiny-split profile (main 8 MiB, video 4 MiB for textures)
the game goes over both banks in soft mode and still runs to the end;
`gmtrace platforms` then names the banks, the first frame over and the
texture assets the module tagged. Under ios-low it fits.
"""
import pytest

from e2e_support import SOURCE_DIR, gmtrace_json, have_pygame, run_script

DEMO = SOURCE_DIR / "tests" / "games" / "pygame_demo.py"
TINY = SOURCE_DIR / "tests" / "platforms" / "profiles" / "tiny-split.yaml"

pytestmark = pytest.mark.skipif(not have_pygame(), reason="python3-pygame is not installed")


def memory(rep, name):
    return {m["name"]: m for m in rep["platforms"][0]["memory"]}[name]


def test_a_pygame_game_runs_under_a_small_split_profile(tmp_path):
    # soft mode: past a bank (even when its heap is full, reallocs included)
    # the game gets its memory from the process's allocator and goes on
    run = run_script(DEMO, ["--fast", "--frames", "240"], tmp_path,
                     env={"GMTRACE_PLATFORM": str(TINY)})
    assert run.line["frames"] == 240
    rep = gmtrace_json("platforms", "--json", run.capture, TINY)
    assert rep["ran_under"] == "tiny-split"
    assert rep["failed_allocations"]["count"] == 0
    assert rep["platforms"][0]["fits"] is False
    main, video = memory(rep, "main"), memory(rep, "video")
    # the interpreter's own objects fill main from the first frame on ...
    assert main["peak"] > 8 << 20
    assert main["first_over"]["frame"] == 1
    assert main["at_peak"]["types"][0]["name"] == "(no asset)"
    # ... while the textures the game loads through gmtrace.py (asset type
    # "texture") are in video, which they do not fill
    assert 0 < video["peak"] <= 4 << 20
    total = memory(rep, "total")
    assert total["at_peak"]["types"][0]["name"] == "(no asset)"
    assert "texture" in {t["name"] for t in total["at_peak"]["types"]}


def test_the_same_game_fits_a_phone(tmp_path):
    run = run_script(DEMO, ["--fast", "--frames", "120"], tmp_path,
                     env={"GMTRACE_PLATFORM": "ios-low"})
    rep = gmtrace_json("platforms", "--json", run.capture, "ios-low")
    assert rep["ran_under"] == "ios-low"
    assert rep["platforms"][0]["fits"] is True
    main = memory(rep, "main")
    assert 1 << 20 < main["peak"] < main["limit"]
