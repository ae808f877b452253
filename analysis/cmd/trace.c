/* trace.c - gmtrace trace: a capture as a timeline for Perfetto and chrome://tracing
 *
 * Writes the Trace Event Format (JSON) that ui.perfetto.dev, chrome://tracing
 * and Speedscope open: one process (the game), a track per kind of event,
 * and counters. The frames model (model/frames.h) gives the frames, their
 * figures and the spikes; the records this file reads itself in the same
 * pass give the rest (scenes, asset loads, budget violations and
 * evictions, garbage-collector runs, level changes). Times are microseconds
 * from the capture's first event. One event per line, so that a large trace
 * streams and diffs; keys: analysis/README.md, "gmtrace trace".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/cmd/args.h"
#include "analysis/cmd/cmd.h"
#include "analysis/log/reader.h"
#include "analysis/model/budgets.h"
#include "analysis/model/frames.h"
#include "analysis/model/grow.h"
#include "analysis/report/json.h"

/* Tracks (thread ids of the trace's one process). */
enum {
	gm_trace_frames = 1,
	gm_trace_spikes,
	gm_trace_scenes,
	gm_trace_assets,
	gm_trace_budgets,
	gm_trace_gc,
	gm_trace_capture,
	gm_trace_ntracks
};

static const char *const gm_trace_track_names[gm_trace_ntracks] = {
        [gm_trace_frames] = "frames",   [gm_trace_spikes] = "spikes",
        [gm_trace_scenes] = "scenes",   [gm_trace_assets] = "asset loads",
        [gm_trace_budgets] = "budgets", [gm_trace_gc] = "garbage collector",
        [gm_trace_capture] = "capture",
};

/* Names by id (asset, budget node), as their records gave them. */
typedef struct gm_trace_names {
	char **v;
	size_t n;
} gm_trace_names_t;

/* Ids past this in a (damaged) capture are not named. */
#define GM_TRACE_MAX_ID (1u << 24)

/* An event of the timeline other than a frame: a slice [ns, ns + dur) or,
 * with dur 0 and instant set, a point. */
typedef struct gm_trace_mark {
	uint64_t ns, dur;
	uint32_t track, type; /* gm_trace_*, gm_rec_t */
	int instant;
	uint64_t a, b, c, d, e; /* the record's figures, by type */
	char *name;             /* owned (scene names), or NULL */
	/* a frame end's budget events (over_soft) are the ended frame's, as
	 * gmtrace budgets counts them: --from/--to keep them by it; 0: the
	 * mark is kept by its time */
	uint64_t end_frame;
} gm_trace_mark_t;

typedef struct gm_trace {
	const char *path, *output;
	gm_frames_t *frames;
	gm_trace_mark_t *marks;
	size_t nmarks, capmarks;
	gm_trace_names_t assets, asset_types, nodes;
	uint64_t *loading; /* per asset id: 1 + ns its load began, 0: none */
	size_t nloading;
	uint64_t scene_ns; /* 1 + start of the scene in force, 0: none */
	size_t scene_mark; /* its mark */
	uint64_t t0;       /* earliest event's ns */
	uint64_t new_id;   /* the asset whose asset_new is its thread's last record */
	uint32_t new_thread;
	int new_pending;
	int level; /* the level in force (-1: not known yet) */
	int have_t0;
	/* --from/--to: frames kept, and the span of time they cover (other
	 * events are kept when they overlap it) */
	uint64_t from, to, win_lo, win_hi;
	int ranged;
	uint64_t mark; /* the last main frame mark read */
	uint32_t pid;
	char *exe;
	FILE *out;
} gm_trace_t;

