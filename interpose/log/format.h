/* format.h - the gmtrace record and capture format, shared by writer and reader
 *
 * This is the one header both sides of the pipeline include: interpose/ writes
 * what it defines into the shared-memory log, and analysis/ reads it back from
 * capture files. docs live in interpose/log/FORMAT.md; keep them in step.
 *
 * Glossary
 *   record   one event, a multiple of 16 bytes ("units"), written by one thread.
 *   tick     one time-stamp-counter (TSC) cycle; records carry the low 24 bits
 *            of the TSC, readers rebuild the full value and map it to
 *            CLOCK_MONOTONIC nanoseconds through clock samples.
 *   chunk    a fixed-size slice of the shared-memory segment owned by one
 *            thread at a time; a thread's records are the concatenation of its
 *            chunks in sequence order.
 *   block    a piece of one chunk as stored in a capture file (raw or zstd).
 *   capture  the .gmt file: a file header followed by blocks.
 *   frame    one displayed frame, ended by a frame mark record.
 *   tag, asset, pool, budget node, heap: the marker API's objects (later
 *            record types; unknown types are skipped by readers).
 *
 * All integers are little-endian. Records are never split across chunks.
 */
#ifndef GM_FORMAT_H
#define GM_FORMAT_H

#include <stdint.h>

#define GM_FORMAT_MAGIC "GMTRACE\0"
#define GM_FORMAT_VERSION_MAJOR \
	3 /* readers reject a newer major (2: packed blocks; 3: packed form 2) */
#define GM_FORMAT_VERSION_MINOR \
	4 /* additions that old readers can skip (1: stacks, 2: Python frames, 3: block
	     header check, 4: module build IDs) */

/* ---- records -----------------------------------------------------------
 *
 * Every record starts with one 16-byte unit of two 64-bit words:
 *
 *   w0: bits  0..47  a     pointer or type-specific value
 *       bits 48..55  type  gm_rec_t, never 0 (0 marks the end of records)
 *       bits 56..63  x     type-specific small value (kind, or extra units)
 *   w1: bits  0..39  b     size or type-specific value
 *       bits 40..63  tick  low 24 bits of the TSC when the event happened
 *
 * Records of variable length have x = number of extra 16-byte units that
 * follow the first. A writer stores w1 and the extra units before w0, so a
 * reader that sees a non-zero w0 (acquire) sees the whole record.
 *
 * Readers rebuild the TSC from the 24-bit tick: the new value is the one
 * nearest to the previous record's TSC (a signed 24-bit step). Writers insert
 * a gm_rec_time record whenever a step would reach 2^23 ticks.
 */
