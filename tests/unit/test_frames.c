/* test_frames.c - the frames model (analysis/model/frames.h) on synthetic captures
 *
 * Each test writes the records of one or two writer threads into raw blocks
 * of a capture in a temporary directory, reads it back through the reader
 * and feeds every event to the frames model. A process record with a tick
 * rate of 1 GHz and TSC = monotonic ns at start makes ns equal to the TSC,
 * so times and allocator ticks below are nanoseconds.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/log/reader.h"
#include "analysis/model/frames.h"

/* ---- capture builder ---------------------------------------------------- */

typedef struct recs {
	uint64_t *w;
	size_t n, cap;
	uint64_t prev;   /* TSC of the previous record */
	uint32_t thread; /* writer thread index of the block */
	uint32_t seq;    /* chunk sequence number of the block */
} recs_t;

static char tmpdir[64];
static char paths[8][128];
static int npaths;

static void frames_setup(void)
{
	strcpy(tmpdir, "/tmp/gm_test_frames.XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp(%s): %s", tmpdir, strerror(errno));
	npaths = 0;
}

static void frames_teardown(void)
{
	int i;

	for (i = 0; i < npaths; i++)
		unlink(paths[i]);
	rmdir(tmpdir);
}

TestSuite(frames, .init = frames_setup, .fini = frames_teardown);

static void put(recs_t *r, uint64_t w)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 256;
		r->w = realloc(r->w, r->cap * sizeof(*r->w));
		cr_assert_not_null(r->w);
	}
	r->w[r->n++] = w;
}

/* The first unit of a record at tsc; a time record first when the step
 * from the previous record would not fit the 24-bit tick. */
static void head(recs_t *r, uint64_t tsc, uint64_t w0, uint64_t b)
{
	uint64_t step = tsc > r->prev ? tsc - r->prev : r->prev - tsc;

	if (step >= (1ull << 22)) {
		put(r, gm_rec_w0(0, gm_rec_time, 1));
		put(r, gm_rec_w1(0, tsc));
		put(r, tsc);
		put(r, 0);
	}
	r->prev = tsc;
	put(r, w0);
	put(r, gm_rec_w1(b, tsc));
}

static void r_process(recs_t *r, uint64_t tsc)
{
	head(r, tsc, gm_rec_w0(4242, gm_rec_process, 3), 1);
	put(r, 1);          /* realtime ns */
	put(r, tsc);        /* monotonic ns at start */
	put(r, tsc);        /* TSC at start */
	put(r, 1000000000); /* 1 GHz */
	put(r, 0);          /* no exe, */
	put(r, 0);          /* no argv */
}

static void r_alloc(recs_t *r, uint64_t tsc, uint64_t ptr, uint64_t size)
{
	head(r, tsc, gm_rec_w0(ptr, gm_rec_alloc, gm_kind_malloc), size);
}

static void r_free(recs_t *r, uint64_t tsc, uint64_t ptr)
{
	head(r, tsc, gm_rec_w0(ptr, gm_rec_free, gm_kind_free), 0);
}

static void r_realloc(recs_t *r, uint64_t tsc, uint64_t ptr, uint64_t size, uint64_t old)
{
	head(r, tsc, gm_rec_w0(ptr, gm_rec_realloc, gm_kind_realloc), size);
	put(r, old);
	put(r, 0);
}

static void r_frame(recs_t *r, uint64_t tsc, uint64_t frame, unsigned set, unsigned source)
{
	head(r, tsc, gm_rec_w0(frame, gm_rec_frame, set), source);
}

static void r_frame_thread(recs_t *r, uint64_t tsc, uint64_t frame, uint32_t thread,
                           uint64_t allocs, uint64_t frees, uint64_t abytes, uint64_t fbytes,
                           uint64_t ticks)
{
	head(r, tsc, gm_rec_w0(frame, gm_rec_frame_thread, 3), thread);
	put(r, allocs);
	put(r, frees);
	put(r, abytes);
	put(r, fbytes);
	put(r, ticks);
	put(r, 0);
}

static void r_frame_sum(recs_t *r, uint64_t tsc, uint64_t frame, uint64_t nthreads, uint64_t allocs,
                        uint64_t frees, uint64_t abytes, uint64_t fbytes, uint64_t live,
                        uint64_t peak, uint64_t ticks, uint64_t flags)
{
	head(r, tsc, gm_rec_w0(frame, gm_rec_frame_sum, 4), nthreads);
	put(r, allocs);
	put(r, frees);
	put(r, abytes);
	put(r, fbytes);
	put(r, live);
	put(r, peak);
	put(r, ticks);
	put(r, flags);
}

