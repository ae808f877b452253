"""test_threads.py - fx_threads: 8 threads x 200,000 allocations, about half
freed by the next thread. Every deliberate block is matched by its free or
live at exit, nothing in the whole capture is an unmatched free, nothing was
lost, and the split per thread (each worker is known by its allocation count,
200000 + 4 + index, and by its kernel tid) equals the fixture's. With the
drainer thread deciding who drains (auto); with every thread draining its
own chunks as it fills them (always: 8 producers taking turns at the drain
lock, the drainer thread sweeping what they left); and so with a log of 8
chunks for 8 threads (always-tiny-log), where threads wait for a chunk
while the others' chunks, those of threads already done included, wait
for the drainer thread. The run-* modes do the same under `gmtrace run`,
whose passes take turns at the capture with the game's threads."""
import collections
import errno
import json
import resource
import signal
import subprocess

import pytest

from conftest import (assert_tally, assert_valid, captures, fixture_line, fx, gmtrace,
                      preload_env, rule_tally, run_preloaded, shm_logs, summary)

PER_THREAD_KEYS = ("allocations", "frees", "allocated_bytes", "freed_bytes")


MODES = {
    "auto": {"GMTRACE_DRAIN_HELP": "auto"},
    "always": {"GMTRACE_DRAIN_HELP": "always"},
    "always-tiny-log": {"GMTRACE_DRAIN_HELP": "always", "GMTRACE_RING_SIZE": "512K"},
    # `gmtrace run` drains from outside and the game's threads drain their
    # own chunks into the same capture, taking turns with it
    "run-always": {"GMTRACE_DRAIN_HELP": "always"},
    "run-always-tiny-log": {"GMTRACE_DRAIN_HELP": "always", "GMTRACE_RING_SIZE": "512K"},
}


@pytest.mark.parametrize("mode", sorted(MODES))
def test_threads_cross_thread_frees(tmp_path, mode):
    if mode.startswith("run-"):
        r = gmtrace("run", "--output", str(tmp_path / "%e.%p.gmt"), "--", str(fx("fx_threads")),
                    timeout=90, cwd=str(tmp_path), extra_env={"GMTRACE_QUIET": "1", **MODES[mode]})
    else:
        r = run_preloaded([fx("fx_threads")], tmp_path, timeout=90, extra_env=MODES[mode])
    assert r.returncode == 0, f"fx_threads: rc {r.returncode}: {r.stderr!r}"
    line = fixture_line(r.stdout, fixture="threads")
    caps = captures(tmp_path)
    assert len(caps) == 1, caps
    s = assert_valid(caps[0])  # unmatched_frees == 0, records_lost == 0
    t = rule_tally(caps[0])
    assert_tally(t, line)
    assert t.allocations - t.frees == t.live_at_exit_count

    # the capture's threads that allocated deliberately are the 8 workers
    workers = {w["allocations"]: w for w in line["threads"]}
    assert len(workers) == line["nthreads"], "worker allocation counts must differ"
    got = {}
    for idx, counts in t.threads.items():
        if counts["allocations"] == 0 and counts["frees"] == 0:
            continue
        assert counts["allocations"] in workers, (
            f"capture thread {idx} made {counts['allocations']} deliberate allocations,"
            f" which is no worker's count")
        w = workers[counts["allocations"]]
        assert w["index"] not in got, f"two capture threads match worker {w['index']}"
        got[w["index"]] = (idx, counts)
    assert sorted(got) == list(range(line["nthreads"]))
    for index, (idx, counts) in sorted(got.items()):
        w = line["threads"][index]
        assert counts == {k: w[k] for k in PER_THREAD_KEYS}, f"worker {index}"
        assert t.os_tid.get(idx) == w["tid"], f"worker {index}: os_tid"
    assert sum(w["received"] for w in line["threads"]) == line["cross_thread_frees"]

    # the first thread's start, then its process record, in time order (the
    # process record was a few us before the start it follows)
    head = [json.loads(s) for s in gmtrace("dump", "--json", "--limit", 4, caps[0]).stdout
            .splitlines()]
    head = [e for e in head if e["thread"] == 0 and e["type"] != "stall"]
    assert [e["type"] for e in head[:2]] == ["thread_start", "process"], head
    assert head[1]["ns"] >= head[0]["ns"], head

    # the blocks live at exit are the kept ones (the largest live blocks: the
    # runtime's are smaller), each on the thread that made it
    n = line["live_at_exit_count"]
    listed = summary(caps[0], top=n)["live_at_exit_largest"]
    assert sorted((int(b["ptr"], 16), b["size"]) for b in listed) == sorted(t.live.items())
    kept = collections.Counter(b["thread"] for b in listed)
    assert {idx: kept[idx] for idx, _ in got.values()} == \
        {idx: line["threads"][index]["kept"] for index, (idx, _) in got.items()}
    assert not shm_logs(s["process"]["pid"])


