"""gmtrace.py - the gmtrace marker API for Python games (standard library only)

The same markers as interpose/include/gmtrace.h, for games written in Python
(pygame and the like). Import it and call it; nothing is linked or loaded:

    import gmtrace

    with gmtrace.tag("render/sprites"):
        draw()
    with gmtrace.asset("hero.png", "texture") as hero:
        surf = pygame.image.load("hero.png")
    hero.touch()

Run the game under libgmtrace (LD_PRELOAD=libgmtrace.so python3 game.py, or
`gmtrace run -- python3 game.py`) and the markers are recorded. Without the
preload every call is a cheap no-op that returns a neutral value (0, False,
None, an empty snapshot, an Asset whose id is 0) and never raises. Under the
preload a call with an argument it cannot take (a size that is not a whole
number of bytes, a negative count, an id out of range) does not raise either:
it is ignored, and the first such call of each kind is one line on stderr.
So a game behaves the same with and without gmtrace. The module
never loads the library itself, it only looks for it in the running process
(ctypes.CDLL(None), then gmtrace_api_get: the versioned entry table). Entries
newer than the library's ABI are no-ops too.

Set PYTHONMALLOC=malloc as well to see Python's own objects: otherwise
CPython serves small objects from its own arenas (mmap), out of gmtrace's sight.

What is here (names as in the C header, Python-shaped):
    frame(), frame_set(name), tick(), level("events"|"frames"), enabled()
    tag(name)                 context manager and decorator (functions,
                              generators, coroutines, async generators)
    asset(name, type)         load scope (context manager) -> Asset
    Asset: ref release touch unload unloading() extra_bytes priority pin
    attach(asset)             a worker thread works for an asset (context manager)
    scene(name)
    Pool(name, object_size, capacity): acquire release resize destroy
    Budget.define/find, .bind_tag .bind_type .policy .evictor, Budget.evictor_type
    snapshot()                budget nodes and assets as plain lists of dicts
    spike_callback(fn), self_allocations(), footprint_bytes()
Garbage-collector runs are recorded from gc.callbacks as soon as the module
is imported under gmtrace (one gmtrace_gc record per collection). pymalloc's
arenas are allocation records of kind pymalloc_arena (PYTHONMALLOC=pymalloc):
libgmtrace wraps the arena allocator when the interpreter starts, and the
import makes sure for an interpreter embedded after start-up.

Scopes (tag, asset, attach, unloading) are per thread, as in C: an
allocation belongs to the innermost scope open on its thread. Coroutines
that interleave on one thread inside `with` scopes therefore charge each
other's allocations to whichever scope was entered last; the first scope
that ends while one entered after it is still open is said on stderr (once)
and its end takes off its own tag, not the other's. @tag on an `async def`
keeps the tag, and the scopes its body opens, to that coroutine's own steps
(so does @tag on a generator, and on a @types.coroutine generator, which
stays awaitable).

Calls keep the GIL (ctypes.PYFUNCTYPE): a marker is a few stores, and
releasing the GIL around each one would cost more than the call and hand the
interpreter to other threads in mid-frame.

Evictors written in Python are called by libgmtrace
  - at frame ends, on the thread that ended the frame (inside frame(), or
    inside pygame.display.flip() when the present hooks find the frames);
  - in emergencies, inside an allocation that would go over a hard limit:
    in the middle of whatever the allocating thread was doing, possibly in
    the middle of building a Python object, possibly on a thread that is not
    a Python thread (ctypes takes the GIL for the callback).
An evictor gets the asset id, drops its references to the asset's objects
inside asset.unloading() (the frees belong to the unload) and returns. It
must not touch objects the allocating code may be modifying at that moment;
keep the cache bookkeeping out of load scopes (insert into the cache after
the `with gmtrace.asset(...)` block) and the emergency case is harmless. An
evictor called again while it runs on the same thread returns at once.
Exceptions raised by an evictor are printed to stderr and dropped.
"""
import atexit
import ctypes
import gc
import operator
import sys
import threading
import time

__all__ = [
    "ABI", "LEVEL_EVENTS", "LEVEL_FRAMES", "EVICT_LRU", "EVICT_LFU", "EVICT_LARGEST",
    "EVICT_PRIORITY", "available", "enabled", "frame", "frame_set", "tick", "level", "tag",
    "tag_id", "asset", "Asset", "attach", "scene", "Pool", "gc_record", "Budget", "snapshot",
    "spike_callback", "budget_violation_callback", "self_allocations", "footprint_bytes",
    "pymalloc_arenas",
]

ABI = 5  # the highest GMTRACE_ABI this module knows

LEVEL_EVENTS, LEVEL_FRAMES = 0, 1
EVICT_LRU, EVICT_LFU, EVICT_LARGEST, EVICT_PRIORITY = 0, 1, 2, 3
SPIKE_ALLOCATIONS, SPIKE_BYTES, SPIKE_ALLOC_TIME = 1, 2, 4

_LEVELS = {"events": LEVEL_EVENTS, "frames": LEVEL_FRAMES}
_POLICIES = {"lru": EVICT_LRU, "lfu": EVICT_LFU, "largest": EVICT_LARGEST,
             "priority": EVICT_PRIORITY}
_STATES = ("loading", "resident", "unloading", "unloaded", "failed")
_U64_MAX = (1 << 64) - 1

# ---- C types (gmtrace.h) ------------------------------------------------------

_c = ctypes


class _Spike(_c.Structure):
    _fields_ = [("frame", _c.c_uint64), ("reasons", _c.c_uint32), ("reserved", _c.c_uint32),
                ("allocations", _c.c_uint64), ("allocated_bytes", _c.c_uint64),
                ("alloc_ns", _c.c_uint64), ("limit_allocations", _c.c_uint64),
                ("limit_bytes", _c.c_uint64), ("limit_alloc_ns", _c.c_uint64)]


class _Node(_c.Structure):
    _fields_ = [("id", _c.c_uint32), ("parent", _c.c_uint32), ("name", _c.c_char_p),
                ("live_bytes", _c.c_int64), ("peak_bytes", _c.c_int64),
                ("soft_limit", _c.c_uint64), ("hard_limit", _c.c_uint64),
                ("evictions", _c.c_uint64), ("violations", _c.c_uint64),
                ("failures", _c.c_uint64)]


