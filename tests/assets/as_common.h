/* as_common.h - what the asset fixtures share: blocks owned by an asset and a tag, and their tallies
 *
 * An asset fixture is a small game that loads, uses and unloads assets
 * through the marker API (gmtrace.h) and knows, for every deliberate block,
 * which asset and which tag it was allocated under. At exit it prints one
 * JSON line (fixture.h) with the exact figures per asset and per tag, which
 * the tests compare with the capture.
 *
 * Every deliberate block follows the size rule (fixture.h) and is counted
 * three times: in the fixture's total, in its asset's tally and in its
 * tag's own tally; the tag's roll-up tally (the tag and every tag below it,
 * by name: "render" holds "render/textures") is counted up the parent
 * chain. A block is freed against the asset and tag it was allocated
 * under, whichever thread frees it and whatever is current then, as
 * gmtrace attributes frees.
 *
 * Tallies are plain counters: a fixture whose threads allocate at the same
 * time serialises its calls (a mutex, or a hand-off) around them.
 */
#ifndef AS_COMMON_H
#define AS_COMMON_H

#ifndef FX_JSON_BYTES
#define FX_JSON_BYTES (1u << 20)
#endif
#include "fixture.h"

#include <gmtrace.h>

/* A tag as the fixture knows it: parent is the tag one level up by name. */
typedef struct as_tag {
	const char *name;
	struct as_tag *parent;
	fx_tally_t own;    /* blocks allocated with this tag innermost */
	fx_tally_t loose;  /* of those, the ones outside every asset */
	fx_tally_t rollup; /* this tag's and every descendant's blocks */
} as_tag_t;

/* An asset as the fixture knows it. state is the one it ends in
 * ("resident", "unloaded", ...), frames are 1-based (frame n ends at the
 * n-th GMTRACE_FRAME()), 0 when it never happened. */
typedef struct as_asset {
	const char *name;
	const char *type;
	uint64_t id; /* gmtrace's id; 0 without the preload */
	const char *state;
	fx_tally_t t;
	uint64_t extra_bytes;
	uint64_t load_frame, unload_frame;
	uint64_t loads, unloads;
} as_asset_t;

/* One deliberate block and what it was allocated under. */
typedef struct as_block {
	void *p;
	size_t n;
	as_asset_t *asset; /* NULL: none */
	as_tag_t *tag;     /* NULL: untagged */
} as_block_t;

static fx_tally_t as_total;    /* every deliberate block */
static fx_tally_t as_untagged; /* blocks with no tag */
static fx_tally_t as_no_asset; /* blocks outside every asset */
/* The frame being played, 1-based. Written by the thread that ends frames,
 * read by any (relaxed atomics: loaders on other threads only note it). */
static uint64_t as_frame = 1;

static inline uint64_t as_frame_now(void)
{
	return __atomic_load_n(&as_frame, __ATOMIC_RELAXED);
}

/* Ends the current frame (GMTRACE_FRAME) and counts it. */
static inline void as_frame_end(void)
{
	GMTRACE_FRAME();
	__atomic_store_n(&as_frame, as_frame_now() + 1, __ATOMIC_RELAXED);
}

/* Allocates FX_SIZE(k) under asset a and tag t (either may be NULL) and
 * counts it everywhere; touch = 0 leaves the pages unwritten (big blocks
 * that must not become resident). Exits 1 when malloc fails. */
static inline as_block_t as_alloc(as_asset_t *a, as_tag_t *t, size_t k, int touch)
{
	as_block_t b = {malloc(FX_SIZE(k)), FX_SIZE(k), a, t};
	if (b.p == NULL)
		fx_fail("as_alloc", "malloc failed");
	if (touch)
		fx_touch(b.p, b.n);
	fx_sink = b.p;
	fx_tally_alloc(&as_total, b.n);
	fx_tally_alloc(a ? &a->t : &as_no_asset, b.n);
	if (t == NULL)
		fx_tally_alloc(&as_untagged, b.n);
	else
		fx_tally_alloc(&t->own, b.n);
	if (t && a == NULL)
		fx_tally_alloc(&t->loose, b.n);
	for (as_tag_t *x = t; x; x = x->parent)
		fx_tally_alloc(&x->rollup, b.n);
	return b;
}

