/* frames.c - gmtrace frames: frame times against what the game allocated in them
 *
 * One pass builds the frames model (model/frames.h: one row per displayed
 * frame); everything below is a view over those rows: percentiles, the
 * worst frames, spikes, correlation of frame time with allocation, frames
 * over budget, simulation ticks, allocation rate, secondary frame sets and
 * the frames around level transitions. Text for people, one JSON object
 * (keys: analysis/README.md, "frames --json") or a CSV table of the rows.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/cmd/args.h"
#include "analysis/cmd/cmd.h"
#include "analysis/cmd/framescmp.h"
#include "analysis/log/reader.h"
#include "analysis/model/frames.h"
#include "analysis/report/json.h"
#include "analysis/report/text.h"

#define GM_FRAMES_CMD_TOP_DEFAULT 10
#define GM_FRAMES_CMD_TOP_MAX 100000
#define GM_FRAMES_CMD_BUDGET_MS 16.667
#define GM_FRAMES_CMD_SHARE 0.25
#define GM_FRAMES_CMD_WINDOW 30
#define GM_FRAMES_CMD_WINDOW_MAX 1000000
#define GM_FRAMES_CMD_TRANSITIONS_MAX 64

typedef struct gm_frames_cmd {
	const char *path;
	const gm_reader_info_t *info;
	gm_frames_t *f;
	uint64_t top, budget_ns, window, from, to;
	double share;
	int threads, ranged;
	uint64_t transitions[GM_FRAMES_CMD_TRANSITIONS_MAX];
	int ntransitions;
	size_t *worst, *most; /* row indices */
	long nworst, nmost;
	uint64_t stacks;           /* stack records: the capture has call stacks */
	const char *cmp_a, *cmp_b; /* --compare A B */
	const char *view;          /* an option of the one-capture report, or NULL */
	int check;                 /* --check-growth given */
	double growth;             /* its percent */
	int only;                  /* --check FIGURES given */
	unsigned mask;             /* the figures --check-growth looks at */
} gm_frames_cmd_t;

/* The rows around a transition and the means before and after it. */
typedef struct gm_frames_cmd_window {
	uint64_t frame;
	int from, to;      /* gm_level_t, -1 when the frame was given, not a level change */
	size_t first, end; /* rows [first, end) in F-K..F+K */
	uint64_t nbefore, nafter;
	double before_allocs, before_live, after_allocs, after_live;
} gm_frames_cmd_window_t;

static const char *const gm_frames_cmd_metric_names[gm_frames_metric_count] = {
        "frame_ns", "allocations", "allocated_bytes", "alloc_ns"};

static void gm_frames_cmd_usage(FILE *f)
{
	fprintf(f,
	        "usage: gmtrace frames [--json | --csv] [options] CAPTURE\n"
	        "       gmtrace frames [--json] [--check-growth PCT [--check FIGURES]] --compare "
	        "A B\n"
	        "\n"
	        "Frame times against what the game allocated in them: percentiles,\n"
	        "worst frames, spikes, correlation, frames over budget, simulation\n"
	        "ticks, allocation rate, secondary frame sets, level transitions.\n"
	        "\n"
	        "  --json            one JSON object (keys: analysis/README.md, \"frames --json\")\n"
	        "  --csv             the per-frame table as CSV (one row per frame)\n"
	        "  --from N, --to N  frames in the per-frame table (default: all; the text\n"
	        "                    shows the table only when one is given or with --threads);\n"
	        "                    percentiles and the rest always cover every frame\n"
	        "  --top N           worst frames, frames with most allocations, spikes\n"
	        "                    shown in text (default %d)\n"
	        "  --budget-ms X     frame budget in milliseconds (default %.3f)\n"
	        "  --alloc-share S   share of the budget the allocator may take (default %.2f)\n"
	        "  --transition F    show frames F-K..F+K (repeatable; default: every level\n"
	        "                    change in the capture)\n"
	        "  --window K        frames on each side of a transition (default %d)\n"
	        "  --threads         each frame's split by thread (text table, JSON rows)\n"
	        "  --compare A B     capture A against B (the same game before and after a\n"
	        "                    change): frame time, allocations, bytes and allocator\n"
	        "                    time per frame (p50..max), peak and final live bytes\n"
	        "  --check-growth PCT  with --compare: exit 1 when a memory figure\n"
	        "                    (allocations, bytes, live bytes) grew by more than\n"
	        "                    PCT percent (times are shown, never checked)\n"
	        "  --check FIGURES   with --check-growth: only these figures (their JSON\n"
	        "                    names, comma separated: peak_live_bytes,end_live_bytes\n"
	        "                    for a game whose threads allocate in any frame)\n"
	        "  --help            this text\n"
	        "\n"
	        "Exit status: 0 ok, 1 capture unreadable or damaged (the report covers\n"
	        "what could be read) or a figure grew past --check-growth,\n"
	        "2 bad usage.\n",
	        GM_FRAMES_CMD_TOP_DEFAULT, GM_FRAMES_CMD_BUDGET_MS, GM_FRAMES_CMD_SHARE,
	        GM_FRAMES_CMD_WINDOW);
}

/* A finite decimal number with nothing after it. Returns 0 or -EINVAL. */
static int gm_frames_cmd_double(const char *s, double *out)
{
	char *end;
	double v;

	/* decimal only: strtod also reads " 5", "0x10" (hex) and "inf" */
	if (!s || ((*s < '0' || *s > '9') && *s != '.') || s[strspn(s, "0123456789.eE+-")])
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (*end != '\0' || errno != 0 || !isfinite(v))
		return -EINVAL;
	*out = v;
	return 0;
}

/* A percent >= 0 in decimal digits: "5", "2.5" or "5%". Returns 0 or
 * -EINVAL. */
static int gm_frames_cmd_percent(const char *s, double *out)
{
	char buf[64];
	size_t len = strlen(s);

	if (len > 0 && s[len - 1] == '%')
		len--;
	if (len == 0 || len >= sizeof(buf) || strspn(s, "0123456789.") != len)
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (gm_frames_cmd_double(buf, out) < 0 || *out < 0 || *out > 1e9)
		return -EINVAL;
	return 0;
}

/* First row whose frame number is >= frame (rows rise by frame number). */
static size_t gm_frames_cmd_lower(const gm_frames_t *f, uint64_t frame)
{
	size_t lo = 0, hi = f->nrows;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (f->rows[mid].frame < frame)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int gm_frames_cmd_in_range(const gm_frames_cmd_t *c, const gm_frames_row_t *row)
{
	return row->frame >= c->from && row->frame <= c->to;
}

static void gm_frames_cmd_window(const gm_frames_cmd_t *c, uint64_t frame, int from, int to,
                                 gm_frames_cmd_window_t *w)
{
	const gm_frames_t *f = c->f;
	uint64_t lo = frame > c->window ? frame - c->window : 0;
	size_t i;

	memset(w, 0, sizeof(*w));
	w->frame = frame;
	w->from = from;
	w->to = to;
	w->first = gm_frames_cmd_lower(f, lo);
	for (i = w->first; i < f->nrows && f->rows[i].frame <= frame + c->window; i++) {
		const gm_frames_row_t *r = &f->rows[i];

		if (r->frame < frame) {
			w->nbefore++;
			w->before_allocs += (double)r->allocations;
			w->before_live += (double)r->live_bytes;
		} else if (r->frame > frame) {
			w->nafter++;
			w->after_allocs += (double)r->allocations;
			w->after_live += (double)r->live_bytes;
		}
	}
	w->end = i;
	if (w->nbefore) {
		w->before_allocs /= (double)w->nbefore;
		w->before_live /= (double)w->nbefore;
	}
	if (w->nafter) {
		w->after_allocs /= (double)w->nafter;
		w->after_live /= (double)w->nafter;
	}
}

/* Transitions to show: the frames given, else every level change. */
static int gm_frames_cmd_windows(const gm_frames_cmd_t *c, gm_frames_cmd_window_t **out)
{
	const gm_frames_t *f = c->f;
	size_t n = c->ntransitions ? (size_t)c->ntransitions : f->nchanges, i;
	gm_frames_cmd_window_t *w;

	*out = NULL;
	if (n == 0)
		return 0;
	w = calloc(n, sizeof(*w));
	if (!w)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (c->ntransitions)
			gm_frames_cmd_window(c, c->transitions[i], -1, -1, &w[i]);
		else
			gm_frames_cmd_window(c, f->changes[i].frame, f->changes[i].from,
			                     f->changes[i].to, &w[i]);
	}
	*out = w;
	return (int)n;
}

