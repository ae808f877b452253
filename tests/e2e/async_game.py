"""async_game.py - marker scopes in asyncio coroutines (test_e2e_async.py)

    python3 async_game.py --case deco|with|assets

Each allocation the test looks for is a bytearray(n - 1): one malloc of n
bytes under PYTHONMALLOC=malloc, n a size nothing else here allocates. Which
tag and which asset each n belongs to is the test's to say; the script
prints one JSON line of what it saw (decorated objects' kinds, results).

deco    two tasks of tag-decorated coroutines interleaving, a plain task
        between their steps, a decorated coroutine awaiting another, `with`
        tag and asset scopes spanning awaits inside decorated coroutines, a
        decorated async generator (asend, athrow, aclose), a cancellation
        thrown into a decorated coroutine, a return value and an exception,
        a decorated generator-based coroutine (@types.coroutine) awaited;
        and a decorated (plain) generator with a `with` tag spanning a yield
with    two plain coroutines interleaving inside `with gmtrace.tag` scopes
assets  two plain coroutines interleaving inside `with gmtrace.asset` scopes
"""
import argparse
import asyncio
import inspect
import json
import os
import sys
import types

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "interpose", "python"))
import gmtrace  # noqa: E402

keep = []


def block(n):
    keep.append(bytearray(n - 1))


# ---- deco ---------------------------------------------------------------------


@gmtrace.tag("deco/a")
async def task_a(gate):
    block(101000)
    await asyncio.sleep(0)
    block(102000)
    with gmtrace.tag("deco/a/inner"):  # spans an await: its own steps only
        block(103000)
        await asyncio.sleep(0)
        block(104000)
    await gate.wait()
    block(105000)
    return "a done"


@gmtrace.tag("deco/b")
async def task_b(gate):
    block(201000)
    await asyncio.sleep(0)
    block(202000)
    await asyncio.sleep(0)
    block(203000)
    gate.set()
    await asyncio.sleep(0)
    block(204000)
    return "b done"


async def plain(n):
    # an undecorated task whose steps fall between the decorated ones'
    for k in range(n):
        block(301000 + 1000 * k)
        await asyncio.sleep(0)


@gmtrace.tag("deco/inner")
async def inner():
    block(401000)
    await asyncio.sleep(0)
    block(402000)
    return 7


@gmtrace.tag("deco/outer")
async def outer():
    block(403000)
    got = await inner()
    block(404000)
    return got * 6


@gmtrace.tag("deco/legacy")
@types.coroutine
def legacy():
    # a generator-based coroutine, awaited like an `async def`
    block(411000)
    yield  # (a bare yield: the event loop runs other tasks, then this one)
    block(412000)
    return 9


@gmtrace.tag("deco/loader")
async def loader(name, base):
    # an asset load spanning awaits, two loaders interleaving
    with gmtrace.asset(name, "texture"):
        block(base + 1000)
        await asyncio.sleep(0)
        block(base + 2000)
        await asyncio.sleep(0)
        block(base + 3000)


@gmtrace.tag("deco/agen")
async def frames_of(n):
    try:
        for k in range(n):
            block(601000 + 1000 * k)
            try:
                yield k
            except KeyError:
                block(605000)
                yield -1
            await asyncio.sleep(0)
    finally:
        block(606000)  # aclose(): still under the tag


@gmtrace.tag("deco/cancel")
async def cancelled(started):
    block(701000)
    started.set()
    try:
        await asyncio.sleep(30)
    except asyncio.CancelledError:
        block(702000)  # the cancellation is thrown into the body, tagged
        raise


@gmtrace.tag("deco/raise")
async def raises():
    block(703000)
    await asyncio.sleep(0)
    raise LookupError("from the body")


@gmtrace.tag("deco/gen")
def rows():
    block(901000)
    with gmtrace.tag("deco/gen/inner"):  # spans a yield
        yield 1
        block(902000)
        yield 2
    block(903000)


def consume_rows():
    g = rows()
    got = [next(g)]
    with gmtrace.tag("deco/consumer"):
        block(904000)
        got.append(next(g))
        block(905000)
        got.extend(g)
    return got


async def deco():
    out = {"coroutine_function": inspect.iscoroutinefunction(task_a),
           "async_generator_function": inspect.isasyncgenfunction(frames_of),
           "name": task_a.__name__}
    gate = asyncio.Event()
    ta = asyncio.create_task(task_a(gate))
    tb = asyncio.create_task(task_b(gate))
    await asyncio.gather(ta, tb, plain(4))
    out["results"] = [ta.result(), tb.result()]
    out["outer"] = await outer()
    out["legacy"] = await legacy()
    await asyncio.gather(loader("a.png", 500000), loader("b.png", 510000))
    got = []
    agen = frames_of(3)
    got.append(await agen.asend(None))
    block(607000)  # the consumer's, between two steps: no tag
    got.append(await agen.athrow(KeyError("x")))
    got.append(await agen.asend(None))
    await agen.aclose()
    out["agen"] = got
    started = asyncio.Event()
    tc = asyncio.create_task(cancelled(started))
    await started.wait()
    tc.cancel()
    try:
        await tc
    except asyncio.CancelledError:
        out["cancelled"] = tc.cancelled()
    try:
        await raises()
    except LookupError as e:
        out["raised"] = str(e)
    out["rows"] = consume_rows()
    co = task_b(asyncio.Event())  # closed before it ran: nothing left behind
    co.close()
    block(801000)  # after everything: no tag, no asset
    return out


# ---- with, assets ----------------------------------------------------------------


async def with_tag(name, base):
    with gmtrace.tag(name):
        block(base + 1000)
        await asyncio.sleep(0)
        block(base + 2000)
        await asyncio.sleep(0)
        block(base + 3000)
    block(base + 4000)
    await asyncio.sleep(0)
    block(base + 5000)


async def with_tags():
    with gmtrace.tag("with/outer"):
        await asyncio.gather(with_tag("with/a", 100000), with_tag("with/b", 200000))
        block(300000)
    block(301000)
    return {}


async def with_asset(name, base):
    with gmtrace.asset(name, "texture"):
        block(base + 1000)
        await asyncio.sleep(0)
        block(base + 2000)
        await asyncio.sleep(0)
        block(base + 3000)
    block(base + 4000)


async def with_assets():
    await asyncio.gather(with_asset("a.png", 100000), with_asset("b.png", 200000))
    block(300000)
    return {}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--case", choices=("deco", "with", "assets"), required=True)
    case = ap.parse_args().case
    run = {"deco": deco, "with": with_tags, "assets": with_assets}[case]
    out = asyncio.run(run())
    out["case"] = case
    print(json.dumps(out))


if __name__ == "__main__":
    main()