class _AssetInfo(_c.Structure):
    _fields_ = [("id", _c.c_uint64), ("state", _c.c_uint32), ("refs", _c.c_int32),
                ("bytes", _c.c_uint64), ("last_touch_frame", _c.c_uint64),
                ("node", _c.c_uint32), ("priority", _c.c_int32)]


class _Violation(_c.Structure):
    _fields_ = [("node", _c.c_uint32), ("event", _c.c_uint32), ("name", _c.c_char_p),
                ("live_bytes", _c.c_int64), ("limit_bytes", _c.c_uint64),
                ("size", _c.c_uint64), ("asset", _c.c_uint64), ("failed", _c.c_int)]


_VIOLATION_EVENTS = ("over_soft", "over_hard", "failed", "heap_full")

# Callbacks: ctypes takes the GIL (PyGILState_Ensure) on whatever thread calls.
_SPIKE_FN = _c.CFUNCTYPE(None, _c.POINTER(_Spike), _c.c_void_p)
_EVICT_FN = _c.CFUNCTYPE(None, _c.c_uint64, _c.c_void_p)
_VIOLATION_FN = _c.CFUNCTYPE(None, _c.POINTER(_Violation), _c.c_void_p)
_SPIKE_NONE = _SPIKE_FN()  # NULL function pointers: "remove the callback"
_VIOLATION_NONE = _VIOLATION_FN()
_EVICT_NONE = _EVICT_FN()

_u32, _u64, _int, _str = _c.c_uint32, _c.c_uint64, _c.c_int, _c.c_char_p

# The entry table, in the header's order: name, ABI that added it, result,
# arguments. Fields are only ever appended (gmtrace.h, ABI).
_ENTRIES = (
    ("frame_mark", 1, None, ()),
    ("frame_mark_n", 1, None, (_str,)),
    ("enabled", 1, _int, ()),
    ("self_allocations", 1, _u64, ()),
    ("footprint_bytes", 1, _u64, ()),
    ("tick", 1, None, ()),
    ("level_set", 1, _int, (_int,)),
    ("spike_callback", 1, None, (_SPIKE_FN, _c.c_void_p)),
    ("tag_id", 2, _u32, (_str,)),
    ("tag_push", 2, None, (_str,)),
    ("tag_push_id", 2, None, (_u32,)),
    ("tag_pop", 2, None, ()),
    ("asset_load_begin", 2, _u64, (_str, _str)),
    ("asset_load_end", 2, None, (_u64, _int)),
    ("asset_attach", 2, None, (_u64,)),
    ("asset_detach", 2, None, (_u64,)),
    ("asset_ref", 2, None, (_u64,)),
    ("asset_release", 2, None, (_u64,)),
    ("asset_touch", 2, None, (_u64,)),
    ("asset_unload_begin", 2, None, (_u64,)),
    ("asset_unload_end", 2, None, (_u64,)),
    ("asset_extra_bytes", 2, None, (_u64, _u64)),
    ("scene_begin", 2, None, (_str,)),
    ("pool_create", 3, _u32, (_str, _u64, _u64)),
    ("pool_acquire", 3, None, (_u32, _int)),
    ("pool_release", 3, None, (_u32, _int)),
    ("pool_resize", 3, None, (_u32, _u64)),
    ("pool_destroy", 3, None, (_u32,)),
    ("gc", 3, None, (_int, _u64, _u64, _u64)),
    ("budget_define", 4, _u32, (_str, _str, _u64, _u64)),
    ("budget_bind_tag", 4, _int, (_u32, _str)),
    ("budget_bind_type", 4, _int, (_u32, _str)),
    ("budget_policy", 4, _int, (_u32, _int, _u64, _int)),
    ("budget_evictor", 4, _int, (_u32, _EVICT_FN, _c.c_void_p)),
    ("budget_evictor_type", 4, _int, (_str, _EVICT_FN, _c.c_void_p)),
    ("budget_find", 4, _u32, (_str,)),
    ("budget_snapshot", 4, _c.c_size_t,
     (_c.POINTER(_Node), _c.c_size_t, _c.POINTER(_AssetInfo), _c.c_size_t,
      _c.POINTER(_c.c_size_t))),
    ("asset_priority", 4, None, (_u64, _int)),
    ("asset_pin", 4, None, (_u64, _int)),
    ("budget_violation_callback", 5, None, (_VIOLATION_FN, _c.c_void_p)),
)


class _Table(_c.Structure):
    _fields_ = [("abi", _c.c_uint32), ("bytes", _c.c_uint32)] + \
        [(name, _c.c_void_p) for name, _, _, _ in _ENTRIES]


def _noop(*args):
    return None


def _find_table():
    """{entry name: callable} from the library's table; {} without gmtrace.
    Entries the library does not have are left out."""
    try:
        get = _c.CDLL(None).gmtrace_api_get
    except (OSError, AttributeError):
        return {}, 0
    get.restype = _c.c_void_p
    get.argtypes = [_c.c_uint32]
    addr = get(1)  # every library serves ABI 1; its table says what it has
    if not addr:
        return {}, 0
    head = _Table.from_address(addr)
    abi, size = head.abi, head.bytes
    fns = {}
    for name, since, res, args in _ENTRIES:
        field = getattr(_Table, name)
        if since > abi or field.offset + field.size > size:
            continue
        ptr = _c.c_void_p.from_address(addr + field.offset).value
        if ptr:
            fns[name] = _c.PYFUNCTYPE(res, *args)(ptr)
    return fns, abi


_fns, _abi = _find_table()


def _entry(name, absent=_noop):
    return _fns.get(name, absent)


