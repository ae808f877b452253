/* reader.c - the streaming capture reader: index, order, decode, merge
 *
 * gm_reader_open() maps the capture and walks the block headers once. Each
 * header and its check value are verified; the first damage is remembered.
 * A damaged block whose stored size leads to another block header (or the
 * end) is left out and the walk goes on (gm_reader_resync); other damage
 * stops it, everything before it staying usable. Record blocks are
 * then sorted per writer thread by (seq, offset) and byte ranges already
 * covered by an earlier block of the same chunk are dropped or trimmed.
 *
 * Each thread is a stream: its blocks decoded one at a time into one buffer
 * (zstd) or read in place (raw, when 8-byte aligned), its records walked with
 * the TSC rebuilt from 24-bit ticks. A binary min-heap over the streams' head
 * records, keyed by (tsc, thread), gives the global order. The stream whose
 * head was just handed out is advanced only on the following call, so the
 * event's extra pointer stays valid until then.
 *
 * Causal repair: the writer reads the TSC after an allocation returns and
 * before a free starts, but rdtsc is not serializing and cores' counters
 * may disagree by a little, so two threads' records a few hundred ticks
 * apart can come out in the wrong order: thread B's free of a block thread
 * A handed it (A's allocation record a little later), or A's allocation of
 * an address B's free had just given back. The reader keeps the set of
 * live addresses. A record that cannot apply yet (a free of an address not
 * live, an allocation of one still live) looks ahead in the other threads'
 * records up to GM_READER_SLACK_NS past it for the one that would make it
 * apply, and is not about a block of that thread's own (see
 * gm_reader_look_stream). If there is one, it waits, its thread paused, and
 * comes right after that record; if not (a real unmatched free, a lost
 * free), it comes as it is, at once. Each event keeps its own TSC, so a repaired one may
 * carry a time a little before the event delivered ahead of it (as a
 * thread's first records may: the process record carries the start TSC).
 *
 * Time: clock samples (TSC, CLOCK_MONOTONIC ns) come from gm_block_clock
 * blocks and from the gm_rec_process record; see gm_reader_clock_fit().
 */
#include "analysis/log/reader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "interpose/log/pack.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the capture format is little-endian; this reader reads it in place"
#endif

_Static_assert(sizeof(gm_file_header_t) == 128, "gm_file_header_t is 128 bytes");
_Static_assert(sizeof(gm_block_t) == 48, "gm_block_t is 48 bytes");

/* A thread index above this is taken as a damaged block header, not as a
 * reason to allocate millions of streams. */
#define GM_READER_MAX_THREADS GM_FORMAT_MAX_THREADS
#define GM_READER_NONE UINT32_MAX
/* How long a record may wait for the other thread's record that makes it
 * apply (causal repair, above); in ticks when the capture has no clock. */
#define GM_READER_SLACK_NS 1000u
#define GM_READER_SLACK_TICKS 2048u
#define GM_READER_SLACK_MAX 1000000000ull /* ticks, whatever a hostile clock says */
/* How far a burst's records are looked through for the reading that ends
 * it (gm_reader_latest): the recorder reuses a reading for a few records. */
#define GM_READER_BURST_MAX 64u

/* One record block as indexed (clock blocks are not kept here). */
typedef struct gm_reader_block {
	uint64_t at;      /* file offset of the block header */
	uint64_t payload; /* file offset of the payload */
	uint64_t tsc_base;
	uint32_t thread;
	uint32_t seq;
	uint32_t offset;
	uint32_t raw_bytes;
	uint32_t stored_bytes;
	uint32_t skip; /* leading bytes already delivered by an earlier block */
	uint16_t kind;
} gm_reader_block_t;

/* One writer thread's records, walked block by block. */
typedef struct gm_reader_stream {
	size_t first, end;     /* its blocks: r->blocks[first..end) */
	size_t next;           /* next block to load */
	uint64_t *buf;         /* decode buffer (zstd, or unaligned raw) */
	size_t cap;            /* buf size in bytes */
	const uint64_t *w;     /* current block's records as words, or NULL */
	size_t nw, pos, skipw; /* words in block, next word, words to suppress */
	uint64_t prev;         /* full TSC of the previous record */
	int prev_time;         /* the previous record was a time record */
	/* delivered records since the thread's last reading that carry it
	 * (a burst's allocations), and that reading */
	uint64_t burst_n, burst_tsc;
	uint64_t at; /* current block's file offset */
	int done;
	/* the head record, valid while the stream is in the heap */
	uint64_t w0, w1, tsc, head_at;
	int reused; /* the head carries the previous record's reading */
	const uint64_t *extra;
	uint32_t nextra;
	/* its next block decoded ahead by a look-ahead (gm_reader_peek), taken
	 * over when the stream gets there: peek_block is the block's index + 1,
	 * or 0 */
	uint64_t *peek_buf;
	size_t peek_cap, peek_block;
	const uint64_t *peek_w;
} gm_reader_stream_t;

/* TSC -> ns: ns = ns0 + (tsc - tsc0) * num / den, or ns = tsc when den == 0. */
typedef struct gm_reader_clock {
	uint64_t tsc0, ns0, num, den;
} gm_reader_clock_t;

typedef struct gm_reader_sample {
	uint64_t tsc, ns;
} gm_reader_sample_t;

/* The addresses live at the point of the merge: open addressing, linear
 * probing, 0 = empty slot (address 0 is never live). The same scheme as
 * model/live.h's map of live blocks, kept to addresses alone: every
 * command pays for this set besides its own map, 16 bytes a live block here
 * against about 53 for the map's entries. */
typedef struct gm_reader_ptrs {
	uint64_t *slot;
	size_t cap, n; /* cap: a power of two, or 0 */
} gm_reader_ptrs_t;

/* A stream whose head record waits (causal repair): for an allocation of
 * ptr (want_alloc) or a free of it, by another thread, until tsc + slack. */
typedef struct gm_reader_wait {
	uint32_t stream;
	int want_alloc;
	int burst;      /* a burst allocation: waits until its bound, whatever comes */
	uint64_t since; /* r->delivered when it began waiting */
	uint64_t ptr;
	uint64_t until;
	uint64_t bound; /* a burst allocation's bound (the thread's next reading) */
	int free_due;   /* a burst allocation's wait past its bound: -1 not looked
	                   yet; 1 another thread frees ptr by until, 0 not */
} gm_reader_wait_t;

struct gm_reader {
	char *path;
	const unsigned char *map;
	size_t size;
	uint32_t chunk_bytes; /* from the file header; 0 = not stated */
	gm_reader_info_t info;
	gm_reader_block_t *blocks;
	size_t nblocks;
	gm_reader_stream_t *streams;
	uint32_t nstreams;
	uint32_t *heap;
	uint32_t nheap;
	uint32_t pending; /* stream to advance on the next call, or NONE */
	int complete;     /* a pass reached the end: counters are final */
	/* causal repair (see the top of this file) */
	int repair;         /* on: more than one thread, memory for the set */
	uint64_t delivered; /* events delivered in this pass */
	uint64_t latest;    /* the latest TSC delivered in this pass */
	int repair_off;     /* the set ran out of memory: off for every pass */
	uint64_t slack;     /* ticks a record may wait */
	gm_reader_ptrs_t live;
	gm_reader_wait_t *waits; /* at most one per stream */
	uint32_t nwaits;
	uint32_t ready; /* waiting stream made to apply: delivered next, or NONE */
	gm_reader_sample_t *samples;
	size_t nsamples, samples_cap;
	gm_reader_clock_t clock;
	ZSTD_DCtx *dctx;
	uint64_t *tmp; /* packed records out of a zstd frame, before unpacking */
	size_t tmp_cap;
	char error[512];
};

/* What gm_event_t.extra points at for a record with no extra units. */
static const uint64_t gm_reader_no_extra[2];

