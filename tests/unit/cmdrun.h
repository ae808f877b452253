/* cmdrun.h - run a gmtrace command in the test process, its output in strings
 *
 * gm_test_cmd(cmd, name, dir, stdout_path, nargs, args) calls cmd
 * (gm_cmd_pools, gm_cmd_frames, ...) with argv[0] = name, stdout in a file
 * of dir (or in stdout_path, e.g. /dev/full, to see how the command takes a
 * write error) and stderr in another, then reads both back into
 * gm_test_out and gm_test_err (empty out when stdout_path is given);
 * gm_test_cmd_into does the same into buffers of the caller's. Returns the
 * exit status. Used by the command tests that link analysis/cmd/<cmd>.c.
 * gm_test_expect_usage checks a run stopped at its arguments;
 * gm_test_oom_outcome and oom_cmd_check judge a run under
 * gm_failalloc_each (failalloc.h); gm_test_damage cuts a capture's end.
 */
#ifndef GM_TEST_CMDRUN_H
#define GM_TEST_CMDRUN_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "analysis/cmd/cmd.h"
#include "failalloc.h"

static char gm_test_out[1 << 17], gm_test_err[1 << 12];

/* Cuts the last 8 bytes of a capture: its last block is damaged. */
static inline void gm_test_damage(const char *path)
{
	FILE *f = fopen(path, "rb");
	long size;

	cr_assert_not_null(f);
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fclose(f);
	cr_assert_eq(truncate(path, size - 8), 0);
}

/* The file's text into buf (cut to n - 1 bytes); the file goes. */
static inline void gm_test_slurp(const char *file, char *buf, size_t n)
{
	FILE *f = fopen(file, "r");
	size_t got;

	cr_assert_not_null(f, "%s", file);
	got = fread(buf, 1, n - 1, f);
	buf[got] = '\0';
	fclose(f);
	unlink(file);
}

/* The same into the buffers given (out may be NULL: stdout not kept).
 * args: nargs words (a NULL among them ends them early). The files are
 * named after the process, so tests running at once in one folder never
 * share them. */
static inline int gm_test_cmd_into(int (*cmd)(int, char **), const char *name, const char *dir,
                                   const char *stdout_path, int nargs, const char *const *args,
                                   char *out, size_t outcap, char *err, size_t errcap)
{
	char *argv[160], ofile[200], efile[200];
	int argc = 1, rc, so, se, i;

	argv[0] = (char *)name;
	for (i = 0; i < nargs && args[i]; i++) {
		cr_assert_lt(argc, 159);
		argv[argc++] = (char *)args[i];
	}
	argv[argc] = NULL;
	snprintf(ofile, sizeof(ofile), "%s/gm_cmd_out.%ld.txt", dir, (long)getpid());
	snprintf(efile, sizeof(efile), "%s/gm_cmd_err.%ld.txt", dir, (long)getpid());
	fflush(stdout);
	fflush(stderr);
	so = dup(1);
	se = dup(2);
	cr_assert_not_null(freopen(stdout_path ? stdout_path : ofile, "w", stdout));
	cr_assert_not_null(freopen(efile, "w", stderr));
	rc = cmd(argc, argv);
	fflush(stdout);
	fflush(stderr);
	clearerr(stdout);
	dup2(so, 1);
	dup2(se, 2);
	close(so);
	close(se);
	if (out)
		out[0] = '\0';
	if (!stdout_path) {
		if (out)
			gm_test_slurp(ofile, out, outcap);
		else
			unlink(ofile);
	}
	gm_test_slurp(efile, err, errcap);
	return rc;
}

static inline int gm_test_cmd(int (*cmd)(int, char **), const char *name, const char *dir,
                              const char *stdout_path, int nargs, const char *const *args)
{
	return gm_test_cmd_into(cmd, name, dir, stdout_path, nargs, args, gm_test_out,
	                        sizeof(gm_test_out), gm_test_err, sizeof(gm_test_err));
}

/* Checks that the run of gmtrace NAME that returned rc stopped at its
 * arguments: status GM_CMD_USAGE, stderr starting "gmtrace NAME: msg" and
 * holding the usage. i numbers the case in the messages. */
static inline void gm_test_expect_usage(int rc, const char *name, const char *msg, size_t i)
{
	char want[160], usage[80];

	snprintf(want, sizeof(want), "gmtrace %s: %s", name, msg);
	snprintf(usage, sizeof(usage), "usage: gmtrace %s", name);
	cr_expect_eq(rc, GM_CMD_USAGE, "case %zu", i);
	cr_expect_eq(strncmp(gm_test_err, want, strlen(want)), 0, "case %zu: '%s'", i, gm_test_err);
	cr_expect(strstr(gm_test_err, usage) != NULL, "missing '%s' in:\n%s", usage, gm_test_err);
}

/* For gm_failalloc_each: checks a run that returned rc with allocation n
 * failing. Status GM_CMD_OK: stdout holds want; returns 0. Else status
 * GM_CMD_FAIL and one "gmtrace: " line on stderr; returns 1. */
static inline int gm_test_oom_outcome(long n, int rc, const char *want)
{
	if (rc == GM_CMD_OK) {
		cr_assert(strstr(gm_test_out, want), "allocation %ld: no '%s' in %s", n, want,
		          gm_test_out);
		return 0;
	}
	cr_assert_eq(rc, GM_CMD_FAIL, "allocation %ld: status %d", n, rc);
	cr_assert_eq(strncmp(gm_test_err, "gmtrace: ", 9), 0, "allocation %ld: '%s'", n,
	             gm_test_err);
	cr_assert_not_null(strchr(gm_test_err, '\n'), "allocation %ld: one line", n);
	cr_assert_eq(strchr(gm_test_err, '\n') + 1, gm_test_err + strlen(gm_test_err),
	             "allocation %ld: one line: %s", n, gm_test_err);
	return 1;
}

/* For gm_failalloc_each, when the caller collected the output itself:
 * with nothing failing (n < 0, or the failure never fired), status
 * GM_CMD_OK and want in out; returns 0. Else status GM_CMD_FAIL and an
 * out-of-memory message in err; returns 1. */
static inline int oom_cmd_check(long n, int rc, const char *out, const char *err, const char *want)
{
	if (n < 0 || !gm_failalloc_fired()) {
		cr_assert_eq(rc, GM_CMD_OK, "%s", err);
		cr_assert(strstr(out, want), "%s", out);
		return 0;
	}
	cr_assert_eq(rc, GM_CMD_FAIL, "allocation %ld: %s", n, err);
	cr_assert(strstr(err, "out of memory") || strstr(err, "Cannot allocate memory"),
	          "allocation %ld: %s", n, err);
	return 1;
}

#endif
