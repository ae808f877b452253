"""test_exitrace.py - fx_exitrace: the main thread calls exit() while eight
worker threads (more than this machine has cores, so they are preempted
anywhere) are still allocating and freeing, as a game's main loop
returning while a streaming thread works. The session's end (last drain,
log name removed) races the workers' records and, with DRAIN_HELP=always,
their own drains. Every run must exit 0, leave a capture that reads whole
with nothing freed that it did not see allocated, and no log in /dev/shm.

Before the log stayed mapped at exit, about one run in 13 died of SIGSEGV:
a worker wrote into the log after the exiting thread had unmapped it. The
race is rare per run, so each mode runs RUNS times.

In a coverage build these processes write gcov's counters at exit while
their workers still add to them, which reads back as negative branch
counts: GCOV_PREFIX sends their counters to the test's folder instead."""
import pytest

from conftest import assert_valid, captures, fixture_line, fx, run_preloaded, shm_logs

RUNS = 25
THREADS, OPS = 8, 20000  # every worker has made OPS operations before exit()


@pytest.mark.parametrize("help_mode", ["auto", "always", "off"])
def test_exit_while_threads_allocate(tmp_path, help_mode):
    for i in range(RUNS):
        out = tmp_path / f"run{i}"
        out.mkdir()
        r = run_preloaded([fx("fx_exitrace"), THREADS, OPS], out, timeout=30,
                          extra_env={"GMTRACE_DRAIN_HELP": help_mode,
                                     "GCOV_PREFIX": str(tmp_path / "gcov")})
        assert r.returncode == 0, f"run {i}: rc {r.returncode}: {r.stderr!r}"
        line = fixture_line(r.stdout, fixture="exitrace")
        assert line["threads"] == THREADS
        caps = captures(out)
        assert len(caps) == 1, caps
        s = assert_valid(caps[0])
        # the workers' first OPS operations each happened before exit()
        assert s["allocations"] >= THREADS * OPS, s
        assert not shm_logs(s["process"]["pid"]), f"run {i}: log left in /dev/shm"


def test_two_threads_exit_at_once(tmp_path):
    """Two threads call exit(0) at the same instant while eight workers
    allocate: the second caller waits for the first one's exit to finish
    the session, so the capture ends with its exit record, reads whole and
    leaves no log behind. Without the wait every run here left its log in
    /dev/shm and a capture with no end (`gmtrace recover` needed)."""
    for i in range(RUNS // 5):
        out = tmp_path / f"run{i}"
        out.mkdir()
        r = run_preloaded([fx("fx_exitrace"), THREADS, OPS, 2], out, timeout=30,
                          extra_env={"GCOV_PREFIX": str(tmp_path / "gcov")})
        assert r.returncode == 0, f"run {i}: rc {r.returncode}: {r.stderr!r}"
        caps = captures(out)
        assert len(caps) == 1, caps
        s = assert_valid(caps[0])
        assert (s["ended"], s["exit_status"]) == ("exit", 0), f"run {i}: {s['ended']}"
        assert s["allocations"] >= THREADS * OPS, s
        assert not shm_logs(s["process"]["pid"]), f"run {i}: log left in /dev/shm"