static const char *const gm_reader_type_names[gm_rec_count] = {
        [gm_rec_none] = "none",
        [gm_rec_alloc] = "alloc",
        [gm_rec_free] = "free",
        [gm_rec_realloc] = "realloc",
        [gm_rec_fail] = "fail",
        [gm_rec_time] = "time",
        [gm_rec_thread_start] = "thread_start",
        [gm_rec_thread_end] = "thread_end",
        [gm_rec_frame] = "frame",
        [gm_rec_module] = "module",
        [gm_rec_process] = "process",
        [gm_rec_clock] = "clock",
        [gm_rec_stall] = "stall",
        [gm_rec_fork] = "fork",
        [gm_rec_exec] = "exec",
        [gm_rec_exit] = "exit",
        [gm_rec_lost] = "lost",
        [gm_rec_module_unload] = "module_unload",
        [gm_rec_frame_set] = "frame_set",
        [gm_rec_sim_tick] = "tick",
        [gm_rec_frame_thread] = "frame_thread",
        [gm_rec_frame_sum] = "frame_sum",
        [gm_rec_spike] = "spike",
        [gm_rec_level] = "level",
        [gm_rec_tag_def] = "tag_def",
        [gm_rec_context] = "context",
        [gm_rec_asset_new] = "asset_new",
        [gm_rec_asset_state] = "asset_state",
        [gm_rec_asset_ref] = "asset_ref",
        [gm_rec_asset_extra] = "asset_extra",
        [gm_rec_validation] = "validation",
        [gm_rec_scene] = "scene",
        [gm_rec_pool_def] = "pool_def",
        [gm_rec_pool_resize] = "pool_resize",
        [gm_rec_pool_destroy] = "pool_destroy",
        [gm_rec_pool_frame] = "pool_frame",
        [gm_rec_gc] = "gc",
        [gm_rec_alloc_cost] = "alloc_cost",
        [gm_rec_frame_tags] = "frame_tags",
        [gm_rec_budget_node] = "budget_node",
        [gm_rec_budget_frame] = "budget_frame",
        [gm_rec_budget_violation] = "budget_violation",
        [gm_rec_budget_evict] = "budget_evict",
        [gm_rec_host] = "host",
        [gm_rec_pressure] = "pressure",
        [gm_rec_platform] = "platform",
        [gm_rec_stack] = "stack",
        [gm_rec_site] = "site",
        [gm_rec_pycode] = "pycode",
        [gm_rec_site_frames] = "site_frames",
        [gm_rec_module_id] = "module_id",
};

static const char *const gm_reader_kind_names[gm_kind_count] = {
        [gm_kind_malloc] = "malloc",
        [gm_kind_calloc] = "calloc",
        [gm_kind_realloc] = "realloc",
        [gm_kind_reallocarray] = "reallocarray",
        [gm_kind_posix_memalign] = "posix_memalign",
        [gm_kind_aligned_alloc] = "aligned_alloc",
        [gm_kind_memalign] = "memalign",
        [gm_kind_valloc] = "valloc",
        [gm_kind_pvalloc] = "pvalloc",
        [gm_kind_new] = "new",
        [gm_kind_new_array] = "new_array",
        [gm_kind_free] = "free",
        [gm_kind_delete] = "delete",
        [gm_kind_delete_array] = "delete_array",
        [gm_kind_pymalloc_arena] = "pymalloc_arena",
};

/* Name of a record type for display and JSON; "unknown" if out of range. */
const char *gm_reader_type_name(unsigned type)
{
	/* a type added to format.h before this table learns it reads "unknown" */
	return type < gm_rec_count && gm_reader_type_names[type] ? gm_reader_type_names[type] :
	                                                           "unknown";
}

/* Name of an allocation kind for display and JSON; "unknown" if out of range. */
const char *gm_reader_kind_name(unsigned kind)
{
	return kind < gm_kind_count && gm_reader_kind_names[kind] ? gm_reader_kind_names[kind] :
	                                                            "unknown";
}