/* Frees a block made by as_alloc and counts the free against the asset
 * and tag it was allocated under. */
static inline void as_free(as_block_t *b)
{
	if (b->p == NULL)
		fx_fail("as_free", "block freed twice");
	free(b->p);
	b->p = NULL;
	fx_tally_free(&as_total, b->n);
	fx_tally_free(b->asset ? &b->asset->t : &as_no_asset, b->n);
	if (b->tag == NULL)
		fx_tally_free(&as_untagged, b->n);
	else
		fx_tally_free(&b->tag->own, b->n);
	if (b->tag && b->asset == NULL)
		fx_tally_free(&b->tag->loose, b->n);
	for (as_tag_t *x = b->tag; x; x = x->parent)
		fx_tally_free(&x->rollup, b->n);
}

/* load_begin with the asset's name and type; records the frame. */
static inline void as_load_begin(as_asset_t *a)
{
	a->id = gmtrace_asset_load_begin(a->name, a->type);
	a->load_frame = as_frame_now();
	a->loads++;
	a->state = "loading";
}

static inline void as_load_end(as_asset_t *a)
{
	gmtrace_asset_load_end(a->id, 1);
	a->state = "resident";
}

/* Unloads a: unload_begin, frees its n blocks, unload_end. */
static inline void as_unload(as_asset_t *a, as_block_t *blocks, size_t n)
{
	gmtrace_asset_unload_begin(a->id);
	for (size_t i = 0; i < n; i++)
		if (blocks[i].p)
			as_free(&blocks[i]);
	gmtrace_asset_unload_end(a->id);
	a->unload_frame = as_frame_now();
	a->unloads++;
	a->state = "unloaded";
}

/* A tally as an object: counts, bytes, live and peak. */
static inline void as_json_tally(const char *key, const fx_tally_t *t)
{
	fx_json_open(key, '{');
	fx_json_u64("allocations", t->nallocs);
	fx_json_u64("frees", t->nfrees);
	fx_json_u64("allocated_bytes", t->alloc_bytes);
	fx_json_u64("freed_bytes", t->freed_bytes);
	fx_json_u64("live_count", t->live_count);
	fx_json_u64("live_bytes", t->live_bytes);
	fx_json_u64("peak_bytes", t->peak_live_bytes);
	fx_json_close('}');
}

/* An asset as an array item: name, type, state, frames, its tally. */
static inline void as_json_asset(const as_asset_t *a)
{
	fx_json_open(NULL, '{');
	fx_json_str("name", a->name);
	fx_json_str("type", a->type);
	fx_json_str("state", a->state ? a->state : "none");
	fx_json_u64("load_frame", a->load_frame);
	fx_json_u64("unload_frame", a->unload_frame);
	fx_json_u64("loads", a->loads);
	fx_json_u64("unloads", a->unloads);
	fx_json_u64("extra_bytes", a->extra_bytes);
	as_json_tally("bytes", &a->t);
	fx_json_close('}');
}

/* A tag as an array item: name, parent, own, loose and roll-up tallies. */
static inline void as_json_tag(const as_tag_t *t)
{
	fx_json_open(NULL, '{');
	fx_json_str("name", t->name);
	fx_json_str("parent", t->parent ? t->parent->name : "");
	as_json_tally("own", &t->own);
	as_json_tally("loose", &t->loose);
	as_json_tally("rollup", &t->rollup);
	fx_json_close('}');
}

/* The line's common part: the fixture's total under the summary's keys,
 * untagged and asset-less blocks, frames played, whether gmtrace ran. */
static inline void as_json_common(void)
{
	fx_json_tally(&as_total);
	fx_json_u64("peak_live_bytes", as_total.peak_live_bytes);
	as_json_tally("untagged", &as_untagged);
	as_json_tally("no_asset", &as_no_asset);
	fx_json_u64("frames", as_frame_now() - 1);
	fx_json_bool("enabled", gmtrace_enabled());
}

#endif /* AS_COMMON_H */