/* An events-level frame end: frame, one frame_thread of thread 0, frame_sum. */
static void r_end_events(recs_t *r, uint64_t tsc, uint64_t frame, uint64_t allocs, uint64_t abytes,
                         uint64_t ticks)
{
	r_frame(r, tsc, frame, 0, gm_present_marker);
	if (allocs)
		r_frame_thread(r, tsc, frame, 0, allocs, 0, abytes, 0, ticks);
	r_frame_sum(r, tsc, frame, allocs != 0, allocs, 0, abytes, 0, 0, 0, ticks, 0);
}

static void r_spike(recs_t *r, uint64_t tsc, uint64_t frame, unsigned reasons, uint64_t allocs,
                    uint64_t limit)
{
	head(r, tsc, gm_rec_w0(frame, gm_rec_spike, 3), reasons);
	put(r, allocs);
	put(r, limit);
	put(r, 0);
	put(r, 0);
	put(r, 0);
	put(r, 0);
}

static void r_tick(recs_t *r, uint64_t tsc, uint64_t n)
{
	head(r, tsc, gm_rec_w0(n, gm_rec_sim_tick, 0), 0);
}

static void r_level(recs_t *r, uint64_t tsc, unsigned level)
{
	head(r, tsc, gm_rec_w0(level, gm_rec_level, 0), 0);
}

static void r_frame_set(recs_t *r, uint64_t tsc, unsigned id, const char *name)
{
	uint64_t w[4] = {0};
	size_t len = strlen(name), units = (len + 15) / 16, i;

	cr_assert_leq(units, 2, "set name %s too long for the test", name);
	memcpy(w, name, len);
	head(r, tsc, gm_rec_w0(id, gm_rec_frame_set, (unsigned)units), len);
	for (i = 0; i < units * 2; i++)
		put(r, w[i]);
}

/* Writes the blocks (raw, one per recs_t) as a capture; returns its path. */
static const char *write_capture(const char *name, recs_t *blocks, int nblocks)
{
	char *path = paths[npaths++];
	gm_file_header_t h;
	FILE *f;
	int t;

	snprintf(path, sizeof(paths[0]), "%s/%s", tmpdir, name);
	f = fopen(path, "wb");
	cr_assert_not_null(f, "fopen(%s): %s", path, strerror(errno));
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, GM_FORMAT_MAGIC, sizeof(h.magic));
	h.version_major = GM_FORMAT_VERSION_MAJOR;
	h.version_minor = GM_FORMAT_VERSION_MINOR;
	h.header_bytes = sizeof(h);
	h.pid = 4242;
	h.chunk_bytes = 1u << 20;
	cr_assert_eq(fwrite(&h, sizeof(h), 1, f), 1);
	for (t = 0; t < nblocks; t++) {
		uint32_t bytes = (uint32_t)(blocks[t].n * sizeof(uint64_t));
		gm_block_t b;

		memset(&b, 0, sizeof(b));
		b.magic = GM_BLOCK_MAGIC;
		b.kind = gm_block_raw;
		b.thread = blocks[t].thread;
		b.seq = blocks[t].seq;
		b.raw_bytes = b.stored_bytes = bytes;
		b.check = gm_format_check(blocks[t].w, bytes);
		b.tsc_base = 0; /* head() starts far records with a time record */
		cr_assert_eq(fwrite(&b, sizeof(b), 1, f), 1);
		cr_assert_eq(fwrite(blocks[t].w, 1, bytes, f), bytes);
		free(blocks[t].w);
	}
	fclose(f);
	return path;
}

/* Reads the capture at path into a finished model; *damaged says whether
 * the reader reported damage. */
static gm_frames_t *model(const char *path, const gm_frames_opts_t *opts, int *damaged)
{
	char err[256] = "";
	gm_reader_t *r = gm_reader_open(path, err, sizeof(err));
	gm_frames_t *f;
	gm_event_t ev;

	cr_assert_not_null(r, "opening %s: %s", path, err);
	f = gm_frames_new(opts, gm_reader_info(r)->tsc_hz, gm_reader_info(r)->nthreads);
	cr_assert_not_null(f, "%s: gm_frames_new", path);
	while (gm_reader_next(r, &ev))
		cr_assert_eq(gm_frames_add(f, &ev), 0, "%s: gm_frames_add", path);
	cr_assert_eq(gm_frames_finish(f), 0, "%s: gm_frames_finish", path);
	if (damaged)
		*damaged = gm_reader_error(r) != NULL;
	else
		cr_assert_null(gm_reader_error(r), "%s: damage: %s", path, gm_reader_error(r));
	gm_reader_free(r);
	return f;
}

