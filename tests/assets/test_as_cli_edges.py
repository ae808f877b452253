"""test_as_cli_edges.py - `gmtrace assets` and `gmtrace transitions` on odd captures and bad usage

The captures are written record by record (as_capture.py), so they hold what
no marker call makes: an asset id nobody defined, an empty type name, a load
that never finished, a failed load that kept its memory, references gone
wrong from the stream and from validation records. Every figure checked
follows from the records written here. Then each option's bad values (exit
2, one line naming the option), and reports that cannot be written (exit 1).
"""
import csv
import io
import json
import os
import subprocess

import pytest

import as_capture as cap
from as_support import GMTRACE, clean_env

MS = 1000000
LONG = "levels/forest/props/trees/oak_large_01.mesh"  # 43 bytes


def run(*args, stdout=subprocess.PIPE):
    return subprocess.run([str(GMTRACE)] + [str(a) for a in args], env=clean_env(),
                          stdout=stdout, stderr=subprocess.PIPE, text=True, timeout=60)


def odd_capture(path):
    """Assets 1 hero (texture, unloaded with a block left), 2 LONG (type "",
    resident), 3 streaming.pak (still loading), 4 broken (failed, 400 bytes
    left), 9 (never defined: 900 bytes on thread 1); scenes menu and forest;
    frames 1..5. Times: one record per millisecond."""
    c = cap.Capture(2)
    t = [0]

    def T():
        t[0] += MS
        return t[0]

    c.tag_def(T(), 1, "render/textures")
    c.tag_def(T(), 2, "render")
    c.tag_def(T(), 3, "render-fx")
    c.scene(T(), 1, "menu")
    c.asset_new(T(), 1, "hero", "texture")
    c.context(T(), 1, 1)
    c.alloc(T(), 0x1000, 1000)
    c.context(T(), 0, 0)
    c.state(T(), 1, cap.RESIDENT)
    c.ref(T(), 1, cap.OP_REF, 1)
    c.ref(T(), 1, cap.OP_TOUCH)
    c.asset_new(T(), 2, LONG, "")
    c.context(T(), 2, 3)
    c.alloc(T(), 0x2000, 2000)
    c.context(T(), 0, 0)
    c.state(T(), 2, cap.RESIDENT)
    c.asset_new(T(), 3, "streaming.pak", "pack")
    c.asset_new(T(), 4, "broken", "texture")
    c.context(T(), 4, 0)
    c.alloc(T(), 0x4000, 400)
    c.context(T(), 0, 0)
    c.state(T(), 4, cap.FAILED)
    c.context(T(), 9, 0, thread=1)
    c.alloc(T(), 0x9000, 900, thread=1)
    c.context(T(), 0, 0, thread=1)
    # below zero: the record says so (its count after is -1; libgmtrace
    # would refuse it with a validation record)
    c.ref(T(), 9, cap.OP_RELEASE, 0xFFFFFFFF)
    c.frame(T(), 1)
    c.valid(T(), cap.VALID_RELEASE_BELOW_ZERO, 1, 0)
    c.ref(T(), 1, cap.OP_REF, 2)
    c.valid(T(), cap.VALID_UNLOAD_WITH_REFS, 1, 2)
    c.scene(T(), 2, "forest")
    c.state(T(), 1, cap.UNLOADING)
    c.state(T(), 1, cap.UNLOADED)
    for f in range(2, 6):
        c.frame(T(), f)
    return c.write(path)


@pytest.fixture(scope="module")
def odd(tmp_path_factory):
    return odd_capture(tmp_path_factory.mktemp("odd") / "odd.gmt")


def lines_after(text, header):
    """The lines of text after the line that starts with header, up to a
    blank line."""
    lines = text.splitlines()
    i = next(k for k, s in enumerate(lines) if s.startswith(header))
    out = []
    for s in lines[i + 1:]:
        if not s.strip():
            break
        out.append(s)
    return out


# ---- the reports -------------------------------------------------------------------


