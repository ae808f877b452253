"""test_real_programs.py - programs nobody here wrote run under the preload
exactly as without it (same output, same status), and their captures are
valid: read whole, something allocated, nothing lost, no unmatched frees.
Python with PYTHONMALLOC=malloc (every object through malloc), sort on a
200,000-line file, xz compressing a generated file (gzip allocates nothing)."""
import hashlib
import random
import shutil

import pytest

from conftest import assert_valid, captures, run_plain, run_preloaded

PYTHON = "/usr/bin/python3"

# Allocation-heavy: dicts, lists, strings, a JSON round trip; prints a digest.
SCRIPT = r'''
import hashlib, json
items = []
for i in range(20000):
    items.append({"id": i, "name": "item-%d" % i, "tags": [str(j) * (j + 1) for j in range(i % 6)],
                  "score": i * 0.25, "nested": {"k": [i, str(i)]}})
text = json.dumps(items, sort_keys=True)
back = json.loads(text)
assert back == items
groups = {}
for d in back:
    groups.setdefault(len(d["tags"]), []).append(d["name"].upper()[::-1])
words = " ".join(w for g in sorted(groups) for w in groups[g]).split()
h = hashlib.sha256(text.encode())
h.update(repr(sorted((k, len(v)) for k, v in groups.items())).encode())
h.update(str(len(set(words))).encode())
print(h.hexdigest(), len(text), len(words))
'''


def lines_file(path, n, seed):
    rnd = random.Random(seed)
    with open(path, "w") as f:
        for i in range(n):
            f.write("%08x %s %d\n" % (rnd.getrandbits(32), "abcdefgh"[: rnd.randrange(9)] * 3, i))
    return path


def same_with_and_without(tmp_path, argv, extra_env=None, stdin_path=None):
    """Runs argv twice, plain then preloaded; both outputs and statuses must
    match. Returns the one capture's summary."""
    def go(run, *args):
        with open(stdin_path, "rb") if stdin_path else open("/dev/null", "rb") as stdin:
            return run(*args, stdin=stdin)
    plain_dir = tmp_path / "plain"
    plain_dir.mkdir()
    ref = go(lambda **kw: run_plain(argv, plain_dir, extra_env, timeout=60, **kw))
    got = go(lambda **kw: run_preloaded(argv, tmp_path, extra_env, timeout=60, **kw))
    assert ref.returncode == 0, ref.stderr
    assert got.returncode == ref.returncode, got.stderr
    assert hashlib.sha256(got.stdout).hexdigest() == hashlib.sha256(ref.stdout).hexdigest(), \
        "output differs under the preload"
    assert got.stderr == ref.stderr
    caps = captures(tmp_path)
    assert len(caps) == 1, caps
    s = assert_valid(caps[0])
    assert s["allocations"] > 0
    return s


def test_python_allocation_heavy(tmp_path):
    script = tmp_path / "work.py"
    script.write_text(SCRIPT)
    s = same_with_and_without(tmp_path, [PYTHON, "-S", str(script)],
                              {"PYTHONMALLOC": "malloc", "PYTHONDONTWRITEBYTECODE": "1"})
    assert s["allocations"] > 100000  # PYTHONMALLOC=malloc: objects are malloc'd


def test_sort_200k_lines(tmp_path):
    sort = shutil.which("sort") or pytest.skip("no sort")
    data = lines_file(tmp_path / "lines.txt", 200000, 7)
    same_with_and_without(tmp_path, [sort, "-S", "16M", str(data)], {"LC_ALL": "C"})


def test_xz_compress(tmp_path):
    xz = shutil.which("xz") or pytest.skip("no xz")
    data = lines_file(tmp_path / "data.txt", 100000, 11)
    same_with_and_without(tmp_path, [xz, "-c", "-6"], stdin_path=data)
