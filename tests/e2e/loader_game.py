"""loader_game.py - a pygame game whose assets load on a Python loader thread

    loader_game.py [--assets N]

The main thread presents frames (display.flip()) and takes finished assets
from a queue. A loader thread opens each asset's load scope
(gmtrace.asset, tag "loader") and makes its surface and a header buffer; a
decoder thread, attached to the asset (gmtrace.attach), makes its data
buffer. The main thread touches the assets it has and at the end unloads
them all (frees inside asset.unloading()).

Buffers have sizes by the fixtures' size rule (tests/fixtures/README.md:
s % 4096 == 1771, s >= 5867), counting the one byte bytearray adds, so the
tests find them among Python's own allocations:
  asset i: header bytearray -> malloc(5867 + 4096 * i)       on the loader
           data bytearray   -> malloc(5867 + 4096 * (i + 32)) on the decoder
Prints one JSON line: flips, windows, per asset its id, name and sizes, and
the kernel thread ids of the loader and decoder threads.
"""
import argparse
import json
import os
import queue
import sys
import threading
from pathlib import Path

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "interpose" / "python"))
import gmtrace  # noqa: E402
import pygame  # noqa: E402


def header_size(i):
    return 5867 + 4096 * i


def data_size(i):
    return 5867 + 4096 * (i + 32)


def frame(screen, finished, have):
    """One frame: take a finished asset if one comes within 50 ms, draw all.
    (A function, so that no local keeps an asset's objects alive.)"""
    try:
        job = finished.get(timeout=0.05)
        have[job[0]] = job[1:]
    except queue.Empty:
        pass
    screen.fill((0, 0, 0))
    for k, (a, surf, _, _) in sorted(have.items()):
        a.touch()
        screen.blit(surf, (k * 8 % 32, 0))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--assets", type=int, default=8)
    args = ap.parse_args()
    pygame.display.init()
    screen = pygame.display.set_mode((96, 64))
    requests, finished = queue.Queue(), queue.Queue()
    decode_in, decode_out = queue.Queue(), queue.Queue()
    tids = {}

    def decoder():
        tids["decoder"] = threading.get_native_id()
        while True:
            job = decode_in.get()
            if job is None:
                return
            a, i = job
            with gmtrace.attach(a):
                data = bytearray(data_size(i) - 1)
            decode_out.put(data)

    def loader():
        tids["loader"] = threading.get_native_id()
        with gmtrace.tag("loader"):
            while True:
                i = requests.get()
                if i is None:
                    decode_in.put(None)
                    return
                with gmtrace.asset("level/tex%d" % i, "texture") as a:
                    surf = pygame.Surface((64, 64), 0, 32)
                    header = bytearray(header_size(i) - 1)
                    decode_in.put((a, i))
                    data = decode_out.get()
                finished.put((i, a, surf, header, data))

    threads = [threading.Thread(target=decoder, name="decoder"),
               threading.Thread(target=loader, name="loader")]
    for t in threads:
        t.start()
    for i in range(args.assets):
        requests.put(i)
    requests.put(None)

    have, flips = {}, 0
    while len(have) < args.assets:
        frame(screen, finished, have)
        pygame.display.flip()
        flips += 1
    for t in threads:
        t.join()
    assets = []
    for i in sorted(have):
        a = have[i][0]
        assets.append({"index": i, "id": a.id, "name": "level/tex%d" % i,
                       "header": header_size(i), "data": data_size(i)})
    for i in sorted(have):
        with have[i][0].unloading():
            del have[i]  # surface, header and data go here
    pygame.display.flip()
    flips += 1
    pygame.quit()
    print(json.dumps({"script": "loader_game", "flips": flips, "windows": 1, "assets": assets,
                      "tids": tids, "gmtrace": gmtrace.enabled()}), flush=True)


if __name__ == "__main__":
    main()
