"""Running under a platform profile: banks enforced by their heaps, strict
and soft modes, split memory, and `gmtrace platforms` on what was recorded.

tiny-split (profiles/tiny-split.yaml): main 8 MiB (default bank), video
4 MiB (type texture, tag gpu), a meshes budget of 25 % of main. pf_grow
loads one 256 KiB texture and/or one 256 KiB untagged block per frame, so
video is full after 16 frames and main after 32: the 17th texture and the
33rd block go over, in frames 17 and 33.
"""
import json
import subprocess

from pf_support import (GMTRACE, KIB, MIB, PROFILES, env_for, grow, gmtrace, memory,
                        node_names, platforms_json, records)

BLOCK = 256 * KIB


def violations(recs, event):
    names = node_names(recs)
    return [(names[r["node"]], r["at_frame"], r["size"]) for r in recs
            if r["type"] == "budget_violation" and r["event"] == event]


def test_strict_fails_at_the_expected_frame_and_the_game_recovers(tmp_path):
    line, cap = grow(tmp_path, ["split", 40],
                     {"GMTRACE_PLATFORM": "tiny-split", "GMTRACE_BUDGET_MODE": "strict"})
    assert line["video"] == {"blocks": 16, "null_frame": 17, "enomem": True, "recovered": True}
    assert line["main"] == {"blocks": 32, "null_frame": 33, "enomem": True, "recovered": True}
    recs = records(tmp_path, cap)
    assert [r["name"] for r in recs if r["type"] == "platform"] == ["tiny-split"]
    nodes = {r["name"]: r for r in recs if r["type"] == "budget_node"}
    assert nodes["video"]["heap_capacity"] == 4 * MIB
    assert nodes["main"]["heap_capacity"] == 8 * MIB
    # each bank failed once, at its hard limit, and nothing over it
    assert violations(recs, "failed") == [("video", 17, BLOCK), ("main", 33, BLOCK)]
    assert violations(recs, "over_hard") == []
    assert violations(recs, "heap_full") == []
    fails = [(r["at_frame"], r["size"]) for r in recs if r["type"] == "fail"]
    assert fails == [(17, BLOCK), (33, BLOCK)]
    # the profiler kept recording after the failures: the recovery's frees
    assert sum(r["type"] == "free" for r in recs if r["at_frame"] == 41) >= 16 + 8
    rep = platforms_json(tmp_path, cap, "tiny-split")
    assert rep["ran_under"] == "tiny-split"
    assert rep["failed_allocations"] == {"count": 2, "first_frame": 17, "first_size": BLOCK}
    # what the game held never went over: it fits, exactly full
    assert memory(rep, "tiny-split", "video")["peak"] == 4 * MIB
    assert memory(rep, "tiny-split", "main")["peak"] == 8 * MIB
    assert rep["platforms"][0]["fits"] is True
    # no mesh in this game: its budget never held a byte, so no peak frame
    meshes = memory(rep, "tiny-split", "meshes")
    assert (meshes["peak"], meshes["peak_frame"]) == (0, None)


