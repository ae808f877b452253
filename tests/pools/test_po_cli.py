"""test_po_cli.py - gmtrace pools on bad usage and bad input

Exit status 2 with a one-line error and the usage on stderr for bad
arguments, 0 for --help, 1 for a capture that cannot be read.
"""
import pytest

from po_support import gmtrace


def test_help_exits_0():
    r = gmtrace("pools", "--help")
    assert r.returncode == 0
    assert r.stdout.startswith("usage: gmtrace pools")


@pytest.mark.parametrize("args", [
    [],
    ["--json", "--csv", "x.gmt"],
    ["--table", "pools", "x.gmt"],
    ["--csv", "--table", "nope", "x.gmt"],
    ["--percentile", "0", "x.gmt"],
    ["--percentile", "100.5", "x.gmt"],
    ["--percentile", "99.1234", "x.gmt"],
    ["--headroom", "-5", "x.gmt"],
    ["--churn-frames", "0", "x.gmt"],
    ["--candidates", "ten", "x.gmt"],
    ["--compare", "a.gmt"],
    ["--compare", "a.gmt", "b.gmt", "c.gmt"],
    ["a.gmt", "b.gmt"],
    ["--bogus", "x.gmt"],
])
def test_bad_usage_exits_2(args):
    r = gmtrace("pools", *args)
    assert r.returncode == 2, (args, r.stdout, r.stderr)
    assert r.stderr.startswith("gmtrace pools: "), r.stderr
    assert "usage: gmtrace pools" in r.stderr


def test_unreadable_capture_exits_1(tmp_path):
    bad = tmp_path / "bad.gmt"
    bad.write_bytes(b"not a capture at all")
    for args in (["pools", str(tmp_path / "missing.gmt")], ["pools", str(bad)],
                 ["pools", "--compare", str(bad), str(bad)]):
        r = gmtrace(*args)
        assert r.returncode == 1, (args, r.stderr)
        assert r.stderr.startswith("gmtrace: "), r.stderr