/* Writes "<path>: <what>" into err for a capture that cannot be opened. */
__attribute__((format(printf, 4, 5))) static void
gm_reader_fail(char *err, size_t errlen, const char *path, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!err || errlen == 0)
		return;
	n = snprintf(err, errlen, "%s: ", path);
	if (n < 0 || (size_t)n >= errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

/* Remembers the first damage as "<path>: offset <at>: <what>". */
__attribute__((format(printf, 3, 4))) static void gm_reader_damage(gm_reader_t *r, uint64_t at,
                                                                   const char *fmt, ...)
{
	va_list ap;
	int n;

	if (r->error[0])
		return;
	r->info.damage_at = at;
	r->info.damage_at_end = 1;
	if (at + sizeof(gm_block_t) <= r->size) {
		gm_block_t bh;

		memcpy(&bh, r->map + at, sizeof(bh));
		r->info.damage_at_end = at + sizeof(bh) + bh.stored_bytes >= r->size;
	}
	n = snprintf(r->error, sizeof(r->error), "%s: offset %llu: ", r->path,
	             (unsigned long long)at);
	if (n < 0 || (size_t)n >= sizeof(r->error))
		return;
	va_start(ap, fmt);
	vsnprintf(r->error + n, sizeof(r->error) - (size_t)n, fmt, ap);
	va_end(ap);
}

static int gm_reader_sample_add(gm_reader_t *r, uint64_t tsc, uint64_t ns)
{
	if (r->nsamples == r->samples_cap) {
		size_t cap = r->samples_cap ? r->samples_cap * 2 : 16;
		gm_reader_sample_t *s = realloc(r->samples, cap * sizeof(*s));
		if (!s)
			return -ENOMEM;
		r->samples = s;
		r->samples_cap = cap;
	}
	r->samples[r->nsamples].tsc = tsc;
	r->samples[r->nsamples].ns = ns;
	r->nsamples++;
	return 0;
}

/* Checks the file header; returns the offset of the first block, or 0 with
 * err written. */
static uint64_t gm_reader_header(gm_reader_t *r, char *err, size_t errlen)
{
	gm_file_header_t h;

	if (r->size == 0) {
		gm_reader_fail(err, errlen, r->path, "empty file, not a gmtrace capture");
		return 0;
	}
	if (r->size < sizeof(h.magic) || memcmp(r->map, GM_FORMAT_MAGIC, sizeof(h.magic)) != 0) {
		gm_reader_fail(err, errlen, r->path,
		               "not a gmtrace capture (no GMTRACE magic at offset 0)");
		return 0;
	}
	if (r->size < sizeof(h)) {
		gm_reader_fail(
		        err, errlen, r->path,
		        "truncated file header at offset %zu: expected %zu bytes, file has %zu",
		        r->size, sizeof(h), r->size);
		return 0;
	}
	memcpy(&h, r->map, sizeof(h));
	if (h.version_major > GM_FORMAT_VERSION_MAJOR) {
		gm_reader_fail(err, errlen, r->path,
		               "capture is format %u.%u, this gmtrace reads up to %u.x",
		               (unsigned)h.version_major, (unsigned)h.version_minor,
		               (unsigned)GM_FORMAT_VERSION_MAJOR);
		return 0;
	}
	if (h.header_bytes < sizeof(h) || h.header_bytes > r->size) {
		gm_reader_fail(err, errlen, r->path,
		               "bad file header: header_bytes is %u, expected %zu..%zu",
		               h.header_bytes, sizeof(h), r->size);
		return 0;
	}
	r->info.pid = h.pid;
	r->info.version_major = h.version_major;
	r->info.version_minor = h.version_minor;
	r->info.created_ns = h.created_ns;
	r->info.stopped_errno = h.stopped_errno;
	memcpy(r->info.shm_name, h.shm_name, sizeof(r->info.shm_name));
	r->info.shm_name[sizeof(r->info.shm_name) - 1] = '\0';
	r->info.file_bytes = r->size;
	r->chunk_bytes = h.chunk_bytes;
	return h.header_bytes;
}

/* Whether a block whose header ends its payload at next can be left out
 * and the walk go on there: the file ends there, or another block's magic
 * starts there (a damaged payload, or a damaged field the check value does
 * not cover, leaves the stored size to trust only when the next header is
 * where it says). */
static int gm_reader_resync(const gm_reader_t *r, uint64_t next)
{
	uint32_t magic;

	if (next == r->size)
		return 1;
	if (next > r->size || r->size - next < sizeof(gm_block_t))
		return 0;
	memcpy(&magic, r->map + next, sizeof(magic));
	return magic == GM_BLOCK_MAGIC;
}

/* Walks the block headers from off. Damage in a block whose size can be
 * trusted (gm_reader_resync) leaves that block out and the walk goes on;
 * other damage stops it. The first damage is remembered. Returns 0, or
 * -ENOMEM. */
static int gm_reader_index(gm_reader_t *r, uint64_t off)
{
	uint32_t chunk_bytes = r->chunk_bytes;
	size_t cap = 0;
	int header_checks = r->info.version_major > 3 ||
	                    (r->info.version_major == 3 && r->info.version_minor >= 3);

/* a block left out past the check of its stored size: the walk goes on
 * after it when it can */
#define GM_READER_SKIP()                                             \
	{                                                            \
		uint64_t next_ = off + sizeof(bh) + bh.stored_bytes; \
		if (!gm_reader_resync(r, next_))                     \
			break;                                       \
		r->info.skipped_blocks++;                            \
		off = next_;                                         \
		continue;                                            \
	}

	while (off < r->size) {
		uint64_t left = r->size - off;
		const unsigned char *payload;
		gm_block_t bh;
		uint32_t check;

		if (left < sizeof(bh)) {
			gm_reader_damage(r, off,
			                 "truncated block header: expected %zu bytes, %llu left",
			                 sizeof(bh), (unsigned long long)left);
			break;
		}
		memcpy(&bh, r->map + off, sizeof(bh));
		if (bh.magic != GM_BLOCK_MAGIC) {
			gm_reader_damage(r, off, "bad block magic 0x%08x, expected 0x%08x",
			                 bh.magic, GM_BLOCK_MAGIC);
			break;
		}
		/* the header's own check (3.3 on; 0 when not written): a header
		 * that fails it is left out whole, as its fields (thread, sizes)
		 * are not to be trusted, when its size still leads to a block or
		 * the end */
		if (header_checks && bh.header_check &&
		    bh.header_check != gm_format_header_check(&bh)) {
			gm_reader_damage(r, off,
			                 "bad block header check: header says 0x%llx, its fields "
			                 "give 0x%llx",
			                 (unsigned long long)bh.header_check,
			                 (unsigned long long)gm_format_header_check(&bh));
			if (bh.stored_bytes <= left - sizeof(bh))
				GM_READER_SKIP();
			break;
		}
		if (bh.kind < gm_block_raw || bh.kind >= gm_block_kind_count) {
			gm_reader_damage(r, off, "unknown block kind %u", (unsigned)bh.kind);
			break;
		}
		left -= sizeof(bh);
		if (bh.stored_bytes > left) {
			gm_reader_damage(r, off,
			                 "truncated block: expected %u payload bytes, %llu left",
			                 bh.stored_bytes, (unsigned long long)left);
			break;
		}
		payload = r->map + off + sizeof(bh);
		check = gm_format_check(payload, bh.stored_bytes);
		if (check != bh.check) {
			gm_reader_damage(r, off,
			                 "bad check value: block says 0x%08x, payload gives 0x%08x",
			                 bh.check, check);
			GM_READER_SKIP();
		}
		if (bh.kind == gm_block_clock) {
			uint64_t v[2];

			if (bh.stored_bytes != sizeof(v)) {
				gm_reader_damage(r, off, "clock block of %u bytes, expected %zu",
				                 bh.stored_bytes, sizeof(v));
				GM_READER_SKIP();
			}
			memcpy(v, payload, sizeof(v));
			if (gm_reader_sample_add(r, v[0], v[1]) < 0)
				return -ENOMEM;
			r->info.nblocks++;
			off += sizeof(bh) + bh.stored_bytes;
			continue;
		}
		if (bh.kind == gm_block_raw && bh.raw_bytes != bh.stored_bytes) {
			gm_reader_damage(r, off, "raw block stores %u bytes but says it holds %u",
			                 bh.stored_bytes, bh.raw_bytes);
			GM_READER_SKIP();
		}
		if (bh.raw_bytes % GM_REC_UNIT != 0) {
			gm_reader_damage(r, off, "records of %u bytes, not a multiple of %u",
			                 bh.raw_bytes, GM_REC_UNIT);
			GM_READER_SKIP();
		}
		/* no records, yet a payload: the size was damaged (the check
		 * value covers the payload, not the header); a zstd frame of
		 * nothing is the one payload an empty block may have */
		if (bh.raw_bytes == 0 && bh.stored_bytes > 0 &&
		    ((bh.kind != gm_block_zstd && bh.kind != gm_block_packed_zstd &&
		      bh.kind != gm_block_packed2_zstd) ||
		     ZSTD_getFrameContentSize(payload, bh.stored_bytes) != 0)) {
			gm_reader_damage(r, off, "block of no records stores %u bytes",
			                 bh.stored_bytes);
			GM_READER_SKIP();
		}
		if (bh.thread >= GM_READER_MAX_THREADS) {
			gm_reader_damage(r, off, "thread index %u out of range (max %u)", bh.thread,
			                 GM_READER_MAX_THREADS - 1);
			GM_READER_SKIP();
		}
		if (chunk_bytes && (uint64_t)bh.offset + bh.raw_bytes > chunk_bytes) {
			gm_reader_damage(r, off,
			                 "block covers chunk bytes %u..%llu, chunks are %u bytes",
			                 bh.offset, (unsigned long long)bh.offset + bh.raw_bytes,
			                 chunk_bytes);
			GM_READER_SKIP();
		}
		r->info.nblocks++;
		if (bh.raw_bytes > 0) {
			gm_reader_block_t *b;

			if (r->nblocks == cap) {
				size_t ncap = cap ? cap * 2 : 64;
				b = realloc(r->blocks, ncap * sizeof(*b));
				if (!b)
					return -ENOMEM;
				r->blocks = b;
				cap = ncap;
			}
			b = &r->blocks[r->nblocks++];
			memset(b, 0, sizeof(*b));
			b->at = off;
			b->payload = off + sizeof(bh);
			b->tsc_base = bh.tsc_base;
			b->thread = bh.thread;
			b->seq = bh.seq;
			b->offset = bh.offset;
			b->raw_bytes = bh.raw_bytes;
			b->stored_bytes = bh.stored_bytes;
			b->kind = bh.kind;
			if (bh.thread + 1 > r->info.nthreads)
				r->info.nthreads = bh.thread + 1;
		}
		off += sizeof(bh) + bh.stored_bytes;
	}
#undef GM_READER_SKIP
	return 0;
}

/* Order: thread, seq, offset, longer block first, then file position. */
static int gm_reader_block_cmp(const void *pa, const void *pb)
{
	const gm_reader_block_t *a = pa, *b = pb;

	if (a->thread != b->thread)
		return a->thread < b->thread ? -1 : 1;
	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	if (a->offset != b->offset)
		return a->offset < b->offset ? -1 : 1;
	if (a->raw_bytes != b->raw_bytes)
		return a->raw_bytes > b->raw_bytes ? -1 : 1;
	if (a->at != b->at)
		return a->at < b->at ? -1 : 1;
	return 0;
}

/* Sorts the blocks, drops ranges already covered and splits them into
 * streams. Returns 0, or -ENOMEM. */
static int gm_reader_order(gm_reader_t *r)
{
	size_t i, kept = 0;
	uint32_t seq = 0;
	uint64_t hi = 0;
	int have = 0;

	if (r->nblocks > 1)
		qsort(r->blocks, r->nblocks, sizeof(*r->blocks), gm_reader_block_cmp);
	for (i = 0; i < r->nblocks; i++) {
		gm_reader_block_t b = r->blocks[i];
		uint64_t end = (uint64_t)b.offset + b.raw_bytes;

		if (!have || b.thread != r->blocks[kept - 1].thread || b.seq != seq) {
			have = 1;
			seq = b.seq;
			hi = end;
		} else if (end <= hi) {
			continue; /* every byte already delivered by an earlier block */
		} else {
			if (b.offset < hi)
				b.skip = (uint32_t)(hi - b.offset);
			hi = end;
		}
		r->info.records_bytes += b.raw_bytes - b.skip;
		r->blocks[kept++] = b;
	}
	r->nblocks = kept;

	r->nstreams = r->info.nthreads;
	if (r->nstreams == 0)
		return 0;
	r->streams = calloc(r->nstreams, sizeof(*r->streams));
	r->heap = calloc(r->nstreams, sizeof(*r->heap));
	r->waits = calloc(r->nstreams, sizeof(*r->waits));
	if (!r->streams || !r->heap || !r->waits)
		return -ENOMEM;
	for (i = 0; i < r->nblocks;) {
		gm_reader_stream_t *s = &r->streams[r->blocks[i].thread];
		size_t j = i;

		while (j < r->nblocks && r->blocks[j].thread == r->blocks[i].thread)
			j++;
		s->first = i;
		s->end = j;
		i = j;
	}
	return 0;
}

/* Makes room for n bytes in a stream's decode buffer. Returns 0 or -ENOMEM. */
static int gm_reader_reserve(uint64_t **buf, size_t *cap, size_t n)
{
	uint64_t *p;

	if (n <= *cap)
		return 0;
	p = realloc(*buf, n);
	if (!p)
		return -ENOMEM;
	*buf = p;
	*cap = n;
	return 0;
}

/* Damage found decoding a block: noted when note is set (a stream loading
 * it), not when a look-ahead reads it early (the stream notes it when it
 * gets there). */
#define GM_READER_DECODE_FAIL(...)                               \
	do {                                                     \
		if (note)                                        \
			gm_reader_damage(r, b->at, __VA_ARGS__); \
		return NULL;                                     \
	} while (0)

/* Block b's records as words: in place (raw, 8-byte aligned) or decoded
 * into *buf (of *cap bytes, grown as needed). NULL when the block is
 * damaged or memory runs out. */
static const uint64_t *gm_reader_decode(gm_reader_t *r, const gm_reader_block_t *b, uint64_t **buf,
                                        size_t *cap, int note)
{
	const unsigned char *payload = r->map + b->payload;

	if (b->skip % GM_REC_UNIT != 0)
		GM_READER_DECODE_FAIL(
		        "block overlaps an earlier one by %u bytes, not whole records", b->skip);
	if (b->kind == gm_block_raw) {
		if (((uintptr_t)payload & (sizeof(uint64_t) - 1)) == 0)
			return (const uint64_t *)(const void *)payload;
		if (gm_reader_reserve(buf, cap, b->raw_bytes) < 0)
			goto nomem;
		memcpy(*buf, payload, b->raw_bytes);
		return *buf;
	}
	if (b->kind == gm_block_packed || b->kind == gm_block_packed2) {
		gm_unpack_fn unpack = gm_unpack_for(b->kind);
		if (gm_reader_reserve(buf, cap, b->raw_bytes) < 0)
			goto nomem;
		if (unpack(payload, b->stored_bytes, *buf, b->raw_bytes) != 0)
			GM_READER_DECODE_FAIL("packed block does not unpack to %u bytes of records",
			                      b->raw_bytes);
		return *buf;
	}
	{
		unsigned long long want = ZSTD_getFrameContentSize(payload, b->stored_bytes);
		gm_unpack_fn unpack = gm_unpack_for(b->kind); /* NULL: zstd over raw records */
		int packed = unpack != NULL;
		size_t n, zcap = packed ? (size_t)want : b->raw_bytes;
		void *dst;

		if (want == ZSTD_CONTENTSIZE_ERROR)
			GM_READER_DECODE_FAIL("bad zstd frame: not a zstd frame header");
		if (packed && (want == ZSTD_CONTENTSIZE_UNKNOWN ||
		               want > (unsigned long long)b->raw_bytes + b->raw_bytes / 4 + 16))
			GM_READER_DECODE_FAIL(
			        "zstd frame of packed records: size %llu for %u bytes", want,
			        b->raw_bytes);
		if (!packed && want != ZSTD_CONTENTSIZE_UNKNOWN && want != b->raw_bytes)
			GM_READER_DECODE_FAIL("zstd frame holds %llu bytes, block says %u", want,
			                      b->raw_bytes);
		if (gm_reader_reserve(buf, cap, b->raw_bytes) < 0)
			goto nomem;
		if (packed) {
			if (gm_reader_reserve(&r->tmp, &r->tmp_cap, zcap) < 0)
				goto nomem;
			dst = r->tmp;
		} else {
			dst = *buf;
		}
		if (!r->dctx && !(r->dctx = ZSTD_createDCtx()))
			goto nomem;
		n = ZSTD_decompressDCtx(r->dctx, dst, zcap, payload, b->stored_bytes);
		if (ZSTD_isError(n))
			GM_READER_DECODE_FAIL("bad zstd frame: %s", ZSTD_getErrorName(n));
		if (n != zcap)
			GM_READER_DECODE_FAIL("zstd frame holds %zu bytes, block says %zu", n,
			                      zcap);
		if (packed && unpack(r->tmp, n, *buf, b->raw_bytes) != 0)
			GM_READER_DECODE_FAIL("packed block does not unpack to %u bytes of records",
			                      b->raw_bytes);
		return *buf;
	}
nomem:
	GM_READER_DECODE_FAIL("out of memory decoding a block of %u bytes", b->raw_bytes);
}

#undef GM_READER_DECODE_FAIL

/* Loads a stream's next block: the one a look-ahead decoded already, or
 * decoded now. Returns 0, or -1 after noting the damage. */
static int gm_reader_load(gm_reader_t *r, gm_reader_stream_t *s)
{
	const gm_reader_block_t *b = &r->blocks[s->next];

	if (s->peek_block == s->next + 1) {
		/* take the decoded block over; its buffer becomes the next peek's */
		uint64_t *buf = s->buf;
		size_t cap = s->cap;

		s->w = s->peek_w;
		s->buf = s->peek_buf;
		s->cap = s->peek_cap;
		s->peek_buf = buf;
		s->peek_cap = cap;
	} else {
		s->w = gm_reader_decode(r, b, &s->buf, &s->cap, 1);
	}
	s->peek_block = 0;
	s->next++;
	if (!s->w)
		return -1;
	s->nw = b->raw_bytes / sizeof(uint64_t);
	s->pos = 0;
	s->skipw = b->skip / sizeof(uint64_t);
	s->prev = b->tsc_base;
	/* a block's first record never counts as carrying the reading before
	 * it: the record before, at the end of the block before, may have been
	 * a time record (a drainer's prefix of a chunk can end right after one,
	 * and the next record carries the same TSC) */
	s->prev_time = 1;
	s->at = b->at;
	return 0;
}

/* The records of stream s's next block, decoded ahead for a look-ahead,
 * or NULL (no next block, damage, no memory: a look-ahead just stops). */
static const uint64_t *gm_reader_peek(gm_reader_t *r, gm_reader_stream_t *s)
{
	const uint64_t *w;

	if (s->next >= s->end)
		return NULL;
	if (s->peek_block == s->next + 1)
		return s->peek_w;
	s->peek_block = 0;
	if (!(w = gm_reader_decode(r, &r->blocks[s->next], &s->peek_buf, &s->peek_cap, 0)))
		return NULL;
	s->peek_w = w;
	s->peek_block = s->next + 1;
	return w;
}

/* Checks the fixed units and string lengths of known variable-length
 * records. Returns 0, or -1 after noting the damage. */
static int gm_reader_check(gm_reader_t *r, gm_reader_stream_t *s, const uint64_t *p, unsigned units,
                           size_t at)
{
	unsigned type = gm_rec_type(p[0]);
	uint64_t room, need;
	unsigned fixed;

	switch (type) {
	case gm_rec_clock:
		fixed = 2;
		need = 0;
		break;
	case gm_rec_frame_thread:
	case gm_rec_spike:
		fixed = 4;
		need = 0;
		break;
	case gm_rec_frame_sum:
		fixed = 5;
		need = 0;
		break;
	case gm_rec_pool_frame:
		fixed = 4;
		need = 0;
		break;
	case gm_rec_gc:
		fixed = 2;
		need = 0;
		break;
	case gm_rec_pool_def:
		fixed = 2;
		need = gm_rec_b(p[1]);
		break;
	case gm_rec_budget_node:
		fixed = 4;
		need = gm_rec_b(p[1]);
		break;
	case gm_rec_budget_frame:
		fixed = 2;
		need = 0;
		break;
	case gm_rec_budget_violation:
		fixed = 4;
		need = 0;
		break;
	case gm_rec_budget_evict:
		fixed = 3;
		need = 0;
		break;
	case gm_rec_host:
		fixed = 6;
		need = 0;
		break;
	case gm_rec_pressure:
		fixed = 4;
		need = 0;
		break;
	case gm_rec_platform:
		fixed = 1;
		need = gm_rec_b(p[1]);
		break;
	case gm_rec_stack: /* b frames of 8 bytes; at least one */
	case gm_rec_site_frames:
		if (gm_rec_b(p[1]) == 0 || gm_rec_b(p[1]) > (uint64_t)(units - 1) * 2) {
			gm_reader_damage(r, s->at,
			                 "%s record at byte %zu says %llu frames, has room for %u",
			                 gm_reader_type_name(type), at * sizeof(uint64_t),
			                 (unsigned long long)gm_rec_b(p[1]), (units - 1) * 2);
			return -1;
		}
		return 0;
	case gm_rec_pycode: /* b bytes: [first line, name bytes] name file */
		if (gm_rec_b(p[1]) < 8 || (units >= 2 && (p[2] >> 32) > gm_rec_b(p[1]) - 8)) {
			gm_reader_damage(r, s->at,
			                 "pycode record at byte %zu has %llu bytes, too few for "
			                 "its first line and a name of %llu bytes",
			                 at * sizeof(uint64_t), (unsigned long long)gm_rec_b(p[1]),
			                 (unsigned long long)(units >= 2 ? p[2] >> 32 : 0));
			return -1;
		}
		fixed = 1;
		need = gm_rec_b(p[1]);
		break;
	case gm_rec_tag_def:
	case gm_rec_scene:
	case gm_rec_module_id:
		fixed = 1;
		need = gm_rec_b(p[1]);
		break;
	case gm_rec_asset_new:
		fixed = 1;
		need = (gm_rec_b(p[1]) & 0xffff) + 1 + (gm_rec_b(p[1]) >> 16);
		break;
	case gm_rec_thread_start:
	case gm_rec_frame_set:
		fixed = 1;
		need = gm_rec_b(p[1]);
		break;
	case gm_rec_module:
		fixed = 2;
		need = units >= 2 ? gm_rec_a(p[0]) : 0;
		break;
	case gm_rec_process:
		fixed = 4;
		need = 0;
		if (units >= 4) /* +3 unit: exe bytes, argv bytes */
			need = p[7] > UINT64_MAX - p[6] ? UINT64_MAX : p[6] + p[7];
		break;
	default:
		return 0;
	}
	if (units < fixed) {
		gm_reader_damage(r, s->at, "%s record at byte %zu has %u units, needs at least %u",
		                 gm_reader_type_name(type), at * sizeof(uint64_t), units, fixed);
		return -1;
	}
	room = (uint64_t)(units - fixed) * GM_REC_UNIT;
	if (need > room) {
		gm_reader_damage(r, s->at,
		                 "%s record at byte %zu says %llu string bytes, has room for %llu",
		                 gm_reader_type_name(type), at * sizeof(uint64_t),
		                 (unsigned long long)need, (unsigned long long)room);
		return -1;
	}
	return 0;
}

/* Counts a delivered record that carries its thread's previous reading
 * (reused), and when a reading of its own ends such records, those whose
 * reading came more than the repair's slack (1 us) before it. */
static void gm_reader_burst(gm_reader_t *r, gm_reader_stream_t *s, int reused, uint64_t tsc)
{
	if (r->complete)
		return;
	if (reused) {
		r->info.burst_records++;
		if (s->burst_n++ == 0)
			s->burst_tsc = tsc;
	} else if (s->burst_n) {
		if (tsc - s->burst_tsc > r->slack)
			r->info.burst_over_us += s->burst_n;
		s->burst_n = 0;
	}
}

/* Moves a stream to its next deliverable record. Returns 1 with the head
 * set, or 0 when the stream has ended (cleanly or at damage). */
static int gm_reader_advance(gm_reader_t *r, gm_reader_stream_t *s)
{
	while (!s->done) {
		const uint64_t *p;
		unsigned type, units;
		uint64_t tsc;
		size_t at;
		int reused;

		if (!s->w || s->pos >= s->nw) {
			if (s->next >= s->end || gm_reader_load(r, s) < 0)
				s->done = 1;
			continue;
		}
		at = s->pos;
		p = s->w + at;
		type = gm_rec_type(p[0]);
		if (type == gm_rec_none) {
			gm_reader_damage(r, s->at,
			                 "record of type 0 at byte %zu of a %zu-byte block",
			                 at * sizeof(uint64_t), s->nw * sizeof(uint64_t));
			s->done = 1;
			break;
		}
		units = gm_rec_units(p[0]);
		if ((size_t)units * 2 > s->nw - at) {
			gm_reader_damage(
			        r, s->at,
			        "%s record at byte %zu needs %u bytes, %zu left in the block",
			        gm_reader_type_name(type), at * sizeof(uint64_t),
			        units * GM_REC_UNIT, (s->nw - at) * sizeof(uint64_t));
			s->done = 1;
			break;
		}
		s->pos += (size_t)units * 2;
		tsc = gm_rec_tsc_rebuild(s->prev, gm_rec_tick(p[1]));
		if (type == gm_rec_time) {
			if (units < 2) {
				gm_reader_damage(r, s->at,
				                 "time record at byte %zu has no TSC unit",
				                 at * sizeof(uint64_t));
				s->done = 1;
				break;
			}
			tsc = p[2];
		}
		reused = type == gm_rec_alloc && tsc == s->prev && !s->prev_time;
		s->prev = tsc;
		s->prev_time = type == gm_rec_time;
		if (at < s->skipw) {
			if (s->pos > s->skipw) {
				gm_reader_damage(r, s->at,
				                 "overlap with an earlier block ends inside the "
				                 "record at byte %zu",
				                 at * sizeof(uint64_t));
				s->done = 1;
				break;
			}
			continue; /* delivered from an earlier copy of these bytes */
		}
		if (type == gm_rec_time)
			continue;
		if (type >= gm_rec_count) {
			if (!r->complete)
				r->info.unknown_records++;
			continue;
		}
		if (gm_reader_check(r, s, p, units, at) < 0) {
			s->done = 1;
			break;
		}
		gm_reader_burst(r, s, reused, tsc);
		if (type == gm_rec_lost && !r->complete)
			r->info.records_lost += gm_rec_a(p[0]);
		s->w0 = p[0];
		s->w1 = p[1];
		s->tsc = tsc;
		s->reused = reused;
		/* never NULL: a record with no extra units (an empty name) gives
		 * consumers a pointer they may copy 0 bytes from */
		s->extra = units > 1 ? p + 2 : gm_reader_no_extra;
		s->nextra = units - 1;
		s->head_at = s->at;
		return 1;
	}
	if (s->burst_n && !r->complete) /* no reading after them: no bound */
		r->info.burst_over_us += s->burst_n;
	s->burst_n = 0;
	return 0;
}

static int gm_reader_heap_less(const gm_reader_t *r, uint32_t a, uint32_t b)
{
	uint64_t ta = r->streams[a].tsc, tb = r->streams[b].tsc;

	return ta != tb ? ta < tb : a < b;
}

static void gm_reader_heap_push(gm_reader_t *r, uint32_t t)
{
	uint32_t i = r->nheap++;

	while (i > 0) {
		uint32_t up = (i - 1) / 2;

		if (!gm_reader_heap_less(r, t, r->heap[up]))
			break;
		r->heap[i] = r->heap[up];
		i = up;
	}
	r->heap[i] = t;
}

static uint32_t gm_reader_heap_pop(gm_reader_t *r)
{
	uint32_t top = r->heap[0], last = r->heap[--r->nheap], i = 0;

	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= r->nheap)
			break;
		if (c + 1 < r->nheap && gm_reader_heap_less(r, r->heap[c + 1], r->heap[c]))
			c++;
		if (!gm_reader_heap_less(r, r->heap[c], last))
			break;
		r->heap[i] = r->heap[c];
		i = c;
	}
	if (r->nheap > 0)
		r->heap[i] = last;
	return top;
}

