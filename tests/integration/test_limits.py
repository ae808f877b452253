"""A game under a file-size limit (ulimit -f): the shared-memory log is a
file too, and sizing it past the limit would kill the game (SIGXFSZ, exit
153) before main. gmtrace makes the log smaller to fit, with one warning,
or records nothing when even the smallest log would not fit, and the game
runs either way, leaving nothing in /dev/shm."""
import resource
import subprocess

from conftest import captures, preload_env, shm_logs


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
