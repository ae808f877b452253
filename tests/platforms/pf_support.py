"""pf_support.py - what the platform tests share

Paths into the build tree, running pf_grow with libgmtrace preloaded in its
environment only (and the tests' made-up profiles on GMTRACE_PLATFORM_PATH),
running `gmtrace`, and reading `gmtrace dump --json` with the frame each
record belongs to (last main frame mark + 1, as every report counts).
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
PF_GROW = BUILD_DIR / "tests" / "platforms" / "pf_grow"
PROFILES = SOURCE_DIR / "tests" / "platforms" / "profiles"
KIB, MIB = 1 << 10, 1 << 20


def env_for(tmp_path, extra=None):
    """The runner's environment without LD_PRELOAD or GMTRACE_*, plus the
    test profiles on the search path and no user profiles."""
    env = {k: v for k, v in os.environ.items()
           if k != "LD_PRELOAD" and not k.startswith("GMTRACE_")}
    env["GMTRACE_PLATFORM_PATH"] = str(PROFILES)
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    env.update(extra or {})
    return env


def grow(tmp_path, args, env=None, preexec=None, name="pf"):
    """Runs pf_grow ARGS preloaded; returns (its JSON line, capture path)."""
    if not PF_GROW.exists():
        pytest.fail(f"{PF_GROW} is missing: build the tree first")
    capture = tmp_path / f"{name}.gmt"
    child = env_for(tmp_path, env)
    child.update({"LD_PRELOAD": str(LIB), "GMTRACE_OUTPUT": str(capture),
                  "GMTRACE_QUIET": "1"})
    p = subprocess.run([str(PF_GROW)] + [str(a) for a in args], env=child,
                       capture_output=True, timeout=40, preexec_fn=preexec)
    assert p.returncode == 0, p.stderr.decode()
    lines = [json.loads(s) for s in p.stdout.decode().splitlines() if s.startswith("{")]
    assert len(lines) == 1, p.stdout
    return lines[0], capture


def gmtrace(tmp_path, *args, rc=0):
    p = subprocess.run([str(GMTRACE)] + [str(a) for a in args], env=env_for(tmp_path),
                       capture_output=True, timeout=60)
    assert p.returncode == rc, (p.returncode, p.stderr.decode())
    return p


def platforms_json(tmp_path, capture, *names):
    return json.loads(gmtrace(tmp_path, "platforms", "--json", capture, *names).stdout)


def memory(report, platform, node):
    """One node (bank, budget or "total") of one platform in a report."""
    for p in report["platforms"]:
        if p["name"] == platform:
            for m in p["memory"]:
                if m["name"] == node:
                    return m
    raise KeyError((platform, node))


def records(tmp_path, capture):
    """Every record of a capture (dump --json), each with "at_frame": the
    frame it belongs to."""
    out, frame = [], 1
    p = gmtrace(tmp_path, "dump", "--json", capture)
    for line in p.stdout.decode().splitlines():
        r = json.loads(line)
        r["at_frame"] = frame
        out.append(r)
        if r["type"] == "frame" and r.get("set", 0) == 0:
            frame = r["frame"] + 1
    return out


def node_names(recs):
    return {r["node"]: r["name"] for r in recs if r["type"] == "budget_node"}
