/* budgets.h - the budgets model: budget nodes, their live bytes per frame, violations, evictions
 *
 * Events are fed in time order (gm_budgets_add); one pass keeps what
 * `gmtrace budgets` reports. Where the figures come from (format.h):
 *
 *   nodes        gm_rec_budget_node; a node is written again when its policy
 *                changes: the last definition wins. A record naming a node
 *                that was never defined makes a placeholder (name NULL).
 *   series       gm_rec_budget_frame: live bytes at a frame's end and the
 *                peak in the frame, per node (a node counts its children).
 *   violations   gm_rec_budget_violation; evictions gm_rec_budget_evict;
 *                validations of codes 14..16 (evictor_no_progress,
 *                unknown_node, no_evictor).
 *   names        tags from gm_rec_tag_def, assets (name, type) from
 *                gm_rec_asset_new, kept for every id (last one wins).
 *
 * Frames: an event belongs to frame (last main frame mark + 1), as in every
 * model, except what the writer does while a frame ends: over_soft
 * violations, evictions they cause, and a validation that the same thread
 * wrote right after one of those belong to the frame that ended (the last
 * mark). A budget_frame record names its frame itself.
 *
 * Frame range: with from/to set, only series points and events of frames
 * from..to are kept and counted; node definitions always apply.
 *
 * Scale: a hash lookup per record; memory is 24 bytes per (node, frame)
 * point, one entry per violation, eviction and validation kept, and the
 * names of every tag and asset.
 */
#ifndef GM_BUDGETS_H
#define GM_BUDGETS_H

#include <stddef.h>
#include <stdint.h>

#include "analysis/log/reader.h"

#define GM_BUDGETS_NONE UINT32_MAX /* "no node" index */

typedef struct gm_budgets gm_budgets_t;

typedef struct gm_budgets_opts {
	uint64_t from, to; /* frames kept: from..to (defaults 0..UINT64_MAX) */
	const char *node;  /* NULL, or: only this node and the nodes below it */
} gm_budgets_opts_t;

/* One point of a node's series: the budget_frame record of a frame. */
typedef struct gm_budgets_point {
	uint64_t frame;
	int64_t live, peak;
} gm_budgets_point_t;

/* One budget node. Limits are 0 when the node has none. */
typedef struct gm_budgets_node {
	uint64_t id;
	const char *name;   /* after finish; NULL: never defined */
	uint64_t parent_id; /* 0: a root */
	uint32_t parent;    /* index, GM_BUDGETS_NONE: a root or parent unknown */
	uint32_t depth;
	uint64_t soft, hard, target, capacity; /* capacity: its heap, 0: none */
	uint32_t policy;                       /* gm_budget_policy_t */
	uint32_t strict;
	uint32_t definitions;               /* budget_node records read */
	uint64_t defined_ns, defined_frame; /* the first one */
	uint32_t shown;                     /* in the report (opts.node) */
	/* series, in range */
	gm_budgets_point_t *series;
	size_t npoints;
	int64_t live_end, live_min, peak;
	double live_mean;             /* a sum until gm_budgets_finish() */
	uint64_t peak_frame, peak_ns; /* first frame with the peak; its budget_frame time */
	uint64_t frames_over_soft, over_soft_ns, frames_over_hard;
	/* events, in range */
	uint64_t violations[gm_budget_event_count];
	uint64_t evictions, eviction_ns, leaky, failed;
	int64_t reclaimed;
	/* internal */
	uint64_t prev_ns;     /* time of its previous budget_frame (or definition) */
	uint64_t points_seen; /* budget_frame records, in range or not */
	size_t cap;
	uint32_t name_off;
} gm_budgets_node_t;

/* A violation. live is signed: the writer's counter may dip below zero. */
typedef struct gm_budgets_violation {
	uint32_t node, event, thread; /* index, gm_budget_event_t */
	uint32_t failure;             /* the allocation failed: event failed, or heap_full
	                     on a node strict then (a soft node's allocation is
	                     served by the process's allocator) */
	uint64_t frame, ns;
	int64_t live;
	uint64_t limit, requested;
	uint64_t tag, asset; /* ids from the record, 0: none */
} gm_budgets_violation_t;