static void gm_trace_usage(FILE *f)
{
	fprintf(f, "usage: gmtrace trace [--output FILE] [--from F] [--to F] CAPTURE\n"
	           "\n"
	           "The capture as a timeline in the Trace Event Format (JSON), which\n"
	           "ui.perfetto.dev and chrome://tracing open: a track of frames (each a slice\n"
	           "with its allocations, bytes, live and peak bytes, allocator time),\n"
	           "counters of live and peak bytes, allocations and allocator time per\n"
	           "frame, spikes, scenes, asset loads, budget violations and evictions,\n"
	           "garbage-collector runs and level changes.\n"
	           "\n"
	           "  --output FILE  write the trace there (default: standard output)\n"
	           "  --from F       only frames F and later, and what overlaps them\n"
	           "  --to F         only frames up to F (a long session's trace is large:\n"
	           "                 about 830 bytes a frame; viewers slow past ~250 MB)\n"
	           "  --help         this text\n"
	           "\n"
	           "Exit status: 0 ok, 1 capture unreadable or damaged (the trace covers\n"
	           "what could be read) or the trace cannot be written, 2 bad usage.\n");
}

/* ---- the pass ------------------------------------------------------------ */

static int gm_trace_name_set(gm_trace_names_t *t, uint64_t id, const char *s, size_t n)
{
	char *c;
	if (id >= GM_TRACE_MAX_ID)
		return 0;
	if (id >= t->n) {
		size_t had = t->n;
		if (gm_grow((void **)&t->v, &t->n, (size_t)id + 1, sizeof(*t->v)) != 0)
			return -ENOMEM;
		memset(t->v + had, 0, (t->n - had) * sizeof(*t->v));
	}
	while (n > 0 && s[n - 1] == '\0')
		n--;
	if (!(c = strndup(s, n)))
		return -ENOMEM;
	free(t->v[id]);
	t->v[id] = c;
	return 0;
}

static const char *gm_trace_name(const gm_trace_names_t *t, uint64_t id)
{
	return id < t->n ? t->v[id] : NULL;
}

static void gm_trace_names_free(gm_trace_names_t *t)
{
	size_t i;
	for (i = 0; i < t->n; i++)
		free(t->v[i]);
	free(t->v);
}

static gm_trace_mark_t *gm_trace_mark(gm_trace_t *t, uint32_t track, const gm_event_t *ev,
                                      uint64_t ns, uint64_t dur, int instant)
{
	gm_trace_mark_t *m;
	if (gm_grow((void **)&t->marks, &t->capmarks, t->nmarks + 1, sizeof(*t->marks)) != 0)
		return NULL;
	m = &t->marks[t->nmarks++];
	memset(m, 0, sizeof(*m));
	m->ns = ns;
	m->dur = dur;
	m->track = track;
	m->type = ev->type;
	m->instant = instant;
	m->a = ev->a;
	m->b = ev->b;
	return m;
}

/* Loads still open at the end of the capture end there, unfinished. */
static int gm_trace_loads_end(gm_trace_t *t, uint64_t ns)
{
	gm_event_t ev = {.type = gm_rec_asset_state, .x = gm_asset_loading};
	size_t id;
	for (id = 0; id < t->nloading; id++)
		if (t->loading[id]) {
			uint64_t start = t->loading[id] - 1;
			gm_trace_mark_t *m;
			ev.a = id;
			if (!(m = gm_trace_mark(t, gm_trace_assets, &ev, start,
			                        ns > start ? ns - start : 0, 0)))
				return -ENOMEM;
			m->c = gm_asset_loading;
			t->loading[id] = 0;
		}
	return 0;
}

/* A slice of d ns that ended at the record (a collector's run, an eviction). */
static gm_trace_mark_t *gm_trace_ending(gm_trace_t *t, uint32_t track, const gm_event_t *ev,
                                        uint64_t d)
{
	uint64_t start = d < ev->ns ? ev->ns - d : 0;
	return gm_trace_mark(t, track, ev, start, ev->ns - start, 0);
}

/* The scene in force ends at ns. */
static void gm_trace_scene_end(gm_trace_t *t, uint64_t ns)
{
	if (t->scene_ns) {
		gm_trace_mark_t *m = &t->marks[t->scene_mark];
		m->dur = ns > m->ns ? ns - m->ns : 0;
		t->scene_ns = 0;
	}
}

