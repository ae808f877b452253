/* test_trace_cmd.c - `gmtrace trace` and `gmtrace html` (analysis/cmd/trace.c,
 * html.c) on a synthetic capture
 *
 * One capture at 1 GHz (TSC = ns) with three frames, a scene, an asset's
 * load and unload, a garbage-collector run, a budget node with a violation
 * and an eviction, a spike and a level change, each at a known time: the
 * trace must hold each as the Trace Event Format says, one event per line,
 * in microseconds from the first event (1000 ns). Then the options, a
 * damaged capture, a file that cannot be written, and out of memory at
 * every allocation. The HTML page of the same capture: its figures, its
 * sections, names from the capture escaped.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/cmd/cmd.h"
#include "analysis/log/reader.h"
#include "cmdrun.h"
#include "failalloc.h"
#include "frames_capture.h"

static void cmd_setup(void)
{
	caps_setup("gm_test_trace_cmd");
}

static void cmd_teardown(void)
{
	caps_teardown();
}

TestSuite(trace_cmd, .init = cmd_setup, .fini = cmd_teardown);

/* A record whose extra units are the bytes given (padded with zeros). */
static void t_rec(words_t *r, uint64_t tsc, uint64_t a, unsigned type, uint64_t b, const void *data,
                  size_t n)
{
	unsigned char buf[256] = {0};
	size_t units = (n + 15) / 16, k;
	uint64_t w;

	memcpy(buf, data, n);
	head(r, tsc, gm_rec_w0(a, type, (unsigned)units), b);
	for (k = 0; k < units * 2; k++) {
		memcpy(&w, buf + 8 * k, 8);
		put(r, w);
	}
}

static const char *cap_game(const char *name)
{
	words_t r = {0};
	uint64_t gc[2] = {500, 1};                            /* 500 ns, 1 uncollectable */
	uint64_t node[6] = {0xffffffff, 1000, 2000, 0, 0, 0}; /* then "textures" */
	uint64_t viol[6] = {2100, 2000, 300, 0, 0, 0};        /* live, limit, requested */
	uint64_t evict[4] = {gm_budget_over_hard, 200, 400, 0};
	unsigned char nodebuf[64], asset[] = "rock.png\0texture";
	static const unsigned char evil[] = "<b>&\"x'\0texture";

	memcpy(nodebuf, node, sizeof(node));
	memcpy(nodebuf + sizeof(node), "textures", 8);
	r_process(&r, 1000);
	r_level(&r, 1500, gm_level_events); /* each session says its level first */
	r_alloc(&r, 2000, 0x10000, 100);
	r_frame(&r, 11000, 1, 0, gm_present_marker);
	t_rec(&r, 12000, 1, gm_rec_scene, 6, "forest", 6);
	t_rec(&r, 13000, 7, gm_rec_asset_new, 8 | (7u << 16), asset, sizeof(asset) - 1);
	r_alloc(&r, 14000, 0x20000, 200);
	head(&r, 15000, gm_rec_w0(7, gm_rec_asset_state, gm_asset_resident), 0);
	t_rec(&r, 15500, 8, gm_rec_asset_new, 7 | (7u << 16), evil, sizeof(evil) - 1);
	r_frame(&r, 21000, 2, 0, gm_present_marker);
	t_rec(&r, 22000, 2, gm_rec_gc, 5, gc, sizeof(gc));
	t_rec(&r, 23000, 1, gm_rec_budget_node, 8, nodebuf, sizeof(node) + 8);
	t_rec(&r, 23500, 1, gm_rec_budget_violation, gm_budget_over_hard, viol, sizeof(viol));
	t_rec(&r, 24000, 7, gm_rec_budget_evict, 1, evict, sizeof(evict));
	head(&r, 25000, gm_rec_w0(7, gm_rec_asset_state, gm_asset_unloaded), 0);
	r_level(&r, 26000, gm_level_frames);
	r_spike(&r, 30500, 3, GM_SPIKE_ALLOCATIONS | GM_SPIKE_ALLOC_TIME, 9, 4);
	r_frame(&r, 31000, 3, 0, gm_present_marker);
	return write_capture(name, &r, 1);
}

static int run_v(const char *stdout_path, int n, const char *const *args)
{
	return gm_test_cmd(gm_cmd_trace, "trace", tmpdir, stdout_path, n, args);
}

