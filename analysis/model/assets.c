/* assets.c - the assets model: one pass from events to per-asset, per-type and per-tag state
 *
 * Every live heap block sits in the live-block map (model/live.h) with its
 * owner: the index of an (asset, tag) pair, kept in the entry's caller field
 * `seq`, which the map never interprets. A thread's current context is
 * resolved to a pair when its context record is read, so an allocation costs
 * one map insertion and a free one removal; the pair names the asset, its
 * type and the tag whose counters move, and the tag's parents are walked for
 * the roll-ups. Everything else is indexed arrays that grow by doubling;
 * ids and names go through small open-addressing maps.
 *
 * Things that need the future are settled in gm_assets_finish(): a tag's
 * growth (least squares over its loose live bytes at frame ends, summed
 * lazily: a tag's sums only move when its value does), episodes still open
 * at the end, the kept lists of transitions, per-second statistics.
 */
#include "analysis/model/assets.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/model/live.h"

#define GM_ASSETS_NS_PER_S 1000000000ull
#define GM_ASSETS_MAX_SECONDS (1u << 24) /* later events count in the last second */

/* ---- small containers ---------------------------------------------------- */

/* Makes room for need items of size bytes in *p (capacity *cap, new items
 * zeroed). Returns 0 or -ENOMEM (nothing changed). */
static int gm_assets_reserve(void **p, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 16;
	void *q;

	if (need <= *cap)
		return 0;
	while (n < need) {
		if (n > SIZE_MAX / 2 / size)
			return -ENOMEM;
		n *= 2;
	}
	q = realloc(*p, n * size);
	if (!q)
		return -ENOMEM;
	memset((char *)q + *cap * size, 0, (n - *cap) * size);
	*p = q;
	*cap = n;
	return 0;
}

/* Asset bytes that arrived and left in one second since the first event. */
typedef struct gm_assets_sec {
	uint64_t s, loaded, unloaded;
} gm_assets_sec_t;

#define GM_ASSETS_RESERVE(arr, cap, need) \
	gm_assets_reserve_typed((void *)&(arr), &(cap), (need), sizeof(*(arr)))

/* gm_assets_reserve() through a pointer to any object pointer. */
static int gm_assets_reserve_typed(void *pp, size_t *cap, size_t need, size_t size)
{
	void *p;
	int rc;

	memcpy(&p, pp, sizeof(p));
	rc = gm_assets_reserve(&p, cap, need, size);
	memcpy(pp, &p, sizeof(p));
	return rc;
}

static uint64_t gm_assets_mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

/* u64 key (never 0) -> u32 value; no removal. */
typedef struct gm_assets_map {
	uint64_t *keys;
	uint32_t *vals;
	size_t mask, n;
} gm_assets_map_t;

static uint32_t gm_assets_map_get(const gm_assets_map_t *h, uint64_t key)
{
	size_t i;

	if (!h->keys)
		return GM_ASSETS_NONE;
	for (i = gm_assets_mix(key) & h->mask; h->keys[i] != 0; i = (i + 1) & h->mask)
		if (h->keys[i] == key)
			return h->vals[i];
	return GM_ASSETS_NONE;
}

static int gm_assets_map_put(gm_assets_map_t *h, uint64_t key, uint32_t val)
{
	size_t i;

	if (!h->keys || (h->n + 1) * 4 > (h->mask + 1) * 3) {
		size_t slots = h->keys ? (h->mask + 1) * 2 : 64, j;
		uint64_t *keys = calloc(slots, sizeof(*keys));
		uint32_t *vals = calloc(slots, sizeof(*vals));

		if (!keys || !vals) {
			free(keys);
			free(vals);
			return -ENOMEM;
		}
		for (j = 0; h->keys && j <= h->mask; j++) {
			if (h->keys[j] == 0)
				continue;
			for (i = gm_assets_mix(h->keys[j]) & (slots - 1); keys[i] != 0;
			     i = (i + 1) & (slots - 1))
				;
			keys[i] = h->keys[j];
			vals[i] = h->vals[j];
		}
		free(h->keys);
		free(h->vals);
		h->keys = keys;
		h->vals = vals;
		h->mask = slots - 1;
	}
	for (i = gm_assets_mix(key) & h->mask; h->keys[i] != 0 && h->keys[i] != key;
	     i = (i + 1) & h->mask)
		;
	if (h->keys[i] == 0)
		h->n++;
	h->keys[i] = key;
	h->vals[i] = val;
	return 0;
}

static void gm_assets_map_free(gm_assets_map_t *h)
{
	free(h->keys);
	free(h->vals);
}

/* Interned strings: item i of a table is the name of index i of its owner
 * (asset names, types), or of the tag node in val (tags: a node created for
 * an id before its definition is renamed later); the text sits in the
 * model's pool. */
typedef struct gm_assets_str {
	uint64_t hash;
	uint32_t off, len;
	uint32_t val;
} gm_assets_str_t;

typedef struct gm_assets_strtab {
	gm_assets_str_t *items;
	size_t n, cap;
	uint32_t *slots; /* item index + 1; 0 empty */
	size_t mask;
} gm_assets_strtab_t;

/* Per thread: the current context, resolved to a pair. */
typedef struct gm_assets_ctx {
	uint32_t asset, tag, pair;
} gm_assets_ctx_t;

/* Least-squares sums of a tag's loose live bytes over frame ends. */
typedef struct gm_assets_fit {
	uint64_t from;  /* next frame end to add; 0: the tag has not started */
	uint64_t start; /* the first frame of the fit */
	unsigned __int128 n, x, xx, y, xy;
} gm_assets_fit_t;

/* Heat map row: the value it holds now, its chain of changes. */
typedef struct gm_assets_heatrow {
	uint64_t value;
	uint32_t head, tail; /* gm_assets_change indices, GM_ASSETS_NONE: none */
} gm_assets_heatrow_t;

/* One frame in which a heat map row changed: the largest value it had in
 * the frame (the value held when the frame began included) and the value at
 * the frame's end; for touches, the touches in the frame. */
typedef struct gm_assets_change {
	uint64_t frame, max, end;
	uint32_t next;
} gm_assets_change_t;

struct gm_assets {
	gm_assets_opts_t opts;
	char *pool;
	size_t pool_len, pool_cap;
	gm_assets_strtab_t names, type_names, tag_names;
	uint32_t *name_last;  /* per name: latest asset with it */
	uint32_t *name_alive; /* per name: its assets loading or resident */
	size_t name_last_cap, name_alive_cap;

	gm_assets_asset_t *assets;
	size_t nassets, assets_cap;
	gm_assets_type_t *types;
	size_t ntypes, types_cap;
	gm_assets_tag_t *tags;
	size_t ntags, tags_cap;
	gm_assets_fit_t *fits;
	size_t fits_cap;
	gm_assets_pair_t *pairs;
	size_t npairs, pairs_cap;
	gm_assets_pair_t *pairs_sorted; /* after finish: by asset, then bytes */
	gm_assets_point_t *points;
	size_t npoints, points_cap;
	gm_assets_map_t asset_ids, tag_ids, pair_ids;

	gm_assets_ctx_t *threads;
	size_t nthreads, threads_cap;
	gm_live_t *live;
	uint64_t total_live, asset_live, extra_total;

	uint64_t nevents, first_ns, last_ns;
	uint64_t start_ns;       /* the earliest event's time */
	uint64_t stacks;         /* stack records: the capture has call stacks */
	uint64_t frame;          /* frame of the events now arriving */
	uint64_t last_frame;     /* frame of the last event (a mark is in the frame it ends) */
	uint64_t frames;         /* main frame marks read */
	int frames_level;        /* some of the capture is at the frames level */
	int events_level;        /* some of it is at the events level */
	uint64_t frames_from_ns; /* the last switch to the frames level (0: none):
	                            a block allocated before it may have been freed
	                            unrecorded, and is no leak */

	/* asset bytes moved per wall-clock second: only the seconds that saw
	 * some, in order (a damaged timestamp decades away costs one entry,
	 * not an array up to it); nsec: the seconds the capture spans so far */
	gm_assets_sec_t *secs;
	size_t nsecs, secs_cap, nsec;

	gm_assets_check_t *checks;
	size_t nchecks, checks_cap;
	gm_assets_thrash_t *thrash;
	size_t nthrash, thrash_cap;

	gm_assets_transition_t *trans;
	size_t ntrans, trans_cap;
	uint32_t open; /* transition whose window is open, or NONE */
	uint64_t run_peak, run_peak_ns, run_peak_frame, run_loaded, run_unloaded;
	gm_assets_snap_type_t *snaps;
	size_t nsnaps, snaps_cap;
	uint32_t *kept;
	size_t nkept, kept_cap;
	int level_type; /* type index of "level", or -1 */

	gm_assets_stream_t stream;

	gm_assets_heatrow_t *heat_meta;
	size_t heat_rows, heat_meta_cap;
	gm_assets_change_t *changes;
	size_t nchanges, changes_cap;
	uint64_t *heat; /* after finish: heat_rows x heat_bins cells */
	uint64_t heat_frames;
	uint32_t heat_bins;
	int finished;
};

/* ---- names ----------------------------------------------------------------- */

static uint64_t gm_assets_hash(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	while (n--)
		h = (h ^ (unsigned char)*s++) * 0x100000001b3ull;
	return h;
}

static int gm_assets_strtab_slot_put(gm_assets_strtab_t *t, uint32_t index)
{
	size_t i = gm_assets_mix(t->items[index].hash) & t->mask;

	while (t->slots[i] != 0)
		i = (i + 1) & t->mask;
	t->slots[i] = index + 1;
	return 0;
}

/* Index of the string s[0..n) in t, adding it (text copied into the pool,
 * NULs inside replaced by '?') when new. *created says which. Returns 0 or
 * -ENOMEM. */
