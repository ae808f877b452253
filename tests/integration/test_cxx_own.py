"""test_cxx_own.py - C++ games that do their own thing with operator new

fx_ownnew defines global operator new and delete itself (a header before
each block) and nothing else: under the preload the other forms (the sized
delete of a delete-expression, new[], delete[], nothrow new) must reach its
two operators as the C++ library's defaults do, or its blocks are freed
without their header and the game aborts. fx_newhandler's new-handler
gives up by throwing: each failed operator new is still a failure in the
capture (tests/fixtures/ownnew.cpp, newhandler.cpp)."""
import collections
import json
import subprocess

from conftest import assert_tally, captures, fixture_line, fx, gmtrace, rule_tally, run_plain, \
    run_preloaded


def dump(path):
    r = gmtrace("dump", "--json", path)
    assert r.returncode == 0, r.stderr
    return [json.loads(x) for x in r.stdout.splitlines()]


def test_a_games_own_operator_new_and_delete_get_every_form(tmp_path):
    plain = run_plain([fx("fx_ownnew")], tmp_path, timeout=30)
    assert plain.returncode == 0, plain.stderr
    r = run_preloaded([fx("fx_ownnew")], tmp_path, timeout=30)
    assert r.returncode == 0, f"fx_ownnew under the preload: rc {r.returncode}: {r.stderr!r}"
    line = fixture_line(r.stdout, fixture="ownnew")
    assert (line["game_new"], line["game_delete"]) == (12, 12)
    assert line == fixture_line(plain.stdout, fixture="ownnew")
    (cap,) = captures(tmp_path)
    # the game's operators are built on malloc and free: its blocks are
    # recorded there, header included (Obj: 24 B + 16; Obj[3]: 72 + 16).
    # The rounds are frame 2, between the fixture's two marks (before the
    # first is the process's start, after the second its exit, where a
    # coverage build's runtime allocates).
    events = dump(cap)
    marks = [i for i, e in enumerate(events) if e["type"] == "frame"]
    assert [events[i]["frame"] for i in marks] == [1, 2], marks
    got = collections.Counter((e["type"], e["kind"], e.get("size", 0))
                              for e in events[marks[0]:marks[1]]
                              if e["type"] in ("alloc", "free", "realloc", "fail"))
    assert got == {("alloc", "malloc", 40): 8, ("alloc", "malloc", 88): 4,
                   ("free", "free", 0): 12}, got
    (sum2,) = [e for e in events if e["type"] == "frame_sum" and e["frame"] == 2]
    assert (sum2["allocations"], sum2["frees"], sum2["allocated_bytes"]) == (12, 12, 672), sum2


def test_a_new_handler_that_throws_leaves_its_failures(tmp_path):
    r = run_preloaded([fx("fx_newhandler")], tmp_path, timeout=30)
    assert r.returncode == 0, r.stderr
    line = fixture_line(r.stdout, fixture="newhandler")
    assert line["caught"] == 3
    # the nothrow forms return NULL when the handler throws, as without
    # gmtrace (they went to std::terminate), and record their failures
    assert line["nothrow_nulls"] == 4
    (cap,) = captures(tmp_path)
    assert_tally(rule_tally(cap), line)
    fails = [(e["kind"], e["size"]) for e in dump(cap) if e["type"] == "fail"]
    assert fails == [("new", 1 << 46)] * 3 + [("new", 1 << 46), ("new_array", 1 << 46)] * 2
    summary = json.loads(gmtrace("summary", "--json", cap).stdout)
    assert summary["failed_allocations"] == 7, summary


