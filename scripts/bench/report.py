#!/usr/bin/env python3
"""report.py - turn scripts/bench.sh's raw run lines into the results table and JSON.

    report.py RAW META RESULTS_TXT RESULTS_JSON

RAW has one line per run: "SECTION CASE VARIANT REP key=value ...", where
SECTION is time, mem, cg or stall; CASE pair, gl1 (gameloop, 1 thread), gl2
(2 threads), or a callgrind run name; VARIANT plain, gm (LD_PRELOAD, drainer
thread in the game), ext (`gmtrace run`, drained from outside), nv and nvnull
(the naive reference recorder, scripts/bench/naive.c, writing its records to
a file or to /dev/null) or ht (heaptrack). A run that failed has "failed=RC" instead of figures. META is
key=value lines describing the run. Every figure is a median over the runs;
ratios are ratios of medians. The table is printed and written to
RESULTS_TXT; the same figures, the targets and every run go to RESULTS_JSON.
"""
import json
import statistics
import sys

MIB = 1024.0  # peak RSS figures are in KiB

# Targets from the design brief, and the earlier measurement shown as context.
TARGET_PAIR_NS = 20.0
TARGET_RATIO_1T = 1.30
TARGET_RATIO_2T_SLACK = 0.05  # "no worse with two": within run-to-run noise
TARGET_FRAME_MS = 0.25
TARGET_BYTES_PER_EVENT = 8.0
TARGET_MEM_MIB = 20.0
REFERENCE = [
    "naive recorder (32-byte record + clock read per event): ~27 ns added per pair, "
    "game-like loop 1.5x slower",
    "heaptrack (earlier game-like workload): ~245 ns per pair, 13x (1 thread), 31x (2 threads)",
]


def parse(raw_path):
    runs = []
    with open(raw_path) as f:
        for line in f:
            tok = line.split()
            if len(tok) < 4:
                continue
            fig = {}
            for kv in tok[4:]:
                k, _, v = kv.partition("=")
                try:
                    fig[k] = float(v)
                except ValueError:
                    fig[k] = v
            runs.append({"section": tok[0], "case": tok[1], "variant": tok[2],
                         "rep": tok[3], "figures": fig})
    return runs


