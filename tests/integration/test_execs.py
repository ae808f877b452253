"""test_execs.py - fx_execs: one process image after another through each of
the eight exec entry points (execve, execv, execvp, execvpe, fexecve, execl,
execlp, execle). The preload follows every exec: nine captures, one per image,
named <program>.<pid>.gmt then .1 to .8; images 0..7 each end with an exec
record and their own block live, the last one with nothing live."""
import errno
import struct
import subprocess

import pytest

from conftest import (assert_tally, assert_valid, dump_events, fixture_line, fx, gmtrace,
                      rule_tally, run_preloaded)

SIZE = [4096 * k + 1771 for k in range(1, 10)]


def test_every_exec_entry_point_is_followed(tmp_path):
    r = run_preloaded([fx("fx_execs")], tmp_path, {"GMTRACE_OUTPUT": str(tmp_path / "%e.%p.gmt")},
                      timeout=60)
    assert r.returncode == 0, r.stderr
    assert fixture_line(r.stdout, fixture="execs")["steps"] == 8
    caps = sorted(tmp_path.iterdir(), key=lambda p: (len(p.name), p.name))
    pid = caps[0].name.split(".")[1]
    assert [p.name for p in caps] == [f"fx_execs.{pid}.gmt"] + \
        [f"fx_execs.{pid}.gmt.{i}" for i in range(1, 9)]
    for step, cap in enumerate(caps):
        s = assert_valid(cap)
        assert s["process"]["pid"] == int(pid)
        events = list(dump_events(cap))
        execs = [e for e in events if e["type"] == "exec"]
        mine = [e for e in events if e["type"] == "alloc" and e["size"] == SIZE[step]]
        assert len(mine) == 1, (step, mine)
        t = rule_tally(cap)
        live = (t.live_at_exit_count, t.live_at_exit_bytes)
        if step < 8:
            assert len(execs) == 1, (step, execs)
            assert live == (1, SIZE[step]), (step, live)
        else:
            assert execs == [] and live == (0, 0), (step, execs, live)


def record_block_kinds(path):
    """The kinds of a capture's record blocks in file order (clock blocks
    left out), read from the block headers (interpose/log/FORMAT.md)."""
    data = path.read_bytes()
    off = struct.unpack_from("<I", data, 12)[0]
    kinds = []
    while off + 48 <= len(data):
        magic, kind = struct.unpack_from("<IH", data, off)
        assert magic == 0x4B424D47, f"{path}: no block at offset {off}"
        stored = struct.unpack_from("<I", data, off + 24)[0]
        if kind != 3:
            kinds.append(kind)
        off += 48 + stored
    assert off == len(data), f"{path}: {len(data) - off} bytes past the last block"
    return kinds


@pytest.mark.parametrize("launcher", ["preload", "run"])
def test_a_failed_exec_leaves_recording_and_draining_as_they_were(tmp_path, launcher):
    """fx_execs fail: the exec finds no program; the process goes on, and so
    does its recording: one exec record, then every allocation after it.
    The exec turned the game's threads' draining off for its last drain;
    it is on again after the failure (DRAIN_HELP=always: the thread drains
    the chunks it fills, packed and never compressed, kind 6, where the
    drainer, the game's thread or `gmtrace run`, compresses them while a
    core is free, kind 7). Until the hooks said so, draining stayed off for
    the rest of the process, and every block was kind 7."""
    env = {"GMTRACE_OUTPUT": str(tmp_path / "%e.%p.gmt"), "GMTRACE_DRAIN_HELP": "always"}
    if launcher == "run":
        env["GMTRACE_QUIET"] = "1"
        # --no-compact: the run would compress the thread's blocks at the end
        r = gmtrace("run", "--no-compact", "--", fx("fx_execs"), "fail", cwd=tmp_path,
                    extra_env=env)
    else:
        r = run_preloaded([fx("fx_execs"), "fail"], tmp_path, env, timeout=60)
    assert r.returncode == 0, r.stderr
    line = fixture_line(r.stdout, fixture="execs")
    assert line["exec_errno"] == errno.ENOENT
    caps = sorted(tmp_path.glob("*.gmt*"))
    assert len(caps) == 1, caps
    assert_valid(caps[0])
    assert [e["type"] for e in dump_events(caps[0])].count("exec") == 1
    assert_tally(rule_tally(caps[0]), line)
    # the thread takes the drain lock only when it is free, so under load
    # (a drainer preempted while it holds the lock) many chunks can still
    # go to the drainer; with draining left off the thread wrote none
    kinds = record_block_kinds(caps[0])
    assert kinds.count(6) > 0, f"block kinds {kinds}: the thread drained none"


