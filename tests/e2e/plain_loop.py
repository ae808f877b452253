"""plain_loop.py - a plain pygame game loop that knows nothing of gmtrace

    plain_loop.py [--frames N] [--present flip|update|rects|mixed]

No gmtrace import, no marker: under the preload its frames must be found by
the SDL present hooks alone. Each frame polls events, moves a few hundred
Python objects (sprites in a list, rebuilt every frame: plenty of small
allocations with PYTHONMALLOC=malloc), draws them and presents once:
  flip    pygame.display.flip()            (SDL_UpdateWindowSurface)
  update  pygame.display.update()          (the same call)
  rects   pygame.display.update(dirty)     (SDL_UpdateWindowSurfaceRects)
  mixed   the three in turn
Prints one JSON line: frames presented by the loop ("flips") and windows
opened ("windows": pygame's set_mode presents a new window once itself).
"""
import argparse
import json
import os
import random
import time

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--present", default="flip", choices=("flip", "update", "rects", "mixed"))
    # no event pump in the loop (pygame's set_mode pumps once; the pause
    # after it is longer than the 250 ms a pumping game is given)
    ap.add_argument("--no-pump", action="store_true")
    args = ap.parse_args()
    rng = random.Random(7)
    pygame.display.init()
    screen = pygame.display.set_mode((200, 150))
    sprites = [[rng.uniform(0, 200), rng.uniform(0, 150), rng.uniform(-1, 1),
                rng.uniform(-1, 1)] for _ in range(300)]
    modes = ("flip", "update", "rects")
    flips = 0
    if args.no_pump:
        time.sleep(0.3)
    for f in range(args.frames):
        for _ in (() if args.no_pump else pygame.event.get()):
            pass
        screen.fill((0, 0, 0))
        sprites = [[(x + vx) % 200, (y + vy) % 150, vx, vy] for x, y, vx, vy in sprites]
        dirty = [pygame.Rect(int(x), int(y), 3, 3) for x, y, _, _ in sprites[:40]]
        for r in dirty:
            screen.fill((200, 200, 50), r)
        mode = args.present if args.present != "mixed" else modes[f % 3]
        if mode == "flip":
            pygame.display.flip()
        elif mode == "update":
            pygame.display.update()
        else:
            pygame.display.update(dirty)
        flips += 1
    pygame.quit()
    print(json.dumps({"script": "plain_loop", "flips": flips, "windows": 1,
                      "present": args.present}), flush=True)


if __name__ == "__main__":
    main()
