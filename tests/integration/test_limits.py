"""A game under a file-size limit (ulimit -f): the shared-memory log is a
file too, and sizing it past the limit would kill the game (SIGXFSZ, exit
153) before main. gmtrace makes the log smaller to fit, with one warning,
or records nothing when even the smallest log would not fit, and the game
runs either way, leaving nothing in /dev/shm."""
import json
import os
import resource
import subprocess

from conftest import GMTRACE, captures, fx, preload_env, shm_logs


def run_limited(tmp_path, limit):
    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    env = preload_env(tmp_path)
    del env["GMTRACE_QUIET"]
    p = subprocess.Popen(["/bin/sh", "-c", "exec /bin/true"], env=env, cwd=str(tmp_path),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         preexec_fn=small_files)
    out, err = p.communicate(timeout=60)
    return p.pid, p.returncode, err.decode()


def test_a_limit_below_the_log_makes_it_smaller(tmp_path):
    pid, rc, err = run_limited(tmp_path, 4 << 20)  # the log is 8 MiB by default
    assert rc == 0, err
    assert "the file-size limit (ulimit -f) makes the shared-memory log smaller" in err
    assert len(captures(tmp_path)) == 2, err  # the shell's and true's
    assert shm_logs(pid) == []


def test_a_limit_below_the_smallest_log_records_nothing(tmp_path):
    pid, rc, err = run_limited(tmp_path, 100 << 10)
    assert rc == 0, err
    assert "cannot create the shared-memory log: File too large (the file-size limit" in err
    assert captures(tmp_path) == []
    assert shm_logs(pid) == []


def test_a_capture_cut_by_the_limit_ends_with_whole_blocks(tmp_path):
    """The capture reaches the limit in the middle of a block: the part of
    the block written goes, and the capture reads to its end without damage
    (it ended with half a block, which every report called damage)."""
    import signal

    def small_files():
        signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
        resource.setrlimit(resource.RLIMIT_FSIZE, (2 << 20, 2 << 20))

    env = preload_env(tmp_path, {"GMTRACE_RING_SIZE": "1M"})
    p = subprocess.Popen([str(fx("fx_threads"))], env=env, cwd=str(tmp_path),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=small_files)
    out, err = p.communicate(timeout=120)
    r = subprocess.CompletedProcess(p.args, p.returncode, out, err)
    for log in shm_logs(p.pid):  # what the capture could not take stays there
        os.unlink(log)
    assert r.returncode == 0, r.stderr
    assert b"cannot write the capture (errno 27: the file-size limit, ulimit -f)" in r.stderr
    (cap,) = captures(tmp_path)
    assert 1 << 20 < cap.stat().st_size <= 2 << 20
    s = subprocess.run([str(GMTRACE), "summary", "--json", str(cap)], capture_output=True,
                       timeout=60)
    assert s.returncode == 0, s.stderr
    # the capture says where and why recording stopped (it read as a game
    # killed, its log drained or gone)
    assert json.loads(s.stdout)["recording_stopped_errno"] == 27
    text = subprocess.run([str(GMTRACE), "summary", str(cap)], capture_output=True, text=True,
                          timeout=60)
    assert ("ended     recording stopped here: the capture could not be written (File too "
            "large); the game went on unrecorded\n") in text.stdout, text.stdout


def test_a_full_disk_under_gmtrace_run_stops_recording_not_the_game(tmp_path):
    """Under `gmtrace run` the run writes the capture: when it cannot (a
    full disk, the file-size limit), the game's threads waited for room in
    the log for ever while the run kept beating. Now the run says so and
    stops beating: the game takes its log back, cannot write either, and
    stops recording with one warning and goes on."""
    import signal

    def small_files():
        signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
        resource.setrlimit(resource.RLIMIT_FSIZE, (2 << 20, 2 << 20))

    env = preload_env(tmp_path, {"GMTRACE_RING_SIZE": "1M"})
    del env["LD_PRELOAD"]
    p = subprocess.Popen([str(GMTRACE), "run", "--", str(fx("fx_threads"))], env=env,
                         cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         preexec_fn=small_files)
    out, err = p.communicate(timeout=120)
    (cap,) = captures(tmp_path)
    assert shm_logs(int(cap.name.split(".")[-2])) == [], "the game removed its log"
    assert p.returncode == 0, err
    err = err.decode()
    assert ": cannot write the capture: File too large; the game takes its log back\n" in err
    assert ("cannot write the capture (errno 27: the file-size limit, ulimit -f); recording "
            "stopped, the game goes on") in err
    # the run handed the log back at once (not after 2 s of silence)
    assert "the outside drainer could not write the capture and stopped;" in err
    assert cap.stat().st_size <= 2 << 20
    s = subprocess.run([str(GMTRACE), "summary", "--json", str(cap)], capture_output=True,
                       timeout=60)
    assert s.returncode in (0, 1), s.stderr


LIMIT_ITSELF = """
import resource, signal
signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))
for i in range(400000):
    b = bytes(200 + i % 64)
print("done")
"""