/* Strength of a correlation coefficient in words, NULL when undefined. */
static const char *gm_frames_cmd_strength(double r)
{
	double a = fabs(r);

	if (isnan(r))
		return NULL;
	if (a >= 0.7)
		return "strong";
	if (a >= 0.4)
		return "moderate";
	if (a >= 0.2)
		return "weak";
	return "none";
}

/* "allocation count explains frame time strongly (r = 0.83)" */
static const char *gm_frames_cmd_verdict(char *buf, size_t n, gm_frames_metric_t m, double r)
{
	static const char *const subject[gm_frames_metric_count] = {
	        "frame time", "allocation count", "allocated bytes", "allocator time"};
	static const char *const verb[gm_frames_metric_count] = {"explains", "explains", "explain",
	                                                         "explains"};
	const char *s = gm_frames_cmd_strength(r);
	const char *how;

	if (!s) {
		snprintf(buf, n,
		         "%s cannot be compared with frame time (fewer than 2 frames, "
		         "or one of them never varies)",
		         subject[m]);
		return buf;
	}
	if (strcmp(s, "none") == 0) {
		snprintf(buf, n, "%s %s frame time (r = %.2f)", subject[m],
		         m == gm_frames_metric_allocated_bytes ? "do not explain" :
		                                                 "does not explain",
		         r);
		return buf;
	}
	how = strcmp(s, "strong") == 0   ? "strongly" :
	      strcmp(s, "moderate") == 0 ? "moderately" :
	                                   "weakly";
	snprintf(buf, n, "%s %s frame time %s%s (r = %.2f)", subject[m], verb[m], how,
	         r < 0 ? ", inversely" : "", r);
	return buf;
}

/* ---- text ------------------------------------------------------------- */

static const char *gm_frames_cmd_at(char *buf, size_t n, const gm_frames_t *f, uint64_t ns)
{
	char d[GM_TEXT_MAX];

	snprintf(buf, n, "+%s",
	         gm_text_duration(d, sizeof(d), ns >= f->first_ns ? ns - f->first_ns : 0));
	return buf;
}

static void gm_frames_cmd_row_head(void)
{
	printf("  %9s %11s %10s %8s %8s %10s %10s %10s %10s %10s %5s  %s\n", "frame", "end",
	       "frame time", "allocs", "frees", "allocated", "freed", "live", "peak", "alloc time",
	       "ticks", "level");
}

static void gm_frames_cmd_thread_name(const gm_frames_t *f, uint32_t t)
{
	if (t < f->nthread_names && f->thread_names[t]) {
		putchar(' ');
		gm_text_quote(stdout, f->thread_names[t], strlen(f->thread_names[t]));
	}
}

static void gm_frames_cmd_row_text(const gm_frames_cmd_t *c, size_t i)
{
	const gm_frames_t *f = c->f;
	const gm_frames_row_t *r = &f->rows[i];
	char at[GM_TEXT_MAX + 1], ft[GM_TEXT_MAX], ab[GM_TEXT_MAX], fb[GM_TEXT_MAX];
	char lb[GM_TEXT_MAX], pb[GM_TEXT_MAX], an[GM_TEXT_MAX];
	uint32_t k;

	printf("  %9llu %11s %10s %8llu %8llu %10s %10s %10s %10s %10s %5u  %s%s\n",
	       (unsigned long long)r->frame, gm_frames_cmd_at(at, sizeof(at), f, r->end_ns),
	       gm_text_duration(ft, sizeof(ft), gm_frames_row_ns(r)),
	       (unsigned long long)r->allocations, (unsigned long long)r->frees,
	       gm_text_size(ab, sizeof(ab), r->allocated_bytes),
	       gm_text_size(fb, sizeof(fb), r->freed_bytes),
	       gm_text_size(lb, sizeof(lb), r->live_bytes),
	       gm_text_size(pb, sizeof(pb), r->peak_live_bytes),
	       gm_text_duration(an, sizeof(an), r->alloc_ns), r->ticks,
	       gm_frames_level_name(r->level),
	       (r->flags & GM_FRAMES_ROW_LEVEL_CHANGED) ? " (changed)" : "");
	if (!c->threads)
		return;
	for (k = 0; k < r->thread_count; k++) {
		const gm_frames_thread_t *t = &f->threads[r->thread_first + k];

		printf("  %9s %11s thread %u%s", "", "", t->thread, "");
		gm_frames_cmd_thread_name(f, t->thread);
		printf(": %llu allocs, %llu frees, %s allocated, ",
		       (unsigned long long)t->allocations, (unsigned long long)t->frees,
		       gm_text_size(ab, sizeof(ab), t->allocated_bytes));
		/* the writer measures freed bytes in the frames level only */
		if (r->level == gm_level_frames)
			printf("%s freed, ", gm_text_size(fb, sizeof(fb), t->freed_bytes));
		printf("%s in the allocator\n", gm_text_duration(an, sizeof(an), t->alloc_ns));
	}
}

static void gm_frames_cmd_rows_text(const gm_frames_cmd_t *c, const char *title, const size_t *idx,
                                    long n)
{
	long i;

	if (n <= 0)
		return;
	printf("\n%s\n", title);
	gm_frames_cmd_row_head();
	for (i = 0; i < n; i++)
		gm_frames_cmd_row_text(c, idx[i]);
}

