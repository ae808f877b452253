"""test_as_tagrace.py - as_tagrace: four threads intern the same new tag names at once

A tag id must be usable as soon as any thread has it: a push of an id that
another thread was still publishing was refused as unknown_tag (its block
went untagged, and `assets --check` failed a correct game), and a thread
that lost the race to intern a name could be given 0.
"""
from as_support import Model, assets_report, run


def test_racing_threads_share_every_tag(tmp_path):
    r = run("tagrace", tmp_path, timeout=120)
    line = r.line
    assert line["zero_ids"] == 0, "gmtrace_tag_id gave 0 for a good name"
    m = Model(r.capture)
    assert m.validations == [], f"a correct game made validation records: {m.validations[:5]}"
    rep = assets_report(r.capture)
    tags = {t["tag"]: t for t in rep["tags"] if t["tag"].startswith("race/")}
    assert len(tags) == line["names"]
    want = (line["threads"], line["threads"] * line["block_bytes"])
    short = {n: (t["live_blocks"], t["live_bytes"]) for n, t in tags.items()
             if (t["live_blocks"], t["live_bytes"]) != want}
    assert not short, f"tags without {want} (blocks, bytes): {list(short.items())[:5]}"