/* One event: what the frames model does not keep. */
static int gm_trace_event(gm_trace_t *t, const gm_event_t *ev)
{
	const char *text = (const char *)ev->extra;
	gm_trace_mark_t *m;
	/* a fork child's capture says an asset again on its first use there:
	 * asset_new, then at once (its thread's next record) the state it is
	 * in. That state is not the end of a load */
	int again = t->new_pending && ev->thread == t->new_thread &&
	            ev->type == gm_rec_asset_state && ev->a == t->new_id;
	if (ev->thread == t->new_thread)
		t->new_pending = 0;
	switch (ev->type) {
	case gm_rec_process: {
		size_t n;
		const char *exe = gm_event_process_exe(ev, &n);
		t->pid = (uint32_t)ev->a;
		free(t->exe);
		t->exe = strndup(exe, n);
		return t->exe ? 0 : -ENOMEM;
	}
	case gm_rec_asset_new: /* name, NUL, type: its load begins */
		if (gm_trace_name_set(&t->assets, ev->a, text, ev->b & 0xffff) != 0 ||
		    gm_trace_name_set(&t->asset_types, ev->a, text + (ev->b & 0xffff) + 1,
		                      ev->b >> 16) != 0)
			return -ENOMEM;
		t->new_pending = 1;
		t->new_thread = ev->thread;
		t->new_id = ev->a;
		/* fall through */
	case gm_rec_asset_state:
		if (ev->a >= GM_TRACE_MAX_ID)
			return 0;
		if (again && ev->x != gm_asset_loading) {
			if (ev->a < t->nloading)
				t->loading[ev->a] = 0;
			return 0;
		}
		if (ev->type == gm_rec_asset_new || ev->x == gm_asset_loading) {
			size_t had = t->nloading;
			if (ev->a >= t->nloading) {
				if (gm_grow((void **)&t->loading, &t->nloading, (size_t)ev->a + 1,
				            sizeof(*t->loading)) != 0)
					return -ENOMEM;
				memset(t->loading + had, 0,
				       (t->nloading - had) * sizeof(*t->loading));
			}
			t->loading[ev->a] = ev->ns + 1;
		} else if ((ev->x == gm_asset_resident || ev->x == gm_asset_failed ||
		            ev->x == gm_asset_unloading) &&
		           ev->a < t->nloading && t->loading[ev->a]) {
			/* a load's end; unloading from loading: a load given up */
			uint64_t start = t->loading[ev->a] - 1;
			if (!(m = gm_trace_mark(t, gm_trace_assets, ev, start,
			                        ev->ns > start ? ev->ns - start : 0, 0)))
				return -ENOMEM;
			m->c = ev->x;
			t->loading[ev->a] = 0;
		} else if (ev->x == gm_asset_unloaded) {
			if (!(m = gm_trace_mark(t, gm_trace_assets, ev, ev->ns, 0, 1)))
				return -ENOMEM;
			m->c = ev->x;
		}
		return 0;
	case gm_rec_scene:
		gm_trace_scene_end(t, ev->ns);
		if (!(m = gm_trace_mark(t, gm_trace_scenes, ev, ev->ns, 0, 0)))
			return -ENOMEM;
		if (!(m->name = strndup(text, (size_t)ev->b)))
			return -ENOMEM;
		t->scene_ns = ev->ns + 1;
		t->scene_mark = t->nmarks - 1;
		return 0;
	case gm_rec_gc: /* written when the run ended: [duration, uncollectable] */
		if (!(m = gm_trace_ending(t, gm_trace_gc, ev, ev->extra[0])))
			return -ENOMEM;
		m->c = ev->extra[1];
		return 0;
	case gm_rec_budget_node: /* +3 units, then the name */
		return gm_trace_name_set(&t->nodes, ev->a, text + 48, (size_t)ev->b);
	case gm_rec_frame:
		if (ev->x == 0 && ev->a > t->mark)
			t->mark = ev->a;
		return 0;
	case gm_rec_budget_violation:
		if (!(m = gm_trace_mark(t, gm_trace_budgets, ev, ev->ns, 0, 1)))
			return -ENOMEM;
		if (ev->b == gm_budget_over_soft)
			m->end_frame = t->mark ? t->mark : 1;
		m->c = ev->extra[0]; /* live bytes */
		m->d = ev->extra[1]; /* limit */
		m->e = ev->extra[2]; /* bytes requested */
		return 0;
	case gm_rec_budget_evict: /* [event, bytes reclaimed], [ns taken, ...] */
		if (!(m = gm_trace_ending(t, gm_trace_budgets, ev, ev->extra[2])))
			return -ENOMEM;
		if (ev->extra[0] == gm_budget_over_soft)
			m->end_frame = t->mark ? t->mark : 1;
		m->c = ev->extra[0];
		m->d = ev->extra[1];
		return 0;
	case gm_rec_level: /* (each session says its level at start: not a change) */
		if (t->level >= 0 && ev->a != (uint64_t)t->level &&
		    !gm_trace_mark(t, gm_trace_capture, ev, ev->ns, 0, 1))
			return -ENOMEM;
		t->level = (int)(ev->a & 0xff);
		return 0;
	default:
		return 0;
	}
}