class Figures:
    def __init__(self, runs):
        self.runs = runs
        self.medians = {}

    def values(self, section, case, variant, key):
        return [r["figures"][key] for r in self.runs
                if r["section"] == section and r["case"] == case and r["variant"] == variant
                and "failed" not in r["figures"] and isinstance(r["figures"].get(key), float)]

    def failed(self, section, case, variant):
        return [r for r in self.runs
                if r["section"] == section and r["case"] == case and r["variant"] == variant
                and "failed" in r["figures"]]

    def med(self, section, case, variant, key):
        v = self.values(section, case, variant, key)
        m = statistics.median(v) if v else None
        self.medians["%s.%s.%s.%s" % (section, case, variant, key)] = {
            "median": m, "n": len(v), "min": min(v) if v else None,
            "max": max(v) if v else None}
        return m

    def per_event(self, section, case, variant):
        """Median of capture bytes / (allocations + frees) over the runs."""
        out = []
        for r in self.runs:
            f = r["figures"]
            if (r["section"], r["case"], r["variant"]) != (section, case, variant):
                continue
            if all(isinstance(f.get(k), float) for k in ("cap_bytes", "allocations", "frees")):
                ev = f["allocations"] + f["frees"]
                if ev > 0:
                    out.append((f["cap_bytes"] / ev, f["cap_bytes"], ev))
        if not out:
            return None
        out.sort()
        return out[len(out) // 2]


def fmt(v, spec="%.1f", none="-"):
    return none if v is None else spec % v


def ratio(a, b):
    return None if a is None or b in (None, 0) else a / b


def diff(a, b):
    return None if a is None or b is None else a - b


def verdict(ok):
    return "n/a" if ok is None else ("PASS" if ok else "MISS")


def main():
    raw, meta_path, txt_path, json_path = sys.argv[1:5]
    meta = {}
    with open(meta_path) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("=")
            meta[k] = v
    runs = parse(raw)
    F = Figures(runs)
    frames = float(meta["frames"])
    lines = []
    targets = []

    def out(s=""):
        lines.append(s)

    def target(name, value, unit, rule, ok):
        targets.append({"name": name, "value": value, "unit": unit, "target": rule,
                        "result": verdict(ok)})
        return verdict(ok)

    def failnote(section, case, variants):
        notes = []
        for v in variants:
            for r in F.failed(section, case, v):
                notes.append("%s run %s failed (exit %s)" % (v, r["rep"],
                                                             fmt(r["figures"]["failed"], "%d")))
        return "; ".join(notes)

    out("gmtrace bench - %s mode, %s, %s cores (%s), load average %s at start, %s at end" %
        (meta["mode"], meta["date"], meta["cores"], meta["cpu"], meta["load_start"],
         meta["load"]))
    out("commit %s; build %s; ring %s; heaptrack: %s" %
        (meta["commit"], meta["build"], meta["ring_size"], meta["heaptrack"]))
    out("medians of %s runs per figure (memory: %s runs), variants interleaved run by run;"
        % (meta["reps"], meta["mem_reps"]))
    out("times are measured inside the workload (clock_gettime around the loop).")
    out("this machine's clock: a TSC read costs %s ns (back to back, scripts/bench/clock.c), "
        "clock_gettime %s ns;" % (meta.get("clock_tsc_ns", "?"), meta.get("clock_mono_ns", "?")))
    out("  the events level reads the TSC once per event; with BURST_ALLOCATIONS=7 (bursts),"
        " for every free and one allocation in eight in a burst (BURSTS below).")
    out("gmtrace = LD_PRELOAD=libgmtrace.so, drainer thread in the game (default); "
        "gmtrace run = drained from outside.")
    out()

    # ---- time ---------------------------------------------------------------
    hdr = "%-44s %9s %9s %8s %9s %10s %8s  %-18s %s"
    out("TIME")
    out(hdr % ("", "plain", "gmtrace", "gm/plain", "added", "heaptrack", "ht/plain",
               "target", "result"))

    def trow(label, case, key, scale=1.0, unit="", tgt="", res="", variant="gm"):
        p = F.med("time", case, "plain", key)
        g = F.med("time", case, variant, key)
        h = F.med("time", case, "ht", key) if variant == "gm" else None
        p = None if p is None else p * scale
        g = None if g is None else g * scale
        h = None if h is None else h * scale
        d = diff(g, p)
        out(hdr % (label, fmt(p, "%.3f" if scale != 1 else "%.2f"),
                   fmt(g, "%.3f" if scale != 1 else "%.2f"),
                   fmt(ratio(g, p), "%.2fx"), fmt(d, "%+.3f" if scale != 1 else "%+.2f"),
                   fmt(h, "%.3f" if scale != 1 else "%.2f"), fmt(ratio(h, p), "%.1fx"), tgt, res))
        return p, g, h

    p, g, h = F.med("time", "pair", "plain", "pair_ns"), F.med("time", "pair", "gm", "pair_ns"), None
    d = diff(g, p)
    res = target("pair.added_ns", d, "ns per malloc+free pair", "< %g" % TARGET_PAIR_NS,
                 None if d is None else d < TARGET_PAIR_NS)
    trow("pair: malloc+free, ns per pair", "pair", "pair_ns",
         tgt="< +%g ns" % TARGET_PAIR_NS, res=res)
    trow("pair: realloc (grow/shrink), ns per call", "pair", "realloc_ns")

    p1, g1, _ = F.med("time", "gl1", "plain", "total_ms"), F.med("time", "gl1", "gm", "total_ms"), 0
    r1 = ratio(g1, p1)
    res = target("gameloop.1t.ratio", r1, "x plain", "< %.2f" % TARGET_RATIO_1T,
                 None if r1 is None else r1 < TARGET_RATIO_1T)
    trow("gameloop 1 thread: ms, whole run", "gl1", "total_ms",
         tgt="< %.2fx" % TARGET_RATIO_1T, res=res)
    a1 = diff(g1, p1)
    a1 = None if a1 is None else a1 / frames
    res = target("gameloop.1t.added_ms_per_frame", a1, "ms per frame",
                 "< %g" % TARGET_FRAME_MS, None if a1 is None else a1 < TARGET_FRAME_MS)
    trow("  ms per frame (10,000 allocations)", "gl1", "total_ms", scale=1.0 / frames,
         tgt="< +%g ms" % TARGET_FRAME_MS, res=res)

    p2, g2 = F.med("time", "gl2", "plain", "total_ms"), F.med("time", "gl2", "gm", "total_ms")
    r2 = ratio(g2, p2)
    ok2 = None
    if r1 is not None and r2 is not None:
        ok2 = r2 < TARGET_RATIO_1T and r2 <= r1 + TARGET_RATIO_2T_SLACK
    res = target("gameloop.2t.ratio", r2, "x plain",
                 "< %.2f and <= 1-thread ratio + %.2f" % (TARGET_RATIO_1T, TARGET_RATIO_2T_SLACK),
                 ok2)
    trow("gameloop 2 threads: ms, whole run", "gl2", "total_ms",
         tgt="<=1t ratio, <%.2fx" % TARGET_RATIO_1T, res=res)
    a2 = diff(g2, p2)
    a2 = None if a2 is None else a2 / frames
    res = target("gameloop.2t.added_ms_per_frame", a2, "ms per frame",
                 "< %g" % TARGET_FRAME_MS, None if a2 is None else a2 < TARGET_FRAME_MS)
    trow("  ms per frame (10,000 allocations)", "gl2", "total_ms", scale=1.0 / frames,
         tgt="< +%g ms" % TARGET_FRAME_MS, res=res)
    trow("pair, bursts (BURST_ALLOCATIONS=7): ns", "pair", "pair_ns", variant="gmb")
    trow("gameloop 1 thread, bursts: ms", "gl1", "total_ms", variant="gmb")
    trow("  ms per frame", "gl1", "total_ms", scale=1.0 / frames, variant="gmb")
    trow("gameloop 2 threads, bursts: ms", "gl2", "total_ms", variant="gmb")
    trow("  ms per frame", "gl2", "total_ms", scale=1.0 / frames, variant="gmb")
    trow("gameloop 1 thread, `gmtrace run`: ms", "gl1", "total_ms", variant="ext")
    trow("  ms per frame", "gl1", "total_ms", scale=1.0 / frames, variant="ext")
    trow("gameloop 2 threads, `gmtrace run`: ms", "gl2", "total_ms", variant="ext")
    trow("  ms per frame", "gl2", "total_ms", scale=1.0 / frames, variant="ext")
    # CPU time of the game's process during the loop (its drainer thread
    # included): what recording costs in all, wherever it runs
    trow("gameloop 1 thread: CPU ms per frame", "gl1", "cpu_ms", scale=1.0 / frames)
    trow("gameloop 2 threads: CPU ms per frame", "gl2", "cpu_ms", scale=1.0 / frames)
    for case, vs in (("pair", ("plain", "gm", "nv", "nvnull", "ht")),
                     ("gl1", ("plain", "gm", "ext", "nv", "nvnull", "ht")),
                     ("gl2", ("plain", "gm", "ext", "nv", "nvnull", "ht"))):
        n = failnote("time", case, vs)
        if n:
            out("  ! %s: %s (logs in %s/bench/logs)" % (case, n, meta["build"]))
    spread = []
    for case, key, label in (("pair", "pair_ns", "pair"), ("gl1", "total_ms", "gameloop 1t"),
                             ("gl2", "total_ms", "gameloop 2t")):
        parts = []
        for v, vl in (("plain", "plain"), ("gm", "gmtrace"), ("ext", "run"), ("nv", "naive"),
                      ("ht", "heaptrack")):
            vals = F.values("time", case, v, key)
            if len(vals) > 1 and min(vals) > 0:
                parts.append("%s %.2f" % (vl, max(vals) / min(vals)))
        if parts:
            spread.append("%s: %s" % (label, ", ".join(parts)))
    if spread:
        out("spread, slowest/fastest run: " + "; ".join(spread))
    # Other load only ever adds time, so the fastest runs are a second view.
    best = {}
    for case, key in (("pair", "pair_ns"), ("gl1", "total_ms"), ("gl2", "total_ms")):
        for v in ("plain", "gm", "ht"):
            vals = F.values("time", case, v, key)
            best[case, v] = min(vals) if vals else None
    bp = diff(best["pair", "gm"], best["pair", "plain"])
    b1 = ratio(best["gl1", "gm"], best["gl1", "plain"])
    b2 = ratio(best["gl2", "gm"], best["gl2", "plain"])
    bf = diff(best["gl1", "gm"], best["gl1", "plain"])
    out("fastest run of each instead of medians: pair %s ns added; gameloop 1t %s (%s ms/frame "
        "added), 2t %s; heaptrack 1t %s, 2t %s"
        % (fmt(bp, "%+.2f"), fmt(b1, "%.2fx"), fmt(None if bf is None else bf / frames, "%+.3f"),
           fmt(b2, "%.2fx"), fmt(ratio(best["gl1", "ht"], best["gl1", "plain"]), "%.1fx"),
           fmt(ratio(best["gl2", "ht"], best["gl2", "plain"]), "%.1fx")))
    load1 = float(meta["load_start"].split()[0])
    if load1 > 0.5 * float(meta["cores"]):
        out("! load average %.2f at start on %s cores: other work shared the CPUs; "
            "figures are noisy" % (load1, meta["cores"]))
    waits = [r for r in runs if r["section"] == "stall"]
    if waits:
        parts = []
        names = {"pair.gm": "pair", "gl1.gm": "gameloop 1t", "gl2.gm": "gameloop 2t",
                 "gl1.ext": "gameloop 1t `gmtrace run`",
                 "gl2.ext": "gameloop 2t `gmtrace run`"}
        for r in waits:
            f = r["figures"]
            parts.append("%s %d waits, %.0f ms" % (names.get(r["case"], r["case"]),
                                                   f.get("stall_waits", 0),
                                                   f.get("stall_ns", 0) / 1e6))
        out("ring full, game waited for the drainer (last run of each): " + "; ".join(parts))
    out()

    # ---- the naive recorder, on this machine -----------------------------------
    out("NAIVE RECORDER (scripts/bench/naive.c, preloaded into the same workloads in the same runs:")
    out("one 32-byte record and one TSC read per event, in a per-thread buffer that the thread")
    out("writes to a file when full; 'no writing': the same, its file being /dev/null)")
    nhdr = "%-44s %9s %16s %16s %16s"
    out(nhdr % ("", "plain", "naive", "no writing", "gmtrace"))

    def ncell(g, p, spec, added):
        """g, and beside it what it adds to p (added) or its ratio to p."""
        if g is None:
            return "-"
        if p is None:
            return spec % g
        return (spec % g) + (" (%+.1f)" % (g - p) if added else " (%.2fx)" % (g / p))

    pp = F.med("time", "pair", "plain", "pair_ns")
    cells = [ncell(F.med("time", "pair", v, "pair_ns"), pp, "%.1f", True)
             for v in ("nv", "nvnull", "gm")]
    out(nhdr % ("malloc+free, ns per pair", fmt(pp, "%.2f"), *cells))
    for case, label in (("gl1", "gameloop 1 thread, ms per frame"),
                        ("gl2", "gameloop 2 threads, ms per frame")):
        pl = F.med("time", case, "plain", "total_ms")
        pl = None if pl is None else pl / frames
        cells = []
        for v in ("nv", "nvnull", "gm"):
            g = F.med("time", case, v, "total_ms")
            cells.append(ncell(None if g is None else g / frames, pl, "%.3f", False))
        out(nhdr % (label, fmt(pl, "%.3f"), *cells))
    dn = diff(F.med("time", "pair", "nv", "pair_ns"), pp)
    dg = diff(F.med("time", "pair", "gm", "pair_ns"), pp)
    res = target("pair.added_vs_naive_ns", diff(dg, dn),
                 "ns per pair, gmtrace's added minus the naive recorder's", "< 0",
                 None if dn is None or dg is None else dg < dn)
    out("gmtrace against the naive recorder, ns added per pair: %s against %s: %s"
        % (fmt(dg, "%+.1f"), fmt(dn, "%+.1f"), res))
    out()

    # ---- instructions ---------------------------------------------------------
    out("INSTRUCTIONS (valgrind --tool=callgrind --trace-children=no; per operation = "
        "difference of a %s- and a %s-op run / %d)"
        % (meta["cg_large"], meta["cg_small"], int(meta["cg_large"]) - int(meta["cg_small"])))
    out("in the loop = the game thread inside the timed loop (--toggle-collect): workload + hooks;")
    out("whole process = every thread, start to exit: + drainer, compression, capture writing.")
    out("gmtrace runs use a %s ring, so the loop never waits for (or does the work of) the drainer."
        % meta["cg_ring"])
    out("hardware counters: perf stat -e instructions %s" % meta["perf_instructions"])
    chdr = "%-44s %9s %9s %9s  %9s %9s %9s"
    out(chdr % ("", "loop", "loop", "loop", "process", "process", "process"))
    out(chdr % ("", "plain", "gmtrace", "added", "plain", "gmtrace", "added"))
    nops = float(meta["cg_large"]) - float(meta["cg_small"])
    cg = {}
    for what, label in (("pair", "malloc+free, instructions per pair"),
                        ("realloc", "realloc, instructions per call")):
        vals = {}
        for v in ("plain", "gm"):
            for scope, key in (("loop", "main"), ("all", "all")):
                lo = F.values("cg", "%s_small_%s" % (what, scope), v, key)
                hi = F.values("cg", "%s_large_%s" % (what, scope), v, key)
                vals[v, scope] = (hi[0] - lo[0]) / nops if lo and hi else None
        cg[what] = {"loop_plain": vals["plain", "loop"], "loop_gmtrace": vals["gm", "loop"],
                    "process_plain": vals["plain", "all"], "process_gmtrace": vals["gm", "all"]}
        out(chdr % (label, fmt(vals["plain", "loop"]), fmt(vals["gm", "loop"]),
                    fmt(diff(vals["gm", "loop"], vals["plain", "loop"]), "%+.1f"),
                    fmt(vals["plain", "all"]), fmt(vals["gm", "all"]),
                    fmt(diff(vals["gm", "all"], vals["plain", "all"]), "%+.1f")))
        notes = []
        for size in ("small", "large"):
            for scope in ("loop", "all"):
                n = failnote("cg", "%s_%s_%s" % (what, size, scope), ("plain", "gm"))
                if n:
                    notes.append("%s %s: %s" % (size, scope, n))
        if notes:
            out("  ! callgrind %s: %s" % (what, "; ".join(notes)))
    # does the preload record correctly under valgrind?
    chk = []
    for name, ops in (("pair_large_all", int(meta["cg_large"])),
                      ("realloc_large_all", int(meta["cg_large"]))):
        r = [x for x in runs if x["section"] == "cg" and x["case"] == name and x["variant"] == "gm"
             and "allocations" in x["figures"]]
        if r:
            f = r[0]["figures"]
            warm = min(100000, ops) if name.startswith("pair") else 0
            want = ops + warm  # each pair or realloc is one allocation and one free
            ok = f["allocations"] >= want and f["frees"] >= want
            chk.append("%s: %d allocations, %d frees, expected >= %d each: %s; %.1f B/event"
                       % (name, f["allocations"], f["frees"], want, "ok" if ok else "WRONG",
                          f["cap_bytes"] / max(1.0, f["allocations"] + f["frees"])))
        else:
            chk.append("%s: no capture written under valgrind" % name)
    out("capture under valgrind: " + "; ".join(chk))
    out()

    # ---- memory -----------------------------------------------------------------
    out("MEMORY (gameloop, 1 thread; peak RSS = VmHWM when the process exits, in MiB)")
    mhdr = "%-44s %9s %9s  %-18s %s"
    out(mhdr % ("", "peak RSS", "vs plain", "target", "result"))
    mp = F.med("mem", "gl1", "plain", "hwm_kb")
    mg = F.med("mem", "gl1", "gm", "hwm_kb")
    mx = F.med("mem", "gl1", "ext", "maxrss_kb")
    md = F.med("mem", "gl1", "ext", "hwm_kb")
    mda = F.med("mem", "gl1", "ext", "anon_shmem_kb")
    mdf = F.med("mem", "gl1", "ext", "file_kb")
    mh = F.med("mem", "gl1", "ht", "hwm_kb")
    kib = lambda v: None if v is None else v / MIB  # noqa: E731
    out(mhdr % ("game, plain", fmt(kib(mp)), "", "", ""))
    dg = kib(diff(mg, mp))
    res = target("memory.game_delta_mib", dg, "MiB", "< %g" % TARGET_MEM_MIB,
                 None if dg is None else dg < TARGET_MEM_MIB)
    out(mhdr % ("game, gmtrace (drainer thread inside)", fmt(kib(mg)), fmt(dg, "%+.1f"),
                "< +%g MiB" % TARGET_MEM_MIB, res))
    out(mhdr % ("game, `gmtrace run` (getrusage, end of main)", fmt(kib(mx)),
                fmt(kib(diff(mx, mp)), "%+.1f"), "", ""))
    res = target("memory.drainer_mib", kib(md), "MiB", "< %g" % TARGET_MEM_MIB,
                 None if md is None else kib(md) < TARGET_MEM_MIB)
    out(mhdr % ("`gmtrace run` process (external drainer)", fmt(kib(md)), "",
                "< %g MiB" % TARGET_MEM_MIB, res))
    out(mhdr % ("  of which largest anon+shared-memory seen", fmt(kib(mda)), "", "", ""))
    out(mhdr % ("  of which largest file-backed seen", fmt(kib(mdf)), "", "", ""))
    out("  (file-backed: code, and the capture mapped after the game exits, when `gmtrace run`")
    out("   reads it back to count its events for the closing message: it grows with the capture)")
    if mh is not None:
        out(mhdr % ("heaptrack: largest process (game/interpreter)", fmt(kib(mh)),
                    fmt(kib(diff(mh, mp)), "%+.1f"), "", ""))
    out("the game's figure includes the shared-memory ring (%s), which the drainer maps too."
        % meta["ring_size"])
    n = failnote("mem", "gl1", ("plain", "gm", "ext", "ht"))
    if n:
        out("  ! memory: " + n)
    out()

    # ---- capture size -------------------------------------------------------------
    out("CAPTURE SIZE (bytes on disk / (allocations + frees); a realloc counts as one of each)")
    shdr = "%-44s %12s %12s %9s  %-18s %s"
    out(shdr % ("", "bytes", "events", "B/event", "target", "result"))
    sizes = {}
    for case, variant, label, tname in (
            ("pair", "gm", "pair, gmtrace", "capture.pair.bytes_per_event"),
            ("gl1", "gm", "gameloop 1 thread, gmtrace", "capture.gameloop_1t.bytes_per_event"),
            ("gl2", "gm", "gameloop 2 threads, gmtrace", "capture.gameloop_2t.bytes_per_event"),
            ("gl1", "ext", "gameloop 1 thread, `gmtrace run`",
             "capture.gameloop_1t_run.bytes_per_event")):
        pe = F.per_event("time", case, variant)
        if pe is None:
            out(shdr % (label, "-", "-", "-", "", "n/a"))
            continue
        res = target(tname, pe[0], "bytes per event", "< %g" % TARGET_BYTES_PER_EVENT,
                     pe[0] < TARGET_BYTES_PER_EVENT)
        sizes[tname] = {"bytes_per_event": pe[0], "bytes": pe[1], "events": pe[2]}
        out(shdr % (label, "%d" % pe[1], "%d" % pe[2], "%.2f" % pe[0],
                    "< %g B" % TARGET_BYTES_PER_EVENT, res))
    for case, label in (("pair", "pair, heaptrack (same event count)"),
                        ("gl1", "gameloop 1 thread, heaptrack (same count)")):
        hb = F.med("time", case, "ht", "cap_bytes")
        pe = F.per_event("time", case, "gm")
        if hb is not None and pe is not None:
            out(shdr % (label, "%d" % hb, "%d" % pe[2], "%.3f" % (hb / pe[2]), "(context)", ""))
    out()

    # ---- bursts ------------------------------------------------------------------
    out("BURSTS (BURST_ALLOCATIONS=7: allocations carrying their thread's previous reading,"
        " median of the runs; bound: the thread's next reading)")
    bhdr = "%-44s %16s %18s"
    out(bhdr % ("", "of allocations", "bound within 1 us"))
    for case, variant, label in (("pair", "gmb", "pair, bursts"),
                                 ("gl1", "gmb", "gameloop 1 thread, bursts"),
                                 ("gl2", "gmb", "gameloop 2 threads, bursts")):
        share, within = [], []
        for r in F.runs:
            f = r["figures"]
            if (r["section"], r["case"], r["variant"]) != ("time", case, variant):
                continue
            if all(isinstance(f.get(k), float) for k in ("bursts", "bursts_over", "allocations")):
                if f["allocations"] > 0:
                    share.append(100.0 * f["bursts"] / f["allocations"])
                if f["bursts"] > 0:
                    within.append(100.0 * (1.0 - f["bursts_over"] / f["bursts"]))
        out(bhdr % (label, fmt(statistics.median(share) if share else None, "%.1f %%"),
                    fmt(statistics.median(within) if within else None, "%.2f %%")))
    out()

    out("REFERENCE (earlier measurement, context only)")
    for r in REFERENCE:
        out("  " + r)
    out()
    out("TARGETS")
    for t in targets:
        v = t["value"]
        out("  %-4s %-40s %s (target %s)" % (t["result"], t["name"],
                                              fmt(v, "%.3f"), t["target"]))
    out()
    out("elapsed %s s; failed runs: %s" % (meta["elapsed_s"], meta["failures"]))

    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    with open(txt_path, "w") as f:
        f.write(text)
    with open(json_path, "w") as f:
        json.dump({"meta": meta, "targets": targets, "callgrind_per_op": cg,
                   "capture": sizes, "reference": REFERENCE, "medians": F.medians,
                   "runs": runs}, f, indent=2, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
