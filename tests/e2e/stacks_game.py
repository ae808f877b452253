"""stacks_game.py - a pygame game whose allocations are made at known lines

    stacks_game.py [--frames N] [--particles K]

No gmtrace import: recorded with GMTRACE_STACKS, each allocation's stack
must name the Python function, file and line that made it. Every buffer is
a bytearray, which CPython allocates with one malloc of its length + 1 (with
or without pymalloc: they are over 512 bytes), at these lines (the test
finds them by their "# @name" comments):
  load_level    TEXTURES textures of TEXTURE + i bytes, kept to the end
                (main thread), and LOADER of them on a loader thread
  Particles.spawn  K particles of PARTICLE bytes a frame, dropped the next
                frame, the last frame's at the end
  make_surfaces SURFACES pygame surfaces of 64 x 32 pixels (SDL's pixels)
  trip          an UnboundLocalError a frame, caught: its message is made by
                the interpreter's error path, which the compiler moved out of
                the evaluation function (the stack must still name the line)
Prints one JSON line with the counts.
"""
import argparse
import json
import os
import threading

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame  # noqa: E402

TEXTURE = 200_003
TEXTURES = 5
LOADER = 3
PARTICLE = 1_537
SURFACES = 4


def load_level(n, base):
    return [bytearray(base + i) for i in range(n)]  # @texture


def make_surfaces(n):
    return [pygame.Surface((64, 32)) for _ in range(n)]  # @surface


class Particles:
    def __init__(self):
        self.live = []

    def spawn(self, k):
        self.live = [bytearray(PARTICLE) for _ in range(k)]  # @particle


def trip():
    try:
        del unbound_here  # @unbound
    except UnboundLocalError:
        pass
    unbound_here = 1
    return unbound_here


def loader(out):
    out.extend(load_level(LOADER, TEXTURE + 100))  # @loader


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=20)
    ap.add_argument("--particles", type=int, default=7)
    args = ap.parse_args()
    pygame.display.init()
    screen = pygame.display.set_mode((64, 48))
    textures = load_level(TEXTURES, TEXTURE)  # @main_level
    streamed = []
    t = threading.Thread(target=loader, args=(streamed,))
    t.start()
    t.join()
    surfaces = make_surfaces(SURFACES)
    particles = Particles()
    for _ in range(args.frames):
        for _ in pygame.event.get():
            pass
        particles.spawn(args.particles)  # @frame
        trip()
        screen.fill((0, 0, 0))
        pygame.display.flip()
    print(json.dumps({"script": "stacks_game", "frames": args.frames,
                      "particles": args.particles, "texture": TEXTURE,
                      "textures": len(textures), "loader": len(streamed),
                      "particle": PARTICLE, "surfaces": len(surfaces)}), flush=True)
    pygame.quit()


if __name__ == "__main__":
    main()
