/* pools.c - the pools model: object pools, pool candidates, garbage-collector runs
 *
 * First pass: pool records become per-pool record lists (only frames in
 * which a pool moved have one), gc and spike records become per-frame GC
 * figures, the latest alloc_cost record is kept, and allocation events are
 * counted per (tag, requested size). Between the passes each (tag, size
 * class) learns whether one requested size holds at least half of its
 * allocations. Second pass: every allocation joins a group - (tag, that
 * exact size) or (tag, the rest of the class) - and the live-block map
 * follows each block to its free, so a group's live count, its peak and
 * how many frames its blocks lived are exact. See pools.h.
 */
#include "analysis/model/pools.h"
#include "analysis/model/grow.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- a small map: two 64-bit words -> three 64-bit values ---------------- */

typedef struct gm_pools_slot {
	uint64_t a, b;
	uint64_t v[3];
	int used;
} gm_pools_slot_t;

struct gm_pools_map {
	gm_pools_slot_t *slots;
	size_t cap, n; /* cap is a power of two */
};

static gm_pools_map_t *gm_pools_map_new(void)
{
	gm_pools_map_t *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->cap = 64;
	m->slots = calloc(m->cap, sizeof(*m->slots));
	if (!m->slots) {
		free(m);
		return NULL;
	}
	return m;
}

static void gm_pools_map_free(gm_pools_map_t *m)
{
	if (!m)
		return;
	free(m->slots);
	free(m);
}

static size_t gm_pools_map_hash(uint64_t a, uint64_t b)
{
	uint64_t h = (a * 0x9e3779b97f4a7c15ull) ^ (b + 0x7f4a7c159e3779b9ull);

	h ^= h >> 31;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 29;
	return (size_t)h;
}

/* The values of key (a, b); created zeroed when create is set. NULL when
 * absent (and not created) or out of memory. */
static uint64_t *gm_pools_map_get(gm_pools_map_t *m, uint64_t a, uint64_t b, int create)
{
	size_t i;

	if (create && (m->n + 1) * 4 > m->cap * 3) {
		gm_pools_slot_t *old = m->slots, *s;
		size_t oldcap = m->cap, k;

		s = calloc(oldcap * 2, sizeof(*s));
		if (!s)
			return NULL;
		m->slots = s;
		m->cap = oldcap * 2;
		for (k = 0; k < oldcap; k++) {
			if (!old[k].used)
				continue;
			i = gm_pools_map_hash(old[k].a, old[k].b) & (m->cap - 1);
			while (s[i].used)
				i = (i + 1) & (m->cap - 1);
			s[i] = old[k];
		}
		free(old);
	}
	i = gm_pools_map_hash(a, b) & (m->cap - 1);
	while (m->slots[i].used) {
		if (m->slots[i].a == a && m->slots[i].b == b)
			return m->slots[i].v;
		i = (i + 1) & (m->cap - 1);
	}
	if (!create)
		return NULL;
	m->slots[i].used = 1;
	m->slots[i].a = a;
	m->slots[i].b = b;
	m->n++;
	return m->slots[i].v;
}

/* ---- helpers ------------------------------------------------------------- */

/* GM_POOLS_PUSH(arr, cap, n): room for arr[n], or goto nomem. */
#define GM_POOLS_PUSH(arr, cap, n)                   \
	do {                                         \
		if (GM_GROW(arr, cap, (n) + 1) != 0) \
			goto nomem;                  \
	} while (0)

static char *gm_pools_strdup(const void *s, size_t n)
{
	char *d = malloc(n + 1);

	if (!d)
		return NULL;
	if (n) /* an empty name may come without its record's extra units (s NULL) */
		memcpy(d, s, n);
	d[n] = '\0';
	while (n > 0 && d[n - 1] == '\0')
		n--;
	return d;
}

static int gm_pools_cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

/* Size class of n bytes (see pools.h). */
unsigned gm_pools_size_class(uint64_t n)
{
	unsigned c = n <= 1 ? 0 : 64u - (unsigned)__builtin_clzll(n - 1);

	return c < GM_POOLS_CLASSES ? c : GM_POOLS_CLASSES - 1;
}

/* Nearest-rank percentile (see pools.h). */
uint64_t gm_pools_percentile(uint64_t *v, size_t n, uint32_t percentile_milli)
{
	unsigned __int128 rank;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), gm_pools_cmp_u64);
	rank = ((unsigned __int128)percentile_milli * n + 99999) / 100000;
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return v[(size_t)rank - 1];
}

/* ceil(v x (100000 + headroom_milli) / 100000), saturating (see pools.h). */
uint64_t gm_pools_headroom(uint64_t v, uint32_t headroom_milli)
{
	unsigned __int128 r =
	        ((unsigned __int128)v * (100000u + (uint64_t)headroom_milli) + 99999) / 100000;

	return r > UINT64_MAX ? UINT64_MAX : (uint64_t)r;
}

