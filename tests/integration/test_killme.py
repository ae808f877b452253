"""test_killme.py - a game that dies: SIGKILL mid-run, abort, SIGSEGV, SIGINT
re-raised by its handler, exit() inside a signal handler, _exit(),
quick_exit() (whose end no _exit hook sees). Under plain
LD_PRELOAD `gmtrace recover` finishes the capture; under `gmtrace run` the
run does it. The capture then holds what the fixture published (fx_killme
writes its counts every 1000 operations): exactly, for the deliberate endings;
at least the last published step and at most one step more, for SIGKILL. No
shared-memory log of the dead process is left behind, and nothing hangs."""
import os
import signal
import subprocess
import time

import pytest

from conftest import (GMTRACE, TALLY_KEYS, assert_tally, assert_valid, capture_of,
                      clean_env, dump_events, fixture_line, fx, gmtrace, kill_if_alive,
                      preload_env, read_json_file, rule_tally, run_captures_json, shm_logs,
                      wait_for)

STEP = 1000  # fx_killme publishes its counts every STEP operations

# preload-help, run-help: the game's thread drains its own chunks as it fills
# them (DRAIN_HELP=always), so a death often comes while it holds the drain
# lock or is halfway through writing a block; under `gmtrace run` the run
# breaks the dead game's hold and goes on after its last whole block
LAUNCHERS = ("preload", "preload-help", "run", "run-help")