typedef enum gm_rec {
	gm_rec_none = 0,           /* end of records in a chunk; never written */
	gm_rec_alloc = 1,          /* a=ptr x=gm_kind b=size */
	gm_rec_free = 2,           /* a=ptr x=gm_kind b=size given by a sized delete, else 0 */
	gm_rec_realloc = 3,        /* a=new ptr x=gm_kind b=size, +1 unit: old ptr, 0 */
	gm_rec_fail = 4,           /* a=0 x=gm_kind b=0, +1 unit: size, alignment */
	gm_rec_time = 5,           /* a=0 x=1 b=0, +1 unit: full TSC, 0 */
	gm_rec_thread_start = 6,   /* a=OS tid, x=n units, b=name bytes; +units: name */
	gm_rec_thread_end = 7,     /* a=OS tid */
	gm_rec_frame = 8,          /* a=frame number, x=frame set (0 = main frames),
	                          b=gm_present_t: what ended it (main set only) */
	gm_rec_module = 9,         /* a=path bytes, x=n units, +1 unit: base, size; +path */
	gm_rec_process = 10,       /* a=pid, x=n units, b=ppid, +1 unit: realtime ns,
	                          monotonic ns at start; +1 unit: TSC at start, tick
	                          rate in Hz (0 if unknown); +1 unit: exe bytes,
	                          argv bytes; +exe then argv (NUL-separated) */
	gm_rec_clock = 11,         /* a=0 x=1, +1 unit: TSC, monotonic ns (sampled together);
	                          reserved: drainers write clock blocks instead */
	gm_rec_stall = 12,         /* a=number of waits b=ns spent waiting for a free chunk */
	gm_rec_fork = 13,          /* a=child pid: this process forked */
	gm_rec_exec = 14,          /* a=0: this process is about to exec; its log ends */
	gm_rec_exit = 15,          /* a=exit status unless x=1, b=waits for a free chunk in the
	                          whole session: the log ends cleanly */
	gm_rec_lost = 16,          /* a=records the writer could not store; reserved: this
	                          writer stops recording instead (one warning) */
	gm_rec_module_unload = 17, /* a=base address */
	gm_rec_frame_set = 18,     /* a=set id, x=n units, b=name bytes; +name */
	gm_rec_sim_tick = 19,      /* a=tick number: one fixed-timestep simulation update */
	gm_rec_frame_thread = 20,  /* a=frame number x=3 b=thread index: that thread's
	                          share of the frame; +[allocations, frees],
	                          [allocated bytes, freed bytes], [allocator ticks,
	                          0] (freed bytes: usable sizes, frames level only) */
	gm_rec_frame_sum = 21,     /* a=frame number x=4 b=threads that allocated;
	                          +[allocations, frees], [allocated bytes, freed
	                          bytes], [live bytes at frame end, peak live bytes
	                          in the frame] (signed 64-bit, usable sizes: net
	                          bytes since frames-level counting began),
	                          [allocator ticks, gm_frame_flag bits] */
	gm_rec_spike = 22,         /* a=frame number x=3 b=gm_spike bits that fired;
	                          +[allocations, limit], [allocated bytes, limit],
	                          [allocator ns, limit] */
	gm_rec_level = 23,         /* a=gm_level now in force */
	gm_rec_tag_def = 24,       /* a=tag id x=n units b=name bytes; +name ("render/textures") */
	gm_rec_context = 25,       /* a=asset id (0: none) b=tag id (0: none): from now on
	                          this thread's events belong to that tag and asset */
	gm_rec_asset_new = 26,     /* a=asset id x=n units b=name bytes | type bytes << 16;
	                          +name, one NUL, type ("texture"): the asset starts
	                          loading (written again in a fork child's capture) */
	gm_rec_asset_state = 27,   /* a=asset id x=gm_asset_state entered */
	gm_rec_asset_ref = 28,     /* a=asset id x=gm_asset_op b=reference count after it
	                          (ref, release) or frames ended before it (touch) */
	gm_rec_asset_extra = 29,   /* a=asset id b=bytes the heap cannot see (GPU), total */
	gm_rec_validation = 30,    /* a=asset, tag or pool id x=gm_valid b=detail: a marker
	                          call that was wrong; gmtrace did what gm_valid says
	                          and the game went on */
	gm_rec_scene = 31,         /* a=scene number x=n units b=name bytes; +name: a level or
	                          scene begins */
	gm_rec_pool_def = 32,      /* a=pool id x=n units b=name bytes; +[object size,
	                          capacity], +name: a pool was created */
	gm_rec_pool_resize = 33,   /* a=pool id b=new capacity */
	gm_rec_pool_destroy = 34,  /* a=pool id */
	gm_rec_pool_frame = 35,    /* a=frame number x=3 b=pool id: a pool that was used in
	                          that frame (pools left alone get no record),
	                          all threads; +[acquires, served from the pool],
	                          [releases, returned to the pool], [in use at frame
	                          end, high-water mark in the frame] */
	gm_rec_gc = 36,            /* a=generation x=1 b=objects collected; +[duration ns,
	                          uncollectable]: a garbage-collector run (Python) */
	gm_rec_alloc_cost = 37,    /* a=0 x=n units b=size classes: measured allocator
	                          cost; +per class c (sizes up to 2^c bytes):
	                          [timed calls, TSC ticks] */
	gm_rec_frame_tags = 38,    /* a=frame number x=n units b=tags listed (frames
	                          level): allocations per tag in that frame, all
	                          threads; +per tag [tag id | allocations << 24,
	                          allocated bytes]; tag id 0 = no tag, 0xffffff =
	                          tags 255 and over together */
	gm_rec_budget_node = 39,   /* a=node id x=n units b=name bytes; +[parent id (or
	                          0xffffffff), soft limit], [hard limit, target],
	                          [gm_budget_policy | strict << 8, capacity of its
	                          heap (0: none)], +name: a budget node exists */
	gm_rec_budget_frame = 40,  /* a=frame number x=1 b=node id; +[live bytes at frame
	                          end, peak live bytes in the frame] (signed; a node
	                          counts its children); a session that ended no frame
	                          writes frame 1's at its end */
	gm_rec_budget_violation = 41, /* a=node id x=3 b=gm_budget_event; +[live bytes,
	                          limit], [bytes requested, tag id], [asset id, flags:
	                          1 the allocation failed, 2 a realloc]; tag and asset
	                          are 0 for over_soft (found at a frame end) */
	gm_rec_budget_evict = 42,     /* a=asset id x=2 b=node id; +[gm_budget_event that
	                          caused it, bytes reclaimed (signed)], [ns taken,
	                          bytes allocated in the asset's scopes (not its extra
	                          bytes: those are not in the heap), before the
	                          evictor ran] */
	gm_rec_host = 43,             /* a=bits of what could be read (platforms/host.h)
	                          x=n units b=0; +[cgroup memory.max, memory.high],
	                          [memory.current, memory.swap.max], [RLIMIT_AS,
	                          RLIMIT_DATA], [MemTotal, MemAvailable], [SwapTotal,
	                          overcommit mode]: the host's limits at start;
	                          UINT64_MAX is "no limit" */
	gm_rec_pressure = 44,         /* a=0 x=3 b=1 if PSI was read; +[some avg10, full
	                          avg10] (hundredths of a percent), [some total,
	                          full total] (us stalled), [cgroup memory.current,
	                          MemAvailable] (UINT64_MAX: unknown): a periodic
	                          sample of memory pressure */
	gm_rec_platform = 45,         /* a=0 x=n units b=name bytes; +name: the game runs
	                          under this platform profile's banks and budgets
	                          (the budget_node records that follow) */
	gm_rec_stack = 46,            /* a=stack id x=n units b=frames; +frames (return
	                          addresses, innermost first, 8 bytes each): a call
	                          stack, defined once per capture by the thread
	                          that met it first (option stacks) */
	gm_rec_site = 47,             /* a=stack id (0: not kept, the writer's table was
	                          full): the next allocation or realloc record of
	                          this thread was made at that stack */
	gm_rec_pycode = 48,           /* a=code id x=n units b=bytes; +[first line (4
	                          bytes), name bytes (4)] name file: a Python code
	                          object, named by the Python frames of stack
	                          records (option stacks, a CPython game) */
	gm_rec_site_frames = 49,      /* a=0 x=n units b=frames; +frames (as in a stack
	                          record): a site and its stack in one, for a stack
	                          the writer's table had no room for; the next
	                          allocation or realloc record of this thread was
	                          made there */
	gm_rec_module_id = 50,        /* a=base address x=n units b=id bytes; +id: the GNU
	                          build ID of the module just recorded at that base
	                          (its note in memory), so a reader can tell the file
	                          on disk from the one the game ran */
	gm_rec_count
} gm_rec_t;

