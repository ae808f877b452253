"""fx_holders: threads that recorded a little and then wait for each other.
Each keeps its chunk of the shared-memory log until the chunk is full or
the thread ends; with more such threads than the log has chunks the next
thread waited for a chunk for ever and the game hung (a job system of 16
workers under a 1 MiB log, 128 under the default 8 MiB). The log now grows
when every chunk is held by a thread, said once on stderr, and nothing is
lost."""
import subprocess

from conftest import (GMTRACE, assert_tally, assert_valid, captures, fixture_line, fx,
                      preload_env, rule_tally, run_captures_json)

GROW = "every chunk of the shared-memory log is held by a thread"


def test_more_waiting_threads_than_chunks_run_and_are_recorded(tmp_path):
    env = preload_env(tmp_path, {"GMTRACE_RING_SIZE": "256K"})  # 4 chunks
    del env["GMTRACE_QUIET"]
    p = subprocess.run([fx("fx_holders"), "40"], env=env, cwd=str(tmp_path),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stderr.count(GROW) == 1, p.stderr
    line = fixture_line(p.stdout, fixture="holders")
    caps = captures(tmp_path)
    assert len(caps) == 1, caps
    s = assert_valid(caps[0])
    assert len([t for t in s["threads"] if t["allocations"] or t["frees"]]) >= 41
    assert_tally(rule_tally(caps[0]), line)
    # the threads that waited for the log to grow: said by summary
    assert s["log_stalls"] >= 1 and s["log_stall_ns"] >= s["log_stall_max_ns"] > 0, s
    text = subprocess.run([GMTRACE, "summary", caps[0]], capture_output=True, text=True,
                          timeout=60)
    assert f"  {'log stalls':<20} {s['log_stalls']:>12}  (" in text.stdout, text.stdout


def test_under_gmtrace_run_the_outside_drainer_sees_the_new_chunks(tmp_path):
    p = subprocess.run([GMTRACE, "run", "--json", "--ring-size", "256K", "--",
                        fx("fx_holders"), "40"], cwd=str(tmp_path), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert GROW in p.stderr, p.stderr
    line = fixture_line(p.stdout, fixture="holders")
    caps = run_captures_json(p.stdout)
    assert len(caps) == 1, caps
    assert_valid(caps[0]["capture"])
    assert_tally(rule_tally(caps[0]["capture"]), line)
