/* platforms.c - replay a capture against platform profiles (see platforms.h) */
#include "analysis/model/platforms.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "interpose/log/format.h"

/* A (tag, asset) context: what a block was allocated under. */
typedef struct gm_pf_ctx {
	uint32_t tag;
	uint64_t asset;
	int64_t live;
	uint8_t *route; /* node index per profile */
} gm_pf_ctx_t;

typedef struct gm_pf_asset {
	char *name, *type;
	int64_t extra;
	uint32_t load_tag; /* the tag its load began under (its thread's then) */
} gm_pf_asset_t;

typedef struct gm_pf_block {
	uint64_t ptr; /* 0: empty slot */
	uint64_t size;
	uint32_t ctx;
} gm_pf_block_t;

struct gm_platforms {
	gm_platforms_profile_t *prof;
	int nprof;
	gm_platforms_host_t host;
	/* names */
	char **tags;
	size_t ntags;
	gm_pf_asset_t *assets;
	size_t nassets;
	/* contexts */
	gm_pf_ctx_t *ctx;
	size_t nctx, cap_ctx;
	uint32_t *ctx_hash; /* index + 1 */
	size_t ctx_slots;
	uint32_t *thread_ctx; /* per thread index */
	size_t nthreads;
	/* live blocks */
	gm_pf_block_t *blocks;
	size_t nblocks, block_slots;
	/* time */
	uint64_t frame, frames, last_mark_frame;
	char *scene;   /* the scene in force (one of scenes) */
	char **scenes; /* every scene name seen, kept for the snapshots */
	size_t nscenes, cap_scenes;
	int64_t live;
	int oom;
	int again; /* made by gm_platforms_again: at_peak at each node's aim */
};

static uint64_t gm_pf_mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

