/* test_frames_cmd.c - `gmtrace frames` (analysis/cmd/frames.c) on synthetic captures
 *
 * The command runs in the test process (gm_cmd_frames) with its stdout and
 * stderr in files; each test checks the exit status, the lines a game
 * developer reads and the one-line errors. Captures are written as in
 * test_frames.c: a process record at 1 GHz with TSC = ns.
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
#include "analysis/model/frames.h"
#include "cmdrun.h"
#include "failalloc.h"

/* ---- capture builder ---------------------------------------------------- */

#include "frames_capture.h"

static void cmd_setup(void)
{
	caps_setup("gm_test_frames_cmd");
}

static void cmd_teardown(void)
{
	caps_teardown();
}

TestSuite(frames_cmd, .init = cmd_setup, .fini = cmd_teardown);

/* A record with a string after fixed words: b = its length. */
static void r_str(words_t *r, uint64_t tsc, unsigned type, uint64_t a, uint64_t b, const char *s,
                  size_t len)
{
	uint64_t w[8] = {0};
	size_t i, units = (len + 15) / 16;

	cr_assert_leq(len, sizeof(w));
	memcpy(w, s, len);
	head(r, tsc, gm_rec_w0(a, type, (unsigned)units), b);
	for (i = 0; i < units * 2; i++)
		put(r, w[i]);
}

static void r_context(words_t *r, uint64_t tsc, uint64_t asset, uint64_t tag)
{
	head(r, tsc, gm_rec_w0(asset, gm_rec_context, 0), tag);
}

/* ---- running the command ------------------------------------------------- */

/* Runs gmtrace frames ARGS (NULL-terminated) with stdout in out (or in
 * stdout_path, e.g. /dev/full) and stderr in err; returns the exit status. */
static int run_v(const char *stdout_path, int n, const char *const *args)
{
	return gm_test_cmd(gm_cmd_frames, "frames", tmpdir, stdout_path, n, args);
}

#define run(...) run_v(NULL, 32, (const char *const[]){__VA_ARGS__, NULL})
#define run_full(...) run_v("/dev/full", 32, (const char *const[]){__VA_ARGS__, NULL})

#define expect_in(text, s) \
	cr_expect(strstr((text), (s)) != NULL, "missing '%s' in:\n%s", (s), (text))

/* ---- captures ------------------------------------------------------------- */

#define MS 1000000ull

/* Two threads, three frames (ends at 2, 7 and 16 ms after the start):
 * frame 1 (events level, marker): thread 0 "main" allocates 100 B under
 * asset 3 and tag 7 "fx", 50 B with no tag; thread 1 (no name) 30 B.
 * Spike: bytes and allocator time. Frame 2 (SDL_GL_SwapWindow) allocates
 * nothing; spike: allocator time only. A spike names frame 9, which has no
 * row. Then the frames level: frame 3 (marker) has two ticks and 6
 * allocations (thread 0 freed 64 B). */