static int gm_assets_intern(gm_assets_t *m, gm_assets_strtab_t *t, const char *s, size_t n,
                            uint32_t *index, int *created)
{
	uint64_t h = gm_assets_hash(s, n);
	size_t i, k;

	*created = 0;
	if (t->slots) {
		for (i = gm_assets_mix(h) & t->mask; t->slots[i] != 0; i = (i + 1) & t->mask) {
			const gm_assets_str_t *it = &t->items[t->slots[i] - 1];

			if (it->hash == h && it->len == n && memcmp(m->pool + it->off, s, n) == 0) {
				*index = t->slots[i] - 1;
				return 0;
			}
		}
	}
	if (m->pool_len + n + 1 > UINT32_MAX ||
	    GM_ASSETS_RESERVE(m->pool, m->pool_cap, m->pool_len + n + 1) < 0 ||
	    GM_ASSETS_RESERVE(t->items, t->cap, t->n + 1) < 0)
		return -ENOMEM;
	if (!t->slots || (t->n + 1) * 2 > t->mask + 1) {
		size_t slots = t->slots ? (t->mask + 1) * 2 : 64;
		uint32_t *fresh = calloc(slots, sizeof(*fresh));

		if (!fresh)
			return -ENOMEM;
		free(t->slots);
		t->slots = fresh;
		t->mask = slots - 1;
		for (k = 0; k < t->n; k++)
			gm_assets_strtab_slot_put(t, (uint32_t)k);
	}
	for (k = 0; k < n; k++)
		m->pool[m->pool_len + k] = s[k] ? s[k] : '?';
	m->pool[m->pool_len + n] = '\0';
	t->items[t->n].hash = h;
	t->items[t->n].off = (uint32_t)m->pool_len;
	t->items[t->n].len = (uint32_t)n;
	t->items[t->n].val = (uint32_t)t->n;
	m->pool_len += n + 1;
	*index = (uint32_t)t->n++;
	gm_assets_strtab_slot_put(t, *index);
	*created = 1;
	return 0;
}

/* Makes room for per-name data up to index ni (a new name starts empty). */
static int gm_assets_name_room(gm_assets_t *m, uint32_t ni, int created)
{
	if (GM_ASSETS_RESERVE(m->name_last, m->name_last_cap, (size_t)ni + 1) < 0 ||
	    GM_ASSETS_RESERVE(m->name_alive, m->name_alive_cap, (size_t)ni + 1) < 0)
		return -ENOMEM;
	if (created) {
		m->name_last[ni] = GM_ASSETS_NONE;
		m->name_alive[ni] = 0;
	}
	return 0;
}

static const char *gm_assets_text(const gm_assets_t *m, const gm_assets_strtab_t *t, uint32_t i)
{
	return m->pool + t->items[i].off;
}

static void gm_assets_strtab_free(gm_assets_strtab_t *t)
{
	free(t->items);
	free(t->slots);
}

/* Bytes of a record's strings, trailing NULs dropped; n is cut to what the
 * record holds (the reader checks only the types it knows). */
static const char *gm_assets_bytes(const gm_event_t *ev, uint64_t off, uint64_t n, size_t *len)
{
	uint64_t room = (uint64_t)ev->nextra * GM_REC_UNIT;
	const char *s = (const char *)ev->extra;

	if (off > room)
		off = room;
	if (n > room - off)
		n = room - off;
	if (n > GM_NAME_MAX)
		n = GM_NAME_MAX;
	while (n > 0 && s[off + n - 1] == '\0')
		n--;
	*len = (size_t)n;
	return s + off;
}

/* ---- heat map ------------------------------------------------------------- */

/* Makes sure row exists (rows are created in index order). */
static int gm_assets_heat_need(gm_assets_t *m, size_t row)
{
	size_t r;

	if (m->opts.heat_by == gm_assets_by_none || row < m->heat_rows)
		return 0;
	if (GM_ASSETS_RESERVE(m->heat_meta, m->heat_meta_cap, row + 1) < 0)
		return -ENOMEM;
	for (r = m->heat_rows; r <= row; r++)
		m->heat_meta[r].head = m->heat_meta[r].tail = GM_ASSETS_NONE;
	m->heat_rows = row + 1;
	return 0;
}

/* The change entry of row for the current frame, appended when the row has
 * none yet (max and end start at the value held). NULL when out of memory. */
static gm_assets_change_t *gm_assets_heat_change(gm_assets_t *m, size_t row)
{
	gm_assets_heatrow_t *h = &m->heat_meta[row];
	gm_assets_change_t *c;

	if (h->tail != GM_ASSETS_NONE && m->changes[h->tail].frame == m->frame)
		return &m->changes[h->tail];
	if (m->nchanges >= GM_ASSETS_NONE ||
	    GM_ASSETS_RESERVE(m->changes, m->changes_cap, m->nchanges + 1) < 0)
		return NULL;
	c = &m->changes[m->nchanges];
	c->frame = m->frame;
	c->max = c->end = m->opts.heat_value == gm_assets_heat_live ? h->value : 0;
	c->next = GM_ASSETS_NONE;
	if (h->tail != GM_ASSETS_NONE)
		m->changes[h->tail].next = (uint32_t)m->nchanges;
	else
		h->head = (uint32_t)m->nchanges;
	h->tail = (uint32_t)m->nchanges++;
	return c;
}

/* The row's live value becomes v now. Returns 0 or -ENOMEM. */
static int gm_assets_heat_set(gm_assets_t *m, size_t row, uint64_t v)
{
	gm_assets_change_t *c;

	if (m->opts.heat_value != gm_assets_heat_live || row >= m->heat_rows ||
	    m->heat_meta[row].value == v)
		return 0;
	c = gm_assets_heat_change(m, row);
	if (!c)
		return -ENOMEM;
	if (v > c->max)
		c->max = v;
	c->end = v;
	m->heat_meta[row].value = v;
	return 0;
}

static int gm_assets_heat_touch(gm_assets_t *m, size_t row)
{
	gm_assets_change_t *c;

	if (m->opts.heat_value != gm_assets_heat_touches || row >= m->heat_rows)
		return 0;
	c = gm_assets_heat_change(m, row);
	if (!c)
		return -ENOMEM;
	c->max++;
	return 0;
}

/* Bin of a frame: frames 1..heat_frames spread over heat_bins columns. */
static uint32_t gm_assets_heat_bin_of(const gm_assets_t *m, uint64_t frame)
{
	uint64_t f = m->heat_frames;

	if (frame < 1)
		frame = 1;
	if (frame > f)
		frame = f;
	return (uint32_t)((unsigned __int128)(frame - 1) * m->heat_bins / f);
}

/* Raises the cells of frames first..last to at least v. */
static void gm_assets_heat_fill(const gm_assets_t *m, uint64_t *cells, uint64_t first,
                                uint64_t last, uint64_t v)
{
	uint32_t b, end;

	if (v == 0 || first > last || first > m->heat_frames)
		return;
	end = gm_assets_heat_bin_of(m, last);
	for (b = gm_assets_heat_bin_of(m, first); b <= end; b++)
		if (cells[b] < v)
			cells[b] = v;
}

/* The cells of every row from its changes, once the number of frames is known. */
static int gm_assets_heat_finish(gm_assets_t *m)
{
	size_t r;

	if (m->opts.heat_by == gm_assets_by_none || m->opts.heat_bins == 0)
		return 0;
	m->heat_frames = m->last_frame;
	m->heat_bins =
	        m->heat_frames < m->opts.heat_bins ? (uint32_t)m->heat_frames : m->opts.heat_bins;
	m->heat = calloc(m->heat_rows ? m->heat_rows * m->heat_bins : 1, sizeof(*m->heat));
	if (!m->heat)
		return -ENOMEM;
	for (r = 0; r < m->heat_rows; r++) {
		uint64_t *cells = m->heat + r * m->heat_bins, held = 0, after = 1;
		uint32_t i;

		for (i = m->heat_meta[r].head; i != GM_ASSETS_NONE; i = m->changes[i].next) {
			const gm_assets_change_t *c = &m->changes[i];
			uint64_t f = c->frame > m->heat_frames ? m->heat_frames : c->frame;

			if (m->opts.heat_value == gm_assets_heat_touches) {
				cells[gm_assets_heat_bin_of(m, f)] += c->max;
				continue;
			}
			gm_assets_heat_fill(m, cells, after, f - 1, held);
			gm_assets_heat_fill(m, cells, f, f, c->max);
			held = c->end;
			after = f + 1;
		}
		if (m->opts.heat_value == gm_assets_heat_live)
			gm_assets_heat_fill(m, cells, after, m->heat_frames, held);
	}
	return 0;
}

/* Live-heat value of an asset and a type: heap plus declared extra.
 * Returns 0 or -ENOMEM. */
static int gm_assets_heat_asset(gm_assets_t *m, const gm_assets_asset_t *a)
{
	if (m->opts.heat_by == gm_assets_by_asset)
		return gm_assets_heat_set(m, (size_t)(a - m->assets),
		                          a->live_bytes + a->extra_bytes);
	if (m->opts.heat_by == gm_assets_by_type && a->type != GM_ASSETS_NONE)
		return gm_assets_heat_set(
		        m, a->type, m->types[a->type].live_bytes + m->types[a->type].extra_bytes);
	return 0;
}

/* ---- entities ------------------------------------------------------------- */

static int gm_assets_heat_new_row(gm_assets_t *m, gm_assets_by_t by, size_t index)
{
	return m->opts.heat_by == by ? gm_assets_heat_need(m, index) : 0;
}

/* Index of a type by name, created when new. Returns 0 or -ENOMEM. */
static int gm_assets_type_get(gm_assets_t *m, const char *s, size_t n, uint32_t *index)
{
	int created;

	if (gm_assets_intern(m, &m->type_names, s, n, index, &created) < 0)
		return -ENOMEM;
	if (!created)
		return 0;
	if (GM_ASSETS_RESERVE(m->types, m->types_cap, *index + 1) < 0)
		return -ENOMEM;
	m->ntypes = *index + 1;
	m->types[*index].name_ix = *index;
	if (n == 5 && memcmp(s, "level", 5) == 0)
		m->level_type = (int)*index;
	return gm_assets_heat_new_row(m, gm_assets_by_type, *index);
}

/* Index of a tag node by full name, its parents created first. */
static int gm_assets_tag_get(gm_assets_t *m, const char *s, size_t n, uint32_t *index)
{
	uint32_t parent = GM_ASSETS_NONE, depth = 0, item;
	size_t cut = n;
	int created;

	/* the parent is the name up to the last '/' (a leading or trailing
	 * '/' makes no level) */
	while (cut > 0 && s[cut - 1] != '/')
		cut--;
	if (cut > 1 && cut < n) {
		if (gm_assets_tag_get(m, s, cut - 1, &parent) < 0)
			return -ENOMEM;
		depth = m->tags[parent].depth + 1;
	}
	if (gm_assets_intern(m, &m->tag_names, s, n, &item, &created) < 0)
		return -ENOMEM;
	if (!created) {
		*index = m->tag_names.items[item].val;
		return 0;
	}
	if (m->ntags >= GM_ASSETS_NONE - 1 ||
	    GM_ASSETS_RESERVE(m->tags, m->tags_cap, m->ntags + 1) < 0 ||
	    GM_ASSETS_RESERVE(m->fits, m->fits_cap, m->ntags + 1) < 0)
		return -ENOMEM;
	*index = (uint32_t)m->ntags++;
	m->tag_names.items[item].val = *index;
	m->tags[*index].parent = parent;
	m->tags[*index].depth = depth;
	m->tags[*index].name_ix = item;
	return gm_assets_heat_new_row(m, gm_assets_by_tag, *index);
}