static void gm_frames_cmd_header_text(const gm_frames_cmd_t *c, const char *error)
{
	const gm_frames_t *f = c->f;
	const gm_reader_info_t *info = c->info;
	char h[GM_TEXT_MAX], d[GM_TEXT_MAX], b[GM_TEXT_MAX];
	unsigned s, nsrc = 0;
	size_t i;

	printf("capture   %s (format %u.%u, %llu blocks, %s)\n", c->path, info->version_major,
	       info->version_minor, (unsigned long long)info->nblocks,
	       gm_text_size(h, sizeof(h), info->file_bytes));
	printf("frames    %zu main frames", f->nrows);
	for (s = 0; s <= gm_present_count; s++)
		nsrc += f->source_frames[s] != 0;
	for (s = 0; s <= gm_present_count; s++) {
		if (!f->source_frames[s])
			continue;
		if (nsrc > 1)
			printf("%s%llu", s == 0 || !f->source_frames[0] ? ", " : "; ",
			       (unsigned long long)f->source_frames[s]);
		if (s == gm_present_marker)
			printf("%s marked by gmtrace_frame_mark()", nsrc > 1 ? "" : ",");
		else
			printf("%s found by the %s present hook", nsrc > 1 ? "" : ",",
			       gm_frames_source_name(s));
	}
	putchar('\n');
	if (f->ngaps) {
		uint64_t lost = 0, first = 0;
		for (i = 0; i < f->nrows; i++)
			if (f->rows[i].flags & GM_FRAMES_ROW_GAP) {
				lost += f->rows[i].frame - (i ? f->rows[i - 1].frame : 0) - 1;
				if (!first)
					first = f->rows[i].frame;
			}
		/* (lost to damage, or marked out of order: numbers that went back) */
		if (f->ngaps == 1)
			printf("missing   %llu frame%s before frame %llu: that frame is left out of the "
			       "statistics (its time and counts cover them)\n",
			       (unsigned long long)lost, lost == 1 ? "" : "s",
			       (unsigned long long)first);
		else
			printf("missing   %llu frames before %zu frames (the first %llu): those are left "
			       "out of the statistics (their times and counts cover them)\n",
			       (unsigned long long)lost, f->ngaps, (unsigned long long)first);
	}
	printf("level     ");
	if (f->level_frames[gm_level_events] && f->level_frames[gm_level_frames])
		printf("events (%llu frames) and frames (%llu frames)",
		       (unsigned long long)f->level_frames[gm_level_events],
		       (unsigned long long)f->level_frames[gm_level_frames]);
	else if (f->level_frames[gm_level_frames])
		printf("frames (per-frame totals)");
	else if (f->nrows)
		printf("events (every allocation)");
	else
		printf("%s", gm_frames_level_name(f->level));
	for (i = 0; i < f->nchanges; i++)
		printf("%s %s -> %s at frame %llu", i ? "," : ";",
		       gm_frames_level_name(f->changes[i].from),
		       gm_frames_level_name(f->changes[i].to),
		       (unsigned long long)f->changes[i].frame);
	putchar('\n');
	printf("duration  %s", gm_text_duration(d, sizeof(d), f->last_ns - f->first_ns));
	if (f->nrows) {
		uint64_t span = f->rows[f->nrows - 1].end_ns - f->rows[0].start_ns;

		if (span)
			printf(", mean %.1f FPS", (double)f->nrows * 1e9 / (double)span);
	}
	printf(", budget %s\n", gm_text_duration(b, sizeof(b), c->budget_ns));
	if (f->unframed_allocations) {
		char u[32];
		printf("after     %llu allocations (%s) after the last frame mark (in no frame)",
		       (unsigned long long)f->unframed_allocations,
		       gm_text_size(u, sizeof(u), f->unframed_bytes));
		if (f->has_tail)
			printf("; %s live at the end",
			       gm_text_size(u, sizeof(u), f->tail_live_bytes));
		printf("\n");
	}
	if (error)
		printf("damaged   %s\n", error);
}

static void gm_frames_cmd_percentiles_text(const gm_frames_cmd_t *c)
{
	static const char *const label[gm_frames_metric_count] = {
	        "frame time", "allocations", "allocated bytes", "allocator time"};
	int m, k;

	if (gm_frames_counted(c->f) == 0)
		return;
	printf("\npercentiles over %zu frames (nearest rank)\n  %-16s %11s %11s %11s %11s\n",
	       gm_frames_counted(c->f), "", "p50", "p95", "p99", "max");
	for (m = 0; m < gm_frames_metric_count; m++) {
		uint64_t p[4];

		if (gm_frames_percentiles(c->f, (gm_frames_metric_t)m, p) < 0)
			continue;
		printf("  %-16s", label[m]);
		for (k = 0; k < 4; k++) {
			char v[GM_TEXT_MAX];

			if (m == gm_frames_metric_frame_ns || m == gm_frames_metric_alloc_ns)
				gm_text_duration(v, sizeof(v), p[k]);
			else if (m == gm_frames_metric_allocated_bytes)
				gm_text_size(v, sizeof(v), p[k]);
			else
				snprintf(v, sizeof(v), "%llu", (unsigned long long)p[k]);
			printf(" %11s", v);
		}
		putchar('\n');
	}
}

static void gm_frames_cmd_spikes_text(const gm_frames_cmd_t *c)
{
	const gm_frames_t *f = c->f;
	size_t i, shown = f->nspikes < c->top ? f->nspikes : (size_t)c->top;

	if (f->nspikes == 0)
		return;
	printf("\nspikes: %zu frame%s over the game's limits", f->nspikes,
	       f->nspikes == 1 ? "" : "s");
	if (shown < f->nspikes)
		printf(" (first %zu shown; --top, --json for all)", shown);
	putchar('\n');
	for (i = 0; i < shown; i++) {
		const gm_frames_spike_t *s = &f->spikes[i];
		char at[GM_TEXT_MAX + 1], x[GM_TEXT_MAX], y[GM_TEXT_MAX];
		uint32_t k;

		printf("  frame %llu at %s", (unsigned long long)s->frame,
		       gm_frames_cmd_at(at, sizeof(at), f, s->ns));
		if (s->row != SIZE_MAX)
			printf(", frame time %s",
			       gm_text_duration(x, sizeof(x), gm_frames_row_ns(&f->rows[s->row])));
		printf(":");
		if (s->reasons & GM_SPIKE_ALLOCATIONS)
			printf(" %llu allocations > limit %llu%s",
			       (unsigned long long)s->allocations,
			       (unsigned long long)s->limit_allocations,
			       s->reasons & (GM_SPIKE_BYTES | GM_SPIKE_ALLOC_TIME) ? ";" : "");
		if (s->reasons & GM_SPIKE_BYTES)
			printf(" %s allocated > limit %s%s",
			       gm_text_size(x, sizeof(x), s->allocated_bytes),
			       gm_text_size(y, sizeof(y), s->limit_bytes),
			       s->reasons & GM_SPIKE_ALLOC_TIME ? ";" : "");
		if (s->reasons & GM_SPIKE_ALLOC_TIME)
			printf(" %s in the allocator > limit %s",
			       gm_text_duration(x, sizeof(x), s->alloc_ns),
			       gm_text_duration(y, sizeof(y), s->limit_alloc_ns));
		if (!(s->reasons & (GM_SPIKE_ALLOCATIONS | GM_SPIKE_BYTES)))
			printf(" (%llu allocations, %s)", (unsigned long long)s->allocations,
			       gm_text_size(x, sizeof(x), s->allocated_bytes));
		putchar('\n');
		if (s->has_classes && s->class_count) {
			printf("    sizes  ");
			for (k = 0; k < s->class_count; k++) {
				const gm_frames_class_t *cl = &f->classes[s->class_first + k];

				printf(" <= %s: %llu (%s)%s",
				       gm_text_size(x, sizeof(x), 16ull << cl->k),
				       (unsigned long long)cl->count,
				       gm_text_size(y, sizeof(y), cl->bytes),
				       k + 1 < s->class_count ? "," : "");
			}
			putchar('\n');
		}
		for (int kind = 0; kind < 2; kind++) {
			int said = 0;
			for (k = 0; k < s->owner_count; k++) {
				const gm_frames_owner_t *o = &f->owners[s->owner_first + k];
				char idname[32], owner[256];
				if ((int)o->kind != kind)
					continue;
				if (!said++)
					printf("    %s", kind ? "assets " : "tags   ");
				if (!o->name)
					snprintf(idname, sizeof(idname),
					         kind       ? "asset %llu" :
					         o->id == 0 ? "(no tag)" :
					                      "tag %llu",
					         (unsigned long long)o->id);
				printf("%s %s: %llu (%s)", said > 1 ? "," : "",
				       o->name ? gm_text_line(owner, sizeof(owner), o->name) :
				                 idname,
				       (unsigned long long)o->count,
				       gm_text_size(x, sizeof(x), o->bytes));
			}
			if (said)
				putchar('\n');
		}
		if (c->stacks)
			printf("    call sites: gmtrace stacks --from %llu --to %llu %s\n",
			       (unsigned long long)s->frame, (unsigned long long)s->frame, c->path);
		if (s->thread_count) {
			printf("    threads");
			for (k = 0; k < s->thread_count; k++) {
				const gm_frames_thread_t *t =
				        &f->spike_threads[s->thread_first + k];

				printf(" %u", t->thread);
				gm_frames_cmd_thread_name(f, t->thread);
				printf(": %llu allocations, %s%s",
				       (unsigned long long)t->allocations,
				       gm_text_size(x, sizeof(x), t->allocated_bytes),
				       k + 1 < s->thread_count ? ";" : "");
			}
			putchar('\n');
		}
	}
}

