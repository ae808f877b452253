/* budgets.c - the budgets model: budget nodes, their live bytes per frame, violations, evictions
 *
 * One pass, one switch on the record type (rules in budgets.h). Nodes,
 * tags and assets are found by id through small open-addressing maps;
 * names live in one string arena and become pointers at the end, when the
 * arena stops moving.
 */
#include "analysis/model/budgets.h"
#include "analysis/model/grow.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define GM_BUDGETS_NOSTR UINT32_MAX

/* id -> index; keys are stored + 1 so that 0 marks an empty slot. */
typedef struct gm_budgets_map {
	uint64_t *keys;
	uint32_t *vals;
	size_t cap, n; /* cap: a power of two, or 0 */
} gm_budgets_map_t;

typedef struct gm_budgets_asset {
	uint32_t name_off, type_off;
	uint32_t evict_node; /* node of its last eviction */
} gm_budgets_asset_t;

/* What a thread wrote last: an over_soft violation or eviction (a frame's
 * end) whose frame the validations right after it inherit. */
typedef struct gm_budgets_thread {
	uint64_t frame;
	int end_pass;
} gm_budgets_thread_t;

struct gm_budgets {
	gm_budgets_opts_t opts;
	char *node_name; /* copy of opts.node */
	gm_budgets_node_t *nodes;
	size_t nnodes, cap_nodes;
	uint32_t *tree;
	gm_budgets_map_t node_map, tag_map, asset_map;
	uint32_t *tag_names; /* string offsets, by tag_map value */
	size_t ntags, cap_tags;
	gm_budgets_asset_t *assets;
	size_t nassets, cap_assets;
	gm_budgets_violation_t *violations;
	size_t nviolations, cap_violations;
	gm_budgets_evict_t *evictions;
	size_t nevictions, cap_evictions;
	gm_budgets_valid_t *valids;
	size_t nvalids, cap_valids;
	gm_budgets_thread_t *threads;
	size_t nthreads;
	char *str;
	size_t nstr, cap_str;
	gm_budgets_totals_t totals;
	uint64_t mark;   /* number of the last main frame mark */
	uint64_t frames; /* main frame marks read */
	uint64_t nevents, first_ns, last_ns;
};

/* ---- small containers ------------------------------------------------------- */

static size_t gm_budgets_slot(const gm_budgets_map_t *map, uint64_t key)
{
	return (size_t)((key * 0x9e3779b97f4a7c15ull) >> 17) & (map->cap - 1);
}

static uint32_t *gm_budgets_map_find(const gm_budgets_map_t *map, uint64_t key)
{
	size_t i;

	if (!map->cap)
		return NULL;
	for (i = gm_budgets_slot(map, key); map->keys[i]; i = (i + 1) & (map->cap - 1))
		if (map->keys[i] == key + 1)
			return &map->vals[i];
	return NULL;
}

/* Adds key (not present) -> val. Returns 0 or -ENOMEM. */
static int gm_budgets_map_put(gm_budgets_map_t *map, uint64_t key, uint32_t val)
{
	size_t i;

	if ((map->n + 1) * 2 > map->cap) {
		gm_budgets_map_t big;
		size_t k;

		big.cap = map->cap ? map->cap * 2 : 64;
		big.n = 0;
		big.keys = calloc(big.cap, sizeof(*big.keys));
		big.vals = calloc(big.cap, sizeof(*big.vals));
		if (!big.keys || !big.vals) {
			free(big.keys);
			free(big.vals);
			return -ENOMEM;
		}
		for (k = 0; k < map->cap; k++) {
			if (!map->keys[k])
				continue;
			i = gm_budgets_slot(&big, map->keys[k] - 1);
			while (big.keys[i])
				i = (i + 1) & (big.cap - 1);
			big.keys[i] = map->keys[k];
			big.vals[i] = map->vals[k];
			big.n++;
		}
		free(map->keys);
		free(map->vals);
		*map = big;
	}
	i = gm_budgets_slot(map, key);
	while (map->keys[i])
		i = (i + 1) & (map->cap - 1);
	map->keys[i] = key + 1;
	map->vals[i] = val;
	map->n++;
	return 0;
}

/* Copies n bytes (cut at the first NUL) into the arena: its offset, or
 * GM_BUDGETS_NOSTR when out of memory. */
