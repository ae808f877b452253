"""test_cli.py - the gmtrace CLI on bad input and bad usage. A capture that
is missing, empty, not a capture, cut in the middle of a block, damaged, or
of a newer major version: one error line naming the file (and, for damage
inside the file, the offset of the block concerned), a non-zero status,
never a crash; for damage the report still covers what came before it.
--help on every subcommand exits 0; an unknown subcommand or option exits 2."""
import json
import struct

import pytest

from conftest import (captures, dump_events, fx, gmtrace, rule_tally, run_preloaded)

HEADER_BYTES = 128  # gm_file_header_t (interpose/log/FORMAT.md)
BLOCK_BYTES = 48    # gm_block_t
BLOCK_CLOCK = 3
SUBCOMMANDS = ("run", "recover", "summary", "dump")


@pytest.fixture
def real_capture(tmp_path):
    """A capture of fx_killme (20,000 operations) with several data blocks."""
    d = tmp_path / "real"
    d.mkdir()
    r = run_preloaded([fx("fx_killme"), "loop", d / "progress.json", 20000], d, timeout=60)
    assert r.returncode == 0, r.stderr
    caps = captures(d)
    assert len(caps) == 1, caps
    return caps[0]


def blocks(data):
    """(offset, kind, stored_bytes) of every block of a capture."""
    out, off = [], HEADER_BYTES
    while off < len(data):
        magic, kind, _flags, _thread, _seq, _offset, _raw, stored = \
            struct.unpack_from("<IHHIIIII", data, off)
        assert magic == 0x4B424D47
        out.append((off, kind, stored))
        off += BLOCK_BYTES + stored
    assert off == len(data)
    return out


def middle_data_block(data):
    data_blocks = [b for b in blocks(data) if b[1] != BLOCK_CLOCK]
    assert len(data_blocks) >= 3, "the capture should span several chunks"
    return data_blocks[len(data_blocks) // 2]


def one_error_line(r, path):
    assert r.returncode > 0, f"rc {r.returncode} (negative: killed by a signal)"
    lines = r.stderr.splitlines()
    assert len(lines) == 1, f"one error line expected: {lines}"
    assert str(path) in lines[0], lines[0]
    assert lines[0].startswith("gmtrace: "), lines[0]
    return lines[0]


def bad_input_cases(tmp_path, real_capture):
    data = real_capture.read_bytes()
    cases = {}
    cases["missing"] = tmp_path / "missing.gmt"
    (tmp_path / "empty.gmt").write_bytes(b"")
    cases["empty"] = tmp_path / "empty.gmt"
    (tmp_path / "text.gmt").write_text("this is a text file, not a gmtrace capture\n" * 10)
    cases["not_a_capture"] = tmp_path / "text.gmt"
    v9 = bytearray(data)
    struct.pack_into("<HH", v9, 8, 9, 0)  # version_major, version_minor
    (tmp_path / "v9.gmt").write_bytes(bytes(v9))
    cases["major_9"] = tmp_path / "v9.gmt"
    return cases


@pytest.mark.parametrize("case,message", [
    ("missing", "No such file"),
    ("empty", "empty"),
    ("not_a_capture", "offset 0"),
    ("major_9", "9.0"),
])
@pytest.mark.parametrize("cmd", (["summary"], ["summary", "--json"], ["dump", "--json"]),
                         ids=("summary", "summary-json", "dump"))
def test_unreadable_capture(tmp_path, real_capture, case, message, cmd):
    path = bad_input_cases(tmp_path, real_capture)[case]
    r = gmtrace(*cmd, path, timeout=30)
    line = one_error_line(r, path)
    assert message in line, line
    if case == "major_9":  # both versions named
        assert "reads up to 3.x" in line, line
    assert r.stdout == ""


def test_truncated_capture_reports_what_was_valid(tmp_path, real_capture):
    data = real_capture.read_bytes()
    off, _kind, stored = middle_data_block(data)
    cut = tmp_path / "cut.gmt"
    cut.write_bytes(data[:off + BLOCK_BYTES + stored // 2])

    r = gmtrace("summary", "--json", "--top", "0", cut, timeout=30)
    line = one_error_line(r, cut)
    assert f"offset {off}:" in line, line
    report = json.loads(r.stdout)
    assert report["error"] == line[len("gmtrace: "):]
    full = json.loads(gmtrace("summary", "--json", "--top", "0", real_capture).stdout)
    assert 0 < report["allocations"] < full["allocations"]
    assert report["events"] < full["events"]

    # what was valid is delivered whole: the events before the damaged block
    # are the full capture's first events (times aside: fewer clock samples)
    def strip(evs):
        return [{k: v for k, v in e.items() if k != "ns"} for e in evs]
    partial = strip(dump_events(cut, expect_ok=False))
    assert len(partial) == report["events"]
    whole = strip(dump_events(real_capture))
    assert partial == whole[:len(partial)]
    t = rule_tally(cut, expect_ok=False)
    assert (t.allocations, t.frees) == (report["allocations"], report["frees"])

    r = gmtrace("summary", cut, timeout=30)  # the text report too
    assert one_error_line(r, cut) == line
    assert "allocations" in r.stdout


def test_damaged_block_names_its_offset(tmp_path, real_capture):
    data = bytearray(real_capture.read_bytes())
    off, _kind, stored = middle_data_block(data)
    data[off + BLOCK_BYTES + stored // 2] ^= 0xFF
    bad = tmp_path / "flipped.gmt"
    bad.write_bytes(bytes(data))
    r = gmtrace("summary", "--json", bad, timeout=30)
    line = one_error_line(r, bad)
    assert f"offset {off}:" in line, line
    assert 0 < json.loads(r.stdout)["allocations"]


def test_header_only_capture_is_empty_not_damaged(tmp_path, real_capture):
    head = tmp_path / "head.gmt"
    head.write_bytes(real_capture.read_bytes()[:HEADER_BYTES])
    r = gmtrace("summary", "--json", head, timeout=30)
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    assert (s["error"], s["events"], s["allocations"]) == (None, 0, 0)


@pytest.mark.parametrize("cmd", SUBCOMMANDS)
def test_help(cmd):
    for args in ([cmd, "--help"], ["help", cmd]):
        r = gmtrace(*args, timeout=30)
        assert r.returncode == 0, r.stderr
        assert r.stdout.startswith(f"usage: gmtrace {cmd}"), r.stdout


def test_top_level_help_and_usage():
    r = gmtrace("--help")
    assert r.returncode == 0 and all(c in r.stdout for c in SUBCOMMANDS), r.stdout
    r = gmtrace()
    assert r.returncode == 2 and "usage" in r.stderr


def test_unknown_subcommand():
    r = gmtrace("frobnicate", timeout=30)
    assert r.returncode == 2
    assert "frobnicate" in r.stderr


@pytest.mark.parametrize("args", (
    ["summary", "--bogus", "x.gmt"],
    ["summary", "--top", "many", "x.gmt"],
    ["dump", "--bogus", "x.gmt"],
    ["dump", "--limit", "-1", "x.gmt"],
    ["recover", "--bogus"],
    ["run", "--bogus", "1", "--", "/bin/true"],
    ["run", "--ring-size", "lots", "--", "/bin/true"],
    ["summary"],
), ids=lambda a: "-".join(x.strip("-") for x in a[:3]))
def test_bad_usage_exits_2(tmp_path, args):
    r = gmtrace(*args, cwd=tmp_path, timeout=30)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert r.stderr, "bad usage says why"
    assert captures(tmp_path) == []