/* ---- the trace ------------------------------------------------------------ */

/* Microseconds from the earliest event. */
static double gm_trace_us(const gm_trace_t *t, uint64_t ns)
{
	return ns >= t->t0 ? (double)(ns - t->t0) / 1000.0 : 0.0;
}

/* Starts one trace event (ph, track, name, ts); the caller adds the rest
 * and gm_trace_end closes it. */
static void gm_trace_begin(gm_trace_t *t, gm_json_t *j, const char *ph, uint32_t track,
                           const char *name, uint64_t ns, int *first)
{
	if (!*first)
		fputc(',', t->out);
	*first = 0;
	gm_json_init(j, t->out, 0);
	gm_json_object_begin(j);
	gm_json_key_string(j, "ph", ph);
	gm_json_key_u64(j, "pid", t->pid);
	if (track)
		gm_json_key_u64(j, "tid", track);
	gm_json_key_string(j, "name", name);
	if (ph[0] != 'M')
		gm_json_key_double(j, "ts", gm_trace_us(t, ns));
}

static int gm_trace_end(gm_json_t *j)
{
	gm_json_object_end(j);
	return gm_json_finish(j);
}

static int gm_trace_metadata(gm_trace_t *t, int *first)
{
	gm_json_t j;
	char name[600];
	uint32_t k;
	int rc = 0;
	snprintf(name, sizeof(name), "%s (pid %u)", t->exe && *t->exe ? t->exe : "game", t->pid);
	gm_trace_begin(t, &j, "M", 0, "process_name", 0, first);
	gm_json_key(&j, "args");
	gm_json_object_begin(&j);
	gm_json_key_string(&j, "name", name);
	gm_json_object_end(&j);
	rc |= gm_trace_end(&j);
	for (k = 1; k < gm_trace_ntracks; k++) {
		gm_trace_begin(t, &j, "M", k, "thread_name", 0, first);
		gm_json_key(&j, "args");
		gm_json_object_begin(&j);
		gm_json_key_string(&j, "name", gm_trace_track_names[k]);
		gm_json_object_end(&j);
		rc |= gm_trace_end(&j);
		gm_trace_begin(t, &j, "M", k, "thread_sort_index", 0, first);
		gm_json_key(&j, "args");
		gm_json_object_begin(&j);
		gm_json_key_u64(&j, "sort_index", k);
		gm_json_object_end(&j);
		rc |= gm_trace_end(&j);
	}
	return rc;
}

/* A counter track's value at ns (one series: see gm_trace_frames_out). */
static int gm_trace_counter(gm_trace_t *t, const char *name, uint64_t ns, const char *key, double v,
                            int *first)
{
	gm_json_t j;
	gm_trace_begin(t, &j, "C", 0, name, ns, first);
	gm_json_key(&j, "args");
	gm_json_object_begin(&j);
	gm_json_key_double(&j, key, v);
	gm_json_object_end(&j);
	return gm_trace_end(&j);
}

