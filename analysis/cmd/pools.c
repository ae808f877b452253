/* pools.c - gmtrace pools: do the game's object pools pay off, and where would one help
 *
 * One capture: every pool the game declared (use over time, overflows, hit
 * rate, idle memory, allocations and allocator time avoided, a sizing
 * advice), pool candidates among its allocations (events level), and what
 * the garbage collector cost per frame. --compare A B: the same workload
 * without (A) and with (B) a pool, side by side. The model is
 * model/pools.h; the metrics and JSON keys are written down in
 * analysis/README.md, "gmtrace pools".
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/cmd/args.h"
#include "analysis/cmd/cmd.h"
#include "analysis/log/reader.h"
#include "analysis/model/pools.h"
#include "analysis/model/stacks.h"
#include "analysis/model/symbols.h"
#include "analysis/report/callsite.h"
#include "analysis/report/json.h"
#include "analysis/report/text.h"

#define GM_POOLS_CMD_CANDIDATES_DEFAULT 10
#define GM_POOLS_CMD_CANDIDATES_MAX 100000
#define GM_POOLS_CMD_CHURN_MAX 1000000
#define GM_POOLS_CMD_HEADROOM_MAX 100000000u /* 100000% in thousandths */
#define GM_POOLS_CMD_GC_FRAMES_TEXT 10       /* GC frames listed in the text report */

/* The tables --csv writes, in order (--table picks one). */
static const char *const gm_pools_cmd_tables[] = {"pools",          "pool_frames", "candidates",
                                                  "gc_generations", "gc_frames",   "compare"};
#define GM_POOLS_CMD_NTABLES (sizeof(gm_pools_cmd_tables) / sizeof(gm_pools_cmd_tables[0]))

typedef struct gm_pools_cmd {
	const char *path, *compare[2];
	const char *table; /* --table, or NULL for every table */
	int json, csv;
	uint64_t ncandidates;
	gm_pools_opts_t opts;
	gm_stacks_t *stacks;   /* the capture's call stacks, when it has sites */
	gm_symbols_t *symbols; /* their names */
} gm_pools_cmd_t;

#define GM_POOLS_CMD_SITE_FRAMES 4 /* frames shown of a candidate's call site */

/* A candidate's call site for people: "f (file:line) < caller (file:line)
 * < ...", innermost first. */
static void gm_pools_cmd_site_text(const gm_pools_cmd_t *c, uint32_t id)
{
	const uint64_t *frames;
	uint64_t when;
	uint32_t n, k;
	if (!c->stacks || !gm_stacks_defined(c->stacks, id, &frames, &n, &when)) {
		printf(id ? "stack %u (no definition in the capture)" : "(no stack)", id);
		return;
	}
	for (k = 0; k < n && k < GM_POOLS_CMD_SITE_FRAMES; k++) {
		gm_symbol_t y;
		char buf[32];
		const char *name;
		gm_symbols_frame(c->symbols, frames, k, when, &y);
		name = gm_callsite_name(&y, frames[k], buf, sizeof(buf));
		printf("%s", k ? " < " : "");
		if (name)
			printf("%s", name);
		else if (y.module)
			printf("%s+0x%llx", gm_callsite_base(y.module),
			       (unsigned long long)y.offset);
		else
			printf("0x%llx", (unsigned long long)frames[k]);
		if (y.file)
			printf(" (%s:%d)", gm_callsite_base(y.file), y.line);
	}
}

static void gm_pools_cmd_sites_json(gm_json_t *j, const gm_pools_cmd_t *c,
                                    const gm_pools_group_t *g, int has_sites)
{
	unsigned i;
	gm_json_key(j, "call_sites");
	if (!has_sites) {
		gm_json_null(j);
		return;
	}
	gm_json_array_begin(j);
	for (i = 0; i < g->nsites; i++) {
		const uint64_t *frames = NULL;
		uint64_t when = 0;
		uint32_t n = 0;
		gm_json_object_begin(j);
		gm_json_key_u64(j, "stack", g->site_ids[i]);
		gm_json_key_u64(j, "allocations", g->site_counts[i]);
		if (c->stacks)
			gm_stacks_defined(c->stacks, g->site_ids[i], &frames, &n, &when);
		gm_callsite_frames_json(j, c->symbols, frames,
		                        n < GM_POOLS_CMD_SITE_FRAMES ? n : GM_POOLS_CMD_SITE_FRAMES,
		                        when);
		gm_json_object_end(j);
	}
	gm_json_array_end(j);
}

/* One capture read for --compare. */
typedef struct gm_pools_side {
	const char *path;
	gm_reader_t *r;
	gm_pools_t *p;
	const char *error;
	uint64_t frames, allocations, served;
	double alloc_ns;
} gm_pools_side_t;

static void gm_pools_cmd_usage(FILE *f)
{
	fprintf(f,
	        "usage: gmtrace pools [--json | --csv [--table NAME]] [options] CAPTURE\n"
	        "       gmtrace pools [--json | --csv] --compare A B\n"
	        "\n"
	        "Object pools in a capture: use over time, peak, utilization, overflows,\n"
	        "hit rate, idle memory, allocations and allocator time they avoid, and a\n"
	        "recommended capacity. In an events-level capture, groups of short-lived\n"
	        "allocations (by tag and size) that a pool would serve; and what the\n"
	        "garbage collector cost per frame.\n"
	        "\n"
	        "  --json              one JSON object (keys: analysis/README.md, \"gmtrace pools\")\n"
	        "  --csv               every table as CSV: '# name' line, header, rows; blank\n"
	        "                      line between tables\n"
	        "  --table NAME        with --csv, only that table, without the '# name' line:\n"
	        "                      pools pool_frames candidates gc_generations gc_frames compare\n"
	        "  --percentile P      sizing: P-th percentile of the per-frame high-water mark\n"
	        "                      (default 99; 0 < P <= 100, up to 3 decimals)\n"
	        "  --headroom PCT      sizing and suggested capacities: add PCT%% (default 10)\n"
	        "  --candidates N      list the N best pool candidates (default %d)\n"
	        "  --churn-frames K    short-lived: freed before K frames have ended since its\n"
	        "                      allocation (default %d; 1 = the same frame)\n"
	        "  --compare A B       A without a pool, B with: allocations and allocator time\n"
	        "                      per frame, GC runs and pause time, and the difference\n"
	        "  --help              this text\n"
	        "\n"
	        "Exit status: 0 ok, 1 capture unreadable or damaged (the report covers\n"
	        "what could be read), 2 bad usage.\n",
	        GM_POOLS_CMD_CANDIDATES_DEFAULT, GM_POOLS_CHURN_FRAMES_DEFAULT);
}