def test_soft_records_the_violation_at_the_expected_frame(tmp_path):
    line, cap = grow(tmp_path, ["split", 40], {"GMTRACE_PLATFORM": "tiny-split"})
    assert line["video"]["blocks"] == 40 and line["video"]["null_frame"] == 0
    assert line["main"]["blocks"] == 40 and line["main"]["null_frame"] == 0
    recs = records(tmp_path, cap)
    over = violations(recs, "over_hard")
    assert over[0] == ("video", 17, BLOCK)
    assert [v for v in over if v[0] == "main"][0] == ("main", 33, BLOCK)
    assert violations(recs, "failed") == []
    rep = platforms_json(tmp_path, cap, "tiny-split")
    video, main = memory(rep, "tiny-split", "video"), memory(rep, "tiny-split", "main")
    assert video["first_over"]["frame"] == 17 and main["first_over"]["frame"] == 33
    assert video["first_over"]["scene"] == "growth"
    # at its first overrun video held the 17 textures of frames 1..17
    assert video["first_over"]["live"] == 17 * BLOCK
    assert video["first_over"]["types"] == [{"name": "texture", "bytes": 17 * BLOCK}]
    assert video["first_over"]["assets"][0] == {"name": "tex_001", "type": "texture",
                                                "bytes": BLOCK}
    assert main["first_over"]["tags"] == [{"name": "gameplay/world", "bytes": 33 * BLOCK}]
    assert video["peak"] == 40 * BLOCK and main["peak"] == 40 * BLOCK
    assert video["headroom"] == 4 * MIB - 40 * BLOCK
    # the contributors name the right bank's content
    assert video["at_peak"]["types"][0] == {"name": "texture", "bytes": 40 * BLOCK}
    assert video["at_peak"]["tags"][0] == {"name": "render/textures", "bytes": 40 * BLOCK}
    assert main["at_peak"]["tags"][0] == {"name": "gameplay/world", "bytes": 40 * BLOCK}
    assert video["at_peak"]["assets"][0]["type"] == "texture"
    assert "video exceeds the Tiny split-memory test device video bank" in \
        video["at_peak"]["recommendation"]
    assert "24 largest texture assets are 6.0 MiB" in video["at_peak"]["recommendation"]
    assert rep["platforms"][0]["fits"] is False
    # --check: exit 1 when it does not fit, 0 for a platform it fits
    gmtrace(tmp_path, "platforms", "--check", "tiny-split", cap, rc=1)
    gmtrace(tmp_path, "platforms", "--check", "ps3", cap, rc=0)
    text = gmtrace(tmp_path, "platforms", cap, "tiny-split").stdout.decode()
    assert "tiny-split      Tiny split-memory test device: DOES NOT FIT" in text


def test_split_memory_enforces_each_bank_on_its_own(tmp_path):
    strict = {"GMTRACE_PLATFORM": "tiny-split", "GMTRACE_BUDGET_MODE": "strict"}
    # textures alone: video fills at 16 while main stays empty
    line, cap = grow(tmp_path, ["video", 40], strict, name="video")
    assert line["video"]["null_frame"] == 17 and line["main"]["blocks"] == 0
    rep = platforms_json(tmp_path, cap, "tiny-split")
    assert memory(rep, "tiny-split", "video")["peak"] == 4 * MIB
    # nothing of the game's own (a coverage build adds gcov's buffers at exit)
    assert memory(rep, "tiny-split", "main")["peak"] < 16 * KIB
    # untagged blocks alone: main takes 32 of them though video is empty
    line, cap = grow(tmp_path, ["main", 40], strict, name="main")
    assert line["main"]["null_frame"] == 33 and line["video"]["blocks"] == 0
    rep = platforms_json(tmp_path, cap, "tiny-split")
    assert memory(rep, "tiny-split", "main")["peak"] == 8 * MIB
    assert memory(rep, "tiny-split", "video")["peak"] == 0


def test_banks_that_share_memory_are_held_to_what_the_game_may_use(tmp_path):
    # tiny-shared: main 8 MiB and video 4 MiB, 10 MiB for the game in all.
    # One texture and one block a frame: video is full after 16 frames (8
    # MiB in all), and the banks together after main's 24th block (10 MiB):
    # its 25th fails in frame 25 though main holds only 6 MiB of its 8
    strict = {"GMTRACE_PLATFORM": "tiny-shared", "GMTRACE_BUDGET_MODE": "strict"}
    line, cap = grow(tmp_path, ["split", 40], strict)
    assert (line["video"]["blocks"], line["video"]["null_frame"]) == (16, 17), line
    assert (line["main"]["blocks"], line["main"]["null_frame"]) == (24, 25), line
    recs = records(tmp_path, cap)
    names = node_names(recs)
    parents = {r["name"]: r["parent"] for r in recs if r["type"] == "budget_node"}
    assert parents["total"] not in names and names[parents["main"]] == "total" \
        and names[parents["video"]] == "total" and names[parents["meshes"]] == "main", parents
    assert [v for v in violations(recs, "failed") if v[0] != "video"] == \
        [("total", 25, BLOCK)], violations(recs, "failed")
    rep = platforms_json(tmp_path, cap, "tiny-shared")
    assert memory(rep, "tiny-shared", "main")["peak"] == 24 * BLOCK
    # banks whose capacities fit what the game may use get no such node
    line, cap = grow(tmp_path, ["main", 4], {"GMTRACE_PLATFORM": "tiny-split"}, name="split")
    assert "total" not in node_names(records(tmp_path, cap)).values()


