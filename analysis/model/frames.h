/* frames.h - the frames model: one row per displayed frame, built in one pass
 *
 * Events are fed in time order (gm_frames_add) and become one row per
 * gm_rec_frame record of the main frame set. The record ends its frame:
 * frame 1 runs from the first event of the capture to mark 1, frame i from
 * mark i-1 to mark i. What a row says depends on the capture level in force:
 *
 *   events level  counts, bytes, live and peak bytes are computed exactly
 *                 from the alloc/free/realloc records (requested sizes; a
 *                 realloc is a free of the old block and an allocation of
 *                 the new one; a free of an address that is not live is not
 *                 counted). Only the allocator time comes from frame_sum
 *                 (and a thread's share of it from frame_thread).
 *   frames level  everything comes from the frame_sum record (usable sizes
 *                 for freed, live and peak bytes, as the writer measures).
 *
 * A frame in which the level changed takes its counts from frame_sum (the
 * writer counts every call in both levels); its freed bytes add the events
 * part. Live bytes are one running figure across levels: events move it by
 * the blocks they allocate and free, frame_sum records by the change of the
 * writer's live bytes since the previous frame_sum. After a change to the
 * frames level the map of live blocks is dropped, so when the events level
 * returns, frees of blocks allocated before it are not seen.
 *
 * Memory is one row (~100 bytes) per frame, plus the live-block map in the
 * events level, the per-thread split of the frames asked for, and spikes.
 */
#ifndef GM_FRAMES_H
#define GM_FRAMES_H

#include <stddef.h>
#include <stdint.h>

#include "analysis/log/reader.h"
#include "analysis/model/live.h"

/* Size classes of allocations: <= 16 B, <= 32 B, ... (class k holds sizes in
 * (16 << (k-1), 16 << k], class 0 also 0..16); sizes are 40 bits. */
#define GM_FRAMES_CLASSES 37
/* Spikes whose size classes and threads are kept (the rest: values only). */
#define GM_FRAMES_SPIKE_DETAIL 4096
/* Frame set ids are the 8-bit x field. */
#define GM_FRAMES_SETS 256

/* gm_frames_row_t flags */
#define GM_FRAMES_ROW_SUM 1u           /* the frame's frame_sum record was read */
#define GM_FRAMES_ROW_EXACT 2u         /* counts come from events (events level throughout) */
#define GM_FRAMES_ROW_LEVEL_CHANGED 4u /* a level record fell inside the frame */
#define GM_FRAMES_ROW_PEAK_APPROX 8u   /* writer: several threads, peak is an upper bound */
#define GM_FRAMES_ROW_SPLIT_EVENTS 16u /* its per-thread split counts events, not frame_thread */
/* frames before it are missing (their marks were in a damaged block): its
 * start is the last frame read's end, its time and counts cover the
 * missing frames too; left out of the percentiles, the correlation, the
 * worst and most allocating frames and the count over budget */
#define GM_FRAMES_ROW_GAP 32u

/* One displayed frame. frame_ns is end_ns - start_ns. */
typedef struct gm_frames_row {
	uint64_t frame;            /* frame number (the record's a) */
	uint64_t start_ns, end_ns; /* previous frame's end (first event for the first row), mark */
	uint64_t allocations, frees;
	uint64_t allocated_bytes, freed_bytes;
	uint64_t live_bytes;      /* at the frame's end */
	uint64_t peak_live_bytes; /* largest live bytes inside the frame */
	uint64_t alloc_ns;        /* time inside the allocator (frame_sum ticks) */
	uint32_t ticks;           /* simulation ticks inside the frame */
	uint32_t nthreads;        /* threads that allocated (frame_sum), 0 without one */
	uint32_t thread_first;    /* its per-thread split in gm_frames_t.threads */
	uint32_t thread_count;    /* (rows in the kept range only; 0 otherwise) */
	uint8_t source;           /* gm_present_t of the frame record */
	uint8_t level;            /* gm_level_t in force at the frame's end */
	uint8_t flags;            /* GM_FRAMES_ROW_* */
} gm_frames_row_t;