/* Parses "99", "99.9", "12.345" into thousandths. Returns 0 or -EINVAL. */
static int gm_pools_cmd_milli(const char *s, uint64_t max, uint32_t *out)
{
	uint64_t v = 0;
	int digits = 0, decimals = -1;

	for (; *s; s++) {
		if (*s == '.' && decimals < 0) {
			decimals = 0;
			continue;
		}
		if (*s < '0' || *s > '9' || decimals == 3)
			return -EINVAL;
		v = v * 10 + (uint64_t)(*s - '0');
		digits++;
		if (decimals >= 0)
			decimals++;
		if (v > max * 1000)
			return -EINVAL;
	}
	if (digits == 0)
		return -EINVAL;
	for (decimals = decimals < 0 ? 0 : decimals; decimals < 3; decimals++)
		v *= 10;
	if (v > max)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static const char *gm_pools_cmd_pool_name(const gm_pools_pool_t *pool, char *buf, size_t n)
{
	if (pool->name)
		return pool->name;
	snprintf(buf, n, "(pool %u)", pool->id);
	return buf;
}

static const char *gm_pools_cmd_tag(const gm_pools_t *p, uint32_t tag, char *buf, size_t n)
{
	const char *name = gm_pools_tag_name(p, tag);

	if (name)
		return name;
	snprintf(buf, n, "#%u", tag);
	return buf;
}

/* "96-byte blocks" or "blocks of 65..128 bytes". */
static const char *gm_pools_cmd_group_size(const gm_pools_group_t *g, char *buf, size_t n)
{
	if (g->exact)
		snprintf(buf, n, "%llu-byte blocks", (unsigned long long)g->size);
	else
		snprintf(buf, n, "blocks of %llu..%llu bytes",
		         (unsigned long long)(g->cls == 0 ? 0 : (g->size >> 1) + 1),
		         (unsigned long long)g->size);
	return buf;
}

/* A count per frame: "2000", "12.5". */
static const char *gm_pools_cmd_rate(double v, char *buf, size_t n)
{
	if (isnan(v))
		snprintf(buf, n, "-");
	else if (v == floor(v) && v < 1e15)
		snprintf(buf, n, "%.0f", v);
	else
		snprintf(buf, n, "%.1f", v);
	return buf;
}

/* "tag gameplay/particles, 96-byte blocks, 2000 per frame". */
static const char *gm_pools_cmd_where(const gm_pools_t *p, const gm_pools_group_t *g, char *buf,
                                      size_t n)
{
	char tag[64], size[64], rate[32];

	snprintf(buf, n, "tag %s, %s, %s per frame", gm_pools_cmd_tag(p, g->tag, tag, sizeof(tag)),
	         gm_pools_cmd_group_size(g, size, sizeof(size)),
	         gm_pools_cmd_rate(g->per_frame, rate, sizeof(rate)));
	return buf;
}

/* A duration in ns that may be fractional or unknown: "31.5 ns", "12.3 us". */
static const char *gm_pools_cmd_ns(double ns, char *buf, size_t n)
{
	if (isnan(ns))
		snprintf(buf, n, "-");
	else if (ns < 1000)
		snprintf(buf, n, "%.1f ns", ns);
	else
		gm_text_duration(buf, n, gm_text_whole(ns));
	return buf;
}

static const char *gm_pools_cmd_pct(double v, char *buf, size_t n)
{
	if (isnan(v))
		snprintf(buf, n, "-");
	else
		snprintf(buf, n, "%.1f%%", v * 100);
	return buf;
}

static double gm_pools_cmd_hit_rate(const gm_pools_pool_t *pool)
{
	return pool->acquires ? (double)pool->served / (double)pool->acquires : NAN;
}

/* ---- text ----------------------------------------------------------------- */

static void gm_pools_cmd_pool_text(const gm_pools_t *p, const gm_pools_pool_t *pool)
{
	char name[32], shown[64], a[GM_TEXT_MAX], b[GM_TEXT_MAX], c[GM_TEXT_MAX], d[GM_TEXT_MAX];
	size_t i;

	printf("\npool %u \"%s\": %llu-byte objects, capacity %llu", pool->id,
	       gm_text_line(shown, sizeof(shown), gm_pools_cmd_pool_name(pool, name, sizeof(name))),
	       (unsigned long long)pool->object_size, (unsigned long long)pool->capacity);
	if (pool->nresizes > 0) {
		printf(" (created with %llu; resized", (unsigned long long)pool->capacity_initial);
		for (i = 0; i < pool->nresizes; i++)
			printf("%s to %llu in frame %llu", i ? "," : "",
			       (unsigned long long)pool->resizes[i].capacity,
			       (unsigned long long)pool->resizes[i].frame);
		printf(")");
	}
	putchar('\n');
	if (pool->nframes == 0) {
		printf("  no whole frame of its life in the capture\n");
		return;
	}
	printf("  frames       %llu..%llu (%llu frames, used in %llu)%s\n",
	       (unsigned long long)pool->first_frame, (unsigned long long)pool->last_frame,
	       (unsigned long long)pool->nframes, (unsigned long long)pool->used_frames,
	       pool->destroyed ? ", destroyed" : "");
	printf("  in use       mean %.2f at frame ends, peak %llu in frame %llu, %llu at the end\n",
	       pool->in_use_mean, (unsigned long long)pool->peak,
	       (unsigned long long)pool->peak_frame, (unsigned long long)pool->in_use_end);
	printf("  utilization  mean %s, peak %s of capacity\n",
	       gm_pools_cmd_pct(pool->utilization_mean, a, sizeof(a)),
	       gm_pools_cmd_pct(pool->utilization_peak, b, sizeof(b)));
	printf("  hit rate     %s (%llu of %llu acquires served by the pool)\n",
	       gm_pools_cmd_pct(gm_pools_cmd_hit_rate(pool), a, sizeof(a)),
	       (unsigned long long)pool->served, (unsigned long long)pool->acquires);
	printf("  overflows    %llu in %llu frames: %.2f per frame, %s of frames",
	       (unsigned long long)pool->overflows, (unsigned long long)pool->overflow_frames,
	       pool->overflows_per_frame,
	       gm_pools_cmd_pct(pool->overflow_frame_fraction, a, sizeof(a)));
	if (!isnan(pool->overflows_per_s))
		printf(", %.1f per second", pool->overflows_per_s);
	putchar('\n');
	printf("  idle memory  mean %s, %s at the peak\n",
	       gm_text_size(a, sizeof(a), gm_text_whole(pool->idle_bytes_mean)),
	       gm_text_size(b, sizeof(b), pool->idle_bytes_at_peak));
	printf("  avoided      %llu allocations", (unsigned long long)pool->served);
	if (pool->cost_known)
		printf(", %s of allocator time (%s per allocation of <= %s)\n",
		       gm_pools_cmd_ns(pool->saved_ns, a, sizeof(a)),
		       gm_pools_cmd_ns(pool->cost_ns, b, sizeof(b)),
		       gm_text_size(c, sizeof(c), 1ull << pool->cost_class));
	else
		printf("; allocator time: no measurement (no timed allocation of <= %s)\n",
		       gm_text_size(c, sizeof(c), 1ull << pool->cost_class));
	printf("  sizing       p%g high-water %llu + %g%% -> capacity %llu: ",
	       p->opts.percentile_milli / 1000.0, (unsigned long long)pool->hw_percentile,
	       p->opts.headroom_milli / 1000.0, (unsigned long long)pool->recommended);
	if (pool->resize_saves_bytes >= 0)
		printf("frees %s\n",
		       gm_text_size(d, sizeof(d), (uint64_t)pool->resize_saves_bytes));
	else
		printf("costs %s more\n",
		       gm_text_size(d, sizeof(d), (uint64_t)-pool->resize_saves_bytes));
	if (pool->overflows > 0)
		printf("               it overflowed, so demand was above its high-water mark: with "
		       "overflows counted, capacity %llu\n",
		       (unsigned long long)pool->demand_recommended);
	if (pool->never_fills)
		printf("  flag         never_fills: the peak is under half the capacity\n");
	if (pool->overflows_every_frame)
		printf("  flag         overflows_every_frame: overflows in %llu of the %llu frames it "
		       "was used\n",
		       (unsigned long long)pool->overflow_frames,
		       (unsigned long long)pool->used_frames);
}

static void gm_pools_cmd_candidates_text(const gm_pools_cmd_t *c, const gm_pools_t *p)
{
	char tag[64], shown[64], size[64], rate[32], a[GM_TEXT_MAX], b[GM_TEXT_MAX], where[256],
	        clean[256];
	size_t i, n = p->nranked < c->ncandidates ? p->nranked : (size_t)c->ncandidates;

	printf("\npool candidates\n");
	if (!p->candidates_done) {
		printf("  none looked for: the capture has no allocation events (frames level);\n"
		       "  record at the events level (GMTRACE_LEVEL=events) to find candidates\n");
		return;
	}
	if (p->alloc_events == 0) {
		printf("  none: the capture has no allocation\n");
		return;
	}
	printf("  short-lived groups of allocations (same tag and size, most blocks freed\n"
	       "  within %u frame%s), ranked by the allocator time a pool would save.\n%s",
	       p->opts.churn_frames, p->opts.churn_frames == 1 ? "" : "s",
	       p->has_sites ? "" :
	                      "  No call stacks in this capture (record with GMTRACE_STACKS=16 "
	                      "for call sites):\n  find them by tag and size.\n");
	if (p->overflow_allocations)
		printf("  Left out: %llu allocation%s the pools' overflows took from the heap\n"
		       "  (where a pool of S-byte objects overflowed n times in a frame, the\n"
		       "  frame's first n allocations of S bytes).\n",
		       (unsigned long long)p->overflow_allocations,
		       p->overflow_allocations == 1 ? "" : "s");
	if (n == 0) {
		printf("  none: no group of allocations is short-lived\n");
		return;
	}
	printf("  %3s  %-24s %-28s %10s %10s %10s %12s %12s\n", "#", "tag", "size", "per frame",
	       "peak live", "capacity", "saved/frame", "saved total");
	for (i = 0; i < n; i++) {
		const gm_pools_group_t *g = &p->groups[p->ranked[i]];

		printf("  %3zu  %-24s %-28s %10s %10llu %10llu %12s %12s\n", i + 1,
		       gm_text_line(shown, sizeof(shown),
		                    gm_pools_cmd_tag(p, g->tag, tag, sizeof(tag))),
		       gm_pools_cmd_group_size(g, size, sizeof(size)),
		       gm_pools_cmd_rate(g->per_frame, rate, sizeof(rate)),
		       (unsigned long long)g->peak_live, (unsigned long long)g->suggested,
		       g->cost_known ? gm_pools_cmd_ns(g->saved_ns_per_frame, a, sizeof(a)) :
		                       "no measurement",
		       g->cost_known ? gm_pools_cmd_ns(g->saved_ns, b, sizeof(b)) : "-");
	}
	printf("\n  best: %s; a pool of %llu objects of %llu bytes\n",
	       gm_text_line(clean, sizeof(clean),
	                    gm_pools_cmd_where(p, &p->groups[p->ranked[0]], where, sizeof(where))),
	       (unsigned long long)p->groups[p->ranked[0]].suggested,
	       (unsigned long long)p->groups[p->ranked[0]].size);
	if (p->has_sites) {
		unsigned k;
		printf("\n  where the candidates are allocated (most allocations first):\n");
		for (i = 0; i < n; i++) {
			const gm_pools_group_t *g = &p->groups[p->ranked[i]];
			snprintf(tag, sizeof(tag), "%zu", i + 1);
			for (k = 0; k < g->nsites; k++) {
				printf("  %3s  %llu at ", k ? "" : tag,
				       (unsigned long long)g->site_counts[k]);
				gm_pools_cmd_site_text(c, g->site_ids[k]);
				putchar('\n');
			}
		}
	}
}

static void gm_pools_cmd_gc_text(const gm_pools_t *p)
{
	char a[GM_TEXT_MAX], b[GM_TEXT_MAX];
	size_t i, shown = 0;
	unsigned g;

	if (p->gc_runs == 0) {
		printf("\ngarbage collector: no run recorded\n");
		return;
	}
	printf("\ngarbage collector: %llu runs, %s in total (longest %s), in %zu frames; %llu of "
	       "them spike frames\n",
	       (unsigned long long)p->gc_runs, gm_text_duration(a, sizeof(a), p->gc_pause_ns),
	       gm_text_duration(b, sizeof(b), p->gc_max_ns), p->ngc_frames,
	       (unsigned long long)p->gc_spike_frames);
	printf("  %-10s %8s %12s %12s %12s %14s\n", "generation", "runs", "pause", "longest",
	       "collected", "uncollectable");
	for (g = 0; g < GM_POOLS_GENERATIONS; g++) {
		const gm_pools_gc_gen_t *gen = &p->gc_gens[g];

		if (gen->runs == 0)
			continue;
		printf("  %-10u %8llu %12s %12s %12llu %14llu\n", g, (unsigned long long)gen->runs,
		       gm_text_duration(a, sizeof(a), gen->pause_ns),
		       gm_text_duration(b, sizeof(b), gen->max_ns),
		       (unsigned long long)gen->collected, (unsigned long long)gen->uncollectable);
	}
	printf("  frames with GC (first %d): frame, runs, pause%s\n", GM_POOLS_CMD_GC_FRAMES_TEXT,
	       p->gc_spike_frames ? ", spike" : "");
	for (i = 0; i < p->ngc_frames && shown < GM_POOLS_CMD_GC_FRAMES_TEXT; i++, shown++) {
		const gm_pools_gc_frame_t *f = &p->gc_frames[i];

		printf("    %8llu %4llu %12s%s\n", (unsigned long long)f->frame,
		       (unsigned long long)f->runs, gm_text_duration(a, sizeof(a), f->pause_ns),
		       f->spike ? "  spike" : "");
	}
}

static void gm_pools_cmd_cost_text(const gm_pools_t *p)
{
	uint64_t calls = 0;
	unsigned c;

	for (c = 0; c < GM_POOLS_CLASSES; c++)
		calls += p->cost_calls[c];
	if (!p->have_cost)
		printf("allocator cost: no alloc_cost record (times saved are not known)\n");
	else
		printf("allocator cost: %llu timed allocations (latest alloc_cost record)\n",
		       (unsigned long long)calls);
}

static void gm_pools_cmd_text(const gm_pools_cmd_t *c, const gm_pools_t *p, const char *error)
{
	char d[GM_TEXT_MAX];
	size_t i;

	printf("capture   %s (%llu frames, %s)\n", c->path, (unsigned long long)p->nmarks,
	       gm_text_duration(d, sizeof(d), p->last_ns - p->first_ns));
	if (error)
		printf("damaged   %s\n", error);
	gm_pools_cmd_cost_text(p);
	if (p->npools == 0)
		printf("\npools: none declared (gmtrace_pool_create)\n");
	for (i = 0; i < p->npools; i++)
		gm_pools_cmd_pool_text(p, &p->pools[i]);
	gm_pools_cmd_candidates_text(c, p);
	gm_pools_cmd_gc_text(p);
}

/* ---- CSV -------------------------------------------------------------------- */

/* as in the JSON: the shortest form that reads back; empty when not finite */
static void gm_pools_cmd_csv_double(double v)
{
	char buf[40];
	if (gm_json_number(buf, sizeof(buf), v))
		fputs(buf, stdout);
}

/* Starts table name: returns 0 when --table leaves it out. */
static int gm_pools_cmd_csv_table(const gm_pools_cmd_t *c, const char *name, int *first,
                                  const char *header)
{
	if (c->table) {
		if (strcmp(c->table, name) != 0)
			return 0;
	} else {
		if (!*first)
			putchar('\n');
		printf("# %s\n", name);
	}
	*first = 0;
	printf("%s\n", header);
	return 1;
}

static void gm_pools_cmd_csv(const gm_pools_cmd_t *c, const gm_pools_t *p)
{
	char name[32], where[256];
	int first = 1;
	size_t i, n;

	if (gm_pools_cmd_csv_table(
	            c, "pools", &first,
	            "id,name,object_size,capacity,capacity_initial,nresizes,first_frame,last_frame,"
	            "frames,used_frames,acquires,served,overflows,releases,returned,hit_rate,peak,"
	            "peak_frame,in_use_mean,in_use_end,utilization_mean,utilization_peak,"
	            "overflow_frames,overflows_per_frame,overflow_frame_fraction,overflows_per_s,"
	            "idle_bytes_mean,idle_bytes_at_peak,allocations_avoided,cost_class_bytes,alloc_cost_ns,"
	            "alloc_time_saved_ns,high_water_percentile,recommended_capacity,"
	            "resize_saves_bytes,demand_percentile,demand_recommended_capacity,never_fills,"
	            "overflows_every_frame,created_frame,destroyed_frame")) {
		for (i = 0; i < p->npools; i++) {
			const gm_pools_pool_t *q = &p->pools[i];

			printf("%u,", q->id);
			gm_text_csv(stdout, gm_pools_cmd_pool_name(q, name, sizeof(name)));
			printf(",%llu,%llu,%llu,%zu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,",
			       (unsigned long long)q->object_size, (unsigned long long)q->capacity,
			       (unsigned long long)q->capacity_initial, q->nresizes,
			       (unsigned long long)q->first_frame,
			       (unsigned long long)q->last_frame, (unsigned long long)q->nframes,
			       (unsigned long long)q->used_frames, (unsigned long long)q->acquires,
			       (unsigned long long)q->served, (unsigned long long)q->overflows,
			       (unsigned long long)q->releases, (unsigned long long)q->returned);
			gm_pools_cmd_csv_double(gm_pools_cmd_hit_rate(q));
			printf(",%llu,%llu,", (unsigned long long)q->peak,
			       (unsigned long long)q->peak_frame);
			gm_pools_cmd_csv_double(q->in_use_mean);
			printf(",%llu,", (unsigned long long)q->in_use_end);
			gm_pools_cmd_csv_double(q->utilization_mean);
			putchar(',');
			gm_pools_cmd_csv_double(q->utilization_peak);
			printf(",%llu,", (unsigned long long)q->overflow_frames);
			gm_pools_cmd_csv_double(q->overflows_per_frame);
			putchar(',');
			gm_pools_cmd_csv_double(q->overflow_frame_fraction);
			putchar(',');
			gm_pools_cmd_csv_double(q->overflows_per_s);
			putchar(',');
			gm_pools_cmd_csv_double(q->idle_bytes_mean);
			printf(",%llu,%llu,%llu,", (unsigned long long)q->idle_bytes_at_peak,
			       (unsigned long long)q->served, 1ull << q->cost_class);
			gm_pools_cmd_csv_double(q->cost_known ? q->cost_ns : NAN);
			putchar(',');
			gm_pools_cmd_csv_double(q->cost_known ? q->saved_ns : NAN);
			printf(",%llu,%llu,%lld,%llu,%llu,%d,%d,",
			       (unsigned long long)q->hw_percentile,
			       (unsigned long long)q->recommended, (long long)q->resize_saves_bytes,
			       (unsigned long long)q->demand_percentile,
			       (unsigned long long)q->demand_recommended, q->never_fills,
			       q->overflows_every_frame);
			if (q->defined)
				printf("%llu", (unsigned long long)q->def_frame);
			putchar(',');
			if (q->destroyed)
				printf("%llu", (unsigned long long)q->destroy_frame);
			putchar('\n');
		}
	}
	if (gm_pools_cmd_csv_table(
	            c, "pool_frames", &first,
	            "pool,frame,capacity,acquires,served,overflows,releases,returned,"
	            "in_use,high_water")) {
		for (i = 0; i < p->npools; i++) {
			gm_pools_walk_t w;
			gm_pools_row_t row;

			gm_pools_walk_begin(&w, &p->pools[i]);
			while (gm_pools_walk_next(&w, &row))
				printf("%u,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu\n",
				       p->pools[i].id, (unsigned long long)row.frame,
				       (unsigned long long)row.capacity,
				       (unsigned long long)row.acquires,
				       (unsigned long long)row.served,
				       (unsigned long long)(row.acquires - row.served),
				       (unsigned long long)row.releases,
				       (unsigned long long)row.returned,
				       (unsigned long long)row.in_use,
				       (unsigned long long)row.high_water);
		}
	}
	if (gm_pools_cmd_csv_table(
	            c, "candidates", &first,
	            "rank,tag,tag_name,exact,object_size,size_class_bytes,allocations,"
	            "allocated_bytes,allocations_per_frame,frees,short_lived,peak_live,peak_frame,"
	            "suggested_capacity,alloc_cost_ns,alloc_time_saved_ns,"
	            "alloc_time_saved_ns_per_frame,where")) {
		n = p->nranked < c->ncandidates ? p->nranked : (size_t)c->ncandidates;
		for (i = 0; i < n; i++) {
			const gm_pools_group_t *g = &p->groups[p->ranked[i]];
			char tag[64];

			printf("%zu,%u,", i + 1, g->tag);
			gm_text_csv(stdout, gm_pools_cmd_tag(p, g->tag, tag, sizeof(tag)));
			printf(",%d,%llu,%llu,%llu,%llu,", g->exact, (unsigned long long)g->size,
			       (unsigned long long)(1ull << g->cls),
			       (unsigned long long)g->allocations,
			       (unsigned long long)g->allocated_bytes);
			gm_pools_cmd_csv_double(g->per_frame);
			printf(",%llu,%llu,%llu,%llu,%llu,", (unsigned long long)g->frees,
			       (unsigned long long)g->short_lived, (unsigned long long)g->peak_live,
			       (unsigned long long)g->peak_frame, (unsigned long long)g->suggested);
			gm_pools_cmd_csv_double(g->cost_known ? g->cost_ns : NAN);
			putchar(',');
			gm_pools_cmd_csv_double(g->cost_known ? g->saved_ns : NAN);
			putchar(',');
			gm_pools_cmd_csv_double(g->cost_known ? g->saved_ns_per_frame : NAN);
			putchar(',');
			gm_text_csv(stdout, gm_pools_cmd_where(p, g, where, sizeof(where)));
			putchar('\n');
		}
	}
	if (gm_pools_cmd_csv_table(c, "gc_generations", &first,
	                           "generation,runs,pause_ns,max_ns,collected,uncollectable")) {
		unsigned g;

		for (g = 0; g < GM_POOLS_GENERATIONS; g++) {
			const gm_pools_gc_gen_t *gen = &p->gc_gens[g];

			if (gen->runs)
				printf("%u,%llu,%llu,%llu,%llu,%llu\n", g,
				       (unsigned long long)gen->runs,
				       (unsigned long long)gen->pause_ns,
				       (unsigned long long)gen->max_ns,
				       (unsigned long long)gen->collected,
				       (unsigned long long)gen->uncollectable);
		}
	}
	if (gm_pools_cmd_csv_table(c, "gc_frames", &first,
	                           "frame,runs,pause_ns,max_ns,collected,spike")) {
		for (i = 0; i < p->ngc_frames; i++) {
			const gm_pools_gc_frame_t *f = &p->gc_frames[i];

			printf("%llu,%llu,%llu,%llu,%llu,%d\n", (unsigned long long)f->frame,
			       (unsigned long long)f->runs, (unsigned long long)f->pause_ns,
			       (unsigned long long)f->max_ns, (unsigned long long)f->collected,
			       f->spike);
		}
	}
}

/* ---- JSON ------------------------------------------------------------------ */

static void gm_pools_cmd_key_double(gm_json_t *j, const char *key, double v)
{
	if (isnan(v))
		gm_json_key_null(j, key);
	else
		gm_json_key_double(j, key, v);
}

static void gm_pools_cmd_pool_json(gm_json_t *j, const gm_pools_t *p, const gm_pools_pool_t *q)
{
	gm_pools_walk_t w;
	gm_pools_row_t row;
	size_t i;

	gm_json_object_begin(j);
	gm_json_key_u64(j, "id", q->id);
	gm_json_key_string(j, "name", q->name);
	gm_json_key_u64(j, "object_size", q->object_size);
	gm_json_key_u64(j, "capacity", q->capacity);
	gm_json_key_u64(j, "capacity_initial", q->capacity_initial);
	gm_json_key(j, "resizes");
	gm_json_array_begin(j);
	for (i = 0; i < q->nresizes; i++) {
		gm_json_object_begin(j);
		gm_json_key_u64(j, "frame", q->resizes[i].frame);
		gm_json_key_u64(j, "ns", q->resizes[i].ns);
		gm_json_key_u64(j, "capacity", q->resizes[i].capacity);
		gm_json_object_end(j);
	}
	gm_json_array_end(j);
	if (q->defined)
		gm_json_key_u64(j, "created_frame", q->def_frame);
	else
		gm_json_key_null(j, "created_frame");
	if (q->destroyed)
		gm_json_key_u64(j, "destroyed_frame", q->destroy_frame);
	else
		gm_json_key_null(j, "destroyed_frame");
	gm_json_key_u64(j, "first_frame", q->first_frame);
	gm_json_key_u64(j, "last_frame", q->last_frame);
	gm_json_key_u64(j, "frames", q->nframes);
	gm_json_key_u64(j, "used_frames", q->used_frames);
	gm_json_key_u64(j, "acquires", q->acquires);
	gm_json_key_u64(j, "served", q->served);
	gm_json_key_u64(j, "overflows", q->overflows);
	gm_json_key_u64(j, "releases", q->releases);
	gm_json_key_u64(j, "returned", q->returned);
	gm_pools_cmd_key_double(j, "hit_rate", gm_pools_cmd_hit_rate(q));
	gm_json_key_u64(j, "peak", q->peak);
	gm_json_key_u64(j, "peak_frame", q->peak_frame);
	gm_pools_cmd_key_double(j, "in_use_mean", q->nframes ? q->in_use_mean : NAN);
	gm_json_key_u64(j, "in_use_end", q->in_use_end);
	gm_pools_cmd_key_double(j, "utilization_mean", q->utilization_mean);
	gm_pools_cmd_key_double(j, "utilization_peak", q->utilization_peak);
	gm_json_key_u64(j, "overflow_frames", q->overflow_frames);
	gm_pools_cmd_key_double(j, "overflows_per_frame",
	                        q->nframes ? q->overflows_per_frame : NAN);
	gm_pools_cmd_key_double(j, "overflow_frame_fraction",
	                        q->nframes ? q->overflow_frame_fraction : NAN);
	gm_pools_cmd_key_double(j, "overflows_per_s", q->overflows_per_s);
	gm_pools_cmd_key_double(j, "idle_bytes_mean", q->nframes ? q->idle_bytes_mean : NAN);
	gm_json_key_u64(j, "idle_bytes_at_peak", q->idle_bytes_at_peak);
	gm_json_key_u64(j, "allocations_avoided", q->served);
	gm_json_key_u64(j, "cost_class_bytes", 1ull << q->cost_class);
	gm_pools_cmd_key_double(j, "alloc_cost_ns", q->cost_known ? q->cost_ns : NAN);
	gm_pools_cmd_key_double(j, "alloc_time_saved_ns", q->cost_known ? q->saved_ns : NAN);

	gm_json_key(j, "sizing");
	gm_json_object_begin(j);
	gm_json_key_double(j, "percentile", p->opts.percentile_milli / 1000.0);
	gm_json_key_double(j, "headroom_pct", p->opts.headroom_milli / 1000.0);
	gm_json_key_u64(j, "high_water_percentile", q->hw_percentile);
	gm_json_key_u64(j, "recommended_capacity", q->recommended);
	gm_json_key_i64(j, "resize_saves_bytes", q->resize_saves_bytes);
	gm_json_key_u64(j, "demand_percentile", q->demand_percentile);
	gm_json_key_u64(j, "demand_recommended_capacity", q->demand_recommended);
	gm_json_key(j, "flags");
	gm_json_array_begin(j);
	if (q->never_fills)
		gm_json_string(j, "never_fills");
	if (q->overflows_every_frame)
		gm_json_string(j, "overflows_every_frame");
	gm_json_array_end(j);
	gm_json_key_bool(j, "never_fills", q->never_fills);
	gm_json_key_bool(j, "overflows_every_frame", q->overflows_every_frame);
	gm_json_object_end(j);

	gm_json_key(j, "per_frame");
	gm_json_array_begin(j);
	gm_pools_walk_begin(&w, q);
	while (gm_pools_walk_next(&w, &row)) {
		gm_json_object_begin(j);
		gm_json_key_u64(j, "frame", row.frame);
		gm_json_key_u64(j, "capacity", row.capacity);
		gm_json_key_u64(j, "acquires", row.acquires);
		gm_json_key_u64(j, "served", row.served);
		gm_json_key_u64(j, "overflows", row.acquires - row.served);
		gm_json_key_u64(j, "releases", row.releases);
		gm_json_key_u64(j, "returned", row.returned);
		gm_json_key_u64(j, "in_use", row.in_use);
		gm_json_key_u64(j, "high_water", row.high_water);
		gm_json_object_end(j);
	}
	gm_json_array_end(j);
	gm_json_object_end(j);
}

static void gm_pools_cmd_candidates_json(gm_json_t *j, const gm_pools_cmd_t *c, const gm_pools_t *p)
{
	char where[256];
	size_t i, n = p->nranked < c->ncandidates ? p->nranked : (size_t)c->ncandidates;

	gm_json_key(j, "candidates");
	gm_json_object_begin(j);
	gm_json_key_bool(j, "available", p->candidates_done);
	gm_json_key_string(j, "note",
	                   !p->candidates_done ?
	                           "needs allocation events: record at the events level" :
	                   p->alloc_events == 0 ? "no allocation in the capture" :
	                   p->has_sites ? "call_sites: where most of each group's allocations "
	                                  "were made (the capture's call stacks)" :
	                                  "no call stacks in this capture (record with "
	                                  "GMTRACE_STACKS=16 for call sites): find the "
	                                  "allocations by tag and size");
	gm_json_key_u64(j, "churn_frames", p->opts.churn_frames);
	gm_json_key_u64(j, "groups", p->ngroups);
	gm_json_key_u64(j, "churn_groups", p->nranked);
	gm_json_key_u64(j, "overflow_allocations", p->overflow_allocations);
	gm_json_key(j, "list");
	gm_json_array_begin(j);
	for (i = 0; i < n; i++) {
		const gm_pools_group_t *g = &p->groups[p->ranked[i]];

		gm_json_object_begin(j);
		gm_json_key_u64(j, "rank", i + 1);
		gm_json_key_u64(j, "tag", g->tag);
		gm_json_key_string(j, "tag_name", gm_pools_tag_name(p, g->tag));
		gm_json_key_bool(j, "exact", g->exact);
		gm_json_key_u64(j, "object_size", g->size);
		gm_json_key_u64(j, "size_class_bytes", 1ull << g->cls);
		gm_json_key_u64(j, "allocations", g->allocations);
		gm_json_key_u64(j, "allocated_bytes", g->allocated_bytes);
		gm_pools_cmd_key_double(j, "allocations_per_frame", g->per_frame);
		gm_json_key_u64(j, "frees", g->frees);
		gm_json_key_u64(j, "short_lived", g->short_lived);
		gm_json_key_u64(j, "peak_live", g->peak_live);
		gm_json_key_u64(j, "peak_frame", g->peak_frame);
		gm_json_key_u64(j, "suggested_capacity", g->suggested);
		gm_pools_cmd_key_double(j, "alloc_cost_ns", g->cost_known ? g->cost_ns : NAN);
		gm_pools_cmd_key_double(j, "alloc_time_saved_ns",
		                        g->cost_known ? g->saved_ns : NAN);
		gm_pools_cmd_key_double(j, "alloc_time_saved_ns_per_frame",
		                        g->cost_known ? g->saved_ns_per_frame : NAN);
		gm_pools_cmd_sites_json(j, c, g, p->has_sites);
		gm_json_key_string(j, "where", gm_pools_cmd_where(p, g, where, sizeof(where)));
		gm_json_object_end(j);
	}
	gm_json_array_end(j);
	gm_json_object_end(j);
}

static void gm_pools_cmd_gc_json(gm_json_t *j, const gm_pools_t *p)
{
	size_t i;
	unsigned g;

	gm_json_key(j, "gc");
	gm_json_object_begin(j);
	gm_json_key_u64(j, "runs", p->gc_runs);
	gm_json_key_u64(j, "pause_ns", p->gc_pause_ns);
	gm_json_key_u64(j, "max_ns", p->gc_max_ns);
	gm_pools_cmd_key_double(j, "pause_ns_per_frame",
	                        p->nmarks ? (double)p->gc_pause_ns / (double)p->nmarks : NAN);
	gm_json_key_u64(j, "frames_with_gc", p->ngc_frames);
	gm_json_key_u64(j, "spike_frames_with_gc", p->gc_spike_frames);
	gm_json_key(j, "generations");
	gm_json_array_begin(j);
	for (g = 0; g < GM_POOLS_GENERATIONS; g++) {
		const gm_pools_gc_gen_t *gen = &p->gc_gens[g];

		if (gen->runs == 0)
			continue;
		gm_json_object_begin(j);
		gm_json_key_u64(j, "generation", g);
		gm_json_key_u64(j, "runs", gen->runs);
		gm_json_key_u64(j, "pause_ns", gen->pause_ns);
		gm_json_key_u64(j, "max_ns", gen->max_ns);
		gm_json_key_u64(j, "collected", gen->collected);
		gm_json_key_u64(j, "uncollectable", gen->uncollectable);
		gm_json_object_end(j);
	}
	gm_json_array_end(j);
	gm_json_key(j, "spike_frames");
	gm_json_array_begin(j);
	for (i = 0; i < p->ngc_frames; i++)
		if (p->gc_frames[i].spike)
			gm_json_u64(j, p->gc_frames[i].frame);
	gm_json_array_end(j);
	gm_json_key(j, "per_frame");
	gm_json_array_begin(j);
	for (i = 0; i < p->ngc_frames; i++) {
		const gm_pools_gc_frame_t *f = &p->gc_frames[i];

		gm_json_object_begin(j);
		gm_json_key_u64(j, "frame", f->frame);
		gm_json_key_u64(j, "runs", f->runs);
		gm_json_key_u64(j, "pause_ns", f->pause_ns);
		gm_json_key_u64(j, "max_ns", f->max_ns);
		gm_json_key_u64(j, "collected", f->collected);
		gm_json_key_bool(j, "spike", f->spike);
		gm_json_object_end(j);
	}
	gm_json_array_end(j);
	gm_json_object_end(j);
}

static int gm_pools_cmd_json(const gm_pools_cmd_t *c, const gm_pools_t *p,
                             const gm_reader_info_t *info, const char *error)
{
	char version[16];
	gm_json_t j;
	size_t i;
	unsigned k;

	gm_json_init(&j, stdout, 1);
	gm_json_object_begin(&j);
	snprintf(version, sizeof(version), "%u.%u", info->version_major, info->version_minor);
	gm_json_key_string(&j, "format_version", version);
	gm_json_key_string(&j, "file", c->path);
	gm_json_key_string(&j, "error", error);
	gm_json_key_u64(&j, "frames", p->nmarks);
	gm_json_key_u64(&j, "duration_ns", p->last_ns - p->first_ns);
	gm_json_key_double(&j, "tsc_hz", p->tsc_hz);
	gm_json_key(&j, "options");
	gm_json_object_begin(&j);
	gm_json_key_double(&j, "percentile", p->opts.percentile_milli / 1000.0);
	gm_json_key_double(&j, "headroom_pct", p->opts.headroom_milli / 1000.0);
	gm_json_key_u64(&j, "candidates", c->ncandidates);
	gm_json_key_u64(&j, "churn_frames", p->opts.churn_frames);
	gm_json_object_end(&j);

	gm_json_key(&j, "alloc_cost");
	gm_json_object_begin(&j);
	gm_json_key_bool(&j, "measured", p->have_cost);
	gm_json_key(&j, "classes");
	gm_json_array_begin(&j);
	for (k = 0; k < GM_POOLS_CLASSES; k++) {
		double ns;

		if (!gm_pools_cost(p, k, &ns))
			continue;
		gm_json_object_begin(&j);
		gm_json_key_u64(&j, "max_bytes", 1ull << k);
		gm_json_key_u64(&j, "calls", p->cost_calls[k]);
		gm_json_key_u64(&j, "ticks", p->cost_ticks[k]);
		gm_json_key_double(&j, "ns_per_call", ns);
		gm_json_object_end(&j);
	}
	gm_json_array_end(&j);
	gm_json_object_end(&j);

	gm_json_key(&j, "pools");
	gm_json_array_begin(&j);
	for (i = 0; i < p->npools; i++)
		gm_pools_cmd_pool_json(&j, p, &p->pools[i]);
	gm_json_array_end(&j);
	gm_pools_cmd_candidates_json(&j, c, p);
	gm_pools_cmd_gc_json(&j, p);
	gm_json_object_end(&j);
	return gm_json_finish(&j);
}

/* ---- compare --------------------------------------------------------------- */

/* Reads one side. Returns 0, -ENOMEM, or -EIO after the message when the
 * capture cannot be opened. */
static int gm_pools_cmd_side(const gm_pools_cmd_t *c, gm_pools_side_t *s)
{
	gm_pools_opts_t opts = c->opts;
	char err[512];
	size_t i;

	opts.candidates = 0;
	s->r = gm_reader_open(s->path, err, sizeof(err));
	if (!s->r) {
		fprintf(stderr, "gmtrace: %s\n", err);
		return -EIO;
	}
	s->p = gm_pools_new(&opts, gm_reader_info(s->r)->tsc_hz);
	if (!s->p || gm_pools_read(s->p, s->r) < 0)
		return -ENOMEM;
	s->error = gm_reader_error(s->r);
	s->frames = s->p->sum_frames;
	s->allocations = s->p->sum_allocations;
	s->alloc_ns = gm_pools_ticks_ns(s->p, s->p->sum_ticks);
	for (i = 0; i < s->p->npools; i++)
		s->served += s->p->pools[i].served;
	return 0;
}

static double gm_pools_cmd_per_frame(double v, uint64_t frames)
{
	return frames ? v / (double)frames : NAN;
}

/* A's figure per frame minus B's; exact when both have the same frames. */
static double gm_pools_cmd_diff(double a, uint64_t fa, double b, uint64_t fb)
{
	if (fa == 0 || fb == 0)
		return NAN;
	if (fa == fb)
		return (a - b) / (double)fa;
	return a / (double)fa - b / (double)fb;
}

static void gm_pools_cmd_side_json(gm_json_t *j, const char *key, const gm_pools_side_t *s)
{
	gm_json_key(j, key);
	gm_json_object_begin(j);
	gm_json_key_string(j, "file", s->path);
	gm_json_key_string(j, "error", s->error);
	gm_json_key_u64(j, "frames", s->frames);
	gm_json_key_u64(j, "allocations", s->allocations);
	gm_pools_cmd_key_double(j, "allocations_per_frame",
	                        gm_pools_cmd_per_frame((double)s->allocations, s->frames));
	gm_json_key_double(j, "alloc_ns", s->alloc_ns);
	gm_pools_cmd_key_double(j, "alloc_ns_per_frame",
	                        gm_pools_cmd_per_frame(s->alloc_ns, s->frames));
	gm_json_key_u64(j, "gc_runs", s->p->gc_runs);
	gm_json_key_u64(j, "gc_pause_ns", s->p->gc_pause_ns);
	gm_pools_cmd_key_double(j, "gc_pause_ns_per_frame",
	                        gm_pools_cmd_per_frame((double)s->p->gc_pause_ns, s->frames));
	gm_json_key_u64(j, "pools", s->p->npools);
	gm_json_key_u64(j, "pool_allocations_avoided", s->served);
	gm_json_object_end(j);
}

/* "B avoids 2000 allocations per frame and saves 41.3 us of allocator time per frame";
 * "B makes 4 more allocations per frame and spends 2.0 us more ..." the other way. */
static const char *gm_pools_cmd_sentence(char *buf, size_t n, double avoided, double saved_ns)
{
	char rate[32], t[GM_TEXT_MAX];

	if (isnan(avoided) || isnan(saved_ns)) {
		snprintf(buf, n, "no frames to compare (frame_sum records) in A or B");
		return buf;
	}
	snprintf(buf, n, "B %s %s %sallocations per frame and %s %s %sof allocator time per frame",
	         avoided >= 0 ? "avoids" : "makes",
	         gm_pools_cmd_rate(fabs(avoided), rate, sizeof(rate)), avoided >= 0 ? "" : "more ",
	         saved_ns >= 0 ? "saves" : "spends", gm_pools_cmd_ns(fabs(saved_ns), t, sizeof(t)),
	         saved_ns >= 0 ? "" : "more ");
	return buf;
}

static int gm_pools_cmd_compare_out(const gm_pools_cmd_t *c, const gm_pools_side_t *s)
{
	double avoided = gm_pools_cmd_diff((double)s[0].allocations, s[0].frames,
	                                   (double)s[1].allocations, s[1].frames);
	double saved = gm_pools_cmd_diff(s[0].alloc_ns, s[0].frames, s[1].alloc_ns, s[1].frames);
	char sentence[256], a[GM_TEXT_MAX], b[GM_TEXT_MAX], ra[32], rb[32];
	int first = 1;
	gm_json_t j;
	int k;

	gm_pools_cmd_sentence(sentence, sizeof(sentence), avoided, saved);
	if (c->json) {
		gm_json_init(&j, stdout, 1);
		gm_json_object_begin(&j);
		gm_pools_cmd_side_json(&j, "a", &s[0]);
		gm_pools_cmd_side_json(&j, "b", &s[1]);
		gm_json_key(&j, "difference");
		gm_json_object_begin(&j);
		if (s[0].frames == s[1].frames)
			gm_json_key_i64(&j, "avoided_allocations",
			                (int64_t)(s[0].allocations - s[1].allocations));
		else
			gm_json_key_null(&j, "avoided_allocations");
		gm_pools_cmd_key_double(&j, "avoided_allocations_per_frame", avoided);
		gm_json_key_double(&j, "saved_alloc_ns", s[0].alloc_ns - s[1].alloc_ns);
		gm_pools_cmd_key_double(&j, "saved_alloc_ns_per_frame", saved);
		gm_json_key_i64(&j, "gc_runs", (int64_t)(s[0].p->gc_runs - s[1].p->gc_runs));
		gm_json_key_i64(&j, "gc_pause_ns",
		                (int64_t)(s[0].p->gc_pause_ns - s[1].p->gc_pause_ns));
		gm_pools_cmd_key_double(&j, "gc_pause_ns_per_frame",
		                        gm_pools_cmd_diff((double)s[0].p->gc_pause_ns, s[0].frames,
		                                          (double)s[1].p->gc_pause_ns,
		                                          s[1].frames));
		gm_json_object_end(&j);
		gm_json_key_string(&j, "summary", sentence);
		gm_json_object_end(&j);
		return gm_json_finish(&j);
	}
	if (c->csv) {
		if (gm_pools_cmd_csv_table(
		            c, "compare", &first,
		            "side,file,frames,allocations,allocations_per_frame,alloc_ns,"
		            "alloc_ns_per_frame,gc_runs,gc_pause_ns,gc_pause_ns_per_frame,pools,"
		            "pool_allocations_avoided")) {
			for (k = 0; k < 2; k++) {
				printf("%c,", 'A' + k);
				gm_text_csv(stdout, s[k].path);
				printf(",%llu,%llu,", (unsigned long long)s[k].frames,
				       (unsigned long long)s[k].allocations);
				gm_pools_cmd_csv_double(gm_pools_cmd_per_frame(
				        (double)s[k].allocations, s[k].frames));
				putchar(',');
				gm_pools_cmd_csv_double(s[k].alloc_ns);
				putchar(',');
				gm_pools_cmd_csv_double(
				        gm_pools_cmd_per_frame(s[k].alloc_ns, s[k].frames));
				printf(",%llu,%llu,", (unsigned long long)s[k].p->gc_runs,
				       (unsigned long long)s[k].p->gc_pause_ns);
				gm_pools_cmd_csv_double(gm_pools_cmd_per_frame(
				        (double)s[k].p->gc_pause_ns, s[k].frames));
				printf(",%zu,%llu\n", s[k].p->npools,
				       (unsigned long long)s[k].served);
			}
			/* A - B, as the JSON's difference (allocations: the
			 * avoided_allocations of runs of as many frames) */
			printf("difference,,,");
			if (s[0].frames == s[1].frames)
				printf("%lld", (long long)(s[0].allocations - s[1].allocations));
			putchar(',');
			gm_pools_cmd_csv_double(avoided);
			putchar(',');
			gm_pools_cmd_csv_double(s[0].alloc_ns - s[1].alloc_ns);
			putchar(',');
			gm_pools_cmd_csv_double(saved);
			printf(",%lld,%lld,", (long long)(s[0].p->gc_runs - s[1].p->gc_runs),
			       (long long)(s[0].p->gc_pause_ns - s[1].p->gc_pause_ns));
			gm_pools_cmd_csv_double(
			        gm_pools_cmd_diff((double)s[0].p->gc_pause_ns, s[0].frames,
			                          (double)s[1].p->gc_pause_ns, s[1].frames));
			printf(",,\n");
		}
		return 0;
	}
	printf("%-28s %16s %16s\n", "", "A (without)", "B (with)");
	for (k = 0; k < 2; k++)
		printf("%s %s\n", k ? "B" : "A", s[k].path);
	printf("%-28s %16llu %16llu\n", "frames", (unsigned long long)s[0].frames,
	       (unsigned long long)s[1].frames);
	printf("%-28s %16s %16s\n", "allocations per frame",
	       gm_pools_cmd_rate(gm_pools_cmd_per_frame((double)s[0].allocations, s[0].frames), ra,
	                         sizeof(ra)),
	       gm_pools_cmd_rate(gm_pools_cmd_per_frame((double)s[1].allocations, s[1].frames), rb,
	                         sizeof(rb)));
	printf("%-28s %16s %16s\n", "allocator time per frame",
	       gm_pools_cmd_ns(gm_pools_cmd_per_frame(s[0].alloc_ns, s[0].frames), a, sizeof(a)),
	       gm_pools_cmd_ns(gm_pools_cmd_per_frame(s[1].alloc_ns, s[1].frames), b, sizeof(b)));
	printf("%-28s %16llu %16llu\n", "GC runs", (unsigned long long)s[0].p->gc_runs,
	       (unsigned long long)s[1].p->gc_runs);
	printf("%-28s %16s %16s\n", "GC pause", gm_text_duration(a, sizeof(a), s[0].p->gc_pause_ns),
	       gm_text_duration(b, sizeof(b), s[1].p->gc_pause_ns));
	printf("%-28s %16llu %16llu\n", "allocations served by pools",
	       (unsigned long long)s[0].served, (unsigned long long)s[1].served);
	printf("\n%s\n", sentence);
	for (k = 0; k < 2; k++)
		if (s[k].error)
			printf("damaged   %s\n", s[k].error);
	return 0;
}

static int gm_pools_cmd_compare(const gm_pools_cmd_t *c)
{
	gm_pools_side_t s[2];
	int rc = GM_CMD_FAIL, k, e;

	memset(s, 0, sizeof(s));
	s[0].path = c->compare[0];
	s[1].path = c->compare[1];
	for (k = 0; k < 2; k++) {
		e = gm_pools_cmd_side(c, &s[k]);
		if (e == -ENOMEM) {
			fprintf(stderr, "gmtrace: %s: out of memory\n", s[k].path);
			goto out;
		}
		if (e < 0)
			goto out;
	}
	if (gm_pools_cmd_compare_out(c, s) < 0 || fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "gmtrace: pools: cannot write the report\n");
		goto out;
	}
	rc = GM_CMD_OK;
	for (k = 0; k < 2; k++) {
		if (s[k].error) {
			fprintf(stderr, "gmtrace: %s\n", s[k].error);
			rc = GM_CMD_FAIL;
		}
	}
out:
	for (k = 0; k < 2; k++) {
		gm_pools_free(s[k].p);
		gm_reader_free(s[k].r);
	}
	return rc;
}

