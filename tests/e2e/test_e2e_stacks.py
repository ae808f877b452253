"""test_e2e_stacks.py - a pygame game's call stacks name its Python code

stacks_game.py, recorded with GMTRACE_STACKS and no change to the game: each
bytearray buffer it makes (one malloc of its length + 1) must be found by
`gmtrace stacks` at the Python functions, file and lines that made it (found
by their "# @name" comments), with exact counts and bytes, on the main
thread and on a loader thread; the interpreter's evaluation frames are gone
(PYTHON_STACKS=python) or kept between the Python frames (mixed), or there
are no Python frames at all (c). The game's pygame import alone fills the
writer's stack table: what does not fit is written whole with its
allocation, so no allocation is left without its stack.
"""
import os
import subprocess

import pytest

from e2e_support import LIB, clean_env, dump, gmtrace, gmtrace_json, needs_pygame, \
    run_script, script

pytestmark = needs_pygame
GAME = script("stacks_game.py")
FRAMES, PARTICLES = 12, 5


def marks():
    """Line numbers of the game's "# @name" comments."""
    out = {}
    for n, text in enumerate(GAME.read_text().splitlines(), 1):
        if "# @" in text:
            out[text.split("# @")[1].strip()] = n
    return out


def stacks(cap, *args):
    return gmtrace_json("stacks", "--json", "--top", 0, "--match", "stacks_game.py", *args,
                        cap)


def python_frames(row):
    """(function, file name, line) of a row's Python frames, innermost first."""
    return [(f["function"], os.path.basename(f["file"]), f["line"])
            for f in row["frames"] if f["python"]]


def rows_at(rep, head, maker="PyByteArray_Resize"):
    """Rows whose Python frames start with head, made by the C function maker
    (the bytearrays; the list that holds them is made on the same line)."""
    return [r for r in rep["stacks"] if python_frames(r)[:len(head)] == head
            and (maker is None or r["frames"][0]["function"] == maker)]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    run = run_script(GAME, ["--frames", FRAMES, "--particles", PARTICLES],
                     tmp_path_factory.mktemp("stacks"), env={"GMTRACE_STACKS": "16"})
    return run, stacks(run.capture)


def test_textures_at_their_line_on_each_thread(recorded):
    run, rep = recorded
    m, line = marks(), run.line
    listcomp = ("load_level.<locals>.<listcomp>", "stacks_game.py", m["texture"])
    level = ("load_level", "stacks_game.py", m["texture"])
    main = rows_at(rep, [listcomp, level, ("main", "stacks_game.py", m["main_level"])])
    assert len(main) == 1, [python_frames(r) for r in rows_at(rep, [listcomp], None)]
    (row,) = main
    assert (row["allocations"], row["allocated_bytes"]) == \
        (line["textures"], sum(line["texture"] + i + 1 for i in range(line["textures"])))
    assert row["largest"] == line["texture"] + line["textures"]
    assert row["live_count"] == 0, "main() returned: its textures are gone"
    # the C frame that made the object stays on top, the evaluation loop is gone
    assert not row["frames"][0]["python"] and row["frames"][0]["address"]
    names = [f["function"] for f in row["frames"]]
    assert "_PyEval_EvalFrameDefault" not in names
    assert python_frames(row)[-1][0] == "<module>"

    (loader,) = rows_at(rep, [listcomp, level, ("loader", "stacks_game.py", m["loader"])])
    base = line["texture"] + 100
    assert (loader["allocations"], loader["allocated_bytes"]) == \
        (line["loader"], sum(base + i + 1 for i in range(line["loader"])))
    assert python_frames(loader)[3][:2] == ("Thread.run", "threading.py")


def test_particles_every_frame(recorded):
    run, rep = recorded
    m, line = marks(), run.line
    (row,) = rows_at(rep, [("Particles.spawn.<locals>.<listcomp>", "stacks_game.py",
                            m["particle"]),
                           ("Particles.spawn", "stacks_game.py", m["particle"]),
                           ("main", "stacks_game.py", m["frame"])])
    assert row["allocations"] == line["frames"] * line["particles"] == FRAMES * PARTICLES
    assert row["allocated_bytes"] == FRAMES * PARTICLES * (line["particle"] + 1)
    assert row["largest"] == line["particle"] + 1


