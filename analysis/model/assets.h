/* assets.h - the assets model: per-asset, per-type and per-tag state from one pass
 *
 * Events are fed in time order (gm_assets_add) and the model keeps, without
 * allocating per event, what `gmtrace assets` and `gmtrace transitions`
 * report. The rules:
 *
 *   attribution  a gm_rec_context record sets its thread's current (asset,
 *                tag). Every allocation, and the new block of a realloc, is
 *                attributed to the current context of the thread that made
 *                it; the block keeps that owner until it is freed, by any
 *                thread (a free takes the bytes from the block's owner, not
 *                from the freeing thread's context).
 *   frames       frame 1 runs from the first event to the first main frame
 *                mark (gm_rec_frame, x = 0), frame i from mark i-1 to mark
 *                i: an event's frame is the last mark's number + 1. 0 is
 *                "never" in every frame field below.
 *   tags         hierarchical by name: "render/textures" is a child of
 *                "render" (created implicitly when only the child is
 *                defined). "own" counts blocks allocated with the tag
 *                innermost, "rollup" the tag and every tag below it.
 *                Index 0 is the untagged pseudo tag (name NULL).
 *   extra bytes  an asset_extra record sets the asset's declared total;
 *                totals count it until the asset reaches "unloaded".
 *   moved bytes  "loaded" bytes are allocations attributed to an asset plus
 *                increases of declared extra bytes; "unloaded" bytes are
 *                frees of asset blocks plus decreases of extra bytes
 *                (streaming per second, transitions).
 *
 * Byte figures come from alloc/free/realloc records: exact when the whole
 * capture is in the events level (gm_assets_exact()), a sample otherwise.
 *
 * Scale: one hash lookup in the live-block map per allocation or free, a
 * walk up the tag's parents, array updates. Memory is the live-block map
 * plus ~300 bytes per asset, one entry per (asset, tag) pair, one per
 * (asset, frame) change of a reference count, 16 bytes per second of
 * capture, and for a heat map one entry per (row, frame) change of the
 * row's value: the bins are laid over frames 1 .. last frame at the end, so
 * one pass is enough.
 */
#ifndef GM_ASSETS_H
#define GM_ASSETS_H

#include <stddef.h>
#include <stdint.h>

#include "analysis/log/reader.h"

#define GM_ASSETS_NONE UINT32_MAX /* "no asset / no type / no tag" index */

#define GM_ASSETS_ORPHAN_FRAMES 300
#define GM_ASSETS_STALE_FRAMES 600
#define GM_ASSETS_THRASH_FRAMES 120
#define GM_ASSETS_WINDOW_FRAMES 300
#define GM_ASSETS_BINS 60

typedef struct gm_assets gm_assets_t;

/* Rows of a heat map. */
typedef enum gm_assets_by {
	gm_assets_by_none = 0, /* no heat map */
	gm_assets_by_asset,
	gm_assets_by_type,
	gm_assets_by_tag,
	gm_assets_by_count
} gm_assets_by_t;

/* Cells of a heat map. */
typedef enum gm_assets_heat {
	gm_assets_heat_live = 0, /* largest live + extra bytes in the bin (tags: own live) */
	gm_assets_heat_touches,  /* touch records in the bin (assets, types) */
	gm_assets_heat_count
} gm_assets_heat_t;

typedef struct gm_assets_opts {
	uint64_t orphan_frames; /* orphan: resident, no reference, for more frames */
	uint64_t stale_frames;  /* stale: resident, untouched, for more frames */
	uint64_t thrash_frames; /* thrash: reloaded at most this many frames after unload */
	uint64_t window_frames; /* transitions span at most this many frames, the
	                           change's own included (at least 1) */
	gm_assets_by_t heat_by; /* rows of the heat map (none: no heat map) */
	gm_assets_heat_t heat_value;
	uint32_t heat_bins; /* columns asked for (fewer when the capture has fewer frames) */
} gm_assets_opts_t;

