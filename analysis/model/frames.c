/* frames.c - the frames model: one row per displayed frame, built in one pass
 *
 * The counting rules and how levels mix are at the top of frames.h. The
 * records of one frame end arrive as frame, frame_thread..., frame_sum,
 * spike (one thread writes them in that order); events of other threads may
 * fall between them in the merge, and those belong to the next frame, so
 * a frame_sum amends the row its frame record made instead of the frame
 * being read.
 */
#include "analysis/model/frames.h"
#include "analysis/model/grow.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *gm_frames_strdup(const void *p, size_t n)
{
	const char *s = p;
	char *d;

	while (n > 0 && s[n - 1] == '\0')
		n--;
	d = malloc(n + 1);
	if (!d)
		return NULL;
	if (n) /* an empty name may come without its record's extra units (s NULL) */
		memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

static int gm_frames_class(uint64_t size)
{
	int k = 0;

	while (k < GM_FRAMES_CLASSES - 1 && size > (16ull << k))
		k++;
	return k;
}

static uint64_t gm_frames_ticks_ns(const gm_frames_t *f, uint64_t ticks)
{
	double ns;
	if (f->tsc_hz <= 0)
		return 0;
	ns = (double)ticks * 1e9 / f->tsc_hz + 0.5;
	/* a damaged capture can say anything: saturate rather than overflow */
	return ns >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)ns;
}

/* Starts the next frame: counters zero, peak from the live bytes now. */
static void gm_frames_cur_reset(gm_frames_t *f)
{
	memset(&f->cur, 0, sizeof(f->cur));
	f->cur.peak = f->est_live;
}

gm_frames_t *gm_frames_new(const gm_frames_opts_t *opts, double tsc_hz, uint32_t nthreads)
{
	gm_frames_t *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	if (opts)
		f->opts = *opts;
	f->tsc_hz = tsc_hz;
	f->level = -1;
	f->live = gm_live_new(0);
	f->nthread_names = nthreads;
	f->thread_names = calloc(nthreads ? nthreads : 1, sizeof(*f->thread_names));
	if (!f->live || !f->thread_names) {
		gm_frames_free(f);
		return NULL;
	}
	gm_frames_cur_reset(f);
	return f;
}

void gm_frames_free(gm_frames_t *f)
{
	size_t i;

	if (!f)
		return;
	for (i = 0; i < GM_FRAMES_SETS; i++)
		free(f->sets[i].name);
	for (i = 0; f->thread_names && i < f->nthread_names; i++)
		free(f->thread_names[i]);
	free(f->thread_names);
	free(f->rows);
	free(f->threads);
	free(f->spikes);
	free(f->classes);
	free(f->owners);
	free(f->ctx_tag);
	free(f->ctx_asset);
	for (size_t t = 0; t < f->ntag_names; t++)
		free(f->tag_names[t]);
	free(f->tag_names);
	for (size_t t = 0; t < f->nasset_names; t++)
		free(f->asset_names[t]);
	free(f->asset_names);
	free(f->spike_threads);
	free(f->changes);
	free(f->scratch);
	free(f->thr);
	free(f->thr_seen);
	gm_live_free(f->live);
	free(f);
}

/* The level became known as `level` without a level record: it was in
 * force since the start. Intervals between ticks waiting for it are
 * settled. */
static void gm_frames_level_known(gm_frames_t *f, int level)
{
	if (f->level >= 0)
		return;
	f->level = level;
	if (level == gm_level_events) {
		f->tick_intervals += f->pending_intervals;
		f->tick_interval_allocations += f->pending_allocations;
		if (f->pending_max > f->tick_interval_max)
			f->tick_interval_max = f->pending_max;
	}
	f->pending_intervals = f->pending_allocations = f->pending_max = 0;
}

/* ---- events ------------------------------------------------------------ */

/* Add count allocations of bytes to a tag (kind 0) or asset (kind 1) in
 * the frame being read; past GM_FRAMES_OWNER_SLOTS owners, new ones are
 * dropped (the frame's totals stay right). */
static void gm_frames_own(gm_frames_t *f, uint32_t kind, uint64_t id, uint64_t count,
                          uint64_t bytes)
{
	gm_frames_owner_t *t = f->own[f->own_cur];
	uint32_t *n = &f->nown[f->own_cur], i;
	for (i = 0; i < *n; i++) {
		if (t[i].kind == kind && t[i].id == id) {
			t[i].count += count;
			t[i].bytes += bytes;
			return;
		}
	}
	if (*n == GM_FRAMES_OWNER_SLOTS)
		return;
	t[*n].kind = kind;
	t[*n].id = id;
	t[*n].name = NULL;
	t[*n].count = count;
	t[*n].bytes = bytes;
	(*n)++;
}

/* Remember a name by id in a growable table. */
static int gm_frames_name(char ***tab, size_t *n, uint64_t id, const void *s, size_t len)
{
	char *copy;
	if (id > (1u << 26))
		return 0;
	if (id >= *n) {
		size_t cap = *n ? *n : 64;
		char **grown;
		while (cap <= id)
			cap *= 2;
		grown = realloc(*tab, cap * sizeof(**tab));
		if (!grown)
			return -ENOMEM;
		memset(grown + *n, 0, (cap - *n) * sizeof(**tab));
		*tab = grown;
		*n = cap;
	}
	copy = gm_frames_strdup(s, len);
	if (!copy)
		return -ENOMEM;
	free((*tab)[id]);
	(*tab)[id] = copy;
	return 0;
}