ENGINE_LIB = r"""
#include <new>
#include <cstdio>
#include <cstdlib>
#include <cstring>
extern "C" long eng_live, eng_count;
long eng_live, eng_count;
void *operator new(std::size_t n)
{
    char *p = (char *)std::malloc(n + 16);
    if (!p)
        throw std::bad_alloc();
    std::memcpy(p, &n, 8);
    std::memcpy(p + 8, "ENGINE!", 8);
    eng_live += (long)n;
    eng_count++;
    return p + 16;
}
void operator delete(void *q) noexcept
{
    if (!q)
        return;
    char *p = (char *)q - 16;
    if (std::memcmp(p + 8, "ENGINE!", 8)) {
        std::fputs("engine: foreign block\n", stderr);
        std::abort();
    }
    std::size_t n;
    std::memcpy(&n, p, 8);
    eng_live -= (long)n;
    std::free(p);
}
void operator delete(void *q, std::size_t) noexcept { operator delete(q); }
struct Entity { int hp[10]; };
Entity *spawn() { return new Entity(); }
void despawn(Entity *e) { delete e; }
"""
ENGINE_MAIN = r"""
#include <cstdio>
#include <vector>
struct Entity { int hp[10]; };
Entity *spawn();
void despawn(Entity *);
extern "C" long eng_live, eng_count;
int main()
{
    Entity *e = spawn();
    delete e;                /* the engine's block, deleted here */
    Entity *f = new Entity(); /* here, deleted in the engine */
    despawn(f);
    std::vector<int> v(100);
    std::printf("live=%ld count=%ld\n", eng_live, eng_count);
    return 0;
}
"""


def test_an_engine_library_that_defines_operator_new_keeps_it(tmp_path):
    """libengine.so defines global new and delete: it comes after the
    preload in lookup order, so every new and delete reached gmtrace's and
    missed the engine's allocator (live=0 count=0); built with
    -Bsymbolic-functions, its own new bound to itself and the game's delete
    to gmtrace's, which freed the engine's block past its header: a crash.
    Now gmtrace's forms pass the calls on to the engine's."""
    (tmp_path / "eng.cc").write_text(ENGINE_LIB)
    (tmp_path / "main.cc").write_text(ENGINE_MAIN)
    for flags in ([], ["-Wl,-Bsymbolic-functions"]):
        out = tmp_path / ("sym" if flags else "plain")
        out.mkdir()
        subprocess.run(["g++", "-O2", "-shared", "-fPIC", *flags, "-o",
                        str(out / "libengine.so"), str(tmp_path / "eng.cc")], check=True,
                       timeout=120)
        subprocess.run(["g++", "-O2", "-o", str(out / "game"), str(tmp_path / "main.cc"),
                        f"-L{out}", "-lengine", f"-Wl,-rpath,{out}"], check=True, timeout=120)
        plain = run_plain([out / "game"], out, timeout=30)
        assert (plain.returncode, plain.stdout) == (0, b"live=400 count=3\n"), plain
        r = run_preloaded([out / "game"], out, timeout=30)
        assert (r.returncode, r.stdout) == (0, plain.stdout), (flags, r)
        # the engine's blocks come from malloc: 40 B entities + its 16 B header
        (cap,) = captures(out)
        ents = [e for e in dump(cap) if e["type"] == "alloc" and e["size"] == 56]
        assert [e["kind"] for e in ents] == ["malloc", "malloc"], (flags, ents)


BAD_ALIGN = r"""
#include <new>
#include <cstdio>
static long calls;
static void handler() { calls++; } /* returns: "try again" */
int main()
{
    std::set_new_handler(handler);
    try {
        void *p = ::operator new(64, std::align_val_t(48));
        std::printf("got %p\n", p);
    } catch (std::bad_alloc &) {
        std::printf("bad_alloc, handler calls=%ld\n", calls);
    }
    void *q = ::operator new(64, std::align_val_t(48), std::nothrow);
    std::printf("nothrow %s, handler calls=%ld\n", q ? "a block" : "NULL", calls);
    /* 0 is no power of two either (gmtrace served it as a plain new) */
    try {
        void *p = ::operator new[](32, std::align_val_t(0));
        std::printf("got %p\n", p);
    } catch (std::bad_alloc &) {
        std::printf("bad_alloc, handler calls=%ld\n", calls);
    }
    q = ::operator new(32, std::align_val_t(0), std::nothrow);
    std::printf("nothrow %s, handler calls=%ld\n", q ? "a block" : "NULL", calls);
    return 0;
}
"""