static const char *cap_game(const char *name)
{
	words_t t[2] = {{0}, {0}};
	uint64_t s = 1000;

	t[1].thread = 1;
	r_process(&t[0], s);
	r_str(&t[0], s, gm_rec_thread_start, 4242, 4, "main", 4);
	r_str(&t[0], s, gm_rec_tag_def, 7, 2, "fx", 2);
	r_context(&t[0], s + 10, 3, 7);
	r_alloc(&t[0], s + 20, 0x100, 100);
	r_context(&t[0], s + 30, 0, 0);
	r_alloc(&t[0], s + 40, 0x200, 50);
	r_alloc(&t[1], s + 50, 0x300, 30);
	r_frame(&t[0], s + 2 * MS, 1, 0, gm_present_marker);
	r_frame_thread(&t[0], s + 2 * MS, 1, 0, 2, 0, 150, 0, 0);
	r_frame_thread(&t[0], s + 2 * MS, 1, 1, 1, 0, 30, 0, 0);
	r_frame_sum(&t[0], s + 2 * MS, 1, 2, 3, 0, 180, 0, 0, 0, 4000, 0);
	head(&t[0], s + 2 * MS, gm_rec_w0(1, gm_rec_spike, 3),
	     GM_SPIKE_BYTES | GM_SPIKE_ALLOC_TIME);
	put(&t[0], 3);
	put(&t[0], 10);
	put(&t[0], 180);
	put(&t[0], 100);
	put(&t[0], 4000);
	put(&t[0], 1000);
	r_frame(&t[0], s + 7 * MS, 2, 0, gm_present_sdl2_gl);
	r_frame_sum(&t[0], s + 7 * MS, 2, 0, 0, 0, 0, 0, 0, 0, 3000, GM_FRAME_FLAG_AUTO);
	head(&t[0], s + 7 * MS, gm_rec_w0(2, gm_rec_spike, 3), GM_SPIKE_ALLOC_TIME);
	put(&t[0], 0);
	put(&t[0], 10);
	put(&t[0], 0);
	put(&t[0], 100);
	put(&t[0], 3000);
	put(&t[0], 1000);
	r_spike(&t[0], s + 7 * MS, 9, GM_SPIKE_ALLOCATIONS, 20, 10);
	r_level(&t[0], s + 8 * MS, gm_level_frames);
	r_tick(&t[0], s + 9 * MS, 1);
	r_tick(&t[0], s + 10 * MS, 2);
	r_frame(&t[0], s + 16 * MS, 3, 0, gm_present_marker);
	r_frame_thread(&t[0], s + 16 * MS, 3, 0, 6, 1, 600, 64, 0);
	r_frame_sum(&t[0], s + 16 * MS, 3, 1, 6, 1, 600, 64, 0, 0, 0, GM_FRAME_FLAG_FRAMES_LEVEL);
	return write_capture(name, t, 2);
}

/* ---- usage ------------------------------------------------------------------ */