/* A context record: the thread's tag and asset from now on. */
static int gm_frames_context(gm_frames_t *f, const gm_event_t *ev)
{
	if (ev->thread >= f->nctx) {
		size_t cap = f->nctx ? f->nctx : 16, i;
		uint32_t *t;
		uint64_t *a;
		while (cap <= ev->thread)
			cap *= 2;
		t = realloc(f->ctx_tag, cap * sizeof(*t));
		if (!t)
			return -ENOMEM;
		f->ctx_tag = t;
		a = realloc(f->ctx_asset, cap * sizeof(*a));
		if (!a)
			return -ENOMEM;
		f->ctx_asset = a;
		for (i = f->nctx; i < cap; i++) {
			f->ctx_tag[i] = 0;
			f->ctx_asset[i] = 0;
		}
		f->nctx = cap;
	}
	f->ctx_tag[ev->thread] = (uint32_t)ev->b;
	f->ctx_asset[ev->thread] = ev->a;
	return 0;
}

static int gm_frames_owner_cmp(const void *pa, const void *pb)
{
	const gm_frames_owner_t *a = pa, *b = pb;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if (a->bytes != b->bytes)
		return a->bytes > b->bytes ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

static int gm_frames_keep_thread(const gm_frames_t *f, uint64_t frame)
{
	return f->opts.keep_threads && frame >= f->opts.from && frame <= f->opts.to;
}

/* Largest writer thread index given a per-thread split from events; a
 * damaged capture's larger indexes are counted in the row only. */
#define GM_FRAMES_SPLIT_THREADS (1u << 16)

/* The per-thread tally of the frame being read for `thread` (NULL when
 * splits are not kept or the index is out of reach), -ENOMEM in *rc. */
static gm_frames_thread_t *gm_frames_thr(gm_frames_t *f, uint32_t thread, int *rc)
{
	gm_frames_thread_t *t;

	if (!f->opts.keep_threads || thread >= GM_FRAMES_SPLIT_THREADS)
		return NULL;
	if (thread >= f->thr_cap) {
		size_t had = f->thr_cap;
		if (GM_GROW(f->thr, f->thr_cap, (size_t)thread + 1) < 0) {
			*rc = -ENOMEM;
			return NULL;
		}
		memset(f->thr + had, 0, (f->thr_cap - had) * sizeof(*f->thr));
	}
	t = &f->thr[thread];
	if (t->allocations == 0 && t->frees == 0) {
		if (GM_GROW(f->thr_seen, f->thr_seen_cap, f->nthr_seen + 1) < 0) {
			*rc = -ENOMEM;
			return NULL;
		}
		f->thr_seen[f->nthr_seen++] = thread;
		t->thread = thread;
	}
	return t;
}

static int gm_frames_thread_cmp(const void *pa, const void *pb)
{
	const gm_frames_thread_t *a = pa, *b = pb;
	return a->thread < b->thread ? -1 : a->thread > b->thread;
}

/* The frame that ended as row i: its split from the tallies, when kept
 * and counted from events; the tallies start again either way. */
static int gm_frames_split_events(gm_frames_t *f, size_t i, int from_events)
{
	gm_frames_row_t *row = &f->rows[i];
	size_t k, n = f->nthr_seen;

	if (from_events && gm_frames_keep_thread(f, row->frame) && n <= UINT32_MAX &&
	    f->nthreads_kept + n <= UINT32_MAX) {
		if (GM_GROW(f->threads, f->threads_cap, f->nthreads_kept + n) < 0)
			return -ENOMEM;
		row->thread_first = (uint32_t)f->nthreads_kept;
		row->thread_count = (uint32_t)n;
		row->flags |= GM_FRAMES_ROW_SPLIT_EVENTS;
		for (k = 0; k < n; k++)
			f->threads[f->nthreads_kept + k] = f->thr[f->thr_seen[k]];
		qsort(f->threads + f->nthreads_kept, n, sizeof(*f->threads), gm_frames_thread_cmp);
		f->nthreads_kept += n;
	}
	for (k = 0; k < n; k++)
		memset(&f->thr[f->thr_seen[k]], 0, sizeof(*f->thr));
	f->nthr_seen = 0;
	return 0;
}

static int gm_frames_alloc(gm_frames_t *f, const gm_event_t *ev, uint64_t ptr, uint64_t size)
{
	gm_live_entry_t e = {.ptr = ptr, .size = size, .ns = ev->ns, .thread = ev->thread};
	gm_live_entry_t old;
	int k = gm_frames_class(size), rc = 0;
	gm_frames_thread_t *t = gm_frames_thr(f, ev->thread, &rc);

	if (rc < 0)
		return rc;
	if (t) {
		t->allocations++;
		t->allocated_bytes += size;
	}
	f->allocs_total++;
	f->cur.allocations++;
	f->cur.allocated_bytes += size;
	f->cur.class_count[k]++;
	f->cur.class_bytes[k] += size;
	if (ev->thread < f->nctx) {
		gm_frames_own(f, 0, f->ctx_tag[ev->thread], 1, size);
		if (f->ctx_asset[ev->thread])
			gm_frames_own(f, 1, f->ctx_asset[ev->thread], 1, size);
	} else {
		gm_frames_own(f, 0, 0, 1, size);
	}
	if (ptr == 0)
		return 0;
	/* a block still live at this address lost its free: it is gone now */
	if (gm_live_remove(f->live, ptr, &old) == 0)
		f->est_live -= (int64_t)old.size;
	if (gm_live_add(f->live, &e) < 0)
		return -ENOMEM;
	f->est_live += (int64_t)size;
	if (f->est_live > f->cur.peak)
		f->cur.peak = f->est_live;
	return 0;
}

static int gm_frames_release(gm_frames_t *f, const gm_event_t *ev, uint64_t ptr)
{
	gm_live_entry_t e;
	gm_frames_thread_t *t;
	int rc = 0;

	if (ptr == 0 || gm_live_remove(f->live, ptr, &e) < 0)
		return 0; /* free(NULL), or a block this capture never saw allocated */
	t = gm_frames_thr(f, ev->thread, &rc);
	if (t) {
		t->frees++;
		t->freed_bytes += e.size;
	}
	f->cur.frees++;
	f->cur.freed_bytes += e.size;
	f->est_live -= (int64_t)e.size;
	return rc;
}

static int gm_frames_frame(gm_frames_t *f, const gm_event_t *ev)
{
	gm_frames_row_t *row;

	if (ev->x != 0) {
		f->sets[ev->x].frames++;
		return 0;
	}
	if (GM_GROW(f->rows, f->rows_cap, f->nrows + 1) < 0)
		return -ENOMEM;
	row = &f->rows[f->nrows];
	memset(row, 0, sizeof(*row));
	row->frame = ev->a;
	row->start_ns = f->nrows ? f->rows[f->nrows - 1].end_ns : f->first_ns;
	row->end_ns = ev->ns;
	row->allocations = f->cur.allocations;
	row->frees = f->cur.frees;
	row->allocated_bytes = f->cur.allocated_bytes;
	row->freed_bytes = f->cur.freed_bytes;
	row->live_bytes = f->est_live > 0 ? (uint64_t)f->est_live : 0;
	row->peak_live_bytes = f->cur.peak > 0 ? (uint64_t)f->cur.peak : 0;
	row->ticks = f->cur.ticks;
	row->source = (uint8_t)(ev->b < gm_present_count ? ev->b : gm_present_count);
	row->level = (uint8_t)(f->level >= 0 ? f->level : gm_level_events);
	row->flags = GM_FRAMES_ROW_EXACT;
	if (f->cur.level_changed)
		row->flags = GM_FRAMES_ROW_LEVEL_CHANGED;
	/* (frame numbers start at 1: a first row numbered past it follows
	 * frames lost at the capture's start) */
	if (row->frame > (f->nrows ? f->rows[f->nrows - 1].frame : 0) + 1) {
		row->flags |= GM_FRAMES_ROW_GAP;
		f->ngaps++;
	}
	f->nrows++;
	f->last = f->cur;
	f->has_last = 1;
	f->own_cur ^= 1;
	f->nown[f->own_cur] = 0;
	f->last_row_est = f->est_live;
	gm_frames_cur_reset(f);
	return gm_frames_split_events(
	        f, f->nrows - 1, f->level == gm_level_events && (row->flags & GM_FRAMES_ROW_EXACT));
}

static int gm_frames_frame_thread(gm_frames_t *f, const gm_event_t *ev)
{
	gm_frames_thread_t t = {
	        .thread = (uint32_t)ev->b,
	        .allocations = ev->extra[0],
	        .frees = ev->extra[1],
	        .allocated_bytes = ev->extra[2],
	        .freed_bytes = ev->extra[3],
	        .alloc_ns = gm_frames_ticks_ns(f, ev->extra[4]),
	};
	size_t i;

	/* the last frame's split, for its spike record */
	if (f->nscratch == 0 || f->scratch_frame != ev->a) {
		f->nscratch = 0;
		f->scratch_frame = ev->a;
	}
	if (GM_GROW(f->scratch, f->scratch_cap, f->nscratch + 1) < 0)
		return -ENOMEM;
	f->scratch[f->nscratch++] = t;

	if (!gm_frames_keep_thread(f, ev->a))
		return 0;
	i = gm_frames_find(f, ev->a);
	if (i == SIZE_MAX)
		return 0;
	if (f->rows[i].flags & GM_FRAMES_ROW_SPLIT_EVENTS) {
		/* the counts came from the events: only the time is the record's */
		gm_frames_thread_t *s = f->threads + f->rows[i].thread_first;
		uint32_t k;
		for (k = 0; k < f->rows[i].thread_count; k++)
			if (s[k].thread == t.thread)
				s[k].alloc_ns = t.alloc_ns;
		return 0;
	}
	/* a row's split is contiguous: the frame end writes it in one go */
	if (f->rows[i].thread_count != 0 &&
	    f->rows[i].thread_first + f->rows[i].thread_count != f->nthreads_kept)
		return 0;
	if (f->nthreads_kept >= UINT32_MAX ||
	    GM_GROW(f->threads, f->threads_cap, f->nthreads_kept + 1) < 0)
		return -ENOMEM;
	if (f->rows[i].thread_count == 0)
		f->rows[i].thread_first = (uint32_t)f->nthreads_kept;
	f->rows[i].thread_count++;
	f->threads[f->nthreads_kept++] = t;
	return 0;
}

/* Row i's split from events no longer matches its counts (frame_sum said
 * the frames level): the frame_thread records in scratch replace it, when it
 * is still the last split kept. */
static int gm_frames_split_records(gm_frames_t *f, size_t i)
{
	gm_frames_row_t *row = &f->rows[i];
	size_t n = f->scratch_frame == row->frame ? f->nscratch : 0;

	row->flags &= (uint8_t)~GM_FRAMES_ROW_SPLIT_EVENTS;
	if ((size_t)row->thread_first + row->thread_count != f->nthreads_kept) {
		row->thread_count = 0;
		return 0;
	}
	f->nthreads_kept = row->thread_first;
	row->thread_count = 0;
	if (n == 0 || n > UINT32_MAX || f->nthreads_kept + n > UINT32_MAX)
		return 0;
	if (GM_GROW(f->threads, f->threads_cap, f->nthreads_kept + n) < 0)
		return -ENOMEM;
	memcpy(f->threads + f->nthreads_kept, f->scratch, n * sizeof(*f->scratch));
	row->thread_count = (uint32_t)n;
	f->nthreads_kept += n;
	return 0;
}

static int gm_frames_frame_sum(gm_frames_t *f, const gm_event_t *ev)
{
	uint64_t flags = ev->extra[7];
	int level = (flags & GM_FRAME_FLAG_FRAMES_LEVEL) ? gm_level_frames : gm_level_events;
	int64_t w = (int64_t)ev->extra[4], wpeak = (int64_t)ev->extra[5], delta;
	gm_frames_row_t *row;
	size_t i;

	if (flags & GM_FRAME_FLAG_AT_END) {
		/* the totals after the last frame end: no frame of its own */
		f->has_tail = 1;
		f->tail_allocations = ev->extra[0];
		f->tail_frees = ev->extra[1];
		f->tail_allocated_bytes = ev->extra[2];
		f->tail_freed_bytes = ev->extra[3];
		f->tail_live_bytes = ev->extra[4];
		return 0;
	}
	gm_frames_level_known(f, level);
	/* the writer's live bytes move only in the frames level; follow them */
	delta = (int64_t)((uint64_t)w - (uint64_t)f->writer_live);
	f->writer_live = w;
	f->est_live += delta;
	/* the change happened at the previous frame's end: everything seen of
	 * the frame being read so far moves with it */
	f->cur.peak += delta;

	i = f->nrows ? (f->rows[f->nrows - 1].frame == ev->a ? f->nrows - 1 : SIZE_MAX) : SIZE_MAX;
	if (i == SIZE_MAX)
		i = gm_frames_find(f, ev->a);
	if (i == SIZE_MAX || (f->rows[i].flags & GM_FRAMES_ROW_SUM))
		return 0;
	row = &f->rows[i];
	row->flags |= GM_FRAMES_ROW_SUM;
	row->level = (uint8_t)level;
	row->nthreads = (uint32_t)(ev->b > UINT32_MAX ? UINT32_MAX : ev->b);
	row->alloc_ns = gm_frames_ticks_ns(f, ev->extra[6]);
	if (flags & GM_FRAME_FLAG_PEAK_APPROX)
		row->flags |= GM_FRAMES_ROW_PEAK_APPROX;
	if (i == f->nrows - 1) {
		int64_t end = f->last_row_est + delta;

		f->last_row_est = end;
		row->live_bytes = end > 0 ? (uint64_t)end : 0;
		if (level == gm_level_frames) {
			int64_t peak = end + (wpeak > w ? wpeak - w : 0);

			if (peak > 0 && (uint64_t)peak > row->peak_live_bytes)
				row->peak_live_bytes = (uint64_t)peak;
		}
		if (row->live_bytes > row->peak_live_bytes)
			row->peak_live_bytes = row->live_bytes;
	}
	if (level == gm_level_frames || (row->flags & GM_FRAMES_ROW_LEVEL_CHANGED)) {
		row->flags &= (uint8_t)~GM_FRAMES_ROW_EXACT;
		row->allocations = ev->extra[0];
		row->frees = ev->extra[1];
		row->allocated_bytes = ev->extra[2];
		row->freed_bytes += ev->extra[3]; /* the writer's part: frames level only */
	}
	if ((row->flags & GM_FRAMES_ROW_SPLIT_EVENTS) && !(row->flags & GM_FRAMES_ROW_EXACT))
		return gm_frames_split_records(f, i);
	return 0;
}

static int gm_frames_spike(gm_frames_t *f, const gm_event_t *ev)
{
	gm_frames_spike_t *s;
	size_t row = gm_frames_find(f, ev->a);

	if (GM_GROW(f->spikes, f->spikes_cap, f->nspikes + 1) < 0)
		return -ENOMEM;
	s = &f->spikes[f->nspikes];
	memset(s, 0, sizeof(*s));
	s->frame = ev->a;
	s->ns = ev->ns;
	s->reasons = (uint32_t)ev->b;
	s->allocations = ev->extra[0];
	s->limit_allocations = ev->extra[1];
	s->allocated_bytes = ev->extra[2];
	s->limit_bytes = ev->extra[3];
	s->alloc_ns = ev->extra[4];
	s->limit_alloc_ns = ev->extra[5];
	s->row = row;
	f->nspikes++;
	if (f->nspikes > GM_FRAMES_SPIKE_DETAIL)
		return 0;
	s->detail = 1;
	s->class_first = (uint32_t)f->nclasses;
	s->thread_first = (uint32_t)f->nspike_threads;
	/* the frame that just ended is the one the spike is about */
	if (row != SIZE_MAX && row == f->nrows - 1 && f->has_last &&
	    (f->rows[row].flags & GM_FRAMES_ROW_EXACT)) {
		int k;

		s->has_classes = 1;
		for (k = 0; k < GM_FRAMES_CLASSES; k++) {
			if (f->last.class_count[k] == 0)
				continue;
			if (GM_GROW(f->classes, f->classes_cap, f->nclasses + 1) < 0)
				return -ENOMEM;
			f->classes[f->nclasses].k = (uint32_t)k;
			f->classes[f->nclasses].count = f->last.class_count[k];
			f->classes[f->nclasses].bytes = f->last.class_bytes[k];
			f->nclasses++;
			s->class_count++;
		}
	}
	if (row != SIZE_MAX && row == f->nrows - 1 && f->has_last) {
		/* the tags and assets that allocated most in that frame */
		gm_frames_owner_t *last = f->own[f->own_cur ^ 1];
		uint32_t n = f->nown[f->own_cur ^ 1], i, kept[2] = {0, 0};
		qsort(last, n, sizeof(*last), gm_frames_owner_cmp);
		s->owner_first = (uint32_t)f->nowners;
		for (i = 0; i < n; i++) {
			gm_frames_owner_t o = last[i];
			if (kept[o.kind & 1]++ >= GM_FRAMES_OWNER_TOP)
				continue;
			if (o.kind == 0 && o.id < f->ntag_names)
				o.name = f->tag_names[o.id];
			else if (o.kind == 1 && o.id < f->nasset_names)
				o.name = f->asset_names[o.id];
			if (GM_GROW(f->owners, f->owners_cap, f->nowners + 1) < 0)
				return -ENOMEM;
			f->owners[f->nowners++] = o;
			s->owner_count++;
		}
	}
	if (f->nscratch && f->scratch_frame == ev->a) {
		if (GM_GROW(f->spike_threads, f->spike_threads_cap,
		            f->nspike_threads + f->nscratch) < 0)
			return -ENOMEM;
		memcpy(f->spike_threads + f->nspike_threads, f->scratch,
		       f->nscratch * sizeof(*f->scratch));
		{
			/* at the events level the writer keeps no freed bytes (its
			 * frame_thread says 0): the row's split from the events has
			 * them, and the counts the frame row itself shows */
			size_t i = gm_frames_find(f, ev->a), k;
			if (i != SIZE_MAX && (f->rows[i].flags & GM_FRAMES_ROW_SPLIT_EVENTS))
				for (k = 0; k < f->nscratch; k++) {
					gm_frames_thread_t *o =
					        &f->spike_threads[f->nspike_threads + k];
					const gm_frames_thread_t *e =
					        f->threads + f->rows[i].thread_first;
					uint32_t j;
					for (j = 0; j < f->rows[i].thread_count; j++)
						if (e[j].thread == o->thread) {
							o->allocations = e[j].allocations;
							o->frees = e[j].frees;
							o->allocated_bytes = e[j].allocated_bytes;
							o->freed_bytes = e[j].freed_bytes;
						}
				}
		}
		f->nspike_threads += f->nscratch;
		s->thread_count = (uint32_t)f->nscratch;
	}
	return 0;
}

static void gm_frames_tick(gm_frames_t *f)
{
	f->total_ticks++;
	f->cur.ticks++;
	if (f->have_tick && f->level != gm_level_frames) {
		uint64_t n = f->allocs_total - f->tick_allocs;

		if (f->level == gm_level_events) {
			f->tick_intervals++;
			f->tick_interval_allocations += n;
			if (n > f->tick_interval_max)
				f->tick_interval_max = n;
		} else {
			f->pending_intervals++;
			f->pending_allocations += n;
			if (n > f->pending_max)
				f->pending_max = n;
		}
	}
	f->have_tick = 1;
	f->tick_allocs = f->allocs_total;
}

static int gm_frames_level(gm_frames_t *f, const gm_event_t *ev)
{
	gm_frames_level_change_t *c;
	int to = (int)ev->a;

	if (ev->a >= gm_level_count)
		return 0;
	if (f->level < 0) {
		/* nothing told the level before: cannot say it changed */
		gm_frames_level_known(f, to);
		return 0;
	}
	if (to == f->level)
		return 0;
	if (GM_GROW(f->changes, f->changes_cap, f->nchanges + 1) < 0)
		return -ENOMEM;
	c = &f->changes[f->nchanges++];
	c->ns = ev->ns;
	c->row = f->nrows;
	c->frame = 0;
	c->from = f->level;
	c->to = to;
	f->level = to;
	f->cur.level_changed = 1;
	f->have_tick = 0; /* the interval between ticks spans two levels */
	if (to == gm_level_frames) {
		/* pointers are not recorded any more: frees of these blocks will
		 * reach live bytes through the writer's figures */
		gm_live_t *fresh = gm_live_new(0);

		if (!fresh)
			return -ENOMEM;
		gm_live_free(f->live);
		f->live = fresh;
	}
	return 0;
}

int gm_frames_add(gm_frames_t *f, const gm_event_t *ev)
{
	int rc = 0;

	if (f->failed)
		return -ENOMEM;
	if (f->nevents == 0 || ev->ns < f->first_ns)
		f->first_ns = ev->ns;
	if (f->nevents == 0 || ev->ns > f->last_ns)
		f->last_ns = ev->ns;
	f->nevents++;
	switch (ev->type) {
	case gm_rec_alloc:
		gm_frames_level_known(f, gm_level_events);
		rc = gm_frames_alloc(f, ev, ev->a, ev->b);
		break;
	case gm_rec_free:
		gm_frames_level_known(f, gm_level_events);
		rc = gm_frames_release(f, ev, ev->a);
		break;
	case gm_rec_realloc:
		gm_frames_level_known(f, gm_level_events);
		rc = gm_frames_release(f, ev, ev->extra[0]);
		if (rc == 0 && ev->a != 0) /* a == 0: realloc(p, 0) only freed */
			rc = gm_frames_alloc(f, ev, ev->a, ev->b);
		break;
	case gm_rec_frame:
		rc = gm_frames_frame(f, ev);
		break;
	case gm_rec_frame_thread:
		rc = gm_frames_frame_thread(f, ev);
		break;
	case gm_rec_frame_sum:
		rc = gm_frames_frame_sum(f, ev);
		break;
	case gm_rec_spike:
		rc = gm_frames_spike(f, ev);
		break;
	case gm_rec_sim_tick:
		gm_frames_tick(f);
		break;
	case gm_rec_context:
		rc = gm_frames_context(f, ev);
		break;
	case gm_rec_tag_def:
		if (ev->nextra * 16 >= ev->b)
			rc = gm_frames_name(&f->tag_names, &f->ntag_names, ev->a, ev->extra, ev->b);
		break;
	case gm_rec_asset_new:
		if (ev->nextra * 16 >= (ev->b & 0xffff))
			rc = gm_frames_name(&f->asset_names, &f->nasset_names, ev->a, ev->extra,
			                    ev->b & 0xffff);
		break;
	case gm_rec_frame_tags: {
		/* frames level: the frame that just ended, per tag */
		uint32_t i, last = (uint32_t)f->own_cur ^ 1;
		f->nown[last] = 0;
		for (i = 0; i < ev->nextra && f->nown[last] < GM_FRAMES_OWNER_SLOTS; i++) {
			gm_frames_owner_t *o = &f->own[last][f->nown[last]++];
			uint64_t id = ev->extra[2 * i] & 0xffffff;
			o->kind = 0;
			o->id = id == 0xffffff ? UINT32_MAX : id;
			o->name = NULL;
			o->count = ev->extra[2 * i] >> 24;
			o->bytes = ev->extra[2 * i + 1];
		}
		break;
	}
	case gm_rec_level:
		rc = gm_frames_level(f, ev);
		break;
	case gm_rec_frame_set:
		if (ev->a < GM_FRAMES_SETS && !f->sets[ev->a].name) {
			f->sets[ev->a].name = gm_frames_strdup(ev->extra, ev->b);
			if (!f->sets[ev->a].name)
				rc = -ENOMEM;
		}
		break;
	case gm_rec_thread_start:
		if (ev->thread < f->nthread_names) {
			char *name = gm_frames_strdup(ev->extra, ev->b);

			if (!name) {
				rc = -ENOMEM;
				break;
			}
			free(f->thread_names[ev->thread]);
			f->thread_names[ev->thread] = name;
		}
		break;
	default:
		break;
	}
	if (rc < 0)
		f->failed = 1;
	return rc;
}

int gm_frames_finish(gm_frames_t *f)
{
	gm_frames_set_t merged[GM_FRAMES_SETS];
	size_t i, j, n = 0;

	for (i = 0; i < f->nrows; i++) {
		if (f->rows[i].level < gm_level_count)
			f->level_frames[f->rows[i].level]++;
		f->source_frames[f->rows[i].source]++;
	}
	f->unframed_allocations = f->cur.allocations + f->tail_allocations;
	f->unframed_bytes = f->cur.allocated_bytes + f->tail_allocated_bytes;
	for (i = 0; i < f->nchanges; i++) {
		size_t r = f->changes[i].row;

		if (r < f->nrows)
			f->changes[i].frame = f->rows[r].frame;
		else
			f->changes[i].frame = f->nrows ? f->rows[f->nrows - 1].frame + 1 : 1;
	}

	/* secondary sets by name: two threads naming a new set at once may
	 * have given it two ids */
	memset(merged, 0, sizeof(merged));
	for (i = 1; i < GM_FRAMES_SETS; i++) {
		char fallback[32];
		const char *name = f->sets[i].name;

		if (f->sets[i].frames == 0 && !name)
			continue;
		if (!name) {
			snprintf(fallback, sizeof(fallback), "set %zu", i);
			name = fallback;
		}
		for (j = 0; j < n; j++)
			if (strcmp(merged[j].name, name) == 0)
				break;
		if (j == n) {
			merged[n].name = f->sets[i].name ? f->sets[i].name :
			                                   gm_frames_strdup(name, strlen(name));
			f->sets[i].name = NULL;
			if (!merged[n].name)
				goto nomem;
			n++;
		}
		merged[j].frames += f->sets[i].frames;
	}
	for (i = 0; i < GM_FRAMES_SETS; i++)
		free(f->sets[i].name);
	memcpy(f->sets, merged, sizeof(merged));
	f->nsets = n;
	return 0;
nomem:
	for (j = 0; j < n; j++)
		free(merged[j].name);
	return -ENOMEM;
}

/* ---- statistics -------------------------------------------------------- */

uint64_t gm_frames_row_ns(const gm_frames_row_t *row)
{
	return row->end_ns >= row->start_ns ? row->end_ns - row->start_ns : 0;
}

uint64_t gm_frames_value(const gm_frames_row_t *row, gm_frames_metric_t m)
{
	switch (m) {
	case gm_frames_metric_frame_ns:
		return gm_frames_row_ns(row);
	case gm_frames_metric_allocations:
		return row->allocations;
	case gm_frames_metric_allocated_bytes:
		return row->allocated_bytes;
	case gm_frames_metric_alloc_ns:
		return row->alloc_ns;
	default:
		return 0;
	}
}

size_t gm_frames_find(const gm_frames_t *f, uint64_t frame)
{
	size_t lo = 0, hi = f->nrows, i;

	/* frame numbers rise; a capture where they do not is searched in full */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (f->rows[mid].frame < frame)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < f->nrows && f->rows[lo].frame == frame)
		return lo;
	for (i = 0; i < f->nrows; i++)
		if (f->rows[i].frame == frame)
			return i;
	return SIZE_MAX;
}