_frame_mark = _entry("frame_mark")
_frame_mark_n = _entry("frame_mark_n")
_enabled = _entry("enabled", lambda: 0)
_self_allocations = _entry("self_allocations", lambda: 0)
_footprint_bytes = _entry("footprint_bytes", lambda: 0)
_tick = _entry("tick")
_level_set = _entry("level_set", lambda level: -1)
_spike_callback = _entry("spike_callback")
_violation_callback = _entry("budget_violation_callback")
_tag_id = _entry("tag_id", lambda name: 0)
_tag_push_id = _entry("tag_push_id")
_tag_pop = _entry("tag_pop")
_load_begin = _entry("asset_load_begin", lambda name, type_: 0)
_load_end = _entry("asset_load_end")
_attach = _entry("asset_attach")
_detach = _entry("asset_detach")
_ref = _entry("asset_ref")
_release = _entry("asset_release")
_touch = _entry("asset_touch")
_unload_begin = _entry("asset_unload_begin")
_unload_end = _entry("asset_unload_end")
_extra_bytes = _entry("asset_extra_bytes")
_scene_begin = _entry("scene_begin")
_pool_create = _entry("pool_create", lambda name, size, cap: 0)
_pool_acquire = _entry("pool_acquire")
_pool_release = _entry("pool_release")
_pool_resize = _entry("pool_resize")
_pool_destroy = _entry("pool_destroy")
_gc = _entry("gc")
_budget_define = _entry("budget_define", lambda name, parent, soft, hard: 0)
_budget_bind_tag = _entry("budget_bind_tag", lambda node, tag: -1)
_budget_bind_type = _entry("budget_bind_type", lambda node, type_: -1)
_budget_policy = _entry("budget_policy", lambda node, policy, target, strict: -1)
_budget_evictor = _entry("budget_evictor", lambda node, fn, user: -1)
_budget_evictor_type = _entry("budget_evictor_type", lambda type_, fn, user: -1)
_budget_find = _entry("budget_find", lambda name: 0)
_budget_snapshot = _entry("budget_snapshot")
_asset_priority = _entry("asset_priority")
_asset_pin = _entry("asset_pin")


def _name(s):
    """A name as bytes for C (gmtrace copies it); None stays None (NULL).
    An object whose str() raises is a name the game could not give: None
    after _bad (the call goes on as with a None name: a null_name
    validation and a stand-in name), never the game's exception."""
    if s is None or isinstance(s, bytes):
        return s
    try:
        return str(s).encode("utf-8", "replace")
    except Exception:  # the game's __str__, not ours to pass on
        _bad("a name", s, "an object str() converts", "a stand-in name is used")
        return None


_I32 = (-(1 << 31), (1 << 31) - 1)
_U32 = (0, (1 << 32) - 1)
_U64 = (0, _U64_MAX)
_POOL_BOUNDS = (0, 1 << 40)
_warned = set()


def _callable(fn, what):
    """True when fn can be called (or is None: removes a callback); else
    False after _bad (one line on stderr, the call ignored)."""
    if fn is None or callable(fn):
        return True
    _bad(what, fn, "a function or None")
    return False


def _bad(what, value, expected, then="ignored"):
    """A call ignored (or made as then says) for an argument it cannot
    take: one line on stderr the first time for each what (under gmtrace
    only: without it nothing is said, as nothing is done); returns None."""
    if _fns and what not in _warned:
        _warned.add(what)
        try:
            shown = repr(value)
        except Exception:  # a repr that raises is the game's, not ours to pass on
            shown = "<%s>" % type(value).__name__
        if len(shown) > 60:
            shown = shown[:57] + "..."
        sys.stderr.write("gmtrace: [%d] %s: expected %s, got %s; %s (further such "
                         "calls are not reported)\n" % (_os_pid(), what, expected, shown, then))
    return None


def _nul(name, what):
    """True (after _bad) for a name with a NUL character, which C would cut
    there: the call is ignored, as for a tag, rather than made with another
    name."""
    if isinstance(name, str) and "\0" in name or isinstance(name, bytes) and b"\0" in name:
        _bad(what, name, "a name without NUL characters")
        return True
    return False


def _truth(value, what, default):
    """value's truth (1 or 0); default after _bad when asking raises (a
    numpy array's "truth value is ambiguous"), which is the game's value's
    exception, not one for the marker call to pass on."""
    try:
        return 1 if value else 0
    except Exception:
        _bad(what, value, "a true or false value", "the default is used")
        return default


def _whole(value, what, bounds=_U64):
    """value as an int within bounds (an int, or a float with no fraction),
    or None after _bad. A bool is not a number here: True as an asset id
    or a size is a mistake."""
    lo, hi = bounds
    if isinstance(value, bool):
        return _bad(what, value, "a whole number from %d to %d" % (lo, hi))
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif not isinstance(value, int):
        try:  # numpy's integers, anything with __index__
            value = operator.index(value)
        except Exception:
            return _bad(what, value, "a whole number from %d to %d" % (lo, hi))
    if lo <= value <= hi:
        return int(value)
    return _bad(what, value, "a whole number from %d to %d" % (lo, hi))


def available():
    """True when libgmtrace is in this process (the markers do something)."""
    return bool(_fns)


def enabled():
    """True when the process runs under gmtrace and records."""
    return bool(_enabled())


# ---- frames, ticks, level ---------------------------------------------------------


def frame():
    """End of one displayed frame. The first call turns the present hooks
    off for good (the game marks its own frames from then on); games that
    present through SDL/GL need not call it. Budgets evict over their soft
    limits here, so Python evictors may run inside this call."""
    _frame_mark()


def frame_set(name):
    """End of one frame of a named secondary frame set ("physics", "audio")."""
    if not _nul(name, "frame_set"):
        _frame_mark_n(_name(name))


def tick():
    """One simulation tick (fixed-timestep update): zero, one or several per frame."""
    _tick()


def level(which):
    """Switch what is recorded from now on: "events" (every allocation and
    free) or "frames" (per-frame totals), or LEVEL_EVENTS/LEVEL_FRAMES.
    Returns True when switched (False: unknown level, or without gmtrace)."""
    if isinstance(which, str):
        lv = _LEVELS.get(which)
        if lv is None:  # an unknown name: False, as Budget.policy's
            return False
    else:
        lv = _whole(which, "level", (LEVEL_EVENTS, LEVEL_FRAMES))
        if lv is None:
            return False
    return _level_set(lv) == 0


# ---- scopes open on this thread ---------------------------------------------------
# libgmtrace keeps a tag stack and an asset stack per thread, and its tag pop
# takes off whatever tag is on top. Two coroutines (or generators) that
# interleave on one thread inside `with` scopes break that nesting: the first
# one's exit would pop the second one's tag and leave its own on for good.
# So the module keeps the same stacks in Python (the scope objects, innermost
# last), which costs a thread-local lookup and a list append or pop per scope:
# an exit that is not the innermost is said once and repaired (the scopes
# above it put back), and a decorated generator or coroutine takes its own
# scopes off the thread between its steps (_Steps). The list grows before a
# scope's begin call and shrinks after its end call: under PYTHONMALLOC=malloc
# its buffer is a malloc, which must not be charged to the game's scope.

