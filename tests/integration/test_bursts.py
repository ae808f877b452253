"""test_bursts.py - fx_bursts: allocations back to back, the recorder's bursts.

In a burst (a clock reading less than 1024 ticks after the thread's record
before it) a thread's next allocations, at most GMTRACE_BURST_ALLOCATIONS
(0 to 15, 0 by default: bursts off), carry the reading of the record before each of them instead of reading the clock (record/thread.h,
gm_thread_alloc_tsc). Checked on the capture, from what the reader says of
each record (`burst` in `gmtrace dump --json`):
- only allocations are burst records (frees read the clock before they
  start, so another thread's free of a block always comes after it);
- a burst record carries exactly the time of its thread's record before it;
- at most that many burst allocations follow an allocation that read the clock;
- the allocation after a tag record or a frame mark reads the clock (every
  record other than an allocation or a free ends a burst);
- the summary counts exactly the burst records the dump shows, and the
  fixture's counts come out exact;
- a burst ends when its thread takes a signal (no record in between): the
  allocation after it reads the clock.
How many allocations are burst records depends on the machine's speed (the
allocations of fx_bursts come far closer together than 1024 ticks, and most
are); that some are is checked, not how many. GMTRACE_BURST_ALLOCATIONS
sets the most; bursts are off by default (0)."""
import csv
import io

import pytest

from conftest import (assert_valid, captures, dump_events, fixture_line, fx, gmtrace,
                      run_preloaded)

FRAMES = 20


def frame_rows(cap):
    """`gmtrace frames --csv CAP` as a list of dicts, one per frame."""
    out = gmtrace("frames", "--csv", cap)
    assert out.returncode == 0, out.stderr
    return list(csv.DictReader(io.StringIO(out.stdout)))