/* ---- counting -------------------------------------------------------------- */

Test(frames, events_level_counts_exactly_from_the_records)
{
	recs_t t = {0};
	const gm_frames_row_t *row;
	const char *path;
	gm_frames_t *f;

	r_process(&t, 1000);
	r_alloc(&t, 2000, 0x10, 100);
	r_alloc(&t, 3000, 0x20, 50);
	r_free(&t, 4000, 0x10);
	r_free(&t, 4100, 0x999); /* never allocated: not a free */
	r_free(&t, 4200, 0);     /* free(NULL) */
	r_frame(&t, 10000, 1, 0, gm_present_marker);
	r_frame_sum(&t, 10000, 1, 1, 2, 3, 150, 0, 0, 0, 500, 0);
	r_realloc(&t, 12000, 0x30, 200, 0x20); /* frees 50, allocates 200 */
	r_realloc(&t, 13000, 0x40, 10, 0x777); /* unknown old block: only the allocation */
	r_realloc(&t, 14000, 0, 0, 0x40);      /* realloc(p, 0): only the free */
	r_frame(&t, 30000, 2, 0, gm_present_sdl2_gl);
	r_frame_sum(&t, 30000, 2, 1, 2, 3, 210, 0, 0, 0, 0, GM_FRAME_FLAG_AUTO);
	r_alloc(&t, 31000, 0x50, 1);
	path = write_capture("events.gmt", &t, 1);
	f = model(path, NULL, NULL);

	cr_assert_eq(f->nrows, 2, "%s: rows", path);
	row = &f->rows[0];
	cr_expect_eq(row->frame, 1, "%s: frame 1 number", path);
	cr_expect_eq(row->start_ns, 1000, "%s: frame 1 starts at the first event", path);
	cr_expect_eq(gm_frames_row_ns(row), 9000, "%s: frame 1 frame_ns", path);
	cr_expect_eq(row->allocations, 2, "%s: frame 1 allocations (not frame_sum's 2)", path);
	cr_expect_eq(row->frees, 1, "%s: frame 1 frees, unknown and NULL not counted", path);
	cr_expect_eq(row->allocated_bytes, 150, "%s: frame 1 allocated bytes", path);
	cr_expect_eq(row->freed_bytes, 100, "%s: frame 1 freed bytes", path);
	cr_expect_eq(row->live_bytes, 50, "%s: frame 1 live bytes", path);
	cr_expect_eq(row->peak_live_bytes, 150, "%s: frame 1 peak", path);
	cr_expect_eq(row->alloc_ns, 500, "%s: frame 1 alloc_ns from frame_sum ticks at 1 GHz",
	             path);
	cr_expect_eq(row->level, gm_level_events, "%s: frame 1 level", path);
	cr_expect(row->flags & GM_FRAMES_ROW_EXACT, "%s: frame 1 exact", path);
	cr_expect_eq(row->source, gm_present_marker, "%s: frame 1 source", path);

	row = &f->rows[1];
	cr_expect_eq(gm_frames_row_ns(row), 20000, "%s: frame 2 frame_ns", path);
	cr_expect_eq(row->allocations, 2, "%s: frame 2 allocations (two reallocs)", path);
	cr_expect_eq(row->frees, 2, "%s: frame 2 frees (old 0x20, then 0x40)", path);
	cr_expect_eq(row->allocated_bytes, 210, "%s: frame 2 allocated bytes", path);
	cr_expect_eq(row->freed_bytes, 60, "%s: frame 2 freed bytes", path);
	cr_expect_eq(row->live_bytes, 200, "%s: frame 2 live bytes", path);
	cr_expect_eq(row->peak_live_bytes, 210, "%s: frame 2 peak", path);
	cr_expect_eq(row->source, gm_present_sdl2_gl, "%s: frame 2 found by SDL_GL_SwapWindow",
	             path);
	cr_expect_str_eq(gm_frames_source_name(row->source), "SDL_GL_SwapWindow", "%s", path);
	cr_expect_eq(f->unframed_allocations, 1, "%s: allocation after the last frame", path);
	cr_expect_eq(f->level_frames[gm_level_events], 2, "%s: events frames", path);
	gm_frames_free(f);
}

