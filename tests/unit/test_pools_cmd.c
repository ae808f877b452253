/* test_pools_cmd.c - `gmtrace pools` (analysis/cmd/pools.c) on synthetic captures
 *
 * The command runs in the test process (gm_cmd_pools) with its stdout and
 * stderr in files; each test checks the exit status, the lines a game
 * developer reads and the one-line errors. Captures are written as in
 * test_pools.c: a process record at 1 GHz with TSC = ns, so allocator ticks
 * are nanoseconds; each record moves time by 10 ns.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/cmd/cmd.h"
#include "analysis/log/reader.h"
#include "analysis/model/pools.h"
#include "cmdrun.h"
#include "failalloc.h"

/* ---- capture builder ---------------------------------------------------- */

#include "pools_capture.h"

static void cmd_setup(void)
{
	caps_setup("gm_test_pools_cmd");
}

static void cmd_teardown(void)
{
	caps_teardown();
}

TestSuite(pools_cmd, .init = cmd_setup, .fini = cmd_teardown);

/* ---- running the command ------------------------------------------------- */

/* Runs gmtrace pools ARGS (NULL-terminated) with stdout in out (or in
 * stdout_path, e.g. /dev/full) and stderr in err; returns the exit status. */
static int run_to(const char *stdout_path, const char *arg0, ...)
{
	const char *args[24];
	int n = 0;
	const char *a;
	va_list ap;

	va_start(ap, arg0);
	for (a = arg0; a; a = va_arg(ap, const char *)) {
		cr_assert_lt(n, 23);
		args[n++] = a;
	}
	va_end(ap);
	return gm_test_cmd(gm_cmd_pools, "pools", tmpdir, stdout_path, n, args);
}

#define run(...) run_to(NULL, __VA_ARGS__, (const char *)NULL)

#define expect_in(text, s) \
	cr_expect(strstr((text), (s)) != NULL, "missing '%s' in:\n%s", (s), (text))

/* ---- captures ------------------------------------------------------------- */

/* An events-level game over 12 frames (see each test for what it shows):
 * "ships" (pool 1, 16-byte objects, capacity 10, resized to 20 in frame 4
 * and 30 in frame 8) overflows once per frame; pool 7 is used without a
 * pool_def; "late" is created after the last frame. Tag 5 "fx" allocates
 * 0 and 1 bytes per frame, tag 9 (never named) 24 bytes every other frame,
 * all freed at once. The GC runs once per frame (1 us), frame 3 has a
 * spike. Allocations of <= 16 B cost 100 ns. */
static const char *cap_game(const char *name, int nthreads)
{
	words_t r[2] = {{0}, {0}};
	uint64_t calls[8] = {0}, ticks[8] = {0}, f, ptr = 0x10000;

	r_process(&r[0]);
	r_tag_def(&r[0], 5, "fx");
	calls[4] = 4;
	ticks[4] = 400;
	r_cost(&r[0], calls, ticks, 8);
	r_pool_def(&r[0], 1, "ships", 16, 10);
	for (f = 1; f <= 12; f++) {
		r_gc(&r[0], 0, 1000, 3, 0);
		r_pool_frame(&r[0], f, 1, 3, 2, 3, 2, 1, 2);
		r_pool_frame(&r[0], f, 7, 1, 1, 0, 0, 1, 1);
		if (f == 4)
			head(&r[0], gm_rec_w0(1, gm_rec_pool_resize, 0), 20);
		if (f == 8)
			head(&r[0], gm_rec_w0(1, gm_rec_pool_resize, 0), 30);
		r_context(&r[0], 5);
		r_alloc(&r[0], ptr, 0);
		r_alloc(&r[0], ptr + 0x10, 1);
		r_free(&r[0], ptr);
		r_free(&r[0], ptr + 0x10);
		if (f % 2 == 0) {
			r_context(&r[0], 9);
			r_alloc(&r[0], ptr + 0x20, 24);
			r_free(&r[0], ptr + 0x20);
		}
		ptr += 0x100;
		r_frame(&r[0], f);
		if (f == 3)
			r_spike(&r[0], 3);
	}
	r_pool_def(&r[0], 3, "late", 8, 4);
	if (nthreads > 1) {
		r[1].tsc = r[0].tsc;
		r_alloc(&r[1], 0x99000, 64);
	}
	return cap_write(name, r, nthreads);
}