/* Ticks as ns through the reader's rate (ticks when it is unknown). */
double gm_pools_ticks_ns(const gm_pools_t *p, uint64_t ticks)
{
	return p->tsc_hz > 0 ? (double)ticks * 1e9 / p->tsc_hz : (double)ticks;
}

/* Mean ns per timed call of class c (see pools.h). Returns 1 or 0. */
int gm_pools_cost(const gm_pools_t *p, unsigned c, double *ns)
{
	if (!p->have_cost || c >= GM_POOLS_CLASSES || p->cost_calls[c] == 0)
		return 0;
	*ns = gm_pools_ticks_ns(p, p->cost_ticks[c]) / (double)p->cost_calls[c];
	return 1;
}

/* Tag name (see pools.h). */
const char *gm_pools_tag_name(const gm_pools_t *p, uint32_t tag)
{
	size_t i;

	if (tag == 0)
		return "(untagged)";
	for (i = 0; i < p->ntags; i++)
		if (p->tags[i].id == tag)
			return p->tags[i].name;
	return NULL;
}

/* ---- model --------------------------------------------------------------- */

/* An empty model (see pools.h). Returns NULL when out of memory. */
gm_pools_t *gm_pools_new(const gm_pools_opts_t *opts, double tsc_hz)
{
	gm_pools_t *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	if (opts) {
		p->opts = *opts;
	} else {
		p->opts.percentile_milli = GM_POOLS_PERCENTILE_DEFAULT;
		p->opts.headroom_milli = GM_POOLS_HEADROOM_DEFAULT;
		p->opts.churn_frames = GM_POOLS_CHURN_FRAMES_DEFAULT;
		p->opts.candidates = 1;
	}
	if (p->opts.percentile_milli == 0 || p->opts.percentile_milli > 100000)
		p->opts.percentile_milli = GM_POOLS_PERCENTILE_DEFAULT;
	if (p->opts.churn_frames == 0)
		p->opts.churn_frames = 1;
	p->tsc_hz = tsc_hz;
	p->pass = 1;
	if (p->opts.candidates && !(p->sizes = gm_pools_map_new())) {
		free(p);
		return NULL;
	}
	return p;
}

/* Frees the model (see pools.h). */
void gm_pools_free(gm_pools_t *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->npools; i++) {
		free(p->pools[i].name);
		free(p->pools[i].resizes);
		free(p->pools[i].recs);
	}
	free(p->pools);
	for (i = 0; i < p->ntags; i++)
		free(p->tags[i].name);
	free(p->tags);
	free(p->marks);
	free(p->gc_frames);
	free(p->spikes);
	free(p->groups);
	free(p->ranked);
	free(p->thread_tag);
	gm_pools_map_free(p->sizes);
	gm_pools_map_free(p->domin);
	gm_pools_map_free(p->gindex);
	gm_pools_map_free(p->gsites);
	gm_pools_map_free(p->overflow);
	gm_sites_free(&p->sites_now);
	gm_live_free(p->live);
	free(p);
}

/* The pool with this id now; a new, undefined one when create is set and
 * none is known (or fresh is set: a pool_def starts a new pool). NULL
 * when out of memory. */
static gm_pools_pool_t *gm_pools_pool(gm_pools_t *p, uint64_t id, int fresh)
{
	gm_pools_pool_t *pool;
	size_t i;

	if (!fresh) {
		if (id < 256) {
			if (p->by_id[id])
				return &p->pools[p->by_id[id] - 1];
		} else {
			for (i = p->npools; i-- > 0;)
				if (p->pools[i].id == id)
					return &p->pools[i];
		}
	}
	GM_POOLS_PUSH(p->pools, p->pools_cap, p->npools);
	pool = &p->pools[p->npools++];
	memset(pool, 0, sizeof(*pool));
	pool->id = (uint32_t)id;
	if (id < 256)
		p->by_id[id] = p->npools;
	return pool;
nomem:
	return NULL;
}

static int gm_pools_frame_mark(gm_pools_t *p, const gm_event_t *ev)
{
	if (ev->x != 0)
		return 0; /* secondary frame sets do not end main frames */
	p->last_mark = ev->a;
	if (p->pass != 1)
		return 0;
	GM_POOLS_PUSH(p->marks, p->marks_cap, p->nmarks);
	p->marks[p->nmarks].frame = ev->a;
	p->marks[p->nmarks].ns = ev->ns;
	p->nmarks++;
	return 0;
nomem:
	return -ENOMEM;
}

static int gm_pools_def(gm_pools_t *p, const gm_event_t *ev)
{
	gm_pools_pool_t *pool = gm_pools_pool(p, ev->a, 0);

	if (!pool)
		return -ENOMEM;
	/* a second definition of an id: a new pool (libgmtrace gives a
	 * destroyed pool's id again once all 255 were used) */
	if (pool->defined && !(pool = gm_pools_pool(p, ev->a, 1)))
		return -ENOMEM;
	free(pool->name);
	pool->name = gm_pools_strdup(ev->extra + 2, (size_t)ev->b);
	if (!pool->name)
		return -ENOMEM;
	pool->defined = 1;
	pool->object_size = ev->extra[0];
	pool->capacity_initial = ev->extra[1];
	pool->capacity = ev->extra[1];
	pool->def_frame = p->last_mark + 1;
	pool->def_ns = ev->ns;
	return 0;
}