Test(frames, frames_level_takes_everything_from_frame_sum)
{
	recs_t t = {0};
	const char *path;
	gm_frames_t *f;

	r_process(&t, 1000);
	r_frame(&t, 2000000, 1, 0, gm_present_marker);
	r_frame_thread(&t, 2000000, 1, 0, 3, 1, 300, 112, 2000);
	r_frame_sum(&t, 2000000, 1, 1, 3, 1, 300, 112, 208, 320, 2000, GM_FRAME_FLAG_FRAMES_LEVEL);
	r_frame(&t, 5000000, 2, 0, gm_present_marker);
	r_frame_sum(&t, 5000000, 2, 2, 0, 1, 0, 108, 100, 400, 0,
	            GM_FRAME_FLAG_FRAMES_LEVEL | GM_FRAME_FLAG_PEAK_APPROX);
	path = write_capture("frames.gmt", &t, 1);
	f = model(path, NULL, NULL);

	cr_assert_eq(f->nrows, 2, "%s: rows", path);
	cr_expect_eq(f->rows[0].allocations, 3, "%s: frame 1 allocations", path);
	cr_expect_eq(f->rows[0].frees, 1, "%s: frame 1 frees", path);
	cr_expect_eq(f->rows[0].allocated_bytes, 300, "%s: frame 1 allocated", path);
	cr_expect_eq(f->rows[0].freed_bytes, 112, "%s: frame 1 freed (usable)", path);
	cr_expect_eq(f->rows[0].live_bytes, 208, "%s: frame 1 live", path);
	cr_expect_eq(f->rows[0].peak_live_bytes, 320, "%s: frame 1 peak", path);
	cr_expect_eq(f->rows[0].alloc_ns, 2000, "%s: frame 1 alloc_ns", path);
	cr_expect_eq(f->rows[0].level, gm_level_frames, "%s: frame 1 level", path);
	cr_expect_not(f->rows[0].flags & GM_FRAMES_ROW_EXACT, "%s: frame 1 not exact", path);
	cr_expect_eq(f->rows[1].live_bytes, 100, "%s: frame 2 live", path);
	cr_expect_eq(f->rows[1].peak_live_bytes, 400, "%s: frame 2 peak", path);
	cr_expect_eq(f->rows[1].nthreads, 2, "%s: frame 2 threads allocating", path);
	cr_expect(f->rows[1].flags & GM_FRAMES_ROW_PEAK_APPROX, "%s: frame 2 peak approx", path);
	cr_expect_eq(f->level_frames[gm_level_frames], 2, "%s: frames-level frames", path);
	cr_expect_eq(f->nchanges, 0, "%s: no level change", path);
	gm_frames_free(f);
}

Test(frames, level_changes_keep_live_bytes_running_and_name_their_frame)
{
	recs_t t = {0};
	const char *path;
	gm_frames_t *f;
	uint64_t minus48 = (uint64_t)-48;

	r_process(&t, 1000);
	r_alloc(&t, 2000, 0x10, 100);
	r_end_events(&t, 10000, 1, 1, 100, 0);
	/* frame 2: the frames level from its start; the writer's live bytes
	 * since then: +64 allocated, -112 of the block 0x10 freed */
	r_level(&t, 11000, gm_level_frames);
	r_frame(&t, 20000, 2, 0, gm_present_marker);
	r_frame_sum(&t, 20000, 2, 1, 2, 1, 50, 112, minus48, 64, 0, GM_FRAME_FLAG_FRAMES_LEVEL);
	/* frame 3: back to events; 0x10 is not known any more */
	r_level(&t, 21000, gm_level_events);
	r_alloc(&t, 22000, 0x60, 30);
	r_free(&t, 23000, 0x10);
	r_frame(&t, 30000, 3, 0, gm_present_marker);
	r_frame_sum(&t, 30000, 3, 1, 1, 1, 30, 0, minus48, minus48, 0, 0);
	path = write_capture("levels.gmt", &t, 1);
	f = model(path, NULL, NULL);

	cr_assert_eq(f->nrows, 3, "%s: rows", path);
	cr_expect_eq(f->rows[0].live_bytes, 100, "%s: frame 1 live", path);
	cr_expect_eq(f->rows[1].level, gm_level_frames, "%s: frame 2 level", path);
	cr_expect(f->rows[1].flags & GM_FRAMES_ROW_LEVEL_CHANGED, "%s: frame 2 changed", path);
	cr_expect_eq(f->rows[1].allocations, 2, "%s: frame 2 allocations from frame_sum", path);
	cr_expect_eq(f->rows[1].freed_bytes, 112, "%s: frame 2 freed from frame_sum", path);
	cr_expect_eq(f->rows[1].live_bytes, 52, "%s: frame 2 live: 100 - 48", path);
	cr_expect_eq(f->rows[1].peak_live_bytes, 164, "%s: frame 2 peak: 100 + 64", path);
	cr_expect_eq(f->rows[2].level, gm_level_events, "%s: frame 3 level", path);
	cr_expect(f->rows[2].flags & GM_FRAMES_ROW_LEVEL_CHANGED, "%s: frame 3 changed", path);
	cr_expect_eq(f->rows[2].allocations, 1, "%s: frame 3 allocations", path);
	cr_expect_eq(f->rows[2].freed_bytes, 0, "%s: frame 3: the free of 0x10 is unknown", path);
	cr_expect_eq(f->rows[2].live_bytes, 82, "%s: frame 3 live: 52 + 30", path);
	cr_assert_eq(f->nchanges, 2, "%s: level changes", path);
	cr_expect_eq(f->changes[0].frame, 2, "%s: first change in frame 2", path);
	cr_expect_eq(f->changes[0].from, gm_level_events, "%s: from events", path);
	cr_expect_eq(f->changes[0].to, gm_level_frames, "%s: to frames", path);
	cr_expect_eq(f->changes[1].frame, 3, "%s: second change in frame 3", path);
	cr_expect_eq(f->level_frames[gm_level_events], 2, "%s: events frames", path);
	cr_expect_eq(f->level_frames[gm_level_frames], 1, "%s: frames frames", path);
	gm_frames_free(f);
}

