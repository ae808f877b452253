"""test_e2e_demo.py - tests/games/pygame_demo.py under gmtrace

The bundled pygame game, run headless with the preload and
PYTHONMALLOC=malloc, must exit 0 and its capture must agree with what it
printed: one main frame per display.flip() (plus set_mode's own present),
found by the present hooks; many allocations; its three scenes; one
budget_evict record per texture its Python evictor unloaded; the particle
pool's acquires, hits and overflows; every asset loaded and unloaded, with
no misuse recorded. Without the preload it must play the same game.
With --loader-thread the textures load on a loader thread, their noise
layers on a decoder thread attached to the asset.
"""
import pytest

from e2e_support import DEMO, dump, gmtrace_json, needs_pygame, run_script

pytestmark = needs_pygame
FRAMES = 300


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return run_script(DEMO, ["--fast", "--frames", FRAMES], tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def threaded(tmp_path_factory):
    return run_script(DEMO, ["--fast", "--frames", FRAMES, "--loader-thread"],
                      tmp_path_factory.mktemp("demo_lt"))


def test_frames_found_are_frames_flipped(demo):
    line = demo.line
    assert line["gmtrace"] and line["budget_managed"], line
    assert line["frames"] == FRAMES
    frames = gmtrace_json("frames", "--json", demo.capture)
    assert frames["frames"] == line["frames"] + line["windows"], frames["frame_sources"]
    assert set(frames["frame_sources"]) == {"SDL_UpdateWindowSurface"}


def test_capture_has_many_allocations(demo):
    s = gmtrace_json("summary", "--json", demo.capture)
    assert s["allocations"] > 200000, s["allocations"]  # Python objects, one malloc each
    assert s["records_lost"] == 0 and s["unknown_records"] == 0, s
    assert s["error"] is None


def test_scenes_evictions_and_misuse(demo):
    line = demo.line
    evs = dump(demo.capture, ("scene", "budget_evict", "validation", "budget_node"))
    assert [e["name"] for e in evs if e["type"] == "scene"] == ["meadow", "caverns", "citadel"]
    evicts = [e for e in evs if e["type"] == "budget_evict"]
    assert line["textures_evicted"] > 0
    assert len(evicts) == line["textures_evicted"], (len(evicts), line)
    assert all(e["event"] == "over_soft" and e["reclaimed_bytes"] > 0 for e in evicts), evicts
    assert [e for e in evs if e["type"] == "validation"] == []
    assert {e["name"] for e in evs if e["type"] == "budget_node"} == {"textures"}


def test_pool_and_gc(demo):
    line = demo.line
    rep = gmtrace_json("pools", "--json", demo.capture)
    (pool,) = rep["pools"]
    assert pool["name"] == "particles" and pool["capacity_initial"] == 200
    assert pool["capacity"] == 400 and len(pool["resizes"]) == 1
    assert pool["acquires"] == line["particles_spawned"]
    assert pool["served"] == line["pool_served"]
    assert pool["overflows"] == line["pool_overflows"]
    assert rep["gc"]["runs"] > 0  # gmtrace.py records the collector from import on


def test_assets_all_unloaded(demo):
    line = demo.line
    rep = gmtrace_json("assets", "--json", demo.capture)
    types = {t["type"]: t["assets"] for t in rep["types"]}
    assert types == {"texture": line["textures_loaded"], "sound": line["sounds_loaded"],
                     "level": 3}, types
    t = rep["totals"]
    assert t["unloaded"] == t["assets"] and t["failed"] == 0, t
    assert rep["checks_by_kind"]["validation"] == 0, rep["checks_by_kind"]


def test_same_game_without_gmtrace(demo, tmp_path):
    off = run_script(DEMO, ["--fast", "--frames", FRAMES], tmp_path, preload=False)
    assert off.capture is None and not off.line["gmtrace"] and not off.line["budget_managed"]
    same = ("frames", "windows", "levels", "sounds_loaded", "particles_spawned", "pool_served",
            "pool_overflows")
    assert {k: off.line[k] for k in same} == {k: demo.line[k] for k in same}
    # the game keeps its own cache under the same figure: the same loads
    assert off.line["textures_loaded"] == demo.line["textures_loaded"]


def test_loader_thread(threaded):
    line = threaded.line
    assert line["loader_thread"] and line["frames"] == FRAMES
    assert gmtrace_json("frames", "--json", threaded.capture)["frames"] == FRAMES + 1
    rep = gmtrace_json("assets", "--json", threaded.capture)
    textures = [a for a in rep["assets"] if a["type"] == "texture"]
    assert len(textures) == line["textures_loaded"]
    for a in textures:
        assert a["state"] == "unloaded", a
        tags = {t["tag"]: t["allocated_bytes"] for t in a["tags"]}
        # pixels on the loader thread (tag "loader"); the 64 KiB noise layer
        # on the decoder thread, attached (no tag there)
        assert tags.get("loader", 0) >= 2 * 128 * 128 * 4, (a["name"], a["tags"])
        assert tags.get(None, 0) >= 128 * 128 * 4, (a["name"], a["tags"])
    assert rep["checks_by_kind"]["validation"] == 0, rep["checks_by_kind"]
