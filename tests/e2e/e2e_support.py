"""e2e_support.py - what the end-to-end (Python game) tests share

Paths into the build and source trees; running a Python script with
libgmtrace preloaded in the child's environment only (the test runner is
never preloaded) together with PYTHONMALLOC=malloc (so Python's objects are
malloc calls gmtrace sees) and SDL's dummy video and audio drivers; reading
its one JSON line and its capture; and the `gmtrace` CLI views the tests
compare with (`frames --json`, `summary --json`, `pools --json`,
`assets --json`, and `dump --json` filtered by record type before parsing,
which keeps a two-million-event capture to a couple of seconds).

The build tree comes from GM_BUILD_DIR (set by ctest), else <source>/build.
"""
import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
SOURCE_DIR = Path(os.environ.get("GM_SOURCE_DIR", HERE.parents[1]))
BUILD_DIR = Path(os.environ.get("GM_BUILD_DIR", SOURCE_DIR / "build"))
LIB = BUILD_DIR / "interpose" / "libgmtrace.so"
GMTRACE = BUILD_DIR / "analysis" / "gmtrace"
PYTHON = "/usr/bin/python3"
MODULE_DIR = SOURCE_DIR / "interpose" / "python"
DEMO = SOURCE_DIR / "tests" / "games" / "pygame_demo.py"

# Headless SDL (no display, no sound card) and no pygame banner on stdout.
SDL_ENV = {"SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy",
           "PYGAME_HIDE_SUPPORT_PROMPT": "1"}


def script(name):
    """Path of a script in tests/e2e."""
    return HERE / name


def clean_env(extra=None):
    """The runner's environment without LD_PRELOAD, GMTRACE_* or PYTHON*
    settings that would change the child (PYTHONPATH, PYTHONMALLOC...)."""
    env = {k: v for k, v in os.environ.items()
           if k != "LD_PRELOAD" and not k.startswith("GMTRACE_")
           and k not in ("PYTHONPATH", "PYTHONMALLOC", "PYTHONSTARTUP")}
    env.update(extra or {})
    return env


def have_pygame():
    """True when the system Python can import pygame."""
    r = subprocess.run([PYTHON, "-c", "import pygame"], env=clean_env(SDL_ENV),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return r.returncode == 0


needs_pygame = pytest.mark.skipif(not have_pygame(), reason=f"{PYTHON} has no pygame")


class Run:
    """One script run: rc, line (its JSON summary line, or None), stdout and
    stderr text, capture (the .gmt path, or None without the preload), and
    the wall time in seconds."""

    def __init__(self, rc, line, stdout, stderr, capture, seconds):
        self.rc, self.line, self.stdout, self.stderr = rc, line, stdout, stderr
        self.capture, self.seconds = capture, seconds


def run_script(path, args, outdir, preload=True, env=None, pymalloc=True, timeout=120,
               check=True):
    """Runs `python3 PATH ARGS` in outdir (preloaded unless told otherwise,
    PYTHONMALLOC=malloc unless pymalloc=False). With check, the run must
    exit 0, print exactly one JSON line and, preloaded, leave one capture."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    if preload and not LIB.exists():
        pytest.fail(f"{LIB} is missing: build the tree ({BUILD_DIR}) first")
    e = clean_env(SDL_ENV)
    if pymalloc:
        e["PYTHONMALLOC"] = "malloc"
    if preload:
        e.update({"LD_PRELOAD": str(LIB), "GMTRACE_OUTPUT": str(outdir / "%e.%p.gmt"),
                  "GMTRACE_QUIET": "1"})
    e.update(env or {})
    before = set(outdir.glob("*.gmt"))
    t0 = time.monotonic()
    r = subprocess.run([PYTHON, str(path)] + [str(a) for a in args], env=e, cwd=str(outdir),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    seconds = time.monotonic() - t0
    out = r.stdout.decode("utf-8", "replace")
    err = r.stderr.decode("utf-8", "replace")
    lines = [json.loads(s) for s in out.splitlines() if s.startswith("{")]
    line = lines[-1] if lines else None
    capture = None
    new = sorted(set(outdir.glob("*.gmt")) - before)
    if preload and len(new) == 1:
        capture = new[0]
    if check:
        assert r.returncode == 0, f"{path.name} {args}: rc {r.returncode}\n{err}"
        assert len(lines) == 1, f"{path.name}: expected one JSON line, got {out!r}\n{err}"
        if preload:
            assert len(new) == 1, f"{path.name}: expected one new capture, got {new}"
    return Run(r.returncode, line, out, err, capture, seconds)


def gmtrace(*args, timeout=120):
    """Runs the gmtrace CLI (never preloaded); CompletedProcess, text output."""
    return subprocess.run([str(GMTRACE)] + [str(a) for a in args], env=clean_env(),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=timeout)


def gmtrace_json(*args):
    """`gmtrace ARGS` that must exit 0 and print one JSON object."""
    r = gmtrace(*args)
    assert r.returncode == 0, f"gmtrace {args}: rc {r.returncode}: {r.stderr}"
    return json.loads(r.stdout)


def dump(path, types):
    """The events of `gmtrace dump --json path` whose type is in types, as
    dicts in capture order (other lines are skipped before parsing)."""
    keys = tuple('"type":"%s"' % t for t in types)
    proc = subprocess.Popen([str(GMTRACE), "dump", "--json", str(path)], env=clean_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out = []
    try:
        for line in proc.stdout:
            if any(k in line for k in keys):
                ev = json.loads(line)
                if ev["type"] in types:
                    out.append(ev)
        err = proc.stderr.read()
        rc = proc.wait(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    assert rc == 0, f"gmtrace dump {path}: rc {rc}: {err}"
    return out


def main_frames(path):
    """Main frame records (set 0) of a capture, from `gmtrace frames --json`."""
    return gmtrace_json("frames", "--json", path)["frames"]


_SIZE = re.compile(r'"size":(\d+)')


def sized_allocations(path, sizes):
    """Allocations (alloc and realloc events) of exactly one of sizes, each
    as a dict: thread (capture index), os_tid, asset and tag current on
    that thread (from its context records), size. Every other event is
    skipped after a substring test, so a large capture stays quick."""
    sizes = set(sizes)
    ctx, tids, out = {}, {}, []
    proc = subprocess.Popen([str(GMTRACE), "dump", "--json", str(path)], env=clean_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for line in proc.stdout:
            if '"type":"alloc"' in line or '"type":"realloc"' in line:
                m = _SIZE.search(line)
                if not m or int(m.group(1)) not in sizes:
                    continue
                ev = json.loads(line)
                th = ev["thread"]
                asset, tag = ctx.get(th, (0, 0))
                out.append({"thread": th, "os_tid": tids.get(th), "asset": asset, "tag": tag,
                            "size": ev["size"]})
            elif '"type":"context"' in line:
                ev = json.loads(line)
                ctx[ev["thread"]] = (ev["asset"], ev["tag"])
            elif '"type":"thread_start"' in line:
                ev = json.loads(line)
                tids[ev["thread"]] = ev["os_tid"]
        err = proc.stderr.read()
        rc = proc.wait(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    assert rc == 0, f"gmtrace dump {path}: rc {rc}: {err}"
    return out