#define run(...) run_v(NULL, 32, (const char *const[]){__VA_ARGS__, NULL})

static int html_v(const char *stdout_path, int n, const char *const *args)
{
	return gm_test_cmd(gm_cmd_html, "html", tmpdir, stdout_path, n, args);
}

#define html(...) html_v(NULL, 32, (const char *const[]){__VA_ARGS__, NULL})

#define expect_in(text, s) \
	cr_expect(strstr((text), (s)) != NULL, "missing '%s' in:\n%s", (s), (text))

static size_t count_of(const char *text, const char *s)
{
	size_t n = 0;
	for (const char *p = strstr(text, s); p; p = strstr(p + 1, s))
		n++;
	return n;
}

Test(trace_cmd, every_kind_of_event_at_its_time)
{
	const char *path = cap_game("game.gmt");
	char want[512];

	cr_assert_eq(run(path), GM_CMD_OK, "%s", gm_test_err);
	cr_expect_str_eq(gm_test_err, "");
	snprintf(want, sizeof(want),
	         "{\"displayTimeUnit\":\"ns\",\"otherData\":{\"capture\":\"%s\","
	         "\"producer\":\"gmtrace trace\",\"frames\":3,\"error\":null}\n"
	         ",\"traceEvents\":[\n"
	         "{\"ph\":\"M\",\"pid\":4242,\"name\":\"process_name\","
	         "\"args\":{\"name\":\"game (pid 4242)\"}}\n",
	         path);
	cr_expect_eq(strncmp(gm_test_out, want, strlen(want)), 0, "%s", gm_test_out);
	expect_in(gm_test_out, ",{\"ph\":\"M\",\"pid\":4242,\"tid\":4,\"name\":\"thread_name\","
	                       "\"args\":{\"name\":\"asset loads\"}}\n");
	/* frames: slices from the first event (1000 ns) to mark 1, then mark to mark */
	expect_in(gm_test_out,
	          ",{\"ph\":\"X\",\"pid\":4242,\"tid\":1,\"name\":\"frame 1\",\"ts\":0,\"dur\":10,"
	          "\"cat\":\"frame\",\"args\":{\"frame\":1,\"allocations\":1,\"frees\":0,"
	          "\"allocated_bytes\":100,\"freed_bytes\":0,\"live_bytes\":100,"
	          "\"peak_live_bytes\":100,\"alloc_ns\":0,\"ticks\":0,"
	          "\"presented_by\":\"marker\",\"level\":\"events\"}}\n");
	expect_in(gm_test_out,
	          ",{\"ph\":\"X\",\"pid\":4242,\"tid\":1,\"name\":\"frame 2\",\"ts\":10,"
	          "\"dur\":10,\"cat\":\"frame\",\"args\":{\"frame\":2,\"allocations\":1,");
	expect_in(gm_test_out, "\"allocated_bytes\":200,\"freed_bytes\":0,\"live_bytes\":300,");
	expect_in(gm_test_out,
	          ",{\"ph\":\"X\",\"pid\":4242,\"tid\":1,\"name\":\"frame 3\",\"ts\":20,"
	          "\"dur\":10,");
	/* counters, one series each (a viewer stacks a counter's series):
	 * per-frame figures and the frame's peak at the frame's start, live
	 * bytes at its end */
	expect_in(gm_test_out, ",{\"ph\":\"C\",\"pid\":4242,\"name\":\"allocations per frame\","
	                       "\"ts\":10,\"args\":{\"allocations\":1}}\n");
	expect_in(gm_test_out, ",{\"ph\":\"C\",\"pid\":4242,\"name\":\"frees per frame\","
	                       "\"ts\":10,\"args\":{\"frees\":0}}\n");
	expect_in(gm_test_out, ",{\"ph\":\"C\",\"pid\":4242,\"name\":\"live bytes\",\"ts\":20,"
	                       "\"args\":{\"live\":300}}\n");
	expect_in(gm_test_out, ",{\"ph\":\"C\",\"pid\":4242,\"name\":\"peak live bytes in the "
	                       "frame\",\"ts\":10,\"args\":{\"peak\":300}}\n");
	expect_in(gm_test_out, ",{\"ph\":\"C\",\"pid\":4242,\"name\":\"allocator time per frame "
	                       "(us)\",\"ts\":0,\"args\":{\"time\":0}}\n");
	cr_expect_eq(count_of(gm_test_out, "\"ph\":\"C\""), 15);
	/* the spike */
	expect_in(gm_test_out,
	          ",{\"ph\":\"i\",\"pid\":4242,\"tid\":2,\"name\":\"spike: frame 3\",\"ts\":29.5,"
	          "\"s\":\"t\",\"args\":{\"frame\":3,\"reasons\":[\"allocations\",\"alloc_time\"],"
	          "\"allocations\":9,\"allocated_bytes\":0,\"alloc_ns\":0}}\n");
	/* the scene, from its record to the last event */
	expect_in(gm_test_out, ",{\"ph\":\"X\",\"pid\":4242,\"tid\":3,\"name\":\"scene forest\","
	                       "\"ts\":11,\"dur\":19,\"args\":{\"scene\":1}}\n");
	/* the asset: its load (from asset_new to resident) as an async slice, its unload */
	expect_in(gm_test_out,
	          ",{\"ph\":\"b\",\"pid\":4242,\"tid\":4,\"name\":\"rock.png\",\"ts\":12,"
	          "\"cat\":\"asset\",\"id\":1,\"args\":{\"asset\":7,\"type\":\"texture\","
	          "\"state\":\"resident\"}}\n"
	          ",{\"ph\":\"e\",\"pid\":4242,\"tid\":4,\"name\":\"rock.png\",\"ts\":14,"
	          "\"cat\":\"asset\",\"id\":1}\n");
	expect_in(gm_test_out, ",{\"ph\":\"i\",\"pid\":4242,\"tid\":4,\"name\":\"unload rock.png\","
	                       "\"ts\":24,\"s\":\"t\",\"args\":{\"asset\":7,\"type\":\"texture\","
	                       "\"state\":\"unloaded\"}}\n");
	/* the collector's run ends at its record */
	expect_in(gm_test_out, ",{\"ph\":\"X\",\"pid\":4242,\"tid\":6,\"name\":\"gc generation 2\","
	                       "\"ts\":20.5,\"dur\":0.5,\"args\":{\"collected\":5,"
	                       "\"uncollectable\":1}}\n");
	/* budgets */
	expect_in(gm_test_out,
	          ",{\"ph\":\"i\",\"pid\":4242,\"tid\":5,\"name\":\"over_hard: textures\","
	          "\"ts\":22.5,\"s\":\"t\",\"args\":{\"node\":\"textures\",\"node_id\":1,"
	          "\"live_bytes\":2100,"
	          "\"limit\":2000,\"requested\":300}}\n");
	expect_in(gm_test_out, ",{\"ph\":\"b\",\"pid\":4242,\"tid\":5,\"name\":\"evict rock.png\","
	                       "\"ts\":22.6,\"cat\":\"eviction\",\"id\":4,\"args\":{\"asset\":7,"
	                       "\"node\":\"textures\",\"node_id\":1,\"because\":\"over_hard\","
	                       "\"reclaimed_bytes\":200}}\n"
	                       ",{\"ph\":\"e\",\"pid\":4242,\"tid\":5,\"name\":\"evict rock.png\","
	                       "\"ts\":23,\"cat\":\"eviction\",\"id\":4}\n");
	/* a load that never ended (the capture ended first) */
	expect_in(gm_test_out, ",{\"ph\":\"b\",\"pid\":4242,\"tid\":4,"
	                       "\"name\":\"<b>&\\\"x' (unfinished)\",\"ts\":14.5,");
	/* the level change */
	expect_in(gm_test_out, ",{\"ph\":\"i\",\"pid\":4242,\"tid\":7,\"name\":\"level: frames\","
	                       "\"ts\":25,\"s\":\"t\",\"args\":{}}\n");
	cr_expect_eq(strcmp(gm_test_out + strlen(gm_test_out) - 3, "]}\n"), 0, "%s", gm_test_out);
}

