"""calls_game.py - every call of gmtrace.py once, used the right way

    calls_game.py

Runs without pygame. Calls every public function and method of the module
in a plausible order (tags, an asset loaded, referenced, touched, given
extra bytes, a priority and a pin, unloaded in a scope; an asset whose load
raises; a worker thread attached to an asset; a scene; a pool through its
whole life; a budget node with an evictor, bound to a tag and a type; frame
marks, a named frame set, ticks, a level switch back and forth; a spike
callback; a budget violation callback seeing a hard limit crossed), plus two deliberate misuses that gmtrace must record as
validation events (an unknown eviction policy, a double unload). Prints one
JSON line of what each call returned, so the tests can check the values
with and without the preload, and the capture for the records they made.
"""
import json
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "interpose" / "python"))
import gmtrace  # noqa: E402


@gmtrace.tag("calls/decorated")
def decorated(n):
    return [bytearray(100) for _ in range(n)]


def main():
    out = {"available": gmtrace.available(), "enabled": gmtrace.enabled()}
    out["level_frames"] = gmtrace.level("frames")
    out["level_events"] = gmtrace.level(gmtrace.LEVEL_EVENTS)
    out["level_bogus"] = gmtrace.level("bogus")
    out["tag_id"] = gmtrace.tag_id("calls/tagged")
    with gmtrace.tag("calls/tagged"):
        keep = [bytearray(5000)]
    with gmtrace.tag(b"calls/bytes"):
        keep.append(bytearray(300))
    out["decorated"] = len(decorated(3))
    out["decorated_name"] = decorated.__name__

    gmtrace.scene("calls")
    with gmtrace.asset("calls/hero.png", "texture") as hero:
        pixels = bytearray(64 * 64 * 4)
    out["asset_id"] = hero.id
    out["asset_bool"] = bool(hero)
    hero.ref()
    hero.touch()
    hero.extra_bytes(4096)
    hero.priority(5)
    hero.pin(True)
    hero.pin(False)
    hero.release()
    with gmtrace.Asset(id=hero.id) as again:  # has an id: no second load
        out["again_id"] = again.id

    failed = None
    try:
        with gmtrace.asset("calls/broken.png", "texture") as failed:
            raise ValueError("decode error")
    except ValueError as e:
        out["raised"] = str(e)
    out["failed_id"] = failed.id

    with gmtrace.asset("calls/level", "level") as level:
        pass
    done = []

    def worker():
        with gmtrace.attach(level):
            done.append(bytearray(7000))
        with gmtrace.attach(level.id):  # an id works too
            done.append(bytearray(10))
    t = threading.Thread(target=worker, name="worker")
    t.start()
    t.join()

    pool = gmtrace.Pool("calls/bullets", 48, 16)
    out["pool_id"] = pool.id
    for _ in range(3):
        pool.acquire()
    pool.acquire(from_pool=False)
    pool.release()
    pool.release(to_pool=False)
    pool.resize(32)
    gmtrace.frame()
    pool.destroy()
    out["pool_id_after_destroy"] = pool.id

    node = gmtrace.Budget.define("calls", None, 1 << 30, 1 << 31)
    out["budget_id"] = node.id
    out["budget_bool"] = bool(node)
    found = gmtrace.Budget.find("calls")
    out["budget_found"] = found.id if found else None
    out["budget_missing"] = gmtrace.Budget.find("no-such-node")
    out["bind_tag"] = node.bind_tag("calls/budgeted")
    out["bind_type"] = node.bind_type("calls-type")
    out["policy_upper"] = node.policy("LRU", 0, False)
    out["policy"] = node.policy("priority", 0, False)
    out["policy_bogus"] = node.policy("bogus")
    evicted = []
    out["evictor"] = node.evictor(evicted.append)
    out["evictor_type"] = gmtrace.Budget.evictor_type("calls-type", evicted.append)
    out["evictor_removed"] = node.evictor(None)
    out["node_snapshot"] = node.snapshot()
    snap = gmtrace.snapshot()
    out["snapshot_nodes"] = [n["name"] for n in snap["nodes"]]
    out["snapshot_assets"] = {str(a["id"]): a["state"] for a in snap["assets"]}
    out["snapshot_hero"] = [a for a in snap["assets"] if a["id"] == hero.id]

    with hero.unloading():
        del pixels
    with gmtrace.asset("calls/click.wav", "sound") as click:
        pass
    click.unload()
    out["unloaded_again"] = hero.unload()  # a double unload: recorded, ignored

    spikes = []
    out["spike_callback"] = gmtrace.spike_callback(spikes.append)
    for _ in range(3):
        gmtrace.tick()
    gmtrace.frame_set("physics")
    gmtrace.frame_set("physics")
    gmtrace.frame()
    out["spike_removed"] = gmtrace.spike_callback(None)

    # A 1 MiB hard limit and two 700 KiB buffers: the second crosses it.
    small = gmtrace.Budget.define("calls/small", None, 0, 1 << 20)
    small.bind_tag("calls/small")
    violations = []
    out["violation_callback"] = gmtrace.budget_violation_callback(violations.append)
    with gmtrace.tag("calls/small"):
        big = [bytearray(700 << 10), bytearray(700 << 10)]
    out["violation_removed"] = gmtrace.budget_violation_callback(None)
    del big
    out["violations"] = violations[:1]
    gmtrace.gc_record(0, 1234, 5, 0)
    out["self_allocations"] = gmtrace.self_allocations()
    out["footprint_bytes"] = gmtrace.footprint_bytes()
    out["evicted"] = evicted
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
