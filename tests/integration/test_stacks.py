"""test_stacks.py - fx_stacks under GMTRACE_STACKS: `gmtrace stacks` finds
every call site of the fixture by function, file and line, with its exact
allocations, bytes and blocks live at the end (tests/fixtures/stacks.c)."""
import json
import os
import shutil
import subprocess

import pytest

from conftest import (LIB, assert_valid, captures, fixture_line, fx, gmtrace,
                      run_captures_json, run_preloaded)


def stacks_json(path, *args, expect_rc=0):
    r = gmtrace("stacks", "--json", "--top", 0, *args, path)
    assert r.returncode == expect_rc, f"gmtrace stacks {path}: rc {r.returncode}: {r.stderr}"
    return json.loads(r.stdout)


def run_stacks(tmp_path, depth="16"):
    r = run_preloaded([fx("fx_stacks")], tmp_path, extra_env={"GMTRACE_STACKS": depth},
                      timeout=30)
    assert r.returncode == 0, f"fx_stacks: rc {r.returncode}: {r.stderr!r}"
    (cap,) = captures(tmp_path)
    return fixture_line(r.stdout, fixture="stacks"), cap


def json_dump(path):
    r = gmtrace("dump", "--json", path)
    assert r.returncode == 0, r.stderr
    return [json.loads(x) for x in r.stdout.splitlines()]


def functions(row, n=3):
    return tuple(f["function"] for f in row["frames"][:n])


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    line, cap = run_stacks(tmp_path_factory.mktemp("stacks"))
    return line, cap, stacks_json(cap, "--depth", 3)


def test_every_allocation_has_a_stack(recorded):
    line, cap, rep = recorded
    s = assert_valid(cap)
    assert rep["error"] is None
    assert rep["without_stack"] == 0
    assert rep["undefined"] == 0
    assert rep["allocations"] == s["allocations"]
    assert rep["allocated_bytes"] == s["allocated_bytes"]
    # every stack defined once; one of them only by realloc(p, 0), whose site
    # (written before the call) goes with a free
    assert s["stacks"] == rep["stacks_recorded"] + 1
    assert rep["failed"] == s["failed_allocations"] == 3
    assert sum(r["allocations"] for r in rep["stacks"]) == s["allocations"]
    assert sum(r["live_count"] for r in rep["stacks"]) == s["live_at_exit_count"]
    assert sum(r["live_bytes"] for r in rep["stacks"]) == s["live_at_exit_bytes"]


def test_sites_by_function_with_exact_counts(recorded):
    line, _, rep = recorded
    rows = {functions(r): r for r in rep["stacks"]}
    tex = rows[("fx_stacks_alloc", "load_texture", "load_level")]
    assert (tex["allocations"], tex["allocated_bytes"], tex["largest"]) == \
        (line["textures"], line["textures"] * line["texture_size"], line["texture_size"])
    assert (tex["live_count"], tex["live_bytes"]) == \
        (line["textures"], line["textures"] * line["texture_size"]), "the textures leak"
    par = rows[("fx_stacks_alloc", "spawn_particles", "main")]
    assert (par["allocations"], par["allocated_bytes"], par["live_count"]) == \
        (line["particles"], line["particles"] * line["particle_size"], 0)
    wrk = rows[("fx_stacks_alloc", "worker", "start_thread")]
    assert (wrk["allocations"], wrk["allocated_bytes"], wrk["live_count"]) == \
        (line["worker"], line["worker"] * line["worker_size"], 0)


def test_frames_name_file_and_line(recorded):
    line, _, rep = recorded
    rows = {functions(r): r for r in rep["stacks"]}
    for key, want in ((("fx_stacks_alloc", "load_texture", "load_level"), "line_texture"),
                      (("fx_stacks_alloc", "spawn_particles", "main"), "line_particle"),
                      (("fx_stacks_alloc", "worker", "start_thread"), "line_worker")):
        caller = rows[key]["frames"][1]
        assert caller["file"].endswith("tests/fixtures/stacks.c"), caller
        assert caller["line"] == line[want], (key, caller)
        assert caller["module"].endswith("/fx_stacks"), caller


def test_the_frame_a_signal_interrupted_is_named_at_its_own_address(recorded):
    """on_segv allocates in a SIGSEGV handler: its stack goes through the
    signal frame to fault_first, whose first instruction faulted. That frame
    holds no return address: named at pc - 1 it was the function before."""
    line, cap, _ = recorded
    rep = stacks_json(cap, "--depth", 6)
    (row,) = [r for r in rep["stacks"] if functions(r, 2) == ("fx_stacks_alloc", "on_segv")]
    assert (row["allocations"], row["allocated_bytes"], row["live_count"]) == \
        (1, line["signal_size"], 0)
    on_segv, trampoline, interrupted, caller = row["frames"][1:5]
    assert on_segv["line"] == line["line_on_segv"]
    assert trampoline["function"] == "<signal handler called>", trampoline
    assert trampoline["module"] and "libc.so" in trampoline["module"]
    assert (interrupted["function"], interrupted["line"]) == ("fault_first", line["line_fault"])
    assert interrupted["file"].endswith("stacks.c")
    assert caller["function"] == "fault_and_catch"
    r = gmtrace("stacks", "--match", "on_segv", "--top", 0, cap)
    assert r.returncode == 0, r.stderr
    assert "<signal handler called>" in r.stdout
    assert f"fault_first (stacks.c:{line['line_fault']})" in r.stdout


def test_each_realloc_call_is_its_own_site(recorded):
    line, _, rep = recorded
    grow = {r["frames"][0]["line"]: r for r in rep["stacks"]
            if r["frames"] and r["frames"][0]["function"] == "grow_buffer"}
    # a realloc that fails is a site with a failure, realloc(p, 0) none
    assert sorted(grow) == sorted([line["line_grow1"], line["line_grow2"], line["line_grow3"],
                                   line["line_grow_fail"]])
    g1, g2, g3 = grow[line["line_grow1"]], grow[line["line_grow2"]], grow[line["line_grow3"]]
    gf = grow[line["line_grow_fail"]]
    assert (gf["allocations"], gf["failed"], gf["allocated_bytes"]) == (0, 1, 0)
    assert g1["failed"] == g2["failed"] == g3["failed"] == 0
    assert (g3["allocations"], g3["allocated_bytes"], g3["live_count"]) == \
        (1, line["grow_sizes_3"], 0)
    assert (g1["allocations"], g1["allocated_bytes"], g1["live_count"]) == \
        (1, line["grow_sizes_1"], 0)
    assert (g2["allocations"], g2["allocated_bytes"], g2["live_count"]) == \
        (1, line["grow_sizes_2"], 0)