static int gm_trace_frames_out(gm_trace_t *t, int *first)
{
	const gm_frames_t *f = t->frames;
	char name[48];
	size_t i;
	int rc = 0;
	for (i = 0; i < f->nrows; i++) {
		const gm_frames_row_t *r = &f->rows[i];
		gm_json_t j;
		if (r->frame < t->from || r->frame > t->to)
			continue;
		snprintf(name, sizeof(name), "frame %llu", (unsigned long long)r->frame);
		gm_trace_begin(t, &j, "X", gm_trace_frames, name, r->start_ns, first);
		gm_json_key_double(&j, "dur", (double)gm_frames_row_ns(r) / 1000.0);
		gm_json_key_string(&j, "cat", "frame");
		gm_json_key(&j, "args");
		gm_json_object_begin(&j);
		gm_json_key_u64(&j, "frame", r->frame);
		gm_json_key_u64(&j, "allocations", r->allocations);
		gm_json_key_u64(&j, "frees", r->frees);
		gm_json_key_u64(&j, "allocated_bytes", r->allocated_bytes);
		gm_json_key_u64(&j, "freed_bytes", r->freed_bytes);
		gm_json_key_u64(&j, "live_bytes", r->live_bytes);
		gm_json_key_u64(&j, "peak_live_bytes", r->peak_live_bytes);
		gm_json_key_u64(&j, "alloc_ns", r->alloc_ns);
		gm_json_key_u64(&j, "ticks", r->ticks);
		gm_json_key_string(&j, "presented_by", gm_frames_source_name(r->source));
		gm_json_key_string(&j, "level", gm_frames_level_name(r->level));
		gm_json_object_end(&j);
		rc |= gm_trace_end(&j);
		/* per-frame figures hold over the frame, its peak too; live bytes
		 * are the end's. One series a counter: a viewer stacks a
		 * counter's series (live plus peak drawn as twice the memory) */
		rc |= gm_trace_counter(t, "allocations per frame", r->start_ns, "allocations",
		                       (double)r->allocations, first);
		rc |= gm_trace_counter(t, "frees per frame", r->start_ns, "frees", (double)r->frees,
		                       first);
		rc |= gm_trace_counter(t, "allocator time per frame (us)", r->start_ns, "time",
		                       (double)r->alloc_ns / 1000.0, first);
		rc |= gm_trace_counter(t, "peak live bytes in the frame", r->start_ns, "peak",
		                       (double)r->peak_live_bytes, first);
		rc |= gm_trace_counter(t, "live bytes", r->end_ns, "live", (double)r->live_bytes,
		                       first);
	}
	for (i = 0; i < f->nspikes; i++) {
		const gm_frames_spike_t *s = &f->spikes[i];
		gm_json_t j;
		if (s->frame < t->from || s->frame > t->to)
			continue;
		snprintf(name, sizeof(name), "spike: frame %llu", (unsigned long long)s->frame);
		gm_trace_begin(t, &j, "i", gm_trace_spikes, name, s->ns, first);
		gm_json_key_string(&j, "s", "t");
		gm_json_key(&j, "args");
		gm_json_object_begin(&j);
		gm_json_key_u64(&j, "frame", s->frame);
		gm_json_key(&j, "reasons");
		gm_json_array_begin(&j);
		if (s->reasons & GM_SPIKE_ALLOCATIONS)
			gm_json_string(&j, "allocations");
		if (s->reasons & GM_SPIKE_BYTES)
			gm_json_string(&j, "bytes");
		if (s->reasons & GM_SPIKE_ALLOC_TIME)
			gm_json_string(&j, "alloc_time"); /* (as frames --json says it) */
		gm_json_array_end(&j);
		gm_json_key_u64(&j, "allocations", s->allocations);
		gm_json_key_u64(&j, "allocated_bytes", s->allocated_bytes);
		gm_json_key_u64(&j, "alloc_ns", s->alloc_ns);
		gm_json_object_end(&j);
		rc |= gm_trace_end(&j);
	}
	return rc;
}

