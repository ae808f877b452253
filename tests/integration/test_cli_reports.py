"""test_cli_reports.py - the report subcommands option by option, on real captures

`gmtrace frames`, `assets` (heat maps included), `transitions`, `dump` and
`recover`, run on captures of the fixtures of tests/integration, tests/frames
and tests/assets and of a small scripted game (GAME below: the system Python
driving libc's malloc and the marker API through ctypes, so a test can place
level changes, spikes, leaks and pools in the frames it wants). Every child
runs with libgmtrace preloaded in its own environment only.

What is checked: the numbers the fixtures make known, exactly; the rest for
consistency between the views of one report (text, JSON, CSV, SVG) and
against the per-frame rows the statistics are documented to come from
(analysis/README.md); bad values exit 2 with one error line naming the
option; missing captures exit 1. `recover` without a capture scans
/dev/shm, which other tests share: those cases run in a private mount
namespace with a fresh /dev/shm, and are skipped where that is not allowed.
"""
import collections
import json
import math
import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import (GMTRACE, LIB, SOURCE_DIR, assert_tally, captures, clean_env, fixture_line, fx,
                      gmtrace, kill_if_alive, preload_env, read_json_file, rule_tally,
                      shm_logs, summary, wait_for)

sys.path.insert(0, str(SOURCE_DIR / "tests" / "frames"))
sys.path.insert(0, str(SOURCE_DIR / "tests" / "assets"))
import as_support  # noqa: E402
import fr_support  # noqa: E402

# ---- the scripted game ---------------------------------------------------------

# Run as `python3 -E -S game.py MODE` with libgmtrace preloaded. Python's own
# allocations all happen before the first frame mark (start-up) or after the
# last one: inside the frames it calls only malloc, free and the marker API,
# with block pointers kept in a ctypes array made up front, so every frame
# from 2 on holds exactly the allocations written here.
GAME = r'''
import ctypes
import sys

C = ctypes.CDLL(None)
U64, U32, INT = ctypes.c_uint64, ctypes.c_uint32, ctypes.c_int
STR, PTR = ctypes.c_char_p, ctypes.c_void_p
SLOTS = (PTR * 512)()


def fn(name, res, *args):
    f = getattr(C, name)
    f.restype, f.argtypes = res, list(args)
    return f


def size(k):
    return 4096 * k + 1771


malloc, free = fn("malloc", PTR, ctypes.c_size_t), fn("free", None, PTR)
mark, tick = fn("gmtrace_frame_mark", None), fn("gmtrace_tick", None)
mark_n, level_set = fn("gmtrace_frame_mark_n", None, STR), fn("gmtrace_level_set", INT, INT)
load_begin = fn("gmtrace_asset_load_begin", U64, STR, STR)
load_end = fn("gmtrace_asset_load_end", None, U64, INT)
attach, detach = fn("gmtrace_asset_attach", None, U64), fn("gmtrace_asset_detach", None, U64)
ref, release, touch = (fn("gmtrace_asset_" + n, None, U64) for n in ("ref", "release", "touch"))
unload_begin = fn("gmtrace_asset_unload_begin", None, U64)
unload_end = fn("gmtrace_asset_unload_end", None, U64)
extra = fn("gmtrace_asset_extra_bytes", None, U64, U64)
scene = fn("gmtrace_scene_begin", None, STR)
tag_push, tag_pop = fn("gmtrace_tag_push", None, STR), fn("gmtrace_tag_pop", None)
if fn("gmtrace_enabled", INT)() != 1:
    sys.exit("game: not running under libgmtrace")


def frames_game():
    # frame n = 2..60: n % 4 + 1 blocks (+150 at 30, +300 at 50), block j
    # of size(j % 4 + 1), all freed; two ticks and a "physics" frame; the
    # frames level from frame 21 to frame 40
    mark()
    for n in range(2, 61):
        if n == 21:
            level_set(1)
        elif n == 41:
            level_set(0)
        count = n % 4 + 1 + {30: 150, 50: 300}.get(n, 0)
        for j in range(count):
            SLOTS[j] = malloc(size(j % 4 + 1))
        for j in range(count):
            free(SLOTS[j])
        tick()
        tick()
        mark_n(b"physics")
        mark()


def load(name, typ, k, ok=1):
    a = load_begin(name, typ)
    attach(a)
    SLOTS[a] = malloc(size(k))
    detach(a)
    load_end(a, ok)
    return a


def assets_game():
    # frame 2: scene "menu", font (size 2), leaky (3), orphan (1, one
    # reference), broken (5, fails); 3: orphan released, font declares 1 MiB
    # extra, leaky 4 KiB; 4: leaky unloaded with its block; 5: scene "world" + level
    # world_1 (4); 6-10: font touched; 8: level world_2 (6) without a scene
    mark()
    scene(b"menu")
    font, leaky = load(b"font", b"font", 2), load(b"leaky", b"sound", 3)
    orphan = load(b"orphan", b"texture", 1)
    load(b"broken", b"mesh", 5, ok=0)
    ref(orphan)
    mark()
    release(orphan)
    extra(font, 1 << 20)
    extra(leaky, 1 << 12)  # gone at its unload: its peak stays in the text table
    mark()
    unload_begin(leaky)
    unload_end(leaky)
    mark()
    scene(b"world")
    load(b"world_1", b"level", 4)
    mark()
    for n in range(6, 11):
        if n == 8:
            load(b"world_2", b"level", 6)
        touch(font)
        mark()


def extras_game():
    # a pool, GC runs and a budget node, for the records they write
    pool_create = fn("gmtrace_pool_create", U32, STR, U64, U64)
    acquire = fn("gmtrace_pool_acquire", None, U32, INT)
    give_back = fn("gmtrace_pool_release", None, U32, INT)
    resize = fn("gmtrace_pool_resize", None, U32, U64)
    destroy = fn("gmtrace_pool_destroy", None, U32)
    gc = fn("gmtrace_gc", None, INT, U64, U64, U64)
    budget_define = fn("gmtrace_budget_define", U32, STR, STR, U64, U64)
    mark()
    pool = pool_create(b"bullets", 64, 128)
    budget_define(b"gfx", None, 1 << 30, 0)
    for n in range(2, 6):
        for j in range(3):
            acquire(pool, 1)
        give_back(pool, 1)
        tag_push(b"gfx")
        SLOTS[n] = malloc(size(n))
        tag_pop()
        gc(n % 3, 1000 * n, 10 * n, n)
        mark()
    resize(pool, 256)
    destroy(pool)
    mark()


{"frames": frames_game, "assets": assets_game, "extras": extras_game}[sys.argv[1]]()
'''


def size_of(k):
    """FX_SIZE(k) (tests/fixtures/README.md)."""
    return 4096 * k + 1771


def game_count(n):
    """Blocks frame n of the frames game allocates and frees."""
    return n % 4 + 1 + {30: 150, 50: 300}.get(n, 0)


def game_bytes(n):
    return sum(size_of(j % 4 + 1) for j in range(game_count(n)))