/* An eviction. */
typedef struct gm_budgets_evict {
	uint32_t node, event, thread; /* event: why (gm_budget_event_t) */
	uint32_t leaky;               /* a "leaky unload": reclaimed < 90 % of asset_bytes */
	uint64_t frame, ns, asset;
	int64_t reclaimed;
	uint64_t duration_ns, asset_bytes;
} gm_budgets_evict_t;

/* A validation record of codes 14..16. node: the node it is about (the
 * node of the asset's last eviction for evictor_no_progress; the subject
 * for no_evictor), GM_BUDGETS_NONE for unknown_node. asset: 0 for none. */
typedef struct gm_budgets_valid {
	uint32_t code, thread, node;
	uint64_t frame, ns, subject, detail, asset;
} gm_budgets_valid_t;

/* Totals over the nodes shown. */
typedef struct gm_budgets_totals {
	uint64_t nodes;
	uint64_t violations[gm_budget_event_count];
	uint64_t evictions, eviction_ns, leaky, failed, validations;
	int64_t reclaimed;
} gm_budgets_totals_t;

/* Sets every option to its default (all frames, all nodes). */
void gm_budgets_opts_default(gm_budgets_opts_t *opts);

/* A model. Returns NULL when out of memory. */
gm_budgets_t *gm_budgets_new(const gm_budgets_opts_t *opts);

/* Frees the model; NULL is allowed. */
void gm_budgets_free(gm_budgets_t *m);

/* Feeds one event (time order). Returns 0, or -ENOMEM (the model is then
 * only good for gm_budgets_free). */
int gm_budgets_add(gm_budgets_t *m, const gm_event_t *ev);

/* Ends the pass: names, tree order, depths, series statistics, the nodes
 * shown and the totals. Call once. Returns 0, -ENOMEM, or -ENOENT when
 * opts.node names no node (the model is still complete, every node shown). */
int gm_budgets_finish(gm_budgets_t *m);

/* Reads the whole capture into a finished model in one pass. Returns the
 * model, or NULL with *err = -ENOMEM; *err = -ENOENT (model returned) when
 * opts.node names no node. Damage stops the reading early; see
 * gm_reader_error(). */
gm_budgets_t *gm_budgets_build(gm_reader_t *r, const gm_budgets_opts_t *opts, int *err);

/* ---- results (after gm_budgets_finish) ---------------------------------- */

/* Nodes by index (order of first appearance) and in tree order (roots in
 * order of first appearance, each followed by its subtree). */
const gm_budgets_node_t *gm_budgets_nodes(const gm_budgets_t *m, size_t *n);
const uint32_t *gm_budgets_tree(const gm_budgets_t *m, size_t *n);

/* Everything kept, in time order, for every node (filter by .node). */
const gm_budgets_violation_t *gm_budgets_violations(const gm_budgets_t *m, size_t *n);
const gm_budgets_evict_t *gm_budgets_evictions(const gm_budgets_t *m, size_t *n);
const gm_budgets_valid_t *gm_budgets_valids(const gm_budgets_t *m, size_t *n);
const gm_budgets_totals_t *gm_budgets_totals(const gm_budgets_t *m);

/* Index of the node with this name, or GM_BUDGETS_NONE. */
uint32_t gm_budgets_find(const gm_budgets_t *m, const char *name);

/* 1 when a validation is about a node shown (unknown_node: always). */
int gm_budgets_valid_shown(const gm_budgets_t *m, const gm_budgets_valid_t *v);

/* Names of a tag and of an asset (NULL when never defined). */
const char *gm_budgets_tag_name(const gm_budgets_t *m, uint64_t id);
const char *gm_budgets_asset_name(const gm_budgets_t *m, uint64_t id);
const char *gm_budgets_asset_type(const gm_budgets_t *m, uint64_t id);

/* Main frame marks read; time of the first event and the capture's span. */
uint64_t gm_budgets_frames(const gm_budgets_t *m);
uint64_t gm_budgets_start_ns(const gm_budgets_t *m);
uint64_t gm_budgets_duration_ns(const gm_budgets_t *m);

/* The options the model was built with. */
const gm_budgets_opts_t *gm_budgets_options(const gm_budgets_t *m);

/* Names for text and JSON; "unknown" when out of range. */
const char *gm_budgets_event_name(unsigned event);   /* "over_soft" ... "heap_full" */
const char *gm_budgets_policy_name(unsigned policy); /* "lru" ... "priority" */
const char *gm_budgets_valid_name(unsigned code);    /* "evictor_no_progress" ... */

#endif
