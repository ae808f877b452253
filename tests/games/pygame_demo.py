"""pygame_demo.py - a small pygame game bundled with gmtrace (headless-capable)

    python3 tests/games/pygame_demo.py [--frames N] [--fast] [--seed S]
                                       [--loader-thread]

    SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy PYTHONMALLOC=malloc \
        LD_PRELOAD=build/interpose/libgmtrace.so python3 tests/games/pygame_demo.py --fast

Three levels, each with procedurally generated textures (gradients with noise
on top: pygame Surfaces whose pixels SDL allocates with malloc) and sounds
(sine sweeps turned into pygame.mixer.Sound from raw 16-bit samples), a
particle system backed by an object pool, and a texture cache that streams:
every frame draws a window of the level's textures that slides along, so
textures are loaded on a miss and evicted when the cache grows past its
budget. Frames end in pygame.display.flip() only: the game never calls
gmtrace.frame(), gmtrace finds its frames through the SDL present hooks.

With gmtrace (preloaded) the cache is a budget node ("textures", type
"texture", LRU): gmtrace evicts at frame ends through the Python evictor.
Without it the cache keeps itself under the same byte count, so the game does
the same work either way (bench_python.sh compares the two).

--loader-thread loads textures on a loader thread (asset scope there) whose
noise layer is made by a second worker thread attached to the asset; the
main thread picks finished textures up from a queue.

At exit prints one JSON line: frames flipped, windows opened (pygame's
set_mode presents the new window once, before the first flip), frame times
(mean and median, flip to flip), assets loaded/evicted/unloaded, particles,
pool use, and whether gmtrace recorded.
Deterministic for a seed (except, with --loader-thread, load timing).
"""
import argparse
import array
import json
import math
import os
import queue
import random
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "interpose" / "python"))

import gmtrace  # noqa: E402
import pygame  # noqa: E402

WIDTH, HEIGHT = 320, 240
TEX = 128                   # textures are TEX x TEX RGBA (64 KiB of pixels)
TEXTURES_PER_LEVEL = 24
WINDOW = 6                  # textures drawn per frame
SLIDE_EVERY = 10            # frames between two steps of the window
CACHE_BYTES = 12 * TEX * TEX * 4  # soft budget: 12 textures' pixels
# A texture costs more than its pixels: SDL pads the pixel block, jemalloc
# rounds it up to a size class (80 KiB), the Surface and its Python objects.
TEXTURE_COST = TEX * TEX * 4 * 5 // 4
HARD_BYTES = 16 << 20       # the node's heap (well above the soft budget)
POOL_CAPACITY = 200
LEVELS = ("meadow", "caverns", "citadel")


# ---- procedural content ---------------------------------------------------------


def noise_bytes(rng, n):
    """n random bytes (fast: one big integer)."""
    return rng.getrandbits(8 * n).to_bytes(n, "little")


def make_texture(rng, noise=None):
    """A TEX x TEX gradient between two random colours with noise blended on."""
    corners = pygame.Surface((2, 2), pygame.SRCALPHA, 32)
    for x in (0, 1):
        for y in (0, 1):
            corners.set_at((x, y), (rng.randrange(256), rng.randrange(256),
                                    rng.randrange(256), 255))
    surf = pygame.transform.smoothscale(corners, (TEX, TEX))
    if noise is None:
        noise = noise_bytes(rng, TEX * TEX * 4)
    grain = pygame.image.fromstring(noise, (TEX, TEX), "RGBA")
    grain.set_alpha(48)
    surf.blit(grain, (0, 0))
    return surf


def make_sound(rng, seconds=0.25, rate=22050):
    """A sine sweep as raw signed 16-bit mono samples."""
    f0, f1 = rng.uniform(200, 500), rng.uniform(500, 1200)
    n = int(seconds * rate)
    samples = array.array("h", (int(12000 * math.sin(2 * math.pi * (f0 + (f1 - f0) * i / n)
                                                      * i / rate)) for i in range(n)))
    return pygame.mixer.Sound(buffer=samples.tobytes())


