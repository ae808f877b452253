/* stacks.c - allocations per call stack (stacks.h) */
#include "analysis/model/stacks.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/model/grow.h"
#include "analysis/model/live.h"

/* id -> index map, open addressing; slot holds index + 1 (0: empty). */
typedef struct gm_stacks_map {
	uint32_t *keys;
	uint32_t *vals;
	size_t cap, n; /* cap a power of two */
} gm_stacks_map_t;

typedef struct gm_stacks_def {
	uint32_t id, nframes;
	uint64_t *frames;
	uint64_t at; /* event number */
} gm_stacks_def_t;

/* A Python code object (pycode record). */
typedef struct gm_stacks_pycode {
	uint32_t id, first_line;
	char *name, *file;
} gm_stacks_pycode_t;

struct gm_stacks {
	uint64_t first_ns; /* the first event's time */
	char *exe;         /* the program's path (the first process record), or NULL */
	gm_stack_site_t *sites;
	size_t nsites, capsites;
	gm_stacks_map_t site_of; /* stack id -> site index */
	gm_stacks_def_t *defs;
	size_t ndefs, capdefs;
	gm_stacks_map_t def_of; /* stack id -> def index */
	gm_stacks_pycode_t *pycodes;
	size_t npycodes, cappycodes;
	gm_stacks_map_t pycode_of; /* code id -> pycodes index */
	gm_sites_t sites_now;      /* each thread's pending site */
	gm_live_t *live;           /* live blocks; seq = 1 + site index (0: no site) */
	gm_stack_module_t *mods;
	size_t nmods, capmods;
	gm_stacks_totals_t totals;
	uint64_t nevents;   /* events taken so far */
	uint64_t from, to;  /* frames counted (gm_stacks_frames) */
	uint64_t last_mark; /* frame number of the last main mark */
	/* gm_stacks_filter: the names, the tag and asset ids that match them,
	 * and each thread's context (tag id, asset id) */
	const char *ftag, *fasset;
	uint64_t fasset_id; /* gm_stacks_filter_asset_id (0: none) */
	uint64_t *tag_ids, *asset_ids;
	size_t ntag_ids, cap_tag_ids, nasset_ids, cap_asset_ids;
	uint64_t (*ctx)[2];
	size_t nctx;
};

static size_t gm_stacks_slot(uint32_t id, size_t cap)
{
	return (size_t)(((uint64_t)id * 0x9e3779b97f4a7c15ull) >> 20) & (cap - 1);
}

/* The value for id, or -1. */
static long gm_stacks_map_get(const gm_stacks_map_t *m, uint32_t id)
{
	size_t i;
	if (!m->cap)
		return -1;
	for (i = gm_stacks_slot(id, m->cap); m->vals[i]; i = (i + 1) & (m->cap - 1))
		if (m->keys[i] == id)
			return (long)m->vals[i] - 1;
	return -1;
}

static int gm_stacks_map_put(gm_stacks_map_t *m, uint32_t id, uint32_t val)
{
	size_t i;
	if ((m->n + 1) * 4 > m->cap * 3) {
		gm_stacks_map_t g = {0};
		g.cap = m->cap ? m->cap * 2 : 64;
		g.keys = calloc(g.cap, sizeof(uint32_t));
		g.vals = calloc(g.cap, sizeof(uint32_t));
		if (!g.keys || !g.vals) {
			free(g.keys);
			free(g.vals);
			return -ENOMEM;
		}
		for (i = 0; i < m->cap; i++)
			if (m->vals[i]) {
				size_t j = gm_stacks_slot(m->keys[i], g.cap);
				while (g.vals[j])
					j = (j + 1) & (g.cap - 1);
				g.keys[j] = m->keys[i];
				g.vals[j] = m->vals[i];
			}
		g.n = m->n;
		free(m->keys);
		free(m->vals);
		*m = g;
	}
	for (i = gm_stacks_slot(id, m->cap); m->vals[i]; i = (i + 1) & (m->cap - 1))
		;
	m->keys[i] = id;
	m->vals[i] = val + 1;
	m->n++;
	return 0;
}

gm_stacks_t *gm_stacks_new(void)
{
	gm_stacks_t *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	if (!(s->live = gm_live_new(0))) {
		free(s);
		return NULL;
	}
	s->from = 1;
	s->to = UINT64_MAX;
	return s;
}