/* ---- command ---------------------------------------------------------------- */

/* Parses the options into c. Returns 0, 1 after --help, or -EINVAL after a
 * message on stderr. */
static int gm_pools_cmd_args(gm_pools_cmd_t *c, int argc, char **argv)
{
	const char *value;
	uint64_t n;
	size_t t;
	int i, m;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			gm_pools_cmd_usage(stdout);
			return 1;
		} else if (strcmp(argv[i], "--json") == 0) {
			c->json = 1;
		} else if (strcmp(argv[i], "--csv") == 0) {
			c->csv = 1;
		} else if ((m = gm_args_value(argc, argv, &i, "--table", &value)) != 0) {
			for (t = 0; m > 0 && t < GM_POOLS_CMD_NTABLES; t++)
				if (strcmp(value, gm_pools_cmd_tables[t]) == 0)
					break;
			if (m < 0 || t == GM_POOLS_CMD_NTABLES) {
				fprintf(stderr,
				        "gmtrace pools: --table takes one of: pools pool_frames "
				        "candidates gc_generations gc_frames compare\n");
				return -EINVAL;
			}
			c->table = value;
		} else if ((m = gm_args_value(argc, argv, &i, "--percentile", &value)) != 0) {
			if (m < 0 ||
			    gm_pools_cmd_milli(value, 100000, &c->opts.percentile_milli) < 0 ||
			    c->opts.percentile_milli == 0) {
				fprintf(stderr,
				        "gmtrace pools: --percentile takes a number in (0, 100]\n");
				return -EINVAL;
			}
		} else if ((m = gm_args_value(argc, argv, &i, "--headroom", &value)) != 0) {
			if (m < 0 || gm_pools_cmd_milli(value, GM_POOLS_CMD_HEADROOM_MAX,
			                                &c->opts.headroom_milli) < 0) {
				fprintf(stderr,
				        "gmtrace pools: --headroom takes a percentage 0..%u\n",
				        GM_POOLS_CMD_HEADROOM_MAX / 1000);
				return -EINVAL;
			}
		} else if ((m = gm_args_value(argc, argv, &i, "--candidates", &value)) != 0) {
			if (m < 0 || gm_args_u64(value, &c->ncandidates) < 0 ||
			    c->ncandidates > GM_POOLS_CMD_CANDIDATES_MAX) {
				fprintf(stderr,
				        "gmtrace pools: --candidates takes a number 0..%d\n",
				        GM_POOLS_CMD_CANDIDATES_MAX);
				return -EINVAL;
			}
		} else if ((m = gm_args_value(argc, argv, &i, "--churn-frames", &value)) != 0) {
			if (m < 0 || gm_args_u64(value, &n) < 0 || n == 0 ||
			    n > GM_POOLS_CMD_CHURN_MAX) {
				fprintf(stderr,
				        "gmtrace pools: --churn-frames takes a number 1..%d\n",
				        GM_POOLS_CMD_CHURN_MAX);
				return -EINVAL;
			}
			c->opts.churn_frames = (uint32_t)n;
		} else if (strcmp(argv[i], "--compare") == 0) {
			if (i + 2 >= argc || c->compare[0]) {
				fprintf(stderr,
				        "gmtrace pools: --compare takes two captures, A and B\n");
				return -EINVAL;
			}
			c->compare[0] = argv[++i];
			c->compare[1] = argv[++i];
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "gmtrace pools: unknown option '%s'\n", argv[i]);
			return -EINVAL;
		} else if (c->path) {
			fprintf(stderr, "gmtrace pools: one capture at a time ('%s' and '%s')\n",
			        c->path, argv[i]);
			return -EINVAL;
		} else {
			c->path = argv[i];
		}
	}
	if (c->json && c->csv) {
		fprintf(stderr, "gmtrace pools: --json or --csv, not both\n");
		return -EINVAL;
	}
	if (c->table && !c->csv) {
		fprintf(stderr, "gmtrace pools: --table goes with --csv\n");
		return -EINVAL;
	}
	if (c->compare[0] && c->path) {
		fprintf(stderr, "gmtrace pools: --compare A B, or one capture, not both\n");
		return -EINVAL;
	}
	if (!c->compare[0] && !c->path) {
		fprintf(stderr, "gmtrace pools: no capture given\n");
		return -EINVAL;
	}
	return 0;
}