/* An async slice's category and id (an asset's load, an eviction: the
 * mark's index, unique). */
static void gm_trace_async_id(gm_json_t *j, uint32_t type, size_t id)
{
	gm_json_key_string(j, "cat", type == gm_rec_budget_evict ? "eviction" : "asset");
	gm_json_key_u64(j, "id", id);
}

/* A mark's phase: an instant, an async slice's beginning, or a slice. */
static const char *gm_trace_phase(int instant, int async)
{
	return instant ? "i" : async ? "b" : "X";
}

/* How a load ended, for its name. */
static const char *gm_trace_load_end(uint64_t state)
{
	switch (state) {
	case gm_asset_failed:
		return " (failed)";
	case gm_asset_unloading:
		return " (given up)";
	case gm_asset_loading:
		return " (unfinished)";
	default:
		return "";
	}
}

static const char *const gm_trace_asset_states[] = {"loading", "resident", "unloading", "unloaded",
                                                    "failed"};

static int gm_trace_marks_out(gm_trace_t *t, int *first)
{
	char name[600];
	size_t i;
	uint64_t ns, dur;
	int rc = 0, async;
	for (i = 0; i < t->nmarks; i++) {
		const gm_trace_mark_t *m = &t->marks[i];
		const char *s;
		gm_json_t j;
		if (t->ranged && (m->end_frame ? m->end_frame < t->from || m->end_frame > t->to :
		                                 m->ns > t->win_hi || m->ns + m->dur < t->win_lo))
			continue;
		switch (m->type) {
		case gm_rec_asset_state:
			s = gm_trace_name(&t->assets, m->a);
			if (m->instant)
				snprintf(name, sizeof(name), "unload %s", s ? s : "(unnamed)");
			else
				snprintf(name, sizeof(name), "%s%s", s ? s : "(unnamed)",
				         gm_trace_load_end(m->c));
			break;
		case gm_rec_scene:
			snprintf(name, sizeof(name), "scene %s", m->name);
			break;
		case gm_rec_gc:
			snprintf(name, sizeof(name), "gc generation %llu",
			         (unsigned long long)m->a);
			break;
		case gm_rec_budget_violation:
			s = gm_trace_name(&t->nodes, m->a);
			snprintf(name, sizeof(name), "%s: %s",
			         gm_budgets_event_name((unsigned)m->b), s ? s : "(unnamed node)");
			break;
		case gm_rec_budget_evict:
			s = gm_trace_name(&t->assets, m->a);
			snprintf(name, sizeof(name), "evict %s", s ? s : "(unnamed)");
			break;
		default: /* gm_rec_level */
			snprintf(name, sizeof(name), "level: %s", gm_frames_level_name((int)m->a));
			break;
		}
		/* loads overlap (a level loads its textures; loader threads) and so
		 * do evictions (each thread runs its own): each is an async slice
		 * of its own; the others nest on their track */
		async = (m->type == gm_rec_asset_state || m->type == gm_rec_budget_evict) &&
		        !m->instant;
		/* (a slice that began before the capture's first event: from it) */
		ns = m->ns < t->t0 ? t->t0 : m->ns;
		dur = m->dur > ns - m->ns ? m->dur - (ns - m->ns) : 0;
		gm_trace_begin(t, &j, gm_trace_phase(m->instant, async), m->track, name, ns, first);
		if (m->instant)
			gm_json_key_string(&j, "s", "t");
		else if (async)
			gm_trace_async_id(&j, m->type, i);
		else
			gm_json_key_double(&j, "dur", (double)dur / 1000.0);
		gm_json_key(&j, "args");
		gm_json_object_begin(&j);
		switch (m->type) {
		case gm_rec_asset_state:
			gm_json_key_u64(&j, "asset", m->a);
			gm_json_key_string(&j, "type", gm_trace_name(&t->asset_types, m->a));
			gm_json_key_string(&j, "state",
			                   m->c < 5 ? gm_trace_asset_states[m->c] : NULL);
			break;
		case gm_rec_scene:
			gm_json_key_u64(&j, "scene", m->a);
			break;
		case gm_rec_gc:
			gm_json_key_u64(&j, "collected", m->b);
			gm_json_key_u64(&j, "uncollectable", m->c);
			break;
		case gm_rec_budget_violation:
			gm_json_key_string(&j, "node", gm_trace_name(&t->nodes, m->a));
			gm_json_key_u64(&j, "node_id", m->a);
			gm_json_key_u64(&j, "live_bytes", m->c);
			gm_json_key_u64(&j, "limit", m->d);
			gm_json_key_u64(&j, "requested", m->e);
			break;
		case gm_rec_budget_evict:
			gm_json_key_u64(&j, "asset", m->a);
			gm_json_key_string(&j, "node", gm_trace_name(&t->nodes, m->b));
			gm_json_key_u64(&j, "node_id", m->b);
			gm_json_key_string(&j, "because", gm_budgets_event_name((unsigned)m->c));
			gm_json_key_i64(&j, "reclaimed_bytes", (int64_t)m->d);
			break;
		default:
			break;
		}
		gm_json_object_end(&j);
		rc |= gm_trace_end(&j);
		if (async) {
			gm_trace_begin(t, &j, "e", m->track, name, ns + dur, first);
			gm_trace_async_id(&j, m->type, i);
			rc |= gm_trace_end(&j);
		}
	}
	return rc;
}