/* Index of the tag with this id; an id never defined gets a node "tag#ID". */
static int gm_assets_tag_of_id(gm_assets_t *m, uint64_t id, uint32_t *index)
{
	char name[32];
	int n;

	if (id == 0) {
		*index = 0;
		return 0;
	}
	*index = gm_assets_map_get(&m->tag_ids, id);
	if (*index != GM_ASSETS_NONE)
		return 0;
	/* used before its tag_def (threads racing): named for now, renamed
	 * when the definition comes */
	n = snprintf(name, sizeof(name), "tag#%llu", (unsigned long long)id);
	if (gm_assets_tag_get(m, name, (size_t)n, index) < 0 ||
	    gm_assets_map_put(&m->tag_ids, id, *index) < 0)
		return -ENOMEM;
	if (m->tags[*index].id == 0) {
		m->tags[*index].id = id;
		m->tags[*index].placeholder = 1;
	}
	return 0;
}

/* Gives the placeholder node ti the name s[0..n) and the parents that name
 * implies; what it holds so far joins their roll-ups. When a node of that
 * name exists already, the id moves to it instead (ti keeps what it got). */
static int gm_assets_tag_rename(gm_assets_t *m, uint32_t ti, uint64_t id, const char *s, size_t n)
{
	gm_assets_tag_t *t;
	uint32_t item, parent = GM_ASSETS_NONE, p;
	size_t cut = n;
	int created;

	if (gm_assets_intern(m, &m->tag_names, s, n, &item, &created) < 0)
		return -ENOMEM;
	if (!created)
		return gm_assets_map_put(&m->tag_ids, id, m->tag_names.items[item].val);
	m->tag_names.items[item].val = ti;
	while (cut > 0 && s[cut - 1] != '/')
		cut--;
	if (cut > 1 && cut < n && gm_assets_tag_get(m, s, cut - 1, &parent) < 0)
		return -ENOMEM;
	t = &m->tags[ti];
	t->name_ix = item;
	t->placeholder = 0;
	t->parent = parent;
	t->depth = parent != GM_ASSETS_NONE ? m->tags[parent].depth + 1 : 0;
	for (p = parent; p != GM_ASSETS_NONE; p = m->tags[p].parent) {
		gm_assets_count_t *r = &m->tags[p].rollup;

		r->live_bytes += t->rollup.live_bytes;
		r->live_blocks += t->rollup.live_blocks;
		r->allocated_bytes += t->rollup.allocated_bytes;
		if (r->live_bytes > r->peak_bytes)
			r->peak_bytes = r->live_bytes;
	}
	return 0;
}

/* Index of the asset with this id, created (unknown) when new. */
static int gm_assets_asset_of_id(gm_assets_t *m, uint64_t id, uint32_t *index)
{
	gm_assets_asset_t *a;

	*index = gm_assets_map_get(&m->asset_ids, id);
	if (*index != GM_ASSETS_NONE)
		return 0;
	if (m->nassets >= GM_ASSETS_NONE - 1 ||
	    GM_ASSETS_RESERVE(m->assets, m->assets_cap, m->nassets + 1) < 0)
		return -ENOMEM;
	*index = (uint32_t)m->nassets;
	if (gm_assets_map_put(&m->asset_ids, id, *index) < 0)
		return -ENOMEM;
	m->nassets++;
	a = &m->assets[*index];
	a->id = id;
	a->type = GM_ASSETS_NONE;
	a->state = gm_asset_loading;
	a->name_ix = GM_ASSETS_NONE;
	a->next_same_name = GM_ASSETS_NONE;
	a->refs_head = a->refs_tail = GM_ASSETS_NONE;
	a->scene = (uint32_t)m->ntrans;
	return gm_assets_heat_new_row(m, gm_assets_by_asset, *index);
}

/* Index of the (asset, tag) pair. */
static int gm_assets_pair_get(gm_assets_t *m, uint32_t asset, uint32_t tag, uint32_t *index)
{
	uint64_t key = (((uint64_t)asset << 32) | tag) + 1;

	*index = gm_assets_map_get(&m->pair_ids, key);
	if (*index != GM_ASSETS_NONE)
		return 0;
	if (GM_ASSETS_RESERVE(m->pairs, m->pairs_cap, m->npairs + 1) < 0)
		return -ENOMEM;
	*index = (uint32_t)m->npairs;
	if (gm_assets_map_put(&m->pair_ids, key, *index) < 0)
		return -ENOMEM;
	m->npairs++;
	m->pairs[*index].asset = asset;
	m->pairs[*index].tag = tag;
	return 0;
}

static gm_assets_ctx_t *gm_assets_thread(gm_assets_t *m, uint32_t thread)
{
	size_t i;

	if (thread >= m->nthreads) {
		if (GM_ASSETS_RESERVE(m->threads, m->threads_cap, (size_t)thread + 1) < 0)
			return NULL;
		for (i = m->nthreads; i <= thread; i++) {
			m->threads[i].asset = GM_ASSETS_NONE;
			m->threads[i].tag = 0;
			m->threads[i].pair = GM_ASSETS_NONE;
		}
		m->nthreads = (size_t)thread + 1;
	}
	return &m->threads[thread];
}

/* ---- checks found during the pass -------------------------------------------- */

static gm_assets_check_t *gm_assets_check_add(gm_assets_t *m, unsigned kind, uint32_t asset,
                                              uint64_t frame)
{
	gm_assets_check_t *c;

	if (GM_ASSETS_RESERVE(m->checks, m->checks_cap, m->nchecks + 1) < 0)
		return NULL;
	c = &m->checks[m->nchecks++];
	memset(c, 0, sizeof(*c));
	c->kind = kind;
	c->asset = asset;
	c->tag = GM_ASSETS_NONE;
	c->frame = frame;
	return c;
}

static int gm_assets_orphaned(const gm_assets_asset_t *a)
{
	return a->state == gm_asset_resident && a->ever_refd && a->refs <= 0;
}

/* Call after anything that may change gm_assets_orphaned(a); was is its
 * value before. Records an episode longer than orphan_frames. */
static int gm_assets_orphan_update(gm_assets_t *m, gm_assets_asset_t *a, int was)
{
	int now = gm_assets_orphaned(a);
	gm_assets_check_t *c;

	if (!was && now) {
		a->orphan_since = m->frame;
	} else if (was && !now) {
		if (m->frame - a->orphan_since > m->opts.orphan_frames) {
			c = gm_assets_check_add(m, gm_assets_check_orphan,
			                        (uint32_t)(a - m->assets), a->orphan_since);
			if (!c)
				return -ENOMEM;
			c->v[0] = m->frame;
			c->v[1] = m->frame - a->orphan_since;
		}
		a->orphan_since = 0;
	}
	return 0;
}

static int gm_assets_stale_update(gm_assets_t *m, gm_assets_asset_t *a, uint64_t until)
{
	uint64_t end = until ? until : m->last_frame;
	gm_assets_check_t *c;

	if (a->state != gm_asset_resident || a->touches == 0 ||
	    end - a->last_touch_frame <= m->opts.stale_frames)
		return 0;
	c = gm_assets_check_add(m, gm_assets_check_stale, (uint32_t)(a - m->assets),
	                        a->last_touch_frame);
	if (!c)
		return -ENOMEM;
	c->v[0] = until;
	c->v[1] = end - a->last_touch_frame;
	return 0;
}

/* ---- moving bytes ---------------------------------------------------------- */

/* Asset bytes that arrived (loaded) or left (unloaded) at ns. */
static int gm_assets_moved(gm_assets_t *m, uint64_t ns, uint64_t loaded, uint64_t unloaded)
{
	uint64_t s = ns > m->first_ns ? (ns - m->first_ns) / GM_ASSETS_NS_PER_S : 0;

	gm_assets_sec_t *e;
	size_t lo = 0, hi = m->nsecs;

	if (s >= GM_ASSETS_MAX_SECONDS)
		s = GM_ASSETS_MAX_SECONDS - 1;
	if (s >= m->nsec)
		m->nsec = s + 1;
	if (loaded == 0 && unloaded == 0)
		return 0;
	/* events come in time order: the last second, or a new one after it;
	 * an earlier one (causal repair across a second's edge) is searched */
	if (m->nsecs && m->secs[m->nsecs - 1].s <= s) {
		lo = m->secs[m->nsecs - 1].s == s ? m->nsecs - 1 : m->nsecs;
	} else {
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (m->secs[mid].s < s)
				lo = mid + 1;
			else
				hi = mid;
		}
	}
	if (lo == m->nsecs || m->secs[lo].s != s) {
		if (GM_ASSETS_RESERVE(m->secs, m->secs_cap, m->nsecs + 1) < 0)
			return -ENOMEM;
		memmove(&m->secs[lo + 1], &m->secs[lo], (m->nsecs - lo) * sizeof(*m->secs));
		m->nsecs++;
		memset(&m->secs[lo], 0, sizeof(*m->secs));
		m->secs[lo].s = s;
	}
	e = &m->secs[lo];
	e->loaded += loaded;
	e->unloaded += unloaded;
	if (m->open != GM_ASSETS_NONE) {
		m->run_loaded += loaded;
		m->run_unloaded += unloaded;
	}
	return 0;
}

/* Adds the frame ends from fit->from to last with loose value y. */
static void gm_assets_fit_add(gm_assets_fit_t *f, uint64_t last, uint64_t y)
{
	unsigned __int128 a = f->from, b = last, k, sx, sxx;

	if (f->from == 0 || last < f->from)
		return;
	k = b - a + 1;
	sx = (a + b) * k / 2;
	/* sum of squares a..b = S(b) - S(a - 1), S(n) = n(n+1)(2n+1)/6 */
	sxx = b * (b + 1) * (2 * b + 1) / 6 - (a - 1) * a * (2 * a - 1) / 6;
	f->n += k;
	f->x += sx;
	f->xx += sxx;
	f->y += (unsigned __int128)y * k;
	f->xy += (unsigned __int128)y * sx;
	f->from = last + 1;
}