static void gm_frames_cmd_correlation_text(const gm_frames_cmd_t *c)
{
	const gm_frames_t *f = c->f;
	uint64_t over, alloc_over;
	char b[GM_TEXT_MAX], l[GM_TEXT_MAX], v[256];
	int m;

	if (gm_frames_counted(f) == 0)
		return;
	printf("\ncorrelation with frame time (Pearson r over %zu frames)\n", gm_frames_counted(f));
	for (m = gm_frames_metric_allocations; m < gm_frames_metric_count; m++)
		printf("  %s\n",
		       gm_frames_cmd_verdict(v, sizeof(v), (gm_frames_metric_t)m,
		                             gm_frames_pearson(f, (gm_frames_metric_t)m)));
	gm_frames_over_budget(f, c->budget_ns, c->share, &over, &alloc_over);
	printf("\nover budget (%s): %llu of %zu frames",
	       gm_text_duration(b, sizeof(b), c->budget_ns), (unsigned long long)over,
	       gm_frames_counted(f));
	if (over)
		printf("; in %llu of them (%.1f%%) the allocator alone took more than %g%% of "
		       "the budget (%s)",
		       (unsigned long long)alloc_over, 100.0 * (double)alloc_over / (double)over,
		       100.0 * c->share,
		       gm_text_duration(l, sizeof(l), (uint64_t)(c->share * (double)c->budget_ns)));
	putchar('\n');
}

static int gm_frames_cmd_ticks_text(const gm_frames_cmd_t *c)
{
	const gm_frames_t *f = c->f;
	gm_frames_tick_bin_t *bins;
	double mean, max;
	size_t n, i;
	int method;

	if (f->total_ticks == 0)
		return 0;
	if (gm_frames_tick_histogram(f, &bins, &n) < 0)
		return -ENOMEM;
	printf("\nfixed timestep: %llu simulation ticks\n  %11s %10s\n",
	       (unsigned long long)f->total_ticks, "ticks/frame", "frames");
	for (i = 0; i < n; i++)
		printf("  %11llu %10llu\n", (unsigned long long)bins[i].ticks,
		       (unsigned long long)bins[i].frames);
	free(bins);
	method = gm_frames_per_tick(f, &mean, &max);
	if (method >= 0)
		printf("  allocations per tick: mean %.2f, max %.2f (%s)\n", mean, max,
		       method ? "allocation records between consecutive ticks" :
		                "allocations of frames with ticks over their ticks");
	return 0;
}

static int gm_frames_cmd_rate_text(const gm_frames_cmd_t *c)
{
	gm_frames_rate_t rt;
	char a[GM_TEXT_MAX], b[GM_TEXT_MAX], d[GM_TEXT_MAX];
	int rc = gm_frames_rate(c->f, &rt);

	if (rc == -ENOENT)
		return 0;
	if (rc < 0)
		return rc;
	printf("\nallocation rate (per second of game time): %.1f allocations/s, %s/s\n",
	       rt.allocations_per_s, gm_text_size(a, sizeof(a), gm_text_whole(rt.bytes_per_s)));
	printf("  per wall-clock second (%llu s): allocations min %llu, median %llu, max %llu;",
	       (unsigned long long)rt.seconds, (unsigned long long)rt.min,
	       (unsigned long long)rt.median, (unsigned long long)rt.max);
	printf(" bytes min %s, median %s, max %s\n", gm_text_size(a, sizeof(a), rt.bytes_min),
	       gm_text_size(b, sizeof(b), rt.bytes_median),
	       gm_text_size(d, sizeof(d), rt.bytes_max));
	return 0;
}

static int gm_frames_cmd_transitions_text(const gm_frames_cmd_t *c)
{
	gm_frames_cmd_window_t *w;
	char lb[GM_TEXT_MAX], la[GM_TEXT_MAX];
	int n = gm_frames_cmd_windows(c, &w), i;
	size_t k;

	if (n < 0)
		return n;
	for (i = 0; i < n; i++) {
		printf("\ntransition at frame %llu", (unsigned long long)w[i].frame);
		if (w[i].from >= 0)
			printf(" (%s -> %s)", gm_frames_level_name(w[i].from),
			       gm_frames_level_name(w[i].to));
		printf(", %llu frames each side\n", (unsigned long long)c->window);
		printf("  before: %llu frames, mean %.1f allocations, live %s\n",
		       (unsigned long long)w[i].nbefore, w[i].before_allocs,
		       gm_text_size(lb, sizeof(lb), (uint64_t)w[i].before_live));
		printf("  after:  %llu frames, mean %.1f allocations, live %s\n",
		       (unsigned long long)w[i].nafter, w[i].after_allocs,
		       gm_text_size(la, sizeof(la), (uint64_t)w[i].after_live));
		if (w[i].first < w[i].end)
			gm_frames_cmd_row_head();
		for (k = w[i].first; k < w[i].end; k++)
			gm_frames_cmd_row_text(c, k);
	}
	free(w);
	return 0;
}

static int gm_frames_cmd_text(const gm_frames_cmd_t *c, const char *error)
{
	const gm_frames_t *f = c->f;
	size_t i;

	gm_frames_cmd_header_text(c, error);
	gm_frames_cmd_percentiles_text(c);
	gm_frames_cmd_rows_text(c, "worst frames by frame time", c->worst, c->nworst);
	gm_frames_cmd_rows_text(c, "frames with most allocations", c->most, c->nmost);
	gm_frames_cmd_spikes_text(c);
	gm_frames_cmd_correlation_text(c);
	if (gm_frames_cmd_ticks_text(c) < 0 || gm_frames_cmd_rate_text(c) < 0)
		return -ENOMEM;
	if (f->nsets) {
		printf("\nsecondary frame sets\n");
		for (i = 0; i < f->nsets; i++) {
			printf("  ");
			gm_text_quote(stdout, f->sets[i].name, strlen(f->sets[i].name));
			printf(" %llu frames\n", (unsigned long long)f->sets[i].frames);
		}
	}
	if (gm_frames_cmd_transitions_text(c) < 0)
		return -ENOMEM;
	if (c->ranged || c->threads) {
		size_t first = gm_frames_cmd_lower(f, c->from);

		printf("\nframes %llu..", (unsigned long long)c->from);
		if (c->to != UINT64_MAX)
			printf("%llu", (unsigned long long)c->to);
		putchar('\n');
		gm_frames_cmd_row_head();
		for (i = first; i < f->nrows && f->rows[i].frame <= c->to; i++)
			gm_frames_cmd_row_text(c, i);
	}
	return 0;
}

