"""misuse_game.py - gmtrace.py given arguments it cannot take

    misuse_game.py

Each call below passes a value of the wrong type or out of range. None may
raise, with or without the preload; under it each kind of call is one line
on stderr the first time and the call is ignored (no absurd figure reaches
the capture: no pool of 2^64 - 1 bytes, no extra bytes of -5). Each call
is made twice, so the second one shows the warning is not repeated. Prints
one JSON line: the calls that raised (none expected) and what the neutral
results were.
"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "interpose" / "python"))
import gmtrace  # noqa: E402


def main():
    raised = []
    results = {}
    class Index:  # an integer type of another library (numpy's): taken
        def __index__(self):
            return 4096

    class NoStr:  # a name whose str() raises: a stand-in name, not the game's exception
        def __str__(self):
            raise ValueError("no name")

    class Ambiguous:  # a value whose truth raises (a numpy array's): the default
        def __bool__(self):
            raise ValueError("the truth value is ambiguous")

        def __index__(self):
            raise TypeError("not an integer")

    pool = gmtrace.Pool("misuse/ok", 8, 8)
    node = gmtrace.Budget.define("misuse/ok", hard=1 << 30)
    with gmtrace.asset("misuse/tex", "texture") as tex:
        pixels = bytearray(1000)
    tex.extra_bytes(Index())
    calls = {
        "asset_id_none": lambda: gmtrace.Asset(id=None).id,
        "asset_id_negative": lambda: gmtrace.Asset(id=-1).id,
        "attach_text": lambda: gmtrace.attach("abc").id,
        "gc_none": lambda: gmtrace.gc_record(None, 1, 1),
        "policy_none": lambda: gmtrace.Budget(id=1).policy(None),
        "tag_list": lambda: gmtrace.tag(["a"]).id,
        "tag_nul": lambda: gmtrace.tag("a\0b").id,
        "extra_none": lambda: tex.extra_bytes(None),
        "extra_negative": lambda: tex.extra_bytes(-5),
        "priority_text": lambda: tex.priority("hi"),
        "priority_huge": lambda: tex.priority(1 << 40),
        "pool_none": lambda: gmtrace.Pool("misuse/p", None, 4).id,
        "pool_negative": lambda: gmtrace.Pool("misuse/neg", -1, -1).id,
        "define_text": lambda: gmtrace.Budget.define("misuse/b", soft="1M").id,
        "define_soft_over_hard": lambda: gmtrace.Budget.define("misuse/c", soft=100, hard=10).id,
        "define_no_parent": lambda: gmtrace.Budget.define("misuse/d", parent="nope").id,
        "level_huge": lambda: gmtrace.level(1 << 32),
        "level_bool": lambda: gmtrace.level(True),
        "pool_huge": lambda: gmtrace.Pool("misuse/huge", (1 << 64) - 1, (1 << 64) - 1).id,
        "evictor_type_list": lambda: gmtrace.Budget.evictor_type(["texture"], lambda a: None),
        "spike_not_callable": lambda: gmtrace.spike_callback(5),
        "violation_not_callable": lambda: gmtrace.budget_violation_callback("x"),
        # a NUL would cut the name in C: ignored, as for a tag
        "asset_nul": lambda: (lambda a: (a.__enter__(), a.__exit__(None, None, None),
                                         a.id)[2])(gmtrace.asset("misuse/a\0b", "texture")),
        "pool_nul": lambda: gmtrace.Pool("misuse/p\0q", 8, 8).id,
        "scene_nul": lambda: gmtrace.scene("misuse/s\0t"),
        "define_nul": lambda: gmtrace.Budget.define("misuse/n\0m").id,
        "scene_no_str": lambda: gmtrace.scene(NoStr()),
        "tag_decorates_5": lambda: gmtrace.tag("misuse/t")(5),
        "find_no_str": lambda: gmtrace.Budget.find(NoStr()),
        "find_nul": lambda: gmtrace.Budget.find("misuse/ok\0junk"),
        "attach_ambiguous": lambda: gmtrace.attach(Ambiguous()).id,
        "pin_ambiguous": lambda: tex.pin(Ambiguous()),
        "acquire_ambiguous": lambda: pool.acquire(Ambiguous()),
        "release_ambiguous": lambda: pool.release(Ambiguous()),
        "strict_ambiguous": lambda: (node.policy("lru", 0, Ambiguous()), None)[1],
        "snapshot_ambiguous": lambda: type(gmtrace.snapshot(Ambiguous())).__name__,
    }
    for name, call in calls.items():
        for _ in range(2):
            try:
                results[name] = call()
            except BaseException as e:  # what the game would have seen
                raised.append("%s: %s" % (name, type(e).__name__))
                break
    gmtrace.frame()
    del pixels
    print(json.dumps({"raised": raised, "results": results, "tex": tex.id != 0}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