Test(frames_cmd, bad_arguments_say_what_is_wrong)
{
	static const struct {
		const char *args[4];
		const char *msg;
	} cases[] = {
	        {{"--budget-ms", "", "x.gmt"}, "--budget-ms takes milliseconds > 0"},
	        {{"--budget-ms", "1e999", "x.gmt"}, "--budget-ms takes milliseconds > 0"},
	        {{"--budget-ms", "inf", "x.gmt"}, "--budget-ms takes milliseconds > 0"},
	        {{"--budget-ms", "16ms", "x.gmt"}, "--budget-ms takes milliseconds > 0"},
	        {{"--budget-ms", "2e9", "x.gmt"}, "--budget-ms takes milliseconds > 0"},
	        {{"x.gmt", "--budget-ms"}, "--budget-ms takes milliseconds > 0"},
	        {{"--alloc-share", "1.5", "x.gmt"}, "--alloc-share takes a number 0..1"},
	        {{"--alloc-share", "-0.5", "x.gmt"}, "--alloc-share takes a number 0..1"},
	        {{"x.gmt", "--alloc-share"}, "--alloc-share takes a number 0..1"},
	        {{"--window", "1000001", "x.gmt"}, "--window takes a number 0..1000000"},
	        {{"x.gmt", "--window"}, "--window takes a number 0..1000000"},
	        {{"--top", "100001", "x.gmt"}, "--top takes a number 0..100000"},
	        {{"x.gmt", "--top"}, "--top takes a number 0..100000"},
	        {{"x.gmt", "--from"}, "--from takes a frame number"},
	        {{"--to", "x", "x.gmt"}, "--to takes a frame number"},
	        {{"x.gmt", "--transition"}, "--transition takes a frame number"},
	        {{"--from", "5", "--to"}, "--to takes a frame number"},
	        {{"--compare", "a.gmt"}, "--compare takes two captures, once"},
	        {{"--compare", "a.gmt", "b.gmt", "--compare"},
	         "--compare takes two captures, once"},
	        {{"--compare", "a.gmt", "b.gmt", "c.gmt"},
	         "--compare A B takes no other capture ('c.gmt')"},
	        {{"--threads", "--compare", "a.gmt", "b.gmt"},
	         "--compare A B takes only --json, --check-growth and --check, not --threads"},
	        {{"--compare", "a.gmt", "b.gmt", "--top=5"},
	         "--compare A B takes only --json, --check-growth and --check, not --top"},
	        {{"--compare", "a.gmt", "--json"}, "--compare takes two captures, once"},
	        {{"--check-growth", "0x5", "x.gmt"}, "--check-growth takes a percent >= 0"},
	        {{"--check-growth", "-0", "x.gmt"}, "--check-growth takes a percent >= 0"},
	        {{"--check-growth", "5", "x.gmt"}, "--check-growth goes with --compare A B"},
	        {{"--check-growth", "%", "x.gmt"}, "--check-growth takes a percent >= 0"},
	        {{"--check-growth", "-2", "x.gmt"}, "--check-growth takes a percent >= 0"},
	        {{"--check-growth", "5%%", "x.gmt"}, "--check-growth takes a percent >= 0"},
	        {{"x.gmt", "--check-growth"}, "--check-growth takes a percent >= 0"},
	};
	const char *many[2 * 65 + 1];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		gm_test_expect_usage(run_v(NULL, 4, cases[i].args), "frames", cases[i].msg, i);
	for (i = 0; i < 65; i++) {
		many[2 * i] = "--transition";
		many[2 * i + 1] = "5";
	}
	many[130] = "x.gmt";
	cr_expect_eq(run_v(NULL, 131, many), GM_CMD_USAGE);
	expect_in(gm_test_err, "gmtrace frames: at most 64 --transition\n");
	cr_expect_eq(run("--from", "5", "--to", "2", "x.gmt"), GM_CMD_USAGE);
	expect_in(gm_test_err, "gmtrace frames: --from 5 is after --to 2\n");
	cr_expect_eq(run("-h"), GM_CMD_OK);
	cr_expect_eq(strncmp(gm_test_out, "usage: gmtrace frames", 21), 0, "%s", gm_test_out);
	cr_expect_eq(run("--help"), GM_CMD_OK);
	cr_expect_eq(run("--alloc-share", "0", "-"), GM_CMD_FAIL, "'-' is a capture name");
	cr_expect_eq(strncmp(gm_test_err, "gmtrace: ", 9), 0, "%s", gm_test_err);
}

/* ---- reports ------------------------------------------------------------------ */