static int gm_frames_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Value number ceil(p * n / 100) (1-based) of n sorted values. */
static uint64_t gm_frames_rank(const uint64_t *v, size_t n, unsigned p)
{
	size_t rank = (size_t)(((uint64_t)p * n + 99) / 100);

	if (rank < 1)
		rank = 1;
	return v[rank - 1];
}

size_t gm_frames_counted(const gm_frames_t *f)
{
	return f->nrows - f->ngaps;
}

int gm_frames_percentiles(const gm_frames_t *f, gm_frames_metric_t m, uint64_t out[4])
{
	uint64_t *v;
	size_t i, n = 0;

	if (gm_frames_counted(f) == 0) {
		memset(out, 0, 4 * sizeof(*out));
		return -ENOENT;
	}
	v = malloc(f->nrows * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < f->nrows; i++)
		if (!(f->rows[i].flags & GM_FRAMES_ROW_GAP))
			v[n++] = gm_frames_value(&f->rows[i], m);
	qsort(v, n, sizeof(*v), gm_frames_cmp_u64);
	out[0] = gm_frames_rank(v, n, 50);
	out[1] = gm_frames_rank(v, n, 95);
	out[2] = gm_frames_rank(v, n, 99);
	out[3] = v[n - 1];
	free(v);
	return 0;
}

