/* framescmp.c - gmtrace frames --compare A B: two runs of a game, figure by figure
 *
 * Each capture is read into the frames model (model/frames.h) and reduced
 * to figures: frame time, allocations, allocated bytes and allocator time
 * per frame (p50, p95, p99 and max, nearest rank, as `gmtrace frames`
 * gives them), the highest live bytes inside any frame, the live bytes at
 * the last frame's end, and the counts of frames and spikes. The report
 * gives each figure in A and in B and how it changed.
 *
 * With --check-growth PCT the command exits 1 when a memory figure
 * (allocations, bytes, live bytes) grew by more than PCT percent of A's.
 * Those repeat exactly from run to run of a game that plays the same way
 * (a recorded demo, a scripted benchmark level); times do not, so times
 * are shown and never checked.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/cmd/cmd.h"
#include "analysis/cmd/framescmp.h"
#include "analysis/log/reader.h"
#include "analysis/model/frames.h"
#include "analysis/report/json.h"
#include "analysis/report/text.h"

typedef enum gm_fcmp_unit {
	gm_fcmp_count = 0,
	gm_fcmp_ns,
	gm_fcmp_bytes
} gm_fcmp_unit_t;

/* One figure: its JSON key, its label for people, how to show it, whether
 * --check-growth looks at it. */
typedef struct gm_fcmp_def {
	const char *key, *label;
	gm_fcmp_unit_t unit;
	int checked;
} gm_fcmp_def_t;

/* The first 16 figures are the 4 percentiles of the 4 frame metrics, in
 * gm_frames_metric_t order; then the figures from the whole capture. */
enum {
	GM_FCMP_PCT = 4 * gm_frames_metric_count,
	GM_FCMP_PEAK = GM_FCMP_PCT,
	GM_FCMP_END_LIVE,
	GM_FCMP_FRAMES,
	GM_FCMP_GAPS,
	GM_FCMP_SPIKES,
	GM_FCMP_N
};

static const gm_fcmp_def_t gm_fcmp_defs[GM_FCMP_N] = {
        {"frame_ns_p50", "frame time p50", gm_fcmp_ns, 0},
        {"frame_ns_p95", "frame time p95", gm_fcmp_ns, 0},
        {"frame_ns_p99", "frame time p99", gm_fcmp_ns, 0},
        {"frame_ns_max", "frame time max", gm_fcmp_ns, 0},
        {"allocations_p50", "allocations/frame p50", gm_fcmp_count, 1},
        {"allocations_p95", "allocations/frame p95", gm_fcmp_count, 1},
        {"allocations_p99", "allocations/frame p99", gm_fcmp_count, 1},
        {"allocations_max", "allocations/frame max", gm_fcmp_count, 1},
        {"allocated_bytes_p50", "bytes/frame p50", gm_fcmp_bytes, 1},
        {"allocated_bytes_p95", "bytes/frame p95", gm_fcmp_bytes, 1},
        {"allocated_bytes_p99", "bytes/frame p99", gm_fcmp_bytes, 1},
        {"allocated_bytes_max", "bytes/frame max", gm_fcmp_bytes, 1},
        {"alloc_ns_p50", "allocator time p50", gm_fcmp_ns, 0},
        {"alloc_ns_p95", "allocator time p95", gm_fcmp_ns, 0},
        {"alloc_ns_p99", "allocator time p99", gm_fcmp_ns, 0},
        {"alloc_ns_max", "allocator time max", gm_fcmp_ns, 0},
        {"peak_live_bytes", "peak live bytes", gm_fcmp_bytes, 1},
        {"end_live_bytes", "live bytes at the end", gm_fcmp_bytes, 1},
        {"frames", "frames", gm_fcmp_count, 0},
        {"frames_after_missing", "  after missing frames", gm_fcmp_count, 0},
        {"spikes", "spikes", gm_fcmp_count, 0},
};

/* One capture reduced to its figures. */
typedef struct gm_fcmp_side {
	const char *path;
	gm_reader_t *r;
	gm_frames_t *f;
	const char *error; /* damage, or NULL */
	uint64_t v[GM_FCMP_N];
	const char *level; /* "events", "frames" or "mixed": what its rows count */
} gm_fcmp_side_t;

/* Reads a capture and takes its figures. Returns 0; 1 when it cannot be
 * read or has no frame (said on stderr); -ENOMEM. */