/* A fork child's capture says asset 9 again (asset_new, then at once its
 * state): no load. Asset 10 loads (an allocation between), asset 11 is
 * unloaded while loading (given up); the level record at start is no
 * change. */
Test(trace_cmd, loads_not_announcements)
{
	words_t r = {0};
	static const unsigned char a9[] = "nine\0t", a10[] = "ten\0t", a11[] = "eleven\0t";
	const char *path;

	r_process(&r, 1000);
	r_level(&r, 1100, gm_level_events);
	t_rec(&r, 2000, 9, gm_rec_asset_new, 4 | (1u << 16), a9, sizeof(a9) - 1);
	head(&r, 2001, gm_rec_w0(9, gm_rec_asset_state, gm_asset_resident), 0);
	t_rec(&r, 3000, 10, gm_rec_asset_new, 3 | (1u << 16), a10, sizeof(a10) - 1);
	r_alloc(&r, 3500, 0x1000, 64);
	head(&r, 4000, gm_rec_w0(10, gm_rec_asset_state, gm_asset_resident), 0);
	t_rec(&r, 5000, 11, gm_rec_asset_new, 6 | (1u << 16), a11, sizeof(a11) - 1);
	head(&r, 5000, gm_rec_w0(1, gm_rec_context, 0), 0);
	head(&r, 6000, gm_rec_w0(11, gm_rec_asset_state, gm_asset_unloading), 0);
	r_frame(&r, 7000, 1, 0, gm_present_marker);
	path = write_capture("fork.gmt", &r, 1);

	cr_assert_eq(run(path), GM_CMD_OK, "%s", gm_test_err);
	cr_expect_eq(count_of(gm_test_out, "\"ph\":\"b\""), 2, "%s", gm_test_out);
	cr_expect_eq(strstr(gm_test_out, "\"name\":\"nine\""), NULL, "%s", gm_test_out);
	expect_in(gm_test_out, ",{\"ph\":\"b\",\"pid\":4242,\"tid\":4,\"name\":\"ten\","
	                       "\"ts\":2,");
	expect_in(gm_test_out, ",{\"ph\":\"e\",\"pid\":4242,\"tid\":4,\"name\":\"ten\","
	                       "\"ts\":3,");
	expect_in(gm_test_out, "\"name\":\"eleven (given up)\",\"ts\":4,");
	cr_expect_eq(strstr(gm_test_out, "level:"), NULL, "%s", gm_test_out);
}