double gm_frames_pearson(const gm_frames_t *f, gm_frames_metric_t m)
{
	double mx = 0, my = 0, sxx = 0, syy = 0, sxy = 0, n = (double)gm_frames_counted(f);
	size_t i;

	if (gm_frames_counted(f) < 2)
		return NAN;
	for (i = 0; i < f->nrows; i++) {
		if (f->rows[i].flags & GM_FRAMES_ROW_GAP)
			continue;
		mx += (double)gm_frames_row_ns(&f->rows[i]);
		my += (double)gm_frames_value(&f->rows[i], m);
	}
	mx /= n;
	my /= n;
	for (i = 0; i < f->nrows; i++) {
		if (f->rows[i].flags & GM_FRAMES_ROW_GAP)
			continue;
		double dx = (double)gm_frames_row_ns(&f->rows[i]) - mx;
		double dy = (double)gm_frames_value(&f->rows[i], m) - my;

		sxx += dx * dx;
		syy += dy * dy;
		sxy += dx * dy;
	}
	if (sxx <= 0 || syy <= 0)
		return NAN;
	return sxy / sqrt(sxx * syy);
}

/* qsort has no context argument: the top-N sort reads these. */
static const gm_frames_t *gm_frames_sort_f;
static gm_frames_metric_t gm_frames_sort_m;