static int gm_fcmp_load(gm_fcmp_side_t *s)
{
	char err[512];
	gm_event_t ev;
	size_t i;
	unsigned m;

	if (!(s->r = gm_reader_open(s->path, err, sizeof(err)))) {
		fprintf(stderr, "gmtrace: %s\n", err);
		return 1;
	}
	if (!(s->f = gm_frames_new(NULL, gm_reader_info(s->r)->tsc_hz,
	                           gm_reader_info(s->r)->nthreads)))
		return -ENOMEM;
	while (gm_reader_next(s->r, &ev))
		if (gm_frames_add(s->f, &ev) < 0)
			return -ENOMEM;
	if (gm_frames_finish(s->f) < 0)
		return -ENOMEM;
	s->error = gm_reader_error(s->r);
	if (s->f->nrows == 0) {
		if (s->error)
			fprintf(stderr, "gmtrace: %s (no frame before it to compare)\n", s->error);
		else
			fprintf(stderr,
			        "gmtrace: %s: no frame to compare (no frame mark in the capture)\n",
			        s->path);
		return 1;
	}
	/* (-ENOENT: every row follows missing frames, none counted: zeros) */
	for (m = 0; m < gm_frames_metric_count; m++)
		if (gm_frames_percentiles(s->f, (gm_frames_metric_t)m, s->v + 4 * m) == -ENOMEM)
			return -ENOMEM;
	for (i = 0; i < s->f->nrows; i++)
		if (s->f->rows[i].peak_live_bytes > s->v[GM_FCMP_PEAK])
			s->v[GM_FCMP_PEAK] = s->f->rows[i].peak_live_bytes;
	s->v[GM_FCMP_END_LIVE] = s->f->rows[s->f->nrows - 1].live_bytes;
	s->v[GM_FCMP_FRAMES] = s->f->nrows;
	s->v[GM_FCMP_GAPS] = s->f->ngaps; /* (left out of the percentiles) */
	s->v[GM_FCMP_SPIKES] = s->f->nspikes;
	for (i = 0, m = 0; i < s->f->nrows; i++)
		m += (s->f->rows[i].flags & GM_FRAMES_ROW_EXACT) != 0;
	s->level = m == s->f->nrows ? "events" : m == 0 ? "frames" : "mixed";
	return 0;
}

static void gm_fcmp_free(gm_fcmp_side_t *s)
{
	gm_frames_free(s->f);
	gm_reader_free(s->r);
}

/* The change from a to b in percent of a; NAN when a is 0. */
static double gm_fcmp_pct(uint64_t a, uint64_t b)
{
	if (a == 0)
		return NAN;
	return ((double)b - (double)a) * 100.0 / (double)a;
}

/* Whether b grew past a by more than limit percent (any growth from 0).
 * Exactly: the limit as typed ("0.7") is no binary fraction, and in
 * doubles 11000 x 0.7 / 100 is 76.99999...: a growth of exactly 77 B failed
 * the gate. So the limit is taken in billionths of a percent (what a typed
 * decimal holds), and the sides compared as integers. */
static int gm_fcmp_grew(uint64_t a, uint64_t b, double limit)
{
	unsigned __int128 lhs, rhs;
	if (b <= a)
		return 0;
	if (a == 0)
		return 1;
	if (limit >= 1e9) /* (past any growth a 64-bit figure can show, near enough) */
		return (double)(b - a) > (double)a * (limit / 100.0);
	lhs = (unsigned __int128)(b - a) * 100u * 1000000000u;
	rhs = (unsigned __int128)a * (uint64_t)llround(limit * 1e9);
	return lhs > rhs;
}

/* A figure's value for people, in its unit. */
static const char *gm_fcmp_value(char *buf, size_t n, gm_fcmp_unit_t unit, uint64_t v)
{
	if (unit == gm_fcmp_ns)
		return gm_text_duration(buf, n, v);
	if (unit == gm_fcmp_bytes)
		return gm_text_size(buf, n, v);
	snprintf(buf, n, "%llu", (unsigned long long)v);
	return buf;
}

/* b - a for people: "+1.2 MiB", "-3", "0". */
static const char *gm_fcmp_change(char *buf, size_t n, gm_fcmp_unit_t unit, uint64_t a, uint64_t b)
{
	char v[GM_TEXT_MAX];

	if (a == b)
		snprintf(buf, n, "0");
	else
		snprintf(buf, n, "%c%s", b > a ? '+' : '-',
		         gm_fcmp_value(v, sizeof(v), unit, b > a ? b - a : a - b));
	return buf;
}