_here = threading.local()  # .scopes: this thread's open scopes


def _scopes():
    try:
        return _here.scopes
    except AttributeError:
        _here.scopes = []
        return _here.scopes


def _scope_name(scope):
    if isinstance(scope, _Tag):
        return "tag %r" % (scope.name,)
    if isinstance(scope, Asset):
        return "the load of asset %r" % (scope.name,)
    if isinstance(scope, _Unload):
        return "the unload of asset %d" % scope.id
    return "attach(asset %d)" % scope.id


def _misnested(scope):
    """scope ends while it is not the innermost scope open on this thread.
    Takes it out of the thread's stack and returns the scopes entered after
    it (which stay open), or None when it is not open on this thread at all
    (entered on another thread, or ended twice): its end call must then not
    be made here. The first time of each case is one line on stderr."""
    scopes = _scopes()
    for i in range(len(scopes) - 1, -1, -1):
        if scopes[i] is scope:
            break
    else:
        _say("scope thread", "%s ended on a thread where it is not open (entered on "
             "another thread, or ended twice)%s" % (_scope_name(scope), ": no tag popped"
                                                     if isinstance(scope, _Tag) else ""))
        return None
    above = scopes[i + 1:]
    del scopes[i:]
    scopes.extend(above)
    _say("scope order", "%s ended while %s, entered after it on this thread, was still "
         "open: marker scopes are per thread, so coroutines (or generators) interleaving on "
         "one thread inside scopes charge each other's allocations to the scope entered "
         "last%s; decorate a coroutine with @gmtrace.tag(...) to keep its scopes to its own "
         "steps" % (_scope_name(scope), _scope_name(above[-1]), " (the end takes off its "
                    "own tag, not the other's)" if isinstance(scope, _Tag) else ""))
    return above


def _scope_ends(scope):
    """An asset scope ended (its end call made: libgmtrace takes an asset
    off by its id, wherever it is in the thread's stack): out of the
    thread's stack here too."""
    scopes = _scopes()
    if scopes and scopes[-1] is scope:
        scopes.pop()
    else:
        _misnested(scope)


def _say(key, text):
    """One line on stderr, the first time for key."""
    if key not in _warned:
        _warned.add(key)
        sys.stderr.write("gmtrace: [%d] %s (further such cases are not reported)\n"
                         % (_os_pid(), text))


# ---- tags ------------------------------------------------------------------------


class _Tag:
    """A tag scope: pushes on enter, pops on exit; as a decorator, wraps a
    function in the scope (a generator function, a coroutine function or an
    async generator function: each step of its body, as the body runs at
    next(), send() or await, not at the call). Holds no per-use state, so
    one object serves every thread and any nesting."""
    __slots__ = ("id", "name")

    def __init__(self, name, tag_id):
        self.name = name
        self.id = tag_id

    def __enter__(self):
        try:
            _here.scopes.append(self)
        except AttributeError:
            _here.scopes = [self]
        _tag_push_id(self.id)
        return self

    def __exit__(self, et, ev, tb):
        try:
            scopes = _here.scopes
            if scopes[-1] is self:
                _tag_pop()
                scopes.pop()
                return False
        except (AttributeError, IndexError):
            pass
        above = _misnested(self)
        if above is not None:
            # the C stack only pops its top: the tags entered after this
            # one come off, this one goes, and they go back on
            above = [s for s in above if isinstance(s, _Tag)]
            for _ in range(len(above) + 1):
                _tag_pop()
            for t in above:
                _tag_push_id(t.id)
        return False

    def _on(self):
        _tag_push_id(self.id)

    def _off(self):
        _tag_pop()

    def __call__(self, fn):
        if isinstance(fn, (staticmethod, classmethod)):
            # its function is tagged, and it stays a static or class method
            # (wrapped in a plain function it would bind the instance)
            return type(fn)(self(fn.__func__))
        if not callable(fn) or isinstance(fn, type):
            # what the decorator gets back without gmtrace: the same object
            # (a class, wrapped in a function, would no longer be one)
            _bad("tag decorator", fn, "a function (or a method)")
            return fn
        wrapper = self._wrap(fn)
        # a function binds as a method in a class body; a bound method, a
        # builtin, a partial or an object with __call__ does not, and
        # neither may what is given back for it
        return wrapper if hasattr(type(fn), "__get__") else _Unbound(wrapper)

    def _wrap(self, fn):
        """fn's body run under this tag, step by step for a generator or
        coroutine function (see __call__)."""
        import functools
        import inspect
        tag = self

        if inspect.isgeneratorfunction(fn):
            # a generator's body runs at each next(), not at the call
            @functools.wraps(fn)
            def tagged_steps(*args, **kwargs):
                return (yield from _steps(_Steps(tag), fn(*args, **kwargs)))
            if _code_flags(fn) & inspect.CO_ITERABLE_COROUTINE:
                # a @types.coroutine generator is awaited: so must its wrapper be
                import types
                return types.coroutine(tagged_steps)
            return tagged_steps

        if inspect.iscoroutinefunction(fn):
            # the body runs at each step the event loop makes; between two,
            # other tasks run on this thread and must not be charged
            @functools.wraps(fn)
            async def tagged_coroutine(*args, **kwargs):
                return await _Awaiting(_steps(_Steps(tag), fn(*args, **kwargs)))
            return tagged_coroutine

        if inspect.isasyncgenfunction(fn):
            @functools.wraps(fn)
            async def tagged_async_steps(*args, **kwargs):
                own = _Steps(tag)
                agen = fn(*args, **kwargs)
                sent, thrown = None, None
                while True:
                    try:
                        if thrown is not None:
                            exc, thrown = thrown, None
                            value = await _Awaiting(_steps(own, agen.athrow(exc)))
                        else:
                            value = await _Awaiting(_steps(own, agen.asend(sent)))
                    except StopAsyncIteration:
                        return
                    try:
                        sent = yield value
                    except GeneratorExit:  # aclose(): the body's finally runs tagged
                        await _Awaiting(_steps(own, agen.aclose()))
                        raise
                    except BaseException as e:  # athrow(): on to the body
                        sent, thrown = None, e
            return tagged_async_steps

        @functools.wraps(fn)
        def tagged(*args, **kwargs):
            with tag:
                return fn(*args, **kwargs)
        return tagged

    def __repr__(self):
        return "gmtrace.tag(%r, id=%d)" % (self.name, self.id)