def test_a_fork_child_keeps_the_total_node(tmp_path):
    # a fork child starts its budgets again with its parent's nodes: "total"
    # was defined anew there, under the default bank by then, said redefined
    # (a warning, a validation) and missing from the child's capture
    from pf_support import LIB
    env = env_for(tmp_path, {"GMTRACE_PLATFORM": "tiny-shared", "LD_PRELOAD": str(LIB),
                             "GMTRACE_OUTPUT": str(tmp_path / "f.%p.gmt"),
                             "PYTHONMALLOC": "malloc"})
    p = subprocess.run(["/usr/bin/python3", "-c",
                        "import os\npid = os.fork()\nif pid == 0:\n    os._exit(0)\n"
                        "os.waitpid(pid, 0)\n"], env=env, capture_output=True, timeout=60)
    assert p.returncode == 0 and b"defined already" not in p.stderr, p.stderr
    caps = sorted(tmp_path.glob("f.*.gmt"))
    assert len(caps) == 2, caps
    for cap in caps:
        recs = records(tmp_path, cap)
        names = node_names(recs)
        nodes = {r["name"]: r for r in recs if r["type"] == "budget_node"}
        assert nodes["total"]["hard"] == 10 * MIB, nodes
        assert names[nodes["main"]["parent"]] == "total", nodes
        assert [r for r in recs if r["type"] == "validation"] == []


def test_a_fork_child_of_a_launcher_that_cleared_its_environment_keeps_the_platform(tmp_path):
    """A launcher clears its environment and forks (GMTRACE_BUDGET_MODE and
    GMTRACE_PLATFORM_PATH gone with it): the child records with its
    parent's options, but looked for the profile on the search path of its
    own, empty, environment and ran without the platform's limits, without
    a word; and took the budgets file's own mode over the one the parent
    was given. Also a profile named by a relative path, the launcher
    having changed folder before it forked."""
    import shutil
    from pf_support import LIB
    budgets = tmp_path / "budgets.yaml"
    budgets.write_text("mode: strict\nnodes:\n  - name: spare\n    hard: 1M\n")
    (tmp_path / "here").mkdir()
    shutil.copy(PROFILES / "tiny-shared.yaml", tmp_path / "here")
    script = ("import os\nos.chdir('/')\nos.environ.clear()\npid = os.fork()\nif pid == 0:\n"
              "    os._exit(0)\nos.waitpid(pid, 0)\n")
    for what, extra in (("platform", {"GMTRACE_PLATFORM": "tiny-shared"}),
                        ("relative", {"GMTRACE_PLATFORM": "here/tiny-shared.yaml"}),
                        ("mode", {"GMTRACE_BUDGETS": str(budgets),
                                  "GMTRACE_BUDGET_MODE": "soft"})):
        out = tmp_path / what
        out.mkdir()
        env = env_for(tmp_path, {**extra, "LD_PRELOAD": str(LIB),
                                 "GMTRACE_OUTPUT": str(out / "f.%p.gmt"),
                                 "PYTHONMALLOC": "malloc"})
        p = subprocess.run(["/usr/bin/python3", "-c", script], env=env, capture_output=True,
                           timeout=60, cwd=str(tmp_path))
        assert p.returncode == 0, p.stderr
        caps = sorted(out.glob("f.*.gmt"))
        assert len(caps) == 2, caps
        for cap in caps:
            recs = records(tmp_path, cap)
            if what in ("platform", "relative"):
                assert [r["name"] for r in recs if r["type"] == "platform"] == ["tiny-shared"]
                assert {r["name"] for r in recs if r["type"] == "budget_node"} >= \
                    {"total", "main", "video"}
            else:
                spare = [r for r in recs if r["type"] == "budget_node" and r["name"] == "spare"]
                # (a fork child states its parent's nodes, then defines its own)
                assert spare and {r["strict"] for r in spare} == {0}, (cap, spare)