Test(trace_cmd, output_file_and_usage)
{
	const char *path = cap_game("game.gmt");
	char out[256], *text = NULL;
	size_t n = 0;
	FILE *f;

	snprintf(out, sizeof(out), "%s/game.json", tmpdir);
	cr_assert_eq(run("--output", out, path), GM_CMD_OK, "%s", gm_test_err);
	cr_expect_str_eq(gm_test_out, "");
	cr_assert_not_null(f = fopen(out, "r"));
	cr_assert_gt(getdelim(&text, &n, '\0', f), 0);
	fclose(f);
	expect_in(text, "\"name\":\"frame 3\"");
	free(text);

	cr_expect_eq(run("--output", path, path), GM_CMD_FAIL);
	expect_in(gm_test_err, "is the capture itself");
	cr_expect_eq(html("--output", path, path), GM_CMD_FAIL);
	expect_in(gm_test_err, "gmtrace html: --output ");
	cr_expect_eq(run("--output", "/nonexistent/dir/x.json", path), GM_CMD_FAIL);
	expect_in(gm_test_err, "gmtrace trace: cannot write /nonexistent/dir/x.json: ");
	cr_expect_eq(run_v("/dev/full", 3, (const char *const[]){path, NULL}), GM_CMD_FAIL);
	expect_in(gm_test_err, "gmtrace trace: cannot write the trace");

	gm_test_expect_usage(run("--output"), "trace", "--output takes a file name", 0);
	gm_test_expect_usage(run("--frobnicate", path), "trace", "unknown option '--frobnicate'",
	                     1);
	gm_test_expect_usage(run(path, path), "trace", "one capture only", 2);
	gm_test_expect_usage(run_v(NULL, 0, (const char *const[]){NULL}), "trace",
	                     "no capture given", 3);
	cr_expect_eq(run("--help"), GM_CMD_OK);
	expect_in(gm_test_out, "usage: gmtrace trace [--output FILE] [--from F] [--to F] CAPTURE");
	gm_test_expect_usage(run("--from", "x", path), "trace", "--from takes a frame number", 4);
	gm_test_expect_usage(run("--to", "-1", path), "trace", "--to takes a frame number", 5);
	gm_test_expect_usage(run("--from", "3", "--to", "2", path), "trace",
	                     "--from 3 is after --to 2", 6);
	/* "--" ends the options: no value (it wrote the trace to a file "--") */
	gm_test_expect_usage(run("--output", "--", path), "trace", "--output takes a file name", 7);
	cr_expect_eq(run("/nonexistent/x.gmt"), GM_CMD_FAIL);
	expect_in(gm_test_err, "gmtrace: ");
}

