"""gc_game.py - exactly K garbage collections, each recorded by gmtrace.py

    gc_game.py [--collections K] [--pygame]

Automatic collection is disabled before anything else; then, K times, some
reference cycles are made garbage (10 * i two-list cycles before collection
i) and gc.collect(generation) runs for generation i % 3. A gc callback of
the script's own, registered after gmtrace's, notes what each collection
reported (generation, collected, uncollectable) and the script times every
gc.collect() call. --pygame also opens a window and flips once per
collection, so the collections fall in distinct frames.

Prints one JSON line: the K runs as the script saw them.
"""
import gc

gc.disable()  # first: no automatic collection from here on

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "interpose" / "python"))
import gmtrace  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--collections", type=int, default=7)
    ap.add_argument("--pygame", action="store_true")
    args = ap.parse_args()
    seen = []

    def note(phase, info):
        if phase == "stop":
            seen.append({"generation": info["generation"], "collected": info["collected"],
                         "uncollectable": info["uncollectable"]})
    gc.callbacks.append(note)
    if args.pygame:
        os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
        import pygame
        pygame.display.init()
        pygame.display.set_mode((32, 32))
    runs = []
    for i in range(args.collections):
        for _ in range(10 * i):
            a, b = [], []
            a.append(b)
            b.append(a)
        a = b = None
        t0 = time.perf_counter_ns()
        found = gc.collect(i % 3)
        ns = time.perf_counter_ns() - t0
        runs.append(dict(seen[-1], returned=found, wall_ns=ns, made=20 * i))
        if args.pygame:
            pygame.display.flip()
    gc.callbacks.remove(note)
    if args.pygame:
        pygame.quit()
    print(json.dumps({"script": "gc_game", "collections": len(runs), "runs": runs,
                      "seen": len(seen), "gmtrace": gmtrace.enabled()}), flush=True)


if __name__ == "__main__":
    main()
