"""test_po_reuse.py - pool ids given again while threads use pools and frames end

Four threads each make 400 pools (1,600 in all, so ids come back many times):
thread t acquires (t + 1) * 7 objects from its new pool and 3 from the heap,
hands the pool to the next thread, which releases all of them and destroys
it, while the main thread ends a frame every 20 us. A destroy that lands
while a frame end is reading the counters must not let the id go to a new
pool before the next frame end wrote the old pool's last counts: each pool
has exactly its own acquires and releases, none left in use.
"""
import subprocess

from po_support import LIB, SOURCE_DIR, pools_json

GAME = r"""
#include <gmtrace.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#define NT 4
#define NL 400
static volatile uint32_t box[NT];
static int zero_ids;

static void *worker(void *arg)
{
    int t = (int)(long)arg, made = 0, took = 0, from = (t + NT - 1) % NT;
    char name[64];
    while (made < NL || took < NL) {
        if (made < NL && __atomic_load_n(&box[(t + 1) % NT], __ATOMIC_ACQUIRE) == 0) {
            uint32_t id;
            snprintf(name, sizeof(name), "L%03d_t%d", made, t);
            id = gmtrace_pool_create(name, 32, 50);
            if (!id)
                __atomic_add_fetch(&zero_ids, 1, __ATOMIC_RELAXED);
            for (int i = 0; i < (t + 1) * 7; i++)
                gmtrace_pool_acquire(id, 1);
            for (int i = 0; i < 3; i++)
                gmtrace_pool_acquire(id, 0);
            __atomic_store_n(&box[(t + 1) % NT], id ? id : 0xffff, __ATOMIC_RELEASE);
            made++;
            usleep(100);
        }
        uint32_t id = __atomic_load_n(&box[t], __ATOMIC_ACQUIRE);
        if (id) {
            if (id != 0xffff) {
                for (int i = 0; i < (from + 1) * 7; i++)
                    gmtrace_pool_release(id, 1);
                for (int i = 0; i < 3; i++)
                    gmtrace_pool_release(id, 0);
                gmtrace_pool_destroy(id);
            }
            __atomic_store_n(&box[t], 0, __ATOMIC_RELEASE);
            took++;
        }
    }
    return NULL;
}

int main(void)
{
    pthread_t th[NT];
    int running = NT;
    (void)gmtrace_enabled();
    for (long t = 0; t < NT; t++)
        pthread_create(&th[t], NULL, worker, (void *)t);
    while (running) {
        gmtrace_frame_mark();
        usleep(20);
        for (int t = 0; t < NT; t++)
            if (th[t] && pthread_tryjoin_np(th[t], NULL) == 0) {
                th[t] = 0;
                running--;
            }
    }
    gmtrace_frame_mark();
    printf("zero_ids=%d\n", zero_ids);
    return 0;
}
"""


def test_reused_ids_keep_each_pools_counts(tmp_path):
    src, exe = tmp_path / "reuse.c", tmp_path / "reuse"
    src.write_text(GAME)
    subprocess.run(["cc", "-O1", "-D_GNU_SOURCE", "-fno-builtin", "-pthread", "-I",
                    str(SOURCE_DIR / "interpose" / "include"), "-o", str(exe), str(src), "-ldl"],
                   check=True, timeout=60)
    cap = tmp_path / "reuse.gmt"
    r = subprocess.run([str(exe)], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                       env={"LD_PRELOAD": str(LIB), "GMTRACE_OUTPUT": str(cap),
                            "PATH": "/usr/bin:/bin"})
    assert (r.returncode, r.stdout) == (0, "zero_ids=0\n"), r.stderr
    pools = pools_json(cap)["pools"]
    assert len(pools) == 1600
    wrong = []
    for p in pools:
        t = int(p["name"].split("_t")[1])
        want = ((t + 1) * 7 + 3, (t + 1) * 7, (t + 1) * 7 + 3, 0)
        got = (p["acquires"], p["served"], p["releases"], p["in_use_end"])
        if got != want:
            wrong.append((p["name"], p["id"], got, want))
    assert wrong == [], f"{len(wrong)} pools with another pool's counts: {wrong[:5]}"
