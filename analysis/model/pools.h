/* pools.h - the pools model: object pools, pool candidates, garbage-collector runs
 *
 * Events are fed in time order. Three views come out of one capture:
 *
 *   pools       what the game's pools did, from pool_def / pool_resize /
 *               pool_destroy / pool_frame records. A pool lives from the
 *               frame its pool_def fell in to the frame of its destroy (or
 *               the last frame of the capture). The writer sends a
 *               pool_frame record only for frames in which the pool moved;
 *               the frames in between repeat the in-use count, with no
 *               calls, and their high-water mark is that count.
 *   candidates  in an events-level capture without pools: allocations
 *               grouped by (tag, size) that would do well in a pool. Needs a
 *               second pass over the events (gm_pools_read does both).
 *   GC          gc records: pause time per frame and per generation, and
 *               frames whose spike record coincides with a GC run.
 *
 * Frame numbers are those of the main frame set's frame records: an event
 * belongs to frame n + 1 when the last main frame record before it was
 * frame n (frame 1 before any). Percentages are given in thousandths
 * (99% = 99000) so that every figure is exact integer arithmetic.
 */
#ifndef GM_POOLS_H
#define GM_POOLS_H

#include <stddef.h>
#include <stdint.h>

#include "analysis/log/reader.h"
#include "analysis/model/stacks.h"
#include "analysis/model/live.h"

/* Allocator cost size classes read from alloc_cost records: class c holds
 * sizes up to 2^c bytes (as the writer's gm_thread_size_class). */
#define GM_POOLS_CLASSES 40
/* GC generations kept apart; higher ones are counted in the last. */
#define GM_POOLS_GENERATIONS 8

#define GM_POOLS_PERCENTILE_DEFAULT 99000 /* 99% */
#define GM_POOLS_HEADROOM_DEFAULT 10000   /* 10% */
#define GM_POOLS_CHURN_FRAMES_DEFAULT 3

typedef struct gm_pools_opts {
	uint32_t percentile_milli; /* P x 1000, 1..100000 */
	uint32_t headroom_milli;   /* headroom percent x 1000 (any) */
	uint32_t churn_frames;     /* K >= 1: short-lived = freed before K frame ends */
	int candidates;            /* 1: look for pool candidates (second pass) */
} gm_pools_opts_t;

/* One pool_frame record. */
typedef struct gm_pools_rec {
	uint64_t frame;
	uint64_t acquires, served;   /* acquires; those the pool served */
	uint64_t releases, returned; /* releases; those that went back into the pool */
	uint64_t in_use, high_water; /* pool objects in use at the frame end, most in the frame */
} gm_pools_rec_t;

/* One frame of a pool's life as reports show it. overflows = acquires - served. */
typedef struct gm_pools_row {
	uint64_t frame, capacity;
	uint64_t acquires, served, releases, returned;
	uint64_t in_use, high_water;
	int recorded; /* a pool_frame record was read for it */
} gm_pools_row_t;

typedef struct gm_pools_resize {
	uint64_t frame, ns, capacity;
} gm_pools_resize_t;

/* One pool. Fields after "results" are set by gm_pools_finish(). */
typedef struct gm_pools_pool {
	uint32_t id;
	char *name;                /* NULL when its pool_def was not read */
	uint64_t object_size;      /* 0 when unknown */
	uint64_t capacity_initial; /* from pool_def */
	uint64_t capacity;         /* after the last resize */
	int defined;               /* its pool_def was read */
	uint64_t def_frame, def_ns;
	int destroyed;
	uint64_t destroy_frame, destroy_ns;
	gm_pools_resize_t *resizes;
	size_t nresizes, resizes_cap;
	gm_pools_rec_t *recs; /* in frame order */
	size_t nrecs, recs_cap;

	/* results */
	uint64_t first_frame, last_frame, nframes; /* nframes 0: no whole frame */
	uint64_t used_frames;                      /* frames with an acquire */
	uint64_t overflow_frames;                  /* frames with an overflow */
	uint64_t acquires, served, overflows, releases, returned;
	uint64_t peak, peak_frame, peak_capacity; /* highest high-water mark, first frame */
	uint64_t in_use_end;
	double in_use_mean;      /* at frame ends */
	double utilization_mean; /* mean of in_use / capacity per frame; NaN: a capacity was 0 */
	double utilization_peak; /* max of high_water / capacity per frame; NaN likewise */
	double idle_bytes_mean;  /* mean of (capacity - in_use) x object size */
	uint64_t idle_bytes_at_peak;
	double overflows_per_frame, overflow_frame_fraction;
	double overflows_per_s; /* NaN when the pool's time span is unknown */
	uint64_t span_ns;       /* pool_def to the end of its last frame (0: unknown) */
	unsigned cost_class;    /* size class of object_size */
	int cost_known;         /* that class had timed allocator calls */
	double cost_ns;         /* mean ns per allocation of that class */
	double saved_ns;        /* served x cost_ns */
	uint64_t hw_percentile; /* P-th percentile of the per-frame high-water mark */
	uint64_t recommended;   /* hw_percentile x (1 + headroom), rounded up */
	uint64_t demand_percentile, demand_recommended; /* same with high_water + overflows */
	int64_t resize_saves_bytes;                     /* (capacity - recommended) x object size */
	int never_fills;                                /* peak < 50% of capacity */
	int overflows_every_frame; /* overflow in >= 90% of the frames it was used */
} gm_pools_pool_t;

