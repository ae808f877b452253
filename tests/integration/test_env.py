"""test_env.py - options from the environment: an invalid value is one
warning line (`gmtrace: [pid] GMTRACE_<NAME>...`) and the default, the
program runs and is recorded as usual; GMTRACE_ENABLED=0 records nothing."""
import os
import subprocess

import pytest

from conftest import (GMTRACE, WARNING_RE, assert_tally, assert_valid, captures, clean_env,
                      fixture_line, fx, preload_env, rule_tally, run_plain, run_preloaded,
                      shm_logs)


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


# ---- where the capture goes, and what happens when it cannot --------------


def one_warning(r, starts):
    """The one warning line of a run, checked to start (after the pid) with
    starts; returns the rest of the line."""
    lines = r.stderr.decode().splitlines()
    assert len(lines) == 1, f"one warning line expected, got {lines}"
    m = WARNING_RE.match(lines[0])
    assert m, lines[0]
    assert lines[0][m.end():].startswith(starts), lines[0]
    return lines[0][m.end():]


def test_output_pattern_relative_with_program_and_pid(tmp_path):
    (tmp_path / "caps").mkdir()
    r = run_preloaded([fx("fx_basic")], tmp_path,
                      {"GMTRACE_OUTPUT": "./caps/%e-run-%p.gmt"}, timeout=30)
    assert r.returncode == 0, r.stderr
    caps = sorted((tmp_path / "caps").iterdir())
    assert len(caps) == 1, caps
    s = assert_valid(caps[0])
    assert caps[0].name == f"fx_basic-run-{s['process']['pid']}.gmt"


def test_a_taken_name_gets_a_number(tmp_path):
    """The same name twice (no %p): the second capture is <name>.1, the
    first is left as it was."""
    env = {"GMTRACE_OUTPUT": str(tmp_path / "same.gmt")}
    for _ in range(3):
        r = run_preloaded([fx("fx_basic")], tmp_path, env, timeout=30)
        assert r.returncode == 0, r.stderr
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["same.gmt", "same.gmt.1", "same.gmt.2"], names
    pids = [assert_valid(tmp_path / n)["process"]["pid"] for n in names]
    assert len(set(pids)) == 3