def test_text_names_unknown_unnamed_and_unfinished_assets(odd):
    r = run("assets", odd)
    assert r.returncode == 0, r.stderr
    text = r.stdout
    # asset 9 was never defined: counted, but in no state (as in --json's totals)
    assert "assets    5: 1 loading, 1 resident, 0 unloading, 1 unloaded, 1 failed" in text
    rows = {int(s.split()[0]): s for s in lines_after(text, "assets by bytes")[1:]}
    assert sorted(rows) == [1, 2, 3, 4, 9]
    # 43-byte name: ".." and its last 26 bytes; type "" prints as nothing
    assert rows[2].split()[1] == ".." + LONG[-26:]
    # never defined: no name, no type, state unknown, no load time
    assert rows[9].split()[1:5] == ["-", "-", "unknown", "900"]
    # still loading: no load duration, loaded in frame 1
    f3 = rows[3].split()
    assert f3[1:4] == ["streaming.pak", "pack", "loading"] and f3[10] == "-" and f3[11] == "1"
    types = lines_after(text, "types")
    assert any(s.split()[:3] == ['""', "1", "1"] for s in types), types
    checks = text[text.index("checks: "):]
    assert "checks: 9" in checks
    # a load that never ended holds what it loaded as a resident asset does
    assert ('"streaming.pak" (id 3, pack): still loading (its load never ended) since frame 1, '
            '0 B live, 0 B extra') in checks
    assert ('"broken" (id 4, texture): 400 B (400 bytes) in 1 blocks still live, failed at '
            'frame 1 (400 bytes live then)') in checks
    assert ('"hero" (id 1, texture): 1000 B (1000 bytes) in 1 blocks still live, unloaded at '
            'frame 2 (1000 bytes live then)') in checks
    assert ("#9 (id 9, -): released below zero at frame 1 (count 0 before; reference stream)"
            in checks)
    assert ('"hero" (id 1, texture): released below zero at frame 2 (count 0 before; '
            'validation record)') in checks
    assert ('"hero" (id 1, texture): unloaded at frame 2 with 2 references held (validation '
            'record)') in checks


def test_json_gives_nulls_for_what_an_asset_never_had(odd):
    r = run("assets", "--json", odd)
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    by = {a["id"]: a for a in rep["assets"]}
    u = by[9]
    assert (u["name"], u["type"], u["state"], u["load_frame"], u["load_ns"]) == (
        None, None, "unknown", None, None)
    assert (u["live_bytes"], u["refs"]) == (900, -1)  # as its release record says
    never = {c["asset"]: c["state"] for c in rep["checks"] if c["check"] == "never_unloaded"}
    assert never == {2: "resident", 3: "loading"}, "asset 9, never defined, is in no state"
    p = by[3]
    assert (p["state"], p["ready_frame"], p["load_duration_ns"], p["resident_bytes"]) == (
        "loading", None, None, None)
    b = by[4]
    assert (b["state"], b["ready_frame"], b["resident_bytes"]) == ("failed", 1, None)
    assert b["load_duration_ns"] == 4 * MS  # new; context, alloc, context, failed
    assert by[2]["type"] == ""
    t = rep["totals"]
    assert (t["assets"], t["loading"], t["resident"], t["unloaded"], t["failed"]) == (
        5, 1, 1, 1, 1)
    ref = [c for c in rep["checks"] if c["check"] == "refcount"]
    assert [(c["asset"], c["what"], c["source"], c["refs"]) for c in ref] == [
        (9, "release_below_zero", "stream", 0), (1, "release_below_zero", "validation", 0),
        (1, "unload_with_refs", "validation", 2)]


def test_csv_leaves_what_an_asset_never_had_empty(odd):
    r = run("assets", "--csv", "--sort", "name", odd)
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    # by name; the asset without a name last
    assert [x["id"] for x in rows] == ["4", "1", "2", "3", "9"]
    u = rows[-1]
    assert (u["name"], u["type"], u["state"], u["load_frame"], u["ready_frame"],
            u["load_duration_ns"], u["tags"]) == ("", "", "unknown", "", "", "", "(untagged)")
    assert (rows[3]["ready_frame"], rows[3]["load_duration_ns"]) == ("", "")
    assert rows[1]["tags"] == "render/textures"