def test_aligned_new_with_no_power_of_two_fails_at_once(tmp_path):
    """An alignment that is no power of two: the C++ library throws (or
    gives NULL) at once; gmtrace called the new-handler, and one that
    returns looped for ever."""
    (tmp_path / "a.cc").write_text(BAD_ALIGN)
    exe = tmp_path / "badalign"
    subprocess.run(["g++", "-std=c++17", "-O1", "-o", str(exe), str(tmp_path / "a.cc")],
                   check=True, timeout=120)
    plain = run_plain([exe], tmp_path, timeout=30)
    assert plain.stdout == b"bad_alloc, handler calls=0\nnothrow NULL, handler calls=0\n" * 2
    r = run_preloaded([exe], tmp_path, timeout=30)
    assert (r.returncode, r.stdout) == (0, plain.stdout), r
    (cap,) = captures(tmp_path)
    fails = [(e["kind"], e["size"], e["alignment"]) for e in dump(cap) if e["type"] == "fail"]
    assert fails == [("new", 64, 48), ("new", 64, 48), ("new_array", 32, 0), ("new", 32, 0)], fails


REGISTRY_LIB = r"""
#include <cstdlib>
#include <string>
#include <vector>
static std::vector<std::string> registry; /* destroyed at exit */
static void *block;
static void cleanup() { std::free(block); }
__attribute__((constructor)) static void registry_init() { std::atexit(cleanup); }
void registry_add(int i)
{
    registry.push_back(std::string(64 + i, 'r'));
    if (!block)
        block = std::malloc(1111); /* freed by cleanup, at exit */
}
"""
REGISTRY_MAIN = r"""
#include <cstdio>
void registry_add(int);
int main()
{
    for (int i = 0; i < 100; i++)
        registry_add(i);
    std::puts("ok");
    return 0;
}
"""


def test_what_a_library_frees_at_exit_is_no_leak(tmp_path):
    """A library's static objects and its atexit handlers are destroyed
    after gmtrace's own destructor (the loader finalises libraries in load
    order, the preload first): its 100 strings and its block were live at
    exit in the capture, as leaks. The session now ends after them: the
    same code in a library or in the program gives the same capture."""
    (tmp_path / "reg.cc").write_text(REGISTRY_LIB)
    (tmp_path / "main.cc").write_text(REGISTRY_MAIN)
    subprocess.run(["g++", "-O1", "-shared", "-fPIC", "-o", str(tmp_path / "libreg.so"),
                    str(tmp_path / "reg.cc")], check=True, timeout=120)
    subprocess.run(["g++", "-O1", "-o", str(tmp_path / "inlib"), str(tmp_path / "main.cc"),
                    f"-L{tmp_path}", "-lreg", f"-Wl,-rpath,{tmp_path}"], check=True,
                   timeout=120)
    subprocess.run(["g++", "-O1", "-o", str(tmp_path / "inexe"), str(tmp_path / "main.cc"),
                    str(tmp_path / "reg.cc")], check=True, timeout=120)
    got = {}
    for prog in ("inlib", "inexe"):
        run = tmp_path / f"run-{prog}"
        run.mkdir()
        r = run_preloaded([tmp_path / prog], run, timeout=30)
        assert (r.returncode, r.stdout) == (0, b"ok\n"), r
        (cap,) = captures(run)
        events = dump(cap)
        live = {}
        for e in events:
            if e["type"] == "alloc":
                live[e["ptr"]] = e["size"]
            elif e["type"] == "free":
                live.pop(e["ptr"], None)
        got[prog] = sorted(s for s in live.values() if s == 1111 or 64 <= s - 1 <= 163)
    assert got["inlib"] == got["inexe"] == [], got