def run_game(outdir, mode, env=None):
    """Runs GAME MODE with libgmtrace preloaded (the interpreter's own
    environment variables ignored: -E); returns its one capture."""
    outdir.mkdir(parents=True, exist_ok=True)
    script = outdir / "game.py"
    script.write_text(GAME)
    e = preload_env(outdir, env)
    e.pop("PYTHONMALLOC", None)
    r = subprocess.run([sys.executable, "-E", "-S", str(script), mode], env=e, cwd=str(outdir),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    assert r.returncode == 0, f"game {mode}: rc {r.returncode}: {r.stderr.decode()}"
    caps = captures(outdir)
    assert len(caps) == 1, f"game {mode}: one capture expected, got {caps}"
    return caps[0]


# ---- formatting as the text reports do it (analysis/report/text.c) -------------


def human_size(n):
    if n < 1024:
        return f"{n} B"
    v, units, u = n / 1024.0, ("KiB", "MiB", "GiB", "TiB", "PiB", "EiB"), 0
    while v >= 1024.0 and u + 1 < len(units):
        v /= 1024.0
        u += 1
    return f"{v:.1f} {units[u]}"


def human_ns(ns):
    if ns < 1000:
        return f"{ns} ns"
    if ns < 1000000:
        return f"{ns / 1e3:.1f} us"
    if ns < 1000000000:
        return f"{ns / 1e6:.2f} ms"
    if ns < 60000000000:
        return f"{ns / 1e9:.3f} s"
    return f"{ns // 60000000000}m{(ns % 60000000000) / 1e9:04.1f}s"


# ---- running gmtrace ------------------------------------------------------------


def ok(*args, env=None):
    """gmtrace ARGS, which must exit 0 without a word on stderr; stdout."""
    r = gmtrace(*args, extra_env=env)
    assert r.returncode == 0, f"gmtrace {args}: rc {r.returncode}: {r.stderr}"
    assert r.stderr == "", f"gmtrace {args}: stderr {r.stderr!r}"
    return r.stdout


def js(*args):
    return json.loads(ok(*args))


def on_a_terminal(*args, env=None):
    """gmtrace ARGS with stdout a pseudo-terminal, which must exit 0; what
    it wrote there (line ends as written)."""
    import pty
    master, slave = pty.openpty()
    p = subprocess.Popen([str(GMTRACE)] + [str(a) for a in args], env=clean_env(env),
                         stdout=slave, stderr=subprocess.PIPE)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # the other end closed
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    err = p.stderr.read().decode()
    p.wait(timeout=60)
    assert p.returncode == 0 and err == "", (p.returncode, err)
    return b"".join(chunks).decode().replace("\r\n", "\n")


def bad_usage(cmd, args, cwd, mention):
    """gmtrace CMD ARGS exits 2 with one error line (naming mention) and
    the command's usage on stderr, nothing on stdout."""
    r = gmtrace(cmd, *args, cwd=cwd)
    assert r.returncode == 2, f"{cmd} {args}: rc {r.returncode}: {r.stderr}"
    assert r.stdout == "", f"{cmd} {args}: printed {r.stdout[:200]!r}"
    lines = r.stderr.splitlines()
    errors = [l for l in lines if l.startswith("gmtrace")]
    assert len(errors) == 1, f"{cmd} {args}: one error line expected: {lines[:5]}"
    assert lines[0] == errors[0] and lines[0].startswith(f"gmtrace {cmd}: "), lines[0]
    assert mention in lines[0], f"{cmd} {args}: {lines[0]!r} does not name {mention!r}"
    assert lines[1].startswith(f"usage: gmtrace {cmd}"), lines[1:3]


def one_failure_line(r, what):
    assert r.returncode == 1, f"{what}: rc {r.returncode}: {r.stderr}"
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("gmtrace"), f"{what}: stderr {lines}"
    return lines[0]


def section(text, title):
    """The lines of a text report from the line starting with title up to
    the next empty line."""
    lines = text.splitlines()
    starts = [i for i, l in enumerate(lines) if l.startswith(title)]
    assert starts, f"no section {title!r} in:\n{text}"
    out = []
    for l in lines[starts[0]:]:
        if not l.strip():
            break
        out.append(l)
    return out


def truncated_copy(cap, dest):
    """A copy of cap cut in the middle of its last third (inside a block)."""
    data = cap.read_bytes()
    dest.write_bytes(data[:len(data) * 3 // 4])
    return dest


# ---- captures, made once per module ------------------------------------------------


@pytest.fixture(scope="module")
def game_frames(tmp_path_factory):
    cap = run_game(tmp_path_factory.mktemp("game_frames"), "frames",
                   {"GMTRACE_SPIKE_ALLOCATIONS": "100", "GMTRACE_SPIKE_BYTES": "3500000",
                    "GMTRACE_SPIKE_FACTOR": "0"})
    return cap, js("frames", "--json", cap)


@pytest.fixture(scope="module")
def game_assets(tmp_path_factory):
    return run_game(tmp_path_factory.mktemp("game_assets"), "assets")


@pytest.fixture(scope="module")
def game_extras(tmp_path_factory):
    return run_game(tmp_path_factory.mktemp("game_extras"), "extras")


@pytest.fixture(scope="module")
def levels(tmp_path_factory):
    return as_support.run("levels", tmp_path_factory.mktemp("levels"))


@pytest.fixture(scope="module")
def streaming(tmp_path_factory):
    return as_support.run("streaming", tmp_path_factory.mktemp("streaming"))


@pytest.fixture(scope="module")
def attribution(tmp_path_factory):
    return as_support.run("attribution", tmp_path_factory.mktemp("attribution"))


@pytest.fixture(scope="module")
def openworld(tmp_path_factory):
    return fr_support.run_fixture("fr_openworld", [60, 40], tmp_path_factory.mktemp("ow"))


# ==== gmtrace frames =================================================================


def nearest_rank(values, p):
    v = sorted(values)
    return v[max(1, math.ceil(p * len(v) / 100)) - 1]


def pearson(xs, ys):
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    return None if n < 2 or sxx == 0 or syy == 0 else sxy / math.sqrt(sxx * syy)


def strength(r):
    a = abs(r)
    return "strong" if a >= 0.7 else "moderate" if a >= 0.4 else "weak" if a >= 0.2 else "none"


ROW_WIDTHS = (9, 11, 10, 8, 8, 10, 10, 10, 10, 10, 5)


def row_cells(line):
    """The columns of a row of the text frame tables (fixed widths)."""
    out, i = [], 2
    for w in ROW_WIDTHS:
        out.append(line[i:i + w].strip())
        i += w + 1
    out.append(line[i + 1:])
    return out


def row_text(r):
    """A JSON row as the text tables show it (end time left out)."""
    return [str(r["frame"]), ANY, human_ns(r["frame_ns"]), str(r["allocations"]),
            str(r["frees"]), human_size(r["allocated_bytes"]), human_size(r["freed_bytes"]),
            human_size(r["live_bytes"]), human_size(r["peak_live_bytes"]),
            human_ns(r["alloc_ns"]), str(r["ticks"]),
            r["level"] + (" (changed)" if r["level_changed"] else "")]


class _Any:
    def __eq__(self, other):
        return True

    def __repr__(self):
        return "ANY"


ANY = _Any()


def test_frames_rows_levels_ticks_and_sets_are_the_games(game_frames):
    cap, rep = game_frames
    rows = rep["per_frame"]
    assert [r["frame"] for r in rows] == list(range(1, 61))
    assert (rep["frames"], rep["level"], rep["levels"]) == (60, "mixed",
                                                            {"events": 40, "frames": 20})
    assert (rep["frame_source"], rep["frame_sources"]) == ("marker", {"marker": 60})
    assert [(c["frame"], c["from"], c["to"]) for c in rep["level_changes"]] == [
        (21, "events", "frames"), (41, "frames", "events")]
    for r in rows[1:]:
        n = r["frame"]
        in_frames = 21 <= n <= 40
        want = (game_count(n), game_count(n), game_bytes(n))
        assert (r["allocations"], r["frees"], r["allocated_bytes"]) == want, f"frame {n}: {r}"
        # the frames level measures frees in usable sizes, at least the request
        if in_frames:
            assert r["freed_bytes"] >= game_bytes(n), r
        else:
            assert r["freed_bytes"] == game_bytes(n), r
        assert r["level"] == ("frames" if in_frames else "events"), r
        assert r["level_changed"] == (n in (21, 41)), r
        assert r["exact"] == (not in_frames and n != 41), r
        assert (r["ticks"], r["threads_allocating"], r["source"]) == (2, 1, "marker"), r
    assert rep["sets"] == [{"name": "physics", "frames": 59}]
    t = rep["ticks"]
    assert (t["total"], t["per_frame"]) == (118, [{"ticks": 0, "frames": 1},
                                                  {"ticks": 2, "frames": 59}])
    # events level: the allocations between consecutive ticks; in frames
    # 2..20 and 41..60 a frame's two ticks enclose none, and the interval from
    # frame n-1's last tick to frame n's first holds frame n's allocations;
    # intervals crossing a level change are left out
    spans = [0] * 19 + [game_count(n) for n in range(3, 21)]
    spans += [0] * 20 + [game_count(n) for n in range(42, 61)]
    assert t["allocations_per_tick_method"] == "events"
    assert t["allocations_per_tick_max"] == max(spans) == 303
    assert t["allocations_per_tick_mean"] == pytest.approx(sum(spans) / len(spans), rel=1e-12)


def test_frames_spikes_carry_size_classes_in_the_events_level_only(game_frames):
    _, rep = game_frames
    spikes = {s["frame"]: s for s in rep["spikes"]}
    # frame 1 holds the interpreter's start-up: well over 100 allocations
    assert sorted(spikes) == [1, 30, 50]
    s = spikes[50]
    assert (s["reasons"], s["allocations"], s["limit_allocations"], s["allocated_bytes"],
            s["limit_bytes"]) == (["allocations", "bytes"], 303, 100, game_bytes(50), 3500000)
    # sizes 5867 (76 blocks), 9963 and 14059 (76 each), 18155 (75)
    assert s["size_classes"] == [
        {"max_bytes": 8192, "count": 76, "bytes": 76 * size_of(1)},
        {"max_bytes": 16384, "count": 152, "bytes": 76 * (size_of(2) + size_of(3))},
        {"max_bytes": 32768, "count": 75, "bytes": 75 * size_of(4)}]
    assert [(t["thread"], t["allocations"], t["frees"], t["allocated_bytes"])
            for t in s["threads"]] == [(0, 303, 303, game_bytes(50))]
    row50 = rep["per_frame"][49]
    assert s["frame_ns"] == row50["frame_ns"]
    s = spikes[30]  # in the frames level: no classes, the writer's threads
    assert (s["reasons"], s["allocations"], s["allocated_bytes"], s["size_classes"]) == (
        ["allocations"], game_count(30), game_bytes(30), None)
    assert [(t["thread"], t["allocations"]) for t in s["threads"]] == [(0, game_count(30))]


def test_frames_statistics_follow_from_the_rows(game_frames):
    cap, rep = game_frames
    rows = rep["per_frame"]
    for key in ("frame_ns", "allocations", "allocated_bytes", "alloc_ns"):
        col = [r[key] for r in rows]
        assert rep["percentiles"][key] == {"p50": nearest_rank(col, 50),
                                           "p95": nearest_rank(col, 95),
                                           "p99": nearest_rank(col, 99), "max": max(col)}, key
    worst = sorted(rows, key=lambda r: (-r["frame_ns"], r["frame"]))[:10]
    most = sorted(rows, key=lambda r: (-r["allocations"], r["frame"]))[:10]
    assert [r["frame"] for r in rep["worst"]] == [r["frame"] for r in worst]
    assert [r["frame"] for r in rep["most_allocations"]] == [r["frame"] for r in most]
    assert rep["most_allocations"][:3] == [rows[0], rows[49], rows[29]]
    ft = [r["frame_ns"] for r in rows]
    for key in ("allocations", "allocated_bytes", "alloc_ns"):
        c, r = rep["correlation"][key], pearson(ft, [row[key] for row in rows])
        if r is None:
            assert (c["r"], c["strength"]) == (None, None), c
        else:
            assert c["r"] == pytest.approx(r, rel=1e-9, abs=1e-12), key
            assert c["strength"] == strength(r), c
            assert f"(r = {r:.2f})" in c["verdict"], c
    span = rows[-1]["end_ns"] - rows[0]["start_ns"]
    assert rep["mean_fps"] == pytest.approx(60 * 1e9 / span, rel=1e-12)
    assert (rep["budget_ns"], rep["over_budget"]["alloc_share"]) == (16667000, 0.25)
    total = sum(r["allocations"] for r in rows)
    rate = rep["rate"]
    assert rate["allocations_per_s"] == pytest.approx(total * 1e9 / span, rel=1e-12)
    assert span < 1e9, "the game plays well within a second"
    assert (rate["seconds"], rate["per_second_min"], rate["per_second_median"],
            rate["per_second_max"]) == (1, total, total, total)
    # allocations after the last main frame mark, counted in the dump
    events = [json.loads(l) for l in ok("dump", "--json", cap).splitlines()]
    last = max(i for i, e in enumerate(events) if e["type"] == "frame" and e["set"] == 0)
    after = sum(e["type"] in ("alloc", "realloc") for e in events[last:])
    assert rep["allocations_after_last_frame"] == after


def test_frames_text_shows_what_json_holds(game_frames):
    cap, rep = game_frames
    text = ok("frames", cap)
    lines = text.splitlines()
    assert lines[1] == "frames    60 main frames, marked by gmtrace_frame_mark()"
    assert lines[2] == ("level     events (40 frames) and frames (20 frames); events -> frames "
                        "at frame 21, frames -> events at frame 41")
    after = rep["allocations_after_last_frame"]
    if after:
        assert (f"after     {after} allocations "
                f"({human_size(rep['allocated_bytes_after_last_frame'])}) after the last "
                "frame mark (in no frame)") in lines, lines[:4]
    pct = section(text, "percentiles over 60 frames (nearest rank)")
    fmt = {"frame_ns": human_ns, "allocations": str, "allocated_bytes": human_size,
           "alloc_ns": human_ns}
    for line, key in zip(pct[2:], ("frame_ns", "allocations", "allocated_bytes", "alloc_ns")):
        p = rep["percentiles"][key]
        assert line[18:] == "".join(f" {fmt[key](p[k]):>11}" for k in
                                    ("p50", "p95", "p99", "max")), line
    worst = section(text, "worst frames by frame time")[2:]
    assert [row_cells(l) for l in worst] == [row_text(r) for r in rep["worst"]]
    most = section(text, "frames with most allocations")[2:]
    assert [row_cells(l) for l in most] == [row_text(r) for r in rep["most_allocations"]]
    spikes = section(text, "spikes: 3 frames over the game's limits")
    s50 = [l for l in spikes if l.startswith("  frame 50 at ")]
    assert len(s50) == 1 and s50[0].endswith(
        f": 303 allocations > limit 100; {human_size(game_bytes(50))} allocated > limit "
        f"{human_size(3500000)}"), spikes
    i = spikes.index(s50[0]) + 1
    detail = spikes[i:i + next((k for k, l in enumerate(spikes[i:]) if l.startswith("  frame")),
                               len(spikes) - i)]
    assert (f"    sizes   <= 8.0 KiB: 76 ({human_size(76 * size_of(1))}), "
            f"<= 16.0 KiB: 152 ({human_size(76 * (size_of(2) + size_of(3)))}),"
            f" <= 32.0 KiB: 75 ({human_size(75 * size_of(4))})") in detail, detail
    assert (f'    threads 0 "python3": 303 allocations, {human_size(game_bytes(50))}'
            in detail), detail
    corr = section(text, "correlation with frame time (Pearson r over 60 frames)")
    assert corr[1:] == ["  " + rep["correlation"][k]["verdict"]
                        for k in ("allocations", "allocated_bytes", "alloc_ns")]
    ticks = section(text, "fixed timestep: 118 simulation ticks")
    assert ticks[2:4] == [f"  {0:11d} {1:10d}", f"  {2:11d} {59:10d}"]
    assert ticks[4] == (f"  allocations per tick: mean "
                        f"{rep['ticks']['allocations_per_tick_mean']:.2f}, max 303.00 "
                        f"(allocation records between consecutive ticks)")
    assert section(text, "secondary frame sets") == ["secondary frame sets",
                                                     '  "physics" 59 frames']
    # the default transitions: each level change, 30 frames each side
    tr = section(text, "transition at frame 21 (events -> frames), 30 frames each side")
    assert tr[1].startswith("  before: 20 frames, mean ") and tr[2].startswith(
        "  after:  30 frames, mean "), tr
    assert [int(l.split()[0]) for l in tr[4:]] == list(range(1, 52))
    assert "transition at frame 41 (frames -> events), 30 frames each side" in lines
    assert not any(l.startswith("frames 0..") for l in lines), "no table unless asked"


def test_frames_csv_is_the_rows_of_json(game_frames):
    cap, rep = game_frames
    out = ok("frames", "--csv", cap).splitlines()
    keys = ["frame", "start_ns", "end_ns", "frame_ns", "allocations", "frees",
            "allocated_bytes", "freed_bytes", "live_bytes", "peak_live_bytes", "alloc_ns",
            "ticks", "threads_allocating", "source", "level", "level_changed", "exact"]
    assert out[0] == ",".join(keys)
    assert len(out) == 61
    for line, row in zip(out[1:], rep["per_frame"]):
        want = [str(int(row[k])) if isinstance(row[k], bool) else str(row[k]) for k in keys]
        assert line.split(",") == want


@pytest.mark.parametrize("args,lo,hi", [
    (["--from", "18", "--to", "24"], 18, 24),
    (["--from=58"], 58, None),
    (["--to", "3"], 0, 3),
    (["--from", "7", "--to", "7"], 7, 7),
    (["--from", "61"], 61, None),
], ids=["18-24", "58-", "-3", "7-7", "past-the-end"])
def test_frames_range_cuts_the_table_only(game_frames, args, lo, hi):
    cap, full = game_frames
    rep = js("frames", "--json", *args, cap)
    want = [n for n in range(1, 61) if lo <= n <= (60 if hi is None else hi)]
    assert [r["frame"] for r in rep["per_frame"]] == want
    assert rep["per_frame"] == [r for r in full["per_frame"] if r["frame"] in want]
    assert rep["range"] == {"from": lo, "to": hi}
    for key in ("percentiles", "worst", "spikes", "correlation", "rate", "ticks"):
        assert rep[key] == full[key], f"{key} covers every frame"
    csv = ok("frames", "--csv", *args, cap).splitlines()[1:]
    assert [int(l.split(",")[0]) for l in csv] == want
    text = ok("frames", *args, cap)
    table = section(text, f"frames {lo}..{'' if hi is None else hi}")
    assert [int(l.split()[0]) for l in table[2:]] == want


@pytest.mark.parametrize("top", [0, 1, 3])
def test_frames_top_limits_lists_not_json_spikes(game_frames, top):
    cap, _ = game_frames
    rep = js("frames", "--json", "--top", top, cap)
    assert (len(rep["worst"]), len(rep["most_allocations"]), len(rep["spikes"])) == (top, top, 3)
    text = ok("frames", f"--top={top}", cap)
    has = "worst frames by frame time" in text
    assert has == (top > 0)
    if top:
        assert len(section(text, "worst frames by frame time")) == 2 + top
    head = [l for l in text.splitlines() if l.startswith("spikes: ")]
    more = "" if top >= 3 else f" (first {top} shown; --top, --json for all)"
    assert head == [f"spikes: 3 frames over the game's limits{more}"]
    shown = [l for l in section(text, "spikes: ") if l.startswith("  frame ")]
    assert len(shown) == min(top, 3)


def test_frames_budget_and_allocator_share(game_frames):
    cap, full = game_frames
    rows = full["per_frame"]
    ms = f"{full['percentiles']['frame_ns']['p50'] / 1e6:.6f}"
    budget = int(float(ms) * 1e6 + 0.5)
    over = [r for r in rows if r["frame_ns"] > budget]
    assert 0 < len(over) < 60
    for share in ("0", "0.5", "1"):
        rep = js("frames", "--json", "--budget-ms", ms, "--alloc-share", share, cap)
        alloc_over = sum(r["alloc_ns"] > float(share) * budget for r in over)
        assert rep["budget_ns"] == budget
        assert rep["over_budget"] == {"frames": len(over), "alloc_share": float(share),
                                      "frames_allocator_over_share": alloc_over,
                                      "fraction": alloc_over / len(over)}
        line = [l for l in ok("frames", "--budget-ms", ms, "--alloc-share", share,
                              cap).splitlines() if l.startswith("over budget")]
        assert line == [f"over budget ({human_ns(budget)}): {len(over)} of 60 frames; in "
                        f"{alloc_over} of them ({100.0 * alloc_over / len(over):.1f}%) the "
                        f"allocator alone took more than {100 * float(share):.0f}% of the "
                        f"budget ({human_ns(int(float(share) * budget))})"]
    rep = js("frames", "--json", "--budget-ms", "1000000", cap)
    assert rep["over_budget"]["frames"] == 0 and rep["over_budget"]["fraction"] is None


def window_of(rows, frame, k):
    before = [r for r in rows if frame - k <= r["frame"] < frame]
    after = [r for r in rows if frame < r["frame"] <= frame + k]

    def mean(rs, key):
        return sum(r[key] for r in rs) / len(rs) if rs else 0

    return {"frames": len(before), "allocations_mean": mean(before, "allocations"),
            "live_bytes_mean": mean(before, "live_bytes")}, \
           {"frames": len(after), "allocations_mean": mean(after, "allocations"),
            "live_bytes_mean": mean(after, "live_bytes")}


@pytest.mark.parametrize("args,want", [
    (["--window", "3"], [(21, "events", "frames", 3), (41, "frames", "events", 3)]),
    (["--window", "0"], [(21, "events", "frames", 0), (41, "frames", "events", 0)]),
    (["--transition", "50", "--transition", "2", "--window=2"], [(50, None, None, 2),
                                                                (2, None, None, 2)]),
    (["--transition", "59"], [(59, None, None, 30)]),
], ids=["level-changes", "window-0", "given-frames", "near-the-end"])
def test_frames_transition_windows(game_frames, args, want):
    cap, full = game_frames
    rows = full["per_frame"]
    rep = js("frames", "--json", *args, cap)
    got = rep["transitions"]
    assert [(t["frame"], t["from"], t["to"], t["window"]) for t in got] == want
    for t, (frame, _, _, k) in zip(got, want):
        assert [r["frame"] for r in t["rows"]] == [n for n in range(frame - k, frame + k + 1)
                                                   if 1 <= n <= 60]
        before, after = window_of(rows, frame, k)
        assert t["before"] == pytest.approx(before) and t["after"] == pytest.approx(after)
    if want[0][0] == 21 and want[0][3] == 3:
        # frames 18..20 and 22..24 allocate 3, 4, 1 and 3, 4, 1 blocks
        assert got[0]["before"]["allocations_mean"] == pytest.approx(8 / 3)
    text = ok("frames", *args, cap)
    for t, (frame, frm, to, k) in zip(got, want):
        change = f" ({frm} -> {to})" if frm else ""
        sec = section(text, f"transition at frame {frame}{change}, {k} frames each side")
        b, a = t["before"], t["after"]
        assert sec[1] == (f"  before: {b['frames']} frames, mean {b['allocations_mean']:.1f} "
                          f"allocations, live {human_size(int(b['live_bytes_mean']))}")
        assert sec[2] == (f"  after:  {a['frames']} frames, mean {a['allocations_mean']:.1f} "
                          f"allocations, live {human_size(int(a['live_bytes_mean']))}")
        assert [int(l.split()[0]) for l in sec[4:]] == [r["frame"] for r in t["rows"]]


def test_frames_threads_split_rows_by_writer_thread(openworld):
    cap = openworld.capture
    rep = js("frames", "--json", "--threads", cap)
    assert "threads" not in js("frames", "--json", cap)["per_frame"][0]
    for r in rep["per_frame"]:
        ts = r["threads"]
        assert sum(t["allocations"] for t in ts) == r["allocations"], r
        assert sum(t["allocated_bytes"] for t in ts) == r["allocated_bytes"], r
        main = [t for t in ts if t["thread"] == 0]
        if r["frame"] >= 2:  # the main thread: 2 scratch blocks a frame
            assert [(t["allocations"], t["frees"], t["allocated_bytes"]) for t in main] == [
                (2, 2, size_of(1) + size_of(2))], r
            assert main[0]["name"] == "fr_openworld"
    text = ok("frames", "--threads", "--to", "5", cap)
    table = section(text, "frames 0..5")[2:]
    rows = {r["frame"]: r for r in rep["per_frame"]}
    frame = None
    for line in table:
        if line.strip().startswith("thread "):
            t = next(t for t in rows[frame]["threads"]
                     if line.strip().startswith(f"thread {t['thread']} "))
            assert line.strip().endswith(
                f": {t['allocations']} allocs, {t['frees']} frees, "
                f"{human_size(t['allocated_bytes'])} allocated, {human_ns(t['alloc_ns'])} in "
                f"the allocator"), line
        else:
            frame = int(line.split()[0])
    assert frame == 5


def test_frames_damaged_and_missing_captures(game_frames, tmp_path):
    cap, _ = game_frames
    cut = truncated_copy(cap, tmp_path / "cut.gmt")
    r = gmtrace("frames", cut)
    line = one_failure_line(r, "frames on a cut capture")
    assert line.startswith(f"gmtrace: {cut}: offset "), line
    assert f"damaged   {line[len('gmtrace: '):]}" in r.stdout.splitlines()
    r = gmtrace("frames", "--json", cut)
    assert one_failure_line(r, "frames --json on a cut capture") == line
    assert json.loads(r.stdout)["error"] == line[len("gmtrace: "):]
    r = gmtrace("frames", tmp_path / "missing.gmt")
    assert "No such file" in one_failure_line(r, "a missing capture") and r.stdout == ""


@pytest.mark.parametrize("args,mention", [
    (["--top", "many"], "--top"),
    (["--top", "100001"], "--top"),
    (["--top"], "--top"),
    (["--from", "-1"], "--from"),
    (["--to", "x"], "--to"),
    (["--from", "5", "--to", "4"], "--from 5 is after --to 4"),
    (["--budget-ms", "0"], "--budget-ms"),
    (["--budget-ms", "abc"], "--budget-ms"),
    (["--budget-ms", "inf"], "--budget-ms"),
    (["--budget-ms", "0x10"], "--budget-ms"),
    (["--budget-ms", " 5"], "--budget-ms"),
    (["--budget-ms", "2e9"], "--budget-ms"),
    (["--alloc-share", "1.5"], "--alloc-share"),
    (["--alloc-share", "-0.1"], "--alloc-share"),
    (["--window", "1000001"], "--window"),
    (["--transition", "x"], "--transition"),
    (["--transition", "1"] * 65, "at most 64 --transition"),
    (["--json", "--csv"], "--json or --csv"),
    (["--bogus"], "--bogus"),
    (["two.gmt"], "one capture at a time"),
    ([], "no capture given"),
], ids=lambda v: "-".join(str(x).strip("-") for x in v[:4]) if isinstance(v, list) else None)
def test_frames_bad_usage(tmp_path, args, mention):
    if args != [] and args != ["two.gmt"]:
        args = args + ["x.gmt"]
    elif args == ["two.gmt"]:
        args = ["one.gmt", "two.gmt"]
    bad_usage("frames", args, tmp_path, mention)


# ==== gmtrace assets ===================================================================


def sort_key(key):
    def k(a):
        size = a["live_bytes"] + a["extra_bytes"]
        if key == "bytes":
            return (-size, -a["peak_live_bytes"], a["id"])
        if key == "peak":
            return (-a["peak_live_bytes"], a["id"])
        if key == "name":
            return (a["name"] is None, a["name"] or "", a["id"])
        if key == "type":
            return (a["type"] is None, a["type"] or "", -size, a["id"])
        if key == "load_ns":
            return (-(a["load_duration_ns"] or 0), a["id"])
        if key == "touches":
            return (-a["touches"], a["id"])
        raise AssertionError(key)
    return k


CSV_KEYS = ("id,name,type,state,live_bytes,live_blocks,peak_live_bytes,allocated_bytes,"
            "extra_bytes,load_frame,ready_frame,load_duration_ns,unload_frame,unloaded_frame,"
            "unloaded_live_bytes,refs,refs_max,touches,last_touch_frame,tags").split(",")


def csv_cell(a, key):
    if key == "tags":
        return ";".join("(untagged)" if t["tag"] is None else t["tag"] for t in a["tags"])
    v = a[key]
    return "" if v is None else str(v)


@pytest.mark.parametrize("key", ["bytes", "peak", "name", "type", "load_ns", "touches"])
def test_assets_sort_orders_every_view(levels, game_assets, key):
    for cap in (levels.capture, game_assets):
        rep = js("assets", "--json", "--sort", key, cap)
        ids = [a["id"] for a in rep["assets"]]
        assert ids == [a["id"] for a in sorted(rep["assets"], key=sort_key(key))], (cap, key)
        csv = ok("assets", "--csv", f"--sort={key}", cap).splitlines()
        assert csv[0] == ",".join(CSV_KEYS)
        assert [int(l.split(",")[0]) for l in csv[1:]] == ids
        text = ok("assets", "--sort", key, "--top", "4", cap)
        n = len(ids)
        table = section(text, f"assets by {key} (top {min(4, n)} of {n})")
        assert [int(l.split()[0]) for l in table[2:]] == ids[:4]


def test_assets_csv_rows_are_the_json_assets(levels, game_assets, attribution):
    for cap in (levels.capture, game_assets, attribution.capture):
        rep = js("assets", "--json", cap)
        lines = ok("assets", "--csv", cap).splitlines()
        assert len(lines) == 1 + len(rep["assets"])
        for line, a in zip(lines[1:], rep["assets"]):
            assert line.split(",") == [csv_cell(a, k) for k in CSV_KEYS], (cap, a["name"])


def test_assets_text_summarises_the_game(game_assets):
    rep = js("assets", "--json", "--orphan-frames", "2", game_assets)
    by = {a["name"]: a for a in rep["assets"]}
    assert [(a["id"], a["type"], a["state"], a["live_bytes"], a["extra_bytes"])
            for a in sorted(rep["assets"], key=lambda a: a["id"])] == [
        (1, "font", "resident", size_of(2), 1 << 20), (2, "sound", "unloaded", size_of(3), 0),
        (3, "texture", "resident", size_of(1), 0), (4, "mesh", "failed", size_of(5), 0),
        (5, "level", "resident", size_of(4), 0), (6, "level", "resident", size_of(6), 0)]
    assert by["orphan"]["refs_series"] == [[2, 1], [3, 0]]
    assert (by["font"]["touches"], by["font"]["last_touch_frame"]) == (5, 10)
    assert (rep["frames"], rep["last_frame"], rep["exact"]) == (10, 11, True)
    t = rep["totals"]
    asset_bytes = sum(size_of(k) for k in (2, 3, 1, 5, 4, 6))
    assert (t["assets"], t["resident"], t["unloaded"], t["failed"], t["asset_bytes"],
            t["extra_bytes"]) == (6, 4, 1, 1, asset_bytes, 1 << 20)
    checks = [(c["check"], c["frame"], c["name"]) for c in rep["checks"]]
    assert checks == [("leak", 2, "broken"), ("leak", 4, "leaky"),
                      ("never_unloaded", 2, "font"), ("never_unloaded", 2, "orphan"),
                      ("never_unloaded", 5, "world_1"), ("never_unloaded", 8, "world_2"),
                      ("orphan", 3, "orphan")]
    assert {k: v for k, v in rep["checks"][1].items() if k not in ("check", "name")} == {
        "frame": 4, "asset": 2, "live_bytes": size_of(3), "live_blocks": 1,
        "unloaded_live_bytes": size_of(3)}
    assert rep["checks"][-1]["until_frame"] is None and rep["checks"][-1]["frames"] == 8
    assert rep["options"] == {"orphan_frames": 2, "stale_frames": 600, "thrash_frames": 120}

    text = ok("assets", "--orphan-frames", "2", game_assets)
    lines = text.splitlines()
    assert lines[1] == "assets    6: 0 loading, 4 resident, 0 unloading, 1 unloaded, 1 failed"
    assert lines[2] == (f"memory    {human_size(t['live_bytes'])} live at exit, "
                        f"{human_size(asset_bytes)} of it in assets, 1.0 MiB declared extra")
    table = section(text, "assets by bytes (top 6 of 6)")[2:]
    for line, a in zip(table, rep["assets"]):
        f = line.split()
        assert (int(f[0]), f[1], f[2], f[3]) == (a["id"], a["name"], a["type"], a["state"])
        assert " ".join(f[4:10]) == " ".join([human_size(a["live_bytes"]),
                                             human_size(a["peak_live_bytes"]),
                                             human_size(a["peak_extra_bytes"])]), line
    assert [(a["name"], a["extra_bytes"], a["peak_extra_bytes"]) for a in rep["assets"]
            if a["peak_extra_bytes"]] == [("font", 1 << 20, 1 << 20), ("leaky", 0, 1 << 12)]
    types = section(text, "types")[2:]
    assert [l.split()[0] for l in types] == [t["type"] for t in rep["types"]]
    chk = section(text, "checks: 7")
    assert chk[1:4] == [
        "  leak (2)",
        f'    "broken" (id 4, mesh): {human_size(size_of(5))} ({size_of(5)} bytes) in 1 '
        f"blocks still live, failed at frame 2 ({size_of(5)} bytes live then)",
        f'    "leaky" (id 2, sound): {human_size(size_of(3))} ({size_of(3)} bytes) in 1 '
        f"blocks still live, unloaded at frame 4 ({size_of(3)} bytes live then)"]
    assert chk[-2:] == ["  orphan (1)", '    "orphan" (id 3, texture): no reference since '
                        "frame 3, still resident at exit (8 frames)"]


def test_assets_limits_and_top(levels, streaming):
    rep = js("assets", "--json", "--stale-frames", "5", levels.capture)
    stale = [(c["name"], c["frame"], c["until_frame"], c["frames"]) for c in rep["checks"]
             if c["check"] == "stale"]
    # a4..a6 are last touched in frame 10 and stay resident to the end (21)
    assert stale == [("a4", 10, None, 11), ("a5", 10, None, 11), ("a6", 10, None, 11)]
    text = ok("assets", "--stale-frames=5", "--top", "2", levels.capture)
    sec = section(text, "checks: 10")
    assert sec[1] == "  never_unloaded (7)" and sec[4] == "    ... 5 more (--top, --json)"
    assert sec[5:] == ["  stale (3)"] + [
        f'    "{n}" (id {i}, {t}): last touched at frame 10, resident and untouched for 11 '
        f"frames at exit" for n, i, t in (("a4", 5, "texture"), ("a5", 6, "mesh"))] + [
        "    ... 1 more (--top, --json)"]
    # stream_10 is loaded again in the frame it was unloaded in
    for limit in ("0", "120"):
        rep = js("assets", "--json", "--thrash-frames", limit, streaming.capture)
        assert [(t["name"], t["frames"]) for t in rep["streaming"]["thrash"]] == [
            ("stream_10", 0)]
        assert rep["options"]["thrash_frames"] == int(limit)
    th = rep["streaming"]["thrash"][0]
    text = ok("assets", "--top", "1", streaming.capture)
    assert (f'    "stream_10" unloaded at frame {th["unload_frame"]} (id '
            f'{th["previous_asset"]}), loaded again at frame {th["reload_frame"]} (id '
            f'{th["asset"]})') in text.splitlines()
    text = ok("assets", "--top", "0", streaming.capture)
    assert "    ... 1 more (--top, --json)" in section(text, "  thrash ")


def test_assets_check_exit_status(levels, streaming, game_assets):
    r = gmtrace("assets", "--check", levels.capture)
    assert (r.returncode, r.stderr) == (
        1, 'gmtrace assets: 7 checks fired: 7 never_unloaded ("ui_font", "a4", "a5", "a6", '
        '3 more)\n')
    assert "checks: 7" in r.stdout, "the report is printed either way"
    r = gmtrace("assets", "--check", "--json", game_assets)
    assert (r.returncode, r.stderr) == (
        1, 'gmtrace assets: 6 checks fired: 2 leak ("broken", "leaky"), 4 never_unloaded '
        '("font", "orphan", "world_1", "world_2")\n')
    assert json.loads(r.stdout)["checks_by_kind"]["leak"] == 2
    r = gmtrace("assets", "--check", "--csv", streaming.capture)
    assert (r.returncode, r.stderr) == (0, "")
    assert len(r.stdout.splitlines()) == 1 + 49


def test_assets_frames_level_is_not_exact(tmp_path):
    cap = run_game(tmp_path, "assets", {"GMTRACE_LEVEL": "frames"})
    assert js("assets", "--json", cap)["exact"] is False
    # the whole capture: not "in part"
    assert ("frames level (asset bytes not recorded, a touch recorded once in 60 frames)"
            in ok("assets", cap).splitlines()[0])
    assert js("transitions", "--json", cap)["exact"] is False
    assert ("note      the capture is in the frames level: asset bytes are not recorded"
            in ok("transitions", cap).splitlines())
    # a CSV has no column to say so: stderr does; the HTML page says it and
    # leaves the byte cells empty (every asset showed 0 B)
    r = gmtrace("assets", "--csv", cap)
    assert r.returncode == 0 and r.stderr == (
        "gmtrace assets: the capture is in the frames level: asset bytes are not recorded, "
        "its byte columns are 0\n"), r.stderr
    page = ok("html", cap)
    assets = page[page.index("<h2>Assets</h2>"):]
    assets = assets[:assets.index("</table>")]
    assert "The capture is in the frames level: asset bytes are not recorded" in assets
    # the heap's columns empty (no figures, not 0 B); declared extra (GPU)
    # bytes are marker calls, recorded in both levels
    rows = [l for l in assets.splitlines() if l.startswith("<tr><td>")]
    assert rows and all(re.search(r"</td><td></td><td>[^<]*B</td><td></td><td></td></tr>$", l)
                        for l in rows), rows
    r = gmtrace("assets", "--csv", run_game(tmp_path / "ev", "assets", {}))
    assert r.returncode == 0 and r.stderr == "", r.stderr


# ---- heat maps -----------------------------------------------------------------------


RAMP = ".:-=+*#%@"
XTERM = [17, 18, 19, 20, 21, 27, 33, 39, 45, 51, 50, 49, 48, 47, 46, 82, 118, 154, 190, 226,
         220, 214, 208, 202, 196]


def level_of(v, top, levels=25):
    return 0 if v == 0 or top == 0 else min(levels, max(1, -(-v * levels // top)))


def check_bins(h, last_frame, nbins):
    first = h["first_frames"]
    assert (h["bins"], len(first), h["last_frame"]) == (nbins, nbins, last_frame)
    ends = first[1:] + [last_frame + 1]
    widths = [e - f for f, e in zip(first, ends)]
    assert first[0] == 1 and min(widths) >= 1 and max(widths) - min(widths) <= 1, first
    return list(zip(first, ends))


def heat_text_rows(text):
    """(label, cells, peak) of the rows of a terminal heat map."""
    out = []
    for line in text.splitlines():
        m = re.match(r"^  (.+?) \|(.*)\| (.+)$", line)
        if m and not line.startswith("  scale:"):
            out.append((m.group(1).strip(), m.group(2), m.group(3)))
    return out


def test_heatmap_touches_and_live_cells_are_the_fixtures(levels):
    rep = js("assets", "--json", "--heatmap", "touches", "--bins", "4", levels.capture)
    h = rep["heatmap"]
    assert (h["by"], h["value"]) == ("asset", "touches")
    bins = check_bins(h, rep["last_frame"], 4)
    # ui_font is touched in frames 1..20, a1..a6 in 1..10, b1..b3 in 11..20
    touched = {"ui_font": range(1, 21), "b1": range(11, 21), "b2": range(11, 21),
               "b3": range(11, 21)}
    want = [(name, [sum(f in touched.get(name, range(1, 11)) for f in range(a, b))
                    for a, b in bins]) for name in
            ["ui_font", "a1", "a2", "a3", "a4", "a5", "a6", "b1", "b2", "b3"]]
    want.sort(key=lambda w: -max(w[1]))  # stable: ids break ties
    assert [(r["name"], r["cells"]) for r in h["rows"]] == want
    assert all(r["peak"] == max(r["cells"]) for r in h["rows"])

    rep = js("assets", "--json", "--heatmap", "live", "--by", "type", "--bins", "7",
             levels.capture)
    h = rep["heatmap"]
    check_bins(h, rep["last_frame"], 7)
    types = {t["type"]: t for t in rep["types"]}
    assert [r["name"] for r in h["rows"]] == [t["type"] for t in sorted(
        rep["types"], key=lambda t: -t["peak_live_bytes"])]
    for r in h["rows"]:
        t = types[r["name"]]
        assert r["peak"] == max(r["cells"]) == t["peak_live_bytes"], r
        assert r["cells"][-1] == t["live_bytes"], r
        assert "asset" not in r

    # more bins than frames: one frame a bin
    rep = js("assets", "--json", "--bins", "100", levels.capture)
    assert rep["heatmap"]["first_frames"] == list(range(1, 22))
    assets = {a["id"]: a for a in rep["assets"]}
    for r in rep["heatmap"]["rows"]:
        a = assets[r["asset"]]
        assert (r["name"], r["peak"]) == (a["name"], a["peak_live_bytes"])
        assert r["cells"][-1] == a["live_bytes"] + a["extra_bytes"]
        if a["unloaded_frame"]:
            assert r["cells"][a["unloaded_frame"]:] == [0] * (21 - a["unloaded_frame"])


def test_heatmap_ascii_and_colour_views_draw_the_json_cells(levels):
    rep = js("assets", "--json", "--heatmap", "live", "--bins", "6", "--top", "3",
             levels.capture)
    h = rep["heatmap"]
    assert len(h["rows"]) == 3
    top = max(max(r["cells"]) for r in h["rows"])
    text = ok("assets", "--heatmap", "live", "--bins", "6", "--top", "3", levels.capture,
              env={"NO_COLOR": "1"})
    title = (f"live bytes by asset, 6 frame bins (frames 1-{h['last_frame']}), top 3 of 10 "
             f"rows by peak")
    lines = text.splitlines()
    i = lines.index(title)
    got = heat_text_rows("\n".join(lines[i + 1:i + 4]))
    assert got == [(r["name"], "".join(RAMP[(level_of(v, top) - 1) * 9 // 25]
                                       if v else " " for v in r["cells"]),
                    human_size(r["peak"])) for r in h["rows"]]
    assert lines[i + 5] == (f"  scale: 1 B {''.join(RAMP[k * 9 // 25] for k in range(25))} "
                            f"{human_size(top)} (linear; a cell is the largest value in its "
                            "frames, blank: 0)")
    assert "\x1b[" not in text

    # colours on a terminal only (a pipe, a CI log, gets the shades above)
    colour = on_a_terminal("assets", "--heatmap", "live", "--bins", "6", "--top", "3",
                           levels.capture, env={"NO_COLOR": ""})
    rows = heat_text_rows(colour)
    for (name, cells, peak), r in zip(rows, h["rows"]):
        want, cur = "", 0
        for v in r["cells"]:
            lv = level_of(v, top)
            if lv != cur:
                want += f"\x1b[48;5;{XTERM[lv - 1]}m" if lv else "\x1b[0m"
                cur = lv
            want += " "
        want += "\x1b[0m" if cur else ""
        assert (name, cells, peak) == (r["name"], want, human_size(r["peak"]))


def test_heatmap_svg_file_holds_every_cell(levels, tmp_path):
    svg = tmp_path / "live.svg"
    rep = js("assets", "--json", "--bins", "5", "--top", "4", "--svg", svg, levels.capture)
    h = rep["heatmap"]
    doc = svg.read_text()
    assert doc.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<svg ')
    assert doc.endswith("</svg>\n")
    title = (f"live bytes by asset, 5 frame bins (frames 1-{h['last_frame']}), top 4 of 10 "
             f"rows by peak")
    assert f'font-weight="bold">{title}</text>' in doc
    ends = h["first_frames"][1:] + [h["last_frame"] + 1]
    tips = re.findall(r"<title>(.*?)</title>", doc)
    assert tips == [f"{r['name']}, frames {a}-{b - 1}: {human_size(v)}"
                    for r in h["rows"] for a, b, v in zip(h["first_frames"], ends, r["cells"])]
    for r in h["rows"]:
        assert f'text-anchor="end">{r["name"]}</text>' in doc
        assert f">{human_size(r['peak'])}</text>" in doc
    top = max(max(r["cells"]) for r in h["rows"])
    assert f">{human_size(top)} (linear; largest value in the bin; grey: 0)</text>" in doc
    assert doc.count('fill="#f2f2f2"') == sum(v == 0 for r in h["rows"] for v in r["cells"])

    # CSV and text modes write the same file
    svg2 = tmp_path / "csv.svg"
    out = ok("assets", "--csv", "--bins", "5", "--top", "4", f"--svg={svg2}", levels.capture)
    assert out.splitlines()[0] == ",".join(CSV_KEYS) and svg2.read_text() == doc
    svg3 = tmp_path / "text.svg"
    out = ok("assets", "--bins", "5", "--top", "4", "--svg", svg3, levels.capture,
             env={"NO_COLOR": "1"})
    assert title in out.splitlines() and svg3.read_text() == doc

    r = gmtrace("assets", "--svg", tmp_path / "no" / "such" / "dir.svg", levels.capture)
    line = one_failure_line(r, "an SVG that cannot be written")
    assert line.startswith(f"gmtrace assets: cannot write {tmp_path}/no/such/dir.svg"), line


def test_heatmap_by_tag(attribution):
    rep = js("assets", "--json", "--by", "tag", attribution.capture)
    h = rep["heatmap"]
    assert (h["by"], h["value"], h["bins"]) == ("tag", "live", rep["last_frame"])
    tags = {t["tag"]: t for t in rep["tags"]}
    tags["(untagged)"] = rep["untagged"]
    assert h["rows"] and all("asset" not in r for r in h["rows"])
    for r in h["rows"]:
        # a cell is the largest value of its bin: the last one holds the end
        assert r["peak"] == max(r["cells"]) == tags[r["name"]]["peak_live_bytes"], r
        assert r["cells"][-1] >= tags[r["name"]]["live_bytes"], r
    assert [r["peak"] for r in h["rows"]] == sorted((r["peak"] for r in h["rows"]),
                                                    reverse=True)
    text = ok("assets", "--by", "tag", attribution.capture, env={"NO_COLOR": "1"})
    assert [(n, p) for n, _, p in heat_text_rows(text)] == [
        (r["name"], human_size(r["peak"])) for r in h["rows"]]


@pytest.mark.parametrize("args,mention", [
    (["--sort", "size"], "--sort"),
    (["--sort"], "--sort"),
    (["--top", "-1"], "--top"),
    (["--orphan-frames", "x"], "--orphan-frames"),
    (["--stale-frames", ""], "--stale-frames"),
    (["--thrash-frames", "1.5"], "--thrash-frames"),
    (["--heatmap", "bytes"], "--heatmap"),
    (["--by", "none"], "--by"),
    (["--by", "thread"], "--by"),
    (["--bins", "0"], "--bins"),
    (["--bins", "4097"], "--bins"),
    (["--svg="], "--svg"),
    (["--heatmap", "touches", "--by", "tag"], "touches belong to assets"),
    (["--json", "--csv"], "--json or --csv"),
    (["-x"], "'-x'"),
    (["a.gmt"], "one capture at a time"),
    ([], "no capture given"),
], ids=lambda v: "-".join(str(x).strip("-=") for x in v[:4]) if isinstance(v, list) else None)
def test_assets_bad_usage(tmp_path, args, mention):
    tail = [] if args == [] else ["x.gmt"]
    bad_usage("assets", args + tail, tmp_path, mention)


def test_assets_and_transitions_on_missing_or_damaged_captures(levels, tmp_path):
    for cmd in ("assets", "transitions"):
        r = gmtrace(cmd, tmp_path / "missing.gmt")
        assert "No such file" in one_failure_line(r, f"{cmd} on a missing capture")
    cut = truncated_copy(levels.capture, tmp_path / "cut.gmt")
    for cmd in ("assets", "transitions"):
        r = gmtrace(cmd, cut)
        line = one_failure_line(r, f"{cmd} on a cut capture")
        assert line.startswith(f"gmtrace: {cut}: offset "), line
        assert f"damaged   {line[len('gmtrace: '):]}" in r.stdout.splitlines()
        r = gmtrace(cmd, "--json", cut)
        assert json.loads(r.stdout)["error"] == one_failure_line(r, cmd)[len("gmtrace: "):]


# ==== gmtrace transitions ===============================================================


def transitions_text_check(text, rep):
    """Every transition of rep, as the text report must show it."""
    lines = text.splitlines()
    assert lines[0].endswith(f"{len(rep['transitions'])} transitions (window "
                             f"{rep['window_frames']} frames)"), lines[0]
    for t in rep["transitions"]:
        src = t["source"] + (f" {t['scene']}" if t["scene"] is not None else "")
        head = f'transition {t["index"]}: "{t["name"]}" ({src}) at frame {t["frame"]} (+'
        sec = section(text, head)
        assert sec[0].endswith(f"), until frame {t['end_frame']} ({t['end']})"), sec[0]
        b, a, p = t["before"], t["after"], t["peak"]
        assert sec[1].split() == ["live", "before", *human_size(b["live_bytes"]).split(),
                                  "peak", *human_size(p["live_bytes"]).split(),
                                  "(frame", f"{p['frame']})", "after",
                                  *human_size(a["live_bytes"]).split()], sec[1]
        assert sec[2].split() == ["in", "assets", "before",
                                  *human_size(b["asset_bytes"]).split(), "after",
                                  *human_size(a["asset_bytes"]).split()], sec[2]
        assert sec[4] == (f"  moved        loaded {human_size(t['loaded_bytes'])}, unloaded "
                          f"{human_size(t['unloaded_bytes'])} during the transition")
        kept = [l for l in sec if l.startswith("    \"")]
        assert len(kept) == len(t["kept"]), sec
        for line, k in zip(kept, t["kept"]):
            touch = (f"last touched at frame {k['last_touch_frame']}"
                     if k["last_touch_frame"] else "never touched")
            assert line == (f'    "{k["name"]}" (id {k["asset"]}, {k["type"]}) '
                            f"{human_size(k['resident_bytes'] + k['extra_bytes'])}, {touch}")
        old = [l for l in sec if l.startswith("  old scene ")]
        assert old == [f"  old scene    {t['old_assets']} assets, {t['old_unloaded']} unloaded "
                       f"in the transition, {len(t['kept'])} kept (never touched again): "
                       f"{human_size(t['kept_bytes'])}"]


# a window of N frames counts the change's own frame: A begins in frame 1,
# B in frame 11
@pytest.mark.parametrize("window,end1", [(None, (11, "next_transition")), (1, (1, "window")),
                                         (5, (5, "window")), (10, (10, "window")),
                                         (11, (11, "next_transition"))])
def test_transitions_of_the_levels_fixture(levels, window, end1):
    args = [] if window is None else ["--window", window]
    rep = js("transitions", "--json", *args, levels.capture)
    assert rep["window_frames"] == (300 if window is None else window)
    t1, t2 = rep["transitions"]
    assert (t1["name"], t1["source"], t1["scene"], t1["from"], t1["frame"]) == (
        "A", "scene", 1, None, 1)
    assert (t1["end_frame"], t1["end"]) == end1
    assert (t1["before"]["live_bytes"], t1["after"]["asset_bytes"], t1["loaded_bytes"]) == (
        0, 522735, 522735)
    # B: as_levels' numbers (tests/assets/README.md); scratch blocks of the
    # loads count both ways
    assert (t2["name"], t2["from"], t2["frame"], t2["end_frame"], t2["end"]) == (
        "B", "A", 11, 11, "old_assets_unloaded")
    assert (t2["before"]["asset_bytes"], t2["peak"]["live_bytes"], t2["after"]["asset_bytes"],
            t2["loaded_bytes"], t2["unloaded_bytes"]) == (522735, 1016026, 891375, 925251,
                                                          182658 + 373953)
    assert (t2["old_assets"], t2["old_unloaded"]) == (7, 3)
    assets = {a["name"]: a for a in js("assets", "--json", levels.capture)["assets"]}
    assert [k["name"] for k in t2["kept"]] == ["a4", "a5", "a6"]
    for k in t2["kept"]:
        a = assets[k["name"]]
        assert (k["asset"], k["type"], k["resident_bytes"], k["last_touch_frame"]) == (
            a["id"], a["type"], a["resident_bytes"], 10)
    assert t2["kept_bytes"] == sum(k["resident_bytes"] + k["extra_bytes"] for k in t2["kept"])
    transitions_text_check(ok("transitions", *args, levels.capture), rep)


def test_transitions_scene_level_and_level_sources(game_assets):
    rep = js("transitions", "--json", game_assets)
    got = [(t["index"], t["source"], t["scene"], t["name"], t["from"], t["level_asset"],
            t["frame"], t["end_frame"], t["end"]) for t in rep["transitions"]]
    assert got == [(1, "scene", 1, "menu", None, None, 2, 5, "next_transition"),
                   (2, "scene+level", 2, "world", "menu", 5, 5, 8, "next_transition"),
                   (3, "level", None, "world_2", "world", 6, 8, 11, "capture_end")]
    t1, t2, t3 = rep["transitions"]
    # loaded: the four blocks and the font's and leaky's declared extra bytes
    # (leaky's gone with it before the scene's end)
    assert (t1["loaded_bytes"], t1["after"]["asset_bytes"], t1["after"]["extra_bytes"]) == (
        sum(size_of(k) for k in (2, 3, 1, 5)) + (1 << 20) + (1 << 12),
        sum(size_of(k) for k in (2, 3, 1, 5)), 1 << 20)
    assert [(b["type"], b["live_bytes"], b["extra_bytes"]) for b in t1["after"]["by_type"]] == [
        ("font", size_of(2), 1 << 20), ("sound", size_of(3), 0), ("texture", size_of(1), 0),
        ("mesh", size_of(5), 0)]
    assert (t2["loaded_bytes"], t3["loaded_bytes"]) == (size_of(4), size_of(6))
    assert (t2["old_assets"], t2["kept"]) == (2, [
        {"asset": 3, "name": "orphan", "type": "texture", "resident_bytes": size_of(1),
         "extra_bytes": 0, "last_touch_frame": None}])
    assert [k["name"] for k in t3["kept"]] == ["world_1"]
    transitions_text_check(ok("transitions", game_assets), rep)


@pytest.mark.parametrize("args,mention", [
    (["--window", "x"], "--window"),
    (["--window"], "--window"),
    (["--top", "3"], "'--top'"),
    (["a.gmt"], "one capture at a time"),
    ([], "no capture given"),
], ids=["window-x", "window-missing", "unknown", "two", "none"])
def test_transitions_bad_usage(tmp_path, args, mention):
    tail = [] if args == [] else ["x.gmt"]
    bad_usage("transitions", args + tail, tmp_path, mention)


# ==== gmtrace dump =======================================================================


C_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


def parse_quoted(s, i):
    """The C-escaped string quoted at s[i] and the index after it."""
    assert s[i] == '"', s[i:]
    out, i = bytearray(), i + 1
    while s[i] != '"':
        if s[i] == "\\":
            if s[i + 1] == "x":
                out.append(int(s[i + 2:i + 4], 16))
                i += 4
            else:
                out += C_ESCAPES[s[i + 1]].encode()
                i += 2
        else:
            out += s[i].encode()
            i += 1
    return out.decode("utf-8", "replace"), i + 1


def parse_dump_line(line):
    """`NS THREAD TYPE k=v ...` as a dict shaped like the JSON line."""
    ns, thread, typ, rest = (line.split(" ", 3) + [""])[:4]
    ev = {"ns": int(ns), "thread": int(thread), "type": typ}
    i, rest = 0, " " + rest if rest else ""
    while i < len(rest):
        assert rest[i] == " ", (line, i)
        eq = rest.index("=", i)
        key, i = rest[i + 1:eq], eq + 1
        if rest[i] == '"':
            vals = []
            while True:
                v, i = parse_quoted(rest, i)
                vals.append(v)
                if i < len(rest) and rest[i] == ",":
                    i += 1
                    continue
                break
            ev[key] = vals if key == "argv" else vals[0]
        else:
            end = rest.find(" ", i)
            end = len(rest) if end < 0 else end
            v = rest[i:end]
            ev[key] = (v if v.startswith("0x") else int(v) if re.fullmatch(r"-?\d+", v)
                       else None if v == "-" else v)
            i = end
    return ev


def dump_both(cap, *args):
    text = ok("dump", *args, cap).splitlines()
    lines = ok("dump", "--json", *args, cap).splitlines()
    assert len(text) == len(lines), cap
    return [parse_dump_line(t) for t in text], [json.loads(l) for l in lines]


def test_dump_text_and_json_agree_on_every_record_type(tmp_path, levels, attribution,
                                                       game_frames, game_extras):
    caps = [levels.capture, attribution.capture, game_frames[0], game_extras]
    (tmp_path / "misuse").mkdir()
    caps.append(as_support.run("misuse", tmp_path / "misuse").capture)
    for name, args in (("fx_basic", []), ("fx_forker", ["exec"])):
        d = tmp_path / name
        d.mkdir()
        r = subprocess.run([str(fx(name))] + args, env=preload_env(d), cwd=str(d),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        assert r.returncode == 0, r.stderr
        caps += captures(d)
    seen = collections.Counter()
    for cap in caps:
        text, js_events = dump_both(cap)
        for t, j in zip(text, js_events):
            assert t == j, f"{cap}: text {t} != json {j}"
            seen[j["type"]] += 1
    want = {"alloc", "free", "realloc", "fail", "thread_start", "thread_end", "frame",
            "frame_set", "module", "process", "fork", "exec", "exit", "tick", "level",
            "frame_thread", "frame_sum", "spike", "tag_def", "context", "asset_new",
            "asset_state", "asset_ref", "asset_extra", "validation", "scene", "pool_def",
            "pool_resize", "pool_destroy", "pool_frame", "gc", "alloc_cost", "budget_node",
            "budget_frame"}
    assert want <= set(seen), f"record types never seen: {sorted(want - set(seen))}"


def test_dump_shows_the_games_records_exactly(game_extras, game_frames, levels):
    _, ev = dump_both(game_extras)
    by = collections.defaultdict(list)
    for e in ev:
        by[e["type"]].append({k: v for k, v in e.items() if k not in ("ns", "thread", "type")})
    assert by["pool_def"] == [{"pool": 1, "object_size": 64, "capacity": 128,
                               "name": "bullets"}]
    # frames 2..5: 3 acquires and 1 release each
    assert [(p["frame"], p["acquires"], p["served"], p["releases"], p["returned"],
             p["in_use"]) for p in by["pool_frame"]] == [(n, 3, 3, 1, 1, 2 * (n - 1))
                                                         for n in range(2, 6)]
    assert by["gc"] == [{"generation": n % 3, "collected": 10 * n, "duration_ns": 1000 * n,
                         "uncollectable": n} for n in range(2, 6)]
    assert (by["pool_resize"], by["pool_destroy"]) == ([{"pool": 1, "capacity": 256}],
                                                       [{"pool": 1}])
    assert [(b["node"], b["name"], b["soft"]) for b in by["budget_node"]] == [(1, "gfx", 1 << 30)]
    assert [t["name"] for t in by["tag_def"]] == ["gfx"]
    _, ev = dump_both(game_frames[0])
    assert [e["level"] for e in ev if e["type"] == "level"] == ["events", "frames", "events"]
    assert [e["frame"] for e in ev if e["type"] == "spike"] == [1, 30, 50]
    assert sum(e["type"] == "tick" for e in ev) == 118
    assert [(e["set"], e["name"]) for e in ev if e["type"] == "frame_set"] == [(1, "physics")]
    _, ev = dump_both(levels.capture)
    assert [e["name"] for e in ev if e["type"] == "scene"] == ["A", "B"]
    assert [(e["name"], e["asset_type"]) for e in ev if e["type"] == "asset_new"][:2] == [
        ("ui_font", "font"), ("a1", "texture")]


def test_dump_limit(game_frames):
    cap, _ = game_frames
    full = ok("dump", cap).splitlines()
    full_json = ok("dump", "--json", cap).splitlines()
    for n in (0, 1, 17):
        assert ok("dump", "--limit", n, cap).splitlines() == full[:n]
        assert ok("dump", "--json", f"--limit={n}", cap).splitlines() == full_json[:n]
    assert ok("dump", "--limit", len(full) + 5, cap).splitlines() == full


@pytest.mark.parametrize("args,mention", [
    (["--limit", "x", "x.gmt"], "--limit"),
    (["--limit"], "--limit"),
    (["--tail", "x.gmt"], "'--tail'"),
    (["a.gmt", "b.gmt"], "one capture at a time"),
    ([], "no capture given"),
], ids=["limit-x", "limit-missing", "unknown", "two", "none"])
def test_dump_bad_usage(tmp_path, args, mention):
    bad_usage("dump", args, tmp_path, mention)


# ==== gmtrace recover =====================================================================


def test_recover_a_complete_capture_and_bad_paths(tmp_path, game_assets):
    r = gmtrace("recover", game_assets)
    assert (r.returncode, r.stdout, r.stderr) == (
        0, f"{game_assets}: its log is gone, nothing to recover\n", "")
    missing, text = tmp_path / "missing.gmt", tmp_path / "text.gmt"
    text.write_text("not a capture\n" * 20)
    r = gmtrace("recover", missing)
    assert one_failure_line(r, "recover missing") == (
        f"gmtrace recover: {missing}: No such file or directory")
    r = gmtrace("recover", text)
    assert one_failure_line(r, "recover text") == (
        f"gmtrace recover: {text}: offset 0: not a gmtrace capture")
    # every capture given is handled; one failure fails the run
    r = gmtrace("recover", missing, game_assets)
    assert r.returncode == 1 and r.stdout == f"{game_assets}: its log is gone, nothing to recover\n"
    r = gmtrace("recover", "-x")
    assert r.returncode == 2 and r.stderr.startswith("gmtrace recover: unknown option '-x'\n")
    # what it did is said on stdout, for scripts: one that cannot be written fails
    with open("/dev/full", "w") as full:
        r = subprocess.run([str(GMTRACE), "recover", str(game_assets)], stdout=full,
                           stderr=subprocess.PIPE, text=True, env=clean_env())
    assert (r.returncode, r.stderr) == (
        1, "gmtrace recover: cannot write to standard output: No space left on device\n")


@pytest.fixture(scope="module")
def forced(tmp_path_factory):
    """fx_killme loop 300000 under the preload, recovered with --force while
    it runs, then left to finish: (capture, pid, outputs, progress at the
    recovery, its final line)."""
    d = tmp_path_factory.mktemp("forced")
    progress = d / "progress.json"
    proc = subprocess.Popen([str(fx("fx_killme")), "loop", str(progress), "300000"],
                            env=preload_env(d), cwd=str(d), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        wait_for(lambda: (p := read_json_file(progress)) and p["ops"] >= 20000, 30,
                 "fx_killme to publish 20000 operations")
        cap = d / f"fx_killme.{proc.pid}.gmt"
        refused = gmtrace("recover", cap)
        before = read_json_file(progress)
        forced = gmtrace("recover", "--force", cap)
        logs_after = shm_logs(proc.pid)
        out, err = proc.communicate(timeout=60)
    finally:
        kill_if_alive(proc)
    assert proc.returncode == 0, err
    assert shm_logs(proc.pid) == [], "the game's own exit removes its log"
    return cap, proc.pid, refused, forced, logs_after, before, fixture_line(out)


def test_recover_force_on_a_running_process(forced):
    cap, pid, refused, forced_run, logs_after, before, final = forced
    assert one_failure_line(refused, "recover without --force") == (
        f"gmtrace recover: process {pid} is still running; its capture is being written "
        "(use --force to take it now)")
    assert forced_run.returncode == 0 and forced_run.stderr == "", forced_run.stderr
    assert re.fullmatch(rf"recovered {re.escape(str(cap))}: \d+ bytes of records for process "
                        rf"{pid} \(\d+ bytes added\)\n", forced_run.stdout), forced_run.stdout
    # the game runs on: its log stays, for its drainer and for a crash later
    assert len(logs_after) == 1, "the forced recovery leaves a running game's log"
    s = summary(cap)
    assert s["process"]["pid"] == pid and s["unknown_records"] == 0
    assert s["allocations"] >= before["allocations"], "what was published before is there"
    r = gmtrace("recover", cap)
    assert (r.returncode, r.stdout) == (0, f"{cap}: its log is gone, nothing to recover\n")


def test_recover_force_leaves_no_silent_hole(forced):
    """The game goes on after a forced recovery, and its drainer appends after
    the blocks the recovery wrote: the capture holds everything the fixture
    made. Until the capture was opened for reading too, the game's drainer
    could not find the recovery's end and wrote over it: 100-250 unmatched
    frees with fx_killme loop 300000 and fewer allocations than made, with
    no `lost` record."""
    cap, _, _, _, _, _, final = forced
    s = summary(cap)
    assert (s["unmatched_frees"], s["records_lost"]) == (0, 0)
    assert_tally(rule_tally(cap), final)


def private_shm(script, tmp_path, timeout=60):
    """Runs the sh script in a private mount namespace with an empty tmpfs on
    /dev/shm (`recover` without arguments scans it: other tests' logs must
    stay out of reach). Skips when namespaces are not allowed here."""
    if not shutil.which("unshare"):
        pytest.skip("unshare(1) is not installed")
    probe = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                            "mount -t tmpfs tmpfs /dev/shm"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
    if probe.returncode != 0:
        pytest.skip(f"no private mount namespace here: {probe.stderr.decode().strip()}")
    path = tmp_path / "ns.sh"
    path.write_text("set -u\nmount -t tmpfs tmpfs /dev/shm\n" + script)
    return subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", str(path)],
                          env=clean_env(), cwd=str(tmp_path), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=timeout)


def preload_prefix(outdir):
    return (f"env LD_PRELOAD={LIB} GMTRACE_OUTPUT={outdir}/%e.%p.gmt GMTRACE_QUIET=1")


def test_recover_scan_finds_nothing_in_an_empty_shm(tmp_path):
    r = private_shm(f"{GMTRACE} recover\n", tmp_path)
    assert (r.returncode, r.stdout, r.stderr) == (
        0, "no orphaned gmtrace logs in /dev/shm\n", "")


def test_recover_scan_takes_dead_logs_and_leaves_live_ones(tmp_path):
    d = tmp_path
    script = f"""
{preload_prefix(d)} {fx('fx_killme')} abort {d}/abort.json 10000 >/dev/null 2>&1
{preload_prefix(d)} {fx('fx_killme')} loop {d}/live.json >/dev/null 2>&1 &
live=$!
while [ ! -e {d}/live.json ]; do sleep 0.01; done
echo junk > /dev/shm/gmtrace.junk
{GMTRACE} recover
echo "rc=$?"
ls /dev/shm | sed 's/^/left /'
kill -9 $live
"""
    r = private_shm(script, tmp_path)
    aborted = read_json_file(d / "abort.json")
    live = read_json_file(d / "live.json")
    cap = d / f"fx_killme.{aborted['pid']}.gmt"
    lines = r.stdout.splitlines()
    assert re.fullmatch(rf"recovered {re.escape(str(cap))}: \d+ bytes of records for process "
                        rf"{aborted['pid']} \(\d+ bytes added\)", lines[0]), lines
    assert lines[1] == "rc=0"
    left = sorted(l[len("left "):] for l in lines[2:])
    assert len(left) == 2 and left[1] == "gmtrace.junk", left
    assert left[0].startswith(f"gmtrace.{live['pid']}."), "a live process's log stays"
    assert r.stderr.splitlines() == ["gmtrace recover: /gmtrace.junk: not a gmtrace log"]
    assert aborted["final"] is True
    assert_tally(rule_tally(cap), aborted, what="recovered abort capture: ")


def test_recover_scan_removes_the_empty_log_of_a_process_killed_while_starting(tmp_path):
    # A process killed (SIGKILL) between creating its log and writing the
    # header leaves a file of zeros named for it: with its process gone it
    # holds no record, and the scan removes it. A live process's, or one
    # with anything in it, stays.
    script = f"""
sh -c 'echo $$ > {tmp_path}/dead.pid'
dead=$(cat {tmp_path}/dead.pid)
head -c 8400896 /dev/zero > /dev/shm/gmtrace.$dead.0123456789abcdef
head -c 8192 /dev/zero > /dev/shm/gmtrace.$$.0123456789abcdef
(head -c 100 /dev/zero; echo x) > /dev/shm/gmtrace.$dead.fedcba9876543210
mkfifo /dev/shm/gmtrace.$dead.f1f0
head -c 8192 /dev/zero > "/dev/shm/gmtrace.+$dead.0123456789abcdef"
echo $dead
{GMTRACE} recover
echo "rc=$?"
ls /dev/shm | sed 's/^/left /'
echo $$
"""
    r = private_shm(script, tmp_path)
    lines = r.stdout.splitlines()
    dead, me = lines[0], lines[-1]
    assert lines[1:3] == [
        f"removed /dev/shm/gmtrace.{dead}.0123456789abcdef: process {dead} ended before its "
        "log had a header; it held no record", "rc=0"], r.stdout
    # (a FIFO, and a pid not in plain digits, are not a log of zeros)
    assert sorted(lines[3:-1]) == sorted([f"left gmtrace.{dead}.fedcba9876543210",
                                          f"left gmtrace.{me}.0123456789abcdef",
                                          f"left gmtrace.{dead}.f1f0",
                                          f"left gmtrace.+{dead}.0123456789abcdef"]), r.stdout
    assert sorted(r.stderr.splitlines()) == sorted([
        f"gmtrace recover: /gmtrace.{dead}.fedcba9876543210: not a gmtrace log",
        f"gmtrace recover: /gmtrace.{me}.0123456789abcdef: not a gmtrace log",
        f"gmtrace recover: /gmtrace.{dead}.f1f0: not a gmtrace log",
        f"gmtrace recover: /gmtrace.+{dead}.0123456789abcdef: not a gmtrace log"])


def test_recover_capture_naming_a_bad_log(tmp_path, game_assets):
    bad = tmp_path / "bad.gmt"
    data = bytearray(game_assets.read_bytes())
    name = b"/gmtrace.not-a-log"
    data[32:80] = name + bytes(48 - len(name))  # gm_file_header_t.shm_name
    bad.write_bytes(bytes(data))
    r = private_shm(f"echo junk > /dev/shm{name.decode()}\n{GMTRACE} recover {bad}\n",
                    tmp_path)
    assert one_failure_line(r, "recover of a capture naming junk") == (
        "gmtrace recover: /gmtrace.not-a-log: not a gmtrace log")


def test_recover_scan_fails_when_an_orphan_cannot_be_recovered(tmp_path):
    d = tmp_path
    script = f"""
{preload_prefix(d)} {fx('fx_killme')} abort {d}/abort.json 2000 >/dev/null 2>&1
rm -f {d}/fx_killme.*.gmt
{GMTRACE} recover
"""
    r = private_shm(script, tmp_path)
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert "left in place" in r.stderr, r.stderr
    assert "no orphaned gmtrace logs" not in r.stdout, r.stdout