/* Rewind to the first event (for reports that need two passes). Counters
 * (records_lost, unknown_records) are kept once a pass has completed. */
void gm_reader_rewind(gm_reader_t *r)
{
	uint32_t t;

	r->nheap = 0;
	r->pending = GM_READER_NONE;
	r->ready = GM_READER_NONE;
	r->nwaits = 0;
	r->delivered = 0;
	r->latest = 0;
	r->repair = r->nstreams > 1 && !r->repair_off;
	r->live.n = 0;
	if (r->live.cap)
		memset(r->live.slot, 0, r->live.cap * sizeof(*r->live.slot));
	if (!r->complete) {
		r->info.records_lost = 0;
		r->info.unknown_records = 0;
		r->info.reordered = 0;
		r->info.burst_records = 0;
		r->info.burst_over_us = 0;
	}
	for (t = 0; t < r->nstreams; t++) {
		gm_reader_stream_t *s = &r->streams[t];

		s->next = s->first;
		s->w = NULL;
		s->nw = s->pos = s->skipw = 0;
		s->done = 0;
		s->burst_n = 0;
		if (gm_reader_advance(r, s))
			gm_reader_heap_push(r, t);
	}
}

/* Finds the process record in the block each stream has loaded (its first)
 * and adds its (TSC, ns) pair as a clock sample. Returns the tick rate it
 * names (0 if unknown or absent). */