def test_error_path_of_the_evaluation_loop(recorded):
    """The UnboundLocalError's message is made under the evaluation
    function's cold part (its error paths, under no symbol): that frame is
    known too, so the allocations still name the game's line."""
    run, rep = recorded
    at = [("trip", "stacks_game.py", marks()["unbound"])]
    # the message, once per raise (other allocations of the raise take other paths)
    rows = rows_at(rep, at, "PyUnicode_FromFormatV")
    assert sum(r["allocations"] for r in rows) == FRAMES, \
        [(r["frames"][0]["function"], r["allocations"]) for r in rows_at(rep, at, None)]
    for r in rows:
        assert python_frames(r)[1] == ("main", "stacks_game.py", marks()["frame"] + 1)


def test_surfaces_under_pygame_and_sdl(recorded):
    run, rep = recorded
    rows = rows_at(rep, [("make_surfaces.<locals>.<listcomp>", "stacks_game.py",
                          marks()["surface"])], None)
    # SDL's pixels: one block of at least 64 x 32 x 4 bytes per surface, made
    # under pygame's C code (not the interpreter's)
    pixels = [r for r in rows if r["largest"] >= 64 * 32 * 4]
    assert sum(r["allocations"] for r in pixels) == run.line["surfaces"], rows
    for r in pixels:
        modules = [os.path.basename(f["module"] or "") for f in r["frames"]]
        assert any(mod.startswith("surface.cpython") for mod in modules), modules


def test_no_allocation_without_its_stack(recorded):
    run, _ = recorded
    rep = gmtrace_json("stacks", "--json", "--top", 1, "--no-symbols", run.capture)
    s = gmtrace_json("summary", "--json", run.capture)
    assert rep["without_stack"] == 0 and rep["not_kept"] == 0
    assert rep["allocations"] == s["allocations"]
    # the import of pygame alone makes more stacks than the table takes
    assert rep["written_whole"] > 0
    assert rep["stacks_recorded"] > 30000


def test_pycode_records_name_the_functions(recorded):
    run, _ = recorded
    m = marks()
    codes = {(c["name"], os.path.basename(c["file"])): c
             for c in dump(run.capture, ("pycode",))}
    spawn = codes[("Particles.spawn", "stacks_game.py")]
    assert spawn["first_line"] == m["particle"] - 1
    assert codes[("main", "stacks_game.py")]["first_line"] < m["main_level"]


def test_folded_python_lines(recorded):
    run, _ = recorded
    r = gmtrace("stacks", "--folded", "--match", "Particles.spawn", run.capture)
    assert r.returncode == 0, r.stderr
    lines = [x for x in r.stdout.splitlines() if "<listcomp>;PyByteArray_Resize " in x]
    assert len(lines) == 1, r.stdout[:2000]
    assert lines[0].startswith("<module>;main;Particles.spawn;"
                               "Particles.spawn.<locals>.<listcomp>;PyByteArray_Resize ")
    assert lines[0].endswith(" %d" % (FRAMES * PARTICLES * (run.line["particle"] + 1)))


@pytest.mark.parametrize("mode", ["mixed", "c"])
def test_python_stacks_option(tmp_path, mode):
    run = run_script(GAME, ["--frames", 2, "--particles", 3], tmp_path,
                     env={"GMTRACE_STACKS": "24", "GMTRACE_PYTHON_STACKS": mode})
    rep = gmtrace_json("stacks", "--json", "--top", 0, "--match", "PyByteArray_Resize",
                       run.capture)
    texture = [r for r in rep["stacks"] if r["largest"] == run.line["texture"] + 5]
    assert texture, "the textures' row"
    names = [f["function"] for f in texture[0]["frames"]]
    if mode == "c":
        assert not any(f["python"] for r in rep["stacks"] for f in r["frames"])
        assert "_PyEval_EvalFrameDefault" in names
    else:
        # every C frame kept, the Python frames in the evaluation frames' place
        i = names.index("load_level.<locals>.<listcomp>")
        assert names[i + 1] == "load_level"
        assert "_PyEval_EvalFrameDefault" not in names
        assert "_PyObject_MakeTpCall" in names[:i]


