"""test_as_handoff.py - load and unload scopes ended on another thread

An engine's loader begins an unload on the main thread and its resource
thread frees the asset's blocks and ends the unload; or the main thread
begins a load that a worker ends. The scope leaves the main thread all the
same: what the main thread allocates afterwards is no asset's (it was the
asset's until the end of the run: a leak of blocks it never had), and the
end on the other thread is a validation record (detach_mismatch: a scope
ended on a thread that did not begin it).
"""
import subprocess

from as_support import LIB, SOURCE_DIR, assets_report, by_name, gmtrace_json

GAME = r"""
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <gmtrace.h>

static sem_t go, done;
static void *volatile block;
static volatile int job; /* 1: free block, end crate's unload; 2: end barrel's load */
static uint64_t crate, barrel;
static void *volatile keep[16];

static void *resource_thread(void *arg)
{
    (void)arg;
    for (int k = 0; k < 2; k++) {
        while (sem_wait(&go) != 0)
            ;
        if (job == 1) {
            free(block);
            gmtrace_asset_unload_end(crate);
        } else {
            gmtrace_asset_load_end(barrel, 1);
        }
        sem_post(&done);
    }
    return NULL;
}

static void hand_over(int what)
{
    job = what;
    sem_post(&go);
    while (sem_wait(&done) != 0)
        ;
}

int main(void)
{
    pthread_t th;
    (void)gmtrace_enabled();
    sem_init(&go, 0, 0);
    sem_init(&done, 0, 0);
    pthread_create(&th, NULL, resource_thread, NULL);
    crate = gmtrace_asset_load_begin("crate", "model");
    block = malloc(1000);
    gmtrace_asset_load_end(crate, 1);
    gmtrace_frame_mark();
    gmtrace_asset_unload_begin(crate);
    hand_over(1);
    for (int i = 0; i < 5; i++)
        keep[i] = malloc(1000 + i);
    gmtrace_frame_mark();
    barrel = gmtrace_asset_load_begin("barrel", "model");
    keep[5] = malloc(3000); /* the barrel's, in its load scope */
    hand_over(2);
    keep[6] = malloc(4000); /* after the worker ended the load: no asset's */
    gmtrace_frame_mark();
    pthread_join(th, NULL);
    printf("done\n");
    return 0;
}
"""


def test_scopes_ended_on_another_thread_leave_the_first(tmp_path):
    src, exe = tmp_path / "handoff.c", tmp_path / "handoff"
    src.write_text(GAME)
    subprocess.run(["cc", "-O0", "-fno-builtin", "-pthread", "-I",
                    str(SOURCE_DIR / "interpose" / "include"), "-o", str(exe), str(src), "-ldl"],
                   check=True, timeout=60)
    cap = tmp_path / "handoff.gmt"
    r = subprocess.run([str(exe)], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                       env={"LD_PRELOAD": str(LIB), "GMTRACE_OUTPUT": str(cap),
                            "PATH": "/usr/bin:/bin"})
    assert (r.returncode, r.stdout) == (0, "done\n"), r.stderr
    rep = assets_report(cap, expect_rc=0)
    assets = by_name(rep["assets"], "asset")
    crate, barrel = assets["crate"], assets["barrel"]
    assert (crate["state"], crate["live_bytes"], crate["allocated_bytes"]) == (
        "unloaded", 0, 1000), crate
    assert (barrel["state"], barrel["live_bytes"], barrel["allocated_bytes"]) == (
        "resident", 3000, 3000), barrel
    assert [c for c in rep["checks"] if c["check"] == "leak"] == []
    found = sorted((c["subject"], c["code"]) for c in rep["checks"]
                   if c["check"] == "validation")
    assert found == sorted([(crate["id"], "detach_mismatch"), (barrel["id"], "detach_mismatch")])