/* A pool_frame's in-use or high-water word: signed; below zero (more
 * releases than acquires, written by writers before pool_underflow) is 0. */
static uint64_t gm_pools_count(uint64_t word)
{
	return (int64_t)word < 0 ? 0 : word;
}

static int gm_pools_pool_rec(gm_pools_t *p, const gm_event_t *ev)
{
	gm_pools_pool_t *pool = gm_pools_pool(p, ev->b, 0);
	gm_pools_rec_t *r;
	uint64_t in_use = gm_pools_count(ev->extra[4]), high = gm_pools_count(ev->extra[5]);

	if (!pool)
		return -ENOMEM;
	if (pool->nrecs > 0 && pool->recs[pool->nrecs - 1].frame >= ev->a) {
		/* the same frame twice (or out of order): fold into the last one */
		r = &pool->recs[pool->nrecs - 1];
		r->acquires += ev->extra[0];
		r->served += ev->extra[1];
		r->releases += ev->extra[2];
		r->returned += ev->extra[3];
		r->in_use = in_use;
		if (high > r->high_water)
			r->high_water = high;
		return 0;
	}
	GM_POOLS_PUSH(pool->recs, pool->recs_cap, pool->nrecs);
	r = &pool->recs[pool->nrecs++];
	r->frame = ev->a;
	r->acquires = ev->extra[0];
	r->served = ev->extra[1];
	r->releases = ev->extra[2];
	r->returned = ev->extra[3];
	r->in_use = in_use;
	r->high_water = high;
	return 0;
nomem:
	return -ENOMEM;
}

static int gm_pools_gc(gm_pools_t *p, const gm_event_t *ev)
{
	uint64_t frame = p->last_mark + 1, ns = ev->extra[0];
	unsigned g = ev->a < GM_POOLS_GENERATIONS ? (unsigned)ev->a : GM_POOLS_GENERATIONS - 1;
	gm_pools_gc_gen_t *gen = &p->gc_gens[g];
	gm_pools_gc_frame_t *f;

	gen->runs++;
	gen->pause_ns += ns;
	gen->collected += ev->b;
	gen->uncollectable += ev->extra[1];
	if (ns > gen->max_ns)
		gen->max_ns = ns;
	p->gc_runs++;
	p->gc_pause_ns += ns;
	if (ns > p->gc_max_ns)
		p->gc_max_ns = ns;
	if (p->ngc_frames == 0 || p->gc_frames[p->ngc_frames - 1].frame != frame) {
		GM_POOLS_PUSH(p->gc_frames, p->gc_frames_cap, p->ngc_frames);
		f = &p->gc_frames[p->ngc_frames++];
		memset(f, 0, sizeof(*f));
		f->frame = frame;
	}
	f = &p->gc_frames[p->ngc_frames - 1];
	f->runs++;
	f->pause_ns += ns;
	f->collected += ev->b;
	if (ns > f->max_ns)
		f->max_ns = ns;
	return 0;
nomem:
	return -ENOMEM;
}

static int gm_pools_tag_def(gm_pools_t *p, const gm_event_t *ev)
{
	char *name = gm_pools_strdup(ev->extra, (size_t)ev->b);
	size_t i;

	if (!name)
		return -ENOMEM;
	for (i = 0; i < p->ntags; i++) {
		if (p->tags[i].id == ev->a) {
			free(p->tags[i].name);
			p->tags[i].name = name;
			return 0;
		}
	}
	GM_POOLS_PUSH(p->tags, p->tags_cap, p->ntags);
	p->tags[p->ntags].id = (uint32_t)ev->a;
	p->tags[p->ntags].name = name;
	p->ntags++;
	return 0;
nomem:
	free(name);
	return -ENOMEM;
}

/* The tag in force on a thread (context records). */
static uint32_t gm_pools_thread_tag(const gm_pools_t *p, uint32_t thread)
{
	return thread < p->nthread_tags ? p->thread_tag[thread] : 0;
}

static int gm_pools_context(gm_pools_t *p, const gm_event_t *ev)
{
	if (ev->thread >= p->nthread_tags) {
		uint32_t n = ev->thread + 16, *t = realloc(p->thread_tag, n * sizeof(*t));

		if (!t)
			return -ENOMEM;
		memset(t + p->nthread_tags, 0, (n - p->nthread_tags) * sizeof(*t));
		p->thread_tag = t;
		p->nthread_tags = n;
	}
	p->thread_tag[ev->thread] = (uint32_t)ev->b;
	return 0;
}

/* First pass: one allocation of size bytes, counted by (tag, size). */
static int gm_pools_count_size(gm_pools_t *p, uint32_t thread, uint64_t size)
{
	uint64_t *v;

	p->alloc_events++;
	if (!p->sizes)
		return 0;
	v = gm_pools_map_get(p->sizes, gm_pools_thread_tag(p, thread), size, 1);
	if (!v)
		return -ENOMEM;
	v[0]++;
	return 0;
}