# ---- particles ---------------------------------------------------------------------


class Particle:
    __slots__ = ("x", "y", "vx", "vy", "life", "color")


class Particles:
    """Particles from a free list of fixed capacity (gmtrace.Pool says what
    it does); when the list is empty a new Particle comes from the heap."""

    def __init__(self, capacity):
        self.free = [Particle() for _ in range(capacity)]
        self.capacity = capacity
        self.live = []
        self.pool = gmtrace.Pool("particles", 64, capacity)
        self.spawned = self.served = self.overflows = 0

    def resize(self, capacity):
        while len(self.free) < capacity - len(self.live):
            self.free.append(Particle())
        self.capacity = capacity
        self.pool.resize(capacity)

    def spawn(self, rng, x, y, n):
        for _ in range(n):
            if self.free:
                p = self.free.pop()
                self.pool.acquire(True)
                self.served += 1
            else:
                p = Particle()
                self.pool.acquire(False)
                self.overflows += 1
            p.x, p.y = x, y
            p.vx, p.vy = rng.uniform(-2, 2), rng.uniform(-3, 0.5)
            p.life = rng.randrange(20, 60)
            p.color = (255, rng.randrange(100, 256), 40)
            self.live.append(p)
            self.spawned += 1

    def update(self):
        keep = []
        for p in self.live:
            p.life -= 1
            if p.life <= 0:
                back = len(self.free) < self.capacity
                if back:
                    self.free.append(p)
                self.pool.release(back)
                continue
            p.x += p.vx
            p.y += p.vy
            p.vy += 0.1
            keep.append(p)
        self.live = keep

    def draw(self, screen):
        for p in self.live:
            screen.fill(p.color, (int(p.x), int(p.y), 2, 2))


# ---- the texture cache ---------------------------------------------------------------


class TextureCache:
    """Texture name -> Surface, loaded on a miss. Under gmtrace the texture
    budget evicts (evict() is the evictor); without it the cache keeps its
    pixel bytes under the same figure by itself, least recently used first."""

    def __init__(self, rng, loader_thread):
        self.rng = rng
        self.entries = {}          # name -> [surface, asset, last_used_frame]
        self.by_asset = {}         # asset id -> name
        self.lock = threading.RLock()
        self.loaded = self.evicted = self.unloaded = 0
        self.managed = False
        self.pending = set()
        self.loader = Loader(self) if loader_thread else None
        budget = gmtrace.Budget.define("textures", None, CACHE_BYTES, HARD_BYTES)
        if budget and budget.bind_type("texture") and budget.policy("lru") \
                and budget.evictor(self.evict):
            self.managed = True

    def load_now(self, name, seed):
        rng = random.Random(seed)
        with gmtrace.asset(name, "texture") as a:
            surf = make_texture(rng)
        return surf, a

    def add(self, name, surf, a, frame):
        with self.lock:
            self.entries[name] = [surf, a, frame]
            if a.id:
                self.by_asset[a.id] = name
            self.loaded += 1
        a.touch()  # arrived for this frame: not the least recently used

    def get(self, name, seed, frame):
        with self.lock:
            e = self.entries.get(name)
            if e is not None:
                e[2] = frame
                e[1].touch()
                return e[0]
        if self.loader:
            if name not in self.pending:
                self.pending.add(name)
                self.loader.request(name, seed)
            return None
        surf, a = self.load_now(name, seed)
        self.add(name, surf, a, frame)
        return surf

    def collect(self, frame):
        """Textures the loader thread finished. With loads outstanding the
        frame waits for the loader up to 4 ms (as a paced game waits for
        vsync): a loop that never blocks would hand the GIL over only every
        sys.getswitchinterval() and starve the loader."""
        if self.loader:
            for name, surf, a in self.loader.done(0.004 if self.pending else 0):
                self.pending.discard(name)
                self.add(name, surf, a, frame)
                a.release()  # the loader's reference

    def evict(self, asset_id):
        """gmtrace's evictor: unload one texture (its pixels are freed here)."""
        with self.lock:
            name = self.by_asset.pop(asset_id, None)
            with gmtrace.Asset(id=asset_id).unloading():
                if name is not None:
                    del self.entries[name]
            self.evicted += 1

    def trim(self):
        """Without gmtrace: the same budget, kept by the game."""
        if self.managed:
            return
        with self.lock:
            while len(self.entries) * TEXTURE_COST > CACHE_BYTES:
                name = min(self.entries, key=lambda k: self.entries[k][2])
                del self.entries[name]
                self.evicted += 1

    def clear(self):
        """Level end: unload every texture."""
        if self.loader:
            self.loader.drain()
            self.collect(0)
        with self.lock:
            for name in list(self.entries):
                surf, a, _ = self.entries.pop(name)
                with a.unloading():
                    del surf  # the last reference: the pixels go here
                self.by_asset.pop(a.id, None)
                self.unloaded += 1