/* Every memory figure: what --check-growth looks at without --check. */
static unsigned gm_fcmp_memory_mask(void)
{
	unsigned mask = 0, i;
	for (i = 0; i < GM_FCMP_N; i++)
		mask |= (unsigned)gm_fcmp_defs[i].checked << i;
	return mask;
}

static void gm_fcmp_text(const gm_fcmp_side_t *a, const gm_fcmp_side_t *b, int check, double limit,
                         unsigned mask, unsigned grew, size_t ngrew)
{
	char va[GM_TEXT_MAX], vb[GM_TEXT_MAX], d[GM_TEXT_MAX + 2];
	size_t i;

	printf("compare   %s -> %s\n\n", a->path, b->path);
	printf("  %-24s %14s %14s %14s\n", "", "A", "B", "change");
	for (i = 0; i < GM_FCMP_N; i++) {
		const gm_fcmp_def_t *def = &gm_fcmp_defs[i];
		double pct = gm_fcmp_pct(a->v[i], b->v[i]);

		printf("  %-24s %14s %14s %14s", def->label,
		       gm_fcmp_value(va, sizeof(va), def->unit, a->v[i]),
		       gm_fcmp_value(vb, sizeof(vb), def->unit, b->v[i]),
		       gm_fcmp_change(d, sizeof(d), def->unit, a->v[i], b->v[i]));
		if (!isnan(pct))
			printf(" %+8.1f%%", pct);
		else if (b->v[i] != a->v[i])
			printf(" %9s", "new");
		printf("%s\n", grew >> i & 1 ? "  grew" : "");
	}
	if (check) {
		if (mask == gm_fcmp_memory_mask()) {
			printf("\ncheck     memory figures growing by more than %g%%: ", limit);
		} else {
			const char *sep = "";
			printf("\ncheck     ");
			for (i = 0; i < GM_FCMP_N; i++)
				if (mask >> i & 1) {
					printf("%s%s", sep, gm_fcmp_defs[i].key);
					sep = ", ";
				}
			printf(" growing by more than %g%%: ", limit);
		}
		if (ngrew == 0)
			printf("none, passed\n");
		else
			printf("%zu, failed\n", ngrew);
	} else
		printf("\n(--check-growth PCT makes a memory figure growing by more than PCT%% "
		       "exit 1)\n");
	if (a->error)
		printf("\ndamaged: %s\n", a->error);
	if (b->error)
		printf("\ndamaged: %s\n", b->error);
}

static int gm_fcmp_json(const gm_fcmp_side_t *a, const gm_fcmp_side_t *b, int check, double limit,
                        unsigned mask, unsigned grew, size_t ngrew)
{
	gm_json_t j;
	size_t i;

	gm_json_init(&j, stdout, 1);
	gm_json_object_begin(&j);
	gm_json_key_string(&j, "a", a->path);
	gm_json_key_string(&j, "b", b->path);
	gm_json_key(&j, "figures");
	gm_json_array_begin(&j);
	for (i = 0; i < GM_FCMP_N; i++) {
		const gm_fcmp_def_t *def = &gm_fcmp_defs[i];
		double pct = gm_fcmp_pct(a->v[i], b->v[i]);

		gm_json_object_begin(&j);
		gm_json_key_string(&j, "name", def->key);
		gm_json_key_u64(&j, "a", a->v[i]);
		gm_json_key_u64(&j, "b", b->v[i]);
		if (b->v[i] >= a->v[i] ? b->v[i] - a->v[i] <= (uint64_t)INT64_MAX :
		                         a->v[i] - b->v[i] <= (uint64_t)INT64_MAX)
			gm_json_key_i64(&j, "change",
			                b->v[i] >= a->v[i] ? (int64_t)(b->v[i] - a->v[i]) :
			                                     -(int64_t)(a->v[i] - b->v[i]));
		else /* beyond 63 bits: a damaged or hostile capture */
			gm_json_key_double(&j, "change", (double)b->v[i] - (double)a->v[i]);
		if (isnan(pct))
			gm_json_key_null(&j, "change_pct");
		else
			gm_json_key_double(&j, "change_pct", pct);
		gm_json_key_bool(&j, "checked", (int)(mask >> i & 1));
		gm_json_key_bool(&j, "grew", (int)(grew >> i & 1));
		gm_json_object_end(&j);
	}
	gm_json_array_end(&j);
	if (check) {
		gm_json_key_double(&j, "check_growth", limit);
		gm_json_key_u64(&j, "grew", ngrew);
		gm_json_key_bool(&j, "passed", ngrew == 0);
	} else {
		gm_json_key_null(&j, "check_growth");
		gm_json_key_u64(&j, "grew", 0);
		gm_json_key_null(&j, "passed");
	}
	gm_json_key_string(&j, "error_a", a->error);
	gm_json_key_string(&j, "error_b", b->error);
	gm_json_object_end(&j);
	return gm_json_finish(&j);
}

