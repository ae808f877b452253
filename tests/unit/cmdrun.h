/* cmdrun.h - run a gmtrace command in the test process, its output in strings
 *
 * gm_test_cmd(cmd, name, dir, stdout_path, nargs, args) calls cmd
 * (gm_cmd_pools, gm_cmd_frames, ...) with argv[0] = name, stdout in a file
 * of dir (or in stdout_path, e.g. /dev/full, to see how the command takes a
 * write error) and stderr in another, then reads both back into
 * gm_test_out and gm_test_err (empty out when stdout_path is given);
 * gm_test_cmd_into does the same into buffers of the caller's. Returns the
 * exit status. Used by the command tests that link analysis/cmd/<cmd>.c.
 */
#ifndef GM_TEST_CMDRUN_H
#define GM_TEST_CMDRUN_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char gm_test_out[1 << 17], gm_test_err[1 << 12];

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

#endif