static uint32_t gm_budgets_str(gm_budgets_t *m, const void *p, size_t n)
{
	const char *s = p;
	const char *nul = memchr(s, '\0', n);
	uint32_t off;

	if (nul)
		n = (size_t)(nul - s);
	if (m->nstr + n + 1 >= GM_BUDGETS_NOSTR)
		return GM_BUDGETS_NOSTR;
	if (m->nstr + n + 1 > m->cap_str) {
		size_t c = (m->nstr + n + 1) * 2;
		char *q = realloc(m->str, c);

		if (!q)
			return GM_BUDGETS_NOSTR;
		m->str = q;
		m->cap_str = c;
	}
	off = (uint32_t)m->nstr;
	memcpy(m->str + off, s, n);
	m->str[off + n] = '\0';
	m->nstr += n + 1;
	return off;
}

static const char *gm_budgets_at(const gm_budgets_t *m, uint32_t off)
{
	return off == GM_BUDGETS_NOSTR ? NULL : m->str + off;
}

/* ---- lookups -------------------------------------------------------------------- */

/* The index of node id, a placeholder made when unknown; GM_BUDGETS_NONE
 * when out of memory. */
static uint32_t gm_budgets_node(gm_budgets_t *m, uint64_t id)
{
	uint32_t *v = gm_budgets_map_find(&m->node_map, id);
	gm_budgets_node_t *b;
	uint32_t idx;

	if (v)
		return *v;
	if (m->nnodes >= GM_BUDGETS_NONE - 1 ||
	    gm_grow((void **)&m->nodes, &m->cap_nodes, m->nnodes + 1, sizeof(*m->nodes)) < 0)
		return GM_BUDGETS_NONE;
	idx = (uint32_t)m->nnodes;
	if (gm_budgets_map_put(&m->node_map, id, idx) < 0)
		return GM_BUDGETS_NONE;
	b = &m->nodes[m->nnodes++];
	memset(b, 0, sizeof(*b));
	b->id = id;
	b->parent = GM_BUDGETS_NONE;
	b->name_off = GM_BUDGETS_NOSTR;
	b->prev_ns = m->first_ns;
	return idx;
}

/* The entry of asset id, made when unknown; NULL when out of memory. */
static gm_budgets_asset_t *gm_budgets_asset(gm_budgets_t *m, uint64_t id)
{
	uint32_t *v = gm_budgets_map_find(&m->asset_map, id);
	gm_budgets_asset_t *a;

	if (v)
		return &m->assets[*v];
	if (m->nassets >= GM_BUDGETS_NONE - 1 ||
	    gm_grow((void **)&m->assets, &m->cap_assets, m->nassets + 1, sizeof(*m->assets)) < 0 ||
	    gm_budgets_map_put(&m->asset_map, id, (uint32_t)m->nassets) < 0)
		return NULL;
	a = &m->assets[m->nassets++];
	a->name_off = a->type_off = GM_BUDGETS_NOSTR;
	a->evict_node = GM_BUDGETS_NONE;
	return a;
}

static gm_budgets_thread_t *gm_budgets_thread(gm_budgets_t *m, uint32_t thread)
{
	if (thread >= m->nthreads) {
		size_t n =
		        (size_t)thread + 1 > m->nthreads * 2 ? (size_t)thread + 1 : m->nthreads * 2;
		gm_budgets_thread_t *t = realloc(m->threads, n * sizeof(*t));

		if (!t)
			return NULL;
		memset(t + m->nthreads, 0, (n - m->nthreads) * sizeof(*t));
		m->threads = t;
		m->nthreads = n;
	}
	return &m->threads[thread];
}

static int gm_budgets_in_range(const gm_budgets_t *m, uint64_t frame)
{
	return frame >= m->opts.from && frame <= m->opts.to;
}

/* The frame of an event written while a frame ends: the one that ended. */
static uint64_t gm_budgets_end_frame(const gm_budgets_t *m)
{
	return m->mark ? m->mark : 1;
}

/* ---- records ---------------------------------------------------------------------- */