def test_failed_allocations_at_their_site(recorded):
    line, _, rep = recorded
    (row,) = [r for r in rep["stacks"] if r["frames"] and
              r["frames"][0]["function"] == "ask_too_much"]
    assert row["frames"][0]["line"] == line["line_too_much"]
    assert (row["allocations"], row["failed"], row["allocated_bytes"]) == (0, 2, 0)


def test_ranking_by_live_bytes_puts_the_leak_first(recorded):
    line, cap, _ = recorded
    rep = stacks_json(cap, "--depth", 3, "--by", "live")
    assert rep["by"] == "live"
    assert functions(rep["stacks"][0]) == ("fx_stacks_alloc", "load_texture", "load_level")
    counts = stacks_json(cap, "--depth", 3, "--by", "count")
    assert functions(counts["stacks"][0]) == ("fx_stacks_alloc", "spawn_particles", "main")


def test_folded_lines_for_flame_graphs(recorded):
    line, cap, _ = recorded
    r = gmtrace("stacks", "--folded", "--depth", 3, cap)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert f"load_level;load_texture;fx_stacks_alloc {3 * line['texture_size']}" in lines
    assert f"main;spawn_particles;fx_stacks_alloc {50 * line['particle_size']}" in lines
    live = gmtrace("stacks", "--folded", "--depth", 3, "--by", "live", cap).stdout.splitlines()
    assert f"load_level;load_texture;fx_stacks_alloc {3 * line['texture_size']}" in live
    assert not any(x.startswith("main;spawn_particles;") for x in live), "no live bytes there"


def test_text_report_names_the_sites(recorded):
    line, cap, _ = recorded
    r = gmtrace("stacks", "--depth", 2, cap)
    assert r.returncode == 0, r.stderr
    assert f"load_texture (stacks.c:{line['line_texture']})" in r.stdout
    assert "3 live at the end" in r.stdout


def test_depth_one_merges_by_allocating_line(tmp_path):
    line, cap = run_stacks(tmp_path, depth="1")
    rep = stacks_json(cap)
    rows = [r for r in rep["stacks"] if functions(r, 1) == ("fx_stacks_alloc",)]
    assert len(rows) == 1, "one frame kept: every call of fx_stacks_alloc is one site"
    r = rows[0]
    want = (line["textures"] * line["texture_size"] + line["particles"] * line["particle_size"]
            + line["worker"] * line["worker_size"] + line["signal_size"])
    assert r["depth"] == 1
    assert (r["allocations"], r["allocated_bytes"]) == \
        (line["textures"] + line["particles"] + line["worker"] + 1, want)


def test_off_by_default_and_said_so(tmp_path):
    r = run_preloaded([fx("fx_stacks")], tmp_path, timeout=30)
    assert r.returncode == 0
    (cap,) = captures(tmp_path)
    rep = stacks_json(cap)
    assert rep["stacks"] == []
    assert rep["without_stack"] == rep["allocations"] > 0
    assert assert_valid(cap)["stacks"] == 0
    text = gmtrace("stacks", cap)
    assert text.returncode == 0
    assert "no call stacks recorded: record with GMTRACE_STACKS=16" in text.stdout


def test_a_depth_out_of_range_warns_and_records_none(tmp_path):
    r = run_preloaded([fx("fx_stacks")], tmp_path, extra_env={"GMTRACE_STACKS": "500"},
                      timeout=30)
    assert r.returncode == 0
    assert b"GMTRACE_STACKS" in r.stderr, r.stderr
    (cap,) = captures(tmp_path)
    assert stacks_json(cap)["stacks"] == []


def test_gmtrace_run_takes_the_option(tmp_path):
    r = gmtrace("run", "--json", "--output", tmp_path / "%e.%p.gmt", "--stacks", "8", "--",
                fx("fx_stacks"), cwd=tmp_path, timeout=60)
    assert r.returncode == 0, r.stderr
    (cap,) = run_captures_json(r.stdout)
    rep = stacks_json(cap["capture"], "--depth", 3)
    assert rep["without_stack"] == 0
    assert ("fx_stacks_alloc", "load_texture", "load_level") in \
        {functions(x) for x in rep["stacks"]}
    bad = gmtrace("run", "--stacks", "129", "--", "/bin/true", cwd=tmp_path)
    assert bad.returncode == 2
    assert "gmtrace run: --stacks: invalid value '129'" in bad.stderr


def test_forked_child_defines_its_own_stacks(tmp_path):
    r = run_preloaded([fx("fx_forker")], tmp_path, extra_env={"GMTRACE_STACKS": "8"},
                      timeout=30)
    assert r.returncode == 0, r.stderr
    caps = captures(tmp_path)
    assert len(caps) == 2, caps
    for cap in caps:
        rep = stacks_json(cap)
        assert rep["undefined"] == 0, f"{cap.name}: a site whose stack is in the other capture"
        assert rep["without_stack"] == 0
        assert rep["stacks"], cap.name


def test_bad_options(recorded):
    _, cap, _ = recorded
    for args in (["--by", "size"], ["--top", "x"], ["--depth", "-1"], ["--json", "--folded"],
                 ["--nonsense"], []):
        r = gmtrace("stacks", *args, *([cap] if args else []))
        assert r.returncode == 2, (args, r.returncode, r.stderr)
        assert r.stderr.startswith("gmtrace stacks: "), (args, r.stderr)


