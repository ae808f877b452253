"""test_setuid.py - `gmtrace run` refuses a set-user-ID or set-group-ID
program the loader runs in secure mode, as another user or group (it would
ignore LD_PRELOAD and nothing would be recorded): exit status 2, an
explanation naming LD_PRELOAD, the program never started. A set-ID program
of the user's own user and group runs and is recorded (no secure mode), and
a launcher script that execs a secure one is told so on stderr."""
import os
import shutil
import stat
import subprocess

import pytest

from conftest import GMTRACE, captures, clean_env, fx

NOBODY = 65534  # nobody / nogroup: another user and group than root's


def set_id_game(tmp_path, bit, owner):
    if os.statvfs(tmp_path).f_flag & os.ST_NOSUID:
        pytest.skip(f"{tmp_path} is on a nosuid mount: set-ID bits have no effect there")
    game = tmp_path / "game"
    shutil.copy(fx("fx_basic"), game)
    if owner is not None:
        if os.geteuid() != 0:
            pytest.skip("giving the program another owner needs root")
        os.chown(game, owner, owner)
    os.chmod(game, 0o755 | bit)
    assert os.stat(game).st_mode & bit, "the filesystem kept the bit"
    return game


def gmtrace_run(tmp_path, *cmd):
    return subprocess.run([str(GMTRACE), "run", "--output", str(tmp_path / "%e.%p.gmt"), "--"]
                          + [str(c) for c in cmd], env=clean_env(), cwd=str(tmp_path),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=30)


@pytest.mark.parametrize("bit", (stat.S_ISGID, stat.S_ISUID), ids=("setgid", "setuid"))
def test_run_refuses_set_id_program(tmp_path, bit):
    game = set_id_game(tmp_path, bit, NOBODY)
    r = gmtrace_run(tmp_path, game)
    assert r.returncode == 2, r.stderr
    assert "LD_PRELOAD" in r.stderr and "ignore" in r.stderr, r.stderr
    assert str(game) in r.stderr
    assert r.stdout == "", "the program must not have run"
    assert captures(tmp_path) == []


@pytest.mark.parametrize("bit", (stat.S_ISGID, stat.S_ISUID), ids=("setgid", "setuid"))
def test_a_set_id_program_of_ones_own_runs_recorded(tmp_path, bit):
    """Set-ID to the user and group running it: the loader keeps LD_PRELOAD
    (no secure mode), so gmtrace run does not refuse it."""
    game = set_id_game(tmp_path, bit, None)
    r = gmtrace_run(tmp_path, game)
    assert r.returncode == 0, r.stderr
    assert len(captures(tmp_path)) == 1, r.stderr


def test_a_launcher_execing_a_set_gid_game_is_told(tmp_path):
    """A launcher script that execs a set-group-ID game: the game cannot be
    recorded; the library says so, naming it, as the exec is made."""
    game = set_id_game(tmp_path, stat.S_ISGID, NOBODY)
    launcher = tmp_path / "launch.sh"
    launcher.write_text(f"#!/bin/sh\nexec {game}\n")
    launcher.chmod(0o755)
    r = gmtrace_run(tmp_path, launcher)
    assert r.returncode == 0, r.stderr
    assert (f"{game} is set-group-ID: the dynamic loader ignores LD_PRELOAD for it, so it "
            "will not be recorded") in r.stderr, r.stderr