class _Unbound:
    """A tag decorator's wrapper for a callable that does not bind as a
    method (a bound method, a builtin, a partial, an object with
    __call__): it calls the wrapper, and, unlike a function, does not bind
    either."""

    def __init__(self, wrapper):
        import functools
        try:
            functools.update_wrapper(self, wrapper)
        except Exception:  # attributes an object will not give or take
            pass
        self._call = wrapper

    def __call__(self, *args, **kwargs):
        return self._call(*args, **kwargs)


def _code_flags(fn):
    """The flags of the code a function (a bound method's, a partial's) runs."""
    import functools
    import inspect
    while True:
        if inspect.ismethod(fn):
            fn = fn.__func__
        elif isinstance(fn, functools.partial):
            fn = fn.func
        else:
            return getattr(getattr(fn, "__code__", None), "co_flags", 0)


class _Steps:
    """The scopes of one decorated generator or coroutine: its tag, and the
    scopes its body entered and has not ended yet. They are on the thread
    while a step of the body runs and off it in between, so a body suspended
    at a yield or an await leaves nothing on the thread for whatever runs
    next there (another task of the event loop), and its `with` scopes that
    span an await charge its own steps only."""
    __slots__ = ("saved", "depth")

    def __init__(self, tag):
        self.saved = [tag]
        self.depth = 0

    def enter(self):
        scopes = _scopes()
        self.depth = len(scopes)
        scopes.extend(self.saved)
        for s in self.saved:
            s._on()

    def leave(self):
        # off the thread first: the list made here is no allocation of theirs
        scopes = _scopes()
        depth = min(self.depth, len(scopes))
        i = len(scopes)
        while i > depth:
            i -= 1
            scopes[i]._off()
        self.saved = scopes[depth:]
        del scopes[depth:]


def _steps(own, it):
    """Runs the generator or coroutine (or an async generator's asend,
    athrow or aclose) it one step at a time with its scopes on the thread,
    passing on what is sent and thrown in (a task's CancelledError) and
    close(); returns what it returns."""
    sent, thrown = None, None
    while True:
        own.enter()
        try:
            if thrown is not None:
                exc, thrown = thrown, None
                value = it.throw(exc)
            else:
                value = it.send(sent)
        except StopIteration as stop:
            return stop.value
        finally:
            own.leave()
        try:
            sent = yield value
        except GeneratorExit:
            own.enter()
            try:
                it.close()
            finally:
                own.leave()
            raise
        except BaseException as e:  # thrown in: on to the body
            sent, thrown = None, e


class _Awaiting:
    """An awaitable over a _steps generator (what `await` needs)."""
    __slots__ = ("steps",)

    def __init__(self, steps):
        self.steps = steps

    def __await__(self):
        return self.steps


class _NullTag:
    """tag() without gmtrace: does nothing, decorates by returning fn."""
    __slots__ = ()
    id = 0

    def __enter__(self):
        return self

    def __exit__(self, et, ev, tb):
        return False

    def __call__(self, fn):
        return fn


_NULL_TAG = _NullTag()
_tags = {}  # name -> _Tag (interned once; dict reads and writes are atomic)


def tag_id(name):
    """The interned id of a tag name (0 for an empty name, or without gmtrace)."""
    t = tag(name)
    return t.id


def tag(name):
    """A tag ("render/textures") for a `with` block or, as a decorator, for
    every call of a function. Every allocation inside belongs to the
    innermost tag of its thread:

        with gmtrace.tag("audio"):
            snd = pygame.mixer.Sound(buffer=pcm)

        @gmtrace.tag("ai/pathfinding")
        def plan(...): ...
    """
    if not _fns:
        return _NULL_TAG
    if name is not None and not isinstance(name, (str, bytes)):
        _bad("tag", name, "a name (str or bytes)")
        return _NULL_TAG
    if name is not None and ("\0" in name if isinstance(name, str) else b"\0" in name):
        # C would stop at the NUL and merge it with the shorter tag
        _bad("tag", name, "a name without NUL characters")
        return _NULL_TAG
    t = _tags.get(name)
    if t is None:
        t = _Tag(name, _tag_id(_name(name)))
        _tags[name] = t
    return t


# ---- assets ------------------------------------------------------------------------


class Asset:
    """One asset: `with gmtrace.asset(name, type) as a:` is its load scope
    (allocations of this thread inside belong to it; it becomes resident when
    the block ends normally, failed when it raises). Asset(id=n) wraps an
    id already handed out (in an evictor). An Asset whose id is 0 (without
    gmtrace) ignores every call. One load per Asset object."""
    __slots__ = ("id", "name", "type", "_loading")

    def __init__(self, name=None, type=None, id=0):
        self.name, self.type = name, type
        self.id = _whole(id, "Asset(id=)") or 0
        self._loading = False

    def __enter__(self):
        # an Asset that has an id already (Asset(id=n), a second `with`)
        # does not load again: the block is then no load scope
        if _fns and not self.id and not _nul(self.name, "asset") and \
                not _nul(self.type, "asset type"):
            scopes = _scopes()
            scopes.append(self)
            self.id = _load_begin(_name(self.name), _name(self.type))
            self._loading = self.id != 0
            if not self._loading:
                scopes.pop()
        return self

    def __exit__(self, et, ev, tb):
        if self._loading:
            if not any(s is self for s in _scopes()):
                # entered on another thread: its load stays open there (as
                # its allocations' scope) until that thread ends it
                _misnested(self)
                return False
            self._loading = False
            _load_end(self.id, 1 if et is None else 0)
            _scope_ends(self)
        return False

    def _on(self):  # a load scope taken off the thread (_Steps) and put back
        _attach(self.id)

    def _off(self):
        _detach(self.id)

    def __bool__(self):
        return self.id != 0

    def __repr__(self):
        return "gmtrace.Asset(%r, %r, id=%d)" % (self.name, self.type, self.id)

    def ref(self):
        """Someone holds the asset (held assets are never evicted)."""
        if self.id:
            _ref(self.id)

    def release(self):
        """A holder let go (below zero is recorded as a misuse)."""
        if self.id:
            _release(self.id)

    def touch(self):
        """The asset was used this frame (cheap; LRU/LFU eviction reads it)."""
        if self.id:
            _touch(self.id)

    def unload(self):
        """Unloaded, in one call (frees already done or not tracked)."""
        if self.id:
            _unload_begin(self.id)
            _unload_end(self.id)

    def unloading(self):
        """Context manager: frees inside belong to the asset's unload.

            with asset.unloading():
                del cache[key]
        """
        return _Unload(self.id)

    def extra_bytes(self, nbytes):
        """Memory the asset holds that the heap cannot see (GPU uploads): the total."""
        n = _whole(nbytes, "Asset.extra_bytes") if self.id else None
        if n is not None:
            _extra_bytes(self.id, n)

    def priority(self, value):
        """Eviction priority under the "priority" policy: lowest goes first."""
        v = _whole(value, "Asset.priority", _I32) if self.id else None
        if v is not None:
            _asset_priority(self.id, v)

    def pin(self, pinned=True):
        """A pinned asset is never evicted."""
        if self.id:
            _asset_pin(self.id, _truth(pinned, "Asset.pin", 1))