/* First pass (see pools.h). Returns 0 or -ENOMEM. */
int gm_pools_add(gm_pools_t *p, const gm_event_t *ev)
{
	gm_pools_pool_t *pool;
	int rc = 0;

	if (p->failed)
		return -ENOMEM;
	if (p->nevents == 0 || ev->ns < p->first_ns)
		p->first_ns = ev->ns;
	if (p->nevents == 0 || ev->ns > p->last_ns)
		p->last_ns = ev->ns;
	p->nevents++;
	switch (ev->type) {
	case gm_rec_frame:
		rc = gm_pools_frame_mark(p, ev);
		break;
	case gm_rec_pool_def:
		rc = gm_pools_def(p, ev);
		break;
	case gm_rec_pool_resize:
		if (!(pool = gm_pools_pool(p, ev->a, 0)))
			goto nomem;
		GM_POOLS_PUSH(pool->resizes, pool->resizes_cap, pool->nresizes);
		pool->resizes[pool->nresizes].frame = p->last_mark + 1;
		pool->resizes[pool->nresizes].ns = ev->ns;
		pool->resizes[pool->nresizes].capacity = ev->b;
		pool->nresizes++;
		pool->capacity = ev->b;
		break;
	case gm_rec_pool_destroy:
		if (!(pool = gm_pools_pool(p, ev->a, 0)))
			goto nomem;
		if (!pool->destroyed) {
			pool->destroyed = 1;
			pool->destroy_frame = p->last_mark + 1;
			pool->destroy_ns = ev->ns;
		}
		break;
	case gm_rec_pool_frame:
		rc = gm_pools_pool_rec(p, ev);
		break;
	case gm_rec_gc:
		rc = gm_pools_gc(p, ev);
		break;
	case gm_rec_spike:
		GM_POOLS_PUSH(p->spikes, p->spikes_cap, p->nspikes);
		p->spikes[p->nspikes++] = ev->a;
		break;
	case gm_rec_level:
		if (ev->a == gm_level_frames)
			p->frames_level = 1;
		break;
	case gm_rec_frame_sum:
		p->sum_frames++;
		p->sum_allocations += ev->extra[0];
		p->sum_ticks += ev->extra[6];
		break;
	case gm_rec_alloc_cost: {
		uint64_t n = ev->b < ev->nextra ? ev->b : ev->nextra, c;

		if (n > GM_POOLS_CLASSES)
			n = GM_POOLS_CLASSES;
		memset(p->cost_calls, 0, sizeof(p->cost_calls));
		memset(p->cost_ticks, 0, sizeof(p->cost_ticks));
		for (c = 0; c < n; c++) {
			p->cost_calls[c] = ev->extra[2 * c];
			p->cost_ticks[c] = ev->extra[2 * c + 1];
		}
		p->have_cost = 1;
		break;
	}
	case gm_rec_tag_def:
		rc = gm_pools_tag_def(p, ev);
		break;
	case gm_rec_context:
		rc = gm_pools_context(p, ev);
		break;
	case gm_rec_alloc:
	case gm_rec_realloc:
		if (ev->a != 0 || ev->type == gm_rec_alloc)
			rc = gm_pools_count_size(p, ev->thread, ev->b);
		break;
	default:
		break;
	}
	if (rc < 0)
		p->failed = 1;
	return rc;
nomem:
	p->failed = 1;
	return -ENOMEM;
}

/* ---- candidates (second pass) ------------------------------------------- */

#define GM_POOLS_CLASS_KEY (1ull << 63) /* a group key holding a class, not a size */

/* Between the passes (see pools.h). Returns 0 or -ENOMEM. */
int gm_pools_candidates_begin(gm_pools_t *p)
{
	size_t i;

	if (p->failed)
		return -ENOMEM;
	if (!p->sizes)
		return 0;
	p->domin = gm_pools_map_new();
	p->gindex = gm_pools_map_new();
	p->live = gm_live_new(0);
	if (!p->domin || !p->gindex || !p->live)
		goto nomem;
	/* per (tag, class): v[0] allocations, v[1] the most of one size, v[2] that size */
	for (i = 0; i < p->sizes->cap; i++) {
		const gm_pools_slot_t *s = &p->sizes->slots[i];
		uint64_t *d;

		if (!s->used)
			continue;
		d = gm_pools_map_get(p->domin, s->a, gm_pools_size_class(s->b), 1);
		if (!d)
			goto nomem;
		d[0] += s->v[0];
		if (s->v[0] > d[1] || (s->v[0] == d[1] && s->b < d[2])) {
			d[1] = s->v[0];
			d[2] = s->b;
		}
	}
	/* what each frame's pool overflows took from the heap */
	for (i = 0; i < p->npools; i++) {
		const gm_pools_pool_t *pool = &p->pools[i];
		size_t k;

		if (!pool->object_size)
			continue;
		for (k = 0; k < pool->nrecs; k++) {
			const gm_pools_rec_t *rec = &pool->recs[k];
			uint64_t *n;

			if (rec->acquires <= rec->served)
				continue;
			if ((!p->overflow && !(p->overflow = gm_pools_map_new())) ||
			    !(n = gm_pools_map_get(p->overflow, pool->object_size, rec->frame, 1)))
				goto nomem;
			n[0] += rec->acquires - rec->served;
		}
	}
	p->end_mark = p->last_mark;
	p->last_mark = 0;
	if (p->thread_tag)
		memset(p->thread_tag, 0, p->nthread_tags * sizeof(*p->thread_tag));
	p->pass = 2;
	p->candidates_done = 1;
	return 0;
nomem:
	p->failed = 1;
	return -ENOMEM;
}