/* ---- statistics ------------------------------------------------------------ */

/* 20 events-level frames: frame i lasts i us and allocates i blocks of 8
 * bytes; frame 20 spent 5 us in the allocator. */
static gm_frames_t *twenty_frames(void)
{
	recs_t t = {0};
	uint64_t end = 1000, ptr = 0x1000;
	const char *path;
	int i, k;

	r_process(&t, 1000);
	for (i = 1; i <= 20; i++) {
		uint64_t start = end;

		end = start + (uint64_t)i * 1000;
		for (k = 0; k < i; k++)
			r_alloc(&t, start + 1 + (uint64_t)k, ptr += 0x100, 8);
		r_frame(&t, end, (uint64_t)i, 0, gm_present_marker);
		r_frame_sum(&t, end, (uint64_t)i, 1, (uint64_t)i, 0, 8ull * (uint64_t)i, 0, 0, 0,
		            i == 20 ? 5000 : 0, 0);
	}
	path = write_capture("twenty.gmt", &t, 1);
	return model(path, NULL, NULL);
}

Test(frames, percentiles_use_the_nearest_rank)
{
	gm_frames_t *f = twenty_frames();
	uint64_t p[4];

	cr_assert_eq(f->nrows, 20, "twenty frames");
	cr_assert_eq(gm_frames_percentiles(f, gm_frames_metric_frame_ns, p), 0);
	cr_expect_eq(p[0], 10000, "p50 of 1..20 us: rank 10");
	cr_expect_eq(p[1], 19000, "p95 of 1..20 us: rank 19");
	cr_expect_eq(p[2], 20000, "p99 of 1..20 us: rank ceil(19.8) = 20");
	cr_expect_eq(p[3], 20000, "max");
	cr_assert_eq(gm_frames_percentiles(f, gm_frames_metric_allocations, p), 0);
	cr_expect_eq(p[0], 10, "p50 of allocations");
	cr_assert_eq(gm_frames_percentiles(f, gm_frames_metric_alloc_ns, p), 0);
	cr_expect_eq(p[2], 5000, "p99 of alloc_ns: only frame 20");
	cr_expect_eq(p[1], 0, "p95 of alloc_ns");
	gm_frames_free(f);
}

Test(frames, pearson_top_and_over_budget)
{
	gm_frames_t *f = twenty_frames();
	uint64_t over, alloc_over;
	size_t top[3];
	double r;

	r = gm_frames_pearson(f, gm_frames_metric_allocations);
	cr_expect(fabs(r - 1.0) < 1e-9, "allocations grow with frame time: r = %f", r);
	r = gm_frames_pearson(f, gm_frames_metric_allocated_bytes);
	cr_expect(fabs(r - 1.0) < 1e-9, "bytes grow with frame time: r = %f", r);
	r = gm_frames_pearson(f, gm_frames_metric_alloc_ns);
	cr_expect(r > 0.2 && r < 0.5, "alloc_ns only in the longest frame: r = %f", r);
	cr_assert_eq(gm_frames_top(f, gm_frames_metric_frame_ns, 3, top), 3);
	cr_expect_eq(f->rows[top[0]].frame, 20, "worst frame");
	cr_expect_eq(f->rows[top[2]].frame, 18, "third worst frame");
	gm_frames_over_budget(f, 15000, 0.25, &over, &alloc_over);
	cr_expect_eq(over, 5, "frames 16..20 are over 15 us");
	cr_expect_eq(alloc_over, 1, "frame 20's 5 us in the allocator is over 3.75 us");
	gm_frames_free(f);
}

