"""The host's real limits: recorded in the capture, and the profiler keeps
working when the game runs out of them.

RLIMIT_AS can always be lowered for a child, so those tests always run. A
memory-limited cgroup needs a writable cgroup tree (v2, or v1's memory
controller); where the machine does not allow one the test says why and
skips.
"""
import json
import os
import resource
import subprocess
import uuid
from pathlib import Path

import pytest

from pf_support import MIB, grow, memory, platforms_json, records

LIMIT = 2 << 30  # RLIMIT_AS for the fixture: room for the profiler, not for 64 MiB x 40


def lower_as():
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT))


def test_the_host_record_says_what_the_machine_allows(tmp_path):
    line, cap = grow(tmp_path, ["main", 4, 64], preexec=lower_as)
    assert line["main"]["blocks"] == 4
    host = [r for r in records(tmp_path, cap) if r["type"] == "host"]
    assert len(host) == 1
    assert host[0]["rlimit_as"] == LIMIT
    with open("/proc/meminfo") as f:
        total = int(f.readline().split()[1]) * 1024
    assert host[0]["mem_total"] == total
    with open("/proc/sys/vm/overcommit_memory") as f:
        assert host[0]["overcommit"] == int(f.read())
    rep = platforms_json(tmp_path, cap, "switch")
    assert rep["host"]["rlimit_as"] == LIMIT
    assert rep["host"]["mem_total"] == total


def test_running_out_of_address_space_is_recorded_and_survived(tmp_path):
    # 64 MiB blocks until RLIMIT_AS says no: the game sees NULL (ENOMEM),
    # the profiler records the failure without the game's heap, the game
    # frees half and allocates again, and every record is there
    line, cap = grow(tmp_path, ["host", 40], preexec=lower_as)
    n = line["main"]["blocks"]
    assert 8 <= n < 32, line  # 2 GiB holds some 64 MiB blocks, not 32
    assert line["main"]["null_frame"] == n + 1
    assert line["main"]["enomem"] and line["main"]["recovered"]
    recs = records(tmp_path, cap)
    big = [r for r in recs if r["type"] == "alloc" and r["size"] == 64 * MIB]
    assert len(big) == n + 1  # n before the failure, 1 in the recovery
    assert all(r["at_frame"] <= n for r in big[:n])
    fails = [(r["at_frame"], r["size"]) for r in recs if r["type"] == "fail"]
    assert fails == [(n + 1, 64 * MIB)]
    frees = [r for r in recs if r["type"] == "free" and r["at_frame"] > n]
    assert len(frees) >= (n + 1) // 2 + 1
    rep = platforms_json(tmp_path, cap, "switch")
    assert rep["failed_allocations"] == {"count": 1, "first_frame": n + 1,
                                         "first_size": 64 * MIB}


def _cgroup_dir():
    """A writable memory cgroup directory to make a child in, and its
    version; or a reason why there is none."""
    try:
        with open("/proc/self/cgroup") as f:
            lines = f.read().splitlines()
        with open("/proc/self/mountinfo") as f:
            mounts = f.read().splitlines()
    except OSError as e:
        return None, None, f"cannot read /proc: {e}"
    v2 = next((ln.split("::", 1)[1] for ln in lines if ln.startswith("0::")), None)
    v1 = next((ln.split(":", 2)[2] for ln in lines
               if "memory" in ln.split(":", 2)[1].split(",")), None)
    for m in mounts:
        left, right = m.split(" - ", 1)
        fields, fstype = left.split(), right.split()[0]
        opts = right.split()[-1].split(",")
        if fstype == "cgroup2" and v2 is not None:
            d = Path(fields[4] + (v2 if fields[3] == "/" else v2[len(fields[3]):]))
            if (d / "memory.max").exists() or (d / "cgroup.subtree_control").exists():
                if "memory" in (d / "cgroup.controllers").read_text().split():
                    return d, 2, None
        if fstype == "cgroup" and "memory" in opts and v1 is not None:
            d = Path(fields[4] + (v1 if fields[3] == "/" else v1[len(fields[3]):]))
            if (d / "memory.limit_in_bytes").exists():
                return d, 1, None
    return None, None, "no cgroup v2 with the memory controller and no cgroup v1 memory tree"