@pytest.mark.parametrize("reuse", [7, 15, 3, 0, None])
def test_burst_allocations_carry_the_reading_before_them(tmp_path, reuse):
    env = None if reuse is None else {"GMTRACE_BURST_ALLOCATIONS": str(reuse)}
    most = 0 if reuse is None else reuse
    r = run_preloaded([fx("fx_bursts"), FRAMES], tmp_path, extra_env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    line = fixture_line(r.stdout, fixture="bursts")
    assert line["allocations"] == 1010 * FRAMES
    assert line["allocated_bytes"] == 136128 * FRAMES
    caps = captures(tmp_path)
    assert len(caps) == 1, caps
    s = assert_valid(caps[0])
    # frames 2..F hold exactly one iteration each (frame 1 also holds the
    # process's start, and what comes after the last mark its end: a
    # coverage build's runtime allocates there)
    rows = frame_rows(caps[0])
    assert len(rows) >= FRAMES
    for row in rows[1:FRAMES]:
        assert int(row["allocations"]) == 1010, row
        assert int(row["frees"]) == 1010, row
        assert int(row["allocated_bytes"]) == 136128, row
    assert s["allocations"] >= line["allocations"]

    bursts = 0
    prev_ns = {}
    since_read = {}  # burst allocations since the thread's last reading allocation
    after_other = {}  # the thread's last record was neither an allocation nor a free
    tagged_reads = frame_reads = last_frame = 0
    prev_type = {}
    for ev in dump_events(caps[0]):
        t, typ = ev["thread"], ev["type"]
        if ev.get("burst"):
            bursts += 1
            assert typ == "alloc", ev
            assert ev["ns"] == prev_ns[t], ev
            assert not after_other.get(t), ev
            since_read[t] = since_read.get(t, 0) + 1
            assert since_read[t] <= most, ev
        elif typ == "alloc":
            since_read[t] = 0
            if prev_type.get(t) == "context":
                tagged_reads += 1
            elif prev_type.get(t) == "frame_sum" and last_frame < FRAMES:
                frame_reads += 1
        if typ == "frame_sum":
            last_frame = ev["frame"]
        prev_ns[t] = ev["ns"]
        prev_type[t] = typ
        after_other[t] = typ not in ("alloc", "free")
    # bursts need the thread's rseq area (the fixture looks for it the way
    # the recorder does)
    assert bursts > 0 if most and line["rseq"] else bursts == 0
    assert s["burst_records"] == bursts
    # each tag push is followed by the tagged allocation, each pop but the
    # frame's last by the burst's next allocation: 19 allocations right
    # after a tag record a frame, every one reading the clock; and each
    # frame but the last is followed by the next one's first allocation,
    # after the frame end's records and the pause: it reads the clock
    assert tagged_reads == 19 * FRAMES
    assert frame_reads == FRAMES - 1


@pytest.mark.parametrize("reuse", [7, 0])
def test_a_burst_after_a_frame_mark_belongs_to_the_new_frame(tmp_path, reuse):
    """A worker whose last record (a free) came before the main thread's
    frame mark allocates right after it: a burst never carries a reading
    from before the frame it is made in, so each frame holds exactly the
    worker's 4 allocations (with a reading reused across the mark, a frame
    held 8 and the next 0)."""
    env = {"GMTRACE_BURST_ALLOCATIONS": str(reuse)}
    r = run_preloaded([fx("fx_bursts"), FRAMES, "worker"], tmp_path, extra_env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    line = fixture_line(r.stdout, fixture="bursts")
    caps = captures(tmp_path)
    assert len(caps) == 1, caps
    assert_valid(caps[0])
    rows = frame_rows(caps[0])
    assert len(rows) == line["frames"]
    assert [int(x["allocations"]) for x in rows[1:]] == [4] * FRAMES
    assert [int(x["frees"]) for x in rows[1:]] == [4] * FRAMES


@pytest.mark.parametrize("reuse", [7, 3])
def test_a_burst_ends_when_its_thread_takes_a_signal(tmp_path, reuse):
    """fx_bursts signal: blocks of 40, 41, 42 bytes back to back (a burst
    going on), raise(SIGUSR1) with no record in between, then 43 and 44
    bytes. The kernel clears the thread's rseq word when it delivers the
    signal, so the 43-byte allocation reads the clock."""
    rounds = 200
    env = {"GMTRACE_BURST_ALLOCATIONS": str(reuse)}
    r = run_preloaded([fx("fx_bursts"), rounds, "signal"], tmp_path, extra_env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    line = fixture_line(r.stdout, fixture="bursts")
    assert line["signals"] == rounds
    caps = captures(tmp_path)
    assert len(caps) == 1, caps
    s = assert_valid(caps[0])
    after = before = 0
    for ev in dump_events(caps[0]):
        if ev["type"] == "alloc" and ev["size"] == 43:
            after += 1
            assert not ev.get("burst"), ev
        elif ev["type"] == "alloc" and ev["size"] in (41, 42) and ev.get("burst"):
            before += 1
    assert after == rounds
    if line["rseq"]:
        assert before > 0  # a burst was going on at the signal
    else:
        assert s["burst_records"] == 0


def test_bursts_asked_for_without_an_rseq_area_are_off_and_said(tmp_path):
    """With glibc told not to register restartable sequences, bursts cannot
    see a preemption: asking for them gives one warning and none happen."""
    env = {"GMTRACE_BURST_ALLOCATIONS": "7", "GLIBC_TUNABLES": "glibc.pthread.rseq=0"}
    r = run_preloaded([fx("fx_bursts"), 3], tmp_path, extra_env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    line = fixture_line(r.stdout, fixture="bursts")
    assert line["rseq"] == 0
    said = [s for s in r.stderr.decode().splitlines() if "GMTRACE_BURST_ALLOCATIONS" in s]
    assert len(said) == 1 and said[0].endswith("; bursts are off"), r.stderr
    caps = captures(tmp_path)
    assert len(caps) == 1, caps
    assert assert_valid(caps[0])["burst_records"] == 0
