"""test_env.py - options from the environment: an invalid value is one
warning line (`gmtrace: [pid] GMTRACE_<NAME>...`) and the default, the
program runs and is recorded as usual; GMTRACE_ENABLED=0 records nothing."""
import subprocess

from conftest import (WARNING_RE, assert_tally, assert_valid, captures, fixture_line, fx,
                      preload_env, rule_tally, run_plain, run_preloaded, shm_logs)


def test_invalid_ring_size_warns_once_and_records(tmp_path):
    r = run_preloaded([fx("fx_basic")], tmp_path, {"GMTRACE_RING_SIZE": "lots"}, timeout=30)
    assert r.returncode == 0, r.stderr
    lines = r.stderr.decode().splitlines()
    assert len(lines) == 1, f"one warning line expected, got {lines}"
    m = WARNING_RE.match(lines[0])
    assert m, lines[0]
    assert lines[0][m.end():].startswith("GMTRACE_RING_SIZE"), lines[0]
    line = fixture_line(r.stdout, fixture="basic")
    caps = captures(tmp_path)
    assert len(caps) == 1, caps
    s = assert_valid(caps[0])
    assert int(m.group(1)) == s["process"]["pid"], "the warning names the program's pid"
    assert_tally(rule_tally(caps[0]), line)


def test_enabled_0_records_nothing(tmp_path):
    ref = run_plain([fx("fx_basic")], tmp_path, timeout=30)
    proc = subprocess.Popen([str(fx("fx_basic"))],
                            env=preload_env(tmp_path, {"GMTRACE_ENABLED": "0"}),
                            cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and err == b"", err
    assert out == ref.stdout
    assert captures(tmp_path) == []
    assert shm_logs(proc.pid) == []