def test_another_python_version_keeps_c_frames(tmp_path):
    """A game built on another CPython (here a program that says it is 3.99
    through Py_Version) gets one warning and its C frames."""
    fake = tmp_path / "fake_python.c"
    fake.write_text("#include <stdio.h>\n#include <stdlib.h>\n"
                    "const unsigned long Py_Version = 0x036300f0;\n"
                    "int main(void) { void *p = malloc(100); printf(\"%d\\n\", p != 0);"
                    " free(p); return 0; }\n")
    exe = tmp_path / "fake_python"
    subprocess.run(["cc", "-rdynamic", "-o", str(exe), str(fake)], check=True)
    env = clean_env({"LD_PRELOAD": str(LIB), "GMTRACE_STACKS": "8",
                     "GMTRACE_OUTPUT": str(tmp_path / "f.gmt")})
    r = subprocess.run([str(exe)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=30)
    assert r.returncode == 0 and r.stdout == "1\n", r.stderr
    assert r.stderr.count("this game runs Python 3.99, and gmtrace reads the frames of "
                          "Python 3.11 only") == 1, r.stderr
    rep = gmtrace_json("stacks", "--json", str(tmp_path / "f.gmt"))
    assert rep["allocations"] >= 1 and rep["without_stack"] == 0


def test_same_output_without_gmtrace(tmp_path, recorded):
    run, _ = recorded
    plain = run_script(GAME, ["--frames", FRAMES, "--particles", PARTICLES], tmp_path,
                       preload=False)
    assert plain.line == run.line


def test_code_table_full_is_said(tmp_path):
    """13,000 functions, each made by exec and run once: the writer's code
    table holds 12,288, so some frames name no function (code id 0, their
    line kept) and the exit warning says how many."""
    game = tmp_path / "many_codes.py"
    game.write_text("import json\n"
                    "keep = []\n"
                    "for i in range(13000):\n"
                    "    ns = {}\n"
                    "    exec('def f%d():\\n    return bytearray(700)\\n' % i, ns)\n"
                    "    keep.append(ns['f%d' % i]())\n"
                    "print(json.dumps({'functions': len(keep)}))\n")
    run = run_script(game, [], tmp_path, env={"GMTRACE_STACKS": "4", "GMTRACE_QUIET": "0"},
                     pymalloc=False)
    assert run.line == {"functions": 13000}
    assert "GMTRACE_STACKS: the Python code table was full: " in run.stderr, run.stderr
    rep = gmtrace_json("stacks", "--json", "--top", 0, "--no-symbols", run.capture)
    named = unnamed = 0
    for r in rep["stacks"]:
        py = [f for f in r["frames"] if f["python"]]
        if py and py[0]["line"] == 2 and r["largest"] == 701:
            if py[0]["function"] is None:
                unnamed += r["allocations"]
            else:
                named += r["allocations"]
    assert named + unnamed == 13000 and 0 < unnamed < 13000 - 12000, (named, unnamed)


def test_non_ascii_names_and_a_fork_child(tmp_path):
    """A function and a file named in other scripts (UTF-8 of two, three and
    four bytes in the capture), and a fork child: its own capture defines the
    code objects it names."""
    game = tmp_path / "jeu_éè_🎮.py"
    game.write_text("import json, os\n"
                    "def créer_Ωmega_游戏(n):\n"
                    "    return bytearray(n)  # @make\n"
                    "keep = créer_Ωmega_游戏(30001)\n"
                    "pid = os.fork()\n"
                    "if pid == 0:\n"
                    "    k2 = créer_Ωmega_游戏(30002)\n"
                    "    os._exit(0)\n"
                    "os.waitpid(pid, 0)\n"
                    "print(json.dumps({'done': 1}))\n", encoding="utf-8")
    run_script(game, [], tmp_path, env={"GMTRACE_STACKS": "8"}, pymalloc=False, check=False)
    caps = sorted(tmp_path.glob("*.gmt"))
    assert len(caps) == 2, caps
    seen = {}
    for cap in caps:
        rep = gmtrace_json("stacks", "--json", "--top", 0, "--no-symbols", "--match",
                           "créer_Ωmega_游戏", cap)
        for r in rep["stacks"]:
            py = [f for f in r["frames"] if f["python"]]
            if r["largest"] in (30002, 30003):
                seen[r["largest"]] = (py[0]["function"], os.path.basename(py[0]["file"]),
                                      py[0]["line"])
    assert seen == {30002: ("créer_Ωmega_游戏", "jeu_éè_🎮.py", 3),
                    30003: ("créer_Ωmega_游戏", "jeu_éè_🎮.py", 3)}, seen