int gm_frames_compare_checked(const char *list, unsigned *mask)
{
	const char *p = list;
	*mask = gm_fcmp_memory_mask();
	if (!list)
		return 0;
	*mask = 0;
	for (;;) {
		size_t n = strcspn(p, ","), i;
		for (i = 0; i < GM_FCMP_N; i++)
			if (strlen(gm_fcmp_defs[i].key) == n &&
			    strncmp(gm_fcmp_defs[i].key, p, n) == 0)
				break;
		if (i == GM_FCMP_N || !gm_fcmp_defs[i].checked) {
			fprintf(stderr,
			        "gmtrace frames: --check takes memory figures (allocations_p50..max, "
			        "allocated_bytes_p50..max, peak_live_bytes, end_live_bytes), "
			        "comma separated, not '%.*s'\n",
			        (int)n, p);
			return -1;
		}
		*mask |= 1u << i;
		if (!p[n])
			return 0;
		p += n + 1;
	}
}

int gm_frames_compare(const char *pa, const char *pb, int json, int check, double limit,
                      unsigned mask)
{
	gm_fcmp_side_t a = {.path = pa}, b = {.path = pb};
	const char *oom = pa;
	size_t i, ngrew = 0;
	unsigned grew = 0; /* the figures that grew past the check */
	int rc = GM_CMD_FAIL, ra, rb = 0, out;

	ra = gm_fcmp_load(&a);
	if (ra == 0) {
		oom = pb;
		rb = gm_fcmp_load(&b);
	}
	if (ra < 0 || rb < 0)
		goto nomem;
	if (ra > 0 || rb > 0)
		goto done;
	if (strcmp(a.level, b.level) != 0)
		fprintf(stderr,
		        "gmtrace frames: warning: %s is at the %s level and %s at the %s level: "
		        "bytes are requested sizes at the events level and usable ones (rounded "
		        "up by the allocator) at the frames level\n",
		        pa, a.level, pb, b.level);
	for (i = 0; i < GM_FCMP_N; i++)
		if (check && (mask >> i & 1) && gm_fcmp_grew(a.v[i], b.v[i], limit)) {
			grew |= 1u << i;
			ngrew++;
		}
	if (json)
		out = gm_fcmp_json(&a, &b, check, limit, mask, grew, ngrew);
	else {
		gm_fcmp_text(&a, &b, check, limit, mask, grew, ngrew);
		out = 0;
	}
	if (out < 0 || fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "gmtrace: frames: cannot write the report\n");
		goto done;
	}
	if (a.error)
		fprintf(stderr, "gmtrace: %s\n", a.error);
	if (b.error)
		fprintf(stderr, "gmtrace: %s\n", b.error);
	if (ngrew) {
		/* the gate's verdict in the log too (stdout may be a JSON file) */
		const char *sep = "";
		fprintf(stderr, "gmtrace frames: %zu figure%s grew by more than %g%%:", ngrew,
		        ngrew == 1 ? "" : "s", limit);
		for (i = 0; i < GM_FCMP_N; i++)
			if (grew >> i & 1) {
				fprintf(stderr, "%s %s", sep, gm_fcmp_defs[i].key);
				sep = ",";
			}
		fprintf(stderr, "\n");
	}
	if (!a.error && !b.error && ngrew == 0)
		rc = GM_CMD_OK;
	goto done;
nomem:
	fprintf(stderr, "gmtrace: %s: out of memory\n", oom);
done:
	gm_fcmp_free(&a);
	gm_fcmp_free(&b);
	return rc;
}