class _Unload:
    __slots__ = ("id",)

    def __init__(self, asset_id):
        self.id = asset_id

    def __enter__(self):
        if self.id and _fns:
            _scopes().append(self)
            _unload_begin(self.id)
        return self

    def __exit__(self, et, ev, tb):
        if self.id and _fns:
            _unload_end(self.id)
            _scope_ends(self)
        return False

    def _on(self):
        _attach(self.id)

    def _off(self):
        _detach(self.id)


def asset(name, type="unknown"):
    """The load scope of an asset of a type ("texture", "sound", "level"...):

        with gmtrace.asset("grass.png", "texture") as tex:
            surf = make_surface()
        tex.touch()
    """
    return Asset(name, type)


def _asset_id(a):
    if isinstance(a, Asset):
        return a.id
    return 0 if a is None else _whole(a, "attach") or 0


class attach:
    """This thread works for an asset until the block ends (worker and loader
    threads doing part of a load): its allocations belong to the asset.

        with gmtrace.attach(tex):
            pixels = decode(chunk)
    """
    __slots__ = ("id",)

    def __init__(self, asset):
        self.id = _asset_id(asset)

    def __enter__(self):
        if self.id and _fns:
            _scopes().append(self)
            _attach(self.id)
        return self

    def __exit__(self, et, ev, tb):
        if self.id and _fns:
            _detach(self.id)
            _scope_ends(self)
        return False

    def _on(self):
        _attach(self.id)

    def _off(self):
        _detach(self.id)


def scene(name):
    """A level or scene begins (transitions are measured between these)."""
    if not _nul(name, "scene"):
        _scene_begin(_name(name))


# ---- pools, garbage collection ---------------------------------------------------------


class Pool:
    """An object pool the game keeps; say what it does and gmtrace reports
    hit rates and overflows per frame. id 0 (no more pools, or without
    gmtrace) ignores every call."""
    __slots__ = ("id", "name")

    def __init__(self, name, object_size, capacity):
        self.name = name
        self.id = 0
        if _fns:
            # a pool of more than a TiB of objects, or of objects of more
            # than a TiB, is a mistake (the reports would say exabytes)
            size = _whole(object_size, "Pool object_size", _POOL_BOUNDS)
            cap = _whole(capacity, "Pool capacity", _POOL_BOUNDS)
            if size is not None and cap is not None and not _nul(name, "Pool"):
                self.id = _pool_create(_name(name), size, cap)

    def acquire(self, from_pool=True):
        """An object taken: from the pool, or (from_pool=False) from the heap."""
        if self.id:
            _pool_acquire(self.id, _truth(from_pool, "Pool.acquire from_pool", 1))

    def release(self, to_pool=True):
        """An object given back: to the pool, or (to_pool=False) to the heap."""
        if self.id:
            _pool_release(self.id, _truth(to_pool, "Pool.release to_pool", 1))

    def resize(self, capacity):
        cap = _whole(capacity, "Pool.resize", _POOL_BOUNDS) if self.id else None
        if cap is not None:
            _pool_resize(self.id, cap)

    def destroy(self):
        if self.id:
            _pool_destroy(self.id)
            self.id = 0

    def __repr__(self):
        return "gmtrace.Pool(%r, id=%d)" % (self.name, self.id)


def gc_record(generation, duration_ns, collected, uncollectable=0):
    """One garbage-collector run (done automatically for Python's gc)."""
    if not _fns:
        return
    g = _whole(generation, "gc_record generation", (0, _I32[1]))
    ns = _whole(duration_ns, "gc_record duration_ns")
    n = _whole(collected, "gc_record collected")
    u = _whole(uncollectable, "gc_record uncollectable")
    if None not in (g, ns, n, u):
        _gc(g, ns, n, u)


_gc_t0 = 0


def _on_gc(phase, info):
    # Collections never nest and run with the GIL held: one start time will do.
    global _gc_t0
    if phase == "start":
        _gc_t0 = time.perf_counter_ns()
        return
    ns = time.perf_counter_ns() - _gc_t0
    _gc(info["generation"], ns if ns > 0 else 0, info["collected"], info["uncollectable"])


# ---- budgets ---------------------------------------------------------------------------

_keep = {}        # ("node", id) / ("type", name) -> callback held for C
_retired = []     # replaced callbacks: another thread may still be inside one
_keep_lock = threading.Lock()
_evict_local = threading.local()


_REPORTS_SHOWN = 3  # tracebacks shown per callback; later ones are one line at most
_reported = {}  # id(callback function) -> exceptions it raised
# Evictors raise on loader threads and at frame ends at once: each report is
# one write under this lock, so two tracebacks never interleave line by line.
# Reentrant: writing to stderr allocates, and an allocation may call another
# callback on this thread that raises too.
_report_lock = threading.RLock()