Test(frames_cmd, text_report_of_sources_spikes_owners_and_threads)
{
	const char *path = cap_game("game.gmt");

	cr_assert_eq(run("--threads", path), GM_CMD_OK, "%s", gm_test_err);
	expect_in(gm_test_out,
	          "frames    3 main frames, 2 marked by gmtrace_frame_mark(); 1 found by the "
	          "SDL_GL_SwapWindow present hook\n");
	expect_in(gm_test_out,
	          "level     events (2 frames) and frames (1 frames); events -> frames at "
	          "frame 3\n");
	/* spikes */
	expect_in(gm_test_out,
	          "  frame 1 at +2.00 ms, frame time 2.00 ms: 180 B allocated > limit 100 B; "
	          "4.0 us in the allocator > limit 1.0 us\n");
	expect_in(gm_test_out,
	          "    tags    fx: 1 (100 B), (no tag): 2 (80 B)\n"); /* both threads */
	expect_in(gm_test_out, "    assets  asset 3: 1 (100 B)\n");
	expect_in(gm_test_out,
	          "    threads 0 \"main\": 2 allocations, 150 B; 1: 1 allocations, 30 B\n");
	expect_in(gm_test_out,
	          "  frame 2 at +7.00 ms, frame time 5.00 ms: 3.0 us in the allocator > limit "
	          "1.0 us (0 allocations, 0 B)\n");
	expect_in(gm_test_out, "  frame 9 at +7.00 ms: 20 allocations > limit 10\n");
	/* less allocator time in longer frames: 4, 3, 0 us against 2, 5, 9 ms */
	expect_in(gm_test_out,
	          "  allocator time explains frame time strongly, inversely (r = -0.98)\n");
	/* frames level: allocations of frames with ticks over their ticks */
	expect_in(gm_test_out,
	          "  allocations per tick: mean 3.00, max 3.00 (allocations of frames with "
	          "ticks over their ticks)\n");
	expect_in(gm_test_out, "\ntransition at frame 3 (events -> frames), 30 frames each side\n");
	/* --threads without a range: every frame, each thread's share */
	expect_in(gm_test_out, "\nframes 0..\n");
	expect_in(gm_test_out,
	          "thread 0 \"main\": 6 allocs, 1 frees, 600 B allocated, 64 B freed, 0 ns "
	          "in the allocator\n");
	expect_in(gm_test_out,
	          "thread 1: 1 allocs, 0 frees, 30 B allocated, 0 ns in the allocator\n");
	cr_assert_eq(run("--transition", "100", "--window", "2", path), GM_CMD_OK, "%s",
	             gm_test_err);
	expect_in(gm_test_out, "\ntransition at frame 100, 2 frames each side\n"
	                       "  before: 0 frames, mean 0.0 allocations, live 0 B\n"
	                       "  after:  0 frames, mean 0.0 allocations, live 0 B\n");
}

Test(frames_cmd, json_report_of_spikes_and_ticks)
{
	const char *path = cap_game("game.gmt");

	cr_assert_eq(run("--json", "--threads", path), GM_CMD_OK, "%s", gm_test_err);
	expect_in(gm_test_out, "\"level\": \"mixed\"");
	expect_in(gm_test_out, "\"frame\": 9,\n      \"ns\": ");
	expect_in(gm_test_out, "\"frame_ns\": null,");
	expect_in(gm_test_out,
	          "\"reasons\": [\n        \"bytes\",\n        \"alloc_time\"\n      ]");
	expect_in(gm_test_out, "\"allocations_per_tick_method\": \"frames\"");
	expect_in(gm_test_out, "\"name\": \"main\"");
	expect_in(gm_test_out, "\"strength\": \"strong\"");
}

Test(frames_cmd, frames_level_capture_without_time_and_rows_out_of_order)
{
	words_t t = {0};
	const char *flat, *odd, *rows;
	static const uint64_t order[5] = {1, 4, 5, 2, 6};
	int i;

	/* two frames-level frames at the very start: no time has passed */
	r_process(&t, 1000);
	for (i = 1; i <= 2; i++) {
		r_frame(&t, 1000, (uint64_t)i, 0, gm_present_marker);
		r_frame_sum(&t, 1000, (uint64_t)i, 1, 2, 0, 20, 0, 0, 0, 0,
		            GM_FRAME_FLAG_FRAMES_LEVEL);
	}
	flat = write_capture("flat.gmt", &t, 1);
	cr_assert_eq(run(flat), GM_CMD_OK, "%s", gm_test_err);
	expect_in(gm_test_out, "level     frames (per-frame totals)\n");
	expect_in(gm_test_out, "duration  0 ns, budget 16.67 ms\n");
	cr_assert_eq(run("--json", flat), GM_CMD_OK, "%s", gm_test_err);
	expect_in(gm_test_out, "\"mean_fps\": null,");
	expect_in(gm_test_out, "\"ticks\": null,");

	/* events level, frames numbered 1, 4, 5, 2, 6; one tick (no interval) */
	memset(&t, 0, sizeof(t));
	r_process(&t, 1000);
	r_tick(&t, 1500, 1);
	for (i = 0; i < 5; i++) {
		r_alloc(&t, 2000 + 1000 * (uint64_t)i, 0x100 * (uint64_t)(i + 1), 8);
		r_frame(&t, 2500 + 1000 * (uint64_t)i, order[i], 0, gm_present_marker);
	}
	odd = write_capture("odd.gmt", &t, 1);
	cr_assert_eq(run("--json", "--from", "3", odd), GM_CMD_OK, "%s", gm_test_err);
	expect_in(gm_test_out, "\"allocations_per_tick_method\": null");
	/* the table of frames is the last key: 4, 5 and 6, not 2 */
	for (rows = strstr(gm_test_out, "\"per_frame\": [");
	     rows && strstr(rows + 1, "\"per_frame\": [");)
		rows = strstr(rows + 1, "\"per_frame\": [");
	cr_assert_not_null(rows);
	cr_expect_null(strstr(rows, "\"frame\": 2,"), "frame 2 is before --from 3: %s", rows);
	cr_expect_null(strstr(rows, "\"frame\": 1,"), "frame 1 is before --from 3: %s", rows);
	expect_in(rows, "\"frame\": 4,");
	expect_in(rows, "\"frame\": 5,");
	expect_in(rows, "\"frame\": 6,");
	cr_assert_eq(run("--csv", "--from", "3", odd), GM_CMD_OK, "%s", gm_test_err);
	cr_expect_eq(strncmp(gm_test_out, "frame,start_ns,", 15), 0);
}