Test(frames, pearson_is_nan_without_variation)
{
	recs_t t = {0};
	const char *path;
	gm_frames_t *f;
	int i;

	r_process(&t, 1000);
	for (i = 1; i <= 4; i++)
		r_end_events(&t, 1000 + 1000 * (uint64_t)i * (uint64_t)i, (uint64_t)i, 0, 0, 0);
	path = write_capture("flat.gmt", &t, 1);
	f = model(path, NULL, NULL);
	cr_expect(isnan(gm_frames_pearson(f, gm_frames_metric_allocations)),
	          "%s: no allocations at all: r undefined", path);
	gm_frames_free(f);
}

Test(frames, spike_lists_size_classes_and_threads_of_its_frame)
{
	recs_t t[2] = {{0}, {0}};
	const gm_frames_spike_t *s;
	const char *path;
	gm_frames_t *f;

	t[1].thread = 1;
	r_process(&t[0], 1000);
	r_alloc(&t[1], 2000, 0x100, 10);
	r_alloc(&t[1], 2100, 0x200, 17);
	r_alloc(&t[1], 2200, 0x300, 4000);
	r_alloc(&t[0], 2300, 0x400, 16);
	r_frame(&t[0], 10000, 1, 0, gm_present_marker);
	r_frame_thread(&t[0], 10000, 1, 0, 1, 0, 16, 0, 0);
	r_frame_thread(&t[0], 10000, 1, 1, 3, 0, 4027, 0, 0);
	r_frame_sum(&t[0], 10000, 1, 2, 4, 0, 4043, 0, 0, 0, 0, GM_FRAME_FLAG_PEAK_APPROX);
	r_spike(&t[0], 10000, 1, GM_SPIKE_ALLOCATIONS, 4, 3);
	path = write_capture("spike.gmt", t, 2);
	f = model(path, NULL, NULL);

	cr_assert_eq(f->nspikes, 1, "%s: spikes", path);
	s = &f->spikes[0];
	cr_expect_eq(s->frame, 1, "%s: spike frame", path);
	cr_expect_eq(s->row, 0, "%s: spike row", path);
	cr_expect_eq(s->reasons, GM_SPIKE_ALLOCATIONS, "%s: reasons", path);
	cr_expect_eq(s->allocations, 4, "%s: allocations", path);
	cr_expect_eq(s->limit_allocations, 3, "%s: limit", path);
	cr_assert(s->has_classes, "%s: events level: size classes", path);
	cr_assert_eq(s->class_count, 3, "%s: three size classes", path);
	cr_expect_eq(f->classes[s->class_first].k, 0, "%s: <= 16 B", path);
	cr_expect_eq(f->classes[s->class_first].count, 2, "%s: 10 and 16 bytes", path);
	cr_expect_eq(f->classes[s->class_first].bytes, 26, "%s: bytes <= 16", path);
	cr_expect_eq(f->classes[s->class_first + 1].k, 1, "%s: <= 32 B", path);
	cr_expect_eq(f->classes[s->class_first + 2].k, 8, "%s: <= 4 KiB", path);
	cr_assert_eq(s->thread_count, 2, "%s: two threads allocated", path);
	cr_expect_eq(f->spike_threads[s->thread_first + 1].thread, 1, "%s: thread 1", path);
	cr_expect_eq(f->spike_threads[s->thread_first + 1].allocations, 3, "%s: thread 1 allocs",
	             path);
	cr_expect_eq(f->rows[0].allocations, 4, "%s: both threads' allocations", path);
	gm_frames_free(f);
}