/* One thread's share of a frame. In the events level the counts come from
 * the events, like the row's, and only alloc_ns from the thread's
 * frame_thread record: the writer reads a thread's counters at the frame end,
 * and an allocation whose record is already written (so timed inside the
 * frame) may reach its counter just after. Otherwise the frame_thread record
 * gives it all. */
typedef struct gm_frames_thread {
	uint32_t thread; /* writer thread index */
	uint64_t allocations, frees, allocated_bytes, freed_bytes, alloc_ns;
} gm_frames_thread_t;

/* One non-empty size class of a spike frame's allocations. */
typedef struct gm_frames_class {
	uint32_t k; /* class: sizes up to 16 << k bytes */
	uint64_t count, bytes;
} gm_frames_class_t;

/* Who allocated in a spike frame: a tag or an asset, with its share. */
typedef struct gm_frames_owner {
	uint32_t kind; /* 0: tag (id 0: no tag), 1: asset */
	uint64_t id;
	const char *name; /* from tag_def / asset_new; NULL if never named */
	uint64_t count, bytes;
} gm_frames_owner_t;

#define GM_FRAMES_OWNER_SLOTS 128 /* tags and assets tallied per frame */
#define GM_FRAMES_OWNER_TOP 8     /* of each kind, kept per spike */

/* A spike record, and what allocated in its frame. */
typedef struct gm_frames_spike {
	uint64_t frame, ns; /* frame number, time of the record */
	uint32_t reasons;   /* GM_SPIKE_* bits */
	uint64_t allocations, limit_allocations;
	uint64_t allocated_bytes, limit_bytes;
	uint64_t alloc_ns, limit_alloc_ns;
	size_t row;                          /* the frame's row, or SIZE_MAX */
	int detail;                          /* classes and threads were kept */
	int has_classes;                     /* the frame was in the events level throughout */
	uint32_t class_first, class_count;   /* in gm_frames_t.classes */
	uint32_t thread_first, thread_count; /* in gm_frames_t.spike_threads */
	uint32_t owner_first, owner_count;   /* in gm_frames_t.owners: tags, then assets */
} gm_frames_spike_t;

/* A level record that changed the level. */
typedef struct gm_frames_level_change {
	uint64_t ns;
	size_t row;     /* first row after it: the frame it fell in (may be nrows) */
	uint64_t frame; /* that frame's number (set by gm_frames_finish) */
	int from, to;   /* gm_level_t */
} gm_frames_level_change_t;

/* A secondary frame set, merged by name. */
typedef struct gm_frames_set {
	char *name; /* "set <id>" when its frame_set record is missing */
	uint64_t frames;
} gm_frames_set_t;

/* Which frames keep their per-thread split (frame numbers, inclusive). */
typedef struct gm_frames_opts {
	int keep_threads;
	uint64_t from, to;
} gm_frames_opts_t;