/* --from/--to: the frames in the range, and the other events that overlap
 * the time those frames cover (frame 2: 10 to 20 us from the start). */
Test(trace_cmd, a_frame_range_keeps_its_frames_and_what_overlaps_them)
{
	const char *path = cap_game("game.gmt");
	char want[512];

	cr_assert_eq(run("--from", "2", "--to", "2", path), GM_CMD_OK, "%s", gm_test_err);
	snprintf(want, sizeof(want),
	         "{\"displayTimeUnit\":\"ns\",\"otherData\":{\"capture\":\"%s\","
	         "\"producer\":\"gmtrace trace\",\"frames\":3,\"from\":2,\"to\":2,"
	         "\"error\":null}\n",
	         path);
	cr_expect_eq(strncmp(gm_test_out, want, strlen(want)), 0, "%s", gm_test_out);
	cr_expect_eq(count_of(gm_test_out, "\"cat\":\"frame\""), 1, "%s", gm_test_out);
	expect_in(gm_test_out, "\"name\":\"frame 2\",\"ts\":10,\"dur\":10,");
	cr_expect_eq(count_of(gm_test_out, "\"ph\":\"C\""), 5, "one frame's counters");
	cr_expect_eq(count_of(gm_test_out, "spike: frame"), 0, "frame 3's spike is out");
	/* the scene and both loads began in frame 2 (one runs to the end) */
	expect_in(gm_test_out, "\"name\":\"scene forest\",\"ts\":11,\"dur\":19,");
	expect_in(gm_test_out, "\"name\":\"rock.png\",\"ts\":12,");
	expect_in(gm_test_out, "\"name\":\"<b>&\\\"x' (unfinished)\",\"ts\":14.5,");
	/* frame 3's: the collector, the budget events, the unload, the level */
	cr_expect_eq(count_of(gm_test_out, "gc generation"), 0);
	cr_expect_eq(count_of(gm_test_out, "over_hard: textures"), 0);
	cr_expect_eq(count_of(gm_test_out, "evict rock.png"), 0);
	cr_expect_eq(count_of(gm_test_out, "unload rock.png"), 0);
	cr_expect_eq(count_of(gm_test_out, "level: frames"), 0);

	/* from the first frame: the events before its mark are in */
	cr_assert_eq(run("--to", "1", path), GM_CMD_OK, "%s", gm_test_err);
	cr_expect_eq(count_of(gm_test_out, "\"cat\":\"frame\""), 1);
	expect_in(gm_test_out, "\"name\":\"frame 1\",\"ts\":0,\"dur\":10,");
	cr_expect_eq(count_of(gm_test_out, "scene forest"), 0, "it began after frame 1");
	/* a range with no frame: the process and its tracks only */
	cr_assert_eq(run("--from", "9", path), GM_CMD_OK, "%s", gm_test_err);
	cr_expect_eq(count_of(gm_test_out, "\"ph\":\"X\""), 0, "%s", gm_test_out);
	cr_expect_eq(count_of(gm_test_out, "\"ph\":\"b\""), 0, "%s", gm_test_out);
	expect_in(gm_test_out, "\"from\":9,\"to\":null,");
}

/* A frame end's budget pass comes after its mark, in time the next frame's:
 * its over_soft violation and eviction are the ended frame's in a range,
 * as `gmtrace budgets` counts them; an over_hard one (inside an
 * allocation) is in the frame by its time. */