/* One asset. Frames: 0 = never. */
typedef struct gm_assets_asset {
	uint64_t id;
	const char *name;                         /* NULL until gm_assets_finish(), and when no
	                              asset_new record was read for this id */
	uint32_t type;                            /* type index, GM_ASSETS_NONE without asset_new */
	uint32_t state;                           /* gm_asset_state_t at the end */
	uint32_t known;                           /* 1: its asset_new record was read */
	uint32_t scene;                           /* transitions begun before its load (0: none) */
	uint32_t failed;                          /* its load failed */
	uint64_t new_ns, new_frame;               /* asset_new: loading began */
	uint64_t ready_ns, ready_frame;           /* resident or failed */
	uint64_t unload_ns, unload_frame;         /* unloading began */
	uint64_t unloaded_ns, unloaded_frame;     /* unloaded */
	uint64_t live_bytes, live_blocks;         /* now (at exit after finish) */
	uint64_t peak_bytes;                      /* largest live_bytes */
	uint64_t allocated_bytes, allocations;    /* everything ever attributed */
	uint64_t ready_bytes;                     /* live_bytes when it became resident */
	uint64_t unloaded_bytes, unloaded_blocks; /* live when it became unloaded */
	uint64_t unsure_bytes, unsure_blocks;     /* of live_*, blocks allocated before the
	                                             capture last went to the frames level
	                                             (their frees unrecorded; after finish) */
	uint64_t extra_bytes, extra_peak;         /* declared extra: now, largest */
	int64_t refs;                             /* reference count now */
	uint64_t refs_max;
	uint64_t touches, last_touch_frame, last_touch_ns;
	/* internal bookkeeping */
	uint32_t name_ix;
	uint32_t next_same_name;       /* earlier asset with the same name */
	uint32_t refs_head, refs_tail; /* reference change points (gm_assets_refs_next) */
	uint32_t pairs_first, npairs;  /* its tags after finish (gm_assets_asset_tags) */
	uint32_t ever_refd;
	uint64_t orphan_since;       /* frame the current orphan episode began, 0: none */
	uint64_t valid_unload_frame; /* frame of an unload_with_refs validation */
} gm_assets_asset_t;

/* One asset type ("texture"). */
typedef struct gm_assets_type {
	const char *name;          /* after gm_assets_finish() */
	uint64_t assets, resident; /* assets of this type; resident at the end */
	uint64_t live_bytes, peak_bytes, allocated_bytes;
	uint64_t extra_bytes, touches;
	uint32_t name_ix;
} gm_assets_type_t;

/* Live/peak/allocated counters of a tag. */
typedef struct gm_assets_count {
	uint64_t live_bytes, live_blocks, peak_bytes, allocated_bytes;
} gm_assets_count_t;

/* One tag (index 0: untagged). */
typedef struct gm_assets_tag {
	const char *name; /* full name after gm_assets_finish(); NULL: untagged */
	uint64_t id;      /* tag id in the capture, 0 for implicit parents */
	uint32_t parent;  /* index, GM_ASSETS_NONE at the top */
	uint32_t depth;   /* 0 at the top */
	gm_assets_count_t own, rollup;
	uint64_t loose_bytes, loose_blocks; /* own blocks with no asset, live */
	double growth;          /* loose bytes per frame (least squares), after finish */
	uint64_t growth_from;   /* first frame of the fit, 0: no fit */
	uint64_t growth_frames; /* frame ends in the fit */
	uint32_t name_ix;
	uint32_t placeholder; /* used by id before its tag_def: "tag#ID" until renamed */
} gm_assets_tag_t;

/* Bytes of one (asset, tag) pair. */
typedef struct gm_assets_pair {
	uint32_t asset, tag;
	uint64_t allocated_bytes, live_bytes;
} gm_assets_pair_t;

/* One change point of a reference count: from this frame on, count. */
typedef struct gm_assets_point {
	uint64_t frame;
	int64_t count;
	uint32_t next;
} gm_assets_point_t;

typedef enum gm_assets_check_kind {
	gm_assets_check_leak = 0,       /* unloaded (or failed), memory still live at exit */
	gm_assets_check_never_unloaded, /* resident at exit */
	gm_assets_check_orphan,         /* resident with no reference for too long */
	gm_assets_check_refcount,       /* release below zero, unload with references */
	gm_assets_check_duplicate,      /* loaded while one of the same name is loaded */
	gm_assets_check_stale,          /* resident, untouched for too long */
	gm_assets_check_validation,     /* a validation record */
	gm_assets_check_tag_growth,     /* a tag's loose live bytes grow frame over frame */
	gm_assets_check_kind_count
} gm_assets_check_kind_t;