def test_a_memory_limited_cgroup_is_seen(tmp_path):
    base, version, why = _cgroup_dir()
    if base is None:
        pytest.skip(why)
    child = base / f"gmtrace-test-{uuid.uuid4().hex[:8]}"
    try:
        child.mkdir()
    except OSError as e:
        pytest.skip(f"cannot make a cgroup under {base}: {e}")
    limit = 768 * MIB
    try:
        try:
            if version == 2:
                (child / "memory.max").write_text(str(limit))
            else:
                (child / "memory.limit_in_bytes").write_text(str(limit))
        except OSError as e:
            pytest.skip(f"cannot set a memory limit in {child}: {e}")

        def enter():
            with open(child / "cgroup.procs", "w") as f:
                f.write(str(os.getpid()))

        try:
            line, cap = grow(tmp_path, ["main", 4, 64], preexec=enter)
        except subprocess.SubprocessError as e:
            pytest.skip(f"cannot move a process into {child}: {e}")
        host = [r for r in records(tmp_path, cap) if r["type"] == "host"][0]
        assert host["cgroup_max"] == limit, host
        assert host["cgroup_current"] > 0
        rep = platforms_json(tmp_path, cap, "switch")
        assert rep["host"]["cgroup_max"] == limit
        assert rep["host"]["cgroup_v1"] == (version == 1)
    finally:
        for _ in range(50):
            try:
                child.rmdir()
                break
            except OSError:
                import time
                time.sleep(0.05)