def _report(what, fn):
    """A callback (called from C, where no exception can go) raised: its
    traceback on stderr for the first _REPORTS_SHOWN times, then one line
    saying later ones are not shown. A SystemExit or a KeyboardInterrupt
    (Ctrl-C landing in the callback) cannot leave it: Python cannot raise
    through the allocation or the frame end that called it (and a signal
    raised again here would be taken before the callback returns). Each is
    said in one line, and ignored. Every report is one write."""
    import traceback
    exc = sys.exc_info()[1]
    if isinstance(exc, KeyboardInterrupt):
        text = ("gmtrace: [%d] Ctrl-C came while %s %r ran, inside an allocation or a frame "
                "end, where Python cannot raise it: ignored (press it again)\n"
                % (_os_pid(), what, fn))
    else:
        with _report_lock:
            n = _reported[id(fn)] = _reported.get(id(fn), 0) + 1
        if n > _REPORTS_SHOWN + 1:
            return
        if n == _REPORTS_SHOWN + 1:
            text = ("gmtrace: [%d] %s %r raised again; further exceptions from it are not "
                    "shown\n" % (_os_pid(), what, fn))
        elif isinstance(exc, SystemExit):
            text = ("gmtrace: [%d] %s %r called sys.exit(%r); a callback of gmtrace runs "
                    "inside an allocation or a frame end and cannot end the game: ignored\n"
                    % (_os_pid(), what, fn, exc.code))
        else:
            text = "gmtrace: [%d] %s %r raised; ignored:\n%s" % (
                _os_pid(), what, fn, traceback.format_exc())
    with _report_lock:
        sys.stderr.write(text)


def _os_pid():
    import os
    return os.getpid()


def _evict_callback(fn):
    """A C evictor that calls fn(asset_id) with the GIL, at most once at a
    time per thread (an eviction inside the evictor returns at once)."""
    def call(asset_id, user):
        local = _evict_local
        if getattr(local, "busy", False):
            return
        local.busy = True
        try:
            fn(asset_id)
        except BaseException:
            _report("evictor", fn)
        finally:
            local.busy = False
    return _EVICT_FN(call)


def _hold(key, cb):
    with _keep_lock:
        old = _keep.pop(key, None)
        if old is not None:
            _retired.append(old)
        if cb is not None:
            _keep[key] = cb


class Budget:
    """A budget node (total > assets > textures ...) with soft and hard
    limits in bytes (0: none). Allocations under its tags and asset types
    count against it; a node with a hard limit serves them from a heap of
    its own, so its live bytes are exact. Without gmtrace, define() gives a
    Budget whose id is 0, which ignores every call (methods return False)."""
    __slots__ = ("id", "name")

    def __init__(self, id=0, name=None):
        self.id, self.name = _whole(id, "Budget(id=)", _U32) or 0, name

    @classmethod
    def define(cls, name, parent=None, soft=0, hard=0):
        """A node under parent (a Budget, a name, or None for a root)."""
        if isinstance(parent, Budget):
            parent = parent.name
        if not _fns:
            return cls(0, name)
        lo = _whole(soft, "Budget.define soft")
        hi = _whole(hard, "Budget.define hard")
        if lo is None or hi is None or _nul(name, "Budget.define") or \
                _nul(parent, "Budget.define parent"):
            return cls(0, name)
        if hi and lo > hi:  # as a budgets file says: soft <= hard
            _bad("Budget.define soft", lo, "a soft limit at most the hard one (%d)" % hi)
            return cls(0, name)
        if parent is not None and not _budget_find(_name(parent)):
            _bad("Budget.define parent", parent, "a node defined before")
            return cls(0, name)
        return cls(_budget_define(_name(name), _name(parent), lo, hi), name)

    @classmethod
    def find(cls, name):
        """The node of that name (defined here or in GMTRACE_BUDGETS), or None."""
        node = _budget_find(_name(name)) if _fns and not _nul(name, "Budget.find") else 0
        return cls(node, name) if node else None

    def __bool__(self):
        return self.id != 0

    def __repr__(self):
        return "gmtrace.Budget(%r, id=%d)" % (self.name, self.id)

    def bind_tag(self, tag_name):
        """Allocations under this tag (and the tags below it) count here."""
        return bool(self.id) and not _nul(tag_name, "Budget.bind_tag") and \
            _budget_bind_tag(self.id, _name(tag_name)) == 0

    def bind_type(self, asset_type):
        """Allocations of assets of this type count here."""
        return bool(self.id) and not _nul(asset_type, "Budget.bind_type") and \
            _budget_bind_type(self.id, _name(asset_type)) == 0

    def policy(self, policy="lru", target=0, strict=None):
        """Which asset leaves first ("lru", "lfu", "largest", "priority" or
        EVICT_*), the live bytes soft evictions go down to (0: the soft
        limit), and strict: True fails allocations at the hard limit, False
        lets them through and records a violation, None uses the process's
        mode (GMTRACE_BUDGET_MODE)."""
        if not self.id:
            return False
        if isinstance(policy, str):
            # any case, as in a budgets file; an unknown one still reaches
            # the library, which records it (bad_policy) and keeps the node's
            p = _POLICIES.get(policy.lower(), -1)
            if p < 0:
                _bad("Budget.policy policy", policy,
                     '"lru", "lfu", "largest" or "priority" (any case) or an EVICT_* value',
                     "the node keeps its policy")
        else:
            p = _whole(policy, "Budget.policy policy", _I32)
        t = _whole(target, "Budget.policy target")
        if p is None or t is None:
            return False
        s = -1 if strict is None else _truth(strict, "Budget.policy strict", -1)
        return _budget_policy(self.id, p, t, s) == 0

    def evictor(self, fn):
        """fn(asset_id) unloads one asset of this node (None removes it)."""
        if not self.id or not _callable(fn, "Budget.evictor fn"):
            return False
        cb = _evict_callback(fn) if fn is not None else None
        # held only once gmtrace took it: a node it does not know keeps
        # nothing (its unknown_node is said once, not again at exit)
        if _budget_evictor(self.id, cb or _EVICT_NONE, None) != 0:
            return False
        _hold(("node", self.id), cb)
        return True

    @staticmethod
    def evictor_type(asset_type, fn):
        """fn(asset_id) unloads assets of this type, whatever their node
        (takes precedence over the node's evictor; None removes it)."""
        if not _fns or not _callable(fn, "Budget.evictor_type fn"):
            return False
        if not isinstance(asset_type, (str, bytes)):
            return _bad("Budget.evictor_type asset_type", asset_type, "a type name") or False
        if _nul(asset_type, "Budget.evictor_type asset_type"):
            return False
        cb = _evict_callback(fn) if fn is not None else None
        if _budget_evictor_type(_name(asset_type), cb or _EVICT_NONE, None) != 0:
            return False
        _hold(("type", asset_type), cb)
        return True

    def snapshot(self):
        """This node's dict from snapshot() (live_bytes, evictions...), or None."""
        for n in snapshot(assets=False)["nodes"]:
            if n["id"] == self.id:
                return n
        return None