/* One finding. frame and v[] by kind:
 *   leak            frame: unloaded (failed) frame; v: live bytes, live blocks
 *                   (but those allocated before the capture last went to the
 *                   frames level: freed or not, unknown), bytes live when it
 *                   became unloaded
 *   never_unloaded  frame: resident frame; v: live bytes, extra bytes
 *   orphan          frame: since; v: until frame (0: still at exit), frames
 *   refcount        frame; v: gm_valid_t (release_below_zero or
 *                   unload_with_refs), references (before / held), source
 *                   (0 reference stream, 1 validation record)
 *   duplicate       frame: load; v: the other asset's index, its load frame
 *   stale           frame: last touch; v: until frame (0: at exit), frames
 *   validation      frame; v: gm_valid_t code, subject id, detail, thread
 *                   (asset: set for the asset-subject codes when known)
 *   tag_growth      frame: first frame of the fit; v: loose live bytes,
 *                   loose live blocks; rate: bytes per frame */
typedef struct gm_assets_check {
	uint32_t kind;  /* gm_assets_check_kind_t */
	uint32_t asset; /* index or GM_ASSETS_NONE */
	uint32_t tag;   /* index or GM_ASSETS_NONE */
	uint64_t frame;
	uint64_t v[4];
	double rate;
} gm_assets_check_t;

/* An asset name unloaded and loaded again soon after. */
typedef struct gm_assets_thrash {
	uint32_t asset, previous; /* the new load, the unloaded one */
	uint64_t unload_frame, reload_frame;
} gm_assets_thrash_t;

/* Seconds of wall clock from the first event; per-second amounts. */
typedef struct gm_assets_rate {
	uint64_t total, min, median, max;
} gm_assets_rate_t;

typedef struct gm_assets_stream {
	uint64_t seconds; /* buckets: whole seconds from the first event, + 1 */
	gm_assets_rate_t loaded, unloaded;
	uint64_t residencies; /* assets resident then unloaded */
	uint64_t residency_p50_ns, residency_p90_ns, residency_p99_ns, residency_max_ns;
	uint64_t still_resident; /* resident at exit (not in the distribution) */
} gm_assets_stream_t;

/* Memory at one instant of a transition. Per type: gm_assets_snap_types(). */
typedef struct gm_assets_snap {
	uint64_t live_bytes;  /* every live heap block */
	uint64_t asset_bytes; /* live blocks attributed to an asset */
	uint64_t extra_bytes; /* declared extra bytes of assets not unloaded */
	uint32_t types_first, ntypes;
} gm_assets_snap_t;

/* Per-type figures in a snapshot, indexed by type. */
typedef struct gm_assets_snap_type {
	uint64_t live_bytes, extra_bytes;
} gm_assets_snap_type_t;

typedef enum gm_assets_end {
	gm_assets_end_unloaded = 0, /* the last old-scene asset unloaded in the window */
	gm_assets_end_window,       /* window_frames frames passed */
	gm_assets_end_next,         /* the next transition began */
	gm_assets_end_capture,      /* the capture ended */
	gm_assets_end_count
} gm_assets_end_t;

/* A scene or level change. */
typedef struct gm_assets_transition {
	uint64_t scene;       /* scene number of the record, 0: none */
	const char *name;     /* scene name (or level asset name), after finish */
	uint32_t has_scene;   /* a gm_rec_scene record began it */
	uint32_t level_asset; /* index of the "level" asset loaded, or NONE */
	uint64_t ns, frame;   /* when it began */
	uint64_t end_ns, end_frame;
	uint32_t end; /* gm_assets_end_t */
	gm_assets_snap_t before, after;
	uint64_t peak_bytes, peak_ns, peak_frame; /* largest live bytes in it */
	uint64_t loaded_bytes, unloaded_bytes;
	uint64_t old_assets;        /* loaded under the previous scene, loaded at its start */
	uint64_t old_unloaded;      /* of those, unloaded by its end */
	uint32_t kept_first, nkept; /* gm_assets_kept(): survivors never touched again */
	uint64_t kept_bytes;        /* their resident + extra bytes */
	/* internal */
	uint32_t name_ix;
	uint32_t has_candidate, pending;
	uint64_t window_end;
} gm_assets_transition_t;

/* Sets every option to its default (no heat map). */
void gm_assets_opts_default(gm_assets_opts_t *opts);

/* A model for a capture with nthreads writer threads (more are added as
 * seen). Returns NULL when out of memory. */
gm_assets_t *gm_assets_new(const gm_assets_opts_t *opts, uint32_t nthreads);

/* Frees the model; NULL is allowed. */
void gm_assets_free(gm_assets_t *m);

/* Feeds one event (time order). Returns 0, or -ENOMEM (the model is then
 * only good for gm_assets_free). */
int gm_assets_add(gm_assets_t *m, const gm_event_t *ev);