def test_a_limit_the_game_sets_itself_stops_recording_not_the_game(tmp_path):
    """A game that sets the file-size limit itself while it runs: the capture
    reaches it and recording stops with one warning. The limit was looked at
    once, when the log was made: the game's threads (draining their own
    chunks, and the last drain at exit) wrote past it unprotected, and
    SIGXFSZ killed the game (exit 153) after it had printed done."""
    env = preload_env(tmp_path, {"PYTHONMALLOC": "malloc", "GMTRACE_DRAIN_HELP": "always"})
    proc = subprocess.Popen(["/usr/bin/python3", "-c", LIMIT_ITSELF], env=env,
                            cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate(timeout=120)
    p = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    for log in shm_logs(proc.pid):  # what the capture could not take stays there
        os.unlink(log)
    assert (p.returncode, p.stdout) == (0, b"done\n"), p.stderr
    assert b"cannot write the capture (errno 27: the file-size limit, ulimit -f)" in p.stderr
    (cap,) = captures(tmp_path)
    assert cap.stat().st_size <= 1 << 20


CUT_WHILE_RUNNING = """
import os, sys, time
ready, go = sys.argv[1], sys.argv[2]
for i in range(20000):
    b = bytes(100 + i % 50)
open(ready, "w").close()
while not os.path.exists(go):
    b = bytes(100)
    time.sleep(0.001)
for i in range(200000):
    b = bytes(100 + i % 50)
print("done")
"""


def start_until_ready(argv, env, tmp_path):
    """Starts CUT_WHILE_RUNNING (argv before its arguments, the ready and go
    files after them) and waits for it to say it is ready. Returns the
    process and the go file."""
    import time

    ready, go = tmp_path / "ready", tmp_path / "go"
    p = subprocess.Popen(argv + ["/usr/bin/python3", "-c", CUT_WHILE_RUNNING, str(ready),
                                 str(go)],
                         env=env, cwd=str(tmp_path), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not ready.exists() and time.monotonic() < deadline and p.poll() is None:
        time.sleep(0.01)
    return p, go


def test_a_capture_cut_by_another_program_stops_recording_and_says_so(tmp_path):
    """Another program truncates the capture while the game runs: what was
    written is gone. Recording stops with one line saying so (the drainer
    went on appending after the cut, a capture that read as whole with its
    start missing, or no header at all: "not a gmtrace capture")."""
    env = preload_env(tmp_path, {"PYTHONMALLOC": "malloc"})
    del env["GMTRACE_QUIET"]
    p, go = start_until_ready([], env, tmp_path)
    (cap,) = captures(tmp_path)
    os.truncate(cap, 0)
    go.touch()
    out, err = p.communicate(timeout=120)
    assert (p.returncode, out) == (0, b"done\n"), err
    assert b"another program cut the file while the game ran); recording stopped" in err, err
    assert shm_logs(p.pid) == []


def test_a_capture_cut_under_gmtrace_run_stops_recording_not_the_game(tmp_path):
    """The same under `gmtrace run`: the run says the file was cut and hands
    the log back; the game, told why, stops recording (it took the log
    back, could not use the cut file, and its threads waited for room in
    the log for ever)."""
    env = preload_env(tmp_path, {"PYTHONMALLOC": "malloc"})
    del env["LD_PRELOAD"]
    del env["GMTRACE_QUIET"]
    p, go = start_until_ready([str(GMTRACE), "run", "--output", str(tmp_path / "cut.%p.gmt"),
                               "--"], env, tmp_path)
    (cap,) = captures(tmp_path)
    pid = int(cap.name.split(".")[1])
    os.truncate(cap, 0)
    go.touch()
    try:
        out, err = p.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        # the game holds the run's pipes: it goes first
        import signal
        for victim in (pid, p.pid):
            try:
                os.kill(victim, signal.SIGKILL)
            except ProcessLookupError:
                pass
        out, err = p.communicate()
        for log in shm_logs(pid):
            os.unlink(log)
        raise AssertionError(f"the game hung after its capture was cut: {err!r}")
    assert (p.returncode, out) == (0, b"done\n"), err
    assert b"another program cut the file while the game ran; the game takes its log back" \
        in err, err
    assert b"another program cut the file while the game ran); recording stopped" in err, err
    assert shm_logs(pid) == []


REPLACED = r"""
#define _DEFAULT_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv)
{
    char path[64], target[4096];
    int fd = -1, mine, i;
    /* the capture's descriptor: the one open on argv[1] */
    for (i = 3; i < 1024 && fd < 0; i++) {
        ssize_t n;
        snprintf(path, sizeof(path), "/proc/self/fd/%d", i);
        n = readlink(path, target, sizeof(target) - 1);
        if (n > 0 && (target[n] = 0, strcmp(target, argv[1]) == 0))
            fd = i;
    }
    if (fd < 0)
        return 2;
    mine = open(argv[2], O_RDWR);
    if (mine < 0 || dup2(mine, fd) != fd)
        return 3;
    usleep(500000); /* the drainer's passes find it */
    for (i = 0; i < 200000; i++)
        free(malloc(100 + i % 50));
    puts("done");
    return 0;
}
"""


def test_a_capture_descriptor_the_game_replaced_is_left_alone(tmp_path):
    """The game puts a file of its own on the capture's descriptor number
    (dup2): recording stops, and the stop is not written into the game's
    file (4 bytes went to its offset 80)."""
    src, exe = tmp_path / "replaced.c", tmp_path / "replaced"
    src.write_text(REPLACED)
    subprocess.run(["cc", "-O1", "-o", str(exe), str(src)], check=True, timeout=120)
    data = tmp_path / "game.dat"
    data.write_bytes(b"A" * 200)
    cap = tmp_path / "replaced.gmt"
    env = preload_env(tmp_path, {"GMTRACE_OUTPUT": str(cap)})
    del env["GMTRACE_QUIET"]
    proc = subprocess.Popen([str(exe), str(cap), str(data)], env=env, cwd=str(tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate(timeout=60)
    p = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    for log in shm_logs(proc.pid):
        os.unlink(log)
    assert (p.returncode, p.stdout) == (0, b"done\n"), p.stderr
    assert b"its descriptor was closed); recording stopped" in p.stderr, p.stderr
    assert data.read_bytes() == b"A" * 200