/* The model. Fields are read-only for callers. */
typedef struct gm_frames {
	gm_frames_opts_t opts;
	double tsc_hz; /* for allocator ticks -> ns (0: ns unknown) */
	gm_frames_row_t *rows;
	size_t nrows, rows_cap;
	size_t ngaps;                /* rows with GM_FRAMES_ROW_GAP */
	gm_frames_thread_t *threads; /* per-thread splits of kept rows */
	size_t nthreads_kept, threads_cap;
	gm_frames_spike_t *spikes;
	size_t nspikes, spikes_cap;
	gm_frames_class_t *classes; /* size classes of spikes with detail */
	size_t nclasses, classes_cap;
	gm_frames_thread_t *spike_threads;
	size_t nspike_threads, spike_threads_cap;
	gm_frames_owner_t *owners; /* tags and assets of spikes with detail */
	size_t nowners, owners_cap;
	char **tag_names; /* by tag id (tag_def records) */
	size_t ntag_names;
	char **asset_names; /* by asset id (asset_new records) */
	size_t nasset_names;
	gm_frames_level_change_t *changes;
	size_t nchanges, changes_cap;
	gm_frames_set_t sets[GM_FRAMES_SETS]; /* merged by name after finish */
	size_t nsets;                         /* after finish: sets[0..nsets) are the named sets */
	char **thread_names;                  /* by writer thread index, NULL if unknown */
	uint32_t nthread_names;

	uint64_t nevents, first_ns, last_ns;
	uint64_t source_frames[gm_present_count + 1]; /* rows per source; last: other */
	uint64_t level_frames[gm_level_count];        /* rows per level at frame end */
	uint64_t total_ticks;                         /* sim_tick records */
	uint64_t unframed_allocations;                /* allocations after the last frame: records,
	                                                 and the frames level's tail */
	uint64_t unframed_bytes;                      /* their requested bytes */
	/* the frames level's totals after the last frame end (frame_sum with
	 * GM_FRAME_FLAG_AT_END): allocations, frees, their bytes, live bytes
	 * at the end (usable sizes) */
	int has_tail;
	uint64_t tail_allocations, tail_frees, tail_allocated_bytes, tail_freed_bytes;
	uint64_t tail_live_bytes;
	int level; /* level in force now; -1 until known */

	/* allocations between consecutive tick records, events level only */
	uint64_t tick_intervals, tick_interval_allocations, tick_interval_max;

	/* private: the frame being read */
	uint32_t *ctx_tag; /* per writer thread: its tag and asset now */
	uint64_t *ctx_asset;
	size_t nctx;
	gm_frames_owner_t own[2][GM_FRAMES_OWNER_SLOTS]; /* [0] frame being read, [1] last */
	uint32_t nown[2];
	int own_cur; /* which of own[] is the frame being read */
	gm_live_t *live;
	int64_t est_live;    /* running live bytes */
	int64_t writer_live; /* live bytes of the last frame_sum */
	struct {
		uint64_t allocations, frees, allocated_bytes, freed_bytes;
		int64_t peak;
		uint32_t ticks;
		int level_changed;
		uint64_t class_count[GM_FRAMES_CLASSES], class_bytes[GM_FRAMES_CLASSES];
	} cur, last; /* last: the frame that ended most recently */
	int has_last;
	int64_t last_row_est;    /* est_live when the last row ended */
	gm_frames_thread_t *thr; /* keep_threads: the frame being read, by thread index */
	size_t thr_cap;
	uint32_t *thr_seen; /* the thread indexes counted in thr, in first-event order */
	size_t nthr_seen, thr_seen_cap;
	uint64_t scratch_frame; /* frame of the frame_thread records in scratch */
	gm_frames_thread_t *scratch;
	size_t nscratch, scratch_cap;
	uint64_t allocs_total; /* allocation records so far */
	int have_tick;         /* a tick started an interval still open */
	uint64_t tick_allocs;  /* allocs_total at that tick */
	uint64_t pending_intervals, pending_allocations, pending_max; /* level unknown yet */
	int failed; /* out of memory: gm_frames_add refuses */
} gm_frames_t;

/* Metrics of a row that the statistics below work on. */
typedef enum gm_frames_metric {
	gm_frames_metric_frame_ns = 0,
	gm_frames_metric_allocations = 1,
	gm_frames_metric_allocated_bytes = 2,
	gm_frames_metric_alloc_ns = 3,
	gm_frames_metric_count
} gm_frames_metric_t;

/* Allocation rate over the frames (see gm_frames_rate). */
typedef struct gm_frames_rate {
	double allocations_per_s, bytes_per_s;
	uint64_t seconds;                            /* whole wall-clock seconds in the buckets */
	uint64_t min, median, max;                   /* allocations per second */
	uint64_t bytes_min, bytes_median, bytes_max; /* allocated bytes per second */
} gm_frames_rate_t;

