"""test_fork.py - fx_forker: a parent and its forked child each get their own
valid capture matching their own JSON line (the child's starts at the fork:
the 5 blocks it inherits are neither its allocations nor freed by it). With
`exec`, the child's capture ends at the exec and /bin/true gets a capture of
its own, under the same pid."""
import os
import subprocess

import pytest

from conftest import (GMTRACE, assert_tally, assert_valid, capture_of, captures, clean_env,
                      fixture_line, fx, rule_tally, run_captures_json, run_preloaded,
                      shm_logs)

KEYS = ("allocations", "frees", "allocated_bytes", "freed_bytes", "live_at_exit_count",
        "live_at_exit_bytes")


def launch(tmp_path, launcher, args):
    argv = [fx("fx_forker")] + args
    if launcher == "preload":
        return run_preloaded(argv, tmp_path, timeout=30)
    # run-help: the game's threads drain into their capture too (DRAIN_HELP=
    # always); the child drops the parent's descriptor and opens its own
    env = {"GMTRACE_QUIET": "1"}
    if launcher == "run-help":
        env["GMTRACE_DRAIN_HELP"] = "always"
    return subprocess.run([str(GMTRACE), "run", "--json", "--output",
                           str(tmp_path / "%e.%p.gmt"), "--"] + [str(a) for a in argv],
                          env=clean_env(env), cwd=str(tmp_path),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)


@pytest.mark.parametrize("launcher", ("preload", "run", "run-help"))
@pytest.mark.parametrize("exec_", (False, True), ids=("exit", "exec"))
def test_parent_and_child_captures(tmp_path, launcher, exec_):
    r = launch(tmp_path, launcher, ["exec"] if exec_ else [])
    assert r.returncode == 0, f"fx_forker: rc {r.returncode}: {r.stderr!r}"
    parent = fixture_line(r.stdout, role="parent")
    child = fixture_line(r.stdout, role="child")
    assert parent["child_pid"] == child["pid"] and child["ppid"] == parent["pid"]
    assert parent["child_exec"] is exec_

    pcap = capture_of(tmp_path, "fx_forker", parent["pid"])
    ccap = capture_of(tmp_path, "fx_forker", child["pid"])
    ps, cs = assert_valid(pcap), assert_valid(ccap)
    assert (ps["process"]["pid"], cs["process"]["pid"]) == (parent["pid"], child["pid"])
    assert cs["process"]["ppid"] == parent["pid"]

    pt, ct = rule_tally(pcap), rule_tally(ccap)
    assert_tally(pt, parent, keys=KEYS + ("peak_live_bytes",), what="parent: ")
    assert_tally(ct, child, keys=KEYS, what="child: ")
    forks = [e["child_pid"] for e in pt.events if e["type"] == "fork"]
    assert forks == [child["pid"]], "the parent's log names its child"
    assert [e["type"] for e in ct.events if e["type"] == "exec"] == (["exec"] if exec_ else [])

    expected = {pcap.name, ccap.name}
    if exec_:
        tcap = capture_of(tmp_path, "true", child["pid"])
        ts = assert_valid(tcap)
        assert ts["process"]["exe"].endswith("/true")
        assert ts["process"]["pid"] == child["pid"]
        expected.add(tcap.name)
    assert {p.name for p in tmp_path.glob("*.gmt*")} == expected
    if launcher.startswith("run"):
        listed = run_captures_json(r.stdout)
        assert sorted(c["capture"] for c in listed) == sorted(str(tmp_path / n)
                                                              for n in expected)
    for pid in (parent["pid"], child["pid"]):
        assert shm_logs(pid) == [], f"log of {pid} left in /dev/shm"


@pytest.mark.parametrize("launcher", ("preload", "run"))
def test_a_clone_child_runs_unrecorded_and_the_parents_capture_stays_its_own(tmp_path,
                                                                            launcher):
    """clone() without CLONE_VM copies the parent's memory, its place in the
    log too: the child wrote its records into the parent's chunk, and the
    parent's capture came out with the child's allocations in place of its
    own, its exit lost. The child runs unrecorded now."""
    r = launch(tmp_path, launcher, ["clone"])
    assert r.returncode == 0, f"fx_forker: rc {r.returncode}: {r.stderr!r}"
    parent = fixture_line(r.stdout, role="parent")
    child = fixture_line(r.stdout, role="child")
    assert parent["child_pid"] == child["pid"] and child["ppid"] == parent["pid"]
    pcap = capture_of(tmp_path, "fx_forker", parent["pid"])
    ps = assert_valid(pcap)
    assert ps["ended"] == "exit"
    pt = rule_tally(pcap)
    assert_tally(pt, parent, keys=KEYS + ("peak_live_bytes",), what="parent: ")
    assert [e["child_pid"] for e in pt.events if e["type"] == "fork"] == [child["pid"]]
    assert {p.name for p in tmp_path.glob("*.gmt*")} == {pcap.name}, "no capture for the child"
    if launcher == "run":
        assert [c["capture"] for c in run_captures_json(r.stdout)] == [str(pcap)]
    for pid in (parent["pid"], child["pid"]):
        assert shm_logs(pid) == [], f"log of {pid} left in /dev/shm"


