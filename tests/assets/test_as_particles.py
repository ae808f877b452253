"""test_as_particles.py - as_particles: a tag that leaks L particles a frame

Frame n spawns P particles under "gameplay/particles" and frees all but L;
"gameplay/ai" allocates and frees everything every frame (the control). The
records must show the particle tag growing by exactly L * size at every frame
end and holding L * F blocks at exit; `gmtrace assets` must report that tag,
and only that tag, as growing at that rate, and `--check` must fail.
"""
import pytest

from as_support import Model, assets_report, by_name, gmtrace, run

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
    """The report's findings about a growing tag (a leak under a tag)."""
    return [c for c in rep["checks"] if c["check"] in ("tag_growth", "leak") and c.get("tag")]


def test_particle_leak_reported(tmp_path):
    r = run("particles", tmp_path, args=(FRAMES, P, L))
    line = r.line
    rep = assets_report(r.capture)
    tags = by_name([t for t in rep["tags"] if t["name"]], "tags")
    leak = tags[line["leaking_tag"]]
    want = {t["name"]: t for t in line["tags"]}[line["leaking_tag"]]["own"]
    assert leak["own"]["live_bytes"] == want["live_bytes"] == L * FRAMES * line["particle_size"]
    assert leak["own"]["peak_bytes"] == want["peak_bytes"]
    assert leak["own"]["live_blocks"] == L * FRAMES
    assert tags[line["control_tag"]]["own"]["live_bytes"] == 0

    found = tag_growth_findings(rep)
    assert [c["tag"] for c in found] == [line["leaking_tag"]], \
        f"only the particle tag grows: {found}"
    c = found[0]
    assert c["growth_bytes_per_frame"] == pytest.approx(line["growth_bytes_per_frame"], rel=1e-9)
    assert c["live_blocks"] == L * FRAMES
    assert c["live_bytes"] == line["live_at_exit_bytes"]


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
    assert tag_growth_findings(rep) == []
    res = gmtrace("assets", "--check", r.capture)
    assert res.returncode == 0, f"gmtrace assets --check: rc {res.returncode}: {res.stdout}"