static int gm_trace_write(gm_trace_t *t, const char *error)
{
	int first = 1, rc = 0;
	fprintf(t->out, "{\"displayTimeUnit\":\"ns\",\"otherData\":");
	{
		gm_json_t j;
		gm_json_init(&j, t->out, 0);
		gm_json_object_begin(&j);
		gm_json_key_string(&j, "capture", t->path);
		gm_json_key_string(&j, "producer", "gmtrace trace");
		gm_json_key_u64(&j, "frames", t->frames->nrows);
		if (t->ranged) {
			gm_json_key_u64(&j, "from", t->from);
			if (t->to != UINT64_MAX)
				gm_json_key_u64(&j, "to", t->to);
			else
				gm_json_key_null(&j, "to");
		}
		gm_json_key_string(&j, "error", error);
		gm_json_object_end(&j);
		rc |= gm_json_finish(&j);
	}
	fprintf(t->out, ",\"traceEvents\":[\n");
	rc |= gm_trace_metadata(t, &first);
	rc |= gm_trace_frames_out(t, &first);
	rc |= gm_trace_marks_out(t, &first);
	fprintf(t->out, "]}\n");
	return rc;
}

/* Options: 1 for --help, 0, or -1 after one line on stderr. */
static int gm_trace_args(gm_trace_t *t, int argc, char **argv)
{
	const char *value;
	int i, m;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
		if ((m = gm_args_value(argc, argv, &i, "--output", &value)) != 0) {
			if (m < 0 || !*value) {
				fprintf(stderr, "gmtrace trace: --output takes a file name\n");
				return -1;
			}
			t->output = value;
		} else if ((m = gm_args_value(argc, argv, &i, "--from", &value)) != 0) {
			if (m < 0 || gm_args_u64(value, &t->from) < 0) {
				fprintf(stderr, "gmtrace trace: --from takes a frame number\n");
				return -1;
			}
			t->ranged = 1;
		} else if ((m = gm_args_value(argc, argv, &i, "--to", &value)) != 0) {
			if (m < 0 || gm_args_u64(value, &t->to) < 0) {
				fprintf(stderr, "gmtrace trace: --to takes a frame number\n");
				return -1;
			}
			t->ranged = 1;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "gmtrace trace: unknown option '%s'\n", argv[i]);
			return -1;
		} else if (t->path) {
			fprintf(stderr, "gmtrace trace: one capture only\n");
			return -1;
		} else {
			t->path = argv[i];
		}
	}
	if (!t->path) {
		fprintf(stderr, "gmtrace trace: no capture given\n");
		return -1;
	}
	if (t->from > t->to) {
		fprintf(stderr, "gmtrace trace: --from %llu is after --to %llu\n",
		        (unsigned long long)t->from, (unsigned long long)t->to);
		return -1;
	}
	return 0;
}

