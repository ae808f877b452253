/* cmdrun.h - run a gmtrace command in the test process, its output in strings
 *
 * gm_test_cmd(cmd, name, dir, stdout_path, argv...) calls cmd (gm_cmd_pools,
 * gm_cmd_frames, ...) with argv[0] = name, stdout in a file of dir (or in
 * stdout_path, e.g. /dev/full, to see how the command takes a write error)
 * and stderr in another, then reads both back into gm_test_out and
 * gm_test_err (empty out when stdout_path is given). Returns the exit
 * status. Used by the command tests that link analysis/cmd/<command>.c.
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

/* args: nargs words (a NULL among them ends them early). */
static inline int gm_test_cmd(int (*cmd)(int, char **), const char *name, const char *dir,
                              const char *stdout_path, int nargs, const char *const *args)
{
	char *argv[160], ofile[160], efile[160];
	int argc = 1, rc, so, se, i;

	argv[0] = (char *)name;
	for (i = 0; i < nargs && args[i]; i++) {
		cr_assert_lt(argc, 159);
		argv[argc++] = (char *)args[i];
	}
	argv[argc] = NULL;
	snprintf(ofile, sizeof(ofile), "%s/stdout.txt", dir);
	snprintf(efile, sizeof(efile), "%s/stderr.txt", dir);
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
	if (stdout_path)
		gm_test_out[0] = '\0';
	else
		gm_test_slurp(ofile, gm_test_out, sizeof(gm_test_out));
	gm_test_slurp(efile, gm_test_err, sizeof(gm_test_err));
	return rc;
}

#endif