static uint64_t gm_reader_process_clock(gm_reader_t *r)
{
	uint32_t t;

	for (t = 0; t < r->nstreams; t++) {
		const gm_reader_stream_t *s = &r->streams[t];
		size_t pos = 0;

		if (!s->w || s->next != s->first + 1)
			continue;
		while (pos + 2 <= s->nw) {
			const uint64_t *p = s->w + pos;
			unsigned units = gm_rec_units(p[0]);

			if (gm_rec_type(p[0]) == gm_rec_none || (size_t)units * 2 > s->nw - pos)
				break;
			if (gm_rec_type(p[0]) == gm_rec_process && units >= 4) {
				/* units: +1 realtime, monotonic; +2 TSC, Hz */
				if ((p[4] || p[3]) && gm_reader_sample_add(r, p[4], p[3]) < 0)
					return 0;
				return p[5];
			}
			pos += (size_t)units * 2;
		}
	}
	return 0;
}

/* Chooses the TSC -> ns mapping from the samples (see reader.h). */
static void gm_reader_clock_fit(gm_reader_t *r, uint64_t hz)
{
	const gm_reader_sample_t *lo = NULL, *hi = NULL;
	size_t i;

	for (i = 0; i < r->nsamples; i++) {
		const gm_reader_sample_t *s = &r->samples[i];

		if (!lo || s->tsc < lo->tsc)
			lo = s;
		if (!hi || s->tsc > hi->tsc)
			hi = s;
	}
	memset(&r->clock, 0, sizeof(r->clock));
	r->info.tsc_hz = 0;
	if (lo && hi->tsc > lo->tsc && hi->ns > lo->ns) {
		r->clock.tsc0 = lo->tsc;
		r->clock.ns0 = lo->ns;
		r->clock.num = hi->ns - lo->ns;
		r->clock.den = hi->tsc - lo->tsc;
		r->info.tsc_hz = (double)r->clock.den * 1e9 / (double)r->clock.num;
	} else if (lo && hz > 0) {
		r->clock.tsc0 = lo->tsc;
		r->clock.ns0 = lo->ns;
		r->clock.num = 1000000000u;
		r->clock.den = hz;
		r->info.tsc_hz = (double)hz;
	}
}