/* Frames 1 and 2 lost at the start: the one row (frame 3) follows missing
 * frames, so no row is counted; the reports say so, with no percentiles,
 * and --compare compares the rest (it said "out of memory"). */
Test(frames_cmd, every_row_after_missing_frames)
{
	const char *cap = cap_all_gaps("all_gaps.gmt");

	cr_assert_eq(run(cap), GM_CMD_OK, "%s", gm_test_err);
	expect_in(gm_test_out, "missing   2 frames before frame 3: that frame is left out of the "
	                       "statistics");
	cr_expect_null(strstr(gm_test_out, "percentiles over"), "%s", gm_test_out);
	cr_assert_eq(run("--json", cap), GM_CMD_OK, "%s", gm_test_err);
	expect_in(gm_test_out, "\"frames_after_missing\": 1,");
	expect_in(gm_test_out, "\"after_missing_frames\": true");
	cr_assert_eq(run("--compare", cap, cap), GM_CMD_OK, "%s", gm_test_err);
	cr_expect_null(strstr(gm_test_err, "out of memory"), "%s", gm_test_err);
	/* the frame is counted, and said to follow missing ones */
	expect_in(gm_test_out,
	          "\n    after missing frames                1              1              0");
	cr_assert_eq(run("--json", "--compare", cap, cap), GM_CMD_OK, "%s", gm_test_err);
	expect_in(gm_test_out, "\"name\": \"frames_after_missing\",\n      \"a\": 1,");
}

Test(frames_cmd, a_full_disk_is_one_clear_error)
{
	const char *path = cap_game("game.gmt");

	cr_expect_eq(run_full(path), GM_CMD_FAIL);
	cr_expect_str_eq(gm_test_err, "gmtrace: frames: cannot write the report\n");
	cr_expect_eq(run_full("--json", path), GM_CMD_FAIL);
	cr_expect_str_eq(gm_test_err, "gmtrace: frames: cannot write the report\n");
}

/* ---- --compare A B ------------------------------------------------------------------ */

/* Three frames ending 1, 3 and 6 ms after the start (1 GHz, TSC = ns):
 * frame 1 allocates 100 B, frame 2 200 B and frees frame 1's block,
 * frame 3 50 B; with more, frame 3 also allocates 60 B and a spike
 * record names it. With damaged, a second thread's block is cut short. */