/* A walk over a pool's frames, first_frame..last_frame (after finish). */
typedef struct gm_pools_walk {
	const gm_pools_pool_t *pool;
	uint64_t frame;
	size_t rec, resize;
	uint64_t in_use, capacity;
} gm_pools_walk_t;

/* A group of allocations that could be a pool: one tag and one size. */
#define GM_POOLS_SITES 3 /* call sites kept per candidate group */

typedef struct gm_pools_group {
	uint32_t tag;  /* tag id (0: untagged) */
	int exact;     /* one requested size: size; else sizes of class cls */
	uint64_t size; /* the exact size, or 2^cls (the largest of the class) */
	unsigned cls;  /* size class (cost class) */
	uint64_t allocations, allocations_in_frames, frees, short_lived;
	uint64_t allocated_bytes;
	uint64_t live, peak_live, peak_frame;
	/* results */
	int churn;          /* more than half freed before churn_frames frame ends */
	double per_frame;   /* allocations in whole frames / frames (NaN: no frame) */
	uint64_t suggested; /* peak_live x (1 + headroom), rounded up */
	int cost_known;
	double cost_ns, saved_ns; /* allocations x cost_ns */
	double saved_ns_per_frame;
	/* call sites (captures with stacks): the GM_POOLS_SITES stacks that
	 * made most of its allocations, most first */
	uint32_t site_ids[GM_POOLS_SITES]; /* writer stack ids */
	uint64_t site_counts[GM_POOLS_SITES];
	unsigned nsites;
} gm_pools_group_t;

/* GC in one frame (frames with at least one run). */
typedef struct gm_pools_gc_frame {
	uint64_t frame, runs, pause_ns, max_ns, collected;
	int spike; /* a spike record names this frame (after finish) */
} gm_pools_gc_frame_t;

typedef struct gm_pools_gc_gen {
	uint64_t runs, pause_ns, max_ns, collected, uncollectable;
} gm_pools_gc_gen_t;

typedef struct gm_pools_tag {
	uint32_t id;
	char *name;
} gm_pools_tag_t;

typedef struct gm_pools_mark {
	uint64_t frame, ns;
} gm_pools_mark_t;

typedef struct gm_pools_map gm_pools_map_t;