def test_memory_pressure_is_sampled_while_the_game_runs(tmp_path):
    # the demo game paced at 120 FPS for 60 frames: about half a second
    from pf_support import BUILD_DIR, GMTRACE, LIB, env_for
    demo = BUILD_DIR / "tests" / "games" / "gm_demo"
    cap = tmp_path / "demo.gmt"
    env = env_for(tmp_path, {"LD_PRELOAD": str(LIB), "GMTRACE_OUTPUT": str(cap),
                             "GMTRACE_QUIET": "1", "GMTRACE_PRESSURE_MS": "50",
                             "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"})
    p = subprocess.run([str(demo), "--frames", "60"], env=env, capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    samples = [r for r in records(tmp_path, cap) if r["type"] == "pressure"]
    assert len(samples) >= 4, len(samples)
    readable = os.access("/proc/pressure/memory", os.R_OK)
    assert all(r["psi"] == int(readable) for r in samples)
    if readable:
        totals = [r["some_total_us"] for r in samples]
        assert totals == sorted(totals)  # a stall counter only grows
    assert all(r["mem_available"] > 0 for r in samples)
    rep = json.loads(subprocess.run([str(GMTRACE), "platforms", "--json", str(cap), "switch"],
                                    env=env_for(tmp_path), capture_output=True).stdout)
    assert rep["pressure"]["samples"] == (len(samples) if readable else 0)


def test_the_first_pressure_sample_is_taken_at_the_start(tmp_path):
    # a run shorter than the interval (half a second, samples every minute)
    # has the sample of its start: the stall totals of the capture count
    # from there (the first came one interval late, a game's first loads
    # out of it)
    from pf_support import BUILD_DIR, LIB, env_for
    demo = BUILD_DIR / "tests" / "games" / "gm_demo"
    cap = tmp_path / "demo.gmt"
    env = env_for(tmp_path, {"LD_PRELOAD": str(LIB), "GMTRACE_OUTPUT": str(cap),
                             "GMTRACE_QUIET": "1", "GMTRACE_PRESSURE_MS": "60000",
                             "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"})
    p = subprocess.run([str(demo), "--frames", "60"], env=env, capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    recs = records(tmp_path, cap)
    samples = [r for r in recs if r["type"] == "pressure"]
    assert len(samples) == 1, samples
    assert samples[0]["at_frame"] == 1


def test_run_warns_when_the_machine_holds_less_than_the_platform(tmp_path):
    from pf_support import GMTRACE, env_for
    p = subprocess.run([str(GMTRACE), "run", "--platform", "ps5", "--output",
                        str(tmp_path / "x.gmt"), "--", "/bin/true"], env=env_for(tmp_path),
                       capture_output=True, text=True, preexec_fn=lower_as, timeout=60)
    assert p.returncode == 0, p.stderr
    assert ("gmtrace run: warning: this machine's RLIMIT_AS is 2.0 GiB, less than the "
            "12.5 GiB PlayStation 5 holds for a game") in p.stderr
    p = subprocess.run([str(GMTRACE), "run", "--platform", "ios-low", "--output",
                        str(tmp_path / "y.gmt"), "--", "/bin/true"], env=env_for(tmp_path),
                       capture_output=True, text=True, preexec_fn=lower_as, timeout=60)
    assert p.returncode == 0 and "warning" not in p.stderr, p.stderr


def test_banks_without_heaps_say_that_nothing_was_enforced(tmp_path):
    # Under a 2 GiB RLIMIT_AS the heaps' address space (64 slots of 64 GiB)
    # cannot be reserved: a free could not be told to belong to a bank, so
    # nothing is counted and the strict 8 MiB main bank lets all 40 blocks of
    # 256 KiB through. The game says so at start, the node records carry heap
    # capacity 0, and budgets --check fails instead of passing on zeros.
    from pf_support import GMTRACE, LIB, PF_GROW, env_for
    cap = tmp_path / "noheap.gmt"
    child = env_for(tmp_path, {"GMTRACE_PLATFORM": "tiny-split", "GMTRACE_BUDGET_MODE": "strict",
                               "LD_PRELOAD": str(LIB), "GMTRACE_OUTPUT": str(cap)})
    p = subprocess.run([str(PF_GROW), "main", "40"], env=child, capture_output=True, text=True,
                       timeout=40, preexec_fn=lower_as)
    assert p.returncode == 0, p.stderr
    line = json.loads(next(s for s in p.stdout.splitlines() if s.startswith("{")))
    assert (line["main"]["blocks"], line["main"]["null_frame"]) == (40, 0)
    warned = [s for s in p.stderr.splitlines() if "has no heap" in s]
    assert len(warned) == 1, p.stderr
    assert "its limits are not enforced in this run, nor those of any node without one" in \
        warned[0]
    nodes = {r["name"]: r["heap_capacity"] for r in records(tmp_path, cap)
             if r["type"] == "budget_node"}
    assert nodes == {"main": 0, "video": 0, "meshes": 0}
    run = subprocess.run([str(GMTRACE), "budgets", "--check", str(cap)], env=env_for(tmp_path),
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 1, run.stderr
    assert run.stderr == ('gmtrace budgets: 3 nodes had no heap ("main", "meshes", "video"): '
                          'the limits were not enforced in this run\n')
    assert 'check     FAILED: 3 nodes had no heap ("main", "meshes", "video"), so nothing' \
        in run.stdout
    rep = json.loads(subprocess.run([str(GMTRACE), "budgets", "--json", str(cap)],
                                    env=env_for(tmp_path), capture_output=True).stdout)
    assert rep["check"] == {"passed": False, "over_hard": 0, "failed": 0, "heap_full": 0,
                            "not_enforced": 3}
    # the replay after the run still finds the bank over its capacity
    assert memory(platforms_json(tmp_path, cap, "tiny-split"), "tiny-split",
                  "main")["peak"] == 40 * 256 * 1024
