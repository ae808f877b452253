"""test_launcher.py - a game started by a shell script that execs it
(launcher.sh fx_frames) under `gmtrace run`: the exec'd game is recorded,
frame by frame, in the launcher's process; `--json` lists every capture the
run made; with `--no-follow` only the first process (the shell) is."""
import os
import shutil
import subprocess

import pytest

from conftest import (GMTRACE, LIB, assert_tally, assert_valid, captures, clean_env, fixture_line,
                      fx, kill_if_alive, rule_tally, run_captures_json, shm_logs)


def run_json(tmp_path, options, argv):
    """gmtrace run --json [options] -- argv, captures in tmp_path; returns
    the game's (fx_frames') JSON line, the captures listed, the run's stderr
    and the pid of `gmtrace run` (the first process's parent)."""
    proc = subprocess.Popen([str(GMTRACE), "run", "--json", *options, "--output",
                             str(tmp_path / "%e.%p.gmt"), "--", *[str(a) for a in argv]],
                            env=clean_env({"GMTRACE_QUIET": "1"}), cwd=str(tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = proc.communicate(timeout=60)
    finally:
        kill_if_alive(proc)
    assert proc.returncode == 0, f"gmtrace run: rc {proc.returncode}: {err!r}"
    return fixture_line(out, fixture="frames"), run_captures_json(out), err, proc.pid


def run_launcher(tmp_path, *options):
    """gmtrace run [options] -- launcher.sh fx_frames (see run_json)."""
    game, listed, _, pid = run_json(tmp_path, options, [fx("launcher.sh"), fx("fx_frames")])
    return game, listed, pid


def check_listing(tmp_path, listed):
    """Every capture in the folder is listed once, with its pid, events and size."""
    assert sorted(os.path.realpath(c["capture"]) for c in listed) == \
        sorted(os.path.realpath(p) for p in captures(tmp_path))
    by_path = {}
    for c in listed:
        # the shell's command substitutions are forked children: they may free
        # what the shell allocated before forking
        s = assert_valid(c["capture"], forked=True)
        assert s["process"]["pid"] == c["pid"], c
        assert c["records"] >= s["events"] > 0, c  # records: from block headers
        assert os.path.getsize(c["capture"]) == c["bytes"], c
        assert shm_logs(c["pid"]) == [], f"log of {c['pid']} left in /dev/shm"
        by_path[c["capture"]] = s
    return by_path


def test_exec_from_launcher_is_recorded(tmp_path):
    game, listed, run_pid = run_launcher(tmp_path)
    sums = check_listing(tmp_path, listed)
    games = [p for p, s in sums.items() if s["process"]["exe"] == str(fx("fx_frames"))]
    assert len(games) == 1, f"the exec'd game has one capture: {listed}"
    cap = games[0]
    s = assert_valid(cap)
    assert s["frames"] == game["frames"] == 100
    assert s["process"]["ppid"] == run_pid, "the game runs in the first process"
    # the shell exec'd the game: same process, whose shell part has its own capture
    shells = [p for p, x in sums.items()
              if x["process"]["pid"] == s["process"]["pid"] and p != cap]
    assert len(shells) == 1, f"the launcher's own capture, before its exec: {listed}"
    assert_valid(shells[0])  # the launcher itself was not forked
    t = rule_tally(cap)
    assert_tally(t, game, keys=("allocations", "frees", "allocated_bytes", "freed_bytes",
                                "live_at_exit_count", "live_at_exit_bytes",
                                "peak_live_bytes"))
    assert t.frames == game["frames"]
    assert t.frame_allocations == game["frame_allocations"]
    assert t.frame_allocated_bytes == game["frame_allocated_bytes"]
    assert [e["type"] for e in rule_tally(shells[0]).events if e["type"] == "exec"] == ["exec"]


@pytest.mark.parametrize("lib", ("libgmtrace.so", "gm.so"))
def test_no_follow_records_only_the_first_process(tmp_path, lib):
    """Also with the library preloaded under another file name (`gmtrace
    run --lib`): its LD_PRELOAD entry was looked for as "libgmtrace", left
    in place, and the game behind the launcher recorded all the same."""
    options = ("--no-follow",)
    if lib != "libgmtrace.so":
        shutil.copy(LIB, tmp_path / lib)
        options += ("--lib", str(tmp_path / lib))
    game, listed, run_pid = run_launcher(tmp_path, *options)
    assert game["frames"] == 100  # the game still ran, unrecorded
    check_listing(tmp_path, listed)
    assert len(listed) == 1, f"only the launcher shell is recorded, got {listed}"
    s = assert_valid(listed[0]["capture"])
    assert s["process"]["ppid"] == run_pid, "the capture is the first process's"
    assert s["process"]["exe"] != str(fx("fx_frames"))


@pytest.mark.parametrize("late", (False, True), ids=("at-once", "after-a-while"))
def test_a_game_a_launcher_leaves_in_the_background_is_recorded(tmp_path, late):
    """The launcher starts the game in the background and exits at once:
    the run ended with the launcher, before the game announced its log, and
    the game drained itself unlisted (a SIGKILL then lost its records). The
    run is the subreaper of the game's processes now, and waits for them;
    also for one started in the background by a process that ran a while
    (the wait for a process to announce counts from when all was quiet)."""
    script = tmp_path / "bg.sh"
    game = f"(sleep 0.3; exec {fx('fx_frames')}) &"
    script.write_text("#!/bin/sh\n" + (f"(sleep 2.5; {game}) &" if late else game) +
                      "\nexit 0\n")
    script.chmod(0o755)
    game, listed, err, _ = run_json(tmp_path, (), [script])
    assert b"draining inside the game" not in err, err
    sums = check_listing(tmp_path, listed)
    (cap,) = [p for p, s in sums.items() if s["process"]["exe"] == str(fx("fx_frames"))]
    assert assert_valid(cap)["frames"] == game["frames"] == 100


def test_an_unrecorded_program_left_in_the_background_is_not_waited_for(tmp_path):
    """The launcher leaves a program in the background that exec'd without
    the preload at work (here GMTRACE_ENABLED=0; a static binary, an
    environment of its own): its forked shell's log ended with the exec, no
    new image announced, and the run waited for the program to end, a CI job
    held for as long as a helper server runs. The run ends while it runs."""
    script = tmp_path / "bg.sh"
    pidfile = tmp_path / "helper.pid"
    script.write_text("#!/bin/sh\n(GMTRACE_ENABLED=0 exec sleep 120) </dev/null >/dev/null 2>&1 &\n"
                      f"echo $! > {pidfile}\nexec {fx('fx_frames')}\n")
    script.chmod(0o755)
    try:
        game, listed, _, _ = run_json(tmp_path, (), [script])
        helper = int(pidfile.read_text())
        assert os.path.exists(f"/proc/{helper}"), "the run ended while the helper runs"
        check_listing(tmp_path, listed)
        assert helper in [c["pid"] for c in listed], "the helper's shell, until its exec"
        assert game["frames"] == 100
    finally:
        if pidfile.exists():
            try:
                os.kill(int(pidfile.read_text()), 9)
            except ProcessLookupError:
                pass


@pytest.mark.parametrize("how", ("env-i", "unset"))
def test_a_game_execd_with_an_environment_of_its_own_is_recorded(tmp_path, how):
    """A launcher execs the game with an environment it made: `env -i`
    (execvp after clearing its own), or a shell that unset the preload
    (execve with the shell's list). The preload and the run's settings went
    with the rest and the game ran unrecorded, unsaid; they go along now."""
    script = tmp_path / "own_env.sh"
    line = (f"exec env -i PATH=/usr/bin:/bin {fx('fx_frames')}" if how == "env-i" else
            f"unset LD_PRELOAD; for v in $(env | grep -o '^GMTRACE_[A-Z_]*'); do unset $v; "
            f"done; exec {fx('fx_frames')}")
    script.write_text("#!/bin/sh\n" + line + "\n")
    script.chmod(0o755)
    game, listed, _, _ = run_json(tmp_path, (), [script])
    sums = check_listing(tmp_path, listed)
    (cap,) = [p for p, s in sums.items() if s["process"]["exe"] == str(fx("fx_frames"))]
    assert assert_valid(cap)["frames"] == game["frames"] == 100


LEADER_GONE = r"""
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
static void *worker(void *a)
{
	(void)a;
	for (int r = 0; r < 10; r++) {
		for (int i = 0; i < 1000; i++) {
			void *volatile q = malloc(32 + i);
			free(q);
		}
		usleep(100000);
	}
	exit(0);
}
int main(void)
{
	pthread_t t;
	if (fork() != 0)
		return 0; /* the program the run started ends at once */
	pthread_create(&t, NULL, worker, NULL);
	usleep(200000);
	pthread_exit(NULL); /* the main thread ends, the process records on */
}
"""


def test_a_process_whose_main_thread_ended_is_drained_to_its_end(tmp_path):
    """Its main thread gone (pthread_exit), a process's list of mappings
    reads empty: the run took that for an exec into a program not recorded,
    closed its capture a quarter of a second after the program it started
    ended, and listed it while it recorded on."""
    (tmp_path / "leader.c").write_text(LEADER_GONE)
    exe = tmp_path / "leader"
    subprocess.run(["cc", "-o", str(exe), str(tmp_path / "leader.c"), "-lpthread"], check=True,
                   timeout=60)
    r = subprocess.run([str(GMTRACE), "run", "--json", "--output", str(tmp_path / "%e.%p.gmt"),
                        "--", str(exe)], env=clean_env({"GMTRACE_QUIET": "1"}),
                       cwd=str(tmp_path), capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    listed = run_captures_json(r.stdout)
    assert len(listed) == 2, listed
    child = max(listed, key=lambda c: c["records"])
    s = assert_valid(child["capture"], forked=True)
    assert s["allocations"] >= 10000 and s["ended"] == "exit", s
    assert b"the outside drainer stopped" not in r.stderr, r.stderr


CLEARENV_FORK = r"""
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	pid_t p;
	(void)argc;
	clearenv(); /* a launcher that clears its environment, then starts the game */
	p = fork();
	if (p == 0) {
		execl(argv[1], argv[1], (char *)NULL);
		_exit(127);
	}
	return waitpid(p, NULL, 0) == p ? 0 : 1;
}
"""


@pytest.mark.parametrize("how", ("clearenv-fork", "renamed-lib"))
def test_the_preload_goes_along_also_after_clearenv_and_under_another_name(tmp_path, how):
    """A launcher that cleared its environment and forked: the fork child
    read what goes along again from the cleared environment, so its exec
    lost the preload. And a library preloaded under another file name
    (`gmtrace run --lib`) was looked for as "libgmtrace" and not found."""
    if how == "clearenv-fork":
        (tmp_path / "ce.c").write_text(CLEARENV_FORK)
        exe = tmp_path / "ce"
        subprocess.run(["cc", "-o", str(exe), str(tmp_path / "ce.c")], check=True, timeout=60)
        argv, options = [exe, fx("fx_frames")], ()
    else:
        lib = tmp_path / "gm.so"
        shutil.copy(LIB, lib)
        argv = ["env", "-i", "PATH=/usr/bin:/bin", fx("fx_frames")]
        options = ("--lib", str(lib))
    game, listed, _, _ = run_json(tmp_path, options, argv)
    sums = check_listing(tmp_path, listed)
    (cap,) = [p for p, s in sums.items() if s["process"]["exe"] == str(fx("fx_frames"))]
    assert assert_valid(cap)["frames"] == game["frames"] == 100
