"""arena_game.py - small Python objects, many pymalloc arenas

    arena_game.py [--no-module]

Imports gmtrace (unless --no-module: libgmtrace wraps pymalloc's arena
allocator when it is preloaded, module or not), then builds 200,000 two-int tuples under the tag "arenas/objects" - all
small objects, served from pymalloc's arenas when PYTHONMALLOC=pymalloc -
and drops them. Prints one JSON line: whether arenas are recorded, and the
bytes those objects take in pymalloc's 16-byte size classes (GC header
included), so the test can say how many arenas they need at least.
"""
import contextlib
import gc
import json
import sys
from pathlib import Path

if "--no-module" not in sys.argv:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "interpose" / "python"))
    import gmtrace
else:
    gmtrace = None

N = 200_000


def main():
    gc.disable()  # collections would only add noise to the arena traffic
    with gmtrace.tag("arenas/objects") if gmtrace else contextlib.nullcontext():
        keep = [(i + 1000, i + 2000) for i in range(N)]
    unique = {id(x): x for t in keep for x in (t,) + t}  # ints repeat across tuples
    objects = sum((sys.getsizeof(x) + 15) // 16 * 16 for x in unique.values())
    del unique
    del keep
    print(json.dumps({"arenas": gmtrace.pymalloc_arenas() if gmtrace else None,
                      "object_bytes": objects}),
          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