/* The group of an allocation of size bytes on a thread. NULL: no memory. */
static gm_pools_group_t *gm_pools_group(gm_pools_t *p, uint32_t tag, uint64_t size, size_t *index)
{
	unsigned cls = gm_pools_size_class(size);
	const uint64_t *d = gm_pools_map_get(p->domin, tag, cls, 0);
	int exact = d && 2 * d[1] >= d[0] && d[2] == size;
	uint64_t key = exact ? size : GM_POOLS_CLASS_KEY | cls, *v;
	gm_pools_group_t *g;

	v = gm_pools_map_get(p->gindex, tag, key, 1);
	if (!v)
		return NULL;
	if (v[0]) {
		*index = (size_t)v[0] - 1;
		return &p->groups[*index];
	}
	GM_POOLS_PUSH(p->groups, p->groups_cap, p->ngroups);
	*index = p->ngroups;
	g = &p->groups[p->ngroups++];
	v[0] = p->ngroups;
	memset(g, 0, sizeof(*g));
	g->tag = tag;
	g->exact = exact;
	g->cls = cls;
	g->size = exact ? size : (1ull << cls);
	return g;
nomem:
	return NULL;
}

/* Live-block entries keep the group and the frame of the allocation in
 * seq: group index << 40 | frame. */
#define GM_POOLS_SEQ_FRAME_BITS 40

static void gm_pools_release(gm_pools_t *p, uint64_t ptr, int counted)
{
	gm_live_entry_t e;
	gm_pools_group_t *g;
	uint64_t frame, now = p->last_mark + 1;

	if (ptr == 0 || gm_live_remove(p->live, ptr, &e) < 0)
		return;
	g = &p->groups[e.seq >> GM_POOLS_SEQ_FRAME_BITS];
	frame = e.seq & ((1ull << GM_POOLS_SEQ_FRAME_BITS) - 1);
	g->live--;
	if (!counted)
		return; /* its free was never recorded */
	g->frees++;
	if (now - frame < p->opts.churn_frames)
		g->short_lived++;
}

/* An allocation of size bytes at ptr (site: its site, from gm_sites_event). */
static int gm_pools_allocation(gm_pools_t *p, const gm_event_t *ev, uint64_t ptr, uint64_t size,
                               uint64_t site)
{
	uint64_t frame = p->last_mark + 1, *n;
	gm_pools_group_t *g;
	gm_live_entry_t e;
	size_t gi;

	gm_pools_release(p, ptr, 0); /* a block still live here lost its free */
	if (ev->type == gm_rec_alloc && p->overflow &&
	    (n = gm_pools_map_get(p->overflow, size, frame, 0)) && n[0] > 0) {
		n[0]--; /* a pool's overflow: pooled already */
		p->overflow_allocations++;
		return 0;
	}
	g = gm_pools_group(p, gm_pools_thread_tag(p, ev->thread), size, &gi);
	if (!g)
		return -ENOMEM;
	if (site) {
		if ((!p->gsites && !(p->gsites = gm_pools_map_new())) ||
		    !(n = gm_pools_map_get(p->gsites, gi, site - 1, 1)))
			return -ENOMEM;
		n[0]++;
	}
	g->allocations++;
	g->allocated_bytes += size;
	if (frame <= p->end_mark)
		g->allocations_in_frames++;
	if (ptr == 0)
		return 0;
	memset(&e, 0, sizeof(e));
	e.ptr = ptr;
	e.size = size;
	e.ns = ev->ns;
	e.seq = ((uint64_t)gi << GM_POOLS_SEQ_FRAME_BITS) |
	        (frame & ((1ull << GM_POOLS_SEQ_FRAME_BITS) - 1));
	e.thread = ev->thread;
	e.kind = ev->x;
	if (gm_live_add(p->live, &e) < 0)
		return -ENOMEM;
	g->live++;
	if (g->live > g->peak_live) {
		g->peak_live = g->live;
		g->peak_frame = frame;
	}
	return 0;
}

