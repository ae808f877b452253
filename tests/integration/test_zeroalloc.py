"""test_zeroalloc.py - once running, gmtrace allocates nothing for itself:
it_zeroalloc (zeroalloc.c) reads gmtrace_self_allocations() after start-up
and again after 4 threads made their first record and 100,000 allocation/
free pairs each; the two must be equal. gmtrace_enabled() is 1 under the
preload and 0 without it (or with GMTRACE_ENABLED=0)."""
import json
import subprocess

import pytest

from conftest import (GMTRACE, ZEROALLOC, assert_valid, captures, clean_env, run_plain,
                      run_preloaded)


def report(r):
    assert r.returncode == 0, f"it_zeroalloc: rc {r.returncode}: {r.stderr!r}"
    lines = [json.loads(l) for l in r.stdout.decode().splitlines() if l.startswith("{\"enabled")]
    assert len(lines) == 1, r.stdout
    return lines[0]


def check_recorded(tmp_path, z):
    caps = captures(tmp_path)
    assert len(caps) == 1, caps
    s = assert_valid(caps[0])
    assert s["allocations"] >= z["allocations"]


def test_no_self_allocations_after_start_internal_drain(tmp_path):
    z = report(run_preloaded([ZEROALLOC], tmp_path, timeout=60))
    assert z["enabled"] == 1
    assert z["self_after"] == z["self_before"], z
    check_recorded(tmp_path, z)


def test_no_self_allocations_after_start_uncompressed(tmp_path):
    z = report(run_preloaded([ZEROALLOC], tmp_path, {"GMTRACE_COMPRESS": "0"}, timeout=60))
    assert z["enabled"] == 1
    assert z["self_after"] == z["self_before"], z
    check_recorded(tmp_path, z)


def test_no_self_allocations_after_start_threads_draining(tmp_path):
    """The game's threads drain their own chunks (DRAIN_HELP=always): the
    drain's buffers were made at start-up, so that allocates nothing either."""
    z = report(run_preloaded([ZEROALLOC], tmp_path, {"GMTRACE_DRAIN_HELP": "always"},
                             timeout=60))
    assert z["enabled"] == 1
    assert z["self_after"] == z["self_before"], z
    check_recorded(tmp_path, z)


def test_no_self_allocations_after_start_external_drain(tmp_path):
    r = subprocess.run([str(GMTRACE), "run", "--output", str(tmp_path / "%e.%p.gmt"), "--",
                        str(ZEROALLOC)], env=clean_env({"GMTRACE_QUIET": "1"}),
                       cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=60)
    z = report(r)
    assert z["enabled"] == 1
    assert z["self_after"] == z["self_before"], z
    check_recorded(tmp_path, z)


def test_stacks_allocate_once_per_thread_then_nothing(tmp_path):
    """GMTRACE_STACKS: libunwind is loaded with dlopen, so its thread-local
    variables live in dynamic TLS, which the loader allocates with malloc
    the first time a thread touches them (seen with gdb: __tls_get_addr ->
    allocate_dtv_entry under unw_backtrace). That block comes from the
    game's heap inside gmtrace's guard and is counted: one per thread that
    unwinds, then nothing, for 4 x 100,000 pairs."""
    z = report(run_preloaded([ZEROALLOC], tmp_path, {"GMTRACE_STACKS": "16"}, timeout=60))
    assert z["enabled"] == 1
    assert z["self_after"] == z["self_before"] + 4, z
    check_recorded(tmp_path, z)


def test_disabled_without_the_preload(tmp_path):
    z = report(run_plain([ZEROALLOC, 2, 1000], tmp_path, timeout=60))
    assert z == {"enabled": 0, "self_before": 0, "self_after": 0, "footprint_bytes": 0,
                 "allocations": 2 * 1001}


def test_disabled_by_option(tmp_path):
    z = report(run_preloaded([ZEROALLOC, 2, 1000], tmp_path, {"GMTRACE_ENABLED": "0"},
                             timeout=60))
    assert z["enabled"] == 0
    assert captures(tmp_path) == []