def snapshot(assets=True):
    """Every budget node and (unless assets=False) every asset, now, as
    plain data:

        {"nodes": [{"id", "parent", "name", "live_bytes", "peak_bytes",
                    "soft_limit", "hard_limit", "evictions", "violations",
                    "failures"}, ...],
         "assets": [{"id", "state" ("loading", "resident", "unloading",
                     "unloaded", "failed"), "refs", "bytes",
                     "last_touch_frame" (None: never touched), "node",
                     "priority"}, ...]}

    last_touch_frame counts the main frames ended before the touch (0 in the
    first frame): the reports number frames from 1, so their frame 18 is 17
    here. A node's "violations" leave out its "failures" (strict mode), which
    the reports and the violation callback list as "failed" violations.
    Both lists are empty without gmtrace."""
    out = {"nodes": [], "assets": []}
    if _budget_snapshot is _noop:
        return out
    want_assets = _truth(assets, "snapshot assets", 1)
    count = _c.c_size_t(0)
    for _ in range(4):  # nodes and assets may appear between the calls: retry
        nnodes = _budget_snapshot(None, 0, None, 0, _c.byref(count))
        max_nodes = nnodes + 4
        max_assets = count.value + 64 if want_assets else 0
        nodes = (_Node * max_nodes)()
        assets = (_AssetInfo * max_assets)() if want_assets else None
        nnodes = _budget_snapshot(nodes, max_nodes, assets, max_assets, _c.byref(count))
        if nnodes <= max_nodes and (not want_assets or count.value <= max_assets):
            break
    for n in nodes[:min(nnodes, max_nodes)]:
        out["nodes"].append({
            "id": n.id, "parent": n.parent,
            "name": n.name.decode("utf-8", "replace") if n.name else "",
            "live_bytes": n.live_bytes, "peak_bytes": n.peak_bytes,
            "soft_limit": n.soft_limit, "hard_limit": n.hard_limit,
            "evictions": n.evictions, "violations": n.violations, "failures": n.failures})
    for a in (assets[:min(count.value, max_assets)] if want_assets else ()):
        out["assets"].append({
            "id": a.id,
            "state": _STATES[a.state] if a.state < len(_STATES) else a.state,
            "refs": a.refs, "bytes": a.bytes,
            "last_touch_frame": None if a.last_touch_frame == _U64_MAX else a.last_touch_frame,
            "node": a.node, "priority": a.priority})
    return out


# ---- spikes, self-measurement -----------------------------------------------------------


def spike_callback(fn):
    """fn(spike) for every frame over the spike limits (GMTRACE_SPIKE_*), on
    the thread that ended the frame; spike is a dict (frame, reasons,
    allocations, allocated_bytes, alloc_ns, limit_*). None removes it."""
    if _spike_callback is _noop or not _callable(fn, "spike_callback fn"):
        return False
    if fn is None:
        _spike_callback(_SPIKE_NONE, None)
        _hold(("spike",), None)
        return True

    def call(p, user):
        s = p.contents
        try:
            fn({k: getattr(s, k) for k, _ in _Spike._fields_ if k != "reserved"})
        except BaseException:
            _report("spike callback", fn)
    cb = _SPIKE_FN(call)
    _hold(("spike",), cb)
    _spike_callback(cb, None)
    return True


def budget_violation_callback(fn):
    """fn(violation) for every budget limit crossed (gmtrace 5+): on the
    thread that crossed it, inside the allocation or at a frame end;
    violation is a dict (node, event: over_soft | over_hard | failed |
    heap_full, name, live_bytes, limit_bytes, size, asset, failed). None
    removes it. Returns False without gmtrace (or an older one)."""
    if _violation_callback is _noop or not _callable(fn, "budget_violation_callback fn"):
        return False
    if fn is None:
        _violation_callback(_VIOLATION_NONE, None)
        _hold(("violation",), None)
        return True

    def call(p, user):
        v = p.contents
        try:
            fn({"node": v.node,
                "event": _VIOLATION_EVENTS[v.event] if v.event < 4 else v.event,
                "name": (v.name or b"").decode("utf-8", "replace"),
                "live_bytes": v.live_bytes, "limit_bytes": v.limit_bytes,
                "size": v.size, "asset": v.asset, "failed": bool(v.failed)})
        except BaseException:
            _report("budget violation callback", fn)
    cb = _VIOLATION_FN(call)
    _hold(("violation",), cb)
    _violation_callback(cb, None)
    return True


def self_allocations():
    """Allocations gmtrace made for itself since start-up (0 without it)."""
    return int(_self_allocations())


def footprint_bytes():
    """Bytes gmtrace holds in this process (log segment, private arena)."""
    return int(_footprint_bytes())


# ---- start and exit ------------------------------------------------------------------------


def _at_exit():
    # After this, interpreter finalization begins: C must not call back into
    # Python any more (an eviction at the last frame end, a late collection).
    try:
        gc.callbacks.remove(_on_gc)
    except ValueError:
        pass
    with _keep_lock:
        keys = list(_keep)
    for key in keys:
        if key[0] == "node":
            _budget_evictor(key[1], _EVICT_NONE, None)
        elif key[0] == "type":
            _budget_evictor_type(_name(key[1]), _EVICT_NONE, None)
        elif key[0] == "spike":
            _spike_callback(_SPIKE_NONE, None)
        elif key[0] == "violation":
            _violation_callback(_VIOLATION_NONE, None)
        _hold(key, None)


def _record_arenas():
    """Has libgmtrace wrap pymalloc's arena allocator (hook/python.c): with
    PYTHONMALLOC=pymalloc every arena becomes an allocation record. Called
    with the GIL held (PYFUNCTYPE), as setting the allocator requires."""
    try:
        addr = _c.cast(_c.CDLL(None).gmtrace_python_arenas, _c.c_void_p).value
    except (OSError, AttributeError):
        return False
    return _c.PYFUNCTYPE(_c.c_int)(addr)() >= 0


def pymalloc_arenas():
    """True when pymalloc's arenas are recorded (always under gmtrace;
    they only exist with PYTHONMALLOC=pymalloc, gmtrace run --pymalloc)."""
    return _arenas


_arenas = False
if _fns:
    if _gc is not _noop:
        gc.callbacks.append(_on_gc)
    _arenas = _record_arenas()
    atexit.register(_at_exit)
