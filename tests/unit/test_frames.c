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
#include "failalloc.h"

/* ---- capture builder ---------------------------------------------------- */

#include "frames_capture.h"

static void frames_setup(void)
{
	caps_setup("gm_test_frames");
}

static void frames_teardown(void)
{
	caps_teardown();
}

TestSuite(frames, .init = frames_setup, .fini = frames_teardown);

static void r_free(words_t *r, uint64_t tsc, uint64_t ptr)
{
	head(r, tsc, gm_rec_w0(ptr, gm_rec_free, gm_kind_free), 0);
}

static void r_realloc(words_t *r, uint64_t tsc, uint64_t ptr, uint64_t size, uint64_t old)
{
	head(r, tsc, gm_rec_w0(ptr, gm_rec_realloc, gm_kind_realloc), size);
	put(r, old);
	put(r, 0);
}

/* An events-level frame end: frame, one frame_thread of thread 0, frame_sum. */
static void r_end_events(words_t *r, uint64_t tsc, uint64_t frame, uint64_t allocs, uint64_t abytes,
                         uint64_t ticks)
{
	r_frame(r, tsc, frame, 0, gm_present_marker);
	if (allocs)
		r_frame_thread(r, tsc, frame, 0, allocs, 0, abytes, 0, ticks);
	r_frame_sum(r, tsc, frame, allocs != 0, allocs, 0, abytes, 0, 0, 0, ticks, 0);
}