/* ---- CSV -------------------------------------------------------------- */

static int gm_frames_cmd_csv(const gm_frames_cmd_t *c)
{
	const gm_frames_t *f = c->f;
	size_t i;

	printf("frame,start_ns,end_ns,frame_ns,allocations,frees,allocated_bytes,freed_bytes,"
	       "live_bytes,peak_live_bytes,alloc_ns,ticks,threads_allocating,source,level,"
	       "level_changed,exact\n");
	for (i = gm_frames_cmd_lower(f, c->from); i < f->nrows && f->rows[i].frame <= c->to; i++) {
		const gm_frames_row_t *r = &f->rows[i];

		printf("%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%u,%u,%s,%s,%d,%d\n",
		       (unsigned long long)r->frame, (unsigned long long)r->start_ns,
		       (unsigned long long)r->end_ns, (unsigned long long)gm_frames_row_ns(r),
		       (unsigned long long)r->allocations, (unsigned long long)r->frees,
		       (unsigned long long)r->allocated_bytes, (unsigned long long)r->freed_bytes,
		       (unsigned long long)r->live_bytes, (unsigned long long)r->peak_live_bytes,
		       (unsigned long long)r->alloc_ns, r->ticks, r->nthreads,
		       gm_frames_source_name(r->source), gm_frames_level_name(r->level),
		       !!(r->flags & GM_FRAMES_ROW_LEVEL_CHANGED),
		       !!(r->flags & GM_FRAMES_ROW_EXACT));
	}
	return 0;
}

/* ---- JSON ------------------------------------------------------------- */

static void gm_frames_cmd_thread_json(gm_json_t *j, const gm_frames_t *f,
                                      const gm_frames_thread_t *t)
{
	gm_json_object_begin(j);
	gm_json_key_u64(j, "thread", t->thread);
	gm_json_key_string(j, "name",
	                   t->thread < f->nthread_names ? f->thread_names[t->thread] : NULL);
	gm_json_key_u64(j, "allocations", t->allocations);
	gm_json_key_u64(j, "frees", t->frees);
	gm_json_key_u64(j, "allocated_bytes", t->allocated_bytes);
	gm_json_key_u64(j, "freed_bytes", t->freed_bytes);
	gm_json_key_u64(j, "alloc_ns", t->alloc_ns);
	gm_json_object_end(j);
}

static void gm_frames_cmd_row_json(gm_json_t *j, const gm_frames_cmd_t *c, size_t i)
{
	const gm_frames_t *f = c->f;
	const gm_frames_row_t *r = &f->rows[i];
	uint32_t k;

	gm_json_object_begin(j);
	gm_json_key_u64(j, "frame", r->frame);
	gm_json_key_u64(j, "start_ns", r->start_ns);
	gm_json_key_u64(j, "end_ns", r->end_ns);
	gm_json_key_u64(j, "frame_ns", gm_frames_row_ns(r));
	gm_json_key_u64(j, "allocations", r->allocations);
	gm_json_key_u64(j, "frees", r->frees);
	gm_json_key_u64(j, "allocated_bytes", r->allocated_bytes);
	gm_json_key_u64(j, "freed_bytes", r->freed_bytes);
	gm_json_key_u64(j, "live_bytes", r->live_bytes);
	gm_json_key_u64(j, "peak_live_bytes", r->peak_live_bytes);
	gm_json_key_u64(j, "alloc_ns", r->alloc_ns);
	gm_json_key_u64(j, "ticks", r->ticks);
	gm_json_key_u64(j, "threads_allocating", r->nthreads);
	gm_json_key_string(j, "source", gm_frames_source_name(r->source));
	gm_json_key_string(j, "level", gm_frames_level_name(r->level));
	gm_json_key_bool(j, "level_changed", !!(r->flags & GM_FRAMES_ROW_LEVEL_CHANGED));
	gm_json_key_bool(j, "exact", !!(r->flags & GM_FRAMES_ROW_EXACT));
	gm_json_key_bool(j, "after_missing_frames", !!(r->flags & GM_FRAMES_ROW_GAP));
	if (c->threads) {
		gm_json_key(j, "threads");
		gm_json_array_begin(j);
		for (k = 0; k < r->thread_count; k++)
			gm_frames_cmd_thread_json(j, f, &f->threads[r->thread_first + k]);
		gm_json_array_end(j);
	}
	gm_json_object_end(j);
}

static void gm_frames_cmd_rows_json(gm_json_t *j, const gm_frames_cmd_t *c, const char *key,
                                    const size_t *idx, long n)
{
	long i;

	gm_json_key(j, key);
	gm_json_array_begin(j);
	for (i = 0; i < n; i++)
		gm_frames_cmd_row_json(j, c, idx[i]);
	gm_json_array_end(j);
}

static void gm_frames_cmd_spikes_json(gm_json_t *j, const gm_frames_cmd_t *c)
{
	const gm_frames_t *f = c->f;
	size_t i;
	uint32_t k;

	gm_json_key(j, "spikes");
	gm_json_array_begin(j);
	for (i = 0; i < f->nspikes; i++) {
		const gm_frames_spike_t *s = &f->spikes[i];

		gm_json_object_begin(j);
		gm_json_key_u64(j, "frame", s->frame);
		gm_json_key_u64(j, "ns", s->ns);
		if (s->row != SIZE_MAX)
			gm_json_key_u64(j, "frame_ns", gm_frames_row_ns(&f->rows[s->row]));
		else
			gm_json_key_null(j, "frame_ns");
		gm_json_key(j, "reasons");
		gm_json_array_begin(j);
		if (s->reasons & GM_SPIKE_ALLOCATIONS)
			gm_json_string(j, "allocations");
		if (s->reasons & GM_SPIKE_BYTES)
			gm_json_string(j, "bytes");
		if (s->reasons & GM_SPIKE_ALLOC_TIME)
			gm_json_string(j, "alloc_time");
		gm_json_array_end(j);
		gm_json_key_u64(j, "allocations", s->allocations);
		gm_json_key_u64(j, "limit_allocations", s->limit_allocations);
		gm_json_key_u64(j, "allocated_bytes", s->allocated_bytes);
		gm_json_key_u64(j, "limit_bytes", s->limit_bytes);
		gm_json_key_u64(j, "alloc_ns", s->alloc_ns);
		gm_json_key_u64(j, "limit_alloc_ns", s->limit_alloc_ns);
		gm_json_key(j, "size_classes");
		if (s->has_classes) {
			gm_json_array_begin(j);
			for (k = 0; k < s->class_count; k++) {
				const gm_frames_class_t *cl = &f->classes[s->class_first + k];

				gm_json_object_begin(j);
				gm_json_key_u64(j, "max_bytes", 16ull << cl->k);
				gm_json_key_u64(j, "count", cl->count);
				gm_json_key_u64(j, "bytes", cl->bytes);
				gm_json_object_end(j);
			}
			gm_json_array_end(j);
		} else {
			gm_json_null(j);
		}
		/* who allocated: tags, then assets, most bytes first (top 8 each) */
		for (int kind = 0; kind < 2; kind++) {
			gm_json_key(j, kind ? "assets" : "tags");
			gm_json_array_begin(j);
			for (k = 0; k < s->owner_count; k++) {
				const gm_frames_owner_t *o = &f->owners[s->owner_first + k];
				if ((int)o->kind != kind)
					continue;
				gm_json_object_begin(j);
				gm_json_key_u64(j, "id", o->id);
				gm_json_key(j, "name");
				if (o->name)
					gm_json_string(j, o->name);
				else
					gm_json_null(j);
				gm_json_key_u64(j, "allocations", o->count);
				gm_json_key_u64(j, "bytes", o->bytes);
				gm_json_object_end(j);
			}
			gm_json_array_end(j);
		}
		gm_json_key(j, "threads");
		if (s->detail) {
			gm_json_array_begin(j);
			for (k = 0; k < s->thread_count; k++)
				gm_frames_cmd_thread_json(j, f,
				                          &f->spike_threads[s->thread_first + k]);
			gm_json_array_end(j);
		} else {
			gm_json_null(j);
		}
		gm_json_object_end(j);
	}
	gm_json_array_end(j);
}