def test_unwritable_output_warns_and_the_game_runs(tmp_path):
    ref = run_plain([fx("fx_basic")], tmp_path, timeout=30)
    out = str(tmp_path / "no" / "such" / "dir" / "x.gmt")
    proc = subprocess.Popen([str(fx("fx_basic"))],
                            env=preload_env(tmp_path, {"GMTRACE_OUTPUT": out}),
                            cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out_b, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    rest = one_warning(subprocess.CompletedProcess(proc.args, 0, out_b, err),
                       "cannot create the capture file ")
    assert out in rest, rest
    assert out_b == ref.stdout, "the game's own output is unchanged"
    assert captures(tmp_path) == []
    assert shm_logs(proc.pid) == [], "no shared-memory log left behind"


def test_output_name_too_long_falls_back_to_the_default(tmp_path):
    r = run_preloaded([fx("fx_basic")], tmp_path, {"GMTRACE_OUTPUT": "/" + "x" * 1100 + ".gmt"},
                      timeout=30)
    assert r.returncode == 0, r.stderr
    one_warning(r, 'GMTRACE_OUTPUT: invalid value "/' + "x" * 42 + '..." (expected at most '
                "1023 bytes); using the default ./%e.%p.gmt")
    caps = sorted(tmp_path.iterdir())
    assert len(caps) == 1 and caps[0].name.startswith("fx_basic."), caps
    assert_tally(rule_tally(caps[0]), fixture_line(r.stdout, fixture="basic"))


def test_bad_chunk_size_warns_and_uses_64k(tmp_path):
    r = run_preloaded([fx("fx_basic")], tmp_path, {"GMTRACE_CHUNK_SIZE": "5000"}, timeout=30)
    assert r.returncode == 0, r.stderr
    one_warning(r, 'GMTRACE_CHUNK_SIZE: invalid value "5000" (expected a multiple of 4K up to '
                   '16M); using the default 64K')
    caps = captures(tmp_path)
    assert len(caps) == 1
    assert_tally(rule_tally(caps[0]), fixture_line(r.stdout, fixture="basic"))


def test_more_chunks_than_a_log_can_have_says_why(tmp_path):
    """Two sizes each valid whose ratio is more than 2^20 chunks: the game
    runs unrecorded, and the line says which limit (it said "Invalid
    argument" and nothing more)."""
    r = run_preloaded([fx("fx_basic")], tmp_path,
                      {"GMTRACE_RING_SIZE": "5G", "GMTRACE_CHUNK_SIZE": "4K"}, timeout=30)
    assert r.returncode == 0, r.stderr
    one_warning(r, "cannot create the shared-memory log: Invalid argument (GMTRACE_RING_SIZE "
                   "/ GMTRACE_CHUNK_SIZE is more than 1048576 chunks: a larger "
                   "GMTRACE_CHUNK_SIZE); not recording")
    assert captures(tmp_path) == []


def test_missing_announce_dir_drains_inside_the_game(tmp_path):
    r = run_preloaded([fx("fx_basic")], tmp_path,
                      {"GMTRACE_ANNOUNCE_DIR": str(tmp_path / "gone"),
                       "GMTRACE_DRAIN": "external"}, timeout=30)
    assert r.returncode == 0, r.stderr
    one_warning(r, "cannot announce the log in ")
    caps = captures(tmp_path)
    assert len(caps) == 1
    assert_tally(rule_tally(caps[0]), fixture_line(r.stdout, fixture="basic"))


def test_external_drain_without_gmtrace_run_drains_inside(tmp_path):
    r = run_preloaded([fx("fx_basic")], tmp_path, {"GMTRACE_DRAIN": "external"}, timeout=30)
    assert r.returncode == 0, r.stderr
    one_warning(r, "GMTRACE_DRAIN=external needs GMTRACE_ANNOUNCE_DIR")
    caps = captures(tmp_path)
    assert len(caps) == 1
    assert_tally(rule_tally(caps[0]), fixture_line(r.stdout, fixture="basic"))


def test_python_script_names_its_capture(tmp_path):
    """%e is the script's name for `python3 [options] script.py`, and the
    interpreter's own (python3.11, the executable behind the link) for
    `python3 -c`."""
    script = tmp_path / "my_game.py"
    script.write_text("x = [bytearray(100) for _ in range(10)]\n")
    env = {"GMTRACE_OUTPUT": str(tmp_path / "%e.gmt"), "PYTHONMALLOC": "malloc"}
    for argv, name in ((["/usr/bin/python3", "-u", "-X", "dev", str(script)], "my_game.gmt"),
                       (["/usr/bin/python3", "-c", "pass"],
                        os.path.basename(os.path.realpath("/usr/bin/python3")) + ".gmt")):
        r = run_preloaded(argv, tmp_path, env, timeout=60)
        assert r.returncode == 0, r.stderr
        assert (tmp_path / name).exists(), sorted(p.name for p in tmp_path.iterdir())


@pytest.mark.parametrize("name,value,expected", [
    ("LEVEL", "bogus", "events|frames"),
    ("RING_SIZE", "1T", "a size in bytes, or with K, M, G or T up to 64G"),
    ("SPIKE_FACTOR", "nan", "a number from 0 to 1000000"),
    ("TIMING_SAMPLE", "4294967296", "a whole number up to 1000000"),
    ("DRAIN_NICE", "20", "a whole number up to 19"),
    ("BURST_ALLOCATIONS", "16", "a whole number up to 15"),
    ("SPIKE_STDERR", "maybe", "1/0, true/false, yes/no or on/off"),
])
def test_an_invalid_value_says_what_was_expected(tmp_path, name, value, expected):
    """One warning naming the value and what the option takes; the default
    is used and the game is recorded."""
    r = run_preloaded([fx("fx_basic")], tmp_path, {f"GMTRACE_{name}": value}, timeout=30)
    assert r.returncode == 0, r.stderr
    one_warning(r, f'GMTRACE_{name}: invalid value "{value}" (expected {expected}); '
                   "using the default ")
    caps = captures(tmp_path)
    assert len(caps) == 1
    assert_tally(rule_tally(caps[0]), fixture_line(r.stdout, fixture="basic"))


@pytest.mark.parametrize("output", ["/dev/null", "{tmp}"])
def test_output_that_is_not_a_file_is_refused(tmp_path, output):
    """A device or a folder as GMTRACE_OUTPUT: one warning, nothing made
    beside it (no /dev/null.1), the game runs."""
    output = output.format(tmp=tmp_path)
    r = run_preloaded([fx("fx_basic")], tmp_path, {"GMTRACE_OUTPUT": output}, timeout=30)
    assert r.returncode == 0, r.stderr
    one_warning(r, f"cannot create the capture file {output}: it exists and is not a regular "
                   "file; not recording")
    assert not os.path.exists(output + ".1")
    assert captures(tmp_path) == []


def test_empty_output_is_the_default(tmp_path):
    r = run_preloaded([fx("fx_basic")], tmp_path, {"GMTRACE_OUTPUT": ""}, timeout=30)
    assert r.returncode == 0, r.stderr
    caps = captures(tmp_path)
    assert len(caps) == 1 and caps[0].name.startswith("fx_basic."), caps


def test_full_dev_shm_is_one_warning_not_a_crash(tmp_path):
    """/dev/shm without room for the log (a private 1 MiB tmpfs, the log
    8 MiB): one warning, the game runs to its end. Needs a mount namespace
    of its own (root)."""
    game = " ".join(f"{k}='{v}'" for k, v in preload_env(tmp_path).items()
                    if k == "LD_PRELOAD" or k.startswith("GMTRACE_"))
    script = (f"mount -t tmpfs -o size=1M tmpfs /dev/shm || exit 99; "
              f"exec env {game} {fx('fx_basic')}")
    r = subprocess.run(["unshare", "-m", "sh", "-c", script], env=clean_env(), cwd=str(tmp_path),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    if r.returncode == 99 or b"unshare failed" in r.stderr or b"Operation not permitted" in r.stderr:
        pytest.skip(f"no private mount namespace here: {r.stderr!r}")
    assert r.returncode == 0, r.stderr
    one_warning(r, "cannot create the shared-memory log: No space left on device")
    assert captures(tmp_path) == []


def test_summary_says_how_the_capture_ends_and_its_level(tmp_path):
    """fx_basic returns from main: an exit record, its status unknown (the
    C library's own exit call is past the hooks). At the frames level from
    the start, summary says its counts leave that part out."""
    r = run_preloaded([fx("fx_basic")], tmp_path, {"GMTRACE_LEVEL": "frames"}, timeout=30)
    assert r.returncode == 0, r.stderr
    (cap,) = captures(tmp_path)
    s = assert_valid(cap)
    assert (s["ended"], s["exit_status"], s["frames_level_from_frame"]) == ("exit", None, 1)
    assert s["allocations"] == 0
    text = subprocess.run([str(GMTRACE), "summary", str(cap)], capture_output=True, text=True,
                          timeout=30).stdout
    assert "level     frames from frame 1: per-frame totals only" in text, text
    assert "ended " not in text, text


def test_exit_status_is_what_the_parent_sees(tmp_path):
    """_exit(300) ends a process with status 44 (8 bits): the capture says 44."""
    r = run_preloaded(["/usr/bin/python3", "-c", "import os; os._exit(300)"], tmp_path,
                      timeout=30)
    assert r.returncode == 300 & 0xff, r.stderr
    (cap,) = captures(tmp_path)
    s = assert_valid(cap)
    assert (s["ended"], s["exit_status"]) == ("exit", 44)


def test_a_fork_child_does_not_warn_again(tmp_path):
    """The child of a fork starts a session of its own from the same
    environment: a bad value was the parent's to say, once; the child is
    recorded all the same (it said the warning again before)."""
    r = run_preloaded([fx("fx_forker")], tmp_path, {"GMTRACE_LEVEL": "bogus"}, timeout=30)
    assert r.returncode == 0, r.stderr
    one_warning(r, 'GMTRACE_LEVEL: invalid value "bogus" (expected events|frames); '
                   "using the default ")
    assert len(captures(tmp_path)) == 2