/* A block of size bytes owned by pair pi was added (add = 1) or removed. */
static int gm_assets_account(gm_assets_t *m, uint32_t pi, uint64_t size, int add, uint64_t ns)
{
	gm_assets_pair_t *p = &m->pairs[pi];
	gm_assets_tag_t *t = &m->tags[p->tag];
	uint32_t ti;

	if (add) {
		p->live_bytes += size;
		p->allocated_bytes += size;
		m->total_live += size;
		if (m->open != GM_ASSETS_NONE && m->total_live > m->run_peak) {
			m->run_peak = m->total_live;
			m->run_peak_ns = ns;
			m->run_peak_frame = m->frame;
		}
	} else {
		p->live_bytes -= size;
		m->total_live -= size;
	}

	if (p->asset != GM_ASSETS_NONE) {
		gm_assets_asset_t *a = &m->assets[p->asset];
		gm_assets_type_t *ty = a->type != GM_ASSETS_NONE ? &m->types[a->type] : NULL;

		if (add) {
			a->live_bytes += size;
			a->live_blocks++;
			a->allocated_bytes += size;
			a->allocations++;
			if (a->live_bytes > a->peak_bytes)
				a->peak_bytes = a->live_bytes;
			m->asset_live += size;
			if (ty) {
				ty->live_bytes += size;
				ty->allocated_bytes += size;
				if (ty->live_bytes > ty->peak_bytes)
					ty->peak_bytes = ty->live_bytes;
			}
		} else {
			a->live_bytes -= size;
			a->live_blocks--;
			m->asset_live -= size;
			if (ty)
				ty->live_bytes -= size;
		}
		if (gm_assets_heat_asset(m, a) < 0 ||
		    gm_assets_moved(m, ns, add ? size : 0, add ? 0 : size) < 0)
			return -ENOMEM;
	} else {
		/* loose bytes of the tag: their frame-end series is fitted */
		gm_assets_fit_t *f = &m->fits[p->tag];

		if (f->from == 0 && add)
			f->from = f->start = m->frame;
		else
			gm_assets_fit_add(f, m->frame - 1, t->loose_bytes);
		if (f->from < m->frame)
			f->from = m->frame;
		if (add) {
			t->loose_bytes += size;
			t->loose_blocks++;
		} else {
			t->loose_bytes -= size;
			t->loose_blocks--;
		}
	}

	if (add) {
		t->own.live_bytes += size;
		t->own.live_blocks++;
		t->own.allocated_bytes += size;
		if (t->own.live_bytes > t->own.peak_bytes)
			t->own.peak_bytes = t->own.live_bytes;
	} else {
		t->own.live_bytes -= size;
		t->own.live_blocks--;
	}
	if (m->opts.heat_by == gm_assets_by_tag &&
	    gm_assets_heat_set(m, p->tag, t->own.live_bytes) < 0)
		return -ENOMEM;
	for (ti = p->tag; ti != GM_ASSETS_NONE; ti = m->tags[ti].parent) {
		gm_assets_count_t *r = &m->tags[ti].rollup;

		if (add) {
			r->live_bytes += size;
			r->live_blocks++;
			r->allocated_bytes += size;
			if (r->live_bytes > r->peak_bytes)
				r->peak_bytes = r->live_bytes;
		} else {
			r->live_bytes -= size;
			r->live_blocks--;
		}
	}
	return 0;
}

/* The block at ptr is gone (freed, or replaced by a block at its address). */
static int gm_assets_block_free(gm_assets_t *m, uint64_t ptr, uint64_t ns)
{
	gm_live_entry_t e;

	if (ptr == 0 || gm_live_remove(m->live, ptr, &e) < 0)
		return 0;
	return gm_assets_account(m, (uint32_t)e.seq, e.size, 0, ns);
}

static int gm_assets_block_alloc(gm_assets_t *m, const gm_event_t *ev, uint64_t ptr, uint64_t size)
{
	gm_assets_ctx_t *c = gm_assets_thread(m, ev->thread);
	gm_live_entry_t e;
	int rc;

	if (!c)
		return -ENOMEM;
	if (ptr == 0)
		return 0;
	if (c->pair == GM_ASSETS_NONE && gm_assets_pair_get(m, c->asset, c->tag, &c->pair) < 0)
		return -ENOMEM;
	memset(&e, 0, sizeof(e));
	e.ptr = ptr;
	e.size = size;
	e.ns = ev->ns;
	e.seq = c->pair;
	e.thread = ev->thread;
	e.kind = ev->x;
	rc = gm_live_add(m->live, &e);
	if (rc == -EEXIST) {
		/* a block still live at this address lost its free: it goes first
		 * (adding before looking saves a failed lookup per allocation) */
		if (gm_assets_block_free(m, ptr, ev->ns) < 0)
			return -ENOMEM;
		rc = gm_live_add(m->live, &e);
	}
	if (rc < 0)
		return -ENOMEM;
	return gm_assets_account(m, c->pair, size, 1, ev->ns);
}

/* ---- transitions ------------------------------------------------------------ */

static int gm_assets_snap(gm_assets_t *m, gm_assets_snap_t *s)
{
	size_t i;

	/* a later snapshot of the same transition replaces the last one */
	if (s->ntypes && s->types_first + s->ntypes == m->nsnaps)
		m->nsnaps = s->types_first;
	if (GM_ASSETS_RESERVE(m->snaps, m->snaps_cap, m->nsnaps + m->ntypes) < 0)
		return -ENOMEM;
	s->live_bytes = m->total_live;
	s->asset_bytes = m->asset_live;
	s->extra_bytes = m->extra_total;
	s->types_first = (uint32_t)m->nsnaps;
	s->ntypes = (uint32_t)m->ntypes;
	for (i = 0; i < m->ntypes; i++) {
		m->snaps[m->nsnaps + i].live_bytes = m->types[i].live_bytes;
		m->snaps[m->nsnaps + i].extra_bytes = m->types[i].extra_bytes;
	}
	m->nsnaps += m->ntypes;
	return 0;
}

/* The open transition's end is now (its figures so far are final). */
static int gm_assets_trans_mark_end(gm_assets_t *m, uint64_t ns, uint64_t frame, unsigned why)
{
	gm_assets_transition_t *t = &m->trans[m->open];

	if (gm_assets_snap(m, &t->after) < 0)
		return -ENOMEM;
	t->end_ns = ns;
	t->end_frame = frame;
	t->end = why;
	t->peak_bytes = m->run_peak;
	t->peak_ns = m->run_peak_ns;
	t->peak_frame = m->run_peak_frame;
	t->loaded_bytes = m->run_loaded;
	t->unloaded_bytes = m->run_unloaded;
	return 0;
}

/* Closes the open transition; it keeps its last candidate end if any. */
static int gm_assets_trans_close(gm_assets_t *m, uint64_t ns, uint64_t frame, unsigned why)
{
	if (m->open == GM_ASSETS_NONE)
		return 0;
	if (!m->trans[m->open].has_candidate && gm_assets_trans_mark_end(m, ns, frame, why) < 0)
		return -ENOMEM;
	m->open = GM_ASSETS_NONE;
	return 0;
}

/* A scene record or a level load at ev. Returns the transition's index via
 * *index; a level load and a scene record in the same frame make one. */
static int gm_assets_trans_begin(gm_assets_t *m, const gm_event_t *ev, int scene, uint32_t *index)
{
	gm_assets_transition_t *t;

	if (m->ntrans > 0) {
		t = &m->trans[m->ntrans - 1];
		if (t->frame == m->frame &&
		    (scene ? !t->has_scene : t->level_asset == GM_ASSETS_NONE)) {
			*index = (uint32_t)(m->ntrans - 1);
			return 0;
		}
	}
	if (gm_assets_trans_close(m, ev->ns, m->frame, gm_assets_end_next) < 0 ||
	    GM_ASSETS_RESERVE(m->trans, m->trans_cap, m->ntrans + 1) < 0)
		return -ENOMEM;
	*index = (uint32_t)m->ntrans;
	t = &m->trans[m->ntrans++];
	t->level_asset = GM_ASSETS_NONE;
	t->name_ix = GM_ASSETS_NONE;
	t->ns = ev->ns;
	t->frame = m->frame;
	/* the frame in progress is the window's first: N frames end with the
	 * end of frame m->frame + N - 1 (a window of 0 is taken as 1) */
	t->window_end = m->frame + (m->opts.window_frames ? m->opts.window_frames - 1 : 0);
	if (gm_assets_snap(m, &t->before) < 0)
		return -ENOMEM;
	m->open = *index;
	m->run_peak = m->total_live;
	m->run_peak_ns = ev->ns;
	m->run_peak_frame = m->frame;
	m->run_loaded = m->run_unloaded = 0;
	return 0;
}

/* A main frame mark ended frame `ended` at ns. */
static int gm_assets_trans_frame(gm_assets_t *m, uint64_t ns, uint64_t ended)
{
	gm_assets_transition_t *t;

	if (m->open == GM_ASSETS_NONE)
		return 0;
	t = &m->trans[m->open];
	if (t->pending) {
		if (gm_assets_trans_mark_end(m, ns, ended, gm_assets_end_unloaded) < 0)
			return -ENOMEM;
		t->pending = 0;
		t->has_candidate = 1;
	}
	if (ended >= t->window_end)
		return gm_assets_trans_close(m, ns, ended, gm_assets_end_window);
	return 0;
}

/* ---- records ----------------------------------------------------------------- */

static int gm_assets_on_context(gm_assets_t *m, const gm_event_t *ev)
{
	gm_assets_ctx_t *c = gm_assets_thread(m, ev->thread);
	uint32_t asset = GM_ASSETS_NONE, tag;

	if (!c)
		return -ENOMEM;
	if (ev->a != 0 && gm_assets_asset_of_id(m, ev->a, &asset) < 0)
		return -ENOMEM;
	if (gm_assets_tag_of_id(m, ev->b, &tag) < 0)
		return -ENOMEM;
	c->asset = asset;
	c->tag = tag;
	return gm_assets_pair_get(m, asset, tag, &c->pair);
}