static const char *cap_cmp(const char *name, int more, int damaged)
{
	words_t t[2] = {{0}, {0}};
	uint64_t s = 1000;

	t[1].thread = 1;
	r_process(&t[0], s);
	r_alloc(&t[0], s + 10, 0x100, 100);
	r_frame(&t[0], s + 1 * MS, 1, 0, gm_present_marker);
	r_alloc(&t[0], s + 1 * MS + 10, 0x200, 200);
	head(&t[0], s + 1 * MS + 20, gm_rec_w0(0x100, gm_rec_free, gm_kind_free), 0);
	r_frame(&t[0], s + 3 * MS, 2, 0, gm_present_marker);
	r_alloc(&t[0], s + 3 * MS + 10, 0x300, 50);
	if (more)
		r_alloc(&t[0], s + 3 * MS + 20, 0x400, 60);
	r_frame(&t[0], s + 6 * MS, 3, 0, gm_present_marker);
	if (more)
		r_spike(&t[0], s + 6 * MS, 3, GM_SPIKE_ALLOCATIONS, 2, 1);
	r_alloc(&t[1], s + 7 * MS, 0x500, 8);
	r_alloc(&t[1], s + 7 * MS + 10, 0x600, 8);
	if (damaged)
		gm_test_damage(write_capture(name, t, 2));
	return damaged ? paths[npaths - 1] : write_capture(name, t, 2);
}

/* The text line of a figure (from its label to the line's end). */
static const char *cmp_line(const char *label)
{
	static char line[256];
	const char *p = strstr(gm_test_out, label);
	size_t n;

	cr_assert_not_null(p, "no '%s' in:\n%s", label, gm_test_out);
	n = strcspn(p, "\n");
	cr_assert_lt(n, sizeof(line));
	memcpy(line, p, n);
	line[n] = '\0';
	return line;
}

Test(frames_cmd, compare_gives_each_figure_in_a_and_b_and_checks_memory_growth)
{
	const char *a = cap_cmp("a.gmt", 0, 0), *b = cap_cmp("b.gmt", 1, 0);

	cr_assert_eq(run("--compare", a, b), GM_CMD_OK, "%s", gm_test_err);
	cr_expect_str_eq(gm_test_err, "");
	expect_in(gm_test_out, "compare   ");
	cr_expect_str_eq(cmp_line("frame time p50"),
	                 "frame time p50                  2.00 ms        2.00 ms              0"
	                 "     +0.0%");
	cr_expect_str_eq(cmp_line("allocations/frame p95"),
	                 "allocations/frame p95                 1              2             +1"
	                 "   +100.0%");
	cr_expect_str_eq(cmp_line("bytes/frame p50"),
	                 "bytes/frame p50                   100 B          110 B          +10 B"
	                 "    +10.0%");
	cr_expect_str_eq(cmp_line("peak live bytes"),
	                 "peak live bytes                   300 B          310 B          +10 B"
	                 "     +3.3%");
	cr_expect_str_eq(cmp_line("live bytes at the end"),
	                 "live bytes at the end             250 B          310 B          +60 B"
	                 "    +24.0%");
	cr_expect_str_eq(cmp_line("spikes"),
	                 "spikes                                0              1             +1"
	                 "       new");
	expect_in(gm_test_out, "\n(--check-growth PCT makes a memory figure growing by more than "
	                       "PCT% exit 1)\n");

	/* 5 %: allocations p95, p99, max, bytes p50 and the live bytes at the
	 * end grew past it; the peak (3.3 %) did not */
	cr_assert_eq(run("--check-growth", "5", "--compare", a, b), GM_CMD_FAIL);
	/* the verdict in the log too: stdout may be a JSON file */
	cr_expect_str_eq(gm_test_err,
	                 "gmtrace frames: 5 figures grew by more than 5%: allocations_p95, "
	                 "allocations_p99, allocations_max, allocated_bytes_p50, end_live_bytes\n");
	cr_expect(strstr(cmp_line("live bytes at the end"), "  grew") != NULL);
	cr_expect(strstr(cmp_line("peak live bytes"), "grew") == NULL);
	cr_expect(strstr(cmp_line("spikes"), "grew") == NULL, "spikes are not checked");
	expect_in(gm_test_out, "\ncheck     memory figures growing by more than 5%: 5, failed\n");
	cr_assert_eq(run("--check-growth", "25%", "--compare", a, b), GM_CMD_FAIL, "+100 %%");
	expect_in(gm_test_out, "more than 25%: 3, failed\n");
	cr_assert_eq(run("--check-growth", "100", "--compare", a, b), GM_CMD_OK);
	expect_in(gm_test_out, "more than 100%: none, passed\n");
	cr_assert_eq(run("--check-growth", "0", "--compare", b, a), GM_CMD_OK, "nothing grew");

	cr_assert_eq(run("--json", "--check-growth", "5", "--compare", a, b), GM_CMD_FAIL);
	expect_in(gm_test_out, "\"name\": \"allocations_p95\",\n      \"a\": 1,\n      \"b\": 2,\n"
	                       "      \"change\": 1,\n      \"change_pct\": 100,\n"
	                       "      \"checked\": true,\n      \"grew\": true");
	expect_in(gm_test_out,
	          "\"name\": \"end_live_bytes\",\n      \"a\": 250,\n      \"b\": 310,\n"
	          "      \"change\": 60,\n      \"change_pct\": 24,\n");
	expect_in(gm_test_out, "\"name\": \"spikes\",\n      \"a\": 0,\n      \"b\": 1,\n"
	                       "      \"change\": 1,\n      \"change_pct\": null,\n"
	                       "      \"checked\": false,\n      \"grew\": false");
	expect_in(gm_test_out, "\"check_growth\": 5,\n  \"grew\": 5,\n  \"passed\": false,\n"
	                       "  \"error_a\": null,\n  \"error_b\": null\n}\n");
	cr_assert_eq(run("--json", "--compare", b, a), GM_CMD_OK);
	expect_in(gm_test_out, "\"name\": \"allocations_p95\",\n      \"a\": 2,\n      \"b\": 1,\n"
	                       "      \"change\": -1,\n      \"change_pct\": -50,\n");
	expect_in(gm_test_out, "\"check_growth\": null,\n  \"grew\": 0,\n  \"passed\": null,");
}