Test(trace_cmd, a_frame_ends_budget_events_are_in_its_range)
{
	words_t r = {0};
	uint64_t node[6] = {0xffffffff, 1000, 2000, 0, 0, 0};
	uint64_t soft[6] = {1500, 1000, 0, 0, 0, 0}, hard[6] = {2100, 2000, 300, 0, 0, 0};
	uint64_t evict[4] = {gm_budget_over_soft, 200, 400, 0};
	unsigned char nodebuf[64];
	const char *path;

	memcpy(nodebuf, node, sizeof(node));
	memcpy(nodebuf + sizeof(node), "textures", 8);
	r_process(&r, 1000);
	t_rec(&r, 1500, 1, gm_rec_budget_node, 8, nodebuf, sizeof(node) + 8);
	r_frame(&r, 11000, 1, 0, gm_present_marker);
	r_frame(&r, 21000, 2, 0, gm_present_marker);
	t_rec(&r, 21100, 1, gm_rec_budget_violation, gm_budget_over_soft, soft, sizeof(soft));
	t_rec(&r, 21500, 7, gm_rec_budget_evict, 1, evict, sizeof(evict));
	t_rec(&r, 25000, 1, gm_rec_budget_violation, gm_budget_over_hard, hard, sizeof(hard));
	r_frame(&r, 31000, 3, 0, gm_present_marker);
	path = write_capture("ends.gmt", &r, 1);

	cr_assert_eq(run("--from", "2", "--to", "2", path), GM_CMD_OK, "%s", gm_test_err);
	cr_expect_eq(count_of(gm_test_out, "over_soft: textures"), 1, "%s", gm_test_out);
	cr_expect_eq(count_of(gm_test_out, "\"ph\":\"b\",\"pid\":4242,\"tid\":5"), 1,
	             "the eviction: %s", gm_test_out);
	cr_expect_eq(count_of(gm_test_out, "over_hard: textures"), 0, "%s", gm_test_out);
	cr_assert_eq(run("--from", "3", "--to", "3", path), GM_CMD_OK, "%s", gm_test_err);
	cr_expect_eq(count_of(gm_test_out, "over_soft: textures"), 0, "%s", gm_test_out);
	cr_expect_eq(count_of(gm_test_out, "\"tid\":5,\"name\":\"evict"), 0, "%s", gm_test_out);
	cr_expect_eq(count_of(gm_test_out, "over_hard: textures"), 1, "%s", gm_test_out);
}

Test(trace_cmd, damaged_capture_keeps_what_came_before)
{
	const char *path = cap_game("game.gmt");

	gm_test_damage(path);
	cr_expect_eq(run(path), GM_CMD_FAIL);
	expect_in(gm_test_err, "gmtrace: ");
	/* the trace is still whole JSON, its error said inside */
	cr_expect_eq(strcmp(gm_test_out + strlen(gm_test_out) - 3, "]}\n"), 0, "%s", gm_test_out);
	cr_expect_eq(strstr(gm_test_out, "\"error\":null"), NULL, "%s", gm_test_out);
}

static int oom_run(long n, void *arg)
{
	const char *path = arg;
	int rc = run(path);
	return gm_test_oom_outcome(n, rc, "\"name\":\"level: frames\"");
}

Test(trace_cmd, out_of_memory_anywhere_is_one_error_line)
{
	long runs = gm_failalloc_each(oom_run, (void *)cap_game("game.gmt"), 10000);
	cr_expect_gt(runs, 10, "%ld failing runs", runs);
}

/* ---- gmtrace html ---------------------------------------------------------------- */

/* Frames 1 and 2 lost at the start: frame 3's row spans them, so it is
 * counted as a frame and left out of the percentiles (zeros), which the
 * page says beside the count. */
Test(trace_cmd, html_says_which_frames_follow_missing_ones)
{
	cr_assert_eq(html(cap_all_gaps("gaps.gmt")), GM_CMD_OK, "%s", gm_test_err);
	expect_in(gm_test_out, "<tr><th>frames</th><td>1</td></tr>\n"
	                       "<tr><th>frames after missing frames</th>"
	                       "<td>1, left out of the percentiles</td></tr>\n");
	expect_in(gm_test_out, "<tr><th>frame time p50 / p95 / p99 / max</th>"
	                       "<td>0.000 / 0.000 / 0.000 / 0.000 ms</td></tr>\n");
	/* a capture with no gap says nothing of them */
	cr_assert_eq(html(cap_game("game.gmt")), GM_CMD_OK, "%s", gm_test_err);
	cr_expect_null(strstr(gm_test_out, "after missing"), "%s", gm_test_out);
}