static uint64_t gm_reader_ns(const gm_reader_t *r, uint64_t tsc)
{
	const gm_reader_clock_t *c = &r->clock;
	__int128 d, ns;

	if (c->den == 0)
		return tsc;
	d = (__int128)tsc - (__int128)c->tsc0;
	ns = (__int128)c->ns0 + d * (__int128)c->num / (__int128)c->den;
	if (ns < 0)
		return 0;
	if (ns > (__int128)UINT64_MAX)
		return UINT64_MAX;
	return (uint64_t)ns;
}

/* Open and index a capture (see reader.h). Returns a reader, or NULL with a
 * one-line "<path>: <what>" in err. */
gm_reader_t *gm_reader_open(const char *path, char *err, size_t errlen)
{
	gm_reader_t *r;
	struct stat st;
	uint64_t off, hz;
	int fd;

	if (err && errlen)
		err[0] = '\0';
	r = calloc(1, sizeof(*r));
	if (!r || !(r->path = strdup(path))) {
		gm_reader_fail(err, errlen, path, "out of memory");
		goto err;
	}
	r->pending = GM_READER_NONE;
	/* non-blocking: a FIFO is refused below, not waited on */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		gm_reader_fail(err, errlen, path, "%s", strerror(errno));
		goto err;
	}
	if (fstat(fd, &st) < 0) {
		gm_reader_fail(err, errlen, path, "%s", strerror(errno));
		close(fd);
		goto err;
	}
	if (!S_ISREG(st.st_mode)) {
		gm_reader_fail(err, errlen, path, "%s",
		               S_ISDIR(st.st_mode) ? "is a directory, not a capture file" :
		                                     "not a regular file");
		close(fd);
		goto err;
	}
	r->size = (size_t)st.st_size;
	if (r->size > 0) {
		void *m = mmap(NULL, r->size, PROT_READ, MAP_PRIVATE, fd, 0);

		if (m == MAP_FAILED) {
			gm_reader_fail(err, errlen, path, "cannot map: %s", strerror(errno));
			close(fd);
			r->size = 0;
			goto err;
		}
		r->map = m;
	}
	close(fd);

	off = gm_reader_header(r, err, errlen);
	if (off == 0)
		goto err;
	if (gm_reader_index(r, off) < 0 || gm_reader_order(r) < 0) {
		gm_reader_fail(err, errlen, path, "out of memory indexing the capture");
		goto err;
	}
	gm_reader_rewind(r);
	hz = gm_reader_process_clock(r);
	gm_reader_clock_fit(r, hz);
	{
		double slack = r->info.tsc_hz * GM_READER_SLACK_NS / 1e9;

		r->slack = !(r->info.tsc_hz > 0)       ? GM_READER_SLACK_TICKS :
		           slack < GM_READER_SLACK_MAX ? (uint64_t)slack :
		                                         GM_READER_SLACK_MAX;
	}
	return r;
err:
	gm_reader_free(r);
	return NULL;
}

/* ---- causal repair ---------------------------------------------------- */

static size_t gm_reader_ptrs_home(const gm_reader_ptrs_t *p, uint64_t ptr)
{
	return (size_t)((ptr >> 4) * 0x9e3779b97f4a7c15ull >> 17) & (p->cap - 1);
}

/* The slot holding ptr, or the empty slot where it would go. */
static size_t gm_reader_ptrs_find(const gm_reader_ptrs_t *p, uint64_t ptr)
{
	size_t i = gm_reader_ptrs_home(p, ptr);

	while (p->slot[i] != 0 && p->slot[i] != ptr)
		i = (i + 1) & (p->cap - 1);
	return i;
}

static int gm_reader_ptrs_has(const gm_reader_ptrs_t *p, uint64_t ptr)
{
	return p->cap && p->slot[gm_reader_ptrs_find(p, ptr)] == ptr;
}

/* Adds ptr (non-zero). Returns 0, or -ENOMEM with the set unchanged. */
static int gm_reader_ptrs_add(gm_reader_ptrs_t *p, uint64_t ptr)
{
	size_t i;

	if ((p->n + 1) * 2 > p->cap) {
		gm_reader_ptrs_t big = {.cap = p->cap ? p->cap * 2 : 1024};

		big.slot = calloc(big.cap, sizeof(*big.slot));
		if (!big.slot)
			return -ENOMEM;
		for (i = 0; i < p->cap; i++)
			if (p->slot[i])
				big.slot[gm_reader_ptrs_find(&big, p->slot[i])] = p->slot[i];
		big.n = p->n;
		free(p->slot);
		*p = big;
	}
	i = gm_reader_ptrs_find(p, ptr);
	if (p->slot[i] == 0) {
		p->slot[i] = ptr;
		p->n++;
	}
	return 0;
}

/* Removes ptr if present, moving back the entries probing past its slot. */
static void gm_reader_ptrs_remove(gm_reader_ptrs_t *p, uint64_t ptr)
{
	size_t i, j, mask = p->cap - 1;

	if (!p->cap || p->slot[i = gm_reader_ptrs_find(p, ptr)] != ptr)
		return;
	p->n--;
	for (j = (i + 1) & mask; p->slot[j] != 0; j = (j + 1) & mask) {
		size_t h = gm_reader_ptrs_home(p, p->slot[j]);

		/* the entry at j may move to i if its home is not in (i, j] */
		if (((j - h) & mask) >= ((j - i) & mask)) {
			p->slot[i] = p->slot[j];
			i = j;
		}
	}
	p->slot[i] = 0;
}

/* A record's effect on addresses (w0, its extra words, units): *freed
 * (0: none) stops being live, then *made (0: none) becomes live; a realloc
 * in place has both equal. */
static void gm_reader_effect(uint64_t w0, const uint64_t *extra, unsigned units, uint64_t *freed,
                             uint64_t *made)
{
	unsigned type = gm_rec_type(w0);

	*freed = *made = 0;
	if (type == gm_rec_alloc || type == gm_rec_realloc)
		*made = gm_rec_a(w0);
	if (type == gm_rec_free)
		*freed = gm_rec_a(w0);
	else if (type == gm_rec_realloc && units >= 2)
		*freed = extra[0];
}

/* Whether a record of those effects is what a wait for ptr needs: an
 * allocation of ptr (want_alloc: an alloc or realloc result), or a free of
 * it (a free, or a realloc moving away from it). */
static int gm_reader_wanted(uint64_t freed, uint64_t made, int want_alloc, uint64_t ptr)
{
	return want_alloc ? made == ptr : freed == ptr && made != ptr;
}

/* A walk over a stream's records from its head on, through the rest of its
 * loaded block and its next block (decoded ahead, gm_reader_peek; records
 * further on are not looked at), time records skipped. */
typedef struct gm_reader_scan {
	gm_reader_stream_t *s;
	const uint64_t *w, *extra;
	uint64_t w0, tsc, prev;
	size_t at, nw, skipw;
	unsigned units;
	int crossed;
} gm_reader_scan_t;

