/* test_live_cmd.c - `gmtrace live` (analysis/cmd/live.c) on synthetic captures
 *
 * The command runs in the test process (gm_cmd_live) with its stdout and
 * stderr in files. Its captures never make it wait: one that ended is read
 * once, and a game "gone without an end" has a pid no process can have, so
 * the second reading (right after the first) is the last. Each test checks
 * the exit status and the exact lines: which frames each line takes, their
 * rate, frame times, allocations and bytes a frame, live bytes, peak and
 * spikes. Captures are written as in test_frames_cmd.c: a process record at
 * 1 GHz with TSC = ns.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "analysis/cmd/cmd.h"
#include "cmdrun.h"
#include "failalloc.h"
#include "frames_capture.h"

#define MS 1000000ull
/* above any pid_max (at most 2^22): kill(pid, 0) says ESRCH */
#define GONE_PID 0x7ffffff0u

static void cmd_setup(void)
{
	caps_setup("gm_test_live_cmd");
}

static void cmd_teardown(void)
{
	caps_teardown();
}

TestSuite(live_cmd, .init = cmd_setup, .fini = cmd_teardown);

static int run_v(const char *stdout_path, int n, const char *const *args)
{
	return gm_test_cmd(gm_cmd_live, "live", tmpdir, stdout_path, n, args);
}

#define run(...) run_v(NULL, 8, (const char *const[]){__VA_ARGS__, NULL})

/* ---- the capture ------------------------------------------------------------ */

typedef struct game {
	int ended;       /* an exit record after the last frame */
	int sum3;        /* frame 3 has its frame_sum record */
	uint64_t f4_ms;  /* frame 4 ends this long after the start (> 40) */
	uint32_t pid;    /* the file header's */
	const char *shm; /* the file header's log name, or NULL */
} game_t;

/* Four frames of one thread in the events level, from s = 1000 ns (the
 * process record):
 *   frame 1, ends at s + 10 ms: 100 B at 0x100, 200 B at 0x200;
 *            frame_sum 2 allocations, 300 B
 *   frame 2, ends at s + 30 ms: frees 0x100, 1000 B at 0x300; frame_sum
 *            2 allocations, 1100 B (a block of another thread not drained)
 *   frame 3, ends at s + 40 ms: 50 B at 0x400; frame_sum 1, 50 B (with
 *            sum3); a spike record
 *   frame 4, ends at s + f4_ms: 8 B at 0x500, frees 0x300; no frame_sum
 * (the writer's live bytes in frame_sum stay 0 in the events level). Live
 * bytes at the frames' ends: 300, 1200, 1250, 258; peaks the same but
 * frame 4's, 1258. */
static const char *cap_game(const char *name, const game_t *g)
{
	words_t t[1] = {{0}};
	uint64_t s = 1000;
	const char *path;
	gm_file_header_t h;
	int fd;

	r_process(&t[0], s);
	r_level(&t[0], s, gm_level_events);
	r_alloc(&t[0], s + 10, 0x100, 100);
	r_alloc(&t[0], s + 20, 0x200, 200);
	r_frame(&t[0], s + 10 * MS, 1, 0, gm_present_marker);
	r_frame_sum(&t[0], s + 10 * MS, 1, 1, 2, 0, 300, 0, 0, 0, 0, 0);
	head(&t[0], s + 10 * MS + 10, gm_rec_w0(0x100, gm_rec_free, gm_kind_free), 0);
	r_alloc(&t[0], s + 10 * MS + 20, 0x300, 1000);
	r_frame(&t[0], s + 30 * MS, 2, 0, gm_present_marker);
	r_frame_sum(&t[0], s + 30 * MS, 2, 2, 2, 1, 1100, 100, 0, 0, 0, 0);
	r_alloc(&t[0], s + 30 * MS + 10, 0x400, 50);
	r_frame(&t[0], s + 40 * MS, 3, 0, gm_present_marker);
	if (g->sum3)
		r_frame_sum(&t[0], s + 40 * MS, 3, 1, 1, 0, 50, 0, 0, 0, 0, 0);
	r_spike(&t[0], s + 40 * MS, 3, GM_SPIKE_ALLOCATIONS, 1, 0);
	r_alloc(&t[0], s + 40 * MS + 10, 0x500, 8);
	head(&t[0], s + 40 * MS + 20, gm_rec_w0(0x300, gm_rec_free, gm_kind_free), 0);
	r_frame(&t[0], s + g->f4_ms * MS, 4, 0, gm_present_marker);
	if (g->ended)
		head(&t[0], s + g->f4_ms * MS + 10, gm_rec_w0(0, gm_rec_exit, 0), 0);
	path = write_capture(name, t, 1);

	/* the header's pid and log name */
	fd = open(path, O_RDWR);
	cr_assert_geq(fd, 0);
	cr_assert_eq(pread(fd, &h, sizeof(h), 0), (ssize_t)sizeof(h));
	h.pid = g->pid;
	if (g->shm)
		snprintf(h.shm_name, sizeof(h.shm_name), "%s", g->shm);
	cr_assert_eq(pwrite(fd, &h, sizeof(h), 0), (ssize_t)sizeof(h));
	close(fd);
	return path;
}