class Loader:
    """A loader thread (asset scopes there) with a worker thread that makes
    each texture's noise layer while attached to the asset."""

    def __init__(self, cache):
        self.cache = cache
        self.todo = queue.Queue()
        self.finished = queue.Queue()
        self.noise_todo = queue.Queue()
        self.noise_done = queue.Queue()
        self.busy = 0
        self.busy_lock = threading.Lock()
        self.idle = threading.Condition(self.busy_lock)
        self.threads = [threading.Thread(target=self.run, name="loader", daemon=True),
                        threading.Thread(target=self.noise, name="decoder", daemon=True)]
        for t in self.threads:
            t.start()

    def request(self, name, seed):
        with self.busy_lock:
            self.busy += 1
        self.todo.put((name, seed))

    def run(self):
        with gmtrace.tag("loader"):
            while True:
                job = self.todo.get()
                if job is None:
                    self.noise_todo.put(None)
                    return
                name, seed = job
                rng = random.Random(seed)
                with gmtrace.asset(name, "texture") as a:
                    a.ref()  # in flight: not evictable until the game has it
                    self.noise_todo.put((a, seed))
                    noise = self.noise_done.get()
                    surf = make_texture(rng, noise)
                    del noise
                self.finished.put((name, surf, a))
                with self.busy_lock:
                    self.busy -= 1
                    self.idle.notify_all()

    def noise(self):
        while True:
            job = self.noise_todo.get()
            if job is None:
                return
            a, seed = job
            with gmtrace.attach(a):
                data = noise_bytes(random.Random(seed ^ 0x5EED), TEX * TEX * 4)
            self.noise_done.put(data)

    def done(self, wait=0):
        out = []
        if wait:
            try:
                out.append(self.finished.get(timeout=wait))
            except queue.Empty:
                return out
        while True:
            try:
                out.append(self.finished.get_nowait())
            except queue.Empty:
                return out

    def drain(self):
        with self.busy_lock:
            while self.busy:
                self.idle.wait()

    def stop(self):
        self.todo.put(None)
        for t in self.threads:
            t.join()


# ---- the game ----------------------------------------------------------------------------


def load_sounds(rng, level_name):
    sounds = []
    if not pygame.mixer.get_init():
        return sounds
    with gmtrace.tag("audio"):
        for k in range(3):
            with gmtrace.asset("%s/sfx%d" % (level_name, k), "sound") as a:
                snd = make_sound(rng)
            sounds.append((snd, a))
    return sounds