static int gm_budgets_def(gm_budgets_t *m, const gm_event_t *ev)
{
	uint32_t idx;
	gm_budgets_node_t *b;
	uint64_t parent;

	if (ev->nextra < 3 || ev->b > (uint64_t)(ev->nextra - 3) * GM_REC_UNIT)
		return 0; /* the reader delivers only whole ones; a fed event may not be */
	idx = gm_budgets_node(m, ev->a);
	if (idx == GM_BUDGETS_NONE)
		return -ENOMEM;
	b = &m->nodes[idx];
	parent = ev->extra[0];
	b->parent_id = parent == 0xffffffffull || parent == ev->a ? 0 : parent;
	b->soft = ev->extra[1];
	b->hard = ev->extra[2];
	b->target = ev->extra[3];
	b->policy = (uint32_t)(ev->extra[4] & 0xff);
	b->strict = (uint32_t)(ev->extra[4] >> 8) & 1;
	b->capacity = ev->extra[5];
	b->name_off = gm_budgets_str(m, ev->extra + 6, (size_t)ev->b);
	if (b->name_off == GM_BUDGETS_NOSTR)
		return -ENOMEM;
	if (b->definitions++ == 0) {
		b->defined_ns = ev->ns;
		b->defined_frame = m->mark + 1;
		if (!b->points_seen)
			b->prev_ns = ev->ns;
	}
	return 0;
}

static int gm_budgets_point(gm_budgets_t *m, const gm_event_t *ev)
{
	uint32_t idx;
	gm_budgets_node_t *b;
	gm_budgets_point_t *p;
	uint64_t span;

	if (ev->nextra < 1)
		return 0;
	idx = gm_budgets_node(m, ev->b);
	if (idx == GM_BUDGETS_NONE)
		return -ENOMEM;
	b = &m->nodes[idx];
	span = ev->ns > b->prev_ns ? ev->ns - b->prev_ns : 0;
	b->prev_ns = ev->ns;
	b->points_seen++;
	if (!gm_budgets_in_range(m, ev->a))
		return 0;
	if (gm_grow((void **)&b->series, &b->cap, b->npoints + 1, sizeof(*b->series)) < 0)
		return -ENOMEM;
	p = &b->series[b->npoints];
	p->frame = ev->a;
	p->live = (int64_t)ev->extra[0];
	p->peak = (int64_t)ev->extra[1];
	if (b->npoints == 0 || p->live < b->live_min)
		b->live_min = p->live;
	if (b->npoints == 0 || p->peak > b->peak) {
		b->peak = p->peak;
		b->peak_frame = p->frame;
		b->peak_ns = ev->ns;
	}
	b->live_end = p->live;
	b->npoints++;
	if (b->soft && p->peak > (int64_t)b->soft) {
		b->frames_over_soft++;
		b->over_soft_ns += span;
	}
	if (b->hard && p->peak > (int64_t)b->hard)
		b->frames_over_hard++;
	b->live_mean += (double)p->live; /* a sum until gm_budgets_finish */
	return 0;
}

static int gm_budgets_violation(gm_budgets_t *m, const gm_event_t *ev, gm_budgets_thread_t *t)
{
	gm_budgets_violation_t *v;
	gm_budgets_node_t *b;
	uint32_t idx;
	uint64_t frame;

	if (ev->nextra < 3)
		return 0;
	idx = gm_budgets_node(m, ev->a);
	if (idx == GM_BUDGETS_NONE)
		return -ENOMEM;
	b = &m->nodes[idx];
	frame = m->mark + 1;
	if (ev->b == gm_budget_over_soft) {
		frame = gm_budgets_end_frame(m);
		t->end_pass = 1;
		t->frame = frame;
	}
	if (!gm_budgets_in_range(m, frame))
		return 0;
	if (gm_grow((void **)&m->violations, &m->cap_violations, m->nviolations + 1,
	            sizeof(*m->violations)) < 0)
		return -ENOMEM;
	v = &m->violations[m->nviolations++];
	v->node = idx;
	v->event = ev->b < gm_budget_event_count ? (uint32_t)ev->b : gm_budget_event_count;
	v->thread = ev->thread;
	v->frame = frame;
	v->ns = ev->ns;
	v->live = (int64_t)ev->extra[0];
	v->limit = ev->extra[1];
	v->requested = ev->extra[2];
	v->tag = ev->extra[3];
	v->asset = ev->extra[4];
	v->failure = ev->b == gm_budget_failed || (ev->b == gm_budget_heap_full && b->strict);
	if (v->event < gm_budget_event_count)
		b->violations[v->event]++;
	b->failed += v->failure;
	return 0;
}