/* Second pass (see pools.h). Returns 0 or -ENOMEM. */
int gm_pools_candidates_add(gm_pools_t *p, const gm_event_t *ev)
{
	uint64_t site;
	int rc = 0;

	if (p->failed)
		return -ENOMEM;
	if (p->pass != 2)
		return 0;
	if (gm_sites_event(&p->sites_now, ev, &site) != 0) {
		p->failed = 1;
		return -ENOMEM;
	}
	switch (ev->type) {
	case gm_rec_frame:
		rc = gm_pools_frame_mark(p, ev);
		break;
	case gm_rec_context:
		rc = gm_pools_context(p, ev);
		break;
	case gm_rec_alloc:
		rc = gm_pools_allocation(p, ev, ev->a, ev->b, site);
		break;
	case gm_rec_site:
	case gm_rec_site_frames:
		p->has_sites = 1;
		break;
	case gm_rec_free:
		gm_pools_release(p, ev->a, 1);
		break;
	case gm_rec_realloc:
		gm_pools_release(p, ev->extra[0], 1);
		if (ev->a != 0)
			rc = gm_pools_allocation(p, ev, ev->a, ev->b, site);
		break;
	default:
		break;
	}
	if (rc < 0)
		p->failed = 1;
	return rc;
}

/* Both passes and finish (see pools.h). Returns 0 or -ENOMEM. */
int gm_pools_read(gm_pools_t *p, gm_reader_t *r)
{
	gm_event_t ev;

	while (gm_reader_next(r, &ev))
		if (gm_pools_add(p, &ev) < 0)
			return -ENOMEM;
	/* (an events-level capture with no allocation: looked for, none; the
	 * frames level: a level record, or frames that allocated, said by
	 * their sums, with no allocation record) */
	if (p->opts.candidates &&
	    (p->alloc_events > 0 || (!p->frames_level && p->sum_allocations == 0))) {
		if (gm_pools_candidates_begin(p) < 0)
			return -ENOMEM;
		gm_reader_rewind(r);
		while (gm_reader_next(r, &ev))
			if (gm_pools_candidates_add(p, &ev) < 0)
				return -ENOMEM;
	}
	return gm_pools_finish(p);
}

/* ---- results --------------------------------------------------------------- */

/* Starts a walk over a pool's frames (see pools.h). */
void gm_pools_walk_begin(gm_pools_walk_t *w, const gm_pools_pool_t *pool)
{
	memset(w, 0, sizeof(*w));
	w->pool = pool;
	w->frame = pool->first_frame;
	w->capacity = pool->capacity_initial;
}

/* The next frame of a walk (see pools.h). Returns 1, or 0 at the end. */
int gm_pools_walk_next(gm_pools_walk_t *w, gm_pools_row_t *row)
{
	const gm_pools_pool_t *pool = w->pool;

	if (pool->nframes == 0 || w->frame > pool->last_frame || w->frame < pool->first_frame)
		return 0;
	while (w->resize < pool->nresizes && pool->resizes[w->resize].frame <= w->frame)
		w->capacity = pool->resizes[w->resize++].capacity;
	memset(row, 0, sizeof(*row));
	row->frame = w->frame;
	row->capacity = w->capacity;
	while (w->rec < pool->nrecs && pool->recs[w->rec].frame < w->frame)
		w->rec++;
	if (w->rec < pool->nrecs && pool->recs[w->rec].frame == w->frame) {
		const gm_pools_rec_t *r = &pool->recs[w->rec++];

		row->acquires = r->acquires;
		row->served = r->served;
		row->releases = r->releases;
		row->returned = r->returned;
		row->in_use = r->in_use;
		row->high_water = r->high_water > r->in_use ? r->high_water : r->in_use;
		row->recorded = 1;
		w->in_use = r->in_use;
	} else {
		row->in_use = w->in_use;
		row->high_water = w->in_use;
	}
	w->frame++;
	return 1;
}

/* Time of the frame record that ended frame n, or 0 when not read. */
static uint64_t gm_pools_mark_ns(const gm_pools_t *p, uint64_t n)
{
	size_t lo = 0, hi = p->nmarks;

	/* frame numbers only grow in one process; search, then check */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->marks[mid].frame < n)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < p->nmarks && p->marks[lo].frame == n ? p->marks[lo].ns : 0;
}