def play_frame(screen, cache, particles, rng, sounds, tiles, level_name, li, f, frame_no,
               seed):
    """One frame's work before the flip. A function of its own so that no
    texture stays referenced from a local variable when an evictor runs."""
    cache.collect(frame_no)
    start = (f // SLIDE_EVERY) % TEXTURES_PER_LEVEL
    with gmtrace.tag("render"):
        screen.fill((20, 20, 30))
        for k in range(WINDOW):
            idx = (start + k) % TEXTURES_PER_LEVEL
            surf = cache.get("%s/tex%02d" % (level_name, idx), seed * 1000 + li * 100 + idx,
                             frame_no)
            if surf is not None:
                row = tiles[k % len(tiles)]
                screen.blit(surf, ((row[0] * 13 + k * 50) % (WIDTH - 64),
                                   (k * 37) % (HEIGHT - 64)), (0, 0, 64, 64))
        with gmtrace.tag("render/particles"):
            particles.draw(screen)
    with gmtrace.tag("gameplay"):
        if f % 5 == 0:
            particles.spawn(rng, rng.randrange(WIDTH), rng.randrange(HEIGHT // 2), 25)
        particles.update()
    if sounds and f % 60 == 0:
        snd, a = sounds[(f // 60) % len(sounds)]
        snd.play()
        a.touch()
        return 1
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=600)
    ap.add_argument("--fast", action="store_true", help="no 60 FPS pacing")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--loader-thread", action="store_true")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    rng = random.Random(args.seed)
    pygame.display.init()
    try:
        pygame.mixer.init(22050, -16, 1)
    except pygame.error:
        pass  # no audio device at all: the game runs silent
    screen = pygame.display.set_mode((WIDTH, HEIGHT))
    windows = 1
    clock = pygame.time.Clock()
    cache = TextureCache(rng, args.loader_thread)
    particles = Particles(POOL_CAPACITY)
    sounds_loaded = played = 0
    flips = 0
    per_level = max(1, args.frames // len(LEVELS))
    frame_times = []  # seconds from one flip to the next (level loads included)
    last = time.perf_counter()

    for li, level_name in enumerate(LEVELS):
        frames_here = per_level if li < len(LEVELS) - 1 else args.frames - per_level * li
        if frames_here <= 0:
            break
        gmtrace.scene(level_name)
        with gmtrace.asset(level_name, "level") as level_asset:
            tiles = [[rng.randrange(TEXTURES_PER_LEVEL) for _ in range(WIDTH // 32)]
                     for _ in range(HEIGHT // 32)]
        sounds = load_sounds(rng, level_name)
        sounds_loaded += len(sounds)
        if li == 2:
            particles.resize(POOL_CAPACITY * 2)
        for f in range(frames_here):
            pygame.event.pump()
            played += play_frame(screen, cache, particles, rng, sounds, tiles, level_name, li, f,
                                 flips + 1, args.seed)
            cache.trim()
            pygame.display.flip()
            flips += 1
            now = time.perf_counter()
            frame_times.append(now - last)
            last = now
            if not args.fast:
                clock.tick(60)
        cache.clear()
        while sounds:
            snd, a = sounds.pop()
            with a.unloading():
                snd.stop()
                del snd
        with level_asset.unloading():
            del tiles

    if cache.loader:
        cache.loader.stop()
    seconds = time.perf_counter() - t0
    summary = {
        "game": "pygame_demo", "frames": flips, "windows": windows,
        "levels": len(LEVELS), "seconds": round(seconds, 3),
        "frame_ms_mean": round(1e3 * sum(frame_times) / max(1, len(frame_times)), 4),
        "frame_ms_p50": round(1e3 * sorted(frame_times)[len(frame_times) // 2], 4)
        if frame_times else 0,
        "textures_loaded": cache.loaded, "textures_evicted": cache.evicted,
        "textures_unloaded": cache.unloaded, "sounds_loaded": sounds_loaded,
        "sounds_played": played, "particles_spawned": particles.spawned,
        "pool_served": particles.served, "pool_overflows": particles.overflows,
        "budget_managed": cache.managed, "loader_thread": bool(args.loader_thread),
        "gmtrace": gmtrace.enabled(),
    }
    pygame.quit()
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
