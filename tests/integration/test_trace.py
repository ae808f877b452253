"""test_trace.py - `gmtrace trace` and `gmtrace html` on the bundled demo game:
the timeline and the page hold what the other reports say

The demo (tests/games/demo.c: frames, level loads with scenes and assets, a
texture budget with evictions) runs under the preload; its trace must be
JSON in the Trace Event Format, with one frame slice per row of `gmtrace
frames --csv` carrying that row's figures, contiguous in time, and one
event per scene, asset load, unload, budget violation and eviction record
of the capture. The HTML page must be well formed (every tag closed in
order), have its sections, and give the frames, spikes and top call site
that `gmtrace frames` and `gmtrace stacks` give.
"""
import csv
import html
import html.parser
import io
import json

import pytest

from conftest import BUILD_DIR, SOURCE_DIR, captures, dump_events, gmtrace, run_preloaded

DEMO = BUILD_DIR / "tests" / "games" / "gm_demo"
FRAMES = 240


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("trace")
    r = run_preloaded([str(DEMO), "--fast", "--frames", str(FRAMES)], out, timeout=120)
    assert r.returncode == 0, r.stderr
    (cap,) = captures(out)
    t = gmtrace("trace", "--output", str(out / "demo.json"), str(cap))
    assert t.returncode == 0 and t.stdout == "" and t.stderr == "", t.stderr
    with open(out / "demo.json") as f:
        trace = json.load(f)
    return cap, trace


def events(trace, ph, tid=None):
    return [e for e in trace["traceEvents"] if e["ph"] == ph and (tid is None or e.get("tid") == tid)]


def test_well_formed(demo):
    _, trace = demo
    assert trace["displayTimeUnit"] == "ns"
    assert trace["otherData"]["producer"] == "gmtrace trace" and trace["otherData"]["error"] is None
    for e in trace["traceEvents"]:
        assert e["ph"] in ("M", "X", "C", "i", "b", "e"), e
        assert isinstance(e["pid"], int) and isinstance(e["name"], str), e
        if e["ph"] != "M":
            assert e["ts"] >= 0, e
        if e["ph"] == "X":
            assert e["dur"] >= 0, e
    tracks = {e["tid"]: e["args"]["name"] for e in events(trace, "M") if e["name"] == "thread_name"}
    assert tracks == {1: "frames", 2: "spikes", 3: "scenes", 4: "asset loads", 5: "budgets",
                      6: "garbage collector", 7: "capture"}


def test_frames_are_the_frames_report_rows(demo):
    cap, trace = demo
    r = gmtrace("frames", "--csv", str(cap))
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    slices = events(trace, "X", 1)
    assert len(slices) == len(rows) == trace["otherData"]["frames"] == FRAMES
    for s, row in zip(slices, rows):
        a = s["args"]
        assert s["name"] == "frame %s" % row["frame"]
        for key in ("allocations", "frees", "allocated_bytes", "freed_bytes", "live_bytes",
                    "peak_live_bytes"):
            assert a[key] == int(row[key]), (key, a, row)
    # one after the other: a frame starts where the previous one ended
    for prev, cur in zip(slices, slices[1:]):
        assert cur["ts"] == pytest.approx(prev["ts"] + prev["dur"], abs=0.002)
    live = [c for c in events(trace, "C") if c["name"] == "live bytes"]
    assert [c["args"]["live"] for c in live] == [int(row["live_bytes"]) for row in rows]


def test_one_event_per_record(demo):
    cap, trace = demo
    recs = dump_events(cap)
    kinds = {}
    for ev in recs:
        kinds.setdefault(ev["type"], []).append(ev)
    scenes = events(trace, "X", 3)
    assert [s["name"] for s in scenes] == ["scene " + e["name"] for e in kinds["scene"]]
    loads = events(trace, "b", 4)
    ends = events(trace, "e", 4)
    done = [e for e in kinds["asset_state"] if e["state"] in ("resident", "failed")]
    assert len(loads) == len(ends) == len(done) > 0
    unloads = [e for e in events(trace, "i", 4) if e["name"].startswith("unload ")]
    assert len(unloads) == len([e for e in kinds["asset_state"] if e["state"] == "unloaded"])
    # evictions overlap across threads: async slices (b/e), violations instants
    evicts = events(trace, "b", 5)
    assert len(evicts) == len(events(trace, "e", 5)) == len(kinds.get("budget_evict", []))
    assert all(e["name"].startswith("evict ") and e["cat"] == "eviction" for e in evicts)
    assert len(events(trace, "i", 5)) == len(kinds.get("budget_violation", []))
    assert len(kinds.get("budget_evict", [])) > 0, "the demo's texture budget evicts"