/* One frame with one live block of size bytes. */
static const char *cap_one_block(const char *name, uint64_t size)
{
	words_t t[1] = {{0}};
	r_process(&t[0], 1000);
	r_alloc(&t[0], 1010, 0x100, size);
	r_frame(&t[0], 1000 + MS, 1, 0, gm_present_marker);
	return write_capture(name, t, 1);
}

Test(frames_cmd, compare_growth_exactly_at_the_limit_passes)
{
	/* 11000 -> 11077 B is +0.7 % exactly, 375 -> 444 B +18.4 %: "more
	 * than" those passes (in doubles 11000 x 0.7 / 100 is 76.999..., and
	 * the gate failed) */
	const char *a = cap_one_block("a7.gmt", 11000), *b = cap_one_block("b7.gmt", 11077);
	const char *c = cap_one_block("c7.gmt", 375), *d = cap_one_block("d7.gmt", 444);
	cr_expect_eq(run("--check-growth", "0.7", "--check", "peak_live_bytes", "--compare", a, b),
	             GM_CMD_OK, "%s", gm_test_err);
	cr_expect_eq(run("--check-growth", "0.69", "--check", "peak_live_bytes", "--compare", a, b),
	             GM_CMD_FAIL);
	cr_expect_eq(run("--check-growth", "0.7%", "--compare", a, b), GM_CMD_OK, "%s",
	             gm_test_err);
	cr_expect_eq(run("--check-growth", "18.4", "--compare", c, d), GM_CMD_OK, "%s",
	             gm_test_err);
	cr_expect_eq(run("--check-growth", "18.39", "--compare", c, d), GM_CMD_FAIL);
	cr_expect_eq(run("--check-growth", "1000000000", "--compare", c, d), GM_CMD_OK);
}