/* Ends the pass: closes open episodes, fits tag growth, names everything,
 * builds the checks, streaming figures and kept lists. Call once, after the
 * last gm_assets_add. Returns 0 or -ENOMEM. */
int gm_assets_finish(gm_assets_t *m);

/* Reads the whole capture into a finished model, in one pass. Returns the
 * model, or NULL with *err = -ENOMEM. Damage stops the reading early; see
 * gm_reader_error(). */
gm_assets_t *gm_assets_build(gm_reader_t *r, const gm_assets_opts_t *opts, int *err);

/* ---- results (after gm_assets_finish) ---------------------------------- */

/* Stack records read: non-zero when the capture has call stacks. */
uint64_t gm_assets_stacks(const gm_assets_t *m);

const gm_assets_asset_t *gm_assets_assets(const gm_assets_t *m, size_t *n);
const gm_assets_type_t *gm_assets_types(const gm_assets_t *m, size_t *n);
const gm_assets_tag_t *gm_assets_tags(const gm_assets_t *m, size_t *n);
const gm_assets_check_t *gm_assets_checks(const gm_assets_t *m, size_t *n);
const gm_assets_thrash_t *gm_assets_thrashes(const gm_assets_t *m, size_t *n);
const gm_assets_transition_t *gm_assets_transitions(const gm_assets_t *m, size_t *n);
const gm_assets_stream_t *gm_assets_streaming(const gm_assets_t *m);

/* The asset's tags, most allocated bytes first: pairs of (asset, tag). */
const gm_assets_pair_t *gm_assets_asset_tags(const gm_assets_t *m, const gm_assets_asset_t *a,
                                             size_t *n);

/* Reference count change points of an asset in frame order: start with
 * *cursor = 0; returns the next point or NULL. */
const gm_assets_point_t *gm_assets_refs_next(const gm_assets_t *m, const gm_assets_asset_t *a,
                                             uint32_t *cursor);

/* Per-type figures of a transition snapshot (snap->ntypes entries, indexed
 * by type; types first seen later are absent). */
const gm_assets_snap_type_t *gm_assets_snap_types(const gm_assets_t *m,
                                                  const gm_assets_snap_t *snap);

/* Asset indices of a transition's kept list. */
const uint32_t *gm_assets_kept(const gm_assets_t *m, const gm_assets_transition_t *t);

/* Totals now (at exit after finish). */
uint64_t gm_assets_live_bytes(const gm_assets_t *m);
uint64_t gm_assets_asset_bytes(const gm_assets_t *m);
uint64_t gm_assets_extra_bytes(const gm_assets_t *m);

/* Frames: main frame marks read, and the frame of the last event (a frame
 * mark belongs to the frame it ends). */
uint64_t gm_assets_frames(const gm_assets_t *m);
uint64_t gm_assets_last_frame(const gm_assets_t *m);

/* Time of the first event and the span of the capture (ns). */
uint64_t gm_assets_start_ns(const gm_assets_t *m);
uint64_t gm_assets_duration_ns(const gm_assets_t *m);

/* 1 when every event was recorded in the events level (no level record
 * switched to the frames level): byte figures are exact. */
int gm_assets_exact(const gm_assets_t *m);
/* Whether the whole capture is at the frames level (level records say
 * frames only), not a part of it. */
int gm_assets_frames_level_whole(const gm_assets_t *m);

/* The options the model was built with. */
const gm_assets_opts_t *gm_assets_options(const gm_assets_t *m);

/* Heat map (after finish): rows (one per asset, type or tag index, as
 * opts.heat_by), columns, and a row's cells; the frames of column c are
 * gm_assets_heat_first(c) .. gm_assets_heat_first(c + 1) - 1, and
 * gm_assets_heat_first(bins) is the last frame + 1. */
size_t gm_assets_heat_rows(const gm_assets_t *m);
uint32_t gm_assets_heat_bins(const gm_assets_t *m);
const uint64_t *gm_assets_heat_row(const gm_assets_t *m, size_t row);
uint64_t gm_assets_heat_first(const gm_assets_t *m, uint32_t bin);

/* Names for text and JSON. */
const char *gm_assets_state_name(unsigned state); /* "loading" ... "failed" */
const char *gm_assets_check_name(unsigned kind);  /* "leak" ... "tag_growth" */
const char *gm_assets_valid_name(unsigned code);  /* "unknown_asset" ..., "unknown" */
const char *gm_assets_end_name(unsigned end);     /* "old_assets_unloaded" ... */

#endif