static void gm_reader_scan_begin(gm_reader_scan_t *it, gm_reader_stream_t *s)
{
	it->s = s;
	it->w0 = s->w0;
	it->tsc = it->prev = s->tsc;
	it->extra = s->extra;
	it->units = s->nextra + 1;
	it->w = s->w;
	it->at = s->pos;
	it->nw = s->nw;
	it->skipw = s->skipw;
	it->crossed = 0;
}

/* Moves to the next record: 1, or 0 past what can be looked at (or at
 * damage, which gm_reader_advance reports). */
static int gm_reader_scan_next(gm_reader_t *r, gm_reader_scan_t *it)
{
	for (;;) {
		const uint64_t *q;
		unsigned type, units;

		if (!it->w)
			return 0;
		if (it->at >= it->nw) {
			const gm_reader_block_t *b;

			if (it->crossed || !(it->w = gm_reader_peek(r, it->s)))
				return 0;
			b = &r->blocks[it->s->next];
			it->crossed = 1;
			it->nw = b->raw_bytes / sizeof(uint64_t);
			it->skipw = b->skip / sizeof(uint64_t);
			it->prev = b->tsc_base;
			it->at = 0;
			continue;
		}
		q = it->w + it->at;
		type = gm_rec_type(q[0]);
		units = gm_rec_units(q[0]);
		if (type == gm_rec_none || (size_t)units * 2 > it->nw - it->at)
			return 0;
		it->tsc = type == gm_rec_time && units >= 2 ?
		                  q[2] :
		                  gm_rec_tsc_rebuild(it->prev, gm_rec_tick(q[1]));
		it->prev = it->tsc;
		it->at += (size_t)units * 2;
		if (type != gm_rec_time && it->at - (size_t)units * 2 >= it->skipw) {
			it->w0 = q[0];
			it->extra = q + 2;
			it->units = units;
			return 1;
		}
	}
}

/* Whether stream s, after its head, allocates ptr again by TSC limit,
 * before it frees ptr. */
static int gm_reader_makes_again(gm_reader_t *r, gm_reader_stream_t *s, uint64_t ptr,
                                 uint64_t limit)
{
	gm_reader_scan_t it;
	uint64_t freed, made;

	gm_reader_scan_begin(&it, s);
	while (gm_reader_scan_next(r, &it) && it.tsc <= limit) {
		gm_reader_effect(it.w0, it.extra, it.units, &freed, &made);
		if (gm_reader_wanted(freed, made, 1, ptr))
			return 1;
		if (gm_reader_wanted(freed, made, 0, ptr))
			return 0;
	}
	return 0;
}

/* Whether stream s (another thread's) holds the record that stream t's
 * wait for ptr needs, by TSC until, among the records gm_reader_scan_next
 * reaches:
 *  - for an allocation of ptr: one that s does not free itself further
 *    on, before it allocates ptr again (a block its own thread frees was
 *    not the one the waiting thread freed: that free matched nothing),
 *    unless t allocates ptr again before that free (by TSC, within the
 *    slack): a block handed back and forth between threads, its address
 *    reused (thread t frees what s allocated, allocates the same address
 *    anew and hands that to s, which frees it). The slack is needed (the
 *    two threads' readings are out of order both ways in such a game), and
 *    costs this: a t whose free matched nothing (a block from before
 *    recording) and that gets the address back within the slack after s
 *    freed it is taken for the hand-over, its free matching s's block and
 *    s's free its new one (analysis/README.md, "Order");
 *  - for a free of ptr: one that comes before any allocation of ptr by s
 *    (a free of a block s allocated after is not the one that was due). */
static int gm_reader_look_stream(gm_reader_t *r, gm_reader_stream_t *s, uint32_t t, int want_alloc,
                                 uint64_t ptr, uint64_t until)
{
	gm_reader_scan_t it;
	uint64_t freed, made;
	int found = 0;

	gm_reader_scan_begin(&it, s);
	do {
		int makes, frees;

		gm_reader_effect(it.w0, it.extra, it.units, &freed, &made);
		makes = gm_reader_wanted(freed, made, 1, ptr);
		frees = gm_reader_wanted(freed, made, 0, ptr);

		if (found) {
			/* (an own free past the slack says nothing: the waiting
			 * free came between, and the allocation is the only one
			 * it can be of) */
			if (frees)
				return it.tsc > until ||
				       gm_reader_makes_again(r, &r->streams[t], ptr,
				                             it.tsc + r->slack);
			if (makes)
				return 1;
		} else if (it.tsc > until) {
			return 0;
		} else if (want_alloc && makes) {
			found = 1;
		} else if (!want_alloc && frees) {
			return 1;
		} else if (!want_alloc && makes) {
			return 0;
		}
	} while (gm_reader_scan_next(r, &it));
	return found;
}

/* Whether a thread other than t, among the streams in the merge and those
 * waiting, holds the record a wait needs (gm_reader_look_stream). */
static int gm_reader_look_ahead(gm_reader_t *r, uint32_t t, int want_alloc, uint64_t ptr,
                                uint64_t until)
{
	uint32_t i;

	for (i = 0; i < r->nheap; i++)
		if (r->heap[i] != t &&
		    gm_reader_look_stream(r, &r->streams[r->heap[i]], t, want_alloc, ptr, until))
			return 1;
	for (i = 0; i < r->nwaits; i++)
		if (r->waits[i].stream != t &&
		    gm_reader_look_stream(r, &r->streams[r->waits[i].stream], t, want_alloc, ptr,
		                          until))
			return 1;
	return 0;
}

/* Whether stream s allocates ptr (want_alloc) or frees it by TSC until,
 * among the records gm_reader_scan_next reaches from its head on. */
static int gm_reader_does_by(gm_reader_t *r, gm_reader_stream_t *s, int want_alloc, uint64_t ptr,
                             uint64_t until)
{
	gm_reader_scan_t it;
	uint64_t freed, made;

	gm_reader_scan_begin(&it, s);
	do {
		if (it.tsc > until)
			return 0;
		gm_reader_effect(it.w0, it.extra, it.units, &freed, &made);
		if (gm_reader_wanted(freed, made, want_alloc, ptr))
			return 1;
	} while (gm_reader_scan_next(r, &it));
	return 0;
}

/* Whether threads other than t, among the streams in the merge and those
 * waiting, allocate ptr and free it by TSC until: a whole use of the
 * address elsewhere (gm_reader_does_by; the allocations looked for first,
 * the frees only when there is one). */
static int gm_reader_used_elsewhere(gm_reader_t *r, uint32_t t, uint64_t ptr, uint64_t until)
{
	uint32_t i, s;
	int want;

	for (want = 1; want >= 0; want--) {
		for (i = 0; i < r->nheap + r->nwaits; i++) {
			s = i < r->nheap ? r->heap[i] : r->waits[i - r->nheap].stream;
			if (s != t && gm_reader_does_by(r, &r->streams[s], want, ptr, until))
				break;
		}
		if (i == r->nheap + r->nwaits)
			return 0;
	}
	return 1;
}

/* The latest TSC stream t's head may have happened at: its own when its
 * thread read the clock for it, or else (a record of a burst, carrying the
 * reading of the one before) the next reading its thread took, as far as
 * gm_reader_scan_next reaches. */
static uint64_t gm_reader_latest(gm_reader_t *r, uint32_t t)
{
	gm_reader_stream_t *s = &r->streams[t];
	gm_reader_scan_t it;
	unsigned n = 0;

	if (!s->reused)
		return s->tsc;
	gm_reader_scan_begin(&it, s);
	while (gm_reader_scan_next(r, &it) && n++ < GM_READER_BURST_MAX)
		if (it.tsc != s->tsc)
			return it.tsc;
	return s->tsc;
}

/* Whether stream t's head must wait: it cannot apply yet (a free or
 * realloc of an address not live, an allocation of one still live, not a
 * realloc in place) and another thread's record within the slack would
 * make it apply. Fills *w. */