Test(frames_cmd, compare_says_what_it_cannot_read)
{
	words_t t[1] = {{0}};
	const char *a = cap_cmp("a.gmt", 0, 0), *cut = cap_cmp("cut.gmt", 1, 1), *none;
	char want[512];

	r_process(&t[0], 1000);
	r_alloc(&t[0], 2000, 0x100, 100);
	none = write_capture("none.gmt", t, 1);
	cr_expect_eq(run("--compare", a, none), GM_CMD_FAIL);
	snprintf(want, sizeof(want),
	         "gmtrace: %s: no frame to compare (no frame mark in the capture)\n", none);
	cr_expect_str_eq(gm_test_err, want);
	cr_expect_str_eq(gm_test_out, "");
	cr_expect_eq(run("--compare", "missing.gmt", a), GM_CMD_FAIL);
	cr_expect_eq(strncmp(gm_test_err, "gmtrace: missing.gmt: ", 22), 0, "%s", gm_test_err);

	/* damage after the frames: the report, then the damage, exit 1 */
	cr_expect_eq(run("--compare", a, cut), GM_CMD_FAIL);
	expect_in(gm_test_out, "\ndamaged: ");
	expect_in(cmp_line("frames  "), "3              3");
	cr_expect_eq(strncmp(gm_test_err, "gmtrace: ", 9), 0, "%s", gm_test_err);
	expect_in(gm_test_err, "cut.gmt: offset ");
	cr_expect_eq(run("--json", "--compare", cut, a), GM_CMD_FAIL);
	expect_in(gm_test_out, "\"error_a\": \"");

	cr_expect_eq(run_full("--compare", a, a), GM_CMD_FAIL);
	cr_expect_str_eq(gm_test_err, "gmtrace: frames: cannot write the report\n");
	cr_expect_eq(run_full("--json", "--compare", a, a), GM_CMD_FAIL);
	cr_expect_str_eq(gm_test_err, "gmtrace: frames: cannot write the report\n");
}

/* ---- out of memory -------------------------------------------------------------- */

typedef struct oom_case {
	const char *args[4];
	const char *want; /* in stdout when nothing failed */
} oom_case_t;

static int oom_run(long n, void *arg)
{
	const oom_case_t *c = arg;

	return gm_test_oom_outcome(n, run_v(NULL, 4, c->args), c->want);
}

Test(frames_cmd, out_of_memory_anywhere_is_one_error_line)
{
	oom_case_t c = {{"--threads", NULL, NULL, NULL}, "\ntransition at frame 3"};
	long runs;

	c.args[1] = cap_game("game.gmt");
	runs = gm_failalloc_each(oom_run, &c, 10000);
	cr_expect_gt(runs, 10, "text report (%ld failing runs)", runs);
	c.args[0] = "--json";
	c.want = "\"transitions\"";
	runs = gm_failalloc_each(oom_run, &c, 10000);
	cr_expect_gt(runs, 10, "json report (%ld failing runs)", runs);
}

Test(frames_cmd, out_of_memory_in_a_comparison_is_one_error_line)
{
	oom_case_t c = {{"--compare", NULL, NULL, NULL}, "\n  live bytes at the end "};
	long runs;

	c.args[1] = cap_cmp("a.gmt", 0, 0);
	c.args[2] = cap_cmp("b.gmt", 1, 0);
	runs = gm_failalloc_each(oom_run, &c, 10000);
	cr_expect_gt(runs, 10, "text (%ld failing runs)", runs);
	c.args[0] = "--json";
	c.args[1] = "--compare";
	c.args[2] = cap_cmp("a2.gmt", 0, 0);
	c.args[3] = cap_cmp("b2.gmt", 1, 0);
	c.want = "\"end_live_bytes\"";
	runs = gm_failalloc_each(oom_run, &c, 10000);
	cr_expect_gt(runs, 10, "json (%ld failing runs)", runs);
}
