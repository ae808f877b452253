/* test_stacks_cmd.c - `gmtrace stacks` (analysis/cmd/stacks.c) on synthetic captures
 *
 * The command runs in the test process (gm_cmd_stacks) with its stdout and
 * stderr in files; each test checks the exit status, the lines a game
 * developer reads, the folded lines a flame-graph tool reads, the JSON
 * values and the one-line errors. Captures are written as in
 * test_frames_cmd.c (a process record at 1 GHz, TSC = ns), with stack, site
 * and module records (interpose/log/format.h). Modules are files that do not
 * exist (frames named by module and offset), a few files that are not
 * shared objects, and the test program itself, whose functions below give
 * real names, files and lines through analysis/model/symbols.c.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/cmd/cmd.h"
#include "analysis/log/reader.h"
#include "cmdrun.h"
#include "failalloc.h"

/* ---- capture builder ---------------------------------------------------- */

#include "frames_capture.h"

static void cmd_setup(void)
{
	caps_setup("gm_test_stacks_cmd");
}

static void cmd_teardown(void)
{
	caps_teardown();
}

TestSuite(stacks_cmd, .init = cmd_setup, .fini = cmd_teardown);

/* Every record below moves time by 10 ns. */
static uint64_t step(words_t *r)
{
	return r->tsc + 10;
}

static void s_alloc(words_t *r, uint64_t ptr, uint64_t size)
{
	r_alloc(r, step(r), ptr, size);
}

static void s_free(words_t *r, uint64_t ptr)
{
	head(r, step(r), gm_rec_w0(ptr, gm_rec_free, gm_kind_free), 0);
}

static void s_realloc(words_t *r, uint64_t ptr, uint64_t size, uint64_t old)
{
	head(r, step(r), gm_rec_w0(ptr, gm_rec_realloc, gm_kind_realloc), size);
	put(r, old);
	put(r, 0);
}

/* A failed malloc of size bytes. */
static void s_fail(words_t *r, uint64_t size)
{
	head(r, step(r), gm_rec_w0(0, gm_rec_fail, gm_kind_malloc), 0);
	put(r, size);
	put(r, 16);
}

/* The next allocation of the thread is made at stack id. */
static void s_site(words_t *r, uint64_t id)
{
	head(r, step(r), gm_rec_w0(id, gm_rec_site, 0), 0);
}

/* Stack id: n return addresses, innermost first. */
static void s_stack(words_t *r, uint64_t id, const uint64_t *frames, unsigned n)
{
	unsigned k;

	head(r, step(r), gm_rec_w0(id, gm_rec_stack, (n + 1) / 2), n);
	for (k = 0; k < n; k++)
		put(r, frames[k]);
	if (n % 2)
		put(r, 0);
}

/* A stack written whole with the thread's next allocation (the writer's
 * table was full). */
static void s_site_frames(words_t *r, const uint64_t *frames, unsigned n)
{
	unsigned k;

	head(r, step(r), gm_rec_w0(0, gm_rec_site_frames, (n + 1) / 2), n);
	for (k = 0; k < n; k++)
		put(r, frames[k]);
	if (n % 2)
		put(r, 0);
}

/* A Python code object: id, first line, qualified name, file. */
static void s_pycode(words_t *r, uint64_t id, uint32_t first, const char *name, const char *file)
{
	unsigned char b[256] = {0};
	size_t nn = strlen(name), nf = strlen(file), len = 8 + nn + nf, units = (len + 15) / 16, k;
	uint32_t n32 = (uint32_t)nn;
	uint64_t w;

	memcpy(b, &first, 4);
	memcpy(b + 4, &n32, 4);
	memcpy(b + 8, name, nn);
	memcpy(b + 8 + nn, file, nf);
	head(r, step(r), gm_rec_w0(id, gm_rec_pycode, units), len);
	for (k = 0; k < units * 2; k++) {
		memcpy(&w, b + 8 * k, 8);
		put(r, w);
	}
}

/* A Python frame: code id, line. */
#define PYF(id, line) (GM_PYFRAME_BIT | ((uint64_t)(id) << 32) | (line))

/* A module record: path mapped at [base, base + size). */
static void s_module(words_t *r, const char *path, uint64_t base, uint64_t size)
{
	uint64_t w[32] = {0};
	size_t len = strlen(path), units = (len + 15) / 16, k;

	cr_assert_leq(len, sizeof(w));
	memcpy(w, path, len);
	head(r, step(r), gm_rec_w0(len, gm_rec_module, (unsigned)(1 + units)), 0);
	put(r, base);
	put(r, size);
	for (k = 0; k < units * 2; k++)
		put(r, w[k]);
}

/* A process record naming its program exe (no arguments). */
static void s_process_exe(words_t *r, const char *exe)
{
	uint64_t w[32] = {0};
	size_t len = strlen(exe), units = (len + 15) / 16, k;

	cr_assert_leq(len, sizeof(w));
	memcpy(w, exe, len);
	head(r, 10, gm_rec_w0(4242, gm_rec_process, (unsigned)(3 + units)), 1);
	put(r, 1);          /* realtime ns */
	put(r, 10);         /* monotonic ns at start */
	put(r, 10);         /* TSC at start */
	put(r, 1000000000); /* 1 GHz */
	put(r, len);
	put(r, 0);
	for (k = 0; k < units * 2; k++)
		put(r, w[k]);
}

static void s_unload(words_t *r, uint64_t base)
{
	head(r, step(r), gm_rec_w0(base, gm_rec_module_unload, 0), 0);
}

/* A record with n bytes of strings at p after its first unit. */
static void s_strings(words_t *r, uint64_t a, unsigned type, uint64_t b, const char *p, size_t n)
{
	uint64_t w[16] = {0};
	size_t units = (n + 15) / 16, k;

	cr_assert_leq(n, sizeof(w));
	memcpy(w, p, n);
	head(r, step(r), gm_rec_w0(a, type, (unsigned)units), b);
	for (k = 0; k < units * 2; k++)
		put(r, w[k]);
}

static void s_tag_def(words_t *r, uint64_t id, const char *name)
{
	s_strings(r, id, gm_rec_tag_def, strlen(name), name, strlen(name));
}

/* An asset: its name, a NUL, its type. */
static void s_asset_new(words_t *r, uint64_t id, const char *name, const char *type)
{
	char buf[64];
	size_t n = strlen(name), t = strlen(type);

	cr_assert_lt(n + 1 + t, sizeof(buf));
	memcpy(buf, name, n);
	buf[n] = '\0';
	memcpy(buf + n + 1, type, t);
	s_strings(r, id, gm_rec_asset_new, n | t << 16, buf, n + 1 + t);
}

/* From now on the thread allocates for asset (0: none) under tag (0: none). */
static void s_context(words_t *r, uint64_t asset, uint64_t tag)
{
	head(r, step(r), gm_rec_w0(asset, gm_rec_context, 0), tag);
}

/* A main frame mark (frame set 0) or a mark of another frame set. */
static void s_mark(words_t *r, uint64_t frame, unsigned set)
{
	r_frame(r, step(r), frame, set, gm_present_marker);
}

/* ---- running the command ------------------------------------------------- */

static int run_v(const char *stdout_path, int n, const char *const *args)
{
	return gm_test_cmd(gm_cmd_stacks, "stacks", tmpdir, stdout_path, n, args);
}

#define run(...) run_v(NULL, 32, (const char *const[]){__VA_ARGS__, NULL})
#define run_full(...) run_v("/dev/full", 32, (const char *const[]){__VA_ARGS__, NULL})

#define expect_in(text, s) \
	cr_expect(strstr((text), (s)) != NULL, "missing '%s' in:\n%s", (s), (text))
#define expect_not_in(text, s) \
	cr_expect(strstr((text), (s)) == NULL, "unexpected '%s' in:\n%s", (s), (text))

/* Number of times s occurs in text. */
static int count_of(const char *text, const char *s)
{
	int n = 0;

	for (text = strstr(text, s); text; text = strstr(text + 1, s))
		n++;
	return n;
}

/* 1 when text ends with s. */
static int ends_with(const char *text, const char *s)
{
	size_t n = strlen(text), k = strlen(s);

	return n >= k && strcmp(text + n - k, s) == 0;
}

/* ---- captures ------------------------------------------------------------- */

#define LIB 0x7f0000100000ull  /* "/nonexistent/gm/libgame.so", 1 MiB */
#define SEMI 0x7f0000400000ull /* "/nonexistent/gm/my lib;v2.so", 64 KiB */

/* One thread, three main frames (marks 1, 2, 3; a mark of frame set 1 in
 * frame 2 is not a main frame):
 *   stack 1, 3 frames in libgame.so: frame 1, allocations of 1000 (freed),
 *     2000 and 500 B: 3500 B in 3, largest 2000, 2 live (2500 B);
 *   stacks 2 and 3, the same two addresses in no module (3 defined at the
 *     end, after its use): frame 2, 4096 B and 100 B, both freed: one row of
 *     2 stacks, 4196 B in 2, 0 live;
 *   stack 4, my lib;v2.so then libgame.so: frame 3, 5 blocks of 10 B, all
 *     live, and a failed allocation;
 *   stack id 0 (not kept): frame 3, 300 B live;
 *   stack 9 (never defined): frame 3, a realloc of 20 B, live;
 *   no site: frame 3, 2000 B live and a failed allocation.
 * Totals: 13 allocations, 10066 B; 12 with a stack (8066 B); 2 failed. */
static const char *cap_game(const char *name)
{
	words_t r = {0};
	static const uint64_t f1[3] = {LIB + 0x1234, LIB + 0x2345, LIB + 0x3456};
	static const uint64_t f2[2] = {0x5010, 0x6020};
	static const uint64_t f4[2] = {SEMI + 0x40, LIB + 0x3456};
	int i;

	r_process(&r, 10);
	s_module(&r, "/nonexistent/gm/libgame.so", LIB, 0x100000);
	s_module(&r, "/nonexistent/gm/my lib;v2.so", SEMI, 0x10000);
	s_stack(&r, 1, f1, 3);
	s_stack(&r, 2, f2, 2);
	s_stack(&r, 4, f4, 2);
	/* frame 1 */
	s_site(&r, 1);
	s_alloc(&r, 0x10000, 1000);
	s_site(&r, 1);
	s_alloc(&r, 0x20000, 2000);
	s_site(&r, 1);
	s_alloc(&r, 0x30000, 500);
	s_free(&r, 0x10000);
	s_mark(&r, 1, 0);
	/* frame 2 */
	s_site(&r, 2);
	s_alloc(&r, 0x40000, 4096);
	s_free(&r, 0x40000);
	s_site(&r, 3);
	s_alloc(&r, 0x50000, 100);
	s_free(&r, 0x50000);
	s_mark(&r, 1, 1);
	s_mark(&r, 2, 0);
	/* frame 3 */
	for (i = 0; i < 5; i++) {
		s_site(&r, 4);
		s_alloc(&r, 0x60000 + 0x100 * (uint64_t)i, 10);
	}
	s_site(&r, 4);
	s_fail(&r, 1u << 30);
	s_site(&r, 0);
	s_alloc(&r, 0x70000, 300);
	s_site(&r, 9);
	s_realloc(&r, 0x80000, 20, 0);
	s_alloc(&r, 0x90000, 2000);
	s_fail(&r, 64);
	s_mark(&r, 3, 0);
	s_stack(&r, 3, f2, 2);
	return write_capture(name, &r, 1);
}

/* Allocations and marks, no stack or site record. */
static const char *cap_no_stacks(const char *name)
{
	words_t r = {0};

	r_process(&r, 10);
	s_alloc(&r, 0x1000, 100);
	s_mark(&r, 1, 0);
	s_alloc(&r, 0x2000, 50);
	return write_capture(name, &r, 1);
}

/* ---- usage ------------------------------------------------------------------ */