static char *gm_pf_strndup(const void *s, size_t n)
{
	char *d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

/* ---- routing ---------------------------------------------------------------- */

/* The default bank of profile p (the first bank without one marked). */
static int gm_pf_default_bank(const gm_platform_t *p)
{
	int i, def = 0;
	for (i = 0; i < p->nbanks; i++)
		if (p->defs[i].is_default)
			def = i;
	return def;
}

/* Node of profile p bound to tag (the longest bound prefix), -1 if none. */
static int gm_pf_route_tag(const gm_platform_t *p, const char *tag)
{
	int i, k, best = -1;
	size_t best_len = 0, len = tag ? strlen(tag) : 0;
	for (i = 0; tag && i < p->ndefs; i++) {
		for (k = 0; k < p->defs[i].ntags; k++) {
			const char *pre = p->defs[i].tags[k];
			size_t pl = strlen(pre);
			if (pl > len || memcmp(pre, tag, pl) != 0 || (pl < len && tag[pl] != '/'))
				continue;
			if (pl >= best_len) {
				best_len = pl;
				best = i;
			}
		}
	}
	return best;
}

/* Node of profile p for a context, as libgmtrace routes it: an asset's
 * node is its type's, else the node of the tag its load began under
 * (load_tag, NULL outside an asset); else the tag's now; else the default
 * bank. */
static int gm_pf_route(const gm_platform_t *p, const char *tag, const char *type,
                       const char *load_tag)
{
	int i, k, best = -1;
	for (i = 0; type && i < p->ndefs; i++)
		for (k = 0; k < p->defs[i].ntypes; k++)
			if (strcmp(p->defs[i].types[k], type) == 0)
				best = i; /* the last binding wins */
	if (best >= 0 || (best = gm_pf_route_tag(p, load_tag)) >= 0 ||
	    (best = gm_pf_route_tag(p, tag)) >= 0)
		return best;
	return gm_pf_default_bank(p);
}

/* ---- contexts ----------------------------------------------------------------- */

static const char *gm_pf_tag(const gm_platforms_t *m, uint32_t tag)
{
	return tag && tag < m->ntags ? m->tags[tag] : NULL;
}

static const gm_pf_asset_t *gm_pf_asset(const gm_platforms_t *m, uint64_t id)
{
	return id && id < m->nassets && m->assets[id].name ? &m->assets[id] : NULL;
}

static int gm_pf_ctx_grow(gm_platforms_t *m)
{
	size_t slots = m->ctx_slots ? m->ctx_slots * 2 : 1024, i;
	uint32_t *h = calloc(slots, sizeof(*h));
	if (!h)
		return -ENOMEM;
	for (i = 0; i < m->nctx; i++) {
		size_t s = gm_pf_mix(m->ctx[i].tag ^ (m->ctx[i].asset << 20)) & (slots - 1);
		while (h[s])
			s = (s + 1) & (slots - 1);
		h[s] = (uint32_t)i + 1;
	}
	free(m->ctx_hash);
	m->ctx_hash = h;
	m->ctx_slots = slots;
	return 0;
}

/* Index of context (tag, asset), made on first use; -1 when out of memory. */
static long gm_pf_ctx_of(gm_platforms_t *m, uint32_t tag, uint64_t asset)
{
	size_t s;
	gm_pf_ctx_t *c;
	const gm_pf_asset_t *a;
	if ((m->nctx + 1) * 2 > m->ctx_slots && gm_pf_ctx_grow(m))
		return -1;
	s = gm_pf_mix(tag ^ (asset << 20)) & (m->ctx_slots - 1);
	while (m->ctx_hash[s]) {
		c = &m->ctx[m->ctx_hash[s] - 1];
		if (c->tag == tag && c->asset == asset)
			return (long)m->ctx_hash[s] - 1;
		s = (s + 1) & (m->ctx_slots - 1);
	}
	if (m->nctx == m->cap_ctx) {
		size_t cap = m->cap_ctx ? m->cap_ctx * 2 : 256;
		gm_pf_ctx_t *n = realloc(m->ctx, cap * sizeof(*n));
		if (!n)
			return -1;
		m->ctx = n;
		m->cap_ctx = cap;
	}
	c = &m->ctx[m->nctx];
	memset(c, 0, sizeof(*c));
	c->tag = tag;
	c->asset = asset;
	c->route = malloc((size_t)m->nprof + 1);
	if (!c->route)
		return -1;
	a = gm_pf_asset(m, asset);
	for (int i = 0; i < m->nprof; i++)
		c->route[i] =
		        (uint8_t)gm_pf_route(m->prof[i].p, gm_pf_tag(m, tag), a ? a->type : NULL,
		                             a ? gm_pf_tag(m, a->load_tag) : NULL);
	m->ctx_hash[s] = (uint32_t)m->nctx + 1;
	return (long)m->nctx++;
}

/* ---- snapshots ---------------------------------------------------------------- */

static int gm_pf_under(const gm_platforms_profile_t *pp, int node, int root)
{
	for (; node >= 0; node = pp->nodes[node].parent)
		if (node == root)
			return 1;
	return 0;
}

static int gm_pf_item_cmp(const void *a, const void *b)
{
	const gm_platforms_item_t *x = a, *y = b;
	return x->bytes < y->bytes ? 1 :
	       x->bytes > y->bytes ? -1 :
	                             (x->id > y->id) - (x->id < y->id);
}

/* Keep the n largest of items[0..count) in out (largest first). */
static size_t gm_pf_top(gm_platforms_item_t *items, size_t count, gm_platforms_item_t *out,
                        size_t n)
{
	size_t i, k = 0;
	qsort(items, count, sizeof(*items), gm_pf_item_cmp);
	for (i = 0; i < count && k < n; i++)
		if (items[i].bytes > 0)
			out[k++] = items[i];
	return k;
}

/* What was live in node (of profile pi, root -1: every bank) when it first
 * went over. */
static void gm_pf_snapshot(gm_platforms_t *m, int pi, gm_platforms_snap_t *n, int64_t live,
                           int root)
{
	gm_platforms_profile_t *pp = &m->prof[pi];
	size_t i, k, ntypes = 0;
	gm_platforms_item_t *tags = calloc(m->ntags + 1, sizeof(*tags));
	gm_platforms_item_t *assets = calloc(m->nassets + 1, sizeof(*assets));
	gm_platforms_item_t *types = calloc(m->nassets + 2, sizeof(*types));
	n->frame = m->frame;
	n->live = live;
	n->scene = m->scene;
	if (!tags || !assets || !types) {
		m->oom = 1;
		goto out;
	}
	for (i = 0; i < m->nctx; i++) {
		gm_pf_ctx_t *c = &m->ctx[i];
		const gm_pf_asset_t *a = gm_pf_asset(m, c->asset);
		const char *type = a ? a->type : "(no asset)";
		if (c->live <= 0 || (root >= 0 && !gm_pf_under(pp, c->route[pi], root)))
			continue;
		k = c->tag < m->ntags ? c->tag : 0;
		tags[k].id = k;
		tags[k].name = k ? gm_pf_tag(m, (uint32_t)k) : "(no tag)";
		tags[k].bytes += c->live;
		if (a && c->asset < m->nassets) {
			assets[c->asset].id = c->asset;
			assets[c->asset].name = a->name;
			assets[c->asset].type = a->type;
			assets[c->asset].bytes += c->live;
		}
		for (k = 0; k < ntypes && strcmp(types[k].name, type) != 0; k++)
			;
		if (k == ntypes) {
			types[k].name = type;
			types[k].id = k;
			ntypes++;
		}
		types[k].bytes += c->live;
	}
	n->ntags = gm_pf_top(tags, m->ntags + 1, n->tags, GM_PLATFORMS_TOP);
	n->ntypes = gm_pf_top(types, ntypes, n->types, GM_PLATFORMS_TOP);
	n->nlargest = gm_pf_top(assets, m->nassets + 1, n->largest, GM_PLATFORMS_LARGEST);
out:
	free(tags);
	free(assets);
	free(types);
}

/* ---- accounting ---------------------------------------------------------------- */

static void gm_pf_touch(gm_platforms_t *m, int pi, gm_platforms_node_t *n, int idx, uint64_t ns)
{
	if (n->live > n->peak) {
		n->peak = n->live;
		n->peak_frame = m->frame;
		n->peak_ns = ns;
	}
	if (!n->limit || n->live <= (int64_t)n->limit)
		return;
	if (!n->over) {
		n->over = 1;
		n->over_frame = m->frame;
		n->over_ns = ns;
		n->over_scene = m->scene;
		gm_pf_snapshot(m, pi, &n->first, n->live, idx);
		n->at_peak = n->first;
	}
	if (m->again) {
		/* the peak the first replay found, reached the first time */
		if (n->aim && !n->aimed && n->live == n->aim) {
			n->aimed = 1;
			if (n->live == n->first.live)
				n->at_peak = n->first;
			else
				gm_pf_snapshot(m, pi, &n->at_peak, n->live, idx);
		}
	} else if (n->live - n->at_peak.live >= (int64_t)(n->limit / 32) && n->live == n->peak) {
		gm_pf_snapshot(m, pi, &n->at_peak, n->live, idx);
	}
}

static void gm_pf_move(gm_platforms_t *m, uint32_t ci, int64_t d, uint64_t ns)
{
	gm_pf_ctx_t *c = &m->ctx[ci];
	c->live += d;
	m->live += d;
	for (int pi = 0; pi < m->nprof; pi++) {
		gm_platforms_profile_t *pp = &m->prof[pi];
		int i;
		for (i = c->route[pi]; i >= 0; i = pp->nodes[i].parent) {
			pp->nodes[i].live += d;
			if (d > 0)
				gm_pf_touch(m, pi, &pp->nodes[i], i, ns);
		}
		pp->total.live += d;
		if (d > 0)
			gm_pf_touch(m, pi, &pp->total, -1, ns);
	}
}

/* ---- blocks --------------------------------------------------------------------- */

static int gm_pf_blocks_grow(gm_platforms_t *m)
{
	size_t slots = m->block_slots ? m->block_slots * 2 : 4096, i;
	gm_pf_block_t *b = calloc(slots, sizeof(*b));
	if (!b)
		return -ENOMEM;
	for (i = 0; i < m->block_slots; i++) {
		size_t s;
		if (!m->blocks[i].ptr)
			continue;
		s = gm_pf_mix(m->blocks[i].ptr) & (slots - 1);
		while (b[s].ptr)
			s = (s + 1) & (slots - 1);
		b[s] = m->blocks[i];
	}
	free(m->blocks);
	m->blocks = b;
	m->block_slots = slots;
	return 0;
}

static gm_pf_block_t *gm_pf_find(gm_platforms_t *m, uint64_t ptr)
{
	size_t s;
	if (!m->block_slots)
		return NULL;
	s = gm_pf_mix(ptr) & (m->block_slots - 1);
	while (m->blocks[s].ptr) {
		if (m->blocks[s].ptr == ptr)
			return &m->blocks[s];
		s = (s + 1) & (m->block_slots - 1);
	}
	return NULL;
}

/* Remove a block (backward-shift deletion keeps probes intact). */
static void gm_pf_remove(gm_platforms_t *m, gm_pf_block_t *b)
{
	size_t mask = m->block_slots - 1, i = (size_t)(b - m->blocks), j = i;
	for (;;) {
		size_t home;
		j = (j + 1) & mask;
		if (!m->blocks[j].ptr)
			break;
		home = gm_pf_mix(m->blocks[j].ptr) & mask;
		if (((j - home) & mask) >= ((j - i) & mask)) {
			m->blocks[i] = m->blocks[j];
			i = j;
		}
	}
	m->blocks[i].ptr = 0;
	m->nblocks--;
}

static uint32_t gm_pf_thread_ctx(gm_platforms_t *m, uint32_t thread)
{
	return thread < m->nthreads ? m->thread_ctx[thread] : 0;
}

static int gm_pf_alloc(gm_platforms_t *m, uint64_t ptr, uint64_t size, uint32_t ci, uint64_t ns)
{
	gm_pf_block_t *b;
	size_t s;
	if (!ptr)
		return 0;
	if ((b = gm_pf_find(m, ptr))) { /* a free we never saw: replace */
		gm_pf_move(m, b->ctx, -(int64_t)b->size, ns);
		gm_pf_remove(m, b);
	}
	if ((m->nblocks + 1) * 2 > m->block_slots && gm_pf_blocks_grow(m))
		return -ENOMEM;
	s = gm_pf_mix(ptr) & (m->block_slots - 1);
	while (m->blocks[s].ptr)
		s = (s + 1) & (m->block_slots - 1);
	m->blocks[s].ptr = ptr;
	m->blocks[s].size = size;
	m->blocks[s].ctx = ci;
	m->nblocks++;
	gm_pf_move(m, ci, (int64_t)size, ns);
	return m->oom ? -ENOMEM : 0; /* a snapshot could not be taken */
}

/* Frees the block; returns its context (or the thread's when unknown). */
static uint32_t gm_pf_free(gm_platforms_t *m, uint64_t ptr, uint32_t fallback, uint64_t ns)
{
	gm_pf_block_t *b = ptr ? gm_pf_find(m, ptr) : NULL;
	uint32_t ci;
	if (!b)
		return fallback;
	ci = b->ctx;
	gm_pf_move(m, ci, -(int64_t)b->size, ns);
	gm_pf_remove(m, b);
	return ci;
}

/* ---- events --------------------------------------------------------------------- */

static int gm_pf_grow_ptrs(void **arr, size_t *n, size_t want, size_t size)
{
	size_t cap = *n ? *n : 64;
	void *a;
	if (want < *n)
		return 0;
	while (cap <= want)
		cap *= 2;
	a = realloc(*arr, cap * size);
	if (!a)
		return -ENOMEM;
	memset((char *)a + *n * size, 0, (cap - *n) * size);
	*arr = a;
	*n = cap;
	return 0;
}

static int gm_pf_frame_end(gm_platforms_t *m)
{
	for (int pi = 0; pi < m->nprof; pi++) {
		gm_platforms_profile_t *pp = &m->prof[pi];
		for (int i = 0; i < pp->nnodes; i++)
			pp->nodes[i].frames_over += pp->nodes[i].limit &&
			                            pp->nodes[i].live > (int64_t)pp->nodes[i].limit;
		pp->total.frames_over +=
		        pp->total.limit && pp->total.live > (int64_t)pp->total.limit;
	}
	return 0;
}

int gm_platforms_add(gm_platforms_t *m, const gm_event_t *ev)
{
	const char *s = (const char *)ev->extra;
	uint64_t room = (uint64_t)ev->nextra * 16;
	long ci;
	switch (ev->type) {
	case gm_rec_alloc:
		return gm_pf_alloc(m, ev->a, ev->b, gm_pf_thread_ctx(m, ev->thread), ev->ns);
	case gm_rec_free:
		gm_pf_free(m, ev->a, 0, ev->ns);
		return 0;
	case gm_rec_realloc: {
		uint32_t c = gm_pf_thread_ctx(m, ev->thread);
		if (ev->nextra >= 1)
			c = gm_pf_free(m, ev->extra[0], c, ev->ns);
		return gm_pf_alloc(m, ev->a, ev->b, c, ev->ns);
	}
	case gm_rec_fail:
		if (!m->host.failed_allocs++) {
			m->host.first_fail_frame = m->frame;
			m->host.first_fail_size = ev->nextra ? ev->extra[0] : 0;
			m->host.live_at_first_fail = m->live;
		}
		return 0;
	case gm_rec_context:
		ci = gm_pf_ctx_of(m, (uint32_t)ev->b, ev->a);
		if (ci < 0 || gm_pf_grow_ptrs((void **)&m->thread_ctx, &m->nthreads, ev->thread,
		                              sizeof(uint32_t)))
			return -ENOMEM;
		m->thread_ctx[ev->thread] = (uint32_t)ci;
		return 0;
	case gm_rec_tag_def:
		if (ev->a > (1u << 24) || ev->b > room ||
		    gm_pf_grow_ptrs((void **)&m->tags, &m->ntags, ev->a, sizeof(char *)))
			return ev->a > (1u << 24) || ev->b > room ? 0 : -ENOMEM;
		free(m->tags[ev->a]);
		m->tags[ev->a] = gm_pf_strndup(s, ev->b);
		return m->tags[ev->a] ? 0 : -ENOMEM;
	case gm_rec_asset_new: {
		uint64_t nl = ev->b & 0xffff, tl = ev->b >> 16;
		gm_pf_asset_t *a;
		if (ev->a > (1u << 26) || nl + 1 + tl > room)
			return 0;
		if (gm_pf_grow_ptrs((void **)&m->assets, &m->nassets, ev->a, sizeof(gm_pf_asset_t)))
			return -ENOMEM;
		a = &m->assets[ev->a];
		free(a->name);
		free(a->type);
		a->name = gm_pf_strndup(s, nl);
		a->type = gm_pf_strndup(s + nl + 1, tl);
		a->load_tag = m->ctx[gm_pf_thread_ctx(m, ev->thread)].tag;
		return a->name && a->type ? 0 : -ENOMEM;
	}
	case gm_rec_asset_extra: {
		int64_t d;
		if (!gm_pf_asset(m, ev->a))
			return 0;
		ci = gm_pf_ctx_of(m, 0, ev->a);
		if (ci < 0)
			return -ENOMEM;
		d = (int64_t)ev->b - m->assets[ev->a].extra;
		m->assets[ev->a].extra = (int64_t)ev->b;
		gm_pf_move(m, (uint32_t)ci, d, ev->ns);
		return m->oom ? -ENOMEM : 0;
	}
	case gm_rec_asset_state:
		/* declared extra (GPU) bytes go with the asset when it is
		 * unloaded, as `gmtrace assets` counts them */
		if (ev->x != gm_asset_unloaded || !gm_pf_asset(m, ev->a) || !m->assets[ev->a].extra)
			return 0;
		ci = gm_pf_ctx_of(m, 0, ev->a);
		if (ci < 0)
			return -ENOMEM;
		gm_pf_move(m, (uint32_t)ci, -m->assets[ev->a].extra, ev->ns);
		m->assets[ev->a].extra = 0;
		return m->oom ? -ENOMEM : 0;
	case gm_rec_scene:
		if (ev->b > room)
			return 0;
		if (m->nscenes == m->cap_scenes) {
			size_t cap = m->cap_scenes ? m->cap_scenes * 2 : 16;
			char **n = realloc(m->scenes, cap * sizeof(*n));
			if (!n)
				return -ENOMEM;
			m->scenes = n;
			m->cap_scenes = cap;
		}
		m->scene = gm_pf_strndup(s, ev->b);
		if (!m->scene)
			return -ENOMEM;
		m->scenes[m->nscenes++] = m->scene;
		return 0;
	case gm_rec_frame:
		if (ev->x != 0)
			return 0;
		m->frames++;
		gm_pf_frame_end(m);
		if (ev->a + 1 > m->frame)
			m->frame = ev->a + 1;
		return 0;
	case gm_rec_host:
		m->host.have_host = 1;
		m->host.host.known = (uint32_t)ev->a;
		for (int i = 0; i < GM_HOST_NVALUES && (unsigned)i < ev->nextra * 2; i++)
			m->host.host.v[i] = ev->extra[i];
		return 0;
	case gm_rec_pressure:
		if (ev->nextra < 3 || !ev->b)
			return 0;
		if (!m->host.pressure_samples++ || ev->extra[0] > m->host.some_avg10_max) {
			m->host.some_avg10_max = (uint32_t)ev->extra[0];
			m->host.some_max_frame = m->frame;
		}
		if (ev->extra[1] > m->host.full_avg10_max)
			m->host.full_avg10_max = (uint32_t)ev->extra[1];
		/* the kernel's total runs from boot (or the cgroup's start): the
		 * capture's share is what it grew by between the samples */
		if (m->host.pressure_samples == 1)
			m->host.stall_first_us = ev->extra[3];
		m->host.stall_us = ev->extra[3] > m->host.stall_first_us ?
		                           ev->extra[3] - m->host.stall_first_us :
		                           0;
		return 0;
	case gm_rec_level:
		if (ev->a == gm_level_frames && !m->host.frames_level) {
			m->host.frames_level = 1;
			m->host.frames_level_frame = m->frame;
		}
		return 0;
	case gm_rec_platform:
		if (ev->b <= room && ev->b < sizeof(m->host.ran_under)) {
			memcpy(m->host.ran_under, s, ev->b);
			m->host.ran_under[ev->b] = '\0';
		}
		return 0;
	default:
		return 0;
	}
}

/* ---- life ----------------------------------------------------------------------- */

gm_platforms_t *gm_platforms_new(const gm_platform_t *const *profiles, int n)
{
	gm_platforms_t *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->prof = calloc((size_t)n + 1, sizeof(*m->prof));
	if (!m->prof)
		goto fail;
	m->nprof = n;
	m->frame = 1;
	for (int pi = 0; pi < n; pi++) {
		gm_platforms_profile_t *pp = &m->prof[pi];
		const gm_platform_t *p = profiles[pi];
		pp->p = p;
		pp->nnodes = p->ndefs;
		pp->nodes = calloc((size_t)p->ndefs + 1, sizeof(*pp->nodes));
		if (!pp->nodes)
			goto fail;
		for (int i = 0; i < p->ndefs; i++) {
			gm_platforms_node_t *nd = &pp->nodes[i];
			nd->name = p->defs[i].name;
			nd->bank = i < p->nbanks;
			nd->limit = p->defs[i].hard;
			/* a budget node with no parent goes in the default bank, as
			 * the library defines it under a platform */
			nd->parent = i < p->nbanks ? -1 : gm_pf_default_bank(p);
			for (int k = 0; p->defs[i].parent[0] && k < i; k++)
				if (strcmp(p->defs[k].name, p->defs[i].parent) == 0)
					nd->parent = k;
			nd->depth = nd->parent >= 0 ? pp->nodes[nd->parent].depth + 1 : 0;
		}
		pp->total.name = GM_BUDGET_TOTAL;
		pp->total.parent = -1;
		pp->total.limit = p->available.bytes;
	}
	/* context 0: no tag, no asset */
	if (gm_pf_ctx_of(m, 0, 0) != 0)
		goto fail;
	return m;
fail:
	gm_platforms_free(m);
	return NULL;
}

void gm_platforms_finish(gm_platforms_t *m)
{
	for (int pi = 0; pi < m->nprof; pi++) {
		gm_platforms_profile_t *pp = &m->prof[pi];
		pp->fits = !pp->total.over;
		pp->within_budget = 1;
		for (int i = 0; i < pp->nnodes; i++) {
			if (pp->nodes[i].bank)
				pp->fits &= !pp->nodes[i].over;
			pp->within_budget &= !pp->nodes[i].over;
		}
		pp->within_budget &= pp->fits;
	}
}

static int gm_pf_over(const gm_platforms_t *m)
{
	for (int pi = 0; pi < m->nprof; pi++) {
		const gm_platforms_profile_t *pp = &m->prof[pi];
		if (pp->total.over)
			return 1;
		for (int i = 0; i < pp->nnodes; i++)
			if (pp->nodes[i].over)
				return 1;
	}
	return 0;
}

/* A model for first's profiles that takes at_peak at first's peaks. */
static gm_platforms_t *gm_pf_again(const gm_platforms_t *first)
{
	const gm_platform_t **p = calloc((size_t)first->nprof + 1, sizeof(*p));
	gm_platforms_t *m;
	if (!p)
		return NULL;
	for (int pi = 0; pi < first->nprof; pi++)
		p[pi] = first->prof[pi].p;
	m = gm_platforms_new(p, first->nprof);
	free(p);
	if (!m)
		return NULL;
	m->again = 1;
	for (int pi = 0; pi < first->nprof; pi++) {
		const gm_platforms_profile_t *fp = &first->prof[pi];
		gm_platforms_profile_t *pp = &m->prof[pi];
		for (int i = 0; i < pp->nnodes; i++)
			pp->nodes[i].aim = fp->nodes[i].over ? fp->nodes[i].peak : 0;
		pp->total.aim = fp->total.over ? fp->total.peak : 0;
	}
	return m;
}

gm_platforms_t *gm_platforms_exact(gm_platforms_t *m, gm_reader_t *r)
{
	gm_platforms_t *again;
	gm_event_t ev;
	if (!gm_pf_over(m))
		return m;
	again = gm_pf_again(m);
	gm_platforms_free(m);
	if (!again)
		return NULL;
	gm_reader_rewind(r);
	while (gm_reader_next(r, &ev) > 0)
		if (gm_platforms_add(again, &ev) != 0) {
			gm_platforms_free(again);
			return NULL;
		}
	gm_platforms_finish(again);
	return again;
}

void gm_platforms_free(gm_platforms_t *m)
{
	size_t i;
	if (!m)
		return;
	for (int pi = 0; m->prof && pi < m->nprof; pi++)
		free(m->prof[pi].nodes);
	free(m->prof);
	for (i = 0; i < m->ntags; i++)
		free(m->tags[i]);
	free(m->tags);
	for (i = 0; i < m->nassets; i++) {
		free(m->assets[i].name);
		free(m->assets[i].type);
	}
	free(m->assets);
	for (i = 0; i < m->nctx; i++)
		free(m->ctx[i].route);
	free(m->ctx);
	free(m->ctx_hash);
	free(m->thread_ctx);
	free(m->blocks);
	for (i = 0; i < m->nscenes; i++)
		free(m->scenes[i]);
	free(m->scenes);
	free(m);
}

int gm_platforms_count(const gm_platforms_t *m)
{
	return m->nprof;
}

const gm_platforms_profile_t *gm_platforms_profile(const gm_platforms_t *m, int i)
{
	return &m->prof[i];
}

const gm_platforms_host_t *gm_platforms_host(const gm_platforms_t *m)
{
	return &m->host;
}

uint64_t gm_platforms_frames(const gm_platforms_t *m)
{
	return m->frames;
}
