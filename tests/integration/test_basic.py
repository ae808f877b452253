"""test_basic.py - fx_basic and fx_cxx under the preload: every C and C++
allocation entry point is seen with its requested size and kind, the
allocator's contracts still hold (the fixture exits 1 if one breaks), and the
capture filtered by the size rule equals the fixture's JSON line."""
import re
import subprocess

import pytest

from conftest import (BUILD_DIR, SOURCE_DIR, assert_tally, assert_valid, captures,
                      fixture_line, fx, preload_env, rule_tally, run_preloaded, shm_logs)

# fx_basic: successful calls per entry point, as its JSON "calls" counts them
# (free(NULL) is the one that leaves no trace of a deliberate block).
BASIC_KINDS = ("malloc", "calloc", "realloc", "reallocarray", "posix_memalign",
               "aligned_alloc", "memalign", "valloc", "pvalloc", "free")
TALLY_KEYS_PEAK = ("allocations", "frees", "allocated_bytes", "freed_bytes",
                   "live_at_exit_count", "live_at_exit_bytes", "peak_live_bytes")


def run_fixture(tmp_path, name):
    r = run_preloaded([fx(f"fx_{name}")], tmp_path, timeout=30)
    assert r.returncode == 0, f"fx_{name} under the preload: rc {r.returncode}: {r.stderr!r}"
    line = fixture_line(r.stdout, fixture=name)
    caps = captures(tmp_path)
    assert len(caps) == 1, f"expected one capture, got {caps}"
    assert caps[0].name.startswith(f"fx_{name}.")
    return line, caps[0]


def cxx_compiler_id():
    """CMAKE_CXX_COMPILER_ID of the build tree ("GNU", "Clang"), or None."""
    for f in (BUILD_DIR / "CMakeFiles").glob("*/CMakeCXXCompiler.cmake"):
        m = re.search(r'set\(CMAKE_CXX_COMPILER_ID "([^"]*)"\)', f.read_text())
        if m:
            return m.group(1)
    return None


def test_basic_capture_equals_fixture(tmp_path):
    line, cap = run_fixture(tmp_path, "basic")
    s = assert_valid(cap)
    t = rule_tally(cap)
    assert_tally(t, line, keys=TALLY_KEYS_PEAK)
    # every deliberate call is recorded under its own entry point
    assert dict(t.calls) == {k: line["calls"][k] for k in BASIC_KINDS}
    # failed calls are fail records, not allocations (aligned_alloc(48, 96) may
    # fail on a newer glibc: then it is one more)
    extra = 1 if line["aligned_alloc_nonpow2"] == "EINVAL" else 0
    assert s["failed_allocations"] in (line["failed_calls"], line["failed_calls"] + extra)
    assert not shm_logs(s["process"]["pid"])


def test_cxx_capture_equals_fixture(tmp_path):
    line, cap = run_fixture(tmp_path, "cxx")
    s = assert_valid(cap)
    t = rule_tally(cap)
    assert_tally(t, line, keys=TALLY_KEYS_PEAK)
    # S1 S2 S5 S7 S8 S11 S13 S15 S16 through operator new, S3 S4 S6 S9 S10
    # S12 S14 through operator new[]; frees: S1 S2 S5 S7 S8 S11 S13 through
    # delete, S3 S4 S6 S9 S10 S12 through delete[] (cxx.cpp)
    assert dict(t.calls) == {"new": 9, "new_array": 7, "delete": 7, "delete_array": 6}
    # the huge requests throw or return nullptr, each after one fail record;
    # except new uint64_t[huge], whose length GCC rejects before calling
    # operator new[] (cxx.cpp), so no allocation function ever sees it
    expected = line["failed_calls"] - (1 if cxx_compiler_id() == "GNU" else 0)
    assert s["failed_allocations"] == expected
    assert not shm_logs(s["process"]["pid"])


# ---- every entry point in every recording mode ------------------------------
# The hooks are one inlined body per entry point, with branches for the level,
# the timed sample, and a budget heap serving the call: the fixtures' contract
# checks run through each of those paths (and those of call stacks and of
# bursts). Under a platform, every allocation
# is served by the default bank's heap (tiny-split: 8 MiB main, room for the
# fixtures), in soft and in strict mode; failing requests must still fail the
# way the allocator's contract says (NULL + ENOMEM, *memptr untouched).

