"""test_as_particles.py - as_particles: a tag that leaks L particles a frame

Frame n spawns P particles under "gameplay/particles" and frees all but L;
"gameplay/ai" allocates and frees everything every frame (the control). The
records must show the particle tag growing by exactly L * size at every frame
end and holding L * F blocks at exit; `gmtrace assets` must report that tag,
and only that tag, as growing at that rate, and `--check` must fail.
"""
import pytest

from as_support import Model, assets_report, by_name, count_view, gmtrace, run, tally_view

FRAMES, P, L = 120, 16, 2


def test_particle_leak_in_records(tmp_path):
    r = run("particles", tmp_path, args=(FRAMES, P, L))
    line = r.line
    assert line["frames"] == FRAMES and line["leaked_blocks"] == L * FRAMES
    m = Model(r.capture)
    assert m.frames == FRAMES
    tags = {t["name"]: t for t in line["tags"]}
    for name in ("gameplay/particles", "gameplay/ai"):
        assert m.tag_own[name] == tags[name]["own"], f"tag {name}"
    assert "gameplay" not in m.tag_own, "nothing is allocated with the parent tag innermost"

    leak, ctl = line["leaking_tag"], line["control_tag"]
    growth = line["growth_bytes_per_frame"]
    assert growth == L * line["particle_size"]
    per_frame = [f.get(leak, 0) for f in m.frame_tag_live]
    assert per_frame == [n * growth for n in range(1, FRAMES + 1)], \
        "particle tag's live bytes at each frame end"
    assert all(f.get(ctl, 0) == 0 for f in m.frame_tag_live), "control tag left bytes live"
    assert m.tag_own[leak]["live_count"] == L * FRAMES
    assert m.tag_own[leak]["live_bytes"] == line["live_at_exit_bytes"]


def tag_growth_findings(rep):
    """The report's findings about a tag whose loose bytes grow."""
    return [c for c in rep["checks"] if c["check"] == "tag_growth"]


def test_particle_leak_reported(tmp_path):
    r = run("particles", tmp_path, args=(FRAMES, P, L))
    line = r.line
    rep = assets_report(r.capture)
    assert rep["frames"] == FRAMES
    want = {t["name"]: t for t in line["tags"]}
    tags = by_name(rep["tags"], "tags", key="tag")
    assert set(tags) == set(want), "the parent tag is shown though never pushed"
    for name, w in want.items():
        t = tags[name]
        assert count_view(t) == tally_view(w["own"]), f"tag {name} (own)"
        assert count_view(t["rollup"]) == tally_view(w["rollup"]), f"tag {name} (roll-up)"
        assert t["loose_live_bytes"] == w["loose"]["live_bytes"], f"tag {name} (loose)"
    leak, ctl = tags[line["leaking_tag"]], tags[line["control_tag"]]
    assert leak["live_blocks"] == L * FRAMES
    assert leak["growth_bytes_per_frame"] == pytest.approx(line["growth_bytes_per_frame"],
                                                           rel=1e-9)
    assert ctl["growth_bytes_per_frame"] == pytest.approx(0, abs=1e-6)

    found = tag_growth_findings(rep)
    assert [c["name"] for c in found] == [line["leaking_tag"]], \
        f"only the particle tag grows: {found}"
    c = found[0]
    assert c["bytes_per_frame"] == pytest.approx(line["growth_bytes_per_frame"], rel=1e-9)
    assert c["live_blocks"] == L * FRAMES
    assert c["live_bytes"] == line["live_at_exit_bytes"]
    assert [c for c in rep["checks"] if c["check"] != "tag_growth"] == []


def test_particle_leak_fails_check(tmp_path):
    r = run("particles", tmp_path, args=(FRAMES, P, L))
    res = gmtrace("assets", "--check", r.capture)
    assert res.returncode == 1, f"gmtrace assets --check: rc {res.returncode}: {res.stderr}"
    assert "gameplay/particles" in res.stdout + res.stderr


def test_no_leak_passes_check(tmp_path):
    """The same game without the leak: nothing to report, --check exits 0."""
    r = run("particles", tmp_path, args=(FRAMES, P, 0))
    assert r.line["live_at_exit_count"] == 0
    rep = assets_report(r.capture)
    assert rep["checks"] == []
    res = gmtrace("assets", "--check", r.capture)
    assert res.returncode == 0, f"gmtrace assets --check: rc {res.returncode}: {res.stdout}"