void gm_stacks_frames(gm_stacks_t *s, uint64_t from, uint64_t to)
{
	s->from = from;
	s->to = to;
}

void gm_stacks_filter(gm_stacks_t *s, const char *tag, const char *asset)
{
	s->ftag = tag;
	s->fasset = asset;
}

void gm_stacks_filter_asset_id(gm_stacks_t *s, uint64_t id)
{
	s->fasset_id = id;
}

static int gm_stacks_has(const uint64_t *ids, size_t n, uint64_t id)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (ids[i] == id)
			return 1;
	return 0;
}

/* Notes id as matching the filter (once). */
static int gm_stacks_note(uint64_t **ids, size_t *nids, size_t *cap, uint64_t id)
{
	if (gm_stacks_has(*ids, *nids, id))
		return 0;
	if (gm_grow((void **)ids, cap, *nids + 1, sizeof(**ids)) != 0)
		return -ENOMEM;
	(*ids)[(*nids)++] = id;
	return 0;
}

/* Notes id as matching the filter when name (n bytes) is want, or under it
 * (prefix: "want/..."). */
static int gm_stacks_match(uint64_t **ids, size_t *nids, size_t *cap, uint64_t id, const char *name,
                           size_t n, const char *want, int prefix)
{
	size_t w = strlen(want);
	if (n < w || memcmp(name, want, w) != 0 || (n > w && (!prefix || name[w] != '/')))
		return 0;
	return gm_stacks_note(ids, nids, cap, id);
}

void gm_stacks_filter_matched(const gm_stacks_t *s, size_t *ntags, size_t *nassets)
{
	*ntags = s->ntag_ids;
	*nassets = s->nasset_ids;
}

/* 1 when an allocation on thread now passes the tag and asset filters. */
static int gm_stacks_wanted(const gm_stacks_t *s, uint32_t thread)
{
	uint64_t tag = thread < s->nctx ? s->ctx[thread][0] : 0;
	uint64_t asset = thread < s->nctx ? s->ctx[thread][1] : 0;
	if (s->ftag && !gm_stacks_has(s->tag_ids, s->ntag_ids, tag))
		return 0;
	if ((s->fasset || s->fasset_id) && !gm_stacks_has(s->asset_ids, s->nasset_ids, asset))
		return 0;
	return 1;
}

/* Names without the NULs that pad them. */
static size_t gm_stacks_name_len(const void *p, size_t n)
{
	const char *c = p;
	while (n > 0 && c[n - 1] == '\0')
		n--;
	return n;
}

void gm_stacks_free(gm_stacks_t *s)
{
	size_t i;
	if (!s)
		return;
	for (i = 0; i < s->ndefs; i++)
		free(s->defs[i].frames);
	for (i = 0; i < s->nmods; i++)
		free(s->mods[i].path);
	free(s->exe);
	for (i = 0; i < s->npycodes; i++) {
		free(s->pycodes[i].name);
		free(s->pycodes[i].file);
	}
	free(s->pycodes);
	free(s->pycode_of.keys);
	free(s->pycode_of.vals);
	free(s->defs);
	free(s->sites);
	free(s->site_of.keys);
	free(s->site_of.vals);
	free(s->def_of.keys);
	free(s->def_of.vals);
	gm_sites_free(&s->sites_now);
	free(s->mods);
	free(s->tag_ids);
	free(s->asset_ids);
	free(s->ctx);
	gm_live_free(s->live);
	free(s);
}

/* Index + 1 of the site of stack id, made on first use. */
static int gm_stacks_site_for(gm_stacks_t *s, uint32_t id, uint64_t *seq)
{
	long k = gm_stacks_map_get(&s->site_of, id);
	if (k < 0) {
		if (gm_grow((void **)&s->sites, &s->capsites, s->nsites + 1, sizeof(*s->sites)) !=
		            0 ||
		    gm_stacks_map_put(&s->site_of, id, (uint32_t)s->nsites) != 0)
			return -ENOMEM;
		memset(&s->sites[s->nsites], 0, sizeof(s->sites[0]));
		s->sites[s->nsites].id = id;
		k = (long)s->nsites++;
	}
	*seq = (uint64_t)k + 1;
	return 0;
}