/* Leaky: reclaimed < 90 % of held. In whole numbers, 10 r < 9 held is
 * r < ceil(9 held / 10) = held - floor(held / 10), with no overflow. */
static int gm_budgets_leaky(int64_t reclaimed, uint64_t held)
{
	return reclaimed < 0 || (uint64_t)reclaimed < held - held / 10;
}

static int gm_budgets_evict(gm_budgets_t *m, const gm_event_t *ev, gm_budgets_thread_t *t)
{
	gm_budgets_evict_t *e;
	gm_budgets_asset_t *a;
	gm_budgets_node_t *b;
	uint32_t idx;
	uint64_t frame;

	if (ev->nextra < 2)
		return 0;
	idx = gm_budgets_node(m, ev->b);
	a = gm_budgets_asset(m, ev->a);
	if (idx == GM_BUDGETS_NONE || !a)
		return -ENOMEM;
	a->evict_node = idx;
	b = &m->nodes[idx];
	frame = m->mark + 1;
	if (ev->extra[0] == gm_budget_over_soft) {
		frame = gm_budgets_end_frame(m);
		t->end_pass = 1;
		t->frame = frame;
	}
	if (!gm_budgets_in_range(m, frame))
		return 0;
	if (gm_grow((void **)&m->evictions, &m->cap_evictions, m->nevictions + 1,
	            sizeof(*m->evictions)) < 0)
		return -ENOMEM;
	e = &m->evictions[m->nevictions++];
	e->node = idx;
	e->event = ev->extra[0] < gm_budget_event_count ? (uint32_t)ev->extra[0] :
	                                                  gm_budget_event_count;
	e->thread = ev->thread;
	e->frame = frame;
	e->ns = ev->ns;
	e->asset = ev->a;
	e->reclaimed = (int64_t)ev->extra[1];
	e->duration_ns = ev->extra[2];
	e->asset_bytes = ev->extra[3];
	e->leaky = (uint32_t)gm_budgets_leaky(e->reclaimed, e->asset_bytes);
	b->evictions++;
	b->eviction_ns += e->duration_ns;
	b->reclaimed += e->reclaimed;
	b->leaky += e->leaky;
	return 0;
}

static int gm_budgets_validation(gm_budgets_t *m, const gm_event_t *ev, uint64_t end_frame)
{
	gm_budgets_valid_t *v;
	uint32_t node = GM_BUDGETS_NONE, *found;
	uint64_t frame = end_frame ? end_frame : m->mark + 1, asset = 0;

	switch (ev->x) {
	case gm_valid_evictor_no_progress: {
		gm_budgets_asset_t *a = gm_budgets_asset(m, ev->a);

		if (!a)
			return -ENOMEM;
		node = a->evict_node;
		asset = ev->a;
		break;
	}
	case gm_valid_no_evictor:
		found = ev->a ? gm_budgets_map_find(&m->node_map, ev->a) : NULL;
		node = found ? *found : GM_BUDGETS_NONE;
		asset = ev->b;
		break;
	case gm_valid_unknown_node:
		break;
	case gm_valid_node_redefined:
	case gm_valid_bad_policy:
		/* the node defined again (a platform's, say), or given a
		 * policy that is none: its own */
		found = ev->a ? gm_budgets_map_find(&m->node_map, ev->a) : NULL;
		node = found ? *found : GM_BUDGETS_NONE;
		break;
	default:
		return 0;
	}
	if (!gm_budgets_in_range(m, frame))
		return 0;
	if (gm_grow((void **)&m->valids, &m->cap_valids, m->nvalids + 1, sizeof(*m->valids)) < 0)
		return -ENOMEM;
	v = &m->valids[m->nvalids++];
	v->code = ev->x;
	v->thread = ev->thread;
	v->node = node;
	v->frame = frame;
	v->ns = ev->ns;
	v->subject = ev->a;
	v->detail = ev->b;
	v->asset = asset;
	return 0;
}