/* The model. Fields are read-only for callers. */
typedef struct gm_pools {
	gm_pools_opts_t opts;
	double tsc_hz;

	/* frames */
	uint64_t last_mark; /* number of the last main frame record */
	uint64_t nmarks;    /* main frame records */
	/* a pool whose frames ran past what the capture can hold (a damaged
	 * frame number: its life would be millions of frames of a few marks):
	 * the first such pool's id and the frame named, 0 if none; its life
	 * is cut to the frames the capture has */
	uint32_t bad_frames_pool;
	uint64_t bad_frame;
	gm_pools_mark_t *marks; /* main frame records in order */
	size_t marks_cap;
	uint64_t nevents, first_ns, last_ns;

	gm_pools_pool_t *pools; /* in order of appearance */
	size_t npools, pools_cap;

	/* allocator cost: the latest alloc_cost record */
	int have_cost;
	uint64_t cost_calls[GM_POOLS_CLASSES], cost_ticks[GM_POOLS_CLASSES];

	/* frame_sum totals */
	uint64_t sum_frames, sum_allocations, sum_ticks;

	/* GC */
	gm_pools_gc_frame_t *gc_frames;
	size_t ngc_frames, gc_frames_cap;
	gm_pools_gc_gen_t gc_gens[GM_POOLS_GENERATIONS];
	uint64_t gc_runs, gc_pause_ns, gc_max_ns;
	uint64_t *spikes; /* spike frame numbers */
	size_t nspikes, spikes_cap;
	uint64_t gc_spike_frames; /* frames with both (after finish) */

	/* tags */
	gm_pools_tag_t *tags;
	size_t ntags, tags_cap;

	/* candidates */
	uint64_t alloc_events; /* alloc and realloc records */
	int frames_level;      /* a level record put the capture in the frames level,
	                          where allocations are not recorded one by one */
	gm_pools_group_t *groups;
	size_t ngroups, groups_cap;
	size_t *ranked; /* churn groups, best first (after finish) */
	size_t nranked;
	int candidates_done; /* the second pass ran */
	/* allocations taken for a pool's overflows and left out of the groups:
	 * in a frame where pools of object size S overflowed n times, the
	 * first n allocations of exactly S bytes (the game's pool gave them
	 * out from the heap; they are pooled already) */
	uint64_t overflow_allocations;
	int has_sites; /* the capture records call stacks (site records) */

	/* private */
	size_t by_id[256]; /* pool ids < 256: index + 1 of the pool with that id now */
	uint64_t end_mark; /* last_mark at the end of the first pass */
	uint32_t *thread_tag;
	uint32_t nthread_tags;
	gm_pools_map_t *sizes;    /* (tag, size) -> allocations, first pass */
	gm_pools_map_t *domin;    /* (tag, class) -> dominant size + 1 */
	gm_pools_map_t *gindex;   /* (tag, size key) -> group index + 1 */
	gm_pools_map_t *gsites;   /* (group index, stack id) -> allocations */
	gm_pools_map_t *overflow; /* (object size, frame) -> pool overflows left */
	gm_sites_t sites_now;     /* each thread's pending site (model/stacks.h) */
	gm_live_t *live;
	int pass; /* 1 or 2 */
	int failed;
} gm_pools_t;

/* An empty model; opts NULL for the defaults (with candidates); tsc_hz
 * from gm_reader_info() (0: ticks are taken as ns). NULL when out of memory. */
gm_pools_t *gm_pools_new(const gm_pools_opts_t *opts, double tsc_hz);

/* Frees the model; NULL is allowed. */
void gm_pools_free(gm_pools_t *p);

/* First pass: the next event in time order. Returns 0, or -ENOMEM (the
 * model is then incomplete and refuses further events). */
int gm_pools_add(gm_pools_t *p, const gm_event_t *ev);

/* Second pass (candidates): call gm_pools_candidates_begin() after the
 * first pass, then feed the same events again with gm_pools_candidates_add().
 * Both return 0 or -ENOMEM. */
int gm_pools_candidates_begin(gm_pools_t *p);
int gm_pools_candidates_add(gm_pools_t *p, const gm_event_t *ev);

/* Both passes over a reader (rewinding it for the second one when the
 * capture has allocation events and opts.candidates is set), then
 * gm_pools_finish(). Returns 0 or -ENOMEM; reader damage is the caller's
 * to report (gm_reader_error). */
int gm_pools_read(gm_pools_t *p, gm_reader_t *r);

/* Computes the results. Returns 0 or -ENOMEM. */
int gm_pools_finish(gm_pools_t *p);

/* Walks a pool's frames after finish: start with gm_pools_walk_begin, then
 * gm_pools_walk_next fills row and returns 1 per frame, 0 at the end. */
void gm_pools_walk_begin(gm_pools_walk_t *w, const gm_pools_pool_t *pool);
int gm_pools_walk_next(gm_pools_walk_t *w, gm_pools_row_t *row);

/* The name of a tag id: its tag_def, "(untagged)" for 0, NULL if unknown. */
const char *gm_pools_tag_name(const gm_pools_t *p, uint32_t tag);

/* Size class of n bytes: the smallest c with 2^c >= n (at most 39). */
unsigned gm_pools_size_class(uint64_t n);

/* Mean allocator ns per call of class c from the latest alloc_cost record;
 * returns 1 and sets *ns, or 0 when the class had no timed call. */
int gm_pools_cost(const gm_pools_t *p, unsigned c, double *ns);

/* frame_sum totals as ns: allocator time over all frame_sum records. */
double gm_pools_ticks_ns(const gm_pools_t *p, uint64_t ticks);

/* The nearest-rank percentile of v[0..n) (sorted in place): the smallest
 * value with at least P% of the values at or below it; 0 for n = 0. */
uint64_t gm_pools_percentile(uint64_t *v, size_t n, uint32_t percentile_milli);

/* ceil(v x (1 + headroom)), saturating. */
uint64_t gm_pools_headroom(uint64_t v, uint32_t headroom_milli);

#endif