static int gm_frames_cmd_tail_json(gm_json_t *j, const gm_frames_cmd_t *c)
{
	const gm_frames_t *f = c->f;
	gm_frames_cmd_window_t *w;
	gm_frames_tick_bin_t *bins;
	gm_frames_rate_t rt;
	double mean, max;
	size_t n, i, k;
	int nw, method, rc;

	gm_json_key(j, "ticks");
	if (f->total_ticks == 0) {
		gm_json_null(j);
	} else {
		if (gm_frames_tick_histogram(f, &bins, &n) < 0)
			return -ENOMEM;
		gm_json_object_begin(j);
		gm_json_key_u64(j, "total", f->total_ticks);
		gm_json_key(j, "per_frame");
		gm_json_array_begin(j);
		for (i = 0; i < n; i++) {
			gm_json_object_begin(j);
			gm_json_key_u64(j, "ticks", bins[i].ticks);
			gm_json_key_u64(j, "frames", bins[i].frames);
			gm_json_object_end(j);
		}
		gm_json_array_end(j);
		free(bins);
		method = gm_frames_per_tick(f, &mean, &max);
		if (method >= 0) {
			gm_json_key_double(j, "allocations_per_tick_mean", mean);
			gm_json_key_double(j, "allocations_per_tick_max", max);
			gm_json_key_string(j, "allocations_per_tick_method",
			                   method ? "events" : "frames");
		} else {
			gm_json_key_null(j, "allocations_per_tick_mean");
			gm_json_key_null(j, "allocations_per_tick_max");
			gm_json_key_null(j, "allocations_per_tick_method");
		}
		gm_json_object_end(j);
	}

	gm_json_key(j, "rate");
	rc = gm_frames_rate(f, &rt);
	if (rc == -ENOMEM)
		return rc;
	if (rc < 0) {
		gm_json_null(j);
	} else {
		gm_json_object_begin(j);
		gm_json_key_double(j, "allocations_per_s", rt.allocations_per_s);
		gm_json_key_double(j, "bytes_per_s", rt.bytes_per_s);
		gm_json_key_u64(j, "seconds", rt.seconds);
		gm_json_key_u64(j, "per_second_min", rt.min);
		gm_json_key_u64(j, "per_second_median", rt.median);
		gm_json_key_u64(j, "per_second_max", rt.max);
		gm_json_key_u64(j, "per_second_bytes_min", rt.bytes_min);
		gm_json_key_u64(j, "per_second_bytes_median", rt.bytes_median);
		gm_json_key_u64(j, "per_second_bytes_max", rt.bytes_max);
		gm_json_object_end(j);
	}

	gm_json_key(j, "sets");
	gm_json_array_begin(j);
	for (i = 0; i < f->nsets; i++) {
		gm_json_object_begin(j);
		gm_json_key_string(j, "name", f->sets[i].name);
		gm_json_key_u64(j, "frames", f->sets[i].frames);
		gm_json_object_end(j);
	}
	gm_json_array_end(j);

	gm_json_key(j, "level_changes");
	gm_json_array_begin(j);
	for (i = 0; i < f->nchanges; i++) {
		gm_json_object_begin(j);
		gm_json_key_u64(j, "frame", f->changes[i].frame);
		gm_json_key_u64(j, "ns", f->changes[i].ns);
		gm_json_key_string(j, "from", gm_frames_level_name(f->changes[i].from));
		gm_json_key_string(j, "to", gm_frames_level_name(f->changes[i].to));
		gm_json_object_end(j);
	}
	gm_json_array_end(j);

	nw = gm_frames_cmd_windows(c, &w);
	if (nw < 0)
		return nw;
	gm_json_key(j, "transitions");
	gm_json_array_begin(j);
	for (i = 0; i < (size_t)nw; i++) {
		gm_json_object_begin(j);
		gm_json_key_u64(j, "frame", w[i].frame);
		gm_json_key_string(j, "from",
		                   w[i].from >= 0 ? gm_frames_level_name(w[i].from) : NULL);
		gm_json_key_string(j, "to", w[i].to >= 0 ? gm_frames_level_name(w[i].to) : NULL);
		gm_json_key_u64(j, "window", c->window);
		gm_json_key(j, "before");
		gm_json_object_begin(j);
		gm_json_key_u64(j, "frames", w[i].nbefore);
		gm_json_key_double(j, "allocations_mean", w[i].before_allocs);
		gm_json_key_double(j, "live_bytes_mean", w[i].before_live);
		gm_json_object_end(j);
		gm_json_key(j, "after");
		gm_json_object_begin(j);
		gm_json_key_u64(j, "frames", w[i].nafter);
		gm_json_key_double(j, "allocations_mean", w[i].after_allocs);
		gm_json_key_double(j, "live_bytes_mean", w[i].after_live);
		gm_json_object_end(j);
		gm_json_key(j, "rows");
		gm_json_array_begin(j);
		for (k = w[i].first; k < w[i].end; k++)
			gm_frames_cmd_row_json(j, c, k);
		gm_json_array_end(j);
		gm_json_object_end(j);
	}
	gm_json_array_end(j);
	free(w);
	return 0;
}

