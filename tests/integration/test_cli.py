"""test_cli.py - the gmtrace CLI on bad input and bad usage. A capture that
is missing, empty, not a capture, cut in the middle of a block, damaged, or
of a newer major version: one error line naming the file (and, for damage
inside the file, the offset of the block concerned), a non-zero status,
never a crash; for damage the report still covers what came before it.
--help on every subcommand exits 0; an unknown subcommand or option exits 2."""
import json
import os
import struct
import subprocess

import pytest

from conftest import (GMTRACE, captures, dump_events, fx, gmtrace, rule_tally, run_preloaded)

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


# ---- hand-built captures: every number of the summary known in advance ------

MASK64 = (1 << 64) - 1
REC = dict(alloc=1, free=2, realloc=3, fail=4, thread_start=6, frame=8, process=10)
KIND_REALLOC = 2  # gm_kind_realloc


def format_check(data):
    """gm_format_check (interpose/log/format.h)."""
    h = (0x9E3779B97F4A7C15 ^ len(data)) & MASK64
    full = len(data) // 8 * 8
    for (v,) in struct.iter_unpack("<Q", data[:full]):
        h = ((h ^ v) * 0xFF51AFD7ED558CCD) & MASK64
        h ^= h >> 32
    for b in data[full:]:
        h = ((h ^ b) * 0xC4CEB9FE1A85EC53) & MASK64
    h ^= h >> 29
    return h & 0xFFFFFFFF


def rec(typ, a=0, b=0, tsc=0, x=None, extra=b""):
    """One record: w0, w1 and its extra units (extra padded to 16 bytes); x
    is the number of extra units unless given (a kind, a frame set)."""
    extra += b"\0" * (-len(extra) % 16)
    x = len(extra) // 16 if x is None else x
    w0 = (a & ((1 << 48) - 1)) | typ << 48 | x << 56
    w1 = (b & ((1 << 40) - 1)) | (tsc & 0xFFFFFF) << 40
    return struct.pack("<QQ", w0, w1) + extra


def capture_bytes(blocks, pid=4242):
    """A capture: the file header, then one raw block per (thread, records)."""
    out = bytearray(b"GMTRACE\0" + struct.pack("<HHIII", 3, 0, HEADER_BYTES, pid, 65536))
    out += b"\0" * (HEADER_BYTES - len(out))
    for thread, payload in blocks:
        out += struct.pack("<IHHIIIIIIQQ", 0x4B424D47, 1, 0, thread, 0, 0, len(payload),
                           len(payload), format_check(payload), 0, 0)
        out += payload
    return bytes(out)


def process_rec(tsc, pid, ppid, exe, argv):
    strings = exe + argv
    extra = struct.pack("<QQQQQQ", 1, 0, 0, 0, len(exe), len(argv)) + strings
    return rec(REC["process"], pid, ppid, tsc, extra=extra)


@pytest.fixture
def hand_capture(tmp_path):
    """Thread 0 runs through every case the summary counts; threads 1 and 3
    allocate once each; thread 2 has no block at all."""
    t0 = b"".join([
        process_rec(100, 4242, 1, b"/bin/game\0", b"game\0-x\0"),
        rec(REC["thread_start"], 555, 4, 110, extra=b"main"),
        rec(REC["alloc"], 0x1000, 100, 120),
        rec(REC["alloc"], 0x2000, 5000, 130),
        rec(REC["free"], 0, 0, 140),                # free(NULL): nothing
        rec(REC["free"], 0x3000, 0, 150),           # never allocated: unmatched
        # realloc(NULL, 64), realloc(0x1000, 0), realloc of a block never seen
        rec(REC["realloc"], 0x4000, 64, 160, KIND_REALLOC, struct.pack("<QQ", 0, 0)),
        rec(REC["realloc"], 0, 0, 170, KIND_REALLOC, struct.pack("<QQ", 0x1000, 0)),
        rec(REC["realloc"], 0x5000, 32, 180, KIND_REALLOC, struct.pack("<QQ", 0x9999, 0)),
        rec(REC["frame"], 1, 0, 190),               # a main frame
        rec(REC["frame"], 2, 0, 195, x=1),          # another frame set: not counted
        rec(REC["fail"], 0, 0, 200, 0, struct.pack("<QQ", 1 << 40, 16)),
        rec(REC["alloc"], 0x2000, 10, 210),         # its free was lost: 5000 gone
        process_rec(220, 7, 7, b"/bin/other", b"other\0"),  # only the first counts
        rec(REC["alloc"], 0, 7, 230),               # a null result: counted, not live
    ])
    t1 = rec(REC["alloc"], 0x8000, 2000, 1000)
    t3 = rec(REC["alloc"], 0x9000, 16, 2000)
    path = tmp_path / "hand.gmt"
    path.write_bytes(capture_bytes([(0, t0), (1, t1), (3, t3)]))
    return path