@pytest.mark.parametrize("key, want", [
    ("type", [2, 3, 1, 4, 9]),       # "" < pack < texture (by bytes within), typeless last
    ("load_ns", [1, 2, 4, 3, 9]),    # 4 ms, 4 ms, 3 ms; never ready: 0, then by id
    ("name", [4, 1, 2, 3, 9]),
    ("peak", [2, 1, 9, 4, 3]),
    ("touches", [1, 2, 3, 4, 9]),
])
def test_sort_orders_with_missing_names_types_and_times(odd, key, want):
    rep = json.loads(run("assets", "--json", "--sort", key, odd).stdout)
    assert [a["id"] for a in rep["assets"]] == want


def test_heat_map_rows_leave_out_unknown_assets(odd, tmp_path):
    svg = tmp_path / "heat.svg"
    r = run("assets", "--json", "--heatmap", "live", "--svg", svg, odd)
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)["heatmap"]["rows"]
    # asset 9 held 900 bytes but has no asset_new: not a row
    assert [(x["name"], x["peak"]) for x in rows] == [(LONG, 2000), ("hero", 1000),
                                                       ("broken", 400)]
    assert svg.read_text().startswith("<?xml")
    # touches by type in text: hero's one touch, in frame 1
    r = run("assets", "--heatmap", "touches", "--by", "type", "--bins", "1", odd)
    assert r.returncode == 0, r.stderr
    heat = r.stdout[r.stdout.index("touches by type"):]
    assert heat.splitlines()[0].startswith("touches by type, 1 frame bins (frames 1-5), top 1 of 3")
    assert heat.splitlines()[1].split("|")[-1].strip() == "1"
    # into a pipe (a CI log), with NO_COLOR unset: shades, no escape codes
    env = {k: v for k, v in clean_env().items() if k != "NO_COLOR"}
    r = subprocess.run([str(GMTRACE), "assets", "--heatmap", "live", str(odd)], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "scale: 1 B ...:::" in r.stdout, r.stderr
    assert "\x1b[" not in r.stdout


def test_tag_tree_puts_children_right_after_their_parent(odd):
    text = run("assets", odd).stdout
    tags = [s.split()[0] for s in lines_after(text, "tags (own")[1:]]
    # '/' sorts before every other byte: render, render/textures, render-fx
    assert tags == ["render", "textures", "render-fx", "(untagged)"]


def test_csv_tag_list_is_cut_after_a_whole_name(tmp_path):
    c = cap.Capture()
    names = [f"tag{k:02d}/" + "x" * 54 for k in range(20)]  # 60 bytes each
    for k, n in enumerate(names):
        c.tag_def(1000 + k, k + 1, n)
    c.asset_new(2000, 1, "big", "mesh")
    for k in range(20):
        c.context(3000 + 10 * k, 1, k + 1)
        c.alloc(3001 + 10 * k, 0x1000 * (k + 1), 100 + k)  # tag k+1 gets 100 + k
    path = c.write(tmp_path / "tags.gmt")
    rows = list(csv.DictReader(io.StringIO(run("assets", "--csv", path).stdout)))
    tags = rows[0]["tags"]
    # most bytes first: tag19 .. tag00; 16 whole names (60 + 15 * 61 = 975
    # bytes), as the 17th and ";\u2026" would pass 1023; then ";\u2026"
    assert tags == ";".join(names[::-1][:16]) + ";\u2026"


def test_empty_capture_has_an_empty_heat_map(tmp_path):
    path = cap.Capture().write(tmp_path / "empty.gmt")
    r = run("assets", "--by", "type", path)
    assert r.returncode == 0, r.stderr
    assert "assets    0:" in r.stdout
    assert "top 0 of 0 rows by peak" in r.stdout
    rep = json.loads(run("assets", "--json", "--by", "type", path).stdout)
    assert rep["heatmap"]["rows"] == []


def test_transitions_show_an_empty_type_name(odd):
    r = run("transitions", odd)
    assert r.returncode == 0, r.stderr
    assert "2 transitions" in r.stdout
    # forest: LONG (type "") and hero were live before it
    forest = r.stdout[r.stdout.index('transition 2: "forest"'):]
    by_type = lines_after(forest, "  by type")
    by_type = by_type[:next(k for k, s in enumerate(by_type) if s.startswith("  old scene"))]
    assert [s.split()[0] for s in by_type] == ["texture", '""']


# ---- bad usage ----------------------------------------------------------------------


@pytest.mark.parametrize("args, message", [
    (["--sort"], "--sort takes bytes, peak, name, type, load_ns or touches"),
    (["--sort", "size"], "--sort takes bytes"),
    (["--top"], "--top takes a number"),
    (["--top", "x"], "--top takes a number"),
    (["--orphan-frames"], "--orphan-frames takes a number of frames"),
    (["--stale-frames", "-1"], "--stale-frames takes a number of frames"),
    (["--thrash-frames", "many"], "--thrash-frames takes a number of frames"),
    (["--heatmap"], "--heatmap takes live or touches"),
    (["--heatmap", "hot"], "--heatmap takes live or touches"),
    (["--by"], "--by takes asset, type or tag"),
    (["--by", "none"], "--by takes asset, type or tag"),
    (["--bins"], "--bins takes a number 1..4096"),
    (["--bins", "0"], "--bins takes a number 1..4096"),
    (["--bins", "4097"], "--bins takes a number 1..4096"),
    (["--svg", ""], "--svg takes a file name"),
    (["--svg"], "--svg takes a file name"),
    (["-x"], "unknown option '-x'"),
    (["--heatmap", "touches", "--by", "tag"], "touches belong to assets"),
    (["--json", "--csv"], "--json or --csv, not both"),
])
def test_assets_bad_options_exit_2_naming_the_option(odd, args, message):
    r = run("assets", odd, *args)  # the capture first: a value missing at the end
    assert r.returncode == 2, (args, r.stdout, r.stderr)
    assert r.stderr.splitlines()[0].startswith("gmtrace assets: " + message), r.stderr
    assert "usage: gmtrace assets" in r.stderr
    assert r.stdout == ""


@pytest.mark.parametrize("cmd", ["assets", "transitions"])
def test_usage_errors_and_help(odd, cmd):
    r = run(cmd, odd, odd)
    assert r.returncode == 2 and f"gmtrace {cmd}: one capture at a time" in r.stderr
    r = run(cmd)
    assert r.returncode == 2 and f"gmtrace {cmd}: no capture given" in r.stderr
    for h in ("-h", "--help"):
        r = run(cmd, h)
        assert r.returncode == 0 and r.stdout.startswith(f"usage: gmtrace {cmd}")
    # "-" is a file name, not an option
    r = run(cmd, "-")
    assert r.returncode == 1 and r.stderr.startswith("gmtrace: ") and "usage" not in r.stderr


@pytest.mark.parametrize("args", [["--window"], ["--window", "x"], ["--window", "0"]])
def test_transitions_window_takes_a_number(odd, args):
    r = run("transitions", odd, *args)
    assert r.returncode == 2
    assert r.stderr.splitlines()[0] == \
        "gmtrace transitions: --window takes a number of frames, at least 1"
    r = run("transitions", "--frames", odd)
    assert r.returncode == 2
    assert r.stderr.splitlines()[0] == "gmtrace transitions: unknown option '--frames'"


# ---- output that cannot be written ----------------------------------------------------


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
@pytest.mark.parametrize("args", [["assets"], ["assets", "--json"], ["transitions"],
                                  ["transitions", "--json"]])
def test_a_full_disk_is_an_error_not_a_short_report(odd, args):
    with open("/dev/full", "w") as full:
        r = run(*args, odd, stdout=full)
    assert r.returncode == 1
    assert r.stderr.strip() == f"gmtrace: {args[0]}: cannot write the report"


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_an_svg_that_cannot_be_written(odd, tmp_path):
    r = run("assets", "--json", "--svg", "/dev/full", odd)
    assert r.returncode == 1
    assert r.stderr.strip() == "gmtrace assets: cannot write /dev/full"
    r = run("assets", "--svg", tmp_path / "no" / "such" / "dir.svg", odd)
    assert r.returncode == 1
    assert r.stderr.startswith("gmtrace assets: cannot write ")


def test_an_svg_named_as_the_capture_is_refused(odd, tmp_path):
    # a slip in a script wrote the heat map over the capture it was reading
    link = tmp_path / "same.gmt"
    os.symlink(odd, link)
    before = open(odd, "rb").read()
    for svg in (odd, link):
        r = run("assets", "--heatmap", "live", "--svg", svg, odd)
        assert (r.returncode, r.stdout) == (1, ""), r
        assert r.stderr == f"gmtrace assets: --svg {svg} is the capture itself\n", r.stderr
    assert open(odd, "rb").read() == before


# ---- every kind of finding in text, cut by --top; damaged captures ----------------------


def findings_capture(path):
    """Frames 1..12, one record per millisecond. rock 1 and rock 2: loaded
    together in frame 1 (a duplicate), 2 unloaded in frame 2, rock 3 loaded
    in frame 3 (a thrash, and a duplicate of 1); touched 1 in frame 1 and
    never again (stale at exit with --stale-frames 5); sword 4 touched in
    frame 1, unloaded in frame 9 (stale until 9); refs on 1 dropped to 0 in
    frame 2 and back in 9 (an orphan until 9); 3 referenced then released
    in frame 3 (orphan at exit). A level asset loaded with a scene in frame
    4; a frames-level record at the end."""
    c = cap.Capture()
    t = [0]

    def T():
        t[0] += MS
        return t[0]

    def load(i, name, type_):
        c.asset_new(T(), i, name, type_)
        c.context(T(), i)
        c.alloc(T(), 0x1000 * i, 100 * i)
        c.context(T(), 0)
        c.state(T(), i, cap.RESIDENT)

    load(1, "rock", "mesh")
    load(2, "rock", "mesh")
    load(4, "sword", "mesh")
    c.ref(T(), 1, cap.OP_TOUCH)
    c.ref(T(), 4, cap.OP_TOUCH)
    c.ref(T(), 1, cap.OP_REF, 1)
    c.frame(T(), 1)
    c.ref(T(), 1, cap.OP_RELEASE, 0)
    c.state(T(), 2, cap.UNLOADING)
    c.free(T(), 0x2000)
    c.state(T(), 2, cap.UNLOADED)
    c.frame(T(), 2)
    load(3, "rock", "mesh")
    c.ref(T(), 3, cap.OP_REF, 1)
    c.ref(T(), 3, cap.OP_RELEASE, 0)
    c.frame(T(), 3)
    c.scene(T(), 1, "cave")
    load(5, "cave.lvl", "level")
    for f in range(4, 9):
        c.frame(T(), f)
    c.ref(T(), 1, cap.OP_REF, 1)
    c.state(T(), 4, cap.UNLOADING)
    c.free(T(), 0x4000)
    c.state(T(), 4, cap.UNLOADED)
    for f in range(9, 13):
        c.frame(T(), f)
    c.rec(T(), 23, a=1)  # gm_rec_level: the frames level from here
    return c.write(path)


@pytest.fixture(scope="module")
def findings(tmp_path_factory):
    return findings_capture(tmp_path_factory.mktemp("findings") / "findings.gmt")


def test_every_finding_in_text(findings):
    r = run("assets", "--orphan-frames", "2", "--stale-frames", "5", "--thrash-frames", "3",
            findings)
    assert r.returncode == 0, r.stderr
    text = r.stdout
    assert "frames level in part (asset bytes not recorded there, a touch once in 60 frames)" in text.splitlines()[0]
    assert "  thrash    1 reloads within 3 frames of an unload" in text
    assert '    "rock" unloaded at frame 2 (id 2), loaded again at frame 3 (id 3)' in text
    checks = text[text.index("checks: "):]
    assert "  duplicate (2)" in checks
    assert ('"rock" (id 2, mesh): loaded at frame 1 while id 1 of the same name (loaded at '
            'frame 1) was still loaded') in checks
    assert ('"rock" (id 3, mesh): loaded at frame 3 while id 1 of the same name (loaded at '
            'frame 1) was still loaded') in checks
    assert ('"rock" (id 1, mesh): no reference since frame 2, until frame 9 (7 frames)'
            in checks)
    # the level record after mark 12 is the last event: frame 13
    assert ('"rock" (id 3, mesh): no reference since frame 3, still resident at exit '
            '(10 frames)') in checks
    assert ('"sword" (id 4, mesh): last touched at frame 1, resident and untouched for 8 '
            'frames\n') in checks
    assert ('"rock" (id 1, mesh): last touched at frame 1, resident and untouched for 12 '
            'frames at exit') in checks
    # --top 0: no finding shown, each kind's count of the rest
    r = run("assets", "--orphan-frames", "2", "--thrash-frames", "3", "--top", "0", findings)
    assert "    ... 1 more (--top, --json)" in r.stdout, r.stdout
    assert "    ... 2 more (--top, --json)" in r.stdout


def test_transition_of_a_scene_and_a_level_load_together(findings):
    rep = json.loads(run("transitions", "--json", findings).stdout)
    assert rep["exact"] is False
    (t,) = rep["transitions"]
    assert (t["source"], t["scene"], t["name"], t["level_asset"], t["frame"]) == (
        "scene+level", 1, "cave", 5, 4)
    text = run("transitions", findings).stdout
    assert "note      part of the capture is in the frames level: asset bytes are not recorded there" in text
    assert 'transition 1: "cave" (scene+level 1) at frame 4' in text


@pytest.mark.parametrize("cmd", ["assets", "transitions"])
def test_a_damaged_capture_is_reported_after_what_it_held(findings, tmp_path, cmd):
    data = findings.read_bytes()
    cut = tmp_path / "cut.gmt"
    cut.write_bytes(data[:-20])  # into the last clock block
    r = run(cmd, cut)
    assert r.returncode == 1
    damaged = [s for s in r.stdout.splitlines() if s.startswith("damaged   ")]
    assert len(damaged) == 1, r.stdout
    assert r.stderr.startswith("gmtrace: ") and damaged[0][10:] in r.stderr


def one_named_asset(path, name):
    """A capture of one resident asset named name (bytes), of type
    b"tex\\x7f", with one 1000-byte block under tag b"tag\\x01\\x1b[31m"."""
    c = cap.Capture(1)
    c.tag_def(MS, 1, b"tag\x01\x1b[31m")
    c.asset_new(2 * MS, 1, name, b"tex\x7f")
    c.context(3 * MS, 1, 1)
    c.alloc(4 * MS, 0x1000, 1000)
    c.context(5 * MS, 0, 0)
    c.state(6 * MS, 1, cap.RESIDENT)
    c.frame(7 * MS, 1)
    return c.write(path)


def test_names_that_are_not_utf8_in_csv_and_html(tmp_path):
    """Names are the game's bytes: CSV and the HTML page (which says it is
    UTF-8) show bytes that are not UTF-8 as U+FFFD, as the JSON does, and
    the page has no control characters."""
    path = one_named_asset(tmp_path / "bytes.gmt", b"bad\xff\xfe\xc3(")
    r = subprocess.run([str(GMTRACE), "assets", "--csv", str(path)], env=clean_env(),
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout.decode("utf-8"))))
    (row,) = [x for x in rows if x["id"] == "1"]
    assert row["name"] == "bad\ufffd\ufffd\ufffd(", row
    page = tmp_path / "bytes.html"
    r = subprocess.run([str(GMTRACE), "html", "--output", str(page), str(path)],
                       env=clean_env(), capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    text = page.read_bytes().decode("utf-8")
    assert "bad&#xfffd;&#xfffd;&#xfffd;(" in text
    assert not [ch for ch in text if (ord(ch) < 0x20 and ch not in "\t\n") or ord(ch) == 0x7f]


def test_text_reports_show_control_characters_as_question_marks(tmp_path):
    """A name's control characters (an escape sequence) never reach the
    terminal or a CI log from a text report: each is a '?'; --json escapes
    them and --csv keeps them (data)."""
    path = one_named_asset(tmp_path / "esc.gmt", b"red\x1b[31m")
    for cmd in ("assets", "summary", "transitions", "frames"):
        r = subprocess.run([str(GMTRACE), cmd, str(path)], env=clean_env(),
                           capture_output=True, timeout=60)
        assert r.returncode == 0, (cmd, r.stderr)
        assert not [b for b in r.stdout if (b < 0x20 and b not in b"\t\n\r") or b == 0x7f], cmd
    r = run("assets", path)
    assert "red?[31m" in r.stdout and "tex?" in r.stdout and "tag??[31m" in r.stdout
    # C1 controls (CSI as U+009B, and as a lone 0x9b byte), a carriage
    # return and bytes that are not UTF-8: each a '?', and the report is UTF-8.
    # Not UTF-8: overlong forms (3 and 4 bytes: one '?' each), a surrogate,
    # a code point past U+10FFFF, bytes no sequence begins with (a '?'
    # each), a sequence cut short by an ASCII byte (its lead and its
    # continuation byte a '?' each); whole sequences of 2, 3 and 4 bytes stay
    for name, shown in ((b"csi\xc2\x9b31m", "csi?31m"), (b"raw\x9bx", "raw?x"),
                        (b"cr\rover", "cr?over"), (b"ok\xc3\xa9\xe2\x82\xac", "ok\u00e9\u20ac"),
                        (b"ov3\xe0\x80\xafx", "ov3?x"), (b"ov4\xf0\x8f\xbf\xbfx", "ov4?x"),
                        (b"sur\xed\xa0\x80x", "sur?x"), (b"big\xf4\x90\x80\x80x", "big?x"),
                        (b"lead\xc0\xaf\xffx", "lead???x"), (b"cut\xe2\x82x", "cut??x"),
                        (b"pad\xf0\x9f\x8e\xae!", "pad\U0001f3ae!")):
        p = one_named_asset(tmp_path / "c1.gmt", name)
        out = subprocess.run([str(GMTRACE), "assets", "--heatmap", "live", str(p)],
                             env=clean_env({"NO_COLOR": "1"}), capture_output=True,
                             timeout=60).stdout.decode("utf-8")
        assert shown in out, (name, out)
        assert not [ch for ch in out if 0x80 <= ord(ch) <= 0x9f or ch == "\r"], name
    rep = json.loads(run("assets", "--json", path).stdout)
    assert rep["assets"][0]["name"] == "red\x1b[31m"
    r = subprocess.run([str(GMTRACE), "assets", "--csv", str(path)], env=clean_env(),
                       capture_output=True, timeout=60)
    assert b"red\x1b[31m" in r.stdout


def test_csv_tags_column_splits_back(tmp_path):
    """The tags column joins names with ';': a name's own ';' and '\\' are
    escaped, and a tag named "(untagged)" is told from bytes under none."""
    c = cap.Capture(1)
    for tag, name in ((1, "x;y"), (2, "x"), (3, "y"), (4, "(untagged)"), (5, "a\\b")):
        c.tag_def(tag * MS, tag, name)
    t = [10 * MS]

    def T():
        t[0] += MS
        return t[0]

    def asset(aid, name, tags):
        c.asset_new(T(), aid, name, "tex")
        for k, tag in enumerate(tags):
            c.context(T(), aid, tag)
            c.alloc(T(), 0x1000 * (aid * 16 + k + 1), 100 * (k + 1))
        c.context(T(), 0, 0)
        c.state(T(), aid, cap.RESIDENT)

    asset(1, "A", [1])
    asset(2, "B", [2, 3])
    asset(3, "C", [4, 0])
    asset(4, "D", [5])
    c.frame(T(), 1)
    path = c.write(tmp_path / "semi.gmt")
    r = run("assets", "--csv", path)
    assert r.returncode == 0, r.stderr
    rows = {row["name"]: row["tags"] for row in csv.DictReader(io.StringIO(r.stdout))}
    assert rows["A"] == "x\\;y"
    assert sorted(rows["B"].split(";")) == ["x", "y"]
    assert sorted(rows["C"].split(";")) == ["(untagged)", "\\(untagged)"]
    assert rows["D"] == "a\\\\b"


def test_heat_map_that_cannot_be_written_fails(odd, tmp_path):
    """The text heat map goes to standard output past the names' filter: a
    write of it that fails is the report's failure (exit 1), as any other.
    Here the file may grow to just past the text before the heat map."""
    import resource
    import signal
    whole = run("assets", "--heatmap", "live", odd).stdout.encode()
    before = whole.index(b"\nlive bytes by asset") + 1  # the heat map's title
    limit = before + 16

    def small_file():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    out = tmp_path / "report.txt"
    with open(out, "wb") as f:
        r = subprocess.run([str(GMTRACE), "assets", "--heatmap", "live", str(odd)],
                           env=clean_env(), stdout=f, stderr=subprocess.PIPE, text=True,
                           timeout=60, preexec_fn=small_file)
    assert out.stat().st_size == limit
    assert r.returncode == 1, r.stderr
    assert "cannot write the report" in r.stderr
