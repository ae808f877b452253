"""test_po_churn.py - po_churn: no pools, 2000 particles of 96 bytes a frame among noise

po_churn (po_churn.c) allocates 2000 particle structs of 96 bytes per frame
under tag "gameplay/particles", each living 0..2 frames, next to other tags,
sizes, long-lived blocks and a few short-lived odd sizes. Checked:
 - the particle group is the first pool candidate, with the exact peak of
   concurrent particles the fixture counted, 2000 allocations per frame,
   the suggested capacity ceil(1.1 x peak), and a "where" line a
   programmer can search for;
 - the same size under no tag, and the tag's other size, are other groups;
   long-lived blocks are no candidate;
 - --churn-frames decides what is short-lived; --candidates N cuts the list;
 - the frames level has no allocation events: no candidates, and it says so;
 - recorded with call stacks, each candidate names where its allocations
   were made: the particles' one call site, po_alloc called from main at
   the line the fixture prints, with every particle allocation.
"""
import csv
import io
import json

import pytest

from po_support import gmtrace, pools_json, run_fixture

F = 60


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    r = run_fixture("po_churn", [F], tmp_path_factory.mktemp("churn"))
    return r, pools_json(r.capture)


def groups(rep):
    return rep["candidates"]["list"]


def test_particles_are_the_first_candidate_with_the_exact_peak(run):
    r, rep = run
    line = r.line
    assert rep["pools"] == []
    c = rep["candidates"]
    assert c["available"] is True and c["churn_frames"] == 3
    assert "no call stacks in this capture" in c["note"]
    first = groups(rep)[0]
    assert first["rank"] == 1
    assert first["tag_name"] == line["particle_tag"] == "gameplay/particles"
    assert first["exact"] is True
    assert first["object_size"] == line["particle_size"] == 96
    assert first["size_class_bytes"] == 128
    assert first["allocations"] == line["particle_allocations"] == 2000 * F
    assert first["allocations_per_frame"] == line["particles_per_frame"] == 2000
    assert first["short_lived"] == first["allocations"] == first["frees"]
    assert first["peak_live"] == line["particle_peak_live"]
    assert first["peak_frame"] == line["particle_peak_frame"]
    assert first["suggested_capacity"] == line["suggested_capacity"]
    assert first["call_sites"] is None
    assert first["where"] == "tag gameplay/particles, 96-byte blocks, 2000 per frame"
    # the time it would save: allocations x the measured cost of <= 128 B
    assert first["alloc_time_saved_ns"] is not None and first["alloc_time_saved_ns"] > 0
    assert first["alloc_time_saved_ns"] == pytest.approx(
        first["allocations"] * first["alloc_cost_ns"], rel=1e-12)


def test_same_size_other_tag_and_other_size_same_tag_are_other_groups(run):
    r, rep = run
    g = groups(rep)
    untagged = [x for x in g if x["tag"] == 0 and x["exact"] and x["object_size"] == 96]
    assert len(untagged) == 1, g
    assert untagged[0]["rank"] > 1
    assert untagged[0]["allocations"] >= r.line["untagged_96_per_frame"] * F
    rest = [x for x in g if x["tag_name"] == "gameplay/particles" and not x["exact"]]
    assert len(rest) == 1, g
    assert rest[0]["object_size"] == 128
    assert rest[0]["allocations"] == r.line["particle_other_per_frame"] * F
    assert rest[0]["peak_live"] == r.line["particle_other_per_frame"]
    audio = [x for x in g if x["tag_name"] == "audio"]
    assert len(audio) == 1 and audio[0]["exact"] is False and audio[0]["object_size"] == 256
    assert audio[0]["allocations"] == 10 * F and audio[0]["peak_live"] == 10
    names = {x["tag_name"] for x in g}
    assert "render/meshes" not in names and "world/streaming" not in names, "long-lived"


