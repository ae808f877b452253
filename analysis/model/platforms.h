/* platforms.h - one capture against platform profiles: would it fit?
 *
 * The capture is replayed once for every profile at the same time: each
 * allocation goes to the node its context routes it to in that profile (the
 * asset's type bound to a bank or budget node, else the longest bound tag
 * prefix, else the default bank, as libgmtrace routes it when the game runs
 * under the profile), and a node's live bytes count its children. An
 * asset's extra bytes (GPU copies the heap cannot see) count too: on a
 * console they are in the same memory. Sizes are the requested ones.
 *
 * For every node (banks and recommended budget nodes) the model keeps the
 * peak and its frame, the first time the node goes over its limit (frame,
 * scene in force), and what was live in the node at its peak: by tag, by
 * asset type and by asset (the largest assets, for recommendations). A
 * profile's total (all banks) is held against its memory available to a
 * game.
 *
 * Frames: an event belongs to frame (last main frame mark + 1), as in every
 * model. Scale: one hash entry per live block (24 bytes), one per distinct
 * (tag, asset) context, and per event one add per profile up the node's
 * ancestors.
 */
#ifndef GM_MODEL_PLATFORMS_H
#define GM_MODEL_PLATFORMS_H

#include <stddef.h>
#include <stdint.h>

#include "analysis/log/reader.h"
#include "platforms/host.h"
#include "platforms/profile.h"

#define GM_PLATFORMS_TOP 8      /* contributors kept per dimension */
#define GM_PLATFORMS_LARGEST 64 /* largest assets kept at the first overrun */

typedef struct gm_platforms gm_platforms_t;

typedef struct gm_platforms_item {
	const char *name; /* tag, type or asset name ("(no tag)", "(no asset)"...) */
	const char *type; /* an asset's type (assets only) */
	uint64_t id;
	int64_t bytes;
} gm_platforms_item_t;

/* What was live in a node at one moment: its largest tags, asset types and
 * assets. */
typedef struct gm_platforms_snap {
	uint64_t frame;
	int64_t live;
	const char *scene;
	gm_platforms_item_t tags[GM_PLATFORMS_TOP], types[GM_PLATFORMS_TOP];
	size_t ntags, ntypes;
	gm_platforms_item_t largest[GM_PLATFORMS_LARGEST]; /* assets, largest first */
	size_t nlargest;
} gm_platforms_snap_t;

/* One node of one profile: a bank (depth 0), a budget node, or the total. */
typedef struct gm_platforms_node {
	const char *name;
	int bank;       /* 1: a memory bank */
	int parent;     /* index in the profile's nodes, -1 for a bank */
	int depth;      /* 0 for banks */
	uint64_t limit; /* hard limit (a bank's capacity) */
	int64_t live, peak;
	uint64_t peak_frame, peak_ns;
	/* the first overrun (over == 0: never over) */
	int over;
	uint64_t over_frame, over_ns;
	const char *over_scene;
	gm_platforms_snap_t first; /* at the first overrun */
	/* at the peak while over: in a first replay taken again each time the
	 * peak grows by 1/32 of the limit or more; in a replay made by
	 * gm_platforms_again, at the peak itself */
	gm_platforms_snap_t at_peak;
	int64_t aim;          /* gm_platforms_again: the peak to take at_peak at (0: none) */
	int aimed;            /* ... taken */
	uint64_t frames_over; /* frames that ended over the limit */
} gm_platforms_node_t;

typedef struct gm_platforms_profile {
	const gm_platform_t *p;
	gm_platforms_node_t *nodes; /* p->ndefs of them, in profile order */
	int nnodes;
	gm_platforms_node_t total; /* every bank together against available */
	int fits;                  /* banks and total within their limits */
	int within_budget;         /* and every budget node too */
} gm_platforms_profile_t;

/* What the capture says about its host and how it ran. */
typedef struct gm_platforms_host {
	int have_host;
	gm_host_t host; /* values and known bits from the host record */
	uint64_t pressure_samples;
	uint32_t some_avg10_max, full_avg10_max; /* hundredths of a percent */
	uint64_t some_max_frame;
	uint64_t stall_us;                /* full stall time over the capture: the
	                                     last sample's total less the first's */
	uint64_t stall_first_us;          /* the first sample's total (since boot) */
	char ran_under[GM_PLATFORM_NAME]; /* platform the game ran under ("" none) */
	int frames_level;                 /* per-allocation records stop (frames level) ... */
	uint64_t frames_level_frame;      /* ... from this frame on */
	uint64_t failed_allocs;           /* allocations the game saw fail */
	uint64_t first_fail_frame, first_fail_size;
	int64_t live_at_first_fail;
} gm_platforms_host_t;

/* A model for profiles[0..n) (kept by the caller until freed). */
gm_platforms_t *gm_platforms_new(const gm_platform_t *const *profiles, int n);
int gm_platforms_add(gm_platforms_t *m, const gm_event_t *ev); /* 0 or -ENOMEM */
void gm_platforms_finish(gm_platforms_t *m);
/* When a node of the finished model m went over: the events of r once
 * more (rewound), each such node's at_peak taken when its live bytes first
 * reach its peak, not the snapshot within 1/32 of the limit below it.
 * Returns that finished model, m freed; m itself when nothing went over;
 * NULL when out of memory (m freed). */
gm_platforms_t *gm_platforms_exact(gm_platforms_t *m, gm_reader_t *r);
void gm_platforms_free(gm_platforms_t *m);

int gm_platforms_count(const gm_platforms_t *m);
const gm_platforms_profile_t *gm_platforms_profile(const gm_platforms_t *m, int i);
const gm_platforms_host_t *gm_platforms_host(const gm_platforms_t *m);
uint64_t gm_platforms_frames(const gm_platforms_t *m);

#endif