static int gm_reader_must_wait(gm_reader_t *r, uint32_t t, gm_reader_wait_t *w)
{
	const gm_reader_stream_t *s = &r->streams[t];
	uint64_t freed, made;
	uint32_t i;
	int live = 0;

	gm_reader_effect(s->w0, s->extra, s->nextra + 1, &freed, &made);
	if (freed && !gm_reader_ptrs_has(&r->live, freed)) {
		w->want_alloc = 1;
		w->ptr = freed;
	} else if (made && made != freed &&
	           ((live = gm_reader_ptrs_has(&r->live, made)) || s->reused)) {
		w->want_alloc = 0;
		w->ptr = made;
	} else
		return 0;
	w->stream = t;
	w->since = r->delivered;
	w->free_due = -1;
	w->bound = gm_reader_latest(r, t);
	w->until = w->bound + r->slack;
	w->burst = 0;
	if (w->want_alloc) {
		/* a burst allocation of that address held back (below) was
		 * the block this free gives back: it comes first */
		for (i = 0; i < r->nwaits; i++)
			if (r->waits[i].burst && r->waits[i].ptr == freed) {
				r->ready = r->waits[i].stream;
				return 1;
			}
	} else if (!live) {
		/* a burst allocation of an address free here whose bound is
		 * more than the slack away (it waited, in the allocator's lock
		 * say), and which other threads allocate and free again before
		 * that: their use of the block (the allocator may hand it out
		 * several times meanwhile) came first, and it comes when the
		 * merge passes its bound, or when a free of the address finds it
		 * not live; but another thread's free of the address that already
		 * waits for an allocation of it waits for this one, which comes
		 * now */
		w->burst = w->bound > s->tsc + r->slack;
		for (i = 0; i < r->nwaits; i++)
			if (r->waits[i].want_alloc && r->waits[i].ptr == made)
				return 0;
		return w->burst && gm_reader_used_elsewhere(r, t, made, w->until);
	} else if (s->reused && w->bound > s->tsc) {
		/* a burst allocation of an address still live happened at its
		 * bound at the latest: every other thread's record up to there
		 * comes first (a free of that address made during the burst may
		 * be any of several, or out of the look-ahead's reach), and it
		 * comes when the merge passes its bound, the address then freed */
		w->burst = 1;
		return 1;
	}
	return gm_reader_look_ahead(r, t, w->want_alloc, w->ptr, w->until);
}

/* The delivered head of stream t updates the live set and may let a
 * waiting stream of another thread apply (r->ready). */
static void gm_reader_applied(gm_reader_t *r, uint32_t t)
{
	uint64_t freed, made;
	uint32_t i;

	gm_reader_effect(r->streams[t].w0, r->streams[t].extra, r->streams[t].nextra + 1, &freed,
	                 &made);
	if (freed)
		gm_reader_ptrs_remove(&r->live, freed);
	if (made && gm_reader_ptrs_add(&r->live, made) < 0) {
		/* without memory for the set, records come in TSC order alone:
		 * the waiting streams go back to the merge */
		r->repair = 0;
		r->repair_off = 1;
		while (r->nwaits > 0)
			gm_reader_heap_push(r, r->waits[--r->nwaits].stream);
		return;
	}
	/* (r->ready is NONE here: a ready stream is the next delivered) */
	for (i = 0; i < r->nwaits; i++) {
		const gm_reader_wait_t *w = &r->waits[i];

		if (w->stream != t &&
		    (!w->burst ? gm_reader_wanted(freed, made, w->want_alloc, w->ptr) :
		                 w->free_due == 1 && gm_reader_wanted(freed, made, 0, w->ptr))) {
			r->ready = w->stream;
			break;
		}
	}
}

/* Takes stream t out of the waiting list (it is delivered now). Returns
 * 1 for a burst allocation's wait during which other events came. */
static int gm_reader_unwait(gm_reader_t *r, uint32_t t)
{
	uint32_t i;

	for (i = 0; i < r->nwaits; i++)
		if (r->waits[i].stream == t) {
			int held = r->waits[i].burst && r->waits[i].since != r->delivered;

			r->waits[i] = r->waits[--r->nwaits];
			return held;
		}
	return 0;
}

/* Whether a burst allocation's wait w is over, the merge's next record
 * being past its bound (at next): the records of its thread after it carry
 * readings from there on, and must not come after other threads' later
 * ones. Only a free of the address it waits for by its until (two cores'
 * readings a little apart), which another thread holds, still comes
 * first: the wait then ends with that free (gm_reader_applied). */
static int gm_reader_burst_over(gm_reader_t *r, gm_reader_wait_t *w, uint64_t next)
{
	if (next <= w->bound)
		return 0;
	if (w->free_due < 0)
		w->free_due = gm_reader_look_ahead(r, w->stream, 0, w->ptr, w->until);
	return !w->free_due;
}

/* The waiting stream whose wait is over: the merge's next record is past
 * its slack (or there is none; a burst allocation's, gm_reader_burst_over).
 * Held burst allocations first (a free that waits may wait for a record
 * behind one of them), the one whose bound comes first first (two threads'
 * held records may each hold what the other waits for); then the others,
 * earliest first. NONE if no wait is over. */
static uint32_t gm_reader_wait_over(gm_reader_t *r)
{
	uint64_t next = r->nheap ? r->streams[r->heap[0]].tsc : UINT64_MAX;
	uint32_t i, best = GM_READER_NONE;
	uint64_t best_key = UINT64_MAX;
	int best_burst = 0;

	for (i = 0; i < r->nwaits; i++) {
		gm_reader_wait_t *w = &r->waits[i];
		uint64_t key = w->burst ? w->until : r->streams[w->stream].tsc;

		if (!(r->nheap == 0 || next > w->until ||
		      (w->burst && gm_reader_burst_over(r, w, next))))
			continue;
		if (best == GM_READER_NONE || (w->burst && !best_burst) ||
		    (w->burst == best_burst && key < best_key)) {
			best = w->stream;
			best_key = key;
			best_burst = w->burst;
		}
	}
	return best;
}

/* Next event in causal, then time, order: 1 and *ev filled, 0 at the end. */
int gm_reader_next(gm_reader_t *r, gm_event_t *ev)
{
	const gm_reader_stream_t *s;
	gm_reader_wait_t w;
	uint32_t t;

	if (r->pending != GM_READER_NONE) {
		t = r->pending;
		r->pending = GM_READER_NONE;
		if (gm_reader_advance(r, &r->streams[t]))
			gm_reader_heap_push(r, t);
	}
	for (;;) {
		if ((t = r->ready) != GM_READER_NONE) {
			r->ready = GM_READER_NONE;
			gm_reader_unwait(r, t);
			if (!r->complete && r->streams[t].tsc < r->latest)
				r->info.reordered++;
			break;
		}
		if (r->nwaits && (t = gm_reader_wait_over(r)) != GM_READER_NONE) {
			if (gm_reader_unwait(r, t) && !r->complete && r->streams[t].tsc < r->latest)
				r->info.reordered++; /* a burst allocation held back */
			break;
		}
		if (r->nheap == 0) {
			r->complete = 1;
			return 0;
		}
		t = gm_reader_heap_pop(r);
		if (!r->repair || !gm_reader_must_wait(r, t, &w))
			break;
		r->waits[r->nwaits++] = w; /* its stream stays out of the heap */
	}
	s = &r->streams[t];
	if (r->repair)
		gm_reader_applied(r, t);
	ev->ns = gm_reader_ns(r, s->tsc);
	ev->tsc = s->tsc;
	ev->thread = t;
	ev->type = gm_rec_type(s->w0);
	ev->x = gm_rec_x(s->w0);
	ev->a = gm_rec_a(s->w0);
	ev->b = gm_rec_b(s->w1);
	ev->extra = s->extra;
	ev->nextra = s->nextra;
	ev->offset = s->head_at;
	ev->burst = s->reused;
	r->delivered++;
	if (s->tsc > r->latest)
		r->latest = s->tsc;
	r->pending = t;
	return 1;
}

/* The first damage found so far as one line, or NULL if none. */
const char *gm_reader_error(const gm_reader_t *r)
{
	return r->error[0] ? r->error : NULL;
}

/* Facts about the capture; counters marked "known after the end" are final
 * once gm_reader_next() has returned 0. */
const gm_reader_info_t *gm_reader_info(const gm_reader_t *r)
{
	return &r->info;
}

/* Unmaps the capture and frees the reader; NULL is allowed. */
int gm_reader_log_present(const char *shm_name)
{
	char path[80];
	snprintf(path, sizeof(path), "/dev/shm%s%.47s", shm_name[0] == '/' ? "" : "/", shm_name);
	return access(path, F_OK) == 0;
}

void gm_reader_free(gm_reader_t *r)
{
	uint32_t t;

	if (!r)
		return;
	for (t = 0; t < r->nstreams && r->streams; t++) {
		free(r->streams[t].buf);
		free(r->streams[t].peek_buf);
	}
	if (r->map)
		munmap((void *)r->map, r->size);
	ZSTD_freeDCtx(r->dctx);
	free(r->tmp);
	free(r->streams);
	free(r->heap);
	free(r->waits);
	free(r->live.slot);
	free(r->blocks);
	free(r->samples);
	free(r->path);
	free(r);
}