/* ---- usage ------------------------------------------------------------------ */

Test(live_cmd, bad_arguments_say_what_is_wrong)
{
	static const struct {
		const char *args[3];
		const char *msg;
	} cases[] = {
	        {{"--interval", "9", "x.gmt"}, "--interval takes milliseconds, 10..60000"},
	        {{"--interval", "60001", "x.gmt"}, "--interval takes milliseconds, 10..60000"},
	        {{"--interval=1s", "x.gmt"}, "--interval takes milliseconds, 10..60000"},
	        {{"x.gmt", "--interval"}, "--interval takes milliseconds, 10..60000"},
	        {{"--twice", "x.gmt"}, "unknown option '--twice'"},
	        {{"a.gmt", "b.gmt"}, "one capture only"},
	        {{"--once"}, "no capture given"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		gm_test_expect_usage(run_v(NULL, 3, cases[i].args), "live", cases[i].msg, i);
	cr_assert_eq(run("--help"), GM_CMD_OK);
	cr_expect_eq(
	        strncmp(gm_test_out, "usage: gmtrace live [--interval MS] [--once] CAPTURE\n", 53),
	        0, "%s", gm_test_out);
	cr_expect_str_eq(gm_test_err, "");
}

/* ---- lines ------------------------------------------------------------------ */

Test(live_cmd, a_game_that_ended_gets_one_line_of_every_frame)
{
	game_t g = {.ended = 1, .sum3 = 1, .f4_ms = 190, .pid = GONE_PID};
	const char *path = cap_game("ended.gmt", &g);

	/* 4 frames in 190 ms; 10, 20, 10, 150 ms; allocations 2 + 2 + 1 from
	 * the frame_sum records, frame 4's 1 from its events: 6, and bytes
	 * 300 + 1100 + 50 + 8 = 1458, a quarter of each */
	cr_assert_eq(run("--interval", "10", path), GM_CMD_OK, "%s", gm_test_err);
	cr_expect_str_eq(gm_test_out, "end  frames 1-4: 4 at 21.1/s, frame p50 10.00 ms max "
	                              "150.00 ms, 1.5 allocations and 364 B a frame, live 258 B, "
	                              "peak 1.2 KiB, 1 spike\n");
	cr_expect_str_eq(gm_test_err, "");
	/* --once takes the end too */
	cr_assert_eq(run("--once", path), GM_CMD_OK, "%s", gm_test_err);
	cr_expect_eq(strncmp(gm_test_out, "end  frames 1-4: 4 at 21.1/s", 28), 0, "%s",
	             gm_test_out);
}

Test(live_cmd, once_on_a_running_game_gives_every_frame_so_far)
{
	game_t g = {.sum3 = 1, .f4_ms = 190, .pid = (uint32_t)getpid()};
	const char *path = cap_game("running.gmt", &g);

	cr_assert_eq(run("--once", path), GM_CMD_OK, "%s", gm_test_err);
	cr_expect_str_eq(gm_test_out, "now  frames 1-4: 4 at 21.1/s, frame p50 10.00 ms max "
	                              "150.00 ms, 1.5 allocations and 364 B a frame, live 258 B, "
	                              "peak 1.2 KiB, 1 spike\n");
	cr_expect_str_eq(gm_test_err, "");
}

#define GONE_OUT                                                                                    \
	"live frames 1-3: 3 at 75.0/s, frame p50 10.00 ms max 20.00 ms, 1.7 allocations and 483 B " \
	"a frame, live 1.2 KiB, peak 1.2 KiB, 1 spike\n"                                            \
	"gone frames 4-4: 1 at 6.7/s, frame p50 150.00 ms max 150.00 ms, 1.0 allocations and 8 B "  \
	"a frame, live 258 B, peak 1.2 KiB, 0 spikes\n"
#define GONE_ERR                                                                                  \
	"gmtrace live: the game is gone without an exit record (killed or crashed); its log was " \
	"drained into the capture\n"

Test(live_cmd, a_game_gone_without_an_end_gives_the_frames_left_in_a_last_line)
{
	game_t g = {.sum3 = 1, .f4_ms = 190, .pid = GONE_PID};
	const char *path = cap_game("gone.gmt", &g);

	/* first reading: the newest frame (4) waits for the next mark; frames
	 * 1-3: 40 ms, 5 allocations and 1450 B; the second: the game is gone
	 * and frame 4 (150 ms, one 8 B block, no frame_sum) is the last line */
	cr_assert_eq(run(path), GM_CMD_FAIL);
	cr_expect_str_eq(gm_test_out, GONE_OUT);
	cr_expect_str_eq(gm_test_err, GONE_ERR);
}

Test(live_cmd, a_game_gone_with_its_log_left_is_pointed_to_recover)
{
	char shm[48], file[80], want[512];
	game_t g = {.sum3 = 1, .f4_ms = 190, .pid = GONE_PID, .shm = shm};
	const char *path;
	int fd;

	snprintf(shm, sizeof(shm), "/gm_test_live_cmd.%ld", (long)getpid());
	snprintf(file, sizeof(file), "/dev/shm%s", shm);
	fd = open(file, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	cr_assert_geq(fd, 0, "%s", file);
	close(fd);
	path = cap_game("left.gmt", &g);

	cr_assert_eq(run(path), GM_CMD_FAIL);
	unlink(file);
	cr_expect_eq(strncmp(gm_test_out, "live frames 1-3: 3 at", 21), 0, "%s", gm_test_out);
	cr_expect(strstr(gm_test_out, "\ngone frames 4-4: 1 at") != NULL, "%s", gm_test_out);
	snprintf(want, sizeof(want),
	         "gmtrace live: the game is gone and its capture has no end: `gmtrace recover %s` "
	         "writes the records still in its log\n",
	         path);
	cr_expect_str_eq(gm_test_err, want);
}

Test(live_cmd, a_frame_without_its_frame_sum_waits_for_it)
{
	game_t g = {.sum3 = 0, .f4_ms = 190, .pid = GONE_PID};
	const char *path = cap_game("nosum.gmt", &g);

	/* frame 3's frame_sum may come a chunk later: it waits with frame 4,
	 * and at the end its allocations come from its events (1, 50 B) */
	cr_assert_eq(run(path), GM_CMD_FAIL);
	cr_expect_str_eq(gm_test_out,
	                 "live frames 1-2: 2 at 66.7/s, frame p50 10.00 ms max 20.00 ms, 2.0 "
	                 "allocations and 700 B a frame, live 1.2 KiB, peak 1.2 KiB, 0 spikes\n"
	                 "gone frames 3-4: 2 at 12.5/s, frame p50 10.00 ms max 150.00 ms, 1.0 "
	                 "allocations and 29 B a frame, live 258 B, peak 1.2 KiB, 1 spike\n");
}

Test(live_cmd, frames_of_the_newest_100_ms_wait)
{
	game_t g = {.sum3 = 1, .f4_ms = 120, .pid = GONE_PID};
	const char *path = cap_game("settle.gmt", &g);

	/* the newest record is frame 4's mark at 120 ms: frames 2 and 3 (ended
	 * at 30 and 40 ms) wait with it, frame 1 (10 ms) does not */
	cr_assert_eq(run(path), GM_CMD_FAIL);
	cr_expect_str_eq(gm_test_out,
	                 "live frames 1-1: 1 at 100.0/s, frame p50 10.00 ms max 10.00 ms, 2.0 "
	                 "allocations and 300 B a frame, live 300 B, peak 300 B, 0 spikes\n"
	                 "gone frames 2-4: 3 at 27.3/s, frame p50 20.00 ms max 80.00 ms, 1.3 "
	                 "allocations and 386 B a frame, live 258 B, peak 1.2 KiB, 1 spike\n");
}

Test(live_cmd, a_capture_without_a_frame_says_so)
{
	words_t t[1] = {{0}};
	const char *path;

	r_process(&t[0], 1000);
	r_alloc(&t[0], 2000, 0x100, 100);
	path = write_capture("noframe.gmt", t, 1);
	cr_assert_eq(run("--once", path), GM_CMD_OK, "%s", gm_test_err);
	cr_expect_str_eq(gm_test_out, "now  no frame ended yet\n");
}

Test(live_cmd, a_full_disk_is_one_clear_error)
{
	game_t g = {.ended = 1, .sum3 = 1, .f4_ms = 190, .pid = GONE_PID};
	const char *path = cap_game("full.gmt", &g);

	cr_assert_eq(run_v("/dev/full", 2, (const char *const[]){"--once", path}), GM_CMD_FAIL);
	cr_expect_str_eq(gm_test_err, "gmtrace live: cannot write\n");
}

/* ---- out of memory ----------------------------------------------------------- */

typedef struct oom_case {
	const char *args[3];
	const char *want; /* in stdout when nothing failed */
} oom_case_t;

static int oom_run(long n, void *arg)
{
	const oom_case_t *c = arg;

	return gm_test_oom_outcome(n, run_v(NULL, 3, c->args), c->want);
}

/* A gone game's run ends with status 1 either way: its two lines and its
 * message when nothing failed, else the out-of-memory line alone on stderr;
 * but a capture the reader could not open (its first allocations) is read
 * again an interval later, as one not there yet, and that run's output is
 * the whole of it. */
static int oom_gone_run(long n, void *arg)
{
	const oom_case_t *c = arg;
	char want[256];
	int rc = run_v(NULL, 3, c->args);

	cr_assert_eq(rc, GM_CMD_FAIL, "allocation %ld", n);
	snprintf(want, sizeof(want), "gmtrace: %s: out of memory\n", c->args[2]);
	if (n >= 0 && gm_failalloc_fired() && strcmp(gm_test_err, want) == 0)
		return 1;
	cr_assert_str_eq(gm_test_out, GONE_OUT, "allocation %ld", n);
	cr_assert_str_eq(gm_test_err, GONE_ERR, "allocation %ld", n);
	return n >= 0 && gm_failalloc_fired();
}

Test(live_cmd, out_of_memory_anywhere_is_one_error_line)
{
	game_t ended = {.ended = 1, .sum3 = 1, .f4_ms = 190, .pid = GONE_PID};
	game_t gone = {.sum3 = 1, .f4_ms = 190, .pid = GONE_PID};
	oom_case_t c = {{"--once", NULL, NULL}, "end  frames 1-4: 4 at 21.1/s"};
	long runs;

	c.args[1] = cap_game("oom_ended.gmt", &ended);
	runs = gm_failalloc_each(oom_run, &c, 1000);
	cr_expect_gt(runs, 10, "one reading (%ld failing runs)", runs);

	/* two readings: a failure in the second comes after the first line */
	c.args[0] = "--interval";
	c.args[1] = "10";
	c.args[2] = cap_game("oom_gone.gmt", &gone);
	runs = gm_failalloc_each(oom_gone_run, &c, 1000);
	cr_expect_gt(runs, 20, "two readings (%ld failing runs)", runs);
}