static int gm_pools_pool_finish(gm_pools_t *p, gm_pools_pool_t *pool)
{
	uint64_t *hw = NULL, *demand = NULL, sum_in_use = 0, n = 0, end_ns;
	unsigned __int128 idle = 0;
	double util = 0, util_peak = 0;
	int util_ok = 1;
	gm_pools_walk_t w;
	gm_pools_row_t row;

	/* the frames of its life */
	if (pool->defined)
		pool->first_frame = pool->def_frame;
	else if (pool->nrecs > 0)
		pool->first_frame = pool->recs[0].frame;
	else if (pool->nresizes > 0)
		pool->first_frame = pool->resizes[0].frame;
	if (pool->nrecs > 0 && pool->recs[0].frame < pool->first_frame)
		pool->first_frame = pool->recs[0].frame;
	pool->last_frame = p->last_mark;
	if (pool->destroyed && pool->destroy_frame < pool->last_frame)
		pool->last_frame = pool->destroy_frame;
	if (pool->nrecs > 0 && pool->recs[pool->nrecs - 1].frame > pool->last_frame)
		pool->last_frame = pool->recs[pool->nrecs - 1].frame;
	pool->nframes = pool->first_frame >= 1 && pool->last_frame >= pool->first_frame ?
	                        pool->last_frame - pool->first_frame + 1 :
	                        0;
	if (pool->nframes > p->nmarks + 2) {
		/* main frames are numbered one after another, one frame record
		 * each: a life longer than the records (and the frame in
		 * progress) is a damaged number, which would make the walk
		 * below gigabytes long */
		if (!p->bad_frame) {
			p->bad_frames_pool = pool->id;
			p->bad_frame = pool->last_frame;
		}
		pool->nframes = p->nmarks + 2;
		pool->last_frame = pool->first_frame + pool->nframes - 1;
	}
	pool->cost_class = gm_pools_size_class(pool->object_size);
	pool->cost_known =
	        pool->object_size > 0 && gm_pools_cost(p, pool->cost_class, &pool->cost_ns);
	pool->utilization_mean = pool->utilization_peak = NAN;
	pool->overflows_per_s = NAN;
	if (pool->nframes == 0)
		return 0;
	if (pool->nframes > SIZE_MAX / sizeof(*hw))
		return -ENOMEM;
	hw = malloc((size_t)pool->nframes * sizeof(*hw));
	demand = malloc((size_t)pool->nframes * sizeof(*demand));
	if (!hw || !demand) {
		free(hw);
		free(demand);
		return -ENOMEM;
	}

	gm_pools_walk_begin(&w, pool);
	while (gm_pools_walk_next(&w, &row)) {
		uint64_t overflows = row.acquires > row.served ? row.acquires - row.served : 0;

		pool->acquires += row.acquires;
		pool->served += row.served;
		pool->overflows += overflows;
		pool->releases += row.releases;
		pool->returned += row.returned;
		if (row.acquires > 0)
			pool->used_frames++;
		if (overflows > 0)
			pool->overflow_frames++;
		if (n == 0 || row.high_water > pool->peak) {
			pool->peak = row.high_water;
			pool->peak_frame = row.frame;
			pool->peak_capacity = row.capacity;
		}
		sum_in_use += row.in_use;
		if (row.capacity > row.in_use)
			idle += (unsigned __int128)(row.capacity - row.in_use) * pool->object_size;
		if (row.capacity == 0) {
			util_ok = 0;
		} else {
			double hu = (double)row.high_water / (double)row.capacity;

			util += (double)row.in_use / (double)row.capacity;
			if (hu > util_peak)
				util_peak = hu;
		}
		hw[n] = row.high_water;
		demand[n] = row.high_water + overflows;
		n++;
		pool->in_use_end = row.in_use;
	}

	pool->in_use_mean = (double)sum_in_use / (double)n;
	if (util_ok) {
		pool->utilization_mean = util / (double)n;
		pool->utilization_peak = util_peak;
	}
	pool->idle_bytes_mean = (double)idle / (double)n;
	if (pool->peak_capacity > pool->peak) {
		/* saturated, as the savings below: a game can declare any sizes */
		unsigned __int128 b =
		        (unsigned __int128)(pool->peak_capacity - pool->peak) * pool->object_size;
		pool->idle_bytes_at_peak = b > UINT64_MAX ? UINT64_MAX : (uint64_t)b;
	}
	pool->overflows_per_frame = (double)pool->overflows / (double)n;
	pool->overflow_frame_fraction = (double)pool->overflow_frames / (double)n;
	end_ns = gm_pools_mark_ns(p, pool->last_frame);
	if (pool->defined && end_ns > pool->def_ns) {
		pool->span_ns = end_ns - pool->def_ns;
		pool->overflows_per_s = (double)pool->overflows * 1e9 / (double)pool->span_ns;
	}
	if (pool->cost_known)
		pool->saved_ns = (double)pool->served * pool->cost_ns;

	pool->hw_percentile = gm_pools_percentile(hw, (size_t)n, p->opts.percentile_milli);
	pool->recommended = gm_pools_headroom(pool->hw_percentile, p->opts.headroom_milli);
	pool->demand_percentile = gm_pools_percentile(demand, (size_t)n, p->opts.percentile_milli);
	pool->demand_recommended =
	        gm_pools_headroom(pool->demand_percentile, p->opts.headroom_milli);
	{
		/* in 128 bits, saturated: a damaged capture can hold any sizes */
		__int128 saves = ((__int128)pool->capacity - (__int128)pool->recommended) *
		                 (__int128)pool->object_size;
		pool->resize_saves_bytes = saves > INT64_MAX ? INT64_MAX :
		                           saves < INT64_MIN ? INT64_MIN :
		                                               (int64_t)saves;
	}
	pool->never_fills = pool->capacity > 0 && 2 * pool->peak < pool->capacity;
	pool->overflows_every_frame =
	        pool->used_frames > 0 && 10 * pool->overflow_frames >= 9 * pool->used_frames;
	free(hw);
	free(demand);
	return 0;
}