/* An allocation (pend: its site, from gm_sites_event). */
static int gm_stacks_alloc(gm_stacks_t *s, const gm_event_t *ev, uint64_t ptr, uint64_t size,
                           uint64_t pend)
{
	gm_live_entry_t e = {.ptr = ptr, .size = size, .ns = ev->ns, .thread = ev->thread};
	uint64_t frame = s->last_mark + 1;
	if (frame < s->from || frame > s->to || !gm_stacks_wanted(s, ev->thread)) {
		/* outside the frames, tag or asset asked for: not counted */
		if (ptr)
			gm_live_remove(s->live, ptr, NULL);
		return 0;
	}
	s->totals.allocations++;
	s->totals.allocated_bytes += size;
	if (pend) {
		gm_stack_site_t *site;
		if (gm_stacks_site_for(s, (uint32_t)(pend - 1), &e.seq) != 0)
			return -ENOMEM;
		site = &s->sites[e.seq - 1];
		if (pend == 1) { /* stack id 0 */
			s->totals.not_kept++;
			s->totals.not_kept_bytes += size;
		} else if (pend - 1 >= GM_SITES_WHOLE) {
			s->totals.whole++;
			s->totals.whole_bytes += size;
		}
		site->allocations++;
		site->allocated_bytes += size;
		if (size > site->largest)
			site->largest = size;
	} else {
		s->totals.unattributed++;
		s->totals.unattributed_bytes += size;
	}
	if (!ptr)
		return 0;
	gm_live_remove(s->live, ptr, NULL); /* a free we never saw */
	return gm_live_add(s->live, &e) == -ENOMEM ? -ENOMEM : 0;
}