static int gm_assets_on_tag_def(gm_assets_t *m, const gm_event_t *ev)
{
	const char *s;
	size_t n;
	uint32_t index;

	if (ev->a == 0)
		return 0;
	s = gm_assets_bytes(ev, 0, ev->b, &n);
	index = gm_assets_map_get(&m->tag_ids, ev->a);
	if (index != GM_ASSETS_NONE) {
		/* used before: rename the stand-in; a definition again (a new
		 * session) keeps the first */
		if (m->tags[index].placeholder && n > 0)
			return gm_assets_tag_rename(m, index, ev->a, s, n);
		return 0;
	}
	if (n == 0) {
		char name[32];
		int k = snprintf(name, sizeof(name), "tag#%llu", (unsigned long long)ev->a);

		if (gm_assets_tag_get(m, name, (size_t)k, &index) < 0)
			return -ENOMEM;
	} else if (gm_assets_tag_get(m, s, n, &index) < 0) {
		return -ENOMEM;
	}
	if (m->tags[index].id == 0)
		m->tags[index].id = ev->a;
	return gm_assets_map_put(&m->tag_ids, ev->a, index);
}

static int gm_assets_on_asset_new(gm_assets_t *m, const gm_event_t *ev)
{
	uint64_t name_bytes = ev->b & 0xffff, type_bytes = (ev->b >> 16) & 0xffff, type_off;
	const char *name, *type, *raw = (const char *)ev->extra;
	size_t nn, tn;
	uint32_t ai, ni, prev, ti;
	gm_assets_asset_t *a;
	int created;

	if (ev->a == 0)
		return 0;
	if (gm_assets_asset_of_id(m, ev->a, &ai) < 0)
		return -ENOMEM;
	a = &m->assets[ai];
	if (a->known)
		return 0; /* defined again in a new session: the first one stands */
	/* the type follows the name, after a NUL when the writer put one */
	type_off = name_bytes;
	if (name_bytes < (uint64_t)ev->nextra * GM_REC_UNIT && raw[name_bytes] == '\0' &&
	    name_bytes + 1 + type_bytes <= (uint64_t)ev->nextra * GM_REC_UNIT)
		type_off = name_bytes + 1;
	name = gm_assets_bytes(ev, 0, name_bytes, &nn);
	type = gm_assets_bytes(ev, type_off, type_bytes, &tn);
	if (gm_assets_type_get(m, type, tn, &ti) < 0 ||
	    gm_assets_intern(m, &m->names, name, nn, &ni, &created) < 0 ||
	    gm_assets_name_room(m, ni, created) < 0)
		return -ENOMEM;
	a = &m->assets[ai];
	a->known = 1;
	a->name_ix = ni;
	a->type = ti;
	if (a->allocated_bytes || a->extra_bytes) {
		/* blocks it got before its definition (threads racing) */
		gm_assets_type_t *ty = &m->types[ti];

		ty->live_bytes += a->live_bytes;
		ty->allocated_bytes += a->allocated_bytes;
		ty->extra_bytes += a->extra_bytes;
		if (ty->live_bytes > ty->peak_bytes)
			ty->peak_bytes = ty->live_bytes;
	}
	a->state = gm_asset_loading;
	a->new_ns = ev->ns;
	a->new_frame = m->frame;
	m->types[ti].assets++;

	/* the same name: still loaded (duplicate), or unloaded just now (thrash) */
	prev = m->name_last[ni];
	a->next_same_name = prev;
	m->name_last[ni] = ai;
	if (m->name_alive[ni] == 0)
		prev = GM_ASSETS_NONE; /* none to find */
	m->name_alive[ni]++;
	for (; prev != GM_ASSETS_NONE; prev = m->assets[prev].next_same_name) {
		const gm_assets_asset_t *p = &m->assets[prev];
		gm_assets_check_t *c;

		if (p->state == gm_asset_loading || p->state == gm_asset_resident) {
			c = gm_assets_check_add(m, gm_assets_check_duplicate, ai, m->frame);
			if (!c)
				return -ENOMEM;
			c->v[0] = prev;
			c->v[1] = p->new_frame;
			break;
		}
	}
	prev = a->next_same_name;
	if (prev != GM_ASSETS_NONE) {
		const gm_assets_asset_t *p = &m->assets[prev];
		uint64_t u = p->unload_frame ? p->unload_frame : p->unloaded_frame;

		if (u && (p->state == gm_asset_unloading || p->state == gm_asset_unloaded) &&
		    m->frame - u <= m->opts.thrash_frames) {
			if (GM_ASSETS_RESERVE(m->thrash, m->thrash_cap, m->nthrash + 1) < 0)
				return -ENOMEM;
			m->thrash[m->nthrash].asset = ai;
			m->thrash[m->nthrash].previous = prev;
			m->thrash[m->nthrash].unload_frame = u;
			m->thrash[m->nthrash].reload_frame = m->frame;
			m->nthrash++;
		}
	}

	if (m->level_type >= 0 && ti == (uint32_t)m->level_type) {
		uint32_t k;

		if (gm_assets_trans_begin(m, ev, 0, &k) < 0)
			return -ENOMEM;
		m->trans[k].level_asset = ai;
		if (m->trans[k].name_ix == GM_ASSETS_NONE)
			m->trans[k].name_ix = ni | 0x80000000u; /* an asset name */
	}
	m->assets[ai].scene = (uint32_t)m->ntrans;
	return 0;
}

/* Loading or resident: what a second load of its name duplicates. */
static int gm_assets_alive(unsigned state)
{
	return state == gm_asset_loading || state == gm_asset_resident;
}

static int gm_assets_on_state(gm_assets_t *m, const gm_event_t *ev)
{
	gm_assets_asset_t *a;
	gm_assets_check_t *c;
	uint32_t ai;
	int was;

	if (ev->a == 0 || ev->x >= gm_asset_state_count)
		return 0;
	if (gm_assets_asset_of_id(m, ev->a, &ai) < 0)
		return -ENOMEM;
	a = &m->assets[ai];
	was = gm_assets_orphaned(a);
	if (a->type != GM_ASSETS_NONE && a->state == gm_asset_resident)
		m->types[a->type].resident--;
	switch (ev->x) {
	case gm_asset_resident:
	case gm_asset_failed:
		a->ready_ns = ev->ns;
		a->ready_frame = m->frame;
		a->ready_bytes = a->live_bytes;
		a->failed = ev->x == gm_asset_failed;
		break;
	case gm_asset_unloading:
	case gm_asset_unloaded:
		if (a->state == gm_asset_resident && gm_assets_stale_update(m, a, m->frame) < 0)
			return -ENOMEM;
		if (a->state != gm_asset_unloading && a->refs > 0 &&
		    a->valid_unload_frame != m->frame) {
			/* the stream says references were held at unload */
			c = gm_assets_check_add(m, gm_assets_check_refcount, ai, m->frame);
			if (!c)
				return -ENOMEM;
			c->v[0] = gm_valid_unload_with_refs;
			c->v[1] = (uint64_t)a->refs;
			c->v[2] = 0;
		}
		if (ev->x == gm_asset_unloading || !a->unload_ns) {
			a->unload_ns = ev->ns;
			a->unload_frame = m->frame;
		}
		if (ev->x == gm_asset_unloading)
			break;
		a->unloaded_ns = ev->ns;
		a->unloaded_frame = m->frame;
		a->unloaded_bytes = a->live_bytes;
		a->unloaded_blocks = a->live_blocks;
		if (a->extra_bytes) {
			/* declared extra memory goes with the asset */
			if (a->type != GM_ASSETS_NONE)
				m->types[a->type].extra_bytes -= a->extra_bytes;
			m->extra_total -= a->extra_bytes;
			if (gm_assets_moved(m, ev->ns, 0, a->extra_bytes) < 0)
				return -ENOMEM;
			a->extra_bytes = 0;
		}
		if (m->open != GM_ASSETS_NONE && a->scene == m->open && a->known)
			m->trans[m->open].pending = 1;
		break;
	default:
		break;
	}
	if (a->known && gm_assets_alive(a->state) != gm_assets_alive(ev->x)) {
		if (gm_assets_alive(ev->x))
			m->name_alive[a->name_ix]++;
		else
			m->name_alive[a->name_ix]--;
	}
	a->state = ev->x;
	if (a->type != GM_ASSETS_NONE && a->state == gm_asset_resident)
		m->types[a->type].resident++;
	if (gm_assets_heat_asset(m, a) < 0)
		return -ENOMEM;
	return gm_assets_orphan_update(m, a, was);
}

/* A reference count change point of asset ai: one per (asset, frame). */
static int gm_assets_point(gm_assets_t *m, uint32_t ai, int64_t count)
{
	gm_assets_asset_t *a = &m->assets[ai];
	gm_assets_point_t *p;

	if (a->refs_tail != GM_ASSETS_NONE && m->points[a->refs_tail].frame == m->frame) {
		m->points[a->refs_tail].count = count;
		return 0;
	}
	if (m->npoints >= GM_ASSETS_NONE ||
	    GM_ASSETS_RESERVE(m->points, m->points_cap, m->npoints + 1) < 0)
		return -ENOMEM;
	p = &m->points[m->npoints];
	p->frame = m->frame;
	p->count = count;
	p->next = GM_ASSETS_NONE;
	if (a->refs_tail != GM_ASSETS_NONE)
		m->points[a->refs_tail].next = (uint32_t)m->npoints;
	else
		a->refs_head = (uint32_t)m->npoints;
	a->refs_tail = (uint32_t)m->npoints++;
	return 0;
}