/* A frames-level capture: frame_sum records only (frames frames, allocs
 * allocations and ticks ns of allocator time per frame), no pool. */
static const char *cap_frames_t(const char *name, int frames, uint64_t allocs, uint64_t ticks)
{
	words_t r = {0};
	int f;

	r_process(&r);
	for (f = 1; f <= frames; f++) {
		r_frame_sum(&r, (uint64_t)f, allocs, ticks);
		r_frame(&r, (uint64_t)f);
	}
	return cap_write(name, &r, 1);
}

/* The same with 50 ns of allocator time per frame. */
static const char *cap_frames(const char *name, int frames, uint64_t allocs)
{
	return cap_frames_t(name, frames, allocs, 50);
}

/* Cuts the last 8 bytes of a capture: its last block is damaged. */

/* ---- usage ------------------------------------------------------------------ */

Test(pools_cmd, bad_arguments_say_what_is_wrong)
{
	static const struct {
		const char *args[4];
		const char *msg;
	} cases[] = {
	        {{"--percentile", "9.9.9", "x.gmt"}, "--percentile takes a number in (0, 100]"},
	        {{"--percentile", "5x", "x.gmt"}, "--percentile takes a number in (0, 100]"},
	        {{"--percentile", "123456789", "x.gmt"}, "--percentile takes a number in (0, 100]"},
	        {{"--percentile", ".", "x.gmt"}, "--percentile takes a number in (0, 100]"},
	        {{"x.gmt", "--percentile"}, "--percentile takes a number in (0, 100]"},
	        {{"x.gmt", "--table"}, "--table takes one of: pools pool_frames"},
	        {{"x.gmt", "--headroom"}, "--headroom takes a percentage 0..100000"},
	        {{"--headroom", "100000.001", "x.gmt"}, "--headroom takes a percentage 0..100000"},
	        {{"x.gmt", "--candidates"}, "--candidates takes a number 0..100000"},
	        {{"--candidates", "100001", "x.gmt"}, "--candidates takes a number 0..100000"},
	        {{"x.gmt", "--churn-frames"}, "--churn-frames takes a number 1..1000000"},
	        {{"--churn-frames", "x", "x.gmt"}, "--churn-frames takes a number 1..1000000"},
	        {{"--churn-frames", "1000001", "x.gmt"},
	         "--churn-frames takes a number 1..1000000"},
	        {{"--compare", "a", "b", "--compare"}, "--compare takes two captures, A and B"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = run_to(NULL, cases[i].args[0], cases[i].args[1], cases[i].args[2],
		                cases[i].args[3], (const char *)NULL);

		gm_test_expect_usage(rc, "pools", cases[i].msg, i);
	}
	cr_expect_eq(run("--compare", "a", "b", "--compare", "c", "d"), GM_CMD_USAGE);
	expect_in(gm_test_err, "--compare takes two captures");
	cr_expect_eq(run("-h"), GM_CMD_OK);
	cr_expect_eq(strncmp(gm_test_out, "usage: gmtrace pools", 20), 0, "%s", gm_test_out);
	cr_expect_eq(run("--percentile", "99.999", "--headroom", "0", "-"), GM_CMD_FAIL,
	             "'-' is a capture name, and there is none");
	cr_expect_eq(strncmp(gm_test_err, "gmtrace: ", 9), 0, "%s", gm_test_err);
}

/* ---- one capture --------------------------------------------------------------- */

Test(pools_cmd, text_report_of_pools_candidates_and_gc)
{
	const char *path = cap_game("game.gmt", 1);

	cr_assert_eq(run(path), GM_CMD_OK, "%s", gm_test_err);
	expect_in(gm_test_out, "allocator cost: 4 timed allocations (latest alloc_cost record)\n");
	expect_in(gm_test_out,
	          "pool 1 \"ships\": 16-byte objects, capacity 30 (created with 10; resized "
	          "to 20 in frame 4, to 30 in frame 8)\n");
	expect_in(gm_test_out, "  frames       1..12 (12 frames, used in 12)\n");
	expect_in(gm_test_out, "  hit rate     66.7% (24 of 36 acquires served by the pool)\n");
	expect_in(gm_test_out,
	          "  overflows    12 in 12 frames: 1.00 per frame, 100.0% of frames, ");
	expect_in(gm_test_out, " per second\n");
	expect_in(gm_test_out,
	          "  avoided      24 allocations, 2.4 us of allocator time (100.0 ns per "
	          "allocation of <= 16 B)\n");
	expect_in(gm_test_out,
	          "  flag         overflows_every_frame: overflows in 12 of the 12 frames");
	expect_in(gm_test_out, "pool 7 \"(pool 7)\": 0-byte objects, capacity 0\n");
	expect_in(gm_test_out, "  utilization  mean -, peak - of capacity\n");
	expect_in(gm_test_out,
	          "; allocator time: no measurement (no timed allocation of <= 1 B)\n");
	expect_in(gm_test_out, "pool 3 \"late\": 8-byte objects, capacity 4\n"
	                       "  no whole frame of its life in the capture\n");
	expect_in(gm_test_out, "within 3 frames), ranked");
	expect_in(gm_test_out, "fx                       0-byte blocks");
	expect_in(gm_test_out, "fx                       blocks of 0..1 bytes");
	expect_in(gm_test_out, "#9                       24-byte blocks                      0.5");
	expect_in(gm_test_out,
	          "garbage collector: 12 runs, 12.0 us in total (longest 1.0 us), in 12 "
	          "frames; 1 of them spike frames\n");
	expect_in(gm_test_out, "  frames with GC (first 10): frame, runs, pause, spike\n");
	expect_in(gm_test_out, "           3    1       1.0 us  spike\n");
	expect_in(gm_test_out, "          10    1       1.0 us\n");
	cr_expect_null(strstr(gm_test_out, "          11    1"), "only the first 10 GC frames");
	cr_expect_eq(run("--churn-frames", "1", path), GM_CMD_OK);
	expect_in(gm_test_out, "within 1 frame), ranked");
}

Test(pools_cmd, text_report_without_pools_events_or_cost)
{
	const char *frames = cap_frames("frames.gmt", 2, 10);
	words_t r = {0};
	const char *kept;

	cr_assert_eq(run(frames), GM_CMD_OK, "%s", gm_test_err);
	expect_in(gm_test_out,
	          "allocator cost: no alloc_cost record (times saved are not known)\n");
	expect_in(gm_test_out, "pools: none declared (gmtrace_pool_create)\n");
	expect_in(gm_test_out,
	          "  none looked for: the capture has no allocation events (frames level);");
	expect_in(gm_test_out, "garbage collector: no run recorded\n");
	/* events level, but every block is kept: no candidate */
	r_process(&r);
	r_alloc(&r, 0x10, 32);
	r_frame(&r, 1);
	kept = cap_write("kept.gmt", &r, 1);
	cr_assert_eq(run(kept), GM_CMD_OK, "%s", gm_test_err);
	expect_in(gm_test_out, "  none: no group of allocations is short-lived\n");
	/* events level, and no allocation at all: looked for, none (it said
	 * "frames level" and to record at the events level) */
	memset(&r, 0, sizeof(r));
	r_process(&r);
	r_frame(&r, 1);
	r_frame(&r, 2);
	kept = cap_write("none.gmt", &r, 1);
	cr_assert_eq(run(kept), GM_CMD_OK, "%s", gm_test_err);
	expect_in(gm_test_out, "pool candidates\n  none: the capture has no allocation\n");
	cr_assert_eq(run("--json", kept), GM_CMD_OK, "%s", gm_test_err);
	expect_in(gm_test_out,
	          "\"available\": true,\n    \"note\": \"no allocation in the capture\"");
}

Test(pools_cmd, csv_tables_and_json)
{
	const char *path = cap_game("game.gmt", 1);

	cr_assert_eq(run("--csv", "--table", "pool_frames", path), GM_CMD_OK, "%s", gm_test_err);
	cr_expect_eq(strncmp(gm_test_out, "pool,frame,capacity,", 20), 0, "only that table: %.80s",
	             gm_test_out);
	cr_expect_null(strstr(gm_test_out, "# "), "no table names with --table");
	expect_in(gm_test_out, "\n1,4,20,3,2,1,3,2,1,2\n");
	expect_in(gm_test_out, "\n7,1,0,1,1,0,0,0,1,1\n");
	cr_assert_eq(run("--csv", "--table", "pools", path), GM_CMD_OK, "%s", gm_test_err);
	/* ships: cost class 16 B at 100 ns, 24 served -> 2400 ns */
	expect_in(gm_test_out, ",24,16,100,2400,");
	expect_in(gm_test_out, "\n7,(pool 7),0,0,0,0,1,12,12,");
	cr_assert_eq(run("--csv", "--table", "compare", path), GM_CMD_OK);
	cr_expect_str_eq(gm_test_out, "", "no compare table for one capture");
	cr_assert_eq(run("--json", path), GM_CMD_OK, "%s", gm_test_err);
	expect_in(gm_test_out, "\"name\": null,");
	expect_in(gm_test_out, "\"created_frame\": null,");
	expect_in(gm_test_out, "\"name\": \"late\"");
	expect_in(gm_test_out, "\"frames\": 0,");
	expect_in(gm_test_out, "\"in_use_mean\": null,");
	expect_in(gm_test_out, "\"overflows_per_frame\": null,");
	expect_in(gm_test_out, "\"idle_bytes_mean\": null,");
	expect_in(gm_test_out, "\"hit_rate\": null,");
}

Test(pools_cmd, a_damaged_capture_is_reported_after_the_report)
{
	const char *path = cap_game("damaged.gmt", 2);

	gm_test_damage(path);
	cr_expect_eq(run(path), GM_CMD_FAIL);
	expect_in(gm_test_out, "\ndamaged   ");
	expect_in(gm_test_out, "pool 1 \"ships\"");
	cr_expect_eq(strncmp(gm_test_err, "gmtrace: ", 9), 0, "%s", gm_test_err);
	cr_expect_eq(run("--compare", path, path), GM_CMD_FAIL);
	expect_in(gm_test_out, "\ndamaged   ");
	cr_expect_eq(strncmp(gm_test_err, "gmtrace: ", 9), 0, "%s", gm_test_err);
}

Test(pools_cmd, a_full_disk_is_one_clear_error)
{
	const char *path = cap_frames("frames.gmt", 2, 10);

	cr_expect_eq(run_to("/dev/full", path, (const char *)NULL), GM_CMD_FAIL);
	cr_expect_str_eq(gm_test_err, "gmtrace: pools: cannot write the report\n");
	cr_expect_eq(run_to("/dev/full", "--compare", path, path, (const char *)NULL), GM_CMD_FAIL);
	cr_expect_str_eq(gm_test_err, "gmtrace: pools: cannot write the report\n");
	cr_expect_eq(run_to("/dev/full", "--json", path, (const char *)NULL), GM_CMD_FAIL);
	cr_expect_str_eq(gm_test_err, "gmtrace: pools: cannot write the report\n");
	cr_expect_eq(run_to("/dev/full", "--json", "--compare", path, path, (const char *)NULL),
	             GM_CMD_FAIL);
	cr_expect_str_eq(gm_test_err, "gmtrace: pools: cannot write the report\n");
}

/* ---- --compare -------------------------------------------------------------------- */

Test(pools_cmd, compare_with_more_allocations_in_b_or_no_frames)
{
	/* A: 2 frames of 10 allocations; B: 3 frames of 14; both 50 ns per frame */
	const char *a = cap_frames("a.gmt", 2, 10), *b = cap_frames("b.gmt", 3, 14);
	const char *none = cap_frames("none.gmt", 0, 0);

	cr_assert_eq(run("--compare", a, b), GM_CMD_OK, "%s", gm_test_err);
	expect_in(gm_test_out, "allocations per frame                      10               14\n");
	expect_in(gm_test_out,
	          "B makes 4 more allocations per frame and saves 0.0 ns of allocator time per "
	          "frame\n");
	cr_assert_eq(run("--json", "--compare", a, b), GM_CMD_OK, "%s", gm_test_err);
	expect_in(gm_test_out, "\"avoided_allocations\": null,");
	expect_in(gm_test_out, "\"avoided_allocations_per_frame\": -4,");
	/* B: 2 frames of 4 allocations taking 2.05 us each */
	cr_assert_eq(run("--compare", a, cap_frames_t("slow.gmt", 2, 4, 2050)), GM_CMD_OK, "%s",
	             gm_test_err);
	expect_in(gm_test_out,
	          "B avoids 6 allocations per frame and spends 2.0 us more of allocator time per "
	          "frame\n");
	cr_assert_eq(run("--compare", a, none), GM_CMD_OK, "%s", gm_test_err);
	expect_in(gm_test_out, "allocator time per frame              50.0 ns                -\n");
	expect_in(gm_test_out, "no frames to compare (frame_sum records) in A or B\n");
	cr_assert_eq(run("--csv", "--compare", a, none), GM_CMD_OK, "%s", gm_test_err);
	expect_in(gm_test_out, "\nB,");
	expect_in(gm_test_out, ",0,0,,0,,0,0,,0,0\n");
	cr_assert_eq(run("--csv", "--table", "pools", "--compare", a, b), GM_CMD_OK);
	cr_expect_str_eq(gm_test_out, "", "the compare table only");
	cr_expect_eq(run("--compare", a, "missing.gmt"), GM_CMD_FAIL);
	cr_expect_eq(strncmp(gm_test_err, "gmtrace: ", 9), 0, "%s", gm_test_err);
}

/* ---- out of memory -------------------------------------------------------------- */

typedef struct oom_case {
	const char *args[6];
	const char *want; /* in stdout when nothing failed */
} oom_case_t;

static int oom_run(long n, void *arg)
{
	const oom_case_t *c = arg;
	int rc = run_to(NULL, c->args[0], c->args[1], c->args[2], c->args[3], c->args[4],
	                (const char *)NULL);

	return gm_test_oom_outcome(n, rc, c->want);
}

Test(pools_cmd, out_of_memory_anywhere_is_one_error_line)
{
	oom_case_t c = {{NULL}, NULL};
	long runs;

	c.args[0] = "--json";
	c.args[1] = cap_game("game.gmt", 1);
	c.want = "\"name\": \"ships\"";
	runs = gm_failalloc_each(oom_run, &c, 10000);
	cr_expect_gt(runs, 10, "json report (%ld failing runs)", runs);
	c.args[0] = "--compare";
	c.args[1] = cap_frames("a.gmt", 2, 10);
	c.args[2] = cap_frames("b.gmt", 3, 14);
	c.want = "B makes";
	runs = gm_failalloc_each(oom_run, &c, 10000);
	cr_expect_gt(runs, 4, "compare (%ld failing runs)", runs);
}