static int gm_frames_cmp_rows(const void *a, const void *b)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	uint64_t x = gm_frames_value(&gm_frames_sort_f->rows[i], gm_frames_sort_m);
	uint64_t y = gm_frames_value(&gm_frames_sort_f->rows[j], gm_frames_sort_m);

	if (x != y)
		return x > y ? -1 : 1;
	return i < j ? -1 : i > j;
}

long gm_frames_top(const gm_frames_t *f, gm_frames_metric_t m, size_t n, size_t *out)
{
	size_t *idx, i, k = 0;

	if (n > gm_frames_counted(f))
		n = gm_frames_counted(f);
	if (n == 0)
		return 0;
	idx = malloc(f->nrows * sizeof(*idx));
	if (!idx)
		return -ENOMEM;
	for (i = 0; i < f->nrows; i++)
		if (!(f->rows[i].flags & GM_FRAMES_ROW_GAP))
			idx[k++] = i;
	gm_frames_sort_f = f;
	gm_frames_sort_m = m;
	qsort(idx, k, sizeof(*idx), gm_frames_cmp_rows);
	memcpy(out, idx, n * sizeof(*idx));
	free(idx);
	return (long)n;
}

void gm_frames_over_budget(const gm_frames_t *f, uint64_t budget_ns, double share, uint64_t *over,
                           uint64_t *alloc_over)
{
	double limit = share * (double)budget_ns;
	size_t i;

	*over = *alloc_over = 0;
	for (i = 0; i < f->nrows; i++) {
		if ((f->rows[i].flags & GM_FRAMES_ROW_GAP) ||
		    gm_frames_row_ns(&f->rows[i]) <= budget_ns)
			continue;
		(*over)++;
		if ((double)f->rows[i].alloc_ns > limit)
			(*alloc_over)++;
	}
}