/* A frame of a stack record with this bit set is a Python frame: the code
 * id (a pycode record) in bits 32-62, the line in bits 0-31 (0: unknown).
 * No return address has it. */
#define GM_PYFRAME_BIT (1ull << 63)
#define GM_PYFRAME(code, line) \
	(GM_PYFRAME_BIT | ((uint64_t)((code)&0x7fffffffu) << 32) | (uint32_t)(line))
#define GM_PYFRAME_CODE(w) ((uint32_t)((w) >> 32) & 0x7fffffffu)
#define GM_PYFRAME_LINE(w) ((uint32_t)(w))

/* How an allocation was requested or a block released (the x field). */
typedef enum gm_kind {
	gm_kind_malloc = 0,
	gm_kind_calloc = 1,
	gm_kind_realloc = 2,
	gm_kind_reallocarray = 3,
	gm_kind_posix_memalign = 4,
	gm_kind_aligned_alloc = 5,
	gm_kind_memalign = 6,
	gm_kind_valloc = 7,
	gm_kind_pvalloc = 8,
	gm_kind_new = 9,        /* operator new, any non-array variant */
	gm_kind_new_array = 10, /* operator new[], any variant */
	gm_kind_free = 11,
	gm_kind_delete = 12,
	gm_kind_delete_array = 13,
	gm_kind_pymalloc_arena = 14, /* a CPython arena (hook/python.c), alloc and free */
	gm_kind_count
} gm_kind_t;

/* Capture levels (gm_rec_level). */
typedef enum gm_level {
	gm_level_events = 0, /* every allocation and free is a record */
	gm_level_frames = 1, /* per-frame aggregates only (hours-long sessions) */
	gm_level_count
} gm_level_t;

