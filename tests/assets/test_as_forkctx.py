"""test_as_forkctx.py - as_forkctx: a fork child's capture names what its thread inherited

The child allocates inside the tag and the asset scope its thread had at the
fork, and makes no marker call of its own: its capture must define both
(they were defined in the parent's capture only), so its report names the
tag "job/fork" and the asset "F", not "tag#1".
"""
import json
import subprocess

from as_support import LIB, assets_report, clean_env, fixture


def test_the_child_defines_the_inherited_tag_and_asset(tmp_path):
    env = clean_env({"LD_PRELOAD": str(LIB), "GMTRACE_OUTPUT": str(tmp_path / "%p.gmt"),
                     "GMTRACE_QUIET": "1"})
    r = subprocess.run([str(fixture("forkctx"))], env=env, cwd=str(tmp_path),
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    lines = {j["role"]: j for j in map(json.loads, r.stdout.decode().splitlines())}
    child = lines["child"]
    rep = assets_report(tmp_path / f"{child['pid']}.gmt")
    tags = {t["tag"]: t for t in rep["tags"]}
    assert "job/fork" in tags, sorted(tags)
    assert (tags["job/fork"]["live_blocks"], tags["job/fork"]["live_bytes"]) == \
        (1, child["block_bytes"])
    assets = {a["name"]: a for a in rep["assets"]}
    assert "F" in assets, sorted(assets)
    assert assets["F"]["live_bytes"] == child["block_bytes"]