def test_damaged_capture_reports_what_came_before(tmp_path):
    # small chunks, stored raw: many blocks, so a cut leaves whole ones before it
    r = run_preloaded([fx("fx_stacks")], tmp_path, timeout=30, extra_env={
        "GMTRACE_STACKS": "16", "GMTRACE_CHUNK_SIZE": "4K", "GMTRACE_COMPRESS": "0"})
    assert r.returncode == 0, r.stderr
    (cap,) = captures(tmp_path)
    data = cap.read_bytes()
    cut = tmp_path / "cut.gmt"
    cut.write_bytes(data[:len(data) * 2 // 3])
    rep = stacks_json(cut, expect_rc=1)
    assert rep["error"] and "offset" in rep["error"], rep["error"]
    assert rep["allocations"] > 0


@pytest.mark.parametrize("mode", ["paced", "fast", "held"])
def test_a_plugin_reloaded_at_the_same_addresses_keeps_its_names(tmp_path, mode):
    """fx_reload: plugin a is loaded, allocates, is unloaded; plugin b (the
    same code, other names) is loaded at the same addresses and allocates.
    Each plugin's stacks are named from its own file. "fast": no pause at
    all, and both plugins called from one site, so their stacks have the
    same addresses: before the dlclose hook, b's allocations took a's stack
    and names, and a plugin loaded and unloaded between two 50 ms walks of
    the modules had no record. "held": as fast, gmtrace's agent held 100 ms
    in a module walk before each dlclose (fx_walkhold.so), as an agent
    taken off its core on a busy machine: the dlclose hook left the walk to
    the agent and went on, and b, loaded and closed meanwhile, had no
    record (1 run in 80 of "fast" on a loaded machine)."""
    env = {"GMTRACE_STACKS": "8"}
    if mode == "held":
        env["LD_PRELOAD"] = f"{LIB} {fx('fx_walkhold.so')}"
    r = run_preloaded([fx("fx_reload")] + ([mode] if mode != "paced" else []), tmp_path,
                      extra_env=env, timeout=30)
    assert r.returncode == 0, r.stderr
    line = fixture_line(r.stdout, fixture="reload")
    assert line["a_entry"] == line["b_entry"], "the loader put b where a was: the case tested"
    (cap,) = captures(tmp_path)
    mods = [e for e in json_dump(cap) if e["type"] in ("module", "module_unload")
            and "reload_" in e.get("path", "reload_")]
    assert [m["type"] for m in mods] == ["module", "module_unload", "module", "module_unload"]
    assert mods[0]["base"] == mods[2]["base"]
    rows = {functions(x, 2): x for x in stacks_json(cap, "--depth", 2)["stacks"]}
    a = rows[("plugin_make_a", "fx_plugin_make")]
    b = rows[("plugin_make_b", "fx_plugin_make")]
    assert (a["allocations"], a["allocated_bytes"], a["live_count"]) == \
        (line["a_blocks"], line["a_blocks"] * line["a_size"], line["a_blocks"])
    assert (b["allocations"], b["allocated_bytes"], b["live_count"]) == \
        (line["b_blocks"], line["b_blocks"] * line["b_size"], line["b_blocks"])
    assert a["frames"][0]["module"].endswith("/fx_reload_a.so")
    assert b["frames"][0]["module"].endswith("/fx_reload_b.so")


def test_no_symbols_names_frames_by_module_and_offset(recorded):
    line, cap, rep = recorded
    bare = stacks_json(cap, "--depth", 3, "--no-symbols")
    assert sum(r["allocations"] for r in bare["stacks"]) == rep["allocations"]
    for r in bare["stacks"]:
        for f in r["frames"]:
            assert f["function"] is None and f["file"] is None and f["line"] == 0, f
    # the same places, only unnamed: fx_stacks_alloc's return address in the
    # program is module + offset in both reports
    named = {(f["module"], f["offset"]) for r in rep["stacks"] for f in r["frames"]
             if f["function"] == "fx_stacks_alloc"}
    bare_frames = {(f["module"], f["offset"]) for r in bare["stacks"] for f in r["frames"]}
    assert named and named <= bare_frames


def test_frames_from_to_count_the_allocations_made_there(recorded):
    """fx_stacks marks a frame after each of its 5 particle bursts: frame 1
    holds the level's textures and 10 particles, frames 2..5 10 particles
    each, frame 6 the rest."""
    line, cap, _ = recorded
    rep = stacks_json(cap, "--depth", 3, "--from", 2, "--to", 3)
    assert (rep["from"], rep["to"], rep["frames"]) == (2, 3, 5)
    rows = {functions(r): r for r in rep["stacks"]}
    assert list(rows) == [("fx_stacks_alloc", "spawn_particles", "main")]
    (par,) = rows.values()
    assert (par["allocations"], par["allocated_bytes"], par["live_count"]) == \
        (20, 20 * line["particle_size"], 0)
    assert rep["allocations"] == 20
    first = {functions(r): r for r in stacks_json(cap, "--depth", 3, "--to", 1)["stacks"]}
    assert first[("fx_stacks_alloc", "load_texture", "load_level")]["live_count"] == 3
    assert first[("fx_stacks_alloc", "spawn_particles", "main")]["allocations"] == 10
    last = stacks_json(cap, "--depth", 3, "--from", 6)
    names = {functions(r) for r in last["stacks"]}
    assert ("fx_stacks_alloc", "worker", "start_thread") in names
    assert not any("spawn_particles" in n or "load_texture" in n for n in names)
    assert last["failed"] == 3
    bad = gmtrace("stacks", "--from", 4, "--to", 3, cap)
    assert bad.returncode == 2 and "--from 4 is after --to 3" in bad.stderr


def test_frames_report_points_spikes_to_their_call_sites(tmp_path):
    """With stacks, each spike of `gmtrace frames` names the `gmtrace stacks`
    command for its frame, and that command counts the frame's allocations
    as the frames report does."""
    r = run_preloaded([fx("fx_stacks")], tmp_path, timeout=30, extra_env={
        "GMTRACE_STACKS": "8", "GMTRACE_SPIKE_ALLOCATIONS": "11"})
    assert r.returncode == 0, r.stderr
    (cap,) = captures(tmp_path)
    text = gmtrace("frames", cap)
    assert text.returncode == 0, text.stderr
    assert f"call sites: gmtrace stacks --from 1 --to 1 {cap}" in text.stdout
    assert "--from 2 --to 2" not in text.stdout, "10 allocations: no spike"
    rows = json.loads(gmtrace("frames", "--json", "--from", 1, "--to", 1, cap).stdout)
    (row,) = rows["per_frame"]
    rep = stacks_json(cap, "--from", 1, "--to", 1)
    assert rep["allocations"] == row["allocations"] == 13
    assert rep["allocated_bytes"] == row["allocated_bytes"]
    (tmp_path / "plain").mkdir()
    plain = run_preloaded([fx("fx_stacks")], tmp_path / "plain", timeout=30,
                          extra_env={"GMTRACE_SPIKE_ALLOCATIONS": "11"})
    assert plain.returncode == 0
    (pcap,) = captures(tmp_path / "plain")
    assert "call sites:" not in gmtrace("frames", pcap).stdout


def test_a_realloc_keeps_its_site_when_its_eviction_runs_game_code(tmp_path):
    """fx_stacks_evict: a realloc in a budget node goes over the hard limit;
    the evictor, called inside that realloc on the same thread, frees a
    block and makes one of its own. The realloc is still counted at its own
    line, and the evictor's block at the evictor's."""
    r = run_preloaded([fx("fx_stacks_evict")], tmp_path, extra_env={"GMTRACE_STACKS": "8"},
                      timeout=30)
    assert r.returncode == 0, r.stderr
    line = fixture_line(r.stdout, fixture="stacks_evict")
    assert line["evicted"] == 1 and line["realloc_ok"] is True
    (cap,) = captures(tmp_path)
    rep = stacks_json(cap, "--depth", 1)
    assert rep["without_stack"] == 0
    at = {(x["frames"][0]["function"], x["frames"][0]["line"]): x for x in rep["stacks"]
          if x["frames"]}
    assert (at[("grow_b", line["line_realloc"])]["allocations"],
            at[("grow_b", line["line_realloc"])]["allocated_bytes"]) == (1, line["big_size"])
    assert at[("grow_b", line["line_malloc"])]["allocated_bytes"] == line["small_size"]
    assert at[("fx_evict", line["line_evictor"])]["allocated_bytes"] == line["scratch_size"]


def test_asset_and_tag_filters(tmp_path):
    """fx_stacks_evict: asset a is one malloc in main, asset b grow_b's malloc
    and realloc; the evictor's own block is in no asset."""
    r = run_preloaded([fx("fx_stacks_evict")], tmp_path, extra_env={"GMTRACE_STACKS": "8"},
                      timeout=30)
    assert r.returncode == 0, r.stderr
    line = fixture_line(r.stdout, fixture="stacks_evict")
    (cap,) = captures(tmp_path)
    a = stacks_json(cap, "--depth", 1, "--asset", "a")
    assert a["asset"] == "a" and a["tag"] is None
    assert [(x["frames"][0]["function"], x["allocated_bytes"]) for x in a["stacks"]] == \
        [("main", line["big_size"])]
    b = stacks_json(cap, "--depth", 1, "--asset", "b")
    assert sorted((x["frames"][0]["line"], x["allocated_bytes"]) for x in b["stacks"]) == \
        sorted([(line["line_malloc"], line["small_size"]), (line["line_realloc"], line["big_size"])])
    # a folder of asset names: "pack" takes "pack/c", "pac" nothing
    for name in ("pack", "pack/c"):
        c = stacks_json(cap, "--depth", 1, "--asset", name)
        assert (c["allocations"], c["allocated_bytes"]) == (1, line["c_size"]), name
    for args in (("--asset", "pac"), ("--asset", "nosuch"), ("--tag", "nosuch")):
        r = gmtrace("stacks", "--json", *args, cap)
        assert r.returncode == 0 and json.loads(r.stdout)["allocations"] == 0, args
        what = "asset" if args[0] == "--asset" else "tag"
        assert f'no {what} named "{args[1]}"' in r.stderr, (args, r.stderr)
    bad = gmtrace("stacks", "--tag", "", cap)
    assert bad.returncode == 2 and "--tag takes a tag name" in bad.stderr


def test_assets_points_a_leak_to_its_call_sites(tmp_path):
    """fx_stacks_evict unloads asset b and keeps its block: the leak check of
    `gmtrace assets` names the stacks command, which finds the block at
    grow_b's realloc."""
    r = run_preloaded([fx("fx_stacks_evict")], tmp_path, extra_env={"GMTRACE_STACKS": "8"},
                      timeout=30)
    assert r.returncode == 0, r.stderr
    line = fixture_line(r.stdout, fixture="stacks_evict")
    (cap,) = captures(tmp_path)
    text = gmtrace("assets", "--check", cap)
    assert text.returncode == 1, "the leak check fires"
    # by id: another asset of the same name would be counted under --asset
    (b_id,) = [a["id"] for a in json.loads(gmtrace("assets", "--json", cap).stdout)["assets"]
               if a["name"] == "b"]
    assert f"call sites: gmtrace stacks --by live --asset-id {b_id} {cap}" in text.stdout, \
        text.stdout
    for how in (("--asset", "b"), ("--asset-id", b_id)):
        rep = stacks_json(cap, "--by", "live", *how, "--depth", 1)
        top = rep["stacks"][0]
        assert (top["frames"][0]["function"], top["frames"][0]["line"]) == \
            ("grow_b", line["line_realloc"])
        assert (top["live_count"], top["live_bytes"]) == (1, line["big_size"])
    assert rep["asset_id"] == b_id
    r = gmtrace("stacks", "--asset-id", 999999, cap)
    assert f"no asset with id 999999" in r.stderr, r.stderr
    bad = gmtrace("stacks", "--asset-id", 0, cap)
    assert bad.returncode == 2 and "--asset-id takes an asset id 1 or more" in bad.stderr
    bad = gmtrace("stacks", "--asset", "b", "--asset-id", b_id, cap)
    assert bad.returncode == 2 and "--asset and --asset-id: one or the other" in bad.stderr


def test_compare_two_captures_by_call_site(tmp_path):
    """fx_stacks with 5 and with 8 particle frames: one call site changed,
    by 30 particles; --check-growth exits 1 when that is over its limit."""
    caps = []
    for frames in (5, 8):
        d = tmp_path / str(frames)
        d.mkdir()
        r = run_preloaded([fx("fx_stacks"), frames], d, extra_env={"GMTRACE_STACKS": "8"},
                          timeout=30)
        assert r.returncode == 0, r.stderr
        line = fixture_line(r.stdout, fixture="stacks")
        caps += captures(d)
    a, b = caps
    rep = json.loads(gmtrace("stacks", "--json", "--depth", 3, "--compare", a, b).stdout)
    assert (rep["a"], rep["b"], rep["by"], rep["changed"]) == (str(a), str(b), "bytes", 1)
    (row,) = rep["rows"]
    assert row["delta"] == 30 * line["particle_size"]
    assert (row["in_a"]["allocations"], row["in_b"]["allocations"]) == (50, 80)
    assert [f["function"] for f in row["frames"]] == ["fx_stacks_alloc", "spawn_particles", "main"]
    back = json.loads(gmtrace("stacks", "--json", "--by", "count", "--depth", 3,
                              "--compare", b, a).stdout)
    assert back["rows"][0]["delta"] == -30
    for limit, rc in ((29, 1), (30, 0)):
        r = gmtrace("stacks", "--by", "count", "--depth", 3, "--check-growth", limit,
                    "--compare", a, b)
        assert r.returncode == rc, (limit, r.stdout, r.stderr)
        assert f"1 changed by allocation count, {1 if rc else 0} grew by more than {limit}" \
            in r.stdout
    text = gmtrace("stacks", "--depth", 3, "--compare", a, b).stdout
    assert "(A: 286.5 KiB in 50, 0 live (0 B); B: 458.4 KiB in 80, 0 live (0 B))" in text
    for args in (["--compare", a], ["--compare", a, b, a], ["--folded", "--compare", a, b],
                 ["--check-growth", "5", a]):
        r = gmtrace("stacks", *args)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
    missing = gmtrace("stacks", "--compare", a, tmp_path / "none.gmt")
    assert missing.returncode == 1 and "none.gmt" in missing.stderr
    # the same program run from another folder (a CI workspace of another
    # name): its call sites match by names, not paths
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    shutil.copy2(fx("fx_stacks"), moved / "fx_stacks")
    r = run_preloaded([moved / "fx_stacks", 5], moved, extra_env={"GMTRACE_STACKS": "8"},
                      timeout=30)
    assert r.returncode == 0, r.stderr
    (c,) = captures(moved)
    same = json.loads(gmtrace("stacks", "--json", "--compare", a, c).stdout)
    assert same["changed"] == 0, same["rows"][:2]
    assert gmtrace("stacks", "--check-growth", 0, "--compare", a, c).returncode == 0
    # a baseline recorded without stacks: said, not every call site "grew"
    d = tmp_path / "nostacks"
    d.mkdir()
    r = run_preloaded([fx("fx_stacks"), 5], d, timeout=30)
    assert r.returncode == 0, r.stderr
    (plain,) = captures(d)
    for pair in ((plain, b), (a, plain)):
        r = gmtrace("stacks", "--check-growth", 0, "--compare", *pair)
        assert r.returncode == 1 and r.stdout == "", (r.stdout, r.stderr)
        assert r.stderr == (f"gmtrace stacks: {plain} has no call stacks: record it with "
                            "GMTRACE_STACKS=16 (or `gmtrace run --stacks 16`) to compare it\n")


CLANG_GAME = """\
#include <stdlib.h>
static void *volatile keep;
__attribute__((noinline)) void *load_tile(size_t n)
{
	return malloc(n); /* the line the test looks for: 5 */
}
int main(void)
{
	for (int i = 0; i < 10; i++)
		keep = load_tile(4096 + (size_t)i);
	return 0;
}
"""


def build_and_record(tmp_path, source, compile_cmd, depth):
    """Writes source to tmp_path/game.c, builds it with compile_cmd (the
    compiler and its flags), runs it with depth frames of stacks; returns
    the executable and its capture."""
    src = tmp_path / "game.c"
    src.write_text(source)
    exe = tmp_path / "game"
    subprocess.run(compile_cmd + ["-o", str(exe), str(src)], check=True, timeout=60)
    r = run_preloaded([exe], tmp_path, extra_env={"GMTRACE_STACKS": str(depth)}, timeout=30)
    assert r.returncode == 0, r.stderr
    (cap,) = captures(tmp_path)
    return exe, cap


@pytest.mark.skipif(shutil.which("clang") is None, reason="no clang")
def test_a_clang_build_is_named_with_its_lines(tmp_path):
    """clang -g writes no .debug_aranges, from which libdwfl looks compile
    units up: a clang build had its functions named and no file:line. The
    units' own ranges are asked instead."""
    _, cap = build_and_record(tmp_path, CLANG_GAME, ["clang", "-g", "-O1"], 8)
    rows = [x for x in stacks_json(cap, "--depth", 1)["stacks"]
            if x["frames"][0]["function"] == "load_tile"]
    assert len(rows) == 1, stacks_json(cap, "--depth", 1)["stacks"]
    frame = rows[0]["frames"][0]
    assert (frame["file"].endswith("game.c"), frame["line"], rows[0]["allocations"]) == \
        (True, 5, 10), frame
    # _start (crt1.o, no line table of its own) has no line: not the last
    # row of the unit before it
    starts = [f for x in stacks_json(cap)["stacks"] for f in x["frames"]
              if f["function"] == "_start"]
    assert starts and all(f["file"] is None and f["line"] == 0 for f in starts), starts


INLINED_GAME = """\
#include <stdlib.h>
void *keep[4];
void *volatile sink;
static inline void *game_alloc(size_t n) {
    return malloc(n);
}
__attribute__((noinline)) void load_level(void) {
    void *mesh = game_alloc(1000);
    sink = mesh;
    keep[0] = game_alloc(5000);
    free(mesh);
}
int main(void) { load_level(); return 0; }
"""


@pytest.mark.skipif(shutil.which("clang") is None, reason="no clang")
def test_a_clang_build_names_each_inlined_call_site(tmp_path):
    """clang -O2 inlines game_alloc at lines 8 and 10 of load_level; with no
    .debug_aranges the inlined scopes were not found either, and both sites
    were one row at the wrapper's line 5 (the leak among the freed)."""
    _, cap = build_and_record(tmp_path, INLINED_GAME, ["clang", "-g", "-O2"], 4)
    rows = {(x["frames"][0]["line"], x["frames"][0]["inlined"]["function"],
             x["frames"][0]["inlined"]["line"]): (x["allocated_bytes"], x["live_count"])
            for x in stacks_json(cap, "--depth", 1)["stacks"]
            if x["frames"][0]["function"] == "load_level"}
    assert rows == {(8, "game_alloc", 5): (1000, 0), (10, "game_alloc", 5): (5000, 1)}, rows
    # --match finds the inlined function the frames name
    rep = stacks_json(cap, "--depth", 1, "--match", "game_alloc")
    assert (rep["matched_allocations"], rep["matched_allocated_bytes"]) == (2, 6000), rep


TEMPLATE_GAME = """\
#include <cstdlib>
template <class T> struct Pool {
	T *grab(unsigned long n) { return static_cast<T *>(std::malloc(n * sizeof(T))); }
};
struct Particle { float x, y, z; };
static void *volatile keep;
int main()
{
	Pool<Particle> p;
	for (int i = 0; i < 5; i++)
		keep = p.grab(10 + i);
	return 0;
}
"""


@pytest.mark.parametrize("cxx", ("g++", "clang++"))
def test_an_inlined_method_is_named_with_its_class(tmp_path, cxx):
    """A C++ method inlined at -O2 was named by its DWARF name alone
    ("grab"): which class, which template? Its linkage name, demangled as
    the functions' are, says it all."""
    if shutil.which(cxx) is None:
        pytest.skip(f"no {cxx}")
    src = tmp_path / "game.cc"
    src.write_text(TEMPLATE_GAME)
    exe = tmp_path / "game"
    subprocess.run([cxx, "-g", "-O2", "-o", str(exe), str(src)], check=True, timeout=60)
    r = run_preloaded([exe], tmp_path, extra_env={"GMTRACE_STACKS": "4"}, timeout=30)
    assert r.returncode == 0, r.stderr
    (cap,) = captures(tmp_path)
    rows = [x for x in stacks_json(cap, "--depth", 1, "--match", "game.cc")["stacks"]]
    assert [(x["frames"][0]["function"], x["frames"][0]["line"],
             x["frames"][0]["inlined"]["function"], x["frames"][0]["inlined"]["line"],
             x["allocations"], x["allocated_bytes"]) for x in rows] == \
        [("main", 11, "Pool<Particle>::grab(unsigned long)", 3, 5, 720)], rows


LATE_PLUGIN = """\
#include <stdlib.h>
void *late_keep;
__attribute__((noinline)) void late_make(void) { late_keep = malloc(12345); }
"""
LATE_HOST = """\
#include <dlfcn.h>
#include <stdio.h>
int main(int argc, char **argv) {
    void *h = dlopen(argv[1], RTLD_NOW);
    void (*make)(void);
    if (!h)
        return 1;
    *(void **)&make = dlsym(h, "late_make");
    make();
    return 0; /* no dlclose: gone with the process, a few us after its load */
}
"""


def test_a_plugin_loaded_just_before_the_end_is_named(tmp_path):
    """The agent walks the modules every 50 ms (and around a dlclose): a
    plugin loaded and used just before exit, never closed, had no module
    record, and its frames were bare addresses. The session's end walks
    them once more."""
    plugin, host = tmp_path / "libfxlate.so", tmp_path / "late"
    (tmp_path / "late.c").write_text(LATE_PLUGIN)
    (tmp_path / "host.c").write_text(LATE_HOST)
    subprocess.run(["cc", "-g", "-O1", "-shared", "-fPIC", "-o", str(plugin),
                    str(tmp_path / "late.c")], check=True, timeout=60)
    subprocess.run(["cc", "-g", "-O1", "-o", str(host), str(tmp_path / "host.c"), "-ldl"],
                   check=True, timeout=60)
    for _ in range(3):  # (before: 2 runs in 3 lost it)
        for old in captures(tmp_path):
            os.unlink(old)
        r = run_preloaded([host, plugin], tmp_path, extra_env={"GMTRACE_STACKS": "4"},
                          timeout=30)
        assert r.returncode == 0, r.stderr
        (cap,) = captures(tmp_path)
        rows = [x for x in stacks_json(cap, "--depth", 1)["stacks"]
                if x["allocated_bytes"] == 12345]
        assert len(rows) == 1, stacks_json(cap, "--depth", 1)["stacks"]
        frame = rows[0]["frames"][0]
        assert (frame["function"], frame["module"]) == ("late_make", str(plugin)), frame


def test_a_game_rebuilt_after_its_capture_is_said(tmp_path):
    """Names come from the game's files as they are when the report runs: a
    game rebuilt since gave another build's names without a word. The
    capture keeps each module's build ID (format 3.4): a file whose build
    ID differs names nothing (its frames are addresses), said once; the same
    file touched since is still the game's. A file with no build ID is
    judged by its time: newer than the capture is said."""
    exe, cap = build_and_record(tmp_path, CLANG_GAME, ["cc", "-g", "-O1"], 4)
    r = gmtrace("stacks", "--depth", 1, cap)
    assert r.returncode == 0 and "gmtrace: " not in r.stderr, r.stderr
    # the build ID recorded is the file's (as readelf reads it)
    recs = [json.loads(x) for x in gmtrace("dump", "--json", cap).stdout.splitlines()]
    (base,) = {x["base"] for x in recs if x["type"] == "module" and x["path"] == str(exe)}
    notes = subprocess.run(["readelf", "-n", str(exe)], capture_output=True, text=True,
                           check=True).stdout
    want = notes.split("Build ID:")[1].split()[0]
    assert [x["build_id"] for x in recs if x["type"] == "module_id" and x["base"] == base] \
        == [want], notes
    later = os.stat(cap).st_mtime + 60
    os.utime(exe, (later, later))  # touched a minute after the capture
    r = gmtrace("stacks", "--depth", 1, cap)
    assert r.returncode == 0 and "gmtrace: " not in r.stderr, r.stderr
    assert "load_tile" in r.stdout, r.stdout

    # rebuilt: another function at another place
    (tmp_path / "game.c").write_text(CLANG_GAME.replace("load_tile", "load_tile_v2")
                                     .replace("#include <stdlib.h>\n",
                                              "#include <stdlib.h>\nint pad[64];\n"))
    subprocess.run(["cc", "-g", "-O1", "-o", str(exe), str(tmp_path / "game.c")],
                   check=True, timeout=60)
    r = gmtrace("stacks", "--depth", 1, cap)
    assert r.returncode == 0, r.stderr
    assert r.stderr.count(f"gmtrace: {exe} is not the file the game ran in {cap} (its "
                          "build ID differs): its frames are shown as addresses\n") == 1, \
        r.stderr
    assert "load_tile" not in r.stdout and "game.c" not in r.stdout, r.stdout
    assert f"game+0x" in r.stdout, r.stdout

    # no build ID: the file's time
    for old in captures(tmp_path):
        os.unlink(old)
    exe, cap = build_and_record(tmp_path, CLANG_GAME,
                                ["cc", "-g", "-O1", "-Wl,--build-id=none"], 4)
    recs = [json.loads(x) for x in gmtrace("dump", "--json", cap).stdout.splitlines()]
    bases = {x["base"] for x in recs if x["type"] == "module" and x["path"] == str(exe)}
    with_id = {x["base"] for x in recs if x["type"] == "module_id"}
    assert len(bases) == 1 and not bases & with_id and with_id, (bases, with_id)
    r = gmtrace("stacks", "--depth", 1, cap)
    assert r.returncode == 0 and "gmtrace: " not in r.stderr, r.stderr
    later = os.stat(cap).st_mtime + 60
    os.utime(exe, (later, later))
    r = gmtrace("stacks", "--depth", 1, cap)
    assert r.returncode == 0, r.stderr
    assert r.stderr.count(f"gmtrace: {exe} changed after {cap} was made: its names may be "
                          "wrong\n") == 1, r.stderr
    assert "load_tile" in r.stdout, r.stdout

    # deleted since: said, as a rebuilt one is, not left to the bare addresses
    os.unlink(exe)
    r = gmtrace("stacks", "--depth", 1, cap)
    assert r.returncode == 0, r.stderr
    assert r.stderr.count(f"gmtrace: {exe} (a module of {cap}) cannot be read: No such file "
                          "or directory; its frames are shown as addresses\n") == 1, r.stderr
    assert "load_tile" not in r.stdout and "game+0x" in r.stdout, r.stdout


NOG_GAME = """\
#include <stdlib.h>
static void *volatile keep;
int main(void)
{
	for (int i = 0; i < 10; i++)
		free(malloc(100));
	keep = malloc(12345); /* a leak, at its own call site */
	return 0;
}
"""


def test_a_build_without_debug_lines_keeps_call_sites_apart(tmp_path):
    """Without -g a function has a name and no lines: its call sites made
    one row (main: 11 allocations, 1 live), the leak hidden among them.
    They are kept apart by offset."""
    _, cap = build_and_record(tmp_path, NOG_GAME, ["cc", "-O0"], 4)
    rows = sorted((x["allocations"], x["live_count"]) for x in
                  stacks_json(cap, "--depth", 1)["stacks"]
                  if x["frames"][0]["function"] == "main")
    assert rows == [(1, 1), (10, 0)], rows
    # another build with a function added before main: main's code moved
    # in the file, not inside main, so its call sites still match
    other = tmp_path / "other"
    other.mkdir()
    grown = NOG_GAME.replace("int main(void)", "int pad(int x) { return x * 3 + 1; }\n"
                                               "int main(void)")
    _, cap_b = build_and_record(other, grown, ["cc", "-O0"], 4)
    same = json.loads(gmtrace("stacks", "--json", "--depth", 1, "--compare", cap,
                              cap_b).stdout)
    assert same["changed"] == 0, same["rows"][:3]


WALK_GAME = """\
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static int calls;
static double closing; /* seconds the 20 dlcloses took */
static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}
/* a callback of the loader's walk that works a while (gmtrace's own
 * module walk, every 50 ms, then waits for the loader's lock), then
 * looks at a library with dlopen RTLD_NOLOAD and dlclose 20 times, as
 * overlays and gmtrace's present hooks do inside such a walk */
static int visit(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct timespec pause = {0, 200 * 1000 * 1000};
	double start;
	void *h;
	int i;
	(void)info, (void)size, (void)arg;
	if (calls++)
		return 1;
	nanosleep(&pause, NULL);
	start = now();
	for (i = 0; i < 20; i++)
		if ((h = dlopen("libm.so.6", RTLD_LAZY | RTLD_NOLOAD)) != NULL)
			dlclose(h);
	closing = now() - start;
	return 1;
}
int main(int argc, char **argv)
{
	free(malloc(10));
	dl_iterate_phdr(visit, NULL);
	printf("%g %.3f\\n", sqrt((double)argc), closing); /* (libm linked, so loaded) */
	return 0;
}
"""


def test_a_dlclose_inside_the_loaders_walk_does_not_hang(tmp_path):
    """gmtrace's dlclose hook walks the modules; inside a dl_iterate_phdr
    callback the thread holds the loader's lock, which gmtrace's own 50 ms
    walk may be waiting for while it holds the walk's: the two waited for
    each other for good. Then a dlclose waited 250 ms for that walker
    before it left the walk to it, each dlclose again: 5 s for these 20.
    A dlclose inside the loader's walk now never waits for gmtrace's."""
    src = tmp_path / "walk.c"
    src.write_text(WALK_GAME)
    exe = tmp_path / "walk"
    subprocess.run(["cc", "-O1", "-o", str(exe), str(src), "-lm"], check=True, timeout=60)
    for _ in range(3):
        r = run_preloaded([exe], tmp_path, timeout=30)
        assert r.returncode == 0, r.stderr
        root, closing = r.stdout.split()
        assert root == b"1"
        # (no figure of speed: a stall of seconds, against none at all)
        assert float(closing) < 2.0, closing


def test_an_inlined_wrapper_is_named_at_each_call_site(tmp_path):
    # fx_inlined (built -O2): its allocation wrapper is inlined into main at
    # three call sites, and a helper into it that calls malloc: every malloc
    # returns into main two inlined levels down. Each site is a row of its
    # own at its line in main (the outer inlined call's), the innermost
    # inlined code named beside it (its three sites were one row, at the
    # wrapper's line, the leak hidden among the churn). Only the stacks
    # through the fixture's own file are its own: a coverage build's runtime
    # allocates after main returns, from stacks with nothing inlined; the
    # fixture's are all of its deliberate allocations, no more.
    r = run_preloaded([fx("fx_inlined")], tmp_path, extra_env={"GMTRACE_STACKS": "4"},
                      timeout=30)
    assert r.returncode == 0, r.stderr
    line = fixture_line(r.stdout, fixture="inlined")
    (cap,) = captures(tmp_path)
    rep = stacks_json(cap, "--depth", 1, "--by", "live", "--match", "tests/fixtures/inlined.c")
    assert (rep["matched_allocations"], rep["matched_allocated_bytes"]) == (
        line["allocations"], line["allocated_bytes"]) == (302, 3029306), rep
    rows = {(f["function"], f["line"], f["inlined"]["function"]): row for row in rep["stacks"]
            for f in row["frames"][:1]}
    raw = "fx_inlined_raw"
    assert set(rows) == {("main", line["line_churn"], raw), ("main", line["line_leak"], raw),
                         ("main", line["line_more"], raw), ("main", line["line_pair"], raw),
                         ("main", line["line_pair"], "fx_inlined_other")}, rows.keys()
    # two functions inlined on one line are two rows
    other = rows["main", line["line_pair"], "fx_inlined_other"]
    assert (other["allocated_bytes"], other["frames"][0]["inlined"]["line"]) == (
        22251, line["line_other"])
    assert rows["main", line["line_pair"], raw]["allocated_bytes"] == 18155
    for key, size, live in ((line["line_churn"], 5867, 0), (line["line_leak"], 9963, 100),
                            (line["line_more"], 14059, 0)):
        row = rows["main", key, raw]
        assert (row["allocations"], row["allocated_bytes"], row["live_count"]) == (
            100, 100 * size, live), row
        inl = row["frames"][0]["inlined"]
        assert inl["function"] == "fx_inlined_raw" and inl["line"] == line["line_malloc"]
        assert inl["file"].endswith("tests/fixtures/inlined.c")
    assert rep["stacks"][0]["frames"][0]["line"] == line["line_leak"], "the leak ranks first"
    text = gmtrace("stacks", "--depth", 1, "--by", "live", cap).stdout
    assert (f"main (inlined.c:{line['line_leak']}) in inlined fx_inlined_raw "
            f"(inlined.c:{line['line_malloc']})") in text, text
    # the HTML page names them as stacks does (it showed main's lines only:
    # rows that looked alike, and no allocating line)
    page = gmtrace("html", cap).stdout
    for key in ("line_churn", "line_leak", "line_more"):
        assert (f"main <span class=\"where\">(inlined.c:{line[key]})</span> in inlined "
                f"fx_inlined_raw <span class=\"where\">(inlined.c:{line['line_malloc']})"
                "</span>") in page, page[page.index("Call sites"):]


PLUGIN_HOST = """\
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	void *h;
	void (*run)(void);
	if (chdir(argv[1]) != 0)
		return 2;
	h = dlopen("./libplug.so", RTLD_NOW);
	if (!h || chdir(argv[2]) != 0)
		return 3;
	run = (void (*)(void))dlsym(h, "plugin_run");
	run();
	if (strcmp(argv[3], "kill") == 0)
		raise(SIGKILL);
	return 0;
}
"""

PLUGIN = """\
#include <stdlib.h>
void *volatile keep;
__attribute__((noinline)) static void *%s(void) { return malloc(%d); }
void plugin_run(void) { keep = %s(); __asm__ volatile("" ::: "memory"); }
"""


@pytest.mark.parametrize("end", ("exit", "kill"))
def test_a_plugin_loaded_by_a_relative_name_is_named_from_its_own_file(tmp_path, end):
    """The game loads ./libplug.so from one folder and moves to another that
    holds another libplug.so, at once: the module walk (every 50 ms) took the
    relative name from the folder of the moment, and named the frames from
    the wrong file (or none, without a word, its build ID differing). And a
    game killed right after the load had no record of the module at all:
    its stacks' frames were bare addresses. The kernel's list of mappings
    names the file, and a new stack with an address in no module known walks
    the modules before it is written."""
    (tmp_path / "right").mkdir()
    (tmp_path / "right" / "other").mkdir()
    for folder, fn, size in (("right", "alpha_alloc", 4321),
                             ("right/other", "beta_make_buffer", 999)):
        src = tmp_path / (fn + ".c")
        src.write_text(PLUGIN % (fn, size, fn))
        subprocess.run(["cc", "-g", "-O1", "-shared", "-fPIC", "-o",
                        str(tmp_path / folder / "libplug.so"), str(src)], check=True,
                       timeout=60)
    (tmp_path / "host.c").write_text(PLUGIN_HOST)
    exe = tmp_path / "host"
    subprocess.run(["cc", "-g", "-O1", "-o", str(exe), str(tmp_path / "host.c"), "-ldl"],
                   check=True, timeout=60)
    r = run_preloaded([exe, tmp_path / "right", tmp_path / "right" / "other", end], tmp_path,
                      extra_env={"GMTRACE_STACKS": "8"}, timeout=30)
    (cap,) = captures(tmp_path)
    if end == "kill":
        assert r.returncode == -9, r.stderr
        rec = gmtrace("recover", cap)
        assert rec.returncode == 0, rec.stderr
    else:
        assert r.returncode == 0, r.stderr
    modules = [x["path"] for x in json_dump(cap) if x["type"] == "module"]
    assert str(tmp_path / "right" / "libplug.so") in modules, modules
    assert str(tmp_path / "right" / "other" / "libplug.so") not in modules, modules
    rep = stacks_json(cap, "--depth", 2)
    rows = [x for x in rep["stacks"] if x["allocated_bytes"] == 4321]
    assert len(rows) == 1, rep["stacks"]
    assert [f["function"] for f in rows[0]["frames"]] == ["alpha_alloc", "plugin_run"]
    r = gmtrace("stacks", cap)
    assert "gmtrace: " not in r.stderr, r.stderr