/* Asset lifecycle (gm_rec_asset_state). */
typedef enum gm_asset_state {
	gm_asset_loading = 0,
	gm_asset_resident = 1,
	gm_asset_unloading = 2,
	gm_asset_unloaded = 3,
	gm_asset_failed = 4,
	gm_asset_state_count
} gm_asset_state_t;

/* Reference and use events (gm_rec_asset_ref). */
typedef enum gm_asset_op {
	gm_asset_op_ref = 0,     /* a reference added */
	gm_asset_op_release = 1, /* a reference released */
	gm_asset_op_touch = 2,   /* used this frame (at most one record per frame) */
	gm_asset_op_count
} gm_asset_op_t;

/* What a wrong marker call was (gm_rec_validation). */
typedef enum gm_valid {
	gm_valid_none = 0,
	gm_valid_unknown_asset = 1,      /* no asset has this id */
	gm_valid_double_unload = 2,      /* unloaded twice */
	gm_valid_release_below_zero = 3, /* b = reference count before */
	gm_valid_null_name = 4,          /* a NULL (b=0) or empty (b=1) name: a stand-in is used */
	gm_valid_long_name = 5,          /* over GM_NAME_MAX bytes: cut, b = length */
	gm_valid_unload_with_refs = 6,   /* b = references still held; the unload goes on */
	gm_valid_tag_underflow = 7,      /* pop without push */
	gm_valid_stack_overflow = 8,     /* scopes nested deeper than the thread stack, or a
	                                 257th named frame set (a=0, b=256) */
	gm_valid_bad_state = 9,          /* b = the state the asset was in */
	gm_valid_detach_mismatch = 10,   /* detach of an asset not attached on this thread,
	                                    or a load or unload ended on a thread that did
	                                    not begin it */
	gm_valid_unknown_tag = 11,       /* a tag id nobody interned: "no tag" is pushed */
	gm_valid_unknown_pool = 12,      /* a pool id never created, or destroyed */
	gm_valid_pool_underflow = 13,    /* a=pool: more objects released than acquired (in
	                                    use below zero at two frame ends in a row),
	                                    b = how many; once per stretch below zero */
	gm_valid_evictor_no_progress = 14, /* a=asset: its evictor reclaimed nothing,
	                                      b = bytes the asset was holding */
	gm_valid_unknown_node = 15,        /* a budget node id or name nobody defined */
	gm_valid_no_evictor = 16,          /* over a limit with evictable assets but no
	                                 evictor registered (a = node) */
	gm_valid_node_redefined = 17,      /* a = node: its name defined again with another
	                                      parent or other limits (a platform's node,
	                                      say); b = the hard limit asked; the first
	                                      definition stays */
	gm_valid_bad_policy = 18,          /* a = node: a policy that is none of
	                                      gm_budget_policy_t, b = it (32 bits);
	                                      the node's policy stays */
	gm_valid_count
} gm_valid_t;

#define GM_NAME_MAX 255 /* longest tag, asset, type or scene name kept */

/* Budget victim choice (gm_rec_budget_node). */
typedef enum gm_budget_policy {
	gm_budget_lru = 0,      /* least recently touched first */
	gm_budget_lfu = 1,      /* least often touched first */
	gm_budget_largest = 2,  /* largest first */
	gm_budget_priority = 3, /* lowest game-given priority first */
	gm_budget_policy_count
} gm_budget_policy_t;

/* What happened at a limit (gm_rec_budget_violation, gm_rec_budget_evict). */
typedef enum gm_budget_event {
	gm_budget_over_soft = 0, /* over the soft limit at a frame end */
	gm_budget_over_hard = 1, /* an allocation went over the hard limit (soft mode) */
	gm_budget_failed = 2,    /* an allocation failed at the hard limit (strict) */
	gm_budget_heap_full = 3, /* the node's heap (its bank) had no room */
	gm_budget_event_count
} gm_budget_event_t;

/* gm_rec_frame_sum flags. */
#define GM_FRAME_FLAG_FRAMES_LEVEL \
	1u                           /* freed, live and peak bytes are usable sizes
				       (allocated bytes are requested sizes in both) */
#define GM_FRAME_FLAG_AUTO 2u        /* found by a present/swap hook */
#define GM_FRAME_FLAG_PEAK_APPROX 4u /* several threads allocated: peak is an upper bound */
/* written at the capture's end in the frames level: the totals since the
 * last frame end (the game's shutdown), for no frame (no mark before it;
 * its number is the last frame's + 1) */
#define GM_FRAME_FLAG_AT_END 8u