Test(trace_cmd, html_page_of_the_capture)
{
	const char *path = cap_game("game.gmt");

	cr_assert_eq(html(path), GM_CMD_OK, "%s", gm_test_err);
	cr_expect_str_eq(gm_test_err, "");
	cr_expect_eq(strncmp(gm_test_out, "<!DOCTYPE html>\n<html lang=\"en\">", 31), 0, "%s",
	             gm_test_out);
	expect_in(gm_test_out, "<title>gmtrace: game (pid 4242)</title>");
	/* events level, then frames level from 26 us (it said the level at the
	 * end, frames) */
	expect_in(gm_test_out, "(format 3.4), 30.0 us from the first event to the last, events "
	                       "level, then frames level (the figures of allocations cover the "
	                       "events level's frames).</p>");
	/* no exit record: said */
	expect_in(gm_test_out, "<p class=\"damaged\">The capture has no end (no exit record)");
	expect_in(gm_test_out, "<tr><th>frames</th><td>3</td></tr>\n");
	/* frame times 10 us each; allocations 1, 1, 0; bytes 100, 200, 0 */
	expect_in(gm_test_out, "<tr><th>frame time p50 / p95 / p99 / max</th>"
	                       "<td>0.010 / 0.010 / 0.010 / 0.010 ms</td></tr>\n");
	expect_in(gm_test_out, "<tr><th>allocations per frame p50 / p95 / p99 / max</th>"
	                       "<td>1 / 1 / 1 / 1</td></tr>\n");
	expect_in(gm_test_out, "<tr><th>peak live bytes</th><td>300 B (frame 2)</td></tr>\n");
	expect_in(gm_test_out, "<tr><th>spikes</th><td>1</td></tr>\n");
	cr_expect_eq(count_of(gm_test_out, "<svg "), 3);
	expect_in(gm_test_out, "<h2>Spikes</h2>\n<p>1 frame allocated over the spike limits.</p>");
	expect_in(gm_test_out, "<tr><td>3</td><td>allocations, allocator time</td><td>9</td>");
	expect_in(gm_test_out, "<p>No call stacks in this capture:");
	/* the assets, the one with markup in its name escaped */
	expect_in(gm_test_out, "<p>2 assets;");
	expect_in(gm_test_out, "<tr><td>&lt;b&gt;&amp;&quot;x&#39;</td><td>texture</td>");
	cr_expect_eq(strstr(gm_test_out, "<b>&"), NULL, "markup from the capture got through");
	expect_in(gm_test_out, "<h2>Budgets</h2>");
	expect_in(gm_test_out, "<td style=\"padding-left:6px\">textures</td><td>1000 B</td>"
	                       "<td>2.0 KiB</td><td>&#8211;</td><td>0</td><td>1</td><td>1</td>");
	/* the shipped platform profiles: 2.5 KiB fits everywhere */
	expect_in(gm_test_out, "<h2>Platforms</h2>");
	expect_in(gm_test_out, "<tr><td>Nintendo Switch</td><td>yes</td><td>300 B</td>");
	cr_expect_eq(count_of(gm_test_out, "</td><td>yes</td>"), 15, "%s", gm_test_out);
	cr_expect_eq(strcmp(gm_test_out + strlen(gm_test_out) - 15, "</body></html>\n"), 0);
}

Test(trace_cmd, html_options_damage_and_memory)
{
	const char *path = cap_game("game.gmt");
	char out[256];

	snprintf(out, sizeof(out), "%s/game.html", tmpdir);
	cr_assert_eq(html("--output", out, path), GM_CMD_OK, "%s", gm_test_err);
	cr_expect_str_eq(gm_test_out, "");
	cr_expect_eq(html("--output", "/nonexistent/dir/x.html", path), GM_CMD_FAIL);
	expect_in(gm_test_err, "gmtrace html: cannot write /nonexistent/dir/x.html: ");
	cr_expect_eq(html_v("/dev/full", 3, (const char *const[]){path, NULL}), GM_CMD_FAIL);
	expect_in(gm_test_err, "gmtrace html: cannot write the page");
	gm_test_expect_usage(html("--output"), "html", "--output takes a file name", 0);
	gm_test_expect_usage(html("-x", path), "html", "unknown option '-x'", 1);
	gm_test_expect_usage(html(path, path), "html", "one capture only", 2);
	gm_test_expect_usage(html_v(NULL, 0, (const char *const[]){NULL}), "html",
	                     "no capture given", 3);

	gm_test_damage(path);
	cr_expect_eq(html(path), GM_CMD_FAIL);
	expect_in(gm_test_out, "<p class=\"damaged\">The capture is damaged: ");
	expect_in(gm_test_out, "</body></html>\n");
}

static int html_oom_run(long n, void *arg)
{
	return gm_test_oom_outcome(n, html((const char *)arg), "</body></html>");
}