static int gm_frames_cmd_json(const gm_frames_cmd_t *c, const char *error)
{
	const gm_frames_t *f = c->f;
	const gm_reader_info_t *info = c->info;
	uint64_t over, alloc_over;
	unsigned s, best = 0;
	char version[16], v[256];
	gm_json_t j;
	size_t i;
	int m, k;

	gm_json_init(&j, stdout, 1);
	gm_json_object_begin(&j);
	snprintf(version, sizeof(version), "%u.%u", info->version_major, info->version_minor);
	gm_json_key_string(&j, "format_version", version);
	gm_json_key_string(&j, "capture", c->path);
	gm_json_key_string(&j, "error", error);
	gm_json_key_u64(&j, "frames", f->nrows);
	gm_json_key_u64(&j, "frames_after_missing", f->ngaps);

	gm_json_key(&j, "level");
	if (f->level_frames[gm_level_events] && f->level_frames[gm_level_frames])
		gm_json_string(&j, "mixed");
	else if (f->level_frames[gm_level_frames])
		gm_json_string(&j, "frames");
	else if (f->level_frames[gm_level_events])
		gm_json_string(&j, "events");
	else
		gm_json_null(&j);
	gm_json_key(&j, "levels");
	gm_json_object_begin(&j);
	gm_json_key_u64(&j, "events", f->level_frames[gm_level_events]);
	gm_json_key_u64(&j, "frames", f->level_frames[gm_level_frames]);
	gm_json_object_end(&j);

	for (s = 1; s <= gm_present_count; s++)
		if (f->source_frames[s] > f->source_frames[best])
			best = s;
	gm_json_key_string(&j, "frame_source", f->nrows ? gm_frames_source_name(best) : NULL);
	gm_json_key(&j, "frame_sources");
	gm_json_object_begin(&j);
	for (s = 0; s <= gm_present_count; s++)
		if (f->source_frames[s])
			gm_json_key_u64(&j, gm_frames_source_name(s), f->source_frames[s]);
	gm_json_object_end(&j);

	gm_json_key_u64(&j, "start_ns", f->first_ns);
	gm_json_key_u64(&j, "duration_ns", f->last_ns - f->first_ns);
	if (f->nrows && f->rows[f->nrows - 1].end_ns > f->rows[0].start_ns)
		gm_json_key_double(
		        &j, "mean_fps",
		        (double)f->nrows * 1e9 /
		                (double)(f->rows[f->nrows - 1].end_ns - f->rows[0].start_ns));
	else
		gm_json_key_null(&j, "mean_fps");
	gm_json_key_u64(&j, "budget_ns", c->budget_ns);
	gm_json_key_u64(&j, "allocations_after_last_frame", f->unframed_allocations);
	gm_json_key_u64(&j, "allocated_bytes_after_last_frame", f->unframed_bytes);
	if (f->has_tail)
		gm_json_key_u64(&j, "live_bytes_at_end", f->tail_live_bytes);
	else
		gm_json_key_null(&j, "live_bytes_at_end");

	gm_json_key(&j, "percentiles");
	gm_json_object_begin(&j);
	for (m = 0; m < gm_frames_metric_count; m++) {
		uint64_t p[4];
		static const char *const pk[4] = {"p50", "p95", "p99", "max"};
		int rc = gm_frames_percentiles(f, (gm_frames_metric_t)m, p);

		if (rc == -ENOMEM)
			return rc;
		gm_json_key(&j, gm_frames_cmd_metric_names[m]);
		gm_json_object_begin(&j);
		for (k = 0; k < 4; k++) {
			if (rc == 0)
				gm_json_key_u64(&j, pk[k], p[k]);
			else
				gm_json_key_null(&j, pk[k]);
		}
		gm_json_object_end(&j);
	}
	gm_json_object_end(&j);

	gm_frames_cmd_rows_json(&j, c, "worst", c->worst, c->nworst);
	gm_frames_cmd_rows_json(&j, c, "most_allocations", c->most, c->nmost);
	gm_frames_cmd_spikes_json(&j, c);

	gm_json_key(&j, "correlation");
	gm_json_object_begin(&j);
	for (m = gm_frames_metric_allocations; m < gm_frames_metric_count; m++) {
		double r = gm_frames_pearson(f, (gm_frames_metric_t)m);

		gm_json_key(&j, gm_frames_cmd_metric_names[m]);
		gm_json_object_begin(&j);
		gm_json_key_double(&j, "r", r);
		gm_json_key_string(&j, "strength", gm_frames_cmd_strength(r));
		gm_json_key_string(&j, "verdict",
		                   gm_frames_cmd_verdict(v, sizeof(v), (gm_frames_metric_t)m, r));
		gm_json_object_end(&j);
	}
	gm_json_object_end(&j);

	gm_frames_over_budget(f, c->budget_ns, c->share, &over, &alloc_over);
	gm_json_key(&j, "over_budget");
	gm_json_object_begin(&j);
	gm_json_key_u64(&j, "frames", over);
	gm_json_key_double(&j, "alloc_share", c->share);
	gm_json_key_u64(&j, "frames_allocator_over_share", alloc_over);
	if (over)
		gm_json_key_double(&j, "fraction", (double)alloc_over / (double)over);
	else
		gm_json_key_null(&j, "fraction");
	gm_json_object_end(&j);

	if (gm_frames_cmd_tail_json(&j, c) < 0)
		return -ENOMEM;

	gm_json_key(&j, "range");
	gm_json_object_begin(&j);
	gm_json_key_u64(&j, "from", c->from);
	if (c->to == UINT64_MAX)
		gm_json_key_null(&j, "to");
	else
		gm_json_key_u64(&j, "to", c->to);
	gm_json_object_end(&j);
	gm_json_key(&j, "per_frame");
	gm_json_array_begin(&j);
	for (i = gm_frames_cmd_lower(f, c->from); i < f->nrows && f->rows[i].frame <= c->to; i++)
		if (gm_frames_cmd_in_range(c, &f->rows[i]))
			gm_frames_cmd_row_json(&j, c, i);
	gm_json_array_end(&j);
	gm_json_object_end(&j);
	return gm_json_finish(&j);
}

/* ---- command ---------------------------------------------------------- */

/* Parses the options into c. Returns 0, 1 after --help, or -EINVAL after
 * a message on stderr. */