/* gm_rec_spike reasons. */
#define GM_SPIKE_ALLOCATIONS 1u
#define GM_SPIKE_BYTES 2u
#define GM_SPIKE_ALLOC_TIME 4u

/* Where a frame mark came from (gm_rec_frame's b field). */
typedef enum gm_present {
	gm_present_marker = 0, /* gmtrace_frame_mark() */
	gm_present_sdl2_gl = 1,
	gm_present_sdl2_render = 2,
	gm_present_sdl2_surface = 3,
	gm_present_sdl2_surface_rects = 4,
	gm_present_sdl1_flip = 5,
	gm_present_sdl1_update_rect = 6,
	gm_present_sdl1_update_rects = 7,
	gm_present_sdl1_gl = 8,
	gm_present_glx = 9,
	gm_present_egl = 10,
	gm_present_vulkan = 11,
	gm_present_count
} gm_present_t;

#define GM_REC_UNIT 16u

/* x of an exit record whose status is not the process's (it returned from
 * main); 0, as before the mark, is a status seen. */
#define GM_EXIT_STATUS_UNKNOWN 1u

/* Thread indices run below this in every capture: a block naming a higher
 * one is damage (a reader refuses to make streams for it), and a drainer
 * leaves out a log chunk whose owner field says more (the log damaged). */
#define GM_FORMAT_MAX_THREADS (1u << 20)
#define GM_REC_PTR_MASK ((1ull << 48) - 1)
#define GM_REC_SIZE_MASK ((1ull << 40) - 1)
#define GM_REC_TICK_BITS 24
#define GM_REC_TICK_MASK ((1ull << GM_REC_TICK_BITS) - 1)
#define GM_REC_TICK_HALF (1ull << (GM_REC_TICK_BITS - 1))
#define GM_REC_MAX_EXTRA 255u

static inline uint64_t gm_rec_w0(uint64_t a, unsigned type, unsigned x)
{
	return (a & GM_REC_PTR_MASK) | ((uint64_t)type << 48) | ((uint64_t)x << 56);
}
static inline uint64_t gm_rec_w1(uint64_t b, uint64_t tsc)
{
	return (b & GM_REC_SIZE_MASK) | ((tsc & GM_REC_TICK_MASK) << 40);
}
static inline uint64_t gm_rec_a(uint64_t w0)
{
	return w0 & GM_REC_PTR_MASK;
}
static inline unsigned gm_rec_type(uint64_t w0)
{
	return (unsigned)(w0 >> 48) & 0xff;
}
static inline unsigned gm_rec_x(uint64_t w0)
{
	return (unsigned)(w0 >> 56);
}
static inline uint64_t gm_rec_b(uint64_t w1)
{
	return w1 & GM_REC_SIZE_MASK;
}
static inline uint64_t gm_rec_tick(uint64_t w1)
{
	return w1 >> 40;
}

/* Number of 16-byte units a record occupies, from its first word. Records
 * whose x is a count of extra units are listed; every other known type is
 * one unit (x may hold a value: a kind, a state, a code); types unknown to
 * this version carry their length in x, so older readers can skip them. */
static inline unsigned gm_rec_units(uint64_t w0)
{
	unsigned t = gm_rec_type(w0);
	switch (t) {
	case gm_rec_realloc:
	case gm_rec_fail:
		return 2;
	case gm_rec_time:
	case gm_rec_clock:
	case gm_rec_thread_start:
	case gm_rec_module:
	case gm_rec_process:
	case gm_rec_frame_set:
	case gm_rec_frame_thread:
	case gm_rec_frame_sum:
	case gm_rec_spike:
	case gm_rec_tag_def:
	case gm_rec_asset_new:
	case gm_rec_scene:
	case gm_rec_pool_def:
	case gm_rec_pool_frame:
	case gm_rec_gc:
	case gm_rec_alloc_cost:
	case gm_rec_frame_tags:
	case gm_rec_budget_node:
	case gm_rec_budget_frame:
	case gm_rec_budget_violation:
	case gm_rec_budget_evict:
	case gm_rec_host:
	case gm_rec_pressure:
	case gm_rec_platform:
	case gm_rec_stack:
	case gm_rec_pycode:
	case gm_rec_site_frames:
	case gm_rec_module_id:
		return 1 + gm_rec_x(w0);
	default:
		return t < gm_rec_count ? 1 : 1 + gm_rec_x(w0);
	}
}