static int gm_budgets_tag_def(gm_budgets_t *m, const gm_event_t *ev)
{
	uint32_t *v = gm_budgets_map_find(&m->tag_map, ev->a);
	uint32_t off;

	if (ev->b > (uint64_t)ev->nextra * GM_REC_UNIT)
		return 0;
	off = gm_budgets_str(m, ev->extra, (size_t)ev->b);
	if (off == GM_BUDGETS_NOSTR)
		return -ENOMEM;
	if (v) {
		m->tag_names[*v] = off;
		return 0;
	}
	if (gm_grow((void **)&m->tag_names, &m->cap_tags, m->ntags + 1, sizeof(*m->tag_names)) <
	            0 ||
	    gm_budgets_map_put(&m->tag_map, ev->a, (uint32_t)m->ntags) < 0)
		return -ENOMEM;
	m->tag_names[m->ntags++] = off;
	return 0;
}

static int gm_budgets_asset_new(gm_budgets_t *m, const gm_event_t *ev)
{
	size_t nl = (size_t)(ev->b & 0xffff), tl = (size_t)(ev->b >> 16 & 0xffff);
	const char *s = (const char *)ev->extra;
	gm_budgets_asset_t *a;

	if (nl + 1 + tl > (size_t)ev->nextra * GM_REC_UNIT)
		return 0;
	a = gm_budgets_asset(m, ev->a);
	if (!a)
		return -ENOMEM;
	a->name_off = gm_budgets_str(m, s, nl);
	a->type_off = gm_budgets_str(m, s + nl + 1, tl);
	return a->name_off == GM_BUDGETS_NOSTR || a->type_off == GM_BUDGETS_NOSTR ? -ENOMEM : 0;
}

/* Feeds one event (see budgets.h). */
int gm_budgets_add(gm_budgets_t *m, const gm_event_t *ev)
{
	gm_budgets_thread_t *t = gm_budgets_thread(m, ev->thread);
	uint64_t end_frame;

	if (!t)
		return -ENOMEM;
	if (m->nevents == 0 || ev->ns < m->first_ns)
		m->first_ns = ev->ns;
	if (m->nevents == 0 || ev->ns > m->last_ns)
		m->last_ns = ev->ns;
	m->nevents++;
	/* a validation inherits a frame end only from the record right before
	 * it, or from the validations of the same pass before it (one per
	 * asset without an evictor: the pass's whole run is its frame's) */
	end_frame = t->end_pass ? t->frame : 0;
	t->end_pass = end_frame && ev->type == gm_rec_validation;
	switch (ev->type) {
	case gm_rec_frame:
		if (ev->x == 0) {
			m->frames++;
			m->mark = ev->a;
		}
		return 0;
	case gm_rec_tag_def:
		return gm_budgets_tag_def(m, ev);
	case gm_rec_asset_new:
		return gm_budgets_asset_new(m, ev);
	case gm_rec_budget_node:
		return gm_budgets_def(m, ev);
	case gm_rec_budget_frame:
		return gm_budgets_point(m, ev);
	case gm_rec_budget_violation:
		return gm_budgets_violation(m, ev, t);
	case gm_rec_budget_evict:
		return gm_budgets_evict(m, ev, t);
	case gm_rec_validation:
		return gm_budgets_validation(m, ev, end_frame);
	default:
		return 0;
	}
}

/* ---- the end ----------------------------------------------------------------------- */

static void gm_budgets_visit(gm_budgets_t *m, uint32_t i, size_t *k)
{
	size_t c;

	m->tree[(*k)++] = i;
	for (c = 0; c < m->nnodes; c++)
		if (m->nodes[c].parent == i)
			gm_budgets_visit(m, (uint32_t)c, k);
}

static int gm_budgets_below(const gm_budgets_t *m, uint32_t i, uint32_t top)
{
	for (; i != GM_BUDGETS_NONE; i = m->nodes[i].parent)
		if (i == top)
			return 1;
	return 0;
}