/* gmtrace pools (see cmd.h). Returns GM_CMD_OK, GM_CMD_FAIL when a capture
 * cannot be read or is damaged (the report is still printed), or
 * GM_CMD_USAGE. */
int gm_cmd_pools(int argc, char **argv)
{
	gm_pools_cmd_t c;
	gm_reader_t *r = NULL;
	gm_pools_t *p = NULL;
	const char *error;
	int rc = GM_CMD_FAIL, out;
	char err[512];

	memset(&c, 0, sizeof(c));
	c.ncandidates = GM_POOLS_CMD_CANDIDATES_DEFAULT;
	c.opts.percentile_milli = GM_POOLS_PERCENTILE_DEFAULT;
	c.opts.headroom_milli = GM_POOLS_HEADROOM_DEFAULT;
	c.opts.churn_frames = GM_POOLS_CHURN_FRAMES_DEFAULT;
	c.opts.candidates = 1;
	out = gm_pools_cmd_args(&c, argc, argv);
	if (out > 0)
		return GM_CMD_OK;
	if (out < 0) {
		gm_pools_cmd_usage(stderr);
		return GM_CMD_USAGE;
	}
	if (c.compare[0])
		return gm_pools_cmd_compare(&c);

	r = gm_reader_open(c.path, err, sizeof(err));
	if (!r) {
		fprintf(stderr, "gmtrace: %s\n", err);
		return GM_CMD_FAIL;
	}
	p = gm_pools_new(&c.opts, gm_reader_info(r)->tsc_hz);
	if (!p || gm_pools_read(p, r) < 0) {
		fprintf(stderr, "gmtrace: %s: out of memory\n", c.path);
		goto out;
	}
	if (p->has_sites && !c.csv) {
		/* one more pass for the stacks the candidates' call sites name */
		gm_event_t ev;
		c.stacks = gm_stacks_new();
		if (!c.stacks)
			goto nomem;
		gm_reader_rewind(r);
		while (gm_reader_next(r, &ev))
			if (gm_stacks_event(c.stacks, &ev) < 0)
				goto nomem;
		if (gm_stacks_finish(c.stacks) < 0 || !(c.symbols = gm_symbols_new(c.stacks, 1)))
			goto nomem;
		gm_symbols_since(c.symbols, gm_reader_info(r)->created_ns, c.path);
	}
	error = gm_reader_error(r);
	if (c.json)
		out = gm_pools_cmd_json(&c, p, gm_reader_info(r), error);
	else if (c.csv)
		gm_pools_cmd_csv(&c, p), out = 0;
	else
		gm_pools_cmd_text(&c, p, error), out = 0;
	if (out < 0 || fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "gmtrace: pools: cannot write the report\n");
		goto out;
	}
	if (gm_symbols_failed(c.symbols))
		goto nomem;
	if (error) {
		fprintf(stderr, "gmtrace: %s\n", error);
		goto out;
	}
	if (p->bad_frame) {
		fprintf(stderr,
		        "gmtrace: %s: pool %u names frame %llu, past the %llu frames the capture "
		        "has (a damaged frame number): its frames are cut there\n",
		        c.path, (unsigned)p->bad_frames_pool, (unsigned long long)p->bad_frame,
		        (unsigned long long)p->nmarks);
		goto out;
	}
	rc = GM_CMD_OK;
	goto out;
nomem:
	fprintf(stderr, "gmtrace: %s: out of memory\n", c.path);
out:
	gm_symbols_free(c.symbols);
	gm_stacks_free(c.stacks);
	gm_pools_free(p);
	gm_reader_free(r);
	return rc;
}
