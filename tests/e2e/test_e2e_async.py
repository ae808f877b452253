"""test_e2e_async.py - marker scopes in asyncio coroutines and generators

async_game.py allocates blocks of sizes used for nothing else (a
bytearray(n - 1) is one malloc of n bytes under PYTHONMALLOC=malloc); each
test says which tag and which asset every one of them belongs to, from the
context records of the capture (`gmtrace dump --json`).

- @gmtrace.tag on an `async def` or an async generator function tags each
  step of the body, and only it: two decorated tasks interleaving on the
  event loop's thread, a plain task between their steps and the consumer of
  an async generator are each charged their own. `with` tag and asset
  scopes inside a decorated body stay with it across its awaits (and
  across a decorated generator's yields). Results, exceptions, a
  cancellation and aclose() pass through. A decorated @types.coroutine
  generator can still be awaited.
- Plain coroutines interleaving inside `with` scopes: the first scope to end
  while the other is still open is said once on stderr, naming both; a tag
  scope's end takes off its own tag, not the other one's.
"""
import json
import re
import subprocess

import pytest

from e2e_support import GMTRACE, clean_env, run_script, script

_SIZE = re.compile(r'"size":(\d+)')


def attribution(capture, sizes):
    """{size: (tag name or None, asset name or None)} for each of sizes,
    each allocated exactly once, from one pass over `gmtrace dump --json`;
    and the capture's validation records."""
    sizes = set(sizes)
    tags, assets, ctx, got, validations = {}, {}, {}, {}, []
    with subprocess.Popen([str(GMTRACE), "dump", "--json", str(capture)], env=clean_env(),
                          stdout=subprocess.PIPE, text=True) as proc:
        for line in proc.stdout:
            if '"type":"alloc"' in line or '"type":"realloc"' in line:
                m = _SIZE.search(line)
                if m and int(m.group(1)) in sizes:
                    ev = json.loads(line)
                    tag, asset = ctx.get(ev["thread"], (0, 0))
                    assert ev["size"] not in got, ev
                    got[ev["size"]] = (tags[tag] if tag else None,
                                       assets[asset] if asset else None)
            elif '"type":"context"' in line:
                ev = json.loads(line)
                ctx[ev["thread"]] = (ev["tag"], ev["asset"])
            elif '"type":"tag_def"' in line:
                ev = json.loads(line)
                tags[ev["tag"]] = ev["name"]
            elif '"type":"asset_new"' in line:
                ev = json.loads(line)
                assets[ev["asset"]] = ev["name"]
            elif '"type":"validation"' in line:
                validations.append(json.loads(line))
    assert proc.returncode == 0
    assert sorted(got) == sorted(sizes), sorted(got)
    return got, validations


def gmtrace_lines(stderr):
    return [x for x in stderr.splitlines() if x.startswith("gmtrace: [")]


DECO = {
    # two decorated tasks, and a plain one whose steps come between theirs
    101000: ("deco/a", None), 102000: ("deco/a", None),
    103000: ("deco/a/inner", None), 104000: ("deco/a/inner", None),  # across an await
    105000: ("deco/a", None),
    201000: ("deco/b", None), 202000: ("deco/b", None), 203000: ("deco/b", None),
    204000: ("deco/b", None),
    301000: (None, None), 302000: (None, None), 303000: (None, None), 304000: (None, None),
    # a decorated coroutine awaiting another
    401000: ("deco/inner", None), 402000: ("deco/inner", None),
    403000: ("deco/outer", None), 404000: ("deco/outer", None),
    # a decorated generator-based coroutine (@types.coroutine), awaited
    411000: ("deco/legacy", None), 412000: ("deco/legacy", None),
    # two asset loads spanning awaits, interleaving
    501000: ("deco/loader", "a.png"), 502000: ("deco/loader", "a.png"),
    503000: ("deco/loader", "a.png"),
    511000: ("deco/loader", "b.png"), 512000: ("deco/loader", "b.png"),
    513000: ("deco/loader", "b.png"),
    # an async generator: asend, athrow, the consumer between, aclose
    601000: ("deco/agen", None), 602000: ("deco/agen", None), 605000: ("deco/agen", None),
    606000: ("deco/agen", None), 607000: (None, None),
    # cancelled, raising
    701000: ("deco/cancel", None), 702000: ("deco/cancel", None),
    703000: ("deco/raise", None),
    # a generator with a tag scope across a yield, its consumer in a scope
    901000: ("deco/gen", None), 902000: ("deco/gen/inner", None),
    903000: ("deco/gen", None), 904000: ("deco/consumer", None),
    905000: ("deco/consumer", None),
    801000: (None, None),
}


def test_decorated_coroutines_tag_their_own_steps(tmp_path):
    run = run_script(script("async_game.py"), ["--case", "deco"], tmp_path)
    got, validations = attribution(run.capture, DECO)
    assert got == DECO, {k: v for k, v in got.items() if DECO[k] != v}
    assert run.line == {
        "case": "deco", "coroutine_function": True, "async_generator_function": True,
        "name": "task_a", "results": ["a done", "b done"], "outer": 42, "legacy": 9, "agen": [0, -1, 1],
        "cancelled": True, "raised": "from the body", "rows": [1, 2]}
    assert gmtrace_lines(run.stderr) == [], run.stderr
    # taking scopes off between steps and putting them back is no misuse
    assert validations == []


@pytest.mark.parametrize("case", ("with", "assets"))
def test_interleaved_with_scopes_are_said_once(tmp_path, case):
    run = run_script(script("async_game.py"), ["--case", case], tmp_path)
    if case == "with":
        first, second = "tag 'with/a'", "tag 'with/b'"
        # a's scope opens, b's opens on top; everything until a's end goes
        # to b's; a's end takes a's tag off (not b's), b's end b's
        want = {101000: "with/a", 201000: "with/b", 102000: "with/b", 202000: "with/b",
                103000: "with/b", 104000: "with/b", 203000: "with/b",
                204000: "with/outer", 105000: "with/outer", 205000: "with/outer",
                300000: "with/outer", 301000: None}
        got, validations = attribution(run.capture, want)
        got = {k: t for k, (t, _) in got.items()}
    else:
        first, second = "the load of asset 'a.png'", "the load of asset 'b.png'"
        want = {101000: "a.png", 201000: "b.png", 102000: "b.png", 202000: "b.png",
                103000: "b.png", 104000: "b.png", 203000: "b.png", 204000: None,
                300000: None}
        got, validations = attribution(run.capture, want)
        got = {k: a for k, (_, a) in got.items()}
    assert got == want, {k: v for k, v in got.items() if want[k] != v}
    lines = gmtrace_lines(run.stderr)
    assert len(lines) == 1, run.stderr
    assert "] %s ended while %s, entered after it" % (first, second) in lines[0], lines
    assert "@gmtrace.tag(...)" in lines[0] and "per thread" in lines[0], lines
    assert validations == []
