"""po_support.py - what the pool tests share

Paths into the build tree, running a pool fixture with libgmtrace preloaded
in the child's environment only (the test runner is never preloaded), and
running `gmtrace pools` on its capture.

The build tree comes from GM_BUILD_DIR (set by ctest), else <source>/build.
"""
import json
import os
import subprocess
from pathlib import Path

import pytest

SOURCE_DIR = Path(os.environ.get("GM_SOURCE_DIR", Path(__file__).resolve().parents[2]))
BUILD_DIR = Path(os.environ.get("GM_BUILD_DIR", SOURCE_DIR / "build"))
LIB = BUILD_DIR / "interpose" / "libgmtrace.so"
GMTRACE = BUILD_DIR / "analysis" / "gmtrace"
FIXTURES = BUILD_DIR / "tests" / "pools"


def _env(outdir=None, extra=None):
    """The runner's environment without LD_PRELOAD or GMTRACE_*; with an
    outdir, libgmtrace is preloaded and the capture goes there."""
    env = {k: v for k, v in os.environ.items()
           if k != "LD_PRELOAD" and not k.startswith("GMTRACE_")}
    if outdir is not None:
        env.update({"LD_PRELOAD": str(LIB),
                    "GMTRACE_OUTPUT": str(Path(outdir) / "%e.%p.gmt"),
                    "GMTRACE_QUIET": "1"})
    env.update(extra or {})
    return env


class Run:
    """One fixture run: its JSON line and its capture."""

    def __init__(self, line, capture):
        self.line, self.capture = line, capture


def run_fixture(name, args, outdir, env=None, timeout=60):
    """Runs po_<name> ARGS under libgmtrace in outdir; it must exit 0, print
    one fixture line and leave one capture."""
    exe = FIXTURES / name
    if not exe.exists():
        pytest.fail(f"{exe} is missing: build the tree ({BUILD_DIR}) first")
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    before = set(outdir.glob("*.gmt"))
    r = subprocess.run([str(exe)] + [str(a) for a in args], env=_env(outdir, env),
                       cwd=str(outdir), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    err = r.stderr.decode("utf-8", "replace")
    assert r.returncode == 0, f"{name} {args}: rc {r.returncode}: {err}"
    lines = [json.loads(l) for l in r.stdout.decode().splitlines() if l.startswith("{")]
    assert len(lines) == 1, f"{name}: expected one JSON line, got {r.stdout!r}"
    new = sorted(set(outdir.glob("*.gmt")) - before)
    assert len(new) == 1, f"{name}: expected one new capture in {outdir}, got {new}"
    return Run(lines[0], new[0])


def gmtrace(*args, timeout=60):
    """Runs the gmtrace CLI (never preloaded); CompletedProcess, text output."""
    return subprocess.run([str(GMTRACE)] + [str(a) for a in args], env=_env(),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=timeout)


def pools_json(*args):
    """`gmtrace pools --json ARGS` as a dict; it must exit 0."""
    r = gmtrace("pools", "--json", *args)
    assert r.returncode == 0, f"gmtrace pools --json {args}: rc {r.returncode}: {r.stderr[:400]}"
    return json.loads(r.stdout)


def csv_tables(text):
    """`gmtrace pools --csv` output as {table: [row dicts]}."""
    import csv
    import io
    tables = {}
    for block in text.strip("\n").split("\n\n"):
        lines = block.splitlines()
        assert lines[0].startswith("# "), f"table without a '# name' line: {lines[:2]}"
        tables[lines[0][2:]] = list(csv.DictReader(io.StringIO("\n".join(lines[1:]) + "\n")))
    return tables