def test_to_standard_output_and_errors(demo, tmp_path):
    cap, trace = demo
    r = gmtrace("trace", str(cap))
    assert r.returncode == 0 and json.loads(r.stdout) == trace
    r = gmtrace("trace", str(tmp_path / "missing.gmt"))
    assert r.returncode == 1 and r.stderr.startswith("gmtrace: ")
    r = gmtrace("trace", "--bogus", str(cap))
    assert r.returncode == 2 and "unknown option '--bogus'" in r.stderr


class Page(html.parser.HTMLParser):
    """Tags opened and closed, headings, table cells, in order."""

    VOID = {"meta", "br", "hr", "img", "input", "link", "rect", "polyline", "line"}

    def __init__(self):
        super().__init__()
        self.stack, self.h2, self.cells, self.errors, self.text = [], [], [], [], []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        pass

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append((tag, list(self.stack)))
            return
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)
        if self.stack and self.stack[-1] == "h2":
            self.h2.append(data)
        if self.stack and self.stack[-1] in ("td", "th"):
            self.cells.append(data)


def page_of(cap, tmp_path):
    out = tmp_path / "page.html"
    r = gmtrace("html", "--output", str(out), str(cap))
    assert r.returncode == 0 and r.stdout == "" and r.stderr == "", r.stderr
    p = Page()
    p.feed(out.read_text())
    p.close()
    assert p.errors == [] and p.stack == [], (p.errors, p.stack)
    return p


def test_html_page_agrees_with_the_reports(demo, tmp_path):
    cap, _ = demo
    p = page_of(cap, tmp_path)
    assert p.h2 == ["Frames", "Spikes", "Call sites", "Assets", "Budgets", "Platforms"]
    frames = json.loads(gmtrace("frames", "--json", str(cap)).stdout)
    cells = dict(zip(p.cells[0::2], p.cells[1::2]))
    assert cells["frames"] == str(frames["frames"]) == str(FRAMES)
    assert cells["spikes"] == str(len(frames["spikes"]))
    assert "No call stacks in this capture" in "".join(p.text)


def test_html_platforms_are_the_platforms_report(demo, tmp_path):
    """The test profiles (tests/platforms/profiles: tiny ones the demo does not
    fit in) on the search path: the page's fit column is `gmtrace platforms`'."""
    cap, _ = demo
    env = {"GMTRACE_PLATFORM_PATH": str(SOURCE_DIR / "tests" / "platforms" / "profiles")}
    out = tmp_path / "page.html"
    r = gmtrace("html", "--output", str(out), str(cap), extra_env=env)
    assert r.returncode == 0, r.stderr
    pf = json.loads(gmtrace("platforms", "--json", str(cap), extra_env=env).stdout)
    page = out.read_text()
    rows = page[page.index("<h2>Platforms</h2>"):]
    for p in pf["platforms"]:
        cell = "<tr><td>%s</td><td>%s</td>" % (html.escape(p["title"] or p["name"], quote=True),
                                               "yes" if p["fits"] else "no")
        assert cell in rows, (cell, rows[:3000])
    assert any(not p["fits"] for p in pf["platforms"]), "a test profile the demo overflows"


def test_html_call_sites_are_the_stacks_reports(tmp_path):
    r = run_preloaded([str(DEMO), "--fast", "--frames", "60"], tmp_path,
                      extra_env={"GMTRACE_STACKS": "8"}, timeout=120)
    assert r.returncode == 0, r.stderr
    (cap,) = captures(tmp_path)
    p = page_of(cap, tmp_path)
    text = "".join(p.text)
    st = json.loads(gmtrace("stacks", "--json", "--top", 1, str(cap)).stdout)
    top = st["stacks"][0]
    assert "#1 " in text and "in %d allocation" % top["allocations"] in text
    assert top["frames"][0]["function"] in text