static uint64_t gm_sites_hash(const uint64_t *pcs, uint64_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n, i;
	for (i = 0; i < n; i++) {
		h = (h ^ pcs[i]) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	return h;
}

/* The id of a stack written whole, interned on first sight; 0 when out of
 * memory. */
static uint32_t gm_sites_whole_id(gm_sites_t *s, const uint64_t *pcs, uint64_t n)
{
	size_t i, mask;
	uint64_t *w;
	if ((s->nwhole + 1) * 4 > s->whole_cap * 3) { /* grow at 3/4 */
		size_t cap = s->whole_cap ? s->whole_cap * 2 : 256, k;
		uint32_t *t = calloc(cap, sizeof(*t));
		if (!t)
			return 0;
		for (k = 0; k < s->nwhole; k++) {
			const uint64_t *e = s->whole[k];
			i = gm_sites_hash(e + 1, e[0]) & (cap - 1);
			while (t[i])
				i = (i + 1) & (cap - 1);
			t[i] = (uint32_t)k + 1;
		}
		free(s->whole_slots);
		s->whole_slots = t;
		s->whole_cap = cap;
	}
	mask = s->whole_cap - 1;
	for (i = gm_sites_hash(pcs, n) & mask; s->whole_slots[i]; i = (i + 1) & mask) {
		const uint64_t *e = s->whole[s->whole_slots[i] - 1];
		if (e[0] == n && memcmp(e + 1, pcs, (size_t)n * 8) == 0)
			return GM_SITES_WHOLE + s->whole_slots[i] - 1;
	}
	if (s->nwhole >= UINT32_MAX - GM_SITES_WHOLE ||
	    gm_grow((void **)&s->whole, &s->capwhole, s->nwhole + 1, sizeof(*s->whole)) != 0 ||
	    !(w = malloc((size_t)(n + 1) * 8)))
		return 0;
	w[0] = n;
	memcpy(w + 1, pcs, (size_t)n * 8);
	s->whole[s->nwhole] = w;
	s->whole_slots[i] = (uint32_t)++s->nwhole;
	return GM_SITES_WHOLE + (uint32_t)s->nwhole - 1;
}

int gm_sites_whole(const gm_sites_t *s, uint32_t id, const uint64_t **frames, uint32_t *n)
{
	if (id < GM_SITES_WHOLE || id - GM_SITES_WHOLE >= s->nwhole)
		return 0;
	*n = (uint32_t)s->whole[id - GM_SITES_WHOLE][0];
	*frames = s->whole[id - GM_SITES_WHOLE] + 1;
	return 1;
}

int gm_sites_event(gm_sites_t *s, const gm_event_t *ev, uint64_t *site)
{
	*site = 0;
	switch (ev->type) {
	case gm_rec_site:
	case gm_rec_site_frames: {
		size_t had = s->n;
		uint64_t id = ev->a;
		if (gm_grow((void **)&s->pending, &s->n, (size_t)ev->thread + 1,
		            sizeof(*s->pending)) != 0)
			return -ENOMEM;
		memset(s->pending + had, 0, (s->n - had) * sizeof(*s->pending));
		/* (the reader checked a whole stack's frame count) */
		if (ev->type == gm_rec_site_frames &&
		    !(id = gm_sites_whole_id(s, ev->extra, ev->b)))
			return -ENOMEM;
		s->pending[ev->thread] =
		        id < GM_SITES_WHOLE || ev->type == gm_rec_site_frames ? id + 1 : 0;
		return 0;
	}
	case gm_rec_free:
		/* a realloc's site comes before its call, which may end as a free
		 * (realloc to 0, recorded with the realloc's kind); other frees
		 * (an evictor's, inside the call) leave it be */
		if (ev->x != gm_kind_realloc && ev->x != gm_kind_reallocarray)
			return 0;
		break;
	case gm_rec_alloc:
	case gm_rec_realloc:
	case gm_rec_fail:
		break;
	default:
		return 0;
	}
	if (ev->thread < s->n) {
		*site = s->pending[ev->thread];
		s->pending[ev->thread] = 0;
	}
	return 0;
}

void gm_sites_free(gm_sites_t *s)
{
	size_t i;
	for (i = 0; i < s->nwhole; i++)
		free(s->whole[i]);
	free(s->whole);
	free(s->whole_slots);
	free(s->pending);
	memset(s, 0, sizeof(*s));
}

/* A pycode record: [first line, name bytes] name file (the reader checked
 * the lengths). Ids past 31 bits name no frame. */
static int gm_stacks_pycode_def(gm_stacks_t *s, const gm_event_t *ev)
{
	const char *text = (const char *)ev->extra + 8;
	uint64_t nname = ev->extra[0] >> 32, nfile = ev->b - 8 - nname;
	gm_stacks_pycode_t *c;
	if (ev->a > 0x7fffffffu || gm_stacks_map_get(&s->pycode_of, (uint32_t)ev->a) >= 0)
		return 0; /* defined once */
	if (gm_grow((void **)&s->pycodes, &s->cappycodes, s->npycodes + 1, sizeof(*s->pycodes)) !=
	    0)
		return -ENOMEM;
	c = &s->pycodes[s->npycodes];
	c->id = (uint32_t)ev->a;
	c->first_line = (uint32_t)ev->extra[0];
	c->name = strndup(text, (size_t)nname);
	c->file = strndup(text + nname, (size_t)nfile);
	if (!c->name || !c->file ||
	    gm_stacks_map_put(&s->pycode_of, c->id, (uint32_t)s->npycodes) != 0) {
		free(c->name);
		free(c->file);
		return -ENOMEM;
	}
	s->npycodes++;
	return 0;
}

int gm_stacks_pycode(const gm_stacks_t *s, uint32_t id, const char **name, const char **file,
                     uint32_t *first_line)
{
	long k = gm_stacks_map_get(&s->pycode_of, id);
	if (k < 0)
		return 0;
	*name = s->pycodes[k].name;
	*file = s->pycodes[k].file;
	*first_line = s->pycodes[k].first_line;
	return 1;
}

/* Stack id's frames (n of them: the reader checked they fit). */
static int gm_stacks_define(gm_stacks_t *s, uint32_t id, const uint64_t *frames, uint32_t n)
{
	gm_stacks_def_t *d;
	if (gm_grow((void **)&s->defs, &s->capdefs, s->ndefs + 1, sizeof(*s->defs)) != 0)
		return -ENOMEM;
	d = &s->defs[s->ndefs];
	d->id = id;
	d->at = s->nevents;
	d->nframes = n;
	d->frames = malloc((size_t)n * sizeof(uint64_t));
	if (!d->frames || gm_stacks_map_put(&s->def_of, d->id, (uint32_t)s->ndefs) != 0) {
		free(d->frames);
		return -ENOMEM;
	}
	memcpy(d->frames, frames, (size_t)n * sizeof(uint64_t));
	s->ndefs++;
	if (d->nframes > s->totals.max_frames)
		s->totals.max_frames = d->nframes;
	return 0;
}

int gm_stacks_event(gm_stacks_t *s, const gm_event_t *ev)
{
	uint64_t pend;
	if (s->nevents++ == 0)
		s->first_ns = ev->ns;
	if (gm_sites_event(&s->sites_now, ev, &pend) != 0)
		return -ENOMEM;
	switch (ev->type) {
	case gm_rec_stack:
		/* (writer ids stay under GM_SITES_WHOLE: a larger one is damage) */
		if (ev->a >= GM_SITES_WHOLE || gm_stacks_map_get(&s->def_of, (uint32_t)ev->a) >= 0)
			return 0; /* defined once; a second definition is ignored */
		if (gm_stacks_define(s, (uint32_t)ev->a, ev->extra, (uint32_t)ev->b) != 0)
			return -ENOMEM;
		s->totals.definitions++;
		return 0;
	case gm_rec_site_frames: { /* a stack written whole: defined at first sight */
		uint64_t id = ev->thread < s->sites_now.n ? s->sites_now.pending[ev->thread] : 0;
		if (id-- == 0 || gm_stacks_map_get(&s->def_of, (uint32_t)id) >= 0)
			return 0;
		return gm_stacks_define(s, (uint32_t)id, ev->extra, (uint32_t)ev->b);
	}
	case gm_rec_pycode:
		return gm_stacks_pycode_def(s, ev);
	case gm_rec_alloc:
		return gm_stacks_alloc(s, ev, ev->a, ev->b, pend);
	case gm_rec_realloc:
		if (ev->extra[0])
			gm_live_remove(s->live, ev->extra[0], NULL);
		return gm_stacks_alloc(s, ev, ev->a, ev->b, pend);
	case gm_rec_fail: {
		/* a failed allocation at its site */
		uint64_t frame = s->last_mark + 1, k;
		if (frame < s->from || frame > s->to || !gm_stacks_wanted(s, ev->thread))
			return 0;
		s->totals.failures++;
		if (!pend)
			return 0;
		if (gm_stacks_site_for(s, (uint32_t)(pend - 1), &k) != 0)
			return -ENOMEM;
		s->sites[k - 1].failures++;
		return 0;
	}
	case gm_rec_free:
		gm_live_remove(s->live, ev->a, NULL);
		return 0;
	case gm_rec_process: /* the reader checked its lengths */
		if (!s->exe) {
			size_t n;
			const char *exe = gm_event_process_exe(ev, &n);
			if (n && !(s->exe = strndup(exe, n)))
				return -ENOMEM;
		}
		return 0;
	case gm_rec_module: {
		gm_stack_module_t *m;
		size_t n = (size_t)ev->a;
		if (gm_grow((void **)&s->mods, &s->capmods, s->nmods + 1, sizeof(*s->mods)) != 0)
			return -ENOMEM;
		m = &s->mods[s->nmods];
		m->base = ev->extra[0];
		m->size = ev->extra[1];
		m->loaded_at = s->nevents;
		m->unloaded_at = UINT64_MAX;
		m->loaded_after_ns = ev->ns > s->first_ns ? ev->ns - s->first_ns : 0;
		while (n > 0 && ((const char *)(ev->extra + 2))[n - 1] == '\0')
			n--;
		if (!(m->path = malloc(n + 1)))
			return -ENOMEM;
		memcpy(m->path, ev->extra + 2, n);
		m->path[n] = '\0';
		m->id_len = 0;
		s->nmods++;
		return 0;
	}
	case gm_rec_module_id: { /* the module record just before, at that base */
		size_t i = s->nmods;
		while (i > 0 && s->mods[i - 1].base != ev->a)
			i--;
		if (i > 0 && ev->b > 0 && ev->b <= sizeof(s->mods[i - 1].id)) {
			memcpy(s->mods[i - 1].id, ev->extra, (size_t)ev->b);
			s->mods[i - 1].id_len = (unsigned)ev->b;
		}
		return 0;
	}
	case gm_rec_context: {
		size_t had = s->nctx;
		if (gm_grow((void **)&s->ctx, &s->nctx, (size_t)ev->thread + 1, sizeof(*s->ctx)) !=
		    0)
			return -ENOMEM;
		memset(s->ctx + had, 0, (s->nctx - had) * sizeof(*s->ctx));
		s->ctx[ev->thread][0] = ev->b;
		s->ctx[ev->thread][1] = ev->a;
		return 0;
	}
	case gm_rec_tag_def: /* the reader checked that b name bytes fit */
		return s->ftag ? gm_stacks_match(&s->tag_ids, &s->ntag_ids, &s->cap_tag_ids, ev->a,
		                                 (const char *)ev->extra,
		                                 gm_stacks_name_len(ev->extra, (size_t)ev->b),
		                                 s->ftag, 1) :
		                 0;
	case gm_rec_asset_new:
		if (s->fasset_id)
			return ev->a == s->fasset_id ? gm_stacks_note(&s->asset_ids, &s->nasset_ids,
			                                              &s->cap_asset_ids, ev->a) :
			                               0;
		return s->fasset ? gm_stacks_match(
		                           &s->asset_ids, &s->nasset_ids, &s->cap_asset_ids, ev->a,
		                           (const char *)ev->extra,
		                           gm_stacks_name_len(ev->extra, (size_t)(ev->b & 0xffff)),
		                           s->fasset, 1) :
		                   0;
	case gm_rec_frame:
		if (ev->x == 0) { /* frames numbered as gmtrace frames does: by the marks' a */
			s->totals.marks++;
			s->last_mark = ev->a;
		}
		return 0;
	case gm_rec_module_unload: {
		size_t i = s->nmods;
		while (i-- > 0)
			if (s->mods[i].base == ev->a && s->mods[i].unloaded_at == UINT64_MAX) {
				s->mods[i].unloaded_at = s->nevents;
				break;
			}
		return 0;
	}
	default:
		return 0;
	}
}

long gm_stacks_module_at(const gm_stacks_t *s, uint64_t pc, uint64_t when)
{
	long then = -1, after = -1, last = -1;
	size_t i;
	for (i = 0; i < s->nmods; i++) {
		const gm_stack_module_t *m = &s->mods[i];
		if (pc < m->base || pc - m->base >= m->size)
			continue;
		last = (long)i;
		if (m->loaded_at <= when && when < m->unloaded_at)
			then = (long)i;
		else if (m->loaded_at > when && after < 0)
			after = (long)i;
	}
	return then >= 0 ? then : after >= 0 ? after : last;
}

int gm_stacks_finish(gm_stacks_t *s)
{
	const gm_live_entry_t *e;
	size_t cursor = 0, i;
	while ((e = gm_live_next(s->live, &cursor)) != NULL) {
		if (!e->seq)
			continue;
		s->sites[e->seq - 1].live_count++;
		s->sites[e->seq - 1].live_bytes += e->size;
	}
	for (i = 0; i < s->nsites; i++) {
		long d = gm_stacks_map_get(&s->def_of, s->sites[i].id);
		if (d >= 0) {
			s->sites[i].frames = s->defs[d].frames;
			s->sites[i].nframes = s->defs[d].nframes;
			s->sites[i].defined_at = s->defs[d].at;
		} else if (s->sites[i].id != 0) {
			s->totals.undefined++;
		}
	}
	return 0;
}

int gm_stacks_defined(const gm_stacks_t *s, uint32_t id, const uint64_t **frames, uint32_t *n,
                      uint64_t *defined_at)
{
	long d = gm_stacks_map_get(&s->def_of, id);
	if (d < 0)
		return 0;
	*frames = s->defs[d].frames;
	*n = s->defs[d].nframes;
	*defined_at = s->defs[d].at;
	return 1;
}

size_t gm_stacks_count(const gm_stacks_t *s)
{
	return s->nsites;
}

const gm_stack_site_t *gm_stacks_site(const gm_stacks_t *s, size_t i)
{
	return i < s->nsites ? &s->sites[i] : NULL;
}

const gm_stacks_totals_t *gm_stacks_totals(const gm_stacks_t *s)
{
	return &s->totals;
}

const char *gm_stacks_exe(const gm_stacks_t *s)
{
	return s->exe;
}

size_t gm_stacks_nmodules(const gm_stacks_t *s)
{
	return s->nmods;
}

const gm_stack_module_t *gm_stacks_module(const gm_stacks_t *s, size_t i)
{
	return i < s->nmods ? &s->mods[i] : NULL;
}