/* Ticks per frame: frames that had that many simulation ticks. */
typedef struct gm_frames_tick_bin {
	uint64_t ticks, frames;
} gm_frames_tick_bin_t;

/* An empty model. opts may be NULL (no per-thread split kept); tsc_hz from
 * gm_reader_info(); nthreads: writer threads (names are kept per index).
 * Returns NULL when out of memory. */
gm_frames_t *gm_frames_new(const gm_frames_opts_t *opts, double tsc_hz, uint32_t nthreads);

/* Frees the model; NULL is allowed. */
void gm_frames_free(gm_frames_t *f);

/* Feeds the next event in time order. Returns 0, or -ENOMEM (the model is
 * then incomplete and further events are refused). */
int gm_frames_add(gm_frames_t *f, const gm_event_t *ev);

/* After the last event: resolves level changes to frame numbers and merges
 * frame sets by name. Returns 0 or -ENOMEM. */
int gm_frames_finish(gm_frames_t *f);

/* Frame time of row i: end_ns - start_ns. */
uint64_t gm_frames_row_ns(const gm_frames_row_t *row);

/* Value of a metric for a row. */
uint64_t gm_frames_value(const gm_frames_row_t *row, gm_frames_metric_t m);

/* Index of the row of frame number `frame`, or SIZE_MAX. */
size_t gm_frames_find(const gm_frames_t *f, uint64_t frame);

/* Rows the statistics count: all but those after missing frames
 * (GM_FRAMES_ROW_GAP). */
size_t gm_frames_counted(const gm_frames_t *f);

/* p50, p95, p99 and max of a metric over the rows counted by the
 * nearest-rank method: the p-th percentile of n sorted values is value
 * number ceil(p * n / 100) (1-based). Returns 0, -ENOENT when there are no
 * such rows (out all 0), -ENOMEM. */
int gm_frames_percentiles(const gm_frames_t *f, gm_frames_metric_t m, uint64_t out[4]);

/* Pearson correlation of frame time against metric m over all rows; NaN
 * when fewer than two rows or either side does not vary. */
double gm_frames_pearson(const gm_frames_t *f, gm_frames_metric_t m);

/* Up to n row indices with the largest value of m, largest first (ties:
 * earlier frame first). Returns how many were written to out, or -ENOMEM. */
long gm_frames_top(const gm_frames_t *f, gm_frames_metric_t m, size_t n, size_t *out);

/* Frames whose frame time exceeds budget_ns, and how many of those spent
 * more than share * budget_ns in the allocator. Cannot fail. */
void gm_frames_over_budget(const gm_frames_t *f, uint64_t budget_ns, double share, uint64_t *over,
                           uint64_t *alloc_over);

/* Allocation rate: totals over the frames' span (first row's start to last
 * row's end), and per wall-clock second: each frame's allocations count in
 * the second (from the first row's start) its frame ended in; a last
 * second the capture ended inside is left out unless it is the only one.
 * Returns 0, -ENOENT without rows, -ENOMEM. */
int gm_frames_rate(const gm_frames_t *f, gm_frames_rate_t *out);

/* Ticks-per-frame histogram, by ticks ascending, in a malloc'd array the
 * caller frees; *n bins. Returns 0 or -ENOMEM (*bins NULL when no rows). */
int gm_frames_tick_histogram(const gm_frames_t *f, gm_frames_tick_bin_t **bins, size_t *n);

/* Allocations per simulation tick. Events level: allocation records
 * between consecutive tick records (intervals with a level change are left
 * out); otherwise the frames-level rows with ticks: their allocations over
 * their ticks, max the largest per-frame ratio. Returns 1 for the events
 * method, 0 for the frames method, -ENOENT when neither applies. */
int gm_frames_per_tick(const gm_frames_t *f, double *mean, double *max);

/* Names for display and JSON. */
const char *gm_frames_level_name(int level);     /* "events", "frames", "unknown" */
const char *gm_frames_source_name(unsigned src); /* "marker", "SDL_GL_SwapWindow", ... */

#endif