@pytest.mark.parametrize("help_mode", ["off", "always"])
def test_threads_capture_that_cannot_be_written(tmp_path, help_mode):
    """The capture's file reaches the size limit (RLIMIT_FSIZE, SIGXFSZ
    ignored, as a full disk would stop it) while 8 threads record: one
    warning, recording stops, every thread runs to its end, and the capture
    holds the blocks written before the limit, whole. With DRAIN_HELP=always
    the game's threads drain too, so giving up (which hands every chunk
    back) must wait for the drain lock like any drain."""
    limit = 3 << 20

    def limited():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    env = preload_env(tmp_path, {"GMTRACE_DRAIN_HELP": help_mode, "GMTRACE_RING_SIZE": "1M",
                                 "GMTRACE_COMPRESS": "0"})
    r = subprocess.run([str(fx("fx_threads"))], env=env, cwd=str(tmp_path), preexec_fn=limited,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=90)
    assert r.returncode == 0, f"fx_threads: rc {r.returncode}: {r.stderr!r}"
    line = fixture_line(r.stdout, fixture="threads")
    warned = [x for x in r.stderr.decode().splitlines() if "cannot write the capture" in x]
    assert len(warned) == 1, r.stderr
    assert f"(errno {errno.EFBIG}: the file-size limit, ulimit -f)" in warned[0], warned
    caps = captures(tmp_path)
    assert len(caps) == 1, caps
    assert caps[0].stat().st_size <= limit
    s = summary(caps[0])  # whole: no damage
    assert 0 < s["allocations"] < sum(w["allocations"] for w in line["threads"])
    pid = int(caps[0].name.split(".")[-2])
    assert not shm_logs(pid)


def test_key_destructors_that_allocate_to_the_last_round(tmp_path):
    """fx_keydtor: each thread's key destructor allocates in every round the
    C library runs, the last one included, after gmtrace's own destructor.
    A record of the last round left the thread's chunk claimed for good:
    with a small log, a few threads in, every thread waited for room for
    ever. Now a drainer commits such a chunk once its thread is gone, and
    the capture holds every record."""
    r = run_preloaded([fx("fx_keydtor"), 200], tmp_path,
                      extra_env={"GMTRACE_RING_SIZE": "256K"}, timeout=120)
    assert r.returncode == 0, r.stderr
    line = fixture_line(r.stdout, fixture="keydtor")
    assert (line["allocations"], line["frees"], line["live_at_exit_count"]) == (1000, 1000, 0)
    (cap,) = captures(tmp_path)
    assert_tally(rule_tally(cap), line)


MAIN_EXITS = r"""
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>
static void *volatile keep;
static void *worker(void *a)
{
    for (int i = 0; i < 30; i++) {
        keep = malloc(5867); /* (the fixtures' size rule) */
        free(keep);
        usleep(2000);
    }
    keep = malloc(9963);
    return a; /* the last thread: the C library ends the process, exit(0) */
}
int main(void)
{
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    pthread_exit(NULL);
}
"""


def test_a_game_whose_main_thread_calls_pthread_exit_ends(tmp_path):
    """main calls pthread_exit and the game's other thread returns: the C
    library ends the process when its last thread ends, but gmtrace's agent
    thread was one more, and the process never ended (SIGTERM blocked by
    the agent, only SIGKILL). The agent now ends it as the last thread
    would, with exit(0), and the capture is whole."""
    src = tmp_path / "mainexit.c"
    src.write_text(MAIN_EXITS)
    exe = tmp_path / "mainexit"
    subprocess.run(["cc", "-O1", "-pthread", "-fno-builtin", "-o", str(exe), str(src)],
                   check=True, timeout=60)
    r = run_preloaded([exe], tmp_path, timeout=30)
    assert r.returncode == 0, r.stderr
    (cap,) = captures(tmp_path)
    s = summary(cap)
    assert s["exit_status"] == 0, s
    events = [json.loads(x) for x in gmtrace("dump", "--json", cap).stdout.splitlines()]
    mine = [(e["type"], e.get("size")) for e in events
            if e["type"] in ("alloc", "free") and e.get("size") in (5867, 9963)]
    assert mine.count(("alloc", 5867)) == 30 and mine.count(("alloc", 9963)) == 1, mine
