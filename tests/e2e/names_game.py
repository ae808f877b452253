"""names_game.py - names with line breaks and tabs in them

    names_game.py

A game may name anything with any bytes. Here a pool, a budget node, a
scene per frame, a tag, an asset and its type have a line feed, a carriage
return or a tab inside; three frames, each allocating under the tag and
loading the asset, taking four objects from a pool of two. Prints one JSON
line: the frames made.
"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "interpose" / "python"))
import gmtrace  # noqa: E402

FRAMES = 3


def main():
    keep = []
    pool = gmtrace.Pool("po\nol", 64, 2)
    gmtrace.Budget.define("bud\rget", soft=1 << 20, hard=1 << 30)
    for f in range(FRAMES):
        gmtrace.scene("sce\nne %d" % f)
        with gmtrace.tag("weird\nname\ttab"):
            keep.append(bytearray(100000))
        with gmtrace.asset("asset\nwith newline %d" % f, "tex\nture"):
            keep.append(bytearray(50000))
        # names longer than their columns (cut, not pushing the row right)
        with gmtrace.tag("engine/" + "streaming_" * 6 + "tag"):
            with gmtrace.asset("levels/" + "sector_" * 8 + "%d.map" % f,
                               "engine_" * 6 + "texture2d_array"):
                keep.append(bytearray(20000))
        for i in range(4):
            pool.acquire(i < 2)
        for i in range(4):
            pool.release(i < 2)
        gmtrace.frame()
    print(json.dumps({"frames": FRAMES}))


if __name__ == "__main__":
    main()