def start(tmp_path, launcher, mode, *args):
    """Starts fx_killme MODE progress.json ARGS under the launcher; returns
    (Popen, progress path)."""
    progress = tmp_path / "progress.json"
    argv = [str(fx("fx_killme")), mode, str(progress)] + [str(a) for a in args]
    if launcher.startswith("preload"):
        env = preload_env(tmp_path,
                          {"GMTRACE_DRAIN_HELP": "always"} if launcher == "preload-help" else None)
    else:
        argv = [str(GMTRACE), "run", "--json", "--output", str(tmp_path / "%e.%p.gmt"),
                "--"] + argv
        env = clean_env({"GMTRACE_QUIET": "1", **({"GMTRACE_DRAIN_HELP": "always"}
                                                   if launcher == "run-help" else {})})
    proc = subprocess.Popen(argv, env=env, cwd=str(tmp_path), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    return proc, progress


def finish(proc, timeout=30):
    """Waits for the launched process; returns (rc, stdout, stderr)."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_if_alive(proc)
        pytest.fail(f"{proc.args[0]} did not end within {timeout} s (hang)")
    return proc.returncode, out, err


def status_of(launcher, sig=None, code=None):
    """The exit status each launcher reports for a death by sig or exit(code)."""
    if sig is not None:
        return -sig if launcher.startswith("preload") else 128 + sig
    return code


def the_capture(tmp_path, launcher, pid, out):
    """The capture of pid, finished: recovered (plain preload) or as listed by
    `gmtrace run --json`."""
    cap = capture_of(tmp_path, "fx_killme", pid)
    if launcher.startswith("preload"):
        r = gmtrace("recover", cap, timeout=30)
        assert r.returncode == 0, f"gmtrace recover {cap}: rc {r.returncode}: {r.stderr}"
    else:
        listed = run_captures_json(out)
        assert [c["pid"] for c in listed] == [pid], listed
        assert os.path.samefile(listed[0]["capture"], cap), listed
    assert shm_logs(pid) == [], f"log of {pid} left in /dev/shm"
    return cap


@pytest.mark.parametrize("launcher", LAUNCHERS)
def test_sigkill_mid_run(tmp_path, launcher):
    proc, progress = start(tmp_path, launcher, "loop")
    try:
        first = wait_for(lambda: (p := read_json_file(progress)) and p["ops"] >= 5000 and p,
                         30, "fx_killme to publish 5000 operations")
        pid = first["pid"]
        if launcher.startswith("preload"):
            assert pid == proc.pid
        else:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                assert b"fx_killme" in f.read(), "the pid in the progress file is the game"
        os.kill(pid, signal.SIGKILL)  # the game only, never `gmtrace run`
        rc, out, err = finish(proc)
    finally:
        kill_if_alive(proc)
    assert rc == status_of(launcher, sig=signal.SIGKILL), err
    last = read_json_file(progress)  # the last step published before death
    assert last["pid"] == pid and last["final"] is False and last["ops"] >= first["ops"]
    if launcher.startswith("preload"):
        assert shm_logs(pid), "the dead process's log must survive for recover"
        # the summary points at recover while the log is there, not after
        before = gmtrace("summary", capture_of(tmp_path, "fx_killme", pid), timeout=30).stdout
        assert "its log is still in /dev/shm: `gmtrace recover` adds what it did after the " \
            "last block written" in before, before
    cap = the_capture(tmp_path, launcher, pid, out)
    assert_valid(cap)
    after = gmtrace("summary", cap, timeout=30).stdout
    # (under `gmtrace run` the run drained the log whole: nothing is missing)
    assert "its log is no longer in /dev/shm (drained whole by `gmtrace run` or `gmtrace " \
        "recover`, or gone with a restart)" in after, after

    t = rule_tally(cap, snapshot_at=last["ops"])
    assert last["allocations"] <= t.allocations <= last["allocations"] + STEP
    assert last["frees"] <= t.frees <= last["frees"] + STEP
    assert t.allocations + t.frees <= last["ops"] + STEP
    # the operations are seeded: the capture's first ops operations are the
    # ones the progress file counted, byte for byte
    assert t.snapshot == {k: last[k] for k in TALLY_KEYS}
    assert t.anomalies == []


# mode -> (signal or None, exit code)
ENDINGS = {
    "abort": (signal.SIGABRT, None),
    "segv": (signal.SIGSEGV, None),
    "sigint": (signal.SIGINT, None),
    "exit-in-handler": (None, 3),
    "_exit": (None, 0),
    "quick_exit": (None, 5),
}


@pytest.mark.parametrize("launcher", LAUNCHERS)
@pytest.mark.parametrize("mode", sorted(ENDINGS))
def test_deliberate_ending(tmp_path, launcher, mode):
    proc, progress = start(tmp_path, launcher, mode)
    try:
        rc, out, err = finish(proc)
    finally:
        kill_if_alive(proc)
    sig, code = ENDINGS[mode]
    assert rc == status_of(launcher, sig=sig, code=code), err
    final = fixture_line(out, fixture="killme")
    assert final["final"] is True and final["mode"] == mode
    assert read_json_file(progress) == final
    cap = the_capture(tmp_path, launcher, final["pid"], out)
    s = assert_valid(cap)
    # exit(), _exit() and quick_exit() are seen: their status is known
    assert (s["ended"], s["exit_status"]) == (("exit", code) if code is not None
                                              else (None, None)), s
    t = rule_tally(cap)
    assert_tally(t, final, what=f"{mode}: ")
    if code is not None:  # a normal end leaves its status in the log
        assert [e["status"] for e in t.events if e["type"] == "exit"] == [code]


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


TAKEOVER = "the outside drainer stopped; the game drains its own log again"


def kill_the_run(tmp_path, argv, env, started, settle=0.0, timeout=120):
    """Starts `gmtrace run --output ... -- argv`; once started() gives the
    game's pid (and settle s more), kills the run only and waits for the
    game to end. Returns the pid and what the run and the game wrote on
    stderr."""
    proc = subprocess.Popen([str(GMTRACE), "run", "--output", str(tmp_path / "%e.%p.gmt"), "--"]
                            + [str(a) for a in argv], env=clean_env(env), cwd=str(tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        pid = wait_for(started, 30, "the game to start")
        time.sleep(settle)
        proc.kill()  # `gmtrace run` only: the game goes on
        proc.wait(timeout=10)
        wait_for(lambda: not alive(pid), timeout, "the game to end")
        err = proc.stderr.read().decode()
    finally:
        kill_if_alive(proc)
        proc.stdout.close()
        proc.stderr.close()
    return pid, err


@pytest.mark.parametrize("help_", ("auto", "always"))
def test_the_game_drains_itself_once_gmtrace_run_is_killed(tmp_path, help_):
    """`gmtrace run` killed, the game left running: 2 s later the game takes
    the drain back (one warning line) and ends its capture itself, whole,
    with its log gone from /dev/shm. With DRAIN_HELP=always the game's
    thread drains every chunk it fills, so no chunk waits: the game must
    still see that nobody drains behind it."""
    progress = tmp_path / "progress.json"
    pid, err = kill_the_run(
        tmp_path, [fx("fx_killme"), "loop", progress, "1500000"],
        {"GMTRACE_QUIET": "1", "GMTRACE_DRAIN_HELP": help_},
        lambda: (p := read_json_file(progress)) and p["ops"] >= 100000 and p["pid"])
    final = read_json_file(progress)
    assert final["final"] is True and final["pid"] == pid, final
    assert TAKEOVER in err, err
    cap = capture_of(tmp_path, "fx_killme", pid)
    assert_valid(cap)
    assert_tally(rule_tally(cap), final)
    assert shm_logs(pid) == [], f"log of {pid} left in /dev/shm"


def python_game(tmp_path, name, seconds):
    """A Python game that writes its pid to the file named by its argument,
    keeps 1,000 blocks and sleeps the seconds given; its path."""
    script = tmp_path / f"{name}.py"
    script.write_text("import os, sys, time\n"
                      "open(sys.argv[1] + '.tmp', 'w').write(str(os.getpid()))\n"
                      "os.rename(sys.argv[1] + '.tmp', sys.argv[1])\n"
                      "kept = [bytearray(100) for _ in range(1000)]\n"
                      f"time.sleep({seconds})\n")
    return script


def test_an_idle_game_ends_its_capture_itself_once_gmtrace_run_is_gone(tmp_path):
    """`gmtrace run` killed while the game (a Python script here) sleeps: no
    chunk waits, so nothing is taken back while it sleeps; at its exit the
    game sees that nobody has drained for 2 s and ends the capture itself,
    its last records included, instead of leaving them in /dev/shm."""
    script = python_game(tmp_path, "idle", 4)
    pidfile = tmp_path / "pid"
    # settle: the run drains what start-up committed, so no chunk waits
    pid, err = kill_the_run(tmp_path, ["/usr/bin/python3", script, pidfile],
                            {"GMTRACE_QUIET": "1"},
                            lambda: pidfile.exists() and int(pidfile.read_text()), settle=0.5,
                            timeout=60)
    assert TAKEOVER in err, err
    cap = capture_of(tmp_path, "idle", pid)
    s = assert_valid(cap)
    assert s["process"]["pid"] == pid
    assert any(e["type"] == "exit" for e in dump_events(cap)), "the last records are in"
    assert shm_logs(pid) == [], f"log of {pid} left in /dev/shm"


def test_a_game_ending_just_after_gmtrace_run_is_killed_ends_its_capture(tmp_path):
    """`gmtrace run` killed moments before the game ends: its last beat is
    recent, but its process is gone, so the game ends the capture itself at
    its exit (it waited for 2 s of silence, which never came before the
    exit: the capture stopped short, its end left in /dev/shm)."""
    script = python_game(tmp_path, "brief", 0.5)
    pidfile = tmp_path / "pid"
    pid, err = kill_the_run(tmp_path, ["/usr/bin/python3", script, pidfile],
                            {"GMTRACE_QUIET": "1"},
                            lambda: pidfile.exists() and int(pidfile.read_text()), timeout=60)
    assert TAKEOVER in err, err
    cap = capture_of(tmp_path, "brief", pid)
    s = assert_valid(cap)
    assert s["ended"] == "exit", s["ended"]
    assert shm_logs(pid) == [], f"log of {pid} left in /dev/shm"


def test_recover_force_on_a_running_game_keeps_its_log(tmp_path):
    """`gmtrace recover --force` on a game that runs on writes what it has
    so far and leaves the log in /dev/shm: the game's drainer goes on, and a
    crash after it is recovered as any other (the log was removed, and the
    records written after it were lost)."""
    proc, progress = start(tmp_path, "preload", "loop")
    try:
        wait_for(lambda: (p := read_json_file(progress)) and p["ops"] >= 5000 and p,
                 30, "fx_killme to publish 5000 operations")
        cap = capture_of(tmp_path, "fx_killme", proc.pid)
        r = gmtrace("recover", "--force", cap, timeout=30)
        assert r.returncode == 0, r.stderr
        assert shm_logs(proc.pid), "the running game's log must stay"
        first = read_json_file(progress)
        wait_for(lambda: (p := read_json_file(progress)) and p["ops"] >= first["ops"] + 5000,
                 30, "fx_killme to go on after the recover")
        os.kill(proc.pid, signal.SIGKILL)
        finish(proc)
    finally:
        kill_if_alive(proc)
    last = read_json_file(progress)
    cap = the_capture(tmp_path, "preload", proc.pid, b"")
    t = rule_tally(cap, snapshot_at=last["ops"])
    assert last["allocations"] <= t.allocations <= last["allocations"] + STEP
    assert t.snapshot == {k: last[k] for k in TALLY_KEYS}


def test_a_dead_game_its_parent_has_not_reaped_is_recovered(tmp_path):
    """A game killed while its parent (an editor, a harness) has not reaped
    it yet is a zombie, which kill(pid, 0) still finds: recover called it
    running and listed no orphaned log, and live followed it for ever."""
    proc, progress = start(tmp_path, "preload", "loop")
    try:
        wait_for(lambda: (p := read_json_file(progress)) and p["ops"] >= 5000 and p,
                 30, "fx_killme to publish 5000 operations")
        cap = capture_of(tmp_path, "fx_killme", proc.pid)
        live = subprocess.Popen([str(GMTRACE), "live", str(cap)], env=clean_env(),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        os.kill(proc.pid, signal.SIGKILL)
        # not reaped: Popen.poll() would; /proc says when it is a zombie
        wait_for(lambda: open(f"/proc/{proc.pid}/stat").read().rsplit(")", 1)[1][1] == "Z",
                 30, "the game to be a zombie")
        try:
            out, err = live.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            kill_if_alive(live)
            pytest.fail("gmtrace live still follows a dead game")
        assert live.returncode == 1 and b"gone" in out + err, (out, err)
        # (the capture named: a bare `recover` would also take other tests' logs)
        r = gmtrace("recover", cap, timeout=30)
        assert r.returncode == 0 and "still running" not in r.stdout + r.stderr, r
        assert shm_logs(proc.pid) == []
    finally:
        kill_if_alive(proc)
        proc.wait()
    last = read_json_file(progress)
    t = rule_tally(cap)
    assert last["allocations"] <= t.allocations <= last["allocations"] + STEP
