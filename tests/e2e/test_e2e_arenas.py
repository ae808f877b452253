"""test_e2e_arenas.py - pymalloc's arenas as allocation records

With PYTHONMALLOC=pymalloc the small objects of arena_game.py never reach
malloc; libgmtrace wraps the interpreter's arena allocator when it starts
(and gmtrace.py makes sure at import), with or without the module, so the
capture must hold one pymalloc_arena alloc per arena CPython mapped
(records of its fixed arena size), enough arenas for the objects built, and
their frees once the objects are gone. With PYTHONMALLOC=malloc there are
no arenas at all (only the interpreter's data-stack chunks).
"""
import sys

import pytest

from e2e_support import dump, run_script, script

# CPython's ARENA_SIZE: 1 MiB since 3.10 (with the radix tree), 256 KiB before.
ARENA = 1 << 20 if sys.version_info >= (3, 10) else 256 << 10


def arena_records(capture):
    """Records of CPython's arena allocator that are pymalloc arenas: since
    3.11 the interpreter also takes its frames' data-stack chunks (16 KiB
    and up, never a whole arena here) from that allocator."""
    evs = dump(capture, ("alloc", "free"))
    return [e for e in evs if e.get("kind") == "pymalloc_arena" and e["size"] == ARENA]


@pytest.mark.parametrize("args", [[], ["--no-module"]], ids=["module", "no-module"])
def test_pymalloc_arenas_are_recorded(tmp_path, args):
    run = run_script(script("arena_game.py"), args, tmp_path, pymalloc=False,
                     env={"PYTHONMALLOC": "pymalloc"})
    assert run.line["arenas"] is (None if args else True)
    recs = arena_records(run.capture)
    allocs = [e for e in recs if e["type"] == "alloc"]
    frees = [e for e in recs if e["type"] == "free"]
    # The objects fit in no fewer arenas than their bytes fill (pool headers
    # and partly used pools only add); two arenas' slack for space free in
    # arenas mapped before the import.
    need = run.line["object_bytes"] // ARENA
    assert need >= 20, run.line
    assert len(allocs) >= need - 2, (len(allocs), need)
    # Given back once the objects are gone: the arenas they filled, but for
    # two that may share pools with objects the interpreter keeps (arenas
    # the interpreter itself fills stay mapped).
    mine = {e["ptr"] for e in allocs}
    freed = [e for e in frees if e["ptr"] in mine]
    assert len(freed) >= need - 2, (len(freed), need)
    # Wrapped from the interpreter's start: every arena freed was seen mapped.
    assert len(freed) == len(frees), [e for e in frees if e["ptr"] not in mine]


def test_no_arenas_with_pythonmalloc_malloc(tmp_path):
    run = run_script(script("arena_game.py"), [], tmp_path)
    assert run.line["arenas"] is True
    assert arena_records(run.capture) == []