static int gm_frames_cmd_args(gm_frames_cmd_t *c, int argc, char **argv, int *json, int *csv)
{
	const char *value;
	double ms;
	uint64_t n;
	int i, m;

	for (i = 1; i < argc; i++) {
		static const char *const view[] = {"--csv",         "--threads", "--top",
		                                   "--from",        "--to",      "--budget-ms",
		                                   "--alloc-share", "--window",  "--transition"};
		size_t k;

		for (k = 0; k < sizeof(view) / sizeof(view[0]); k++) {
			size_t len = strlen(view[k]);

			if (strncmp(argv[i], view[k], len) == 0 &&
			    (argv[i][len] == '\0' || argv[i][len] == '='))
				c->view = view[k];
		}
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			gm_frames_cmd_usage(stdout);
			return 1;
		} else if (strcmp(argv[i], "--json") == 0) {
			*json = 1;
		} else if (strcmp(argv[i], "--csv") == 0) {
			*csv = 1;
		} else if (strcmp(argv[i], "--threads") == 0) {
			c->threads = 1;
		} else if (strcmp(argv[i], "--compare") == 0) {
			if (c->cmp_a || i + 2 >= argc || argv[i + 1][0] == '-' ||
			    argv[i + 2][0] == '-') {
				fprintf(stderr,
				        "gmtrace frames: --compare takes two captures, once\n");
				return -EINVAL;
			}
			c->cmp_a = argv[++i];
			c->cmp_b = argv[++i];
		} else if ((m = gm_args_value(argc, argv, &i, "--check-growth", &value)) != 0) {
			if (m < 0 || gm_frames_cmd_percent(value, &c->growth) < 0) {
				fprintf(stderr, "gmtrace frames: --check-growth takes a percent "
				                ">= 0 (e.g. 5 or 2.5%%)\n");
				return -EINVAL;
			}
			c->check = 1;
		} else if ((m = gm_args_value(argc, argv, &i, "--check", &value)) != 0) {
			if (m < 0) {
				fprintf(stderr, "gmtrace frames: --check takes figure names\n");
				return -EINVAL;
			}
			if (gm_frames_compare_checked(value, &c->mask) < 0)
				return -EINVAL;
			c->only = 1;
		} else if ((m = gm_args_value(argc, argv, &i, "--top", &value)) != 0) {
			if (m < 0 || gm_args_u64(value, &c->top) < 0 ||
			    c->top > GM_FRAMES_CMD_TOP_MAX) {
				fprintf(stderr, "gmtrace frames: --top takes a number 0..%d\n",
				        GM_FRAMES_CMD_TOP_MAX);
				return -EINVAL;
			}
		} else if ((m = gm_args_value(argc, argv, &i, "--from", &value)) != 0) {
			if (m < 0 || gm_args_u64(value, &c->from) < 0) {
				fprintf(stderr, "gmtrace frames: --from takes a frame number\n");
				return -EINVAL;
			}
			c->ranged = 1;
		} else if ((m = gm_args_value(argc, argv, &i, "--to", &value)) != 0) {
			if (m < 0 || gm_args_u64(value, &c->to) < 0) {
				fprintf(stderr, "gmtrace frames: --to takes a frame number\n");
				return -EINVAL;
			}
			c->ranged = 1;
		} else if ((m = gm_args_value(argc, argv, &i, "--budget-ms", &value)) != 0) {
			if (m < 0 || gm_frames_cmd_double(value, &ms) < 0 || ms <= 0 || ms > 1e9) {
				fprintf(stderr,
				        "gmtrace frames: --budget-ms takes milliseconds > 0 "
				        "(e.g. 16.667)\n");
				return -EINVAL;
			}
			c->budget_ns = (uint64_t)(ms * 1e6 + 0.5);
		} else if ((m = gm_args_value(argc, argv, &i, "--alloc-share", &value)) != 0) {
			if (m < 0 || gm_frames_cmd_double(value, &c->share) < 0 || c->share < 0 ||
			    c->share > 1) {
				fprintf(stderr,
				        "gmtrace frames: --alloc-share takes a number 0..1\n");
				return -EINVAL;
			}
		} else if ((m = gm_args_value(argc, argv, &i, "--window", &value)) != 0) {
			if (m < 0 || gm_args_u64(value, &c->window) < 0 ||
			    c->window > GM_FRAMES_CMD_WINDOW_MAX) {
				fprintf(stderr, "gmtrace frames: --window takes a number 0..%d\n",
				        GM_FRAMES_CMD_WINDOW_MAX);
				return -EINVAL;
			}
		} else if ((m = gm_args_value(argc, argv, &i, "--transition", &value)) != 0) {
			if (m < 0 || gm_args_u64(value, &n) < 0) {
				fprintf(stderr,
				        "gmtrace frames: --transition takes a frame number\n");
				return -EINVAL;
			}
			if (c->ntransitions == GM_FRAMES_CMD_TRANSITIONS_MAX) {
				fprintf(stderr, "gmtrace frames: at most %d --transition\n",
				        GM_FRAMES_CMD_TRANSITIONS_MAX);
				return -EINVAL;
			}
			c->transitions[c->ntransitions++] = n;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "gmtrace frames: unknown option '%s'\n", argv[i]);
			return -EINVAL;
		} else if (c->path) {
			fprintf(stderr, "gmtrace frames: one capture at a time ('%s' and '%s')\n",
			        c->path, argv[i]);
			return -EINVAL;
		} else {
			c->path = argv[i];
		}
	}
	if (*json && *csv) {
		fprintf(stderr, "gmtrace frames: --json or --csv, not both\n");
		return -EINVAL;
	}
	if (c->cmp_a) {
		if (c->path) {
			fprintf(stderr,
			        "gmtrace frames: --compare A B takes no other capture "
			        "('%s')\n",
			        c->path);
			return -EINVAL;
		}
		if (c->view) {
			fprintf(stderr,
			        "gmtrace frames: --compare A B takes only --json, "
			        "--check-growth and --check, not %s\n",
			        c->view);
			return -EINVAL;
		}
		if (c->only && !c->check) {
			fprintf(stderr, "gmtrace frames: --check goes with --check-growth PCT\n");
			return -EINVAL;
		}
		return 0;
	}
	if (c->check || c->only) {
		fprintf(stderr, "gmtrace frames: %s goes with --compare A B\n",
		        c->check ? "--check-growth" : "--check");
		return -EINVAL;
	}
	if (c->from > c->to) {
		fprintf(stderr, "gmtrace frames: --from %llu is after --to %llu\n",
		        (unsigned long long)c->from, (unsigned long long)c->to);
		return -EINVAL;
	}
	if (!c->path) {
		fprintf(stderr, "gmtrace frames: no capture given\n");
		return -EINVAL;
	}
	return 0;
}

/* gmtrace frames (see cmd.h). Returns GM_CMD_OK, GM_CMD_FAIL when the
 * capture cannot be read or is damaged (the report is still printed), or
 * GM_CMD_USAGE. */
int gm_cmd_frames(int argc, char **argv)
{
	gm_frames_cmd_t c;
	gm_frames_opts_t opts;
	gm_reader_t *r = NULL;
	const char *error;
	int json = 0, csv = 0, rc = GM_CMD_FAIL, out;
	char err[512];
	gm_event_t ev;

	memset(&c, 0, sizeof(c));
	c.top = GM_FRAMES_CMD_TOP_DEFAULT;
	c.budget_ns = (uint64_t)(GM_FRAMES_CMD_BUDGET_MS * 1e6 + 0.5);
	c.share = GM_FRAMES_CMD_SHARE;
	c.window = GM_FRAMES_CMD_WINDOW;
	c.to = UINT64_MAX;
	gm_frames_compare_checked(NULL, &c.mask); /* every memory figure */
	out = gm_frames_cmd_args(&c, argc, argv, &json, &csv);
	if (out > 0)
		return GM_CMD_OK;
	if (out < 0) {
		gm_frames_cmd_usage(stderr);
		return GM_CMD_USAGE;
	}
	if (c.cmp_a)
		return gm_frames_compare(c.cmp_a, c.cmp_b, json, c.check, c.growth, c.mask);

	r = gm_reader_open(c.path, err, sizeof(err));
	if (!r) {
		fprintf(stderr, "gmtrace: %s\n", err);
		return GM_CMD_FAIL;
	}
	c.info = gm_reader_info(r);
	memset(&opts, 0, sizeof(opts));
	opts.keep_threads = c.threads;
	opts.from = c.from;
	opts.to = c.to;
	c.f = gm_frames_new(&opts, c.info->tsc_hz, c.info->nthreads);
	if (!c.f)
		goto nomem;
	while (gm_reader_next(r, &ev)) {
		if (gm_frames_add(c.f, &ev) < 0)
			goto nomem;
		c.stacks += ev.type == gm_rec_stack;
	}
	if (gm_frames_finish(c.f) < 0)
		goto nomem;
	c.worst = malloc((c.top ? c.top : 1) * sizeof(*c.worst));
	c.most = malloc((c.top ? c.top : 1) * sizeof(*c.most));
	if (!c.worst || !c.most)
		goto nomem;
	c.nworst = gm_frames_top(c.f, gm_frames_metric_frame_ns, (size_t)c.top, c.worst);
	c.nmost = gm_frames_top(c.f, gm_frames_metric_allocations, (size_t)c.top, c.most);
	if (c.nworst < 0 || c.nmost < 0)
		goto nomem;

	error = gm_reader_error(r);
	if (json)
		out = gm_frames_cmd_json(&c, error);
	else if (csv)
		out = gm_frames_cmd_csv(&c);
	else
		out = gm_frames_cmd_text(&c, error);
	if (out == -ENOMEM)
		goto nomem;
	if (out < 0 || fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "gmtrace: frames: cannot write the report\n");
		goto done;
	}
	if (error) {
		fprintf(stderr, "gmtrace: %s\n", error);
		goto done;
	}
	rc = GM_CMD_OK;
	goto done;
nomem:
	fprintf(stderr, "gmtrace: %s: out of memory\n", c.path);
done:
	free(c.worst);
	free(c.most);
	gm_frames_free(c.f);
	gm_reader_free(r);
	return rc;
}
