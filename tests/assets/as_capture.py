"""as_capture.py - synthetic captures written record by record (interpose/log/FORMAT.md)

For tests that need records no marker call makes (ids nobody defined, a
reference count gone wrong, names the API would refuse): a file header, a
clock block at the start and at the end with tsc = ns, and one raw block per
thread. Times are nanoseconds; a time record re-anchors steps of 2^23 ticks
or more, as writers do.
"""
import struct

GM_FORMAT_MAGIC = b"GMTRACE\0"
VERSION = (3, 0)
BLOCK_MAGIC = 0x4B424D47
BLOCK_RAW, BLOCK_CLOCK = 1, 3
MASK64 = (1 << 64) - 1
TICK_BITS = 24
TICK_MASK = (1 << TICK_BITS) - 1
TICK_HALF = 1 << (TICK_BITS - 1)

# record types (gm_rec_t)
ALLOC, FREE, REALLOC, TIME, FRAME = 1, 2, 3, 5, 8
TAG_DEF, CONTEXT, ASSET_NEW, ASSET_STATE, ASSET_REF, ASSET_EXTRA = 24, 25, 26, 27, 28, 29
VALIDATION, SCENE = 30, 31
# gm_asset_state, gm_asset_op, gm_valid
LOADING, RESIDENT, UNLOADING, UNLOADED, FAILED = range(5)
OP_REF, OP_RELEASE, OP_TOUCH = range(3)
VALID_RELEASE_BELOW_ZERO, VALID_UNLOAD_WITH_REFS = 3, 6
KIND_MALLOC, KIND_FREE = 0, 11


def format_check(data):
    """gm_format_check() of bytes."""
    n = len(data)
    h = (0x9E3779B97F4A7C15 ^ n) & MASK64
    p = 0
    while n - p >= 8:
        v = struct.unpack_from("<Q", data, p)[0]
        h = ((h ^ v) * 0xFF51AFD7ED558CCD) & MASK64
        h ^= h >> 32
        p += 8
    while p < n:
        h = ((h ^ data[p]) * 0xC4CEB9FE1A85EC53) & MASK64
        p += 1
    h ^= h >> 29
    return h & 0xFFFFFFFF


class Thread:
    """The records of one writer thread."""

    def __init__(self):
        self.words = []
        self.tsc = 0

    def rec(self, ns, type_, x=0, a=0, b=0, extra=b""):
        """One record at ns; extra is padded to whole 16-byte units and x,
        when not given for a record with extra bytes, is their unit count."""
        if ns - self.tsc >= TICK_HALF:
            self.words += [(TIME << 48) | (1 << 56), (ns & TICK_MASK) << 40, ns, 0]
        units = (len(extra) + 15) // 16
        if extra and x == 0:
            x = units
        self.words.append((a & ((1 << 48) - 1)) | (type_ << 48) | (x << 56))
        self.words.append((b & ((1 << 40) - 1)) | ((ns & TICK_MASK) << 40))
        body = extra + b"\0" * (units * 16 - len(extra))
        self.words += list(struct.unpack(f"<{units * 2}Q", body))
        self.tsc = ns


class Capture:
    """A capture of one or more threads; write() puts it in a file."""

    def __init__(self, nthreads=1):
        self.threads = [Thread() for _ in range(nthreads)]
        self.last_ns = 0

    def rec(self, ns, type_, x=0, a=0, b=0, extra=b"", thread=0):
        self.threads[thread].rec(ns, type_, x, a, b, extra)
        self.last_ns = max(self.last_ns, ns)

    # the marker API's records
    def tag_def(self, ns, tag, name):
        n = name.encode() if isinstance(name, str) else name
        self.rec(ns, TAG_DEF, a=tag, b=len(n), extra=n)

    def context(self, ns, asset, tag=0, thread=0):
        self.rec(ns, CONTEXT, a=asset, b=tag, thread=thread)

    def asset_new(self, ns, asset, name, type_):
        n = name.encode() if isinstance(name, str) else name
        t = type_.encode() if isinstance(type_, str) else type_
        self.rec(ns, ASSET_NEW, a=asset, b=len(n) | (len(t) << 16), extra=n + b"\0" + t)

    def state(self, ns, asset, s):
        self.rec(ns, ASSET_STATE, x=s, a=asset)

    def ref(self, ns, asset, op, count=0):
        self.rec(ns, ASSET_REF, x=op, a=asset, b=count)

    def extra(self, ns, asset, nbytes):
        self.rec(ns, ASSET_EXTRA, a=asset, b=nbytes)

    def valid(self, ns, code, subject, detail):
        self.rec(ns, VALIDATION, x=code, a=subject, b=detail)

    def scene(self, ns, number, name):
        n = name.encode()
        self.rec(ns, SCENE, a=number, b=len(n), extra=n)

    def frame(self, ns, number):
        self.rec(ns, FRAME, a=number)

    def alloc(self, ns, ptr, size, thread=0):
        self.rec(ns, ALLOC, x=KIND_MALLOC, a=ptr, b=size, thread=thread)

    def free(self, ns, ptr, thread=0):
        self.rec(ns, FREE, x=KIND_FREE, a=ptr, thread=thread)

    def write(self, path):
        out = bytearray()
        out += struct.pack("<8sHHIIIQ48s48s", GM_FORMAT_MAGIC, VERSION[0], VERSION[1], 128, 1,
                           1 << 20, 0, b"", b"")

        def block(kind, thread, payload, raw):
            out.extend(struct.pack("<IHHIIIIIIQQ", BLOCK_MAGIC, kind, 0, thread, 0, 0, raw,
                                   len(payload), format_check(payload), 0, 0))
            out.extend(payload)

        end = self.last_ns + 1000
        block(BLOCK_CLOCK, 0, struct.pack("<QQ", 0, 0), 0)
        for i, t in enumerate(self.threads):
            if t.words:
                payload = struct.pack(f"<{len(t.words)}Q", *t.words)
                block(BLOCK_RAW, i, payload, len(payload))
        block(BLOCK_CLOCK, 0, struct.pack("<QQ", end, end), 0)
        with open(path, "wb") as f:
            f.write(out)
        return path