def test_summary_of_a_hand_built_capture(hand_capture):
    r = gmtrace("summary", "--json", "--top", "2", hand_capture, timeout=30)
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    assert s["error"] is None
    assert s["process"] == {"pid": 4242, "ppid": 1, "exe": "/bin/game", "argv": ["game", "-x"]}
    assert (s["events"], s["start_ns"], s["duration_ns"]) == (17, 100, 1900)
    # no exit record, every record at the events level
    assert (s["ended"], s["exit_status"], s["frames_level_from_frame"]) == (None, None, None)
    text = gmtrace("summary", hand_capture, timeout=30).stdout.splitlines()
    assert [x for x in text if x.startswith("ended ")] == [
        "ended     without an exit record: the game was killed or crashed, or its capture "
        "could not be written; its log is no longer in /dev/shm (drained whole by "
        "`gmtrace run` or `gmtrace recover`, or gone with a restart)"]
    assert (s["frames"], s["failed_allocations"], s["unmatched_frees"]) == (1, 1, 1)
    assert (s["allocations"], s["allocated_bytes"]) == (8, 100 + 5000 + 64 + 32 + 10 + 7 + 2000 + 16)
    # realloc(0x1000, 0) frees 100 bytes; realloc of an unknown block frees 0
    assert (s["frees"], s["freed_bytes"]) == (2, 100)
    # 100 + 5000 + 64 live right after the realloc that made 0x4000
    assert (s["peak_live_bytes"], s["peak_live_ns"], s["peak_live_frame"]) == (5164, 160, 0)
    assert (s["live_at_exit_count"], s["live_at_exit_bytes"]) == (5, 10 + 64 + 32 + 2000 + 16)
    assert s["live_at_exit_by_size"] == [
        {"max_bytes": 16, "count": 2, "bytes": 26},
        {"max_bytes": 32, "count": 1, "bytes": 32},
        {"max_bytes": 64, "count": 1, "bytes": 64},
        {"max_bytes": 128, "count": 0, "bytes": 0},
        {"max_bytes": 256, "count": 0, "bytes": 0},
        {"max_bytes": 512, "count": 0, "bytes": 0},
        {"max_bytes": 1024, "count": 0, "bytes": 0},
        {"max_bytes": 2048, "count": 1, "bytes": 2000},
    ]
    assert [(b["size"], b["ptr"], b["kind"]) for b in s["live_at_exit_largest"]] == \
        [(2000, "0x8000", "malloc"), (64, "0x4000", "realloc")]
    assert [(b["size"], b["ptr"]) for b in s["largest_allocations"]] == \
        [(5000, "0x2000"), (2000, "0x8000")]
    assert s["threads"] == [
        {"thread": 0, "os_tid": 555, "name": "main", "allocations": 6, "frees": 2,
         "allocated_bytes": 5213, "freed_bytes": 100},
        {"thread": 1, "os_tid": None, "name": None, "allocations": 1, "frees": 0,
         "allocated_bytes": 2000, "freed_bytes": 0},
        {"thread": 3, "os_tid": None, "name": None, "allocations": 1, "frees": 0,
         "allocated_bytes": 16, "freed_bytes": 0},
    ]

    text = gmtrace("summary", "--top", "2", hand_capture, timeout=30)
    assert text.returncode == 0, text.stderr
    out = text.stdout
    assert 'process   4242  "/bin/game" "game" "-x"' in out, out
    assert "1 frames, 17 events" in out
    assert "live at exit by size" in out
    rows = {line.split()[0]: line.split() for line in out.split("\nthreads\n")[1].splitlines()[1:4]}
    assert rows["0"][1:4] == ["555", "6", "2"] and rows["0"][-1] == '"main"', rows
    assert rows["1"][1:4] == ["-", "1", "0"], rows
    assert "3" in rows and "2" not in rows, rows


def test_dump_of_a_hand_built_capture(hand_capture):
    evs = list(dump_events(hand_capture))
    assert len(evs) == 17
    assert [e["type"] for e in evs[:4]] == ["process", "thread_start", "alloc", "alloc"]
    assert evs[1]["name"] == "main"
    r = gmtrace("dump", "--limit", "3", hand_capture, timeout=30)
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.splitlines()) == 3
    assert "main" in r.stdout.splitlines()[1]


def test_a_report_that_cannot_be_written_is_an_error(hand_capture):
    for cmd in (["summary"], ["summary", "--json"], ["dump"], ["dump", "--json"]):
        with open("/dev/full", "w") as full:
            r = subprocess.run([str(GMTRACE)] + cmd + [str(hand_capture)], stdout=full,
                               stderr=subprocess.PIPE, text=True, timeout=30)
        assert r.returncode == 1, (cmd, r.returncode, r.stderr)
        assert "cannot write" in r.stderr, (cmd, r.stderr)