def test_churn_frames_and_candidates_options(run):
    r, _ = run
    # K = 1: only particles freed in their own frame (about a third) are
    # short-lived, not most of them
    rep = pools_json("--churn-frames", "1", r.capture)
    assert not [x for x in groups(rep) if x["tag_name"] == "gameplay/particles" and x["exact"]]
    rep = pools_json("--churn-frames", "2", r.capture)
    assert groups(rep)[0]["tag_name"] == "gameplay/particles"
    rep = pools_json("--candidates", "1", "--headroom", "0", r.capture)
    assert len(groups(rep)) == 1
    assert groups(rep)[0]["suggested_capacity"] == r.line["particle_peak_live"]


def test_text_names_the_best_candidate(run):
    r, _ = run
    res = gmtrace("pools", r.capture)
    assert res.returncode == 0, res.stderr
    assert "best: tag gameplay/particles, 96-byte blocks, 2000 per frame" in res.stdout
    assert "No call stacks in this capture" in res.stdout


def test_frames_level_has_no_candidates(tmp_path):
    r = run_fixture("po_churn", [5], tmp_path, {"GMTRACE_LEVEL": "frames"})
    rep = pools_json(r.capture)
    assert rep["candidates"]["available"] is False
    assert rep["candidates"]["list"] == []
    assert "events level" in rep["candidates"]["note"]


def test_candidates_name_their_call_sites_when_stacks_are_recorded(tmp_path):
    r = run_fixture("po_churn", [F], tmp_path, {"GMTRACE_STACKS": "8"})
    rep = pools_json(r.capture)
    c = rep["candidates"]
    assert "call_sites" in c["note"]
    first = groups(rep)[0]
    assert first["tag_name"] == "gameplay/particles" and first["exact"] is True
    (site,) = first["call_sites"]
    assert site["allocations"] == first["allocations"] == 2000 * F
    f0, f1 = site["frames"][:2]
    assert f0["function"] == "po_alloc"
    assert (f1["function"], f1["line"]) == ("main", r.line["particle_line"])
    assert f1["file"].endswith("tests/pools/po_churn.c")
    # the group of the other sizes under the tag comes from the same line
    rest = [x for x in groups(rep) if x["tag_name"] == "gameplay/particles" and not x["exact"]]
    assert [s["allocations"] for s in rest[0]["call_sites"]] == \
        [r.line["particle_other_per_frame"] * F]
    # the same capture by tag in gmtrace stacks: a tag takes the tags under it
    def tagged(tag):
        res = gmtrace("stacks", "--json", "--tag", tag, r.capture)
        assert res.returncode == 0, res.stderr
        return json.loads(res.stdout)["allocations"]
    particles = 2000 * F + r.line["particle_other_per_frame"] * F
    assert tagged("gameplay") == tagged("gameplay/particles") == particles
    assert tagged("gameplay/part") == 0, "a tag's parent ends at a '/'"
    assert tagged("audio") == 10 * F
    text = gmtrace("pools", r.capture)
    assert text.returncode == 0, text.stderr
    assert f"{2000 * F} at po_alloc (po_churn.c:" in text.stdout
    assert f"< main (po_churn.c:{r.line['particle_line']})" in text.stdout


def test_candidates_csv_has_the_json_keys(run):
    """The candidates table's columns are the JSON list's keys (call_sites,
    a list, aside), with the same values."""
    r, rep = run
    res = gmtrace("pools", "--csv", "--table", "candidates", r.capture)
    assert res.returncode == 0, res.stderr
    rows = list(csv.DictReader(io.StringIO(res.stdout)))  # one table: no "# name" line
    want = groups(rep)
    assert len(rows) == len(want) > 0
    keys = set(want[0]) - {"call_sites"}
    assert keys <= set(rows[0]), keys - set(rows[0])
    for row, g in zip(rows, want):
        for k in ("allocations", "allocated_bytes", "frees", "short_lived", "peak_live"):
            assert int(row[k]) == g[k], (k, row, g)