Test(trace_cmd, html_out_of_memory_anywhere_is_one_error_line)
{
	long runs = gm_failalloc_each(html_oom_run, (void *)cap_game("game.gmt"), 20000);
	cr_expect_gt(runs, 20, "%ld failing runs", runs);
}

/* The page's figures that the reports for people have: a peak after the
 * last frame mark (a shutdown, a level load the game died in), declared
 * extra (GPU) bytes in the assets' order and their own column, an asset
 * never defined as "unknown", a name with C1 controls and noncharacters
 * written as U+FFFD, and no "no end" note with an exit record. */
Test(trace_cmd, html_peak_after_the_last_frame_extra_bytes_and_unknown_assets)
{
	words_t r = {0};
	static const unsigned char mesh[] = "mesh\0mesh",
	                           tex[] = "gpu\xc2\x85\xef\xbf\xbe\0texture";
	const char *path;

	r_process(&r, 1000);
	r_level(&r, 1500, gm_level_events);
	t_rec(&r, 2000, 1, gm_rec_asset_new, 4 | (4u << 16), mesh, sizeof(mesh) - 1);
	t_rec(&r, 2100, 2, gm_rec_asset_new, 8 | (7u << 16), tex, sizeof(tex) - 1);
	head(&r, 2200, gm_rec_w0(1, gm_rec_context, 0), 0);
	r_alloc(&r, 3000, 0x100000, 10u << 20);
	head(&r, 3100, gm_rec_w0(0, gm_rec_context, 0), 0);
	head(&r, 3200, gm_rec_w0(2, gm_rec_asset_extra, 0), 500u << 20);
	head(&r, 3300, gm_rec_w0(9, gm_rec_asset_state, gm_asset_resident), 0);
	{
		/* a budget node with no soft limit: no frames over it to count */
		uint64_t node[6] = {0xffffffff, 0, 2000, 0, 0, 0};
		unsigned char nodebuf[64];
		memcpy(nodebuf, node, sizeof(node));
		memcpy(nodebuf + sizeof(node), "gpu", 3);
		t_rec(&r, 3400, 1, gm_rec_budget_node, 3, nodebuf, sizeof(node) + 3);
	}
	r_frame(&r, 11000, 1, 0, gm_present_marker);
	r_frame(&r, 21000, 2, 0, gm_present_marker);
	r_alloc(&r, 22000, 0x8000000, 50u << 20);
	head(&r, 23000, gm_rec_w0(0, gm_rec_exit, 0), 0);
	path = write_capture("tail.gmt", &r, 1);

	cr_assert_eq(html(path), GM_CMD_OK, "%s", gm_test_err);
	expect_in(gm_test_out, "<tr><th>peak live bytes</th><td>60.0 MiB (after the last "
	                       "frame)</td></tr>");
	/* largest first by heap and extra bytes together: the GPU texture */
	expect_in(gm_test_out, "<tr><td>gpu&#xfffd;&#xfffd;&#xfffd;&#xfffd;&#xfffd;</td><td>"
	                       "texture</td><td>loading</td><td>0 B</td><td>500.0 MiB</td>");
	cr_expect_lt(strstr(gm_test_out, "<tr><td>gpu"), strstr(gm_test_out, "<tr><td>mesh"));
	expect_in(gm_test_out, "<td>unknown</td>");
	cr_expect_null(strstr(gm_test_out, "has no end"), "an exit record: %s", gm_test_out);
	expect_in(gm_test_out, "<td style=\"padding-left:6px\">gpu</td><td>&#8211;</td><td>2.0 "
	                       "KiB</td>");
	expect_in(gm_test_out, "</td><td>&#8211;</td><td>0</td><td>0</td></tr>");
}

/* No allocation in any frame: no peak to name (it said "0 B (frame 0)"). */
Test(trace_cmd, html_without_a_peak_says_none)
{
	words_t r = {0};
	const char *path;
	r_process(&r, 1000);
	r_frame(&r, 11000, 1, 0, gm_present_marker);
	r_frame(&r, 21000, 2, 0, gm_present_marker);
	path = write_capture("none.gmt", &r, 1);
	cr_assert_eq(html(path), GM_CMD_OK, "%s", gm_test_err);
	expect_in(gm_test_out, "<tr><th>peak live bytes</th><td>none (nothing live in any "
	                       "frame)</td></tr>");
}