PLATFORM = str(SOURCE_DIR / "tests" / "platforms" / "profiles" / "tiny-split.yaml")
MODES = {
    "timed": {"GMTRACE_TIMING_SAMPLE": "1"},
    "platform": {"GMTRACE_PLATFORM": PLATFORM},
    "platform-strict": {"GMTRACE_PLATFORM": PLATFORM, "GMTRACE_BUDGET_MODE": "strict"},
    "frames": {"GMTRACE_LEVEL": "frames"},
    "frames-platform-timed": {"GMTRACE_LEVEL": "frames", "GMTRACE_PLATFORM": PLATFORM,
                              "GMTRACE_TIMING_SAMPLE": "1"},
    "stacks": {"GMTRACE_STACKS": "8"},
    "bursts": {"GMTRACE_BURST_ALLOCATIONS": "7"},
    "stacks-bursts-platform": {"GMTRACE_STACKS": "8", "GMTRACE_BURST_ALLOCATIONS": "15",
                               "GMTRACE_PLATFORM": PLATFORM},
}


@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("name", ["basic", "cxx"])
def test_entry_points_keep_their_contracts_in_every_mode(tmp_path, name, mode):
    env = MODES[mode]
    r = run_preloaded([fx(f"fx_{name}")], tmp_path, extra_env=env, timeout=30)
    assert r.returncode == 0, f"fx_{name} ({mode}): rc {r.returncode}: {r.stderr!r}"
    line = fixture_line(r.stdout, fixture=name)
    caps = captures(tmp_path)
    assert len(caps) == 1, f"expected one capture, got {caps}"
    s = assert_valid(caps[0])
    if env.get("GMTRACE_LEVEL") == "frames":
        # per-frame totals only (the fixtures mark no frame): no allocation
        # record, but every failed call is still one
        assert s["allocations"] == 0 and s["frees"] == 0, s
    else:
        t = rule_tally(caps[0])
        assert_tally(t, line, keys=TALLY_KEYS_PEAK, what=f"{mode}: ")
    if name == "basic":
        extra = 1 if line["aligned_alloc_nonpow2"] == "EINVAL" else 0
        assert s["failed_allocations"] in (line["failed_calls"], line["failed_calls"] + extra)
    else:
        expected = line["failed_calls"] - (1 if cxx_compiler_id() == "GNU" else 0)
        assert s["failed_allocations"] == expected


OWN_MALLOC = r"""
#include <stddef.h>
#include <stdio.h>
#include <string.h>
/* the program's own allocator: a bump arena (what a statically linked
 * jemalloc or tcmalloc is to the loader: malloc defined in the program) */
static char arena[1 << 22] __attribute__((aligned(16)));
static size_t used;
void *malloc(size_t n)
{
    void *p;
    n = (n + 15) & ~(size_t)15;
    if (n > sizeof(arena) - used)
        return NULL;
    p = arena + used;
    used += n;
    return p;
}
void free(void *p) { (void)p; }
void *calloc(size_t a, size_t b)
{
    void *p = a && b > (size_t)-1 / a ? NULL : malloc(a * b);
    if (p)
        memset(p, 0, a * b);
    return p;
}
void *realloc(void *p, size_t n)
{
    void *q = malloc(n);
    if (q && p)
        memcpy(q, p, n); /* (the arena reads past the old block at worst) */
    return q;
}
int main(void)
{
    for (int i = 0; i < 100; i++) {
        char *volatile p = malloc(100);
        p[0] = 1;
        free(p);
    }
    puts("ok");
    return 0;
}
"""


def test_a_program_with_a_malloc_of_its_own_is_said(tmp_path):
    """A program that defines malloc itself (an allocator linked in
    statically) comes first in lookup order: nothing reaches gmtrace, and
    the capture was empty in silence. One warning says why."""
    src = tmp_path / "own.c"
    src.write_text(OWN_MALLOC)
    exe = tmp_path / "own"
    subprocess.run(["cc", "-O1", "-o", str(exe), str(src)], check=True, timeout=60)
    env = preload_env(tmp_path)
    del env["GMTRACE_QUIET"]
    r = subprocess.run([str(exe)], env=env, cwd=str(tmp_path), capture_output=True,
                       timeout=30)
    assert (r.returncode, r.stdout) == (0, b"ok\n"), r
    said = [x for x in r.stderr.decode().splitlines() if "a malloc of its own" in x]
    assert said == [f"gmtrace: [{said[0].split('[')[1].split(']')[0]}] the program has a "
                    f"malloc of its own ({exe}; an allocator linked in statically): its "
                    "allocations do not reach gmtrace and are not recorded"], r.stderr
    # a program that only takes malloc's address (a stub in its own PLT) is no such
    # program: python3 here, and every fixture
    env["PYTHONMALLOC"] = "malloc"
    r = subprocess.run(["/usr/bin/python3", "-c", "pass"], env=env, cwd=str(tmp_path),
                       capture_output=True, timeout=30)
    assert r.returncode == 0 and b"of its own" not in r.stderr, r.stderr