static void r_frame_set(words_t *r, uint64_t tsc, unsigned id, const char *name)
{
	uint64_t w[4] = {0};
	size_t len = strlen(name), units = (len + 15) / 16, i;

	cr_assert_leq(units, 2, "set name %s too long for the test", name);
	memcpy(w, name, len);
	head(r, tsc, gm_rec_w0(id, gm_rec_frame_set, (unsigned)units), len);
	for (i = 0; i < units * 2; i++)
		put(r, w[i]);
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
	words_t t = {0};
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
	words_t t = {0};
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
	words_t t = {0};
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
	words_t t = {0};
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

/* Frames 1..5 of 1 us each, then frame 9 (the marks of 6..8 lost with a
 * damaged block): its row spans 4 us and its 4 allocations are those of
 * four frames. It was ranked the worst frame and counted over budget. */
Test(frames, a_frame_after_missing_ones_is_left_out_of_the_statistics)
{
	words_t t = {0};
	uint64_t end = 1000, ptr = 0x1000, p[4], over, alloc_over;
	size_t top[6];
	gm_frames_t *f;
	int i, k;

	r_process(&t, 1000);
	for (i = 1; i <= 9; i++) {
		if (i >= 6 && i <= 8) {
			for (k = 0; k < 1; k++) /* its allocation is read, its mark is not */
				r_alloc(&t, end + 500, ptr += 0x100, 8);
			end += 1000;
			continue;
		}
		r_alloc(&t, end + 1, ptr += 0x100, 8);
		end += 1000;
		r_frame(&t, end, (uint64_t)i, 0, gm_present_marker);
	}
	f = model(write_capture("gap.gmt", &t, 1), NULL, NULL);
	cr_assert_eq(f->nrows, 6);
	cr_expect_eq(f->ngaps, 1);
	cr_expect_eq(f->rows[5].frame, 9);
	cr_expect(f->rows[5].flags & GM_FRAMES_ROW_GAP);
	cr_expect_eq(gm_frames_row_ns(&f->rows[5]), 4000, "it covers frames 6..9");
	cr_expect_eq(f->rows[5].allocations, 4);
	for (i = 0; i < 5; i++)
		cr_expect(!(f->rows[i].flags & GM_FRAMES_ROW_GAP), "frame %d", i + 1);
	cr_expect_eq(gm_frames_counted(f), 5);
	cr_assert_eq(gm_frames_percentiles(f, gm_frames_metric_frame_ns, p), 0);
	cr_expect_eq(p[3], 1000, "max over the frames counted: 1 us, not the 4 us row");
	cr_assert_eq(gm_frames_percentiles(f, gm_frames_metric_allocations, p), 0);
	cr_expect_eq(p[3], 1);
	cr_assert_eq(gm_frames_top(f, gm_frames_metric_frame_ns, 6, top), 5);
	for (i = 0; i < 5; i++)
		cr_expect_neq(f->rows[top[i]].frame, 9, "the row after the gap is no worst frame");
	gm_frames_over_budget(f, 2000, 0.25, &over, &alloc_over);
	cr_expect_eq(over, 0, "nor a frame over a 2 us budget");
	cr_expect(isnan(gm_frames_pearson(f, gm_frames_metric_allocations)),
	          "no variation among the frames counted");
	gm_frames_free(f);
}

/* Frames 1..3 lost at the capture's start: frame 4, the first row, covers
 * them (from the capture's first event) and is no worst frame either. */
Test(frames, a_first_frame_after_frames_lost_at_the_start_is_left_out)
{
	words_t t = {0};
	uint64_t end = 1000, ptr = 0x1000, p[4];
	gm_frames_t *f;
	int i;

	r_process(&t, 1000);
	for (i = 1; i <= 8; i++) {
		r_alloc(&t, end + 1, ptr += 0x100, 8);
		end += 1000;
		if (i >= 4)
			r_frame(&t, end, (uint64_t)i, 0, gm_present_marker);
	}
	f = model(write_capture("leading_gap.gmt", &t, 1), NULL, NULL);
	cr_assert_eq(f->nrows, 5);
	cr_expect(f->rows[0].flags & GM_FRAMES_ROW_GAP);
	cr_expect_eq(f->ngaps, 1);
	cr_assert_eq(gm_frames_percentiles(f, gm_frames_metric_frame_ns, p), 0);
	cr_expect_eq(p[3], 1000, "frames 5..8: 1 us each");
	gm_frames_free(f);
}

Test(frames, pearson_is_nan_without_variation)
{
	words_t t = {0};
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
	words_t t[2] = {{0}, {0}};
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
	words_t t = {0};
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
	words_t t = {0};
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
	words_t t = {0};
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

Test(frames, an_empty_set_name_in_a_capture)
{
	/* a frame_set with no name bytes has no extra unit at all */
	words_t t = {0};
	const char *path;
	gm_frames_t *f;

	r_process(&t, 1000);
	r_frame_set(&t, 2000, 1, "");
	r_frame(&t, 2001, 1, 1, 0);
	r_end_events(&t, 3000, 1, 0, 0, 0);
	path = write_capture("empty_set.gmt", &t, 1);
	f = model(path, NULL, NULL);
	cr_assert_eq(f->nsets, 1, "%s", path);
	cr_expect_str_eq(f->sets[0].name, "", "%s", path);
	cr_expect_eq(f->sets[0].frames, 1, "%s", path);
	gm_frames_free(f);
}

Test(frames, rate_counts_empty_seconds_and_leaves_out_the_partial_last)
{
	words_t t = {0};
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
	words_t t = {0};
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
	words_t t[2] = {{0}, {0}};
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

/* ---- events fed directly (no capture): edge cases and out of memory ------ */

/* The event list (evs_t, ev(), evs_free()) is in capture_common.h. */

/* A record with a string: b = its length, the bytes as extra units. */
static void ev_str(evs_t *l, uint64_t ns, uint32_t thread, unsigned type, uint64_t a, uint64_t b,
                   const char *s, size_t len)
{
	uint64_t w[16] = {0};

	cr_assert_leq(len, sizeof(w));
	memcpy(w, s, len);
	ev(l, ns, thread, type, (unsigned)(len + 15) / 16, a, b, w, (len + 15) / 16 * 2);
}

static void e_alloc(evs_t *l, uint64_t ns, uint32_t thread, uint64_t ptr, uint64_t size)
{
	ev(l, ns, thread, gm_rec_alloc, gm_kind_malloc, ptr, size, NULL, 0);
}

static void e_frame(evs_t *l, uint64_t ns, uint64_t frame)
{
	ev(l, ns, 0, gm_rec_frame, 0, frame, gm_present_marker, NULL, 0);
}

static void e_sum(evs_t *l, uint64_t ns, uint64_t frame, uint64_t nthreads, uint64_t allocs,
                  uint64_t live, uint64_t ticks, uint64_t flags)
{
	uint64_t w[8] = {allocs, 0, allocs * 10, 0, live, live, ticks, flags};

	ev(l, ns, 0, gm_rec_frame_sum, 4, frame, nthreads, w, 8);
}

static void e_ft(evs_t *l, uint64_t ns, uint64_t frame, uint32_t thread, uint64_t allocs)
{
	uint64_t w[6] = {allocs, 0, allocs * 8, 0, 0, 0};

	ev(l, ns, 0, gm_rec_frame_thread, 3, frame, thread, w, 6);
}

static void e_spike(evs_t *l, uint64_t ns, uint64_t frame)
{
	uint64_t w[6] = {1, 0, 0, 0, 0, 0};

	ev(l, ns, 0, gm_rec_spike, 3, frame, GM_SPIKE_ALLOCATIONS, w, 6);
}

static void e_ctx(evs_t *l, uint64_t ns, uint32_t thread, uint64_t asset, uint64_t tag)
{
	ev(l, ns, thread, gm_rec_context, 0, asset, tag, NULL, 0);
}

static gm_frames_t *model_of(const evs_t *l, const gm_frames_opts_t *opts, double hz,
                             uint32_t nthreads)
{
	gm_frames_t *f = gm_frames_new(opts, hz, nthreads);
	size_t i;

	cr_assert_not_null(f);
	for (i = 0; i < l->n; i++)
		cr_assert_eq(gm_frames_add(f, &l->e[i]), 0, "event %zu", i);
	cr_assert_eq(gm_frames_finish(f), 0);
	return f;
}

Test(frames, allocator_time_without_a_tick_rate_and_absurd_figures)
{
	evs_t l = {0};
	gm_frames_t *f;

	e_frame(&l, 100, 1);
	e_sum(&l, 100, 1, 1ull << 33, 0, 0, 5000, 0);
	f = model_of(&l, NULL, 0, 1);
	cr_assert_eq(f->nrows, 1);
	cr_expect_eq(f->rows[0].alloc_ns, 0, "no tick rate: allocator time unknown");
	cr_expect_eq(f->rows[0].nthreads, UINT32_MAX, "2^33 threads saturate");
	gm_frames_free(f);
	evs_free(&l);
	e_frame(&l, 100, 1);
	e_sum(&l, 100, 1, 1, 0, 0, 1ull << 62, 0);
	f = model_of(&l, NULL, 1e-3, 1);
	cr_expect_eq(f->rows[0].alloc_ns, UINT64_MAX, "2^62 ticks at 1 mHz saturate");
	gm_frames_free(f);
	gm_frames_free(NULL);
	evs_free(&l);
}

Test(frames, odd_allocation_records_keep_live_bytes_right)
{
	/* malloc of NULL counts but holds nothing; an address allocated again
	 * without a free replaces its block; a 2^40-1 byte block is in the
	 * last size class */
	evs_t l = {0};
	const gm_frames_spike_t *s;
	gm_frames_t *f;

	e_alloc(&l, 10, 0, 0, 10);
	e_alloc(&l, 20, 0, 0x10, 100);
	e_alloc(&l, 30, 0, 0x10, 30);
	e_alloc(&l, 40, 0, 0x20, (1ull << 40) - 1);
	e_frame(&l, 50, 1);
	e_spike(&l, 50, 1);
	f = model_of(&l, NULL, 1e9, 1);
	cr_assert_eq(f->nrows, 1);
	cr_expect_eq(f->rows[0].allocations, 4);
	cr_expect_eq(f->rows[0].live_bytes, 30 + (1ull << 40) - 1, "0x10 holds 30 bytes now");
	cr_expect_eq(f->rows[0].peak_live_bytes, 30 + (1ull << 40) - 1);
	cr_assert_eq(f->nspikes, 1);
	s = &f->spikes[0];
	cr_assert_eq(s->class_count, 4);
	cr_expect_eq(f->classes[s->class_first].k, 0, "10 B");
	cr_expect_eq(f->classes[s->class_first + 1].k, 1, "30 B");
	cr_expect_eq(f->classes[s->class_first + 2].k, 3, "100 B");
	cr_expect_eq(f->classes[s->class_first + 3].k, GM_FRAMES_CLASSES - 1, "2^40-1 B");
	cr_expect_eq(s->thread_count, 0, "no frame_thread record");
	gm_frames_free(f);
	evs_free(&l);
}

Test(frames, frame_sums_for_other_frames_amend_their_row_once)
{
	/* a frame_sum for an older frame amends that row; a second one for it
	 * is ignored; one for a frame without a row too. The last row follows
	 * the writer's live bytes above its peak. */
	evs_t l = {0};
	gm_frames_t *f;

	e_sum(&l, 50, 1, 1, 0, 0, 600, 0); /* before any frame: no row to amend */
	e_frame(&l, 100, 1);
	e_frame(&l, 200, 2);
	e_sum(&l, 200, 1, 1, 0, 0, 700, 0);
	e_sum(&l, 200, 1, 1, 0, 0, 900, 0);
	e_sum(&l, 200, 9, 1, 0, 0, 800, 0);
	e_sum(&l, 200, 2, 1, 0, 1000, 0, 0);
	ev(&l, 300, 0, gm_rec_frame, 0, 3, 99, NULL, 0);
	f = model_of(&l, NULL, 1e9, 1);
	cr_assert_eq(f->nrows, 3);
	cr_expect_eq(f->rows[0].alloc_ns, 700, "the first frame_sum of frame 1");
	cr_expect(f->rows[0].flags & GM_FRAMES_ROW_SUM);
	cr_expect_eq(f->rows[1].live_bytes, 1000, "the writer's live bytes");
	cr_expect_eq(f->rows[1].peak_live_bytes, 1000, "the peak is at least the live bytes");
	cr_expect_eq(f->rows[2].source, gm_present_count, "source 99 is not a known hook");
	cr_expect_str_eq(gm_frames_source_name(f->rows[2].source), "unknown");
	cr_expect_str_eq(gm_frames_level_name(7), "unknown");
	gm_frames_free(f);
	evs_free(&l);
}

Test(frames, per_thread_splits_stay_contiguous)
{
	gm_frames_opts_t opts = {.keep_threads = 1, .from = 1, .to = 10};
	evs_t l = {0};
	gm_frames_t *f;

	e_frame(&l, 100, 1);
	e_frame(&l, 200, 2);
	e_ft(&l, 200, 1, 0, 5);
	e_ft(&l, 200, 2, 0, 6);
	e_ft(&l, 200, 1, 1, 7); /* frame 1 again after frame 2's split: dropped */
	e_ft(&l, 200, 7, 0, 8); /* no row */
	f = model_of(&l, &opts, 1e9, 2);
	cr_expect_eq(f->nthreads_kept, 2);
	cr_assert_eq(f->rows[0].thread_count, 1);
	cr_expect_eq(f->threads[f->rows[0].thread_first].allocations, 5);
	cr_assert_eq(f->rows[1].thread_count, 1);
	cr_expect_eq(f->threads[f->rows[1].thread_first].allocations, 6);
	gm_frames_free(f);
	evs_free(&l);
}

/* The race fr_openworld runs into: thread 1's allocation is timed inside
 * frame 1, but its counter grew only after the main thread read it at the
 * frame end, so frame_thread says it in frame 2. The events level splits by
 * the events, as the row counts; the records give the allocator time. */
Test(frames, events_level_split_counts_the_events_not_the_late_counters)
{
	gm_frames_opts_t opts = {.keep_threads = 1, .from = 1, .to = 10};
	uint64_t w0[6] = {1, 1, 8, 8, 3000, 0};
	uint64_t w2[6] = {0, 0, 0, 0, 0, 0}, w3[6] = {1, 0, 8, 0, 7000, 0};
	evs_t l = {0};
	gm_frames_t *f;
	const gm_frames_thread_t *t;

	e_alloc(&l, 100, 0, 0x10, 8);
	e_alloc(&l, 110, 1, 0x20, 8);
	ev(&l, 120, 0, gm_rec_free, gm_kind_free, 0x10, 0, NULL, 0);
	e_alloc(&l, 150, 1, 0x30, 8); /* the late one */
	e_frame(&l, 200, 1);
	ev(&l, 200, 0, gm_rec_frame_thread, 3, 1, 0, w0, 6);
	ev(&l, 200, 0, gm_rec_frame_thread, 3, 1, 1, w3, 6); /* 1 of its 2 */
	e_sum(&l, 200, 1, 2, 3, 0, 0, 0);
	e_frame(&l, 300, 2);
	ev(&l, 300, 0, gm_rec_frame_thread, 3, 2, 0, w2, 6);
	ev(&l, 300, 0, gm_rec_frame_thread, 3, 2, 1, w3, 6); /* the late one, no event */
	e_sum(&l, 300, 2, 1, 1, 0, 0, 0);
	f = model_of(&l, &opts, 1e9, 2);
	cr_assert_eq(f->nrows, 2);
	cr_expect_eq(f->rows[0].allocations, 3);
	cr_assert_eq(f->rows[0].thread_count, 2, "both threads allocated in frame 1");
	t = f->threads + f->rows[0].thread_first;
	cr_expect_eq(t[0].thread, 0);
	cr_expect_eq(t[0].allocations, 1);
	cr_expect_eq(t[0].frees, 1);
	cr_expect_eq(t[0].freed_bytes, 8);
	cr_expect_eq(t[0].alloc_ns, 3000, "the time is the record's");
	cr_expect_eq(t[1].thread, 1);
	cr_expect_eq(t[1].allocations, 2, "the events say 2 where the counter said 1");
	cr_expect_eq(t[1].allocated_bytes, 16);
	cr_expect_eq(t[1].alloc_ns, 7000);
	cr_expect_eq(f->rows[1].allocations, 0);
	cr_expect_eq(f->rows[1].thread_count, 0, "no event in frame 2: no share");
	gm_frames_free(f);
	evs_free(&l);
}

/* A frame_sum that says the frames level after events were counted: the
 * row takes its counts from the sum, and the split from the records. */
Test(frames, split_from_records_when_the_sum_says_frames_level)
{
	gm_frames_opts_t opts = {.keep_threads = 1, .from = 1, .to = 10};
	evs_t l = {0};
	gm_frames_t *f;

	e_alloc(&l, 100, 0, 0x10, 8);
	e_frame(&l, 200, 1);
	e_ft(&l, 200, 1, 0, 4);
	e_ft(&l, 200, 1, 2, 5);
	e_sum(&l, 200, 1, 2, 9, 0, 0, GM_FRAME_FLAG_FRAMES_LEVEL);
	f = model_of(&l, &opts, 1e9, 3);
	cr_assert_eq(f->nrows, 1);
	cr_expect_eq(f->rows[0].allocations, 9, "the sum's count");
	cr_assert_eq(f->rows[0].thread_count, 2, "the records' split");
	cr_expect_eq(f->threads[f->rows[0].thread_first].allocations, 4);
	cr_expect_eq(f->threads[f->rows[0].thread_first + 1].thread, 2);
	cr_expect_eq(f->threads[f->rows[0].thread_first + 1].allocations, 5);
	cr_expect_eq(f->nthreads_kept, 2);
	gm_frames_free(f);
	evs_free(&l);
}

Test(frames, spikes_about_other_frames_keep_what_is_known)
{
	/* a spike about an older frame: no size classes (its frame is gone),
	 * but its threads; about a frame with no row: nothing; in the frames
	 * level: the frame_tags owners, no classes */
	evs_t l = {0};
	const gm_frames_spike_t *s;
	const gm_frames_owner_t *o;
	uint64_t tags[4] = {0xffffff | 1ull << 24, 1000, 5 | 3ull << 24, 300};
	gm_frames_t *f;

	ev_str(&l, 10, 0, gm_rec_tag_def, 5, 2, "fx", 2);
	e_alloc(&l, 20, 0, 0x10, 8);
	e_frame(&l, 100, 1);
	e_ft(&l, 100, 1, 0, 1);
	e_frame(&l, 200, 2);
	e_spike(&l, 200, 1);
	e_spike(&l, 200, 9);
	ev(&l, 250, 0, gm_rec_level, 0, gm_level_frames, 0, NULL, 0);
	e_frame(&l, 300, 3);
	e_sum(&l, 300, 3, 1, 4, 0, 0, GM_FRAME_FLAG_FRAMES_LEVEL);
	ev(&l, 300, 0, gm_rec_frame_tags, 2, 3, 2, tags, 4);
	e_spike(&l, 300, 3);
	f = model_of(&l, NULL, 1e9, 1);
	cr_assert_eq(f->nspikes, 3);
	s = &f->spikes[0];
	cr_expect_eq(s->row, 0);
	cr_expect_not(s->has_classes, "frame 1 is not the frame that just ended");
	cr_expect_eq(s->owner_count, 0);
	cr_expect_eq(s->thread_count, 1, "frame 1's frame_thread record");
	s = &f->spikes[1];
	cr_expect_eq(s->row, SIZE_MAX);
	cr_expect_eq(s->thread_count, 0);
	s = &f->spikes[2];
	cr_expect_eq(s->row, 2);
	cr_expect_not(s->has_classes, "frames level: no sizes");
	cr_assert_eq(s->owner_count, 2);
	o = &f->owners[s->owner_first];
	cr_expect_eq(o->id, UINT32_MAX, "0xffffff: a tag id too large for the record");
	cr_expect_eq(o->bytes, 1000);
	cr_expect_null(o->name);
	cr_expect_eq(o[1].id, 5);
	cr_expect_eq(o[1].count, 3);
	cr_expect_str_eq(o[1].name, "fx");
	gm_frames_free(f);
	evs_free(&l);
}

Test(frames, a_spike_names_the_top_tags_and_assets_of_its_frame)
{
	/* 130 tags allocate i bytes each on thread 0, all under asset 1: 128
	 * owners are tallied (tags 128..130 are dropped), the spike keeps the
	 * 8 largest tags and the asset. Threads 40, 100 and 200 grow the
	 * per-thread context; tag names land in a table that grows. */
	evs_t l = {0};
	const gm_frames_spike_t *s;
	gm_frames_t *f;
	uint64_t i, ns = 10;
	uint32_t k;

	ev_str(&l, ns++, 0, gm_rec_tag_def, 127, 4, "boss", 4);
	ev_str(&l, ns++, 0, gm_rec_tag_def, 300, 4, "late", 4);
	ev_str(&l, ns++, 0, gm_rec_tag_def, 1ull << 30, 4, "huge", 4); /* ignored */
	ev_str(&l, ns++, 0, gm_rec_tag_def, 126, 3, "old", 3);
	ev_str(&l, ns++, 0, gm_rec_tag_def, 126, 3, "new", 3); /* renamed */
	ev_str(&l, ns++, 0, gm_rec_asset_new, 1, 8 | 7 << 16, "hero.pngtexture", 15);
	for (i = 1; i <= 130; i++) {
		e_ctx(&l, ns++, 0, 1, i);
		e_alloc(&l, ns++, 0, 0x1000 + i * 0x100, i);
	}
	e_ctx(&l, ns++, 40, 0, 3);
	e_ctx(&l, ns++, 100, 0, 4);
	e_frame(&l, ns++, 1);
	e_spike(&l, ns++, 1);
	f = model_of(&l, NULL, 1e9, 1);
	cr_expect_geq(f->ntag_names, 301);
	cr_expect_str_eq(f->tag_names[300], "late");
	cr_expect_str_eq(f->tag_names[126], "new");
	cr_assert_eq(f->nspikes, 1);
	s = &f->spikes[0];
	cr_assert_eq(s->owner_count, 9);
	for (k = 0; k < 8; k++) {
		const gm_frames_owner_t *o = &f->owners[s->owner_first + k];

		cr_expect_eq(o->kind, 0);
		cr_expect_eq(o->id, 127 - k, "owner %u: the largest tags first", k);
		cr_expect_eq(o->bytes, 127 - k);
	}
	cr_expect_str_eq(f->owners[s->owner_first].name, "boss");
	cr_expect_eq(f->owners[s->owner_first + 8].kind, 1);
	cr_expect_eq(f->owners[s->owner_first + 8].id, 1);
	cr_expect_eq(f->owners[s->owner_first + 8].count, 130, "the asset's slot was kept");
	cr_expect_eq(f->owners[s->owner_first + 8].bytes, 130 * 131 / 2);
	cr_expect_str_eq(f->owners[s->owner_first + 8].name, "hero.png");
	cr_expect_geq(f->nctx, 101);
	gm_frames_free(f);
	evs_free(&l);

	/* allocations on threads the context never saw: tag 0; an asset
	 * without a name */
	e_ctx(&l, 1, 40, 9, 3);
	e_ctx(&l, 2, 100, 0, 4);
	e_alloc(&l, 3, 40, 0x10, 8);
	e_alloc(&l, 4, 100, 0x20, 16);
	e_alloc(&l, 5, 200, 0x30, 32);
	e_frame(&l, 6, 1);
	e_spike(&l, 6, 1);
	f = model_of(&l, NULL, 1e9, 1);
	s = &f->spikes[0];
	cr_assert_eq(s->owner_count, 4);
	cr_expect_eq(f->owners[s->owner_first].id, 0, "thread 200: no context");
	cr_expect_eq(f->owners[s->owner_first + 1].id, 4);
	cr_expect_eq(f->owners[s->owner_first + 2].id, 3);
	cr_expect_eq(f->owners[s->owner_first + 3].kind, 1);
	cr_expect_eq(f->owners[s->owner_first + 3].id, 9);
	cr_expect_null(f->owners[s->owner_first + 3].name);
	gm_frames_free(f);
	evs_free(&l);
}

Test(frames, frame_tags_keep_128_tags)
{
	uint64_t w[2 * 150];
	evs_t l = {0};
	gm_frames_t *f;
	int i;

	for (i = 0; i < 150; i++) {
		w[2 * i] = (uint64_t)(i + 1) | 1ull << 24;
		w[2 * i + 1] = (uint64_t)(i + 1);
	}
	e_frame(&l, 100, 1);
	e_sum(&l, 100, 1, 1, 150, 0, 0, GM_FRAME_FLAG_FRAMES_LEVEL);
	ev(&l, 100, 0, gm_rec_frame_tags, 150, 1, 150, w, 300);
	e_spike(&l, 100, 1);
	f = model_of(&l, NULL, 1e9, 1);
	cr_assert_eq(f->spikes[0].owner_count, GM_FRAMES_OWNER_TOP);
	cr_expect_eq(f->owners[0].id, 128, "tags 129..150 were past the 128 slots");
	gm_frames_free(f);
	evs_free(&l);
}

Test(frames, level_records_that_change_nothing_and_changes_after_the_last_frame)
{
	evs_t l = {0};
	gm_frames_t *f;

	/* the first level record only tells the level; a change with no frame
	 * yet is in frame 1 */
	ev(&l, 10, 0, gm_rec_level, 0, gm_level_frames, 0, NULL, 0);
	ev(&l, 20, 0, gm_rec_level, 0, gm_level_events, 0, NULL, 0);
	f = model_of(&l, NULL, 1e9, 1);
	cr_assert_eq(f->nchanges, 1);
	cr_expect_eq(f->changes[0].frame, 1);
	cr_expect_eq(f->changes[0].from, gm_level_frames);
	gm_frames_free(f);
	evs_free(&l);

	/* three ticks before anything tells the level: two intervals without
	 * allocations, settled when an allocation shows the events level */
	ev(&l, 10, 0, gm_rec_sim_tick, 0, 1, 0, NULL, 0);
	ev(&l, 20, 0, gm_rec_sim_tick, 0, 2, 0, NULL, 0);
	ev(&l, 30, 0, gm_rec_sim_tick, 0, 3, 0, NULL, 0);
	e_alloc(&l, 40, 0, 0x10, 8);
	e_frame(&l, 100, 1);
	ev(&l, 110, 0, gm_rec_level, 0, gm_level_events, 0, NULL, 0); /* no change */
	ev(&l, 120, 0, gm_rec_level, 0, 7, 0, NULL, 0);               /* not a level */
	e_frame(&l, 200, 2);
	ev(&l, 210, 0, gm_rec_level, 0, gm_level_frames, 0, NULL, 0); /* after the last frame */
	f = model_of(&l, NULL, 1e9, 1);
	cr_expect_eq(f->tick_intervals, 2);
	cr_expect_eq(f->tick_interval_allocations, 0);
	cr_expect_eq(f->tick_interval_max, 0);
	cr_assert_eq(f->nchanges, 1);
	cr_expect_eq(f->changes[0].frame, 3, "the frame after the last one");
	cr_expect_eq(f->level, gm_level_frames);
	gm_frames_free(f);
	evs_free(&l);
}

Test(frames, names_from_short_or_repeated_records)
{
	evs_t l = {0};
	gm_frames_t *f;

	ev(&l, 10, 0, gm_rec_tag_def, 1, 5, 40, (const uint64_t[2]){0x41, 0},
	   2); /* 40 bytes in 16 */
	ev(&l, 11, 0, gm_rec_asset_new, 1, 2, 40, (const uint64_t[2]){0x41, 0}, 2); /* likewise */
	ev_str(&l, 12, 0, gm_rec_frame_set, 300, 4, "over", 4);
	ev_str(&l, 13, 0, gm_rec_frame_set, 1, 7, "physics", 7);
	ev_str(&l, 14, 0, gm_rec_frame_set, 1, 5, "audio", 5); /* id 1 is named */
	ev_str(&l, 15, 0, gm_rec_frame_set, 2, 0, "", 0);
	ev_str(&l, 16, 0, gm_rec_thread_start, 77, 8, "main\0\0\0\0", 8);
	ev_str(&l, 17, 1, gm_rec_thread_start, 78, 8, "audio\0\0\0", 8);
	ev_str(&l, 18, 5, gm_rec_thread_start, 79, 4, "gone", 4); /* no such writer thread */
	ev(&l, 19, 0, gm_rec_frame, 1, 1, 0, NULL, 0);
	e_frame(&l, 20, 1);
	f = model_of(&l, NULL, 1e9, 2);
	cr_expect_eq(f->ntag_names, 0, "a tag_def shorter than its name is ignored");
	cr_expect_eq(f->nasset_names, 0);
	cr_assert_eq(f->nsets, 2);
	cr_expect_str_eq(f->sets[0].name, "physics");
	cr_expect_eq(f->sets[0].frames, 1);
	cr_expect_str_eq(f->sets[1].name, "", "named, with no frame");
	cr_expect_eq(f->sets[1].frames, 0);
	cr_expect_str_eq(f->thread_names[0], "main");
	cr_expect_str_eq(f->thread_names[1], "audio");
	gm_frames_free(f);
	evs_free(&l);
}

Test(frames, statistics_on_rows_out_of_order)
{
	/* frame numbers 1, 5, 3 and end times that go back: frame 5 ends
	 * before frame 1 */
	evs_t l = {0};
	gm_frames_rate_t rt;
	gm_frames_t *f;
	size_t top[3];
	uint64_t p[4];

	e_alloc(&l, 0, 0, 0x10, 8);
	e_frame(&l, 1100000000, 1);
	e_frame(&l, 100000000, 5);  /* ends before it starts: 0 ns */
	e_frame(&l, 1200000000, 3); /* second 1 */
	e_frame(&l, 200000000, 4);  /* second 0 again */
	e_frame(&l, 2500000000, 2); /* past the whole seconds */
	f = model_of(&l, NULL, 1e9, 1);
	cr_assert_eq(f->nrows, 5);
	cr_expect_eq(gm_frames_row_ns(&f->rows[1]), 0);
	cr_expect_eq(gm_frames_value(&f->rows[0], (gm_frames_metric_t)99), 0, "no such metric");
	cr_expect_eq(gm_frames_find(f, 3), 2, "found by a full search");
	cr_expect_eq(gm_frames_find(f, 6), SIZE_MAX);
	cr_assert_eq(gm_frames_top(f, gm_frames_metric_allocations, 3, top), 3);
	cr_expect_eq(top[0], 0, "the one frame with an allocation");
	/* (frame 5 right after frame 1 comes after missing frames: not ranked) */
	cr_expect(f->rows[1].flags & GM_FRAMES_ROW_GAP);
	cr_expect_eq(top[1], 2, "ties: earlier rows first");
	cr_expect_eq(top[2], 3);
	cr_assert_eq(gm_frames_rate(f, &rt), 0);
	cr_expect_eq(rt.seconds, 4, "runs of seconds 1, 0, 1, 0 are four buckets");
	cr_expect_eq(rt.max, 1);
	cr_expect_eq(rt.min, 0);
	cr_expect_eq(gm_frames_percentiles(f, gm_frames_metric_frame_ns, p), 0);
	cr_expect_eq(p[0], 1100000000, "p50 of 1.1 s, 1.1 s, 0, 2.3 s (frame 5's 0 left out)");
	gm_frames_free(f);
	evs_free(&l);
}

Test(frames, statistics_of_degenerate_captures)
{
	evs_t l = {0};
	gm_frames_tick_bin_t *bins;
	gm_frames_rate_t rt;
	gm_frames_t *f;
	double mean, max;
	uint64_t p[4];
	size_t n, top[1];

	/* no rows */
	f = model_of(&l, NULL, 1e9, 0);
	cr_expect_eq(gm_frames_percentiles(f, gm_frames_metric_frame_ns, p), -ENOENT);
	cr_expect_eq(gm_frames_rate(f, &rt), -ENOENT);
	cr_expect_eq(gm_frames_top(f, gm_frames_metric_frame_ns, 1, top), 0);
	cr_expect_eq(gm_frames_tick_histogram(f, &bins, &n), 0);
	cr_expect_null(bins);
	cr_expect_eq(n, 0);
	cr_expect_eq(gm_frames_per_tick(f, &mean, &max), -ENOENT, "no ticks at all");
	gm_frames_free(f);

	/* a capture that starts with its only mark: no time, no rate */
	e_frame(&l, 1000, 1);
	f = model_of(&l, NULL, 1e9, 1);
	cr_assert_eq(gm_frames_rate(f, &rt), 0);
	cr_expect_eq(rt.allocations_per_s, 0);
	cr_expect_eq(rt.seconds, 1);
	gm_frames_free(f);
	evs_free(&l);

	/* every frame lasts 1 us: frame time never varies */
	e_alloc(&l, 0, 0, 0x10, 8);
	e_frame(&l, 1000, 1);
	e_alloc(&l, 1500, 0, 0x20, 8);
	e_frame(&l, 2000, 2);
	e_frame(&l, 3000, 3);
	f = model_of(&l, NULL, 1e9, 1);
	cr_expect(isnan(gm_frames_pearson(f, gm_frames_metric_allocations)), "frame time is flat");
	gm_frames_free(f);
	evs_free(&l);

	/* one tick in an events-level frame: no interval between ticks, and
	 * exact frames are not used for the frames method */
	e_alloc(&l, 10, 0, 0x10, 8);
	ev(&l, 20, 0, gm_rec_sim_tick, 0, 1, 0, NULL, 0);
	e_frame(&l, 100, 1);
	f = model_of(&l, NULL, 1e9, 1);
	cr_expect_eq(f->rows[0].ticks, 1);
	cr_expect_eq(gm_frames_per_tick(f, &mean, &max), -ENOENT);
	gm_frames_free(f);
	evs_free(&l);

	/* frames level: frames with ticks count, the per-frame ratio below the max is kept */
	ev(&l, 10, 0, gm_rec_sim_tick, 0, 1, 0, NULL, 0);
	e_frame(&l, 100, 1);
	e_sum(&l, 100, 1, 1, 8, 0, 0, GM_FRAME_FLAG_FRAMES_LEVEL);
	ev(&l, 110, 0, gm_rec_sim_tick, 0, 2, 0, NULL, 0);
	ev(&l, 120, 0, gm_rec_sim_tick, 0, 3, 0, NULL, 0);
	e_frame(&l, 200, 2);
	e_sum(&l, 200, 2, 1, 2, 0, 0, GM_FRAME_FLAG_FRAMES_LEVEL);
	f = model_of(&l, NULL, 1e9, 1);
	cr_assert_eq(gm_frames_per_tick(f, &mean, &max), 0, "frames method");
	cr_expect_eq(mean, 10.0 / 3);
	cr_expect_eq(max, 8.0);
	gm_frames_free(f);
	evs_free(&l);
}

/* Everything the model allocates for: thread names, tag, asset and set
 * names, contexts on thread 40, 70 frames (rows grow past 64), the
 * per-thread split, spikes with sizes, owners and threads, a change to the
 * frames level, a set known only by its frames. */
static void everything(evs_t *l)
{
	uint64_t ns = 10, fr, ptr = 0x1000;
	int i;

	ev_str(l, ns++, 0, gm_rec_thread_start, 1, 4, "main", 4);
	ev_str(l, ns++, 0, gm_rec_tag_def, 3, 2, "fx", 2);
	ev_str(l, ns++, 0, gm_rec_asset_new, 2, 3 | 3 << 16, "mapbin", 6);
	ev_str(l, ns++, 0, gm_rec_frame_set, 1, 7, "physics", 7);
	e_ctx(l, ns++, 0, 2, 3);
	e_ctx(l, ns++, 40, 0, 1);
	for (fr = 1; fr <= 70; fr++) {
		if (fr == 60)
			ev(l, ns++, 0, gm_rec_level, 0, gm_level_frames, 0, NULL, 0);
		for (i = 0; i < 3 && fr < 60; i++, ptr += 0x100) {
			e_alloc(l, ns++, 0, ptr, 16u << i);
			e_alloc(l, ns++, 40, ptr + 0x10, 24);
		}
		ev(l, ns++, 0, gm_rec_sim_tick, 0, fr, 0, NULL, 0);
		ev(l, ns++, 0, gm_rec_frame, 1, fr, 0, NULL, 0);
		ev(l, ns++, 0, gm_rec_frame, 2, fr, 0, NULL, 0);
		e_frame(l, ns++, fr);
		e_ft(l, ns, fr, 0, 3);
		e_ft(l, ns, fr, 40, 3);
		e_sum(l, ns, fr, 2, 6, 0, 100, fr < 60 ? 0 : GM_FRAME_FLAG_FRAMES_LEVEL);
		if (fr % 10 == 0)
			e_spike(l, ns, fr);
		ns++;
	}
}

typedef struct oom_case {
	evs_t l;
	gm_frames_opts_t opts;
} oom_case_t;

static int oom_frames(long n, void *arg)
{
	const oom_case_t *c = arg;
	gm_frames_tick_bin_t *bins = NULL;
	gm_frames_rate_t rt;
	gm_frames_t *f = gm_frames_new(&c->opts, 1e9, 41);
	uint64_t p[4];
	size_t i, nb, top[5];
	int rc = 0;

	if (!f)
		return 1;
	for (i = 0; i < c->l.n && rc == 0; i++)
		rc = gm_frames_add(f, &c->l.e[i]);
	if (rc < 0) {
		cr_assert_eq(rc, -ENOMEM, "allocation %ld", n);
		cr_assert_eq(gm_frames_add(f, &c->l.e[0]), -ENOMEM, "refuses events after");
		gm_frames_free(f);
		return 1;
	}
	rc = gm_frames_finish(f);
	if (rc < 0) {
		cr_assert_eq(rc, -ENOMEM, "allocation %ld", n);
		gm_frames_free(f);
		return 1;
	}
	cr_assert_eq(f->nrows, 70, "allocation %ld: a whole model", n);
	cr_assert_eq(f->nspikes, 7);
	cr_assert_eq(f->nsets, 2);
	cr_assert_str_eq(f->thread_names[0], "main");
	/* the statistics that allocate */
	if (gm_frames_percentiles(f, gm_frames_metric_frame_ns, p) < 0 ||
	    gm_frames_top(f, gm_frames_metric_frame_ns, 5, top) < 0 || gm_frames_rate(f, &rt) < 0 ||
	    gm_frames_tick_histogram(f, &bins, &nb) < 0)
		rc = -ENOMEM;
	else
		cr_assert_eq(nb, 1, "one tick in every frame");
	free(bins);
	gm_frames_free(f);
	return rc != 0;
}

Test(frames, out_of_memory_anywhere_is_reported_and_refuses_more)
{
	oom_case_t c;
	long runs;

	memset(&c, 0, sizeof(c));
	c.opts.keep_threads = 1;
	c.opts.from = 1;
	c.opts.to = 100;
	everything(&c.l);
	runs = gm_failalloc_each(oom_frames, &c, 100000);
	cr_expect_gt(runs, 20, "the model allocates (%ld failing runs)", runs);
	evs_free(&c.l);
}

Test(frames, spikes_past_4096_keep_their_values_only)
{
	evs_t l = {0};
	gm_frames_t *f;
	uint64_t i;

	e_alloc(&l, 10, 0, 0x10, 8);
	e_frame(&l, 100, 1);
	for (i = 0; i <= GM_FRAMES_SPIKE_DETAIL; i++)
		e_spike(&l, 100, 1);
	f = model_of(&l, NULL, 1e9, 1);
	cr_assert_eq(f->nspikes, GM_FRAMES_SPIKE_DETAIL + 1);
	cr_expect(f->spikes[GM_FRAMES_SPIKE_DETAIL - 1].detail);
	cr_expect_eq(f->spikes[GM_FRAMES_SPIKE_DETAIL - 1].class_count, 1);
	cr_expect_not(f->spikes[GM_FRAMES_SPIKE_DETAIL].detail, "spike 4097: values only");
	cr_expect_eq(f->spikes[GM_FRAMES_SPIKE_DETAIL].class_count, 0);
	cr_expect_eq(f->spikes[GM_FRAMES_SPIKE_DETAIL].allocations, 1);
	cr_expect_eq(f->nclasses, GM_FRAMES_SPIKE_DETAIL, "one size class per detailed spike");
	gm_frames_free(f);
	evs_free(&l);
}