def test_the_ps3_profile_puts_textures_in_video_memory(tmp_path):
    # 8 MiB textures: the recommended textures budget is 60 % of the 249 MiB
    # video bank (149.4 MiB): 18 fit (144 MiB), the 19th fails
    line, cap = grow(tmp_path, ["split", 24, 8192],
                     {"GMTRACE_PLATFORM": "ps3", "GMTRACE_BUDGET_MODE": "strict"})
    assert line["video"]["blocks"] == 18 and line["video"]["null_frame"] == 19
    assert line["main"]["blocks"] == 24 and line["main"]["null_frame"] == 0
    recs = records(tmp_path, cap)
    assert violations(recs, "failed") == [("textures", 19, 8 * MIB)]
    rep = platforms_json(tmp_path, cap, "ps3")
    assert memory(rep, "ps3", "video")["peak"] == 18 * 8 * MIB
    assert memory(rep, "ps3", "textures")["peak"] == 18 * 8 * MIB
    assert memory(rep, "ps3", "main")["peak"] >= 24 * 8 * MIB


def test_a_bad_platform_is_one_clear_error(tmp_path):
    p = gmtrace(tmp_path, "run", "--platform", "gamecube", "--", "/bin/true", rc=2)
    assert b"no platform profile 'gamecube'" in p.stderr
    bad = tmp_path / "broken.yaml"
    bad.write_text("name: broken\ntitle: x\nfamily: console\nphysical: 4GiB\n"
                   "available: {size: 1GiB, source: x}\nbanks: []\n")
    p = gmtrace(tmp_path, "run", "--platform", bad, "--", "/bin/true", rc=2)
    assert f"{bad}:4: expected physical as {{size: ..., source:".encode() in p.stderr
    # under the preload alone: one warning, and the game runs without limits
    line, cap = grow(tmp_path, ["video", 20], {"GMTRACE_PLATFORM": "gamecube"})
    assert line["video"]["blocks"] == 20


def test_list_shows_every_profile_on_the_search_path(tmp_path):
    import json
    listed = json.loads(gmtrace(tmp_path, "platforms", "--list", "--json").stdout)
    names = [p["name"] for p in listed]
    assert names == sorted(names)
    for want in ("switch", "ps3", "ps4", "ps5", "xbox-one", "xbox-series-s", "xbox-series-x",
                 "steam-deck", "ios-low", "ios-mid", "ios-high", "android-low",
                 "android-mid", "android-high", "web-wasm", "tiny-split"):
        assert want in names
    tiny = next(p for p in listed if p["name"] == "tiny-split")
    assert [(b["name"], b["capacity"], b["default"]) for b in tiny["banks"]] == \
        [("main", 8 * MIB, True), ("video", 4 * MIB, False)]
    # the capture may come before or after the platform names
    line, cap = grow(tmp_path, ["video", 4])
    a = gmtrace(tmp_path, "platforms", "--json", cap, "tiny-split").stdout
    b = gmtrace(tmp_path, "platforms", "--json", "tiny-split", cap).stdout
    assert a == b
    gmtrace(tmp_path, "platforms", cap, cap, rc=2)


