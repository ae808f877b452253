"""test_setuid.py - `gmtrace run` refuses a set-user-ID or set-group-ID
program (the loader would ignore LD_PRELOAD and nothing would be recorded):
exit status 2, an explanation naming LD_PRELOAD, the program never started."""
import os
import shutil
import stat
import subprocess

import pytest

from conftest import GMTRACE, captures, clean_env, fx


@pytest.mark.parametrize("bit", (stat.S_ISGID, stat.S_ISUID), ids=("setgid", "setuid"))
def test_run_refuses_set_id_program(tmp_path, bit):
    if os.statvfs(tmp_path).f_flag & os.ST_NOSUID:
        pytest.skip(f"{tmp_path} is on a nosuid mount: set-ID bits have no effect there")
    game = tmp_path / "game"
    shutil.copy(fx("fx_basic"), game)
    os.chmod(game, 0o755 | bit)
    assert os.stat(game).st_mode & bit, "the filesystem kept the bit"
    r = subprocess.run([str(GMTRACE), "run", "--output", str(tmp_path / "%e.%p.gmt"), "--",
                        str(game)], env=clean_env(), cwd=str(tmp_path), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=30)
    assert r.returncode == 2, r.stderr
    assert "LD_PRELOAD" in r.stderr and "ignore" in r.stderr, r.stderr
    assert str(game) in r.stderr
    assert r.stdout == "", "the program must not have run"
    assert captures(tmp_path) == []
