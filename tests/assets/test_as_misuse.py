"""test_as_misuse.py - as_misuse: every wrong marker call, and the game goes on

Each misuse must leave exactly one validation record with the right code, the
id it names and its detail, in the order made; the program exits 0 and gmtrace
still attributes the allocations made afterwards; `gmtrace assets` lists the
validations and `--check` fails.
"""
from as_support import (Model, assets_report, count_view, gmtrace, run,
                        tally_view)


def test_misuse_in_records(tmp_path):
    r = run("misuse", tmp_path)  # exit status 0 is checked by run()
    line = r.line
    m = Model(r.capture)
    want = line["misuses"]
    assert len(want) == line["validations"]
    got = m.validations
    assert [v["code"] for v in got] == [w["code"] for w in want], \
        f"validation codes in order: {[v['code'] for v in got]}"
    for v, w in zip(got, want):
        assert v["id"] == w["subject"], f"{w['what']}: names {v['id']}, expected {w['subject']}"
        if w["detail"] >= 0:
            assert v["detail"] == w["detail"], f"{w['what']}: detail {v['detail']}"
    # the assets whose names were refused exist, with the name kept or cut
    refused = {w["what"]: w["subject"] for w in want if w["code"] in ("null_name", "long_name")}
    assert m.assets[refused["null_name"]].name == m.assets[refused["empty_name"]].name
    assert m.assets[refused["long_name"]].name == "n" * 255
    # unload with references held still unloads; everything is attributed
    for w in line["assets"]:
        a = m.asset(w["name"])
        assert a.tally == w["bytes"], w["name"]
        assert a.states[-1] == w["state"], w["name"]
    assert m.tag_own["after"] == line["tags"][0]["own"]


def test_misuse_reported_and_check_fails(tmp_path):
    r = run("misuse", tmp_path)
    line = r.line
    rep = assets_report(r.capture)
    # one finding per misuse (in the report's order, not necessarily the calls')
    found = [c for c in rep["checks"] if c["check"] == "validation"]
    assert len(found) == len(line["misuses"])
    want = [w for w in line["misuses"]]
    for c in found:
        match = [w for w in want if (w["code"], w["subject"]) == (c["code"], c["subject"])
                 and w["detail"] in (-1, c["detail"])]
        assert match, f"validation finding {c} matches no misuse left in {want}"
        want.remove(match[0])
    # the two reference-count misuses are reference-count findings too
    refcount = {(c["name"], c["what"]) for c in rep["checks"] if c["check"] == "refcount"}
    assert refcount == {("released_below_zero", "release_below_zero"),
                        ("unloaded_with_refs", "unload_with_refs")}
    after = [a for a in rep["assets"] if a["name"] == "after"]
    want = [a for a in line["assets"] if a["name"] == "after"][0]
    assert len(after) == 1 and count_view(after[0]) == tally_view(want["bytes"])
    res = gmtrace("assets", "--check", r.capture)
    assert res.returncode == 1, f"gmtrace assets --check: rc {res.returncode}: {res.stderr}"