def test_run_with_draining_off_leaves_it_to_the_run(tmp_path):
    """DRAIN_HELP=off under `gmtrace run`: the game keeps no descriptor on
    the capture, `gmtrace run` writes every block, and the capture is whole."""
    r = gmtrace("run", "--", fx("fx_execs"), "fail", cwd=tmp_path,
                extra_env={"GMTRACE_OUTPUT": str(tmp_path / "%e.%p.gmt"),
                           "GMTRACE_DRAIN_HELP": "off", "GMTRACE_QUIET": "1"})
    assert r.returncode == 0, r.stderr
    line = fixture_line(r.stdout, fixture="execs")
    caps = sorted(tmp_path.glob("*.gmt*"))
    assert len(caps) == 1, caps
    assert_valid(caps[0])
    assert_tally(rule_tally(caps[0]), line)


def test_execl_takes_as_many_arguments_as_the_c_library(tmp_path):
    """fx_execs many: execl with 5,002 arguments runs the new image with all
    of them, as without gmtrace (gmtrace's execl stopped at 4,096: E2BIG),
    and both images are recorded."""
    r = run_preloaded([fx("fx_execs"), "many"], tmp_path,
                      {"GMTRACE_OUTPUT": str(tmp_path / "%e.%p.gmt")}, timeout=60)
    assert r.returncode == 0, r.stderr
    assert fixture_line(r.stdout, fixture="execs")["argc"] == 5002
    caps = sorted(tmp_path.glob("*.gmt*"))
    assert len(caps) == 2, caps
    for cap in caps:
        assert_valid(cap)


BIG_ENV_EXEC = r"""
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#define N 20000
static char *envp[N + 1];
static void *worker(void *a)
{
	char *argv[] = {"/bin/echo", "exec'd", NULL};
	(void)a;
	execve("/bin/echo", argv, envp);
	perror("execve");
	return NULL;
}
int main(void)
{
	pthread_attr_t at;
	pthread_t t;
	for (int i = 0; i < N; i++) {
		envp[i] = malloc(16);
		snprintf(envp[i], 16, "V%d=1", i);
	}
	pthread_attr_init(&at);
	pthread_attr_setstacksize(&at, 128 * 1024); /* a worker thread's small stack */
	pthread_create(&t, &at, worker, NULL);
	pthread_join(t, NULL);
	return 1;
}
"""


def test_an_exec_with_a_huge_environment_from_a_small_stack(tmp_path):
    """The exec hooks build the list they pass on (the preload added) on the
    caller's stack: 20,000 entries from a 128 KiB thread stack overflowed
    it, where the C library's exec needs no room for them."""
    (tmp_path / "bigenv.c").write_text(BIG_ENV_EXEC)
    exe = tmp_path / "bigenv"
    subprocess.run(["cc", "-o", str(exe), str(tmp_path / "bigenv.c"), "-lpthread"],
                   check=True, timeout=60)
    r = run_preloaded([exe], tmp_path, timeout=30)
    out = r.stdout.decode() if isinstance(r.stdout, bytes) else r.stdout
    assert (r.returncode, out) == (0, "exec'd\n"), r.stderr