/* The span of the frames kept: from the first one's start (the capture's
 * start when the range begins at its first frame) to the last one's end
 * (the capture's end when it runs to its last); nothing when no frame is
 * in the range. */
static void gm_trace_window(gm_trace_t *t)
{
	const gm_frames_t *f = t->frames;
	size_t i, lo = f->nrows, hi = 0;
	for (i = 0; i < f->nrows; i++) {
		if (f->rows[i].frame < t->from || f->rows[i].frame > t->to)
			continue;
		if (lo == f->nrows)
			lo = i;
		hi = i;
	}
	if (lo == f->nrows) {
		t->win_lo = 1;
		t->win_hi = 0;
		return;
	}
	t->win_lo = lo == 0 ? 0 : f->rows[lo].start_ns;
	t->win_hi = hi + 1 == f->nrows ? UINT64_MAX : f->rows[hi].end_ns;
}

int gm_cmd_trace(int argc, char **argv)
{
	gm_trace_t t;
	gm_frames_opts_t opts;
	gm_reader_t *r = NULL;
	const gm_reader_info_t *info;
	const char *error = NULL;
	int m, rc = GM_CMD_FAIL;
	FILE *out;
	char err[512];
	gm_event_t ev;

	memset(&t, 0, sizeof(t));
	t.level = -1;
	t.to = UINT64_MAX;
	if ((m = gm_trace_args(&t, argc, argv)) != 0) {
		gm_trace_usage(m > 0 ? stdout : stderr);
		return m > 0 ? GM_CMD_OK : GM_CMD_USAGE;
	}
	if (!(r = gm_reader_open(t.path, err, sizeof(err)))) {
		fprintf(stderr, "gmtrace: %s\n", err);
		return GM_CMD_FAIL;
	}
	info = gm_reader_info(r);
	t.pid = info->pid;
	memset(&opts, 0, sizeof(opts));
	opts.to = UINT64_MAX;
	if (!(t.frames = gm_frames_new(&opts, info->tsc_hz, info->nthreads)))
		goto nomem;
	while (gm_reader_next(r, &ev)) {
		if (!t.have_t0 || ev.ns < t.t0) { /* (the earliest: threads' clocks interleave) */
			t.t0 = ev.ns;
			t.have_t0 = 1;
		}
		if (gm_frames_add(t.frames, &ev) < 0 || gm_trace_event(&t, &ev) < 0)
			goto nomem;
	}
	if (gm_frames_finish(t.frames) < 0)
		goto nomem;
	if (t.ranged)
		gm_trace_window(&t);
	if (t.have_t0) {
		uint64_t end = t.frames->last_ns > t.t0 ? t.frames->last_ns : t.t0;
		gm_trace_scene_end(&t, end);
		if (gm_trace_loads_end(&t, end) < 0)
			goto nomem;
	}
	error = gm_reader_error(r);

	if (!(t.out = gm_args_output_open("trace", t.output, t.path)))
		goto done;
	m = gm_trace_write(&t, error) != 0;
	out = t.out;
	t.out = NULL;
	if (gm_args_output_end(out, m, "trace", "trace", t.output) != 0)
		goto done;
	if (error) {
		fprintf(stderr, "gmtrace: %s\n", error);
		goto done;
	}
	rc = GM_CMD_OK;
	goto done;
nomem:
	fprintf(stderr, "gmtrace: %s: out of memory\n", t.path);
done:
	for (size_t k = 0; k < t.nmarks; k++)
		free(t.marks[k].name);
	free(t.marks);
	gm_trace_names_free(&t.assets);
	gm_trace_names_free(&t.asset_types);
	gm_trace_names_free(&t.nodes);
	free(t.loading);
	free(t.exe);
	gm_frames_free(t.frames);
	gm_reader_free(r);
	return rc;
}
