"""evict_game.py - textures over a budget, evicted by a Python evictor

    evict_game.py --case soft|hard|pinned|thread|nested

Textures are pygame Surfaces of 256x256x32 (SDL allocates their pixels with
malloc, under the asset scope of the load: the budget heap serves them).
First a probe texture (type "probe", its own node) measures what one
texture costs the budget (its live bytes; the pixels rounded to jemalloc's
size class plus the Surface's small blocks), then the case runs with limits
in units of that cost C. Frames end in pygame.display.flip() only (present
hooks); textures are touched in a fixed order so the victims are known:

  soft    node "textures" soft 3.5 C (hard 64 MiB): evictions at frame
          ends, inside display.flip()
  hard    node "total" hard 3.5 C over "textures": the evictor runs inside
          the Surface allocation that would go over (emergency)
  pinned  as hard, with the oldest texture pinned and the next one held by
          a reference: both are skipped
  thread  as hard, but the textures load on a Python loader thread: the
          evictor runs on that thread
  nested  as hard, and the first eviction loads a texture ("scratch") before
          it frees its victim, while the node is over its hard limit: no
          eviction inside the eviction (libgmtrace and the module both
          guard), soft mode lets the allocation through with a violation

Prints one JSON line: the cost, the loaded textures' ids, every eviction
(name, where it ran, on which thread, the node's live bytes before and
after), the deepest nesting of the evictor, and the node snapshot.
"""
import argparse
import json
import os
import sys
import threading
from pathlib import Path

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "interpose" / "python"))
import gmtrace  # noqa: E402
import pygame  # noqa: E402

SIZE = (256, 256)
MiB = 1 << 20

where = "main"         # what the game is doing: "load", "flip", "main"
cache = {}             # name -> Surface
names = {}             # asset id -> name
evictions = []
depth = [0, 0]         # evictor nesting now, deepest seen
lock = threading.RLock()


def live(node):
    snap = node.snapshot()
    return snap["live_bytes"] if snap else 0


def load(name, kind="texture"):
    """A texture's load scope; the cache entry is made outside it."""
    global where
    where = "load"
    with gmtrace.asset(name, kind) as a:
        surf = pygame.Surface(SIZE, 0, 32)
        surf.fill((len(name) * 40 % 256, 80, 160))
    where = "main"
    with lock:
        cache[name] = surf
        names[a.id] = name
    a.touch()
    return a


def flip():
    global where
    where = "flip"
    pygame.display.flip()
    where = "main"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--case", required=True,
                    choices=("soft", "hard", "pinned", "thread", "nested"))
    args = ap.parse_args()
    pygame.display.init()
    pygame.display.set_mode((64, 64))

    probe = gmtrace.Budget.define("probe", None, 0, 64 * MiB)
    probe.bind_type("probe")
    before = live(probe)
    pa = load("probe", "probe")
    cost = live(probe) - before
    with pa.unloading():
        del cache["probe"]
    assert live(probe) == before, (live(probe), before)

    if args.case == "soft":
        node = gmtrace.Budget.define("textures", None, int(3.5 * cost), 64 * MiB)
        watch = node
    else:
        watch = gmtrace.Budget.define("total", None, 0, int(3.5 * cost))
        node = gmtrace.Budget.define("textures", "total", 0, 64 * MiB)
    node.bind_type("texture")
    node.policy("lru", 0, False)
    main_thread = threading.get_ident()

    def evict(asset_id):
        depth[0] += 1
        depth[1] = max(depth[1], depth[0])
        try:
            name = names.get(asset_id, "?%d" % asset_id)
            called_in = where
            start = live(watch)
            if args.case == "nested" and not evictions:
                # a texture as big as the victim, before the victim goes:
                # the node is over its hard limit during this allocation
                load("scratch")
            with lock:
                with gmtrace.Asset(id=asset_id).unloading():
                    cache.pop(name, None)
            evictions.append({"name": name, "id": asset_id, "where": called_in,
                              "thread": "main" if threading.get_ident() == main_thread
                              else threading.current_thread().name,
                              "live_before": start, "live_after": live(watch)})
        finally:
            depth[0] -= 1
    assert node.evictor(evict)

    ids = {}
    if args.case == "thread":
        # the whole story on a loader thread; the main thread only presents
        done = threading.Event()

        def loader():
            for name in ("A", "B", "C"):
                ids[name] = load(name).id
            for a in ("A",):
                gmtrace.Asset(id=ids[a]).touch()
            ids["D"] = load("D").id
            done.set()
        t = threading.Thread(target=loader, name="loader")
        t.start()
        t.join()
        flip()
    else:
        # frame by frame: A, B, C loaded and touched in frames 1..3, A again
        # in frame 4, then D in frame 5 (over the limit), then C and D
        # touched in frame 6, E and F loaded in frame 7
        for name in ("A", "B", "C"):
            ids[name] = load(name).id
            flip()
        if args.case == "pinned":
            gmtrace.Asset(id=ids["A"]).pin(True)   # oldest after B... never goes
            gmtrace.Asset(id=ids["B"]).ref()       # held: never goes
        gmtrace.Asset(id=ids["A"]).touch()
        flip()
        ids["D"] = load("D").id
        flip()
        for name in ("C", "D"):
            gmtrace.Asset(id=ids[name]).touch()
        flip()
        for name in ("E", "F"):
            ids[name] = load(name).id
        flip()

    print(json.dumps({"case": args.case, "cost": cost, "ids": ids,
                      "evictions": evictions, "depth_max": depth[1],
                      "resident": sorted(cache), "node": watch.snapshot(),
                      "gmtrace": gmtrace.enabled()}), flush=True)
    pygame.quit()


if __name__ == "__main__":
    main()