def test_bad_input_gets_one_clear_error(tmp_path):
    line, cap = grow(tmp_path, ["split", 20])
    missing = tmp_path / "missing.gmt"
    p = gmtrace(tmp_path, "platforms", missing, rc=1)
    assert p.stderr.decode().count("\n") == 1 and "missing.gmt" in p.stderr.decode()
    junk = tmp_path / "junk.gmt"
    junk.write_bytes(b"not a capture at all" * 10)
    p = gmtrace(tmp_path, "platforms", junk, "switch", rc=1)
    assert "junk.gmt" in p.stderr.decode()
    # a capture cut short: the report covers what came before, exit 1
    data = cap.read_bytes()
    cut = tmp_path / "cut.gmt"
    cut.write_bytes(data[:len(data) * 2 // 3])
    p = gmtrace(tmp_path, "platforms", "--json", cut, "tiny-split", rc=1)
    import json
    rep = json.loads(p.stdout)
    assert rep["error"].startswith(f"{cut}: offset "), rep["error"]
    assert rep["platforms"][0]["name"] == "tiny-split"
    # options and names
    assert b"unknown option" in gmtrace(tmp_path, "platforms", "--frob", cap, rc=2).stderr
    assert b"--check takes" in gmtrace(tmp_path, "platforms", cap, "--check", rc=2).stderr
    # an empty name in --check would check nothing: a CI gate would pass
    for names in (",,", "switch,", ",switch", "switch,,tiny-split"):
        p = gmtrace(tmp_path, "platforms", cap, "--check", names, rc=2)
        assert b"--check takes platform names separated by single commas" in p.stderr, names
    assert b"--list takes no capture" in gmtrace(tmp_path, "platforms", "--list", cap,
                                                  rc=2).stderr
    assert b"no capture given" in gmtrace(tmp_path, "platforms", "switch", rc=2).stderr
    p = gmtrace(tmp_path, "platforms", cap, "gamecube", rc=1)
    assert b"no platform profile 'gamecube'" in p.stderr
    # a broken profile on the search path: --list names it and exits 1
    bad = tmp_path / "profiles"
    bad.mkdir()
    (bad / "broken.yaml").write_text("name: broken\ntitle: x\n")
    env = {"GMTRACE_PLATFORM_PATH": f"{bad}:{PROFILES}"}
    import subprocess
    from pf_support import env_for
    p = subprocess.run([str(GMTRACE), "platforms", "--list"], env=env_for(tmp_path, env),
                       capture_output=True)
    assert p.returncode == 1
    assert f"{bad}/broken.yaml:1: expected family in the profile".encode() in p.stderr
    assert b"switch" in p.stdout
    with open("/dev/full", "wb") as full:
        p = subprocess.run([str(GMTRACE), "platforms", "--list"], stdout=full,
                           stderr=subprocess.PIPE, env=env_for(tmp_path))
    assert (p.returncode, p.stderr) == (
        1, b"gmtrace: cannot write the report: No space left on device\n")
    assert gmtrace(tmp_path, "platforms", "--help").stdout.startswith(b"usage: gmtrace platforms")
    # a frames-level capture has no allocation records to put in banks
    line, flat = grow(tmp_path, ["split", 10], {"GMTRACE_LEVEL": "frames"}, name="flat")
    p = gmtrace(tmp_path, "platforms", flat, "switch", rc=1)
    assert p.stdout == b""
    assert b"the capture is at the frames level" in p.stderr


def test_a_broken_profile_on_the_search_path_leaves_the_others_reported(tmp_path):
    """A user profile that cannot be read: one error line naming its file and
    line, exit 1, and the report of every other profile on the path."""
    line, cap = grow(tmp_path, ["split", 4])
    user = tmp_path / "config" / "gmtrace" / "platforms"
    user.mkdir(parents=True)
    (user / "broken.yaml").write_text("name: broken\ntitle: Broken\nfamily: console\n")
    p = gmtrace(tmp_path, "platforms", "--json", cap, rc=1)
    err = p.stderr.decode().splitlines()
    assert len(err) == 1 and err[0].startswith(f"gmtrace platforms: {user / 'broken.yaml'}:"), err
    rep = json.loads(p.stdout)
    names = {q["name"] for q in rep["platforms"]}
    assert "tiny-split" in names and "broken" not in names and len(names) > 1


def test_a_broken_named_profile_leaves_the_named_others_reported(tmp_path):
    """Named on the command line, a profile that cannot be read is one error
    line and exit 1, and the other named profiles are reported (nothing was
    before); a folder named like a profile is no second capture."""
    line, cap = grow(tmp_path, ["split", 4])
    (tmp_path / "broken.yaml").write_text("name: broken\n")
    p = gmtrace(tmp_path, "platforms", "--json", cap, "switch", tmp_path / "broken.yaml", rc=1)
    err = p.stderr.decode().splitlines()
    assert len(err) == 1 and err[0].startswith(f"gmtrace platforms: {tmp_path / 'broken.yaml'}:"), err
    assert [q["name"] for q in json.loads(p.stdout)["platforms"]] == ["switch"]
    (tmp_path / "ps5").mkdir()
    p = subprocess.run([str(GMTRACE), "platforms", "--json", cap, "ps5"], cwd=tmp_path,
                       env=env_for(tmp_path), capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert [q["name"] for q in json.loads(p.stdout)["platforms"]] == ["ps5"]


def test_a_node_the_game_makes_a_root_is_in_the_default_bank(tmp_path):
    # fx_budgetapi defines "root" without a parent and allocates one
    # FX_SIZE(1) block (5867 bytes, a 6144-byte class) under a tag bound to
    # it. Under a platform all of a game's memory is in the banks: "root" is
    # main's child, and main holds the block (it escaped every bank before).
    from pf_support import BUILD_DIR, LIB
    cap = tmp_path / "api.gmt"
    env = env_for(tmp_path, {"GMTRACE_PLATFORM": "tiny-split", "LD_PRELOAD": str(LIB),
                             "GMTRACE_OUTPUT": str(cap), "GMTRACE_QUIET": "1"})
    p = subprocess.run([str(BUILD_DIR / "tests" / "integration" / "fixtures" / "fx_budgetapi")],
                       env=env, capture_output=True, text=True, timeout=40)
    assert p.returncode == 0, p.stderr
    recs = records(tmp_path, cap)
    names = node_names(recs)
    parents = {r["name"]: r["parent"] for r in recs if r["type"] == "budget_node"}
    assert names[parents["root"]] == "main"
    assert {names[parents[f"node{i}"]] for i in range(3)} == {"root"}
    peaks = {names[r["node"]]: r["peak_live_bytes"] for r in recs if r["type"] == "budget_frame"}
    assert (peaks["root"], peaks["main"], peaks["video"]) == (6144, 6144, 0)


def test_a_bank_of_the_largest_capacity_can_be_filled(tmp_path):
    # huge-bank: one 64 GiB bank (the largest a profile may give), strict.
    # Four 16 GiB blocks fill it exactly (never written: address space only)
    # and the fifth fails in frame 5; its heap's slot used to be 64 GiB, with
    # no room left for jemalloc's overhead, and the fourth failed.
    line, cap = grow(tmp_path, ["reserve", 5, 16 << 20],
                     {"GMTRACE_PLATFORM": "huge-bank", "GMTRACE_BUDGET_MODE": "strict"})
    assert line["main"] == {"blocks": 4, "null_frame": 5, "enomem": True, "recovered": True}
    recs = records(tmp_path, cap)
    assert violations(recs, "failed") == [("main", 5, 16 << 30)]
    assert violations(recs, "heap_full") == []
    rep = platforms_json(tmp_path, cap, "huge-bank")
    assert memory(rep, "huge-bank", "main")["peak"] == 64 << 30