/* Rebuild a full TSC from the previous full TSC and a record's 24-bit tick. */
static inline uint64_t gm_rec_tsc_rebuild(uint64_t prev, uint64_t tick)
{
	int64_t step = (int64_t)((tick - prev) & GM_REC_TICK_MASK);
	if (step >= (int64_t)GM_REC_TICK_HALF)
		step -= (int64_t)(1ull << GM_REC_TICK_BITS);
	return prev + (uint64_t)step;
}

/* ---- capture file ------------------------------------------------------
 *
 * file   := gm_file_header_t block*
 * block  := gm_block_t payload[stored_bytes]
 *
 * Blocks of one thread may appear out of order; readers order them by
 * (seq, offset) and drop byte ranges already seen (a drainer that died
 * between writing a block and noting it may have written it twice).
 */
typedef struct gm_file_header {
	char magic[8]; /* GM_FORMAT_MAGIC */
	uint16_t version_major;
	uint16_t version_minor;
	uint32_t header_bytes; /* sizeof(gm_file_header_t) when written */
	uint32_t pid;          /* process whose log this is */
	uint32_t chunk_bytes;  /* chunk size of the segment */
	uint64_t created_ns;   /* CLOCK_REALTIME when the capture was opened */
	char shm_name[48];     /* the live segment, for `gmtrace recover` */
	/* 0, or the errno that stopped recording: the capture could not be
	 * written past its last block (a full disk), the game went on
	 * unrecorded. Written in place, which needs no room on the disk */
	uint32_t stopped_errno;
	char reserved[44];
} gm_file_header_t; /* 128 bytes */

typedef enum gm_block_kind {
	gm_block_raw = 1,          /* payload is records as written */
	gm_block_zstd = 2,         /* payload is one zstd frame of the records */
	gm_block_clock = 3,        /* payload: TSC, monotonic ns (drainer's sample) */
	gm_block_packed = 4,       /* payload is the records packed (log/pack.h) */
	gm_block_packed_zstd = 5,  /* payload is one zstd frame of the packed records */
	gm_block_packed2 = 6,      /* payload is the records packed in form 2 (log/pack.h) */
	gm_block_packed2_zstd = 7, /* payload is one zstd frame of form 2 records */
	gm_block_kind_count
} gm_block_kind_t;

#define GM_BLOCK_MAGIC 0x4b424d47u /* "GMBK" */

typedef struct gm_block {
	uint32_t magic; /* GM_BLOCK_MAGIC */
	uint16_t kind;  /* gm_block_kind_t */
	uint16_t flags;
	uint32_t thread;       /* writer thread index (gm_thread), 0-based */
	uint32_t seq;          /* chunk sequence number within that thread */
	uint32_t offset;       /* byte offset of the payload's records in the chunk */
	uint32_t raw_bytes;    /* records' size before compression */
	uint32_t stored_bytes; /* payload size in the file */
	uint32_t check;        /* gm_format_check() of the stored payload */
	uint64_t tsc_base;     /* full TSC of the record before the first one */
	uint64_t header_check; /* gm_format_header_check() (3.3); 0: none (before) */
} gm_block_t;                  /* 48 bytes */

/* Fast 32-bit check value of a byte range (not cryptographic). */
static inline uint32_t gm_format_check(const void *data, uint64_t n)
{
	const unsigned char *p = (const unsigned char *)data;
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
	while (n >= 8) {
		uint64_t v;
		__builtin_memcpy(&v, p, 8);
		h = (h ^ v) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
		p += 8;
		n -= 8;
	}
	while (n--) {
		h = (h ^ *p++) * 0xc4ceb9fe1a85ec53ull;
	}
	h ^= h >> 29;
	return (uint32_t)h;
}

/* A block header's own check word (format 3.3): gm_format_check() of its
 * 48 bytes with this word 0, bit 32 set so that the word is never 0 (0 is
 * a header written before 3.3, which readers take as it is). It covers
 * what the payload's check cannot: a flipped bit in the thread, seq,
 * offset, sizes or tsc_base. */
#define GM_BLOCK_HEADER_CHECKED (1ull << 32)
static inline uint64_t gm_format_header_check(const gm_block_t *b)
{
	gm_block_t c = *b;
	c.header_check = 0;
	return GM_BLOCK_HEADER_CHECKED | gm_format_check(&c, sizeof(c));
}

/* Sets b's header check, once every other field (check included) is final. */
static inline void gm_format_seal(gm_block_t *b)
{
	b->header_check = gm_format_header_check(b);
}

#endif