def test_version_and_help_forms():
    r = gmtrace("--version")
    assert r.returncode == 0 and r.stdout == "gmtrace, capture format 3.4\n", r.stdout
    for args in (["-h"], ["help"]):
        r = gmtrace(*args)
        assert r.returncode == 0 and all(c in r.stdout for c in SUBCOMMANDS), (args, r.stdout)
    r = gmtrace("help", "frobnicate")
    assert r.returncode == 2 and "no command 'frobnicate'" in r.stderr, r.stderr
    for cmd in ("summary", "dump", "recover"):
        r = gmtrace(cmd, "-h")
        assert r.returncode == 0 and r.stdout.startswith(f"usage: gmtrace {cmd}"), r.stdout


@pytest.mark.parametrize("args,mention", [
    (["summary", "--top"], "--top takes a number"),
    (["summary", "--top", "1000000", "x.gmt"], "--top takes a number"),
    (["summary", "a.gmt", "b.gmt"], "one capture at a time ('a.gmt' and 'b.gmt')"),
    (["summary", "-x", "a.gmt"], "unknown option '-x'"),
    (["dump", "-x", "a.gmt"], "unknown option '-x'"),
    (["dump", "--limit"], "--limit takes a number"),
    (["dump", "a.gmt", "b.gmt"], "one capture at a time"),
    (["dump"], "no capture given"),
], ids=lambda a: "-".join(x.strip("-") for x in a) if isinstance(a, list) else None)
def test_bad_usage_says_why(tmp_path, args, mention):
    r = gmtrace(*args, cwd=tmp_path, timeout=30)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert mention in r.stderr, r.stderr


def test_a_lone_dash_is_a_file_name(tmp_path):
    r = gmtrace("summary", "-", cwd=tmp_path, timeout=30)
    assert r.returncode == 1
    assert r.stderr == "gmtrace: -: No such file or directory\n", r.stderr


@pytest.mark.parametrize("cmd", (["summary"], ["frames"], ["dump"], ["stacks"], ["live", "--once"],
                                 ["frames", "--compare", "{fifo}"], ["recover"]),
                         ids=("summary", "frames", "dump", "stacks", "live", "compare", "recover"))
def test_a_fifo_is_refused_not_waited_on(tmp_path, cmd):
    """A named pipe given as a capture: one error line, exit 1, at once (no
    writer ever comes: opening it for reading would wait forever)."""
    fifo = tmp_path / "pipe.gmt"
    os.mkfifo(fifo)
    r = gmtrace(*[a.format(fifo=fifo) for a in cmd], fifo, timeout=10)
    assert r.returncode == 1, r.stderr
    assert f"{fifo}: not a regular file" in r.stderr, r.stderr


def test_a_fifo_as_budget_file_or_platform_is_refused(tmp_path):
    """GMTRACE_BUDGETS or GMTRACE_PLATFORM naming a named pipe, and one on
    the platform search path: a warning (an error in the CLI), never a hang
    before the game's main()."""
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    for var, rest in (("GMTRACE_BUDGETS", "running without budgets"),
                      ("GMTRACE_PLATFORM", "running without the platform's limits")):
        r = run_preloaded([fx("fx_basic")], tmp_path, {var: str(fifo)}, timeout=10)
        assert r.returncode == 0, r.stderr
        assert f"{fifo}: not a regular file; {rest}" in r.stderr.decode(), r.stderr
    path_dir = tmp_path / "profiles"
    path_dir.mkdir()
    os.mkfifo(path_dir / "evil.yaml")
    r = subprocess.run([str(GMTRACE), "platforms", "--list"], capture_output=True, text=True,
                       timeout=10, env={**os.environ, "GMTRACE_PLATFORM_PATH": str(path_dir)})
    assert f"{path_dir / 'evil.yaml'}: not a regular file" in r.stderr, r.stderr


@pytest.mark.parametrize("cmd", ["summary", "dump", "frames", "assets", "stacks", "pools",
                                 "budgets", "transitions", "trace", "html"])
def test_double_dash_ends_the_options(tmp_path, real_capture, cmd):
    """`--` ends a report's options, as everywhere: a capture named "-x.gmt"
    (run's --output can make one) is reached as `gmtrace CMD -- -x.gmt`,
    where it was an unknown option; before `--` it still is one."""
    odd = tmp_path / "-x.gmt"
    odd.write_bytes(real_capture.read_bytes())
    r = gmtrace(cmd, "--", odd.name, cwd=tmp_path)
    assert r.returncode == 0 and r.stdout, (cmd, r.returncode, r.stderr)
    r = gmtrace(cmd, odd.name, cwd=tmp_path)
    assert r.returncode == 2 and "-x.gmt" in r.stderr.splitlines()[0], r.stderr