static int gm_assets_on_ref(gm_assets_t *m, const gm_event_t *ev)
{
	gm_assets_asset_t *a;
	uint32_t ai;
	int32_t after;
	int was;

	if (ev->a == 0)
		return 0;
	if (gm_assets_asset_of_id(m, ev->a, &ai) < 0)
		return -ENOMEM;
	a = &m->assets[ai];
	if (ev->x == gm_asset_op_touch) {
		/* one per frame is the writer's promise; count one per frame */
		if (a->touches == 0 || a->last_touch_frame != m->frame) {
			a->touches++;
			if (a->type != GM_ASSETS_NONE)
				m->types[a->type].touches++;
			if (m->opts.heat_by == gm_assets_by_asset &&
			    gm_assets_heat_touch(m, ai) < 0)
				return -ENOMEM;
			if (m->opts.heat_by == gm_assets_by_type && a->type != GM_ASSETS_NONE &&
			    gm_assets_heat_touch(m, a->type) < 0)
				return -ENOMEM;
		}
		a->last_touch_frame = m->frame;
		a->last_touch_ns = ev->ns;
		return 0;
	}
	if (ev->x != gm_asset_op_ref && ev->x != gm_asset_op_release)
		return 0;
	was = gm_assets_orphaned(a);
	/* the count after, as the writer kept it (a signed 32-bit count) */
	after = (int32_t)(uint32_t)ev->b;
	if (ev->x == gm_asset_op_release && after < 0) {
		/* a release the record shows going below zero (libgmtrace refuses
		 * one with a validation record instead, and writes no release).
		 * Not the count the stream had before it: another thread's ref
		 * and release, made in one order, can be read in the other */
		gm_assets_check_t *c =
		        gm_assets_check_add(m, gm_assets_check_refcount, ai, m->frame);

		if (!c)
			return -ENOMEM;
		c->v[0] = gm_valid_release_below_zero;
		c->v[1] = (uint32_t)(after + 1); /* the count before, as validations give it */
		c->v[2] = 0;
	}
	a->refs = after;
	a->ever_refd = 1;
	if (a->refs > 0 && (uint64_t)a->refs > a->refs_max)
		a->refs_max = (uint64_t)a->refs;
	if (gm_assets_point(m, ai, a->refs) < 0)
		return -ENOMEM;
	return gm_assets_orphan_update(m, a, was);
}

static int gm_assets_on_extra(gm_assets_t *m, const gm_event_t *ev)
{
	gm_assets_asset_t *a;
	uint32_t ai;
	uint64_t old;

	if (ev->a == 0)
		return 0;
	if (gm_assets_asset_of_id(m, ev->a, &ai) < 0)
		return -ENOMEM;
	a = &m->assets[ai];
	if (a->state == gm_asset_unloaded)
		return 0; /* nothing is held any more */
	old = a->extra_bytes;
	a->extra_bytes = ev->b;
	if (ev->b > a->extra_peak)
		a->extra_peak = ev->b;
	m->extra_total += ev->b - old;
	if (a->type != GM_ASSETS_NONE)
		m->types[a->type].extra_bytes += ev->b - old;
	if (gm_assets_heat_asset(m, a) < 0)
		return -ENOMEM;
	return gm_assets_moved(m, ev->ns, ev->b > old ? ev->b - old : 0,
	                       ev->b < old ? old - ev->b : 0);
}

/* Codes whose subject is an asset id. */
static int gm_assets_valid_on_asset(unsigned code)
{
	return code == gm_valid_double_unload || code == gm_valid_release_below_zero ||
	       code == gm_valid_unload_with_refs || code == gm_valid_bad_state ||
	       code == gm_valid_detach_mismatch;
}

static int gm_assets_on_validation(gm_assets_t *m, const gm_event_t *ev)
{
	uint32_t ai = GM_ASSETS_NONE;
	gm_assets_check_t *c;

	/* the budgets' codes are gmtrace budgets' findings (its --check decides
	 * on them): a soft limit's no_evictor, which budgets lets pass, failed
	 * the assets gate 483 times over, a leak buried among them */
	if (ev->x >= gm_valid_evictor_no_progress && ev->x <= gm_valid_bad_policy)
		return 0;

	if (gm_assets_valid_on_asset(ev->x) && ev->a != 0)
		ai = gm_assets_map_get(&m->asset_ids, ev->a);
	c = gm_assets_check_add(m, gm_assets_check_validation, ai, m->frame);
	if (!c)
		return -ENOMEM;
	c->v[0] = ev->x;
	c->v[1] = ev->a;
	c->v[2] = ev->b;
	c->v[3] = ev->thread;
	if (ai == GM_ASSETS_NONE ||
	    (ev->x != gm_valid_release_below_zero && ev->x != gm_valid_unload_with_refs))
		return 0;
	c = gm_assets_check_add(m, gm_assets_check_refcount, ai, m->frame);
	if (!c)
		return -ENOMEM;
	c->v[0] = ev->x;
	c->v[1] = ev->b;
	c->v[2] = 1;
	if (ev->x == gm_valid_unload_with_refs)
		m->assets[ai].valid_unload_frame = m->frame;
	return 0;
}

static int gm_assets_on_scene(gm_assets_t *m, const gm_event_t *ev)
{
	const char *s;
	size_t n;
	uint32_t k, ni;
	int created;

	s = gm_assets_bytes(ev, 0, ev->b, &n);
	if (gm_assets_trans_begin(m, ev, 1, &k) < 0 ||
	    gm_assets_intern(m, &m->names, s, n, &ni, &created) < 0 ||
	    gm_assets_name_room(m, ni, created) < 0)
		return -ENOMEM;
	m->trans[k].has_scene = 1;
	m->trans[k].scene = ev->a;
	m->trans[k].name_ix = ni;
	return 0;
}

static int gm_assets_on_frame(gm_assets_t *m, const gm_event_t *ev)
{
	if (ev->x != 0)
		return 0; /* secondary frame sets do not move frames */
	m->frames++;
	if (ev->a + 1 > m->frame)
		m->frame = ev->a + 1;
	m->last_frame = ev->a ? ev->a : 1;
	return gm_assets_trans_frame(m, ev->ns, ev->a);
}

/* An eviction's record, right after the unload it made. One over a soft
 * limit ran at a frame's end, after that frame's mark: its unload belongs
 * to the frame that ended, as gmtrace budgets has it, not to the next. */
static void gm_assets_on_evict(gm_assets_t *m, const gm_event_t *ev)
{
	uint32_t ai;
	gm_assets_asset_t *a;

	if (ev->nextra < 1 || ev->extra[0] != gm_budget_over_soft || m->frame < 2 ||
	    (ai = gm_assets_map_get(&m->asset_ids, ev->a)) == GM_ASSETS_NONE)
		return;
	a = &m->assets[ai];
	if (a->unload_frame == m->frame)
		a->unload_frame = m->frame - 1;
	if (a->unloaded_frame == m->frame)
		a->unloaded_frame = m->frame - 1;
}

/* Feeds one event (see assets.h). Returns 0 or -ENOMEM. */
int gm_assets_add(gm_assets_t *m, const gm_event_t *ev)
{
	/* seconds are counted from the first event read; the start reported is
	 * the earliest time, as every report takes it (the process record comes
	 * after its thread's first record and carries the earlier time) */
	if (m->nevents == 0)
		m->first_ns = ev->ns;
	if (m->nevents == 0 || ev->ns < m->start_ns)
		m->start_ns = ev->ns;
	if (ev->ns > m->last_ns || m->nevents == 0)
		m->last_ns = ev->ns;
	m->nevents++;
	m->last_frame = m->frame;
	m->stacks += ev->type == gm_rec_stack;
	/* allocation records are the events level's (a capture may have no
	 * level record of its start: written by hand, or before there was one) */
	if (ev->type == gm_rec_alloc || ev->type == gm_rec_free || ev->type == gm_rec_realloc)
		m->events_level = 1;
	switch (ev->type) {
	case gm_rec_alloc:
		return gm_assets_block_alloc(m, ev, ev->a, ev->b);
	case gm_rec_free:
		return gm_assets_block_free(m, ev->a, ev->ns);
	case gm_rec_realloc:
		if (ev->nextra >= 1 && gm_assets_block_free(m, ev->extra[0], ev->ns) < 0)
			return -ENOMEM;
		return gm_assets_block_alloc(m, ev, ev->a, ev->b);
	case gm_rec_frame:
		return gm_assets_on_frame(m, ev);
	case gm_rec_level:
		if (ev->a == gm_level_frames) {
			m->frames_level = 1;
			m->frames_from_ns = ev->ns ? ev->ns : 1;
		} else
			m->events_level = 1;
		return 0;
	case gm_rec_tag_def:
		return gm_assets_on_tag_def(m, ev);
	case gm_rec_context:
		return gm_assets_on_context(m, ev);
	case gm_rec_asset_new:
		return gm_assets_on_asset_new(m, ev);
	case gm_rec_asset_state:
		return gm_assets_on_state(m, ev);
	case gm_rec_asset_ref:
		return gm_assets_on_ref(m, ev);
	case gm_rec_asset_extra:
		return gm_assets_on_extra(m, ev);
	case gm_rec_validation:
		return gm_assets_on_validation(m, ev);
	case gm_rec_scene:
		return gm_assets_on_scene(m, ev);
	case gm_rec_budget_evict:
		gm_assets_on_evict(m, ev);
		return 0;
	default:
		return 0;
	}
}

/* ---- life ------------------------------------------------------------------- */

/* Defaults for every option (see assets.h). Cannot fail. */
void gm_assets_opts_default(gm_assets_opts_t *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->orphan_frames = GM_ASSETS_ORPHAN_FRAMES;
	opts->stale_frames = GM_ASSETS_STALE_FRAMES;
	opts->thrash_frames = GM_ASSETS_THRASH_FRAMES;
	opts->window_frames = GM_ASSETS_WINDOW_FRAMES;
	opts->heat_by = gm_assets_by_none;
	opts->heat_value = gm_assets_heat_live;
	opts->heat_bins = GM_ASSETS_BINS;
}

/* A new model (see assets.h). Returns NULL when out of memory. */
gm_assets_t *gm_assets_new(const gm_assets_opts_t *opts, uint32_t nthreads)
{
	gm_assets_t *m = calloc(1, sizeof(*m));
	uint32_t untagged;
	int created;

	if (!m)
		return NULL;
	m->opts = *opts;
	m->open = GM_ASSETS_NONE;
	m->level_type = -1;
	m->frame = 1;
	m->last_frame = 1;
	m->live = gm_live_new(0);
	if (!m->live || gm_assets_thread(m, nthreads ? nthreads - 1 : 0) == NULL)
		goto err;
	/* tag 0: untagged; its empty name is never looked up (tag names are
	 * not empty) */
	if (gm_assets_intern(m, &m->tag_names, "", 0, &untagged, &created) < 0 ||
	    GM_ASSETS_RESERVE(m->tags, m->tags_cap, 1) < 0 ||
	    GM_ASSETS_RESERVE(m->fits, m->fits_cap, 1) < 0)
		goto err;
	m->ntags = 1;
	m->tags[0].parent = GM_ASSETS_NONE;
	m->tags[0].name_ix = untagged;
	if (gm_assets_heat_new_row(m, gm_assets_by_tag, 0) < 0)
		goto err;
	return m;
err:
	gm_assets_free(m);
	return NULL;
}

