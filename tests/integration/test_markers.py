"""test_markers.py - fx_markers: the wrong marker calls that as_misuse
(tests/assets) does not make: unknown and destroyed pools, pool names NULL,
empty and too long, the 256th pool, tags and assets nested past the thread's
32 levels, the 256th named frame set. Each leaves exactly the validation
records listed in markers.c, in order, and nothing else changes: the block made
inside the deepest tag that fit belongs to it, every named set that fit marks
its frame, a NULL or empty set name marks no frame, a negative GC generation
is recorded as 0."""
import collections
import json

from conftest import (assert_tally, assert_valid, captures, dump_events, fixture_line, fx,
                      gmtrace, rule_tally, run_plain, run_preloaded)

# (code, id, detail) in the order markers.c makes them
EXPECTED = [
    ("unknown_pool", 0, 0),        # 1 acquire(0)
    ("unknown_pool", 999, 0),      # 2 release(999)
    ("unknown_pool", 1, 0),        # 3 acquire of destroyed pool 1
    ("null_name", 2, 0),           # 4 create(NULL)
    ("null_name", 3, 1),           # 5 create("")
    ("long_name", 4, 300),         # 6 a 300-byte name
    ("unknown_pool", 256, 256),    # 7 the 256th pool
    ("stack_overflow", 33, 32),    # 8 tag 33 past 32 levels (its pop pairs)
    ("stack_overflow", 33, 32),    # 9 asset 33 past 32 levels (its end pairs)
    ("stack_overflow", 0, 256),    # 10 the 256th named frame set
    ("null_name", 0, 0),           # 11 frame set NULL: no mark
    ("null_name", 0, 1),           # 12 frame set "": no mark
]


def test_marker_misuse_beyond_assets(tmp_path):
    r = run_preloaded([fx("fx_markers")], tmp_path, timeout=30)
    assert r.returncode == 0, r.stderr
    line = fixture_line(r.stdout, fixture="markers")
    assert (line["pools"], line["sets"], line["level_set"]) == (255, 255, -1)
    caps = captures(tmp_path)
    assert len(caps) == 1
    assert_valid(caps[0])
    assert_tally(rule_tally(caps[0]), line)
    events = list(dump_events(caps[0]))
    got = [(e["code"], e["id"], e["detail"]) for e in events if e["type"] == "validation"]
    assert got == EXPECTED
    marks = collections.Counter(e["set"] for e in events if e["type"] == "frame")
    assert marks[0] == line["main_marks"]
    assert sorted(k for k in marks if k) == list(range(1, 256))
    assert all(marks[k] == 1 for k in range(1, 256))
    gcs = [e for e in events if e["type"] == "gc"]
    assert [(g["generation"], g["collected"], g["duration_ns"]) for g in gcs] == [(0, 5, 1000)]
    rep = gmtrace("assets", "--json", caps[0])
    assert rep.returncode == 0, rep.stderr
    rep = json.loads(rep.stdout)
    owned = {t["tag"]: t["allocated_bytes"] for t in rep["tags"] if t["allocated_bytes"]}
    assert owned == {"depth/32": 4096 + 1771}
    assert len(rep["assets"]) == 33
    assert {a["state"] for a in rep["assets"]} == {"resident"}


def test_marker_misuse_without_the_preload(tmp_path):
    """Without libgmtrace every marker call is a no-op: pools get id 0, the
    level cannot be set, and the program runs the same."""
    r = run_plain([fx("fx_markers")], tmp_path, timeout=30)
    assert r.returncode == 0, r.stderr
    line = fixture_line(r.stdout, fixture="markers")
    assert (line["pools"], line["level_set"], line["allocations"]) == (0, -1, 1)
