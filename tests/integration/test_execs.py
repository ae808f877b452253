"""test_execs.py - fx_execs: one process image after another through each of
the eight exec entry points (execve, execv, execvp, execvpe, fexecve, execl,
execlp, execle). The preload follows every exec: nine captures, one per image,
named <program>.<pid>.gmt then .1 to .8; images 0..7 each end with an exec
record and their own block live, the last one with nothing live."""
from conftest import assert_valid, dump_events, fixture_line, fx, rule_tally, run_preloaded

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
