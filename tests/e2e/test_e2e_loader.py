"""test_e2e_loader.py - assets loaded on Python threads (loader_game.py)

A loader thread opens each asset's load scope and a decoder thread attaches
to it: the capture must put the loader's header buffer and the decoder's
data buffer of every asset in that asset, on the thread that made it (the
sizes follow the size rule, so they stand out among Python's own blocks),
and `gmtrace assets` must show every asset unloaded, with at least those
bytes, split by tag ("loader" on the loader thread, none on the decoder).
Frames still come from display.flip() alone.
"""
import collections

import pytest

from e2e_support import gmtrace_json, main_frames, needs_pygame, run_script, script, \
    sized_allocations

pytestmark = needs_pygame
N = 8


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return run_script(script("loader_game.py"), ["--assets", N], tmp_path_factory.mktemp("ld"))


def test_frames_are_the_flips(run):
    assert main_frames(run.capture) == run.line["flips"] + run.line["windows"]


def test_buffers_belong_to_their_asset_and_thread(run):
    line = run.line
    assert line["gmtrace"] and len(line["assets"]) == N, line
    want = {}
    for a in line["assets"]:
        want[a["header"]] = (a["id"], line["tids"]["loader"])
        want[a["data"]] = (a["id"], line["tids"]["decoder"])
    got = sized_allocations(run.capture, want)
    by_size = collections.defaultdict(list)
    for g in got:
        by_size[g["size"]].append(g)
    for size, (asset, tid) in sorted(want.items()):
        mine = [g for g in by_size[size] if g["asset"] == asset]
        assert len(mine) == 1, f"{size}-byte block of asset {asset}: {by_size[size]}"
        assert mine[0]["os_tid"] == tid, f"{size}-byte block: {mine[0]}, expected tid {tid}"


def test_assets_report(run):
    rep = gmtrace_json("assets", "--json", run.capture)
    assets = {a["id"]: a for a in rep["assets"]}
    for a in run.line["assets"]:
        got = assets[a["id"]]
        assert (got["name"], got["type"], got["state"]) == (a["name"], "texture", "unloaded")
        tags = {t["tag"]: t["allocated_bytes"] for t in got["tags"]}
        assert tags.get("loader", 0) >= a["header"] + 64 * 64 * 4, (a, got["tags"])
        assert tags.get(None, 0) >= a["data"], (a, got["tags"])
        assert got["live_bytes"] == 0, got
    assert rep["checks_by_kind"]["validation"] == 0, rep["checks_by_kind"]