/* The k-th smallest (0-based) of `zeros` zeros followed by n sorted values. */
static uint64_t gm_frames_kth(const uint64_t *v, uint64_t zeros, uint64_t k)
{
	return k < zeros ? 0 : v[k - zeros];
}

int gm_frames_rate(const gm_frames_t *f, gm_frames_rate_t *out)
{
	uint64_t start, span, full, allocs = 0, bytes = 0, nb = 0, second, zeros, total;
	uint64_t *va = NULL, *vb = NULL;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (f->nrows == 0)
		return -ENOENT;
	start = f->rows[0].start_ns;
	span = f->rows[f->nrows - 1].end_ns - start;
	for (i = 0; i < f->nrows; i++) {
		allocs += f->rows[i].allocations;
		bytes += f->rows[i].allocated_bytes;
	}
	if (span > 0) {
		out->allocations_per_s = (double)allocs * 1e9 / (double)span;
		out->bytes_per_s = (double)bytes * 1e9 / (double)span;
	}
	/* whole seconds only, unless the capture is shorter than one */
	full = span / 1000000000ull;
	total = full ? full : 1;
	va = malloc(f->nrows * sizeof(*va));
	vb = malloc(f->nrows * sizeof(*vb));
	if (!va || !vb) {
		free(va);
		free(vb);
		return -ENOMEM;
	}
	/* rows end in time order: one bucket per run of rows in one second */
	second = UINT64_MAX;
	for (i = 0; i < f->nrows; i++) {
		uint64_t s = (f->rows[i].end_ns - start) / 1000000000ull;

		if (s >= total)
			continue;
		if (s != second) {
			second = s;
			va[nb] = vb[nb] = 0;
			nb++;
		}
		va[nb - 1] += f->rows[i].allocations;
		vb[nb - 1] += f->rows[i].allocated_bytes;
	}
	qsort(va, nb, sizeof(*va), gm_frames_cmp_u64);
	qsort(vb, nb, sizeof(*vb), gm_frames_cmp_u64);
	if (nb > total) /* rows out of time order: buckets are runs, not seconds */
		total = nb;
	zeros = total - nb; /* seconds in which no frame ended */
	out->seconds = total;
	out->min = gm_frames_kth(va, zeros, 0);
	out->median = gm_frames_kth(va, zeros, (total - 1) / 2);
	out->max = gm_frames_kth(va, zeros, total - 1);
	out->bytes_min = gm_frames_kth(vb, zeros, 0);
	out->bytes_median = gm_frames_kth(vb, zeros, (total - 1) / 2);
	out->bytes_max = gm_frames_kth(vb, zeros, total - 1);
	free(va);
	free(vb);
	return 0;
}