Test(stacks_cmd, bad_arguments_say_what_is_wrong)
{
	static const struct {
		const char *args[4];
		const char *msg;
	} cases[] = {
	        {{"--by", "size", "x.gmt"}, "--by takes bytes, count or live"},
	        {{"--by=", "x.gmt"}, "--by takes bytes, count or live"},
	        {{"x.gmt", "--by"}, "--by takes bytes, count or live"},
	        {{"--top", "x", "x.gmt"}, "--top takes a number 0..1000000"},
	        {{"--top", "-1", "x.gmt"}, "--top takes a number 0..1000000"},
	        {{"--top", "1000001", "x.gmt"}, "--top takes a number 0..1000000"},
	        {{"--top", "99999999999999999999", "x.gmt"}, "--top takes a number 0..1000000"},
	        {{"x.gmt", "--top"}, "--top takes a number 0..1000000"},
	        {{"--from", "0", "x.gmt"}, "--from takes a frame number 1 or more"},
	        {{"--from", "1.5", "x.gmt"}, "--from takes a frame number 1 or more"},
	        {{"x.gmt", "--from"}, "--from takes a frame number 1 or more"},
	        {{"--to", "0", "x.gmt"}, "--to takes a frame number 1 or more"},
	        {{"--to=", "x.gmt"}, "--to takes a frame number 1 or more"},
	        {{"x.gmt", "--to"}, "--to takes a frame number 1 or more"},
	        {{"--tag", "", "x.gmt"}, "--tag takes a tag name"},
	        {{"--tag=", "x.gmt"}, "--tag takes a tag name"},
	        {{"x.gmt", "--tag"}, "--tag takes a tag name"},
	        {{"--asset", "", "x.gmt"}, "--asset takes an asset name"},
	        {{"--asset=", "x.gmt"}, "--asset takes an asset name"},
	        {{"x.gmt", "--asset"}, "--asset takes an asset name"},
	        {{"--depth", "1001", "x.gmt"}, "--depth takes a number 0..1000"},
	        {{"--depth", "two", "x.gmt"}, "--depth takes a number 0..1000"},
	        {{"x.gmt", "--depth"}, "--depth takes a number 0..1000"},
	        {{"--from", "5", "--to", "3"}, "--from 5 is after --to 3"},
	        {{"--to=3", "--from=4", "x.gmt"}, "--from 4 is after --to 3"},
	        {{"--json", "--folded", "x.gmt"}, "--json and --folded do not go together"},
	        {{"--folded", "x.gmt", "--json"}, "--json and --folded do not go together"},
	        {{"--json"}, "no capture given"},
	        {{"a.gmt", "b.gmt"}, "one capture at a time ('a.gmt' and 'b.gmt')"},
	        {{"--bytes", "x.gmt"}, "unknown option '--bytes'"},
	        {{"-j", "x.gmt"}, "unknown option '-j'"},
	        {{"--topx", "3", "x.gmt"}, "unknown option '--topx'"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = run_v(NULL, 4, cases[i].args);

		gm_test_expect_usage(rc, "stacks", cases[i].msg, i);
		/* the message is one line, then the usage */
		cr_expect(strstr(gm_test_err, "\nusage: gmtrace stacks [--json | --folded]") !=
		                  NULL,
		          "case %zu: %s", i, gm_test_err);
		cr_expect_str_eq(gm_test_out, "", "case %zu: nothing on stdout", i);
	}
	/* no argument at all */
	cr_expect_eq(run_v(NULL, 0, NULL), GM_CMD_USAGE);
	cr_expect_eq(strncmp(gm_test_err, "gmtrace stacks: no capture given\n", 33), 0, "%s",
	             gm_test_err);
}

Test(stacks_cmd, help_goes_to_stdout)
{
	cr_expect_eq(run("--help"), GM_CMD_OK);
	cr_expect_eq(
	        strncmp(gm_test_out,
	                "usage: gmtrace stacks [--json | --folded] [--by bytes|count|live] [--top N]\n",
	                76),
	        0, "%s", gm_test_out);
	expect_in(gm_test_out,
	          "  --top N     list N stacks (default 10, all with --folded; 0: all)\n");
	expect_in(gm_test_out, "Exit status: 0 ok, 1 capture unreadable or damaged");
	cr_expect_str_eq(gm_test_err, "");
	/* -h too, and before a bad option: the help wins */
	cr_expect_eq(run("-h", "--bogus"), GM_CMD_OK);
	cr_expect_eq(strncmp(gm_test_out, "usage: gmtrace stacks", 21), 0, "%s", gm_test_out);
}

Test(stacks_cmd, a_missing_file_is_one_error_line)
{
	char missing[200];

	snprintf(missing, sizeof(missing), "%s/missing.gmt", tmpdir);
	cr_expect_eq(run(missing), GM_CMD_FAIL);
	cr_expect_eq(strncmp(gm_test_err, "gmtrace: ", 9), 0, "%s", gm_test_err);
	cr_expect_eq(count_of(gm_test_err, "\n"), 1, "one line: %s", gm_test_err);
	expect_in(gm_test_err, "missing.gmt");
	cr_expect_str_eq(gm_test_out, "");
	/* '-' is a capture name, not an option */
	cr_expect_eq(run("--json", "-"), GM_CMD_FAIL);
	cr_expect_eq(strncmp(gm_test_err, "gmtrace: ", 9), 0, "%s", gm_test_err);
	cr_expect_eq(count_of(gm_test_err, "\n"), 1, "one line: %s", gm_test_err);
	cr_expect_str_eq(gm_test_out, "");
}

/* ---- text ------------------------------------------------------------------- */

Test(stacks_cmd, text_ranked_by_bytes)
{
	const char *path = cap_game("game.gmt");
	char want[400];

	cr_assert_eq(run(path), GM_CMD_OK, "%s", gm_test_err);
	cr_expect_str_eq(gm_test_err, "");
	snprintf(want, sizeof(want), "capture   %s (format %u.%u)\n", path, GM_FORMAT_VERSION_MAJOR,
	         GM_FORMAT_VERSION_MINOR);
	cr_expect_eq(strncmp(gm_test_out, want, strlen(want)), 0, "%s", gm_test_out);
	expect_not_in(gm_test_out, "\nframes    ");
	expect_in(gm_test_out, "\nstacks    6 call stacks, 12 of 13 allocations with a stack "
	                       "(7.9 KiB of 9.8 KiB)\n");
	expect_in(gm_test_out, "\n          1 allocation (300 B) with no stack (the game's stack "
	                       "table was full, before format 3.2, or no frame could be taken)\n");
	expect_in(gm_test_out,
	          "\n          1 stack used but not defined in the capture (lost records)\n");
	expect_not_in(gm_test_out, "no call stacks recorded");
	expect_in(gm_test_out, "\nby allocated bytes, top 5 of 5 (stacks naming the same places "
	                       "are one row):\n");
	expect_in(gm_test_out,
	          "\n#1  4.1 KiB in 2 allocations (largest 4.0 KiB), 0 live at the end (0 B), "
	          "2 stacks\n"
	          "      0x5010\n"
	          "      0x6020\n"
	          "\n#2  3.4 KiB in 3 allocations (largest 2.0 KiB), 2 live at the end (2.4 KiB)\n"
	          "      0x7f0000101234  libgame.so+0x1234\n"
	          "      0x7f0000102345  libgame.so+0x2345\n"
	          "      0x7f0000103456  libgame.so+0x3456\n"
	          "\n#3  300 B in 1 allocation (largest 300 B), 1 live at the end (300 B)\n"
	          "      (no stack: the table was full, before format 3.2, or no frame could be "
	          "taken)\n"
	          "\n#4  50 B in 5 allocations (largest 10 B), 5 live at the end (50 B), 1 failed\n"
	          "      0x7f0000400040  my lib;v2.so+0x40\n"
	          "      0x7f0000103456  libgame.so+0x3456\n"
	          "\n#5  20 B in 1 allocation (largest 20 B), 1 live at the end (20 B)\n"
	          "      (stack 9: no definition in the capture)\n");
	/* the report ends with the last row */
	cr_expect(ends_with(gm_test_out, "\n      (stack 9: no definition in the capture)\n"), "%s",
	          gm_test_out);
	expect_not_in(gm_test_out, "damaged");
	expect_not_in(gm_test_out, "more\n");
}

Test(stacks_cmd, text_ranked_by_count_and_live)
{
	const char *path = cap_game("game.gmt");
	const char *a, *b, *c, *d, *e;

	cr_assert_eq(run("--by", "count", path), GM_CMD_OK, "%s", gm_test_err);
	expect_in(gm_test_out, "\nby allocation count, top 5 of 5 (stacks naming the same "
	                       "places are one row):\n");
	a = strstr(gm_test_out, "\n#1  50 B in 5 allocations");
	b = strstr(gm_test_out, "\n#2  3.4 KiB in 3 allocations");
	c = strstr(gm_test_out, "\n#3  4.1 KiB in 2 allocations");
	/* one allocation each: the larger first */
	d = strstr(gm_test_out, "\n#4  300 B in 1 allocation ");
	e = strstr(gm_test_out, "\n#5  20 B in 1 allocation ");
	cr_expect(a && b && c && d && e, "%s", gm_test_out);

	cr_assert_eq(run("--by=live", path), GM_CMD_OK, "%s", gm_test_err);
	expect_in(gm_test_out, "\nby bytes live at the end, top 4 of 4 (stacks naming the same "
	                       "places are one row):\n1 row with nothing live at the end not "
	                       "listed\n");
	a = strstr(gm_test_out, "\n#1  3.4 KiB in 3 allocations (largest 2.0 KiB), 2 live at "
	                        "the end (2.4 KiB)\n");
	b = strstr(gm_test_out, "\n#2  300 B in 1 allocation (largest 300 B), 1 live");
	c = strstr(gm_test_out, "\n#3  50 B in 5 allocations");
	d = strstr(gm_test_out, "\n#4  20 B in 1 allocation");
	cr_expect(a && b && c && d, "%s", gm_test_out);
	/* the row whose blocks were all freed is not a place memory stays */
	expect_not_in(gm_test_out, "\n#5 ");
	expect_not_in(gm_test_out, "4.1 KiB in 2 allocations");
	/* frame 2's blocks were all freed: no row, said so */
	cr_assert_eq(run("--by=live", "--from", "2", "--to", "2", path), GM_CMD_OK, "%s",
	             gm_test_err);
	expect_in(gm_test_out, "\n\n1 row with nothing live at the end not listed\n");
	expect_not_in(gm_test_out, "\nby bytes live");
	expect_not_in(gm_test_out, "\n#1 ");

	/* --by bytes is the default */
	cr_assert_eq(run("--by", "bytes", path), GM_CMD_OK, "%s", gm_test_err);
	expect_in(gm_test_out, "\nby allocated bytes, top 5 of 5");
}

Test(stacks_cmd, top_and_depth)
{
	const char *path = cap_game("game.gmt");

	cr_assert_eq(run("--top", "2", path), GM_CMD_OK, "%s", gm_test_err);
	expect_in(gm_test_out, "\nby allocated bytes, top 2 of 5 (");
	expect_in(gm_test_out, "\n#2  3.4 KiB");
	expect_not_in(gm_test_out, "\n#3 ");
	/* the header still counts everything */
	expect_in(gm_test_out, "\nstacks    6 call stacks, 12 of 13 allocations");

	cr_assert_eq(run("--top", "0", path), GM_CMD_OK, "%s", gm_test_err);
	expect_in(gm_test_out, "top 5 of 5 (");
	expect_in(gm_test_out, "\n#5  20 B");

	cr_assert_eq(run("--top=1000000", path), GM_CMD_OK, "%s", gm_test_err);
	expect_in(gm_test_out, "top 5 of 5 (");

	cr_assert_eq(run("--top", "1", "--by", "live", path), GM_CMD_OK, "%s", gm_test_err);
	expect_in(gm_test_out, "top 1 of 4 (");
	expect_in(gm_test_out, "\n#1  3.4 KiB");
	expect_not_in(gm_test_out, "\n#2 ");

	cr_assert_eq(run("--depth", "1", path), GM_CMD_OK, "%s", gm_test_err);
	expect_in(gm_test_out, "2 stacks\n"
	                       "      0x5010\n"
	                       "      ... 1 more\n");
	expect_in(gm_test_out, "(2.4 KiB)\n"
	                       "      0x7f0000101234  libgame.so+0x1234\n"
	                       "      ... 2 more\n");
	expect_in(gm_test_out, "1 failed\n"
	                       "      0x7f0000400040  my lib;v2.so+0x40\n"
	                       "      ... 1 more\n");
	/* rows without frames have nothing more */
	cr_expect_eq(count_of(gm_test_out, " more\n"), 3, "%s", gm_test_out);

	cr_assert_eq(run("--depth", "2", path), GM_CMD_OK, "%s", gm_test_err);
	expect_in(gm_test_out, "      0x7f0000102345  libgame.so+0x2345\n"
	                       "      ... 1 more\n");
	cr_expect_eq(count_of(gm_test_out, " more\n"), 1, "%s", gm_test_out);

	/* a depth at or over the deepest stack, and 0, show every frame */
	cr_assert_eq(run("--depth", "3", path), GM_CMD_OK, "%s", gm_test_err);
	expect_not_in(gm_test_out, " more\n");
	cr_assert_eq(run("--depth=0", path), GM_CMD_OK, "%s", gm_test_err);
	expect_not_in(gm_test_out, " more\n");
	cr_assert_eq(run("--depth", "1000", path), GM_CMD_OK, "%s", gm_test_err);
	expect_in(gm_test_out, "      0x7f0000103456  libgame.so+0x3456\n\n#3");
}

/* Stacks that differ only beyond --depth are one row at that depth. */
Test(stacks_cmd, depth_merges_stacks_that_differ_deeper)
{
	words_t r = {0};
	static const uint64_t a[3] = {0x1111, 0x2222, 0x3333};
	static const uint64_t b[2] = {0x1111, 0x4444};
	const char *path;

	r_process(&r, 10);
	s_stack(&r, 7, a, 3);
	s_stack(&r, 5, b, 2);
	s_site(&r, 7);
	s_alloc(&r, 0x100, 64);
	s_site(&r, 5);
	s_alloc(&r, 0x200, 32);
	s_site(&r, 5);
	s_alloc(&r, 0x300, 32);
	s_free(&r, 0x300);
	path = write_capture("deep.gmt", &r, 1);

	cr_assert_eq(run(path), GM_CMD_OK, "%s", gm_test_err);
	expect_in(gm_test_out, "\nstacks    2 call stacks, 3 of 3 allocations with a stack "
	                       "(128 B of 128 B)\n");
	expect_in(gm_test_out, "top 2 of 2 (");
	cr_expect_eq(count_of(gm_test_out, " stacks\n"), 0, "%s", gm_test_out);
	/* equal bytes: the lower id first */
	expect_in(gm_test_out,
	          "\n#1  64 B in 2 allocations (largest 32 B), 1 live at the end (32 B)\n"
	          "      0x1111\n"
	          "      0x4444\n"
	          "\n#2  64 B in 1 allocation (largest 64 B), 1 live at the end (64 B)\n"
	          "      0x1111\n"
	          "      0x2222\n"
	          "      0x3333\n");

	cr_assert_eq(run("--depth", "1", path), GM_CMD_OK, "%s", gm_test_err);
	expect_in(gm_test_out, "top 1 of 1 (");
	/* the row is the lower id's: stack 5, 2 frames */
	expect_in(gm_test_out,
	          "\n#1  128 B in 3 allocations (largest 64 B), 2 live at the end (96 B), "
	          "2 stacks\n"
	          "      0x1111\n"
	          "      ... 1 more\n");

	cr_assert_eq(run("--json", "--depth", "1", path), GM_CMD_OK, "%s", gm_test_err);
	expect_in(gm_test_out, "\"stacks_recorded\": 2,");
	expect_in(gm_test_out, "\"rows\": 1,");
	expect_in(gm_test_out, "\"id\": 5,");
	expect_in(gm_test_out, "\"merged\": 2,");
	expect_in(gm_test_out, "\"depth\": 2,");
	cr_expect_eq(count_of(gm_test_out, "\"address\""), 1, "%s", gm_test_out);

	cr_assert_eq(run("--folded", "--depth", "1", path), GM_CMD_OK, "%s", gm_test_err);
	cr_expect_str_eq(gm_test_out, "0x1111 128\n");
	cr_assert_eq(run("--folded", "--depth", "2", "--by", "count", path), GM_CMD_OK, "%s",
	             gm_test_err);
	cr_expect_str_eq(gm_test_out, "0x4444;0x1111 2\n0x2222;0x1111 1\n");
}

Test(stacks_cmd, a_capture_without_stacks_says_how_to_record_them)
{
	const char *path = cap_no_stacks("plain.gmt");
	char want[600];

	cr_assert_eq(run(path), GM_CMD_OK, "%s", gm_test_err);
	snprintf(want, sizeof(want),
	         "capture   %s (format %u.%u)\n"
	         "stacks    0 call stacks, 0 of 2 allocations with a stack (0 B of 150 B)\n"
	         "          no call stacks recorded: record with GMTRACE_STACKS=16 (or `gmtrace "
	         "run --stacks 16`)\n",
	         path, GM_FORMAT_VERSION_MAJOR, GM_FORMAT_VERSION_MINOR);
	cr_expect_str_eq(gm_test_out, want);

	cr_assert_eq(run("--folded", path), GM_CMD_OK, "%s", gm_test_err);
	cr_expect_str_eq(gm_test_out, "");

	cr_assert_eq(run("--json", path), GM_CMD_OK, "%s", gm_test_err);
	expect_in(gm_test_out, "\"allocations\": 2,");
	expect_in(gm_test_out, "\"allocated_bytes\": 150,");
	expect_in(gm_test_out, "\"without_stack\": 2,");
	expect_in(gm_test_out, "\"without_stack_bytes\": 150,");
	expect_in(gm_test_out, "\"stacks_recorded\": 0,");
	expect_in(gm_test_out, "\"rows\": 0,");
	expect_in(gm_test_out, "\"frames\": 1,");
	expect_in(gm_test_out, "\"stacks\": []");
}

Test(stacks_cmd, an_empty_capture_has_nothing_to_say)
{
	words_t r = {0};
	const char *path;
	char want[400];

	r_process(&r, 10);
	path = write_capture("empty.gmt", &r, 1);
	cr_assert_eq(run(path), GM_CMD_OK, "%s", gm_test_err);
	snprintf(want, sizeof(want),
	         "capture   %s (format %u.%u)\n"
	         "stacks    0 call stacks, 0 of 0 allocations with a stack (0 B of 0 B)\n",
	         path, GM_FORMAT_VERSION_MAJOR, GM_FORMAT_VERSION_MINOR);
	cr_expect_str_eq(gm_test_out, want);
}

/* ---- --folded ----------------------------------------------------------------- */

Test(stacks_cmd, folded_lines_outermost_first)
{
	const char *path = cap_game("game.gmt");

	/* every row (no --top), ranked by bytes */
	cr_assert_eq(run("--folded", path), GM_CMD_OK, "%s", gm_test_err);
	cr_expect_str_eq(gm_test_out, "0x6020;0x5010 4196\n"
	                              "libgame.so+0x3456;libgame.so+0x2345;libgame.so+0x1234 3500\n"
	                              "[not kept] 300\n"
	                              "libgame.so+0x3456;my_lib_v2.so+0x40 50\n"
	                              "[stack 9] 20\n");
	cr_expect_str_eq(gm_test_err, "");

	/* rows with no bytes live are left out */
	cr_assert_eq(run("--folded", "--by", "live", path), GM_CMD_OK, "%s", gm_test_err);
	cr_expect_str_eq(gm_test_out, "libgame.so+0x3456;libgame.so+0x2345;libgame.so+0x1234 2500\n"
	                              "[not kept] 300\n"
	                              "libgame.so+0x3456;my_lib_v2.so+0x40 50\n"
	                              "[stack 9] 20\n");

	cr_assert_eq(run("--folded", "--by", "count", "--top", "2", path), GM_CMD_OK, "%s",
	             gm_test_err);
	cr_expect_str_eq(gm_test_out, "libgame.so+0x3456;my_lib_v2.so+0x40 5\n"
	                              "libgame.so+0x3456;libgame.so+0x2345;libgame.so+0x1234 3\n");

	cr_assert_eq(run("--folded", "--depth", "1", "--top", "0", path), GM_CMD_OK, "%s",
	             gm_test_err);
	cr_expect_str_eq(gm_test_out, "0x5010 4196\n"
	                              "libgame.so+0x1234 3500\n"
	                              "[not kept] 300\n"
	                              "my_lib_v2.so+0x40 50\n"
	                              "[stack 9] 20\n");

	cr_assert_eq(run("--folded", "--top", "10", "--by", "count", path), GM_CMD_OK, "%s",
	             gm_test_err);
	cr_expect_eq(count_of(gm_test_out, "\n"), 5, "%s", gm_test_out);

	/* --no-symbols changes nothing here: no module can be read */
	cr_assert_eq(run("--folded", "--no-symbols", "--top", "1", path), GM_CMD_OK, "%s",
	             gm_test_err);
	cr_expect_str_eq(gm_test_out, "0x6020;0x5010 4196\n");
}

/* ---- Python frames, stacks written whole ---------------------------------------- */

/* A Python game's capture: stack 1 ends in two Python frames of code 5;
 * three allocations carry their stack whole (two of one stack, one of
 * another), one of them at a Python frame of a code never defined. */
static const char *cap_python(const char *name)
{
	words_t r = {0};
	static const uint64_t f1[3] = {0x5010, PYF(5, 42), PYF(6, 7)};
	static const uint64_t w1[2] = {PYF(5, 50), 0x6000};
	static const uint64_t w2[1] = {PYF(9, 3)};

	r_process(&r, 10);
	s_pycode(&r, 5, 40, "Game.update", "/home/dev/game/game.py");
	s_stack(&r, 1, f1, 3);
	s_site(&r, 1);
	s_alloc(&r, 0x1000, 100);
	s_site_frames(&r, w1, 2);
	s_alloc(&r, 0x2000, 200);
	s_site_frames(&r, w2, 1);
	s_alloc(&r, 0x3000, 50);
	s_site_frames(&r, w1, 2);
	s_alloc(&r, 0x4000, 300);
	s_free(&r, 0x4000);
	s_pycode(&r, 6, 1, "<module>", "/home/dev/game/main.py");
	return write_capture(name, &r, 1);
}

Test(stacks_cmd, python_frames_and_whole_stacks_text)
{
	const char *path = cap_python("py.gmt");

	cr_assert_eq(run("--no-symbols", path), GM_CMD_OK, "%s", gm_test_err);
	cr_expect_str_eq(gm_test_err, "");
	expect_in(gm_test_out, "stacks    3 call stacks, 4 of 4 allocations with a stack "
	                       "(650 B of 650 B)\n"
	                       "          3 allocations (550 B) carry their whole stack in the "
	                       "capture (the game's stack table was full)\n");
	expect_in(gm_test_out, "#1  500 B in 2 allocations (largest 300 B), 1 live at the end "
	                       "(200 B)\n"
	                       "      Game.update (game.py:50)\n"
	                       "      0x6000\n");
	expect_in(gm_test_out, "#2  100 B in 1 allocation (largest 100 B), 1 live at the end "
	                       "(100 B)\n"
	                       "      0x5010\n"
	                       "      Game.update (game.py:42)\n"
	                       "      <module> (main.py:7)\n");
	expect_in(gm_test_out, "#3  50 B in 1 allocation (largest 50 B), 1 live at the end "
	                       "(50 B)\n"
	                       "      <python code 9> (line 3)\n");
}

Test(stacks_cmd, python_frames_and_whole_stacks_json_folded)
{
	const char *path = cap_python("py.gmt");

	cr_assert_eq(run("--json", "--no-symbols", path), GM_CMD_OK, "%s", gm_test_err);
	expect_in(gm_test_out, "  \"written_whole\": 3,\n  \"written_whole_bytes\": 550,\n");
	/* stacks written whole get ids from 2^31, in the order first met */
	expect_in(gm_test_out, "\"id\": 2147483648,\n      \"merged\": 1,\n"
	                       "      \"allocations\": 2,\n      \"allocated_bytes\": 500,");
	expect_in(gm_test_out, "\"id\": 2147483649,\n      \"merged\": 1,\n"
	                       "      \"allocations\": 1,\n      \"allocated_bytes\": 50,");
	expect_in(gm_test_out, "          \"address\": null,\n"
	                       "          \"function\": \"Game.update\",\n"
	                       "          \"file\": \"/home/dev/game/game.py\",\n"
	                       "          \"line\": 42,\n"
	                       "          \"module\": null,\n"
	                       "          \"offset\": 0,\n"
	                       "          \"python\": true,\n"
	                       "          \"inlined\": null\n");
	expect_in(gm_test_out, "          \"address\": \"0x6000\",\n"
	                       "          \"function\": null,\n");

	/* --match: the rows naming game.py (Game.update's), their totals */
	cr_assert_eq(run("--json", "--no-symbols", "--match", "game/game.py", path), GM_CMD_OK,
	             "%s", gm_test_err);
	expect_in(gm_test_out, "  \"match\": \"game/game.py\",\n  \"matched_allocations\": 3,\n"
	                       "  \"matched_allocated_bytes\": 600,\n");
	cr_expect_eq(count_of(gm_test_out, "\"id\": "), 2, "%s", gm_test_out);
	cr_assert_eq(run("--no-symbols", "--match", "<module>", path), GM_CMD_OK, "%s",
	             gm_test_err);
	expect_in(gm_test_out, "match     <module>: 1 allocation (100 B) at stacks with a function "
	                       "or file naming it; the figures below are the whole capture's\n");
	cr_expect_eq(count_of(gm_test_out, "\n#"), 1, "%s", gm_test_out);
	cr_assert_eq(run("--match", "", path), GM_CMD_USAGE);
	expect_in(gm_test_err, "--match takes a function or file name");

	cr_assert_eq(run("--folded", "--no-symbols", path), GM_CMD_OK, "%s", gm_test_err);
	cr_expect_str_eq(gm_test_out, "0x6000;Game.update 500\n"
	                              "<module>;Game.update;0x5010 100\n"
	                              "<python_code_9> 50\n");
}

/* ---- JSON ----------------------------------------------------------------------- */

Test(stacks_cmd, json_keys_and_rows)
{
	const char *path = cap_game("game.gmt");
	char want[300];
	const char *row;

	cr_assert_eq(run("--json", path), GM_CMD_OK, "%s", gm_test_err);
	cr_expect_str_eq(gm_test_err, "");
	snprintf(want, sizeof(want), "{\n  \"capture\": \"%s\",\n  \"by\": \"bytes\",\n", path);
	cr_expect_eq(strncmp(gm_test_out, want, strlen(want)), 0, "%s", gm_test_out);
	expect_in(
	        gm_test_out,
	        "  \"from\": null,\n  \"to\": null,\n  \"frames\": 3,\n"
	        "  \"tag\": null,\n  \"asset\": null,\n  \"asset_id\": null,\n  \"match\": null,\n"
	        "  \"matched_allocations\": null,\n  \"matched_allocated_bytes\": null,\n"
	        "  \"allocations\": 13,\n  \"allocated_bytes\": 10066,\n"
	        "  \"without_stack\": 1,\n  \"without_stack_bytes\": 2000,\n"
	        "  \"stacks_recorded\": 6,\n  \"rows\": 5,\n  \"undefined\": 1,\n"
	        "  \"failed\": 2,\n  \"not_kept\": 1,\n  \"not_kept_bytes\": 300,\n"
	        "  \"written_whole\": 0,\n  \"written_whole_bytes\": 0,\n"
	        "  \"stacks\": [\n");
	cr_expect_eq(count_of(gm_test_out, "\"id\": "), 5, "%s", gm_test_out);
	/* the first row: stacks 2 and 3 */
	row = strstr(gm_test_out, "\"stacks\": [");
	cr_assert_not_null(row);
	expect_in(row, "\"id\": 2,\n      \"merged\": 2,\n      \"allocations\": 2,\n"
	               "      \"allocated_bytes\": 4196,\n      \"largest\": 4096,\n"
	               "      \"live_count\": 0,\n      \"live_bytes\": 0,\n      \"failed\": 0,\n"
	               "      \"depth\": 2,\n      \"frames\": [\n");
	expect_in(row, "\"address\": \"0x5010\",\n          \"function\": null,\n"
	               "          \"file\": null,\n          \"line\": 0,\n"
	               "          \"module\": null,\n          \"offset\": 0,\n"
	               "          \"python\": false,\n          \"inlined\": null\n");
	/* stack 1 */
	expect_in(row,
	          "\"id\": 1,\n      \"merged\": 1,\n      \"allocations\": 3,\n"
	          "      \"allocated_bytes\": 3500,\n      \"largest\": 2000,\n"
	          "      \"live_count\": 2,\n      \"live_bytes\": 2500,\n      \"failed\": 0,\n"
	          "      \"depth\": 3,");
	expect_in(row, "\"address\": \"0x7f0000102345\",\n          \"function\": null,\n"
	               "          \"file\": null,\n          \"line\": 0,\n"
	               "          \"module\": \"/nonexistent/gm/libgame.so\",\n"
	               "          \"offset\": 9029,\n          \"python\": false,\n"
	               "          \"inlined\": null\n");
	/* not kept, at stack id 0 */
	expect_in(row, "\"id\": 0,\n      \"merged\": 1,\n      \"allocations\": 1,\n"
	               "      \"allocated_bytes\": 300,");
	expect_in(row, "\"module\": \"/nonexistent/gm/my lib;v2.so\",\n          \"offset\": 64,\n"
	               "          \"python\": false,\n          \"inlined\": null\n");
	expect_in(row, "\"live_count\": 5,\n      \"live_bytes\": 50,\n      \"failed\": 1,\n"
	               "      \"depth\": 2,");
	/* stack 9: no frames */
	expect_in(row, "\"id\": 9,\n      \"merged\": 1,\n      \"allocations\": 1,\n"
	               "      \"allocated_bytes\": 20,\n      \"largest\": 20,\n"
	               "      \"live_count\": 1,\n      \"live_bytes\": 20,\n      \"failed\": 0,\n"
	               "      \"depth\": 0,\n      \"frames\": []\n");
	cr_expect(ends_with(gm_test_out, "\n  ],\n  \"error\": null\n}\n"), "%s", gm_test_out);

	cr_assert_eq(run("--json", "--by", "count", "--top", "1", "--depth", "1", path), GM_CMD_OK,
	             "%s", gm_test_err);
	expect_in(gm_test_out, "\"by\": \"count\",");
	expect_in(gm_test_out, "\"rows\": 5,");
	cr_expect_eq(count_of(gm_test_out, "\"id\": "), 1, "%s", gm_test_out);
	expect_in(gm_test_out, "\"id\": 4,");
	expect_in(gm_test_out, "\"depth\": 2,");
	cr_expect_eq(count_of(gm_test_out, "\"address\""), 1, "%s", gm_test_out);
	cr_assert_eq(run("--json", "--by", "live", "--no-symbols", path), GM_CMD_OK, "%s",
	             gm_test_err);
	expect_in(gm_test_out, "\"by\": \"live\",");
	cr_expect_eq(count_of(gm_test_out, "\"id\": "), 5, "%s", gm_test_out);
	cr_assert_eq(run("--json", "--top", "0", path), GM_CMD_OK, "%s", gm_test_err);
	cr_expect_eq(count_of(gm_test_out, "\"id\": "), 5, "%s", gm_test_out);
}

/* ---- --from / --to -------------------------------------------------------------- */

Test(stacks_cmd, from_and_to_count_the_frames_asked_for)
{
	const char *path = cap_game("game.gmt");

	cr_assert_eq(run("--from", "2", "--to", "2", path), GM_CMD_OK, "%s", gm_test_err);
	expect_in(gm_test_out, "\nframes    from 2 to 2 (of 3 marks): allocations made there "
	                       "only\n"
	                       "stacks    2 call stacks, 2 of 2 allocations with a stack "
	                       "(4.1 KiB of 4.1 KiB)\n");
	expect_in(gm_test_out, "top 1 of 1 (");
	expect_in(gm_test_out, "\n#1  4.1 KiB in 2 allocations (largest 4.0 KiB), 0 live at the "
	                       "end (0 B), 2 stacks\n");
	expect_not_in(gm_test_out, "not keep");
	expect_not_in(gm_test_out, "not defined");

	cr_assert_eq(run("--from", "3", path), GM_CMD_OK, "%s", gm_test_err);
	expect_in(gm_test_out, "\nframes    from 3 (of 3 marks): allocations made there only\n"
	                       "stacks    3 call stacks, 7 of 8 allocations with a stack "
	                       "(370 B of 2.3 KiB)\n");
	expect_in(gm_test_out, "top 3 of 3 (");

	cr_assert_eq(run("--to", "1", path), GM_CMD_OK, "%s", gm_test_err);
	expect_in(gm_test_out, "\nframes    to 1 (of 3 marks): allocations made there only\n"
	                       "stacks    1 call stack, 3 of 3 allocations with a stack "
	                       "(3.4 KiB of 3.4 KiB)\n");

	/* frames after the last mark: nothing there */
	cr_assert_eq(run("--from", "4", path), GM_CMD_OK, "%s", gm_test_err);
	expect_in(gm_test_out, "stacks    0 call stacks, 0 of 0 allocations with a stack");
	expect_not_in(gm_test_out, "\nby ");

	cr_assert_eq(run("--json", "--from", "2", "--to", "3", path), GM_CMD_OK, "%s", gm_test_err);
	expect_in(
	        gm_test_out,
	        "  \"from\": 2,\n  \"to\": 3,\n  \"frames\": 3,\n"
	        "  \"tag\": null,\n  \"asset\": null,\n  \"asset_id\": null,\n  \"match\": null,\n"
	        "  \"matched_allocations\": null,\n  \"matched_allocated_bytes\": null,\n"
	        "  \"allocations\": 10,\n  \"allocated_bytes\": 6566,\n");
	expect_in(gm_test_out, "  \"failed\": 2,\n");
	cr_assert_eq(run("--json", "--to", "2", path), GM_CMD_OK, "%s", gm_test_err);
	expect_in(gm_test_out, "  \"from\": null,\n  \"to\": 2,\n  \"frames\": 3,\n");
	expect_in(gm_test_out, "  \"failed\": 0,\n");
	cr_assert_eq(run("--json", "--from", "1", path), GM_CMD_OK, "%s", gm_test_err);
	expect_in(gm_test_out, "  \"from\": 1,\n  \"to\": null,\n");

	cr_assert_eq(run("--folded", "--from=1", "--to=1", path), GM_CMD_OK, "%s", gm_test_err);
	cr_expect_str_eq(gm_test_out,
	                 "libgame.so+0x3456;libgame.so+0x2345;libgame.so+0x1234 3500\n");
}

/* ---- --tag / --asset -------------------------------------------------------- */

/* Tags 1 "render", 2 "render/textures", 3 "renderer", 4 "audio"; assets 7
 * "level1" and 8 "level10" (of type "map"). Stacks 1..4, one frame each:
 *   tag 1: stack 1, 100 B;  tag 2: stack 2, 200 B and a failed allocation;
 *   tag 3: stack 3, 400 B;  asset 7, tag 4: stack 4, 800 B;
 *   asset 8, tag 1: stack 1, 1600 B;  no context: 3200 B without a stack. */
static const char *cap_tags(const char *name)
{
	words_t r = {0};
	uint64_t f[1];
	unsigned k;

	r_process(&r, 10);
	s_tag_def(&r, 1, "render");
	s_tag_def(&r, 2, "render/textures");
	s_tag_def(&r, 3, "renderer");
	s_tag_def(&r, 4, "audio");
	s_asset_new(&r, 7, "level1", "map");
	s_asset_new(&r, 8, "level10", "map");
	for (k = 1; k <= 4; k++) {
		f[0] = 0xa0 + k;
		s_stack(&r, k, f, 1);
	}
	s_context(&r, 0, 1);
	s_site(&r, 1);
	s_alloc(&r, 0x100, 100);
	s_context(&r, 0, 2);
	s_site(&r, 2);
	s_alloc(&r, 0x200, 200);
	s_site(&r, 2);
	s_fail(&r, 1u << 20);
	s_context(&r, 0, 3);
	s_site(&r, 3);
	s_alloc(&r, 0x300, 400);
	s_context(&r, 7, 4);
	s_site(&r, 4);
	s_alloc(&r, 0x400, 800);
	s_context(&r, 8, 1);
	s_site(&r, 1);
	s_alloc(&r, 0x500, 1600);
	s_context(&r, 0, 0);
	s_alloc(&r, 0x600, 3200);
	return write_capture(name, &r, 1);
}

Test(stacks_cmd, tag_and_asset_count_the_allocations_made_there)
{
	const char *path = cap_tags("tags.gmt");

	cr_assert_eq(run(path), GM_CMD_OK, "%s", gm_test_err);
	expect_in(gm_test_out, "\nstacks    4 call stacks, 5 of 6 allocations with a stack "
	                       "(3.0 KiB of 6.2 KiB)\n");
	expect_not_in(gm_test_out, "\ntag ");
	expect_not_in(gm_test_out, "\nasset ");

	/* a tag and the tags under it, not a tag whose name only starts alike */
	cr_assert_eq(run("--tag", "render", path), GM_CMD_OK, "%s", gm_test_err);
	expect_in(gm_test_out, "\ntag       render (and the tags under it): allocations made "
	                       "under it only\n"
	                       "stacks    2 call stacks, 3 of 3 allocations with a stack "
	                       "(1.9 KiB of 1.9 KiB)\n");
	expect_not_in(gm_test_out, "\nasset ");
	expect_in(gm_test_out, "\n#1  1.7 KiB in 2 allocations (largest 1.6 KiB), 2 live at "
	                       "the end (1.7 KiB)\n"
	                       "      0xa1\n"
	                       "\n#2  200 B in 1 allocation (largest 200 B), 1 live at the end "
	                       "(200 B), 1 failed\n"
	                       "      0xa2\n");
	cr_assert_eq(run("--folded", "--tag=render/textures", path), GM_CMD_OK, "%s", gm_test_err);
	cr_expect_str_eq(gm_test_out, "0xa2 200\n");
	cr_assert_eq(run("--folded", "--tag", "renderer", path), GM_CMD_OK, "%s", gm_test_err);
	cr_expect_str_eq(gm_test_out, "0xa3 400\n");
	cr_assert_eq(run("--tag", "rend", path), GM_CMD_OK, "%s", gm_test_err);
	expect_in(gm_test_out, "stacks    0 call stacks, 0 of 0 allocations with a stack");
	cr_assert_eq(run("--json", "--tag", "render", path), GM_CMD_OK, "%s", gm_test_err);
	expect_in(
	        gm_test_out,
	        "  \"tag\": \"render\",\n  \"asset\": null,\n  \"asset_id\": null,\n  \"match\": null,\n"
	        "  \"matched_allocations\": null,\n  \"matched_allocated_bytes\": null,\n"
	        "  \"allocations\": 3,\n  \"allocated_bytes\": 1900,\n");
	expect_in(gm_test_out, "  \"failed\": 1,\n");

	/* by count: one allocation each, the larger first */
	cr_assert_eq(run("--folded", "--by", "count", path), GM_CMD_OK, "%s", gm_test_err);
	cr_expect_str_eq(gm_test_out, "0xa1 2\n0xa4 1\n0xa3 1\n0xa2 1\n");

	/* an asset by its name, not its type nor a longer name */
	cr_assert_eq(run("--asset", "level1", path), GM_CMD_OK, "%s", gm_test_err);
	expect_in(gm_test_out, "\nasset     level1: allocations made in its scopes only\n"
	                       "stacks    1 call stack, 1 of 1 allocations with a stack "
	                       "(800 B of 800 B)\n");
	expect_not_in(gm_test_out, "\ntag ");
	cr_assert_eq(run("--folded", "--asset", "level10", path), GM_CMD_OK, "%s", gm_test_err);
	cr_expect_str_eq(gm_test_out, "0xa1 1600\n");
	cr_assert_eq(run("--folded", "--asset", "map", path), GM_CMD_OK, "%s", gm_test_err);
	cr_expect_str_eq(gm_test_out, "");

	/* both: allocations that pass both */
	cr_assert_eq(run("--asset", "level1", "--tag", "audio", path), GM_CMD_OK, "%s",
	             gm_test_err);
	expect_in(gm_test_out, "\ntag       audio (and the tags under it): allocations made "
	                       "under it only\n"
	                       "asset     level1: allocations made in its scopes only\n"
	                       "stacks    1 call stack, 1 of 1 allocations with a stack");
	cr_assert_eq(run("--json", "--asset=level10", "--tag=render", path), GM_CMD_OK, "%s",
	             gm_test_err);
	expect_in(
	        gm_test_out,
	        "  \"tag\": \"render\",\n  \"asset\": \"level10\",\n  \"asset_id\": null,\n  \"match\": null,\n"
	        "  \"matched_allocations\": null,\n  \"matched_allocated_bytes\": null,\n"
	        "  \"allocations\": 1,\n  \"allocated_bytes\": 1600,\n");
	cr_assert_eq(run("--json", "--asset", "level1", "--tag", "render", path), GM_CMD_OK, "%s",
	             gm_test_err);
	expect_in(gm_test_out, "  \"allocations\": 0,\n");

	/* the settings of one run do not stay for the next */
	cr_assert_eq(run("--json", path), GM_CMD_OK, "%s", gm_test_err);
	expect_in(
	        gm_test_out,
	        "  \"tag\": null,\n  \"asset\": null,\n  \"asset_id\": null,\n  \"match\": null,\n"
	        "  \"matched_allocations\": null,\n  \"matched_allocated_bytes\": null,\n"
	        "  \"allocations\": 6,\n");
}

/* ---- damage and write errors --------------------------------------------------------- */

/* Cuts the last 8 bytes of a capture: its last block is damaged. */

Test(stacks_cmd, a_damaged_capture_still_reports_what_came_before)
{
	words_t r[2] = {{0}, {0}};
	static const uint64_t f[1] = {0xabc0};
	const char *path;
	const char *nl;

	r_process(&r[0], 10);
	s_stack(&r[0], 1, f, 1);
	s_site(&r[0], 1);
	s_alloc(&r[0], 0x100, 40);
	r[1].thread = 1;
	r[1].tsc = r[0].tsc;
	s_site(&r[1], 1);
	s_alloc(&r[1], 0x200, 8);
	s_alloc(&r[1], 0x300, 8);
	path = write_capture("damaged.gmt", r, 2);
	gm_test_damage(path);

	cr_expect_eq(run(path), GM_CMD_FAIL);
	expect_in(gm_test_out, "\n#1  40 B in 1 allocation (largest 40 B), 1 live at the end "
	                       "(40 B)\n"
	                       "      0xabc0\n"
	                       "\ndamaged: ");
	cr_expect_eq(strncmp(gm_test_err, "gmtrace: ", 9), 0, "%s", gm_test_err);
	cr_expect_eq(count_of(gm_test_err, "\n"), 1, "one line: %s", gm_test_err);
	/* the same words on both */
	nl = strstr(gm_test_out, "\ndamaged: ");
	cr_assert_not_null(nl);
	cr_expect_str_eq(nl + 10, gm_test_err + 9);

	cr_expect_eq(run("--json", path), GM_CMD_FAIL);
	expect_in(gm_test_out, "\"allocations\": 1,");
	expect_in(gm_test_out, "\"error\": \"");
	expect_not_in(gm_test_out, "\"error\": null");
	cr_expect_eq(strncmp(gm_test_err, "gmtrace: ", 9), 0, "%s", gm_test_err);

	cr_expect_eq(run("--folded", path), GM_CMD_FAIL);
	cr_expect_str_eq(gm_test_out, "0xabc0 40\n");
	cr_expect_eq(strncmp(gm_test_err, "gmtrace: ", 9), 0, "%s", gm_test_err);
}

Test(stacks_cmd, a_full_disk_is_one_clear_error)
{
	const char *path = cap_game("game.gmt");

	cr_expect_eq(run_full(path), GM_CMD_FAIL);
	cr_expect_str_eq(gm_test_err, "gmtrace: stacks: cannot write the report\n");
	cr_expect_eq(run_full("--json", path), GM_CMD_FAIL);
	cr_expect_str_eq(gm_test_err, "gmtrace: stacks: cannot write the report\n");
	cr_expect_eq(run_full("--folded", path), GM_CMD_FAIL);
	cr_expect_str_eq(gm_test_err, "gmtrace: stacks: cannot write the report\n");
}

/* ---- modules and symbols ------------------------------------------------------------- */

/* Functions of this program, named through its own symbols: each on one
 * line, so every address in it is at that line. */
volatile int gm_test_sink;
void gm_test_leaf(void);
void gm_test_cplus(int a, int b) __asm__("_Z13gm_test_cplusii");
void gm_test_badly_mangled(void) __asm__("_Zgm_test_badly_mangled");
// clang-format off
__attribute__((noinline)) void gm_test_leaf(void) { gm_test_sink++; gm_test_sink++; } static const int leaf_line = __LINE__;
// clang-format on
__attribute__((noinline)) void gm_test_cplus(int a, int b)
{
	gm_test_sink += a + b;
}
__attribute__((noinline)) void gm_test_badly_mangled(void)
{
	gm_test_sink += 3;
}

#if defined(__x86_64__) || defined(__i386__)
/* A local function whose symbol carries a version, as in a C library's own
 * symbol table; its address is kept in a word of data. */
__asm__(".text\n"
        ".p2align 4\n"
        ".type \"gm_test_versioned@GM_TEST_1\", @function\n"
        "\"gm_test_versioned@GM_TEST_1\":\n"
        "\tnop\n\tnop\n\tnop\n\tret\n"
        ".size \"gm_test_versioned@GM_TEST_1\", .-\"gm_test_versioned@GM_TEST_1\"\n"
        ".pushsection .data.rel.ro,\"aw\"\n"
        ".p2align 3\n"
        "gm_test_versioned_at:\n"
        "\t.quad \"gm_test_versioned@GM_TEST_1\"\n"
        ".popsection\n");
extern void *const gm_test_versioned_at __asm__("gm_test_versioned_at");
#define HAVE_VERSIONED 1
#else
#define HAVE_VERSIONED 0
#endif

/* This program's file and where it is mapped. */
static void self_module(char *path, size_t n, uint64_t *base)
{
	Dl_info info;
	char buf[PATH_MAX];

	cr_assert_not_null(realpath("/proc/self/exe", buf));
	cr_assert_lt(strlen(buf), n);
	strcpy(path, buf);
	cr_assert_neq(dladdr((void *)gm_test_leaf, &info), 0);
	*base = (uint64_t)(uintptr_t)info.dli_fbase;
}

/* Return addresses "after a call" in this program's functions: the address
 * looked up is the one before. */
#define ret_in(fn, off) ((uint64_t)(uintptr_t)(fn) + (off))

/* This program as a module, stacks in its functions, and modules that
 * cannot be read: a capture file (not a shared object), /dev/null (not a
 * regular file), a relative path, a file that is gone (with a space in its
 * name), one at address 0. Stacks 1 and 2: two addresses in gm_test_leaf;
 * 3: gm_test_cplus(int, int) called from gm_test_leaf; 4: the badly
 * mangled name; 5: the versioned name; 6: one address in each unreadable
 * module, the last 0; 7: in this program's ELF header (no function there),
 * called from past its file, inside its recorded range. */
static const char *cap_symbols(const char *name, const char *not_elf)
{
	words_t r = {0};
	char self[PATH_MAX];
	uint64_t base, f[5];

	self_module(self, sizeof(self), &base);
	r_process(&r, 10);
	s_module(&r, self, base, 1ull << 34);
	s_module(&r, not_elf, 0x10000000, 0x1000);
	s_module(&r, "/dev/null", 0x20000000, 0x1000);
	s_module(&r, "relative/libfoo.so", 0x30000000, 0x1000);
	s_module(&r, "/nonexistent/gm/x y.so", 0x40000000, 0x1000);
	s_module(&r, "/nonexistent/gm/zero.so", 0, 0x1000);
	f[0] = ret_in(gm_test_leaf, 1);
	s_stack(&r, 1, f, 1);
	f[0] = ret_in(gm_test_leaf, 2);
	s_stack(&r, 2, f, 1);
	f[0] = ret_in(gm_test_cplus, 1);
	f[1] = ret_in(gm_test_leaf, 1);
	s_stack(&r, 3, f, 2);
	f[0] = ret_in(gm_test_badly_mangled, 1);
	s_stack(&r, 4, f, 1);
#if HAVE_VERSIONED
	f[0] = (uint64_t)(uintptr_t)gm_test_versioned_at + 1;
#else
	f[0] = ret_in(gm_test_cplus, 2);
#endif
	s_stack(&r, 5, f, 1);
	f[0] = 0x10000010;
	f[1] = 0x20000020;
	f[2] = 0x30000030;
	f[3] = 0x40000040;
	f[4] = 0;
	s_stack(&r, 6, f, 5);
	f[0] = base + 0x21;
	f[1] = base + (1ull << 33);
	s_stack(&r, 7, f, 2);
	/* bytes: 1000, 900, 800, ... so the rows come in stack order */
	s_site(&r, 1);
	s_alloc(&r, 0x1000, 600);
	s_site(&r, 2);
	s_alloc(&r, 0x2000, 400);
	s_site(&r, 3);
	s_alloc(&r, 0x3000, 900);
	s_site(&r, 4);
	s_alloc(&r, 0x4000, 800);
	s_site(&r, 5);
	s_alloc(&r, 0x5000, 700);
	s_site(&r, 6);
	s_alloc(&r, 0x6000, 600);
	s_site(&r, 7);
	s_alloc(&r, 0x7000, 500);
	return write_capture(name, &r, 1);
}

/* A capture file to stand for a module that is not a shared object. */
static const char *not_elf_file(void)
{
	return cap_no_stacks("not_elf.gmt");
}

Test(stacks_cmd, frames_named_from_the_programs_own_symbols)
{
	const char *not_elf = not_elf_file();
	const char *path = cap_symbols("symbols.gmt", not_elf);
	char want[PATH_MAX + 600], self[PATH_MAX], *exe;
	const char *not_elf_base = strrchr(not_elf, '/') + 1;
	uint64_t base;

	self_module(self, sizeof(self), &base);
	exe = strrchr(self, '/') + 1;

	cr_assert_eq(run(path), GM_CMD_OK, "%s", gm_test_err);
	expect_in(gm_test_out, "\nstacks    7 call stacks, 7 of 7 allocations with a stack");
	/* stacks 1 and 2 name the same function, file and line: one row */
	expect_in(gm_test_out, "top 6 of 6 (");
	snprintf(want, sizeof(want),
	         "\n#1  1000 B in 2 allocations (largest 600 B), 2 live at the end (1000 B), "
	         "2 stacks\n"
	         "      gm_test_leaf (test_stacks_cmd.c:%d)  %s+0x%llx\n\n",
	         leaf_line, exe,
	         (unsigned long long)((uint64_t)(uintptr_t)gm_test_leaf + 1 - base));
	expect_in(gm_test_out, want);
	/* C++ names demangled */
	snprintf(want, sizeof(want),
	         "\n#2  900 B in 1 allocation (largest 900 B), 1 live at the end (900 B)\n"
	         "      gm_test_cplus(int, int) (test_stacks_cmd.c:");
	expect_in(gm_test_out, want);
	snprintf(want, sizeof(want), "      gm_test_leaf (test_stacks_cmd.c:%d)  %s+0x", leaf_line,
	         exe);
	expect_in(gm_test_out, want);
	/* a name that is not a valid C++ name stays as it is */
	expect_in(gm_test_out, "\n#3  800 B in 1 allocation (largest 800 B), 1 live at the end "
	                       "(800 B)\n"
	                       "      _Zgm_test_badly_mangled (test_stacks_cmd.c:");
#if HAVE_VERSIONED
	/* the symbol's version is left out */
	snprintf(want, sizeof(want),
	         "\n#4  700 B in 1 allocation (largest 700 B), 1 live at the end (700 B)\n"
	         "      gm_test_versioned");
	expect_in(gm_test_out, want);
	expect_not_in(gm_test_out, "GM_TEST_1");
#endif
	/* modules that cannot be read: module and offset */
	snprintf(want, sizeof(want),
	         "\n#5  600 B in 1 allocation (largest 600 B), 1 live at the end (600 B)\n"
	         "      0x10000010  %s+0x10\n"
	         "      0x20000020  null+0x20\n"
	         "      0x30000030  libfoo.so+0x30\n"
	         "      0x40000040  x y.so+0x40\n"
	         "      0x0  zero.so+0x0\n",
	         not_elf_base);
	expect_in(gm_test_out, want);
	/* in this program's recorded range, past its file */
	snprintf(want, sizeof(want),
	         "\n#6  500 B in 1 allocation (largest 500 B), 1 live at the end (500 B)\n"
	         "      0x%llx  %s+0x21\n"
	         "      0x%llx  %s+0x200000000\n",
	         (unsigned long long)(base + 0x21), exe, (unsigned long long)(base + (1ull << 33)),
	         exe);
	expect_in(gm_test_out, want);

	/* --folded: function names, spaces made '_' */
	cr_assert_eq(run("--folded", path), GM_CMD_OK, "%s", gm_test_err);
	snprintf(want, sizeof(want),
	         "gm_test_leaf 1000\n"
	         "gm_test_leaf;gm_test_cplus(int,_int) 900\n"
	         "_Zgm_test_badly_mangled 800\n");
	cr_expect_eq(strncmp(gm_test_out, want, strlen(want)), 0, "%s", gm_test_out);
	snprintf(want, sizeof(want),
	         "\nzero.so+0x0;x_y.so+0x40;libfoo.so+0x30;null+0x20;%s+0x10 600\n", not_elf_base);
	expect_in(gm_test_out, want);
	snprintf(want, sizeof(want), "\n%s+0x200000000;%s+0x21 500\n", exe, exe);
	expect_in(gm_test_out, want);
#if HAVE_VERSIONED
	expect_in(gm_test_out, "\ngm_test_versioned 700\n");
#endif

	/* JSON: the function, its file and line */
	cr_assert_eq(run("--json", "--top", "1", path), GM_CMD_OK, "%s", gm_test_err);
	expect_in(gm_test_out, "\"merged\": 2,");
	expect_in(gm_test_out, "\"function\": \"gm_test_leaf\",\n          \"file\": \"");
	snprintf(want, sizeof(want), "test_stacks_cmd.c\",\n          \"line\": %d,\n", leaf_line);
	expect_in(gm_test_out, want);
	snprintf(want, sizeof(want), "\"module\": \"%s\",", self);
	expect_in(gm_test_out, want);

	/* --no-symbols: module and offset only, and the two addresses in
	 * gm_test_leaf are two rows again */
	cr_assert_eq(run("--no-symbols", path), GM_CMD_OK, "%s", gm_test_err);
	expect_in(gm_test_out, "top 7 of 7 (");
	expect_not_in(gm_test_out, "gm_test_leaf");
	expect_not_in(gm_test_out, " stacks\n");
	snprintf(want, sizeof(want),
	         "\n#1  900 B in 1 allocation (largest 900 B), 1 live at the end (900 B)\n"
	         "      0x%llx  %s+0x%llx\n",
	         (unsigned long long)ret_in(gm_test_cplus, 1), exe,
	         (unsigned long long)(ret_in(gm_test_cplus, 1) - base));
	expect_in(gm_test_out, want);
	cr_assert_eq(run("--json", "--no-symbols", "--top", "1", path), GM_CMD_OK, "%s",
	             gm_test_err);
	expect_in(gm_test_out, "\"function\": null,\n          \"file\": null,\n"
	                       "          \"line\": 0,\n");
}

/* A module unloaded and another mapped at its addresses: each stack is named
 * in the module mapped when it was defined; a stack defined before any
 * module record is named in the first one recorded after it; the same
 * library loaded again at another base names the same places. */
Test(stacks_cmd, modules_named_as_mapped_when_the_stack_was_defined)
{
	words_t r = {0};
	uint64_t f[1];
	const char *path;

	r_process(&r, 10);
	f[0] = 0x10000100;
	s_stack(&r, 1, f, 1); /* before any module */
	s_module(&r, "/nonexistent/gm/plugin_a.so", 0x10000000, 0x10000);
	f[0] = 0x10000200;
	s_stack(&r, 2, f, 1);
	s_unload(&r, 0x10000000);
	s_module(&r, "/nonexistent/gm/plugin_b.so", 0x10000000, 0x10000);
	f[0] = 0x10000200;
	s_stack(&r, 3, f, 1);
	s_unload(&r, 0x10000000);
	s_unload(&r, 0x55550000); /* never loaded: nothing */
	s_module(&r, "/nonexistent/gm/plugin_a.so", 0x20000000, 0x10000);
	f[0] = 0x20000200;
	s_stack(&r, 4, f, 1);
	s_site(&r, 1);
	s_alloc(&r, 0x100, 500);
	s_site(&r, 2);
	s_alloc(&r, 0x200, 300);
	s_site(&r, 3);
	s_alloc(&r, 0x300, 200);
	s_site(&r, 4);
	s_alloc(&r, 0x400, 100);
	path = write_capture("plugins.gmt", &r, 1);

	cr_assert_eq(run(path), GM_CMD_OK, "%s", gm_test_err);
	expect_in(gm_test_out, "top 3 of 3 (");
	expect_in(gm_test_out, "\n#1  500 B in 1 allocation (largest 500 B), 1 live at the end "
	                       "(500 B)\n"
	                       "      0x10000100  plugin_a.so+0x100\n"
	                       "\n#2  400 B in 2 allocations (largest 300 B), 2 live at the end "
	                       "(400 B), 2 stacks\n"
	                       "      0x10000200  plugin_a.so+0x200\n"
	                       "\n#3  200 B in 1 allocation (largest 200 B), 1 live at the end "
	                       "(200 B)\n"
	                       "      0x10000200  plugin_b.so+0x200\n");
	cr_assert_eq(run("--folded", path), GM_CMD_OK, "%s", gm_test_err);
	cr_expect_str_eq(gm_test_out, "plugin_a.so+0x100 500\n"
	                              "plugin_a.so+0x200 400\n"
	                              "plugin_b.so+0x200 200\n");
}

/* ---- out of memory -------------------------------------------------------------- */

typedef struct oom_case {
	const char *args[4];
	const char *want;     /* in stdout when nothing failed */
	char full[1 << 14];   /* the whole report with nothing failing */
	int raw_names;        /* names that could not be kept demangled are shown raw */
	long raw;             /* runs that showed a raw name */
	long other;           /* runs that ended well with an allocation failed and
	                       another report */
	char sample[1 << 14]; /* the last such report */
} oom_case_t;

/* Replaces each from in text (of cap bytes) by to; returns how many. */
static int replace_all(char *text, size_t cap, const char *from, const char *to)
{
	size_t nf = strlen(from), nt = strlen(to);
	char *p = text;
	int n = 0;

	while ((p = strstr(p, from)) != NULL) {
		cr_assert_lt(strlen(text) + nt, cap);
		memmove(p + nt, p + nf, strlen(p + nf) + 1);
		memcpy(p, to, nt);
		p += nt;
		n++;
	}
	return n;
}

static int oom_run(long n, void *arg)
{
	oom_case_t *c = arg;
	int rc = run_v(NULL, 4, c->args);

	if (rc != GM_CMD_OK && gm_failalloc_fired())
		cr_assert(strstr(gm_test_err, "out of memory") != NULL, "allocation %ld: %s", n,
		          gm_test_err);
	if (rc == GM_CMD_OK && c->raw_names &&
	    replace_all(gm_test_out, sizeof(gm_test_out), "_Z13gm_test_cplusii",
	                "gm_test_cplus(int, int)") +
	                    replace_all(gm_test_out, sizeof(gm_test_out),
	                                "gm_test_versioned@GM_TEST_1", "gm_test_versioned") >
	            0)
		c->raw++;
	if (rc == GM_CMD_OK && strcmp(gm_test_out, c->full) != 0) {
		c->other++;
		memcpy(c->sample, gm_test_out, sizeof(c->sample) - 1);
	}
	return gm_test_oom_outcome(n, rc, c->want);
}

/* Runs the case with nothing failing, then with each allocation failing in
 * turn; returns the number of failing runs. */
static long oom_each(oom_case_t *c)
{
	cr_assert_eq(run_v(NULL, 4, c->args), GM_CMD_OK, "%s", gm_test_err);
	cr_assert_lt(strlen(gm_test_out), sizeof(c->full));
	strcpy(c->full, gm_test_out);
	c->other = c->raw = 0;
	return gm_failalloc_each(oom_run, c, 10000);
}

static oom_case_t oom_c;

Test(stacks_cmd, out_of_memory_anywhere_is_one_error_line)
{
	oom_case_t *c = &oom_c;
	long runs;

	c->args[0] = cap_game("game.gmt");
	c->want = "(stack 9: no definition in the capture)\n";
	runs = oom_each(c);
	cr_expect_gt(runs, 20, "text report (%ld failing runs)", runs);
	/* a run that ends well has the whole report */
	cr_expect_eq(c->other, 0, "%s", c->sample);

	c->args[0] = "--json";
	c->args[1] = cap_game("game2.gmt");
	c->want = "\"not_kept_bytes\": 300,";
	runs = oom_each(c);
	cr_expect_gt(runs, 20, "json report (%ld failing runs)", runs);
	cr_expect_eq(c->other, 0, "%s", c->sample);

	c->args[0] = "--folded";
	c->want = "[stack 9] 20\n";
	runs = oom_each(c);
	cr_expect_gt(runs, 20, "folded report (%ld failing runs)", runs);
	cr_expect_eq(c->other, 0, "%s", c->sample);

	/* Python frames' names, stacks written whole */
	c->args[0] = "--json";
	c->args[1] = cap_python("py.gmt");
	c->want = "\"written_whole_bytes\": 550,";
	runs = oom_each(c);
	cr_expect_gt(runs, 10, "python report (%ld failing runs)", runs);
	cr_expect_eq(c->other, 0, "%s", c->sample);
}

Test(stacks_cmd, out_of_memory_while_naming_frames)
{
	oom_case_t *c = &oom_c;
	long runs;

	c->args[0] = cap_symbols("symbols.gmt", not_elf_file());
	c->want = "gm_test_leaf (test_stacks_cmd.c:";
	c->raw_names = 1;
	runs = oom_each(c);
	cr_expect_gt(runs, 20, "text report (%ld failing runs)", runs);
	/* a name that could not be demangled (or lose its version) for want of
	 * memory makes the run end with "out of memory": no run ends well with
	 * a raw name in its report */
	cr_expect_eq(c->raw, 0);
	cr_expect_eq(c->other, 0, "%s", c->sample);
}

/* A module with a long name: folded lines keep every frame's whole name and
 * offset (two frames that differ only in their offset stay apart). */
Test(stacks_cmd, folded_names_are_never_cut)
{
	words_t r = {0};
	static const char mod[] =
	        "/nonexistent/gm/libAVeryLongModuleNameForAGameEngineRuntime_linux_x86_64.so";
	const uint64_t f[2] = {0x50000200, 0x50000100};
	const char *path;

	r_process(&r, 10);
	s_module(&r, mod, 0x50000000, 0x1000);
	s_stack(&r, 1, f, 2);
	s_site(&r, 1);
	s_alloc(&r, 0x10000, 100);
	path = write_capture("long.gmt", &r, 1);
	cr_assert_eq(run("--folded", path), GM_CMD_OK, "%s", gm_test_err);
	cr_expect_str_eq(gm_test_out,
	                 "libAVeryLongModuleNameForAGameEngineRuntime_linux_x86_64.so+0x100;"
	                 "libAVeryLongModuleNameForAGameEngineRuntime_linux_x86_64.so+0x200 100\n");
}

/* ---- --compare A B ------------------------------------------------------------- */

#define LIB_A 0x7f0000100000ull /* libgame.so in A */
#define LIB_B 0x7f0000500000ull /* the same library in B, at another base */

/* The call sites of the comparison, by the places they name (libgame.so
 * does not exist: its frames are keyed by module and offset; the bare
 * addresses are in no module):
 *   S1 [lib+0x100, lib+0x200]  A: 2 x 500 B, 1 live;  B: 4 x 1000 B, all live
 *   S2 [0x5000]                A: 3 x 1000 B, freed;  B: 1 x 1000 B, freed
 *   S3 [0x8000]                only in B: 2 x 1000 B, 1 live, and a failure
 *   S4 [lib+0x300]             only in A: 700 B, live
 *   S5 [0x6000, 0x7000]        A and B: 100 B, live (unchanged)
 *   S6 [lib+0x400]             A: 100 B, live;  B: 800 B, live
 *   S7 [0x9000]                A: 2 x 400 B, freed;  B: 100 B, freed
 *   S8 [lib+0x100, lib+0x900]  only in B: 500 B, live (S1 at --depth 1)
 * Stack ids differ between the two captures. */
static const char *cap_cmp_a(const char *name)
{
	words_t r = {0};
	static const uint64_t s1[2] = {LIB_A + 0x100, LIB_A + 0x200};
	static const uint64_t s2[1] = {0x5000};
	static const uint64_t s4[1] = {LIB_A + 0x300};
	static const uint64_t s5[2] = {0x6000, 0x7000};
	static const uint64_t s6[1] = {LIB_A + 0x400};
	static const uint64_t s7[1] = {0x9000};
	int i;

	r_process(&r, 10);
	s_module(&r, "/nonexistent/gm/libgame.so", LIB_A, 0x100000);
	s_stack(&r, 1, s1, 2);
	s_stack(&r, 2, s2, 1);
	s_stack(&r, 3, s4, 1);
	s_stack(&r, 4, s5, 2);
	s_stack(&r, 5, s6, 1);
	s_stack(&r, 6, s7, 1);
	s_site(&r, 1);
	s_alloc(&r, 0x1000, 500);
	s_site(&r, 1);
	s_alloc(&r, 0x2000, 500);
	s_free(&r, 0x1000);
	for (i = 0; i < 3; i++) {
		s_site(&r, 2);
		s_alloc(&r, 0x3000, 1000);
		s_free(&r, 0x3000);
	}
	s_site(&r, 3);
	s_alloc(&r, 0x4000, 700);
	s_site(&r, 4);
	s_alloc(&r, 0x5000, 100);
	s_site(&r, 5);
	s_alloc(&r, 0x6000, 100);
	for (i = 0; i < 2; i++) {
		s_site(&r, 6);
		s_alloc(&r, 0x7000, 400);
		s_free(&r, 0x7000);
	}
	s_mark(&r, 1, 0);
	return write_capture(name, &r, 1);
}

/* B; with damaged, a second thread's block whose last bytes are then cut
 * (the reader drops that block: the report is the same, and says so). */
static const char *cap_cmp_b(const char *name, int damaged)
{
	words_t r[2] = {{0}, {0}};
	static const uint64_t s8[2] = {LIB_B + 0x100, LIB_B + 0x900};
	static const uint64_t s1[2] = {LIB_B + 0x100, LIB_B + 0x200};
	static const uint64_t s2[1] = {0x5000};
	static const uint64_t s3[1] = {0x8000};
	static const uint64_t s5[2] = {0x6000, 0x7000};
	static const uint64_t s6[1] = {LIB_B + 0x400};
	static const uint64_t s7[1] = {0x9000};
	const char *path;
	uint64_t i;

	r_process(&r[0], 10);
	s_module(&r[0], "/nonexistent/gm/libgame.so", LIB_B, 0x100000);
	s_stack(&r[0], 21, s8, 2);
	s_stack(&r[0], 22, s1, 2);
	s_stack(&r[0], 23, s2, 1);
	s_stack(&r[0], 24, s3, 1);
	s_stack(&r[0], 25, s5, 2);
	s_stack(&r[0], 26, s6, 1);
	s_stack(&r[0], 27, s7, 1);
	for (i = 0; i < 4; i++) {
		s_site(&r[0], 22);
		s_alloc(&r[0], 0x10000 + 0x1000 * i, 1000);
	}
	s_site(&r[0], 23);
	s_alloc(&r[0], 0x20000, 1000);
	s_free(&r[0], 0x20000);
	s_site(&r[0], 24);
	s_alloc(&r[0], 0x21000, 1000);
	s_site(&r[0], 24);
	s_alloc(&r[0], 0x22000, 1000);
	s_free(&r[0], 0x21000);
	s_site(&r[0], 24);
	s_fail(&r[0], 1u << 30);
	s_site(&r[0], 25);
	s_alloc(&r[0], 0x23000, 100);
	s_site(&r[0], 26);
	s_alloc(&r[0], 0x24000, 800);
	s_site(&r[0], 27);
	s_alloc(&r[0], 0x25000, 100);
	s_free(&r[0], 0x25000);
	s_site(&r[0], 21);
	s_alloc(&r[0], 0x26000, 500);
	s_mark(&r[0], 1, 0);
	if (!damaged)
		return write_capture(name, r, 1);
	r[1].thread = 1;
	r[1].tsc = r[0].tsc;
	s_site(&r[1], 22);
	s_alloc(&r[1], 0x30000, 5000);
	s_alloc(&r[1], 0x31000, 5000);
	path = write_capture(name, r, 2);
	gm_test_damage(path);
	return path;
}

/* The rows by allocated bytes, every frame (A's frames where only A has the
 * site). */
#define CMP_BYTES_ROWS                                                                          \
	"\n#1  +2.9 KiB  (A: 1000 B in 2, 1 live (500 B); B: 3.9 KiB in 4, 4 live (3.9 KiB))\n" \
	"      0x7f0000500100  libgame.so+0x100\n"                                              \
	"      0x7f0000500200  libgame.so+0x200\n"                                              \
	"\n#2  +2.0 KiB  (A: none; B: 2.0 KiB in 2, 1 live (1000 B))\n"                         \
	"      0x8000\n"                                                                        \
	"\n#3  -2.0 KiB  (A: 2.9 KiB in 3, 0 live (0 B); B: 1000 B in 1, 0 live (0 B))\n"       \
	"      0x5000\n"                                                                        \
	"\n#4  +700 B  (A: 100 B in 1, 1 live (100 B); B: 800 B in 1, 1 live (800 B))\n"        \
	"      0x7f0000500400  libgame.so+0x400\n"                                              \
	"\n#5  -700 B  (A: 800 B in 2, 0 live (0 B); B: 100 B in 1, 0 live (0 B))\n"            \
	"      0x9000\n"                                                                        \
	"\n#6  -700 B  (A: 700 B in 1, 1 live (700 B); B: none)\n"                              \
	"      0x7f0000100300  libgame.so+0x300\n"                                              \
	"\n#7  +500 B  (A: none; B: 500 B in 1, 1 live (500 B))\n"                              \
	"      0x7f0000500100  libgame.so+0x100\n"                                              \
	"      0x7f0000500900  libgame.so+0x900\n"

/* want: "compare   A -> B\n" then head, then rows. */
static void expect_compare(const char *pa, const char *pb, const char *head, const char *rows)
{
	char want[4096];

	snprintf(want, sizeof(want), "compare   %s -> %s\n%s%s", pa, pb, head, rows);
	cr_expect_str_eq(gm_test_out, want);
}

Test(stacks_cmd, compare_text_most_changed_first)
{
	const char *pa = cap_cmp_a("a.gmt"), *pb = cap_cmp_b("b.gmt", 0);

	cr_assert_eq(run("--compare", pa, pb), GM_CMD_OK, "%s", gm_test_err);
	cr_expect_str_eq(gm_test_err, "");
	/* largest change first, growth before shrinkage at equal size (#2, #3),
	 * then by the places named (a bare address before a module's, #5, #6);
	 * S5 unchanged is counted, not listed */
	expect_compare(pa, pb, "sites     8 call sites, 7 changed by allocated bytes\n",
	               CMP_BYTES_ROWS);

	/* the options may come before or after --compare */
	cr_assert_eq(run("--compare", pa, pb, "--top", "0", "--by=bytes"), GM_CMD_OK, "%s",
	             gm_test_err);
	expect_compare(pa, pb, "sites     8 call sites, 7 changed by allocated bytes\n",
	               CMP_BYTES_ROWS);
	/* --no-symbols changes nothing: no module can be read */
	cr_assert_eq(run("--no-symbols", "--compare", pa, pb), GM_CMD_OK, "%s", gm_test_err);
	expect_compare(pa, pb, "sites     8 call sites, 7 changed by allocated bytes\n",
	               CMP_BYTES_ROWS);

	/* B against A: every change the other way; only-in-A and only-in-B swap */
	cr_assert_eq(run("--compare", pb, pa, "--top", "3"), GM_CMD_OK, "%s", gm_test_err);
	expect_compare(pb, pa, "sites     8 call sites, 7 changed by allocated bytes\n",
	               "\n#1  -2.9 KiB  (A: 3.9 KiB in 4, 4 live (3.9 KiB); B: 1000 B in 2, 1 "
	               "live (500 B))\n"
	               "      0x7f0000100100  libgame.so+0x100\n"
	               "      0x7f0000100200  libgame.so+0x200\n"
	               "\n#2  +2.0 KiB  (A: 1000 B in 1, 0 live (0 B); B: 2.9 KiB in 3, 0 live "
	               "(0 B))\n"
	               "      0x5000\n"
	               "\n#3  -2.0 KiB  (A: 2.0 KiB in 2, 1 live (1000 B); B: none)\n"
	               "      0x8000\n");

	/* a capture against itself: nothing changed */
	cr_assert_eq(run("--compare", pa, pa), GM_CMD_OK, "%s", gm_test_err);
	expect_compare(pa, pa, "sites     6 call sites, 0 changed by allocated bytes\n", "");
}

Test(stacks_cmd, compare_by_count_and_live)
{
	const char *pa = cap_cmp_a("a.gmt"), *pb = cap_cmp_b("b.gmt", 0);

	/* S6 has one allocation on each side: unchanged by count; equal
	 * changes by the places named (S3's bare address before S1's module) */
	cr_assert_eq(run("--by", "count", "--compare", pa, pb), GM_CMD_OK, "%s", gm_test_err);
	expect_compare(pa, pb, "sites     8 call sites, 6 changed by allocation count\n",
	               "\n#1  +2  (A: none; B: 2.0 KiB in 2, 1 live (1000 B))\n"
	               "      0x8000\n"
	               "\n#2  +2  (A: 1000 B in 2, 1 live (500 B); B: 3.9 KiB in 4, 4 live "
	               "(3.9 KiB))\n"
	               "      0x7f0000500100  libgame.so+0x100\n"
	               "      0x7f0000500200  libgame.so+0x200\n"
	               "\n#3  -2  (A: 2.9 KiB in 3, 0 live (0 B); B: 1000 B in 1, 0 live (0 B))\n"
	               "      0x5000\n"
	               "\n#4  +1  (A: none; B: 500 B in 1, 1 live (500 B))\n"
	               "      0x7f0000500100  libgame.so+0x100\n"
	               "      0x7f0000500900  libgame.so+0x900\n"
	               "\n#5  -1  (A: 800 B in 2, 0 live (0 B); B: 100 B in 1, 0 live (0 B))\n"
	               "      0x9000\n"
	               "\n#6  -1  (A: 700 B in 1, 1 live (700 B); B: none)\n"
	               "      0x7f0000100300  libgame.so+0x300\n");

	/* by bytes live at the end: S2 and S7 (all freed) unchanged */
	cr_assert_eq(run("--compare", pa, pb, "--by", "live"), GM_CMD_OK, "%s", gm_test_err);
	expect_compare(pa, pb, "sites     8 call sites, 5 changed by bytes live at the end\n",
	               "\n#1  +3.4 KiB  (A: 1000 B in 2, 1 live (500 B); B: 3.9 KiB in 4, 4 live "
	               "(3.9 KiB))\n"
	               "      0x7f0000500100  libgame.so+0x100\n"
	               "      0x7f0000500200  libgame.so+0x200\n"
	               "\n#2  +1000 B  (A: none; B: 2.0 KiB in 2, 1 live (1000 B))\n"
	               "      0x8000\n"
	               "\n#3  +700 B  (A: 100 B in 1, 1 live (100 B); B: 800 B in 1, 1 live "
	               "(800 B))\n"
	               "      0x7f0000500400  libgame.so+0x400\n"
	               "\n#4  -700 B  (A: 700 B in 1, 1 live (700 B); B: none)\n"
	               "      0x7f0000100300  libgame.so+0x300\n"
	               "\n#5  +500 B  (A: none; B: 500 B in 1, 1 live (500 B))\n"
	               "      0x7f0000500100  libgame.so+0x100\n"
	               "      0x7f0000500900  libgame.so+0x900\n");
}

Test(stacks_cmd, compare_top_and_depth)
{
	const char *pa = cap_cmp_a("a.gmt"), *pb = cap_cmp_b("b.gmt", 0);

	/* --top: the first rows; the header still counts every site */
	cr_assert_eq(run("--top", "2", "--compare", pa, pb), GM_CMD_OK, "%s", gm_test_err);
	expect_compare(pa, pb, "sites     8 call sites, 7 changed by allocated bytes\n",
	               "\n#1  +2.9 KiB  (A: 1000 B in 2, 1 live (500 B); B: 3.9 KiB in 4, 4 live "
	               "(3.9 KiB))\n"
	               "      0x7f0000500100  libgame.so+0x100\n"
	               "      0x7f0000500200  libgame.so+0x200\n"
	               "\n#2  +2.0 KiB  (A: none; B: 2.0 KiB in 2, 1 live (1000 B))\n"
	               "      0x8000\n");
	cr_assert_eq(run("--top=1", "--by", "count", "--compare", pa, pb), GM_CMD_OK, "%s",
	             gm_test_err);
	expect_compare(pa, pb, "sites     8 call sites, 6 changed by allocation count\n",
	               "\n#1  +2  (A: none; B: 2.0 KiB in 2, 1 live (1000 B))\n"
	               "      0x8000\n");
	/* more than there are, and 0: every changed site */
	cr_assert_eq(run("--top", "1000000", "--compare", pa, pb), GM_CMD_OK, "%s", gm_test_err);
	expect_compare(pa, pb, "sites     8 call sites, 7 changed by allocated bytes\n",
	               CMP_BYTES_ROWS);
	cr_assert_eq(run("--top", "0", "--compare", pa, pb), GM_CMD_OK, "%s", gm_test_err);
	expect_compare(pa, pb, "sites     8 call sites, 7 changed by allocated bytes\n",
	               CMP_BYTES_ROWS);

	/* --depth 1: S1 and S8 (one innermost frame) are one site; S5 is still
	 * unchanged; one frame per row */
	cr_assert_eq(run("--compare", pa, pb, "--depth", "1"), GM_CMD_OK, "%s", gm_test_err);
	expect_compare(pa, pb, "sites     7 call sites, 6 changed by allocated bytes\n",
	               "\n#1  +3.4 KiB  (A: 1000 B in 2, 1 live (500 B); B: 4.4 KiB in 5, 5 live "
	               "(4.4 KiB))\n"
	               "      0x7f0000500100  libgame.so+0x100\n"
	               "      ... 1 more\n" /* the first stack's second frame */
	               "\n#2  +2.0 KiB  (A: none; B: 2.0 KiB in 2, 1 live (1000 B))\n"
	               "      0x8000\n"
	               "\n#3  -2.0 KiB  (A: 2.9 KiB in 3, 0 live (0 B); B: 1000 B in 1, 0 live "
	               "(0 B))\n"
	               "      0x5000\n"
	               "\n#4  +700 B  (A: 100 B in 1, 1 live (100 B); B: 800 B in 1, 1 live "
	               "(800 B))\n"
	               "      0x7f0000500400  libgame.so+0x400\n"
	               "\n#5  -700 B  (A: 800 B in 2, 0 live (0 B); B: 100 B in 1, 0 live (0 B))\n"
	               "      0x9000\n"
	               "\n#6  -700 B  (A: 700 B in 1, 1 live (700 B); B: none)\n"
	               "      0x7f0000100300  libgame.so+0x300\n");
	/* --depth 2 is every frame here */
	cr_assert_eq(run("--compare", pa, pb, "--depth=2"), GM_CMD_OK, "%s", gm_test_err);
	expect_compare(pa, pb, "sites     8 call sites, 7 changed by allocated bytes\n",
	               CMP_BYTES_ROWS);
	cr_assert_eq(run("--depth", "1", "--by", "count", "--top", "1", "--compare", pa, pb),
	             GM_CMD_OK, "%s", gm_test_err);
	expect_compare(pa, pb, "sites     7 call sites, 5 changed by allocation count\n",
	               "\n#1  +3  (A: 1000 B in 2, 1 live (500 B); B: 4.4 KiB in 5, 5 live "
	               "(4.4 KiB))\n"
	               "      0x7f0000500100  libgame.so+0x100\n"
	               "      ... 1 more\n");
}

/* One row of the JSON report, as written. */
#define CMP_JSON_SIDE(ind, key, allocs, bytes, lcount, lbytes, failed)                        \
	ind "\"" key "\": {\n" ind "  \"allocations\": " #allocs ",\n" ind                    \
	    "  \"allocated_bytes\": " #bytes ",\n" ind "  \"live_count\": " #lcount ",\n" ind \
	    "  \"live_bytes\": " #lbytes ",\n" ind "  \"failed\": " #failed "\n" ind "},\n"
#define CMP_JSON_FRAME(addr, module, offset)     \
	"        {\n"                            \
	"          \"address\": \"" addr "\",\n" \
	"          \"function\": null,\n"        \
	"          \"file\": null,\n"            \
	"          \"line\": 0,\n"               \
	"          \"module\": " module ",\n"    \
	"          \"offset\": " #offset ",\n"   \
	"          \"python\": false,\n"         \
	"          \"inlined\": null\n"          \
	"        }"

Test(stacks_cmd, compare_json_keys_and_rows)
{
	const char *pa = cap_cmp_a("a.gmt"), *pb = cap_cmp_b("b.gmt", 0);
	char want[4096];

	cr_assert_eq(run("--json", "--top", "2", "--compare", pa, pb), GM_CMD_OK, "%s",
	             gm_test_err);
	cr_expect_str_eq(gm_test_err, "");
	snprintf(
	        want, sizeof(want),
	        "{\n"
	        "  \"a\": \"%s\",\n"
	        "  \"b\": \"%s\",\n"
	        "  \"by\": \"bytes\",\n"
	        "  \"sites\": 8,\n"
	        "  \"changed\": 7,\n"
	        "  \"check_growth\": null,\n"
	        "  \"grew\": 4,\n"
	        "  \"rows\": [\n"
	        "    {\n"
	        "      \"delta\": 3000,\n" CMP_JSON_SIDE("      ", "in_a", 2, 1000, 1, 500, 0)
	                CMP_JSON_SIDE("      ", "in_b", 4, 4000, 4, 4000, 0) "      \"frames\": [\n" CMP_JSON_FRAME(
	                        "0x7f0000500100", "\"/nonexistent/gm/libgame.so\"",
	                        256) ",\n" CMP_JSON_FRAME("0x7f0000500200",
	                                                  "\"/nonexistent/gm/libgame.so\"",
	                                                  512) "\n"
	                                                       "      ]\n"
	                                                       "    },\n"
	                                                       "    {\n"
	                                                       "      \"delta\": 2000,\n"
	                                                       "      \"in_a\": null,\n" CMP_JSON_SIDE(
	                                                               "      ", "in_b", 2, 2000, 1,
	                                                               1000,
	                                                               1) "      \"frames\": [\n" CMP_JSON_FRAME("0x8000",
	                                                                                                         "null",
	                                                                                                         0) "\n"
	                                                                                                            "      ]\n"
	                                                                                                            "    }\n"
	                                                                                                            "  ],\n"
	                                                                                                            "  \"error_a\": null,\n"
	                                                                                                            "  \"error_b\": null\n"
	                                                                                                            "}\n",
	        pa, pb);
	cr_expect_str_eq(gm_test_out, want);

	/* every row; a shrinkage has a negative delta; a site only in A has
	 * in_b null and A's frames */
	cr_assert_eq(run("--json", "--compare", pa, pb), GM_CMD_OK, "%s", gm_test_err);
	cr_expect_eq(count_of(gm_test_out, "\"delta\": "), 7, "%s", gm_test_out);
	expect_in(gm_test_out,
	          "      \"delta\": -2000,\n" CMP_JSON_SIDE("      ", "in_a", 3, 3000, 0, 0, 0)
	                  CMP_JSON_SIDE("      ", "in_b", 1, 1000, 0, 0, 0));
	expect_in(gm_test_out,
	          "      \"delta\": -700,\n" CMP_JSON_SIDE(
	                  "      ", "in_a", 1, 700, 1, 700,
	                  0) "      \"in_b\": null,\n"
	                     "      \"frames\": [\n" CMP_JSON_FRAME(
	                             "0x7f0000100300", "\"/nonexistent/gm/libgame.so\"",
	                             768) "\n"
	                                  "      ]\n"
	                                  "    },\n");
	cr_expect(ends_with(gm_test_out, "  ],\n  \"error_a\": null,\n  \"error_b\": null\n}\n"),
	          "%s", gm_test_out);
	/* the order of the deltas */
	{
		const char *d[7] = {"\"delta\": 3000,", "\"delta\": 2000,", "\"delta\": -2000,",
		                    "\"delta\": 700,",  "\"delta\": -700,", "\"in_b\": null,",
		                    "\"delta\": 500,"};
		const char *at = gm_test_out;
		int k;

		for (k = 0; k < 7; k++) {
			const char *p = strstr(at, d[k]);

			cr_expect_not_null(p, "%d: %s", k, gm_test_out);
			if (p)
				at = p + 1;
		}
	}

	/* --by count, --depth 1, --check-growth: the number given; grew over it */
	cr_assert_eq(run("--json", "--by", "count", "--depth", "1", "--top", "1", "--check-growth",
	                 "2", "--compare", pa, pb),
	             GM_CMD_FAIL, "%s", gm_test_err);
	cr_expect_str_eq(
	        gm_test_err,
	        "gmtrace stacks: 1 call site grew by more than 2 (the report ranks them)\n");
	snprintf(
	        want, sizeof(want),
	        "{\n"
	        "  \"a\": \"%s\",\n"
	        "  \"b\": \"%s\",\n"
	        "  \"by\": \"count\",\n"
	        "  \"sites\": 7,\n"
	        "  \"changed\": 5,\n"
	        "  \"check_growth\": 2,\n"
	        "  \"grew\": 1,\n"
	        "  \"rows\": [\n"
	        "    {\n"
	        "      \"delta\": 3,\n" CMP_JSON_SIDE("      ", "in_a", 2, 1000, 1, 500, 0) CMP_JSON_SIDE(
	                "      ", "in_b", 5, 4500, 5, 4500,
	                0) "      \"frames\": [\n" CMP_JSON_FRAME("0x7f0000500100",
	                                                          "\"/nonexistent/gm/libgame.so\"",
	                                                          256) "\n"
	                                                               "      ]\n"
	                                                               "    }\n"
	                                                               "  ],\n"
	                                                               "  \"error_a\": null,\n"
	                                                               "  \"error_b\": null\n"
	                                                               "}\n",
	        pa, pb);
	cr_expect_str_eq(gm_test_out, want);

	/* --by live; --check-growth 0 counts every growth */
	cr_assert_eq(run("--json", "--by", "live", "--top", "0", "--check-growth=0", "--compare",
	                 pa, pb),
	             GM_CMD_FAIL, "%s", gm_test_err);
	expect_in(gm_test_out, "  \"by\": \"live\",\n  \"sites\": 8,\n  \"changed\": 5,\n"
	                       "  \"check_growth\": 0,\n  \"grew\": 4,\n  \"rows\": [\n");
	cr_expect_eq(count_of(gm_test_out, "\"delta\": "), 5, "%s", gm_test_out);
	expect_in(gm_test_out, "\"delta\": 3500,");

	/* nothing changed: no rows */
	cr_assert_eq(run("--json", "--compare", pb, pb), GM_CMD_OK, "%s", gm_test_err);
	snprintf(want, sizeof(want),
	         "{\n  \"a\": \"%s\",\n  \"b\": \"%s\",\n  \"by\": \"bytes\",\n  \"sites\": 7,\n"
	         "  \"changed\": 0,\n  \"check_growth\": null,\n  \"grew\": 0,\n  \"rows\": [],\n"
	         "  \"error_a\": null,\n  \"error_b\": null\n}\n",
	         pb, pb);
	cr_expect_str_eq(gm_test_out, want);
}

Test(stacks_cmd, compare_check_growth_gates_on_the_largest_growth)
{
	const char *pa = cap_cmp_a("a.gmt"), *pb = cap_cmp_b("b.gmt", 0);

	/* S1 grew by 3000 B: over 2999, not over 3000 */
	cr_expect_eq(run("--check-growth", "2999", "--compare", pa, pb), GM_CMD_FAIL);
	cr_expect_str_eq(gm_test_err, "gmtrace stacks: 1 call site grew by more than 2999 (the "
	                              "report ranks them)\n");
	expect_compare(pa, pb,
	               "sites     8 call sites, 7 changed by allocated bytes, 1 grew by more "
	               "than 2999\n",
	               CMP_BYTES_ROWS);
	cr_expect_eq(run("--compare", pa, pb, "--check-growth", "3000"), GM_CMD_OK, "%s",
	             gm_test_err);
	cr_expect_str_eq(gm_test_err, "");
	expect_compare(pa, pb,
	               "sites     8 call sites, 7 changed by allocated bytes, 0 grew by more "
	               "than 3000\n",
	               CMP_BYTES_ROWS);
	/* S3 grew by exactly 2000: S1 only */
	cr_expect_eq(run("--compare", pa, pb, "--check-growth=2000"), GM_CMD_FAIL);
	expect_in(gm_test_out, ", 7 changed by allocated bytes, 1 grew by more than 2000\n");
	cr_expect_eq(run("--compare", pa, pb, "--check-growth=1999"), GM_CMD_FAIL);
	expect_in(gm_test_out, ", 7 changed by allocated bytes, 2 grew by more than 1999\n");
	/* shrinkage never counts */
	cr_expect_eq(run("--compare", pb, pa, "--check-growth", "2000"), GM_CMD_OK, "%s",
	             gm_test_err);
	expect_in(gm_test_out, ", 7 changed by allocated bytes, 0 grew by more than 2000\n");
	cr_expect_eq(run("--compare", pb, pa, "--check-growth", "1999"), GM_CMD_FAIL);
	expect_in(gm_test_out, ", 1 grew by more than 1999\n");

	/* by count: allocations; S1 and S3 grew by 2 */
	cr_expect_eq(run("--by", "count", "--check-growth", "1", "--top", "1", "--compare", pa, pb),
	             GM_CMD_FAIL);
	expect_compare(pa, pb,
	               "sites     8 call sites, 6 changed by allocation count, 2 grew by more "
	               "than 1\n",
	               "\n#1  +2  (A: none; B: 2.0 KiB in 2, 1 live (1000 B))\n"
	               "      0x8000\n");
	cr_expect_eq(run("--by", "count", "--check-growth", "2", "--top", "1", "--compare", pa, pb),
	             GM_CMD_OK, "%s", gm_test_err);
	expect_in(gm_test_out, ", 6 changed by allocation count, 0 grew by more than 2\n");
	/* by live: S1 grew by 3500 B */
	cr_expect_eq(run("--by", "live", "--check-growth", "3499", "--compare", pa, pb),
	             GM_CMD_FAIL);
	expect_in(gm_test_out, ", 5 changed by bytes live at the end, 1 grew by more than 3499\n");
	cr_expect_eq(run("--by", "live", "--check-growth", "3500", "--compare", pa, pb), GM_CMD_OK,
	             "%s", gm_test_err);
	expect_in(gm_test_out, ", 5 changed by bytes live at the end, 0 grew by more than 3500\n");
	/* the largest number there is */
	cr_expect_eq(run("--check-growth", "18446744073709551615", "--compare", pa, pb), GM_CMD_OK,
	             "%s", gm_test_err);
	expect_in(gm_test_out, ", 0 grew by more than 18446744073709551615\n");
}

Test(stacks_cmd, compare_a_damaged_capture_still_reports)
{
	const char *pa = cap_cmp_a("a.gmt"), *pb = cap_cmp_b("b.gmt", 1);
	const char *nl;
	/* room for two messages and the rows around them */
	char want[2 * sizeof(gm_test_err) + 4096], msg[sizeof(gm_test_err)];

	cr_expect_eq(run("--compare", pa, pb), GM_CMD_FAIL);
	/* one line on stderr, the same words as the report's last line */
	cr_expect_eq(strncmp(gm_test_err, "gmtrace: ", 9), 0, "%s", gm_test_err);
	cr_expect_eq(count_of(gm_test_err, "\n"), 1, "one line: %s", gm_test_err);
	expect_in(gm_test_err, pb);
	strcpy(msg, gm_test_err + 9);
	snprintf(want, sizeof(want), "%s\ndamaged: %s", CMP_BYTES_ROWS, msg);
	expect_compare(pa, pb, "sites     8 call sites, 7 changed by allocated bytes\n", want);
	nl = strstr(gm_test_out, "\ndamaged: ");
	cr_assert_not_null(nl);
	cr_expect_str_eq(nl + 10, msg);

	/* JSON: error_b, the same words */
	cr_expect_eq(run("--json", "--top", "1", "--compare", pa, pb), GM_CMD_FAIL);
	msg[strlen(msg) - 1] = '\0';
	snprintf(want, sizeof(want), "  ],\n  \"error_a\": null,\n  \"error_b\": \"%s\"\n}\n", msg);
	cr_expect(ends_with(gm_test_out, want), "%s", gm_test_out);
	expect_in(gm_test_out, "  \"sites\": 8,\n  \"changed\": 7,\n");
	cr_expect_eq(count_of(gm_test_err, "\n"), 1, "one line: %s", gm_test_err);

	/* the damaged one as A: error_a; a growth over --check-growth too:
	 * still exit 1, the damage said */
	cr_expect_eq(run("--json", "--top", "1", "--check-growth", "0", "--compare", pb, pa),
	             GM_CMD_FAIL);
	snprintf(want, sizeof(want), "  ],\n  \"error_a\": \"%s\",\n  \"error_b\": null\n}\n", msg);
	cr_expect(ends_with(gm_test_out, want), "%s", gm_test_out);
	cr_expect_eq(count_of(gm_test_err, "\n"), 1, "one line: %s", gm_test_err);
	cr_expect_eq(run("--compare", pb, pa), GM_CMD_FAIL);
	snprintf(want, sizeof(want), "\n      0x7f0000500900  libgame.so+0x900\n\ndamaged: %s\n",
	         msg);
	cr_expect(ends_with(gm_test_out, want), "%s", gm_test_out);

	/* both damaged: two lines each */
	cr_expect_eq(run("--compare", pb, pb), GM_CMD_FAIL);
	snprintf(want, sizeof(want), "\ndamaged: %s\n\ndamaged: %s\n", msg, msg);
	cr_expect(ends_with(gm_test_out, want), "%s", gm_test_out);
	snprintf(want, sizeof(want), "gmtrace: %s\ngmtrace: %s\n", msg, msg);
	cr_expect_str_eq(gm_test_err, want);
}

Test(stacks_cmd, compare_a_missing_capture_is_one_error_line)
{
	const char *pb = cap_cmp_b("b.gmt", 0);
	char missing[200], missing2[200];

	snprintf(missing, sizeof(missing), "%s/missing.gmt", tmpdir);
	snprintf(missing2, sizeof(missing2), "%s/missing2.gmt", tmpdir);
	/* A missing: B is not read (a missing B would be a second line) */
	cr_expect_eq(run("--compare", missing, missing2), GM_CMD_FAIL);
	cr_expect_eq(strncmp(gm_test_err, "gmtrace: ", 9), 0, "%s", gm_test_err);
	cr_expect_eq(count_of(gm_test_err, "\n"), 1, "one line: %s", gm_test_err);
	expect_in(gm_test_err, "missing.gmt");
	expect_not_in(gm_test_err, "missing2.gmt");
	cr_expect_str_eq(gm_test_out, "");
	cr_expect_eq(run("--json", "--check-growth", "0", "--compare", missing, pb), GM_CMD_FAIL);
	cr_expect_eq(count_of(gm_test_err, "\n"), 1, "one line: %s", gm_test_err);
	expect_in(gm_test_err, "missing.gmt");
	cr_expect_str_eq(gm_test_out, "");

	/* B missing */
	cr_expect_eq(run("--compare", pb, missing2), GM_CMD_FAIL);
	cr_expect_eq(strncmp(gm_test_err, "gmtrace: ", 9), 0, "%s", gm_test_err);
	cr_expect_eq(count_of(gm_test_err, "\n"), 1, "one line: %s", gm_test_err);
	expect_in(gm_test_err, "missing2.gmt");
	cr_expect_str_eq(gm_test_out, "");
	cr_expect_eq(run("--json", "--compare", pb, missing2), GM_CMD_FAIL);
	cr_expect_eq(count_of(gm_test_err, "\n"), 1, "one line: %s", gm_test_err);
	cr_expect_str_eq(gm_test_out, "");
}

Test(stacks_cmd, compare_bad_arguments_say_what_is_wrong)
{
	static const struct {
		const char *args[7];
		const char *msg;
	} cases[] = {
	        {{"--compare"}, "--compare takes two captures, once"},
	        {{"--compare", "a.gmt"}, "--compare takes two captures, once"},
	        {{"--json", "--compare", "a.gmt"}, "--compare takes two captures, once"},
	        {{"--compare", "a.gmt", "b.gmt", "--compare", "c.gmt", "d.gmt"},
	         "--compare takes two captures, once"},
	        {{"--compare", "a.gmt", "b.gmt", "--compare", "a.gmt", "b.gmt"},
	         "--compare takes two captures, once"},
	        {{"--compare", "a.gmt", "b.gmt", "c.gmt"},
	         "--compare A B takes no other capture and no --folded"},
	        {{"c.gmt", "--compare", "a.gmt", "b.gmt"},
	         "--compare A B takes no other capture and no --folded"},
	        {{"--folded", "--compare", "a.gmt", "b.gmt"},
	         "--compare A B takes no other capture and no --folded"},
	        {{"--compare", "a.gmt", "b.gmt", "--folded"},
	         "--compare A B takes no other capture and no --folded"},
	        {{"--check-growth", "10", "x.gmt"}, "--check-growth goes with --compare A B"},
	        {{"--check-growth=0", "x.gmt"}, "--check-growth goes with --compare A B"},
	        {{"--check-growth", "10"}, "--check-growth goes with --compare A B"},
	        {{"--check-growth", "x", "--compare", "a.gmt", "b.gmt"},
	         "--check-growth takes a number"},
	        {{"--check-growth", "-1", "--compare", "a.gmt", "b.gmt"},
	         "--check-growth takes a number"},
	        {{"--check-growth", "1.5", "--compare", "a.gmt", "b.gmt"},
	         "--check-growth takes a number"},
	        {{"--check-growth=", "--compare", "a.gmt", "b.gmt"},
	         "--check-growth takes a number"},
	        {{"--check-growth", "18446744073709551616", "--compare", "a.gmt", "b.gmt"},
	         "--check-growth takes a number"},
	        {{"--compare", "a.gmt", "b.gmt", "--check-growth"},
	         "--check-growth takes a number"},
	        /* the other options are checked as without --compare */
	        {{"--compare", "a.gmt", "b.gmt", "--by", "size"},
	         "--by takes bytes, count or live"},
	        {{"--compare", "a.gmt", "b.gmt", "--top", "x"}, "--top takes a number 0..1000000"},
	        {{"--compare", "a.gmt", "b.gmt", "--depth", "1001"},
	         "--depth takes a number 0..1000"},
	        {{"--compare", "a.gmt", "b.gmt", "--from", "3", "--to", "2"},
	         "--from 3 is after --to 2"},
	        {{"--compare", "a.gmt", "b.gmt", "--json", "--folded"},
	         "--json and --folded do not go together"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = run_v(NULL, 7, cases[i].args);

		gm_test_expect_usage(rc, "stacks", cases[i].msg, i);
		cr_expect(strstr(gm_test_err, "\nusage: gmtrace stacks [--json | --folded]") !=
		                  NULL,
		          "case %zu: %s", i, gm_test_err);
		cr_expect(strstr(gm_test_err, "[--check-growth N] --compare A B\n") != NULL,
		          "case %zu: %s", i, gm_test_err);
		cr_expect_str_eq(gm_test_out, "", "case %zu: nothing on stdout", i);
	}
}

Test(stacks_cmd, compare_a_full_disk_is_one_clear_error)
{
	const char *pa = cap_cmp_a("a.gmt"), *pb = cap_cmp_b("b.gmt", 0);

	cr_expect_eq(run_full("--compare", pa, pb), GM_CMD_FAIL);
	cr_expect_str_eq(gm_test_err, "gmtrace: stacks: cannot write the report\n");
	cr_expect_eq(run_full("--json", "--compare", pa, pb), GM_CMD_FAIL);
	cr_expect_str_eq(gm_test_err, "gmtrace: stacks: cannot write the report\n");
}

Test(stacks_cmd, compare_out_of_memory_anywhere_is_one_error_line)
{
	oom_case_t *c = &oom_c;
	long runs;

	c->args[0] = "--compare";
	c->args[1] = cap_cmp_a("a.gmt");
	c->args[2] = cap_cmp_b("b.gmt", 0);
	c->want = "\n      0x7f0000500900  libgame.so+0x900\n";
	runs = oom_each(c);
	cr_expect_gt(runs, 20, "text report (%ld failing runs)", runs);
	cr_expect_eq(c->other, 0, "%s", c->sample);
	cr_expect(ends_with(c->full, CMP_BYTES_ROWS), "%s", c->full);

	c->args[0] = "--json";
	c->args[1] = "--compare";
	c->args[2] = cap_cmp_a("a2.gmt");
	c->args[3] = cap_cmp_b("b2.gmt", 0);
	c->want = "\"delta\": 500,";
	runs = oom_each(c);
	cr_expect_gt(runs, 20, "json report (%ld failing runs)", runs);
	cr_expect_eq(c->other, 0, "%s", c->sample);
	cr_expect(ends_with(c->full, "\"error_b\": null\n}\n"), "%s", c->full);
}

/* Sites with no frames (a stack never defined) are not matched across two
 * captures by their ids, which mean nothing from one run to the next. */
Test(stacks_cmd, compare_never_matches_sites_without_frames)
{
	words_t r[2] = {{0}, {0}};
	const char *pa, *pb;
	int k;

	for (k = 0; k < 2; k++) {
		r_process(&r[k], 10);
		s_site(&r[k], 9);
		s_alloc(&r[k], 0x10000, 100 * (uint64_t)(k + 1));
	}
	pa = write_capture("nf_a.gmt", &r[0], 1);
	pb = write_capture("nf_b.gmt", &r[1], 1);
	cr_assert_eq(run("--json", "--compare", pa, pb), GM_CMD_OK, "%s", gm_test_err);
	expect_in(gm_test_out, "\"sites\": 2,");
	expect_in(gm_test_out, "\"changed\": 2,");
	cr_assert_eq(run("--compare", pa, pb), GM_CMD_OK, "%s", gm_test_err);
	expect_in(gm_test_out, "\n#1  +200 B  (A: none; B: 200 B in 1, 1 live (200 B))\n"
	                       "      (stack 9: no definition in the capture)\n"
	                       "\n#2  -100 B  (A: 100 B in 1, 1 live (100 B); B: none)\n"
	                       "      (stack 9: no definition in the capture)\n");
}

/* Two builds of one game named apart (game-1.2, game-1.3: no symbols, so
 * frames are keyed by module and offset): the program's own frames match
 * across them, a library's by its file name. Without that every row of
 * the program would read as gone from A and new in B. */
static const char *cap_renamed(const char *name, const char *exe, uint64_t base, uint64_t bytes)
{
	words_t r = {0};
	const uint64_t in_exe[2] = {base + 0x1234, base + 0x2000};

	s_process_exe(&r, exe);
	s_module(&r, exe, base, 0x100000);
	s_stack(&r, 1, in_exe, 2);
	s_site(&r, 1);
	s_alloc(&r, 0x1000, bytes);
	s_mark(&r, 1, 0);
	return write_capture(name, &r, 1);
}

Test(stacks_cmd, compare_matches_the_program_under_another_name)
{
	char pa[256], pb[256];

	snprintf(pa, sizeof(pa), "%s",
	         cap_renamed("renamed_a.gmt", "/nonexistent/gm/game-1.2", 0x400000, 500));
	snprintf(pb, sizeof(pb), "%s",
	         cap_renamed("renamed_b.gmt", "/other/gm/game-1.3", 0x500000, 800));
	cr_assert_eq(run("--compare", pa, pb), GM_CMD_OK, "%s", gm_test_err);
	cr_expect(strstr(gm_test_out, "sites     1 call sites, 1 changed by allocated bytes\n"),
	          "one row for the program's call site in both: %s", gm_test_out);
}

/* With --check-growth, the call sites that grew past it come first, so that
 * --top keeps them: by bytes, +3000, +2000, -2000, +700, -700, +500; past 600
 * the first three shown are +3000, +2000 and +700 (-2000 was third). */
Test(stacks_cmd, compare_check_growth_puts_the_failures_first)
{
	const char *pa = cap_cmp_a("a.gmt"), *pb = cap_cmp_b("b.gmt", 0);
	const char *at, *d[3] = {"\"delta\": 3000,", "\"delta\": 2000,", "\"delta\": 700,"};
	int k;

	cr_expect_eq(run("--json", "--compare", pa, pb, "--check-growth", "600", "--top", "3"),
	             GM_CMD_FAIL);
	cr_expect_eq(count_of(gm_test_out, "\"delta\": "), 3, "%s", gm_test_out);
	for (k = 0, at = gm_test_out; k < 3; k++) {
		const char *p = strstr(at, d[k]);
		cr_expect_not_null(p, "%d: %s", k, gm_test_out);
		if (p)
			at = p + 1;
	}
	cr_expect_str_eq(gm_test_err, "gmtrace stacks: 3 call sites grew by more than 600 (the "
	                              "report ranks them)\n");
	/* without the gate, the largest changes as before */
	cr_expect_eq(run("--json", "--compare", pa, pb, "--top", "3"), GM_CMD_OK);
	expect_in(gm_test_out, "\"delta\": -2000,");
}