/* Ends the pass (see budgets.h). */
int gm_budgets_finish(gm_budgets_t *m)
{
	gm_budgets_totals_t *tot = &m->totals;
	size_t i, k = 0;
	uint32_t top = GM_BUDGETS_NONE;
	int rc = 0;

	for (i = 0; i < m->nnodes; i++) {
		gm_budgets_node_t *b = &m->nodes[i];
		uint32_t *p = b->parent_id ? gm_budgets_map_find(&m->node_map, b->parent_id) : NULL;

		b->name = gm_budgets_at(m, b->name_off);
		b->parent = p ? *p : GM_BUDGETS_NONE;
		if (b->npoints)
			b->live_mean /= (double)b->npoints;
	}
	/* a parent chain that loops (a damaged capture) is cut at each node on it */
	for (i = 0; i < m->nnodes; i++) {
		uint32_t j = (uint32_t)i;
		size_t steps = 0;

		while (m->nodes[j].parent != GM_BUDGETS_NONE && steps <= m->nnodes) {
			j = m->nodes[j].parent;
			steps++;
		}
		if (steps > m->nnodes)
			m->nodes[i].parent = GM_BUDGETS_NONE;
	}
	for (i = 0; i < m->nnodes; i++) {
		uint32_t j = m->nodes[i].parent, d = 0;

		for (; j != GM_BUDGETS_NONE; j = m->nodes[j].parent)
			d++;
		m->nodes[i].depth = d;
	}
	m->tree = malloc((m->nnodes ? m->nnodes : 1) * sizeof(*m->tree));
	if (!m->tree)
		return -ENOMEM;
	for (i = 0; i < m->nnodes; i++)
		if (m->nodes[i].parent == GM_BUDGETS_NONE)
			gm_budgets_visit(m, (uint32_t)i, &k);

	if (m->opts.node) {
		top = gm_budgets_find(m, m->opts.node);
		if (top == GM_BUDGETS_NONE)
			rc = -ENOENT;
	}
	memset(tot, 0, sizeof(*tot));
	for (i = 0; i < m->nnodes; i++) {
		gm_budgets_node_t *b = &m->nodes[i];
		unsigned e;

		b->shown = top == GM_BUDGETS_NONE || gm_budgets_below(m, (uint32_t)i, top);
		if (!b->shown)
			continue;
		tot->nodes++;
		for (e = 0; e < gm_budget_event_count; e++)
			tot->violations[e] += b->violations[e];
		tot->evictions += b->evictions;
		tot->eviction_ns += b->eviction_ns;
		tot->reclaimed += b->reclaimed;
		tot->leaky += b->leaky;
		tot->failed += b->failed;
	}
	for (i = 0; i < m->nvalids; i++)
		tot->validations += (uint64_t)gm_budgets_valid_shown(m, &m->valids[i]);
	return rc;
}

/* ---- life -------------------------------------------------------------------------- */

void gm_budgets_opts_default(gm_budgets_opts_t *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->to = UINT64_MAX;
}

gm_budgets_t *gm_budgets_new(const gm_budgets_opts_t *opts)
{
	gm_budgets_t *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	if (opts)
		m->opts = *opts;
	else
		gm_budgets_opts_default(&m->opts);
	if (m->opts.node) {
		m->node_name = strdup(m->opts.node);
		if (!m->node_name) {
			free(m);
			return NULL;
		}
		m->opts.node = m->node_name;
	}
	return m;
}

void gm_budgets_free(gm_budgets_t *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->nnodes; i++)
		free(m->nodes[i].series);
	free(m->nodes);
	free(m->tree);
	free(m->node_map.keys);
	free(m->node_map.vals);
	free(m->tag_map.keys);
	free(m->tag_map.vals);
	free(m->asset_map.keys);
	free(m->asset_map.vals);
	free(m->tag_names);
	free(m->assets);
	free(m->violations);
	free(m->evictions);
	free(m->valids);
	free(m->threads);
	free(m->str);
	free(m->node_name);
	free(m);
}

gm_budgets_t *gm_budgets_build(gm_reader_t *r, const gm_budgets_opts_t *opts, int *err)
{
	gm_budgets_t *m = gm_budgets_new(opts);
	gm_event_t ev;
	int rc;

	*err = 0;
	if (!m) {
		*err = -ENOMEM;
		return NULL;
	}
	while (gm_reader_next(r, &ev))
		if (gm_budgets_add(m, &ev) < 0)
			goto nomem;
	rc = gm_budgets_finish(m);
	if (rc == -ENOMEM)
		goto nomem;
	*err = rc;
	return m;
nomem:
	gm_budgets_free(m);
	*err = -ENOMEM;
	return NULL;
}

