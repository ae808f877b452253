"""test_live.py - `gmtrace live` follows the demo game while it runs

The demo (tests/games/demo.c, paced at 120 frames a second) runs under the
preload for 240 frames while `gmtrace live` follows its capture: the lines
must cover frames 1 to 240 once each, in order, the last one saying the game
ended; --once on the finished capture gives one line over every frame; bad
options exit 2 and a capture that never comes exits 1.
"""
import re
import subprocess
import time

from conftest import BUILD_DIR, GMTRACE, SOURCE_DIR, clean_env, gmtrace, preload_env

DEMO = BUILD_DIR / "tests" / "games" / "gm_demo"
LINE = re.compile(r"^(live|end |now |gone) frames (\d+)-(\d+): (\d+) at ")


def test_follows_the_game_to_its_end(tmp_path):
    cap = tmp_path / "demo.gmt"
    env = preload_env(tmp_path, {"GMTRACE_OUTPUT": str(cap)})
    game = subprocess.Popen([str(DEMO), "--frames", "240"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        live = subprocess.run([str(GMTRACE), "live", "--interval", "300", str(cap)],
                              env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, timeout=60)
    finally:
        game.wait(timeout=60)
    assert game.returncode == 0
    assert live.returncode == 0, live.stderr
    lines = [m.groups() for m in map(LINE.match, live.stdout.splitlines()) if m]
    assert len(lines) >= 2, live.stdout   # the game runs 2 s: more than one line
    assert lines[-1][0] == "end "
    nxt = 1
    for kind, lo, hi, n in lines:
        assert int(lo) == nxt and int(n) == int(hi) - int(lo) + 1, live.stdout
        nxt = int(hi) + 1
    assert nxt == 241, live.stdout

    once = gmtrace("live", "--once", str(cap))
    assert once.returncode == 0, once.stderr
    assert once.stdout.startswith("end  frames 1-240: 240 at "), once.stdout


def test_bad_options_and_no_capture(tmp_path):
    for args, what in ((["--interval", "5", "x.gmt"], "--interval takes milliseconds"),
                       (["--bogus", "x.gmt"], "unknown option '--bogus'"),
                       (["a.gmt", "b.gmt"], "one capture only"), ([], "no capture given")):
        r = gmtrace("live", *args)
        assert r.returncode == 2 and what in r.stderr, (args, r.stderr)
    t0 = time.monotonic()
    r = gmtrace("live", "--once", str(tmp_path / "never.gmt"))
    assert r.returncode == 1 and r.stderr.startswith("gmtrace: "), r.stderr
    assert time.monotonic() - t0 < 5, "--once does not wait for the capture"
    # a folder never becomes a capture: no 10 s wait for it
    t0 = time.monotonic()
    r = gmtrace("live", str(tmp_path))
    assert r.returncode == 1 and "is a directory" in r.stderr, r.stderr
    assert time.monotonic() - t0 < 5, "a folder is refused at once"


def test_a_killed_game_ends_the_view(tmp_path):
    """SIGKILL leaves no exit record: the game being gone ends the view, with
    a line for the frames left and a pointer to `gmtrace recover`."""
    cap = tmp_path / "killed.gmt"
    env = preload_env(tmp_path, {"GMTRACE_OUTPUT": str(cap)})
    game = subprocess.Popen([str(DEMO), "--frames", "6000"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    live = subprocess.Popen([str(GMTRACE), "live", "--interval", "200", str(cap)],
                            env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        time.sleep(1.5)
        game.kill()
        game.wait(timeout=30)
        out, err = live.communicate(timeout=30)
    finally:
        for p in (game, live):
            if p.poll() is None:
                p.kill()
                p.wait()
    # the killed game's log, left for recover: taken now, not left in /dev/shm
    assert gmtrace("recover", str(cap)).returncode == 0
    assert live.returncode == 1, (out, err)
    assert "the game is gone and its capture has no end: `gmtrace recover" in err, err
    kinds = [m.group(1) for m in map(LINE.match, out.splitlines()) if m]
    assert "live" in kinds and out.splitlines()[-1].startswith("gone "), out


def test_a_game_killed_under_run_ends_the_view_without_pointing_at_recover(tmp_path):
    """Under `gmtrace run` a killed game's log is drained whole by the run:
    the view ends saying so, not sending the user to a recover that has
    nothing to do."""
    cap = tmp_path / "killed.gmt"
    run = subprocess.Popen([str(GMTRACE), "run", "--output", str(cap), "--", str(DEMO),
                            "--frames", "6000"], env=clean_env(), stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    live = subprocess.Popen([str(GMTRACE), "live", "--interval", "200", str(cap)],
                            env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        time.sleep(1.5)
        subprocess.run(["pkill", "-KILL", "-P", str(run.pid)], check=False)
        assert run.wait(timeout=30) == 128 + 9
        out, err = live.communicate(timeout=30)
    finally:
        for p in (run, live):
            if p.poll() is None:
                p.kill()
                p.wait()
    assert live.returncode == 1, (out, err)
    assert "gone without an exit record (killed or crashed); its log was drained" in err, err
    assert "recover" not in err, err


LIGHT_GAME = r"""
import sys, time
sys.path.insert(0, sys.argv[1])
import gmtrace
progress = sys.argv[2]
for n in range(1, 601):
    gmtrace.frame()
    if n % 10 == 0:
        with open(progress, "w") as f:
            f.write(str(n))
    time.sleep(0.01)
"""


def _light_game_seen_live(tmp_path, under_run):
    """A game that allocates almost nothing (CPython with its own small-object
    allocator, 100 frames a second): its thread fills no log chunk for
    seconds. Once it reached frame 100, `gmtrace live --once` a little later
    must see at least those 100 frames: the drainer takes what threads still
    hold every 200 ms."""
    cap = tmp_path / "light.gmt"
    progress = tmp_path / "progress"
    script = tmp_path / "light.py"
    script.write_text(LIGHT_GAME)
    argv = ["/usr/bin/python3", str(script), str(SOURCE_DIR / "interpose" / "python"),
            str(progress)]
    if under_run:
        # --pymalloc: `gmtrace run` would otherwise have CPython use malloc
        game = subprocess.Popen([str(GMTRACE), "run", "--output", str(cap), "--quiet", "1",
                                 "--pymalloc", "--", *argv], env=clean_env(),
                                stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
    else:
        game = subprocess.Popen(argv, env=preload_env(tmp_path, {"GMTRACE_OUTPUT": str(cap)}),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if progress.exists() and progress.read_text().strip() not in ("", "0") and \
                    int(progress.read_text()) >= 100:
                break
            time.sleep(0.05)
        time.sleep(0.6)
        live = gmtrace("live", "--once", str(cap))
    finally:
        game.kill()
        game.wait(timeout=30)
        if not under_run:  # the killed game's log, left for recover: taken now
            gmtrace("recover", str(cap))
    assert live.returncode == 0, live.stderr
    lines = [m.groups() for m in map(LINE.match, live.stdout.splitlines()) if m]
    assert len(lines) == 1, live.stdout
    assert int(lines[0][1]) == 1 and int(lines[0][2]) >= 100, live.stdout


def test_a_game_that_allocates_little_is_seen_live(tmp_path):
    _light_game_seen_live(tmp_path, under_run=False)


def test_a_game_that_allocates_little_is_seen_live_under_run(tmp_path):
    _light_game_seen_live(tmp_path, under_run=True)


def test_damage_inside_the_capture_stops_the_view(tmp_path):
    """A damaged block before the capture's last one is not a block being
    written: `live` says where, once, and exits 1 (with --once and while
    following), instead of waiting for the rest."""
    cap = tmp_path / "demo.gmt"
    env = preload_env(tmp_path, {"GMTRACE_OUTPUT": str(cap)})
    r = subprocess.run([str(DEMO), "--frames", "30"], env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=60)
    assert r.returncode == 0
    data = bytearray(cap.read_bytes())
    data[128 + 48 + 4] ^= 0xff  # the first block's payload (a clock sample)
    cap.write_bytes(bytes(data))
    for args in (["--once"], ["--interval", "100"]):
        live = gmtrace("live", *args, str(cap), timeout=30)
        assert live.returncode == 1, (args, live.stdout, live.stderr)
        assert live.stderr.startswith(f"gmtrace: {cap}: offset 128: bad check value"), \
            live.stderr
        assert len(live.stderr.splitlines()) == 1, live.stderr
        # the capture has its end, but a damaged one is no "end " (it said so)
        assert [x[:5] for x in live.stdout.splitlines()] == ["now  "], live.stdout