int gm_frames_tick_histogram(const gm_frames_t *f, gm_frames_tick_bin_t **bins, size_t *n)
{
	gm_frames_tick_bin_t *b;
	uint64_t *v;
	size_t i, nb = 0;

	*bins = NULL;
	*n = 0;
	if (f->nrows == 0)
		return 0;
	v = malloc(f->nrows * sizeof(*v));
	b = malloc(f->nrows * sizeof(*b));
	if (!v || !b) {
		free(v);
		free(b);
		return -ENOMEM;
	}
	for (i = 0; i < f->nrows; i++)
		v[i] = f->rows[i].ticks;
	qsort(v, f->nrows, sizeof(*v), gm_frames_cmp_u64);
	for (i = 0; i < f->nrows; i++) {
		if (nb == 0 || b[nb - 1].ticks != v[i]) {
			b[nb].ticks = v[i];
			b[nb].frames = 0;
			nb++;
		}
		b[nb - 1].frames++;
	}
	free(v);
	*bins = b;
	*n = nb;
	return 0;
}

int gm_frames_per_tick(const gm_frames_t *f, double *mean, double *max)
{
	uint64_t allocs = 0, ticks = 0;
	size_t i;

	*mean = *max = 0;
	if (f->tick_intervals > 0) {
		*mean = (double)f->tick_interval_allocations / (double)f->tick_intervals;
		*max = (double)f->tick_interval_max;
		return 1;
	}
	for (i = 0; i < f->nrows; i++) {
		const gm_frames_row_t *r = &f->rows[i];
		double ratio;

		if (r->ticks == 0 || (r->flags & GM_FRAMES_ROW_EXACT))
			continue;
		allocs += r->allocations;
		ticks += r->ticks;
		ratio = (double)r->allocations / (double)r->ticks;
		if (ratio > *max)
			*max = ratio;
	}
	if (ticks == 0)
		return -ENOENT;
	*mean = (double)allocs / (double)ticks;
	return 0;
}

const char *gm_frames_level_name(int level)
{
	if (level == gm_level_events)
		return "events";
	if (level == gm_level_frames)
		return "frames";
	return "unknown";
}

const char *gm_frames_source_name(unsigned src)
{
	static const char *const names[gm_present_count] = {
	        [gm_present_marker] = "marker",
	        [gm_present_sdl2_gl] = "SDL_GL_SwapWindow",
	        [gm_present_sdl2_render] = "SDL_RenderPresent",
	        [gm_present_sdl2_surface] = "SDL_UpdateWindowSurface",
	        [gm_present_sdl2_surface_rects] = "SDL_UpdateWindowSurfaceRects",
	        [gm_present_sdl1_flip] = "SDL_Flip",
	        [gm_present_sdl1_update_rect] = "SDL_UpdateRect",
	        [gm_present_sdl1_update_rects] = "SDL_UpdateRects",
	        [gm_present_sdl1_gl] = "SDL_GL_SwapBuffers",
	        [gm_present_glx] = "glXSwapBuffers",
	        [gm_present_egl] = "eglSwapBuffers",
	        [gm_present_vulkan] = "vkQueuePresentKHR",
	};

	return src < gm_present_count && names[src] ? names[src] : "unknown";
}