Test(frames, ticks_per_frame_and_allocations_per_tick_in_events_level)
{
	recs_t t = {0};
	gm_frames_tick_bin_t *bins;
	const char *path;
	gm_frames_t *f;
	double mean, max;
	size_t n;

	r_process(&t, 1000);
	r_tick(&t, 2000, 1);
	r_alloc(&t, 2100, 0x10, 1);
	r_alloc(&t, 2200, 0x20, 1);
	r_tick(&t, 3000, 2);
	r_alloc(&t, 3100, 0x30, 1);
	r_end_events(&t, 4000, 1, 3, 3, 0);
	r_tick(&t, 5000, 3);
	r_end_events(&t, 6000, 2, 0, 0, 0);
	r_end_events(&t, 7000, 3, 0, 0, 0);
	path = write_capture("ticks.gmt", &t, 1);
	f = model(path, NULL, NULL);

	cr_expect_eq(f->total_ticks, 3, "%s: ticks", path);
	cr_assert_eq(gm_frames_tick_histogram(f, &bins, &n), 0);
	cr_assert_eq(n, 3, "%s: bins for 0, 1 and 2 ticks", path);
	cr_expect(bins[0].ticks == 0 && bins[0].frames == 1, "%s: one frame without ticks", path);
	cr_expect(bins[1].ticks == 1 && bins[1].frames == 1, "%s: one frame with 1 tick", path);
	cr_expect(bins[2].ticks == 2 && bins[2].frames == 1, "%s: one frame with 2 ticks", path);
	free(bins);
	cr_expect_eq(gm_frames_per_tick(f, &mean, &max), 1, "%s: events method", path);
	cr_expect(fabs(mean - 1.5) < 1e-9, "%s: 3 allocations over 2 intervals: %f", path, mean);
	cr_expect(fabs(max - 2.0) < 1e-9, "%s: max 2: %f", path, max);
	gm_frames_free(f);
}

Test(frames, allocations_per_tick_in_frames_level)
{
	recs_t t = {0};
	const char *path;
	gm_frames_t *f;
	double mean, max;

	r_process(&t, 1000);
	r_tick(&t, 2000, 1);
	r_tick(&t, 2100, 2);
	r_frame(&t, 3000, 1, 0, gm_present_marker);
	r_frame_sum(&t, 3000, 1, 1, 6, 0, 60, 0, 0, 0, 0, GM_FRAME_FLAG_FRAMES_LEVEL);
	r_tick(&t, 3100, 3);
	r_frame(&t, 4000, 2, 0, gm_present_marker);
	r_frame_sum(&t, 4000, 2, 1, 5, 0, 50, 0, 0, 0, 0, GM_FRAME_FLAG_FRAMES_LEVEL);
	r_frame(&t, 5000, 3, 0, gm_present_marker);
	r_frame_sum(&t, 5000, 3, 1, 100, 0, 100, 0, 0, 0, 0, GM_FRAME_FLAG_FRAMES_LEVEL);
	path = write_capture("ticks_frames.gmt", &t, 1);
	f = model(path, NULL, NULL);

	cr_expect_eq(f->tick_intervals, 0, "%s: no events-level intervals", path);
	cr_expect_eq(gm_frames_per_tick(f, &mean, &max), 0, "%s: frames method", path);
	cr_expect(fabs(mean - 11.0 / 3.0) < 1e-9, "%s: 11 allocations over 3 ticks: %f", path,
	          mean);
	cr_expect(fabs(max - 5.0) < 1e-9, "%s: frame 2 has 5 per tick: %f", path, max);
	gm_frames_free(f);
}

Test(frames, secondary_sets_merge_by_name)
{
	recs_t t = {0};
	const char *path;
	gm_frames_t *f;

	r_process(&t, 1000);
	r_frame_set(&t, 2000, 1, "physics");
	r_frame(&t, 2001, 1, 1, 0);
	r_frame_set(&t, 2002, 2, "physics"); /* the same name under a second id */
	r_frame(&t, 2003, 1, 2, 0);
	r_frame(&t, 2004, 2, 1, 0);
	r_frame_set(&t, 2005, 3, "audio");
	r_frame(&t, 2006, 1, 3, 0);
	r_frame(&t, 2007, 1, 4, 0); /* no name */
	r_end_events(&t, 3000, 1, 0, 0, 0);
	path = write_capture("sets.gmt", &t, 1);
	f = model(path, NULL, NULL);

	cr_expect_eq(f->nrows, 1, "%s: one main frame", path);
	cr_assert_eq(f->nsets, 3, "%s: physics, audio, set 4", path);
	cr_expect_str_eq(f->sets[0].name, "physics", "%s", path);
	cr_expect_eq(f->sets[0].frames, 3, "%s: physics frames from both ids", path);
	cr_expect_str_eq(f->sets[1].name, "audio", "%s", path);
	cr_expect_eq(f->sets[1].frames, 1, "%s: audio frames", path);
	cr_expect_str_eq(f->sets[2].name, "set 4", "%s", path);
	gm_frames_free(f);
}

