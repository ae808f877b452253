"""test_fr_spike_owners.py - a spike names the tags and assets that allocated in it

fr_spike_owners.c: frame S allocates 3000 x 96 bytes under gameplay/particles
and one block for asset boss.png (no tag); every other frame 10 particles.
gmtrace frames must report the spike at S with exactly those owners, in the
events level (from context records) and in the frames level (frame_tags).
"""
import pytest

from fr_support import frames_json, run_fixture


@pytest.mark.parametrize("level", ["events", "frames"])
def test_spike_lists_its_tags_and_assets(level, tmp_path):
    run = run_fixture("fr_spike_owners", [60, 40], tmp_path,
                      {"GMTRACE_SPIKE_ALLOCATIONS": "1000", "GMTRACE_SPIKE_FACTOR": "0",
                       "GMTRACE_LEVEL": level})
    line = run.line
    rep, _ = frames_json(run.capture)
    spikes = rep["spikes"]
    assert [s["frame"] for s in spikes] == [line["spike"]], spikes
    tags = {t["name"]: (t["allocations"], t["bytes"]) for t in spikes[0]["tags"]}
    assert tags["gameplay/particles"] == (line["particles"], line["particle_bytes"]), tags
    if level == "events":
        assert tags[None] == (1, line["asset_bytes"]), tags
        assets = [(a["name"], a["allocations"], a["bytes"]) for a in spikes[0]["assets"]]
        assert assets == [("boss.png", 1, line["asset_bytes"])], assets
    else:
        # the frames level keeps allocations per tag, not per asset
        assert spikes[0]["assets"] == []


def test_spike_threads_with_threads_have_the_events_freed_bytes(tmp_path):
    """In the events level the writer keeps no freed bytes per thread: a
    spike's threads said 0 freed bytes beside 3000 frees. With --threads
    they are the events' figures, as the frame row's split is."""
    run = run_fixture("fr_spike_owners", [60, 40], tmp_path,
                      {"GMTRACE_SPIKE_ALLOCATIONS": "1000", "GMTRACE_SPIKE_FACTOR": "0"})
    line = run.line
    rep, _ = frames_json(run.capture, "--threads")
    (spike,) = rep["spikes"]
    (t,) = spike["threads"]
    assert (t["frees"], t["freed_bytes"]) == (line["particles"], line["particle_bytes"]), t
