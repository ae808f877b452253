"""test_bu_alert.py - the violation callback and the stderr line

bu_alert.c goes over a 1 MiB hard limit once (700 KiB + 700 KiB, nothing to
evict): soft mode lets the allocation through and calls the game's callback
with an over_hard violation; strict fails it (NULL) with a failed one; with
GMTRACE_BUDGET_STDERR=1 one line per violation goes to stderr.
"""
import pytest

from bu_support import run

KIB = 1024


@pytest.mark.parametrize("mode", ["soft", "strict"])
def test_callback_gets_the_violation(mode, tmp_path):
    r = run("alert", tmp_path, env={"GMTRACE_BUDGET_MODE": mode, "GMTRACE_BUDGET_STDERR": "1"})
    calls = r.line["calls"]
    assert len(calls) == 1, calls
    c = calls[0]
    assert c["node_ok"] == 1
    assert (c["event"], c["failed"]) == ((1, 0) if mode == "soft" else (2, 1))
    assert c["limit"] == 1024 * KIB and c["size"] == 700 * KIB
    # the first 700 KiB block is live, counted at its usable size: jemalloc's
    # size class for 700 KiB is 768 KiB
    assert c["live"] == 768 * KIB
    assert r.line["second_ok"] == (1 if mode == "soft" else 0)
    lines = [l for l in r.stderr.decode().splitlines() if 'budget "small"' in l]
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("gmtrace: [") and "limit 1048576" in lines[0], lines[0]


def test_no_callback_without_gmtrace(tmp_path):
    r = run("alert", tmp_path, preload=False)
    assert r.line["calls"] == [] and r.line["second_ok"] == 1