/* Ranking of churn groups: allocator time saved where the size class was
 * timed (those first), then allocations per frame, then allocations; ties
 * by tag, exact before class, size. */
static const gm_pools_group_t *gm_pools_sort_groups;

static int gm_pools_cmp_group(const void *x, const void *y)
{
	const gm_pools_group_t *a = &gm_pools_sort_groups[*(const size_t *)x];
	const gm_pools_group_t *b = &gm_pools_sort_groups[*(const size_t *)y];

	if (a->cost_known != b->cost_known)
		return a->cost_known ? -1 : 1;
	if (a->cost_known && a->saved_ns != b->saved_ns)
		return a->saved_ns > b->saved_ns ? -1 : 1;
	if (a->allocations_in_frames != b->allocations_in_frames)
		return a->allocations_in_frames > b->allocations_in_frames ? -1 : 1;
	if (a->allocations != b->allocations)
		return a->allocations > b->allocations ? -1 : 1;
	if (a->tag != b->tag)
		return a->tag < b->tag ? -1 : 1;
	if (a->exact != b->exact)
		return a->exact ? -1 : 1;
	return a->size < b->size ? -1 : a->size > b->size;
}

/* Each group's most frequent call sites, from the (group, stack) counts. */
static void gm_pools_candidates_sites(gm_pools_t *p)
{
	size_t k;
	for (k = 0; k < p->ngroups; k++)
		p->groups[k].nsites = 0;
	if (!p->gsites)
		return;
	for (k = 0; k < p->gsites->cap; k++) {
		const gm_pools_slot_t *s = &p->gsites->slots[k];
		gm_pools_group_t *g;
		unsigned j;
		if (!s->used || s->a >= p->ngroups)
			continue;
		g = &p->groups[s->a];
		/* insert (stack s->b, count) in the group's top list: more first,
		 * then the lower id, so the order does not depend on the map */
		for (j = g->nsites; j > 0; j--) {
			uint64_t c = g->site_counts[j - 1];
			if (c > s->v[0] || (c == s->v[0] && g->site_ids[j - 1] < s->b))
				break;
			if (j < GM_POOLS_SITES) {
				g->site_counts[j] = c;
				g->site_ids[j] = g->site_ids[j - 1];
			}
		}
		if (j < GM_POOLS_SITES) {
			g->site_counts[j] = s->v[0];
			g->site_ids[j] = (uint32_t)s->b;
			if (g->nsites < GM_POOLS_SITES)
				g->nsites++;
		}
	}
}

static int gm_pools_candidates_finish(gm_pools_t *p)
{
	size_t i;

	gm_pools_candidates_sites(p);
	for (i = 0; i < p->ngroups; i++) {
		gm_pools_group_t *g = &p->groups[i];

		g->churn = 2 * g->short_lived > g->allocations;
		g->per_frame =
		        p->nmarks ? (double)g->allocations_in_frames / (double)p->nmarks : NAN;
		g->suggested = gm_pools_headroom(g->peak_live, p->opts.headroom_milli);
		g->cost_known = gm_pools_cost(p, g->cls, &g->cost_ns);
		if (g->cost_known) {
			g->saved_ns = (double)g->allocations * g->cost_ns;
			g->saved_ns_per_frame = p->nmarks ? g->per_frame * g->cost_ns : NAN;
		}
	}
	free(p->ranked);
	p->ranked = malloc((p->ngroups ? p->ngroups : 1) * sizeof(*p->ranked));
	if (!p->ranked)
		return -ENOMEM;
	p->nranked = 0;
	for (i = 0; i < p->ngroups; i++)
		if (p->groups[i].churn)
			p->ranked[p->nranked++] = i;
	gm_pools_sort_groups = p->groups;
	qsort(p->ranked, p->nranked, sizeof(*p->ranked), gm_pools_cmp_group);
	gm_pools_sort_groups = NULL;
	return 0;
}

/* Computes the results (see pools.h). Returns 0 or -ENOMEM. */
int gm_pools_finish(gm_pools_t *p)
{
	size_t i;

	if (p->failed)
		return -ENOMEM;
	if (p->pass == 2)
		p->last_mark = p->end_mark;
	for (i = 0; i < p->npools; i++)
		if (gm_pools_pool_finish(p, &p->pools[i]) < 0)
			goto nomem;
	if (p->candidates_done && gm_pools_candidates_finish(p) < 0)
		goto nomem;
	if (p->nspikes > 0)
		qsort(p->spikes, p->nspikes, sizeof(*p->spikes), gm_pools_cmp_u64);
	p->gc_spike_frames = 0;
	for (i = 0; i < p->ngc_frames; i++) {
		gm_pools_gc_frame_t *f = &p->gc_frames[i];

		f->spike = p->nspikes > 0 && bsearch(&f->frame, p->spikes, p->nspikes,
		                                     sizeof(*p->spikes), gm_pools_cmp_u64) != NULL;
		p->gc_spike_frames += f->spike;
	}
	return 0;
nomem:
	p->failed = 1;
	return -ENOMEM;
}