/* Frees the model; NULL is allowed. */
void gm_assets_free(gm_assets_t *m)
{
	if (!m)
		return;
	free(m->pool);
	gm_assets_strtab_free(&m->names);
	gm_assets_strtab_free(&m->type_names);
	gm_assets_strtab_free(&m->tag_names);
	free(m->name_last);
	free(m->name_alive);
	free(m->assets);
	free(m->types);
	free(m->tags);
	free(m->fits);
	free(m->pairs);
	free(m->pairs_sorted);
	free(m->points);
	gm_assets_map_free(&m->asset_ids);
	gm_assets_map_free(&m->tag_ids);
	gm_assets_map_free(&m->pair_ids);
	free(m->threads);
	gm_live_free(m->live);
	free(m->secs);
	free(m->checks);
	free(m->thrash);
	free(m->trans);
	free(m->snaps);
	free(m->kept);
	free(m->heat);
	free(m->heat_meta);
	free(m->changes);
	free(m);
}

/* ---- finish -------------------------------------------------------------------- */

static int gm_assets_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile p (0..100) of n sorted values. */
static uint64_t gm_assets_pct(const uint64_t *v, size_t n, unsigned p)
{
	size_t k;

	if (n == 0)
		return 0;
	k = (n * p + 99) / 100;
	return v[k ? k - 1 : 0];
}

/* Total, min, median and max of n per-second figures. Most seconds move no
 * bytes: only the others are sorted, the zeros are counted (a capture whose
 * times say it spans months must not cost a sort of millions of zeros). */