/* ---- results ------------------------------------------------------------------------ */

const gm_budgets_node_t *gm_budgets_nodes(const gm_budgets_t *m, size_t *n)
{
	*n = m->nnodes;
	return m->nodes;
}

const uint32_t *gm_budgets_tree(const gm_budgets_t *m, size_t *n)
{
	*n = m->tree ? m->nnodes : 0;
	return m->tree;
}

const gm_budgets_violation_t *gm_budgets_violations(const gm_budgets_t *m, size_t *n)
{
	*n = m->nviolations;
	return m->violations;
}

const gm_budgets_evict_t *gm_budgets_evictions(const gm_budgets_t *m, size_t *n)
{
	*n = m->nevictions;
	return m->evictions;
}

const gm_budgets_valid_t *gm_budgets_valids(const gm_budgets_t *m, size_t *n)
{
	*n = m->nvalids;
	return m->valids;
}

const gm_budgets_totals_t *gm_budgets_totals(const gm_budgets_t *m)
{
	return &m->totals;
}

uint32_t gm_budgets_find(const gm_budgets_t *m, const char *name)
{
	size_t i;

	for (i = 0; name && i < m->nnodes; i++) {
		const char *s = gm_budgets_at(m, m->nodes[i].name_off);

		if (s && strcmp(s, name) == 0)
			return (uint32_t)i;
	}
	return GM_BUDGETS_NONE;
}

int gm_budgets_valid_shown(const gm_budgets_t *m, const gm_budgets_valid_t *v)
{
	if (v->code == gm_valid_unknown_node || v->node == GM_BUDGETS_NONE)
		return 1;
	return m->nodes[v->node].shown != 0;
}

const char *gm_budgets_tag_name(const gm_budgets_t *m, uint64_t id)
{
	uint32_t *v = id ? gm_budgets_map_find(&m->tag_map, id) : NULL;

	return v ? gm_budgets_at(m, m->tag_names[*v]) : NULL;
}

const char *gm_budgets_asset_name(const gm_budgets_t *m, uint64_t id)
{
	uint32_t *v = id ? gm_budgets_map_find(&m->asset_map, id) : NULL;

	return v ? gm_budgets_at(m, m->assets[*v].name_off) : NULL;
}

const char *gm_budgets_asset_type(const gm_budgets_t *m, uint64_t id)
{
	uint32_t *v = id ? gm_budgets_map_find(&m->asset_map, id) : NULL;

	return v ? gm_budgets_at(m, m->assets[*v].type_off) : NULL;
}

uint64_t gm_budgets_frames(const gm_budgets_t *m)
{
	return m->frames;
}

uint64_t gm_budgets_start_ns(const gm_budgets_t *m)
{
	return m->first_ns;
}

uint64_t gm_budgets_duration_ns(const gm_budgets_t *m)
{
	return m->last_ns - m->first_ns;
}

const gm_budgets_opts_t *gm_budgets_options(const gm_budgets_t *m)
{
	return &m->opts;
}

const char *gm_budgets_event_name(unsigned event)
{
	static const char *const names[gm_budget_event_count] = {
	        [gm_budget_over_soft] = "over_soft",
	        [gm_budget_over_hard] = "over_hard",
	        [gm_budget_failed] = "failed",
	        [gm_budget_heap_full] = "heap_full",
	};

	return event < gm_budget_event_count ? names[event] : "unknown";
}

const char *gm_budgets_policy_name(unsigned policy)
{
	static const char *const names[gm_budget_policy_count] = {
	        [gm_budget_lru] = "lru",
	        [gm_budget_lfu] = "lfu",
	        [gm_budget_largest] = "largest",
	        [gm_budget_priority] = "priority",
	};

	return policy < gm_budget_policy_count ? names[policy] : "unknown";
}

const char *gm_budgets_valid_name(unsigned code)
{
	switch (code) {
	case gm_valid_evictor_no_progress:
		return "evictor_no_progress";
	case gm_valid_unknown_node:
		return "unknown_node";
	case gm_valid_no_evictor:
		return "no_evictor";
	case gm_valid_node_redefined:
		return "node_redefined";
	case gm_valid_bad_policy:
		return "bad_policy";
	default:
		return "unknown";
	}
}