Test(frames, rate_counts_empty_seconds_and_leaves_out_the_partial_last)
{
	recs_t t = {0};
	const uint64_t ends[4] = {500000000, 900000000, 2500000000, 3200001000};
	const uint64_t allocs[4] = {10, 5, 7, 1};
	gm_frames_rate_t rt;
	const char *path;
	gm_frames_t *f;
	int i;

	r_process(&t, 1000);
	for (i = 0; i < 4; i++) {
		r_frame(&t, ends[i], (uint64_t)i + 1, 0, gm_present_marker);
		r_frame_sum(&t, ends[i], (uint64_t)i + 1, 1, allocs[i], 0, allocs[i] * 10, 0, 0, 0,
		            0, GM_FRAME_FLAG_FRAMES_LEVEL);
	}
	path = write_capture("rate.gmt", &t, 1);
	f = model(path, NULL, NULL);

	cr_assert_eq(gm_frames_rate(f, &rt), 0, "%s: rate", path);
	cr_expect(fabs(rt.allocations_per_s - 23 / 3.2) < 1e-9, "%s: 23 allocations in 3.2 s: %f",
	          path, rt.allocations_per_s);
	cr_expect(fabs(rt.bytes_per_s - 230 / 3.2) < 1e-9, "%s: bytes/s: %f", path, rt.bytes_per_s);
	cr_expect_eq(rt.seconds, 3, "%s: three whole seconds", path);
	cr_expect_eq(rt.min, 0, "%s: no frame ended in second 1", path);
	cr_expect_eq(rt.median, 7, "%s: median of 0, 7, 15", path);
	cr_expect_eq(rt.max, 15, "%s: second 0: 10 + 5", path);
	gm_frames_free(f);
}

Test(frames, threads_are_kept_only_for_the_range)
{
	gm_frames_opts_t opts = {.keep_threads = 1, .from = 2, .to = 2};
	recs_t t = {0};
	const char *path;
	gm_frames_t *f;
	int i;

	r_process(&t, 1000);
	for (i = 1; i <= 3; i++) {
		r_alloc(&t, 1000 + 1000 * (uint64_t)i, 0x100 * (uint64_t)i, (uint64_t)i);
		r_end_events(&t, 1500 + 1000 * (uint64_t)i, (uint64_t)i, 1, (uint64_t)i, 0);
	}
	path = write_capture("threads.gmt", &t, 1);
	f = model(path, &opts, NULL);

	cr_assert_eq(f->nrows, 3, "%s: rows", path);
	cr_expect_eq(f->rows[0].thread_count, 0, "%s: frame 1 outside the range", path);
	cr_assert_eq(f->rows[1].thread_count, 1, "%s: frame 2 kept", path);
	cr_expect_eq(f->threads[f->rows[1].thread_first].allocated_bytes, 2, "%s: frame 2 bytes",
	             path);
	cr_expect_eq(f->rows[2].thread_count, 0, "%s: frame 3 outside the range", path);
	cr_expect_eq(gm_frames_find(f, 3), 2, "%s: find frame 3", path);
	cr_expect_eq(gm_frames_find(f, 9), SIZE_MAX, "%s: no frame 9", path);
	gm_frames_free(f);
}

Test(frames, damaged_capture_keeps_the_frames_before_the_damage)
{
	recs_t t[2] = {{0}, {0}};
	const char *path;
	gm_frames_t *f;
	int damaged = 0;
	FILE *fp;
	long size;

	t[1].seq = 1;
	r_process(&t[0], 1000);
	r_end_events(&t[0], 5000000, 1, 0, 0, 0);
	r_end_events(&t[0], 10000000, 2, 0, 0, 0);
	r_end_events(&t[1], 15000000, 3, 0, 0, 0);
	path = write_capture("damaged.gmt", t, 2);
	fp = fopen(path, "rb");
	cr_assert_not_null(fp);
	fseek(fp, 0, SEEK_END);
	size = ftell(fp);
	fclose(fp);
	cr_assert_eq(truncate(path, size - 8), 0, "truncate %s", path);
	f = model(path, NULL, &damaged);

	cr_expect(damaged, "%s: the reader reports the cut block", path);
	cr_assert_eq(f->nrows, 2, "%s: frames 1 and 2 survive", path);
	cr_expect_eq(f->rows[1].frame, 2, "%s: frame 2", path);
	gm_frames_free(f);
}