@pytest.mark.parametrize("launcher", ("preload", "run"))
def test_daemon_ends_the_parents_capture_and_records_the_daemon(tmp_path, launcher):
    """daemon(3) forks and its parent leaves by an _exit inside the C
    library: the parent's capture had no end (read as killed) and, drained
    in the game, its log stayed in /dev/shm."""
    r = launch(tmp_path, launcher, ["daemon"])
    assert r.returncode == 0, f"fx_forker: rc {r.returncode}: {r.stderr!r}"
    parent = fixture_line(r.stdout, role="parent")
    child = fixture_line(r.stdout, role="child")
    pcap = capture_of(tmp_path, "fx_forker", parent["pid"])
    ccap = capture_of(tmp_path, "fx_forker", child["pid"])
    ps, cs = assert_valid(pcap), assert_valid(ccap, forked=True)
    assert (ps["ended"], ps["exit_status"]) == ("exit", 0), ps
    assert cs["ended"] == "exit"
    assert_tally(rule_tally(pcap), parent, keys=KEYS, what="parent: ")
    assert_tally(rule_tally(ccap), child, keys=KEYS, what="child: ")
    for pid in (parent["pid"], child["pid"]):
        assert shm_logs(pid) == [], f"log of {pid} left in /dev/shm"


def test_the_child_starts_its_log_without_touching_the_parents_tables(tmp_path):
    # The child's only faults beyond a plain fork's (19 here) are its own
    # ring's pages (8 MiB, 2048 pages, populated at the start): resetting
    # the per-thread totals touched all 23 MiB of their two tables, 5,700
    # pages more, 20 ms and 23 MiB for every fork child.
    r = run_preloaded([fx("fx_forker")], tmp_path, timeout=30)
    assert r.returncode == 0, r.stderr
    child = fixture_line(r.stdout, role="child")
    ring_pages = (8 << 20) // 4096
    assert 0 <= child["minor_faults"] < ring_pages + 1024, child


UMASK_GAME = r"""
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
static void *volatile keep[100];
int main(void)
{
    umask(0777); /* a game that takes every permission from what it makes */
    pid_t p = fork();
    for (int i = 0; i < 100; i++)
        keep[i] = malloc(16);
    if (!p)
        _exit(0);
    waitpid(p, 0, 0);
    return 0;
}
"""


START_UMASK = os.umask(0o022)
os.umask(START_UMASK)


def test_a_game_that_sets_its_umask_leaves_readable_captures(tmp_path):
    """umask(0777) before a fork: the child's capture and log were made with
    no permission at all (mode 000): its own user could not read them, and
    `gmtrace run` could not drain it. Owner read and write are kept."""
    src = tmp_path / "um.c"
    src.write_text(UMASK_GAME)
    exe = tmp_path / "um"
    subprocess.run(["cc", "-O1", "-o", str(exe), str(src)], check=True, timeout=60)
    r = run_preloaded([exe], tmp_path, timeout=30)
    assert r.returncode == 0, r.stderr
    caps = captures(tmp_path)
    assert len(caps) == 2, caps
    # the parent's, made before the umask, as the umask then said; the child's 0600
    modes = sorted(os.stat(cap).st_mode & 0o777 for cap in caps)
    assert modes == sorted([0o600, 0o644 & ~START_UMASK]), [oct(m) for m in modes]
    for cap in caps:
        assert_valid(cap, forked=True)


CLONE_NULL = r"""
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
static char stack[65536];
int main(void)
{
	int rc = clone(NULL, stack + sizeof(stack), SIGCHLD, NULL);
	printf("%d %d\n", rc, rc < 0 ? errno : 0);
	return 0;
}
"""


def test_clone_without_a_function_fails_as_the_c_library_does(tmp_path):
    """clone(NULL, ...) is EINVAL: the hook put its own start in place of
    the NULL, so a child was made and jumped to address 0."""
    (tmp_path / "cl.c").write_text(CLONE_NULL)
    exe = tmp_path / "cl"
    subprocess.run(["cc", "-o", str(exe), str(tmp_path / "cl.c")], check=True, timeout=60)
    plain = subprocess.run([str(exe)], capture_output=True, text=True, timeout=30)
    r = run_preloaded([exe], tmp_path, timeout=30)
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode() if isinstance(r.stdout, bytes) else r.stdout
    assert out == plain.stdout == "-1 22\n", (out, plain.stdout)


SETENV_FORK = r"""
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	pid_t p;
	(void)argc;
	setenv("GMTRACE_OUTPUT", argv[1], 1); /* the worker's own capture name */
	if ((p = fork()) == 0) {
		free(malloc(100));
		_exit(0);
	}
	waitpid(p, NULL, 0);
	setenv("GMTRACE_ENABLED", "0", 1); /* this one is not to be recorded */
	if ((p = fork()) == 0) {
		free(malloc(100));
		_exit(0);
	}
	waitpid(p, NULL, 0);
	return 0;
}
"""


def test_a_fork_child_reads_the_settings_its_parent_set_before_forking(tmp_path):
    """A parent sets a worker's options with setenv and forks (a worker pool):
    the child reads them, as a fork child always did (it took its parent's
    as first read for a while, which a launcher that cleared its environment
    needed; that case keeps them, as test_launcher shows)."""
    (tmp_path / "se.c").write_text(SETENV_FORK)
    exe = tmp_path / "se"
    subprocess.run(["cc", "-o", str(exe), str(tmp_path / "se.c")], check=True, timeout=60)
    r = run_preloaded([exe, tmp_path / "worker.%p.gmt"], tmp_path, timeout=30)
    assert r.returncode == 0, r.stderr
    names = sorted(p.name for p in tmp_path.glob("*.gmt*"))
    workers = [n for n in names if n.startswith("worker.")]
    assert len(workers) == 1 and len(names) == 2, names