static int gm_assets_rate(gm_assets_rate_t *r, const gm_assets_sec_t *secs, size_t nsecs, size_t n,
                          int unloaded)
{
	uint64_t *v;
	size_t i, nz = 0, zeros, mid;

	memset(r, 0, sizeof(*r));
	if (n == 0)
		return 0;
	v = malloc((nsecs ? nsecs : 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < nsecs; i++) {
		uint64_t b = unloaded ? secs[i].unloaded : secs[i].loaded;
		if (b)
			v[nz++] = b;
	}
	qsort(v, nz, sizeof(*v), gm_assets_cmp_u64);
	for (i = 0; i < nz; i++)
		r->total += v[i];
	zeros = n - nz;
	mid = (n - 1) / 2;
	r->min = zeros ? 0 : v[0];
	r->max = nz ? v[nz - 1] : 0;
	r->median = mid < zeros ? 0 : v[mid - zeros];
	free(v);
	return 0;
}

static int gm_assets_finish_stream(gm_assets_t *m)
{
	gm_assets_stream_t *s = &m->stream;
	uint64_t *d;
	size_t i, n = 0, secs;

	secs = m->nevents ? (size_t)((m->last_ns - m->first_ns) / GM_ASSETS_NS_PER_S) + 1 : 0;
	if (secs > GM_ASSETS_MAX_SECONDS)
		secs = GM_ASSETS_MAX_SECONDS;
	if (secs > m->nsec)
		m->nsec = secs;
	s->seconds = m->nsec;
	if (gm_assets_rate(&s->loaded, m->secs, m->nsecs, m->nsec, 0) < 0 ||
	    gm_assets_rate(&s->unloaded, m->secs, m->nsecs, m->nsec, 1) < 0)
		return -ENOMEM;

	d = malloc((m->nassets ? m->nassets : 1) * sizeof(*d));
	if (!d)
		return -ENOMEM;
	for (i = 0; i < m->nassets; i++) {
		const gm_assets_asset_t *a = &m->assets[i];

		if (a->state == gm_asset_resident)
			s->still_resident++;
		if (a->ready_ns && !a->failed && a->unload_ns >= a->ready_ns && a->unload_ns)
			d[n++] = a->unload_ns - a->ready_ns;
	}
	qsort(d, n, sizeof(*d), gm_assets_cmp_u64);
	s->residencies = n;
	s->residency_p50_ns = gm_assets_pct(d, n, 50);
	s->residency_p90_ns = gm_assets_pct(d, n, 90);
	s->residency_p99_ns = gm_assets_pct(d, n, 99);
	s->residency_max_ns = n ? d[n - 1] : 0;
	free(d);
	return 0;
}

static int gm_assets_finish_kept(gm_assets_t *m)
{
	size_t k, i;

	for (k = 0; k < m->ntrans; k++) {
		gm_assets_transition_t *t = &m->trans[k];

		t->kept_first = (uint32_t)m->nkept;
		for (i = 0; i < m->nassets; i++) {
			const gm_assets_asset_t *a = &m->assets[i];

			if (!a->known || a->scene != k)
				continue;
			if ((a->unload_ns && a->unload_ns < t->ns) ||
			    (a->failed && a->ready_ns < t->ns))
				continue; /* gone before the change */
			t->old_assets++;
			if (a->unloaded_ns && a->unloaded_ns <= t->end_ns)
				t->old_unloaded++;
			if (a->failed || !a->ready_ns || a->ready_ns > t->end_ns ||
			    (a->unload_ns && a->unload_ns <= t->end_ns))
				continue; /* not resident at the end */
			if (a->touches && a->last_touch_ns >= t->ns)
				continue; /* used in the new scene */
			if (GM_ASSETS_RESERVE(m->kept, m->kept_cap, m->nkept + 1) < 0)
				return -ENOMEM;
			m->kept[m->nkept++] = (uint32_t)i;
			t->kept_bytes += a->ready_bytes + a->extra_peak;
		}
		t->nkept = (uint32_t)(m->nkept - t->kept_first);
	}
	return 0;
}

static int gm_assets_cmp_check(const void *pa, const void *pb)
{
	const gm_assets_check_t *a = pa, *b = pb;

	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if (a->frame != b->frame)
		return a->frame < b->frame ? -1 : 1;
	if (a->asset != b->asset)
		return a->asset < b->asset ? -1 : 1;
	if (a->tag != b->tag)
		return a->tag < b->tag ? -1 : 1;
	return memcmp(a->v, b->v, sizeof(a->v));
}

static int gm_assets_cmp_pair(const void *pa, const void *pb)
{
	const gm_assets_pair_t *a = pa, *b = pb;

	if (a->asset != b->asset)
		return a->asset < b->asset ? -1 : 1;
	if (a->allocated_bytes != b->allocated_bytes)
		return a->allocated_bytes > b->allocated_bytes ? -1 : 1;
	return a->tag < b->tag ? -1 : a->tag > b->tag;
}

/* The live blocks of each asset allocated before the capture last went to
 * the frames level, whose frees that level does not record: their fate is
 * unknown, and they are no leak. */
static int gm_assets_unsure(gm_assets_t *m)
{
	const gm_live_entry_t *e;
	size_t cursor = 0;

	if (!m->frames_from_ns)
		return 0;
	while ((e = gm_live_next(m->live, &cursor)) != NULL) {
		uint32_t ai = m->pairs[e->seq].asset;

		if (ai == GM_ASSETS_NONE || e->ns >= m->frames_from_ns)
			continue;
		m->assets[ai].unsure_bytes += e->size;
		m->assets[ai].unsure_blocks++;
	}
	return 0;
}

/* Ends the pass (see assets.h). Returns 0 or -ENOMEM. */
int gm_assets_finish(gm_assets_t *m)
{
	uint64_t last = m->last_frame;
	gm_assets_check_t *c;
	size_t i, j, nsorted;

	if (m->finished)
		return 0;
	m->finished = 1;
	if (gm_assets_trans_close(m, m->last_ns, last, gm_assets_end_capture) < 0)
		return -ENOMEM;

	if (gm_assets_heat_finish(m) < 0)
		return -ENOMEM;
	if (gm_assets_unsure(m) < 0)
		return -ENOMEM;

	for (i = 0; i < m->nassets; i++) {
		gm_assets_asset_t *a = &m->assets[i];

		a->name = a->known ? gm_assets_text(m, &m->names, a->name_ix) : NULL;
		if (gm_assets_orphaned(a) && last - a->orphan_since > m->opts.orphan_frames) {
			c = gm_assets_check_add(m, gm_assets_check_orphan, (uint32_t)i,
			                        a->orphan_since);
			if (!c)
				return -ENOMEM;
			c->v[0] = 0;
			c->v[1] = last - a->orphan_since;
		}
		if (gm_assets_stale_update(m, a, 0) < 0)
			return -ENOMEM;
		if ((a->state == gm_asset_unloaded || a->state == gm_asset_failed) &&
		    a->live_blocks > a->unsure_blocks) {
			c = gm_assets_check_add(m, gm_assets_check_leak, (uint32_t)i,
			                        a->state == gm_asset_failed ? a->ready_frame :
			                                                      a->unloaded_frame);
			if (!c)
				return -ENOMEM;
			c->v[0] = a->live_bytes - a->unsure_bytes;
			c->v[1] = a->live_blocks - a->unsure_blocks;
			c->v[2] = a->state == gm_asset_failed ? a->ready_bytes : a->unloaded_bytes;
		}
		/* a load or an unload that never ended (its thread ended in the
		 * scope, or the game exited there) holds its memory as a resident
		 * asset does, and is said with the state it was left in */
		if (a->state == gm_asset_resident ||
		    (a->known &&
		     (a->state == gm_asset_loading || a->state == gm_asset_unloading))) {
			c = gm_assets_check_add(m, gm_assets_check_never_unloaded, (uint32_t)i,
			                        a->state == gm_asset_loading   ? a->new_frame :
			                        a->state == gm_asset_unloading ? a->unload_frame :
			                                                         a->ready_frame);
			if (!c)
				return -ENOMEM;
			c->v[0] = a->live_bytes;
			c->v[1] = a->extra_bytes;
			c->v[2] = a->state;
		}
	}
	for (i = 0; i < m->ntypes; i++)
		m->types[i].name = gm_assets_text(m, &m->type_names, m->types[i].name_ix);
	for (i = 0; i < m->ntags; i++) {
		gm_assets_tag_t *t = &m->tags[i];
		gm_assets_fit_t *f = &m->fits[i];
		__int128 num, den;

		t->name = i == 0 ? NULL : gm_assets_text(m, &m->tag_names, t->name_ix);
		if (f->from == 0)
			continue;
		t->growth_from = f->start;
		gm_assets_fit_add(f, m->frame - 1, t->loose_bytes); /* to the last frame end */
		t->growth_frames = (uint64_t)f->n;
		if (f->n < 2)
			continue;
		num = (__int128)(f->n * f->xy) - (__int128)(f->x * f->y);
		den = (__int128)(f->n * f->xx) - (__int128)(f->x * f->x);
		if (den <= 0)
			continue;
		t->growth = (double)num / (double)den;
		if (i != 0 && num > 0 && t->loose_blocks > 0) {
			c = gm_assets_check_add(m, gm_assets_check_tag_growth, GM_ASSETS_NONE,
			                        t->growth_from);
			if (!c)
				return -ENOMEM;
			c->tag = (uint32_t)i;
			c->v[0] = t->loose_bytes;
			c->v[1] = t->loose_blocks;
			c->rate = t->growth;
		}
	}
	for (i = 0; i < m->ntrans; i++) {
		gm_assets_transition_t *t = &m->trans[i];

		if (t->name_ix == GM_ASSETS_NONE)
			t->name = NULL;
		else if (t->name_ix & 0x80000000u)
			t->name = gm_assets_text(m, &m->names, t->name_ix & 0x7fffffffu);
		else
			t->name = gm_assets_text(m, &m->names, t->name_ix);
	}

	/* an asset's tags: the pairs sorted by asset */
	m->pairs_sorted = malloc((m->npairs ? m->npairs : 1) * sizeof(*m->pairs_sorted));
	if (!m->pairs_sorted)
		return -ENOMEM;
	/* pairs no block was ever allocated under (a context that allocated
	 * nothing) are left out */
	for (i = 0, j = 0; i < m->npairs; i++)
		if (m->pairs[i].allocated_bytes != 0 || m->pairs[i].live_bytes != 0)
			m->pairs_sorted[j++] = m->pairs[i];
	nsorted = j;
	qsort(m->pairs_sorted, nsorted, sizeof(*m->pairs_sorted), gm_assets_cmp_pair);
	for (i = 0; i < nsorted; i = j) {
		uint32_t asset = m->pairs_sorted[i].asset;

		for (j = i; j < nsorted && m->pairs_sorted[j].asset == asset; j++)
			;
		if (asset == GM_ASSETS_NONE)
			continue;
		m->assets[asset].pairs_first = (uint32_t)i;
		m->assets[asset].npairs = (uint32_t)(j - i);
	}

	if (m->nchecks) /* qsort's base must not be NULL */
		qsort(m->checks, m->nchecks, sizeof(*m->checks), gm_assets_cmp_check);
	if (gm_assets_finish_stream(m) < 0 || gm_assets_finish_kept(m) < 0)
		return -ENOMEM;
	return 0;
}

/* Reads the whole capture (see assets.h). Returns the model or NULL. */
gm_assets_t *gm_assets_build(gm_reader_t *r, const gm_assets_opts_t *opts, int *err)
{
	gm_assets_t *m;
	gm_event_t ev;

	*err = -ENOMEM;
	m = gm_assets_new(opts, gm_reader_info(r)->nthreads);
	if (!m)
		return NULL;
	while (gm_reader_next(r, &ev)) {
		if (gm_assets_add(m, &ev) < 0) {
			gm_assets_free(m);
			return NULL;
		}
	}
	if (gm_assets_finish(m) < 0) {
		gm_assets_free(m);
		return NULL;
	}
	*err = 0;
	return m;
}

/* ---- results -------------------------------------------------------------------- */

uint64_t gm_assets_stacks(const gm_assets_t *m)
{
	return m->stacks;
}

const gm_assets_asset_t *gm_assets_assets(const gm_assets_t *m, size_t *n)
{
	*n = m->nassets;
	return m->assets;
}

const gm_assets_type_t *gm_assets_types(const gm_assets_t *m, size_t *n)
{
	*n = m->ntypes;
	return m->types;
}

const gm_assets_tag_t *gm_assets_tags(const gm_assets_t *m, size_t *n)
{
	*n = m->ntags;
	return m->tags;
}

const gm_assets_check_t *gm_assets_checks(const gm_assets_t *m, size_t *n)
{
	*n = m->nchecks;
	return m->checks;
}

const gm_assets_thrash_t *gm_assets_thrashes(const gm_assets_t *m, size_t *n)
{
	*n = m->nthrash;
	return m->thrash;
}

const gm_assets_transition_t *gm_assets_transitions(const gm_assets_t *m, size_t *n)
{
	*n = m->ntrans;
	return m->trans;
}

const gm_assets_stream_t *gm_assets_streaming(const gm_assets_t *m)
{
	return &m->stream;
}

/* The asset's (asset, tag) pairs, most allocated first (see assets.h). */
const gm_assets_pair_t *gm_assets_asset_tags(const gm_assets_t *m, const gm_assets_asset_t *a,
                                             size_t *n)
{
	*n = m->pairs_sorted ? a->npairs : 0;
	return m->pairs_sorted ? m->pairs_sorted + a->pairs_first : NULL;
}

const gm_assets_point_t *gm_assets_refs_next(const gm_assets_t *m, const gm_assets_asset_t *a,
                                             uint32_t *cursor)
{
	uint32_t i;

	if (*cursor == GM_ASSETS_NONE)
		return NULL;
	i = *cursor == 0 ? a->refs_head : *cursor - 1;
	if (i == GM_ASSETS_NONE)
		return NULL;
	*cursor = m->points[i].next == GM_ASSETS_NONE ? GM_ASSETS_NONE : m->points[i].next + 1;
	return &m->points[i];
}

const gm_assets_snap_type_t *gm_assets_snap_types(const gm_assets_t *m,
                                                  const gm_assets_snap_t *snap)
{
	return m->snaps ? m->snaps + snap->types_first : NULL; /* none kept: NULL */
}

const uint32_t *gm_assets_kept(const gm_assets_t *m, const gm_assets_transition_t *t)
{
	return m->kept ? m->kept + t->kept_first : NULL; /* none kept: NULL */
}

uint64_t gm_assets_live_bytes(const gm_assets_t *m)
{
	return m->total_live;
}

uint64_t gm_assets_asset_bytes(const gm_assets_t *m)
{
	return m->asset_live;
}

uint64_t gm_assets_extra_bytes(const gm_assets_t *m)
{
	return m->extra_total;
}

uint64_t gm_assets_frames(const gm_assets_t *m)
{
	return m->frames;
}

uint64_t gm_assets_last_frame(const gm_assets_t *m)
{
	return m->last_frame;
}

uint64_t gm_assets_start_ns(const gm_assets_t *m)
{
	return m->start_ns;
}

uint64_t gm_assets_duration_ns(const gm_assets_t *m)
{
	return m->last_ns - m->start_ns;
}

int gm_assets_exact(const gm_assets_t *m)
{
	return !m->frames_level;
}

int gm_assets_frames_level_whole(const gm_assets_t *m)
{
	return m->frames_level && !m->events_level;
}

const gm_assets_opts_t *gm_assets_options(const gm_assets_t *m)
{
	return &m->opts;
}

size_t gm_assets_heat_rows(const gm_assets_t *m)
{
	return m->heat_rows;
}

uint32_t gm_assets_heat_bins(const gm_assets_t *m)
{
	return m->heat_bins;
}

const uint64_t *gm_assets_heat_row(const gm_assets_t *m, size_t row)
{
	return m->heat ? m->heat + row * m->heat_bins : NULL;
}

/* First frame of a bin: the smallest f with (f - 1) * bins / frames >= bin. */
uint64_t gm_assets_heat_first(const gm_assets_t *m, uint32_t bin)
{
	unsigned __int128 num;

	if (!m->heat_bins)
		return 1;
	num = (unsigned __int128)bin * m->heat_frames;
	return (uint64_t)((num + m->heat_bins - 1) / m->heat_bins) + 1;
}

/* ---- names ------------------------------------------------------------------------ */

const char *gm_assets_state_name(unsigned state)
{
	static const char *const names[gm_asset_state_count] = {
	        [gm_asset_loading] = "loading",     [gm_asset_resident] = "resident",
	        [gm_asset_unloading] = "unloading", [gm_asset_unloaded] = "unloaded",
	        [gm_asset_failed] = "failed",
	};

	return state < gm_asset_state_count && names[state] ? names[state] : "unknown";
}

const char *gm_assets_check_name(unsigned kind)
{
	static const char *const names[gm_assets_check_kind_count] = {
	        [gm_assets_check_leak] = "leak",
	        [gm_assets_check_never_unloaded] = "never_unloaded",
	        [gm_assets_check_orphan] = "orphan",
	        [gm_assets_check_refcount] = "refcount",
	        [gm_assets_check_duplicate] = "duplicate",
	        [gm_assets_check_stale] = "stale",
	        [gm_assets_check_validation] = "validation",
	        [gm_assets_check_tag_growth] = "tag_growth",
	};

	return kind < gm_assets_check_kind_count ? names[kind] : "unknown";
}

const char *gm_assets_valid_name(unsigned code)
{
	static const char *const names[gm_valid_count] = {
	        [gm_valid_none] = "none",
	        [gm_valid_unknown_asset] = "unknown_asset",
	        [gm_valid_double_unload] = "double_unload",
	        [gm_valid_release_below_zero] = "release_below_zero",
	        [gm_valid_null_name] = "null_name",
	        [gm_valid_long_name] = "long_name",
	        [gm_valid_unload_with_refs] = "unload_with_refs",
	        [gm_valid_tag_underflow] = "tag_underflow",
	        [gm_valid_stack_overflow] = "stack_overflow",
	        [gm_valid_bad_state] = "bad_state",
	        [gm_valid_detach_mismatch] = "detach_mismatch",
	        [gm_valid_unknown_tag] = "unknown_tag",
	        [gm_valid_unknown_pool] = "unknown_pool",
	        [gm_valid_pool_underflow] = "pool_underflow",
	        [gm_valid_evictor_no_progress] = "evictor_no_progress",
	        [gm_valid_unknown_node] = "unknown_node",
	        [gm_valid_no_evictor] = "no_evictor",
	        [gm_valid_node_redefined] = "node_redefined",
	        [gm_valid_bad_policy] = "bad_policy",
	};

	return code < gm_valid_count && names[code] ? names[code] : "unknown";
}

const char *gm_assets_end_name(unsigned end)
{
	static const char *const names[gm_assets_end_count] = {
	        [gm_assets_end_unloaded] = "old_assets_unloaded",
	        [gm_assets_end_window] = "window",
	        [gm_assets_end_next] = "next_transition",
	        [gm_assets_end_capture] = "capture_end",
	};

	return end < gm_assets_end_count ? names[end] : "unknown";
}
